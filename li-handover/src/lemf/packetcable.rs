//! PacketCable electronic surveillance (PCESP version 3) at the agency: call data
//! (`CdcPdu`) on HI2, call content (CCC datagrams) over UDP.
//!
//! # Call data
//!
//! A `CdcPdu` is a SEQUENCE whose first component is `protocolVersion [0]`, primitive (first
//! component octet `0x80`): no other family a receiver reads starts so (a PS-PDU starts with
//! `pSHeader [1]` constructed, an `IAS-CC-APDU` with `[0]` constructed or `[1]` primitive,
//! an `IasProtocol` with an OBJECT IDENTIFIER, an ATIS-1000678 `LAESProtocol` is not a
//! SEQUENCE). [`read`] recognises it by that octet and decodes it. Each message becomes an
//! IRI line of `records.jsonl` with `format` `"packetcable"`, `message` (the alternative's
//! name in the module: `origination`, `terminationattempt`, `answer`, `ccopen`, `ccchange`,
//! `ccclose`, `release`, `mediareport`, `redirection`, ...), `call_id` (its `sequencenumber`
//! and `systemidentity`), `ccc` (the `cCCId` strings as received: `{"xmit", "recv"}` or
//! `{"comb"}`), `flow_direction`, `subject_sdp` and `associate_sdp` (the SDP text, where the
//! message has the component), and the parties (`calling`, `called`, `answering`,
//! `redirected_to`: the identities present); `seq` is `null` (PCESP has no sequence number).
//!
//! The call: `caseId` is the LIID. `callId`'s `sequencenumber` is the call's CIN when it is
//! a decimal `u32` (the suite's mediator puts the CIN there); any other `callId` (a
//! PacketCable Delivery Function's billing correlation id, `"timestamp,counter"`) gets a
//! receiver-assigned CIN per (caseId, callId), counted down from `u32::MAX` (so it does not
//! meet a mediator's small CINs), remembered for the last [`MAX_ASSIGNED_CALLS`] calls.
//! `CCOpen` names its call in `ccOpenTime`, `CCClose` names none: its call is the one its CCC
//! identifiers were opened for. Every message of a call adds a line to the call's
//! `ladder.jsonl` (`format`, `message`, `method` and `status` `null`: there is no SIP);
//! `Origination` and `TerminationAttempt` begin the call, `Release` ends it (its
//! `call.json` is written), and so does a `CCClose` of a call whose `Release` did not come
//! first. Nothing is ever sent back on a call-data connection: PCESP has no link test.
//!
//! # Call content
//!
//! Each UDP datagram is a 4-octet CCC identifier, an 8-octet NTP timestamp (the `pcli12`
//! form, [`ccc::CccForm::IdTimestamp`]) and the intercepted IP datagram with its real
//! addresses. The identifier is tied to a call by the `cCCId` of `CCOpen` / `CCChange`:
//! `sepCCCpair`'s `sepXmitCCC` carries what the subject sends (`fromTarget`), `sepRecvCCC`
//! what it receives (`toTarget`); a `combCCC` carries both, the direction then told by the
//! packet's addresses against the connection address of the subject's SDP (`c=`), else
//! `combined`. An attributed datagram's IP packet goes to the LIID's pcap (with the NTP
//! time, else the time it was received), a CC line (`attributed` `true`, `format`, `ccc`,
//! `direction`, `packet_len`, `cin`, `seq` `null`) and the call's `media.pcap` and WAV
//! files.
//!
//! UDP and TCP race: a datagram may come before the `CCOpen` naming its identifier. It is
//! held ([`PacketCableConfig::hold`], bounded in datagrams, per identifier and in all, and
//! in octets) and recorded as soon
//! as the `CCOpen` arrives; a held datagram whose time runs out, that the bounds push out,
//! or that is still held when the receiver stops is recorded as **unattributed**: a CC line
//! with `attributed` `false`, `liid` `null`, and the packet in [`super::UNATTRIBUTED_CCC_FILE`], counted in
//! [`CccStats::unattributed`]. After a `CCClose` the identifier stays bound for the same
//! hold time, for datagrams still on their way. A datagram too short for its header, or
//! whose payload is not an IPv4 or IPv6 packet, is counted as malformed, logged, and not
//! recorded.
//!
//! Nothing acknowledges call content: a datagram lost on the way, or arriving while the
//! receiver is down, is lost for good, and the sender cannot know. What arrived is handed
//! to the writer with the rest of the receiver's records; [`super::Receiver::shutdown`]
//! waits for the content listener to store what it holds.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Duration;

use li_asn1::ber::{Reader, Tag, first_component_tag};
use li_asn1::packetcable::ccc::{self, CccForm};
use li_asn1::packetcable::{CallId, CcOpenOption, CccId, CdcPdu, FlowDirection, Message, PartyId};
use li_asn1::{IriType, PayloadDirection};
use li_core::{Liid, Timestamp};
use serde_json::{Map, Value, json};

mod receive;

/// The `format` of PacketCable lines.
pub(super) const FORMAT: &str = "packetcable";
/// Calls with a receiver-assigned CIN remembered at most.
pub const MAX_ASSIGNED_CALLS: usize = 4096;

/// The bounds of the call-content path of a receiver ([`super::ReceiverConfig::packetcable`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PacketCableConfig {
    /// How long a datagram whose CCC identifier no `CCOpen` has named yet is held for one
    /// (by receive time), and how long an identifier stays bound after its `CCClose`.
    /// Default 30 s: long enough for a call-data connection to come back after a short
    /// outage while its call's content keeps flowing over UDP.
    pub hold: Duration,
    /// Datagrams held at most, over every identifier (default 65,536); past it the oldest is
    /// recorded as unattributed.
    pub max_held: usize,
    /// Octets held at most (default 32 MiB).
    pub max_held_bytes: usize,
    /// Datagrams held at most for one identifier (default 4096), so that one stream that
    /// never gets its `CCOpen` does not push out the others'.
    pub max_held_per_ccc: usize,
    /// CCC identifiers bound at most (default 65536); past it the bound one longest closed,
    /// else the least recently bound, is forgotten.
    pub max_streams: usize,
}

impl Default for PacketCableConfig {
    fn default() -> Self {
        Self {
            hold: Duration::from_secs(30),
            max_held: 65_536,
            max_held_bytes: 32 << 20,
            max_held_per_ccc: 4096,
            max_streams: 65536,
        }
    }
}

/// What the call-content listener received, over its life ([`super::Summary::ccc`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CccStats {
    /// Datagrams received (well-formed or not).
    pub datagrams: u64,
    /// Datagrams recorded for a call's LIID.
    pub attributed: u64,
    /// Of those, datagrams held until their `CCOpen` arrived.
    pub attributed_after_hold: u64,
    /// Datagrams recorded without a LIID: no `CCOpen` named their identifier in time.
    pub unattributed: u64,
    /// Datagrams too short for the header or not carrying an IP packet (not recorded).
    pub malformed: u64,
    /// Datagrams held now, waiting for their `CCOpen`.
    pub held: u64,
    /// CCC identifiers a `CCOpen`/`CCChange` named while they were still open for another
    /// case: not rebound (that call's content goes unattributed rather than to the wrong
    /// case).
    pub rebinds_refused: u64,
}

/// What [`read`] makes of a frame.
pub(super) enum Read {
    /// Not a `CdcPdu`: for the other decoders.
    NotPacketCable,
    /// A call-data message.
    CallData(CallData),
    /// A `CdcPdu` that does not decode, or that names no case; with its `caseId` when it
    /// can still be read.
    Undecodable(li_asn1::Error, Option<Liid>),
}

/// A call-data message as the receiver records it.
pub(super) struct CallData {
    pub(super) liid: Liid,
    /// The call the message names (`CCClose` names none).
    pub(super) call: Option<CallId>,
    /// `eventTime`.
    pub(super) time: Timestamp,
    /// The alternative's name.
    pub(super) name: &'static str,
    /// Where the message stands in the call (for the call's files).
    pub(super) iri_type: IriType,
    /// What it says of the call's content streams.
    pub(super) ccc: CccEvent,
    /// The JSON line's fields besides the common ones.
    pub(super) fields: Map<String, Value>,
}

/// What a message says of CCC identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CccEvent {
    /// Nothing.
    None,
    /// `CCOpen` or `CCChange`: the identifiers carry the call's content from now on; the
    /// subject's SDP connection address, if any, tells a combined stream's direction.
    Bind(CccIds, Option<IpAddr>),
    /// `CCClose`.
    Close(CccIds),
}

/// The CCC identifiers of a `cCCId`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CccIds {
    /// `combCCC`: both directions.
    Comb(u32),
    /// `sepCCCpair`: one per direction.
    Sep {
        /// What the subject sends.
        xmit: u32,
        /// What the subject receives.
        recv: u32,
    },
}

impl CccIds {
    fn of(id: &CccId) -> Option<Self> {
        Some(match id.identifiers()? {
            (comb, None) => Self::Comb(comb),
            (xmit, Some(recv)) => Self::Sep { xmit, recv },
        })
    }

    /// Each identifier with the direction it fixes (`None`: told per packet).
    fn each(self) -> impl Iterator<Item = (u32, Option<PayloadDirection>)> {
        let (a, b) = match self {
            Self::Comb(id) => ((id, None), None),
            Self::Sep { xmit, recv } => (
                (xmit, Some(PayloadDirection::FromTarget)),
                Some((recv, Some(PayloadDirection::ToTarget))),
            ),
        };
        std::iter::once(a).chain(b)
    }
}

/// Reads `frame` if it is a `CdcPdu` (see the [module docs](self)).
pub(super) fn read(frame: &[u8]) -> Read {
    const SEQUENCE: u8 = 0x30;
    const PROTOCOL_VERSION: u8 = 0x80;
    if frame.first() != Some(&SEQUENCE) || first_component_tag(frame) != Some(PROTOCOL_VERSION) {
        return Read::NotPacketCable;
    }
    match CdcPdu::decode(frame) {
        Ok(pdu) => call_data(pdu.message),
        Err(error) => Read::Undecodable(error, case_of_undecodable(frame)),
    }
}

/// The `caseId` of a `CdcPdu` that does not decode, if its message's first components can
/// still be read.
fn case_of_undecodable(frame: &[u8]) -> Option<Liid> {
    let pdu = Reader::new(frame).read().ok()?;
    let mut components = pdu.children("CdcPdu").ok()?;
    while let Ok(Some(c)) = components.next_tlv() {
        if c.tag.context_number() != Some(1) {
            continue;
        }
        let message = c.single_child("CdcPdu.message").ok()?;
        let mut fields = message.children("Message").ok()?;
        while let Ok(Some(f)) = fields.next_tlv() {
            if f.tag == Tag::context(0) {
                return Liid::new(&f.octets("caseId").ok()?).ok();
            }
        }
        return None;
    }
    None
}

/// The record of a decoded message.
fn call_data(message: Message) -> Read {
    let Some(header) = message.header() else {
        return Read::Undecodable(
            li_asn1::Error::InvalidValue {
                field: "CdcPdu.message",
                offset: 0,
                reason: "an alternative this receiver does not know: no caseId to file it under",
            },
            None,
        );
    };
    let Ok(liid) = Liid::new(header.case_id.as_str().as_bytes()) else {
        return Read::Undecodable(
            li_asn1::Error::InvalidValue {
                field: "caseId",
                offset: 0,
                reason: "not an LIID (1 to 25 octets)",
            },
            None,
        );
    };
    let time = header.event_time.timestamp();
    let name = message.asn1_name().unwrap_or("unknown");
    let mut fields = Map::new();
    fields.insert("format".into(), json!(FORMAT));
    fields.insert("message".into(), json!(name));
    let mut put = |key: &str, value: Value| {
        fields.insert(key.into(), value);
    };
    let mut ccc = CccEvent::None;
    let (call, iri_type) = match &message {
        Message::Origination(m) => {
            put("calling", party(Some(&m.calling)));
            put("called", party(m.called.as_ref()));
            (Some(&m.call_id), IriType::Begin)
        }
        Message::TerminationAttempt(m) => {
            put("calling", party(m.calling.as_ref()));
            put("called", party(m.called.as_ref()));
            (Some(&m.call_id), IriType::Begin)
        }
        Message::Answer(m) => {
            put("answering", party(m.answering.as_ref()));
            (Some(&m.call_id), IriType::Continue)
        }
        Message::Redirection(m) => {
            put("redirected_to", party(Some(&m.redirected_to)));
            put("new_call_id", m.new.as_ref().map_or(Value::Null, call_json));
            (Some(&m.old), IriType::Continue)
        }
        Message::Release(m) => (Some(&m.call_id), IriType::End),
        Message::MediaReport(m) => {
            put("subject_sdp", json!(m.subject));
            put("associate_sdp", json!(m.associate));
            (Some(&m.call_id), IriType::Continue)
        }
        Message::CcOpen(m) => {
            put("subject_sdp", json!(m.subject));
            put("associate_sdp", json!(m.associate));
            put("ccc", ccc_json(&m.ccc_id));
            put("flow_direction", flow(m.flow_direction));
            ccc = bind(&m.ccc_id, m.subject.as_deref());
            let call = match &m.cc_open_option {
                CcOpenOption::CcOpenTime(calls) => calls.first(),
                CcOpenOption::Reserved0 => None,
            };
            (call, IriType::Continue)
        }
        Message::CcChange(m) => {
            put("subject_sdp", json!(m.subject));
            put("associate_sdp", json!(m.associate));
            put("ccc", ccc_json(&m.ccc_id));
            put("flow_direction", flow(m.flow_direction));
            ccc = bind(&m.ccc_id, m.subject.as_deref());
            (Some(&m.call_id), IriType::Continue)
        }
        Message::CcClose(m) => {
            put("ccc", ccc_json(&m.ccc_id));
            put("flow_direction", flow(m.flow_direction));
            if let Some(ids) = CccIds::of(&m.ccc_id) {
                ccc = CccEvent::Close(ids);
            }
            (None, IriType::End)
        }
        Message::NetworkSignal(m) => (Some(&m.call_id), IriType::Continue),
        Message::SubjectSignal(m) => (m.call_id.as_ref(), IriType::Continue),
        Message::ServiceInstance(m) => {
            put("service", json!(m.service_name));
            (Some(&m.call_id), IriType::Continue)
        }
        // `message.header()` is `None` for the rest.
        _ => (None, IriType::Continue),
    };
    fields.insert("call_id".into(), call.map_or(Value::Null, call_json));
    Read::CallData(CallData {
        liid,
        call: call.cloned(),
        time,
        name,
        iri_type,
        ccc,
        fields,
    })
}

/// The binding of a `CCOpen`/`CCChange`: its identifiers, when they are 8 hexadecimal
/// characters each (else the line shows them and no datagram can be matched).
fn bind(id: &CccId, subject: Option<&str>) -> CccEvent {
    match CccIds::of(id) {
        Some(ids) => CccEvent::Bind(ids, subject.and_then(sdp_connection_address)),
        None => {
            tracing::warn!(ccc = ?id, "cCCId is not 8 hexadecimal characters: no content can be matched to it");
            CccEvent::None
        }
    }
}

fn call_json(call: &CallId) -> Value {
    json!({"sequencenumber": call.sequence_number, "systemidentity": call.system_identity})
}

fn ccc_json(id: &CccId) -> Value {
    match id {
        CccId::CombCcc(comb) => json!({ "comb": comb }),
        CccId::SepCccPair { xmit, recv } => json!({ "xmit": xmit, "recv": recv }),
        _ => Value::Null,
    }
}

fn flow(direction: FlowDirection) -> Value {
    direction
        .asn1_name()
        .map_or_else(|| json!(direction.value()), |n| json!(n))
}

/// A party's identities present, by component name; `null` when absent.
fn party(p: Option<&PartyId>) -> Value {
    let Some(p) = p else {
        return Value::Null;
    };
    let mut out = Map::new();
    for (name, value) in [
        ("dn", &p.dn),
        ("userProvided", &p.user_provided),
        ("ipAddress", &p.ip_address),
        ("trunkId", &p.trunk_id),
        ("genericAddress", &p.generic_address),
        ("genericDigits", &p.generic_digits),
        ("genericName", &p.generic_name),
        ("port", &p.port),
        ("context", &p.context),
    ] {
        if let Some(v) = value {
            out.insert(name.into(), json!(v));
        }
    }
    Value::Object(out)
}

/// The connection address of an SDP (the first `c=` line: session or media level), if it
/// is `IN IP4` or `IN IP6` with a literal address.
pub(super) fn sdp_connection_address(sdp: &str) -> Option<IpAddr> {
    sdp.lines().take(256).find_map(|line| {
        let rest = line.trim_end().strip_prefix("c=")?;
        let mut parts = rest.split_ascii_whitespace();
        if parts.next()? != "IN" {
            return None;
        }
        let _kind = parts.next()?;
        // `addr/ttl` for multicast: the address before the slash.
        parts.next()?.split('/').next()?.parse().ok()
    })
}

/// The CINs of calls whose `callId` is not a CIN.
#[derive(Default)]
pub(super) struct CallCins {
    assigned: HashMap<(Liid, CallId), u32>,
    order: VecDeque<(Liid, CallId)>,
    /// How many were assigned (the next is `u32::MAX - next`).
    next: u32,
}

impl CallCins {
    /// The CIN of `call` of `liid` (see the [module docs](self)).
    pub(super) fn cin(&mut self, liid: Liid, call: &CallId) -> u32 {
        let seq = call.sequence_number.as_str();
        if seq.bytes().all(|b| b.is_ascii_digit())
            && let Ok(cin) = seq.parse::<u32>()
        {
            return cin;
        }
        let key = (liid, call.clone());
        if let Some(&cin) = self.assigned.get(&key) {
            return cin;
        }
        let cin = u32::MAX - self.next;
        self.next = self.next.wrapping_add(1);
        if self.order.len() >= MAX_ASSIGNED_CALLS
            && let Some(old) = self.order.pop_front()
        {
            self.assigned.remove(&old);
        }
        self.order.push_back(key.clone());
        self.assigned.insert(key, cin);
        cin
    }
}

/// Where an attributed datagram belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Attribution {
    pub(super) liid: Liid,
    pub(super) cin: Option<u32>,
    pub(super) direction: Option<PayloadDirection>,
}

/// A datagram waiting for the `CCOpen` of its identifier, or given up on.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Held {
    pub(super) ccc_id: u32,
    /// When it was received.
    pub(super) received: Timestamp,
    /// The whole CCC datagram.
    pub(super) datagram: Vec<u8>,
}

/// The binding of one CCC identifier.
#[derive(Clone, Copy, Debug)]
struct Binding {
    liid: Liid,
    cin: Option<u32>,
    /// Fixed by a `sepCCCpair`, else `None`: told by `target`.
    direction: Option<PayloadDirection>,
    /// The subject's media address (a combined stream's `CCOpen` SDP).
    target: Option<IpAddr>,
    closed_at: Option<Timestamp>,
    /// Order of binding (for eviction).
    tick: u64,
}

/// The CCC identifiers bound to calls and the datagrams held for identifiers not bound yet:
/// the decisions of the call-content path, with time given by the caller (sans-IO).
pub(super) struct CccTable {
    config: PacketCableConfig,
    bindings: HashMap<u32, Binding>,
    held: VecDeque<Held>,
    held_bytes: usize,
    /// Datagrams held per identifier.
    held_per_ccc: HashMap<u32, usize>,
    tick: u64,
    pub(super) stats: CccStats,
}

impl Default for CccTable {
    fn default() -> Self {
        Self::new(PacketCableConfig::default())
    }
}

impl CccTable {
    pub(super) fn new(config: PacketCableConfig) -> Self {
        Self {
            config,
            bindings: HashMap::new(),
            held: VecDeque::new(),
            held_bytes: 0,
            held_per_ccc: HashMap::new(),
            tick: 0,
            stats: CccStats::default(),
        }
    }

    /// Binds `ids` to the call (`CCOpen`/`CCChange`) and moves the
    /// datagrams held for them to `released` (oldest first), to be recorded.
    pub(super) fn bind(
        &mut self,
        ids: CccIds,
        (liid, cin): (Liid, Option<u32>),
        target: Option<IpAddr>,
        released: &mut Vec<Held>,
    ) {
        for (id, direction) in ids.each() {
            // An identifier still open for another case is not taken from it: its content
            // going to the wrong case would be worse than this call's going unattributed
            // (two senders whose identifiers met, or a sender restarted mid-call).
            if let Some(b) = self.bindings.get(&id)
                && b.closed_at.is_none()
                && b.liid != liid
            {
                tracing::warn!(ccc = format_args!("{id:08X}"), open_for = %b.liid, new = %liid,
                    "CCC identifier still open for another case: not rebound");
                self.stats.rebinds_refused += 1;
                continue;
            }
            if !self.bindings.contains_key(&id) && self.bindings.len() >= self.config.max_streams {
                self.evict_binding();
            }
            self.tick += 1;
            self.bindings.insert(
                id,
                Binding {
                    liid,
                    cin,
                    direction,
                    target,
                    closed_at: None,
                    tick: self.tick,
                },
            );
        }
        if self.held.is_empty() {
            return;
        }
        if !ids
            .each()
            .any(|(id, _)| self.held_per_ccc.contains_key(&id))
        {
            return;
        }
        let mut kept = VecDeque::with_capacity(self.held.len());
        for held in std::mem::take(&mut self.held) {
            if ids.each().any(|(id, _)| id == held.ccc_id) {
                self.unhold(&held);
                released.push(held);
            } else {
                kept.push_back(held);
            }
        }
        self.held = kept;
        self.stats.held = self.held.len() as u64;
    }

    /// `CCClose` received at `now`: the identifiers stay bound for [`PacketCableConfig::hold`]
    /// more. Returns the call they were bound to.
    pub(super) fn close(
        &mut self,
        ids: CccIds,
        liid: Liid,
        now: Timestamp,
    ) -> Option<(Liid, Option<u32>)> {
        let mut call = None;
        for (id, _) in ids.each() {
            // A case closes only its own content.
            if let Some(b) = self.bindings.get_mut(&id).filter(|b| b.liid == liid) {
                b.closed_at.get_or_insert(now);
                call.get_or_insert((b.liid, b.cin));
            }
        }
        call
    }

    /// Where the datagram of `ccc_id` carrying `packet` (an IP packet) belongs, if its
    /// identifier is bound.
    pub(super) fn attribute(&self, ccc_id: u32, packet: &[u8]) -> Option<Attribution> {
        let b = self.bindings.get(&ccc_id)?;
        let direction = b.direction.or_else(|| {
            let (source, destination) = ip_addresses(packet)?;
            Some(match b.target {
                Some(t) if t == source => PayloadDirection::FromTarget,
                Some(t) if t == destination => PayloadDirection::ToTarget,
                _ => PayloadDirection::Combined,
            })
        });
        Some(Attribution {
            liid: b.liid,
            cin: b.cin,
            direction,
        })
    }

    /// Holds `datagram` (of the unbound `ccc_id`, received at `now`); datagrams the bounds
    /// push out go to `given_up`.
    pub(super) fn hold(
        &mut self,
        ccc_id: u32,
        datagram: &[u8],
        now: Timestamp,
        given_up: &mut Vec<Held>,
    ) {
        if self.held_per_ccc.get(&ccc_id).copied().unwrap_or(0)
            >= self.config.max_held_per_ccc.max(1)
            && let Some(at) = self.held.iter().position(|h| h.ccc_id == ccc_id)
            && let Some(old) = self.held.remove(at)
        {
            // The identifier's oldest makes room.
            self.unhold(&old);
            given_up.push(old);
        }
        self.held_bytes += datagram.len();
        *self.held_per_ccc.entry(ccc_id).or_default() += 1;
        self.held.push_back(Held {
            ccc_id,
            received: now,
            datagram: datagram.to_vec(),
        });
        while self.held.len() > self.config.max_held
            || (self.held_bytes > self.config.max_held_bytes && !self.held.is_empty())
        {
            match self.held.pop_front() {
                Some(old) => {
                    self.unhold(&old);
                    given_up.push(old);
                }
                None => break,
            }
        }
        self.stats.held = self.held.len() as u64;
    }

    /// At `now`: held datagrams older than the hold go to `given_up`, identifiers closed
    /// longer ago are forgotten.
    pub(super) fn expire(&mut self, now: Timestamp, given_up: &mut Vec<Held>) {
        let hold = u64::try_from(self.config.hold.as_micros()).unwrap_or(u64::MAX);
        let older = |t: Timestamp| now.unix_micros().saturating_sub(t.unix_micros()) > hold;
        while let Some(front) = self.held.front() {
            if !older(front.received) {
                break;
            }
            if let Some(old) = self.held.pop_front() {
                self.unhold(&old);
                given_up.push(old);
            }
        }
        self.stats.held = self.held.len() as u64;
        self.bindings
            .retain(|_, b| !b.closed_at.is_some_and(&older));
    }

    /// Every held datagram goes to `given_up` (the receiver stops).
    pub(super) fn give_up_all(&mut self, given_up: &mut Vec<Held>) {
        given_up.extend(self.held.drain(..));
        self.held_bytes = 0;
        self.held_per_ccc.clear();
        self.stats.held = 0;
    }

    /// Takes `held`, no longer held, out of the counts.
    fn unhold(&mut self, held: &Held) {
        self.held_bytes = self.held_bytes.saturating_sub(held.datagram.len());
        if let Some(n) = self.held_per_ccc.get_mut(&held.ccc_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.held_per_ccc.remove(&held.ccc_id);
            }
        }
    }

    /// Forgets the binding closed longest ago, else the oldest.
    fn evict_binding(&mut self) {
        let victim = self
            .bindings
            .iter()
            .min_by_key(|(_, b)| (b.closed_at.is_none(), b.closed_at, b.tick))
            .map(|(&id, _)| id);
        if let Some(id) = victim {
            tracing::info!(ccc = %format_args!("{id:08X}"), limit = self.config.max_streams,
                "CCC identifier limit reached: the binding closed longest ago (else the oldest) is forgotten");
            self.bindings.remove(&id);
        }
    }
}

/// A CCC datagram as the listener reads it.
pub(super) enum Datagram<'a> {
    /// Header and IP packet.
    Content {
        ccc_id: u32,
        /// The NTP timestamp, when it is a time after 1970.
        time: Option<Timestamp>,
        packet: &'a [u8],
    },
    /// Too short for the header, or no IP packet behind it: why.
    Malformed(String),
}

/// Splits a CCC datagram (`pcli12` form) and checks it carries an IP packet.
pub(super) fn datagram(bytes: &[u8]) -> Datagram<'_> {
    match ccc::decode(bytes, CccForm::IdTimestamp) {
        Err(error) => Datagram::Malformed(error.to_string()),
        Ok(d) if ip_addresses(d.payload).is_none() => Datagram::Malformed(format!(
            "CCC {:08X}: the payload of {} octet(s) is not an IPv4 or IPv6 packet",
            d.ccc_id,
            d.payload.len()
        )),
        Ok(d) => Datagram::Content {
            ccc_id: d.ccc_id,
            time: d.timestamp.and_then(|t| t.to_timestamp()),
            packet: d.payload,
        },
    }
}

/// The source and destination of an IPv4 (header of 20 octets or more) or IPv6 packet.
pub(super) fn ip_addresses(packet: &[u8]) -> Option<(IpAddr, IpAddr)> {
    match packet.first()? >> 4 {
        4 if packet.first()? & 0x0f >= 5 => {
            let src: [u8; 4] = packet.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = packet.get(16..20)?.try_into().ok()?;
            Some((IpAddr::from(src), IpAddr::from(dst)))
        }
        6 => {
            let src: [u8; 16] = packet.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = packet.get(24..40)?.try_into().ok()?;
            Some((IpAddr::from(src), IpAddr::from(dst)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
