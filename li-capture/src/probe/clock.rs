//! The probe's clock and the time rules of a replay: pure, the time given as an argument.

use std::time::Duration;

use li_core::Timestamp;

/// How often the probe advances the classifier's clock when no frame does
/// ([`Probe::spawn_ticker`](super::Probe::spawn_ticker)), and how far past the last advance
/// a frame advances it itself ([`advance_due`]).
pub const TICK: Duration = Duration::from_millis(100);

/// The probe's clock (see the [module documentation](super#time)): the timestamp of the
/// latest frame of the replay in progress; outside a replay the wall clock, but never earlier
/// than the last replayed frame (a fast, rebased replay runs ahead of the wall clock; the
/// clock does not step back when it ends).
///
/// ```
/// use li_capture::probe::ProbeClock;
/// use li_core::Timestamp;
///
/// let t = |secs| Timestamp::from_secs_micros(secs, 0).unwrap();
/// let mut clock = ProbeClock::new();
/// assert_eq!(clock.now(t(100)), t(100)); // the wall clock
/// clock.begin_replay();
/// clock.frame(t(500)); // a replay running ahead of the wall clock
/// assert_eq!(clock.now(t(101)), t(500));
/// clock.end_replay();
/// assert_eq!(clock.now(t(102)), t(500)); // no step back
/// assert_eq!(clock.now(t(600)), t(600));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeClock {
    /// Replays in progress.
    replays: usize,
    /// The latest frame time of the replay in progress.
    replay: Option<Timestamp>,
    /// The latest frame time of any replay: the clock never goes back before it.
    floor: Timestamp,
}

impl Default for ProbeClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ProbeClock {
    /// A clock that has seen no replay: the wall clock.
    pub const fn new() -> Self {
        Self {
            replays: 0,
            replay: None,
            floor: Timestamp::UNIX_EPOCH,
        }
    }

    /// The probe's time when the wall clock reads `wall`.
    pub fn now(&self, wall: Timestamp) -> Timestamp {
        match (self.replays, self.replay) {
            (1.., Some(t)) => t,
            _ => wall.max(self.floor),
        }
    }

    /// A replay starts: the clock follows its frames ([`ProbeClock::frame`]).
    pub fn begin_replay(&mut self) {
        self.replays += 1;
        self.replay = None;
    }

    /// A replayed frame stamped `time`: the clock is the latest such time.
    pub fn frame(&mut self, time: Timestamp) {
        let latest = self.replay.map_or(time, |t| t.max(time));
        self.replay = Some(latest);
    }

    /// A replay ends: the clock is the wall clock again, not earlier than its last frame.
    pub fn end_replay(&mut self) {
        self.replays = self.replays.saturating_sub(1);
        if let Some(last) = self.replay.take() {
            self.floor = self.floor.max(last);
        }
    }
}

/// Whether a frame stamped `time` also advances the classifier (window edges, lease
/// expiries), the last advance having been at `last_advance`: once it is [`TICK`] or more
/// later.
pub fn advance_due(last_advance: Timestamp, time: Timestamp) -> bool {
    time.duration_since(last_advance).is_some_and(|d| d >= TICK)
}

/// `time` shifted by `to - from`, keeping its distance to `from` (clamped to the
/// representable range): how a replay rebases its frames, `from` being the file's first
/// frame time and `to` the time it is stamped with.
pub fn rebase(time: Timestamp, from: Timestamp, to: Timestamp) -> Timestamp {
    let micros = i128::from(time.unix_micros()) - i128::from(from.unix_micros())
        + i128::from(to.unix_micros());
    let clamped = micros.clamp(0, i128::from(Timestamp::MAX.unix_micros()));
    u64::try_from(clamped)
        .ok()
        .and_then(|m| Timestamp::from_unix_micros(m).ok())
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(us: u64) -> Timestamp {
        Timestamp::from_unix_micros(us).unwrap()
    }

    #[test]
    fn shift_keeps_gaps_both_ways() {
        assert_eq!(rebase(t(1_500), t(1_000), t(10_000)), t(10_500));
        assert_eq!(rebase(t(900), t(1_000), t(10_000)), t(9_900));
        assert_eq!(rebase(t(1_500), t(1_000), t(100)), t(600));
        assert_eq!(rebase(t(0), t(1_000), t(100)), Timestamp::UNIX_EPOCH);
        assert_eq!(rebase(Timestamp::MAX, t(0), t(1)), Timestamp::MAX);
    }

    #[test]
    fn outside_a_replay_the_clock_is_the_wall_clock() {
        let clock = ProbeClock::new();
        assert_eq!(clock.now(t(5)), t(5));
        assert_eq!(clock.now(t(3)), t(3), "the wall clock may step back");
    }

    #[test]
    fn during_a_replay_the_clock_is_the_latest_frame() {
        let mut clock = ProbeClock::new();
        clock.begin_replay();
        // no frame yet: the wall clock
        assert_eq!(clock.now(t(1_000)), t(1_000));
        clock.frame(t(50));
        assert_eq!(clock.now(t(1_000)), t(50), "behind the wall clock");
        clock.frame(t(40));
        assert_eq!(
            clock.now(t(1_000)),
            t(50),
            "an earlier frame does not step back"
        );
        clock.frame(t(5_000));
        assert_eq!(clock.now(t(1_000)), t(5_000), "ahead of the wall clock");
    }

    #[test]
    fn after_a_replay_the_clock_never_steps_back_before_its_last_frame() {
        let mut clock = ProbeClock::new();
        clock.begin_replay();
        clock.frame(t(5_000));
        clock.end_replay();
        assert_eq!(clock.now(t(1_000)), t(5_000));
        assert_eq!(clock.now(t(7_000)), t(7_000));
        // a later replay of older frames follows them, and the floor stays
        clock.begin_replay();
        clock.frame(t(10));
        assert_eq!(clock.now(t(7_000)), t(10));
        clock.end_replay();
        assert_eq!(clock.now(t(1_000)), t(5_000));
        // an unmatched end changes nothing
        clock.end_replay();
        assert_eq!(clock.now(t(1_000)), t(5_000));
    }

    #[test]
    fn a_frame_advances_the_classifier_once_a_tick_has_passed() {
        let last = t(1_000_000);
        let tick = u64::try_from(TICK.as_micros()).unwrap();
        assert!(!advance_due(last, last));
        assert!(!advance_due(last, t(1_000_000 + tick - 1)));
        assert!(advance_due(last, t(1_000_000 + tick)));
        assert!(!advance_due(last, t(999_999)), "an earlier frame");
    }
}
