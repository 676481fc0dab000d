//! Any sequence of SIP datagrams, media packets and timer ticks: the call tracker never
//! panics, every call begins once and ends once, each flow is released once after it was
//! bound, and once every timeout has passed nothing is left.
//!
//! Input: records `[op][len high][len low][len octets]`; by `op % 4`:
//! 0 and 1: a SIP datagram from address `op / 4 % 4` of [`SIP`], matched against one target
//! (`sip:bob@biloxi.example.com`);
//! 2: a media packet, source and destination chosen by its first two octets among [`MEDIA`];
//! 3: time advances by the first octet in seconds, and the timer runs.
//! The replay of the committed corpus (li-capture `tests/capture/call_corpus.rs`) drives the
//! tracker the same way.
#![no_main]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use li_capture::sip::call::{CallConfig, CallEvent, CallTracker};
use li_capture::sip::{SipMessage, SipTargets};
use li_core::{IriType, Timestamp};
use libfuzzer_sys::fuzz_target;

const SIP: [&str; 4] = [
    "192.0.2.101:5060",
    "198.51.100.20:5060",
    "203.0.113.5:5060",
    "[2001:db8::1]:5060",
];

const MEDIA: [&str; 8] = [
    "192.0.2.101:49170",
    "192.0.2.101:49171",
    "198.51.100.20:3456",
    "198.51.100.20:3457",
    "203.0.113.5:4000",
    "192.168.1.10:4000",
    "[2001:db8::1]:5004",
    "203.0.113.99:40000",
];

fn targets() -> &'static SipTargets {
    static TARGETS: OnceLock<SipTargets> = OnceLock::new();
    TARGETS.get_or_init(|| {
        let mut set = SipTargets::new();
        set.insert("sip:bob@biloxi.example.com".parse().expect("a target"))
            .expect("a SIP target");
        set
    })
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("a socket address")
}

fuzz_target!(|data: &[u8]| {
    let config = CallConfig {
        max_calls: 4,
        max_flows: 16,
        inactivity_timeout: Duration::from_secs(60),
        ..CallConfig::default()
    };
    let mut tracker = CallTracker::new(config);
    let mut now = Timestamp::from_secs_micros(1_700_000_000, 0).expect("a time");
    let mut events = Vec::new();
    let mut rest = data;
    while let [op, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (record, next) = tail.split_at(len);
        rest = next;
        match op % 4 {
            0 | 1 => {
                if let Ok(msg) = SipMessage::parse(record) {
                    let mut matches = Vec::new();
                    targets().match_message(&msg, &mut matches);
                    let src = addr(SIP[usize::from(op / 4 % 4)]);
                    tracker.on_sip(&msg, src, now, &matches, &mut events);
                }
            }
            2 => {
                let (s, d) = match record {
                    [s, d, ..] => (usize::from(*s) % 8, usize::from(*d) % 8),
                    _ => (0, 2),
                };
                let _ = tracker.on_media(addr(MEDIA[s]), addr(MEDIA[d]), now);
            }
            _ => {
                let secs = record.first().copied().unwrap_or(1);
                now = now
                    .checked_add(Duration::from_secs(u64::from(secs)))
                    .expect("in range");
                tracker.on_timer(now, &mut events);
            }
        }
    }
    let end = now
        .checked_add(Duration::from_secs(100_000))
        .expect("in range");
    tracker.on_timer(end, &mut events);
    tracker.on_timer(
        end.checked_add(Duration::from_secs(100)).expect("in range"),
        &mut events,
    );

    let (mut begun, mut ended, mut flows) = (HashSet::new(), HashSet::new(), HashSet::new());
    for e in &events {
        match *e {
            CallEvent::Sip {
                call,
                iri: IriType::Begin,
            } => assert!(begun.insert(call)),
            CallEvent::Sip { call, .. } => assert!(begun.contains(&call) && !ended.contains(&call)),
            CallEvent::End { call, .. } => assert!(begun.contains(&call) && ended.insert(call)),
            CallEvent::MediaBound { call, flow } => assert!(flows.insert((call, flow.addr))),
            CallEvent::MediaReleased { call, flow } => assert!(flows.remove(&(call, flow.addr))),
            _ => {}
        }
    }
    assert_eq!(begun, ended);
    assert!(flows.is_empty());
    let stats = tracker.stats();
    assert_eq!((stats.active_calls, stats.bound_flows), (0, 0));
});
