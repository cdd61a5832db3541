//! Reading SQL text without parsing it: the statement class from the first keyword, and placeholder
//! translation between `$n`, `?` and `:name` that skips quoted text and comments.

use std::collections::HashMap;

use serde_json::Value;

/// The SQL dialect decides the output placeholder style and which quoting rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `$1`; dollar-quoted strings, `E'…'` escapes; `?` is also a JSONB operator.
    Postgres,
    /// `?` only; backslash escapes in strings, `#` comments, backtick identifiers.
    MySql,
    /// `?NNN`; backtick identifiers.
    Sqlite,
}

/// What kind of statement a query is, from its first keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatementClass {
    /// Reads rows (`SELECT`, `WITH … SELECT`, `VALUES`, `SHOW`, `EXPLAIN`, …).
    Select,
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
    /// Anything else (DDL, `SET`, …).
    Other,
}

impl StatementClass {
    /// The `query_type` reported in results.
    pub(crate) fn name(self) -> &'static str {
        match self {
            StatementClass::Select => "SELECT",
            StatementClass::Insert => "INSERT",
            StatementClass::Update => "UPDATE",
            StatementClass::Delete => "DELETE",
            StatementClass::Other => "OTHER",
        }
    }

    fn of_keyword(word: &str) -> Option<Self> {
        Some(match word.to_ascii_uppercase().as_str() {
            "SELECT" | "VALUES" | "TABLE" | "SHOW" | "EXPLAIN" | "DESCRIBE" | "DESC" | "PRAGMA" => {
                StatementClass::Select
            }
            "INSERT" | "REPLACE" => StatementClass::Insert,
            "UPDATE" => StatementClass::Update,
            "DELETE" => StatementClass::Delete,
            _ => return None,
        })
    }
}

/// A piece of SQL text: code, or a quoted string / identifier / comment kept verbatim.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Code(&'a str),
    Verbatim(&'a str),
}

/// Splits SQL into code and verbatim pieces (quotes and comments) for `dialect`.
fn pieces(sql: &str, dialect: Dialect) -> Vec<Piece<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut code_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            b'\'' => {
                let backslash = dialect == Dialect::MySql
                    || (dialect == Dialect::Postgres
                        && i > 0
                        && matches!(bytes[i - 1], b'E' | b'e')
                        && (i < 2 || !is_ident_byte(bytes[i - 2])));
                Some(quoted_end(bytes, i, b'\'', backslash))
            }
            b'"' => Some(quoted_end(bytes, i, b'"', dialect == Dialect::MySql)),
            b'`' if dialect != Dialect::Postgres => Some(quoted_end(bytes, i, b'`', false)),
            b'-' if bytes.get(i + 1) == Some(&b'-') => Some(line_end(bytes, i)),
            b'#' if dialect == Dialect::MySql => Some(line_end(bytes, i)),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                Some(block_comment_end(bytes, i, dialect == Dialect::Postgres))
            }
            b'$' if dialect == Dialect::Postgres && (i == 0 || !is_ident_byte(bytes[i - 1])) => {
                dollar_quote_end(sql, i)
            }
            _ => None,
        };
        match end {
            Some(end) => {
                if code_start < i {
                    out.push(Piece::Code(&sql[code_start..i]));
                }
                out.push(Piece::Verbatim(&sql[i..end]));
                code_start = end;
                i = end;
            }
            None => i += 1,
        }
    }
    if code_start < sql.len() {
        out.push(Piece::Code(&sql[code_start..]));
    }
    out
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// End (exclusive) of a quoted run starting at `start`; doubled quotes escape, and so does a
/// backslash when `backslash` is set. An unterminated quote runs to the end.
fn quoted_end(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if backslash && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn line_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| start + p + 1)
}

fn block_comment_end(bytes: &[u8], start: usize, nested: bool) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' && (nested || depth == 0) {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// A PostgreSQL dollar-quoted string (`$$…$$`, `$tag$…$tag$`) starting at `start`, if there is one.
fn dollar_quote_end(sql: &str, start: usize) -> Option<usize> {
    let rest = &sql[start + 1..];
    let tag_len = rest.find('$')?;
    let tag = &rest[..tag_len];
    let valid_tag = tag.is_empty()
        || (!tag.starts_with(|c: char| c.is_ascii_digit())
            && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    if !valid_tag {
        return None;
    }
    let delimiter = &sql[start..start + tag_len + 2];
    let body_start = start + delimiter.len();
    Some(
        sql[body_start..]
            .find(delimiter)
            .map_or(sql.len(), |p| body_start + p + delimiter.len()),
    )
}

/// Words of the code outside parentheses, in order.
fn top_level_words(sql: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut depth = 0usize;
    // Quoting rules do not matter for finding keywords; PostgreSQL's are the strictest superset.
    for piece in pieces(sql, Dialect::Postgres) {
        let Piece::Code(code) = piece else { continue };
        let mut word_start = None;
        for (i, c) in code
            .char_indices()
            .chain(std::iter::once((code.len(), ' ')))
        {
            if c.is_alphanumeric() || c == '_' {
                word_start.get_or_insert(i);
                continue;
            }
            if let Some(start) = word_start.take()
                && depth == 0
            {
                words.push(&code[start..i]);
            }
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    words
}

/// The class of a statement: its first keyword, or for `WITH …` the first statement keyword after
/// the common table expressions.
pub(crate) fn statement_class(sql: &str) -> StatementClass {
    let words = top_level_words(sql);
    let Some(first) = words.first() else {
        return StatementClass::Other;
    };
    if first.eq_ignore_ascii_case("WITH") {
        return words
            .iter()
            .skip(1)
            .find_map(|w| StatementClass::of_keyword(w))
            .unwrap_or(StatementClass::Other);
    }
    StatementClass::of_keyword(first).unwrap_or(StatementClass::Other)
}

/// Parameters as the step gives them.
pub(crate) enum Params<'a> {
    /// `params: [..]`, for `$n` or `?` placeholders.
    Positional(&'a [Value]),
    /// `named_params: {..}`, for `:name` placeholders.
    Named(&'a indexmap::IndexMap<String, Value>),
}

/// A query rewritten for one backend, with the values to bind in order.
#[derive(Debug, PartialEq)]
pub(crate) struct Prepared {
    /// SQL in the backend's placeholder style.
    pub sql: String,
    /// Values in bind order.
    pub values: Vec<Value>,
}

/// One placeholder found in code.
enum Placeholder<'a> {
    /// `$n` or `?n`: 1-based.
    Numbered(usize),
    /// `?`.
    Anonymous,
    /// `:name`.
    Named(&'a str),
}

/// Finds placeholders in a code piece: `(byte range, placeholder)`.
fn placeholders(code: &str, named: bool) -> Vec<(std::ops::Range<usize>, Placeholder<'_>)> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let prev = if i == 0 { None } else { Some(bytes[i - 1]) };
        let after_ident = prev.is_some_and(is_ident_byte);
        let digits = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        match bytes[i] {
            b'$' if !after_ident && digits > 0 => {
                let end = i + 1 + digits;
                if let Ok(n) = code[i + 1..end].parse() {
                    found.push((i..end, Placeholder::Numbered(n)));
                }
                i = end;
            }
            // `?|` and `?&` are PostgreSQL JSONB operators, never placeholders.
            b'?' if !matches!(bytes.get(i + 1), Some(b'|' | b'&')) => {
                if digits > 0 {
                    let end = i + 1 + digits;
                    if let Ok(n) = code[i + 1..end].parse() {
                        found.push((i..end, Placeholder::Numbered(n)));
                    }
                    i = end;
                } else {
                    found.push((i..i + 1, Placeholder::Anonymous));
                    i += 1;
                }
            }
            b':' if named && prev != Some(b':') && !after_ident => {
                let name_len = bytes[i + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                let starts_well = bytes
                    .get(i + 1)
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
                if starts_well && bytes.get(i + 1) != Some(&b':') {
                    let end = i + 1 + name_len;
                    found.push((i..end, Placeholder::Named(&code[i + 1..end])));
                    i = end;
                } else {
                    i += 1 + usize::from(bytes.get(i + 1) == Some(&b':'));
                }
            }
            _ => i += 1,
        }
    }
    found
}

/// Rewrites placeholders for `dialect` and orders the values to bind.
///
/// Without parameters the query is left untouched. On PostgreSQL, `?` is read as a placeholder only
/// when the query has no `$n` (so JSONB's `?` operator keeps working next to `$n` placeholders).
pub(crate) fn prepare(sql: &str, dialect: Dialect, params: Params<'_>) -> Result<Prepared, String> {
    let (named, count) = match &params {
        Params::Positional(values) => (false, values.len()),
        Params::Named(map) => (true, map.len()),
    };
    if count == 0 {
        return Ok(Prepared {
            sql: sql.to_string(),
            values: Vec::new(),
        });
    }
    let pieces = pieces(sql, dialect);
    let found: Vec<_> = pieces
        .iter()
        .map(|piece| match piece {
            Piece::Code(code) => placeholders(code, named),
            Piece::Verbatim(_) => Vec::new(),
        })
        .collect();
    let any_numbered = found
        .iter()
        .flatten()
        .any(|(_, p)| matches!(p, Placeholder::Numbered(_)));
    let skip_anonymous = named || (dialect == Dialect::Postgres && any_numbered);

    // Each occurrence refers to a 1-based value index.
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut order: Vec<Value> = Vec::new();
    let mut named_values: Vec<Value> = Vec::new();
    let mut next_anonymous = 0usize;
    let mut used = vec![false; count];
    let mut out = String::with_capacity(sql.len() + 8);
    for (piece, found) in pieces.iter().zip(&found) {
        let text = match piece {
            Piece::Code(t) | Piece::Verbatim(t) => *t,
        };
        let mut last = 0;
        for (range, placeholder) in found {
            let index = match placeholder {
                Placeholder::Anonymous if skip_anonymous => continue,
                Placeholder::Named(name) => {
                    let Params::Named(map) = &params else {
                        continue;
                    };
                    match names.get(name) {
                        Some(index) => *index,
                        None => {
                            let value = map.get(*name).ok_or_else(|| {
                                format!("the query uses :{name} but named_params has no `{name}`")
                            })?;
                            named_values.push(value.clone());
                            names.insert(name, named_values.len());
                            named_values.len()
                        }
                    }
                }
                _ if named => {
                    return Err(
                        "use `:name` placeholders with named_params, not `$n` or `?`".into(),
                    );
                }
                Placeholder::Anonymous => {
                    next_anonymous += 1;
                    next_anonymous
                }
                Placeholder::Numbered(n) => *n,
            };
            if index == 0 || (!named && index > count) {
                return Err(format!(
                    "the query uses parameter {index} but params has {count} value(s)"
                ));
            }
            if let Some(flag) = used.get_mut(index - 1) {
                *flag = true;
            }
            out.push_str(&text[last..range.start]);
            match dialect {
                Dialect::Postgres => out.push_str(&format!("${index}")),
                Dialect::Sqlite => out.push_str(&format!("?{index}")),
                Dialect::MySql => out.push('?'),
            }
            let values_source: &[Value] = match &params {
                Params::Positional(values) => values,
                Params::Named(_) => &named_values,
            };
            if dialect == Dialect::MySql
                && let Some(value) = values_source.get(index - 1)
            {
                order.push(value.clone());
            }
            last = range.end;
        }
        out.push_str(&text[last..]);
    }
    if let Params::Named(map) = &params {
        if let Some(unused) = map.keys().find(|k| !names.contains_key(k.as_str())) {
            return Err(format!(
                "named_params has `{unused}` but the query has no :{unused}"
            ));
        }
    } else if let Some(unused) = used.iter().position(|u| !u) {
        return Err(format!(
            "params has {count} value(s) but the query never uses parameter {}",
            unused + 1
        ));
    }
    let values = match (dialect, params) {
        (Dialect::MySql, _) => order,
        (_, Params::Positional(values)) => values.to_vec(),
        (_, Params::Named(_)) => named_values,
    };
    Ok(Prepared { sql: out, values })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn positional(sql: &str, dialect: Dialect, values: &[Value]) -> Result<Prepared, String> {
        prepare(sql, dialect, Params::Positional(values))
    }

    #[test]
    fn classes() {
        assert_eq!(statement_class("  select 1"), StatementClass::Select);
        assert_eq!(
            statement_class("-- hi\n/* c */ INSERT INTO t VALUES (1)"),
            StatementClass::Insert
        );
        assert_eq!(
            statement_class(
                "WITH x AS (SELECT 1), y(a) AS (DELETE FROM t RETURNING a) SELECT * FROM x"
            ),
            StatementClass::Select
        );
        assert_eq!(
            statement_class("with x as (select 1) update t set a = 1"),
            StatementClass::Update
        );
        assert_eq!(
            statement_class("CREATE TABLE t (a int)"),
            StatementClass::Other
        );
        assert_eq!(statement_class(""), StatementClass::Other);
        assert_eq!(statement_class("(SELECT 1)"), StatementClass::Other);
    }

    #[test]
    fn question_marks_become_numbered_on_postgres() {
        let p = positional(
            "SELECT * FROM t WHERE a = ? AND b = '?' AND c = ? -- ?\n",
            Dialect::Postgres,
            &[json!(1), json!(2)],
        )
        .unwrap();
        assert_eq!(
            p.sql,
            "SELECT * FROM t WHERE a = $1 AND b = '?' AND c = $2 -- ?\n"
        );
    }

    #[test]
    fn numbered_become_question_marks_on_mysql_in_use_order() {
        let p = positional(
            "SELECT $2, \"$1\", $1, `x$1`, $2",
            Dialect::MySql,
            &[json!("a"), json!("b")],
        )
        .unwrap();
        assert_eq!(p.sql, "SELECT ?, \"$1\", ?, `x$1`, ?");
        assert_eq!(p.values, vec![json!("b"), json!("a"), json!("b")]);
    }

    #[test]
    fn sqlite_uses_explicit_indexes() {
        let p = positional("SELECT ?, $2, ?", Dialect::Sqlite, &[json!(1), json!(2)]).unwrap();
        assert_eq!(p.sql, "SELECT ?1, ?2, ?2");
    }

    #[test]
    fn postgres_keeps_jsonb_operators_and_dollar_quotes() {
        let p = positional(
            "SELECT data ? 'k', data ?| array['a'], $$ $1 ? $$ FROM t WHERE id = $1",
            Dialect::Postgres,
            &[json!(1)],
        )
        .unwrap();
        assert_eq!(
            p.sql,
            "SELECT data ? 'k', data ?| array['a'], $$ $1 ? $$ FROM t WHERE id = $1"
        );
        let escaped = positional("SELECT E'\\'?', ?", Dialect::Postgres, &[json!(1)]).unwrap();
        assert_eq!(escaped.sql, "SELECT E'\\'?', $1");
    }

    #[test]
    fn named_parameters_skip_casts() {
        let map: indexmap::IndexMap<String, Value> =
            [("id".to_string(), json!(7)), ("n".to_string(), json!("x"))]
                .into_iter()
                .collect();
        let p = prepare(
            "SELECT :id::text, ':n', :n, :id FROM t",
            Dialect::Postgres,
            Params::Named(&map),
        )
        .unwrap();
        assert_eq!(p.sql, "SELECT $1::text, ':n', $2, $1 FROM t");
        assert_eq!(p.values, vec![json!(7), json!("x")]);
        let mysql = prepare("SELECT :id, :n, :id", Dialect::MySql, Params::Named(&map)).unwrap();
        assert_eq!(mysql.sql, "SELECT ?, ?, ?");
        assert_eq!(mysql.values, vec![json!(7), json!("x"), json!(7)]);
    }

    #[test]
    fn mismatches_are_errors() {
        assert!(positional("SELECT $2", Dialect::Postgres, &[json!(1)]).is_err());
        assert!(positional("SELECT 1", Dialect::Postgres, &[json!(1)]).is_err());
        let map: indexmap::IndexMap<String, Value> =
            [("a".to_string(), json!(1))].into_iter().collect();
        assert!(prepare("SELECT :b", Dialect::Sqlite, Params::Named(&map)).is_err());
        assert!(prepare("SELECT 1", Dialect::Sqlite, Params::Named(&map)).is_err());
        assert!(prepare("SELECT $1", Dialect::Sqlite, Params::Named(&map)).is_err());
    }

    #[test]
    fn no_params_leaves_text_alone() {
        let p = positional("SELECT '?' , ?", Dialect::MySql, &[]).unwrap();
        assert_eq!(p.sql, "SELECT '?' , ?");
    }

    #[test]
    fn odd_text_does_not_panic() {
        for sql in [
            "'", "$", "$$", "/*", "-- x", "$a", "?", ":", "::", "é?é", "$1é", "\"", "`",
        ] {
            let _ = positional(sql, Dialect::Postgres, &[json!(1)]);
            let _ = positional(sql, Dialect::MySql, &[json!(1)]);
            let _ = statement_class(sql);
        }
    }
}
