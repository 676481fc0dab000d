//! The capture-loss alarm of a live capture (a pure decision).

/// The capture-loss alarm of a live capture, a pure decision: given the running totals of
/// frames the kernel dropped and of X2/X3 PDUs dropped for a full queue, whether losses
/// happened since the last check, and how many.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LossAlarm {
    kernel: u64,
    x2x3: u64,
}

/// Losses since the previous check of a [`LossAlarm`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Losses {
    /// Frames the kernel dropped since (its ring was full).
    pub kernel: u64,
    /// X2/X3 PDUs dropped since (a destination's queue was full).
    pub x2x3: u64,
    /// The totals so far.
    pub kernel_total: u64,
    /// See [`Losses::kernel_total`].
    pub x2x3_total: u64,
}

impl LossAlarm {
    /// Compares the totals with the last check; `Some` when anything was lost since.
    pub fn check(&mut self, kernel_total: u64, x2x3_total: u64) -> Option<Losses> {
        let losses = Losses {
            kernel: kernel_total.saturating_sub(self.kernel),
            x2x3: x2x3_total.saturating_sub(self.x2x3),
            kernel_total,
            x2x3_total,
        };
        self.kernel = self.kernel.max(kernel_total);
        self.x2x3 = self.x2x3.max(x2x3_total);
        (losses.kernel > 0 || losses.x2x3 > 0).then_some(losses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loss_alarm_fires_only_when_something_was_lost_since_the_last_check() {
        let mut alarm = LossAlarm::default();
        assert_eq!(alarm.check(0, 0), None);
        let losses = alarm.check(5, 0).unwrap();
        assert_eq!((losses.kernel, losses.x2x3, losses.kernel_total), (5, 0, 5));
        assert_eq!(alarm.check(5, 0), None, "nothing new");
        let losses = alarm.check(7, 3).unwrap();
        assert_eq!((losses.kernel, losses.x2x3), (2, 3));
        assert_eq!((losses.kernel_total, losses.x2x3_total), (7, 3));
        // Counters never run backwards into a false alarm.
        assert_eq!(alarm.check(6, 3), None);
    }
}
