//! encode → decode is the identity for every message kind, and a decoded value re-encodes to
//! the same octets.

use std::collections::BTreeSet;

use li_asn1::GeneralizedTime;
use li_asn1::atis::ias::IasProtocol;
use li_asn1::atis::ias_cc::{IasCcApdu, IasCcEncoder, PacketDirection};
use li_asn1::atis::ias_opt::IasOptionalProtocol;
use li_core::Timestamp;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

use crate::strategies::{
    cc_apdu, content_identifier, ias_optional_protocol, ias_protocol, visible,
};

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn cmii_roundtrip(p in ias_protocol()) {
        let octets = p.encode();
        let back = IasProtocol::decode(&octets).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(back.encode(), octets);
    }

    #[test]
    fn optional_roundtrip(p in ias_optional_protocol()) {
        let octets = p.encode();
        let back =
            IasOptionalProtocol::decode(&octets).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &p);
    }

    #[test]
    fn cc_apdu_roundtrip(a in cc_apdu()) {
        let octets = a.encode();
        let back = IasCcApdu::decode(&octets).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &a);
    }

    /// The hot-path encoder writes what the typed encoder writes for the same values (for
    /// IAS-CC-APDU and the ATIS-1000678 CC-APDU alike: one model, `laes_cc::CcApduEncoder`).
    #[test]
    fn cc_encoder_matches_typed(
        case in visible(1, 25),
        iap in proptest::option::of(visible(1, 15)),
        content in content_identifier(),
        seq in any::<i64>(),
        secs in 0u64..4_102_444_800,
        micros in 0u32..1_000_000,
        to_subject in any::<bool>(),
        packet in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        let time = Timestamp::from_secs_micros(secs, micros).unwrap();
        let dir = if to_subject { PacketDirection::ToSubject } else { PacketDirection::FromSubject };
        let mut out = vec![0xee];
        IasCcEncoder::new(&case, iap.as_deref(), &content).encode(seq, time, dir, &packet, &mut out);
        let typed = IasCcApdu {
            delivery_header: Some(li_asn1::atis::ias_cc::CcDeliveryHeader {
                correlation_info: li_asn1::atis::ias_cc::CorrelationInfo {
                    case_id: Some(case),
                    iap_id: iap,
                    content_identifier: content,
                },
                time_stamp: Some(GeneralizedTime::from_timestamp(time)),
                packet_direction: Some(dir),
                sequence_number: Some(seq),
            }),
            payload: packet,
        };
        prop_assert_eq!(&out[1..], &typed.encode()[..]);
        prop_assert_eq!(IasCcApdu::decode(&out[1..]).unwrap(), typed);
    }
}

/// The strategies reach every alternative of both message CHOICEs.
#[test]
fn every_message_kind_is_generated() {
    let mut runner = TestRunner::new(Config::default());
    let (mut cmii, mut opt) = (BTreeSet::new(), BTreeSet::new());
    for _ in 0..2000 {
        let p = ias_protocol().new_tree(&mut runner).unwrap().current();
        cmii.insert(p.message.asn1_name().unwrap());
        let o = ias_optional_protocol()
            .new_tree(&mut runner)
            .unwrap()
            .current();
        opt.insert(o.message.asn1_name().unwrap());
    }
    assert_eq!(cmii.len(), 12, "{cmii:?}");
    assert_eq!(opt.len(), 7, "{opt:?}");
}

/// Messages back to back on a stream split with `decode_prefix`.
#[test]
fn back_to_back_messages_split() {
    let mut runner = TestRunner::new(Config::default());
    let values: Vec<IasProtocol> = (0..5)
        .map(|_| ias_protocol().new_tree(&mut runner).unwrap().current())
        .collect();
    let mut stream = Vec::new();
    for v in &values {
        v.encode_into(&mut stream);
    }
    let mut rest = &stream[..];
    for v in &values {
        let (got, used) = IasProtocol::decode_prefix(rest).unwrap();
        assert_eq!(&got, v);
        rest = &rest[used..];
    }
    assert!(rest.is_empty());
}
