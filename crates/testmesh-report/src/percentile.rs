//! Exact nearest-rank percentiles of durations.
//!
//! The percentile `p` of `n` ascending values is the value at the 1-based rank `ceil(p/100 · n)`:
//! always one of the values, never an interpolation. PostgreSQL's `percentile_disc(p / 100)`
//! returns the same value, so percentiles computed in SQL and here agree to the millisecond.

use serde::{Deserialize, Serialize};

/// The value at nearest rank `ceil(p/100 · n)` of `sorted`, which must be in ascending order.
///
/// `p` is a percentage in `[0, 100]`; `0` gives the smallest value, as `percentile_disc(0)` does.
/// Returns `None` when `sorted` is empty or `p` is outside `[0, 100]` (or NaN).
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    // The same float expression PostgreSQL evaluates (`ceil(fraction * rows)`), so both agree
    // for every p; for p = 50, 95 and 99 it is also the exact integer rank (tested below).
    let rank = (p / 100.0 * sorted.len() as f64).ceil();
    // `rank` is within 0..=len because p is within 0..=100; the clamp makes rank 0 (p = 0) the
    // first value and guards the conversion.
    let index = (rank as usize).clamp(1, sorted.len()) - 1;
    sorted.get(index).copied()
}

/// The 50th, 95th and 99th percentiles of a set of durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: i64,
    /// 95th percentile.
    pub p95: i64,
    /// 99th percentile.
    pub p99: i64,
}

/// The p50, p95 and p99 of `sorted` (ascending); `None` when it is empty.
pub fn percentiles(sorted: &[i64]) -> Option<Percentiles> {
    Some(Percentiles {
        p50: percentile(sorted, 50.0)?,
        p95: percentile(sorted, 95.0)?,
        p99: percentile(sorted, 99.0)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_has_no_percentile() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentiles(&[]), None);
    }

    #[test]
    fn one_value_is_every_percentile() {
        for p in [0.0, 1.0, 50.0, 95.0, 99.0, 100.0] {
            assert_eq!(percentile(&[42], p), Some(42), "p{p}");
        }
        assert_eq!(
            percentiles(&[42]),
            Some(Percentiles {
                p50: 42,
                p95: 42,
                p99: 42
            })
        );
    }

    #[test]
    fn ten_values() {
        let values: Vec<i64> = (1..=10).map(|i| i * 10).collect();
        // ranks: p50 → ceil(5) = 5, p95 → ceil(9.5) = 10, p99 → ceil(9.9) = 10, p10 → 1,
        // p11 → ceil(1.1) = 2.
        assert_eq!(percentile(&values, 50.0), Some(50));
        assert_eq!(percentile(&values, 95.0), Some(100));
        assert_eq!(percentile(&values, 99.0), Some(100));
        assert_eq!(percentile(&values, 10.0), Some(10));
        assert_eq!(percentile(&values, 11.0), Some(20));
        assert_eq!(percentile(&values, 90.0), Some(90));
        assert_eq!(
            percentiles(&values),
            Some(Percentiles {
                p50: 50,
                p95: 100,
                p99: 100
            })
        );
    }

    #[test]
    fn hundred_values() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(
            percentiles(&values),
            Some(Percentiles {
                p50: 50,
                p95: 95,
                p99: 99
            })
        );
        assert_eq!(percentile(&values, 1.0), Some(1));
        assert_eq!(percentile(&values, 99.5), Some(100));
    }

    #[test]
    fn bounds() {
        let values = [3, 5, 8];
        assert_eq!(percentile(&values, 100.0), Some(8));
        assert_eq!(percentile(&values, 0.0), Some(3));
        assert_eq!(percentile(&values, 100.1), None);
        assert_eq!(percentile(&values, -1.0), None);
        assert_eq!(percentile(&values, f64::NAN), None);
    }

    #[test]
    fn duplicates_are_counted_by_rank() {
        let values = [1, 2, 2, 2, 2, 2, 2, 2, 2, 9];
        assert_eq!(percentile(&values, 10.0), Some(1));
        assert_eq!(percentile(&values, 50.0), Some(2));
        assert_eq!(percentile(&values, 90.0), Some(2));
        assert_eq!(percentile(&values, 91.0), Some(9));
        let same = [7; 5];
        assert_eq!(
            percentiles(&same),
            Some(Percentiles {
                p50: 7,
                p95: 7,
                p99: 7
            })
        );
    }

    #[test]
    fn float_rank_is_the_exact_rank_for_p50_p95_p99() {
        // The float expression must not round a whole rank up (as 0.07 · 100 would).
        for n in 1..=200_000_u64 {
            for p in [50_u64, 95, 99] {
                let exact = (p * n).div_ceil(100);
                let float = (p as f64 / 100.0 * n as f64).ceil() as u64;
                assert_eq!(float, exact, "p{p} of {n}");
            }
        }
    }
}
