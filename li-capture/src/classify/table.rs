//! Address lookup for the hot path: which tasks' static targets cover an address.
//!
//! Targets are grouped by prefix length; each stored prefix carries the tasks of every
//! target that covers it (shorter prefixes included), so the longest match alone gives the
//! complete answer — a packet inside a task's /24 and another task's /32 belongs to both. A
//! 65 536-entry count table over the first 16 bits of IPv4 addresses answers the common
//! question, "is any target near this address at all?", with one memory read.

use std::net::IpAddr;

use li_core::{IpPrefix, Xid};

use crate::hash::FastMap;

/// Static targets of all active tasks, by address family.
#[derive(Debug, Default)]
pub(crate) struct StaticTable {
    v4: Family<u32>,
    v6: Family<u128>,
}

/// One address family: per prefix length, the masked prefixes and their task sets.
#[derive(Debug)]
struct Family<A> {
    /// Prefix lengths in use, longest first.
    lengths: Vec<u8>,
    /// Per length (index = length), the prefixes of that length.
    by_len: Vec<FastMap<A, Box<[Xid]>>>,
}

impl<A> Default for Family<A> {
    fn default() -> Self {
        Self {
            lengths: Vec::new(),
            by_len: Vec::new(),
        }
    }
}

trait Bits: Copy + Eq + std::hash::Hash {
    const WIDTH: u8;
    fn mask(self, len: u8) -> Self;
}

impl Bits for u32 {
    const WIDTH: u8 = 32;
    fn mask(self, len: u8) -> Self {
        self & u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
    }
}

impl Bits for u128 {
    const WIDTH: u8 = 128;
    fn mask(self, len: u8) -> Self {
        self & u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
    }
}

impl<A: Bits> Family<A> {
    fn build(entries: &[(A, u8, Xid)]) -> Self {
        let mut by_len: Vec<FastMap<A, Vec<Xid>>> =
            (0..=A::WIDTH).map(|_| FastMap::default()).collect();
        for &(addr, len, xid) in entries {
            if let Some(map) = by_len.get_mut(usize::from(len)) {
                let tasks = map.entry(addr.mask(len)).or_default();
                if !tasks.contains(&xid) {
                    tasks.push(xid);
                }
            }
        }
        let lengths: Vec<u8> = (0..=A::WIDTH)
            .rev()
            .filter(|&l| by_len.get(usize::from(l)).is_some_and(|m| !m.is_empty()))
            .collect();
        // Each prefix inherits the tasks of the shorter prefixes that cover it.
        let snapshot = by_len.clone();
        for &len in &lengths {
            let Some(map) = by_len.get_mut(usize::from(len)) else {
                continue;
            };
            for (prefix, tasks) in map.iter_mut() {
                for &shorter in lengths.iter().filter(|&&l| l < len) {
                    if let Some(covering) = snapshot
                        .get(usize::from(shorter))
                        .and_then(|m| m.get(&prefix.mask(shorter)))
                    {
                        for xid in covering {
                            if !tasks.contains(xid) {
                                tasks.push(*xid);
                            }
                        }
                    }
                }
            }
        }
        Self {
            lengths,
            by_len: by_len
                .into_iter()
                .map(|m| {
                    m.into_iter()
                        .map(|(k, v)| (k, v.into_boxed_slice()))
                        .collect()
                })
                .collect(),
        }
    }

    #[inline]
    fn lookup(&self, addr: A) -> &[Xid] {
        for &len in &self.lengths {
            if let Some(tasks) = self
                .by_len
                .get(usize::from(len))
                .and_then(|m| m.get(&addr.mask(len)))
            {
                return tasks;
            }
        }
        &[]
    }
}

impl StaticTable {
    /// Builds the table from (prefix, task) pairs.
    pub(crate) fn build(targets: impl IntoIterator<Item = (IpPrefix, Xid)>) -> Self {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (prefix, xid) in targets {
            match prefix.addr() {
                IpAddr::V4(a) => v4.push((u32::from(a), prefix.prefix_len(), xid)),
                IpAddr::V6(a) => v6.push((u128::from(a), prefix.prefix_len(), xid)),
            }
        }
        Self {
            v4: Family::build(&v4),
            v6: Family::build(&v6),
        }
    }

    /// The tasks whose static targets cover `addr`.
    #[inline]
    pub(crate) fn lookup(&self, addr: IpAddr) -> &[Xid] {
        match addr {
            IpAddr::V4(a) => self.v4.lookup(u32::from(a)),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        }
    }

    /// The IPv4 prefixes stored (for the prefilter).
    pub(crate) fn v4_prefixes(&self) -> impl Iterator<Item = (u32, u8)> + '_ {
        self.v4.lengths.iter().flat_map(move |&len| {
            self.v4
                .by_len
                .get(usize::from(len))
                .into_iter()
                .flat_map(move |m| m.keys().map(move |&k| (k, len)))
        })
    }

    /// True when an IPv6 target exists.
    pub(crate) fn has_v6(&self) -> bool {
        !self.v6.lengths.is_empty()
    }
}

/// Counts of targets (static and dynamic) per IPv4 /16: zero means no target can match an
/// address in that /16.
#[derive(Debug)]
pub(crate) struct Prefilter16 {
    counts: Box<[u32]>,
}

impl Default for Prefilter16 {
    fn default() -> Self {
        Self {
            counts: vec![0; 1 << 16].into_boxed_slice(),
        }
    }
}

impl Prefilter16 {
    /// Adds (or, with `delta` -1, removes) a prefix.
    pub(crate) fn add(&mut self, addr: u32, len: u8, delta: i32) {
        let first = (addr.mask(len.min(16)) >> 16) as usize;
        let span = if len >= 16 { 1 } else { 1usize << (16 - len) };
        for c in self.counts.iter_mut().skip(first).take(span) {
            *c = c.saturating_add_signed(delta);
        }
    }

    /// True when some target may cover `addr`.
    #[inline]
    pub(crate) fn may_match(&self, addr: u32) -> bool {
        self.counts
            .get((addr >> 16) as usize)
            .is_some_and(|&c| c != 0)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn p(s: &str) -> IpPrefix {
        s.parse().unwrap()
    }

    #[test]
    fn longest_match_carries_covering_tasks() {
        let a = Xid::from_bytes([1; 16]);
        let b = Xid::from_bytes([2; 16]);
        let c = Xid::from_bytes([3; 16]);
        let t = StaticTable::build([
            (p("192.0.2.0/24"), a),
            (p("192.0.2.7/32"), b),
            (p("2001:db8::/32"), c),
            (p("192.0.2.7/32"), b),
        ]);
        let mut hit = t.lookup("192.0.2.7".parse().unwrap()).to_vec();
        hit.sort_by_key(|x| *x.as_bytes());
        assert_eq!(hit, vec![a, b]);
        assert_eq!(t.lookup("192.0.2.8".parse().unwrap()), &[a]);
        assert_eq!(t.lookup("192.0.3.7".parse().unwrap()), &[] as &[Xid]);
        assert_eq!(t.lookup("2001:db8:1::1".parse().unwrap()), &[c]);
        assert_eq!(t.lookup("2001:db9::1".parse().unwrap()), &[] as &[Xid]);
        assert!(t.has_v6());
    }

    #[test]
    fn prefilter_counts_cover_short_prefixes() {
        let mut f = Prefilter16::default();
        f.add(u32::from(Ipv4Addr::new(10, 0, 0, 0)), 8, 1);
        f.add(u32::from(Ipv4Addr::new(192, 0, 2, 7)), 32, 1);
        assert!(f.may_match(u32::from(Ipv4Addr::new(10, 200, 1, 1))));
        assert!(f.may_match(u32::from(Ipv4Addr::new(192, 0, 9, 9))));
        assert!(!f.may_match(u32::from(Ipv4Addr::new(11, 0, 0, 1))));
        f.add(u32::from(Ipv4Addr::new(192, 0, 2, 7)), 32, -1);
        assert!(!f.may_match(u32::from(Ipv4Addr::new(192, 0, 9, 9))));
        f.add(0, 0, 1);
        assert!(f.may_match(u32::MAX));
    }
}
