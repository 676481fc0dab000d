//! The agency side of HI2/HI3: a LEMF receiver for ETSI TS 102 232-1 PS-PDU streams.
//!
//! The mediator delivers to each agency over two connections, HI2 (IRI) and HI3 (CC), each a
//! TCP or TLS stream of back-to-back BER PS-PDUs (TS 102 232-1 clause 5.1). A [`Receiver`]
//! frames each stream ([`li_asn1::ber::frame_len`], bounded by
//! [`ReceiverConfig::max_pdu_len`]), decodes each PDU, answers keep-alives (clause 5.3, annex
//! F `keep-alive` / `keep-aliveResponse`) and records what it received:
//!
//! - `out_dir/records.jsonl`: one JSON object per IRI or CC record, appended and flushed per
//!   PDU;
//! - `out_dir/<LIID>.pcap`: every CC IP packet of the LIID, as a classic pcap file with
//!   `LINKTYPE_RAW` (101) and the record's time.
//!
//! Each JSON line has `interface` (`"HI2"`/`"HI3"`), `liid` (its text form), `cin` (or
//! `null`), `seq`, `time` (RFC 3339, the record's own time else the PSHeader's, or `null`),
//! `kind` (`"iri"`/`"cc"`) and `repeat` (the PDU's sequence number was at or before the last
//! one). IRI lines add `iri_type` (`"iRI-Begin"` ...), `access_event` (`"accessAccept"` ...)
//! and `username` (lossy UTF-8) of an IPIRI, `null` for other IRI contents; CC lines add
//! `direction` (`"fromTarget"` ...) and `packet_len` (the original IP packet length, `null`
//! for contents other than IPCC). Repeats are recorded too, so nothing is lost when a
//! mediator restarts its numbering; the `repeat` flag lets the reader de-duplicate.
//!
//! Sequence numbers (clause 5.2.5) are tracked per interface, LIID and CIN so that gaps and
//! the bounded window a mediator re-sends after a crash show in the [`Summary`]. They are
//! compared in serial-number arithmetic (RFC 1982): 2^32-1 followed by 0 is in order, up to
//! 2^31-1 ahead is a gap, anything else is a repeat. Keep-alives are answered and not
//! sequenced.
//!
//! A PDU that frames but does not decode is logged with its stream offset, counted and
//! skipped; a stream that cannot be framed (a length over the limit, a malformed length) closes
//! the connection with a [`ReceiverError::Framing`] naming the offset.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use li_asn1::ber::{Reader, Tlv, frame_len};
use li_asn1::{
    CcContents, CcPayload, IpCcContents, IriContents, IriPayload, Payload, PsHeader, PsPdu,
    TriPayload,
};
use li_core::{Liid, Timestamp};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The default bound on one PS-PDU, and so on the receive buffer of a connection: 1 MiB.
pub const DEFAULT_MAX_PDU_LEN: usize = 1 << 20;

/// The name of the record log in [`ReceiverConfig::out_dir`].
pub const RECORDS_FILE: &str = "records.jsonl";

/// How much is read from a connection at a time.
const READ_CHUNK: usize = 64 * 1024;
/// How long a TLS client may take to complete its handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The pause after a failed `accept` (e.g. out of file descriptors) before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How many gap ranges are kept per LIID; [`LiidSummary::gaps`] counts every gap.
const MAX_GAP_RANGES: usize = 1024;
/// `LINKTYPE_RAW`: each pcap record starts with an IPv4 or IPv6 header.
const LINKTYPE_RAW: u32 = 101;
/// The pcap snapshot length; longer packets are cut (with their original length kept).
const PCAP_SNAPLEN: usize = 262_144;

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
    /// independent decoders and evidence.
    pub keep_raw: bool,
}

impl ReceiverConfig {
    /// Output in `out_dir`, PDUs of up to [`DEFAULT_MAX_PDU_LEN`], connections idle for 60 s
    /// closed, at most 64 connections per listener.
    pub fn new(out_dir: impl Into<PathBuf>) -> Self {
        Self {
            out_dir: out_dir.into(),
            max_pdu_len: DEFAULT_MAX_PDU_LEN,
            idle_timeout: Duration::from_secs(60),
            max_connections: 64,
            keep_raw: false,
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
    /// A record could not be written to the output directory; the connection is closed so
    /// the mediator keeps the records spooled rather than the agency losing them.
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
    /// The pcap file of the LIID's CC packets, once one was written.
    pub pcap_path: Option<PathBuf>,
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
        }
        if self.unattributed_decode_errors > 0 {
            writeln!(
                f,
                "PDUs with no readable LIID that did not decode: {}",
                self.unattributed_decode_errors
            )?;
        }
        write!(f, "records: {}", self.records_path.display())
    }
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
    state: Mutex<State>,
    /// The output files; one PDU's records are written under one lock.
    output: tokio::sync::Mutex<Output>,
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
    /// for appending (a restarted receiver continues the files of the previous run).
    pub fn new(config: ReceiverConfig) -> io::Result<Self> {
        std::fs::create_dir_all(&config.out_dir).map_err(|e| with_path(e, &config.out_dir))?;
        let records_path = config.out_dir.join(RECORDS_FILE);
        let records = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&records_path)
            .map_err(|e| with_path(e, &records_path))?;
        let output = Output {
            dir: config.out_dir.clone(),
            records_path: records_path.clone(),
            records: tokio::fs::File::from_std(records),
            pcaps: HashMap::new(),
            pcap_names: HashMap::new(),
            raw: HashMap::new(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                records_path,
                state: Mutex::new(State::default()),
                output: tokio::sync::Mutex::new(output),
            }),
        })
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
    /// answers keep-alives, records IRI and CC.
    ///
    /// Returns what the connection carried, or the reason it was closed early: a framing
    /// error, a PDU cut by the end of the stream, an I/O error, or an output file that
    /// cannot be written.
    pub async fn handle<S>(
        &self,
        mut stream: S,
        peer: SocketAddr,
        interface: Interface,
    ) -> Result<ConnectionStats, ReceiverError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let max = self.inner.config.max_pdu_len;
        let mut conn = Connection {
            peer,
            interface,
            stats: ConnectionStats::default(),
        };
        let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK.min(max));
        // Stream offset of buf[0].
        let mut base: u64 = 0;
        loop {
            let mut used = 0;
            while let Some(rest) = buf.get(used..) {
                let offset = base + used as u64;
                let len = match frame_len(rest, max) {
                    Ok(Some(len)) => len,
                    Ok(None) => break,
                    Err(source) => return Err(ReceiverError::Framing { offset, source }),
                };
                let frame = rest.get(..len).unwrap_or_default();
                if self.inner.config.keep_raw {
                    let mut output = self.inner.output.lock().await;
                    output.append_raw(interface, frame).await?;
                }
                self.on_pdu(&mut stream, frame, offset, &mut conn).await?;
                used += len;
            }
            buf.drain(..used.min(buf.len()));
            base += used as u64;

            // frame_len bounds every element by `max`, so a pending one fits in `max`.
            let room = max.saturating_sub(buf.len()).clamp(1, READ_CHUNK);
            let idle = self.inner.config.idle_timeout;
            let mut limited = (&mut stream).take(room as u64);
            let n = tokio::time::timeout(idle, limited.read_buf(&mut buf))
                .await
                .map_err(|_| ReceiverError::Idle {
                    offset: base + buf.len() as u64,
                    idle,
                })?
                .map_err(|source| ReceiverError::Io {
                    offset: base + buf.len() as u64,
                    source,
                })?;
            if n == 0 {
                if buf.is_empty() {
                    return Ok(conn.stats);
                }
                return Err(ReceiverError::Truncated {
                    offset: base,
                    pending: buf.len(),
                });
            }
            conn.stats.octets += n as u64;
        }
    }

    /// What has been received so far, over every connection.
    pub fn summary(&self) -> Summary {
        let state = self.inner.state();
        Summary {
            liids: state.liids.clone(),
            unattributed_decode_errors: state.unattributed_decode_errors,
            records_path: self.inner.records_path.clone(),
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

    /// One framed PDU at stream `offset`.
    async fn on_pdu<S>(
        &self,
        stream: &mut S,
        frame: &[u8],
        offset: u64,
        conn: &mut Connection,
    ) -> Result<(), ReceiverError>
    where
        S: AsyncWrite + Unpin,
    {
        conn.stats.pdus += 1;
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
                self.inner.state().decode_error(liid);
                return Ok(());
            }
        };
        let records: Vec<Record> = match payload {
            Payload::TriPayload(TriPayload::KeepAlive) => {
                conn.stats.keep_alives += 1;
                let response = PsPdu {
                    header,
                    payload: Payload::TriPayload(TriPayload::KeepAliveResponse),
                }
                .encode();
                let io_error = |source| ReceiverError::Io { offset, source };
                stream.write_all(&response).await.map_err(io_error)?;
                stream.flush().await.map_err(io_error)?;
                return Ok(());
            }
            Payload::IriPayloadSequence(items) => items
                .into_iter()
                .map(|item| Record::iri(&header, item))
                .collect(),
            Payload::CcPayloadSequence(items) => items
                .into_iter()
                .map(|item| Record::cc(&header, item))
                .collect(),
            other => {
                conn.stats.ignored += 1;
                tracing::debug!(
                    peer = %conn.peer, interface = %conn.interface, offset, payload = ?other,
                    "PS-PDU not recorded"
                );
                return Ok(());
            }
        };
        self.store(&header, records, conn).await
    }

    /// Accounts for and writes the records of one PDU.
    async fn store(
        &self,
        header: &PsHeader,
        records: Vec<Record>,
        conn: &mut Connection,
    ) -> Result<(), ReceiverError> {
        let liid = header.lawful_interception_identifier;
        let cin = header
            .communication_identifier
            .communication_identity_number;
        let seq = header.sequence_number;
        let iri = records.iter().filter(|r| r.kind == Kind::Iri).count() as u64;
        let cc = records.len() as u64 - iri;
        conn.stats.iri += iri;
        conn.stats.cc += cc;

        let key = SequenceKey {
            interface: conn.interface,
            liid,
            cin,
        };
        let sequencing = self.inner.state().account(key, seq, iri, cc);
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

        let repeat = sequencing == Sequencing::Repeat;
        let mut lines = Vec::new();
        let mut pcap = Vec::new();
        let mut now = None;
        for record in &records {
            let mut line = record.to_json(conn.interface, header, repeat);
            if let Some(packet) = &record.packet {
                let time = record
                    .time
                    .unwrap_or_else(|| *now.get_or_insert_with(receipt_time));
                pcap_record(&mut pcap, time, &packet.data, packet.original_len);
            }
            line.push('\n');
            lines.extend_from_slice(line.as_bytes());
        }

        let mut output = self.inner.output.lock().await;
        output.append_records(&lines).await?;
        if !pcap.is_empty() {
            let path = output.append_pcap(liid, &pcap).await?;
            drop(output);
            self.inner.state().pcap_written(liid, path);
        }
        Ok(())
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every statement, so a panicked holder leaves it usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Per-connection context.
struct Connection {
    peer: SocketAddr,
    interface: Interface,
    stats: ConnectionStats,
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
}

impl State {
    /// Counts one PDU of `iri` IRI and `cc` CC records and moves its sequence on.
    fn account(&mut self, key: SequenceKey, seq: u32, iri: u64, cc: u64) -> Sequencing {
        let sequencing = classify(self.sequences.get(&key).copied(), seq);
        if sequencing != Sequencing::Repeat {
            self.sequences.insert(key, seq);
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Iri,
    Cc,
}

/// One IRI or CC record of a PDU, ready to be logged.
struct Record {
    kind: Kind,
    /// The record's own time, else the PDU's.
    time: Option<Timestamp>,
    /// The kind-specific JSON fields.
    fields: Vec<(&'static str, Value)>,
    /// The IP packet of an IPCC record.
    packet: Option<Packet>,
}

struct Packet {
    data: Vec<u8>,
    original_len: usize,
}

impl Record {
    fn iri(header: &PsHeader, item: IriPayload) -> Self {
        let time = time_of(
            item.micro_second_time_stamp,
            item.time_stamp.as_ref(),
            header,
        );
        let (access_event, username) = match &item.iri_contents {
            IriContents::IpIri(ip) => {
                let event = ip.contents.access_event_type;
                let name = event
                    .asn1_name()
                    .map_or_else(|| json!(event.value()), |n| json!(n));
                let user = String::from_utf8_lossy(&ip.contents.target_username).into_owned();
                (name, json!(user))
            }
            _ => (Value::Null, Value::Null),
        };
        Self {
            kind: Kind::Iri,
            time,
            fields: vec![
                ("iri_type", json!(item.iri_type.map(|t| t.asn1_name()))),
                ("access_event", access_event),
                ("username", username),
            ],
            packet: None,
        }
    }

    fn cc(header: &PsHeader, item: CcPayload) -> Self {
        let time = time_of(
            item.micro_second_time_stamp,
            item.time_stamp.as_ref(),
            header,
        );
        let direction = item.payload_direction.map_or(Value::Null, |d| {
            d.asn1_name().map_or_else(|| json!(d.value()), |n| json!(n))
        });
        let packet = match item.cc_contents {
            CcContents::IpCc(ip) => match ip.contents {
                IpCcContents::IpPackets(data) => Some(Packet {
                    original_len: data.len(),
                    data,
                }),
                IpCcContents::IpTruncatedPacket {
                    truncated_packet,
                    original_length,
                } => Some(Packet {
                    original_len: original_length
                        .and_then(|l| usize::try_from(l).ok())
                        .unwrap_or(truncated_packet.len()),
                    data: truncated_packet,
                }),
                _ => None,
            },
            _ => None,
        };
        Self {
            kind: Kind::Cc,
            time,
            fields: vec![
                ("direction", direction),
                ("packet_len", json!(packet.as_ref().map(|p| p.original_len))),
            ],
            packet,
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

/// Now, for a packet without any time.
fn receipt_time() -> Timestamp {
    let micros = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    Timestamp::from_unix_micros(micros).unwrap_or(Timestamp::MAX)
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

/// The output files.
struct Output {
    dir: PathBuf,
    records_path: PathBuf,
    records: tokio::fs::File,
    pcaps: HashMap<Liid, (PathBuf, tokio::fs::File)>,
    /// File stem -> LIID, so that two LIIDs sanitised alike get distinct files.
    pcap_names: HashMap<String, Liid>,
    /// The raw streams (`keep_raw`), opened on first use.
    raw: HashMap<Interface, (PathBuf, tokio::fs::File)>,
}

impl Output {
    /// Appends one PDU as received to the interface's raw stream.
    async fn append_raw(&mut self, interface: Interface, pdu: &[u8]) -> Result<(), ReceiverError> {
        if !self.raw.contains_key(&interface) {
            let path = self
                .dir
                .join(format!("{}.ber", interface.as_str().to_ascii_lowercase()));
            let file = tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .await
                .map_err(|source| ReceiverError::Output {
                    path: path.clone(),
                    source,
                })?;
            self.raw.insert(interface, (path, file));
        }
        let Some((path, file)) = self.raw.get_mut(&interface) else {
            return Ok(());
        };
        let result = async {
            file.write_all(pdu).await?;
            file.flush().await
        }
        .await;
        result.map_err(|source| ReceiverError::Output {
            path: path.clone(),
            source,
        })
    }

    async fn append_records(&mut self, lines: &[u8]) -> Result<(), ReceiverError> {
        let result = async {
            self.records.write_all(lines).await?;
            self.records.flush().await
        }
        .await;
        result.map_err(|source| ReceiverError::Output {
            path: self.records_path.clone(),
            source,
        })
    }

    /// Appends pcap records to the LIID's file, created with its global header if new.
    async fn append_pcap(&mut self, liid: Liid, records: &[u8]) -> Result<PathBuf, ReceiverError> {
        if !self.pcaps.contains_key(&liid) {
            let path = self.pcap_path(liid);
            let file = open_pcap(&path)
                .await
                .map_err(|source| ReceiverError::Output {
                    path: path.clone(),
                    source,
                })?;
            self.pcaps.insert(liid, (path, file));
        }
        let Some((path, file)) = self.pcaps.get_mut(&liid) else {
            return Err(ReceiverError::Output {
                path: self.dir.clone(),
                source: io::Error::other("pcap file not open"),
            });
        };
        let result = async {
            file.write_all(records).await?;
            file.flush().await
        }
        .await;
        result.map_err(|source| ReceiverError::Output {
            path: path.clone(),
            source,
        })?;
        Ok(path.clone())
    }

    /// `dir/<sanitised LIID>.pcap`, with a `-2`, `-3` ... suffix when another LIID already
    /// has that name.
    fn pcap_path(&mut self, liid: Liid) -> PathBuf {
        let stem = sanitize_file_stem(&liid.to_string());
        let mut name = stem.clone();
        let mut n = 1u32;
        while self
            .pcap_names
            .get(&name)
            .is_some_and(|&other| other != liid)
        {
            n += 1;
            name = format!("{stem}-{n}");
        }
        self.pcap_names.insert(name.clone(), liid);
        self.dir.join(format!("{name}.pcap"))
    }
}

async fn open_pcap(path: &Path) -> io::Result<tokio::fs::File> {
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    if file.metadata().await?.len() == 0 {
        file.write_all(&pcap_global_header()).await?;
        file.flush().await?;
    }
    Ok(file)
}

/// A LIID made safe as a file name: every octet outside `[A-Za-z0-9._-]` becomes `_`.
fn sanitize_file_stem(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The classic pcap global header: microsecond timestamps, `LINKTYPE_RAW`, little-endian.
fn pcap_global_header() -> Vec<u8> {
    let mut h = Vec::with_capacity(24);
    h.extend_from_slice(&0xa1b2_c3d4_u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&0i32.to_le_bytes()); // thiszone: UTC
    h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    h.extend_from_slice(&(PCAP_SNAPLEN as u32).to_le_bytes());
    h.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    h
}

/// Appends one pcap record: the packet (cut at the snapshot length) and its original length.
fn pcap_record(out: &mut Vec<u8>, time: Timestamp, packet: &[u8], original_len: usize) {
    let (secs, micros) = time.to_micro_second_time_stamp();
    let captured = packet.get(..PCAP_SNAPLEN).unwrap_or(packet);
    let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    out.extend_from_slice(&u32::try_from(secs).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&micros.to_le_bytes());
    out.extend_from_slice(&to_u32(captured.len()).to_le_bytes());
    out.extend_from_slice(&to_u32(original_len.max(captured.len())).to_le_bytes());
    out.extend_from_slice(captured);
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use li_asn1::ber::{Tag, Writer};
    use li_asn1::{HeaderSettings, PayloadDirection};
    use li_core::{
        AccessEvent, AccessEventType, Cin, IriEvent, IriRecord, IriType, OperatorId, Xid,
    };
    use tokio::net::TcpStream;
    use tokio::task::JoinHandle;

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
    fn file_names_are_sanitised() {
        assert_eq!(sanitize_file_stem("LIID-0001.a_b"), "LIID-0001.a_b");
        assert_eq!(sanitize_file_stem("../x y/é"), ".._x_y__");
        assert_eq!(sanitize_file_stem("hex:01ff"), "hex_01ff");
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
        s.ip_cc_pdu(
            Cin::new(5),
            0,
            time(0),
            PayloadDirection::FromTarget,
            &packets[0],
        )
        .encode_into(&mut stream);
        s.ip_cc_pdu(
            Cin::new(5),
            1,
            time(1),
            PayloadDirection::ToTarget,
            &packets[1],
        )
        .encode_into(&mut stream);
        keep_alive.encode_into(&mut stream);
        s.ip_cc_pdu(
            Cin::new(5),
            2,
            time(2),
            PayloadDirection::FromTarget,
            &packets[2],
        )
        .encode_into(&mut stream);

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
        assert_eq!(pcap_path.file_name().unwrap(), "LIID_0001.pcap");
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
        assert!(table.contains("LIID_0001.pcap"), "{table}");
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
        s.ip_cc_pdu(
            Cin::new(3),
            0,
            time(1),
            PayloadDirection::FromTarget,
            &packet(1, 52),
        )
        .encode_into(&mut hi3);
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
        s.ip_cc_pdu(
            Cin::new(1),
            0,
            time(0),
            PayloadDirection::FromTarget,
            &packet(1, 40),
        )
        .encode_into(&mut bytes);
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
        config.idle_timeout = Duration::from_millis(300);
        config.max_connections = 1;
        let receiver = Receiver::new(config).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = {
            let receiver = receiver.clone();
            tokio::spawn(async move { receiver.serve(listener, None, Interface::Hi2).await })
        };
        let mut first = TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut second = TcpStream::connect(addr).await.unwrap();
        let mut byte = [0u8; 1];
        let n = tokio::time::timeout(Duration::from_millis(250), second.read(&mut byte)).await;
        assert!(
            matches!(n, Ok(Ok(0)) | Ok(Err(_))),
            "second connection not closed: {n:?}"
        );
        let started = std::time::Instant::now();
        let n = tokio::time::timeout(Duration::from_secs(20), first.read(&mut byte))
            .await
            .unwrap();
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
        assert!(started.elapsed() >= Duration::from_millis(150));
        // The slot is free again: a keep-alive on a new connection is answered.
        let mut third = TcpStream::connect(addr).await.unwrap();
        let s = settings("LIID-0009");
        let mut bytes = Vec::new();
        s.tri_pdu(4, time(1), TriPayload::KeepAlive)
            .encode_into(&mut bytes);
        third.write_all(&bytes).await.unwrap();
        let pdu = read_one_pdu(&mut third).await;
        assert_eq!(
            pdu.payload,
            Payload::TriPayload(TriPayload::KeepAliveResponse)
        );
        assert_eq!(pdu.header.sequence_number, 4);
        server.abort();
    }
}
