//! proptest strategies for every ATIS-1000013 type, inside the modules' constraints.

use li_asn1::atis::IasHeader;
use li_asn1::atis::ias::*;
use li_asn1::atis::ias_cc::{
    CallIdentity, CcDeliveryHeader, ContentIdentifier, CorrelationInfo, IasCcApdu, PacketDirection,
};
use li_asn1::atis::ias_opt::*;
use li_asn1::{GeneralizedTime, ObjectIdentifier};
use li_core::Timestamp;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

pub fn visible(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{{min},{max}}}")).unwrap()
}

pub fn utf8() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9 é€@:/.-]{0,24}").unwrap()
}

pub fn time() -> impl Strategy<Value = GeneralizedTime> {
    (0u64..4_102_444_800, 0u32..1_000_000).prop_map(|(s, us)| {
        GeneralizedTime::from_timestamp(Timestamp::from_secs_micros(s, us).unwrap())
    })
}

pub fn oid() -> impl Strategy<Value = ObjectIdentifier> {
    (0u64..3, 0u64..40, vec(any::<u64>(), 0..8)).prop_map(|(a, b, rest)| {
        let mut arcs = vec![a, b];
        arcs.extend(rest);
        ObjectIdentifier::new(&arcs).unwrap()
    })
}

pub fn header(iap_min: usize, iap_max: usize) -> impl Strategy<Value = IasHeader> {
    (visible(1, 25), visible(iap_min, iap_max), time()).prop_map(
        |(case_id, iap_system_id, timestamp)| IasHeader {
            case_id,
            iap_system_id,
            timestamp,
        },
    )
}

pub fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        visible(0, 20).prop_map(Value::StringVs),
        utf8().prop_map(Value::StringUtf8),
        any::<i64>().prop_map(Value::Integer),
        vec(any::<u8>(), 0..20).prop_map(Value::Octets),
        "[0-9 ]{0,12}".prop_map(Value::Numeric),
    ]
}

pub fn ip_address() -> impl Strategy<Value = IpAddress> {
    prop_oneof![
        vec(any::<u8>(), 4..=16).prop_map(IpAddress::IpV4),
        vec(any::<u8>(), 4..=16).prop_map(IpAddress::IpV6),
    ]
}

pub fn ip_info() -> impl Strategy<Value = IpAddressInfo> {
    let alloc = prop_oneof![
        Just(AllocationMethod::Static),
        Just(AllocationMethod::Dynamic),
        Just(AllocationMethod::NotKnown),
        Just(AllocationMethod::NotApplicable),
    ];
    (ip_address(), alloc, of(utf8()), of(any::<i64>())).prop_map(
        |(address, allocation_method, ipv6_flow_label, prefix_len)| IpAddressInfo {
            address,
            allocation_method,
            ipv6_flow_label,
            prefix_len,
        },
    )
}

pub fn access_method() -> impl Strategy<Value = AccessMethod> {
    let access_type = prop_oneof![
        Just(AccessType::DialUp),
        Just(AccessType::Dsl),
        Just(AccessType::Lan),
        Just(AccessType::Cable),
        Just(AccessType::WiFi),
        Just(AccessType::WiMax),
        utf8().prop_map(AccessType::Other),
    ];
    (of(access_type), of(utf8()), any::<bool>()).prop_map(|(t, id, multiple)| AccessMethod {
        access_type: t,
        access_equipment_id: id,
        part_of_multiple_login: multiple,
    })
}

pub fn protocol_signal() -> impl Strategy<Value = ProtocolSignal> {
    let protocol = prop_oneof![Just(Protocol::Radius), utf8().prop_map(Protocol::Other)];
    (protocol, vec(value(), 0..4))
        .prop_map(|(protocol, signal)| ProtocolSignal { protocol, signal })
}

pub fn location() -> impl Strategy<Value = Location> {
    (utf8(), utf8()).prop_map(|(location_type, location)| Location {
        location_type,
        location,
    })
}

pub fn content_identifier() -> impl Strategy<Value = ContentIdentifier> {
    prop_oneof![
        vec(any::<u8>(), 0..12).prop_map(ContentIdentifier::CorrelationId),
        (utf8(), of(utf8()))
            .prop_map(|(main, leg)| ContentIdentifier::CallId(CallIdentity { main, leg })),
    ]
}

pub fn delivery() -> impl Strategy<Value = LeaCmcDelivery> {
    let ccc = prop_oneof![
        visible(1, 20).prop_map(CccIdentity::CombCcc),
        (visible(1, 20), visible(1, 20))
            .prop_map(|(xmit, recv)| CccIdentity::SepCccPair { xmit, recv }),
        visible(1, 20).prop_map(CccIdentity::IndXmitCcc),
        visible(1, 20).prop_map(CccIdentity::IndRecvCcc),
        visible(1, 20).prop_map(CccIdentity::IndCcc),
    ];
    let delivery_identifier = prop_oneof![
        ccc.prop_map(DeliveryIdentifier::CccId),
        (ip_address(), "[0-9]{1,5}").prop_map(|(lea_ip_address, lea_port_number)| {
            DeliveryIdentifier::CcAddress {
                lea_ip_address,
                lea_port_number,
            }
        }),
    ];
    let format = prop_oneof![
        Just(CcDeliveryFormat::ScteDatagram),
        oid().prop_map(CcDeliveryFormat::Atis678Asn1),
        Just(CcDeliveryFormat::IasDatagram),
    ];
    (content_identifier(), delivery_identifier, format).prop_map(|(c, d, f)| LeaCmcDelivery {
        content_identifier: c,
        delivery_identifier: d,
        cc_delivery_format: f,
    })
}

pub fn signaling_message() -> impl Strategy<Value = InterceptedSignalingMessage> {
    let t = prop_oneof![
        Just(MessageType::Radius),
        Just(MessageType::Diameter),
        Just(MessageType::Xml),
        Just(MessageType::AsnDot1),
        Just(MessageType::Other),
    ];
    (t, utf8()).prop_map(|(message_type, message)| InterceptedSignalingMessage {
        message_type,
        message,
    })
}

pub fn ias_message() -> impl Strategy<Value = IasMessage> {
    let h = || header(0, 40);
    prop_oneof![
        (
            h(),
            value(),
            of(access_method()),
            of(value()),
            of(protocol_signal())
        )
            .prop_map(
                |(header, s, m, n, p)| IasMessage::AccessAttempt(AccessAttempt {
                    header,
                    subscriber_identity: s,
                    access_method: m,
                    network_access_node_identity: n,
                    protocol_signal: p,
                })
            ),
        (
            (
                h(),
                value(),
                of(access_method()),
                of(value()),
                of(ip_info())
            ),
            (value(), of(value()), of(location()), of(protocol_signal()))
        )
            .prop_map(|((header, s, m, n, ip), (a, c, l, p))| {
                IasMessage::AccessAccepted(AccessAccepted {
                    header,
                    subscriber_identity: s,
                    access_method: m,
                    network_access_node_identity: n,
                    ip_address: ip,
                    access_session_id: a,
                    access_session_characteristics: c,
                    location: l,
                    protocol_signal: p,
                })
            }),
        (
            h(),
            value(),
            of(ip_info()),
            of(value()),
            of(protocol_signal())
        )
            .prop_map(
                |(header, s, ip, r, p)| IasMessage::AccessFailed(AccessFailed {
                    header,
                    subscriber_identity: s,
                    ip_address: ip,
                    reason_for_termination: r,
                    protocol_signal: p,
                })
            ),
        (
            h(),
            value(),
            of(ip_info()),
            value(),
            of(value()),
            of(protocol_signal())
        )
            .prop_map(|(header, s, ip, a, r, p)| IasMessage::AccessSessionEnd(
                AccessSessionEnd {
                    header,
                    subscriber_identity: s,
                    ip_address: ip,
                    access_session_id: a,
                    reason_for_termination: r,
                    protocol_signal: p,
                }
            )),
        (
            h(),
            value(),
            of(ip_info()),
            of(value()),
            of(protocol_signal())
        )
            .prop_map(
                |(header, s, ip, r, p)| IasMessage::AccessRejected(AccessRejected {
                    header,
                    subscriber_identity: s,
                    ip_address: ip,
                    reason_for_termination: r,
                    protocol_signal: p,
                })
            ),
        (h(), of(value()), vec(signaling_message(), 0..3)).prop_map(|(header, a, m)| {
            IasMessage::AccessSignalingMessageReport(AccessSignalingMessageReport {
                header,
                access_session_id: a,
                signaling_msg: m,
            })
        }),
        (
            (h(), value(), of(value()), value(), ip_info()),
            (of(value()), of(location()), of(delivery()))
        )
            .prop_map(|((header, s, a, p, ip), (c, l, d))| {
                IasMessage::SessionStart(PacketDataSessionStart {
                    header,
                    subscriber_identity: s,
                    access_session_id: a,
                    packet_data_session_id: p,
                    ip_address: ip,
                    access_session_characteristics: c,
                    location: l,
                    delivery_information: d,
                })
            }),
        (h(), value(), of(value()), of(value())).prop_map(|(header, s, a, r)| {
            IasMessage::SessionFailed(PacketDataSessionFailed {
                header,
                subscriber_identity: s,
                access_session_id: a,
                reason_for_termination: r,
            })
        }),
        (h(), value(), of(value()), value(), ip_info(), of(value())).prop_map(
            |(header, s, a, p, ip, r)| IasMessage::SessionEnd(PacketDataSessionEnd {
                header,
                subscriber_identity: s,
                access_session_id: a,
                packet_data_session_id: p,
                ip_address: ip,
                reason_for_termination: r,
            })
        ),
        (
            (h(), value(), of(value()), value(), ip_info()),
            (of(value()), of(location()), of(delivery()))
        )
            .prop_map(|((header, s, a, p, ip), (c, l, d))| {
                IasMessage::SessionAlreadyEstablished(PacketDataSessionAlreadyEstablished {
                    header,
                    subscriber_identity: s,
                    access_session_id: a,
                    packet_data_session_id: p,
                    ip_address: ip,
                    access_session_characteristics: c,
                    location: l,
                    delivery_information: d,
                })
            }),
        (
            h(),
            content_identifier(),
            value(),
            ip_info(),
            ip_info(),
            of("[0-9]{1,5}"),
            of("[0-9]{1,5}")
        )
            .prop_map(|(header, c, s, a, b, sp, dp)| {
                IasMessage::DataHeaderReport(PacketDataHeaderReport {
                    header,
                    content_identifier: c,
                    header_set: HeaderSet {
                        stream_id: s,
                        source_ip_address: a,
                        destination_ip_address: b,
                        source_port_number: sp,
                        destination_port_number: dp,
                    },
                })
            }),
        (
            h(),
            content_identifier(),
            (value(), ip_info(), ip_info(), any::<i64>()),
            of("[0-9]{1,5}"),
            of("[0-9]{1,5}")
        )
            .prop_map(|(header, c, (s, a, b, n), sp, dp)| {
                IasMessage::DataSummaryReport(PacketDataSummaryReport {
                    header,
                    content_identifier: c,
                    stream_set: StreamSet {
                        stream_id: s,
                        source_ip_address: a,
                        destination_ip_address: b,
                        packet_count: n,
                        source_port_number: sp,
                        destination_port_number: dp,
                    },
                })
            }),
    ]
}

pub fn ias_protocol() -> impl Strategy<Value = IasProtocol> {
    (oid(), ias_message()).prop_map(|(protocol_identifier, message)| IasProtocol {
        protocol_identifier,
        message,
    })
}

pub fn ias_optional_message() -> impl Strategy<Value = IasOptionalMessage> {
    let h = || header(1, 15);
    let status = || (h(), utf8()).prop_map(|(header, s)| (header, s));
    prop_oneof![
        (
            h(),
            (utf8(), of(utf8()), of(ip_address()), of(utf8())),
            utf8(),
            utf8()
        )
            .prop_map(|(header, (s, p, ip, srv), c, r)| {
                IasOptionalMessage::ServiceChange(ServiceChange {
                    header,
                    subscriber: s,
                    primary_account_subscriber: p,
                    intercept_subject_ip_address: ip,
                    server_identity: srv,
                    changes_attempted: c,
                    result_of_change_attempt: r,
                })
            }),
        (
            (h(), of(utf8()), of(utf8()), of(ip_address()), utf8()),
            (vec(utf8(), 0..3), ip_address(), ip_address()),
            (utf8(), utf8(), vec(utf8(), 0..3), vec(utf8(), 0..3))
        )
            .prop_map(
                |((header, sid, sub, ip, sa), (protos, l, r), (la, ra, lk, rk))| {
                    IasOptionalMessage::VpnSecurityEstablishment(VpnSecurityEstablishment {
                        header,
                        session_id: sid,
                        subscriber: sub,
                        access_session_ip_address: ip,
                        vpn_security_association: sa,
                        vpn_security_association_protocols: protos,
                        local_vpn_endpoint_ip_address: l,
                        remote_vpn_endpoint_ip_address: r,
                        local_vpn_encryption_algorithms: la,
                        remote_vpn_encryption_algorithms: ra,
                        local_vpn_encryption_keys: lk,
                        remote_vpn_encryption_keys: rk,
                    })
                }
            ),
        (
            h(),
            of(utf8()),
            of(utf8()),
            of(ip_address()),
            utf8(),
            utf8()
        )
            .prop_map(|(header, sid, sub, ip, sa, cause)| {
                IasOptionalMessage::VpnSecurityRelease(VpnSecurityRelease {
                    header,
                    session_id: sid,
                    subscriber: sub,
                    access_session_ip_address: ip,
                    vpn_security_association: sa,
                    vpn_termination_cause: cause,
                })
            }),
        status().prop_map(|(header, surveillance_status)| {
            IasOptionalMessage::SurveillanceActivation(SurveillanceActivation {
                header,
                surveillance_status,
            })
        }),
        status().prop_map(|(header, surveillance_status)| {
            IasOptionalMessage::SurveillanceContinuation(SurveillanceContinuation {
                header,
                surveillance_status,
            })
        }),
        status().prop_map(|(header, surveillance_status)| {
            IasOptionalMessage::SurveillanceChange(SurveillanceChange {
                header,
                surveillance_status,
            })
        }),
        status().prop_map(|(header, surveillance_status)| {
            IasOptionalMessage::SurveillanceDeActivation(SurveillanceDeActivation {
                header,
                surveillance_status,
            })
        }),
    ]
}

pub fn ias_optional_protocol() -> impl Strategy<Value = IasOptionalProtocol> {
    (oid(), ias_optional_message()).prop_map(|(protocol_identifier, message)| IasOptionalProtocol {
        protocol_identifier,
        message,
    })
}

pub fn cc_apdu() -> impl Strategy<Value = IasCcApdu> {
    let direction = prop_oneof![
        Just(PacketDirection::FromSubject),
        Just(PacketDirection::ToSubject)
    ];
    let header = (
        of(visible(1, 25)),
        of(visible(1, 15)),
        content_identifier(),
        of(time()),
        of(direction),
        of(any::<i64>()),
    )
        .prop_map(|(case_id, iap_id, c, t, d, n)| CcDeliveryHeader {
            correlation_info: CorrelationInfo {
                case_id,
                iap_id,
                content_identifier: c,
            },
            time_stamp: t,
            packet_direction: d,
            sequence_number: n,
        });
    (of(header), vec(any::<u8>(), 0..300)).prop_map(|(delivery_header, payload)| IasCcApdu {
        delivery_header,
        payload,
    })
}
