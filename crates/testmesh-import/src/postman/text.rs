//! Text written into flow strings, shared by the Postman and HAR importers: literal text must not
//! read as a `${…}`/`{{…}}` reference, and Postman's `{{var}}` placeholders become references.

/// A piece of a string being written into a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Text sent as written.
    Text(String),
    /// A reference, written as is (`${BASE_URL}`, `${login.token}`).
    Ref(String),
}

/// The flow string for `parts`. Literal `${` is written `$${`; a literal `{{` (which has no escape)
/// and a literal `$` right before a reference get a space, and `altered` is set so the caller can
/// say so.
pub(crate) fn render(parts: &[Part], altered: &mut bool) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(text) => {
                for c in text.chars() {
                    if c == '{' && out.ends_with('{') && !out.ends_with("${") {
                        out.push(' ');
                        *altered = true;
                    }
                    if c == '{' && out.ends_with('$') {
                        // `${` in the text: a literal `${` is `$${`.
                        out.push('$');
                    }
                    out.push(c);
                }
            }
            Part::Ref(reference) => {
                if out.ends_with('$') || (out.ends_with('{') && reference.starts_with('{')) {
                    out.push(' ');
                    *altered = true;
                }
                out.push_str(reference);
            }
        }
    }
    out
}

/// A piece of a Postman string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    /// `{{name}}`: the name, trimmed.
    Var(&'a str),
}

/// Splits a Postman string into text and `{{name}}` placeholders (a name is anything without
/// braces, as Postman reads them).
pub(crate) fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut pending = 0; // bytes of `rest` already known to be text
    while let Some(open) = rest.get(pending..).and_then(|r| r.find("{{")) {
        let open = pending + open;
        let after = rest.get(open + 2..).unwrap_or_default();
        let Some(close) = after.find("}}") else { break };
        let name = after.get(..close).unwrap_or_default();
        if name.trim().is_empty() || name.contains(['{', '}']) {
            pending = open + 1;
            continue;
        }
        if open > 0 {
            out.push(Piece::Text(rest.get(..open).unwrap_or_default()));
        }
        out.push(Piece::Var(name.trim()));
        rest = after.get(close + 2..).unwrap_or_default();
        pending = 0;
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// Whether a Postman string holds any `{{name}}` placeholder.
pub(crate) fn has_vars(text: &str) -> bool {
    pieces(text).iter().any(|p| matches!(p, Piece::Var(_)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn splits_postman_placeholders() {
        assert_eq!(
            pieces("{{base}}/u/{{ id }}?x={{{a}}}&y={{}}"),
            [
                Piece::Var("base"),
                Piece::Text("/u/"),
                Piece::Var("id"),
                Piece::Text("?x={"),
                Piece::Var("a"),
                Piece::Text("}&y={{}}"),
            ]
        );
        assert_eq!(pieces("plain"), [Piece::Text("plain")]);
        assert!(!has_vars("a {{ } b"));
    }

    fn literal(text: &str, altered: &mut bool) -> String {
        render(&[Part::Text(text.to_string())], altered)
    }

    #[test]
    fn renders_literals_that_never_read_as_references() {
        let mut altered = false;
        assert_eq!(
            literal("cost: $5, tpl ${x} $${y}", &mut altered),
            "cost: $5, tpl $${x} $$${y}"
        );
        assert!(!altered);
        assert_eq!(literal("a {{b}}", &mut altered), "a { {b}}");
        assert!(altered);
        let mut altered = false;
        let parts = [Part::Text("$".into()), Part::Ref("${p}".into())];
        assert_eq!(render(&parts, &mut altered), "$ ${p}");
        assert!(altered);
        for text in ["a { {b}}", "$${x}", "$$${y}", "$ ${p}"] {
            assert!(
                testmesh_flow::interpolate::references_in(text).is_ok(),
                "{text}"
            );
        }
    }
}
