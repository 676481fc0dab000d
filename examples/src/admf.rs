//! The ADMF daemon's configuration and command-line glue around
//! [`li_handover::admf`]: the TOML configuration ([`AdmfConfig`]) and the
//! [`li_handover::admf::AdmfSettings`] built from it, opening an [`Admf`] on the SQLite
//! warrant store and the audit log shared between processes ([`open`]), its metrics
//! ([`register_metrics`]), the `--target` and `--allow-past` glue around
//! [`li_handover::admf::text`] (which also writes `li-admf warrant list` / `show`), and the
//! development PKI.
//!
//! The provisioning rules, the pure reconciliation and the X1 driver are the library's:
//! see [`li_handover::admf`].
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
//! and the audit log ([`li_handover::audit::SharedAuditLog`]: appends are serialised between
//! processes by an OS lock on `<audit_log>.lock`, released by the kernel if its holder
//! crashes, and a process re-reads the chain's end when another one has appended, so the
//! hash chain stays intact).

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use li_core::{
    DeliveryAddress as CoreAddress, DestinationId, HandoverFormat, TargetIdentifier, Timestamp,
    ValidityWindow,
};
use li_handover::admf::store::{Agency, SqliteStore};
use li_handover::admf::{Admf, AdmfSettings, NeEndpoint, Timing, hi3_did, text};
use li_handover::audit::SharedAuditLog;
use li_handover::tls::{DevPki, TlsFiles, load_client_config};
use serde::Deserialize;
use tracing::warn;

use crate::cli::TlsFileConfig;
use crate::metrics::{MetricKind, MetricsError, Registry, Sample};

pub use li_handover::admf::{random_bytes, random_xid};

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
    /// `mediator_grace_ms` later), so traffic captured before the end but
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
    /// `format` (handover format text, default `"etsi-102232:43:18"`): what the agency
    /// expects, recorded with the warrant and sent to the mediator with its destinations;
    /// a format the suite does not produce holds the warrant with an error naming it.
    #[serde(
        default = "HandoverFormat::etsi_default",
        deserialize_with = "from_str"
    )]
    pub format: HandoverFormat,
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

    /// Checks what the types cannot: the rules of [`AdmfSettings::validate`] (identifiers
    /// usable as X1 tokens, unique NE names, positive intervals), and unique agency names
    /// and destination ids.
    ///
    /// # Errors
    ///
    /// The first rule broken.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.settings().validate()?;
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

    /// The library's settings of this configuration.
    pub fn settings(&self) -> AdmfSettings {
        let ms = Duration::from_millis;
        let ne = |name: &str, x1: SocketAddr, server_name: &str| NeEndpoint {
            name: name.to_owned(),
            x1,
            server_name: server_name.to_owned(),
        };
        AdmfSettings {
            admf_identifier: self.admf_identifier.clone(),
            mediator: ne(
                &self.mediator.name,
                self.mediator.x1,
                &self.mediator.server_name,
            ),
            mediator_x2x3: self.mediator.x2x3,
            x2x3_did: self.mediator.x2x3_did,
            probes: self
                .probes
                .iter()
                .map(|p| ne(&p.name, p.x1, &p.server_name))
                .collect(),
            timing: Timing {
                provision_lead: ms(self.provision_lead_ms),
                deactivation_grace: ms(self.deactivation_grace_ms),
                mediator_grace: ms(self.mediator_grace_ms),
            },
            sync_interval: ms(self.sync_interval_ms),
            reconcile_interval: (self.reconcile_interval_ms > 0)
                .then(|| ms(self.reconcile_interval_ms)),
            x1_timeout: ms(self.x1_timeout_ms),
        }
    }

    /// The agency called `name`, as recorded in a warrant.
    pub fn agency(&self, name: &str) -> Option<Agency> {
        self.agencies.iter().find(|a| a.name == name).map(|a| {
            Agency::new(
                a.id,
                CoreAddress::new(a.hi2.ip().to_string(), a.hi2.port(), a.tls),
                a.hi3
                    .map(|hi3| CoreAddress::new(hi3.ip().to_string(), hi3.port(), a.tls)),
                a.format,
            )
            .with_name(a.name.clone())
        })
    }
}

/// Opens the ADMF of `config` (relative paths relative to `base_dir`): the SQLite warrant
/// store, the audit log shared between processes, the X1 client certificate. Nothing is
/// sent until the first [`Admf::sync`], which first reads back every NE.
///
/// # Errors
///
/// An invalid configuration, or a store, audit log or TLS file that cannot be opened; the
/// error names the file.
pub fn open(config: &AdmfConfig, base_dir: &Path) -> anyhow::Result<Admf> {
    config.validate()?;
    let database = base_dir.join(&config.database);
    let store = SqliteStore::open(&database)
        .with_context(|| format!("cannot open the warrant store {}", database.display()))?;
    let audit_path = base_dir.join(&config.audit_log);
    let audit = SharedAuditLog::open(&audit_path)
        .with_context(|| format!("cannot open the audit log {}", audit_path.display()))?;
    let files = config.tls.resolve(base_dir);
    let tls = load_client_config(&files).with_context(|| {
        format!(
            "cannot load the X1 client TLS files ({}, {}, {})",
            files.cert.display(),
            files.key.display(),
            files.ca.display()
        )
    })?;
    Ok(Admf::new(
        config.settings(),
        Arc::new(store),
        Arc::new(audit),
        tls,
    )?)
}

/// Registers the ADMF's metrics: `li_admf_warrants{state}` (gauge, warrants per state,
/// read from the store at each scrape) and `li_admf_x1_requests_total{ne,outcome}`
/// (counter; outcome `ok`, `error` for an `ErrorResponse`, `failed` for a transport
/// failure).
///
/// # Errors
///
/// A name is registered already.
pub fn register_metrics(admf: &Admf, registry: &Registry) -> Result<(), MetricsError> {
    let handle = admf.clone();
    registry.collector(
        "li_admf_warrants",
        "Warrants in the store, per lifecycle state.",
        MetricKind::Gauge,
        &["state"],
        move || match handle.warrant_counts() {
            Ok(counts) => counts
                .iter()
                .map(|(state, n)| Sample {
                    labels: vec![state.as_str().to_owned()],
                    value: *n as f64,
                })
                .collect(),
            Err(e) => {
                warn!("metrics: cannot list warrants: {e}");
                Vec::new()
            }
        },
    )?;
    let handle = admf.clone();
    registry.collector(
        "li_admf_x1_requests_total",
        "X1 requests sent, per NE and outcome (ok, error, failed).",
        MetricKind::Counter,
        &["ne", "outcome"],
        move || {
            handle
                .x1_counts()
                .iter()
                .map(|((ne, outcome), n)| Sample {
                    labels: vec![ne.clone(), (*outcome).to_owned()],
                    value: *n as f64,
                })
                .collect()
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Command-line glue
// ---------------------------------------------------------------------------------------------

/// Parses the `position`-th (from 1) `--target` of a warrant with
/// [`text::parse_target`]; the error names the option.
///
/// # Errors
///
/// The text is not `kind:value` of a known kind with a valid value.
pub fn parse_target(position: usize, text: &str) -> anyhow::Result<TargetIdentifier> {
    text::parse_target(text).map_err(|e| anyhow::anyhow!("--target #{position}: {e}"))
}

/// [`text::check_window_not_past`] unless `allow_past` (`--allow-past`: replaying a recorded
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
    if allow_past {
        return Ok(());
    }
    text::check_window_not_past(window, now).map_err(|e| {
        anyhow::anyhow!(
            "{e}; pass --allow-past to enter it anyway (to replay a recorded capture against \
             its own time)"
        )
    })
}

/// The current time (the epoch if the system clock is before it).
pub fn now() -> Timestamp {
    crate::cli::now()
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

#[cfg(test)]
mod tests;
