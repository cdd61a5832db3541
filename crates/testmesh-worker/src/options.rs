//! How a worker runs: its id, how many executions at once, lease and heartbeat timing, polling,
//! shutdown grace and the scheduler.

use std::time::Duration;

use crate::error::WorkerError;

/// Settings of a [`crate::Worker`]. `Default` gives a worker with a fresh unique id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerOptions {
    /// Unique per worker process; the store records it on the executions it holds. Default
    /// `host:pid:uuid` (see [`default_worker_id`]).
    pub id: String,
    /// Executions run at once (default 4).
    pub concurrency: usize,
    /// How long a claim holds without a heartbeat (default 30 s). A worker that dies loses its
    /// executions to the others once this has passed.
    pub lease: Duration,
    /// How often a running execution's lease is renewed (default a third of the default lease).
    /// Must be shorter than `lease`; [`WorkerOptions::with_lease`] sets both.
    pub heartbeat: Duration,
    /// How long an idle worker waits before asking the queue again (default 500 ms).
    pub poll: Duration,
    /// On shutdown, how long running executions may take to finish before they are released back
    /// to the queue (default 30 s).
    pub shutdown_grace: Duration,
    /// Fire due schedules (default true). Any number of workers may: each tick is enqueued once.
    pub scheduler: bool,
    /// How often the scheduler looks for due schedules (default 5 s).
    pub schedule_every: Duration,
}

/// The default lease.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            id: default_worker_id(),
            concurrency: 4,
            lease: DEFAULT_LEASE,
            heartbeat: DEFAULT_LEASE / 3,
            poll: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(30),
            scheduler: true,
            schedule_every: Duration::from_secs(5),
        }
    }
}

impl WorkerOptions {
    /// Sets the lease and a heartbeat of a third of it.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self.heartbeat = lease / 3;
        self
    }

    /// Checks that the settings can work together.
    pub fn validate(&self) -> Result<(), WorkerError> {
        let fail = |message: &str| Err(WorkerError::Options(message.to_string()));
        if self.id.trim().is_empty() {
            return fail("the worker id cannot be empty");
        }
        if self.concurrency == 0 {
            return fail("concurrency must be at least 1");
        }
        if self.lease < Duration::from_millis(100) {
            return fail("the lease must be at least 100 ms");
        }
        if self.heartbeat.is_zero() || self.heartbeat >= self.lease {
            return fail("the heartbeat interval must be above zero and shorter than the lease");
        }
        if self.poll.is_zero() || self.schedule_every.is_zero() {
            return fail("the poll and schedule intervals must be above zero");
        }
        Ok(())
    }
}

/// `host:pid:uuid`: unique per process, and readable in the store (which machine, which process).
pub fn default_worker_id() -> String {
    let uuid = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "{}:{}:{}",
        hostname(),
        std::process::id(),
        uuid.get(..12).unwrap_or(&uuid)
    )
}

fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .chain(std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_ids_unique() {
        let a = WorkerOptions::default();
        assert!(a.validate().is_ok());
        assert_eq!(a.heartbeat, Duration::from_secs(10));
        assert_ne!(a.id, WorkerOptions::default().id);
        assert_eq!(a.id.split(':').count(), 3, "{}", a.id);
        assert!(a.id.contains(&format!(":{}:", std::process::id())));
    }

    #[test]
    fn bad_settings_are_refused() {
        let ok = WorkerOptions::default();
        for bad in [
            WorkerOptions {
                concurrency: 0,
                ..ok.clone()
            },
            WorkerOptions {
                heartbeat: ok.lease,
                ..ok.clone()
            },
            WorkerOptions {
                id: " ".into(),
                ..ok.clone()
            },
            WorkerOptions {
                poll: Duration::ZERO,
                ..ok.clone()
            },
            ok.clone().with_lease(Duration::from_millis(10)),
        ] {
            assert!(
                matches!(bad.validate(), Err(WorkerError::Options(_))),
                "{bad:?}"
            );
        }
        let short = ok.with_lease(Duration::from_secs(3));
        assert_eq!(short.heartbeat, Duration::from_secs(1));
        assert!(short.validate().is_ok());
    }
}
