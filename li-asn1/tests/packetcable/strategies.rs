//! proptest strategies for every PCESP type, inside the module's constraints.

use li_asn1::packetcable::*;
use li_asn1::{GeneralizedTime, Opaque, UnknownAlternative};
use li_core::Timestamp;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

pub fn visible(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[ -~]{{{min},{max}}}")).unwrap()
}

pub fn sdp() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9 é€=@:/.\r\n-]{0,60}").unwrap()
}

pub fn time() -> impl Strategy<Value = GeneralizedTime> {
    (0u64..4_102_444_800, 0u32..1_000_000).prop_map(|(s, us)| {
        GeneralizedTime::from_timestamp(Timestamp::from_secs_micros(s, us).unwrap())
    })
}

pub fn header() -> impl Strategy<Value = CdcHeader> {
    (visible(1, 25), visible(1, 15), time()).prop_map(|(c, a, t)| CdcHeader {
        case_id: CaseId::new(&c).unwrap(),
        accessing_element_id: AccessingElementId::new(&a).unwrap(),
        event_time: t,
    })
}

pub fn call_id() -> impl Strategy<Value = CallId> {
    prop_oneof![
        (any::<u32>(), any::<u32>(), visible(1, 15))
            .prop_map(|(t, c, e)| { CallId::from_billing_correlation_id(t, c, &e).unwrap() }),
        (visible(1, 25), visible(1, 15)).prop_map(|(s, e)| CallId {
            sequence_number: s,
            system_identity: e,
        }),
    ]
}

pub fn ccc_id() -> impl Strategy<Value = CccId> {
    prop_oneof![
        any::<u32>().prop_map(CccId::comb),
        (any::<u32>(), any::<u32>()).prop_map(|(x, r)| CccId::sep(x, r)),
        visible(1, 20).prop_map(CccId::CombCcc),
        (2u32..30, vec(any::<u8>(), 0..8)).prop_map(|(tag_number, content)| {
            CccId::Unknown(UnknownAlternative {
                tag_number,
                value: Opaque {
                    constructed: false,
                    content,
                },
            })
        }),
    ]
}

pub fn party() -> impl Strategy<Value = PartyId> {
    (
        (of(visible(1, 15)), of(visible(1, 15)), of(visible(1, 32))),
        (of(visible(1, 32)), of(visible(1, 32)), of(visible(1, 32))),
        (of(visible(1, 48)), of(visible(1, 32)), of(visible(1, 32))),
    )
        .prop_map(|((dn, up, ip), (trunk, ga, gd), (gn, port, ctx))| PartyId {
            dn,
            user_provided: up,
            ip_address: ip,
            trunk_id: trunk,
            generic_address: ga,
            generic_digits: gd,
            generic_name: gn,
            port,
            context: ctx,
        })
}

fn flow() -> impl Strategy<Value = FlowDirection> {
    (1i64..5).prop_map(FlowDirection::from_value)
}

fn display() -> impl Strategy<Value = TerminalDisplayInfo> {
    (
        (of(visible(1, 80)), of(visible(1, 40)), of(visible(1, 40))),
        (of(visible(1, 40)), of(visible(1, 40)), of(visible(1, 40))),
        (of(visible(1, 40)), of(visible(1, 40)), of(visible(1, 40))),
    )
        .prop_map(
            |((g, cd, cg), (cn, oc, lr), (rn, rr, mw))| TerminalDisplayInfo {
                general_display: g,
                called_number: cd,
                calling_number: cg,
                calling_name: cn,
                original_called_number: oc,
                last_redirecting_number: lr,
                redirecting_name: rn,
                redirecting_reason: rr,
                message_waiting_notif: mw,
            },
        )
}

pub fn message() -> impl Strategy<Value = Message> {
    let answer = (header(), call_id(), of(party())).prop_map(|(header, call_id, answering)| {
        Message::Answer(Answer {
            header,
            call_id,
            answering,
        })
    });
    let ccclose = (header(), ccc_id(), flow()).prop_map(|(header, ccc_id, flow_direction)| {
        Message::CcClose(CcClose {
            header,
            ccc_id,
            flow_direction,
        })
    });
    let option = prop_oneof![
        vec(call_id(), 0..3).prop_map(CcOpenOption::CcOpenTime),
        Just(CcOpenOption::Reserved0),
    ];
    let ccopen = (header(), option, ccc_id(), of(sdp()), of(sdp()), flow()).prop_map(
        |(header, cc_open_option, ccc_id, subject, associate, flow_direction)| {
            Message::CcOpen(CcOpen {
                header,
                cc_open_option,
                ccc_id,
                subject,
                associate,
                flow_direction,
            })
        },
    );
    let input = prop_oneof![
        visible(1, 32).prop_map(OriginationInput::UserInput),
        visible(1, 32).prop_map(OriginationInput::TranslationInput),
    ];
    let origination = (
        header(),
        call_id(),
        party(),
        of(party()),
        input,
        of(visible(3, 7)),
    )
        .prop_map(
            |(header, call_id, calling, called, input, transit_carrier_id)| {
                Message::Origination(Origination {
                    header,
                    call_id,
                    calling,
                    called,
                    input,
                    transit_carrier_id,
                })
            },
        );
    let redirection = (
        header(),
        call_id(),
        party(),
        of(visible(3, 7)),
        of(call_id()),
        of(party()),
    )
        .prop_map(
            |(header, old, redirected_to, transit_carrier_id, new, redirected_from)| {
                Message::Redirection(Redirection {
                    header,
                    old,
                    redirected_to,
                    transit_carrier_id,
                    new,
                    redirected_from,
                })
            },
        );
    let release = (header(), call_id())
        .prop_map(|(header, call_id)| Message::Release(Release { header, call_id }));
    let info =
        (of(party()), of(party()), of(1i64..=100)).prop_map(|(l, o, n)| RedirectedFromInfo {
            last_redirecting: l,
            original_called: o,
            num_redirections: n,
        });
    let termination = (header(), call_id(), of(party()), of(party()), of(info)).prop_map(
        |(header, call_id, calling, called, redirected_from_info)| {
            Message::TerminationAttempt(TerminationAttempt {
                header,
                call_id,
                calling,
                called,
                redirected_from_info,
            })
        },
    );
    let ccchange = (
        header(),
        call_id(),
        ccc_id(),
        of(sdp()),
        of(sdp()),
        flow(),
        of((1i64..4).prop_map(ResourceState::from_value)),
    )
        .prop_map(
            |(header, call_id, ccc_id, subject, associate, flow_direction, resource_state)| {
                Message::CcChange(CcChange {
                    header,
                    call_id,
                    ccc_id,
                    subject,
                    associate,
                    flow_direction,
                    resource_state,
                })
            },
        );
    let network = (
        header(),
        call_id(),
        of((0i64..23).prop_map(AlertingSignal::from_value)),
        of((0i64..23).prop_map(AudibleSignal::from_value)),
        of(display()),
        of(visible(1, 128)),
    )
        .prop_map(
            |(
                header,
                call_id,
                alerting_signal,
                subject_audible_signal,
                terminal_display_info,
                other,
            )| {
                Message::NetworkSignal(NetworkSignal {
                    header,
                    call_id,
                    alerting_signal,
                    subject_audible_signal,
                    terminal_display_info,
                    other,
                })
            },
        );
    let signal = (
        of(visible(1, 128)),
        of(visible(1, 128)),
        of(visible(1, 128)),
        of(visible(1, 128)),
    )
        .prop_map(|(a, b, c, d)| SubjectSignalInfo {
            switchhook_flash: a,
            dialed_digits: b,
            feature_key: c,
            other_signaling_information: d,
        });
    let subject = (header(), of(call_id()), signal).prop_map(|(header, call_id, signal)| {
        Message::SubjectSignal(SubjectSignal {
            header,
            call_id,
            signal,
        })
    });
    let media = (header(), call_id(), of(sdp()), of(sdp())).prop_map(
        |(header, call_id, subject, associate)| {
            Message::MediaReport(MediaReport {
                header,
                call_id,
                subject,
                associate,
            })
        },
    );
    let service = (
        header(),
        call_id(),
        of(call_id()),
        visible(1, 128),
        (of(party()), of(party()), of(party()), of(party())),
    )
        .prop_map(
            |(header, call_id, related_call_id, service_name, (first, second, called, calling))| {
                Message::ServiceInstance(ServiceInstance {
                    header,
                    call_id,
                    related_call_id,
                    service_name,
                    first_call_calling: first,
                    second_call_calling: second,
                    called,
                    calling,
                })
            },
        );
    let unknown = (
        prop_oneof![Just(4u32), Just(6), Just(9), Just(11), 13u32..16, 20u32..40],
        vec(any::<u8>(), 0..8),
    )
        .prop_map(|(tag_number, content)| {
            Message::Unknown(UnknownAlternative {
                tag_number,
                value: Opaque {
                    constructed: false,
                    content,
                },
            })
        });
    prop_oneof![
        answer,
        ccclose,
        ccopen,
        origination,
        redirection,
        release,
        termination,
        ccchange,
        network,
        subject,
        media,
        service,
        unknown,
    ]
}

pub fn cdc_pdu() -> impl Strategy<Value = CdcPdu> {
    (prop_oneof![3 => Just(3i64), 1 => 4i64..10], message()).prop_map(|(v, message)| CdcPdu {
        protocol_version: ProtocolVersion::from_value(v),
        message,
    })
}
