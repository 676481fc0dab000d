//! Tests of the warrant model (the SQLite store's are in `sqlite.rs`).

use super::*;

pub(crate) fn ts(secs: u64) -> Timestamp {
    Timestamp::from_secs_micros(secs, 0).unwrap()
}

pub(crate) fn agency(n: u8, hi3: bool) -> Agency {
    Agency {
        id: DestinationId::new_v4_from_random([n; 16]),
        name: format!("Agency {n}"),
        hi2: DeliveryAddress::new("lea.example", 6000 + u16::from(n), true),
        hi3: hi3.then(|| DeliveryAddress::new("192.0.2.10", 7000, false)),
        format: HandoverFormat::etsi_default(),
    }
}

pub(crate) fn warrant(liid: &str, xid: u8, start: u64, end: Option<u64>) -> Warrant {
    Warrant::new(
        liid.parse().unwrap(),
        Xid::new_v4_from_random([xid; 16]),
        vec![
            "ipv4:192.0.2.1".parse().unwrap(),
            "username:alice@isp.example".parse().unwrap(),
        ],
        InterceptScope::IriAndCc,
        ValidityWindow::new(ts(start), end.map(ts)).unwrap(),
        vec![agency(1, true), agency(2, true)],
        ts(50),
    )
    .unwrap()
}

pub(crate) fn liid(s: &str) -> Liid {
    s.parse().unwrap()
}

#[test]
fn to_task_carries_the_warrant() {
    let a = warrant("LIID-A", 1, 100, Some(200));
    let task = a.to_task().unwrap();
    assert_eq!(task.liid(), a.liid);
    assert_eq!(task.xid(), a.xid);
    assert_eq!(task.targets(), a.targets.as_slice());
    assert_eq!(task.window(), a.window);
    assert_eq!(task.destinations().len(), 2);
    assert_eq!(task.destinations()[1], a.agencies[1].to_destination());
}
