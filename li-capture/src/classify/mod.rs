//! The sans-IO classifier: (timestamp, frame) in, intercept records out.
//!
//! The classifier holds the active tasks (warrants) and decides, for every frame a probe
//! sees, which tasks it belongs to:
//!
//! - **static targets** (IPv4/IPv6 addresses and prefixes) are looked up in a table built
//!   when tasks change; a packet matching no target costs the frame decode and
//!   one or two memory reads;
//! - **username and MAC targets** are bound to addresses by the AAA traffic the probe sees:
//!   RADIUS accounting (Start, Interim-Update, Stop; User-Name, and a MAC address in
//!   Calling-Station-Id as 802.1X and Wi-Fi NASes send it) and DHCPv4 (ACK, RELEASE, lease
//!   expiry). Each access session gets its own CIN and yields IRI (TS 102 232-3 access
//!   events): begin at Start, continue at Interim-Update, end at Stop. A task activated while
//!   its target's session is up yields `startOfInterceptionWithSessionActive`, a task
//!   deactivated or whose window closes during a session `endOfInterceptionWithSessionActive`.
//!   After Stop (or RELEASE, or lease expiry) the address is released: a later user of the
//!   same address is not intercepted.
//!
//! A packet from which the decoder removed a tunnel (GRE, PPTP, IP in IP, VXLAN) is matched
//! on its inner addresses and on the endpoints of the outermost tunnel
//! ([`Packet::outer`]): a task matched by an inner address gets the inner IP packet as CC,
//! a task matched only by an endpoint (a PPTP client's public address, a VTEP) gets the
//! whole outer IP packet, tunnel headers included, as the traffic of that endpoint. The
//! endpoints of intermediate tunnels (a tunnel in a tunnel) are not matched.
//!
//! **SIP URI, E.164 (tel) and username targets** are matched in the SIP signalling on the
//! configured ports ([`VoiceConfig::sip_ports`]; UDP, TCP reassembled per flow, fragmented
//! datagrams reassembled), the calls tracked by the [`crate::sip::CallTracker`]: each
//! (task, call) gets its own CIN, the call's SIP messages are its IRI (IRI-Begin, Continue,
//! End; a REGISTER an IRI-Report, one CIN per task and registration), the RTP and RTCP of the flows its SDP negotiated its CC
//! ([`li_core::CcKind::Media`]). A call that ends without a message (timeout), or a task
//! whose window closes or that is deactivated during a call, gets an IRI-End repeating the
//! call's last SIP message. A task activated (or whose window opens) during a call starts
//! with the call's next message, and its media from then on. Username targets are matched in
//! SIP too (the `Authorization` username, with its realm: see [`crate::sip::target`]).
//!
//! Every record is tagged with its task's XID; a packet matching several tasks (two
//! agencies, two warrants) is emitted once per task. Nothing is emitted for a task outside
//! its validity window, and an IRI-only task never gets CC. Time is the packets' own: the
//! classifier never reads a clock.

mod table;
mod voice;

use std::collections::HashMap;
use std::net::IpAddr;

use bytes::Bytes;
use li_core::{
    AccessEvent, AccessEventType, AuthenticationType, CcRecord, Cin, DestinationId, EndReason,
    InterceptRecord, InternetAccessType, IpPrefix, IriEvent, IriRecord, IriType, PayloadDirection,
    TargetIdentifier, Task, TaskDestination, Timestamp, Xid,
};

use crate::LinkType;
use crate::aaa::dhcp::{BootpOp, DhcpMessage, DhcpMessageType, parse_dhcpv4};
use crate::aaa::radius::{AccountingRequest, AcctStatusType, parse_accounting};
use crate::decode::{DecodeConfig, Packet, Transport, Truncation, decode};
use crate::hash::FastMap;
use table::{Prefilter16, StaticTable};
pub use voice::VoiceConfig;

/// What the classifier looks at besides targets.
#[derive(Clone, Debug)]
pub struct ClassifierConfig {
    /// Frame decoding (tunnels to remove).
    pub decode: DecodeConfig,
    /// UDP ports of RADIUS accounting (RFC 2866: 1813; 1646 is the old one).
    pub radius_accounting_ports: Vec<u16>,
    /// Whether DHCPv4 (UDP 67/68) binds MAC-address targets.
    pub dhcp: bool,
    /// `internetAccessType` reported in access IRI.
    pub access_type: InternetAccessType,
    /// The NASes and DHCP servers whose AAA messages are believed (source or destination
    /// address). `None` believes any host on the tap: set it in production, or a forged
    /// Accounting-Request or DHCPACK could bind a target's identity to someone else's
    /// address.
    pub aaa_sources: Option<Vec<IpAddr>>,
    /// The CIN (`communicationIdentityNumber`) of the first session; the following ones
    /// count up from it (wrapping, skipping 0). Where several classifiers feed one
    /// mediator, or one restarts, give each run its own starting point (a random one, say)
    /// so that two communications do not share a CIN at the agency. Default 1.
    pub first_cin: u32,
    /// SIP and media: ports, the call tracker's limits, reassembly bounds.
    pub voice: VoiceConfig,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            decode: DecodeConfig::default(),
            radius_accounting_ports: vec![1813, 1646],
            dhcp: true,
            access_type: InternetAccessType::Undefined,
            aaa_sources: None,
            first_cin: 1,
            voice: VoiceConfig::default(),
        }
    }
}

/// Counters, for metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClassifierStats {
    /// Frames given to [`Classifier::classify`].
    pub frames: u64,
    /// Frames without an IP packet (ARP, LLDP, ...).
    pub not_ip: u64,
    /// Frames that could not be decoded (truncated, malformed).
    pub malformed: u64,
    /// Packets that matched at least one task.
    pub matched: u64,
    /// CC records emitted.
    pub cc_records: u64,
    /// IRI records emitted.
    pub iri_records: u64,
    /// RADIUS accounting requests processed.
    pub radius_requests: u64,
    /// RADIUS packets that could not be parsed.
    pub radius_errors: u64,
    /// DHCPv4 messages processed.
    pub dhcp_messages: u64,
    /// DHCPv4 messages that could not be parsed.
    pub dhcp_errors: u64,
    /// Access sessions currently known.
    pub sessions: u64,
    /// Matched packets cut by the capture's snapshot length, delivered as truncated
    /// ([`CcRecord::original_len`] set).
    pub truncated: u64,
    /// Matched packets whose IP length disagrees with the frame or an enclosing length
    /// (PPPoE, tunnel), delivered as the bytes present.
    pub length_mismatch: u64,
    /// SIP messages seen on the SIP ports (UDP datagrams, TCP frames, reassembled
    /// fragments; keepalives not counted), while a task has a SIP-matchable target or a call
    /// is tracked.
    pub sip_messages: u64,
    /// SIP messages that named a target.
    pub sip_matched: u64,
    /// SIP messages that did not parse, and TCP stream octets the framer skipped.
    pub sip_errors: u64,
    /// Calls tracked now.
    pub calls_active: u64,
    /// Calls tracked since the start (the tracker's IRI-Begins).
    pub calls_tracked: u64,
    /// Calls evicted to make room (the tracker's `max_calls`).
    pub calls_evicted: u64,
    /// Calls ended by the inactivity timeout.
    pub calls_timed_out: u64,
    /// Media flows bound to calls now.
    pub media_flows: u64,
    /// Media packets (RTP, RTCP) of tracked calls seen.
    pub media_packets: u64,
    /// SIP TCP flows being reassembled now.
    pub sip_tcp_flows: u64,
    /// SIP TCP flows not followed because the table was full.
    pub sip_tcp_flows_refused: u64,
    /// SIP TCP segments dropped as retransmissions (nothing new in them).
    pub sip_tcp_duplicates: u64,
    /// Fragmented SIP datagrams reassembled.
    pub sip_fragments_reassembled: u64,
    /// Fragments dropped (bounds, timeout, inconsistent sets).
    pub sip_fragments_dropped: u64,
    /// Registrations (Call-IDs of a target's messages outside calls) whose CINs are
    /// remembered now ([`VoiceConfig::max_registrations`]).
    pub sip_registrations: u64,
    /// Such registrations evicted to make room.
    pub sip_registrations_evicted: u64,
    /// Ended calls whose CINs, kept for their late messages
    /// ([`VoiceConfig::max_ended_calls`]), were evicted to make room.
    pub sip_ended_calls_evicted: u64,
}

/// Where a task stands with respect to its validity window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WindowState {
    /// Before the window: nothing has been announced.
    Pending,
    /// Inside the window: begin events were sent.
    Open,
    /// After the window: end events were sent.
    Closed,
}

#[derive(Debug)]
struct TaskEntry {
    task: Task<DestinationId>,
    /// When the task was activated: a window already open then opens at this time.
    activated: Timestamp,
    /// The CIN of the task's static-address "session".
    static_cin: Cin,
    has_static: bool,
    state: WindowState,
}

/// Something due at a time.
enum Due {
    LeaseEnd(SessionKey),
    Open(Xid),
    Close(Xid),
}

/// How a session was learnt, and its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum SessionKey {
    /// RADIUS: NAS (identifier or address) and Acct-Session-Id.
    Radius { nas: Vec<u8>, session_id: Vec<u8> },
    /// DHCPv4: the client's MAC address.
    Dhcp([u8; 6]),
}

impl SessionKey {
    fn is_dhcp(&self) -> bool {
        matches!(self, Self::Dhcp(_))
    }
}

#[derive(Debug)]
struct Session {
    cin: Cin,
    username: Option<Vec<u8>>,
    mac: Option<[u8; 6]>,
    addresses: Vec<IpPrefix>,
    /// The access details reported in IRI (latest values).
    event: AccessEvent,
    lease_end: Option<Timestamp>,
    /// Tasks intercepting this session, and whether their begin event was sent.
    tasks: Vec<(Xid, bool)>,
}

/// The classifier. See the [module documentation](self).
#[derive(Debug)]
pub struct Classifier {
    config: ClassifierConfig,
    tasks: HashMap<Xid, TaskEntry>,
    table: StaticTable,
    prefilter: Prefilter16,
    has_v6_targets: bool,
    usernames: HashMap<Vec<u8>, Vec<Xid>>,
    macs: HashMap<[u8; 6], Vec<Xid>>,
    sessions: HashMap<SessionKey, Session>,
    /// Addresses of sessions that some task intercepts, to their sessions (a RADIUS and a
    /// DHCP session may share one).
    bound: FastMap<IpAddr, Vec<SessionKey>>,
    /// Prefixes (not single addresses) of intercepted sessions, longest first; a packet
    /// belongs to the longest that contains it.
    bound_prefixes: Vec<(IpPrefix, SessionKey)>,
    /// Every session's addresses (by kind, DHCP or not), to release an address a new session
    /// of the same kind takes over. A RADIUS and a DHCP session of one subscriber may hold
    /// the same address.
    owners: Owners,
    next_cin: u32,
    /// The earliest time at which a window opens or closes, or a lease ends.
    next_transition: Option<Timestamp>,
    stats: ClassifierStats,
    /// SIP signalling and call media.
    voice: voice::Voice,
}

impl Classifier {
    /// A classifier with no task.
    pub fn new(config: ClassifierConfig) -> Self {
        let next_cin = config.first_cin.max(1);
        let voice = voice::Voice::new(config.voice.clone());
        Self {
            config,
            tasks: HashMap::new(),
            table: StaticTable::default(),
            prefilter: Prefilter16::default(),
            has_v6_targets: false,
            usernames: HashMap::new(),
            macs: HashMap::new(),
            sessions: HashMap::new(),
            bound: FastMap::default(),
            bound_prefixes: Vec::new(),
            owners: Owners::default(),
            next_cin,
            next_transition: None,
            stats: ClassifierStats::default(),
            voice,
        }
    }

    /// The counters.
    pub fn stats(&self) -> ClassifierStats {
        let mut s = self.stats.clone();
        s.sessions = self.sessions.len() as u64;
        self.voice.fill_stats(&mut s);
        s
    }

    /// The active tasks, naming their destinations by identifier (the classifier does not
    /// deliver; its records carry the XID).
    pub fn tasks(&self) -> impl Iterator<Item = &Task<DestinationId>> {
        self.tasks.values().map(|e| &e.task)
    }

    /// Activates `task` at `now` (X1 ActivateTask), or replaces the task with the same XID
    /// (ModifyTask). If its window is open, begin events are emitted at once, including
    /// `startOfInterceptionWithSessionActive` for sessions of its targets already up.
    pub fn activate<D: TaskDestination>(
        &mut self,
        task: Task<D>,
        now: Timestamp,
        out: &mut Vec<InterceptRecord>,
    ) {
        self.activate_all([task], now, out);
    }

    /// Activates several tasks at once, rebuilding the lookup tables once (provisioning
    /// 100,000 targets one task at a time would rebuild them 100,000 times).
    pub fn activate_all<D: TaskDestination>(
        &mut self,
        tasks: impl IntoIterator<Item = Task<D>>,
        now: Timestamp,
        out: &mut Vec<InterceptRecord>,
    ) {
        let mut added = Vec::new();
        for task in tasks {
            let task = task.into_destination_ids();
            let xid = task.xid();
            if self.tasks.contains_key(&xid) {
                // A modification: end what the old task had, then start afresh.
                self.deactivate(xid, now, out);
            }
            let has_static = task.targets().iter().any(|t| static_prefix(t).is_some());
            let static_cin = self.allocate_cin();
            self.tasks.insert(
                xid,
                TaskEntry {
                    task,
                    activated: now,
                    static_cin,
                    has_static,
                    state: WindowState::Pending,
                },
            );
            added.push(xid);
        }
        // Indexes first (attaching looks targets up in them), then the address bindings of
        // the sessions the new tasks intercept.
        self.rebuild();
        for &xid in &added {
            self.attach_sessions(xid);
        }
        self.rebuild_bindings();
        // The tasks' own windows may be due before the next scheduled transition.
        self.next_transition = None;
        self.advance(now, out);
    }

    /// Deactivates the task (X1 DeactivateTask): nothing more is emitted for it from the
    /// next packet on. End events are emitted for what was open. Returns false for an
    /// unknown XID.
    pub fn deactivate(&mut self, xid: Xid, now: Timestamp, out: &mut Vec<InterceptRecord>) -> bool {
        let Some(entry) = self.tasks.get(&xid) else {
            return false;
        };
        if entry.state == WindowState::Open {
            self.close_window(xid, now, out);
        }
        self.tasks.remove(&xid);
        self.voice.forget_task(xid);
        for session in self.sessions.values_mut() {
            session.tasks.retain(|(x, _)| *x != xid);
        }
        self.rebuild();
        true
    }

    /// Processes time up to `now`: windows opening and closing, DHCP leases expiring. Called
    /// by [`Classifier::classify`] with each packet's time; call it from a timer too when the
    /// capture may be quiet.
    pub fn advance(&mut self, now: Timestamp, out: &mut Vec<InterceptRecord>) {
        if self.voice.active() {
            self.voice_timers(now, out);
        }
        if self.next_transition.is_some_and(|t| t > now) {
            return;
        }
        // Everything due by `now`, processed in time order: a lease that ended before a
        // window opened gets no begin, a window that opened and closed between two packets
        // still yields its begin and end.
        let mut due: Vec<(Timestamp, u8, Due)> = Vec::new();
        for (key, session) in &self.sessions {
            if let Some(end) = session.lease_end.filter(|end| *end <= now) {
                due.push((end, 0, Due::LeaseEnd(key.clone())));
            }
        }
        for (xid, e) in &mut self.tasks {
            let w = e.task.window();
            let opens = w.start().max(e.activated);
            match e.state {
                WindowState::Pending if w.end().is_some_and(|end| end <= opens) => {
                    // The window was over before the task was activated.
                    e.state = WindowState::Closed;
                }
                WindowState::Pending if opens <= now => {
                    due.push((opens, 1, Due::Open(*xid)));
                    if let Some(end) = w.end().filter(|end| *end <= now) {
                        due.push((end, 2, Due::Close(*xid)));
                    }
                }
                WindowState::Open => {
                    if let Some(end) = w.end().filter(|end| *end <= now) {
                        due.push((end, 2, Due::Close(*xid)));
                    }
                }
                _ => {}
            }
        }
        due.sort_by_key(|(at, order, _)| (*at, *order));
        for (at, _, what) in due {
            match what {
                Due::LeaseEnd(key) => {
                    self.end_session(&key, at, EndReason::LeaseExpired, None, out);
                }
                Due::Open(xid) => self.open_window(xid, at, out),
                Due::Close(xid) => self.close_window(xid, at, out),
            }
        }
        self.next_transition = self.compute_next_transition();
    }

    /// Classifies one captured frame seen at `time`, appending the records it yields; the
    /// frame is taken as captured whole ([`Self::classify_captured`] with its own length).
    pub fn classify(
        &mut self,
        time: Timestamp,
        link: LinkType,
        frame: &[u8],
        out: &mut Vec<InterceptRecord>,
    ) {
        let whole = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        self.classify_captured(time, link, frame, whole, out);
    }

    /// Classifies one captured frame seen at `time` that was `original_len` octets on the
    /// wire, appending the records it yields.
    ///
    /// A packet whose IP length reaches past the frame ([`Truncation::Frame`]) of a frame
    /// captured shorter than it was is delivered truncated: [`CcRecord::original_len`] is its
    /// declared IP length (counted in [`ClassifierStats::truncated`]). Any other
    /// [`Truncation`] (IP length past a frame captured whole, or past a PPPoE or tunnel
    /// length) is delivered as the bytes present and counted in
    /// [`ClassifierStats::length_mismatch`].
    pub fn classify_captured(
        &mut self,
        time: Timestamp,
        link: LinkType,
        frame: &[u8],
        original_len: u32,
        out: &mut Vec<InterceptRecord>,
    ) {
        self.stats.frames += 1;
        match decode(link, frame, &self.config.decode) {
            Ok(Some(packet)) => {
                let cut = u32::try_from(frame.len()).is_ok_and(|len| len < original_len);
                self.classify_decoded(time, &packet, cut, out);
            }
            Ok(None) => self.stats.not_ip += 1,
            Err(_) => self.stats.malformed += 1,
        }
    }

    /// Classifies an already decoded packet, of a frame captured whole: a
    /// [`Packet::truncated`] packet is delivered as the bytes present, a length mismatch.
    pub fn classify_packet(
        &mut self,
        time: Timestamp,
        packet: &Packet<'_>,
        out: &mut Vec<InterceptRecord>,
    ) {
        self.classify_decoded(time, packet, false, out);
    }

    /// Classifies a decoded packet; `cut`: its frame was captured shorter than it was.
    fn classify_decoded(
        &mut self,
        time: Timestamp,
        packet: &Packet<'_>,
        cut: bool,
        out: &mut Vec<InterceptRecord>,
    ) {
        if self.next_transition.is_some_and(|t| t <= time) {
            self.advance(time, out);
        }
        if let Transport::Udp {
            src_port,
            dst_port,
            payload,
        } = packet.transport
        {
            let trusted = self.config.aaa_sources.as_ref().is_none_or(|allowed| {
                allowed.contains(&packet.src) || allowed.contains(&packet.dst)
            });
            if !trusted {
                // AAA from or to a host not configured as NAS or server: not believed.
            } else if self.config.radius_accounting_ports.contains(&dst_port) {
                self.radius(time, payload, out);
            } else if self.config.dhcp && matches!((src_port, dst_port), (67 | 68, 67 | 68)) {
                self.dhcp(time, src_port == 67, payload, out);
            }
        }
        // SIP and call media, when a task has a SIP-matchable target or a call is tracked.
        let media = self.voice.active() && self.voice_packet(time, packet, out);
        // A tunnel's outer packet, when one of its endpoints may be a target.
        let outer = packet
            .outer
            .filter(|o| self.may_match(o.src) || self.may_match(o.dst));
        if !self.may_match(packet.src) && !self.may_match(packet.dst) && outer.is_none() {
            if media {
                self.stats.matched += 1;
            }
            return;
        }
        let before = out.len();
        let original_len = match packet.truncated {
            Some(Truncation::Frame { ip_len }) if cut => Some(ip_len),
            _ => None,
        };
        let mut cc = CcSink {
            tasks: &self.tasks,
            stats: &mut self.stats,
            time,
            ip: packet.ip,
            original_len,
            payload: None,
            first: before,
            out,
        };
        let targets = Targets {
            table: &self.table,
            bound: &self.bound,
            bound_prefixes: &self.bound_prefixes,
            sessions: &self.sessions,
        };
        targets.deliver(&mut cc, packet.src, PayloadDirection::FromTarget);
        targets.deliver(&mut cc, packet.dst, PayloadDirection::ToTarget);
        // Then the tunnel endpoints, for the tasks the inner addresses did not match: these
        // get the whole outer packet, the traffic of the endpoint they target.
        if let Some(o) = outer {
            cc.ip = o.ip;
            cc.payload = None;
            // A cut frame cuts the outer packet too: its own declared length, if longer.
            cc.original_len = cut.then_some(o.truncated).flatten().map(Truncation::ip_len);
            targets.deliver(&mut cc, o.src, PayloadDirection::FromTarget);
            targets.deliver(&mut cc, o.dst, PayloadDirection::ToTarget);
        }
        if out.len() > before {
            self.stats.matched += 1;
            if original_len.is_some() {
                self.stats.truncated += 1;
            } else if packet.truncated.is_some() {
                self.stats.length_mismatch += 1;
            }
        } else if media {
            self.stats.matched += 1;
        }
    }

    // ----------------------------------------------------------------------------------
    // Matching helpers

    #[inline]
    fn may_match(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.prefilter.may_match(u32::from(a)),
            IpAddr::V6(_) => self.has_v6_targets,
        }
    }

    fn emit_iri(
        &mut self,
        xid: Xid,
        cin: Cin,
        time: Timestamp,
        iri_type: IriType,
        event: AccessEvent,
        out: &mut Vec<InterceptRecord>,
    ) {
        out.push(InterceptRecord::from(IriRecord {
            xid,
            cin,
            timestamp: time,
            iri_type,
            event: IriEvent::Access(event),
        }));
        self.stats.iri_records += 1;
    }

    fn allocate_cin(&mut self) -> Cin {
        let cin = Cin::new(self.next_cin);
        self.next_cin = self.next_cin.wrapping_add(1).max(1);
        cin
    }

    // ----------------------------------------------------------------------------------
    // Task indexes

    /// Rebuilds the static table, the prefilter and the identity indexes from the tasks.
    fn rebuild(&mut self) {
        let statics: Vec<(IpPrefix, Xid)> = self
            .tasks
            .values()
            .flat_map(|e| {
                e.task
                    .targets()
                    .iter()
                    .filter_map(static_prefix)
                    .map(move |p| (p, e.task.xid()))
            })
            .collect();
        self.table = StaticTable::build(statics);
        self.usernames.clear();
        self.macs.clear();
        for e in self.tasks.values() {
            for t in e.task.targets() {
                match t {
                    TargetIdentifier::Username(u) => self
                        .usernames
                        .entry(u.as_str().as_bytes().to_vec())
                        .or_default()
                        .push(e.task.xid()),
                    TargetIdentifier::MacAddress(m) => {
                        self.macs.entry(m.octets()).or_default().push(e.task.xid());
                    }
                    _ => {}
                }
            }
        }
        self.voice.rebuild(
            self.tasks
                .values()
                .map(|e| (e.task.xid(), e.task.targets())),
        );
        self.rebuild_bindings();
    }

    /// Rebuilds the address index of intercepted sessions and the prefilter.
    fn rebuild_bindings(&mut self) {
        self.bound.clear();
        self.bound_prefixes.clear();
        let mut prefilter = Prefilter16::default();
        let mut has_v6 = self.table.has_v6();
        for (addr, len) in self.table.v4_prefixes() {
            prefilter.add(addr, len, 1);
        }
        for (key, s) in &self.sessions {
            if s.tasks.is_empty() {
                continue;
            }
            for p in &s.addresses {
                if is_host(p) {
                    self.bound.entry(p.addr()).or_default().push(key.clone());
                } else {
                    self.bound_prefixes.push((*p, key.clone()));
                }
                match p.addr() {
                    IpAddr::V4(a) => prefilter.add(u32::from(a), p.prefix_len(), 1),
                    IpAddr::V6(_) => has_v6 = true,
                }
            }
        }
        self.bound_prefixes
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.prefix_len()));
        self.prefilter = prefilter;
        self.has_v6_targets = has_v6;
    }

    /// The tasks whose username or MAC targets name this session's identity.
    fn tasks_for(&self, username: Option<&[u8]>, mac: Option<[u8; 6]>) -> Vec<Xid> {
        let mut out: Vec<Xid> = Vec::new();
        if let Some(tasks) = username.and_then(|u| self.usernames.get(u)) {
            out.extend(tasks);
        }
        if let Some(tasks) = mac.and_then(|m| self.macs.get(&m)) {
            for x in tasks {
                if !out.contains(x) {
                    out.push(*x);
                }
            }
        }
        out
    }

    /// Attaches a newly activated task to the live sessions of its targets.
    fn attach_sessions(&mut self, xid: Xid) {
        let keys: Vec<SessionKey> = self.sessions.keys().cloned().collect();
        for key in keys {
            let tasks = match self.sessions.get(&key) {
                Some(s) => self.tasks_for(s.username.as_deref(), s.mac),
                None => continue,
            };
            if let Some(s) = self.sessions.get_mut(&key).filter(|_| tasks.contains(&xid))
                && !s.tasks.iter().any(|(x, _)| *x == xid)
            {
                s.tasks.push((xid, false));
            }
        }
    }

    // ----------------------------------------------------------------------------------
    // Windows

    fn open_window(&mut self, xid: Xid, at: Timestamp, out: &mut Vec<InterceptRecord>) {
        if let Some(entry) = self.tasks.get_mut(&xid) {
            entry.state = WindowState::Open;
            self.window_edge(xid, at, true, out);
        }
    }

    fn close_window(&mut self, xid: Xid, at: Timestamp, out: &mut Vec<InterceptRecord>) {
        if let Some(entry) = self
            .tasks
            .get_mut(&xid)
            .filter(|e| e.state == WindowState::Open)
        {
            entry.state = WindowState::Closed;
            self.window_edge(xid, at, false, out);
            self.voice_window_closed(xid, at, out);
        }
    }

    /// The IRI of a window edge: begin (`opening`) or end of interception, for the task's
    /// static targets and for every live session it intercepts.
    fn window_edge(
        &mut self,
        xid: Xid,
        at: Timestamp,
        opening: bool,
        out: &mut Vec<InterceptRecord>,
    ) {
        let (event_type, iri_type) = if opening {
            (
                AccessEventType::StartOfInterceptionWithSessionActive,
                IriType::Begin,
            )
        } else {
            (
                AccessEventType::EndOfInterceptionWithSessionActive,
                IriType::End,
            )
        };
        let mut records = Vec::new();
        if let Some(entry) = self.tasks.get(&xid).filter(|e| e.has_static) {
            let mut event = AccessEvent::new(event_type);
            event.addresses = entry
                .task
                .targets()
                .iter()
                .filter_map(static_prefix)
                .collect();
            event.authentication_type = Some(AuthenticationType::Static);
            event.access_type = self.config.access_type;
            records.push((entry.static_cin, event));
        }
        for s in self.sessions.values_mut() {
            for (x, begun) in s.tasks.iter_mut() {
                // Opening begins what has not begun; closing ends what has.
                if *x == xid && *begun != opening {
                    *begun = opening;
                    let mut event = s.event.clone();
                    event.event_type = event_type;
                    records.push((s.cin, event));
                }
            }
        }
        for (cin, event) in records {
            self.emit_iri(xid, cin, at, iri_type, event, out);
        }
    }

    fn compute_next_transition(&self) -> Option<Timestamp> {
        let windows = self.tasks.values().filter_map(|e| match e.state {
            WindowState::Pending => Some(e.task.window().start()),
            WindowState::Open => e.task.window().end(),
            WindowState::Closed => None,
        });
        let leases = self.sessions.values().filter_map(|s| s.lease_end);
        windows.chain(leases).min()
    }

    // ----------------------------------------------------------------------------------
    // Sessions

    /// Starts or updates a session, binds its addresses and emits IRI for the tasks that
    /// intercept it. `starts` is true for a message that begins a session (RADIUS Start,
    /// DHCP ACK); a session first seen in an Interim-Update is reported as
    /// `startOfInterceptionWithSessionActive`.
    fn session_event(
        &mut self,
        key: SessionKey,
        mut update: SessionUpdate,
        starts: bool,
        time: Timestamp,
        out: &mut Vec<InterceptRecord>,
    ) {
        let mut is_new = true;
        if let Some(old) = self.sessions.get(&key) {
            // An Interim-Update without Calling-Station-Id keeps the MAC address of its Start.
            if update.mac.is_none() {
                update.mac = old.mac;
            }
            if old.username != update.username || old.mac != update.mac {
                // The same key for another identity (a NAS that restarted its session
                // counter, a DHCP client whose MAC moved): the old session is over.
                self.end_session(&key, time, EndReason::Undefined, None, out);
            } else {
                is_new = false;
                // An Interim-Update that leaves the addresses out keeps them.
                if update.addresses.is_empty() {
                    update.addresses.clone_from(&old.addresses);
                }
            }
        }
        // An address (or an overlapping prefix) now used by this session is no longer
        // another session's of the same kind.
        let kind = key.is_dhcp();
        let stale = self
            .owners
            .overlapping(key.is_dhcp(), &key, &update.addresses);
        for k in stale {
            self.end_session(&k, time, EndReason::Undefined, None, out);
        }

        if is_new {
            let cin = self.allocate_cin();
            let tasks = self
                .tasks_for(update.username.as_deref(), update.mac)
                .into_iter()
                .map(|x| (x, false))
                .collect();
            let mut event = AccessEvent::new(AccessEventType::AccessAccept);
            event.access_type = self.config.access_type;
            if starts {
                event.start_time = Some(time);
            }
            self.sessions.insert(
                key.clone(),
                Session {
                    cin,
                    username: update.username.clone(),
                    mac: update.mac,
                    addresses: Vec::new(),
                    event,
                    lease_end: None,
                    tasks,
                },
            );
        }
        let Some(session) = self.sessions.get_mut(&key) else {
            return;
        };
        let addresses_changed = session.addresses != update.addresses;
        for a in &session.addresses {
            self.owners.remove(kind, a, None);
        }
        for a in &update.addresses {
            self.owners.insert(kind, *a, key.clone());
        }
        session.addresses.clone_from(&update.addresses);
        update.apply(&mut session.event);
        session.lease_end = update.lease_end;
        let cin = session.cin;
        let mut records = Vec::new();
        for (xid, begun) in session.tasks.iter_mut() {
            let Some(entry) = self.tasks.get(xid) else {
                continue;
            };
            if entry.state != WindowState::Open || !entry.task.covers(time) {
                continue;
            }
            let mut event = session.event.clone();
            let iri_type = if *begun {
                event.event_type = AccessEventType::InterimUpdate;
                IriType::Continue
            } else if is_new && starts {
                event.event_type = AccessEventType::AccessAccept;
                IriType::Begin
            } else {
                event.event_type = AccessEventType::StartOfInterceptionWithSessionActive;
                IriType::Begin
            };
            *begun = true;
            records.push((*xid, iri_type, event));
        }
        let intercepted = !session.tasks.is_empty();
        for (xid, iri_type, event) in records {
            self.emit_iri(xid, cin, time, iri_type, event, out);
        }
        if intercepted && (is_new || addresses_changed) {
            self.rebuild_bindings();
        }
        // A new deadline can only bring the next transition forward; a deadline that moved
        // later is found stale, and skipped, when its time comes.
        if let Some(end) = update.lease_end {
            self.next_transition = Some(self.next_transition.map_or(end, |t| t.min(end)));
        }
    }

    /// Ends a session: IRI-End for the tasks that had begun, the addresses released.
    fn end_session(
        &mut self,
        key: &SessionKey,
        time: Timestamp,
        reason: EndReason,
        update: Option<SessionUpdate>,
        out: &mut Vec<InterceptRecord>,
    ) {
        let Some(mut session) = self.sessions.remove(key) else {
            return;
        };
        for a in &session.addresses {
            self.owners.remove(key.is_dhcp(), a, Some(key));
        }
        if let Some(update) = update {
            update.apply(&mut session.event);
        }
        session.event.event_type = AccessEventType::AccessEnd;
        session.event.end_time = Some(time);
        session.event.end_reason = Some(reason);
        // Every begin gets its end, whatever the window says now.
        for (xid, begun) in &session.tasks {
            if *begun && self.tasks.contains_key(xid) {
                self.emit_iri(
                    *xid,
                    session.cin,
                    time,
                    IriType::End,
                    session.event.clone(),
                    out,
                );
            }
        }
        if !session.tasks.is_empty() {
            self.rebuild_bindings();
        }
    }

    fn radius(&mut self, time: Timestamp, payload: &[u8], out: &mut Vec<InterceptRecord>) {
        let req = match parse_accounting(payload) {
            Ok(Some(req)) => req,
            Ok(None) => return,
            Err(_) => {
                self.stats.radius_errors += 1;
                return;
            }
        };
        self.stats.radius_requests += 1;
        // The NAS: its identifier, else its IPv4 or IPv6 address (RFC 2865 §5.4/5.32,
        // RFC 3162 §2.1), so sessions of different NASes never share a key.
        let nas = req
            .nas_identifier
            .clone()
            .or_else(|| req.nas_ip_address.map(|a| a.octets().to_vec()))
            .or_else(|| req.nas_ipv6_address.map(|a| a.octets().to_vec()))
            .unwrap_or_default();
        if matches!(
            req.status,
            AcctStatusType::AccountingOn | AcctStatusType::AccountingOff
        ) {
            // The NAS (re)started: every session it had is over.
            let keys: Vec<SessionKey> = self
                .sessions
                .keys()
                .filter(|k| matches!(k, SessionKey::Radius { nas: n, .. } if *n == nas))
                .cloned()
                .collect();
            for k in keys {
                self.end_session(&k, time, EndReason::ConnectionLoss, None, out);
            }
            return;
        }
        let Some(session_id) = req.acct_session_id.clone() else {
            self.stats.radius_errors += 1;
            return;
        };
        let key = SessionKey::Radius { nas, session_id };
        let raw = payload.get(..req.raw_len).unwrap_or(payload);
        let update = SessionUpdate::from_radius(&req, raw);
        match req.status {
            AcctStatusType::Start => self.session_event(key, update, true, time, out),
            AcctStatusType::InterimUpdate => self.session_event(key, update, false, time, out),
            AcctStatusType::Stop => {
                let reason = end_reason(req.acct_terminate_cause);
                self.end_session(&key, time, reason, Some(update), out);
            }
            _ => {}
        }
    }

    fn dhcp(
        &mut self,
        time: Timestamp,
        from_server: bool,
        payload: &[u8],
        out: &mut Vec<InterceptRecord>,
    ) {
        let msg = match parse_dhcpv4(payload) {
            Ok(msg) => msg,
            Err(_) => {
                self.stats.dhcp_errors += 1;
                return;
            }
        };
        self.stats.dhcp_messages += 1;
        let Some(mac) = msg.client_mac else {
            return;
        };
        let key = SessionKey::Dhcp(mac);
        match msg.message_type {
            // Only a server's reply binds an address: a client cannot forge one from port 68.
            Some(DhcpMessageType::Ack) if from_server && msg.op == BootpOp::BootReply => {
                let Some(addr) = msg.bound_address().filter(|a| usable_v4(*a)) else {
                    return;
                };
                let update = SessionUpdate::from_dhcp(&msg, addr, time, payload);
                self.session_event(key, update, true, time, out);
            }
            Some(DhcpMessageType::Release) if !from_server => {
                self.end_session(&key, time, EndReason::RegularLogoff, None, out);
            }
            // DECLINE: the client found the address in use by another host; NAK: the
            // server refused the lease. Either way the client does not hold it.
            Some(DhcpMessageType::Decline) if !from_server => {
                self.end_session(&key, time, EndReason::Undefined, None, out);
            }
            Some(DhcpMessageType::Nak) if from_server => {
                self.end_session(&key, time, EndReason::Undefined, None, out);
            }
            _ => {}
        }
    }
}

/// An IPv4 address a subscriber can hold: not unspecified, broadcast, or RFC 2865's
/// "assigned by the NAS" placeholder 255.255.255.254.
fn usable_v4(a: std::net::Ipv4Addr) -> bool {
    !a.is_unspecified() && !a.is_broadcast() && a != std::net::Ipv4Addr::new(255, 255, 255, 254)
}

/// A prefix a session can be bound to: a usable address, not a default route.
fn usable(p: &IpPrefix) -> bool {
    match p.addr() {
        IpAddr::V4(a) => usable_v4(a) && p.prefix_len() > 0,
        IpAddr::V6(a) => !a.is_unspecified() && p.prefix_len() > 0,
    }
}

/// What an AAA message says about a session.
#[derive(Clone, Debug, Default)]
struct SessionUpdate {
    username: Option<Vec<u8>>,
    mac: Option<[u8; 6]>,
    addresses: Vec<IpPrefix>,
    lease_end: Option<Timestamp>,
    network_id: Option<String>,
    cpe_id: Option<String>,
    pop_identifier: Option<String>,
    pop_ip_address: Option<IpAddr>,
    nas_port_id: Option<Vec<u8>>,
    session_id: Option<String>,
    octets_received: Option<u64>,
    octets_transmitted: Option<u64>,
    authentication_type: Option<AuthenticationType>,
    raw: Vec<u8>,
}

impl SessionUpdate {
    fn from_radius(req: &AccountingRequest, raw: &[u8]) -> Self {
        let mut addresses = Vec::new();
        if let Some(a) = req.framed_ip_address {
            addresses.push(IpPrefix::host(IpAddr::V4(a)));
        }
        if let Some(a) = req.framed_ipv6_address {
            addresses.push(IpPrefix::host(IpAddr::V6(a)));
        }
        addresses.extend(req.framed_ipv6_prefix);
        addresses.extend(req.delegated_ipv6_prefix);
        addresses.retain(usable);
        let text = |v: &Option<Vec<u8>>| {
            v.as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        Self {
            username: req.user_name.clone(),
            mac: req.calling_station_mac(),
            addresses,
            lease_end: None,
            network_id: text(&req.calling_station_id),
            cpe_id: None,
            pop_identifier: text(&req.nas_identifier),
            pop_ip_address: req.nas_ip_address.map(IpAddr::V4),
            nas_port_id: req.nas_port_id.clone(),
            session_id: text(&req.acct_session_id),
            // Acct-Input counts octets from the user (transmitted by the target).
            octets_received: req.acct_output_octets,
            octets_transmitted: req.acct_input_octets,
            authentication_type: Some(AuthenticationType::RadiusAaa),
            raw: raw.to_vec(),
        }
    }

    fn from_dhcp(msg: &DhcpMessage, addr: std::net::Ipv4Addr, time: Timestamp, raw: &[u8]) -> Self {
        let mac = msg.client_mac;
        let lease_end = msg
            .lease_time
            .and_then(|secs| time.checked_add(std::time::Duration::from_secs(u64::from(secs))));
        let relay = msg.relay_agent.as_ref();
        Self {
            username: None,
            mac,
            addresses: vec![IpPrefix::host(IpAddr::V4(addr))],
            lease_end,
            network_id: mac.map(|m| {
                m.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            }),
            cpe_id: relay
                .and_then(|r| r.circuit_id.as_deref())
                .map(|c| String::from_utf8_lossy(c).into_owned()),
            pop_identifier: None,
            pop_ip_address: (!msg.giaddr.is_unspecified()).then_some(IpAddr::V4(msg.giaddr)),
            nas_port_id: None,
            session_id: None,
            octets_received: None,
            octets_transmitted: None,
            authentication_type: Some(AuthenticationType::DhcpAaa),
            raw: raw.to_vec(),
        }
    }

    /// Copies what the message says into the session's access details.
    fn apply(&self, e: &mut AccessEvent) {
        if let Some(u) = &self.username {
            e.username.clone_from(u);
        }
        e.addresses.clone_from(&self.addresses);
        e.ip_version = None;
        macro_rules! keep {
            ($($f:ident),*) => {$(
                if self.$f.is_some() {
                    e.$f.clone_from(&self.$f);
                }
            )*};
        }
        keep!(
            network_id,
            cpe_id,
            pop_identifier,
            pop_ip_address,
            nas_port_id,
            session_id
        );
        keep!(octets_received, octets_transmitted, authentication_type);
        e.expected_end_time = self.lease_end;
        e.raw_aaa = Some(self.raw.clone());
    }
}

/// The static prefix of an address or prefix target.
fn static_prefix(t: &TargetIdentifier) -> Option<IpPrefix> {
    match t {
        TargetIdentifier::Ipv4Address(a) => Some(IpPrefix::host(IpAddr::V4(*a))),
        TargetIdentifier::Ipv6Address(a) => Some(IpPrefix::host(IpAddr::V6(*a))),
        TargetIdentifier::IpPrefix(p) => Some(*p),
        _ => None,
    }
}

/// RFC 2866 Acct-Terminate-Cause to TS 102 232-3 endReason.
fn end_reason(cause: Option<u32>) -> EndReason {
    match cause {
        Some(1) => EndReason::RegularLogoff, // User Request
        Some(2 | 3 | 8 | 9 | 10) => EndReason::ConnectionLoss, // Lost Carrier/Service, Port Error, NAS Error/Request
        Some(4 | 5) => EndReason::ConnectionTimeout,           // Idle/Session Timeout
        _ => EndReason::Undefined,
    }
}

/// Which session holds each address or prefix, by session kind (DHCP or not): a RADIUS and
/// a DHCP session of one subscriber may hold the same address.
#[derive(Debug, Default)]
struct Owners {
    exact: HashMap<(bool, IpPrefix), SessionKey>,
    /// The owned prefixes that are not single addresses, the only ones that can contain
    /// another address.
    prefixes: Vec<(bool, IpPrefix)>,
}

impl Owners {
    fn insert(&mut self, kind: bool, p: IpPrefix, key: SessionKey) {
        if self.exact.insert((kind, p), key).is_none() && !is_host(&p) {
            self.prefixes.push((kind, p));
        }
    }

    /// Forgets `p`, if `only` is `None` or names its owner.
    fn remove(&mut self, kind: bool, p: &IpPrefix, only: Option<&SessionKey>) {
        let owned = (kind, *p);
        if only.is_none_or(|k| self.exact.get(&owned) == Some(k))
            && self.exact.remove(&owned).is_some()
        {
            self.prefixes.retain(|o| *o != owned);
        }
    }

    /// The other sessions of `kind` whose address or prefix equals, contains or lies inside
    /// one of `addresses`. A single address is looked up, then checked against the owned
    /// prefixes; only a prefix in `addresses` needs a scan of every owner.
    fn overlapping(&self, kind: bool, key: &SessionKey, addresses: &[IpPrefix]) -> Vec<SessionKey> {
        let mut out: Vec<SessionKey> = Vec::new();
        let mut push = |owner: &SessionKey| {
            if owner != key && !out.contains(owner) {
                out.push(owner.clone());
            }
        };
        for a in addresses {
            if is_host(a) {
                if let Some(owner) = self.exact.get(&(kind, *a)) {
                    push(owner);
                }
                for (k, p) in &self.prefixes {
                    if *k == kind
                        && p.contains(a.addr())
                        && let Some(owner) = self.exact.get(&(*k, *p))
                    {
                        push(owner);
                    }
                }
            } else {
                for ((k, p), owner) in &self.exact {
                    if *k == kind && (p == a || a.contains(p.addr()) || p.contains(a.addr())) {
                        push(owner);
                    }
                }
            }
        }
        out
    }
}

/// A /32 or /128: one address.
fn is_host(p: &IpPrefix) -> bool {
    matches!(
        (p.addr(), p.prefix_len()),
        (IpAddr::V4(_), 32) | (IpAddr::V6(_), 128)
    )
}

/// What a packet's addresses are looked up in: static targets and intercepted sessions.
struct Targets<'a> {
    table: &'a StaticTable,
    bound: &'a FastMap<IpAddr, Vec<SessionKey>>,
    bound_prefixes: &'a [(IpPrefix, SessionKey)],
    sessions: &'a HashMap<SessionKey, Session>,
}

impl Targets<'_> {
    /// Gives `cc` a record for every task with a static target or an intercepted session
    /// at `addr`, in `direction`.
    fn deliver(&self, cc: &mut CcSink<'_, '_>, addr: IpAddr, direction: PayloadDirection) {
        for &xid in self.table.lookup(addr) {
            if let Some(entry) = cc.tasks.get(&xid) {
                cc.push(xid, entry.static_cin, direction);
            }
        }
        let hosts = self.bound.get(&addr).map(Vec::as_slice).unwrap_or_default();
        let prefix = self
            .bound_prefixes
            .iter()
            .find(|(p, _)| p.contains(addr))
            .map(|(_, k)| k);
        for key in hosts.iter().chain(prefix) {
            if let Some(session) = self.sessions.get(key) {
                for &(xid, begun) in &session.tasks {
                    if begun {
                        cc.push(xid, session.cin, direction);
                    }
                }
            }
        }
    }
}

/// Emits the CC records of one packet.
struct CcSink<'a, 'p> {
    tasks: &'a HashMap<Xid, TaskEntry>,
    stats: &'a mut ClassifierStats,
    time: Timestamp,
    ip: &'p [u8],
    /// The declared IP length of a packet cut by the capture.
    original_len: Option<u32>,
    /// The packet, copied once on the first record and shared by the others.
    payload: Option<Bytes>,
    /// Index in `out` of this packet's first record.
    first: usize,
    out: &'a mut Vec<InterceptRecord>,
}

impl CcSink<'_, '_> {
    /// One CC record for `xid`, unless the task may not have it now or already has this
    /// packet (a packet between two targets of one task is sent once, with the direction of
    /// its source).
    fn push(&mut self, xid: Xid, cin: Cin, direction: PayloadDirection) {
        let Some(entry) = self.tasks.get(&xid) else {
            return;
        };
        if entry.state != WindowState::Open || !entry.task.may_deliver_cc(self.time) {
            return;
        }
        let already = self
            .out
            .get(self.first..)
            .unwrap_or_default()
            .iter()
            .any(|r| matches!(r, InterceptRecord::Cc(c) if c.xid == xid));
        if already {
            return;
        }
        let ip = self.ip;
        let bytes = self
            .payload
            .get_or_insert_with(|| Bytes::copy_from_slice(ip))
            .clone();
        self.out.push(InterceptRecord::Cc(CcRecord {
            xid,
            cin,
            timestamp: self.time,
            direction,
            payload: bytes,
            original_len: self.original_len,
            kind: li_core::CcKind::IpPacket,
        }));
        self.stats.cc_records += 1;
    }
}

#[cfg(test)]
mod tests;
