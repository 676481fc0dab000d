//! What the two client links (probe → mediator X2/X3, mediator → agency HI2/HI3) share:
//! the reconnection backoff and the shutdown signal.

use std::time::Duration;

use tokio::sync::watch;
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

    #[test]
    fn doubles_to_the_cap_and_resets_only_after_a_live_connection() {
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
