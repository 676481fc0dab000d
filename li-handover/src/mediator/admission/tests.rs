//! The admission decision, driven without sockets, spools or clocks: every rule, the window
//! edges to the nanosecond, and the destinations an admitted record goes to.

use std::collections::HashMap;

use li_asn1::{HeaderSettings, IriPayload, PayloadDirection as EtsiDirection};
use li_core::{
    AccessEvent, AccessEventType, Cin, DestinationId, InterceptScope, IriEvent, IriRecord, IriType,
    Liid, OperatorId, Timestamp, ValidityWindow, Xid,
};

use super::{Admitted, Content, admit, x2x3_content};
use crate::lemf::Interface;
use crate::mediator::{MediationTask, Refusal};
use crate::x2x3::{Attribute, PayloadDirection, PayloadFormat, Pdu, PduTimestamp, PduType};

/// The window of the windowed task: [START, END), whole seconds.
const START: u32 = 1_768_471_210;
const END: u32 = 1_768_471_220;
const PACKET: [u8; 20] = [
    0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17, 0, 0, 198, 51, 100, 23, 192, 0, 2, 1,
];

fn xid(n: u8) -> Xid {
    Xid::from_bytes([n; 16])
}

fn did(n: u8) -> DestinationId {
    format!("00000000-0000-4000-8000-0000000000{n:02x}")
        .parse()
        .unwrap()
}

fn core(t: PduTimestamp) -> Timestamp {
    Timestamp::from_secs_micros(u64::from(t.secs), t.nanos / 1_000).unwrap()
}

fn at(secs: u32, nanos: u32) -> PduTimestamp {
    PduTimestamp::new(secs, nanos)
}

/// `t` moved by `delta_ns` nanoseconds (either way).
fn shifted(secs: u32, delta_ns: i64) -> PduTimestamp {
    let total = i64::from(secs) * 1_000_000_000 + delta_ns;
    at(
        u32::try_from(total.div_euclid(1_000_000_000)).unwrap(),
        u32::try_from(total.rem_euclid(1_000_000_000)).unwrap(),
    )
}

/// The tasks: 1 windowed IRI and CC to HI2 1 and HI3 2; 2 IRI only, always, to HI2 1;
/// 3 IRI and CC, always, to two agencies (HI2 3 and 5, HI3 4 and 6) and a DID that does not
/// exist (9); 4 IRI and CC, always, to HI2 1 only.
fn tasks() -> HashMap<Xid, MediationTask> {
    let task = |n: u8, scope, window, destinations: Vec<DestinationId>| {
        MediationTask::builder(
            Liid::new(format!("LIID-{n}").as_bytes()).unwrap(),
            xid(n),
            scope,
            window,
        )
        .targets(vec!["ipv4:192.0.2.1".parse().unwrap()])
        .destinations(destinations)
        .build()
        .unwrap()
    };
    let window = ValidityWindow::new(core(at(START, 0)), Some(core(at(END, 0)))).unwrap();
    [
        task(1, InterceptScope::IriAndCc, window, vec![did(1), did(2)]),
        task(
            2,
            InterceptScope::IriOnly,
            ValidityWindow::ALWAYS,
            vec![did(1)],
        ),
        task(
            3,
            InterceptScope::IriAndCc,
            ValidityWindow::ALWAYS,
            vec![did(3), did(4), did(9), did(5), did(6)],
        ),
        task(
            4,
            InterceptScope::IriAndCc,
            ValidityWindow::ALWAYS,
            vec![did(1)],
        ),
    ]
    .into_iter()
    .map(|t| (t.xid(), t))
    .collect()
}

/// Which interface each existing destination serves.
fn interface_of(did: DestinationId) -> Option<Interface> {
    let n = (1..=8).find(|n| self::did(*n) == did)?;
    Some(if n % 2 == 1 {
        Interface::Hi2
    } else {
        Interface::Hi3
    })
}

fn pdu(pdu_type: PduType, format: PayloadFormat, task: Xid, cin: u64, time: PduTimestamp) -> Pdu {
    let mut pdu = Pdu::new(pdu_type, format, PayloadDirection::FromTarget, task);
    pdu.correlation_id = cin.to_be_bytes();
    pdu.attributes = vec![Attribute::SequenceNumber(0), Attribute::Timestamp(time)];
    pdu
}

fn x3(task: Xid, cin: u64, time: PduTimestamp) -> Pdu {
    let mut pdu = pdu(PduType::X3, PayloadFormat::Ipv4Packet, task, cin, time);
    pdu.payload = bytes::Bytes::from_static(&PACKET);
    pdu
}

fn iri() -> IriPayload {
    let record = IriRecord {
        xid: xid(1),
        cin: Cin::new(5),
        timestamp: core(at(START, 0)),
        iri_type: IriType::Begin,
        event: IriEvent::Access(AccessEvent::new(AccessEventType::AccessAccept)),
    };
    let settings = HeaderSettings::new(Liid::new(b"POI").unwrap(), OperatorId::new(b"OP").unwrap());
    let li_asn1::Payload::IriPayloadSequence(items) = settings.iri_pdu(0, &record).unwrap().payload
    else {
        panic!("not IRI")
    };
    items.into_iter().next().unwrap()
}

fn x2(task: Xid, cin: u64, time: PduTimestamp) -> Pdu {
    let mut pdu = pdu(PduType::X2, PayloadFormat::Etsi102232, task, cin, time);
    pdu.payload_direction = PayloadDirection::NotApplicable;
    pdu.payload = iri().to_ber().into();
    pdu
}

fn decide(tasks: &HashMap<Xid, MediationTask>, pdu: &Pdu) -> Result<Vec<DestinationId>, Refusal> {
    admit(tasks, interface_of, pdu).map(|a| a.destinations)
}

#[test]
fn an_unknown_xid_is_refused_for_iri_and_content() {
    let tasks = tasks();
    let time = at(START + 1, 0);
    assert_eq!(
        decide(&tasks, &x3(xid(7), 5, time)),
        Err(Refusal::UnknownXid)
    );
    assert_eq!(
        decide(&tasks, &x2(xid(7), 5, time)),
        Err(Refusal::UnknownXid)
    );
}

#[test]
fn a_deactivated_task_admits_nothing_more() {
    let mut tasks = tasks();
    let time = at(START + 1, 0);
    assert_eq!(decide(&tasks, &x3(xid(1), 5, time)), Ok(vec![did(2)]));
    assert_eq!(decide(&tasks, &x2(xid(1), 5, time)), Ok(vec![did(1)]));
    // Deactivation removes the task from the table.
    tasks.remove(&xid(1));
    assert_eq!(
        decide(&tasks, &x3(xid(1), 5, time)),
        Err(Refusal::UnknownXid)
    );
    assert_eq!(
        decide(&tasks, &x2(xid(1), 5, time)),
        Err(Refusal::UnknownXid)
    );
    // The others are untouched.
    assert_eq!(decide(&tasks, &x2(xid(2), 5, time)), Ok(vec![did(1)]));
}

/// The window is [start, end) at microsecond precision (nanoseconds truncated), both for
/// content and IRI; IRI stamped at the end itself (the end-of-interception record) is
/// admitted, content is not.
#[test]
fn window_edges_to_the_nanosecond() {
    let tasks = tasks();
    let out = Err(Refusal::OutsideWindow);
    // (time, content, IRI)
    let cases = [
        (shifted(START, -1_000), out.clone(), out.clone()),
        // 1 ns before the start is truncated to the microsecond before it.
        (shifted(START, -1), out.clone(), out.clone()),
        (at(START, 0), Ok(vec![did(2)]), Ok(vec![did(1)])),
        (shifted(START, 1), Ok(vec![did(2)]), Ok(vec![did(1)])),
        (shifted(START, 1_000), Ok(vec![did(2)]), Ok(vec![did(1)])),
        (shifted(END, -1_000), Ok(vec![did(2)]), Ok(vec![did(1)])),
        (shifted(END, -1), Ok(vec![did(2)]), Ok(vec![did(1)])),
        (at(END, 0), out.clone(), Ok(vec![did(1)])),
        // 1 ns after the end is truncated to the end itself.
        (shifted(END, 1), out.clone(), Ok(vec![did(1)])),
        (shifted(END, 1_000), out.clone(), out.clone()),
    ];
    for (time, cc, iri) in cases {
        assert_eq!(decide(&tasks, &x3(xid(1), 5, time)), cc, "X3 at {time:?}");
        assert_eq!(decide(&tasks, &x2(xid(1), 5, time)), iri, "X2 at {time:?}");
    }
    // An admitted record carries its own time, at microsecond precision.
    let pdu = x3(xid(1), 5, shifted(END, -1));
    let record = admit(&tasks, interface_of, &pdu).unwrap();
    assert_eq!(record.time, core(shifted(END, -1_000)));
    assert_eq!(
        record.time,
        Timestamp::from_secs_micros(u64::from(END) - 1, 999_999).unwrap()
    );
}

#[test]
fn a_record_without_a_valid_time_is_refused_not_stamped() {
    let tasks = tasks();
    for (mut pdu, what) in [
        (x3(xid(1), 5, at(START, 0)), "X3"),
        (x2(xid(2), 5, at(START, 0)), "X2"),
    ] {
        pdu.attributes
            .retain(|a| !matches!(a, Attribute::Timestamp(_)));
        assert_eq!(
            decide(&tasks, &pdu),
            Err(Refusal::Malformed),
            "{what} untimed"
        );
    }
    // Nanoseconds not below one second.
    let bad = at(START + 1, 1_000_000_000);
    assert_eq!(decide(&tasks, &x3(xid(1), 5, bad)), Err(Refusal::Malformed));
    assert_eq!(decide(&tasks, &x2(xid(2), 5, bad)), Err(Refusal::Malformed));
}

#[test]
fn content_for_an_iri_only_task_is_refused_before_anything_else() {
    let tasks = tasks();
    let time = at(START + 1, 0);
    assert_eq!(
        decide(&tasks, &x3(xid(2), 5, time)),
        Err(Refusal::ContentForIriOnly)
    );
    // Its IRI goes to its HI2 destination.
    assert_eq!(decide(&tasks, &x2(xid(2), 5, time)), Ok(vec![did(1)]));
    // Checked before the time and the payload: no timestamp, no packet, still this reason.
    let mut bare = x3(xid(2), u64::MAX, time);
    bare.attributes.clear();
    bare.payload_format = PayloadFormat::Etsi102232;
    assert_eq!(decide(&tasks, &bare), Err(Refusal::ContentForIriOnly));
}

#[test]
fn a_payload_the_pdu_type_does_not_carry_is_malformed() {
    let tasks = tasks();
    let time = at(START + 1, 0);
    // X3 must carry an IPv4 or IPv6 packet (or a call's media: see the voice test).
    let mut v6 = x3(xid(1), 5, time);
    v6.payload_format = PayloadFormat::Ipv6Packet;
    assert_eq!(decide(&tasks, &v6), Ok(vec![did(2)]));
    for format in [
        PayloadFormat::Etsi102232,
        PayloadFormat::EthernetFrame,
        PayloadFormat::GtpUMessage,
        PayloadFormat::Proprietary,
        PayloadFormat::Other(99),
    ] {
        let mut pdu = x3(xid(1), 5, time);
        pdu.payload_format = format;
        assert_eq!(
            decide(&tasks, &pdu),
            Err(Refusal::Malformed),
            "X3 {format:?}"
        );
    }
    // X2 must carry a BER IRIPayload in the ETSI TS 102 232-1 format (or a call's SIP: see
    // the voice test).
    for format in [
        PayloadFormat::Ipv4Packet,
        PayloadFormat::Ipv6Packet,
        PayloadFormat::RadiusPacket,
        PayloadFormat::Tgpp33108,
    ] {
        let mut pdu = x2(xid(1), 5, time);
        pdu.payload_format = format;
        assert_eq!(
            decide(&tasks, &pdu),
            Err(Refusal::Malformed),
            "X2 {format:?}"
        );
    }
    let mut broken = x2(xid(1), 5, time);
    broken.payload = bytes::Bytes::from_static(&[0x30, 0x03, 0x01]);
    assert_eq!(decide(&tasks, &broken), Err(Refusal::Malformed));
    // Other PDU types carry no record (the pipeline ignores keep-alives before asking).
    for pdu_type in [PduType::Keepalive, PduType::KeepaliveAck, PduType::Other(7)] {
        let mut pdu = x3(xid(1), 5, time);
        pdu.pdu_type = pdu_type;
        assert_eq!(
            decide(&tasks, &pdu),
            Err(Refusal::Malformed),
            "{pdu_type:?}"
        );
        assert_eq!(x2x3_content(&pdu), Err(Refusal::Malformed));
    }
}

/// The Correlation ID is the CIN: all of the 32-bit range, nothing above it.
#[test]
fn the_correlation_id_is_the_cin_and_must_fit_32_bits() {
    let tasks = tasks();
    let time = at(START + 1, 0);
    for cin in [0, 1, 5, u64::from(u32::MAX)] {
        for pdu in [x3(xid(1), cin, time), x2(xid(1), cin, time)] {
            let record = admit(&tasks, interface_of, &pdu).unwrap();
            assert_eq!(u64::from(record.cin.value()), cin);
        }
    }
    for cin in [u64::from(u32::MAX) + 1, 1 << 40, u64::MAX] {
        assert_eq!(
            decide(&tasks, &x3(xid(1), cin, time)),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            decide(&tasks, &x2(xid(1), cin, time)),
            Err(Refusal::Malformed)
        );
    }
}

/// A task with several destinations: one record for each destination of the record's
/// interface, in the task's order; a DID the table does not know is skipped; a task with
/// no destination of that interface admits the record for none.
#[test]
fn each_destination_of_the_interface_gets_one_record() {
    let tasks = tasks();
    let time = at(START + 1, 0);
    assert_eq!(
        decide(&tasks, &x3(xid(3), 5, time)),
        Ok(vec![did(4), did(6)])
    );
    assert_eq!(
        decide(&tasks, &x2(xid(3), 5, time)),
        Ok(vec![did(3), did(5)])
    );
    assert_eq!(decide(&tasks, &x3(xid(4), 5, time)), Ok(vec![]));
    assert_eq!(decide(&tasks, &x2(xid(4), 5, time)), Ok(vec![did(1)]));
    // Nothing exists: nowhere to go, but admitted (the warrant allows it).
    let pdu = x2(xid(3), 5, time);
    let none = admit(&tasks, |_| None, &pdu).unwrap();
    assert!(none.destinations.is_empty());
}

/// What an admitted record carries: the task, the time, the CIN, the packet borrowed from
/// the PDU with its direction and original length, or the decoded IRIPayload.
#[test]
fn an_admitted_record_carries_what_the_pdu_said() {
    let tasks = tasks();
    let time = at(START + 1, 250_000);
    let mut pdu = x3(xid(1), 42, time);
    pdu.attributes
        .push(Attribute::original_length_attribute(1_500));
    pdu.attributes
        .push(Attribute::NetworkFunctionId(b"probe-7".to_vec()));
    let record = admit(&tasks, interface_of, &pdu).unwrap();
    assert_eq!(
        record,
        Admitted {
            task: &tasks[&xid(1)],
            time: core(time),
            cin: Cin::new(42),
            content: Content::Cc {
                direction: li_core::PayloadDirection::FromTarget,
                packet: &PACKET,
                original_length: Some(1_500),
            },
            destinations: vec![did(2)],
            nfid: Some(&b"probe-7"[..]),
        }
    );
    assert_eq!(record.interface(), Interface::Hi3);
    for (x2x3, etsi) in [
        (PayloadDirection::FromTarget, EtsiDirection::FromTarget),
        (PayloadDirection::ToTarget, EtsiDirection::ToTarget),
        (
            PayloadDirection::MultipleDirections,
            EtsiDirection::Combined,
        ),
        (PayloadDirection::Unknown, EtsiDirection::Indeterminate),
        // The contract's one mapping: "not applicable" stays so (it was Indeterminate
        // while the mediator kept a mapping of its own).
        (
            PayloadDirection::NotApplicable,
            EtsiDirection::NotApplicable,
        ),
        (PayloadDirection::Other(9), EtsiDirection::Indeterminate),
    ] {
        let mut pdu = x3(xid(1), 42, time);
        pdu.payload_direction = x2x3;
        let Ok(Content::Cc {
            direction,
            original_length,
            ..
        }) = x2x3_content(&pdu)
        else {
            panic!("not CC")
        };
        assert_eq!(
            (EtsiDirection::from(direction), original_length),
            (etsi, None),
            "{x2x3:?}"
        );
    }
    let pdu = x2(xid(1), 42, time);
    let record = admit(&tasks, interface_of, &pdu).unwrap();
    assert_eq!(record.content, Content::Iri(iri()));
    assert_eq!(record.interface(), Interface::Hi2);
    assert_eq!(record.destinations, [did(1)]);
}

/// A call's SIP message (X2) and a media packet (X3), as the X2/X3 contract writes them.
fn voice(task: Xid, time: PduTimestamp) -> (Pdu, Pdu) {
    use crate::x2x3::contract;
    use li_core::{CcKind, CcRecord, MediaFlow, MediaProtocol, SipEvent};
    let sip = IriRecord {
        xid: task,
        cin: Cin::new(9),
        timestamp: core(time),
        iri_type: IriType::Continue,
        event: IriEvent::Sip(SipEvent {
            source: "192.0.2.1:5060".parse().unwrap(),
            destination: "192.0.2.2:5060".parse().unwrap(),
            message: b"BYE sip:b@example.com SIP/2.0\r\n\r\n".as_slice().into(),
        }),
    };
    let media = CcRecord {
        xid: task,
        cin: Cin::new(9),
        timestamp: core(time),
        direction: li_core::PayloadDirection::FromTarget,
        payload: vec![0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1].into(),
        original_len: None,
        kind: CcKind::Media(MediaFlow {
            source: "192.0.2.1:4000".parse().unwrap(),
            destination: "192.0.2.2:4002".parse().unwrap(),
            protocol: MediaProtocol::Rtcp,
            stream: 1,
        }),
    };
    (
        contract::iri_pdu(&sip, 0).unwrap(),
        contract::x3_pdu(&media, 1).unwrap(),
    )
}

#[test]
fn a_calls_sip_goes_to_hi2_and_its_media_to_hi3_under_the_same_rules() {
    let tasks = tasks();
    let (sip, media) = voice(xid(3), at(START, 0));
    assert_eq!(decide(&tasks, &sip), Ok(vec![did(3), did(5)]));
    assert_eq!(decide(&tasks, &media), Ok(vec![did(4), did(6)]));
    let admitted = admit(&tasks, interface_of, &media).unwrap();
    let Content::Media {
        direction,
        flow,
        packet,
    } = admitted.content
    else {
        panic!("media expected: {:?}", admitted.content)
    };
    assert_eq!(EtsiDirection::from(direction), EtsiDirection::FromTarget);
    assert_eq!(
        (flow.stream, flow.protocol),
        (1, li_core::MediaProtocol::Rtcp)
    );
    assert_eq!(packet.len(), 12);
    let admitted = admit(&tasks, interface_of, &sip).unwrap();
    assert!(matches!(
        admitted.content,
        Content::Sip { iri_type: IriType::Continue, message, .. } if message.starts_with(b"BYE ")
    ));

    // IRI-only: the SIP, never the media.
    let (sip, media) = voice(xid(2), at(START, 0));
    assert_eq!(decide(&tasks, &sip), Ok(vec![did(1)]));
    assert_eq!(decide(&tasks, &media), Err(Refusal::ContentForIriOnly));
    // The window applies to both: task 1 is windowed [START, END).
    let (sip, media) = voice(xid(1), shifted(START, -1));
    assert_eq!(decide(&tasks, &sip), Err(Refusal::OutsideWindow));
    assert_eq!(decide(&tasks, &media), Err(Refusal::OutsideWindow));
    let (_, mut media) = voice(xid(3), at(START, 0));
    // A media PDU without its flow cannot be delivered.
    media
        .attributes
        .retain(|a| !matches!(a, Attribute::SourcePort(_)));
    assert_eq!(decide(&tasks, &media), Err(Refusal::Malformed));
    // X3 in the SIP format, X2 in the RTP format: not what the PDU types carry.
    let (mut sip, mut media) = voice(xid(3), at(START, 0));
    (sip.pdu_type, media.pdu_type) = (PduType::X3, PduType::X2);
    assert_eq!(decide(&tasks, &sip), Err(Refusal::Malformed));
    assert_eq!(decide(&tasks, &media), Err(Refusal::Malformed));
}
