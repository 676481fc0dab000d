//! proptest strategies for every ATIS-1000678 type, inside the module's constraints.

use li_asn1::atis::CaseIdentity;
use li_asn1::atis::laes::*;
use li_asn1::atis::laes_cc::CallIdentity;
use li_asn1::atis::laes_party::*;
use li_asn1::{Opaque, UnknownAlternative};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

use crate::strategies::{content_identifier, ip_address, location, oid, time, utf8, visible};

fn octets(min: usize, max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), min..=max)
}

pub fn case_id() -> impl Strategy<Value = CaseIdentity> {
    visible(1, 25).prop_map(|s| CaseIdentity::new(&s).unwrap())
}

pub fn header() -> impl Strategy<Value = LaesHeader> {
    (case_id(), of(visible(1, 15)), time()).prop_map(|(case_id, iap_system_id, timestamp)| {
        LaesHeader {
            case_id,
            iap_system_id,
            timestamp,
        }
    })
}

pub fn call_identity() -> impl Strategy<Value = CallIdentity> {
    (utf8(), of(utf8())).prop_map(|(main, leg)| CallIdentity { main, leg })
}

/// An H.323 structure kept opaque: a constructed element holding one UTF8String.
fn opaque() -> impl Strategy<Value = Opaque> {
    "[a-z]{0,10}".prop_map(|s| {
        let mut content = vec![0x0c, s.len() as u8];
        content.extend_from_slice(s.as_bytes());
        Opaque {
            constructed: true,
            content,
        }
    })
}

fn generic_strings() -> impl Strategy<Value = Vec<VisibleString>> {
    vec(visible(1, 32).prop_map(VisibleString), 0..3)
}

pub fn party() -> BoxedStrategy<PartyIdentity> {
    let a = (
        of(visible(8, 8)),
        of(visible(1, 15)),
        of(visible(1, 15)),
        of(visible(3, 20)),
        of(visible(1, 15)),
        of(visible(10, 10)),
        of(visible(1, 15)),
        of(visible(1, 15)),
        of(visible(1, 15)),
        of(visible(1, 20)),
    );
    let b = (
        of(ip_address()),
        of(visible(1, 15)),
        of(visible(1, 32)),
        of(octets(2, 21)),
        of(generic_strings()),
        of(generic_strings()),
        of(vec(utf8(), 0..3)),
        of(visible(1, 32)),
        of(visible(1, 64)),
        of(octets(2, 14)),
    );
    let c = (
        of(octets(2, 14)),
        of(vec(utf8(), 0..3)),
        of(vec(utf8(), 0..3)),
        of(opaque()),
        of(opaque()),
        of(opaque()),
        of(opaque()),
        of(utf8()),
        of(visible(0, 17)),
        of(utf8()),
    );
    (a, b, c)
        .prop_map(
            |(
                (
                    esn,
                    imei,
                    tei,
                    spid,
                    imsi,
                    min,
                    dn,
                    user_provided,
                    appearance_id,
                    calling_card_num,
                ),
                (
                    ip_address,
                    x121,
                    trunk_id,
                    subaddress,
                    generic_address,
                    generic_digits,
                    generic_name,
                    port,
                    context,
                    isdn_high_layer,
                ),
                (
                    isdn_low_layer,
                    uri,
                    sip_header,
                    h323_alias_address,
                    h323_address_pattern,
                    h323_ras_address,
                    h323_call_sig_address,
                    nai,
                    mac802,
                    fqdn,
                ),
            )| PartyIdentity {
                esn,
                imei,
                tei,
                spid,
                imsi,
                min,
                dn,
                user_provided,
                appearance_id,
                calling_card_num,
                ip_address,
                x121,
                trunk_id,
                subaddress,
                generic_address,
                generic_digits,
                generic_name,
                port,
                context,
                isdn_high_layer,
                isdn_low_layer,
                uri,
                sip_header,
                h323_alias_address,
                h323_address_pattern,
                h323_ras_address,
                h323_call_sig_address,
                nai,
                mac802,
                fqdn,
            },
        )
        .boxed()
}

/// Parties are big: most strategies use a small one, SIP style.
pub fn sip_party() -> BoxedStrategy<PartyIdentity> {
    prop_oneof![
        3 => vec(utf8(), 1..3).prop_map(PartyIdentity::from_uris),
        1 => party(),
    ]
    .boxed()
}

pub fn media() -> BoxedStrategy<MediaInformation> {
    let bearer = prop_oneof![
        Just(BearerCapability::Speech),
        Just(BearerCapability::F3100HzAudio),
        octets(1, 64).prop_map(BearerCapability::BearerCapInfoElement),
    ];
    let characteristics = prop_oneof![
        utf8().prop_map(MediaCharacteristics::Sdp),
        (0i64..=10, octets(0, 8)).prop_map(|(t, parameter)| {
            MediaCharacteristics::H323Media(H323Media {
                parameter_type: H323MediaParameterType::from_value(t).unwrap(),
                parameter,
            })
        }),
        (oid(), octets(0, 8)).prop_map(|(media_type, value)| MediaCharacteristics::Other(
            OtherMedia { media_type, value }
        )),
    ];
    (of(bearer), of(characteristics), of(0i64..=3))
        .prop_map(|(b, c, s)| MediaInformation {
            bearer_capability: b,
            characteristics: c,
            status: s.and_then(MediaStatus::from_value),
        })
        .boxed()
}

pub fn psp() -> BoxedStrategy<ProtocolSpecificParameters> {
    let body = (vec(utf8(), 0..3), octets(0, 40))
        .prop_map(|(header, contents)| SipBody { header, contents });
    prop_oneof![
        3 => (of(vec(utf8(), 0..4)), of(body)).prop_map(|(sip_header, sip_body)| {
            ProtocolSpecificParameters::Sip(SipParameters { sip_header, sip_body })
        }),
        1 => opaque().prop_map(ProtocolSpecificParameters::H323),
    ]
    .boxed()
}

pub fn signaling() -> BoxedStrategy<Option<Vec<EncapsulatedSignalingMessage>>> {
    of(vec(signaling_message(), 0..3)).boxed()
}

pub fn signaling_message() -> impl Strategy<Value = EncapsulatedSignalingMessage> {
    (utf8(), octets(0, 60)).prop_map(|(signaling_prot, sig_msg)| EncapsulatedSignalingMessage {
        signaling_prot,
        sig_msg,
    })
}

pub fn delivery_identifier() -> BoxedStrategy<DeliveryIdentifier> {
    let ccc = prop_oneof![
        visible(1, 20).prop_map(CccIdentity::CombCcc),
        (visible(1, 20), visible(1, 20))
            .prop_map(|(xmit, recv)| CccIdentity::SepCccPair { xmit, recv }),
        visible(1, 20).prop_map(CccIdentity::IndXmitCcc),
        visible(1, 20).prop_map(CccIdentity::IndRecvCcc),
        visible(1, 20).prop_map(CccIdentity::IndCcc),
    ];
    prop_oneof![
        ccc.prop_map(DeliveryIdentifier::CccId),
        (ip_address(), any::<i64>()).prop_map(|(lea_ip_address, lea_port_number)| {
            DeliveryIdentifier::CcAddress(CcAddress {
                lea_ip_address,
                lea_port_number,
            })
        }),
    ]
    .boxed()
}

pub fn cause() -> BoxedStrategy<Cause> {
    let format = prop_oneof![
        utf8().prop_map(ParameterFormat::Generic),
        vec(utf8(), 0..3).prop_map(ParameterFormat::Sip),
        octets(0, 8).prop_map(ParameterFormat::H323),
    ];
    (utf8(), of(format))
        .prop_map(|(signaling_type, cause)| Cause {
            signaling_type,
            cause,
        })
        .boxed()
}

pub fn input() -> BoxedStrategy<Input> {
    let value = prop_oneof![
        visible(0, 20).prop_map(InputValue::Generic),
        sip_party().prop_map(InputValue::Specific),
    ];
    (any::<bool>(), value)
        .prop_map(|(user, v)| {
            if user {
                Input::UserInput(v)
            } else {
                Input::TranslationInput(v)
            }
        })
        .boxed()
}

pub fn refer() -> BoxedStrategy<Refer> {
    prop_oneof![
        vec(utf8(), 0..3).prop_map(Refer::Sip),
        octets(0, 8).prop_map(Refer::H323),
    ]
    .boxed()
}

fn address_info() -> BoxedStrategy<AddressInfo> {
    prop_oneof![
        vec(
            (sip_party(), any::<i64>()).prop_map(|(address, expiration_period)| Generic {
                address,
                expiration_period
            }),
            0..2
        )
        .prop_map(AddressInfo::Generic),
        vec(utf8(), 0..3).prop_map(AddressInfo::Sip),
    ]
    .boxed()
}

fn display() -> BoxedStrategy<TerminalDisplayInfo> {
    (
        of(visible(1, 80)),
        of(visible(1, 40)),
        of(visible(1, 40)),
        of(visible(1, 40)),
        of(visible(1, 40)),
        of(visible(1, 40)),
        of(visible(1, 40)),
        of(visible(1, 40)),
        of(visible(1, 40)),
    )
        .prop_map(|(a, b, c, d, e, f, g, h, i)| TerminalDisplayInfo {
            general_display: a,
            called_number: b,
            calling_number: c,
            calling_name: d,
            original_called_number: e,
            last_redirecting_number: f,
            redirecting_name: g,
            redirecting_reason: h,
            message_waiting_notif: i,
        })
        .boxed()
}

fn calls() -> impl Strategy<Value = Vec<CallIdentity>> {
    vec(call_identity(), 0..3)
}

fn parties() -> BoxedStrategy<Option<Vec<PartyIdentity>>> {
    of(vec(sip_party(), 0..2)).boxed()
}

/// Every alternative of `LaesMessage`, each with its optional components present or not.
pub fn laes_message() -> BoxedStrategy<LaesMessage> {
    prop_oneof![
        (
            header(),
            call_identity(),
            of(sip_party()),
            of(location()),
            of(media()),
            of(psp()),
            signaling()
        )
            .prop_map(
                |(header, call_id, answering, location, answering_media, psp, sig)| {
                    LaesMessage::Answer(Answer {
                        header,
                        call_id,
                        answering,
                        location,
                        answering_media,
                        protocol_specific_parameters: psp,
                        signaling_msg: sig,
                    })
                }
            ),
        (
            header(),
            content_identifier(),
            delivery_identifier(),
            of(psp()),
            signaling()
        )
            .prop_map(
                |(header, content_identifier, delivery_identifier, psp, sig)| {
                    LaesMessage::CcClose(CcClose {
                        header,
                        content_identifier,
                        delivery_identifier,
                        protocol_specific_parameters: psp,
                        signaling_msg: sig,
                    })
                }
            ),
        (
            header(),
            content_identifier(),
            delivery_identifier(),
            prop_oneof![
                oid().prop_map(CcDeliveryFormat::CcApdu),
                visible(0, 10).prop_map(CcDeliveryFormat::Scte)
            ],
            of(media()),
            of(media()),
            of(psp()),
            signaling()
        )
            .prop_map(|(header, c, d, f, s, a, psp, sig)| {
                LaesMessage::CcOpen(CcOpen {
                    header,
                    content_identifier: c,
                    delivery_identifier: d,
                    cc_delivery_format: f,
                    subject_media: s,
                    associate_media: a,
                    protocol_specific_parameters: psp,
                    signaling_msg: sig,
                })
            }),
        (
            header(),
            calls(),
            calls(),
            of(delivery_identifier()),
            of(psp()),
            signaling()
        )
            .prop_map(|(header, p, r, d, psp, sig)| {
                LaesMessage::Change(Change {
                    header,
                    previous: ChangePrevious { call_identities: p },
                    resulting: ChangeResulting {
                        call_identities: r,
                        delivery_identifier: d,
                    },
                    protocol_specific_parameters: psp,
                    signaling_msg: sig,
                })
            }),
        (
            (
                header(),
                call_identity(),
                of(sip_party()),
                of(sip_party()),
                input(),
                of(location())
            ),
            (
                of(visible(3, 7)),
                of(media()),
                visible(0, 20),
                of(psp()),
                signaling(),
                of(vec(
                    (call_identity(), sip_party()).prop_map(|(forked_call_id, called_party)| {
                        ForkedCallInformation {
                            forked_call_id,
                            called_party,
                        }
                    }),
                    0..2
                ))
            )
        )
            .prop_map(
                |(
                    (header, call_id, calling, called, input, location),
                    (transit, media, cause, psp, sig, forked),
                )| {
                    LaesMessage::Origination(Origination {
                        header,
                        call_id,
                        calling,
                        called,
                        input,
                        location,
                        transit_carrier_id: transit,
                        subject_media: media,
                        origination_cause: cause,
                        protocol_specific_parameters: psp,
                        signaling_msg: sig,
                        forked_calls: forked,
                    })
                }
            ),
        Just(LaesMessage::Null6(())),
        (
            (
                header(),
                call_identity(),
                of(call_identity()),
                of(sip_party()),
                of(sip_party())
            ),
            (
                of(visible(3, 7)),
                of(media()),
                of(media()),
                of(visible(0, 20)),
                of(psp()),
                signaling()
            )
        )
            .prop_map(
                |((header, call_id, new, from, to), (transit, s, a, visited, psp, sig))| {
                    LaesMessage::Redirection(Redirection {
                        header,
                        call_id,
                        new_call_id: new,
                        redirected_from: from,
                        redirected_to: to,
                        transit_carrier_id: transit,
                        subject_media: s,
                        associate_media: a,
                        visited_system_identity: visited,
                        protocol_specific_parameters: psp,
                        signaling_msg: sig,
                    })
                }
            ),
        (
            header(),
            call_identity(),
            of(location()),
            of(cause()),
            of(sip_party()),
            of(psp()),
            signaling()
        )
            .prop_map(|(header, call_id, location, cause, contact, psp, sig)| {
                LaesMessage::Release(Release {
                    header,
                    call_id,
                    location,
                    cause,
                    contact_addresses: contact,
                    protocol_specific_parameters: psp,
                    signaling_msg: sig,
                })
            }),
        (
            (
                header(),
                of(visible(1, 15)),
                of(visible(1, 15)),
                of(call_identity()),
                of(0i64..=3)
            ),
            (
                of(sip_party()),
                of(sip_party()),
                of(sip_party()),
                of(address_info()),
                of(address_info())
            ),
            (
                of(cause()),
                of(prop_oneof![
                    any::<i64>().prop_map(ExpirationPeriod::Generic),
                    utf8().prop_map(ExpirationPeriod::Sip)
                ]),
                of(psp()),
                signaling()
            )
        )
            .prop_map(
                |(
                    (header, system, network, request, reg),
                    (a, b, c, req, resp),
                    (fail, exp, psp, sig),
                )| {
                    LaesMessage::ServingSystem(ServingSystem {
                        header,
                        system_identity: system,
                        network_address: network,
                        request_id: request,
                        registration_type: reg.and_then(AddressRegistrationType::from_value),
                        registering: a,
                        requesting: b,
                        registrar: c,
                        request_address_info: req,
                        response_address_info: resp,
                        failure_reason: fail,
                        expiration_period: exp,
                        protocol_specific_parameters: psp,
                        signaling_msg: sig,
                    })
                }
            ),
        (
            (
                header(),
                call_identity(),
                sip_party(),
                of(sip_party()),
                of(location()),
                of(media())
            ),
            (
                of(
                    (of(sip_party()), of(sip_party()), of(1i64..=100)).prop_map(|(l, o, n)| {
                        RedirectedFromInformation {
                            last_redirecting: l,
                            original_called: o,
                            num_redirections: n,
                        }
                    })
                ),
                of(psp()),
                signaling()
            )
        )
            .prop_map(
                |((header, call_id, calling, called, location, media), (redirected, psp, sig))| {
                    LaesMessage::TermAttempt(TerminationAttempt {
                        header,
                        call_id,
                        calling,
                        called,
                        location,
                        associate_media: media,
                        redirected_from_info: redirected,
                        protocol_specific_parameters: psp,
                        signaling_msg: sig,
                    })
                }
            ),
        (
            of(case_id()),
            of(visible(1, 15)),
            time(),
            of(visible(1, 255))
        )
            .prop_map(|(case_id, iap_system_id, timestamp, memo)| {
                LaesMessage::ConnTest(ConnectionTest {
                    case_id,
                    iap_system_id,
                    timestamp,
                    memo,
                })
            }),
        (
            header(),
            calls(),
            parties(),
            parties(),
            parties(),
            of(psp()),
            signaling()
        )
            .prop_map(|(header, call_id, c, r, j, psp, sig)| {
                LaesMessage::ConfPartyChange(ConfPartyChange {
                    header,
                    call_id,
                    communicating_parties: c,
                    removed_parties: r,
                    joined_parties: j,
                    protocol_specific_parameters: psp,
                    signaling_msg: sig,
                })
            }),
        (
            header(),
            calls(),
            parties(),
            parties(),
            of(media()),
            of(psp()),
            signaling()
        )
            .prop_map(|(header, call_id, c, n, m, psp, sig)| {
                LaesMessage::Connection(Connection {
                    header,
                    call_id,
                    connected_parties: c,
                    new_parties: n,
                    connected_media: m,
                    protocol_specific_parameters: psp,
                    signaling_msg: sig,
                })
            }),
        (
            header(),
            calls(),
            parties(),
            parties(),
            parties(),
            of(media()),
            of(psp()),
            signaling()
        )
            .prop_map(|(header, call_id, r, rem, d, m, psp, sig)| {
                LaesMessage::ConnectionBreak(ConnectionBreak {
                    header,
                    call_id,
                    removed_parties: r,
                    remaining_parties: rem,
                    dropped_parties: d,
                    suspended_media: m,
                    protocol_specific_parameters: psp,
                    signaling_msg: sig,
                })
            }),
        (header(), call_identity(), visible(1, 32), of(psp())).prop_map(
            |(header, call_id, digits, psp)| {
                LaesMessage::DialedDgtExtrn(DialedDigitExtraction {
                    header,
                    call_id,
                    digits,
                    protocol_specific_parameters: psp,
                })
            }
        ),
        (
            (
                header(),
                of(call_identity()),
                of(sip_party()),
                of(sip_party()),
                of(sip_party()),
                of(media())
            ),
            (
                of(0i64..=10),
                of(0i64..=21),
                of(display()),
                of(utf8()),
                of(refer()),
                of(psp()),
                signaling()
            )
        )
            .prop_map(
                |(
                    (header, call_id, to, s, a, media),
                    (alert, audible, display, other, refer, psp, sig),
                )| {
                    LaesMessage::NetworkSignal(NetworkSignal {
                        header,
                        call_id,
                        signaled_to_party_id: to,
                        subject_contact_addresses: s,
                        associate_contact_addresses: a,
                        associate_media: media,
                        alerting_signal: alert.and_then(AlertingSignal::from_value),
                        subject_audible_signal: audible.and_then(AudibleSignal::from_value),
                        terminal_display_info: display,
                        other,
                        refer,
                        protocol_specific_parameters: psp,
                        signaling_msg: sig,
                    })
                }
            ),
        (
            (
                header(),
                of(call_identity()),
                of(sip_party()),
                of(sip_party()),
                input(),
                of(media())
            ),
            (
                (
                    of(visible(1, 128)),
                    of(visible(1, 128)),
                    of(visible(1, 128)),
                    of(visible(1, 128)),
                    of(refer())
                )
                    .prop_map(|(a, b, c, d, refer)| Signal {
                        switchhook_flash: a,
                        dialed_digits: b,
                        feature_key: c,
                        other_signaling_information: d,
                        refer,
                    }),
                of(psp()),
                signaling()
            )
        )
            .prop_map(
                |((header, call_id, a, b, input, media), (signal, psp, sig))| {
                    LaesMessage::SubjectSignal(SubjectSignal {
                        header,
                        call_id,
                        signaling_party_id: a,
                        signaled_party_id: b,
                        input,
                        subject_media: media,
                        signal,
                        protocol_specific_parameters: psp,
                        signaling_msg: sig,
                    })
                }
            ),
        (
            header(),
            octets(0, 12),
            of(psp()),
            vec(signaling_message(), 0..3)
        )
            .prop_map(|(header, correlation_id, psp, signaling_msg)| {
                LaesMessage::DirectSignalReporting(DirectSignalReporting {
                    header,
                    correlation_id,
                    protocol_specific_parameters: psp,
                    signaling_msg,
                })
            }),
        (
            (
                header(),
                call_identity(),
                of(media()),
                of(vec(media(), 0..2)),
                of(media())
            ),
            (
                of(sip_party()),
                of(sip_party()),
                of(sip_party()),
                of(psp()),
                signaling()
            )
        )
            .prop_map(|((header, call_id, s, a, r), (sc, ac, rc, psp, sig))| {
                LaesMessage::MediaAndAddressReporting(MediaAndAddressReporting {
                    header,
                    call_id,
                    subject_media: s,
                    associate_media: a,
                    redirected_to_party_media: r,
                    subject_contact_addresses: sc,
                    associate_contact_addresses: ac,
                    redirected_to_party_contact_addresses: rc,
                    protocol_specific_parameters: psp,
                    signaling_msg: sig,
                })
            }),
        (
            header(),
            content_identifier(),
            delivery_identifier(),
            of(media()),
            of(media()),
            of(psp()),
            signaling()
        )
            .prop_map(|(header, c, d, s, a, psp, sig)| {
                LaesMessage::CcChange(CcChange {
                    header,
                    content_identifier: c,
                    delivery_identifier: d,
                    subject_media: s,
                    associate_media: a,
                    protocol_specific_parameters: psp,
                    signaling_msg: sig,
                })
            }),
        (
            header(),
            call_identity(),
            of(visible(0, 30)),
            of(psp()),
            signaling()
        )
            .prop_map(|(header, call_id, reason, psp, sig)| {
                LaesMessage::CcUnavailable(CcUnavailable {
                    header,
                    call_id,
                    unavailability_reason: reason,
                    protocol_specific_parameters: psp,
                    signaling_msg: sig,
                })
            }),
        (header(), 0i64..=3, 0i64..=2).prop_map(|(header, e, c)| {
            LaesMessage::SurveillanceStatus(SurveillanceStatus {
                header,
                status_event_type: SurveillanceStatusEventType::from_value(e).unwrap(),
                current_status: CurrentSurveillanceStatus::from_value(c).unwrap(),
            })
        }),
        (
            header(),
            of(sip_party()),
            utf8(),
            any::<bool>(),
            of(utf8()),
            of(utf8())
        )
            .prop_map(
                |(header, subscriber_id, feature_id, act, activation_info, failure_reason)| {
                    LaesMessage::FeatureManagement(FeatureManagement {
                        header,
                        subscriber_id,
                        feature_id,
                        management_type: if act {
                            FeatureManagementType::Activation
                        } else {
                            FeatureManagementType::Deactivation
                        },
                        activation_info,
                        failure_reason,
                    })
                }
            ),
        (header(), call_identity(), of(psp()), of(psp()), signaling()).prop_map(
            |(header, call_id, content, psp, sig)| {
                LaesMessage::UuContent(UuContent {
                    header,
                    call_id,
                    content,
                    protocol_specific_parameters: psp,
                    signaling_msg: sig,
                })
            }
        ),
        (25u32..200, opaque()).prop_map(|(tag_number, value)| {
            LaesMessage::Unknown(UnknownAlternative { tag_number, value })
        }),
    ]
    .boxed()
}

pub fn laes_protocol() -> BoxedStrategy<LaesProtocol> {
    (of(oid()), laes_message())
        .prop_map(|(oid, message)| match oid {
            Some(protocol_identifier) => LaesProtocol::Enhanced {
                protocol_identifier,
                message,
            },
            None => LaesProtocol::Plain(message),
        })
        .boxed()
}
