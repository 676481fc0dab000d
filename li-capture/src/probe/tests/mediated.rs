//! The probe's PDUs taken by a real mediator ([`li_handover::mediator`]), and on to a real
//! agency receiver ([`li_handover::lemf`]): the synthetic sample capture replayed, window
//! edges by packet time, truncated packets, a replay waiting for room. (Moved from
//! `li-examples`; the metrics `li-examples` exposes for these statistics are tested there.)

use std::collections::BTreeMap;

use li_core::{Liid, OperatorId, ValidityWindow};
use li_handover::lemf::{Interface, Receiver, ReceiverConfig};
use li_handover::mediator::{HiDestination, MediationTask, Mediator, MediatorSettings, Outcome};
use li_handover::x1::{MediationDeliveryType, MediationDetails};

use super::*;
use crate::synth::scenario::{ALICE_INTERIM, Scenario as Sample, Target as SampleTarget};

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

/// Where nobody listens: what is sent there stays in the mediator's spool.
const NOBODY: &str = "127.0.0.1:9";

/// A mediator spooling in `dir` (no fsync), no TLS, fast keep-alives and back-off, with
/// destinations 20 (HI2, at `hi2`) and 21 (HI3, at `hi3`).
async fn mediator(dir: &Path, hi2: &str, hi3: &str) -> (Mediator, [DestinationId; 2]) {
    let mut settings = MediatorSettings::new(
        OperatorId::new(b"OPERATOR").unwrap(),
        Liid::new(b"KEEPALIVE").unwrap(),
        dir,
    );
    settings.spool.fsync = li_handover::spool::FsyncPolicy::Never;
    settings.keepalive_interval = Duration::from_millis(100);
    settings.keepalive_timeout = Duration::from_secs(2);
    settings.backoff = (Duration::from_millis(20), Duration::from_millis(200));
    let m = Mediator::new(settings, None);
    let dids = [did(20), did(21)];
    for (id, interface, addr) in [
        (dids[0], Interface::Hi2, hi2),
        (dids[1], Interface::Hi3, hi3),
    ] {
        m.create_destination(HiDestination {
            id,
            name: format!("LEA {interface}"),
            interface,
            addr: addr.to_owned(),
            transport: li_handover::x1::HiTransport::Configured,
            format: li_core::HandoverFormat::etsi_default(),
        })
        .await
        .unwrap();
    }
    (m, dids)
}

/// Activates task `liid`/`xid` on `m`, delivering to `destinations` (its target is a
/// placeholder: the mediator takes the probe's PDUs by XID).
async fn activate_mediation(
    m: &Mediator,
    (liid, xid): (Liid, Xid),
    scope: li_core::InterceptScope,
    window: ValidityWindow,
    destinations: Vec<DestinationId>,
) {
    m.activate_task(
        MediationTask::builder(liid, xid, scope, window)
            .target("ipv4:192.0.2.1".parse().unwrap())
            .destinations(destinations)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_of_the_sample_delivers_exactly_the_expected_x2_x3() {
    // The sample `li-examples` ships (its own test checks the file is this capture).
    let sample = Sample::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.pcap");
    std::fs::write(&path, &sample.pcap).unwrap();
    let first = sample.frames.first().unwrap().timestamp;

    let mut h = harness().await;
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
    assert_eq!(report.counters.frames, sample.frames.len() as u64);
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
    let mdir = tempfile::tempdir().unwrap();
    let (m, [hi2, hi3]) = mediator(mdir.path(), NOBODY, NOBODY).await;
    for (x, iri_only) in [
        (x_v4, false),
        (x_alice, false),
        (x_cut, false),
        (x_v6, true),
    ] {
        let scope = if iri_only {
            li_core::InterceptScope::IriOnly
        } else {
            li_core::InterceptScope::IriAndCc
        };
        let liid = Liid::new(format!("LIID-{}", x.as_bytes()[0]).as_bytes()).unwrap();
        let destinations = if iri_only { vec![hi2] } else { vec![hi2, hi3] };
        activate_mediation(&m, (liid, x), scope, ValidityWindow::ALWAYS, destinations).await;
    }
    for p in &pdus {
        assert_eq!(m.on_pdu(p).await, Outcome::Delivered(1), "{p:?}");
    }
    m.shutdown().await;

    // What `li-examples` exposes as li_probe_frames_total{outcome="seen"},
    // li_probe_x2x3_pdus_total{outcome="queued"} and li_probe_active_tasks.
    assert_eq!(
        h.probe.interface_frames()["sample.pcap"].frames,
        sample.frames.len() as u64
    );
    let links = h.probe.destination_stats();
    let link = links.iter().find(|l| l.did == d).unwrap();
    assert_eq!(link.link.queued, pdus.len() as u64);
    assert_eq!(h.probe.active_tasks(), 1);
    let report = h.probe.shutdown(WAIT).await;
    assert!(report.complete);
    assert_eq!((report.queued, report.dropped), (pdus.len() as u64, 0));
    let _ = h.stop.send(true);
}

#[tokio::test]
async fn a_replay_waits_for_room_instead_of_dropping() {
    let dir = tempfile::tempdir().unwrap();
    // A destination nobody listens on: the link never connects, the queue (of one) fills.
    let (probe, d) = closed_probe(1, true).await;

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
    // What `li-examples` exposes as li_probe_x2x3_pdus_total{outcome="dropped"}.
    let links = probe.destination_stats();
    let link = links.iter().find(|l| l.did == d).unwrap();
    assert_eq!(link.link.dropped, 0);
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

/// Issue 11 (target packets within ms of a window's edges were missed): the edges of a
/// window are the packets' own times, at the probe and again at the mediator. A task
/// activated ahead of its window (as the ADMF provisions it; its lead and grace are tested in
/// li-handover's `admf::plan::tests`), traffic 1 ms either side of each edge: the probe
/// sends exactly the packets inside, with IRI begin and end stamped with the edges, and the
/// mediator, given all four packets under the task, delivers exactly those inside.
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
    assert_eq!(report.counters.frames, 4);

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
    let (m, dids) = mediator(mdir.path(), NOBODY, NOBODY).await;
    let scope = li_core::InterceptScope::IriAndCc;
    activate_mediation(&m, (liid, x_edge), scope, window, dids.to_vec()).await;
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
    let mut writer = PcapWriter::new(Vec::new(), crate::LinkType::Ethernet, false).unwrap();
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
    assert_eq!(
        (
            report.counters.frames,
            report.counters.malformed,
            report.counters.matched
        ),
        (4, 0, 3)
    );
    assert_eq!(
        (report.counters.truncated, report.counters.length_mismatch),
        (1, 1)
    );
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
    // What `li-examples` exposes as li_probe_frames_total{interface="snaplen.pcap",...}.
    let frames = h.probe.interface_frames()["snaplen.pcap"];
    for (outcome, got, n) in [
        ("truncated", frames.truncated, 1),
        ("length_mismatch", frames.length_mismatch, 1),
        ("matched", frames.matched, 3),
    ] {
        assert_eq!(got, n, "{outcome}");
    }
    let _ = h.stop.send(true);

    // A real mediator and a real agency receiver on loopback.
    let receiver = Receiver::new(ReceiverConfig::new(dir.path().join("lemf"))).unwrap();
    let any = "127.0.0.1:0".parse().unwrap();
    let agency = li_handover::lemf::start(receiver, any, any, None)
        .await
        .unwrap();
    let (hi2, hi3) = (agency.hi2_addr.to_string(), agency.hi3_addr.to_string());
    let (m, dids) = mediator(&dir.path().join("spool"), &hi2, &hi3).await;
    let liid = Liid::new(b"LIID-TRUNC").unwrap();
    let scope = li_core::InterceptScope::IriAndCc;
    activate_mediation(&m, (liid, x), scope, ValidityWindow::ALWAYS, dids.to_vec()).await;
    for p in &pdus {
        assert_eq!(m.on_pdu(p).await, Outcome::Delivered(1), "{p:?}");
    }
    tokio::time::timeout(Duration::from_secs(20), m.wait_drained())
        .await
        .expect("spools not drained");
    m.shutdown().await;

    let summary = agency.stop().await;
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
