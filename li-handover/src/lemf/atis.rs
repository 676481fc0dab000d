//! ATIS-1000013 on a receiver's stream: which messages are the US family's, and what a
//! receiver records of them.
//!
//! A stream may carry ETSI PS-PDUs or ATIS messages; each message says which by its first
//! octets: a PS-PDU is a SEQUENCE starting with `pSHeader [1]` (constructed), an
//! `IasProtocol` (CmII, or the optional messages) a SEQUENCE starting with its module's
//! OBJECT IDENTIFIER, an `IAS-CC-APDU` / `CC-APDU` a SEQUENCE starting with
//! `ccDeliveryHeader [0]` (or, without one, `payload [1]` primitive), an ATIS-1000678
//! `LAESProtocol` is not a SEQUENCE but its CHOICE's `[0]` or `[1]`. ATIS-1000678 call data
//! becomes IRI lines (`format` `atis-1000678`, `message`, `sip`: the start line of the SIP it
//! carries) and its SIP feeds the call's ladder; a `CC-APDU` whose content identifier is a
//! `callID` is a call's RTP and goes to the call's files as TS 102 232-5 media does. [`read`] looks at
//! that octet and decodes the ATIS ones; the receiver answers link tests by sending them
//! back (`docs/HANDOVER-ATIS.md`) and records the rest as it does ETSI records: CmII as IRI
//! lines of `records.jsonl` (with `format` and `message`), content in the case's pcap and as
//! CC lines, sequenced per (caseId, session) by the `IAS-CC-APDU`'s `sequenceNumber`.

use li_asn1::Error;
use li_asn1::atis::access::{link_test_answer, optional_oid};
use li_asn1::atis::ias::{IasMessage, IasProtocol, IpAddressInfo, Value};
use li_asn1::atis::ias_cc::{CallIdentity, ContentIdentifier, IasCcApdu, PacketDirection};
use li_asn1::atis::ias_opt::{IasOptionalMessage, IasOptionalProtocol};
use li_asn1::atis::laes::{LaesMessage, LaesProtocol};
use li_asn1::ber::first_component_tag;
use li_core::{Liid, Timestamp};
use serde_json::json;

/// An ATIS-1000013 message as a receiver records it.
pub(super) enum Atis {
    /// A link test (keep-alive): sent back once what came before it is stored.
    LinkTest,
    /// A CmII or optional message (ATIS-1000013), or call data (ATIS-1000678).
    Iri {
        /// Its `caseId`.
        liid: Liid,
        /// The session (`packetDataSessionID` or an integer `accessSessionID`), or the call
        /// (`callId` `main`, `correlationID`, `contentIdentifier` in decimal).
        cin: Option<u32>,
        /// Its `timestamp`.
        time: Timestamp,
        /// Its JSON line's fields besides the common ones.
        fields: serde_json::Map<String, serde_json::Value>,
        /// Call data's intercepted SIP, with the place in the call it stands for: for the
        /// call's ladder.
        sip: Option<(li_asn1::IriType, Vec<u8>)>,
    },
    /// An `IAS-CC-APDU`.
    Cc(Content),
}

/// The fields of a content APDU.
pub(super) struct Content {
    pub(super) liid: Liid,
    /// The session: the `correlationID`'s decimal text.
    pub(super) cin: Option<u32>,
    pub(super) seq: u32,
    pub(super) time: Option<Timestamp>,
    pub(super) direction: Option<li_asn1::PayloadDirection>,
    pub(super) packet: Vec<u8>,
    /// The content identifier is a `callID`: a call's media (ATIS-1000678), not an IP
    /// packet of a session.
    pub(super) call: bool,
}

/// What [`read`] makes of a frame.
pub(super) enum Read {
    /// A PS-PDU, or anything not of the ATIS family: for the ETSI decoder.
    NotAtis,
    /// An ATIS-1000013 message.
    Atis(Atis),
    /// An ATIS-1000013 message that does not decode, with its `caseId` when readable.
    Undecodable(Error, Option<Liid>),
}

/// Reads `frame` if it is an ATIS-1000013 message (see the [module docs](self)).
pub(super) fn read(frame: &[u8]) -> Read {
    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    const CC_HEADER: u8 = 0xa0;
    const CC_PAYLOAD: u8 = 0x81;
    const LAES_ENHANCED: u8 = 0xa0;
    const LAES_PLAIN: u8 = 0xa1;
    match frame.first() {
        Some(&SEQUENCE) => {}
        Some(&(LAES_ENHANCED | LAES_PLAIN)) => {
            return match LaesProtocol::decode(frame) {
                Ok(p) => laes_message(p.message()),
                Err(e) => Read::Undecodable(e, None),
            };
        }
        _ => return Read::NotAtis,
    }
    match first_component_tag(frame) {
        Some(OID) => read_cmii(frame),
        Some(CC_HEADER | CC_PAYLOAD) => match IasCcApdu::decode(frame) {
            Ok(apdu) => content(apdu),
            Err(e) => Read::Undecodable(e, None),
        },
        _ => Read::NotAtis,
    }
}

fn read_cmii(frame: &[u8]) -> Read {
    if link_test_answer(frame).is_ok() {
        return Read::Atis(Atis::LinkTest);
    }
    // The optional messages' module is told by its OID; anything else is read as CmII.
    if let Ok(optional) = IasOptionalProtocol::decode(frame)
        && optional.protocol_identifier == optional_oid()
    {
        return optional_message(optional.message);
    }
    match IasProtocol::decode(frame) {
        Ok(p) => cmii_message(p.message),
        Err(e) => Read::Undecodable(e, None),
    }
}

/// The IRI record of an optional message.
fn optional_message(message: IasOptionalMessage) -> Read {
    let name = message.asn1_name().unwrap_or("unknown");
    let (header, status) = match &message {
        IasOptionalMessage::SurveillanceActivation(m) => (&m.header, Some(&m.surveillance_status)),
        IasOptionalMessage::SurveillanceContinuation(m) => {
            (&m.header, Some(&m.surveillance_status))
        }
        IasOptionalMessage::SurveillanceChange(m) => (&m.header, Some(&m.surveillance_status)),
        IasOptionalMessage::SurveillanceDeActivation(m) => {
            (&m.header, Some(&m.surveillance_status))
        }
        IasOptionalMessage::ServiceChange(m) => (&m.header, None),
        IasOptionalMessage::VpnSecurityEstablishment(m) => (&m.header, None),
        IasOptionalMessage::VpnSecurityRelease(m) => (&m.header, None),
        _ => return Read::NotAtis,
    };
    let Ok(liid) = Liid::new(header.case_id.as_bytes()) else {
        return Read::Undecodable(invalid_case_id(), None);
    };
    let mut fields = common(name);
    fields.insert("surveillance_status".into(), json!(status));
    Read::Atis(Atis::Iri {
        liid,
        cin: None,
        time: header.timestamp.timestamp(),
        fields,
        sip: None,
    })
}

fn invalid_case_id() -> Error {
    Error::InvalidValue {
        field: "caseId",
        offset: 0,
        reason: "not an LIID (1 to 25 octets)",
    }
}

/// The fields every ATIS IRI line has.
fn common(message: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = serde_json::Map::new();
    fields.insert("format".into(), json!("atis-1000013"));
    fields.insert("message".into(), json!(message));
    fields
}

/// The IRI record of a CmII message.
fn cmii_message(message: IasMessage) -> Read {
    let name = message.asn1_name().unwrap_or("unknown");
    let mut fields = common(name);
    let mut put = |key: &str, value: serde_json::Value| {
        fields.insert(key.into(), value);
    };
    let (header, subscriber, address, session, data_session) = match &message {
        IasMessage::AccessAttempt(m) => (&m.header, Some(&m.subscriber_identity), None, None, None),
        IasMessage::AccessAccepted(m) => (
            &m.header,
            Some(&m.subscriber_identity),
            m.ip_address.as_ref(),
            Some(&m.access_session_id),
            None,
        ),
        IasMessage::AccessFailed(m) => (
            &m.header,
            Some(&m.subscriber_identity),
            m.ip_address.as_ref(),
            None,
            None,
        ),
        IasMessage::AccessRejected(m) => (
            &m.header,
            Some(&m.subscriber_identity),
            m.ip_address.as_ref(),
            None,
            None,
        ),
        IasMessage::AccessSessionEnd(m) => (
            &m.header,
            Some(&m.subscriber_identity),
            m.ip_address.as_ref(),
            Some(&m.access_session_id),
            None,
        ),
        IasMessage::AccessSignalingMessageReport(m) => {
            put(
                "signaling",
                json!(
                    m.signaling_msg
                        .iter()
                        .map(|s| json!({"type": s.message_type.asn1_name(), "message": s.message}))
                        .collect::<Vec<_>>()
                ),
            );
            (&m.header, None, None, m.access_session_id.as_ref(), None)
        }
        IasMessage::SessionStart(m) => {
            put(
                "content_identifier",
                json!(
                    m.delivery_information
                        .as_ref()
                        .and_then(|d| match &d.content_identifier {
                            ContentIdentifier::CorrelationId(id) =>
                                Some(String::from_utf8_lossy(id)),
                            _ => None,
                        })
                ),
            );
            (
                &m.header,
                Some(&m.subscriber_identity),
                Some(&m.ip_address),
                m.access_session_id.as_ref(),
                Some(&m.packet_data_session_id),
            )
        }
        IasMessage::SessionAlreadyEstablished(m) => (
            &m.header,
            Some(&m.subscriber_identity),
            Some(&m.ip_address),
            m.access_session_id.as_ref(),
            Some(&m.packet_data_session_id),
        ),
        IasMessage::SessionEnd(m) => (
            &m.header,
            Some(&m.subscriber_identity),
            Some(&m.ip_address),
            m.access_session_id.as_ref(),
            Some(&m.packet_data_session_id),
        ),
        IasMessage::SessionFailed(m) => (
            &m.header,
            Some(&m.subscriber_identity),
            None,
            m.access_session_id.as_ref(),
            None,
        ),
        IasMessage::DataHeaderReport(m) => (&m.header, None, None, None, None),
        IasMessage::DataSummaryReport(m) => (&m.header, None, None, None, None),
        _ => return Read::NotAtis,
    };
    put("subscriber", json!(subscriber.map(value_text)));
    put(
        "address",
        json!(
            address
                .and_then(|a: &IpAddressInfo| a.address.to_ip_addr())
                .map(|a| a.to_string())
        ),
    );
    put("access_session", json!(session.map(value_text)));
    let Ok(liid) = Liid::new(header.case_id.as_bytes()) else {
        return Read::Undecodable(invalid_case_id(), None);
    };
    // The session: packetDataSessionID, else an integer accessSessionID (the mediator's
    // CIN when the access has no accounting session of its own).
    let cin = data_session.or(session).and_then(|v| match v {
        Value::Integer(n) => u32::try_from(*n).ok(),
        _ => None,
    });
    Read::Atis(Atis::Iri {
        liid,
        cin,
        time: header.timestamp.timestamp(),
        fields,
        sip: None,
    })
}

/// The record of an ATIS-1000678 call-data message; a link test is [`Atis::LinkTest`].
fn laes_message(message: &LaesMessage) -> Read {
    use li_asn1::IriType;
    let name = message.asn1_name().unwrap_or("unknown");
    let main = |c: &CallIdentity| c.main.parse().ok();
    let content = |c: &ContentIdentifier| match c {
        ContentIdentifier::CallId(c) => main(c),
        ContentIdentifier::CorrelationId(id) => {
            std::str::from_utf8(id).ok().and_then(|s| s.parse().ok())
        }
        _ => None,
    };
    let (header, cin, signaling, iri_type) = match message {
        LaesMessage::ConnTest(t) => {
            return match t.memo.as_deref() {
                Some(memo) if memo.starts_with("link test ") => Read::Atis(Atis::LinkTest),
                _ => Read::NotAtis,
            };
        }
        LaesMessage::Origination(m) => (
            &m.header,
            main(&m.call_id),
            m.signaling_msg.as_ref(),
            IriType::Begin,
        ),
        LaesMessage::TermAttempt(m) => (
            &m.header,
            main(&m.call_id),
            m.signaling_msg.as_ref(),
            IriType::Begin,
        ),
        LaesMessage::Answer(m) => (
            &m.header,
            main(&m.call_id),
            m.signaling_msg.as_ref(),
            IriType::Continue,
        ),
        LaesMessage::Redirection(m) => (
            &m.header,
            main(&m.call_id),
            m.signaling_msg.as_ref(),
            IriType::Continue,
        ),
        LaesMessage::MediaAndAddressReporting(m) => (
            &m.header,
            main(&m.call_id),
            m.signaling_msg.as_ref(),
            IriType::Continue,
        ),
        // Not End: the SIP that ends the call (the 200 to the BYE) comes after the Release
        // and would open the call's files again; they close after their grace instead.
        LaesMessage::Release(m) => (
            &m.header,
            main(&m.call_id),
            m.signaling_msg.as_ref(),
            IriType::Continue,
        ),
        LaesMessage::ServingSystem(m) => {
            (&m.header, None, m.signaling_msg.as_ref(), IriType::Report)
        }
        LaesMessage::DirectSignalReporting(m) => (
            &m.header,
            std::str::from_utf8(&m.correlation_id)
                .ok()
                .and_then(|s| s.parse().ok()),
            Some(&m.signaling_msg),
            IriType::Continue,
        ),
        LaesMessage::CcOpen(m) => (
            &m.header,
            content(&m.content_identifier),
            None,
            IriType::Continue,
        ),
        LaesMessage::CcChange(m) => (
            &m.header,
            content(&m.content_identifier),
            None,
            IriType::Continue,
        ),
        LaesMessage::CcClose(m) => (
            &m.header,
            content(&m.content_identifier),
            None,
            IriType::Continue,
        ),
        LaesMessage::SurveillanceStatus(m) => (&m.header, None, None, IriType::Report),
        // The kinds the suite does not produce are recorded too (never dropped while the
        // link test after them is answered).
        LaesMessage::Change(m) => (&m.header, None, None, IriType::Continue),
        LaesMessage::ConfPartyChange(m) => (&m.header, None, None, IriType::Continue),
        LaesMessage::Connection(m) => (&m.header, None, None, IriType::Continue),
        LaesMessage::ConnectionBreak(m) => (&m.header, None, None, IriType::Continue),
        LaesMessage::DialedDgtExtrn(m) => (&m.header, main(&m.call_id), None, IriType::Continue),
        LaesMessage::NetworkSignal(m) => (&m.header, None, None, IriType::Continue),
        LaesMessage::SubjectSignal(m) => (&m.header, None, None, IriType::Continue),
        LaesMessage::FeatureManagement(m) => (&m.header, None, None, IriType::Continue),
        LaesMessage::UuContent(m) => (&m.header, main(&m.call_id), None, IriType::Continue),
        LaesMessage::CcUnavailable(m) => (&m.header, main(&m.call_id), None, IriType::Continue),
        _ => return Read::NotAtis,
    };
    let Ok(liid) = Liid::new(header.case_id.as_str().as_bytes()) else {
        return Read::Undecodable(invalid_case_id(), None);
    };
    let mut fields = serde_json::Map::new();
    fields.insert("format".into(), json!("atis-1000678"));
    fields.insert("message".into(), json!(name));
    let sip = signaling
        .and_then(|s| {
            s.iter()
                .find(|m| m.signaling_prot.eq_ignore_ascii_case("SIP"))
        })
        .map(|m| m.sig_msg.clone());
    fields.insert(
        "sip".into(),
        json!(sip.as_ref().map(|m| {
            let line = m
                .split(|&b| b == b'\r' || b == b'\n')
                .next()
                .unwrap_or_default();
            String::from_utf8_lossy(line.get(..line.len().min(200)).unwrap_or_default())
                .into_owned()
        })),
    );
    Read::Atis(Atis::Iri {
        liid,
        cin,
        time: header.timestamp.timestamp(),
        fields,
        sip: sip.map(|m| (iri_type, m)),
    })
}

/// A `Value` as text (octets lossy).
fn value_text(v: &Value) -> String {
    match v {
        Value::StringVs(s) | Value::StringUtf8(s) | Value::Numeric(s) => s.clone(),
        Value::Integer(n) => n.to_string(),
        Value::Octets(o) => String::from_utf8_lossy(o).into_owned(),
        Value::Unknown(_) => "?".to_owned(),
    }
}

/// The content record of an `IAS-CC-APDU`.
fn content(apdu: IasCcApdu) -> Read {
    let Some(header) = apdu.delivery_header else {
        // Without its header it belongs to no case: nothing to file it under.
        return Read::Undecodable(
            Error::MissingField {
                field: "IAS-CC-APDU.ccDeliveryHeader",
                offset: 0,
            },
            None,
        );
    };
    let info = header.correlation_info;
    let Some(liid) = info.case_id.and_then(|c| Liid::new(c.as_bytes()).ok()) else {
        return Read::Undecodable(invalid_case_id(), None);
    };
    let (cin, call) = match &info.content_identifier {
        ContentIdentifier::CorrelationId(id) => (
            std::str::from_utf8(id).ok().and_then(|s| s.parse().ok()),
            false,
        ),
        ContentIdentifier::CallId(c) => (c.main.parse().ok(), true),
        _ => (None, false),
    };
    let direction = header.packet_direction.map(|d| match d {
        PacketDirection::FromSubject => li_asn1::PayloadDirection::FromTarget,
        PacketDirection::ToSubject => li_asn1::PayloadDirection::ToTarget,
    });
    Read::Atis(Atis::Cc(Content {
        liid,
        cin,
        seq: header
            .sequence_number
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        time: header.time_stamp.map(|t| t.timestamp()),
        direction,
        packet: apdu.payload,
        call,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Hostile octets shaped like an ATIS message (a SEQUENCE, or the LAESProtocol
        /// CHOICE) are read without a panic: a message, undecodable, or not ATIS.
        #[test]
        fn any_frame_is_read_without_panic(
            first in proptest::sample::select(vec![0x30u8, 0xa0, 0xa1]),
            rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let mut frame = vec![first];
            frame.extend_from_slice(&rest);
            let _ = read(&frame);
        }
    }

    #[test]
    fn a_laes_frame_that_does_not_decode_is_undecodable_not_skipped_as_etsi() {
        assert!(matches!(
            read(&[0xa1, 0x03, 0x02, 0x01, 0x00]),
            Read::Undecodable(..)
        ));
        // A PS-PDU (pSHeader [1] first) is left to the ETSI decoder.
        assert!(matches!(
            read(&[0x30, 0x03, 0xa1, 0x01, 0x00]),
            Read::NotAtis
        ));
        assert!(matches!(read(&[0x04, 0x00]), Read::NotAtis));
    }
}
