//! The `li-mediator` daemon: configuration and start-up of the mediation function
//! ([`li_handover::mediator`]) with its X1 server, X2/X3 listener, agency links, audit log,
//! and the registration of its metrics.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use li_core::{CountryCode, Liid, NetworkElementId, OperatorId};
use li_handover::mediator::{
    CancelSafe, HiTls, LinkSnapshot, Mediator, MediatorSettings, MediatorX1,
};
use li_handover::spool::{FsyncPolicy, SpoolConfig};
use li_handover::tls::{load_client_config, load_server_config};
use li_handover::x1::transport::{X1ServerConfig, serve as serve_x1};
use li_handover::x2x3::DEFAULT_MAX_PDU_LEN;
use li_handover::x2x3::transport::X2X3Listener;
use rustls_pki_types::ServerName;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use li_handover::audit::{AuditKind, AuditLog};

use crate::cli::{TlsFileConfig, start_metrics};
use crate::metrics::{MetricKind, MetricsError, Registry, Sample};

#[cfg(test)]
pub(crate) mod tests;

/// `li-mediator` configuration (TOML). See `docs/CONFIGURATION.md`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediatorConfig {
    /// The network element's name (X1 `neIdentifier`). Default `"mediator"`.
    #[serde(default = "default_name")]
    pub name: String,
    /// `operatorIdentifier` in every PSHeader (1..16 octets). Default `"OPERATOR"`.
    #[serde(default = "default_operator")]
    pub operator_id: String,
    /// `networkElementIdentifier` in every PSHeader (1..16 octets). Default: none.
    #[serde(default)]
    pub network_element_id: Option<String>,
    /// `iAPSystemId` of ATIS-1000013 messages (1..15 visible characters). Default: the
    /// operator identifier.
    #[serde(default)]
    pub iap_system_id: Option<String>,
    /// `authorizationCountryCode` in every PSHeader (ISO 3166-1 alpha-2). Default: none.
    #[serde(default)]
    pub authorization_country_code: Option<String>,
    /// `deliveryCountryCode` in every PSHeader (ISO 3166-1 alpha-2). Default: none.
    #[serde(default)]
    pub delivery_country_code: Option<String>,
    /// X1 (HTTPS) listening address. Default `127.0.0.1:7001`.
    #[serde(default = "default_x1_listen")]
    pub x1_listen: SocketAddr,
    /// X1 server certificate, key, and the CA of the administration function's certificate.
    pub x1_tls: TlsFileConfig,
    /// Certificate identities (common name or first subjectAltName) allowed to send X1
    /// requests. Default `["admf"]`.
    #[serde(default = "default_admfs")]
    pub admf_identities: Vec<String>,
    /// X2/X3 (TLS) listening address for probes. Default `127.0.0.1:7002`.
    #[serde(default = "default_x2x3_listen")]
    pub x2x3_listen: SocketAddr,
    /// X2/X3 server certificate, key, and the CA of the probes' certificates.
    pub x2x3_tls: TlsFileConfig,
    /// Seconds a probe may stay silent before it is disconnected. Default 60.
    #[serde(default = "default_x2x3_idle")]
    pub x2x3_idle_timeout_s: u64,
    /// Also write every X2/X3 PDU exactly as received from the probes (keepalives
    /// included), back to back, to this file: what the probes sent, for evidence and
    /// independent dissectors. Default: none.
    #[serde(default)]
    pub x2x3_raw_copy: Option<PathBuf>,
    /// TLS towards the agencies (our client certificate, key, and the agencies' CA); absent:
    /// plain TCP.
    #[serde(default)]
    pub hi_tls: Option<TlsFileConfig>,
    /// The name the agencies' certificates must carry. Default `"localhost"`.
    #[serde(default = "default_server_name")]
    pub hi_server_name: String,
    /// Spool directory (one sub-directory per destination). Default `"spool"`.
    #[serde(default = "default_spool_dir")]
    pub spool_dir: PathBuf,
    /// Disk bound of each destination's spool, in bytes. Default 1 GiB.
    #[serde(default = "default_spool_max")]
    pub spool_max_bytes: u64,
    /// When spooled records are fsynced: `"always"`, `"never"`, or `"batch:N"` (every N
    /// records). Default `"batch:64"`.
    #[serde(default = "default_fsync")]
    pub spool_fsync: String,
    /// Keep-alive interval of the agency links, ms. Default 5000.
    #[serde(default = "default_keepalive_interval")]
    pub keepalive_interval_ms: u64,
    /// Keep-alive response timeout, ms. Default 10000.
    #[serde(default = "default_keepalive_timeout")]
    pub keepalive_timeout_ms: u64,
    /// First reconnection delay, ms. Default 100.
    #[serde(default = "default_backoff_min")]
    pub backoff_min_ms: u64,
    /// Largest reconnection delay, ms. Default 1000 (each delay is jittered between half and all of the step).
    #[serde(default = "default_backoff_max")]
    pub backoff_max_ms: u64,
    /// Where the provisioning (destinations and tasks received over X1) is saved after
    /// every change and restored from at start-up, so a restarted mediator delivers its
    /// spools and enforces its tasks at once. Default `"mediator-state.xml"`.
    #[serde(default = "default_state")]
    pub state_file: PathBuf,
    /// The hash-chained audit log. Default `"mediator-audit.log"`.
    #[serde(default = "default_audit")]
    pub audit_log: PathBuf,
    /// Prometheus endpoint (`/metrics`); absent: none.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
}

fn default_name() -> String {
    "mediator".into()
}
fn default_operator() -> String {
    "OPERATOR".into()
}
fn default_x1_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7001))
}
fn default_admfs() -> Vec<String> {
    vec!["admf".into()]
}
fn default_x2x3_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7002))
}
fn default_x2x3_idle() -> u64 {
    60
}
fn default_server_name() -> String {
    "localhost".into()
}
fn default_spool_dir() -> PathBuf {
    "spool".into()
}
fn default_spool_max() -> u64 {
    1 << 30
}
fn default_fsync() -> String {
    "batch:64".into()
}
fn default_keepalive_interval() -> u64 {
    5000
}
fn default_keepalive_timeout() -> u64 {
    10_000
}
fn default_backoff_min() -> u64 {
    100
}
fn default_backoff_max() -> u64 {
    1_000
}
fn default_state() -> PathBuf {
    "mediator-state.xml".into()
}
fn default_audit() -> PathBuf {
    "mediator-audit.log".into()
}

/// Parses `"always"`, `"never"` or `"batch:N"`.
pub fn parse_fsync(text: &str) -> anyhow::Result<FsyncPolicy> {
    match text {
        "always" => Ok(FsyncPolicy::Always),
        "never" => Ok(FsyncPolicy::Never),
        other => {
            let n = other
                .strip_prefix("batch:")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n > 0)
                .with_context(|| {
                    format!("spool_fsync {other:?}: expected \"always\", \"never\" or \"batch:N\" with N > 0")
                })?;
            Ok(FsyncPolicy::Batch(n))
        }
    }
}

/// A started mediator.
#[derive(Debug)]
pub struct RunningMediator {
    /// The mediation function (tasks, destinations, counters).
    pub mediator: Mediator,
    /// Where X1 is served.
    pub x1_addr: SocketAddr,
    /// Where probes connect.
    pub x2x3_addr: SocketAddr,
    /// Where metrics are served, if configured.
    pub metrics_addr: Option<SocketAddr>,
    /// The audit log.
    pub audit: Arc<AuditLog>,
    tasks: JoinSet<()>,
}

impl RunningMediator {
    /// Waits for the servers to stop (after shutdown), then stops the agency links (the
    /// spools keep what was not delivered).
    pub async fn join(mut self) {
        while self.tasks.join_next().await.is_some() {}
        self.mediator.shutdown().await;
    }
}

/// Starts the mediator: opens the audit log, binds X1 and X2/X3 (port 0 picks one), and
/// serves until `shutdown` turns `true`. Relative paths are relative to `base`.
pub async fn start(
    config: &MediatorConfig,
    base: &Path,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<RunningMediator> {
    let operator_id = OperatorId::new(config.operator_id.as_bytes())
        .with_context(|| format!("operator_id {:?}", config.operator_id))?;
    let network_element_id = config
        .network_element_id
        .as_deref()
        .map(|ne| {
            NetworkElementId::new(ne.as_bytes())
                .with_context(|| format!("network_element_id {ne:?}"))
        })
        .transpose()?;
    let country = |key: &str, code: &Option<String>| {
        code.as_deref()
            .map(|c| CountryCode::new(c).with_context(|| format!("{key} {c:?}")))
            .transpose()
    };
    let authorization_country_code = country(
        "authorization_country_code",
        &config.authorization_country_code,
    )?;
    let delivery_country_code = country("delivery_country_code", &config.delivery_country_code)?;
    let (audit, report) = AuditLog::open(base.join(&config.audit_log))
        .with_context(|| format!("audit log {}", base.join(&config.audit_log).display()))?;
    if let Some(torn) = &report.repaired {
        tracing::warn!(
            ?torn,
            "audit log: a torn final entry was cut off and recorded"
        );
    }
    let audit = Arc::new(audit);
    let hi_tls = match &config.hi_tls {
        None => None,
        Some(files) => {
            let client = load_client_config(&files.resolve(base)).context("hi_tls")?;
            let server_name = ServerName::try_from(config.hi_server_name.clone())
                .with_context(|| format!("hi_server_name {:?}", config.hi_server_name))?;
            Some(HiTls {
                connector: TlsConnector::from(client),
                server_name,
            })
        }
    };
    let mut spool = SpoolConfig::new(base.join(&config.spool_dir));
    spool.max_bytes = config.spool_max_bytes;
    spool.fsync = parse_fsync(&config.spool_fsync)?;
    let settings = MediatorSettings {
        operator_id,
        network_element_id,
        authorization_country_code,
        delivery_country_code,
        spool_dir: base.join(&config.spool_dir),
        spool,
        tls: hi_tls,
        keepalive_interval: Duration::from_millis(config.keepalive_interval_ms),
        keepalive_timeout: Duration::from_millis(config.keepalive_timeout_ms),
        backoff: (
            Duration::from_millis(config.backoff_min_ms),
            Duration::from_millis(config.backoff_max_ms),
        ),
        keepalive_liid: Liid::new(b"KEEPALIVE").context("keep-alive LIID")?,
        iap_system_id: config.iap_system_id.clone(),
    };
    let mediator = Mediator::new(settings, Some(Arc::clone(&audit)));

    let registry = Arc::new(Registry::new());
    register_metrics(&mediator, &registry).context("registering metrics")?;
    let metrics_addr = start_metrics(config.metrics_listen, registry, shutdown.clone()).await?;

    let x1_acceptor =
        TlsAcceptor::from(load_server_config(&config.x1_tls.resolve(base)).context("x1_tls")?);
    let x2x3_acceptor =
        TlsAcceptor::from(load_server_config(&config.x2x3_tls.resolve(base)).context("x2x3_tls")?);
    let x1_listener = TcpListener::bind(config.x1_listen)
        .await
        .with_context(|| format!("cannot listen for X1 on {}", config.x1_listen))?;
    let x1_addr = x1_listener.local_addr()?;
    let x2x3_listener = TcpListener::bind(config.x2x3_listen)
        .await
        .with_context(|| format!("cannot listen for X2/X3 on {}", config.x2x3_listen))?;
    let x2x3_addr = x2x3_listener.local_addr()?;

    let mut tasks = JoinSet::new();
    let handler = Arc::new(
        MediatorX1::new(mediator.clone(), Some(Arc::clone(&audit)))
            .with_state_file(base.join(&config.state_file)),
    );
    let (destinations, tasks_restored) = handler
        .restore()
        .await
        .context("restoring the provisioning state")?;
    if destinations + tasks_restored > 0 {
        tracing::info!(
            destinations,
            tasks = tasks_restored,
            "provisioning restored"
        );
    }
    let refusals = Arc::clone(&audit);
    let x1_config = X1ServerConfig {
        allowed_identities: Some(config.admf_identities.clone()),
        on_refused: Some(Arc::new(move |peer, why: &str| {
            let detail = serde_json::json!({"peer": peer.to_string(), "refused": why});
            if let Err(error) = refusals.append("mediator", AuditKind::X1Request, detail) {
                tracing::error!(%error, "audit log append failed");
            }
        })),
        ..X1ServerConfig::default()
    };
    let x1_shutdown = shutdown.clone();
    let handler = Arc::new(CancelSafe(handler));
    tasks.spawn(async move {
        if let Err(error) =
            serve_x1(x1_listener, x1_acceptor, handler, x1_config, x1_shutdown).await
        {
            tracing::error!(%error, "X1 server failed");
        }
    });
    // Each message is what one read of a probe connection framed (up to some hundreds of
    // PDUs): a short channel bounds the memory and how long a keepalive's barrier waits.
    let (tx, rx) = mpsc::channel(64);
    let mut listener = X2X3Listener::new(x2x3_acceptor, DEFAULT_MAX_PDU_LEN)
        .with_idle_timeout(Duration::from_secs(config.x2x3_idle_timeout_s));
    if let Some(path) = &config.x2x3_raw_copy {
        let path = base.join(path);
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .with_context(|| format!("x2x3_raw_copy {}", path.display()))?;
        let (tap, mut frames) = mpsc::channel::<bytes::Bytes>(65_536);
        listener = listener.with_raw_copy(tap);
        tasks.spawn(async move {
            use tokio::io::AsyncWriteExt as _;
            while let Some(frame) = frames.recv().await {
                if let Err(error) = file.write_all(&frame).await {
                    tracing::error!(path = %path.display(), %error, "X2/X3 raw copy failed");
                    return;
                }
            }
            let _ = file.flush().await;
        });
    }
    let mut x2x3_shutdown = shutdown.clone();
    tasks.spawn(async move {
        tokio::select! {
            () = listener.serve_confirmed(x2x3_listener, tx) => {}
            _ = x2x3_shutdown.wait_for(|stop| *stop) => {}
        }
    });
    let consumer = mediator.clone();
    tasks.spawn(async move { consumer.consume(rx).await });
    let watcher = mediator.clone();
    let links_shutdown = shutdown.clone();
    tasks.spawn(async move {
        watcher
            .watch_links(Duration::from_millis(500), links_shutdown)
            .await;
    });
    tracing::info!(name = %config.name, %x1_addr, %x2x3_addr, "mediator started");
    Ok(RunningMediator {
        mediator,
        x1_addr,
        x2x3_addr,
        metrics_addr,
        audit,
        tasks,
    })
}

/// Registers the metrics of `mediator` in `registry`, read from its counters
/// ([`Mediator::stats`]) and its links ([`Mediator::link_snapshots`]) at each scrape:
/// `li_mediator_x2x3_pdus_total{type}`, `li_mediator_refused_total{reason}`,
/// `li_mediator_records_total{liid,destination}`, `li_mediator_link_up{destination}`,
/// `li_mediator_spool_records{destination}`, `li_mediator_spool_bytes{destination}`.
pub fn register_metrics(mediator: &Mediator, registry: &Registry) -> Result<(), MetricsError> {
    let m = mediator.clone();
    registry.collector(
        "li_mediator_x2x3_pdus_total",
        "X2/X3 PDUs received from probes, by PDU type.",
        MetricKind::Counter,
        &["type"],
        move || {
            let s = m.stats();
            vec![
                sample(&["x2"], s.x2_received.load(Ordering::Relaxed) as f64),
                sample(&["x3"], s.x3_received.load(Ordering::Relaxed) as f64),
            ]
        },
    )?;
    let m = mediator.clone();
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
    let m = mediator.clone();
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
    let gauges: [LinkGauge; 3] = [
        (
            "li_mediator_link_up",
            "1 when the link to the agency interface is connected.",
            |s| f64::from(u8::from(s.link.connected)),
        ),
        (
            "li_mediator_spool_records",
            "Records spooled and not yet acknowledged by the agency.",
            |s| s.spool_records as f64,
        ),
        (
            "li_mediator_spool_bytes",
            "Bytes the destination's spool uses on disk.",
            |s| s.spool_bytes as f64,
        ),
    ];
    for (name, help, value) in gauges {
        let m = mediator.clone();
        registry.collector(name, help, MetricKind::Gauge, &["destination"], move || {
            m.link_snapshots()
                .iter()
                .map(|s| sample(&[&s.name], value(s)))
                .collect()
        })?;
    }
    Ok(())
}

/// A per-destination gauge: name, help, and its value from a link's snapshot.
type LinkGauge = (&'static str, &'static str, fn(&LinkSnapshot) -> f64);

fn sample(labels: &[&str], value: f64) -> Sample {
    Sample {
        labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        value,
    }
}
