//! Recursive-descent parser producing the [`Node`] tree.

use serde_json::Value;

use super::ParseError;
use super::eval::regex_for;
use super::lexer::{Tok, Token, lex};

/// Deepest allowed nesting (parentheses, operator chains, member chains).
pub const MAX_DEPTH: usize = 64;

/// Words that cannot be used as names (any word is fine after `.`).
const KEYWORDS: &str = "and or not in contains matches exists is null nil true false \
    startsWith endsWith starts_with ends_with matches_schema";

/// Built-in functions with their minimum and maximum argument counts.
pub const FUNCTIONS: [(&str, usize, usize); 14] = [
    ("len", 1, 1),
    ("lower", 1, 1),
    ("upper", 1, 1),
    ("trim", 1, 1),
    ("int", 1, 1),
    ("float", 1, 1),
    ("string", 1, 1),
    ("abs", 1, 1),
    ("keys", 1, 1),
    ("values", 1, 1),
    ("type", 1, 1),
    ("min", 1, usize::MAX),
    ("max", 1, usize::MAX),
    ("matches_schema", 2, 2),
];

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `??`
    Coalesce,
    /// `||` / `or`
    Or,
    /// `&&` / `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `contains`
    Contains,
    /// `startsWith` / `starts_with`
    StartsWith,
    /// `endsWith` / `ends_with`
    EndsWith,
    /// `matches`
    Matches,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `matches_schema`
    MatchesSchema,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinOp {
    /// True for comparisons and infix predicates (the ones `check` explains).
    pub fn is_comparison(self) -> bool {
        !matches!(
            self,
            BinOp::Coalesce
                | BinOp::Or
                | BinOp::And
                | BinOp::Add
                | BinOp::Sub
                | BinOp::Mul
                | BinOp::Div
                | BinOp::Rem
        )
    }
}

/// Type tests for `is` / `is not`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeTest {
    /// `null`
    Null,
    /// `number`
    Number,
    /// `string`
    String,
    /// `boolean` / `bool`
    Boolean,
    /// `array` / `list`
    Array,
    /// `object` / `map`
    Object,
}

/// Node kinds.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A literal value.
    Lit(Value),
    /// A top-level name.
    Name(String),
    /// `obj.name` or `obj?.name` (`safe`).
    Member(Box<Node>, String, bool),
    /// `obj[index]`.
    Index(Box<Node>, Box<Node>),
    /// A built-in function call.
    Call(&'static str, Vec<Node>),
    /// `[a, b]`.
    Array(Vec<Node>),
    /// `{k: v}`.
    Object(Vec<(String, Node)>),
    /// `-x`.
    Neg(Box<Node>),
    /// `!x` / `not x`.
    Not(Box<Node>),
    /// Binary operator.
    Binary(BinOp, Box<Node>, Box<Node>),
    /// `x exists`.
    Exists(Box<Node>),
    /// `x is [not] type`; the bool is `true` for `is not`.
    Is(Box<Node>, TypeTest, bool),
    /// `c ? a : b`.
    Ternary(Box<Node>, Box<Node>, Box<Node>),
}

/// An AST node with its character span in the source.
#[derive(Debug, Clone)]
pub struct Node {
    /// What it is.
    pub kind: Kind,
    /// 0-based character offset.
    pub offset: usize,
    /// Length in characters.
    pub len: usize,
    /// Height of the subtree (1 for leaves).
    pub depth: usize,
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    nesting: usize,
}

fn perr(message: impl Into<String>, t: &Token) -> ParseError {
    ParseError {
        message: message.into(),
        offset: t.offset,
        len: t.len,
    }
}

/// Parses a whole expression.
pub fn parse_node(src: &str) -> Result<Node, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        nesting: 0,
    };
    let node = p.expr()?;
    let t = p.peek();
    if t.tok != Tok::Eof {
        return Err(perr(format!("unexpected {}", describe(&t.tok)), t));
    }
    Ok(node)
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Int(n) => format!("number {n}"),
        Tok::Float(f) => format!("number {f}"),
        Tok::Str(s) => format!("string {}", Value::from(s.as_str())),
        Tok::Word(w) => format!("`{w}`"),
        Tok::Op(o) => format!("`{o}`"),
        Tok::Eof => "end of expression".into(),
    }
}

/// The direct children of a node kind.
pub fn children(kind: &Kind) -> Vec<&Node> {
    match kind {
        Kind::Lit(_) | Kind::Name(_) => Vec::new(),
        Kind::Member(c, ..) | Kind::Neg(c) | Kind::Not(c) | Kind::Exists(c) | Kind::Is(c, ..) => {
            vec![c]
        }
        Kind::Index(a, b) | Kind::Binary(_, a, b) => vec![a, b],
        Kind::Ternary(a, b, c) => vec![a, b, c],
        Kind::Call(_, v) | Kind::Array(v) => v.iter().collect(),
        Kind::Object(v) => v.iter().map(|(_, n)| n).collect(),
    }
}

/// Builds a node spanning `offset..end`, rejecting trees deeper than [`MAX_DEPTH`].
/// Returned by [`Parser::peek`] past the end.
static EOF: Token = Token {
    tok: Tok::Eof,
    offset: 0,
    len: 0,
};

fn make(kind: Kind, offset: usize, end: usize) -> Result<Node, ParseError> {
    let depth = 1 + children(&kind).iter().map(|c| c.depth).max().unwrap_or(0);
    let len = end.saturating_sub(offset);
    if depth > MAX_DEPTH {
        return Err(ParseError {
            message: format!("expression is nested too deeply (limit {MAX_DEPTH})"),
            offset,
            len,
        });
    }
    Ok(Node {
        kind,
        offset,
        len,
        depth,
    })
}

fn end_of(n: &Node) -> usize {
    n.offset + n.len
}

fn binary(op: BinOp, l: Node, r: Node) -> Result<Node, ParseError> {
    let (o, e) = (l.offset, end_of(&r));
    make(Kind::Binary(op, Box::new(l), Box::new(r)), o, e)
}

impl Parser {
    /// The current token, without copying it (parsing looks ahead far more often than it consumes).
    fn peek(&self) -> &Token {
        self.toks.get(self.pos).unwrap_or(&EOF)
    }

    fn peek_at(&self, k: usize) -> &Tok {
        self.toks.get(self.pos + k).map_or(&Tok::Eof, |t| &t.tok)
    }

    /// Consumes the current token, moving it out (a consumed token is never read again, except
    /// for its position).
    fn next(&mut self) -> Token {
        match self.toks.get_mut(self.pos) {
            Some(t) if t.tok != Tok::Eof => {
                self.pos += 1;
                Token {
                    tok: std::mem::replace(&mut t.tok, Tok::Op("")),
                    offset: t.offset,
                    len: t.len,
                }
            }
            Some(t) => t.clone(),
            None => EOF.clone(),
        }
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek().tok, Tok::Op(o) if o == op)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(&self.peek().tok, Tok::Word(x) if x == w)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        let yes = self.is_op(op);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_op(&mut self, op: &str, what: &str) -> Result<Token, ParseError> {
        let t = self.peek().clone();
        if self.eat_op(op) {
            return Ok(t);
        }
        Err(perr(
            format!("expected `{op}` {what}, found {}", describe(&t.tok)),
            &t,
        ))
    }

    /// Guards recursion so deeply nested input cannot overflow the stack.
    fn enter(&mut self) -> Result<(), ParseError> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            let t = self.peek().clone();
            return Err(perr(
                format!("expression is nested too deeply (limit {MAX_DEPTH})"),
                &t,
            ));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Node, ParseError> {
        self.enter()?;
        let r = self.ternary();
        self.nesting -= 1;
        r
    }

    fn ternary(&mut self) -> Result<Node, ParseError> {
        let cond = self.coalesce()?;
        if !self.eat_op("?") {
            return Ok(cond);
        }
        let then = self.expr()?;
        self.expect_op(":", "in `cond ? a : b`")?;
        let other = self.expr()?;
        let (o, e) = (cond.offset, end_of(&other));
        make(
            Kind::Ternary(Box::new(cond), Box::new(then), Box::new(other)),
            o,
            e,
        )
    }

    /// Parses `next (op next)*` left-associatively; `ops` maps operator or keyword text to [`BinOp`].
    fn chain(
        &mut self,
        next: fn(&mut Self) -> Result<Node, ParseError>,
        ops: &[(&str, BinOp)],
    ) -> Result<Node, ParseError> {
        let mut l = next(self)?;
        loop {
            let found = ops.iter().find(|(text, _)| match &self.peek().tok {
                Tok::Op(o) => o == text,
                Tok::Word(w) => w == text,
                _ => false,
            });
            let Some(&(_, op)) = found else {
                return Ok(l);
            };
            self.pos += 1;
            let r = next(self)?;
            l = binary(op, l, r)?;
        }
    }

    fn coalesce(&mut self) -> Result<Node, ParseError> {
        self.chain(Self::or, &[("??", BinOp::Coalesce)])
    }

    fn or(&mut self) -> Result<Node, ParseError> {
        self.chain(Self::and, &[("||", BinOp::Or), ("or", BinOp::Or)])
    }

    fn and(&mut self) -> Result<Node, ParseError> {
        self.chain(Self::comparison, &[("&&", BinOp::And), ("and", BinOp::And)])
    }

    fn eat_word(&mut self, w: &str) -> bool {
        let yes = self.is_word(w);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn comparison_op(&self) -> Option<(BinOp, usize)> {
        let op = match &self.peek().tok {
            Tok::Op("==") => BinOp::Eq,
            Tok::Op("!=") => BinOp::Ne,
            Tok::Op("<") => BinOp::Lt,
            Tok::Op("<=") => BinOp::Le,
            Tok::Op(">") => BinOp::Gt,
            Tok::Op(">=") => BinOp::Ge,
            Tok::Word(w) => match w.as_str() {
                "contains" => BinOp::Contains,
                "startsWith" | "starts_with" => BinOp::StartsWith,
                "endsWith" | "ends_with" => BinOp::EndsWith,
                "matches" => BinOp::Matches,
                "in" => BinOp::In,
                "matches_schema" => BinOp::MatchesSchema,
                "not" if matches!(self.peek_at(1), Tok::Word(w) if w == "in") => {
                    return Some((BinOp::NotIn, 2));
                }
                _ => return None,
            },
            _ => return None,
        };
        Some((op, 1))
    }

    fn comparison(&mut self) -> Result<Node, ParseError> {
        let l = self.predicate()?;
        let Some((op, n)) = self.comparison_op() else {
            return Ok(l);
        };
        self.pos += n;
        let r = self.predicate()?;
        if op == BinOp::Matches
            && let Kind::Lit(Value::String(re)) = &r.kind
            && let Err(e) = regex_for(re)
        {
            return Err(ParseError {
                message: e.to_string(),
                offset: r.offset,
                len: r.len,
            });
        }
        if self.comparison_op().is_some() {
            let t = self.peek().clone();
            return Err(perr(
                "comparisons cannot be chained; combine them with `&&`",
                &t,
            ));
        }
        binary(op, l, r)
    }

    fn predicate(&mut self) -> Result<Node, ParseError> {
        let mut x = self.additive()?;
        loop {
            let offset = x.offset;
            let word_end = end_of_tok(self.peek());
            let (kind, end) = if self.eat_word("exists") {
                (Kind::Exists(Box::new(x)), word_end)
            } else if self.eat_word("is") {
                let negate = self.eat_word("not");
                let ty = self.next();
                let test = match &ty.tok {
                    Tok::Word(w) => match w.as_str() {
                        "null" | "nil" => Some(TypeTest::Null),
                        "number" => Some(TypeTest::Number),
                        "string" => Some(TypeTest::String),
                        "boolean" | "bool" => Some(TypeTest::Boolean),
                        "array" | "list" => Some(TypeTest::Array),
                        "object" | "map" => Some(TypeTest::Object),
                        _ => None,
                    },
                    _ => None,
                };
                let Some(test) = test else {
                    return Err(perr(
                        format!(
                            "expected a type after `is` (null, number, string, boolean, array, object), found {}",
                            describe(&ty.tok)
                        ),
                        &ty,
                    ));
                };
                (Kind::Is(Box::new(x), test, negate), ty.offset + ty.len)
            } else {
                return Ok(x);
            };
            x = make(kind, offset, end)?;
        }
    }

    fn additive(&mut self) -> Result<Node, ParseError> {
        self.chain(
            Self::multiplicative,
            &[("+", BinOp::Add), ("-", BinOp::Sub)],
        )
    }

    fn multiplicative(&mut self) -> Result<Node, ParseError> {
        let ops = [("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem)];
        self.chain(Self::unary, &ops)
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        let start = self.peek().offset;
        let neg = self.is_op("-");
        if neg
            || self.is_op("!")
            || (self.is_word("not") && !matches!(self.peek_at(1), Tok::Word(w) if w == "in"))
        {
            self.pos += 1;
            self.enter()?;
            let inner = self.unary();
            self.nesting -= 1;
            let inner = inner?;
            let end = end_of(&inner);
            let kind = if neg {
                Kind::Neg(Box::new(inner))
            } else {
                Kind::Not(Box::new(inner))
            };
            return make(kind, start, end);
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Node, ParseError> {
        let mut x = self.primary()?;
        loop {
            let offset = x.offset;
            if self.is_op(".") || self.is_op("?.") {
                let safe = self.is_op("?.");
                self.pos += 1;
                let name = self.next();
                let end = end_of_tok(&name);
                let w = match name.tok {
                    Tok::Word(w) => w,
                    other => {
                        return Err(ParseError {
                            message: format!("expected a member name, found {}", describe(&other)),
                            offset: name.offset,
                            len: name.len,
                        });
                    }
                };
                x = make(Kind::Member(Box::new(x), w, safe), offset, end)?;
            } else if self.eat_op("[") {
                let idx = self.expr()?;
                let close = self.expect_op("]", "to close the index")?;
                x = make(
                    Kind::Index(Box::new(x), Box::new(idx)),
                    offset,
                    end_of_tok(&close),
                )?;
            } else {
                return Ok(x);
            }
        }
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        let t = self.next();
        let lit = |v: Value| make(Kind::Lit(v), t.offset, end_of_tok(&t));
        match &t.tok {
            Tok::Int(n) => lit(Value::from(*n)),
            Tok::Float(f) => lit(Value::from(*f)),
            Tok::Str(s) => lit(Value::from(s.as_str())),
            Tok::Word(w) if self.is_op("(") => self.call(w, &t),
            Tok::Word(w) => match w.as_str() {
                "true" => lit(Value::Bool(true)),
                "false" => lit(Value::Bool(false)),
                "null" | "nil" => lit(Value::Null),
                w if KEYWORDS.split_whitespace().any(|k| k == w) => Err(perr(
                    format!("unexpected keyword `{w}` where a value was expected"),
                    &t,
                )),
                w => make(Kind::Name(w.to_string()), t.offset, end_of_tok(&t)),
            },
            Tok::Op("(") => {
                let inner = self.expr()?;
                self.expect_op(")", "to close `(`")?;
                Ok(inner)
            }
            Tok::Op("${") => {
                let inner = self.expr()?;
                self.expect_op("}", "to close `${`")?;
                Ok(inner)
            }
            Tok::Op("[") => {
                let items = self.list("]", |p| p.expr())?;
                let end = self
                    .toks
                    .get(self.pos.saturating_sub(1))
                    .map_or(0, end_of_tok);
                make(Kind::Array(items), t.offset, end)
            }
            Tok::Op("{") => {
                let entries = self.list("}", |p| {
                    let k = p.next();
                    let key = match &k.tok {
                        Tok::Word(w) => w.clone(),
                        Tok::Str(s) => s.clone(),
                        other => {
                            return Err(perr(
                                format!("expected an object key, found {}", describe(other)),
                                &k,
                            ));
                        }
                    };
                    p.expect_op(":", "after an object key")?;
                    Ok((key, p.expr()?))
                })?;
                let end = self
                    .toks
                    .get(self.pos.saturating_sub(1))
                    .map_or(0, end_of_tok);
                make(Kind::Object(entries), t.offset, end)
            }
            Tok::Eof => Err(perr("expected an expression, found end of expression", &t)),
            other => Err(perr(
                format!("expected an expression, found {}", describe(other)),
                &t,
            )),
        }
    }

    /// Parses `item, item, ...` up to `close` (already past the opener); allows a trailing comma.
    fn list<T>(
        &mut self,
        close: &str,
        mut item: impl FnMut(&mut Self) -> Result<T, ParseError>,
    ) -> Result<Vec<T>, ParseError> {
        self.enter()?;
        let mut out = Vec::new();
        let r = loop {
            if self.eat_op(close) {
                break Ok(out);
            }
            match item(self) {
                Ok(v) => out.push(v),
                Err(e) => break Err(e),
            }
            if !self.eat_op(",") {
                break self.expect_op(close, "or `,`").map(|_| out);
            }
        };
        self.nesting -= 1;
        r
    }

    fn call(&mut self, name: &str, t: &Token) -> Result<Node, ParseError> {
        let Some(&(fname, min, max)) = FUNCTIONS.iter().find(|f| f.0 == name) else {
            let known: Vec<&str> = FUNCTIONS.iter().map(|f| f.0).collect();
            return Err(perr(
                format!("unknown function `{name}` (known: {})", known.join(", ")),
                t,
            ));
        };
        self.pos += 1; // `(`
        let args = self.list(")", |p| p.expr())?;
        let end = self
            .toks
            .get(self.pos.saturating_sub(1))
            .map_or(0, end_of_tok);
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("at least {min}")
            };
            return Err(ParseError {
                message: format!("{fname}() takes {want} argument(s), got {}", args.len()),
                offset: t.offset,
                len: end.saturating_sub(t.offset),
            });
        }
        make(Kind::Call(fname, args), t.offset, end)
    }
}

fn end_of_tok(t: &Token) -> usize {
    t.offset + t.len
}
