//! What the two client links (probe → mediator X2/X3, mediator → agency HI2/HI3) share:
//! the reconnection backoff, the shutdown signal and the wake-up of whoever waits for a
//! change of a link's statistics.

use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// Exponential reconnection delay with jitter: `min`, doubling up to `max`, back to `min`
/// only after a connection proved alive (see [`Backoff::connection_ended`]). Each delay is
/// drawn uniformly between half and all of the current step, so that links cut together (an
/// agency restart) do not reconnect in lockstep.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
    /// xorshift64* state (never zero).
    rng: u64,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        use std::hash::{BuildHasher, Hasher};
        // A fresh random seed per backoff from the standard library's hash keys.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(std::process::id() as usize);
        Self::with_seed(min, max, h.finish())
    }

    /// As [`Backoff::new`] with a given jitter seed (tests).
    pub(crate) fn with_seed(min: Duration, max: Duration, seed: u64) -> Self {
        Self {
            min,
            max: max.max(min),
            current: min,
            rng: seed | 1,
        }
    }

    /// The delay before the next attempt: between half and all of the current step; the
    /// step doubles (up to `max`).
    pub(crate) fn next_delay(&mut self) -> Duration {
        let step = self.current;
        self.current = self.current.saturating_mul(2).min(self.max);
        let half = step / 2;
        let span = u64::try_from((step - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(self.next_random() % span.saturating_add(1))
    }

    fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A connection that came up at `since` ended. Only one that proved alive (`progress`:
    /// the peer acknowledged something, or it stayed up for `alive_after`) resets the delay:
    /// with TLS 1.3 a peer refusing our certificate does so after the handshake completed,
    /// and must not be retried in a tight loop.
    pub(crate) fn connection_ended(
        &mut self,
        since: Instant,
        progress: bool,
        alive_after: Duration,
    ) {
        if progress || since.elapsed() >= alive_after {
            self.current = self.min;
        }
    }
}

/// Resolves once shutdown is requested (or can no longer be, the sender being gone).
pub(crate) async fn shutdown_signal(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Wakes the tasks waiting for a change of a link's statistics (`hi::LinkStats::wait_for`,
/// `x2x3::transport::SenderStats::wait_for`). While nobody waits a change costs a fence and
/// a load, not a lock: producers count every PDU through it.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// Tasks inside [`Changes::wait_for`].
    waiters: AtomicUsize,
    notify: Notify,
}

impl Changes {
    /// Something changed: call after storing the change.
    pub(crate) fn changed(&self) {
        // Pairs with the fence in `wait_for`: either the waiter's check sees the change, or
        // this load sees the waiter (whose `Notified` then sees the notification).
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::Relaxed) > 0 {
            self.notify.notify_waiters();
        }
    }

    /// Returns what `check` returns once it is `Some`, checking now and after every change.
    pub(crate) async fn wait_for<T>(&self, mut check: impl FnMut() -> Option<T>) -> T {
        /// Counts the waiter out however the wait ends (a timeout drops the future).
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.waiters.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(&self.waiters);
        loop {
            let changed = self.notify.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            fence(Ordering::SeqCst);
            if let Some(found) = check() {
                return found;
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The step behind each delay: the delay is within [step / 2, step].
    fn steps(b: &mut Backoff, n: usize) -> Vec<Duration> {
        (0..n)
            .map(|_| {
                let step = b.current;
                let d = b.next_delay();
                assert!(
                    d >= step / 2 && d <= step,
                    "{d:?} outside [{step:?}/2, {step:?}]"
                );
                step
            })
            .collect()
    }

    // The clock is paused: `connection_ended` reads it (how long the connection was up), and
    // only the test moves it.
    #[tokio::test(start_paused = true)]
    async fn doubles_to_the_cap_and_resets_only_after_a_live_connection() {
        let ms = Duration::from_millis;
        let mut b = Backoff::with_seed(ms(100), ms(700), 42);
        assert_eq!(
            steps(&mut b, 5),
            [ms(100), ms(200), ms(400), ms(700), ms(700)]
        );
        // Refused right after the handshake: no progress, short-lived.
        b.connection_ended(Instant::now(), false, Duration::from_secs(60));
        assert_eq!(steps(&mut b, 1), [ms(700)]);
        b.connection_ended(Instant::now(), true, Duration::from_secs(60));
        assert_eq!(steps(&mut b, 1), [ms(100)]);
        let long_ago = Instant::now() - Duration::from_secs(61);
        b.next_delay();
        b.connection_ended(long_ago, false, Duration::from_secs(60));
        assert_eq!(steps(&mut b, 1), [ms(100)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_proves_alive_by_staying_up_exactly_the_given_time() {
        let ms = Duration::from_millis;
        let alive_after = ms(100);
        let mut b = Backoff::with_seed(ms(20), ms(200), 1);
        assert_eq!(steps(&mut b, 3), [ms(20), ms(40), ms(80)]);
        // Refused right after the handshake, again and again: the steps keep growing to the
        // cap, no tight reconnection loop.
        for _ in 0..3 {
            let since = Instant::now();
            tokio::time::advance(ms(1)).await;
            b.connection_ended(since, false, alive_after);
            b.next_delay();
        }
        assert_eq!(steps(&mut b, 1), [ms(200)]);
        // Up one millisecond short of the interval: not alive.
        let since = Instant::now();
        tokio::time::advance(alive_after - ms(1)).await;
        b.connection_ended(since, false, alive_after);
        assert_eq!(steps(&mut b, 1), [ms(200)]);
        // Up for the interval exactly: alive, back to the first step.
        let since = Instant::now();
        tokio::time::advance(alive_after).await;
        b.connection_ended(since, false, alive_after);
        assert_eq!(steps(&mut b, 1), [ms(20)]);
    }

    #[tokio::test]
    async fn a_waiter_wakes_on_a_change_and_not_before() {
        use std::sync::Arc;
        use std::sync::atomic::AtomicU64;

        let changes = Arc::new(Changes::default());
        let value = Arc::new(AtomicU64::new(0));
        let waiter = {
            let (changes, value) = (Arc::clone(&changes), Arc::clone(&value));
            tokio::spawn(async move {
                changes
                    .wait_for(|| {
                        let v = value.load(Ordering::Relaxed);
                        (v >= 2).then_some(v)
                    })
                    .await
            })
        };
        // Let the waiter register (the test runtime has one thread).
        while changes.waiters.load(Ordering::Relaxed) == 0 {
            tokio::task::yield_now().await;
        }
        value.store(1, Ordering::Relaxed);
        changes.changed();
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "woken, checked, waiting again");
        value.store(2, Ordering::Relaxed);
        changes.changed();
        assert_eq!(waiter.await.unwrap(), 2);
        assert_eq!(changes.waiters.load(Ordering::Relaxed), 0, "counted out");
        // Already true: no change needed.
        assert_eq!(changes.wait_for(|| Some(7)).await, 7);
    }

    #[test]
    fn delays_are_jittered_across_the_upper_half_of_the_step() {
        let ms = Duration::from_millis;
        let mut b = Backoff::with_seed(ms(1000), ms(1000), 7);
        let delays: Vec<Duration> = (0..1000).map(|_| b.next_delay()).collect();
        assert!(delays.iter().all(|d| *d >= ms(500) && *d <= ms(1000)));
        // Spread over the range, not one value: both quarters of it are hit.
        assert!(delays.iter().any(|d| *d < ms(625)));
        assert!(delays.iter().any(|d| *d > ms(875)));
        // Two links seeded differently do not reconnect in step.
        let mut other = Backoff::with_seed(ms(1000), ms(1000), 8);
        assert!(
            delays
                .iter()
                .zip((0..1000).map(|_| other.next_delay()))
                .any(|(a, b)| a != &b)
        );
    }

    #[tokio::test]
    async fn shutdown_resolves_on_true_or_a_dropped_sender() {
        let (tx, mut rx) = watch::channel(false);
        tx.send(true).unwrap();
        shutdown_signal(&mut rx).await;
        let (tx, mut rx) = watch::channel(false);
        drop(tx);
        shutdown_signal(&mut rx).await;
    }
}
