//! The [`Mediator`]: the tokio driver around the admission decision — destinations with
//! their spools and links, tasks, and the batch pipeline from X2/X3 to the spools.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use std::time::SystemTime;

use crate::calea::SurveillanceStatusEventType;
use li_asn1::HeaderSettings;
use li_asn1::atis::access::{IasMapper, link_test_answer};
use li_core::{Cin, DestinationId, HandoverFormat, InterceptScope, Liid, Timestamp, Xid};
use serde_json::json;
use tokio::sync::{Notify, mpsc, watch};
use tracing::{debug, info, warn};

use super::admission::{self, Admitted};
use super::encode::{EncoderCache, carries, check_format, check_task_format, iap_system_id};
use super::{
    HiDestination, HiTransport, MediationTask, MediatorError, MediatorSettings, Outcome, Refusal,
};
use crate::audit::{AuditKind, AuditLog};
use crate::hi::{
    AlarmObserver, Carrier, DeliveryLink, DeliveryQueue, KeepAliveBuilder, LinkConfig, LinkStats,
    LinkStatsSnapshot, SpoolAlarm, keepalive_builder,
};
use crate::lemf::Interface;
use crate::numbering::NumberedSpool;
use crate::retry::Changes;
use crate::spool::SpoolError;
use crate::x2x3::transport::Forwarded;
use crate::x2x3::{Pdu, PduType};

/// A destination and its queue, for the X2/X3 path.
type QueueEntry = (Arc<HiDestination>, DeliveryQueue<NumberedSpool>);

struct DestinationRuntime {
    dest: HiDestination,
    link: DeliveryLink<NumberedSpool>,
}

/// Counters of the mediator.
#[derive(Debug, Default)]
pub struct MediatorStats {
    /// X2 PDUs received, counted once their batch is mediated (its records spooled or
    /// refused).
    pub x2_received: AtomicU64,
    /// X3 PDUs received, counted as [`MediatorStats::x2_received`].
    pub x3_received: AtomicU64,
    refused: Mutex<BTreeMap<Refusal, u64>>,
    /// Records spooled, per (LIID, destination name).
    delivered: Mutex<BTreeMap<(String, String), u64>>,
    /// Signalled after each mediated batch, for [`MediatorStats::wait_for_received`].
    changes: Changes,
}

impl MediatorStats {
    /// Waits until `cond` holds for the X2 and X3 PDUs received so far
    /// ([`MediatorStats::x2_received`], [`MediatorStats::x3_received`]) and returns them.
    /// Checked at once and again after every mediated batch, never polled: when it returns,
    /// the PDUs counted are spooled (or refused), e.g. every PDU a probe wrote. Bound the
    /// wait with a timeout when the condition may never hold.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use li_handover::mediator::MediatorStats;
    ///
    /// # async fn example(stats: &MediatorStats) {
    /// let written = 1_000; // X2/X3 PDUs the probes wrote
    /// let read = stats.wait_for_received(|x2, x3| x2 + x3 >= written);
    /// if tokio::time::timeout(Duration::from_secs(10), read).await.is_err() {
    ///     eprintln!("not every PDU the probes wrote reached the spools");
    /// }
    /// # }
    /// # let stats = MediatorStats::default();
    /// # let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    /// # runtime.block_on(stats.wait_for_received(|x2, x3| x2 + x3 == 0));
    /// ```
    pub async fn wait_for_received(&self, mut cond: impl FnMut(u64, u64) -> bool) -> (u64, u64) {
        self.changes
            .wait_for(|| {
                let x2 = self.x2_received.load(Ordering::Relaxed);
                let x3 = self.x3_received.load(Ordering::Relaxed);
                cond(x2, x3).then_some((x2, x3))
            })
            .await
    }

    /// Refusals so far, per reason.
    pub fn refused(&self) -> BTreeMap<Refusal, u64> {
        lock(&self.refused).clone()
    }

    /// Records accepted into a destination's spool so far, per (LIID, destination name).
    pub fn delivered(&self) -> BTreeMap<(String, String), u64> {
        lock(&self.delivered).clone()
    }
}

/// A destination's link and spool, as [`Mediator::link_snapshots`] sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkSnapshot {
    /// The destination's name.
    pub name: String,
    /// Its link's counters and state.
    pub link: LinkStatsSnapshot,
    /// Records spooled and not yet acknowledged by the agency.
    pub spool_records: u64,
    /// Bytes the spool uses on disk.
    pub spool_bytes: u64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The mediation function. Cheap to clone (shared state).
///
/// Provision it with [`Mediator::create_destination`] and [`Mediator::activate_task`]
/// (directly, or over X1 through [`MediatorX1`](super::MediatorX1)), feed it X2/X3 PDUs with
/// [`Mediator::consume`] (from an X2/X3 listener), [`Mediator::mediate_batch`] or
/// [`Mediator::on_pdu`], and stop it with [`Mediator::shutdown`]. See the
/// [module example](super#example).
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
                encoders: Mutex::new(EncoderCache::with_ccc_seed(random_ccc_seed())),
            }),
        }
    }

    /// The settings it was made with.
    pub fn settings(&self) -> &MediatorSettings {
        &self.inner.settings
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

    /// Checks what can be checked of a destination before anything is started for it: its
    /// format and its address.
    fn check_destination(&self, dest: &HiDestination) -> Result<(), MediatorError> {
        check_format(dest.id, dest.format)?;
        if let HandoverFormat::Atis1000013 { .. } | HandoverFormat::Atis1000678 { .. } = dest.format
        {
            // Its link tests carry the keep-alive LIID as caseId and the IAP system id.
            let s = &self.inner.settings;
            IasMapper::new(&s.keepalive_liid, &iap_system_id(s)).map_err(|e| {
                MediatorError::BadDestination {
                    did: dest.id,
                    reason: e.to_string(),
                }
            })?;
        }
        dest.check_address()
    }

    /// Creates a destination: opens (or recovers) its spool and starts its link.
    ///
    /// # Errors
    ///
    /// [`MediatorError::DestinationExists`]; [`MediatorError::UnsupportedFormat`] (naming
    /// the format) when the destination's handover format is not one the mediator produces;
    /// [`MediatorError::BadAddress`]; [`MediatorError::TlsUnavailable`] for a TLS
    /// destination without [`MediatorSettings::tls`]; [`MediatorError::Spool`].
    pub async fn create_destination(&self, dest: HiDestination) -> Result<(), MediatorError> {
        self.check_destination(&dest)?;
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

    /// Changes a destination's name, address or format: its link restarts; its spool (and
    /// what is pending in it) is kept. Runs to completion even if the caller goes away; if
    /// the new link cannot be started, the old one is started again and the error returned.
    pub async fn modify_destination(&self, dest: HiDestination) -> Result<(), MediatorError> {
        self.check_destination(&dest)?;
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
            // The same format: the calls' state carries on (a call released later still gets
            // its content closed); another format starts afresh.
            if previous.format == dest.format {
                lock(&this.inner.encoders).forget_destination_settings(dest.id);
            } else {
                lock(&this.inner.encoders).forget_destination(dest.id);
            }
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
            .find(|t| t.destinations().contains(&did))
        {
            return Err(MediatorError::DestinationInUse {
                did,
                xid: task.xid(),
            });
        }
        let this = self.clone();
        // Spawned: completes even if the caller (an X1 request) goes away meanwhile.
        let done = tokio::spawn(async move {
            let mut destinations = this.inner.destinations.lock().await;
            let Some(runtime) = destinations.get(&did) else {
                return Err(MediatorError::NoSuchDestination(did));
            };
            let (pending, _) = runtime.link.queue().depth().await;
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
            lock(&this.inner.encoders).forget_destination(did);
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
            HiTransport::PlainTcp | HiTransport::Udp => None,
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
        let mut cfg = match dest.format {
            HandoverFormat::Atis1000013 { .. } => {
                // Checked by check_destination: the keep-alive LIID is a valid caseId.
                let mapper = IasMapper::fitted(&s.keepalive_liid, &iap_system_id(s));
                let keepalive: KeepAliveBuilder = Arc::new(move |counter| {
                    let mut out = Vec::new();
                    mapper
                        .link_test(counter, Timestamp::from_system_time(SystemTime::now()))
                        .encode_into(&mut out);
                    out
                });
                let mut cfg = LinkConfig::new(dest.name.clone(), dest.addr.clone(), keepalive);
                cfg.answers = Arc::new(link_test_answer);
                cfg
            }
            HandoverFormat::Atis1000678 { .. } => {
                // Checked by check_destination: the keep-alive LIID is a valid caseId.
                let mapper = IasMapper::fitted(&s.keepalive_liid, &iap_system_id(s));
                let case = li_asn1::atis::CaseIdentity::new(mapper.case_id());
                let iap = mapper.iap_system_id().to_owned();
                let keepalive: KeepAliveBuilder = Arc::new(move |counter| match &case {
                    Ok(case) => crate::calea::link_test(
                        case,
                        Some(&iap),
                        counter,
                        Timestamp::from_system_time(SystemTime::now()),
                    )
                    .encode(),
                    Err(_) => Vec::new(),
                });
                let mut cfg = LinkConfig::new(dest.name.clone(), dest.addr.clone(), keepalive);
                cfg.answers = Arc::new(crate::calea::link_test_answer);
                cfg
            }
            HandoverFormat::PacketCable { .. } => {
                // PCESP has no link test: no keep-alive is written, none is answered.
                let mut cfg = LinkConfig::new(
                    dest.name.clone(),
                    dest.addr.clone(),
                    Arc::new(|_| Vec::new()),
                );
                cfg.answers = Arc::new(|_: &[u8]| {
                    Err("a PacketCable agency sends nothing on its call-data connection".into())
                });
                cfg.carrier = if dest.transport == HiTransport::Udp {
                    Carrier::Datagrams
                } else {
                    Carrier::SilentStream {
                        settle: PCESP_SETTLE,
                    }
                };
                cfg
            }
            _ => {
                let mut keepalive = HeaderSettings::new(s.keepalive_liid, s.operator_id);
                keepalive.network_element_identifier = s.network_element_id;
                LinkConfig::new(
                    dest.name.clone(),
                    dest.addr.clone(),
                    keepalive_builder(keepalive),
                )
            }
        };
        cfg.tls = tls.map(|t| (t.connector.clone(), t.server_name.clone()));
        cfg.keepalive_interval = s.keepalive_interval;
        cfg.keepalive_timeout = s.keepalive_timeout;
        cfg.backoff_min = s.backoff.0;
        cfg.backoff_max = s.backoff.1;
        let link = DeliveryLink::spawn(cfg, queue.clone());
        self.inner
            .queues
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(dest.id, (Arc::new(dest.clone()), queue));
        Ok(DestinationRuntime { dest, link })
    }

    fn check_task(&self, task: &MediationTask) -> Result<(), MediatorError> {
        let queues = self
            .inner
            .queues
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        for did in task.destinations() {
            match queues.get(did) {
                None => return Err(MediatorError::NoSuchDestination(*did)),
                Some((dest, _))
                    if dest.interface == Interface::Hi3
                        && task.scope() == InterceptScope::IriOnly =>
                {
                    return Err(MediatorError::BadTask {
                        xid: task.xid(),
                        reason: format!("IRI-only task with an HI3 destination ({})", dest.name),
                    });
                }
                // The task's records can be encoded towards it (PSHeaders, caseId).
                Some((dest, _)) => check_task_format(task, dest, &self.inner.settings)?,
            }
        }
        Ok(())
    }

    /// Activates a task. Its destinations must exist; an IRI-only task may not name an HI3
    /// destination; its records must be encodable towards each destination (PSHeaders,
    /// an ATIS caseId: [`check_task_format`]).
    pub async fn activate_task(&self, task: MediationTask) -> Result<(), MediatorError> {
        self.check_task(&task)?;
        let mut tasks = self.inner.tasks.write().await;
        if tasks.contains_key(&task.xid()) {
            return Err(MediatorError::TaskExists(task.xid()));
        }
        lock(&self.inner.encoders).forget_liid(task.liid());
        tasks.insert(task.xid(), task.clone());
        drop(tasks);
        info!(xid = %task.xid(), liid = %task.liid(), scope = ?task.scope(), "task activated");
        self.audit(AuditKind::TaskActivated, task_detail(&task));
        self.surveillance_status(&task, SurveillanceStatusEventType::Activation)
            .await;
        Ok(())
    }

    /// Replaces an active task's details. When this returns, every record mediated after
    /// it follows the new details, and none still being mediated follows the old ones.
    pub async fn modify_task(&self, task: MediationTask) -> Result<(), MediatorError> {
        self.check_task(&task)?;
        let mut tasks = self.inner.tasks.write().await;
        let Some(slot) = tasks.get_mut(&task.xid()) else {
            return Err(MediatorError::NoSuchTask(task.xid()));
        };
        let previous = slot.clone();
        let closing = {
            let mut encoders = lock(&self.inner.encoders);
            if slot.liid() == task.liid() {
                // The same case: its calls' state (answered, content open) carries on; only
                // what was built from the task's details goes.
                encoders.forget_liid_settings(task.liid());
                Vec::new()
            } else {
                // Another case: the old case's open calls are released and closed at the
                // agencies (they go on under the new one).
                let now = Timestamp::from_system_time(SystemTime::now());
                let closing = encoders.close_calls(slot.liid(), now);
                encoders.forget_liid(slot.liid());
                encoders.forget_liid(task.liid());
                closing
            }
        };
        *slot = task.clone();
        drop(tasks);
        self.audit(AuditKind::TaskModified, task_detail(&task));
        self.close_calls(&previous, closing).await;
        Ok(())
    }

    /// Deactivates a task: when this returns, nothing more is accepted for it (records
    /// already spooled are still delivered).
    pub async fn deactivate_task(&self, xid: Xid) -> Result<MediationTask, MediatorError> {
        let mut tasks = self.inner.tasks.write().await;
        let task = tasks.remove(&xid).ok_or(MediatorError::NoSuchTask(xid))?;
        let closing = {
            let mut encoders = lock(&self.inner.encoders);
            let now = Timestamp::from_system_time(SystemTime::now());
            let closing = encoders.close_calls(task.liid(), now);
            encoders.forget_liid(task.liid());
            closing
        };
        drop(tasks);
        info!(%xid, liid = %task.liid(), "task deactivated");
        self.audit(AuditKind::TaskDeactivated, task_detail(&task));
        self.close_calls(&task, closing).await;
        self.surveillance_status(&task, SurveillanceStatusEventType::Deactivation)
            .await;
        Ok(task)
    }

    /// Spools the call data closing the calls `task` left open (`EncoderCache::close_calls`)
    /// to their destinations: a task deactivated mid-call has each call released and its
    /// content closed at the agency, whether or not the probe sent the calls' ends first. A
    /// spool that refuses it is logged (the alarm is raised by the spool).
    async fn close_calls(&self, task: &MediationTask, closing: Vec<(DestinationId, Vec<u8>)>) {
        for (did, messages) in closing {
            let queue = {
                let queues = self
                    .inner
                    .queues
                    .read()
                    .unwrap_or_else(PoisonError::into_inner);
                queues.get(&did).map(|(_, queue)| queue.clone())
            };
            let Some(queue) = queue else {
                continue;
            };
            info!(liid = %task.liid(), %did, "calls open at deactivation released");
            // Call data carries no sequence number: the (LIID, CIN) number is not used.
            if let Err(error) = queue
                .enqueue_numbered(task.liid(), Cin::new(0), move |_| messages)
                .await
            {
                warn!(liid = %task.liid(), %error, "closing call data not spooled");
            }
        }
    }

    /// Tells each ATIS-1000678 HI2 destination of `task` its surveillance status
    /// (`SurveillanceStatus`, the call-data family's own report): appended to the
    /// destination's spool like any record. A spool that refuses it is logged (the alarm
    /// is raised by the spool); the task change itself stands.
    async fn surveillance_status(&self, task: &MediationTask, event: SurveillanceStatusEventType) {
        let s = &self.inner.settings;
        let Ok(case) = li_asn1::atis::CaseIdentity::new(
            IasMapper::fitted(&task.liid(), &iap_system_id(s)).case_id(),
        ) else {
            return;
        };
        let targets: Vec<DeliveryQueue<NumberedSpool>> = {
            let queues = self
                .inner
                .queues
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            task.destinations()
                .iter()
                .filter_map(|did| queues.get(did))
                .filter(|(dest, _)| {
                    dest.interface == Interface::Hi2
                        && matches!(dest.format, HandoverFormat::Atis1000678 { .. })
                })
                .map(|(_, queue)| queue.clone())
                .collect()
        };
        if targets.is_empty() {
            return;
        }
        let iap = iap_system_id(s);
        let message = crate::calea::surveillance_status(
            &case,
            Some(&iap),
            event,
            Timestamp::from_system_time(SystemTime::now()),
        )
        .encode();
        for queue in targets {
            // The numbered spool takes a (LIID, CIN) number the message does not carry:
            // ATIS-1000678 call data has no sequence number.
            let copy = message.clone();
            if let Err(error) = queue
                .enqueue_numbered(task.liid(), Cin::new(0), move |_| copy)
                .await
            {
                warn!(liid = %task.liid(), %error, "surveillance status not spooled");
            }
        }
    }

    /// The active tasks.
    pub async fn tasks(&self) -> Vec<MediationTask> {
        let mut tasks: Vec<_> = self.inner.tasks.read().await.values().cloned().collect();
        tasks.sort_by_key(|t| t.xid().to_string());
        tasks
    }

    /// One active task.
    pub async fn task(&self, xid: Xid) -> Option<MediationTask> {
        self.inner.tasks.read().await.get(&xid).cloned()
    }

    /// The destinations with their link state and spool depth (records, bytes), by name.
    pub async fn destinations(&self) -> Vec<(HiDestination, LinkStatsSnapshot, (u64, u64))> {
        let destinations = self.inner.destinations.lock().await;
        let mut out = Vec::new();
        for rt in destinations.values() {
            out.push((
                rt.dest.clone(),
                rt.link.stats().snapshot(),
                rt.link.queue().depth().await,
            ));
        }
        out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        out
    }

    /// Waits until every destination's spool is empty: everything accepted has been
    /// acknowledged by its agency. Checked at once and again after every acknowledgement
    /// ([`LinkStats::wait_for`]), never polled. An agency that stays down keeps the wait
    /// going, and a destination modified meanwhile is watched on its old link: bound the
    /// wait with a timeout.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use li_handover::mediator::Mediator;
    ///
    /// # async fn example(mediator: &Mediator) {
    /// // ... X2/X3 PDUs mediated ...
    /// let drained = tokio::time::timeout(Duration::from_secs(30), mediator.wait_drained());
    /// if drained.await.is_err() {
    ///     for (dest, link, (records, _)) in mediator.destinations().await {
    ///         eprintln!("{}: {records} records spooled, connected: {}", dest.name, link.connected);
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn wait_drained(&self) {
        loop {
            let links: Vec<(Arc<LinkStats>, DeliveryQueue<NumberedSpool>)> = self
                .inner
                .destinations
                .lock()
                .await
                .values()
                .map(|rt| (Arc::clone(rt.link.stats()), rt.link.queue().clone()))
                .collect();
            let mut waited = false;
            for (stats, queue) in links {
                loop {
                    // Read before the depth: the link removes records from the spool, then
                    // counts them acknowledged.
                    let acked = stats.snapshot().records_acked;
                    if queue.depth().await.0 == 0 {
                        break;
                    }
                    waited = true;
                    stats.wait_for(|s| s.records_acked > acked).await;
                }
            }
            // Drained when one pass over every destination found each empty.
            if !waited {
                return;
            }
        }
    }

    /// Waits until `cond` holds for the link of destination `did` and returns the snapshot
    /// it held for ([`LinkStats::wait_for`]: checked at once and after every change, never
    /// polled); `None` when there is no such destination. A destination modified or removed
    /// meanwhile is watched on its old link: bound the wait with a timeout.
    pub async fn wait_for_link(
        &self,
        did: DestinationId,
        cond: impl FnMut(&LinkStatsSnapshot) -> bool,
    ) -> Option<LinkStatsSnapshot> {
        let stats = Arc::clone(self.inner.destinations.lock().await.get(&did)?.link.stats());
        Some(stats.wait_for(cond).await)
    }

    /// The destinations' link state and spool depth without waiting, for a metrics scrape
    /// (which may not block): empty while a provisioning call holds the destinations, and a
    /// spool depth of 0 while its link holds that spool.
    pub fn link_snapshots(&self) -> Vec<LinkSnapshot> {
        let Ok(destinations) = self.inner.destinations.try_lock() else {
            return Vec::new();
        };
        destinations
            .values()
            .map(|rt| {
                let (spool_records, spool_bytes) = rt
                    .link
                    .queue()
                    .spool()
                    .try_lock()
                    .map(|s| (s.spool().pending(), s.spool().bytes()))
                    .unwrap_or_default();
                LinkSnapshot {
                    name: rt.dest.name.clone(),
                    link: rt.link.stats().snapshot(),
                    spool_records,
                    spool_bytes,
                }
            })
            .collect()
    }

    /// Mediates one X2/X3 PDU from a probe. See the [module documentation](super) and
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
    /// The whole batch is admitted ([`admission::admit`]) under one read of the task table
    /// (so a task change acknowledged over X1 applies to all of it or none of it), each
    /// admitted record is encoded with the header pre-encoded for its (LIID, CIN,
    /// destination), and each destination gets the batch's records with one spool append
    /// (one write, at most one fsync: group commit) and one wake-up of its link.
    pub fn mediate_batch(&self, pdus: &[Pdu]) -> Vec<Outcome> {
        let inner = &*self.inner;
        let tasks = inner.tasks.blocking_read();
        let mut outcomes = Vec::with_capacity(pdus.len());
        let mut admitted: Vec<(usize, Admitted<'_, '_>)> = Vec::with_capacity(pdus.len());
        let (mut x2, mut x3) = (0u64, 0u64);
        // (record, destination) pairs whose destination's format has no message for it.
        let mut not_in_format = 0u64;
        // Per destination, the admitted records it gets, in batch order. The queues are
        // taken out of the table first: no lock on it is held while a spool is appended to
        // (X1 may be changing destinations meanwhile).
        let targets: Vec<(Vec<usize>, QueueEntry)> = {
            let queues = inner.queues.read().unwrap_or_else(PoisonError::into_inner);
            let interface_of = |did: DestinationId| queues.get(&did).map(|(d, _)| d.interface);
            for (i, pdu) in pdus.iter().enumerate() {
                match pdu.pdu_type {
                    PduType::X2 => x2 += 1,
                    PduType::X3 => x3 += 1,
                    _ => {
                        outcomes.push(Outcome::Ignored);
                        continue;
                    }
                }
                match admission::admit(&tasks, interface_of, pdu) {
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
            let mut per_destination: HashMap<DestinationId, Vec<usize>> = HashMap::new();
            for (k, (i, a)) in admitted.iter().enumerate() {
                let mut routed = false;
                let mut skipped = false;
                for did in &a.destinations {
                    if let Some((dest, _)) = queues.get(did)
                        && !carries(dest.format, &a.content)
                    {
                        skipped = true;
                        continue;
                    }
                    routed = true;
                    per_destination.entry(*did).or_default().push(k);
                }
                if skipped {
                    if routed {
                        // Its other destinations have it: counted, not refused.
                        not_in_format += 1;
                    } else if let Some(outcome) = outcomes.get_mut(*i) {
                        *outcome = Outcome::Refused(Refusal::NotInFormat);
                    }
                }
            }
            per_destination
                .into_iter()
                .filter_map(|(did, records)| queues.get(&did).map(|e| (records, e.clone())))
                .collect()
        };

        let mut refusals: Vec<Option<Refusal>> = vec![None; admitted.len()];
        let mut delivered: BTreeMap<(String, String), u64> = BTreeMap::new();
        {
            let mut encoders = lock(&inner.encoders);
            let mut buf = std::mem::take(&mut encoders.buf);
            for (records, (dest, queue)) in targets {
                let keys: Vec<(Liid, Cin)> = records
                    .iter()
                    .filter_map(|&k| admitted.get(k).map(|(_, a)| (a.task.liid(), a.cin)))
                    .collect();
                let refused =
                    queue.enqueue_numbered_batch_blocking(&keys, &mut buf, |j, seq, out| {
                        if let Some((_, a)) = records.get(j).and_then(|&k| admitted.get(k)) {
                            encoders.encode(&inner.settings, &dest, a, seq, out);
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
                            tracing::error!(destination = %dest.name, %error, "spool append failed");
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
                    *counted.entry(a.task.liid()).or_default() += 1;
                }
                for (liid, n) in counted {
                    *delivered
                        .entry((liid.to_string(), dest.name.clone()))
                        .or_default() += n;
                }
            }
            encoders.buf = buf;
        }
        let mut refused: BTreeMap<Refusal, u64> = BTreeMap::new();
        if not_in_format > 0 {
            refused.insert(Refusal::NotInFormat, not_in_format);
        }
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
        // Counted once mediated, so that whoever waits for them finds them spooled.
        inner.stats.x2_received.fetch_add(x2, Ordering::Relaxed);
        inner.stats.x3_received.fetch_add(x3, Ordering::Relaxed);
        inner.stats.changes.changed();
        outcomes
    }

    /// Takes PDUs from an X2/X3 listener serving with confirmation
    /// ([`crate::x2x3::transport::X2X3Listener::serve_confirmed`]) until the channel
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

    #[cfg(test)]
    pub(super) fn encoder_cache_sizes(&self) -> (usize, usize, usize) {
        lock(&self.inner.encoders).sizes()
    }
}

/// Messages from the X2/X3 listener taken per batch, at most.
const CONSUME_BATCH: usize = 64;

/// A random start for the CCC identifier counter: the standard library's per-process random
/// hash keys (no clock, no extra dependency).
fn random_ccc_seed() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    hasher.finish() as u32
}

/// How long a PacketCable call-data connection must stay up after a record before the record
/// counts as delivered: PCESP has no message the agency answers ([`Carrier::SilentStream`]).
const PCESP_SETTLE: std::time::Duration = std::time::Duration::from_secs(5);

async fn stop_link(rt: DestinationRuntime) {
    // Never leave a link running on a spool about to be reopened elsewhere.
    if !rt.link.stop(Duration::from_secs(10)).await {
        warn!(destination = %rt.dest.name, "link did not stop within 10 s; aborted");
    }
}

fn task_detail(task: &MediationTask) -> serde_json::Value {
    json!({
        "xid": task.xid().to_string(),
        "liid": task.liid().to_string(),
        "scope": format!("{:?}", task.scope()),
        "destinations": task.destinations().iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}
