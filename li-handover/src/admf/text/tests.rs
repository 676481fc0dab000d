//! The operator's text, pinned exactly: `li-admf warrant list` and `show` print it, and
//! scripts read it.

use li_core::{
    DestinationId, HandoverFormat, InterceptScope, TargetKind, Task, Timestamp, ValidityWindow, Xid,
};

use super::*;
use crate::admf::store::tests::rebuilt;
use crate::admf::store::{Agency, WarrantState};

fn ts(secs: u64) -> Timestamp {
    Timestamp::from_secs_micros(secs, 0).unwrap()
}

fn agency(n: u8, name: &str, tls: bool, hi3: bool) -> Agency {
    Agency::new(
        DestinationId::new_v4_from_random([n; 16]),
        DeliveryAddress::new("198.51.100.1", 6000 + u16::from(n), tls),
        hi3.then(|| DeliveryAddress::new("198.51.100.2", 7000 + u16::from(n), tls)),
        HandoverFormat::etsi_default(),
    )
    .with_name(name)
}

/// An active IRI+CC warrant with two agencies: LEA-1 over TLS, LEA-2 over plain TCP.
fn warrant(end: Option<Timestamp>) -> Warrant {
    let task = Task::new(
        "LIID-0001".parse().unwrap(),
        Xid::new_v4_from_random([7; 16]),
        vec![
            "ipv4:192.0.2.9".parse().unwrap(),
            "username:alice".parse().unwrap(),
        ],
        InterceptScope::IriAndCc,
        ValidityWindow::new(ts(1_800_000_000), end).unwrap(),
        vec![
            agency(1, "LEA-1", true, true),
            agency(2, "LEA-2", false, true),
        ],
    )
    .unwrap();
    let mut w = Warrant::new(task, ts(1_799_990_000)).unwrap();
    w.state = WarrantState::Active;
    w.updated = ts(1_799_995_000);
    w
}

/// [`warrant`] delivering IRI only, LEA-1 with a HI3 address, LEA-2 without. (A warrant
/// delivering CC has a HI3 address for every agency: `li-core` builds no other task.)
fn iri_warrant(end: Option<Timestamp>) -> Warrant {
    rebuilt(&warrant(end), |t| {
        t.scope(InterceptScope::IriOnly)
            .clear_destinations()
            .destinations([
                agency(1, "LEA-1", true, true),
                agency(2, "LEA-2", false, false),
            ])
    })
    .unwrap()
}

fn refusals() -> Vec<Refusal> {
    vec![
        Refusal {
            ne: "poi-1".into(),
            reason: "target kind sip cannot be intercepted".into(),
            at: ts(1_799_999_000),
        },
        Refusal {
            ne: "mdf".into(),
            reason: "busy".into(),
            at: ts(1_799_999_500),
        },
    ]
}

#[test]
fn a_list_line_has_every_field_and_each_refusal() {
    let w = warrant(Some(ts(1_800_003_600)));
    assert_eq!(
        list_line(&w, &refusals()),
        "LIID-0001                 active   iri+cc 2027-01-15T08:00:00.000000Z .. \
         2027-01-15T09:00:00.000000Z  2 target(s)  agencies: LEA-1, LEA-2  XID \
         07070707-0707-4707-8707-070707070707  REFUSED by poi-1: target kind sip cannot be \
         intercepted  REFUSED by mdf: busy"
    );
    assert_eq!(
        list_line(&warrant(None), &[]),
        "LIID-0001                 active   iri+cc 2027-01-15T08:00:00.000000Z .. (open)  \
         2 target(s)  agencies: LEA-1, LEA-2  XID 07070707-0707-4707-8707-070707070707"
    );
}

#[test]
fn a_description_says_how_each_agency_is_reached() {
    let w = iri_warrant(Some(ts(1_800_003_600)));
    assert_eq!(
        describe(&w, &refusals()),
        "LIID:     LIID-0001\n\
         XID:      07070707-0707-4707-8707-070707070707\n\
         state:    active\n\
         scope:    iri\n\
         start:    2027-01-15T08:00:00.000000Z\n\
         end:      2027-01-15T09:00:00.000000Z\n\
         target:   ipv4:192.0.2.9\n\
         target:   username:alice\n\
         agency:   LEA-1 (DID 01010101-0101-4101-8101-010101010101): HI2 198.51.100.1:6001 \
         over TLS, HI3 198.51.100.2:7001 over TLS (DID 8615dede-abcd-8e7e-a90b-8dcb14cb6bb9)\n\
         agency:   LEA-2 (DID 02020202-0202-4202-8202-020202020202): HI2 198.51.100.1:6002 \
         over plain TCP\n\
         REFUSED:  by poi-1 at 2027-01-15T07:43:20.000000Z: target kind sip cannot be \
         intercepted\n\
         REFUSED:  by mdf at 2027-01-15T07:51:40.000000Z: busy\n\
         created:  2027-01-15T05:13:20.000000Z\n\
         updated:  2027-01-15T06:36:40.000000Z\n"
    );
    let open = describe(&iri_warrant(None), &[]);
    assert!(open.contains("\nend:      (open)\n"), "{open}");
    assert!(!open.contains("REFUSED"), "{open}");
}

#[test]
fn an_unknown_target_kind_is_refused_with_the_valid_kinds_listed() {
    assert_eq!(
        target_kinds(),
        "ipv4:, ipv6:, ipv4-prefix:, ipv6-prefix:, username:, mac:, sip:, tel:"
    );
    assert_eq!(
        target_help(),
        "A target, kind:value (e.g. ipv4:192.0.2.1, ipv4-prefix:192.0.2.0/24, username:alice, \
         sip:alice@example.com, tel:+4930123456); repeatable. Kinds: ipv4:, ipv6:, ipv4-prefix:, \
         ipv6-prefix:, username:, mac:, sip:, tel:"
    );
    // `prefix:` was documented but never a kind: the error names every kind there is
    let err = parse_target("prefix:192.0.2.0/24").unwrap_err().to_string();
    assert_eq!(
        err,
        "not a valid kind:value target (unknown target identifier kind \"prefix\"); valid \
         kinds: ipv4:, ipv6:, ipv4-prefix:, ipv6-prefix:, username:, mac:, sip:, tel:"
    );
    for kind in TargetKind::ALL {
        assert!(err.contains(&format!("{kind}:")), "{kind} missing: {err}");
    }
    // a bad value of a good kind: the kinds too, never the value
    let err = parse_target("ipv4:alice-secret").unwrap_err().to_string();
    assert!(
        err.contains("ipv4-prefix:") && !err.contains("alice-secret"),
        "{err}"
    );
    assert_eq!(
        parse_target("ipv4-prefix:192.0.2.0/24").unwrap().kind(),
        TargetKind::Ipv4Prefix
    );
    assert_eq!(
        parse_target("ipv6-prefix:2001:db8::/48").unwrap().kind(),
        TargetKind::Ipv6Prefix
    );
}

#[test]
fn a_window_entirely_in_the_past_is_refused() {
    let now = ts(1_800_000_000);
    let past = ValidityWindow::new(ts(1_799_992_800), Some(ts(1_799_996_400))).unwrap();
    let err = check_window_not_past(&past, now).unwrap_err();
    assert_eq!(
        err,
        WindowInPast {
            end: ts(1_799_996_400),
            now
        }
    );
    assert_eq!(
        err.to_string(),
        "the window ends at 2027-01-15T07:00:00.000000Z, which is not after now \
         (2027-01-15T08:00:00.000000Z): live traffic would never be intercepted"
    );
    // ending exactly now is over too
    let ends_now = ValidityWindow::new(ts(1_799_999_940), Some(now)).unwrap();
    assert!(check_window_not_past(&ends_now, now).is_err());
    // with any part still to come, it is accepted
    let started = ValidityWindow::new(
        ts(1_799_999_940),
        Some(
            now.checked_add(std::time::Duration::from_millis(1))
                .unwrap(),
        ),
    )
    .unwrap();
    check_window_not_past(&started, now).unwrap();
    let open = ValidityWindow::new(ts(1_799_999_940), None).unwrap();
    check_window_not_past(&open, now).unwrap();
}
