//! Conformance harness (see conformance/README.md).
//!
//! `encode OUTDIR`  writes every PDU kind we encode as NAME.ber, with NAME.json holding the
//!                  value we meant, in pycrate's value shape; a stream of PDUs gets NAME.jsonl.
//! `decode FILE...` decodes each file with our tolerant reader and prints one JSON line per
//!                  PDU: {"file", "value"} or {"file", "error"}.
//! `x1-*`           X1 documents for XSD validation (see x1.rs).
//! `atis-ias-encode OUTDIR`
//!                  ATIS-1000013 messages, one folder per decoder family (see atis.rs).
//! `atis-split OUTDIR RAW...`
//!                  an agency's received ATIS-1000013 streams cut into their messages, one
//!                  folder per decoder family (see atis_stream.rs).
//! `pcesp-encode OUTDIR`, `pcesp-tshark OUTDIR`, `pcesp-chain LEMFDIR OUTDIR`
//!                  PacketCable CdcPdus for pycrate and CCC datagrams for tshark (see
//!                  packetcable.rs).
//! `atis-laes-encode OUTDIR`
//!                  ATIS-1000678 messages and CC-APDUs, one folder per decoder family
//!                  (see atis/laes.rs).

mod atis;
mod atis_stream;
mod ipmm;
mod json;
mod packetcable;
mod x1;
mod x2x3;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::process::ExitCode;

use li_asn1::InterceptionPointId;
use li_asn1::ipaccess::{
    AccessEventType, AuthenticationType, EndReason, FramedRoute, InternetAccessType, IpIriIdType,
    IpVersion, NationalIpIriParameters, OtherTargetIdentifier, ipiri_obj_id,
};
use li_asn1::pdu::{
    CheckType, DataType, HashAlgorithm, IntegrityCheck, IpAddress, IpAssignment, IpType, IpValue,
    MicroSecondTimeStamp, OperatorLeaMessage, OperatorLeaMessagePriority, PduOption,
    TimeStampQualifier,
};
use li_asn1::{
    CcEncoder, GeneralizedTime, HeaderSettings, IpIri, IpIriContents, IriContents, IriPayload,
    IriType, Payload, PayloadDirection, PsPdu, TimestampForm, TriPayload,
};
use li_core::{
    AccessEvent, Cin, IpPrefix, IriEvent, IriRecord, Liid, NetworkElementId, OperatorId, Timestamp,
    Xid,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((cmd, rest)) if cmd == "encode" && rest.len() == 1 => {
            match encode(Path::new(&rest[0])) {
                Ok(n) => {
                    eprintln!("li-conformance: wrote {n} vectors to {}", rest[0]);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("li-conformance: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some((cmd, files)) if cmd == "decode" && !files.is_empty() => decode(files),
        Some((cmd, rest)) if cmd == "ipmm-encode" && rest.len() == 1 => {
            match ipmm::encode(Path::new(&rest[0])) {
                Ok(n) => {
                    eprintln!("li-conformance: wrote {n} IPMM vectors to {}", rest[0]);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("li-conformance: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some((cmd, rest)) if cmd == "atis-laes-encode" && rest.len() == 1 => {
            match atis::laes::encode(Path::new(&rest[0])) {
                Ok(n) => {
                    eprintln!(
                        "li-conformance: wrote {n} ATIS-1000678 vectors to {}",
                        rest[0]
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("li-conformance: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some((cmd, rest)) if cmd == "atis-ias-encode" && rest.len() == 1 => {
            match atis::encode(Path::new(&rest[0])) {
                Ok(n) => {
                    eprintln!(
                        "li-conformance: wrote {n} ATIS-1000013 vectors to {}",
                        rest[0]
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("li-conformance: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some((cmd, rest)) if cmd == "atis-split" && rest.len() >= 2 => {
            let (dir, raws) = rest.split_at(1);
            match atis_stream::split(Path::new(&dir[0]), raws) {
                Ok(n) => {
                    eprintln!(
                        "li-conformance: {n} ATIS-1000013 messages split into {}",
                        dir[0]
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("li-conformance: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some((cmd, rest)) if cmd.starts_with("x2x3-") => x2x3::main(cmd, rest),
        Some((cmd, rest)) if cmd.starts_with("x1-") => x1::main(cmd, rest),
        Some((cmd, rest)) if cmd.starts_with("pcesp-") => packetcable::main(cmd, rest),
        _ => {
            eprintln!("usage: li-conformance encode OUTDIR | decode FILE...");
            ExitCode::from(2)
        }
    }
}

fn decode(files: &[String]) -> ExitCode {
    let mut ok = true;
    for f in files {
        let data = match std::fs::read(f) {
            Ok(d) => d,
            Err(e) => {
                ok = false;
                println!(
                    "{}",
                    serde_json::json!({ "file": f, "error": e.to_string() })
                );
                continue;
            }
        };
        let mut rest = &data[..];
        let mut index = 0;
        let multi = count_pdus(&data) > 1;
        while !rest.is_empty() {
            match PsPdu::decode_prefix(rest) {
                Ok((pdu, used)) => {
                    let mut line = serde_json::json!({ "file": f, "value": json::pdu(&pdu) });
                    if multi {
                        line["index"] = index.into();
                    }
                    println!("{line}");
                    rest = &rest[used..];
                    index += 1;
                }
                Err(e) => {
                    ok = false;
                    println!(
                        "{}",
                        serde_json::json!({ "file": f, "index": index, "error": e.to_string() })
                    );
                    break;
                }
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn count_pdus(data: &[u8]) -> usize {
    let mut n = 0;
    let mut rest = data;
    while let Ok(Some(len)) = li_asn1::ber::frame_len(rest, usize::MAX) {
        n += 1;
        rest = &rest[len..];
    }
    n
}

fn write(dir: &Path, name: &str, pdus: &[(Vec<u8>, PsPdu)]) -> std::io::Result<()> {
    let ber: Vec<u8> = pdus.iter().flat_map(|(b, _)| b.iter().copied()).collect();
    std::fs::write(dir.join(format!("{name}.ber")), ber)?;
    let lines: Vec<String> = pdus.iter().map(|(_, p)| json::pdu(p).to_string()).collect();
    let ext = if pdus.len() == 1 { "json" } else { "jsonl" };
    std::fs::write(dir.join(format!("{name}.{ext}")), lines.join("\n") + "\n")
}

fn time(s: u64, us: u32) -> Timestamp {
    Timestamp::from_secs_micros(s, us).expect("valid time")
}

fn settings() -> HeaderSettings {
    let mut s = HeaderSettings::new(
        Liid::new(b"LIID-CONF-01").expect("liid"),
        OperatorId::new(b"OPERATOR-1").expect("operator"),
    );
    s.network_element_identifier = Some(NetworkElementId::new(b"NE-BRAS-0001").expect("ne"));
    s.authorization_country_code = Some("DE".parse().unwrap());
    s.delivery_country_code = Some("FR".parse().unwrap());
    s.interception_point_id = InterceptionPointId::new("IPT-01");
    s
}

fn packet(len: usize) -> Vec<u8> {
    let mut p = vec![
        0x45,
        0x00,
        (len >> 8) as u8,
        len as u8,
        0x12,
        0x34,
        0x40,
        0x00,
        0x40,
        0x11,
        0,
        0,
    ];
    p.extend_from_slice(&[192, 0, 2, 10, 198, 51, 100, 20]);
    p.extend((p.len()..len).map(|i| (i * 7) as u8));
    p.truncate(len);
    p
}

fn one(pdu: PsPdu) -> Vec<(Vec<u8>, PsPdu)> {
    vec![(pdu.encode(), pdu)]
}

fn ip(addr: IpAddr) -> IpAddress {
    IpAddress::from_ip(addr)
}

fn encode(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut n = 0;
    let mut emit = |name: &str, pdus: Vec<(Vec<u8>, PsPdu)>| -> std::io::Result<()> {
        n += 1;
        write(dir, name, &pdus)
    };
    let t = time(1_704_164_645, 678_901);
    let s = settings();

    // CC through the hot-path encoder, each timestamp form and an older module version.
    for (name, form, len) in [
        ("ours-cc-hot-64-both", TimestampForm::Both, 64),
        ("ours-cc-hot-1400-both", TimestampForm::Both, 1400),
        ("ours-cc-hot-200-gtime", TimestampForm::GeneralizedTime, 200),
        ("ours-cc-hot-200-usec", TimestampForm::MicroSecond, 200),
    ] {
        let mut s = s.clone();
        s.timestamp_form = form;
        let enc = CcEncoder::new(&s, Cin::new(4_000_000_000));
        let mut out = Vec::new();
        let p = packet(len);
        enc.encode(u32::MAX, t, PayloadDirection::ToTarget, &p, &mut out);
        let meant = s.ip_cc_pdu(
            Cin::new(4_000_000_000),
            u32::MAX,
            t,
            PayloadDirection::ToTarget,
            &p,
        );
        emit(name, vec![(out, meant)])?;
    }
    // A packet cut by the capture, through the hot-path encoder: iPTruncatedPacket.
    {
        let enc = CcEncoder::new(&s, Cin::new(5));
        let p = packet(96);
        let mut out = Vec::new();
        enc.encode_truncated(3, t, PayloadDirection::FromTarget, &p, 1500, &mut out);
        let contents = li_asn1::IpCcContents::IpTruncatedPacket {
            truncated_packet: p,
            original_length: Some(1500),
        };
        let meant = s.ip_cc_pdu_with(Cin::new(5), 3, t, PayloadDirection::FromTarget, contents);
        emit("ours-cc-hot-truncated", vec![(out, meant)])?;
    }
    let mut old = s.clone();
    old.ps_pdu_version = 38;
    old.ip_access_version = 16;
    emit(
        "ours-cc-version-38-16",
        one(old.ip_cc_pdu(
            Cin::new(1),
            0,
            time(0, 0),
            PayloadDirection::FromTarget,
            &packet(40),
        )),
    )?;

    // CC with every PSHeader and CCPayload field, several payloads, truncated packet.
    let mut pdu = s.ip_cc_pdu(Cin::new(9), 12, t, PayloadDirection::Combined, &packet(100));
    pdu.header.time_stamp_qualifier = Some(TimeStampQualifier::TimeOfInterception);
    pdu.header.extended_interception_point_id = Some(b"bras-01/port-7".to_vec());
    pdu.header.network_function_identifier = Some(b"nf:upf-0001".to_vec());
    if let Payload::CcPayloadSequence(items) = &mut pdu.payload {
        let mut second = items[0].clone();
        second.payload_direction = Some(PayloadDirection::Indeterminate);
        second.time_stamp = Some(GeneralizedTime::from_timestamp(time(1_704_164_646, 0)));
        second.micro_second_time_stamp = Some(MicroSecondTimeStamp {
            seconds: 1_704_164_646,
            micro_seconds: 5,
        });
        second.time_stamp_qualifier = Some(TimeStampQualifier::TimeOfAggregation);
        if let li_asn1::CcContents::IpCc(cc) = &mut second.cc_contents {
            cc.contents = li_asn1::IpCcContents::IpTruncatedPacket {
                truncated_packet: packet(60),
                original_length: Some(1500),
            };
        }
        items.push(second);
    }
    emit("ours-cc-all-fields", one(pdu))?;

    // IRI from neutral records: begin/continue/end/report of an access session.
    let xid = Xid::from_bytes([7; 16]);
    let mut event = AccessEvent::new(li_core::AccessEventType::AccessAccept);
    event.username = b"alice@isp.example".to_vec();
    event.access_type = li_core::InternetAccessType::Xdsl;
    event.addresses = vec![
        IpPrefix::host(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7))),
        IpPrefix::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0x42, 0, 0, 0, 0, 0)),
            56,
        )
        .expect("prefix"),
        IpPrefix::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 0)), 29).expect("prefix"),
    ];
    event.network_id = Some("00:11:22:33:44:55".into());
    event.pop_identifier = Some("bras-berlin-1".into());
    event.pop_ip_address = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    event.nas_port_id = Some(b"eth 0/1/2:100".to_vec());
    event.start_time = Some(time(1_704_164_600, 0));
    event.authentication_type = Some(li_core::AuthenticationType::RadiusAaa);
    event.raw_aaa = Some(vec![4, 1, 0, 20]);
    let records = [
        (
            li_core::IriType::Begin,
            li_core::AccessEventType::AccessAccept,
        ),
        (
            li_core::IriType::Continue,
            li_core::AccessEventType::InterimUpdate,
        ),
        (li_core::IriType::End, li_core::AccessEventType::AccessEnd),
        (
            li_core::IriType::Report,
            li_core::AccessEventType::AccessReject,
        ),
    ];
    let mut stream = Vec::new();
    for (i, (iri_type, event_type)) in records.into_iter().enumerate() {
        let mut ev = event.clone();
        ev.event_type = event_type;
        if iri_type == li_core::IriType::End {
            ev.end_time = Some(time(1_704_168_245, 120_000));
            ev.end_reason = Some(li_core::EndReason::RegularLogoff);
            ev.octets_received = Some(21_474_836_497);
            ev.octets_transmitted = Some(123_456_789);
        }
        let record = IriRecord {
            xid,
            cin: Cin::new(77),
            timestamp: time(1_704_164_645 + i as u64, 250_000),
            iri_type,
            event: IriEvent::Access(ev),
        };
        let pdu = s
            .iri_pdu(i as u32, &record)
            .expect("access events are encodable");
        let name = [
            "ours-iri-begin",
            "ours-iri-continue",
            "ours-iri-end",
            "ours-iri-report",
        ][i];
        emit(name, one(pdu.clone()))?;
        stream.push((pdu.encode(), pdu));
    }
    emit("ours-iri-session-stream", stream)?;

    // IRI with every IPIRIContents field (location is opaque and left out) and every
    // IRIPayload extension field.
    let mut c = IpIriContents::new(
        AccessEventType::StartOfInterceptionWithSessionActive,
        b"bob".to_vec(),
        InternetAccessType::WirelessLan,
        IpVersion::Ipv4AndV6,
    );
    let mut v4 = ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 77)));
    v4.ip_assignment = Some(IpAssignment::Dynamic);
    v4.ipv4_subnet_mask = Some([255, 255, 255, 248]);
    v4.ip_nat_translated = Some(false);
    c.target_ip_address = Some(v4);
    c.target_network_id = Some("aa-bb-cc-dd-ee-ff".into());
    c.target_cpe_id = Some("cpe-router-ÄBC".into());
    c.target_location = Some("ap-17".into());
    c.pop_port_number = Some(4_294_967_295);
    c.call_back_number = Some("+4930123456".into());
    c.start_time = Some(GeneralizedTime::from_timestamp(time(1_704_164_000, 0)));
    c.end_time = Some(GeneralizedTime::from_timestamp(time(
        1_704_165_000,
        500_000,
    )));
    c.end_reason = Some(EndReason::LeaseExpired);
    c.octets_received = Some(u64::MAX);
    c.octets_transmitted = Some(0);
    c.raw_aaa_data = Some(vec![1, 2, 3]);
    c.expected_end_time = GeneralizedTime::parse("20240102050407+0100");
    c.pop_phone_number = Some("+49301234".into());
    c.pop_identifier = Some(IpIriIdType::MacAddress([0, 0x11, 0x22, 0x33, 0x44, 0x55]));
    c.pop_ip_address = Some(IpAddress {
        ip_type: IpType::Ipv4,
        ip_value: IpValue::Text("198.51.100.1".into()),
        ip_assignment: Some(IpAssignment::Static),
        ipv6_prefix_length: None,
        ipv4_subnet_mask: None,
        ip_nat_translated: None,
    });
    c.national_ipiri_parameters = Some(NationalIpIriParameters {
        country_code: "DE".into(),
    });
    let mut v6 = ip(IpAddr::V6(Ipv6Addr::new(
        0x2001, 0xdb8, 0, 0x85a3, 0, 0, 0, 1,
    )));
    v6.ipv6_prefix_length = Some(64);
    v6.ip_nat_translated = Some(true);
    c.additional_ip_address = Some(v6);
    c.authentication_type = Some(AuthenticationType::DhcpAaa);
    c.other_target_identifiers = Some(vec![
        OtherTargetIdentifier::IpAddress(ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 128)))),
        OtherTargetIdentifier::IpAddress(IpAddress {
            ip_value: IpValue::Text("2001:db8:1::/48".into()),
            ..ip(IpAddr::V6(Ipv6Addr::LOCALHOST))
        }),
    ]);
    c.pop_port_id = Some(b"eth 0/1/2:100.200".to_vec());
    c.framed_routes = Some(vec![FramedRoute::FramedRoute(
        b"192.0.2.0/24 0.0.0.0 1".to_vec(),
    )]);
    for (name, id) in [
        ("ours-iri-all-fields", None),
        (
            "ours-iri-pop-printable",
            Some(IpIriIdType::Printable("pop-berlin-1".into())),
        ),
        (
            "ours-iri-pop-ip",
            Some(IpIriIdType::IpAddress(ip(IpAddr::V6(Ipv6Addr::new(
                0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x99,
            ))))),
        ),
    ] {
        let mut c = c.clone();
        if let Some(id) = id {
            c.pop_identifier = Some(id);
        }
        let mut header = s.header(Some(Cin::new(5)), 3, t);
        header.time_stamp_qualifier = Some(TimeStampQualifier::TimeOfMediation);
        emit(
            name,
            one(PsPdu {
                header,
                payload: Payload::IriPayloadSequence(vec![IriPayload {
                    iri_type: Some(IriType::Report),
                    time_stamp: Some(GeneralizedTime::from_timestamp(t)),
                    iri_contents: IriContents::IpIri(Box::new(IpIri {
                        obj_id: ipiri_obj_id(18),
                        contents: c,
                    })),
                    micro_second_time_stamp: Some(MicroSecondTimeStamp::from_timestamp(t)),
                    time_stamp_qualifier: Some(TimeStampQualifier::Unknown),
                    session_direction: Some(PayloadDirection::FromTarget),
                    payload_direction: Some(PayloadDirection::NotApplicable),
                }]),
            }),
        )?;
    }

    // TRI: every alternative.
    let tris = [
        ("keep-alive", TriPayload::KeepAlive),
        ("keep-alive-response", TriPayload::KeepAliveResponse),
        ("test-pdu", TriPayload::TestPdu),
        ("padding-pdu", TriPayload::PaddingPdu(vec![0; 33])),
        ("first-segment", TriPayload::FirstSegmentFlag),
        ("last-segment", TriPayload::LastSegmentFlag),
        ("cin-reset", TriPayload::CinReset),
        (
            "operator-lea-message",
            TriPayload::OperatorLeaMessage(OperatorLeaMessage {
                message_priority: OperatorLeaMessagePriority::Error,
                message: b"capture interface eth3 down 02:00-02:05 UTC".to_vec(),
            }),
        ),
        (
            "integrity-check",
            TriPayload::IntegrityCheck(IntegrityCheck {
                included_sequence_numbers: vec![1, 2, 3, 4_294_967_295],
                check_type: CheckType::Hash,
                data_type: Some(DataType::Cc),
                check_value: vec![0xab; 32],
                hash_algorithm: Some(HashAlgorithm::Sha256),
                signature_algorithm: None,
            }),
        ),
        (
            "option-request",
            TriPayload::OptionRequest(vec![PduOption::PduAcknowledgement]),
        ),
        (
            "option-response",
            TriPayload::OptionResponse {
                accepted: vec![PduOption::PduAcknowledgement],
                declined: vec![],
            },
        ),
        ("option-complete", TriPayload::OptionComplete),
        ("pdu-ack-request", TriPayload::PduAcknowledgementRequest),
        ("pdu-ack-response", TriPayload::PduAcknowledgementResponse),
    ];
    for (i, (name, tri)) in tris.into_iter().enumerate() {
        emit(
            &format!("ours-tri-{name}"),
            one(s.tri_pdu(i as u32, t, tri)),
        )?;
    }
    Ok(n)
}
