//! The mediation function (MDF): X2/X3 from probes in, HI2/HI3 PS-PDUs to every agency out.
//!
//! A [`Mediator`] holds the tasks (XID → LIID, scope, validity window, destinations) and the
//! destinations (one per agency interface: a DID, an address, HI2 or HI3) that the
//! administration function provisions over X1, one durable [`NumberedSpool`] and one
//! delivery link ([`li_handover::hi::run_link`]) per destination.
//!
//! It enforces the warrant a second time, whatever the probe sent: an X2/X3 PDU whose XID is
//! not an active task, whose timestamp is outside the task's validity window, or that
//! carries content (X3) for an IRI-only task never leaves the mediator — it is counted
//! under its reason and dropped. Each destination gets its own copy of a record with the
//! task's LIID and its own sequence numbers per (LIID, CIN).

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use li_asn1::{
    CcEncoder, HeaderSettings, IriPayload, Payload, PayloadDirection as EtsiDirection, PsPdu,
};
use li_core::{
    Cin, DestinationId, InterceptScope, Liid, NetworkElementId, OperatorId, Timestamp,
    ValidityWindow, Xid,
};
use li_handover::hi::{
    AlarmObserver, DeliveryQueue, LinkConfig, LinkStats, LinkStatsSnapshot, SpoolAlarm,
    keepalive_builder, run_link,
};
use li_handover::lemf::Interface;
use li_handover::numbering::NumberedSpool;
use li_handover::spool::{SpoolConfig, SpoolError};
use li_handover::x2x3::transport::Forwarded;
use li_handover::x2x3::{PayloadDirection, PayloadFormat, Pdu, PduType};
use rustls_pki_types::ServerName;
use serde_json::json;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tracing::{debug, info, warn};

use li_handover::audit::{AuditKind, AuditLog};

mod app;
#[cfg(test)]
pub(crate) mod tests;
mod x1;

pub use app::{MediatorConfig, RunningMediator, parse_fsync, start};
#[cfg(test)]
pub(crate) use x1::hi_destination;
pub use x1::{CancelSafe, MediatorX1};

/// A task as the mediator knows it (from X1 `ActivateTask` with mediation details).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediationTask {
    /// The task identifier the probes put in every X2/X3 PDU.
    pub xid: Xid,
    /// The LIID the agencies know the warrant by.
    pub liid: Liid,
    /// IRI only, or IRI and CC.
    pub scope: InterceptScope,
    /// When the warrant is in force (record timestamps outside it are refused).
    pub window: ValidityWindow,
    /// Where the task's records go (each an HI2 or HI3 destination).
    pub destinations: Vec<DestinationId>,
}

/// One agency interface (from X1 `CreateDestination`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HiDestination {
    /// The destination identifier (DID).
    pub id: DestinationId,
    /// A name for logs and metrics, e.g. `"LEA-1 HI2"`.
    pub name: String,
    /// HI2 (IRI) or HI3 (CC).
    pub interface: Interface,
    /// The agency's address, `host:port`.
    pub addr: String,
    /// TLS or plain TCP towards it.
    pub transport: HiTransport,
}

pub use li_handover::x1::HiTransport;

/// TLS towards the agencies: the connector (our certificate, the CA we trust) and the name
/// the agencies' certificates must carry.
#[derive(Clone)]
pub struct HiTls {
    /// The connector.
    pub connector: TlsConnector,
    /// The server name checked in the agency's certificate.
    pub server_name: ServerName<'static>,
}

impl std::fmt::Debug for HiTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HiTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// How the mediator delivers.
#[derive(Clone, Debug)]
pub struct MediatorSettings {
    /// `operatorIdentifier` in every PSHeader.
    pub operator_id: OperatorId,
    /// `networkElementIdentifier` in every PSHeader.
    pub network_element_id: Option<NetworkElementId>,
    /// A directory per destination is made here for its spool.
    pub spool_dir: PathBuf,
    /// Spool settings (its `dir` is replaced per destination).
    pub spool: SpoolConfig,
    /// TLS towards the agencies; `None` for plain TCP.
    pub tls: Option<HiTls>,
    /// Keep-alive interval of the links.
    pub keepalive_interval: Duration,
    /// Keep-alive response timeout.
    pub keepalive_timeout: Duration,
    /// Reconnection backoff, first and largest delay.
    pub backoff: (Duration, Duration),
    /// The LIID put in keep-alive PDUs (a link carries many LIIDs).
    pub keepalive_liid: Liid,
}

/// Why the mediator refused an X2/X3 PDU. Every refusal is counted under its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Refusal {
    /// No active task has the PDU's XID.
    UnknownXid,
    /// The record's time is outside the task's validity window.
    OutsideWindow,
    /// Content (X3) for an IRI-only task.
    ContentForIriOnly,
    /// The PDU cannot be mediated (payload format, payload, correlation).
    Malformed,
    /// A destination's spool refused the record (disk bound): the spool alarm is raised.
    SpoolFull,
    /// The record is larger than a spool segment can hold.
    TooLarge,
}

impl Refusal {
    /// The label used in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownXid => "unknown_xid",
            Self::OutsideWindow => "outside_window",
            Self::ContentForIriOnly => "content_for_iri_only",
            Self::Malformed => "malformed",
            Self::SpoolFull => "spool_full",
            Self::TooLarge => "too_large",
        }
    }
}

/// Errors of provisioning calls.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediatorError {
    /// No such destination.
    #[error("destination {0} does not exist")]
    NoSuchDestination(DestinationId),
    /// The destination exists already.
    #[error("destination {0} exists already")]
    DestinationExists(DestinationId),
    /// A task still delivers to the destination.
    #[error("destination {did} is in use by task {xid}")]
    DestinationInUse {
        /// The destination.
        did: DestinationId,
        /// A task using it.
        xid: Xid,
    },
    /// The destination still holds undelivered records.
    #[error(
        "destination {did} still holds {pending} undelivered record(s); it is removed once the agency has them"
    )]
    NotDrained {
        /// The destination.
        did: DestinationId,
        /// Records not yet acknowledged by the agency.
        pending: u64,
    },
    /// An internal task failed.
    #[error("internal error: {0}")]
    Internal(String),
    /// No such task.
    #[error("task {0} does not exist")]
    NoSuchTask(Xid),
    /// The task exists already.
    #[error("task {0} exists already")]
    TaskExists(Xid),
    /// The task names no destination, or an HI3 destination for an IRI-only task.
    #[error("task {xid}: {reason}")]
    BadTask {
        /// The task.
        xid: Xid,
        /// What is wrong.
        reason: String,
    },
    /// The destination asks for TLS and the mediator has no TLS identity for the agencies.
    #[error(
        "destination {0} asks for TLS (tls://), but this mediator has no hi_tls configured: \
         configure hi_tls, or set the agency's tls = false in the ADMF"
    )]
    TlsUnavailable(DestinationId),
    /// A spool could not be opened.
    #[error("spool of destination {did}: {source}")]
    Spool {
        /// The destination.
        did: DestinationId,
        /// The error.
        #[source]
        source: SpoolError,
    },
}

/// A destination's interface, name and queue, for the X2/X3 path.
type QueueEntry = (Interface, String, DeliveryQueue<NumberedSpool>);

struct DestinationRuntime {
    dest: HiDestination,
    queue: DeliveryQueue<NumberedSpool>,
    stats: Arc<LinkStats>,
    stop: watch::Sender<bool>,
    link: JoinHandle<()>,
}

/// Counters of the mediator.
#[derive(Debug, Default)]
pub struct MediatorStats {
    /// X2 PDUs received.
    pub x2_received: AtomicU64,
    /// X3 PDUs received.
    pub x3_received: AtomicU64,
    refused: Mutex<BTreeMap<Refusal, u64>>,
    /// Records spooled, per (LIID, destination name).
    delivered: Mutex<BTreeMap<(String, String), u64>>,
}

impl MediatorStats {
    /// Refusals so far, per reason.
    pub fn refused(&self) -> BTreeMap<Refusal, u64> {
        lock(&self.refused).clone()
    }

    /// Records accepted into a destination's spool so far, per (LIID, destination name).
    pub fn delivered(&self) -> BTreeMap<(String, String), u64> {
        lock(&self.delivered).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The mediation function. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Mediator {
    inner: Arc<Inner>,
}

struct Inner {
    settings: MediatorSettings,
    /// Held for reading by every mediation from lookup to spooling, so that a task change
    /// acknowledged over X1 applies to every record after it and to none before.
    tasks: tokio::sync::RwLock<HashMap<Xid, MediationTask>>,
    destinations: tokio::sync::Mutex<HashMap<DestinationId, DestinationRuntime>>,
    /// Queues by destination for the X2/X3 path (no await while reading).
    queues: RwLock<HashMap<DestinationId, QueueEntry>>,
    stats: MediatorStats,
    audit: Option<Arc<AuditLog>>,
    /// Locked once per batch by the mediation pipeline.
    encoders: Mutex<EncoderCache>,
}

impl std::fmt::Debug for Mediator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mediator").finish_non_exhaustive()
    }
}

/// What became of one X2/X3 PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Spooled for this many destinations.
    Delivered(usize),
    /// Refused (nothing left the mediator).
    Refused(Refusal),
    /// A keep-alive or another PDU type that carries no record.
    Ignored,
}

impl Mediator {
    /// A mediator without tasks or destinations. Audit entries (task and destination
    /// changes, link up/down, spool alarms) go to `audit` when given.
    pub fn new(settings: MediatorSettings, audit: Option<Arc<AuditLog>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                tasks: tokio::sync::RwLock::new(HashMap::new()),
                destinations: tokio::sync::Mutex::new(HashMap::new()),
                queues: RwLock::new(HashMap::new()),
                stats: MediatorStats::default(),
                audit,
                encoders: Mutex::new(EncoderCache::default()),
            }),
        }
    }

    /// The counters.
    pub fn stats(&self) -> &MediatorStats {
        &self.inner.stats
    }

    fn audit(&self, kind: AuditKind, detail: serde_json::Value) {
        if let Some(log) = &self.inner.audit
            && let Err(error) = log.append("mediator", kind, detail)
        {
            tracing::error!(%error, "audit log append failed");
        }
    }

    /// Creates a destination: opens (or recovers) its spool and starts its link.
    pub async fn create_destination(&self, dest: HiDestination) -> Result<(), MediatorError> {
        let mut destinations = self.inner.destinations.lock().await;
        if destinations.contains_key(&dest.id) {
            return Err(MediatorError::DestinationExists(dest.id));
        }
        let runtime = self.start_destination(dest.clone())?;
        destinations.insert(dest.id, runtime);
        drop(destinations);
        self.audit(
            AuditKind::DestinationCreated,
            json!({"did": dest.id.to_string(), "name": dest.name, "interface": dest.interface.as_str(), "address": dest.addr}),
        );
        Ok(())
    }

    /// Changes a destination's name or address: its link restarts; its spool (and what is
    /// pending in it) is kept. Runs to completion even if the caller goes away; if the new
    /// link cannot be started, the old one is started again and the error returned.
    pub async fn modify_destination(&self, dest: HiDestination) -> Result<(), MediatorError> {
        let this = self.clone();
        let done = tokio::spawn(async move {
            // No mediation in flight may still hold the old queue while the spool is
            // reopened: they hold the tasks for reading until their record is spooled.
            let _quiesced = this.inner.tasks.write().await;
            let mut destinations = this.inner.destinations.lock().await;
            let Some(old) = destinations.remove(&dest.id) else {
                return Err(MediatorError::NoSuchDestination(dest.id));
            };
            let previous = old.dest.clone();
            stop_link(old).await;
            match this.start_destination(dest.clone()) {
                Ok(runtime) => {
                    destinations.insert(dest.id, runtime);
                }
                Err(e) => {
                    tracing::error!(destination = %previous.name, error = %e,
                        "modified destination cannot start; keeping the previous one");
                    let runtime = this.start_destination(previous)?;
                    destinations.insert(dest.id, runtime);
                    return Err(e);
                }
            }
            drop(destinations);
            this.audit(
                AuditKind::Other("destination.modified".into()),
                json!({"did": dest.id.to_string(), "name": dest.name, "address": dest.addr}),
            );
            Ok(())
        });
        done.await
            .map_err(|e| MediatorError::Internal(e.to_string()))?
    }

    /// Removes a destination no task uses and whose spool is empty: its link stops. A
    /// destination still holding undelivered records is not removed
    /// ([`MediatorError::NotDrained`]; ask again once the agency has taken them), so that
    /// nothing accepted is stranded on disk without a link.
    pub async fn remove_destination(&self, did: DestinationId) -> Result<(), MediatorError> {
        if let Some(task) = self
            .inner
            .tasks
            .read()
            .await
            .values()
            .find(|t| t.destinations.contains(&did))
        {
            return Err(MediatorError::DestinationInUse { did, xid: task.xid });
        }
        let this = self.clone();
        // Spawned: completes even if the caller (an X1 request) goes away meanwhile.
        let done = tokio::spawn(async move {
            let mut destinations = this.inner.destinations.lock().await;
            let Some(runtime) = destinations.get(&did) else {
                return Err(MediatorError::NoSuchDestination(did));
            };
            let (pending, _) = runtime.queue.depth().await;
            if pending > 0 {
                return Err(MediatorError::NotDrained { did, pending });
            }
            let Some(runtime) = destinations.remove(&did) else {
                return Err(MediatorError::NoSuchDestination(did));
            };
            this.inner
                .queues
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&did);
            stop_link(runtime).await;
            drop(destinations);
            this.audit(
                AuditKind::DestinationRemoved,
                json!({"did": did.to_string()}),
            );
            Ok(())
        });
        done.await
            .map_err(|e| MediatorError::Internal(e.to_string()))?
    }

    fn start_destination(&self, dest: HiDestination) -> Result<DestinationRuntime, MediatorError> {
        let s = &self.inner.settings;
        let tls = match dest.transport {
            HiTransport::Configured => s.tls.as_ref(),
            HiTransport::PlainTcp => None,
            HiTransport::Tls => Some(
                s.tls
                    .as_ref()
                    .ok_or(MediatorError::TlsUnavailable(dest.id))?,
            ),
        };
        let mut spool_cfg = s.spool.clone();
        spool_cfg.dir = s.spool_dir.join(dest.id.to_string());
        let (spool, recovery) =
            NumberedSpool::open(spool_cfg, dest.id).map_err(|source| MediatorError::Spool {
                did: dest.id,
                source,
            })?;
        if recovery.pending > 0 || !recovery.corrupt_segments.is_empty() {
            info!(destination = %dest.name, pending = recovery.pending,
                truncated = recovery.truncated_bytes, corrupt = recovery.corrupt_segments.len(),
                "spool recovered");
        }
        let audit = self.inner.audit.clone();
        let observer: AlarmObserver = Arc::new(move |name: &str, alarm: &SpoolAlarm| {
            if let Some(log) = &audit {
                let detail = json!({"destination": name, "alarm": format!("{alarm:?}")});
                if let Err(error) = log.append("mediator", AuditKind::SpoolAlarm, detail) {
                    tracing::error!(%error, "audit log append failed");
                }
            }
        });
        let queue = DeliveryQueue::with_alarm(
            Arc::new(tokio::sync::Mutex::new(spool)),
            Arc::new(Notify::new()),
            dest.name.clone(),
            Some(observer),
        );
        let mut keepalive = HeaderSettings::new(s.keepalive_liid, s.operator_id);
        keepalive.network_element_identifier = s.network_element_id;
        let mut cfg = LinkConfig::new(
            dest.name.clone(),
            dest.addr.clone(),
            keepalive_builder(keepalive),
        );
        cfg.tls = tls.map(|t| (t.connector.clone(), t.server_name.clone()));
        cfg.keepalive_interval = s.keepalive_interval;
        cfg.keepalive_timeout = s.keepalive_timeout;
        cfg.backoff_min = s.backoff.0;
        cfg.backoff_max = s.backoff.1;
        let stats = Arc::new(LinkStats::new());
        let (stop, shutdown) = watch::channel(false);
        let link = tokio::spawn(run_link(
            cfg,
            Arc::clone(queue.spool()),
            Arc::clone(queue.wake()),
            shutdown,
            Arc::clone(&stats),
        ));
        self.inner
            .queues
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(dest.id, (dest.interface, dest.name.clone(), queue.clone()));
        Ok(DestinationRuntime {
            dest,
            queue,
            stats,
            stop,
            link,
        })
    }

    fn check_task(&self, task: &MediationTask) -> Result<(), MediatorError> {
        let bad = |reason: String| MediatorError::BadTask {
            xid: task.xid,
            reason,
        };
        if task.destinations.is_empty() {
            return Err(bad("no destination".into()));
        }
        if let Some(did) = crate::first_repeated(&task.destinations) {
            return Err(bad(format!("destination {did} named twice")));
        }
        let queues = self
            .inner
            .queues
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        for did in &task.destinations {
            match queues.get(did) {
                None => return Err(MediatorError::NoSuchDestination(*did)),
                Some((Interface::Hi3, name, _)) if task.scope == InterceptScope::IriOnly => {
                    return Err(bad(format!(
                        "IRI-only task with an HI3 destination ({name})"
                    )));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Activates a task. Its destinations must exist; an IRI-only task may not name an HI3
    /// destination.
    pub async fn activate_task(&self, task: MediationTask) -> Result<(), MediatorError> {
        self.check_task(&task)?;
        let mut tasks = self.inner.tasks.write().await;
        if tasks.contains_key(&task.xid) {
            return Err(MediatorError::TaskExists(task.xid));
        }
        tasks.insert(task.xid, task.clone());
        drop(tasks);
        info!(xid = %task.xid, liid = %task.liid, scope = ?task.scope, "task activated");
        self.audit(AuditKind::TaskActivated, task_detail(&task));
        Ok(())
    }

    /// Replaces an active task's details. When this returns, every record mediated after
    /// it follows the new details, and none still being mediated follows the old ones.
    pub async fn modify_task(&self, task: MediationTask) -> Result<(), MediatorError> {
        self.check_task(&task)?;
        let mut tasks = self.inner.tasks.write().await;
        let Some(slot) = tasks.get_mut(&task.xid) else {
            return Err(MediatorError::NoSuchTask(task.xid));
        };
        *slot = task.clone();
        drop(tasks);
        self.audit(AuditKind::TaskModified, task_detail(&task));
        Ok(())
    }

    /// Deactivates a task: when this returns, nothing more is accepted for it (records
    /// already spooled are still delivered).
    pub async fn deactivate_task(&self, xid: Xid) -> Result<MediationTask, MediatorError> {
        let task = self
            .inner
            .tasks
            .write()
            .await
            .remove(&xid)
            .ok_or(MediatorError::NoSuchTask(xid))?;
        info!(%xid, liid = %task.liid, "task deactivated");
        self.audit(AuditKind::TaskDeactivated, task_detail(&task));
        Ok(task)
    }

    /// The active tasks.
    pub async fn tasks(&self) -> Vec<MediationTask> {
        let mut tasks: Vec<_> = self.inner.tasks.read().await.values().cloned().collect();
        tasks.sort_by_key(|t| t.xid.to_string());
        tasks
    }

    /// One active task.
    pub async fn task(&self, xid: Xid) -> Option<MediationTask> {
        self.inner.tasks.read().await.get(&xid).cloned()
    }

    /// The destinations with their link state and spool depth (records, bytes).
    pub async fn destinations(&self) -> Vec<(HiDestination, LinkStatsSnapshot, (u64, u64))> {
        let destinations = self.inner.destinations.lock().await;
        let mut out = Vec::new();
        for rt in destinations.values() {
            out.push((rt.dest.clone(), rt.stats.snapshot(), rt.queue.depth().await));
        }
        out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        out
    }

    /// Mediates one X2/X3 PDU from a probe. See the [module documentation](self) and
    /// [`Mediator::mediate_batch`], which this calls with a batch of one on a blocking
    /// thread.
    pub async fn on_pdu(&self, pdu: &Pdu) -> Outcome {
        let this = self.clone();
        let pdu = pdu.clone();
        tokio::task::spawn_blocking(move || this.mediate_batch(std::slice::from_ref(&pdu)))
            .await
            .ok()
            .and_then(|outcomes| outcomes.into_iter().next())
            .unwrap_or(Outcome::Refused(Refusal::Malformed))
    }

    /// Mediates a batch of X2/X3 PDUs, in order, and returns what became of each. Blocking:
    /// call it from a thread that may wait for the disk, not from an async task.
    ///
    /// The whole batch is admitted under one read of the task table (so a task change
    /// acknowledged over X1 applies to all of it or none of it), each admitted record is
    /// encoded with the header pre-encoded for its (LIID, CIN, destination), and each
    /// destination gets the batch's records with one spool append (one write, at most one
    /// fsync: group commit) and one wake-up of its link.
    pub fn mediate_batch(&self, pdus: &[Pdu]) -> Vec<Outcome> {
        let inner = &*self.inner;
        let tasks = inner.tasks.blocking_read();
        let mut outcomes = Vec::with_capacity(pdus.len());
        let mut admitted: Vec<(usize, Admitted<'_, '_>)> = Vec::with_capacity(pdus.len());
        let (mut x2, mut x3) = (0u64, 0u64);
        for (i, pdu) in pdus.iter().enumerate() {
            match pdu.pdu_type {
                PduType::X2 => x2 += 1,
                PduType::X3 => x3 += 1,
                _ => {
                    outcomes.push(Outcome::Ignored);
                    continue;
                }
            }
            match admit(&tasks, pdu) {
                Ok(a) => {
                    outcomes.push(Outcome::Delivered(0));
                    admitted.push((i, a));
                }
                Err(why) => {
                    debug!(xid = %pdu.xid, reason = why.as_str(), "X2/X3 PDU refused");
                    outcomes.push(Outcome::Refused(why));
                }
            }
        }
        inner.stats.x2_received.fetch_add(x2, Ordering::Relaxed);
        inner.stats.x3_received.fetch_add(x3, Ordering::Relaxed);

        // Per destination, the admitted records it gets, in batch order.
        let mut per_destination: HashMap<DestinationId, Vec<usize>> = HashMap::new();
        for (k, (_, a)) in admitted.iter().enumerate() {
            for did in &a.task.destinations {
                per_destination.entry(*did).or_default().push(k);
            }
        }
        // The queues are taken out of the table first: no lock on it is held while a spool
        // is appended to (X1 may be changing destinations meanwhile).
        let targets: Vec<(DestinationId, Vec<usize>, QueueEntry)> = {
            let queues = inner.queues.read().unwrap_or_else(PoisonError::into_inner);
            per_destination
                .into_iter()
                .filter_map(|(did, records)| {
                    queues.get(&did).map(|entry| (did, records, entry.clone()))
                })
                .collect()
        };
        let mut refusals: Vec<Option<Refusal>> = vec![None; admitted.len()];
        let mut delivered: BTreeMap<(String, String), u64> = BTreeMap::new();
        {
            let mut encoders = lock(&inner.encoders);
            let mut buf = std::mem::take(&mut encoders.buf);
            for (did, mut records, (iface, name, queue)) in targets {
                // CC goes to HI3 destinations only, IRI to HI2 ones.
                records.retain(|&k| admitted.get(k).is_some_and(|(_, a)| a.interface() == iface));
                let keys: Vec<(Liid, Cin)> = records
                    .iter()
                    .filter_map(|&k| admitted.get(k).map(|(_, a)| (a.task.liid, a.cin)))
                    .collect();
                let refused =
                    queue.enqueue_numbered_batch_blocking(&keys, &mut buf, |j, seq, out| {
                        if let Some((_, a)) = records.get(j).and_then(|&k| admitted.get(k)) {
                            encoders.encode(&inner.settings, did, a, seq, out);
                        }
                    });
                let mut accepted = vec![true; records.len()];
                for (j, error) in &refused {
                    if let Some(slot) = accepted.get_mut(*j) {
                        *slot = false;
                    }
                    let why = match error {
                        SpoolError::TooLarge { .. } => Refusal::TooLarge,
                        SpoolError::Full { .. } => Refusal::SpoolFull,
                        error => {
                            tracing::error!(destination = %name, %error, "spool append failed");
                            Refusal::SpoolFull
                        }
                    };
                    if let Some(slot) = records.get(*j).and_then(|&k| refusals.get_mut(k)) {
                        *slot = Some(why);
                    }
                }
                let mut counted: HashMap<Liid, u64> = HashMap::new();
                for (&k, _) in records.iter().zip(&accepted).filter(|(_, ok)| **ok) {
                    let Some((i, a)) = admitted.get(k) else {
                        continue;
                    };
                    if let Some(Outcome::Delivered(n)) = outcomes.get_mut(*i) {
                        *n += 1;
                    }
                    *counted.entry(a.task.liid).or_default() += 1;
                }
                for (liid, n) in counted {
                    *delivered
                        .entry((liid.to_string(), name.clone()))
                        .or_default() += n;
                }
            }
            encoders.buf = buf;
        }
        let mut refused: BTreeMap<Refusal, u64> = BTreeMap::new();
        for (k, (i, _)) in admitted.iter().enumerate() {
            if let Some(Some(why)) = refusals.get(k)
                && let Some(outcome) = outcomes.get_mut(*i)
            {
                if *outcome == Outcome::Delivered(0) {
                    *outcome = Outcome::Refused(*why);
                } else {
                    // Some destinations have it, not all: counted, not refused.
                    *refused.entry(*why).or_default() += 1;
                }
            }
        }
        for outcome in &outcomes {
            if let Outcome::Refused(why) = outcome {
                *refused.entry(*why).or_default() += 1;
            }
        }
        if !refused.is_empty() {
            let mut total = lock(&inner.stats.refused);
            for (why, n) in refused {
                *total.entry(why).or_default() += n;
            }
        }
        if !delivered.is_empty() {
            let mut total = lock(&inner.stats.delivered);
            for (key, n) in delivered {
                *total.entry(key).or_default() += n;
            }
        }
        outcomes
    }

    /// Takes PDUs from an X2/X3 listener serving with confirmation
    /// ([`li_handover::x2x3::transport::X2X3Listener::serve_confirmed`]) until the channel
    /// closes, on a thread of its own (it waits for the disk). What arrived together is
    /// mediated as one batch ([`Mediator::mediate_batch`]); a barrier is confirmed once every
    /// PDU before it is spooled (or refused), so a probe's keepalive is acknowledged only
    /// once everything it sent before is in the spools.
    pub async fn consume(&self, rx: mpsc::Receiver<Forwarded>) {
        let this = self.clone();
        let _ = tokio::task::spawn_blocking(move || this.consume_blocking(rx)).await;
    }

    fn consume_blocking(&self, mut rx: mpsc::Receiver<Forwarded>) {
        let mut items = Vec::with_capacity(CONSUME_BATCH);
        let mut pdus: Vec<Pdu> = Vec::new();
        let mut barriers = Vec::new();
        while let Some(first) = rx.blocking_recv() {
            items.push(first);
            while items.len() < CONSUME_BATCH {
                match rx.try_recv() {
                    Ok(item) => items.push(item),
                    Err(_) => break,
                }
            }
            for item in items.drain(..) {
                match item {
                    Forwarded::Pdus(_, batch) => pdus.extend(batch),
                    Forwarded::Barrier(done) => barriers.push(done),
                    _ => {}
                }
            }
            if !pdus.is_empty() {
                self.mediate_batch(&pdus);
                pdus.clear();
            }
            for done in barriers.drain(..) {
                let _ = done.send(());
            }
        }
    }

    /// Watches the links and writes `link.up` / `link.down` audit entries and log lines on
    /// every change, every `every`, until `shutdown`.
    pub async fn watch_links(&self, every: Duration, mut shutdown: watch::Receiver<bool>) {
        let mut up: HashMap<DestinationId, bool> = HashMap::new();
        loop {
            for (dest, stats, _) in self.destinations().await {
                let was = up.insert(dest.id, stats.connected).unwrap_or(false);
                if was != stats.connected {
                    let kind = if stats.connected {
                        info!(destination = %dest.name, addr = %dest.addr, "agency link up");
                        AuditKind::LinkUp
                    } else {
                        warn!(destination = %dest.name, addr = %dest.addr, "agency link down");
                        AuditKind::LinkDown
                    };
                    self.audit(
                        kind,
                        json!({"did": dest.id.to_string(), "name": dest.name, "address": dest.addr}),
                    );
                }
            }
            tokio::select! {
                _ = shutdown.changed() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Registers the mediator's metrics.
    pub fn register_metrics(
        &self,
        registry: &crate::metrics::Registry,
    ) -> Result<(), crate::metrics::MetricsError> {
        use crate::metrics::MetricKind;
        let m = self.clone();
        registry.collector(
            "li_mediator_x2x3_pdus_total",
            "X2/X3 PDUs received from probes, by PDU type.",
            MetricKind::Counter,
            &["type"],
            move || {
                let s = &m.inner.stats;
                vec![
                    sample(&["x2"], s.x2_received.load(Ordering::Relaxed) as f64),
                    sample(&["x3"], s.x3_received.load(Ordering::Relaxed) as f64),
                ]
            },
        )?;
        let m = self.clone();
        registry.collector(
            "li_mediator_refused_total",
            "X2/X3 PDUs refused by the mediator (nothing delivered), by reason.",
            MetricKind::Counter,
            &["reason"],
            move || {
                m.stats()
                    .refused()
                    .into_iter()
                    .map(|(why, n)| sample(&[why.as_str()], n as f64))
                    .collect()
            },
        )?;
        let m = self.clone();
        registry.collector(
            "li_mediator_records_total",
            "Records accepted for delivery, by LIID and destination.",
            MetricKind::Counter,
            &["liid", "destination"],
            move || {
                m.stats()
                    .delivered()
                    .into_iter()
                    .map(|((liid, dest), n)| sample(&[&liid, &dest], n as f64))
                    .collect()
            },
        )?;
        let m = self.clone();
        registry.collector(
            "li_mediator_link_up",
            "1 when the link to the agency interface is connected.",
            MetricKind::Gauge,
            &["destination"],
            move || m.link_samples(|s, _| f64::from(u8::from(s.connected))),
        )?;
        let m = self.clone();
        registry.collector(
            "li_mediator_spool_records",
            "Records spooled and not yet acknowledged by the agency.",
            MetricKind::Gauge,
            &["destination"],
            move || m.link_samples(|_, depth| depth.0 as f64),
        )?;
        let m = self.clone();
        registry.collector(
            "li_mediator_spool_bytes",
            "Bytes the destination's spool uses on disk.",
            MetricKind::Gauge,
            &["destination"],
            move || m.link_samples(|_, depth| depth.1 as f64),
        )?;
        Ok(())
    }

    fn link_samples(
        &self,
        f: impl Fn(&LinkStatsSnapshot, (u64, u64)) -> f64,
    ) -> Vec<crate::metrics::Sample> {
        let Ok(destinations) = self.inner.destinations.try_lock() else {
            return Vec::new();
        };
        destinations
            .values()
            .map(|rt| {
                let depth = rt
                    .queue
                    .spool()
                    .try_lock()
                    .map(|s| (s.spool().pending(), s.spool().bytes()))
                    .unwrap_or_default();
                sample(&[&rt.dest.name], f(&rt.stats.snapshot(), depth))
            })
            .collect()
    }

    /// Stops every link (the spools keep what was not delivered).
    pub async fn shutdown(&self) {
        let runtimes: Vec<_> = self
            .inner
            .destinations
            .lock()
            .await
            .drain()
            .map(|(_, r)| r)
            .collect();
        for rt in runtimes {
            stop_link(rt).await;
        }
    }
}

/// Messages from the X2/X3 listener taken per batch, at most.
const CONSUME_BATCH: usize = 64;

/// Pre-encoded headers kept at most; the cache starts afresh beyond (it then holds the
/// communications active since).
const MAX_CACHED_ENCODERS: usize = 65_536;

/// A record admitted for mediation: its task, time, CIN and content.
struct Admitted<'t, 'p> {
    task: &'t MediationTask,
    time: Timestamp,
    cin: Cin,
    content: Content<'p>,
}

enum Content<'a> {
    Cc {
        direction: EtsiDirection,
        packet: &'a [u8],
        /// The packet's original length when the capture cut it (the probe's "original
        /// length" attribute): delivered as `iPTruncatedPacket`.
        original_length: Option<u32>,
    },
    Iri(IriPayload),
}

impl Admitted<'_, '_> {
    /// The interface the record goes out on.
    fn interface(&self) -> Interface {
        match self.content {
            Content::Cc { .. } => Interface::Hi3,
            Content::Iri(_) => Interface::Hi2,
        }
    }
}

/// The mediator's second enforcement of the warrant, a pure decision: whether an X2/X3 PDU
/// may be mediated under the active tasks, and if so as what.
fn admit<'t, 'p>(
    tasks: &'t HashMap<Xid, MediationTask>,
    pdu: &'p Pdu,
) -> Result<Admitted<'t, 'p>, Refusal> {
    let cc = match pdu.pdu_type {
        PduType::X2 => false,
        PduType::X3 => true,
        _ => return Err(Refusal::Malformed),
    };
    let task = tasks.get(&pdu.xid).ok_or(Refusal::UnknownXid)?;
    if cc && task.scope == InterceptScope::IriOnly {
        return Err(Refusal::ContentForIriOnly);
    }
    // The record's own time decides the window; without a valid one it cannot be placed in
    // the warrant, and is refused (never stamped with our clock instead).
    let time = pdu
        .timestamp()
        .and_then(|t| t.to_core())
        .ok_or(Refusal::Malformed)?;
    // The window is [start, end). The IRI closing a session at the window's end (the probe's
    // end-of-interception record) is stamped with the end itself: accepted for IRI, never
    // for content.
    let closing_iri = !cc && task.window.end() == Some(time);
    if !task.window.contains(time) && !closing_iri {
        return Err(Refusal::OutsideWindow);
    }
    let cin = u32::try_from(u64::from_be_bytes(pdu.correlation_id))
        .map(Cin::new)
        .map_err(|_| Refusal::Malformed)?;
    let content = match (cc, pdu.payload_format) {
        (true, PayloadFormat::Ipv4Packet | PayloadFormat::Ipv6Packet) => Content::Cc {
            direction: etsi_direction(pdu.payload_direction),
            packet: &pdu.payload,
            original_length: pdu.original_length(),
        },
        (false, PayloadFormat::Etsi102232) => match IriPayload::from_ber(&pdu.payload) {
            Ok(iri) => Content::Iri(iri),
            Err(error) => {
                warn!(xid = %pdu.xid, %error, "X2 payload does not decode");
                return Err(Refusal::Malformed);
            }
        },
        _ => return Err(Refusal::Malformed),
    };
    Ok(Admitted {
        task,
        time,
        cin,
        content,
    })
}

/// Header settings per LIID and pre-encoded CC headers per (LIID, CIN, destination), and
/// the encoding buffer the spool appends reuse: nothing is built per record.
#[derive(Default)]
struct EncoderCache {
    settings: HashMap<Liid, HeaderSettings>,
    cc: HashMap<(Liid, Cin, DestinationId), CcEncoder>,
    buf: Vec<u8>,
}

impl EncoderCache {
    /// Appends the PS-PDU of `record` with sequence number `seq` for `did` to `out`.
    fn encode(
        &mut self,
        s: &MediatorSettings,
        did: DestinationId,
        record: &Admitted<'_, '_>,
        seq: u32,
        out: &mut Vec<u8>,
    ) {
        let liid = record.task.liid;
        match &record.content {
            Content::Cc {
                direction,
                packet,
                original_length,
            } => {
                if self.cc.len() >= MAX_CACHED_ENCODERS {
                    self.cc.clear();
                }
                let encoder = match self.cc.entry((liid, record.cin, did)) {
                    Entry::Occupied(cached) => cached.into_mut(),
                    Entry::Vacant(new) => {
                        let settings = header_settings(&mut self.settings, s, liid);
                        new.insert(CcEncoder::new(settings, record.cin))
                    }
                };
                match original_length {
                    None => encoder.encode(seq, record.time, *direction, packet, out),
                    Some(len) => {
                        encoder.encode_truncated(seq, record.time, *direction, packet, *len, out);
                    }
                }
            }
            Content::Iri(iri) => {
                let settings = header_settings(&mut self.settings, s, liid);
                PsPdu {
                    header: settings.header(Some(record.cin), seq, record.time),
                    payload: Payload::IriPayloadSequence(vec![iri.clone()]),
                }
                .encode_into(out);
            }
        }
    }
}

/// The header settings of `liid`, from `cache` (built and kept there if missing).
fn header_settings<'c>(
    cache: &'c mut HashMap<Liid, HeaderSettings>,
    s: &MediatorSettings,
    liid: Liid,
) -> &'c HeaderSettings {
    if cache.len() >= MAX_CACHED_ENCODERS {
        cache.clear();
    }
    cache.entry(liid).or_insert_with(|| {
        let mut settings = HeaderSettings::new(liid, s.operator_id);
        settings.network_element_identifier = s.network_element_id;
        settings
    })
}

async fn stop_link(rt: DestinationRuntime) {
    let _ = rt.stop.send(true);
    let mut link = rt.link;
    if tokio::time::timeout(Duration::from_secs(10), &mut link)
        .await
        .is_err()
    {
        // Never leave a link running on a spool about to be reopened elsewhere.
        warn!(destination = %rt.dest.name, "link did not stop within 10 s; aborted");
        link.abort();
        let _ = link.await;
    }
}

fn task_detail(task: &MediationTask) -> serde_json::Value {
    json!({
        "xid": task.xid.to_string(),
        "liid": task.liid.to_string(),
        "scope": format!("{:?}", task.scope),
        "destinations": task.destinations.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

/// X2/X3 direction (relative to the target) to the PS-PDU's.
fn etsi_direction(d: PayloadDirection) -> EtsiDirection {
    match d {
        PayloadDirection::FromTarget => EtsiDirection::FromTarget,
        PayloadDirection::ToTarget => EtsiDirection::ToTarget,
        PayloadDirection::MultipleDirections => EtsiDirection::Combined,
        _ => EtsiDirection::Indeterminate,
    }
}

fn sample(labels: &[&str], value: f64) -> crate::metrics::Sample {
    crate::metrics::Sample {
        labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        value,
    }
}
