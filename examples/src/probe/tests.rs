//! Tests of the probe with what only the examples have: the shipped sample replayed to a
//! real X2/X3 listener and a real mediator, the metrics, the configuration and the start-up
//! from it. (The probe's own tests are in `li-capture`, `probe::tests`.)

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering as AtomicOrdering};
use std::time::Duration;

use li_asn1::{IriPayload, IriType};
use li_capture::probe::{Probe, ProbeSettings, ReplayOptions};
use li_capture::source::PcapWriter;
use li_core::{DestinationId, Liid, OperatorId, Timestamp, ValidityWindow, Xid};
use li_handover::lemf::Interface;
use li_handover::spool::SpoolConfig;
use li_handover::tls::{DevPki, Identity, Validity};
use li_handover::x1::transport::{X1Client, X1ServerConfig};
use li_handover::x1::{
    DeliveryAddress, DeliveryType, DestinationDetails, MediationDeliveryType, MediationDetails,
    MessageHeader, RequestBody, ResponseBody, TaskDetails, TransactionId, X1Request, X1Version,
};
use li_handover::x2x3::transport::X2X3Listener;
use li_handover::x2x3::{
    DEFAULT_MAX_PDU_LEN, PayloadDirection as X2x3Direction, PayloadFormat, Pdu, PduType,
};
use tokio::sync::mpsc;

use super::*;
use crate::cli::now as wall_clock;
use crate::sample::{ALICE_INTERIM, Sample, SampleTarget};
use li_handover::mediator::{HiDestination, MediationTask, Mediator, MediatorSettings, Outcome};

const WAIT: Duration = Duration::from_secs(10);

struct Pki {
    pki: DevPki,
    probe: Identity,
    admf: Identity,
    mdf: Identity,
}

fn pki() -> Pki {
    let pki = DevPki::new("probe test CA").unwrap();
    let probe = pki
        .issue("probe-1", &["probe.test"], &[], Validity::Default)
        .unwrap();
    let admf = pki.issue("admf", &[], &[], Validity::Default).unwrap();
    let mdf = pki
        .issue("mdf", &["mdf.test"], &[], Validity::Default)
        .unwrap();
    Pki {
        pki,
        probe,
        admf,
        mdf,
    }
}

/// A probe serving X1 over mutual TLS, and an X2/X3 listener standing for the mediator.
struct Harness {
    pki: Pki,
    probe: Probe,
    x1_addr: SocketAddr,
    mdf_addr: SocketAddr,
    received: mpsc::Receiver<(SocketAddr, Pdu)>,
    stop: watch::Sender<bool>,
}

async fn harness() -> Harness {
    let pki = pki();
    let mdf_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mdf_addr = mdf_listener.local_addr().unwrap();
    let (tx, received) = mpsc::channel(100_000);
    let acceptor = TlsAcceptor::from(pki.pki.server_config(&pki.mdf).unwrap());
    tokio::spawn(X2X3Listener::new(acceptor, DEFAULT_MAX_PDU_LEN).serve(mdf_listener, tx));

    let connector = TlsConnector::from(pki.pki.client_config(&pki.probe).unwrap());
    let probe = Probe::new(ProbeSettings::new("probe-1", connector, "mdf.test"));
    let x1_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let x1_addr = x1_listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(pki.pki.server_config(&pki.probe).unwrap());
    let (stop, stopped) = watch::channel(false);
    let config = X1ServerConfig {
        allowed_identities: Some(vec!["admf".to_owned()]),
        ..X1ServerConfig::default()
    };
    {
        let probe = probe.clone();
        let stopped = stopped.clone();
        tokio::spawn(async move { probe.serve_x1(x1_listener, acceptor, config, stopped).await });
    }
    probe.spawn_ticker(stopped);
    Harness {
        pki,
        probe,
        x1_addr,
        mdf_addr,
        received,
        stop,
    }
}

static TRANSACTION: AtomicU8 = AtomicU8::new(1);

fn header(ne: &str) -> MessageHeader {
    MessageHeader {
        admf_identifier: "admf".into(),
        ne_identifier: ne.into(),
        message_timestamp: wall_clock(),
        version: X1Version::CURRENT,
        x1_transaction_id: TransactionId::new_v4_from_random(
            [TRANSACTION.fetch_add(1, AtomicOrdering::Relaxed); 16],
        ),
    }
}

impl Harness {
    fn client(&self, identity: &Identity) -> X1Client {
        let connector = TlsConnector::from(self.pki.pki.client_config(identity).unwrap());
        X1Client::new(connector, self.x1_addr, "probe.test")
    }

    /// Sends one request message over HTTPS and returns the response body.
    async fn x1(&self, body: RequestBody) -> ResponseBody {
        let header = header("probe-1");
        let request = X1Request::single(header.clone(), body);
        let mut response = self.client(&self.pki.admf).send(&request).await.unwrap();
        assert_eq!(response.messages.len(), 1);
        let message = response.messages.remove(0);
        assert_eq!(message.header.x1_transaction_id, header.x1_transaction_id);
        message.body
    }

    fn destination(&self, did: DestinationId, delivery: DeliveryType) -> DestinationDetails {
        DestinationDetails {
            did,
            friendly_name: Some("MDF".into()),
            delivery_type: delivery,
            delivery_address: DeliveryAddress::IpAddressPort {
                address: self.mdf_addr.ip(),
                port: li_handover::x1::Port::Tcp(self.mdf_addr.port()),
            },
        }
    }

    /// PDUs received until `enough` holds and then nothing more comes for 300 ms.
    async fn collect(&mut self, enough: impl Fn(&[Pdu]) -> bool) -> Vec<Pdu> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut out = Vec::new();
        loop {
            let quiet = if enough(&out) {
                Duration::from_millis(300)
            } else {
                deadline.saturating_duration_since(tokio::time::Instant::now())
            };
            match tokio::time::timeout(quiet, self.received.recv()).await {
                Ok(Some((_, pdu))) => out.push(pdu),
                _ => return out,
            }
        }
    }
}

fn did(n: u8) -> DestinationId {
    DestinationId::new_v4_from_random([n; 16])
}

fn xid(n: u8) -> Xid {
    Xid::new_v4_from_random([n; 16])
}

fn task(xid: Xid, target: &str, delivery: DeliveryType, dids: Vec<DestinationId>) -> TaskDetails {
    TaskDetails::new(xid, vec![target.parse().unwrap()], delivery, dids)
}

fn with_window(
    mut t: TaskDetails,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
) -> TaskDetails {
    t.mediation_details = vec![MediationDetails {
        liid: Liid::new(b"LIID-CUT").unwrap(),
        delivery_type: MediationDeliveryType::Hi2AndHi3,
        start_time: start,
        end_time: end,
        dids: None,
    }];
    t
}

fn ok(body: &ResponseBody) -> bool {
    matches!(body, ResponseBody::Ok { .. })
}

fn iri_type(pdu: &Pdu) -> IriType {
    assert_eq!(pdu.pdu_type, PduType::X2);
    assert_eq!(pdu.payload_format, PayloadFormat::Etsi102232);
    assert_eq!(pdu.payload_direction, X2x3Direction::NotApplicable);
    IriPayload::from_ber(&pdu.payload)
        .unwrap()
        .iri_type
        .unwrap()
}

/// The per-XID view of what the listener received.
#[derive(Default)]
struct PerTask {
    x2: Vec<Pdu>,
    x3: Vec<Pdu>,
}

fn per_task(pdus: &[Pdu]) -> BTreeMap<Xid, PerTask> {
    let mut out: BTreeMap<Xid, PerTask> = BTreeMap::new();
    for p in pdus {
        let entry = out.entry(p.xid).or_default();
        match p.pdu_type {
            PduType::X2 => entry.x2.push(p.clone()),
            PduType::X3 => entry.x3.push(p.clone()),
            other => panic!("unexpected PDU type {other:?}"),
        }
    }
    out
}

async fn mediator(dir: &Path) -> (Mediator, DestinationId, DestinationId) {
    let settings = MediatorSettings {
        operator_id: OperatorId::new(b"OP").unwrap(),
        network_element_id: None,
        authorization_country_code: None,
        delivery_country_code: None,
        spool_dir: dir.to_owned(),
        spool: SpoolConfig::new(dir),
        tls: None,
        keepalive_interval: Duration::from_secs(5),
        keepalive_timeout: Duration::from_secs(10),
        backoff: (Duration::from_millis(100), Duration::from_secs(1)),
        keepalive_liid: Liid::new(b"KA").unwrap(),
    };
    let m = Mediator::new(settings, None);
    let (hi2, hi3) = (did(20), did(21));
    for (id, interface) in [(hi2, Interface::Hi2), (hi3, Interface::Hi3)] {
        m.create_destination(HiDestination {
            id,
            name: format!("LEA {}", interface.as_str()),
            interface,
            // Nobody listens: the records stay in the spool.
            addr: "127.0.0.1:9".into(),
            transport: li_handover::x1::HiTransport::Configured,
            format: li_core::HandoverFormat::etsi_default(),
        })
        .await
        .unwrap();
    }
    (m, hi2, hi3)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_of_the_sample_delivers_exactly_the_expected_x2_x3() {
    let sample = Sample::generate().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample.pcap");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        sample.pcap,
        "shipped sample is stale"
    );
    let first = sample.frames.first().unwrap().timestamp;

    let mut h = harness().await;
    let registry = Registry::new();
    register_metrics(&h.probe, &registry).unwrap();
    let d = did(1);
    let create = RequestBody::CreateDestination(h.destination(d, DeliveryType::X2AndX3));
    assert!(ok(&h.x1(create).await));

    // The replay is rebased to `base`; the window of the cut task ends at ALICE_INTERIM's
    // place in rebased time.
    let base = wall_clock().checked_add(Duration::from_secs(1)).unwrap();
    let rebased = |t: Timestamp| base.checked_add(t.duration_since(first).unwrap()).unwrap();
    let cut = rebased(ALICE_INTERIM);
    let (x_v4, x_alice, x_cut, x_v6) = (xid(1), xid(2), xid(3), xid(4));
    let tasks = [
        task(x_v4, "ipv4:198.51.100.23", DeliveryType::X2AndX3, vec![d]),
        task(
            x_alice,
            "username:alice@isp.example",
            DeliveryType::X2AndX3,
            vec![d],
        ),
        with_window(
            task(x_cut, "ipv4:198.51.100.23", DeliveryType::X2AndX3, vec![d]),
            None,
            Some(cut),
        ),
        task(x_v6, "ipv6:2001:db8:100::23", DeliveryType::X2Only, vec![d]),
    ];
    for t in &tasks {
        assert!(ok(&h.x1(RequestBody::ActivateTask(t.clone())).await));
    }

    let options = ReplayOptions {
        rebase_to: Some(base),
        ..ReplayOptions::default()
    };
    let report = h.probe.replay_file(&path, options).await.unwrap();
    assert_eq!(report.frames, sample.frames.len() as u64);
    assert_eq!(report.error, None);
    assert_eq!(report.first_timestamp, Some(base));
    assert_eq!(report.pdus_dropped, 0);
    for x in [x_v4, x_alice, x_v6] {
        assert!(ok(&h.x1(RequestBody::DeactivateTask(x)).await));
    }
    assert!(h.probe.drain(WAIT).await.complete);

    let expected = |target, end| sample.expected_cc(target, Timestamp::UNIX_EPOCH, end);
    let want_v4 = expected(SampleTarget::StaticV4, None);
    let want_alice = expected(SampleTarget::Alice, None);
    let want_cut = expected(SampleTarget::StaticV4, Some(ALICE_INTERIM));
    assert!(!want_cut.is_empty() && want_cut.len() < want_v4.len());
    let total_x3 = want_v4.len() + want_alice.len() + want_cut.len();
    let pdus = h
        .collect(|p| p.iter().filter(|p| p.pdu_type == PduType::X3).count() >= total_x3)
        .await;

    // One destination, one stream: sequence numbers 0, 1, 2 ... in order.
    let seqs: Vec<u32> = pdus.iter().map(|p| p.sequence_number().unwrap()).collect();
    assert_eq!(seqs, (0..pdus.len() as u32).collect::<Vec<_>>());

    let got = per_task(&pdus);
    for (x, want) in [(x_v4, &want_v4), (x_alice, &want_alice), (x_cut, &want_cut)] {
        let x3 = &got[&x].x3;
        let payloads: Vec<&[u8]> = x3.iter().map(|p| &p.payload[..]).collect();
        let wanted: Vec<&[u8]> = want.iter().map(|f| f.ip.as_deref().unwrap()).collect();
        assert_eq!(payloads.len(), wanted.len(), "X3 count of {x}");
        assert!(
            payloads == wanted,
            "X3 payloads of {x} differ from the ground truth"
        );
        for (p, f) in x3.iter().zip(want.iter()) {
            assert_eq!(p.timestamp().unwrap().to_core(), Some(rebased(f.timestamp)));
            let direction = match f.direction.unwrap() {
                li_core::PayloadDirection::FromTarget => X2x3Direction::FromTarget,
                _ => X2x3Direction::ToTarget,
            };
            assert_eq!(p.payload_direction, direction);
            let format = if f.ip.as_deref().unwrap()[0] >> 4 == 4 {
                PayloadFormat::Ipv4Packet
            } else {
                PayloadFormat::Ipv6Packet
            };
            assert_eq!(p.payload_format, format);
        }
        // X2 and X3 of one session share the Correlation ID.
        let x2 = &got[&x].x2;
        assert!(x3.iter().all(|p| p.correlation_id == x2[0].correlation_id));
    }
    let types = |x: Xid| got[&x].x2.iter().map(iri_type).collect::<Vec<_>>();
    assert_eq!(types(x_v4), [IriType::Begin, IriType::End]);
    assert_eq!(
        types(x_alice),
        [IriType::Begin, IriType::Continue, IriType::End]
    );
    assert_eq!(types(x_cut), [IriType::Begin, IriType::End]);
    let cut_end = got[&x_cut].x2.last().unwrap();
    assert_eq!(cut_end.timestamp().unwrap().to_core(), Some(cut));
    // IRI only: X2, never X3.
    assert_eq!(types(x_v6), [IriType::Begin, IriType::End]);
    assert!(got[&x_v6].x3.is_empty());

    // A real mediator takes every PDU.
    let dir = tempfile::tempdir().unwrap();
    let (m, hi2, hi3) = mediator(dir.path()).await;
    for (x, iri_only) in [
        (x_v4, false),
        (x_alice, false),
        (x_cut, false),
        (x_v6, true),
    ] {
        m.activate_task(MediationTask {
            xid: x,
            liid: Liid::new(format!("LIID-{}", x.as_bytes()[0]).as_bytes()).unwrap(),
            scope: if iri_only {
                li_core::InterceptScope::IriOnly
            } else {
                li_core::InterceptScope::IriAndCc
            },
            window: ValidityWindow::ALWAYS,
            targets: vec!["ipv4:192.0.2.1".parse().unwrap()],
            destinations: if iri_only { vec![hi2] } else { vec![hi2, hi3] },
        })
        .await
        .unwrap();
    }
    for p in &pdus {
        assert_eq!(m.on_pdu(p).await, Outcome::Delivered(1), "{p:?}");
    }
    m.shutdown().await;

    let text = registry.render();
    assert!(
        text.contains(&format!(
            "li_probe_frames_total{{interface=\"sample.pcap\",outcome=\"seen\"}} {}",
            sample.frames.len()
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "li_probe_x2x3_pdus_total{{destination=\"{d}\",outcome=\"queued\"}} {}",
        pdus.len()
    )));
    assert!(text.contains("li_probe_active_tasks 1"), "{text}");
    let report = h.probe.shutdown(WAIT).await;
    assert!(report.complete);
    assert_eq!((report.queued, report.dropped), (pdus.len() as u64, 0));
    let _ = h.stop.send(true);
}

/// A pcap of `n` raw IPv4 packets from 192.0.2.7, `gap` apart, from `start`.
fn tiny_pcap(dir: &Path, start: Timestamp, n: u32, gap: Duration) -> std::path::PathBuf {
    let times: Vec<Timestamp> = (0..n)
        .map(|i| start.checked_add(gap * i).unwrap())
        .collect();
    pcap_at(dir, &times)
}

/// A pcap, `tiny.pcap` in `dir`, of one raw IPv4 packet from 192.0.2.7 at each of `times`
/// (the `i`-th to 198.51.100.`i`).
fn pcap_at(dir: &Path, times: &[Timestamp]) -> std::path::PathBuf {
    let mut writer = PcapWriter::new(Vec::new(), li_capture::LinkType::RawIp, false).unwrap();
    for (i, t) in times.iter().enumerate() {
        let mut packet = vec![0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 253, 0, 0];
        packet.extend_from_slice(&[192, 0, 2, 7, 198, 51, 100, i as u8]);
        writer.write_frame(*t, &packet).unwrap();
    }
    let path = dir.join("tiny.pcap");
    std::fs::write(&path, writer.into_inner()).unwrap();
    path
}

fn plain_probe(queue_capacity: usize) -> Probe {
    let p = pki();
    let connector = TlsConnector::from(p.pki.client_config(&p.probe).unwrap());
    let mut settings = ProbeSettings::new("probe-1", connector, "mdf.test");
    settings.queue_capacity = queue_capacity;
    Probe::new(settings)
}

#[tokio::test]
async fn a_replay_waits_for_room_instead_of_dropping() {
    let dir = tempfile::tempdir().unwrap();
    let probe = plain_probe(1);
    // A destination nobody listens on: the link never connects, the queue fills.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let d = did(1);
    let destination = DestinationDetails {
        did: d,
        friendly_name: None,
        delivery_type: DeliveryType::X2AndX3,
        delivery_address: DeliveryAddress::IpAddressPort {
            address: addr.ip(),
            port: li_handover::x1::Port::Tcp(addr.port()),
        },
    };
    let request = |body| X1Request::single(header("probe-1"), body);
    let response = probe.handle_x1(request(RequestBody::CreateDestination(destination)));
    assert!(ok(&response.messages[0].body));
    let t = task(xid(1), "ipv4:192.0.2.7", DeliveryType::X2AndX3, vec![d]);
    assert!(ok(&probe
        .handle_x1(request(RequestBody::ActivateTask(t)))
        .messages[0]
        .body));

    let start = wall_clock();
    let path = tiny_pcap(dir.path(), start, 4, Duration::from_millis(1));
    // IRI-Begin fills the queue of one; the replay must wait, not drop.
    let replay = {
        let probe = probe.clone();
        tokio::spawn(async move { probe.replay_file(&path, ReplayOptions::default()).await })
    };
    tokio::time::timeout(
        Duration::from_secs(20),
        probe.wait_for_link(d, |s| s.queued >= 1),
    )
    .await
    .expect("IRI-Begin queued")
    .expect("the destination exists");
    assert!(
        !replay.is_finished(),
        "the replay cannot end: no room for its CC"
    );
    let delivery = probe.delivery();
    assert_eq!((delivery.queued, delivery.dropped), (1, 0));
    let registry = Registry::new();
    register_metrics(&probe, &registry).unwrap();
    assert!(registry.render().contains(&format!(
        "li_probe_x2x3_pdus_total{{destination=\"{d}\",outcome=\"dropped\"}} 0"
    )));
    // Shutting down ends the waiting replay; nothing was dropped.
    let report = probe.shutdown(Duration::from_millis(200)).await;
    let replayed = tokio::time::timeout(Duration::from_secs(20), replay)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(replayed.cancelled);
    assert_eq!(replayed.pdus_dropped, 0);
    assert!(!report.complete);
    assert_eq!(report.dropped, 0);
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
    let classifier = config.classifier.classifier_config();
    assert_eq!(classifier.radius_accounting_ports, [1813, 1646]);
    // Each run starts its CINs somewhere else (two runs colliding: 1 in 2^32).
    assert_ne!(
        classifier.first_cin,
        config.classifier.classifier_config().first_cin
    );
    assert!(!classifier.dhcp);
    assert_eq!(ClassifierOptions::default().radius_accounting_ports, [1813]);

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
            header("probe-1"),
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

/// Issue 11 (target packets within ms of a window's edges were missed): the edges of a
/// window are the packets' own times, at the probe and again at the mediator. A task
/// activated ahead of its window (as the ADMF provisions it; its lead and grace are tested in
/// admf/tests.rs), traffic 1 ms either side of each edge: the probe sends exactly the
/// packets inside, with IRI begin and end stamped with the edges, and the mediator, given
/// all four packets under the task, delivers exactly those inside.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_edges_are_decided_by_packet_time_at_probe_and_mediator() {
    use li_handover::mediator::Refusal;

    let one_ms = Duration::from_millis(1);
    let at = |t: Timestamp, d: Duration| t.checked_add(d).unwrap();
    let before = |t: Timestamp, d: Duration| t.checked_sub(d).unwrap();

    // The window starts a minute from now: the task is there before it.
    let start = at(wall_clock(), Duration::from_secs(60));
    let end = at(start, Duration::from_secs(10));
    let window = ValidityWindow::new(start, Some(end)).unwrap();
    let liid = Liid::new(b"LIID-EDGE").unwrap();

    let mut h = harness().await;
    let d = did(1);
    let create = RequestBody::CreateDestination(h.destination(d, DeliveryType::X2AndX3));
    assert!(ok(&h.x1(create).await));
    // the windowed task (as the ADMF sends it), and an always-on one on the same target
    // whose PDUs show the mediator the traffic outside the window
    let (x_edge, x_all) = (xid(60), xid(62));
    let edged = with_window(
        task(x_edge, "ipv4:192.0.2.7", DeliveryType::X2AndX3, vec![d]),
        Some(start),
        Some(end),
    );
    assert!(ok(&h.x1(RequestBody::ActivateTask(edged)).await));
    let always = task(x_all, "ipv4:192.0.2.7", DeliveryType::X2AndX3, vec![d]);
    assert!(ok(&h.x1(RequestBody::ActivateTask(always)).await));

    // traffic 1 ms either side of each edge, in the capture's own time
    let times = [
        before(start, one_ms),
        at(start, one_ms),
        before(end, one_ms),
        at(end, one_ms),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = pcap_at(dir.path(), &times);
    let options = ReplayOptions {
        rebase: false,
        ..ReplayOptions::default()
    };
    let report = h.probe.replay_file(&path, options).await.unwrap();
    assert_eq!(report.frames, 4);

    assert!(ok(&h.x1(RequestBody::DeactivateTask(x_edge)).await));
    assert!(ok(&h.x1(RequestBody::DeactivateTask(x_all)).await));

    let delivery = h.probe.drain(WAIT).await;
    assert!(delivery.complete, "{delivery:?}");
    let mut pdus = Vec::new();
    while (pdus.len() as u64) < delivery.queued {
        let (_, pdu) = tokio::time::timeout(WAIT, h.received.recv())
            .await
            .unwrap()
            .unwrap();
        pdus.push(pdu);
    }
    let got = per_task(&pdus);
    let cc_times = |x: Xid| {
        got[&x]
            .x3
            .iter()
            .map(|p| p.timestamp().unwrap().to_core().unwrap())
            .collect::<Vec<_>>()
    };
    // the probe: exactly the two packets inside the window
    assert_eq!(cc_times(x_edge), [times[1], times[2]]);
    let iri = got[&x_edge].x2.iter().map(iri_type).collect::<Vec<_>>();
    assert_eq!(iri, [IriType::Begin, IriType::End]);
    let x2_times: Vec<Timestamp> = got[&x_edge]
        .x2
        .iter()
        .map(|p| p.timestamp().unwrap().to_core().unwrap())
        .collect();
    assert_eq!(x2_times, [start, end]);
    assert_eq!(cc_times(x_all), times);

    // the mediator, given all four packets under the windowed task, takes exactly the two
    // inside (by the records' time) and refuses the others
    let mdir = tempfile::tempdir().unwrap();
    let (m, hi2, hi3) = mediator(mdir.path()).await;
    m.activate_task(MediationTask {
        xid: x_edge,
        liid,
        scope: li_core::InterceptScope::IriAndCc,
        window,
        targets: vec!["ipv4:192.0.2.1".parse().unwrap()],
        destinations: vec![hi2, hi3],
    })
    .await
    .unwrap();
    let mut outcomes = Vec::new();
    for p in &got[&x_all].x3 {
        let mut p = p.clone();
        p.xid = x_edge;
        outcomes.push(m.on_pdu(&p).await);
    }
    assert_eq!(
        outcomes,
        [
            Outcome::Refused(Refusal::OutsideWindow),
            Outcome::Delivered(1),
            Outcome::Delivered(1),
            Outcome::Refused(Refusal::OutsideWindow),
        ]
    );
    for p in got[&x_edge].x2.iter().chain(&got[&x_edge].x3) {
        assert_eq!(m.on_pdu(p).await, Outcome::Delivered(1), "{p:?}");
    }
    m.shutdown().await;
    let _ = h.stop.send(true);
}

/// An Ethernet/IPv4/UDP frame from `src` to 198.51.100.1 with `payload_len` octets of payload
/// (IPv4 total length 28 + `payload_len`), by hand from RFC 791/768.
fn eth_udp(src: [u8; 4], payload_len: usize) -> Vec<u8> {
    let total = u16::try_from(28 + payload_len).unwrap();
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 17, 0, 0]);
    f[16..18].copy_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&src);
    f.extend_from_slice(&[198, 51, 100, 1]);
    f.extend_from_slice(&[0x30, 0x39, 0x00, 0x35]);
    f.extend_from_slice(&(total - 20).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend((0..payload_len).map(|i| i as u8));
    f
}

/// Issue 11: a target's packet cut by the capture's snapshot length reaches the agency as
/// TS 102 232-3 `iPTruncatedPacket` with its original length (the probe's X3 "original
/// length" attribute, the mediator's encoding, the agency's records.jsonl and pcap); a
/// target's packet whose PPPoE length is shorter than its IPv4 total length arrives as the
/// bytes present, counted; a non-target's cut packet is not delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_target_packet_reaches_the_agency_as_ip_truncated_packet() {
    let dir = tempfile::tempdir().unwrap();
    let start = Timestamp::from_secs_micros(1_700_000_000, 0).unwrap();
    let at = |n: u64| start.checked_add(Duration::from_millis(n)).unwrap();
    let (target, other) = ([192, 0, 2, 7], [192, 0, 2, 8]);
    let mut writer = PcapWriter::new(Vec::new(), li_capture::LinkType::Ethernet, false).unwrap();
    // 1: the target's 1042-octet frame cut at 96 octets (IPv4 total length 1028).
    let cut = eth_udp(target, 1000);
    writer
        .write_frame_with_original_len(at(0), &cut[..96], 1042)
        .unwrap();
    // 2: a non-target's frame cut the same way.
    let not_target = eth_udp(other, 1000);
    writer
        .write_frame_with_original_len(at(1), &not_target[..96], 1042)
        .unwrap();
    // 3: the target's whole packet.
    let whole = eth_udp(target, 10);
    writer.write_frame(at(2), &whole).unwrap();
    // 4: the target's packet in PPPoE whose length is 6 octets short of the IPv4 packet.
    let ip = eth_udp(target, 40)[14..].to_vec();
    let pppoe_len = u16::try_from(ip.len() + 2 - 6).unwrap();
    let mut pppoe = vec![
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0x64, 0x11, 0, 0, 1,
    ];
    pppoe.extend_from_slice(&pppoe_len.to_be_bytes());
    pppoe.extend_from_slice(&[0x00, 0x21]);
    pppoe.extend_from_slice(&ip);
    writer.write_frame(at(3), &pppoe).unwrap();
    let path = dir.path().join("snaplen.pcap");
    std::fs::write(&path, writer.into_inner()).unwrap();

    let mut h = harness().await;
    let registry = Registry::new();
    register_metrics(&h.probe, &registry).unwrap();
    let d = did(1);
    let create = RequestBody::CreateDestination(h.destination(d, DeliveryType::X2AndX3));
    assert!(ok(&h.x1(create).await));
    let x = xid(1);
    let activate = task(x, "ipv4:192.0.2.7", DeliveryType::X2AndX3, vec![d]);
    assert!(ok(&h.x1(RequestBody::ActivateTask(activate)).await));
    let report = h
        .probe
        .replay_file(&path, ReplayOptions::default())
        .await
        .unwrap();
    assert_eq!((report.frames, report.malformed, report.matched), (4, 0, 3));
    assert_eq!((report.truncated, report.length_mismatch), (1, 1));
    assert!(ok(&h.x1(RequestBody::DeactivateTask(x)).await));
    assert!(h.probe.drain(WAIT).await.complete);
    let pdus = h
        .collect(|p| p.iter().filter(|p| p.pdu_type == PduType::X3).count() >= 3)
        .await;

    // X3: the cut packet with the original length attribute, the others without.
    let x3: Vec<&Pdu> = pdus.iter().filter(|p| p.pdu_type == PduType::X3).collect();
    assert_eq!(x3.len(), 3);
    assert!(x3.iter().all(|p| p.xid == x));
    assert_eq!(&x3[0].payload[..], &cut[14..96]);
    assert_eq!(x3[0].original_length(), Some(1028));
    assert_eq!(
        (&x3[1].payload[..], x3[1].original_length()),
        (&whole[14..], None)
    );
    assert_eq!(
        (&x3[2].payload[..], x3[2].original_length()),
        (&ip[..ip.len() - 6], None)
    );
    let text = registry.render();
    for (outcome, n) in [("truncated", 1), ("length_mismatch", 1), ("matched", 3)] {
        let line = format!(
            "li_probe_frames_total{{interface=\"snaplen.pcap\",outcome=\"{outcome}\"}} {n}"
        );
        assert!(text.contains(&line), "{line} in {text}");
    }
    let _ = h.stop.send(true);

    // A real mediator and a real agency receiver on loopback.
    let agency = crate::mediator::tests::agency(&dir.path().join("lemf")).await;
    let m = crate::mediator::tests::mediator(&dir.path().join("spool"));
    let dids = vec![did(20), did(21)];
    crate::mediator::tests::add_agency(&m, &agency, dids[0], dids[1], "LEA").await;
    let liid = Liid::new(b"LIID-TRUNC").unwrap();
    m.activate_task(MediationTask {
        xid: x,
        liid,
        scope: li_core::InterceptScope::IriAndCc,
        window: ValidityWindow::ALWAYS,
        targets: vec!["ipv4:192.0.2.1".parse().unwrap()],
        destinations: dids,
    })
    .await
    .unwrap();
    for p in &pdus {
        assert_eq!(m.on_pdu(p).await, Outcome::Delivered(1), "{p:?}");
    }
    crate::mediator::tests::drained(&m).await;
    m.shutdown().await;

    let summary = agency.receiver.summary();
    let records = std::fs::read_to_string(&summary.records_path).unwrap();
    let cc: Vec<serde_json::Value> = records
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "cc")
        .collect();
    assert_eq!(cc.len(), 3, "{records}");
    assert_eq!(cc[0]["truncated"], true);
    assert_eq!(
        (cc[0]["packet_len"].as_u64(), cc[0]["captured_len"].as_u64()),
        (Some(1028), Some(82))
    );
    for line in &cc[1..] {
        assert!(line.get("truncated").is_none(), "{line}");
    }
    assert_eq!(cc[1]["packet_len"].as_u64(), Some(whole.len() as u64 - 14));
    assert_eq!(cc[2]["packet_len"].as_u64(), Some(ip.len() as u64 - 6));
    // The agency's pcap: the cut packet's record has 82 octets captured of 1028.
    let pcap = std::fs::read(summary.liids[&liid].pcap_path.as_ref().unwrap()).unwrap();
    let u32_at = |at: usize| u32::from_le_bytes(pcap[at..at + 4].try_into().unwrap());
    assert_eq!((u32_at(24 + 8), u32_at(24 + 12)), (82, 1028));
    assert_eq!(&pcap[24 + 16..24 + 16 + 82], &cut[14..96]);
}
