//! Swagger 2.0 documents converted to OpenAPI 3.0, in memory, the way `swagger2openapi` does it:
//!
//! - `host`, `basePath` and `schemes` become `servers` (`https://host/base`, or `//host/base` when
//!   no scheme is given);
//! - `definitions` become `components/schemas`, `parameters` `components/parameters` (an `in: body`
//!   one `components/requestBodies`), `responses` `components/responses`, `securityDefinitions`
//!   `components/securitySchemes` (`basic` as `http`/`basic`; oauth2 flows renamed: `application`
//!   to `clientCredentials`, `accessCode` to `authorizationCode`), and every `$ref` follows;
//! - an `in: body` parameter becomes the `requestBody`, one media type per `consumes` entry
//!   (operation's, else the document's, else `application/json`); `in: formData` parameters become
//!   an object schema under `application/x-www-form-urlencoded` or `multipart/form-data` (the latter
//!   when `consumes` says so or a parameter is a `file`, which becomes a binary string);
//! - other parameters get a `schema` from `type`, `format`, `items`, `enum`, `default` and the
//!   validation keywords, and `style`/`explode` from `collectionFormat`;
//! - a response `schema` becomes `content` per `produces` entry, `examples` per media type
//!   `example`s, and headers get schemas;
//! - in schemas, `x-nullable` becomes `nullable`, `type: file` a binary string and a string
//!   `discriminator` an object.
//!
//! Shape errors found while converting name the Swagger document's own file, line and column. The
//! conversion records where each converted part came from, so errors found later do too.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::error::ImportError;
use crate::source::escape;

/// A converted document and, for its parts, the pointer in the Swagger document each came from
/// (document pointer → Swagger pointer; the nearest recorded ancestor applies).
pub(crate) struct Converted {
    pub(crate) value: Value,
    pub(crate) origins: HashMap<String, String>,
}

/// Makes an error at a pointer of the Swagger document.
pub(crate) type Invalid<'a> = dyn Fn(&str, String) -> ImportError + 'a;

/// Converts a Swagger 2.0 document (references to other files already bundled in).
pub(crate) fn convert(doc: &Value, invalid: &Invalid<'_>) -> Result<Converted, ImportError> {
    let Some(root) = doc.as_object() else {
        return Err(invalid("", "a Swagger document must be a mapping".into()));
    };
    // References are checked against the Swagger text first, so a dangling one is reported as
    // written (`#/definitions/Pet`) where it was written.
    check_local_refs(doc, invalid)?;
    let mut converter = Converter {
        doc,
        root,
        invalid,
        origins: HashMap::new(),
        consumes: Vec::new(),
        produces: Vec::new(),
    };
    converter.consumes = converter.media_list(root, "")?.unwrap_or_default();
    converter.produces = converter
        .media_list_of(root, "", "produces")?
        .unwrap_or_default();
    let mut value = converter.document()?;
    rewrite_refs(&mut value, false, false);
    Ok(Converted {
        value,
        origins: converter.origins,
    })
}

/// Methods a Swagger 2.0 path item holds.
const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// Keywords of a non-body parameter (or header, or `items`) that describe its value.
const VALUE_KEYWORDS: [&str; 16] = [
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
];

const FORM_URLENCODED: &str = "application/x-www-form-urlencoded";
const MULTIPART: &str = "multipart/form-data";

struct Converter<'a> {
    doc: &'a Value,
    root: &'a Map<String, Value>,
    invalid: &'a Invalid<'a>,
    origins: HashMap<String, String>,
    /// The document's `consumes`.
    consumes: Vec<String>,
    /// The document's `produces`.
    produces: Vec<String>,
}

/// A parameter of a Swagger list, resolved through `$ref`.
struct Param<'a> {
    /// The resolved parameter.
    value: &'a Map<String, Value>,
    /// Pointer of the entry in the list (where errors about it point).
    at: String,
    /// `#/parameters/<name>` when the entry was a reference to a shared parameter.
    shared: Option<String>,
    name: String,
    location: String,
}

impl<'a> Converter<'a> {
    fn err(&self, pointer: &str, message: impl Into<String>) -> ImportError {
        (self.invalid)(pointer, message.into())
    }

    fn origin(&mut self, converted: String, original: &str) {
        self.origins.insert(converted, original.to_string());
    }

    fn document(&mut self) -> Result<Value, ImportError> {
        let root = self.root;
        self.origin(String::new(), "");
        let mut out = Map::new();
        out.insert("openapi".into(), json!("3.0.3"));
        out.insert(
            "info".into(),
            root.get("info")
                .cloned()
                .unwrap_or_else(|| json!({"title": "", "version": ""})),
        );
        if let Some(servers) = self.servers()? {
            out.insert("servers".into(), servers);
            let from = if root.contains_key("host") {
                "/host"
            } else {
                "/basePath"
            };
            self.origin("/servers".into(), from);
        }
        for key in ["tags", "externalDocs", "security"] {
            if let Some(v) = root.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        let mut paths = Map::new();
        if let Some(all) = root.get("paths") {
            let Some(all) = all.as_object() else {
                return Err(self.err("/paths", "`paths` must be a mapping"));
            };
            for (path, item) in all {
                let at = format!("/paths/{}", escape(path));
                if path.starts_with("x-") {
                    paths.insert(path.clone(), item.clone());
                    continue;
                }
                paths.insert(path.clone(), self.path_item(item, &at)?);
            }
        }
        out.insert("paths".into(), Value::Object(paths));
        let components = self.components()?;
        if !components.is_empty() {
            out.insert("components".into(), Value::Object(components));
        }
        for (key, v) in root {
            if key.starts_with("x-") {
                out.insert(key.clone(), v.clone());
            }
        }
        Ok(Value::Object(out))
    }

    /// `servers` from `host`, `basePath` and `schemes`.
    fn servers(&self) -> Result<Option<Value>, ImportError> {
        let text = |key: &str| -> Result<Option<&str>, ImportError> {
            match self.root.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(self.err(&format!("/{key}"), format!("`{key}` must be a string"))),
            }
        };
        let host = text("host")?;
        let base = text("basePath")?.unwrap_or_default();
        if !base.is_empty() && !base.starts_with('/') {
            return Err(self.err("/basePath", "`basePath` must start with `/`"));
        }
        let base = base.trim_end_matches('/');
        let schemes = self.strings(self.root, "", "schemes")?.unwrap_or_default();
        let urls: Vec<String> = match host {
            Some(host) if schemes.is_empty() => vec![format!("//{host}{base}")],
            Some(host) => schemes
                .iter()
                .map(|s| format!("{s}://{host}{base}"))
                .collect(),
            None if !base.is_empty() => vec![base.to_string()],
            None => return Ok(None),
        };
        Ok(Some(Value::Array(
            urls.into_iter().map(|url| json!({ "url": url })).collect(),
        )))
    }

    /// A list of strings under `key` of `holder` (at `at`), if present.
    fn strings(
        &self,
        holder: &Map<String, Value>,
        at: &str,
        key: &str,
    ) -> Result<Option<Vec<String>>, ImportError> {
        let Some(list) = holder.get(key) else {
            return Ok(None);
        };
        let bad = || {
            self.err(
                &format!("{at}/{key}"),
                format!("`{key}` must be a list of strings"),
            )
        };
        let Some(items) = list.as_array() else {
            return Err(bad());
        };
        items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn media_list(
        &self,
        holder: &Map<String, Value>,
        at: &str,
    ) -> Result<Option<Vec<String>>, ImportError> {
        self.media_list_of(holder, at, "consumes")
    }

    fn media_list_of(
        &self,
        holder: &Map<String, Value>,
        at: &str,
        key: &str,
    ) -> Result<Option<Vec<String>>, ImportError> {
        Ok(self
            .strings(holder, at, key)?
            .map(|list| list.into_iter().filter(|m| !m.trim().is_empty()).collect()))
    }

    fn path_item(&mut self, item: &'a Value, at: &str) -> Result<Value, ImportError> {
        let (item, from) = self.follow(item, at, "path item")?;
        if from != at {
            self.origin(at.to_string(), &from);
        }
        let Some(item) = item.as_object() else {
            return Err(self.err(&from, "a path item must be a mapping"));
        };
        let shared = self.params(item, &from)?;
        let mut out = Map::new();
        for key in ["summary", "description"] {
            if let Some(v) = item.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        let regular: Vec<&Param<'a>> = shared.iter().filter(|p| !p.is_payload()).collect();
        if !regular.is_empty() {
            let list = self.regular_params(&regular, &format!("{at}/parameters"))?;
            out.insert("parameters".into(), list);
        }
        for method in METHODS {
            if let Some(op) = item.get(method) {
                let op_from = format!("{from}/{method}");
                let op_at = format!("{at}/{method}");
                let converted = self.operation(op, &op_from, &op_at, &shared)?;
                out.insert(method.into(), converted);
            }
        }
        for (key, v) in item {
            if key.starts_with("x-") {
                out.insert(key.clone(), v.clone());
            }
        }
        Ok(Value::Object(out))
    }

    /// Follows local `$ref`s from `value` (at `at`) to a value that is not one.
    fn follow(
        &self,
        mut value: &'a Value,
        at: &str,
        what: &str,
    ) -> Result<(&'a Value, String), ImportError> {
        let mut pointer = at.to_string();
        let mut seen = HashSet::new();
        while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            let target_pointer =
                super::document::percent_decode(reference.strip_prefix('#').unwrap_or(reference));
            let target = if reference.starts_with('#') {
                self.doc.pointer(&target_pointer)
            } else {
                None
            };
            let Some(target) = target else {
                return Err(self.err(
                    &format!("{pointer}/$ref"),
                    format!(
                        "reference {reference:?} does not resolve: nothing at #{target_pointer}"
                    ),
                ));
            };
            if !seen.insert(target_pointer.clone()) {
                return Err(self.err(
                    &format!("{pointer}/$ref"),
                    format!(
                        "reference cycle: this {what} refers back to itself through {reference:?}"
                    ),
                ));
            }
            value = target;
            pointer = target_pointer;
        }
        Ok((value, pointer))
    }

    /// The parameters of a path item or operation, resolved.
    fn params(
        &self,
        holder: &'a Map<String, Value>,
        at: &str,
    ) -> Result<Vec<Param<'a>>, ImportError> {
        let Some(list) = holder.get("parameters") else {
            return Ok(Vec::new());
        };
        let Some(list) = list.as_array() else {
            return Err(self.err(&format!("{at}/parameters"), "`parameters` must be a list"));
        };
        let mut out: Vec<Param<'a>> = Vec::new();
        for (i, entry) in list.iter().enumerate() {
            let entry_at = format!("{at}/parameters/{i}");
            let shared = entry
                .get("$ref")
                .and_then(Value::as_str)
                .filter(|r| r.starts_with("#/parameters/"))
                .map(str::to_string);
            let (value, _) = self.follow(entry, &entry_at, "parameter")?;
            let param = self.param(value, entry_at, shared)?;
            if param.location == "body"
                && let Some(first) = out.iter().find(|p| p.location == "body")
            {
                return Err(self.err(
                    &param.at,
                    format!(
                        "a second `in: body` parameter ({:?} already is the body); Swagger 2.0 \
                         allows one",
                        first.name
                    ),
                ));
            }
            out.push(param);
        }
        Ok(out)
    }

    fn param(
        &self,
        value: &'a Value,
        at: String,
        shared: Option<String>,
    ) -> Result<Param<'a>, ImportError> {
        let Some(map) = value.as_object() else {
            return Err(self.err(&at, "a parameter must be a mapping"));
        };
        let Some(name) = map.get("name").and_then(Value::as_str) else {
            return Err(self.err(&at, "a parameter needs a `name`"));
        };
        let location = match map.get("in").and_then(Value::as_str) {
            Some(l @ ("body" | "formData" | "path" | "query" | "header")) => l.to_string(),
            other => {
                return Err(self.err(
                    &at,
                    format!(
                        "parameter `in` must be body, formData, path, query or header, got {}",
                        other.map_or("nothing".to_string(), |o| format!("{o:?}"))
                    ),
                ));
            }
        };
        if location == "body" && !map.get("schema").is_some_and(Value::is_object) {
            return Err(self.err(&at, "an `in: body` parameter needs a `schema` mapping"));
        }
        Ok(Param {
            value: map,
            at,
            shared,
            name: name.to_string(),
            location,
        })
    }

    /// Converted non-body parameters, as a list; references to shared parameters stay references.
    fn regular_params(&mut self, params: &[&Param<'a>], at: &str) -> Result<Value, ImportError> {
        let mut list = Vec::new();
        for (i, p) in params.iter().enumerate() {
            let dst = format!("{at}/{i}");
            self.origin(dst.clone(), &p.at);
            match &p.shared {
                Some(reference) => list.push(json!({ "$ref": reference })),
                None => {
                    list.push(self.parameter(p.value, &p.at, &dst)?);
                }
            }
        }
        Ok(Value::Array(list))
    }

    /// A non-body parameter in OpenAPI 3.0 form.
    fn parameter(
        &mut self,
        p: &Map<String, Value>,
        from: &str,
        dst: &str,
    ) -> Result<Value, ImportError> {
        let location = p.get("in").and_then(Value::as_str).unwrap_or_default();
        let mut out = Map::new();
        for key in ["name", "in", "description", "required", "allowEmptyValue"] {
            if let Some(v) = p.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        if location == "path" {
            out.insert("required".into(), Value::Bool(true));
        }
        let schema = self.value_schema(p, from)?;
        if schema.get("type").and_then(Value::as_str) == Some("array") {
            let format = p
                .get("collectionFormat")
                .and_then(Value::as_str)
                .unwrap_or("csv");
            let (style, explode) = match (location, format) {
                ("query", "multi") => ("form", true),
                ("query", "ssv") => ("spaceDelimited", false),
                ("query", "pipes") => ("pipeDelimited", false),
                ("query", _) => ("form", false),
                (_, _) => ("simple", false),
            };
            out.insert("style".into(), json!(style));
            out.insert("explode".into(), json!(explode));
            if !matches!(format, "csv" | "multi" | "ssv" | "pipes")
                || (location != "query" && format != "csv")
            {
                // No OpenAPI 3 style says this; keep what was written.
                out.insert("x-collectionFormat".into(), json!(format));
            }
        }
        out.insert("schema".into(), schema);
        self.origin(format!("{dst}/schema"), from);
        if let Some(example) = p.get("x-example") {
            out.insert("example".into(), example.clone());
        }
        for (key, v) in p {
            if key.starts_with("x-") && key != "x-example" && key != "x-nullable" {
                out.insert(key.clone(), v.clone());
            }
        }
        Ok(Value::Object(out))
    }

    /// The schema of a non-body parameter, header or `items` object, from its value keywords.
    fn value_schema(&self, p: &Map<String, Value>, at: &str) -> Result<Value, ImportError> {
        // Some documents give such parameters a `schema` as OpenAPI 3 does; honour it.
        if let Some(schema) = p.get("schema") {
            return Ok(schema_of(schema));
        }
        let mut schema = Map::new();
        for key in VALUE_KEYWORDS {
            let Some(v) = p.get(key) else {
                continue;
            };
            match key {
                "items" => {
                    let Some(items) = v.as_object() else {
                        return Err(self.err(&format!("{at}/items"), "`items` must be a mapping"));
                    };
                    let items = if items.contains_key("$ref") {
                        schema_of(v)
                    } else {
                        self.value_schema(items, &format!("{at}/items"))?
                    };
                    schema.insert("items".into(), items);
                }
                "type" if v.as_str() == Some("file") => {
                    schema.insert("type".into(), json!("string"));
                    schema.insert("format".into(), json!("binary"));
                }
                "format" if schema.contains_key("format") => {}
                _ => {
                    schema.insert(key.into(), v.clone());
                }
            }
        }
        if p.get("x-nullable") == Some(&Value::Bool(true)) {
            schema.insert("nullable".into(), Value::Bool(true));
        }
        if schema.get("type").and_then(Value::as_str) == Some("array")
            && !schema.contains_key("items")
        {
            // 2.0 requires `items` for arrays; an array of anything is the lenient reading.
            schema.insert("items".into(), json!({}));
        }
        Ok(Value::Object(schema))
    }

    fn operation(
        &mut self,
        op: &'a Value,
        from: &str,
        at: &str,
        shared: &[Param<'a>],
    ) -> Result<Value, ImportError> {
        let Some(op) = op.as_object() else {
            return Err(self.err(from, "an operation must be a mapping"));
        };
        if from != at {
            self.origin(at.to_string(), from);
        }
        let own = self.params(op, from)?;
        let consumes = match self.media_list(op, from)? {
            Some(list) => list,
            None => self.consumes.clone(),
        };
        let produces = match self.media_list_of(op, from, "produces")? {
            Some(list) => list,
            None => self.produces.clone(),
        };
        // Path-level parameters apply unless the operation redefines them (same name and place).
        let inherited: Vec<&Param<'a>> = shared
            .iter()
            .filter(|s| {
                !own.iter()
                    .any(|o| o.name == s.name && o.location == s.location)
            })
            .collect();
        let mut out = Map::new();
        for key in [
            "tags",
            "summary",
            "description",
            "externalDocs",
            "operationId",
        ] {
            if let Some(v) = op.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        let regular: Vec<&Param<'a>> = own.iter().filter(|p| !p.is_payload()).collect();
        if !regular.is_empty() {
            let list = self.regular_params(&regular, &format!("{at}/parameters"))?;
            out.insert("parameters".into(), list);
        }
        let body = own
            .iter()
            .find(|p| p.location == "body")
            .or_else(|| inherited.iter().copied().find(|p| p.location == "body"));
        let form: Vec<&Param<'a>> = inherited
            .iter()
            .copied()
            .chain(own.iter())
            .filter(|p| p.location == "formData")
            .collect();
        let request_body = match (body, form.first()) {
            (Some(body), Some(first)) => {
                return Err(self.err(
                    &first.at,
                    format!(
                        "`in: formData` parameter {:?} beside the `in: body` parameter {:?}: an \
                         operation has one or the other",
                        first.name, body.name
                    ),
                ));
            }
            (Some(body), None) => Some(self.body(body, &consumes, &format!("{at}/requestBody"))?),
            (None, Some(_)) => Some(self.form(&form, &consumes, &format!("{at}/requestBody"))?),
            (None, None) => None,
        };
        if let Some(request_body) = request_body {
            out.insert("requestBody".into(), request_body);
        }
        if let Some(responses) = op.get("responses") {
            let Some(responses) = responses.as_object() else {
                return Err(self.err(
                    &format!("{from}/responses"),
                    "`responses` must be a mapping",
                ));
            };
            let mut converted = Map::new();
            for (status, response) in responses {
                let segment = escape(status);
                let r_from = format!("{from}/responses/{segment}");
                let r_at = format!("{at}/responses/{segment}");
                if status.starts_with("x-") {
                    converted.insert(status.clone(), response.clone());
                    continue;
                }
                let value = if response.get("$ref").is_some() {
                    response.clone()
                } else {
                    self.response(response, &r_from, &r_at, &produces)?
                };
                converted.insert(status.clone(), value);
            }
            out.insert("responses".into(), Value::Object(converted));
        }
        for key in ["deprecated", "security"] {
            if let Some(v) = op.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        for (key, v) in op {
            if key.starts_with("x-") {
                out.insert(key.clone(), v.clone());
            }
        }
        Ok(Value::Object(out))
    }

    /// The request body of an `in: body` parameter.
    fn body(
        &mut self,
        body: &Param<'a>,
        consumes: &[String],
        dst: &str,
    ) -> Result<Value, ImportError> {
        let schema = body.value.get("schema").map(schema_of).unwrap_or(json!({}));
        let types: Vec<String> = if consumes.is_empty() {
            vec!["application/json".into()]
        } else {
            consumes.to_vec()
        };
        let examples = body.value.get("x-examples").and_then(Value::as_object);
        let mut content = Map::new();
        for media in &types {
            let mut entry = Map::new();
            entry.insert("schema".into(), schema.clone());
            if let Some(example) = examples.and_then(|e| e.get(media)) {
                entry.insert("example".into(), example.clone());
            }
            let media_at = format!("{dst}/content/{}", escape(media));
            self.origin(format!("{media_at}/schema"), &format!("{}/schema", body.at));
            content.insert(media.clone(), Value::Object(entry));
        }
        self.origin(dst.to_string(), &body.at);
        let mut out = Map::new();
        if let Some(d) = body.value.get("description") {
            out.insert("description".into(), d.clone());
        }
        out.insert("content".into(), Value::Object(content));
        if body.value.get("required") == Some(&Value::Bool(true)) {
            out.insert("required".into(), Value::Bool(true));
        }
        for (key, v) in body.value {
            if key.starts_with("x-") && key != "x-examples" {
                out.insert(key.clone(), v.clone());
            }
        }
        Ok(Value::Object(out))
    }

    /// The request body of `in: formData` parameters.
    fn form(
        &mut self,
        form: &[&Param<'a>],
        consumes: &[String],
        dst: &str,
    ) -> Result<Value, ImportError> {
        let has_file = form
            .iter()
            .any(|p| p.value.get("type").and_then(Value::as_str) == Some("file"));
        let mut types: Vec<&str> = consumes
            .iter()
            .map(String::as_str)
            .filter(|m| {
                let essence = m.split(';').next().unwrap_or_default().trim();
                essence.eq_ignore_ascii_case(FORM_URLENCODED)
                    || essence.eq_ignore_ascii_case(MULTIPART)
            })
            .collect();
        if types.is_empty() {
            types.push(if has_file { MULTIPART } else { FORM_URLENCODED });
        }
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut encoding = Map::new();
        for p in form {
            let mut schema = self.value_schema(p.value, &p.at)?;
            if let (Some(d), Value::Object(map)) = (p.value.get("description"), &mut schema) {
                map.insert("description".into(), d.clone());
            }
            if schema.get("type").and_then(Value::as_str) == Some("array") {
                let format = p
                    .value
                    .get("collectionFormat")
                    .and_then(Value::as_str)
                    .unwrap_or("csv");
                if format != "multi" {
                    encoding.insert(p.name.clone(), json!({"style": "form", "explode": false}));
                }
            }
            if p.value.get("required") == Some(&Value::Bool(true)) {
                required.push(Value::String(p.name.clone()));
            }
            properties.insert(p.name.clone(), schema);
        }
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        schema.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            schema.insert("required".into(), Value::Array(required.clone()));
        }
        let schema = Value::Object(schema);
        let mut content = Map::new();
        for media in types {
            let media_at = format!("{dst}/content/{}", escape(media));
            for p in form {
                self.origin(
                    format!("{media_at}/schema/properties/{}", escape(&p.name)),
                    &p.at,
                );
            }
            let mut entry = Map::new();
            entry.insert("schema".into(), schema.clone());
            if !encoding.is_empty() && media.eq_ignore_ascii_case(FORM_URLENCODED) {
                entry.insert("encoding".into(), Value::Object(encoding.clone()));
            }
            content.insert(media.to_string(), Value::Object(entry));
        }
        if let Some(first) = form.first() {
            self.origin(dst.to_string(), &first.at);
        }
        let mut out = Map::new();
        out.insert("content".into(), Value::Object(content));
        if !required.is_empty() {
            out.insert("required".into(), Value::Bool(true));
        }
        Ok(Value::Object(out))
    }

    fn response(
        &mut self,
        response: &Value,
        from: &str,
        dst: &str,
        produces: &[String],
    ) -> Result<Value, ImportError> {
        let Some(response) = response.as_object() else {
            return Err(self.err(from, "a response must be a mapping"));
        };
        if from != dst {
            self.origin(dst.to_string(), from);
        }
        let mut out = Map::new();
        out.insert(
            "description".into(),
            response
                .get("description")
                .cloned()
                .unwrap_or_else(|| json!("")),
        );
        let types: Vec<String> = if produces.is_empty() {
            vec!["application/json".into()]
        } else {
            produces.to_vec()
        };
        let schema = response.get("schema").map(schema_of);
        let mut content = Map::new();
        if let Some(schema) = &schema {
            for media in &types {
                self.origin(
                    format!("{dst}/content/{}/schema", escape(media)),
                    &format!("{from}/schema"),
                );
                content.insert(media.clone(), json!({ "schema": schema }));
            }
        }
        if let Some(examples) = response.get("examples") {
            let Some(examples) = examples.as_object() else {
                return Err(self.err(
                    &format!("{from}/examples"),
                    "`examples` must map media types to example values",
                ));
            };
            for (media, example) in examples {
                let media_at = format!("{dst}/content/{}", escape(media));
                self.origin(
                    format!("{media_at}/example"),
                    &format!("{from}/examples/{}", escape(media)),
                );
                let entry = content
                    .entry(media.clone())
                    .or_insert_with(|| match &schema {
                        Some(schema) => json!({ "schema": schema }),
                        None => json!({}),
                    });
                if let Value::Object(entry) = entry {
                    entry.insert("example".into(), example.clone());
                }
            }
        }
        if !content.is_empty() {
            out.insert("content".into(), Value::Object(content));
        }
        if let Some(headers) = response.get("headers") {
            let Some(headers) = headers.as_object() else {
                return Err(self.err(&format!("{from}/headers"), "`headers` must be a mapping"));
            };
            let mut converted = Map::new();
            for (name, header) in headers {
                let h_from = format!("{from}/headers/{}", escape(name));
                let Some(header) = header.as_object() else {
                    return Err(self.err(&h_from, "a header must be a mapping"));
                };
                let mut h = Map::new();
                if let Some(d) = header.get("description") {
                    h.insert("description".into(), d.clone());
                }
                h.insert("schema".into(), self.value_schema(header, &h_from)?);
                self.origin(format!("{dst}/headers/{}/schema", escape(name)), &h_from);
                for (key, v) in header {
                    if key.starts_with("x-") {
                        h.insert(key.clone(), v.clone());
                    }
                }
                converted.insert(name.clone(), Value::Object(h));
            }
            out.insert("headers".into(), Value::Object(converted));
        }
        for (key, v) in response {
            if key.starts_with("x-") {
                out.insert(key.clone(), v.clone());
            }
        }
        Ok(Value::Object(out))
    }

    fn components(&mut self) -> Result<Map<String, Value>, ImportError> {
        let root = self.root;
        let mut components = Map::new();
        let invalid = self.invalid;
        let section = |key: &str| -> Result<Option<&'a Map<String, Value>>, ImportError> {
            match root.get(key) {
                None => Ok(None),
                Some(Value::Object(map)) => Ok(Some(map)),
                Some(_) => Err(invalid(
                    &format!("/{key}"),
                    format!("`{key}` must be a mapping"),
                )),
            }
        };
        if let Some(definitions) = section("definitions")? {
            let mut schemas = Map::new();
            for (name, schema) in definitions {
                self.origin(
                    format!("/components/schemas/{}", escape(name)),
                    &format!("/definitions/{}", escape(name)),
                );
                schemas.insert(name.clone(), schema_of(schema));
            }
            components.insert("schemas".into(), Value::Object(schemas));
        }
        if let Some(responses) = section("responses")? {
            let mut converted = Map::new();
            let produces = self.produces.clone();
            for (name, response) in responses {
                let segment = escape(name);
                let value = self.response(
                    response,
                    &format!("/responses/{segment}"),
                    &format!("/components/responses/{segment}"),
                    &produces,
                )?;
                converted.insert(name.clone(), value);
            }
            components.insert("responses".into(), Value::Object(converted));
        }
        if let Some(parameters) = section("parameters")? {
            let mut regular = Map::new();
            let mut bodies = Map::new();
            let consumes = self.consumes.clone();
            for (name, entry) in parameters {
                let segment = escape(name);
                let from = format!("/parameters/{segment}");
                let (value, _) = self.follow(entry, &from, "parameter")?;
                let param = self.param(value, from.clone(), None)?;
                match param.location.as_str() {
                    "body" => {
                        let dst = format!("/components/requestBodies/{segment}");
                        bodies.insert(name.clone(), self.body(&param, &consumes, &dst)?);
                    }
                    // Form fields only exist inside an operation's body, where they are inlined.
                    "formData" => {}
                    _ => {
                        let dst = format!("/components/parameters/{segment}");
                        self.origin(dst.clone(), &from);
                        regular.insert(name.clone(), self.parameter(param.value, &from, &dst)?);
                    }
                }
            }
            if !regular.is_empty() {
                components.insert("parameters".into(), Value::Object(regular));
            }
            if !bodies.is_empty() {
                components.insert("requestBodies".into(), Value::Object(bodies));
            }
        }
        if let Some(schemes) = section("securityDefinitions")? {
            let mut converted = Map::new();
            for (name, scheme) in schemes {
                let segment = escape(name);
                let from = format!("/securityDefinitions/{segment}");
                self.origin(format!("/components/securitySchemes/{segment}"), &from);
                converted.insert(name.clone(), self.security_scheme(scheme, &from)?);
            }
            components.insert("securitySchemes".into(), Value::Object(converted));
        }
        Ok(components)
    }

    fn security_scheme(&self, scheme: &Value, at: &str) -> Result<Value, ImportError> {
        let Some(scheme) = scheme.as_object() else {
            return Err(self.err(at, "a security definition must be a mapping"));
        };
        let text = |key: &str| scheme.get(key).and_then(Value::as_str);
        let mut out = Map::new();
        match text("type") {
            Some("basic") => {
                out.insert("type".into(), json!("http"));
                out.insert("scheme".into(), json!("basic"));
            }
            Some("apiKey") => {
                let Some(name) = text("name") else {
                    return Err(self.err(at, "an `apiKey` security definition needs a `name`"));
                };
                let location = match text("in") {
                    Some(l @ ("query" | "header")) => l,
                    other => {
                        return Err(self.err(
                            at,
                            format!(
                                "an `apiKey` security definition needs `in: query` or `in: \
                                 header`, got {}",
                                other.map_or("nothing".to_string(), |o| format!("{o:?}"))
                            ),
                        ));
                    }
                };
                out.insert("type".into(), json!("apiKey"));
                out.insert("name".into(), json!(name));
                out.insert("in".into(), json!(location));
            }
            Some("oauth2") => {
                let (flow, needs_auth, needs_token) = match text("flow") {
                    Some("implicit") => ("implicit", true, false),
                    Some("password") => ("password", false, true),
                    Some("application") => ("clientCredentials", false, true),
                    Some("accessCode") => ("authorizationCode", true, true),
                    other => {
                        return Err(self.err(
                            at,
                            format!(
                                "an `oauth2` security definition needs `flow: implicit`, \
                                 `password`, `application` or `accessCode`, got {}",
                                other.map_or("nothing".to_string(), |o| format!("{o:?}"))
                            ),
                        ));
                    }
                };
                let mut f = Map::new();
                for (needed, key) in [(needs_auth, "authorizationUrl"), (needs_token, "tokenUrl")] {
                    if !needed {
                        continue;
                    }
                    let Some(url) = text(key) else {
                        return Err(self.err(
                            at,
                            format!(
                                "the oauth2 `{}` flow needs `{key}`",
                                text("flow").unwrap_or_default()
                            ),
                        ));
                    };
                    f.insert(key.into(), json!(url));
                }
                f.insert(
                    "scopes".into(),
                    scheme.get("scopes").cloned().unwrap_or_else(|| json!({})),
                );
                out.insert("type".into(), json!("oauth2"));
                out.insert("flows".into(), json!({ flow: f }));
            }
            other => {
                return Err(self.err(
                    at,
                    format!(
                        "security definition `type` must be basic, apiKey or oauth2, got {}",
                        other.map_or("nothing".to_string(), |o| format!("{o:?}"))
                    ),
                ));
            }
        }
        for (key, v) in scheme {
            if key == "description" || key.starts_with("x-") {
                out.insert(key.clone(), v.clone());
            }
        }
        Ok(Value::Object(out))
    }
}

impl Param<'_> {
    /// `in: body` and `in: formData` parameters make up the request body.
    fn is_payload(&self) -> bool {
        matches!(self.location.as_str(), "body" | "formData")
    }
}

/// A Swagger 2.0 schema in OpenAPI 3.0 form: `x-nullable` as `nullable`, `type: file` as a binary
/// string, a string `discriminator` as `{propertyName}`. References are rewritten afterwards.
fn schema_of(schema: &Value) -> Value {
    let Some(map) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "x-nullable" => {
                if let Some(b) = value.as_bool() {
                    out.insert("nullable".into(), Value::Bool(b));
                }
            }
            "type" if value.as_str() == Some("file") => {
                out.insert("type".into(), json!("string"));
                out.insert("format".into(), json!("binary"));
            }
            "format" if out.get("format").is_some() => {}
            "discriminator" if value.is_string() => {
                out.insert("discriminator".into(), json!({ "propertyName": value }));
            }
            "properties" | "definitions" | "patternProperties" => {
                let converted = match value.as_object() {
                    Some(props) => Value::Object(
                        props
                            .iter()
                            .map(|(k, v)| (k.clone(), schema_of(v)))
                            .collect(),
                    ),
                    None => value.clone(),
                };
                out.insert(key.clone(), converted);
            }
            "items" | "allOf" | "anyOf" | "oneOf" => {
                let converted = match value {
                    Value::Array(items) => Value::Array(items.iter().map(schema_of).collect()),
                    other => schema_of(other),
                };
                out.insert(key.clone(), converted);
            }
            "additionalProperties" | "not" => {
                out.insert(key.clone(), schema_of(value));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(out)
}

/// Checks every local `$ref` of the Swagger document resolves (data skipped as in
/// [`rewrite_refs`]).
fn check_local_refs(root: &Value, invalid: &Invalid<'_>) -> Result<(), ImportError> {
    let mut stack = vec![(root, String::new(), false, false)];
    while let Some((value, at, literal, names)) = stack.pop() {
        match value {
            Value::Object(map) => {
                if !literal
                    && let Some(Value::String(reference)) = map.get("$ref")
                    && let Some(fragment) = reference.strip_prefix('#')
                {
                    let pointer = super::document::percent_decode(fragment);
                    if root.pointer(&pointer).is_none() {
                        return Err(invalid(
                            &format!("{at}/$ref"),
                            format!(
                                "reference {reference:?} does not resolve: nothing at #{pointer}"
                            ),
                        ));
                    }
                }
                for (key, child) in map {
                    let data = literal
                        || (!names
                            && matches!(
                                key.as_str(),
                                "example" | "default" | "enum" | "const" | "value"
                            ));
                    stack.push((
                        child,
                        format!("{at}/{}", escape(key)),
                        data,
                        key == "properties",
                    ));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    stack.push((item, format!("{at}/{i}"), literal, false));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Rewrites Swagger 2.0 reference targets to their OpenAPI 3.0 places, skipping data (examples,
/// defaults, enums) as the reference check does. `literal` is true inside data; `names` is true for
/// the members of a `properties` mapping (names, never data).
fn rewrite_refs(value: &mut Value, literal: bool, names: bool) {
    match value {
        Value::Object(map) => {
            if !literal && let Some(Value::String(reference)) = map.get_mut("$ref") {
                for (from, to) in [
                    ("#/definitions/", "#/components/schemas/"),
                    ("#/parameters/", "#/components/parameters/"),
                    ("#/responses/", "#/components/responses/"),
                    ("#/securityDefinitions/", "#/components/securitySchemes/"),
                ] {
                    if let Some(rest) = reference.strip_prefix(from) {
                        *reference = format!("{to}{rest}");
                        break;
                    }
                }
            }
            for (key, child) in map.iter_mut() {
                let data = literal
                    || (!names
                        && matches!(
                            key.as_str(),
                            "example" | "default" | "enum" | "const" | "value"
                        ));
                rewrite_refs(child, data, key == "properties");
            }
        }
        Value::Array(items) => {
            for item in items {
                rewrite_refs(item, literal, false);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert_ok(doc: Value) -> Value {
        let invalid = |p: &str, m: String| ImportError::Invalid {
            location: crate::source::Source::from_value(Value::Null, "t").locate(p),
            message: m,
        };
        match convert(&doc, &invalid) {
            Ok(c) => c.value,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn servers_come_from_host_base_path_and_schemes() {
        let servers = |doc: Value| convert_ok(doc)["servers"].clone();
        assert_eq!(
            servers(json!({"host": "api.x.io", "basePath": "/v2/", "schemes": ["https", "http"]})),
            json!([{"url": "https://api.x.io/v2"}, {"url": "http://api.x.io/v2"}])
        );
        assert_eq!(
            servers(json!({"host": "api.x.io"})),
            json!([{"url": "//api.x.io"}])
        );
        assert_eq!(servers(json!({"basePath": "/v1"})), json!([{"url": "/v1"}]));
        assert_eq!(servers(json!({})), Value::Null);
    }

    #[test]
    fn references_move_but_data_keeps_its_refs() {
        let out = convert_ok(json!({
            "definitions": {
                "A": {"properties": {
                    "b": {"$ref": "#/definitions/B"},
                    "example": {"$ref": "#/definitions/B"}
                }, "example": {"$ref": "#/definitions/B"}},
                "B": {"type": "string", "x-nullable": true}
            }
        }));
        let a = &out["components"]["schemas"]["A"];
        assert_eq!(a["properties"]["b"]["$ref"], "#/components/schemas/B");
        assert_eq!(a["properties"]["example"]["$ref"], "#/components/schemas/B");
        assert_eq!(a["example"]["$ref"], "#/definitions/B");
        assert_eq!(
            out["components"]["schemas"]["B"],
            json!({"type": "string", "nullable": true})
        );
    }

    #[test]
    fn collection_formats_become_styles() {
        let out = convert_ok(json!({"paths": {"/a": {"get": {"parameters": [
            {"name": "m", "in": "query", "type": "array", "items": {"type": "integer"}, "collectionFormat": "multi"},
            {"name": "c", "in": "query", "type": "array", "items": {"type": "string"}},
            {"name": "p", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "pipes"},
            {"name": "h", "in": "header", "type": "array", "items": {"type": "string"}}
        ], "responses": {}}}}}));
        let params = &out["paths"]["/a"]["get"]["parameters"];
        assert_eq!(
            (params[0]["style"].clone(), params[0]["explode"].clone()),
            (json!("form"), json!(true))
        );
        assert_eq!(
            (params[1]["style"].clone(), params[1]["explode"].clone()),
            (json!("form"), json!(false))
        );
        assert_eq!(params[2]["style"], "pipeDelimited");
        assert_eq!(params[3]["style"], "simple");
        assert_eq!(
            params[0]["schema"],
            json!({"type": "array", "items": {"type": "integer"}})
        );
    }
}
