//! Result rows as JSON objects for MySQL/MariaDB and SQLite (PostgreSQL's live in `pg.rs`), and
//! the value helpers all backends share.

use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{Map, Number, Value};
use sqlx::mysql::types::MySqlTime;
use sqlx::mysql::{MySql, MySqlRow, MySqlTypeInfo};
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, Decode, Row, TypeInfo, ValueRef};

/// A float as a JSON number; NaN and infinities (which JSON lacks) as strings. Single-precision
/// values go through their shortest text so `0.1` stays `0.1` rather than `0.10000000149`.
pub(crate) fn float_value(value: f64, single: bool) -> Value {
    let value = if single {
        #[allow(clippy::cast_possible_truncation)]
        let short = (value as f32).to_string();
        short.parse().unwrap_or(value)
    } else {
        value
    };
    Number::from_f64(value).map_or_else(|| Value::String(value.to_string()), Value::Number)
}

/// Bytes as text when they are UTF-8 without control characters (other than tab and newlines):
/// the readable form of a type we do not know.
pub(crate) fn text_value(bytes: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .then(|| Value::String(text.to_string()))
}

fn base64(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn naive_datetime(at: NaiveDateTime) -> Value {
    Value::String(at.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
}

fn utc_datetime(at: DateTime<Utc>) -> Value {
    Value::String(at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// Decodes column `index` as `T` without sqlx's type check: the caller picked `T` from the wire type.
fn get<'r, T, R>(row: &'r R, index: usize) -> Result<T, String>
where
    R: Row,
    T: Decode<'r, R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    row.try_get_unchecked::<T, _>(index)
        .map_err(|e| e.to_string())
}

/// A MySQL/MariaDB row. `TINYINT(1)`, which MySQL calls BOOLEAN, stays a number: MySQL has no
/// boolean type and the column may hold any small integer.
pub(crate) fn mysql_row_to_json(row: &MySqlRow) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (index, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(index).map_err(|e| e.to_string())?;
        let type_name = column.type_info().name();
        let value = if raw.is_null() {
            Value::Null
        } else {
            mysql_value(row, index, column.type_info()).map_err(|e| {
                format!(
                    "column `{}` of type {type_name}: {e}; cast it in the query (e.g. CAST({} AS CHAR))",
                    column.name(),
                    column.name()
                )
            })?
        };
        out.insert(column.name().to_string(), value);
    }
    Ok(out)
}

fn mysql_value(row: &MySqlRow, index: usize, ty: &MySqlTypeInfo) -> Result<Value, String> {
    let type_name = ty.name();
    // Text is told from bytes by collation (binary or not), which sqlx's type names do not show:
    // a `utf8mb4_bin` column is text, a VARBINARY column is bytes.
    if type_name != "JSON" && <String as sqlx::Type<MySql>>::compatible(ty) {
        return Ok(Value::String(get::<String, _>(row, index)?));
    }
    Ok(match type_name {
        "BOOLEAN" | "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => {
            Value::from(get::<i64, _>(row, index)?)
        }
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED"
        | "BIGINT UNSIGNED" | "BIT" | "YEAR" => Value::from(get::<u64, _>(row, index)?),
        "FLOAT" => float_value(f64::from(get::<f32, _>(row, index)?), true),
        "DOUBLE" => float_value(get::<f64, _>(row, index)?, false),
        "DECIMAL" => Value::String(get::<String, _>(row, index)?),
        "CHAR" | "VARCHAR" | "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET" => {
            Value::String(get::<String, _>(row, index)?)
        }
        "JSON" => {
            let text = get::<String, _>(row, index)?;
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "GEOMETRY" => {
            base64(&get::<Vec<u8>, _>(row, index)?)
        }
        // Zero dates (`0000-00-00`) arrive as an empty value; show them as MySQL writes them.
        "DATE" | "DATETIME" | "TIMESTAMP" if get::<Vec<u8>, _>(row, index)?.len() <= 1 => {
            Value::String(
                if type_name == "DATE" {
                    "0000-00-00"
                } else {
                    "0000-00-00 00:00:00"
                }
                .into(),
            )
        }
        "DATE" => Value::String(
            get::<NaiveDate, _>(row, index)?
                .format("%Y-%m-%d")
                .to_string(),
        ),
        "DATETIME" => naive_datetime(get::<NaiveDateTime, _>(row, index)?),
        // sqlx sets the session time zone to UTC, so TIMESTAMP values are UTC instants.
        "TIMESTAMP" => utc_datetime(get::<DateTime<Utc>, _>(row, index)?),
        "TIME" => Value::String(mysql_time(&get::<MySqlTime, _>(row, index)?)),
        _ => text_value(&get::<Vec<u8>, _>(row, index)?).ok_or("no readable form")?,
    })
}

/// A TIME value as MySQL writes it: `-01:02:03`, `838:59:59.5`.
fn mysql_time(time: &MySqlTime) -> String {
    // `MySqlTime::is_negative` answers the opposite in sqlx 0.9; the sign itself is right.
    let sign = if time.sign().is_negative() { "-" } else { "" };
    let mut out = format!(
        "{sign}{:02}:{:02}:{:02}",
        time.hours(),
        time.minutes(),
        time.seconds()
    );
    if time.microseconds() != 0 {
        out.push_str(format!(".{:06}", time.microseconds()).trim_end_matches('0'));
    }
    out
}

/// A SQLite row: values by their storage class (INTEGER, REAL, TEXT, BLOB), except that a column
/// declared BOOLEAN reads as true/false. SQLite has no date, decimal or JSON types: such values are
/// whatever was stored (usually text or a number).
pub(crate) fn sqlite_row_to_json(row: &SqliteRow) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (index, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(index).map_err(|e| e.to_string())?;
        let storage = raw.type_info().name().to_string();
        let value = if raw.is_null() {
            Value::Null
        } else {
            let declared_bool = column.type_info().name() == "BOOLEAN";
            sqlite_value(row, index, &storage, declared_bool)
                .map_err(|e| format!("column `{}` of type {storage}: {e}", column.name()))?
        };
        out.insert(column.name().to_string(), value);
    }
    Ok(out)
}

fn sqlite_value(
    row: &SqliteRow,
    index: usize,
    storage: &str,
    declared_bool: bool,
) -> Result<Value, String> {
    Ok(match storage {
        "INTEGER" if declared_bool => Value::Bool(get::<i64, _>(row, index)? != 0),
        "INTEGER" => Value::from(get::<i64, _>(row, index)?),
        "REAL" => float_value(get::<f64, _>(row, index)?, false),
        "BLOB" => base64(&get::<Vec<u8>, _>(row, index)?),
        _ => Value::String(get::<String, _>(row, index)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        assert_eq!(float_value(f64::from(0.1f32), true), serde_json::json!(0.1));
        assert_eq!(float_value(f64::NAN, false), Value::String("NaN".into()));
        assert_eq!(float_value(2.5, false), serde_json::json!(2.5));
    }

    #[test]
    fn readable_text_only() {
        assert_eq!(text_value(b"a\tb"), Some(Value::String("a\tb".into())));
        assert_eq!(text_value(&[2, 32, 0, 4]), None);
        assert_eq!(text_value(&[0xff]), None);
    }
}
