//! Validation of date/time strings against Java/ICU-style format patterns (`yyyy-MM-dd'T'HH:mm:ss`),
//! the patterns Pact's `date`, `time` and `datetime`/`timestamp` matchers carry.

use std::fmt;

/// A compiled format pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTimeFormat {
    pattern: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(String),
    Field(char, usize),
}

const LETTERS: &str = "GyuYMLdDEecahHkKmsSnANzZXxVOwWQqF";

impl DateTimeFormat {
    /// Compiles a pattern; unknown pattern letters and unterminated quotes are errors.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    literal.push('\'');
                    i += 2;
                    continue;
                }
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(format!("unterminated quote at {i}")),
                        Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                            literal.push('\'');
                            j += 2;
                        }
                        Some('\'') => break,
                        Some(other) => {
                            literal.push(*other);
                            j += 1;
                        }
                    }
                }
                i = j + 1;
            } else if c.is_ascii_alphabetic() {
                if !LETTERS.contains(c) {
                    return Err(format!("unknown pattern letter '{c}'"));
                }
                if !literal.is_empty() {
                    tokens.push(Token::Literal(std::mem::take(&mut literal)));
                }
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                tokens.push(Token::Field(c, n));
                i += n;
            } else {
                literal.push(c);
                i += 1;
            }
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        if tokens.is_empty() {
            return Err("empty pattern".to_string());
        }
        Ok(DateTimeFormat {
            pattern: pattern.to_string(),
            tokens,
        })
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Checks that the whole of `value` is a valid date/time in this format.
    pub fn validate(&self, value: &str) -> Result<(), String> {
        let mut rest = value;
        let mut fields = Fields::default();
        for (i, token) in self.tokens.iter().enumerate() {
            let next_numeric =
                matches!(self.tokens.get(i + 1), Some(Token::Field(c, n)) if is_numeric(*c, *n));
            rest = match token {
                Token::Literal(text) => rest
                    .strip_prefix(text.as_str())
                    .ok_or_else(|| format!("expected '{text}' at '{rest}'"))?,
                Token::Field(c, n) => field(*c, *n, rest, next_numeric, &mut fields)?,
            };
        }
        if !rest.is_empty() {
            return Err(format!("unexpected trailing text '{rest}'"));
        }
        fields.check()
    }

    /// Renders `at` in this format (what the `Date`, `Time` and `DateTime` generators produce).
    /// Every pattern letter is rendered; text fields use English names.
    pub fn format<Tz: chrono::TimeZone>(&self, at: &chrono::DateTime<Tz>) -> String
    where
        Tz::Offset: fmt::Display,
    {
        let mut out = String::new();
        for token in &self.tokens {
            match token {
                Token::Literal(text) => out.push_str(text),
                Token::Field(c, n) => format_field(*c, *n, at, &mut out),
            }
        }
        out
    }
}

fn pad(out: &mut String, value: i64, width: usize) {
    use fmt::Write as _;
    let _ = write!(out, "{value:0width$}");
}

fn text(out: &mut String, full: &str, n: usize) {
    if n >= 4 {
        out.push_str(full);
    } else {
        out.extend(full.chars().take(3));
    }
}

fn format_offset(out: &mut String, seconds: i32, colon: bool, z_for_zero: bool, minutes: bool) {
    if seconds == 0 && z_for_zero {
        out.push('Z');
        return;
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    out.push(sign);
    pad(out, i64::from(abs / 3600), 2);
    if minutes || !abs.is_multiple_of(3600) {
        if colon {
            out.push(':');
        }
        pad(out, i64::from(abs % 3600 / 60), 2);
    }
}

fn format_field<Tz: chrono::TimeZone>(
    c: char,
    n: usize,
    at: &chrono::DateTime<Tz>,
    out: &mut String,
) where
    Tz::Offset: fmt::Display,
{
    use chrono::{Datelike as _, Offset as _, Timelike as _};
    let offset = at.offset().fix().local_minus_utc();
    match c {
        'G' => out.push_str(if at.year() > 0 { "AD" } else { "BC" }),
        'y' | 'u' | 'Y' => {
            let year = if c == 'Y' {
                i64::from(at.iso_week().year())
            } else {
                i64::from(at.year())
            };
            if n == 2 {
                pad(out, year.rem_euclid(100), 2);
            } else {
                pad(out, year, n);
            }
        }
        'M' | 'L' => match n {
            1 | 2 => pad(out, i64::from(at.month()), n),
            _ => text(out, MONTHS[at.month0() as usize], n),
        },
        'd' => pad(out, i64::from(at.day()), n),
        'D' => pad(out, i64::from(at.ordinal()), n),
        'E' => text(out, DAYS[at.weekday().num_days_from_monday() as usize], n),
        'e' | 'c' => match n {
            1 | 2 => pad(out, i64::from(at.weekday().number_from_monday()), n),
            _ => text(out, DAYS[at.weekday().num_days_from_monday() as usize], n),
        },
        'a' => out.push_str(if at.hour() < 12 { "AM" } else { "PM" }),
        'h' => pad(out, i64::from(at.hour12().1), n),
        'H' => pad(out, i64::from(at.hour()), n),
        'k' => pad(
            out,
            i64::from(if at.hour() == 0 { 24 } else { at.hour() }),
            n,
        ),
        'K' => pad(out, i64::from(at.hour() % 12), n),
        'm' => pad(out, i64::from(at.minute()), n),
        's' => pad(out, i64::from(at.second()), n),
        'S' => {
            let nanos = format!("{:09}", at.nanosecond() % 1_000_000_000);
            out.push_str(
                &nanos
                    .chars()
                    .chain(std::iter::repeat('0'))
                    .take(n)
                    .collect::<String>(),
            );
        }
        'n' => pad(out, i64::from(at.nanosecond() % 1_000_000_000), n),
        'A' => pad(out, i64::from(at.num_seconds_from_midnight()) * 1000, n),
        'N' => pad(
            out,
            i64::from(at.num_seconds_from_midnight()) * 1_000_000_000
                + i64::from(at.nanosecond() % 1_000_000_000),
            n,
        ),
        'X' => format_offset(out, offset, n >= 3, true, n != 1),
        'x' => format_offset(out, offset, n >= 3, false, n != 1),
        'Z' if n == 5 => format_offset(out, offset, true, true, true),
        'Z' => format_offset(out, offset, false, false, true),
        'O' => {
            out.push_str("GMT");
            if offset != 0 {
                format_offset(out, offset, true, false, n == 4);
            }
        }
        'z' | 'V' => {
            if offset == 0 {
                out.push_str("UTC");
            } else {
                format_offset(out, offset, true, false, true);
            }
        }
        'w' => pad(out, i64::from(at.iso_week().week()), n),
        'W' => pad(out, i64::from(at.day().div_ceil(7)), n),
        'F' => pad(out, i64::from((at.day() - 1) / 7 + 1), n),
        'Q' | 'q' => {
            let quarter = at.month0() / 3 + 1;
            match n {
                1 | 2 => pad(out, i64::from(quarter), n),
                3 => out.push_str(&format!("Q{quarter}")),
                _ => out.push_str(["1st", "2nd", "3rd", "4th"][quarter as usize - 1]),
            }
            if n >= 4 {
                out.push_str(" quarter");
            }
        }
        _ => {}
    }
}

#[derive(Default)]
struct Fields {
    year: Option<i64>,
    month: Option<u32>,
    day: Option<u32>,
}

impl Fields {
    fn check(&self) -> Result<(), String> {
        if let (Some(month), Some(day)) = (self.month, self.day) {
            let max = match month {
                2 => match self.year {
                    Some(y) if !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) => 28,
                    _ => 29,
                },
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            if day > max {
                return Err(format!("day {day} is out of range for month {month}"));
            }
        }
        Ok(())
    }
}

fn is_numeric(c: char, n: usize) -> bool {
    match c {
        'M' | 'L' | 'Q' | 'q' | 'e' | 'c' => n <= 2,
        'y' | 'u' | 'Y' | 'd' | 'D' | 'h' | 'H' | 'k' | 'K' | 'm' | 's' | 'S' | 'n' | 'A' | 'N'
        | 'w' | 'W' | 'F' => true,
        _ => false,
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Consumes between `min` and `max` digits (greedy).
fn digits(rest: &str, min: usize, max: usize) -> Result<(u64, &str), String> {
    let available = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    let take = available.min(max);
    if take < min || take == 0 {
        return Err(format!("expected {min} digit(s) at '{rest}'"));
    }
    let (num, tail) = rest.split_at(take);
    let value = num
        .parse::<u64>()
        .map_err(|e| format!("bad number '{num}': {e}"))?;
    Ok((value, tail))
}

/// A numeric field of `n` pattern letters: exactly `n` digits when the next field is numeric too
/// (adjacent fields such as `yyyyMMdd` have no separator), otherwise 1 to `max(n, width)` digits.
fn numeric(rest: &str, n: usize, fixed: bool, width: usize) -> Result<(u64, &str), String> {
    if fixed {
        digits(rest, n, n)
    } else {
        digits(rest, 1, width.max(n))
    }
}

fn ranged<'a>(
    rest: &'a str,
    n: usize,
    fixed: bool,
    width: usize,
    range: std::ops::RangeInclusive<u64>,
    what: &str,
) -> Result<(u64, &'a str), String> {
    let (v, tail) = numeric(rest, n, fixed, width)?;
    if !range.contains(&v) {
        return Err(format!("{what} {v} is out of range"));
    }
    Ok((v, tail))
}

fn text_choice<'a>(rest: &'a str, choices: &[&str]) -> Result<(usize, &'a str), String> {
    for (i, choice) in choices.iter().enumerate() {
        if rest.len() >= choice.len()
            && rest.is_char_boundary(choice.len())
            && rest[..choice.len()].eq_ignore_ascii_case(choice)
        {
            return Ok((i, &rest[choice.len()..]));
        }
    }
    Err(format!("expected one of {} at '{rest}'", choices.join("/")))
}

fn names<'a>(rest: &'a str, full: &[&str], n: usize) -> Result<(usize, &'a str), String> {
    let short: Vec<String> = full.iter().map(|m| m.chars().take(3).collect()).collect();
    let short: Vec<&str> = short.iter().map(String::as_str).collect();
    if n >= 4 {
        text_choice(rest, full)
    } else {
        text_choice(rest, &short)
    }
}

fn offset(rest: &str, colon: Option<bool>, allow_z: bool) -> Result<&str, String> {
    if allow_z && let Some(tail) = rest.strip_prefix('Z') {
        return Ok(tail);
    }
    let tail = rest
        .strip_prefix('+')
        .or_else(|| rest.strip_prefix('-'))
        .ok_or_else(|| format!("expected a zone offset at '{rest}'"))?;
    let (h, tail) = digits(tail, 2, 2)?;
    if h > 23 {
        return Err(format!("offset hour {h} is out of range"));
    }
    let tail = match colon {
        Some(true) => tail
            .strip_prefix(':')
            .ok_or_else(|| format!("expected ':' in zone offset at '{tail}'"))?,
        Some(false) => tail,
        // Hours only, or hours and minutes with or without a colon.
        None => {
            if tail.starts_with(':') || tail.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                let t = tail.strip_prefix(':').unwrap_or(tail);
                let (m, t) = digits(t, 2, 2)?;
                if m > 59 {
                    return Err(format!("offset minute {m} is out of range"));
                }
                return Ok(t);
            }
            return Ok(tail);
        }
    };
    let (m, tail) = digits(tail, 2, 2)?;
    if m > 59 {
        return Err(format!("offset minute {m} is out of range"));
    }
    Ok(tail)
}

fn field<'a>(
    c: char,
    n: usize,
    rest: &'a str,
    next_numeric: bool,
    fields: &mut Fields,
) -> Result<&'a str, String> {
    let fixed = next_numeric;
    Ok(match c {
        'G' => {
            text_choice(
                rest,
                if n >= 4 {
                    &["Anno Domini", "Before Christ"]
                } else {
                    &["AD", "BC"]
                },
            )?
            .1
        }
        'y' | 'u' | 'Y' => {
            let (v, tail) = if n == 2 {
                digits(rest, 2, 2)?
            } else {
                numeric(rest.strip_prefix('-').unwrap_or(rest), n, fixed, 9)?
            };
            fields.year = i64::try_from(v).ok();
            tail
        }
        'M' | 'L' if n >= 3 => {
            let (i, tail) = names(rest, &MONTHS, n)?;
            fields.month = u32::try_from(i + 1).ok();
            tail
        }
        'M' | 'L' => {
            let (v, tail) = ranged(rest, n, fixed, 2, 1..=12, "month")?;
            fields.month = u32::try_from(v).ok();
            tail
        }
        'd' => {
            let (v, tail) = ranged(rest, n, fixed, 2, 1..=31, "day")?;
            fields.day = u32::try_from(v).ok();
            tail
        }
        'D' => ranged(rest, n, fixed, 3, 1..=366, "day of year")?.1,
        'E' => names(rest, &DAYS, n)?.1,
        'e' | 'c' if n >= 3 => names(rest, &DAYS, n)?.1,
        'e' | 'c' => ranged(rest, n, fixed, 1, 1..=7, "day of week")?.1,
        'F' => ranged(rest, n, fixed, 1, 1..=5, "day of week in month")?.1,
        'a' => text_choice(rest, &["AM", "PM"])?.1,
        'H' => ranged(rest, n, fixed, 2, 0..=23, "hour")?.1,
        'k' => ranged(rest, n, fixed, 2, 1..=24, "hour")?.1,
        'K' => ranged(rest, n, fixed, 2, 0..=11, "hour")?.1,
        'h' => ranged(rest, n, fixed, 2, 1..=12, "hour")?.1,
        'm' => ranged(rest, n, fixed, 2, 0..=59, "minute")?.1,
        's' => ranged(rest, n, fixed, 2, 0..=60, "second")?.1,
        'S' => numeric(rest, n, fixed, 9)?.1,
        'n' | 'N' | 'A' => numeric(rest, n, fixed, 19)?.1,
        'w' => ranged(rest, n, fixed, 2, 1..=53, "week of year")?.1,
        'W' => ranged(rest, n, fixed, 1, 0..=5, "week of month")?.1,
        'Q' | 'q' if n >= 3 => {
            text_choice(
                rest,
                &[
                    "Q1",
                    "Q2",
                    "Q3",
                    "Q4",
                    "1st quarter",
                    "2nd quarter",
                    "3rd quarter",
                    "4th quarter",
                ],
            )?
            .1
        }
        'Q' | 'q' => ranged(rest, n, fixed, 1, 1..=4, "quarter")?.1,
        'z' | 'V' => {
            // Zone names and ids: "UTC", "PST", "Australia/Melbourne", "GMT+10:00".
            let len = rest
                .char_indices()
                .take_while(|(_, ch)| ch.is_ascii_alphanumeric() || "/_-+:".contains(*ch))
                .map(|(i, ch)| i + ch.len_utf8())
                .last()
                .unwrap_or(0);
            if len == 0 || !rest.starts_with(|ch: char| ch.is_ascii_alphabetic()) {
                return Err(format!("expected a time zone at '{rest}'"));
            }
            &rest[len..]
        }
        'O' => {
            let tail = rest
                .strip_prefix("GMT")
                .ok_or_else(|| format!("expected 'GMT' at '{rest}'"))?;
            if tail.starts_with(['+', '-']) {
                offset(tail, None, false)?
            } else {
                tail
            }
        }
        'Z' => match n {
            1..=3 => offset(rest, Some(false), false)?,
            4 => {
                let tail = rest
                    .strip_prefix("GMT")
                    .ok_or_else(|| format!("expected 'GMT' at '{rest}'"))?;
                if tail.starts_with(['+', '-']) {
                    offset(tail, Some(true), false)?
                } else {
                    tail
                }
            }
            _ => offset(rest, Some(true), true)?,
        },
        'X' | 'x' => {
            let allow_z = c == 'X';
            match n {
                1 => offset(rest, None, allow_z)?,
                2 | 4 => offset(rest, Some(false), allow_z)?,
                _ => offset(rest, Some(true), allow_z)?,
            }
        }
        other => return Err(format!("unsupported pattern letter '{other}'")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(pattern: &str, value: &str) -> bool {
        DateTimeFormat::parse(pattern)
            .unwrap()
            .validate(value)
            .is_ok()
    }

    #[test]
    fn validates_common_patterns() {
        assert!(ok("yyyy-MM-dd", "2024-02-29"));
        assert!(!ok("yyyy-MM-dd", "2023-02-29"));
        assert!(!ok("yyyy-MM-dd", "2024-13-01"));
        assert!(!ok("yyyy-MM-dd", "2024-01-01T"));
        assert!(ok("HH:mm:ss", "23:59:59"));
        assert!(!ok("HH:mm:ss", "24:00:00"));
        assert!(ok("yyyy-MM-dd'T'HH:mm:ssXXX", "2024-05-01T10:11:12+02:00"));
        assert!(ok("yyyy-MM-dd'T'HH:mm:ssXXX", "2024-05-01T10:11:12Z"));
        assert!(ok("yyyy-MM-dd'T'HH:mm:ss.SSSX", "2024-05-01T10:11:12.123Z"));
        assert!(ok("yyyyMMdd", "20240501"));
        assert!(ok(
            "EEE, dd MMM yyyy HH:mm:ss z",
            "Wed, 01 May 2024 10:11:12 GMT"
        ));
        assert!(ok("MMMM d, yyyy h:mm a", "May 1, 2024 3:04 PM"));
        assert!(ok("yyyy-MM-dd HH:mm:ssZ", "2024-05-01 10:11:12+0200"));
        assert!(!ok("yyyy-MM-dd", "not a date"));
    }

    #[test]
    fn rejects_unknown_letters_and_open_quotes() {
        assert!(DateTimeFormat::parse("yyyy-MM-dd'T").is_err());
        assert!(DateTimeFormat::parse("yyyy-bb").is_err());
        assert!(DateTimeFormat::parse("").is_err());
    }
}
