//! A call's HI2 and HI3 records delivered to a real receiver over loopback TCP, and the
//! call's files read back.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use li_asn1::ber::frame_len;
use li_asn1::ipmm::{FrameType, IpmmIriContents, MediaStream};
use li_asn1::{HeaderSettings, IriType, PayloadDirection, PsPdu, TriPayload};
use li_core::media::g711::Law;
use li_core::media::rtp::RtpHeader;
use li_core::{Cin, Liid, OperatorId, Timestamp};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::call::{OTHER_ADDR, OTHER_PORT, TARGET_ADDR, TARGET_PORT};
use super::wav::read_samples;
use crate::lemf::{DEFAULT_MAX_PDU_LEN, Receiver, ReceiverConfig, Summary, start};

const UE: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
const PROXY: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));

fn settings() -> HeaderSettings {
    HeaderSettings::new(
        Liid::new(b"LIID-V").unwrap(),
        OperatorId::new(b"OP").unwrap(),
    )
}

fn time(ms: u64) -> Timestamp {
    Timestamp::from_secs_micros(1_800_000_000 + ms / 1000, (ms % 1000) as u32 * 1000).unwrap()
}

fn sip(start: &str, cseq: &str) -> Vec<u8> {
    format!(
        "{start}\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n\
         From: \"Alice\" <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.net>\r\n\
         Call-ID: call-1@192.0.2.10\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// An RTP packet: `n`th of its stream, 160 samples.
fn rtp(pt: u8, ssrc: u32, n: u16, base: u32) -> Vec<u8> {
    let mut p = Vec::new();
    RtpHeader {
        marker: n == 0,
        payload_type: pt,
        sequence: n,
        timestamp: base.wrapping_add(u32::from(n) * 160),
        ssrc,
    }
    .write(&mut p);
    p.extend((0..160u16).map(|i| (i as u8).wrapping_mul(3) ^ (n as u8) ^ (ssrc as u8)));
    p
}

/// Sends `pdus` then a keep-alive, and waits for its answer: everything is then stored.
async fn deliver(addr: std::net::SocketAddr, pdus: &[PsPdu]) -> TcpStream {
    let mut bytes = Vec::new();
    for pdu in pdus {
        pdu.encode_into(&mut bytes);
    }
    settings()
        .tri_pdu(0, time(0), TriPayload::KeepAlive)
        .encode_into(&mut bytes);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&bytes).await.unwrap();
    let mut answer = Vec::new();
    while frame_len(&answer, DEFAULT_MAX_PDU_LEN).unwrap().is_none() {
        assert!(stream.read_buf(&mut answer).await.unwrap() > 0, "closed");
    }
    stream
}

/// The records of a pcap file: (seconds, microseconds, packet).
fn pcap_records(path: &Path) -> Vec<(u32, u32, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert_eq!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()), 101);
    let mut at = 24;
    let mut out = Vec::new();
    while at < bytes.len() {
        let word = |i: usize| u32::from_le_bytes(bytes[at + i..at + i + 4].try_into().unwrap());
        let (secs, micros, incl) = (word(0), word(4), word(8) as usize);
        out.push((secs, micros, bytes[at + 16..at + 16 + incl].to_vec()));
        at += 16 + incl;
    }
    out
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The samples a WAV must hold: each expected packet decoded, `None` as 160 of silence.
fn expected_samples(law: Law, packets: &[Option<Vec<u8>>]) -> Vec<i16> {
    packets
        .iter()
        .flat_map(|p| match p {
            Some(p) => p[12..].iter().map(|&c| law.decode(c)).collect(),
            None => vec![0; 160],
        })
        .collect()
}

async fn run(config: ReceiverConfig, hi2: Vec<PsPdu>, hi3: Vec<PsPdu>) -> Summary {
    run_ordered(config, hi2, hi3, false).await
}

/// HI3 delivered (and stored) first, then HI2; or HI2 first with `hi2_first`.
async fn run_ordered(
    config: ReceiverConfig,
    hi2: Vec<PsPdu>,
    hi3: Vec<PsPdu>,
    hi2_first: bool,
) -> Summary {
    let receiver = Receiver::new(config).unwrap();
    let any = "127.0.0.1:0".parse().unwrap();
    let running = start(receiver, any, any, None).await.unwrap();
    let (a, b) = if hi2_first {
        let b = deliver(running.hi2_addr, &hi2).await;
        (deliver(running.hi3_addr, &hi3).await, b)
    } else {
        let a = deliver(running.hi3_addr, &hi3).await;
        (a, deliver(running.hi2_addr, &hi2).await)
    };
    let summary = running.stop().await;
    drop((a, b));
    summary
}

#[tokio::test]
async fn a_mu_law_call_gives_its_ladder_pcap_wavs_and_call_json() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings();
    let cin = Cin::new(7);
    let ladder = [
        (
            IriType::Begin,
            UE,
            PROXY,
            "INVITE sip:bob@example.net SIP/2.0",
            "1 INVITE",
        ),
        (
            IriType::Continue,
            PROXY,
            UE,
            "SIP/2.0 180 Ringing",
            "1 INVITE",
        ),
        (IriType::Continue, PROXY, UE, "SIP/2.0 200 OK", "1 INVITE"),
        (
            IriType::Continue,
            UE,
            PROXY,
            "ACK sip:bob@example.net SIP/2.0",
            "1 ACK",
        ),
        (
            IriType::Continue,
            UE,
            PROXY,
            "BYE sip:bob@example.net SIP/2.0",
            "2 BYE",
        ),
        (IriType::End, PROXY, UE, "SIP/2.0 200 OK", "2 BYE"),
    ];
    let hi2: Vec<PsPdu> = ladder
        .iter()
        .enumerate()
        .map(|(i, (ty, src, dst, start, cseq))| {
            s.ipmm_iri_pdu(
                cin,
                i as u32,
                time(i as u64 * 100),
                *ty,
                IpmmIriContents::sip(*src, *dst, &sip(start, cseq)),
            )
        })
        .collect();

    // From the target: packets 0..10 of SSRC A, 4 lost, 7 before 6, 2 twice; base
    // timestamp near the wrap. To the target: SSRC B in order.
    let (a, b) = (0xA0A0_0001, 0xB0B0_0002);
    let base = u32::MAX - 800;
    let from_order = [0u16, 1, 2, 2, 3, 5, 7, 6, 8, 9];
    let stream = MediaStream::new(FrameType::RtpFrame);
    let mut hi3 = Vec::new();
    let mut sent = Vec::new();
    for (i, &n) in from_order.iter().enumerate() {
        let p = rtp(0, a, n, base);
        hi3.push(s.ipmm_cc_pdu(
            cin,
            i as u32,
            time(1000 + i as u64 * 20),
            PayloadDirection::FromTarget,
            &stream,
            &p,
        ));
        sent.push((PayloadDirection::FromTarget, p));
    }
    for n in 0..5u16 {
        let p = rtp(0, b, n, 1000);
        hi3.push(s.ipmm_cc_pdu(
            cin,
            (from_order.len() + usize::from(n)) as u32,
            time(1000 + u64::from(n) * 20),
            PayloadDirection::ToTarget,
            &stream,
            &p,
        ));
        sent.push((PayloadDirection::ToTarget, p));
    }

    let summary = run(ReceiverConfig::new(dir.path()), hi2, hi3).await;
    let call_dir = dir.path().join("LIID-V").join("calls").join("7");

    // The ladder: one line per SIP message, as sent.
    let ladder_lines = lines(&call_dir.join("ladder.jsonl"));
    assert_eq!(ladder_lines.len(), ladder.len());
    for (line, (ty, src, dst, start, cseq)) in ladder_lines.iter().zip(&ladder) {
        assert_eq!(line["iri_type"], ty.asn1_name());
        assert_eq!(line["direction"], format!("{src} -> {dst}"));
        assert_eq!(line["from"], "\"Alice\" <sip:alice@example.com>;tag=a1");
        assert_eq!(line["to"], "<sip:bob@example.net>");
        assert_eq!(line["call_id"], "call-1@192.0.2.10");
        assert_eq!(line["cseq"], *cseq);
        assert_eq!(line["via"], "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1");
        assert_eq!(line["error"], Value::Null);
        if let Some(status) = start.strip_prefix("SIP/2.0 ") {
            let (code, reason) = status.split_once(' ').unwrap();
            assert_eq!(line["status"], code.parse::<u16>().unwrap());
            assert_eq!(line["reason"], reason);
        } else {
            assert_eq!(line["method"], start.split(' ').next().unwrap());
        }
    }
    assert_eq!(ladder_lines[2]["time"], time(200).to_string());
    assert_eq!(ladder_lines[2]["seq"], 2);

    // The pcap: exactly the media packets, in order, in placeholder UDP/IPv4.
    let records = pcap_records(&call_dir.join("media.pcap"));
    assert_eq!(records.len(), sent.len());
    for ((_, _, packet), (direction, rtp)) in records.iter().zip(&sent) {
        assert_eq!(&packet[28..], &rtp[..]);
        assert_eq!(packet[9], 17, "UDP");
        let (src, dst, sport) = if *direction == PayloadDirection::FromTarget {
            (TARGET_ADDR, OTHER_ADDR, TARGET_PORT)
        } else {
            (OTHER_ADDR, TARGET_ADDR, OTHER_PORT)
        };
        assert_eq!((&packet[12..16], &packet[16..20]), (&src[..], &dst[..]));
        assert_eq!(u16::from_be_bytes([packet[20], packet[21]]), sport);
        assert_eq!(
            usize::from(u16::from_be_bytes([packet[2], packet[3]])),
            packet.len()
        );
    }
    assert_eq!(records[0].0, 1_800_000_001);

    // The WAVs: the payloads decoded, silence for packet 4, each packet once, in order.
    let from: Vec<Option<Vec<u8>>> = (0..10u16)
        .map(|n| (n != 4).then(|| rtp(0, a, n, base)))
        .collect();
    let from_wav = call_dir.join(format!("from-target-{a:08x}.wav"));
    assert_eq!(
        read_samples(&std::fs::read(&from_wav).unwrap()),
        expected_samples(Law::Ulaw, &from)
    );
    let to: Vec<Option<Vec<u8>>> = (0..5u16).map(|n| Some(rtp(0, b, n, 1000))).collect();
    let to_wav = call_dir.join(format!("to-target-{b:08x}.wav"));
    assert_eq!(
        read_samples(&std::fs::read(&to_wav).unwrap()),
        expected_samples(Law::Ulaw, &to)
    );

    // call.json and the summary agree.
    let call: Value =
        serde_json::from_slice(&std::fs::read(call_dir.join("call.json")).unwrap()).unwrap();
    assert_eq!(call["cin"], 7);
    assert_eq!(call["liid"], "LIID-V");
    assert_eq!(call["closed"], "ended");
    assert_eq!(call["iri"], 6);
    assert_eq!(call["cc"], 15);
    assert_eq!(call["ladder_messages"], 6);
    assert_eq!(call["first_time"], time(0).to_string());
    assert_eq!(call["last_time"], time(1180).to_string());
    assert_eq!(call["wav"].as_array().unwrap().len(), 2);
    assert_eq!(call["wav"][0]["samples"], 1600);
    assert_eq!(call["streams"][0]["wav"]["duplicates"], 1);
    assert_eq!(call["streams"][0]["wav"]["silence_samples"], 160);
    assert_eq!(call["streams"][0]["payload_types"], serde_json::json!([0]));
    let liid = Liid::new(b"LIID-V").unwrap();
    let c = &summary.liids[&liid].calls[&7];
    assert_eq!((c.iri, c.cc, c.ladder_messages, c.ended), (6, 15, 6, true));
    let wavs: Vec<_> = c.wavs.iter().map(|w| (w.path.clone(), w.samples)).collect();
    assert_eq!(wavs, vec![(from_wav, 1600), (to_wav, 800)]);
    assert!(summary.to_string().contains("call 7: IRI 6 CC 15 (ended)"));
}

#[tokio::test]
async fn a_law_other_codecs_and_hostile_input_are_counted_and_kept_apart() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings();
    let cin = Cin::new(8);
    let hi2 = vec![
        s.ipmm_iri_pdu(
            cin,
            0,
            time(0),
            IriType::Begin,
            IpmmIriContents::sip(UE, PROXY, b"\x00\xffnot SIP at all\r\n\r\n"),
        ),
        s.ipmm_iri_pdu(
            cin,
            1,
            time(1),
            IriType::Continue,
            IpmmIriContents::iri_only_sip(UE, PROXY, &sip("INFO sip:x@y SIP/2.0", "3 INFO")),
        ),
    ];
    let stream = MediaStream::new(FrameType::RtpFrame);
    let video = MediaStream::new(FrameType::RtpFrame).with_stream_identifier(b"m=video 5004");
    let alaw: Vec<Vec<u8>> = (0..3u16).map(|n| rtp(8, 0x8888, n, 0)).collect();
    let mut hi3 = Vec::new();
    let mut seq = 0;
    let mut cc = |p: &[u8], st: &MediaStream| {
        seq += 1;
        s.ipmm_cc_pdu(
            cin,
            seq,
            time(100 + u64::from(seq)),
            PayloadDirection::FromTarget,
            st,
            p,
        )
    };
    for p in &alaw {
        hi3.push(cc(p, &stream));
    }
    hi3.push(cc(&rtp(96, 0x9696, 0, 0), &video));
    hi3.push(cc(&[0x80, 0, 1], &stream)); // RTP cut short
    hi3.push(cc(&[0x80, 200, 0, 1, 0, 0, 0, 1], &stream)); // RTCP sender report
    let summary = run(ReceiverConfig::new(dir.path()), hi2, hi3).await;

    let call_dir = dir.path().join("LIID-V").join("calls").join("8");
    let ladder = lines(&call_dir.join("ladder.jsonl"));
    assert_eq!(ladder.len(), 2);
    assert!(ladder[0]["error"].as_str().unwrap().contains("start line"));
    assert_eq!(ladder[1]["method"], "INFO");
    assert_eq!(ladder[1]["iri_only"], true);
    // Every media packet is in the pcap, the video one on the second stream's ports.
    let records = pcap_records(&call_dir.join("media.pcap"));
    assert_eq!(records.len(), 6);
    assert_eq!(
        u16::from_be_bytes([records[3].2[20], records[3].2[21]]),
        TARGET_PORT + 2
    );
    // One WAV: the A-law stream.
    let wavs: Vec<_> = std::fs::read_dir(&call_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".wav"))
        .collect();
    assert_eq!(wavs, vec!["from-target-00008888.wav".to_owned()]);
    let samples = read_samples(&std::fs::read(call_dir.join(&wavs[0])).unwrap());
    let expected = expected_samples(
        Law::Alaw,
        &alaw.iter().cloned().map(Some).collect::<Vec<_>>(),
    );
    assert_eq!(samples, expected);
    assert_ne!(
        samples,
        expected_samples(Law::Ulaw, &alaw.into_iter().map(Some).collect::<Vec<_>>())
    );

    let call: Value =
        serde_json::from_slice(&std::fs::read(call_dir.join("call.json")).unwrap()).unwrap();
    assert_eq!(call["closed"], "receiver stopped");
    assert_eq!(call["other_payload_types"], serde_json::json!([96]));
    assert_eq!(call["streams"][1]["stream_identifier"], "m=video 5004");
    assert_eq!(call["streams"][1]["wav"], Value::Null);
    let c = &summary.liids[&Liid::new(b"LIID-V").unwrap()].calls[&8];
    assert_eq!(
        (c.iri, c.cc, c.sip_errors, c.media_errors, c.rtcp, c.ended),
        (2, 6, 1, 1, 1, false)
    );
    assert_eq!(
        c.other_payload_types.iter().copied().collect::<Vec<_>>(),
        vec![96]
    );
}

#[tokio::test]
async fn a_call_closed_to_make_room_opens_again_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ReceiverConfig::new(dir.path());
    config.voice.max_open_calls = 1;
    let s = settings();
    let stream = MediaStream::new(FrameType::RtpFrame);
    let invite = |cin: u32, seq| {
        s.ipmm_iri_pdu(
            Cin::new(cin),
            seq,
            time(0),
            IriType::Begin,
            IpmmIriContents::sip(
                UE,
                PROXY,
                &sip("INVITE sip:bob@example.net SIP/2.0", "1 INVITE"),
            ),
        )
    };
    // Call 1, then call 2 (call 1 is closed), then call 1 again.
    let hi2 = vec![invite(1, 0), invite(2, 0), invite(1, 1)];
    let hi3 = vec![
        s.ipmm_cc_pdu(
            Cin::new(1),
            0,
            time(1),
            PayloadDirection::FromTarget,
            &stream,
            &rtp(0, 1, 0, 0),
        ),
        s.ipmm_cc_pdu(
            Cin::new(2),
            0,
            time(1),
            PayloadDirection::FromTarget,
            &stream,
            &rtp(0, 2, 0, 0),
        ),
        s.ipmm_cc_pdu(
            Cin::new(1),
            1,
            time(2),
            PayloadDirection::FromTarget,
            &stream,
            &rtp(0, 1, 1, 0),
        ),
    ];
    let summary = run(config, hi2, hi3).await;
    let call1 = dir.path().join("LIID-V").join("calls").join("1");
    assert_eq!(pcap_records(&call1.join("media.pcap")).len(), 2);
    assert_eq!(lines(&call1.join("ladder.jsonl")).len(), 2);
    let c = &summary.liids[&Liid::new(b"LIID-V").unwrap()].calls[&1];
    assert_eq!((c.iri, c.cc, c.ladder_messages), (2, 2, 2));
    let names: Vec<_> = c
        .wavs
        .iter()
        .map(|w| w.path.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        ["from-target-00000001.wav", "from-target-00000001-2.wav"]
    );
    assert!(c.wavs.iter().all(|w| w.samples == 160));
    let call: Value =
        serde_json::from_slice(&std::fs::read(call1.join("call.json")).unwrap()).unwrap();
    assert_eq!(
        (call["iri"].as_u64(), call["cc"].as_u64()),
        (Some(2), Some(2))
    );
}

#[tokio::test]
async fn media_after_the_iri_end_joins_the_same_wav() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings();
    let cin = Cin::new(9);
    let invite = sip("INVITE sip:bob@example.net SIP/2.0", "1 INVITE");
    let ok = sip("SIP/2.0 200 OK", "2 BYE");
    let hi2 = vec![
        s.ipmm_iri_pdu(
            cin,
            0,
            time(0),
            IriType::Begin,
            IpmmIriContents::sip(UE, PROXY, &invite),
        ),
        s.ipmm_iri_pdu(
            cin,
            1,
            time(500),
            IriType::End,
            IpmmIriContents::sip(PROXY, UE, &ok),
        ),
    ];
    let stream = MediaStream::new(FrameType::RtpFrame);
    let packets: Vec<Vec<u8>> = (0..4u16).map(|n| rtp(8, 0x77, n, 0)).collect();
    let hi3: Vec<PsPdu> = packets
        .iter()
        .enumerate()
        .map(|(i, p)| {
            s.ipmm_cc_pdu(
                cin,
                i as u32,
                time(100 + i as u64 * 20),
                PayloadDirection::FromTarget,
                &stream,
                p,
            )
        })
        .collect();
    // The IRI-End is stored before any of the media.
    let summary = run_ordered(ReceiverConfig::new(dir.path()), hi2, hi3, true).await;
    let call_dir = dir.path().join("LIID-V").join("calls").join("9");
    let wav = call_dir.join("from-target-00000077.wav");
    let expected = expected_samples(
        Law::Alaw,
        &packets.into_iter().map(Some).collect::<Vec<_>>(),
    );
    assert_eq!(read_samples(&std::fs::read(&wav).unwrap()), expected);
    let c = &summary.liids[&Liid::new(b"LIID-V").unwrap()].calls[&9];
    assert_eq!((c.iri, c.cc, c.ended, c.wavs.len()), (2, 4, true, 1));
    let call: Value =
        serde_json::from_slice(&std::fs::read(call_dir.join("call.json")).unwrap()).unwrap();
    assert_eq!(
        (call["closed"].as_str(), call["cc"].as_u64()),
        (Some("ended"), Some(4))
    );
}

#[test]
fn liid_directories_never_collide_with_other_output_names() {
    use super::liid_dir_name;
    assert_eq!(liid_dir_name("LIID-V"), "LIID-V");
    assert_eq!(liid_dir_name(".."), "..~2e2e");
    assert_eq!(liid_dir_name("."), ".~2e");
    assert_eq!(liid_dir_name("A.pcap"), "A.pcap~412e70636170");
    assert_eq!(
        liid_dir_name("records.JSONL"),
        "records.JSONL~7265636f7264732e4a534f4e4c"
    );
    assert_eq!(liid_dir_name("hi2.ber"), "hi2.ber~6869322e626572");
    // Already escaped: kept as the pcap file's stem.
    assert_eq!(liid_dir_name("A/B"), "A_B~412f42");
}

mod writer {
    //! The writer-side [`Calls`] driven directly with arbitrary records.

    use std::collections::{BTreeMap, HashMap};
    use std::sync::{Arc, Mutex};

    use li_asn1::ipmm::{FrameType, MmccProtocol};
    use li_asn1::{IriType, PayloadDirection};
    use li_core::media::g711::Law;
    use li_core::media::rtp::RtpHeader;
    use li_core::{Liid, Timestamp};
    use proptest::prelude::*;

    use super::super::{Calls, VoiceConfig, VoiceKind, VoiceRecord};
    use crate::lemf::State;
    use crate::retry::Changes;

    /// One arbitrary record: (CIN, kind selector, IRI-End?, frame type, bytes, gap).
    type Spec = (u32, u8, bool, i64, Vec<u8>, u16);

    fn kind(spec: &Spec, data: &mut Vec<u8>) -> VoiceKind {
        let (_, selector, end, frame_type, bytes, _) = spec;
        let start = data.len();
        data.extend_from_slice(bytes);
        let range = start..data.len();
        let iri_type = Some(if *end {
            IriType::End
        } else {
            IriType::Continue
        });
        match selector % 4 {
            0 => VoiceKind::Sip {
                iri_type,
                iri_only: false,
                source: None,
                destination: None,
                message: range,
            },
            1 if selector % 8 == 5 => VoiceKind::CallData {
                iri_type,
                format: "packetcable",
                message: "ccopen",
            },
            1 => VoiceKind::OtherIri {
                iri_type,
                content: "xCAPMessage",
            },
            _ => VoiceKind::Media {
                direction: Some(PayloadDirection::from_value(i64::from(*selector % 5))),
                frame_type: (*frame_type >= 0).then(|| FrameType::from_value(*frame_type)),
                stream: (selector % 8 == 3).then(|| range.clone()),
                protocol: (selector % 16 == 7).then_some(MmccProtocol::Udptl),
                packet: range,
            },
        }
    }

    fn media(cin: u32, secs: u64, n: u16, data: &mut Vec<u8>) -> VoiceRecord {
        let start = data.len();
        data.extend_from_slice(&super::rtp(0, 5, n, 0));
        VoiceRecord {
            liid: Liid::new(b"LIID-G").unwrap(),
            cin: Some(cin),
            seq: u32::from(n),
            time: Timestamp::from_secs_micros(1_800_000_000 + secs, 0).unwrap(),
            repeat: false,
            kind: VoiceKind::Media {
                direction: Some(PayloadDirection::FromTarget),
                frame_type: Some(FrameType::RtpFrame),
                stream: None,
                protocol: None,
                packet: start..data.len(),
            },
        }
    }

    #[test]
    fn an_ended_call_is_closed_once_its_grace_has_passed() {
        let dir = tempfile::tempdir().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let mut calls = Calls::new(
            dir.path().to_path_buf(),
            VoiceConfig::default(),
            false,
            Arc::clone(&state),
            Arc::new(Changes::default()),
        );
        let liid = Liid::new(b"LIID-G").unwrap();
        let mut data = Vec::new();
        let end = VoiceRecord {
            kind: VoiceKind::OtherIri {
                iri_type: Some(IriType::End),
                content: "xCAPMessage",
            },
            ..media(1, 0, 0, &mut data)
        };
        let call_json = dir.path().join("LIID-G/calls/1/call.json");
        calls.record(media(1, 0, 0, &mut data), &data).unwrap();
        calls.record(end, &data).unwrap();
        calls.expire().unwrap();
        assert!(call_json.exists(), "written at the end");
        // Within the grace (10 s by record times): the call stays open and plays on.
        calls.record(media(1, 5, 1, &mut data), &data).unwrap();
        calls.expire().unwrap();
        assert!(calls.open.contains_key(&(liid, 1)));
        // A record of another call 11 s after the end: the call is closed.
        calls.record(media(2, 11, 0, &mut data), &data).unwrap();
        calls.expire().unwrap();
        assert!(!calls.open.contains_key(&(liid, 1)));
        calls.publish();
        let c = state.lock().unwrap().liids[&liid].calls[&1].clone();
        assert_eq!((c.iri, c.cc, c.ended), (1, 2, true));
        assert_eq!(c.wavs.len(), 1);
        assert_eq!(c.wavs[0].samples, 320);
        let bytes = std::fs::read(&c.wavs[0].path).unwrap();
        assert_eq!(super::read_samples(&bytes).len(), 320);
    }

    #[test]
    fn open_files_are_bounded_by_closing_the_least_recently_active_call() {
        let dir = tempfile::tempdir().unwrap();
        let config = VoiceConfig {
            max_open_files: 5,
            ..VoiceConfig::default()
        };
        let state = Arc::new(Mutex::new(State::default()));
        let mut calls = Calls::new(
            dir.path().to_path_buf(),
            config,
            false,
            Arc::clone(&state),
            Arc::new(Changes::default()),
        );
        let liid = Liid::new(b"LIID-G").unwrap();
        let mut data = Vec::new();
        calls.record(media(1, 0, 0, &mut data), &data).unwrap();
        assert_eq!(calls.files, 3, "ladder, pcap, one WAV");
        calls.record(media(2, 0, 0, &mut data), &data).unwrap();
        assert_eq!(calls.files, 3, "call 1 closed for call 2");
        assert!(!calls.open.contains_key(&(liid, 1)));
        assert!(dir.path().join("LIID-G/calls/1/call.json").exists());
        // Call 1 again: call 2 makes room, and call 1 goes on in a second WAV.
        calls.record(media(1, 1, 1, &mut data), &data).unwrap();
        calls.close_all().unwrap();
        assert_eq!(calls.files, 0);
        let c = state.lock().unwrap().liids[&liid].calls[&1].clone();
        assert_eq!((c.cc, c.wavs.len()), (2, 2));
    }

    /// The calls from this CIN on get G.711 RTP built from their specs as media (and
    /// arbitrary SIP and other IRI); the calls below it get arbitrary media bytes.
    const AUDIO_CINS: u32 = 3;

    /// One RTP stream of one opening of a call, as the writer must play it out: sample 0 of
    /// its WAV is its first G.711 packet's timestamp; each packet's samples at their
    /// timestamp's distance from it; what no packet filled is silence.
    struct Segment {
        cin: u32,
        epoch: u32,
        direction: PayloadDirection,
        ssrc: u32,
        /// Extended RTP timestamp of sample 0 (set by the first G.711 packet).
        start: Option<i64>,
        samples: Vec<Option<i16>>,
        /// Positions below were played out by an IRI-End: a packet there is late.
        floor: usize,
    }

    impl Segment {
        /// A packet arrives: placed, unless late (behind sample 0 or what an IRI-End
        /// played out) or a duplicate (its first sample already there).
        fn place(&mut self, ext: i64, law: Law, payload: &[u8]) {
            let start = *self.start.get_or_insert(ext);
            let Ok(at) = usize::try_from(ext - start) else {
                return;
            };
            if at < self.floor || self.samples.get(at).copied().flatten().is_some() {
                return;
            }
            if self.samples.len() < at + payload.len() {
                self.samples.resize(at + payload.len(), None);
            }
            for (slot, &code) in self.samples[at..].iter_mut().zip(payload) {
                *slot = Some(law.decode(code));
            }
        }

        fn expected(&self) -> Vec<i16> {
            self.samples.iter().map(|s| s.unwrap_or(0)).collect()
        }
    }

    /// One generated RTP packet: (stream key (CIN, direction, SSRC), extended timestamp,
    /// payload type, frame type, the packet).
    type Audio = (
        (u32, PayloadDirection, u32),
        i64,
        u8,
        Option<FrameType>,
        Vec<u8>,
    );

    /// The RTP packet of an audio spec, with its timestamp after the stream's last.
    fn audio(spec: &Spec, next: &mut HashMap<(u32, PayloadDirection, u32), i64>) -> Audio {
        let (cin, selector, _, frame_type, bytes, gap) = spec;
        let direction = if selector & 0x04 == 0 {
            PayloadDirection::FromTarget
        } else {
            PayloadDirection::ToTarget
        };
        let ssrc = if selector & 0x08 == 0 {
            0x5eed_0001
        } else {
            0xa0d1_0002
        };
        let payload_type = [0, 8, 0, 18][usize::from(selector >> 6)];
        let key = (*cin, direction, ssrc);
        // Near the 32-bit wrap, so that streams cross it.
        let ext = *next
            .entry(key)
            .or_insert(i64::from(u32::MAX - 2_000 * (ssrc & 3)));
        let payload: &[u8] = if bytes.is_empty() { &[0x55] } else { bytes };
        let gap = if gap % 3 == 0 {
            0
        } else {
            i64::from(gap % 1_000)
        };
        next.insert(key, ext + payload.len() as i64 + gap);
        let mut packet = Vec::new();
        RtpHeader {
            marker: false,
            payload_type,
            sequence: (ext & 0xffff) as u16,
            timestamp: ext as u32,
            ssrc,
        }
        .write(&mut packet);
        packet.extend_from_slice(payload);
        let frame_type = match frame_type {
            f if *f < 0 => None,
            f if f % 2 == 0 => Some(FrameType::RtpFrame),
            _ => Some(FrameType::ArtificialRtpFrame),
        };
        (key, ext, payload_type, frame_type, packet)
    }

    /// The media record of a generated packet, its bytes appended to `data`.
    fn audio_kind(packet: &Audio, data: &mut Vec<u8>) -> VoiceKind {
        let range = data.len()..data.len() + packet.4.len();
        data.extend_from_slice(&packet.4);
        VoiceKind::Media {
            direction: Some(packet.0.1),
            frame_type: packet.3,
            stream: None,
            protocol: None,
            packet: range,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Whatever the records hold, the writer neither fails nor panics, and every record
        /// is counted in its call. The G.711 RTP of the audio calls, sent with gaps,
        /// reordered, duplicated, across IRI-Ends, stream and open-call bounds, is in the
        /// WAV files sample for sample: each sample where its timestamp puts it, gaps as
        /// silence, late packets and duplicates left out.
        #[test]
        fn arbitrary_records_are_counted_and_their_audio_written_sample_for_sample(
            specs in proptest::collection::vec(
                (0u32..6, any::<u8>(), proptest::bool::weighted(0.1), -1i64..9,
                 proptest::collection::vec(any::<u8>(), 0..200), any::<u16>()),
                1..60,
            )
        ) {
            let dir = tempfile::tempdir().unwrap();
            let state = Arc::new(Mutex::new(State::default()));
            let config = VoiceConfig {
                max_open_calls: 3,
                max_streams_per_call: 3,
                max_open_files: 7,
                ..VoiceConfig::default()
            };
            let max_streams = config.max_streams_per_call;
            let mut calls = Calls::new(
                dir.path().to_path_buf(), config, false, Arc::clone(&state),
                Arc::new(Changes::default()),
            );
            let liid = Liid::new(b"LIID-P").unwrap();
            let mut data = Vec::new();
            let mut expected = [0u64; 6];
            // The model: each opening of a call is an epoch with its own streams.
            let mut epoch = [0u32; 6];
            let mut ended = [false; 6];
            let mut segments: Vec<Segment> = Vec::new();
            // Per CIN, the segments in the order their WAV files were created.
            let mut wav_order: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
            let mut next_ts = HashMap::new();
            let mut held: Vec<Audio> = Vec::new();
            let mut n = 0u32;
            let mut send = |cin: u32, kind: VoiceKind, calls: &mut Calls, data: &Vec<u8>,
                            epoch: &mut [u32; 6], ended: &mut [bool; 6]| {
                if !calls.open.contains_key(&(liid, cin)) {
                    epoch[cin as usize] += 1;
                    ended[cin as usize] = false;
                }
                let end = matches!(
                    kind,
                    VoiceKind::Sip { iri_type: Some(IriType::End), .. }
                        | VoiceKind::OtherIri { iri_type: Some(IriType::End), .. }
                        | VoiceKind::CallData { iri_type: Some(IriType::End), .. }
                );
                expected[cin as usize] += 1;
                let record = VoiceRecord {
                    liid,
                    cin: Some(cin),
                    seq: n,
                    time: Timestamp::from_secs_micros(1_800_000_000 + u64::from(n), 0).unwrap(),
                    repeat: false,
                    kind,
                };
                n += 1;
                calls.record(record, data).unwrap();
                end
            };
            let mut play = |audio: &Audio, segments: &mut Vec<Segment>, epoch: &[u32; 6]| {
                let ((cin, direction, ssrc), ext, payload_type, _, _) = audio;
                let now = epoch[*cin as usize];
                let found = segments.iter().position(|s| {
                    s.cin == *cin && s.epoch == now && s.direction == *direction && s.ssrc == *ssrc
                });
                let at = match found {
                    Some(at) => at,
                    None if segments.iter().filter(|s| s.cin == *cin && s.epoch == now).count()
                        >= max_streams => return, // beyond the call's streams: dropped
                    None => {
                        segments.push(Segment {
                            cin: *cin, epoch: now, direction: *direction, ssrc: *ssrc,
                            start: None, samples: Vec::new(), floor: 0,
                        });
                        segments.len() - 1
                    }
                };
                let Some(law) = Law::of_payload_type(*payload_type) else { return };
                let segment = &mut segments[at];
                if segment.start.is_none() {
                    wav_order.entry(*cin).or_default().push(at);
                }
                let header_len = 12;
                segment.place(*ext, law, &audio.4[header_len..]);
            };
            for spec in &specs {
                let cin = spec.0;
                if cin >= AUDIO_CINS && spec.1 % 4 >= 2 {
                    let packet = audio(spec, &mut next_ts);
                    let key = packet.0;
                    let mut out = Vec::new();
                    if spec.1 & 0x10 != 0 && !held.iter().any(|h| h.0 == key) {
                        // Held back until after the stream's next packet: reordered.
                        held.push(packet);
                    } else {
                        if spec.1 & 0x20 != 0 {
                            out.push(packet.clone()); // and a duplicate
                        }
                        out.push(packet);
                        if let Some(i) = held.iter().position(|h| h.0 == key) {
                            out.push(held.remove(i));
                        }
                    }
                    for packet in out {
                        let kind = audio_kind(&packet, &mut data);
                        send(cin, kind, &mut calls, &data, &mut epoch, &mut ended);
                        play(&packet, &mut segments, &epoch);
                    }
                } else {
                    let kind = kind(spec, &mut data);
                    if send(cin, kind, &mut calls, &data, &mut epoch, &mut ended)
                        && !ended[cin as usize]
                    {
                        // The first IRI-End of an opening plays out the call's rings.
                        ended[cin as usize] = true;
                        for s in segments.iter_mut() {
                            if s.cin == cin && s.epoch == epoch[cin as usize] {
                                s.floor = s.samples.len();
                            }
                        }
                    }
                }
            }
            let rest = std::mem::take(&mut held);
            for packet in rest {
                let kind = audio_kind(&packet, &mut data);
                send(packet.0.0, kind, &mut calls, &data, &mut epoch, &mut ended);
                play(&packet, &mut segments, &epoch);
            }
            calls.close_all().unwrap();
            let state = state.lock().unwrap();
            let l = &state.liids[&liid];
            for (cin, n) in expected.iter().enumerate() {
                let got = l.calls.get(&(cin as u32)).map_or(0, |c| c.iri + c.cc);
                prop_assert_eq!(got, *n, "CIN {}", cin);
            }
            for call in l.calls.values() {
                prop_assert!(call.dir.join("call.json").exists());
                for wav in &call.wavs {
                    let bytes = std::fs::read(&wav.path).unwrap();
                    prop_assert_eq!(bytes.len() as u64, 44 + 2 * wav.samples);
                }
            }
            // The audio calls' WAV files hold what was sent, where it was sent.
            for cin in AUDIO_CINS..6 {
                let order = wav_order.get(&cin).cloned().unwrap_or_default();
                let wavs = l.calls.get(&cin).map(|c| c.wavs.clone()).unwrap_or_default();
                prop_assert_eq!(wavs.len(), order.len(), "CIN {} WAV files", cin);
                for (wav, &at) in wavs.iter().zip(&order) {
                    let segment = &segments[at];
                    prop_assert_eq!(
                        (wav.direction, wav.ssrc),
                        (Some(segment.direction), segment.ssrc)
                    );
                    let samples = super::read_samples(&std::fs::read(&wav.path).unwrap());
                    prop_assert_eq!(samples, segment.expected(), "{}", wav.path.display());
                }
            }
        }
    }
}
