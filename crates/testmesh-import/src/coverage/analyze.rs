//! Matching calls to operations and measuring what they cover.
//!
//! A URL is reduced to the path the API sees: the `base_url` option, a leading variable
//! (`${BASE_URL}`, `{{baseUrl}}`), or scheme and host are removed, then the query string, the
//! fragment, the document's base path (`/v1`) and a trailing `/`. Path segments are compared one
//! by one: a literal segment of the template needs the same text; a `{param}` segment accepts any
//! text and any segment holding a variable (`${pet_id}`, `{{id}}`). Among the templates that
//! match with the call's method (compared without case), the most specific wins: more literal
//! segments, then literal segments earlier in the path (`/pets/mine` beats `/pets/{id}`).

use std::collections::{BTreeMap, HashMap};

use super::{Call, CallSource, Coverage, CoverageOptions, CoverageStatus, OperationCoverage};
use crate::openapi::OpenApi;

/// Most operations or calls one recommendation lists by name.
const LIST_LIMIT: usize = 10;

/// Matches `calls` to the operations of `api`; see the module documentation for how URLs are
/// matched and [`Coverage`] for what is measured.
pub fn analyze(api: &OpenApi, calls: &[Call], options: &CoverageOptions) -> Coverage {
    let router = Router::new(api);
    let mut reached: Vec<Vec<Call>> = vec![Vec::new(); api.operations.len()];
    let mut unmatched: Vec<(Call, String)> = Vec::new();
    for call in calls {
        match router.route(call, options) {
            Ok(index) => merge(&mut reached[index], call),
            Err(reason) => {
                match unmatched
                    .iter_mut()
                    .find(|(c, _)| same_origin(c, call) && c.url == call.url)
                {
                    Some((existing, _)) => merge_statuses(existing, &call.statuses),
                    None => unmatched.push((call.clone(), reason)),
                }
            }
        }
    }

    let mut operations = Vec::with_capacity(api.operations.len());
    for (op, covered_by) in api.operations.iter().zip(reached) {
        operations.push(operation_coverage(op, covered_by));
    }
    let total = operations.len();
    let covered = operations
        .iter()
        .filter(|o| o.status != CoverageStatus::Uncovered)
        .count();
    let partial = operations
        .iter()
        .filter(|o| o.status == CoverageStatus::Partial)
        .count();
    let with_history = calls.iter().any(|c| c.source == CallSource::History);
    let recommendations = recommendations(&operations, &unmatched, with_history);
    let title = [api.title.as_str(), api.api_version.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let (unmatched, unmatched_reasons) = unmatched.into_iter().unzip();
    Coverage {
        title,
        total,
        covered,
        partial,
        percent: percent(covered, total),
        operations,
        unmatched,
        recommendations,
        unmatched_reasons,
    }
}

/// `part / whole × 100` with one decimal; 0 when `whole` is 0.
fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 * 1000.0 / whole as f64).round() / 10.0
}

fn same_origin(a: &Call, b: &Call) -> bool {
    a.flow == b.flow && a.step == b.step && a.source == b.source
}

/// Adds `call` to an operation's calls: one entry per flow step and source, statuses merged.
fn merge(calls: &mut Vec<Call>, call: &Call) {
    match calls.iter_mut().find(|c| same_origin(c, call)) {
        Some(existing) => merge_statuses(existing, &call.statuses),
        None => calls.push(call.clone()),
    }
}

fn merge_statuses(call: &mut Call, statuses: &[u16]) {
    for status in statuses {
        if !call.statuses.contains(status) {
            call.statuses.push(*status);
        }
    }
    call.statuses.sort_unstable();
}

/// One segment of a path template.
enum TemplateSegment {
    Literal(String),
    /// A segment holding `{param}`s, as an anchored pattern.
    Param(regex::Regex),
}

struct Template {
    method: String,
    segments: Vec<TemplateSegment>,
    index: usize,
}

/// Templates with the same number of segments: by their first segment when it is literal (a
/// call can only match those with its own first segment), the others in `rest`.
#[derive(Default)]
struct Bucket {
    by_first: HashMap<String, Vec<Template>>,
    rest: Vec<Template>,
}

/// The operations' templates by number of segments.
struct Router {
    by_length: HashMap<usize, Bucket>,
    base_path: String,
}

impl Router {
    fn new(api: &OpenApi) -> Router {
        let mut by_length: HashMap<usize, Bucket> = HashMap::new();
        for (index, op) in api.operations.iter().enumerate() {
            let segments: Vec<TemplateSegment> = split(&op.path)
                .into_iter()
                .map(|s| match segment_pattern(s) {
                    Some(pattern) => TemplateSegment::Param(pattern),
                    None => TemplateSegment::Literal(s.to_string()),
                })
                .collect();
            let bucket = by_length.entry(segments.len()).or_default();
            let list = match segments.first() {
                Some(TemplateSegment::Literal(first)) => {
                    bucket.by_first.entry(first.clone()).or_default()
                }
                _ => &mut bucket.rest,
            };
            list.push(Template {
                method: op.method.as_str().to_ascii_uppercase(),
                segments,
                index,
            });
        }
        Router {
            by_length,
            base_path: api.base_path.clone(),
        }
    }

    /// The index of the operation `call` reaches, or why there is none.
    fn route(&self, call: &Call, options: &CoverageOptions) -> Result<usize, String> {
        let Some(path) = normalise(&call.url, options.base_url.as_deref(), &self.base_path) else {
            return Err(format!(
                "the URL `{}` is only a variable, so its path is unknown",
                call.url
            ));
        };
        let segments: Vec<&str> = split(&path);
        let method = call.method.trim().to_ascii_uppercase();
        let mut best: Option<(Vec<bool>, usize)> = None;
        let mut methods: Vec<&str> = Vec::new();
        let bucket = self.by_length.get(&segments.len());
        let same_first = bucket
            .zip(segments.first())
            .and_then(|(b, first)| b.by_first.get(*first));
        // Document order among equally specific templates.
        let mut candidates: Vec<&Template> = same_first
            .into_iter()
            .flatten()
            .chain(bucket.into_iter().flat_map(|b| b.rest.iter()))
            .collect();
        candidates.sort_by_key(|t| t.index);
        for template in candidates {
            let Some(score) = template_score(template, &segments) else {
                continue;
            };
            if template.method != method {
                if !methods.contains(&template.method.as_str()) {
                    methods.push(&template.method);
                }
                continue;
            }
            let better = match &best {
                None => true,
                Some((current, _)) => more_specific(&score, current),
            };
            if better {
                best = Some((score, template.index));
            }
        }
        match best {
            Some((_, index)) => Ok(index),
            None if methods.is_empty() => Err(format!("no operation has the path {path}")),
            None => Err(format!(
                "{path} is documented for {} but not for {method}",
                methods.join(", ")
            )),
        }
    }
}

/// Which segments matched literally, or `None` when the template does not match.
fn template_score(template: &Template, segments: &[&str]) -> Option<Vec<bool>> {
    let mut score = Vec::with_capacity(segments.len());
    for (expected, actual) in template.segments.iter().zip(segments) {
        let dynamic = is_dynamic(actual);
        match expected {
            TemplateSegment::Literal(text) => {
                if dynamic || text != actual {
                    return None;
                }
                score.push(true);
            }
            TemplateSegment::Param(pattern) => {
                let probe = if dynamic {
                    placeholder(actual)
                } else {
                    (*actual).to_string()
                };
                if probe.is_empty() || !pattern.is_match(&probe) {
                    return None;
                }
                score.push(false);
            }
        }
    }
    Some(score)
}

/// More literal segments wins; then a literal segment earlier in the path.
fn more_specific(a: &[bool], b: &[bool]) -> bool {
    let count = |s: &[bool]| s.iter().filter(|l| **l).count();
    match count(a).cmp(&count(b)) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => a > b,
    }
}

/// The segments of a path: `/pets/{id}` → `["pets", "{id}"]`; `/` → none.
fn split(path: &str) -> Vec<&str> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    }
}

/// The anchored pattern of a template segment holding `{param}`s (`{name}.{ext}` →
/// `^(.+)\.(.+)$`); `None` for a literal segment.
fn segment_pattern(segment: &str) -> Option<regex::Regex> {
    if !segment.contains('{') {
        return None;
    }
    let mut pattern = String::from("^");
    let mut rest = segment;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}')? + open;
        pattern.push_str(&regex::escape(&rest[..open]));
        pattern.push_str("(.+)");
        rest = &rest[close + 1..];
    }
    pattern.push_str(&regex::escape(rest));
    pattern.push('$');
    regex::Regex::new(&pattern).ok()
}

/// Whether a call's path segment holds a variable: `${…}`, `{{…}}`, or an OpenAPI-style `{…}`.
fn is_dynamic(segment: &str) -> bool {
    segment
        .find('{')
        .is_some_and(|open| segment[open..].contains('}'))
}

/// The segment with each variable replaced by one placeholder character, so `${id}.json`
/// matches `{id}.json` but not `{id}`… only where the literal text agrees.
fn placeholder(segment: &str) -> String {
    let mut out = String::new();
    let mut rest = segment;
    while let Some(open) = rest.find('{') {
        let start = if open > 0 && rest.as_bytes()[open - 1] == b'$' {
            open - 1
        } else {
            open
        };
        let double = rest[open..].starts_with("{{");
        let close_token = if double { "}}" } else { "}" };
        let Some(close) = rest[open..].find(close_token) else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push('\u{1}');
        rest = &rest[open + close + close_token.len()..];
    }
    out.push_str(rest);
    out
}

/// The length of a variable at the start of `text` (`${…}` or `{{…}}`), if it starts with one.
fn leading_variable(text: &str) -> Option<usize> {
    if text.starts_with("${") {
        text.find('}').map(|i| i + 1)
    } else if text.starts_with("{{") {
        text.find("}}").map(|i| i + 2)
    } else {
        None
    }
}

/// The path of a URL as the API sees it; `None` when the URL is only a variable.
pub(crate) fn normalise(url: &str, base_url: Option<&str>, base_path: &str) -> Option<String> {
    let mut rest = url.trim();
    if let Some(base) = base_url.map(|b| b.trim().trim_end_matches('/'))
        && !base.is_empty()
        && let Some(after) = rest.strip_prefix(base)
        && (after.is_empty() || after.starts_with(['/', '?', '#']))
    {
        rest = after;
    } else if let Some(len) = leading_variable(rest) {
        rest = &rest[len..];
        if rest.is_empty() || rest.starts_with(['?', '#']) {
            return None;
        }
    } else if let Some(i) = rest.find("://").filter(|i| {
        rest[..*i]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    }) {
        let after = &rest[i + 3..];
        rest = after.find('/').map_or("", |j| &after[j..]);
    } else if let Some(after) = rest.strip_prefix("//") {
        rest = after.find('/').map_or("", |j| &after[j..]);
    }
    let end = path_end(rest);
    let mut path = rest[..end].to_string();
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    if !base_path.is_empty()
        && let Some(after) = path.strip_prefix(base_path)
        && (after.is_empty() || after.starts_with('/'))
    {
        path = if after.is_empty() {
            "/".to_string()
        } else {
            after.to_string()
        };
    }
    while path.len() > 1 && path.ends_with('/') {
        path.pop();
    }
    Some(path)
}

/// Where the path ends: at the first `?` or `#` outside a variable.
fn path_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'?' | b'#' => return i,
            b'{' => {
                let close = if text[i..].starts_with("{{") {
                    text[i..].find("}}").map(|j| j + 2)
                } else {
                    text[i..].find('}').map(|j| j + 1)
                };
                i += close.unwrap_or(1);
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

fn operation_coverage(op: &crate::openapi::Operation, covered_by: Vec<Call>) -> OperationCoverage {
    let declared: Vec<String> = op.responses.iter().map(|r| r.status.clone()).collect();
    let seen: Vec<u16> = {
        let mut all: Vec<u16> = covered_by
            .iter()
            .flat_map(|c| c.statuses.iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    };
    let mut covered_statuses = Vec::new();
    let mut missing = Vec::new();
    for key in &declared {
        if key.eq_ignore_ascii_case("default") {
            continue;
        }
        if seen.iter().any(|s| status_covers(*s, key)) {
            covered_statuses.push(key.clone());
        } else {
            missing.push(key.clone());
        }
    }
    // Statuses no specific key declares: `default` covers them, or they are undeclared.
    let mut undeclared = Vec::new();
    let has_default = declared.iter().any(|k| k.eq_ignore_ascii_case("default"));
    for status in &seen {
        let declared_somewhere = declared
            .iter()
            .any(|k| !k.eq_ignore_ascii_case("default") && status_covers(*status, k));
        if declared_somewhere {
            continue;
        }
        if has_default {
            if !covered_statuses.iter().any(|k| k == "default") {
                covered_statuses.push("default".to_string());
            }
        } else {
            undeclared.push(super::status_label(*status));
        }
    }
    // Keep the document's order.
    covered_statuses.sort_by_key(|k| declared.iter().position(|d| d == k));
    let specific = declared
        .iter()
        .filter(|k| !k.eq_ignore_ascii_case("default"))
        .count();
    let reached = !covered_by.is_empty();
    let status = if !reached {
        CoverageStatus::Uncovered
    } else if missing.is_empty() {
        CoverageStatus::Covered
    } else {
        CoverageStatus::Partial
    };
    let status_coverage = match (reached, specific) {
        (false, _) => 0.0,
        (true, 0) => 100.0,
        (true, n) => percent(n - missing.len(), n),
    };
    OperationCoverage {
        method: op.method.as_str().to_ascii_uppercase(),
        path: op.path.clone(),
        operation_id: op.operation_id.clone(),
        summary: op.summary.clone(),
        tags: op.tags.clone(),
        deprecated: op.deprecated,
        status,
        covered_by,
        declared_statuses: declared,
        covered_statuses,
        missing_statuses: missing,
        undeclared_statuses: undeclared,
        status_coverage,
    }
}

/// Whether an asserted or observed status (a code, or a class digit) covers a response key
/// (`201`, `2XX`). A class covers every code of the class.
fn status_covers(status: u16, key: &str) -> bool {
    let key_class = key
        .strip_suffix(['X', 'x'])
        .and_then(|k| k.strip_suffix(['X', 'x']))
        .filter(|d| d.len() == 1)
        .and_then(|d| d.parse::<u16>().ok());
    let status_class = if (1..=5).contains(&status) {
        status
    } else {
        status / 100
    };
    match key_class {
        Some(class) => class == status_class,
        None => match key.parse::<u16>() {
            Ok(code) if (1..=5).contains(&status) => code / 100 == status,
            Ok(code) => code == status,
            Err(_) => false,
        },
    }
}

fn recommendations(
    operations: &[OperationCoverage],
    unmatched: &[(Call, String)],
    with_history: bool,
) -> Vec<String> {
    let mut out = Vec::new();

    // Uncovered operations, by their first tag.
    let mut by_tag: BTreeMap<&str, (Vec<&OperationCoverage>, usize)> = BTreeMap::new();
    for op in operations {
        let tag = op.tags.first().map_or("", String::as_str);
        let entry = by_tag.entry(tag).or_default();
        entry.1 += 1;
        if op.status == CoverageStatus::Uncovered {
            entry.0.push(op);
        }
    }
    for (tag, (uncovered, total)) in &by_tag {
        if uncovered.is_empty() {
            continue;
        }
        let group = if tag.is_empty() {
            "Untagged operations".to_string()
        } else {
            format!("Tag `{tag}`")
        };
        out.push(format!(
            "{group}: {} of {total} operation{} ha{} no flow: {}. Generate flows for {} with \
             `testmesh import openapi`.",
            uncovered.len(),
            if *total == 1 { "" } else { "s" },
            if uncovered.len() == 1 { "s" } else { "ve" },
            listing(uncovered.iter().map(|o| o.label())),
            if uncovered.len() == 1 { "it" } else { "them" }
        ));
    }

    // Declared statuses never asserted nor observed.
    let never = |count: usize| {
        let them = if count == 1 { "it" } else { "them" };
        if with_history {
            format!("no flow asserts {them} and no recorded run returned {them}")
        } else {
            format!("no flow asserts {them}")
        }
    };
    for op in operations
        .iter()
        .filter(|o| o.status == CoverageStatus::Partial)
    {
        let errors: Vec<&String> = op
            .missing_statuses
            .iter()
            .filter(|s| s.starts_with('4') || s.starts_with('5'))
            .collect();
        let others: Vec<&String> = op
            .missing_statuses
            .iter()
            .filter(|s| !(s.starts_with('4') || s.starts_with('5')))
            .collect();
        if !errors.is_empty() {
            out.push(format!(
                "{} declares {} but {}: run `testmesh import openapi --negative` for flows that \
                 send invalid input, or assert {} in a flow.",
                op.label(),
                and_list(&errors),
                never(errors.len()),
                if errors.len() == 1 { "it" } else { "them" }
            ));
        }
        if !others.is_empty() {
            out.push(format!(
                "{} declares {} but {}.",
                op.label(),
                and_list(&others),
                never(others.len())
            ));
        }
    }

    // Deprecated operations still in use.
    for op in operations
        .iter()
        .filter(|o| o.deprecated && o.status != CoverageStatus::Uncovered)
    {
        out.push(format!(
            "{} is deprecated but still called by {}: move {} to its replacement.",
            op.label(),
            listing(op.flows().into_iter().map(|f| format!("`{f}`"))),
            if op.flows().len() == 1 { "it" } else { "them" }
        ));
    }

    // Calls that reach nothing.
    if !unmatched.is_empty() {
        out.push(format!(
            "{} call{} match{} no operation of the document (an undocumented endpoint, a typo, \
             or a base URL the analysis was not given): {}.",
            unmatched.len(),
            if unmatched.len() == 1 { "" } else { "s" },
            if unmatched.len() == 1 { "es" } else { "" },
            listing(unmatched.iter().map(|(c, reason)| format!(
                "{} {} (flow `{}`, step `{}`: {reason})",
                c.method.to_ascii_uppercase(),
                c.url,
                c.flow,
                c.step
            )))
        ));
    }

    // Statuses the document does not declare.
    for op in operations
        .iter()
        .filter(|o| !o.undeclared_statuses.is_empty())
    {
        let statuses: Vec<&String> = op.undeclared_statuses.iter().collect();
        out.push(format!(
            "{}: flows expect {}, which the document does not declare: document {} or fix the \
             assertion.",
            op.label(),
            and_list(&statuses),
            if statuses.len() == 1 { "it" } else { "them" }
        ));
    }
    out
}

/// `a, b and c`.
fn and_list(items: &[&String]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).clone(),
        [init @ .., last] => format!(
            "{} and {last}",
            init.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Up to [`LIST_LIMIT`] items joined with `, `, then `and N more`.
fn listing(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    let shown = items
        .iter()
        .take(LIST_LIMIT)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > LIST_LIMIT {
        format!("{shown} and {} more", items.len() - LIST_LIMIT)
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_reduced_to_api_paths() {
        let n = |url: &str| normalise(url, None, "/v1");
        assert_eq!(
            n("${BASE_URL}/pets/${id}?x=1#top").as_deref(),
            Some("/pets/${id}")
        );
        assert_eq!(n("{{baseUrl}}/pets/").as_deref(), Some("/pets"));
        assert_eq!(
            n("https://api.example.com/v1/pets").as_deref(),
            Some("/pets")
        );
        assert_eq!(n("http://h:8080").as_deref(), Some("/"));
        assert_eq!(n("//h/v1/pets/mine").as_deref(), Some("/pets/mine"));
        assert_eq!(n("/v1").as_deref(), Some("/"));
        assert_eq!(n("/v10/pets").as_deref(), Some("/v10/pets"));
        assert_eq!(n("${next_page}"), None);
        assert_eq!(n("${BASE_URL}/q?a=${x ?? 'y'}").as_deref(), Some("/q"));
        assert_eq!(
            normalise(
                "http://localhost:8080/api/pets",
                Some("http://localhost:8080/api/"),
                ""
            )
            .as_deref(),
            Some("/pets")
        );
    }

    #[test]
    fn statuses_cover_keys_and_classes() {
        assert!(status_covers(201, "201"));
        assert!(!status_covers(200, "201"));
        assert!(status_covers(404, "4XX"));
        assert!(status_covers(4, "404"));
        assert!(status_covers(4, "4xx"));
        assert!(!status_covers(5, "404"));
        assert!(!status_covers(200, "default"));
    }

    #[test]
    fn placeholders_keep_literal_text() {
        assert_eq!(placeholder("${id}.json"), "\u{1}.json");
        assert_eq!(placeholder("{{id}}"), "\u{1}");
        assert_eq!(placeholder("a{b}c"), "a\u{1}c");
        let Some(re) = segment_pattern("{name}.{ext}") else {
            panic!("no pattern")
        };
        assert!(re.is_match("\u{1}.json"));
        assert!(!re.is_match("\u{1}"));
        assert!(more_specific(&[true, false], &[false, true]));
        assert!(more_specific(&[true, true], &[true, false]));
    }
}
