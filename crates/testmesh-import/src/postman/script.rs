//! Postman test scripts (`event[listen=test]`) translated to step assertions and outputs.
//!
//! Recognised: `pm.test(name, fn)` blocks (their statements are translated one by one),
//! `pm.expect(<subject>)` with Chai chains, `pm.response.to…` (status, header, body, JSON body,
//! status classes), `var json = pm.response.json()` / `JSON.parse(responseBody)` aliases,
//! `pm.environment.set(...)` (and `collectionVariables`, `globals`, `variables`,
//! `postman.setEnvironmentVariable`) of a response value → step outputs, and the legacy
//! `tests["…"] = <condition>` form. `console.*` calls are dropped. Every other statement is returned
//! as untranslated, with its source text.

use std::collections::HashMap;

use serde_json::Number;

use super::js::{self, Chain, Js, Seg, Token};

/// What a test script became.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Translation {
    /// Assertion expressions, in script order.
    pub asserts: Vec<String>,
    /// `(Postman variable name, output path)` for values the script stores.
    pub outputs: Vec<(String, String)>,
    /// Statements that were not translated, as written (whitespace collapsed).
    pub untranslated: Vec<String>,
}

/// Translates a test script. `vars` gives the expression text for a Postman variable read with
/// `pm.environment.get("x")` and the like (`None`: not usable in an expression).
pub(crate) fn translate(script: &str, vars: &dyn Fn(&str) -> Option<String>) -> Translation {
    let tokens = js::tokenize(script);
    let mut translator = Translator {
        src: script,
        vars,
        aliases: HashMap::new(),
        constants: HashMap::new(),
        out: Translation::default(),
    };
    translator.run(&tokens);
    translator.out
}

/// A value a script reads.
#[derive(Debug, Clone, PartialEq)]
enum Subject {
    /// The response body (parsed JSON), at a path.
    Body(Vec<PathSeg>),
    Status,
    Time,
    /// A response header (lower-case name).
    Header(String),
    /// The response text.
    Text,
    /// Any other expression.
    Expr(String),
}

#[derive(Debug, Clone, PartialEq)]
enum PathSeg {
    Key(String),
    Index(i64),
}

impl Subject {
    fn expr(&self) -> String {
        match self {
            Subject::Body(path) => {
                let mut out = "body".to_string();
                for seg in path {
                    match seg {
                        PathSeg::Key(k) if is_word(k) => {
                            out.push('.');
                            out.push_str(k);
                        }
                        PathSeg::Key(k) => {
                            out.push('[');
                            out.push_str(&quote(k));
                            out.push(']');
                        }
                        PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
                    }
                }
                out
            }
            Subject::Status => "status".into(),
            Subject::Time => "response.time".into(),
            Subject::Header(name) => format!("headers[{}]", quote(name)),
            Subject::Text => "string(body)".into(),
            Subject::Expr(e) => e.clone(),
        }
    }

    /// The `output:` path of this value, when it has one.
    fn output_path(&self) -> Option<String> {
        match self {
            Subject::Body(path) => {
                let mut out = "$".to_string();
                for seg in path {
                    match seg {
                        PathSeg::Key(k) if is_identifier(k) => {
                            out.push('.');
                            out.push_str(k);
                        }
                        PathSeg::Key(k) => {
                            out.push_str("['");
                            out.push_str(&k.replace('\\', "\\\\").replace('\'', "\\'"));
                            out.push_str("']");
                        }
                        PathSeg::Index(i) if *i >= 0 => out.push_str(&format!("[{i}]")),
                        PathSeg::Index(_) => return None,
                    }
                }
                Some(out)
            }
            Subject::Status => Some("response.status".into()),
            Subject::Header(name) => Some(format!("response.headers[\"{name}\"]")),
            _ => None,
        }
    }
}

struct Translator<'a> {
    src: &'a str,
    vars: &'a dyn Fn(&str) -> Option<String>,
    aliases: HashMap<String, Subject>,
    /// `var expected = <literal>` (a JSON Schema, an expected value).
    constants: HashMap<String, Js>,
    out: Translation,
}

impl Translator<'_> {
    fn run(&mut self, tokens: &[Token]) {
        for statement in js::statements(tokens) {
            if self.statement(statement).is_none() {
                let text = self.text(statement);
                if !text.is_empty() && text != "}" {
                    self.out.untranslated.push(text);
                }
            }
        }
    }

    /// The statement as written, whitespace runs collapsed, at most 300 characters.
    fn text(&self, tokens: &[Token]) -> String {
        let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
            return String::new();
        };
        let raw = self.src.get(first.start..last.end).unwrap_or_default();
        let mut text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > 300 {
            text = text.chars().take(299).collect::<String>() + "…";
        }
        text
    }

    fn statement(&mut self, tokens: &[Token]) -> Option<()> {
        if let Some((name, value)) = js::parse_declaration(tokens) {
            if literal(&value).is_some() {
                self.constants.insert(name, value);
                return Some(());
            }
            let subject = self.subject(&value)?;
            self.aliases.insert(name, subject);
            return Some(());
        }
        if let Some(value) = js::parse_expression(tokens) {
            return self.expression_statement(&value);
        }
        let (target, value) = js::parse_assignment(tokens)?;
        // Legacy `tests["name"] = <condition>`.
        match target {
            Js::Chain(Chain { root, segs }) if root == "tests" && segs.len() == 1 => {
                let condition = self.condition(&value)?;
                self.push_asserts(vec![condition])
            }
            _ => None,
        }
    }

    fn expression_statement(&mut self, value: &Js) -> Option<()> {
        let Js::Chain(chain) = value else { return None };
        let members: Vec<&str> = chain.members().collect();
        match (chain.root.as_str(), members.as_slice()) {
            ("console", _) => Some(()),
            ("pm", ["test"]) => {
                let Some(Seg::Call(args)) = chain.segs.get(1) else {
                    return None;
                };
                match args.as_slice() {
                    [_, Js::Function(body)] if chain.segs.len() == 2 => {
                        self.run(body);
                        Some(())
                    }
                    _ => None,
                }
            }
            ("pm", ["expect"]) => {
                let Some(Seg::Call(args)) = chain.segs.get(1) else {
                    return None;
                };
                let [subject] = args.as_slice() else {
                    return None;
                };
                let subject = self.subject(subject)?;
                let segs = self.resolve(chain.segs.get(2..)?);
                let clauses = chai(Target::Value(subject), &segs)?;
                self.push_asserts(clauses)
            }
            ("pm", ["response", "to", ..]) => {
                let segs = self.resolve(chain.segs.get(2..)?);
                let clauses = chai(Target::Response, &segs)?;
                self.push_asserts(clauses)
            }
            ("pm", [store, "set"])
                if matches!(
                    *store,
                    "environment" | "collectionVariables" | "globals" | "variables"
                ) =>
            {
                let Some(Seg::Call(args)) = chain.segs.get(2) else {
                    return None;
                };
                self.set_variable(args)
            }
            ("postman", ["setEnvironmentVariable" | "setGlobalVariable"]) => {
                let Some(Seg::Call(args)) = chain.segs.get(1) else {
                    return None;
                };
                self.set_variable(args)
            }
            _ => None,
        }
    }

    /// Chain links with call arguments that read the response or variables translated.
    fn resolve(&self, segs: &[Seg]) -> Vec<Seg> {
        segs.iter()
            .map(|seg| match seg {
                Seg::Call(args) => Seg::Call(
                    args.iter()
                        .map(|arg| match arg {
                            Js::Chain(chain)
                                if chain.segs.is_empty()
                                    && self.constants.contains_key(&chain.root) =>
                            {
                                self.constants
                                    .get(&chain.root)
                                    .cloned()
                                    .unwrap_or(Js::Other)
                            }
                            Js::Chain(_) => match self.subject(arg) {
                                Some(subject) => Js::Expr(subject.expr()),
                                None => Js::Other,
                            },
                            other => other.clone(),
                        })
                        .collect(),
                ),
                other => other.clone(),
            })
            .collect()
    }

    fn set_variable(&mut self, args: &[Js]) -> Option<()> {
        let [Js::Str(name), value] = args else {
            return None;
        };
        let path = self.subject(value)?.output_path()?;
        self.out.outputs.push((name.clone(), path));
        Some(())
    }

    fn push_asserts(&mut self, clauses: Vec<String>) -> Option<()> {
        if clauses.is_empty()
            || clauses
                .iter()
                .any(|c| testmesh_flow::expr::parse(c).is_err())
        {
            return None;
        }
        self.out.asserts.extend(clauses);
        Some(())
    }

    /// A boolean JavaScript condition as an expression.
    fn condition(&self, value: &Js) -> Option<String> {
        match value {
            Js::Binary(op @ ("&&" | "||"), left, right) => Some(format!(
                "({}) {op} ({})",
                self.condition(left)?,
                self.condition(right)?
            )),
            Js::Binary("!", _, operand) => Some(format!("not ({})", self.condition(operand)?)),
            Js::Binary(op, left, right) => {
                let op = match *op {
                    "===" | "==" => "==",
                    "!==" | "!=" => "!=",
                    other => other,
                };
                Some(format!("{} {op} {}", self.value(left)?, self.value(right)?))
            }
            Js::Chain(chain) if chain.root == "responseBody" => {
                match (
                    chain.members().collect::<Vec<_>>().as_slice(),
                    chain.segs.get(1),
                ) {
                    (["has"], Some(Seg::Call(args))) if chain.segs.len() == 2 => match args
                        .as_slice()
                    {
                        [needle] => Some(format!("string(body) contains {}", self.value(needle)?)),
                        _ => None,
                    },
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A value as an expression: a literal, or something the script reads.
    fn value(&self, value: &Js) -> Option<String> {
        match value {
            Js::Chain(_) => Some(self.subject(value)?.expr()),
            other => literal(other),
        }
    }

    /// What a JavaScript value reads from the response (or a variable).
    fn subject(&self, value: &Js) -> Option<Subject> {
        let Js::Chain(chain) = value else { return None };
        if let Some(base) = self.aliases.get(&chain.root) {
            return extend(base, &chain.segs);
        }
        let members: Vec<&str> = chain.members().collect();
        let segs = &chain.segs;
        let call_arg = |at: usize| match segs.get(at) {
            Some(Seg::Call(args)) => match args.as_slice() {
                [Js::Str(s)] => Some(s.clone()),
                _ => None,
            },
            _ => None,
        };
        let empty_call =
            |at: usize| matches!(segs.get(at), Some(Seg::Call(args)) if args.is_empty());
        match (chain.root.as_str(), members.as_slice()) {
            ("pm", ["response", "code"]) if segs.len() == 2 => Some(Subject::Status),
            ("pm", ["response", "responseTime"]) if segs.len() == 2 => Some(Subject::Time),
            ("pm", ["response", "json"]) if empty_call(2) => {
                extend(&Subject::Body(Vec::new()), segs.get(3..)?)
            }
            ("pm", ["response", "text"]) if empty_call(2) && segs.len() == 3 => Some(Subject::Text),
            ("pm", ["response", "headers", "get"]) if segs.len() == 4 => {
                Some(Subject::Header(call_arg(3)?.to_ascii_lowercase()))
            }
            ("pm", ["response", "headers", "has"]) if segs.len() == 4 => {
                Some(Subject::Expr(format!(
                    "(headers[{}] exists)",
                    quote(&call_arg(3)?.to_ascii_lowercase())
                )))
            }
            ("pm", [store, "get"])
                if segs.len() == 3
                    && matches!(
                        *store,
                        "environment"
                            | "collectionVariables"
                            | "globals"
                            | "variables"
                            | "iterationData"
                    ) =>
            {
                Some(Subject::Expr((self.vars)(&call_arg(2)?)?))
            }
            ("postman", ["getEnvironmentVariable" | "getGlobalVariable"]) if segs.len() == 2 => {
                Some(Subject::Expr((self.vars)(&call_arg(1)?)?))
            }
            ("postman", ["getResponseHeader"]) if segs.len() == 2 => {
                Some(Subject::Header(call_arg(1)?.to_ascii_lowercase()))
            }
            ("JSON", ["parse"]) => match segs.get(1) {
                Some(Seg::Call(args)) if matches!(args.as_slice(), [Js::Chain(c)] if c.root == "responseBody" && c.segs.is_empty()) => {
                    extend(&Subject::Body(Vec::new()), segs.get(2..)?)
                }
                _ => None,
            },
            ("responseCode", ["code"]) if segs.len() == 1 => Some(Subject::Status),
            ("responseTime", []) if segs.is_empty() => Some(Subject::Time),
            ("responseBody", []) if segs.is_empty() => Some(Subject::Text),
            ("responseHeaders", []) => match segs.as_slice() {
                [Seg::Index(Js::Str(name))] => Some(Subject::Header(name.to_ascii_lowercase())),
                _ => None,
            },
            _ => None,
        }
    }
}

/// `base` followed by member and index links (no calls).
fn extend(base: &Subject, segs: &[Seg]) -> Option<Subject> {
    if segs.is_empty() {
        return Some(base.clone());
    }
    let Subject::Body(path) = base else {
        return None;
    };
    let mut path = path.clone();
    for seg in segs {
        path.push(match seg {
            Seg::Member(name) => PathSeg::Key(name.clone()),
            Seg::Index(Js::Str(key)) => PathSeg::Key(key.clone()),
            Seg::Index(Js::Num(n)) => PathSeg::Index(n.as_i64()?),
            _ => return None,
        });
    }
    Some(Subject::Body(path))
}

/// What a Chai chain asserts on.
enum Target {
    Value(Subject),
    /// `pm.response.to…`.
    Response,
}

/// Words that only make a Chai chain read well.
const FILLER: &[&str] = &[
    "to", "be", "been", "is", "that", "which", "and", "has", "have", "with", "at", "of", "same",
    "but", "does", "still", "own", "deep", "any", "all",
];

/// A Chai chain (the links after `pm.expect(x)` or `pm.response.to`) as expressions; `None` when
/// any part is not understood.
fn chai(target: Target, segs: &[Seg]) -> Option<Vec<String>> {
    let mut clauses = Vec::new();
    let mut negate = false;
    let mut include = false;
    let mut nested = false;
    let mut target = target;
    let mut i = 0;
    while i < segs.len() {
        let Some(Seg::Member(word)) = segs.get(i) else {
            return None;
        };
        let args = match segs.get(i + 1) {
            Some(Seg::Call(args)) => {
                i += 2;
                Some(args.as_slice())
            }
            _ => {
                i += 1;
                None
            }
        };
        let word = word.as_str();
        if FILLER.contains(&word) && args.is_none() {
            continue;
        }
        match word {
            "not" if args.is_none() => {
                negate = !negate;
                continue;
            }
            "nested" if args.is_none() => {
                nested = true;
                continue;
            }
            "include" | "includes" | "contain" | "contains" if args.is_none() => {
                include = true;
                continue;
            }
            _ => {}
        }
        let clause = match &target {
            Target::Response => response_clause(word, args, negate)?,
            Target::Value(subject) => {
                if matches!(word, "length" | "lengthOf") && args.is_none() {
                    target = Target::Value(Subject::Expr(format!("len({})", subject.expr())));
                    continue;
                }
                value_clause(subject, word, args, negate, include, nested)?
            }
        };
        clauses.extend(clause);
    }
    Some(clauses)
}

fn negated(expr: String, negate: bool) -> String {
    if negate {
        format!("not ({expr})")
    } else {
        expr
    }
}

/// One assertion word applied to a value.
fn value_clause(
    subject: &Subject,
    word: &str,
    args: Option<&[Js]>,
    negate: bool,
    include: bool,
    nested: bool,
) -> Option<Vec<String>> {
    let s = subject.expr();
    let one = |args: Option<&[Js]>| match args {
        Some([value]) => literal(value),
        _ => None,
    };
    let compare = |op: &str, inverse: &str, args| {
        let v = one(args)?;
        Some(vec![format!(
            "{s} {} {v}",
            if negate { inverse } else { op }
        )])
    };
    match word {
        "equal" | "equals" | "eq" | "eql" | "eqls" => compare("==", "!=", args),
        "above" | "gt" | "greaterThan" => compare(">", "<=", args),
        "least" | "gte" | "greaterThanOrEqual" => compare(">=", "<", args),
        "below" | "lt" | "lessThan" => compare("<", ">=", args),
        "most" | "lte" | "lessThanOrEqual" => compare("<=", ">", args),
        "within" => {
            let [low, high] = args? else { return None };
            let expr = format!("{s} >= {} && {s} <= {}", literal(low)?, literal(high)?);
            Some(vec![negated(expr, negate)])
        }
        "a" | "an" => {
            let [Js::Str(kind)] = args? else { return None };
            let kind = match kind.to_ascii_lowercase().as_str() {
                "undefined" => return Some(vec![negated(format!("{s} is null"), negate)]),
                k @ ("string" | "number" | "boolean" | "array" | "object" | "null") => {
                    k.to_string()
                }
                _ => return None,
            };
            let not = if negate { "not " } else { "" };
            Some(vec![format!("{s} is {not}{kind}")])
        }
        "include" | "includes" | "contain" | "contains" | "string" => {
            let [value] = args? else { return None };
            if matches!(value, Js::Object(_)) {
                return None;
            }
            Some(vec![negated(
                format!("{s} contains {}", literal(value)?),
                negate,
            )])
        }
        "oneOf" => {
            let v = one(args)?;
            let op = if negate { "not in" } else { "in" };
            Some(vec![format!("{s} {op} {v}")])
        }
        "property" => {
            let (name, value) = match args? {
                [Js::Str(name)] => (name, None),
                [Js::Str(name), value] => (name, Some(literal(value)?)),
                _ => return None,
            };
            let member = if nested {
                let mut path = String::new();
                for part in name.split('.') {
                    path.push_str(&member_suffix(part));
                }
                format!("{s}{path}")
            } else {
                format!("{s}{}", member_suffix(name))
            };
            let expr = match value {
                Some(v) => format!("{member} == {v}"),
                None if nested => format!("{member} exists"),
                None => format!("{} in {s}", quote(name)),
            };
            Some(vec![negated(expr, negate)])
        }
        "keys" | "key" => {
            let names: Vec<&Js> = match args? {
                [Js::Array(items)] => items.iter().collect(),
                items => items.iter().collect(),
            };
            let mut parts = Vec::new();
            for name in &names {
                let Js::Str(name) = name else { return None };
                parts.push(format!("{} in {s}", quote(name)));
            }
            if !include {
                parts.push(format!("len(keys({s})) == {}", names.len()));
            }
            Some(vec![negated(parts.join(" && "), negate)])
        }
        "members" => {
            let [Js::Array(items)] = args? else {
                return None;
            };
            let mut parts = Vec::new();
            for item in items {
                parts.push(format!("{s} contains {}", literal(item)?));
            }
            if !include {
                parts.push(format!("len({s}) == {}", items.len()));
            }
            Some(vec![negated(parts.join(" && "), negate)])
        }
        "lengthOf" | "length" => {
            let v = one(args)?;
            let op = if negate { "!=" } else { "==" };
            Some(vec![format!("len({s}) {op} {v}")])
        }
        "match" | "matches" => {
            let [Js::Regex { pattern, flags }] = args? else {
                return None;
            };
            let regex = regex_text(pattern, flags)?;
            Some(vec![negated(
                format!("{s} matches {}", quote(&regex)),
                negate,
            )])
        }
        "exist" | "exists" if args.is_none() => Some(vec![negated(format!("{s} exists"), negate)]),
        "true" | "false" if args.is_none() => {
            let op = if negate { "!=" } else { "==" };
            Some(vec![format!("{s} {op} {word}")])
        }
        "null" if args.is_none() => {
            let not = if negate { "not " } else { "" };
            Some(vec![format!("{s} is {not}null")])
        }
        "undefined" if args.is_none() => Some(vec![negated(format!("{s} is null"), negate)]),
        "empty" if args.is_none() => {
            let op = if negate { ">" } else { "==" };
            Some(vec![format!("len({s}) {op} 0")])
        }
        _ => None,
    }
}

/// Postman's status-code shorthands (`pm.response.to.be.ok`, chai-postman's `statusCodeProps`).
const STATUS_WORDS: &[(&str, u16)] = &[
    ("ok", 200),
    ("accepted", 202),
    ("withoutContent", 204),
    ("badRequest", 400),
    ("unauthorized", 401),
    ("unauthorised", 401),
    ("forbidden", 403),
    ("notFound", 404),
    ("notAcceptable", 406),
    ("rateLimited", 429),
];

/// One assertion word applied to the response (`pm.response.to.have.status(200)`).
fn response_clause(word: &str, args: Option<&[Js]>, negate: bool) -> Option<Vec<String>> {
    let expr = match (word, args) {
        ("status", Some([Js::Num(n)])) => format!("status == {}", n.as_u64()?),
        ("status", Some([Js::Str(reason)])) => format!("status == {}", status_for_reason(reason)?),
        ("header", Some([Js::Str(name)])) => {
            format!("headers[{}] exists", quote(&name.to_ascii_lowercase()))
        }
        ("header", Some([Js::Str(name), value])) => format!(
            "headers[{}] == {}",
            quote(&name.to_ascii_lowercase()),
            literal(value)?
        ),
        ("body", Some([Js::Str(text)])) => format!("string(body) == {}", quote(text)),
        ("body", Some([])) | ("withBody", None) => "string(body) != ''".to_string(),
        ("jsonBody", Some([])) => "body is object || body is array".to_string(),
        ("jsonBody", Some([Js::Str(path)])) => format!("body{} exists", dotted(path)),
        ("jsonBody", Some([Js::Str(path), value])) => {
            format!("body{} == {}", dotted(path), literal(value)?)
        }
        ("json", None) => "headers['content-type'] contains 'json'".to_string(),
        ("jsonSchema", Some([schema @ Js::Object(_)])) => {
            format!("body matches_schema {}", literal(schema)?)
        }
        ("success", None) => "status >= 200 && status < 300".to_string(),
        ("info", None) => "status >= 100 && status < 200".to_string(),
        ("redirection", None) => "status >= 300 && status < 400".to_string(),
        ("clientError", None) => "status >= 400 && status < 500".to_string(),
        ("serverError", None) => "status >= 500 && status < 600".to_string(),
        ("error", None) => "status >= 400 && status < 600".to_string(),
        (word, None) => {
            let code = STATUS_WORDS.iter().find(|(w, _)| *w == word)?.1;
            format!("status == {code}")
        }
        _ => return None,
    };
    Some(vec![negated(expr, negate)])
}

/// The status code whose reason phrase is `reason` (`"Created"` → 201).
fn status_for_reason(reason: &str) -> Option<u16> {
    (100..600u16).find(|code| {
        http::StatusCode::from_u16(*code)
            .ok()
            .and_then(|s| s.canonical_reason())
            .is_some_and(|r| r.eq_ignore_ascii_case(reason.trim()))
    })
}

/// `a.b[0].c` (a Postman JSON body path) as member suffixes.
fn dotted(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        match part.split_once('[') {
            Some((name, rest)) if rest.ends_with(']') => {
                if !name.is_empty() {
                    out.push_str(&member_suffix(name));
                }
                out.push('[');
                out.push_str(rest);
            }
            _ => out.push_str(&member_suffix(part)),
        }
    }
    out
}

fn member_suffix(name: &str) -> String {
    if is_word(name) {
        format!(".{name}")
    } else {
        format!("[{}]", quote(name))
    }
}

/// A JavaScript regex literal as the text of a `matches` regex; `None` when Rust's regex engine
/// does not accept it.
fn regex_text(pattern: &str, flags: &str) -> Option<String> {
    let mut prefix = String::new();
    for flag in flags.chars() {
        match flag {
            'i' | 'm' | 's' => prefix.push(flag),
            'g' | 'u' | 'y' | 'd' => {}
            _ => return None,
        }
    }
    let pattern = pattern.replace("\\/", "/");
    let text = if prefix.is_empty() {
        pattern
    } else {
        format!("(?{prefix}){pattern}")
    };
    regex::Regex::new(&text).ok().map(|_| text)
}

/// A JavaScript literal as an expression literal.
fn literal(value: &Js) -> Option<String> {
    Some(match value {
        Js::Str(s) => quote(s),
        Js::Num(n) => number(n),
        Js::Bool(b) => b.to_string(),
        Js::Null | Js::Undefined => "null".into(),
        Js::Expr(e) => e.clone(),
        Js::Array(items) => {
            let items: Option<Vec<String>> = items.iter().map(literal).collect();
            format!("[{}]", items?.join(", "))
        }
        Js::Object(entries) => {
            let entries: Option<Vec<String>> = entries
                .iter()
                .map(|(k, v)| Some(format!("{}: {}", quote(k), literal(v)?)))
                .collect();
            format!("{{{}}}", entries?.join(", "))
        }
        _ => return None,
    })
}

fn number(n: &Number) -> String {
    n.to_string()
}

/// A string literal of the expression language: single quotes; a backslash is doubled only where
/// it would otherwise start an escape, so regexes stay readable (`'^\d+$'`).
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::from("'");
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let escapes = matches!(
                    chars.peek(),
                    None | Some('\\' | '\'' | '"' | 'n' | 't' | 'r' | '/' | 'u')
                );
                out.push_str(if escapes { "\\\\" } else { "\\" });
            }
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A name usable after `.` in an expression path.
fn is_word(name: &str) -> bool {
    is_identifier(name)
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        is_identifier(name).then(|| format!("${{{name}}}"))
    }

    fn tr(script: &str) -> Translation {
        translate(script, &vars)
    }

    #[test]
    fn translates_common_postman_tests() {
        let t = tr(r#"
pm.test("Status code is 200", function () {
    pm.response.to.have.status(200);
});
var jsonData = pm.response.json();
pm.test("Check body", () => {
    pm.expect(jsonData.data.items).to.be.an('array').that.is.not.empty;
    pm.expect(jsonData.name).to.eql("Ann");
    pm.expect(jsonData.user).to.have.property('id');
    pm.expect(jsonData.user).to.have.property("e-mail", 'a@b.c');
    pm.expect(jsonData.tags).to.include('new');
    pm.expect(jsonData.id).to.exist;
    pm.expect(jsonData['x-y'][0]).to.not.equal(3);
    pm.expect(pm.response.responseTime).to.be.below(500);
    pm.expect(pm.response.code).to.be.oneOf([200, 201]);
    pm.expect(jsonData.email).to.match(/^[^@]+@example\.com$/i);
    pm.expect(pm.response.headers.get('Content-Type')).to.include('json');
    pm.expect(jsonData.total).to.equal(pm.environment.get("expected"));
});
pm.response.to.be.ok;
pm.response.to.be.success;
pm.response.to.have.header("X-Request-Id");
pm.response.to.have.status("Created");
pm.environment.set("token", jsonData.token);
pm.collectionVariables.set("firstId", pm.response.json().items[0].id);
postman.setEnvironmentVariable("rid", pm.response.headers.get("X-Request-Id"));
console.log(jsonData);
tests["Status code is 200"] = responseCode.code === 200;
tests["Has name"] = responseBody.has("Ann");
pm.sendRequest("https://x", function () {});
if (jsonData.a) { pm.expect(1).to.eql(1); }
pm.expect(jsonData.a).to.be.ok;
const schema = {type: "object", required: ["id"], properties: {id: {type: "integer"}}};
const expectedName = 'Ann';
pm.test("schema", () => { pm.response.to.have.jsonSchema(schema); });
pm.expect(jsonData.name).to.eql(expectedName);
"#);
        assert_eq!(
            t.asserts,
            [
                "status == 200",
                "body.data.items is array",
                "len(body.data.items) > 0",
                "body.name == 'Ann'",
                "'id' in body.user",
                "body.user['e-mail'] == 'a@b.c'",
                "body.tags contains 'new'",
                "body.id exists",
                "body['x-y'][0] != 3",
                "response.time < 500",
                "status in [200, 201]",
                "body.email matches '(?i)^[^@]+@example\\.com$'",
                "headers['content-type'] contains 'json'",
                "body.total == ${expected}",
                "status == 200",
                "status >= 200 && status < 300",
                "headers['x-request-id'] exists",
                "status == 201",
                "status == 200",
                "string(body) contains 'Ann'",
                "body matches_schema {'type': 'object', 'required': ['id'], 'properties': {'id': {'type': 'integer'}}}",
                "body.name == 'Ann'",
            ]
        );
        assert_eq!(
            t.outputs,
            [
                ("token".to_string(), "$.token".to_string()),
                ("firstId".to_string(), "$.items[0].id".to_string()),
                (
                    "rid".to_string(),
                    "response.headers[\"x-request-id\"]".to_string()
                ),
            ]
        );
        assert_eq!(
            t.untranslated,
            [
                "pm.sendRequest(\"https://x\", function () {})",
                "if (jsonData.a) { pm.expect(1).to.eql(1); }",
                "pm.expect(jsonData.a).to.be.ok",
            ]
        );
    }

    #[test]
    fn odd_scripts_never_panic() {
        let deep = format!(
            "pm.expect({}1{}).to.eql(1)",
            "(".repeat(5000),
            ")".repeat(5000)
        );
        let long_chain = format!("tests['x'] = {}true", "true && ".repeat(5000));
        let nots = format!("pm.expect({}x).to.be.true", "!".repeat(5000));
        for script in [
            "pm.test(\"unclosed\", function () {",
            "pm.expect('unterminated",
            "}}}})));;;",
            "var x = /unterminated regex",
            "pm.expect(json.a).to.eql(`tpl ${x}`)",
            "pm.expect(\u{1F600}).to.…",
            "é = ü; ß()",
            "pm.response.to.have.status()",
            "pm.expect(pm.response.code).to.be.oneOf()",
            "pm.test()",
            "var = ;",
            "\\u{0}",
            deep.as_str(),
            long_chain.as_str(),
            nots.as_str(),
        ] {
            let t = tr(script);
            assert!(t.asserts.is_empty(), "{script}: {t:?}");
        }
    }

    #[test]
    fn quotes_strings_and_regexes_for_the_expression_language() {
        assert_eq!(quote(r"^\d+$"), r"'^\d+$'");
        assert_eq!(quote(r"a\\b"), r"'a\\\b'");
        assert_eq!(quote("it's\n"), r"'it\'s\n'");
        assert_eq!(regex_text("a(?=b)", ""), None);
        assert_eq!(regex_text("a\\/b", "gi").as_deref(), Some("(?i)a/b"));
    }
}
