//! Just enough JavaScript to read Postman test scripts: a tokenizer, statement splitting (with
//! automatic semicolon insertion at line ends) and a parser for the value expressions test scripts
//! use — literals, member/call/index chains, comparisons and function literals. Anything else parses
//! as [`Js::Other`], which the translator lists as untranslated.

use serde_json::Number;

/// A token with its byte range in the script.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
    /// A line break comes before this token.
    pub newline_before: bool,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Str(String),
    /// A template literal with `${…}` substitutions (never translated).
    Template,
    Num(Number),
    Regex {
        pattern: String,
        flags: String,
    },
    Punct(&'static str),
}

const PUNCTS: &[&str] = &[
    "===", "!==", "...", "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=",
    "-=", "*=", "/=", "{", "}", "(", ")", "[", "]", ";", ",", ".", ":", "?", "=", "<", ">", "+",
    "-", "*", "/", "%", "!", "&", "|", "^", "~",
];

/// Splits a script into tokens; comments are dropped. Unknown characters become `Punct("?")`-like
/// junk only in the sense that they end up in statements the translator does not recognise.
pub(crate) fn tokenize(src: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    let mut newline = false;
    while i < bytes.len() {
        let c = bytes.get(i).copied().unwrap_or(b' ');
        if c == b'\n' {
            newline = true;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let rest = src.get(i..).unwrap_or_default();
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
            continue;
        }
        if rest.starts_with("/*") {
            let end = rest
                .get(2..)
                .and_then(|r| r.find("*/"))
                .map_or(rest.len(), |p| p + 4);
            if rest.get(..end).is_some_and(|c| c.contains('\n')) {
                newline = true;
            }
            i += end;
            continue;
        }
        let start = i;
        let kind = if c == b'"' || c == b'\'' {
            let (text, len) = read_string(rest, c);
            i += len;
            Tok::Str(text)
        } else if c == b'`' {
            let (text, len) = read_string(rest, b'`');
            i += len;
            if rest.get(..len).is_some_and(|r| r.contains("${")) {
                Tok::Template
            } else {
                Tok::Str(text)
            }
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let len = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '_'))
                .unwrap_or(rest.len());
            let text = rest.get(..len).unwrap_or_default().replace('_', "");
            i += len;
            match parse_number(&text) {
                Some(n) => Tok::Num(n),
                None => Tok::Ident(text),
            }
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c >= 0x80 {
            let len = rest
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '$'))
                .unwrap_or(rest.len());
            // A non-alphanumeric character outside ASCII is a token of its own.
            let len = if len == 0 {
                rest.chars().next().map_or(1, char::len_utf8)
            } else {
                len
            };
            i += len;
            Tok::Ident(rest.get(..len).unwrap_or_default().to_string())
        } else if c == b'/' && regex_allowed(tokens.last()) {
            match read_regex(rest) {
                Some((pattern, flags, len)) => {
                    i += len;
                    Tok::Regex { pattern, flags }
                }
                None => {
                    i += 1;
                    Tok::Punct("/")
                }
            }
        } else {
            let punct = PUNCTS
                .iter()
                .find(|p| rest.starts_with(**p))
                .copied()
                .unwrap_or("#");
            i += if punct == "#" {
                rest.chars().next().map_or(1, char::len_utf8)
            } else {
                punct.len()
            };
            Tok::Punct(punct)
        };
        tokens.push(Token {
            kind,
            start,
            end: i,
            newline_before: std::mem::take(&mut newline),
        });
    }
    tokens
}

fn parse_number(text: &str) -> Option<Number> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok().map(Number::from);
    }
    if let Ok(n) = text.parse::<i64>() {
        return Some(Number::from(n));
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}

/// A `/` starts a regex unless it follows something that ends an operand.
fn regex_allowed(previous: Option<&Token>) -> bool {
    match previous.map(|t| &t.kind) {
        None => true,
        Some(Tok::Ident(word)) => matches!(word.as_str(), "return" | "typeof" | "case" | "in"),
        Some(Tok::Str(_) | Tok::Num(_) | Tok::Template | Tok::Regex { .. }) => false,
        Some(Tok::Punct(p)) => !matches!(*p, ")" | "]" | "}"),
    }
}

/// Reads a quoted string starting at `rest[0]`; returns its value and byte length.
fn read_string(rest: &str, quote: u8) -> (String, usize) {
    let mut out = String::new();
    let mut chars = rest.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c as u32 == u32::from(quote) {
            return (out, i + 1);
        }
        if c == '\\' {
            let Some((_, e)) = chars.next() else { break };
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'v' => out.push('\u{b}'),
                '0' => out.push('\0'),
                'u' => {
                    let hex: String = chars.clone().take(4).map(|(_, h)| h).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) if hex.len() == 4 => {
                            out.push(ch);
                            for _ in 0..4 {
                                chars.next();
                            }
                        }
                        _ => out.push('u'),
                    }
                }
                '\n' => {}
                other => out.push(other),
            }
            continue;
        }
        if c == '\n' && quote != b'`' {
            return (out, i);
        }
        out.push(c);
    }
    (out, rest.len())
}

/// Reads a regex literal `/pattern/flags`; `None` when the line ends first.
fn read_regex(rest: &str) -> Option<(String, String, usize)> {
    let mut in_class = false;
    let mut escaped = false;
    for (i, c) in rest.char_indices().skip(1) {
        match c {
            '\n' => return None,
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => in_class = true,
            ']' => in_class = false,
            '/' if !in_class => {
                let pattern = rest.get(1..i)?.to_string();
                let after = rest.get(i + 1..).unwrap_or_default();
                let flags_len = after
                    .find(|ch: char| !ch.is_ascii_alphabetic())
                    .unwrap_or(after.len());
                let flags = after.get(..flags_len).unwrap_or_default().to_string();
                return Some((pattern, flags, i + 1 + flags_len));
            }
            _ => {}
        }
    }
    None
}

/// Splits tokens into statements: at `;` outside brackets, and at line breaks outside brackets
/// where the statement cannot continue (JavaScript's automatic semicolon insertion, simplified).
pub(crate) fn statements(tokens: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        if i > start && depth == 0 && token.newline_before && !continues(tokens, i) {
            out.push(tokens.get(start..i).unwrap_or_default());
            start = i;
        }
        match token.kind {
            Tok::Punct("(" | "[" | "{") => depth += 1,
            Tok::Punct(")" | "]" | "}") => depth = depth.saturating_sub(1),
            Tok::Punct(";") if depth == 0 => {
                out.push(tokens.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(tokens.get(start..).unwrap_or_default());
    out.retain(|s| !s.is_empty());
    out
}

/// Whether the statement before token `i` (at a line break) continues on this line.
fn continues(tokens: &[Token], i: usize) -> bool {
    let previous = i
        .checked_sub(1)
        .and_then(|p| tokens.get(p))
        .map(|t| &t.kind);
    let next = tokens.get(i).map(|t| &t.kind);
    let operator_end = matches!(
        previous,
        Some(Tok::Punct(
            "=" | "+"
                | "-"
                | "*"
                | "/"
                | "%"
                | "&&"
                | "||"
                | "??"
                | ","
                | "("
                | "["
                | "{"
                | "."
                | "?."
                | "?"
                | ":"
                | "=>"
                | "==="
                | "!=="
                | "=="
                | "!="
                | "<"
                | ">"
                | "<="
                | ">="
        ))
    );
    let operator_start = matches!(
        next,
        Some(Tok::Punct(
            "." | "?."
                | "?"
                | ":"
                | "&&"
                | "||"
                | "??"
                | "+"
                | "*"
                | "/"
                | "%"
                | "==="
                | "!=="
                | "=="
                | "!="
                | "<"
                | ">"
                | "<="
                | ">="
                | ")"
                | "]"
                | ","
        ))
    ) || matches!(next, Some(Tok::Ident(w)) if matches!(w.as_str(), "else" | "catch" | "finally"));
    operator_end || operator_start
}

/// A parsed value expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Js {
    Str(String),
    Num(Number),
    Bool(bool),
    Null,
    Undefined,
    Array(Vec<Js>),
    Object(Vec<(String, Js)>),
    Regex {
        pattern: String,
        flags: String,
    },
    /// `root.member(args)[index]…`.
    Chain(Chain),
    /// `left op right` for comparisons and `!x` (op `!`, left `Undefined`).
    Binary(&'static str, Box<Js>, Box<Js>),
    /// A function literal; its body tokens (the statements inside the braces, or one expression).
    Function(Vec<Token>),
    /// An already translated expression (set by the translator, never by the parser).
    Expr(String),
    /// Anything this parser does not model.
    Other,
}

/// A member/call/index chain.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chain {
    pub root: String,
    pub segs: Vec<Seg>,
}

/// One link of a chain.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seg {
    Member(String),
    Call(Vec<Js>),
    Index(Js),
}

impl Chain {
    /// The leading member names (`pm.response.to.have` → `["response", "to", "have"]`), up to the
    /// first call or index.
    pub fn members(&self) -> impl Iterator<Item = &str> {
        self.segs.iter().map_while(|s| match s {
            Seg::Member(m) => Some(m.as_str()),
            _ => None,
        })
    }
}

/// Parses a whole statement as an expression; `None` when tokens are left over.
pub(crate) fn parse_expression(tokens: &[Token]) -> Option<Js> {
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let value = parser.expression()?;
    (parser.pos == tokens.len()).then_some(value)
}

/// `var|let|const NAME = EXPR` → `(NAME, EXPR)`.
pub(crate) fn parse_declaration(tokens: &[Token]) -> Option<(String, Js)> {
    let [first, name, eq, rest @ ..] = tokens else {
        return None;
    };
    match (&first.kind, &name.kind, &eq.kind) {
        (Tok::Ident(kw), Tok::Ident(name), Tok::Punct("="))
            if matches!(kw.as_str(), "var" | "let" | "const") =>
        {
            Some((name.clone(), parse_expression(rest)?))
        }
        _ => None,
    }
}

/// `NAME = EXPR` or `tests["x"] = EXPR` → (the target chain, EXPR).
pub(crate) fn parse_assignment(tokens: &[Token]) -> Option<(Js, Js)> {
    let eq = tokens.iter().position(|t| t.kind == Tok::Punct("="))?;
    let target = parse_expression(tokens.get(..eq)?)?;
    let value = parse_expression(tokens.get(eq + 1..)?)?;
    Some((target, value))
}

/// Deepest nesting of expressions the parser follows (deeper scripts are not translated).
const MAX_DEPTH: usize = 64;

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.kind)
    }

    fn eat(&mut self, punct: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(p)) if *p == punct) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expression(&mut self) -> Option<Js> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let value = self.expression_inner();
        self.depth -= 1;
        value
    }

    fn expression_inner(&mut self) -> Option<Js> {
        let left = self.unary()?;
        let op = match self.peek() {
            Some(Tok::Punct(
                op @ ("===" | "!==" | "==" | "!=" | "<" | ">" | "<=" | ">=" | "&&" | "||"),
            )) => *op,
            _ => return Some(left),
        };
        self.pos += 1;
        let right = self.expression()?;
        Some(Js::Binary(op, Box::new(left), Box::new(right)))
    }

    fn unary(&mut self) -> Option<Js> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let value = self.unary_inner();
        self.depth -= 1;
        value
    }

    fn unary_inner(&mut self) -> Option<Js> {
        if self.eat("!") {
            let operand = self.unary()?;
            return Some(Js::Binary("!", Box::new(Js::Undefined), Box::new(operand)));
        }
        if self.eat("-") {
            return match self.unary()? {
                Js::Num(n) => {
                    let negated = if let Some(i) = n.as_i64() {
                        Number::from(i.checked_neg()?)
                    } else {
                        Number::from_f64(-n.as_f64()?)?
                    };
                    Some(Js::Num(negated))
                }
                _ => Some(Js::Other),
            };
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Option<Js> {
        let primary = self.primary()?;
        let Js::Chain(mut chain) = primary else {
            return Some(primary);
        };
        loop {
            if self.eat(".") || self.eat("?.") {
                match self.peek() {
                    Some(Tok::Ident(name)) => {
                        chain.segs.push(Seg::Member(name.clone()));
                        self.pos += 1;
                    }
                    _ => return None,
                }
            } else if self.eat("(") {
                let args = self.list(")")?;
                chain.segs.push(Seg::Call(args));
            } else if self.eat("[") {
                let index = self.expression()?;
                if !self.eat("]") {
                    return None;
                }
                chain.segs.push(Seg::Index(index));
            } else {
                return Some(Js::Chain(chain));
            }
        }
    }

    /// Comma-separated expressions up to `close` (consumed); a trailing comma is allowed.
    fn list(&mut self, close: &str) -> Option<Vec<Js>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.expression()?);
            if !self.eat(",") {
                return self.eat(close).then_some(items);
            }
        }
    }

    fn primary(&mut self) -> Option<Js> {
        let token = self.tokens.get(self.pos)?;
        self.pos += 1;
        Some(match &token.kind {
            Tok::Str(s) => Js::Str(s.clone()),
            Tok::Num(n) => Js::Num(n.clone()),
            Tok::Template => Js::Other,
            Tok::Regex { pattern, flags } => Js::Regex {
                pattern: pattern.clone(),
                flags: flags.clone(),
            },
            Tok::Ident(word) => match word.as_str() {
                "true" => Js::Bool(true),
                "false" => Js::Bool(false),
                "null" => Js::Null,
                "undefined" => Js::Undefined,
                "function" => {
                    if matches!(self.peek(), Some(Tok::Ident(_))) {
                        self.pos += 1;
                    }
                    self.skip_group("(", ")")?;
                    Js::Function(self.block()?)
                }
                "async" if matches!(self.peek(), Some(Tok::Ident(w)) if w == "function") => {
                    return self.primary();
                }
                "async" if matches!(self.peek(), Some(Tok::Punct("("))) => {
                    return self.primary();
                }
                _ if matches!(self.peek(), Some(Tok::Punct("=>"))) => {
                    self.pos += 1;
                    self.arrow_body()?
                }
                _ => Js::Chain(Chain {
                    root: word.clone(),
                    segs: Vec::new(),
                }),
            },
            Tok::Punct("(") => {
                // An arrow function's parameters, or a parenthesised expression.
                let save = self.pos;
                if self.skip_group_open(")").is_some() && self.eat("=>") {
                    return self.arrow_body();
                }
                self.pos = save;
                let inner = self.expression()?;
                if !self.eat(")") {
                    return None;
                }
                inner
            }
            Tok::Punct("[") => Js::Array(self.list("]")?),
            Tok::Punct("{") => self.object()?,
            Tok::Punct(_) => return None,
        })
    }

    fn arrow_body(&mut self) -> Option<Js> {
        if matches!(self.peek(), Some(Tok::Punct("{"))) {
            return Some(Js::Function(self.block()?));
        }
        // An expression body: everything up to the end of the enclosing argument.
        let start = self.pos;
        self.expression()?;
        Some(Js::Function(self.tokens.get(start..self.pos)?.to_vec()))
    }

    /// `{ … }`: the tokens inside.
    fn block(&mut self) -> Option<Vec<Token>> {
        if !self.eat("{") {
            return None;
        }
        let start = self.pos;
        self.skip_group_open("}")?;
        Some(self.tokens.get(start..self.pos - 1)?.to_vec())
    }

    fn skip_group(&mut self, open: &str, close: &str) -> Option<()> {
        if !self.eat(open) {
            return None;
        }
        self.skip_group_open(close)
    }

    /// Skips to just after the bracket closing an already opened group.
    fn skip_group_open(&mut self, _close: &str) -> Option<()> {
        let mut depth = 1usize;
        while let Some(token) = self.tokens.get(self.pos) {
            self.pos += 1;
            match token.kind {
                Tok::Punct("(" | "[" | "{") => depth += 1,
                Tok::Punct(")" | "]" | "}") => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(());
                    }
                }
                _ => {}
            }
        }
        None
    }

    fn object(&mut self) -> Option<Js> {
        let mut entries = Vec::new();
        loop {
            if self.eat("}") {
                return Some(Js::Object(entries));
            }
            let key = match self.tokens.get(self.pos).map(|t| &t.kind) {
                Some(Tok::Ident(k) | Tok::Str(k)) => k.clone(),
                Some(Tok::Num(n)) => n.to_string(),
                _ => return None,
            };
            self.pos += 1;
            let value = if self.eat(":") {
                self.expression()?
            } else {
                // Shorthand `{ id }`.
                Js::Chain(Chain {
                    root: key.clone(),
                    segs: Vec::new(),
                })
            };
            entries.push((key, value));
            if !self.eat(",") {
                return self.eat("}").then_some(Js::Object(entries));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn stmts(src: &str) -> Vec<String> {
        let tokens = tokenize(src);
        statements(&tokens)
            .iter()
            .map(|s| {
                let (a, b) = (s[0].start, s[s.len() - 1].end);
                src[a..b].to_string()
            })
            .collect()
    }

    #[test]
    fn splits_statements_with_semicolons_and_line_ends() {
        let src = "var a = pm.response.json() // c\npm.test(\"x\", function () {\n  pm.expect(a.b)\n    .to.eql(1);\n});\nfoo(); bar()\nif (a) {\n b()\n} else {\n c()\n}\n";
        assert_eq!(
            stmts(src),
            [
                "var a = pm.response.json()",
                "pm.test(\"x\", function () {\n  pm.expect(a.b)\n    .to.eql(1);\n})",
                "foo()",
                "bar()",
                "if (a) {\n b()\n} else {\n c()\n}",
            ]
        );
    }

    #[test]
    fn parses_chains_literals_functions_and_regexes() {
        let tokens =
            tokenize("pm.expect(j.items[0]['x-y']).to.eql({a: [1, -2.5, 'q'], \"b\": null})");
        let Some(Js::Chain(chain)) = parse_expression(&tokens) else {
            panic!()
        };
        assert_eq!(chain.root, "pm");
        assert_eq!(chain.members().collect::<Vec<_>>(), ["expect"]);
        assert_eq!(chain.segs.len(), 5);
        let tokens = tokenize("pm.test('t', () => pm.response.to.be.ok)");
        let Some(Js::Chain(chain)) = parse_expression(&tokens) else {
            panic!()
        };
        let Seg::Call(args) = &chain.segs[1] else {
            panic!()
        };
        assert!(matches!(&args[1], Js::Function(body) if body.len() == 9));
        let tokens = tokenize("x.match(/^a\\/b[/]+$/i)");
        let Some(Js::Chain(chain)) = parse_expression(&tokens) else {
            panic!()
        };
        assert_eq!(
            chain.segs[1],
            Seg::Call(vec![Js::Regex {
                pattern: "^a\\/b[/]+$".into(),
                flags: "i".into()
            }])
        );
        assert_eq!(
            parse_declaration(&tokenize("const n = pm.response.json()")).map(|d| d.0),
            Some("n".to_string())
        );
        assert!(matches!(tokenize("10 / 2")[1].kind, Tok::Punct("/")));
        assert!(parse_expression(&tokenize("a b")).is_none());
    }
}
