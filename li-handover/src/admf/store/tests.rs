//! Tests of the warrant model (the SQLite store's are in `sqlite.rs`).

use li_core::{DeliveryAddress, HandoverFormat, TaskBuilder, ValidityWindow};

use super::*;

pub(crate) fn ts(secs: u64) -> Timestamp {
    Timestamp::from_secs_micros(secs, 0).unwrap()
}

pub(crate) fn agency(n: u8, hi3: bool) -> Agency {
    Destination::new(
        DestinationId::new_v4_from_random([n; 16]),
        DeliveryAddress::new("lea.example", 6000 + u16::from(n), true),
        hi3.then(|| DeliveryAddress::new("192.0.2.10", 7000, false)),
        HandoverFormat::etsi_default(),
    )
    .with_name(format!("Agency {n}"))
}

pub(crate) fn warrant(liid: &str, xid: u8, start: u64, end: Option<u64>) -> Warrant {
    let task = Task::builder(
        liid.parse().unwrap(),
        Xid::new_v4_from_random([xid; 16]),
        InterceptScope::IriAndCc,
        ValidityWindow::new(ts(start), end.map(ts)).unwrap(),
    )
    .targets([
        "ipv4:192.0.2.1".parse().unwrap(),
        "username:alice@isp.example".parse().unwrap(),
    ])
    .destinations([agency(1, true), agency(2, true)])
    .build()
    .unwrap();
    Warrant::new(task, ts(50)).unwrap()
}

pub(crate) fn liid(s: &str) -> Liid {
    s.parse().unwrap()
}

/// `w` with its task changed by `change` and built again, the error named as the store
/// names it.
pub(crate) fn rebuilt(
    w: &Warrant,
    change: impl FnOnce(TaskBuilder) -> TaskBuilder,
) -> Result<Warrant, StoreError> {
    let task = change(w.task.clone().into_builder())
        .build()
        .map_err(|e| StoreError::invalid(w.task.liid(), e))?;
    Ok(Warrant { task, ..w.clone() })
}

/// `w` with its agencies changed by `change` (the task built again).
pub(crate) fn with_agencies(
    w: &Warrant,
    change: impl FnOnce(&mut Vec<Agency>),
) -> Result<Warrant, StoreError> {
    let mut agencies = w.task.destinations().to_vec();
    change(&mut agencies);
    rebuilt(w, |b| b.clear_destinations().destinations(agencies))
}

#[test]
fn a_warrant_holds_its_task_with_named_agencies() {
    let a = warrant("LIID-A", 1, 100, Some(200));
    assert_eq!(a.task.liid(), liid("LIID-A"));
    assert_eq!(a.task.xid(), Xid::new_v4_from_random([1; 16]));
    assert_eq!(a.task.targets().len(), 2);
    assert_eq!(
        a.task.window(),
        ValidityWindow::new(ts(100), Some(ts(200))).unwrap()
    );
    assert_eq!(a.task.destinations(), &[agency(1, true), agency(2, true)]);
    assert_eq!(
        (a.state, a.created, a.updated),
        (WarrantState::Pending, ts(50), ts(50))
    );
    assert_eq!(agency_name(&a.task.destinations()[1]), "Agency 2");
}

#[test]
fn an_agency_without_a_name_is_refused_naming_the_warrant_and_destination() {
    let a = warrant("LIID-A", 1, 100, None);
    let nameless = with_agencies(&a, |agencies| agencies[1].name = None).unwrap();
    let err = Warrant::new(nameless.task.clone(), ts(50)).unwrap_err();
    let did = agency(2, true).id;
    assert!(
        matches!(err, StoreError::InvalidAgencyName { liid, destination }
            if liid == a.task.liid() && destination == did),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "warrant LIID-A: agency {did}: name is missing, empty or contains control characters"
        )
    );
    assert!(matches!(
        nameless.validate(),
        Err(StoreError::InvalidAgencyName { .. })
    ));
    // Without one, operators read the destination id.
    assert_eq!(
        agency_name(&nameless.task.destinations()[1]),
        did.to_string()
    );

    // A name li-core refuses is the same store error.
    let err =
        with_agencies(&a, |agencies| agencies[0].name = Some("two\nlines".into())).unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidAgencyName { liid, destination }
            if liid == a.task.liid() && destination == agency(1, true).id),
        "{err}"
    );
}

#[test]
fn a_task_li_core_refuses_is_invalid_naming_the_warrant() {
    let c = liid("LIID-C");
    let err = StoreError::invalid(c, li_core::Error::NoTargets);
    assert!(
        matches!(&err, StoreError::Invalid { liid, source: li_core::Error::NoTargets }
            if *liid == c),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "warrant LIID-C: task has no target identifiers"
    );

    // A destination name li-core refuses is the store's agency-name error.
    let did = agency(1, true).id;
    let err = StoreError::invalid(
        c,
        li_core::Error::InvalidDestinationName { destination: did },
    );
    assert!(
        matches!(&err, StoreError::InvalidAgencyName { liid, destination }
            if *liid == c && *destination == did),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("warrant LIID-C: agency {did}:")),
        "{err}"
    );
}
