//! The `li-lemf` daemon's configuration and metrics around the agency's receiver
//! ([`li_handover::lemf::start`]: its HI2 and HI3 listeners, TLS, graceful stop and summary).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use li_handover::lemf::{
    self, DELIVERY_LATENCY_BUCKETS, Interface, Receiver, ReceiverConfig, RunningReceiver,
};
use li_handover::tls::load_server_config;
use serde::Deserialize;
use tokio::sync::watch;
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
    /// PacketCable call content (CCC datagrams, `pcli12` form) over UDP: the address the
    /// socket is bound to. Absent: none (PacketCable call data still comes on HI2).
    #[serde(default)]
    pub ccc_listen: Option<SocketAddr>,
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
    /// Voice calls with open files (ladder, pcap, WAV under `out_dir/<LIID>/calls/<CIN>/`)
    /// at most; the least recently active is closed to open another. Default 256.
    #[serde(default = "default_max_open_calls")]
    pub max_open_calls: usize,
    /// How far G.711 packets may be reordered and still be put in place in the WAV, in
    /// milliseconds. Default 1000.
    #[serde(default = "default_jitter_window_ms")]
    pub jitter_window_ms: u64,
    /// The longest gap in a G.711 stream filled with silence in the WAV, in seconds.
    /// Default 10.
    #[serde(default = "default_max_silence_s")]
    pub max_silence_s: u64,
    /// How long a call's files stay open after its IRI-End for media still on its way, in
    /// seconds of record time. Default 10.
    #[serde(default = "default_call_end_grace_s")]
    pub call_end_grace_s: u64,
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
fn default_max_open_calls() -> usize {
    lemf::VoiceConfig::default().max_open_calls
}
fn default_jitter_window_ms() -> u64 {
    1000
}
fn default_max_silence_s() -> u64 {
    10
}
fn default_call_end_grace_s() -> u64 {
    10
}
fn default_max_pdu() -> usize {
    li_handover::lemf::DEFAULT_MAX_PDU_LEN
}

/// Starts the receiver of `config` (relative paths relative to `base`): its output
/// directory, its metrics, its HI2 and HI3 listeners and, with `ccc_listen`, its
/// PacketCable call-content socket ([`lemf::start_with`]; port 0 picks one). Returns it with the address metrics are served on, if configured.
pub async fn start(
    config: &LemfConfig,
    base: &Path,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<(RunningReceiver, Option<SocketAddr>)> {
    let mut receiver_config = ReceiverConfig::new(base.join(&config.out_dir));
    receiver_config.idle_timeout = Duration::from_secs(config.idle_timeout_s);
    receiver_config.max_connections = config.max_connections;
    receiver_config.max_pdu_len = config.max_pdu_len;
    receiver_config.keep_raw = config.keep_raw;
    receiver_config.fsync = config.fsync;
    receiver_config.voice.max_open_calls = config.max_open_calls;
    receiver_config.voice.jitter_window = Duration::from_millis(config.jitter_window_ms);
    receiver_config.voice.max_silence = Duration::from_secs(config.max_silence_s);
    receiver_config.voice.end_grace = Duration::from_secs(config.call_end_grace_s);
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
    let running = lemf::start_with(
        receiver,
        config.hi2_listen,
        config.hi3_listen,
        config.ccc_listen,
        tls,
    )
    .await?;
    Ok((running, metrics_addr))
}

fn register_metrics(
    receiver: &Receiver,
    registry: &Registry,
) -> Result<(), crate::metrics::MetricsError> {
    type Pick = fn(&li_handover::lemf::LiidSummary) -> u64;
    let families: [(&str, &str, MetricKind, Pick); 5] = [
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
        (
            "li_lemf_calls_total",
            "Voice calls (CINs with IP multimedia records, each with its own files), per LIID.",
            MetricKind::Counter,
            |s| s.calls.len() as u64,
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
    let ccc = receiver.clone();
    registry.collector(
        "li_lemf_ccc_datagrams_total",
        "PacketCable call-content datagrams (UDP), by outcome: received, attributed (to a \
         call's LIID), unattributed (no CCOpen named their identifier in time), malformed.",
        MetricKind::Counter,
        &["outcome"],
        move || {
            let c = ccc.summary().ccc;
            [
                ("received", c.datagrams),
                ("attributed", c.attributed),
                ("unattributed", c.unattributed),
                ("malformed", c.malformed),
            ]
            .into_iter()
            .map(|(outcome, n)| Sample {
                labels: vec![outcome.into()],
                value: n as f64,
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
             metrics_listen = \"127.0.0.1:0\"\nfsync = false\nccc_listen = \"127.0.0.1:0\"\n",
        )
        .unwrap();
        assert!(!config.fsync);
        let (_stop, shutdown) = watch::channel(false);
        let (running, metrics_addr) = start(&config, dir.path(), shutdown).await.unwrap();
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

        // A malformed PacketCable datagram, counted.
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        udp.send_to(&[0, 0, 0, 1], running.ccc_addr.unwrap())
            .await
            .unwrap();
        running.wait_for(|s| s.ccc.malformed == 1).await;

        let text = scrape(metrics_addr.unwrap()).await;
        for line in [
            "li_lemf_ccc_datagrams_total{outcome=\"received\"} 1\n",
            "li_lemf_ccc_datagrams_total{outcome=\"malformed\"} 1\n",
            "li_lemf_ccc_datagrams_total{outcome=\"attributed\"} 0\n",
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
