//! Sequence numbering (TS 102 232-1 clause 5.2.5) and CIN allocation.
//!
//! Each PDU for a given destination, LIID and CIN carries a `sequenceNumber` that starts at
//! 0 and increases by one per PDU, wrapping from 4294967295 to 0. The agency uses it to spot
//! loss and duplication, so numbers must have no gaps and no repeats, including across a
//! restart: [`SequenceAllocator::entries`] and [`SequenceAllocator::restore`] let a
//! persistence layer save and reload the state.

use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};
use std::collections::HashMap;

use crate::id::{Cin, DestinationId, Liid};

/// A PDU sequence number (TS 102 232-1 clause 5.2.5 `sequenceNumber`,
/// `INTEGER (0..4294967295)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SequenceNumber(u32);

/// What a sequence is kept for: one destination, one LIID, one CIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SequenceKey {
    /// The delivery destination.
    pub destination: DestinationId,
    /// The LIID of the task.
    pub liid: Liid,
    /// The communication session.
    pub cin: Cin,
}

/// Hands out sequence numbers per [`SequenceKey`]: 0, 1, 2, ... 4294967295, 0, ...
///
/// Per key there are no gaps and no repeats until the counter wraps. Keys are independent.
///
/// ```
/// use li_core::{Cin, DestinationId, Liid, SequenceAllocator, SequenceKey, SequenceNumber};
///
/// let key = SequenceKey {
///     destination: DestinationId::from_bytes([1; 16]),
///     liid: Liid::new(b"LIID-1")?,
///     cin: Cin::new(7),
/// };
/// let mut seq = SequenceAllocator::new();
/// assert_eq!(seq.next(key), SequenceNumber::new(0));
/// assert_eq!(seq.next(key), SequenceNumber::new(1));
///
/// // Save and restore, e.g. across a restart.
/// let saved: Vec<_> = seq.entries().collect();
/// let mut reloaded = SequenceAllocator::new();
/// for (key, next) in saved {
///     reloaded.restore(key, next);
/// }
/// assert_eq!(reloaded.next(key), SequenceNumber::new(2));
/// # Ok::<(), li_core::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SequenceAllocator {
    /// The number each key hands out next.
    next: HashMap<SequenceKey, SequenceNumber>,
}

/// Hands out CINs (TS 102 232-1 clause 5.2.4) from a per-process counter that increases by
/// one and wraps from 4294967295 to 0.
///
/// Values still in use are *not* skipped after a wrap: at one new session per microsecond
/// the counter takes over an hour to wrap, far longer than the sessions it numbers are
/// expected to overlap. It is shared by reference (`allocate` takes `&self`).
#[derive(Debug, Default)]
pub struct CinAllocator {
    next: AtomicU32,
}

impl SequenceNumber {
    /// The sequence number with this value.
    pub const fn new(value: u32) -> Self {
        Self(value)
    }

    /// The numeric value.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// The number after this one, wrapping from 4294967295 to 0.
    pub const fn successor(self) -> Self {
        Self(self.0.wrapping_add(1))
    }
}

impl From<SequenceNumber> for u32 {
    fn from(seq: SequenceNumber) -> Self {
        seq.0
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl SequenceAllocator {
    /// An allocator with no keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next sequence number for `key`: 0 for a key not seen before, else one more than
    /// the last (wrapping from 4294967295 to 0).
    pub fn next(&mut self, key: SequenceKey) -> SequenceNumber {
        let slot = self.next.entry(key).or_default();
        let current = *slot;
        *slot = current.successor();
        current
    }

    /// The number [`next`](Self::next) would hand out for `key`, without taking it.
    pub fn peek(&self, key: &SequenceKey) -> SequenceNumber {
        self.next.get(key).copied().unwrap_or_default()
    }

    /// Sets the number `key` hands out next, e.g. from saved state.
    pub fn restore(&mut self, key: SequenceKey, next_value: SequenceNumber) {
        self.next.insert(key, next_value);
    }

    /// Forgets `key` (its CIN has ended) and returns the number it would have handed out
    /// next. A later [`next`](Self::next) for the same key starts again at 0.
    pub fn release(&mut self, key: &SequenceKey) -> Option<SequenceNumber> {
        self.next.remove(key)
    }

    /// Forgets every key of `liid` (its task has ended) and returns how many there were.
    pub fn release_liid(&mut self, liid: &Liid) -> usize {
        let before = self.next.len();
        self.next.retain(|key, _| key.liid != *liid);
        before - self.next.len()
    }

    /// Every key with the number it hands out next, in no particular order: the state to
    /// persist.
    pub fn entries(&self) -> impl Iterator<Item = (SequenceKey, SequenceNumber)> + '_ {
        self.next.iter().map(|(key, next)| (*key, *next))
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.next.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.next.is_empty()
    }
}

impl CinAllocator {
    /// An allocator whose first CIN is 0.
    pub const fn new() -> Self {
        Self::starting_at(Cin::new(0))
    }

    /// An allocator whose first CIN is `first`, e.g. a value restored after a restart.
    pub const fn starting_at(first: Cin) -> Self {
        Self {
            next: AtomicU32::new(first.value()),
        }
    }

    /// A fresh CIN: one more than the previous (wrapping from 4294967295 to 0).
    pub fn allocate(&self) -> Cin {
        // `fetch_add` wraps on overflow. Only uniqueness matters, not ordering with other
        // memory, so relaxed ordering is enough.
        Cin::new(self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The CIN [`allocate`](Self::allocate) would hand out next.
    pub fn peek(&self) -> Cin {
        Cin::new(self.next.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;

    fn key(destination: u8, liid: &str, cin: u32) -> SequenceKey {
        SequenceKey {
            destination: DestinationId::from_bytes([destination; 16]),
            liid: liid.parse().unwrap(),
            cin: Cin::new(cin),
        }
    }

    #[test]
    fn starts_at_zero_and_counts_up() {
        let mut seq = SequenceAllocator::new();
        let k = key(1, "L", 1);
        assert_eq!(seq.peek(&k), SequenceNumber::new(0));
        assert!(seq.is_empty());
        let got: Vec<u32> = (0..5).map(|_| seq.next(k).value()).collect();
        assert_eq!(got, [0, 1, 2, 3, 4]);
        assert_eq!(seq.peek(&k), SequenceNumber::new(5));
        assert_eq!(seq.len(), 1);
    }

    #[test]
    fn wraps_at_u32_max() {
        let mut seq = SequenceAllocator::new();
        let k = key(1, "L", 1);
        seq.restore(k, SequenceNumber::new(u32::MAX - 1));
        assert_eq!(seq.next(k).value(), u32::MAX - 1);
        assert_eq!(seq.next(k).value(), u32::MAX);
        assert_eq!(seq.next(k).value(), 0);
        assert_eq!(seq.next(k).value(), 1);
        assert_eq!(
            SequenceNumber::new(u32::MAX).successor(),
            SequenceNumber::new(0)
        );
    }

    #[test]
    fn keys_are_independent() {
        let mut seq = SequenceAllocator::new();
        let keys = [
            key(1, "A", 1),
            key(2, "A", 1),
            key(1, "B", 1),
            key(1, "A", 2),
        ];
        for (i, k) in keys.iter().enumerate() {
            for _ in 0..=i {
                seq.next(*k);
            }
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(seq.peek(k).value(), u32::try_from(i).unwrap() + 1, "{k:?}");
        }
    }

    #[test]
    fn release_forgets_a_key() {
        let mut seq = SequenceAllocator::new();
        let (a, b) = (key(1, "A", 1), key(1, "A", 2));
        seq.next(a);
        seq.next(a);
        seq.next(b);
        assert_eq!(seq.release(&a), Some(SequenceNumber::new(2)));
        assert_eq!(seq.release(&a), None);
        assert_eq!(seq.next(a), SequenceNumber::new(0));
        assert_eq!(seq.next(b), SequenceNumber::new(1));

        seq.next(key(2, "B", 1));
        assert_eq!(seq.release_liid(&"A".parse().unwrap()), 2);
        assert_eq!(seq.len(), 1);
        assert_eq!(seq.peek(&b), SequenceNumber::new(0));
    }

    #[test]
    fn entries_restore_round_trip() {
        let mut seq = SequenceAllocator::new();
        for cin in 0..10 {
            for _ in 0..=cin {
                seq.next(key(1, "A", cin));
            }
        }
        let mut restored = SequenceAllocator::new();
        for (k, next) in seq.entries() {
            restored.restore(k, next);
        }
        assert_eq!(restored, seq);
        assert_eq!(restored.entries().count(), 10);
        assert_eq!(restored.next(key(1, "A", 9)), SequenceNumber::new(10));
    }

    #[test]
    fn cin_allocator_counts_and_wraps() {
        let cins = CinAllocator::new();
        assert_eq!(cins.allocate(), Cin::new(0));
        assert_eq!(cins.allocate(), Cin::new(1));
        assert_eq!(cins.peek(), Cin::new(2));
        let wrapping = CinAllocator::starting_at(Cin::new(u32::MAX));
        assert_eq!(wrapping.allocate(), Cin::new(u32::MAX));
        assert_eq!(wrapping.allocate(), Cin::new(0));
    }

    #[test]
    fn cin_allocator_is_unique_across_threads() {
        let cins = CinAllocator::new();
        let all: Vec<Cin> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| s.spawn(|| (0..1000).map(|_| cins.allocate()).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let unique: HashSet<Cin> = all.iter().copied().collect();
        assert_eq!(unique.len(), 2000);
        assert_eq!(cins.peek(), Cin::new(2000));
    }

    proptest! {
        #[test]
        fn no_gaps_no_repeats_per_key(
            start in any::<u32>(),
            ops in proptest::collection::vec(0usize..3, 1..200),
        ) {
            let keys = [key(1, "A", 1), key(1, "A", 2), key(2, "A", 1)];
            let mut seq = SequenceAllocator::new();
            for k in keys {
                seq.restore(k, SequenceNumber::new(start));
            }
            let mut expected = [start; 3];
            for i in ops {
                let got = seq.next(keys[i]);
                prop_assert_eq!(got.value(), expected[i]);
                expected[i] = expected[i].wrapping_add(1);
            }
            for (k, e) in keys.iter().zip(expected) {
                prop_assert_eq!(seq.peek(k).value(), e);
            }
        }
    }
}
