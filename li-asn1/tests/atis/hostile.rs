//! Hostile and malformed input: errors that name the field and the place, never a panic.

use li_asn1::Error;
use li_asn1::atis::ias::IasProtocol;
use li_asn1::atis::ias_cc::IasCcApdu;
use li_asn1::atis::ias_opt::IasOptionalProtocol;
use li_asn1::ber::{Tag, Writer};
use proptest::prelude::*;

use crate::strategies::{cc_apdu, ias_optional_protocol, ias_protocol};

fn decode_all(data: &[u8]) {
    for r in [
        IasProtocol::decode(data).map(drop),
        IasOptionalProtocol::decode(data).map(drop),
        IasCcApdu::decode(data).map(drop),
    ] {
        if let Err(e) = r {
            assert!(e.offset() <= data.len(), "{e} beyond {}", data.len());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&data);
    }

    #[test]
    fn corrupted_messages_never_panic(
        p in ias_protocol(),
        o in ias_optional_protocol(),
        a in cc_apdu(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        for mut data in [p.encode(), o.encode(), a.encode()] {
            for (i, b) in &flips {
                let i = i.index(data.len());
                data[i] ^= b | 1;
            }
            decode_all(&data);
        }
    }

    #[test]
    fn truncated_messages_are_errors(
        p in ias_protocol(),
        o in ias_optional_protocol(),
        a in cc_apdu(),
        cut in any::<prop::sample::Index>(),
    ) {
        let data = p.encode();
        prop_assert!(IasProtocol::decode(&data[..cut.index(data.len())]).is_err());
        let data = o.encode();
        prop_assert!(IasOptionalProtocol::decode(&data[..cut.index(data.len())]).is_err());
        let data = a.encode();
        prop_assert!(IasCcApdu::decode(&data[..cut.index(data.len())]).is_err());
    }
}

/// `IasProtocol { oid, [0] Access-Attempt { fields } }` written by hand.
fn access_attempt(fields: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new();
    w.constructed(Tag::SEQUENCE, |w| {
        w.subidentifiers(Tag::OBJECT_IDENTIFIER, [42, 840, 113_737, 2, 1, 1, 0, 0]);
        w.constructed(Tag::context_constructed(0), fields);
    });
    w.into_vec()
}

fn header(w: &mut Writer, case: &[u8]) {
    w.primitive(Tag::context(0), case);
    w.primitive(Tag::context(1), b"IAP");
    w.primitive(Tag::context(2), b"20240102030405Z");
}

fn subscriber(w: &mut Writer) {
    w.constructed(Tag::context_constructed(3), |w| {
        w.primitive(Tag::context(1), b"alice")
    });
}

#[test]
fn hand_made_message_decodes() {
    let data = access_attempt(|w| {
        header(w, b"CASE");
        subscriber(w);
        // an unknown component from a later version is skipped
        w.primitive(Tag::context(30), b"future");
    });
    assert!(IasProtocol::decode(&data).is_ok());
}

#[test]
fn missing_mandatory_field_is_named() {
    let data = access_attempt(|w| header(w, b"CASE"));
    assert_eq!(
        IasProtocol::decode(&data).unwrap_err(),
        Error::MissingField {
            field: "Access-Attempt.subscriberIdentity",
            offset: 15
        }
    );
    let data = access_attempt(|w| {
        w.primitive(Tag::context(1), b"IAP");
        w.primitive(Tag::context(2), b"20240102030405Z");
        subscriber(w);
    });
    assert!(matches!(
        IasProtocol::decode(&data).unwrap_err(),
        Error::MissingField {
            field: "Access-Attempt.caseId",
            ..
        }
    ));
}

#[test]
fn duplicate_field_is_named() {
    let data = access_attempt(|w| {
        header(w, b"CASE");
        subscriber(w);
        subscriber(w);
    });
    assert!(matches!(
        IasProtocol::decode(&data).unwrap_err(),
        Error::DuplicateField {
            field: "Access-Attempt.subscriberIdentity",
            ..
        }
    ));
}

#[test]
fn constraint_violations_are_named() {
    let data = access_attempt(|w| {
        header(w, b"CASE-IDENTITY-LONGER-THAN-25");
        subscriber(w);
    });
    let err = IasProtocol::decode(&data).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidValue {
                field: "Access-Attempt.caseId",
                offset: 17,
                ..
            }
        ),
        "{err}"
    );
    let data = access_attempt(|w| {
        header(w, b"CASE\x07");
        subscriber(w);
    });
    assert!(matches!(
        IasProtocol::decode(&data).unwrap_err(),
        Error::InvalidValue {
            field: "Access-Attempt.caseId",
            ..
        }
    ));
}

#[test]
fn wrong_tags_are_named() {
    // the outer element is not a SEQUENCE
    let err = IasProtocol::decode(&[0xa0, 0x00]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnexpectedTag {
                field: "IasProtocol",
                offset: 0,
                ..
            }
        ),
        "{err}"
    );
    // subscriberIdentity [3] in the primitive form: an explicit tag needs the constructed one
    let data = access_attempt(|w| {
        header(w, b"CASE");
        w.primitive(Tag::context(3), b"alice");
    });
    let err = IasProtocol::decode(&data).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidValue {
                field: "Access-Attempt.subscriberIdentity",
                ..
            }
        ),
        "{err}"
    );
    // an IAS-CC-APDU without its payload
    let err = IasCcApdu::decode(&[0x30, 0x03, 0x02, 0x01, 0x00]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MissingField {
                field: "CC-APDU.payload",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn huge_lengths_are_errors_not_allocations() {
    // a SEQUENCE claiming 2^56 octets
    let data = [0x30, 0x88, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x06, 0x01, 0x2a];
    decode_all(&data);
    assert!(matches!(
        IasProtocol::decode(&data).unwrap_err(),
        Error::Truncated { offset: 0, .. }
    ));
    // a payload claiming more than its APDU holds
    let data = [0x30, 0x06, 0x81, 0x84, 0x7f, 0xff, 0xff, 0xff];
    assert!(matches!(
        IasCcApdu::decode(&data).unwrap_err(),
        Error::InvalidLength { .. } | Error::Truncated { .. }
    ));
    // trailing octets after one message
    let mut data = access_attempt(|w| {
        header(w, b"CASE");
        subscriber(w);
    });
    let len = data.len();
    data.push(0);
    assert_eq!(
        IasProtocol::decode(&data).unwrap_err(),
        Error::TrailingData {
            offset: len,
            count: 1
        }
    );
}

#[test]
fn nested_constraint_violations_name_the_inner_field() {
    // Access-Failed [2] whose iPAddress [4] holds an ipV4 of 3 octets (IPvalue is 4..16)
    let mut w = Writer::new();
    w.constructed(Tag::SEQUENCE, |w| {
        w.subidentifiers(Tag::OBJECT_IDENTIFIER, [42, 840]);
        w.constructed(Tag::context_constructed(2), |w| {
            header(w, b"CASE");
            subscriber(w);
            w.constructed(Tag::context_constructed(4), |w| {
                w.constructed(Tag::context_constructed(0), |w| {
                    w.primitive(Tag::context(1), &[10, 0, 0]);
                });
                w.constructed(Tag::context_constructed(1), |w| w.null(Tag::context(1)));
            });
        });
    });
    let err = IasProtocol::decode(w.as_slice()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidValue {
                field: "IPAddress.address",
                reason: "size outside the constraint",
                ..
            }
        ),
        "{err}"
    );
    // an allocationMethod NULL with content
    let mut w = Writer::new();
    w.constructed(Tag::SEQUENCE, |w| {
        w.subidentifiers(Tag::OBJECT_IDENTIFIER, [42, 840]);
        w.constructed(Tag::context_constructed(2), |w| {
            header(w, b"CASE");
            subscriber(w);
            w.constructed(Tag::context_constructed(4), |w| {
                w.constructed(Tag::context_constructed(0), |w| {
                    w.primitive(Tag::context(1), &[10, 0, 0, 1]);
                });
                w.constructed(Tag::context_constructed(1), |w| {
                    w.primitive(Tag::context(1), &[0]);
                });
            });
        });
    });
    let err = IasProtocol::decode(w.as_slice()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidValue {
                field: "IPAddress.allocationMethod",
                ..
            }
        ),
        "{err}"
    );
}
