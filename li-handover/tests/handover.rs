//! End to end: the mediator's HI3 link (`hi::run_link` fed by a spool through
//! `DeliveryQueue`) delivering to the agency's `lemf::Receiver` over real sockets on
//! 127.0.0.1, with mutual TLS, refused certificates and an agency restart.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use li_asn1::{HeaderSettings, PayloadDirection};
use li_core::{Cin, Liid, OperatorId, Timestamp};
use li_handover::hi::{
    DeliveryLink, DeliveryQueue, LinkConfig, LinkStats, LinkStatsSnapshot, keepalive_builder,
};
use li_handover::lemf::{Interface, LiidSummary, Receiver, ReceiverConfig};
use li_handover::spool::{Spool, SpoolConfig};
use li_handover::tls::{DevPki, Validity};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use rustls_pki_types::pem::PemObject;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Mutex, Notify, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::timeout;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Bound on every wait.
const WAIT: Duration = Duration::from_secs(30);
const LIID: &[u8] = b"LIID-E2E";
const CIN: u32 = 7;
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn liid() -> Liid {
    Liid::new(LIID).unwrap()
}

fn settings() -> HeaderSettings {
    HeaderSettings::new(liid(), OperatorId::new(b"OP").unwrap())
}

fn time(seq: u32) -> Timestamp {
    Timestamp::from_secs_micros(1_704_164_645 + u64::from(seq / 1000), (seq % 1000) * 1000).unwrap()
}

/// A distinct IPv4-looking packet per sequence number (60 to 187 octets).
fn packet(seq: u32) -> Vec<u8> {
    let len = 60 + (seq % 128) as usize;
    let mut p = vec![0u8; len];
    p[0] = 0x45;
    p[4..8].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in p.iter_mut().enumerate().skip(20) {
        *b = (i as u32 ^ seq) as u8;
    }
    p
}

fn cc_pdu(seq: u32) -> Vec<u8> {
    settings()
        .ip_cc_pdu(
            Cin::new(CIN),
            seq,
            time(seq),
            PayloadDirection::FromTarget,
            &packet(seq),
        )
        .encode()
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("li-handover-e2e-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fast_config(addr: SocketAddr) -> LinkConfig {
    let mut cfg = LinkConfig::new(
        "LEA-E2E HI3",
        addr.to_string(),
        keepalive_builder(settings()),
    );
    cfg.keepalive_interval = Duration::from_millis(100);
    // Generous: no test here wants a timeout, and none must see one however loaded the
    // machine.
    cfg.keepalive_timeout = Duration::from_secs(10);
    cfg.connect_timeout = Duration::from_secs(10);
    cfg.backoff_min = Duration::from_millis(20);
    cfg.backoff_max = Duration::from_millis(200);
    cfg.chunk_records = 64;
    cfg.max_unacked = 256;
    cfg
}

struct Link {
    stats: Arc<LinkStats>,
    link: DeliveryLink,
}

impl Link {
    fn start(cfg: LinkConfig, queue: &DeliveryQueue) -> Self {
        let link = DeliveryLink::spawn(cfg, queue.clone());
        Self {
            stats: Arc::clone(link.stats()),
            link,
        }
    }

    async fn stop(self) -> LinkStatsSnapshot {
        assert!(self.link.stop(WAIT).await, "link did not stop");
        self.stats.snapshot()
    }
}

fn open_queue(dir: &Path) -> DeliveryQueue {
    let (spool, recovery) = Spool::open(SpoolConfig::new(dir.join("spool"))).unwrap();
    assert_eq!(recovery.pending, 0);
    DeliveryQueue::new(Arc::new(Mutex::new(spool)), Arc::new(Notify::new()))
}

async fn pending(queue: &DeliveryQueue) -> u64 {
    queue.spool().lock().await.pending()
}

/// Waits until `link` has acknowledged `n` records: every record of the spool, which is then
/// empty.
async fn wait_delivered(link: &Link, queue: &DeliveryQueue, n: u32) {
    timeout(
        WAIT,
        link.stats.wait_for(|s| s.records_acked >= u64::from(n)),
    )
    .await
    .expect("records not acknowledged in time");
    assert_eq!(pending(queue).await, 0, "spool emptied");
}

fn liid_summary(receiver: &Receiver) -> LiidSummary {
    receiver
        .summary()
        .liids
        .get(&liid())
        .cloned()
        .unwrap_or_default()
}

/// Binds 127.0.0.1:`port` (0: any) with SO_REUSEADDR, so a restarted agency can rebind it.
/// A receiver serving HI3 over TLS with `identity` on a fresh loopback port.
fn tls_agency(
    dir: &Path,
    pki: &DevPki,
    identity: &li_handover::tls::Identity,
) -> (Receiver, SocketAddr, JoinHandle<std::io::Result<()>>) {
    let receiver = Receiver::new(ReceiverConfig::new(dir.join("lemf"))).unwrap();
    let listener = bind(0);
    let addr = listener.local_addr().unwrap();
    let acceptor = TlsAcceptor::from(pki.server_config(identity).unwrap());
    let serving = {
        let receiver = receiver.clone();
        tokio::spawn(async move {
            receiver
                .serve(listener, Some(acceptor), Interface::Hi3)
                .await
        })
    };
    (receiver, addr, serving)
}

fn bind(port: u16) -> TcpListener {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(SocketAddr::new(LOCALHOST, port)).unwrap();
    socket.listen(64).unwrap()
}

/// The packets of a classic little-endian pcap file, parsed by hand: the 24-octet global
/// header, then per record a 16-octet header (seconds, microseconds, captured length,
/// original length) and the captured octets.
fn pcap_packets(bytes: &[u8]) -> Vec<Vec<u8>> {
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert!(bytes.len() >= 24, "no pcap global header");
    assert_eq!(u32_at(0), 0xa1b2_c3d4, "pcap magic");
    assert_eq!(u32_at(20), 101, "LINKTYPE_RAW");
    let mut at = 24;
    let mut packets = Vec::new();
    while at < bytes.len() {
        assert!(at + 16 <= bytes.len(), "truncated pcap record header");
        let captured = u32_at(at + 8) as usize;
        let original = u32_at(at + 12) as usize;
        assert_eq!(captured, original);
        at += 16;
        assert!(at + captured <= bytes.len(), "truncated pcap record");
        packets.push(bytes[at..at + captured].to_vec());
        at += captured;
    }
    packets
}

/// a. 2,000 CC PDUs over mutual TLS arrive once each, in order, and are recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mediator_to_agency_over_mutual_tls_delivers_everything_once() {
    const N: u32 = 2000;
    let dir = TempDir::new("tls");
    let pki = DevPki::new("e2e CA").unwrap();
    let lemf_id = pki
        .issue("lemf", &["lemf.example"], &[LOCALHOST], Validity::Default)
        .unwrap();
    let mdf_id = pki.issue("mdf", &[], &[], Validity::Default).unwrap();

    let (receiver, addr, serving) = tls_agency(dir.path(), &pki, &lemf_id);

    let queue = open_queue(dir.path());
    let mut cfg = fast_config(addr);
    cfg.tls = Some((
        TlsConnector::from(pki.client_config(&mdf_id).unwrap()),
        ServerName::try_from("lemf.example").unwrap(),
    ));
    let link = Link::start(cfg, &queue);
    for seq in 0..N {
        queue.enqueue(&cc_pdu(seq)).await.unwrap();
    }
    wait_delivered(&link, &queue, N).await;
    let stats = link.stop().await;
    serving.abort();

    assert_eq!(stats.connects, 1, "no reconnection: {stats:?}");
    assert_eq!((stats.records_written, stats.records_acked), (2000, 2000));
    let s = liid_summary(&receiver);
    assert_eq!(s.cc, u64::from(N));
    assert_eq!(s.iri, 0);
    assert_eq!(s.gaps, 0, "gaps: {:?}", s.gap_ranges);
    assert_eq!(s.repeats, 0);
    assert_eq!(s.decode_errors, 0);

    let pcap = std::fs::read(s.pcap_path.as_ref().expect("a pcap file")).unwrap();
    let packets = pcap_packets(&pcap);
    assert_eq!(packets.len(), N as usize);
    for (seq, p) in (0..N).zip(&packets) {
        assert_eq!(*p, packet(seq), "packet {seq}");
    }
    let records = std::fs::read_to_string(receiver.summary().records_path).unwrap();
    assert_eq!(records.lines().count(), N as usize);
    let first: serde_json::Value = serde_json::from_str(records.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "cc");
    assert_eq!(first["seq"], 0);
    assert_eq!(first["cin"], CIN);

    assert_eq!(pending(&queue).await, 0);
    drop(queue);
    let (_, recovery) = Spool::open(SpoolConfig::new(dir.path().join("spool"))).unwrap();
    assert_eq!(recovery.pending, 0, "all acknowledged, and persisted");
}

/// A client configuration trusting `ca_pem` and presenting no certificate.
fn client_without_certificate(ca_pem: &str) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// b. The agency refuses a certificate from another CA, an expired one and none: nothing is
/// delivered (or acknowledged); then the right certificate delivers the spooled records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agency_refuses_bad_client_certificates_then_accepts_the_right_one() {
    const N: u32 = 50;
    let dir = TempDir::new("refuse");
    let pki = DevPki::new("agency CA").unwrap();
    let other = DevPki::new("rogue CA").unwrap();
    let lemf_id = pki
        .issue("lemf", &["lemf.example"], &[], Validity::Default)
        .unwrap();
    let good = pki.issue("mdf", &[], &[], Validity::Default).unwrap();
    let expired = pki.issue("mdf", &[], &[], Validity::Expired).unwrap();
    let foreign = other.issue("mdf", &[], &[], Validity::Default).unwrap();
    // Each client trusts the agency's CA (so it is the agency that refuses).
    let client = |id: &li_handover::tls::Identity| {
        li_handover::tls::client_config(
            pki.ca_pem.as_bytes(),
            id.cert_pem.as_bytes(),
            id.key_pem.as_bytes(),
        )
        .unwrap()
    };

    let (receiver, addr, serving) = tls_agency(dir.path(), &pki, &lemf_id);
    let queue = open_queue(dir.path());
    for seq in 0..N {
        queue.enqueue(&cc_pdu(seq)).await.unwrap();
    }
    let name = ServerName::try_from("lemf.example").unwrap();

    for (what, config) in [
        ("certificate from another CA", client(&foreign)),
        ("expired certificate", client(&expired)),
        ("no certificate", client_without_certificate(&pki.ca_pem)),
    ] {
        let mut cfg = fast_config(addr);
        cfg.tls = Some((TlsConnector::from(config), name.clone()));
        let link = Link::start(cfg, &queue);
        // TLS 1.3: the client's handshake completes before the agency checks its
        // certificate, so each attempt counts as a connection that the agency then closes.
        // Refused three times over, the records written each time.
        let refused = timeout(WAIT, link.stats.wait_for(|s| s.disconnects >= 3)).await;
        let stats = link.stop().await;
        eprintln!("{what}: {stats:?}");
        assert!(stats.connects >= 1, "{what}: no attempt: {stats:?}");
        assert!(
            refused.is_ok() && stats.disconnects >= 1,
            "{what}: never refused: {stats:?}"
        );
        // That a refusal right after the handshake does not reset the backoff (no tight
        // reconnection loop) is the backoff's decision, tested on paused time:
        // retry::tests::a_connection_proves_alive_by_staying_up_exactly_the_given_time.
        assert_eq!(stats.records_acked, 0, "{what}: {stats:?}");
        assert_eq!(liid_summary(&receiver).cc, 0, "{what}: delivered");
        assert_eq!(pending(&queue).await, u64::from(N), "{what}");
    }

    let mut cfg = fast_config(addr);
    cfg.tls = Some((TlsConnector::from(client(&good)), name));
    let link = Link::start(cfg, &queue);
    wait_delivered(&link, &queue, N).await;
    let stats = link.stop().await;
    serving.abort();
    assert_eq!(stats.records_acked, u64::from(N));
    let s = liid_summary(&receiver);
    assert_eq!((s.cc, s.gaps, s.repeats), (u64::from(N), 0, 0));
}

/// An agency whose connections die with it: `Receiver::handle` per accepted connection, in a
/// set owned by the accept task, so aborting the task also closes every connection (the
/// connection tasks `Receiver::serve` spawns would outlive an aborted `serve`).
fn agency(receiver: &Receiver, listener: TcpListener) -> JoinHandle<()> {
    let receiver = receiver.clone();
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                continue;
            };
            let receiver = receiver.clone();
            connections.spawn(async move {
                let _ = receiver.handle(tcp, peer, Interface::Hi3).await;
            });
        }
    })
}

/// c. The agency goes away mid-stream while records keep coming: everything arrives, no
/// gaps, repeats within the re-send window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agency_restart_mid_stream_loses_nothing() {
    const N: u32 = 3000;
    let dir = TempDir::new("restart");
    let receiver = Receiver::new(ReceiverConfig::new(dir.path().join("lemf"))).unwrap();
    let listener = bind(0);
    let addr = listener.local_addr().unwrap();
    let mut serving = agency(&receiver, listener);

    let queue = open_queue(dir.path());
    let cfg = fast_config(addr);
    let window = cfg.max_unacked;
    let link = Link::start(cfg, &queue);
    // The first third, the second third once the agency is down, the rest once it is back.
    let (outage, agency_down) = oneshot::channel::<()>();
    let (produced, produced_during_outage) = oneshot::channel::<()>();
    let (back, agency_back) = oneshot::channel::<()>();
    let producer = {
        let queue = queue.clone();
        tokio::spawn(async move {
            let produce = |seqs: std::ops::Range<u32>| {
                let queue = queue.clone();
                async move {
                    for seq in seqs {
                        queue.enqueue(&cc_pdu(seq)).await.unwrap();
                        if seq % 5 == 4 {
                            // A stream, not a burst.
                            tokio::task::yield_now().await;
                        }
                    }
                }
            };
            produce(0..1000).await;
            agency_down.await.unwrap();
            produce(1000..2000).await;
            produced.send(()).unwrap();
            agency_back.await.unwrap();
            produce(2000..N).await;
        })
    };

    // Acknowledged by the agency: recorded there before it answered.
    timeout(WAIT, link.stats.wait_for(|s| s.records_acked >= 500))
        .await
        .expect("500 records before the restart");
    assert!(liid_summary(&receiver).cc >= 500);
    serving.abort();
    let _ = serving.await;
    let down_at = liid_summary(&receiver).cc;
    outage.send(()).unwrap();
    timeout(WAIT, link.stats.wait_for(|s| !s.connected))
        .await
        .expect("the link noticed");
    timeout(WAIT, produced_during_outage)
        .await
        .expect("records kept coming during the outage")
        .unwrap();
    assert!(
        !producer.is_finished(),
        "records kept coming during the outage"
    );
    serving = agency(&receiver, bind(addr.port()));
    back.send(()).unwrap();

    timeout(WAIT, producer).await.unwrap().unwrap();
    wait_delivered(&link, &queue, N).await;
    let stats = link.stop().await;
    serving.abort();

    eprintln!(
        "restart: down at {down_at}, {stats:?}, repeats {}",
        liid_summary(&receiver).repeats
    );
    assert!(down_at < u64::from(N), "the outage was mid-stream");
    assert!(stats.connects >= 2, "{stats:?}");
    assert_eq!(stats.records_acked, u64::from(N));
    let s = liid_summary(&receiver);
    assert_eq!(s.gaps, 0, "gaps: {:?}", s.gap_ranges);
    assert!(
        s.repeats <= window,
        "{} repeats, window {window}",
        s.repeats
    );
    assert_eq!(s.cc, u64::from(N) + s.repeats);
    let packets = pcap_packets(&std::fs::read(s.pcap_path.unwrap()).unwrap());
    let mut seen = vec![false; N as usize];
    for p in &packets {
        seen[u32::from_be_bytes(p[4..8].try_into().unwrap()) as usize] = true;
    }
    assert!(seen.iter().all(|&s| s), "every packet in the pcap");
}

/// A TCP relay between the link and the agency. On its first connection it drops
/// everything the agency sends back (the keep-alive responses) and, once `cut_after`
/// octets went towards the agency, closes both sides; later connections are relayed
/// faithfully.
fn muting_relay(listener: TcpListener, agency: SocketAddr, cut_after: usize) -> JoinHandle<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tokio::spawn(async move {
        let mut first = true;
        let mut relays = JoinSet::new();
        loop {
            let Ok((mut down, _)) = listener.accept().await else {
                continue;
            };
            let Ok(mut up) = tokio::net::TcpStream::connect(agency).await else {
                continue;
            };
            if std::mem::take(&mut first) {
                relays.spawn(async move {
                    let (mut up_rd, mut up_wr) = up.split();
                    let (mut down_rd, mut down_wr) = down.split();
                    let swallow = async {
                        let mut sink = [0u8; 4096];
                        while matches!(up_rd.read(&mut sink).await, Ok(n) if n > 0) {}
                    };
                    let forward = async {
                        let mut buf = [0u8; 4096];
                        let mut sent = 0;
                        while sent < cut_after {
                            let Ok(n) = down_rd.read(&mut buf).await else {
                                break;
                            };
                            if n == 0 || up_wr.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                            sent += n;
                        }
                    };
                    tokio::select! { () = swallow => {}, () = forward => {} }
                    let _ = down_wr.shutdown().await;
                });
            } else {
                relays.spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                });
            }
        }
    })
}

/// d. Records written but never acknowledged (the agency's answers lost, then the
/// connection cut) are written again on the next connection: the receiver sees them as
/// repeats, within the re-send window, and nothing is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_records_are_sent_again_and_recognised_as_repeats() {
    const N: u32 = 600;
    let dir = TempDir::new("resend");
    let receiver = Receiver::new(ReceiverConfig::new(dir.path().join("lemf"))).unwrap();
    let agency_listener = bind(0);
    let agency_addr = agency_listener.local_addr().unwrap();
    let serving = agency(&receiver, agency_listener);
    let relay_listener = bind(0);
    let relay_addr = relay_listener.local_addr().unwrap();
    // About 150 CC PDUs of ~200 octets pass before the cut.
    let relay = muting_relay(relay_listener, agency_addr, 30_000);

    let queue = open_queue(dir.path());
    let cfg = fast_config(relay_addr);
    let window = cfg.max_unacked;
    let link = Link::start(cfg, &queue);
    for seq in 0..N {
        queue.enqueue(&cc_pdu(seq)).await.unwrap();
    }
    wait_delivered(&link, &queue, N).await;
    let stats = link.stop().await;
    relay.abort();
    serving.abort();

    let s = liid_summary(&receiver);
    eprintln!("resend: {stats:?}, repeats {}", s.repeats);
    assert!(stats.connects >= 2, "{stats:?}");
    assert_eq!(stats.records_acked, u64::from(N));
    assert_eq!(s.gaps, 0, "gaps: {:?}", s.gap_ranges);
    assert!(s.repeats > 0, "records were re-sent");
    assert!(
        s.repeats <= window,
        "{} repeats, window {window}",
        s.repeats
    );
    assert_eq!(s.cc, u64::from(N) + s.repeats);
}
