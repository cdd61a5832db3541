//! Parsing of template strings containing `${ref}` / `{{ref}}` references.

use super::path;

/// A parse error in a template string; `offset` is a byte offset into the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at byte {offset})")]
pub struct TemplateError {
    /// Human-readable description.
    pub message: String,
    /// Byte offset of the problem in the parsed string.
    pub offset: usize,
}

/// One `${…}` or `{{…}}` reference found in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The full reference text including delimiters, e.g. `${ user.id:0 }`.
    pub raw: String,
    /// Byte offset of the opening delimiter in the source string.
    pub offset: usize,
    /// Byte length of `raw`.
    pub len: usize,
    /// The root name (`user` in `user.id`).
    pub root: String,
    /// The path after the root (`id`, `[0].x`, or a `$…` JSONPath), if any.
    pub path: Option<String>,
    /// The default text after the first top-level `:`, if any (trimmed).
    pub default: Option<String>,
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text (escapes already applied).
    Literal(String),
    /// A reference to resolve.
    Ref(Reference),
}

/// A parsed template: literal text interleaved with references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

impl Template {
    /// Parses `s`. `$${` is a literal `${`; a `$` not followed by `{` is literal.
    pub fn parse(s: &str) -> Result<Template, TemplateError> {
        let bytes = s.as_bytes();
        let mut segments = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        let mut lit_start = 0;
        while i < bytes.len() {
            let rest = bytes.get(i..).unwrap_or_default();
            let (open_len, double) = if rest.starts_with(b"$${") {
                lit.push_str(s.get(lit_start..i).unwrap_or_default());
                lit.push_str("${");
                i += 3;
                lit_start = i;
                continue;
            } else if rest.starts_with(b"${") {
                (2, false)
            } else if rest.starts_with(b"{{") {
                (2, true)
            } else {
                i += 1;
                continue;
            };
            lit.push_str(s.get(lit_start..i).unwrap_or_default());
            let inner_start = i + open_len;
            let close = find_close(s, inner_start, double).ok_or_else(|| TemplateError {
                message: format!("unclosed `{}`", if double { "{{" } else { "${" }),
                offset: i,
            })?;
            let end = close + if double { 2 } else { 1 };
            let inner = s.get(inner_start..close).unwrap_or_default();
            let raw = s.get(i..end).unwrap_or_default();
            let reference = parse_reference(raw, inner, i)?;
            if !lit.is_empty() {
                segments.push(Segment::Literal(std::mem::take(&mut lit)));
            }
            segments.push(Segment::Ref(reference));
            i = end;
            lit_start = end;
        }
        lit.push_str(s.get(lit_start..).unwrap_or_default());
        if !lit.is_empty() {
            segments.push(Segment::Literal(lit));
        }
        Ok(Template { segments })
    }

    /// The literal and reference segments in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// All references, in order of appearance.
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Ref(r) => Some(r),
            Segment::Literal(_) => None,
        })
    }

    /// True when the template is exactly one reference with no surrounding text.
    pub fn is_single_reference(&self) -> bool {
        matches!(self.segments.as_slice(), [Segment::Ref(_)])
    }
}

/// Parses `s` and returns its references (for static validation).
pub fn references_in(s: &str) -> Result<Vec<Reference>, TemplateError> {
    Ok(Template::parse(s)?.references().cloned().collect())
}

/// Finds the byte index of the closing `}` (or `}}` when `double`) starting at
/// `start`. Brackets and quotes inside them are skipped before the default
/// separator; after it, the first closing delimiter wins. Falls back to the first
/// plain closing delimiter if bracket tracking finds none.
fn find_close(s: &str, start: usize, double: bool) -> Option<usize> {
    let bytes = s.as_bytes();
    let closes_at = |i: usize| !double || bytes.get(i + 1) == Some(&b'}');
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut in_default = false;
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        if let Some(q) = quote {
            if b == b'\\' {
                i += 1;
            } else if b == q {
                quote = None;
            }
        } else {
            match b {
                b'[' if !in_default => depth += 1,
                b']' if !in_default => depth = depth.saturating_sub(1),
                b'\'' | b'"' if depth > 0 && !in_default => quote = Some(b),
                b':' if depth == 0 => in_default = true,
                b'}' if (depth == 0 || in_default) && closes_at(i) => return Some(i),
                _ => {}
            }
        }
        i += 1;
    }
    let needle = if double { "}}" } else { "}" };
    s.get(start..)?.find(needle).map(|p| p + start)
}

/// Byte index of the first `:` outside brackets and quotes.
fn split_default(inner: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in inner.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '\'' | '"' if depth > 0 => quote = Some(c),
            ':' if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

fn is_root_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_root_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn parse_reference(raw: &str, inner: &str, offset: usize) -> Result<Reference, TemplateError> {
    let err = |message: String| TemplateError { message, offset };
    let inner = inner.trim();
    if inner.is_empty() {
        return Err(err(format!("empty reference `{raw}`")));
    }
    let (name, default) = match split_default(inner) {
        Some(p) => (
            inner.get(..p).unwrap_or_default().trim(),
            Some(inner.get(p + 1..).unwrap_or_default().trim().to_owned()),
        ),
        None => (inner, None),
    };
    // A default is literal text; a reference inside it would be sent as written.
    if default
        .as_deref()
        .is_some_and(|d| d.contains("${") || d.contains("{{"))
    {
        return Err(err(format!(
            "invalid reference `{raw}`: a default is literal text and cannot hold another reference"
        )));
    }
    let root_end = name.find(['.', '[']).unwrap_or(name.len());
    let root = name.get(..root_end).unwrap_or_default();
    let valid_root =
        root.chars().next().is_some_and(is_root_start) && root.chars().all(is_root_char);
    if !valid_root {
        return Err(err(format!(
            "invalid reference `{raw}`: expected a name like `step.path` or `VAR`"
        )));
    }
    let rest = name.get(root_end..).unwrap_or_default();
    let path = match rest.strip_prefix('.') {
        Some(p) => Some(p),
        None if rest.is_empty() => None,
        None => Some(rest),
    };
    if let Some(p) = path {
        path::validate(p).map_err(|m| err(format!("invalid path in `{raw}`: {m}")))?;
    }
    Ok(Reference {
        raw: raw.to_owned(),
        offset,
        len: raw.len(),
        root: root.to_owned(),
        path: path.map(str::to_owned),
        default,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn refs(s: &str) -> Vec<Reference> {
        references_in(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn both_syntaxes_and_whitespace() {
        let r = refs("a ${ user.id } b {{  name }}");
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].root.as_str(), r[0].path.as_deref()),
            ("user", Some("id"))
        );
        assert_eq!(
            (r[0].offset, r[0].len, r[0].raw.as_str()),
            (2, 12, "${ user.id }")
        );
        assert_eq!((r[1].root.as_str(), r[1].path.as_deref()), ("name", None));
        assert_eq!(r[1].raw, "{{  name }}");
    }

    #[test]
    fn literals_and_escapes() {
        let t = Template::parse("Total: $109.96 and $${HOME} $").unwrap();
        assert_eq!(
            t.segments(),
            &[Segment::Literal("Total: $109.96 and ${HOME} $".into())]
        );
        assert!(!t.is_single_reference());
        assert!(Template::parse("${x}").unwrap().is_single_reference());
        assert!(!Template::parse(" ${x}").unwrap().is_single_reference());
        assert_eq!(Template::parse("").unwrap().segments(), &[]);
    }

    #[test]
    fn defaults_split() {
        let r = refs("${A:x:y} ${s.items[0:2]:d} ${s.$.a[?@.k==\"p:q\"]} ${B:}");
        assert_eq!(
            (r[0].root.as_str(), r[0].default.as_deref()),
            ("A", Some("x:y"))
        );
        assert_eq!(
            (r[1].path.as_deref(), r[1].default.as_deref()),
            (Some("items[0:2]"), Some("d"))
        );
        assert_eq!(r[2].path.as_deref(), Some("$.a[?@.k==\"p:q\"]"));
        assert_eq!(r[2].default, None);
        assert_eq!(r[3].default.as_deref(), Some(""));
        let r = refs("{{ X : a}b }}");
        assert_eq!(r[0].default.as_deref(), Some("a}b"));
    }

    #[test]
    fn paths_and_roots() {
        let r = refs(r#"${a-b_1.x[0]["k y"].0} ${list[-1]} ${s.$.body.items[?@.id==2].name}"#);
        assert_eq!(r[0].root, "a-b_1");
        assert_eq!(r[0].path.as_deref(), Some(r#"x[0]["k y"].0"#));
        assert_eq!(
            (r[1].root.as_str(), r[1].path.as_deref()),
            ("list", Some("[-1]"))
        );
        assert_eq!(r[2].path.as_deref(), Some("$.body.items[?@.id==2].name"));
    }

    #[test]
    fn errors_with_offsets() {
        let e = Template::parse("abc ${foo").unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(e.message.contains("unclosed"));
        assert_eq!(Template::parse("x {{ y }").unwrap_err().offset, 2);
        assert_eq!(Template::parse("ab${}").unwrap_err().offset, 2);
        assert_eq!(Template::parse("{{  }}").unwrap_err().offset, 0);
        assert!(Template::parse("${1abc}").is_err());
        assert!(Template::parse("${a.}").is_err());
        assert!(Template::parse("${a b}").is_err());
        assert!(Template::parse("${s.$.[}").is_err());
    }
}
