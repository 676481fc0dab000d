//! The sans-IO call tracker: SIP messages in, calls out; RTP/RTCP packets to the call they
//! belong to (ETSI TS 102 232-5 voice interception).
//!
//! [`CallTracker`] keeps one state machine per intercepted call and binds the call's media
//! flows (the transport addresses its SDP offers and answers name) so that a probe can tell,
//! with one hash lookup per packet (two when its destination is not bound), which call an
//! RTP or RTCP packet is part of. It does no I/O and reads no clock: every input carries its
//! time.
//!
//! # What the caller feeds it
//!
//! The caller parses every SIP message it sees ([`SipMessage::parse`], the
//! [`StreamFramer`](super::StreamFramer) for TCP), matches it with
//! [`SipTargets::match_message`](super::SipTargets::match_message) and hands message and
//! matches (possibly none) to [`CallTracker::on_sip`]. The tracker keeps **no state for
//! other people's dialogs** beyond one bounded exception: a message is looked at only if its
//! Call-ID belongs to a tracked call, or it matches a target, or (an INVITE with SDP) its SDP
//! `o=` line is that of a tracked call (a second leg of it, see below). Anything else costs
//! one hash lookup and leaves nothing behind, except an INVITE that starts a dialog with an
//! SDP offer: its origin, Call-ID and offer are remembered for
//! [`CallConfig::pending_leg_ttl`] (at most [`CallConfig::max_pending_legs`] of them), in
//! case a target's leg of the same call comes after it. So a BYE that names no target ends a
//! target's call by its Call-ID.
//!
//! Every RTP or RTCP packet goes to [`CallTracker::on_media`] (source and destination
//! transport addresses): a lookup in the table of bound flows (a second one, of the source,
//! when the destination is not bound), no allocation (but when it latches a flow, once per
//! stream of a party behind a NAT, see below).
//!
//! [`CallTracker::on_timer`] ends calls that went quiet; call it at
//! [`CallTracker::next_timeout`] or whenever convenient (with packet time).
//!
//! # What it says: [`CallEvent`]s
//!
//! - [`CallEvent::Sip`] for each message of a call, with the IRI type it is
//!   ([`IriType::Begin`] for the first message the tracker sees of the call, `Continue`
//!   during it, `End` for the message that ends it). The event carries no bytes: the caller
//!   still holds the message. A call has a stable [`CallHandle`] the caller maps to a CIN
//!   per (task, call).
//! - [`CallEvent::Report`] for a message concerning a target outside any call (a REGISTER
//!   and its responses, with the Contact bindings in the message; an OPTIONS, a MESSAGE):
//!   one IRI-Report, no state kept. The caller correlates such reports by Call-ID if it
//!   wants (the classifier does: one CIN per task and registration). A late message of an
//!   ended call says which call (`late_of`).
//! - [`CallEvent::MediaBound`] / [`CallEvent::MediaReleased`] when a flow starts or stops
//!   being the call's. A flow latched by [`CallTracker::on_media`] (which has no event
//!   output) is the call's from that packet on; its `MediaBound` comes first in the events
//!   of the next [`CallTracker::on_sip`] or [`CallTracker::on_timer`], before any event that
//!   could release it.
//! - [`CallEvent::End`] exactly once per call, after its last event. When
//!   [`CallEndReason::with_message`] is false (timeout, eviction, a BYE never answered), no
//!   SIP message carried the IRI-End and the caller sends one of its own.
//!
//! # The state machine
//!
//! Per call, per leg (Call-ID), per dialog (the To tag of the party that is not the caller;
//! forking gives several early dialogs, RFC 3261 clause 12.1):
//!
//! - INVITE (no To tag): the call. A **retransmitted INVITE** (same CSeq) or an INVITE
//!   repeated with credentials after a 401/407 (same Call-ID, higher CSeq) is part of the
//!   same call: IRI-Continue, no second Begin, its SDP applied again (idempotent).
//! - 1xx with a To tag: an early dialog, its SDP (early media in a 183) bound.
//! - 2xx to the INVITE: that dialog is confirmed; the other early dialogs (forks) are
//!   dropped and their media released. A second 2xx (another fork also answered) confirms
//!   that dialog too, until its BYE.
//! - 3xx-6xx to the INVITE (except 401/407, a challenge the caller answers with a new INVITE
//!   on the same Call-ID) end the leg when they are the **final response of the INVITE
//!   transaction**: IRI-End, [`CallEndReason::Rejected`], or [`CallEndReason::Cancelled`]
//!   after a CANCEL or on 487. Behind a proxy one INVITE is several client transactions, a
//!   hop each and, forking, a fork each (RFC 3261 16.6-16.7): the same Call-ID and CSeq, a
//!   new top Via branch, one Via more per hop. The tracker notes each (the Via branch and
//!   the Via count; 8 per leg at most, an INVITE seen again on a known branch is a
//!   retransmission). A failure on one of them ends the leg only if no other transaction
//!   with as few Vias or fewer still waits: it is then the response the probe sees furthest
//!   upstream (the caller's own, with one Via, or all the forks it sees failed). Otherwise
//!   it is one fork's failure ([`CallStats::forks_failed`]): that fork's early dialog and its
//!   media go, the call waits for its other forks or for the proxy's final response. (A
//!   probe that sees only the forks of a proxy forking *serially* cannot know whether the
//!   proxy tries another one after the last failure it saw: the leg ends there, and a later
//!   fork's INVITE on that Call-ID is absorbed as a late message.)
//! - re-INVITE, UPDATE, PRACK and ACK with SDP: the sender's media are replaced (hold with
//!   `a=sendonly`/`a=inactive`, a new address or port): flows no longer named are released
//!   and no longer the call's. A re-INVITE or UPDATE offer that **fails** (3xx-6xx, e.g. 488
//!   or 491 in a glare) leaves the session as it was before it (RFC 3261 14.1, RFC 3311):
//!   the sender's flows from before the offer are bound again and those of the offer
//!   released ([`CallStats::offers_refused`]); a 2xx keeps them. One waiting offer per party
//!   is remembered (a retransmission keeps the media to put back).
//! - BYE: IRI-Continue; the dialog's media are released at once. The final response to the
//!   BYE of the last dialog: IRI-End, [`CallEndReason::Bye`]. A BYE never answered ends the
//!   call after [`CallConfig::linger`] ([`CallEndReason::ByeUnanswered`]).
//! - No message and no media packet for [`CallConfig::inactivity_timeout`]: the call ends
//!   ([`CallEndReason::Timeout`]).
//!
//! After its end a call's Call-IDs are remembered for [`CallConfig::linger`] (RFC 3261
//! Timer J / 64*T1): late messages (a BYE's 200 again, the ACK to a 487 or 486, which
//! arrives after the failure that ended the call) are counted ([`CallStats::late_messages`])
//! instead of starting a new call; one that names a target is still that target's SIP
//! message and is reported ([`CallEvent::Report`]: an IRI-Report, outside the ended call,
//! naming it in `late_of` so that the caller can give it the ended call's CIN), so nothing
//! of a target's signalling is dropped. A new INVITE with a higher CSeq on that
//! Call-ID starts a new call.
//!
//! A target's call first seen mid-call (a task activated during it, or a tracker restarted)
//! begins at its next message: an in-dialog request (re-INVITE, UPDATE, INFO, PRACK, ACK,
//! BYE) or a 1xx/2xx to an INVITE that matches a target starts a call in the confirmed state
//! with IRI-Begin; its media are bound from the next SDP.
//!
//! # Media binding
//!
//! From each party's SDP (offer and answer, early media in 18x, re-offers), per `m=` line
//! with a port other than 0: the RTP address (unless the party is `sendonly` or `inactive`:
//! it receives no RTP) and the RTCP address (RTCP goes on during a hold, `inactive`
//! included: RFC 3264 clause 5.1) (`a=rtcp`, else RTP
//! port + 1; none of its own with `a=rtcp-mux` and no `a=rtcp`: it is muxed on the RTP port,
//! and binding port + 1 could catch another call's RTP). Audio and video streams of a call
//! are bound alike and told apart by their `m=` index.
//!
//! **NAT**: when an SDP address is private (RFC 1918, RFC 6598 shared space, IPv6 unique
//! local, link-local) and the SIP message carrying it came from another address, the flows
//! are also bound at the **source address of that SIP message with the SDP's ports**
//! ([`FlowSource::SignallingPeer`]): behind a NAT that keeps ports (or with an SBC that
//! latches them) the media arrive from there. This is only right when the probe sees the
//! signalling as it leaves the NAT (on the access side of the first proxy): behind a
//! signalling-only proxy the source is the proxy, whose address then gets bound in vain
//! (harmless: no media come from it on those ports).
//!
//! **NATs that change ports** are covered by **latching**, as an SBC does for symmetric RTP:
//! while a party has such a [`FlowSource::SignallingPeer`] flow, the first media packet that
//! comes from that public address (any port) *to a bound flow of the other party of the
//! same call, same stream* binds its source address as the NAT'd party's flow
//! ([`FlowSource::Latched`], [`CallStats::latched`]): the packets the other party sends
//! back to the port the NAT chose are then the call's too, from that packet on. Bounded and
//! narrow, so that it opens no over-collection: one latch per party, stream and kind (RTP,
//! RTCP) while the signalling-peer flow it was latched for is bound (an offer of that party
//! that moves its ports, or the end of the call, releases it, and the next packet latches
//! anew); only a packet whose
//! destination is already the call's bound address:port and whose source is the party's
//! own public address triggers it; an address bound to another call is never taken; and
//! only with [`CallConfig::bind_signalling_source`]. Until then, the flows of the other
//! party carry a flag, and a packet to them costs one call lookup more (every packet, when
//! the NAT'd party's media come from another address than its signalling). Both parties
//! behind port-changing NATs (neither end of a flow bound) are not covered.
//!
//! A packet is the call's when its destination or (symmetric RTP, RFC 4961) its source is a
//! bound address of the call, and its other end is the call's too: anything to or from a
//! target's own media address is the target's; on the other party's address the other end
//! must be one of the target side's addresses (any port), or anything while none is known
//! yet (RTP that overtook the answer). A third host talking with the other party's port (a
//! media server or SFU sharing one port among sessions, a scanner) is not the call
//! ([`CallStats::media_foreign`]). [`MediaMatch::sender`] says which party sent it. When a call
//! ends, or a flow is released, a later packet on that address is nobody's call; a new
//! intercepted call binding an address another call still holds takes it over (the other
//! call gets [`CallEvent::MediaReleased`]).
//!
//! # Legs of one call through a proxy
//!
//! A B2BUA or a proxy that changes Call-IDs gives one call several legs. As TS 102 232-5
//! describes, the legs are tied by the SDP origin: an INVITE whose `o=` line (username,
//! sess-id, unicast address; not the version, which changes) is that of a party of a tracked
//! call becomes a **leg of the same call** ([`CallStats::legs_correlated`]): same
//! [`CallHandle`], IRI-Continue, its media bound to the call. Origins that cannot be unique
//! (a sess-id of fewer than 4 characters or all zeros, an unspecified or loopback address)
//! are not used: tying an unrelated call to a target's would intercept someone else. The call
//! ends when its last leg does. A call gets at most 8 legs.
//!
//! The legs are tied **whichever comes first**. When the target's leg comes second (the
//! caller dialled an alias, a hunt group, a number the proxy translates; a forwarding), the
//! earlier leg named no target when the probe saw it. Its INVITE was remembered (above);
//! when the target's call indexes the same origin, that leg joins the call **from then on**:
//! its later messages are IRI-Continue of the call, its media (the caller's offer it
//! carried, then its answers) bound from that moment. Its earlier messages are not reported
//! and the tracker holds none of their bytes: they were not a target's when seen, were not
//! intercepted then, and cannot be intercepted later. Reporting them would mean keeping
//! everyone's INVITEs in case a target shows up, and delivering traffic the warrant did not
//! cover when it passed; not reporting them loses nothing the target's own leg does not
//! carry (the same offer, the same origin). An INVITE remembered longer than
//! [`CallConfig::pending_leg_ttl`], or evicted by [`CallConfig::max_pending_legs`], is not
//! tied.
//!
//! # Bounds
//!
//! [`CallConfig::max_calls`] calls (ended ones remembered for the linger time included) and
//! [`CallConfig::max_flows`] bound flows. A new call when full evicts the call closest to
//! its timeout ([`CallStats::evicted`], [`CallEndReason::Evicted`]); a flow that does not
//! fit is not bound ([`CallStats::flows_refused`]). A call costs about 1.4 KB with one
//! audio stream bound (measured with 1,000,000 calls: Call-ID, tags, SDP origin, flows and
//! the index entries; see `docs/PERFORMANCE.md`); its SDPs name at most
//! [`MAX_MEDIA`](super::sdp::MAX_MEDIA) streams each, a leg has at most 16 early dialogs,
//! 8 client transactions of its INVITE and one waiting offer per party.
//! [`CallConfig::max_pending_legs`] untracked INVITEs are remembered, each for
//! [`CallConfig::pending_leg_ttl`] at most ([`CallStats::pending_legs_evicted`]).
//!
//! Nothing here panics on any input. [`CallTracker::on_media`] does not allocate but to
//! latch a flow; [`CallTracker::on_sip`] allocates for a new call, dialog or origin (the
//! Call-ID and tags are copied), for the flows of an SDP body that changes a party's flows
//! (and the flows it replaces, for an offer that may fail), and for an untracked INVITE it
//! remembers, not for the other messages of a call (a repeated offer included).
//!
//! ```
//! use li_capture::sip::call::{CallConfig, CallEvent, CallTracker, Party};
//! use li_capture::sip::{SipMessage, SipTargets};
//! use li_core::{IriType, Timestamp};
//!
//! let mut targets = SipTargets::new();
//! targets.insert("sip:bob@biloxi.example.com".parse()?)?;
//! let mut tracker = CallTracker::new(CallConfig::default());
//! let now = Timestamp::from_secs_micros(1_700_000_000, 0)?;
//! let (alice, proxy) = ("192.0.2.101:5060".parse()?, "192.0.2.1:5060".parse()?);
//!
//! let invite = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n\
//!     From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
//!     To: Bob <sip:bob@biloxi.example.com>\r\n\
//!     Call-ID: a84b4c76e66710\r\n\
//!     CSeq: 314159 INVITE\r\n\
//!     Content-Type: application/sdp\r\n\
//!     Content-Length: 114\r\n\
//!     \r\n\
//!     v=0\r\n\
//!     o=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\n\
//!     s=-\r\n\
//!     c=IN IP4 192.0.2.101\r\n\
//!     t=0 0\r\n\
//!     m=audio 49172 RTP/AVP 0\r\n";
//! let msg = SipMessage::parse(invite)?;
//! let mut matches = Vec::new();
//! targets.match_message(&msg, &mut matches);
//!
//! let mut events = Vec::new();
//! tracker.on_sip(&msg, alice, now, &matches, &mut events);
//! let CallEvent::Sip { call, iri: IriType::Begin } = events[0] else { panic!() };
//! // The offer's RTP and RTCP flows are bound to the call.
//! assert_eq!(events.len(), 3);
//!
//! // An RTP packet from the far end to Alice's RTP port is the call's, sent by the callee.
//! let hit = tracker
//!     .on_media("198.51.100.7:30000".parse()?, "192.0.2.101:49172".parse()?, now)
//!     .expect("bound");
//! assert_eq!((hit.call, hit.sender), (call, Party::Callee));
//! assert!(tracker.on_media(proxy, "192.0.2.101:49174".parse()?, now).is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::OnceCell;
use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use li_core::{IriType, MediaProtocol, Timestamp};

use super::error::SipError;
use super::message::{HeaderName, Method, SipMessage};
use super::sdp::{Direction, Origin, Sdp};
use super::target::{IdentitySource, TargetMatch};
use super::uri::split_list;
use crate::hash::{FastHasher, FastMap, KeyedMap};

/// Limits and timers of a [`CallTracker`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallConfig {
    /// Calls tracked at most, ended calls still remembered included; a new call when full
    /// evicts the one closest to its timeout. Default 100,000.
    pub max_calls: usize,
    /// Media flows (transport addresses) bound at most; a flow beyond is not bound.
    /// Default 1,000,000.
    pub max_flows: usize,
    /// A call with neither a SIP message nor a media packet for this long ends
    /// ([`CallEndReason::Timeout`]). Default 300 s (well above RTP's 20 ms packets and
    /// RTCP's 5 s reports; a held call with `a=inactive` sends nothing, so keep it above
    /// the session refresh interval of RFC 4028 if calls are held long).
    pub inactivity_timeout: Duration,
    /// How long an ended call's Call-IDs are remembered (late retransmissions absorbed), and
    /// how long a BYE or CANCEL waits for its final response. Default 32 s (RFC 3261 64*T1).
    pub linger: Duration,
    /// Bind media also at the address the SIP message carrying a private SDP address came
    /// from (NAT; see the [module docs](self)). Default true.
    pub bind_signalling_source: bool,
    /// Tie the legs of a call through a proxy by their SDP origin (see the
    /// [module docs](self)). Default true.
    pub correlate_legs: bool,
    /// INVITEs of no tracked call and no target remembered at most (their SDP origin,
    /// Call-ID and caller's media), so that a target's leg of the same call seen after them
    /// ties them to the call; the oldest goes when full ([`CallStats::pending_legs_evicted`]).
    /// 0 remembers none (and a target's leg seen after another leg of its call is then not
    /// tied to it). Default 65,536 (about 330 octets each, measured: 21 MiB when full).
    pub max_pending_legs: usize,
    /// How long such an INVITE is remembered. Default 32 s (RFC 3261 64*T1; a forwarding
    /// on no answer that starts the target's leg later than this is not tied).
    pub pending_leg_ttl: Duration,
}

impl Default for CallConfig {
    fn default() -> Self {
        Self {
            max_calls: 100_000,
            max_flows: 1_000_000,
            inactivity_timeout: Duration::from_secs(300),
            linger: Duration::from_secs(32),
            bind_signalling_source: true,
            correlate_legs: true,
            max_pending_legs: 65_536,
            pending_leg_ttl: Duration::from_secs(32),
        }
    }
}

/// Counters, for metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallStats {
    /// Calls being tracked now (not ended).
    pub active_calls: u64,
    /// Media flows bound now.
    pub bound_flows: u64,
    /// Calls begun (IRI-Begin).
    pub calls_begun: u64,
    /// Calls ended, for any reason.
    pub calls_ended: u64,
    /// Calls ended by the inactivity timeout.
    pub timed_out: u64,
    /// Calls evicted because [`CallConfig::max_calls`] was reached.
    pub evicted: u64,
    /// Flows not bound because [`CallConfig::max_flows`] was reached.
    pub flows_refused: u64,
    /// Retransmitted INVITEs (same Call-ID and CSeq) seen.
    pub retransmissions: u64,
    /// Messages of ended calls absorbed during the linger time.
    pub late_messages: u64,
    /// Legs added to a call by their SDP origin (seen after the call's first leg, or
    /// remembered from before it).
    pub legs_correlated: u64,
    /// Untracked INVITEs remembered now for a later leg to tie ([`CallConfig::max_pending_legs`]).
    pub pending_legs: u64,
    /// Remembered INVITEs dropped because [`CallConfig::max_pending_legs`] was reached.
    pub pending_legs_evicted: u64,
    /// Failures of one fork of an INVITE that left the call to its other forks.
    pub forks_failed: u64,
    /// Refused re-INVITE or UPDATE offers whose media were put back as before the offer.
    pub offers_refused: u64,
    /// Flows latched from media of a party behind a NAT ([`FlowSource::Latched`]).
    pub latched: u64,
    /// One-shot IRI-Reports (REGISTER, ...).
    pub reports: u64,
    /// Packets to or from a bound flow whose other end is not the call's other party (a
    /// third host): not the call's, not intercepted.
    pub media_foreign: u64,
    /// SDP bodies of tracked calls that did not parse (the media were left as they were).
    pub sdp_errors: u64,
    /// Messages ignored: no Call-ID, or neither tracked nor matching a target.
    pub ignored: u64,
}

/// A call's identity for the caller, stable for the call's life and never reused by this
/// tracker.
///
/// It also gives a dense index, [`CallHandle::slot`], for the caller's own per-call table:
/// a media packet's [`MediaMatch`] then finds the caller's state of its call by indexing a
/// vector, not by a second hash lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(u64);

impl CallHandle {
    /// The handle as a number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The call's slot: below the number of calls the tracker has held at once (active and
    /// lingering), reused by a later call once this one is forgotten. A table indexed by it
    /// keeps the handle beside the entry and checks it.
    pub fn slot(self) -> u32 {
        self.0 as u32
    }
}

/// The tracker's slots ([`CallHandle::slot`]): a handle is the slot's generation (high 32
/// bits) and the slot (low 32 bits). A slot whose generation is exhausted is retired, so a
/// handle is never given twice.
#[derive(Debug, Default)]
struct Slots {
    /// The generation of each slot's current or last call.
    generations: Vec<u32>,
    /// Slots free for a new call, the last freed taken first (its table entry is warm).
    free: Vec<u32>,
}

impl Slots {
    /// A handle for a new call, on a free slot or a new one.
    fn allocate(&mut self) -> u64 {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let Ok(slot) = u32::try_from(self.generations.len()) else {
                    // 2^32 calls at once cannot be held in memory; unreachable in practice.
                    return u64::MAX;
                };
                self.generations.push(0);
                slot
            }
        };
        let generation = self
            .generations
            .get_mut(slot as usize)
            .map_or(u32::MAX, |g| {
                *g += 1;
                *g
            });
        (u64::from(generation) << 32) | u64::from(slot)
    }

    /// Frees the slot of a forgotten call's handle.
    fn release(&mut self, handle: u64) {
        let (slot, generation) = (handle as u32, (handle >> 32) as u32);
        if self.generations.get(slot as usize) == Some(&generation) && generation < u32::MAX {
            self.free.push(slot);
        }
    }
}

impl fmt::Display for CallHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

/// A party of a call leg: the caller sent the leg's INVITE (its From), the callee answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Party {
    /// The party that sent the INVITE.
    Caller,
    /// The party the INVITE went to.
    Callee,
}

impl Party {
    /// The other party.
    pub fn other(self) -> Self {
        match self {
            Self::Caller => Self::Callee,
            Self::Callee => Self::Caller,
        }
    }
}

/// How a flow's address was learnt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowSource {
    /// From the SDP.
    Sdp,
    /// The source address of the SIP message carrying the SDP, with the SDP's port (NAT).
    SignallingPeer,
    /// The source of the first media packet from a NAT'd party's public address toward
    /// the other party's bound flow (a NAT that changes ports; see the
    /// [module docs](self)).
    Latched,
}

/// A media flow bound to a call: a transport address where a party receives (and, with
/// symmetric RTP, sends from).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MediaFlow {
    /// The transport address.
    pub addr: SocketAddr,
    /// The party it belongs to.
    pub party: Party,
    /// The `m=` line index (0-based) in that party's SDP.
    pub stream: u8,
    /// RTP (RFC 3550; with `a=rtcp-mux`, RTP and RTCP muxed, RFC 5761), or RTCP on its own
    /// port.
    pub kind: MediaProtocol,
    /// How the address was learnt.
    pub source: FlowSource,
}

/// What [`CallTracker::on_media`] found for a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaMatch {
    /// The call.
    pub call: CallHandle,
    /// The party that sent the packet (the destination's owner's other party, or the
    /// source's owner).
    pub sender: Party,
    /// The `m=` line index of the flow.
    pub stream: u8,
    /// RTP or RTCP (as [`MediaFlow::kind`]).
    pub kind: MediaProtocol,
}

/// Why a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallEndReason {
    /// The final response to the BYE of its last dialog.
    Bye,
    /// A BYE was sent and no final response came within [`CallConfig::linger`].
    ByeUnanswered,
    /// The INVITE was cancelled: 487, or a failure response after a CANCEL.
    Cancelled,
    /// The INVITE failed with this status (3xx to 6xx, 401/407 excepted).
    Rejected {
        /// The Status-Code.
        status: u16,
    },
    /// No message and no media for [`CallConfig::inactivity_timeout`] (or a CANCEL never
    /// answered within [`CallConfig::linger`]).
    Timeout,
    /// Evicted to make room ([`CallConfig::max_calls`]).
    Evicted,
}

impl CallEndReason {
    /// Whether the message of the preceding [`CallEvent::Sip`] was the call's IRI-End; if
    /// not, the caller sends an IRI-End without a SIP message.
    pub fn with_message(self) -> bool {
        matches!(self, Self::Bye | Self::Cancelled | Self::Rejected { .. })
    }
}

/// What a one-shot IRI-Report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportKind {
    /// A REGISTER or a response to one: the Contact headers of the message are the target's
    /// bindings (RFC 3261 clause 10).
    Registration,
    /// Any other message concerning a target outside a call (OPTIONS, MESSAGE, SUBSCRIBE,
    /// NOTIFY, a CANCEL or a response of a call not tracked).
    Other,
}

/// An output of the [`CallTracker`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallEvent {
    /// The message given to [`CallTracker::on_sip`] is part of `call`, as IRI of type `iri`
    /// (Begin, Continue or End).
    Sip {
        /// The call.
        call: CallHandle,
        /// The IRI type of the message.
        iri: IriType,
    },
    /// The message concerns a target outside any call: one IRI-Report.
    Report {
        /// What about.
        kind: ReportKind,
        /// The ended call this message is a late one of, while that call lingers (a
        /// retransmitted final response to its BYE, the ACK to the failure that ended
        /// it): a caller keeping the call's CINs for a while reports it under them. `None`
        /// for a message of no call.
        late_of: Option<CallHandle>,
    },
    /// A flow became the call's: its packets are the call's CC from now on.
    MediaBound {
        /// The call.
        call: CallHandle,
        /// The flow.
        flow: MediaFlow,
    },
    /// A flow stopped being the call's.
    MediaReleased {
        /// The call.
        call: CallHandle,
        /// The flow.
        flow: MediaFlow,
    },
    /// The call ended; its handle will not be given again.
    End {
        /// The call.
        call: CallHandle,
        /// Why.
        reason: CallEndReason,
    },
}

/// A snapshot of a tracked call, see [`CallTracker::call`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallInfo {
    /// Whether a target was found as the caller (From, P-Asserted-Identity,
    /// P-Preferred-Identity, credentials of a caller's request) of some leg.
    pub target_is_caller: bool,
    /// Whether a target was found as the callee (Request-URI, To, Diversion, History-Info,
    /// P-Asserted-Identity of a response) of some leg.
    pub target_is_callee: bool,
    /// The call's legs (1, or more tied by the SDP origin).
    pub legs: usize,
    /// Whether a dialog of the call was answered (2xx).
    pub answered: bool,
    /// The flows bound now.
    pub flows: Vec<MediaFlow>,
}

/// The call tracker; see the [module docs](self).
#[derive(Debug)]
pub struct CallTracker {
    config: CallConfig,
    calls: FastMap<u64, Call>,
    /// Call-ID of every leg (of active and lingering calls) to its call.
    by_call_id: KeyedMap<Box<str>, u64>,
    /// SDP origin key (`username sess-id address`) of the parties of active calls.
    by_origin: KeyedMap<Box<str>, u64>,
    flows: FastMap<FlowKey, FlowEntry>,
    /// (deadline, handle), earliest first; an entry may be stale (the call's deadline moved
    /// later, or the call is gone) and is checked when it comes out.
    timers: BinaryHeap<Reverse<(Timestamp, u64)>>,
    slots: Slots,
    stats: CallStats,
    /// Reused buffers: the flows an SDP names, the flows a call wants bound, those it
    /// releases, an origin key.
    scratch_sdp: Vec<MediaFlow>,
    scratch_flows: Vec<MediaFlow>,
    scratch_released: Vec<MediaFlow>,
    origin_key: String,
    /// Untracked INVITEs by the hash of their origin key, oldest first in each list.
    pending: FastMap<u64, Vec<PendingLeg>>,
    /// The seeded hasher of `pending`'s origin keys: a peer cannot choose origins that
    /// share one list.
    origin_hasher: foldhash::fast::RandomState,
    /// (seen, origin hash, sequence) of every remembered INVITE, oldest first: expiry and
    /// eviction order (an entry whose INVITE was tied meanwhile is skipped).
    pending_order: VecDeque<(Timestamp, u64, u64)>,
    pending_seq: u64,
    pending_count: usize,
    /// Events of [`CallTracker::on_media`] (a latched flow), given out with the next
    /// [`CallTracker::on_sip`] or [`CallTracker::on_timer`].
    queued: Vec<CallEvent>,
}

/// An INVITE of no tracked call and no target, remembered for a later leg (see
/// [`CallConfig::max_pending_legs`]).
#[derive(Debug)]
struct PendingLeg {
    /// The origin key, the Call-ID and the caller's tag one after the other: one
    /// allocation for the three (most of these are never tied).
    text: Box<str>,
    origin_end: u32,
    call_id_end: u32,
    has_tag: bool,
    invite_cseq: u32,
    branch: Option<Branch>,
    /// The caller's flows its SDP named.
    media: Vec<MediaFlow>,
    seen: Timestamp,
    seq: u64,
}

impl PendingLeg {
    fn origin(&self) -> &str {
        self.text
            .get(..self.origin_end as usize)
            .unwrap_or_default()
    }

    fn call_id(&self) -> &str {
        self.text
            .get(self.origin_end as usize..self.call_id_end as usize)
            .unwrap_or_default()
    }

    fn caller_tag(&self) -> Option<&str> {
        self.has_tag.then(|| {
            self.text
                .get(self.call_id_end as usize..)
                .unwrap_or_default()
        })
    }
}

/// One call: one or more legs, its bound flows.
#[derive(Debug)]
struct Call {
    legs: Vec<Leg>,
    flows: Vec<MediaFlow>,
    /// Origin keys indexed for this call.
    origins: Vec<Box<str>>,
    /// Flows latched by media (NAT), each with the [`FlowSource::SignallingPeer`] address
    /// it was latched for: it lasts while that address is bound.
    latches: Vec<(MediaFlow, SocketAddr)>,
    last_signal: Timestamp,
    /// When a BYE or CANCEL left the call waiting for its end.
    closing_since: Option<Timestamp>,
    /// When it ended (kept for the linger time).
    closed_at: Option<Timestamp>,
    target_is_caller: bool,
    target_is_callee: bool,
}

/// One Call-ID of a call.
#[derive(Debug)]
struct Leg {
    call_id: Box<str>,
    /// The From tag of the INVITE (`None` for a legacy UA without tags).
    caller_tag: Option<Box<str>>,
    invite_cseq: u32,
    /// The INVITE of `invite_cseq` was seen (a second one is a retransmission).
    invite_seen: bool,
    cancelled: bool,
    closed: bool,
    caller_media: Vec<MediaFlow>,
    dialogs: Vec<Dialog>,
    /// The first client transaction of the INVITE of `invite_cseq` seen; the others (a
    /// hop each, a fork each) in `more`.
    branch: Option<Branch>,
    /// What most legs never need, allocated when they do (a leg costs memory on every
    /// tracked call).
    more: Option<Box<LegMore>>,
}

/// The rarer state of a leg.
#[derive(Debug, Default)]
struct LegMore {
    /// Client transactions of the INVITE after the first: which still wait for a final
    /// response.
    branches: Vec<Branch>,
    /// Offers (re-INVITE, UPDATE) not yet answered, with the media they replaced.
    offers: Vec<Offer>,
}

/// One client transaction of a leg's INVITE: its top Via branch (hashed) and Via count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Branch {
    id: u64,
    /// How many Vias the INVITE carried: 1 from the calling UA, one more per proxy hop.
    depth: u8,
    failed: bool,
}

/// An offer in a re-INVITE or UPDATE waiting for its final response.
#[derive(Debug)]
struct Offer {
    /// Who sent it.
    party: Party,
    cseq: u32,
    update: bool,
    /// The sender's flows before it, put back if it fails.
    previous: Vec<MediaFlow>,
}

#[derive(Debug)]
struct Dialog {
    /// The callee's tag.
    tag: Box<str>,
    state: DialogState,
    media: Vec<MediaFlow>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DialogState {
    Early,
    Confirmed,
    /// BYE sent, final response awaited.
    Terminating,
}

/// A flow table key: the address as IPv6 (IPv4 mapped) and the port.
///
/// The flow table is what every media packet reads, 40,000 entries for 10,000 calls:
/// its keys and entries are packed (an address as two 64-bit halves, not a 16-aligned
/// `u128`; a flow's address only in the key) so that an entry spans fewer cache lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FlowKey {
    ip: PackedIp,
    port: u16,
}

/// An IPv6 address (IPv4 mapped) in two halves: 8-aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct PackedIp {
    high: u64,
    low: u64,
}

impl PackedIp {
    fn of(ip: IpAddr) -> Self {
        let bits = match ip {
            IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
            IpAddr::V6(v6) => u128::from(v6),
        };
        Self {
            high: (bits >> 64) as u64,
            low: bits as u64,
        }
    }

    fn bits(self) -> u128 {
        (u128::from(self.high) << 64) | u128::from(self.low)
    }
}

impl FlowKey {
    fn of(addr: SocketAddr) -> Self {
        Self {
            ip: PackedIp::of(addr.ip()),
            port: addr.port(),
        }
    }
}

/// What a flow entry keeps of its bound [`MediaFlow`]: all but the address, which is the
/// entry's key (and whether it was written as IPv4, to give the flow back as bound).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BoundFlow {
    party: Party,
    stream: u8,
    kind: MediaProtocol,
    source: FlowSource,
    v4: bool,
}

impl BoundFlow {
    fn of(flow: &MediaFlow) -> Self {
        Self {
            party: flow.party,
            stream: flow.stream,
            kind: flow.kind,
            source: flow.source,
            v4: flow.addr.is_ipv4(),
        }
    }

    /// Whether `flow`, whose key is this entry's, is the flow bound.
    fn is(&self, flow: &MediaFlow) -> bool {
        *self == Self::of(flow)
    }

    /// The flow bound at `key`.
    fn media_flow(&self, key: FlowKey) -> MediaFlow {
        let v6 = Ipv6Addr::from(key.ip.bits());
        let ip = match v6.to_ipv4_mapped() {
            Some(v4) if self.v4 => IpAddr::V4(v4),
            _ => IpAddr::V6(v6),
        };
        MediaFlow {
            addr: SocketAddr::new(ip, key.port),
            party: self.party,
            stream: self.stream,
            kind: self.kind,
            source: self.source,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct FlowEntry {
    call: u64,
    flow: BoundFlow,
    last_seen: Timestamp,
    /// The other party of this flow's owner is behind a NAT and has no latched flow for
    /// this stream yet: a packet to this flow may latch its source.
    latch: bool,
    /// Who may be at the other end of a packet on this flow for it to be the call's; kept
    /// with the entry so that [`CallTracker::on_media`] needs no call lookup.
    peer: Peer,
}

/// How many of the other party's addresses a [`FlowEntry`] keeps inline: one per party is
/// the rule, a second comes with a NAT latch or a separate video address.
const PEER_ADDRS: usize = 2;

/// Who may be at the other end of a packet on a flow for it to be the flow's call (see
/// the [module docs](self)): derived from the call's flows and target sides by
/// `CallTracker::refresh_entries` each time they change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    /// Anyone: the flow is a target's own media address, or the other party has no flow
    /// yet (RTP that overtook the answer).
    Any,
    /// One of the other party's addresses (any port), as [`FlowKey::ip`] values.
    Among {
        addrs: [PackedIp; PEER_ADDRS],
        len: u8,
    },
    /// More addresses than fit inline: the call's flows decide.
    Lookup,
}

impl Peer {
    /// What a flow of `party` in `call` accepts at its other end.
    fn of(call: &Call, party: Party) -> Self {
        let targets_own = match party {
            Party::Caller => call.target_is_caller,
            Party::Callee => call.target_is_callee,
        };
        if targets_own {
            return Self::Any;
        }
        let mut addrs = [PackedIp { high: 0, low: 0 }; PEER_ADDRS];
        let mut len = 0;
        for f in call.flows.iter().filter(|f| f.party == party.other()) {
            let ip = PackedIp::of(f.addr.ip());
            if addrs.get(..len).is_some_and(|known| known.contains(&ip)) {
                continue;
            }
            match addrs.get_mut(len) {
                Some(slot) => *slot = ip,
                None => return Self::Lookup,
            }
            len += 1;
        }
        match len {
            0 => Self::Any,
            _ => Self::Among {
                addrs,
                len: len as u8,
            },
        }
    }

    /// Whether a packet whose other end is `other` is the flow's call; `None` when the
    /// call's flows must decide ([`Peer::Lookup`]).
    fn admits(&self, other: IpAddr) -> Option<bool> {
        match *self {
            Self::Any => Some(true),
            Self::Among { addrs, len } => {
                let ip = PackedIp::of(other);
                Some(
                    addrs
                        .get(..usize::from(len))
                        .is_some_and(|known| known.contains(&ip)),
                )
            }
            Self::Lookup => None,
        }
    }
}

/// A message's SDP body, parsed when first asked for and then kept: one parse per
/// message however many steps of [`CallTracker::on_sip`] read it (the leg correlation, the
/// leg's media, the origin index), none for a message no step reads (another's dialog).
struct SdpBody<'m, 'a> {
    msg: &'m SipMessage<'a>,
    parsed: OnceCell<Option<Result<Sdp<'a>, SipError>>>,
}

impl<'m, 'a> SdpBody<'m, 'a> {
    fn of(msg: &'m SipMessage<'a>) -> Self {
        Self {
            msg,
            parsed: OnceCell::new(),
        }
    }

    /// [`SipMessage::sdp`] of the message.
    fn get(&self) -> Option<&Result<Sdp<'a>, SipError>> {
        self.parsed.get_or_init(|| self.msg.sdp()).as_ref()
    }

    /// The SDP origin: from the parsed body if a step parsed it, else read alone
    /// ([`Sdp::parse_origin`]): a message whose only use of its SDP is its origin (an
    /// INVITE of no tracked call: a second leg? a retransmission of one remembered?) does
    /// not pay for the whole parse.
    fn origin(&self) -> Option<Origin<'a>> {
        match self.parsed.get() {
            Some(parsed) => parsed.as_ref()?.as_ref().ok()?.origin(),
            None => Sdp::parse_origin(self.msg.sdp_body()?.ok()?).ok()?,
        }
    }
}

/// What a message did to its call.
struct Outcome {
    iri: IriType,
    /// The call ended with this message.
    ended: Option<CallEndReason>,
    /// The flows may have changed.
    media_changed: bool,
}

impl CallTracker {
    /// A tracker with no call.
    pub fn new(config: CallConfig) -> Self {
        Self {
            config,
            calls: HashMap::default(),
            by_call_id: KeyedMap::default(),
            by_origin: KeyedMap::default(),
            flows: HashMap::default(),
            timers: BinaryHeap::new(),
            slots: Slots::default(),
            stats: CallStats::default(),
            scratch_sdp: Vec::new(),
            scratch_flows: Vec::new(),
            scratch_released: Vec::new(),
            origin_key: String::new(),
            pending: HashMap::default(),
            origin_hasher: foldhash::fast::RandomState::default(),
            pending_order: VecDeque::new(),
            pending_seq: 0,
            pending_count: 0,
            queued: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &CallConfig {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> CallStats {
        let mut s = self.stats.clone();
        s.active_calls = s.calls_begun.saturating_sub(s.calls_ended);
        s.bound_flows = self.flows.len() as u64;
        s.pending_legs = self.pending_count as u64;
        s
    }

    /// A snapshot of a call not yet ended.
    pub fn call(&self, call: CallHandle) -> Option<CallInfo> {
        let c = self.calls.get(&call.0).filter(|c| c.closed_at.is_none())?;
        Some(CallInfo {
            target_is_caller: c.target_is_caller,
            target_is_callee: c.target_is_callee,
            legs: c.legs.len(),
            answered: c
                .legs
                .iter()
                .any(|l| l.dialogs.iter().any(|d| d.state != DialogState::Early)),
            flows: c.flows.clone(),
        })
    }

    /// The party of `call` that an identity found at `source` in `msg` names (`msg` being
    /// a message of the call, just given to [`CallTracker::on_sip`]; a match's
    /// [`TargetMatch::source`]): the rule by which the tracker tells
    /// [`CallInfo::target_is_caller`] from [`CallInfo::target_is_callee`], for a caller that
    /// keeps the side of each target apart (the media's direction per task). From, the
    /// caller's own identities (P-Preferred-Identity, P-Asserted-Identity of a request,
    /// credentials, a REGISTER's Contact) name the party that sent the request of the
    /// message's transaction; the Request-URI, To, Diversion, History-Info and the
    /// P-Asserted-Identity of a response the other one. `None` if the call (ended calls
    /// still lingering included) or the message's leg is not known. One call lookup, no
    /// allocation.
    pub fn party_of(
        &self,
        call: CallHandle,
        msg: &SipMessage<'_>,
        source: IdentitySource,
    ) -> Option<Party> {
        let c = self.calls.get(&call.0)?;
        let leg = match c.legs.as_slice() {
            [leg] => leg,
            legs => {
                let call_id = msg.call_id()?;
                legs.iter().find(|l| &*l.call_id == call_id)?
            }
        };
        Some(named_party(leg.party_of_from(msg), msg, source))
    }

    /// The call a Call-ID belongs to, if it is tracked and not ended.
    pub fn call_by_id(&self, call_id: &str) -> Option<CallHandle> {
        let h = *self.by_call_id.get(call_id)?;
        self.calls
            .get(&h)
            .filter(|c| c.closed_at.is_none())
            .map(|_| CallHandle(h))
    }

    /// Handles one SIP message seen at `now`, sent from `src`, with the targets it matches
    /// (from [`SipTargets::match_message`](super::SipTargets::match_message); empty if
    /// none). Appends the events to `out` (not cleared).
    pub fn on_sip(
        &mut self,
        msg: &SipMessage<'_>,
        src: SocketAddr,
        now: Timestamp,
        matches: &[TargetMatch<'_>],
        out: &mut Vec<CallEvent>,
    ) {
        if !self.queued.is_empty() {
            out.append(&mut self.queued);
        }
        let Some(call_id) = msg.call_id() else {
            self.stats.ignored += 1;
            return;
        };
        let sdp = SdpBody::of(msg);
        if let Some(&handle) = self.by_call_id.get(call_id) {
            let lingering = self.calls.get(&handle).map(|c| c.closed_at.is_some());
            match lingering {
                Some(false) => {
                    self.on_tracked(handle, call_id, msg, &sdp, src, now, matches, false, out);
                    return;
                }
                Some(true) if !is_new_attempt(self.calls.get(&handle), call_id, msg) => {
                    self.stats.late_messages += 1;
                    if !matches.is_empty() {
                        // Still a target's SIP message, now outside any call.
                        self.stats.reports += 1;
                        out.push(CallEvent::Report {
                            kind: ReportKind::Other,
                            late_of: Some(CallHandle(handle)),
                        });
                    }
                    return;
                }
                // A new INVITE on an ended call's Call-ID, or a stale index entry.
                _ => self.forget_call(handle),
            }
        }
        // Not tracked: a second leg of a tracked call?
        if self.config.correlate_legs
            && msg.is_request()
            && msg.method() == Some(Method::Invite)
            && !self.by_origin.is_empty()
            && let Some(handle) = self.leg_of(&sdp)
        {
            self.stats.legs_correlated += 1;
            let leg = Leg::new(call_id, msg);
            if let Some(call) = self.calls.get_mut(&handle) {
                call.legs.push(leg);
                self.by_call_id.insert(call_id.into(), handle);
                self.on_tracked(handle, call_id, msg, &sdp, src, now, matches, false, out);
            }
            return;
        }
        if matches.is_empty() {
            self.stats.ignored += 1;
            self.remember_leg(call_id, msg, &sdp, src, now);
            return;
        }
        self.on_untracked_target(call_id, msg, &sdp, src, now, matches, out);
    }

    /// The call an RTP or RTCP packet from `src` to `dst` belongs to: the call with a flow
    /// bound at `dst`, else at `src` (symmetric RTP). Records the packet time for the
    /// inactivity timeout. A packet from a NAT'd party's public address to the other
    /// party's flow may latch its source (see the [module docs](self)); the flow's
    /// [`CallEvent::MediaBound`] comes with the next [`CallTracker::on_sip`] or
    /// [`CallTracker::on_timer`]. No allocation, but for such a latch.
    pub fn on_media(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        now: Timestamp,
    ) -> Option<MediaMatch> {
        if self.flows.is_empty() {
            return None;
        }
        let (entry, by_source) = match self.flows.get_mut(&FlowKey::of(dst)) {
            Some(e) => (e, false),
            None => (self.flows.get_mut(&FlowKey::of(src))?, true),
        };
        // What goes to or comes from a target's own media address is the target's. On the
        // other party's address, the other end must be the target's side: one of its
        // addresses (any port: asymmetric RTP, a NAT changing ports), or anything while
        // none is known yet (RTP that overtook the answer's SDP). A third host talking with
        // the other party's port (a media server or SFU sharing one port among sessions, a
        // scanner, a spoofer) is not the call.
        let other = if by_source { dst.ip() } else { src.ip() };
        let is_call = match entry.peer.admits(other) {
            Some(admitted) => admitted,
            // Rare: a party with more addresses than an entry keeps.
            None => self.calls.get(&entry.call).is_some_and(|call| {
                let key = PackedIp::of(other);
                call.flows.iter().any(|f| {
                    f.party == entry.flow.party.other() && PackedIp::of(f.addr.ip()) == key
                })
            }),
        };
        if !is_call {
            self.stats.media_foreign += 1;
            return None;
        }
        if now > entry.last_seen {
            entry.last_seen = now;
        }
        let sender = if by_source {
            entry.flow.party
        } else {
            entry.flow.party.other()
        };
        let hit = MediaMatch {
            call: CallHandle(entry.call),
            sender,
            stream: entry.flow.stream,
            kind: entry.flow.kind,
        };
        if entry.latch && !by_source {
            let (call, flow) = (entry.call, entry.flow);
            self.latch(call, flow, src, now);
        }
        Some(hit)
    }

    /// Whether `dst`, else `src`, is a bound media address: what [`CallTracker::on_media`]
    /// would look at, without its effects (a caller deciding whether to keep the first
    /// fragment of a datagram asks this; the whole datagram then goes to `on_media`).
    pub fn is_media(&self, src: SocketAddr, dst: SocketAddr) -> bool {
        !self.flows.is_empty()
            && (self.flows.contains_key(&FlowKey::of(dst))
                || self.flows.contains_key(&FlowKey::of(src)))
    }

    /// The time by which [`CallTracker::on_timer`] should be called (it may find nothing
    /// due then: activity moves deadlines later).
    pub fn next_timeout(&self) -> Option<Timestamp> {
        self.timers.peek().map(|Reverse((t, _))| *t)
    }

    /// Ends the calls whose timeout passed at `now` (inactivity, an unanswered BYE or
    /// CANCEL) and forgets ended calls whose linger time passed.
    pub fn on_timer(&mut self, now: Timestamp, out: &mut Vec<CallEvent>) {
        if !self.queued.is_empty() {
            out.append(&mut self.queued);
        }
        self.expire_pending(now);
        while let Some(&Reverse((due, handle))) = self.timers.peek() {
            if due > now {
                break;
            }
            self.timers.pop();
            let Some(actual) = self.deadline(handle) else {
                continue; // gone
            };
            if actual > now {
                self.timers.push(Reverse((actual, handle)));
                continue;
            }
            self.expire(handle, now, out);
        }
    }

    // ---- the tracked path ----

    #[allow(clippy::too_many_arguments)]
    fn on_tracked(
        &mut self,
        handle: u64,
        call_id: &str,
        msg: &SipMessage<'_>,
        sdp: &SdpBody<'_, '_>,
        src: SocketAddr,
        now: Timestamp,
        matches: &[TargetMatch<'_>],
        first: bool,
        out: &mut Vec<CallEvent>,
    ) {
        let config_nat = self.config.bind_signalling_source;
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        call.last_signal = call.last_signal.max(now);
        // The Call-ID index led here: with one leg, it is that leg (no string compare, one
        // cache miss less on a large table).
        let leg_index = match call.legs.len() {
            1 => 0,
            _ => match call.legs.iter().position(|l| &*l.call_id == call_id) {
                Some(i) => i,
                None => return,
            },
        };
        if call.legs.get(leg_index).is_some_and(|l| l.closed) {
            self.stats.late_messages += 1;
            return;
        }
        let sides_changed = note_targets(call, leg_index, msg, matches);
        let mut outcome = match call.legs.get_mut(leg_index) {
            Some(leg) => leg.apply(
                msg,
                sdp,
                src,
                config_nat,
                &mut self.scratch_sdp,
                &mut self.stats,
            ),
            None => return,
        };
        if outcome.ended.is_some() {
            if let Some(leg) = call.legs.get_mut(leg_index) {
                leg.closed = true;
            }
            if call.legs.iter().all(|l| l.closed) {
                outcome.iri = IriType::End;
            } else {
                outcome.iri = IriType::Continue;
                outcome.ended = None;
            }
            outcome.media_changed = true;
        }
        // The deadline moves earlier: the timer heap needs an entry for it.
        let is_closing = closing(call);
        let now_closing = is_closing && call.closing_since.is_none();
        if now_closing {
            call.closing_since = Some(now);
        } else if !is_closing {
            // A 2xx that crossed a CANCEL: the call goes on.
            call.closing_since = None;
        }
        if first {
            outcome.iri = IriType::Begin;
        }
        out.push(CallEvent::Sip {
            call: CallHandle(handle),
            iri: outcome.iri,
        });
        if let Some(reason) = outcome.ended {
            self.finish(handle, reason, now, out);
            return;
        }
        if now_closing {
            self.push_timer(handle);
        }
        if outcome.media_changed {
            // Before the media: a leg tied by the origin brings its caller's flows.
            self.index_origins(handle, sdp, now);
            self.sync_media(handle, now, out);
        } else if sides_changed {
            // A party became a target's: its flows now admit any other end.
            self.refresh_entries(handle);
        }
    }

    /// A message matching a target, of no tracked call.
    #[allow(clippy::too_many_arguments)]
    fn on_untracked_target(
        &mut self,
        call_id: &str,
        msg: &SipMessage<'_>,
        sdp: &SdpBody<'_, '_>,
        src: SocketAddr,
        now: Timestamp,
        matches: &[TargetMatch<'_>],
        out: &mut Vec<CallEvent>,
    ) {
        let method = msg.method();
        let has_to_tag = msg.to().and_then(|t| t.tag()).is_some();
        let starts_call = match (msg.is_request(), method) {
            (true, Some(Method::Invite)) => true,
            (
                true,
                Some(Method::Bye | Method::Update | Method::Info | Method::Prack | Method::Ack),
            ) => has_to_tag,
            (false, Some(Method::Invite)) => {
                has_to_tag && msg.status().is_some_and(|s| s > 100 && s < 300)
            }
            _ => false,
        };
        if !starts_call {
            self.stats.reports += 1;
            let kind = if method == Some(Method::Register) {
                ReportKind::Registration
            } else {
                ReportKind::Other
            };
            out.push(CallEvent::Report {
                kind,
                late_of: None,
            });
            return;
        }
        if self.calls.len() >= self.config.max_calls.max(1) {
            self.evict_one(now, out);
        }
        let handle = self.slots.allocate();
        let mut leg = Leg::new(call_id, msg);
        if has_to_tag {
            // First seen mid-call: the dialog exists already.
            if let Some(tag) = msg.to().and_then(|t| t.tag()) {
                let state = if msg.is_request() || msg.status().is_some_and(|s| s >= 200) {
                    DialogState::Confirmed
                } else {
                    DialogState::Early
                };
                leg.dialogs.push(Dialog {
                    tag: tag.into(),
                    state,
                    media: Vec::new(),
                });
            }
        }
        self.calls.insert(
            handle,
            Call {
                legs: vec![leg],
                flows: Vec::new(),
                origins: Vec::new(),
                latches: Vec::new(),
                last_signal: now,
                closing_since: None,
                closed_at: None,
                target_is_caller: false,
                target_is_callee: false,
            },
        );
        self.by_call_id.insert(call_id.into(), handle);
        self.stats.calls_begun += 1;
        self.push_timer(handle);
        self.on_tracked(handle, call_id, msg, sdp, src, now, matches, true, out);
    }

    /// The tracked call whose party's SDP origin this INVITE carries.
    fn leg_of(&mut self, sdp: &SdpBody<'_, '_>) -> Option<u64> {
        if !write_origin_key(sdp.origin(), &mut self.origin_key) {
            return None;
        }
        let handle = *self.by_origin.get(self.origin_key.as_str())?;
        self.calls
            .get(&handle)
            .filter(|c| c.closed_at.is_none() && c.legs.len() < MAX_LEGS)
            .map(|_| handle)
    }

    fn index_origins(&mut self, handle: u64, sdp: &SdpBody<'_, '_>, now: Timestamp) {
        if !self.config.correlate_legs {
            return;
        }
        if !write_origin_key(sdp.origin(), &mut self.origin_key) {
            return;
        }
        if self.by_origin.contains_key(self.origin_key.as_str()) {
            return;
        }
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        // Two parties per leg; a bound against a body changing its origin on every offer.
        if call.origins.len() >= 2 * call.legs.len() + 2 {
            return;
        }
        let key: Box<str> = self.origin_key.as_str().into();
        call.origins.push(key.clone());
        self.by_origin.insert(key, handle);
        self.tie_pending(handle, now);
    }

    /// Remembers an INVITE of no tracked call and no target by its SDP origin, for a
    /// target's leg seen later (see the module docs).
    fn remember_leg(
        &mut self,
        call_id: &str,
        msg: &SipMessage<'_>,
        sdp: &SdpBody<'_, '_>,
        src: SocketAddr,
        now: Timestamp,
    ) {
        let max = self.config.max_pending_legs;
        if max == 0
            || !self.config.correlate_legs
            || !msg.is_request()
            || msg.method() != Some(Method::Invite)
            || msg.to().and_then(|t| t.tag()).is_some()
        {
            return;
        }
        if !write_origin_key(sdp.origin(), &mut self.origin_key) {
            return;
        }
        self.expire_pending(now);
        let hash = self.origin_hasher.hash_one(&self.origin_key);
        if self
            .pending
            .get(&hash)
            .is_some_and(|v| v.iter().any(|p| p.call_id() == call_id))
        {
            return; // a retransmission
        }
        // A new one: its flows are remembered with it.
        let Some(Ok(parsed)) = sdp.get() else {
            return;
        };
        while self.pending_count >= max {
            let Some((_, h, seq)) = self.pending_order.pop_front() else {
                break;
            };
            if self.drop_pending(h, seq) {
                self.stats.pending_legs_evicted += 1;
            }
        }
        let mut media = std::mem::take(&mut self.scratch_sdp);
        media.clear();
        sdp_flows(
            parsed,
            Party::Caller,
            src,
            self.config.bind_signalling_source,
            &mut media,
        );
        let tag = msg.from().and_then(|f| f.tag());
        let (Ok(origin_end), Ok(call_id_end)) = (
            u32::try_from(self.origin_key.len()),
            u32::try_from(self.origin_key.len() + call_id.len()),
        ) else {
            return;
        };
        let mut text =
            String::with_capacity(self.origin_key.len() + call_id.len() + tag.map_or(0, str::len));
        text.push_str(&self.origin_key);
        text.push_str(call_id);
        text.push_str(tag.unwrap_or_default());
        let seq = self.pending_seq;
        self.pending_seq += 1;
        let leg = PendingLeg {
            text: text.into_boxed_str(),
            origin_end,
            call_id_end,
            has_tag: tag.is_some(),
            invite_cseq: msg.cseq().map_or(0, |c| c.number),
            branch: Branch::of(msg),
            media: media.to_vec(),
            seen: now,
            seq,
        };
        self.scratch_sdp = media;
        let list = self.pending.entry(hash).or_default();
        if list.is_empty() {
            list.reserve_exact(1); // most origins are one leg's
        }
        list.push(leg);
        self.pending_order.push_back((now, hash, seq));
        self.pending_count += 1;
    }

    /// Forgets remembered INVITEs older than [`CallConfig::pending_leg_ttl`].
    fn expire_pending(&mut self, now: Timestamp) {
        let ttl = self.config.pending_leg_ttl;
        while let Some(&(seen, h, seq)) = self.pending_order.front() {
            if seen.checked_add(ttl).is_some_and(|t| t >= now) {
                break;
            }
            self.pending_order.pop_front();
            self.drop_pending(h, seq);
        }
    }

    /// Removes one remembered INVITE; false if it was gone (tied to a call meanwhile).
    fn drop_pending(&mut self, hash: u64, seq: u64) -> bool {
        // One lookup: the table is large and sparse, each costs a cache miss.
        let Entry::Occupied(mut list) = self.pending.entry(hash) else {
            return false;
        };
        let before = list.get().len();
        list.get_mut().retain(|p| p.seq != seq);
        let dropped = list.get().len() < before;
        if list.get().is_empty() {
            list.remove();
        }
        if dropped {
            self.pending_count -= 1;
        }
        dropped
    }

    /// Ties to the call the remembered INVITEs carrying the origin in `self.origin_key`
    /// (just indexed for it): from now on they are legs of the call.
    fn tie_pending(&mut self, handle: u64, now: Timestamp) {
        if self.pending_count == 0 {
            return;
        }
        let hash = self.origin_hasher.hash_one(&self.origin_key);
        let Some(mut list) = self.pending.remove(&hash) else {
            return;
        };
        let ttl = self.config.pending_leg_ttl;
        let before = list.len();
        let key = self.origin_key.as_str();
        let mut kept = Vec::new();
        for p in list.drain(..) {
            let fresh = p.seen.checked_add(ttl).is_some_and(|t| t >= now);
            let tracked = self.by_call_id.contains_key(p.call_id());
            let Some(call) = self.calls.get_mut(&handle) else {
                kept.push(p);
                continue;
            };
            if p.origin() != key || !fresh || tracked || call.legs.len() >= MAX_LEGS {
                // Another origin with the same hash, or one that can no longer be tied.
                if p.origin() != key {
                    kept.push(p);
                }
                continue;
            }
            self.stats.legs_correlated += 1;
            let call_id: Box<str> = p.call_id().into();
            self.by_call_id.insert(call_id.clone(), handle);
            call.legs.push(Leg {
                call_id,
                caller_tag: p.caller_tag().map(Into::into),
                invite_cseq: p.invite_cseq,
                invite_seen: true,
                cancelled: false,
                closed: false,
                caller_media: p.media,
                dialogs: Vec::new(),
                branch: p.branch,
                more: None,
            });
        }
        self.pending_count -= before - kept.len();
        if !kept.is_empty() {
            self.pending.insert(hash, kept);
        }
    }

    /// Binds `src` as a flow of the party behind a NAT whose media reached `hit` (a flow
    /// of the other party) from its public address: the latch (see the module docs).
    // Rare (once per stream of a NAT'd party): kept out of `on_media`'s code.
    #[cold]
    #[inline(never)]
    fn latch(&mut self, handle: u64, hit: BoundFlow, src: SocketAddr, now: Timestamp) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let party = hit.party.other();
        let Some(anchor) = call
            .flows
            .iter()
            .find(|g| {
                g.source == FlowSource::SignallingPeer
                    && g.party == party
                    && g.stream == hit.stream
                    && g.addr.ip() == src.ip()
            })
            .map(|g| g.addr)
        else {
            return; // not from the signalling peer's address: never latched
        };
        let flow = MediaFlow {
            addr: src,
            party,
            stream: hit.stream,
            kind: hit.kind,
            source: FlowSource::Latched,
        };
        let key = FlowKey::of(src);
        match self.flows.get(&key) {
            // Another call's binding is not taken by a latch.
            Some(e) if e.call != handle => return,
            // Bound already (a NAT keeping ports): nothing to add, the latch is done.
            Some(_) => call.latches.push((flow, anchor)),
            None if self.flows.len() >= self.config.max_flows => {
                self.stats.flows_refused += 1;
                return;
            }
            None => {
                self.flows.insert(
                    key,
                    FlowEntry {
                        call: handle,
                        flow: BoundFlow::of(&flow),
                        last_seen: now,
                        latch: false,
                        peer: Peer::Any,
                    },
                );
                call.flows.push(flow);
                call.latches.push((flow, anchor));
                self.stats.latched += 1;
                self.queued.push(CallEvent::MediaBound {
                    call: CallHandle(handle),
                    flow,
                });
            }
        }
        self.refresh_entries(handle);
    }

    /// Brings the derived fields of the call's flow entries in line with its flows and
    /// target sides: [`FlowEntry::peer`], and [`FlowEntry::latch`] on the flows that may
    /// still latch a flow of the other party (behind a NAT, not latched yet for that
    /// stream and kind). Called whenever either changes.
    fn refresh_entries(&mut self, handle: u64) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let nat = call.closed_at.is_none()
            && call
                .flows
                .iter()
                .any(|g| g.source == FlowSource::SignallingPeer);
        let (caller_peer, callee_peer) =
            (Peer::of(call, Party::Caller), Peer::of(call, Party::Callee));
        for f in &call.flows {
            let peer = f.party.other();
            let latch =
                nat && call.flows.iter().any(|g| {
                    g.source == FlowSource::SignallingPeer
                        && g.party == peer
                        && g.stream == f.stream
                }) && !call
                    .latches
                    .iter()
                    .any(|(l, _)| l.party == peer && l.stream == f.stream && l.kind == f.kind);
            if let Some(e) = self.flows.get_mut(&FlowKey::of(f.addr))
                && e.call == handle
            {
                e.latch = latch;
                e.peer = match f.party {
                    Party::Caller => caller_peer,
                    Party::Callee => callee_peer,
                };
            }
        }
    }

    /// Brings the call's bound flows in line with what its legs' SDPs name now.
    fn sync_media(&mut self, handle: u64, now: Timestamp, out: &mut Vec<CallEvent>) {
        let mut desired = std::mem::take(&mut self.scratch_flows);
        desired.clear();
        let Some(call) = self.calls.get_mut(&handle) else {
            self.scratch_flows = desired;
            return;
        };
        if call.closed_at.is_none() {
            for leg in call.legs.iter().filter(|l| !l.closed) {
                leg.desired_flows(&mut desired);
            }
        }
        // A latch lasts while the address it was latched for is wanted.
        call.latches.retain(|(_, anchor)| {
            desired
                .iter()
                .any(|d| d.addr == *anchor && d.source == FlowSource::SignallingPeer)
        });
        for (latched, _) in &call.latches {
            push_unique(&mut desired, std::slice::from_ref(latched));
        }
        // Release what is no longer wanted.
        let mut released = std::mem::take(&mut self.scratch_released);
        released.clear();
        call.flows.retain(|f| {
            let keep = desired.contains(f);
            if !keep {
                released.push(*f);
            }
            keep
        });
        for flow in released.drain(..) {
            let key = FlowKey::of(flow.addr);
            if self
                .flows
                .get(&key)
                .is_some_and(|e| e.call == handle && e.flow.is(&flow))
            {
                self.flows.remove(&key);
            }
            out.push(CallEvent::MediaReleased {
                call: CallHandle(handle),
                flow,
            });
        }
        // Bind what is new.
        for flow in desired.iter().copied() {
            let key = FlowKey::of(flow.addr);
            let mut stale = None;
            let Some(call) = self.calls.get(&handle) else {
                break;
            };
            if call.flows.iter().any(|f| f.addr == flow.addr) {
                continue; // bound, or the same address already bound for another stream
            }
            match self.flows.get(&key).copied() {
                // The same key bound for this call: an IPv4 address and its IPv4-mapped
                // IPv6 form.
                Some(e) if e.call == handle => continue,
                // A latch takes no other call's binding.
                Some(_) if flow.source == FlowSource::Latched => continue,
                Some(e) => {
                    // A port reused by a new call: the other call's binding is stale.
                    if let Some(other) = self.calls.get_mut(&e.call) {
                        other
                            .flows
                            .retain(|f| FlowKey::of(f.addr) != key || !e.flow.is(f));
                    }
                    out.push(CallEvent::MediaReleased {
                        call: CallHandle(e.call),
                        flow: e.flow.media_flow(key),
                    });
                    stale = Some(e.call);
                }
                None if self.flows.len() >= self.config.max_flows => {
                    self.stats.flows_refused += 1;
                    continue;
                }
                None => {}
            }
            self.flows.insert(
                key,
                FlowEntry {
                    call: handle,
                    flow: BoundFlow::of(&flow),
                    last_seen: now,
                    latch: false,
                    peer: Peer::Any,
                },
            );
            if let Some(call) = self.calls.get_mut(&handle) {
                call.flows.push(flow);
            }
            out.push(CallEvent::MediaBound {
                call: CallHandle(handle),
                flow,
            });
            if let Some(other) = stale {
                // Its remaining flows' peers lost this address.
                self.refresh_entries(other);
            }
        }
        self.scratch_flows = desired;
        self.scratch_released = released;
        self.refresh_entries(handle);
    }

    /// Ends a call: flows released, End emitted, its Call-IDs kept for the linger time.
    fn finish(
        &mut self,
        handle: u64,
        reason: CallEndReason,
        now: Timestamp,
        out: &mut Vec<CallEvent>,
    ) {
        if let Some(call) = self.calls.get_mut(&handle) {
            call.closed_at = Some(now);
        }
        self.sync_media(handle, now, out);
        if let Some(call) = self.calls.get_mut(&handle) {
            for key in call.origins.drain(..) {
                if self.by_origin.get(&key) == Some(&handle) {
                    self.by_origin.remove(&key);
                }
            }
            call.legs.iter_mut().for_each(|l| {
                l.dialogs = Vec::new();
                l.caller_media = Vec::new();
            });
        }
        self.stats.calls_ended += 1;
        out.push(CallEvent::End {
            call: CallHandle(handle),
            reason,
        });
        self.push_timer(handle);
    }

    /// Removes a call's state entirely (after its linger time, or to reuse its Call-ID).
    fn forget_call(&mut self, handle: u64) {
        if let Some(call) = self.calls.remove(&handle) {
            self.slots.release(handle);
            for leg in &call.legs {
                if self.by_call_id.get(&*leg.call_id) == Some(&handle) {
                    self.by_call_id.remove(&*leg.call_id);
                }
            }
            for key in &call.origins {
                if self.by_origin.get(key) == Some(&handle) {
                    self.by_origin.remove(key);
                }
            }
            for flow in &call.flows {
                let key = FlowKey::of(flow.addr);
                if self.flows.get(&key).is_some_and(|e| e.call == handle) {
                    self.flows.remove(&key);
                }
            }
        }
    }

    fn expire(&mut self, handle: u64, now: Timestamp, out: &mut Vec<CallEvent>) {
        let Some(call) = self.calls.get(&handle) else {
            return;
        };
        if call.closed_at.is_some() {
            self.forget_call(handle);
            return;
        }
        let bye_sent = call
            .legs
            .iter()
            .filter(|l| !l.closed)
            .flat_map(|l| &l.dialogs)
            .any(|d| d.state == DialogState::Terminating);
        let quiet = self
            .activity(handle)
            .and_then(|t| t.checked_add(self.config.inactivity_timeout))
            .is_some_and(|d| d <= now);
        let reason = if bye_sent && !quiet {
            CallEndReason::ByeUnanswered
        } else {
            self.stats.timed_out += 1;
            CallEndReason::Timeout
        };
        self.finish(handle, reason, now, out);
    }

    fn evict_one(&mut self, now: Timestamp, out: &mut Vec<CallEvent>) {
        while let Some(Reverse((_, handle))) = self.timers.pop() {
            let Some(actual) = self.deadline(handle) else {
                continue;
            };
            if let Some(&Reverse((next, _))) = self.timers.peek()
                && actual > next
            {
                // Not the earliest after all: put it back where it belongs.
                self.timers.push(Reverse((actual, handle)));
                continue;
            }
            let lingering = self
                .calls
                .get(&handle)
                .is_some_and(|c| c.closed_at.is_some());
            if !lingering {
                self.stats.evicted += 1;
                self.finish(handle, CallEndReason::Evicted, now, out);
            }
            self.forget_call(handle);
            return;
        }
    }

    /// The last SIP message or media packet of a call.
    fn activity(&self, handle: u64) -> Option<Timestamp> {
        let call = self.calls.get(&handle)?;
        let media = call
            .flows
            .iter()
            .filter_map(|f| self.flows.get(&FlowKey::of(f.addr)))
            .filter(|e| e.call == handle)
            .map(|e| e.last_seen)
            .max();
        Some(media.map_or(call.last_signal, |m| m.max(call.last_signal)))
    }

    /// When the call times out (or, ended, is forgotten).
    fn deadline(&self, handle: u64) -> Option<Timestamp> {
        let call = self.calls.get(&handle)?;
        let linger = self.config.linger;
        if let Some(closed) = call.closed_at {
            return Some(closed.checked_add(linger).unwrap_or(Timestamp::MAX));
        }
        let idle = self
            .activity(handle)?
            .checked_add(self.config.inactivity_timeout)
            .unwrap_or(Timestamp::MAX);
        let closing = call
            .closing_since
            .map(|t| t.checked_add(linger).unwrap_or(Timestamp::MAX));
        Some(closing.map_or(idle, |c| c.min(idle)))
    }

    fn push_timer(&mut self, handle: u64) {
        if let Some(deadline) = self.deadline(handle) {
            self.timers.push(Reverse((deadline, handle)));
        }
        // Stale entries accumulate for calls that ended early; rebuild once they dominate.
        if self.timers.len() > 2 * self.calls.len() + 1024 {
            let live: Vec<_> = self
                .calls
                .keys()
                .filter_map(|&h| self.deadline(h).map(|d| Reverse((d, h))))
                .collect();
            self.timers = BinaryHeap::from(live);
        }
    }
}

/// Whether `msg` is a new INVITE on the Call-ID of an ended call (a retry with a higher
/// CSeq), which starts a new call rather than being absorbed.
fn is_new_attempt(call: Option<&Call>, call_id: &str, msg: &SipMessage<'_>) -> bool {
    let Some(leg) = call.and_then(|c| c.legs.iter().find(|l| &*l.call_id == call_id)) else {
        return true;
    };
    msg.is_request()
        && msg.method() == Some(Method::Invite)
        && msg.to().and_then(|t| t.tag()).is_none()
        && msg.cseq().is_some_and(|c| c.number > leg.invite_cseq)
}

/// Records which party a target is, from where the matches were found.
fn note_targets(
    call: &mut Call,
    leg_index: usize,
    msg: &SipMessage<'_>,
    matches: &[TargetMatch<'_>],
) -> bool {
    if matches.is_empty() {
        return false;
    }
    let Some(leg) = call.legs.get(leg_index) else {
        return false;
    };
    let from_party = leg.party_of_from(msg);
    let mut changed = false;
    for m in matches {
        let side = match named_party(from_party, msg, m.source) {
            Party::Caller => &mut call.target_is_caller,
            Party::Callee => &mut call.target_is_callee,
        };
        changed |= !*side;
        *side = true;
    }
    changed
}

/// The party an identity found at `source` in `msg` names, `from_party` being the party
/// its From names.
fn named_party(from_party: Party, msg: &SipMessage<'_>, source: IdentitySource) -> Party {
    match source {
        IdentitySource::From
        | IdentitySource::PPreferredIdentity
        | IdentitySource::Authorization
        | IdentitySource::ProxyAuthorization
        | IdentitySource::Contact => from_party,
        IdentitySource::PAssertedIdentity if msg.is_request() => from_party,
        _ => from_party.other(),
    }
}

/// Whether every open leg waits for its end (BYE or CANCEL sent).
fn closing(call: &Call) -> bool {
    call.legs.iter().filter(|l| !l.closed).all(|l| {
        l.cancelled
            || (!l.dialogs.is_empty()
                && l.dialogs
                    .iter()
                    .all(|d| d.state == DialogState::Terminating))
    })
}

impl Leg {
    /// The party a message's From names: From names the sender of the request (of this
    /// transaction); To the other party.
    fn party_of_from(&self, msg: &SipMessage<'_>) -> Party {
        if msg.from().and_then(|f| f.tag()) == self.caller_tag.as_deref() {
            Party::Caller
        } else {
            Party::Callee
        }
    }

    fn new(call_id: &str, msg: &SipMessage<'_>) -> Self {
        Self {
            call_id: call_id.into(),
            caller_tag: msg.from().and_then(|f| f.tag()).map(Into::into),
            invite_cseq: msg.cseq().map_or(0, |c| c.number),
            invite_seen: false,
            cancelled: false,
            closed: false,
            caller_media: Vec::new(),
            dialogs: Vec::new(),
            branch: None,
            more: None,
        }
    }

    /// Records the client transaction of an INVITE of `invite_cseq`; true if it is one
    /// not seen before (a hop or a fork, not a retransmission).
    fn note_branch(&mut self, msg: &SipMessage<'_>) -> bool {
        let Some(branch) = Branch::of(msg) else {
            return false;
        };
        let known = self.branch.is_some_and(|b| b.id == branch.id)
            || self
                .more
                .as_ref()
                .is_some_and(|m| m.branches.iter().any(|b| b.id == branch.id));
        if known {
            return false;
        }
        if self.branch.is_none() {
            self.branch = Some(branch);
        } else {
            let more = self.more.get_or_insert_with(Box::default);
            if more.branches.len() + 1 < MAX_BRANCHES {
                more.branches.push(branch);
            }
        }
        true
    }

    /// Forgets the client transactions (a new INVITE attempt).
    fn clear_branches(&mut self) {
        self.branch = None;
        if let Some(more) = self.more.as_mut() {
            more.branches.clear();
        }
    }

    /// A failure of the INVITE of `invite_cseq`, as `msg` (its Vias) says: false if it is
    /// the final one of the transaction the probe sees furthest upstream (no transaction
    /// as far up or further still waits), true if it is one fork's failure and another
    /// hop or fork of the INVITE still waits for its final response.
    fn other_forks_wait(&mut self, msg: &SipMessage<'_>) -> bool {
        let Some(failed) = Branch::of(msg) else {
            return false;
        };
        let more: &mut [Branch] = match self.more.as_deref_mut() {
            Some(m) => &mut m.branches,
            None => &mut [],
        };
        let mut waiting = false;
        for b in self.branch.iter_mut().chain(more.iter_mut()) {
            if b.id == failed.id {
                b.failed = true;
            }
            waiting |= !b.failed && b.depth <= failed.depth;
        }
        waiting
    }

    /// Records an offer the sender's media replaced `previous` for.
    fn note_offer(&mut self, party: Party, cseq: u32, update: bool, previous: Vec<MediaFlow>) {
        let offers = &mut self.more.get_or_insert_with(Box::default).offers;
        match offers.iter_mut().find(|o| o.party == party) {
            // Still waiting: its media before stay those to put back.
            Some(o) if o.cseq == cseq && o.update == update => {}
            Some(o) => {
                *o = Offer {
                    party,
                    cseq,
                    update,
                    previous,
                };
            }
            None => offers.push(Offer {
                party,
                cseq,
                update,
                previous,
            }),
        }
    }

    /// A final response to a re-INVITE or UPDATE: a 2xx keeps its offer's media, a
    /// failure puts the media from before it back (RFC 3261 14.1, RFC 3311 5.2). True if
    /// media were put back.
    fn settle_offer(&mut self, msg: &SipMessage<'_>, status: u16, update: bool) -> bool {
        if self.more.as_ref().is_none_or(|m| m.offers.is_empty()) {
            return false;
        }
        let Some(cseq) = msg.cseq() else {
            return false;
        };
        let offerer = self.sender(msg).0.other();
        let Some(offers) = self.more.as_mut().map(|m| &mut m.offers) else {
            return false;
        };
        let Some(pos) = offers
            .iter()
            .position(|o| o.party == offerer && o.cseq == cseq.number && o.update == update)
        else {
            return false;
        };
        let offer = offers.swap_remove(pos);
        if status < 300 {
            return false;
        }
        let slot = match offerer {
            Party::Caller => Some(&mut self.caller_media),
            Party::Callee => match self.dialog_tag(msg) {
                Some(tag) => self.dialog_mut(tag, None).map(|d| &mut d.media),
                None => None,
            },
        };
        match slot {
            Some(slot) => {
                *slot = offer.previous;
                true
            }
            None => false,
        }
    }

    /// The party that sent `msg` and, for the callee, its dialog tag.
    fn sender<'m>(&self, msg: &SipMessage<'m>) -> (Party, Option<&'m str>) {
        let tag = if msg.is_request() {
            msg.from().and_then(|f| f.tag())
        } else {
            msg.to().and_then(|t| t.tag())
        };
        if tag == self.caller_tag.as_deref() {
            (Party::Caller, None)
        } else {
            (Party::Callee, tag)
        }
    }

    /// The callee tag of the dialog a message is in.
    fn dialog_tag<'m>(&self, msg: &SipMessage<'m>) -> Option<&'m str> {
        let from = msg.from().and_then(|f| f.tag());
        if from == self.caller_tag.as_deref() {
            msg.to().and_then(|t| t.tag())
        } else {
            from
        }
    }

    fn dialog_mut(&mut self, tag: &str, create: Option<DialogState>) -> Option<&mut Dialog> {
        let pos = match self.dialogs.iter().position(|d| &*d.tag == tag) {
            Some(pos) => pos,
            None => {
                let state = create?;
                // A bound on forks: a hostile peer answering with ever new tags.
                if self.dialogs.len() >= MAX_DIALOGS {
                    return None;
                }
                self.dialogs.push(Dialog {
                    tag: tag.into(),
                    state,
                    media: Vec::new(),
                });
                self.dialogs.len() - 1
            }
        };
        self.dialogs.get_mut(pos)
    }

    /// Applies one message to the leg's state (`flows`: a scratch buffer).
    fn apply(
        &mut self,
        msg: &SipMessage<'_>,
        sdp: &SdpBody<'_, '_>,
        src: SocketAddr,
        nat: bool,
        flows: &mut Vec<MediaFlow>,
        stats: &mut CallStats,
    ) -> Outcome {
        let mut outcome = Outcome {
            iri: IriType::Continue,
            ended: None,
            media_changed: false,
        };
        let cseq = msg.cseq();
        let method = msg.method();
        let answered = self.dialogs.iter().any(|d| d.state != DialogState::Early);
        let mut takes_sdp = false;
        // An offer that may fail: (CSeq number, UPDATE rather than re-INVITE).
        let mut offer = None;
        if msg.is_request() {
            match method {
                Some(Method::Invite) if msg.to().and_then(|t| t.tag()).is_none() => {
                    let number = cseq.map_or(0, |c| c.number);
                    if number > self.invite_cseq {
                        // A new attempt (credentials after a challenge): new transactions.
                        self.invite_cseq = number;
                        self.invite_seen = false;
                        self.clear_branches();
                    }
                    if number == self.invite_cseq {
                        // The same INVITE through another hop or fork is no retransmission.
                        let new_branch = self.note_branch(msg);
                        if self.invite_seen && !new_branch {
                            stats.retransmissions += 1;
                        }
                    }
                    self.invite_seen = true;
                    takes_sdp = true;
                }
                Some(Method::Invite | Method::Update) => {
                    takes_sdp = true;
                    offer = cseq.map(|c| (c.number, method == Some(Method::Update)));
                }
                Some(Method::Prack | Method::Ack) => {
                    takes_sdp = true;
                }
                Some(Method::Bye) => {
                    let tag = self.dialog_tag(msg);
                    match tag.and_then(|t| self.dialog_mut(t, Some(DialogState::Terminating))) {
                        Some(d) => d.state = DialogState::Terminating,
                        None => self
                            .dialogs
                            .iter_mut()
                            .for_each(|d| d.state = DialogState::Terminating),
                    }
                    outcome.media_changed = true;
                }
                Some(Method::Cancel) => self.cancelled = true,
                _ => {}
            }
        } else {
            let status = msg.status().unwrap_or(0);
            let tag = msg.to().and_then(|t| t.tag());
            let to_initial = cseq.is_some_and(|c| c.number == self.invite_cseq);
            if status >= 200
                && matches!(method, Some(Method::Invite | Method::Update))
                && self.settle_offer(msg, status, method == Some(Method::Update))
            {
                stats.offers_refused += 1;
                outcome.media_changed = true;
            }
            match method {
                Some(Method::Invite) if (101..200).contains(&status) => {
                    // A new early dialog may bring the caller's media back (every other
                    // dialog terminating); a known one changes nothing without an SDP.
                    if let (Party::Callee, Some(tag)) = self.sender(msg)
                        && !self.dialogs.iter().any(|d| &*d.tag == tag)
                        && self.dialog_mut(tag, Some(DialogState::Early)).is_some()
                    {
                        outcome.media_changed = true;
                    }
                    takes_sdp = true;
                }
                Some(Method::Invite) if (200..300).contains(&status) => {
                    let (party, _) = self.sender(msg);
                    if party == Party::Callee
                        && let Some(tag) = tag
                    {
                        // A CANCEL that crossed this 2xx cancels nothing (RFC 3261 9.2).
                        self.cancelled = false;
                        if let Some(d) = self.dialog_mut(tag, Some(DialogState::Confirmed))
                            && d.state == DialogState::Early
                        {
                            d.state = DialogState::Confirmed;
                        }
                        if !answered && to_initial {
                            // The answered fork survives; the other early dialogs end.
                            self.dialogs
                                .retain(|d| &*d.tag == tag || d.state != DialogState::Early);
                        }
                        outcome.media_changed = true;
                    }
                    takes_sdp = true;
                }
                // A failure of a re-INVITE, or a challenge, leaves the call as it is.
                Some(Method::Invite)
                    if status >= 300
                        && !answered
                        && to_initial
                        && status != 401
                        && status != 407 =>
                {
                    if self.other_forks_wait(msg) {
                        // One fork failed: its early dialog and media go, the call waits
                        // for the others.
                        stats.forks_failed += 1;
                        if let Some(tag) = tag {
                            let before = self.dialogs.len();
                            self.dialogs
                                .retain(|d| &*d.tag != tag || d.state != DialogState::Early);
                            outcome.media_changed |= self.dialogs.len() < before;
                        }
                    } else {
                        outcome.ended = Some(if self.cancelled || status == 487 {
                            CallEndReason::Cancelled
                        } else {
                            CallEndReason::Rejected { status }
                        });
                    }
                }
                Some(Method::Bye) if status >= 200 => {
                    let dtag = self.dialog_tag(msg);
                    let before = self.dialogs.len();
                    match dtag {
                        Some(t) if self.dialogs.iter().any(|d| &*d.tag == t) => {
                            self.dialogs.retain(|d| &*d.tag != t);
                        }
                        _ => self.dialogs.retain(|d| d.state != DialogState::Terminating),
                    }
                    if before > 0 && self.dialogs.is_empty() {
                        outcome.ended = Some(CallEndReason::Bye);
                    }
                    outcome.media_changed = true;
                }
                _ => {}
            }
        }
        if takes_sdp && let Some(sdp) = sdp.get() {
            match sdp {
                Ok(sdp) => {
                    let (party, tag) = self.sender(msg);
                    flows.clear();
                    sdp_flows(sdp, party, src, nat, flows);
                    let slot = match (party, tag) {
                        (Party::Caller, _) => Some(&mut self.caller_media),
                        (Party::Callee, Some(tag)) => {
                            let create = if answered {
                                DialogState::Confirmed
                            } else {
                                DialogState::Early
                            };
                            self.dialog_mut(tag, Some(create)).map(|d| &mut d.media)
                        }
                        (Party::Callee, None) => None,
                    };
                    let mut replaced = None;
                    if let Some(slot) = slot
                        && slot != flows
                    {
                        // Kept for the call's life: no spare capacity.
                        replaced = Some(std::mem::replace(slot, flows.to_vec()));
                        outcome.media_changed = true;
                    }
                    if let (Some(previous), Some((number, update))) = (replaced, offer) {
                        self.note_offer(party, number, update, previous);
                    }
                }
                Err(_) => stats.sdp_errors += 1,
            }
        }
        outcome
    }

    /// The flows this leg wants bound now.
    fn desired_flows(&self, out: &mut Vec<MediaFlow>) {
        let live = self
            .dialogs
            .iter()
            .filter(|d| d.state != DialogState::Terminating);
        let mut any_dialog = false;
        for d in live {
            any_dialog = true;
            push_unique(out, &d.media);
        }
        if any_dialog || self.dialogs.is_empty() {
            push_unique(out, &self.caller_media);
        }
    }
}

/// How many client transactions (hops, forks) of its INVITE a leg keeps at most; those
/// beyond are taken for forks, and their failure alone never ends the leg.
const MAX_BRANCHES: usize = 8;

impl Branch {
    /// The top Via's branch of `msg` and its Via count; `None` without a branch.
    fn of(msg: &SipMessage<'_>) -> Option<Self> {
        let branch = msg.via_branch()?;
        // Counted, not parsed: the same count for an INVITE and its responses.
        let vias = msg
            .headers_named(HeaderName::Via)
            .flat_map(split_list)
            .count();
        let depth = u8::try_from(vias).unwrap_or(u8::MAX);
        Some(Self {
            id: std::hash::BuildHasherDefault::<FastHasher>::default().hash_one(branch),
            depth,
            failed: false,
        })
    }
}

/// How many dialogs (forks) a leg keeps at most.
const MAX_DIALOGS: usize = 16;

/// How many legs a call gets by its SDP origin at most (INVITEs beyond are not tied to it).
const MAX_LEGS: usize = 8;

fn push_unique(out: &mut Vec<MediaFlow>, flows: &[MediaFlow]) {
    for f in flows {
        if !out.iter().any(|o| o.addr == f.addr) {
            out.push(*f);
        }
    }
}

/// The flows one party's SDP names (see the module docs for the rules).
fn sdp_flows(sdp: &Sdp<'_>, party: Party, src: SocketAddr, nat: bool, out: &mut Vec<MediaFlow>) {
    for stream in sdp.streams() {
        let Some(rtp) = stream.rtp.filter(|_| stream.enabled()) else {
            continue;
        };
        let Ok(index) = u8::try_from(stream.index) else {
            continue;
        };
        let media = sdp.media().get(stream.index);
        let muxed = media.is_some_and(|m| m.rtcp_mux && m.rtcp.is_none());
        let rtcp = stream.rtcp.filter(|r| !muxed && *r != rtp);
        // A party that sends no RTP receives none (`sendonly`: it only sends; `inactive`:
        // neither), but RTCP goes on both ways in every direction (RFC 3264 clause 5.1).
        let bind_rtp = !matches!(stream.direction, Direction::SendOnly | Direction::Inactive);
        let nat_ip = (nat && is_private(rtp.ip()) && src.ip() != rtp.ip()).then_some(src.ip());
        let mut push = |addr: SocketAddr, kind: MediaProtocol, source: FlowSource| {
            out.push(MediaFlow {
                addr,
                party,
                stream: index,
                kind,
                source,
            });
        };
        if bind_rtp {
            push(rtp, MediaProtocol::Rtp, FlowSource::Sdp);
        }
        if let Some(rtcp) = rtcp {
            push(rtcp, MediaProtocol::Rtcp, FlowSource::Sdp);
        }
        if let Some(ip) = nat_ip {
            if bind_rtp {
                push(
                    SocketAddr::new(ip, rtp.port()),
                    MediaProtocol::Rtp,
                    FlowSource::SignallingPeer,
                );
            }
            if let Some(rtcp) = rtcp {
                push(
                    SocketAddr::new(ip, rtcp.port()),
                    MediaProtocol::Rtcp,
                    FlowSource::SignallingPeer,
                );
            }
        }
    }
}

/// Addresses a NAT hides: RFC 1918, RFC 6598 shared address space, link-local, IPv6 unique
/// local (RFC 4193) and link-local.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || v4.is_link_local() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Writes the origin key `username sess-id address` into `buf`; false if the SDP has no
/// origin or one that cannot tell calls apart.
fn write_origin_key(origin: Option<Origin<'_>>, buf: &mut String) -> bool {
    let Some(o) = origin else {
        return false;
    };
    let weak_id = o.session_id.len() < 4 || o.session_id.bytes().all(|b| b == b'0');
    let weak_addr = o
        .address
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified() || ip.is_loopback());
    if weak_id || weak_addr {
        return false;
    }
    buf.clear();
    buf.push_str(o.username);
    buf.push(' ');
    buf.push_str(o.session_id);
    buf.push(' ');
    buf.push_str(o.address);
    true
}

#[cfg(test)]
mod tests;
