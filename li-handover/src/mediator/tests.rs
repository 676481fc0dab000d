//! The mediator between real sockets: a real LEMF receiver on loopback, real spools.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use li_core::{
    AccessEvent, AccessEventType, CcRecord, Cin, DestinationId, HandoverFormat, InterceptScope,
    IriEvent, IriRecord, IriType, Liid, OperatorId, TargetIdentifier, Timestamp, ValidityWindow,
    Xid,
};
use tokio_rustls::TlsAcceptor;

use super::*;
use crate::lemf::{self, Interface, Receiver, ReceiverConfig, RunningReceiver};
use crate::spool::SpoolConfig;
use crate::x2x3::{Attribute, Pdu, PduTimestamp, contract};

const T0: u64 = 1_768_471_200;

fn at(secs: u64) -> Timestamp {
    Timestamp::from_secs_micros(T0 + secs, 0).unwrap()
}

fn xid(n: u8) -> Xid {
    Xid::from_bytes([n; 16])
}

fn did(n: u8) -> DestinationId {
    format!("00000000-0000-4000-8000-0000000000{n:02x}")
        .parse()
        .unwrap()
}

/// The target every test task names (the mediator does not match it: the probe did).
fn target() -> TargetIdentifier {
    "ipv4:192.0.2.1".parse().unwrap()
}

/// Task `liid` with XID `n` for the test target in `scope`, always valid, delivered to
/// `dids`.
fn task(liid: &[u8], n: u8, scope: InterceptScope, dids: &[DestinationId]) -> MediationTask {
    task_within(ValidityWindow::ALWAYS, liid, n, scope, dids)
}

/// [`task`] valid only within `window`.
fn task_within(
    window: ValidityWindow,
    liid: &[u8],
    n: u8,
    scope: InterceptScope,
    dids: &[DestinationId],
) -> MediationTask {
    MediationTask::builder(Liid::new(liid).unwrap(), xid(n), scope, window)
        .targets(vec![target()])
        .destinations(dids.iter().copied())
        .build()
        .unwrap()
}

fn packet(n: u8) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 28, 0, n, 0, 0, 64, 17, 0, 0];
    p.extend_from_slice(&[198, 51, 100, 23, 192, 0, 2, n]);
    p.extend_from_slice(&[0, 53, 0, 53, 0, 8, 0, 0]);
    p
}

/// The X3 PDU a probe sends for packet `n` (the X2/X3 contract's encoding).
fn x3(task: Xid, cin: u32, seq: u32, time: Timestamp, n: u8) -> Pdu {
    let record = CcRecord {
        xid: task,
        cin: Cin::new(cin),
        timestamp: time,
        direction: li_core::PayloadDirection::FromTarget,
        payload: packet(n).into(),
        original_len: None,
        kind: li_core::CcKind::IpPacket,
    };
    contract::x3_pdu(&record, seq).unwrap()
}

/// The X2 PDU a probe sends for a session's begin (the X2/X3 contract's encoding).
fn x2(task: Xid, cin: u32, seq: u32, time: Timestamp) -> Pdu {
    let mut event = AccessEvent::new(AccessEventType::AccessAccept);
    event.username = b"alice@isp.example".to_vec();
    let record = IriRecord {
        xid: task,
        cin: Cin::new(cin),
        timestamp: time,
        iri_type: IriType::Begin,
        event: IriEvent::Access(event),
    };
    contract::iri_pdu(&record, seq).unwrap()
}

/// An agency's receiver serving HI2 and HI3 on loopback, writing into `dir`.
async fn agency(dir: &Path) -> RunningReceiver {
    agency_with(ReceiverConfig::new(dir), None).await
}

/// An agency configured so, serving over TLS when `tls` is given.
async fn agency_with(config: ReceiverConfig, tls: Option<TlsAcceptor>) -> RunningReceiver {
    let any = "127.0.0.1:0".parse().unwrap();
    lemf::start(Receiver::new(config).unwrap(), any, any, tls)
        .await
        .unwrap()
}

/// The test mediator's settings: spool in `dir` (no fsync), no TLS, fast keep-alives and
/// back-off.
fn settings(dir: &Path) -> MediatorSettings {
    let mut spool = SpoolConfig::new(dir);
    spool.fsync = crate::spool::FsyncPolicy::Never;
    MediatorSettings {
        operator_id: OperatorId::new(b"OPERATOR").unwrap(),
        network_element_id: None,
        authorization_country_code: None,
        delivery_country_code: None,
        spool_dir: dir.to_path_buf(),
        spool,
        tls: None,
        keepalive_interval: Duration::from_millis(100),
        keepalive_timeout: Duration::from_secs(2),
        backoff: (Duration::from_millis(20), Duration::from_millis(200)),
        keepalive_liid: Liid::new(b"KEEPALIVE").unwrap(),
        iap_system_id: None,
    }
}

/// A mediator with [`settings`], spooling in `dir`.
fn mediator(dir: &Path) -> Mediator {
    Mediator::new(settings(dir), None)
}

/// Creates the HI2 and HI3 destinations `hi2` and `hi3` of agency `a` at `m`.
async fn add_agency(
    m: &Mediator,
    a: &RunningReceiver,
    hi2: DestinationId,
    hi3: DestinationId,
    name: &str,
) {
    for (id, interface, addr) in [
        (hi2, Interface::Hi2, a.hi2_addr),
        (hi3, Interface::Hi3, a.hi3_addr),
    ] {
        m.create_destination(HiDestination {
            id,
            name: format!("{name} {interface}"),
            interface,
            addr: addr.to_string(),
            transport: HiTransport::Configured,
            format: HandoverFormat::etsi_default(),
        })
        .await
        .unwrap();
    }
}

/// Waits until every destination's spool is empty (everything acknowledged by the agency).
async fn drained(m: &Mediator) {
    tokio::time::timeout(Duration::from_secs(20), m.wait_drained())
        .await
        .expect("spools not drained");
}

#[tokio::test]
async fn waiters_wake_on_mediated_batches_acknowledgements_and_links() {
    let tmp = tempfile::tempdir().unwrap();
    let a = agency(&tmp.path().join("lemf")).await;
    let m = mediator(&tmp.path().join("spool"));
    add_agency(&m, &a, did(1), did(2), "LEA-1").await;
    let task = task(b"LIID-WAIT", 1, InterceptScope::IriAndCc, &[did(1), did(2)]);
    let liid = task.liid();
    m.activate_task(task).await.unwrap();
    // Waiting before anything is mediated.
    let received = {
        let m = m.clone();
        tokio::spawn(async move { m.stats().wait_for_received(|_, x3| x3 >= 3).await })
    };
    let acked = {
        let m = m.clone();
        tokio::spawn(async move { m.wait_for_link(did(2), |s| s.records_acked >= 3).await })
    };
    for n in 0..3u8 {
        assert_eq!(
            m.on_pdu(&x3(xid(1), 7, u32::from(n), at(2), n)).await,
            Outcome::Delivered(1)
        );
    }
    let wait = Duration::from_secs(20);
    let counted = tokio::time::timeout(wait, received).await.unwrap().unwrap();
    assert_eq!(counted, (0, 3));
    drained(&m).await;
    // Drained: the agency acknowledged, so it has them.
    let s = &a.summary().liids[&liid];
    assert_eq!((s.cc, s.gaps), (3, 0));
    let link = tokio::time::timeout(wait, acked).await.unwrap().unwrap();
    let link = link.expect("destination 2 exists");
    assert!(link.records_acked >= 3 && link.connects >= 1, "{link:?}");
    assert_eq!(m.wait_for_link(did(9), |_| true).await, None);
    m.shutdown().await;
    a.stop().await;
}

#[tokio::test]
async fn the_warrant_is_enforced_again_at_the_mediator() {
    let tmp = tempfile::tempdir().unwrap();
    let a = agency(&tmp.path().join("lemf")).await;
    let m = mediator(&tmp.path().join("spool"));
    add_agency(&m, &a, did(1), did(2), "LEA-1").await;
    let cc_task = task_within(
        ValidityWindow::new(at(10), Some(at(20))).unwrap(),
        b"LIID-CC",
        1,
        InterceptScope::IriAndCc,
        &[did(1), did(2)],
    );
    m.activate_task(cc_task.clone()).await.unwrap();
    let iri_task = task(b"LIID-IRI", 2, InterceptScope::IriOnly, &[did(1)]);
    m.activate_task(iri_task.clone()).await.unwrap();
    // An IRI-only task may not name an HI3 destination at all.
    let bad = task(b"LIID-IRI", 3, InterceptScope::IriOnly, &[did(1), did(2)]);
    assert!(matches!(
        m.activate_task(bad).await,
        Err(MediatorError::BadTask { .. })
    ));

    let refused = |r| Outcome::Refused(r);
    assert_eq!(
        m.on_pdu(&x3(xid(1), 5, 0, at(5), 1)).await,
        refused(Refusal::OutsideWindow)
    );
    assert_eq!(
        m.on_pdu(&x3(xid(1), 5, 1, at(15), 2)).await,
        Outcome::Delivered(1)
    );
    assert_eq!(
        m.on_pdu(&x3(xid(1), 5, 2, at(20), 3)).await,
        refused(Refusal::OutsideWindow)
    );
    // IRI stamped exactly at the window's end (the end-of-interception record) passes; CC
    // at that instant does not (above), nor IRI after it.
    assert_eq!(
        m.on_pdu(&x2(xid(1), 5, 7, at(20))).await,
        Outcome::Delivered(1)
    );
    assert_eq!(
        m.on_pdu(&x2(xid(1), 5, 8, at(21))).await,
        refused(Refusal::OutsideWindow)
    );
    assert_eq!(
        m.on_pdu(&x3(xid(9), 5, 3, at(15), 4)).await,
        refused(Refusal::UnknownXid)
    );
    assert_eq!(
        m.on_pdu(&x3(xid(2), 6, 0, at(15), 5)).await,
        refused(Refusal::ContentForIriOnly)
    );
    assert_eq!(
        m.on_pdu(&x2(xid(2), 6, 0, at(15))).await,
        Outcome::Delivered(1)
    );
    assert_eq!(
        m.on_pdu(&x2(xid(1), 5, 4, at(12))).await,
        Outcome::Delivered(1)
    );
    let mut broken = x2(xid(1), 5, 5, at(12));
    broken.payload = bytes::Bytes::from_static(&[0x30, 0x03, 0x01]);
    assert_eq!(m.on_pdu(&broken).await, refused(Refusal::Malformed));
    // A record without a valid timestamp cannot be placed in the window: refused, not
    // stamped with the mediator's clock.
    let mut untimed = x3(xid(1), 5, 9, at(15), 7);
    untimed
        .attributes
        .retain(|a| !matches!(a, Attribute::Timestamp(_)));
    assert_eq!(m.on_pdu(&untimed).await, refused(Refusal::Malformed));
    let mut bad_time = x3(xid(1), 5, 9, at(15), 7);
    for a in &mut bad_time.attributes {
        if let Attribute::Timestamp(t) = a {
            *t = PduTimestamp::new(T0 as u32 + 86_400 * 365, 1_000_000_000);
        }
    }
    assert_eq!(m.on_pdu(&bad_time).await, refused(Refusal::Malformed));
    // Deactivated: nothing more, even inside the window.
    m.deactivate_task(xid(1)).await.unwrap();
    assert_eq!(
        m.on_pdu(&x3(xid(1), 5, 6, at(16), 6)).await,
        refused(Refusal::UnknownXid)
    );

    drained(&m).await;
    let summary = a.summary();
    let cc = &summary.liids[&cc_task.liid()];
    assert_eq!((cc.iri, cc.cc, cc.gaps, cc.repeats), (2, 1, 0, 0));
    let pcap = std::fs::read(cc.pcap_path.as_ref().unwrap()).unwrap();
    // Global header, one record header, then exactly packet 2.
    assert_eq!(&pcap[24 + 16..], &packet(2)[..]);
    let iri = &summary.liids[&iri_task.liid()];
    assert_eq!((iri.iri, iri.cc), (1, 0));
    assert!(
        iri.pcap_path.is_none(),
        "no content for the IRI-only warrant"
    );
    let refusals = m.stats().refused();
    assert_eq!(refusals[&Refusal::OutsideWindow], 3);
    assert_eq!(refusals[&Refusal::UnknownXid], 2);
    assert_eq!(refusals[&Refusal::ContentForIriOnly], 1);
    assert_eq!(refusals[&Refusal::Malformed], 3);
    m.shutdown().await;
    a.stop().await;
}

#[tokio::test]
async fn two_agencies_get_their_own_copies_and_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let a = agency(&tmp.path().join("lemf-a")).await;
    let b = agency(&tmp.path().join("lemf-b")).await;
    let m = mediator(&tmp.path().join("spool"));
    add_agency(&m, &a, did(1), did(2), "LEA-A").await;
    add_agency(&m, &b, did(3), did(4), "LEA-B").await;
    let task = task(
        b"LIID-BOTH",
        1,
        InterceptScope::IriAndCc,
        &[did(1), did(2), did(3), did(4)],
    );
    let liid = task.liid();
    m.activate_task(task).await.unwrap();
    m.on_pdu(&x2(xid(1), 7, 0, at(1))).await;
    for n in 0..20u8 {
        assert_eq!(
            m.on_pdu(&x3(xid(1), 7, u32::from(n), at(2), n)).await,
            Outcome::Delivered(2)
        );
    }
    drained(&m).await;
    for agency in [&a, &b] {
        let s = &agency.summary().liids[&liid];
        assert_eq!((s.iri, s.cc, s.gaps, s.repeats), (1, 20, 0, 0));
    }
    // Removing a destination in use is refused; once the task is gone it is allowed.
    assert!(matches!(
        m.remove_destination(did(3)).await,
        Err(MediatorError::DestinationInUse { .. })
    ));
    m.deactivate_task(xid(1)).await.unwrap();
    m.remove_destination(did(3)).await.unwrap();
    assert_eq!(m.destinations().await.len(), 3);
    m.shutdown().await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn a_destination_with_undelivered_records_is_not_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let m = mediator(&tmp.path().join("spool"));
    // An agency that is down: nothing listens there.
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    for (id, interface) in [(did(1), Interface::Hi2), (did(2), Interface::Hi3)] {
        m.create_destination(HiDestination {
            id,
            name: format!("LEA-DOWN {interface}"),
            interface,
            addr: down.to_string(),
            transport: HiTransport::Configured,
            format: HandoverFormat::etsi_default(),
        })
        .await
        .unwrap();
    }
    m.activate_task(task(
        b"LIID-DOWN",
        1,
        InterceptScope::IriAndCc,
        &[did(1), did(2)],
    ))
    .await
    .unwrap();
    for n in 0..3 {
        assert_eq!(
            m.on_pdu(&x3(xid(1), 1, u32::from(n), at(1), n)).await,
            Outcome::Delivered(1)
        );
    }
    m.deactivate_task(xid(1)).await.unwrap();
    // HI2 got nothing: removed. HI3 holds three records: kept, with its link, until the
    // agency has them.
    m.remove_destination(did(1)).await.unwrap();
    assert!(matches!(
        m.remove_destination(did(2)).await,
        Err(MediatorError::NotDrained { pending: 3, .. })
    ));
    let left = m.destinations().await;
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].0.id, left[0].2.0), (did(2), 3));
    m.shutdown().await;
}

#[tokio::test]
async fn a_batch_is_enforced_record_by_record_and_numbered_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let a = agency(&tmp.path().join("lemf")).await;
    let m = mediator(&tmp.path().join("spool"));
    add_agency(&m, &a, did(1), did(2), "LEA-1").await;
    let task = task_within(
        ValidityWindow::new(at(10), Some(at(20))).unwrap(),
        b"LIID-BATCH",
        1,
        InterceptScope::IriAndCc,
        &[did(1), did(2)],
    );
    m.activate_task(task.clone()).await.unwrap();
    let batch = vec![
        x3(xid(1), 5, 0, at(5), 1),
        x3(xid(1), 5, 1, at(11), 2),
        x2(xid(1), 5, 2, at(11)),
        x3(xid(9), 5, 3, at(11), 3),
        x3(xid(1), 6, 4, at(12), 4),
        Pdu::keepalive(1),
        x3(xid(1), 5, 5, at(13), 5),
        x3(xid(1), 5, 6, at(20), 6),
    ];
    let mediator = m.clone();
    let outcomes = tokio::task::spawn_blocking(move || mediator.mediate_batch(&batch))
        .await
        .unwrap();
    let refused = |r| Outcome::Refused(r);
    assert_eq!(
        outcomes,
        [
            refused(Refusal::OutsideWindow),
            Outcome::Delivered(1),
            Outcome::Delivered(1),
            refused(Refusal::UnknownXid),
            Outcome::Delivered(1),
            Outcome::Ignored,
            Outcome::Delivered(1),
            refused(Refusal::OutsideWindow),
        ]
    );
    let stats = m.stats();
    assert_eq!(
        stats.refused(),
        BTreeMap::from([(Refusal::UnknownXid, 1), (Refusal::OutsideWindow, 2)])
    );
    assert_eq!(
        stats.delivered(),
        BTreeMap::from([
            (("LIID-BATCH".to_owned(), "LEA-1 HI2".to_owned()), 1),
            (("LIID-BATCH".to_owned(), "LEA-1 HI3".to_owned()), 3),
        ])
    );
    drained(&m).await;
    // Numbered per (LIID, CIN) from 0 without gaps: CIN 5 got 0 and 1 on HI3, CIN 6 got 0.
    let summary = a.summary();
    let liid = &summary.liids[&task.liid()];
    assert_eq!((liid.iri, liid.cc, liid.gaps, liid.repeats), (1, 3, 0, 0));
    let pcap = std::fs::read(liid.pcap_path.as_ref().unwrap()).unwrap();
    // The three packets, in batch order, after the global header.
    let mut at_offset = 24;
    for n in [2u8, 4, 5] {
        let len = packet(n).len();
        let data = &pcap[at_offset + 16..at_offset + 16 + len];
        assert_eq!(data, &packet(n)[..], "packet {n}");
        at_offset += 16 + len;
    }
    assert_eq!(at_offset, pcap.len());
    m.shutdown().await;
    a.stop().await;
}

#[tokio::test]
async fn a_record_too_large_for_the_spool_is_refused_alone_and_a_did_twice_not_at_all() {
    let tmp = tempfile::tempdir().unwrap();
    let a = agency(&tmp.path().join("lemf")).await;
    let mut settings = settings(&tmp.path().join("spool"));
    settings.spool.segment_bytes = 4096;
    let m = Mediator::new(settings, None);
    add_agency(&m, &a, did(1), did(2), "LEA-1").await;
    let task = MediationTask::builder(
        Liid::new(b"LIID-BIG").unwrap(),
        xid(1),
        InterceptScope::IriAndCc,
        ValidityWindow::ALWAYS,
    )
    .targets(vec![target()]);
    // A DID named twice would get every record twice: no such task can be made.
    assert!(matches!(
        task.clone().destinations([did(1), did(2), did(1)]).build(),
        Err(li_core::Error::DuplicateDestination { id }) if id == did(1)
    ));
    let task = task.destinations([did(1), did(2)]).build().unwrap();
    m.activate_task(task.clone()).await.unwrap();
    let mut big = x3(xid(1), 5, 1, at(1), 2);
    let mut payload = packet(2);
    payload.resize(8000, 0);
    big.payload = bytes::Bytes::from(payload);
    let batch = vec![x3(xid(1), 5, 0, at(1), 1), big, x3(xid(1), 5, 2, at(1), 3)];
    let mediator = m.clone();
    let outcomes = tokio::task::spawn_blocking(move || mediator.mediate_batch(&batch))
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            Outcome::Delivered(1),
            Outcome::Refused(Refusal::TooLarge),
            Outcome::Delivered(1),
        ]
    );
    drained(&m).await;
    let summary = a.summary();
    let liid = &summary.liids[&task.liid()];
    // The two around it, numbered 0 and 1: no number was taken by the refused one.
    assert_eq!((liid.cc, liid.gaps, liid.repeats), (2, 0, 0));
    m.shutdown().await;
    a.stop().await;
}

/// Issue 11: the per-agency TLS setting was only recorded, and the mediator used its own
/// `hi_tls` for every agency. The destination now says (X1 `uri` `tls://` or `tcp://`) and
/// the mediator connects so: an agency listening over plain TCP and one over TLS both get
/// their records from one mediator that has `hi_tls`; one without `hi_tls` refuses a TLS
/// destination instead of delivering in clear.
#[tokio::test]
async fn each_agency_is_reached_over_tls_or_plain_tcp_as_its_destination_says() {
    use crate::tls::{DevPki, Validity};
    use crate::x1::{DeliveryAddress, DeliveryType, DestinationDetails};
    use tokio_rustls::TlsConnector;

    let tmp = tempfile::tempdir().unwrap();
    let pki = DevPki::new("hi test CA").unwrap();
    let mdf = pki
        .issue("mediator", &["mediator.test"], &[], Validity::Default)
        .unwrap();
    let lemf = pki
        .issue("lemf", &["lemf.test"], &[], Validity::Default)
        .unwrap();

    // one agency over plain TCP, one over TLS (mutual)
    let plain = agency(&tmp.path().join("lemf-plain")).await;
    let acceptor = TlsAcceptor::from(pki.server_config(&lemf).unwrap());
    let secure = agency_with(
        ReceiverConfig::new(tmp.path().join("lemf-tls")),
        Some(acceptor),
    )
    .await;

    let mut settings = settings(&tmp.path().join("spool"));
    settings.tls = Some(HiTls {
        connector: TlsConnector::from(pki.client_config(&mdf).unwrap()),
        server_name: rustls_pki_types::ServerName::try_from("lemf.test").unwrap(),
    });
    let m = Mediator::new(settings.clone(), None);
    let details = |n: u8, hi3: bool, uri: String| DestinationDetails {
        did: did(n),
        friendly_name: Some(format!("D{n}")),
        delivery_type: if hi3 {
            DeliveryType::X3Only
        } else {
            DeliveryType::X2Only
        },
        delivery_address: DeliveryAddress::Uri(uri),
    };
    let wanted = [
        details(1, false, format!("tcp://{}", plain.hi2_addr)),
        details(2, true, format!("tcp://{}", plain.hi3_addr)),
        details(3, false, format!("tls://{}", secure.hi2_addr)),
        details(4, true, format!("tls://{}", secure.hi3_addr)),
    ];
    for d in &wanted {
        let dest = hi_destination(d).unwrap();
        let expected = if d.did == did(1) || d.did == did(2) {
            HiTransport::PlainTcp
        } else {
            HiTransport::Tls
        };
        assert_eq!(dest.transport, expected);
        m.create_destination(dest).await.unwrap();
    }
    let task = task(
        b"LIID-TLS",
        1,
        InterceptScope::IriAndCc,
        &[did(1), did(2), did(3), did(4)],
    );
    let liid = task.liid();
    m.activate_task(task).await.unwrap();
    assert_eq!(
        m.on_pdu(&x2(xid(1), 7, 0, at(1))).await,
        Outcome::Delivered(2)
    );
    assert_eq!(
        m.on_pdu(&x3(xid(1), 7, 1, at(2), 1)).await,
        Outcome::Delivered(2)
    );
    drained(&m).await;
    for agency in [&plain, &secure] {
        let s = &agency.summary().liids[&liid];
        assert_eq!((s.iri, s.cc, s.gaps), (1, 1, 0));
    }
    m.shutdown().await;

    // a mediator without hi_tls refuses a TLS destination, clearly, and takes a plain one
    let mut settings = settings;
    settings.tls = None;
    settings.spool_dir = tmp.path().join("spool-2");
    let m = Mediator::new(settings, None);
    let err = m
        .create_destination(hi_destination(&wanted[2]).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, MediatorError::TlsUnavailable(d) if d == did(3)));
    assert!(err.to_string().contains("hi_tls"), "{err}");
    m.create_destination(hi_destination(&wanted[0]).unwrap())
        .await
        .unwrap();
    // no known scheme: refused at X1
    let text = hi_destination(&details(5, false, "sctp://127.0.0.1:9".into()))
        .unwrap_err()
        .description;
    assert!(text.contains("tls://, tcp:// or udp://"), "{text}");
    // UDP carries PacketCable call content only
    let text = hi_destination(&details(5, false, "udp://127.0.0.1:9".into()))
        .unwrap_err()
        .description;
    assert!(
        text.contains("UDP carries only PacketCable call content"),
        "{text}"
    );
    m.shutdown().await;
    plain.stop().await;
    secure.stop().await;
}

/// The PS-PDUs carrying records in a raw handover stream (`hi2.ber` / `hi3.ber`), without
/// the keep-alives.
fn records_in(path: &Path) -> Vec<li_asn1::PsPdu> {
    let data = std::fs::read(path).unwrap();
    let mut rest = &data[..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (pdu, used) = li_asn1::PsPdu::decode_prefix(rest).unwrap();
        rest = &rest[used..];
        if !matches!(pdu.payload, li_asn1::Payload::TriPayload(_)) {
            out.push(pdu);
        }
    }
    out
}

fn hi_destination_at(id: DestinationId, interface: Interface, addr: &str) -> HiDestination {
    HiDestination {
        id,
        name: format!("LEA-1 {interface}"),
        interface,
        addr: addr.to_owned(),
        transport: HiTransport::PlainTcp,
        format: HandoverFormat::etsi_default(),
    }
}

/// Issue 12: the PSHeader is built from the task and the destination
/// (`HeaderSettings::for_destination`): the mediator's network element identifier and
/// country codes, and each destination's module versions, reach what the agency receives,
/// on HI2 and on the pre-encoded HI3 path.
#[tokio::test]
async fn the_psheader_carries_the_ne_the_country_codes_and_the_destination_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ReceiverConfig::new(tmp.path().join("lemf"));
    config.keep_raw = true;
    let a = agency_with(config, None).await;
    let mut settings = settings(&tmp.path().join("spool"));
    settings.network_element_id = Some(li_core::NetworkElementId::new(b"MDF-7").unwrap());
    settings.authorization_country_code = Some("DE".parse().unwrap());
    settings.delivery_country_code = Some("FR".parse().unwrap());
    let m = Mediator::new(settings, None);
    m.create_destination(hi_destination_at(
        did(1),
        Interface::Hi2,
        &a.hi2_addr.to_string(),
    ))
    .await
    .unwrap();
    let older = HandoverFormat::Etsi102232 {
        ps_pdu_version: 38,
        ip_access_version: 17,
        ip_multimedia_version: 14,
    };
    m.create_destination(HiDestination {
        format: older,
        ..hi_destination_at(did(2), Interface::Hi3, &a.hi3_addr.to_string())
    })
    .await
    .unwrap();
    let task = task(b"LIID-HDR", 1, InterceptScope::IriAndCc, &[did(1), did(2)]);
    let liid = task.liid();
    m.activate_task(task).await.unwrap();
    assert_eq!(
        m.on_pdu(&x2(xid(1), 7, 0, at(1))).await,
        Outcome::Delivered(1)
    );
    for n in 0..2 {
        assert_eq!(
            m.on_pdu(&x3(xid(1), 7, u32::from(n), at(2), n)).await,
            Outcome::Delivered(1)
        );
    }
    drained(&m).await;
    m.shutdown().await;

    let expect_header = |pdu: &li_asn1::PsPdu, version: u16, seq: u32| {
        let h = &pdu.header;
        assert_eq!(h.lawful_interception_identifier, liid);
        assert_eq!(
            h.li_ps_domain_id,
            li_asn1::ObjectIdentifier::li_ps_domain_id(version)
        );
        assert_eq!(h.authorization_country_code.as_deref(), Some("DE"));
        let ci = &h.communication_identifier;
        assert_eq!(ci.delivery_country_code.as_deref(), Some("FR"));
        assert_eq!(ci.communication_identity_number, Some(7));
        let ni = &ci.network_identifier;
        assert_eq!(ni.operator_identifier, b"OPERATOR");
        assert_eq!(
            ni.network_element_identifier.as_deref(),
            Some(&b"MDF-7"[..])
        );
        assert_eq!(h.sequence_number, seq);
    };
    let iri = records_in(&tmp.path().join("lemf/hi2.ber"));
    assert_eq!(iri.len(), 1);
    expect_header(&iri[0], 43, 0);
    let cc = records_in(&tmp.path().join("lemf/hi3.ber"));
    assert_eq!(cc.len(), 2);
    for (seq, pdu) in cc.iter().enumerate() {
        expect_header(pdu, 38, seq as u32);
        let li_asn1::Payload::CcPayloadSequence(items) = &pdu.payload else {
            panic!("not CC: {pdu:?}")
        };
        let li_asn1::CcContents::IpCc(ipcc) = &items[0].cc_contents else {
            panic!("not IPCC: {items:?}")
        };
        assert_eq!(ipcc.obj_id, li_asn1::ipaccess::ipcc_obj_id(17));
    }
    a.stop().await;
}

/// Issue 12: a destination whose handover format the mediator cannot produce is refused
/// when it is created (or modified to it), with an error naming the format; nothing is
/// started for it, and a refused modification keeps the destination as it was.
#[tokio::test]
async fn a_destination_in_a_format_the_mediator_cannot_produce_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let m = mediator(&tmp.path().join("spool"));
    let at_9 = |format| HiDestination {
        format,
        ..hi_destination_at(did(1), Interface::Hi3, "127.0.0.1:9")
    };
    for (format, named) in [
        (
            HandoverFormat::Atis1000013 { version: 3 },
            "ATIS-1000013 version 3",
        ),
        (
            HandoverFormat::Atis1000678 { version: 3 },
            "ATIS-1000678 version 3",
        ),
        (
            HandoverFormat::PacketCable { version: 7 },
            "PacketCable version 7",
        ),
        (
            HandoverFormat::Etsi102232 {
                ps_pdu_version: 44,
                ip_access_version: 18,
                ip_multimedia_version: 14,
            },
            "LI-PS-PDU version 44",
        ),
        (
            HandoverFormat::Etsi102232 {
                ps_pdu_version: 43,
                ip_access_version: 0,
                ip_multimedia_version: 14,
            },
            "IPAccessPDU version 0",
        ),
    ] {
        let err = m.create_destination(at_9(format)).await.unwrap_err();
        assert!(
            matches!(err, MediatorError::UnsupportedFormat { did: d, format: f } if d == did(1) && f == format),
            "{err:?}"
        );
        assert!(err.to_string().contains(named), "{err}");
    }
    assert!(m.destinations().await.is_empty());
    assert!(!tmp.path().join("spool").join(did(1).to_string()).exists());
    // The oldest and newest versions li-asn1 encodes are taken.
    for (n, ps_pdu_version, ip_access_version) in [(2, 1, 1), (3, 43, 18)] {
        m.create_destination(HiDestination {
            format: HandoverFormat::Etsi102232 {
                ps_pdu_version,
                ip_access_version,
                ip_multimedia_version: 14,
            },
            ..hi_destination_at(did(n), Interface::Hi3, "127.0.0.1:9")
        })
        .await
        .unwrap();
    }
    let err = m
        .modify_destination(HiDestination {
            format: HandoverFormat::PacketCable { version: 1 },
            ..hi_destination_at(did(2), Interface::Hi3, "127.0.0.1:9")
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("PacketCable version 1"), "{err}");
    let kept = m.destinations().await;
    assert_eq!(kept.len(), 2);
    assert_eq!(
        kept.iter().find(|d| d.0.id == did(2)).unwrap().0.format,
        HandoverFormat::Etsi102232 {
            ps_pdu_version: 1,
            ip_access_version: 1,
            ip_multimedia_version: 14,
        }
    );
    // An address that is not host:port is refused too.
    let err = m
        .create_destination(hi_destination_at(did(4), Interface::Hi2, "nowhere"))
        .await
        .unwrap_err();
    assert!(matches!(err, MediatorError::BadAddress { .. }), "{err:?}");
    m.shutdown().await;
}

/// Issue 12: what is pre-encoded per (LIID, CIN, destination) follows the destination and
/// the task: after a destination's format changes, the same communication's next records
/// carry the new versions; a task gone leaves nothing cached.
#[tokio::test]
async fn the_pre_encoded_headers_are_rebuilt_after_a_change() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ReceiverConfig::new(tmp.path().join("lemf"));
    config.keep_raw = true;
    let a = agency_with(config, None).await;
    let m = mediator(&tmp.path().join("spool"));
    m.create_destination(hi_destination_at(
        did(1),
        Interface::Hi2,
        &a.hi2_addr.to_string(),
    ))
    .await
    .unwrap();
    m.create_destination(hi_destination_at(
        did(2),
        Interface::Hi3,
        &a.hi3_addr.to_string(),
    ))
    .await
    .unwrap();
    let task = task(b"LIID-CHG", 1, InterceptScope::IriAndCc, &[did(1), did(2)]);
    m.activate_task(task.clone()).await.unwrap();
    assert_eq!(
        m.on_pdu(&x3(xid(1), 7, 0, at(1), 0)).await,
        Outcome::Delivered(1)
    );
    assert_eq!(
        m.on_pdu(&x3(xid(1), 8, 1, at(1), 1)).await,
        Outcome::Delivered(1)
    );
    // One header for (LIID, HI3), one encoder per CIN.
    assert_eq!(m.encoder_cache_sizes(), (1, 2, 0));
    // (Delivered first: records a restarted link re-sends would show up twice.)
    drained(&m).await;
    m.modify_destination(HiDestination {
        format: HandoverFormat::Etsi102232 {
            ps_pdu_version: 40,
            ip_access_version: 16,
            ip_multimedia_version: 14,
        },
        ..hi_destination_at(did(2), Interface::Hi3, &a.hi3_addr.to_string())
    })
    .await
    .unwrap();
    assert_eq!(m.encoder_cache_sizes(), (0, 0, 0));
    assert_eq!(
        m.on_pdu(&x3(xid(1), 7, 2, at(2), 2)).await,
        Outcome::Delivered(1)
    );
    // A new LIID for the task: its records carry it.
    let renamed = task
        .into_builder()
        .liid(Liid::new(b"LIID-NEW").unwrap())
        .build()
        .unwrap();
    m.modify_task(renamed).await.unwrap();
    assert_eq!(m.encoder_cache_sizes(), (0, 0, 0));
    assert_eq!(
        m.on_pdu(&x3(xid(1), 7, 3, at(3), 3)).await,
        Outcome::Delivered(1)
    );
    assert_eq!(m.encoder_cache_sizes(), (1, 1, 0));
    drained(&m).await;
    m.deactivate_task(xid(1)).await.unwrap();
    assert_eq!(m.encoder_cache_sizes(), (0, 0, 0));
    m.shutdown().await;

    let cc = records_in(&tmp.path().join("lemf/hi3.ber"));
    let seen: Vec<(String, Option<u32>, li_asn1::ObjectIdentifier)> = cc
        .iter()
        .map(|p| {
            (
                p.header.lawful_interception_identifier.to_string(),
                p.header
                    .communication_identifier
                    .communication_identity_number,
                p.header.li_ps_domain_id.clone(),
            )
        })
        .collect();
    let oid = li_asn1::ObjectIdentifier::li_ps_domain_id;
    assert_eq!(
        seen,
        [
            ("LIID-CHG".to_owned(), Some(7), oid(43)),
            ("LIID-CHG".to_owned(), Some(8), oid(43)),
            ("LIID-CHG".to_owned(), Some(7), oid(40)),
            ("LIID-NEW".to_owned(), Some(7), oid(40)),
        ]
    );
    a.stop().await;
}

/// Issue 12: the mediator's task is the one task model (`li_core::Task` naming its
/// destinations by DID), so an X1 task without a target, naming one twice, or naming a
/// destination twice (every record would go twice) is refused as not executable, naming
/// what is wrong, and nothing is activated.
#[tokio::test]
async fn an_x1_task_without_a_valid_target_or_destination_list_is_refused() {
    use crate::x1::{
        DeliveryType, MediationDeliveryType, MediationDetails, RequestBody, TaskDetails, error_code,
    };
    let tmp = tempfile::tempdir().unwrap();
    let m = mediator(&tmp.path().join("spool"));
    m.create_destination(hi_destination_at(did(1), Interface::Hi2, "127.0.0.1:9"))
        .await
        .unwrap();
    let x1 = MediatorX1::new(m.clone(), None);
    let activate = |targets, dids| {
        let mut details = TaskDetails::new(xid(1), targets, DeliveryType::X2Only, vec![]);
        details.mediation_details = vec![MediationDetails {
            liid: Liid::new(b"LIID-T").unwrap(),
            delivery_type: MediationDeliveryType::Hi2Only,
            start_time: None,
            end_time: None,
            dids: Some(dids),
        }];
        let x1 = &x1;
        async move { x1_answer(x1, RequestBody::ActivateTask(details)).await }
    };
    for (targets, dids, named) in [
        (vec![], vec![did(1)], "no target identifiers"),
        (
            vec![target(), target()],
            vec![did(1)],
            "target identifier #1 twice",
        ),
        (vec![target()], vec![did(1), did(1)], "twice"),
        (vec![target()], vec![], "no delivery destinations"),
    ] {
        let refused = activate(targets, dids).await.unwrap_err();
        assert_eq!(refused.code, error_code::NOT_EXECUTED, "{named}");
        assert!(refused.description.contains(named), "{named}: {refused}");
        assert!(m.tasks().await.is_empty(), "{named}");
    }
    activate(vec![target()], vec![did(1)]).await.unwrap();
    assert_eq!(m.tasks().await.len(), 1);
    m.shutdown().await;
}

/// Issue 12: the mediator answers each refusal with the code of its kind, so that an ADMF
/// decides on codes ("already absent", "exists already"), never on the description's words.
#[tokio::test]
async fn x1_refusals_carry_the_code_of_their_kind() {
    use crate::x1::{RequestBody, X1ErrorKind};
    let tmp = tempfile::tempdir().unwrap();
    let x1 = MediatorX1::new(mediator(tmp.path()), None);
    let ask = |body: RequestBody| {
        let x1 = &x1;
        async move { x1_answer(x1, body).await.err().and_then(|e| e.kind()) }
    };
    assert_eq!(
        ask(RequestBody::DeactivateTask(xid(9))).await,
        Some(X1ErrorKind::XidUnknown)
    );
    assert_eq!(
        ask(RequestBody::GetTaskDetails(xid(9))).await,
        Some(X1ErrorKind::XidUnknown)
    );
    assert_eq!(
        ask(RequestBody::RemoveDestination(did(9))).await,
        Some(X1ErrorKind::DidUnknown)
    );
    assert_eq!(
        ask(RequestBody::GetDestinationDetails(did(9))).await,
        Some(X1ErrorKind::DidUnknown)
    );
}

/// Issue 12: the agency's handover format travels over X1 (in the destination's URI) to the
/// encoder. A format the mediator produces is taken and reaches every PSHeader of that
/// destination; one it does not produce is refused at provisioning with
/// `FORMAT_UNSUPPORTED`, naming it, and nothing is created — never delivered in another
/// format.
#[tokio::test]
async fn the_format_an_x1_destination_names_is_the_format_delivered_or_it_is_refused() {
    use crate::x1::{DeliveryAddress, DeliveryType, DestinationDetails, RequestBody, X1ErrorKind};
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ReceiverConfig::new(tmp.path().join("lemf"));
    config.keep_raw = true;
    let a = agency_with(config, None).await;
    let m = mediator(&tmp.path().join("spool"));
    let x1 = MediatorX1::new(m.clone(), None);
    let create = |n: u8, delivery_type, addr: String| {
        let body = RequestBody::CreateDestination(DestinationDetails {
            did: did(n),
            friendly_name: None,
            delivery_type,
            delivery_address: DeliveryAddress::Uri(addr),
        });
        let x1 = &x1;
        async move { x1_answer(x1, body).await }
    };
    for (format, named) in [
        ("packetcable:7", "PacketCable version 7"),
        ("atis-1000013:3", "ATIS-1000013 version 3"),
        ("etsi-102232:44:18", "LI-PS-PDU version 44"),
        ("etsi:43", "\"etsi:43\""),
    ] {
        let refused = create(
            5,
            DeliveryType::X2Only,
            format!("tcp://{}?handover={format}", a.hi2_addr),
        )
        .await
        .unwrap_err();
        assert_eq!(
            refused.kind(),
            Some(X1ErrorKind::FormatUnsupported),
            "{format}"
        );
        assert!(refused.description.contains(named), "{format}: {refused}");
    }
    assert!(m.destinations().await.is_empty());

    // an older ETSI version is taken, and is what the agency receives
    create(
        1,
        DeliveryType::X2Only,
        format!("tcp://{}?handover=etsi-102232:20:9", a.hi2_addr),
    )
    .await
    .unwrap();
    create(
        2,
        DeliveryType::X3Only,
        format!("tcp://{}?handover=etsi-102232:20:9", a.hi3_addr),
    )
    .await
    .unwrap();
    let formats: Vec<_> = m.destinations().await.iter().map(|d| d.0.format).collect();
    assert_eq!(
        formats,
        vec![
            HandoverFormat::Etsi102232 {
                ps_pdu_version: 20,
                ip_access_version: 9,
                ip_multimedia_version: 14,
            };
            2
        ]
    );
    m.activate_task(task(
        b"LIID-FMT",
        1,
        InterceptScope::IriAndCc,
        &[did(1), did(2)],
    ))
    .await
    .unwrap();
    assert_eq!(
        m.on_pdu(&x2(xid(1), 7, 0, at(1))).await,
        Outcome::Delivered(1)
    );
    assert_eq!(
        m.on_pdu(&x3(xid(1), 7, 1, at(2), 1)).await,
        Outcome::Delivered(1)
    );
    drained(&m).await;
    m.shutdown().await;
    for file in ["hi2.ber", "hi3.ber"] {
        let records = records_in(&tmp.path().join("lemf").join(file));
        assert_eq!(records.len(), 1, "{file}");
        assert_eq!(
            records[0].header.li_ps_domain_id,
            li_asn1::ObjectIdentifier::li_ps_domain_id(20),
            "{file}"
        );
    }
    a.stop().await;
}

/// `x1`'s answer to one request `body` from the ADMF: `Ok` for any success, the
/// `ErrorInformation` of an `ErrorResponse`.
async fn x1_answer(
    x1: &MediatorX1,
    body: crate::x1::RequestBody,
) -> Result<(), crate::x1::ErrorInformation> {
    use crate::x1::{MessageHeader, ResponseBody, X1Handler, X1Peer, X1Request, X1Version};
    let header = MessageHeader {
        admf_identifier: "admf".into(),
        ne_identifier: "mediator".into(),
        message_timestamp: at(0),
        version: X1Version::CURRENT,
        x1_transaction_id: "7b0bd1c9-3e0e-4d0b-9d8c-6c0a4b4f1a11".parse().unwrap(),
    };
    let peer = X1Peer {
        addr: "127.0.0.1:9".parse().unwrap(),
        identity: None,
    };
    let response = x1.handle(X1Request::single(header, body), peer).await;
    match &response.messages[..] {
        [m] => match &m.body {
            ResponseBody::Error(e) => Err(e.error.clone()),
            _ => Ok(()),
        },
        other => panic!("one response expected: {other:?}"),
    }
}

/// Issue 12: a task's own country codes (a program building its tasks may set them) go in
/// its PSHeaders; the mediator's settings fill in only what the task leaves out.
#[test]
fn a_tasks_own_country_codes_come_before_the_mediators() {
    let tmp = tempfile::tempdir().unwrap();
    let mut settings = settings(tmp.path());
    settings.authorization_country_code = Some("DE".parse().unwrap());
    settings.delivery_country_code = Some("FR".parse().unwrap());
    let destination = hi_destination_at(did(1), Interface::Hi2, "127.0.0.1:9");
    let task = MediationTask::builder(
        Liid::new(b"LIID-CC").unwrap(),
        xid(1),
        InterceptScope::IriOnly,
        ValidityWindow::ALWAYS,
    )
    .target(target())
    .destination(did(1));
    let codes = |task: MediationTask| {
        let h = header_settings(&task, &destination, &settings).unwrap();
        (
            h.authorization_country_code.map(|c| c.to_string()),
            h.delivery_country_code.map(|c| c.to_string()),
        )
    };
    assert_eq!(
        codes(task.clone().build().unwrap()),
        (Some("DE".into()), Some("FR".into()))
    );
    assert_eq!(
        codes(
            task.authorization_country_code(Some("NL".parse().unwrap()))
                .build()
                .unwrap()
        ),
        (Some("NL".into()), Some("FR".into()))
    );
}

/// Issue 13: a call's SIP (X2 SIP Message) and media (X3 RTP Packet) reach the agency as
/// TS 102 232-5 IPMMIRI and IPMMCC under the call's CIN, through the same spools, numbering
/// and links as IP data; an IRI-only task's SIP goes as `iRIOnlySIPMessage` and its media is refused.
#[tokio::test]
async fn a_calls_sip_and_media_reach_the_agency_as_ipmmiri_and_ipmmcc() {
    use li_asn1::ipmm::{FrameType, IpmmIriContents, MmccProtocol};
    use li_core::{CcKind, MediaFlow, MediaProtocol, SipEvent};
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ReceiverConfig::new(tmp.path().join("lemf"));
    config.keep_raw = true;
    let a = agency_with(config, None).await;
    let m = mediator(&tmp.path().join("spool"));
    add_agency(&m, &a, did(1), did(2), "LEA-1").await;
    let task = |n: u8, scope, dids: &[DestinationId]| {
        MediationTask::builder(
            Liid::new(format!("LIID-V{n}").as_bytes()).unwrap(),
            xid(n),
            scope,
            ValidityWindow::ALWAYS,
        )
        .target("sip:alice@example.com".parse().unwrap())
        .destinations(dids.iter().copied())
        .build()
        .unwrap()
    };
    m.activate_task(task(1, InterceptScope::IriAndCc, &[did(1), did(2)]))
        .await
        .unwrap();
    m.activate_task(task(2, InterceptScope::IriOnly, &[did(1)]))
        .await
        .unwrap();

    let invite = b"INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: c1\r\n\r\n";
    let sip = |x: Xid, seq: u32, iri_type| {
        contract::iri_pdu(
            &IriRecord {
                xid: x,
                cin: Cin::new(40),
                timestamp: at(1),
                iri_type,
                event: IriEvent::Sip(SipEvent {
                    source: "192.0.2.1:5060".parse().unwrap(),
                    destination: "[2001:db8::5]:5060".parse().unwrap(),
                    message: invite.as_slice().into(),
                }),
            },
            seq,
        )
        .unwrap()
    };
    let rtp = [0x80u8, 0, 0, 7, 0, 0, 3, 0xc0, 1, 2, 3, 4, 0xd5, 0xd5];
    let media = |x: Xid, seq: u32, stream: u16| {
        contract::x3_pdu(
            &CcRecord {
                xid: x,
                cin: Cin::new(40),
                timestamp: at(2),
                direction: li_core::PayloadDirection::ToTarget,
                payload: rtp.to_vec().into(),
                original_len: None,
                kind: CcKind::Media(MediaFlow {
                    source: "198.51.100.9:40000".parse().unwrap(),
                    destination: "192.0.2.1:49170".parse().unwrap(),
                    protocol: MediaProtocol::Rtp,
                    stream,
                }),
            },
            seq,
        )
        .unwrap()
    };
    assert_eq!(
        m.on_pdu(&sip(xid(1), 0, IriType::Begin)).await,
        Outcome::Delivered(1)
    );
    assert_eq!(m.on_pdu(&media(xid(1), 1, 0)).await, Outcome::Delivered(1));
    assert_eq!(m.on_pdu(&media(xid(1), 2, 1)).await, Outcome::Delivered(1));
    // One IPMMCC encoder per stream of the call.
    assert!(matches!(m.encoder_cache_sizes(), (_, _, 2)));
    // IP data of the same task on the same link: another communication, numbered apart.
    assert_eq!(
        m.on_pdu(&x3(xid(1), 41, 3, at(3), 1)).await,
        Outcome::Delivered(1)
    );
    assert_eq!(
        m.on_pdu(&sip(xid(2), 0, IriType::End)).await,
        Outcome::Delivered(1)
    );
    assert_eq!(
        m.on_pdu(&media(xid(2), 1, 0)).await,
        Outcome::Refused(Refusal::ContentForIriOnly)
    );
    drained(&m).await;
    // The call's task gone, its media encoders go with it.
    m.deactivate_task(xid(1)).await.unwrap();
    assert!(matches!(m.encoder_cache_sizes(), (_, _, 0)));
    m.shutdown().await;

    let iri = records_in(&tmp.path().join("lemf/hi2.ber"));
    let sip_of = |pdu: &li_asn1::PsPdu| {
        let li_asn1::Payload::IriPayloadSequence(items) = &pdu.payload else {
            panic!("not IRI: {pdu:?}")
        };
        let li_asn1::IriContents::IpmmIri(ipmm) = &items[0].iri_contents else {
            panic!("not IPMMIRI: {items:?}")
        };
        (
            pdu.header.lawful_interception_identifier,
            pdu.header
                .communication_identifier
                .communication_identity_number,
            items[0].iri_type,
            ipmm.contents.clone(),
        )
    };
    let expected = li_asn1::ipmm::SipMessage::new(
        "192.0.2.1".parse().unwrap(),
        "2001:db8::5".parse().unwrap(),
        invite,
    );
    assert_eq!(
        iri.iter().map(sip_of).collect::<Vec<_>>(),
        [
            (
                Liid::new(b"LIID-V1").unwrap(),
                Some(40),
                Some(li_asn1::IriType::Begin),
                IpmmIriContents::SipMessage(expected.clone())
            ),
            (
                Liid::new(b"LIID-V2").unwrap(),
                Some(40),
                Some(li_asn1::IriType::End),
                IpmmIriContents::IriOnlySipMessage(expected)
            ),
        ]
    );

    let cc = records_in(&tmp.path().join("lemf/hi3.ber"));
    assert_eq!(cc.len(), 3);
    for (i, pdu) in cc[..2].iter().enumerate() {
        assert_eq!(pdu.header.sequence_number, i as u32);
        assert_eq!(
            pdu.header
                .communication_identifier
                .communication_identity_number,
            Some(40)
        );
        let li_asn1::Payload::CcPayloadSequence(items) = &pdu.payload else {
            panic!("not CC: {pdu:?}")
        };
        assert_eq!(
            items[0].payload_direction,
            Some(li_asn1::PayloadDirection::ToTarget)
        );
        let li_asn1::CcContents::IpmmCc(mm) = &items[0].cc_contents else {
            panic!("not IPMMCC: {items:?}")
        };
        assert_eq!(mm.contents, rtp);
        assert_eq!(mm.frame_type, Some(FrameType::RtpFrame));
        assert_eq!(mm.protocol, Some(MmccProtocol::Rtp));
        assert_eq!(
            mm.stream_identifier.as_deref(),
            Some(i.to_string().as_bytes())
        );
    }
    assert_eq!(
        (
            cc[2].header.sequence_number,
            cc[2]
                .header
                .communication_identifier
                .communication_identity_number
        ),
        (0, Some(41))
    );
    assert!(matches!(
        &cc[2].payload,
        li_asn1::Payload::CcPayloadSequence(items)
            if matches!(items[0].cc_contents, li_asn1::CcContents::IpCc(_))
    ));
    a.stop().await;
}

/// Creates agency `a`'s HI2 and HI3 destinations at `m` in `format`.
async fn add_agency_in(
    m: &Mediator,
    a: &RunningReceiver,
    (hi2, hi3): (DestinationId, DestinationId),
    name: &str,
    format: HandoverFormat,
) {
    for (id, interface, addr) in [
        (hi2, Interface::Hi2, a.hi2_addr),
        (hi3, Interface::Hi3, a.hi3_addr),
    ] {
        m.create_destination(HiDestination {
            id,
            name: format!("{name} {interface}"),
            interface,
            addr: addr.to_string(),
            transport: HiTransport::Configured,
            format,
        })
        .await
        .unwrap();
    }
}

/// The X2 PDU of an access event of the test target's session `cin`, with its address.
fn x2_access(task: Xid, cin: u32, seq: u32, time: Timestamp, event_type: AccessEventType) -> Pdu {
    let mut event = AccessEvent::new(event_type);
    event.username = b"alice@isp.example".to_vec();
    event.addresses = vec![li_core::IpPrefix::host("192.0.2.1".parse().unwrap())];
    let record = IriRecord {
        xid: task,
        cin: Cin::new(cin),
        timestamp: time,
        iri_type: IriType::Begin,
        event: IriEvent::Access(event),
    };
    contract::iri_pdu(&record, seq).unwrap()
}

const ATIS_1000013: HandoverFormat = HandoverFormat::Atis1000013 { version: 1 };

/// Issue 14: one warrant, a European agency in ETSI and a US agency in ATIS-1000013: each
/// gets its own complete copy, correlated in its own family, the same packets in each.
#[tokio::test]
async fn a_warrant_with_an_etsi_and_an_atis_agency_gives_each_its_own_complete_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let eu = agency(&tmp.path().join("lemf-eu")).await;
    let mut config = ReceiverConfig::new(tmp.path().join("lemf-us"));
    config.keep_raw = true;
    let us = agency_with(config, None).await;
    let mut s = settings(&tmp.path().join("spool"));
    s.iap_system_id = Some("BNG-7".into());
    let m = Mediator::new(s, None);
    add_agency(&m, &eu, did(1), did(2), "LEA-EU").await;
    add_agency_in(&m, &us, (did(3), did(4)), "LEA-US", ATIS_1000013).await;
    let task = task(
        b"LIID-BOTH",
        1,
        InterceptScope::IriAndCc,
        &[did(1), did(2), did(3), did(4)],
    );
    let liid = task.liid();
    m.activate_task(task).await.unwrap();
    m.on_pdu(&x2_access(
        xid(1),
        7,
        0,
        at(1),
        AccessEventType::AccessAccept,
    ))
    .await;
    for n in 0..20u8 {
        assert_eq!(
            m.on_pdu(&x3(xid(1), 7, u32::from(n), at(2), n)).await,
            Outcome::Delivered(2)
        );
    }
    m.on_pdu(&x2_access(xid(1), 7, 1, at(3), AccessEventType::AccessEnd))
        .await;
    drained(&m).await;

    // Each agency: every record, no gap; the US one in its family's messages (two per
    // session begin and end).
    let eu_summary = &eu.summary().liids[&liid];
    assert_eq!((eu_summary.iri, eu_summary.cc, eu_summary.gaps), (2, 20, 0));
    let us_summary = &us.summary().liids[&liid];
    assert_eq!((us_summary.iri, us_summary.cc, us_summary.gaps), (4, 20, 0));
    assert_eq!(us_summary.decode_errors, 0);
    // The same packets, at the same times, in each agency's pcap of the case.
    let pcap =
        |summary: &lemf::LiidSummary| std::fs::read(summary.pcap_path.as_ref().unwrap()).unwrap();
    assert_eq!(pcap(us_summary), pcap(eu_summary));

    // The US agency's lines: the CmII messages in order, correlated by the CIN.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(us.summary().records_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let iri: Vec<_> = lines.iter().filter(|l| l["kind"] == "iri").collect();
    let names: Vec<_> = iri.iter().map(|l| l["message"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "access-Accepted",
            "session-Start",
            "session-End",
            "access-Session-End"
        ]
    );
    for l in &iri {
        assert_eq!(l["format"], "atis-1000013");
        assert_eq!(l["liid"], "LIID-BOTH");
        assert_eq!(l["subscriber"], "alice@isp.example");
        assert_eq!(l["cin"], 7, "{l}");
    }
    assert_eq!(iri[1]["content_identifier"], "7");
    assert_eq!(iri[1]["address"], "192.0.2.1");
    let cc: Vec<_> = lines.iter().filter(|l| l["kind"] == "cc").collect();
    assert_eq!(cc.len(), 20);
    for (n, l) in cc.iter().enumerate() {
        assert_eq!(
            (l["cin"].as_u64(), l["seq"].as_u64()),
            (Some(7), Some(n as u64))
        );
        assert_eq!(l["direction"], "fromTarget");
    }
    // On the wire: IAS-CC-APDUs under the case, the IAP and the session's identifier,
    // with the link's link tests between them.
    let raw = std::fs::read(tmp.path().join("lemf-us/hi3.ber")).unwrap();
    let mut rest = &raw[..];
    let mut apdus = 0;
    while !rest.is_empty() {
        let len = li_asn1::ber::frame_len(rest, 1 << 20).unwrap().unwrap();
        let (frame, tail) = rest.split_at(len);
        rest = tail;
        if li_asn1::atis::access::link_test_answer(frame).is_ok() {
            continue;
        }
        let apdu = li_asn1::atis::ias_cc::IasCcApdu::decode(frame).unwrap();
        let header = apdu.delivery_header.unwrap();
        let info = header.correlation_info;
        assert_eq!(info.case_id.as_deref(), Some("LIID-BOTH"));
        assert_eq!(info.iap_id.as_deref(), Some("BNG-7"));
        assert_eq!(
            info.content_identifier,
            li_asn1::atis::ias_cc::ContentIdentifier::CorrelationId(b"7".to_vec())
        );
        assert_eq!(apdu.payload, packet(apdus as u8));
        apdus += 1;
    }
    assert_eq!(apdus, 20);
    m.shutdown().await;
    eu.stop().await;
    us.stop().await;
}

/// An ATIS destination takes no call (an ATIS-1000013 agency receives internet access): a
/// SIP record goes to the task's ETSI destination only, and is counted; a task whose LIID
/// cannot be an ATIS caseId is refused, naming why.
#[tokio::test]
async fn an_atis_destination_is_given_only_what_its_format_carries() {
    let tmp = tempfile::tempdir().unwrap();
    let eu = agency(&tmp.path().join("lemf-eu")).await;
    let us = agency(&tmp.path().join("lemf-us")).await;
    let m = mediator(&tmp.path().join("spool"));
    add_agency(&m, &eu, did(1), did(2), "LEA-EU").await;
    add_agency_in(&m, &us, (did(3), did(4)), "LEA-US", ATIS_1000013).await;

    let bad = task(b"CASE\x07", 2, InterceptScope::IriAndCc, &[did(3), did(4)]);
    let err = m.activate_task(bad).await.unwrap_err();
    assert!(
        matches!(&err, MediatorError::BadTask { reason, .. } if reason.contains("caseId")),
        "{err}"
    );
    // A task whose targets' traffic the format does not carry (a SIP target to an
    // ATIS-1000013 agency) is refused too.
    let sip_only = MediationTask::builder(
        Liid::new(b"LIID-SIP-ONLY").unwrap(),
        xid(3),
        InterceptScope::IriAndCc,
        ValidityWindow::ALWAYS,
    )
    .target("sip:alice@a.example".parse().unwrap())
    .destinations([did(3), did(4)])
    .build()
    .unwrap();
    let err = m.activate_task(sip_only).await.unwrap_err();
    assert!(
        matches!(&err, MediatorError::BadTask { reason, .. } if reason.contains("ATIS-1000013 carries internet access")),
        "{err}"
    );
    // The same LIID to an ETSI agency is fine.
    m.activate_task(task(b"CASE\x07", 2, InterceptScope::IriAndCc, &[did(1)]))
        .await
        .unwrap();

    m.activate_task(task(
        b"LIID-SIP",
        1,
        InterceptScope::IriAndCc,
        &[did(1), did(3)],
    ))
    .await
    .unwrap();
    let sip = contract::iri_pdu(
        &IriRecord {
            xid: xid(1),
            cin: Cin::new(40),
            timestamp: at(1),
            iri_type: IriType::Begin,
            event: IriEvent::Sip(li_core::SipEvent {
                source: "192.0.2.1:5060".parse().unwrap(),
                destination: "198.51.100.5:5060".parse().unwrap(),
                message: b"INVITE sip:bob@example.com SIP/2.0\r\n\r\n"
                    .as_slice()
                    .into(),
            }),
        },
        0,
    )
    .unwrap();
    assert_eq!(m.on_pdu(&sip).await, Outcome::Delivered(1));
    // With the ETSI destination gone from the task, the record goes nowhere: refused.
    m.modify_task(task(b"LIID-SIP", 1, InterceptScope::IriAndCc, &[did(3)]))
        .await
        .unwrap();
    assert_eq!(m.on_pdu(&sip).await, Outcome::Refused(Refusal::NotInFormat));
    drained(&m).await;
    let refused = m.stats().refused();
    assert_eq!(refused.get(&Refusal::NotInFormat), Some(&2));
    let liid = Liid::new(b"LIID-SIP").unwrap();
    assert_eq!(eu.summary().liids[&liid].iri, 1);
    assert!(!us.summary().liids.contains_key(&liid));
    m.shutdown().await;
    eu.stop().await;
    us.stop().await;
}

const ATIS_1000678: HandoverFormat = HandoverFormat::Atis1000678 { version: 2 };

/// Issue 14: a SIP target's call to a European agency (ETSI) and a US VoIP agency
/// (ATIS-1000678): the US one gets the call data around the content, the SIP verbatim, the
/// RTP under the call's content identifier, and its own ladder and media files of the call.
#[tokio::test]
async fn a_call_reaches_a_us_voip_agency_as_atis_1000678_call_data_and_content() {
    use li_core::{CcKind, MediaFlow, MediaProtocol, SipEvent};
    let tmp = tempfile::tempdir().unwrap();
    let eu = agency(&tmp.path().join("lemf-eu")).await;
    let mut config = ReceiverConfig::new(tmp.path().join("lemf-us"));
    config.keep_raw = true;
    let us = agency_with(config, None).await;
    let m = mediator(&tmp.path().join("spool"));
    add_agency(&m, &eu, did(1), did(2), "LEA-EU").await;
    add_agency_in(&m, &us, (did(3), did(4)), "LEA-US", ATIS_1000678).await;
    let task = MediationTask::builder(
        Liid::new(b"LIID-VOIP").unwrap(),
        xid(1),
        InterceptScope::IriAndCc,
        ValidityWindow::ALWAYS,
    )
    .target("sip:alice@a.example".parse().unwrap())
    .destinations([did(1), did(2), did(3), did(4)])
    .build()
    .unwrap();
    let liid = task.liid();
    m.activate_task(task.clone()).await.unwrap();

    let sip_text = |first: &str, cseq: &str| {
        format!(
            "{first}\r\nFrom: <sip:alice@a.example>;tag=1\r\nTo: <sip:bob@b.example>\r\n\
             Call-ID: c1\r\nCSeq: {cseq}\r\n\r\n"
        )
        .into_bytes()
    };
    let call = [
        (
            IriType::Begin,
            sip_text("INVITE sip:bob@b.example SIP/2.0", "1 INVITE"),
        ),
        (IriType::Continue, sip_text("SIP/2.0 200 OK", "1 INVITE")),
        (
            IriType::Continue,
            sip_text("BYE sip:bob@b.example SIP/2.0", "2 BYE"),
        ),
        (IriType::End, sip_text("SIP/2.0 200 OK", "2 BYE")),
    ];
    let sip = |seq: u32, (iri_type, message): &(IriType, Vec<u8>)| {
        contract::iri_pdu(
            &IriRecord {
                xid: xid(1),
                cin: Cin::new(40),
                timestamp: at(u64::from(seq)),
                iri_type: *iri_type,
                event: IriEvent::Sip(SipEvent {
                    source: "192.0.2.1:5060".parse().unwrap(),
                    destination: "198.51.100.9:5060".parse().unwrap(),
                    message: message.clone().into(),
                }),
            },
            seq,
        )
        .unwrap()
    };
    let rtp = |n: u8| {
        let mut p = vec![0x80u8, 0, 0, n, 0, 0, 0, n.wrapping_mul(160), 0, 0, 0, 7];
        p.extend_from_slice(&[0xff; 160]);
        p
    };
    let media = |seq: u32, n: u8| {
        contract::x3_pdu(
            &CcRecord {
                xid: xid(1),
                cin: Cin::new(40),
                timestamp: at(1),
                direction: li_core::PayloadDirection::FromTarget,
                payload: rtp(n).into(),
                original_len: None,
                kind: CcKind::Media(MediaFlow {
                    source: "192.0.2.1:49170".parse().unwrap(),
                    destination: "198.51.100.9:40000".parse().unwrap(),
                    protocol: MediaProtocol::Rtp,
                    stream: 0,
                }),
            },
            seq,
        )
        .unwrap()
    };
    assert_eq!(m.on_pdu(&sip(0, &call[0])).await, Outcome::Delivered(2));
    assert_eq!(m.on_pdu(&sip(1, &call[1])).await, Outcome::Delivered(2));
    for n in 0..3u8 {
        assert_eq!(
            m.on_pdu(&media(u32::from(n), n)).await,
            Outcome::Delivered(2)
        );
    }
    // A change of the task's details mid-call: the call's state carries on (no second
    // Answer, the Release closes the content).
    m.modify_task(task).await.unwrap();
    assert_eq!(m.on_pdu(&sip(2, &call[2])).await, Outcome::Delivered(2));
    assert_eq!(m.on_pdu(&sip(3, &call[3])).await, Outcome::Delivered(2));
    // IP data of the task has no ATIS-1000678 form: the ETSI agency alone gets it.
    assert_eq!(
        m.on_pdu(&x3(xid(1), 41, 0, at(5), 1)).await,
        Outcome::Delivered(1)
    );
    m.deactivate_task(xid(1)).await.unwrap();
    drained(&m).await;
    m.shutdown().await;
    let (eu_summary, us_summary) = (eu.stop().await, us.stop().await);

    // The US agency: call data in order, correlated by the call's CIN, the SIP verbatim.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&us_summary.records_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let iri: Vec<_> = lines.iter().filter(|l| l["kind"] == "iri").collect();
    let names: Vec<&str> = iri.iter().map(|l| l["message"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "surveillanceStatus",
            "origination",
            "answer",
            "ccOpen",
            "release",
            "ccClose",
            "directSignalReporting",
            "surveillanceStatus"
        ]
    );
    let call_data = &iri[1..iri.len() - 1];
    assert!(
        call_data
            .iter()
            .all(|l| l["format"] == "atis-1000678" && l["cin"] == 40 && l["liid"] == "LIID-VOIP")
    );
    assert_eq!(call_data[0]["sip"], "INVITE sip:bob@b.example SIP/2.0");
    // The task's activation and deactivation, reported by the mediator.
    let raw = std::fs::read(tmp.path().join("lemf-us/hi2.ber")).unwrap();
    let mut rest = &raw[..];
    let mut statuses = Vec::new();
    while !rest.is_empty() {
        let len = li_asn1::ber::frame_len(rest, 1 << 20).unwrap().unwrap();
        let (frame, tail) = rest.split_at(len);
        rest = tail;
        if let Ok(p) = li_asn1::atis::laes::LaesProtocol::decode(frame)
            && let li_asn1::atis::laes::LaesMessage::SurveillanceStatus(s) = p.message()
        {
            assert_eq!(s.header.case_id.as_str(), "LIID-VOIP");
            statuses.push((s.status_event_type, s.current_status));
        }
    }
    use li_asn1::atis::laes::{
        CurrentSurveillanceStatus as Now, SurveillanceStatusEventType as Event,
    };
    assert_eq!(
        statuses,
        [
            (Event::Activation, Now::FullyActive),
            (Event::Deactivation, Now::Inactive)
        ]
    );
    let cc: Vec<_> = lines.iter().filter(|l| l["kind"] == "cc").collect();
    assert_eq!(cc.len(), 3);
    assert!(
        cc.iter()
            .all(|l| l["cin"] == 40 && l["direction"] == "fromTarget")
    );
    // ... and the call's own files: the ladder of the four SIP messages, the RTP.
    let s = &us_summary.liids[&liid];
    assert_eq!((s.gaps, s.decode_errors), (0, 0));
    let us_call = &s.calls[&40];
    assert_eq!(us_call.cc, 3);
    let ladder = std::fs::read_to_string(us_call.dir.join("ladder.jsonl")).unwrap();
    assert_eq!(ladder.lines().count(), 4, "{ladder}");
    // On the wire: CC-APDUs under the call's content identifier, the RTP as payload.
    let raw = std::fs::read(tmp.path().join("lemf-us/hi3.ber")).unwrap();
    let mut rest = &raw[..];
    let mut payloads = Vec::new();
    while !rest.is_empty() {
        let len = li_asn1::ber::frame_len(rest, 1 << 20).unwrap().unwrap();
        let (frame, tail) = rest.split_at(len);
        rest = tail;
        if crate::calea::link_test_answer(frame).is_ok() {
            continue;
        }
        let apdu = li_asn1::atis::laes_cc::CcApdu::decode(frame).unwrap();
        let info = apdu.delivery_header.unwrap().correlation_info;
        assert_eq!(
            info.content_identifier,
            crate::calea::content_identifier(Cin::new(40))
        );
        assert_eq!(info.case_id.as_deref(), Some("LIID-VOIP"));
        payloads.push(apdu.payload);
    }
    assert_eq!(payloads, (0..3u8).map(rtp).collect::<Vec<_>>());
    // The European agency got the same call, and the IP packet besides.
    let eu_s = &eu_summary.liids[&liid];
    assert_eq!((eu_s.iri, eu_s.calls[&40].cc), (4, 3));
    assert_eq!(eu_s.cc, 4);
}

const PACKETCABLE: HandoverFormat = HandoverFormat::PacketCable { version: 3 };

/// Issue 14: a SIP target's call to a PacketCable agency, whose call-data connection and
/// call-content socket are plain sockets here (what a foreign collection function sees):
/// `CdcPdu`s on the TCP connection and nothing written back, the content as `pcli12`
/// datagrams whose CCC identifiers are the pair the `CCOpen` named (transmitted for the
/// target's packets, received for the others'), each carrying the packet's IP datagram with
/// the flow's real addresses.
#[tokio::test]
async fn a_call_reaches_a_cable_agency_as_pcesp_call_data_and_ccc_datagrams() {
    use li_asn1::packetcable::ccc::{CccForm, decode as decode_ccc};
    use li_asn1::packetcable::{CdcPdu, Message};
    use li_core::{CcKind, MediaFlow, MediaProtocol, SipEvent};
    use tokio::io::AsyncReadExt;

    let tmp = tempfile::tempdir().unwrap();
    let cdc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cdc_addr = cdc.local_addr().unwrap();
    // The agency's collection function: reads until the mediator closes, writes nothing.
    let cdc_stream = tokio::spawn(async move {
        let (mut sock, _) = cdc.accept().await.unwrap();
        let mut all = Vec::new();
        sock.read_to_end(&mut all).await.unwrap();
        all
    });
    let ccc = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let m = mediator(&tmp.path().join("spool"));
    for (id, interface, addr, transport) in [
        (did(3), Interface::Hi2, cdc_addr, HiTransport::PlainTcp),
        (
            did(4),
            Interface::Hi3,
            ccc.local_addr().unwrap(),
            HiTransport::Udp,
        ),
    ] {
        m.create_destination(HiDestination {
            id,
            name: format!("LEA-CABLE {interface}"),
            interface,
            addr: addr.to_string(),
            transport,
            format: PACKETCABLE,
        })
        .await
        .unwrap();
    }
    let task = MediationTask::builder(
        Liid::new(b"LIID-CABLE").unwrap(),
        xid(1),
        InterceptScope::IriAndCc,
        ValidityWindow::ALWAYS,
    )
    .target("sip:alice@a.example".parse().unwrap())
    .destinations([did(3), did(4)])
    .build()
    .unwrap();
    m.activate_task(task).await.unwrap();

    let sdp = |ip: &str, port: u16| {
        format!(
            "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n"
        )
    };
    let sip_text = |first: &str, cseq: &str, body: &str| {
        let content = if body.is_empty() {
            String::new()
        } else {
            format!(
                "Content-Type: application/sdp\r\nContent-Length: {}\r\n",
                body.len()
            )
        };
        format!(
            "{first}\r\nFrom: <sip:alice@a.example>;tag=1\r\nTo: <sip:bob@b.example>\r\n\
             Call-ID: c1\r\nCSeq: {cseq}\r\n{content}\r\n{body}"
        )
        .into_bytes()
    };
    let (alice_sdp, bob_sdp) = (sdp("192.0.2.1", 49170), sdp("198.51.100.9", 40000));
    let call = [
        (
            IriType::Begin,
            sip_text("INVITE sip:bob@b.example SIP/2.0", "1 INVITE", &alice_sdp),
        ),
        (
            IriType::Continue,
            sip_text("SIP/2.0 200 OK", "1 INVITE", &bob_sdp),
        ),
        (
            IriType::Continue,
            sip_text("BYE sip:bob@b.example SIP/2.0", "2 BYE", ""),
        ),
        (IriType::End, sip_text("SIP/2.0 200 OK", "2 BYE", "")),
    ];
    let sip = |seq: u32, (iri_type, message): &(IriType, Vec<u8>)| {
        contract::iri_pdu(
            &IriRecord {
                xid: xid(1),
                cin: Cin::new(40),
                timestamp: at(u64::from(seq)),
                iri_type: *iri_type,
                event: IriEvent::Sip(SipEvent {
                    source: "192.0.2.1:5060".parse().unwrap(),
                    destination: "198.51.100.9:5060".parse().unwrap(),
                    message: message.clone().into(),
                }),
            },
            seq,
        )
        .unwrap()
    };
    let rtp = |n: u8| {
        let mut p = vec![0x80u8, 0, 0, n, 0, 0, 0, n.wrapping_mul(160), 0, 0, 0, 7];
        p.extend_from_slice(&[n; 160]);
        p
    };
    let (alice, bob): (std::net::SocketAddr, std::net::SocketAddr) = (
        "192.0.2.1:49170".parse().unwrap(),
        "198.51.100.9:40000".parse().unwrap(),
    );
    let media = |seq: u32, n: u8| {
        let (direction, source, destination) = if n.is_multiple_of(2) {
            (li_core::PayloadDirection::FromTarget, alice, bob)
        } else {
            (li_core::PayloadDirection::ToTarget, bob, alice)
        };
        contract::x3_pdu(
            &CcRecord {
                xid: xid(1),
                cin: Cin::new(40),
                timestamp: at(2),
                direction,
                payload: rtp(n).into(),
                original_len: None,
                kind: CcKind::Media(MediaFlow {
                    source,
                    destination,
                    protocol: MediaProtocol::Rtp,
                    stream: 0,
                }),
            },
            seq,
        )
        .unwrap()
    };
    assert_eq!(m.on_pdu(&sip(0, &call[0])).await, Outcome::Delivered(1));
    assert_eq!(m.on_pdu(&sip(1, &call[1])).await, Outcome::Delivered(1));
    for n in 0..4u8 {
        assert_eq!(
            m.on_pdu(&media(u32::from(n), n)).await,
            Outcome::Delivered(1)
        );
    }
    assert_eq!(m.on_pdu(&sip(2, &call[2])).await, Outcome::Delivered(1));
    assert_eq!(m.on_pdu(&sip(3, &call[3])).await, Outcome::Delivered(1));
    // IP data of the task has no PacketCable form: refused, there being no other agency.
    assert_eq!(
        m.on_pdu(&x3(xid(1), 41, 0, at(5), 1)).await,
        Outcome::Refused(Refusal::NotInFormat)
    );
    let mut datagrams = Vec::new();
    let mut buf = vec![0u8; 2048];
    while datagrams.len() < 4 {
        let n = tokio::time::timeout(Duration::from_secs(20), ccc.recv(&mut buf))
            .await
            .expect("the call's datagrams")
            .unwrap();
        datagrams.push(buf[..n].to_vec());
    }
    drained(&m).await;
    let link = m
        .wait_for_link(did(4), |s| s.records_acked >= 4)
        .await
        .unwrap();
    assert_eq!((link.records_written, link.records_acked), (4, 4));
    assert_eq!((link.keepalives_sent, link.datagrams_refused), (0, 0));
    let cdc_link = m.wait_for_link(did(3), |_| true).await.unwrap();
    assert_eq!(cdc_link.keepalives_sent, 0, "PCESP has no link test");
    m.deactivate_task(xid(1)).await.unwrap();
    m.shutdown().await;
    let stream = cdc_stream.await.unwrap();

    // The call data: origination, answer, CCOpen with both SDPs, release, CCClose.
    let mut rest = &stream[..];
    let mut messages = Vec::new();
    while !rest.is_empty() {
        let (pdu, used) = CdcPdu::decode_prefix(rest).unwrap();
        rest = &rest[used..];
        messages.push(pdu.message);
    }
    let names: Vec<&str> = messages.iter().map(|m| m.asn1_name().unwrap()).collect();
    assert_eq!(
        names,
        ["origination", "answer", "ccopen", "release", "ccclose"]
    );
    let Message::CcOpen(open) = &messages[2] else {
        unreachable!()
    };
    assert_eq!(open.header.case_id.as_str(), "LIID-CABLE");
    assert_eq!(open.subject.as_deref(), Some(alice_sdp.as_str()));
    assert_eq!(open.associate.as_deref(), Some(bob_sdp.as_str()));
    let (xmit, recv) = open.ccc_id.identifiers().unwrap();
    let recv = recv.expect("a pair: one identifier per direction");
    assert_ne!(xmit, recv);
    // The content: one datagram per packet, the identifier of its direction, the packet's
    // IP datagram with the flow's addresses, the RTP after the UDP header.
    for (n, datagram) in datagrams.iter().enumerate() {
        let d = decode_ccc(datagram, CccForm::IdTimestamp).unwrap();
        let (want_id, from, to) = if n.is_multiple_of(2) {
            (xmit, alice, bob)
        } else {
            (recv, bob, alice)
        };
        assert_eq!(d.ccc_id, want_id, "datagram {n}");
        assert_eq!(d.timestamp.and_then(|t| t.to_timestamp()), Some(at(2)));
        let ip = d.payload;
        assert_eq!(ip[0], 0x45);
        let addr = |at: usize, port_at: usize| {
            std::net::SocketAddr::new(
                std::net::Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]).into(),
                u16::from_be_bytes([ip[port_at], ip[port_at + 1]]),
            )
        };
        assert_eq!((addr(12, 20), addr(16, 22)), (from, to), "datagram {n}");
        assert_eq!(&ip[28..], rtp(n as u8).as_slice());
        assert_eq!(li_core::checksum::internet_checksum(0, &ip[..20]), 0);
    }
}

/// Issue 14: a task deactivated at the mediator while its call is open (no BYE, no IRI-End
/// from the probe) has the call released and its content closed at both US VoIP agencies:
/// `Release` and `CCClose` before the ATIS-1000678 `SurveillanceStatus` of the deactivation,
/// and the same two in PacketCable.
#[tokio::test]
async fn a_task_deactivated_mid_call_releases_the_call_at_us_agencies() {
    use li_asn1::atis::laes::{LaesMessage, LaesProtocol};
    use li_asn1::packetcable::CdcPdu;
    use li_core::SipEvent;
    use tokio::io::AsyncReadExt;

    let tmp = tempfile::tempdir().unwrap();
    let mut config = ReceiverConfig::new(tmp.path().join("lemf-voip"));
    config.keep_raw = true;
    let voip = agency_with(config, None).await;
    let cdc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cdc_addr = cdc.local_addr().unwrap();
    let cdc_stream = tokio::spawn(async move {
        let (mut sock, _) = cdc.accept().await.unwrap();
        let mut all = Vec::new();
        sock.read_to_end(&mut all).await.unwrap();
        all
    });
    let ccc = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let m = mediator(&tmp.path().join("spool"));
    add_agency_in(&m, &voip, (did(1), did(2)), "LEA-VOIP", ATIS_1000678).await;
    for (id, interface, addr, transport) in [
        (did(3), Interface::Hi2, cdc_addr, HiTransport::PlainTcp),
        (
            did(4),
            Interface::Hi3,
            ccc.local_addr().unwrap(),
            HiTransport::Udp,
        ),
    ] {
        m.create_destination(HiDestination {
            id,
            name: format!("LEA-CABLE {interface}"),
            interface,
            addr: addr.to_string(),
            transport,
            format: PACKETCABLE,
        })
        .await
        .unwrap();
    }
    let task = MediationTask::builder(
        Liid::new(b"LIID-OPEN").unwrap(),
        xid(1),
        InterceptScope::IriAndCc,
        ValidityWindow::ALWAYS,
    )
    .target("sip:alice@a.example".parse().unwrap())
    .destinations([did(1), did(2), did(3), did(4)])
    .build()
    .unwrap();
    m.activate_task(task).await.unwrap();
    let sip = |seq: u32, iri_type: IriType, first: &str| {
        let message = format!(
            "{first}\r\nFrom: <sip:alice@a.example>;tag=1\r\nTo: <sip:bob@b.example>\r\n\
             Call-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n"
        );
        contract::iri_pdu(
            &IriRecord {
                xid: xid(1),
                cin: Cin::new(40),
                timestamp: at(u64::from(seq)),
                iri_type,
                event: IriEvent::Sip(SipEvent {
                    source: "192.0.2.1:5060".parse().unwrap(),
                    destination: "198.51.100.9:5060".parse().unwrap(),
                    message: message.into_bytes().into(),
                }),
            },
            seq,
        )
        .unwrap()
    };
    let invite = sip(0, IriType::Begin, "INVITE sip:bob@b.example SIP/2.0");
    let ok = sip(1, IriType::Continue, "SIP/2.0 200 OK");
    assert_eq!(m.on_pdu(&invite).await, Outcome::Delivered(2));
    assert_eq!(m.on_pdu(&ok).await, Outcome::Delivered(2));
    // No BYE, no IRI-End: the task goes.
    m.deactivate_task(xid(1)).await.unwrap();
    drained(&m).await;
    m.shutdown().await;
    voip.stop().await;

    let raw = std::fs::read(tmp.path().join("lemf-voip/hi2.ber")).unwrap();
    let mut rest = &raw[..];
    let mut laes = Vec::new();
    while !rest.is_empty() {
        let len = li_asn1::ber::frame_len(rest, 1 << 20).unwrap().unwrap();
        let (frame, tail) = rest.split_at(len);
        rest = tail;
        let p = LaesProtocol::decode(frame).unwrap();
        if matches!(p.message(), LaesMessage::ConnTest(_)) {
            continue;
        }
        laes.push(p.message().asn1_name().unwrap().to_owned());
    }
    assert_eq!(
        laes,
        [
            "surveillanceStatus",
            "origination",
            "answer",
            "ccOpen",
            "release",
            "ccClose",
            "surveillanceStatus"
        ]
    );
    let stream = cdc_stream.await.unwrap();
    let mut rest = &stream[..];
    let mut pcesp = Vec::new();
    while !rest.is_empty() {
        let (pdu, used) = CdcPdu::decode_prefix(rest).unwrap();
        rest = &rest[used..];
        pcesp.push(pdu.message.asn1_name().unwrap());
    }
    assert_eq!(
        pcesp,
        ["origination", "answer", "ccopen", "release", "ccclose"]
    );
}

/// Issue 14: a task whose LIID changes mid-call has the old case's call released and its
/// content closed at a PacketCable agency (the call goes on under the new case).
#[tokio::test]
async fn a_liid_changed_mid_call_closes_the_old_cases_call() {
    use li_asn1::packetcable::{CdcPdu, Message};
    use li_core::SipEvent;
    use tokio::io::AsyncReadExt;

    let tmp = tempfile::tempdir().unwrap();
    let cdc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cdc_addr = cdc.local_addr().unwrap();
    let cdc_stream = tokio::spawn(async move {
        let (mut sock, _) = cdc.accept().await.unwrap();
        let mut all = Vec::new();
        sock.read_to_end(&mut all).await.unwrap();
        all
    });
    let ccc = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let m = mediator(&tmp.path().join("spool"));
    for (id, interface, addr, transport) in [
        (did(3), Interface::Hi2, cdc_addr, HiTransport::PlainTcp),
        (
            did(4),
            Interface::Hi3,
            ccc.local_addr().unwrap(),
            HiTransport::Udp,
        ),
    ] {
        m.create_destination(HiDestination {
            id,
            name: format!("LEA-CABLE {interface}"),
            interface,
            addr: addr.to_string(),
            transport,
            format: PACKETCABLE,
        })
        .await
        .unwrap();
    }
    let task = |liid: &[u8]| {
        MediationTask::builder(
            Liid::new(liid).unwrap(),
            xid(1),
            InterceptScope::IriAndCc,
            ValidityWindow::ALWAYS,
        )
        .target("sip:alice@a.example".parse().unwrap())
        .destinations([did(3), did(4)])
        .build()
        .unwrap()
    };
    m.activate_task(task(b"LIID-OLD")).await.unwrap();
    let sip = |seq: u32, iri_type: IriType, first: &str| {
        let message = format!(
            "{first}\r\nFrom: <sip:alice@a.example>;tag=1\r\nTo: <sip:bob@b.example>\r\n\
             Call-ID: c1\r\nCSeq: 1 INVITE\r\n\r\n"
        );
        contract::iri_pdu(
            &IriRecord {
                xid: xid(1),
                cin: Cin::new(40),
                timestamp: at(u64::from(seq)),
                iri_type,
                event: IriEvent::Sip(SipEvent {
                    source: "192.0.2.1:5060".parse().unwrap(),
                    destination: "198.51.100.9:5060".parse().unwrap(),
                    message: message.into_bytes().into(),
                }),
            },
            seq,
        )
        .unwrap()
    };
    let invite = sip(0, IriType::Begin, "INVITE sip:bob@b.example SIP/2.0");
    let ok = sip(1, IriType::Continue, "SIP/2.0 200 OK");
    assert_eq!(m.on_pdu(&invite).await, Outcome::Delivered(1));
    assert_eq!(m.on_pdu(&ok).await, Outcome::Delivered(1));
    m.modify_task(task(b"LIID-NEW")).await.unwrap();
    m.deactivate_task(xid(1)).await.unwrap();
    drained(&m).await;
    m.shutdown().await;
    let stream = cdc_stream.await.unwrap();
    let mut rest = &stream[..];
    let mut old_case = Vec::new();
    while !rest.is_empty() {
        let (pdu, used) = CdcPdu::decode_prefix(rest).unwrap();
        rest = &rest[used..];
        let case = match &pdu.message {
            Message::Origination(x) => &x.header.case_id,
            Message::Answer(x) => &x.header.case_id,
            Message::CcOpen(x) => &x.header.case_id,
            Message::Release(x) => &x.header.case_id,
            Message::CcClose(x) => &x.header.case_id,
            other => panic!("{other:?}"),
        };
        if case.as_str() == "LIID-OLD" {
            old_case.push(pdu.message.asn1_name().unwrap());
        }
    }
    assert_eq!(
        old_case,
        ["origination", "answer", "ccopen", "release", "ccclose"]
    );
}
