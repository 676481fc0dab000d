//! The contract both ways: every record the probe side writes reads back as the same task,
//! session, time, direction and payload on the mediator side.

use li_asn1::IriType;
use li_core::{AccessEvent, AccessEventType, IriEvent};

use super::*;

const ALL_DIRECTIONS: [li_core::PayloadDirection; 5] = [
    li_core::PayloadDirection::FromTarget,
    li_core::PayloadDirection::ToTarget,
    li_core::PayloadDirection::Indeterminate,
    li_core::PayloadDirection::Combined,
    li_core::PayloadDirection::NotApplicable,
];

fn ipv4() -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 24, 0, 0, 0x40, 0, 64, 17, 0, 0];
    p.extend_from_slice(&[192, 0, 2, 7, 198, 51, 100, 1, 1, 2, 3, 4]);
    p
}

fn ipv6() -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0, 0, 4, 59, 64];
    p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    p.extend_from_slice(&[0; 12]);
    p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    p.extend_from_slice(&[0; 11]);
    p.push(1);
    p.extend_from_slice(&[9, 8, 7, 6]);
    p
}

fn time(secs: u64, micros: u32) -> Timestamp {
    Timestamp::from_secs_micros(secs, micros).unwrap()
}

fn cc(packet: Vec<u8>, direction: li_core::PayloadDirection) -> CcRecord {
    CcRecord {
        xid: Xid::from_bytes([0x2b; 16]),
        cin: Cin::new(0x0102_0304),
        timestamp: time(1_768_471_200, 123_456),
        direction,
        payload: packet.into(),
        original_len: None,
        kind: li_core::CcKind::IpPacket,
    }
}

fn iri_record(xid: Xid, cin: u32) -> IriRecord {
    IriRecord {
        xid,
        cin: Cin::new(cin),
        timestamp: time(1_768_471_200, 5),
        iri_type: li_core::IriType::Begin,
        event: IriEvent::Access(AccessEvent::new(AccessEventType::AccessAccept)),
    }
}

/// Encoded to bytes (the probe's hot path), decoded, read.
fn through_the_wire(record: &CcRecord, sequence_number: u32) -> Pdu {
    let mut out = Vec::new();
    let ts = pdu_timestamp(record.timestamp).unwrap();
    encode_cc(
        &x3_encoder(record.xid, record.cin),
        &mut out,
        sequence_number,
        ts,
        record,
    )
    .unwrap();
    let (pdu, used) = Pdu::decode(&out).unwrap();
    assert_eq!(used, out.len());
    pdu
}

#[test]
fn every_direction_round_trips_for_ipv4_and_ipv6_cc() {
    for (packet, format) in [
        (ipv4(), PayloadFormat::Ipv4Packet),
        (ipv6(), PayloadFormat::Ipv6Packet),
    ] {
        for direction in ALL_DIRECTIONS {
            let record = cc(packet.clone(), direction);
            let pdu = through_the_wire(&record, 17);
            assert_eq!(pdu, x3_pdu(&record, 17).unwrap(), "one encoding");
            assert_eq!(pdu.pdu_type, PduType::X3);
            assert_eq!(pdu.payload_format, format);
            assert_eq!(pdu.payload_direction, x2x3_direction(direction));
            assert_eq!(pdu.correlation_id, [0, 0, 0, 0, 1, 2, 3, 4]);
            assert_eq!(
                pdu.attributes,
                attributes(17, pdu_timestamp(record.timestamp).unwrap())
            );
            let got = read(&pdu).unwrap();
            assert_eq!(got.xid, record.xid);
            assert_eq!(got.cin, record.cin);
            assert_eq!(got.time, record.timestamp);
            assert_eq!(got.sequence_number, Some(17));
            assert_eq!(
                got.content,
                Content::Cc {
                    direction,
                    packet: &packet[..],
                    original_length: None,
                },
                "{direction:?}"
            );
        }
    }
}

#[test]
fn the_direction_mapping_is_one_to_one_and_reads_the_rest_as_indeterminate() {
    let mut wire: Vec<u16> = ALL_DIRECTIONS
        .iter()
        .map(|d| u16::from(x2x3_direction(*d)))
        .collect();
    assert_eq!(wire, [3, 2, 1, 4, 5]);
    wire.sort_unstable();
    wire.dedup();
    assert_eq!(wire.len(), ALL_DIRECTIONS.len());
    for d in ALL_DIRECTIONS {
        assert_eq!(core_direction(x2x3_direction(d)), d);
        assert_eq!(
            PayloadDirection::from(d),
            x2x3_direction(d),
            "the From impl"
        );
    }
    for other in [
        PayloadDirection::ReservedForKeepalive,
        PayloadDirection::Other(6),
    ] {
        assert_eq!(
            core_direction(other),
            li_core::PayloadDirection::Indeterminate
        );
    }
}

#[test]
fn a_cut_packet_carries_its_original_length() {
    let mut record = cc(ipv4(), li_core::PayloadDirection::ToTarget);
    record.payload = record.payload.slice(..20);
    record.original_len = Some(1028);
    let pdu = through_the_wire(&record, 0);
    assert_eq!(pdu.original_length(), Some(1028));
    match read(&pdu).unwrap().content {
        Content::Cc {
            packet,
            original_length,
            ..
        } => assert_eq!((packet, original_length), (&ipv4()[..20], Some(1028))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn iri_round_trips_as_x2_with_the_stand_alone_payload() {
    let record = iri_record(Xid::from_bytes([7; 16]), 0x0102_0304);
    let pdu = iri_pdu(&record, 9).unwrap();
    assert_eq!(
        (pdu.pdu_type, pdu.payload_format, pdu.payload_direction),
        (PduType::X2, IRI_PAYLOAD_FORMAT, IRI_DIRECTION)
    );
    let bytes = pdu.encode().unwrap();
    let (decoded, _) = Pdu::decode(&bytes).unwrap();
    let got = read(&decoded).unwrap();
    assert_eq!(
        (got.xid, got.cin, got.time, got.sequence_number),
        (record.xid, record.cin, record.timestamp, Some(9))
    );
    match got.content {
        Content::Iri(iri) => {
            assert_eq!(iri.iri_type, Some(IriType::Begin));
            assert_eq!(iri.to_ber(), iri_payload(&record).unwrap());
        }
        other => panic!("{other:?}"),
    }
}

/// Moved from the probe's tests (`x2_pdu_carries_the_stand_alone_iri_payload`).
#[test]
fn x2_pdu_carries_the_stand_alone_iri_payload() {
    let record = iri_record(Xid::new_v4_from_random([7; 16]), 0x0102_0304);
    let payload = iri_payload(&record).unwrap();
    let ts = pdu_timestamp(record.timestamp).unwrap();
    let bytes = x2_pdu(record.xid, record.cin, 9, ts, &payload)
        .encode()
        .unwrap();
    let (pdu, used) = Pdu::decode(&bytes).unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(pdu.xid, record.xid);
    assert_eq!(pdu.correlation_id, [0, 0, 0, 0, 1, 2, 3, 4]);
    assert_eq!(pdu.sequence_number(), Some(9));
    assert_eq!(pdu.timestamp().unwrap().to_core(), Some(record.timestamp));
    let iri = IriPayload::from_ber(&pdu.payload).unwrap();
    assert_eq!(iri.iri_type, Some(IriType::Begin));
    assert_eq!(iri.to_ber(), payload);
}

#[test]
fn records_after_2106_cannot_be_sent() {
    // 2106-02-07T06:28:15.999999Z: the last microsecond the 32-bit seconds can say.
    let last = time(u64::from(u32::MAX), 999_999);
    let after = time(u64::from(u32::MAX) + 1, 0);
    assert_eq!(
        pdu_timestamp(last),
        Some(PduTimestamp::new(u32::MAX, 999_999_000))
    );
    assert_eq!(pdu_timestamp(after), None);

    let mut record = cc(ipv6(), li_core::PayloadDirection::FromTarget);
    record.timestamp = last;
    assert_eq!(read(&x3_pdu(&record, 0).unwrap()).unwrap().time, last);
    record.timestamp = after;
    assert_eq!(
        x3_pdu(&record, 0),
        Err(ContractError::TimestampOutOfRange { time: after })
    );
    let mut iri = iri_record(Xid::from_bytes([1; 16]), 1);
    iri.timestamp = after;
    assert_eq!(
        iri_pdu(&iri, 0),
        Err(ContractError::TimestampOutOfRange { time: after })
    );
}

#[test]
fn correlation_ids_that_hold_no_cin_are_refused() {
    assert_eq!(
        cin(&correlation_id(Cin::new(u32::MAX))),
        Ok(Cin::new(u32::MAX))
    );
    assert_eq!(cin(&[0, 0, 0, 0, 0, 0, 0, 9]), Ok(Cin::new(9)));
    for len in [0, 4, 7, 9, 16] {
        assert_eq!(
            cin(&vec![0; len]),
            Err(ContractError::CorrelationIdLength { len })
        );
    }
    assert_eq!(
        cin(&[0, 0, 0, 1, 0, 0, 0, 0]),
        Err(ContractError::CinOutOfRange { value: 1 << 32 })
    );
    let mut pdu = x3_pdu(&cc(ipv4(), li_core::PayloadDirection::ToTarget), 0).unwrap();
    pdu.correlation_id = [0xff; 8];
    assert_eq!(
        read(&pdu),
        Err(ContractError::CinOutOfRange { value: u64::MAX })
    );
}

#[test]
fn payload_formats_and_pdu_types_are_checked() {
    assert!(is_cc_payload_format(PayloadFormat::Ipv4Packet));
    assert!(is_cc_payload_format(PayloadFormat::Ipv6Packet));
    assert!(!is_cc_payload_format(PayloadFormat::EthernetFrame));
    assert!(is_iri_payload_format(PayloadFormat::Etsi102232));
    assert!(!is_iri_payload_format(PayloadFormat::Tgpp33128));
    assert_eq!(cc_payload_format(&ipv6()), Ok(PayloadFormat::Ipv6Packet));
    assert_eq!(
        cc_payload_format(&[0x10]),
        Err(Error::NotAnIpPacket { version: 1 })
    );

    // X3 with the X2 format, X2 with an IP format: refused.
    let mut x3 = x3_pdu(&cc(ipv4(), li_core::PayloadDirection::ToTarget), 0).unwrap();
    x3.payload_format = IRI_PAYLOAD_FORMAT;
    assert_eq!(
        read(&x3),
        Err(ContractError::PayloadFormat {
            pdu_type: PduType::X3,
            format: IRI_PAYLOAD_FORMAT,
        })
    );
    let mut x2 = iri_pdu(&iri_record(Xid::from_bytes([1; 16]), 1), 0).unwrap();
    x2.payload_format = PayloadFormat::Ipv4Packet;
    assert!(matches!(
        read(&x2),
        Err(ContractError::PayloadFormat {
            pdu_type: PduType::X2,
            ..
        })
    ));
    x2.payload_format = IRI_PAYLOAD_FORMAT;
    x2.payload = bytes::Bytes::from_static(&[0x30, 0x05, 1]);
    assert!(matches!(read(&x2), Err(ContractError::IriPayload(_))));
    // No timestamp; a keepalive.
    x2.attributes
        .retain(|a| !matches!(a, Attribute::Timestamp(_)));
    assert_eq!(read(&x2), Err(ContractError::NoTimestamp));
    assert_eq!(
        read(&Pdu::keepalive(1)),
        Err(ContractError::NotARecord {
            pdu_type: PduType::Keepalive
        })
    );
}

fn decoded(pdu: &Pdu) -> Pdu {
    let bytes = pdu.encode().unwrap();
    let (back, used) = Pdu::decode(&bytes).unwrap();
    assert_eq!(used, bytes.len());
    back
}

const INVITE: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: a84b4c76e66710\r\n\r\n";

fn sip_record(iri_type: li_core::IriType, source: &str, destination: &str) -> IriRecord {
    IriRecord {
        xid: Xid::from_bytes([0x2c; 16]),
        cin: Cin::new(77),
        timestamp: time(1_768_471_200, 250),
        iri_type,
        event: IriEvent::Sip(li_core::SipEvent {
            source: source.parse().unwrap(),
            destination: destination.parse().unwrap(),
            message: INVITE.into(),
        }),
    }
}

#[test]
fn a_sip_message_round_trips_as_x2_sip_message_with_its_flow_and_iri_type() {
    for (iri_type, source, destination) in [
        (
            li_core::IriType::Begin,
            "192.0.2.10:5060",
            "198.51.100.20:5062",
        ),
        (
            li_core::IriType::Continue,
            "[2001:db8::1]:5060",
            "[2001:db8::2]:5060",
        ),
        (
            li_core::IriType::End,
            "192.0.2.10:5060",
            "[2001:db8::2]:5060",
        ),
        (
            li_core::IriType::Report,
            "192.0.2.10:5060",
            "198.51.100.20:5062",
        ),
    ] {
        let record = sip_record(iri_type, source, destination);
        let pdu = decoded(&iri_pdu(&record, 9).unwrap());
        assert_eq!(
            (pdu.pdu_type, pdu.payload_format, pdu.payload_direction),
            (
                PduType::X2,
                PayloadFormat::SipMessage,
                PayloadDirection::NotApplicable
            )
        );
        // Sequence Number and Timestamp first, then the flow, then the IRI type.
        let types: Vec<u16> = pdu.attributes.iter().map(Attribute::attr_type).collect();
        let v4 = !source.starts_with('[') && !destination.starts_with('[');
        let (s, d) = if v4 { (10, 11) } else { (12, 13) };
        assert_eq!(types, [8, 9, s, d, 14, 15, 16, 4], "{source} {destination}");
        let read = read(&pdu).unwrap();
        assert_eq!(
            (read.xid, read.cin, read.time, read.sequence_number),
            (record.xid, record.cin, record.timestamp, Some(9))
        );
        assert_eq!(
            read.content,
            Content::Sip {
                iri_type,
                source: source.parse().unwrap(),
                destination: destination.parse().unwrap(),
                message: INVITE,
            }
        );
    }
}

#[test]
fn a_media_packet_round_trips_as_x3_rtp_packet_with_its_flow_stream_and_protocol() {
    let rtp = [
        0x80u8, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef, 0xff,
    ];
    for (flow, direction) in [
        (
            MediaFlow {
                source: "192.0.2.10:49170".parse().unwrap(),
                destination: "198.51.100.20:3456".parse().unwrap(),
                protocol: MediaProtocol::Rtp,
                stream: 0,
            },
            li_core::PayloadDirection::FromTarget,
        ),
        (
            MediaFlow {
                source: "[2001:db8::2]:51373".parse().unwrap(),
                destination: "[2001:db8::1]:49171".parse().unwrap(),
                protocol: MediaProtocol::Rtcp,
                stream: 0x0102,
            },
            li_core::PayloadDirection::ToTarget,
        ),
    ] {
        let record = CcRecord {
            kind: CcKind::Media(flow),
            ..cc(rtp.to_vec(), direction)
        };
        let pdu = decoded(&x3_pdu(&record, 4).unwrap());
        assert_eq!(
            (pdu.pdu_type, pdu.payload_format),
            (PduType::X3, PayloadFormat::RtpPacket)
        );
        let read = read(&pdu).unwrap();
        assert_eq!((read.cin, read.time), (record.cin, record.timestamp));
        assert_eq!(
            read.content,
            Content::Media {
                direction,
                flow,
                packet: &rtp[..],
            }
        );
    }
}

#[test]
fn peers_voice_pdus_without_our_attributes_are_read_with_defaults_but_not_without_a_flow() {
    let record = sip_record(
        li_core::IriType::Begin,
        "192.0.2.10:5060",
        "198.51.100.20:5062",
    );
    let mut pdu = iri_pdu(&record, 1).unwrap();
    // Another point of interception: no IRI-type attribute.
    pdu.attributes
        .retain(|a| !matches!(a, Attribute::ProprietaryAttribute(_)));
    assert!(matches!(
        read(&decoded(&pdu)).unwrap().content,
        Content::Sip {
            iri_type: li_core::IriType::Continue,
            ..
        }
    ));
    // Without its source port, the message cannot be placed.
    pdu.attributes
        .retain(|a| !matches!(a, Attribute::SourcePort(_)));
    assert_eq!(
        read(&decoded(&pdu)),
        Err(ContractError::MissingAttribute {
            pdu_type: PduType::X2,
            format: PayloadFormat::SipMessage,
            attribute: "Source Port",
        })
    );

    let flow = MediaFlow {
        source: "192.0.2.10:49170".parse().unwrap(),
        destination: "198.51.100.20:3456".parse().unwrap(),
        protocol: MediaProtocol::Rtcp,
        stream: 3,
    };
    let record = CcRecord {
        kind: CcKind::Media(flow),
        ..cc(vec![0x80, 0xc8, 0, 1], li_core::PayloadDirection::ToTarget)
    };
    let mut pdu = x3_pdu(&record, 1).unwrap();
    pdu.attributes
        .retain(|a| !matches!(a, Attribute::ProprietaryAttribute(_)));
    let Content::Media {
        flow: read_flow, ..
    } = read(&decoded(&pdu)).unwrap().content
    else {
        panic!("media expected");
    };
    assert_eq!(
        (read_flow.stream, read_flow.protocol, read_flow.source),
        (0, MediaProtocol::Rtp, flow.source)
    );
    pdu.attributes
        .retain(|a| !matches!(a, Attribute::DestinationIpv4(_)));
    assert!(matches!(
        read(&decoded(&pdu)),
        Err(ContractError::MissingAttribute {
            attribute: "Destination IP Address",
            ..
        })
    ));
}

fn media_flows() -> [MediaFlow; 3] {
    [
        MediaFlow {
            source: "192.0.2.10:49170".parse().unwrap(),
            destination: "198.51.100.20:3456".parse().unwrap(),
            protocol: MediaProtocol::Rtp,
            stream: 0,
        },
        MediaFlow {
            source: "[2001:db8::2]:51373".parse().unwrap(),
            destination: "[2001:db8::1]:49171".parse().unwrap(),
            protocol: MediaProtocol::Rtcp,
            stream: 0x0102,
        },
        // One family each side: both written as IPv6 (the IPv4 one mapped).
        MediaFlow {
            source: "192.0.2.10:8000".parse().unwrap(),
            destination: "[2001:db8::1]:8001".parse().unwrap(),
            protocol: MediaProtocol::Rtp,
            stream: 1,
        },
    ]
}

#[test]
fn the_media_encoder_writes_what_media_pdu_encodes_packet_after_packet() {
    let xid = Xid::from_bytes([0x2b; 16]);
    let cin = Cin::new(0x0102_0304);
    for (flow, header_len) in media_flows().into_iter().zip([104, 128, 128]) {
        for direction in ALL_DIRECTIONS {
            let encoder = media_encoder(xid, cin, direction, &flow).unwrap();
            assert_eq!(encoder.header_len(), header_len, "{flow:?}");
            let mut out = Vec::new();
            // One encoder, several packets of different lengths (an empty one too).
            for (seq, len) in [(0u32, 172usize), (1, 0), (u32::MAX, 13)] {
                let rtp: Vec<u8> = (0..len).map(|i| (i as u8) ^ 0x80).collect();
                let ts =
                    PduTimestamp::new(1_768_471_200_u32.wrapping_add(seq), 999_999_999 - seq % 7);
                out.clear();
                encoder.encode(&mut out, seq, ts, &rtp).unwrap();
                let general = media_pdu(xid, cin, seq, ts, direction, &flow, rtp.clone().into());
                assert_eq!(
                    out,
                    general.encode().unwrap(),
                    "{flow:?} {direction:?} {seq}"
                );
                let (pdu, used) = Pdu::decode(&out).unwrap();
                assert_eq!(used, out.len());
                assert_eq!(pdu.sequence_number(), Some(seq));
                assert_eq!(
                    read(&pdu).unwrap().content,
                    Content::Media {
                        direction,
                        flow: MediaFlow {
                            source: SocketAddr::new(
                                flow.source.ip().to_canonical(),
                                flow.source.port()
                            ),
                            ..flow
                        },
                        packet: &rtp[..],
                    }
                );
            }
        }
    }
}

#[test]
fn the_media_encoder_writes_nothing_into_a_buffer_too_small() {
    let flow = media_flows()[0];
    let encoder = media_encoder(
        Xid::NIL,
        Cin::new(1),
        li_core::PayloadDirection::ToTarget,
        &flow,
    )
    .unwrap();
    let mut buf = [0u8; 104 + 11];
    let mut out = &mut buf[..];
    let ts = PduTimestamp::new(1, 2);
    assert_eq!(
        encoder.encode(&mut out, 0, ts, &[0x80; 12]),
        Err(Error::BufferTooSmall {
            needed: 104 + 12,
            available: 104 + 11
        })
    );
    assert_eq!(out.len(), 104 + 11, "nothing written");
    encoder.encode(&mut out, 0, ts, &[0x80; 11]).unwrap();
    assert!(out.is_empty());
}

fn arb_socket_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>())
            .prop_map(|(ip, port)| SocketAddr::new(IpAddr::from(ip), port)),
        (any::<[u8; 16]>(), any::<u16>())
            .prop_map(|(ip, port)| SocketAddr::new(IpAddr::from(ip), port)),
    ]
}

use proptest::prelude::*;

proptest! {
    #[test]
    fn the_media_encoder_equals_media_pdu(
        xid in any::<[u8; 16]>(),
        cin in any::<u32>(),
        direction in prop::sample::select(ALL_DIRECTIONS.to_vec()),
        source in arb_socket_addr(),
        destination in arb_socket_addr(),
        rtcp in any::<bool>(),
        stream in any::<u16>(),
        records in proptest::collection::vec(
            (any::<u32>(), any::<u32>(), any::<u32>(), proptest::collection::vec(any::<u8>(), 0..300)),
            1..4,
        ),
    ) {
        let (xid, cin) = (Xid::from_bytes(xid), Cin::new(cin));
        let protocol = if rtcp { MediaProtocol::Rtcp } else { MediaProtocol::Rtp };
        let flow = MediaFlow { source, destination, protocol, stream };
        let encoder = media_encoder(xid, cin, direction, &flow).unwrap();
        let mut out = Vec::new();
        let mut expected = Vec::new();
        for (seq, secs, nanos, packet) in records {
            let ts = PduTimestamp::new(secs, nanos);
            encoder.encode(&mut out, seq, ts, &packet).unwrap();
            media_pdu(xid, cin, seq, ts, direction, &flow, packet.into())
                .encode_into(&mut expected)
                .unwrap();
        }
        prop_assert_eq!(out, expected);
    }
}

/// A sender that hands every CC record to `encode_cc` (the probe today) sends a call's
/// media as RTP Packet PDUs, not an error for a packet that is not IP.
#[test]
fn encode_cc_writes_a_media_record_as_media_pdu() {
    for flow in media_flows() {
        let record = CcRecord {
            kind: CcKind::Media(flow),
            ..cc(
                vec![0x80, 0, 0, 7, 0, 0, 3, 0xc0, 1, 2, 3, 4, 0xd5],
                li_core::PayloadDirection::ToTarget,
            )
        };
        let ts = pdu_timestamp(record.timestamp).unwrap();
        let mut out = Vec::new();
        encode_cc(
            &x3_encoder(record.xid, record.cin),
            &mut out,
            9,
            ts,
            &record,
        )
        .unwrap();
        assert_eq!(out, x3_pdu(&record, 9).unwrap().encode().unwrap());
        assert_eq!(
            decoded(&x3_pdu(&record, 9).unwrap()).payload_format,
            MEDIA_PAYLOAD_FORMAT
        );
    }
}
