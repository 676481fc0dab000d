//! encode -> decode is the identity for every type of the model, including after the
//! encoding is rewritten into other valid BER forms.

use li_asn1::ber::{Reader, Tlv};
use li_asn1::{CcEncoder, HeaderSettings, PsPdu, TimestampForm};
use li_core::{Cin, Liid};
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
        let octets = pdu.encode();
        let back = PsPdu::decode(&octets).unwrap();
        prop_assert_eq!(&back, &pdu);
        // a second encoding is byte-identical (the writer is deterministic and minimal)
        prop_assert_eq!(back.encode(), octets.clone());

        let mut indefinite = Vec::new();
        rewrite(&Reader::new(&octets).read().unwrap(), &mut indefinite);
        prop_assert_eq!(PsPdu::decode(&indefinite).unwrap(), pdu);
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
    ) {
        let mut s = HeaderSettings::new(Liid::new(&liid).unwrap(), op);
        s.timestamp_form = form;
        s.ps_pdu_version = ps_version;
        s.ip_access_version = ip_version;
        s.authorization_country_code = Some("FR".into());
        let dir = li_asn1::PayloadDirection::FromTarget;
        let mut out = Vec::new();
        CcEncoder::new(&s, Cin::new(cin)).encode(seq, time, dir, &packet, &mut out);
        let typed = s.ip_cc_pdu(Cin::new(cin), seq, time, dir, &packet);
        prop_assert_eq!(&out, &typed.encode());
        prop_assert_eq!(PsPdu::decode(&out).unwrap(), typed);
    }
}
