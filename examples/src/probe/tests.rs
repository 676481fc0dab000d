//! Tests of the probe with what only the examples have: the configuration, the start-up
//! from it and the metrics. (The probe's own tests, with the shipped sample's synthetic
//! capture, a real mediator and a real agency, are in `li-capture`, `probe::tests`.)

use std::time::Duration;

use li_capture::probe::{Probe, ProbeSettings, ReplayOptions};
use li_capture::source::PcapWriter;
use li_core::{DestinationId, Timestamp, Xid};
use li_handover::tls::{DevPki, Validity};
use li_handover::x1::transport::X1Client;
use li_handover::x1::{
    DeliveryAddress, DeliveryType, DestinationDetails, MessageHeader, RequestBody, ResponseBody,
    TaskDetails, TransactionId, X1Request, X1Version,
};

use super::*;
use crate::cli::now as wall_clock;

/// A pcap, `tiny.pcap` in `dir`, of `n` raw IPv4 packets from 192.0.2.7, `gap` apart, from
/// `start` (the `i`-th to 198.51.100.`i`).
fn tiny_pcap(dir: &Path, start: Timestamp, n: u32, gap: Duration) -> std::path::PathBuf {
    let mut writer = PcapWriter::new(Vec::new(), li_capture::LinkType::RawIp, false).unwrap();
    for i in 0..n {
        let mut packet = vec![0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 253, 0, 0];
        packet.extend_from_slice(&[192, 0, 2, 7, 198, 51, 100, i as u8]);
        let t = start.checked_add(gap * i).unwrap();
        writer.write_frame(t, &packet).unwrap();
    }
    let path = dir.join("tiny.pcap");
    std::fs::write(&path, writer.into_inner()).unwrap();
    path
}

/// A probe whose X2/X3 links use a development PKI's certificate.
fn plain_probe(queue_capacity: usize) -> Probe {
    let pki = DevPki::new("probe test CA").unwrap();
    let identity = pki
        .issue("probe-1", &["probe.test"], &[], Validity::Default)
        .unwrap();
    let connector = TlsConnector::from(pki.client_config(&identity).unwrap());
    let mut settings = ProbeSettings::new("probe-1", connector, "mdf.test");
    settings.queue_capacity = queue_capacity;
    Probe::new(settings)
}

/// The daemon's metrics of a library probe: names, labels and values, read from the
/// statistics the probe's own tests check (frames per capture and outcome, PDUs per
/// destination and outcome, active tasks).
#[tokio::test]
async fn the_probe_metrics_have_their_names_labels_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let start = Timestamp::from_secs_micros(1_700_000_000, 0).unwrap();
    let path = tiny_pcap(dir.path(), start, 4, Duration::from_millis(1));
    // room for the whole replay: nobody takes the PDUs
    let probe = plain_probe(1024);
    let registry = Registry::new();
    register_metrics(&probe, &registry).unwrap();
    // a destination on the discard port: whether it connects or not, what is queued counts
    let d = DestinationId::new_v4_from_random([1; 16]);
    let delivery_address = DeliveryAddress::IpAddressPort {
        address: [127, 0, 0, 1].into(),
        port: li_handover::x1::Port::Tcp(9),
    };
    probe
        .create_destination(DestinationDetails {
            did: d,
            friendly_name: Some("MDF".into()),
            delivery_type: DeliveryType::X2AndX3,
            delivery_address,
        })
        .unwrap();
    let target = vec!["ipv4:192.0.2.7".parse().unwrap()];
    let xid = Xid::new_v4_from_random([1; 16]);
    probe
        .activate_task(TaskDetails::new(
            xid,
            target,
            DeliveryType::X2AndX3,
            vec![d],
        ))
        .unwrap();
    let report = probe
        .replay_file(&path, ReplayOptions::default())
        .await
        .unwrap();
    assert_eq!((report.counters.frames, report.counters.matched), (4, 4));
    let text = registry.render();
    let frames = "li_probe_frames_total{interface=\"tiny.pcap\",outcome=";
    let pdus = format!("li_probe_x2x3_pdus_total{{destination=\"{d}\",outcome=");
    for line in [
        format!("{frames}\"seen\"}} 4"),
        format!("{frames}\"matched\"}} 4"),
        format!("{frames}\"truncated\"}} 0"),
        format!("{frames}\"length_mismatch\"}} 0"),
        // IRI-Begin and four CC records, none sent: nobody listens.
        format!("{pdus}\"queued\"}} 5"),
        format!("{pdus}\"dropped\"}} 0"),
        "li_probe_active_tasks 1".to_owned(),
        "# TYPE li_probe_frames_total counter".to_owned(),
        "# TYPE li_probe_x2x3_pdus_total counter".to_owned(),
        "# TYPE li_probe_active_tasks gauge".to_owned(),
        // The voice counters are registered (no SIP target here: nothing counted).
        "li_probe_sip_messages_total{outcome=\"seen\"} 0".to_owned(),
        "li_probe_calls_total{event=\"evicted\"} 0".to_owned(),
        "li_probe_calls_active 0".to_owned(),
        "li_probe_sip_registrations 0".to_owned(),
        "li_probe_sip_correlations_evicted_total{kind=\"registration\"} 0".to_owned(),
        "li_probe_sip_correlations_evicted_total{kind=\"ended_call\"} 0".to_owned(),
        "li_probe_media_flows 0".to_owned(),
        "li_probe_media_packets_total 0".to_owned(),
        "# TYPE li_probe_calls_total counter".to_owned(),
        "# TYPE li_probe_calls_active gauge".to_owned(),
    ] {
        assert!(text.contains(&line), "{line} in {text}");
    }
    probe.shutdown(Duration::from_millis(100)).await;
}

const CONFIG: &str = r#"
name = "probe-1"
x1_listen = "127.0.0.1:0"
admf_identities = ["admf"]
queue_capacity = 1024
keepalive_interval_ms = 1000
metrics_listen = "127.0.0.1:0"

[x1_tls]
cert = "pki/probe-1.pem"
key = "pki/probe-1.key"
ca = "pki/ca.pem"

[x2x3_tls]
cert = "pki/probe-1.pem"
key = "pki/probe-1.key"
ca = "pki/ca.pem"

[capture]
file = "sample.pcap"
pace = true
start_after_tasks = 2

[classifier]
radius_accounting_ports = [1813, 1646]
dhcp = false
sip_ports = [5060, 5080]
max_calls = 5000
call_timeout_secs = 120
max_sip_tcp_octets = 1048576
max_sip_registrations = 500
sip_registration_idle_secs = 600
"#;

#[test]
fn configuration_parses_with_defaults_and_refuses_unknown_keys() {
    let config: ProbeConfig = toml::from_str(CONFIG).unwrap();
    config.validate().unwrap();
    assert_eq!(config.x2x3_server_name, "localhost");
    assert_eq!(config.admf_identifiers, None);
    assert_eq!(config.keepalive_interval(), Duration::from_secs(1));
    assert_eq!(
        config.capture_source(Path::new("/etc/li")),
        Some(CaptureSource::File {
            path: "/etc/li/sample.pcap".into(),
            replay: ReplayOptions {
                pace: true,
                rebase: true,
                rebase_to: None,
                label: None,
            },
            start_after_tasks: Some(2),
        })
    );
    // Only what the file says changes (the first CIN stays ProbeSettings::new's random one).
    let mut classifier = ClassifierConfig {
        first_cin: 77,
        ..ClassifierConfig::default()
    };
    config.classifier.apply_to(&mut classifier);
    assert_eq!(classifier.radius_accounting_ports, [1813, 1646]);
    assert_eq!(classifier.first_cin, 77);
    assert!(!classifier.dhcp);
    assert_eq!(ClassifierOptions::default().radius_accounting_ports, [1813]);
    // The voice keys: what the file says, the library's defaults for the rest.
    let voice = &classifier.voice;
    assert_eq!(voice.sip_ports, [5060, 5080]);
    assert_eq!(voice.calls.max_calls, 5000);
    assert_eq!(voice.calls.inactivity_timeout, Duration::from_secs(120));
    let library = li_capture::classify::VoiceConfig::default();
    assert_eq!(voice.calls.linger, library.calls.linger);
    assert_eq!(voice.calls.max_flows, library.calls.max_flows);
    assert_eq!(voice.max_tcp_flows, library.max_tcp_flows);
    assert_eq!(voice.max_tcp_octets, 1 << 20);
    assert_eq!(voice.max_registrations, 500);
    assert_eq!(voice.registration_idle, Duration::from_secs(600));
    assert_eq!(voice.max_ended_calls, library.max_ended_calls);
    let defaults = ClassifierOptions::default();
    assert_eq!(
        (
            defaults.sip_ports,
            defaults.max_calls,
            defaults.call_timeout_secs
        ),
        (vec![5060], 100_000, 300)
    );

    let unknown = CONFIG.replace("pace = true", "pace = true\nspeed = 2");
    assert!(toml::from_str::<ProbeConfig>(&unknown).is_err());
    let both = CONFIG.replace("pace = true", "interface = \"eth0\"");
    let config: ProbeConfig = toml::from_str(&both).unwrap();
    assert!(config.validate().is_err());
    let empty = CONFIG.replace("[\"admf\"]", "[]");
    let config: ProbeConfig = toml::from_str(&empty).unwrap();
    assert!(config.validate().is_err());
}

#[tokio::test]
async fn a_recorded_capture_replays_against_its_own_time_from_the_configuration() {
    // `rebase_to` (was not configurable): the first frame is stamped with the given time
    let recorded = Timestamp::from_secs_micros(1_700_000_000, 250_000).unwrap();
    let text = CONFIG.replace(
        "pace = true",
        "pace = false\nrebase_to = \"2023-11-14T22:13:20.25Z\"",
    );
    let config: ProbeConfig = toml::from_str(&text).unwrap();
    config.validate().unwrap();
    let source = config.capture_source(Path::new("/etc/li")).unwrap();
    let options = source.replay_options().unwrap();
    assert_eq!(options.rebase_to, Some(recorded));
    assert!(options.rebase && !options.pace);
    // replayed with those options: the recording's own times
    let dir = tempfile::tempdir().unwrap();
    let path = tiny_pcap(dir.path(), recorded, 3, Duration::from_millis(10));
    let report = plain_probe(16).replay_file(&path, options).await.unwrap();
    assert_eq!(report.first_timestamp, Some(recorded));
    assert_eq!(
        report.last_timestamp,
        recorded.checked_add(Duration::from_millis(20))
    );

    // rebase = false keeps the file's times too; rebase_to then contradicts it
    let keep = CONFIG.replace("pace = true", "rebase = false");
    let config: ProbeConfig = toml::from_str(&keep).unwrap();
    config.validate().unwrap();
    let options = config
        .capture_source(Path::new("/"))
        .unwrap()
        .replay_options()
        .unwrap();
    assert!(!options.rebase);
    let report = plain_probe(16).replay_file(&path, options).await.unwrap();
    assert_eq!(report.first_timestamp, Some(recorded));
    let both = CONFIG.replace(
        "pace = true",
        "rebase = false\nrebase_to = \"2023-11-14T22:13:20Z\"",
    );
    let config: ProbeConfig = toml::from_str(&both).unwrap();
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("rebase_to"), "{err}");
    let bad = CONFIG.replace("pace = true", "rebase_to = \"yesterday\"");
    let err = toml::from_str::<ProbeConfig>(&bad).unwrap_err().to_string();
    assert!(err.contains("RFC 3339"), "{err}");
}

#[tokio::test]
async fn start_binds_x1_and_metrics_from_a_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::new("start CA").unwrap();
    pki.write_to(&dir.path().join("pki"), &["probe-1", "admf"])
        .unwrap();
    let config: ProbeConfig = toml::from_str(CONFIG).unwrap();
    let (_stop, shutdown) = watch::channel(false);
    let running = start(&config, dir.path(), shutdown).await.unwrap();
    assert_ne!(running.x1_addr.port(), 0);
    assert!(running.metrics_addr.is_some());
    // X1 answers the ADMF identity written by the dev PKI.
    let admf = li_handover::tls::load_client_config(&li_handover::tls::TlsFiles {
        cert: dir.path().join("pki/admf.pem"),
        key: dir.path().join("pki/admf.key"),
        ca: dir.path().join("pki/ca.pem"),
    })
    .unwrap();
    let client = X1Client::new(TlsConnector::from(admf), running.x1_addr, "localhost");
    let response = client
        .send(&X1Request::single(
            MessageHeader {
                admf_identifier: "admf".into(),
                ne_identifier: "probe-1".into(),
                message_timestamp: wall_clock(),
                version: X1Version::CURRENT,
                x1_transaction_id: TransactionId::new_v4_from_random([1; 16]),
            },
            RequestBody::GetNeStatus,
        ))
        .await
        .unwrap();
    assert!(matches!(
        &response.messages[0].body,
        ResponseBody::GetNeStatus(s) if s.status == li_handover::x1::NeStatus::Ok
    ));
    let report = running.shutdown(Duration::from_secs(1)).await;
    assert!(report.complete);
}
