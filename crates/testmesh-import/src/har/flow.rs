//! One page of a recording as a flow: requests as steps, origins as variables, credentials as
//! variables the user supplies, and values that responses returned and later requests sent back as
//! outputs and references.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value, json};
use url::Url;

use super::noise::is_browser_header;
use super::values::{
    Candidate, camel_to_snake, candidates, is_id_name, is_password_name, is_secret_name,
    looks_like_timestamp, looks_like_uuid, percent_decode, scalars, singular,
};
use super::{Entry, Page};
use crate::output::{StepIds, slug};
use crate::postman::text::{Part, render};

/// Origins of the kept entries: the most common is `BASE_URL`, the others get `<HOST>_URL`.
pub(super) struct Origins {
    names: HashMap<String, String>,
}

impl Origins {
    pub fn new(entries: &[Entry<'_>]) -> Origins {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut order = Vec::new();
        for entry in entries {
            if let Some(origin) = origin(entry.url.as_ref()) {
                let count = counts.entry(origin.clone()).or_insert(0);
                if *count == 0 {
                    order.push(origin);
                }
                *count += 1;
            }
        }
        let base = order
            .iter()
            .max_by_key(|o| {
                (
                    counts.get(*o).copied().unwrap_or(0),
                    std::cmp::Reverse(order.iter().position(|x| x == *o)),
                )
            })
            .cloned();
        let mut names = HashMap::new();
        let mut taken: HashSet<String> = HashSet::from(["BASE_URL".to_string()]);
        for origin in order {
            if Some(&origin) == base.as_ref() {
                names.insert(origin, "BASE_URL".to_string());
                continue;
            }
            let host = origin.split("://").nth(1).unwrap_or(&origin);
            let mut name: String = host
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
                name = format!("HOST_{name}");
            }
            let mut candidate = format!("{name}_URL");
            let mut n = 2;
            while !taken.insert(candidate.clone()) {
                candidate = format!("{name}_{n}_URL");
                n += 1;
            }
            names.insert(origin, candidate);
        }
        Origins { names }
    }
}

fn origin(url: Option<&Url>) -> Option<String> {
    let url = url?;
    url.host_str()?;
    Some(url.origin().ascii_serialization())
}

/// What a flow is built from.
pub(super) struct Context<'a> {
    pub name: &'a str,
    pub file: &'a str,
    pub stem: &'a str,
    pub page: Option<&'a Page>,
    pub origins: &'a Origins,
}

/// A value a response returned that later requests may send back.
struct Producer {
    step: usize,
    step_id: String,
    key: String,
    /// The key of the object holding the value (`user` for `$.user.id`), when there is one.
    parent: Option<String>,
    path: String,
    url_path: String,
    output: Option<String>,
}

/// Returned values this long (bytes) are also found inside longer texts (a token in a header).
const LONG_VALUE: usize = 16;

/// Bytes of a long value the substring index uses.
const PREFIX: usize = 8;

/// Where a value sits in a request.
#[derive(Clone, Copy)]
enum Site<'k> {
    PathSegment,
    /// A query parameter, form field, JSON member or header of this name.
    Named(&'k str),
}

struct Builder<'a> {
    context: &'a Context<'a>,
    ids: StepIds,
    steps: Vec<Map<String, Value>>,
    producers: Vec<Producer>,
    by_value: HashMap<String, usize>,
    /// Returned values of at least [`LONG_VALUE`] bytes by their first [`PREFIX`] bytes.
    long_values: HashMap<Vec<u8>, Vec<String>>,
    sent: HashSet<String>,
    outputs: HashSet<String>,
    env: BTreeMap<String, String>,
    secrets: BTreeSet<String>,
    /// Recorded secret → its variable, so one value gets one variable.
    secret_values: HashMap<String, String>,
    notes: Vec<String>,
    altered: bool,
}

/// The flow for `entries` (one page, in order): `(flow, header comments, untranslated notes)`.
pub(super) fn build(
    context: &Context<'_>,
    entries: &[Entry<'_>],
) -> (Value, Vec<String>, Vec<String>) {
    let mut builder = Builder {
        context,
        ids: StepIds::new(),
        steps: Vec::new(),
        producers: Vec::new(),
        by_value: HashMap::new(),
        long_values: HashMap::new(),
        sent: HashSet::new(),
        outputs: HashSet::new(),
        env: BTreeMap::new(),
        secrets: BTreeSet::new(),
        secret_values: HashMap::new(),
        notes: Vec::new(),
        altered: false,
    };
    for entry in entries {
        builder.add(entry);
    }
    builder.finish()
}

impl Builder<'_> {
    fn note(&mut self, what: String) {
        if !self.notes.contains(&what) {
            self.notes.push(what);
        }
    }

    fn add(&mut self, entry: &Entry<'_>) {
        let Some(url) = &entry.url else { return };
        let method = entry.method.to_ascii_uppercase();
        let (url_text, path) = self.url(url, &format!("{method} {}", url.path()));
        let step_name: String = format!("{method} {path}").chars().take(255).collect();
        let id = self.ids.next(&step_name);
        let index = self.steps.len();
        let mut config = Map::new();
        config.insert("method".into(), json!(method));
        config.insert("url".into(), json!(url_text));

        let multipart = entry
            .post
            .and_then(|p| p.get("mimeType"))
            .and_then(Value::as_str)
            .is_some_and(|m| m.to_ascii_lowercase().starts_with("multipart/"));
        let mut headers = Map::new();
        for (name, value) in &entry.headers {
            if name.eq_ignore_ascii_case("cookie") {
                self.note("the recorded `Cookie` headers are not replayed: cookies that responses set during the run are sent by the run's cookie jar; give others with `cookies:`".into());
            }
            if is_browser_header(name, value)
                || (multipart && name.eq_ignore_ascii_case("content-type"))
            {
                continue;
            }
            let value = self.header_value(name, value);
            headers.insert(name.clone(), Value::String(value));
        }
        if !headers.is_empty() {
            config.insert("headers".into(), Value::Object(headers));
        }
        if let Some((key, body)) = self.body(entry, &step_name) {
            config.insert(key.into(), body);
        }
        if (300..400).contains(&entry.status) && entry.status != 304 {
            config.insert("follow_redirects".into(), json!(false));
        }

        let mut step = Map::new();
        step.insert("id".into(), json!(id));
        step.insert("name".into(), json!(step_name));
        step.insert("action".into(), json!("http_request"));
        step.insert("config".into(), Value::Object(config));
        step.insert("assert".into(), Value::Array(assertions(entry)));
        self.steps.push(step);

        self.remember_sent(entry, url);
        self.collect_producers(entry, index, &id, url.path());
    }

    /// `${BASE_URL}/path?query` with values from earlier responses as references, and the path
    /// for the step's name (`/api/users/{user_id}`).
    fn url(&mut self, url: &Url, step_name: &str) -> (String, String) {
        let mut parts = Vec::new();
        let mut path = String::new();
        match origin(Some(url))
            .and_then(|o| self.context.origins.names.get(&o).map(|n| (o, n.clone())))
        {
            Some((origin, name)) => {
                self.env.insert(name.clone(), origin);
                parts.push(Part::Ref(format!("${{{name}}}")));
            }
            None => parts.push(Part::Text(format!("{}://", url.scheme()))),
        }
        for segment in url.path().split('/').skip(1) {
            parts.push(Part::Text("/".into()));
            path.push('/');
            let decoded = percent_decode(segment);
            match self.reference(&decoded, Site::PathSegment) {
                Some(r) => {
                    let name = r
                        .rsplit('.')
                        .next()
                        .unwrap_or_default()
                        .trim_end_matches('}');
                    path.push_str(&format!("{{{name}}}"));
                    parts.push(Part::Ref(r));
                }
                None => {
                    path.push_str(segment);
                    parts.push(Part::Text(segment.to_string()));
                }
            }
        }
        if let Some(query) = url.query() {
            parts.push(Part::Text("?".into()));
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    parts.push(Part::Text("&".into()));
                }
                let Some((key, _)) = pair.split_once('=') else {
                    parts.push(Part::Text(pair.to_string()));
                    continue;
                };
                let (name, value) = url::form_urlencoded::parse(pair.as_bytes())
                    .next()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .unwrap_or_default();
                parts.push(Part::Text(format!("{key}=")));
                if let Some(r) = self.reference(&value, Site::Named(&name)) {
                    parts.push(Part::Ref(r));
                } else if is_secret_name(&name) && !value.is_empty() {
                    parts.push(Part::Ref(self.secret(&name, &value)));
                } else {
                    if looks_like_timestamp(&value) || looks_like_uuid(&value) {
                        let kind = if looks_like_uuid(&value) {
                            "a UUID"
                        } else {
                            "a timestamp"
                        };
                        self.note(format!(
                            "{step_name}: query `{name}={value}` looks like {kind} recorded at capture time; use `${{{}}}` if the server checks it",
                            if looks_like_uuid(&value) { "UUID" } else if value.len() == 13 { "TIMESTAMP_MS" } else { "TIMESTAMP" }
                        ));
                    }
                    parts.push(Part::Text(
                        pair.get(key.len() + 1..).unwrap_or_default().to_string(),
                    ));
                }
            }
        }
        (render(&parts, &mut self.altered), path)
    }

    fn header_value(&mut self, name: &str, value: &str) -> String {
        let lower = name.to_ascii_lowercase();
        if lower == "authorization" || lower == "proxy-authorization" {
            let (scheme, credential) = match value.trim().split_once(' ') {
                Some((scheme, credential)) => (Some(scheme), credential.trim()),
                None => (None, value.trim()),
            };
            let reference = self
                .reference(credential, Site::Named("token"))
                .unwrap_or_else(|| {
                    let var = if lower == "authorization" {
                        "AUTH_TOKEN"
                    } else {
                        "PROXY_AUTH_TOKEN"
                    };
                    self.secret(var, credential)
                });
            return match scheme {
                Some(scheme) => format!("{scheme} {reference}"),
                None => reference,
            };
        }
        if let Some(r) = self.reference(value, Site::Named(name)) {
            return r;
        }
        if is_secret_name(name) && !value.is_empty() {
            return self.secret(name, value);
        }
        let parts = self.substitute(value);
        render(&parts, &mut self.altered)
    }

    /// The request body as `body` / `form` / `multipart`.
    fn body(&mut self, entry: &Entry<'_>, step_name: &str) -> Option<(&'static str, Value)> {
        let post = entry.post?;
        let mime = post
            .get("mimeType")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let text = post.get("text").and_then(Value::as_str).unwrap_or_default();
        let params: Vec<(String, String, Option<String>)> = post
            .get("params")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|p| {
                        let name = p.get("name")?.as_str()?.to_string();
                        let value = p
                            .get("value")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        let file = p
                            .get("fileName")
                            .and_then(Value::as_str)
                            .map(str::to_string);
                        Some((name, value, file))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if mime.starts_with("multipart/") {
            let mut fields = Map::new();
            for (name, value, file) in params {
                if let Some(file) = file {
                    self.note(format!("{step_name}: multipart file field `{name}` (`{file}`) is not in the recording; add it as `{name}: {{file: <path>}}`"));
                    continue;
                }
                let value = self.field_value(&name, &value);
                fields.entry(name).or_insert(value);
            }
            if fields.is_empty() {
                self.note(format!("{step_name}: the multipart body was not recorded field by field; add `multipart:` by hand"));
                return None;
            }
            return Some(("multipart", Value::Object(fields)));
        }
        if mime.starts_with("application/x-www-form-urlencoded") {
            let pairs: Vec<(String, String)> = if text.is_empty() {
                params.into_iter().map(|(n, v, _)| (n, v)).collect()
            } else {
                url::form_urlencoded::parse(text.as_bytes())
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            };
            let mut form = Map::new();
            for (name, value) in pairs {
                if form.contains_key(&name) {
                    self.note(format!("{step_name}: form field `{name}` appears more than once; only the first is sent"));
                    continue;
                }
                let value = self.field_value(&name, &value);
                form.insert(name, value);
            }
            return (!form.is_empty()).then_some(("form", Value::Object(form)));
        }
        if text.is_empty() {
            return None;
        }
        if (mime.contains("json") || mime.is_empty())
            && let Ok(value) = serde_json::from_str::<Value>(text)
        {
            return Some(("body", self.json(&value, None)));
        }
        let parts = self.substitute(text);
        Some(("body", Value::String(render(&parts, &mut self.altered))))
    }

    fn field_value(&mut self, name: &str, value: &str) -> Value {
        if let Some(r) = self.reference(value, Site::Named(name)) {
            return Value::String(r);
        }
        if is_password_name(name) && !value.is_empty() {
            return Value::String(self.secret(name, value));
        }
        let parts = self.substitute(value);
        Value::String(render(&parts, &mut self.altered))
    }

    /// A JSON body with secrets and returned values replaced.
    fn json(&mut self, value: &Value, key: Option<&str>) -> Value {
        match value {
            Value::String(s) => {
                if let Some(k) = key.filter(|k| is_password_name(k) && !s.is_empty()) {
                    return Value::String(self.secret(k, s));
                }
                if let Some(r) = self.reference(s, Site::Named(key.unwrap_or_default())) {
                    return Value::String(r);
                }
                let parts = self.substitute(s);
                Value::String(render(&parts, &mut self.altered))
            }
            Value::Number(n) if n.is_i64() || n.is_u64() => {
                match self.reference(&n.to_string(), Site::Named(key.unwrap_or_default())) {
                    Some(r) => Value::String(r),
                    None => value.clone(),
                }
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.json(v, key)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.json(v, Some(k))))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// An environment variable standing for a recorded credential `value` (never written), named
    /// after where it was sent.
    fn secret(&mut self, name: &str, value: &str) -> String {
        if let Some(var) = self.secret_values.get(value) {
            return format!("${{{var}}}");
        }
        let mut var: String = camel_to_snake(name)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        var = var.trim_matches('_').to_string();
        if !var.starts_with(|c: char| c.is_ascii_alphabetic()) {
            var = format!("SECRET_{var}");
        }
        let base = var.clone();
        let mut n = 2;
        while self.secrets.contains(&var) {
            var = format!("{base}_{n}");
            n += 1;
        }
        self.secrets.insert(var.clone());
        self.secret_values.insert(value.to_string(), var.clone());
        format!("${{{var}}}")
    }

    /// The reference for a value an earlier response returned, when it is one.
    fn reference(&mut self, value: &str, site: Site<'_>) -> Option<String> {
        let index = *self.by_value.get(value)?;
        let short = value.chars().count() < 6;
        if short {
            let fits = match site {
                Site::PathSegment => true,
                Site::Named(name) => is_id_name(name),
            };
            if !fits {
                return None;
            }
        }
        let producer = self.producers.get(index)?;
        let (step, step_id) = (producer.step, producer.step_id.clone());
        let name = match &producer.output {
            Some(name) => name.clone(),
            None => {
                let name = self.output_name(index);
                let path = self
                    .producers
                    .get(index)
                    .map(|p| p.path.clone())
                    .unwrap_or_default();
                if let Some(step) = self.steps.get_mut(step) {
                    let outputs = step
                        .entry("output")
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(outputs) = outputs {
                        outputs.insert(name.clone(), Value::String(path));
                    }
                }
                if let Some(p) = self.producers.get_mut(index) {
                    p.output = Some(name.clone());
                }
                name
            }
        };
        Some(format!("${{{step_id}.{name}}}"))
    }

    /// A name for a producer's output: its key in snake case, prefixed by the resource for
    /// generic keys (`id` of `POST /api/users` → `user_id`), unique in the flow.
    fn output_name(&mut self, index: usize) -> String {
        let Some(producer) = self.producers.get(index) else {
            return "value".into();
        };
        let mut base = slug(&camel_to_snake(&producer.key), '_');
        if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
            base = format!("value_{base}").trim_end_matches('_').to_string();
        }
        if matches!(
            base.as_str(),
            "id" | "uuid" | "guid" | "key" | "slug" | "ref" | "value"
        ) {
            // The object holding it (`$.user.id`), else the resource of the URL (`/api/users`).
            let url_resource = producer.url_path.split('/').rev().find(|s| {
                !s.is_empty()
                    && s.chars().any(|c| c.is_ascii_alphabetic())
                    && !s.chars().any(|c| c.is_ascii_digit())
            });
            let resource = producer
                .parent
                .as_deref()
                .or(url_resource)
                .map(|r| singular(&slug(&camel_to_snake(r), '_')))
                .filter(|r| r.starts_with(|c: char| c.is_ascii_lowercase()));
            if let Some(resource) = resource {
                base = format!("{resource}_{base}");
            }
        }
        let mut name = base.clone();
        let mut n = 2;
        while !self.outputs.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        name
    }

    /// Long returned values (tokens) inside a longer text as references. Candidates are found
    /// through the index of their first bytes, so a text is read once whatever the number of
    /// returned values.
    fn substitute(&mut self, text: &str) -> Vec<Part> {
        let mut parts = Vec::new();
        let bytes = text.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i + LONG_VALUE <= bytes.len() {
            let hit = bytes
                .get(i..i + PREFIX)
                .and_then(|prefix| self.long_values.get(prefix))
                .filter(|_| text.is_char_boundary(i))
                .and_then(|values| {
                    values
                        .iter()
                        .filter(|v| {
                            bytes
                                .get(i..)
                                .is_some_and(|rest| rest.starts_with(v.as_bytes()))
                        })
                        .max_by_key(|v| v.len())
                        .cloned()
                });
            let reference = hit.as_ref().and_then(|value| {
                self.reference(value, Site::Named("token"))
                    .map(|r| (r, value.len()))
            });
            match reference {
                Some((reference, len)) => {
                    if i > start {
                        parts.push(Part::Text(
                            text.get(start..i).unwrap_or_default().to_string(),
                        ));
                    }
                    parts.push(Part::Ref(reference));
                    i += len;
                    start = i;
                }
                None => i += 1,
            }
        }
        if start < text.len() || parts.is_empty() {
            parts.push(Part::Text(
                text.get(start..).unwrap_or_default().to_string(),
            ));
        }
        parts
    }

    /// Values this request sent (so a response echoing them is not their producer).
    fn remember_sent(&mut self, entry: &Entry<'_>, url: &Url) {
        for segment in url.path().split('/') {
            self.sent.insert(percent_decode(segment));
        }
        for (_, value) in url.query_pairs() {
            self.sent.insert(value.to_string());
        }
        for (_, value) in &entry.headers {
            self.sent.insert(value.clone());
            if let Some((_, credential)) = value.split_once(' ') {
                self.sent.insert(credential.trim().to_string());
            }
        }
        if let Some(text) = entry
            .post
            .and_then(|p| p.get("text"))
            .and_then(Value::as_str)
        {
            match serde_json::from_str::<Value>(text) {
                Ok(value) => scalars(&value, &mut |s| {
                    self.sent.insert(s);
                }),
                Err(_) => {
                    for (_, v) in url::form_urlencoded::parse(text.as_bytes()) {
                        self.sent.insert(v.to_string());
                    }
                }
            }
        }
        if let Some(params) = entry
            .post
            .and_then(|p| p.get("params"))
            .and_then(Value::as_array)
        {
            for p in params {
                if let Some(v) = p.get("value").and_then(Value::as_str) {
                    self.sent.insert(v.to_string());
                }
            }
        }
    }

    /// Values of a JSON response that later requests may send back.
    fn collect_producers(&mut self, entry: &Entry<'_>, step: usize, step_id: &str, url_path: &str) {
        let Some(text) = &entry.response_text else {
            return;
        };
        if !entry.response_mime.contains("json") && !text.trim_start().starts_with(['{', '[']) {
            return;
        }
        let Ok(body) = serde_json::from_str::<Value>(text) else {
            return;
        };
        let mut found = Vec::new();
        candidates(&body, "$", None, None, 0, &mut found);
        for Candidate {
            key,
            parent,
            value,
            path,
        } in found
        {
            if self.sent.contains(&value) || self.by_value.contains_key(&value) {
                continue;
            }
            if value.len() >= LONG_VALUE
                && let Some(prefix) = value.as_bytes().get(..PREFIX)
            {
                self.long_values
                    .entry(prefix.to_vec())
                    .or_default()
                    .push(value.clone());
            }
            self.by_value.insert(value, self.producers.len());
            self.producers.push(Producer {
                step,
                step_id: step_id.to_string(),
                key,
                parent,
                path,
                url_path: url_path.to_string(),
                output: None,
            });
        }
    }

    fn finish(mut self) -> (Value, Vec<String>, Vec<String>) {
        if !self.secrets.is_empty() {
            let list: Vec<String> = self.secrets.iter().map(|s| format!("`{s}`")).collect();
            self.note(format!(
                "recorded credentials are not written: give {} with `--var` or the environment",
                list.join(", ")
            ));
        }
        if self.altered {
            self.note("literal `{{` (or a `$` right before a reference) got a space so it does not read as a reference".into());
        }
        let context = self.context;
        let mut flow = Map::new();
        flow.insert(
            "name".into(),
            json!(context.name.chars().take(255).collect::<String>()),
        );
        let description = match context.page {
            Some(page) => format!(
                "Replays the API calls of the page \"{}\"{} recorded in {}",
                page.title,
                page.started
                    .as_deref()
                    .map(|s| format!(" (recorded {s})"))
                    .unwrap_or_default(),
                file_name(context.file)
            ),
            None => format!(
                "Replays the API calls recorded in {}",
                file_name(context.file)
            ),
        };
        flow.insert(
            "description".into(),
            json!(description.chars().take(1000).collect::<String>()),
        );
        let suite = slug(context.stem, '-');
        if !suite.is_empty() {
            flow.insert("suite".into(), json!(suite));
        }
        flow.insert("tags".into(), json!(["har"]));
        // `BASE_URL` first.
        let mut env = Map::new();
        if let Some(base) = self.env.get("BASE_URL") {
            env.insert("BASE_URL".into(), json!(base));
        }
        for (name, value) in &self.env {
            env.insert(name.clone(), json!(value));
        }
        flow.insert("env".into(), Value::Object(env));
        flow.insert(
            "steps".into(),
            Value::Array(self.steps.into_iter().map(Value::Object).collect()),
        );
        let mut comments = vec![format!(
            "Imported from the HTTP archive {}{}.",
            context.file,
            context
                .page
                .map(|p| format!(", page \"{}\"", p.title))
                .unwrap_or_default()
        )];
        comments.push(
            "Origins are variables (`BASE_URL`, …): point them elsewhere with `--var BASE_URL=…`."
                .into(),
        );
        if !self.notes.is_empty() {
            comments.push("Not translated (finish by hand):".into());
            comments.extend(self.notes.iter().map(|n| format!("- {n}")));
        }
        (Value::Object(flow), comments, self.notes)
    }
}

fn file_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| path.to_string())
}

/// `status == <recorded>` and, for JSON, that a couple of top-level keys are there.
fn assertions(entry: &Entry<'_>) -> Vec<Value> {
    let mut out = Vec::new();
    out.push(match entry.status {
        304 => json!("status in [200, 304]"),
        status => json!(format!("status == {status}")),
    });
    let json_body = entry
        .response_text
        .as_deref()
        .filter(|_| entry.response_mime.contains("json"))
        .and_then(|t| serde_json::from_str::<Value>(t).ok());
    match json_body {
        Some(Value::Object(map)) => {
            for key in map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k)
                .take(2)
            {
                out.push(json!(format!("body{} exists", member(key))));
            }
        }
        Some(Value::Array(_)) => out.push(json!("body is array")),
        _ => {}
    }
    out
}

fn member(key: &str) -> String {
    let word = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if word {
        format!(".{key}")
    } else {
        format!("[{}]", crate::postman::quote(key))
    }
}
