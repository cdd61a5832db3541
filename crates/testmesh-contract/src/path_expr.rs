//! Path expressions that key matching rules (`$.a.b[*].c`, `$['x-y']`, `$.*`), and the weighting
//! the Pact reference uses to pick the most specific rule for a location in a document.
//!
//! A document location is a list of segments: `["$", "items", "2", "price"]` (array indexes are
//! decimal strings, XML attributes `@name`, XML text `#text`).

use std::fmt;

/// One step of a path expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathToken {
    /// `$`, the document root.
    Root,
    /// A named field (`.name` or `['name']`).
    Field(String),
    /// An array index (`[2]`).
    Index(usize),
    /// `.*`: any field or index.
    Star,
    /// `[*]`: any array index.
    StarIndex,
}

/// A parsed path expression, keeping the text it was written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathExpr {
    tokens: Vec<PathToken>,
    text: String,
}

impl PathExpr {
    /// Parses a body-style expression, which must start with `$`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let chars: Vec<char> = text.chars().collect();
        if chars.first() != Some(&'$') {
            return Err(format!("path expression '{text}' must start with '$'"));
        }
        let mut tokens = vec![PathToken::Root];
        let mut i = 1;
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    let start = i + 1;
                    let mut end = start;
                    while end < chars.len() && chars[end] != '.' && chars[end] != '[' {
                        end += 1;
                    }
                    if end == start {
                        return Err(format!(
                            "path expression '{text}' has an empty field name at {start}"
                        ));
                    }
                    let name: String = chars[start..end].iter().collect();
                    tokens.push(if name == "*" {
                        PathToken::Star
                    } else {
                        PathToken::Field(name)
                    });
                    i = end;
                }
                '[' => {
                    let close = chars[i..]
                        .iter()
                        .position(|c| *c == ']')
                        .map(|p| p + i)
                        .ok_or_else(|| format!("path expression '{text}' has an unclosed '['"))?;
                    let inner: String = chars[i + 1..close].iter().collect();
                    let inner = inner.trim();
                    if inner == "*" {
                        tokens.push(PathToken::StarIndex);
                    } else if let Some(quoted) = strip_quotes(inner) {
                        tokens.push(PathToken::Field(quoted.to_string()));
                    } else if let Ok(index) = inner.parse::<usize>() {
                        tokens.push(PathToken::Index(index));
                    } else {
                        return Err(format!(
                            "path expression '{text}' has an invalid index '[{inner}]'"
                        ));
                    }
                    i = close + 1;
                }
                other => {
                    return Err(format!(
                        "path expression '{text}' has an unexpected '{other}' at {i}"
                    ));
                }
            }
        }
        Ok(PathExpr {
            tokens,
            text: text.to_string(),
        })
    }

    /// The key of a header, query parameter or metadata rule: the root and one field.
    pub fn named(name: &str) -> Self {
        PathExpr {
            tokens: vec![PathToken::Root, PathToken::Field(name.to_string())],
            text: name.to_string(),
        }
    }

    /// The expression naming a document location, with `extra` appended (e.g. `$.a.*` for the
    /// children of `$.a`).
    pub fn from_location(path: &[String], extra: Option<PathToken>) -> Self {
        let mut tokens: Vec<PathToken> = path
            .iter()
            .enumerate()
            .map(|(i, segment)| {
                if i == 0 && segment == "$" {
                    PathToken::Root
                } else if let Ok(index) = segment.parse::<usize>() {
                    PathToken::Index(index)
                } else {
                    PathToken::Field(segment.clone())
                }
            })
            .collect();
        let mut text = format_location(path);
        if let Some(token) = extra {
            text.push_str(match token {
                PathToken::Star => ".*",
                PathToken::StarIndex => "[*]",
                _ => "",
            });
            tokens.push(token);
        }
        PathExpr { tokens, text }
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The parsed steps.
    pub fn tokens(&self) -> &[PathToken] {
        &self.tokens
    }

    /// The same expression with field names lower-cased (header rules are case-insensitive).
    pub fn to_lowercase(&self) -> Self {
        PathExpr {
            tokens: self
                .tokens
                .iter()
                .map(|t| match t {
                    PathToken::Field(name) => PathToken::Field(name.to_lowercase()),
                    other => other.clone(),
                })
                .collect(),
            text: self.text.clone(),
        }
    }

    /// The same expression without `[*]` steps. XML locations carry no indexes (repeated
    /// children share a location), so `$.animals[*].alligator` means `$.animals.alligator` there.
    pub fn without_star_index(&self) -> Self {
        PathExpr {
            tokens: self
                .tokens
                .iter()
                .filter(|t| **t != PathToken::StarIndex)
                .cloned()
                .collect(),
            text: self.text.clone(),
        }
    }

    /// The reference's weight of this expression for a location: the product of per-token
    /// scores (2 for an exact name or index, 1 for a wildcard, 0 for no match) over the
    /// expression's length, and that length. A weight of 0 means the rule does not apply; an
    /// expression shorter than the location applies to it as an ancestor ("cascaded").
    pub fn weight(&self, path: &[String]) -> (usize, usize) {
        if path.len() < self.tokens.len() {
            return (0, self.tokens.len());
        }
        let weight = self
            .tokens
            .iter()
            .zip(path)
            .fold(1, |acc, (token, segment)| acc * token_score(token, segment));
        (weight, self.tokens.len())
    }

    /// Whether the expression applies to the location (itself or an ancestor of it).
    pub fn matches(&self, path: &[String]) -> bool {
        self.weight(path).0 > 0
    }

    /// Whether the expression names exactly this location.
    pub fn matches_exactly(&self, path: &[String]) -> bool {
        self.tokens.len() == path.len() && self.matches(path)
    }
}

impl fmt::Display for PathExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn strip_quotes(s: &str) -> Option<&str> {
    s.strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|r| r.strip_suffix('"')))
}

fn token_score(token: &PathToken, segment: &str) -> usize {
    match token {
        PathToken::Root if segment == "$" => 2,
        PathToken::Field(name) if name == segment => 2,
        PathToken::Index(index) => match segment.parse::<usize>() {
            Ok(i) if i == *index => 2,
            _ => 0,
        },
        PathToken::StarIndex if segment.parse::<usize>().is_ok() => 1,
        PathToken::Star => 1,
        _ => 0,
    }
}

/// Renders a document location as a JSONPath-style string: `$.items[2].price`, `$['x-y']`.
pub fn format_location(path: &[String]) -> String {
    let mut out = String::new();
    for (i, segment) in path.iter().enumerate() {
        if i == 0 && segment == "$" {
            out.push('$');
        } else if !segment.is_empty() && segment.chars().all(|c| c.is_ascii_digit()) {
            out.push('[');
            out.push_str(segment);
            out.push(']');
        } else if !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '#' || c == '@')
        {
            out.push('.');
            out.push_str(segment);
        } else {
            out.push_str("['");
            out.push_str(&segment.replace('\'', "\\'"));
            out.push_str("']");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_dots_brackets_and_wildcards() {
        let expr = PathExpr::parse("$.a['x-y'][2][*].*.#text").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            expr.tokens(),
            &[
                PathToken::Root,
                PathToken::Field("a".into()),
                PathToken::Field("x-y".into()),
                PathToken::Index(2),
                PathToken::StarIndex,
                PathToken::Star,
                PathToken::Field("#text".into()),
            ]
        );
    }

    #[test]
    fn rejects_bad_expressions() {
        assert!(PathExpr::parse("a.b").is_err());
        assert!(PathExpr::parse("$.").is_err());
        assert!(PathExpr::parse("$[abc]").is_err());
        assert!(PathExpr::parse("$['a'").is_err());
    }

    #[test]
    fn weights_prefer_exact_over_wildcard() {
        let path = loc(&["$", "animals", "0", "name"]);
        let exact = PathExpr::parse("$.animals[0].name").unwrap_or_else(|e| panic!("{e}"));
        let wild = PathExpr::parse("$.animals[*].*").unwrap_or_else(|e| panic!("{e}"));
        let parent = PathExpr::parse("$.animals").unwrap_or_else(|e| panic!("{e}"));
        let (we, te) = exact.weight(&path);
        let (ww, tw) = wild.weight(&path);
        let (wp, tp) = parent.weight(&path);
        assert!(we * te > ww * tw);
        assert!(wp > 0 && tp < path.len());
        assert!(
            !PathExpr::parse("$.plants")
                .unwrap_or_else(|e| panic!("{e}"))
                .matches(&path)
        );
    }

    #[test]
    fn formats_locations() {
        assert_eq!(
            format_location(&loc(&["$", "items", "2", "price"])),
            "$.items[2].price"
        );
        assert_eq!(format_location(&loc(&["$", "x-y"])), "$['x-y']");
    }
}
