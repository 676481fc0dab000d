//! proptest strategies for every type of the PS-PDU model.

use li_asn1::ipaccess::{
    AccessEventType, AuthenticationType, EndReason, FramedRoute, InternetAccessType, IpIriIdType,
    IpVersion, NationalIpIriParameters, OtherTargetIdentifier,
};
use li_asn1::ipmm::{
    AdditionalSignalling, FrameType, H323Message, H323MessageContent, IpmmCc, IpmmIri,
    IpmmIriContents, MmccProtocol, NationalIpmmIriParameters, SipMessage,
};
use li_asn1::pdu::{
    CheckType, CommunicationIdentifier, DataType, HashAlgorithm, IntegrityCheck, IpAddress,
    IpAssignment, IpType, IpValue, MicroSecondTimeStamp, NetworkIdentifier, OperatorLeaMessage,
    OperatorLeaMessagePriority, PduOption, SignatureAlgorithm, TimeStampQualifier,
};
use li_asn1::{
    CcContents, CcPayload, GeneralizedTime, IpCc, IpCcContents, IpIri, IpIriContents, IriContents,
    IriPayload, IriType, ObjectIdentifier, Opaque, Payload, PayloadDirection, PsHeader, PsPdu,
    RelativeOid, TriPayload, UnknownAlternative,
};
use li_core::{Liid, Timestamp};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

pub(crate) fn bytes(min: usize, max: usize) -> BoxedStrategy<Vec<u8>> {
    vec(any::<u8>(), min..=max).boxed()
}

pub(crate) fn printable(min: usize, max: usize) -> BoxedStrategy<String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9 '()+,./:=?-]{{{min},{max}}}"))
        .unwrap()
        .boxed()
}

pub(crate) fn utf8(min: usize, max: usize) -> BoxedStrategy<String> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9äöü€ -]{{{min},{max}}}"))
        .unwrap()
        .boxed()
}

pub(crate) fn timestamp() -> BoxedStrategy<Timestamp> {
    // 1970-01-01 .. 9999-12-31
    (0u64..253_402_300_799, 0u32..1_000_000)
        .prop_map(|(s, us)| Timestamp::from_secs_micros(s, us).unwrap())
        .boxed()
}

pub(crate) fn gtime() -> BoxedStrategy<GeneralizedTime> {
    timestamp()
        .prop_map(GeneralizedTime::from_timestamp)
        .boxed()
}

pub(crate) fn micro() -> BoxedStrategy<MicroSecondTimeStamp> {
    (any::<u64>(), 0u32..1_000_000)
        .prop_map(|(seconds, micro_seconds)| MicroSecondTimeStamp {
            seconds,
            micro_seconds,
        })
        .boxed()
}

pub(crate) fn oid() -> BoxedStrategy<ObjectIdentifier> {
    (0u64..3, 0u64..40, vec(any::<u64>(), 0..8))
        .prop_map(|(a, b, rest)| {
            let mut arcs = vec![a, b];
            arcs.extend(rest);
            ObjectIdentifier::new(&arcs).unwrap()
        })
        .boxed()
}

pub(crate) fn rel_oid() -> BoxedStrategy<RelativeOid> {
    vec(any::<u64>(), 1..8)
        .prop_map(|a| RelativeOid::new(&a).unwrap())
        .boxed()
}

/// An unmodelled alternative; `first_free` is the lowest tag number the type leaves unused.
pub(crate) fn unknown(first_free: u32) -> BoxedStrategy<UnknownAlternative> {
    (first_free..200, bytes(0, 20))
        .prop_map(|(tag_number, content)| UnknownAlternative {
            tag_number,
            value: Opaque {
                constructed: false,
                content,
            },
        })
        .boxed()
}

macro_rules! ext_enum {
    ($name:ident, $ty:ty) => {
        pub(crate) fn $name() -> BoxedStrategy<$ty> {
            (0i64..14).prop_map(<$ty>::from_value).boxed()
        }
    };
}
ext_enum!(tsq, TimeStampQualifier);
ext_enum!(direction, PayloadDirection);
ext_enum!(access_event, AccessEventType);
ext_enum!(access_type, InternetAccessType);
ext_enum!(ip_version, IpVersion);
ext_enum!(end_reason, EndReason);
ext_enum!(auth_type, AuthenticationType);
ext_enum!(ip_type, IpType);
ext_enum!(ip_assignment, IpAssignment);
ext_enum!(check_type, CheckType);
ext_enum!(data_type, DataType);
ext_enum!(hash_alg, HashAlgorithm);
ext_enum!(sig_alg, SignatureAlgorithm);
ext_enum!(lea_priority, OperatorLeaMessagePriority);
ext_enum!(frame_type, FrameType);
ext_enum!(mmcc_protocol, MmccProtocol);

pub(crate) fn iri_type() -> BoxedStrategy<IriType> {
    prop_oneof![
        Just(IriType::Begin),
        Just(IriType::End),
        Just(IriType::Continue),
        Just(IriType::Report)
    ]
    .boxed()
}

pub(crate) fn header() -> BoxedStrategy<PsHeader> {
    (
        oid(),
        bytes(1, 25),
        of(printable(2, 2)),
        communication_identifier(),
        any::<u32>(),
        of(gtime()),
        of(printable(1, 8)),
        of(micro()),
        of(tsq()),
        of(bytes(1, 40)),
        of(bytes(1, 40)),
    )
        .prop_map(
            |(domain, liid, acc, ci, seq, ts, ipid, usec, tsq, eipid, nfid)| PsHeader {
                li_ps_domain_id: domain,
                lawful_interception_identifier: Liid::new(&liid).unwrap(),
                authorization_country_code: acc,
                communication_identifier: ci,
                sequence_number: seq,
                time_stamp: ts,
                interception_point_id: ipid,
                micro_second_time_stamp: usec,
                time_stamp_qualifier: tsq,
                extended_interception_point_id: eipid,
                network_function_identifier: nfid,
                invalid_fields: Vec::new(),
            },
        )
        .boxed()
}

fn opaque() -> BoxedStrategy<Opaque> {
    bytes(0, 16)
        .prop_map(|content| Opaque {
            constructed: false,
            content,
        })
        .boxed()
}

pub(crate) fn communication_identifier() -> BoxedStrategy<CommunicationIdentifier> {
    (
        bytes(1, 16),
        of(bytes(1, 16)),
        of(opaque()),
        of(any::<u32>()),
        of(printable(2, 2)),
        of(opaque()),
    )
        .prop_map(|(op, ne, ne671, cin, dcc, ext)| CommunicationIdentifier {
            network_identifier: NetworkIdentifier {
                operator_identifier: op,
                network_element_identifier: ne,
                etsi671_neid: ne671,
            },
            communication_identity_number: cin,
            delivery_country_code: dcc,
            cin_extension: ext,
        })
        .boxed()
}

pub(crate) fn ip_address() -> BoxedStrategy<IpAddress> {
    (
        ip_type(),
        prop_oneof![
            bytes(4, 16).prop_map(IpValue::Binary),
            proptest::string::string_regex("[0-9a-f.:/]{7,45}")
                .unwrap()
                .prop_map(IpValue::Text),
            unknown(3).prop_map(IpValue::Other),
        ],
        of(ip_assignment()),
        of(1u8..=128),
        of(any::<[u8; 4]>()),
        of(any::<bool>()),
    )
        .prop_map(|(ip_type, ip_value, asg, plen, mask, nat)| IpAddress {
            ip_type,
            ip_value,
            ip_assignment: asg,
            ipv6_prefix_length: plen,
            ipv4_subnet_mask: mask,
            ip_nat_translated: nat,
        })
        .boxed()
}

pub(crate) fn ipiri_contents() -> BoxedStrategy<IpIriContents> {
    let a = (
        access_event(),
        bytes(0, 40),
        access_type(),
        ip_version(),
        of(ip_address()),
        of(utf8(1, 20)),
        of(utf8(1, 128)),
        of(utf8(1, 64)),
        of(any::<u32>()),
        of(utf8(1, 20)),
    )
        .boxed();
    let b = (
        of(gtime()),
        of(gtime()),
        of(end_reason()),
        of(any::<u64>()),
        of(any::<u64>()),
        of(bytes(0, 64)),
        of(gtime()),
        of(utf8(1, 20)),
        of(prop_oneof![
            utf8(1, 128).prop_map(IpIriIdType::Printable),
            any::<[u8; 6]>().prop_map(IpIriIdType::MacAddress),
            ip_address().prop_map(IpIriIdType::IpAddress),
            unknown(3).prop_map(IpIriIdType::Other),
        ]),
        of(ip_address()),
    )
        .boxed();
    let c = (
        of(printable(2, 2).prop_map(|country_code| NationalIpIriParameters { country_code })),
        of(ip_address()),
        of(auth_type()),
        of(vec(
            prop_oneof![
                ip_address().prop_map(OtherTargetIdentifier::IpAddress),
                unknown(1).prop_map(OtherTargetIdentifier::Other),
            ],
            0..3,
        )),
        of(opaque()),
        of(bytes(0, 20)),
        of(vec(
            prop_oneof![
                bytes(0, 30).prop_map(FramedRoute::FramedRoute),
                unknown(1).prop_map(FramedRoute::Other),
            ],
            0..3,
        )),
    )
        .boxed();
    (a, b, c)
        .prop_map(|(a, b, c)| {
            let mut v = IpIriContents::new(a.0, a.1, a.2, a.3);
            v.target_ip_address = a.4;
            v.target_network_id = a.5;
            v.target_cpe_id = a.6;
            v.target_location = a.7;
            v.pop_port_number = a.8;
            v.call_back_number = a.9;
            v.start_time = b.0;
            v.end_time = b.1;
            v.end_reason = b.2;
            v.octets_received = b.3;
            v.octets_transmitted = b.4;
            v.raw_aaa_data = b.5;
            v.expected_end_time = b.6;
            v.pop_phone_number = b.7;
            v.pop_identifier = b.8;
            v.pop_ip_address = b.9;
            v.national_ipiri_parameters = c.0;
            v.additional_ip_address = c.1;
            v.authentication_type = c.2;
            v.other_target_identifiers = c.3;
            v.location = c.4;
            v.pop_port_id = c.5;
            v.framed_routes = c.6;
            v
        })
        .boxed()
}

pub(crate) fn iri_payload() -> BoxedStrategy<IriPayload> {
    (
        of(iri_type()),
        of(gtime()),
        prop_oneof![
            3 => (rel_oid(), ipiri_contents())
                .prop_map(|(obj_id, contents)| IriContents::IpIri(Box::new(IpIri { obj_id, contents }))),
            3 => ipmm_iri().prop_map(|iri| IriContents::IpmmIri(Box::new(iri))),
            1 => unknown(3)
                .prop_filter("iPMMIRI [11] is typed", |u| u.tag_number != 11)
                .prop_map(IriContents::Other),
        ],
        of(micro()),
        of(tsq()),
        of(direction()),
        of(direction()),
    )
        .prop_map(|(ty, ts, contents, usec, tsq, sdir, pdir)| IriPayload {
            iri_type: ty,
            time_stamp: ts,
            iri_contents: contents,
            micro_second_time_stamp: usec,
            time_stamp_qualifier: tsq,
            session_direction: sdir,
            payload_direction: pdir,
        })
        .boxed()
}

pub(crate) fn cc_payload() -> BoxedStrategy<CcPayload> {
    let contents = prop_oneof![
        bytes(0, 1600).prop_map(IpCcContents::IpPackets),
        (bytes(0, 100), of(any::<i64>())).prop_map(|(p, l)| IpCcContents::IpTruncatedPacket {
            truncated_packet: p,
            original_length: l
        }),
        unknown(2).prop_map(IpCcContents::Other),
    ];
    (
        of(direction()),
        of(gtime()),
        prop_oneof![
            3 => (rel_oid(), contents).prop_map(|(obj_id, contents)| CcContents::IpCc(IpCc { obj_id, contents })),
            3 => ipmm_cc().prop_map(CcContents::IpmmCc),
            1 => unknown(3)
                .prop_filter("iPMMCC [12] is typed", |u| u.tag_number != 12)
                .prop_map(CcContents::Other),
        ],
        of(micro()),
        of(tsq()),
    )
        .prop_map(|(dir, ts, cc, usec, tsq)| CcPayload {
            payload_direction: dir,
            time_stamp: ts,
            cc_contents: cc,
            micro_second_time_stamp: usec,
            time_stamp_qualifier: tsq,
        }).boxed()
}

pub(crate) fn pdu_option() -> BoxedStrategy<PduOption> {
    prop_oneof![
        Just(PduOption::PduAcknowledgement),
        unknown(1).prop_map(PduOption::Other)
    ]
    .boxed()
}

pub(crate) fn tri_payload() -> BoxedStrategy<TriPayload> {
    prop_oneof![
        (
            vec(any::<u32>(), 0..5),
            check_type(),
            of(data_type()),
            bytes(0, 64),
            of(hash_alg()),
            of(sig_alg())
        )
            .prop_map(|(seqs, ct, dt, cv, ha, sa)| TriPayload::IntegrityCheck(
                IntegrityCheck {
                    included_sequence_numbers: seqs,
                    check_type: ct,
                    data_type: dt,
                    check_value: cv,
                    hash_algorithm: ha,
                    signature_algorithm: sa,
                }
            )),
        Just(TriPayload::TestPdu),
        bytes(0, 30).prop_map(TriPayload::PaddingPdu),
        Just(TriPayload::KeepAlive),
        Just(TriPayload::KeepAliveResponse),
        Just(TriPayload::FirstSegmentFlag),
        Just(TriPayload::LastSegmentFlag),
        Just(TriPayload::CinReset),
        (lea_priority(), bytes(1, 255)).prop_map(|(p, m)| TriPayload::OperatorLeaMessage(
            OperatorLeaMessage {
                message_priority: p,
                message: m
            }
        )),
        vec(pdu_option(), 0..3).prop_map(TriPayload::OptionRequest),
        (vec(pdu_option(), 0..3), vec(pdu_option(), 0..3))
            .prop_map(|(accepted, declined)| TriPayload::OptionResponse { accepted, declined }),
        Just(TriPayload::OptionComplete),
        Just(TriPayload::PduAcknowledgementRequest),
        Just(TriPayload::PduAcknowledgementResponse),
        unknown(14).prop_map(TriPayload::Other),
    ]
    .boxed()
}

pub(crate) fn payload() -> BoxedStrategy<Payload> {
    prop_oneof![
        vec(iri_payload(), 0..3).prop_map(Payload::IriPayloadSequence),
        vec(cc_payload(), 0..3).prop_map(Payload::CcPayloadSequence),
        tri_payload().prop_map(Payload::TriPayload),
        unknown(3).prop_map(Payload::Other),
    ]
    .boxed()
}

pub(crate) fn ps_pdu() -> BoxedStrategy<PsPdu> {
    (header(), payload())
        .prop_map(|(header, payload)| PsPdu { header, payload })
        .boxed()
}

/// A TS 102 232-5 IPMMCC with any of its optional fields.
pub(crate) fn ipmm_cc() -> BoxedStrategy<IpmmCc> {
    (
        rel_oid(),
        bytes(0, 1600),
        of(frame_type()),
        of(bytes(0, 40)),
        of(mmcc_protocol()),
    )
        .prop_map(
            |(obj_id, contents, frame_type, stream_identifier, protocol)| IpmmCc {
                obj_id,
                contents,
                frame_type,
                stream_identifier,
                protocol,
            },
        )
        .boxed()
}

fn sip_message() -> BoxedStrategy<SipMessage> {
    (ip_address(), ip_address(), bytes(0, 600))
        .prop_map(|(src, dst, sip)| SipMessage {
            ip_source_address: src,
            ip_destination_address: dst,
            sip_content: sip,
        })
        .boxed()
}

/// Every alternative of TS 102 232-5 `IPIRIContents`.
pub(crate) fn ipmm_iri_contents() -> BoxedStrategy<IpmmIriContents> {
    let h323 = prop_oneof![
        bytes(0, 30).prop_map(H323MessageContent::H225Cs),
        bytes(0, 30).prop_map(H323MessageContent::H225Ras),
        bytes(0, 30).prop_map(H323MessageContent::H245),
        bytes(0, 30).prop_map(H323MessageContent::Generic),
        unknown(4).prop_map(H323MessageContent::Other),
    ];
    prop_oneof![
        1 => bytes(0, 100).prop_map(IpmmIriContents::OriginalIpmmMessage),
        3 => sip_message().prop_map(IpmmIriContents::SipMessage),
        1 => (ip_address(), ip_address(), h323).prop_map(|(src, dst, content)| {
            IpmmIriContents::H323Message(H323Message {
                ip_source_address: src,
                ip_destination_address: dst,
                h323_content: content,
            })
        }),
        1 => printable(2, 2).prop_map(|country_code| IpmmIriContents::NationalIpmmIriParameters(
            NationalIpmmIriParameters { country_code }
        )),
        1 => bytes(0, 100).prop_map(IpmmIriContents::XcapMessage),
        1 => bytes(0, 100).prop_map(IpmmIriContents::IriOnlyOriginalIpmmMessage),
        3 => sip_message().prop_map(IpmmIriContents::IriOnlySipMessage),
        1 => unknown(7).prop_map(IpmmIriContents::Other),
    ]
    .boxed()
}

/// A TS 102 232-5 IPMMIRI with any of its optional fields.
pub(crate) fn ipmm_iri() -> BoxedStrategy<IpmmIri> {
    let signalling = prop_oneof![
        bytes(0, 40).prop_map(AdditionalSignalling::SipHeaderLine),
        unknown(1).prop_map(AdditionalSignalling::Other),
    ];
    (
        rel_oid(),
        ipmm_iri_contents(),
        of(opaque()),
        of(vec(signalling, 0..3)),
    )
        .prop_map(
            |(obj_id, contents, target_location, additional_signalling)| IpmmIri {
                obj_id,
                contents,
                target_location,
                additional_signalling,
            },
        )
        .boxed()
}
