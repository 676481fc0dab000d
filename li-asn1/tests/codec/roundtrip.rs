//! encode -> decode is the identity for every type of the model, including after the
//! encoding is rewritten into other valid BER forms.

use li_asn1::ber::{Reader, Tlv};
use li_asn1::ipmm::MediaStream;
use li_asn1::{
    CcContents, CcEncoder, CcPayload, HeaderSettings, IpmmCcEncoder, IriContents, IriPayload,
    Payload, PsPdu, TimestampForm,
};
use li_core::{Cin, Liid, OperatorId};
use proptest::prelude::*;

use crate::strategies::{self, ps_pdu};

/// Re-encodes a BER element with every constructed length indefinite and every primitive
/// length in the 4-octet long form: still valid BER, maximally unlike what we write.
pub(crate) fn rewrite(tlv: &Tlv<'_>, out: &mut Vec<u8>) {
    write_identifier(tlv, out);
    if tlv.tag.constructed {
        out.push(0x80);
        let mut r = tlv.children("rewrite").unwrap();
        while let Some(child) = r.next_tlv().unwrap() {
            rewrite(&child, out);
        }
        out.extend_from_slice(&[0, 0]);
    } else {
        out.push(0x84);
        out.extend_from_slice(&(tlv.content.len() as u32).to_be_bytes());
        out.extend_from_slice(tlv.content);
    }
}

fn write_identifier(tlv: &Tlv<'_>, out: &mut Vec<u8>) {
    let mut w = li_asn1::ber::Writer::new();
    w.primitive(tlv.tag, &[]);
    // identifier octets are everything before the (one-octet) zero length
    let v = w.into_vec();
    out.extend_from_slice(&v[..v.len() - 1]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ps_pdu_roundtrip(pdu in ps_pdu()) {
        assert_roundtrip(&pdu)?;
    }

    #[test]
    fn stream_of_pdus_is_framed(pdus in proptest::collection::vec(ps_pdu(), 1..4)) {
        let mut stream = Vec::new();
        for p in &pdus {
            p.encode_into(&mut stream);
        }
        let mut rest = &stream[..];
        for p in &pdus {
            let len = li_asn1::ber::frame_len(rest, 1 << 20).unwrap().unwrap();
            let (decoded, used) = PsPdu::decode_prefix(rest).unwrap();
            prop_assert_eq!(used, len);
            prop_assert_eq!(&decoded, p);
            rest = &rest[used..];
        }
        prop_assert!(rest.is_empty());
    }

    #[test]
    fn hot_path_matches_typed_encoder(
        liid in strategies::bytes(1, 25),
        op in strategies::bytes(1, 16),
        cin: u32,
        seq: u32,
        time in strategies::timestamp(),
        packet in strategies::bytes(0, 2000),
        form in prop_oneof![
            Just(TimestampForm::GeneralizedTime),
            Just(TimestampForm::MicroSecond),
            Just(TimestampForm::Both)
        ],
        ps_version in 1u16..200,
        ip_version in 1u16..200,
        original in proptest::option::of(any::<u32>()),
    ) {
        let mut s = HeaderSettings::new(Liid::new(&liid).unwrap(), OperatorId::new(&op).unwrap());
        s.timestamp_form = form;
        s.ps_pdu_version = ps_version;
        s.ip_access_version = ip_version;
        s.authorization_country_code = Some("FR".parse().unwrap());
        let dir = li_asn1::PayloadDirection::FromTarget;
        let mut out = Vec::new();
        let encoder = CcEncoder::new(&s, Cin::new(cin));
        let typed = match original {
            None => {
                encoder.encode(seq, time, dir, &packet, &mut out);
                s.ip_cc_pdu(Cin::new(cin), seq, time, dir, &packet)
            }
            Some(len) => {
                // iPTruncatedPacket { truncatedPacket, originalLength }
                encoder.encode_truncated(seq, time, dir, &packet, len, &mut out);
                let contents = li_asn1::IpCcContents::IpTruncatedPacket {
                    truncated_packet: packet.clone(),
                    original_length: Some(i64::from(len)),
                };
                s.ip_cc_pdu_with(Cin::new(cin), seq, time, dir, contents)
            }
        };
        prop_assert_eq!(&out, &typed.encode());
        prop_assert_eq!(PsPdu::decode(&out).unwrap(), typed);
    }
}

fn access_event() -> impl Strategy<Value = li_core::AccessEvent> {
    use li_core::{AccessEvent, AccessEventType, IpPrefix};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let prefix = prop_oneof![
        (any::<u32>(), 0u8..=32).prop_map(|(a, l)| {
            let masked = if l == 0 {
                0
            } else {
                a & (u32::MAX << (32 - u32::from(l)))
            };
            IpPrefix::new(IpAddr::V4(Ipv4Addr::from(masked)), l).unwrap()
        }),
        (any::<u128>(), 0u8..=128).prop_map(|(a, l)| {
            let masked = if l == 0 {
                0
            } else {
                a & (u128::MAX << (128 - u32::from(l)))
            };
            IpPrefix::new(IpAddr::V6(Ipv6Addr::from(masked)), l).unwrap()
        }),
    ];
    let text = proptest::option::of(".{0,200}");
    (
        proptest::collection::vec(prefix, 0..5),
        text.clone(),
        text.clone(),
        text,
        proptest::option::of(any::<[u8; 16]>()),
        proptest::option::of(any::<u64>()),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
    )
        .prop_map(
            |(addresses, network_id, cpe_id, pop_identifier, pop_ip, octets, raw)| {
                let mut e = AccessEvent::new(AccessEventType::AccessAccept);
                e.username = b"user".to_vec();
                e.addresses = addresses;
                e.network_id = network_id;
                e.cpe_id = cpe_id;
                e.pop_identifier = pop_identifier;
                e.pop_ip_address = pop_ip.map(|b| IpAddr::V6(Ipv6Addr::from(b)));
                e.octets_received = octets;
                e.raw_aaa = raw;
                e
            },
        )
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the neutral record holds, the IRI PDU built from it satisfies the module's
    /// constraints: our own strict decoder reads it back unchanged.
    #[test]
    fn iri_from_any_access_event_is_valid(event in access_event(), seq: u32, cin: u32) {
        let s = HeaderSettings::new(Liid::new(b"LIID").unwrap(), OperatorId::new(b"OP").unwrap());
        let record = li_core::IriRecord {
            xid: li_core::Xid::from_bytes([2; 16]),
            cin: Cin::new(cin),
            timestamp: li_core::Timestamp::UNIX_EPOCH,
            iri_type: li_core::IriType::Begin,
            event: li_core::IriEvent::Access(event),
        };
        let pdu = s.iri_pdu(seq, &record).unwrap();
        prop_assert_eq!(PsPdu::decode(&pdu.encode()).unwrap(), pdu.clone());
        // The stand-alone IRIPayload (an X2 payload) round-trips too, in any BER form.
        let li_asn1::Payload::IriPayloadSequence(items) = pdu.payload else {
            panic!("not IRI")
        };
        let ber = items[0].to_ber();
        prop_assert_eq!(&li_asn1::IriPayload::from_ber(&ber).unwrap(), &items[0]);
        let mut rewritten = Vec::new();
        rewrite(&Reader::new(&ber).read().unwrap(), &mut rewritten);
        prop_assert_eq!(&li_asn1::IriPayload::from_ber(&rewritten).unwrap(), &items[0]);
        let mut trailing = ber.clone();
        trailing.push(0);
        prop_assert!(li_asn1::IriPayload::from_ber(&trailing).is_err());
        prop_assert!(li_asn1::IriPayload::from_ber(&ber[..ber.len() - 1]).is_err());
    }
}

/// Round trip of a PS-PDU, as written and rewritten with indefinite and long-form lengths.
/// `pdu` decodes back from its encoding, a second encoding is byte-identical (the writer is
/// deterministic and minimal), and its indefinite-length form decodes to it too.
fn assert_roundtrip(pdu: &PsPdu) -> Result<(), TestCaseError> {
    let octets = pdu.encode();
    let back = PsPdu::decode(&octets).unwrap();
    prop_assert_eq!(&back, pdu);
    prop_assert_eq!(back.encode(), octets.clone());
    let mut indefinite = Vec::new();
    rewrite(&Reader::new(&octets).read().unwrap(), &mut indefinite);
    prop_assert_eq!(&PsPdu::decode(&indefinite).unwrap(), pdu);
    Ok(())
}

fn media_stream() -> impl Strategy<Value = MediaStream> {
    (
        strategies::frame_type(),
        proptest::option::of(strategies::bytes(0, 40)),
        proptest::option::of(strategies::mmcc_protocol()),
    )
        .prop_map(|(frame, id, protocol)| {
            let mut s = MediaStream::new(frame);
            if let Some(id) = id {
                s = s.with_stream_identifier(&id);
            }
            if let Some(p) = protocol {
                s = s.with_protocol(p);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ipmm_iri_ps_pdu_roundtrip(
        header in strategies::header(),
        iri in strategies::ipmm_iri(),
        ty in proptest::option::of(strategies::iri_type()),
    ) {
        let pdu = PsPdu {
            header,
            payload: Payload::IriPayloadSequence(vec![IriPayload {
                iri_type: ty,
                time_stamp: None,
                iri_contents: IriContents::IpmmIri(Box::new(iri)),
                micro_second_time_stamp: None,
                time_stamp_qualifier: None,
                session_direction: None,
                payload_direction: None,
            }]),
        };
        assert_roundtrip(&pdu)?;
    }

    #[test]
    fn ipmm_cc_ps_pdu_roundtrip(
        header in strategies::header(),
        cc in strategies::ipmm_cc(),
        dir in proptest::option::of(strategies::direction()),
    ) {
        let pdu = PsPdu {
            header,
            payload: Payload::CcPayloadSequence(vec![CcPayload {
                payload_direction: dir,
                time_stamp: None,
                cc_contents: CcContents::IpmmCc(cc),
                micro_second_time_stamp: None,
                time_stamp_qualifier: None,
            }]),
        };
        assert_roundtrip(&pdu)?;
    }

    #[test]
    fn ipmm_hot_path_matches_typed_encoder(
        liid in strategies::bytes(1, 25),
        op in strategies::bytes(1, 16),
        cin: u32,
        seq: u32,
        time in strategies::timestamp(),
        packet in strategies::bytes(0, 2000),
        form in prop_oneof![
            Just(TimestampForm::GeneralizedTime),
            Just(TimestampForm::MicroSecond),
            Just(TimestampForm::Both)
        ],
        ps_version in 1u16..200,
        mm_version in 1u16..200,
        ipid in proptest::option::of("[A-Z0-9-]{1,8}"),
        stream in media_stream(),
        dir in strategies::direction(),
    ) {
        let mut s = HeaderSettings::new(Liid::new(&liid).unwrap(), OperatorId::new(&op).unwrap());
        s.timestamp_form = form;
        s.ps_pdu_version = ps_version;
        s.ip_multimedia_version = mm_version;
        s.interception_point_id = ipid.as_deref().and_then(li_asn1::InterceptionPointId::new);
        s.delivery_country_code = Some("FR".parse().unwrap());
        let encoder = IpmmCcEncoder::new(&s, Cin::new(cin));
        // appends: what is already in the buffer stays
        let mut out = vec![0xee];
        encoder.encode(seq, time, dir, &stream, &packet, &mut out);
        let typed = s.ipmm_cc_pdu(Cin::new(cin), seq, time, dir, &stream, &packet);
        prop_assert_eq!(out[0], 0xee);
        prop_assert_eq!(&out[1..], &typed.encode()[..]);
        prop_assert_eq!(PsPdu::decode(&out[1..]).unwrap(), typed);
    }
}
