//! The point of interception (POI): X1 provisioning in, traffic classified, X2/X3 out
//! (feature `probe`).
//!
//! A [`Probe`] holds the tasks and the X2/X3 destinations the ADMF provisions over X1
//! (TS 103 221-1, HTTPS with mutual TLS: [`Probe::serve_x1`]; in process:
//! [`Probe::create_destination`], [`Probe::activate_task`] ...), the sans-IO
//! [`Classifier`] that matches frames against the tasks' targets, and one
//! [`X2X3Sender`] (mutual TLS, bounded queue) per destination. Frames come from a capture
//! file ([`Probe::replay_file`]: full speed or paced, timestamps rebased to the wall clock by
//! default) or, with the `live` feature, from an interface (`Probe::capture_live`).
//! Every intercept record becomes an X2 (IRI) or X3 (CC) PDU for each of its task's
//! destinations whose delivery type includes it (a call's SIP messages as X2 SIP Message
//! PDUs, its RTP and RTCP packets as X3 RTP Packet PDUs, with the call's CIN as Correlation
//! ID); [`li_handover::x2x3::contract`] is the PDU
//! layout, which a mediator reads with the contract's inverses.
//!
//! The decisions are pure functions and types, driven by the tokio code around them with
//! the time as an argument: the probe's clock ([`ProbeClock`], [`advance_due`], [`rebase`]),
//! the mapping of X1 tasks and destinations ([`task_from_details`], [`x2x3_address`],
//! [`carries`]) and the capture-loss alarm ([`LossAlarm`]).
//!
//! The probe registers no metrics itself: [`Probe::interface_frames`],
//! [`Probe::classifier_stats`], [`Probe::unencodable_records`], [`Probe::destination_stats`]
//! and [`Probe::active_tasks`] are snapshots to expose as the application likes.
//!
//! # Time
//!
//! The probe's clock is the timestamp of the latest frame of the replay in progress; outside
//! a replay it is the wall clock, but never earlier than the last replayed frame (a fast,
//! rebased replay runs ahead of the wall clock; the clock does not step back when it ends):
//! [`ProbeClock`]. Tasks are activated and deactivated at this time, and
//! [`Classifier::advance`] is called with it every [`TICK`] (window edges produce their IRI
//! in time even when no frame comes), and by the frames themselves once they are a
//! [`TICK`] past the last advance ([`advance_due`]).
//!
//! # Mapping of X1 tasks
//!
//! An X1 `TaskDetails` becomes a [`Task`] ([`task_from_details`]): its XID and targets (IP
//! addresses and prefixes, usernames, MAC addresses, SIP URIs, TEL URIs and E.164 numbers;
//! a SIP URI the SIP matcher cannot parse is refused, naming the target's position); scope from `deliveryType` (`X2Only` IRI only, `X2andX3` IRI and
//! CC, `X3Only` refused); validity window from the first `mediationDetails`'
//! `startTime`/`endTime` when present, else always; LIID from the same when present, else a
//! placeholder (the LIID never leaves the probe: X2/X3 carry the XID); destinations from
//! `listOfDIDs`, each of which must exist.
//!
//! Target identifiers are never logged above debug level.

mod alarm;
mod capture;
mod clock;
mod x1;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::LinkType;
use crate::classify::{Classifier, ClassifierConfig, ClassifierStats};
use li_core::{
    CcKind, CcRecord, Cin, DestinationId, InterceptRecord, IriEvent, IriType, MediaFlow,
    PayloadDirection, Task, Timestamp, Xid,
};
use li_handover::audit::{AuditKind, AuditLog};
use li_handover::x1::transport::X1ServerConfig;
use li_handover::x1::{DestinationDetails, TaskDetails};
use li_handover::x2x3::transport::{
    PduBatch, SenderConfig, SenderHandle, SenderStatsSnapshot, X2X3Sender,
};
use li_handover::x2x3::{X3IpPacketEncoder, X3MediaEncoder, contract};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tracing::{debug, warn};

pub use alarm::{LossAlarm, Losses};
pub use capture::{ReplayOptions, ReplayReport};
pub use clock::{ProbeClock, TICK, advance_due, rebase};
pub use x1::{
    FAULT_X2X3_LINK_DOWN, FAULT_X2X3_QUEUE_FULL, Refusal, carries, task_from_details, x2x3_address,
};

/// Errors of the probe's captures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// A socket or file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The capture file cannot be read at all.
    #[error("capture {path}: {source}")]
    Capture {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: crate::source::CaptureError,
    },
    /// Live capture failed.
    #[error("live capture on {interface}: {reason}")]
    Live {
        /// The interface.
        interface: String,
        /// Why.
        reason: String,
    },
    /// A capture thread ended abnormally.
    #[error("capture thread failed: {0}")]
    Join(String),
}

/// How the probe runs, independently of where its configuration comes from.
#[derive(Clone)]
pub struct ProbeSettings {
    /// The NE identifier: X1 messages must name it as `neIdentifier`.
    pub name: String,
    /// The Network Function ID every X2/X3 PDU carries (TS 103 221-2 attribute type 6), 1 to
    /// [`li_handover::x2x3::MAX_NETWORK_FUNCTION_ID_LEN`] octets: which network function
    /// intercepted. The mediator gives it to agencies as the intercepting system's identity
    /// (the IAP system id of the US formats). Default: the name (its first 64 octets).
    /// `None`: PDUs carry none (the mediator's own identity is used).
    pub network_function_id: Option<Vec<u8>>,
    /// The TLS connector towards the mediators (our client certificate, the CA we trust).
    pub x2x3_connector: TlsConnector,
    /// The name the mediators' certificates must carry.
    pub x2x3_server_name: String,
    /// PDUs queued per destination at most.
    pub queue_capacity: usize,
    /// X2/X3 keepalive interval.
    pub keepalive_interval: Duration,
    /// The classifier's configuration.
    pub classifier: ClassifierConfig,
    /// Where capture-loss alarms are recorded (live capture: frames the kernel dropped,
    /// PDUs a full X2/X3 queue dropped), besides the log and the metrics.
    pub audit: Option<Arc<AuditLog>>,
}

impl ProbeSettings {
    /// Settings with a queue of [`li_handover::x2x3::transport::DEFAULT_QUEUE_CAPACITY`]
    /// PDUs, a keepalive every 5 s and the default classifier with RADIUS accounting on port
    /// 1813 only, whose CINs start at a random point (so that two probes, or two runs of
    /// one, feeding the same mediator do not give two communications one CIN).
    pub fn new(
        name: impl Into<String>,
        x2x3_connector: TlsConnector,
        x2x3_server_name: impl Into<String>,
    ) -> Self {
        let name = name.into();
        let network_function_id = Some(name.as_bytes()).filter(|n| !n.is_empty()).map(|n| {
            n.get(..li_handover::x2x3::MAX_NETWORK_FUNCTION_ID_LEN)
                .unwrap_or(n)
                .to_vec()
        });
        Self {
            name,
            network_function_id,
            x2x3_connector,
            x2x3_server_name: x2x3_server_name.into(),
            queue_capacity: li_handover::x2x3::transport::DEFAULT_QUEUE_CAPACITY,
            keepalive_interval: Duration::from_secs(5),
            classifier: ClassifierConfig {
                radius_accounting_ports: vec![1813],
                first_cin: random_first_cin(),
                ..ClassifierConfig::default()
            },
            audit: None,
        }
    }
}

impl std::fmt::Debug for ProbeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeSettings")
            .field("name", &self.name)
            .field("x2x3_server_name", &self.x2x3_server_name)
            .field("queue_capacity", &self.queue_capacity)
            .field("keepalive_interval", &self.keepalive_interval)
            .finish_non_exhaustive()
    }
}

/// The X2/X3 totals over every destination (and those removed), at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// PDUs accepted into a queue.
    pub queued: u64,
    /// PDUs written to a connection.
    pub sent: u64,
    /// PDUs dropped because a queue was full.
    pub dropped: u64,
    /// PDUs still queued (discarded, when this is the report of [`Probe::shutdown`]).
    pub pending: u64,
    /// Whether every queue was written out (and, for [`Probe::shutdown`], confirmed by a
    /// keepalive acknowledgement) before the timeout.
    pub complete: bool,
}

/// The point of interception. Cheap to clone (shared state). See the [module
/// documentation](self).
///
/// A probe delivering to an X2/X3 listener that stands for the mediator, provisioned in
/// process (an ADMF would send the same details over X1, [`Probe::serve_x1`]), replaying a
/// capture written on the fly:
///
/// ```
/// use std::time::Duration;
///
/// use li_capture::LinkType;
/// use li_capture::probe::{Probe, ProbeSettings, ReplayOptions};
/// use li_capture::source::PcapWriter;
/// use li_core::{DestinationId, Timestamp, Xid};
/// use li_handover::tls::{DevPki, Validity};
/// use li_handover::x1::{DeliveryAddress, DeliveryType, DestinationDetails, Port, TaskDetails};
/// use li_handover::x2x3::contract::{self, Content};
/// use li_handover::x2x3::transport::X2X3Listener;
/// use li_handover::x2x3::{DEFAULT_MAX_PDU_LEN, PduType};
/// use tokio::net::TcpListener;
/// use tokio_rustls::{TlsAcceptor, TlsConnector};
///
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A throw-away PKI, and an X2/X3 listener standing for the mediator.
/// let pki = DevPki::new("example CA")?;
/// let probe_identity = pki.issue("probe-1", &[], &[], Validity::Default)?;
/// let mdf_identity = pki.issue("mdf", &["mdf.example"], &[], Validity::Default)?;
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let mdf = listener.local_addr()?;
/// let (pdus, mut received) = tokio::sync::mpsc::channel(16);
/// let acceptor = TlsAcceptor::from(pki.server_config(&mdf_identity)?);
/// tokio::spawn(X2X3Listener::new(acceptor, DEFAULT_MAX_PDU_LEN).serve(listener, pdus));
///
/// // The probe, with one destination and one task on 192.0.2.7.
/// let connector = TlsConnector::from(pki.client_config(&probe_identity)?);
/// let probe = Probe::new(ProbeSettings::new("probe-1", connector, "mdf.example"));
/// let did = DestinationId::from_bytes([1; 16]);
/// probe.create_destination(DestinationDetails {
///     did,
///     friendly_name: Some("MDF".into()),
///     delivery_type: DeliveryType::X2AndX3,
///     delivery_address: DeliveryAddress::IpAddressPort {
///         address: mdf.ip(),
///         port: Port::Tcp(mdf.port()),
///     },
/// })?;
/// let xid = Xid::from_bytes([2; 16]);
/// let target = "ipv4:192.0.2.7".parse()?;
/// probe.activate_task(TaskDetails::new(xid, vec![target], DeliveryType::X2AndX3, vec![did]))?;
///
/// // A capture of one packet from the target, replayed (rebased to now).
/// let mut writer = PcapWriter::new(Vec::new(), LinkType::RawIp, false)?;
/// let mut packet = vec![0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 253, 0, 0];
/// packet.extend_from_slice(&[192, 0, 2, 7, 198, 51, 100, 1]);
/// writer.write_frame(Timestamp::from_secs_micros(1_700_000_000, 0)?, &packet)?;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("one-packet.pcap");
/// std::fs::write(&path, writer.into_inner())?;
/// let replay = probe.replay_file(&path, ReplayOptions::default()).await?;
/// assert_eq!((replay.counters.frames, replay.counters.matched, replay.cc_records), (1, 1, 1));
/// probe.deactivate_task(xid)?;
///
/// // IRI-Begin, the packet and IRI-End went out, in this order.
/// let delivery = probe.drain(Duration::from_secs(10)).await;
/// assert!(delivery.complete, "{delivery:?}");
/// assert_eq!((delivery.queued, delivery.sent, delivery.dropped), (3, 3, 0));
/// let mut types = Vec::new();
/// for _ in 0..3 {
///     let (_, pdu) = received.recv().await.ok_or("the listener stopped")?;
///     if let Content::Cc { packet: got, .. } = contract::read(&pdu)?.content {
///         assert_eq!(got, &packet[..]);
///     }
///     types.push(pdu.pdu_type);
/// }
/// assert_eq!(types, [PduType::X2, PduType::X3, PduType::X2]);
/// assert!(probe.shutdown(Duration::from_secs(5)).await.complete);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Probe {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("name", &self.inner.settings.name)
            .finish_non_exhaustive()
    }
}

struct Inner {
    settings: ProbeSettings,
    state: Mutex<State>,
    /// The number of active tasks, for [`Probe::wait_for_tasks`].
    active_tasks: watch::Sender<usize>,
    /// Set by [`Probe::shutdown`]: captures stop.
    cancel: AtomicBool,
    /// The interfaces a live capture is open on, for [`Probe::wait_capturing`].
    #[cfg(all(feature = "live", target_os = "linux"))]
    capturing: watch::Sender<std::collections::BTreeSet<String>>,
    /// Records that could not be encoded (timestamp after 2106, not an IP packet, an IRI
    /// event li-asn1 cannot encode).
    unencodable: AtomicU64,
}

/// Media flows of one call whose X3 headers a task keeps pre-encoded at most (each stream's
/// RTP and RTCP, each way, for audio and video, is 8); the packets of further flows are
/// encoded each on its own.
const MAX_MEDIA_FLOWS_PER_CALL: usize = 16;

/// The pre-encoded X3 header of one media flow of a call, for one task.
struct MediaEncoder {
    direction: PayloadDirection,
    flow: MediaFlow,
    encoder: X3MediaEncoder,
}

/// Everything the X1 handler and the capture share.
struct State {
    classifier: Classifier,
    tasks: BTreeMap<Xid, TaskEntry>,
    destinations: BTreeMap<DestinationId, DestinationRuntime>,
    /// One pre-encoded X3 header per (task, session).
    encoders: HashMap<(Xid, Cin), X3IpPacketEncoder>,
    /// The pre-encoded X3 RTP Packet headers of a call's media flows, per (task, call): a
    /// call has a handful of flows (each stream's RTP and RTCP, each way), found by a scan.
    /// Dropped at the call's IRI-End and with the task.
    media_encoders: HashMap<(Xid, Cin), Vec<MediaEncoder>>,
    /// Totals of destinations removed (their counters are gone with their links).
    retired: SenderStatsSnapshot,
    /// Per capture interface (file name or interface name).
    interfaces: BTreeMap<String, FrameCounters>,
    clock: ProbeClock,
    /// Probe time of the last [`Classifier::advance`].
    last_advance: Timestamp,
    scratch: Vec<InterceptRecord>,
    /// The X2/X3 PDUs encoded during the current hold of the state lock, per destination;
    /// queued by [`State::flush`] before the lock is released (so PDUs reach each
    /// destination's queue in the order their sequence numbers were taken).
    batches: BTreeMap<DestinationId, PduBatch>,
}

/// What [`State::flush`] does when a destination's queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WhenFull {
    /// Queue anyway (the producer waits for room before producing: a file replay; or the
    /// records are few: X1 and clock events). Nothing is dropped.
    Queue,
    /// Drop and count (live capture: the wire does not wait).
    #[cfg_attr(not(all(feature = "live", target_os = "linux")), allow(dead_code))]
    Drop,
}

/// What the classifier counted between two readings of its counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct StatsDelta {
    /// The per-frame counters (`frames` is left 0: the classifier does not count frames).
    counters: FrameCounters,
    cc_records: u64,
    iri_records: u64,
}

/// The counters of `after` less those of `before`.
fn stats_delta(before: &ClassifierStats, after: &ClassifierStats) -> StatsDelta {
    StatsDelta {
        counters: FrameCounters {
            frames: 0,
            not_ip: after.not_ip.saturating_sub(before.not_ip),
            malformed: after.malformed.saturating_sub(before.malformed),
            matched: after.matched.saturating_sub(before.matched),
            truncated: after.truncated.saturating_sub(before.truncated),
            length_mismatch: after.length_mismatch.saturating_sub(before.length_mismatch),
        },
        cc_records: after.cc_records.saturating_sub(before.cc_records),
        iri_records: after.iri_records.saturating_sub(before.iri_records),
    }
}

/// Frame counters of one capture interface (a file name or an interface name), since the
/// probe started ([`Probe::interface_frames`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameCounters {
    /// Every frame.
    pub frames: u64,
    /// Frames without an IP packet.
    pub not_ip: u64,
    /// Frames that could not be decoded.
    pub malformed: u64,
    /// Frames with a target's packet.
    pub matched: u64,
    /// Target's packets cut by the capture's snapshot length, delivered truncated.
    pub truncated: u64,
    /// Target's packets whose IP length disagrees with the frame or an enclosing length,
    /// delivered as the bytes present.
    pub length_mismatch: u64,
}

impl FrameCounters {
    /// Adds `other`'s counts to these.
    fn add(&mut self, other: &Self) {
        self.frames += other.frames;
        self.not_ip += other.not_ip;
        self.malformed += other.malformed;
        self.matched += other.matched;
        self.truncated += other.truncated;
        self.length_mismatch += other.length_mismatch;
    }
}

/// One X2/X3 destination's link, at one instant ([`Probe::destination_stats`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DestinationStats {
    /// The destination.
    pub did: DestinationId,
    /// Its link's counters (queued, sent, dropped, possibly lost; connected).
    pub link: SenderStatsSnapshot,
    /// PDUs waiting in its queue.
    pub queue_len: usize,
}

struct TaskEntry {
    details: TaskDetails,
    modified: Option<Timestamp>,
    modifications: u64,
    x2_pdus: u64,
    x3_pdus: u64,
    last_intercept: Option<Timestamp>,
}

struct DestinationRuntime {
    details: DestinationDetails,
    /// The mediator's X2/X3 address.
    addr: SocketAddr,
    sender: X2X3Sender,
    handle: Option<SenderHandle>,
    /// The next Sequence Number (from 0, X2 and X3 together).
    next_sequence: u32,
}

impl DestinationRuntime {
    fn wants(&self, cc: bool) -> bool {
        carries(self.details.delivery_type, cc)
    }

    fn take_sequence(&mut self) -> u32 {
        let n = self.next_sequence;
        self.next_sequence = n.wrapping_add(1);
        n
    }
}

impl Probe {
    /// A probe with no task, no destination and no capture running.
    pub fn new(settings: ProbeSettings) -> Self {
        if let Some(nfid) = &settings.network_function_id
            && (!(1..=15).contains(&nfid.len()) || !nfid.iter().all(|b| (0x20..=0x7e).contains(b)))
        {
            // The mediator names this probe's records itself then (its own IAP id).
            warn!(probe = %settings.name, nfid = %String::from_utf8_lossy(nfid),
                "network function id is not 1 to 15 visible characters: US agencies will see the mediator's IAP system id for this probe's records");
        }
        let classifier = Classifier::new(settings.classifier.clone());
        Self {
            inner: Arc::new(Inner {
                settings,
                state: Mutex::new(State {
                    classifier,
                    tasks: BTreeMap::new(),
                    destinations: BTreeMap::new(),
                    encoders: HashMap::new(),
                    media_encoders: HashMap::new(),
                    retired: SenderStatsSnapshot::default(),
                    interfaces: BTreeMap::new(),
                    clock: ProbeClock::new(),
                    last_advance: Timestamp::UNIX_EPOCH,
                    scratch: Vec::new(),
                    batches: BTreeMap::new(),
                }),
                active_tasks: watch::channel(0).0,
                cancel: AtomicBool::new(false),
                #[cfg(all(feature = "live", target_os = "linux"))]
                capturing: watch::channel(std::collections::BTreeSet::new()).0,
                unencodable: AtomicU64::new(0),
            }),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &ProbeSettings {
        &self.inner.settings
    }

    /// Serves X1 on `listener` until `shutdown` turns true (see
    /// [`li_handover::x1::transport::serve`]); set `config.allowed_identities` to the ADMF's
    /// certificate identities.
    pub async fn serve_x1(
        &self,
        listener: TcpListener,
        acceptor: TlsAcceptor,
        config: X1ServerConfig,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<()> {
        li_handover::x1::transport::serve(
            listener,
            acceptor,
            Arc::new(x1::Handler::new(self.clone())),
            config,
            shutdown,
        )
        .await
    }

    /// The probe's clock (see the [module documentation](self#time)).
    pub fn now(&self) -> Timestamp {
        self.lock().clock.now(wall_clock())
    }

    /// The number of active tasks.
    pub fn active_tasks(&self) -> usize {
        *self.inner.active_tasks.borrow()
    }

    /// Waits until at least `n` tasks are active; `false` if `shutdown` turned true first.
    pub async fn wait_for_tasks(&self, n: usize, mut shutdown: watch::Receiver<bool>) -> bool {
        let mut tasks = self.inner.active_tasks.subscribe();
        tokio::select! {
            result = tasks.wait_for(|active| *active >= n) => result.is_ok(),
            _ = shutdown.wait_for(|stop| *stop) => false,
        }
    }

    /// The classifier's counters.
    pub fn classifier_stats(&self) -> ClassifierStats {
        self.lock().classifier.stats()
    }

    /// The frame counters of every capture interface (file or interface name) so far.
    pub fn interface_frames(&self) -> BTreeMap<String, FrameCounters> {
        self.lock().interfaces.clone()
    }

    /// Intercept records that could not be encoded as X2/X3 PDUs (not sent): a timestamp
    /// after 2106, a CC record that is not an IP packet, an IRI event li-asn1 cannot encode.
    pub fn unencodable_records(&self) -> u64 {
        self.inner.unencodable.load(Ordering::Relaxed)
    }

    /// The links of the X2/X3 destinations, in DID order.
    pub fn destination_stats(&self) -> Vec<DestinationStats> {
        self.lock()
            .destinations
            .iter()
            .map(|(did, d)| DestinationStats {
                did: *did,
                link: d.sender.stats().snapshot(),
                queue_len: d.sender.queue_len(),
            })
            .collect()
    }

    /// Advances the classifier to the probe's clock and sends what it yields (window edges,
    /// lease expiries). [`Probe::spawn_ticker`] calls it every [`TICK`].
    pub fn tick(&self) {
        let mut state = self.lock();
        let now = state.clock.now(wall_clock());
        state.advance(now, &self.inner);
        state.flush(WhenFull::Queue);
    }

    /// Calls [`Probe::tick`] every [`TICK`] until `shutdown` turns true.
    pub fn spawn_ticker(&self, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        let probe = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => probe.tick(),
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
        })
    }

    /// The X2/X3 totals now; `complete` when every queue is empty and everything queued was
    /// written.
    pub fn delivery(&self) -> DeliveryReport {
        delivery(&self.lock())
    }

    /// Waits until every X2/X3 queue is written out (PDUs written to their connection, not
    /// necessarily acknowledged), or `timeout`; the links stay up.
    ///
    /// It waits for the links' events (PDUs written, a queue emptied), never polls. When the
    /// report can never be complete (a removed destination's link stopped before its queue
    /// was written), it is returned at once.
    pub async fn drain(&self, timeout: Duration) -> DeliveryReport {
        let report = match tokio::time::timeout(timeout, self.written_out()).await {
            Ok(report) => report,
            Err(_) => self.delivery(),
        };
        if !report.complete {
            warn!(
                pending = report.pending,
                "X2/X3 queues not written out within {} ms",
                timeout.as_millis()
            );
        }
        report
    }

    /// Waits until [`DeliveryReport::complete`], or until it can never be; returns the
    /// report then.
    async fn written_out(&self) -> DeliveryReport {
        loop {
            let (report, senders, never) = {
                let state = self.lock();
                let senders: Vec<X2X3Sender> = state
                    .destinations
                    .values()
                    .map(|d| d.sender.clone())
                    .collect();
                // Removed destinations' counters no longer change.
                let never = state.retired.sent != state.retired.queued;
                (delivery(&state), senders, never)
            };
            if report.complete || never {
                return report;
            }
            for sender in &senders {
                if !written_out(sender).await {
                    return self.delivery();
                }
            }
        }
    }

    /// Waits until `cond` holds for the counters of destination `did`'s link, and returns
    /// the snapshot it held for; `None` when there is no such destination. Checked at once
    /// and after every change of a counter or of the connection state, never polled
    /// ([`SenderStats::wait_for`](li_handover::x2x3::transport::SenderStats::wait_for)):
    /// wait until the link is up, until the mediator acknowledged a keepalive, until so many
    /// PDUs are queued. A destination removed or moved ([`Probe::modify_destination`])
    /// meanwhile is still watched on its old link; bound the wait with a timeout when the
    /// condition may never hold.
    pub async fn wait_for_link(
        &self,
        did: DestinationId,
        cond: impl FnMut(&SenderStatsSnapshot) -> bool,
    ) -> Option<SenderStatsSnapshot> {
        let sender = self.lock().destinations.get(&did)?.sender.clone();
        Some(sender.stats().wait_for(cond).await)
    }

    /// Waits until a live capture ([`Probe::capture_live`]) has opened `interface`: the
    /// frames that pass from then on are captured. Waits as long as no capture opens it
    /// (one that fails to open it returns its error instead); bound it with a timeout.
    #[cfg(all(feature = "live", target_os = "linux"))]
    pub async fn wait_capturing(&self, interface: &str) {
        let mut capturing = self.inner.capturing.subscribe();
        // The sender lives as long as the probe, which `self` holds.
        let _ = capturing.wait_for(|open| open.contains(interface)).await;
    }

    /// Stops captures and every X2/X3 link: each queue is delivered and confirmed by a
    /// keepalive acknowledgement first, for at most `timeout` overall; what is still queued
    /// then is discarded (logged by the sender) and counted in the report's `pending`.
    pub async fn shutdown(&self, timeout: Duration) -> DeliveryReport {
        self.inner.cancel.store(true, Ordering::Relaxed);
        let handles: Vec<(String, SenderHandle)> = {
            let mut state = self.lock();
            let destinations = std::mem::take(&mut state.destinations);
            let mut handles = Vec::new();
            for (did, mut d) in destinations {
                // Dropping the last sender lets the link end once its queue is delivered.
                if let Some(handle) = d.handle.take() {
                    handles.push((did.to_string(), handle));
                }
            }
            handles
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let mut report = DeliveryReport {
            complete: true,
            ..DeliveryReport::default()
        };
        {
            let state = self.lock();
            let retired = totals(&state);
            report.queued = retired.queued;
            report.sent = retired.sent;
            report.dropped = retired.dropped;
        }
        for (did, handle) in handles {
            let (stats, delivered) = finish_link(handle, deadline).await;
            report.queued += stats.queued;
            report.sent += stats.sent;
            report.dropped += stats.dropped;
            let pending = stats.queued.saturating_sub(stats.sent);
            report.pending += pending;
            if !delivered {
                report.complete = false;
                warn!(destination = %did, pending, "X2/X3 link stopped before its queue was delivered");
            }
        }
        report
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn publish_tasks(&self, state: &State) {
        self.inner.active_tasks.send_replace(state.tasks.len());
    }

    /// Waits (blocking the calling thread, a replay's) until every destination's queue has
    /// room for `pdus` more PDUs: the backpressure that makes a file replay slow down to
    /// what the links and the mediator take instead of dropping. Returns `false` when the
    /// probe is shutting down.
    fn wait_for_room(&self, pdus: u64) -> bool {
        let full: Vec<X2X3Sender> = self
            .lock()
            .destinations
            .values()
            .filter(|d| (d.sender.queue_len() as u64).saturating_add(pdus) > d.sender.capacity())
            .map(|d| d.sender.clone())
            .collect();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return !self.cancelled();
        };
        for sender in full {
            loop {
                if self.cancelled() {
                    return false;
                }
                // In slices, to notice a shutdown.
                match runtime.block_on(tokio::time::timeout(
                    Duration::from_millis(200),
                    sender.wait_for_room(pdus),
                )) {
                    Ok(_) => break,
                    Err(_) => continue,
                }
            }
        }
        !self.cancelled()
    }

    /// Starts a replay: the clock follows its frames.
    fn begin_replay(&self) {
        self.lock().clock.begin_replay();
    }

    /// Ends a replay: the clock is the wall clock again, not earlier than its last frame.
    fn end_replay(&self) {
        self.lock().clock.end_replay();
    }

    fn cancelled(&self) -> bool {
        self.inner.cancel.load(Ordering::Relaxed)
    }

    /// Starts an X2/X3 sender towards `addr`.
    fn spawn_sender(
        &self,
        details: &DestinationDetails,
        addr: SocketAddr,
    ) -> (X2X3Sender, SenderHandle) {
        let s = &self.inner.settings;
        let name = match &details.friendly_name {
            Some(friendly) => format!("X2/X3 to {friendly} ({})", details.did),
            None => format!("X2/X3 to {}", details.did),
        };
        let mut config = SenderConfig::new(
            name,
            addr.to_string(),
            s.x2x3_connector.clone(),
            s.x2x3_server_name.clone(),
        );
        config.queue_capacity = s.queue_capacity.max(1);
        config.keepalive_interval = s.keepalive_interval;
        X2X3Sender::spawn(config)
    }
}

impl State {
    /// Counts `frames` frames of `interface` into its counters, with what the classifier
    /// counted since its counters were `before`: call it for the frames classified under one
    /// hold of the state lock (only [`State::classify_frame`] changes these counters).
    /// Returns the counts it added (the caller's share of them).
    fn count_frames(
        &mut self,
        interface: &str,
        frames: u64,
        before: &ClassifierStats,
    ) -> FrameCounters {
        if frames == 0 {
            return FrameCounters::default();
        }
        let added = FrameCounters {
            frames,
            ..stats_delta(before, &self.classifier.stats()).counters
        };
        let counters = match self.interfaces.get_mut(interface) {
            Some(c) => c,
            None => self.interfaces.entry(interface.to_owned()).or_default(),
        };
        counters.add(&added);
        added
    }

    /// Classifies one frame and encodes what it yields into the pending batches (counted
    /// with [`State::count_frames`]).
    fn classify_frame(
        &mut self,
        time: Timestamp,
        link: LinkType,
        data: &[u8],
        original_len: u32,
        inner: &Inner,
    ) {
        let mut out = std::mem::take(&mut self.scratch);
        self.classifier
            .classify_captured(time, link, data, original_len, &mut out);
        if advance_due(self.last_advance, time) {
            self.last_advance = time;
            self.classifier.advance(time, &mut out);
        }
        self.dispatch(&mut out, inner);
        self.scratch = out;
    }

    /// Queues the pending batches on their destinations' links.
    fn flush(&mut self, when_full: WhenFull) {
        if self.batches.is_empty() {
            return;
        }
        for (did, batch) in std::mem::take(&mut self.batches) {
            let Some(dest) = self.destinations.get(&did) else {
                continue;
            };
            match when_full {
                WhenFull::Queue => dest.sender.send_batch(batch),
                WhenFull::Drop => dest.sender.try_send_batch(batch),
            };
        }
    }

    /// Advances the classifier to `now` and sends what it yields.
    fn advance(&mut self, now: Timestamp, inner: &Inner) {
        let mut out = std::mem::take(&mut self.scratch);
        self.last_advance = self.last_advance.max(now);
        self.classifier.advance(now, &mut out);
        self.dispatch(&mut out, inner);
        self.scratch = out;
    }

    /// Encodes and queues `records` for their tasks' destinations; empties `records`.
    fn dispatch(&mut self, records: &mut Vec<InterceptRecord>, inner: &Inner) {
        let mut outbox = Outbox {
            destinations: &mut self.destinations,
            batches: &mut self.batches,
            unencodable: &inner.unencodable,
        };
        // Checked here once: an NFID the encoders refuse (empty, over 64 octets) is left out.
        let nfid = inner
            .settings
            .network_function_id
            .as_deref()
            .filter(|n| contract::network_function_id_attribute(n).is_ok());
        let nfid_attribute = nfid.and_then(|n| contract::network_function_id_attribute(n).ok());
        for record in records.drain(..) {
            let xid = record.xid();
            let Some(task) = self.tasks.get_mut(&xid) else {
                // The classifier only emits for tasks it has, which are ours.
                debug!(%xid, "record for an unknown task");
                inner.unencodable.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let Some(timestamp) = contract::pdu_timestamp(record.timestamp()) else {
                inner.unencodable.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            task.last_intercept = Some(record.timestamp());
            let dids = &task.details.dids;
            match &record {
                InterceptRecord::Cc(CcRecord {
                    kind: CcKind::Media(flow),
                    cin,
                    direction,
                    payload,
                    ..
                }) => {
                    // A call's RTP/RTCP packet: X3 RTP Packet with its flow's attributes,
                    // their header pre-encoded once per flow.
                    let flows = self.media_encoders.entry((xid, *cin)).or_default();
                    let at = flows
                        .iter()
                        .position(|m| m.direction == *direction && m.flow == *flow);
                    let one_off;
                    let encoder = match at {
                        Some(at) => flows.get(at).map(|m| &m.encoder),
                        None => {
                            match contract::media_encoder_from(xid, *cin, *direction, flow, nfid) {
                                Ok(encoder) if flows.len() < MAX_MEDIA_FLOWS_PER_CALL => {
                                    flows.push(MediaEncoder {
                                        direction: *direction,
                                        flow: *flow,
                                        encoder,
                                    });
                                    flows.last().map(|m| &m.encoder)
                                }
                                Ok(encoder) => {
                                    // Beyond the bound (a call's media from ever new source
                                    // ports): encoded, not kept.
                                    one_off = encoder;
                                    Some(&one_off)
                                }
                                Err(error) => {
                                    debug!(%xid, %error, "media flow not encodable as X3");
                                    None
                                }
                            }
                        }
                    };
                    let Some(encoder) = encoder else {
                        inner.unencodable.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    task.x3_pdus += outbox.send(xid, dids, Plane::X3, "media", |out, sequence| {
                        encoder.encode(out, sequence, timestamp, payload)
                    });
                }
                InterceptRecord::Cc(cc) => {
                    let encoder = self.encoders.entry((xid, cc.cin)).or_insert_with(|| {
                        let encoder = contract::x3_encoder(xid, cc.cin);
                        match nfid {
                            Some(n) => encoder
                                .clone()
                                .with_network_function_id(n)
                                .unwrap_or(encoder),
                            None => encoder,
                        }
                    });
                    task.x3_pdus += outbox.send(xid, dids, Plane::X3, "CC", |out, sequence| {
                        contract::encode_cc(encoder, out, sequence, timestamp, cc)
                    });
                }
                InterceptRecord::Iri(iri) if matches!(iri.event, IriEvent::Sip(_)) => {
                    // A SIP message of a call: X2 SIP Message, the message verbatim.
                    let IriEvent::Sip(sip) = &iri.event else {
                        continue; // not reached: the guard said SIP
                    };
                    if iri.iri_type == IriType::End {
                        // The call is over for this task: its media headers go.
                        self.media_encoders.remove(&(xid, iri.cin));
                    }
                    task.x2_pdus += outbox.send(xid, dids, Plane::X2, "SIP", |out, sequence| {
                        let mut pdu =
                            contract::sip_pdu(xid, iri.cin, sequence, timestamp, iri.iri_type, sip);
                        pdu.attributes.extend(nfid_attribute.clone());
                        pdu.encode_into(out)
                    });
                }
                InterceptRecord::Iri(iri) => {
                    let Some(payload) = contract::iri_payload(iri) else {
                        inner.unencodable.fetch_add(1, Ordering::Relaxed);
                        continue;
                    };
                    task.x2_pdus += outbox.send(xid, dids, Plane::X2, "IRI", |out, sequence| {
                        let mut pdu = contract::x2_pdu(xid, iri.cin, sequence, timestamp, &payload);
                        pdu.attributes.extend(nfid_attribute.clone());
                        pdu.encode_into(out)
                    });
                }
            }
        }
    }

    /// Activates (or, for an existing XID, replaces) a task at the probe's clock and sends
    /// its begin records.
    fn activate(
        &mut self,
        task: Task<DestinationId>,
        details: TaskDetails,
        modified: bool,
        inner: &Inner,
    ) {
        let now = self.clock.now(wall_clock());
        let xid = task.xid();
        let entry = self.tasks.entry(xid).or_insert_with(|| TaskEntry {
            details: details.clone(),
            modified: None,
            modifications: 0,
            x2_pdus: 0,
            x3_pdus: 0,
            last_intercept: None,
        });
        if modified {
            entry.modified = Some(now);
            entry.modifications += 1;
        }
        // End records of a modified task go to its old destinations: send them first.
        let mut out = std::mem::take(&mut self.scratch);
        if modified && self.classifier.deactivate(xid, now, &mut out) {
            self.dispatch(&mut out, inner);
        }
        if let Some(entry) = self.tasks.get_mut(&xid) {
            entry.details = details;
        }
        self.encoders.retain(|(x, _), _| *x != xid);
        self.media_encoders.retain(|(x, _), _| *x != xid);
        self.classifier.activate(task, now, &mut out);
        self.dispatch(&mut out, inner);
        self.scratch = out;
        self.flush(WhenFull::Queue);
    }

    /// Deactivates a task at the probe's clock and sends its end records; false if unknown.
    fn deactivate(&mut self, xid: Xid, inner: &Inner) -> bool {
        if !self.tasks.contains_key(&xid) {
            return false;
        }
        let now = self.clock.now(wall_clock());
        let mut out = std::mem::take(&mut self.scratch);
        self.classifier.deactivate(xid, now, &mut out);
        self.dispatch(&mut out, inner);
        self.scratch = out;
        self.flush(WhenFull::Queue);
        self.tasks.remove(&xid);
        self.encoders.retain(|(x, _), _| *x != xid);
        self.media_encoders.retain(|(x, _), _| *x != xid);
        true
    }
}

impl Probe {
    /// Raises the capture-loss alarm: an error log line and, when the probe has an audit log,
    /// a `capture.loss` entry.
    #[cfg_attr(not(all(feature = "live", target_os = "linux")), allow(dead_code))]
    fn raise_loss_alarm(&self, interface: &str, losses: &Losses) {
        tracing::error!(
            %interface,
            kernel_dropped = losses.kernel,
            x2x3_dropped = losses.x2x3,
            "ALARM: capture loss on {interface}: {} frames dropped by the kernel, {} X2/X3 PDUs \
             dropped for a full queue (totals {} and {})",
            losses.kernel,
            losses.x2x3,
            losses.kernel_total,
            losses.x2x3_total
        );
        if let Some(log) = &self.inner.settings.audit {
            let detail = serde_json::json!({
                "interface": interface,
                "kernel_dropped": losses.kernel,
                "kernel_dropped_total": losses.kernel_total,
                "x2x3_dropped": losses.x2x3,
                "x2x3_dropped_total": losses.x2x3_total,
            });
            if let Err(error) = log.append("probe", AuditKind::Other("capture.loss".into()), detail)
            {
                tracing::error!(%error, "audit log append failed");
            }
        }
    }
}

/// A destination's batch for one hold of the state lock.
fn new_batch() -> PduBatch {
    PduBatch::with_capacity(16 * 1024)
}

/// Which interface a PDU goes out on: X2 (IRI) or X3 (CC). A destination takes one or both
/// (its delivery type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plane {
    X2,
    X3,
}

/// Where [`State::dispatch`] puts a record's PDUs: the destinations (whose sequence numbers
/// it takes) and their pending batches. One place, so that the four kinds of record (media,
/// other CC, SIP, other IRI) take sequence numbers, fill batches and count failures alike.
struct Outbox<'a> {
    destinations: &'a mut BTreeMap<DestinationId, DestinationRuntime>,
    batches: &'a mut BTreeMap<DestinationId, PduBatch>,
    /// [`Inner::unencodable`].
    unencodable: &'a AtomicU64,
}

impl Outbox<'_> {
    /// Encodes one record of task `xid` once for each of `dids` that takes `plane`, with
    /// that destination's next sequence number, into its pending batch. Returns how many
    /// PDUs were encoded; one that fails (`what` names the record in the log) leaves its
    /// batch as it was and counts as unencodable (its sequence number stays taken, so the
    /// mediator sees the gap).
    fn send<E: std::fmt::Display>(
        &mut self,
        xid: Xid,
        dids: &[DestinationId],
        plane: Plane,
        what: &str,
        mut encode: impl FnMut(&mut Vec<u8>, u32) -> Result<(), E>,
    ) -> u64 {
        let mut sent = 0;
        for did in dids {
            let Some(dest) = self
                .destinations
                .get_mut(did)
                .filter(|d| d.wants(plane == Plane::X3))
            else {
                continue;
            };
            let sequence = dest.take_sequence();
            let batch = self.batches.entry(*did).or_insert_with(new_batch);
            match batch.push_with(|out| encode(out, sequence)) {
                Ok(()) => sent += 1,
                Err(error) => {
                    debug!(%xid, %error, "{what} record not encodable as {plane:?}");
                    self.unencodable.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        sent
    }
}

/// The X2/X3 totals now ([`Probe::delivery`]).
fn delivery(state: &State) -> DeliveryReport {
    let mut report = totals(state);
    report.pending = state
        .destinations
        .values()
        .map(|d| d.sender.queue_len() as u64)
        .sum();
    report.complete = report.pending == 0 && report.sent == report.queued;
    report
}

/// Waits until `sender`'s queue is written out: empty, and every PDU queued taken and
/// written (`sent == queued`); `false` if its link ended first (the queue will never be
/// written out).
async fn written_out(sender: &X2X3Sender) -> bool {
    loop {
        // The queue's depth counts a write out when it ends, `sent` when it starts: both.
        if !sender.wait_for_room(sender.capacity()).await {
            return false;
        }
        sender.stats().wait_for(|s| s.sent == s.queued).await;
        let s = sender.stats().snapshot();
        if s.sent == s.queued && sender.queue_len() == 0 {
            return true;
        }
    }
}

/// The sender totals of the live destinations and of those removed.
fn totals(state: &State) -> DeliveryReport {
    let mut report = DeliveryReport {
        queued: state.retired.queued,
        sent: state.retired.sent,
        dropped: state.retired.dropped,
        ..DeliveryReport::default()
    };
    for d in state.destinations.values() {
        let s = d.sender.stats().snapshot();
        report.queued += s.queued;
        report.sent += s.sent;
        report.dropped += s.dropped;
    }
    report
}

/// Ends a link whose senders are all dropped: lets it deliver its queue until `deadline`
/// (written, then confirmed by a keepalive acknowledgement), else stops it (what is still
/// queued is discarded). Returns its counters and whether it ended by itself.
async fn finish_link(
    handle: SenderHandle,
    deadline: tokio::time::Instant,
) -> (SenderStatsSnapshot, bool) {
    // Every PDU taken from the queue (no sender is left to queue more), or the deadline.
    let _ =
        tokio::time::timeout_at(deadline, handle.stats().wait_for(|s| s.sent >= s.queued)).await;
    let stats = handle.stats().snapshot();
    // On timeout the join future is dropped with the link's stop channel: the link stops.
    let ended = tokio::time::timeout_at(deadline, handle.join())
        .await
        .is_ok();
    (stats, ended && stats.sent >= stats.queued)
}

/// The wall clock, read where the probe's drivers need it; the decisions take it as an
/// argument.
fn wall_clock() -> Timestamp {
    Timestamp::from_system_time(std::time::SystemTime::now())
}

/// A random start for the CINs of a run, from the standard library's hash keys and the time
/// (not cryptographic: it only keeps runs apart).
fn random_first_cin() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(wall_clock().unix_micros());
    h.write_u32(std::process::id());
    let [a, b, c, d, ..] = h.finish().to_be_bytes();
    u32::from_be_bytes([a, b, c, d]).max(1)
}

#[cfg(test)]
mod tests;
