//! HTTP archives (HAR 1.2, as browsers' developer tools save them) as flows.
//!
//! One flow per recorded page (`log.pages`, entries matched by `pageref`), or one flow when the
//! archive has no pages; entries become `http_request` steps in the order they were sent. What a
//! browser loads besides the API — static assets, analytics and tracking calls, CORS preflights,
//! `data:` and extension URLs, WebSockets — is left out and counted in [`Import::skipped`]; so are
//! the headers a browser adds by itself. The most common origin becomes `${BASE_URL}` (others get
//! variables of their own), credentials become variables the user supplies (never the recorded
//! secret), and a value a response returned that a later request sends back (an id, a token, a
//! CSRF value) becomes an `output:` of the step that received it and a reference in the steps that
//! use it — so a replay uses the fresh values, not the recorded ones.

mod flow;
mod noise;
mod values;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;
use url::Url;

use crate::ImportError;
use crate::output::{Import, SourceKind};
use crate::source::Source;

use noise::Noise;

/// How entries are chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HarOptions {
    /// Keep static assets (scripts, styles, images, fonts, media).
    pub keep_static: bool,
    /// When not empty, keep only requests to these hosts (`api.example.com`, `localhost:8080`,
    /// `*.example.com`).
    pub include_hosts: Vec<String>,
}

/// Most steps a generated flow gets; longer pages are split into parts.
const MAX_STEPS: usize = 1000;

/// Imports an HTTP archive. Fails on input that is not a HAR (`log` or `log.entries` missing, an
/// entry without `request.url`, an unsupported version) with the location; an archive without
/// entries gives an import with no flows.
pub fn import(source: &Source, options: &HarOptions) -> Result<Import, ImportError> {
    let root = source.root();
    if !root.is_object() {
        return Err(source.invalid("", "a HAR file is a JSON object with a `log`"));
    }
    let Some(log) = root.get("log").filter(|l| l.is_object()) else {
        return Err(source.invalid("/log", "not a HAR file: `log` is missing or not an object"));
    };
    if let Some(version) = log.get("version") {
        let text = match version {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if !text.starts_with("1.") {
            return Err(source.invalid(
                "/log/version",
                format!("unsupported HAR version `{text}`; TestMesh reads HAR 1.1 and 1.2"),
            ));
        }
    }
    let entries = match log.get("entries") {
        Some(Value::Array(entries)) => entries,
        None => return Err(source.invalid("/log/entries", "`log.entries` is missing")),
        Some(_) => {
            return Err(source.invalid("/log/entries", "`log.entries` must be a list of entries"));
        }
    };
    let pages = pages(source, log)?;
    let stem = Path::new(source.file())
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "recording".to_string());
    let title = pages
        .first()
        .map(|p| p.title.clone())
        .unwrap_or_else(|| stem.clone());
    let mut import = Import::new(SourceKind::Har, title);
    if entries.is_empty() {
        import.skip(stem.as_str(), "the archive has no entries");
        return Ok(import);
    }

    let mut parsed = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        parsed.push(Entry::parse(source, entry, i)?);
    }
    // Noise, by category.
    let mut noise: BTreeMap<Noise, Vec<String>> = BTreeMap::new();
    let mut kept = Vec::new();
    for entry in parsed {
        match noise::classify(&entry, options) {
            Some(kind) => noise.entry(kind).or_default().push(entry.label()),
            None => kept.push(entry),
        }
    }
    for (kind, labels) in &noise {
        let mut examples: Vec<&str> = labels.iter().take(3).map(String::as_str).collect();
        if labels.len() > 3 {
            examples.push("…");
        }
        import.skip(
            format!("{} ({})", kind.count(labels.len()), examples.join(", ")),
            kind.reason(),
        );
    }
    if kept.is_empty() {
        import.skip(
            stem.as_str(),
            "no API requests are left once the noise is removed",
        );
        return Ok(import);
    }

    let origins = flow::Origins::new(&kept);
    // Group by page, in page order; entries of no (known) page last.
    let mut groups: Vec<(Option<&Page>, Vec<Entry<'_>>)> =
        pages.iter().map(|p| (Some(p), Vec::new())).collect();
    let mut loose = Vec::new();
    for entry in kept {
        let page = entry
            .pageref
            .as_deref()
            .and_then(|r| pages.iter().position(|p| p.id == r));
        match page.and_then(|i| groups.get_mut(i)) {
            Some((_, list)) => list.push(entry),
            None => loose.push(entry),
        }
    }
    if !loose.is_empty() {
        groups.push((None, loose));
    }
    let mut names: HashMap<String, usize> = HashMap::new();
    for (page, mut group) in groups {
        if group.is_empty() {
            continue;
        }
        if group.iter().all(|e| e.started.is_some()) {
            group.sort_by_key(|e| (e.started, e.index));
        }
        let base_name = match page {
            Some(p) => p.title.clone(),
            None if pages.is_empty() => stem.clone(),
            None => format!("{stem} (requests outside pages)"),
        };
        let count = names.entry(base_name.clone()).or_insert(0);
        *count += 1;
        let base_name = if *count > 1 {
            format!("{base_name} #{count}")
        } else {
            base_name
        };
        let parts = group.len().div_ceil(MAX_STEPS);
        for (part, chunk) in group.chunks(MAX_STEPS).enumerate() {
            let name = if parts > 1 {
                format!("{base_name} (part {})", part + 1)
            } else {
                base_name.clone()
            };
            let context = flow::Context {
                name: &name,
                file: source.file(),
                stem: &stem,
                page,
                origins: &origins,
            };
            let (flow, comments, notes) = flow::build(&context, chunk);
            for note in notes {
                import.untranslated(name.as_str(), note);
            }
            import.add_flow(name.as_str(), flow, &comments);
        }
    }
    Ok(import)
}

/// A recorded page.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    id: String,
    title: String,
    started: Option<String>,
}

fn pages(source: &Source, log: &Value) -> Result<Vec<Page>, ImportError> {
    let list = match log.get("pages") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(source.invalid("/log/pages", "`log.pages` must be a list")),
    };
    let mut out = Vec::new();
    for (i, page) in list.iter().enumerate() {
        let Some(id) = page.get("id").and_then(Value::as_str) else {
            return Err(source.invalid(&format!("/log/pages/{i}/id"), "a page needs a string `id`"));
        };
        let title = page
            .get("title")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or(id);
        out.push(Page {
            id: id.to_string(),
            title: title.to_string(),
            started: page
                .get("startedDateTime")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    Ok(out)
}

/// One entry, read and checked.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    index: usize,
    method: String,
    raw_url: String,
    url: Option<Url>,
    headers: Vec<(String, String)>,
    post: Option<&'a Value>,
    status: u16,
    response_mime: String,
    response_text: Option<String>,
    resource_type: String,
    started: Option<i64>,
    pageref: Option<String>,
}

impl<'a> Entry<'a> {
    fn parse(source: &Source, entry: &'a Value, index: usize) -> Result<Entry<'a>, ImportError> {
        let pointer = format!("/log/entries/{index}");
        if !entry.is_object() {
            return Err(source.invalid(
                &pointer,
                "an entry must be an object with `request` and `response`",
            ));
        }
        let Some(request) = entry.get("request").filter(|r| r.is_object()) else {
            return Err(source.invalid(
                &format!("{pointer}/request"),
                "an entry needs a `request` object",
            ));
        };
        let Some(method) = request.get("method").and_then(Value::as_str) else {
            return Err(source.invalid(
                &format!("{pointer}/request/method"),
                "an entry needs `request.method` (a string)",
            ));
        };
        let Some(raw_url) = request.get("url").and_then(Value::as_str) else {
            return Err(source.invalid(
                &format!("{pointer}/request/url"),
                "an entry needs `request.url` (a string)",
            ));
        };
        let headers = name_values(
            source,
            request.get("headers"),
            &format!("{pointer}/request/headers"),
        )?;
        let post = request.get("postData").filter(|p| p.is_object());
        let (status, response_mime, response_text) = match entry.get("response") {
            None | Some(Value::Null) => (0, String::new(), None),
            Some(response @ Value::Object(_)) => {
                let status = match response.get("status") {
                    Some(Value::Number(n)) => {
                        n.as_u64().and_then(|n| u16::try_from(n).ok()).unwrap_or(0)
                    }
                    None | Some(Value::Null) => 0,
                    Some(_) => {
                        return Err(source.invalid(
                            &format!("{pointer}/response/status"),
                            "`response.status` must be a number",
                        ));
                    }
                };
                let content = response.get("content");
                let mime = content
                    .and_then(|c| c.get("mimeType"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                let text = content.and_then(|c| c.get("text")).and_then(Value::as_str);
                let base64 = content
                    .and_then(|c| c.get("encoding"))
                    .and_then(Value::as_str)
                    == Some("base64");
                let text = match text {
                    Some(t) if base64 => decode_base64(t).and_then(|b| String::from_utf8(b).ok()),
                    Some(t) => Some(t.to_string()),
                    None => None,
                };
                (status, mime, text)
            }
            Some(_) => {
                return Err(source.invalid(
                    &format!("{pointer}/response"),
                    "`response` must be an object",
                ));
            }
        };
        Ok(Entry {
            index,
            method: method.trim().to_string(),
            raw_url: raw_url.to_string(),
            url: Url::parse(raw_url).ok(),
            headers,
            post,
            status,
            response_mime,
            response_text,
            resource_type: entry
                .get("_resourceType")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase(),
            started: entry
                .get("startedDateTime")
                .and_then(Value::as_str)
                .and_then(timestamp_ms),
            pageref: entry
                .get("pageref")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// `entries[3] GET https://…/app.js` (URLs shortened).
    fn label(&self) -> String {
        let url = if self.raw_url.chars().count() > 80 {
            self.raw_url.chars().take(77).collect::<String>() + "…"
        } else {
            self.raw_url.clone()
        };
        format!("entries[{}] {} {url}", self.index, self.method)
    }
}

/// A HAR `[{name, value}]` list.
fn name_values(
    source: &Source,
    list: Option<&Value>,
    pointer: &str,
) -> Result<Vec<(String, String)>, ImportError> {
    let list = match list {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(source.invalid(pointer, "must be a list of {name, value}")),
    };
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let Some(name) = item.get("name").and_then(Value::as_str) else {
            return Err(
                source.invalid(&format!("{pointer}/{i}"), "each item needs a string `name`")
            );
        };
        let value = match item.get("value") {
            Some(Value::String(v)) => v.clone(),
            None | Some(Value::Null) => String::new(),
            Some(other) => other.to_string(),
        };
        out.push((name.to_string(), value));
    }
    Ok(out)
}

/// Milliseconds since the Unix epoch of an RFC 3339 date-time (`2024-05-01T10:00:00.123+02:00`).
fn timestamp_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = text.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    let zone_at = rest
        .find(['Z', 'z', '+'])
        .or_else(|| rest.rfind('-'))
        .unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_at);
    let mut t = time.split(':');
    let hour: i64 = t.next()?.parse().ok()?;
    let minute: i64 = t.next()?.parse().ok()?;
    let seconds: f64 = t.next().unwrap_or("0").parse().ok()?;
    let offset_minutes = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (h, m) = z
                .get(1..)?
                .split_once(':')
                .unwrap_or((z.get(1..3)?, z.get(3..).unwrap_or("0")));
            sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().unwrap_or(0))
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 - offset_minutes * 60;
    Some(secs * 1000 + (seconds * 1000.0).round() as i64)
}

/// Standard base64 (padding optional); `None` when it is not base64.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_rfc3339_times_and_base64() {
        assert_eq!(timestamp_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            timestamp_ms("2024-05-01T10:00:00.250Z"),
            Some(1_714_557_600_250)
        );
        assert_eq!(
            timestamp_ms("2024-05-01T12:00:00.250+02:00"),
            Some(1_714_557_600_250)
        );
        assert_eq!(
            timestamp_ms("2024-05-01T05:30:00.250-04:30"),
            Some(1_714_557_600_250)
        );
        assert_eq!(timestamp_ms("yesterday"), None);
        assert_eq!(decode_base64("eyJhIjoxfQ==").unwrap(), b"{\"a\":1}");
        assert_eq!(decode_base64("not base64!"), None);
    }
}
