//! X2/X3 transport over mutual TLS 1.3 (ETSI TS 103 221-2 clause 6): the probe's
//! [`X2X3Sender`] and the mediator's [`X2X3Listener`].
//!
//! # Sender (point of interception)
//!
//! An [`X2X3Sender`] queues encoded X2/X3 PDUs, singly ([`X2X3Sender::send`]) or laid end to
//! end in a [`PduBatch`] (one allocation and one queue operation for many PDUs), in a queue
//! bounded by [`SenderConfig::queue_capacity`] PDUs. What happens when it is full is the
//! caller's choice:
//!
//! - **Drop** ([`X2X3Sender::send`], [`X2X3Sender::try_send_batch`]), for a source that cannot
//!   wait (live capture: the wire does not slow down). The PDUs are dropped, counted in
//!   [`SenderStats::dropped`] and reported by a `warn` line naming the link and the count (at
//!   most one per second; the drops not yet reported are reported again when the link
//!   connects and when it stops), so a drop is never silent.
//! - **Wait** ([`X2X3Sender::wait_for_room`] before producing, then
//!   [`X2X3Sender::send_batch`]), for a source that can (a capture file): the producer slows
//!   down to what the link and the mediator take, end to end, and nothing is dropped.
//!   `send_batch` itself never drops; it may pass the bound by the batch it is given, so the
//!   queue holds at most the capacity plus one batch per producer.
//!
//! A background task connects with mutual TLS ([`tls::connect`]), writes the queued PDUs in
//! order, several per TLS write, and sends a Keepalive (clause 6.2.4) every
//! [`SenderConfig::keepalive_interval`], one at a time; one not answered by a Keepalive
//! Acknowledgement with the same Sequence Number within [`SenderConfig::keepalive_timeout`]
//! (or a write that cannot complete within it) closes the connection. The link reconnects after
//! an exponential backoff ([`SenderConfig::backoff_min`] doubling up to
//! [`SenderConfig::backoff_max`], jittered, reset by a connection that proved alive). While it is disconnected,
//! PDUs accumulate in the queue.
//!
//! # What can be lost
//!
//! X2/X3 has no acknowledgement of data. A PDU taken from the queue and written to a
//! connection that then dies may be lost: at most the PDUs written since the last
//! acknowledged keepalive (one interval plus one timeout of traffic). They are counted in
//! [`SenderStats::possibly_lost`]; the mediator may well have received them. A PDU still in
//! the queue when [`SenderHandle::shutdown`] is called is discarded (and logged); dropping
//! every [`X2X3Sender`] and awaiting [`SenderHandle::join`] instead delivers the queue first.
//!
//! # Listener (mediation function)
//!
//! [`serve`] accepts mutual-TLS connections ([`tls::accept`] logs each refused peer), frames
//! each stream with [`frame_len`], answers each Keepalive at once with a Keepalive
//! Acknowledgement carrying its Sequence Number, and forwards X2 and X3 PDUs in order, with
//! the peer address, to a channel (awaiting it: a slow consumer slows the probes down). A PDU
//! that frames but does not decode is logged with its stream offset and skipped; a framing
//! error (Header Length below 40, PDU over the limit) closes the connection.
//!
//! # Example
//!
//! ```no_run
//! use li_handover::tls::{DevPki, Validity};
//! use li_handover::x2x3::transport::{serve, SenderConfig, X2X3Sender};
//! use li_handover::x2x3::DEFAULT_MAX_PDU_LEN;
//!
//! # async fn example(pdu: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! let pki = DevPki::new("dev CA")?;
//! let mdf = pki.issue("mdf", &["mdf.example"], &[], Validity::Default)?;
//! let probe = pki.issue("probe-1", &[], &[], Validity::Default)?;
//!
//! // Mediator
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:50020").await?;
//! let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_config(&mdf)?);
//! let (out, mut received) = tokio::sync::mpsc::channel(1024);
//! tokio::spawn(serve(listener, acceptor, out, DEFAULT_MAX_PDU_LEN));
//!
//! // Probe
//! let connector = tokio_rustls::TlsConnector::from(pki.client_config(&probe)?);
//! let config = SenderConfig::new("X3 to MDF", "127.0.0.1:50020", connector, "mdf.example");
//! let (sender, handle) = X2X3Sender::spawn(config);
//! assert!(sender.send(pdu));
//! let (_peer, _pdu) = received.recv().await.ok_or("listener gone")?;
//! drop(sender);
//! handle.join().await; // the queue is empty: the link closes
//! # Ok(())
//! # }
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tracing::{debug, info, warn};

use super::{FIXED_HEADER_LEN, Pdu, PduType, frame_len};
use crate::retry::{Backoff, Changes, shutdown_signal};
use crate::tls::{self, Refusal, TlsError};

/// The default [`SenderConfig::queue_capacity`]: 65,536 PDUs.
pub const DEFAULT_QUEUE_CAPACITY: usize = 65_536;

/// Octets of queued PDUs gathered into one TLS write, about (a batch is never split).
const MAX_WRITE_BYTES: usize = 1 << 20;

/// The largest PDU the sender accepts from the mediator (it sends only keepalive acks).
const MAX_MEDIATOR_PDU: usize = 64 * 1024;

/// Bound on writing a keepalive acknowledgement on the listener side.
const ACK_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The link name the listener logs with.
const LISTENER: &str = "X2/X3 listener";

/// Minimum spacing of the drop warnings logged by [`X2X3Sender::send`].
const DROP_WARN_EVERY: Duration = Duration::from_secs(1);

/// Settings of one probe-to-mediator link.
#[derive(Clone)]
pub struct SenderConfig {
    /// Name used in logs, e.g. `"X3 to MDF-1"`.
    pub name: String,
    /// The mediator's X2/X3 interface, `host:port`.
    pub addr: String,
    /// The TLS connector (our client certificate, the CA we trust) and the name the
    /// mediator's certificate must carry (a DNS name or an IP address).
    pub tls: (TlsConnector, String),
    /// PDUs the queue holds at most; a PDU offered to a full queue is dropped (at least 1).
    pub queue_capacity: usize,
    /// A keepalive goes out this long after the previous one was sent (and after connecting).
    pub keepalive_interval: Duration,
    /// A keepalive not acknowledged within this time, or a write that does not complete
    /// within it, closes the connection.
    pub keepalive_timeout: Duration,
    /// Bound on the TCP connect (the TLS handshake is bounded by [`tls::HANDSHAKE_TIMEOUT`]).
    pub connect_timeout: Duration,
    /// First reconnection delay.
    pub backoff_min: Duration,
    /// Largest reconnection delay.
    pub backoff_max: Duration,
}

impl SenderConfig {
    /// Defaults: a queue of [`DEFAULT_QUEUE_CAPACITY`] PDUs, a keepalive every 5 s answered
    /// within 10 s, connect timeout 10 s, backoff 100 ms .. 30 s.
    pub fn new(
        name: impl Into<String>,
        addr: impl Into<String>,
        connector: TlsConnector,
        server_name: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            addr: addr.into(),
            tls: (connector, server_name.into()),
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            keepalive_interval: Duration::from_secs(5),
            keepalive_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
        }
    }
}

impl std::fmt::Debug for SenderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderConfig")
            .field("name", &self.name)
            .field("addr", &self.addr)
            .field("server_name", &self.tls.1)
            .field("queue_capacity", &self.queue_capacity)
            .field("keepalive_interval", &self.keepalive_interval)
            .field("keepalive_timeout", &self.keepalive_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("backoff_min", &self.backoff_min)
            .field("backoff_max", &self.backoff_max)
            .finish_non_exhaustive()
    }
}

/// Counters of one link (monotonic, relaxed atomics), shared with whoever monitors it: read
/// them with [`SenderStats::snapshot`], or wait for a condition on them with
/// [`SenderStats::wait_for`].
///
/// Every PDU offered to [`X2X3Sender::send`] or a batch method is either `queued` or `dropped`; every queued
/// PDU is eventually `sent` unless it was still queued at [`SenderHandle::shutdown`].
#[derive(Debug, Default)]
pub struct SenderStats {
    /// PDUs accepted into the queue.
    pub queued: AtomicU64,
    /// PDUs taken from the queue and written (or being written) to a connection.
    pub sent: AtomicU64,
    /// PDUs dropped because the queue was full.
    pub dropped: AtomicU64,
    /// PDUs sent on a connection that died before a keepalive written after them was
    /// acknowledged: they may or may not have reached the mediator.
    pub possibly_lost: AtomicU64,
    /// Successful mutual-TLS handshakes.
    pub connects: AtomicU64,
    /// Connection attempts that failed (TCP connect, or the TLS handshake on our side).
    pub connect_failures: AtomicU64,
    /// Connections closed (for any reason, including shutdown).
    pub disconnects: AtomicU64,
    /// Connections closed because a keepalive was not acknowledged in time.
    pub keepalive_timeouts: AtomicU64,
    /// Keepalives the mediator acknowledged.
    pub keepalives_acked: AtomicU64,
    connected: AtomicBool,
    changes: Changes,
}

/// A copy of [`SenderStats`] at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SenderStatsSnapshot {
    /// See [`SenderStats::queued`].
    pub queued: u64,
    /// See [`SenderStats::sent`].
    pub sent: u64,
    /// See [`SenderStats::dropped`].
    pub dropped: u64,
    /// See [`SenderStats::possibly_lost`].
    pub possibly_lost: u64,
    /// See [`SenderStats::connects`].
    pub connects: u64,
    /// See [`SenderStats::connect_failures`].
    pub connect_failures: u64,
    /// See [`SenderStats::disconnects`].
    pub disconnects: u64,
    /// See [`SenderStats::keepalive_timeouts`].
    pub keepalive_timeouts: u64,
    /// See [`SenderStats::keepalives_acked`].
    pub keepalives_acked: u64,
    /// Whether a connection is up.
    pub connected: bool,
}

impl SenderStats {
    /// The current values.
    pub fn snapshot(&self) -> SenderStatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SenderStatsSnapshot {
            queued: get(&self.queued),
            sent: get(&self.sent),
            dropped: get(&self.dropped),
            possibly_lost: get(&self.possibly_lost),
            connects: get(&self.connects),
            connect_failures: get(&self.connect_failures),
            disconnects: get(&self.disconnects),
            keepalive_timeouts: get(&self.keepalive_timeouts),
            keepalives_acked: get(&self.keepalives_acked),
            connected: self.connected.load(Ordering::Relaxed),
        }
    }

    /// Waits until `cond` holds for the counters and returns the snapshot it held for.
    /// `cond` is checked at once and again after every change of a counter or of the
    /// connection state (a change costs the link nothing extra while nobody waits): an event
    /// to act on (alert when the link goes down, wait until the mediator acknowledged a
    /// keepalive) without polling. Bound the wait with a timeout when the condition may
    /// never hold.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use li_handover::x2x3::transport::SenderStats;
    ///
    /// # async fn example(stats: &SenderStats) {
    /// let up = tokio::time::timeout(Duration::from_secs(30), stats.wait_for(|s| s.connected));
    /// if up.await.is_err() {
    ///     let failures = stats.snapshot().connect_failures;
    ///     eprintln!("the mediator is still unreachable after {failures} attempts");
    /// }
    /// # }
    /// # let stats = SenderStats::default();
    /// # let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    /// # runtime.block_on(stats.wait_for(|s| s.sent == 0));
    /// ```
    pub async fn wait_for(
        &self,
        mut cond: impl FnMut(&SenderStatsSnapshot) -> bool,
    ) -> SenderStatsSnapshot {
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

/// Why a connection of the sender ended (logged).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Connecting (TCP) did not complete in time.
    #[error("connect timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// The TLS handshake failed (already logged by [`tls::connect`]).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The mediator refused our certificate after the handshake (TLS 1.3 alert on the first
    /// read), or another TLS failure on the established connection.
    #[error("TLS failure: {0}")]
    Refused(Refusal),
    /// A keepalive was not acknowledged in time.
    #[error("keepalive {sequence} not acknowledged within {timeout:?}")]
    KeepaliveTimeout {
        /// Its Sequence Number.
        sequence: u32,
        /// The configured timeout.
        timeout: Duration,
    },
    /// A write did not complete within the keepalive timeout.
    #[error("write stalled for {0:?}")]
    WriteStalled(Duration),
    /// The peer closed the connection.
    #[error("connection closed by the peer")]
    Closed,
    /// The peer sent something it should not have.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// An I/O error.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// Encoded X2/X3 PDUs laid end to end, queued with one operation
/// ([`X2X3Sender::send_batch`], [`X2X3Sender::try_send_batch`]). Encode straight into it
/// with [`PduBatch::push_with`]; no allocation per PDU.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PduBatch {
    bytes: Vec<u8>,
    pdus: u64,
}

impl PduBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `bytes` octets.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes),
            pdus: 0,
        }
    }

    /// Appends one PDU that `encode` writes at the end of the buffer. When it fails, what it
    /// wrote is removed and the batch is as before.
    pub fn push_with<E>(
        &mut self,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let len = self.bytes.len();
        match encode(&mut self.bytes) {
            Ok(()) => {
                self.pdus += 1;
                Ok(())
            }
            Err(e) => {
                self.bytes.truncate(len);
                Err(e)
            }
        }
    }

    /// Appends one encoded PDU.
    pub fn push(&mut self, pdu: &[u8]) {
        self.bytes.extend_from_slice(pdu);
        self.pdus += 1;
    }

    /// PDUs in the batch.
    pub fn len(&self) -> u64 {
        self.pdus
    }

    /// No PDU in the batch.
    pub fn is_empty(&self) -> bool {
        self.pdus == 0
    }

    /// The PDUs, end to end.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The probe side of an X2/X3 link: a cheap, cloneable handle on the queue of a background
/// task that delivers it. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct X2X3Sender {
    queue: mpsc::UnboundedSender<PduBatch>,
    shared: Arc<Shared>,
}

/// Controls the background task of an [`X2X3Sender`]. Dropping it leaves the task running
/// until every [`X2X3Sender`] is dropped and the queue is delivered.
#[derive(Debug)]
pub struct SenderHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    shared: Arc<Shared>,
}

/// What the senders and the task share.
#[derive(Debug)]
struct Shared {
    name: String,
    stats: SenderStats,
    /// The bound of the queue, in PDUs.
    capacity: u64,
    /// PDUs in the queue (accepted, not yet taken by the task).
    depth: AtomicU64,
    /// Signalled whenever the task takes PDUs from the queue, and when it stops.
    room: Notify,
    /// Reference point of `last_drop_warn_ms`.
    epoch: Instant,
    /// Milliseconds since `epoch` of the last drop warning; `u64::MAX` for none yet.
    last_drop_warn_ms: AtomicU64,
    /// `dropped` as of the last drop warning.
    reported_drops: AtomicU64,
}

impl X2X3Sender {
    /// Starts the link's background task (on the current tokio runtime) and returns the
    /// sending side and the handle controlling the task.
    pub fn spawn(config: SenderConfig) -> (Self, SenderHandle) {
        let (queue, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::new(&config));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run_sender(config, rx, stop_rx, Arc::clone(&shared)));
        (
            Self {
                queue,
                shared: Arc::clone(&shared),
            },
            SenderHandle { stop, task, shared },
        )
    }

    /// Queues one encoded X2 or X3 PDU; never blocks. Returns `false` when the PDU was dropped
    /// because the queue is full (counted and logged) or the link has been shut down.
    pub fn send(&self, pdu: Vec<u8>) -> bool {
        self.try_send_batch(PduBatch {
            bytes: pdu,
            pdus: 1,
        })
    }

    /// Queues a batch if the queue has room for all of it; never blocks. Returns `false` when
    /// the whole batch was dropped because the queue is full (counted and logged) or the link
    /// has been shut down.
    pub fn try_send_batch(&self, batch: PduBatch) -> bool {
        let n = batch.pdus;
        if n == 0 {
            return true;
        }
        let depth = self.shared.depth.fetch_add(n, Ordering::AcqRel);
        if depth.saturating_add(n) > self.shared.capacity {
            self.shared.depth.fetch_sub(n, Ordering::AcqRel);
            self.dropped(n);
            return false;
        }
        self.enqueue(batch)
    }

    /// Queues a batch whatever the queue's depth (wait for room first with
    /// [`X2X3Sender::wait_for_room`] to keep within the bound); never blocks. Returns `false`
    /// (the batch counted as dropped) only when the link has been shut down.
    pub fn send_batch(&self, batch: PduBatch) -> bool {
        if batch.pdus == 0 {
            return true;
        }
        self.shared.depth.fetch_add(batch.pdus, Ordering::AcqRel);
        self.enqueue(batch)
    }

    /// Waits until the queue has room for `pdus` more PDUs (or is empty, for a batch larger
    /// than the whole queue). Returns `false` when the link has stopped: nothing will be
    /// taken from the queue any more.
    pub async fn wait_for_room(&self, pdus: u64) -> bool {
        let want = self.shared.capacity.saturating_sub(pdus);
        loop {
            let room = self.shared.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if self.queue.is_closed() {
                return false;
            }
            let depth = self.shared.depth.load(Ordering::Acquire);
            // `want` is 0 for a batch larger than the queue: then only an empty queue will do.
            if depth <= want {
                return true;
            }
            room.await;
        }
    }

    fn enqueue(&self, batch: PduBatch) -> bool {
        let n = batch.pdus;
        match self.queue.send(batch) {
            Ok(()) => {
                self.shared.stats.add(&self.shared.stats.queued, n);
                true
            }
            Err(_) => {
                self.shared.depth.fetch_sub(n, Ordering::AcqRel);
                self.dropped(n);
                false
            }
        }
    }

    fn dropped(&self, n: u64) {
        self.shared.stats.add(&self.shared.stats.dropped, n);
        self.shared.warn_drops_rate_limited();
    }

    /// The link's counters.
    pub fn stats(&self) -> &SenderStats {
        &self.shared.stats
    }

    /// PDUs waiting in the queue.
    pub fn queue_len(&self) -> usize {
        usize::try_from(self.shared.depth.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    /// The bound of the queue, in PDUs ([`SenderConfig::queue_capacity`]).
    pub fn capacity(&self) -> u64 {
        self.shared.capacity
    }
}

impl SenderHandle {
    /// The link's counters.
    pub fn stats(&self) -> &SenderStats {
        &self.shared.stats
    }

    /// Stops the link now: the connection is closed and PDUs still queued are discarded
    /// (their number is logged). Returns once the task has ended.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Waits for the task to end by itself: once every [`X2X3Sender`] is dropped and the
    /// queue has been written and confirmed by a keepalive acknowledgement. Never returns
    /// while the mediator stays unreachable and PDUs are queued; bound it with a timeout and
    /// fall back to [`SenderHandle::shutdown`].
    pub async fn join(self) {
        let Self { stop, task, .. } = self;
        let _ = task.await;
        drop(stop);
    }
}

impl Shared {
    fn new(config: &SenderConfig) -> Self {
        Self {
            name: config.name.clone(),
            stats: SenderStats::default(),
            capacity: u64::try_from(config.queue_capacity.max(1)).unwrap_or(u64::MAX),
            depth: AtomicU64::new(0),
            room: Notify::new(),
            epoch: Instant::now(),
            last_drop_warn_ms: AtomicU64::new(u64::MAX),
            reported_drops: AtomicU64::new(0),
        }
    }

    /// Logs the drops not yet reported, unless a drop warning was logged less than
    /// [`DROP_WARN_EVERY`] ago.
    fn warn_drops_rate_limited(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        let last = self.last_drop_warn_ms.load(Ordering::Relaxed);
        let every = u64::try_from(DROP_WARN_EVERY.as_millis()).unwrap_or(u64::MAX);
        if last != u64::MAX && now.saturating_sub(last) < every {
            return;
        }
        if self
            .last_drop_warn_ms
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.warn_drops();
        }
    }

    /// Logs the drops not yet reported, if any.
    fn warn_drops(&self) {
        let dropped = self.stats.dropped.load(Ordering::Relaxed);
        let before = self.reported_drops.swap(dropped, Ordering::Relaxed);
        if dropped > before {
            warn_dropped(&self.name, dropped, dropped - before);
        }
    }

    /// PDUs were taken from the queue: wake producers waiting for room.
    fn taken(&self, n: u64) {
        self.depth.fetch_sub(n, Ordering::AcqRel);
        self.room.notify_waiters();
    }
}

/// The drop warning (a function of its own so that tests can make sure its callsite is
/// enabled).
fn warn_dropped(link: &str, dropped: u64, since_last_report: u64) {
    warn!(
        link,
        dropped, since_last_report, "{link}: X2/X3 queue full, PDUs dropped"
    );
}

/// How a connection ended without error.
enum End {
    /// Shutdown requested.
    Stop,
    /// Every sender dropped and the queue written and confirmed.
    Drained,
}

/// The background task: connects, delivers, reconnects.
async fn run_sender(
    config: SenderConfig,
    mut rx: mpsc::UnboundedReceiver<PduBatch>,
    mut stop: watch::Receiver<bool>,
    shared: Arc<Shared>,
) {
    let stats = &shared.stats;
    let mut backoff = Backoff::new(config.backoff_min, config.backoff_max);
    let mut keepalive_seq = 0u32;
    loop {
        let connected = tokio::select! {
            biased;
            () = shutdown_signal(&mut stop) => break,
            r = connect(&config) => r,
        };
        match connected {
            Ok(stream) => {
                let since = Instant::now();
                let acked_before = stats.keepalives_acked.load(Ordering::Relaxed);
                stats.add(&stats.connects, 1);
                stats.set_connected(true);
                let queued = shared.depth.load(Ordering::Relaxed);
                info!(link = %config.name, addr = %config.addr, queued, "connected");
                shared.warn_drops();
                let result = deliver(
                    &config,
                    &shared,
                    stream,
                    &mut rx,
                    &mut stop,
                    &mut keepalive_seq,
                )
                .await;
                stats.set_connected(false);
                stats.add(&stats.disconnects, 1);
                // Proved alive: a keepalive acknowledged, or up for a keepalive interval.
                backoff.connection_ended(
                    since,
                    stats.keepalives_acked.load(Ordering::Relaxed) > acked_before,
                    config.keepalive_interval,
                );
                match result {
                    Ok(End::Stop) => break,
                    Ok(End::Drained) => {
                        info!(link = %config.name, "every sender dropped and the queue delivered");
                        break;
                    }
                    Err(e) => {
                        if matches!(e, TransportError::KeepaliveTimeout { .. }) {
                            stats.add(&stats.keepalive_timeouts, 1);
                        }
                        warn!(link = %config.name, addr = %config.addr, error = %e,
                            "connection closed");
                    }
                }
            }
            Err(e) => {
                stats.add(&stats.connect_failures, 1);
                // A refused handshake was logged by tls::connect already; say when we retry.
                warn!(link = %config.name, addr = %config.addr, error = %e,
                    "connection failed");
            }
        }
        if rx.is_closed() && rx.is_empty() {
            break;
        }
        let delay = backoff.next_delay();
        debug!(link = %config.name, retry_in = ?delay, "reconnecting");
        tokio::select! {
            biased;
            () = shutdown_signal(&mut stop) => break,
            () = sleep(delay) => {}
        }
    }
    rx.close();
    let mut discarded = 0;
    while let Ok(batch) = rx.try_recv() {
        discarded += batch.pdus;
    }
    shared.taken(discarded);
    if discarded > 0 {
        warn!(link = %config.name, discarded, "link stopped with PDUs still queued; discarded");
    }
    shared.warn_drops();
    info!(link = %config.name, "link stopped");
}

type ClientStream = tokio_rustls::client::TlsStream<TcpStream>;

async fn connect(config: &SenderConfig) -> Result<ClientStream, TransportError> {
    let tcp = timeout(config.connect_timeout, TcpStream::connect(&config.addr))
        .await
        .map_err(|_| TransportError::ConnectTimeout(config.connect_timeout))??;
    tcp.set_nodelay(true)?;
    let (connector, server_name) = &config.tls;
    Ok(tls::connect(connector, server_name, tcp, &config.name).await?)
}

/// A keepalive written and not yet acknowledged.
struct Outstanding {
    sequence: u32,
    deadline: Instant,
    /// PDUs written before it and not covered by an earlier acknowledgement.
    covers: u64,
}

/// Delivers over one connection until it fails (`Err`), shutdown or the queue is drained.
/// (Generic over the stream for the tests, which drive it over an in-memory one.)
async fn deliver<S: AsyncRead + AsyncWrite + Send + 'static>(
    config: &SenderConfig,
    shared: &Shared,
    stream: S,
    rx: &mut mpsc::UnboundedReceiver<PduBatch>,
    stop: &mut watch::Receiver<bool>,
    keepalive_seq: &mut u32,
) -> Result<End, TransportError> {
    let stats = &shared.stats;
    let (rd, mut wr) = tokio::io::split(stream);
    let (ack_tx, mut acks) = mpsc::channel(16);
    // Dropping the set (any return from here) aborts the reader.
    let mut reader = JoinSet::new();
    reader.spawn(read_mediator(rd, ack_tx));

    let mut buf: Vec<u8> = Vec::with_capacity(64);
    let mut outstanding: Option<Outstanding> = None;
    // PDUs written and not yet covered by an acknowledged keepalive.
    let mut unconfirmed = 0u64;
    let mut next_keepalive = Instant::now() + config.keepalive_interval;
    let far = Instant::now() + Duration::from_secs(86_400 * 365);

    let result = loop {
        let ka_deadline = outstanding.as_ref().map(|o| (o.sequence, o.deadline));
        tokio::select! {
            biased;
            () = sleep_until(ka_deadline.map_or(far, |(_, d)| d)), if ka_deadline.is_some() => {
                let sequence = ka_deadline.map_or(0, |(s, _)| s);
                break Err(TransportError::KeepaliveTimeout {
                    sequence,
                    timeout: config.keepalive_timeout,
                });
            }
            event = acks.recv() => match event {
                Some(Ok(sequence)) => match &outstanding {
                    Some(o) if o.sequence == sequence => {
                        stats.add(&stats.keepalives_acked, 1);
                        unconfirmed = unconfirmed.saturating_sub(o.covers);
                        outstanding = None;
                    }
                    _ => debug!(link = %config.name, sequence, "unexpected keepalive ack ignored"),
                },
                Some(Err(e)) => break Err(e),
                None => break Err(TransportError::Closed),
            },
            () = shutdown_signal(stop) => break Ok(End::Stop),
            () = sleep_until(next_keepalive), if outstanding.is_none() => {
                buf.clear();
                let sequence = push_keepalive(&mut buf, keepalive_seq)?;
                if let Err(e) = write(config, &mut wr, &buf).await {
                    break Err(e);
                }
                outstanding = Some(Outstanding {
                    sequence,
                    deadline: Instant::now() + config.keepalive_timeout,
                    covers: unconfirmed,
                });
                next_keepalive = Instant::now() + config.keepalive_interval;
            }
            first = rx.recv() => {
                let Some(first) = first else {
                    break confirm_and_close(config, &mut wr, &mut acks, keepalive_seq)
                        .await
                        .map(|()| {
                            unconfirmed = 0;
                            End::Drained
                        });
                };
                // One bounded write: what is queued, up to MAX_WRITE_BYTES (each write has
                // the keepalive timeout to complete), in the first batch's own buffer.
                let PduBatch { bytes: mut out, pdus: mut n } = first;
                while out.len() < MAX_WRITE_BYTES {
                    match rx.try_recv() {
                        Ok(more) => {
                            out.extend_from_slice(&more.bytes);
                            n += more.pdus;
                        }
                        Err(_) => break,
                    }
                }
                stats.add(&stats.sent, n);
                unconfirmed += n;
                let written = write(config, &mut wr, &out).await;
                // They leave the queue's bound only once written: the producer waiting
                // for room does not get ahead of the socket.
                shared.taken(n);
                if let Err(e) = written {
                    break Err(e);
                }
            }
        }
    };
    if unconfirmed > 0 {
        stats.add(&stats.possibly_lost, unconfirmed);
        debug!(link = %config.name, unconfirmed, "PDUs written but not confirmed");
    }
    result
}

/// Writes a last keepalive, waits for its acknowledgement (so everything written before it
/// reached the mediator) and closes the connection.
async fn confirm_and_close<W: AsyncWrite + Unpin>(
    config: &SenderConfig,
    wr: &mut W,
    acks: &mut mpsc::Receiver<Result<u32, TransportError>>,
    keepalive_seq: &mut u32,
) -> Result<(), TransportError> {
    let mut buf = Vec::new();
    let sequence = push_keepalive(&mut buf, keepalive_seq)?;
    write(config, wr, &buf).await?;
    let confirmed = async {
        loop {
            match acks.recv().await {
                Some(Ok(s)) if s == sequence => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Err(TransportError::Closed),
            }
        }
    };
    timeout(config.keepalive_timeout, confirmed)
        .await
        .map_err(|_| TransportError::KeepaliveTimeout {
            sequence,
            timeout: config.keepalive_timeout,
        })??;
    let _ = timeout(config.keepalive_timeout, wr.shutdown()).await;
    Ok(())
}

/// Appends the next keepalive to `buf`; returns its Sequence Number.
fn push_keepalive(buf: &mut Vec<u8>, sequence: &mut u32) -> Result<u32, TransportError> {
    *sequence = sequence.wrapping_add(1);
    Pdu::keepalive(*sequence)
        .encode_into(buf)
        .map_err(|e| TransportError::Protocol(format!("cannot encode a keepalive: {e}")))?;
    Ok(*sequence)
}

/// Writes and flushes `buf` within the keepalive timeout.
async fn write<W: AsyncWrite + Unpin>(
    config: &SenderConfig,
    wr: &mut W,
    buf: &[u8],
) -> Result<(), TransportError> {
    let write = async {
        wr.write_all(buf).await?;
        wr.flush().await
    };
    match timeout(config.keepalive_timeout, write).await {
        Ok(r) => Ok(r.map_err(io_error)?),
        Err(_) => Err(TransportError::WriteStalled(config.keepalive_timeout)),
    }
}

/// An I/O error on an established TLS connection, with the TLS reason when there is one.
fn io_error(e: io::Error) -> TransportError {
    match Refusal::from_io(&e) {
        Refusal::Connection { .. } => TransportError::Io(e),
        refusal => TransportError::Refused(refusal),
    }
}

/// Reads the mediator's side: each Keepalive Acknowledgement becomes `Ok(sequence)`; the
/// first problem ends the task with `Err`.
async fn read_mediator<R: AsyncRead>(
    mut rd: ReadHalf<R>,
    tx: mpsc::Sender<Result<u32, TransportError>>,
) {
    let mut buf = BytesMut::with_capacity(4096);
    let end = 'read: loop {
        loop {
            let len = match frame_len(&buf, MAX_MEDIATOR_PDU) {
                Ok(Some(len)) => len,
                Ok(None) => break,
                Err(e) => break 'read TransportError::Protocol(format!("unframeable input: {e}")),
            };
            let frame = buf.split_to(len);
            let sequence = match Pdu::decode(&frame) {
                Ok((pdu, _)) if pdu.pdu_type == PduType::KeepaliveAck => pdu.sequence_number(),
                Ok((pdu, _)) => {
                    break 'read TransportError::Protocol(format!(
                        "unexpected {:?} PDU from the mediator",
                        pdu.pdu_type
                    ));
                }
                Err(e) => break 'read TransportError::Protocol(format!("undecodable PDU: {e}")),
            };
            let Some(sequence) = sequence else {
                break 'read TransportError::Protocol(
                    "keepalive acknowledgement without a Sequence Number".into(),
                );
            };
            if tx.send(Ok(sequence)).await.is_err() {
                return;
            }
        }
        match rd.read_buf(&mut buf).await {
            Ok(0) => break TransportError::Closed,
            Ok(_) => {}
            Err(e) => break io_error(e),
        }
    };
    let _ = tx.send(Err(end)).await;
}

/// The mediator side: accepts X2/X3 connections and forwards their PDUs. See the
/// [module documentation](self).
#[derive(Clone)]
pub struct X2X3Listener {
    acceptor: TlsAcceptor,
    max_pdu_len: usize,
    idle_timeout: Duration,
    max_connections: usize,
    raw_copy: Option<mpsc::Sender<Bytes>>,
}

impl std::fmt::Debug for X2X3Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X2X3Listener")
            .field("max_pdu_len", &self.max_pdu_len)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl X2X3Listener {
    /// A listener authenticating probes with `acceptor` (a configuration from
    /// [`tls::server_config`]: client certificates required) and accepting PDUs of at most
    /// `max_pdu_len` octets (see [`super::DEFAULT_MAX_PDU_LEN`]); a probe silent for 60 s
    /// (no PDU, no keep-alive) is disconnected; at most 256 probes are served at once.
    pub fn new(acceptor: TlsAcceptor, max_pdu_len: usize) -> Self {
        Self {
            acceptor,
            max_pdu_len: max_pdu_len.max(FIXED_HEADER_LEN),
            idle_timeout: Duration::from_secs(60),
            max_connections: 256,
            raw_copy: None,
        }
    }

    /// Disconnects a probe that sends nothing for `idle` (set it above the probes'
    /// keep-alive interval).
    #[must_use]
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// Sends a copy of every framed PDU, exactly as received (keepalives included), to
    /// `tap`: a record of what the probes sent, for evidence or independent dissectors. The
    /// copy never slows mediation down: when `tap` is full the copy of that PDU is dropped,
    /// counted and logged (a warning per connection, with the count when it closes).
    #[must_use]
    pub fn with_raw_copy(mut self, tap: mpsc::Sender<Bytes>) -> Self {
        self.raw_copy = Some(tap);
        self
    }

    /// Serves at most `n` probe connections at once; more are closed at once, with a
    /// warning.
    #[must_use]
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Accepts connections on `listener` and forwards each X2/X3 PDU with its peer's address
    /// to `out`, until `out`'s receiver is dropped (then every connection is closed).
    pub async fn serve(self, listener: TcpListener, out: mpsc::Sender<(SocketAddr, Pdu)>) {
        self.serve_sink(listener, Sink::Plain(out)).await;
    }

    /// As [`X2X3Listener::serve`], but a keepalive is acknowledged only once the consumer
    /// has confirmed the [`Forwarded::Barrier`] that follows the PDUs before it: the probe's
    /// "delivered" then means "taken over by the mediator" (spooled), not just "read from
    /// the socket". A barrier not confirmed within 10 s closes the connection.
    pub async fn serve_confirmed(self, listener: TcpListener, out: mpsc::Sender<Forwarded>) {
        self.serve_sink(listener, Sink::Confirmed(out)).await;
    }

    async fn serve_sink(self, listener: TcpListener, out: Sink) {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                biased;
                () = out.closed() => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok((tcp, peer)) if connections.len() >= self.max_connections => {
                        warn!(listener = LISTENER, %peer, limit = self.max_connections,
                            "connection refused: too many probe connections");
                        drop(tcp);
                    }
                    Ok((tcp, peer)) => {
                        connections.spawn(serve_connection(
                            tcp,
                            peer,
                            self.acceptor.clone(),
                            out.clone(),
                            ConnectionSettings {
                                max_pdu_len: self.max_pdu_len,
                                idle: self.idle_timeout,
                                tap: self.raw_copy.clone(),
                            },
                        ));
                    }
                    Err(e) => {
                        // Typically out of file descriptors: wait instead of spinning.
                        warn!(listener = LISTENER, error = %e, "accept failed");
                        sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        connections.shutdown().await;
    }
}

/// [`X2X3Listener::new`] then [`X2X3Listener::serve`].
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    out: mpsc::Sender<(SocketAddr, Pdu)>,
    max_pdu_len: usize,
) {
    X2X3Listener::new(acceptor, max_pdu_len)
        .serve(listener, out)
        .await;
}

/// What [`X2X3Listener::serve_confirmed`] hands its consumer, in stream order per
/// connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum Forwarded {
    /// X2 and X3 PDUs from the probe at this address, in stream order: everything framed
    /// from one read of the connection (one message for many PDUs).
    Pdus(SocketAddr, Vec<Pdu>),
    /// A keepalive arrived after the PDUs forwarded before it on its connection. Answer
    /// (send `()`) once they are taken over durably; only then is the keepalive
    /// acknowledged, which is what tells the probe they arrived.
    Barrier(oneshot::Sender<()>),
}

/// Where a connection's PDUs go.
#[derive(Clone)]
enum Sink {
    /// PDUs only; keepalives acknowledged as soon as read.
    Plain(mpsc::Sender<(SocketAddr, Pdu)>),
    /// PDUs and barriers; keepalives acknowledged once the consumer confirms.
    Confirmed(mpsc::Sender<Forwarded>),
}

impl Sink {
    async fn closed(&self) {
        match self {
            Self::Plain(tx) => tx.closed().await,
            Self::Confirmed(tx) => tx.closed().await,
        }
    }

    /// Forwards the PDUs (emptying `pdus`); `false` when the consumer is gone.
    async fn pdus(&self, peer: SocketAddr, pdus: &mut Vec<Pdu>) -> bool {
        if pdus.is_empty() {
            return true;
        }
        match self {
            Self::Plain(tx) => {
                for pdu in pdus.drain(..) {
                    if tx.send((peer, pdu)).await.is_err() {
                        return false;
                    }
                }
                true
            }
            Self::Confirmed(tx) => {
                let batch = std::mem::replace(pdus, Vec::with_capacity(pdus.capacity()));
                tx.send(Forwarded::Pdus(peer, batch)).await.is_ok()
            }
        }
    }

    /// Waits until the consumer has taken over everything forwarded before (at once for a
    /// plain sink). `Err` with the reason when it does not confirm in time or is gone.
    async fn barrier(&self, within: Duration) -> Result<(), &'static str> {
        let Self::Confirmed(tx) = self else {
            return Ok(());
        };
        let (done, confirmed) = oneshot::channel();
        if tx.send(Forwarded::Barrier(done)).await.is_err() {
            return Err("the consumer is gone");
        }
        match timeout(within, confirmed).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err("the consumer dropped the confirmation"),
            Err(_) => Err("the consumer did not confirm in time"),
        }
    }
}

/// Counts the PDUs a connection left out of the raw copy; says so when it ends.
struct DroppedCopies {
    peer: SocketAddr,
    count: u64,
}

impl Drop for DroppedCopies {
    fn drop(&mut self) {
        if self.count > 0 {
            warn!(listener = LISTENER, peer = %self.peer, dropped = self.count,
                "PDUs left out of the raw copy on this connection");
        }
    }
}

/// What each probe connection is served with.
struct ConnectionSettings {
    max_pdu_len: usize,
    idle: Duration,
    tap: Option<mpsc::Sender<Bytes>>,
}

/// One probe connection: handshake, then frames, acknowledges and forwards until it ends.
async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    out: Sink,
    settings: ConnectionSettings,
) {
    let _ = tcp.set_nodelay(true);
    let Ok(stream) = tls::accept(&acceptor, tcp, peer, LISTENER).await else {
        return; // logged by tls::accept
    };
    let identity = tls::peer_identity(&stream).unwrap_or_else(|| "?".into());
    info!(listener = LISTENER, %peer, %identity, "probe connected");
    let (rd, wr) = tokio::io::split(stream);
    let (end, offset) = read_probe(rd, wr, peer, &out, settings).await;
    info!(listener = LISTENER, %peer, %identity, offset, reason = %end, "probe disconnected");
}

/// Reads one probe's stream; returns why it ended and the stream offset reached.
async fn read_probe<S: AsyncRead + AsyncWrite>(
    mut rd: ReadHalf<S>,
    mut wr: WriteHalf<S>,
    peer: SocketAddr,
    out: &Sink,
    settings: ConnectionSettings,
) -> (String, u64) {
    let ConnectionSettings {
        max_pdu_len,
        idle,
        tap,
    } = settings;
    let mut copies_dropped = DroppedCopies { peer, count: 0 };
    let mut buf = BytesMut::with_capacity(64 * 1024);
    // The X2/X3 PDUs framed from the last read, forwarded together.
    let mut pdus: Vec<Pdu> = Vec::new();
    // Stream offset of the start of `buf`.
    let mut offset = 0u64;
    loop {
        loop {
            let len = match frame_len(&buf, max_pdu_len) {
                Ok(Some(len)) => len,
                Ok(None) => break,
                Err(e) => {
                    // What framed before the error is forwarded; nothing after it.
                    let _ = out.pdus(peer, &mut pdus).await;
                    warn!(listener = LISTENER, %peer, offset, error = %e,
                        "unframeable X2/X3 stream; closing the connection");
                    return (format!("framing error: {e}"), offset);
                }
            };
            let at = offset;
            offset += len as u64;
            let frame = buf.split_to(len).freeze();
            if let Some(tap) = &tap
                && tap.try_send(frame.clone()).is_err()
            {
                if copies_dropped.count == 0 {
                    warn!(listener = LISTENER, %peer, "raw copy cannot keep up: PDUs left out of it");
                }
                copies_dropped.count += 1;
            }
            let pdu = match Pdu::decode_bytes(&frame) {
                Ok((pdu, _)) => pdu,
                Err(e) => {
                    warn!(listener = LISTENER, %peer, offset = at, len, error = %e,
                        "undecodable X2/X3 PDU skipped");
                    continue;
                }
            };
            match pdu.pdu_type {
                PduType::X2 | PduType::X3 => pdus.push(pdu),
                PduType::Keepalive => {
                    let Some(sequence) = pdu.sequence_number() else {
                        warn!(listener = LISTENER, %peer, offset = at,
                            "keepalive without a Sequence Number ignored");
                        continue;
                    };
                    if !out.pdus(peer, &mut pdus).await {
                        return ("the consumer is gone".into(), offset);
                    }
                    // Everything before the keepalive must be taken over first.
                    if let Err(why) = out.barrier(ACK_WRITE_TIMEOUT).await {
                        warn!(listener = LISTENER, %peer, offset = at, reason = why,
                            "keepalive not acknowledged; closing the connection");
                        return (format!("keepalive not confirmed: {why}"), offset);
                    }
                    let ack = match Pdu::keepalive_ack(sequence).encode() {
                        Ok(ack) => ack,
                        Err(e) => return (format!("cannot encode an ack: {e}"), offset),
                    };
                    let write = async {
                        wr.write_all(&ack).await?;
                        wr.flush().await
                    };
                    match timeout(ACK_WRITE_TIMEOUT, write).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return (format!("writing an ack: {e}"), offset),
                        Err(_) => return ("writing an ack stalled".into(), offset),
                    }
                }
                other => {
                    warn!(listener = LISTENER, %peer, offset = at, pdu_type = ?other,
                        "unexpected PDU type ignored");
                }
            }
        }
        if !out.pdus(peer, &mut pdus).await {
            return ("the consumer is gone".into(), offset);
        }
        if buf.capacity() - buf.len() < 16 * 1024 {
            buf.reserve(64 * 1024);
        }
        let Ok(read) = timeout(idle, rd.read_buf(&mut buf)).await else {
            warn!(listener = LISTENER, %peer, offset, ?idle, "probe silent; closing the connection");
            return (format!("idle for {idle:?}"), offset);
        };
        match read {
            Ok(0) if buf.is_empty() => return ("closed by the probe".into(), offset),
            Ok(0) => {
                return (
                    format!("closed inside a PDU ({} octets pending)", buf.len()),
                    offset,
                );
            }
            Ok(_) => {}
            Err(e) => return (format!("read error: {}", Refusal::from_io(&e)), offset),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use li_core::Xid;
    use rustls::{AlertDescription, ClientConfig, RootCertStore};
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

    use super::*;
    use crate::tls::{DevPki, Identity, Validity};
    use crate::x2x3::{DEFAULT_MAX_PDU_LEN, PayloadDirection, PduTimestamp, X3IpPacketEncoder};

    const WAIT: Duration = Duration::from_secs(20);

    struct Fixture {
        pki: DevPki,
        mdf: Identity,
        probe: Identity,
    }

    fn fixture() -> Fixture {
        let pki = DevPki::new("test CA").unwrap();
        let mdf = pki
            .issue("mdf", &["mdf.test"], &[], Validity::Default)
            .unwrap();
        let probe = pki.issue("probe-1", &[], &[], Validity::Default).unwrap();
        Fixture { pki, mdf, probe }
    }

    impl Fixture {
        fn acceptor(&self) -> TlsAcceptor {
            TlsAcceptor::from(self.pki.server_config(&self.mdf).unwrap())
        }

        fn config(&self, name: &str, addr: SocketAddr) -> SenderConfig {
            let connector = TlsConnector::from(self.pki.client_config(&self.probe).unwrap());
            let mut cfg = SenderConfig::new(name, addr.to_string(), connector, "mdf.test");
            cfg.keepalive_interval = Duration::from_millis(200);
            // Generous: a test that wants a keepalive timeout sets a short one; the others
            // must see none however loaded the machine.
            cfg.keepalive_timeout = Duration::from_secs(10);
            cfg.backoff_min = Duration::from_millis(20);
            cfg.backoff_max = Duration::from_millis(100);
            cfg
        }

        /// Starts a listener on `addr` (port 0 for any); returns its address and the PDUs.
        async fn mediator(
            &self,
            addr: SocketAddr,
        ) -> (
            SocketAddr,
            mpsc::Receiver<(SocketAddr, Pdu)>,
            JoinHandle<()>,
        ) {
            let listener = TcpListener::bind(addr).await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (out, rx) = mpsc::channel(1024);
            let task = tokio::spawn(serve(listener, self.acceptor(), out, DEFAULT_MAX_PDU_LEN));
            (addr, rx, task)
        }
    }

    /// An address nothing listens on (yet).
    async fn free_addr() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    }

    /// The X3 PDU number `seq` carrying a 140-octet IPv4 packet (200 octets in all).
    fn x3_pdu(seq: u32) -> Vec<u8> {
        let encoder = X3IpPacketEncoder::new(Xid::from_bytes([7; 16]), [1; 8]);
        let mut packet = vec![0x45u8; 140];
        packet[4..8].copy_from_slice(&seq.to_be_bytes());
        let mut out = Vec::new();
        encoder
            .encode(
                &mut out,
                seq,
                PduTimestamp::new(1_700_000_000, seq),
                PayloadDirection::FromTarget,
                &packet,
            )
            .unwrap();
        assert_eq!(out.len(), 200);
        out
    }

    async fn receive(rx: &mut mpsc::Receiver<(SocketAddr, Pdu)>, seqs: std::ops::Range<u32>) {
        for seq in seqs {
            let (_, pdu) = timeout(WAIT, rx.recv()).await.unwrap().unwrap();
            assert_eq!(pdu.encode().unwrap(), x3_pdu(seq), "PDU {seq}");
        }
    }

    /// Waits until `cond` holds for the link's counters (a hang guard only bounds it).
    async fn wait_stats(
        what: &str,
        stats: &SenderStats,
        cond: impl FnMut(&SenderStatsSnapshot) -> bool,
    ) -> SenderStatsSnapshot {
        timeout(WAIT, stats.wait_for(cond))
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
    }

    #[tokio::test]
    async fn ten_thousand_pdus_arrive_in_order_and_intact() {
        let f = fixture();
        let (addr, mut rx, _mediator) = f.mediator("127.0.0.1:0".parse().unwrap()).await;
        let (sender, handle) = X2X3Sender::spawn(f.config("X3 test", addr));
        for seq in 0..10_000 {
            assert!(sender.send(x3_pdu(seq)));
        }
        receive(&mut rx, 0..10_000).await;
        let stats = sender.stats().snapshot();
        assert_eq!(
            (stats.queued, stats.sent, stats.dropped),
            (10_000, 10_000, 0)
        );
        assert_eq!(stats.connects, 1);
        drop(sender);
        // The link confirms the queue with a keepalive, then closes.
        timeout(WAIT, handle.join()).await.unwrap();
        assert!(rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn pdus_queued_while_the_mediator_is_down_arrive_when_it_comes_up() {
        let f = fixture();
        let addr = free_addr().await;
        let (sender, handle) = X2X3Sender::spawn(f.config("X3 down", addr));
        for seq in 0..500 {
            assert!(sender.send(x3_pdu(seq)));
        }
        // The link keeps trying while the mediator is down, PDUs keep coming.
        let down = wait_stats("two failed attempts", handle.stats(), |s| {
            s.connect_failures >= 2
        })
        .await;
        for seq in 500..1000 {
            assert!(sender.send(x3_pdu(seq)));
        }
        wait_stats("two more failed attempts", handle.stats(), |s| {
            s.connect_failures >= down.connect_failures + 2
        })
        .await;
        assert_eq!(handle.stats().snapshot().connects, 0);
        let (_, mut rx, _mediator) = f.mediator(addr).await;
        receive(&mut rx, 0..1000).await;
        let stats = handle.stats().snapshot();
        assert_eq!((stats.queued, stats.sent, stats.dropped), (1000, 1000, 0));
        assert_eq!(stats.connects, 1);
        drop(sender);
        timeout(WAIT, handle.join()).await.unwrap();
    }

    #[tokio::test]
    async fn a_full_queue_drops_counts_and_logs() {
        let f = fixture();
        let log = capture_warnings();
        let addr = free_addr().await;
        let mut cfg = f.config("X3 tiny", addr);
        cfg.queue_capacity = 8;
        let (sender, handle) = X2X3Sender::spawn(cfg);
        let accepted: Vec<bool> = (0..100).map(|seq| sender.send(x3_pdu(seq))).collect();
        assert_eq!(accepted.iter().filter(|a| **a).count(), 8);
        assert!(accepted[..8].iter().all(|a| *a));
        let stats = sender.stats().snapshot();
        assert_eq!((stats.queued, stats.dropped, stats.sent), (8, 92, 0));
        assert_eq!(sender.queue_len(), 8);

        let (_, mut rx, _mediator) = f.mediator(addr).await;
        receive(&mut rx, 0..8).await;
        let stats = handle.stats().snapshot();
        assert_eq!(stats.sent + stats.dropped, 100);
        assert_eq!(stats.sent, 8);

        let lines = log.0.take_warnings();
        let drops: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("queue full") && l.contains("link=\"X3 tiny\""))
            .collect();
        assert!(
            drops.first().is_some_and(|l| l.contains("dropped=1 ")),
            "{lines:?}"
        );
        // The rest were reported when the link connected: the total is in the last line.
        assert!(
            drops.last().is_some_and(|l| l.contains("dropped=92 ")),
            "{lines:?}"
        );
        drop(sender);
        timeout(WAIT, handle.join()).await.unwrap();
    }

    #[tokio::test]
    async fn an_unacknowledged_keepalive_makes_the_sender_reconnect() {
        let f = fixture();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = f.acceptor();
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&connections);
        // A mediator that reads everything and never answers.
        let _mute = tokio::spawn(async move {
            loop {
                let (tcp, peer) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                seen.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    let mut tls = tls::accept(&acceptor, tcp, peer, "mute").await.unwrap();
                    let mut sink = vec![0; 4096];
                    while tls.read(&mut sink).await.is_ok_and(|n| n > 0) {}
                });
            }
        });
        let mut cfg = f.config("X2 mute", addr);
        cfg.keepalive_interval = Duration::from_millis(100);
        cfg.keepalive_timeout = Duration::from_millis(300);
        let (sender, handle) = X2X3Sender::spawn(cfg);
        assert!(sender.send(x3_pdu(1)));
        wait_stats("two keepalive timeouts", handle.stats(), |s| {
            s.keepalive_timeouts >= 2
        })
        .await;
        assert!(connections.load(Ordering::Relaxed) >= 2);
        let stats = handle.stats().snapshot();
        assert!(stats.connects >= 2 && stats.disconnects >= 2, "{stats:?}");
        // The one PDU went out on the first connection, never confirmed.
        assert_eq!(stats.possibly_lost, 1, "{stats:?}");
        timeout(WAIT, handle.shutdown()).await.unwrap();
    }

    #[tokio::test]
    async fn the_listener_acks_keepalives_and_skips_undecodable_pdus() {
        let f = fixture();
        let (addr, mut rx, _mediator) = f.mediator("127.0.0.1:0".parse().unwrap()).await;
        let mut tls = raw_client(f.pki.client_config(&f.probe).unwrap(), addr).await;
        let mut stream = Pdu::keepalive(42).encode().unwrap();
        // An X3 PDU whose first attribute claims 100 octets in a 20-octet attribute area:
        // it frames, but does not decode.
        let mut bad = x3_pdu(5);
        bad[42..44].copy_from_slice(&100u16.to_be_bytes());
        assert!(Pdu::decode(&bad).is_err());
        stream.extend_from_slice(&bad);
        stream.extend_from_slice(&x3_pdu(6));
        tls.write_all(&stream).await.unwrap();
        tls.flush().await.unwrap();

        let mut ack = vec![0u8; 48];
        timeout(WAIT, tls.read_exact(&mut ack))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(Pdu::decode(&ack).unwrap().0, Pdu::keepalive_ack(42));
        receive(&mut rx, 6..7).await;
    }

    #[tokio::test]
    async fn the_listener_refuses_bad_client_certificates() {
        let f = fixture();
        let (addr, mut rx, _mediator) = f.mediator("127.0.0.1:0".parse().unwrap()).await;
        let rogue_ca = DevPki::new("rogue CA").unwrap();
        let rogue = rogue_ca
            .issue("probe-1", &[], &[], Validity::Default)
            .unwrap();
        let expired = f.pki.issue("probe-1", &[], &[], Validity::Expired).unwrap();
        let rogue_config = crate::tls::client_config(
            f.pki.ca_pem.as_bytes(),
            rogue.cert_pem.as_bytes(),
            rogue.key_pem.as_bytes(),
        )
        .unwrap();
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(f.pki.ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let anonymous =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_protocol_versions(&[&rustls::version::TLS13])
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();

        for (config, alert) in [
            (rogue_config, AlertDescription::UnknownCA),
            (
                f.pki.client_config(&expired).unwrap(),
                AlertDescription::CertificateExpired,
            ),
            (Arc::new(anonymous), AlertDescription::CertificateRequired),
        ] {
            let mut tls = raw_client(config, addr).await;
            // The handshake completed on our side (TLS 1.3); the refusal is the first read.
            let _ = tls.write_all(&Pdu::keepalive(1).encode().unwrap()).await;
            let _ = tls.flush().await;
            let mut byte = [0u8; 1];
            let err = timeout(WAIT, tls.read(&mut byte))
                .await
                .unwrap()
                .unwrap_err();
            assert_eq!(Refusal::from_io(&err), Refusal::PeerAlert(alert));
        }
        // And a sender with a refused certificate never delivers anything.
        let connector = TlsConnector::from(f.pki.client_config(&expired).unwrap());
        let mut cfg = SenderConfig::new("X3 expired", addr.to_string(), connector, "mdf.test");
        cfg.backoff_min = Duration::from_millis(20);
        cfg.backoff_max = Duration::from_millis(50);
        let (sender, handle) = X2X3Sender::spawn(cfg);
        assert!(sender.send(x3_pdu(1)));
        wait_stats("two refused connections", handle.stats(), |s| {
            s.disconnects >= 2
        })
        .await;
        assert!(rx.try_recv().is_err());
        timeout(WAIT, handle.shutdown()).await.unwrap();
    }

    fn batch_of(seqs: std::ops::Range<u32>) -> PduBatch {
        let mut batch = PduBatch::new();
        for seq in seqs {
            batch.push(&x3_pdu(seq));
        }
        batch
    }

    #[tokio::test]
    async fn a_producer_waiting_for_room_loses_nothing_and_stays_within_the_bound() {
        let f = fixture();
        let addr = free_addr().await;
        let mut cfg = f.config("X3 backpressure", addr);
        cfg.queue_capacity = 64;
        let (sender, handle) = X2X3Sender::spawn(cfg);
        let producer = {
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut deepest = 0;
                for chunk in 0..125u32 {
                    assert!(sender.wait_for_room(16).await);
                    assert!(sender.send_batch(batch_of(chunk * 16..(chunk + 1) * 16)));
                    deepest = deepest.max(sender.queue_len());
                }
                deepest
            })
        };
        // The mediator is down: the producer stops at the bound instead of dropping.
        wait_stats("the queue to fill", sender.stats(), |s| s.queued >= 64).await;
        assert!(sender.queue_len() >= 64);
        assert!(!producer.is_finished());
        assert_eq!(sender.stats().snapshot().dropped, 0);
        let (_, mut rx, _mediator) = f.mediator(addr).await;
        receive(&mut rx, 0..2000).await;
        let deepest = timeout(WAIT, producer).await.unwrap().unwrap();
        assert!(deepest <= 64, "the queue held {deepest} PDUs");
        let stats = handle.stats().snapshot();
        assert_eq!((stats.queued, stats.sent, stats.dropped), (2000, 2000, 0));
        drop(sender);
        timeout(WAIT, handle.join()).await.unwrap();
    }

    #[tokio::test]
    async fn a_batch_without_room_is_dropped_whole_and_counted() {
        let f = fixture();
        let addr = free_addr().await;
        let mut cfg = f.config("X3 try", addr);
        cfg.queue_capacity = 10;
        let (sender, handle) = X2X3Sender::spawn(cfg);
        assert!(sender.try_send_batch(batch_of(0..8)));
        assert!(!sender.try_send_batch(batch_of(8..16)));
        assert!(sender.try_send_batch(batch_of(16..18)));
        assert!(
            sender.try_send_batch(PduBatch::new()),
            "an empty batch is no drop"
        );
        let stats = sender.stats().snapshot();
        assert_eq!((stats.queued, stats.dropped), (10, 8));
        assert_eq!(sender.queue_len(), 10);
        let (_, mut rx, _mediator) = f.mediator(addr).await;
        receive(&mut rx, 0..8).await;
        receive(&mut rx, 16..18).await;
        timeout(WAIT, handle.shutdown()).await.unwrap();
        assert!(!sender.wait_for_room(1).await, "a stopped link has no room");
    }

    #[test]
    fn a_failed_encoding_leaves_the_batch_as_it_was() {
        let mut batch = batch_of(0..2);
        let before = batch.clone();
        let failed: Result<(), &str> = batch.push_with(|buf| {
            buf.extend_from_slice(b"half a PDU");
            Err("no")
        });
        assert!(failed.is_err());
        assert_eq!(batch, before);
        batch
            .push_with(|buf| {
                buf.extend_from_slice(&x3_pdu(2));
                Ok::<(), ()>(())
            })
            .unwrap();
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.as_bytes(), batch_of(0..3).as_bytes());
    }

    #[tokio::test]
    async fn shutdown_discards_the_queue_and_returns_promptly() {
        let f = fixture();
        let addr = free_addr().await;
        let (sender, handle) = X2X3Sender::spawn(f.config("X3 stop", addr));
        assert!(sender.send(x3_pdu(1)));
        timeout(WAIT, handle.shutdown()).await.unwrap();
        assert!(!sender.send(x3_pdu(2)));
        assert_eq!(sender.stats().snapshot().dropped, 1);
    }

    async fn raw_client(
        config: Arc<ClientConfig>,
        addr: SocketAddr,
    ) -> tokio_rustls::client::TlsStream<TcpStream> {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let connector = TlsConnector::from(config);
        timeout(
            WAIT,
            tls::connect(&connector, "mdf.test", tcp, "raw client"),
        )
        .await
        .unwrap()
        .unwrap()
    }

    /// Captures this thread's warn lines, probing with the drop warning.
    fn capture_warnings() -> (crate::testlog::Capture, tracing::subscriber::DefaultGuard) {
        crate::testlog::capture_warnings(|| warn_dropped("probe", 0, 0))
    }

    #[tokio::test]
    async fn a_silent_probe_is_disconnected_and_the_connection_limit_holds() {
        let f = fixture();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (out, mut rx) = mpsc::channel(16);
        let (tap, mut copies) = mpsc::channel(1024);
        let server = X2X3Listener::new(f.acceptor(), DEFAULT_MAX_PDU_LEN)
            .with_idle_timeout(Duration::from_millis(300))
            .with_max_connections(1)
            .with_raw_copy(tap);
        let task = tokio::spawn(server.serve(listener, out));
        let connector = TlsConnector::from(f.pki.client_config(&f.probe).unwrap());
        let name = rustls_pki_types::ServerName::try_from("mdf.test").unwrap();
        let tcp = TcpStream::connect(addr).await.unwrap();
        // Our handshake completing means the listener accepted the connection (it counts
        // from the accept on).
        let mut first = connector.connect(name.clone(), tcp).await.unwrap();
        // While the first holds the only slot, a second connection is closed at once: its
        // handshake fails (served, it would complete).
        let tcp = TcpStream::connect(addr).await.unwrap();
        let second = timeout(WAIT, connector.connect(name.clone(), tcp))
            .await
            .unwrap();
        assert!(second.is_err(), "second connection not closed: served");
        // The first, silent, is closed after the idle timeout (when exactly:
        // a_probe_silent_for_the_idle_timeout_is_closed_and_traffic_resets_it).
        let mut byte = [0u8; 1];
        let n = timeout(WAIT, first.read(&mut byte)).await.unwrap();
        assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
        // Its slot is free again: a new probe can deliver.
        let (sender, handle) = X2X3Sender::spawn(f.config("X3 after", addr));
        assert!(sender.send(x3_pdu(1)));
        let (_, pdu) = timeout(WAIT, rx.recv()).await.unwrap().unwrap();
        assert_eq!(pdu.sequence_number(), Some(1));
        // The raw copy holds the PDU exactly as the probe sent it.
        let mut copied = Vec::new();
        while let Ok(frame) = copies.try_recv() {
            copied.push(frame);
        }
        assert!(copied.iter().any(|f| f[..] == x3_pdu(1)[..]), "{copied:?}");
        timeout(WAIT, handle.shutdown()).await.unwrap();
        task.abort();
    }

    #[tokio::test]
    async fn confirmed_serving_acknowledges_a_keepalive_only_after_the_consumer_took_over() {
        let f = fixture();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (out, mut rx) = mpsc::channel(4);
        let task = tokio::spawn(
            X2X3Listener::new(f.acceptor(), DEFAULT_MAX_PDU_LEN).serve_confirmed(listener, out),
        );
        // A slow consumer: each PDU takes a few turns of the scheduler to "spool", while the
        // link and the listener run.
        let taken = Arc::new(AtomicUsize::new(0));
        let consumer = {
            let taken = Arc::clone(&taken);
            tokio::spawn(async move {
                let mut barriers = 0;
                while let Some(item) = rx.recv().await {
                    match item {
                        Forwarded::Pdus(_, pdus) => {
                            for _ in &pdus {
                                for _ in 0..20 {
                                    tokio::task::yield_now().await;
                                }
                                taken.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Forwarded::Barrier(done) => {
                            barriers += 1;
                            let _ = done.send(());
                        }
                    }
                }
                barriers
            })
        };
        let (sender, handle) = X2X3Sender::spawn(f.config("X3 confirmed", addr));
        for seq in 0..50 {
            assert!(sender.send(x3_pdu(seq)));
        }
        drop(sender);
        // join() returns once the last keepalive is acknowledged: by then every PDU was
        // taken over by the consumer, not merely read from the socket.
        timeout(WAIT, handle.join()).await.unwrap();
        assert_eq!(taken.load(Ordering::SeqCst), 50);
        task.abort();
        let _ = task.await;
        assert!(
            consumer.await.unwrap() >= 1,
            "at least the closing keepalive was a barrier"
        );
    }

    // The timing of the keep-alives and of the idle timeout, on paused time: the link's and
    // the listener's connection loops over in-memory streams, the clock moved by the runtime
    // only when every task waits (no real socket in the timed path).

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A configuration for `deliver` over an in-memory stream (no TLS in the way).
    fn stream_config(name: &str) -> SenderConfig {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth();
        let mut cfg = SenderConfig::new(
            name,
            "192.0.2.1:1",
            TlsConnector::from(Arc::new(client)),
            "mdf.test",
        );
        cfg.keepalive_interval = ms(100);
        cfg.keepalive_timeout = ms(300);
        cfg
    }

    /// `deliver` over one in-memory connection: the sending side of its queue, its task,
    /// and the mediator's end of the connection.
    fn deliver_in_memory(
        config: SenderConfig,
    ) -> (
        X2X3Sender,
        JoinHandle<Result<End, TransportError>>,
        tokio::io::DuplexStream,
    ) {
        let (probe, mediator) = tokio::io::duplex(64 * 1024);
        let shared = Arc::new(Shared::new(&config));
        let (queue, mut rx) = mpsc::unbounded_channel();
        let task = {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let (_stop, mut stop) = watch::channel(false);
                let mut sequence = 0;
                deliver(&config, &shared, probe, &mut rx, &mut stop, &mut sequence).await
            })
        };
        (X2X3Sender { queue, shared }, task, mediator)
    }

    /// The next PDU on an in-memory stream.
    async fn read_pdu(stream: &mut tokio::io::DuplexStream, buf: &mut BytesMut) -> Pdu {
        loop {
            if let Some(len) = frame_len(buf, DEFAULT_MAX_PDU_LEN).unwrap() {
                let frame = buf.split_to(len);
                return Pdu::decode(&frame).unwrap().0;
            }
            assert!(stream.read_buf(buf).await.unwrap() > 0, "stream closed");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_unacknowledged_keepalive_closes_the_connection_exactly_at_its_timeout() {
        let t0 = Instant::now();
        let (sender, task, mut mediator) = deliver_in_memory(stream_config("X2 paused"));
        let mut buf = BytesMut::new();
        let keepalive = read_pdu(&mut mediator, &mut buf).await;
        assert_eq!(keepalive.pdu_type, PduType::Keepalive);
        assert_eq!(keepalive.sequence_number(), Some(1));
        assert_eq!(t0.elapsed(), ms(100), "one interval after connecting");
        // Never answered: the connection is up until 300 ms after the keepalive, not longer.
        sleep_until(t0 + ms(399)).await;
        assert!(!task.is_finished(), "closed before the timeout");
        let end = task.await.unwrap();
        assert_eq!(t0.elapsed(), ms(400));
        assert!(
            matches!(
                end,
                Err(TransportError::KeepaliveTimeout { sequence: 1, timeout }) if timeout == ms(300)
            ),
            "{:?}",
            end.err()
        );
        assert_eq!(sender.stats().snapshot().keepalives_acked, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn answered_keepalives_go_one_interval_apart_and_the_last_confirms_the_queue() {
        let t0 = Instant::now();
        let (sender, task, mut mediator) = deliver_in_memory(stream_config("X3 paused"));
        assert!(sender.send_batch(batch_of(0..2)));
        let mut buf = BytesMut::new();
        for seq in 0..2 {
            let pdu = read_pdu(&mut mediator, &mut buf).await;
            assert_eq!(pdu.encode().unwrap(), x3_pdu(seq));
        }
        for n in 1..=10u32 {
            let keepalive = read_pdu(&mut mediator, &mut buf).await;
            assert_eq!(keepalive.pdu_type, PduType::Keepalive);
            assert_eq!(keepalive.sequence_number(), Some(n));
            // Answered at once: the next one goes an interval later, the link stays up.
            assert_eq!(t0.elapsed(), ms(100) * n);
            mediator
                .write_all(&Pdu::keepalive_ack(n).encode().unwrap())
                .await
                .unwrap();
        }
        let stats = timeout(WAIT, sender.stats().wait_for(|s| s.keepalives_acked >= 10))
            .await
            .unwrap();
        assert_eq!((stats.sent, stats.keepalives_acked), (2, 10));
        assert!(!task.is_finished());
        // Every sender gone: a last keepalive confirms the queue, then the link closes.
        let shared = Arc::clone(&sender.shared);
        drop(sender);
        let closing = read_pdu(&mut mediator, &mut buf).await;
        assert_eq!(closing.sequence_number(), Some(11));
        assert!(!task.is_finished(), "closed before the queue was confirmed");
        mediator
            .write_all(&Pdu::keepalive_ack(11).encode().unwrap())
            .await
            .unwrap();
        assert!(matches!(task.await.unwrap(), Ok(End::Drained)));
        assert_eq!(shared.stats.snapshot().possibly_lost, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_silent_for_the_idle_timeout_is_closed_and_traffic_resets_it() {
        let t0 = Instant::now();
        let (mut probe, listener_end) = tokio::io::duplex(64 * 1024);
        let (rd, wr) = tokio::io::split(listener_end);
        let (out, mut rx) = mpsc::channel(16);
        let peer: SocketAddr = "192.0.2.7:40000".parse().unwrap();
        let task = tokio::spawn(async move {
            let settings = ConnectionSettings {
                max_pdu_len: DEFAULT_MAX_PDU_LEN,
                idle: ms(300),
                tap: None,
            };
            read_probe(rd, wr, peer, &Sink::Plain(out), settings).await
        });
        // The probe stays silent for 200 ms (less than the idle timeout), then keeps alive.
        sleep_until(t0 + ms(200)).await;
        let keepalive = Pdu::keepalive(1).encode().unwrap();
        probe.write_all(&keepalive).await.unwrap();
        let mut buf = BytesMut::new();
        assert_eq!(
            read_pdu(&mut probe, &mut buf).await,
            Pdu::keepalive_ack(1),
            "acknowledged at once"
        );
        // Another 250 ms, then a PDU: each arrival restarts the idle timeout.
        sleep_until(t0 + ms(450)).await;
        probe.write_all(&x3_pdu(1)).await.unwrap();
        let (from, pdu) = rx.recv().await.unwrap();
        assert_eq!((from, pdu.encode().unwrap()), (peer, x3_pdu(1)));
        // Then silent: closed 300 ms after the last arrival, not before.
        sleep_until(t0 + ms(749)).await;
        assert!(!task.is_finished(), "closed before the idle timeout");
        let (reason, offset) = task.await.unwrap();
        assert_eq!(t0.elapsed(), ms(750));
        assert_eq!(reason, format!("idle for {:?}", ms(300)));
        assert_eq!(offset, (keepalive.len() + x3_pdu(1).len()) as u64);
    }
}
