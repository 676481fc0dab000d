//! Per-call output of voice interception (TS 102 232-5): the SIP ladder, the media as a
//! pcap and G.711 audio as WAV files, under `out_dir/<LIID>/calls/<CIN>/`.
//!
//! Connections hand the IP multimedia records they decode (`IPMMIRI` with `sIPMessage` or
//! `iRIOnlySIPMessage`, `IPMMCC`) to the writer thread with the rest of a batch; all the
//! per-call work happens there ([`Calls`]), never in the socket loop. A call's directory
//! holds:
//!
//! - `ladder.jsonl`: one JSON object per IPMMIRI record, keys in alphabetical order:
//!   `call_id`, `cseq`, `destination` and `source` (the `SIPMessage` addresses: TS 102
//!   232-5 carries no ports), `direction` (`"source -> destination"`), `error` (why the SIP
//!   could not be read, else `null`), `from`, `iri_only` (an `iRIOnlySIPMessage`),
//!   `iri_type`, `method` and `request_uri` (requests) or `status` and `reason`
//!   (responses), `repeat` (as in `records.jsonl`), `seq` (the PDU's sequence number),
//!   `time` (the record's time), `to`, `via` (the first Via header: its sent-by is the
//!   port the request's sender takes responses on). The SIP is read by a small tolerant reader
//!   ([`sip`]): start line and `From`/`To`/`Call-ID`/`CSeq`, compact forms and folded lines.
//!   An IPMMIRI carrying something other than a SIP message gets a line with `content`
//!   naming it.
//! - `media.pcap`: every `IPMMCC` packet of the call, in the suite's one pcap layout
//!   ([`li_core::pcap`], `LINKTYPE_RAW`), with the record's time. An `ipFrame` is written as
//!   it is. The other frame types carry no addresses (the `IPMMCC` has none), so the packet
//!   is wrapped in an IPv4 header, and a UDP header unless the frame keeps its own, with
//!   **placeholder addresses** from TEST-NET-1 (RFC 5737): the target is `192.0.2.1`, the
//!   other party `192.0.2.2`; the `n`th stream of the call (by `streamIdentifier`, in order
//!   of appearance, from 0) is port `40000 + 2n` at the target and `50000 + 2n` at the other
//!   party, and `toTarget` packets go from the other party to the target, every other
//!   direction from the target. The IPv4 header checksum is set, the UDP one left 0
//!   (allowed over IPv4). A `tcpFrame` gets the IPv4 header only; an `msrpFrame` (TCP
//!   header missing too) is put in a placeholder UDP datagram.
//! - one WAV file per G.711 RTP stream (payload type 0, mu-law, or 8, A-law; a stream is
//!   a `streamIdentifier`, a direction and an SSRC): `<direction>-<ssrc>.wav`, 16-bit PCM
//!   at 8000 Hz mono, the RTP timestamps honoured by a jitter ring ([`wav`]: gaps filled
//!   with silence up to [`VoiceConfig::max_silence`], reordering within
//!   [`VoiceConfig::jitter_window`] put right, duplicates and late packets ignored and
//!   counted, the timestamp wrap handled). RTCP is kept in the pcap only. Streams of other
//!   payload types are listed in `call.json` and kept only in the pcap.
//! - `call.json`: written when the call ends (an IRI-End), and again when it is closed
//!   ([`VoiceConfig::end_grace`] after the end, to make room
//!   ([`VoiceConfig::max_open_calls`]), or when the receiver stops): CIN, LIID, first and
//!   last time, IRI and CC counts, the ladder's message count, error counts, and per
//!   stream its payload types and WAV file with its sample count.
//!
//! At the IRI-End the rings are played out, the buffers written out and the WAV headers
//! updated, but the files stay open for [`VoiceConfig::end_grace`] (by record times: HI2
//! and HI3 are separate connections, so the last CC can follow the IRI-End). A record
//! arriving for a closed call opens it again: the ladder and pcap are appended to (a torn
//! last record cut off first), new WAV files get a `-2`, `-3`... suffix, the counts go on,
//! and `call.json` is rewritten when it closes again.
//!
//! Call files are written through buffers, written out at each keep-alive's sync and on
//! close; with `fsync` they are synced when the call closes. They are views of the records:
//! the evidence, synced before each keep-alive answer, is `records.jsonl`, the LIID's pcap
//! and the raw streams. The WAV header's sizes are written when the file is closed.

mod call;
pub(crate) mod sip;
pub(crate) mod wav;

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use li_asn1::ipmm::{FrameType, MmccProtocol};
use li_asn1::{IriType, PayloadDirection};
use li_core::{Liid, Timestamp};

use self::call::Call;
use super::output::{OutputError, sanitize_file_stem};
use super::{State, lock_state};
use crate::retry::Changes;

/// The per-call output's limits.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VoiceConfig {
    /// Calls with open files at most; opening one more closes the least recently active
    /// (its `call.json` written; a later record opens it again). Default 256.
    pub max_open_calls: usize,
    /// How far packets of a G.711 stream may be reordered and still be put in place
    /// (default 1 s); a packet later than this is counted and left out of the WAV.
    pub jitter_window: Duration,
    /// The longest gap in a G.711 stream filled with silence (default 10 s, at most ten
    /// minutes); the rest of a longer gap is skipped (and counted), so the WAV's length
    /// stays bounded. The jitter window is at most 2^20 samples (131 s).
    pub max_silence: Duration,
    /// Streams per call at most (default 32); further streams' packets are kept in the pcap
    /// and counted, not played out.
    pub max_streams_per_call: usize,
    /// How long a call stays open after its IRI-End for media still on its way (HI3 lags
    /// HI2: they are separate connections), by record times: the call is closed once a
    /// record more than this after the end arrives for any call (default 10 s), when it is
    /// evicted, or when the receiver stops.
    pub end_grace: Duration,
    /// Files the open calls hold at most together (ladder, pcap and one per WAV; default
    /// 512, well under the usual limit of 1024 descriptors, since a receiver that cannot
    /// open a file stops acknowledging); beyond, the least recently active calls are
    /// closed.
    pub max_open_files: usize,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        Self {
            max_open_calls: 256,
            jitter_window: Duration::from_secs(1),
            max_silence: Duration::from_secs(10),
            max_streams_per_call: 32,
            end_grace: Duration::from_secs(10),
            max_open_files: 512,
        }
    }
}

impl VoiceConfig {
    fn samples(d: Duration) -> u64 {
        u64::try_from(d.as_millis() * u128::from(wav::SAMPLE_RATE) / 1000).unwrap_or(u64::MAX)
    }
}

/// What the agency received of one call (one CIN of a LIID).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallSummary {
    /// The call's directory, `out_dir/<LIID>/calls/<CIN>`.
    pub dir: PathBuf,
    /// IPMMIRI records.
    pub iri: u64,
    /// IPMMCC records.
    pub cc: u64,
    /// Lines in `ladder.jsonl`.
    pub ladder_messages: u64,
    /// SIP messages whose start line could not be read.
    pub sip_errors: u64,
    /// Media packets that should be RTP and are not readable as such (cut short, wrong
    /// version).
    pub media_errors: u64,
    /// Media packets of a frame type or protocol without RTP (audio frames, UDPTL, MSRP,
    /// TCP), kept in the pcap only.
    pub not_rtp: u64,
    /// RTCP packets (kept in the pcap).
    pub rtcp: u64,
    /// Packets of streams beyond [`VoiceConfig::max_streams_per_call`].
    pub streams_dropped: u64,
    /// The first record's time.
    pub first_time: Option<Timestamp>,
    /// The last record's time.
    pub last_time: Option<Timestamp>,
    /// An IRI-End was received.
    pub ended: bool,
    /// The G.711 streams' WAV files.
    pub wavs: Vec<WavSummary>,
    /// RTP payload types seen that are not G.711 (kept in the pcap only).
    pub other_payload_types: BTreeSet<u8>,
}

/// One WAV file of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WavSummary {
    /// The file.
    pub path: PathBuf,
    /// Samples written (8000 a second).
    pub samples: u64,
    /// The stream's direction.
    pub direction: Option<PayloadDirection>,
    /// The stream's RTP synchronisation source.
    pub ssrc: u32,
    /// Packets ignored as duplicates.
    pub duplicates: u64,
    /// Packets ignored as later than the jitter window.
    pub late: u64,
    /// Samples of silence written where packets were missing.
    pub silence: u64,
}

/// One IP multimedia record, handed from a connection to the writer thread.
#[derive(Clone, Debug)]
pub(crate) struct VoiceRecord {
    pub(crate) liid: Liid,
    pub(crate) cin: Option<u32>,
    pub(crate) seq: u32,
    pub(crate) time: Timestamp,
    pub(crate) repeat: bool,
    pub(crate) kind: VoiceKind,
}

/// What a [`VoiceRecord`] carries. Octet strings are ranges of the batch's `voice_data`,
/// so handing a record over allocates nothing.
#[derive(Clone, Debug)]
pub(crate) enum VoiceKind {
    /// An IPMMIRI with a SIP message.
    Sip {
        iri_type: Option<IriType>,
        iri_only: bool,
        source: Option<IpAddr>,
        destination: Option<IpAddr>,
        message: Range<usize>,
    },
    /// An IPMMIRI with other contents.
    OtherIri {
        iri_type: Option<IriType>,
        content: &'static str,
    },
    /// A call-data message without SIP (PacketCable `CdcPdu`): a ladder line naming it.
    CallData {
        iri_type: Option<IriType>,
        /// The handover format (`"packetcable"`).
        format: &'static str,
        /// The message's name in its module (`origination`, `ccopen` ...).
        message: &'static str,
    },
    /// An IPMMCC.
    Media {
        direction: Option<PayloadDirection>,
        frame_type: Option<FrameType>,
        stream: Option<Range<usize>>,
        protocol: Option<MmccProtocol>,
        packet: Range<usize>,
    },
}

impl VoiceKind {
    fn iri_type(&self) -> Option<IriType> {
        match self {
            Self::Sip { iri_type, .. }
            | Self::OtherIri { iri_type, .. }
            | Self::CallData { iri_type, .. } => *iri_type,
            Self::Media { .. } => None,
        }
    }
}

/// Why a call was closed (in `call.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Closed {
    /// An IRI-End.
    Ended,
    /// To make room for another call.
    Evicted,
    /// The receiver stopped.
    Stopped,
}

impl Closed {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ended => "ended",
            Self::Evicted => "evicted",
            Self::Stopped => "receiver stopped",
        }
    }
}

/// The open calls of one receiver, driven by its writer thread.
pub(crate) struct Calls {
    root: PathBuf,
    config: VoiceConfig,
    fsync: bool,
    open: HashMap<(Liid, u32), Call>,
    /// Activity clock for the least recently active call.
    tick: u64,
    /// Open calls whose summary changed since the last [`Calls::publish`] (the summary is
    /// copied then, once per batch, not per record).
    dirty: Vec<(Liid, u32)>,
    /// Calls closed since the last publish, with their final summary.
    closed: Vec<(Liid, u32, CallSummary)>,
    /// Open calls that have ended, waiting for [`VoiceConfig::end_grace`].
    ended: Vec<(Liid, u32)>,
    /// The latest record time seen.
    latest: Option<Timestamp>,
    /// Files the open calls hold.
    files: usize,
    /// Records without a CIN, per LIID, since the last publish.
    without_cin: Vec<Liid>,
    /// Reused buffers: decoded samples, a packet being wrapped.
    samples: Vec<i16>,
    scratch: Vec<u8>,
    state: Arc<Mutex<State>>,
    changes: Arc<Changes>,
}

impl Calls {
    pub(crate) fn new(
        root: PathBuf,
        config: VoiceConfig,
        fsync: bool,
        state: Arc<Mutex<State>>,
        changes: Arc<Changes>,
    ) -> Self {
        Self {
            root,
            config,
            fsync,
            open: HashMap::new(),
            tick: 0,
            dirty: Vec::new(),
            closed: Vec::new(),
            ended: Vec::new(),
            latest: None,
            files: 0,
            without_cin: Vec::new(),
            samples: Vec::new(),
            scratch: Vec::new(),
            state,
            changes,
        }
    }

    /// Writes one record (its octets in `data`) to its call's files.
    pub(crate) fn record(&mut self, record: VoiceRecord, data: &[u8]) -> Result<(), OutputError> {
        let Some(cin) = record.cin else {
            self.without_cin.push(record.liid);
            return Ok(());
        };
        let key = (record.liid, cin);
        self.tick += 1;
        if !self.open.contains_key(&key) {
            if self.open.len() >= self.config.max_open_calls.max(1) {
                self.evict(None)?;
            }
            let call = self.open_call(record.liid, cin)?;
            self.files += call.open_files();
            self.open.insert(key, call);
        }
        let Some(call) = self.open.get_mut(&key) else {
            return Ok(());
        };
        let files_before = call.open_files();
        call.last_active = self.tick;
        let end = record.kind.iri_type() == Some(IriType::End);
        let time = record.time;
        if self.latest.is_none_or(|t| time > t) {
            self.latest = Some(time);
        }
        call.record(record, data, &mut self.samples, &mut self.scratch)?;
        self.files += call.open_files().saturating_sub(files_before);
        if end && call.ended_at().is_none() {
            call.end(time, self.fsync)?;
            self.ended.push(key);
        }
        // Too many files open (a WAV per stream): the least recently active other calls
        // are closed.
        while self.files > self.config.max_open_files && self.open.len() > 1 {
            self.evict(Some(key))?;
        }
        if self.dirty.last() != Some(&key) && !self.dirty.contains(&key) {
            self.dirty.push(key);
        }
        Ok(())
    }

    /// Closes the ended calls whose [`VoiceConfig::end_grace`] has passed (by the latest
    /// record time); called once per batch.
    pub(crate) fn expire(&mut self) -> Result<(), OutputError> {
        let Some(latest) = self.latest else {
            return Ok(());
        };
        let grace = u64::try_from(self.config.end_grace.as_micros()).unwrap_or(u64::MAX);
        let mut i = 0;
        while let Some(&key) = self.ended.get(i) {
            let at = self.open.get(&key).and_then(Call::ended_at);
            match at {
                // Evicted, or closed and opened again without a new end: forgotten.
                None => {
                    self.ended.swap_remove(i);
                }
                Some(at) if latest.unix_micros().saturating_sub(at.unix_micros()) > grace => {
                    self.ended.swap_remove(i);
                    self.close(key, Closed::Ended)?;
                }
                Some(_) => i += 1,
            }
        }
        Ok(())
    }

    /// Writes out every open call's buffers.
    pub(crate) fn flush(&mut self) -> Result<(), OutputError> {
        for call in self.open.values_mut() {
            call.flush()?;
        }
        Ok(())
    }

    /// Closes every open call (the receiver stops).
    pub(crate) fn close_all(&mut self) -> Result<(), OutputError> {
        let keys: Vec<_> = self.open.keys().copied().collect();
        for key in keys {
            self.close(key, Closed::Stopped)?;
        }
        self.publish();
        Ok(())
    }

    /// Copies the changed summaries into the receiver's state.
    pub(crate) fn publish(&mut self) {
        if self.dirty.is_empty() && self.closed.is_empty() && self.without_cin.is_empty() {
            return;
        }
        {
            let mut state = lock_state(&self.state);
            // Closed first: a call closed and opened again since is then shown open.
            for (liid, cin, summary) in self.closed.drain(..) {
                state
                    .liids
                    .entry(liid)
                    .or_default()
                    .calls
                    .insert(cin, summary);
            }
            for key in self.dirty.drain(..) {
                if let Some(call) = self.open.get(&key) {
                    let calls = &mut state.liids.entry(key.0).or_default().calls;
                    match calls.get_mut(&key.1) {
                        Some(summary) => summary.clone_from(call.summary()),
                        None => {
                            calls.insert(key.1, call.summary().clone());
                        }
                    }
                }
            }
            for liid in self.without_cin.drain(..) {
                state.liids.entry(liid).or_default().voice_without_cin += 1;
            }
        }
        self.changes.changed();
    }

    fn close(&mut self, key: (Liid, u32), why: Closed) -> Result<(), OutputError> {
        if let Some(call) = self.open.remove(&key) {
            self.files = self.files.saturating_sub(call.open_files());
            let summary = call.close(why, self.fsync)?;
            self.dirty.retain(|k| *k != key);
            self.closed.retain(|(l, c, _)| (*l, *c) != key);
            self.closed.push((key.0, key.1, summary));
        }
        Ok(())
    }

    /// Closes the least recently active call (other than `keep`).
    fn evict(&mut self, keep: Option<(Liid, u32)>) -> Result<(), OutputError> {
        let oldest = self
            .open
            .iter()
            .filter(|(key, _)| Some(**key) != keep)
            .min_by_key(|(_, call)| call.last_active)
            .map(|(key, _)| *key);
        if let Some(key) = oldest {
            tracing::info!(liid = %key.0, cin = key.1, calls = self.config.max_open_calls,
                files = self.config.max_open_files,
                "open call or file limit reached: the least recently active call is closed");
            self.close(key, Closed::Evicted)?;
        }
        Ok(())
    }

    /// Opens (or opens again) the call's files.
    fn open_call(&mut self, liid: Liid, cin: u32) -> Result<Call, OutputError> {
        let dir = call_dir(&self.root, liid, cin);
        // A call closed before continues from its summary.
        let earlier = self
            .closed
            .iter()
            .find(|(l, c, _)| *l == liid && *c == cin)
            .map(|(_, _, s)| s.clone())
            .or_else(|| {
                lock_state(&self.state)
                    .liids
                    .get(&liid)
                    .and_then(|l| l.calls.get(&cin).cloned())
            });
        Call::open(liid, cin, dir, earlier, &self.config)
    }
}

/// `root/<LIID>/calls/<CIN>`, the LIID named as [`liid_dir_name`] says.
fn call_dir(root: &Path, liid: Liid, cin: u32) -> PathBuf {
    root.join(liid_dir_name(&liid.to_string()))
        .join("calls")
        .join(cin.to_string())
}

/// The LIID's directory name: its pcap file's stem ([`sanitize_file_stem`]), unless that
/// stem could be taken for another output file or a path step: `.`, `..`, or a name ending
/// in `.pcap`, `.ber` or `.jsonl` (a LIID `A.pcap` would otherwise collide with LIID `A`'s
/// pcap file, and a receiver that cannot create a directory stops acknowledging). Those
/// get the escaped form, the LIID in hex after a `~`, which no other output name has.
pub(crate) fn liid_dir_name(text: &str) -> String {
    let stem = sanitize_file_stem(text);
    let lower = stem.to_ascii_lowercase();
    let unsafe_name = matches!(stem.as_str(), "." | "..")
        || [".pcap", ".ber", ".jsonl"]
            .iter()
            .any(|end| lower.ends_with(end));
    if stem.contains('~') || !unsafe_name {
        return stem;
    }
    let mut name = stem;
    name.push('~');
    for b in text.as_bytes() {
        name.push_str(&format!("{b:02x}"));
    }
    name
}

#[cfg(test)]
mod tests;
