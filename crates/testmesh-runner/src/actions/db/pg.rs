//! PostgreSQL's binary wire formats, both ways.
//!
//! Parameters are converted to the type the server inferred for each placeholder (the statement is
//! prepared first), the way libpq-based tools send untyped text: a string binds to a `uuid`,
//! `timestamptz` or `numeric` column without casts. Result values are decoded from their binary form
//! by type, arrays and domains included, without ever trusting a length we did not check.

use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeDelta};
use serde_json::{Map, Value};
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgRow, PgTypeInfo, PgTypeKind, Postgres};
use sqlx::{Arguments, Column, Encode, Row, Type, TypeInfo, ValueRef};

use super::rows::{float_value, text_value};

/// Days and microseconds are counted from 2000-01-01 on the wire.
fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// One bound value: the bytes in the binary format of `ty`, or NULL.
struct Param {
    ty: PgTypeInfo,
    bytes: Option<Vec<u8>>,
}

impl Type<Postgres> for Param {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("unknown")
    }
}

impl Encode<'_, Postgres> for Param {
    fn encode_by_ref(
        &self,
        buf: &mut PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match &self.bytes {
            Some(bytes) => {
                buf.extend_from_slice(bytes);
                Ok(sqlx::encode::IsNull::No)
            }
            None => Ok(sqlx::encode::IsNull::Yes),
        }
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(self.ty.clone())
    }
}

/// Arguments for a prepared statement whose parameter types the server inferred.
pub(crate) fn arguments(values: &[Value], types: &[PgTypeInfo]) -> Result<PgArguments, String> {
    if values.len() != types.len() {
        return Err(format!(
            "the statement has {} parameter(s) but {} value(s) were given",
            types.len(),
            values.len()
        ));
    }
    let mut args = PgArguments::default();
    for (index, (value, ty)) in values.iter().zip(types).enumerate() {
        let bytes = match value {
            Value::Null => None,
            value => Some(encode(value, ty).map_err(|e| {
                format!(
                    "parameter ${}: {e}; cast the placeholder in the query (e.g. ${}::text) to bind it differently",
                    index + 1,
                    index + 1
                )
            })?),
        };
        args.add(Param {
            ty: ty.clone(),
            bytes,
        })
        .map_err(|e| format!("parameter ${}: {e}", index + 1))?;
    }
    Ok(args)
}

/// The kind of a type the server described. (sqlx panics when asked about a type known only by a
/// name or an unresolved OID, so those are treated as simple.)
fn kind(ty: &PgTypeInfo) -> Option<&PgTypeKind> {
    (ty.oid().is_some() && ty.name() != "?").then(|| ty.kind())
}

/// The text a JSON value stands for: strings as they are, everything else as JSON.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn encode(value: &Value, ty: &PgTypeInfo) -> Result<Vec<u8>, String> {
    match kind(ty) {
        Some(PgTypeKind::Domain(base)) => return encode(value, base),
        Some(PgTypeKind::Enum(_)) => return Ok(as_text(value).into_bytes()),
        _ => {}
    }
    let expected = |what: &str| format!("expected {what} for {}, got {value}", ty.name());
    Ok(match ty.name() {
        "BOOL" => {
            let b = match value {
                Value::Bool(b) => *b,
                Value::Number(n) if n.as_i64() == Some(0) => false,
                Value::Number(n) if n.as_i64() == Some(1) => true,
                Value::String(s) => parse_bool(s).ok_or_else(|| expected("a boolean"))?,
                _ => return Err(expected("a boolean")),
            };
            vec![u8::from(b)]
        }
        "INT2" => i16::try_from(integer(value).ok_or_else(|| expected("an integer"))?)
            .map_err(|_| expected("a 16-bit integer"))?
            .to_be_bytes()
            .to_vec(),
        "INT4" => i32::try_from(integer(value).ok_or_else(|| expected("an integer"))?)
            .map_err(|_| expected("a 32-bit integer"))?
            .to_be_bytes()
            .to_vec(),
        "INT8" => integer(value)
            .ok_or_else(|| expected("an integer"))?
            .to_be_bytes()
            .to_vec(),
        "OID" => u32::try_from(integer(value).ok_or_else(|| expected("an integer"))?)
            .map_err(|_| expected("an OID"))?
            .to_be_bytes()
            .to_vec(),
        #[allow(clippy::cast_possible_truncation)]
        "FLOAT4" => (float(value).ok_or_else(|| expected("a number"))? as f32)
            .to_be_bytes()
            .to_vec(),
        "FLOAT8" => float(value)
            .ok_or_else(|| expected("a number"))?
            .to_be_bytes()
            .to_vec(),
        "NUMERIC" => match value {
            Value::Number(_) | Value::String(_) => {
                encode_numeric(as_text(value).trim()).ok_or_else(|| expected("a decimal number"))?
            }
            _ => return Err(expected("a decimal number")),
        },
        "UUID" => uuid::Uuid::parse_str(value.as_str().ok_or_else(|| expected("a UUID"))?)
            .map_err(|_| expected("a UUID"))?
            .as_bytes()
            .to_vec(),
        "DATE" => {
            let date = value
                .as_str()
                .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
                .ok_or_else(|| expected("a date (YYYY-MM-DD)"))?;
            i32::try_from((date - pg_epoch().date()).num_days())
                .map_err(|_| expected("a date in range"))?
                .to_be_bytes()
                .to_vec()
        }
        "TIME" => {
            let time = value
                .as_str()
                .and_then(|s| NaiveTime::parse_from_str(s.trim(), "%H:%M:%S%.f").ok())
                .ok_or_else(|| expected("a time (HH:MM:SS)"))?;
            (time - NaiveTime::MIN)
                .num_microseconds()
                .unwrap_or_default()
                .to_be_bytes()
                .to_vec()
        }
        "TIMESTAMP" | "TIMESTAMPTZ" => {
            let text = value.as_str().ok_or_else(|| expected("a timestamp"))?;
            let utc = ty.name() == "TIMESTAMPTZ";
            let at = parse_timestamp(text, utc).ok_or_else(|| expected("a timestamp"))?;
            (at - pg_epoch())
                .num_microseconds()
                .ok_or_else(|| expected("a timestamp in range"))?
                .to_be_bytes()
                .to_vec()
        }
        "BYTEA" => as_text(value).into_bytes(),
        "JSONB" => {
            let mut bytes = vec![1];
            bytes.extend(as_text(value).into_bytes());
            bytes
        }
        "TEXT" | "VARCHAR" | "CHAR" | "NAME" | "UNKNOWN" | "JSON" | "CITEXT" | "citext" | "XML" => {
            as_text(value).into_bytes()
        }
        other => return Err(format!("values of type {other} cannot be sent from a flow")),
    })
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

fn float(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// RFC 3339 (converted to UTC for `timestamptz`, wall time kept for `timestamp`) or a naive
/// `YYYY-MM-DD[ T]HH:MM:SS[.f]` / `YYYY-MM-DD` (taken as UTC for `timestamptz`).
fn parse_timestamp(text: &str, utc: bool) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(if utc {
            at.naive_utc()
        } else {
            at.naive_local()
        });
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

/// A decimal string (`-12.50`, `1e-3`) in NUMERIC's binary form: base-10000 digit groups around
/// the decimal point, with the display scale kept.
pub(crate) fn encode_numeric(text: &str) -> Option<Vec<u8>> {
    if text.eq_ignore_ascii_case("nan") {
        return Some(
            [
                0i16.to_be_bytes(),
                0i16.to_be_bytes(),
                0xC000u16.to_be_bytes(),
                0u16.to_be_bytes(),
            ]
            .concat(),
        );
    }
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(p) => (&unsigned[..p], unsigned[p + 1..].parse::<i32>().ok()?),
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
        || exponent.unsigned_abs() > 10_000
    {
        return None;
    }
    let digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|b| b - b'0')
        .collect();
    // Position of the decimal point within `digits`, after the exponent.
    let point = i64::try_from(int_part.len()).ok()? + i64::from(exponent);
    let scale = (i64::try_from(digits.len()).ok()? - point).max(0);
    // Pad so the point sits on a multiple of 4 and both ends are whole groups.
    let lead = (4 - point.max(0) % 4) % 4;
    let mut padded: Vec<u8> = Vec::new();
    let zeros_before = usize::try_from(lead + (-point).max(0)).ok()?;
    padded.extend(std::iter::repeat_n(0, zeros_before));
    padded.extend(&digits);
    let int_len = usize::try_from(point.max(0) + lead).ok()?;
    let min_len = int_len;
    if padded.len() < min_len {
        padded.resize(min_len, 0);
    }
    while !padded.len().is_multiple_of(4) {
        padded.push(0);
    }
    let groups: Vec<i16> = padded
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(*d)))
        .collect();
    let mut weight = i64::try_from(int_len / 4).ok()? - 1;
    let first = groups.iter().position(|g| *g != 0);
    let last = groups.iter().rposition(|g| *g != 0);
    let kept: &[i16] = match (first, last) {
        (Some(f), Some(l)) => {
            weight -= i64::try_from(f).ok()?;
            &groups[f..=l]
        }
        _ => {
            weight = 0;
            &[]
        }
    };
    let sign: u16 = if negative && !kept.is_empty() {
        0x4000
    } else {
        0
    };
    let mut out = Vec::with_capacity(8 + kept.len() * 2);
    out.extend(i16::try_from(kept.len()).ok()?.to_be_bytes());
    out.extend(i16::try_from(weight).ok()?.to_be_bytes());
    out.extend(sign.to_be_bytes());
    out.extend(u16::try_from(scale).ok()?.to_be_bytes());
    for group in kept {
        out.extend(group.to_be_bytes());
    }
    Some(out)
}

/// NUMERIC's binary form as PostgreSQL prints it (`30.50`, `NaN`, `-Infinity`).
pub(crate) fn decode_numeric(bytes: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<u16> {
        Some(u16::from_be_bytes(bytes.get(i..i + 2)?.try_into().ok()?))
    };
    let ndigits = usize::from(word(0)?);
    #[allow(clippy::cast_possible_wrap)]
    let weight = i64::from(word(2)? as i16);
    let sign = word(4)?;
    let scale = usize::from(word(6)?);
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        0x0000 | 0x4000 => {}
        _ => return None,
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|i| word(8 + 2 * i))
        .collect::<Option<_>>()?;
    if digits.iter().any(|d| *d > 9999) {
        return None;
    }
    let group = |i: i64| -> u16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .copied()
            .unwrap_or(0)
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        out.push_str(&group(0).to_string());
        for i in 1..=weight {
            out.push_str(&format!("{:04}", group(i)));
        }
    }
    if scale > 0 {
        out.push('.');
        let mut fraction = String::new();
        let mut i = weight + 1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", group(i)));
            i += 1;
        }
        fraction.truncate(scale);
        out.push_str(&fraction);
    }
    Some(out)
}

/// A row as a JSON object.
pub(crate) fn row_to_json(row: &PgRow) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (index, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(index).map_err(|e| e.to_string())?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            let bytes = raw.as_bytes().map_err(|e| e.to_string())?;
            decode(bytes, column.type_info()).map_err(|e| {
                format!(
                    "column `{}` of type {}: {e}; cast it in the query (e.g. {}::text)",
                    column.name(),
                    column.type_info().name(),
                    column.name()
                )
            })?
        };
        out.insert(column.name().to_string(), value);
    }
    Ok(out)
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes
        .try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", bytes.len()))
}

fn decode(bytes: &[u8], ty: &PgTypeInfo) -> Result<Value, String> {
    match kind(ty) {
        Some(PgTypeKind::Domain(base)) => return decode(bytes, base),
        Some(PgTypeKind::Enum(_)) => return text(bytes),
        Some(PgTypeKind::Array(element)) => return decode_array(bytes, element),
        _ => {}
    }
    Ok(match ty.name() {
        "BOOL" => Value::Bool(fixed::<1>(bytes)?[0] != 0),
        "INT2" => Value::from(i16::from_be_bytes(fixed(bytes)?)),
        "INT4" => Value::from(i32::from_be_bytes(fixed(bytes)?)),
        "INT8" => Value::from(i64::from_be_bytes(fixed(bytes)?)),
        "OID" => Value::from(u32::from_be_bytes(fixed(bytes)?)),
        "FLOAT4" => float_value(f64::from(f32::from_be_bytes(fixed(bytes)?)), true),
        "FLOAT8" => float_value(f64::from_be_bytes(fixed(bytes)?), false),
        "NUMERIC" => Value::String(decode_numeric(bytes).ok_or("malformed NUMERIC")?),
        "BYTEA" => Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
        "UUID" => Value::String(uuid::Uuid::from_bytes(fixed(bytes)?).to_string()),
        "JSON" => parse_json(bytes)?,
        "JSONB" => match bytes.split_first() {
            Some((1, rest)) => parse_json(rest)?,
            _ => return Err("unknown JSONB version".into()),
        },
        "DATE" => match i32::from_be_bytes(fixed(bytes)?) {
            i32::MAX => Value::String("infinity".into()),
            i32::MIN => Value::String("-infinity".into()),
            days => {
                let date = pg_epoch()
                    .date()
                    .checked_add_signed(TimeDelta::days(i64::from(days)))
                    .ok_or("date out of range")?;
                Value::String(date.format("%Y-%m-%d").to_string())
            }
        },
        "TIME" => {
            let micros = i64::from_be_bytes(fixed(bytes)?);
            let time = NaiveTime::MIN
                .overflowing_add_signed(TimeDelta::microseconds(micros))
                .0;
            Value::String(time.format("%H:%M:%S%.f").to_string())
        }
        "TIMESTAMP" | "TIMESTAMPTZ" => match i64::from_be_bytes(fixed(bytes)?) {
            i64::MAX => Value::String("infinity".into()),
            i64::MIN => Value::String("-infinity".into()),
            micros => {
                let at = pg_epoch()
                    .checked_add_signed(TimeDelta::microseconds(micros))
                    .ok_or("timestamp out of range")?;
                Value::String(if ty.name() == "TIMESTAMPTZ" {
                    at.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true)
                } else {
                    at.format("%Y-%m-%dT%H:%M:%S%.f").to_string()
                })
            }
        },
        "INTERVAL" => Value::String(interval(bytes)?),
        "TEXT" | "VARCHAR" | "CHAR" | "NAME" | "\"CHAR\"" | "UNKNOWN" | "XML" | "JSONPATH" => {
            text(bytes)?
        }
        // Types whose binary form is their text (citext, ltree, user enums seen as plain, …);
        // anything else is refused rather than shown as garbage.
        _ => text_value(bytes).ok_or("no readable form")?,
    })
}

fn text(bytes: &[u8]) -> Result<Value, String> {
    std::str::from_utf8(bytes)
        .map(|s| Value::String(s.to_string()))
        .map_err(|_| "not valid UTF-8".to_string())
}

fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))
}

/// An interval as ISO 8601 (`P1Y2M3DT4H5M6.5S`).
fn interval(bytes: &[u8]) -> Result<String, String> {
    let bytes = fixed::<16>(bytes)?;
    let mut micros = i64::from_be_bytes(fixed(&bytes[0..8])?);
    let days = i32::from_be_bytes(fixed(&bytes[8..12])?);
    let months = i32::from_be_bytes(fixed(&bytes[12..16])?);
    let mut out = String::from("P");
    let (years, months) = (months / 12, months % 12);
    for (n, unit) in [(years, 'Y'), (months, 'M'), (days, 'D')] {
        if n != 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if micros != 0 {
        out.push('T');
        let hours = micros / 3_600_000_000;
        micros %= 3_600_000_000;
        let minutes = micros / 60_000_000;
        micros %= 60_000_000;
        if hours != 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes != 0 {
            out.push_str(&format!("{minutes}M"));
        }
        if micros != 0 {
            let seconds = format!("{}.{:06}", micros / 1_000_000, (micros % 1_000_000).abs());
            out.push_str(seconds.trim_end_matches('0').trim_end_matches('.'));
            out.push('S');
        }
    }
    if out == "P" {
        out.push_str("T0S");
    }
    Ok(out)
}

/// A (possibly multi-dimensional) array as nested JSON lists.
fn decode_array(bytes: &[u8], element: &PgTypeInfo) -> Result<Value, String> {
    let int = |at: usize| -> Result<i32, String> {
        Ok(i32::from_be_bytes(fixed(
            bytes.get(at..at + 4).ok_or("truncated array")?,
        )?))
    };
    let dims = usize::try_from(int(0)?).map_err(|_| "bad array header")?;
    if dims == 0 {
        return Ok(Value::Array(Vec::new()));
    }
    if dims > 6 {
        return Err("too many array dimensions".into());
    }
    let mut lengths = Vec::with_capacity(dims);
    for d in 0..dims {
        lengths.push(usize::try_from(int(12 + 8 * d)?).map_err(|_| "bad array length")?);
    }
    let mut at = 12 + 8 * dims;
    let mut flat = Vec::new();
    let total: usize = lengths.iter().product();
    for _ in 0..total {
        let len = int(at)?;
        at += 4;
        if len < 0 {
            flat.push(Value::Null);
            continue;
        }
        let len = usize::try_from(len).map_err(|_| "bad element length")?;
        let item = bytes.get(at..at + len).ok_or("truncated array")?;
        flat.push(decode(item, element)?);
        at += len;
    }
    // Fold the flat list into nested lists, innermost dimension first.
    for &len in lengths.iter().skip(1).rev() {
        if len == 0 {
            break;
        }
        flat = flat.chunks(len).map(|c| Value::Array(c.to_vec())).collect();
    }
    Ok(Value::Array(flat))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        decode_numeric(&encode_numeric(text).unwrap()).unwrap()
    }

    #[test]
    fn numeric_round_trips_keep_scale() {
        for (input, shown) in [
            ("0", "0"),
            ("30.50", "30.50"),
            ("-12345.6789", "-12345.6789"),
            ("10000", "10000"),
            ("0.0001", "0.0001"),
            ("0.00001", "0.00001"),
            (
                "123456789012345678901234567890.123",
                "123456789012345678901234567890.123",
            ),
            ("1e3", "1000"),
            ("1.5e-3", "0.0015"),
            ("-0.0", "0.0"),
            ("+7", "7"),
            ("NaN", "NaN"),
        ] {
            assert_eq!(round_trip(input), shown, "{input}");
        }
        for bad in ["", "-", "1.2.3", "abc", "1e", ".", "1e99999"] {
            assert!(encode_numeric(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn numeric_matches_postgres_wire_form() {
        // 30.50 as PostgreSQL sends it: 2 digits, weight 0, positive, scale 2, [30, 5000].
        let wire = [0, 2, 0, 0, 0, 0, 0, 2, 0, 30, 0x13, 0x88];
        assert_eq!(decode_numeric(&wire).unwrap(), "30.50");
        assert_eq!(encode_numeric("30.50").unwrap(), wire);
    }

    #[test]
    fn malformed_values_are_errors_not_panics() {
        assert!(decode_numeric(&[0, 5, 0, 0]).is_none());
        assert!(decode(&[1, 2], &PgTypeInfo::with_name("INT8")).is_err());
        assert!(interval(&[0; 3]).is_err());
        assert!(decode_array(&[0, 0, 0, 1, 0, 0, 0, 0], &PgTypeInfo::with_name("INT4")).is_err());
    }

    #[test]
    fn intervals_read_as_iso_8601() {
        let mut bytes = Vec::new();
        bytes.extend(3_723_500_000i64.to_be_bytes());
        bytes.extend(2i32.to_be_bytes());
        bytes.extend(14i32.to_be_bytes());
        assert_eq!(interval(&bytes).unwrap(), "P1Y2M2DT1H2M3.5S");
    }

    #[test]
    fn timestamps_parse_in_common_forms() {
        let utc = parse_timestamp("2024-01-02T03:04:05+02:00", true).unwrap();
        assert_eq!(utc.to_string(), "2024-01-02 01:04:05");
        let wall = parse_timestamp("2024-01-02 03:04:05.25", false).unwrap();
        assert_eq!(wall.to_string(), "2024-01-02 03:04:05.250");
    }
}
