//! Unit tests of the X2/X3 codec: the shared samples field by field, malformed PDUs, property
//! tests and stream framing.

use std::net::{Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use li_core::Xid;
use proptest::prelude::*;

use super::*;

/// `shared/standards/samples/`, copied into `testdata/` (see its README).
const KEEPALIVE: &[u8] = include_bytes!("testdata/tc103221-2-keepalive.bin");
const X2_SIP: &[u8] = include_bytes!("testdata/tc103221-2-x2-sip.bin");
const X3_IPV4: &[u8] = include_bytes!("testdata/tc103221-2-x3-ipv4.bin");

const SAMPLE_XID: &str = "2b36a78b-b628-416d-bd22-65e63691aeb6";
const SAMPLE_TIME: PduTimestamp = PduTimestamp::new(1_704_164_645, 123_456_789);

fn xid() -> Xid {
    SAMPLE_XID.parse().unwrap()
}

/// Decodes a whole sample and checks the encoder gives back the same octets.
fn decode_sample(bytes: &[u8]) -> Pdu {
    let (pdu, used) = Pdu::decode(bytes).unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(pdu.encoded_len(), bytes.len());
    assert_eq!(pdu.encode().unwrap(), bytes);
    assert_eq!(frame_len(bytes, bytes.len()), Ok(Some(bytes.len())));
    let (shared, _) = Pdu::decode_bytes(&Bytes::copy_from_slice(bytes)).unwrap();
    assert_eq!(shared, pdu);
    pdu
}

#[test]
fn sample_keepalive() {
    let pdu = decode_sample(KEEPALIVE);
    assert_eq!(pdu.version, 0x0005);
    assert_eq!(pdu.pdu_type, PduType::Keepalive);
    assert_eq!(pdu.header_len(), 48);
    assert_eq!(pdu.payload_format, PayloadFormat::ReservedForKeepalive);
    assert_eq!(
        pdu.payload_direction,
        PayloadDirection::ReservedForKeepalive
    );
    assert_eq!(pdu.xid, Xid::NIL);
    assert_eq!(pdu.correlation_id, [0; 8]);
    assert_eq!(pdu.attributes, [Attribute::SequenceNumber(7)]);
    assert!(pdu.payload.is_empty());
    assert_eq!(pdu.sequence_number(), Some(7));
    assert_eq!(pdu.timestamp(), None);
    assert_eq!(pdu, Pdu::keepalive(7));
    assert_eq!(Pdu::keepalive(7).encode().unwrap(), KEEPALIVE);
}

#[test]
fn keepalive_ack_echoes_the_sequence_number() {
    let ack = Pdu::keepalive_ack(7).encode().unwrap();
    let mut expected = KEEPALIVE.to_vec();
    expected[3] = 4;
    assert_eq!(ack, expected);
    assert_eq!(Pdu::decode(&ack).unwrap().0.pdu_type, PduType::KeepaliveAck);
}

#[test]
fn sample_x2_sip() {
    let pdu = decode_sample(X2_SIP);
    assert_eq!(pdu.version, 0x0005);
    assert_eq!(pdu.pdu_type, PduType::X2);
    assert_eq!(pdu.header_len(), 60);
    assert_eq!(pdu.payload.len(), 212);
    assert_eq!(pdu.payload_format, PayloadFormat::SipMessage);
    assert_eq!(pdu.payload_direction, PayloadDirection::FromTarget);
    assert_eq!(pdu.xid, xid());
    assert_eq!(pdu.xid.to_string(), SAMPLE_XID);
    assert_eq!(pdu.correlation_id, [0; 8]);
    assert_eq!(
        pdu.attributes,
        [
            Attribute::SequenceNumber(2),
            Attribute::Timestamp(SAMPLE_TIME)
        ]
    );
    assert_eq!(pdu.sequence_number(), Some(2));
    let time = pdu.timestamp().and_then(PduTimestamp::to_core).unwrap();
    assert_eq!(time.to_generalized_time(), "20240102030405.123456Z");
    let sip = std::str::from_utf8(&pdu.payload).unwrap();
    assert!(
        sip.starts_with("INVITE sip:bob@example.net SIP/2.0\r\n"),
        "{sip}"
    );
    assert!(sip.contains("Call-ID: 1@192.168.0.1\r\n"), "{sip}");
    assert!(sip.ends_with("Content-Length: 0\r\n\r\n"), "{sip}");
}

#[test]
fn sample_x3_ipv4() {
    let pdu = decode_sample(X3_IPV4);
    assert_eq!(pdu.version, 0x0005);
    assert_eq!(pdu.pdu_type, PduType::X3);
    assert_eq!(pdu.header_len(), 118);
    assert_eq!(pdu.payload.len(), 32);
    assert_eq!(pdu.payload_format, PayloadFormat::Ipv4Packet);
    assert_eq!(pdu.payload_direction, PayloadDirection::FromTarget);
    assert_eq!(pdu.xid, xid());
    assert_eq!(pdu.correlation_id, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(
        pdu.attributes,
        [
            Attribute::SequenceNumber(1),
            Attribute::Timestamp(SAMPLE_TIME),
            Attribute::MatchedTargetIdentifier("sip:alice@example.net".into()),
            Attribute::SourceIpv4(Ipv4Addr::new(192, 168, 0, 1)),
            Attribute::DestinationIpv4(Ipv4Addr::new(192, 168, 0, 2)),
            Attribute::SourcePort(12345),
            Attribute::DestinationPort(5060),
            Attribute::IpProtocol(17),
        ]
    );
    // the payload: IPv4, 32 octets, UDP 192.168.0.1:12345 -> 192.168.0.2:5060, "hi!\n"
    assert_eq!(&pdu.payload[..4], &[0x45, 0x00, 0x00, 0x20]);
    assert_eq!(pdu.payload[9], 17);
    assert_eq!(&pdu.payload[12..20], &[192, 168, 0, 1, 192, 168, 0, 2]);
    assert_eq!(&pdu.payload[28..], b"hi!\n");
    assert_eq!(
        ip_payload_format(&pdu.payload),
        Ok(PayloadFormat::Ipv4Packet)
    );
}

#[test]
fn samples_back_to_back_in_one_buffer() {
    let stream = [KEEPALIVE, X2_SIP, X3_IPV4].concat();
    let mut rest = &stream[..];
    let mut types = Vec::new();
    while !rest.is_empty() {
        let n = frame_len(rest, DEFAULT_MAX_PDU_LEN).unwrap().unwrap();
        let (pdu, used) = Pdu::decode(rest).unwrap();
        assert_eq!(n, used);
        types.push(pdu.pdu_type);
        rest = &rest[used..];
    }
    assert_eq!(types, [PduType::Keepalive, PduType::X2, PduType::X3]);
}

#[test]
fn any_version_is_accepted_and_kept() {
    for version in [0x0000, 0x0001, 0x0005, 0x0006, 0x0500, 0xffff] {
        let mut bytes = X3_IPV4.to_vec();
        bytes[..2].copy_from_slice(&u16::to_be_bytes(version));
        let (pdu, _) = Pdu::decode(&bytes).unwrap();
        assert_eq!(pdu.version, version);
        assert_eq!(pdu.encode().unwrap(), bytes);
    }
    let mut pdu = Pdu::keepalive(1);
    assert_eq!(pdu.version, DEFAULT_VERSION);
    pdu.version = 0x0001;
    assert_eq!(&pdu.encode().unwrap()[..2], &[0, 1]);
}

#[test]
fn unknown_codes_survive_decode_and_encode() {
    let mut bytes = X3_IPV4.to_vec();
    bytes[2..4].copy_from_slice(&[0, 9]); // PDU type 9
    bytes[12..14].copy_from_slice(&[0, 17]); // payload format 17
    bytes[14..16].copy_from_slice(&[0x12, 0x34]); // direction 0x1234
    bytes[60..62].copy_from_slice(&[0x80, 0x00]); // the target identifier becomes type 0x8000
    let (pdu, _) = Pdu::decode(&bytes).unwrap();
    assert_eq!(pdu.pdu_type, PduType::Other(9));
    assert_eq!(pdu.payload_format, PayloadFormat::Other(17));
    assert_eq!(pdu.payload_direction, PayloadDirection::Other(0x1234));
    assert_eq!(
        pdu.attributes[2],
        Attribute::Unknown {
            attr_type: 0x8000,
            value: b"sip:alice@example.net".to_vec()
        }
    );
    assert_eq!(pdu.encode().unwrap(), bytes);
}

#[test]
fn code_conversions_are_inverse() {
    for v in 0..=u16::MAX {
        assert_eq!(u16::from(PduType::from(v)), v);
        assert_eq!(u16::from(PayloadFormat::from(v)), v);
        assert_eq!(u16::from(PayloadDirection::from(v)), v);
    }
    assert_eq!(PayloadFormat::from(16), PayloadFormat::UnstructuredPdu);
    assert_eq!(PayloadFormat::from(11), PayloadFormat::RadiusPacket);
    assert_eq!(
        PayloadDirection::from(4),
        PayloadDirection::MultipleDirections
    );
    assert_eq!(
        PayloadDirection::from(li_core::PayloadDirection::Combined),
        PayloadDirection::MultipleDirections
    );
    assert_eq!(
        PayloadDirection::from(li_core::PayloadDirection::FromTarget),
        PayloadDirection::FromTarget
    );
    assert_eq!(
        u16::from(PayloadDirection::from(li_core::PayloadDirection::ToTarget)),
        2
    );
}

// ------------------------------------------------------------------ malformed input

#[test]
fn short_input_is_truncated() {
    for n in 0..KEEPALIVE.len() {
        let err = Pdu::decode(&KEEPALIVE[..n]).unwrap_err();
        // 40 until both length fields are there (12 octets), then what they say
        let needed = if n < 12 { 40 } else { 48 };
        assert_eq!(
            err,
            Error::Truncated {
                needed,
                available: n
            },
            "{n} octets"
        );
        assert_eq!(frame_len(&KEEPALIVE[..n], 48), Ok(None));
    }
    // a payload that has not fully arrived
    assert_eq!(
        Pdu::decode(&X2_SIP[..200]).unwrap_err(),
        Error::Truncated {
            needed: 272,
            available: 200
        }
    );
}

#[test]
fn header_length_below_40_is_refused_as_soon_as_it_is_read() {
    for hl in [0u32, 1, 39] {
        let mut bytes = KEEPALIVE.to_vec();
        bytes[4..8].copy_from_slice(&hl.to_be_bytes());
        let expected = Error::HeaderLengthTooSmall { header_length: hl };
        assert_eq!(Pdu::decode(&bytes).unwrap_err(), expected);
        // 8 octets are enough to see it
        assert_eq!(Pdu::decode(&bytes[..8]).unwrap_err(), expected);
        assert_eq!(frame_len(&bytes[..8], 1000), Err(expected.clone()));
        assert!(expected.to_string().contains("offset 4"));
    }
}

#[test]
fn lengths_beyond_the_input_or_the_limit() {
    let mut bytes = KEEPALIVE.to_vec();
    bytes[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    bytes[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
    let total = 2 * u64::from(u32::MAX);
    assert_eq!(
        Pdu::decode(&bytes).unwrap_err(),
        Error::Truncated {
            needed: total,
            available: 48
        }
    );
    assert_eq!(
        frame_len(&bytes, DEFAULT_MAX_PDU_LEN),
        Err(Error::TooLarge {
            len: total,
            limit: DEFAULT_MAX_PDU_LEN
        })
    );
    assert_eq!(
        frame_len(&bytes, usize::MAX),
        Ok(None),
        "allowed, not arrived"
    );
    // the limit applies from the 12th octet, before the PDU arrives
    assert_eq!(
        frame_len(&X2_SIP[..12], 271),
        Err(Error::TooLarge {
            len: 272,
            limit: 271
        })
    );
    assert_eq!(frame_len(&X2_SIP[..12], 272), Ok(None));
    assert_eq!(frame_len(X2_SIP, 272), Ok(Some(272)));
    // a header length longer than the PDU with a zero payload length
    let mut bytes = KEEPALIVE.to_vec();
    bytes[4..8].copy_from_slice(&60u32.to_be_bytes());
    assert_eq!(
        Pdu::decode(&bytes).unwrap_err(),
        Error::Truncated {
            needed: 60,
            available: 48
        }
    );
}

#[test]
fn attributes_must_fill_the_header_area() {
    // Header Length 41..=43 after a keepalive's sequence number: a stray 1-3 octets
    for extra in 1..=3u32 {
        let mut bytes = KEEPALIVE.to_vec();
        bytes[4..8].copy_from_slice(&(48 + extra).to_be_bytes());
        bytes.extend(std::iter::repeat_n(0, extra as usize));
        assert_eq!(
            Pdu::decode(&bytes).unwrap_err(),
            Error::AttributeHeaderTruncated {
                offset: 48,
                remaining: extra as usize
            }
        );
    }
    // Header Length cutting the sequence number attribute: its value overruns
    let mut bytes = KEEPALIVE.to_vec();
    bytes[4..8].copy_from_slice(&46u32.to_be_bytes());
    let err = Pdu::decode(&bytes).unwrap_err();
    assert_eq!(
        err,
        Error::AttributeOverrun {
            attr_type: 8,
            offset: 40,
            length: 4,
            available: 2
        }
    );
    assert!(err.to_string().contains("type 8 at offset 40"), "{err}");
    // the same PDU with the cut octets counted as payload: still the header area's problem
    bytes[8..12].copy_from_slice(&2u32.to_be_bytes());
    assert_eq!(Pdu::decode(&bytes).unwrap_err(), err);
    // attribute length past the whole X3 header (the target identifier at 60 claims 0x100)
    let mut bytes = X3_IPV4.to_vec();
    bytes[62..64].copy_from_slice(&0x100u16.to_be_bytes());
    assert_eq!(
        Pdu::decode(&bytes).unwrap_err(),
        Error::AttributeOverrun {
            attr_type: 17,
            offset: 60,
            length: 0x100,
            available: 118 - 64
        }
    );
}

#[test]
fn typed_attributes_of_the_wrong_size() {
    // keepalive whose sequence number is 2 octets
    let mut bytes = KEEPALIVE[..44].to_vec();
    bytes[4..8].copy_from_slice(&46u32.to_be_bytes());
    bytes[42..44].copy_from_slice(&2u16.to_be_bytes());
    bytes.extend([0, 7]);
    let err = Pdu::decode(&bytes).unwrap_err();
    assert_eq!(
        err,
        Error::AttributeValueLength {
            attr_type: 8,
            name: "Sequence Number",
            offset: 40,
            expected: 4,
            found: 2
        }
    );
    assert_eq!(
        err.to_string(),
        "X2/X3 conditional attribute Sequence Number (type 8) at offset 40: value of 2 octet(s), expected 4"
    );
    // framing does not look at attributes: the PDU can be skipped
    assert_eq!(frame_len(&bytes, 100), Ok(Some(46)));

    // X3 sample: the source port (type 14 at offset 101) retyped as a destination IPv6 address
    let mut bytes = X3_IPV4.to_vec();
    bytes[101..103].copy_from_slice(&13u16.to_be_bytes());
    assert_eq!(
        Pdu::decode(&bytes).unwrap_err(),
        Error::AttributeValueLength {
            attr_type: 13,
            name: "Destination IPv6 Address",
            offset: 101,
            expected: 16,
            found: 2
        }
    );
}

#[test]
fn target_identifier_must_be_utf8() {
    let mut bytes = X3_IPV4.to_vec();
    bytes[64] = 0xff; // first octet of "sip:alice@example.net" at offset 60 + 4
    assert_eq!(
        Pdu::decode(&bytes).unwrap_err(),
        Error::AttributeNotUtf8 {
            attr_type: 17,
            name: "Matched Target Identifier",
            offset: 60
        }
    );
}

#[test]
fn encoding_refuses_what_the_length_fields_cannot_say() {
    let mut pdu = Pdu::keepalive(1);
    pdu.attributes
        .push(Attribute::InterceptionPointId(vec![0; 70_000]));
    let mut out = vec![1, 2, 3];
    assert_eq!(
        pdu.encode_into(&mut out),
        Err(Error::AttributeTooLong {
            attr_type: 7,
            len: 70_000
        })
    );
    assert_eq!(out, [1, 2, 3], "nothing written");

    // a fixed buffer one octet short
    let pdu = Pdu::keepalive(7);
    let mut buf = [0u8; 47];
    let mut slice = &mut buf[..];
    assert_eq!(
        pdu.encode_into(&mut slice),
        Err(Error::BufferTooSmall {
            needed: 48,
            available: 47
        })
    );
    let mut buf = [0u8; 48];
    let mut slice = &mut buf[..];
    pdu.encode_into(&mut slice).unwrap();
    assert_eq!(buf, KEEPALIVE);
}

#[test]
fn every_typed_attribute_round_trips_in_one_pdu() {
    let mut pdu = Pdu::new(
        PduType::X2,
        PayloadFormat::RadiusPacket,
        PayloadDirection::ToTarget,
        xid(),
    );
    pdu.correlation_id = *b"corr-id1";
    pdu.attributes = all_attributes();
    pdu.payload =
        Bytes::from_static(&[4, 1, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let bytes = pdu.encode().unwrap();
    let (back, used) = Pdu::decode(&bytes).unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(back, pdu);
}

fn all_attributes() -> Vec<Attribute> {
    vec![
        Attribute::Etsi102232Attribute(vec![0x30, 0]),
        Attribute::Tgpp33128Attribute(vec![1]),
        Attribute::Tgpp33108Attribute(vec![2]),
        Attribute::ProprietaryAttribute(vec![3]),
        Attribute::DomainId(xid().as_bytes().to_vec()),
        Attribute::NetworkFunctionId(b"nf-1".to_vec()),
        Attribute::InterceptionPointId(b"ipid-1".to_vec()),
        Attribute::SequenceNumber(u32::MAX),
        Attribute::Timestamp(SAMPLE_TIME),
        Attribute::SourceIpv4(Ipv4Addr::new(192, 0, 2, 1)),
        Attribute::DestinationIpv4(Ipv4Addr::new(198, 51, 100, 2)),
        Attribute::SourceIpv6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        Attribute::DestinationIpv6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
        Attribute::SourcePort(1812),
        Attribute::DestinationPort(65535),
        Attribute::IpProtocol(17),
        Attribute::MatchedTargetIdentifier("alice@isp.example".into()),
        Attribute::OtherTargetIdentifier("tel:+4930123456".into()),
        Attribute::MimeContentType("application/sdp".into()),
        Attribute::MimeContentTransferEncoding("binary".into()),
        Attribute::AdditionalXidRelatedInformation(vec![9, 9]),
        Attribute::SdpSessionDescription("v=0\r\n".into()),
        Attribute::Unknown {
            attr_type: 4000,
            value: vec![],
        },
    ]
}

// ------------------------------------------------------------------ stream framing

/// A receiver: appends chunks, takes out every whole PDU.
fn receive(chunks: &[&[u8]]) -> Vec<Pdu> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(n) = frame_len(&buf, DEFAULT_MAX_PDU_LEN).unwrap() {
            let (pdu, used) = Pdu::decode(&buf[..n]).unwrap();
            assert_eq!(used, n);
            out.push(pdu);
            buf.drain(..n);
        }
    }
    assert!(buf.is_empty(), "{} octets left over", buf.len());
    out
}

#[test]
fn stream_split_at_every_octet() {
    let mut big = Pdu::new(
        PduType::X2,
        PayloadFormat::RadiusPacket,
        PayloadDirection::Unknown,
        xid(),
    );
    big.attributes = all_attributes();
    big.payload = Bytes::from(vec![0xab; 300]);
    let pdus: Vec<Pdu> = [KEEPALIVE, X2_SIP, X3_IPV4]
        .iter()
        .map(|b| Pdu::decode(b).unwrap().0)
        .chain([big, Pdu::keepalive_ack(u32::MAX)])
        .collect();
    let mut stream = Vec::new();
    for p in &pdus {
        p.encode_into(&mut stream).unwrap();
    }
    for split in 0..=stream.len() {
        let (a, b) = stream.split_at(split);
        assert_eq!(receive(&[a, b]), pdus, "split at {split}");
    }
    for (a, b) in [(1, 50), (47, 48), (100, 320), (319, 321)] {
        assert_eq!(
            receive(&[&stream[..a], &stream[a..b], &stream[b..]]),
            pdus,
            "split at {a} and {b}"
        );
    }
    // octet by octet
    let octets: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(receive(&octets), pdus);
}

// ------------------------------------------------------------------ properties

fn arb_attribute() -> impl Strategy<Value = Attribute> {
    let bytes = || proptest::collection::vec(any::<u8>(), 0..40);
    let text = || "\\PC{0,20}";
    prop_oneof![
        bytes().prop_map(Attribute::Etsi102232Attribute),
        bytes().prop_map(Attribute::Tgpp33128Attribute),
        bytes().prop_map(Attribute::Tgpp33108Attribute),
        bytes().prop_map(Attribute::ProprietaryAttribute),
        bytes().prop_map(Attribute::DomainId),
        bytes().prop_map(Attribute::NetworkFunctionId),
        bytes().prop_map(Attribute::InterceptionPointId),
        any::<u32>().prop_map(Attribute::SequenceNumber),
        (any::<u32>(), any::<u32>())
            .prop_map(|(s, n)| Attribute::Timestamp(PduTimestamp::new(s, n))),
        any::<[u8; 4]>().prop_map(|a| Attribute::SourceIpv4(a.into())),
        any::<[u8; 4]>().prop_map(|a| Attribute::DestinationIpv4(a.into())),
        any::<[u8; 16]>().prop_map(|a| Attribute::SourceIpv6(a.into())),
        any::<[u8; 16]>().prop_map(|a| Attribute::DestinationIpv6(a.into())),
        any::<u16>().prop_map(Attribute::SourcePort),
        any::<u16>().prop_map(Attribute::DestinationPort),
        any::<u8>().prop_map(Attribute::IpProtocol),
        text().prop_map(Attribute::MatchedTargetIdentifier),
        text().prop_map(Attribute::OtherTargetIdentifier),
        text().prop_map(Attribute::MimeContentType),
        text().prop_map(Attribute::MimeContentTransferEncoding),
        bytes().prop_map(Attribute::AdditionalXidRelatedInformation),
        text().prop_map(Attribute::SdpSessionDescription),
        (prop_oneof![Just(0u16), 23u16..], bytes())
            .prop_map(|(attr_type, value)| Attribute::Unknown { attr_type, value }),
    ]
}

prop_compose! {
    fn arb_pdu()(
        version in any::<u16>(),
        pdu_type in any::<u16>(),
        payload_format in any::<u16>(),
        payload_direction in any::<u16>(),
        xid in any::<[u8; 16]>(),
        correlation_id in any::<[u8; 8]>(),
        attributes in proptest::collection::vec(arb_attribute(), 0..8),
        payload in proptest::collection::vec(any::<u8>(), 0..200),
    ) -> Pdu {
        Pdu {
            version,
            pdu_type: pdu_type.into(),
            payload_format: payload_format.into(),
            payload_direction: payload_direction.into(),
            xid: Xid::from_bytes(xid),
            correlation_id,
            attributes,
            payload: payload.into(),
        }
    }
}

proptest! {
    #[test]
    fn encode_then_decode_is_identity(pdu in arb_pdu(), trailing in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut bytes = pdu.encode().unwrap();
        prop_assert_eq!(bytes.len(), pdu.encoded_len());
        let len = bytes.len();
        bytes.extend(trailing);
        let (back, used) = Pdu::decode(&bytes).unwrap();
        prop_assert_eq!(used, len);
        prop_assert_eq!(&back, &pdu);
        prop_assert_eq!(frame_len(&bytes, len), Ok(Some(len)));
        let (shared, _) = Pdu::decode_bytes(&Bytes::from(bytes)).unwrap();
        prop_assert_eq!(shared, pdu);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = frame_len(&bytes, 150);
        if let Ok((pdu, used)) = Pdu::decode(&bytes) {
            // whatever decodes re-encodes to the same octets
            prop_assert_eq!(pdu.encode().unwrap(), &bytes[..used]);
            prop_assert_eq!(frame_len(&bytes, usize::MAX), Ok(Some(used)));
        }
        let _ = Pdu::decode_bytes(&Bytes::from(bytes));
    }

    #[test]
    fn plausible_headers_never_panic(
        header_len in 36u32..120,
        payload_len in 0u32..64,
        attrs in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        // a well-formed fixed header in front of random attribute octets, so the attribute
        // parser gets exercised (random bytes rarely pass the length checks)
        let mut bytes = X3_IPV4[..40].to_vec();
        bytes[4..8].copy_from_slice(&header_len.to_be_bytes());
        bytes[8..12].copy_from_slice(&payload_len.to_be_bytes());
        bytes.extend(attrs);
        if let Ok((pdu, used)) = Pdu::decode(&bytes) {
            prop_assert_eq!(pdu.encode().unwrap(), &bytes[..used]);
        }
    }
}
