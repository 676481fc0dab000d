//! Sequence numbers that survive restarts (TS 102 232-1 clause 5.2.5): assigned once per
//! (LIID, CIN) of a destination, never reused, no gaps — across reconnects and process
//! crashes.
//!
//! A [`NumberedSpool`] is a destination's [`Spool`] together with its
//! [`SequenceAllocator`]. A number is taken only when the PDU carrying it is in the spool, so
//! a refused append (disk bound) leaves no gap. The allocator's state is checkpointed to a
//! `sequence` file (written to a temporary file, fsynced, renamed) before the spool deletes
//! any acknowledged segment; on open, the checkpoint is loaded and the spooled PDUs written
//! after it are replayed (their PSHeaders decoded) to bring every (LIID, CIN) to its exact
//! next number.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::PathBuf;

use li_asn1::PsPdu;
use li_core::{Cin, DestinationId, Liid, SequenceAllocator, SequenceKey, SequenceNumber};

use crate::spool::{Recovery, Spool, SpoolConfig, SpoolError};

const CHECKPOINT: &str = "sequence";

/// A destination's spool with restart-proof sequence numbering. See the
/// [module documentation](self).
pub struct NumberedSpool {
    spool: Spool,
    numbers: SequenceAllocator,
    destination: DestinationId,
    dir: PathBuf,
    ack_persist_every: u64,
    acked_since_persist: u64,
}

impl NumberedSpool {
    /// Opens the spool and restores the numbering of `destination`.
    pub fn open(
        mut config: SpoolConfig,
        destination: DestinationId,
    ) -> Result<(Self, Recovery), SpoolError> {
        let dir = config.dir.clone();
        // This type decides when acknowledged segments go, after checkpointing.
        let ack_persist_every = config.ack_persist_every.max(1);
        config.ack_persist_every = u64::MAX;
        let (spool, recovery) = Spool::open(config)?;
        let (mut numbers, covers) = read_checkpoint(&dir, destination)?;
        // Spool records are encoded PS-PDUs; one that does not decode carries no number.
        for (_, pdu) in spool.read_from(covers.saturating_add(1), usize::MAX)? {
            if let Ok(pdu) = PsPdu::decode(&pdu) {
                let key = SequenceKey {
                    destination,
                    liid: pdu.header.lawful_interception_identifier,
                    cin: Cin::new(
                        pdu.header
                            .communication_identifier
                            .communication_identity_number
                            .unwrap_or(0),
                    ),
                };
                let next = SequenceNumber::new(pdu.header.sequence_number).successor();
                if numbers.peek(&key).value() <= pdu.header.sequence_number {
                    numbers.restore(key, next);
                }
            }
        }
        Ok((
            Self {
                spool,
                numbers,
                destination,
                dir,
                ack_persist_every,
                acked_since_persist: 0,
            },
            recovery,
        ))
    }

    /// Spools the PDU `encode` builds with the next sequence number of (`liid`, `cin`).
    /// Returns the spool record id and the number used. The number is consumed only if
    /// the append succeeds.
    pub fn append_with(
        &mut self,
        liid: Liid,
        cin: Cin,
        encode: impl FnOnce(u32) -> Vec<u8>,
    ) -> Result<(u64, u32), SpoolError> {
        let key = SequenceKey {
            destination: self.destination,
            liid,
            cin,
        };
        let seq = self.numbers.peek(&key).value();
        let id = self.spool.append(&encode(seq))?;
        self.numbers.next(key);
        Ok((id, seq))
    }

    /// Spools several records together (group commit: one write, at most one fsync): record
    /// `i` belongs to (LIID, CIN) `keys[i]` and is the PS-PDU `encode(i, sequence_number,
    /// buf)` appends to `buf` (cleared first; a buffer the caller reuses, so that nothing is
    /// allocated per record). Records of one (LIID, CIN) get consecutive numbers in batch
    /// order. All or none: when the append fails, no number is consumed. Returns the spool
    /// ids of the records.
    pub fn append_batch_with(
        &mut self,
        keys: &[(Liid, Cin)],
        buf: &mut Vec<u8>,
        mut encode: impl FnMut(usize, u32, &mut Vec<u8>),
    ) -> Result<std::ops::Range<u64>, SpoolError> {
        buf.clear();
        let mut ends = Vec::with_capacity(keys.len());
        // The next number of each key the batch touches, applied only on success (a map: a
        // batch may carry thousands of communications).
        let mut next: HashMap<SequenceKey, SequenceNumber> = HashMap::new();
        for (i, (liid, cin)) in keys.iter().enumerate() {
            let key = SequenceKey {
                destination: self.destination,
                liid: *liid,
                cin: *cin,
            };
            let seq = next.entry(key).or_insert_with(|| self.numbers.peek(&key));
            encode(i, seq.value(), buf);
            *seq = seq.successor();
            ends.push(buf.len());
        }
        let mut payloads = Vec::with_capacity(ends.len());
        let mut start = 0;
        for end in ends {
            payloads.push(buf.get(start..end).unwrap_or(&[]));
            start = end;
        }
        let ids = self.spool.append_batch(&payloads)?;
        for (key, value) in next {
            self.numbers.restore(key, value);
        }
        Ok(ids)
    }

    /// The destination has every record up to `id`. Acknowledged segments are deleted,
    /// after a checkpoint, every `ack_persist_every` records.
    pub fn ack(&mut self, id: u64) -> Result<(), SpoolError> {
        let before = self.spool.pending();
        self.spool.ack(id)?;
        self.acked_since_persist += before - self.spool.pending();
        if self.acked_since_persist >= self.ack_persist_every {
            self.persist()?;
        }
        Ok(())
    }

    /// Checkpoints the numbering, then persists the acknowledged point (deleting segments).
    pub fn persist(&mut self) -> Result<(), SpoolError> {
        self.checkpoint()?;
        self.spool.persist_ack()?;
        self.acked_since_persist = 0;
        Ok(())
    }

    /// Writes the numbering state, covering every record spooled so far.
    pub fn checkpoint(&mut self) -> Result<(), SpoolError> {
        let covers = self.spool.next_id().saturating_sub(1);
        let mut body = Vec::new();
        body.extend_from_slice(&covers.to_be_bytes());
        let entries: Vec<_> = self
            .numbers
            .entries()
            .filter(|(k, _)| k.destination == self.destination)
            .collect();
        body.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for (key, next) in entries {
            let liid = key.liid.as_bytes();
            body.push(liid.len() as u8);
            body.extend_from_slice(liid);
            body.extend_from_slice(&key.cin.value().to_be_bytes());
            body.extend_from_slice(&next.value().to_be_bytes());
        }
        let crc = crc32fast::hash(&body);
        body.extend_from_slice(&crc.to_be_bytes());
        let tmp = self.dir.join("sequence.tmp");
        let path = self.dir.join(CHECKPOINT);
        let io = |p: &PathBuf| {
            let p = p.clone();
            move |source| SpoolError::Io { path: p, source }
        };
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&body).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(())
    }

    /// The spool (to read pending records for delivery).
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// The next number (LIID, CIN) will get.
    pub fn peek(&self, liid: Liid, cin: Cin) -> u32 {
        self.numbers
            .peek(&SequenceKey {
                destination: self.destination,
                liid,
                cin,
            })
            .value()
    }
}

/// The checkpointed allocator and the last spool id it covers (0: none).
fn read_checkpoint(
    dir: &std::path::Path,
    destination: DestinationId,
) -> Result<(SequenceAllocator, u64), SpoolError> {
    let path = dir.join(CHECKPOINT);
    let mut numbers = SequenceAllocator::new();
    let data = match fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((numbers, 0)),
        Err(source) => return Err(SpoolError::Io { path, source }),
    };
    let corrupt = |why: &str| SpoolError::Io {
        path: path.clone(),
        source: io::Error::new(io::ErrorKind::InvalidData, why.to_owned()),
    };
    let (body, crc) = data
        .split_last_chunk::<4>()
        .ok_or_else(|| corrupt("sequence checkpoint too short"))?;
    if crc32fast::hash(body) != u32::from_be_bytes(*crc) {
        return Err(corrupt("sequence checkpoint checksum mismatch"));
    }
    let mut r = body;
    let mut take = |n: usize| -> Result<&[u8], SpoolError> {
        let (head, rest) = r
            .split_at_checked(n)
            .ok_or_else(|| corrupt("sequence checkpoint truncated"))?;
        r = rest;
        Ok(head)
    };
    let be64 = |b: &[u8]| b.try_into().map(u64::from_be_bytes).unwrap_or(0);
    let be32 = |b: &[u8]| b.try_into().map(u32::from_be_bytes).unwrap_or(0);
    let covers = be64(take(8)?);
    let count = be32(take(4)?);
    for _ in 0..count {
        let len = usize::from(*take(1)?.first().unwrap_or(&0));
        let liid = Liid::new(take(len)?).map_err(|_| corrupt("bad LIID in sequence checkpoint"))?;
        let cin = Cin::new(be32(take(4)?));
        let next = SequenceNumber::new(be32(take(4)?));
        numbers.restore(
            SequenceKey {
                destination,
                liid,
                cin,
            },
            next,
        );
    }
    Ok((numbers, covers))
}

#[cfg(test)]
mod tests {
    use li_asn1::{HeaderSettings, PayloadDirection};
    use li_core::{OperatorId, Timestamp};

    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("li-numbering-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn pdu(liid: Liid, cin: Cin, seq: u32) -> Vec<u8> {
        HeaderSettings::new(liid, OperatorId::new(b"OP").unwrap())
            .ip_cc_pdu(
                cin,
                seq,
                Timestamp::UNIX_EPOCH,
                PayloadDirection::FromTarget,
                &[0x45; 20],
            )
            .encode()
    }

    /// Every spooled PDU's (LIID, CIN, sequence number), in spool order.
    fn numbers(s: &NumberedSpool) -> Vec<(Liid, u32, u32)> {
        s.spool()
            .read_from(1, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|(_, b)| {
                let p = PsPdu::decode(&b).unwrap();
                let cin = p
                    .header
                    .communication_identifier
                    .communication_identity_number
                    .unwrap();
                (
                    p.header.lawful_interception_identifier,
                    cin,
                    p.header.sequence_number,
                )
            })
            .collect()
    }

    #[test]
    fn numbering_continues_after_crashes_and_deleted_segments() {
        let d = dir("restart");
        let dest = DestinationId::from_bytes([9; 16]);
        let a = Liid::new(b"LIID-A").unwrap();
        let b = Liid::new(b"LIID-B").unwrap();
        let mut cfg = SpoolConfig::new(&d);
        cfg.segment_bytes = 512;
        cfg.ack_persist_every = 5;
        let mut expected_next = [0u32; 3];
        for round in 0..4u32 {
            // A crash: the previous NumberedSpool is simply dropped, never closed.
            let (mut s, _) = NumberedSpool::open(cfg.clone(), dest).unwrap();
            assert_eq!(s.peek(a, Cin::new(1)), expected_next[0], "round {round}");
            assert_eq!(s.peek(a, Cin::new(2)), expected_next[1]);
            assert_eq!(s.peek(b, Cin::new(1)), expected_next[2]);
            for i in 0..25 {
                if i == 15 {
                    // Deliver most of it: acknowledged segments get deleted (after a
                    // checkpoint); the ten records after this are only in the spool.
                    let last = s.spool().next_id() - 1;
                    s.ack(last - 3).unwrap();
                }
                let (liid, cin, slot) = match i % 3 {
                    0 => (a, Cin::new(1), 0),
                    1 => (a, Cin::new(2), 1),
                    _ => (b, Cin::new(1), 2),
                };
                let (_, seq) = s.append_with(liid, cin, |seq| pdu(liid, cin, seq)).unwrap();
                assert_eq!(seq, expected_next[slot]);
                expected_next[slot] += 1;
            }
        }
        let (s, _) = NumberedSpool::open(cfg, dest).unwrap();
        // What is left in the spool is contiguous per (LIID, CIN) and ends where numbering
        // goes on.
        let left = numbers(&s);
        assert!(!left.is_empty());
        for (liid, cin, seq) in left {
            let slot = if liid == a { (cin - 1) as usize } else { 2 };
            assert!(seq < expected_next[slot]);
        }
        assert_eq!(s.peek(a, Cin::new(1)), expected_next[0]);
        assert_eq!(s.peek(b, Cin::new(1)), expected_next[2]);
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn a_refused_append_consumes_no_number() {
        let d = dir("full");
        let dest = DestinationId::from_bytes([1; 16]);
        let liid = Liid::new(b"L").unwrap();
        let mut cfg = SpoolConfig::new(&d);
        cfg.max_bytes = 300;
        let (mut s, _) = NumberedSpool::open(cfg, dest).unwrap();
        let mut taken = Vec::new();
        loop {
            match s.append_with(liid, Cin::new(1), |seq| pdu(liid, Cin::new(1), seq)) {
                Ok((_, seq)) => taken.push(seq),
                Err(SpoolError::Full { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(
            s.peek(liid, Cin::new(1)),
            taken.len() as u32,
            "no gap after Full"
        );
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn a_batch_numbers_each_key_in_order_and_a_refused_batch_consumes_nothing() {
        let d = dir("batch");
        let dest = DestinationId::from_bytes([2; 16]);
        let a = Liid::new(b"LIID-A").unwrap();
        let b = Liid::new(b"LIID-B").unwrap();
        let mut cfg = SpoolConfig::new(&d);
        cfg.max_bytes = 4096;
        let (mut s, _) = NumberedSpool::open(cfg.clone(), dest).unwrap();
        s.append_with(a, Cin::new(1), |seq| pdu(a, Cin::new(1), seq))
            .unwrap();
        let keys = [
            (a, Cin::new(1)),
            (b, Cin::new(7)),
            (a, Cin::new(1)),
            (a, Cin::new(2)),
            (b, Cin::new(7)),
        ];
        let mut buf = Vec::new();
        let ids = s
            .append_batch_with(&keys, &mut buf, |i, seq, out| {
                let (liid, cin) = keys[i];
                out.extend_from_slice(&pdu(liid, cin, seq));
            })
            .unwrap();
        assert_eq!(ids, 2..7);
        assert_eq!(
            numbers(&s),
            [
                (a, 1, 0),
                (a, 1, 1),
                (b, 7, 0),
                (a, 1, 2),
                (a, 2, 0),
                (b, 7, 1)
            ]
        );
        // Too big for the bound: refused whole, and no number is consumed.
        let many: Vec<(Liid, Cin)> = (0..100).map(|_| (a, Cin::new(1))).collect();
        let refused = s.append_batch_with(&many, &mut buf, |_, seq, out| {
            out.extend_from_slice(&pdu(a, Cin::new(1), seq));
        });
        assert!(
            matches!(refused, Err(SpoolError::Full { .. })),
            "{refused:?}"
        );
        assert_eq!(s.peek(a, Cin::new(1)), 3);
        assert_eq!(s.peek(b, Cin::new(7)), 2);
        // A restart finds the same numbering in the spooled records.
        drop(s);
        let (s, _) = NumberedSpool::open(cfg, dest).unwrap();
        assert_eq!((s.peek(a, Cin::new(1)), s.peek(a, Cin::new(2))), (3, 1));
        let _ = fs::remove_dir_all(d);
    }
}
