//! X2/X3 (ETSI TS 103 221-2) against Wireshark's `5gli` dissector (conformance/run.sh step
//! `x2x3_tshark`, checked by `py/check_x2x3.py`).
//!
//! `x2x3-pcap OUT.pcap`   writes our PDUs as one TCP connection POI 10.0.0.1:40000 <-> MDF
//!                        10.0.0.2:50000 (classic pcap, Ethernet, headers and checksums built
//!                        here), and OUT.json with what each PDU holds and where it lies.
//! `x2x3-decode FILE...`  reassembles every TCP flow of each classic pcap with port 50000 and
//!                        decodes it with our codec: one JSON line per PDU {"file", "frame",
//!                        "flow", "pdu"} (frame = where the PDU's first octet arrived) or
//!                        {"file", "error"}.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::process::ExitCode;

use li_core::Xid;
use li_core::checksum::internet_checksum;
use li_handover::x2x3::{
    Attribute, DEFAULT_MAX_PDU_LEN, PayloadDirection, PayloadFormat, Pdu, PduTimestamp, PduType,
    X3IpPacketEncoder, contract, frame_len,
};
use serde_json::{Value, json};

/// The X2/X3 port of the capture (no port is registered: X1 configures it).
const PORT: u16 = 50000;
const POI: ([u8; 6], Ipv4Addr, u16) = ([2, 0, 0, 0, 0, 1], Ipv4Addr::new(10, 0, 0, 1), 40000);
const MDF: ([u8; 6], Ipv4Addr, u16) = ([2, 0, 0, 0, 0, 2], Ipv4Addr::new(10, 0, 0, 2), PORT);
const BASE_SECS: u32 = 1_704_164_645;

/// Entry of the `x2x3-*` subcommands.
pub fn main(cmd: &str, args: &[String]) -> ExitCode {
    let result = match (cmd, args) {
        ("x2x3-pcap", [out]) => write_pcap(Path::new(out)).map(|n| {
            eprintln!("li-conformance: wrote {n} X2/X3 PDUs to {out}");
        }),
        ("x2x3-decode", files) if !files.is_empty() => return decode(files),
        ("x2x3-pcap-from", [raw, out]) => {
            write_pcap_from(Path::new(raw), Path::new(out)).map(|n| {
                eprintln!("li-conformance: wrote {n} X2/X3 PDUs from {raw} to {out}");
            })
        }
        _ => Err(
            "usage: li-conformance x2x3-pcap OUT.pcap | x2x3-pcap-from RAW OUT.pcap | x2x3-decode FILE.pcap..."
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("li-conformance: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error>;

// ------------------------------------------------------------------ x2x3-pcap

/// One PDU we send, with the facts the checker needs about it.
struct Sent {
    pdu: Pdu,
    bytes: Vec<u8>,
    /// The sub-protocol tshark should dissect the payload as (its `frame.protocols` name).
    payload_protocol: Option<&'static str>,
}

fn write_pcap(path: &Path) -> Result<usize, Error> {
    let sent = pdus()?;
    let mut conn = Connection::new();
    let mut placed = Vec::new(); // (index into sent, direction, first frame)
    let mut tails = Vec::new(); // frames that start inside a PDU

    conn.handshake();
    // POI: keepalive and X2 SIP coalesced in one segment
    let f = conn.send(true, &[sent[0].bytes.as_slice(), &sent[1].bytes].concat());
    placed.extend([(0, true, f), (1, true, f)]);
    // MDF: keepalive ack
    let f = conn.send(false, &sent[2].bytes);
    placed.push((2, false, f));
    // POI: X2 RADIUS with every attribute type
    let f = conn.send(true, &sent[3].bytes);
    placed.push((3, true, f));
    // POI: X3 IPv4, then the X3 IPv6 split across two segments inside its payload
    let split = sent[5].pdu.header_len() + 30;
    let (head, tail) = sent[5].bytes.split_at(split);
    let f = conn.send(true, &[sent[4].bytes.as_slice(), head].concat());
    placed.extend([(4, true, f), (5, true, f)]);
    tails.push(conn.send(true, tail));
    // POI: X3 IPv4 from the hot-path encoder
    let f = conn.send(true, &sent[6].bytes);
    placed.push((6, true, f));
    // POI: our X2 SIP Message, then our X3 RTP and RTCP Packets coalesced in one segment
    let f = conn.send(true, &sent[7].bytes);
    placed.push((7, true, f));
    let f = conn.send(true, &[sent[8].bytes.as_slice(), &sent[9].bytes].concat());
    placed.extend([(8, true, f), (9, true, f)]);
    // MDF: acknowledges everything
    conn.ack(false);

    std::fs::write(path, &conn.pcap)?;
    let json_path = path.with_extension("json");
    let pdus: Vec<Value> = placed
        .iter()
        .map(|&(i, from_poi, frame)| {
            let s = &sent[i];
            json!({
                "frame": frame,
                "flow": flow_name(from_poi),
                "split": i == 5,
                "payload_protocol": s.payload_protocol,
                "pdu": pdu_json(&s.pdu),
            })
        })
        .collect();
    let doc = json!({
        "pcap": path.display().to_string(),
        "port": PORT,
        "pdus": pdus,
        "tail_frames": tails,
        "stream": {
            flow_name(true): hex(&conn.stream[0]),
            flow_name(false): hex(&conn.stream[1]),
        },
    });
    std::fs::write(&json_path, serde_json::to_string_pretty(&doc)? + "\n")?;
    Ok(sent.len())
}

/// `x2x3-pcap-from RAW OUT.pcap`: the PDUs of a raw X2/X3 stream (as the mediator's
/// `x2x3_raw_copy` records what the probes sent) laid out as a POI -> MDF TCP connection, one
/// PDU per segment, with OUT.json for `check_x2x3.py ours` (no PDU split across segments).
fn write_pcap_from(raw: &Path, path: &Path) -> Result<usize, Error> {
    let data = std::fs::read(raw)?;
    let mut rest = &data[..];
    let mut conn = Connection::new();
    conn.handshake();
    let mut pdus = Vec::new();
    while !rest.is_empty() {
        let len = frame_len(rest, DEFAULT_MAX_PDU_LEN)?
            .ok_or_else(|| format!("{}: truncated PDU at the end", raw.display()))?;
        let (bytes, tail) = rest.split_at(len);
        let (pdu, _) = Pdu::decode(bytes)?;
        let frame = conn.send(true, bytes);
        let payload_protocol = payload_protocol(&pdu);
        pdus.push(json!({
            "frame": frame,
            "flow": flow_name(true),
            "split": false,
            "payload_protocol": payload_protocol,
            "pdu": pdu_json(&pdu),
        }));
        rest = tail;
    }
    conn.ack(false);
    std::fs::write(path, &conn.pcap)?;
    let doc = json!({
        "pcap": path.display().to_string(),
        "port": PORT,
        "pdus": pdus,
        "tail_frames": [],
        "stream": {
            flow_name(true): hex(&conn.stream[0]),
            flow_name(false): hex(&conn.stream[1]),
        },
    });
    std::fs::write(
        path.with_extension("json"),
        serde_json::to_string_pretty(&doc)? + "\n",
    )?;
    Ok(pdus.len())
}

/// The sub-protocol tshark must dissect a PDU's payload as: IP for IP packets, SIP for SIP
/// messages, RTP or RTCP for a call's media (as the contract's "media stream" attribute
/// says).
fn payload_protocol(pdu: &Pdu) -> Option<&'static str> {
    match pdu.payload_format {
        PayloadFormat::Ipv4Packet => Some("ip"),
        PayloadFormat::Ipv6Packet => Some("ipv6"),
        PayloadFormat::SipMessage => Some("sip"),
        PayloadFormat::RtpPacket => match contract::content(pdu) {
            Ok(contract::Content::Media { flow, .. })
                if flow.protocol == li_core::MediaProtocol::Rtcp =>
            {
                Some("rtcp")
            }
            _ => Some("rtp"),
        },
        _ => None,
    }
}

fn flow_name(from_poi: bool) -> String {
    let ((_, a, ap), (_, b, bp)) = if from_poi { (POI, MDF) } else { (MDF, POI) };
    format!("{a}:{ap}->{b}:{bp}")
}

fn ts(offset: u32, nanos: u32) -> PduTimestamp {
    PduTimestamp::new(BASE_SECS + offset, nanos)
}

fn pdus() -> Result<Vec<Sent>, Error> {
    let xid: Xid = "2b36a78b-b628-416d-bd22-65e63691aeb6".parse()?;
    let other_xid: Xid = "6ba7b810-9dad-11d1-80b4-00c04fd430c8".parse()?;
    let did: Xid = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6".parse()?;
    let v4 = |a, b, c, d| Ipv4Addr::new(a, b, c, d);
    let alice6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0x85a3, 0, 0, 0x8a2e, 0x370);
    let server6 = Ipv6Addr::new(0x2001, 0xdb8, 0xbeef, 0, 0, 0, 0, 1);

    let mut out = Vec::new();
    let mut push = |pdu: Pdu, payload_protocol| -> Result<(), Error> {
        let bytes = pdu.encode()?;
        out.push(Sent {
            pdu,
            bytes,
            payload_protocol,
        });
        Ok(())
    };

    // 0: keepalive
    push(Pdu::keepalive(1), None)?;

    // 1: X2 SIP INVITE with SDP
    let mut sip = Pdu::new(
        PduType::X2,
        PayloadFormat::SipMessage,
        PayloadDirection::FromTarget,
        xid,
    );
    sip.correlation_id = [0, 0, 0, 0, 0, 0, 0, 1];
    sip.attributes = vec![
        Attribute::SequenceNumber(0x0001_0002),
        Attribute::Timestamp(ts(1, 123_456_789)),
        Attribute::SourceIpv4(v4(192, 0, 2, 10)),
        Attribute::DestinationIpv4(v4(198, 51, 100, 20)),
        Attribute::SourcePort(5060),
        Attribute::DestinationPort(5061),
        Attribute::IpProtocol(17),
        Attribute::MatchedTargetIdentifier("sip:alice@example.com".into()),
        Attribute::OtherTargetIdentifier("tel:+4930123456".into()),
    ];
    sip.payload = sip_invite().into();
    push(sip, Some("sip"))?;

    // 2: keepalive acknowledgement, from the MDF
    push(Pdu::keepalive_ack(1), None)?;

    // 3: X2 RADIUS Accounting-Request with every attribute type of clause 5.3 and one unknown
    let mut radius = Pdu::new(
        PduType::X2,
        PayloadFormat::RadiusPacket,
        PayloadDirection::ToTarget,
        other_xid,
    );
    radius.correlation_id = *b"RADIUS01";
    radius.attributes = vec![
        Attribute::Etsi102232Attribute(vec![0x30, 0x03, 0x80, 0x01, 0x01]),
        Attribute::Tgpp33128Attribute(vec![0xa0, 0x00]),
        Attribute::Tgpp33108Attribute(vec![0x04, 0x01, 0x33]),
        Attribute::ProprietaryAttribute(b"vendor-x".to_vec()),
        Attribute::DomainId(did.as_bytes().to_vec()),
        Attribute::NetworkFunctionId(b"bras-berlin-1".to_vec()),
        Attribute::InterceptionPointId(b"ipid:eth0/1".to_vec()),
        Attribute::SequenceNumber(3),
        Attribute::Timestamp(ts(2, 0)),
        Attribute::SourceIpv4(v4(192, 0, 2, 1)),
        Attribute::DestinationIpv4(v4(192, 0, 2, 2)),
        Attribute::SourceIpv6(alice6),
        Attribute::DestinationIpv6(server6),
        Attribute::SourcePort(32768),
        Attribute::DestinationPort(1813),
        Attribute::IpProtocol(17),
        Attribute::MatchedTargetIdentifier("alice@isp.example".into()),
        Attribute::OtherTargetIdentifier("imsi-262011234567890".into()),
        Attribute::MimeContentType("application/octet-stream".into()),
        Attribute::MimeContentTransferEncoding("binary".into()),
        Attribute::AdditionalXidRelatedInformation(vec![1, 2, 3, 4]),
        Attribute::SdpSessionDescription("v=0\r\ns=-\r\n".into()),
        Attribute::Unknown {
            attr_type: 0x8001,
            value: b"from a newer POI".to_vec(),
        },
    ];
    radius.payload = radius_accounting_request().into();
    push(radius, Some("radius"))?;

    // 4: X3 IPv4/UDP/RTP
    let mut cc4 = Pdu::new(
        PduType::X3,
        PayloadFormat::Ipv4Packet,
        PayloadDirection::FromTarget,
        xid,
    );
    cc4.correlation_id = [0, 0, 0, 0, 0, 0, 0, 1];
    cc4.attributes = vec![
        Attribute::SequenceNumber(4),
        Attribute::Timestamp(ts(3, 999_999_999)),
        Attribute::SourceIpv4(v4(192, 0, 2, 10)),
        Attribute::DestinationIpv4(v4(198, 51, 100, 20)),
        Attribute::SourcePort(49170),
        Attribute::DestinationPort(50010),
        Attribute::IpProtocol(17),
        Attribute::MatchedTargetIdentifier("sip:alice@example.com".into()),
        Attribute::DomainId(did.as_bytes().to_vec()),
        Attribute::NetworkFunctionId(b"sbc-1".to_vec()),
        Attribute::InterceptionPointId(b"media-0".to_vec()),
    ];
    cc4.payload = ipv4_udp(
        [192, 0, 2, 10],
        [198, 51, 100, 20],
        49170,
        50010,
        &rtp(1, 160),
    )
    .into();
    push(cc4, Some("ip"))?;

    // 5: X3 IPv6/UDP (split across two segments), the largest sequence number
    let mut cc6 = Pdu::new(
        PduType::X3,
        PayloadFormat::Ipv6Packet,
        PayloadDirection::ToTarget,
        xid,
    );
    cc6.correlation_id = [0xff; 8];
    cc6.attributes = vec![
        Attribute::SequenceNumber(u32::MAX),
        Attribute::Timestamp(ts(4, 500)),
        Attribute::SourceIpv6(server6),
        Attribute::DestinationIpv6(alice6),
        Attribute::SourcePort(443),
        Attribute::DestinationPort(51000),
        Attribute::IpProtocol(17),
        Attribute::MatchedTargetIdentifier("alice@isp.example".into()),
        Attribute::OtherTargetIdentifier("2001:db8::/32".into()),
    ];
    cc6.payload = ipv6_udp(server6, alice6, 443, 51000, &[0x5a; 100]).into();
    push(cc6, Some("ipv6"))?;

    // 6: X3 IPv4 from the hot-path encoder (sequence number and timestamp only)
    let packet = ipv4_udp(
        [198, 51, 100, 20],
        [192, 0, 2, 10],
        50010,
        49170,
        &rtp(2, 20),
    );
    let mut bytes = Vec::new();
    X3IpPacketEncoder::new(xid, [0, 0, 0, 0, 0, 0, 0, 1]).encode(
        &mut bytes,
        5,
        ts(5, 42),
        PayloadDirection::ToTarget,
        &packet,
    )?;
    let (hot, _) = Pdu::decode(&bytes)?;
    if hot.encode()? != bytes {
        return Err("hot-path PDU does not re-encode to the same octets".into());
    }
    push(hot, Some("ip"))?;

    // 7..9: the voice PDUs exactly as our contract writes them (li_handover::x2x3::contract):
    // SIP Message with the flow attributes and the "IRI type" Proprietary Attribute, RTP
    // Packet with the flow attributes and the "media stream" Proprietary Attribute.
    let cin = li_core::Cin::new(0x0102_0304);
    let ours = |pdu: Pdu| -> Result<Pdu, Error> {
        // through the wire: what a receiver (and tshark) sees
        let (decoded, used) = Pdu::decode(&pdu.encode()?)?;
        if used != pdu.encoded_len() || decoded != pdu {
            return Err("contract PDU does not decode to itself".into());
        }
        Ok(decoded)
    };
    // 7: X2 SIP Message of a call over IPv6, IRI-Begin
    let sip = li_core::SipEvent {
        source: std::net::SocketAddr::new(alice6.into(), 5060),
        destination: std::net::SocketAddr::new(server6.into(), 5062),
        message: sip_invite().into(),
    };
    let pdu = contract::sip_pdu(xid, cin, 6, ts(6, 1), li_core::IriType::Begin, &sip);
    push(ours(pdu)?, Some("sip"))?;

    // 8: X3 RTP Packet (IPv4 flow, RTP of stream 0) from the pre-encoded media encoder
    let flow = li_core::MediaFlow {
        source: "192.0.2.10:49170".parse()?,
        destination: "198.51.100.20:50010".parse()?,
        protocol: li_core::MediaProtocol::Rtp,
        stream: 0,
    };
    let direction = li_core::PayloadDirection::FromTarget;
    let packet = rtp(3, 160);
    let mut bytes = Vec::new();
    contract::media_encoder(xid, cin, direction, &flow)?.encode(
        &mut bytes,
        7,
        ts(7, 20_000_000),
        &packet,
    )?;
    let (media, _) = Pdu::decode(&bytes)?;
    let general = contract::media_pdu(
        xid,
        cin,
        7,
        ts(7, 20_000_000),
        direction,
        &flow,
        packet.into(),
    );
    if general.encode()? != bytes {
        return Err("media encoder PDU differs from contract::media_pdu".into());
    }
    push(media, Some("rtp"))?;

    // 9: X3 RTP Packet carrying RTCP (IPv6 flow, stream 1), to the target
    let flow = li_core::MediaFlow {
        source: std::net::SocketAddr::new(server6.into(), 50011),
        destination: std::net::SocketAddr::new(alice6.into(), 49171),
        protocol: li_core::MediaProtocol::Rtcp,
        stream: 1,
    };
    let pdu = contract::media_pdu(
        xid,
        cin,
        8,
        ts(8, 999_999_999),
        li_core::PayloadDirection::ToTarget,
        &flow,
        rtcp_sender_report().into(),
    );
    push(ours(pdu)?, Some("rtcp"))?;

    Ok(out)
}

/// An RTCP sender report (RFC 3550 6.4.1) without report blocks.
fn rtcp_sender_report() -> Vec<u8> {
    let mut p = vec![0x80, 200, 0, 6];
    p.extend_from_slice(&0xdead_beef_u32.to_be_bytes()); // SSRC
    p.extend_from_slice(&[0xe9, 0x3c, 0x2d, 0x65, 0x80, 0, 0, 0]); // NTP timestamp
    p.extend_from_slice(&480_u32.to_be_bytes()); // RTP timestamp
    p.extend_from_slice(&3_u32.to_be_bytes()); // packet count
    p.extend_from_slice(&516_u32.to_be_bytes()); // octet count
    p
}

fn sip_invite() -> Vec<u8> {
    let sdp = "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n\
               m=audio 49170 RTP/AVP 0\r\n";
    format!(
        "INVITE sip:bob@example.net SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@example.com>;tag=1928301774\r\n\
         To: <sip:bob@example.net>\r\n\
         Call-ID: a84b4c76e66710@pc33.example.com\r\n\
         CSeq: 314159 INVITE\r\n\
         Contact: <sip:alice@192.0.2.10>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

fn radius_accounting_request() -> Vec<u8> {
    let mut avps = Vec::new();
    let mut avp = |t: u8, v: &[u8]| {
        avps.push(t);
        avps.push(u8::try_from(v.len() + 2).unwrap_or(u8::MAX));
        avps.extend_from_slice(v);
    };
    avp(40, &1u32.to_be_bytes()); // Acct-Status-Type Start
    avp(1, b"alice@isp.example"); // User-Name
    avp(8, &[198, 51, 100, 7]); // Framed-IP-Address
    avp(44, b"acct-42"); // Acct-Session-Id
    avp(4, &[192, 0, 2, 1]); // NAS-IP-Address
    let len = u16::try_from(20 + avps.len()).unwrap_or(u16::MAX);
    let mut p = vec![4, 7]; // Accounting-Request, identifier 7
    p.extend_from_slice(&len.to_be_bytes());
    p.extend_from_slice(&[0x11; 16]); // authenticator (not computed: no shared secret here)
    p.extend(avps);
    p
}

fn rtp(seq: u16, payload_len: usize) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&0xdead_beef_u32.to_be_bytes());
    p.extend((0..payload_len).map(|i| (i % 251) as u8));
    p
}

fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut udp = udp_header(sport, dport, data);
    udp.extend_from_slice(data);
    ipv4(src, dst, 17, 0x1234, &udp)
}

fn ipv6_udp(src: Ipv6Addr, dst: Ipv6Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut udp = udp_header(sport, dport, data);
    udp.extend_from_slice(data);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src.octets());
    pseudo.extend_from_slice(&dst.octets());
    pseudo.extend_from_slice(&(udp.len() as u32).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 17]);
    pseudo.extend_from_slice(&udp);
    let sum = internet_checksum(0, &pseudo);
    udp[6..8].copy_from_slice(&(if sum == 0 { 0xffff } else { sum }).to_be_bytes());
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(udp.len() as u16).to_be_bytes());
    p.extend_from_slice(&[17, 64]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend(udp);
    p
}

/// A UDP header with checksum 0 (none, allowed over IPv4; filled in for IPv6).
fn udp_header(sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(8 + data.len());
    h.extend_from_slice(&sport.to_be_bytes());
    h.extend_from_slice(&dport.to_be_bytes());
    h.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    h.extend_from_slice(&[0, 0]);
    h
}

/// An IPv4 header (20 octets, checksum computed) followed by `payload`.
fn ipv4(src: [u8; 4], dst: [u8; 4], protocol: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    h.extend_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&[0x40, 0, 64, protocol, 0, 0]); // DF, TTL 64
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let sum = internet_checksum(0, &h);
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// One TCP connection POI <-> MDF written as a classic pcap, with correct sequence and
/// acknowledgement numbers.
struct Connection {
    pcap: Vec<u8>,
    /// Next sequence number to send: [POI, MDF].
    next_seq: [u32; 2],
    /// Payload octets sent: [POI, MDF].
    stream: [Vec<u8>; 2],
    frames: u32,
    ip_id: u16,
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;

impl Connection {
    fn new() -> Self {
        let mut header = li_core::pcap::FileHeader::micros(1); // LINKTYPE_ETHERNET
        header.snaplen = 65535;
        let pcap = header.to_bytes(false).to_vec();
        Self {
            pcap,
            next_seq: [1_000_000, 3_000_000_000],
            stream: [Vec::new(), Vec::new()],
            frames: 0,
            ip_id: 1,
        }
    }

    fn handshake(&mut self) {
        self.segment(true, SYN, &[]);
        self.next_seq[0] = self.next_seq[0].wrapping_add(1);
        self.segment(false, SYN | ACK, &[]);
        self.next_seq[1] = self.next_seq[1].wrapping_add(1);
        self.segment(true, ACK, &[]);
    }

    /// Sends `data` in one segment; returns its frame number (1-based).
    fn send(&mut self, from_poi: bool, data: &[u8]) -> u32 {
        let frame = self.segment(from_poi, PSH | ACK, data);
        let i = usize::from(!from_poi);
        self.next_seq[i] = self.next_seq[i].wrapping_add(data.len() as u32);
        self.stream[i].extend_from_slice(data);
        frame
    }

    fn ack(&mut self, from_poi: bool) -> u32 {
        self.segment(from_poi, ACK, &[])
    }

    fn segment(&mut self, from_poi: bool, flags: u8, data: &[u8]) -> u32 {
        let (src, dst) = if from_poi { (POI, MDF) } else { (MDF, POI) };
        let (seq, ack) = if from_poi {
            (self.next_seq[0], self.next_seq[1])
        } else {
            (self.next_seq[1], self.next_seq[0])
        };
        let ack = if flags & ACK != 0 { ack } else { 0 };
        let mut tcp = Vec::with_capacity(20 + data.len());
        tcp.extend_from_slice(&src.2.to_be_bytes());
        tcp.extend_from_slice(&dst.2.to_be_bytes());
        tcp.extend_from_slice(&seq.to_be_bytes());
        tcp.extend_from_slice(&ack.to_be_bytes());
        tcp.extend_from_slice(&[0x50, flags]);
        tcp.extend_from_slice(&65535u16.to_be_bytes());
        tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
        tcp.extend_from_slice(data);
        let mut pseudo = Vec::with_capacity(12 + tcp.len());
        pseudo.extend_from_slice(&src.1.octets());
        pseudo.extend_from_slice(&dst.1.octets());
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
        pseudo.extend_from_slice(&tcp);
        let sum = internet_checksum(0, &pseudo);
        tcp[16..18].copy_from_slice(&sum.to_be_bytes());
        let ip = ipv4(src.1.octets(), dst.1.octets(), 6, self.ip_id, &tcp);
        self.ip_id = self.ip_id.wrapping_add(1);
        let mut frame = Vec::with_capacity(14 + ip.len());
        frame.extend_from_slice(&dst.0);
        frame.extend_from_slice(&src.0);
        frame.extend_from_slice(&0x0800u16.to_be_bytes());
        frame.extend(ip);

        self.frames += 1;
        let time = li_core::Timestamp::from_secs_micros(u64::from(BASE_SECS + self.frames), 0)
            .expect("a time of 2024");
        let record = li_core::pcap::RecordHeader::new(time, false, frame.len(), frame.len())
            .expect("a frame the format holds");
        self.pcap.extend_from_slice(&record.to_bytes(false));
        self.pcap.extend(frame);
        self.frames
    }
}

// ------------------------------------------------------------------ x2x3-decode

fn decode(files: &[String]) -> ExitCode {
    let mut ok = true;
    for f in files {
        match decode_file(Path::new(f)) {
            Ok(lines) => {
                for (line, good) in lines {
                    ok &= good;
                    let mut line = line;
                    line["file"] = f.as_str().into();
                    println!("{line}");
                }
            }
            Err(e) => {
                ok = false;
                println!("{}", json!({ "file": f, "error": e.to_string() }));
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One direction of a TCP connection as reassembled so far.
#[derive(Default)]
struct Flow {
    next_seq: Option<u32>,
    /// Octets not yet taken out as PDUs, with the frame each run of octets came in.
    buf: Vec<u8>,
    frames: Vec<(usize, u32)>, // (offset in buf where the frame's octets start, frame)
    broken: bool,
}

/// The JSON lines for every PDU (and error) of a pcap, with whether each was a success.
fn decode_file(path: &Path) -> Result<Vec<(Value, bool)>, Error> {
    let data = std::fs::read(path)?;
    let mut out = Vec::new();
    let mut flows: BTreeMap<String, Flow> = BTreeMap::new();
    for (frame, packet) in pcap_records(&data)? {
        let Some(seg) = tcp_segment(packet) else {
            continue;
        };
        if seg.sport != PORT && seg.dport != PORT {
            continue;
        }
        let name = format!("{}:{}->{}:{}", seg.src, seg.sport, seg.dst, seg.dport);
        let flow = flows.entry(name.clone()).or_default();
        if seg.syn {
            flow.next_seq = Some(seg.seq.wrapping_add(1));
            continue;
        }
        if seg.payload.is_empty() || flow.broken {
            continue;
        }
        let expected = *flow.next_seq.get_or_insert(seg.seq);
        // skip what was already received (retransmission), refuse gaps
        let behind = expected.wrapping_sub(seg.seq) as usize;
        if seg.seq != expected && behind > seg.payload.len() {
            flow.broken = true;
            out.push((
                json!({ "frame": frame, "flow": name, "error": format!("sequence gap: expected {expected}, got {}", seg.seq) }),
                false,
            ));
            continue;
        }
        let fresh = seg
            .payload
            .get(behind.min(seg.payload.len())..)
            .unwrap_or_default();
        if fresh.is_empty() {
            continue;
        }
        flow.frames.push((flow.buf.len(), frame));
        flow.buf.extend_from_slice(fresh);
        flow.next_seq = Some(expected.wrapping_add(fresh.len() as u32));
        loop {
            match frame_len(&flow.buf, DEFAULT_MAX_PDU_LEN) {
                Ok(None) => break,
                Ok(Some(n)) => {
                    let start_frame = flow.frames.first().map_or(frame, |&(_, f)| f);
                    let line = match Pdu::decode(&flow.buf[..n]) {
                        Ok((pdu, _)) => (
                            json!({ "frame": start_frame, "flow": name, "pdu": pdu_json(&pdu) }),
                            true,
                        ),
                        Err(e) => (
                            json!({ "frame": start_frame, "flow": name, "error": e.to_string() }),
                            false,
                        ),
                    };
                    out.push(line);
                    flow.buf.drain(..n);
                    // rebase the frame map: the remaining octets start in the last frame
                    // that began at or before octet n
                    let mut frames: Vec<(usize, u32)> = Vec::new();
                    for &(off, f) in &flow.frames {
                        if off <= n {
                            frames.clear();
                            frames.push((0, f));
                        } else {
                            frames.push((off - n, f));
                        }
                    }
                    flow.frames = if flow.buf.is_empty() {
                        Vec::new()
                    } else {
                        frames
                    };
                }
                Err(e) => {
                    flow.broken = true;
                    out.push((
                        json!({ "frame": frame, "flow": name, "error": e.to_string() }),
                        false,
                    ));
                    break;
                }
            }
        }
    }
    for (name, flow) in &flows {
        if !flow.buf.is_empty() && !flow.broken {
            out.push((
                json!({ "flow": name, "error": format!("{} octets of an incomplete PDU at the end", flow.buf.len()) }),
                false,
            ));
        }
    }
    Ok(out)
}

/// The records of a classic pcap (either byte order, micro- or nanosecond) on Ethernet:
/// (frame number from 1, frame octets).
fn pcap_records(data: &[u8]) -> Result<Vec<(u32, &[u8])>, Error> {
    let magic = data.get(..4).ok_or("not a pcap: shorter than its magic")?;
    let le = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return Err("not a classic pcap (pcapng is not read here)".into()),
    };
    let u32_at = |at: usize| -> Result<u32, Error> {
        let b: [u8; 4] = data.get(at..at + 4).ok_or("truncated pcap")?.try_into()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    if u32_at(20)? != 1 {
        return Err("pcap link type is not Ethernet".into());
    }
    let mut records = Vec::new();
    let mut at = 24;
    let mut number = 0;
    while at < data.len() {
        let caplen = u32_at(at + 8)? as usize;
        let frame = data
            .get(at + 16..at + 16 + caplen)
            .ok_or("truncated pcap record")?;
        number += 1;
        records.push((number, frame));
        at += 16 + caplen;
    }
    Ok(records)
}

struct Segment<'a> {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    seq: u32,
    syn: bool,
    payload: &'a [u8],
}

/// Ethernet / IPv4 / TCP, or `None` for anything else.
fn tcp_segment(frame: &[u8]) -> Option<Segment<'_>> {
    if frame.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let ip = frame.get(14..)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes(ip.get(2..4)?.try_into().ok()?));
    if *ip.get(9)? != 6 {
        return None;
    }
    let ip = ip.get(..total)?;
    let src = Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(12..16)?).ok()?);
    let dst = Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(16..20)?).ok()?);
    let tcp = ip.get(ihl..)?;
    let offset = usize::from(tcp.get(12)? >> 4) * 4;
    Some(Segment {
        src,
        dst,
        sport: u16::from_be_bytes(tcp.get(0..2)?.try_into().ok()?),
        dport: u16::from_be_bytes(tcp.get(2..4)?.try_into().ok()?),
        seq: u32::from_be_bytes(tcp.get(4..8)?.try_into().ok()?),
        syn: tcp.get(13)? & SYN != 0,
        payload: tcp.get(offset..)?,
    })
}

// ------------------------------------------------------------------ JSON

/// A PDU as JSON: header fields as numbers, XID as a UUID, octets as lowercase hex, each
/// attribute with its type, length, value octets and (where typed) value.
fn pdu_json(pdu: &Pdu) -> Value {
    let attributes: Vec<Value> = pdu
        .attributes
        .iter()
        .map(|a| {
            let mut value_octets = Vec::new();
            // encode_into writes type and length first: strip them
            let _ = a.encode_into(&mut value_octets);
            let mut v = json!({
                "type": a.attr_type(),
                "name": a.name(),
                "length": a.value_len(),
                "hex": hex(value_octets.get(4..).unwrap_or_default()),
            });
            let typed = match a {
                Attribute::SequenceNumber(n) => Some(json!(n)),
                Attribute::Timestamp(t) => Some(json!({ "secs": t.secs, "nanos": t.nanos })),
                Attribute::SourceIpv4(x) | Attribute::DestinationIpv4(x) => {
                    Some(json!(x.to_string()))
                }
                Attribute::SourceIpv6(x) | Attribute::DestinationIpv6(x) => {
                    Some(json!(x.to_string()))
                }
                Attribute::SourcePort(p) | Attribute::DestinationPort(p) => Some(json!(p)),
                Attribute::IpProtocol(p) => Some(json!(p)),
                Attribute::MatchedTargetIdentifier(s)
                | Attribute::OtherTargetIdentifier(s)
                | Attribute::MimeContentType(s)
                | Attribute::MimeContentTransferEncoding(s)
                | Attribute::SdpSessionDescription(s) => Some(json!(s)),
                _ => None,
            };
            if let Some(t) = typed {
                v["value"] = t;
            }
            v
        })
        .collect();
    json!({
        "version": pdu.version,
        "pdu_type": u16::from(pdu.pdu_type),
        "header_length": pdu.header_len(),
        "payload_length": pdu.payload.len(),
        "payload_format": u16::from(pdu.payload_format),
        "payload_direction": u16::from(pdu.payload_direction),
        "xid": pdu.xid.to_string(),
        "correlation_id": hex(&pdu.correlation_id),
        "attributes": attributes,
        "payload": hex(&pdu.payload),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
