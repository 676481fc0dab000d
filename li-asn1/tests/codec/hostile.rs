//! Hostile and malformed input: errors that name the place, never a panic.

use li_asn1::ber::{DEFAULT_MAX_DEPTH, Reader, Tlv, Writer};
use li_asn1::{Error, PsPdu};
use proptest::prelude::*;

use crate::strategies::ps_pdu;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = PsPdu::decode(&data);
        let _ = li_asn1::ber::frame_len(&data, 4096);
    }

    #[test]
    fn corrupted_pdus_never_panic(pdu in ps_pdu(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut data = pdu.encode();
        for (i, b) in flips {
            let i = i.index(data.len());
            data[i] ^= b | 1;
        }
        if let Err(e) = PsPdu::decode(&data) {
            prop_assert!(e.offset() <= data.len(), "{e} beyond {}", data.len());
        }
    }

    #[test]
    fn truncated_pdus_are_errors(pdu in ps_pdu(), cut in any::<prop::sample::Index>()) {
        let data = pdu.encode();
        let cut = cut.index(data.len());
        prop_assert!(PsPdu::decode(&data[..cut]).is_err());
        prop_assert_eq!(li_asn1::ber::frame_len(&data[..cut], 1 << 20).unwrap(), None);
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    // 100 000 nested definite SEQUENCEs around a NULL, within a PS-PDU's [1] header slot.
    let mut inner = vec![0x05, 0x00];
    for _ in 0..100_000 {
        let mut outer = vec![0x30];
        let len = inner.len();
        if len < 128 {
            outer.push(len as u8);
        } else {
            outer.push(0x84);
            outer.extend_from_slice(&(len as u32).to_be_bytes());
        }
        outer.extend_from_slice(&inner);
        inner = outer;
    }
    let err = PsPdu::decode(&inner).unwrap_err();
    // The PS-PDU decoder reads the top SEQUENCE's children; the deep chain sits in an unknown
    // slot and is skipped without descending, so the error is the missing header.
    assert!(
        matches!(
            err,
            Error::MissingField {
                field: "PS-PDU.pSHeader",
                offset: 0
            }
        ),
        "{err}"
    );

    let mut indefinite = Vec::new();
    for _ in 0..100_000 {
        indefinite.extend_from_slice(&[0x30, 0x80]);
    }
    let err = Reader::new(&indefinite).read().unwrap_err();
    assert!(
        matches!(
            err,
            Error::DepthExceeded {
                limit: DEFAULT_MAX_DEPTH,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn errors_name_field_and_offset() {
    let good = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/ps-pdu-ipcc.ber"
    ))
    .unwrap();
    // sequenceNumber [4] at offset 0x38: make it negative.
    let mut bad = good.clone();
    assert_eq!(&bad[0x38..0x3b], &[0x84, 0x01, 0x07]);
    bad[0x3a] = 0x87;
    let err = PsPdu::decode(&bad).unwrap_err();
    assert_eq!(
        err,
        Error::InvalidValue {
            field: "PSHeader.sequenceNumber",
            offset: 0x38,
            reason: "negative value for an unsigned field"
        }
    );
    assert!(err.to_string().contains("PSHeader.sequenceNumber"));
    // LIID of 30 octets is outside TS 103 280's 1..25.
    let tlv = Reader::new(&good).read().unwrap();
    let bad = replace_at(&tlv, &[1, 1], &[b'X'; 30]);
    let err = PsPdu::decode(&bad).unwrap_err();
    assert_eq!(
        err,
        Error::InvalidValue {
            field: "PSHeader.lawfulInterceptionIdentifier",
            offset: 14,
            reason: "LIID must be 1..25 octets"
        }
    );
    // A PSHeader without its sequenceNumber.
    let err = PsPdu::decode(&remove_at(&tlv, &[1, 4])).unwrap_err();
    assert_eq!(
        err,
        Error::MissingField {
            field: "PSHeader.sequenceNumber",
            offset: 3
        }
    );
}

/// Re-encodes `tlv` with the primitive element at the context-tag `path` given new content.
fn replace_at(tlv: &Tlv<'_>, path: &[u32], content: &[u8]) -> Vec<u8> {
    edit(tlv, path, Some(content))
}

/// Re-encodes `tlv` without the element at `path`.
fn remove_at(tlv: &Tlv<'_>, path: &[u32]) -> Vec<u8> {
    edit(tlv, path, None)
}

fn edit(tlv: &Tlv<'_>, path: &[u32], content: Option<&[u8]>) -> Vec<u8> {
    let mut w = Writer::new();
    w.constructed(tlv.tag, |w| {
        let mut r = tlv.children("edit").unwrap();
        while let Some(child) = r.next_tlv().unwrap() {
            let here = child.tag.context_number() == path.first().copied();
            if here && path.len() == 1 {
                if let Some(c) = content {
                    w.primitive(child.tag, c);
                }
            } else if here && child.tag.constructed {
                w.raw(&edit(&child, &path[1..], content));
            } else {
                let at = child.offset - tlv.content_offset;
                w.raw(&tlv.content[at..at + child.encoded_len]);
            }
        }
    });
    w.into_vec()
}

/// A hostile IPMMCC inside a whole PS-PDU: the error names the TS 102 232-5 field and points
/// into it.
#[test]
fn hostile_ipmmcc_fields_are_named() {
    use li_asn1::HeaderSettings;
    use li_asn1::ipmm::{FrameType, MediaStream};
    use li_core::{Cin, Liid, OperatorId, Timestamp};

    let s = HeaderSettings::new(Liid::new(b"L").unwrap(), OperatorId::new(b"OP").unwrap());
    let stream = MediaStream::new(FrameType::RtpFrame);
    let pdu = s.ipmm_cc_pdu(
        Cin::new(1),
        0,
        Timestamp::UNIX_EPOCH,
        li_asn1::PayloadDirection::ToTarget,
        &stream,
        &[0x30, 0x03, 0x02, 0x01, 0x07],
    );
    let data = pdu.encode();
    // mMCCContents [1] 5 octets, then frameType [2] 1 octet: the last 9 octets.
    let at = data.len() - 10;
    assert_eq!(&data[at..at + 2], &[0x81, 5]);
    // mMCCContents in the constructed form, its "segments" not OCTET STRINGs.
    let mut constructed = data.clone();
    constructed[at] = 0xa1;
    let err = PsPdu::decode(&constructed).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnexpectedTag {
                field: "IPMMCC.mMCCContents",
                offset,
                ..
            } if offset == at + 2
        ),
        "{err}"
    );
    // frameType as an empty INTEGER (every enclosing length one octet shorter).
    let mut empty = data.clone();
    let ft = data.len() - 3;
    assert_eq!(&data[ft..], &[0x82, 1, 2]);
    empty[ft + 1] = 0;
    empty.pop();
    let shortened = shorten_enclosing(&empty, ft);
    let err = PsPdu::decode(&shortened).unwrap_err();
    assert!(
        matches!(err, Error::InvalidValue { field: "IPMMCC.frameType", offset, .. } if offset == ft),
        "{err}"
    );
}

/// Decrements by one the (short-form) length of every constructed element of `data` that
/// contains `offset`, after one octet was removed from the element at `offset`.
fn shorten_enclosing(data: &[u8], offset: usize) -> Vec<u8> {
    let mut out = data.to_vec();
    let mut pos = 0;
    // walk down: at each level, the element containing `offset`
    while pos < offset {
        let len = out[pos + 1] as usize;
        assert!(len < 0x80, "short-form lengths only");
        out[pos + 1] -= 1;
        if out[pos] & 0x20 == 0 {
            break;
        }
        // children start after the 2-octet header
        let mut child = pos + 2;
        loop {
            let clen = out[child + 1] as usize;
            let end = child + 2 + clen;
            if offset < end || child == offset {
                break;
            }
            child = end;
        }
        if child == offset {
            break;
        }
        pos = child;
    }
    out
}
