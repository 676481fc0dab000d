//! ATIS-1000678: encode → decode is the identity for every message kind, a decoded value
//! re-encodes to the same octets, and the CC-APDU hot path matches the typed encoder.

use std::collections::BTreeSet;

use li_asn1::GeneralizedTime;
use li_asn1::atis::laes::LaesProtocol;
use li_asn1::atis::laes_cc::{
    CcApdu, CcApduEncoder, CcDeliveryHeader, CorrelationInfo, PacketDirection,
};
use li_core::Timestamp;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

use crate::laes_strategies::{laes_message, laes_protocol};
use crate::strategies::{content_identifier, visible};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn laes_roundtrip(p in laes_protocol()) {
        let octets = p.encode();
        let back = LaesProtocol::decode(&octets).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(back.encode(), octets);
    }

    /// The T1.678 name of the shared model: `CC-APDU` with the T1.678 samples' shape.
    #[test]
    fn cc_apdu_encoder_matches_typed(
        case in visible(1, 25),
        iap in proptest::option::of(visible(1, 15)),
        content in content_identifier(),
        seq in any::<i64>(),
        secs in 0u64..4_102_444_800,
        micros in 0u32..1_000_000,
        to_subject in any::<bool>(),
        packet in proptest::collection::vec(any::<u8>(), 0..1600),
    ) {
        let time = Timestamp::from_secs_micros(secs, micros).unwrap();
        let dir = if to_subject { PacketDirection::ToSubject } else { PacketDirection::FromSubject };
        let mut out = Vec::new();
        CcApduEncoder::new(&case, iap.as_deref(), &content).encode(seq, time, dir, &packet, &mut out);
        let typed = CcApdu {
            delivery_header: Some(CcDeliveryHeader {
                correlation_info: CorrelationInfo {
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
        prop_assert_eq!(&out, &typed.encode());
        prop_assert_eq!(CcApdu::decode(&out).unwrap(), typed);
    }
}

/// The strategy reaches all 24 alternatives and the unknown one.
#[test]
fn every_laes_message_kind_is_generated() {
    let mut runner = TestRunner::new(Config::default());
    let mut kinds = BTreeSet::new();
    for _ in 0..3000 {
        let m = laes_message().new_tree(&mut runner).unwrap().current();
        kinds.insert(m.asn1_name().unwrap_or("unknown"));
    }
    assert_eq!(kinds.len(), 25, "{kinds:?}");
}

/// Messages back to back on a stream split with `decode_prefix`.
#[test]
fn back_to_back_laes_messages_split() {
    let mut runner = TestRunner::new(Config::default());
    let values: Vec<LaesProtocol> = (0..8)
        .map(|_| laes_protocol().new_tree(&mut runner).unwrap().current())
        .collect();
    let mut stream = Vec::new();
    for v in &values {
        v.encode_into(&mut stream);
    }
    let mut rest = &stream[..];
    for v in &values {
        let (got, used) = LaesProtocol::decode_prefix(rest).unwrap();
        assert_eq!(&got, v);
        rest = &rest[used..];
    }
    assert!(rest.is_empty());
}
