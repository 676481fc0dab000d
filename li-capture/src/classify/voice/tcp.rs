//! SIP over TCP: per-flow stream reassembly in front of the [`StreamFramer`].
//!
//! The framer wants a flow's octets in order, once. A tap sees retransmissions (the same
//! segment again, or a segment that overlaps what was seen) and, after a loss, a gap. Each
//! flow remembers the sequence number it expects next: a segment wholly before it is a
//! duplicate and dropped, one that overlaps it gives only its new octets, one after it (a
//! segment was lost or comes late) is taken as it is and the framer resynchronises on the
//! next SIP start line. Out-of-order segments are not buffered: SIP signalling is a few
//! segments per message, and a lost message costs at most that message.

use std::net::SocketAddr;

use li_core::Timestamp;

use crate::sip::StreamFramer;

/// One direction of a TCP connection: source, then destination.
pub(super) type FlowKey = (SocketAddr, SocketAddr);

/// A flow's framer and where it stands.
#[derive(Debug)]
pub(super) struct TcpFlow {
    pub(super) framer: StreamFramer,
    /// The sequence number of the next new octet, once a segment was seen.
    next_seq: Option<u32>,
    pub(super) last_seen: Timestamp,
}

impl TcpFlow {
    pub(super) fn new(max_message_len: usize, time: Timestamp) -> Self {
        Self {
            framer: StreamFramer::new(max_message_len),
            next_seq: None,
            last_seen: time,
        }
    }

    /// The new octets of a segment carrying `payload` from sequence number `seq`: all of
    /// them, a tail (an overlapping retransmission), or none (a duplicate).
    pub(super) fn accept<'p>(&mut self, seq: u32, payload: &'p [u8]) -> Option<&'p [u8]> {
        let len = u32::try_from(payload.len()).ok()?;
        let end = seq.wrapping_add(len);
        let fresh = match self.next_seq {
            None => payload,
            Some(next) => {
                // Serial-number arithmetic (RFC 1982): the signed distance from `next`.
                let ahead = seq.wrapping_sub(next) as i32;
                if ahead >= 0 {
                    payload
                } else {
                    let behind = ahead.unsigned_abs() as usize;
                    match payload.split_at_checked(behind) {
                        Some((_, tail)) if !tail.is_empty() => tail,
                        _ => return None,
                    }
                }
            }
        };
        // Never move backwards (a late old segment after a gap).
        if self
            .next_seq
            .is_none_or(|next| end.wrapping_sub(next) as i32 > 0)
        {
            self.next_seq = Some(end);
        }
        Some(fresh)
    }

    /// A SYN: the stream starts after its sequence number.
    pub(super) fn syn(&mut self, seq: u32) {
        self.next_seq = Some(seq.wrapping_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Timestamp {
        Timestamp::from_secs_micros(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn duplicates_and_overlaps_give_only_new_octets() {
        let mut f = TcpFlow::new(1024, t());
        assert_eq!(f.accept(100, b"abcd"), Some(&b"abcd"[..]));
        // The same segment again: nothing.
        assert_eq!(f.accept(100, b"abcd"), None);
        // Overlapping: the tail.
        assert_eq!(f.accept(102, b"cdef"), Some(&b"ef"[..]));
        // A gap: taken as it is; then a late segment from before the gap is old.
        assert_eq!(f.accept(200, b"xy"), Some(&b"xy"[..]));
        assert_eq!(f.accept(106, b"gh"), None);
        // Across the wrap of the sequence space.
        let mut w = TcpFlow::new(1024, t());
        w.syn(u32::MAX - 1);
        assert_eq!(w.accept(u32::MAX, b"ab"), Some(&b"ab"[..]));
        assert_eq!(w.accept(u32::MAX, b"abc"), Some(&b"c"[..]));
        assert_eq!(w.accept(2, b"d"), Some(&b"d"[..]));
    }
}
