//! The agency side of HI2/HI3: a LEMF receiver for ETSI TS 102 232-1 PS-PDU streams.
//!
//! The mediator delivers to each agency over two connections, HI2 (IRI) and HI3 (CC), each a
//! TCP or TLS stream of back-to-back BER PS-PDUs (TS 102 232-1 clause 5.1). A [`Receiver`]
//! frames each stream ([`li_asn1::ber::frame_len`], bounded by
//! [`ReceiverConfig::max_pdu_len`]), decodes each PDU, answers keep-alives (clause 5.3, annex
//! F `keep-alive` / `keep-aliveResponse`) and records what it received:
//!
//! - `out_dir/records.jsonl`: one JSON object per IRI or CC record;
//! - `out_dir/<LIID>.pcap`: every CC IP packet of the LIID, as a classic pcap file with
//!   `LINKTYPE_RAW` (101) and the record's time. A LIID with characters other than ASCII
//!   letters, digits, `.`, `_` and `-` has them replaced by `_` and the octets of its text
//!   form appended in hex after a `~` (`LIID/1` → `LIID_1~4c4949442f31.pcap`), so two LIIDs never share a file.
//!
//! Each JSON line has `interface` (`"HI2"`/`"HI3"`), `liid` (its text form), `cin` (or
//! `null`), `seq`, `time` (RFC 3339, the record's own time else the PSHeader's, or `null`),
//! `kind` (`"iri"`/`"cc"`) and `repeat` (the PDU's sequence number was at or before the last
//! one). IRI lines add `iri_type` (`"iRI-Begin"` ...), `access_event` (`"accessAccept"` ...)
//! and `username` (lossy UTF-8) of an IPIRI, `null` for other IRI contents; CC lines add
//! `direction` (`"fromTarget"` ...) and `packet_len` (the original IP packet length, `null`
//! for contents other than IPCC); a CC line of an `iPTruncatedPacket` (a packet the capture
//! cut; its pcap record has fewer captured octets than original ones) adds `truncated`
//! (`true`) and `captured_len` (the octets delivered), `packet_len` being its
//! `originalLength`. Keys are in alphabetical order. Repeats are recorded too,
//! so nothing is lost when a mediator restarts its numbering; the `repeat` flag lets the
//! reader de-duplicate.
//!
//! # Voice calls
//!
//! IP multimedia records (TS 102 232-5: `IPMMIRI` with `sIPMessage`/`iRIOnlySIPMessage`,
//! `IPMMCC`) are also written per call, by the writer thread, in
//! `out_dir/<LIID>/calls/<CIN>/` (the LIID's directory named as its pcap file is, except
//! that `.`, `..` and names ending in `.pcap`, `.ber` or `.jsonl` get the `~`-hex form, so
//! no LIID's directory can be another output file or leave `out_dir`):
//!
//! - `ladder.jsonl`: one line per IPMMIRI: `time`, `seq`, `iri_type`, `source`,
//!   `destination` and `direction` (`"source -> destination"`; the `SIPMessage` carries
//!   addresses, no ports), `method` and `request_uri` or `status` and `reason`, `from`, `to`,
//!   `call_id`, `cseq` and `via` (the first Via: its sent-by gives the request sender's
//!   port) as written in the message, `iri_only`, `repeat`, and `error` naming
//!   why the SIP could not be read (the line is kept; the call counts it). The SIP is read
//!   by a small tolerant reader (start line, `From`/`f`, `To`/`t`, `Call-ID`/`i`, `CSeq`,
//!   any case, folded lines), bounded to the first 64 KiB and 256 header lines.
//! - `media.pcap`: every IPMMCC packet, `LINKTYPE_RAW`, with the record's time. An
//!   `ipFrame` is kept as it is; other frames carry no addresses, so they are wrapped in an
//!   IPv4 (and UDP, unless the frame keeps its own UDP or TCP header) header with
//!   placeholder addresses from TEST-NET-1: the target `192.0.2.1`, the other party
//!   `192.0.2.2`, the call's `n`th stream (by `streamIdentifier`, from 0) on ports
//!   `40000 + 2n` (target) and `50000 + 2n` (other party), `toTarget` packets from the other
//!   party, every other direction from the target.
//! - `<direction>-<ssrc>.wav` for each G.711 RTP stream (payload type 0 or 8; a stream is a
//!   `streamIdentifier`, a direction and an SSRC): 16-bit PCM, 8000 Hz, mono, in RTP
//!   timestamp order: gaps filled with silence up to [`VoiceConfig::max_silence`] (the rest
//!   of a longer gap skipped and counted), packets reordered within
//!   [`VoiceConfig::jitter_window`] put in place, duplicates and later packets ignored and
//!   counted, the 32-bit timestamp wrap followed. Other payload types are listed in
//!   `call.json` and [`CallSummary::other_payload_types`] and kept in the pcap only.
//! - `call.json`, written when the call ends (IRI-End), and again when it is closed: at
//!   the end of [`VoiceConfig::end_grace`], when it is closed to keep at most
//!   [`VoiceConfig::max_open_calls`] calls open, and when the receiver stops: CIN, LIID,
//!   first and last time, IRI and CC counts, the ladder's message count, error counts, the
//!   streams with their payload types, and the WAV files with their sample counts.
//!
//! At the IRI-End everything received is played out and written out, but the files stay
//! open for [`VoiceConfig::end_grace`] (by record times), since the last CC may arrive
//! after the IRI-End: HI2 and HI3 are separate connections. A record for a call already
//! closed opens it again: ladder and pcap are appended to, new WAV files get a `-2`,
//! `-3`... suffix, and `call.json` is rewritten with the counts carried on. Each
//! LIID's calls are in the [`Summary`] ([`LiidSummary::calls`]). The call files are written
//! out at every keep-alive's sync and synced (with [`ReceiverConfig::fsync`]) when the call
//! closes; they are views of the records, whose evidence is `records.jsonl`, the LIID's
//! pcap and the raw streams.
//!
//! # PacketCable
//!
//! A HI2 connection may carry PacketCable call data (PCESP version 3 `CdcPdu`s, told by
//! their first component, `protocolVersion [0]`): each message is an IRI line with `format`
//! `"packetcable"` and `message` (the alternative's name in the module: `origination`,
//! `answer`, `ccopen` ...), `seq` `null`, `cin` the call's CIN (the `callId`'s
//! `sequencenumber` when it is a decimal `u32`; otherwise a receiver-assigned number per
//! case and `callId`, counted down from `u32::MAX`), `call_id`, `ccc` (the `cCCId` strings),
//! `subject_sdp` / `associate_sdp` and the parties; and a line of the call's `ladder.jsonl`
//! (`format`, `message`, `method` and `status` `null`). `Origination` and
//! `TerminationAttempt` begin the call, `Release` ends it (`call.json`), as does a `CCClose`
//! of a call not released before. PCESP has no link test: nothing is ever written back on
//! such a connection, and one that stays quiet for [`ReceiverConfig::idle_timeout`] is
//! closed like any other, without an error (the mediator sends no keep-alives and
//! reconnects when it has something to say).
//!
//! Call content comes over UDP ([`start_with`]'s `ccc` address, [`Receiver::serve_ccc`]):
//! each datagram is a CCC identifier, an NTP timestamp (the `pcli12` form) and the
//! intercepted IP packet. The `cCCId` of `CCOpen` / `CCChange` binds identifiers to the call:
//! `sepXmitCCC` is what the target sends (`fromTarget`), `sepRecvCCC` what it receives
//! (`toTarget`); a `combCCC` stream's direction is told by the packet's addresses against the
//! subject SDP's connection address, else `combined`. A bound datagram's packet goes, as it
//! is (real addresses), to the LIID's pcap, a CC line (`format`, `ccc`, `direction`,
//! `packet_len`, `attributed` `true`, `seq` `null`) and the call's `media.pcap` and WAV
//! files. A datagram may beat its `CCOpen` (UDP against TCP): it is held, bounded by
//! [`PacketCableConfig`] (30 s by receive time, 4096 datagrams per identifier, 65,536 and
//! 32 MiB in all by default), and
//! recorded when the `CCOpen` comes; one held too long, pushed out by the bounds, or held
//! when the receiver stops is recorded **unattributed** (CC line with `liid` `null`, the
//! packet in [`UNATTRIBUTED_CCC_FILE`]). Malformed datagrams (short, or no IP packet) are
//! counted and logged. The counts are [`Summary::ccc`] ([`CccStats`]). Nothing acknowledges
//! call content: what is lost on the way or sent while the receiver is down is gone, and
//! the receiver cannot tell; [`Receiver::shutdown`] waits until the listener has stored
//! everything it read. The listener reads into one buffer allocated once, up to 64
//! datagrams per lock of the receiver's state, and formats records as the TCP paths do.
//!
//! # Durable before acknowledged
//!
//! The mediator deletes records from its spool when a keep-aliveResponse confirms them, so a
//! keep-alive is answered only once **every record received before it on that connection
//! is written to the output files and, with [`ReceiverConfig::fsync`] (the default), on
//! disk** (`sync_data` on each file written since the last sync, and on the directory after
//! a file was created). Output is buffered and written by one thread per receiver in large
//! chunks; the sync runs on that thread while the connection goes on reading, and the
//! responses are sent in order as their syncs complete. A write or sync that fails stops the
//! output: the connection is closed with [`ReceiverError::Output`] and no keep-alive is
//! answered until the receiver is restarted, so the mediator keeps the records.
//!
//! Sequence numbers (clause 5.2.5) are tracked per interface, LIID and CIN so that gaps and
//! the bounded window a mediator re-sends after a crash show in the [`Summary`]. They are
//! compared in serial-number arithmetic (RFC 1982): 2^32-1 followed by 0 is in order, up to
//! 2^31-1 ahead is a gap, anything else is a repeat. Keep-alives are answered and not
//! sequenced. Per interface the receiver counts keep-alives and keeps a histogram of the
//! delivery latency, receive time minus the PSHeader's time ([`Receiver::interface_stats`]).
//!
//! A PDU that frames but does not decode is logged with its stream offset, counted and
//! skipped; a stream that cannot be framed (a length over the limit, a malformed length) closes
//! the connection with a [`ReceiverError::Framing`] naming the offset.
//!
//! CC PDUs of the shape a mediator sends (one IPCC packet each) are read in place, without
//! building the typed model; everything else goes through [`PsPdu::decode`]. Both give the
//! same records (see the `fast` module).
//!
//! An agency's receiver daemon is [`start`]: the HI2 and HI3 listeners (TCP, or TLS with the
//! agency's certificate) served by one [`Receiver`], and [`RunningReceiver::stop`], which
//! closes them, lets every connection store what it received (for at most [`STOP_WAIT`]) and
//! returns the [`Summary`]; [`start_with`] adds the PacketCable call-content socket (UDP).
//! [`Receiver::serve`], [`Receiver::handle`] and [`Receiver::serve_ccc`] are the parts, for
//! a daemon that accepts its connections (or binds its socket) itself.

mod atis;
mod fast;
mod output;
mod packetcable;
mod running;
mod voice;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use li_asn1::ber::{Reader, Tlv, frame_len};
use li_asn1::{
    CcContents, CcPayload, IpCcContents, IriContents, IriPayload, Payload, PayloadDirection,
    PsHeader, PsPdu, TriPayload,
};
use li_core::{Liid, Timestamp};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio_rustls::TlsAcceptor;

use self::fast::{FastCc, FastPath};
use self::output::{Batch, Command, OutputError, WriterHandle};
/// The tolerant SIP head reader, shared with `crate::calea`.
pub(crate) use self::voice::sip;
use self::voice::{VoiceKind, VoiceRecord};
use crate::retry::Changes;
use li_asn1::ipmm::IpmmIriContents;

pub use self::output::{CCC_RAW_FILE, UNATTRIBUTED_CCC_FILE};
pub use self::packetcable::{CccStats, MAX_ASSIGNED_CALLS, PacketCableConfig};
pub use self::running::{ListenError, RunningReceiver, STOP_WAIT, start, start_with};
pub use self::voice::{CallSummary, VoiceConfig, WavSummary};

/// The default bound on one PS-PDU, and so on the receive buffer of a connection: 1 MiB.
pub const DEFAULT_MAX_PDU_LEN: usize = 1 << 20;

/// The name of the record log in [`ReceiverConfig::out_dir`].
pub const RECORDS_FILE: &str = "records.jsonl";

/// The upper bounds, in seconds, of the delivery latency histogram's buckets
/// ([`LatencyHistogram`]); a last bucket, `+Inf`, takes the rest.
pub const DELIVERY_LATENCY_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
];

/// [`DELIVERY_LATENCY_BUCKETS`] in microseconds.
const BUCKET_MICROS: [u64; 13] = [
    500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000,
    2_000_000, 5_000_000,
];

/// How much is read from a connection at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Keep-alives of one connection waiting for their sync at most; at the limit the
/// connection waits for the oldest before reading on.
const MAX_PENDING_SYNCS: usize = 4;
/// How long a TLS client may take to complete its handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The pause after a failed `accept` (e.g. out of file descriptors) before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How many gap ranges are kept per LIID; [`LiidSummary::gaps`] counts every gap.
const MAX_GAP_RANGES: usize = 1024;
/// `LINKTYPE_RAW`: each pcap record starts with an IPv4 or IPv6 header.
const LINKTYPE_RAW: u32 = li_core::pcap::LINKTYPE_RAW;
/// The pcap snapshot length; longer packets are cut (with their original length kept).
const PCAP_SNAPLEN: usize = li_core::pcap::DEFAULT_SNAPLEN as usize;

/// The handover interface a connection carries (TS 102 232-1 clause 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Interface {
    /// HI2: intercept-related information (IRI).
    Hi2,
    /// HI3: content of communication (CC).
    Hi3,
}

impl Interface {
    /// `"HI2"` or `"HI3"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hi2 => "HI2",
            Self::Hi3 => "HI3",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Hi2 => 0,
            Self::Hi3 => 1,
        }
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a [`Receiver`] writes and how much it buffers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// The directory for `records.jsonl` and the per-LIID pcap files (created if missing).
    pub out_dir: PathBuf,
    /// The largest PS-PDU accepted, in octets; a longer one closes the connection.
    pub max_pdu_len: usize,
    /// A connection that sends nothing for this long is closed (the mediator keeps a live
    /// link busy with keep-alives; a silent peer holds a socket and memory for nothing).
    pub idle_timeout: Duration,
    /// Connections served at once per [`Receiver::serve`] listener; more are accepted and
    /// closed at once, with a warning.
    pub max_connections: usize,
    /// Also keep every PS-PDU exactly as received (keep-alives included), back to back, in
    /// `hi2.ber` / `hi3.ber` in the output directory: the raw handover stream, for
    /// independent decoders and evidence; and every PacketCable CCC datagram as received in
    /// [`CCC_RAW_FILE`] (`ccc.pcap`).
    pub keep_raw: bool,
    /// Before a keep-alive is answered, `sync_data` every output file written since the last
    /// sync (default `true`). Without it the records are written to the operating system
    /// before the answer (they survive the receiver's crash, not the machine's).
    pub fsync: bool,
    /// The per-call output of voice interception (ladder, media pcap, WAV files; see
    /// [the module documentation](self#voice-calls)).
    pub voice: VoiceConfig,
    /// The bounds of the PacketCable call-content path (see
    /// [the module documentation](self#packetcable)).
    pub packetcable: PacketCableConfig,
}

impl ReceiverConfig {
    /// Output in `out_dir`, PDUs of up to [`DEFAULT_MAX_PDU_LEN`], connections idle for 60 s
    /// closed, at most 64 connections per listener, fsync before each keep-aliveResponse.
    pub fn new(out_dir: impl Into<PathBuf>) -> Self {
        Self {
            out_dir: out_dir.into(),
            max_pdu_len: DEFAULT_MAX_PDU_LEN,
            idle_timeout: Duration::from_secs(60),
            max_connections: 64,
            keep_raw: false,
            fsync: true,
            voice: VoiceConfig::default(),
            packetcable: PacketCableConfig::default(),
        }
    }
}

/// Why a connection was closed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiverError {
    /// The stream cannot be split into BER elements at `offset`: a length over
    /// [`ReceiverConfig::max_pdu_len`] or a malformed tag or length.
    #[error("framing error at stream offset {offset}: {source}")]
    Framing {
        /// Stream offset of the element that cannot be framed.
        offset: u64,
        /// What is wrong with it.
        #[source]
        source: li_asn1::Error,
    },
    /// The peer closed the connection inside a PDU.
    #[error("connection closed inside a PDU: {pending} octet(s) from stream offset {offset}")]
    Truncated {
        /// Stream offset of the incomplete PDU.
        offset: u64,
        /// How many of its octets arrived.
        pending: usize,
    },
    /// Nothing arrived for [`ReceiverConfig::idle_timeout`].
    #[error("idle for {idle:?} at stream offset {offset}")]
    Idle {
        /// Stream offset reached.
        offset: u64,
        /// The timeout.
        idle: Duration,
    },
    /// Reading from or writing to the connection failed.
    #[error("connection I/O error at stream offset {offset}: {source}")]
    Io {
        /// Stream offset reached when it failed.
        offset: u64,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A record could not be written to the output directory (or synced); the connection is
    /// closed so the mediator keeps the records spooled rather than the agency losing them.
    #[error("cannot write {}: {source}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// What one connection carried, returned by [`Receiver::handle`] when the peer closes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Octets received.
    pub octets: u64,
    /// PS-PDUs framed (decodable or not).
    pub pdus: u64,
    /// IRI records (`IRIPayload`s) received.
    pub iri: u64,
    /// CC records (`CCPayload`s) received.
    pub cc: u64,
    /// Keep-alives received, each answered.
    pub keep_alives: u64,
    /// Other TRI payloads and payloads this receiver does not record.
    pub ignored: u64,
    /// Sequence numbers skipped (the sum of the gap sizes).
    pub missing: u64,
    /// PDUs whose sequence number was at or before the last one seen.
    pub repeats: u64,
    /// PDUs that framed but did not decode.
    pub decode_errors: u64,
}

/// A run of sequence numbers that never arrived (inclusive; `first > last` when it wraps
/// past 2^32-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequenceGap {
    /// The interface of the sequence.
    pub interface: Interface,
    /// The `communicationIdentityNumber` of the sequence.
    pub cin: Option<u32>,
    /// The first missing sequence number.
    pub first: u32,
    /// The last missing sequence number.
    pub last: u32,
}

impl SequenceGap {
    /// How many sequence numbers are missing.
    pub fn missing(&self) -> u64 {
        u64::from(self.last.wrapping_sub(self.first)) + 1
    }
}

/// The counts of one LIID.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiidSummary {
    /// IRI records received (repeats included).
    pub iri: u64,
    /// CC records received (repeats included).
    pub cc: u64,
    /// Sequence numbers that never arrived, over all interfaces and CINs.
    pub gaps: u64,
    /// The gaps, in the order found (at most the first 1024).
    pub gap_ranges: Vec<SequenceGap>,
    /// PDUs whose sequence number was at or before the last one seen.
    pub repeats: u64,
    /// PDUs that framed and carried this LIID but did not decode.
    pub decode_errors: u64,
    /// The pcap file of the LIID's CC packets, once one was opened.
    pub pcap_path: Option<PathBuf>,
    /// The LIID's voice calls (IP multimedia records) by CIN, as written to their files
    /// so far.
    pub calls: BTreeMap<u32, CallSummary>,
    /// IP multimedia records without a CIN (recorded in `records.jsonl`, in no call).
    pub voice_without_cin: u64,
}

/// What a [`Receiver`] has received so far, over all its connections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Per LIID.
    pub liids: BTreeMap<Liid, LiidSummary>,
    /// PDUs that did not decode and whose LIID could not be read either.
    pub unattributed_decode_errors: u64,
    /// The JSON Lines record log shared by every LIID.
    pub records_path: PathBuf,
    /// The PacketCable call-content datagrams ([`Receiver::serve_ccc`]).
    pub ccc: CccStats,
}

impl fmt::Display for Summary {
    /// A small table, one row per LIID.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.liids.keys().map(ToString::to_string).collect();
        let w = names.iter().map(String::len).chain([4]).max().unwrap_or(4);
        writeln!(
            f,
            "{:<w$} {:>8} {:>8} {:>8} {:>8} {:>13}  pcap",
            "LIID", "IRI", "CC", "missing", "repeats", "decode-errors"
        )?;
        for (name, s) in names.iter().zip(self.liids.values()) {
            let pcap = s
                .pcap_path
                .as_deref()
                .map_or_else(|| "-".into(), Path::to_string_lossy);
            writeln!(
                f,
                "{name:<w$} {:>8} {:>8} {:>8} {:>8} {:>13}  {pcap}",
                s.iri, s.cc, s.gaps, s.repeats, s.decode_errors
            )?;
            for (cin, call) in &s.calls {
                writeln!(
                    f,
                    "  call {cin}: IRI {} CC {}{}  {}",
                    call.iri,
                    call.cc,
                    if call.ended { " (ended)" } else { "" },
                    call.dir.display()
                )?;
                for wav in &call.wavs {
                    writeln!(
                        f,
                        "    {} ({:.1} s)",
                        wav.path.display(),
                        wav.samples as f64 / 8000.0
                    )?;
                }
                if !call.other_payload_types.is_empty() {
                    writeln!(
                        f,
                        "    other payload types (pcap only): {:?}",
                        call.other_payload_types
                    )?;
                }
            }
        }
        if self.unattributed_decode_errors > 0 {
            writeln!(
                f,
                "PDUs with no readable LIID that did not decode: {}",
                self.unattributed_decode_errors
            )?;
        }
        let c = &self.ccc;
        if c.datagrams > 0 {
            writeln!(
                f,
                "CCC datagrams: {} received, {} attributed ({} after a hold), {} unattributed, \
                 {} malformed, {} held",
                c.datagrams,
                c.attributed,
                c.attributed_after_hold,
                c.unattributed,
                c.malformed,
                c.held
            )?;
        }
        write!(f, "records: {}", self.records_path.display())
    }
}

/// Counters of one interface over every connection, from [`Receiver::interface_stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InterfaceStats {
    /// Keep-alives received.
    pub keep_alives: u64,
    /// The delivery latency of the PDUs carrying IRI or CC records.
    pub latency: LatencyHistogram,
}

/// A histogram of delivery latencies: for each PDU carrying records, the time it was
/// received (wall clock, when its octets were read) minus its PSHeader's time
/// (`microSecondTimeStamp`, else `timeStamp`; PDUs with neither are not counted). A PSHeader
/// time ahead of the receiver's clock counts as 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LatencyHistogram {
    /// Cumulative counts: `buckets[i]` observations were at most
    /// [`DELIVERY_LATENCY_BUCKETS`]`[i]` seconds (Prometheus `le` buckets).
    pub buckets: [u64; 13],
    /// Every observation (the `+Inf` bucket).
    pub count: u64,
    /// The sum of the observations, in microseconds.
    pub sum_micros: u64,
}

/// The LEMF receiver: shared by every listener and connection of one agency (cloning shares
/// the state).
#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Inner>,
}

struct Inner {
    config: ReceiverConfig,
    records_path: PathBuf,
    /// Counts and sequence state; never held across an `.await`.
    state: Arc<Mutex<State>>,
    /// Signalled after every change of `state`, for [`Receiver::wait_for`].
    changes: Arc<Changes>,
    /// The output files' writer thread.
    writer: WriterHandle,
    /// Per interface ([`Interface::index`]).
    interfaces: [SharedInterfaceStats; 2],
    /// Turned `true` by [`Receiver::shutdown`]; every connection holds a subscription for
    /// as long as it runs, so the sender knows when the last one has ended.
    stop: watch::Sender<bool>,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A receiver writing to `config.out_dir`, which is created, with `records.jsonl` opened
    /// for appending (a restarted receiver continues the files of the previous run), and its
    /// file-writer thread started.
    pub fn new(config: ReceiverConfig) -> io::Result<Self> {
        std::fs::create_dir_all(&config.out_dir).map_err(|e| with_path(e, &config.out_dir))?;
        let records_path = config.out_dir.join(RECORDS_FILE);
        if records_path.exists() {
            output::repair_tail(&records_path, output::Layout::Lines)
                .map_err(|e| with_path(e, &records_path))?;
        }
        let records = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&records_path)
            .map_err(|e| with_path(e, &records_path))?;
        let state = Arc::new(Mutex::new(State {
            ccc: packetcable::CccTable::new(config.packetcable.clone()),
            ..State::default()
        }));
        let changes = Arc::new(Changes::default());
        let writer = WriterHandle::start(
            config.out_dir.clone(),
            records_path.clone(),
            records,
            Arc::clone(&state),
            Arc::clone(&changes),
            (config.voice.clone(), config.fsync),
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                records_path,
                state,
                changes,
                writer,
                interfaces: Default::default(),
                stop: watch::Sender::new(false),
            }),
        })
    }

    /// Stops receiving and waits until everything received is in the output files.
    ///
    /// Every connection stops reading, hands over what it has, has it stored (and synced,
    /// with [`ReceiverConfig::fsync`]) and returns; connections accepted afterwards are
    /// closed at once. When this returns, the [`Summary`] and the files agree: every record
    /// counted is written. A connection whose peer does not read the keep-alive answers it
    /// still owes can hold this up; bound the wait with a timeout if that matters.
    pub async fn shutdown(&self) -> Result<(), ReceiverError> {
        self.inner.stop.send_replace(true);
        self.inner.stop.closed().await;
        let (done, rx) = oneshot::channel();
        self.command(Command::Sync {
            fsync: self.inner.config.fsync,
            close_calls: true,
            done,
        })
        .await?;
        self.check(rx.await)
    }

    /// The configuration.
    pub fn config(&self) -> &ReceiverConfig {
        &self.inner.config
    }

    /// Accepts connections on `listener` for `interface`, each handled by its own task,
    /// through TLS when `tls` is given.
    ///
    /// Runs until the future is dropped. A failed TLS handshake (or none within 10 s) is
    /// logged with the peer and the reason and the loop goes on, as it does after a failed
    /// `accept`; only a listener without a local address is an error.
    pub async fn serve(
        &self,
        listener: TcpListener,
        tls: Option<TlsAcceptor>,
        interface: Interface,
    ) -> io::Result<()> {
        let local = listener.local_addr()?;
        tracing::info!(%local, %interface, tls = tls.is_some(), "LEMF receiver listening");
        let slots = Arc::new(tokio::sync::Semaphore::new(
            self.inner.config.max_connections.max(1),
        ));
        loop {
            let (tcp, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%local, %interface, %error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            };
            let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                tracing::warn!(%peer, %interface, limit = self.inner.config.max_connections,
                    "connection refused: too many connections");
                drop(tcp);
                continue;
            };
            let receiver = self.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                receiver.connection(tcp, peer, tls, interface).await;
                drop(slot);
            });
        }
    }

    /// Receives one connection until the peer closes it: frames and decodes the PS-PDUs,
    /// answers keep-alives once everything before them is stored, records IRI and CC.
    ///
    /// Returns what the connection carried, or the reason it was closed early: a framing
    /// error, a PDU cut by the end of the stream, an I/O error, or an output file that
    /// cannot be written. Either way, the records received before the end are in the output
    /// files (and synced, with [`ReceiverConfig::fsync`]) when it returns.
    pub async fn handle<S>(
        &self,
        mut stream: S,
        peer: SocketAddr,
        interface: Interface,
    ) -> Result<ConnectionStats, ReceiverError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut conn = Connection {
            peer,
            interface,
            stats: ConnectionStats::default(),
            batch: self.inner.writer.batch(interface),
            fast: FastPath::default(),
            lines: LineWriter::default(),
            latency: LocalLatency::default(),
            offset: 0,
            packetcable: false,
        };
        let mut pending = VecDeque::new();
        let mut stop = self.inner.stop.subscribe();
        let received = if *stop.borrow_and_update() {
            Ok(())
        } else {
            self.receive(&mut stream, &mut conn, &mut pending, &mut stop)
                .await
        };
        // What was received is stored whatever the outcome.
        let stored = self.sync(&mut conn).await;
        let stored = match stored {
            Ok(rx) => self.check(rx.await),
            Err(error) => Err(error),
        };
        received?;
        stored?;
        // Every earlier sync has completed: answer the keep-alives still waiting.
        while !pending.is_empty() {
            self.answer_oldest(&mut stream, &mut pending, conn.offset)
                .await?;
        }
        Ok(conn.stats)
    }

    /// What has been received so far, over every connection.
    pub fn summary(&self) -> Summary {
        let state = self.inner.state();
        Summary {
            liids: state.liids.clone(),
            unattributed_decode_errors: state.unattributed_decode_errors,
            records_path: self.inner.records_path.clone(),
            ccc: state.ccc.stats,
        }
    }

    /// Waits until `cond` holds for the [`Summary`] and returns the summary it held for.
    /// `cond` is checked at once and again after every change of the counts (PDUs received
    /// on any connection, a LIID's pcap file opened), never polled: wait until a LIID's
    /// records have arrived, or a gap shows, without sleeping in between. Each check builds
    /// a summary; a change costs the connections nothing extra while nobody waits. The
    /// counts are of records received: they are in the output files once acknowledged to
    /// their mediator, or after [`Receiver::shutdown`]. Bound the wait with a timeout when the
    /// condition may never hold.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use li_core::Liid;
    /// use li_handover::lemf::{Receiver, Summary};
    ///
    /// # async fn example(receiver: &Receiver) -> Result<(), Box<dyn std::error::Error>> {
    /// // ... a mediator delivers LIID-1's 100 CC records to the receiver's listeners ...
    /// let liid = Liid::new(b"LIID-1")?;
    /// let all_cc = |s: &Summary| s.liids.get(&liid).is_some_and(|l| l.cc >= 100);
    /// match tokio::time::timeout(Duration::from_secs(30), receiver.wait_for(all_cc)).await {
    ///     Ok(summary) => println!("{summary}"),
    ///     Err(_) => eprintln!("{liid}: not every CC record after 30 s"),
    /// }
    /// # Ok(())
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let receiver = Receiver::new(li_handover::lemf::ReceiverConfig::new(dir.path())).unwrap();
    /// # let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// # runtime.block_on(receiver.wait_for(|s| s.liids.is_empty()));
    /// ```
    pub async fn wait_for(&self, mut cond: impl FnMut(&Summary) -> bool) -> Summary {
        self.inner
            .changes
            .wait_for(|| {
                let summary = self.summary();
                cond(&summary).then_some(summary)
            })
            .await
    }

    /// The keep-alives and the delivery latency of `interface`, over every connection.
    pub fn interface_stats(&self, interface: Interface) -> InterfaceStats {
        let Some(shared) = self.inner.interfaces.get(interface.index()) else {
            return InterfaceStats::default();
        };
        shared.snapshot()
    }

    /// Reads, processes and stores until the peer closes the connection.
    async fn receive<S>(
        &self,
        stream: &mut S,
        conn: &mut Connection,
        pending: &mut VecDeque<PendingSync>,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), ReceiverError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let max = self.inner.config.max_pdu_len;
        let idle = self.inner.config.idle_timeout;
        let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK.min(max));
        let mut now = Timestamp::from_system_time(SystemTime::now());
        loop {
            let responses = self.process(&mut buf, conn, now)?;
            if !responses.is_empty() {
                // The keep-alives are answered once everything before them is stored.
                let rx = self.sync(conn).await?;
                pending.push_back(PendingSync { rx, responses });
            } else if !conn.batch.is_empty() {
                self.hand_over(conn).await?;
            }
            if pending.len() >= MAX_PENDING_SYNCS {
                self.answer_oldest(stream, pending, conn.offset).await?;
                continue;
            }

            // frame_len bounds every element by `max`, so a pending one fits in `max`.
            let room = max.saturating_sub(buf.len()).clamp(1, READ_CHUNK);
            let event = {
                let front = pending.front_mut().map(|sync| &mut sync.rx);
                let synced = async move {
                    match front {
                        Some(rx) => rx.await,
                        None => std::future::pending().await,
                    }
                };
                let mut limited = (&mut *stream).take(room as u64);
                let read = tokio::time::timeout(idle, limited.read_buf(&mut buf));
                tokio::select! {
                    biased;
                    _ = stop.changed() => Event::Stop,
                    synced = synced => Event::Synced(synced),
                    read = read => Event::Read(read),
                }
            };
            let read = match event {
                // The receiver stops: what is in `buf` is an incomplete PDU, never counted.
                Event::Stop => return Ok(()),
                Event::Synced(synced) => {
                    if let Some(sync) = pending.pop_front() {
                        self.answer(stream, &sync.responses, synced, conn.offset)
                            .await?;
                    }
                    continue;
                }
                Event::Read(read) => read,
            };
            let offset = conn.offset + buf.len() as u64;
            let read = match read {
                // PacketCable call data has no keep-alive: a quiet CDC connection is closed
                // after the same idle time, but that is no error.
                Err(_) if conn.packetcable && buf.is_empty() => {
                    tracing::info!(peer = %conn.peer, interface = %conn.interface, ?idle,
                        "PacketCable call-data connection idle: closed");
                    return Ok(());
                }
                Err(_) => return Err(ReceiverError::Idle { offset, idle }),
                Ok(read) => read,
            };
            let n = read.map_err(|source| ReceiverError::Io { offset, source })?;
            if n == 0 {
                if buf.is_empty() {
                    return Ok(());
                }
                return Err(ReceiverError::Truncated {
                    offset: conn.offset,
                    pending: buf.len(),
                });
            }
            now = Timestamp::from_system_time(SystemTime::now());
            conn.stats.octets += n as u64;
        }
    }

    /// Frames and handles every complete PDU in `buf` (received at `now`), removes them
    /// from it, and returns the keep-aliveResponses to send once they are stored.
    fn process(
        &self,
        buf: &mut Vec<u8>,
        conn: &mut Connection,
        now: Timestamp,
    ) -> Result<Vec<u8>, ReceiverError> {
        let max = self.inner.config.max_pdu_len;
        let keep_raw = self.inner.config.keep_raw;
        let mut responses = Vec::new();
        let mut used = 0;
        let mut framing = None;
        {
            let mut state = self.inner.state();
            while let Some(rest) = buf.get(used..) {
                let offset = conn.offset + used as u64;
                let len = match frame_len(rest, max) {
                    Ok(Some(len)) => len,
                    Ok(None) => break,
                    Err(source) => {
                        framing = Some(ReceiverError::Framing { offset, source });
                        break;
                    }
                };
                let frame = rest.get(..len).unwrap_or_default();
                if keep_raw {
                    conn.batch.raw.extend_from_slice(frame);
                }
                self.on_pdu(frame, offset, now, conn, &mut state, &mut responses);
                used += len;
            }
        }
        if used > 0 {
            self.inner.changes.changed();
        }
        if let Some(shared) = self.inner.interfaces.get(conn.interface.index()) {
            conn.latency.merge_into(shared);
        }
        buf.drain(..used.min(buf.len()));
        conn.offset += used as u64;
        match framing {
            Some(error) => Err(error),
            None => Ok(responses),
        }
    }

    /// Hands the connection's batch to the writer.
    async fn hand_over(&self, conn: &mut Connection) -> Result<(), ReceiverError> {
        let batch = std::mem::replace(&mut conn.batch, self.inner.writer.batch(conn.interface));
        self.command(Command::Write(batch)).await
    }

    /// Waits for the oldest pending sync and answers its keep-alives.
    async fn answer_oldest<S>(
        &self,
        stream: &mut S,
        pending: &mut VecDeque<PendingSync>,
        offset: u64,
    ) -> Result<(), ReceiverError>
    where
        S: AsyncWrite + Unpin,
    {
        if let Some(sync) = pending.pop_front() {
            let synced = sync.rx.await;
            self.answer(stream, &sync.responses, synced, offset).await?;
        }
        Ok(())
    }

    /// Hands over what is left and asks for a sync; its outcome is read with [`Self::check`].
    async fn sync(
        &self,
        conn: &mut Connection,
    ) -> Result<oneshot::Receiver<Result<(), OutputError>>, ReceiverError> {
        if !conn.batch.is_empty() {
            self.hand_over(conn).await?;
        }
        let (done, rx) = oneshot::channel();
        let fsync = self.inner.config.fsync;
        self.command(Command::Sync {
            fsync,
            close_calls: false,
            done,
        })
        .await?;
        Ok(rx)
    }

    /// The outcome of a sync.
    fn check(&self, synced: Synced) -> Result<(), ReceiverError> {
        match synced {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(output_error(&error)),
            Err(_) => Err(self.writer_gone()),
        }
    }

    /// Sends the keep-aliveResponses of a completed sync.
    async fn answer<S>(
        &self,
        stream: &mut S,
        responses: &[u8],
        synced: Synced,
        offset: u64,
    ) -> Result<(), ReceiverError>
    where
        S: AsyncWrite + Unpin,
    {
        self.check(synced)?;
        let io_error = |source| ReceiverError::Io { offset, source };
        stream.write_all(responses).await.map_err(io_error)?;
        stream.flush().await.map_err(io_error)
    }

    async fn command(&self, command: Command) -> Result<(), ReceiverError> {
        if self.inner.writer.send(command).await {
            Ok(())
        } else {
            Err(self.writer_gone())
        }
    }

    fn writer_gone(&self) -> ReceiverError {
        ReceiverError::Output {
            path: self.inner.config.out_dir.clone(),
            source: io::Error::other("the output writer has stopped"),
        }
    }

    /// One accepted connection: the TLS handshake if any, then [`Self::handle`], logged.
    async fn connection(
        self,
        tcp: tokio::net::TcpStream,
        peer: SocketAddr,
        tls: Option<TlsAcceptor>,
        interface: Interface,
    ) {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
        }
        tracing::info!(%peer, %interface, "connection accepted");
        let result = match tls {
            None => self.handle(tcp, peer, interface).await,
            Some(acceptor) => {
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => self.handle(stream, peer, interface).await,
                    Ok(Err(reason)) => {
                        tracing::warn!(%peer, %interface, %reason, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::warn!(
                            %peer, %interface, reason = "no handshake within 10 s",
                            "TLS handshake failed"
                        );
                        return;
                    }
                }
            }
        };
        match result {
            Ok(stats) => tracing::info!(%peer, %interface, ?stats, "connection closed"),
            Err(error) => tracing::warn!(%peer, %interface, %error, "connection closed on error"),
        }
    }

    /// One framed PDU at stream `offset`, received at `now`.
    fn on_pdu(
        &self,
        frame: &[u8],
        offset: u64,
        now: Timestamp,
        conn: &mut Connection,
        state: &mut State,
        responses: &mut Vec<u8>,
    ) {
        conn.stats.pdus += 1;
        if let Some(cc) = conn.fast.decode(frame) {
            conn.stats.cc += 1;
            conn.latency.observe(now, cc.header_time);
            let repeat = sequence(conn, state, cc.liid, cc.cin, cc.seq, 0, 1) == Sequencing::Repeat;
            let time = cc.time.unwrap_or(now);
            match cc.media {
                None => conn
                    .batch
                    .pcap_record(cc.liid, time, cc.packet, cc.packet.len()),
                Some(media) => {
                    let kind = VoiceKind::Media {
                        direction: cc.direction,
                        frame_type: media.frame_type,
                        stream: media.stream.map(|id| conn.batch.voice_octets(id)),
                        protocol: media.protocol,
                        packet: conn.batch.voice_octets(cc.packet),
                    };
                    conn.batch.voice.push(VoiceRecord {
                        liid: cc.liid,
                        cin: cc.cin,
                        seq: cc.seq,
                        time,
                        repeat,
                        kind,
                    });
                }
            }
            conn.lines.cc_line(
                &mut conn.batch.records,
                &CcLine::fast(&cc, conn.interface, repeat),
            );
            return;
        }
        match packetcable::read(frame) {
            packetcable::Read::NotPacketCable => {}
            packetcable::Read::CallData(data) => {
                self.on_packetcable(data, now, conn, state);
                return;
            }
            packetcable::Read::Undecodable(error, liid) => {
                tracing::warn!(
                    peer = %conn.peer, interface = %conn.interface, offset, len = frame.len(),
                    liid = %liid.map_or_else(|| "?".to_owned(), |l| l.to_string()), %error,
                    "PacketCable CdcPdu does not decode; skipped"
                );
                conn.stats.decode_errors += 1;
                state.decode_error(liid);
                return;
            }
        }
        match atis::read(frame) {
            atis::Read::NotAtis => {}
            atis::Read::Atis(message) => {
                self.on_atis(message, frame, now, conn, state, responses);
                return;
            }
            atis::Read::Undecodable(error, liid) => {
                tracing::warn!(
                    peer = %conn.peer, interface = %conn.interface, offset, len = frame.len(),
                    %error, "ATIS-1000013 message does not decode; skipped"
                );
                conn.stats.decode_errors += 1;
                state.decode_error(liid);
                return;
            }
        }
        let PsPdu { header, payload } = match PsPdu::decode(frame) {
            Ok(pdu) => pdu,
            Err(error) => {
                let liid = liid_of_undecodable(frame);
                tracing::warn!(
                    peer = %conn.peer, interface = %conn.interface, offset, len = frame.len(),
                    liid = %liid.map_or_else(|| "?".to_owned(), |l| l.to_string()), %error,
                    "PS-PDU does not decode; skipped"
                );
                conn.stats.decode_errors += 1;
                state.decode_error(liid);
                return;
            }
        };
        for field in &header.invalid_fields {
            // Kept: the PDU is delivered; the field is reported (TS 102 232-1 tolerance).
            tracing::warn!(
                peer = %conn.peer, interface = %conn.interface, offset,
                liid = %header.lawful_interception_identifier,
                sequence_number = header.sequence_number, tag = field.tag_number,
                error = %field.error,
                "PS-PDU carries an invalid optional header field; kept as received"
            );
        }
        let records: Vec<Record> = match payload {
            Payload::TriPayload(TriPayload::KeepAlive) => {
                conn.stats.keep_alives += 1;
                if let Some(shared) = self.inner.interfaces.get(conn.interface.index()) {
                    shared.keep_alives.fetch_add(1, Ordering::Relaxed);
                }
                PsPdu {
                    header,
                    payload: Payload::TriPayload(TriPayload::KeepAliveResponse),
                }
                .encode_into(responses);
                return;
            }
            Payload::IriPayloadSequence(items) => items
                .into_iter()
                .map(|item| Record::iri(&header, item, &mut conn.batch))
                .collect(),
            Payload::CcPayloadSequence(items) => {
                conn.fast.learn(
                    header.lawful_interception_identifier,
                    header
                        .communication_identifier
                        .communication_identity_number,
                );
                items
                    .into_iter()
                    .map(|item| Record::cc(&header, item, &mut conn.batch))
                    .collect()
            }
            other => {
                conn.stats.ignored += 1;
                tracing::debug!(
                    peer = %conn.peer, interface = %conn.interface, offset, payload = ?other,
                    "PS-PDU not recorded"
                );
                return;
            }
        };
        conn.latency.observe(now, time_of(None, None, &header));
        store(&header, records, now, conn, state);
    }
}

impl Receiver {
    /// An ATIS-1000013 message: a link test is sent back once what came before it is
    /// stored (as a keep-alive's response is); CmII becomes an IRI line, content a CC line
    /// and a pcap record, counted and sequenced as ETSI records are.
    fn on_atis(
        &self,
        message: atis::Atis,
        frame: &[u8],
        now: Timestamp,
        conn: &mut Connection,
        state: &mut State,
        responses: &mut Vec<u8>,
    ) {
        match message {
            atis::Atis::LinkTest => {
                conn.stats.keep_alives += 1;
                if let Some(shared) = self.inner.interfaces.get(conn.interface.index()) {
                    shared.keep_alives.fetch_add(1, Ordering::Relaxed);
                }
                responses.extend_from_slice(frame);
            }
            atis::Atis::Iri {
                liid,
                cin,
                time,
                mut fields,
                sip,
            } => {
                conn.stats.iri += 1;
                conn.latency.observe(now, Some(time));
                state.count(liid, 1, 0);
                fields.insert("interface".into(), json!(conn.interface.as_str()));
                fields.insert("liid".into(), json!(liid.to_string()));
                fields.insert("cin".into(), json!(cin));
                fields.insert("seq".into(), Value::Null);
                fields.insert("time".into(), json!(time.to_string()));
                fields.insert("kind".into(), json!("iri"));
                fields.insert("repeat".into(), json!(false));
                let line = Value::Object(fields).to_string();
                conn.batch.records.extend_from_slice(line.as_bytes());
                conn.batch.records.push(b'\n');
                if let Some((iri_type, message)) = sip {
                    let kind = VoiceKind::Sip {
                        iri_type: Some(iri_type),
                        iri_only: false,
                        source: None,
                        destination: None,
                        message: conn.batch.voice_octets(&message),
                    };
                    conn.batch.voice.push(VoiceRecord {
                        liid,
                        cin,
                        seq: 0,
                        time,
                        repeat: false,
                        kind,
                    });
                }
            }
            atis::Atis::Cc(cc) => {
                conn.stats.cc += 1;
                conn.latency.observe(now, cc.time);
                let repeat =
                    sequence(conn, state, cc.liid, cc.cin, cc.seq, 0, 1) == Sequencing::Repeat;
                let time = cc.time.unwrap_or(now);
                if cc.call {
                    // A call's RTP (ATIS-1000678): the call's media files, as IPMMCC.
                    let kind = VoiceKind::Media {
                        direction: cc.direction,
                        frame_type: Some(li_asn1::ipmm::FrameType::RtpFrame),
                        stream: None,
                        protocol: Some(li_asn1::ipmm::MmccProtocol::Rtp),
                        packet: conn.batch.voice_octets(&cc.packet),
                    };
                    conn.batch.voice.push(VoiceRecord {
                        liid: cc.liid,
                        cin: cc.cin,
                        seq: cc.seq,
                        time,
                        repeat,
                        kind,
                    });
                } else {
                    conn.batch
                        .pcap_record(cc.liid, time, &cc.packet, cc.packet.len());
                }
                let line = CcLine {
                    interface: conn.interface,
                    liid: cc.liid,
                    cin: cc.cin,
                    seq: cc.seq,
                    time: cc.time,
                    direction: cc.direction,
                    packet_len: Some(cc.packet.len()),
                    repeat,
                };
                conn.lines.cc_line(&mut conn.batch.records, &line);
            }
        }
    }
}

/// Accounts for and formats the records of one PDU decoded by the full decoder.
fn store(
    header: &PsHeader,
    records: Vec<Record>,
    now: Timestamp,
    conn: &mut Connection,
    state: &mut State,
) {
    let liid = header.lawful_interception_identifier;
    let cin = header
        .communication_identifier
        .communication_identity_number;
    let iri = records.iter().filter(|r| r.kind == Kind::Iri).count() as u64;
    let cc = records.len() as u64 - iri;
    conn.stats.iri += iri;
    conn.stats.cc += cc;
    let sequencing = sequence(conn, state, liid, cin, header.sequence_number, iri, cc);
    let repeat = sequencing == Sequencing::Repeat;
    for record in records {
        let time = record.time.unwrap_or(now);
        if let Some(packet) = &record.packet {
            conn.batch
                .pcap_record(liid, time, &packet.data, packet.original_len);
        }
        let line = record.to_json(conn.interface, header, repeat);
        conn.batch.records.extend_from_slice(line.as_bytes());
        conn.batch.records.push(b'\n');
        if let Some(kind) = record.voice {
            conn.batch.voice.push(VoiceRecord {
                liid,
                cin,
                seq: header.sequence_number,
                time,
                repeat,
                kind,
            });
        }
    }
}

/// Moves the sequence of (interface, `liid`, `cin`) on to `seq`, counting `iri` and `cc`
/// records, and logs a gap or a repeat.
fn sequence(
    conn: &mut Connection,
    state: &mut State,
    liid: Liid,
    cin: Option<u32>,
    seq: u32,
    iri: u64,
    cc: u64,
) -> Sequencing {
    let key = SequenceKey {
        interface: conn.interface,
        liid,
        cin,
    };
    let sequencing = state.account(key, seq, iri, cc);
    match sequencing {
        Sequencing::Gap { first, last } => {
            let gap = SequenceGap {
                interface: conn.interface,
                cin,
                first,
                last,
            };
            conn.stats.missing += gap.missing();
            tracing::warn!(
                peer = %conn.peer, interface = %conn.interface, %liid, ?cin, first, last,
                "sequence gap"
            );
        }
        Sequencing::Repeat => {
            conn.stats.repeats += 1;
            tracing::debug!(
                peer = %conn.peer, interface = %conn.interface, %liid, ?cin, seq,
                "repeated sequence number"
            );
        }
        Sequencing::First | Sequencing::InOrder => {}
    }
    sequencing
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        lock_state(&self.state)
    }
}

fn lock_state(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // The state stays consistent at every statement, so a panicked holder leaves it usable.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn output_error(error: &OutputError) -> ReceiverError {
    ReceiverError::Output {
        path: error.path.clone(),
        source: error.to_io(),
    }
}

/// Per-connection context.
struct Connection {
    peer: SocketAddr,
    interface: Interface,
    stats: ConnectionStats,
    /// Records formatted and not yet handed to the writer.
    batch: Batch,
    fast: FastPath,
    lines: LineWriter,
    latency: LocalLatency,
    /// Stream offset of the first octet not yet framed.
    offset: u64,
    /// PacketCable call data arrived: the peer sends no keep-alives.
    packetcable: bool,
}

/// Keep-aliveResponses waiting for a sync.
struct PendingSync {
    rx: oneshot::Receiver<Result<(), OutputError>>,
    responses: Vec<u8>,
}

/// The writer's answer to a sync.
type Synced = Result<Result<(), OutputError>, oneshot::error::RecvError>;

/// What a connection waited for.
enum Event<R> {
    /// [`Receiver::shutdown`] was called.
    Stop,
    /// The oldest pending sync completed.
    Synced(Synced),
    /// A read completed (or timed out).
    Read(R),
}

/// The keep-alive count and latency histogram of one interface, shared by its connections.
#[derive(Default)]
struct SharedInterfaceStats {
    keep_alives: AtomicU64,
    /// Per bucket, not cumulative; the last is `+Inf`.
    buckets: [AtomicU64; 14],
    sum_micros: AtomicU64,
}

impl SharedInterfaceStats {
    fn snapshot(&self) -> InterfaceStats {
        let mut latency = LatencyHistogram::default();
        let mut total = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            total += bucket.load(Ordering::Relaxed);
            if let Some(b) = latency.buckets.get_mut(i) {
                *b = total;
            }
        }
        latency.count = total;
        latency.sum_micros = self.sum_micros.load(Ordering::Relaxed);
        InterfaceStats {
            keep_alives: self.keep_alives.load(Ordering::Relaxed),
            latency,
        }
    }
}

/// Latencies observed while processing one read, added to the shared histogram after it.
#[derive(Default)]
struct LocalLatency {
    buckets: [u64; 14],
    sum_micros: u64,
    any: bool,
}

impl LocalLatency {
    fn observe(&mut self, now: Timestamp, sent: Option<Timestamp>) {
        let Some(sent) = sent else {
            return;
        };
        let micros = now.unix_micros().saturating_sub(sent.unix_micros());
        let i = BUCKET_MICROS.partition_point(|&bound| bound < micros);
        if let Some(b) = self.buckets.get_mut(i) {
            *b += 1;
        }
        self.sum_micros = self.sum_micros.saturating_add(micros);
        self.any = true;
    }

    fn merge_into(&mut self, shared: &SharedInterfaceStats) {
        if !self.any {
            return;
        }
        for (local, shared) in self.buckets.iter_mut().zip(&shared.buckets) {
            if *local > 0 {
                shared.fetch_add(*local, Ordering::Relaxed);
                *local = 0;
            }
        }
        shared
            .sum_micros
            .fetch_add(self.sum_micros, Ordering::Relaxed);
        self.sum_micros = 0;
        self.any = false;
    }
}

/// A sequence of PDUs: TS 102 232-1 clause 5.2.5 numbers PDUs per LIID and CIN; each
/// interface is its own stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct SequenceKey {
    interface: Interface,
    liid: Liid,
    cin: Option<u32>,
}

/// Where a sequence number stands relative to the last one of its sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sequencing {
    /// The first PDU of the sequence: sets the expectation.
    First,
    /// The last one plus one (2^32-1 is followed by 0).
    InOrder,
    /// Ahead of the expected one: `first..=last` are missing.
    Gap { first: u32, last: u32 },
    /// At or before the last one (a re-sent window, or a duplicate).
    Repeat,
}

/// Classifies `seq` after `last`, in serial-number arithmetic (RFC 1982) so the wrap at
/// 2^32-1 is handled: up to 2^31-1 ahead of the expected number is a gap, anything else
/// is at or before the last one.
fn classify(last: Option<u32>, seq: u32) -> Sequencing {
    let Some(last) = last else {
        return Sequencing::First;
    };
    let expected = last.wrapping_add(1);
    match seq.wrapping_sub(expected) {
        0 => Sequencing::InOrder,
        ahead if ahead < 1 << 31 => Sequencing::Gap {
            first: expected,
            last: seq.wrapping_sub(1),
        },
        _ => Sequencing::Repeat,
    }
}

#[derive(Default)]
struct State {
    /// The last sequence number of each sequence.
    sequences: HashMap<SequenceKey, u32>,
    liids: BTreeMap<Liid, LiidSummary>,
    unattributed_decode_errors: u64,
    /// PacketCable CCC identifiers bound to calls, and datagrams waiting for theirs.
    ccc: packetcable::CccTable,
    /// PacketCable calls whose `callId` is not a CIN.
    pc_calls: packetcable::CallCins,
}

impl State {
    /// Counts one PDU of `iri` IRI and `cc` CC records and moves its sequence on.
    fn account(&mut self, key: SequenceKey, seq: u32, iri: u64, cc: u64) -> Sequencing {
        let last = self.sequences.get_mut(&key);
        let sequencing = classify(last.as_deref().copied(), seq);
        if sequencing != Sequencing::Repeat {
            match last {
                Some(last) => *last = seq,
                None => {
                    self.sequences.insert(key, seq);
                }
            }
        }
        let s = self.liids.entry(key.liid).or_default();
        s.iri += iri;
        s.cc += cc;
        match sequencing {
            Sequencing::Gap { first, last } => {
                let gap = SequenceGap {
                    interface: key.interface,
                    cin: key.cin,
                    first,
                    last,
                };
                s.gaps += gap.missing();
                if s.gap_ranges.len() < MAX_GAP_RANGES {
                    s.gap_ranges.push(gap);
                }
            }
            Sequencing::Repeat => s.repeats += 1,
            Sequencing::First | Sequencing::InOrder => {}
        }
        sequencing
    }

    /// Counts records that carry no sequence number (ATIS-1000013 CmII).
    fn count(&mut self, liid: Liid, iri: u64, cc: u64) {
        let s = self.liids.entry(liid).or_default();
        s.iri += iri;
        s.cc += cc;
    }

    fn decode_error(&mut self, liid: Option<Liid>) {
        match liid {
            Some(liid) => self.liids.entry(liid).or_default().decode_errors += 1,
            None => self.unattributed_decode_errors += 1,
        }
    }

    fn pcap_written(&mut self, liid: Liid, path: PathBuf) {
        let s = self.liids.entry(liid).or_default();
        if s.pcap_path.is_none() {
            s.pcap_path = Some(path);
        }
    }
}

/// The fields of one CC line.
struct CcLine {
    interface: Interface,
    liid: Liid,
    cin: Option<u32>,
    seq: u32,
    time: Option<Timestamp>,
    direction: Option<PayloadDirection>,
    packet_len: Option<usize>,
    repeat: bool,
}

impl CcLine {
    /// The line of a CC PDU read by the fast path.
    fn fast(cc: &FastCc<'_>, interface: Interface, repeat: bool) -> Self {
        Self {
            interface,
            liid: cc.liid,
            cin: cc.cin,
            seq: cc.seq,
            time: cc.time,
            direction: cc.direction,
            // As the full decoder's line: an IPMMCC has no IP packet length.
            packet_len: cc.media.is_none().then_some(cc.packet.len()),
            repeat,
        }
    }
}

/// Writes CC JSON lines without building a JSON value: the same text as
/// [`Record::to_json`] (keys in alphabetical order, as `serde_json` writes a map), with the
/// LIID's JSON string and the date and time up to the second remembered.
#[derive(Default)]
struct LineWriter {
    /// LIID -> its text form as a JSON string.
    liids: HashMap<Liid, Vec<u8>>,
    /// The second of `second_text`.
    second: Option<u64>,
    /// `YYYY-MM-DDThh:mm:ss.` of `second`.
    second_text: Vec<u8>,
}

impl LineWriter {
    /// LIIDs remembered at most; beyond, the memory is cleared.
    const MAX_LIIDS: usize = 1024;

    fn cc_line(&mut self, out: &mut Vec<u8>, line: &CcLine) {
        out.extend_from_slice(b"{\"cin\":");
        match line.cin {
            Some(cin) => decimal(out, u64::from(cin)),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"direction\":");
        match line.direction {
            None => out.extend_from_slice(b"null"),
            Some(d) => match d.asn1_name() {
                Some(name) => {
                    out.push(b'"');
                    out.extend_from_slice(name.as_bytes());
                    out.push(b'"');
                }
                None => {
                    let v = d.value();
                    if v < 0 {
                        out.push(b'-');
                    }
                    decimal(out, v.unsigned_abs());
                }
            },
        }
        out.extend_from_slice(b",\"interface\":\"");
        out.extend_from_slice(line.interface.as_str().as_bytes());
        out.extend_from_slice(b"\",\"kind\":\"cc\",\"liid\":");
        self.liid(out, line.liid);
        out.extend_from_slice(b",\"packet_len\":");
        match line.packet_len {
            Some(len) => decimal(out, len as u64),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(if line.repeat {
            b",\"repeat\":true,\"seq\":"
        } else {
            b",\"repeat\":false,\"seq\":"
        });
        decimal(out, u64::from(line.seq));
        out.extend_from_slice(b",\"time\":");
        match line.time {
            Some(time) => {
                out.push(b'"');
                self.time(out, time);
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b"}\n");
    }

    fn liid(&mut self, out: &mut Vec<u8>, liid: Liid) {
        if let Some(text) = self.liids.get(&liid) {
            out.extend_from_slice(text);
            return;
        }
        let mut text = Vec::new();
        if serde_json::to_writer(&mut text, &liid.to_string()).is_err() {
            text = b"null".to_vec();
        }
        out.extend_from_slice(&text);
        if self.liids.len() >= Self::MAX_LIIDS {
            self.liids.clear();
        }
        self.liids.insert(liid, text);
    }

    /// `time` as [`Timestamp`]'s `Display` writes it: `2024-01-02T03:04:05.678901Z`.
    fn time(&mut self, out: &mut Vec<u8>, time: Timestamp) {
        let second = time.unix_secs();
        if self.second != Some(second) {
            let u = time.to_utc();
            self.second_text.clear();
            // Writing to a Vec cannot fail.
            let _ = write!(
                self.second_text,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.",
                u.year, u.month, u.day, u.hour, u.minute, u.second
            );
            self.second = Some(second);
        }
        out.extend_from_slice(&self.second_text);
        let micros = time.subsec_micros();
        let mut digits = [b'0'; 6];
        let mut rest = micros;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.extend_from_slice(&digits);
        out.push(b'Z');
    }
}

/// Appends `n` in decimal.
fn decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Iri,
    Cc,
}

/// One IRI or CC record of a PDU decoded by the full decoder, ready to be logged.
struct Record {
    kind: Kind,
    /// The record's own time, else the PDU's.
    time: Option<Timestamp>,
    /// The kind-specific JSON fields.
    fields: Vec<(&'static str, Value)>,
    /// The IP packet of an IPCC record.
    packet: Option<Packet>,
    /// What an IP multimedia record gives its call's files.
    voice: Option<VoiceKind>,
}

struct Packet {
    data: Vec<u8>,
    original_len: usize,
}

impl Record {
    /// The record of an IRIPayload; an IPMMIRI's octets for its call go to `batch`.
    fn iri(header: &PsHeader, item: IriPayload, batch: &mut Batch) -> Self {
        let time = time_of(
            item.micro_second_time_stamp,
            item.time_stamp.as_ref(),
            header,
        );
        let iri_type = item.iri_type;
        let mut voice = None;
        let (access_event, username) = match item.iri_contents {
            IriContents::IpIri(ip) => {
                let event = ip.contents.access_event_type;
                let name = event
                    .asn1_name()
                    .map_or_else(|| json!(event.value()), |n| json!(n));
                let user = String::from_utf8_lossy(&ip.contents.target_username).into_owned();
                (name, json!(user))
            }
            IriContents::IpmmIri(iri) => {
                voice = Some(voice_of_iri(iri_type, iri.contents, batch));
                (Value::Null, Value::Null)
            }
            _ => (Value::Null, Value::Null),
        };
        Self {
            kind: Kind::Iri,
            time,
            fields: vec![
                ("iri_type", json!(iri_type.map(|t| t.asn1_name()))),
                ("access_event", access_event),
                ("username", username),
            ],
            packet: None,
            voice,
        }
    }

    /// The record of a CCPayload; an IPMMCC's octets for its call go to `batch`.
    fn cc(header: &PsHeader, item: CcPayload, batch: &mut Batch) -> Self {
        let time = time_of(
            item.micro_second_time_stamp,
            item.time_stamp.as_ref(),
            header,
        );
        let direction = item.payload_direction.map_or(Value::Null, |d| {
            d.asn1_name().map_or_else(|| json!(d.value()), |n| json!(n))
        });
        let mut truncated = false;
        let mut voice = None;
        let packet = match item.cc_contents {
            CcContents::IpmmCc(cc) => {
                voice = Some(VoiceKind::Media {
                    direction: item.payload_direction,
                    frame_type: cc.frame_type,
                    stream: cc.stream_identifier.map(|id| batch.voice_octets(&id)),
                    protocol: cc.protocol,
                    packet: batch.voice_octets(&cc.contents),
                });
                None
            }
            CcContents::IpCc(ip) => match ip.contents {
                IpCcContents::IpPackets(data) => Some(Packet {
                    original_len: data.len(),
                    data,
                }),
                IpCcContents::IpTruncatedPacket {
                    truncated_packet,
                    original_length,
                } => {
                    truncated = true;
                    Some(Packet {
                        original_len: original_length
                            .and_then(|l| usize::try_from(l).ok())
                            .unwrap_or(truncated_packet.len()),
                        data: truncated_packet,
                    })
                }
                _ => None,
            },
            _ => None,
        };
        let mut fields = vec![
            ("direction", direction),
            ("packet_len", json!(packet.as_ref().map(|p| p.original_len))),
        ];
        if truncated {
            fields.push(("truncated", json!(true)));
            fields.push(("captured_len", json!(packet.as_ref().map(|p| p.data.len()))));
        }
        Self {
            kind: Kind::Cc,
            time,
            fields,
            packet,
            voice,
        }
    }

    /// The JSON line (without its newline).
    fn to_json(&self, interface: Interface, header: &PsHeader, repeat: bool) -> String {
        let mut object = serde_json::Map::new();
        object.insert("interface".into(), json!(interface.as_str()));
        object.insert(
            "liid".into(),
            json!(header.lawful_interception_identifier.to_string()),
        );
        object.insert(
            "cin".into(),
            json!(
                header
                    .communication_identifier
                    .communication_identity_number
            ),
        );
        object.insert("seq".into(), json!(header.sequence_number));
        object.insert("time".into(), json!(self.time.map(|t| t.to_string())));
        let kind = match self.kind {
            Kind::Iri => "iri",
            Kind::Cc => "cc",
        };
        object.insert("kind".into(), json!(kind));
        for (name, value) in &self.fields {
            object.insert((*name).into(), value.clone());
        }
        object.insert("repeat".into(), json!(repeat));
        Value::Object(object).to_string()
    }
}

/// What the call's files take of an IPMMIRI's contents.
fn voice_of_iri(
    iri_type: Option<li_asn1::IriType>,
    contents: IpmmIriContents,
    batch: &mut Batch,
) -> VoiceKind {
    let (iri_only, message) = match contents {
        IpmmIriContents::SipMessage(m) => (false, m),
        IpmmIriContents::IriOnlySipMessage(m) => (true, m),
        other => {
            let content = match other {
                IpmmIriContents::OriginalIpmmMessage(_) => "originalIPMMMessage",
                IpmmIriContents::H323Message(_) => "h323Message",
                IpmmIriContents::NationalIpmmIriParameters(_) => "nationalIPMMIRIParameters",
                IpmmIriContents::XcapMessage(_) => "xCAPMessage",
                IpmmIriContents::IriOnlyOriginalIpmmMessage(_) => "iRIOnlyOriginalIPMMMessage",
                _ => "unknown",
            };
            return VoiceKind::OtherIri { iri_type, content };
        }
    };
    VoiceKind::Sip {
        iri_type,
        iri_only,
        source: ip_of(&message.ip_source_address),
        destination: ip_of(&message.ip_destination_address),
        message: batch.voice_octets(&message.sip_content),
    }
}

/// An `IPAddress` as an address, if it is a binary IPv4/IPv6 or a parseable text one.
fn ip_of(address: &li_asn1::pdu::IpAddress) -> Option<std::net::IpAddr> {
    match &address.ip_value {
        li_asn1::pdu::IpValue::Binary(b) => match b.len() {
            4 => <[u8; 4]>::try_from(b.as_slice())
                .ok()
                .map(std::net::IpAddr::from),
            16 => <[u8; 16]>::try_from(b.as_slice())
                .ok()
                .map(std::net::IpAddr::from),
            _ => None,
        },
        li_asn1::pdu::IpValue::Text(t) => t.parse().ok(),
        _ => None,
    }
}

/// The most precise time of a record: its own (aggregated payloads, clause 6.2.3), else the
/// PSHeader's, `microSecondTimeStamp` before `timeStamp`.
fn time_of(
    micro: Option<li_asn1::pdu::MicroSecondTimeStamp>,
    generalized: Option<&li_asn1::GeneralizedTime>,
    header: &PsHeader,
) -> Option<Timestamp> {
    micro
        .and_then(|m| m.to_timestamp())
        .or_else(|| generalized.map(li_asn1::GeneralizedTime::timestamp))
        .or_else(|| {
            header
                .micro_second_time_stamp
                .and_then(|m| m.to_timestamp())
        })
        .or_else(|| header.time_stamp.as_ref().map(|t| t.timestamp()))
}

/// The LIID of a PDU that does not decode, if its PSHeader's `lawfulInterceptionIdentifier`
/// can still be read.
fn liid_of_undecodable(frame: &[u8]) -> Option<Liid> {
    fn child<'a>(parent: &Tlv<'a>, number: u32) -> Option<Tlv<'a>> {
        let mut children = parent.children("PS-PDU").ok()?;
        while let Ok(Some(c)) = children.next_tlv() {
            if c.tag.context_number() == Some(number) {
                return Some(c);
            }
        }
        None
    }
    let pdu = Reader::new(frame).read().ok()?;
    let header = child(&pdu, 1)?;
    let liid = child(&header, 1)?;
    Liid::new(&liid.octets("PSHeader.lawfulInterceptionIdentifier").ok()?).ok()
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use li_asn1::ber::{Tag, Writer};
    use li_asn1::{CcEncoder, HeaderSettings};
    use li_core::{
        AccessEvent, AccessEventType, Cin, IriEvent, IriRecord, IriType, OperatorId, Xid,
    };
    use tokio::net::TcpStream;
    use tokio::task::JoinHandle;

    use super::output::sanitize_file_stem;
    use super::*;

    /// A fresh output directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("li-lemf-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Appends a CC PS-PDU (from the target) to `out`.
    fn push_cc(
        out: &mut Vec<u8>,
        s: &HeaderSettings,
        cin: u32,
        seq: u32,
        time: Timestamp,
        packet: &[u8],
    ) {
        s.ip_cc_pdu(
            Cin::new(cin),
            seq,
            time,
            PayloadDirection::FromTarget,
            packet,
        )
        .encode_into(out);
    }

    fn settings(liid: &str) -> HeaderSettings {
        HeaderSettings::new(
            Liid::new(liid.as_bytes()).unwrap(),
            OperatorId::new(b"OPERATOR").unwrap(),
        )
    }

    fn time(n: u64) -> Timestamp {
        Timestamp::from_secs_micros(1_704_164_645 + n, 123_456).unwrap()
    }

    fn packet(n: u8, len: usize) -> Vec<u8> {
        let mut p = vec![
            0x45, 0, 0, 20, 0, n, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, n,
        ];
        p.resize(len, n);
        p
    }

    fn iri_pdu(s: &HeaderSettings, seq: u32, cin: u32, user: &str) -> PsPdu {
        let mut event = AccessEvent::new(AccessEventType::AccessAccept);
        event.username = user.as_bytes().to_vec();
        let record = IriRecord {
            xid: Xid::from_bytes([7; 16]),
            cin: Cin::new(cin),
            timestamp: time(u64::from(seq)),
            iri_type: IriType::Begin,
            event: IriEvent::Access(event),
        };
        s.iri_pdu(seq, &record).unwrap()
    }

    /// A receiver handling the one connection accepted on a fresh port.
    async fn accept_one(
        receiver: &Receiver,
        interface: Interface,
    ) -> (
        SocketAddr,
        JoinHandle<Result<ConnectionStats, ReceiverError>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let receiver = receiver.clone();
        let task = tokio::spawn(async move {
            let (tcp, peer) = listener.accept().await.unwrap();
            receiver.handle(tcp, peer, interface).await
        });
        (addr, task)
    }

    /// Writes `bytes` in pieces of awkward sizes (1, 2, 3, 5, 7, 11, 13 ... octets), each
    /// a separate write.
    async fn send_split(stream: &mut TcpStream, bytes: &[u8]) {
        stream.set_nodelay(true).unwrap();
        let sizes = [1, 2, 3, 5, 7, 11, 13, 17, 64, 1, 200, 4];
        let mut rest = bytes;
        for size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, tail) = rest.split_at((*size).min(rest.len()));
            stream.write_all(piece).await.unwrap();
            stream.flush().await.unwrap();
            tokio::task::yield_now().await;
            rest = tail;
        }
    }

    /// Reads until the peer closes and decodes the PDUs it sent.
    async fn read_pdus(stream: &mut TcpStream) -> Vec<PsPdu> {
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).await.unwrap();
        let mut pdus = Vec::new();
        let mut rest = &bytes[..];
        while let Some(len) = frame_len(rest, DEFAULT_MAX_PDU_LEN).unwrap() {
            pdus.push(PsPdu::decode(&rest[..len]).unwrap());
            rest = &rest[len..];
        }
        assert!(rest.is_empty());
        pdus
    }

    /// Reads until one whole PDU has arrived and decodes it.
    async fn read_one_pdu<R: AsyncRead + Unpin>(stream: &mut R) -> PsPdu {
        let mut bytes = Vec::new();
        loop {
            if let Some(len) = frame_len(&bytes, DEFAULT_MAX_PDU_LEN).unwrap() {
                assert_eq!(len, bytes.len(), "one PDU only");
                return PsPdu::decode(&bytes).unwrap();
            }
            assert!(
                stream.read_buf(&mut bytes).await.unwrap() > 0,
                "closed early"
            );
        }
    }

    fn jsonl(receiver: &Receiver) -> Vec<Value> {
        std::fs::read_to_string(&receiver.summary().records_path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// (seconds, microseconds, original length, data) of each record of a pcap file,
    /// after checking the global header.
    fn parse_pcap(bytes: &[u8]) -> Vec<(u32, u32, u32, Vec<u8>)> {
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        assert_eq!(u32_at(0), 0xa1b2_c3d4, "magic: microsecond, little-endian");
        assert_eq!(&bytes[4..8], &[2, 0, 4, 0], "version 2.4");
        assert_eq!(u32_at(20), 101, "LINKTYPE_RAW");
        let mut records = Vec::new();
        let mut at = 24;
        while at < bytes.len() {
            let incl = u32_at(at + 8) as usize;
            let data = bytes[at + 16..at + 16 + incl].to_vec();
            records.push((u32_at(at), u32_at(at + 4), u32_at(at + 12), data));
            at += 16 + incl;
        }
        assert_eq!(at, bytes.len());
        records
    }

    #[test]
    fn sequence_numbers_are_classified_with_the_wrap() {
        assert_eq!(classify(None, 17), Sequencing::First);
        assert_eq!(classify(Some(4), 5), Sequencing::InOrder);
        assert_eq!(classify(Some(u32::MAX), 0), Sequencing::InOrder);
        assert_eq!(classify(Some(4), 8), Sequencing::Gap { first: 5, last: 7 });
        assert_eq!(
            classify(Some(u32::MAX - 1), 1),
            Sequencing::Gap {
                first: u32::MAX,
                last: 0
            }
        );
        assert_eq!(classify(Some(4), 4), Sequencing::Repeat);
        assert_eq!(classify(Some(4), 0), Sequencing::Repeat);
        assert_eq!(
            classify(Some(2), u32::MAX),
            Sequencing::Repeat,
            "before the wrap"
        );
        let gap = SequenceGap {
            interface: Interface::Hi3,
            cin: None,
            first: u32::MAX,
            last: 0,
        };
        assert_eq!(gap.missing(), 2);
    }

    #[test]
    fn a_torn_last_record_is_cut_off_before_appending() {
        use super::output::{Layout, repair_tail};
        let dir = TempDir::new("torn");
        std::fs::create_dir_all(&dir.0).unwrap();
        // JSON lines: a line cut mid-way by a kill.
        let lines = dir.0.join(RECORDS_FILE);
        std::fs::write(&lines, "{\"a\":1}\n{\"b\":2}\n{\"c\":").unwrap();
        assert_eq!(repair_tail(&lines, Layout::Lines).unwrap(), 5);
        assert_eq!(std::fs::read(&lines).unwrap(), b"{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(
            repair_tail(&lines, Layout::Lines).unwrap(),
            0,
            "whole lines are kept"
        );
        std::fs::write(&lines, "no newline at all").unwrap();
        assert_eq!(repair_tail(&lines, Layout::Lines).unwrap(), 17);
        // pcap: two whole records, then a third cut inside its data.
        let pcap = dir.0.join("L.pcap");
        let mut bytes = vec![0u8; 24];
        for len in [10u32, 20] {
            let mut header = [0u8; 16];
            header[8..12].copy_from_slice(&len.to_le_bytes());
            bytes.extend_from_slice(&header);
            bytes.extend(std::iter::repeat_n(7u8, len as usize));
        }
        let whole = bytes.len();
        let mut header = [0u8; 16];
        header[8..12].copy_from_slice(&30u32.to_le_bytes());
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(&[1, 2, 3]);
        std::fs::write(&pcap, &bytes).unwrap();
        assert_eq!(repair_tail(&pcap, Layout::Pcap).unwrap(), 19);
        assert_eq!(std::fs::read(&pcap).unwrap(), &bytes[..whole]);
        // A receiver opening the directory repairs records.jsonl before appending to it.
        std::fs::write(&lines, "{\"a\":1}\n{\"torn").unwrap();
        let _receiver = Receiver::new(ReceiverConfig::new(&dir.0)).unwrap();
        assert_eq!(std::fs::read(&lines).unwrap(), b"{\"a\":1}\n");
    }

    #[test]
    fn file_names_are_sanitised() {
        assert_eq!(sanitize_file_stem("LIID-0001.a_b"), "LIID-0001.a_b");
        assert_eq!(
            sanitize_file_stem("../x y/é"),
            ".._x_y__~2e2e2f7820792fc3a9"
        );
        assert_eq!(sanitize_file_stem("hex:01ff"), "hex_01ff~6865783a30316666");
        // Two LIIDs never share a file.
        assert_ne!(sanitize_file_stem("A/B"), sanitize_file_stem("A_B"));
    }

    #[tokio::test]
    async fn hi3_stream_is_recorded_to_jsonl_and_pcap_and_keep_alive_answered() {
        let dir = TempDir::new("hi3");
        let receiver = Receiver::new(ReceiverConfig::new(&dir.0)).unwrap();
        let (addr, task) = accept_one(&receiver, Interface::Hi3).await;
        let s = settings("LIID/0001");
        let packets = [packet(1, 20), packet(2, 333), packet(3, 1500)];
        let keep_alive = s.tri_pdu(0, time(9), TriPayload::KeepAlive);
        let mut stream = Vec::new();
        push_cc(&mut stream, &s, 5, 0, time(0), &packets[0]);
        s.ip_cc_pdu(
            Cin::new(5),
            1,
            time(1),
            PayloadDirection::ToTarget,
            &packets[1],
        )
        .encode_into(&mut stream);
        keep_alive.encode_into(&mut stream);
        push_cc(&mut stream, &s, 5, 2, time(2), &packets[2]);

        let mut client = TcpStream::connect(addr).await.unwrap();
        send_split(&mut client, &stream).await;
        client.shutdown().await.unwrap();
        let stats = task.await.unwrap().unwrap();
        let responses = read_pdus(&mut client).await;

        assert_eq!(
            responses,
            vec![PsPdu {
                header: keep_alive.header.clone(),
                payload: Payload::TriPayload(TriPayload::KeepAliveResponse),
            }]
        );
        assert_eq!(stats.octets, stream.len() as u64);
        assert_eq!((stats.pdus, stats.cc, stats.iri), (4, 3, 0));
        assert_eq!((stats.keep_alives, stats.missing, stats.repeats), (1, 0, 0));

        let line = |seq: u32, t: &str, dir: &str, len: usize| {
            json!({
                "interface": "HI3", "liid": "LIID/0001", "cin": 5, "seq": seq, "time": t,
                "kind": "cc", "direction": dir, "packet_len": len, "repeat": false,
            })
        };
        assert_eq!(
            jsonl(&receiver),
            vec![
                line(0, "2024-01-02T03:04:05.123456Z", "fromTarget", 20),
                line(1, "2024-01-02T03:04:06.123456Z", "toTarget", 333),
                line(2, "2024-01-02T03:04:07.123456Z", "fromTarget", 1500),
            ]
        );

        let summary = receiver.summary();
        let liid = summary.liids.get(&s.liid).unwrap();
        let pcap_path = liid.pcap_path.clone().unwrap();
        assert_eq!(
            pcap_path.file_name().unwrap(),
            "LIID_0001~4c4949442f30303031.pcap"
        );
        let records = parse_pcap(&std::fs::read(&pcap_path).unwrap());
        let expected: Vec<_> = packets
            .iter()
            .zip(0..)
            .map(|(p, n)| (1_704_164_645 + n, 123_456, p.len() as u32, p.clone()))
            .collect();
        assert_eq!(records, expected);
        assert_eq!((liid.cc, liid.iri, liid.gaps, liid.repeats), (3, 0, 0, 0));
        let table = summary.to_string();
        assert!(table.contains("LIID/0001"), "{table}");
        assert!(
            table.contains("LIID_0001~4c4949442f30303031.pcap"),
            "{table}"
        );
    }

    /// The CI flake of stop 16: a receiver stopped while its peer still held the connection
    /// open reported CC it had not written yet. `shutdown` makes the connection store what it
    /// holds, and the files then agree with the summary.
    #[tokio::test]
    async fn shutdown_stores_everything_counted_while_the_peer_stays_connected() {
        let dir = TempDir::new("shutdown");
        let receiver = Receiver::new(ReceiverConfig::new(&dir.0)).unwrap();
        let (addr, task) = accept_one(&receiver, Interface::Hi3).await;
        let s = settings("LIID/STOP");
        let packets: Vec<Vec<u8>> = (0..50).map(|n| packet(n, 100)).collect();
        let mut stream = Vec::new();
        for (seq, p) in (0..).zip(&packets) {
            push_cc(&mut stream, &s, 1, seq, time(u64::from(seq)), p);
        }
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&stream).await.unwrap();
        // Counted, but no keep-alive asked for a sync: the records wait in the writer's
        // buffers while the peer stays connected.
        receiver
            .wait_for(|summary| summary.liids.get(&s.liid).map(|l| l.cc) == Some(50))
            .await;

        receiver.shutdown().await.unwrap();

        let stats = task.await.unwrap().unwrap();
        assert_eq!(stats.cc, 50);
        let summary = receiver.summary();
        let pcap_path = summary.liids[&s.liid].pcap_path.clone().unwrap();
        let stored: Vec<Vec<u8>> = parse_pcap(&std::fs::read(&pcap_path).unwrap())
            .into_iter()
            .map(|(_, _, _, data)| data)
            .collect();
        assert_eq!(stored, packets);
        assert_eq!(jsonl(&receiver).len(), 50);
        // A connection accepted after the stop is closed at once.
        let (addr, task) = accept_one(&receiver, Interface::Hi3).await;
        let mut late = TcpStream::connect(addr).await.unwrap();
        late.write_all(&stream).await.unwrap();
        assert_eq!(task.await.unwrap().unwrap().cc, 0);
        drop(client);
    }

    #[tokio::test]
    async fn hi2_gaps_repeats_and_the_wrap_are_tracked_per_cin() {
        let dir = TempDir::new("hi2");
        let receiver = Receiver::new(ReceiverConfig::new(&dir.0)).unwrap();
        let (addr, task) = accept_one(&receiver, Interface::Hi2).await;
        let s = settings("LIID-0002");
        let mut stream = Vec::new();
        // CIN 7: 0 1 [2 3 missing] 4, then 2 and 3 re-sent, then 5.
        for seq in [0, 1, 4, 2, 3, 5] {
            iri_pdu(&s, seq, 7, "alice@example.net").encode_into(&mut stream);
        }
        // CIN 8 starts just before the wrap (no gap: the first PDU sets the expectation) and
        // wraps in order.
        for seq in [u32::MAX - 1, u32::MAX, 0, 1] {
            iri_pdu(&s, seq, 8, "bob").encode_into(&mut stream);
        }
        // CIN 9 skips over the wrap.
        for seq in [u32::MAX - 1, 1] {
            iri_pdu(&s, seq, 9, "carol").encode_into(&mut stream);
        }
        let mut client = TcpStream::connect(addr).await.unwrap();
        send_split(&mut client, &stream).await;
        client.shutdown().await.unwrap();
        let stats = task.await.unwrap().unwrap();

        assert_eq!((stats.iri, stats.missing, stats.repeats), (12, 4, 2));
        let summary = receiver.summary();
        let liid = summary.liids.get(&s.liid).unwrap();
        assert_eq!((liid.iri, liid.cc, liid.gaps, liid.repeats), (12, 0, 4, 2));
        let gap = |cin, first, last| SequenceGap {
            interface: Interface::Hi2,
            cin: Some(cin),
            first,
            last,
        };
        assert_eq!(liid.gap_ranges, vec![gap(7, 2, 3), gap(9, u32::MAX, 0)]);
        assert_eq!(liid.pcap_path, None);

        let lines = jsonl(&receiver);
        assert_eq!(lines.len(), 12);
        assert_eq!(
            lines[3],
            json!({
                "interface": "HI2", "liid": "LIID-0002", "cin": 7, "seq": 2,
                "time": "2024-01-02T03:04:07.123456Z", "kind": "iri", "iri_type": "iRI-Begin",
                "access_event": "accessAccept", "username": "alice@example.net", "repeat": true,
            })
        );
        let repeats: Vec<_> = lines.iter().map(|l| l["repeat"] == json!(true)).collect();
        assert_eq!(
            repeats,
            [
                false, false, false, true, true, false, false, false, false, false, false, false
            ]
        );
        assert_eq!(lines[10]["username"], json!("carol"));
    }

    #[tokio::test]
    async fn a_pdu_that_does_not_decode_is_counted_and_the_stream_goes_on() {
        let dir = TempDir::new("garbage");
        let receiver = Receiver::new(ReceiverConfig::new(&dir.0)).unwrap();
        let (addr, task) = accept_one(&receiver, Interface::Hi3).await;
        let s = settings("LIID-0003");
        let first = s.ip_cc_pdu(
            Cin::new(1),
            0,
            time(0),
            PayloadDirection::FromTarget,
            &packet(1, 40),
        );
        let last = s.ip_cc_pdu(
            Cin::new(1),
            1,
            time(1),
            PayloadDirection::ToTarget,
            &packet(2, 60),
        );

        // A SEQUENCE holding an INTEGER: frames, has no PSHeader.
        let anonymous = [0x30, 0x03, 0x02, 0x01, 0x05];
        // A real PSHeader with a CC payload sequence holding an INTEGER: the LIID is readable.
        let encoded = first.encode();
        let outer = Reader::new(&encoded).read().unwrap();
        let header = outer.children("t").unwrap().next_tlv().unwrap().unwrap();
        let mut w = Writer::new();
        w.constructed(Tag::SEQUENCE, |w| {
            w.raw(&encoded[header.offset..header.offset + header.encoded_len]);
            w.constructed(Tag::context_constructed(2), |w| {
                w.constructed(Tag::context_constructed(1), |w| w.u64(Tag::INTEGER, 9));
            });
        });
        let attributed = w.into_vec();
        assert!(PsPdu::decode(&attributed).is_err());

        let mut stream = first.encode();
        let garbage_offset = stream.len();
        stream.extend_from_slice(&anonymous);
        stream.extend_from_slice(&attributed);
        last.encode_into(&mut stream);
        let mut client = TcpStream::connect(addr).await.unwrap();
        send_split(&mut client, &stream).await;
        client.shutdown().await.unwrap();
        let stats = task.await.unwrap().unwrap();

        assert!(garbage_offset > 0);
        assert_eq!((stats.pdus, stats.cc, stats.decode_errors), (4, 2, 2));
        assert_eq!((stats.missing, stats.repeats), (0, 0));
        let summary = receiver.summary();
        assert_eq!(summary.unattributed_decode_errors, 1);
        let liid = summary.liids.get(&s.liid).unwrap();
        assert_eq!((liid.cc, liid.decode_errors, liid.gaps), (2, 1, 0));
        let seqs: Vec<_> = jsonl(&receiver).iter().map(|l| l["seq"].clone()).collect();
        assert_eq!(seqs, [json!(0), json!(1)]);
        let records = parse_pcap(&std::fs::read(liid.pcap_path.as_ref().unwrap()).unwrap());
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].3, packet(2, 60));
        assert!(summary.to_string().contains("no readable LIID"));
    }

    #[tokio::test]
    async fn an_oversized_length_closes_the_connection_naming_its_offset() {
        let dir = TempDir::new("oversized");
        let mut config = ReceiverConfig::new(&dir.0);
        config.max_pdu_len = 4096;
        let receiver = Receiver::new(config).unwrap();
        let (addr, task) = accept_one(&receiver, Interface::Hi3).await;
        let s = settings("LIID-0004");
        let mut stream = s
            .ip_cc_pdu(
                Cin::new(1),
                0,
                time(0),
                PayloadDirection::FromTarget,
                &packet(1, 100),
            )
            .encode();
        let offset = stream.len() as u64;
        // A SEQUENCE claiming 1 MiB.
        stream.extend_from_slice(&[0x30, 0x83, 0x10, 0x00, 0x00, 0xa1, 0x00]);
        let mut client = TcpStream::connect(addr).await.unwrap();
        send_split(&mut client, &stream).await;

        let error = task.await.unwrap().unwrap_err();
        assert!(
            matches!(error, ReceiverError::Framing { offset: o, .. } if o == offset),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .contains(&format!("stream offset {offset}")),
            "{error}"
        );
        assert_eq!(receiver.summary().liids.get(&s.liid).unwrap().cc, 1);
        assert_eq!(jsonl(&receiver).len(), 1);
    }

    #[tokio::test]
    async fn a_pdu_cut_by_the_end_of_the_stream_is_an_error() {
        let dir = TempDir::new("cut");
        let receiver = Receiver::new(ReceiverConfig::new(&dir.0)).unwrap();
        let (addr, task) = accept_one(&receiver, Interface::Hi2).await;
        let s = settings("LIID-0005");
        let whole = iri_pdu(&s, 0, 1, "dave").encode();
        let mut stream = whole.clone();
        stream.extend_from_slice(&whole[..whole.len() - 3]);
        let mut client = TcpStream::connect(addr).await.unwrap();
        send_split(&mut client, &stream).await;
        client.shutdown().await.unwrap();
        let error = task.await.unwrap().unwrap_err();
        assert!(
            matches!(
                error,
                ReceiverError::Truncated { offset, pending }
                    if offset == whole.len() as u64 && pending == whole.len() - 3
            ),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn wait_for_wakes_on_records_received_and_on_a_pcap_file_opened() {
        let dir = TempDir::new("wait-for");
        let receiver = Receiver::new(ReceiverConfig::new(&dir.0)).unwrap();
        // A condition that holds already is answered at once.
        assert!(
            receiver
                .wait_for(|s| s.liids.is_empty())
                .await
                .liids
                .is_empty()
        );
        let s = settings("LIID-WAIT");
        let liid = s.liid;
        // Waiting before anything arrived: the connection's records, then the writer
        // thread's pcap file, wake it.
        let waiter = {
            let receiver = receiver.clone();
            tokio::spawn(async move {
                receiver
                    .wait_for(|s| {
                        s.liids
                            .get(&liid)
                            .is_some_and(|l| l.cc >= 3 && l.pcap_path.is_some())
                    })
                    .await
            })
        };
        let (addr, task) = accept_one(&receiver, Interface::Hi3).await;
        let mut stream = Vec::new();
        for seq in 0..3u8 {
            let n = u32::from(seq);
            push_cc(&mut stream, &s, 1, n, time(u64::from(n)), &packet(seq, 60));
        }
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&stream).await.unwrap();
        let summary = tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .expect("the waiter is woken")
            .unwrap();
        let got = &summary.liids[&liid];
        assert_eq!((got.cc, got.gaps, got.repeats), (3, 0, 0));
        assert!(got.pcap_path.is_some());
        drop(client);
        assert_eq!(task.await.unwrap().unwrap().cc, 3);
    }

    #[tokio::test]
    async fn hi2_and_hi3_listeners_share_one_summary() {
        let dir = TempDir::new("shared");
        let mut config = ReceiverConfig::new(&dir.0);
        config.keep_raw = true;
        let receiver = Receiver::new(config).unwrap();
        let mut addrs = Vec::new();
        let mut servers = Vec::new();
        for interface in [Interface::Hi2, Interface::Hi3] {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addrs.push(listener.local_addr().unwrap());
            let receiver = receiver.clone();
            servers.push(tokio::spawn(async move {
                receiver.serve(listener, None, interface).await
            }));
        }
        let s = settings("LIID-0006");
        let mut hi2 = Vec::new();
        iri_pdu(&s, 0, 3, "erin").encode_into(&mut hi2);
        iri_pdu(&s, 1, 3, "erin").encode_into(&mut hi2);
        s.tri_pdu(0, time(5), TriPayload::KeepAlive)
            .encode_into(&mut hi2);
        let mut hi3 = Vec::new();
        push_cc(&mut hi3, &s, 3, 0, time(1), &packet(1, 52));
        s.tri_pdu(0, time(6), TriPayload::KeepAlive)
            .encode_into(&mut hi3);

        for (addr, bytes) in addrs.iter().zip([hi2.clone(), hi3.clone()]) {
            let mut client = TcpStream::connect(addr).await.unwrap();
            send_split(&mut client, &bytes).await;
            // The keep-alive is last: its response means every record before it is stored.
            let pdu = read_one_pdu(&mut client).await;
            assert_eq!(
                pdu.payload,
                Payload::TriPayload(TriPayload::KeepAliveResponse)
            );
        }

        let summary = receiver.summary();
        let liid = summary.liids.get(&s.liid).unwrap();
        assert_eq!((liid.iri, liid.cc, liid.gaps, liid.repeats), (2, 1, 0, 0));
        let interfaces: Vec<_> = jsonl(&receiver)
            .iter()
            .map(|l| (l["interface"].clone(), l["kind"].clone()))
            .collect();
        assert_eq!(
            interfaces,
            [
                (json!("HI2"), json!("iri")),
                (json!("HI2"), json!("iri")),
                (json!("HI3"), json!("cc"))
            ]
        );
        // The raw streams hold exactly what was sent, keep-alives included.
        assert_eq!(std::fs::read(dir.0.join("hi2.ber")).unwrap(), hi2);
        assert_eq!(std::fs::read(dir.0.join("hi3.ber")).unwrap(), hi3);
        for server in servers {
            server.abort();
        }
    }

    #[tokio::test]
    async fn a_failed_tls_handshake_is_logged_and_the_listener_goes_on() {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert = certified.cert.der().clone();
        let key =
            rustls_pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();

        let dir = TempDir::new("tls");
        let receiver = Receiver::new(ReceiverConfig::new(&dir.0)).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = {
            let receiver = receiver.clone();
            let acceptor = TlsAcceptor::from(Arc::new(server));
            tokio::spawn(async move {
                receiver
                    .serve(listener, Some(acceptor), Interface::Hi3)
                    .await
            })
        };
        let s = settings("LIID-0007");
        let mut bytes = Vec::new();
        push_cc(&mut bytes, &s, 1, 0, time(0), &packet(1, 40));
        s.tri_pdu(0, time(1), TriPayload::KeepAlive)
            .encode_into(&mut bytes);

        // A client speaking plain BER: the handshake fails and the connection is dropped.
        let mut plain = TcpStream::connect(addr).await.unwrap();
        plain.write_all(&bytes).await.unwrap();
        let mut ignored = Vec::new();
        let _ = plain.read_to_end(&mut ignored).await;
        assert!(
            PsPdu::decode_prefix(&ignored).is_err(),
            "no keep-alive response without TLS"
        );

        // A TLS client is still served.
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.unwrap();
        tls.write_all(&bytes).await.unwrap();
        tls.flush().await.unwrap();
        let pdu = read_one_pdu(&mut tls).await;
        assert_eq!(
            pdu.payload,
            Payload::TriPayload(TriPayload::KeepAliveResponse)
        );
        let summary = receiver.summary();
        assert_eq!(summary.liids.get(&s.liid).unwrap().cc, 1);
        assert_eq!(summary.unattributed_decode_errors, 0);
        server.abort();
    }

    #[tokio::test]
    async fn a_silent_peer_is_disconnected_and_the_connection_limit_holds() {
        let dir = TempDir::new("idle");
        let mut config = ReceiverConfig::new(&dir.0);
        config.idle_timeout = Duration::from_secs(1);
        config.max_connections = 1;
        let receiver = Receiver::new(config).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = {
            let receiver = receiver.clone();
            tokio::spawn(async move { receiver.serve(listener, None, Interface::Hi2).await })
        };
        let s = settings("LIID-0009");
        let keep_alive = |seq| s.tri_pdu(seq, time(1), TriPayload::KeepAlive).encode();
        // The first connection is served (and so holds the only slot)...
        let mut first = TcpStream::connect(addr).await.unwrap();
        first.write_all(&keep_alive(1)).await.unwrap();
        assert_eq!(read_one_pdu(&mut first).await.header.sequence_number, 1);
        // ... so the second is closed without being served.
        let mut second = TcpStream::connect(addr).await.unwrap();
        let _ = second.write_all(&keep_alive(2)).await;
        let mut answer = Vec::new();
        let _ = second.read_to_end(&mut answer).await;
        assert!(answer.is_empty(), "second connection served: {answer:?}");
        // The first, silent from now on, is closed once idle.
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(Duration::from_secs(20), first.read(&mut byte))
            .await
            .unwrap();
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
        // The slot is free again: a keep-alive on a new connection is answered.
        let mut third = TcpStream::connect(addr).await.unwrap();
        third.write_all(&keep_alive(4)).await.unwrap();
        let pdu = read_one_pdu(&mut third).await;
        assert_eq!(
            pdu.payload,
            Payload::TriPayload(TriPayload::KeepAliveResponse)
        );
        assert_eq!(pdu.header.sequence_number, 4);
        server.abort();
    }

    /// The fast path's line for `frame`, as the receiver writes it; `None` if it takes the
    /// full decoder.
    fn fast_line(fp: &mut FastPath, frame: &[u8], interface: Interface) -> Option<Vec<u8>> {
        let cc = fp.decode(frame)?;
        let mut out = Vec::new();
        LineWriter::default().cc_line(&mut out, &CcLine::fast(&cc, interface, false));
        Some(out)
    }

    /// The full decoder's line and packet for a CC PDU of one record.
    fn slow_line(frame: &[u8], interface: Interface) -> Option<(Vec<u8>, Vec<u8>)> {
        let PsPdu { header, payload } = PsPdu::decode(frame).ok()?;
        let Payload::CcPayloadSequence(mut items) = payload else {
            return None;
        };
        assert_eq!(items.len(), 1);
        let mut batch = Batch::new(interface);
        let record = Record::cc(&header, items.remove(0), &mut batch);
        let mut line = record.to_json(interface, &header, false).into_bytes();
        line.push(b'\n');
        Some((line, record.packet.map(|p| p.data).unwrap_or_default()))
    }

    fn learn(fp: &mut FastPath, frame: &[u8]) {
        assert!(fp.decode(frame).is_none(), "not known yet");
        let pdu = PsPdu::decode(frame).unwrap();
        fp.learn(
            pdu.header.lawful_interception_identifier,
            pdu.header
                .communication_identifier
                .communication_identity_number,
        );
    }

    #[test]
    fn the_fast_path_writes_the_same_line_as_the_full_decoder() {
        let mut liids = vec![
            "LIID/0001".to_owned(),
            "quote\"back\\slash".to_owned(),
            "tab\there".to_owned(),
        ];
        liids.push(String::from_utf8_lossy(&[0x01, 0xff, 0x41]).into_owned());
        for (n, liid) in liids.iter().enumerate() {
            let mut s = HeaderSettings::new(
                Liid::new(liid.as_bytes()).unwrap(),
                OperatorId::new(b"OP").unwrap(),
            );
            s.timestamp_form = [
                li_asn1::TimestampForm::Both,
                li_asn1::TimestampForm::GeneralizedTime,
                li_asn1::TimestampForm::MicroSecond,
            ][n % 3];
            for direction in [
                PayloadDirection::FromTarget,
                PayloadDirection::Combined,
                PayloadDirection::Unrecognized(-7),
                PayloadDirection::Unrecognized(1234),
            ] {
                let mut fp = FastPath::default();
                let first = s
                    .ip_cc_pdu(Cin::new(9), 0, time(0), direction, &packet(1, 40))
                    .encode();
                learn(&mut fp, &first);
                for seq in [1, 255, 65_536, u32::MAX] {
                    let mut frame = Vec::new();
                    CcEncoder::new(&s, Cin::new(9)).encode(
                        seq,
                        Timestamp::from_secs_micros(1_704_164_645 + u64::from(seq), 7).unwrap(),
                        direction,
                        &packet(2, 60),
                        &mut frame,
                    );
                    for interface in [Interface::Hi2, Interface::Hi3] {
                        let fast = fast_line(&mut fp, &frame, interface).expect("fast path");
                        let (slow, _) = slow_line(&frame, interface).unwrap();
                        assert_eq!(
                            String::from_utf8(fast).unwrap(),
                            String::from_utf8(slow).unwrap()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_fast_path_takes_only_known_fixed_elements_and_the_hot_shape() {
        let s = settings("LIID-FAST");
        let pdu = |cin, seq| {
            s.ip_cc_pdu(
                Cin::new(cin),
                seq,
                time(0),
                PayloadDirection::FromTarget,
                &packet(1, 40),
            )
        };
        let mut fp = FastPath::default();
        learn(&mut fp, &pdu(1, 0).encode());
        assert!(fp.decode(&pdu(1, 1).encode()).is_some());
        // Another CIN: its own key.
        learn(&mut fp, &pdu(2, 0).encode());
        assert_eq!(fp.decode(&pdu(2, 5).encode()).unwrap().cin, Some(2));
        assert_eq!(fp.decode(&pdu(1, 5).encode()).unwrap().cin, Some(1));
        // Two records in one PDU, a truncated packet, a keep-alive: the full decoder.
        let mut two = pdu(1, 6);
        if let Payload::CcPayloadSequence(items) = &mut two.payload {
            items.push(items[0].clone());
        }
        assert!(fp.decode(&two.encode()).is_none());
        let truncated = s.ip_cc_pdu_with(
            Cin::new(1),
            7,
            time(0),
            PayloadDirection::FromTarget,
            IpCcContents::IpTruncatedPacket {
                truncated_packet: packet(1, 20),
                original_length: Some(1500),
            },
        );
        assert!(fp.decode(&truncated.encode()).is_none());
        assert!(
            fp.decode(&s.tri_pdu(0, time(0), TriPayload::KeepAlive).encode())
                .is_none()
        );
        // A duplicated sequence number: an error for the full decoder, not taken here.
        let encoded = pdu(1, 8).encode();
        let outer = Reader::new(&encoded).read().unwrap();
        let header = outer.children("t").unwrap().next_tlv().unwrap().unwrap();
        let mut w = Writer::new();
        w.constructed(Tag::SEQUENCE, |w| {
            w.constructed(Tag::context_constructed(1), |w| {
                w.raw(header.content);
                w.u64(Tag::context(4), 9);
            });
            w.raw(&encoded[header.offset + header.encoded_len..]);
        });
        let frame = w.into_vec();
        assert!(PsPdu::decode(&frame).is_err());
        assert!(fp.decode(&frame).is_none());
    }

    proptest::proptest! {
        /// Whenever the fast path reads a PDU, possibly corrupted, the full decoder accepts
        /// it and gives the same line and packet.
        #[test]
        fn the_fast_path_never_accepts_what_the_full_decoder_refuses(
            seq in proptest::prelude::any::<u32>(),
            secs in 0u64..4_000_000_000,
            micros in 0u32..1_000_000,
            cin in proptest::prelude::any::<u32>(),
            direction in -3i64..8,
            len in 1usize..300,
            form in 0usize..3,
            flips in proptest::collection::vec((proptest::prelude::any::<usize>(), 1u8..=255), 0..4),
            cut in proptest::prelude::any::<Option<usize>>(),
        ) {
            let mut s = settings("LIID-PROP");
            s.network_element_identifier = Some(li_core::NetworkElementId::new(b"NE").unwrap());
            s.authorization_country_code = Some("DE".parse().unwrap());
            s.timestamp_form = [
                li_asn1::TimestampForm::Both,
                li_asn1::TimestampForm::GeneralizedTime,
                li_asn1::TimestampForm::MicroSecond,
            ][form];
            let t = Timestamp::from_secs_micros(secs, micros).unwrap();
            let direction = PayloadDirection::from_value(direction);
            let encoder = CcEncoder::new(&s, Cin::new(cin));
            let mut fp = FastPath::default();
            let mut first = Vec::new();
            encoder.encode(0, time(0), direction, &packet(1, 20), &mut first);
            learn(&mut fp, &first);
            let mut frame = Vec::new();
            encoder.encode(seq, t, direction, &packet(3, len), &mut frame);
            for (at, x) in &flips {
                let n = frame.len();
                frame[at % n] ^= x;
            }
            if let Some(cut) = cut {
                frame.truncate(cut % (frame.len() + 1));
            }
            if let Some(fast) = fast_line(&mut fp, &frame, Interface::Hi3) {
                let (slow, data) = slow_line(&frame, Interface::Hi3)
                    .expect("the full decoder accepts what the fast path read");
                proptest::prop_assert_eq!(fast, slow);
                proptest::prop_assert_eq!(fp.decode(&frame).unwrap().packet, &data[..]);
            } else if flips.is_empty() && cut.is_none() {
                proptest::prop_assert!(false, "an intact PDU takes the fast path");
            }
        }
    }

    proptest::proptest! {
        /// An IPMMCC (a call's media packet), possibly corrupted: whenever the fast path
        /// reads it, the full decoder accepts it and gives the same line, packet and stream
        /// fields; an intact one takes the fast path once its stream is known.
        #[test]
        fn the_fast_path_reads_ipmmcc_as_the_full_decoder_does(
            seq in proptest::prelude::any::<u32>(),
            cin in proptest::prelude::any::<u32>(),
            direction in -1i64..5,
            frame_type in 0i64..9,
            stream_id in proptest::option::of(proptest::collection::vec(proptest::prelude::any::<u8>(), 1..20)),
            protocol in proptest::option::of(0i64..4),
            len in 0usize..300,
            flips in proptest::collection::vec((proptest::prelude::any::<usize>(), 1u8..=255), 0..4),
            cut in proptest::prelude::any::<Option<usize>>(),
        ) {
            use li_asn1::ipmm::{FrameType, MediaStream, MmccProtocol};
            let s = settings("LIID-MM");
            let mut stream = MediaStream::new(FrameType::from_value(frame_type));
            if let Some(id) = &stream_id {
                stream = stream.with_stream_identifier(id);
            }
            if let Some(p) = protocol {
                stream = stream.with_protocol(MmccProtocol::from_value(p));
            }
            let direction = PayloadDirection::from_value(direction);
            let encoder = li_asn1::IpmmCcEncoder::new(&s, Cin::new(cin));
            let mut fp = FastPath::default();
            let mut first = Vec::new();
            encoder.encode(0, time(0), direction, &stream, &[0x80, 0, 0, 1], &mut first);
            learn(&mut fp, &first);
            let mut frame = Vec::new();
            let media = packet(4, len.max(1));
            encoder.encode(seq, time(u64::from(seq % 1000)), direction, &stream, &media, &mut frame);
            for (at, x) in &flips {
                let n = frame.len();
                frame[at % n] ^= x;
            }
            if let Some(cut) = cut {
                frame.truncate(cut % (frame.len() + 1));
            }
            if let Some(fast) = fast_line(&mut fp, &frame, Interface::Hi3) {
                let (slow, _) = slow_line(&frame, Interface::Hi3)
                    .expect("the full decoder accepts what the fast path read");
                proptest::prop_assert_eq!(fast, slow);
                let Payload::CcPayloadSequence(items) = PsPdu::decode(&frame).unwrap().payload else {
                    unreachable!()
                };
                let CcContents::IpmmCc(full) = &items[0].cc_contents else {
                    return Err(proptest::test_runner::TestCaseError::fail("not an IPMMCC"));
                };
                let cc = fp.decode(&frame).unwrap();
                let m = cc.media.expect("read as an IPMMCC");
                proptest::prop_assert_eq!(cc.packet, &full.contents[..]);
                proptest::prop_assert_eq!(m.frame_type, full.frame_type);
                proptest::prop_assert_eq!(m.stream, full.stream_identifier.as_deref());
                proptest::prop_assert_eq!(m.protocol, full.protocol);
                proptest::prop_assert_eq!(cc.direction, items[0].payload_direction);
            } else if flips.is_empty() && cut.is_none() {
                proptest::prop_assert!(false, "an intact PDU takes the fast path");
            }
        }
    }

    #[test]
    fn latency_is_bucketed_from_the_header_time() {
        let now = Timestamp::from_secs_micros(1_000, 0).unwrap();
        let mut local = LocalLatency::default();
        let ago = |micros| Timestamp::from_unix_micros(now.unix_micros() - micros).unwrap();
        local.observe(now, Some(ago(500))); // at the first bound: le 0.0005
        local.observe(now, Some(ago(501)));
        local.observe(now, Some(ago(3_000)));
        local.observe(now, Some(ago(6_000_000))); // beyond 5 s: +Inf only
        local.observe(now, Some(Timestamp::from_secs_micros(1_001, 0).unwrap())); // ahead: 0
        local.observe(now, None); // no time: not counted
        let shared = SharedInterfaceStats::default();
        local.merge_into(&shared);
        let latency = shared.snapshot().latency;
        assert_eq!(latency.count, 5);
        assert_eq!(latency.sum_micros, 500 + 501 + 3_000 + 6_000_000);
        assert_eq!(
            latency.buckets,
            [2, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4],
            "cumulative"
        );
        assert_eq!(DELIVERY_LATENCY_BUCKETS.len(), BUCKET_MICROS.len());
        for (s, us) in DELIVERY_LATENCY_BUCKETS.iter().zip(BUCKET_MICROS) {
            assert_eq!((s * 1e6).round() as u64, us);
        }
    }

    #[tokio::test]
    async fn keep_alives_and_latency_are_counted_per_interface() {
        let dir = TempDir::new("latency");
        let receiver = Receiver::new(ReceiverConfig::new(&dir.0)).unwrap();
        let (addr, task) = accept_one(&receiver, Interface::Hi3).await;
        let s = settings("LIID-LAT");
        let now = Timestamp::from_system_time(SystemTime::now()).unix_micros();
        let hour = 3_600_000_000;
        let old = Timestamp::from_unix_micros(now - hour).unwrap();
        let ahead = Timestamp::from_unix_micros(now + hour).unwrap();
        let mut stream = Vec::new();
        let encoder = CcEncoder::new(&s, Cin::new(1));
        encoder.encode(
            0,
            old,
            PayloadDirection::FromTarget,
            &packet(1, 40),
            &mut stream,
        );
        encoder.encode(
            1,
            ahead,
            PayloadDirection::FromTarget,
            &packet(1, 40),
            &mut stream,
        );
        // Through the full decoder: two records in one PDU, one observation.
        let mut two = s.ip_cc_pdu(
            Cin::new(1),
            2,
            old,
            PayloadDirection::ToTarget,
            &packet(2, 40),
        );
        if let Payload::CcPayloadSequence(items) = &mut two.payload {
            items.push(items[0].clone());
        }
        two.encode_into(&mut stream);
        for seq in 0..3 {
            s.tri_pdu(seq, old, TriPayload::KeepAlive)
                .encode_into(&mut stream);
        }
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&stream).await.unwrap();
        client.shutdown().await.unwrap();
        let stats = task.await.unwrap().unwrap();
        assert_eq!((stats.cc, stats.keep_alives), (4, 3));
        assert_eq!(read_pdus(&mut client).await.len(), 3);

        let hi3 = receiver.interface_stats(Interface::Hi3);
        assert_eq!(hi3.keep_alives, 3, "keep-alives are not observed");
        assert_eq!(hi3.latency.count, 3);
        assert_eq!(
            hi3.latency.buckets[0], 1,
            "the PDU from the future counts as 0"
        );
        assert_eq!(hi3.latency.buckets[12], 1, "the hour-old ones are over 5 s");
        assert!(hi3.latency.sum_micros >= 2 * hour);
        assert_eq!(
            receiver.interface_stats(Interface::Hi2),
            InterfaceStats::default()
        );
    }

    /// The records before each keep-alive are in both files when its response arrives, with
    /// the connection still open (so no end-of-connection flush can have put them there).
    #[tokio::test]
    async fn a_keep_alive_is_answered_only_once_every_record_before_it_is_stored() {
        let dir = TempDir::new("durable");
        let mut config = ReceiverConfig::new(&dir.0);
        config.keep_raw = true;
        let receiver = Receiver::new(config).unwrap();
        let (addr, task) = accept_one(&receiver, Interface::Hi3).await;
        let s = settings("LIID-DURABLE");
        let encoder = CcEncoder::new(&s, Cin::new(3));
        let mut client = TcpStream::connect(addr).await.unwrap();
        let mut sent = 0u32;
        let mut raw_len = 0;
        // Rounds of different sizes; the last two keep-alives back to back.
        for (round, records) in [1u32, 4096, 3, 20_000, 0].into_iter().enumerate() {
            let mut bytes = Vec::new();
            for _ in 0..records {
                encoder.encode(
                    sent,
                    time(u64::from(sent)),
                    PayloadDirection::FromTarget,
                    &packet(sent as u8, 100 + (sent as usize % 50)),
                    &mut bytes,
                );
                sent += 1;
            }
            s.tri_pdu(round as u32, time(0), TriPayload::KeepAlive)
                .encode_into(&mut bytes);
            raw_len += bytes.len();
            client.write_all(&bytes).await.unwrap();
            let response = read_one_pdu(&mut client).await;
            assert_eq!(response.header.sequence_number, round as u32);

            let lines = jsonl(&receiver);
            assert_eq!(lines.len(), sent as usize, "round {round}");
            assert!(lines.iter().zip(0..).all(|(l, n)| l["seq"] == json!(n)));
            let pcap = parse_pcap(&std::fs::read(dir.0.join("LIID-DURABLE.pcap")).unwrap());
            assert_eq!(pcap.len(), sent as usize);
            if let Some(last) = sent.checked_sub(1) {
                assert_eq!(
                    pcap[last as usize].3,
                    packet(last as u8, 100 + (last as usize % 50))
                );
            }
            let raw = std::fs::read(dir.0.join("hi3.ber")).unwrap();
            assert_eq!(raw.len(), raw_len, "the raw stream, keep-alive included");
        }
        client.shutdown().await.unwrap();
        let stats = task.await.unwrap().unwrap();
        assert_eq!((stats.cc, stats.keep_alives, stats.missing), (24_100, 5, 0));
    }

    #[tokio::test]
    async fn an_output_failure_closes_the_connection_and_no_keep_alive_is_answered() {
        let dir = TempDir::new("failure");
        let receiver = Receiver::new(ReceiverConfig::new(&dir.0)).unwrap();
        // The LIID's pcap file cannot be created: a directory has its name.
        std::fs::create_dir_all(dir.0.join("LIID-FAIL.pcap")).unwrap();
        let s = settings("LIID-FAIL");
        let mut bytes = Vec::new();
        push_cc(&mut bytes, &s, 1, 0, time(0), &packet(1, 40));
        s.tri_pdu(0, time(0), TriPayload::KeepAlive)
            .encode_into(&mut bytes);
        let (addr, task) = accept_one(&receiver, Interface::Hi3).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&bytes).await.unwrap();
        let error = task.await.unwrap().unwrap_err();
        assert!(
            matches!(&error, ReceiverError::Output { path, .. } if path.ends_with("LIID-FAIL.pcap")),
            "{error:?}"
        );
        let mut answer = Vec::new();
        let _ = client.read_to_end(&mut answer).await;
        assert!(answer.is_empty(), "no keep-aliveResponse");

        // The output stays stopped: a bare keep-alive on a new connection is not answered.
        let (addr, task) = accept_one(&receiver, Interface::Hi2).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let mut bytes = Vec::new();
        s.tri_pdu(1, time(0), TriPayload::KeepAlive)
            .encode_into(&mut bytes);
        client.write_all(&bytes).await.unwrap();
        client.shutdown().await.unwrap();
        assert!(matches!(
            task.await.unwrap(),
            Err(ReceiverError::Output { .. })
        ));
        let mut answer = Vec::new();
        let _ = client.read_to_end(&mut answer).await;
        assert!(answer.is_empty(), "no keep-aliveResponse");
    }
}
