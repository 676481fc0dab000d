//! Tests of the probe: X1 over real mutual TLS to a real X2/X3 listener, pacing, rebasing,
//! modified destinations, refusals, the loss alarm's audit entry, live capture; with a real
//! mediator and agency in [`mediated`]. (The tests of the metrics and the configuration of
//! `li-probe` are in `li-examples`, `probe::tests`.)

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering as AtomicOrdering};
use std::time::{Duration, Instant};

use li_asn1::{IriPayload, IriType};
use li_handover::tls::{DevPki, Identity, Validity};
use li_handover::x1::transport::X1Client;
use li_handover::x1::{
    DeliveryAddress, DeliveryType, MessageHeader, ProvisioningStatus, RequestBody, ResponseBody,
    TransactionId, X1Request, X1Version, error_code,
};
use li_handover::x2x3::transport::X2X3Listener;
use li_handover::x2x3::{
    DEFAULT_MAX_PDU_LEN, PayloadDirection as X2x3Direction, PayloadFormat, Pdu, PduType,
};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use super::*;
use crate::source::PcapWriter;

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

fn ok(body: &ResponseBody) -> bool {
    matches!(body, ResponseBody::Ok { .. })
}

fn error(body: &ResponseBody) -> (i64, String) {
    match body {
        ResponseBody::Error(e) => (e.error.code, e.error.description.clone()),
        other => panic!("expected an ErrorResponse, got {other:?}"),
    }
}

fn iri_type(pdu: &Pdu) -> IriType {
    assert_eq!(pdu.pdu_type, PduType::X2);
    assert_eq!(pdu.payload_format, PayloadFormat::Etsi102232);
    assert_eq!(pdu.payload_direction, X2x3Direction::NotApplicable);
    // Every PDU names the probe (by default its name).
    assert_eq!(
        li_handover::x2x3::contract::network_function_id(pdu),
        Some(&b"probe-1"[..])
    );
    IriPayload::from_ber(&pdu.payload)
        .unwrap()
        .iri_type
        .unwrap()
}

#[tokio::test]
async fn x1_provisioning_over_https() {
    let mut h = harness().await;
    let d = did(1);
    let x = xid(1);

    assert!(ok(&h.x1(RequestBody::Ping).await));
    let create = RequestBody::CreateDestination(h.destination(d, DeliveryType::X2AndX3));
    assert!(ok(&h.x1(create.clone()).await));
    let (code, why) = error(&h.x1(create).await);
    assert_eq!(code, error_code::DID_EXISTS);
    assert!(why.contains("exists already"), "{why}");

    let details = task(x, "ipv4:192.0.2.7", DeliveryType::X2AndX3, vec![d]);
    assert!(ok(&h.x1(RequestBody::ActivateTask(details.clone())).await));
    assert_eq!(h.probe.active_tasks(), 1);
    // The task's IRI-Begin went out over X2.
    let begin = h.collect(|p| !p.is_empty()).await;
    assert_eq!(begin.len(), 1);
    assert_eq!(begin[0].xid, x);
    assert_eq!(iri_type(&begin[0]), IriType::Begin);
    assert_eq!(begin[0].sequence_number(), Some(0));

    // Refusals: duplicate XID, unknown DID, X3Only, a target the probe cannot match, a
    // destination in use, a request for another NE.
    let (code, why) = error(&h.x1(RequestBody::ActivateTask(details.clone())).await);
    assert_eq!(code, error_code::XID_EXISTS);
    assert!(why.contains("exists already"), "{why}");
    let unknown = task(
        xid(2),
        "ipv4:192.0.2.8",
        DeliveryType::X2AndX3,
        vec![did(9)],
    );
    let (code, why) = error(&h.x1(RequestBody::ActivateTask(unknown)).await);
    assert_eq!(code, error_code::DID_UNKNOWN);
    assert!(
        why.contains(&did(9).to_string()) && why.contains("does not exist"),
        "{why}"
    );
    let x3only = task(xid(3), "ipv4:192.0.2.9", DeliveryType::X3Only, vec![d]);
    let (code, why) = error(&h.x1(RequestBody::ActivateTask(x3only)).await);
    assert_eq!(code, error_code::UNSUPPORTED);
    assert!(why.contains("X3Only"), "{why}");
    // A SIP URI X1 carries but the SIP matcher cannot compare (an IPv6 reference without
    // its `]`): refused, without the target's value.
    let sip = task(
        xid(4),
        "sip:bob@[2001:db8::1",
        DeliveryType::X2Only,
        vec![d],
    );
    let (code, why) = error(&h.x1(RequestBody::ActivateTask(sip)).await);
    assert_eq!(code, error_code::TARGET_UNSUPPORTED);
    assert!(why.contains("cannot be matched in SIP messages"), "{why}");
    assert!(!why.contains("bob"), "target values must not appear: {why}");
    let (code, why) = error(&h.x1(RequestBody::RemoveDestination(d)).await);
    assert_eq!(code, error_code::DID_IN_USE);
    assert!(why.contains("in use"), "{why}");
    let elsewhere = X1Request::single(header("probe-2"), RequestBody::GetAllDetails);
    let response = h.client(&h.pki.admf).send(&elsewhere).await.unwrap();
    let (_, why) = error(&response.messages[0].body);
    assert!(why.contains("probe-2"), "{why}");
    let (_, why) = error(
        &h.x1(RequestBody::ModifyTask(task(
            xid(5),
            "ipv4:192.0.2.5",
            DeliveryType::X2Only,
            vec![d],
        )))
        .await,
    );
    assert!(why.contains("does not exist"), "{why}");

    // What was provisioned is reported.
    match h.x1(RequestBody::GetTaskDetails(x)).await {
        ResponseBody::GetTaskDetails(t) => {
            assert_eq!(t.details, details);
            assert_eq!(t.status.provisioning_status, ProvisioningStatus::Complete);
            assert_eq!(t.status.amount_of_x2_data, Some(1));
            assert_eq!(t.status.amount_of_x3_data, Some(0));
        }
        other => panic!("{other:?}"),
    }
    match h.x1(RequestBody::GetAllDetails).await {
        ResponseBody::GetAllDetails {
            tasks,
            destinations,
            ..
        } => {
            assert_eq!(tasks.len(), 1);
            assert_eq!(tasks[0].details, details);
            assert_eq!(destinations.len(), 1);
            assert_eq!(destinations[0].details.did, d);
        }
        other => panic!("{other:?}"),
    }
    match h.x1(RequestBody::ListAllDetails).await {
        ResponseBody::ListAllDetails { xids, dids } => {
            assert_eq!((xids, dids), (vec![x], vec![d]));
        }
        other => panic!("{other:?}"),
    }
    match h.x1(RequestBody::GetDestinationDetails(d)).await {
        ResponseBody::GetDestinationDetails(dest) => {
            assert_eq!(dest.details, h.destination(d, DeliveryType::X2AndX3));
        }
        other => panic!("{other:?}"),
    }

    // ModifyTask to IRI only: end of the old task, begin of the new one.
    let modified = task(x, "ipv4:192.0.2.7", DeliveryType::X2Only, vec![d]);
    assert!(ok(&h.x1(RequestBody::ModifyTask(modified.clone())).await));
    let pdus = h.collect(|p| p.len() >= 2).await;
    let types: Vec<IriType> = pdus.iter().map(iri_type).collect();
    assert_eq!(types, [IriType::End, IriType::Begin]);
    match h.x1(RequestBody::GetTaskDetails(x)).await {
        ResponseBody::GetTaskDetails(t) => {
            assert_eq!(t.details, modified);
            assert_eq!(t.status.number_of_modifications, Some(1));
        }
        other => panic!("{other:?}"),
    }

    // DeactivateTask: IRI-End, then the task is gone and its destination removable.
    assert!(ok(&h.x1(RequestBody::DeactivateTask(x)).await));
    let end = h.collect(|p| !p.is_empty()).await;
    assert_eq!(end.iter().map(iri_type).collect::<Vec<_>>(), [IriType::End]);
    let seqs: Vec<_> = begin
        .iter()
        .chain(&pdus)
        .chain(&end)
        .map(|p| p.sequence_number().unwrap())
        .collect();
    assert_eq!(seqs, [0, 1, 2, 3]);
    let (_, why) = error(&h.x1(RequestBody::GetTaskDetails(x)).await);
    assert!(why.contains("does not exist"), "{why}");
    assert_eq!(h.probe.active_tasks(), 0);
    assert!(ok(&h.x1(RequestBody::RemoveDestination(d)).await));
    match h.x1(RequestBody::ListAllDetails).await {
        ResponseBody::ListAllDetails { xids, dids } => assert!(xids.is_empty() && dids.is_empty()),
        other => panic!("{other:?}"),
    }
    let _ = h.stop.send(true);
}

#[tokio::test]
async fn x1_refuses_a_client_not_in_the_allow_list() {
    let h = harness().await;
    let intruder = h
        .pki
        .pki
        .issue("intruder", &[], &[], Validity::Default)
        .unwrap();
    let request = X1Request::single(
        header("probe-1"),
        RequestBody::CreateDestination(h.destination(did(1), DeliveryType::X2AndX3)),
    );
    assert!(h.client(&intruder).send(&request).await.is_err());
    assert!(h.probe.lock().destinations.is_empty());
    // The ADMF itself is served.
    assert!(ok(&h
        .client(&h.pki.admf)
        .send(&request)
        .await
        .unwrap()
        .messages[0]
        .body));
    assert_eq!(h.probe.lock().destinations.len(), 1);
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
    let mut writer = PcapWriter::new(Vec::new(), crate::LinkType::RawIp, false).unwrap();
    for (i, t) in times.iter().enumerate() {
        let mut packet = vec![0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 253, 0, 0];
        packet.extend_from_slice(&[192, 0, 2, 7, 198, 51, 100, i as u8]);
        writer.write_frame(*t, &packet).unwrap();
    }
    let path = dir.join("tiny.pcap");
    std::fs::write(&path, writer.into_inner()).unwrap();
    path
}

/// A [`plain_probe`] with X2/X3 destination 1 nobody listens on (a port just closed): its
/// link never connects, its queue fills. With `intercepting`, task 1 on 192.0.2.7 (X2 and
/// X3) delivers to it.
async fn closed_probe(queue_capacity: usize, intercepting: bool) -> (Probe, DestinationId) {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let probe = plain_probe(queue_capacity);
    let d = did(1);
    probe
        .create_destination(DestinationDetails {
            did: d,
            friendly_name: None,
            delivery_type: DeliveryType::X2AndX3,
            delivery_address: DeliveryAddress::IpAddressPort {
                address: addr.ip(),
                port: li_handover::x1::Port::Tcp(addr.port()),
            },
        })
        .unwrap();
    if intercepting {
        let t = task(xid(1), "ipv4:192.0.2.7", DeliveryType::X2AndX3, vec![d]);
        probe.activate_task(t).unwrap();
    }
    (probe, d)
}

fn plain_probe(queue_capacity: usize) -> Probe {
    let p = pki();
    let connector = TlsConnector::from(p.pki.client_config(&p.probe).unwrap());
    let mut settings = ProbeSettings::new("probe-1", connector, "mdf.test");
    settings.queue_capacity = queue_capacity;
    Probe::new(settings)
}

/// A replay clock that moves only when the replay sleeps: a paced replay's time is what it
/// waited for its frames, whatever the load of the machine.
#[derive(Clone)]
struct SteppedClock {
    start: Instant,
    sleeps: Arc<Mutex<Vec<Duration>>>,
}

impl SteppedClock {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            sleeps: Arc::default(),
        }
    }

    /// The sleeps the replay asked for, in order.
    fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

impl capture::ReplayClock for SteppedClock {
    fn now(&mut self) -> Instant {
        self.start + self.sleeps().iter().sum::<Duration>()
    }

    fn sleep(&mut self, duration: Duration) {
        self.sleeps.lock().unwrap().push(duration);
    }
}

#[tokio::test]
async fn paced_replay_takes_the_capture_duration_and_keeps_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let start = Timestamp::from_secs_micros(1_700_000_000, 0).unwrap();
    let path = tiny_pcap(dir.path(), start, 4, Duration::from_millis(100));
    let probe = plain_probe(16);

    let before = wall_clock();
    let clock = SteppedClock::new();
    let options = ReplayOptions {
        pace: true,
        ..ReplayOptions::default()
    };
    let report = probe
        .replay_file_with(&path, options, clock.clone())
        .await
        .unwrap();
    // The replay waited the capture's duration, frame by frame, on its clock.
    let slept: Duration = clock.sleeps().iter().sum();
    assert!(slept >= Duration::from_millis(300));
    assert_eq!(clock.sleeps(), [Duration::from_millis(100); 3]);
    assert_eq!(report.duration, Duration::from_millis(300));
    assert_eq!(report.counters.frames, 4);
    // Rebased: the first frame at the replay's start, the gaps kept.
    let first = report.first_timestamp.unwrap();
    assert!(first >= before);
    assert_eq!(
        report.last_timestamp.unwrap().duration_since(first),
        Some(Duration::from_millis(300))
    );
    // The clock does not step back after a replay.
    assert!(probe.now() >= report.last_timestamp.unwrap());

    // Not rebased, not paced: the file's own times.
    let report = probe
        .replay_file(
            &path,
            ReplayOptions {
                rebase: false,
                ..ReplayOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(report.first_timestamp, Some(start));
    assert_eq!(report.counters.frames, 4);
}

/// Issue 11: a record damaged in the middle of a file (here a sub-second field out of
/// range) is stepped over and the rest replayed, and the report says so: how many records
/// were skipped and where the first was, so that a replay of a damaged file can fail.
#[tokio::test]
async fn a_replay_steps_over_a_damaged_record_and_reports_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let start = Timestamp::from_secs_micros(1_700_000_000, 0).unwrap();
    let path = tiny_pcap(dir.path(), start, 3, Duration::from_millis(1));
    let mut bytes = std::fs::read(&path).unwrap();
    // pcap: a 24-octet file header, then per record 16 octets of header (seconds,
    // sub-second, captured and original length) and the 20-octet packet.
    let second = 24 + 16 + 20;
    bytes[second + 4..second + 8].copy_from_slice(&[0xff; 4]);
    std::fs::write(&path, &bytes).unwrap();

    let report = plain_probe(16)
        .replay_file(&path, ReplayOptions::default())
        .await
        .unwrap();
    assert_eq!(report.counters.frames, 2, "the frames before and after it");
    assert_eq!(report.skipped_records, 1);
    assert_eq!(report.error, None, "the replay went on to the end");
    let first = report.first_skipped.unwrap();
    assert!(first.contains(&format!("byte offset {second}")), "{first}");
}

#[tokio::test]
async fn modify_destination_moves_the_link_and_keeps_numbering() {
    let mut h = harness().await;
    let d = did(1);
    let create = RequestBody::CreateDestination(h.destination(d, DeliveryType::X2AndX3));
    assert!(ok(&h.x1(create).await));
    let t = task(xid(1), "ipv4:192.0.2.7", DeliveryType::X2Only, vec![d]);
    assert!(ok(&h.x1(RequestBody::ActivateTask(t)).await));
    let first = h.collect(|p| !p.is_empty()).await;
    assert_eq!(first.len(), 1);

    // A second mediator; the destination moves there.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let moved_to = listener.local_addr().unwrap();
    let (tx, mut moved) = mpsc::channel(16);
    let acceptor = TlsAcceptor::from(h.pki.pki.server_config(&h.pki.mdf).unwrap());
    tokio::spawn(X2X3Listener::new(acceptor, DEFAULT_MAX_PDU_LEN).serve(listener, tx));
    let mut details = h.destination(d, DeliveryType::X2AndX3);
    details.delivery_address = DeliveryAddress::IpAddressPort {
        address: moved_to.ip(),
        port: li_handover::x1::Port::Tcp(moved_to.port()),
    };
    assert!(ok(&h
        .x1(RequestBody::ModifyDestination(details.clone()))
        .await));
    match h.x1(RequestBody::GetDestinationDetails(d)).await {
        ResponseBody::GetDestinationDetails(dest) => assert_eq!(dest.details, details),
        other => panic!("{other:?}"),
    }
    assert!(ok(&h.x1(RequestBody::DeactivateTask(xid(1))).await));
    let (_, end) = tokio::time::timeout(WAIT, moved.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(iri_type(&end), IriType::End);
    assert_eq!(end.sequence_number(), Some(1));
    assert!(
        h.collect(|_| true).await.is_empty(),
        "nothing more at the old address"
    );

    // UDP ports and unknown destinations are refused; RemoveAllDestinations empties.
    let mut udp = details.clone();
    udp.delivery_address = DeliveryAddress::IpAddressPort {
        address: moved_to.ip(),
        port: li_handover::x1::Port::Udp(moved_to.port()),
    };
    let (code, _) = error(&h.x1(RequestBody::ModifyDestination(udp)).await);
    assert_eq!(code, error_code::UNSUPPORTED);
    let mut unknown = details;
    unknown.did = did(2);
    let (_, why) = error(&h.x1(RequestBody::ModifyDestination(unknown)).await);
    assert!(why.contains("does not exist"), "{why}");
    assert!(ok(&h.x1(RequestBody::RemoveAllDestinations).await));
    assert!(h.probe.lock().destinations.is_empty());
    let _ = h.stop.send(true);
}

/// Live capture on the loopback interface: UDP datagrams to a static target address are
/// intercepted and sent over X3, byte for byte; other traffic on `lo` (the X1 and X2/X3
/// connections themselves) is not. Needs CAP_NET_RAW: `.ci/run` runs it as root.
#[cfg(all(feature = "live", target_os = "linux"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs CAP_NET_RAW (run as root: cargo test -p li-capture --features live,probe --lib -- --ignored probe::tests::live)"]
async fn live_capture_on_loopback_intercepts_the_target() {
    let mut h = harness().await;
    let d = did(7);
    let create = RequestBody::CreateDestination(h.destination(d, DeliveryType::X2AndX3));
    assert!(ok(&h.x1(create).await));
    let x = xid(7);
    let activate =
        RequestBody::ActivateTask(task(x, "ipv4:127.0.0.77", DeliveryType::X2AndX3, vec![d]));
    assert!(ok(&h.x1(activate).await));

    let mut capture = {
        let probe = h.probe.clone();
        tokio::spawn(async move { probe.capture_live("lo").await })
    };
    // Sending once the capture has opened `lo` (a capture that cannot open it ends first).
    tokio::select! {
        open = tokio::time::timeout(WAIT, h.probe.wait_capturing("lo")) => {
            open.expect("the capture opens lo");
        }
        ended = &mut capture => panic!("the capture ended before it opened lo: {ended:?}"),
    }
    // A receiver on the target address, so that no ICMP port-unreachable comes back (it
    // would be the target's traffic too, and intercepted).
    let receiver = std::net::UdpSocket::bind("127.0.0.77:0").unwrap();
    let to = receiver.local_addr().unwrap();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let payloads: Vec<Vec<u8>> = (0..5u8)
        .map(|n| format!("li-probe live test datagram {n}").into_bytes())
        .collect();
    for p in &payloads {
        socket.send_to(p, to).unwrap();
    }
    let pdus = h
        .collect(|pdus| pdus.iter().filter(|p| p.pdu_type == PduType::X3).count() >= payloads.len())
        .await;
    // Stop the capture before asserting: a panic with the capture thread still running
    // would keep the runtime (and the test) from ever ending.
    let _ = h.stop.send(true);
    h.probe.shutdown(Duration::from_secs(5)).await;
    let x3: Vec<&Pdu> = pdus
        .iter()
        .filter(|p| p.pdu_type == PduType::X3 && p.xid == x)
        .collect();
    assert_eq!(
        x3.len(),
        payloads.len(),
        "one X3 PDU per datagram, nothing else"
    );
    for (pdu, payload) in x3.iter().zip(&payloads) {
        // IPv4 (20) + UDP (8) headers, then the datagram.
        assert_eq!(&pdu.payload[28..], &payload[..]);
        assert_eq!(&pdu.payload[16..20], &[127, 0, 0, 77]);
    }
    let report = tokio::time::timeout(WAIT, capture)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        report.counters.frames >= payloads.len() as u64,
        "{report:?}"
    );
}

#[test]
fn a_capture_loss_is_recorded_in_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe-audit.log");
    let (log, _) = li_handover::audit::AuditLog::open(&path).unwrap();
    let p = pki();
    let connector = TlsConnector::from(p.pki.client_config(&p.probe).unwrap());
    let mut settings = ProbeSettings::new("probe-1", connector, "mdf.test");
    settings.audit = Some(Arc::new(log));
    let probe = Probe::new(settings);
    let losses = LossAlarm::default().check(12, 4).unwrap();
    probe.raise_loss_alarm("eth1", &losses);
    let text = std::fs::read_to_string(&path).unwrap();
    let entry: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(entry["kind"], "capture.loss");
    assert_eq!(entry["actor"], "probe");
    assert_eq!(
        entry["detail"],
        serde_json::json!({"interface": "eth1", "kernel_dropped": 12, "kernel_dropped_total": 12,
            "x2x3_dropped": 4, "x2x3_dropped_total": 4})
    );
}

#[tokio::test]
async fn a_task_naming_a_destination_twice_is_refused() {
    let (probe, d) = closed_probe(16, false).await;
    let request = |body| X1Request::single(header("probe-1"), body);
    let twice = task(xid(1), "ipv4:192.0.2.7", DeliveryType::X2AndX3, vec![d, d]);
    let response = probe.handle_x1(request(RequestBody::ActivateTask(twice)));
    let (_, description) = error(&response.messages[0].body);
    assert!(description.contains("named twice"), "{description}");
    assert_eq!(probe.active_tasks(), 0);
    let once = task(xid(1), "ipv4:192.0.2.7", DeliveryType::X2AndX3, vec![d]);
    let response = probe.handle_x1(request(RequestBody::ActivateTask(once)));
    assert!(ok(&response.messages[0].body));
    probe.shutdown(Duration::from_millis(100)).await;
}

#[test]
fn default_settings_take_radius_on_1813_and_start_cins_at_random() {
    let p = pki();
    let connector = TlsConnector::from(p.pki.client_config(&p.probe).unwrap());
    let a = ProbeSettings::new("probe-1", connector.clone(), "mdf.test");
    let b = ProbeSettings::new("probe-1", connector, "mdf.test");
    assert_eq!(a.classifier.radius_accounting_ports, [1813]);
    assert!(a.classifier.dhcp && a.classifier.aaa_sources.is_none());
    // Each run starts its CINs somewhere else (two runs colliding: 1 in 2^32).
    assert_ne!(a.classifier.first_cin, b.classifier.first_cin);
    assert_ne!(a.classifier.first_cin, 0);
}

#[tokio::test]
async fn the_statistics_snapshots_count_frames_per_capture_and_links_per_destination() {
    let dir = tempfile::tempdir().unwrap();
    let start = Timestamp::from_secs_micros(1_700_000_000, 0).unwrap();
    let path = tiny_pcap(dir.path(), start, 4, Duration::from_millis(1));
    // room for a whole chunk of the replay: nobody takes the PDUs
    let (probe, d) = closed_probe(1024, true).await;
    assert!(probe.interface_frames().is_empty());
    let options = ReplayOptions {
        label: Some("tap".into()),
        ..ReplayOptions::default()
    };
    let report = probe.replay_file(&path, options).await.unwrap();
    assert_eq!((report.counters.frames, report.counters.matched), (4, 4));
    let frames = probe.interface_frames();
    assert_eq!(frames.keys().collect::<Vec<_>>(), ["tap"]);
    let tap = frames["tap"];
    assert_eq!(
        (tap.frames, tap.matched, tap.not_ip, tap.malformed),
        (4, 4, 0, 0)
    );
    let links = probe.destination_stats();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].did, d);
    // IRI-Begin and four CC records, none sent: nobody listens.
    assert_eq!((links[0].link.queued, links[0].link.sent), (5, 0));
    assert_eq!(links[0].queue_len, 5);
    assert!(!links[0].link.connected);
    assert_eq!(probe.unencodable_records(), 0);
    assert_eq!(probe.active_tasks(), 1);
    probe.shutdown(Duration::from_millis(100)).await;
}

/// The probe's PDUs through a real mediator (and agency).
mod mediated;

/// A SIP target's call through the real X2/X3 path.
mod voice;
