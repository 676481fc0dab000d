//! What the two client links (probe → mediator X2/X3, mediator → agency HI2/HI3) share:
//! the reconnection backoff and the shutdown signal.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Exponential reconnection delay: `min`, doubling up to `max`, back to `min` only after a
/// connection proved alive (see [`Backoff::connection_ended`]).
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            current: min,
        }
    }

    /// The delay before the next attempt; the one after will be twice as long (up to `max`).
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.current;
        self.current = self.current.saturating_mul(2).min(self.max);
        delay
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

    #[test]
    fn doubles_to_the_cap_and_resets_only_after_a_live_connection() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(100), ms(700));
        let delays: Vec<_> = (0..5).map(|_| b.next_delay()).collect();
        assert_eq!(delays, [ms(100), ms(200), ms(400), ms(700), ms(700)]);
        // Refused right after the handshake: no progress, short-lived.
        b.connection_ended(Instant::now(), false, Duration::from_secs(60));
        assert_eq!(b.next_delay(), ms(700));
        b.connection_ended(Instant::now(), true, Duration::from_secs(60));
        assert_eq!(b.next_delay(), ms(100));
        let long_ago = Instant::now() - Duration::from_secs(61);
        b.next_delay();
        b.connection_ended(long_ago, false, Duration::from_secs(60));
        assert_eq!(b.next_delay(), ms(100));
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
