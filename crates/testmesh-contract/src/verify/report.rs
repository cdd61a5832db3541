//! The outcome of a verification: per pact, per interaction, with mismatches, the request sent
//! and the response received; as JSON (serde) and as JUnit XML.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use crate::matching::{Mismatch, MismatchKind};

/// How one interaction went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The provider answered as the pact expects.
    Passed,
    /// The provider answered, differently from the pact (see the mismatches).
    Failed,
    /// A pending interaction that did not pass: reported, but it does not fail the verification.
    Pending,
    /// The interaction could not be checked: provider unreachable, state change failed, timeout.
    Error,
    /// Not verifiable by this verifier (the reason says why); does not fail the verification.
    Skipped,
}

impl Outcome {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Pending => "pending",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
        }
    }

    /// Whether this outcome fails the verification.
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Error)
    }
}

/// A mismatch as reported: where, in which part, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MismatchReport {
    /// `method`, `path`, `query`, `header`, `status`, `body`, `body_type` or `metadata`.
    pub kind: &'static str,
    /// Body path (`$.items[2].price`), header/parameter/metadata name, or empty.
    pub path: String,
    /// What differs.
    pub message: String,
    /// The whole line, as shown to people (`$.price: expected a number, got string "12"`).
    pub text: String,
}

impl From<&Mismatch> for MismatchReport {
    fn from(m: &Mismatch) -> Self {
        let kind = match m.kind {
            MismatchKind::Method => "method",
            MismatchKind::Path => "path",
            MismatchKind::Query => "query",
            MismatchKind::Header => "header",
            MismatchKind::Status => "status",
            MismatchKind::Body => "body",
            MismatchKind::BodyType => "body_type",
            MismatchKind::Metadata => "metadata",
        };
        MismatchReport {
            kind,
            path: m.path.clone(),
            message: m.message.clone(),
            text: m.to_string(),
        }
    }
}

/// The request that was sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentRequest {
    /// Method.
    pub method: String,
    /// Full URL with the query string.
    pub url: String,
    /// Headers sent, values of headers given with `--header` masked.
    pub headers: Vec<(String, String)>,
    /// The body as text (shortened), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The response that came back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReceivedResponse {
    /// Status code (0 for a message, which has none).
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// The body as text (shortened), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The result of verifying one interaction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InteractionResult {
    /// The interaction's description.
    pub description: String,
    /// Its key, if the pact has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `Synchronous/HTTP`, `Asynchronous/Messages` or `Synchronous/Messages`.
    #[serde(rename = "type")]
    pub interaction_type: &'static str,
    /// Names of its provider states.
    pub provider_states: Vec<String>,
    /// Whether the pact marks it pending.
    pub pending: bool,
    /// How it went.
    pub outcome: Outcome,
    /// What differs (failed, or pending that would have failed).
    pub mismatches: Vec<MismatchReport>,
    /// Why it could not be checked (error, or skipped), or an error of a pending interaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Generators that could not produce a value (the example was sent instead).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What was sent, if anything was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<SentRequest>,
    /// What came back, if anything did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ReceivedResponse>,
    /// Time taken, state changes included.
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The results for one pact file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PactResult {
    /// Where the pact came from (a file path).
    pub source: String,
    /// The consumer's name.
    pub consumer: String,
    /// The provider's name.
    pub provider: String,
    /// One result per interaction that passed the filters, in pact order.
    pub interactions: Vec<InteractionResult>,
    /// Interactions left out by the filters.
    pub filtered_out: usize,
}

/// Counts over every interaction verified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Interactions verified (after filters).
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Pending and not passing.
    pub pending: usize,
    /// Could not be checked.
    pub errors: usize,
    /// Not verifiable here.
    pub skipped: usize,
    /// Left out by the filters.
    pub filtered_out: usize,
}

/// The whole verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationReport {
    /// The provider base URL verified against.
    pub provider_base_url: String,
    /// When the verification started (RFC 3339).
    pub started_at: String,
    /// Total time.
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
    /// Per pact.
    pub pacts: Vec<PactResult>,
    /// Counts.
    pub summary: Summary,
}

impl VerificationReport {
    /// Computes the counts from the per-interaction outcomes.
    pub fn summarize(pacts: &[PactResult]) -> Summary {
        let mut summary = Summary::default();
        for pact in pacts {
            summary.filtered_out += pact.filtered_out;
            for result in &pact.interactions {
                summary.total += 1;
                match result.outcome {
                    Outcome::Passed => summary.passed += 1,
                    Outcome::Failed => summary.failed += 1,
                    Outcome::Pending => summary.pending += 1,
                    Outcome::Error => summary.errors += 1,
                    Outcome::Skipped => summary.skipped += 1,
                }
            }
        }
        summary
    }

    /// Whether any non-pending interaction failed or could not be checked.
    pub fn failed(&self) -> bool {
        self.pacts
            .iter()
            .flat_map(|p| &p.interactions)
            .any(|r| r.outcome.is_failure())
    }

    /// Every interaction result, with the pact it belongs to.
    pub fn results(&self) -> impl Iterator<Item = (&PactResult, &InteractionResult)> {
        self.pacts
            .iter()
            .flat_map(|p| p.interactions.iter().map(move |r| (p, r)))
    }

    /// The report as pretty JSON.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The report as JUnit XML: a testsuite per pact, a testcase per interaction. Failures carry
    /// the mismatches; pending interactions that fail are reported as skipped so CI stays green.
    pub fn to_junit(&self) -> Result<String, String> {
        let mut report = Report::new("testmesh contract verify");
        report.set_time(self.duration);
        for pact in &self.pacts {
            let mut suite = TestSuite::new(format!(
                "{} → {} ({})",
                pact.consumer, pact.provider, pact.source
            ));
            for result in &pact.interactions {
                suite.add_test_case(test_case(pact, result));
            }
            let time = pact.interactions.iter().map(|r| r.duration).sum();
            suite.set_time(time);
            report.add_test_suite(suite);
        }
        report.to_string().map_err(|e| e.to_string())
    }
}

/// The failure text of a result: one line per mismatch, or the error.
pub fn failure_lines(result: &InteractionResult) -> Vec<String> {
    let mut lines: Vec<String> = result.mismatches.iter().map(|m| m.text.clone()).collect();
    if let Some(error) = &result.error {
        lines.push(error.clone());
    }
    lines
}

fn test_case(pact: &PactResult, result: &InteractionResult) -> TestCase {
    let lines = failure_lines(result);
    let first = lines.first().cloned().unwrap_or_default();
    let summary = if lines.len() > 1 {
        format!("{first} (and {} more)", lines.len() - 1)
    } else {
        first
    };
    let status = match result.outcome {
        Outcome::Passed => TestCaseStatus::success(),
        Outcome::Failed | Outcome::Error => {
            let kind = if result.outcome == Outcome::Failed {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut status = TestCaseStatus::non_success(kind);
            status.set_message(summary);
            status.set_type(if result.outcome == Outcome::Failed {
                "contract mismatch"
            } else {
                "verification error"
            });
            status.set_description(lines.join("\n"));
            status
        }
        Outcome::Pending | Outcome::Skipped => {
            let mut status = TestCaseStatus::skipped();
            let prefix = if result.outcome == Outcome::Pending {
                "pending: "
            } else {
                ""
            };
            status.set_message(format!("{prefix}{summary}"));
            status.set_description(lines.join("\n"));
            status
        }
    };
    let name = if result.provider_states.is_empty() {
        result.description.clone()
    } else {
        format!(
            "{} (given {})",
            result.description,
            result.provider_states.join(" and ")
        )
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(format!("{}.{}", pact.consumer, pact.provider));
    case.set_time(result.duration);
    case
}
