//! TS 102 232-5 (IPMultimediaPDU) vectors: `ipmm-encode OUTDIR` writes every IPMM PDU kind
//! we encode as NAME.ber with NAME.json holding the value meant (see conformance/README.md,
//! step `ipmm`): SIP IRI (sIPMessage, IPv4 and IPv6, with additionalSignalling),
//! iRIOnlySIPMessage, and IPMMCC from the hot-path encoder for every frameType, with and
//! without streamIdentifier and mMCCprotocol, in each timestamp form.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use li_asn1::ipmm::{AdditionalSignalling, FrameType, IpmmIriContents, MediaStream, MmccProtocol};
use li_asn1::{IpmmCcEncoder, IriContents, IriType, Payload, PayloadDirection, TimestampForm};
use li_core::Cin;

use crate::{settings, time, write};

const INVITE: &[u8] = b"INVITE sip:bob@example.net SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@example.net>\r\n\
From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@192.0.2.10>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 103\r\n\
\r\n\
v=0\r\n\
o=alice 1 1 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0\r\n";

const BYE: &[u8] = b"BYE sip:alice@[2001:db8::10] SIP/2.0\r\n\
Call-ID: a84b4c76e66710@pc33.example.com\r\n\
CSeq: 231 BYE\r\n\
Content-Length: 0\r\n\
\r\n";

/// An RTP packet (version 2, PT 0, 160 octets of PCMU) behind `headers` octets of
/// (placeholder) lower-layer headers.
fn media(headers: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..headers).map(|i| (0x40 + i) as u8).collect();
    p.extend_from_slice(&[
        0x80, 0x00, 0x00, 0x2a, 0, 0, 0x1f, 0x40, 0xde, 0xad, 0xbe, 0xef,
    ]);
    p.extend((0..160).map(|i| (i * 13) as u8));
    p
}

pub fn encode(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut n = 0;
    let mut emit = |name: &str, pdu: li_asn1::PsPdu, octets: Vec<u8>| {
        n += 1;
        write(dir, name, &[(octets, pdu)])
    };
    let t = time(1_704_164_645, 678_901);
    let s = settings();
    let ue = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
    let proxy = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    let ue6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10));
    let proxy6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1));

    // HI2: sIPMessage (IPv4), iRI-Begin.
    let pdu = s.ipmm_iri_pdu(
        Cin::new(77),
        0,
        t,
        IriType::Begin,
        IpmmIriContents::sip(ue, proxy, INVITE),
    );
    emit("ipmm-iri-sip-invite", pdu.clone(), pdu.encode())?;
    // sIPMessage (IPv6), iRI-End, with additionalSignalling.
    let mut pdu = s.ipmm_iri_pdu(
        Cin::new(77),
        5,
        t,
        IriType::End,
        IpmmIriContents::sip(proxy6, ue6, BYE),
    );
    if let Payload::IriPayloadSequence(items) = &mut pdu.payload
        && let IriContents::IpmmIri(iri) = &mut items[0].iri_contents
    {
        iri.additional_signalling = Some(vec![AdditionalSignalling::SipHeaderLine(
            b"P-Asserted-Identity: tel:+4930123456".to_vec(),
        )]);
    }
    emit("ipmm-iri-sip-bye-ipv6", pdu.clone(), pdu.encode())?;
    // iRIOnlySIPMessage for an IRI-only warrant, iRI-Report, an older module version.
    let mut old = s.clone();
    old.ip_multimedia_version = 12;
    old.timestamp_form = TimestampForm::GeneralizedTime;
    let pdu = old.ipmm_iri_pdu(
        Cin::new(78),
        1,
        t,
        IriType::Report,
        IpmmIriContents::iri_only_sip(ue, proxy, b"MESSAGE sip:bob@example.net SIP/2.0\r\n\r\n"),
    );
    emit("ipmm-iri-only-sip-message", pdu.clone(), pdu.encode())?;

    // HI3: IPMMCC through the hot-path encoder, every frame type.
    let streams = [
        ("ip", FrameType::IpFrame, 28, None, TimestampForm::Both),
        ("udp", FrameType::UdpFrame, 8, None, TimestampForm::Both),
        ("rtp", FrameType::RtpFrame, 0, None, TimestampForm::Both),
        (
            "audio",
            FrameType::AudioFrame,
            0,
            None,
            TimestampForm::MicroSecond,
        ),
        (
            "tcp",
            FrameType::TcpFrame,
            20,
            Some(MmccProtocol::Msrp),
            TimestampForm::Both,
        ),
        (
            "artificial-rtp",
            FrameType::ArtificialRtpFrame,
            0,
            Some(MmccProtocol::Rtp),
            TimestampForm::GeneralizedTime,
        ),
        (
            "udptl",
            FrameType::UdptlFrame,
            0,
            Some(MmccProtocol::Udptl),
            TimestampForm::Both,
        ),
        (
            "msrp",
            FrameType::MsrpFrame,
            0,
            Some(MmccProtocol::Msrp),
            TimestampForm::Both,
        ),
    ];
    for (i, (name, frame, headers, protocol, form)) in streams.into_iter().enumerate() {
        let mut s = s.clone();
        s.timestamp_form = form;
        let mut stream = MediaStream::new(frame);
        if i % 2 == 0 {
            stream = stream.with_stream_identifier(b"m=audio 49170 RTP/AVP 0");
        }
        if let Some(p) = protocol {
            stream = stream.with_protocol(p);
        }
        let cin = Cin::new(4_000_000_000);
        let direction = if i % 2 == 0 {
            PayloadDirection::FromTarget
        } else {
            PayloadDirection::ToTarget
        };
        let packet = media(headers);
        let seq = u32::MAX - i as u32;
        let mut out = Vec::new();
        IpmmCcEncoder::new(&s, cin).encode(seq, t, direction, &stream, &packet, &mut out);
        let meant = s.ipmm_cc_pdu(cin, seq, t, direction, &stream, &packet);
        emit(&format!("ipmm-cc-hot-{name}"), meant, out)?;
    }
    Ok(n)
}
