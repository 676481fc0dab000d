//! HI2/HI3 delivery of ETSI TS 102 232-1 PS-PDUs to one agency interface: the mediator side
//! of the handover link.
//!
//! One link is one TCP (or TLS) connection to one LEMF interface, fed by one durable
//! spool: a [`Spool`], or a [`NumberedSpool`] when the sequence numbers are assigned as
//! records are spooled ([`DeliveryQueue::enqueue_numbered`]; its acknowledgement path
//! checkpoints the numbering before any segment is deleted). Records the link has not
//! fallen behind on are taken from the spool's memory tail, not read back from disk. Producers put complete, encoded PS-PDUs (sequence numbers already in them) into
//! the spool through a [`DeliveryQueue`]; [`run_link`] connects, writes the pending records in
//! order and removes them from the spool only once the connection has proved alive *after*
//! them: a keep-alive (TS 102 232-1 clause 6.3, `tRIPayload.keep-alive`) written after the
//! records was answered with a `keep-aliveResponse`. Keep-alives are answered in order, so each
//! response acknowledges everything written before the keep-alive it answers; a response
//! whose sequence number is not that of the oldest outstanding keep-alive acknowledges
//! nothing and closes the connection.
//!
//! # Disk bound
//!
//! A record refused because the spool is full raises an alarm (see [`DeliveryQueue`]): an
//! error log line, a counter, and a [`SpoolAlarm`] to an optional observer (metrics, audit
//! log), cleared when records are accepted again.
//!
//! # Re-send window (at-least-once)
//!
//! A record written to a connection that then fails before the acknowledging keep-alive
//! response arrives is written again, from the oldest unacknowledged record, on the next
//! connection. The writer never has more than [`LinkConfig::max_unacked`] records written
//! but unacknowledged, so one connection loss repeats at most that many records. After a crash
//! of the process, the records acknowledged since the spool last persisted its acknowledged
//! point (fewer than [`crate::spool::SpoolConfig::ack_persist_every`]; the link persists it on
//! every disconnection and at shutdown) are repeated too. The receiver recognises repeats by
//! their sequence numbers.
//!
//! # Liveness
//!
//! Keep-alives go by count and time, not per record ([`KeepAliveCadence`]): one follows
//! [`LinkConfig::ack_every_records`] records written since the previous one, or
//! [`LinkConfig::ack_delay`] after the first of them, whichever comes first (or at once when
//! the re-send window is full), and one goes out whenever nothing was written for
//! [`LinkConfig::keepalive_interval`]. Under load a keep-alive thus covers thousands of
//! records; a trickle is acknowledged within the delay. A keep-alive not
//! answered within [`LinkConfig::keepalive_timeout`], a chunk that cannot be written within
//! it, anything from the agency other than a `keep-aliveResponse`, or an undecodable PDU
//! closes the connection; the link reconnects after an exponential backoff
//! ([`LinkConfig::backoff_min`] doubling up to [`LinkConfig::backoff_max`], each delay
//! drawn between half and all of it so that many links do not reconnect in step, reset by a
//! connection that proved alive: records acknowledged, or up for a keep-alive interval). The
//! backlog is written in bounded chunks ([`LinkConfig::chunk_records`]) between which the
//! keep-alive timers are checked first, so a keep-alive never waits behind more than one
//! chunk.
//!
//! # Decisions and driver
//!
//! [`LinkState`] takes every decision of a connection from its inputs and the time it is
//! given (sans-IO, tested without a socket or a clock): the re-send window, when a keep-alive
//! is due, what an answer acknowledges, which answers close the connection
//! ([`LinkViolation`]) and when an unanswered keep-alive times out. [`KeepAliveCadence`] is its
//! keep-alive timing and `retry::Backoff` the reconnection delays. [`run_link`] is the
//! tokio driver: it connects, reads the spool, writes, and waits for the agency or the next
//! deadline.
//!
//! # Example
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use li_asn1::HeaderSettings;
//! use li_core::{Liid, OperatorId};
//! use li_handover::hi::{keepalive_builder, DeliveryLink, DeliveryQueue, LinkConfig};
//! use li_handover::spool::{Spool, SpoolConfig};
//! use tokio::sync::{Mutex, Notify};
//!
//! # async fn example(pdu: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! let settings = HeaderSettings::new(Liid::new(b"LIID-1")?, OperatorId::new(b"OP")?);
//! let (spool, _recovery) = Spool::open(SpoolConfig::new("/var/spool/li/lea-1-hi3"))?;
//! let queue = DeliveryQueue::new(Arc::new(Mutex::new(spool)), Arc::new(Notify::new()));
//! let config = LinkConfig::new("LEA-1 HI3", "192.0.2.10:50010", keepalive_builder(settings));
//! let link = DeliveryLink::spawn(config, queue.clone());
//! queue.enqueue(&pdu).await?; // accepted: will be delivered at least once
//! link.stop(Duration::from_secs(10)).await;
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use li_asn1::ber::frame_len;
use li_asn1::{HeaderSettings, Payload, PsPdu, TriPayload};
use li_core::Timestamp;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, Notify, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, sleep_until, timeout, timeout_at};
use tokio_rustls::TlsConnector;
use tracing::{debug, error, info, warn};

mod state;

pub use state::{KeepAliveCadence, LinkState, LinkViolation};

use crate::numbering::NumberedSpool;
use crate::retry::{Backoff, Changes, shutdown_signal};
use crate::spool::{Spool, SpoolError};

/// What a link needs from the spool it delivers: [`Spool`], or [`NumberedSpool`] (whose
/// acknowledgement path checkpoints the sequence numbering before segments are deleted).
pub trait LinkSpool: Send + 'static {
    /// The underlying spool, for reading pending records.
    fn records(&self) -> &Spool;
    /// The destination has every record up to `id`.
    fn ack(&mut self, id: u64) -> Result<(), SpoolError>;
    /// Persists the acknowledged point now.
    fn persist_ack(&mut self) -> Result<(), SpoolError>;
}

impl LinkSpool for Spool {
    fn records(&self) -> &Spool {
        self
    }
    fn ack(&mut self, id: u64) -> Result<(), SpoolError> {
        Spool::ack(self, id)
    }
    fn persist_ack(&mut self) -> Result<(), SpoolError> {
        Spool::persist_ack(self)
    }
}

impl LinkSpool for NumberedSpool {
    fn records(&self) -> &Spool {
        self.spool()
    }
    fn ack(&mut self, id: u64) -> Result<(), SpoolError> {
        NumberedSpool::ack(self, id)
    }
    fn persist_ack(&mut self) -> Result<(), SpoolError> {
        self.persist()
    }
}

/// Builds the encoded keep-alive PS-PDU for a counter value (the link counts from 1,
/// wrapping).
pub type KeepAliveBuilder = Arc<dyn Fn(u32) -> Vec<u8> + Send + Sync>;

/// Reads one complete BER message from the agency: `Ok` with the counter of the keep-alive
/// it answers, `Err` naming what else it is. The agency sends nothing but answers; which
/// message is an answer is the handover family's ([`etsi_answer_reader`] for TS 102 232-1).
pub type AnswerReader = Arc<dyn Fn(&[u8]) -> Result<u32, String> + Send + Sync>;

/// The largest PDU accepted from the agency (it sends only keep-alive responses).
const MAX_AGENCY_PDU: usize = 64 * 1024;

/// Settings of one delivery link.
#[derive(Clone)]
pub struct LinkConfig {
    /// Name used in logs, e.g. `"LEA-1 HI3"`.
    pub name: String,
    /// The agency interface, `host:port`.
    pub addr: String,
    /// TLS towards the agency (connector and the name its certificate must carry); `None`
    /// for plain TCP.
    pub tls: Option<(TlsConnector, ServerName<'static>)>,
    /// Builds the keep-alive PDU (see [`keepalive_builder`]).
    pub keepalive: KeepAliveBuilder,
    /// Reads the agency's answers to it ([`etsi_answer_reader`] by default).
    pub answers: AnswerReader,
    /// A keep-alive is sent when nothing was written for this long.
    pub keepalive_interval: Duration,
    /// A keep-alive not answered within this time, or a write that does not complete within
    /// it, kills the connection.
    pub keepalive_timeout: Duration,
    /// Bound on connecting (TCP and TLS handshake).
    pub connect_timeout: Duration,
    /// First reconnection delay.
    pub backoff_min: Duration,
    /// Largest reconnection delay.
    pub backoff_max: Duration,
    /// Records written per chunk (one socket write), at most (at least 1).
    pub chunk_records: usize,
    /// A keep-alive follows this many records written since the previous one (at least 1).
    pub ack_every_records: u64,
    /// ... or this long after the first of them was written, whichever comes first.
    pub ack_delay: Duration,
    /// Records written but not yet acknowledged, at most (at least 1): the re-send window.
    pub max_unacked: u64,
    /// How records travel and how the link learns they arrived ([`Carrier::AnsweredStream`]
    /// by default).
    pub carrier: Carrier,
}

/// How a link carries its records to the agency and learns that they arrived.
///
/// The families differ: TS 102 232-1 and both ATIS families have a message the agency
/// answers (keep-alive, link test), PacketCable's call data has none and its call content
/// travels over UDP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Carrier {
    /// A TCP or TLS stream; the family's keep-alive ([`LinkConfig::keepalive`]) is answered
    /// by the agency ([`LinkConfig::answers`]) and each answer acknowledges what was written
    /// before it (see the [module documentation](self)).
    #[default]
    AnsweredStream,
    /// A TCP or TLS stream to an agency that answers nothing (PacketCable call data: PCESP
    /// has no link test). No keep-alive is written; a record counts as delivered once the
    /// connection has stayed up for `settle` after it was written (at most half the
    /// keep-alive timeout), with nothing from the agency closing it. The kernel is told to
    /// close the connection when written data is not acknowledged by the agency's TCP (or
    /// cannot be sent for want of window) within 3/5 of the settle time (`TCP_USER_TIMEOUT`,
    /// a 64 KiB send buffer, TCP keep-alives when idle), so a record the agency's host did not
    /// take never counts as delivered: the connection fails first and its records are written
    /// again on the next one. Weaker than an answer all the same: what the agency's TCP took
    /// but its application never read (it died with it in its buffer) is lost. Anything the
    /// agency sends closes the connection.
    SilentStream {
        /// How long a connection must stay up after a record before it counts as delivered.
        settle: Duration,
    },
    /// UDP datagrams, one record each, to [`LinkConfig::addr`] (PacketCable call content).
    /// Nothing is answered and nothing can be re-sent: a record leaves the spool
    /// ([`LinkStatsSnapshot::records_acked`]) once its datagram was handed to the socket
    /// ([`LinkStatsSnapshot::records_written`] counts those), or when there is none to send
    /// (an empty record; one over 65,507 octets, dropped and counted in
    /// [`LinkStatsSnapshot::datagrams_dropped`]). A send that fails ends the socket: the next
    /// one starts from the first record not sent, so none goes twice. The spool holds what is
    /// not yet sent across a restart. An ICMP port unreachable reported by the socket (no
    /// listener at the agency) is counted ([`LinkStatsSnapshot::datagrams_refused`]) and the
    /// datagram it interrupted sent again. TLS does not apply.
    Datagrams,
}

impl LinkConfig {
    /// Defaults: plain TCP, keep-alive every 5 s of idleness, answered within 10 s, connect
    /// timeout 10 s, backoff 100 ms .. 1 s (jittered), chunks of 1,024 records, a keep-alive
    /// after 4,096 records or 50 ms after the first unacknowledged one, at most 16,384 records
    /// unacknowledged.
    pub fn new(
        name: impl Into<String>,
        addr: impl Into<String>,
        keepalive: KeepAliveBuilder,
    ) -> Self {
        Self {
            name: name.into(),
            addr: addr.into(),
            tls: None,
            keepalive,
            answers: etsi_answer_reader(),
            keepalive_interval: Duration::from_secs(5),
            keepalive_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            chunk_records: 1024,
            ack_every_records: 4096,
            ack_delay: Duration::from_millis(50),
            max_unacked: 16_384,
            carrier: Carrier::AnsweredStream,
        }
    }
}

impl std::fmt::Debug for LinkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkConfig")
            .field("name", &self.name)
            .field("addr", &self.addr)
            .field("tls", &self.tls.as_ref().map(|(_, name)| name))
            .field("keepalive_interval", &self.keepalive_interval)
            .field("keepalive_timeout", &self.keepalive_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("backoff_min", &self.backoff_min)
            .field("backoff_max", &self.backoff_max)
            .field("chunk_records", &self.chunk_records)
            .field("ack_every_records", &self.ack_every_records)
            .field("ack_delay", &self.ack_delay)
            .field("max_unacked", &self.max_unacked)
            .field("carrier", &self.carrier)
            .finish_non_exhaustive()
    }
}

/// A [`KeepAliveBuilder`] producing `tRIPayload.keep-alive` PDUs (TS 102 232-1 clause 6.3)
/// with these header settings, the counter as sequence number and the system clock as
/// timestamp.
pub fn keepalive_builder(settings: HeaderSettings) -> KeepAliveBuilder {
    Arc::new(move |counter| {
        settings
            .tri_pdu(
                counter,
                Timestamp::from_system_time(SystemTime::now()),
                TriPayload::KeepAlive,
            )
            .encode()
    })
}

/// Counters and state of one link, shared with whoever monitors it: read them with
/// [`LinkStats::snapshot`], or wait for a condition on them with [`LinkStats::wait_for`].
#[derive(Debug, Default)]
pub struct LinkStats {
    connected: AtomicBool,
    connects: AtomicU64,
    disconnects: AtomicU64,
    records_written: AtomicU64,
    records_acked: AtomicU64,
    keepalives_sent: AtomicU64,
    keepalive_timeouts: AtomicU64,
    protocol_errors: AtomicU64,
    datagrams_refused: AtomicU64,
    datagrams_dropped: AtomicU64,
    changes: Changes,
}

/// A copy of [`LinkStats`] at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkStatsSnapshot {
    /// A connection is up.
    pub connected: bool,
    /// Connections established.
    pub connects: u64,
    /// Connections lost or closed.
    pub disconnects: u64,
    /// Records written to the agency, repeats included.
    pub records_written: u64,
    /// Records acknowledged (removed from the spool).
    pub records_acked: u64,
    /// Keep-alives written.
    pub keepalives_sent: u64,
    /// Connections killed because a keep-alive went unanswered.
    pub keepalive_timeouts: u64,
    /// Connections closed for a protocol error (unexpected or undecodable PDU).
    pub protocol_errors: u64,
    /// [`Carrier::Datagrams`]: ICMP port unreachable reports from the agency's host (a
    /// datagram sent earlier found no listener and is lost).
    pub datagrams_refused: u64,
    /// [`Carrier::Datagrams`]: records too large for one UDP datagram, dropped (the
    /// encoders keep under the limit; this counts what got past them).
    pub datagrams_dropped: u64,
}

impl LinkStats {
    /// All counters zero, not connected.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current values.
    pub fn snapshot(&self) -> LinkStatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        LinkStatsSnapshot {
            connected: self.connected.load(Ordering::Relaxed),
            connects: get(&self.connects),
            disconnects: get(&self.disconnects),
            records_written: get(&self.records_written),
            records_acked: get(&self.records_acked),
            keepalives_sent: get(&self.keepalives_sent),
            keepalive_timeouts: get(&self.keepalive_timeouts),
            protocol_errors: get(&self.protocol_errors),
            datagrams_refused: get(&self.datagrams_refused),
            datagrams_dropped: get(&self.datagrams_dropped),
        }
    }

    /// Waits until `cond` holds for the statistics and returns the snapshot it held for.
    /// `cond` is checked at once and again after every change of a counter or of the
    /// connection state: an event to act on (alert when the link goes down, wait until a
    /// backlog is acknowledged) without polling. Bound the wait with a timeout when the
    /// condition may never hold.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use li_handover::hi::LinkStats;
    ///
    /// # async fn example(stats: &LinkStats) {
    /// let up = tokio::time::timeout(Duration::from_secs(30), stats.wait_for(|s| s.connected));
    /// if up.await.is_err() {
    ///     eprintln!("the agency is still unreachable after 30 s");
    /// }
    /// // Everything written so far acknowledged by the agency:
    /// let written = stats.snapshot().records_written;
    /// stats.wait_for(|s| s.records_acked >= written).await;
    /// # }
    /// # let stats = LinkStats::new();
    /// # let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    /// # runtime.block_on(stats.wait_for(|s| s.records_acked == 0));
    /// ```
    pub async fn wait_for(
        &self,
        mut cond: impl FnMut(&LinkStatsSnapshot) -> bool,
    ) -> LinkStatsSnapshot {
        self.changes
            .wait_for(|| {
                let snapshot = self.snapshot();
                cond(&snapshot).then_some(snapshot)
            })
            .await
    }

    fn add(&self, counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
        self.changes.changed();
    }

    fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::Relaxed);
        self.changes.changed();
    }
}

/// The producer side of a link: appends encoded PS-PDUs to the spool and wakes the link.
///
/// It watches the spool's disk bound: a refused append ([`SpoolError::Full`]) raises the
/// alarm (an `error!` log line, [`SpoolAlarm::Raised`] to the observer, the
/// [`DeliveryQueue::refused`] counter); the first append accepted once the spool is below
/// 90 % of its bound again clears it ([`SpoolAlarm::Cleared`] with the number of records
/// refused meanwhile). Crossing 80 % logs a warning first.
pub struct DeliveryQueue<S = Spool> {
    spool: Arc<Mutex<S>>,
    wake: Arc<Notify>,
    alarm: Arc<AlarmState>,
}

impl<S> Clone for DeliveryQueue<S> {
    fn clone(&self) -> Self {
        Self {
            spool: Arc::clone(&self.spool),
            wake: Arc::clone(&self.wake),
            alarm: Arc::clone(&self.alarm),
        }
    }
}

/// A change of a spool's alarm state, for an observer (metrics, audit log).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpoolAlarm {
    /// The spool passed 80 % of its disk bound.
    HighWater {
        /// Bytes in use.
        used: u64,
        /// The bound.
        limit: u64,
    },
    /// The spool is full: records are being refused.
    Raised {
        /// Bytes in use.
        used: u64,
        /// The bound.
        limit: u64,
    },
    /// Records are accepted again.
    Cleared {
        /// Records refused while the alarm was raised.
        refused: u64,
    },
}

/// Receives [`SpoolAlarm`]s (called on the producer's task; keep it short).
pub type AlarmObserver = Arc<dyn Fn(&str, &SpoolAlarm) + Send + Sync>;

#[derive(Default)]
struct AlarmState {
    name: String,
    raised: AtomicBool,
    high: AtomicBool,
    refused: AtomicU64,
    refused_in_alarm: AtomicU64,
    observer: Option<AlarmObserver>,
}

impl AlarmState {
    fn notify(&self, alarm: &SpoolAlarm) {
        if let Some(observer) = &self.observer {
            observer(&self.name, alarm);
        }
    }

    /// One more record refused while the spool is full.
    fn count_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        self.refused_in_alarm.fetch_add(1, Ordering::Relaxed);
    }

    fn after<T>(&self, spool: &Spool, result: &Result<T, SpoolError>) {
        let (used, limit) = (spool.bytes(), spool.max_bytes());
        match result {
            Err(SpoolError::Full { used, limit, .. }) => {
                self.count_refused();
                if !self.raised.swap(true, Ordering::Relaxed) {
                    error!(link = %self.name, used, limit,
                        "ALARM: spool full, records are being refused until the agency takes delivery");
                    self.notify(&SpoolAlarm::Raised {
                        used: *used,
                        limit: *limit,
                    });
                }
            }
            Err(_) => {}
            Ok(_) => {
                if used.saturating_mul(10) < limit.saturating_mul(9)
                    && self.raised.swap(false, Ordering::Relaxed)
                {
                    let refused = self.refused_in_alarm.swap(0, Ordering::Relaxed);
                    warn!(link = %self.name, refused, "spool alarm cleared; records refused meanwhile: {refused}");
                    self.notify(&SpoolAlarm::Cleared { refused });
                }
                let high = used.saturating_mul(5) >= limit.saturating_mul(4);
                if high != self.high.swap(high, Ordering::Relaxed) && high {
                    warn!(link = %self.name, used, limit, "spool above 80 % of its bound");
                    self.notify(&SpoolAlarm::HighWater { used, limit });
                }
            }
        }
    }
}

impl<S: LinkSpool> DeliveryQueue<S> {
    /// A queue over the spool and wake-up shared with [`run_link`].
    pub fn new(spool: Arc<Mutex<S>>, wake: Arc<Notify>) -> Self {
        Self::with_alarm(spool, wake, "spool", None)
    }

    /// As [`Self::new`], naming the queue in alarm logs and reporting alarms to `observer`.
    pub fn with_alarm(
        spool: Arc<Mutex<S>>,
        wake: Arc<Notify>,
        name: impl Into<String>,
        observer: Option<AlarmObserver>,
    ) -> Self {
        let alarm = AlarmState {
            name: name.into(),
            observer,
            ..AlarmState::default()
        };
        Self {
            spool,
            wake,
            alarm: Arc::new(alarm),
        }
    }

    /// The spool, shared with the link.
    pub fn spool(&self) -> &Arc<Mutex<S>> {
        &self.spool
    }

    /// The wake-up, shared with the link.
    pub fn wake(&self) -> &Arc<Notify> {
        &self.wake
    }

    /// Records refused because the spool was full, since the queue was made.
    pub fn refused(&self) -> u64 {
        self.alarm.refused.load(Ordering::Relaxed)
    }

    /// The spool-full alarm is raised.
    pub fn alarm_raised(&self) -> bool {
        self.alarm.raised.load(Ordering::Relaxed)
    }

    /// Spooled records not yet acknowledged, and bytes on disk.
    pub async fn depth(&self) -> (u64, u64) {
        let s = self.spool.lock().await;
        (s.records().pending(), s.records().bytes())
    }
}

impl DeliveryQueue<Spool> {
    /// Accepts one encoded PS-PDU: once this returns `Ok`, the record is in the spool and will
    /// be delivered at least once. [`SpoolError::Full`] means it was *not* accepted (the
    /// alarm is raised). Returns the record's spool id.
    ///
    /// The append (and the fsync the spool's policy asks for) runs on the calling task's
    /// thread.
    pub async fn enqueue(&self, pdu: &[u8]) -> Result<u64, SpoolError> {
        let mut spool = self.spool.lock().await;
        let result = spool.append(pdu);
        self.alarm.after(&spool, &result);
        drop(spool);
        self.wake.notify_one();
        result
    }

    /// Accepts several PDUs together (one write and at most one fsync); all or none.
    pub async fn enqueue_batch(&self, pdus: &[&[u8]]) -> Result<Range<u64>, SpoolError> {
        let mut spool = self.spool.lock().await;
        let result = spool.append_batch(pdus);
        self.alarm.after(&spool, &result);
        drop(spool);
        self.wake.notify_one();
        result
    }
}

impl DeliveryQueue<NumberedSpool> {
    /// Accepts the PS-PDU `encode` builds with the next sequence number of (`liid`, `cin`)
    /// for this destination (see [`NumberedSpool::append_with`]): the number is used only if
    /// the record is accepted. Returns the spool id and the sequence number.
    pub async fn enqueue_numbered(
        &self,
        liid: li_core::Liid,
        cin: li_core::Cin,
        encode: impl FnOnce(u32) -> Vec<u8>,
    ) -> Result<(u64, u32), SpoolError> {
        let mut spool = self.spool.lock().await;
        let result = spool.append_with(liid, cin, encode);
        self.alarm.after(spool.spool(), &result);
        drop(spool);
        if result.is_ok() {
            self.wake.notify_one();
        }
        result
    }

    /// Accepts several records for this destination together, numbered and encoded as
    /// [`NumberedSpool::append_batch_with`] does (one write, at most one fsync: group
    /// commit), from a thread that may block (not from an async task: it takes the spool's
    /// lock with `blocking_lock` and may wait for the disk).
    ///
    /// Returns the records refused, by index, with the reason; every other record was
    /// accepted. When the batch cannot be taken whole, its records are appended one by one
    /// in order: one too large for a segment is refused alone; once the disk bound is
    /// reached (the alarm raised) or the spool fails, that record and the rest are refused.
    pub fn enqueue_numbered_batch_blocking(
        &self,
        keys: &[(li_core::Liid, li_core::Cin)],
        buf: &mut Vec<u8>,
        mut encode: impl FnMut(usize, u32, &mut Vec<u8>),
    ) -> Vec<(usize, SpoolError)> {
        let mut refused = Vec::new();
        if keys.is_empty() {
            return refused;
        }
        let mut spool = self.spool.blocking_lock();
        let whole = spool.append_batch_with(keys, buf, &mut encode);
        let mut accepted = 0;
        match whole {
            Ok(_) => {
                self.alarm.after(spool.spool(), &whole);
                accepted = keys.len();
            }
            Err(error) if keys.len() == 1 => {
                let whole = Err::<(), _>(error);
                self.alarm.after(spool.spool(), &whole);
                if let Err(error) = whole {
                    refused.push((0, error));
                }
            }
            // Not reported to the alarm: each record is, by its own attempt below.
            Err(_) => {
                let mut stop: Option<String> = None;
                let mut full = false;
                for (i, key) in keys.iter().enumerate() {
                    if let Some(reason) = &stop {
                        let error = SpoolError::Stopped {
                            dir: spool.spool().dir().to_owned(),
                            reason: reason.clone(),
                        };
                        if full {
                            // Refused because the spool is full, as the record before it.
                            self.alarm.count_refused();
                        }
                        refused.push((i, error));
                        continue;
                    }
                    let one =
                        spool.append_batch_with(std::slice::from_ref(key), buf, |_, seq, out| {
                            encode(i, seq, out);
                        });
                    self.alarm.after(spool.spool(), &one);
                    match one {
                        Ok(_) => accepted += 1,
                        Err(error @ SpoolError::TooLarge { .. }) => refused.push((i, error)),
                        Err(error) => {
                            full = matches!(error, SpoolError::Full { .. });
                            stop = Some(format!("refused after an earlier record: {error}"));
                            refused.push((i, error));
                        }
                    }
                }
            }
        }
        drop(spool);
        if accepted > 0 {
            self.wake.notify_one();
        }
        refused
    }
}

impl<S> std::fmt::Debug for DeliveryQueue<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryQueue")
            .field("name", &self.alarm.name)
            .finish_non_exhaustive()
    }
}

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
enum LinkError {
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    #[error("connecting timed out after {0:?}")]
    ConnectTimeout(Duration),
    #[error(transparent)]
    Violation(#[from] LinkViolation),
    #[error("a write did not complete within {0:?}")]
    WriteStalled(Duration),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("the agency closed the connection")]
    Closed,
    #[error("spool: {0}")]
    Spool(#[from] SpoolError),
    #[error("spool task failed: {0}")]
    SpoolTask(#[from] tokio::task::JoinError),
}

/// A connection to the agency, TCP or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// A delivery link running on its own task: [`run_link`] over a [`DeliveryQueue`], with
/// its statistics and its stop. This is how a link is started (the mediator starts one per
/// destination this way).
pub struct DeliveryLink<S = Spool> {
    queue: DeliveryQueue<S>,
    stats: Arc<LinkStats>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl<S> std::fmt::Debug for DeliveryLink<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryLink")
            .field("stats", &self.stats.snapshot())
            .finish_non_exhaustive()
    }
}

impl<S: LinkSpool + Send + 'static> DeliveryLink<S> {
    /// Spawns [`run_link`] with `config` over `queue`'s spool (call it within a tokio
    /// runtime). Records enqueued on `queue` (or a clone) are delivered by it.
    pub fn spawn(config: LinkConfig, queue: DeliveryQueue<S>) -> Self {
        let stats = Arc::new(LinkStats::new());
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(run_link(
            config,
            Arc::clone(queue.spool()),
            Arc::clone(queue.wake()),
            shutdown,
            Arc::clone(&stats),
        ));
        Self {
            queue,
            stats,
            stop,
            task,
        }
    }
}

impl<S> DeliveryLink<S> {
    /// The queue the link delivers from.
    pub fn queue(&self) -> &DeliveryQueue<S> {
        &self.queue
    }

    /// The link's statistics.
    pub fn stats(&self) -> &Arc<LinkStats> {
        &self.stats
    }

    /// Aborts the link's task at once, as a crash would (nothing is acknowledged or
    /// persisted on the way out); for tests of recovery.
    pub async fn abort(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    /// Stops the link: it finishes the write in progress and closes its connection; what
    /// was not acknowledged stays in the spool. Waits at most `within`, then aborts the
    /// task (a link must never outlive its spool, which may be reopened at once); returns
    /// whether it stopped in time.
    pub async fn stop(self, within: Duration) -> bool {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if timeout(within, &mut task).await.is_ok() {
            return true;
        }
        task.abort();
        let _ = task.await;
        false
    }
}

/// Runs the link until `shutdown` becomes `true` (or its sender is dropped): connects,
/// delivers the spool's records, reconnects after failures. See the
/// [module documentation](self) for the delivery guarantee.
pub async fn run_link<S: LinkSpool>(
    config: LinkConfig,
    spool: Arc<Mutex<S>>,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    stats: Arc<LinkStats>,
) {
    let link = Link {
        config: &config,
        spool: &spool,
        wake: &wake,
        stats: &stats,
    };
    if config.carrier == Carrier::Datagrams {
        link.run_datagrams(&mut shutdown).await;
        link.persist_ack().await;
        info!(link = %config.name, "link stopped");
        return;
    }
    let mut backoff = Backoff::new(config.backoff_min, config.backoff_max);
    let mut keepalive_counter = 0u32;
    loop {
        let connected = tokio::select! {
            biased;
            () = shutdown_signal(&mut shutdown) => break,
            r = link.connect() => r,
        };
        match connected {
            Ok(io) => {
                stats.add(&stats.connects, 1);
                stats.set_connected(true);
                info!(link = %config.name, addr = %config.addr, "connected");
                let acked_before = stats.records_acked.load(Ordering::Relaxed);
                let since = Instant::now();
                let result = link
                    .deliver(io, &mut keepalive_counter, &mut shutdown)
                    .await;
                // Proved alive: records acknowledged, or up for a keep-alive interval.
                backoff.connection_ended(
                    since,
                    stats.records_acked.load(Ordering::Relaxed) > acked_before,
                    config.keepalive_interval,
                );
                stats.set_connected(false);
                stats.add(&stats.disconnects, 1);
                link.persist_ack().await;
                match result {
                    Ok(()) => break,
                    Err(e) => {
                        match e {
                            LinkError::Violation(LinkViolation::KeepAliveTimeout { .. }) => {
                                stats.add(&stats.keepalive_timeouts, 1);
                            }
                            LinkError::Protocol(_) | LinkError::Violation(_) => {
                                stats.add(&stats.protocol_errors, 1);
                            }
                            _ => {}
                        }
                        warn!(link = %config.name, addr = %config.addr, error = %e,
                            "connection closed; records not acknowledged will be re-sent");
                    }
                }
            }
            Err(e) => {
                warn!(link = %config.name, addr = %config.addr, error = %e, "connection failed");
            }
        }
        let delay = backoff.next_delay();
        debug!(link = %config.name, retry_in = ?delay, "reconnecting");
        tokio::select! {
            biased;
            () = shutdown_signal(&mut shutdown) => break,
            () = sleep(delay) => {}
        }
    }
    link.persist_ack().await;
    info!(link = %config.name, "link stopped");
}

/// What a link's tasks share.
struct Link<'a, S> {
    config: &'a LinkConfig,
    spool: &'a Arc<Mutex<S>>,
    wake: &'a Notify,
    stats: &'a LinkStats,
}

impl<S: LinkSpool> Link<'_, S> {
    fn add(&self, counter: &AtomicU64, n: u64) {
        self.stats.add(counter, n);
    }

    async fn connect(&self) -> Result<Box<dyn Io>, LinkError> {
        let attempt = async {
            let tcp = TcpStream::connect(&self.config.addr).await?;
            tcp.set_nodelay(true)?;
            if let Some(settle) = silent_settle(self.config) {
                hold_silent_peer_to_account(&tcp, settle, self.config.keepalive_interval)?;
            }
            match &self.config.tls {
                None => Ok::<Box<dyn Io>, LinkError>(Box::new(tcp)),
                Some((connector, name)) => {
                    let tls = connector.connect(name.clone(), tcp).await?;
                    Ok(Box::new(tls) as Box<dyn Io>)
                }
            }
        };
        timeout(self.config.connect_timeout, attempt)
            .await
            .map_err(|_| LinkError::ConnectTimeout(self.config.connect_timeout))?
    }

    /// Delivers over one connection until it fails (`Err`) or shutdown (`Ok`).
    async fn deliver(
        &self,
        io: Box<dyn Io>,
        keepalive_counter: &mut u32,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), LinkError> {
        let cfg = self.config;
        let chunk_records = cfg.chunk_records.max(1);
        let (rd, mut wr) = tokio::io::split(io);
        let (tx, mut from_agency) = mpsc::channel(64);
        // Dropping the set (any return from here) aborts the reader.
        let mut reader = JoinSet::new();
        reader.spawn(read_agency(rd, tx, Arc::clone(&cfg.answers)));

        let acked = {
            let guard = self.spool.lock().await;
            let s = guard.records();
            s.next_id().saturating_sub(s.pending()).saturating_sub(1)
        };
        let cadence = KeepAliveCadence::new(
            cfg.ack_every_records,
            cfg.ack_delay,
            cfg.keepalive_interval,
            Instant::now(),
        );
        // Every decision (window, keep-alives due, answers, timeouts) is the state's; this
        // loop only reads the spool, writes bytes and waits.
        let mut state = LinkState::new(acked, cfg.max_unacked, cfg.keepalive_timeout, cadence);
        let mut buffered: VecDeque<(u64, Bytes)> = VecDeque::new();
        let far = Instant::now() + Duration::from_secs(86_400 * 365);
        let mut buf = Vec::new();
        // A silent agency's keep-alives are not written: each is answered by the link itself
        // once the connection stayed up for the settle time after it (`Carrier::SilentStream`).
        let settle = silent_settle(cfg);
        let mut settling: VecDeque<(u32, Instant)> = VecDeque::new();

        loop {
            let ka_deadline = state.keepalive_deadline();
            let room = state.room();
            let backlog = room > 0
                && (!buffered.is_empty()
                    || self.spool.lock().await.records().next_id() > state.next_to_write());
            tokio::select! {
                biased;
                () = sleep_until(ka_deadline.map_or(far, |(_, d)| d)), if ka_deadline.is_some() => {
                    state.check_timeout(Instant::now())?;
                }
                () = sleep_until(settling.front().map_or(far, |(_, at)| *at)), if !settling.is_empty() => {
                    if let Some((counter, _)) = settling.pop_front() {
                        let before = state.acked();
                        if let Some(last) = state.answered(counter)? {
                            self.ack(last).await?;
                            self.add(&self.stats.records_acked, last - before);
                        }
                    }
                }
                event = from_agency.recv() => match event {
                    Some(Ok(answer)) => {
                        let before = state.acked();
                        if let Some(last) = state.answered(answer)? {
                            self.ack(last).await?;
                            self.add(&self.stats.records_acked, last - before);
                        }
                    }
                    Some(Err(e)) => return Err(e),
                    None => return Err(LinkError::Closed),
                },
                () = shutdown_signal(shutdown) => {
                    // A clean close (TLS close_notify, then FIN), bounded.
                    let _ = timeout(cfg.keepalive_timeout, wr.shutdown()).await;
                    return Ok(());
                }
                () = sleep_until(state.keepalive_due_at()) => {
                    buf.clear();
                    let counter = self.push_keepalive(&mut buf, keepalive_counter, settle.is_some());
                    if !buf.is_empty() {
                        self.write(&mut wr, &buf, ka_deadline).await?;
                    }
                    let now = Instant::now();
                    state.keepalive_written(counter, now);
                    if let Some(settle) = settle {
                        settling.push_back((counter, now + settle));
                    }
                }
                () = std::future::ready(()), if backlog => {
                    let next = state.next_to_write();
                    if buffered.is_empty() {
                        // Two chunks ahead at most: bounded memory when reading a backlog from disk.
                        buffered = self.read_spool(next, chunk_records.saturating_mul(2)).await?.into();
                        if buffered.is_empty() {
                            // The spool has ids past `next` it cannot read (a corrupt segment,
                            // reported when the spool was opened): skip them.
                            let end = self.spool.lock().await.records().next_id();
                            error!(link = %cfg.name, from = next, to = end.saturating_sub(1),
                                "spooled records unreadable, skipped");
                            state.skip_unreadable(end, Instant::now());
                            continue;
                        }
                    }
                    let take = usize::try_from(room).unwrap_or(usize::MAX).min(chunk_records);
                    buf.clear();
                    let mut written = 0u64;
                    let mut last = state.last_written();
                    while written < take as u64 {
                        let Some((id, record)) = buffered.pop_front() else { break };
                        buf.extend_from_slice(&record);
                        last = id;
                        written += 1;
                    }
                    // The keep-alive that acknowledges them rides in the same write when due.
                    let keepalive = state
                        .records_written(last, written, Instant::now())
                        .then(|| self.push_keepalive(&mut buf, keepalive_counter, settle.is_some()));
                    self.write(&mut wr, &buf, ka_deadline).await?;
                    self.add(&self.stats.records_written, written);
                    if let Some(counter) = keepalive {
                        let now = Instant::now();
                        state.keepalive_written(counter, now);
                        if let Some(settle) = settle {
                            settling.push_back((counter, now + settle));
                        }
                    }
                }
                () = self.wake.notified(), if !backlog => {}
            }
        }
    }

    /// Appends the next keep-alive to `buf` (nothing when `silent`: the agency answers
    /// nothing, the keep-alive only marks what the settle time acknowledges); returns its
    /// counter.
    fn push_keepalive(&self, buf: &mut Vec<u8>, counter: &mut u32, silent: bool) -> u32 {
        *counter = counter.wrapping_add(1);
        if !silent {
            buf.extend_from_slice(&(self.config.keepalive)(*counter));
            self.add(&self.stats.keepalives_sent, 1);
        }
        *counter
    }

    /// [`Carrier::Datagrams`]: sends the spool's records as UDP datagrams until shutdown,
    /// each removed from the spool once sent (see [`Carrier::Datagrams`]). A socket that
    /// cannot be opened or fails is opened again after the backoff.
    async fn run_datagrams(&self, shutdown: &mut watch::Receiver<bool>) {
        let cfg = self.config;
        let mut backoff = Backoff::new(cfg.backoff_min, cfg.backoff_max);
        loop {
            // It watches the shutdown itself, between batches.
            let result = self.send_datagrams(shutdown).await;
            self.stats.set_connected(false);
            match result {
                Ok(()) => return,
                Err(e) => {
                    warn!(link = %cfg.name, addr = %cfg.addr, error = %e,
                        "datagram socket failed; records not sent yet stay in the spool");
                }
            }
            let delay = backoff.next_delay();
            tokio::select! {
                biased;
                () = shutdown_signal(shutdown) => return,
                () = sleep(delay) => {}
            }
        }
    }

    /// One socket's life: opens it, then sends what the spool holds, batch by batch.
    async fn send_datagrams(&self, shutdown: &mut watch::Receiver<bool>) -> Result<(), LinkError> {
        let cfg = self.config;
        let peer = tokio::net::lookup_host(&cfg.addr)
            .await?
            .next()
            .ok_or_else(|| LinkError::Protocol(format!("no address for {}", cfg.addr)))?;
        let local: std::net::SocketAddr = if peer.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = tokio::net::UdpSocket::bind(local).await?;
        socket.connect(peer).await?;
        self.add(&self.stats.connects, 1);
        self.stats.set_connected(true);
        info!(link = %cfg.name, addr = %peer, "sending datagrams");
        let chunk = cfg.chunk_records.max(1);
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let next = {
                let guard = self.spool.lock().await;
                let s = guard.records();
                (s.next_id().saturating_sub(s.pending()), s.next_id())
            };
            if next.0 >= next.1 {
                tokio::select! {
                    biased;
                    () = shutdown_signal(shutdown) => return Ok(()),
                    () = self.wake.notified() => continue,
                }
            }
            let records = self.read_spool(next.0, chunk).await?;
            if records.is_empty() {
                // Ids the spool cannot read (a corrupt segment, reported when it was opened).
                error!(link = %cfg.name, from = next.0, to = next.1 - 1,
                    "spooled records unreadable, skipped");
                self.ack(next.1 - 1).await?;
                continue;
            }
            // The last id done with (sent, or no datagram to send), and what went out.
            let (mut done, mut sent, mut dropped) = (next.0.saturating_sub(1), 0u64, 0u64);
            let mut failure = None;
            for (id, record) in &records {
                if record.is_empty() {
                    // A message with no form in the family: no datagram.
                    done = *id;
                    continue;
                }
                if record.len() > MAX_DATAGRAM {
                    // Never sendable (the encoder keeps under it): dropped, named and counted.
                    error!(link = %cfg.name, id, len = record.len(),
                        "record too large for one UDP datagram, dropped");
                    dropped += 1;
                    done = *id;
                    continue;
                }
                match send_datagram(&socket, record).await {
                    Ok(refused) => {
                        self.add(&self.stats.datagrams_refused, refused);
                        sent += 1;
                        done = *id;
                    }
                    Err(e) => {
                        // Resent from this record on the next socket: nothing twice.
                        failure = Some(e);
                        break;
                    }
                }
            }
            if done >= next.0 {
                self.ack(done).await?;
                self.add(&self.stats.records_acked, done + 1 - next.0);
            }
            self.add(&self.stats.records_written, sent);
            self.add(&self.stats.datagrams_dropped, dropped);
            if let Some(e) = failure {
                return Err(e.into());
            }
        }
    }

    /// Writes `buf`, giving up at the oldest outstanding keep-alive's deadline or after
    /// `keepalive_timeout`, whichever is first.
    async fn write(
        &self,
        wr: &mut WriteHalf<Box<dyn Io>>,
        buf: &[u8],
        ka_deadline: Option<(u32, Instant)>,
    ) -> Result<(), LinkError> {
        let stall = Instant::now() + self.config.keepalive_timeout;
        let deadline = ka_deadline.map_or(stall, |(_, d)| d.min(stall));
        let write = async {
            wr.write_all(buf).await?;
            wr.flush().await
        };
        match timeout_at(deadline, write).await {
            Ok(r) => Ok(r?),
            Err(_) => match ka_deadline {
                Some((counter, d)) if d <= stall => {
                    Err(LinkError::Violation(LinkViolation::KeepAliveTimeout {
                        counter,
                        timeout: self.config.keepalive_timeout,
                    }))
                }
                _ => Err(LinkError::WriteStalled(self.config.keepalive_timeout)),
            },
        }
    }

    /// Up to `max` records from `from`: from the spool's memory tail when it holds them,
    /// else read from disk on a blocking thread.
    async fn read_spool(&self, from: u64, max: usize) -> Result<Vec<(u64, Bytes)>, LinkError> {
        if let Some(records) = self.spool.lock().await.records().read_memory(from, max) {
            return Ok(records);
        }
        let spool = Arc::clone(self.spool);
        Ok(tokio::task::spawn_blocking(move || {
            spool.blocking_lock().records().read_from(from, max)
        })
        .await??)
    }

    async fn ack(&self, id: u64) -> Result<(), LinkError> {
        let spool = Arc::clone(self.spool);
        debug!(link = %self.config.name, id, "acknowledged");
        Ok(tokio::task::spawn_blocking(move || spool.blocking_lock().ack(id)).await??)
    }

    /// Persists the acknowledged point (after a disconnection and at shutdown), so that a
    /// crash repeats as little as possible.
    async fn persist_ack(&self) {
        let spool = Arc::clone(self.spool);
        let done = tokio::task::spawn_blocking(move || spool.blocking_lock().persist_ack()).await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => error!(link = %self.config.name, error = %e, "persisting the ack failed"),
            Err(e) => error!(link = %self.config.name, error = %e, "persisting the ack failed"),
        }
    }
}

/// [`Carrier::SilentStream`]'s settle time in force: at most half the keep-alive timeout.
fn silent_settle(cfg: &LinkConfig) -> Option<Duration> {
    match cfg.carrier {
        Carrier::SilentStream { settle } => Some(settle.min(cfg.keepalive_timeout / 2)),
        _ => None,
    }
}

/// The send buffer of a silent stream: little is written ahead of what the agency takes.
const SILENT_SEND_BUFFER: usize = 64 * 1024;

/// Makes the kernel give up a silent stream ([`Carrier::SilentStream`]) whose agency does not
/// take what is written, before it could count as delivered: `TCP_USER_TIMEOUT` at 3/5 of the
/// settle time (data unacknowledged by the agency's TCP, or not sent for want of window,
/// that long closes the connection, and its records are written again on the next one), a
/// small send buffer, and TCP keep-alives when idle.
fn hold_silent_peer_to_account(
    tcp: &TcpStream,
    settle: Duration,
    idle: Duration,
) -> io::Result<()> {
    let socket = socket2::SockRef::from(tcp);
    socket.set_tcp_user_timeout(Some(settle * 3 / 5))?;
    socket.set_send_buffer_size(SILENT_SEND_BUFFER)?;
    socket.set_keepalive(true)?;
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(idle.max(Duration::from_secs(1)))
        .with_interval(Duration::from_secs(1))
        .with_retries(3);
    socket.set_tcp_keepalive(&keepalive)
}

/// The largest UDP payload over IPv4 (65,535 less the IPv4 and UDP headers).
const MAX_DATAGRAM: usize = 65_507;

/// Sends one datagram on a connected socket; `Ok` with the ICMP port-unreachable reports it
/// met (each is an earlier datagram's: the send that reports one did not go out, and is made
/// again, at most twice).
async fn send_datagram(socket: &tokio::net::UdpSocket, record: &[u8]) -> io::Result<u64> {
    let mut refused = 0;
    loop {
        match socket.send(record).await {
            Ok(_) => return Ok(refused),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused && refused < 2 => refused += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Reads the agency's side of the connection: each `keep-aliveResponse` becomes `Ok` with its
/// sequence number; the first problem ends the task with `Err`.
async fn read_agency(
    mut rd: ReadHalf<Box<dyn Io>>,
    tx: mpsc::Sender<Result<u32, LinkError>>,
    answers: AnswerReader,
) {
    let mut buf = BytesMut::with_capacity(4096);
    let end = loop {
        match next_agency_pdu(&mut buf, &answers) {
            Ok(Some(answer)) => {
                if tx.send(Ok(answer)).await.is_err() {
                    return;
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => break e,
        }
        match rd.read_buf(&mut buf).await {
            Ok(0) if buf.is_empty() => break LinkError::Closed,
            Ok(0) => {
                break LinkError::Protocol(format!(
                    "connection closed inside a PDU ({} octets pending)",
                    buf.len()
                ));
            }
            Ok(_) => {}
            Err(e) => break LinkError::Io(e),
        }
    };
    let _ = tx.send(Err(end)).await;
}

/// Takes the next complete PDU off `buf`: `Some` with the counter of the keep-alive it
/// answers, `None` when more octets are needed, `Err` for anything else.
fn next_agency_pdu(buf: &mut BytesMut, answers: &AnswerReader) -> Result<Option<u32>, LinkError> {
    let len = match frame_len(buf, MAX_AGENCY_PDU) {
        Ok(Some(len)) if len <= buf.len() => len,
        Ok(_) => return Ok(None),
        Err(e) => return Err(LinkError::Protocol(format!("unframeable input: {e}"))),
    };
    let frame = buf.split_to(len);
    answers(&frame).map(Some).map_err(LinkError::Protocol)
}

/// The [`AnswerReader`] of TS 102 232-1: a `keep-aliveResponse` PS-PDU answers the
/// keep-alive of its sequence number; any other PS-PDU, or an undecodable one, is an error.
pub fn etsi_answer_reader() -> AnswerReader {
    Arc::new(|frame: &[u8]| match PsPdu::decode(frame) {
        Ok(PsPdu {
            header,
            payload: Payload::TriPayload(TriPayload::KeepAliveResponse),
        }) => {
            for field in &header.invalid_fields {
                // Tolerated: the answer is good for what the link needs (its sequence number).
                tracing::warn!(
                    sequence_number = header.sequence_number,
                    tag = field.tag_number,
                    error = %field.error,
                    "keep-alive answer from the agency carries an invalid optional header field; kept as received"
                );
            }
            Ok(header.sequence_number)
        }
        Ok(pdu) => Err(format!(
            "unexpected PS-PDU from the agency ({}, sequence number {})",
            payload_kind(&pdu.payload),
            pdu.header.sequence_number
        )),
        Err(e) => Err(format!("undecodable PS-PDU: {e}")),
    })
}

fn payload_kind(payload: &Payload) -> String {
    match payload {
        Payload::IriPayloadSequence(_) => "IRI payload".into(),
        Payload::CcPayloadSequence(_) => "CC payload".into(),
        Payload::TriPayload(TriPayload::PaddingPdu(p)) => format!("padding of {} octets", p.len()),
        Payload::TriPayload(tri) => format!("TRI {tri:?}"),
        _ => "another payload".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::sync::atomic::AtomicUsize;

    use li_asn1::PayloadDirection;
    use li_core::{Cin, Liid, OperatorId};
    use tokio::net::{TcpListener, TcpSocket};
    use tokio::task::JoinHandle;

    use super::*;
    use crate::spool::SpoolConfig;

    const WAIT: Duration = Duration::from_secs(20);

    fn settings() -> HeaderSettings {
        HeaderSettings::new(Liid::new(b"L").unwrap(), OperatorId::new(b"OP").unwrap())
    }

    fn time() -> Timestamp {
        Timestamp::from_secs_micros(1_704_164_645, 0).unwrap()
    }

    fn cc_pdu(seq: u32) -> Vec<u8> {
        let packet = [0x45u8; 120];
        settings()
            .ip_cc_pdu(
                Cin::new(1),
                seq,
                time(),
                PayloadDirection::FromTarget,
                &packet,
            )
            .encode()
    }

    fn spool_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("li-hi-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// The agency side: collects CC sequence numbers per connection, answers keep-alives.
    #[derive(Default)]
    struct LemfState {
        answer: AtomicBool,
        /// Keep-alives received, over every connection.
        keepalives: AtomicUsize,
        /// Added to the sequence number of each keep-alive response (0: a correct answer).
        answer_skew: std::sync::atomic::AtomicU32,
        /// Close the next connection after this many octets (0: never).
        cut_at: AtomicUsize,
        /// The cut left part of a PDU unread.
        cut_mid_pdu: AtomicBool,
        connections: std::sync::Mutex<Vec<Vec<u32>>>,
        /// CC records received, over every connection (after `connections` has them).
        received: watch::Sender<usize>,
    }

    struct FakeLemf {
        addr: SocketAddr,
        state: Arc<LemfState>,
        task: Option<JoinHandle<()>>,
    }

    impl FakeLemf {
        async fn start() -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let state = Arc::new(LemfState::default());
            state.answer.store(true, Ordering::SeqCst);
            let task = Some(tokio::spawn(serve(listener, Arc::clone(&state))));
            Self { addr, state, task }
        }

        /// Down: no listener, every connection closed.
        async fn stop(&mut self) {
            if let Some(t) = self.task.take() {
                t.abort();
                let _ = t.await;
            }
        }

        async fn restart(&mut self) {
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_reuseaddr(true).unwrap();
            socket.bind(self.addr).unwrap();
            let listener = socket.listen(16).unwrap();
            self.task = Some(tokio::spawn(serve(listener, Arc::clone(&self.state))));
        }

        fn connections(&self) -> Vec<Vec<u32>> {
            self.state.connections.lock().unwrap().clone()
        }

        fn received(&self) -> usize {
            self.connections().iter().map(Vec::len).sum()
        }

        /// Waits until at least `n` CC records were received, over every connection.
        async fn wait_received(&self, n: usize) {
            let mut received = self.state.received.subscribe();
            timeout(WAIT, received.wait_for(|&count| count >= n))
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {n} records"))
                .unwrap();
        }
    }

    async fn serve(listener: TcpListener, state: Arc<LemfState>) {
        let mut conns = JoinSet::new();
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                continue;
            };
            let idx = {
                let mut c = state.connections.lock().unwrap();
                c.push(Vec::new());
                c.len() - 1
            };
            conns.spawn(serve_conn(sock, Arc::clone(&state), idx));
        }
    }

    async fn serve_conn(mut sock: TcpStream, state: Arc<LemfState>, idx: usize) {
        let cut = state.cut_at.swap(0, Ordering::SeqCst);
        let mut buf = Vec::new();
        let mut total = 0usize;
        let mut chunk = [0u8; 4096];
        loop {
            let n = match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let cutting = cut > 0 && total + n >= cut;
            let take = if cutting { cut - total } else { n };
            buf.extend_from_slice(&chunk[..take]);
            total += take;
            while let Some(len) = frame_len(&buf, 1 << 20).unwrap() {
                let pdu = PsPdu::decode(&buf[..len]).unwrap();
                buf.drain(..len);
                match pdu.payload {
                    Payload::CcPayloadSequence(_) => {
                        state.connections.lock().unwrap()[idx].push(pdu.header.sequence_number);
                        state.received.send_modify(|count| *count += 1);
                    }
                    Payload::TriPayload(TriPayload::KeepAlive) => {
                        state.keepalives.fetch_add(1, Ordering::SeqCst);
                        if state.answer.load(Ordering::SeqCst) {
                            let response = settings()
                                .tri_pdu(
                                    pdu.header
                                        .sequence_number
                                        .wrapping_add(state.answer_skew.load(Ordering::SeqCst)),
                                    time(),
                                    TriPayload::KeepAliveResponse,
                                )
                                .encode();
                            if sock.write_all(&response).await.is_err() {
                                return;
                            }
                        }
                    }
                    other => panic!("unexpected payload {other:?}"),
                }
            }
            if cutting {
                state.cut_mid_pdu.store(!buf.is_empty(), Ordering::SeqCst);
                return;
            }
        }
    }

    struct Harness {
        /// The spool's acknowledged point when the link started.
        acked_at_start: u64,
        link: DeliveryLink,
    }

    fn fast_config(addr: SocketAddr) -> LinkConfig {
        let mut cfg = LinkConfig::new("LEA-1 HI3", addr.to_string(), keepalive_builder(settings()));
        cfg.keepalive_interval = Duration::from_millis(100);
        // Generous: a test that wants a keep-alive timeout sets a short one; the others must
        // see none (nor a connect timeout) however loaded the machine.
        cfg.keepalive_timeout = Duration::from_secs(10);
        cfg.connect_timeout = Duration::from_secs(10);
        cfg.backoff_min = Duration::from_millis(20);
        cfg.backoff_max = Duration::from_millis(200);
        cfg.chunk_records = 64;
        cfg.ack_every_records = 64;
        cfg.max_unacked = 256;
        cfg
    }

    /// The last record id acknowledged in the spool (ids are consecutive from 1).
    fn acked_point(spool: &Spool) -> u64 {
        spool.next_id() - spool.pending() - 1
    }

    /// Waits until the link has acknowledged every record in the spool: the link's count
    /// of acknowledged records reaches the spool's last id (counted from `acked_at_start`,
    /// the acknowledged point when the link started). The spool is then empty.
    async fn wait_drained<S: LinkSpool>(spool: &Mutex<S>, stats: &LinkStats, acked_at_start: u64) {
        let last = spool.lock().await.records().next_id() - 1;
        wait_stats("the spool to be acknowledged", stats, |s| {
            s.records_acked >= last - acked_at_start
        })
        .await;
        assert_eq!(spool.lock().await.records().pending(), 0, "spool emptied");
    }

    /// Waits until `cond` holds for the link's statistics (a hang guard only bounds it).
    async fn wait_stats(
        what: &str,
        stats: &LinkStats,
        cond: impl FnMut(&LinkStatsSnapshot) -> bool,
    ) -> LinkStatsSnapshot {
        timeout(WAIT, stats.wait_for(cond))
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
    }

    fn start_link(cfg: LinkConfig, spool: Spool) -> Harness {
        let acked_at_start = acked_point(&spool);
        let queue = DeliveryQueue::new(Arc::new(Mutex::new(spool)), Arc::new(Notify::new()));
        let link = DeliveryLink::spawn(cfg, queue);
        Harness {
            acked_at_start,
            link,
        }
    }

    impl Harness {
        fn queue(&self) -> &DeliveryQueue {
            self.link.queue()
        }

        fn stats(&self) -> &LinkStats {
            self.link.stats()
        }

        async fn enqueue_range(&self, seqs: Range<u32>) {
            for seq in seqs {
                self.queue().enqueue(&cc_pdu(seq)).await.unwrap();
            }
        }

        async fn wait_empty(&self) {
            wait_drained(self.queue().spool(), self.stats(), self.acked_at_start).await;
        }

        async fn shut_down(self) -> LinkStatsSnapshot {
            let stats = Arc::clone(self.link.stats());
            assert!(self.link.stop(WAIT).await, "the link stops");
            stats.snapshot()
        }
    }

    /// Every sequence number `1..=n` arrived; each connection received a contiguous run; a
    /// connection starts at most `window` records before where the earlier ones had reached.
    /// Returns the number of repeats.
    fn check_delivery(connections: &[Vec<u32>], n: u32, window: u64) -> usize {
        let mut seen = vec![false; n as usize + 1];
        let mut reached = 0u32;
        let mut total = 0;
        for (i, conn) in connections.iter().enumerate() {
            if let Some(&first) = conn.first() {
                assert!(
                    u64::from(first) + window > u64::from(reached),
                    "connection {i} starts at {first}, {reached} already reached"
                );
                assert!(first <= reached + 1, "gap before connection {i}: {first}");
            }
            for pair in conn.windows(2) {
                assert_eq!(pair[1], pair[0] + 1, "connection {i} not contiguous");
            }
            for &s in conn {
                seen[s as usize] = true;
                reached = reached.max(s);
            }
            total += conn.len();
        }
        let missing: Vec<usize> = (1..=n as usize).filter(|&s| !seen[s]).collect();
        assert!(missing.is_empty(), "missing {missing:?}");
        total - n as usize
    }

    #[tokio::test]
    async fn delivers_a_thousand_records_and_empties_the_spool() {
        let lemf = FakeLemf::start().await;
        let d = spool_dir("thousand");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let h = start_link(fast_config(lemf.addr), spool);
        h.enqueue_range(1..1001).await;
        h.wait_empty().await;
        let stats = h.shut_down().await;
        let conns = lemf.connections();
        assert_eq!(conns.len(), 1);
        assert_eq!(conns[0], (1..=1000).collect::<Vec<u32>>());
        assert_eq!((stats.records_written, stats.records_acked), (1000, 1000));
        assert!(stats.keepalives_sent >= 1000 / 64);
        assert_eq!((stats.keepalive_timeouts, stats.protocol_errors), (0, 0));
        let (_, recovery) = Spool::open(SpoolConfig::new(&d)).unwrap();
        assert_eq!(recovery.pending, 0, "the ack was persisted at shutdown");
        let _ = std::fs::remove_dir_all(d);
    }

    /// A PacketCable call-data link: the agency answers nothing, the link writes no
    /// keep-alive and still empties the spool, each record once it settled.
    #[tokio::test]
    async fn a_silent_agency_gets_every_record_and_no_keepalive() {
        let lemf = FakeLemf::start().await;
        // A keep-alive would be answered, and its PDU would show in the stream: none may come.
        let d = spool_dir("silent-agency");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let mut cfg = fast_config(lemf.addr);
        cfg.carrier = Carrier::SilentStream {
            settle: Duration::from_millis(50),
        };
        let h = start_link(cfg, spool);
        h.enqueue_range(1..1001).await;
        h.wait_empty().await;
        let stats = h.shut_down().await;
        assert_eq!(lemf.connections(), vec![(1..=1000).collect::<Vec<u32>>()]);
        assert_eq!(
            lemf.state.keepalives.load(Ordering::SeqCst),
            0,
            "no keep-alive written"
        );
        assert_eq!(stats.keepalives_sent, 0);
        assert_eq!((stats.records_written, stats.records_acked), (1000, 1000));
        let _ = std::fs::remove_dir_all(d);
    }

    /// A silent agency whose connection fails before the records settled gets them again on
    /// the next connection: nothing is taken as delivered by a connection that did not last.
    #[tokio::test]
    async fn a_silent_agency_lost_before_the_settle_time_gets_the_records_again() {
        let mut lemf = FakeLemf::start().await;
        let d = spool_dir("silent-lost");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let mut cfg = fast_config(lemf.addr);
        // Longer than the records take to arrive on a loaded machine; the agency is cut
        // before it passes.
        cfg.carrier = Carrier::SilentStream {
            settle: Duration::from_secs(3),
        };
        let window = cfg.max_unacked;
        let h = start_link(cfg, spool);
        h.enqueue_range(1..101).await;
        lemf.wait_received(100).await;
        lemf.stop().await;
        assert_eq!(h.stats().snapshot().records_acked, 0, "nothing settled yet");
        lemf.restart().await;
        h.wait_empty().await;
        let stats = h.shut_down().await;
        assert!(stats.connects >= 2);
        let repeats = check_delivery(&lemf.connections(), 100, window);
        assert_eq!(repeats, 100, "written again on the next connection");
        let _ = std::fs::remove_dir_all(d);
    }

    /// A silent agency that takes nothing (it accepts, never reads, its receive buffer
    /// small): no record counts as delivered; the kernel gives the connection up (the user
    /// timeout) before any settles, and everything stays in the spool.
    #[tokio::test]
    async fn a_silent_agency_that_takes_nothing_gets_nothing_counted_delivered() {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();
        // Accepts and keeps every connection, reading nothing.
        let sink = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                held.push(sock);
            }
        });
        let d = spool_dir("silent-stuck");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let mut cfg = fast_config(addr);
        cfg.carrier = Carrier::SilentStream {
            settle: Duration::from_millis(500),
        };
        let h = start_link(cfg, spool);
        let record = vec![0x30; 8192];
        for _ in 0..200 {
            h.queue().enqueue(&record).await.unwrap();
        }
        // Given up (by the kernel's user timeout or the write stall), twice.
        let stats = wait_stats("the connection given up twice", h.stats(), |s| {
            s.disconnects >= 2
        })
        .await;
        assert_eq!(stats.records_acked, 0, "{stats:?}");
        assert_eq!(h.queue().spool().lock().await.pending(), 200);
        let stats = h.shut_down().await;
        assert_eq!(stats.records_acked, 0, "{stats:?}");
        sink.abort();
        let _ = std::fs::remove_dir_all(d);
    }

    /// PacketCable call content: each record is one UDP datagram, sent once, removed from the
    /// spool once sent; a port without a listener is counted as refused.
    #[tokio::test]
    async fn datagrams_carry_each_record_once_and_count_a_refusing_agency() {
        let agency = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let d = spool_dir("datagrams");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let mut cfg = fast_config(agency.local_addr().unwrap());
        cfg.carrier = Carrier::Datagrams;
        let h = start_link(cfg, spool);
        h.enqueue_range(1..201).await;
        let mut got = Vec::new();
        let mut buf = vec![0u8; 2048];
        while got.len() < 200 {
            let n = timeout(WAIT, agency.recv(&mut buf)).await.unwrap().unwrap();
            let pdu = PsPdu::decode(&buf[..n]).expect("one record per datagram");
            got.push(pdu.header.sequence_number);
        }
        assert_eq!(got, (1..=200).collect::<Vec<u32>>(), "each once, in order");
        h.wait_empty().await;
        let stats = h.shut_down().await;
        assert_eq!((stats.records_written, stats.records_acked), (200, 200));
        assert_eq!((stats.keepalives_sent, stats.datagrams_refused), (0, 0));
        let _ = std::fs::remove_dir_all(&d);

        // A record no datagram can carry is dropped and counted; the link goes on past it.
        let agency = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let d2 = spool_dir("datagrams-too-large");
        let (spool, _) = Spool::open(SpoolConfig::new(&d2)).unwrap();
        let mut cfg = fast_config(agency.local_addr().unwrap());
        cfg.carrier = Carrier::Datagrams;
        let h = start_link(cfg, spool);
        let huge = vec![0x5a; MAX_DATAGRAM + 1];
        for record in [&b"first"[..], &huge, b"", b"last"] {
            h.queue().enqueue(record).await.unwrap();
        }
        for want in [&b"first"[..], b"last"] {
            let n = timeout(WAIT, agency.recv(&mut buf)).await.unwrap().unwrap();
            assert_eq!(&buf[..n], want);
        }
        h.wait_empty().await;
        let stats = h.shut_down().await;
        assert_eq!(
            (
                stats.records_written,
                stats.records_acked,
                stats.datagrams_dropped
            ),
            (2, 4, 1),
            "sent, left the spool, dropped"
        );
        let _ = std::fs::remove_dir_all(&d2);

        // No listener: the host's ICMP port unreachable is counted; the spool still empties
        // (nothing can be re-sent over UDP).
        let port = agency.local_addr().unwrap();
        drop(agency);
        let d = spool_dir("datagrams-refused");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let mut cfg = fast_config(port);
        cfg.carrier = Carrier::Datagrams;
        cfg.chunk_records = 1;
        let h = start_link(cfg, spool);
        h.enqueue_range(1..21).await;
        h.wait_empty().await;
        let stats = h.shut_down().await;
        assert_eq!(stats.records_acked, 20);
        assert!(stats.datagrams_refused >= 1, "{stats:?}");
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn under_load_one_keepalive_covers_a_thousand_records() {
        let lemf = FakeLemf::start().await;
        let d = spool_dir("cadence");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let mut cfg = fast_config(lemf.addr);
        // Only the count may ask for an acknowledgement here.
        cfg.keepalive_interval = Duration::from_secs(3600);
        cfg.ack_delay = Duration::from_secs(3600);
        cfg.chunk_records = 256;
        cfg.ack_every_records = 1024;
        cfg.max_unacked = 4096;
        let h = start_link(cfg, spool);
        let pdus: Vec<Vec<u8>> = (1..=8192).map(cc_pdu).collect();
        let refs: Vec<&[u8]> = pdus.iter().map(Vec::as_slice).collect();
        h.queue().enqueue_batch(&refs).await.unwrap();
        h.wait_empty().await;
        let stats = h.shut_down().await;
        assert_eq!((stats.records_written, stats.records_acked), (8192, 8192));
        assert_eq!(stats.keepalives_sent, 8, "one keep-alive per 1,024 records");
        assert_eq!(lemf.connections(), vec![(1..=8192).collect::<Vec<u32>>()]);
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn a_trickle_is_acknowledged_within_the_delay() {
        let lemf = FakeLemf::start().await;
        let d = spool_dir("trickle");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let mut cfg = fast_config(lemf.addr);
        cfg.keepalive_interval = Duration::from_secs(3600);
        cfg.ack_every_records = 1_000_000;
        let h = start_link(cfg, spool);
        h.enqueue_range(1..4).await;
        // Far fewer than the count: the delay alone brings the acknowledgement.
        h.wait_empty().await;
        let stats = h.shut_down().await;
        assert_eq!(stats.records_acked, 3);
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn an_agency_down_mid_stream_gets_everything_after() {
        let mut lemf = FakeLemf::start().await;
        let d = spool_dir("down");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let cfg = fast_config(lemf.addr);
        let window = cfg.max_unacked;
        let h = start_link(cfg, spool);
        let (outage, during_outage) = tokio::sync::oneshot::channel();
        let producer = {
            let queue = h.queue().clone();
            tokio::spawn(async move {
                let mut during_outage = Some(during_outage);
                for seq in 1..=1000 {
                    queue.enqueue(&cc_pdu(seq)).await.unwrap();
                    if seq == 500
                        && let Some(outage) = during_outage.take()
                    {
                        // The second half is produced while the agency is down.
                        outage.await.unwrap();
                    }
                    if seq % 10 == 0 {
                        // A stream, not a burst: the link runs between records.
                        tokio::task::yield_now().await;
                    }
                }
            })
        };
        lemf.wait_received(300).await;
        lemf.stop().await;
        let down_at = lemf.received();
        outage.send(()).unwrap();
        wait_stats("the link to notice the outage", h.stats(), |s| !s.connected).await;
        lemf.restart().await;
        timeout(WAIT, producer).await.unwrap().unwrap();
        h.wait_empty().await;
        let stats = h.shut_down().await;
        let conns = lemf.connections();
        let repeats = check_delivery(&conns, 1000, window);
        assert!(down_at < 1000, "the outage was in the middle");
        assert!(repeats as u64 <= window, "{repeats} repeats");
        assert!(stats.connects >= 2);
        assert_eq!(stats.records_acked, 1000);
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn a_connection_cut_mid_pdu_loses_nothing() {
        let lemf = FakeLemf::start().await;
        lemf.state.cut_at.store(20_011, Ordering::SeqCst);
        let d = spool_dir("cut");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let cfg = fast_config(lemf.addr);
        let window = cfg.max_unacked;
        let h = start_link(cfg, spool);
        h.enqueue_range(1..1001).await;
        h.wait_empty().await;
        let stats = h.shut_down().await;
        assert!(
            lemf.state.cut_mid_pdu.load(Ordering::SeqCst),
            "cut inside a PDU"
        );
        let conns = lemf.connections();
        assert!(conns.len() >= 2);
        let repeats = check_delivery(&conns, 1000, window);
        assert!(repeats as u64 <= window, "{repeats} repeats");
        assert_eq!(stats.records_acked, 1000);
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn an_unanswered_keepalive_kills_the_connection_in_time() {
        let lemf = FakeLemf::start().await;
        lemf.state.answer.store(false, Ordering::SeqCst);
        let d = spool_dir("silent");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let mut cfg = fast_config(lemf.addr);
        cfg.keepalive_timeout = Duration::from_millis(300);
        let window = cfg.max_unacked;
        let h = start_link(cfg, spool);
        h.enqueue_range(1..101).await;
        lemf.wait_received(100).await;
        // When it times out is the state's decision, tested without a clock
        // (state::tests::a_keepalive_never_answered_times_out_exactly_at_its_deadline); here,
        // that the driver acts on it: closes, keeps the records, re-sends them.
        wait_stats("a keep-alive timeout", h.stats(), |s| {
            s.keepalive_timeouts >= 1
        })
        .await;
        assert_eq!(
            h.queue().spool().lock().await.pending(),
            100,
            "nothing acked"
        );
        lemf.state.answer.store(true, Ordering::SeqCst);
        h.enqueue_range(101..301).await;
        h.wait_empty().await;
        let stats = h.shut_down().await;
        assert!(stats.connects >= 2);
        let repeats = check_delivery(&lemf.connections(), 300, window);
        assert!(repeats >= 100, "the unacknowledged records were re-sent");
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn a_restart_redelivers_what_was_not_persisted_as_acked() {
        let lemf = FakeLemf::start().await;
        let d = spool_dir("restart");
        let mut spool_cfg = SpoolConfig::new(&d);
        spool_cfg.ack_persist_every = 1_000_000;
        let (spool, _) = Spool::open(spool_cfg.clone()).unwrap();
        let cfg = fast_config(lemf.addr);
        let h = start_link(cfg.clone(), spool);
        // Acked in memory, never persisted.
        h.enqueue_range(1..101).await;
        h.wait_empty().await;
        // Written, never acked.
        lemf.state.answer.store(false, Ordering::SeqCst);
        h.enqueue_range(101..201).await;
        lemf.wait_received(200).await;
        // The crash: no shutdown, no persisted ack.
        h.link.abort().await;
        let first_run = lemf.connections().len();

        lemf.state.answer.store(true, Ordering::SeqCst);
        let (spool, recovery) = Spool::open(spool_cfg).unwrap();
        assert_eq!(recovery.pending, 200);
        let h = start_link(cfg, spool);
        h.enqueue_range(201..251).await;
        h.wait_empty().await;
        h.shut_down().await;
        let conns = lemf.connections();
        assert_eq!(
            conns[first_run].first(),
            Some(&1),
            "re-sent from the persisted ack"
        );
        let repeats = check_delivery(&conns, 250, 200);
        assert_eq!(repeats, 200);
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn a_wrong_keepalive_response_acknowledges_nothing() {
        let lemf = FakeLemf::start().await;
        lemf.state.answer_skew.store(1, Ordering::SeqCst);
        let d = spool_dir("wrong-answer");
        let (spool, _) = Spool::open(SpoolConfig::new(&d)).unwrap();
        let cfg = fast_config(lemf.addr);
        let window = cfg.max_unacked;
        let h = start_link(cfg, spool);
        h.enqueue_range(1..51).await;
        wait_stats("a protocol error", h.stats(), |s| s.protocol_errors >= 1).await;
        assert_eq!(
            h.queue().spool().lock().await.pending(),
            50,
            "nothing acked"
        );
        lemf.state.answer_skew.store(0, Ordering::SeqCst);
        h.wait_empty().await;
        let stats = h.shut_down().await;
        assert_eq!(stats.records_acked, 50);
        let repeats = check_delivery(&lemf.connections(), 50, window);
        assert!(repeats >= 50, "re-sent after the wrong answer: {repeats}");
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn an_answer_with_an_invalid_optional_header_field_still_acknowledges() {
        let mut answer = settings().tri_pdu(41, time(), TriPayload::KeepAliveResponse);
        // What a peer may send: an authorizationCountryCode of three letters and no valid
        // timeStamp, only a raw one.
        answer.header.time_stamp = None;
        answer.header.invalid_fields = vec![
            li_asn1::InvalidField {
                tag_number: 2,
                value: li_asn1::Opaque {
                    constructed: false,
                    content: b"GBR".to_vec(),
                },
                error: li_asn1::Error::InvalidTag { offset: 0 },
            },
            li_asn1::InvalidField {
                tag_number: 5,
                value: li_asn1::Opaque {
                    constructed: false,
                    content: b"not a time".to_vec(),
                },
                error: li_asn1::Error::InvalidTag { offset: 0 },
            },
        ];
        let mut buf = BytesMut::from(answer.encode().as_slice());
        assert_eq!(
            next_agency_pdu(&mut buf, &etsi_answer_reader()).unwrap(),
            Some(41)
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn a_batch_refused_at_the_disk_bound_counts_each_record_once() {
        let d = spool_dir("batch-full");
        let dest: li_core::DestinationId = "3f0e2a52-9d43-4b0c-9d1c-0d5f7c1b6a02".parse().unwrap();
        let mut cfg = SpoolConfig::new(&d);
        cfg.segment_bytes = 4096;
        cfg.max_bytes = 600;
        let (spool, _) = NumberedSpool::open(cfg, dest).unwrap();
        let queue = DeliveryQueue::new(Arc::new(Mutex::new(spool)), Arc::new(Notify::new()));
        let key = (Liid::new(b"L").unwrap(), Cin::new(1));
        let mut buf = Vec::new();
        let mut batch = |queue: &DeliveryQueue<NumberedSpool>| {
            let refused =
                queue.enqueue_numbered_batch_blocking(&[key; 3], &mut buf, |_, seq, out| {
                    out.extend_from_slice(&cc_pdu(seq));
                    out.resize(out.len() + 120, 0);
                });
            refused.into_iter().map(|(i, _)| i).collect::<Vec<_>>()
        };
        // Three records of about 290 octets: the batch does not fit, the first one does.
        assert_eq!(batch(&queue), [1, 2]);
        assert_eq!(queue.refused(), 2, "each refused record counted once");
        // Now none fits: three more refused, not two (the batch) nor one (the first).
        assert_eq!(batch(&queue), [0, 1, 2]);
        assert_eq!(queue.refused(), 5);
        assert!(queue.alarm_raised());
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn numbered_delivery_keeps_numbers_contiguous_across_a_crash() {
        use crate::numbering::NumberedSpool;
        use li_core::DestinationId;

        let lemf = FakeLemf::start().await;
        let d = spool_dir("numbered");
        let dest: DestinationId = "3f0e2a52-9d43-4b0c-9d1c-0d5f7c1b6a01".parse().unwrap();
        let mut spool_cfg = SpoolConfig::new(&d);
        spool_cfg.segment_bytes = 4096;
        spool_cfg.ack_persist_every = 16;
        let liid = Liid::new(b"L").unwrap();
        let cin = Cin::new(1);
        let cfg = fast_config(lemf.addr);
        for run in 0..3u32 {
            let (spool, _) = NumberedSpool::open(spool_cfg.clone(), dest).unwrap();
            let acked_at_start = acked_point(spool.spool());
            let queue = DeliveryQueue::new(Arc::new(Mutex::new(spool)), Arc::new(Notify::new()));
            let link = DeliveryLink::spawn(cfg.clone(), queue.clone());
            let stats = Arc::clone(link.stats());
            for _ in 0..100 {
                let (_, seq) = queue.enqueue_numbered(liid, cin, cc_pdu).await.unwrap();
                assert!(seq < (run + 1) * 100);
            }
            wait_drained(queue.spool(), &stats, acked_at_start).await;
            assert_eq!(queue.depth().await.0, 0);
            if run == 1 {
                // A crash: no shutdown, no persisted ack or checkpoint.
                link.abort().await;
            } else {
                assert!(link.stop(WAIT).await, "the link stops");
            }
        }
        let segments = std::fs::read_dir(&d)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "seg")
            })
            .count();
        assert!(
            segments < 10,
            "acknowledged segments deleted: {segments} left"
        );
        // Numbers are 0..300 with none reused: check_delivery counts from 1, so shift.
        let shifted: Vec<Vec<u32>> = lemf
            .connections()
            .iter()
            .map(|c| c.iter().map(|s| s + 1).collect())
            .collect();
        let all: Vec<u32> = shifted.iter().flatten().copied().collect();
        assert_eq!(all.iter().max(), Some(&300));
        check_delivery(&shifted, 300, 300);
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn a_full_spool_raises_the_alarm_and_clears_it_once_drained() {
        let d = spool_dir("alarm");
        let mut spool_cfg = SpoolConfig::new(&d);
        spool_cfg.max_bytes = 20_000;
        spool_cfg.segment_bytes = 2_000;
        spool_cfg.ack_persist_every = 1;
        let (spool, _) = Spool::open(spool_cfg).unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let observer: AlarmObserver = Arc::new(move |name: &str, alarm: &SpoolAlarm| {
            sink.lock().unwrap().push((name.to_owned(), alarm.clone()));
        });
        let queue = DeliveryQueue::with_alarm(
            Arc::new(Mutex::new(spool)),
            Arc::new(Notify::new()),
            "LEA-1 HI3",
            Some(observer),
        );
        // No link: the agency is unreachable, the spool fills.
        let mut accepted = 0u32;
        let mut refused = 0u32;
        for seq in 0..200 {
            match queue.enqueue(&cc_pdu(seq)).await {
                Ok(_) => accepted += 1,
                Err(SpoolError::Full { .. }) => refused += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(
            accepted > 0 && refused > 0,
            "{accepted} accepted, {refused} refused"
        );
        assert!(queue.alarm_raised());
        assert_eq!(queue.refused(), u64::from(refused));
        {
            let seen = seen.lock().unwrap();
            let kinds: Vec<&SpoolAlarm> = seen.iter().map(|(_, a)| a).collect();
            assert!(
                matches!(kinds.first(), Some(SpoolAlarm::HighWater { .. })),
                "{kinds:?}"
            );
            assert!(matches!(
                kinds.get(1),
                Some(SpoolAlarm::Raised { limit: 20_000, .. })
            ));
            assert_eq!(kinds.len(), 2, "raised once, not per refusal: {kinds:?}");
            assert_eq!(seen[1].0, "LEA-1 HI3");
        }
        // The agency comes back and takes delivery.
        let lemf = FakeLemf::start().await;
        let link = DeliveryLink::spawn(fast_config(lemf.addr), queue.clone());
        let stats = Arc::clone(link.stats());
        let delivered = wait_stats("the backlog delivered", &stats, |s| {
            s.records_acked >= u64::from(accepted)
        })
        .await;
        assert_eq!(delivered.records_acked, u64::from(accepted));
        queue.enqueue(&cc_pdu(200)).await.unwrap();
        assert!(!queue.alarm_raised());
        assert_eq!(
            seen.lock().unwrap().last().map(|(_, a)| a.clone()),
            Some(SpoolAlarm::Cleared {
                refused: u64::from(refused)
            })
        );
        assert!(link.stop(WAIT).await, "the link stops");
        let _ = std::fs::remove_dir_all(d);
    }
}
