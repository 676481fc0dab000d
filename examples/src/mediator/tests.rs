//! A library mediator ([`li_handover::mediator`]) between real sockets for the examples'
//! tests (the probe's tests use these helpers), and the metrics the daemon registers for it.

use std::path::Path;
use std::time::Duration;

use li_core::{
    DestinationId, HandoverFormat, InterceptScope, Liid, OperatorId, Timestamp, ValidityWindow, Xid,
};
use li_handover::lemf::{Interface, Receiver, ReceiverConfig};
use li_handover::mediator::{HiDestination, MediationTask, Mediator, MediatorSettings};
use li_handover::x1::HiTransport;
use li_handover::x2x3::{PayloadDirection, Pdu, PduTimestamp, contract};
use tokio::net::TcpListener;

use super::register_metrics;
use crate::metrics::Registry;

/// An agency's receiver serving HI2 and HI3 on loopback.
pub(crate) struct Agency {
    pub(crate) receiver: Receiver,
    hi2: String,
    hi3: String,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Agency {
    fn drop(&mut self) {
        for s in &self.servers {
            s.abort();
        }
    }
}

/// An agency writing into `dir`.
pub(crate) async fn agency(dir: &Path) -> Agency {
    let receiver = Receiver::new(ReceiverConfig::new(dir)).unwrap();
    let mut addrs = Vec::new();
    let mut servers = Vec::new();
    for interface in [Interface::Hi2, Interface::Hi3] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(listener.local_addr().unwrap().to_string());
        let receiver = receiver.clone();
        servers.push(tokio::spawn(async move {
            let _ = receiver.serve(listener, None, interface).await;
        }));
    }
    Agency {
        receiver,
        hi2: addrs[0].clone(),
        hi3: addrs[1].clone(),
        servers,
    }
}

/// A mediator spooling in `dir` (no fsync), no TLS, fast keep-alives and back-off.
pub(crate) fn mediator(dir: &Path) -> Mediator {
    let mut settings = MediatorSettings::new(
        OperatorId::new(b"OPERATOR").unwrap(),
        Liid::new(b"KEEPALIVE").unwrap(),
        dir,
    );
    settings.spool.fsync = li_handover::spool::FsyncPolicy::Never;
    settings.keepalive_interval = Duration::from_millis(100);
    settings.keepalive_timeout = Duration::from_secs(2);
    settings.backoff = (Duration::from_millis(20), Duration::from_millis(200));
    Mediator::new(settings, None)
}

/// Creates the HI2 and HI3 destinations `hi2` and `hi3` of agency `a` at `m`.
pub(crate) async fn add_agency(
    m: &Mediator,
    a: &Agency,
    hi2: DestinationId,
    hi3: DestinationId,
    name: &str,
) {
    for (id, interface, addr) in [(hi2, Interface::Hi2, &a.hi2), (hi3, Interface::Hi3, &a.hi3)] {
        m.create_destination(HiDestination {
            id,
            name: format!("{name} {interface}"),
            interface,
            addr: addr.clone(),
            transport: HiTransport::Configured,
            format: HandoverFormat::etsi_default(),
        })
        .await
        .unwrap();
    }
}

/// Waits until every destination's spool is empty (everything acknowledged by the agency).
pub(crate) async fn drained(m: &Mediator) {
    tokio::time::timeout(Duration::from_secs(20), m.wait_drained())
        .await
        .expect("spools not drained");
}

/// The daemon's metrics of a library mediator: names, labels and values, as `li-bench`,
/// the end-to-end tests and operators' dashboards read them.
#[tokio::test]
async fn the_mediator_metrics_have_their_names_labels_and_values() {
    let tmp = tempfile::tempdir().unwrap();
    let a = agency(&tmp.path().join("lemf")).await;
    let m = mediator(&tmp.path().join("spool"));
    let did = |n: u8| DestinationId::from_bytes([n; 16]);
    add_agency(&m, &a, did(1), did(2), "LEA-1").await;
    let xid = Xid::from_bytes([7; 16]);
    m.activate_task(MediationTask {
        xid,
        liid: Liid::new(b"LIID-M").unwrap(),
        scope: InterceptScope::IriAndCc,
        window: ValidityWindow::ALWAYS,
        targets: vec!["ipv4:192.0.2.1".parse().unwrap()],
        destinations: vec![did(1), did(2)],
    })
    .await
    .unwrap();
    let x3 = |task: Xid| {
        let mut out = Vec::new();
        let time = Timestamp::from_secs_micros(1_768_471_200, 0).unwrap();
        contract::x3_encoder(task, li_core::Cin::new(3))
            .encode(
                &mut out,
                0,
                PduTimestamp::from_core(time).unwrap(),
                PayloadDirection::FromTarget,
                &[0x45; 20],
            )
            .unwrap();
        Pdu::decode(&out).unwrap().0
    };
    for task in [xid, xid, Xid::from_bytes([8; 16])] {
        m.on_pdu(&x3(task)).await;
    }
    drained(&m).await;
    let registry = Registry::new();
    register_metrics(&m, &registry).unwrap();
    // The HI3 link is up once it delivered; the HI2 link, which had nothing to deliver,
    // once it connected: wait for that event rather than for a time.
    tokio::time::timeout(
        Duration::from_secs(20),
        m.wait_for_link(did(1), |s| s.connected),
    )
    .await
    .expect("HI2 link up")
    .expect("HI2 destination");
    let text = registry.render();
    for line in [
        "li_mediator_link_up{destination=\"LEA-1 HI2\"} 1",
        "li_mediator_x2x3_pdus_total{type=\"x2\"} 0",
        "li_mediator_x2x3_pdus_total{type=\"x3\"} 3",
        "li_mediator_refused_total{reason=\"unknown_xid\"} 1",
        "li_mediator_records_total{liid=\"LIID-M\",destination=\"LEA-1 HI3\"} 2",
        "li_mediator_link_up{destination=\"LEA-1 HI3\"} 1",
        "li_mediator_spool_records{destination=\"LEA-1 HI2\"} 0",
        "li_mediator_spool_records{destination=\"LEA-1 HI3\"} 0",
        "li_mediator_spool_bytes{destination=\"LEA-1 HI3\"} ",
        "# TYPE li_mediator_x2x3_pdus_total counter",
        "# TYPE li_mediator_refused_total counter",
        "# TYPE li_mediator_records_total counter",
        "# TYPE li_mediator_link_up gauge",
        "# TYPE li_mediator_spool_records gauge",
        "# TYPE li_mediator_spool_bytes gauge",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    m.shutdown().await;
}
