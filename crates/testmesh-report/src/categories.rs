//! Failure categories: an error message normalised into a kind and a signature, so failures with
//! the same cause group together ("12 failures, 3 causes") however their numbers, ids, quoted
//! values, durations and ports differ.
//!
//! The runner wraps a step's error in context (`[main] step 'pay' (http_request): …`,
//! `iteration 3 failed: step 'check': …`); that context is peeled off first, so an execution's
//! error and its failed step's error fall into the same category. The kind is then read from the
//! message's own words (the texts the runner, the contract verifier and the mock server produce),
//! with the runner's error kind as a fallback, and the message is normalised into the signature.

/// A failure's normalised cause.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cause {
    /// One of [`KINDS`].
    pub kind: &'static str,
    /// The normalised message, at most [`SIGNATURE_MAX_CHARS`] characters.
    pub signature: String,
}

/// Every kind [`categorize`] returns.
pub const KINDS: [&str; 12] = [
    STATUS_MISMATCH,
    ASSERTION,
    TIMEOUT,
    CONNECTION_REFUSED,
    DNS,
    TLS,
    CONNECTION,
    CONTRACT_MISMATCH,
    MOCK_UNMATCHED,
    DATABASE,
    CONFIG,
    OTHER,
];

/// An assertion on the response status failed.
pub const STATUS_MISMATCH: &str = "status_mismatch";
/// Any other assertion failed.
pub const ASSERTION: &str = "assertion";
/// A step, a wait or the flow ran out of time.
pub const TIMEOUT: &str = "timeout";
/// The target refused the connection.
pub const CONNECTION_REFUSED: &str = "connection_refused";
/// The host name could not be resolved.
pub const DNS: &str = "dns";
/// The TLS handshake failed.
pub const TLS: &str = "tls";
/// Another connection failure (reset, unreachable, a database that cannot be reached).
pub const CONNECTION: &str = "connection";
/// A provider did not honour a contract.
pub const CONTRACT_MISMATCH: &str = "contract_mismatch";
/// A mock server did not receive the requests a flow expected.
pub const MOCK_UNMATCHED: &str = "mock_unmatched";
/// A database statement failed.
pub const DATABASE: &str = "database";
/// The flow's configuration could not be used (undefined variable, invalid value, unknown action).
pub const CONFIG: &str = "config";
/// Anything else.
pub const OTHER: &str = "other";

/// The longest signature, in characters.
pub const SIGNATURE_MAX_CHARS: usize = 200;

/// The cause of a failure. `message` is a step's or an execution's error; `error_kind` the
/// runner's kind when known (`timeout`, `connection`, `assertion`, `action`, `config`,
/// `unsupported`). The kind comes from the message first because a step that wraps others
/// (`for_each`, `parallel`, `condition`, `run_flow`) reports `action` whatever failed inside.
pub fn categorize(message: &str, error_kind: Option<&str>) -> Cause {
    let core = peel(head(message, MAX_READ_BYTES).trim());
    let kind = kind_of(core, error_kind);
    let text = match kind {
        STATUS_MISMATCH => status_lines(core),
        MOCK_UNMATCHED => mock_lines(core),
        _ => core.to_string(),
    };
    let mut signature = normalize(&text);
    if signature.is_empty() {
        signature = "(no message)".to_string();
    }
    Cause { kind, signature }
}

/// How much of a message is read: the cause and everything a signature keeps come first, and a
/// message may quote a whole response body.
const MAX_READ_BYTES: usize = 16 * 1024;

/// The first `max` bytes of `text`, cut on a character boundary.
fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let cut = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    &text[..cut]
}

/// Removes the context the runner puts around a step's error, outermost first.
fn peel(mut message: &str) -> &str {
    loop {
        let inner = flow_step_prefix(message)
            .or_else(|| step_prefix(message))
            .or_else(|| iteration_prefix(message))
            .or_else(|| parallel_prefix(message))
            .or_else(|| {
                // `run_flow`: "flow 'checkout' failed: [main] step …"
                message
                    .strip_prefix("flow '")
                    .and_then(|rest| rest.split_once("' failed: "))
                    .map(|(_, inner)| inner)
            });
        match inner {
            Some(inner) => message = inner.trim_start(),
            None => return message,
        }
    }
}

/// "[main] step 'pay' (http_request): …" (an execution's error).
fn flow_step_prefix(message: &str) -> Option<&str> {
    let rest = message.strip_prefix('[')?;
    let (phase, rest) = rest.split_once("] step '")?;
    if !phase.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let (_, rest) = rest.split_once("' (")?;
    let (action, inner) = rest.split_once("): ")?;
    action
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        .then_some(inner)
}

/// "step 'x' in `then` failed: …" (condition) and "step 'x': …" (a loop iteration).
fn step_prefix(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("step '")?;
    let (id, rest) = rest.split_once('\'')?;
    if id.chars().any(char::is_whitespace) {
        return None;
    }
    rest.strip_prefix(": ").or_else(|| {
        let rest = rest.strip_prefix(" in `")?;
        let (_, inner) = rest.split_once("` failed: ")?;
        Some(inner)
    })
}

/// "iteration 3 failed: …" (for_each).
fn iteration_prefix(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("iteration ")?;
    let (index, inner) = rest.split_once(" failed: ")?;
    is_digits(index).then_some(inner)
}

/// "2 of 3 parallel steps failed; 'a': …" (parallel).
fn parallel_prefix(message: &str) -> Option<&str> {
    let (counts, rest) = message.split_once(" parallel steps failed; '")?;
    let (failed, total) = counts.split_once(" of ")?;
    if !is_digits(failed) || !is_digits(total) {
        return None;
    }
    let (_, inner) = rest.split_once("': ")?;
    Some(inner)
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The kind, by the first rule that matches (`docs/analytics.md` lists them in this order).
fn kind_of(message: &str, error_kind: Option<&str>) -> &'static str {
    let lower = message.to_lowercase();
    let m = lower.as_str();
    // The contract verifier's and the mock server's reports quote the requests and responses
    // they saw, so they are recognised before any phrase those could contain.
    if m.contains(" interactions failed") && m.contains(" of ") {
        return CONTRACT_MISMATCH;
    }
    if m.contains("mock assertion(s) failed on mock server") || m.contains("no endpoint matched") {
        return MOCK_UNMATCHED;
    }
    // Assertion messages quote actual values, which may say anything ("timed out", "refused").
    if m.starts_with("assertion failed") {
        return if has_status_assertion(message) {
            STATUS_MISMATCH
        } else {
            ASSERTION
        };
    }
    // Timeouts the runner reports; a wait that ran out says why last, but ran out of time first.
    if m.starts_with("timed out")
        || m.starts_with("query timed out")
        || m.starts_with("wait_for failed after")
        || (m.starts_with("db_poll:") && m.contains(" not met after "))
        || m.contains("did not become true within")
        || m.contains("the flow's time limit ran out")
    {
        return TIMEOUT;
    }
    if m.contains("tls handshake failed") || m.contains(": tls: ") || m.starts_with("tls: ") {
        return TLS;
    }
    if m.contains("cannot resolve host")
        || m.contains("dns error")
        || m.contains("failed to lookup address")
        || m.contains("name or service not known")
    {
        return DNS;
    }
    if m.contains("connection refused") {
        return CONNECTION_REFUSED;
    }
    if m.starts_with("sql error") {
        return DATABASE;
    }
    if m.starts_with("cannot connect to")
        || m.starts_with("connection reset")
        || (m.starts_with("request to ") && m.contains(" failed: "))
    {
        return CONNECTION;
    }
    // "oauth2 token request to https://… returned 401 Unauthorized: …"
    if returned_status(m) {
        return STATUS_MISMATCH;
    }
    if m.starts_with("in config:")
        || m.starts_with("unknown action type")
        || m.contains("is not available in this version of testmesh")
    {
        return CONFIG;
    }
    match error_kind {
        Some("timeout") => TIMEOUT,
        Some("connection") => CONNECTION,
        Some("assertion") => ASSERTION,
        Some("config" | "unsupported") => CONFIG,
        _ => OTHER,
    }
}

/// " returned " followed by a three-digit HTTP status.
fn returned_status(lower: &str) -> bool {
    lower.match_indices(" returned ").any(|(at, found)| {
        let rest = &lower[at + found.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        digits == 3
            && rest
                .as_bytes()
                .get(3)
                .is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}

/// The failed-assertion lines of an "assertion failed:" message (`  - <expression>: <why>`).
fn assertion_lines(message: &str) -> impl Iterator<Item = &str> {
    message
        .lines()
        .skip(1)
        .filter_map(|line| line.trim_start().strip_prefix("- "))
}

/// Whether an assertion on the response status failed: `status == 201`, `response.status < 400`,
/// `status in [200, 201]`, `any of: status == 200 | …`.
fn has_status_assertion(message: &str) -> bool {
    assertion_lines(message).any(is_status_assertion)
}

fn is_status_assertion(line: &str) -> bool {
    let expression = line
        .strip_prefix("any of: ")
        .or_else(|| line.strip_prefix("none: "))
        .unwrap_or(line);
    [
        "response.status_code",
        "response.status",
        "status_code",
        "status",
    ]
    .iter()
    .any(|name| {
        expression.strip_prefix(name).is_some_and(|rest| {
            rest.chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'))
        })
    })
}

/// "assertion failed:" with only the status assertions: when the status is wrong, the body
/// assertions that fail with it are consequences, and how many there are varies.
fn status_lines(message: &str) -> String {
    let mut text = String::from("assertion failed:");
    for line in assertion_lines(message).filter(|l| is_status_assertion(l)) {
        text.push_str("\n  - ");
        text.push_str(line);
    }
    if !text.contains('\n') {
        // Not an assertion message: a status an action reported.
        return message.to_string();
    }
    text
}

/// The mock verification summary and each failed expectation with its expected and actual
/// counts; the near misses and the journal of received requests (times, order) are left out.
fn mock_lines(message: &str) -> String {
    let mut lines = message.lines();
    let mut text = lines.next().unwrap_or_default().to_string();
    for line in lines {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[')
            || trimmed.starts_with("expected:")
            || trimmed.starts_with("actual:")
        {
            text.push('\n');
            text.push_str(trimmed);
        }
    }
    text
}

/// Replaces what varies between failures of one cause and collapses whitespace; cuts at
/// [`SIGNATURE_MAX_CHARS`].
pub(crate) fn normalize(message: &str) -> String {
    let chars: Vec<char> = message.chars().collect();
    let mut out = Signature::default();
    let mut i = 0;
    while i < chars.len() && !out.full {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let at_word_start = prev.is_none_or(|p| !p.is_alphanumeric());
        if c.is_whitespace() {
            out.space();
            i += 1;
            continue;
        }
        if at_word_start {
            if (c == '"' || c == '\'')
                && let Some(end) = quoted_end(&chars, i)
            {
                out.push("<v>");
                i = end;
                continue;
            }
            if c.is_ascii_alphabetic()
                && let Some((end, url)) = url_at(&chars, i)
            {
                out.push_cut(&url);
                i = end;
                continue;
            }
            if let Some(end) = uuid_end(&chars, i) {
                out.push("<id>");
                i = end;
                continue;
            }
            if c.is_ascii_digit() {
                if let Some(end) = timestamp_end(&chars, i) {
                    out.push("<ts>");
                    i = end;
                    continue;
                }
                if let Some((end, token)) = number_at(&chars, i) {
                    out.push(token);
                    i = end;
                    continue;
                }
            }
            if c.is_alphanumeric() {
                let end = word_end(&chars, i);
                let word: String = chars[i..end].iter().collect();
                if is_hex_id(&word) {
                    out.push("<id>");
                } else {
                    out.push_cut(&word);
                }
                i = end;
                continue;
            }
        }
        out.push_char(c);
        i += 1;
    }
    out.finish()
}

/// The signature being built: whitespace collapsed, never longer than the limit, placeholders
/// such as `<n>` never cut in half.
#[derive(Default)]
struct Signature {
    text: String,
    chars: usize,
    pending_space: bool,
    full: bool,
}

impl Signature {
    fn space(&mut self) {
        self.pending_space = self.chars > 0;
    }

    fn push(&mut self, token: &str) {
        let len = token.chars().count();
        let space = usize::from(self.pending_space);
        if self.chars + space + len > SIGNATURE_MAX_CHARS {
            self.full = true;
            return;
        }
        if self.pending_space {
            self.text.push(' ');
            self.pending_space = false;
        }
        self.text.push_str(token);
        self.chars += space + len;
    }

    /// Pushes literal text, as much of it as fits (a long word or URL is cut, not dropped).
    fn push_cut(&mut self, text: &str) {
        for c in text.chars() {
            if self.full {
                return;
            }
            self.push_char(c);
        }
    }

    fn push_char(&mut self, c: char) {
        let mut buf = [0; 4];
        self.push(c.encode_utf8(&mut buf));
    }

    fn finish(self) -> String {
        self.text
    }
}

/// The index after a quoted value starting at `start` (`"…"` with backslash escapes, or `'…'`),
/// closed on the same line and not followed by a letter or digit (so "don't" is no quote).
fn quoted_end(chars: &[char], start: usize) -> Option<usize> {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\n' => return None,
            '\\' if quote == '"' => i += 2,
            c if c == quote => {
                let next = chars.get(i + 1);
                return next.is_none_or(|n| !n.is_alphanumeric()).then_some(i + 1);
            }
            _ => i += 1,
        }
    }
    None
}

/// A URL at `start` as scheme, host and path, with the port, credentials, query and fragment
/// left out and ids in the path replaced: `http://localhost:8080/users/42?x=1` →
/// `http://localhost/users/<id>`.
fn url_at(chars: &[char], start: usize) -> Option<(usize, String)> {
    let mut i = start;
    while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "+.-".contains(chars[i])) {
        i += 1;
    }
    let scheme: String = chars[start..i].iter().collect();
    if chars.get(i..i + 3) != Some(&[':', '/', '/']) {
        return None;
    }
    i += 3;
    let rest_start = i;
    while i < chars.len() && !chars[i].is_whitespace() && !"\"'`<>".contains(chars[i]) {
        i += 1;
    }
    // Punctuation that ends a sentence or a parenthesis is not part of the URL.
    while i > rest_start && ".,;:)]".contains(chars[i - 1]) {
        i -= 1;
    }
    let rest: String = chars[rest_start..i].iter().collect();
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if host_port.starts_with('[') {
        // An IPv6 literal: the port follows the closing bracket.
        host_port
            .split_once(']')
            .map_or(host_port, |(h, _)| &host_port[..=h.len()])
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let mut url = format!("{}://{host}", scheme.to_lowercase());
    for segment in path.split('/').skip(1) {
        url.push('/');
        if is_id_segment(segment) {
            url.push_str("<id>");
        } else {
            url.push_str(&normalize(segment));
        }
    }
    Some((i, url))
}

/// A path segment that names one record: a number, a UUID or a hex id.
fn is_id_segment(segment: &str) -> bool {
    let chars: Vec<char> = segment.chars().collect();
    is_digits(segment) || uuid_end(&chars, 0) == Some(chars.len()) || is_hex_id(segment)
}

/// A hex id: 8 or more hex digits with at least one digit and one letter (a commit, an object
/// id). All-digit words are numbers; words without digits are words.
fn is_hex_id(word: &str) -> bool {
    word.len() >= 8
        && word.chars().all(|c| c.is_ascii_hexdigit())
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic())
}

/// The index after a UUID (8-4-4-4-12 hex digits) at `start`, when one ends there.
fn uuid_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start;
    for (n, group) in [8, 4, 4, 4, 12].iter().enumerate() {
        if n > 0 {
            if chars.get(i) != Some(&'-') {
                return None;
            }
            i += 1;
        }
        for _ in 0..*group {
            if !chars.get(i).is_some_and(char::is_ascii_hexdigit) {
                return None;
            }
            i += 1;
        }
    }
    chars
        .get(i)
        .is_none_or(|c| !c.is_alphanumeric())
        .then_some(i)
}

/// The index after an RFC 3339 / ISO 8601 date or date-time at `start`
/// (`2024-05-01`, `2024-05-01T12:00:00.123Z`, `2024-05-01 12:00:00+02:00`).
fn timestamp_end(chars: &[char], start: usize) -> Option<usize> {
    let digits = |from: usize, n: usize| {
        (from..from + n).all(|j| chars.get(j).is_some_and(char::is_ascii_digit))
    };
    let at = |j: usize, c: char| chars.get(j) == Some(&c);
    let date = digits(start, 4)
        && at(start + 4, '-')
        && digits(start + 5, 2)
        && at(start + 7, '-')
        && digits(start + 8, 2);
    if !date {
        return None;
    }
    let mut i = start + 10;
    if (at(i, 'T') || at(i, ' ')) && digits(i + 1, 2) && at(i + 3, ':') && digits(i + 4, 2) {
        i += 6;
        if at(i, ':') && digits(i + 1, 2) {
            i += 3;
            if at(i, '.') && digits(i + 1, 1) {
                i += 1;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
            }
        }
        if at(i, 'Z') {
            i += 1;
        } else if (at(i, '+') || at(i, '-')) && digits(i + 1, 2) {
            i += 3;
            if at(i, ':') && digits(i + 1, 2) {
                i += 3;
            } else if digits(i, 2) {
                i += 2;
            }
        }
    }
    chars
        .get(i)
        .is_none_or(|c| !c.is_alphanumeric())
        .then_some(i)
}

/// Units of durations as TestMesh and people write them: `500ms`, `1.5s`, `2m30s`, `1h`.
const DURATION_UNITS: [&str; 7] = ["ns", "us", "µs", "ms", "s", "m", "h"];

/// Words that make a number a duration: `30 seconds`.
const DURATION_WORDS: [&str; 10] = [
    "ms",
    "millisecond",
    "milliseconds",
    "s",
    "sec",
    "secs",
    "second",
    "seconds",
    "minutes",
    "hours",
];

/// A number (`<n>`) or a duration (`<d>`) at `start`, with the index after it; `None` when the
/// digits are part of a word such as `42P01` or `3xx`.
fn number_at(chars: &[char], start: usize) -> Option<(usize, &'static str)> {
    let digits_from = |mut j: usize| {
        while chars.get(j).is_some_and(char::is_ascii_digit) {
            j += 1;
        }
        j
    };
    // 0x1f: a hex number.
    if chars[start] == '0' && chars.get(start + 1) == Some(&'x') {
        let mut j = start + 2;
        while chars.get(j).is_some_and(char::is_ascii_hexdigit) {
            j += 1;
        }
        if j > start + 2 && chars.get(j).is_none_or(|c| !c.is_alphanumeric()) {
            return Some((j, "<n>"));
        }
    }
    let number_end = |j: usize| {
        let j = digits_from(j);
        if chars.get(j) == Some(&'.') && chars.get(j + 1).is_some_and(char::is_ascii_digit) {
            digits_from(j + 1)
        } else {
            j
        }
    };
    let mut i = number_end(start);
    let mut duration = false;
    // Unit letters right after the number, possibly repeated: 2m30s, 1h5m.
    loop {
        let unit_end = {
            let mut j = i;
            while chars.get(j).is_some_and(|c| c.is_alphabetic()) {
                j += 1;
            }
            j
        };
        if unit_end == i {
            break;
        }
        let unit: String = chars[i..unit_end].iter().collect();
        if !DURATION_UNITS.contains(&unit.as_str()) {
            return None;
        }
        duration = true;
        i = unit_end;
        if chars.get(i).is_some_and(char::is_ascii_digit) {
            i = number_end(i);
            if !chars.get(i).is_some_and(|c| c.is_alphabetic()) {
                // 1m30: a number glued to a duration is not one we know.
                return None;
            }
        } else {
            break;
        }
    }
    if chars.get(i).is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    if !duration && chars.get(i) == Some(&' ') {
        let mut j = i + 1;
        while chars.get(j).is_some_and(|c| c.is_alphabetic()) {
            j += 1;
        }
        let word: String = chars[i + 1..j].iter().collect();
        if DURATION_WORDS.contains(&word.as_str()) {
            return Some((j, "<d>"));
        }
    }
    Some((i, if duration { "<d>" } else { "<n>" }))
}

/// The index after the run of letters and digits at `start`.
fn word_end(chars: &[char], start: usize) -> usize {
    let mut i = start;
    while chars.get(i).is_some_and(|c| c.is_alphanumeric()) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that every message has `kind` and that they all share one signature; returns it.
    fn same_cause(kind: &str, messages: &[(&str, Option<&str>)]) -> String {
        let causes: Vec<Cause> = messages
            .iter()
            .map(|(message, error_kind)| categorize(message, *error_kind))
            .collect();
        for (cause, (message, _)) in causes.iter().zip(messages) {
            assert_eq!(cause.kind, kind, "kind of {message:?}");
            assert_eq!(
                cause.signature, causes[0].signature,
                "signature of {message:?}"
            );
        }
        causes[0].signature.clone()
    }

    // The texts below are the runner's, the contract verifier's and the mock server's, as they
    // reach the store: an execution's error carries the `[phase] step 'id' (action): ` prefix, a
    // step's error does not.

    #[test]
    fn status_mismatches_share_a_signature_whatever_the_codes_and_the_body_checks() {
        let signature = same_cause(
            STATUS_MISMATCH,
            &[
                (
                    "[main] step 'create_order' (http_request): assertion failed:\n  - status == 201: expected status == 201, but status is 404",
                    None,
                ),
                (
                    "assertion failed:\n  - status == 200: expected status == 200, but status is 500\n  - body.id exists: expected body.id exists, but body.id is missing",
                    Some("assertion"),
                ),
            ],
        );
        assert_eq!(
            signature,
            "assertion failed: - status == <n>: expected status == <n>, but status is <n>"
        );
        // A user's own message on a status assertion is still about the status.
        let cause = categorize(
            "assertion failed:\n  - response.status < 400: the order service must accept the order",
            Some("assertion"),
        );
        assert_eq!(cause.kind, STATUS_MISMATCH);
        assert_eq!(
            cause.signature,
            "assertion failed: - response.status < <n>: the order service must accept the order"
        );
        // `status_text` and `body.status` are not the response status.
        let cause = categorize(
            "assertion failed:\n  - body.status == 'paid': expected body.status == 'paid', but body.status is \"pending\"",
            Some("assertion"),
        );
        assert_eq!(cause.kind, ASSERTION);
        assert_eq!(
            cause.signature,
            "assertion failed: - body.status == <v>: expected body.status == <v>, but body.status is <v>"
        );
    }

    #[test]
    fn assertions_keep_the_field_and_lose_the_values() {
        let signature = same_cause(
            ASSERTION,
            &[
                (
                    "assertion failed:\n  - body.users[0].name startsWith 'B': expected body.users[0].name startsWith 'B', but body.users[0].name is \"Ann\"",
                    Some("assertion"),
                ),
                (
                    "[main] step 'list' (http_request): assertion failed:\n  - body.users[3].name startsWith 'C': expected body.users[3].name startsWith 'C', but body.users[3].name is \"Bob\"",
                    None,
                ),
            ],
        );
        assert_eq!(
            signature,
            "assertion failed: - body.users[<n>].name startsWith <v>: expected body.users[<n>].name startsWith <v>, but body.users[<n>].name is <v>"
        );
        let other_field = categorize(
            "assertion failed:\n  - body.total == 10: expected body.total == 10, but body.total is 12",
            Some("assertion"),
        );
        assert_eq!(other_field.kind, ASSERTION);
        assert_eq!(
            other_field.signature,
            "assertion failed: - body.total == <n>: expected body.total == <n>, but body.total is <n>"
        );
        let missing = categorize(
            "assertion failed:\n  - body.meta exists: expected body.meta exists, but body.meta is missing",
            Some("assertion"),
        );
        assert_ne!(missing.signature, other_field.signature);
        // The `assert` action lists the data's fields after the failures.
        let cause = categorize(
            "assertion failed:\n  - count > 5: expected count > 5, but count is 2\n  (data has: count, items)",
            Some("assertion"),
        );
        assert_eq!(
            cause.signature,
            "assertion failed: - count > <n>: expected count > <n>, but count is <n> (data has: count, items)"
        );
    }

    #[test]
    fn timeouts() {
        let signature = same_cause(
            TIMEOUT,
            &[
                ("timed out after 30s", Some("timeout")),
                ("timed out after 1.5s", Some("timeout")),
                (
                    "[main] step 'slow' (http_request): timed out after 2m30s",
                    None,
                ),
                ("timed out after 250ms", None),
            ],
        );
        assert_eq!(signature, "timed out after <d>");
        let signature = same_cause(
            TIMEOUT,
            &[
                ("timed out: http://localhost:38111/slow", Some("timeout")),
                (
                    "timed out: http://localhost:40999/slow?delay=5",
                    Some("timeout"),
                ),
            ],
        );
        assert_eq!(signature, "timed out: http://localhost/slow");
        let signature = same_cause(
            TIMEOUT,
            &[
                (
                    "`body.status == 'done'` did not become true within 1m (12 checks)",
                    Some("timeout"),
                ),
                (
                    "`body.status == 'done'` did not become true within 30s (3 checks)",
                    Some("timeout"),
                ),
            ],
        );
        assert_eq!(
            signature,
            "`body.status == <v>` did not become true within <d> (<n> checks)"
        );
        let signature = same_cause(
            TIMEOUT,
            &[
                (
                    "wait_for failed after 10 attempts: connection refused: http://127.0.0.1:8080/health",
                    Some("timeout"),
                ),
                (
                    "wait_for failed after 3 attempts: connection refused: http://127.0.0.1:9091/health",
                    Some("timeout"),
                ),
            ],
        );
        assert_eq!(
            signature,
            "wait_for failed after <n> attempts: connection refused: http://127.0.0.1/health"
        );
        let signature = same_cause(
            TIMEOUT,
            &[
                (
                    "db_poll: status = 'shipped' not met after 5 attempt(s) in 2.5s; last result: 1 row(s), first {\"id\":17,\"status\":\"pending\"}",
                    Some("timeout"),
                ),
                (
                    "db_poll: status = 'shipped' not met after 12 attempt(s) in 6s; last result: 1 row(s), first {\"id\":4,\"status\":\"packed\"}",
                    Some("timeout"),
                ),
            ],
        );
        assert_eq!(
            signature,
            "db_poll: status = <v> not met after <n> attempt(s) in <d>; last result: <n> row(s), first {<v>:<n>,<v>:<v>}"
        );
        assert_eq!(
            categorize(
                "[main] step 'wait' (wait_until): the flow's time limit ran out",
                None
            )
            .signature,
            "the flow's time limit ran out"
        );
        assert_eq!(
            categorize("query timed out after 5s", Some("timeout")).signature,
            "query timed out after <d>"
        );
    }

    #[test]
    fn connection_failures_by_cause() {
        let signature = same_cause(
            CONNECTION_REFUSED,
            &[
                (
                    "[main] step 'get_user' (http_request): connection refused: http://localhost:38111/api/users/42",
                    None,
                ),
                (
                    "connection refused: http://localhost:40222/api/users/7",
                    Some("connection"),
                ),
                (
                    "connection refused: http://localhost:40222/api/users/3f0c6a2e-8d4b-4c1e-9a7f-0b1c2d3e4f50",
                    Some("connection"),
                ),
            ],
        );
        assert_eq!(
            signature,
            "connection refused: http://localhost/api/users/<id>"
        );
        let other_host = categorize(
            "connection refused: http://payments.internal:8080/charge",
            Some("connection"),
        );
        assert_eq!(other_host.kind, CONNECTION_REFUSED);
        assert_eq!(
            other_host.signature,
            "connection refused: http://payments.internal/charge"
        );
        let signature = same_cause(
            CONNECTION_REFUSED,
            &[
                (
                    "cannot connect to postgres://app@localhost:5432/app: connection refused",
                    Some("connection"),
                ),
                (
                    "cannot connect to postgres://app@localhost:15432/app: connection refused",
                    Some("connection"),
                ),
            ],
        );
        assert_eq!(
            signature,
            "cannot connect to postgres://localhost/app: connection refused"
        );
        let signature = same_cause(
            DNS,
            &[(
                "cannot resolve host `api.nope.invalid`: failed to lookup address information: Name or service not known",
                Some("connection"),
            )],
        );
        assert_eq!(
            signature,
            "cannot resolve host `api.nope.invalid`: failed to lookup address information: Name or service not known"
        );
        let signature = same_cause(
            TLS,
            &[
                (
                    "TLS handshake failed: invalid peer certificate: UnknownIssuer (https://localhost:8443/)",
                    Some("connection"),
                ),
                (
                    "TLS handshake failed: invalid peer certificate: UnknownIssuer (https://localhost:44301/)",
                    Some("connection"),
                ),
            ],
        );
        assert_eq!(
            signature,
            "TLS handshake failed: invalid peer certificate: UnknownIssuer (https://localhost/)"
        );
        let reset = categorize(
            "connection reset by the server: http://localhost:8080/upload",
            Some("connection"),
        );
        assert_eq!(reset.kind, CONNECTION);
        assert_eq!(
            reset.signature,
            "connection reset by the server: http://localhost/upload"
        );
        let db_timeout = categorize(
            "cannot connect to postgres://app@db.internal:5432/app: timed out after 5s",
            Some("connection"),
        );
        assert_eq!(db_timeout.kind, CONNECTION);
        assert_eq!(
            db_timeout.signature,
            "cannot connect to postgres://db.internal/app: timed out after <d>"
        );
    }

    #[test]
    fn database_errors() {
        let signature = same_cause(
            DATABASE,
            &[
                (
                    "SQL error: relation \"users\" does not exist (42P01)",
                    Some("action"),
                ),
                (
                    "[setup] step 'seed' (database_query): SQL error: relation \"orders\" does not exist (42P01)",
                    None,
                ),
            ],
        );
        assert_eq!(signature, "SQL error: relation <v> does not exist (42P01)");
        let duplicate = categorize(
            "SQL error: duplicate key value violates unique constraint \"users_email_key\" (23505)",
            Some("action"),
        );
        assert_eq!(duplicate.kind, DATABASE);
        assert_eq!(
            duplicate.signature,
            "SQL error: duplicate key value violates unique constraint <v> (<n>)"
        );
    }

    #[test]
    fn contract_mismatches() {
        let signature = same_cause(
            CONTRACT_MISMATCH,
            &[
                (
                    "1 of 3 interactions failed\n  the signed-in user:\n    $.id: expected a number, got string \"abc\"",
                    Some("action"),
                ),
                (
                    "[main] step 'verify' (contract_verify): 2 of 5 interactions failed\n  the signed-in user:\n    $.id: expected a number, got string \"u-17\"",
                    None,
                ),
            ],
        );
        assert_eq!(
            signature,
            "<n> of <n> interactions failed the signed-in user: $.id: expected a number, got string <v>"
        );
        let status = categorize(
            "1 of 1 interactions failed\n  create an order:\n    status: expected 201, got 500",
            Some("action"),
        );
        assert_eq!(status.kind, CONTRACT_MISMATCH);
        assert_eq!(
            status.signature,
            "<n> of <n> interactions failed create an order: status: expected <n>, got <n>"
        );
    }

    #[test]
    fn mock_verification_ignores_the_journal() {
        let one = "1 of 1 mock assertion(s) failed on mock server `api`:\n  [0] POST /orders\n      expected: exactly 2 POST /orders request(s) with header X-Api-Key: k-1, `body.qty > 5`\n      actual:   0\n      near misses (right method and path, conditions failed):\n        12:01:02.123 POST /orders → 201: header x-api-key: expected k-1, got wrong; `body.qty > 5` is false\n  requests received (1 in all):\n    12:01:02.123 POST /orders → 201";
        let other = "1 of 2 mock assertion(s) failed on mock server `api`:\n  [1] POST /orders\n      expected: exactly 3 POST /orders request(s) with header X-Api-Key: k-2, `body.qty > 1`\n      actual:   1\n  requests received (3 in all):\n    09:00:00.001 GET /health → 200\n    09:00:00.120 POST /orders → 201\n    09:00:00.250 POST /orders → 201";
        let signature = same_cause(
            MOCK_UNMATCHED,
            &[(one, Some("assertion")), (other, Some("assertion"))],
        );
        assert_eq!(
            signature,
            "<n> of <n> mock assertion(s) failed on mock server `api`: [<n>] POST /orders expected: exactly <n> POST /orders request(s) with header X-Api-Key: k-<n>, `body.qty > <n>` actual: <n>"
        );
        let other_mock = categorize(
            "1 of 1 mock assertion(s) failed on mock server `payments`:\n  [0] POST /charges\n      expected: at least 1 POST /charges request(s)\n      actual:   0\n  the mock received no requests",
            Some("assertion"),
        );
        assert_eq!(other_mock.kind, MOCK_UNMATCHED);
        assert_ne!(other_mock.signature, signature);
    }

    #[test]
    fn the_runners_wrappers_are_peeled() {
        let direct = categorize(
            "assertion failed:\n  - status == 200: expected status == 200, but status is 503",
            Some("assertion"),
        );
        for wrapped in [
            "[main] step 'orders' (for_each): iteration 3 failed: step 'check': assertion failed:\n  - status == 200: expected status == 200, but status is 404",
            "2 of 3 parallel steps failed; 'b': assertion failed:\n  - status == 200: expected status == 200, but status is 500",
            "step 'fetch' in `then` failed: assertion failed:\n  - status == 200: expected status == 200, but status is 502",
            "[main] step 'sub' (run_flow): flow 'checkout' failed: [main] step 'pay' (http_request): assertion failed:\n  - status == 200: expected status == 200, but status is 402",
        ] {
            // The wrapping step reports `action` whatever failed inside.
            assert_eq!(categorize(wrapped, Some("action")), direct, "{wrapped}");
        }
        let timeout = categorize(
            "2 of 3 parallel steps failed; 'b': timed out after 5s",
            None,
        );
        assert_eq!(timeout.kind, TIMEOUT);
        assert_eq!(timeout.signature, "timed out after <d>");
    }

    #[test]
    fn config_errors_and_the_rest() {
        let signature = same_cause(
            CONFIG,
            &[
                (
                    "in config: unknown name `order_id` at column 3",
                    Some("config"),
                ),
                (
                    "[main] step 'pay' (http_request): in config: unknown name `order_id` at column 7",
                    None,
                ),
            ],
        );
        assert_eq!(
            signature,
            "in config: unknown name `order_id` at column <n>"
        );
        assert_eq!(
            categorize("unknown action type: foo_bar", None).kind,
            CONFIG
        );
        assert_eq!(
            categorize(
                "the `browser` action is not available in this version of TestMesh",
                Some("unsupported")
            )
            .kind,
            CONFIG
        );
        let cancelled = categorize("cancelled", None);
        assert_eq!(cancelled.kind, OTHER);
        assert_eq!(cancelled.signature, "cancelled");
        let oauth = categorize(
            "oauth2 token request to https://auth.example.com:8443/oauth/token returned 401 Unauthorized: {\"error\":\"invalid_client\"}",
            Some("action"),
        );
        assert_eq!(oauth.kind, STATUS_MISMATCH);
        assert_eq!(
            oauth.signature,
            "oauth2 token request to https://auth.example.com/oauth/token returned <n> Unauthorized: {<v>:<v>}"
        );
        let empty = categorize("  ", None);
        assert_eq!(empty.kind, OTHER);
        assert_eq!(empty.signature, "(no message)");
        assert_eq!(categorize("something odd", Some("timeout")).kind, TIMEOUT);
        assert_eq!(categorize("something odd", Some("action")).kind, OTHER);
    }

    #[test]
    fn different_causes_do_not_share_a_signature() {
        let messages = [
            "assertion failed:\n  - status == 201: expected status == 201, but status is 404",
            "assertion failed:\n  - body.id exists: expected body.id exists, but body.id is missing",
            "assertion failed:\n  - body.total == 10: expected body.total == 10, but body.total is 12",
            "timed out after 30s",
            "timed out: http://localhost:8080/slow",
            "connection refused: http://localhost:8080/api/users",
            "connection refused: http://localhost:8080/api/orders",
            "connection refused: http://billing:8080/api/users",
            "cannot resolve host `api.nope.invalid`: failed to lookup address information: Name or service not known",
            "TLS handshake failed: invalid peer certificate: UnknownIssuer (https://localhost:8443/)",
            "connection reset by the server: http://localhost:8080/upload",
            "SQL error: relation \"users\" does not exist (42P01)",
            "SQL error: syntax error at or near \"SELEC\" (42601)",
            "1 of 3 interactions failed\n  the signed-in user:\n    $.id: expected a number, got string \"abc\"",
            "1 of 3 interactions failed\n  list users:\n    $.users: expected an array, got null",
            "in config: unknown name `order_id` at column 3",
            "cancelled",
        ];
        let mut seen = std::collections::HashMap::new();
        for message in messages {
            let cause = categorize(message, None);
            if let Some(before) = seen.insert(cause.signature.clone(), message) {
                panic!("{message:?} and {before:?} share {:?}", cause.signature);
            }
        }
    }

    #[test]
    fn normalisation_rules() {
        let cases = [
            // numbers, decimals, negatives, numbers inside identifiers after `_` or `-`
            ("got 5 items", "got <n> items"),
            ("price 12.50 is below -3", "price <n> is below -<n>"),
            ("order-42 and user_7", "order-<n> and user_<n>"),
            // letters glued to digits are a word, not a number
            ("code 42P01, v2, 3xx, sha256", "code 42P01, v2, 3xx, sha256"),
            // ids
            (
                "execution 3f0c6a2e-8d4b-4c1e-9a7f-0b1c2d3e4f50 not found",
                "execution <id> not found",
            ),
            (
                "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
                "commit <id>",
            ),
            ("object 507f1f77bcf86cd799439011", "object <id>"),
            ("the word deadbeef stays", "the word deadbeef stays"),
            ("flags 0x1f set", "flags <n> set"),
            // quoted values, not apostrophes; backticks are names and stay
            (
                "name is \"Ann \\\"A\\\" Lee\", tag 'x' and `field_name`",
                "name is <v>, tag <v> and `field_name`",
            ),
            ("it doesn't matter", "it doesn't matter"),
            // durations
            (
                "after 500ms, 1.5s, 2m30s, 1h, 10us and 30 seconds",
                "after <d>, <d>, <d>, <d>, <d> and <d>",
            ),
            // times
            (
                "at 2024-05-01T12:00:00.123Z and 2024-05-01 12:00:00+02:00 on 2024-05-01",
                "at <ts> and <ts> on <ts>",
            ),
            ("received 12:01:02.123", "received <n>:<n>:<n>"),
            // URLs: scheme, host and path; no port, credentials, query or fragment
            (
                "GET https://user:pw@api.example.com:8443/v1/orders/42/items/3f0c6a2e?page=2#top failed",
                "GET https://api.example.com/v1/orders/<id>/items/<id> failed",
            ),
            ("see http://[::1]:8080/x.", "see http://[::1]/x."),
            ("host localhost:5432 down", "host localhost:<n> down"),
            // whitespace
            ("  a \n\t  b  ", "a b"),
        ];
        for (message, want) in cases {
            assert_eq!(normalize(message), want, "{message:?}");
        }
    }

    #[test]
    fn signatures_are_cut_at_200_characters() {
        let long = format!(
            "assertion failed:\n  - body.note == 'x': {}",
            "word ".repeat(100)
        );
        let cause = categorize(&long, Some("assertion"));
        assert!(cause.signature.chars().count() <= SIGNATURE_MAX_CHARS);
        assert!(cause.signature.chars().count() >= SIGNATURE_MAX_CHARS - 5);
        assert!(
            cause
                .signature
                .starts_with("assertion failed: - body.note == <v>: word word")
        );
        // A huge message (a quoted response body) is read only as far as it matters.
        let huge = format!("timed out: http://localhost:1/x {}", "é".repeat(100_000));
        assert_eq!(categorize(&huge, None).kind, TIMEOUT);
        assert_eq!(head("aé", 2), "a");
        // Multi-byte text is cut on a character boundary.
        let wide = "é".repeat(500);
        assert_eq!(normalize(&wide).chars().count(), SIGNATURE_MAX_CHARS);
        // A placeholder is never cut in half.
        let numbers = "1 ".repeat(200);
        let signature = normalize(&numbers);
        assert!(signature.ends_with("<n>"), "{signature}");
    }
}
