//! The session descriptions of a call's two parties, as both US families report them: the
//! target's (what it sent) and the other party's, the latest of each, bounded.

use super::call::Signal;

/// The octets of one SDP kept at most.
pub const MAX_SDP: usize = 4096;

/// The octets of SDP one state machine ([`super::LaesCalls`], [`super::PcespCalls`]) keeps at
/// most, over all its calls.
pub const MAX_SDP_BYTES: usize = 16 * 1024 * 1024;

/// The latest SDP of each party of one call.
///
/// A message's body is an SDP when its `Content-Type` is `application/sdp` or it starts with
/// `v=`. The target's is the one in the messages the target sent (its INVITE when it calls,
/// its 2xx when it is called, its later offers and answers), the associate's the one in the
/// other party's; a request is sent by its `From` party, a response by its `To` party. When
/// the call does not tell which party sent a message (the target's side unknown), its SDP is
/// attributed to no one. Each is kept up to [`MAX_SDP`] octets (cut at its last whole line);
/// the calls of one state machine keep at most [`MAX_SDP_BYTES`] (`budget`): beyond, a new
/// SDP is not kept.
#[derive(Debug, Default)]
pub(crate) struct CallSdps {
    /// The target's latest SDP.
    pub(crate) target: Option<String>,
    /// The other party's latest SDP.
    pub(crate) associate: Option<String>,
}

impl CallSdps {
    /// Takes the SDP of `signal`'s message, if it has one and the call says who sent it;
    /// `budget` counts the octets kept over all calls.
    pub(crate) fn observe(&mut self, signal: &Signal<'_>, budget: &mut usize) {
        if signal.released {
            return;
        }
        let Some(sdp) = signal.sdp() else {
            return;
        };
        let slot = match signal.sent_by_target() {
            Some(true) => &mut self.target,
            Some(false) => &mut self.associate,
            None => return,
        };
        if let Some(old) = slot.take() {
            *budget = budget.saturating_sub(old.len());
        }
        let sdp = bounded_sdp(sdp);
        if budget.saturating_add(sdp.len()) <= MAX_SDP_BYTES {
            *budget += sdp.len();
            *slot = Some(sdp);
        }
    }

    /// Gives back the octets kept, the call being forgotten.
    pub(crate) fn release(self, budget: &mut usize) {
        let kept = [self.target, self.associate]
            .iter()
            .flatten()
            .map(String::len)
            .sum::<usize>();
        *budget = budget.saturating_sub(kept);
    }
}

/// An SDP body as text, cut to [`MAX_SDP`] octets at its last whole line.
pub(crate) fn bounded_sdp(body: &[u8]) -> String {
    let cut = match body.get(..MAX_SDP) {
        Some(head) => match head.iter().rposition(|&b| b == b'\n') {
            Some(end) => head.get(..=end).unwrap_or(head),
            None => head,
        },
        None => body,
    };
    String::from_utf8_lossy(cut).into_owned()
}
