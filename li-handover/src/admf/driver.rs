//! The tokio driver around [`plan`]: [`Admf`] reads the NEs back, plans, sends the X1
//! requests, and records what happened in the warrant store and the audit log.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasher as _, Hasher as _};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use li_core::{DestinationId, Liid, Timestamp, Xid};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_rustls::TlsConnector;
use tracing::{debug, error, info, warn};

use super::plan::{
    Desired, Gate, HeldReason, MEDIATOR, NeContents, Network, Observed, Outcome, Plan, Progress,
    ReadBack, Request, Timing, next_edge, plan,
};
use super::report::{SyncFailure, SyncReport, TaskChange};
use super::store::{StoreError, Warrant, WarrantState, WarrantStore, agency_name, scope_to_text};
use crate::audit::{AuditError, AuditKind, AuditLog};
use crate::x1::transport::{X1Client, X1ClientConfig};
use crate::x1::{
    DeliveryAddress, MessageHeader, Port, RequestBody, ResponseBody, TaskDetails, TransactionId,
    X1ErrorKind, X1Request, X1Version,
};

/// The `actor` of every audit entry the ADMF writes.
pub const ACTOR: &str = "admf";

// ---------------------------------------------------------------------------------------------
// Settings and errors
// ---------------------------------------------------------------------------------------------

/// A network element the ADMF provisions over X1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeEndpoint {
    /// Its X1 `neIdentifier`, and its name in logs and the audit log.
    pub name: String,
    /// Its X1 (HTTPS) listener.
    pub x1: SocketAddr,
    /// The name its X1 certificate must carry.
    pub server_name: String,
}

/// What an [`Admf`] needs to know, as plain values (a daemon builds it from its
/// configuration file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdmfSettings {
    /// The X1 `admfIdentifier` in every request (an `xs:token`), also the name under which
    /// the ADMF records its own refusals of a warrant.
    pub admf_identifier: String,
    /// The mediation function.
    pub mediator: NeEndpoint,
    /// The mediator's X2/X3 listener, given to the probes.
    pub mediator_x2x3: SocketAddr,
    /// The DID of that X2/X3 destination at the probes.
    pub x2x3_did: DestinationId,
    /// The probes (points of interception).
    pub probes: Vec<NeEndpoint>,
    /// Provisioning lead, deactivation grace, mediator grace.
    pub timing: Timing,
    /// The longest wait between two syncs of [`Admf::run`]; also the first back-off of a
    /// failed read-back and of a refused task.
    pub sync_interval: Duration,
    /// How often every NE is read back (`GetAllDetails`) to catch one that restarted;
    /// `None`: only at start-up and after a failed request.
    pub reconcile_interval: Option<Duration>,
    /// The connect and request timeout of every X1 request.
    pub x1_timeout: Duration,
}

/// A rule of [`AdmfSettings::validate`] broken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// An identifier is not usable as an X1 token.
    #[error("{what} {value:?} must be non-empty without leading, trailing or doubled spaces")]
    NotAToken {
        /// Which identifier.
        what: &'static str,
        /// Its value.
        value: String,
    },
    /// An interval that must be positive is zero.
    #[error("{what} must be at least 1 ms")]
    Zero {
        /// Which interval.
        what: &'static str,
    },
    /// Two NEs have the same name.
    #[error("NE name {name:?} is used twice")]
    DuplicateNe {
        /// The name.
        name: String,
    },
}

/// Errors of the [`Admf`]: the warrant store or the audit log failed, or the settings are
/// invalid. X1 failures are not errors: they are reported in [`SyncReport::failures`] and
/// retried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdmfError {
    /// The settings break a rule.
    #[error("invalid ADMF settings: {0}")]
    Settings(#[from] SettingsError),
    /// The warrant store failed (or refused a change; the error names the warrant).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit log could not be written.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl AdmfSettings {
    /// Checks what the types cannot: identifiers usable as X1 tokens, unique NE names,
    /// positive intervals.
    ///
    /// # Errors
    ///
    /// The first rule broken.
    pub fn validate(&self) -> Result<(), SettingsError> {
        check_token("admf_identifier", &self.admf_identifier)?;
        if self.sync_interval.is_zero() {
            return Err(SettingsError::Zero {
                what: "sync_interval",
            });
        }
        if self.x1_timeout.is_zero() {
            return Err(SettingsError::Zero { what: "x1_timeout" });
        }
        let mut names = HashSet::new();
        for name in std::iter::once(&self.mediator.name).chain(self.probes.iter().map(|p| &p.name))
        {
            check_token("NE name", name)?;
            if !names.insert(name.as_str()) {
                return Err(SettingsError::DuplicateNe { name: name.clone() });
            }
        }
        Ok(())
    }

    /// The NEs as [`plan`] sees them.
    pub fn network(&self) -> Network {
        Network {
            mediator: self.mediator.name.clone(),
            x2x3: self.mediator_x2x3,
            x2x3_did: self.x2x3_did,
            probes: self.probes.iter().map(|p| p.name.clone()).collect(),
        }
    }
}

fn check_token(what: &'static str, value: &str) -> Result<(), SettingsError> {
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if value.is_empty() || collapsed != value {
        return Err(SettingsError::NotAToken {
            what,
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// Where the ADMF writes its audit entries (actor [`ACTOR`]): an [`AuditLog`] when one
/// process writes the log, or a sink that serialises appends between processes.
pub trait AuditSink: Send + Sync {
    /// Appends one entry; returns once it is recorded.
    ///
    /// # Errors
    ///
    /// The entry could not be recorded.
    fn record(&self, kind: AuditKind, detail: Value) -> Result<(), AuditError>;
}

impl AuditSink for AuditLog {
    fn record(&self, kind: AuditKind, detail: Value) -> Result<(), AuditError> {
        self.append(ACTOR, kind, detail).map(drop)
    }
}

impl AuditSink for crate::audit::SharedAuditLog {
    fn record(&self, kind: AuditKind, detail: Value) -> Result<(), AuditError> {
        self.append(ACTOR, kind, detail).map(drop)
    }
}

// ---------------------------------------------------------------------------------------------
// Time and randomness
// ---------------------------------------------------------------------------------------------

/// The wall clock (the epoch if the system clock is before it).
fn wall_clock() -> Timestamp {
    Timestamp::from_system_time(SystemTime::now())
}

/// 16 unpredictable octets from the standard library alone: SipHash with the per-process
/// random keys of [`std::hash::RandomState`], over the time and a counter.
pub fn random_bytes() -> [u8; 16] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = std::hash::RandomState::new();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut out = [0u8; 16];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let mut hasher = state.build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(nanos);
        hasher.write_usize(i);
        for (o, b) in chunk.iter_mut().zip(hasher.finish().to_le_bytes()) {
            *o = b;
        }
    }
    out
}

/// A fresh random (version 4) XID.
pub fn random_xid() -> Xid {
    Xid::new_v4_from_random(random_bytes())
}

// ---------------------------------------------------------------------------------------------
// The ADMF
// ---------------------------------------------------------------------------------------------

/// The administration function. Cheap to clone (shared state); every provisioning operation
/// ([`Admf::sync`], [`Admf::revoke`], [`Admf::update_warrant`]) runs one at a time.
///
/// # Example
///
/// An ADMF on an SQLite store and an audit log, whose mediator cannot be reached: the
/// warrant is entered and stays pending, the failed read-back is reported (and retried at a
/// later sync), and every step is in the audit log.
///
/// ```
/// # #[cfg(all(feature = "sqlite", feature = "dev-pki"))] {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use li_core::{
///     DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptScope, Task,
///     Timestamp, ValidityWindow, Xid,
/// };
/// use li_handover::admf::store::{SqliteStore, Warrant, WarrantState, WarrantStore};
/// use li_handover::admf::{Admf, AdmfSettings, NeEndpoint, Timing};
/// use li_handover::audit::{AuditLog, verify};
/// use li_handover::tls::{DevPki, Validity};
///
/// let dir = tempfile::tempdir()?;
/// let store = Arc::new(SqliteStore::open(dir.path().join("admf.db"))?);
/// let (audit, _) = AuditLog::open(dir.path().join("audit.log"))?;
/// let pki = DevPki::new("example CA")?;
/// let tls = pki.client_config(&pki.issue("admf", &["admf"], &[], Validity::Default)?)?;
/// let settings = AdmfSettings {
///     admf_identifier: "admf".into(),
///     mediator: NeEndpoint {
///         name: "mdf".into(),
///         x1: "127.0.0.1:1".parse()?, // nothing listens there
///         server_name: "mdf".into(),
///     },
///     mediator_x2x3: "127.0.0.1:7002".parse()?,
///     x2x3_did: DestinationId::new_v4_from_random([3; 16]),
///     probes: Vec::new(),
///     timing: Timing {
///         provision_lead: Duration::from_secs(60),
///         deactivation_grace: Duration::from_secs(60),
///         mediator_grace: Duration::from_secs(5),
///     },
///     sync_interval: Duration::from_secs(1),
///     reconcile_interval: Some(Duration::from_secs(60)),
///     x1_timeout: Duration::from_secs(2),
/// };
/// let admf = Admf::new(settings, store, Arc::new(audit), tls)?;
///
/// let now = Timestamp::from_system_time(std::time::SystemTime::now());
/// let task = Task::new(
///     "LIID-0001".parse()?,
///     Xid::new_v4_from_random([7; 16]),
///     vec!["ipv4:192.0.2.9".parse()?],
///     InterceptScope::IriOnly,
///     ValidityWindow::new(now, None)?,
///     vec![Destination::new(
///         DestinationId::new_v4_from_random([9; 16]),
///         DeliveryAddress::new("198.51.100.1", 6001, true),
///         None,
///         HandoverFormat::etsi_default(),
///     )
///     .with_name("LEA-1")],
/// )?;
/// let warrant = Warrant::new(task, now)?;
/// admf.create_warrant(&warrant)?;
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// let report = runtime.block_on(admf.sync(now))?;
/// assert_eq!(report.failures[0].operation, "GetAllDetails");
/// assert!(report.activated.is_empty());
/// let stored = admf.store().get(&warrant.task.liid())?.expect("entered");
/// assert_eq!(stored.state, WarrantState::Pending);
/// assert!(verify(dir.path().join("audit.log"))?.entries >= 3);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Admf {
    inner: Arc<Inner>,
}

impl fmt::Debug for Admf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admf")
            .field("admf_identifier", &self.inner.settings.admf_identifier)
            .finish_non_exhaustive()
    }
}

struct Inner {
    settings: AdmfSettings,
    network: Network,
    store: Arc<dyn WarrantStore>,
    audit: Arc<dyn AuditSink>,
    /// One per NE: the mediator first, then the probes in order.
    clients: Vec<X1Client>,
    state: tokio::sync::Mutex<State>,
    x1_counts: Mutex<BTreeMap<(String, &'static str), u64>>,
}

struct State {
    observed: Observed,
    /// One per NE.
    read_back: Vec<ReadBack>,
    /// The warrants the ADMF itself refused, with the reason recorded (recorded and audited
    /// once per distinct reason).
    admf_refused: HashMap<Xid, String>,
}

/// Why an X1 exchange failed.
#[derive(Debug)]
enum X1Failure {
    /// Nothing was sent (the audit log could not be written).
    NotSent(String),
    /// Transport, TLS, HTTP or decoding failure.
    Transport(String),
    /// The NE answered with an `ErrorResponse`.
    Refused { code: i64, description: String },
    /// The NE answered with an unexpected response.
    Unexpected(String),
}

impl fmt::Display for X1Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSent(e) => write!(f, "not sent: {e}"),
            Self::Transport(e) => f.write_str(e),
            Self::Refused { code, description } => write!(f, "error {code}: {description}"),
            Self::Unexpected(e) => write!(f, "unexpected response: {e}"),
        }
    }
}

impl X1Failure {
    /// The typed meaning of the NE's refusal code (none for another vendor's codes).
    fn kind(&self) -> Option<X1ErrorKind> {
        match self {
            Self::Refused { code, .. } => X1ErrorKind::from_code(*code),
            _ => None,
        }
    }

    /// The NE says the object is not there (deactivating or removing it is then done):
    /// decided on the code ([`X1ErrorKind::says_absent`]), never on the description.
    fn says_absent(&self) -> bool {
        self.kind().is_some_and(X1ErrorKind::says_absent)
    }

    /// The NE says the object exists already ([`X1ErrorKind::says_exists`]).
    fn says_exists(&self) -> bool {
        self.kind().is_some_and(X1ErrorKind::says_exists)
    }
}

impl Admf {
    /// An ADMF provisioning the NEs of `settings` from the warrants in `store`, writing its
    /// audit entries to `audit`, its X1 client authenticated by `tls` (mutual TLS; see
    /// [`crate::tls::load_client_config`]). Nothing is sent until the first
    /// [`Admf::sync`], which first reads back every NE.
    ///
    /// # Errors
    ///
    /// [`AdmfError::Settings`].
    pub fn new(
        settings: AdmfSettings,
        store: Arc<dyn WarrantStore>,
        audit: Arc<dyn AuditSink>,
        tls: Arc<rustls::ClientConfig>,
    ) -> Result<Self, AdmfError> {
        settings.validate()?;
        let connector = TlsConnector::from(tls);
        let client_config = X1ClientConfig {
            connect_timeout: settings.x1_timeout,
            request_timeout: settings.x1_timeout,
            ..X1ClientConfig::default()
        };
        let clients: Vec<X1Client> = std::iter::once(&settings.mediator)
            .chain(&settings.probes)
            .map(|ne| {
                X1Client::new(connector.clone(), ne.x1, ne.server_name.clone())
                    .with_config(client_config.clone())
            })
            .collect();
        let state = State {
            observed: Observed::new(clients.len()),
            read_back: vec![ReadBack::default(); clients.len()],
            admf_refused: HashMap::new(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                network: settings.network(),
                settings,
                store,
                audit,
                clients,
                state: tokio::sync::Mutex::new(state),
                x1_counts: Mutex::default(),
            }),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &AdmfSettings {
        &self.inner.settings
    }

    /// The warrant store.
    pub fn store(&self) -> &dyn WarrantStore {
        &*self.inner.store
    }

    /// The X1 requests sent so far, per (NE, outcome): `ok`, `error` for an
    /// `ErrorResponse`, `failed` for a transport failure.
    pub fn x1_counts(&self) -> BTreeMap<(String, &'static str), u64> {
        self.inner
            .x1_counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many warrants the store holds in each state (every state listed, in lifecycle
    /// order).
    ///
    /// # Errors
    ///
    /// The store cannot list them.
    pub fn warrant_counts(&self) -> Result<[(WarrantState, u64); 4], StoreError> {
        let mut counts = [
            (WarrantState::Pending, 0),
            (WarrantState::Active, 0),
            (WarrantState::Ended, 0),
            (WarrantState::Revoked, 0),
        ];
        for w in self.inner.store.list()? {
            for (state, n) in &mut counts {
                if *state == w.state {
                    *n += 1;
                }
            }
        }
        Ok(counts)
    }

    /// Enters a new warrant (pending; the next sync at or after its start activates it) and
    /// audits `warrant.created`.
    ///
    /// # Errors
    ///
    /// The store refuses it (invalid, duplicate LIID or XID), or the audit log cannot be
    /// written.
    pub fn create_warrant(&self, warrant: &Warrant) -> Result<(), AdmfError> {
        self.inner.store.create(warrant)?;
        let (liid, xid) = (warrant.task.liid(), warrant.task.xid());
        info!(%liid, %xid, "warrant {liid} created");
        self.audit(AuditKind::WarrantCreated, warrant_detail(warrant))?;
        Ok(())
    }

    /// Replaces a warrant's targets, scope, window and agencies, audits `warrant.updated`,
    /// and syncs at once: an active warrant's tasks are modified (`ModifyTask`) on every NE.
    ///
    /// # Errors
    ///
    /// The store refuses the update, or the audit log cannot be written.
    pub async fn update_warrant(&self, warrant: &Warrant) -> Result<SyncReport, AdmfError> {
        let stored = self.inner.store.update(warrant)?;
        let liid = stored.task.liid();
        info!(%liid, "warrant {liid} updated");
        self.audit(AuditKind::WarrantUpdated, warrant_detail(&stored))?;
        self.sync(wall_clock()).await
    }

    /// Revokes a warrant (pending or active): records it as revoked, audits
    /// `warrant.revoked`, and syncs at once, which deactivates its task at the probes; the
    /// mediator's follows [`Timing::mediator_grace`] later (at a later sync, or
    /// [`Admf::settle`]).
    ///
    /// # Errors
    ///
    /// Unknown LIID, a warrant already ended or revoked, or the audit log cannot be written.
    pub async fn revoke(&self, liid: &Liid) -> Result<SyncReport, AdmfError> {
        let at = wall_clock();
        let warrant = self
            .inner
            .store
            .set_state(liid, WarrantState::Revoked, at)?;
        info!(%liid, "warrant {liid} revoked");
        self.audit(
            AuditKind::WarrantRevoked,
            json!({
                "liid": liid.to_string(),
                "xid": warrant.task.xid().to_string(),
                "state": "revoked",
            }),
        )?;
        let mut report = SyncReport {
            revoked: vec![*liid],
            ..SyncReport::default()
        };
        report.merge(self.sync(at).await?);
        Ok(report)
    }

    /// Marks every NE to be read back (`GetAllDetails`) at the next sync.
    pub async fn request_read_back(&self) {
        let mut st = self.inner.state.lock().await;
        for ne in &mut st.observed.nes {
            *ne = None;
        }
    }

    /// Brings the NEs in line with the warrant store at instant `now`:
    ///
    /// 1. reads back every NE not known yet (start-up, after a failure; with a back-off
    ///    while that fails) or read longer than [`AdmfSettings::reconcile_interval`] ago;
    /// 2. [plans](plan) the X1 requests, and records the warrants whose window (and grace)
    ///    ended as ended;
    /// 3. sends the requests in order, skipping those that depend on one that failed
    ///    ([`Progress`]), and records every outcome;
    /// 4. marks a pending warrant active once every NE has acknowledged its tasks.
    ///
    /// X1 failures are reported in [`SyncReport::failures`], audited, and retried at the next
    /// sync (a warrant that could not be activated everywhere stays pending). A task an NE
    /// refuses (`ErrorResponse` to `ActivateTask` or `ModifyTask`) is that warrant's alone:
    /// recorded with it ([`WarrantStore::refusals`], audited once as `warrant.refused`), asked
    /// again when the warrant changes or after a back-off (the sync interval, doubling up to
    /// 5 minutes), while every other warrant is provisioned on that NE as usual. A warrant
    /// the ADMF itself cannot provision (an agency's handover format the suite does not
    /// produce, an unusable HI address) is recorded and audited the same way, under the
    /// ADMF's identifier, and nothing of it is sent.
    ///
    /// # Errors
    ///
    /// The warrant store or the audit log failed.
    pub async fn sync(&self, now: Timestamp) -> Result<SyncReport, AdmfError> {
        Ok(self.sync_and_next_edge(now).await?.0)
    }

    /// [`Admf::sync`], and the [`next_edge`] after `now` of the warrants it synced (read
    /// once from the store, with the ones it ended as ended): when the daemon must sync next
    /// at the latest.
    async fn sync_and_next_edge(
        &self,
        now: Timestamp,
    ) -> Result<(SyncReport, Option<Timestamp>), AdmfError> {
        let inner = &*self.inner;
        let mut st = inner.state.lock().await;
        let mut report = SyncReport::default();
        self.read_back(&mut st, now, &mut report).await;

        let mut warrants = inner.store.list()?;
        let timing = inner.settings.timing;
        let desired = Desired {
            network: &inner.network,
            timing,
            warrants: &warrants,
        };
        let plan = plan(&desired, &st.observed, now);

        for liid in &plan.retire {
            let Some(warrant) = warrants.iter_mut().find(|w| w.task.liid() == *liid) else {
                continue;
            };
            let ended = inner.store.set_state(liid, WarrantState::Ended, now)?;
            let liid = ended.task.liid();
            info!(%liid, "warrant {liid} ended (window over)");
            self.audit(
                AuditKind::WarrantStateChanged,
                json!({"liid": liid.to_string(), "xid": ended.task.xid().to_string(),
                       "from": warrant.state.as_str(), "state": "ended"}),
            )?;
            report.ended.push(liid);
            *warrant = ended;
        }
        st.observed
            .mediator_release
            .clone_from(&plan.mediator_release);
        st.observed.refusals.retain_wanted(&plan.wanted);
        self.held(&mut st, &plan, &warrants, now, &mut report)?;

        let mut progress = Progress::default();
        for request in &plan.requests {
            match progress.gate(request) {
                Gate::Send => {}
                Gate::Skip { report: false } => continue,
                Gate::Skip { report: true } => {
                    report.failed(
                        self.ne_name(request.ne),
                        request.body.message_type().as_str(),
                        request.liid,
                        "the NE's tasks are not known (a request to it failed; it is read \
                         back first)"
                            .into(),
                    );
                    continue;
                }
            }
            let outcome = self.send(&mut st, request, now, &mut report).await?;
            progress.record(request, outcome);
        }

        for liid in progress.activated(&plan) {
            let Some(warrant) = warrants.iter_mut().find(|w| w.task.liid() == liid) else {
                continue;
            };
            *warrant = inner.store.set_state(&liid, WarrantState::Active, now)?;
            info!(%liid, "warrant {liid} active on every NE");
            self.audit(
                AuditKind::WarrantStateChanged,
                json!({"liid": liid.to_string(), "xid": warrant.task.xid().to_string(),
                       "from": "pending", "state": "active"}),
            )?;
            report.activated.push(liid);
        }
        drop(st);
        let next = next_edge(
            &warrants,
            now,
            timing.provision_lead,
            timing.deactivation_grace,
        );
        Ok((report, next))
    }

    /// Runs [`Admf::sync`] until no mediator deactivation waits for its grace period (or
    /// the grace period plus 2 s have passed), sleeping in between; returns what was done.
    /// For one-shot commands, which must not exit with a deactivation pending.
    ///
    /// # Errors
    ///
    /// As [`Admf::sync`].
    pub async fn settle(&self) -> Result<SyncReport, AdmfError> {
        let grace = self.inner.settings.timing.mediator_grace;
        let deadline = Instant::now() + grace + Duration::from_secs(2);
        let mut report = SyncReport::default();
        loop {
            let next = self.next_release().await;
            let Some(next) = next else {
                return Ok(report);
            };
            if Instant::now() >= deadline {
                warn!("mediator deactivations still pending after the grace period");
                return Ok(report);
            }
            let wait = next.duration_since(wall_clock()).unwrap_or(Duration::ZERO);
            tokio::time::sleep(wait.min(grace).max(Duration::from_millis(10))).await;
            report.merge(self.sync(wall_clock()).await?);
        }
    }

    /// The daemon: syncs, then sleeps until the next window edge, the next pending mediator
    /// deactivation or [`AdmfSettings::sync_interval`], whichever is first; until `shutdown`
    /// turns true. Then settles pending mediator deactivations ([`Admf::settle`]).
    ///
    /// # Errors
    ///
    /// Never for X1 or store failures (logged and retried); only when settling fails.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), AdmfError> {
        let interval = self.inner.settings.sync_interval;
        info!(
            nes = self.inner.clients.len(),
            "ADMF {} running", self.inner.settings.admf_identifier
        );
        let mut last_report = SyncReport::default();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let next_change = match self.sync_and_next_edge(wall_clock()).await {
                // the same failures sync after sync (an NE down) are logged once
                Ok((report, next)) => {
                    if !report.is_empty() && report != last_report {
                        for line in report.to_string().lines() {
                            info!("sync: {line}");
                        }
                    }
                    last_report = report;
                    next
                }
                Err(e) => {
                    error!("sync failed: {e}");
                    None
                }
            };
            let mut wait = interval;
            let next_release = self.next_release().await;
            for next in [next_change, next_release].into_iter().flatten() {
                let until = next.duration_since(wall_clock()).unwrap_or(Duration::ZERO);
                wait = wait.min(until.max(Duration::from_millis(1)));
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        info!("ADMF stopping: settling pending deactivations");
        let report = self.settle().await?;
        if !report.is_empty() {
            for line in report.to_string().lines() {
                info!("sync: {line}");
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Steps of a sync
    // -----------------------------------------------------------------------------------------

    async fn next_release(&self) -> Option<Timestamp> {
        let st = self.inner.state.lock().await;
        st.observed.mediator_release.values().min().copied()
    }

    /// `GetAllDetails` from every NE whose read-back is due.
    async fn read_back(&self, st: &mut State, now: Timestamp, report: &mut SyncReport) {
        let every = self.inner.settings.reconcile_interval;
        for ne in 0..self.inner.clients.len() {
            let known = st.observed.ne(ne).is_some();
            if !st
                .read_back
                .get(ne)
                .is_some_and(|schedule| schedule.due(known, now, every))
            {
                continue;
            }
            let name = self.ne_name(ne);
            match self.x1(ne, RequestBody::GetAllDetails, None).await {
                Ok(ResponseBody::GetAllDetails {
                    tasks,
                    destinations,
                    ..
                }) => {
                    let contents = NeContents::from_read_back(&tasks, &destinations);
                    info!(
                        ne = name.as_str(),
                        tasks = contents.tasks.len(),
                        destinations = contents.destinations.len(),
                        "{name}: read back {} task(s), {} destination(s)",
                        contents.tasks.len(),
                        contents.destinations.len()
                    );
                    set_known(&mut st.observed, ne, Some(contents));
                    if let Some(schedule) = st.read_back.get_mut(ne) {
                        schedule.succeeded(now);
                    }
                    report.reconciled.push(name);
                }
                Ok(other) => {
                    let error = format!("unexpected response {}", other.xsi_type());
                    self.read_back_failed(st, ne, now, error, report);
                }
                Err(e) => self.read_back_failed(st, ne, now, e.to_string(), report),
            }
        }
    }

    fn read_back_failed(
        &self,
        st: &mut State,
        ne: usize,
        now: Timestamp,
        error: String,
        report: &mut SyncReport,
    ) {
        set_known(&mut st.observed, ne, None);
        let delay = st
            .read_back
            .get_mut(ne)
            .map(|schedule| schedule.failed(now, self.inner.settings.sync_interval))
            .unwrap_or_default();
        let name = self.ne_name(ne);
        warn!(
            ne = name.as_str(),
            "{name}: cannot read back tasks and destinations (next attempt in {} ms): {error}",
            delay.as_millis()
        );
        report.failures.push(SyncFailure {
            ne: name,
            operation: "GetAllDetails".into(),
            liid: None,
            error,
        });
    }

    /// Reports what the plan holds back, and records the warrants the ADMF itself refuses.
    fn held(
        &self,
        st: &mut State,
        plan: &Plan,
        warrants: &[Warrant],
        now: Timestamp,
        report: &mut SyncReport,
    ) -> Result<(), AdmfError> {
        let admf = &self.inner.settings.admf_identifier;
        let mut refused_now = HashSet::new();
        for held in &plan.held {
            let liid = held.liid;
            let error = held.reason.to_string();
            let ne = match (&held.reason, held.ne) {
                (HeldReason::Unprovisionable(e), _) => {
                    let reason = e.to_string();
                    refused_now.insert(held.xid);
                    if st.admf_refused.get(&held.xid) != Some(&reason) {
                        warn!(%liid, "the ADMF refuses warrant {liid}: {reason}");
                        self.inner.store.set_refusal(&liid, admf, &reason, now)?;
                        self.audit(
                            AuditKind::Other("warrant.refused".into()),
                            json!({"liid": liid.to_string(), "xid": held.xid.to_string(),
                                   "ne": admf, "type": held.operation(), "reason": reason}),
                        )?;
                        st.admf_refused.insert(held.xid, reason);
                    }
                    admf.clone()
                }
                (_, Some(ne)) => self.ne_name(ne),
                (_, None) => admf.clone(),
            };
            report.failed(ne, held.operation(), Some(liid), error);
        }
        // A warrant the ADMF refused that it now provisions (it changed): the refusal goes.
        let accepted: Vec<Xid> = st
            .admf_refused
            .keys()
            .filter(|xid| !refused_now.contains(*xid))
            .copied()
            .collect();
        for xid in accepted {
            st.admf_refused.remove(&xid);
            if plan.wanted.contains(&xid)
                && let Some(warrant) = warrants.iter().find(|w| w.task.xid() == xid)
            {
                self.inner.store.clear_refusal(&warrant.task.liid(), admf)?;
            }
        }
        Ok(())
    }

    /// Sends one request of the plan and records its outcome.
    async fn send(
        &self,
        st: &mut State,
        request: &Request,
        now: Timestamp,
        report: &mut SyncReport,
    ) -> Result<Outcome, AdmfError> {
        let ne = request.ne;
        let name = self.ne_name(ne);
        let liid = request.liid;
        let operation = request.body.message_type().as_str();
        let result = self.x1(ne, request.body.clone(), liid).await;
        match &request.body {
            RequestBody::CreateDestination(dest) | RequestBody::ModifyDestination(dest) => {
                let create = matches!(request.body, RequestBody::CreateDestination(_));
                match result {
                    Ok(_) => {}
                    Err(e) if create && e.says_exists() => {
                        debug!(ne = name.as_str(), did = %dest.did, "destination exists already");
                    }
                    Err(e) => {
                        self.failed(st, ne, operation, liid, &e, report);
                        return Ok(Outcome::Failed);
                    }
                }
                if let Some(contents) = known_mut(&mut st.observed, ne) {
                    contents.destinations.insert(dest.did, dest.clone());
                }
                let kind = if create {
                    AuditKind::DestinationCreated
                } else {
                    AuditKind::Other("destination.modified".into())
                };
                self.audit(
                    kind,
                    json!({"ne": name, "did": dest.did.to_string(),
                           "name": dest.friendly_name, "type": dest.delivery_type.as_str(),
                           "address": address_text(&dest.delivery_address)}),
                )?;
                if create {
                    report.destinations_created.push((name, dest.did));
                }
                Ok(Outcome::Done)
            }
            RequestBody::ActivateTask(task) | RequestBody::ModifyTask(task) => {
                let activate = matches!(request.body, RequestBody::ActivateTask(_));
                match result {
                    Ok(_) => {
                        if st.observed.refusals.accepted(ne, task.xid)
                            && let Some(liid) = liid
                        {
                            self.inner.store.clear_refusal(&liid, &name)?;
                        }
                        if let Some(contents) = known_mut(&mut st.observed, ne) {
                            contents.tasks.insert(task.xid, task.clone());
                        }
                        let shown = liid.map(|l| l.to_string()).unwrap_or_default();
                        info!(ne = name.as_str(), liid = shown.as_str(), xid = %task.xid,
                              "{name}: {operation} {shown} done");
                        debug!(ne = name.as_str(), liid = shown.as_str(), targets = ?task.targets, "task targets");
                        let kind = if activate {
                            AuditKind::TaskActivated
                        } else {
                            AuditKind::TaskModified
                        };
                        self.audit(kind, task_detail(&name, task.xid, liid))?;
                        let change = TaskChange {
                            ne: name,
                            xid: task.xid,
                            liid,
                        };
                        if activate {
                            report.tasks_activated.push(change);
                        } else {
                            report.tasks_modified.push(change);
                        }
                        Ok(Outcome::Done)
                    }
                    Err(e @ X1Failure::Refused { .. }) => {
                        self.task_refused(st, now, request, task, &e, report)?;
                        Ok(Outcome::Refused)
                    }
                    Err(e) => {
                        self.failed(st, ne, operation, liid, &e, report);
                        Ok(Outcome::Failed)
                    }
                }
            }
            RequestBody::DeactivateTask(xid) => match result {
                Err(e) if !e.says_absent() => {
                    self.failed(st, ne, operation, liid, &e, report);
                    Ok(Outcome::Failed)
                }
                // done, or the NE does not have it (any more)
                _ => {
                    if let Some(contents) = known_mut(&mut st.observed, ne) {
                        contents.tasks.remove(xid);
                    }
                    if ne == MEDIATOR {
                        st.observed.mediator_release.remove(xid);
                    }
                    info!(ne = name.as_str(), %xid, "{name}: task {xid} deactivated");
                    self.audit(AuditKind::TaskDeactivated, task_detail(&name, *xid, liid))?;
                    report.tasks_deactivated.push(TaskChange {
                        ne: name,
                        xid: *xid,
                        liid,
                    });
                    Ok(Outcome::Done)
                }
            },
            RequestBody::RemoveDestination(did) => match result {
                Err(e) if !e.says_absent() => {
                    self.failed(st, ne, operation, liid, &e, report);
                    Ok(Outcome::Failed)
                }
                _ => {
                    if let Some(contents) = known_mut(&mut st.observed, ne) {
                        contents.destinations.remove(did);
                    }
                    info!(ne = name.as_str(), %did, "{name}: destination {did} removed");
                    self.audit(
                        AuditKind::DestinationRemoved,
                        json!({"ne": name, "did": did.to_string()}),
                    )?;
                    report.destinations_removed.push((name, *did));
                    Ok(Outcome::Done)
                }
            },
            // a plan holds nothing else
            _ => Ok(if result.is_ok() {
                Outcome::Done
            } else {
                Outcome::Failed
            }),
        }
    }

    /// An NE refused a warrant's task: the refusal stays with the warrant (recorded in the
    /// store, audited once per distinct refusal, reported); the NE stays known, so every
    /// other warrant is still provisioned there. The unchanged task is offered again after a
    /// back-off.
    fn task_refused(
        &self,
        st: &mut State,
        now: Timestamp,
        request: &Request,
        task: &TaskDetails,
        error: &X1Failure,
        report: &mut SyncReport,
    ) -> Result<(), AdmfError> {
        let ne = self.ne_name(request.ne);
        let operation = request.body.message_type().as_str();
        let reason = error.to_string();
        let is_new = st.observed.refusals.record(
            request.ne,
            task,
            &reason,
            now,
            self.inner.settings.sync_interval,
        );
        let shown = request.liid.map(|l| l.to_string()).unwrap_or_default();
        warn!(
            ne = ne.as_str(),
            liid = shown.as_str(),
            "{ne} refused {operation} of warrant {shown}: {reason}"
        );
        if is_new && let Some(liid) = request.liid {
            self.inner.store.set_refusal(&liid, &ne, &reason, now)?;
            self.audit(
                AuditKind::Other("warrant.refused".into()),
                json!({"liid": liid.to_string(), "xid": task.xid.to_string(),
                       "ne": ne, "type": operation, "reason": reason}),
            )?;
        }
        report.failed(ne, operation, request.liid, format!("refused: {reason}"));
        Ok(())
    }

    /// Records a failed request: reported, and the NE is read back at the next sync.
    fn failed(
        &self,
        st: &mut State,
        ne: usize,
        operation: &str,
        liid: Option<Liid>,
        error: &X1Failure,
        report: &mut SyncReport,
    ) {
        let name = self.ne_name(ne);
        warn!(
            ne = name.as_str(),
            operation, "{name}: {operation} failed: {error}"
        );
        set_known(&mut st.observed, ne, None);
        report.failed(name, operation, liid, error.to_string());
    }

    /// The name of NE `ne` (empty if there is none).
    fn ne_name(&self, ne: usize) -> String {
        self.inner
            .network
            .ne_name(ne)
            .map(str::to_owned)
            .unwrap_or_default()
    }

    /// Sends one request to NE `ne`, auditing the request and its outcome and counting it.
    async fn x1(
        &self,
        ne: usize,
        body: RequestBody,
        liid: Option<Liid>,
    ) -> Result<ResponseBody, X1Failure> {
        let name = self.ne_name(ne);
        let Some(client) = self.inner.clients.get(ne) else {
            return Err(X1Failure::NotSent(format!("no NE {ne}")));
        };
        let kind = body.message_type();
        let transaction = TransactionId::new_v4_from_random(random_bytes());
        let header = MessageHeader {
            admf_identifier: self.inner.settings.admf_identifier.clone(),
            ne_identifier: name.clone(),
            message_timestamp: wall_clock(),
            version: X1Version::CURRENT,
            x1_transaction_id: transaction,
        };
        let mut detail = json!({"ne": name, "type": kind.as_str(),
                                "transaction": transaction.to_string()});
        if let (Some(liid), Some(map)) = (liid, detail.as_object_mut()) {
            map.insert("liid".into(), Value::String(liid.to_string()));
        }
        if let Some(id) = subject_of(&body)
            && let Some(map) = detail.as_object_mut()
        {
            map.insert(id.0.into(), Value::String(id.1));
        }
        if let Err(e) = self.audit(AuditKind::X1Request, detail) {
            return Err(X1Failure::NotSent(e.to_string()));
        }
        debug!(ne = name.as_str(), request = kind.as_str(), %transaction, "X1 request");
        let request = X1Request::single(header, body);
        let result = match client.send(&request).await {
            Err(e) => Err(X1Failure::Transport(e.to_string())),
            Ok(response) => {
                let message = response
                    .messages
                    .iter()
                    .find(|m| m.header.x1_transaction_id == transaction)
                    .or_else(|| response.messages.first());
                match message {
                    None => Err(X1Failure::Unexpected("an empty response".into())),
                    Some(m) => match &m.body {
                        ResponseBody::Error(e) => Err(X1Failure::Refused {
                            code: e.error.code,
                            description: e.error.description.clone(),
                        }),
                        body => Ok(body.clone()),
                    },
                }
            }
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(X1Failure::Refused { .. }) => "error",
            Err(_) => "failed",
        };
        *self
            .inner
            .x1_counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((name.clone(), outcome))
            .or_default() += 1;
        let mut detail = json!({"ne": name, "type": kind.as_str(),
                                "transaction": transaction.to_string(), "outcome": outcome});
        if let (Err(e), Some(map)) = (&result, detail.as_object_mut()) {
            map.insert("error".into(), Value::String(e.to_string()));
        }
        if let Err(e) = self.audit(AuditKind::X1Response, detail) {
            error!("cannot audit the X1 response: {e}");
        }
        result
    }

    fn audit(&self, kind: AuditKind, detail: Value) -> Result<(), AuditError> {
        self.inner.audit.record(kind, detail)
    }
}

/// Sets what NE `ne` is known to have (`None`: not known).
fn set_known(observed: &mut Observed, ne: usize, contents: Option<NeContents>) {
    if let Some(slot) = observed.nes.get_mut(ne) {
        *slot = contents;
    }
}

fn known_mut(observed: &mut Observed, ne: usize) -> Option<&mut NeContents> {
    observed.nes.get_mut(ne).and_then(Option::as_mut)
}

/// The identifier an X1 request is about, for its audit entry.
fn subject_of(body: &RequestBody) -> Option<(&'static str, String)> {
    match body {
        RequestBody::ActivateTask(t) | RequestBody::ModifyTask(t) => {
            Some(("xid", t.xid.to_string()))
        }
        RequestBody::DeactivateTask(xid) => Some(("xid", xid.to_string())),
        RequestBody::CreateDestination(d) | RequestBody::ModifyDestination(d) => {
            Some(("did", d.did.to_string()))
        }
        RequestBody::RemoveDestination(did) => Some(("did", did.to_string())),
        _ => None,
    }
}

fn address_text(address: &DeliveryAddress) -> String {
    match address {
        DeliveryAddress::IpAddressPort { address, port } => {
            let (Port::Tcp(p) | Port::Udp(p)) = port;
            SocketAddr::new(*address, *p).to_string()
        }
        DeliveryAddress::E164Number(_) => "e164".into(),
        DeliveryAddress::Uri(u) => u.clone(),
    }
}

fn task_detail(ne: &str, xid: Xid, liid: Option<Liid>) -> Value {
    json!({"ne": ne, "xid": xid.to_string(), "liid": liid.map(|l| l.to_string())})
}

/// The audit detail of a warrant (the audit log may hold target identifiers).
fn warrant_detail(w: &Warrant) -> Value {
    json!({
        "liid": w.task.liid().to_string(),
        "xid": w.task.xid().to_string(),
        "scope": scope_to_text(w.task.scope()),
        "start": w.task.window().start().to_string(),
        "end": w.task.window().end().map(|e| e.to_string()),
        "targets": w.task.targets().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "agencies": w.task.destinations().iter().map(agency_name).collect::<Vec<_>>(),
        "state": w.state.as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The driver's futures can be spawned on a multi-threaded runtime.
    #[test]
    fn the_drivers_futures_are_send() {
        fn send<T: Send>(_: &T) {}
        fn check(admf: &Admf, now: Timestamp, shutdown: watch::Receiver<bool>) {
            send(&admf.sync(now));
            send(&admf.settle());
            send(&admf.clone().run(shutdown));
        }
        let _ = check;
    }

    #[test]
    fn settings_are_checked() {
        let ne = |name: &str| NeEndpoint {
            name: name.into(),
            x1: "127.0.0.1:1".parse().unwrap(),
            server_name: "localhost".into(),
        };
        let mut settings = AdmfSettings {
            admf_identifier: "admf".into(),
            mediator: ne("mdf"),
            mediator_x2x3: "127.0.0.1:2".parse().unwrap(),
            x2x3_did: DestinationId::new_v4_from_random([3; 16]),
            probes: vec![ne("poi-1")],
            timing: Timing {
                provision_lead: Duration::ZERO,
                deactivation_grace: Duration::ZERO,
                mediator_grace: Duration::ZERO,
            },
            sync_interval: Duration::from_secs(1),
            reconcile_interval: None,
            x1_timeout: Duration::from_secs(1),
        };
        settings.validate().unwrap();
        assert_eq!(
            settings.network().ne_name(1),
            Some("poi-1"),
            "the probes follow the mediator"
        );
        settings.probes.push(ne("mdf"));
        assert_eq!(
            settings.validate().unwrap_err().to_string(),
            "NE name \"mdf\" is used twice"
        );
        settings.probes.pop();
        settings.admf_identifier = "two  spaces".into();
        assert!(matches!(
            settings.validate(),
            Err(SettingsError::NotAToken { .. })
        ));
        settings.admf_identifier = "admf".into();
        settings.sync_interval = Duration::ZERO;
        assert_eq!(
            settings.validate().unwrap_err().to_string(),
            "sync_interval must be at least 1 ms"
        );
    }
}
