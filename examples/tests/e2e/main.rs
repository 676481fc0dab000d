//! End to end: the real components (ADMF, probe, mediator, agency receivers), started from
//! their TOML configurations in one process, talking over real sockets on loopback with
//! mutual TLS, on the shipped sample capture; what each agency receives is checked against
//! the capture's ground truth (`li_examples::sample`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::path::PathBuf;
use std::time::Duration;

use li_core::{InterceptScope, Liid, Timestamp};
use li_examples::demo::{AgencyOptions, System, SystemOptions, X2X3_DID, pcap_packets};
use li_examples::sample::{self, Sample, SampleTarget};
use li_handover::lemf::Summary;
use serde_json::Value;

mod window_edges;

const WAIT: Duration = Duration::from_secs(60);

fn capture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sample.pcap")
}

fn run_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-{name}"))
}

fn sample() -> Sample {
    let s = Sample::generate().unwrap();
    assert_eq!(
        std::fs::read(capture()).unwrap(),
        s.pcap,
        "the shipped capture is the sample"
    );
    s
}

/// Capture time `t` of the sample, rebased to `origin` (the replay's first frame).
fn rebased(origin: Timestamp, t: Timestamp) -> Timestamp {
    origin
        .checked_add(t.duration_since(sample::CAPTURE_START).unwrap())
        .unwrap()
}

/// A moment a little ahead of now, so that warrants provisioned now cover the replay.
fn origin_ahead() -> Timestamp {
    li_examples::admf::now()
        .checked_add(Duration::from_millis(500))
        .unwrap()
}

/// A warrant on one of the sample's targets, in force from now until `end`.
fn warrant(
    system: &System,
    liid: &str,
    target: SampleTarget,
    scope: InterceptScope,
    end: Option<Timestamp>,
    agencies: &[&str],
) -> li_handover::admf::store::Warrant {
    let start = li_examples::admf::now();
    system
        .warrant(liid, &[target.text()], scope, (start, end), agencies)
        .unwrap()
}

fn liid(text: &str) -> Liid {
    Liid::new(text.as_bytes()).unwrap()
}

/// The records of one LIID in the agency's JSON lines.
fn records(summary: &Summary, liid: &str) -> Vec<Value> {
    std::fs::read_to_string(&summary.records_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["liid"] == liid)
        .collect()
}

/// The CC the agency stored for `liid`, as IP packets in order.
fn cc_packets(summary: &Summary, liid: &str) -> Vec<Vec<u8>> {
    match &summary
        .liids
        .get(&self::liid(liid))
        .and_then(|s| s.pcap_path.clone())
    {
        Some(path) => pcap_packets(path).unwrap(),
        None => Vec::new(),
    }
}

/// Exactly the expected packets, byte for byte, in order, once each.
fn assert_exact(got: &[Vec<u8>], want: &[&[u8]], what: &str) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} packets, expected {}",
        got.len(),
        want.len()
    );
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.as_slice(), *w, "{what}: packet {i} differs");
    }
}

fn iri_types(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r["kind"] == "iri")
        .map(|r| r["iri_type"].as_str().unwrap().to_owned())
        .collect()
}

fn no_gaps(summary: &Summary, liid: &str) {
    let s = &summary.liids[&self::liid(liid)];
    assert_eq!(
        (s.gaps, s.repeats, s.decode_errors),
        (0, 0, 0),
        "{liid}: {s:?}"
    );
}

/// The agency holds exactly `want` as `liid`'s CC (see [`assert_exact`], `what` names it),
/// numbered without gaps or repeats.
fn assert_delivered(summary: &Summary, liid: &str, want: &[&[u8]], what: &str) {
    assert_exact(&cc_packets(summary, liid), want, what);
    no_gaps(summary, liid);
}

/// Each warrant of `warrants`, (LIID, target), was delivered all its target's packets in
/// the whole capture.
fn assert_whole_capture(sample: &Sample, summary: &Summary, warrants: &[(&str, SampleTarget)]) {
    for &(name, target) in warrants {
        let want = sample.expected_cc_packets(target, sample::CAPTURE_START, None);
        assert!(!want.is_empty());
        assert_delivered(summary, name, &want, name);
    }
}

async fn finish(system: System, warrants: &[&str]) -> Vec<(String, Summary)> {
    for w in warrants {
        system.admf.revoke(&liid(w)).await.unwrap();
    }
    system.admf.settle().await.unwrap();
    system.wait_delivered(WAIT).await.unwrap();
    system.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_delivers_exactly_the_targets_packets_and_their_iri() {
    let sample = sample();
    let system = System::start(&SystemOptions::new(run_dir("chain")))
        .await
        .unwrap();
    let warrants = [
        warrant(
            &system,
            "E2E-STATIC",
            SampleTarget::StaticV4,
            InterceptScope::IriAndCc,
            None,
            &["LEA-1"],
        ),
        warrant(
            &system,
            "E2E-ALICE",
            SampleTarget::Alice,
            InterceptScope::IriAndCc,
            None,
            &["LEA-1"],
        ),
    ];
    system.provision(&warrants).await.unwrap();
    let replay = system
        .replay(&capture(), Some(origin_ahead()))
        .await
        .unwrap();
    assert_eq!(replay.pdus_dropped, 0);
    system.wait_delivered(WAIT).await.unwrap();
    let refused = system.mediator.mediator.stats().refused();
    let dir = system.dir.clone();
    let summaries = finish(system, &["E2E-STATIC", "E2E-ALICE"]).await;
    let summary = &summaries[0].1;

    assert_whole_capture(
        &sample,
        summary,
        &[
            ("E2E-STATIC", SampleTarget::StaticV4),
            ("E2E-ALICE", SampleTarget::Alice),
        ],
    );
    // Alice: a session from her Accounting Start to her Stop, with the Interim between.
    let alice = records(summary, "E2E-ALICE");
    assert_eq!(iri_types(&alice), ["iRI-Begin", "iRI-Continue", "iRI-End"]);
    assert!(
        alice.iter().any(|r| r["username"] == sample::ALICE),
        "{alice:?}"
    );
    // The static target: intercepted from activation to revocation.
    assert_eq!(
        iri_types(&records(summary, "E2E-STATIC")),
        ["iRI-Begin", "iRI-End"]
    );
    // Nothing outside the warrants reached the mediator's output, nothing was refused.
    assert_eq!(summary.liids.len(), 2);
    assert!(refused.is_empty(), "{refused:?}");
    for log in ["admf-audit.log", "mediator-audit.log"] {
        let report = li_handover::audit::verify(dir.join(log)).unwrap();
        assert!(report.entries > 5, "{log}: {report:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_ending_mid_capture_cuts_the_content_exactly_there() {
    let sample = sample();
    let system = System::start(&SystemOptions::new(run_dir("window")))
        .await
        .unwrap();
    let origin = origin_ahead();
    // Ends 60 s into the capture: during alice's session, after much of the static traffic.
    let cut = sample::CAPTURE_START
        .checked_add(Duration::from_secs(60))
        .unwrap();
    let end = rebased(origin, cut);
    let warrants = [
        warrant(
            &system,
            "E2E-CUT-STATIC",
            SampleTarget::StaticV4,
            InterceptScope::IriAndCc,
            Some(end),
            &["LEA-1"],
        ),
        warrant(
            &system,
            "E2E-CUT-ALICE",
            SampleTarget::Alice,
            InterceptScope::IriAndCc,
            Some(end),
            &["LEA-1"],
        ),
    ];
    system.provision(&warrants).await.unwrap();
    system.replay(&capture(), Some(origin)).await.unwrap();
    system.wait_delivered(WAIT).await.unwrap();
    let summaries = finish(system, &["E2E-CUT-STATIC", "E2E-CUT-ALICE"]).await;
    let summary = &summaries[0].1;
    for (name, target) in [
        ("E2E-CUT-STATIC", SampleTarget::StaticV4),
        ("E2E-CUT-ALICE", SampleTarget::Alice),
    ] {
        let want = sample.expected_cc_packets(target, sample::CAPTURE_START, Some(cut));
        let all = sample.expected_cc_packets(target, sample::CAPTURE_START, None);
        assert!(
            !want.is_empty() && want.len() < all.len(),
            "{name}: the cut is mid-stream"
        );
        assert_delivered(summary, name, &want, name);
        // The window's end closes the session with an IRI stamped at the end.
        let iri = records(summary, name);
        assert_eq!(
            iri_types(&iri).last().map(String::as_str),
            Some("iRI-End"),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_iri_only_warrant_gets_no_content() {
    sample();
    let system = System::start(&SystemOptions::new(run_dir("iri-only")))
        .await
        .unwrap();
    let warrants = [warrant(
        &system,
        "E2E-IRI-ONLY",
        SampleTarget::Alice,
        InterceptScope::IriOnly,
        None,
        &["LEA-1"],
    )];
    let report = system.provision(&warrants).await.unwrap();
    // Only the HI2 destination exists at the mediator: there is nowhere to send content.
    assert_eq!(
        report
            .destinations_created
            .iter()
            .filter(|(ne, _)| ne == "mediator")
            .count(),
        1
    );
    let replay = system
        .replay(&capture(), Some(origin_ahead()))
        .await
        .unwrap();
    assert_eq!(
        replay.cc_records, 0,
        "the probe produced no CC for an IRI-only task"
    );
    system.wait_delivered(WAIT).await.unwrap();
    let summaries = finish(system, &["E2E-IRI-ONLY"]).await;
    let summary = &summaries[0].1;
    let s = &summary.liids[&liid("E2E-IRI-ONLY")];
    assert_eq!(s.cc, 0);
    assert!(s.pcap_path.is_none());
    assert_eq!(
        iri_types(&records(summary, "E2E-IRI-ONLY")),
        ["iRI-Begin", "iRI-Continue", "iRI-End"]
    );
    assert!(
        records(summary, "E2E-IRI-ONLY")
            .iter()
            .all(|r| r["interface"] == "HI2")
    );
    no_gaps(summary, "E2E-IRI-ONLY");
}

/// The payload of an IPv4 UDP packet.
fn udp_payload(ip: &[u8]) -> &[u8] {
    &ip[usize::from(ip[0] & 0x0f) * 4 + 8..]
}

/// The start line of a SIP message: its method, or its status code.
fn method_or_status(message: &[u8]) -> Value {
    let line = message.split(|&b| b == b'\r').next().unwrap();
    let line = std::str::from_utf8(line).unwrap();
    match line.strip_prefix("SIP/2.0 ") {
        Some(status) => Value::from(status[..3].parse::<u64>().unwrap()),
        None => Value::from(line.split(' ').next().unwrap()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sip_targets_call_reaches_the_agency_as_its_ladder_media_and_audio() {
    let sample = sample();
    let system = System::start(&SystemOptions::new(run_dir("call")))
        .await
        .unwrap();
    let warrants = [
        warrant(
            &system,
            "E2E-CALL",
            SampleTarget::Caller,
            InterceptScope::IriAndCc,
            None,
            &["LEA-1"],
        ),
        warrant(
            &system,
            "E2E-CALL-IRI",
            SampleTarget::Caller,
            InterceptScope::IriOnly,
            None,
            &["LEA-1"],
        ),
    ];
    system.provision(&warrants).await.unwrap();
    let replay = system
        .replay(&capture(), Some(origin_ahead()))
        .await
        .unwrap();
    assert_eq!(replay.pdus_dropped, 0);
    system.wait_delivered(WAIT).await.unwrap();
    let summaries = finish(system, &["E2E-CALL", "E2E-CALL-IRI"]).await;
    let summary = &summaries[0].1;
    assert_eq!(summary.liids.len(), 2, "nothing but the two warrants");

    // The truth: the call's SIP messages with their IRI types, its RTP and RTCP packets.
    let truth = &sample.call.capture;
    let messages: Vec<&[u8]> = truth
        .expected_iri()
        .iter()
        .map(|(m, _, _)| truth.messages[*m].text.as_slice())
        .collect();
    let types: Vec<String> = truth
        .expected_iri()
        .iter()
        .map(|(_, _, t)| li_asn1::pdu::IriType::from(*t).asn1_name().to_owned())
        .collect();
    let media: Vec<&[u8]> = sample
        .expected_cc(SampleTarget::Caller, sample::CAPTURE_START, None)
        .iter()
        .map(|f| udp_payload(f.ip.as_deref().unwrap()))
        .collect();
    assert_eq!((messages.len(), media.len()), (7, 408));

    for (name, with_media) in [("E2E-CALL", true), ("E2E-CALL-IRI", false)] {
        no_gaps(summary, name);
        assert_eq!(iri_types(&records(summary, name)), types, "{name}");
        let s = &summary.liids[&liid(name)];
        assert_eq!(s.calls.len(), 1, "{name}: one call");
        let call = s.calls.values().next().unwrap();
        assert!(call.ended, "{name}");
        assert_eq!(call.iri, 7, "{name}");
        // The ladder: one line per message, in order, method or status as sent.
        let ladder: Vec<Value> = std::fs::read_to_string(call.dir.join("ladder.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let starts: Vec<Value> = ladder
            .iter()
            .map(|l| l.get("method").or(l.get("status")).cloned().unwrap())
            .collect();
        let want: Vec<Value> = messages.iter().map(|m| method_or_status(m)).collect();
        assert_eq!(starts, want, "{name}: the ladder");
        if !with_media {
            assert_eq!(
                (s.cc, call.cc),
                (0, 0),
                "{name}: an IRI-only warrant gets no media"
            );
            assert!(call.wavs.is_empty(), "{name}");
            continue;
        }
        // The media pcap: exactly the call's RTP and RTCP packets, in order.
        let got = pcap_packets(&call.dir.join("media.pcap")).unwrap();
        let got: Vec<&[u8]> = got.iter().map(|p| udp_payload(p)).collect();
        assert!(
            got == media,
            "{name}: the media pcap differs from the call's packets"
        );
        // Each direction's WAV holds exactly the generator's audio after companding.
        assert_eq!(call.wavs.len(), 2, "{name}: {:?}", call.wavs);
        for wav in &call.wavs {
            let direction = match wav.direction {
                Some(li_asn1::pdu::PayloadDirection::FromTarget) => {
                    li_core::PayloadDirection::FromTarget
                }
                Some(li_asn1::pdu::PayloadDirection::ToTarget) => {
                    li_core::PayloadDirection::ToTarget
                }
                other => panic!("{name}: a WAV with direction {other:?}"),
            };
            let want = sample.call.expected_pcm(direction);
            assert_eq!(want.len(), 32_000);
            let got = li_examples::demo::wav_samples(&wav.path).unwrap();
            assert!(
                got == want,
                "{name}: {} differs from the generator's audio",
                wav.path.display()
            );
        }
    }
}

/// Issue 14: the SIP target's call to a US VoIP agency in ATIS-1000678 and, IRI-only, to
/// another: call data around the content, the SIP in order in the call's ladder, exactly the
/// call's RTP and RTCP, the generator's audio; the IRI-only one gets the call data and no
/// content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sip_targets_call_reaches_a_us_voip_agency_in_atis_1000678() {
    let sample = sample();
    let mut options = SystemOptions::new(run_dir("atis-1000678"));
    options.agencies = vec![AgencyOptions {
        name: "LEA-US-VOIP".into(),
        up: true,
        format: li_core::HandoverFormat::Atis1000678 { version: 2 },
    }];
    let system = System::start(&options).await.unwrap();
    let warrants = [
        warrant(
            &system,
            "E2E-VOIP",
            SampleTarget::Caller,
            InterceptScope::IriAndCc,
            None,
            &["LEA-US-VOIP"],
        ),
        warrant(
            &system,
            "E2E-VOIP-IRI",
            SampleTarget::Caller,
            InterceptScope::IriOnly,
            None,
            &["LEA-US-VOIP"],
        ),
    ];
    system.provision(&warrants).await.unwrap();
    system
        .replay(&capture(), Some(origin_ahead()))
        .await
        .unwrap();
    system.wait_delivered(WAIT).await.unwrap();
    let summaries = finish(system, &["E2E-VOIP", "E2E-VOIP-IRI"]).await;
    let summary = &summaries[0].1;
    let truth = &sample.call.capture;
    let messages: Vec<&[u8]> = truth
        .expected_iri()
        .iter()
        .map(|(m, _, _)| truth.messages[*m].text.as_slice())
        .collect();
    let media: Vec<&[u8]> = sample
        .expected_cc(SampleTarget::Caller, sample::CAPTURE_START, None)
        .iter()
        .map(|f| udp_payload(f.ip.as_deref().unwrap()))
        .collect();
    for (name, with_media) in [("E2E-VOIP", true), ("E2E-VOIP-IRI", false)] {
        no_gaps(summary, name);
        let lines = records(summary, name);
        let names: Vec<&str> = lines
            .iter()
            .filter(|r| r["kind"] == "iri")
            .map(|r| r["message"].as_str().unwrap())
            .collect();
        let mut want = vec![
            "origination",
            "directSignalReporting",
            "directSignalReporting",
            "answer",
            "ccOpen",
            "directSignalReporting",
            "release",
            "ccClose",
            "directSignalReporting",
        ];
        if !with_media {
            want.retain(|m| !m.starts_with("cc"));
        }
        // The mediator reports the task's activation and deactivation around the call.
        want.insert(0, "surveillanceStatus");
        want.push("surveillanceStatus");
        assert_eq!(names, want, "{name}");
        let s = &summary.liids[&liid(name)];
        assert_eq!(s.calls.len(), 1, "{name}: one call");
        let call = s.calls.values().next().unwrap();
        let ladder: Vec<Value> = std::fs::read_to_string(call.dir.join("ladder.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let starts: Vec<Value> = ladder
            .iter()
            .map(|l| l.get("method").or(l.get("status")).cloned().unwrap())
            .collect();
        let want: Vec<Value> = messages.iter().map(|m| method_or_status(m)).collect();
        assert_eq!(starts, want, "{name}: the ladder");
        if !with_media {
            assert_eq!((s.cc, call.cc), (0, 0), "{name}: no content");
            continue;
        }
        let got = pcap_packets(&call.dir.join("media.pcap")).unwrap();
        let got: Vec<&[u8]> = got.iter().map(|p| udp_payload(p)).collect();
        assert!(
            got == media,
            "{name}: the media differ from the call's packets"
        );
        assert_eq!(call.wavs.len(), 2, "{name}: {:?}", call.wavs);
        for wav in &call.wavs {
            let direction = match wav.direction {
                Some(li_asn1::pdu::PayloadDirection::FromTarget) => {
                    li_core::PayloadDirection::FromTarget
                }
                Some(li_asn1::pdu::PayloadDirection::ToTarget) => {
                    li_core::PayloadDirection::ToTarget
                }
                other => panic!("{name}: a WAV with direction {other:?}"),
            };
            let got = li_examples::demo::wav_samples(&wav.path).unwrap();
            assert!(
                got == sample.call.expected_pcm(direction),
                "{name}: {} differs from the generator's audio",
                wav.path.display()
            );
        }
    }
}

/// Issue 14: the SIP target's call to a US cable agency in PacketCable, and IRI-only to
/// another warrant: PCESP call data over TLS (origination, answer, CCOpen, release, CCClose),
/// the call's RTP and RTCP as CCC datagrams over UDP, each the packet's IP datagram with the
/// capture's addresses and ports; the generator's audio in both directions; the IRI-only one
/// gets the call data and no content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sip_targets_call_reaches_a_cable_agency_in_packetcable() {
    let sample = sample();
    let mut options = SystemOptions::new(run_dir("packetcable"));
    options.agencies = vec![AgencyOptions {
        name: "LEA-US-CABLE".into(),
        up: true,
        format: li_core::HandoverFormat::PacketCable { version: 3 },
    }];
    let system = System::start(&options).await.unwrap();
    let warrants = [
        warrant(
            &system,
            "E2E-CABLE",
            SampleTarget::Caller,
            InterceptScope::IriAndCc,
            None,
            &["LEA-US-CABLE"],
        ),
        warrant(
            &system,
            "E2E-CABLE-IRI",
            SampleTarget::Caller,
            InterceptScope::IriOnly,
            None,
            &["LEA-US-CABLE"],
        ),
    ];
    system.provision(&warrants).await.unwrap();
    system
        .replay(&capture(), Some(origin_ahead()))
        .await
        .unwrap();
    system.wait_delivered(WAIT).await.unwrap();
    let summaries = finish(system, &["E2E-CABLE", "E2E-CABLE-IRI"]).await;
    let summary = &summaries[0].1;
    let media: Vec<&[u8]> = sample
        .expected_cc(SampleTarget::Caller, sample::CAPTURE_START, None)
        .iter()
        .map(|f| f.ip.as_deref().unwrap())
        .collect();
    assert_eq!(
        summary.ccc.malformed + summary.ccc.unattributed,
        0,
        "{:?}",
        summary.ccc
    );
    for (name, with_media) in [("E2E-CABLE", true), ("E2E-CABLE-IRI", false)] {
        let lines = records(summary, name);
        let names: Vec<&str> = lines
            .iter()
            .filter(|r| r["kind"] == "iri")
            .map(|r| r["message"].as_str().unwrap())
            .collect();
        let mut want = vec!["origination", "answer", "ccopen", "release", "ccclose"];
        if !with_media {
            want.retain(|m| !m.starts_with("cc"));
        }
        assert_eq!(names, want, "{name}");
        assert!(
            lines
                .iter()
                .filter(|r| r["kind"] == "iri")
                .all(|r| r["format"] == "packetcable"),
            "{name}"
        );
        let s = &summary.liids[&liid(name)];
        assert_eq!(s.decode_errors, 0, "{name}");
        assert_eq!(s.calls.len(), 1, "{name}: one call");
        let call = s.calls.values().next().unwrap();
        if !with_media {
            assert_eq!((s.cc, call.cc), (0, 0), "{name}: no content");
            continue;
        }
        // Each packet as the capture had it on the wire, but for what the mediator rebuilds
        // (TTL, identification, flags): addresses, ports and the RTP/RTCP packet.
        let got = pcap_packets(&call.dir.join("media.pcap")).unwrap();
        assert_eq!(got.len(), media.len(), "{name}");
        for (i, (got, want)) in got.iter().zip(&media).enumerate() {
            assert_eq!(
                got[12..20],
                want[12..20],
                "{name} packet {i}: the addresses"
            );
            assert_eq!(got[20..24], want[20..24], "{name} packet {i}: the ports");
            assert_eq!(udp_payload(got), udp_payload(want), "{name} packet {i}");
        }
        assert_eq!(call.wavs.len(), 2, "{name}: {:?}", call.wavs);
        for wav in &call.wavs {
            let direction = match wav.direction {
                Some(li_asn1::pdu::PayloadDirection::FromTarget) => {
                    li_core::PayloadDirection::FromTarget
                }
                Some(li_asn1::pdu::PayloadDirection::ToTarget) => {
                    li_core::PayloadDirection::ToTarget
                }
                other => panic!("{name}: a WAV with direction {other:?}"),
            };
            let got = li_examples::demo::wav_samples(&wav.path).unwrap();
            assert!(
                got == sample.call.expected_pcm(direction),
                "{name}: {} differs from the generator's audio",
                wav.path.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agencies_on_one_target_each_get_everything() {
    let sample = sample();
    let mut options = SystemOptions::new(run_dir("two-agencies"));
    options.agencies.push(AgencyOptions::etsi("LEA-2"));
    let system = System::start(&options).await.unwrap();
    let warrants = [warrant(
        &system,
        "E2E-SHARED",
        SampleTarget::StaticV4,
        InterceptScope::IriAndCc,
        None,
        &["LEA-1", "LEA-2"],
    )];
    system.provision(&warrants).await.unwrap();
    system
        .replay(&capture(), Some(origin_ahead()))
        .await
        .unwrap();
    system.wait_delivered(WAIT).await.unwrap();
    let summaries = finish(system, &["E2E-SHARED"]).await;
    assert_eq!(summaries.len(), 2);
    let want = sample.expected_cc_packets(SampleTarget::StaticV4, sample::CAPTURE_START, None);
    for (agency, summary) in &summaries {
        assert_delivered(summary, "E2E-SHARED", &want, agency);
        // Each agency's copy is numbered on its own, from 0.
        let seqs: Vec<u64> = records(summary, "E2E-SHARED")
            .iter()
            .filter(|r| r["kind"] == "cc")
            .map(|r| r["seq"].as_u64().unwrap())
            .collect();
        assert_eq!(seqs, (0..want.len() as u64).collect::<Vec<_>>(), "{agency}");
    }
}

/// Issue 14: one warrant to a European agency (ETSI) and a US agency (ATIS-1000013): the
/// same target packets in each, the equivalent events in each family, correlated; an
/// IRI-only warrant gives the US agency its CmII and no content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_us_agency_gets_the_same_warrant_in_atis_1000013() {
    let sample = sample();
    let mut options = SystemOptions::new(run_dir("atis-1000013"));
    options.agencies.push(AgencyOptions {
        name: "LEA-US".into(),
        up: true,
        format: li_core::HandoverFormat::Atis1000013 { version: 1 },
    });
    let system = System::start(&options).await.unwrap();
    let warrants = [
        warrant(
            &system,
            "E2E-ALICE-US",
            SampleTarget::Alice,
            InterceptScope::IriAndCc,
            None,
            &["LEA-1", "LEA-US"],
        ),
        warrant(
            &system,
            "E2E-STATIC-IRI",
            SampleTarget::StaticV4,
            InterceptScope::IriOnly,
            None,
            &["LEA-US"],
        ),
    ];
    system.provision(&warrants).await.unwrap();
    system
        .replay(&capture(), Some(origin_ahead()))
        .await
        .unwrap();
    system.wait_delivered(WAIT).await.unwrap();
    let summaries = finish(system, &["E2E-ALICE-US", "E2E-STATIC-IRI"]).await;
    let summary = |name: &str| &summaries.iter().find(|(n, _)| n == name).unwrap().1;
    let (eu, us) = (summary("LEA-1"), summary("LEA-US"));

    // The same packets, byte for byte, in each agency's copy.
    let want = sample.expected_cc_packets(SampleTarget::Alice, sample::CAPTURE_START, None);
    assert_delivered(eu, "E2E-ALICE-US", &want, "ETSI agency");
    assert_delivered(us, "E2E-ALICE-US", &want, "ATIS agency");

    // The equivalent events: ETSI access events against ATIS CmII messages.
    let etsi: Vec<String> = records(eu, "E2E-ALICE-US")
        .iter()
        .filter(|r| r["kind"] == "iri")
        .map(|r| r["access_event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(etsi, ["accessAccept", "interimUpdate", "accessEnd"]);
    let us_records = records(us, "E2E-ALICE-US");
    let atis: Vec<&str> = us_records
        .iter()
        .filter(|r| r["kind"] == "iri")
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        atis,
        [
            "access-Accepted",
            "session-Start",
            "access-Signaling-Message-Report",
            "session-End",
            "access-Session-End"
        ]
    );
    // Correlated: every CmII message and every content record carry the session's CIN,
    // which the session start names as the content's identifier.
    // (HI2 and HI3 lines interleave in the file: the session start is found by name.)
    let start = us_records
        .iter()
        .find(|r| r["message"] == "session-Start")
        .unwrap();
    let cin = start["cin"].as_u64().unwrap();
    assert_eq!(start["content_identifier"], cin.to_string());
    assert!(us_records.iter().all(|r| r["cin"].as_u64() == Some(cin)));
    assert_eq!(
        us_records.iter().filter(|r| r["kind"] == "cc").count(),
        want.len()
    );

    // IRI-only: CmII, no content, and the session announces none.
    let s = &us.liids[&liid("E2E-STATIC-IRI")];
    assert_eq!(s.cc, 0);
    assert!(s.pcap_path.is_none());
    let iri_only = records(us, "E2E-STATIC-IRI");
    let names: Vec<&str> = iri_only
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "surveillanceActivation",
            "session-Already-Established",
            "surveillanceDeActivation"
        ]
    );
    assert!(iri_only.iter().all(|r| r["content_identifier"].is_null()));
    // Nothing of the IRI-only warrant reached the European agency, which it does not name.
    assert!(!eu.liids.contains_key(&liid("E2E-STATIC-IRI")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_down_during_the_replay_gets_everything_after_it_returns() {
    let sample = sample();
    let mut options = SystemOptions::new(run_dir("agency-down"));
    options.agencies[0].up = false;
    let mut system = System::start(&options).await.unwrap();
    let warrants = [warrant(
        &system,
        "E2E-LATE",
        SampleTarget::Alice,
        InterceptScope::IriAndCc,
        None,
        &["LEA-1"],
    )];
    system.provision(&warrants).await.unwrap();
    system
        .replay(&capture(), Some(origin_ahead()))
        .await
        .unwrap();
    // Everything is spooled at the mediator; the agency is unreachable.
    assert!(system.wait_delivered(Duration::from_secs(2)).await.is_err());
    let spooled: u64 = system
        .mediator
        .mediator
        .destinations()
        .await
        .iter()
        .map(|d| d.2.0)
        .sum();
    let want = sample.expected_cc_packets(SampleTarget::Alice, sample::CAPTURE_START, None);
    assert!(spooled as usize >= want.len(), "{spooled} spooled");
    system.start_agency("LEA-1").await.unwrap();
    system.wait_delivered(WAIT).await.unwrap();
    let summaries = finish(system, &["E2E-LATE"]).await;
    let summary = &summaries[0].1;
    assert_delivered(summary, "E2E-LATE", &want, "E2E-LATE");
    assert_eq!(
        iri_types(&records(summary, "E2E-LATE")),
        ["iRI-Begin", "iRI-Continue", "iRI-End"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_x1_request_with_a_wrong_certificate_is_refused_and_audited() {
    use li_handover::tls::{DevPki, Validity};
    use li_handover::x1::transport::X1Client;
    use li_handover::x1::{MessageHeader, RequestBody, TransactionId, X1Request, X1Version};

    let system = System::start(&SystemOptions::new(run_dir("wrong-cert")))
        .await
        .unwrap();
    // A client certificate named "admf" but from another CA; and one from our CA whose name
    // is not allowed.
    let rogue = DevPki::new("rogue CA").unwrap();
    let rogue_admf = rogue
        .issue("admf", &["localhost"], &[], Validity::Default)
        .unwrap();
    let ca = std::fs::read(system.dir.join("pki/ca.pem")).unwrap();
    let ours = std::fs::read_to_string(system.dir.join("pki/probe.pem")).unwrap();
    let ours_key = std::fs::read_to_string(system.dir.join("pki/probe.key")).unwrap();
    let request = X1Request::single(
        MessageHeader {
            admf_identifier: "admf".into(),
            ne_identifier: "mediator".into(),
            message_timestamp: li_examples::admf::now(),
            version: X1Version::CURRENT,
            x1_transaction_id: TransactionId::new_v4_from_random([9; 16]),
        },
        RequestBody::DeactivateAllTasks,
    );
    for (cert, key) in [
        (rogue_admf.cert_pem.as_str(), rogue_admf.key_pem.as_str()),
        (ours.as_str(), ours_key.as_str()),
    ] {
        let config = li_handover::tls::client_config(&ca, cert.as_bytes(), key.as_bytes()).unwrap();
        let client = X1Client::new(
            tokio_rustls::TlsConnector::from(config),
            system.mediator.x1_addr,
            "localhost",
        );
        assert!(client.send(&request).await.is_err(), "refused");
    }
    let audit = system.mediator.audit.path().to_path_buf();
    system.shutdown().await;
    let (report, entries) = li_handover::audit::read_entries(&audit).unwrap();
    assert!(report.entries >= 2);
    let refusals: Vec<String> = entries
        .iter()
        .filter_map(|e| {
            e.detail
                .get("refused")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    assert!(refusals[0].contains("TLS handshake failed"), "{refusals:?}");
    assert!(
        refusals[1].contains("not in the X1 allow-list"),
        "{refusals:?}"
    );
    // And no task was touched: the mediator executed nothing.
    assert!(!entries.iter().any(|e| e.kind.as_str() == "x1.response"));
}

/// The `li-probe` binary on the system's probe configuration in `dir`, replaying `file`
/// (in `dir`) and exiting after the replay; logs at `warn`.
fn run_li_probe(dir: &std::path::Path, file: &str) -> std::process::Output {
    let probe = std::fs::read_to_string(dir.join("probe.toml")).unwrap();
    let config = dir.join(format!("probe-{file}.toml"));
    std::fs::write(&config, format!("{probe}\n[capture]\nfile = \"{file}\"\n")).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_li-probe"))
        .args(["--config", config.to_str().unwrap(), "--log", "warn"])
        .args(["--exit-after-replay", "--drain-timeout", "1"])
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn li_probe_exits_non_zero_after_replaying_a_damaged_file() {
    let system = System::start(&SystemOptions::new(run_dir("damaged")))
        .await
        .unwrap();
    let dir = system.dir.clone();
    // The shipped sample cut inside a packet record: the replay ends early.
    let sample = std::fs::read(capture()).unwrap();
    std::fs::write(dir.join("damaged.pcap"), &sample[..5_000]).unwrap();
    std::fs::write(dir.join("whole.pcap"), &sample).unwrap();
    let damaged = run_li_probe(&dir, "damaged.pcap");
    let stderr = String::from_utf8_lossy(&damaged.stderr);
    assert!(!damaged.status.success(), "{stderr}");
    assert!(stderr.contains("damaged.pcap is damaged"), "{stderr}");
    // The whole file: exit 0.
    let whole = run_li_probe(&dir, "whole.pcap");
    assert!(
        whole.status.success(),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    system.shutdown().await;
}

/// Issue 11: a record damaged in the middle of the file (a sub-second timestamp field out of
/// range: the reader steps over it) made no difference to `li-probe --exit-after-replay`,
/// which exited 0 though a packet was lost. It now replays every readable frame, then exits
/// non-zero naming the file, how many records were skipped and where the first was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn li_probe_exits_non_zero_after_skipping_a_record_damaged_in_the_middle() {
    let frames = sample().frames.len();
    let system = System::start(&SystemOptions::new(run_dir("damaged-middle")))
        .await
        .unwrap();
    let dir = system.dir.clone();
    // The shipped sample (classic pcap: a 24-octet file header, then records of a 16-octet
    // header, whose second word is the sub-second field, and the captured octets), its
    // middle record's sub-second field made impossible.
    let mut bytes = std::fs::read(capture()).unwrap();
    let mut offsets = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        offsets.push(at);
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap());
        at += 16 + caplen as usize;
    }
    assert_eq!(
        offsets.len(),
        frames,
        "a little-endian pcap, one record per frame"
    );
    let middle = offsets[frames / 2];
    bytes[middle + 4..middle + 8].copy_from_slice(&[0xff; 4]);
    std::fs::write(dir.join("middle.pcap"), &bytes).unwrap();
    let run = run_li_probe(&dir, "middle.pcap");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("Error:"))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(error.contains("middle.pcap is damaged"), "{error}");
    assert!(
        error.contains("1 record(s) could not be read and were skipped"),
        "{error}"
    );
    assert!(error.contains(&format!("byte offset {middle}")), "{error}");
    // every other frame was replayed, the ones after the damaged record too
    assert!(
        error.contains(&format!("{} frames were replayed", frames - 1)),
        "{error}"
    );
    system.shutdown().await;
}

/// A free loopback port.
fn free_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The `li-mediator` binary as a child process.
fn spawn_mediator(config: &std::path::Path) -> (std::process::Child, ChildReady) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_li-mediator"))
        .args(["--config", config.to_str().unwrap(), "--log", "warn"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (ready, ready_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        let mut ready = Some(ready);
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("{line}");
            if line.starts_with("li-mediator: X1 on ")
                && let Some(ready) = ready.take()
            {
                let _ = ready.send(());
            }
        }
    });
    (child, ChildReady(ready_rx))
}

/// The `li-mediator` child's start-up line ("li-mediator: X1 on ..."), which it prints once
/// its listeners are bound: an event from the other process, awaited instead of polling
/// its ports.
struct ChildReady(tokio::sync::oneshot::Receiver<()>);

impl ChildReady {
    async fn listening(self) {
        tokio::time::timeout(WAIT, self.0)
            .await
            .expect("the mediator listens (within WAIT)")
            .expect("the mediator printed its start-up line");
    }
}

/// `GET /metrics` over plain HTTP.
async fn scrape(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return String::new();
    };
    let _ = s
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await;
    let mut out = String::new();
    let _ = s.read_to_string(&mut out).await;
    out
}

/// An IPv4/UDP packet of the static target carrying `n`.
fn packet(n: u32) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0];
    p.extend_from_slice(&sample::STATIC_V4.octets());
    p.extend_from_slice(&[192, 0, 2, 99, 0x30, 0x39, 0x00, 0x35, 0, 12, 0, 0]);
    p.extend_from_slice(&n.to_be_bytes());
    p
}

/// The real `li-mediator` binary, killed with SIGKILL while records are spooled for an
/// agency that is down, then started again on the same configuration: it restores its
/// provisioning and its spools, delivers everything once the agency is up, and numbers the
/// records that come after the restart on from where it was (no sequence number reused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mediator_killed_with_sigkill_loses_nothing_and_reuses_no_number() {
    use li_handover::x2x3::transport::{SenderConfig, X2X3Sender};
    use li_handover::x2x3::{PayloadDirection, PduTimestamp, contract};

    let dir = run_dir("kill-9");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    li_examples::admf::dev_certs(&dir.join("pki")).unwrap();
    let (x1, x2x3, metrics, hi2, hi3) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    let tls = |section: &str, name: &str| {
        format!(
            "[{section}]\ncert = \"pki/{name}.pem\"\nkey = \"pki/{name}.key\"\nca = \"pki/ca.pem\"\n"
        )
    };
    let mediator_toml = dir.join("mediator.toml");
    std::fs::write(
        &mediator_toml,
        format!(
            "x1_listen = \"{x1}\"\nx2x3_listen = \"{x2x3}\"\nmetrics_listen = \"{metrics}\"\n\
             keepalive_interval_ms = 200\nbackoff_min_ms = 50\nbackoff_max_ms = 300\n{}{}{}",
            tls("x1_tls", "mediator"),
            tls("x2x3_tls", "mediator"),
            tls("hi_tls", "mediator")
        ),
    )
    .unwrap();
    let admf_toml = dir.join("admf.toml");
    std::fs::write(
        &admf_toml,
        format!(
            "{}\n[mediator]\nname = \"mediator\"\nx1 = \"{x1}\"\nserver_name = \"localhost\"\nx2x3 = \"{x2x3}\"\n\
             x2x3_did = \"{X2X3_DID}\"\n\n[[agency]]\nname = \"LEA-1\"\n\
             id = \"5e1a0c00-0000-4000-8000-000000000001\"\nhi2 = \"{hi2}\"\nhi3 = \"{hi3}\"\n",
            tls("tls", "admf")
        ),
    )
    .unwrap();

    let (mut child, ready) = spawn_mediator(&mediator_toml);
    ready.listening().await;
    let admf_config: li_examples::admf::AdmfConfig =
        li_examples::cli::load_toml(&admf_toml).unwrap();
    let admf = li_examples::admf::open(&admf_config, &dir).unwrap();
    let task = li_core::Task::new(
        liid("E2E-KILL-9"),
        li_examples::admf::random_xid(),
        vec![SampleTarget::StaticV4.text().parse().unwrap()],
        InterceptScope::IriAndCc,
        li_core::ValidityWindow::new(li_examples::admf::now(), None).unwrap(),
        vec![admf_config.agency("LEA-1").unwrap()],
    )
    .unwrap();
    let warrant = li_handover::admf::store::Warrant::new(task, li_examples::admf::now()).unwrap();
    admf.create_warrant(&warrant).unwrap();
    let report = admf.sync(li_examples::admf::now()).await.unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);

    // A probe stand-in sends CC over X2/X3 (mutual TLS, the probe's certificate).
    let files = li_examples::cli::TlsFileConfig {
        cert: "pki/probe.pem".into(),
        key: "pki/probe.key".into(),
        ca: "pki/ca.pem".into(),
    }
    .resolve(&dir);
    let connector =
        tokio_rustls::TlsConnector::from(li_handover::tls::load_client_config(&files).unwrap());
    let mut sender_config =
        SenderConfig::new("test probe", x2x3.to_string(), connector, "localhost");
    sender_config.keepalive_interval = Duration::from_millis(200);
    sender_config.backoff_min = Duration::from_millis(50);
    sender_config.backoff_max = Duration::from_millis(300);
    let (sender, handle) = X2X3Sender::spawn(sender_config);
    let encoder = contract::x3_encoder(warrant.task.xid(), li_core::Cin::new(1));
    let send = |range: std::ops::Range<u32>| {
        for n in range {
            let mut pdu = Vec::new();
            let ts = PduTimestamp::from_core(li_examples::admf::now()).unwrap();
            encoder
                .encode(&mut pdu, n, ts, PayloadDirection::FromTarget, &packet(n))
                .unwrap();
            assert!(sender.send(pdu));
        }
    };
    const BEFORE: u32 = 300;
    const AFTER: u32 = 100;
    send(0..BEFORE);
    // All spooled for the agency, which is down: the mediator acknowledges a keepalive only
    // once every PDU before it is in the spools, so the second acknowledgement after the
    // last PDU went out covers them all.
    let stats = sender.stats();
    let sent = tokio::time::timeout(WAIT, stats.wait_for(|s| s.sent >= u64::from(BEFORE)))
        .await
        .expect("the PDUs were sent");
    tokio::time::timeout(
        WAIT,
        stats.wait_for(|s| s.keepalives_acked >= sent.keepalives_acked + 2),
    )
    .await
    .expect("a keepalive after the PDUs was acknowledged");
    let spooled = format!("li_mediator_spool_records{{destination=\"LEA-1 HI3\"}} {BEFORE}");
    let text = scrape(metrics).await;
    assert!(text.contains(&spooled), "{text}");

    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let (mut child, ready) = spawn_mediator(&mediator_toml);
    ready.listening().await;
    send(BEFORE..BEFORE + AFTER);

    // The agency comes up.
    let lemf_config: li_examples::lemf::LemfConfig = toml::from_str(&format!(
        "hi2_listen = \"{hi2}\"\nhi3_listen = \"{hi3}\"\nout_dir = \"lemf\"\n{}",
        tls("tls", "lemf")
    ))
    .unwrap();
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let (lemf, _) = li_examples::lemf::start(&lemf_config, &dir, shutdown)
        .await
        .unwrap();
    let total = u64::from(BEFORE + AFTER);
    let kill_9 = liid("E2E-KILL-9");
    let everything = |s: &Summary| s.liids.get(&kill_9).is_some_and(|s| s.cc >= total);
    let got = tokio::time::timeout(WAIT, lemf.wait_for(everything))
        .await
        .map(|summary| summary.liids[&kill_9].clone());
    child.kill().unwrap();
    child.wait().unwrap();
    handle.shutdown().await;
    let s = got.expect("everything delivered after the restart");
    assert_eq!((s.cc, s.gaps, s.repeats), (total, 0, 0), "{s:?}");
    let summary = lemf.stop().await;
    let packets = cc_packets(&summary, "E2E-KILL-9");
    let want: Vec<Vec<u8>> = (0..BEFORE + AFTER).map(packet).collect();
    assert_eq!(packets, want, "every packet once, in order");
    let seqs: Vec<u64> = records(&summary, "E2E-KILL-9")
        .iter()
        .filter(|r| r["kind"] == "cc")
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (0..total).collect::<Vec<_>>(),
        "numbering continued across the kill"
    );
    // The restart restored the provisioning from its state file, and the audit chain of the
    // killed process is intact.
    li_handover::audit::verify(dir.join("mediator-audit.log")).unwrap();
    let (_, entries) = li_handover::audit::read_entries(dir.join("mediator-audit.log")).unwrap();
    assert!(entries.iter().any(|e| e.kind.as_str() == "state.restored"));
}

/// Issue 11: a probe refusing one warrant's task (a SIP URI target it cannot compare: an IPv6
/// reference without its `]`) made the ADMF treat the probe as unknown, and every later warrant stayed pending. Now
/// the refusal stays with its warrant and the two others are active and intercepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_the_probe_refuses_blocks_no_other_warrant() {
    use li_handover::admf::store::WarrantState;

    let sample = sample();
    let system = System::start(&SystemOptions::new(run_dir("refused")))
        .await
        .unwrap();
    let start = li_examples::admf::now();
    let refused = system
        .warrant(
            "E2E-A-SIP",
            &["sip:alice@[2001:db8::1"],
            InterceptScope::IriAndCc,
            (start, None),
            &["LEA-1"],
        )
        .unwrap();
    let warrants = [
        refused,
        warrant(
            &system,
            "E2E-B-STATIC",
            SampleTarget::StaticV4,
            InterceptScope::IriAndCc,
            None,
            &["LEA-1"],
        ),
        warrant(
            &system,
            "E2E-C-ALICE",
            SampleTarget::Alice,
            InterceptScope::IriAndCc,
            None,
            &["LEA-1"],
        ),
    ];
    for w in &warrants {
        system.admf.create_warrant(w).unwrap();
    }
    let report = system.admf.sync(li_examples::admf::now()).await.unwrap();
    assert_eq!(
        report.activated,
        [liid("E2E-B-STATIC"), liid("E2E-C-ALICE")],
        "{report}"
    );
    assert_eq!(report.failures.len(), 1, "{report}");
    assert_eq!(report.failures[0].liid, Some(liid("E2E-A-SIP")));
    let store = system.admf.store();
    let state = |l: &str| store.get(&liid(l)).unwrap().unwrap().state;
    assert_eq!(state("E2E-A-SIP"), WarrantState::Pending);
    let refusals = store.refusals(&liid("E2E-A-SIP")).unwrap();
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].ne, "probe-1");
    assert!(
        refusals[0].reason.contains("cannot intercept"),
        "{refusals:?}"
    );

    let replay = system
        .replay(&capture(), Some(origin_ahead()))
        .await
        .unwrap();
    assert_eq!(replay.pdus_dropped, 0);
    system.wait_delivered(WAIT).await.unwrap();
    let summaries = finish(system, &["E2E-A-SIP", "E2E-B-STATIC", "E2E-C-ALICE"]).await;
    let summary = &summaries[0].1;
    assert_whole_capture(
        &sample,
        summary,
        &[
            ("E2E-B-STATIC", SampleTarget::StaticV4),
            ("E2E-C-ALICE", SampleTarget::Alice),
        ],
    );
    assert!(records(summary, "E2E-A-SIP").is_empty());
}
