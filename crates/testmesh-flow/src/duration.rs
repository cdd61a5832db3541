//! Durations in Go's format, as the original TestMesh wrote them: `500ms`, `1.5s`, `1h30m`, `0`.

use std::time::Duration;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{input}`: {reason} (write it like `500ms`, `1.5s`, `2m` or `1h30m`)")]
pub struct DurationError {
    /// The text that was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Parses one or more `<decimal><unit>` pairs with units `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`.
///
/// A leading `+` is accepted; negative durations are rejected because nothing in a flow can wait for
/// less than zero.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError {
        input: input.to_string(),
        reason,
    };
    let text = input.trim();
    if text.starts_with('-') {
        return Err(err("durations cannot be negative"));
    }
    let text = text.strip_prefix('+').unwrap_or(text);
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(err("it is empty"));
    }
    let mut rest = text;
    let mut total_nanos: f64 = 0.0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(err("expected a number"));
        }
        let value: f64 = number.parse().map_err(|_| err("expected a number"))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let nanos_per_unit = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(err("missing unit")),
            _ => return Err(err("unknown unit")),
        };
        total_nanos += value * nanos_per_unit;
        rest = next;
    }
    // Go limits durations to ~292 years; anything beyond is certainly a typo.
    if !total_nanos.is_finite() || total_nanos > i64::MAX as f64 {
        return Err(err("it is too large"));
    }
    Ok(Duration::from_nanos(total_nanos.round() as u64))
}

/// Writes a duration back in Go's format (`1h30m0s` style is avoided: `1h30m`, `1.5s`, `250ms`).
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if !nanos.is_multiple_of(1_000_000) || nanos < 1_000_000 {
        return if nanos.is_multiple_of(1000) {
            format!("{}us", nanos / 1000)
        } else {
            format!("{nanos}ns")
        };
    }
    let millis = nanos / 1_000_000;
    if millis < 1000 {
        return format!("{millis}ms");
    }
    let (hours, minutes, rem_ms) = (millis / 3_600_000, (millis / 60_000) % 60, millis % 60_000);
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if rem_ms > 0 {
        if rem_ms % 1000 == 0 {
            out.push_str(&format!("{}s", rem_ms / 1000));
        } else {
            let secs = rem_ms as f64 / 1000.0;
            out.push_str(&format!("{secs}s"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("+2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("10us").unwrap(), Duration::from_micros(10));
        assert_eq!(parse_duration("10µs").unwrap(), Duration::from_micros(10));
        assert_eq!(parse_duration("7ns").unwrap(), Duration::from_nanos(7));
        assert_eq!(
            parse_duration("1m0.5s").unwrap(),
            Duration::from_millis(60_500)
        );
    }

    #[test]
    fn bad_durations() {
        for (text, reason) in [
            ("", "it is empty"),
            ("10", "missing unit"),
            ("10 s", "unknown unit"),
            ("5d", "unknown unit"),
            ("s", "expected a number"),
            ("1..5s", "expected a number"),
            ("-1s", "durations cannot be negative"),
            ("99999999999h", "it is too large"),
        ] {
            let err = parse_duration(text).unwrap_err();
            assert_eq!(err.reason, reason, "{text}");
            assert!(err.to_string().contains("1.5s"));
        }
    }

    #[test]
    fn formatting_round_trips() {
        for text in ["500ms", "1.5s", "1h30m", "2m", "10us", "7ns", "1h0m5s"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d, "{text}");
        }
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
    }
}
