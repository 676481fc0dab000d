//! The durable spool: every record for a destination is on disk before it counts as
//! accepted, and leaves only when the destination has it.
//!
//! Layout: a directory per destination holding append-only segment files
//! (`<first-id>.seg`, 20 decimal digits) and an `acked` file. A record is
//! `[length u32][crc32 u32][id u64][payload]` (big-endian; the CRC covers id and payload), so a
//! torn write at the tail — a crash mid-append — is detected on open and cut off; a corrupt
//! record in the middle of a segment ends that segment's replay and is reported. Record ids are
//! consecutive from 1 and never reused.
//!
//! Acknowledgement is in order: [`Spool::ack`] moves the acknowledged point forward, persists it
//! (write to a temporary file, fsync, rename) and deletes the segments entirely behind it. After
//! a crash, what was acknowledged but not yet persisted is delivered again: at most the records
//! acknowledged since the last persisted ack, which the caller bounds by acking after each
//! confirmation (see [`SpoolConfig::ack_persist_every`]). The receiver recognises repeats by
//! their sequence numbers.
//!
//! Disk use is bounded by [`SpoolConfig::max_bytes`]: an append that would pass it fails with
//! [`SpoolError::Full`], which the caller must report as an alarm, never drop silently.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

const HEADER: usize = 16;
const ACKED_FILE: &str = "acked";

/// When appended records are flushed to stable storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// fsync after every append: nothing accepted is ever lost, at the cost of one disk flush
    /// per record.
    Always,
    /// fsync after this many appends, and on [`Spool::sync`]: a crash of the machine (not of
    /// the process) may lose up to that many accepted records.
    Batch(u32),
    /// Never fsync (the operating system writes back): survives a process crash (kill -9),
    /// not a power loss.
    Never,
}

/// Spool settings.
#[derive(Clone, Debug)]
pub struct SpoolConfig {
    /// The spool's directory (created if missing).
    pub dir: PathBuf,
    /// A segment is closed and a new one started past this size.
    pub segment_bytes: u64,
    /// Bound on the spool's disk use (all segments).
    pub max_bytes: u64,
    /// Flush policy for appends.
    pub fsync: FsyncPolicy,
    /// Persist the acknowledged point after this many acknowledged records (1: every ack).
    pub ack_persist_every: u64,
    /// The most recent records, up to this many octets, are also kept in memory so that a
    /// link keeping up with its producers never reads them back from disk (0: always read
    /// from disk). Memory only: durability is unchanged.
    pub memory_tail_bytes: usize,
}

impl SpoolConfig {
    /// Defaults: 64 MiB segments, 1 GiB bound, fsync in batches of 64, ack persisted every
    /// 256 records, the last 16 MiB of records kept in memory.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            segment_bytes: 64 << 20,
            max_bytes: 1 << 30,
            fsync: FsyncPolicy::Batch(64),
            ack_persist_every: 256,
            memory_tail_bytes: 16 << 20,
        }
    }
}

/// Spool failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpoolError {
    /// A file operation failed.
    #[error("spool I/O on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The spool reached its disk bound; the record was not accepted.
    #[error("spool full: {used} of {limit} bytes used, a record of {len} bytes refused")]
    Full {
        /// Bytes in use.
        used: u64,
        /// The bound.
        limit: u64,
        /// The refused record's size on disk.
        len: u64,
    },
    /// A record is larger than a segment may be.
    #[error("record of {len} bytes exceeds the segment size {limit}")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The segment size.
        limit: u64,
    },
    /// An earlier append failed part-way; the spool accepts nothing more until it is
    /// reopened (which cuts the partial write off), so that no record is written after
    /// bytes a later recovery would have to discard.
    #[error("spool {dir} stopped accepting after a failed write ({reason}); reopen it")]
    Stopped {
        /// The spool's directory.
        dir: PathBuf,
        /// The failure.
        reason: String,
    },
}

type Result<T, E = SpoolError> = std::result::Result<T, E>;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What [`Spool::open`] found on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// Records waiting for delivery.
    pub pending: u64,
    /// Octets cut from the tail of the last segment (a torn append).
    pub truncated_bytes: u64,
    /// Segments whose replay stopped at a corrupt record before their end (data loss to
    /// report: the records after it in that segment are skipped).
    pub corrupt_segments: Vec<PathBuf>,
}

struct Segment {
    /// The id after the segment's last record.
    end_id: u64,
    path: PathBuf,
    bytes: u64,
}

/// A durable spool for one destination. See the [module documentation](self).
pub struct Spool {
    config: SpoolConfig,
    segments: Vec<Segment>,
    writer: Option<File>,
    next_id: u64,
    acked: u64,
    persisted_ack: u64,
    unsynced: u32,
    bytes: u64,
    /// The latest records, consecutive ids, in memory (see [`SpoolConfig::memory_tail_bytes`]).
    tail: VecDeque<(u64, Bytes)>,
    tail_bytes: usize,
    /// Set when an append failed part-way (see [`SpoolError::Stopped`]).
    stopped: Option<String>,
    /// Where the last disk read stopped, so a sequential reader does not re-scan a segment
    /// from its start on every call.
    cursor: std::sync::Mutex<Option<ReadCursor>>,
}

/// The next record id of a disk read and its position.
#[derive(Clone)]
struct ReadCursor {
    id: u64,
    path: PathBuf,
    offset: u64,
}

impl Spool {
    /// Opens (or creates) the spool in `config.dir`, replaying its segments.
    pub fn open(config: SpoolConfig) -> Result<(Self, Recovery)> {
        fs::create_dir_all(&config.dir).map_err(io_err(&config.dir))?;
        let acked = read_acked(&config.dir)?;
        let mut names: Vec<(u64, PathBuf)> = fs::read_dir(&config.dir)
            .map_err(io_err(&config.dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter_map(|p| {
                let id = p
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".seg")?
                    .parse::<u64>()
                    .ok()?;
                Some((id, p))
            })
            .collect();
        names.sort();
        let mut recovery = Recovery::default();
        let mut segments = Vec::new();
        let mut next_id = acked + 1;
        let last = names.len().saturating_sub(1);
        for (i, (first_id, path)) in names.into_iter().enumerate() {
            let (end_id, good_len, file_len) = scan_segment(&path, first_id)?;
            if good_len < file_len {
                if i == last {
                    // A torn append at the tail: cut it off.
                    let f = OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .map_err(io_err(&path))?;
                    f.set_len(good_len).map_err(io_err(&path))?;
                    f.sync_all().map_err(io_err(&path))?;
                    recovery.truncated_bytes += file_len - good_len;
                } else {
                    recovery.corrupt_segments.push(path.clone());
                }
            }
            next_id = next_id.max(end_id);
            if end_id <= acked + 1 && end_id > first_id && i != last {
                // Entirely acknowledged: remove.
                fs::remove_file(&path).map_err(io_err(&path))?;
                continue;
            }
            segments.push(Segment {
                end_id,
                path,
                bytes: good_len,
            });
        }
        let bytes = segments.iter().map(|s| s.bytes).sum();
        let spool = Self {
            config,
            segments,
            writer: None,
            next_id,
            acked,
            persisted_ack: acked,
            unsynced: 0,
            bytes,
            tail: VecDeque::new(),
            tail_bytes: 0,
            cursor: std::sync::Mutex::new(None),
            stopped: None,
        };
        recovery.pending = spool.pending();
        Ok((spool, recovery))
    }

    /// Appends a record; once this returns, the record survives a process crash (and, with
    /// [`FsyncPolicy::Always`], a machine crash). Returns its id.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64> {
        self.append_batch(&[payload]).map(|ids| ids.start)
    }

    /// Appends records together (group commit): one `write` per segment touched and, under
    /// [`FsyncPolicy::Batch`] or [`FsyncPolicy::Always`], one fsync for the whole batch. All
    /// are accepted or, if the disk bound would be passed, none ([`SpoolError::Full`]).
    /// Returns their ids.
    pub fn append_batch(&mut self, payloads: &[&[u8]]) -> Result<std::ops::Range<u64>> {
        if let Some(reason) = &self.stopped {
            return Err(SpoolError::Stopped {
                dir: self.config.dir.clone(),
                reason: reason.clone(),
            });
        }
        let next_before = self.next_id;
        let result = self.append_batch_inner(payloads);
        if let Err(e @ SpoolError::Io { .. }) = &result {
            // Part of the batch may be on disk: accept nothing more (ids and bytes after a
            // partial record would be lost to the next recovery's cut).
            self.stopped = Some(e.to_string());
            self.next_id = next_before;
            self.tail.retain(|(id, _)| *id < next_before);
            self.tail_bytes = self.tail.iter().map(|(_, p)| p.len()).sum();
        }
        result
    }

    fn append_batch_inner(&mut self, payloads: &[&[u8]]) -> Result<std::ops::Range<u64>> {
        let mut total = 0u64;
        for p in payloads {
            let len = (HEADER + p.len()) as u64;
            if len > self.config.segment_bytes {
                return Err(SpoolError::TooLarge {
                    len: p.len(),
                    limit: self.config.segment_bytes,
                });
            }
            total += len;
        }
        if self.bytes + total > self.config.max_bytes {
            return Err(SpoolError::Full {
                used: self.bytes,
                limit: self.config.max_bytes,
                len: total,
            });
        }
        let first = self.next_id;
        let mut buf = Vec::with_capacity(total as usize);
        for payload in payloads {
            let len = (HEADER + payload.len()) as u64;
            let room = self
                .segments
                .last()
                .is_some_and(|s| s.bytes + buf.len() as u64 + len <= self.config.segment_bytes);
            if !room || self.writer.is_none() {
                self.write_out(&mut buf)?;
                self.roll()?;
            }
            encode_record(&mut buf, self.next_id, payload);
            self.next_id += 1;
        }
        self.write_out(&mut buf)?;
        self.remember(first, payloads);
        self.unsynced = self.unsynced.saturating_add(payloads.len() as u32);
        match self.config.fsync {
            FsyncPolicy::Always => self.sync()?,
            FsyncPolicy::Batch(n) if self.unsynced >= n => self.sync()?,
            _ => {}
        }
        Ok(first..self.next_id)
    }

    /// Keeps the records just written (ids from `first`) in the memory tail, dropping the
    /// oldest past the bound.
    fn remember(&mut self, first: u64, payloads: &[&[u8]]) {
        let cap = self.config.memory_tail_bytes;
        if cap == 0 {
            return;
        }
        if self.tail.back().is_some_and(|(id, _)| id + 1 != first) {
            // Not consecutive (cannot happen while appends succeed): start over.
            self.tail.clear();
            self.tail_bytes = 0;
        }
        // One allocation for the batch; each record is a slice of it.
        let total: usize = payloads.iter().map(|p| p.len()).sum();
        let mut all = Vec::with_capacity(total);
        for payload in payloads {
            all.extend_from_slice(payload);
        }
        let all = Bytes::from(all);
        let mut at = 0;
        for (id, payload) in (first..).zip(payloads) {
            self.tail.push_back((id, all.slice(at..at + payload.len())));
            at += payload.len();
            self.tail_bytes += payload.len();
        }
        while self.tail_bytes > cap {
            let Some((_, p)) = self.tail.pop_front() else {
                break;
            };
            self.tail_bytes -= p.len();
        }
    }

    /// Writes the encoded records in `buf` to the current segment.
    fn write_out(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let (Some(seg), Some(w)) = (self.segments.last_mut(), self.writer.as_mut()) else {
            return Err(SpoolError::Io {
                path: self.config.dir.clone(),
                source: io::Error::other("no open segment"),
            });
        };
        w.write_all(buf).map_err(io_err(&seg.path))?;
        seg.bytes += buf.len() as u64;
        seg.end_id = self.next_id;
        self.bytes += buf.len() as u64;
        buf.clear();
        Ok(())
    }

    /// Flushes appended records to stable storage.
    pub fn sync(&mut self) -> Result<()> {
        if let (Some(w), Some(seg)) = (self.writer.as_ref(), self.segments.last()) {
            w.sync_data().map_err(io_err(&seg.path))?;
        }
        self.unsynced = 0;
        Ok(())
    }

    /// The destination has every record up to and including `id`: they leave the spool.
    pub fn ack(&mut self, id: u64) -> Result<()> {
        let id = id.min(self.next_id.saturating_sub(1));
        if id <= self.acked {
            return Ok(());
        }
        self.acked = id;
        while self.tail.front().is_some_and(|(t, _)| *t <= id) {
            if let Some((_, p)) = self.tail.pop_front() {
                self.tail_bytes -= p.len();
            }
        }
        if self.acked - self.persisted_ack >= self.config.ack_persist_every {
            self.persist_ack()?;
        }
        Ok(())
    }

    /// Persists the acknowledged point now and removes fully acknowledged segments.
    pub fn persist_ack(&mut self) -> Result<()> {
        if self.acked == self.persisted_ack {
            return Ok(());
        }
        let dir = &self.config.dir;
        let tmp = dir.join("acked.tmp");
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(&self.acked.to_be_bytes())
            .map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        let path = dir.join(ACKED_FILE);
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        self.persisted_ack = self.acked;
        // Remove segments wholly behind the ack, but never the one being written.
        while self.segments.len() > 1
            && self
                .segments
                .first()
                .is_some_and(|s| s.end_id <= self.acked + 1)
        {
            let seg = self.segments.remove(0);
            fs::remove_file(&seg.path).map_err(io_err(&seg.path))?;
            self.bytes -= seg.bytes;
        }
        Ok(())
    }

    /// Records not yet acknowledged.
    pub fn pending(&self) -> u64 {
        self.next_id.saturating_sub(self.acked + 1)
    }

    /// Bytes on disk.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The disk bound ([`SpoolConfig::max_bytes`]).
    pub fn max_bytes(&self) -> u64 {
        self.config.max_bytes
    }

    /// The spool's directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.config.dir
    }

    /// The id the next record will get.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Up to `max` pending records with ids from `from` on, in order: from memory when the
    /// memory tail holds them (see [`Self::read_memory`]), else read from disk.
    pub fn read_from(&self, from: u64, max: usize) -> Result<Vec<(u64, Bytes)>> {
        if let Some(records) = self.read_memory(from, max) {
            return Ok(records);
        }
        let from = from.max(self.acked + 1);
        let mut cursor = self
            .cursor
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .filter(|c| c.id == from);
        let mut out = Vec::new();
        for seg in self.segments.iter().filter(|s| s.end_id > from) {
            let mut file = File::open(&seg.path).map_err(io_err(&seg.path))?;
            let mut read = 0u64;
            if let Some(c) = cursor.take().filter(|c| c.path == seg.path) {
                file.seek(SeekFrom::Start(c.offset))
                    .map_err(io_err(&seg.path))?;
                read = c.offset;
            }
            let mut r = BufReader::new(file);
            while read < seg.bytes && out.len() < max {
                let Some((id, payload)) = read_record(&mut r).map_err(io_err(&seg.path))? else {
                    break;
                };
                read += (HEADER + payload.len()) as u64;
                if id >= from {
                    out.push((id, Bytes::from(payload)));
                }
            }
            if out.len() >= max {
                if let (Some((last, _)), Ok(mut c)) = (out.last(), self.cursor.lock()) {
                    *c = Some(ReadCursor {
                        id: last + 1,
                        path: seg.path.clone(),
                        offset: read,
                    });
                }
                break;
            }
        }
        Ok(out)
    }

    /// Up to `max` pending records from `from` on, if the memory tail holds the first of
    /// them (no I/O); `None` if they must be read from disk. An empty vector when there is
    /// nothing from `from` on.
    pub fn read_memory(&self, from: u64, max: usize) -> Option<Vec<(u64, Bytes)>> {
        let from = from.max(self.acked + 1);
        if from >= self.next_id {
            return Some(Vec::new());
        }
        let first = self.tail.front()?.0;
        let skip = usize::try_from(from.checked_sub(first)?).ok()?;
        Some(self.tail.iter().skip(skip).take(max).cloned().collect())
    }

    fn roll(&mut self) -> Result<()> {
        if self.writer.is_some() {
            self.sync()?;
        }
        // Reopen the last segment if it has room (after open), else start a new one.
        let reuse = self
            .segments
            .last()
            .filter(|s| s.bytes < self.config.segment_bytes && self.writer.is_none())
            .map(|s| s.path.clone());
        let path = match reuse {
            Some(p) => p,
            None => {
                let p = self.config.dir.join(format!("{:020}.seg", self.next_id));
                self.segments.push(Segment {
                    end_id: self.next_id,
                    path: p.clone(),
                    bytes: 0,
                });
                p
            }
        };
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        self.writer = Some(f);
        Ok(())
    }
}

/// `[length][crc32 of id and payload][id][payload]`.
fn encode_record(buf: &mut Vec<u8>, id: u64, payload: &[u8]) {
    buf.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&id.to_be_bytes());
    crc.update(payload);
    buf.extend_from_slice(&crc.finalize().to_be_bytes());
    buf.extend_from_slice(&id.to_be_bytes());
    buf.extend_from_slice(payload);
}

fn read_acked(dir: &Path) -> Result<u64> {
    let path = dir.join(ACKED_FILE);
    match fs::read(&path) {
        Ok(b) => Ok(b
            .get(..8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_be_bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// One record, or `None` at a clean end, a torn tail or a corrupt record.
fn read_record(r: &mut impl Read) -> io::Result<Option<(u64, Vec<u8>)>> {
    let mut head = [0u8; HEADER];
    if read_full(r, &mut head)? < HEADER {
        return Ok(None);
    }
    let field = |i: usize| head.get(i..i + 4).and_then(|b| <[u8; 4]>::try_from(b).ok());
    let (Some(len), Some(crc)) = (field(0), field(4)) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(len) as usize;
    let id = head
        .get(8..16)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes);
    if len > 1 << 30 {
        return Ok(None);
    }
    let mut payload = vec![0u8; len];
    if read_full(r, &mut payload)? < len {
        return Ok(None);
    }
    let mut h = crc32fast::Hasher::new();
    h.update(&id.to_be_bytes());
    h.update(&payload);
    if h.finalize() != u32::from_be_bytes(crc) {
        return Ok(None);
    }
    Ok(Some((id, payload)))
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(buf.get_mut(n..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Replays a segment: (id after its last good record, length of the good prefix, file length).
fn scan_segment(path: &Path, first_id: u64) -> Result<(u64, u64, u64)> {
    let file = File::open(path).map_err(io_err(path))?;
    let file_len = file.metadata().map_err(io_err(path))?.len();
    let mut r = BufReader::new(file);
    let mut good = 0u64;
    let mut expect = first_id;
    while let Some((id, payload)) = read_record(&mut r).map_err(io_err(path))? {
        if id != expect {
            break;
        }
        good += (HEADER + payload.len()) as u64;
        expect += 1;
    }
    Ok((expect, good, file_len))
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, Seek, SeekFrom};
    use std::process::{Command, Stdio};

    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("li-spool-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn record(i: u64) -> Vec<u8> {
        format!("record {i:06} ")
            .repeat(1 + (i % 7) as usize)
            .into_bytes()
    }

    #[test]
    fn records_survive_reopen_and_leave_when_acked() {
        let d = dir("reopen");
        let mut cfg = SpoolConfig::new(&d);
        cfg.segment_bytes = 1024;
        cfg.ack_persist_every = 1;
        let (mut s, rec) = Spool::open(cfg.clone()).unwrap();
        assert_eq!(rec, Recovery::default());
        for i in 1..=200 {
            assert_eq!(s.append(&record(i)).unwrap(), i);
        }
        drop(s);
        let (mut s, rec) = Spool::open(cfg.clone()).unwrap();
        assert_eq!(rec.pending, 200);
        let all = s.read_from(1, usize::MAX).unwrap();
        assert_eq!(all.len(), 200);
        assert!(all.iter().all(|(id, p)| *p == record(*id)));
        let segments_before = fs::read_dir(&d).unwrap().count();
        s.ack(150).unwrap();
        assert_eq!(s.pending(), 50);
        assert!(
            fs::read_dir(&d).unwrap().count() < segments_before,
            "acked segments removed"
        );
        assert_eq!(s.append(&record(201)).unwrap(), 201, "ids are never reused");
        drop(s);
        let (s, rec) = Spool::open(cfg).unwrap();
        assert_eq!(rec.pending, 51);
        let rest: Vec<u64> = s
            .read_from(0, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(rest, (151..=201).collect::<Vec<_>>());
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn a_torn_tail_is_cut_and_reported() {
        let d = dir("torn");
        let cfg = SpoolConfig::new(&d);
        let (mut s, _) = Spool::open(cfg.clone()).unwrap();
        for i in 1..=10 {
            s.append(&record(i)).unwrap();
        }
        s.sync().unwrap();
        drop(s);
        // A crash in the middle of the 11th append: half a record at the end.
        let seg = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "seg"))
            .unwrap();
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&[0, 0, 0, 100, 1, 2, 3]).unwrap();
        drop(f);
        let (mut s, rec) = Spool::open(cfg.clone()).unwrap();
        assert_eq!((rec.pending, rec.truncated_bytes), (10, 7));
        assert_eq!(s.append(&record(11)).unwrap(), 11);
        drop(s);
        // A flipped byte inside the last record: it is cut, the ones before stay.
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&seg)
            .unwrap();
        let len = f.seek(SeekFrom::End(0)).unwrap();
        f.seek(SeekFrom::Start(len - 3)).unwrap();
        f.write_all(b"X").unwrap();
        drop(f);
        let (s, rec) = Spool::open(cfg).unwrap();
        assert_eq!(rec.pending, 10);
        assert!(rec.truncated_bytes > 0);
        assert_eq!(s.read_from(1, usize::MAX).unwrap().len(), 10);
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn the_disk_bound_refuses_and_says_so() {
        let d = dir("full");
        let mut cfg = SpoolConfig::new(&d);
        cfg.max_bytes = 1000;
        cfg.ack_persist_every = 1;
        cfg.segment_bytes = 400;
        let (mut s, _) = Spool::open(cfg).unwrap();
        let mut accepted = 0;
        let err = loop {
            match s.append(&[7u8; 84]) {
                Ok(_) => accepted += 1,
                Err(e) => break e,
            }
        };
        assert_eq!(accepted, 10);
        assert!(
            matches!(
                err,
                SpoolError::Full {
                    used: 1000,
                    limit: 1000,
                    len: 100
                }
            ),
            "{err}"
        );
        // Delivery frees room.
        s.ack(8).unwrap();
        s.append(&[7u8; 84]).unwrap();
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn a_batch_is_all_or_nothing_and_spans_segments() {
        let d = dir("batch");
        let mut cfg = SpoolConfig::new(&d);
        cfg.segment_bytes = 256;
        cfg.max_bytes = 2048;
        let (mut s, _) = Spool::open(cfg.clone()).unwrap();
        let recs: Vec<Vec<u8>> = (1..=12).map(record).collect();
        let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        assert_eq!(s.append_batch(&refs).unwrap(), 1..13);
        let used = s.bytes();
        let big = vec![0u8; 200];
        let too_much: Vec<&[u8]> = vec![&big; 10];
        assert!(matches!(
            s.append_batch(&too_much),
            Err(SpoolError::Full { .. })
        ));
        assert_eq!(
            (s.bytes(), s.next_id()),
            (used, 13),
            "nothing of a refused batch is kept"
        );
        drop(s);
        let (s, rec) = Spool::open(cfg).unwrap();
        assert_eq!(rec.pending, 12);
        let got = s.read_from(1, usize::MAX).unwrap();
        assert!(got.iter().all(|(id, p)| *p == record(*id)));
        assert!(
            fs::read_dir(&d).unwrap().count() > 3,
            "the batch spans several segments"
        );
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn the_memory_tail_serves_what_the_disk_holds() {
        let d = dir("tail");
        let mut cfg = SpoolConfig::new(&d);
        cfg.segment_bytes = 512;
        // Room for roughly the last 20 records only.
        cfg.memory_tail_bytes = 20 * 60;
        let (mut s, _) = Spool::open(cfg.clone()).unwrap();
        for i in 1..=100 {
            s.append(&record(i)).unwrap();
        }
        let first_in_memory = (1..=100).find(|&i| s.read_memory(i, 1).is_some()).unwrap();
        assert!(
            first_in_memory > 60,
            "the tail is bounded: {first_in_memory}"
        );
        assert!(s.read_memory(first_in_memory - 1, 1).is_none());
        let mut disk_cfg = cfg.clone();
        disk_cfg.memory_tail_bytes = 0;
        s.sync().unwrap();
        let (disk, _) = Spool::open(disk_cfg).unwrap();
        for from in [1, 37, first_in_memory - 1, first_in_memory, 99, 100, 101] {
            for max in [1, 5, 1000] {
                let got = s.read_from(from, max).unwrap();
                let want = disk.read_from(from, max).unwrap();
                assert_eq!(got, want, "from {from} max {max}");
                assert_eq!(got.len(), max.min(101usize.saturating_sub(from as usize)));
                assert!(got.iter().all(|(id, p)| *p == record(*id)));
            }
        }
        // A sequential reader in small chunks (the link) gets exactly the whole sequence.
        let whole = disk.read_from(1, usize::MAX).unwrap();
        let mut chunked = Vec::new();
        let mut next = 1;
        loop {
            let got = disk.read_from(next, 7).unwrap();
            let Some(&(last, _)) = got.last() else { break };
            next = last + 1;
            chunked.extend(got);
        }
        assert_eq!(chunked, whole);
        assert_eq!(whole.len(), 100);
        // Acknowledged records are gone from memory as from disk.
        s.ack(first_in_memory + 3).unwrap();
        let got = s.read_from(1, 2).unwrap();
        assert_eq!(got.first().map(|r| r.0), Some(first_in_memory + 4));
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn a_failed_write_stops_the_spool_until_it_is_reopened() {
        let d = dir("stopped");
        let mut cfg = SpoolConfig::new(&d);
        // One 40-octet record per segment: every append opens a new segment.
        cfg.segment_bytes = 64;
        let (mut s, _) = Spool::open(cfg.clone()).unwrap();
        assert_eq!(s.append(&[1; 40]).unwrap(), 1);
        // The next segment cannot be created (a directory has its name).
        fs::create_dir(d.join(format!("{:020}.seg", 2))).unwrap();
        assert!(matches!(s.append(&[2; 40]), Err(SpoolError::Io { .. })));
        assert!(matches!(
            s.append(&[3; 40]),
            Err(SpoolError::Stopped { .. })
        ));
        assert_eq!(
            (s.next_id(), s.pending()),
            (2, 1),
            "nothing of the failed write counts"
        );
        drop(s);
        fs::remove_dir(d.join(format!("{:020}.seg", 2))).unwrap();
        let (mut s, recovery) = Spool::open(cfg).unwrap();
        assert_eq!(recovery.pending, 1);
        assert_eq!(s.append(&[4; 40]).unwrap(), 2);
        let got = s.read_from(1, usize::MAX).unwrap();
        assert_eq!(
            got.iter().map(|(id, p)| (*id, p[0])).collect::<Vec<_>>(),
            [(1, 1), (2, 4)]
        );
        let _ = fs::remove_dir_all(d);
    }

    /// The child half of `survives_kill_9`: appends records and reports each accepted id.
    #[test]
    #[ignore = "run by survives_kill_9 as a separate process"]
    fn kill_9_child() {
        let Some(d) = std::env::var_os("LI_SPOOL_KILL_DIR") else {
            return;
        };
        let mut cfg = SpoolConfig::new(PathBuf::from(d));
        cfg.fsync = FsyncPolicy::Never; // a process crash, not a power cut: the page cache holds
        cfg.segment_bytes = 64 * 1024;
        let (mut s, _) = Spool::open(cfg).unwrap();
        let mut out = io::stdout().lock();
        for i in 1.. {
            let id = s.append(&record(i)).unwrap();
            writeln!(out, "{id}").unwrap();
            out.flush().unwrap();
        }
    }

    #[test]
    fn survives_kill_9() {
        let d = dir("kill9");
        fs::create_dir_all(&d).unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "spool::tests::kill_9_child",
                "--nocapture",
            ])
            .env("LI_SPOOL_KILL_DIR", &d)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut last = 0u64;
        for line in io::BufReader::new(stdout).lines() {
            let Ok(id) = line.unwrap().trim().parse::<u64>() else {
                continue;
            };
            last = id;
            if id >= 5000 {
                break;
            }
        }
        // SIGKILL: no destructor, no flush, no chance to tidy up.
        child.kill().unwrap();
        let _ = child.wait();
        assert!(last >= 5000, "the child did not run ({last})");
        let (s, rec) = Spool::open(SpoolConfig::new(&d)).unwrap();
        assert!(rec.corrupt_segments.is_empty());
        let got = s.read_from(1, usize::MAX).unwrap();
        assert!(
            got.len() as u64 >= last,
            "accepted {last}, recovered {}",
            got.len()
        );
        for (i, (id, payload)) in got.iter().enumerate() {
            assert_eq!(*id, i as u64 + 1);
            assert_eq!(*payload, record(*id));
        }
        let _ = fs::remove_dir_all(d);
    }
}
