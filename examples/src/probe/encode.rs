//! Intercept records as X2/X3 PDUs (ETSI TS 103 221-2), as the mediator reads them.
//!
//! Every PDU carries the task's XID, the record's CIN as a big-endian `u64` in the 8-octet
//! Correlation ID, and the attributes `[SequenceNumber, Timestamp]`: the sequence number
//! counts the PDUs (X2 and X3 together) sent to one destination, from 0; the timestamp is the
//! record's.
//!
//! - CC → X3, payload format IPv4 Packet or IPv6 Packet (from the packet's version nibble),
//!   direction from the record's ([`x2x3_direction`]);
//! - IRI → X2, payload format `Etsi102232` (TS 102 232-1 defined payload): the stand-alone
//!   BER `IRIPayload` ([`iri_payload`]), direction `NotApplicable`.

use li_asn1::{HeaderSettings, Payload};
use li_core::{Cin, IriRecord, Liid, OperatorId, PayloadDirection, Timestamp, Xid};
use li_handover::x2x3::{
    Attribute, PayloadDirection as X2x3Direction, PayloadFormat, Pdu, PduTimestamp, PduType,
};

/// The LIID put in the (discarded) PSHeader built to encode an IRI payload: X2/X3 carry the
/// XID; the LIID never leaves the probe.
const PLACEHOLDER_LIID: &[u8] = b"X2X3";

/// The Correlation ID of a record: its CIN as a big-endian `u64`.
pub fn correlation_id(cin: Cin) -> [u8; 8] {
    u64::from(cin.value()).to_be_bytes()
}

/// The X2/X3 Payload Direction of a li-core direction.
pub fn x2x3_direction(direction: PayloadDirection) -> X2x3Direction {
    match direction {
        PayloadDirection::FromTarget => X2x3Direction::FromTarget,
        PayloadDirection::ToTarget => X2x3Direction::ToTarget,
        PayloadDirection::Combined => X2x3Direction::MultipleDirections,
        PayloadDirection::NotApplicable => X2x3Direction::NotApplicable,
        PayloadDirection::Indeterminate => X2x3Direction::Unknown,
    }
}

/// The Timestamp attribute of a record time; `None` after 2106-02-07 (32-bit seconds).
pub fn pdu_timestamp(time: Timestamp) -> Option<PduTimestamp> {
    PduTimestamp::from_core(time)
}

/// The stand-alone BER `IRIPayload` (TS 102 232-1) of an IRI record; `None` for an event
/// kind li-asn1 cannot encode.
pub fn iri_payload(record: &IriRecord) -> Option<Vec<u8>> {
    let settings = HeaderSettings::new(
        Liid::new(PLACEHOLDER_LIID).ok()?,
        OperatorId::new(b"probe").ok()?,
    );
    match settings.iri_pdu(0, record)?.payload {
        Payload::IriPayloadSequence(payloads) => payloads.into_iter().next().map(|p| p.to_ber()),
        _ => None,
    }
}

/// The X2 PDU of an IRI record whose [`iri_payload`] is `payload`.
pub fn x2_pdu(
    xid: Xid,
    cin: Cin,
    sequence_number: u32,
    timestamp: PduTimestamp,
    payload: &[u8],
) -> Pdu {
    let mut pdu = Pdu::new(
        PduType::X2,
        PayloadFormat::Etsi102232,
        X2x3Direction::NotApplicable,
        xid,
    );
    pdu.correlation_id = correlation_id(cin);
    pdu.attributes = vec![
        Attribute::SequenceNumber(sequence_number),
        Attribute::Timestamp(timestamp),
    ];
    pdu.payload = bytes::Bytes::copy_from_slice(payload);
    pdu
}
