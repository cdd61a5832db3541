//! Tree-walking evaluator, assertion checks and the regex / schema helpers.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use super::parser::{BinOp, Kind, Node, TypeTest};
use super::value::{Num, as_num, compare, json_num, length, loose_eq, short, text, type_name};
use super::{Env, EvalError};

thread_local! {
    static REGEX_CACHE: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

/// Compiles `pattern` (cached per thread).
pub fn regex_for(pattern: &str) -> Result<Regex, EvalError> {
    let cached = REGEX_CACHE.with(|c| c.try_borrow().ok().and_then(|c| c.get(pattern).cloned()));
    if let Some(re) = cached {
        return Ok(re);
    }
    let re = RegexBuilder::new(pattern)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| {
            let full = e.to_string();
            let detail = full
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or(full.as_str())
                .trim()
                .to_string();
            EvalError::Regex {
                message: format!("invalid regex {}: {detail}", Value::from(pattern)),
            }
        })?;
    REGEX_CACHE.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            if c.len() >= 256 {
                c.clear();
            }
            c.insert(pattern.to_string(), re.clone());
        }
    });
    Ok(re)
}

/// Validates `instance` against a JSON Schema (formats checked) and returns
/// `<instance path>: <error>` lines for every violation (empty when valid).
pub fn schema_errors(instance: &Value, schema: &Value) -> Result<Vec<String>, EvalError> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| EvalError::Schema {
            message: format!("invalid JSON schema: {e}"),
        })?;
    Ok(validator
        .iter_errors(instance)
        .take(100)
        .map(|e| {
            let path = e.instance_path().to_string();
            let path = if path.is_empty() { "/".into() } else { path };
            format!("{path}: {e}")
        })
        .collect())
}

/// A failed check before it gets the expression text attached.
pub struct Failure {
    /// Readable explanation.
    pub message: String,
    /// Actual (left) value, when known.
    pub actual: Option<Value>,
    /// Expected (right) value, when known.
    pub expected: Option<Value>,
}

impl Failure {
    fn msg(message: String) -> Self {
        Failure {
            message,
            actual: None,
            expected: None,
        }
    }
}

/// Result of one member or index step.
enum Access<'v> {
    Found(Cow<'v, Value>),
    Missing,
    Invalid(String),
}

fn member<'v>(v: &'v Value, name: &str) -> Access<'v> {
    match v {
        Value::Object(o) => match o.get(name) {
            Some(x) => Access::Found(Cow::Borrowed(x)),
            None if name == "length" => Access::Found(Cow::Owned(Value::from(o.len()))),
            None => Access::Missing,
        },
        Value::Array(_) | Value::String(_) if name == "length" => {
            Access::Found(Cow::Owned(Value::from(length(v).unwrap_or(0))))
        }
        other => Access::Invalid(format!("cannot read `.{name}` of {}", type_name(other))),
    }
}

fn index<'v>(v: &'v Value, i: &Value) -> Access<'v> {
    let int = match i.as_number().map(json_num) {
        Some(Num::Int(n)) => Some(n),
        Some(Num::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => Some(f as i64),
        _ => None,
    };
    let pos = |len: usize| -> Option<usize> {
        let n = int?;
        let len = i64::try_from(len).ok()?;
        let n = if n < 0 { n.checked_add(len)? } else { n };
        usize::try_from(n).ok()
    };
    match (v, i) {
        (Value::Array(_) | Value::String(_), Value::Number(n)) if int.is_none() => {
            Access::Invalid(format!("index must be an integer, got {n}"))
        }
        (Value::Array(a), Value::Number(_)) => match pos(a.len()).and_then(|p| a.get(p)) {
            Some(x) => Access::Found(Cow::Borrowed(x)),
            None => Access::Missing,
        },
        (Value::String(s), Value::Number(_)) => {
            match pos(s.chars().count()).and_then(|p| s.chars().nth(p)) {
                Some(c) => Access::Found(Cow::Owned(Value::from(c.to_string()))),
                None => Access::Missing,
            }
        }
        (Value::Object(o), Value::String(k)) => match o.get(k) {
            Some(x) => Access::Found(Cow::Borrowed(x)),
            None => Access::Missing,
        },
        (Value::Object(o), Value::Number(n)) => match o.get(&n.to_string()) {
            Some(x) => Access::Found(Cow::Borrowed(x)),
            None => Access::Missing,
        },
        _ => Access::Invalid(format!(
            "cannot index {} with {} {}",
            type_name(v),
            type_name(i),
            short(i)
        )),
    }
}

fn step<'a>(base: Cow<'a, Value>, f: impl for<'v> Fn(&'v Value) -> Access<'v>) -> Access<'a> {
    match base {
        Cow::Borrowed(v) => f(v),
        Cow::Owned(v) => match f(&v) {
            Access::Found(x) => Access::Found(Cow::Owned(x.into_owned())),
            Access::Missing => Access::Missing,
            Access::Invalid(m) => Access::Invalid(m),
        },
    }
}

fn type_err(message: String) -> EvalError {
    EvalError::Type { message }
}

fn want_bool(v: &Value, what: &str) -> Result<bool, EvalError> {
    v.as_bool().ok_or_else(|| {
        type_err(format!(
            "{what} needs a boolean, got {} {}",
            type_name(v),
            short(v)
        ))
    })
}

/// Evaluation context: the environment and the source (for messages).
pub struct Ctx<'a> {
    /// Where names come from.
    pub env: &'a dyn Env,
    /// The expression source.
    pub src: &'a str,
}

impl<'a> Ctx<'a> {
    /// Source text of a node.
    pub fn text(&self, n: &Node) -> String {
        self.src.chars().skip(n.offset).take(n.len).collect()
    }

    /// Resolves a path; `None` means absent. `lenient` tolerates unknown names and null bases.
    fn resolve(&self, n: &'a Node, lenient: bool) -> Result<Option<Cow<'a, Value>>, EvalError> {
        let (base, access) = match &n.kind {
            Kind::Name(name) => {
                return match self.env.get(name) {
                    Some(v) => Ok(Some(Cow::Borrowed(v))),
                    None if lenient => Ok(None),
                    None => Err(EvalError::UnknownName {
                        name: name.clone(),
                        available: self.env.names(),
                    }),
                };
            }
            Kind::Member(base, name, safe) => {
                let b = self.resolve(base, lenient || *safe)?;
                let b = match b {
                    Some(v) if !v.is_null() => v,
                    _ if lenient || *safe => return Ok(None),
                    _ => {
                        return Err(EvalError::NullAccess {
                            message: format!(
                                "cannot read `.{name}` of null (at `{}`)",
                                self.text(base)
                            ),
                        });
                    }
                };
                (base, step(b, |v| member(v, name)))
            }
            Kind::Index(base, idx) => {
                let b = self.resolve(base, lenient)?;
                let i = self.eval(idx)?;
                let b = match b {
                    Some(v) if !v.is_null() => v,
                    _ if lenient => return Ok(None),
                    _ => {
                        return Err(EvalError::NullAccess {
                            message: format!("cannot index null (at `{}`)", self.text(base)),
                        });
                    }
                };
                (base, step(b, |v| index(v, &i)))
            }
            _ => return self.eval(n).map(Some),
        };
        match access {
            Access::Found(v) => Ok(Some(v)),
            Access::Missing => Ok(None),
            Access::Invalid(_) if lenient => Ok(None),
            Access::Invalid(m) => Err(type_err(format!("{m} (at `{}`)", self.text(base)))),
        }
    }

    /// Evaluates a node.
    pub fn eval(&self, n: &'a Node) -> Result<Cow<'a, Value>, EvalError> {
        let v = match &n.kind {
            Kind::Lit(v) => return Ok(Cow::Borrowed(v)),
            Kind::Name(_) | Kind::Member(..) | Kind::Index(..) => {
                return Ok(self.resolve(n, false)?.unwrap_or(Cow::Owned(Value::Null)));
            }
            Kind::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.eval(i).map(Cow::into_owned))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Object(entries) => {
                let mut m = serde_json::Map::new();
                for (k, v) in entries {
                    m.insert(k.clone(), self.eval(v)?.into_owned());
                }
                Value::Object(m)
            }
            Kind::Call(f, args) => {
                let args = args
                    .iter()
                    .map(|a| self.eval(a))
                    .collect::<Result<Vec<_>, _>>()?;
                call(f, &args)?
            }
            Kind::Neg(x) => {
                let v = self.eval(x)?;
                match as_num(&v) {
                    Some(Num::Int(i)) => match i.checked_neg() {
                        Some(i) => Value::from(i),
                        None => Num::Float(-(i as f64)).to_value()?,
                    },
                    Some(Num::Float(f)) => Num::Float(-f).to_value()?,
                    None => {
                        return Err(type_err(format!(
                            "cannot negate {} {}",
                            type_name(&v),
                            short(&v)
                        )));
                    }
                }
            }
            Kind::Not(x) => Value::Bool(!want_bool(&*self.eval(x)?, "`not`")?),
            Kind::Binary(BinOp::And, l, r) => Value::Bool(
                want_bool(&*self.eval(l)?, "`&&`")? && want_bool(&*self.eval(r)?, "`&&`")?,
            ),
            Kind::Binary(BinOp::Or, l, r) => Value::Bool(
                want_bool(&*self.eval(l)?, "`||`")? || want_bool(&*self.eval(r)?, "`||`")?,
            ),
            Kind::Binary(BinOp::Coalesce, l, r) => {
                return match self.resolve(l, true)? {
                    Some(v) if !v.is_null() => Ok(v),
                    _ => self.eval(r),
                };
            }
            Kind::Binary(op, l, r) => binop(*op, &*self.eval(l)?, &*self.eval(r)?)?,
            Kind::Exists(x) => Value::Bool(self.resolve(x, true)?.is_some_and(|v| !v.is_null())),
            Kind::Is(x, test, negate) => {
                let v = if *test == TypeTest::Null {
                    self.resolve(x, true)?.unwrap_or(Cow::Owned(Value::Null))
                } else {
                    self.eval(x)?
                };
                let yes = match test {
                    TypeTest::Null => v.is_null(),
                    TypeTest::Number => v.is_number(),
                    TypeTest::String => v.is_string(),
                    TypeTest::Boolean => v.is_boolean(),
                    TypeTest::Array => v.is_array(),
                    TypeTest::Object => v.is_object(),
                };
                Value::Bool(yes != *negate)
            }
            Kind::Ternary(c, a, b) => {
                return if want_bool(&*self.eval(c)?, "the `?` condition")? {
                    self.eval(a)
                } else {
                    self.eval(b)
                };
            }
        };
        Ok(Cow::Owned(v))
    }

    /// Checks a node as an assertion, explaining failures.
    pub fn check(&self, n: &'a Node) -> Result<(), Box<Failure>> {
        let err = |e: EvalError| Box::new(Failure::msg(e.to_string()));
        let src = self.text(n);
        match &n.kind {
            Kind::Binary(BinOp::And, l, r) => {
                self.check(l)?;
                self.check(r)
            }
            Kind::Binary(op, l, r) if op.is_comparison() => {
                let lv = self.eval(l).map_err(err)?;
                let rv = self.eval(r).map_err(err)?;
                if binop(*op, &lv, &rv).map_err(err)? == Value::Bool(true) {
                    return Ok(());
                }
                let lt = self.text(l);
                let message = if *op == BinOp::MatchesSchema {
                    let errs = schema_errors(&lv, &rv).map_err(err)?;
                    let more = match errs.len() {
                        0..=3 => String::new(),
                        n => format!(" (and {} more)", n - 3),
                    };
                    let shown: Vec<&str> = errs.iter().take(3).map(String::as_str).collect();
                    format!(
                        "expected {src}, but {lt} does not match the schema: {}{more}",
                        shown.join("; ")
                    )
                } else if matches!(l.kind, Kind::Lit(_)) {
                    format!("expected {src}, but it is false")
                } else {
                    format!("expected {src}, but {lt} is {}", short(&lv))
                };
                Err(Box::new(Failure {
                    message,
                    actual: Some(lv.into_owned()),
                    expected: Some(rv.into_owned()),
                }))
            }
            Kind::Exists(x) => match self.resolve(x, true).map_err(err)? {
                Some(v) if !v.is_null() => Ok(()),
                found => Err(Box::new(Failure {
                    message: format!(
                        "expected {src}, but {} is {}",
                        self.text(x),
                        if found.is_some() { "null" } else { "missing" }
                    ),
                    actual: found.map(Cow::into_owned),
                    expected: None,
                })),
            },
            _ => {
                let v = self.eval(n).map_err(err)?;
                match *v {
                    Value::Bool(true) => Ok(()),
                    Value::Bool(false) => {
                        let actual = match &n.kind {
                            Kind::Is(x, ..) => Some(
                                self.resolve(x, true)
                                    .ok()
                                    .flatten()
                                    .map_or(Value::Null, Cow::into_owned),
                            ),
                            _ => None,
                        };
                        let message = match (&n.kind, &actual) {
                            (Kind::Is(x, ..), Some(a)) => {
                                format!("expected {src}, but {} is {}", self.text(x), short(a))
                            }
                            _ => format!("expected {src}, but it is false"),
                        };
                        Err(Box::new(Failure {
                            message,
                            actual,
                            expected: None,
                        }))
                    }
                    ref other => Err(Box::new(Failure::msg(format!(
                        "expression `{src}` is a {}, not a boolean",
                        type_name(other)
                    )))),
                }
            }
        }
    }
}

fn binop(op: BinOp, l: &Value, r: &Value) -> Result<Value, EvalError> {
    let b = |x: bool| Ok(Value::Bool(x));
    match op {
        BinOp::Eq => b(loose_eq(l, r)),
        BinOp::Ne => b(!loose_eq(l, r)),
        BinOp::Lt => b(compare(l, r)?.is_lt()),
        BinOp::Le => b(compare(l, r)?.is_le()),
        BinOp::Gt => b(compare(l, r)?.is_gt()),
        BinOp::Ge => b(compare(l, r)?.is_ge()),
        BinOp::Contains => b(contains(l, r)?),
        BinOp::In => b(contains(r, l)?),
        BinOp::NotIn => b(!contains(r, l)?),
        BinOp::StartsWith | BinOp::EndsWith => match (l, r) {
            (Value::String(s), Value::String(p)) => b(if op == BinOp::StartsWith {
                s.starts_with(p.as_str())
            } else {
                s.ends_with(p.as_str())
            }),
            _ => Err(type_err(format!(
                "startsWith/endsWith need two strings, got {} and {}",
                type_name(l),
                type_name(r)
            ))),
        },
        BinOp::Matches => match (l, r) {
            (Value::String(_) | Value::Number(_), Value::String(p)) => {
                b(regex_for(p)?.is_match(&text(l)))
            }
            _ => Err(type_err(format!(
                "`matches` needs a string and a regex string, got {} and {}",
                type_name(l),
                type_name(r)
            ))),
        },
        BinOp::MatchesSchema => b(schema_errors(l, r)?.is_empty()),
        BinOp::Add => add(l, r),
        BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => match (as_num(l), as_num(r)) {
            (Some(x), Some(y)) => arith(op, x, y)?.to_value(),
            _ => Err(type_err(format!(
                "{} needs numbers, got {} {} and {} {}",
                op_name(op),
                type_name(l),
                short(l),
                type_name(r),
                short(r)
            ))),
        },
        BinOp::And | BinOp::Or | BinOp::Coalesce => {
            Err(type_err("logical operator evaluated eagerly".into()))
        }
    }
}

fn op_name(op: BinOp) -> &'static str {
    match op {
        BinOp::Sub => "`-`",
        BinOp::Mul => "`*`",
        BinOp::Div => "`/`",
        BinOp::Rem => "`%`",
        _ => "`+`",
    }
}

fn add(l: &Value, r: &Value) -> Result<Value, EvalError> {
    match (l, r) {
        (Value::Array(a), Value::Array(b)) => {
            return Ok(Value::Array(a.iter().chain(b).cloned().collect()));
        }
        (Value::String(a), Value::String(b)) => return Ok(Value::from(format!("{a}{b}"))),
        _ => {}
    }
    let numeric = matches!(
        (l, r),
        (Value::Number(_), Value::Number(_) | Value::String(_))
            | (Value::String(_), Value::Number(_))
    );
    if numeric && let (Some(x), Some(y)) = (as_num(l), as_num(r)) {
        return arith(BinOp::Add, x, y)?.to_value();
    }
    if l.is_string() || r.is_string() {
        return Ok(Value::from(format!("{}{}", text(l), text(r))));
    }
    Err(type_err(format!(
        "cannot add {} {} and {} {}",
        type_name(l),
        short(l),
        type_name(r),
        short(r)
    )))
}

fn arith(op: BinOp, a: Num, b: Num) -> Result<Num, EvalError> {
    if matches!(op, BinOp::Div | BinOp::Rem) && b.as_f64() == 0.0 {
        return Err(EvalError::Arithmetic {
            message: if op == BinOp::Div {
                "division by zero".into()
            } else {
                "modulo by zero".into()
            },
        });
    }
    if let (Num::Int(x), Num::Int(y)) = (a, b) {
        let exact = match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mul => x.checked_mul(y),
            BinOp::Div if x.checked_rem(y) == Some(0) => x.checked_div(y),
            BinOp::Rem => x.checked_rem(y),
            _ => None,
        };
        if let Some(v) = exact {
            return Ok(Num::Int(v));
        }
    }
    let (x, y) = (a.as_f64(), b.as_f64());
    Ok(Num::Float(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        _ => x % y,
    }))
}

fn contains(hay: &Value, needle: &Value) -> Result<bool, EvalError> {
    match (hay, needle) {
        (Value::String(s), Value::String(n)) => Ok(s.contains(n.as_str())),
        (Value::Array(a), n) => Ok(a.iter().any(|x| loose_eq(x, n))),
        (Value::Object(o), Value::String(k)) => Ok(o.contains_key(k)),
        _ => Err(type_err(format!(
            "cannot look for {} {} in {} {}",
            type_name(needle),
            short(needle),
            type_name(hay),
            short(hay)
        ))),
    }
}

fn call(f: &str, args: &[Cow<'_, Value>]) -> Result<Value, EvalError> {
    let a = args.first().map_or(&Value::Null, |c| &**c);
    let bad = |want: &str| {
        type_err(format!(
            "{f}() needs {want}, got {} {}",
            type_name(a),
            short(a)
        ))
    };
    let to_int = |n: Num| match n {
        Num::Int(i) => Ok(i),
        Num::Float(x) if x.is_finite() && x.abs() < 9.2e18 => Ok(x.trunc() as i64),
        Num::Float(_) => Err(bad("a number in integer range")),
    };
    Ok(match f {
        "len" => Value::from(length(a).ok_or_else(|| bad("an array, string or object"))?),
        "lower" => Value::from(a.as_str().ok_or_else(|| bad("a string"))?.to_lowercase()),
        "upper" => Value::from(a.as_str().ok_or_else(|| bad("a string"))?.to_uppercase()),
        "trim" => Value::from(a.as_str().ok_or_else(|| bad("a string"))?.trim()),
        "int" => match a {
            Value::Bool(x) => Value::from(i64::from(*x)),
            _ => Value::from(to_int(as_num(a).ok_or_else(|| bad("a number"))?)?),
        },
        "float" => Num::Float(as_num(a).ok_or_else(|| bad("a number"))?.as_f64()).to_value()?,
        "string" => Value::from(text(a)),
        "abs" => match a.as_number().map(json_num) {
            Some(Num::Int(i)) => match i.checked_abs() {
                Some(i) => Value::from(i),
                None => Num::Float((i as f64).abs()).to_value()?,
            },
            Some(Num::Float(x)) => Num::Float(x.abs()).to_value()?,
            None => return Err(bad("a number")),
        },
        "keys" => Value::from(
            a.as_object()
                .ok_or_else(|| bad("an object"))?
                .keys()
                .cloned()
                .collect::<Vec<_>>(),
        ),
        "values" => Value::Array(
            a.as_object()
                .ok_or_else(|| bad("an object"))?
                .values()
                .cloned()
                .collect(),
        ),
        "type" => Value::from(type_name(a)),
        "min" | "max" => {
            let items: Vec<&Value> = match (args.len(), a) {
                (1, Value::Array(v)) => v.iter().collect(),
                _ => args.iter().map(|c| &**c).collect(),
            };
            let mut best: Option<&Value> = None;
            for x in items {
                best = Some(match best {
                    None => x,
                    Some(cur) => {
                        let ord = compare(x, cur)?;
                        if (f == "min" && ord.is_lt()) || (f == "max" && ord.is_gt()) {
                            x
                        } else {
                            cur
                        }
                    }
                });
            }
            best.cloned()
                .ok_or_else(|| type_err(format!("{f}() of an empty array")))?
        }
        "matches_schema" => {
            let schema = args.get(1).map_or(&Value::Null, |c| &**c);
            Value::Bool(schema_errors(a, schema)?.is_empty())
        }
        other => return Err(type_err(format!("unknown function `{other}`"))),
    })
}
