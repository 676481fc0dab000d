//! The `li-lemf` daemon: the agency's receiver (`li_handover::lemf::Receiver`) with its HI2 and
//! HI3 listeners, TLS, metrics and summary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use li_handover::lemf::{DELIVERY_LATENCY_BUCKETS, Interface, Receiver, ReceiverConfig, Summary};
use li_handover::tls::load_server_config;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::cli::{TlsFileConfig, start_metrics};
use crate::metrics::{HistogramSample, MetricKind, Registry, Sample};

/// `li-lemf` configuration (TOML). See `docs/CONFIGURATION.md`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LemfConfig {
    /// HI2 (IRI) listening address. Default `127.0.0.1:7010`.
    #[serde(default = "default_hi2")]
    pub hi2_listen: SocketAddr,
    /// HI3 (CC) listening address. Default `127.0.0.1:7011`.
    #[serde(default = "default_hi3")]
    pub hi3_listen: SocketAddr,
    /// TLS: our server certificate, key, and the CA of the mediators' client certificates
    /// (mutual TLS). Absent: plain TCP.
    #[serde(default)]
    pub tls: Option<TlsFileConfig>,
    /// Where `records.jsonl` and the `<LIID>.pcap` files are written. Default `"lemf-out"`.
    #[serde(default = "default_out")]
    pub out_dir: PathBuf,
    /// A connection silent this long is closed, in seconds. Default 60.
    #[serde(default = "default_idle")]
    pub idle_timeout_s: u64,
    /// Connections per listener at once. Default 64.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Largest PS-PDU accepted, in octets. Default 1 MiB.
    #[serde(default = "default_max_pdu")]
    pub max_pdu_len: usize,
    /// Also keep the raw HI2/HI3 streams (`hi2.ber`, `hi3.ber` in `out_dir`, every PS-PDU as
    /// received). Default false.
    #[serde(default)]
    pub keep_raw: bool,
    /// Before answering a keep-alive, `sync_data` the output files (everything received
    /// before the keep-alive is then on disk when the mediator deletes it from its spool).
    /// Default true; false only writes the records to the operating system first.
    #[serde(default = "default_fsync")]
    pub fsync: bool,
    /// Prometheus endpoint (`/metrics`); absent: none.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
}

fn default_hi2() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7010))
}
fn default_hi3() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7011))
}
fn default_out() -> PathBuf {
    "lemf-out".into()
}
fn default_idle() -> u64 {
    60
}
fn default_max_connections() -> usize {
    64
}
fn default_fsync() -> bool {
    true
}
fn default_max_pdu() -> usize {
    li_handover::lemf::DEFAULT_MAX_PDU_LEN
}

/// How long [`RunningLemf::stop`] waits for the connections to store what they hold.
pub const STOP_WAIT: Duration = Duration::from_secs(10);

/// A started receiver.
#[derive(Debug)]
pub struct RunningLemf {
    /// The receiver (its summary, its output paths).
    pub receiver: Receiver,
    /// Where HI2 is served.
    pub hi2_addr: SocketAddr,
    /// Where HI3 is served.
    pub hi3_addr: SocketAddr,
    /// Where metrics are served, if configured.
    pub metrics_addr: Option<SocketAddr>,
    tasks: JoinSet<()>,
}

impl RunningLemf {
    /// What has been received so far.
    pub fn summary(&self) -> Summary {
        self.receiver.summary()
    }

    /// Stops listening, lets every connection store what it has received (for at most
    /// [`STOP_WAIT`]) and returns the summary, which then agrees with the output files.
    pub async fn stop(mut self) -> Summary {
        self.tasks.shutdown().await;
        match tokio::time::timeout(STOP_WAIT, self.receiver.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "LEMF stopped with an output error"),
            Err(_) => tracing::error!(
                wait = ?STOP_WAIT,
                "LEMF stopped before every connection had stored what it received"
            ),
        }
        self.receiver.summary()
    }

    /// Waits until `shutdown` turns `true`, then stops.
    pub async fn run_until(self, mut shutdown: watch::Receiver<bool>) -> Summary {
        while !*shutdown.borrow_and_update() {
            if shutdown.changed().await.is_err() {
                break;
            }
        }
        self.stop().await
    }
}

/// Binds the HI2 and HI3 listeners (port 0 picks one) and starts receiving. Relative paths
/// are relative to `base`.
pub async fn start(
    config: &LemfConfig,
    base: &Path,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<RunningLemf> {
    let mut receiver_config = ReceiverConfig::new(base.join(&config.out_dir));
    receiver_config.idle_timeout = Duration::from_secs(config.idle_timeout_s);
    receiver_config.max_connections = config.max_connections;
    receiver_config.max_pdu_len = config.max_pdu_len;
    receiver_config.keep_raw = config.keep_raw;
    receiver_config.fsync = config.fsync;
    let receiver = Receiver::new(receiver_config)
        .with_context(|| format!("output directory {}", base.join(&config.out_dir).display()))?;
    let tls = match &config.tls {
        None => None,
        Some(files) => Some(TlsAcceptor::from(
            load_server_config(&files.resolve(base)).context("tls")?,
        )),
    };
    let registry = Arc::new(Registry::new());
    register_metrics(&receiver, &registry).context("registering metrics")?;
    let metrics_addr = start_metrics(config.metrics_listen, registry, shutdown).await?;
    let mut tasks = JoinSet::new();
    let mut addrs = Vec::new();
    for (interface, addr) in [
        (Interface::Hi2, config.hi2_listen),
        (Interface::Hi3, config.hi3_listen),
    ] {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for {interface} on {addr}"))?;
        addrs.push(listener.local_addr()?);
        let receiver = receiver.clone();
        let tls = tls.clone();
        tasks.spawn(async move {
            if let Err(error) = receiver.serve(listener, tls, interface).await {
                tracing::error!(%interface, %error, "listener failed");
            }
        });
    }
    let (hi2_addr, hi3_addr) = match addrs.as_slice() {
        [a, b] => (*a, *b),
        _ => anyhow::bail!("listeners not bound"),
    };
    tracing::info!(%hi2_addr, %hi3_addr, tls = tls.is_some(), "LEMF receiver started");
    Ok(RunningLemf {
        receiver,
        hi2_addr,
        hi3_addr,
        metrics_addr,
        tasks,
    })
}

fn register_metrics(
    receiver: &Receiver,
    registry: &Registry,
) -> Result<(), crate::metrics::MetricsError> {
    type Pick = fn(&li_handover::lemf::LiidSummary) -> u64;
    let families: [(&str, &str, MetricKind, Pick); 4] = [
        (
            "li_lemf_iri_records_total",
            "IRI records received, per LIID (repeats included).",
            MetricKind::Counter,
            |s| s.iri,
        ),
        (
            "li_lemf_cc_records_total",
            "CC records received, per LIID (repeats included).",
            MetricKind::Counter,
            |s| s.cc,
        ),
        (
            "li_lemf_missing_total",
            "Sequence numbers that never arrived, per LIID.",
            MetricKind::Counter,
            |s| s.gaps,
        ),
        (
            "li_lemf_repeats_total",
            "PDUs repeating a sequence number already seen, per LIID.",
            MetricKind::Counter,
            |s| s.repeats,
        ),
    ];
    for (name, help, kind, pick) in families {
        let receiver = receiver.clone();
        registry.collector(name, help, kind, &["liid"], move || {
            receiver
                .summary()
                .liids
                .iter()
                .map(|(liid, s)| Sample {
                    labels: vec![liid.to_string()],
                    value: pick(s) as f64,
                })
                .collect()
        })?;
    }
    const INTERFACES: [(Interface, &str); 2] = [(Interface::Hi2, "hi2"), (Interface::Hi3, "hi3")];
    let keep_alives = receiver.clone();
    registry.collector(
        "li_lemf_keepalives_total",
        "Keep-alives received (each answered once the records before it are stored), per interface.",
        MetricKind::Counter,
        &["interface"],
        move || {
            INTERFACES
                .iter()
                .map(|&(interface, label)| Sample {
                    labels: vec![label.into()],
                    value: keep_alives.interface_stats(interface).keep_alives as f64,
                })
                .collect()
        },
    )?;
    let latency = receiver.clone();
    registry.histogram_collector(
        "li_lemf_delivery_latency_seconds",
        "Receive time minus the PSHeader time of each PS-PDU carrying records, per interface.",
        &["interface"],
        move || {
            INTERFACES
                .iter()
                .map(|&(interface, label)| {
                    let h = latency.interface_stats(interface).latency;
                    HistogramSample {
                        labels: vec![label.into()],
                        buckets: DELIVERY_LATENCY_BUCKETS
                            .iter()
                            .copied()
                            .zip(h.buckets)
                            .collect(),
                        count: h.count,
                        sum: h.sum_micros as f64 / 1e6,
                    }
                })
                .collect()
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use li_asn1::ber::frame_len;
    use li_asn1::{CcEncoder, HeaderSettings, PayloadDirection, TriPayload};
    use li_core::{Cin, Liid, OperatorId, Timestamp};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    async fn scrape(addr: SocketAddr) -> String {
        let mut sock = TcpStream::connect(addr).await.unwrap();
        sock.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut text = String::new();
        sock.read_to_string(&mut text).await.unwrap();
        text
    }

    #[tokio::test]
    async fn metrics_count_records_keep_alives_and_latency() {
        let dir = tempfile::tempdir().unwrap();
        let config: LemfConfig = toml::from_str(
            "hi2_listen = \"127.0.0.1:0\"\nhi3_listen = \"127.0.0.1:0\"\n\
             metrics_listen = \"127.0.0.1:0\"\nfsync = false\n",
        )
        .unwrap();
        assert!(!config.fsync);
        let (_stop, shutdown) = watch::channel(false);
        let running = start(&config, dir.path(), shutdown).await.unwrap();
        assert!(!running.receiver.config().fsync);

        let s = HeaderSettings::new(
            Liid::new(b"LIID-M").unwrap(),
            OperatorId::new(b"OP").unwrap(),
        );
        // Sent an hour ago: over the last bucket.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let time = Timestamp::from_secs_micros(now - 3600, 0).unwrap();
        let mut bytes = Vec::new();
        for seq in 0..3 {
            CcEncoder::new(&s, Cin::new(1)).encode(
                seq,
                time,
                PayloadDirection::FromTarget,
                &[
                    0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
                ],
                &mut bytes,
            );
        }
        s.tri_pdu(0, time, TriPayload::KeepAlive)
            .encode_into(&mut bytes);
        let mut hi3 = TcpStream::connect(running.hi3_addr).await.unwrap();
        hi3.write_all(&bytes).await.unwrap();
        let mut answer = Vec::new();
        while frame_len(&answer, 1 << 20).unwrap().is_none() {
            assert!(hi3.read_buf(&mut answer).await.unwrap() > 0);
        }

        let text = scrape(running.metrics_addr.unwrap()).await;
        for line in [
            "li_lemf_cc_records_total{liid=\"LIID-M\"} 3\n",
            "li_lemf_missing_total{liid=\"LIID-M\"} 0\n",
            "li_lemf_repeats_total{liid=\"LIID-M\"} 0\n",
            "li_lemf_keepalives_total{interface=\"hi2\"} 0\n",
            "li_lemf_keepalives_total{interface=\"hi3\"} 1\n",
            "# TYPE li_lemf_delivery_latency_seconds histogram\n",
            "li_lemf_delivery_latency_seconds_bucket{interface=\"hi3\",le=\"5\"} 0\n",
            "li_lemf_delivery_latency_seconds_bucket{interface=\"hi3\",le=\"+Inf\"} 3\n",
            "li_lemf_delivery_latency_seconds_count{interface=\"hi3\"} 3\n",
            "li_lemf_delivery_latency_seconds_count{interface=\"hi2\"} 0\n",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
        running.stop().await;
    }
}
