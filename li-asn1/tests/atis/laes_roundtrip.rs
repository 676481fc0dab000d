//! ATIS-1000678: encode → decode is the identity for every message kind and a decoded value
//! re-encodes to the same octets. (CC-APDU is the IAS-CC-APDU model: roundtrip.rs checks its
//! hot path against the typed encoder for both families.)

use std::collections::BTreeSet;

use li_asn1::atis::laes::LaesProtocol;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

use crate::laes_strategies::{laes_message, laes_protocol};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn laes_roundtrip(p in laes_protocol()) {
        let octets = p.encode();
        let back = LaesProtocol::decode(&octets).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(back.encode(), octets);
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
