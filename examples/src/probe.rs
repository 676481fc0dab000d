//! `li-probe` around [`li_capture::probe`]: its TOML configuration ([`ProbeConfig`]), the
//! start-up from it ([`start`]: X1 server, ticker, metrics endpoint) and the registration
//! of the probe's statistics as metrics ([`register_metrics`]).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use li_capture::classify::{ClassifierConfig, VoiceConfig};
use li_capture::probe::{DeliveryReport, DestinationStats, Probe, ProbeSettings, ReplayOptions};
use li_capture::sip::CallConfig;
use li_core::Timestamp;
use li_handover::audit::AuditLog;
use li_handover::x1::transport::X1ServerConfig;
use li_handover::x2x3::transport::SenderStatsSnapshot;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tracing::{info, warn};

use crate::cli::TlsFileConfig;
use crate::metrics::{MetricKind, MetricsError, Registry, Sample};

/// The configuration of `li-probe` (a TOML file; unknown keys are errors). Relative paths are
/// relative to the configuration file's directory.
///
/// ```toml
/// name = "probe-1"
/// x1_listen = "127.0.0.1:7001"
/// admf_identities = ["admf"]
/// x2x3_server_name = "localhost"
///
/// [x1_tls]
/// cert = "pki/probe-1.pem"
/// key = "pki/probe-1.key"
/// ca = "pki/ca.pem"
///
/// [x2x3_tls]
/// cert = "pki/probe-1.pem"
/// key = "pki/probe-1.key"
/// ca = "pki/ca.pem"
///
/// [capture]
/// file = "sample.pcap"
/// pace = true
/// start_after_tasks = 2
/// ```
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProbeConfig {
    /// The probe's network element identifier: the `neIdentifier` X1 requests must name.
    /// Required.
    pub name: String,
    /// Where the X1 (HTTPS, mutual TLS) server listens, e.g. `"0.0.0.0:7001"` (port 0
    /// picks a free port). Required.
    pub x1_listen: SocketAddr,
    /// The X1 server's certificate and key, and the CA that signs the ADMF's certificate.
    /// Required.
    pub x1_tls: TlsFileConfig,
    /// Certificate identities (subject common name, else first DNS/IP subjectAltName) of the
    /// ADMFs allowed to send X1 requests; other clients are disconnected after the
    /// handshake. Required, non-empty.
    pub admf_identities: Vec<String>,
    /// When set, only X1 messages whose `admfIdentifier` is listed are executed (others get
    /// an `ErrorResponse`). Default: not checked (the certificate allow-list decides).
    #[serde(default)]
    pub admf_identifiers: Option<Vec<String>>,
    /// Our client certificate and key towards the mediators' X2/X3 interfaces, and the CA
    /// that signs the mediators' certificates. Required.
    pub x2x3_tls: TlsFileConfig,
    /// The name the mediators' certificates must carry (DNS name or IP address). Default
    /// `"localhost"`.
    #[serde(default = "default_server_name")]
    pub x2x3_server_name: String,
    /// X2/X3 PDUs queued per destination at most; beyond, PDUs are dropped and counted.
    /// Default 65536.
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
    /// Interval of the X2/X3 keepalives, in milliseconds (a keepalive not acknowledged
    /// within 10 s closes the connection). Default 5000.
    #[serde(default = "default_keepalive_interval_ms")]
    pub keepalive_interval_ms: u64,
    /// The Network Function ID every X2/X3 PDU carries (1 to 64 octets): how the mediator
    /// names this probe to agencies whose formats name the intercepting system (the IAP
    /// system id of ATIS and PacketCable, when it is 1 to 15 visible characters). Default:
    /// `name`.
    #[serde(default)]
    pub network_function_id: Option<String>,
    /// Where frames come from; absent: X1 only, no capture.
    #[serde(default)]
    pub capture: Option<CaptureConfig>,
    /// Where the Prometheus endpoint (`GET /metrics`) listens. Default: none.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// Classifier options.
    #[serde(default)]
    pub classifier: ClassifierOptions,
    /// The hash-chained audit log, where live capture records its loss alarms. Default
    /// `"probe-audit.log"`.
    #[serde(default = "default_audit_log")]
    pub audit_log: Option<PathBuf>,
}

fn default_audit_log() -> Option<PathBuf> {
    Some("probe-audit.log".into())
}

/// `[capture]`: a capture file to replay (`file`) or an interface (`interface`), not both.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CaptureConfig {
    /// A pcap or pcapng file, replayed once.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// A network interface (live capture, AF_PACKET; needs the `live` cargo feature and
    /// CAP_NET_RAW).
    #[serde(default)]
    pub interface: Option<String>,
    /// File only: replay at the pace of the capture timestamps (sleeping between frames)
    /// instead of as fast as possible. Default false.
    #[serde(default)]
    pub pace: bool,
    /// File only: shift every timestamp so that the first frame is stamped with the
    /// wall-clock time at which the replay starts (inter-frame gaps kept); false keeps the
    /// file's timestamps. Default true.
    #[serde(default = "yes")]
    pub rebase: bool,
    /// File only, with `rebase`: stamp the first frame with this time (RFC 3339) instead of
    /// the wall clock, gaps kept, e.g. the recording's own start to replay it against a
    /// warrant window in the past. Default: none (the wall clock).
    #[serde(default, deserialize_with = "optional_time")]
    pub rebase_to: Option<Timestamp>,
    /// File only: wait until at least this many tasks are active before replaying (demos).
    /// Default: start at once.
    #[serde(default)]
    pub start_after_tasks: Option<usize>,
}

/// `[classifier]`: what the classifier looks at besides targets.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClassifierOptions {
    /// UDP ports of RADIUS accounting whose requests bind username targets to addresses.
    /// Default `[1813]`.
    #[serde(default = "default_radius_ports")]
    pub radius_accounting_ports: Vec<u16>,
    /// Whether DHCPv4 (UDP 67/68) binds MAC-address targets. Default true.
    #[serde(default = "yes")]
    pub dhcp: bool,
    /// The NASes and DHCP servers whose AAA messages are believed (source or destination
    /// address). Default: any host on the tap (set it in production).
    #[serde(default)]
    pub aaa_sources: Option<Vec<IpAddr>>,
    /// UDP and TCP ports of SIP, whose messages SIP URI, TEL/E.164 and username targets are
    /// matched in. Default `[5060]`.
    #[serde(default = "default_sip_ports")]
    pub sip_ports: Vec<u16>,
    /// Calls tracked at most (ended calls still remembered for late retransmissions
    /// included); a new call when full evicts the one closest to its timeout. Default
    /// 100,000.
    #[serde(default = "default_max_calls")]
    pub max_calls: usize,
    /// Media flows (RTP/RTCP transport addresses) bound to calls at most. Default 1,000,000.
    #[serde(default = "default_max_media_flows")]
    pub max_media_flows: usize,
    /// A call with neither a SIP message nor a media packet for this many seconds ends
    /// (IRI-End repeating its last message). Default 300.
    #[serde(default = "default_call_timeout_secs")]
    pub call_timeout_secs: u64,
    /// How long, in seconds, an ended call's Call-ID absorbs late retransmissions, and a BYE
    /// or CANCEL waits for its final response. Default 32 (RFC 3261 64*T1).
    #[serde(default = "default_call_linger_secs")]
    pub call_linger_secs: u64,
    /// SIP-over-TCP flows reassembled at once. Default 10,000.
    #[serde(default = "default_max_sip_tcp_flows")]
    pub max_sip_tcp_flows: usize,
    /// Octets of partial SIP messages all TCP flows hold together. Default 16 MiB.
    #[serde(default = "default_max_sip_tcp_octets")]
    pub max_sip_tcp_octets: usize,
    /// Registrations (Call-IDs of SIP outside calls) whose CIN per task is remembered, so
    /// that one registration's messages share it; the one closest to expiry goes when full
    /// (counted). 0: each such message gets a CIN of its own. Default 10,000.
    #[serde(default = "default_max_sip_registrations")]
    pub max_sip_registrations: usize,
    /// Seconds a registration's CIN is kept after a REGISTER, or its response, stating no
    /// expiry (one that states one keeps it that long plus `call_linger_secs`). Default 3600.
    #[serde(default = "default_sip_registration_idle_secs")]
    pub sip_registration_idle_secs: u64,
    /// Ended calls whose CINs are kept for `call_linger_secs`, so that their late messages
    /// are reported under them; the oldest goes when full (counted). Default 10,000.
    #[serde(default = "default_max_ended_calls")]
    pub max_ended_calls: usize,
}

fn default_sip_ports() -> Vec<u16> {
    VoiceConfig::default().sip_ports
}

fn default_max_calls() -> usize {
    CallConfig::default().max_calls
}

fn default_max_media_flows() -> usize {
    CallConfig::default().max_flows
}

fn default_call_timeout_secs() -> u64 {
    CallConfig::default().inactivity_timeout.as_secs()
}

fn default_call_linger_secs() -> u64 {
    CallConfig::default().linger.as_secs()
}

fn default_max_sip_tcp_flows() -> usize {
    VoiceConfig::default().max_tcp_flows
}

fn default_max_sip_tcp_octets() -> usize {
    VoiceConfig::default().max_tcp_octets
}

fn default_max_sip_registrations() -> usize {
    VoiceConfig::default().max_registrations
}

fn default_sip_registration_idle_secs() -> u64 {
    VoiceConfig::default().registration_idle.as_secs()
}

fn default_max_ended_calls() -> usize {
    VoiceConfig::default().max_ended_calls
}

impl Default for ClassifierOptions {
    fn default() -> Self {
        Self {
            radius_accounting_ports: default_radius_ports(),
            dhcp: true,
            aaa_sources: None,
            sip_ports: default_sip_ports(),
            max_calls: default_max_calls(),
            max_media_flows: default_max_media_flows(),
            call_timeout_secs: default_call_timeout_secs(),
            call_linger_secs: default_call_linger_secs(),
            max_sip_tcp_flows: default_max_sip_tcp_flows(),
            max_sip_tcp_octets: default_max_sip_tcp_octets(),
            max_sip_registrations: default_max_sip_registrations(),
            sip_registration_idle_secs: default_sip_registration_idle_secs(),
            max_ended_calls: default_max_ended_calls(),
        }
    }
}

impl ClassifierOptions {
    /// Sets the classifier settings these options describe in `config`, leaving the others
    /// (the random first CIN of [`ProbeSettings::new`] among them) as they are.
    pub fn apply_to(&self, config: &mut ClassifierConfig) {
        config.radius_accounting_ports = self.radius_accounting_ports.clone();
        config.dhcp = self.dhcp;
        config.aaa_sources = self.aaa_sources.clone();
        let voice = &mut config.voice;
        voice.sip_ports = self.sip_ports.clone();
        voice.max_tcp_flows = self.max_sip_tcp_flows;
        voice.max_tcp_octets = self.max_sip_tcp_octets;
        voice.max_registrations = self.max_sip_registrations;
        voice.registration_idle = Duration::from_secs(self.sip_registration_idle_secs);
        voice.max_ended_calls = self.max_ended_calls;
        voice.calls.max_calls = self.max_calls;
        voice.calls.max_flows = self.max_media_flows;
        voice.calls.inactivity_timeout = Duration::from_secs(self.call_timeout_secs);
        voice.calls.linger = Duration::from_secs(self.call_linger_secs);
    }
}

/// Where the frames come from, with paths resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureSource {
    /// Replay this file once.
    File {
        /// The file (absolute, or relative to the working directory).
        path: PathBuf,
        /// How: [`CaptureConfig::pace`], [`CaptureConfig::rebase`] and
        /// [`CaptureConfig::rebase_to`], labelled with the file name.
        replay: ReplayOptions,
        /// See [`CaptureConfig::start_after_tasks`].
        start_after_tasks: Option<usize>,
    },
    /// Capture on this interface.
    Interface(String),
}

impl ProbeConfig {
    /// Checks what serde cannot: a non-empty name and ADMF allow-list, a positive queue
    /// capacity and keepalive interval, and exactly one of `file` / `interface`.
    pub fn validate(&self) -> anyhow::Result<()> {
        let bad = |what: &str| Err(anyhow::anyhow!("invalid probe configuration: {what}"));
        if self.name.trim().is_empty() {
            return bad("name must not be empty");
        }
        if self.admf_identities.is_empty() {
            return bad("admf_identities must list at least one ADMF certificate identity");
        }
        if self.queue_capacity == 0 {
            return bad("queue_capacity must be at least 1");
        }
        if self.keepalive_interval_ms == 0 {
            return bad("keepalive_interval_ms must be at least 1");
        }
        if let Some(capture) = &self.capture {
            match (&capture.file, &capture.interface) {
                (Some(_), Some(_)) => {
                    return bad("[capture] takes `file` or `interface`, not both");
                }
                (None, None) => return bad("[capture] needs `file` or `interface`"),
                _ => {}
            }
            if capture.rebase_to.is_some() && !(capture.rebase && capture.file.is_some()) {
                return bad(
                    "[capture] rebase_to applies to a file replayed with rebase = true \
                     (rebase = false keeps the file's own times)",
                );
            }
        }
        Ok(())
    }

    /// The keepalive interval.
    pub fn keepalive_interval(&self) -> Duration {
        Duration::from_millis(self.keepalive_interval_ms)
    }

    /// The capture source with its path made relative to `base` (the configuration file's
    /// directory), if any.
    pub fn capture_source(&self, base: &Path) -> Option<CaptureSource> {
        let capture = self.capture.as_ref()?;
        if let Some(file) = &capture.file {
            return Some(CaptureSource::File {
                path: base.join(file),
                replay: ReplayOptions {
                    pace: capture.pace,
                    rebase: capture.rebase,
                    rebase_to: capture.rebase_to,
                    label: None,
                },
                start_after_tasks: capture.start_after_tasks,
            });
        }
        capture.interface.clone().map(CaptureSource::Interface)
    }
}

impl CaptureSource {
    /// How to replay a [`CaptureSource::File`]; `None` for an interface.
    pub fn replay_options(&self) -> Option<ReplayOptions> {
        match self {
            Self::File { replay, .. } => Some(replay.clone()),
            Self::Interface(_) => None,
        }
    }
}

fn optional_time<'de, D>(deserializer: D) -> Result<Option<Timestamp>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text = String::deserialize(deserializer)?;
    text.parse::<Timestamp>()
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time: {e}")))
}

fn default_server_name() -> String {
    "localhost".to_owned()
}

fn default_queue_capacity() -> usize {
    li_handover::x2x3::transport::DEFAULT_QUEUE_CAPACITY
}

fn default_keepalive_interval_ms() -> u64 {
    5_000
}

fn default_radius_ports() -> Vec<u16> {
    vec![1813]
}

fn yes() -> bool {
    true
}

/// The probe's settings from its configuration (relative paths against `base`): the TLS
/// files loaded, the audit log opened.
pub fn settings(config: &ProbeConfig, base: &Path) -> anyhow::Result<ProbeSettings> {
    let client_tls = li_handover::tls::load_client_config(&config.x2x3_tls.resolve(base))?;
    let mut settings = ProbeSettings::new(
        config.name.clone(),
        TlsConnector::from(client_tls),
        config.x2x3_server_name.clone(),
    );
    settings.queue_capacity = config.queue_capacity;
    if let Some(nfid) = &config.network_function_id {
        if nfid.is_empty() || nfid.len() > li_handover::x2x3::MAX_NETWORK_FUNCTION_ID_LEN {
            anyhow::bail!(
                "network_function_id {nfid:?}: 1 to {} octets",
                li_handover::x2x3::MAX_NETWORK_FUNCTION_ID_LEN
            );
        }
        settings.network_function_id = Some(nfid.as_bytes().to_vec());
    }
    settings.keepalive_interval = config.keepalive_interval();
    config.classifier.apply_to(&mut settings.classifier);
    if let Some(path) = &config.audit_log {
        let path = base.join(path);
        let (log, _) =
            AuditLog::open(&path).with_context(|| format!("audit log {}", path.display()))?;
        settings.audit = Some(Arc::new(log));
    }
    Ok(settings)
}

/// A probe started from its configuration: X1 server, ticker and metrics endpoint running.
#[derive(Debug)]
pub struct Running {
    /// The probe.
    pub probe: Probe,
    /// Where X1 listens.
    pub x1_addr: SocketAddr,
    /// Where the metrics endpoint listens, if configured.
    pub metrics_addr: Option<SocketAddr>,
    /// The metrics registry (the probe's metrics are registered).
    pub registry: Arc<Registry>,
    stop: watch::Sender<bool>,
    x1: JoinHandle<std::io::Result<()>>,
    ticker: JoinHandle<()>,
}

/// Builds the probe of `config` (relative paths against `base`), binds its X1 listener
/// (port 0 works) and starts X1, the ticker and the metrics endpoint; they stop when
/// `shutdown` turns true or [`Running::shutdown`] is called. The capture is the caller's:
/// see [`Probe::replay_file`].
pub async fn start(
    config: &ProbeConfig,
    base: &Path,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Running> {
    config.validate()?;
    let server_tls = li_handover::tls::load_server_config(&config.x1_tls.resolve(base))?;
    let probe = Probe::new(settings(config, base)?);

    let (stop, stopped) = watch::channel(false);
    {
        // The caller's shutdown stops everything too.
        let stop = stop.clone();
        let mut shutdown = shutdown;
        tokio::spawn(async move {
            let _ = shutdown.wait_for(|s| *s).await;
            let _ = stop.send(true);
        });
    }
    let registry = Arc::new(Registry::new());
    register_metrics(&probe, &registry).context("metrics")?;
    let metrics_addr = crate::cli::start_metrics(
        config.metrics_listen,
        Arc::clone(&registry),
        stopped.clone(),
    )
    .await
    .context("metrics")?;

    let listener = TcpListener::bind(config.x1_listen)
        .await
        .with_context(|| format!("cannot listen for X1 on {}", config.x1_listen))?;
    let x1_addr = listener.local_addr().context("X1 listener address")?;
    let x1_config = X1ServerConfig {
        allowed_identities: Some(config.admf_identities.clone()),
        allowed_admfs: config.admf_identifiers.clone(),
        ..X1ServerConfig::default()
    };
    let x1 = {
        let probe = probe.clone();
        let acceptor = TlsAcceptor::from(server_tls);
        let stopped = stopped.clone();
        tokio::spawn(async move { probe.serve_x1(listener, acceptor, x1_config, stopped).await })
    };
    let ticker = probe.spawn_ticker(stopped);
    info!(name = %config.name, %x1_addr, "probe: X1 on https://{x1_addr}");
    Ok(Running {
        probe,
        x1_addr,
        metrics_addr,
        registry,
        stop,
        x1,
        ticker,
    })
}

impl Running {
    /// Stops X1, the ticker and the metrics endpoint, then [`Probe::shutdown`] (deliver the
    /// X2/X3 queues for at most `timeout`).
    pub async fn shutdown(self, timeout: Duration) -> DeliveryReport {
        let _ = self.stop.send(true);
        let report = self.probe.shutdown(timeout).await;
        if let Ok(Ok(Err(error))) = tokio::time::timeout(Duration::from_secs(5), self.x1).await {
            warn!(%error, "X1 server ended with an error");
        }
        let _ = self.ticker.await;
        report
    }
}

/// Registers the probe's metrics (listed in docs/CONFIGURATION.md): frames per interface
/// and outcome, records per kind, X2/X3 PDUs per destination and outcome, queue depth,
/// link state, active tasks; each read from the probe's statistics at scrape time.
pub fn register_metrics(probe: &Probe, registry: &Registry) -> Result<(), MetricsError> {
    let p = probe.clone();
    registry.collector(
        "li_probe_frames_total",
        "Frames captured, by capture interface (file or interface name) and outcome (seen: \
         every frame; not_ip, malformed, matched: a target's packet; truncated: a \
         target's packet cut by the snapshot length, delivered truncated; length_mismatch: \
         a target's packet whose IP length disagrees with the frame or an enclosing \
         length, delivered as the bytes present).",
        MetricKind::Counter,
        &["interface", "outcome"],
        move || {
            let mut out = Vec::new();
            for (name, c) in &p.interface_frames() {
                for (outcome, n) in [
                    ("seen", c.frames),
                    ("not_ip", c.not_ip),
                    ("malformed", c.malformed),
                    ("matched", c.matched),
                    ("truncated", c.truncated),
                    ("length_mismatch", c.length_mismatch),
                ] {
                    out.push(sample(&[name, outcome], n as f64));
                }
            }
            out
        },
    )?;
    let p = probe.clone();
    registry.collector(
        "li_probe_records_total",
        "Intercept records produced by the classifier, by kind (cc, iri).",
        MetricKind::Counter,
        &["kind"],
        move || {
            let s = p.classifier_stats();
            vec![
                sample(&["cc"], s.cc_records as f64),
                sample(&["iri"], s.iri_records as f64),
            ]
        },
    )?;
    let p = probe.clone();
    registry.collector(
        "li_probe_unencodable_records_total",
        "Intercept records that could not be encoded as X2/X3 PDUs (not sent).",
        MetricKind::Counter,
        &[],
        move || vec![sample(&[], p.unencodable_records() as f64)],
    )?;
    let p = probe.clone();
    registry.collector(
        "li_probe_aaa_messages_total",
        "AAA messages seen by the classifier, by kind (radius, radius_error, dhcp, \
         dhcp_error).",
        MetricKind::Counter,
        &["kind"],
        move || {
            let s = p.classifier_stats();
            vec![
                sample(&["radius"], s.radius_requests as f64),
                sample(&["radius_error"], s.radius_errors as f64),
                sample(&["dhcp"], s.dhcp_messages as f64),
                sample(&["dhcp_error"], s.dhcp_errors as f64),
            ]
        },
    )?;
    let p = probe.clone();
    registry.collector(
        "li_probe_sip_messages_total",
        "SIP messages seen on the SIP ports, by outcome (seen, matched: naming a target, \
         error: not parsed or skipped in a TCP stream).",
        MetricKind::Counter,
        &["outcome"],
        move || {
            let s = p.classifier_stats();
            vec![
                sample(&["seen"], s.sip_messages as f64),
                sample(&["matched"], s.sip_matched as f64),
                sample(&["error"], s.sip_errors as f64),
            ]
        },
    )?;
    let p = probe.clone();
    registry.collector(
        "li_probe_calls_total",
        "Calls of targets, by event (tracked: begun, evicted: to make room, timed_out: ended \
         by the inactivity timeout).",
        MetricKind::Counter,
        &["event"],
        move || {
            let s = p.classifier_stats();
            vec![
                sample(&["tracked"], s.calls_tracked as f64),
                sample(&["evicted"], s.calls_evicted as f64),
                sample(&["timed_out"], s.calls_timed_out as f64),
            ]
        },
    )?;
    let p = probe.clone();
    registry.collector(
        "li_probe_sip_correlations_evicted_total",
        "CINs remembered for a target's SIP messages outside calls, dropped to make room, by \
         kind (registration: a registration's by Call-ID, ended_call: an ended call's for its \
         late messages).",
        MetricKind::Counter,
        &["kind"],
        move || {
            let s = p.classifier_stats();
            vec![
                sample(&["registration"], s.sip_registrations_evicted as f64),
                sample(&["ended_call"], s.sip_ended_calls_evicted as f64),
            ]
        },
    )?;
    let p = probe.clone();
    registry.gauge_fn(
        "li_probe_sip_registrations",
        "Registrations (Call-IDs of a target's SIP messages outside calls) whose CINs are \
         remembered now.",
        move || p.classifier_stats().sip_registrations as f64,
    )?;
    let p = probe.clone();
    registry.gauge_fn(
        "li_probe_calls_active",
        "Calls of targets tracked now.",
        move || p.classifier_stats().calls_active as f64,
    )?;
    let p = probe.clone();
    registry.gauge_fn(
        "li_probe_media_flows",
        "Media flows (RTP/RTCP addresses) bound to tracked calls now.",
        move || p.classifier_stats().media_flows as f64,
    )?;
    let p = probe.clone();
    registry.collector(
        "li_probe_media_packets_total",
        "Media packets (RTP, RTCP) of tracked calls intercepted.",
        MetricKind::Counter,
        &[],
        move || vec![sample(&[], p.classifier_stats().media_packets as f64)],
    )?;
    let p = probe.clone();
    registry.collector(
        "li_probe_x2x3_pdus_total",
        "X2/X3 PDUs per destination (DID) and outcome (queued, sent, dropped: queue full, \
         possibly_lost: on a connection that died).",
        MetricKind::Counter,
        &["destination", "outcome"],
        move || {
            link_samples(&p.destination_stats(), |s, _| {
                vec![
                    ("queued", s.queued as f64),
                    ("sent", s.sent as f64),
                    ("dropped", s.dropped as f64),
                    ("possibly_lost", s.possibly_lost as f64),
                ]
            })
        },
    )?;
    let p = probe.clone();
    registry.collector(
        "li_probe_x2x3_queue_pdus",
        "X2/X3 PDUs waiting in the destination's queue.",
        MetricKind::Gauge,
        &["destination"],
        move || link_samples(&p.destination_stats(), |_, queue| vec![("", queue as f64)]),
    )?;
    let p = probe.clone();
    registry.collector(
        "li_probe_x2x3_link_up",
        "1 when the X2/X3 link to the destination (DID) is connected.",
        MetricKind::Gauge,
        &["destination"],
        move || {
            link_samples(&p.destination_stats(), |s, _| {
                vec![("", f64::from(u8::from(s.connected)))]
            })
        },
    )?;
    let p = probe.clone();
    registry.gauge_fn(
        "li_probe_active_tasks",
        "Tasks currently active.",
        move || p.active_tasks() as f64,
    )?;
    Ok(())
}

/// One sample per destination and value `f` returns (an empty name: no `outcome` label).
fn link_samples(
    destinations: &[DestinationStats],
    f: impl Fn(&SenderStatsSnapshot, usize) -> Vec<(&'static str, f64)>,
) -> Vec<Sample> {
    let mut out = Vec::new();
    for d in destinations {
        let did = d.did.to_string();
        for (outcome, value) in f(&d.link, d.queue_len) {
            if outcome.is_empty() {
                out.push(sample(&[&did], value));
            } else {
                out.push(sample(&[&did, outcome], value));
            }
        }
    }
    out
}

fn sample(labels: &[&str], value: f64) -> Sample {
    Sample {
        labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        value,
    }
}

#[cfg(test)]
mod tests;
