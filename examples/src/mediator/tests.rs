//! The metrics the daemon registers for a library mediator ([`li_handover::mediator`]),
//! between a real agency receiver ([`li_handover::lemf::start`]) and real spools. (The
//! mediator's own tests are in `li-handover`, `mediator::tests`.)

use std::time::Duration;

use li_core::{
    DestinationId, HandoverFormat, InterceptScope, Liid, OperatorId, Timestamp, ValidityWindow, Xid,
};
use li_handover::lemf::{Interface, Receiver, ReceiverConfig};
use li_handover::mediator::{HiDestination, MediationTask, Mediator, MediatorSettings};
use li_handover::x1::HiTransport;
use li_handover::x2x3::{PayloadDirection, Pdu, PduTimestamp, contract};

use super::register_metrics;
use crate::metrics::Registry;

/// The daemon's metrics of a library mediator: names, labels and values, as `li-bench`,
/// the end-to-end tests and operators' dashboards read them.
#[tokio::test]
async fn the_mediator_metrics_have_their_names_labels_and_values() {
    let tmp = tempfile::tempdir().unwrap();
    let receiver = Receiver::new(ReceiverConfig::new(tmp.path().join("lemf"))).unwrap();
    let any = "127.0.0.1:0".parse().unwrap();
    let a = li_handover::lemf::start(receiver, any, any, None)
        .await
        .unwrap();
    // spooling without fsync, no TLS, fast keep-alives and back-off
    let mut settings = MediatorSettings::new(
        OperatorId::new(b"OPERATOR").unwrap(),
        Liid::new(b"KEEPALIVE").unwrap(),
        tmp.path().join("spool"),
    );
    settings.spool.fsync = li_handover::spool::FsyncPolicy::Never;
    settings.keepalive_interval = Duration::from_millis(100);
    settings.keepalive_timeout = Duration::from_secs(2);
    settings.backoff = (Duration::from_millis(20), Duration::from_millis(200));
    let m = Mediator::new(settings, None);
    let did = |n: u8| DestinationId::from_bytes([n; 16]);
    for (id, interface, addr) in [
        (did(1), Interface::Hi2, a.hi2_addr),
        (did(2), Interface::Hi3, a.hi3_addr),
    ] {
        m.create_destination(HiDestination {
            id,
            name: format!("LEA-1 {interface}"),
            interface,
            addr: addr.to_string(),
            transport: HiTransport::Configured,
            format: HandoverFormat::etsi_default(),
        })
        .await
        .unwrap();
    }
    let xid = Xid::from_bytes([7; 16]);
    m.activate_task(
        MediationTask::builder(
            Liid::new(b"LIID-M").unwrap(),
            xid,
            InterceptScope::IriAndCc,
            ValidityWindow::ALWAYS,
        )
        .target("ipv4:192.0.2.1".parse().unwrap())
        .destinations([did(1), did(2)])
        .build()
        .unwrap(),
    )
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
    tokio::time::timeout(Duration::from_secs(20), m.wait_drained())
        .await
        .expect("spools not drained");
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
    a.stop().await;
}
