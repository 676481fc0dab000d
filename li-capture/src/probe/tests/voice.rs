//! A SIP target provisioned over X1, a call replayed: its SIP messages reach X2 as SIP
//! Message PDUs and its RTP reaches X3 as RTP Packet PDUs, each with the task's XID and the
//! call's CIN as Correlation ID; nothing else is sent.

use std::net::{IpAddr, SocketAddr};

use li_core::{MediaProtocol, PayloadDirection};
use li_handover::x2x3::contract::{self, Content};

use super::*;
use crate::synth::packet::{self, IpParams, PROTO_UDP};

const RTP: &[u8] = &[
    0x80, 0x00, 0x00, 0x07, 0, 0, 1, 0x40, 1, 2, 3, 4, 0xd5, 0xd5,
];

fn udp(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let params = IpParams {
        ttl: 64,
        id: 1,
        df: true,
    };
    let l4 = packet::udp(src.port(), dst.port(), payload);
    packet::ip_packet(src.ip(), dst.ip(), PROTO_UDP, params, l4)
}

/// A SIP message of call `call-x` between Alice (the target) and Bob.
fn sip(start: &str, to_tag: bool, cseq: &str, media: Option<SocketAddr>) -> Vec<u8> {
    let body = media
        .map(|m| {
            format!(
                "v=0\r\no=- 1234567 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
                 m=audio {} RTP/AVP 8\r\n",
                m.port(),
                ip = m.ip()
            )
        })
        .unwrap_or_default();
    let content_type = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "{start}\r\nVia: SIP/2.0/UDP a.example;branch=z9hG4bK{}\r\n\
         From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.net>{}\r\n\
         Call-ID: call-x\r\nCSeq: {cseq}\r\n{content_type}Content-Length: {}\r\n\r\n{body}",
        cseq.replace(' ', ""),
        if to_tag { ";tag=2" } else { "" },
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn a_sip_target_call_reaches_x2_as_sip_and_x3_as_rtp() {
    let mut h = harness().await;
    let (d, x) = (did(1), xid(1));
    let create = RequestBody::CreateDestination(h.destination(d, DeliveryType::X2AndX3));
    assert!(ok(&h.x1(create).await));
    let activate = RequestBody::ActivateTask(task(
        x,
        "sip:alice@example.com",
        DeliveryType::X2AndX3,
        vec![d],
    ));
    let answer = h.x1(activate).await;
    assert!(ok(&answer), "{answer:?}");

    let alice: IpAddr = "192.0.2.10".parse().unwrap();
    let bob: IpAddr = "198.51.100.20".parse().unwrap();
    let (a_sip, b_sip) = (SocketAddr::new(alice, 5060), SocketAddr::new(bob, 5060));
    let (a_rtp, b_rtp) = (SocketAddr::new(alice, 40000), SocketAddr::new(bob, 50000));
    let invite = sip(
        "INVITE sip:bob@example.net SIP/2.0",
        false,
        "1 INVITE",
        Some(a_rtp),
    );
    let frames = [
        udp(a_sip, b_sip, &invite),
        udp(
            b_sip,
            a_sip,
            &sip("SIP/2.0 200 OK", true, "1 INVITE", Some(b_rtp)),
        ),
        udp(a_rtp, b_rtp, RTP),
        udp(b_rtp, a_rtp, RTP),
        // Not the call's: another port pair.
        udp(
            SocketAddr::new(alice, 40010),
            SocketAddr::new(bob, 50010),
            RTP,
        ),
        udp(
            a_sip,
            b_sip,
            &sip("BYE sip:bob@example.net SIP/2.0", true, "2 BYE", None),
        ),
        udp(b_sip, a_sip, &sip("SIP/2.0 200 OK", true, "2 BYE", None)),
        // After the call: its ports are someone else's.
        udp(a_rtp, b_rtp, RTP),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut writer = PcapWriter::new(Vec::new(), crate::LinkType::RawIp, false).unwrap();
    let start = Timestamp::from_secs_micros(1_700_000_000, 0).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let at = start
            .checked_add(Duration::from_millis(20 * i as u64))
            .unwrap();
        writer.write_frame(at, f).unwrap();
    }
    let path = dir.path().join("call.pcap");
    std::fs::write(&path, writer.into_inner()).unwrap();
    let report = h
        .probe
        .replay_file(&path, ReplayOptions::default())
        .await
        .unwrap();
    assert_eq!(report.counters.frames, 8);

    let pdus = h.collect(|p| p.len() >= 6).await;
    let mut seen = Vec::new();
    let mut cins = Vec::new();
    for pdu in &pdus {
        let got = contract::read(pdu).unwrap();
        assert_eq!(got.xid, x);
        // Every PDU names the probe (by default its name): its IAP system id at the mediator.
        assert_eq!(
            contract::network_function_id(pdu),
            Some(&b"probe-1"[..]),
            "{pdu:?}"
        );
        cins.push(got.cin);
        match got.content {
            Content::Sip {
                iri_type,
                source,
                destination,
                message,
            } => {
                assert_eq!(pdu.pdu_type, PduType::X2);
                assert_eq!(pdu.payload_format, PayloadFormat::SipMessage);
                let line = String::from_utf8_lossy(message)
                    .lines()
                    .next()
                    .unwrap()
                    .to_owned();
                if line.starts_with("INVITE") {
                    assert_eq!(message, &invite[..], "the message verbatim");
                }
                seen.push(format!("X2 {iri_type:?} {source}->{destination} {line}"));
            }
            Content::Media {
                direction,
                flow,
                packet,
            } => {
                assert_eq!(pdu.pdu_type, PduType::X3);
                assert_eq!(packet, RTP);
                assert_eq!((flow.protocol, flow.stream), (MediaProtocol::Rtp, 0));
                let dir = match direction {
                    PayloadDirection::FromTarget => "from",
                    PayloadDirection::ToTarget => "to",
                    _ => "?",
                };
                seen.push(format!("X3 {dir} {}->{}", flow.source, flow.destination));
            }
            other => panic!("unexpected content {other:?}"),
        }
    }
    assert_eq!(
        seen,
        [
            "X2 Begin 192.0.2.10:5060->198.51.100.20:5060 INVITE sip:bob@example.net SIP/2.0",
            "X2 Continue 198.51.100.20:5060->192.0.2.10:5060 SIP/2.0 200 OK",
            "X3 from 192.0.2.10:40000->198.51.100.20:50000",
            "X3 to 198.51.100.20:50000->192.0.2.10:40000",
            "X2 Continue 192.0.2.10:5060->198.51.100.20:5060 BYE sip:bob@example.net SIP/2.0",
            "X2 End 198.51.100.20:5060->192.0.2.10:5060 SIP/2.0 200 OK",
        ]
    );
    // One call, one Correlation ID.
    assert!(cins.iter().all(|c| *c == cins[0]), "{cins:?}");
    let stats = h.probe.classifier_stats();
    assert_eq!((stats.sip_messages, stats.sip_matched), (4, 4));
    assert_eq!((stats.calls_tracked, stats.calls_active), (1, 0));
    assert_eq!(stats.media_packets, 2);
    assert_eq!(h.probe.unencodable_records(), 0);
    h.stop.send_replace(true);
    h.probe.shutdown(Duration::from_secs(5)).await;
}
