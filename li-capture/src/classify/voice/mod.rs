//! The classifier's voice path (ETSI TS 102 232-5): SIP signalling to IRI, the calls' RTP
//! and RTCP to CC.
//!
//! Tasks with SIP URI, E.164 (tel) or username targets intercept the calls of those
//! identities. The classifier sees SIP on the configured ports ([`VoiceConfig::sip_ports`],
//! 5060 by default) as UDP datagrams, as TCP streams (per-flow reassembly, duplicates and
//! overlaps dropped by sequence number, then the [`StreamFramer`]; several messages per
//! segment, one message across several) and as fragmented UDP datagrams (reassembled,
//! bounded; so are datagrams to or from a bound media flow, whose whole payload is then the
//! call's CC). Each message is matched with [`SipTargets`] (the Request-URI, From, To, the
//! asserted, preferred, diverted and history identities, and the username of
//! `Authorization`/`Proxy-Authorization`: a username target is also the SIP user it
//! authenticates as) and handed to the [`CallTracker`], which keeps the calls and binds
//! their media flows. Every other UDP packet is offered to
//! [`CallTracker::on_media`] (one or two hash lookups).
//!
//! What it emits, per task and call:
//!
//! - one CIN per (task, call), from the classifier's CIN counter, allocated when the task
//!   first meets the call;
//! - each SIP message of the call as an [`IriRecord`] with [`IriEvent::Sip`] (the message
//!   verbatim, its source and destination), of the IRI type the tracker gives it; the first
//!   message a task gets of a call is its IRI-Begin (a task activated, or whose window
//!   opened, during a call starts with the call's next message, and its media from then on),
//!   unless that message is the call's last: then it is a lone IRI-Report (a session of one
//!   message ending without a Begin would confuse an agency);
//! - a REGISTER (or another message of a target outside a call) as an IRI-Report, under
//!   one CIN per task and Call-ID: the REGISTER, its challenge, the REGISTER with
//!   credentials, its 200 and the later refreshes of one registration (RFC 3261 10.2: one
//!   Call-ID for all of a UA's registrations with a registrar) share it. The CIN is kept
//!   while messages come: after a REGISTER or its response stating an expiry (the largest
//!   Contact `expires`, else Expires) for that long plus [`CallConfig::linger`] (at most
//!   [`VoiceConfig::max_registration_idle`]; a de-registration's 0 leaves the linger),
//!   after one stating none for at least [`VoiceConfig::registration_idle`], after any
//!   other message (OPTIONS, MESSAGE) for at least the linger, a transaction's life. At
//!   most [`VoiceConfig::max_registrations`] Call-IDs (the one closest to its expiry is
//!   evicted, counted);
//! - a late message of an ended call (a retransmitted 200 to its BYE, the ACK to the
//!   failure that ended it), which the tracker reports outside the call, as an IRI-Report
//!   under the task's CIN of that call, for [`CallConfig::linger`] after its end (at most
//!   [`VoiceConfig::max_ended_calls`] calls remembered, the oldest evicted, counted); a task
//!   the call did not have gets the Call-ID's CIN as above;
//! - each media packet of the call as a [`CcRecord`] of kind [`CcKind::Media`] (the UDP
//!   payload: the RTP or RTCP packet, with its flow), except for IRI-only tasks and outside
//!   the task's window; its direction is the task's own: from the target when a target of
//!   the task is the party that sent it, to the target when one is the other party,
//!   indeterminate when both parties are targets of that task (two tasks, one on each
//!   party, each get their direction). The parties a task's targets are come from the
//!   messages that named them ([`CallTracker::party_of`]), kept with the task's share of
//!   the call: a media packet needs no lookup;
//! - an IRI-End when the call ends. When no message ends it (inactivity timeout, eviction,
//!   a BYE never answered), or the task's window closes or the task is deactivated during
//!   the call, the IRI-End **repeats the last SIP message of the call** as its content:
//!   X2's SIP Message payload and TS 102 232-5's `sIPMessage` carry a message, and the
//!   last one is the call's final state as the agency last saw it.
//!
//! Time is the packets' own: the tracker's timers, the TCP flows' idle time and the
//! fragments' age are driven by [`super::Classifier::classify`]'s time and
//! [`super::Classifier::advance`], never a clock.

mod correlate;
mod fragments;
mod tcp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use li_core::{
    CcKind, CcRecord, Cin, InterceptRecord, IriEvent, IriRecord, IriType, MediaFlow,
    PayloadDirection, SipEvent, TargetIdentifier, Timestamp, Xid,
};

use super::{Classifier, WindowState};
use crate::decode::{Packet, Transport};
use crate::hash::FastMap;
use crate::sip::call::Party;
use crate::sip::{
    CallConfig, CallEvent, CallHandle, CallTracker, HeaderName, Method, SipMessage, SipTargets,
};
use correlate::CinMemory;
use fragments::{FragmentKey, Fragments, fragment_payload};
use tcp::{FlowKey, TcpFlow};

/// What the voice path looks at, and its bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoiceConfig {
    /// UDP and TCP ports of SIP (a packet whose source or destination port is one of them
    /// is signalling). Default `[5060]`.
    pub sip_ports: Vec<u16>,
    /// The call tracker's limits and timers.
    pub calls: CallConfig,
    /// TCP flows (one direction of a connection) reassembled at once; a new flow beyond is
    /// not followed (counted). Default 10,000.
    pub max_tcp_flows: usize,
    /// The longest SIP message taken from a TCP flow; a longer one is skipped. Default
    /// 64 KiB.
    pub max_message_len: usize,
    /// A TCP flow without a segment for this long is forgotten (its partial message with
    /// it). Default 300 s.
    pub tcp_idle_timeout: Duration,
    /// Octets of partial messages held by all TCP flows together; a segment that would go
    /// beyond drops its flow (counted with the flows refused). Without it, `max_tcp_flows`
    /// flows each holding up to `max_message_len` could hold some 650 MB. Default 16 MiB.
    pub max_tcp_octets: usize,
    /// Fragmented UDP datagrams reassembled at once. Default 256.
    pub max_fragment_sets: usize,
    /// Octets held for reassembly in all. Default 4 MiB.
    pub max_fragment_octets: usize,
    /// A fragmented datagram not complete after this long is dropped. Default 30 s.
    pub fragment_timeout: Duration,
    /// Call-IDs of messages outside calls (registrations, mostly) whose CIN per task is
    /// remembered, so that the messages of one registration share it; a new one when full
    /// evicts the one closest to its expiry (counted). 0 remembers none: each such message
    /// gets a CIN of its own. Default 10,000.
    pub max_registrations: usize,
    /// How long a registration's CIN is kept after a REGISTER (or a response to one) that
    /// states no expiry (a challenge, say; never shortening what an earlier message of the
    /// registration granted). Default 3600 s (RFC 3261 10.2.1.1's usual default).
    pub registration_idle: Duration,
    /// The longest expiry a REGISTER or its response can keep a registration's CIN for
    /// (plus [`CallConfig::linger`]); a larger one is cut to it. Default 86,400 s.
    pub max_registration_idle: Duration,
    /// Ended calls whose CINs per task are kept for [`CallConfig::linger`] after the end,
    /// for the late messages of the call (a retransmitted 200 to the BYE, a late ACK); the
    /// oldest goes when full (counted). 0 keeps none: a late message gets a CIN of its
    /// own. Default 10,000.
    pub max_ended_calls: usize,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        Self {
            sip_ports: vec![5060],
            calls: CallConfig::default(),
            max_tcp_flows: 10_000,
            max_message_len: 64 * 1024,
            tcp_idle_timeout: Duration::from_secs(300),
            max_tcp_octets: 16 * 1024 * 1024,
            max_fragment_sets: 256,
            max_fragment_octets: 4 * 1024 * 1024,
            fragment_timeout: Duration::from_secs(30),
            max_registrations: 10_000,
            registration_idle: Duration::from_secs(3600),
            max_registration_idle: Duration::from_secs(86_400),
            max_ended_calls: 10_000,
        }
    }
}

/// What an IRI-Report of a message outside calls is correlated by: its Call-ID, and how
/// long the message keeps the Call-ID's CINs.
#[derive(Clone, Copy, Debug)]
struct Report<'m> {
    call_id: Option<&'m str>,
    refresh: Refresh,
}

/// How a message outside calls moves the deadline of its Call-ID's CINs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refresh {
    /// A REGISTER, or a response to one, stating this expiry in seconds (the largest
    /// Contact `expires`, else the Expires header): the deadline becomes the expiry (at most
    /// [`VoiceConfig::max_registration_idle`]) plus [`CallConfig::linger`] from now, earlier
    /// or later (0, a de-registration: the linger only).
    Expires(u32),
    /// A REGISTER or a response to one stating no expiry: at least
    /// [`VoiceConfig::registration_idle`] from now.
    Registration,
    /// Anything else (OPTIONS, MESSAGE, a late message of no known call): at least
    /// [`CallConfig::linger`] from now, a transaction's life.
    Transaction,
}

impl<'m> Report<'m> {
    fn of(msg: &SipMessage<'m>) -> Self {
        let register = msg.cseq().is_some_and(|c| c.method == Method::Register);
        let refresh = if register {
            let delta = |v: &str| -> Option<u32> {
                let v = v.trim_matches(|c: char| c.is_ascii_whitespace());
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                // RFC 3261 clause 20.19: larger values are taken as 2**32-1.
                Some(
                    v.parse::<u64>()
                        .map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX)),
                )
            };
            let contact = msg
                .contacts()
                .filter_map(|c| c.param("expires").and_then(delta))
                .max();
            match contact.or_else(|| msg.header(HeaderName::Expires).and_then(delta)) {
                Some(secs) => Refresh::Expires(secs),
                None => Refresh::Registration,
            }
        } else {
            Refresh::Transaction
        };
        Self {
            call_id: msg.call_id(),
            refresh,
        }
    }
}

/// How often idle TCP flows and old fragments are looked for (packet time).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// A task's share of a call.
#[derive(Debug)]
struct CallTask {
    xid: Xid,
    cin: Cin,
    /// Whether the task's IRI-Begin for the call was sent (and no end since). Only while
    /// the task's window is open: its close ends what had begun, and a deactivated task is
    /// removed from its calls.
    begun: bool,
    /// Whether the task's scope includes CC (fixed for the task's life: a modification is a
    /// deactivation and a new activation).
    cc: bool,
    /// Which parties the task's targets are (from the messages that named them): a media
    /// packet's direction for the task is read from it, no lookup.
    sides: Sides,
}

impl CallTask {
    /// Notes that the task's targets are (also) the parties in `sides`.
    fn add_sides(&mut self, sides: Sides) {
        self.sides.caller |= sides.caller;
        self.sides.callee |= sides.callee;
    }

    /// The direction, for this task, of a packet `sender` sent.
    #[inline]
    fn direction(&self, sender: Party) -> PayloadDirection {
        self.sides.direction(sender)
    }
}

/// Which parties of a call a task's targets are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Sides {
    caller: bool,
    callee: bool,
}

impl Sides {
    fn of(party: Party) -> Self {
        Self {
            caller: party == Party::Caller,
            callee: party == Party::Callee,
        }
    }

    /// The direction of a packet `sender` sent, relative to the targets: from the target
    /// when only the sender is one, to the target when only the other party is,
    /// indeterminate when both are (or neither is known).
    fn direction(self, sender: Party) -> PayloadDirection {
        let (sender_is_target, other_is_target) = match sender {
            Party::Caller => (self.caller, self.callee),
            Party::Callee => (self.callee, self.caller),
        };
        match (sender_is_target, other_is_target) {
            (true, false) => PayloadDirection::FromTarget,
            (false, true) => PayloadDirection::ToTarget,
            _ => PayloadDirection::Indeterminate,
        }
    }
}

/// The tasks of a call: the first inline (most calls have one), the others beside. A media
/// packet reads them, so the usual case costs no pointer to follow.
#[derive(Debug, Default)]
struct CallTasks {
    first: Option<CallTask>,
    rest: Vec<CallTask>,
}

impl CallTasks {
    fn iter(&self) -> impl Iterator<Item = &CallTask> {
        self.first.iter().chain(&self.rest)
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut CallTask> {
        self.first.iter_mut().chain(&mut self.rest)
    }

    fn push(&mut self, task: CallTask) {
        match self.first {
            None => self.first = Some(task),
            Some(_) => self.rest.push(task),
        }
    }

    fn retain(&mut self, keep: impl Fn(&CallTask) -> bool) {
        let all: Vec<CallTask> = self
            .first
            .take()
            .into_iter()
            .chain(self.rest.drain(..))
            .collect();
        for t in all.into_iter().filter(|t| keep(t)) {
            self.push(t);
        }
    }
}

/// The classifier's calls, by the tracker's [`CallHandle::slot`]: a media packet's call is
/// found by indexing, not by a second hash lookup after the tracker's flow table. The
/// vector is as long as the most calls tracked at once; each entry keeps its handle, so a
/// slot reused by a later call is never mistaken for the earlier one.
#[derive(Debug, Default)]
struct CallTable {
    slots: Vec<Option<(CallHandle, VoiceCall)>>,
    len: usize,
}

impl CallTable {
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn get(&self, call: CallHandle) -> Option<&VoiceCall> {
        match self.slots.get(call.slot() as usize) {
            Some(Some((handle, c))) if *handle == call => Some(c),
            _ => None,
        }
    }

    /// The call's entry, made empty if it has none (an entry of an earlier call on the
    /// slot, which the tracker forgot without an end, is replaced).
    fn get_or_default(&mut self, call: CallHandle) -> &mut VoiceCall {
        let slot = call.slot() as usize;
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        #[allow(clippy::indexing_slicing)] // resized to hold `slot` just above
        let entry = &mut self.slots[slot];
        if entry.is_none() {
            self.len += 1;
        }
        if entry.as_ref().is_none_or(|(handle, _)| *handle != call) {
            *entry = Some((call, VoiceCall::default()));
        }
        &mut entry.get_or_insert_with(|| (call, VoiceCall::default())).1
    }

    fn remove(&mut self, call: CallHandle) -> Option<VoiceCall> {
        let entry = self.slots.get_mut(call.slot() as usize)?;
        if entry.as_ref().is_none_or(|(h, _)| *h != call) {
            return None;
        }
        self.len -= 1;
        entry.take().map(|(_, c)| c)
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut VoiceCall> {
        self.slots.iter_mut().flatten().map(|(_, c)| c)
    }
}

/// What the classifier keeps of a tracked call.
#[derive(Debug, Default)]
struct VoiceCall {
    tasks: CallTasks,
    /// The last SIP message of the call, repeated by an IRI-End no message carries (boxed:
    /// media packets read the call's other fields, kept in few cache lines).
    last: Option<Box<SipEvent>>,
}

/// Voice counters (also in [`super::ClassifierStats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct VoiceCounters {
    pub(super) sip_messages: u64,
    pub(super) sip_matched: u64,
    pub(super) sip_errors: u64,
    pub(super) media_packets: u64,
    pub(super) tcp_flows_refused: u64,
    pub(super) tcp_duplicates: u64,
}

/// The voice path's state inside the [`Classifier`].
#[derive(Debug)]
pub(super) struct Voice {
    config: VoiceConfig,
    targets: SipTargets,
    /// The tasks of each SIP-matchable target.
    target_tasks: HashMap<TargetIdentifier, Vec<Xid>>,
    tracker: CallTracker,
    calls: CallTable,
    tcp: FastMap<FlowKey, TcpFlow>,
    /// Octets the TCP flows' framers hold in all.
    tcp_held: usize,
    fragments: Fragments,
    events: Vec<CallEvent>,
    /// Scratch of [`Classifier::voice_call_message`], kept to allocate nothing per message.
    scratch_tasks: Vec<CallTask>,
    scratch_named: Vec<(Xid, Sides)>,
    scratch_records: Vec<(Xid, Cin, IriType)>,
    /// The CIN per task of each registration (or other exchange outside calls), by Call-ID.
    registrations: CinMemory<Arc<str>>,
    /// The CINs per task of calls that ended, for their late messages.
    ended: CinMemory<CallHandle>,
    next_sweep: Option<Timestamp>,
    pub(super) counters: VoiceCounters,
}

impl Voice {
    pub(super) fn new(config: VoiceConfig) -> Self {
        Self {
            tracker: CallTracker::new(config.calls.clone()),
            fragments: Fragments::new(
                config.max_fragment_sets,
                config.max_fragment_octets,
                config.fragment_timeout,
            ),
            registrations: CinMemory::new(config.max_registrations),
            ended: CinMemory::new(config.max_ended_calls),
            config,
            targets: SipTargets::new(),
            target_tasks: HashMap::new(),
            calls: CallTable::default(),
            tcp: FastMap::default(),
            tcp_held: 0,
            events: Vec::new(),
            scratch_tasks: Vec::new(),
            scratch_named: Vec::new(),
            scratch_records: Vec::new(),
            next_sweep: None,
            counters: VoiceCounters::default(),
        }
    }

    /// Whether anything voice-related can happen: a task has a SIP-matchable target, or a
    /// call is still tracked. Without, the voice path costs nothing.
    #[inline]
    pub(super) fn active(&self) -> bool {
        !self.targets.is_empty() || !self.calls.is_empty()
    }

    /// Rebuilds the SIP targets from the tasks' targets (SIP URI, E.164, username). A
    /// target the SIP matcher refuses (a SIP URI it cannot parse) is left out; X1 refuses
    /// such a task before it gets here.
    pub(super) fn rebuild<'a>(
        &mut self,
        tasks: impl Iterator<Item = (Xid, &'a [TargetIdentifier])>,
    ) {
        self.targets = SipTargets::new();
        self.target_tasks.clear();
        for (xid, targets) in tasks {
            for t in targets {
                if !matches!(
                    t,
                    TargetIdentifier::SipUri(_)
                        | TargetIdentifier::E164Number(_)
                        | TargetIdentifier::Username(_)
                ) || self.targets.insert(t.clone()).is_err()
                {
                    continue;
                }
                let xids = self.target_tasks.entry(t.clone()).or_default();
                if !xids.contains(&xid) {
                    xids.push(xid);
                }
            }
        }
    }

    /// Forgets a deactivated task in every call, and the CINs remembered for it.
    pub(super) fn forget_task(&mut self, xid: Xid) {
        for call in self.calls.values_mut() {
            call.tasks.retain(|t| t.xid != xid);
        }
        self.registrations.forget_task(xid);
        self.ended.forget_task(xid);
    }

    /// The sum of what the tracker, the flows and the fragments counted, for the stats.
    pub(super) fn fill_stats(&self, s: &mut super::ClassifierStats) {
        let c = self.counters;
        let t = self.tracker.stats();
        s.sip_messages = c.sip_messages;
        s.sip_matched = c.sip_matched;
        s.sip_errors = c.sip_errors;
        s.calls_active = t.active_calls;
        s.calls_tracked = t.calls_begun;
        s.calls_evicted = t.evicted;
        s.calls_timed_out = t.timed_out;
        s.media_flows = t.bound_flows;
        s.media_packets = c.media_packets;
        s.sip_tcp_flows = self.tcp.len() as u64;
        s.sip_tcp_flows_refused = c.tcp_flows_refused;
        s.sip_tcp_duplicates = c.tcp_duplicates;
        s.sip_fragments_reassembled = self.fragments.reassembled;
        s.sip_fragments_dropped = self.fragments.dropped;
        s.sip_registrations = self.registrations.len() as u64;
        s.sip_registrations_evicted = self.registrations.evicted;
        s.sip_ended_calls_evicted = self.ended.evicted;
    }
}

impl Classifier {
    /// The voice path of one decoded packet; true if it yielded a CC record (the packet
    /// matched).
    pub(super) fn voice_packet(
        &mut self,
        time: Timestamp,
        packet: &Packet<'_>,
        out: &mut Vec<InterceptRecord>,
    ) -> bool {
        self.voice_timers(time, out);
        let (src_ip, dst_ip) = (packet.src, packet.dst);
        match packet.transport {
            Transport::Udp {
                src_port,
                dst_port,
                payload,
            } => {
                let src = SocketAddr::new(src_ip, src_port);
                let dst = SocketAddr::new(dst_ip, dst_port);
                let sip = self.is_sip_port(src_port, dst_port);
                if let Some(f) = packet.fragment {
                    // The first fragment of a datagram larger than the MTU: kept for SIP,
                    // and for media of a call (a large video frame, say).
                    let keep = sip || self.voice.tracker.is_media(src, dst);
                    self.voice_fragment(time, packet, f, Some(keep), out)
                } else if sip {
                    self.voice_sip(time, src, dst, payload, out);
                    false
                } else {
                    self.voice_media(time, src, dst, payload, out)
                }
            }
            Transport::NotFirstFragment if packet.protocol == 17 => match packet.fragment {
                Some(f) => self.voice_fragment(time, packet, f, None, out),
                None => false,
            },
            Transport::Tcp {
                src_port,
                dst_port,
                seq,
                flags,
                payload,
            } if self.is_sip_port(src_port, dst_port) => {
                let key = (
                    SocketAddr::new(src_ip, src_port),
                    SocketAddr::new(dst_ip, dst_port),
                );
                self.voice_tcp(time, key, seq, flags, payload, out);
                false
            }
            _ => false,
        }
    }

    #[inline]
    fn is_sip_port(&self, src_port: u16, dst_port: u16) -> bool {
        let ports = &self.voice.config.sip_ports;
        ports.contains(&dst_port) || ports.contains(&src_port)
    }

    /// Runs the tracker's timers and the sweeps due at `now`.
    pub(super) fn voice_timers(&mut self, now: Timestamp, out: &mut Vec<InterceptRecord>) {
        if self.voice.tracker.next_timeout().is_some_and(|t| t <= now) {
            let mut events = std::mem::take(&mut self.voice.events);
            self.voice.tracker.on_timer(now, &mut events);
            self.voice_events(&mut events, now, None, None, &[], out);
            self.voice.events = events;
        }
        if self.voice.next_sweep.is_some_and(|t| t > now) {
            return;
        }
        self.voice.next_sweep = now.checked_add(SWEEP_EVERY);
        let idle = self.voice.config.tcp_idle_timeout;
        self.voice.tcp.retain(|_, f| {
            now.duration_since(f.last_seen)
                .is_none_or(|quiet| quiet < idle)
        });
        self.voice.tcp_held = self.voice.tcp.values().map(|f| f.framer.buffered()).sum();
        self.voice.fragments.expire(now);
        self.voice.registrations.expire(now);
        self.voice.ended.expire(now);
    }

    /// One SIP message (or datagram) from `src` to `dst`.
    fn voice_sip(
        &mut self,
        time: Timestamp,
        src: SocketAddr,
        dst: SocketAddr,
        data: &[u8],
        out: &mut Vec<InterceptRecord>,
    ) {
        if data.iter().all(u8::is_ascii_whitespace) {
            // A keepalive (RFC 5626 CRLF) or an empty datagram.
            return;
        }
        self.voice.counters.sip_messages += 1;
        // Borrowed where it was parsed: the message holds its header index (kilobytes), not
        // worth a move.
        let parsed = SipMessage::parse(data);
        let msg = match &parsed {
            Ok(msg) => msg,
            Err(_) => {
                self.voice.counters.sip_errors += 1;
                return;
            }
        };
        let voice = &mut self.voice;
        let mut matches = Vec::new();
        voice.targets.match_message(msg, &mut matches);
        let mut events = std::mem::take(&mut voice.events);
        voice.tracker.on_sip(msg, src, time, &matches, &mut events);
        // The call of the message, if any: the side of the call each target is.
        let call = events.iter().find_map(|e| match e {
            CallEvent::Sip { call, .. } => Some(*call),
            _ => None,
        });
        // The tasks this message names (a few; usually none or one), with the parties
        // their targets are.
        let mut tasks = std::mem::take(&mut voice.scratch_named);
        tasks.clear();
        for m in &matches {
            let sides = call
                .and_then(|call| voice.tracker.party_of(call, msg, m.source))
                .map(Sides::of)
                .unwrap_or_default();
            for xid in voice.target_tasks.get(m.target).into_iter().flatten() {
                match tasks.iter_mut().find(|(x, _)| x == xid) {
                    Some((_, known)) => {
                        known.caller |= sides.caller;
                        known.callee |= sides.callee;
                    }
                    None => tasks.push((*xid, sides)),
                }
            }
        }
        if !matches.is_empty() {
            voice.counters.sip_matched += 1;
        }
        drop(matches);
        let report = events
            .iter()
            .any(|e| matches!(e, CallEvent::Report { .. }))
            .then(|| Report::of(msg));
        let message = data.get(..msg.len()).unwrap_or(data);
        let sip = (src, dst, message);
        self.voice_events(&mut events, time, Some(sip), report, &tasks, out);
        self.voice.events = events;
        self.voice.scratch_named = tasks;
    }

    /// Turns the tracker's events into records. `sip`: the message the events are about
    /// (none for timers); `report`: what a report of it is correlated by; `named`: the
    /// tasks whose targets it names, with the parties of its call they are.
    #[allow(clippy::too_many_arguments)]
    fn voice_events(
        &mut self,
        events: &mut Vec<CallEvent>,
        time: Timestamp,
        sip: Option<(SocketAddr, SocketAddr, &[u8])>,
        report: Option<Report<'_>>,
        named: &[(Xid, Sides)],
        out: &mut Vec<InterceptRecord>,
    ) {
        // The message, copied once for every record that carries it.
        let mut event: Option<SipEvent> = None;
        let sip_event = |event: &mut Option<SipEvent>| -> Option<SipEvent> {
            let (source, destination, message) = sip?;
            Some(
                event
                    .get_or_insert_with(|| SipEvent {
                        source,
                        destination,
                        message: Bytes::copy_from_slice(message),
                    })
                    .clone(),
            )
        };
        for ev in events.drain(..) {
            match ev {
                CallEvent::Sip { call, iri } => {
                    let Some(message) = sip_event(&mut event) else {
                        continue;
                    };
                    self.voice_call_message(call, iri, named, time, message, out);
                }
                CallEvent::Report { late_of, .. } => {
                    let Some(message) = sip_event(&mut event) else {
                        continue;
                    };
                    let call_id = report.and_then(|r| r.call_id);
                    for &(xid, _) in named {
                        if self.task_open(xid, time) {
                            let cin = self.report_cin(xid, late_of, call_id, time);
                            self.emit_sip(xid, cin, time, IriType::Report, message.clone(), out);
                        }
                    }
                    if let (Some(report), Some(call_id)) = (report, call_id) {
                        let deadline = self.registration_deadline(report.refresh, time);
                        self.voice.registrations.set_deadline(call_id, deadline);
                    }
                }
                CallEvent::End { call, reason } => {
                    let Some(c) = self.voice.calls.remove(call) else {
                        continue;
                    };
                    // Its late messages (a retransmitted 200 to the BYE, a late ACK) are
                    // reported under its CINs for as long as the tracker knows them.
                    let until = time
                        .checked_add(self.voice.config.calls.linger)
                        .unwrap_or(time);
                    let cins = c.tasks.iter().map(|t| (t.xid, t.cin));
                    self.voice.ended.remember_all(call, cins, time, until);
                    if reason.with_message() {
                        // The message before was the call's IRI-End.
                        continue;
                    }
                    let Some(last) = c.last else {
                        continue;
                    };
                    // Every begin gets its end, whatever the window says now.
                    for t in c.tasks.iter().filter(|t| t.begun) {
                        if self.tasks.contains_key(&t.xid) {
                            let last = (*last).clone();
                            self.emit_sip(t.xid, t.cin, time, IriType::End, last, out);
                        }
                    }
                }
                CallEvent::MediaBound { .. } | CallEvent::MediaReleased { .. } => {}
            }
        }
    }

    /// The CIN of task `xid`'s IRI-Report of a message outside calls: the ended call's
    /// (`late_of`) if the task had one, else the one it has for the message's Call-ID, else
    /// a new one, remembered for the Call-ID.
    fn report_cin(
        &mut self,
        xid: Xid,
        late_of: Option<CallHandle>,
        call_id: Option<&str>,
        time: Timestamp,
    ) -> Cin {
        let voice = &self.voice;
        let known = late_of
            .and_then(|call| voice.ended.cin(&call, xid, time))
            .or_else(|| call_id.and_then(|id| voice.registrations.cin(id, xid, time)));
        if let Some(cin) = known {
            return cin;
        }
        let cin = self.allocate_cin();
        if let Some(id) = call_id {
            self.voice
                .registrations
                .remember(id, |id: &str| Arc::from(id), xid, cin, time);
        }
        cin
    }

    /// How a report moves its Call-ID's deadline (see [`Report`]).
    fn registration_deadline(
        &self,
        refresh: Refresh,
        time: Timestamp,
    ) -> impl FnOnce(Timestamp) -> Timestamp + use<> {
        let config = &self.voice.config;
        let linger = config.calls.linger;
        let after = |d: Duration| time.checked_add(d).unwrap_or(time);
        let (deadline, sets) = match refresh {
            Refresh::Expires(secs) => {
                let granted =
                    Duration::from_secs(u64::from(secs)).min(config.max_registration_idle);
                (after(granted.saturating_add(linger)), true)
            }
            Refresh::Registration => (after(config.registration_idle), false),
            Refresh::Transaction => (after(linger), false),
        };
        move |current: Timestamp| {
            if sets {
                deadline
            } else {
                current.max(deadline)
            }
        }
    }

    /// A message of a tracked call: the tasks that `named` adds to it (and the parties its
    /// tasks' targets are), then a record for every task of the call whose window is open.
    fn voice_call_message(
        &mut self,
        call: CallHandle,
        iri: IriType,
        named: &[(Xid, Sides)],
        time: Timestamp,
        message: SipEvent,
        out: &mut Vec<InterceptRecord>,
    ) {
        // Scratch vectors kept between messages: no allocation per message.
        let mut added = std::mem::take(&mut self.voice.scratch_tasks);
        let mut records = std::mem::take(&mut self.voice.scratch_records);
        added.clear();
        records.clear();
        let known = self.voice.calls.get(call);
        for &(xid, sides) in named {
            if known.is_some_and(|c| c.tasks.iter().any(|t| t.xid == xid)) {
                continue;
            }
            if let Some(entry) = self.tasks.get(&xid) {
                added.push(CallTask {
                    xid,
                    cin: Cin::new(0),
                    begun: false,
                    cc: entry.task.scope().delivers_cc(),
                    sides,
                });
            }
        }
        for t in &mut added {
            t.cin = self.allocate_cin();
        }
        let entry = self.voice.calls.get_or_default(call);
        // The tasks already in the call learn the parties this message names.
        for t in entry.tasks.iter_mut() {
            if let Some(&(_, sides)) = named.iter().find(|(xid, _)| *xid == t.xid) {
                t.add_sides(sides);
            }
        }
        for t in added.drain(..) {
            entry.tasks.push(t);
        }
        match &mut entry.last {
            Some(last) => **last = message.clone(),
            None => entry.last = Some(Box::new(message.clone())),
        }
        for t in entry.tasks.iter_mut() {
            let open = self
                .tasks
                .get(&t.xid)
                .is_some_and(|e| e.state == WindowState::Open && e.task.covers(time));
            if !open {
                continue;
            }
            let iri_type = match (t.begun, iri) {
                (true, iri) => iri,
                // A task's first message of a call begins it, unless it is the call's last
                // (the task came in with the final response to the BYE): a session of one
                // message that ends it would have no Begin, so it is a lone IRI-Report.
                (false, IriType::End) => IriType::Report,
                (false, _) => IriType::Begin,
            };
            t.begun = !matches!(iri_type, IriType::End | IriType::Report);
            records.push((t.xid, t.cin, iri_type));
        }
        for (xid, cin, iri_type) in records.drain(..) {
            self.emit_sip(xid, cin, time, iri_type, message.clone(), out);
        }
        self.voice.scratch_tasks = added;
        self.voice.scratch_records = records;
    }

    /// A UDP packet that is not SIP: CC of the call whose flow it is, for each task of the
    /// call that has begun and may have CC now. True if it yielded a record.
    fn voice_media(
        &mut self,
        time: Timestamp,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        out: &mut Vec<InterceptRecord>,
    ) -> bool {
        let Some(hit) = self.voice.tracker.on_media(src, dst, time) else {
            return false;
        };
        self.voice.counters.media_packets += 1;
        let Some(call) = self.voice.calls.get(hit.call) else {
            return false;
        };
        let flow = MediaFlow {
            source: src,
            destination: dst,
            protocol: hit.kind,
            stream: u16::from(hit.stream),
        };
        let record = |(xid, cin, direction): (Xid, Cin, PayloadDirection), payload: Bytes| {
            InterceptRecord::Cc(CcRecord {
                xid,
                cin,
                timestamp: time,
                direction,
                payload,
                original_len: None,
                kind: CcKind::Media(flow),
            })
        };
        // The packet is copied once; every record but the last shares it (a clone of a
        // fresh `Bytes` allocates its shared header: the usual single task moves it).
        let mut bytes: Option<Bytes> = None;
        let mut pending: Option<(Xid, Cin, PayloadDirection)> = None;
        let before = out.len();
        // A task that has begun the call is active, inside its window: the window's close
        // (processed before this packet) ended what had begun, a deactivation removed it.
        // The direction is the task's own (its targets' side), a field read.
        for t in call.tasks.iter().filter(|t| t.begun && t.cc) {
            let shared = bytes.get_or_insert_with(|| Bytes::copy_from_slice(payload));
            if let Some(task) = pending.replace((t.xid, t.cin, t.direction(hit.sender))) {
                out.push(record(task, shared.clone()));
            }
        }
        if let (Some(task), Some(bytes)) = (pending, bytes) {
            out.push(record(task, bytes));
        }
        let emitted = out.len() - before;
        self.stats.cc_records += emitted as u64;
        emitted > 0
    }

    /// A TCP segment of a SIP flow.
    fn voice_tcp(
        &mut self,
        time: Timestamp,
        key: FlowKey,
        seq: u32,
        flags: u8,
        payload: &[u8],
        out: &mut Vec<InterceptRecord>,
    ) {
        const FIN: u8 = 0x01;
        const SYN: u8 = 0x02;
        const RST: u8 = 0x04;
        if flags & RST != 0 {
            if let Some(flow) = self.voice.tcp.remove(&key) {
                self.voice.tcp_held = self.voice.tcp_held.saturating_sub(flow.framer.buffered());
            }
            return;
        }
        // Taken out of the table while its frames are handled (they need the classifier).
        let mut flow = match self.voice.tcp.remove(&key) {
            Some(flow) => {
                self.voice.tcp_held = self.voice.tcp_held.saturating_sub(flow.framer.buffered());
                flow
            }
            None if payload.is_empty() && flags & SYN == 0 => return,
            None if self.voice.tcp.len() >= self.voice.config.max_tcp_flows => {
                self.voice.counters.tcp_flows_refused += 1;
                return;
            }
            None => TcpFlow::new(self.voice.config.max_message_len, time),
        };
        flow.last_seen = time;
        if flags & SYN != 0 {
            flow.syn(seq);
        }
        if !payload.is_empty() {
            match flow.accept(seq, payload) {
                Some(fresh)
                    if self.voice.tcp_held + flow.framer.buffered() + fresh.len()
                        > self.voice.config.max_tcp_octets =>
                {
                    // No room: this flow is not followed any more.
                    self.voice.counters.tcp_flows_refused += 1;
                    return;
                }
                Some(fresh) => {
                    flow.framer.push(fresh);
                    loop {
                        match flow.framer.next_frame() {
                            Ok(Some(frame)) => self.voice_sip(time, key.0, key.1, frame, out),
                            Ok(None) => break,
                            // Skipped (too long) or resynchronising: reported, go on.
                            Err(_) => self.voice.counters.sip_errors += 1,
                        }
                    }
                }
                None => self.voice.counters.tcp_duplicates += 1,
            }
        }
        if flags & FIN == 0 {
            self.voice.tcp_held += flow.framer.buffered();
            self.voice.tcp.insert(key, flow);
        }
    }

    /// A fragment of a UDP datagram: kept until the datagram is whole, then handled as SIP
    /// if its ports say so, else as a call's media. `keep`: the first fragment's verdict (SIP
    /// ports, or a bound media flow). True if the datagram completed yielded a CC record.
    fn voice_fragment(
        &mut self,
        time: Timestamp,
        packet: &Packet<'_>,
        f: crate::decode::Fragment,
        keep: Option<bool>,
        out: &mut Vec<InterceptRecord>,
    ) -> bool {
        let Some(data) = fragment_payload(packet.ip) else {
            return false;
        };
        let key = FragmentKey {
            src: packet.src,
            dst: packet.dst,
            id: f.id,
        };
        let Some(datagram) =
            self.voice
                .fragments
                .push(time, key, usize::from(f.offset), f.more, data, keep)
        else {
            return false;
        };
        let Some((header, rest)) = datagram.split_at_checked(8) else {
            return false;
        };
        let port = |i: usize| {
            u16::from_be_bytes([
                header.get(i).copied().unwrap_or(0),
                header.get(i + 1).copied().unwrap_or(0),
            ])
        };
        let (src_port, dst_port, udp_len) = (port(0), port(2), usize::from(port(4)));
        // The UDP length bounds the data (IPv6 jumbograms aside, which are not fragmented).
        let body = rest.get(..udp_len.saturating_sub(8)).unwrap_or(rest);
        let (src, dst) = (
            SocketAddr::new(packet.src, src_port),
            SocketAddr::new(packet.dst, dst_port),
        );
        if self.is_sip_port(src_port, dst_port) {
            self.voice_sip(time, src, dst, body, out);
            false
        } else {
            self.voice_media(time, src, dst, body, out)
        }
    }

    /// Whether `xid` is a task whose window is open at `time`.
    fn task_open(&self, xid: Xid, time: Timestamp) -> bool {
        self.tasks
            .get(&xid)
            .is_some_and(|e| e.state == WindowState::Open && e.task.covers(time))
    }

    fn emit_sip(
        &mut self,
        xid: Xid,
        cin: Cin,
        time: Timestamp,
        iri_type: IriType,
        message: SipEvent,
        out: &mut Vec<InterceptRecord>,
    ) {
        out.push(InterceptRecord::from(IriRecord {
            xid,
            cin,
            timestamp: time,
            iri_type,
            event: IriEvent::Sip(message),
        }));
        self.stats.iri_records += 1;
    }

    /// A task's window closed (or it is being deactivated) at `at`: an IRI-End, repeating
    /// the call's last message, for every call the task had begun.
    pub(super) fn voice_window_closed(
        &mut self,
        xid: Xid,
        at: Timestamp,
        out: &mut Vec<InterceptRecord>,
    ) {
        let mut records = Vec::new();
        for call in self.voice.calls.values_mut() {
            for t in call.tasks.iter_mut().filter(|t| t.xid == xid && t.begun) {
                t.begun = false;
                if let Some(last) = &call.last {
                    records.push((t.cin, SipEvent::clone(last)));
                }
            }
        }
        for (cin, last) in records {
            self.emit_sip(xid, cin, at, IriType::End, last, out);
        }
    }
}

#[cfg(test)]
mod tests;
