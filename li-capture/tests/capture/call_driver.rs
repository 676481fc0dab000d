//! How the SIP fuzz targets drive li-capture, and the properties they check: the call
//! tracker (`sip_calls`) and the TCP stream framer (`sip_stream`). One file, used by the
//! fuzz targets (`fuzz/fuzz_targets/sip_calls.rs`, `sip_stream.rs`, with `#[path]`) and by
//! the replay of their committed corpus here (`call_corpus.rs`, `sip_corpus.rs`).
//!
//! `sip_calls` input: records `[op][len high][len low][len octets]`; by `op % 4`:
//! 0 and 1: a SIP datagram from address `op / 4 % 4` of [`SIP`], matched against one target
//! (`sip:bob@biloxi.example.com`);
//! 2: a media packet, source and destination chosen by its first two octets among [`MEDIA`]
//! (modulo its length);
//! 3: time advances by the first octet in seconds, and the timer runs.
//!
//! `sip_stream` input: the first octet chooses the segment size (1..=256), the rest is the
//! stream.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use li_capture::sip::call::{CallConfig, CallEvent, CallTracker};
use li_capture::sip::{SipError, SipMessage, SipTargets, StreamFramer};
use li_core::{IriType, Timestamp};

/// The addresses SIP datagrams come from.
const SIP: [&str; 4] = [
    "192.0.2.101:5060",
    "198.51.100.20:5060",
    "203.0.113.5:5060",
    "[2001:db8::1]:5060",
];

/// The addresses media packets go between (the last two: ports a NAT chose for the public
/// address of `SIP[2]`, where latching happens).
const MEDIA: [&str; 10] = [
    "192.0.2.101:49170",
    "192.0.2.101:49171",
    "198.51.100.20:3456",
    "198.51.100.20:3457",
    "203.0.113.5:4000",
    "192.168.1.10:4000",
    "[2001:db8::1]:5004",
    "203.0.113.99:40000",
    "203.0.113.5:61000",
    "203.0.113.5:61001",
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

/// What one `sip_calls` input did.
#[derive(Debug, Default)]
pub struct CallRun {
    /// Calls begun.
    pub begun: usize,
    /// Flows bound.
    pub bound: usize,
    /// Media packets of a call.
    pub media_hits: usize,
    /// IRI-Reports.
    pub reports: usize,
}

/// Drives a call tracker with a `sip_calls` input and checks: every call begins once and
/// ends once, each flow is released once after it was bound (latched ones included), the
/// remembered untracked INVITEs stay within their bound, and once every timeout has passed
/// nothing is left.
pub fn drive_calls(data: &[u8]) -> CallRun {
    let config = CallConfig {
        max_calls: 4,
        max_flows: 16,
        inactivity_timeout: Duration::from_secs(60),
        max_pending_legs: 2,
        ..CallConfig::default()
    };
    let mut tracker = CallTracker::new(config);
    let mut now = Timestamp::from_secs_micros(1_700_000_000, 0).expect("a time");
    let mut events = Vec::new();
    let mut run = CallRun::default();
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
                    assert!(tracker.stats().pending_legs <= 2);
                }
            }
            2 => {
                let (s, d) = match record {
                    [s, d, ..] => (usize::from(*s) % MEDIA.len(), usize::from(*d) % MEDIA.len()),
                    _ => (0, 2),
                };
                let hit = tracker.on_media(addr(MEDIA[s]), addr(MEDIA[d]), now);
                run.media_hits += usize::from(hit.is_some());
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
            CallEvent::MediaBound { call, flow } => {
                run.bound += 1;
                assert!(flows.insert((call, flow.addr)));
            }
            CallEvent::MediaReleased { call, flow } => assert!(flows.remove(&(call, flow.addr))),
            CallEvent::Report { .. } => run.reports += 1,
        }
    }
    assert_eq!(begun, ended);
    assert!(flows.is_empty());
    let stats = tracker.stats();
    assert_eq!(
        (stats.active_calls, stats.bound_flows, stats.pending_legs),
        (0, 0, 0)
    );
    run.begun = begun.len();
    run
}

/// The framer's bound in `sip_stream`.
const STREAM_MAX: usize = 1024;

/// What one `sip_stream` input did.
#[derive(Debug, Default)]
pub struct StreamRun {
    /// Frames (of the stream cut as the input says) that parse as SIP messages.
    pub parsed: usize,
    /// Whether the frames of the cut stream were compared with those of the whole.
    pub compared: bool,
}

/// Frames a `sip_stream` input and checks: the framer never buffers much more than its
/// bound, and frames the same messages wherever the stream is cut.
pub fn drive_stream(data: &[u8]) -> StreamRun {
    let Some((&size, stream)) = data.split_first() else {
        return StreamRun::default();
    };
    let (cut, parsed) = frames(stream, usize::from(size) + 1);
    let (whole, _) = frames(stream, stream.len());
    // Oversized heads, and lines longer than the bound (dropped in pieces when cut, so the
    // tail of one may look like a start line), are handled at points that depend on the
    // cuts; compare only streams where neither occurs.
    let short_lines = stream
        .split(|&b| b == b'\n')
        .all(|line| line.len() < STREAM_MAX);
    let compared = short_lines && whole.iter().chain(&cut).all(Result::is_ok);
    if compared {
        assert_eq!(cut, whole);
    }
    StreamRun { parsed, compared }
}

/// Frames (and the non-garbage errors) of `stream` pushed in `segment`-octet pieces, and
/// how many of the frames parse.
fn frames(stream: &[u8], segment: usize) -> (Vec<Result<Vec<u8>, SipError>>, usize) {
    let mut framer = StreamFramer::new(STREAM_MAX);
    let mut out = Vec::new();
    let mut parsed = 0;
    for piece in stream.chunks(segment.max(1)) {
        framer.push(piece);
        loop {
            match framer.next_frame() {
                Ok(Some(frame)) => {
                    assert!(frame.len() <= STREAM_MAX);
                    parsed += usize::from(SipMessage::parse(frame).is_ok());
                    out.push(Ok(frame.to_vec()));
                }
                Ok(None) => break,
                Err(SipError::StreamGarbage { .. }) => {}
                Err(e) => out.push(Err(e)),
            }
        }
        assert!(framer.buffered() <= STREAM_MAX + piece.len());
    }
    (out, parsed)
}
