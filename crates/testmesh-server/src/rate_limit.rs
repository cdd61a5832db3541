//! Per-key rate limits: a token bucket per API key, in memory. A bucket holds a minute's worth of
//! requests and refills continuously, so a key may burst up to its limit and then sustains its
//! per-minute rate.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets above this count are pruned of full (idle) ones.
const PRUNE_ABOVE: usize = 10_000;

struct Bucket {
    tokens: f64,
    capacity: f64,
    updated: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let per_second = self.capacity / 60.0;
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_second).min(self.capacity);
        self.updated = now;
    }
}

/// The outcome of one request against its key's bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Decision {
    /// Allowed; this many whole requests remain right now.
    Allowed {
        /// The key's limit per minute.
        limit: u32,
        /// Requests left in the bucket.
        remaining: u32,
    },
    /// Refused; a request will be allowed after this long.
    Limited {
        /// The key's limit per minute.
        limit: u32,
        /// Wait before retrying.
        retry_after: Duration,
    },
}

/// Token buckets by API key id.
pub(crate) struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// No buckets yet.
    pub(crate) fn new() -> RateLimiter {
        RateLimiter {
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token from `key_id`'s bucket of `per_minute` (at least 1).
    pub(crate) fn check(&self, key_id: &str, per_minute: u32) -> Decision {
        self.check_at(key_id, per_minute, Instant::now())
    }

    fn check_at(&self, key_id: &str, per_minute: u32, now: Instant) -> Decision {
        let limit = per_minute.max(1);
        let capacity = f64::from(limit);
        // A poisoned lock only means another request panicked mid-update; the counts stay usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| {
                b.refill(now);
                b.tokens < b.capacity
            });
        }
        let bucket = buckets.entry(key_id.to_string()).or_insert(Bucket {
            tokens: capacity,
            capacity,
            updated: now,
        });
        bucket.refill(now);
        if bucket.capacity != capacity {
            // The key's limit changed: keep the fill ratio.
            bucket.tokens = bucket.tokens / bucket.capacity * capacity;
            bucket.capacity = capacity;
        }
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Decision::Allowed {
                limit,
                remaining: bucket.tokens.floor() as u32,
            }
        } else {
            let per_second = capacity / 60.0;
            let wait = (1.0 - bucket.tokens) / per_second;
            Decision::Limited {
                limit,
                retry_after: Duration::from_secs_f64(wait),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills() {
        let limiter = RateLimiter::new();
        let start = Instant::now();
        for i in 0..3 {
            assert_eq!(
                limiter.check_at("k", 3, start),
                Decision::Allowed {
                    limit: 3,
                    remaining: 2 - i
                }
            );
        }
        match limiter.check_at("k", 3, start) {
            Decision::Limited { retry_after, .. } => {
                assert!((19.9..=20.1).contains(&retry_after.as_secs_f64()));
            }
            other => panic!("{other:?}"),
        }
        // Another key has its own bucket.
        assert!(matches!(
            limiter.check_at("other", 3, start),
            Decision::Allowed { .. }
        ));
        // 20 s later one request is allowed again.
        let later = start + Duration::from_secs(20);
        assert!(matches!(
            limiter.check_at("k", 3, later),
            Decision::Allowed { remaining: 0, .. }
        ));
        assert!(matches!(
            limiter.check_at("k", 3, later),
            Decision::Limited { .. }
        ));
    }
}
