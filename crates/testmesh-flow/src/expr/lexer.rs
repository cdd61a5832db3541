//! Tokenizer. Offsets and lengths are counted in characters.

use super::ParseError;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Integer literal.
    Int(i64),
    /// Float literal.
    Float(f64),
    /// String literal (escapes resolved).
    Str(String),
    /// A word: identifier or keyword.
    Word(String),
    /// Punctuation or operator, e.g. `==`, `?.`, `${`.
    Op(&'static str),
    /// End of input.
    Eof,
}

/// A token with its character span.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// 0-based character offset.
    pub offset: usize,
    /// Length in characters.
    pub len: usize,
}

const OPS: [&str; 27] = [
    "${", "?.", "??", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", "{", "}", ",", ":",
    ".", "?", "+", "-", "*", "/", "%", "<", ">", "!",
];

fn err(message: impl Into<String>, offset: usize, len: usize) -> ParseError {
    ParseError {
        message: message.into(),
        offset,
        len,
    }
}

/// Splits `src` into tokens, ending with [`Tok::Eof`] placed right after the last token.
pub fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut end = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = if c.is_ascii_digit() {
            lex_number(&chars, &mut i)?
        } else if c == '\'' || c == '"' {
            lex_string(&chars, &mut i)?
        } else if c.is_ascii_alphabetic() || c == '_' {
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                i += 1;
            }
            Tok::Word(chars.get(start..i).unwrap_or_default().iter().collect())
        } else {
            // Operators are ASCII, so each of their bytes is one character.
            let at = |op: &str| {
                op.bytes()
                    .enumerate()
                    .all(|(k, b)| chars.get(i + k) == Some(&char::from(b)))
            };
            if let Some((op, fix)) = [("===", "=="), ("!==", "!=")]
                .into_iter()
                .find(|(op, _)| at(op))
            {
                return Err(err(format!("`{op}` is not an operator; use `{fix}`"), i, 3));
            }
            match OPS.iter().find(|op| at(op)) {
                Some(op) => {
                    i += op.len();
                    Tok::Op(op)
                }
                None if c == '=' => {
                    return Err(err("unexpected `=`; use `==` to compare", i, 1));
                }
                None => return Err(err(format!("unexpected character `{c}`"), i, 1)),
            }
        };
        out.push(Token {
            tok,
            offset: start,
            len: i - start,
        });
        end = i;
    }
    out.push(Token {
        tok: Tok::Eof,
        offset: end,
        len: 0,
    });
    Ok(out)
}

fn lex_number(chars: &[char], i: &mut usize) -> Result<Tok, ParseError> {
    let start = *i;
    let digit = |j: usize| chars.get(j).is_some_and(char::is_ascii_digit);
    while digit(*i) {
        *i += 1;
    }
    let mut float = false;
    if chars.get(*i) == Some(&'.') && digit(*i + 1) {
        float = true;
        *i += 1;
        while digit(*i) {
            *i += 1;
        }
    }
    if matches!(chars.get(*i), Some('e' | 'E')) {
        let sign = usize::from(matches!(chars.get(*i + 1), Some('+' | '-')));
        if digit(*i + 1 + sign) {
            float = true;
            *i += 1 + sign;
            while digit(*i) {
                *i += 1;
            }
        }
    }
    let text: String = chars.get(start..*i).unwrap_or_default().iter().collect();
    if !float && let Ok(n) = text.parse::<i64>() {
        return Ok(Tok::Int(n));
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Tok::Float(f)),
        _ => Err(err("number out of range", start, *i - start)),
    }
}

fn lex_string(chars: &[char], i: &mut usize) -> Result<Tok, ParseError> {
    let start = *i;
    let quote = chars.get(start).copied().unwrap_or('"');
    let mut s = String::new();
    *i += 1;
    loop {
        let Some(&c) = chars.get(*i) else {
            return Err(err("unterminated string", start, *i - start));
        };
        *i += 1;
        if c == quote {
            return Ok(Tok::Str(s));
        }
        if c != '\\' {
            s.push(c);
            continue;
        }
        let esc_at = *i - 1;
        let e = chars.get(*i).copied();
        *i += 1;
        match e {
            Some('n') => s.push('\n'),
            Some('t') => s.push('\t'),
            Some('r') => s.push('\r'),
            Some(c @ ('\\' | '\'' | '"' | '/')) => s.push(c),
            Some('u') => {
                let hex: String = chars.iter().skip(*i).take(4).collect();
                let ch = (hex.len() == 4 && hex.chars().all(|c| c.is_ascii_hexdigit()))
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32);
                match ch {
                    Some(ch) => {
                        s.push(ch);
                        *i += 4;
                    }
                    None => return Err(err("invalid \\u escape", esc_at, 2)),
                }
            }
            None => return Err(err("unterminated string", start, *i - 1 - start)),
            Some(c) => {
                // Unknown escapes are kept verbatim so regexes like '\d+' work.
                s.push('\\');
                s.push(c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s)
            .map(|v| v.into_iter().map(|t| t.tok).collect())
            .unwrap_or_default()
    }

    #[test]
    fn numbers_and_strings() {
        assert_eq!(
            toks("1 1.5 1e3"),
            [Tok::Int(1), Tok::Float(1.5), Tok::Float(1000.0), Tok::Eof]
        );
        assert_eq!(toks("99999999999999999999")[0], Tok::Float(1e20));
        assert_eq!(
            toks(r#"'a\'b' "\u0041\n\\\"""#),
            [Tok::Str("a'b".into()), Tok::Str("A\n\\\"".into()), Tok::Eof]
        );
        assert_eq!(toks("x.length")[1], Tok::Op("."));
        assert_eq!(toks(r"'\d\\d'")[0], Tok::Str(r"\d\d".into()));
    }

    #[test]
    fn operators_and_eof_position() -> Result<(), ParseError> {
        let t = lex("a?.b ?? c != ${d}  ")?;
        let ops: Vec<_> = t.iter().map(|t| t.tok.clone()).collect();
        assert!(ops.contains(&Tok::Op("?.")) && ops.contains(&Tok::Op("${")));
        assert_eq!(t.last().map(|t| t.offset), Some(17));
        Ok(())
    }

    #[test]
    fn lex_errors() {
        let e = |s: &str| lex(s).err().map(|e| (e.offset, e.message));
        assert_eq!(e("'abc").map(|x| x.0), Some(0));
        assert_eq!(e("a = 1").map(|x| x.0), Some(2));
        assert_eq!(e("x # 1").map(|x| x.0), Some(2));
        assert_eq!(e(r"'\u12'").map(|x| x.0), Some(1));
        assert_eq!(e("1e999").map(|x| x.0), Some(0));
        assert!(e("'\\").is_some());
    }
}
