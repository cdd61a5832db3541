//! Flakiness scores that tell flaky flows from broken ones.
//!
//! A failure is *non-deterministic* (flaky) when a run with the same inputs passed both before
//! and after it. With `k` such failures in `n` runs, the score is
//! `100 × H(min(wilson_lower(k, n), 0.5))`: the Wilson score lower bound (z = 1.96) keeps small
//! samples and rare failures low, and the binary entropy `H` peaks when a flow fails half its
//! runs at random. Failures before the first pass or after the last pass are not counted: a flow
//! that starts failing and stays failed is *broken*, not flaky. `docs/analytics.md` has the
//! worked examples the tests below check.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::Stability;

/// The window, in days, flakiness is scored over unless told otherwise.
pub const DEFAULT_WINDOW_DAYS: u32 = 14;

/// The score at or above which a flow is [`Stability::Flaky`].
pub const FLAKY_THRESHOLD: f64 = 10.0;

/// Failures in a row at the end of the window from which a flow is [`Stability::Broken`].
pub const BROKEN_STREAK: u64 = 3;

/// The z value of the Wilson bound: a 95% two-sided confidence interval.
const Z: f64 = 1.96;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The run passed.
    Passed,
    /// The run failed.
    Failed,
}

/// One finished run, oldest first. `inputs` identifies "the same flow and inputs": the lead passes
/// "<flow_version>|<environment>" (empty parts when unknown).
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// Passed or failed.
    pub outcome: RunOutcome,
    /// What the run depended on; runs with equal `inputs` are expected to behave alike.
    pub inputs: &'a str,
}

/// A flow's flakiness over a window of runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flakiness {
    /// 0–100, rounded to 2 decimals.
    pub score: f64,
    /// Stable, flaky, broken or unknown.
    pub stability: Stability,
    /// Runs scored.
    pub runs: u64,
    /// Runs that passed.
    pub passed: u64,
    /// Runs that failed.
    pub failed: u64,
    /// Failures counted as non-deterministic.
    pub flaky_failures: u64,
    /// Status changes between consecutive runs.
    pub transitions: u64,
    /// Failures in a row at the end of the window.
    pub consecutive_failures: u64,
    /// Passes in a row at the end of the window.
    pub consecutive_successes: u64,
}

/// Scores `runs` (oldest first).
pub fn score(runs: &[Run<'_>]) -> Flakiness {
    let n = runs.len() as u64;
    let passed = runs
        .iter()
        .filter(|r| r.outcome == RunOutcome::Passed)
        .count() as u64;
    let failed = n - passed;

    // First and last pass per inputs: a failure strictly between them is non-deterministic.
    let mut pass_span: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, run) in runs.iter().enumerate() {
        if run.outcome == RunOutcome::Passed {
            pass_span
                .entry(run.inputs)
                .and_modify(|span| span.1 = i)
                .or_insert((i, i));
        }
    }
    let flaky_failures = runs
        .iter()
        .enumerate()
        .filter(|(i, run)| {
            run.outcome == RunOutcome::Failed
                && pass_span
                    .get(run.inputs)
                    .is_some_and(|&(first, last)| first < *i && *i < last)
        })
        .count() as u64;

    let transitions = runs
        .windows(2)
        .filter(|pair| pair[0].outcome != pair[1].outcome)
        .count() as u64;
    let streak = |outcome: RunOutcome| {
        runs.iter()
            .rev()
            .take_while(|r| r.outcome == outcome)
            .count() as u64
    };
    let consecutive_failures = streak(RunOutcome::Failed);
    let consecutive_successes = streak(RunOutcome::Passed);

    let score = if n == 0 {
        0.0
    } else {
        let p = wilson_lower(flaky_failures, n).min(0.5);
        round2(100.0 * binary_entropy(p))
    };
    let stability = if n < 2 {
        Stability::Unknown
    } else if failed == 0 {
        Stability::Stable
    } else if passed == 0 || consecutive_failures >= BROKEN_STREAK {
        // It fails now, consistently: a regression or always broken, whatever came before.
        Stability::Broken
    } else if score >= FLAKY_THRESHOLD {
        Stability::Flaky
    } else {
        Stability::Stable
    };

    Flakiness {
        score,
        stability,
        runs: n,
        passed,
        failed,
        flaky_failures,
        transitions,
        consecutive_failures,
        consecutive_successes,
    }
}

/// The lower bound of the Wilson score interval of `k` successes in `n` trials; 0 when `n` is 0.
fn wilson_lower(k: u64, n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    let p = k as f64 / n;
    let z2 = Z * Z;
    let centre = p + z2 / (2.0 * n);
    let margin = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - margin) / (1.0 + z2 / n)).clamp(0.0, 1.0)
}

/// Binary entropy in bits: 0 at p = 0 or 1, 1 at p = 0.5.
fn binary_entropy(p: f64) -> f64 {
    if p <= 0.0 || p >= 1.0 {
        return 0.0;
    }
    -(p * p.log2() + (1.0 - p) * (1.0 - p).log2())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs from a pattern like "PFP", all with the same inputs.
    fn same(pattern: &str) -> Vec<Run<'static>> {
        pattern
            .chars()
            .map(|c| Run {
                outcome: if c == 'P' {
                    RunOutcome::Passed
                } else {
                    RunOutcome::Failed
                },
                inputs: "v1|staging",
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn expect(
        f: &Flakiness,
        score: f64,
        stability: Stability,
        runs: u64,
        passed: u64,
        flaky_failures: u64,
        transitions: u64,
        consecutive_failures: u64,
        consecutive_successes: u64,
    ) {
        let want = Flakiness {
            score,
            stability,
            runs,
            passed,
            failed: runs - passed,
            flaky_failures,
            transitions,
            consecutive_failures,
            consecutive_successes,
        };
        assert_eq!(*f, want);
    }

    #[test]
    fn no_runs() {
        expect(&score(&[]), 0.0, Stability::Unknown, 0, 0, 0, 0, 0, 0);
    }

    #[test]
    fn one_run_is_unknown() {
        expect(
            &score(&same("P")),
            0.0,
            Stability::Unknown,
            1,
            1,
            0,
            0,
            0,
            1,
        );
        expect(
            &score(&same("F")),
            0.0,
            Stability::Unknown,
            1,
            0,
            0,
            0,
            1,
            0,
        );
    }

    #[test]
    fn all_pass_is_stable() {
        let runs = same(&"P".repeat(10));
        expect(&score(&runs), 0.0, Stability::Stable, 10, 10, 0, 0, 0, 10);
    }

    #[test]
    fn all_fail_is_broken() {
        let runs = same(&"F".repeat(5));
        expect(&score(&runs), 0.0, Stability::Broken, 5, 0, 0, 0, 5, 0);
        // Two failures and nothing else: no pass ever, so broken even without a streak of three.
        expect(
            &score(&same("FF")),
            0.0,
            Stability::Broken,
            2,
            0,
            0,
            0,
            2,
            0,
        );
    }

    #[test]
    fn pass_fail_pass_is_flaky_with_a_modest_score() {
        // k = 1, n = 3: Wilson lower bound 0.0615 (the raw rate 1/3 would score 91.83).
        let f = score(&same("PFP"));
        expect(&f, 33.33, Stability::Flaky, 3, 2, 1, 2, 0, 1);
    }

    #[test]
    fn alternating_twenty_runs() {
        // P F P F … P F: ten failures, the last after the last pass, so k = 9 of n = 20.
        let runs = same(&"PF".repeat(10));
        expect(&score(&runs), 82.4, Stability::Flaky, 20, 10, 9, 19, 1, 0);
    }

    #[test]
    fn a_regression_is_broken_not_flaky() {
        let f = score(&same("PPPPFFFF"));
        expect(&f, 0.0, Stability::Broken, 8, 4, 0, 1, 4, 0);
    }

    #[test]
    fn a_streak_of_three_failures_at_the_end_wins_over_flakiness() {
        // Two failures between passes (k = 2 of 8 → 37.14), but it fails now, three times in a row.
        let f = score(&same("PFPFPFFF"));
        expect(&f, 37.14, Stability::Broken, 8, 3, 2, 5, 3, 0);
    }

    #[test]
    fn one_failure_in_a_hundred_runs_is_stable() {
        let mut pattern = "P".repeat(100);
        pattern.replace_range(50..51, "F");
        let f = score(&same(&pattern));
        expect(&f, 1.87, Stability::Stable, 100, 99, 1, 2, 0, 49);
    }

    #[test]
    fn one_failure_in_ten_runs_is_flaky() {
        let f = score(&same("PPPPFPPPPP"));
        expect(&f, 12.93, Stability::Flaky, 10, 9, 1, 2, 0, 5);
    }

    #[test]
    fn half_of_a_hundred_runs_failing_at_random_scores_near_100() {
        let f = score(&same(&"PF".repeat(50)));
        // k = 49 of 100 (the last failure follows the last pass).
        expect(&f, 96.75, Stability::Flaky, 100, 50, 49, 99, 1, 0);
    }

    #[test]
    fn failures_before_the_first_pass_are_not_flaky() {
        // Broken, then fixed: the failures were deterministic.
        let f = score(&same("FFPPPP"));
        expect(&f, 0.0, Stability::Stable, 6, 4, 0, 1, 0, 4);
    }

    #[test]
    fn failures_under_different_inputs_only_are_not_flaky() {
        // Staging always passes, production always fails: each behaves deterministically.
        let runs: Vec<Run<'_>> = ["v1|staging", "v1|production"]
            .iter()
            .cycle()
            .take(6)
            .map(|&inputs| Run {
                outcome: if inputs == "v1|staging" {
                    RunOutcome::Passed
                } else {
                    RunOutcome::Failed
                },
                inputs,
            })
            .collect();
        let f = score(&runs);
        expect(&f, 0.0, Stability::Stable, 6, 3, 0, 5, 1, 0);
        // The same sequence under one set of inputs: two failures between passes.
        let f = score(&same("PFPFPF"));
        expect(&f, 45.87, Stability::Flaky, 6, 3, 2, 5, 1, 0);
    }

    #[test]
    fn a_new_flow_version_that_fixes_a_failure_is_not_flaky() {
        let runs = [
            ("v1|", RunOutcome::Passed),
            ("v1|", RunOutcome::Failed),
            ("v2|", RunOutcome::Passed),
            ("v2|", RunOutcome::Passed),
        ]
        .map(|(inputs, outcome)| Run { outcome, inputs });
        expect(&score(&runs), 0.0, Stability::Stable, 4, 3, 0, 2, 0, 2);
    }

    #[test]
    fn wilson_and_entropy() {
        assert_eq!(wilson_lower(0, 10), 0.0);
        assert_eq!(wilson_lower(0, 0), 0.0);
        assert!((wilson_lower(1, 3) - 0.061_490_315).abs() < 1e-9);
        assert!((wilson_lower(9, 20) - 0.258_195_021).abs() < 1e-9);
        assert_eq!(binary_entropy(0.5), 1.0);
        assert_eq!(binary_entropy(0.0), 0.0);
        assert_eq!(binary_entropy(1.0), 0.0);
    }
}
