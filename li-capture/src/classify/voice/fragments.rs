//! Bounded reassembly of fragmented UDP datagrams, for SIP messages larger than the path
//! MTU (an INVITE with a long SDP, many Via and Record-Route headers).
//!
//! The decoder does not reassemble: it reports each fragment ([`crate::decode::Fragment`]),
//! the first one with its UDP header. Only what may be SIP is kept: a set whose first
//! fragment names no SIP port is dropped at once, and what arrives before the first
//! fragment is bounded by [`Fragments`]'s limits (sets, octets in all, age). Reassembly
//! follows RFC 791 §3.2 and RFC 8200 §4.5 loosely: pieces may come in any order and
//! overlap (a later piece wins); the datagram is complete when the piece without
//! More-Fragments has arrived and the pieces cover every octet before its end.

use std::net::IpAddr;
use std::time::Duration;

use li_core::Timestamp;

use crate::hash::FastMap;

/// The identity of one fragmented datagram (RFC 791: source, destination, protocol and
/// identification; the protocol is always UDP here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct FragmentKey {
    pub(super) src: IpAddr,
    pub(super) dst: IpAddr,
    pub(super) id: u32,
}

#[derive(Debug)]
struct FragmentSet {
    first_seen: Timestamp,
    /// (offset, octets) in arrival order.
    pieces: Vec<(usize, Vec<u8>)>,
    /// The datagram's length, once the last fragment came.
    total: Option<usize>,
    /// Octets held.
    held: usize,
    /// Not SIP (its first fragment said so): later fragments are dropped.
    ignored: bool,
}

/// Fragment reassembly bounds and state.
#[derive(Debug)]
pub(super) struct Fragments {
    sets: FastMap<FragmentKey, FragmentSet>,
    max_sets: usize,
    max_octets: usize,
    timeout: Duration,
    held: usize,
    /// Datagrams reassembled.
    pub(super) reassembled: u64,
    /// Fragments dropped: a bound reached, a set that timed out, an inconsistent set.
    pub(super) dropped: u64,
}

/// The largest IP payload (an IPv4 total length of 65,535 less a 20-octet header).
const MAX_DATAGRAM: usize = 65_515;

/// Pieces one datagram may arrive in at most (a 64 KiB datagram in 1,500-octet packets is
/// 45): beyond, the set is dropped. Without it, pieces of a few octets (or none) would cost
/// their bookkeeping without counting against the octet bound, and the completeness check
/// would sort an ever longer list.
const MAX_PIECES: usize = 128;

impl Fragments {
    pub(super) fn new(max_sets: usize, max_octets: usize, timeout: Duration) -> Self {
        Self {
            sets: FastMap::default(),
            max_sets,
            max_octets,
            timeout,
            held: 0,
            reassembled: 0,
            dropped: 0,
        }
    }

    /// Adds the piece `data` (the fragment's IP payload) at `offset`; `sip`: for the first
    /// fragment, whether its UDP ports make it SIP (`None` for a later fragment). Returns the
    /// whole datagram (UDP header first) when this piece completes it.
    pub(super) fn push(
        &mut self,
        time: Timestamp,
        key: FragmentKey,
        offset: usize,
        more: bool,
        data: &[u8],
        sip: Option<bool>,
    ) -> Option<Vec<u8>> {
        if !self.sets.contains_key(&key) && self.sets.len() >= self.max_sets {
            // Full: a set known not to be SIP (kept only to drop its later fragments) makes
            // room; else this fragment is dropped.
            let ignored = self.sets.iter().find(|(_, s)| s.ignored).map(|(k, _)| *k);
            match ignored {
                Some(k) => {
                    self.sets.remove(&k);
                }
                None => {
                    self.dropped += 1;
                    return None;
                }
            }
        }
        let set = self.sets.entry(key).or_insert_with(|| FragmentSet {
            first_seen: time,
            pieces: Vec::new(),
            total: None,
            held: 0,
            ignored: false,
        });
        if sip == Some(false) {
            // Not SIP: forget what was held, drop what follows.
            let freed = std::mem::take(&mut set.held);
            set.pieces = Vec::new();
            set.ignored = true;
            self.held = self.held.saturating_sub(freed);
            return None;
        }
        if set.ignored {
            return None;
        }
        let end = offset.saturating_add(data.len());
        let inconsistent = !more && set.total.is_some_and(|t| t != end);
        if end > MAX_DATAGRAM
            || inconsistent
            || (more && data.is_empty())
            || set.pieces.len() >= MAX_PIECES
            || self.held.saturating_add(data.len()) > self.max_octets
        {
            // Too long, two different ends (not one datagram), an empty piece that is not
            // the last (no real stack sends one), too many pieces, or no room.
            self.dropped += 1;
            self.remove(&key);
            return None;
        }
        if !more {
            set.total = Some(end);
        }
        set.pieces.push((offset, data.to_vec()));
        set.held += data.len();
        self.held += data.len();
        let total = set.total?;
        // Complete when the pieces, by offset, leave no hole before `total`.
        set.pieces.sort_by_key(|(o, _)| *o);
        let mut covered = 0usize;
        for (o, d) in &set.pieces {
            if *o > covered {
                return None;
            }
            covered = covered.max(o.saturating_add(d.len()));
        }
        if covered < total {
            return None;
        }
        let set = self.remove(&key)?;
        let mut datagram = vec![0u8; total];
        for (o, d) in &set.pieces {
            if let Some(dst) = datagram.get_mut(*o..o.saturating_add(d.len()).min(total))
                && let Some(src) = d.get(..dst.len())
            {
                dst.copy_from_slice(src);
            }
        }
        self.reassembled += 1;
        Some(datagram)
    }

    /// Drops the sets older than the timeout at `now`.
    pub(super) fn expire(&mut self, now: Timestamp) {
        let timeout = self.timeout;
        let mut freed = 0usize;
        let mut dropped = 0u64;
        self.sets.retain(|_, s| {
            let keep = now
                .duration_since(s.first_seen)
                .is_none_or(|age| age < timeout);
            if !keep {
                freed += s.held;
                if !s.ignored {
                    dropped += s.pieces.len() as u64;
                }
            }
            keep
        });
        self.held = self.held.saturating_sub(freed);
        self.dropped += dropped;
    }

    fn remove(&mut self, key: &FragmentKey) -> Option<FragmentSet> {
        let set = self.sets.remove(key)?;
        self.held = self.held.saturating_sub(set.held);
        Some(set)
    }
}

/// The payload of an IP fragment (what follows the IPv4 header, or the IPv6 Fragment
/// header), `None` if the headers do not hold together.
pub(super) fn fragment_payload(ip: &[u8]) -> Option<&[u8]> {
    match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            ip.get(ihl.max(20)..)
        }
        6 => {
            let mut next = *ip.get(6)?;
            let mut at = 40usize;
            loop {
                match next {
                    // Fragment header: fixed 8 octets, the payload follows.
                    44 => return ip.get(at.checked_add(8)?..),
                    // Hop-by-hop, Routing, Destination Options: (Hdr Ext Len + 1) * 8.
                    0 | 43 | 60 => {
                        let len = (usize::from(*ip.get(at + 1)?) + 1) * 8;
                        next = *ip.get(at)?;
                        at = at.checked_add(len)?;
                    }
                    // Authentication Header: (Payload Len + 2) * 4.
                    51 => {
                        let len = (usize::from(*ip.get(at + 1)?) + 2) * 4;
                        next = *ip.get(at)?;
                        at = at.checked_add(len)?;
                    }
                    _ => return None,
                }
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> Timestamp {
        Timestamp::from_secs_micros(1_700_000_000 + s, 0).unwrap()
    }

    fn key(id: u32) -> FragmentKey {
        FragmentKey {
            src: "192.0.2.1".parse().unwrap(),
            dst: "192.0.2.2".parse().unwrap(),
            id,
        }
    }

    #[test]
    fn pieces_in_any_order_make_the_datagram_once_complete() {
        let mut f = Fragments::new(4, 1 << 20, Duration::from_secs(30));
        assert_eq!(f.push(t(0), key(1), 16, false, b"cccc", None), None);
        assert_eq!(f.push(t(0), key(1), 0, true, b"aaaaaaaa", Some(true)), None);
        let whole = f.push(t(0), key(1), 8, true, b"bbbbbbbb", None).unwrap();
        assert_eq!(whole, b"aaaaaaaabbbbbbbbcccc");
        assert_eq!((f.reassembled, f.dropped, f.held), (1, 0, 0));
    }

    #[test]
    fn bounds_not_sip_and_age_drop_what_is_held() {
        let mut f = Fragments::new(2, 24, Duration::from_secs(30));
        // A set whose first fragment is not SIP: dropped, and so are its later pieces.
        assert_eq!(f.push(t(0), key(1), 8, false, b"xxxx", None), None);
        assert_eq!(
            f.push(t(0), key(1), 0, true, b"aaaaaaaa", Some(false)),
            None
        );
        assert_eq!(f.held, 0);
        assert_eq!(f.push(t(0), key(1), 8, false, b"xxxx", None), None);
        // Two sets at most; one known not to be SIP gives way.
        assert_eq!(f.push(t(0), key(2), 8, true, b"12345678", None), None);
        assert_eq!(f.push(t(0), key(3), 8, true, b"12345678", None), None);
        assert_eq!(f.dropped, 0);
        assert!(!f.sets.contains_key(&key(1)));
        assert_eq!(f.push(t(0), key(5), 8, true, b"12345678", None), None);
        assert_eq!(f.dropped, 1);
        f.remove(&key(3));
        // 24 octets held at most.
        assert_eq!(
            f.push(t(0), key(2), 16, true, b"1234567890123456789", None),
            None
        );
        assert_eq!((f.dropped, f.held), (2, 0));
        // Age: a set older than the timeout goes.
        assert_eq!(f.push(t(1), key(4), 8, true, b"12345678", None), None);
        f.expire(t(40));
        assert_eq!((f.dropped, f.held, f.sets.len()), (3, 0, 0));
    }

    #[test]
    fn empty_and_countless_pieces_are_dropped_not_held() {
        let mut f = Fragments::new(4, 1 << 20, Duration::from_secs(30));
        // Empty pieces that are not the last: never held.
        for i in 0..1_000 {
            assert_eq!(f.push(t(0), key(1), 8 * i, true, b"", None), None);
        }
        assert_eq!(
            (f.sets.get(&key(1)).map_or(0, |s| s.pieces.len()), f.dropped),
            (0, 1_000)
        );
        // Tiny pieces: the set goes once it reaches the bound, with what it held.
        for i in 0..MAX_PIECES {
            assert_eq!(f.push(t(0), key(2), 8 * i, true, b"12345678", None), None);
        }
        assert_eq!(f.held, 8 * MAX_PIECES);
        assert_eq!(
            f.push(t(0), key(2), 8 * MAX_PIECES, true, b"12345678", None),
            None
        );
        assert!(!f.sets.contains_key(&key(2)));
        assert_eq!((f.held, f.dropped), (0, 1_001));
    }

    #[test]
    fn the_payload_of_a_fragment_follows_its_headers() {
        let mut v4 = vec![0x46u8; 24];
        v4.extend_from_slice(b"data");
        assert_eq!(fragment_payload(&v4), Some(&b"data"[..]));
        // IPv6: a Destination Options header (8 octets), then the Fragment header.
        let mut v6 = vec![0u8; 40];
        v6[0] = 0x60;
        v6[6] = 60;
        v6.extend_from_slice(&[44, 0, 0, 0, 0, 0, 0, 0]);
        v6.extend_from_slice(&[17, 0, 0, 1, 0, 0, 0, 9]);
        v6.extend_from_slice(b"udp");
        assert_eq!(fragment_payload(&v6), Some(&b"udp"[..]));
        // Headers that do not hold together.
        assert_eq!(fragment_payload(&v6[..44]), None);
        assert_eq!(fragment_payload(&[0x50]), None);
    }
}
