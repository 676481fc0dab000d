//! The administration function (ADMF): holds warrants in the [warrant store](crate::store)
//! and provisions the mediator and the probes over X1 (ETSI TS 103 221-1).
//!
//! [`Admf::sync`] is a reconciler: it compares what the network elements (NEs) should have —
//! a task for every active warrant, and for every pending warrant whose window has started —
//! with what it knows they have (read with `GetAllDetails` at start-up, after any failed
//! request to the NE and every [`AdmfConfig::reconcile_interval_ms`], and kept up to date
//! from every acknowledged request), and sends the X1 requests that close the gap.
//!
//! # Provisioning rules
//!
//! - **HI destinations at the mediator.** For each agency of a warrant: a destination with
//!   DID = the agency's id, `deliveryType` `X2Only`, address = its HI2 address as a `uri`
//!   `tls://ip:port` or `tcp://ip:port` after the agency's `tls` (the mediator connects so,
//!   or refuses TLS it is not configured for), friendly name
//!   `"<agency> HI2"`; and when the warrant delivers CC, a second one with DID =
//!   [`hi3_did`]`(agency id)`, `X3Only`, its HI3 address, `"<agency> HI3"`. Each is created
//!   once (`CreateDestination`; an answer that it exists already counts as done), changed with
//!   `ModifyDestination` when the agency's address changes, and removed
//!   (`RemoveDestination`) once no wanted warrant and no task at the mediator uses it.
//! - **Task at the mediator.** `ActivateTask` with the warrant's XID, targets, `deliveryType`
//!   from its scope, `listOfDIDs` = its HI destinations and one `MediationDetails` (LIID,
//!   `HI2Only` or `HI2andHI3`, `StartTime`/`EndTime` = the window, the same DIDs).
//! - **At each probe.** Once, `CreateDestination` of the mediator's X2/X3 listener
//!   ([`MediatorNe::x2x3_did`], `X2andX3`); then `ActivateTask` with the same XID, targets
//!   and delivery type, `listOfDIDs` = that destination and the same `MediationDetails` (the
//!   probe takes its validity window from it).
//! - **When.** A warrant's tasks are provisioned [`AdmfConfig::provision_lead_ms`] before
//!   its window starts and deactivated [`AdmfConfig::deactivation_grace_ms`] after it ends
//!   ([`disposition`], a pure decision of the warrant and the instant): the tasks carry the
//!   window, and the probe and the mediator enforce it by each packet's and record's own
//!   time, so X1 latency and the daemon's timer never move an edge.
//! - **Order.** Activation at the mediator first, then the probes (no X2/X3 arrives for an
//!   XID the mediator does not know); a warrant becomes active only when every NE has
//!   acknowledged. Deactivation (`DeactivateTask`) at the probes first, then at the mediator
//!   [`AdmfConfig::mediator_grace_ms`] later, so records already in flight still arrive. A
//!   changed warrant is sent as `ModifyTask`.
//! - **Never a stale task.** A task an NE has whose warrant is not wanted (ended, revoked,
//!   deleted, unknown) is deactivated; a wanted task an NE lacks (the NE restarted) is
//!   activated again.
//!
//! Every X1 request and its response (or failure) is written to the audit log
//! (`x1.request`, `x1.response`: NE, message type, transaction id, outcome — never the XML),
//! as is every warrant change (`warrant.created`, `warrant.updated`, `warrant.state`,
//! `warrant.revoked`) and every task and destination change per NE. Target identifiers appear
//! in the audit log and at debug level only, never in info or warn log lines.
//!
//! # Configuration
//!
//! ```toml
//! admf_identifier = "admf"
//! database = "admf.db"
//! audit_log = "admf-audit.log"
//! sync_interval_ms = 1000
//! mediator_grace_ms = 5000
//! provision_lead_ms = 60000
//! deactivation_grace_ms = 60000
//!
//! [tls]
//! cert = "pki/admf.pem"
//! key = "pki/admf.key"
//! ca = "pki/ca.pem"
//!
//! [[agency]]
//! name = "LEA-1"
//! id = "5f4b5d2c-2f0e-4a53-9d2e-0c6f7c1f9a01"
//! hi2 = "127.0.0.1:6001"
//! hi3 = "127.0.0.1:6002"
//!
//! [mediator]
//! name = "mediator"
//! x1 = "127.0.0.1:7001"
//! server_name = "mediator"
//! x2x3 = "127.0.0.1:7002"
//! x2x3_did = "2a0f8c36-8f6b-4d0e-8a38-4b6f0c2d1e77"
//!
//! [[probe]]
//! name = "probe"
//! x1 = "127.0.0.1:7003"
//! server_name = "probe"
//! ```
//!
//! # Several processes
//!
//! The daemon (`li-admf run`) and the command-line warrant commands share the SQLite store
//! and the audit log. Appends to the audit log are serialised between processes by a lock
//! file (`<audit_log>.lock`, held for the duration of one append; a lock older than 10 s is
//! considered left behind by a crashed process and removed), and a process re-reads the
//! chain's end when another one has appended, so the hash chain stays intact.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::fs::{self, OpenOptions};
use std::hash::{BuildHasher as _, Hasher as _};
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use li_core::{
    DeliveryAddress as CoreAddress, DestinationId, HandoverFormat, Liid, TargetIdentifier,
    TargetKind, Timestamp, ValidityWindow, Xid,
};
use li_handover::tls::{DevPki, TlsFiles, load_client_config};
use li_handover::x1::transport::{X1Client, X1ClientConfig};
use li_handover::x1::{
    DeliveryAddress, DeliveryType, DestinationDetails, MediationDeliveryType, MediationDetails,
    MessageHeader, Port, RequestBody, ResponseBody, TaskDetails, TransactionId, X1Request,
    X1Version,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::sync::watch;
use tokio_rustls::TlsConnector;
use tracing::{debug, error, info, warn};

use crate::cli::TlsFileConfig;
use crate::metrics::{MetricKind, MetricsError, Registry, Sample};
use crate::store::{Agency, Refusal, SqliteStore, Warrant, WarrantState, WarrantStore};
use li_handover::audit::{AuditKind, AuditLog};
use li_handover::x1::HiTransport;

/// The `actor` of every audit entry the ADMF writes.
const ACTOR: &str = "admf";

/// The names of the identities [`dev_certs`] issues, in order.
pub const DEV_IDENTITIES: [&str; 4] = ["admf", "probe", "mediator", "lemf"];

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// The ADMF's configuration file (TOML). Unknown keys are errors. Relative paths are relative
/// to the configuration file's directory.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AdmfConfig {
    /// `admf_identifier` (string, default `"admf"`): the X1 `admfIdentifier` in every request
    /// (an `xs:token`: no leading, trailing or doubled spaces).
    #[serde(default = "default_admf_identifier")]
    pub admf_identifier: String,
    /// `database` (path, default `"admf.db"`): the SQLite warrant store.
    #[serde(default = "default_database")]
    pub database: PathBuf,
    /// `audit_log` (path, default `"admf-audit.log"`): the hash-chained audit log.
    #[serde(default = "default_audit_log")]
    pub audit_log: PathBuf,
    /// `[tls]` (required): our X1 client certificate (`cert`), key (`key`) and the CA the
    /// NEs' certificates must chain to (`ca`).
    pub tls: TlsFileConfig,
    /// `metrics_listen` (socket address, optional, default none): where `li-admf run` serves
    /// Prometheus metrics (`GET /metrics`).
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// `sync_interval_ms` (integer, default 1000): the longest the daemon waits between two
    /// syncs (it also wakes at the next window start or end). At least 1.
    #[serde(default = "default_sync_interval_ms")]
    pub sync_interval_ms: u64,
    /// `mediator_grace_ms` (integer, default 5000): how long after the probes the mediator's
    /// task is deactivated, so records already in flight from the probes still arrive (the
    /// mediator enforces the window's end by record time anyway).
    #[serde(default = "default_mediator_grace_ms")]
    pub mediator_grace_ms: u64,
    /// `provision_lead_ms` (integer, default 60000): how long before a warrant's window
    /// starts its tasks are provisioned. The tasks carry the window, and the probe and the
    /// mediator enforce it by each packet's and record's own time, so the edges of the
    /// window are decided by packet time alone as long as X1 takes less than this.
    #[serde(default = "default_provision_lead_ms")]
    pub provision_lead_ms: u64,
    /// `deactivation_grace_ms` (integer, default 60000): how long after a warrant's window
    /// ends its tasks are deactivated (at the probes; the mediator's
    /// [`AdmfConfig::mediator_grace_ms`] later), so traffic captured before the end but
    /// handled after it is still delivered.
    #[serde(default = "default_deactivation_grace_ms")]
    pub deactivation_grace_ms: u64,
    /// `reconcile_interval_ms` (integer, default 60000): how often every NE's tasks and
    /// destinations are read back (`GetAllDetails`) to catch an NE that restarted; 0 reads
    /// them only at start-up and after a failed request.
    #[serde(default = "default_reconcile_interval_ms")]
    pub reconcile_interval_ms: u64,
    /// `x1_timeout_ms` (integer, default 10000): the connect timeout and the request timeout
    /// of every X1 request.
    #[serde(default = "default_x1_timeout_ms")]
    pub x1_timeout_ms: u64,
    /// `[[agency]]` (list, default empty): the agencies warrants can name.
    #[serde(default, rename = "agency")]
    pub agencies: Vec<AgencyConfig>,
    /// `[mediator]` (required): the mediation function.
    pub mediator: MediatorNe,
    /// `[[probe]]` (list, default empty): the probes (points of interception).
    #[serde(default, rename = "probe")]
    pub probes: Vec<ProbeNe>,
}

/// One `[[agency]]` of the configuration.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AgencyConfig {
    /// `name` (string, required): how warrants and operators name the agency (unique).
    pub name: String,
    /// `id` (UUID, required): the agency's HI2 destination id (DID) at the mediator; its HI3
    /// destination id is [`hi3_did`] of it.
    #[serde(deserialize_with = "from_str")]
    pub id: DestinationId,
    /// `hi2` (`"ip:port"`, required): where the mediator delivers IRI.
    pub hi2: SocketAddr,
    /// `hi3` (`"ip:port"`, optional): where the mediator delivers CC; required for warrants
    /// with scope `iri+cc`.
    #[serde(default)]
    pub hi3: Option<SocketAddr>,
    /// `tls` (bool, default true): whether the agency's HI links use TLS (recorded with the
    /// warrant).
    #[serde(default = "default_true")]
    pub tls: bool,
}

/// The `[mediator]` section.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MediatorNe {
    /// `name` (string, required): its X1 `neIdentifier`, and its name in logs and the audit.
    pub name: String,
    /// `x1` (`"ip:port"`, required): its X1 (HTTPS) listener.
    pub x1: SocketAddr,
    /// `server_name` (string, required): the name its X1 certificate must carry.
    pub server_name: String,
    /// `x2x3` (`"ip:port"`, required): its X2/X3 listener, given to the probes.
    pub x2x3: SocketAddr,
    /// `x2x3_did` (UUID, required): the DID of that X2/X3 destination at the probes.
    #[serde(deserialize_with = "from_str")]
    pub x2x3_did: DestinationId,
}

/// One `[[probe]]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProbeNe {
    /// `name` (string, required): its X1 `neIdentifier` (unique among the NEs).
    pub name: String,
    /// `x1` (`"ip:port"`, required): its X1 (HTTPS) listener.
    pub x1: SocketAddr,
    /// `server_name` (string, required): the name its X1 certificate must carry.
    pub server_name: String,
}

fn default_admf_identifier() -> String {
    "admf".to_owned()
}
fn default_database() -> PathBuf {
    PathBuf::from("admf.db")
}
fn default_audit_log() -> PathBuf {
    PathBuf::from("admf-audit.log")
}
const fn default_sync_interval_ms() -> u64 {
    1000
}
const fn default_mediator_grace_ms() -> u64 {
    5000
}
const fn default_provision_lead_ms() -> u64 {
    60_000
}
const fn default_deactivation_grace_ms() -> u64 {
    60_000
}
const fn default_reconcile_interval_ms() -> u64 {
    60_000
}
const fn default_x1_timeout_ms() -> u64 {
    10_000
}
const fn default_true() -> bool {
    true
}

fn from_str<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(serde::de::Error::custom)
}

impl AdmfConfig {
    /// Reads, parses and checks ([`AdmfConfig::validate`]) the configuration at `path`;
    /// returns it with the directory its relative paths are relative to.
    ///
    /// # Errors
    ///
    /// The file cannot be read or parsed, or breaks a rule of [`AdmfConfig::validate`]; the
    /// error names the file.
    pub fn load(path: &Path) -> anyhow::Result<(Self, PathBuf)> {
        let config: Self = crate::cli::load_toml(path)?;
        config
            .validate()
            .with_context(|| format!("invalid configuration {}", path.display()))?;
        Ok((config, crate::cli::config_dir(path)))
    }

    /// Checks what the types cannot: identifiers usable as X1 tokens, unique names and
    /// destination ids, positive intervals.
    ///
    /// # Errors
    ///
    /// The first rule broken.
    pub fn validate(&self) -> anyhow::Result<()> {
        check_token("admf_identifier", &self.admf_identifier)?;
        if self.sync_interval_ms == 0 {
            bail!("sync_interval_ms must be at least 1");
        }
        if self.x1_timeout_ms == 0 {
            bail!("x1_timeout_ms must be at least 1");
        }
        let mut names = HashSet::new();
        for name in std::iter::once(&self.mediator.name).chain(self.probes.iter().map(|p| &p.name))
        {
            check_token("NE name", name)?;
            if !names.insert(name.as_str()) {
                bail!("NE name {name:?} is used twice");
            }
        }
        let mut agency_names = HashSet::new();
        let mut dids = HashSet::from([self.mediator.x2x3_did]);
        for agency in &self.agencies {
            if agency.name.trim().is_empty() || agency.name.chars().any(char::is_control) {
                bail!(
                    "agency name {:?} is empty or has control characters",
                    agency.name
                );
            }
            if !agency_names.insert(agency.name.as_str()) {
                bail!("agency name {:?} is used twice", agency.name);
            }
            for did in [agency.id, hi3_did(agency.id)] {
                if !dids.insert(did) {
                    bail!("agency {}: destination id {did} is used twice", agency.name);
                }
            }
        }
        Ok(())
    }

    /// The agency called `name`, as recorded in a warrant (ETSI TS 102 232 default format).
    pub fn agency(&self, name: &str) -> Option<Agency> {
        self.agencies
            .iter()
            .find(|a| a.name == name)
            .map(|a| Agency {
                id: a.id,
                name: a.name.clone(),
                hi2: CoreAddress::new(a.hi2.ip().to_string(), a.hi2.port(), a.tls),
                hi3: a
                    .hi3
                    .map(|hi3| CoreAddress::new(hi3.ip().to_string(), hi3.port(), a.tls)),
                format: HandoverFormat::etsi_default(),
            })
    }
}

fn check_token(what: &str, value: &str) -> anyhow::Result<()> {
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if value.is_empty() || collapsed != value {
        bail!("{what} {value:?} must be non-empty without leading, trailing or doubled spaces");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Identifiers, time, randomness
// ---------------------------------------------------------------------------------------------

/// The DID of an agency's HI3 destination at the mediator, derived from its HI2 DID `agency`
/// (the agency's configured `id`) so that every component computes the same one:
/// SHA-256 of the 16 octets of `agency` followed by the ASCII bytes `HI3`; its first 16
/// octets, with the UUID version nibble set to 8 (RFC 9562 clause 5.8, "custom") and the
/// variant bits to `10`.
pub fn hi3_did(agency: DestinationId) -> DestinationId {
    let digest = Sha256::new()
        .chain_update(agency.as_bytes())
        .chain_update(b"HI3")
        .finalize();
    let mut bytes = [0u8; 16];
    for (out, byte) in bytes.iter_mut().zip(digest.iter()) {
        *out = *byte;
    }
    if let Some(b) = bytes.get_mut(6) {
        *b = (*b & 0x0f) | 0x80;
    }
    if let Some(b) = bytes.get_mut(8) {
        *b = (*b & 0x3f) | 0x80;
    }
    DestinationId::from_bytes(bytes)
}

/// The target kinds a warrant may name, as written before the `:` (from
/// [`TargetKind::ALL`], the one list `li-core` parses), e.g. `ipv4:, ipv6:, ipv4-prefix:, ...`.
pub fn target_kinds() -> String {
    TargetKind::ALL
        .iter()
        .map(|k| format!("{k}:"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The help of `li-admf warrant add --target`: the syntax and every valid kind.
pub fn target_help() -> String {
    format!(
        "A target, kind:value (e.g. ipv4:192.0.2.1, ipv4-prefix:192.0.2.0/24, username:alice); \
         repeatable. Kinds: {} (sip: and tel: are refused by the probe)",
        target_kinds()
    )
}

/// Parses the `position`-th (from 1) `--target` of a warrant. The error lists the valid
/// kinds; it does not repeat the value, which may be a target identifier.
///
/// # Errors
///
/// The text is not `kind:value` of a known kind with a valid value.
pub fn parse_target(position: usize, text: &str) -> anyhow::Result<TargetIdentifier> {
    text.parse::<TargetIdentifier>().map_err(|e| {
        anyhow::anyhow!(
            "--target #{position}: not a valid kind:value target ({e}); valid kinds: {}",
            target_kinds()
        )
    })
}

/// Refuses a warrant window that is entirely in the past at `now` (it ends at or before
/// `now`: nothing would ever be intercepted), unless `allow_past` (replaying a recorded
/// capture against its own time).
///
/// # Errors
///
/// The window ended at or before `now` and `allow_past` is false; the error names the end,
/// `now` and the flag.
pub fn check_window_not_past(
    window: &ValidityWindow,
    now: Timestamp,
    allow_past: bool,
) -> anyhow::Result<()> {
    match window.end() {
        Some(end) if end <= now && !allow_past => bail!(
            "the window ends at {end}, which is not after now ({now}): live traffic would \
             never be intercepted; pass --allow-past to enter it anyway (to replay a recorded \
             capture against its own time)"
        ),
        _ => Ok(()),
    }
}

/// The current time (the epoch if the system clock is before it).
pub fn now() -> Timestamp {
    crate::cli::now()
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

/// Writes a development PKI into `out_dir` with [`DevPki::write_to`]: `ca.pem` (the CA
/// certificate; its key is never written) and, for each of [`DEV_IDENTITIES`] (`admf`,
/// `probe`, `mediator`, `lemf`), `<name>.pem` (certificate, common name `<name>`, DNS names
/// `<name>` and `localhost`, IP addresses 127.0.0.1 and ::1, valid one year, usable as client
/// and server) and `<name>.key` (PKCS#8 key, mode 0600). Returns the files per identity.
///
/// # Errors
///
/// The CA or a certificate cannot be made, or a file cannot be written.
pub fn dev_certs(out_dir: &Path) -> anyhow::Result<Vec<TlsFiles>> {
    let pki = DevPki::new("li-suite development CA").context("cannot create the dev CA")?;
    pki.write_to(out_dir, &DEV_IDENTITIES)
        .with_context(|| format!("cannot write the dev PKI to {}", out_dir.display()))
}

// ---------------------------------------------------------------------------------------------
// The decision: what a warrant needs at an instant
// ---------------------------------------------------------------------------------------------

/// What a warrant needs at an instant ([`disposition`]): the pure decision each sync acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Not yet: its tasks are provisioned from `from` (its window's start minus the lead).
    Wait {
        /// When provisioning starts.
        from: Timestamp,
    },
    /// Its tasks must be on every NE: from the lead before its window starts to the grace
    /// after it ends.
    Provision,
    /// Its window and the grace after it are over: it ends, and its tasks are deactivated.
    Retire,
    /// Ended or revoked: it needs nothing.
    Done,
}

/// When a pending or active warrant's tasks go: `deactivation_grace` after its window's
/// end, or after it was entered for a window that had ended already (a replay of a
/// recording, `--allow-past`: its tasks then stay that long for the replay); never for an
/// open window.
pub fn retire_at(warrant: &Warrant, deactivation_grace: Duration) -> Option<Timestamp> {
    let end = warrant.window.end()?;
    let base = end.max(warrant.created);
    Some(
        base.checked_add(deactivation_grace)
            .unwrap_or(Timestamp::MAX),
    )
}

/// What `warrant` needs at `now`, given the provisioning lead and the deactivation grace
/// ([`AdmfConfig::provision_lead_ms`], [`AdmfConfig::deactivation_grace_ms`]). Pure: the
/// edges of the window itself are the probe's and the mediator's, by packet time; the ADMF
/// only has the tasks there early and keeps them a little longer.
pub fn disposition(
    warrant: &Warrant,
    now: Timestamp,
    lead: Duration,
    deactivation_grace: Duration,
) -> Disposition {
    if !matches!(warrant.state, WarrantState::Pending | WarrantState::Active) {
        return Disposition::Done;
    }
    if retire_at(warrant, deactivation_grace).is_some_and(|at| now >= at) {
        return Disposition::Retire;
    }
    let from = warrant
        .window
        .start()
        .checked_sub(lead)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    if now >= from {
        Disposition::Provision
    } else {
        Disposition::Wait { from }
    }
}

/// The earliest instant after `now` at which the [`disposition`] of one of `warrants`
/// changes: when the daemon must sync next at the latest.
pub fn next_edge<'w>(
    warrants: impl IntoIterator<Item = &'w Warrant>,
    now: Timestamp,
    lead: Duration,
    deactivation_grace: Duration,
) -> Option<Timestamp> {
    warrants
        .into_iter()
        .filter(|w| matches!(w.state, WarrantState::Pending | WarrantState::Active))
        .flat_map(|w| {
            let from = match disposition(w, now, lead, deactivation_grace) {
                Disposition::Wait { from } => Some(from),
                _ => None,
            };
            [from, retire_at(w, deactivation_grace)]
        })
        .flatten()
        .filter(|t| *t > now)
        .min()
}

// ---------------------------------------------------------------------------------------------
// Sync report
// ---------------------------------------------------------------------------------------------

/// What one [`Admf::sync`] (or a call that syncs) did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Warrants that became active (every NE acknowledged).
    pub activated: Vec<Liid>,
    /// Warrants whose window ended (now [`WarrantState::Ended`]).
    pub ended: Vec<Liid>,
    /// Warrants revoked by the call.
    pub revoked: Vec<Liid>,
    /// Tasks activated on an NE.
    pub tasks_activated: Vec<TaskChange>,
    /// Tasks modified on an NE.
    pub tasks_modified: Vec<TaskChange>,
    /// Tasks deactivated on an NE.
    pub tasks_deactivated: Vec<TaskChange>,
    /// Destinations created on an NE: (NE, DID).
    pub destinations_created: Vec<(String, DestinationId)>,
    /// Destinations removed from an NE: (NE, DID).
    pub destinations_removed: Vec<(String, DestinationId)>,
    /// NEs whose tasks and destinations were read back (`GetAllDetails`).
    pub reconciled: Vec<String>,
    /// What failed (to be retried at the next sync).
    pub failures: Vec<SyncFailure>,
}

/// A task change on one NE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskChange {
    /// The NE.
    pub ne: String,
    /// The task.
    pub xid: Xid,
    /// The warrant, when the store knows the XID.
    pub liid: Option<Liid>,
}

/// Something that failed during a sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncFailure {
    /// The NE concerned (`-` when none).
    pub ne: String,
    /// What was attempted (an X1 message type, or `plan`).
    pub operation: String,
    /// The warrant concerned, if any.
    pub liid: Option<Liid>,
    /// Why.
    pub error: String,
}

impl SyncReport {
    /// Adds a failure of `operation` on NE `ne`.
    fn failed(&mut self, ne: String, operation: &str, liid: Option<Liid>, error: String) {
        self.failures.push(SyncFailure {
            ne,
            operation: operation.to_owned(),
            liid,
            error,
        });
    }

    /// Whether nothing happened and nothing failed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn merge(&mut self, other: Self) {
        self.activated.extend(other.activated);
        self.ended.extend(other.ended);
        self.revoked.extend(other.revoked);
        self.tasks_activated.extend(other.tasks_activated);
        self.tasks_modified.extend(other.tasks_modified);
        self.tasks_deactivated.extend(other.tasks_deactivated);
        self.destinations_created.extend(other.destinations_created);
        self.destinations_removed.extend(other.destinations_removed);
        self.reconciled.extend(other.reconciled);
        self.failures.extend(other.failures);
    }
}

impl fmt::Display for TaskChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.liid {
            Some(liid) => write!(f, "{} {liid} (XID {})", self.ne, self.xid),
            None => write!(f, "{} XID {}", self.ne, self.xid),
        }
    }
}

impl fmt::Display for SyncReport {
    /// One line per section that is not empty; `nothing to do` when all are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn line<T: fmt::Display>(
            f: &mut fmt::Formatter<'_>,
            title: &str,
            items: &[T],
        ) -> fmt::Result {
            if items.is_empty() {
                return Ok(());
            }
            let joined = items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(f, "{title}: {joined}")
        }
        if self.is_empty() {
            return writeln!(f, "nothing to do");
        }
        let dests = |v: &[(String, DestinationId)]| {
            v.iter()
                .map(|(ne, did)| format!("{ne} {did}"))
                .collect::<Vec<_>>()
        };
        line(f, "NEs read back", &self.reconciled)?;
        line(f, "warrants activated", &self.activated)?;
        line(f, "warrants ended", &self.ended)?;
        line(f, "warrants revoked", &self.revoked)?;
        line(
            f,
            "destinations created",
            &dests(&self.destinations_created),
        )?;
        line(f, "tasks activated", &self.tasks_activated)?;
        line(f, "tasks modified", &self.tasks_modified)?;
        line(f, "tasks deactivated", &self.tasks_deactivated)?;
        line(
            f,
            "destinations removed",
            &dests(&self.destinations_removed),
        )?;
        for failure in &self.failures {
            let liid = failure
                .liid
                .map(|l| format!(" warrant {l}"))
                .unwrap_or_default();
            writeln!(
                f,
                "FAILED {} at {}{liid}: {}",
                failure.operation, failure.ne, failure.error
            )?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The ADMF
// ---------------------------------------------------------------------------------------------

/// The administration function. Cheap to clone (shared state); every provisioning operation
/// ([`Admf::sync`], [`Admf::revoke`], [`Admf::update_warrant`]) runs one at a time.
#[derive(Clone)]
pub struct Admf {
    inner: Arc<Inner>,
}

impl fmt::Debug for Admf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admf")
            .field("admf_identifier", &self.inner.config.admf_identifier)
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: AdmfConfig,
    store: Arc<SqliteStore>,
    audit: SharedAudit,
    /// The mediator first, then the probes in configuration order.
    nes: Vec<Ne>,
    state: tokio::sync::Mutex<State>,
    x1_counts: Arc<Mutex<BTreeMap<(String, &'static str), u64>>>,
}

struct Ne {
    name: String,
    client: X1Client,
}

/// Index of the mediator in `Inner::nes` and `State::nes`.
const MEDIATOR: usize = 0;

/// The longest wait between two read-back attempts of an NE that fails.
const MAX_READ_BACKOFF: Duration = Duration::from_secs(30);

/// The longest wait before a refused task is offered to its NE again (unchanged).
const MAX_REFUSAL_BACKOFF: Duration = Duration::from_secs(300);

struct State {
    nes: Vec<NeView>,
    /// When the mediator's task of an XID no longer wanted may be deactivated.
    mediator_release: HashMap<Xid, Timestamp>,
    /// Tasks an NE refused, by (NE index, XID).
    refused: HashMap<(usize, Xid), RefusedTask>,
}

/// A task an NE refused: not offered again, unchanged, before `retry_at`.
struct RefusedTask {
    /// The fingerprint of the refused task: a changed warrant is offered at once.
    fingerprint: u64,
    reason: String,
    attempts: u32,
    retry_at: Timestamp,
}

/// What the ADMF knows an NE has.
#[derive(Default)]
struct NeView {
    /// `false` until read back, and again after a failed request: nothing is sent to the NE
    /// but `GetAllDetails` until it is read back.
    known: bool,
    last_read: Option<Timestamp>,
    /// Consecutive failed read-backs, and when the next one may be tried: an NE that is
    /// down is asked again after the sync interval, doubling up to [`MAX_READ_BACKOFF`],
    /// so that it does not flood the audit log.
    failed_reads: u32,
    next_read: Option<Timestamp>,
    tasks: HashMap<Xid, KnownTask>,
    destinations: HashMap<DestinationId, u64>,
}

struct KnownTask {
    fingerprint: u64,
    /// Every DID the task uses (task level and mediation details).
    dids: Vec<DestinationId>,
}

/// What the NEs should have for one warrant.
struct Plan {
    hi_destinations: Vec<DestinationDetails>,
    mediator_task: TaskDetails,
    probe_destination: DestinationDetails,
    probe_task: TaskDetails,
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
    /// The NE says the object is not there (deactivating or removing it is then done).
    fn says_absent(&self) -> bool {
        match self {
            Self::Refused { description, .. } => {
                let d = description.to_ascii_lowercase();
                d.contains("does not exist") || d.contains("not found") || d.contains("no such")
            }
            _ => false,
        }
    }

    fn says_exists(&self) -> bool {
        match self {
            Self::Refused { description, .. } => {
                let d = description.to_ascii_lowercase();
                d.contains("exists already") || d.contains("already exists")
            }
            _ => false,
        }
    }
}

impl Admf {
    /// Opens the warrant store and the audit log named by `config` (relative paths relative
    /// to `base_dir`), loads the X1 client certificate and builds a client per NE. Nothing is
    /// sent until the first [`Admf::sync`], which first reads back every NE.
    ///
    /// # Errors
    ///
    /// An invalid configuration, or a store, audit log or TLS file that cannot be opened;
    /// the error names the file.
    pub fn open(config: &AdmfConfig, base_dir: &Path) -> anyhow::Result<Self> {
        config.validate()?;
        let database = base_dir.join(&config.database);
        let store = SqliteStore::open(&database)
            .with_context(|| format!("cannot open the warrant store {}", database.display()))?;
        let audit = SharedAudit::open(base_dir.join(&config.audit_log))?;
        let files = config.tls.resolve(base_dir);
        let tls = load_client_config(&files).with_context(|| {
            format!(
                "cannot load the X1 client TLS files ({}, {}, {})",
                files.cert.display(),
                files.key.display(),
                files.ca.display()
            )
        })?;
        let connector = TlsConnector::from(tls);
        let timeout = Duration::from_millis(config.x1_timeout_ms);
        let client_config = X1ClientConfig {
            connect_timeout: timeout,
            request_timeout: timeout,
            ..X1ClientConfig::default()
        };
        let client = |addr: SocketAddr, server_name: &str| {
            X1Client::new(connector.clone(), addr, server_name).with_config(client_config.clone())
        };
        let mut nes = vec![Ne {
            name: config.mediator.name.clone(),
            client: client(config.mediator.x1, &config.mediator.server_name),
        }];
        nes.extend(config.probes.iter().map(|p| Ne {
            name: p.name.clone(),
            client: client(p.x1, &p.server_name),
        }));
        let state = State {
            nes: nes.iter().map(|_| NeView::default()).collect(),
            mediator_release: HashMap::new(),
            refused: HashMap::new(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config: config.clone(),
                store: Arc::new(store),
                audit,
                nes,
                state: tokio::sync::Mutex::new(state),
                x1_counts: Arc::default(),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AdmfConfig {
        &self.inner.config
    }

    /// The warrant store.
    pub fn store(&self) -> &SqliteStore {
        &self.inner.store
    }

    /// Enters a new warrant (pending; the next sync at or after its start activates it) and
    /// audits `warrant.created`.
    ///
    /// # Errors
    ///
    /// The store refuses it (invalid, duplicate LIID or XID), or the audit log cannot be
    /// written.
    pub fn create_warrant(&self, warrant: &Warrant) -> anyhow::Result<()> {
        self.inner
            .store
            .create(warrant)
            .with_context(|| format!("cannot create warrant {}", warrant.liid))?;
        info!(liid = %warrant.liid, xid = %warrant.xid, "warrant {} created", warrant.liid);
        self.audit(AuditKind::WarrantCreated, warrant_detail(warrant))
    }

    /// Replaces a warrant's targets, scope, window and agencies, audits `warrant.updated`,
    /// and syncs at once: an active warrant's tasks are modified (`ModifyTask`) on every NE.
    ///
    /// # Errors
    ///
    /// The store refuses the update, or the audit log cannot be written.
    pub async fn update_warrant(&self, warrant: &Warrant) -> anyhow::Result<SyncReport> {
        let stored = self
            .inner
            .store
            .update(warrant)
            .with_context(|| format!("cannot update warrant {}", warrant.liid))?;
        info!(liid = %stored.liid, "warrant {} updated", stored.liid);
        self.audit(AuditKind::WarrantUpdated, warrant_detail(&stored))?;
        self.sync(now()).await
    }

    /// Revokes a warrant (pending or active): records it as revoked, audits
    /// `warrant.revoked`, and syncs at once, which deactivates its task at the probes; the
    /// mediator's follows [`AdmfConfig::mediator_grace_ms`] later (at a later sync, or
    /// [`Admf::settle`]).
    ///
    /// # Errors
    ///
    /// Unknown LIID, a warrant already ended or revoked, or the audit log cannot be written.
    pub async fn revoke(&self, liid: &Liid) -> anyhow::Result<SyncReport> {
        let at = now();
        let warrant = self
            .inner
            .store
            .set_state(liid, WarrantState::Revoked, at)
            .with_context(|| format!("cannot revoke warrant {liid}"))?;
        info!(%liid, "warrant {liid} revoked");
        self.audit(
            AuditKind::WarrantRevoked,
            json!({"liid": liid.to_string(), "xid": warrant.xid.to_string(), "state": "revoked"}),
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
        for view in &mut self.inner.state.lock().await.nes {
            view.known = false;
        }
    }

    /// Brings the NEs in line with the warrant store at instant `now`:
    ///
    /// 1. reads back every NE not known yet (start-up, after a failure, periodically);
    /// 2. marks warrants whose window ended ([`AdmfConfig::deactivation_grace_ms`] ago) as
    ///    ended;
    /// 3. deactivates, at the probes, tasks whose warrant is not wanted (its [`disposition`]
    ///    at `now` is not [`Disposition::Provision`]: from
    ///    [`AdmfConfig::provision_lead_ms`] before its window to the grace after it), and at
    ///    the mediator once no probe has them and [`AdmfConfig::mediator_grace_ms`] has
    ///    passed;
    /// 4. creates missing destinations and activates (or modifies) tasks of wanted warrants,
    ///    mediator first, and marks a pending warrant active once every NE has acknowledged;
    /// 5. removes HI destinations no wanted warrant and no task at the mediator uses.
    ///
    /// X1 failures are reported in [`SyncReport::failures`], audited, and retried at the next
    /// sync (a warrant that could not be activated everywhere stays pending). A task an NE
    /// refuses (`ErrorResponse` to `ActivateTask` or `ModifyTask`) is that warrant's alone:
    /// recorded with it ([`SqliteStore::refusals`], audited once as `warrant.refused`), asked
    /// again when the warrant changes or after a back-off (the sync interval, doubling up to
    /// 5 minutes), while every other warrant is provisioned on that NE as usual.
    ///
    /// # Errors
    ///
    /// The warrant store or the audit log failed.
    pub async fn sync(&self, now: Timestamp) -> anyhow::Result<SyncReport> {
        Ok(self.sync_and_next_edge(now).await?.0)
    }

    /// [`Admf::sync`], and the [`next_edge`] after `now` of the warrants it synced (read
    /// once from the store, with the ones it ended as ended): when the daemon must sync next
    /// at the latest.
    async fn sync_and_next_edge(
        &self,
        now: Timestamp,
    ) -> anyhow::Result<(SyncReport, Option<Timestamp>)> {
        let mut st = self.inner.state.lock().await;
        let mut report = SyncReport::default();
        self.read_back(&mut st, now, &mut report).await;

        let store = &self.inner.store;
        let (lead, deactivation_grace) = self.edges();
        let mut warrants = store.list().context("cannot list warrants")?;
        for warrant in &mut warrants {
            if disposition(warrant, now, lead, deactivation_grace) != Disposition::Retire {
                continue;
            }
            let ended = store
                .set_state(&warrant.liid, WarrantState::Ended, now)
                .with_context(|| format!("cannot end warrant {}", warrant.liid))?;
            info!(liid = %ended.liid, "warrant {} ended (window over)", ended.liid);
            self.audit(
                AuditKind::WarrantStateChanged,
                json!({"liid": ended.liid.to_string(), "xid": ended.xid.to_string(),
                       "from": warrant.state.as_str(), "state": "ended"}),
            )?;
            report.ended.push(ended.liid);
            *warrant = ended;
        }

        let liid_of: HashMap<Xid, Liid> = warrants.iter().map(|w| (w.xid, w.liid)).collect();
        let wanted: Vec<&Warrant> = warrants
            .iter()
            .filter(|w| disposition(w, now, lead, deactivation_grace) == Disposition::Provision)
            .collect();
        let wanted_xids: HashSet<Xid> = wanted.iter().map(|w| w.xid).collect();

        self.remove_stale_tasks(&mut st, now, &wanted_xids, &liid_of, &mut report)
            .await?;

        st.refused.retain(|(_, xid), _| wanted_xids.contains(xid));
        let mut used_dids = HashSet::new();
        for warrant in &wanted {
            self.provision(&mut st, warrant, now, &mut used_dids, &mut report)
                .await?;
        }

        self.remove_unused_destinations(&mut st, &used_dids, &mut report)
            .await?;
        drop(st);
        let next = next_edge(&warrants, now, lead, deactivation_grace);
        Ok((report, next))
    }

    /// Runs [`Admf::sync`] until no mediator deactivation waits for its grace period (or
    /// the grace period plus 2 s have passed), sleeping in between; returns what was done.
    /// For one-shot commands, which must not exit with a deactivation pending.
    ///
    /// # Errors
    ///
    /// As [`Admf::sync`].
    pub async fn settle(&self) -> anyhow::Result<SyncReport> {
        let grace = Duration::from_millis(self.inner.config.mediator_grace_ms);
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
            let wait = next.duration_since(now()).unwrap_or(Duration::ZERO);
            tokio::time::sleep(wait.min(grace).max(Duration::from_millis(10))).await;
            report.merge(self.sync(now()).await?);
        }
    }

    /// The daemon: syncs, then sleeps until the next window start or end, the next pending
    /// mediator deactivation or [`AdmfConfig::sync_interval_ms`], whichever is first; until
    /// `shutdown` turns true. Then settles pending mediator deactivations ([`Admf::settle`]).
    ///
    /// # Errors
    ///
    /// Never for X1 or store failures (logged and retried); only when settling fails.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let interval = Duration::from_millis(self.inner.config.sync_interval_ms);
        info!(
            nes = self.inner.nes.len(),
            "ADMF {} running", self.inner.config.admf_identifier
        );
        let mut last_report = SyncReport::default();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let next_change = match self.sync_and_next_edge(now()).await {
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
                    error!("sync failed: {e:#}");
                    None
                }
            };
            let mut wait = interval;
            let next_release = self.next_release().await;
            for next in [next_change, next_release].into_iter().flatten() {
                let until = next.duration_since(now()).unwrap_or(Duration::ZERO);
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

    /// Registers the ADMF's metrics: `li_admf_warrants{state}` (gauge, warrants per state,
    /// read from the store at each scrape) and `li_admf_x1_requests_total{ne,outcome}`
    /// (counter; outcome `ok`, `error` for an `ErrorResponse`, `failed` for a transport
    /// failure).
    ///
    /// # Errors
    ///
    /// A name is registered already.
    pub fn register_metrics(&self, registry: &Registry) -> Result<(), MetricsError> {
        let store = Arc::clone(&self.inner.store);
        registry.collector(
            "li_admf_warrants",
            "Warrants in the store, per lifecycle state.",
            MetricKind::Gauge,
            &["state"],
            move || {
                let mut counts: BTreeMap<&str, u64> = [
                    WarrantState::Pending,
                    WarrantState::Active,
                    WarrantState::Ended,
                    WarrantState::Revoked,
                ]
                .iter()
                .map(|s| (s.as_str(), 0))
                .collect();
                match store.list() {
                    Ok(warrants) => {
                        for w in warrants {
                            *counts.entry(w.state.as_str()).or_default() += 1;
                        }
                    }
                    Err(e) => {
                        warn!("metrics: cannot list warrants: {e}");
                        return Vec::new();
                    }
                }
                counts
                    .into_iter()
                    .map(|(state, n)| Sample {
                        labels: vec![state.to_owned()],
                        value: n as f64,
                    })
                    .collect()
            },
        )?;
        let counts = Arc::clone(&self.inner.x1_counts);
        registry.collector(
            "li_admf_x1_requests_total",
            "X1 requests sent, per NE and outcome (ok, error, failed).",
            MetricKind::Counter,
            &["ne", "outcome"],
            move || {
                counts
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .iter()
                    .map(|((ne, outcome), n)| Sample {
                        labels: vec![ne.clone(), (*outcome).to_owned()],
                        value: *n as f64,
                    })
                    .collect()
            },
        )
    }

    // -----------------------------------------------------------------------------------------
    // Steps of a sync
    // -----------------------------------------------------------------------------------------

    /// The provisioning lead and the deactivation grace.
    fn edges(&self) -> (Duration, Duration) {
        let c = &self.inner.config;
        (
            Duration::from_millis(c.provision_lead_ms),
            Duration::from_millis(c.deactivation_grace_ms),
        )
    }

    async fn next_release(&self) -> Option<Timestamp> {
        let st = self.inner.state.lock().await;
        st.mediator_release.values().min().copied()
    }

    /// Step 1: `GetAllDetails` from every NE not known, or read longer ago than the
    /// reconcile interval.
    async fn read_back(&self, st: &mut State, now: Timestamp, report: &mut SyncReport) {
        let every = self.inner.config.reconcile_interval_ms;
        for (index, ne) in self.inner.nes.iter().enumerate() {
            let Some(view) = st.nes.get_mut(index) else {
                continue;
            };
            let periodic = every > 0
                && view.last_read.is_none_or(|last| {
                    last.checked_add(Duration::from_millis(every))
                        .is_none_or(|due| now >= due)
                });
            if view.known && !periodic {
                continue;
            }
            if !view.known && view.next_read.is_some_and(|next| now < next) {
                continue;
            }
            match self.x1(ne, RequestBody::GetAllDetails, None).await {
                Ok(ResponseBody::GetAllDetails {
                    tasks,
                    destinations,
                    ..
                }) => {
                    view.tasks = tasks
                        .iter()
                        .map(|t| {
                            let details = &t.details;
                            (
                                details.xid,
                                KnownTask {
                                    fingerprint: fingerprint(details),
                                    dids: task_dids(details),
                                },
                            )
                        })
                        .collect();
                    view.destinations = destinations
                        .iter()
                        .map(|d| (d.details.did, fingerprint(&d.details)))
                        .collect();
                    view.known = true;
                    view.last_read = Some(now);
                    view.failed_reads = 0;
                    view.next_read = None;
                    info!(
                        ne = ne.name.as_str(),
                        tasks = view.tasks.len(),
                        destinations = view.destinations.len(),
                        "{}: read back {} task(s), {} destination(s)",
                        ne.name,
                        view.tasks.len(),
                        view.destinations.len()
                    );
                    report.reconciled.push(ne.name.clone());
                }
                Ok(other) => {
                    let error = format!("unexpected response {}", other.xsi_type());
                    self.read_back_failed(view, ne, now, error, report);
                }
                Err(e) => self.read_back_failed(view, ne, now, e.to_string(), report),
            }
        }
    }

    fn read_back_failed(
        &self,
        view: &mut NeView,
        ne: &Ne,
        now: Timestamp,
        error: String,
        report: &mut SyncReport,
    ) {
        view.known = false;
        view.failed_reads = view.failed_reads.saturating_add(1);
        let base = Duration::from_millis(self.inner.config.sync_interval_ms);
        let factor = 1u32 << view.failed_reads.saturating_sub(1).min(16);
        let delay = base.saturating_mul(factor).min(MAX_READ_BACKOFF);
        view.next_read = now.checked_add(delay);
        warn!(
            ne = ne.name.as_str(),
            "{}: cannot read back tasks and destinations (next attempt in {} ms): {error}",
            ne.name,
            delay.as_millis()
        );
        report.failures.push(SyncFailure {
            ne: ne.name.clone(),
            operation: "GetAllDetails".into(),
            liid: None,
            error,
        });
    }

    /// Step 3: deactivate tasks not wanted, probes first, the mediator after the grace.
    async fn remove_stale_tasks(
        &self,
        st: &mut State,
        now: Timestamp,
        wanted: &HashSet<Xid>,
        liid_of: &HashMap<Xid, Liid>,
        report: &mut SyncReport,
    ) -> anyhow::Result<()> {
        for index in 1..self.inner.nes.len() {
            let stale: BTreeSet<Xid> = match st.nes.get(index) {
                Some(view) if view.known => view
                    .tasks
                    .keys()
                    .filter(|xid| !wanted.contains(xid))
                    .copied()
                    .collect(),
                _ => continue,
            };
            for xid in stale {
                self.deactivate(st, index, xid, liid_of.get(&xid).copied(), report)
                    .await?;
            }
        }

        let grace = Duration::from_millis(self.inner.config.mediator_grace_ms);
        let mediator_known = st.nes.get(MEDIATOR).is_some_and(|v| v.known);
        let at_mediator: BTreeSet<Xid> = st
            .nes
            .get(MEDIATOR)
            .map(|v| v.tasks.keys().copied().collect())
            .unwrap_or_default();
        st.mediator_release
            .retain(|xid, _| !wanted.contains(xid) && at_mediator.contains(xid));
        if !mediator_known {
            return Ok(());
        }
        for xid in at_mediator {
            if wanted.contains(&xid) {
                continue;
            }
            let held_by_probe = st
                .nes
                .iter()
                .skip(1)
                .any(|v| v.known && v.tasks.contains_key(&xid));
            if held_by_probe {
                continue;
            }
            let release = *st
                .mediator_release
                .entry(xid)
                .or_insert_with(|| now.checked_add(grace).unwrap_or(now));
            if now >= release
                && self
                    .deactivate(st, MEDIATOR, xid, liid_of.get(&xid).copied(), report)
                    .await?
            {
                st.mediator_release.remove(&xid);
            }
        }
        Ok(())
    }

    /// `DeactivateTask` of `xid` at NE `index`; `Ok(true)` when acknowledged.
    async fn deactivate(
        &self,
        st: &mut State,
        index: usize,
        xid: Xid,
        liid: Option<Liid>,
        report: &mut SyncReport,
    ) -> anyhow::Result<bool> {
        let Some(ne) = self.inner.nes.get(index) else {
            return Ok(false);
        };
        match self.x1(ne, RequestBody::DeactivateTask(xid), liid).await {
            Err(e) if !e.says_absent() => {
                self.failed(st, index, "DeactivateTask", liid, &e, report);
                Ok(false)
            }
            // done, or the NE does not have it (any more)
            _ => {
                if let Some(view) = st.nes.get_mut(index) {
                    view.tasks.remove(&xid);
                }
                info!(ne = ne.name.as_str(), %xid, "{}: task {xid} deactivated", ne.name);
                self.audit(AuditKind::TaskDeactivated, task_detail(&ne.name, xid, liid))?;
                report.tasks_deactivated.push(TaskChange {
                    ne: ne.name.clone(),
                    xid,
                    liid,
                });
                Ok(true)
            }
        }
    }

    /// Step 4 for one wanted warrant.
    async fn provision(
        &self,
        st: &mut State,
        warrant: &Warrant,
        now: Timestamp,
        used_dids: &mut HashSet<DestinationId>,
        report: &mut SyncReport,
    ) -> anyhow::Result<()> {
        let plan = match self.plan(warrant) {
            Ok(plan) => plan,
            Err(e) => {
                report.failures.push(SyncFailure {
                    ne: "-".into(),
                    operation: "plan".into(),
                    liid: Some(warrant.liid),
                    error: format!("{e:#}"),
                });
                return Ok(());
            }
        };
        used_dids.extend(plan.hi_destinations.iter().map(|d| d.did));
        let mut complete = self
            .ensure(
                st,
                now,
                MEDIATOR,
                (&plan.hi_destinations, &plan.mediator_task),
                warrant,
                report,
            )
            .await?;
        if complete {
            for index in 1..self.inner.nes.len() {
                let ok = self
                    .ensure(
                        st,
                        now,
                        index,
                        (
                            std::slice::from_ref(&plan.probe_destination),
                            &plan.probe_task,
                        ),
                        warrant,
                        report,
                    )
                    .await?;
                complete &= ok;
            }
        }
        if complete && warrant.state == WarrantState::Pending {
            self.inner
                .store
                .set_state(&warrant.liid, WarrantState::Active, now)
                .with_context(|| format!("cannot activate warrant {}", warrant.liid))?;
            info!(liid = %warrant.liid, "warrant {} active on every NE", warrant.liid);
            self.audit(
                AuditKind::WarrantStateChanged,
                json!({"liid": warrant.liid.to_string(), "xid": warrant.xid.to_string(),
                       "from": "pending", "state": "active"}),
            )?;
            report.activated.push(warrant.liid);
        }
        Ok(())
    }

    /// Makes NE `index` have `destinations` and `task` at `now`; `Ok(true)` when it does.
    async fn ensure(
        &self,
        st: &mut State,
        now: Timestamp,
        index: usize,
        (destinations, task): (&[DestinationDetails], &TaskDetails),
        warrant: &Warrant,
        report: &mut SyncReport,
    ) -> anyhow::Result<bool> {
        let Some(ne) = self.inner.nes.get(index) else {
            return Ok(false);
        };
        let liid = Some(warrant.liid);
        if !st.nes.get(index).is_some_and(|v| v.known) {
            report.failures.push(SyncFailure {
                ne: ne.name.clone(),
                operation: "ActivateTask".into(),
                liid,
                error: "the NE's tasks are not known (it could not be read back)".into(),
            });
            return Ok(false);
        }
        for dest in destinations {
            let wanted = fingerprint(dest);
            let known = st
                .nes
                .get(index)
                .and_then(|v| v.destinations.get(&dest.did))
                .copied();
            let (body, operation) = match known {
                None => (
                    RequestBody::CreateDestination(dest.clone()),
                    "CreateDestination",
                ),
                Some(f) if f != wanted => (
                    RequestBody::ModifyDestination(dest.clone()),
                    "ModifyDestination",
                ),
                Some(_) => continue,
            };
            let result = self.x1(ne, body, liid).await;
            match result {
                Ok(_) => {}
                Err(e) if operation == "CreateDestination" && e.says_exists() => {
                    debug!(ne = ne.name.as_str(), did = %dest.did, "destination exists already");
                }
                Err(e) => {
                    self.failed(st, index, operation, liid, &e, report);
                    return Ok(false);
                }
            }
            if let Some(view) = st.nes.get_mut(index) {
                view.destinations.insert(dest.did, wanted);
            }
            let kind = if operation == "CreateDestination" {
                AuditKind::DestinationCreated
            } else {
                AuditKind::Other("destination.modified".into())
            };
            self.audit(
                kind,
                json!({"ne": ne.name, "did": dest.did.to_string(),
                       "name": dest.friendly_name, "type": dest.delivery_type.as_str(),
                       "address": address_text(&dest.delivery_address)}),
            )?;
            if operation == "CreateDestination" {
                report
                    .destinations_created
                    .push((ne.name.clone(), dest.did));
            }
        }

        let wanted = fingerprint(task);
        let known = st
            .nes
            .get(index)
            .and_then(|v| v.tasks.get(&task.xid))
            .map(|t| t.fingerprint);
        let (body, operation, kind) = match known {
            None => (
                RequestBody::ActivateTask(task.clone()),
                "ActivateTask",
                AuditKind::TaskActivated,
            ),
            Some(f) if f != wanted => (
                RequestBody::ModifyTask(task.clone()),
                "ModifyTask",
                AuditKind::TaskModified,
            ),
            Some(_) => return Ok(true),
        };
        if let Some(refused) = st.refused.get(&(index, task.xid))
            && refused.fingerprint == wanted
            && now < refused.retry_at
        {
            report.failures.push(SyncFailure {
                ne: ne.name.clone(),
                operation: operation.into(),
                liid,
                error: format!(
                    "refused: {} (offered again at {}, or when the warrant changes)",
                    refused.reason, refused.retry_at
                ),
            });
            return Ok(false);
        }
        match self.x1(ne, body, liid).await {
            Ok(_) => {
                if st.refused.remove(&(index, task.xid)).is_some() {
                    self.inner
                        .store
                        .clear_refusal(&warrant.liid, &ne.name)
                        .with_context(|| format!("warrant {}", warrant.liid))?;
                }
                if let Some(view) = st.nes.get_mut(index) {
                    view.tasks.insert(
                        task.xid,
                        KnownTask {
                            fingerprint: wanted,
                            dids: task_dids(task),
                        },
                    );
                }
                info!(ne = ne.name.as_str(), liid = %warrant.liid, xid = %task.xid,
                      "{}: {operation} {} done", ne.name, warrant.liid);
                debug!(ne = ne.name.as_str(), liid = %warrant.liid, targets = ?task.targets, "task targets");
                self.audit(kind, task_detail(&ne.name, task.xid, liid))?;
                let change = TaskChange {
                    ne: ne.name.clone(),
                    xid: task.xid,
                    liid,
                };
                if operation == "ActivateTask" {
                    report.tasks_activated.push(change);
                } else {
                    report.tasks_modified.push(change);
                }
                Ok(true)
            }
            Err(e @ X1Failure::Refused { .. }) => {
                self.task_refused(st, now, index, (operation, &e), (warrant, wanted), report)?;
                Ok(false)
            }
            Err(e) => {
                self.failed(st, index, operation, liid, &e, report);
                Ok(false)
            }
        }
    }

    /// An NE refused `warrant`'s task: the refusal stays with the warrant (recorded in the
    /// store, audited once per distinct refusal, reported); the NE stays known, so every
    /// other warrant is still provisioned there. The unchanged task is offered again after a
    /// back-off.
    fn task_refused(
        &self,
        st: &mut State,
        now: Timestamp,
        index: usize,
        (operation, error): (&str, &X1Failure),
        (warrant, fingerprint): (&Warrant, u64),
        report: &mut SyncReport,
    ) -> anyhow::Result<()> {
        let ne = self.ne_name(index);
        let reason = error.to_string();
        let key = (index, warrant.xid);
        let previous = st.refused.get(&key);
        let attempts = previous
            .filter(|r| r.fingerprint == fingerprint)
            .map_or(1, |r| r.attempts.saturating_add(1));
        let is_new = previous.is_none_or(|r| r.fingerprint != fingerprint || r.reason != reason);
        let base = Duration::from_millis(self.inner.config.sync_interval_ms);
        let delay = base
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(16))
            .min(MAX_REFUSAL_BACKOFF);
        let retry_at = now.checked_add(delay).unwrap_or(Timestamp::MAX);
        st.refused.insert(
            key,
            RefusedTask {
                fingerprint,
                reason: reason.clone(),
                attempts,
                retry_at,
            },
        );
        warn!(ne = ne.as_str(), liid = %warrant.liid,
              "{ne} refused {operation} of warrant {}: {reason}", warrant.liid);
        if is_new {
            self.inner
                .store
                .set_refusal(&warrant.liid, &ne, &reason, now)
                .with_context(|| format!("warrant {}", warrant.liid))?;
            self.audit(
                AuditKind::Other("warrant.refused".into()),
                json!({"liid": warrant.liid.to_string(), "xid": warrant.xid.to_string(),
                       "ne": ne, "type": operation, "reason": reason}),
            )?;
        }
        report.failed(
            ne,
            operation,
            Some(warrant.liid),
            format!("refused: {reason}"),
        );
        Ok(())
    }

    /// Step 5: `RemoveDestination` at the mediator for destinations nothing uses.
    async fn remove_unused_destinations(
        &self,
        st: &mut State,
        used: &HashSet<DestinationId>,
        report: &mut SyncReport,
    ) -> anyhow::Result<()> {
        let Some(view) = st.nes.get(MEDIATOR).filter(|v| v.known) else {
            return Ok(());
        };
        let in_tasks: HashSet<DestinationId> = view
            .tasks
            .values()
            .flat_map(|t| t.dids.iter().copied())
            .collect();
        let unused: BTreeSet<DestinationId> = view
            .destinations
            .keys()
            .filter(|did| !used.contains(did) && !in_tasks.contains(did))
            .copied()
            .collect();
        let Some(ne) = self.inner.nes.get(MEDIATOR) else {
            return Ok(());
        };
        for did in unused {
            match self.x1(ne, RequestBody::RemoveDestination(did), None).await {
                Err(e) if !e.says_absent() => {
                    self.failed(st, MEDIATOR, "RemoveDestination", None, &e, report);
                }
                _ => {
                    if let Some(view) = st.nes.get_mut(MEDIATOR) {
                        view.destinations.remove(&did);
                    }
                    info!(ne = ne.name.as_str(), %did, "{}: destination {did} removed", ne.name);
                    self.audit(
                        AuditKind::DestinationRemoved,
                        json!({"ne": ne.name, "did": did.to_string()}),
                    )?;
                    report.destinations_removed.push((ne.name.clone(), did));
                }
            }
        }
        Ok(())
    }

    /// Records a failed request: reported, and the NE is read back at the next sync.
    fn failed(
        &self,
        st: &mut State,
        index: usize,
        operation: &str,
        liid: Option<Liid>,
        error: &X1Failure,
        report: &mut SyncReport,
    ) {
        let ne = self.ne_name(index);
        warn!(
            ne = ne.as_str(),
            operation, "{ne}: {operation} failed: {error}"
        );
        if let Some(view) = st.nes.get_mut(index) {
            view.known = false;
        }
        report.failed(ne, operation, liid, error.to_string());
    }

    /// The name of NE `index` (empty if there is none).
    fn ne_name(&self, index: usize) -> String {
        self.inner
            .nes
            .get(index)
            .map(|n| n.name.clone())
            .unwrap_or_default()
    }

    /// What the NEs should have for `warrant`.
    fn plan(&self, warrant: &Warrant) -> anyhow::Result<Plan> {
        let cc = warrant.scope.delivers_cc();
        let mut hi_destinations = Vec::new();
        for agency in &warrant.agencies {
            hi_destinations.push(DestinationDetails {
                did: agency.id,
                friendly_name: Some(format!("{} HI2", agency.name)),
                delivery_type: DeliveryType::X2Only,
                delivery_address: x1_address(&agency.hi2)
                    .with_context(|| format!("agency {} HI2", agency.name))?,
            });
            if cc && let Some(hi3) = &agency.hi3 {
                hi_destinations.push(DestinationDetails {
                    did: hi3_did(agency.id),
                    friendly_name: Some(format!("{} HI3", agency.name)),
                    delivery_type: DeliveryType::X3Only,
                    delivery_address: x1_address(hi3)
                        .with_context(|| format!("agency {} HI3", agency.name))?,
                });
            }
        }
        let dids: Vec<DestinationId> = hi_destinations.iter().map(|d| d.did).collect();
        let mediation = MediationDetails {
            liid: warrant.liid,
            delivery_type: if cc {
                MediationDeliveryType::Hi2AndHi3
            } else {
                MediationDeliveryType::Hi2Only
            },
            start_time: Some(warrant.window.start()),
            end_time: warrant.window.end(),
            dids: Some(dids.clone()),
        };
        let delivery_type = DeliveryType::from_scope(warrant.scope);
        let mut mediator_task =
            TaskDetails::new(warrant.xid, warrant.targets.clone(), delivery_type, dids);
        mediator_task.mediation_details = vec![mediation.clone()];
        let mediator = &self.inner.config.mediator;
        let mut probe_task = TaskDetails::new(
            warrant.xid,
            warrant.targets.clone(),
            delivery_type,
            vec![mediator.x2x3_did],
        );
        probe_task.mediation_details = vec![mediation];
        Ok(Plan {
            hi_destinations,
            mediator_task,
            probe_destination: DestinationDetails {
                did: mediator.x2x3_did,
                friendly_name: Some(format!("{} X2/X3", mediator.name)),
                delivery_type: DeliveryType::X2AndX3,
                delivery_address: DeliveryAddress::IpAddressPort {
                    address: mediator.x2x3.ip(),
                    port: Port::Tcp(mediator.x2x3.port()),
                },
            },
            probe_task,
        })
    }

    /// Sends one request to `ne`, auditing the request and its outcome and counting it.
    async fn x1(
        &self,
        ne: &Ne,
        body: RequestBody,
        liid: Option<Liid>,
    ) -> Result<ResponseBody, X1Failure> {
        let kind = body.message_type();
        let transaction = TransactionId::new_v4_from_random(random_bytes());
        let header = MessageHeader {
            admf_identifier: self.inner.config.admf_identifier.clone(),
            ne_identifier: ne.name.clone(),
            message_timestamp: now(),
            version: X1Version::CURRENT,
            x1_transaction_id: transaction,
        };
        let mut detail = json!({"ne": ne.name, "type": kind.as_str(),
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
            return Err(X1Failure::NotSent(format!("{e:#}")));
        }
        debug!(ne = ne.name.as_str(), request = kind.as_str(), %transaction, "X1 request");
        let request = X1Request::single(header, body);
        let result = match ne.client.send(&request).await {
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
            .entry((ne.name.clone(), outcome))
            .or_default() += 1;
        let mut detail = json!({"ne": ne.name, "type": kind.as_str(),
                                "transaction": transaction.to_string(), "outcome": outcome});
        if let (Err(e), Some(map)) = (&result, detail.as_object_mut()) {
            map.insert("error".into(), Value::String(e.to_string()));
        }
        if let Err(e) = self.audit(AuditKind::X1Response, detail) {
            error!("cannot audit the X1 response: {e:#}");
        }
        result
    }

    fn audit(&self, kind: AuditKind, detail: Value) -> anyhow::Result<()> {
        self.inner.audit.append(kind, detail)
    }
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

fn task_dids(task: &TaskDetails) -> Vec<DestinationId> {
    let mut dids = task.dids.clone();
    for md in &task.mediation_details {
        dids.extend(md.dids.iter().flatten().copied());
    }
    dids
}

/// A stable digest of a value's content (its `Debug` form), to tell whether an NE has what
/// it should. Only compared, never logged.
fn fingerprint<T: fmt::Debug>(value: &T) -> u64 {
    let digest = Sha256::digest(format!("{value:?}").as_bytes());
    let mut bytes = [0u8; 8];
    for (o, b) in bytes.iter_mut().zip(digest.iter()) {
        *o = *b;
    }
    u64::from_be_bytes(bytes)
}

/// The X1 delivery address of an agency's HI address: a `uri` `tls://ip:port` or
/// `tcp://ip:port` after the agency's `tls`, which the mediator applies (or refuses, for TLS
/// without `hi_tls`), so that what `warrant show` says is what the mediator does.
fn x1_address(address: &CoreAddress) -> anyhow::Result<DeliveryAddress> {
    let ip: IpAddr = address.host.parse().with_context(|| {
        format!(
            "{:?} is not an IP address (the mediator needs one)",
            address.host
        )
    })?;
    if address.port < 2 {
        bail!("port {} is not a usable TCP port", address.port);
    }
    let transport = if address.tls {
        HiTransport::Tls
    } else {
        HiTransport::PlainTcp
    };
    Ok(transport.to_x1(SocketAddr::new(ip, address.port)))
}

fn address_text(address: &DeliveryAddress) -> String {
    match address {
        DeliveryAddress::IpAddressPort { address, port } => {
            let (Port::Tcp(p) | Port::Udp(p)) = port;
            SocketAddr::new(*address, *p).to_string()
        }
        DeliveryAddress::E164Number(_) => "e164".into(),
        DeliveryAddress::Uri(u) => u.clone(),
        _ => "other".into(),
    }
}

fn task_detail(ne: &str, xid: Xid, liid: Option<Liid>) -> Value {
    json!({"ne": ne, "xid": xid.to_string(), "liid": liid.map(|l| l.to_string())})
}

/// The audit detail of a warrant (the audit log may hold target identifiers).
fn warrant_detail(w: &Warrant) -> Value {
    json!({
        "liid": w.liid.to_string(),
        "xid": w.xid.to_string(),
        "scope": scope_text(w),
        "start": w.window.start().to_string(),
        "end": w.window.end().map(|e| e.to_string()),
        "targets": w.targets.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "agencies": w.agencies.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
        "state": w.state.as_str(),
    })
}

/// `iri` or `iri+cc`.
pub fn scope_text(w: &Warrant) -> &'static str {
    if w.scope.delivers_cc() {
        "iri+cc"
    } else {
        "iri"
    }
}

/// How the mediator reaches an agency's HI address: `TLS` or `plain TCP` (the
/// agency's `tls`, which the ADMF sends with the destination and the mediator applies, or
/// refuses when it has no `hi_tls`).
pub fn transport_text(address: &CoreAddress) -> &'static str {
    if address.tls { "TLS" } else { "plain TCP" }
}

/// One line of `li-admf warrant list`: LIID, state, scope, window, targets, agencies, XID,
/// and the NEs that refused its task.
pub fn list_line(w: &Warrant, refusals: &[Refusal]) -> String {
    let end = w
        .window
        .end()
        .map_or_else(|| "(open)".to_owned(), |e| e.to_string());
    let agencies: Vec<&str> = w.agencies.iter().map(|a| a.name.as_str()).collect();
    let mut line = format!(
        "{:<25} {:<8} {:<6} {} .. {}  {} target(s)  agencies: {}  XID {}",
        w.liid.to_string(),
        w.state.as_str(),
        scope_text(w),
        w.window.start(),
        end,
        w.targets.len(),
        agencies.join(", "),
        w.xid
    );
    for r in refusals {
        let _ = write!(line, "  REFUSED by {}: {}", r.ne, r.reason);
    }
    line
}

/// A human-readable description of a warrant (for `li-admf warrant show`), with the NEs
/// that refused its task; it includes the target identifiers, so it is for the operator's
/// terminal, never for logs.
pub fn describe(w: &Warrant, refusals: &[Refusal]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "LIID:     {}", w.liid);
    let _ = writeln!(out, "XID:      {}", w.xid);
    let _ = writeln!(out, "state:    {}", w.state);
    let _ = writeln!(out, "scope:    {}", scope_text(w));
    let _ = writeln!(out, "start:    {}", w.window.start());
    let end = w
        .window
        .end()
        .map_or_else(|| "(open)".to_owned(), |e| e.to_string());
    let _ = writeln!(out, "end:      {end}");
    for t in &w.targets {
        let _ = writeln!(out, "target:   {t}");
    }
    for a in &w.agencies {
        let hi3 = a
            .hi3
            .as_ref()
            .map(|h| {
                format!(
                    ", HI3 {}:{} over {} (DID {})",
                    h.host,
                    h.port,
                    transport_text(h),
                    hi3_did(a.id)
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "agency:   {} (DID {}): HI2 {}:{} over {}{hi3}",
            a.name,
            a.id,
            a.hi2.host,
            a.hi2.port,
            transport_text(&a.hi2),
        );
    }
    for r in refusals {
        let _ = writeln!(out, "REFUSED:  by {} at {}: {}", r.ne, r.at, r.reason);
    }
    let _ = writeln!(out, "created:  {}", w.created);
    let _ = writeln!(out, "updated:  {}", w.updated);
    out
}

// ---------------------------------------------------------------------------------------------
// The audit log shared between processes
// ---------------------------------------------------------------------------------------------

/// The audit log, appended to under a cross-process lock file, reopened when another process
/// has appended since our last entry.
struct SharedAudit {
    path: PathBuf,
    lock_path: PathBuf,
    /// The open log and the file length after our last append.
    log: Mutex<Option<(AuditLog, u64)>>,
}

/// A lock file older than this was left by a crashed process.
const STALE_LOCK: Duration = Duration::from_secs(10);
/// How long an append waits for the lock.
const LOCK_WAIT: Duration = Duration::from_secs(15);

impl SharedAudit {
    fn open(path: PathBuf) -> anyhow::Result<Self> {
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push(".lock");
        let audit = Self {
            lock_path: PathBuf::from(lock_name),
            path,
            log: Mutex::new(None),
        };
        // open once now so that a broken chain is reported at start-up
        let _lock = LockFile::acquire(&audit.lock_path)?;
        let mut guard = audit.log.lock().unwrap_or_else(PoisonError::into_inner);
        *guard = Some(audit.reopen()?);
        drop(guard);
        Ok(audit)
    }

    fn reopen(&self) -> anyhow::Result<(AuditLog, u64)> {
        let (log, _) = AuditLog::open(&self.path)
            .with_context(|| format!("cannot open the audit log {}", self.path.display()))?;
        Ok((log, self.file_len()))
    }

    fn file_len(&self) -> u64 {
        fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }

    fn append(&self, kind: AuditKind, detail: Value) -> anyhow::Result<()> {
        let _lock = LockFile::acquire(&self.lock_path)?;
        let mut guard = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let len = self.file_len();
        let current = guard.take().filter(|(_, known)| *known == len);
        let (log, _) = match current {
            Some(open) => open,
            None => self.reopen()?,
        };
        let result = log.append(ACTOR, kind, detail);
        let len = self.file_len();
        *guard = Some((log, len));
        result
            .map(drop)
            .with_context(|| format!("cannot append to the audit log {}", self.path.display()))
    }
}

/// A lock file created exclusively, removed on drop.
struct LockFile(PathBuf);

impl LockFile {
    fn acquire(path: &Path) -> anyhow::Result<Self> {
        let start = Instant::now();
        loop {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut file) => {
                    let _ = writeln!(file, "{}", std::process::id());
                    return Ok(Self(path.to_path_buf()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if stale {
                        warn!(lock = %path.display(), "removing a stale audit lock file");
                        let _ = fs::remove_file(path);
                        continue;
                    }
                    if start.elapsed() > LOCK_WAIT {
                        bail!(
                            "audit log lock {} is held by another process (for over {} s)",
                            path.display(),
                            LOCK_WAIT.as_secs()
                        );
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("cannot create the audit log lock {}", path.display())
                    });
                }
            }
        }
    }
}

impl Drop for LockFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests;
