//! G.711 audio of one RTP stream as a WAV file: [`Playout`] puts packets in place by their
//! RTP timestamps (sans-IO), [`WavFile`] writes the samples.
//!
//! # Playout
//!
//! The samples not yet written sit in a ring of [`Playout::window`] samples (one second by
//! default) that starts at the next sample the file will get. A packet is decoded into its
//! place in the ring; a packet that lands past the ring's end moves it on, writing what
//! falls out of it: samples that arrived, and silence (zero) for those that did not. So:
//!
//! - packets reordered by less than the window are put in place;
//! - a packet whose place is already filled is a duplicate and ignored, and a packet behind
//!   the ring (more than a window late, or a duplicate of something already written) is
//!   counted as late and ignored;
//! - timestamps are extended past the 32-bit wrap (each compared with the highest seen in
//!   serial-number arithmetic), so a stream crossing 2^32 plays on;
//! - a gap is filled with silence up to [`Playout::max_gap`] samples (ten seconds by
//!   default, so a call on hold does not turn into hours of silence, nor a forged timestamp
//!   into gigabytes); the rest of a longer gap is skipped and counted, and a timestamp more
//!   than `max_gap` *behind* restarts the timeline there (a sender that reset its clock).
//!
//! Nothing is allocated per packet: the ring and the output buffer are reused.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use li_core::media::g711::Law;

/// The G.711 sample rate (RFC 3551 clause 4.5.14).
pub(crate) const SAMPLE_RATE: u32 = 8000;

/// Where a packet went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placed {
    /// Into the ring.
    InPlace,
    /// Its place was already filled: ignored.
    Duplicate,
    /// Behind what was already written: ignored.
    Late,
}

/// Counters of a [`Playout`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PlayoutStats {
    /// Samples handed out (audio and silence).
    pub(crate) samples: u64,
    /// Of which silence written for samples that never arrived.
    pub(crate) silence: u64,
    /// Samples of gaps longer than `max_gap` that were skipped.
    pub(crate) skipped: u64,
    /// Packets ignored as duplicates.
    pub(crate) duplicates: u64,
    /// Packets ignored as late.
    pub(crate) late: u64,
    /// Times the timeline restarted (a timestamp far behind).
    pub(crate) restarts: u64,
    /// Samples not written because the stream's output reached its bound (see
    /// [`Playout::push`]).
    pub(crate) capped: u64,
}

/// The jitter ring of one stream (see the module documentation).
#[derive(Debug)]
pub(crate) struct Playout {
    ring: Vec<i16>,
    filled: Vec<bool>,
    /// Ring index of the next sample to write.
    head: usize,
    /// Extended timestamp of `head`.
    start: i64,
    /// Extended end of the latest filled sample.
    high: i64,
    /// The highest timestamp seen, and its extended value.
    last: Option<(u32, i64)>,
    /// A packet has been placed: `start` is set.
    started: bool,
    max_gap: u64,
    stats: PlayoutStats,
    /// Samples of the packets placed (audio received).
    received: u64,
    /// Samples handed out after the bound.
    written: u64,
    /// Every code decoded, mu-law then A-law (a lookup per sample on the writer's path).
    tables: Box<Tables>,
}

impl Playout {
    /// A ring of `window` samples (at least one) filling gaps of up to `max_gap` samples.
    pub(crate) fn new(window: usize, max_gap: u64) -> Self {
        let window = window.max(1);
        Self {
            ring: vec![0; window],
            filled: vec![false; window],
            head: 0,
            start: 0,
            high: 0,
            last: None,
            started: false,
            max_gap,
            received: 0,
            written: 0,
            stats: PlayoutStats::default(),
            tables: Box::new(Tables {
                ulaw: table(Law::Ulaw),
                alaw: table(Law::Alaw),
            }),
        }
    }

    pub(crate) fn stats(&self) -> PlayoutStats {
        self.stats
    }

    /// Places the G.711 `payload` of RTP timestamp `timestamp`, appending to `out` the
    /// samples that leave the ring. A payload longer than the window is cut to it.
    ///
    /// What a stream hands out is bounded by what it received: twice its audio, plus one
    /// longest gap and one window. A real call (holds included: each gap is at most
    /// `max_gap`) stays far below; forged timestamps (every packet a new gap or a restart)
    /// would otherwise turn a few kilobytes of RTP into megabytes of silence on disk. What
    /// is beyond is not written, and counted ([`PlayoutStats::capped`]).
    pub(crate) fn push(
        &mut self,
        timestamp: u32,
        law: Law,
        payload: &[u8],
        out: &mut Vec<i16>,
    ) -> Placed {
        let before = out.len();
        let placed = self.place(timestamp, law, payload, out);
        if placed == Placed::InPlace {
            let n = payload.len().min(self.ring.len());
            self.received = self.received.saturating_add(n as u64);
        }
        self.bound(before, out);
        placed
    }

    /// Keeps what `out` gained since `before` within the stream's bound.
    fn bound(&mut self, before: usize, out: &mut Vec<i16>) {
        let budget = self
            .received
            .saturating_mul(2)
            .saturating_add(self.max_gap)
            .saturating_add(self.ring.len() as u64);
        let room = budget.saturating_sub(self.written);
        let new = out.len().saturating_sub(before) as u64;
        if new > room {
            out.truncate(before.saturating_add(usize::try_from(room).unwrap_or(usize::MAX)));
            self.stats.capped += new - room;
        }
        self.written = self.written.saturating_add(new.min(room));
    }

    fn place(&mut self, timestamp: u32, law: Law, payload: &[u8], out: &mut Vec<i16>) -> Placed {
        let window = self.ring.len();
        let payload = payload.get(..window).unwrap_or(payload);
        let n = payload.len() as i64;
        let ext = self.extend(timestamp);
        if !self.started {
            // The first packet: the timeline starts here.
            self.started = true;
            self.start = ext;
            self.high = ext;
        }
        let mut rel = ext - self.start;
        if rel < 0 {
            if rel.unsigned_abs() <= self.max_gap {
                self.stats.late += 1;
                return Placed::Late;
            }
            self.drain(out);
            self.start = ext;
            self.high = ext;
            self.head = 0;
            self.stats.restarts += 1;
            rel = 0;
        }
        if rel + n > window as i64 {
            let gap = ext - self.high.max(self.start);
            if gap > 0 && gap.unsigned_abs() > self.max_gap {
                self.drain(out);
                let filled = self.max_gap;
                out.resize(out.len() + usize::try_from(filled).unwrap_or(usize::MAX), 0);
                self.stats.samples += filled;
                self.stats.silence += filled;
                self.stats.skipped += gap.unsigned_abs() - filled;
                self.start = ext;
                self.high = ext;
                self.head = 0;
                rel = 0;
            } else {
                let advance = rel + n - window as i64;
                self.advance(usize::try_from(advance).unwrap_or(window), out);
                rel -= advance;
            }
        }
        let rel = usize::try_from(rel).unwrap_or(0);
        if self
            .filled
            .get((self.head + rel) % window)
            .copied()
            .unwrap_or(false)
        {
            self.stats.duplicates += 1;
            return Placed::Duplicate;
        }
        // The packet's place: up to the ring's end, then from its start.
        let at = (self.head + rel) % window;
        let table = match law {
            Law::Ulaw => &self.tables.ulaw,
            Law::Alaw => &self.tables.alaw,
        };
        let (first, second) = payload.split_at(payload.len().min(window - at));
        for (from, part) in [(at, first), (0, second)] {
            let end = from + part.len();
            if let (Some(samples), Some(filled)) =
                (self.ring.get_mut(from..end), self.filled.get_mut(from..end))
            {
                for (sample, &code) in samples.iter_mut().zip(part) {
                    *sample = table.get(usize::from(code)).copied().unwrap_or(0);
                }
                filled.fill(true);
            }
        }
        self.high = self.high.max(ext + n);
        Placed::InPlace
    }

    /// Appends everything up to the latest sample received (the stream ends).
    pub(crate) fn drain(&mut self, out: &mut Vec<i16>) {
        let before = out.len();
        let pending = usize::try_from(self.high - self.start).unwrap_or(0);
        self.advance(pending.min(self.ring.len()), out);
        self.bound(before, out);
    }

    /// The timestamp extended past the wraps, relative to the highest one seen.
    fn extend(&mut self, timestamp: u32) -> i64 {
        let ext = match self.last {
            None => i64::from(timestamp),
            Some((last, last_ext)) => last_ext + i64::from(timestamp.wrapping_sub(last) as i32),
        };
        if self.last.is_none_or(|(_, high)| ext > high) {
            self.last = Some((timestamp, ext));
        }
        ext
    }

    /// Moves the ring on by `count` samples, appending them to `out`.
    fn advance(&mut self, count: usize, out: &mut Vec<i16>) {
        let window = self.ring.len();
        let taken = count.min(window);
        // The samples leaving: from `head` up to the ring's end, then from its start.
        let first = taken.min(window - self.head);
        for (from, len) in [(self.head, first), (0, taken - first)] {
            let end = from + len;
            if let (Some(samples), Some(filled)) =
                (self.ring.get(from..end), self.filled.get_mut(from..end))
            {
                out.extend(
                    samples
                        .iter()
                        .zip(filled.iter())
                        .map(|(&s, &f)| if f { s } else { 0 }),
                );
                self.stats.silence += filled.iter().filter(|f| !**f).count() as u64;
                filled.fill(false);
            }
        }
        self.head = (self.head + taken) % window;
        // Beyond a whole window everything is silence (never the case from `push`).
        let rest = count.saturating_sub(window);
        out.resize(out.len() + rest, 0);
        self.stats.silence += rest as u64;
        self.stats.samples += count as u64;
        self.start += count as i64;
        self.high = self.high.max(self.start);
    }
}

/// The G.711 codes decoded.
#[derive(Debug)]
struct Tables {
    ulaw: [i16; 256],
    alaw: [i16; 256],
}

/// Every code of `law`, decoded.
fn table(law: Law) -> [i16; 256] {
    let mut t = [0; 256];
    for (code, sample) in (0..=255u8).zip(t.iter_mut()) {
        *sample = law.decode(code);
    }
    t
}

/// A 16-bit PCM mono WAV file at [`SAMPLE_RATE`], its sizes written when it is finished.
#[derive(Debug)]
pub(crate) struct WavFile {
    path: PathBuf,
    file: BufWriter<File>,
    samples: u64,
    scratch: Vec<u8>,
}

/// The RIFF header's length.
const HEADER_LEN: u32 = 44;

impl WavFile {
    /// Creates `path` (which must not exist) with a header claiming no samples.
    pub(crate) fn create(path: &Path, buffer: usize) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        let mut file = BufWriter::with_capacity(buffer, file);
        file.write_all(&header(0))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            samples: 0,
            scratch: Vec::new(),
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn samples(&self) -> u64 {
        self.samples
    }

    /// Appends samples.
    pub(crate) fn write(&mut self, samples: &[i16]) -> io::Result<()> {
        self.scratch.clear();
        for s in samples {
            self.scratch.extend_from_slice(&s.to_le_bytes());
        }
        self.file.write_all(&self.scratch)?;
        self.samples += samples.len() as u64;
        Ok(())
    }

    /// Writes the buffered samples out.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    /// Writes the buffered samples out and the sizes so far into the header; the file stays
    /// open for more.
    pub(crate) fn checkpoint(&mut self) -> io::Result<()> {
        self.file.flush()?;
        let data = self.samples.saturating_mul(2);
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header(data))?;
        file.seek(SeekFrom::End(0))?;
        Ok(())
    }

    /// Writes the sizes into the header and closes the file (synced with `fsync`).
    pub(crate) fn finish(mut self, fsync: bool) -> io::Result<u64> {
        self.file.flush()?;
        let data = self.samples.saturating_mul(2);
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header(data))?;
        if fsync {
            file.sync_data()?;
        }
        Ok(self.samples)
    }
}

/// The RIFF/WAVE header of `data` octets of 16-bit mono PCM at 8 kHz (sizes past 4 GiB are
/// pinned at the format's limit).
fn header(data: u64) -> [u8; HEADER_LEN as usize] {
    // Beyond 4 GiB (74 hours) the size cannot be said: the largest even one is.
    let data = u32::try_from(data).unwrap_or((u32::MAX - HEADER_LEN) & !1);
    let mut h = [0u8; HEADER_LEN as usize];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        if let Some(slot) = h.get_mut(at..at + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
        at += bytes.len();
    };
    put(b"RIFF");
    put(&(data + HEADER_LEN - 8).to_le_bytes());
    put(b"WAVE");
    put(b"fmt ");
    put(&16u32.to_le_bytes()); // fmt chunk size
    put(&1u16.to_le_bytes()); // PCM
    put(&1u16.to_le_bytes()); // mono
    put(&SAMPLE_RATE.to_le_bytes());
    put(&(SAMPLE_RATE * 2).to_le_bytes()); // byte rate
    put(&2u16.to_le_bytes()); // block align
    put(&16u16.to_le_bytes()); // bits per sample
    put(b"data");
    put(&data.to_le_bytes());
    h
}

/// Reads back the samples of a WAV file this module wrote (tests).
#[cfg(test)]
pub(crate) fn read_samples(bytes: &[u8]) -> Vec<i16> {
    assert_eq!(bytes.get(..4), Some(&b"RIFF"[..]));
    let data = u32::from_le_bytes(bytes[40..44].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 44 + data, "data size in the header");
    bytes[44..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A 160-sample payload whose codes depend on `n`.
    fn payload(n: u8) -> Vec<u8> {
        (0..160u16).map(|i| (i as u8).wrapping_mul(7) ^ n).collect()
    }

    fn decoded(law: Law, p: &[u8]) -> Vec<i16> {
        p.iter().map(|&c| law.decode(c)).collect()
    }

    #[test]
    fn forged_timestamps_cannot_turn_a_few_packets_into_megabytes_of_silence() {
        // Every packet a gap of max_gap or a restart: 100 packets of 160 samples.
        let (window, max_gap) = (8_000, 80_000);
        let mut p = Playout::new(window, max_gap);
        let mut out = Vec::new();
        for i in 0..100u32 {
            let ts = if i % 2 == 0 {
                i * 1_000_000
            } else {
                0x8000_0000 + i
            };
            p.push(ts, Law::Ulaw, &payload(i as u8), &mut out);
        }
        p.drain(&mut out);
        let bound = 2 * 100 * 160 + max_gap + window as u64;
        assert!(out.len() as u64 <= bound, "{} samples", out.len());
        assert!(p.stats().capped > 0);
        // A real call stays far below the bound: every sample of 3 s of audio, one 2 s gap.
        let mut p = Playout::new(window, max_gap);
        let mut out = Vec::new();
        for i in 0..150u32 {
            let ts = if i < 100 {
                i * 160
            } else {
                16_000 + 16_000 + (i - 100) * 160
            };
            p.push(ts, Law::Ulaw, &payload(i as u8), &mut out);
        }
        p.drain(&mut out);
        assert_eq!(out.len(), 150 * 160 + 16_000);
        assert_eq!(p.stats().capped, 0);
    }

    /// Plays `(timestamp, payload)` through a ring of `window` samples and drains it.
    fn play(window: usize, max_gap: u64, packets: &[(u32, Vec<u8>)]) -> (Vec<i16>, Playout) {
        let mut p = Playout::new(window, max_gap);
        let mut out = Vec::new();
        for (ts, payload) in packets {
            p.push(*ts, Law::Ulaw, payload, &mut out);
        }
        p.drain(&mut out);
        (out, p)
    }

    #[test]
    fn in_order_packets_play_back_to_back() {
        let packets: Vec<_> = (0..10u8)
            .map(|n| (1000 + u32::from(n) * 160, payload(n)))
            .collect();
        let (out, p) = play(480, 8000, &packets);
        let expected: Vec<i16> = packets
            .iter()
            .flat_map(|(_, pl)| decoded(Law::Ulaw, pl))
            .collect();
        assert_eq!(out, expected);
        assert_eq!(p.stats().samples, 1600);
        assert_eq!(p.stats().silence, 0);
    }

    #[test]
    fn a_missing_packet_is_silence_and_reordering_within_the_window_is_undone() {
        // Packets 0..6, 3 lost, 2 arrives after 4.
        let order = [0u8, 1, 4, 2, 5];
        let packets: Vec<_> = order
            .iter()
            .map(|&n| (u32::from(n) * 160, payload(n)))
            .collect();
        let (out, p) = play(480, 8000, &packets);
        let mut expected = Vec::new();
        for n in 0..6u8 {
            if n == 3 {
                expected.extend(std::iter::repeat_n(0, 160));
            } else {
                expected.extend(decoded(Law::Ulaw, &payload(n)));
            }
        }
        assert_eq!(out, expected);
        assert_eq!(p.stats().silence, 160);
        assert_eq!(p.stats().late, 0);
    }

    #[test]
    fn duplicates_and_packets_later_than_the_window_are_ignored() {
        let mut packets: Vec<_> = (0..8u8).map(|n| (u32::from(n) * 160, payload(n))).collect();
        packets.insert(3, (2 * 160, payload(99))); // a duplicate of 2 while in the ring
        packets.push((0, payload(98))); // packet 0 again, long written
        let (out, p) = play(480, 8000, &packets);
        let expected: Vec<i16> = (0..8u8)
            .flat_map(|n| decoded(Law::Ulaw, &payload(n)))
            .collect();
        assert_eq!(out, expected);
        assert_eq!(p.stats().duplicates, 1);
        assert_eq!(p.stats().late, 1);
    }

    #[test]
    fn the_timestamp_wrap_plays_on() {
        let first = u32::MAX - 2 * 160 + 1;
        let packets: Vec<_> = (0..6u8)
            .map(|n| (first.wrapping_add(u32::from(n) * 160), payload(n)))
            .collect();
        // One reordered across the wrap.
        let mut shuffled = packets.clone();
        shuffled.swap(1, 2);
        let (out, p) = play(480, 8000, &shuffled);
        let expected: Vec<i16> = packets
            .iter()
            .flat_map(|(_, pl)| decoded(Law::Ulaw, pl))
            .collect();
        assert_eq!(out, expected);
        assert_eq!(p.stats().restarts, 0);
    }

    #[test]
    fn a_long_gap_is_filled_up_to_the_bound_and_a_clock_reset_restarts() {
        // 10,000 samples of gap with a bound of 800: 800 of silence, the rest skipped.
        let packets = vec![(0, payload(1)), (160 + 10_000, payload(2)), (5, payload(3))];
        let (out, p) = play(480, 800, &packets);
        let mut expected = decoded(Law::Ulaw, &payload(1));
        expected.extend(std::iter::repeat_n(0, 800));
        expected.extend(decoded(Law::Ulaw, &payload(2)));
        // Timestamp 5 is 10,155 behind: more than the bound, so the timeline restarts there.
        expected.extend(decoded(Law::Ulaw, &payload(3)));
        assert_eq!(out, expected);
        assert_eq!(p.stats().skipped, 10_000 - 800);
        assert_eq!(p.stats().restarts, 1);
    }

    #[test]
    fn a_law_decodes_with_its_own_table() {
        let mut p = Playout::new(480, 8000);
        let mut out = Vec::new();
        p.push(0, Law::Alaw, &payload(5), &mut out);
        p.drain(&mut out);
        assert_eq!(out, decoded(Law::Alaw, &payload(5)));
        assert_ne!(out, decoded(Law::Ulaw, &payload(5)));
    }

    #[test]
    fn a_wav_file_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        let mut w = WavFile::create(&path, 64).unwrap();
        w.write(&[1, -2, 300]).unwrap();
        w.write(&[i16::MIN]).unwrap();
        assert_eq!(w.finish(false).unwrap(), 4);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 8000);
        assert_eq!(read_samples(&bytes), vec![1, -2, 300, i16::MIN]);
        assert!(
            WavFile::create(&path, 64).is_err(),
            "an existing file is never overwritten"
        );
    }

    proptest! {
        #[test]
        fn any_packets_give_a_bounded_output_and_no_panic(
            packets in proptest::collection::vec((any::<u32>(), 0usize..300), 0..40)
        ) {
            let mut p = Playout::new(480, 800);
            let mut out = Vec::new();
            for (ts, len) in &packets {
                let before = out.len();
                p.push(*ts, Law::Ulaw, &vec![0x55; *len], &mut out);
                // One push hands out at most a window plus the longest gap.
                prop_assert!(out.len() - before <= 480 + 800);
            }
            p.drain(&mut out);
            // Everything handed out is written or counted as beyond the stream's bound.
            prop_assert_eq!(out.len() as u64 + p.stats().capped, p.stats().samples);
            let received: u64 = packets.iter().map(|(_, n)| (*n).min(480) as u64).sum();
            prop_assert!(out.len() as u64 <= 2 * received + 800 + 480);
        }
    }
}
