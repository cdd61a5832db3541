//! Waiting for a response that is about to arrive: spin briefly before sleeping.
//!
//! A thread that sleeps until its socket is readable pays for going to sleep and for being woken
//! (a context switch, and on a virtual machine an interrupt to a halted virtual CPU): tens of
//! microseconds, up to about a hundred on the 2-core machines of `docs/performance.md`. A service
//! on the same machine or network often answers faster than that. So while an answer is pending,
//! the runner first keeps polling for it — yielding to the runtime, which checks the sockets
//! without blocking — for up to [`WINDOW`], and only then sleeps.
//!
//! Spinning is adaptive, so it never costs much: it happens only while recent answers came within
//! the window (a slower service is waited for by sleeping, as before), and only on CPUs that the
//! run's own jobs leave idle: with one job on two CPUs one thread may spin; with as many jobs as
//! CPUs, or on a single CPU, none does.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

/// Longest spin before sleeping; also the latency above which waits stop spinning.
const WINDOW: Duration = Duration::from_micros(200);

/// Transports alive in the process: one per runner, and the CLI runs one runner per job thread.
static RUNNERS: AtomicUsize = AtomicUsize::new(0);
/// Threads spinning right now, across every runner of the process.
static SPINNING: AtomicUsize = AtomicUsize::new(0);

fn cpus() -> usize {
    static CPUS: OnceLock<usize> = OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// How many threads may spin at once: the CPUs the runners leave idle, so that spinning never
/// takes a CPU from another job (or from the system under test, which keeps at least one).
fn spin_slots(cpus: usize, runners: usize) -> usize {
    cpus.saturating_sub(runners.max(1))
}

/// The wait policy of one transport: how long its recent answers took.
#[derive(Debug)]
pub(crate) struct AdaptiveSpin {
    /// Moving average of recent waits, in nanoseconds (0 before the first).
    recent_ns: AtomicU64,
}

impl Default for AdaptiveSpin {
    fn default() -> AdaptiveSpin {
        RUNNERS.fetch_add(1, Ordering::AcqRel);
        AdaptiveSpin {
            recent_ns: AtomicU64::new(0),
        }
    }
}

impl Drop for AdaptiveSpin {
    fn drop(&mut self) {
        RUNNERS.fetch_sub(1, Ordering::AcqRel);
    }
}

impl AdaptiveSpin {
    /// Awaits `future`, spinning first when recent answers came within [`WINDOW`] and a CPU is
    /// free for it; records how long it took.
    pub(crate) async fn wait<F: Future>(&self, future: F) -> F::Output {
        let started = Instant::now();
        let mut future = std::pin::pin!(future);
        let spun = match self.answers_are_fast().then(SpinSlot::take).flatten() {
            // The slot goes back when the spin ends, not when a late answer comes.
            Some(_slot) => spin(future.as_mut(), started).await,
            None => None,
        };
        let output = match spun {
            Some(output) => output,
            None => future.await,
        };
        self.observe(started.elapsed());
        output
    }

    /// Whether recent answers came within the window (true before the first).
    fn answers_are_fast(&self) -> bool {
        Duration::from_nanos(self.recent_ns.load(Ordering::Relaxed)) <= WINDOW
    }

    /// Folds one wait into the average (a quarter weight: a few slow answers stop the spinning, a
    /// few fast ones bring it back).
    fn observe(&self, took: Duration) {
        let took = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let recent = self.recent_ns.load(Ordering::Relaxed);
        let next = if recent == 0 {
            took
        } else {
            recent - recent / 4 + took / 4
        };
        self.recent_ns.store(next, Ordering::Relaxed);
    }
}

/// Polls `future` until it is ready or [`WINDOW`] has passed since `started`, yielding to the
/// runtime (which checks the sockets without blocking) between polls.
async fn spin<F: Future>(mut future: Pin<&mut F>, started: Instant) -> Option<F::Output> {
    loop {
        if let Poll::Ready(output) = futures::poll!(future.as_mut()) {
            return Some(output);
        }
        if started.elapsed() >= WINDOW {
            return None;
        }
        tokio::task::yield_now().await;
    }
}

/// A taken spinning slot, given back on drop (also when the wait is cancelled).
struct SpinSlot;

impl SpinSlot {
    fn take() -> Option<SpinSlot> {
        let slots = spin_slots(cpus(), RUNNERS.load(Ordering::Acquire));
        SPINNING
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < slots).then_some(n + 1)
            })
            .ok()
            .map(|_| SpinSlot)
    }
}

impl Drop for SpinSlot {
    fn drop(&mut self) {
        SPINNING.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use std::task::Context;

    use super::*;

    /// Ready once its delay has passed; counts how often it was polled. Registers a timer only when
    /// polled for the first time, like a socket that becomes readable later.
    struct ReadyAt {
        sleep: Pin<Box<tokio::time::Sleep>>,
        polls: u32,
    }

    impl ReadyAt {
        fn after(delay: Duration) -> ReadyAt {
            ReadyAt {
                sleep: Box::pin(tokio::time::sleep(delay)),
                polls: 0,
            }
        }
    }

    impl Future for &mut ReadyAt {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls += 1;
            self.sleep.as_mut().poll(cx)
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn a_spin_ends_with_the_answer_or_with_the_window() {
        runtime().block_on(async {
            let started = Instant::now();
            let ready = spin(std::pin::pin!(std::future::ready(7)), started).await;
            assert_eq!(ready, Some(7));
            // An answer far beyond the window: the spin gives up once the window has passed,
            // leaving the answer to be slept on.
            let mut answer = ReadyAt::after(Duration::from_millis(50));
            let started = Instant::now();
            assert_eq!(spin(std::pin::pin!(&mut answer), started).await, None);
            assert!(started.elapsed() >= WINDOW);
            assert!(answer.polls >= 1);
        });
    }

    #[test]
    fn slow_answers_stop_the_spinning_and_fast_ones_bring_it_back() {
        runtime().block_on(async {
            let spin = AdaptiveSpin::default();
            assert!(spin.answers_are_fast(), "spins before the first answer");
            spin.wait(&mut ReadyAt::after(Duration::from_millis(5)))
                .await;
            assert!(!spin.answers_are_fast());
            for _ in 0..40 {
                spin.wait(std::future::ready(())).await;
            }
            assert!(spin.answers_are_fast());
        });
    }

    #[test]
    fn spinning_leaves_the_other_jobs_and_the_system_under_test_a_cpu() {
        assert_eq!(spin_slots(1, 1), 0, "one CPU: never");
        assert_eq!(spin_slots(2, 1), 1, "one job on two CPUs");
        assert_eq!(spin_slots(2, 2), 0, "two jobs on two CPUs: both are busy");
        assert_eq!(spin_slots(8, 2), 6);
        assert_eq!(spin_slots(4, 0), 3);
    }
}
