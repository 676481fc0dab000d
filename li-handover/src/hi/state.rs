//! The delivery state of one HI connection, without I/O: what has been written, what the
//! agency has acknowledged, which keep-alives are outstanding, and when the connection is to
//! be given up. [`run_link`](super::run_link) drives it: it reads records, writes bytes and
//! waits for time or for the agency; every decision is taken here from its inputs and `now`.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// When a link asks the agency to acknowledge: the keep-alive cadence, a pure state machine
/// (time is an argument) that [`LinkState`] keeps and [`super::run_link`] drives.
///
/// A keep-alive is due once `every` records were written since the previous keep-alive,
/// once `delay` has passed since the first of them was written, at once when the re-send
/// window is full, and after `idle` with nothing written at all (liveness). Under load a
/// keep-alive therefore covers `every` records; a trickle is acknowledged within `delay`.
#[derive(Clone, Debug)]
pub struct KeepAliveCadence {
    every: u64,
    delay: Duration,
    idle: Duration,
    /// Records written since the last keep-alive.
    uncovered: u64,
    /// When the first of them was written.
    first_uncovered: Option<Instant>,
    /// The last write of anything (records or a keep-alive).
    last_write: Instant,
}

impl KeepAliveCadence {
    /// A cadence starting at `now` (a fresh connection: nothing written yet).
    pub fn new(every: u64, delay: Duration, idle: Duration, now: Instant) -> Self {
        Self {
            every: every.max(1),
            delay,
            idle,
            uncovered: 0,
            first_uncovered: None,
            last_write: now,
        }
    }

    /// `n` records were written at `now`.
    pub fn records_written(&mut self, n: u64, now: Instant) {
        if n == 0 {
            return;
        }
        self.uncovered += n;
        self.first_uncovered.get_or_insert(now);
        self.last_write = now;
    }

    /// A keep-alive covering every record written so far was written at `now`.
    pub fn keepalive_written(&mut self, now: Instant) {
        self.uncovered = 0;
        self.first_uncovered = None;
        self.last_write = now;
    }

    /// Records written since the last keep-alive.
    pub fn uncovered(&self) -> u64 {
        self.uncovered
    }

    /// Whether a keep-alive should be written at `now`; `window_full`: no more records may
    /// be written before an acknowledgement.
    pub fn due(&self, now: Instant, window_full: bool) -> bool {
        now >= self.deadline()
            || (self.uncovered > 0 && (window_full || self.uncovered >= self.every))
    }

    /// When a keep-alive falls due by time alone.
    pub fn deadline(&self) -> Instant {
        match self.first_uncovered {
            Some(first) => first + self.delay,
            None => self.last_write + self.idle,
        }
    }
}

/// Why a connection must be given up, as decided by [`LinkState`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkViolation {
    /// The oldest outstanding keep-alive was not answered within the keep-alive timeout.
    #[error("keep-alive {counter} not answered within {timeout:?}")]
    KeepAliveTimeout {
        /// Its counter (the PDU's sequence number).
        counter: u32,
        /// The timeout in force.
        timeout: Duration,
    },
    /// A `keep-aliveResponse` arrived with no keep-alive outstanding.
    #[error("keep-aliveResponse {answer} with no keep-alive outstanding")]
    Unsolicited {
        /// The response's sequence number.
        answer: u32,
    },
    /// A `keep-aliveResponse` answered another keep-alive than the oldest outstanding one:
    /// responses come in order, so the agency lost or invented one and acknowledges nothing
    /// reliably.
    #[error("keep-aliveResponse {answer} where keep-alive {expected} was due")]
    OutOfOrder {
        /// The response's sequence number.
        answer: u32,
        /// The oldest outstanding keep-alive's counter.
        expected: u32,
    },
}

/// A keep-alive written and not yet answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Outstanding {
    counter: u32,
    deadline: Instant,
    /// The last record id written before it: what its answer acknowledges.
    covers: u64,
}

/// The state of one connection to an agency interface (sans-IO).
///
/// Records are identified by their spool ids, consecutive from 1. A connection starts right
/// after the last acknowledged record, so everything written on an earlier connection and not
/// acknowledged is written again (at-least-once). At most `max_unacked` records are written
/// and not acknowledged at any time (the re-send window). A keep-alive answered acknowledges
/// every record written before it; one not answered within `keepalive_timeout` ends the
/// connection.
#[derive(Clone, Debug)]
pub struct LinkState {
    acked: u64,
    last_written: u64,
    max_unacked: u64,
    keepalive_timeout: Duration,
    outstanding: VecDeque<Outstanding>,
    cadence: KeepAliveCadence,
}

impl LinkState {
    /// A fresh connection at `now`, after the records up to `acked` were acknowledged (on an
    /// earlier connection or before a restart). `cadence` decides when keep-alives fall due.
    pub fn new(
        acked: u64,
        max_unacked: u64,
        keepalive_timeout: Duration,
        cadence: KeepAliveCadence,
    ) -> Self {
        Self {
            acked,
            last_written: acked,
            max_unacked: max_unacked.max(1),
            keepalive_timeout,
            outstanding: VecDeque::new(),
            cadence,
        }
    }

    /// The last record id the agency has acknowledged.
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// The id of the next record to write.
    pub fn next_to_write(&self) -> u64 {
        self.last_written.saturating_add(1)
    }

    /// The last record id written on this connection (`acked` before any).
    pub fn last_written(&self) -> u64 {
        self.last_written
    }

    /// How many more records may be written before an acknowledgement (the re-send window).
    pub fn room(&self) -> u64 {
        self.max_unacked
            .saturating_sub(self.last_written.saturating_sub(self.acked))
    }

    /// Keep-alives written and not yet answered.
    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    /// The oldest unanswered keep-alive and when it times out.
    pub fn keepalive_deadline(&self) -> Option<(u32, Instant)> {
        self.outstanding.front().map(|o| (o.counter, o.deadline))
    }

    /// When a keep-alive falls due by time alone (see [`KeepAliveCadence::deadline`]).
    pub fn keepalive_due_at(&self) -> Instant {
        self.cadence.deadline()
    }

    /// Whether a keep-alive should be written at `now`.
    pub fn keepalive_due(&self, now: Instant) -> bool {
        self.cadence.due(now, self.room() == 0)
    }

    /// `Err` when the oldest outstanding keep-alive is unanswered at `now`, its deadline
    /// passed (or reached): the connection is to be closed and its unacknowledged records
    /// written again on the next one.
    pub fn check_timeout(&self, now: Instant) -> Result<(), LinkViolation> {
        match self.outstanding.front() {
            Some(o) if now >= o.deadline => Err(LinkViolation::KeepAliveTimeout {
                counter: o.counter,
                timeout: self.keepalive_timeout,
            }),
            _ => Ok(()),
        }
    }

    /// Records up to id `last` (`count` of them, from [`Self::next_to_write`]) were written at
    /// `now`. Returns whether a keep-alive is due at once (to ride in the same write).
    pub fn records_written(&mut self, last: u64, count: u64, now: Instant) -> bool {
        if count == 0 {
            return false;
        }
        self.last_written = self.last_written.max(last);
        self.cadence.records_written(count, now);
        self.keepalive_due(now)
    }

    /// Spool ids from [`Self::next_to_write`] up to `end` (exclusive) cannot be read (a
    /// corrupt segment): counted as written, so that the next keep-alive moves past them.
    pub fn skip_unreadable(&mut self, end: u64, now: Instant) {
        let skipped = end.saturating_sub(self.next_to_write());
        if skipped == 0 {
            return;
        }
        self.last_written = end.saturating_sub(1);
        self.cadence.records_written(skipped, now);
    }

    /// The keep-alive `counter` was written at `now`, after every record written so far.
    pub fn keepalive_written(&mut self, counter: u32, now: Instant) {
        self.cadence.keepalive_written(now);
        self.outstanding.push_back(Outstanding {
            counter,
            deadline: now + self.keepalive_timeout,
            covers: self.last_written,
        });
    }

    /// The agency answered keep-alive `answer`. Returns the last record id newly
    /// acknowledged (to remove from the spool), `None` when the answer acknowledges nothing
    /// new; `Err` when the answer is not the one due (the connection is to be closed).
    pub fn answered(&mut self, answer: u32) -> Result<Option<u64>, LinkViolation> {
        let Some(due) = self.outstanding.front() else {
            return Err(LinkViolation::Unsolicited { answer });
        };
        if due.counter != answer {
            return Err(LinkViolation::OutOfOrder {
                answer,
                expected: due.counter,
            });
        }
        let covers = due.covers;
        self.outstanding.pop_front();
        if covers > self.acked {
            self.acked = covers;
            Ok(Some(covers))
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(5);
    const DELAY: Duration = Duration::from_millis(50);
    const IDLE: Duration = Duration::from_secs(10);

    fn state(acked: u64, max_unacked: u64, every: u64, now: Instant) -> LinkState {
        LinkState::new(
            acked,
            max_unacked,
            TIMEOUT,
            KeepAliveCadence::new(every, DELAY, IDLE, now),
        )
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn answers_in_order_acknowledge_what_was_written_before_each_keepalive() {
        let t0 = Instant::now();
        let mut s = state(0, 100, 10, t0);
        assert_eq!(s.next_to_write(), 1);
        assert!(!s.records_written(5, 5, t0));
        s.keepalive_written(1, t0);
        assert!(s.records_written(15, 10, t0 + ms(1)), "ten records: due");
        s.keepalive_written(2, t0 + ms(1));
        assert!(!s.records_written(17, 2, t0 + ms(2)));
        assert_eq!(s.outstanding(), 2);
        assert_eq!(s.answered(1), Ok(Some(5)));
        assert_eq!(s.acked(), 5);
        assert_eq!(s.answered(2), Ok(Some(15)));
        assert_eq!(s.acked(), 15);
        // Records 16 and 17 wait for the next keep-alive.
        assert_eq!(s.outstanding(), 0);
        assert_eq!(s.last_written(), 17);
        assert_eq!(s.next_to_write(), 18);
    }

    #[test]
    fn an_idle_keepalive_acknowledges_nothing_new() {
        let t0 = Instant::now();
        let mut s = state(40, 100, 10, t0);
        assert!(!s.keepalive_due(t0 + IDLE - ms(1)));
        assert!(s.keepalive_due(t0 + IDLE));
        s.keepalive_written(7, t0 + IDLE);
        assert_eq!(s.answered(7), Ok(None));
        assert_eq!(s.acked(), 40);
    }

    #[test]
    fn an_answer_out_of_order_or_unsolicited_is_a_violation() {
        let t0 = Instant::now();
        let mut s = state(0, 100, 10, t0);
        assert_eq!(s.answered(3), Err(LinkViolation::Unsolicited { answer: 3 }));
        s.records_written(4, 4, t0);
        s.keepalive_written(3, t0);
        s.records_written(8, 4, t0);
        s.keepalive_written(4, t0);
        assert_eq!(
            s.answered(4),
            Err(LinkViolation::OutOfOrder {
                answer: 4,
                expected: 3
            })
        );
        // Nothing was acknowledged by the wrong answer.
        assert_eq!(s.acked(), 0);
        assert_eq!(s.outstanding(), 2);
    }

    #[test]
    fn a_keepalive_never_answered_times_out_exactly_at_its_deadline() {
        let t0 = Instant::now();
        let mut s = state(0, 100, 10, t0);
        assert_eq!(
            s.check_timeout(t0 + TIMEOUT * 10),
            Ok(()),
            "none outstanding"
        );
        s.records_written(3, 3, t0);
        s.keepalive_written(1, t0 + ms(10));
        s.keepalive_written(2, t0 + ms(20));
        assert_eq!(s.keepalive_deadline(), Some((1, t0 + ms(10) + TIMEOUT)));
        assert_eq!(s.check_timeout(t0 + ms(10) + TIMEOUT - ms(1)), Ok(()));
        assert_eq!(
            s.check_timeout(t0 + ms(10) + TIMEOUT),
            Err(LinkViolation::KeepAliveTimeout {
                counter: 1,
                timeout: TIMEOUT
            })
        );
        // Answering the first moves the deadline to the second's.
        assert_eq!(s.answered(1), Ok(Some(3)));
        assert_eq!(s.check_timeout(t0 + ms(10) + TIMEOUT), Ok(()));
        assert!(s.check_timeout(t0 + ms(20) + TIMEOUT).is_err());
    }

    #[test]
    fn the_window_bounds_unacknowledged_records_and_forces_a_keepalive() {
        let t0 = Instant::now();
        let mut s = state(100, 8, 1000, t0);
        assert_eq!(s.room(), 8);
        assert!(!s.records_written(105, 5, t0));
        assert_eq!(s.room(), 3);
        assert!(s.records_written(108, 3, t0), "window full: due at once");
        assert_eq!(s.room(), 0);
        s.keepalive_written(1, t0);
        assert_eq!(s.room(), 0, "written, not yet acknowledged");
        assert_eq!(s.answered(1), Ok(Some(108)));
        assert_eq!(s.room(), 8);
    }

    #[test]
    fn a_new_connection_resends_from_the_oldest_unacknowledged_record() {
        let t0 = Instant::now();
        let mut first = state(0, 100, 10, t0);
        first.records_written(20, 20, t0);
        first.keepalive_written(1, t0);
        first.records_written(30, 10, t0);
        first.keepalive_written(2, t0);
        assert_eq!(first.answered(1), Ok(Some(20)));
        // The connection fails before keep-alive 2 is answered.
        assert!(first.check_timeout(t0 + TIMEOUT).is_err());
        let again = state(first.acked(), 100, 10, t0 + TIMEOUT);
        assert_eq!(again.next_to_write(), 21, "21..=30 are written again");
    }

    #[test]
    fn unreadable_records_are_skipped_and_covered_by_the_next_keepalive() {
        let t0 = Instant::now();
        let mut s = state(10, 100, 1000, t0);
        s.skip_unreadable(10, t0);
        assert_eq!(s.next_to_write(), 11, "an end before next skips nothing");
        s.skip_unreadable(31, t0);
        assert_eq!(s.next_to_write(), 31);
        assert_eq!(s.last_written(), 30);
        assert!(s.keepalive_due(t0 + DELAY), "covered within the delay");
        s.keepalive_written(1, t0 + DELAY);
        assert_eq!(s.answered(1), Ok(Some(30)));
    }

    #[test]
    fn a_trickle_is_covered_within_the_delay() {
        let t0 = Instant::now();
        let mut s = state(0, 100, 1000, t0);
        assert!(!s.records_written(1, 1, t0));
        assert_eq!(s.keepalive_due_at(), t0 + DELAY);
        assert!(!s.keepalive_due(t0 + DELAY - ms(1)));
        assert!(s.keepalive_due(t0 + DELAY));
    }

    #[test]
    fn the_cadence_asks_by_count_by_delay_when_the_window_is_full_and_when_idle() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = KeepAliveCadence::new(100, ms(50), ms(5000), t0);
        // Idle: due after the idle interval only.
        assert!(!c.due(t0 + ms(4999), false));
        assert!(c.due(t0 + ms(5000), false));
        assert_eq!(c.deadline(), t0 + ms(5000));
        // A trickle: due 50 ms after the first record, not before.
        c.records_written(1, t0 + ms(10));
        c.records_written(1, t0 + ms(30));
        assert_eq!(c.deadline(), t0 + ms(60));
        assert!(!c.due(t0 + ms(59), false));
        assert!(c.due(t0 + ms(60), false));
        // A full window makes it due at once.
        assert!(c.due(t0 + ms(31), true));
        c.keepalive_written(t0 + ms(60));
        assert_eq!(c.uncovered(), 0);
        assert_eq!(c.deadline(), t0 + ms(5060));
        // Load: due at the hundredth record, whatever the time.
        c.records_written(99, t0 + ms(61));
        assert!(!c.due(t0 + ms(61), false));
        c.records_written(1, t0 + ms(61));
        assert!(c.due(t0 + ms(61), false));
        // Nothing written is no record.
        c.keepalive_written(t0 + ms(62));
        c.records_written(0, t0 + ms(63));
        assert_eq!(c.deadline(), t0 + ms(5062));
    }
}
