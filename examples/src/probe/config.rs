//! The probe's TOML configuration ([`ProbeConfig`]).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use li_capture::classify::ClassifierConfig;
use li_core::Timestamp;
use serde::Deserialize;

use super::{ProbeError, ReplayOptions};
use crate::cli::TlsFileConfig;

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
}

impl Default for ClassifierOptions {
    fn default() -> Self {
        Self {
            radius_accounting_ports: default_radius_ports(),
            dhcp: true,
            aaa_sources: None,
        }
    }
}

impl ClassifierOptions {
    /// The classifier configuration these options describe (other settings at their
    /// defaults). The CINs of this run start at a random point, so that two probes (or two
    /// runs of one) feeding the same mediator do not give two communications one CIN.
    pub fn classifier_config(&self) -> ClassifierConfig {
        let [a, b, c, d, ..] = crate::admf::random_bytes();
        ClassifierConfig {
            radius_accounting_ports: self.radius_accounting_ports.clone(),
            dhcp: self.dhcp,
            aaa_sources: self.aaa_sources.clone(),
            first_cin: u32::from_be_bytes([a, b, c, d]).max(1),
            ..ClassifierConfig::default()
        }
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
    pub fn validate(&self) -> Result<(), ProbeError> {
        let bad = |what: &str| Err(ProbeError::Config(what.to_owned()));
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
