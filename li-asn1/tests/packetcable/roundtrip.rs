//! encode → decode is the identity for every message kind, and a decoded value re-encodes to
//! the same octets.

use std::collections::BTreeSet;

use li_asn1::packetcable::{CdcPdu, Message};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

use crate::strategies::cdc_pdu;

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn cdc_pdu_roundtrip(p in cdc_pdu()) {
        let octets = p.encode();
        let back = CdcPdu::decode(&octets).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &p);
        prop_assert_eq!(back.encode(), octets);
    }

    /// Messages back to back on a stream: each decode_prefix takes exactly one.
    #[test]
    fn back_to_back(a in cdc_pdu(), b in cdc_pdu()) {
        let mut stream = a.encode();
        let first = stream.len();
        b.encode_into(&mut stream);
        let (x, used) = CdcPdu::decode_prefix(&stream).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(used, first);
        prop_assert_eq!(x, a);
        let (y, _) = CdcPdu::decode_prefix(&stream[used..]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(y, b);
    }
}

/// The strategy reaches every alternative of `Message`, so the round trip above covers each.
#[test]
fn strategy_covers_every_message_kind() {
    let mut runner = TestRunner::new(Config::default());
    let strategy = cdc_pdu();
    let mut seen = BTreeSet::new();
    for _ in 0..2000 {
        let p = strategy.new_tree(&mut runner).unwrap().current();
        seen.insert(p.message.asn1_name().unwrap_or("unknown"));
    }
    let all = [
        "answer",
        "ccclose",
        "ccopen",
        "origination",
        "redirection",
        "release",
        "terminationattempt",
        "ccchange",
        "networksignal",
        "subjectsignal",
        "mediareport",
        "serviceinstance",
        "unknown",
    ];
    assert_eq!(seen, all.into_iter().collect::<BTreeSet<_>>());
    // and Message has no other alternative than these
    let _exhaustive = |m: &Message| match m {
        Message::Answer(_)
        | Message::CcClose(_)
        | Message::CcOpen(_)
        | Message::Origination(_)
        | Message::Redirection(_)
        | Message::Release(_)
        | Message::TerminationAttempt(_)
        | Message::CcChange(_)
        | Message::NetworkSignal(_)
        | Message::SubjectSignal(_)
        | Message::MediaReport(_)
        | Message::ServiceInstance(_)
        | Message::Unknown(_) => (),
    };
}
