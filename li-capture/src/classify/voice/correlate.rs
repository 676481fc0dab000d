//! CINs remembered for SIP messages outside calls: per task, those of a registration (by
//! Call-ID) and those of a call that ended (by its handle, for its late messages).
//!
//! A [`CinMemory`] maps a key to the CINs its tasks got under it and one deadline, moved by
//! the messages that keep coming; an entry past its deadline is gone. At most `max`
//! entries: a new one when full evicts the entry closest to its deadline (counted). Time
//! is the packets' own. Deadlines sit in a heap with lazy entries, like the call tracker's
//! timers: one push per entry, one more when its deadline moves earlier (never for a later
//! one: the stale item is pushed again at the entry's deadline when it comes out).

use std::borrow::Borrow;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;

use li_core::{Cin, Timestamp, Xid};

/// CINs per (key, task) with an idle deadline; see the [module docs](self).
#[derive(Debug)]
pub(super) struct CinMemory<K> {
    entries: HashMap<K, Remembered>,
    /// (deadline, key), earliest first. An item is the entry's own only while it equals
    /// the entry's `queued`; any other is stale and skipped.
    timers: BinaryHeap<Reverse<(Timestamp, K)>>,
    max: usize,
    /// Entries evicted to make room.
    pub(super) evicted: u64,
}

#[derive(Debug)]
struct Remembered {
    /// The tasks' CINs (a few: the tasks whose targets the messages named).
    cins: Vec<(Xid, Cin)>,
    /// Alive up to and including this time.
    deadline: Timestamp,
    /// The deadline of the entry's item in the heap.
    queued: Timestamp,
}

impl<K: Hash + Eq + Ord + Clone> CinMemory<K> {
    /// A memory of at most `max` entries (0: it remembers nothing).
    pub(super) fn new(max: usize) -> Self {
        Self {
            entries: HashMap::new(),
            timers: BinaryHeap::new(),
            max,
            evicted: 0,
        }
    }

    /// Entries held now (some may be past their deadline until [`CinMemory::expire`]).
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The CIN of task `xid` under `key`, if remembered and alive at `now`.
    pub(super) fn cin<Q>(&self, key: &Q, xid: Xid, now: Timestamp) -> Option<Cin>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let e = self.entries.get(key).filter(|e| e.deadline >= now)?;
        e.cins.iter().find(|(x, _)| *x == xid).map(|(_, cin)| *cin)
    }

    /// Remembers `cin` for task `xid` under `key` (made by `to_key` when the entry is new:
    /// the only allocation). A new entry's deadline is `now` until
    /// [`CinMemory::set_deadline`]; an entry past its deadline starts afresh.
    pub(super) fn remember<Q>(
        &mut self,
        key: &Q,
        to_key: impl FnOnce(&Q) -> K,
        xid: Xid,
        cin: Cin,
        now: Timestamp,
    ) where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.max == 0 {
            return;
        }
        if let Some(e) = self.entries.get_mut(key) {
            if e.deadline < now {
                e.cins.clear();
                e.deadline = now;
            }
            match e.cins.iter_mut().find(|(x, _)| *x == xid) {
                Some(slot) => slot.1 = cin,
                None => e.cins.push((xid, cin)),
            }
            return;
        }
        self.make_room(now);
        let key = to_key(key);
        self.timers.push(Reverse((now, key.clone())));
        self.entries.insert(
            key,
            Remembered {
                cins: vec![(xid, cin)],
                deadline: now,
                queued: now,
            },
        );
    }

    /// Remembers the CINs of several tasks under a new `key` (an ended call's), alive until
    /// `deadline`.
    pub(super) fn remember_all(
        &mut self,
        key: K,
        cins: impl Iterator<Item = (Xid, Cin)>,
        now: Timestamp,
        deadline: Timestamp,
    ) {
        if self.max == 0 {
            return;
        }
        let cins: Vec<(Xid, Cin)> = cins.collect();
        if cins.is_empty() {
            return;
        }
        if !self.entries.contains_key(&key) {
            self.make_room(now);
        }
        self.timers.push(Reverse((deadline, key.clone())));
        self.entries.insert(
            key,
            Remembered {
                cins,
                deadline,
                queued: deadline,
            },
        );
        self.bound_timers();
    }

    /// Sets the deadline of `key`'s entry to `f` of its current one (nothing if there is
    /// no entry).
    pub(super) fn set_deadline<Q>(&mut self, key: &Q, f: impl FnOnce(Timestamp) -> Timestamp)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let Some((k, e)) = self.entries.get_key_value(key) else {
            return;
        };
        let (k, deadline) = (k.clone(), f(e.deadline));
        let Some(e) = self.entries.get_mut(key) else {
            return;
        };
        e.deadline = deadline;
        if deadline < e.queued {
            e.queued = deadline;
            self.timers.push(Reverse((deadline, k)));
            self.bound_timers();
        }
    }

    /// Forgets task `xid` in every entry (deactivated).
    pub(super) fn forget_task(&mut self, xid: Xid) {
        for e in self.entries.values_mut() {
            e.cins.retain(|(x, _)| *x != xid);
        }
    }

    /// Drops the entries past their deadline at `now`.
    pub(super) fn expire(&mut self, now: Timestamp) {
        while let Some(Reverse((due, _))) = self.timers.peek() {
            if *due >= now {
                break;
            }
            let Some(Reverse((due, key))) = self.timers.pop() else {
                break;
            };
            match self.entries.get_mut(&key) {
                Some(e) if e.queued == due && e.deadline < now => {
                    self.entries.remove(&key);
                }
                Some(e) if e.queued == due => {
                    e.queued = e.deadline;
                    let deadline = e.deadline;
                    self.timers.push(Reverse((deadline, key)));
                }
                // Stale: the entry went, or has another item.
                _ => {}
            }
        }
    }

    /// Evicts the entry closest to its deadline while the memory is full.
    fn make_room(&mut self, now: Timestamp) {
        self.expire(now);
        while self.entries.len() >= self.max {
            let Some(Reverse((due, key))) = self.timers.pop() else {
                // Cannot happen (every entry has its item); do not loop.
                self.entries.clear();
                break;
            };
            match self.entries.get_mut(&key) {
                Some(e) if e.queued == due && e.deadline > due => {
                    e.queued = e.deadline;
                    let deadline = e.deadline;
                    self.timers.push(Reverse((deadline, key)));
                }
                Some(e) if e.queued == due => {
                    self.entries.remove(&key);
                    self.evicted += 1;
                }
                _ => {}
            }
        }
    }

    /// Rebuilds the heap from the entries when stale items outnumber them: deadlines that
    /// keep moving earlier leave one each.
    fn bound_timers(&mut self) {
        if self.timers.len() <= 2 * self.entries.len() + 64 {
            return;
        }
        self.timers = self
            .entries
            .iter_mut()
            .map(|(k, e)| {
                e.queued = e.deadline;
                Reverse((e.deadline, k.clone()))
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    fn t(s: u64) -> Timestamp {
        Timestamp::from_secs_micros(1_700_000_000 + s, 0).unwrap()
    }

    fn later(s: u64) -> impl FnOnce(Timestamp) -> Timestamp {
        move |_| t(s)
    }

    const A: Xid = Xid::from_bytes([1; 16]);
    const B: Xid = Xid::from_bytes([2; 16]);

    #[test]
    fn entries_live_until_their_deadline_and_moves_both_ways() {
        let mut m: CinMemory<Arc<str>> = CinMemory::new(4);
        m.remember("r1", |k: &str| Arc::from(k), A, Cin::new(7), t(0));
        m.remember("r1", |k: &str| Arc::from(k), B, Cin::new(8), t(0));
        m.set_deadline("r1", later(100));
        assert_eq!(m.cin("r1", A, t(100)), Some(Cin::new(7)));
        assert_eq!(m.cin("r1", B, t(50)), Some(Cin::new(8)));
        assert_eq!(m.cin("r2", A, t(50)), None);
        // Later, then earlier: the entry's own deadline rules, not the heap's items.
        m.set_deadline("r1", later(500));
        m.expire(t(200));
        assert_eq!(m.cin("r1", A, t(200)), Some(Cin::new(7)));
        m.set_deadline("r1", later(250));
        m.expire(t(251));
        assert_eq!((m.len(), m.cin("r1", A, t(251))), (0, None));
        // Past its deadline but not yet expired: not given, and starts afresh.
        m.remember("r3", |k: &str| Arc::from(k), A, Cin::new(9), t(300));
        assert_eq!(m.cin("r3", A, t(301)), None);
        m.remember("r3", |k: &str| Arc::from(k), B, Cin::new(10), t(302));
        m.set_deadline("r3", |d| d.checked_add(Duration::from_secs(1)).unwrap());
        assert_eq!(m.cin("r3", A, t(303)), None);
        assert_eq!(m.cin("r3", B, t(303)), Some(Cin::new(10)));
    }

    #[test]
    fn a_full_memory_evicts_the_entry_closest_to_its_deadline() {
        let mut m: CinMemory<u64> = CinMemory::new(2);
        m.remember_all(1, [(A, Cin::new(1))].into_iter(), t(0), t(300));
        m.remember_all(2, [(A, Cin::new(2))].into_iter(), t(0), t(100));
        m.remember_all(3, [(A, Cin::new(3))].into_iter(), t(1), t(200));
        assert_eq!((m.len(), m.evicted), (2, 1));
        assert_eq!(m.cin(&2, A, t(1)), None);
        assert_eq!(m.cin(&1, A, t(1)), Some(Cin::new(1)));
        assert_eq!(m.cin(&3, A, t(1)), Some(Cin::new(3)));
        // A deadline moved later since it was queued: the other one goes.
        m.set_deadline(&3, later(400));
        m.remember(&4, |k| *k, B, Cin::new(4), t(2));
        m.set_deadline(&4, later(50));
        assert_eq!((m.len(), m.evicted), (2, 2));
        assert_eq!(m.cin(&1, A, t(2)), None);
        assert_eq!(m.cin(&3, A, t(2)), Some(Cin::new(3)));
        assert_eq!(m.cin(&4, B, t(2)), Some(Cin::new(4)));
        // Nothing remembered with a bound of 0.
        let mut none: CinMemory<u64> = CinMemory::new(0);
        none.remember(&1, |k| *k, A, Cin::new(1), t(0));
        none.remember_all(2, [(A, Cin::new(2))].into_iter(), t(0), t(9));
        assert_eq!((none.len(), none.cin(&1, A, t(0))), (0, None));
    }
}
