//! A broadband access network seen on one tap, with its ground truth: two static targets
//! (IPv4, and IPv6 on a VLAN), two RADIUS users who hold the same address one after the
//! other, and the background traffic of everybody else.
//!
//! [`Scenario::generate`] builds, deterministically (a seeded generator, no clock, no OS
//! randomness), an Ethernet pcap of about 2,300 frames over two minutes from
//! [`CAPTURE_START`] (2026-01-15T10:00:00Z), seen on the tap between an access router (MAC
//! [`ROUTER_MAC`]) and its subscribers:
//!
//! - the **static IPv4 target** [`STATIC_V4`]: web (HTTP on port 80 and HTTPS-like on 443,
//!   with handshakes, requests, responses and FINs), DNS, pings out and in, and two
//!   connections to its own HTTPS server, throughout the capture;
//! - the **static IPv6 target** [`STATIC_V6`]: web, DNS (AAAA) and ICMPv6 echo, carried on
//!   802.1Q VLAN [`V6_VLAN`] (so its IP packets start 18 octets into the frame);
//! - the **RADIUS user** [`ALICE`]: RADIUS accounting Start ([`ALICE_START`]),
//!   Interim-Update ([`ALICE_INTERIM`]) and Stop ([`ALICE_STOP`]) from the NAS [`NAS_V4`] to
//!   the server [`RADIUS_SERVER_V4`] port [`RADIUS_ACCT_PORT`], each answered by an
//!   Accounting-Response; her traffic on the framed address [`FRAMED_V4`] between Start and
//!   Stop;
//! - the same framed address used **before** alice's Start (scans: nobody's), **after** her
//!   Stop (a server's late segment and its reset, a scan: nobody's), then by [`BOB`] from his
//!   Start ([`BOB_START`]) to his Stop ([`BOB_STOP`]), then by nobody again;
//! - the **SIP target** [`CALLER`] (`sip:alice@voice.example`): one call it makes from
//!   [`CALL_START`], four seconds of G.711 both ways (mu-law from the target, A-law to it),
//!   then a BYE: [`super::voice::demo_call`] moved into this capture's timeline, its frames
//!   merged in by time ([`Scenario::call`] keeps the call's own ground truth: its SIP
//!   messages and IRI types, the audio each direction carried);
//! - **background**: other subscribers' web, DNS, NTP and ping traffic (IPv4 and IPv6),
//!   ARP, SNMP on a management VLAN, and six other users' RADIUS sessions (one on a
//!   second NAS), none of them targeted.
//!
//! Every frame is at least 60 octets (Ethernet padding, which is not part of the IP packet),
//! every IP packet 40 to 1500 octets, with valid IPv4, TCP, UDP, ICMP and ICMPv6 checksums;
//! RADIUS authenticators are computed with the shared secret [`RADIUS_SECRET`], so Wireshark
//! validates them when given it. Timestamps strictly increase.
//!
//! The seed ([`Scenario::generate_with_seed`]; [`Scenario::SEED`] by default) varies the
//! background, the jitter of every exchange, sizes, ports and sequence numbers; the timeline
//! above, the addresses, users and the times of the key RADIUS messages do not change, and the
//! ground truth holds for every seed.
//!
//! # Ground truth
//!
//! Each [`Frame`] says who owns it ([`Owner`]), from the generator's own knowledge,
//! never by running a classifier: [`Scenario::expected_cc`] is an oracle independent of the
//! probe under test. The semantics:
//!
//! - a packet to or from a static target's address is that target's, whenever it is seen;
//! - a packet to or from [`FRAMED_V4`] is alice's if its timestamp is strictly after her
//!   Start's and strictly before her Stop's (the accounting messages' own capture times;
//!   no packet shares their timestamps), bob's likewise between his Start and Stop, and
//!   nobody's ([`Owner::Unbound`]) otherwise;
//! - RADIUS packets ([`Owner::Radius`]) are nobody's CC: they are the AAA signalling the
//!   probe reads, not traffic of the user they describe (they travel between the NAS and
//!   the server, not to the user's address);
//! - non-IP frames (ARP) have no IP packet and are [`Owner::Background`];
//! - the SIP target's call: its SIP messages are [`Owner::CallSignalling`] (IRI of the
//!   call, never CC), its RTP and RTCP packets [`Owner::CallMedia`] (the call's CC).
//!
//! An IRI-and-CC task on a [`Target`] whose validity window is
//! `[window_start, window_end)` (start inclusive, end exclusive, `None` for no end) must
//! deliver as CC exactly the IP packets ([`Frame::ip`]: without the Ethernet header,
//! VLAN tag and padding) of the frames that target owns with
//! `window_start <= timestamp < window_end`, in capture order, each once, with
//! [`Frame::direction`]. This assumes the task is provisioned before the replay
//! reaches `window_start` (before the first frame, for a window that starts before the
//! capture), and that every frame is replayed with its capture timestamp.

mod generator;

use std::net::{Ipv4Addr, Ipv6Addr};

use li_core::{PayloadDirection, TargetIdentifier, Timestamp};

use super::Error;
use super::packet::Mac;
use super::voice::{CallEnd, Content as VoiceContent, DemoCall, Frame as VoiceFrame};
use crate::LinkType;
use crate::source::PcapWriter;

use generator::{Class, Generator, Mark, RawFrame};

/// Seconds from the Unix epoch to [`CAPTURE_START`], 2026-01-15T10:00:00Z.
pub const EPOCH_SECS: u64 = 1_768_471_200;

const MICROS: u64 = 1_000_000;

/// The timestamp `offset` microseconds after [`CAPTURE_START`].
const fn at(offset: u64) -> Timestamp {
    let result = Timestamp::from_unix_micros(EPOCH_SECS * MICROS + offset);
    let t = match &result {
        Ok(t) => *t,
        Err(_) => Timestamp::MAX, // not reached: offsets are minutes into 2026
    };
    // The error type has a destructor, which constant evaluation cannot run.
    std::mem::forget(result);
    t
}

// Offsets (microseconds from the capture start) of the key events.
const ALICE_START_OFFSET: u64 = 20 * MICROS;
const ALICE_INTERIM_OFFSET: u64 = 60 * MICROS;
const ALICE_STOP_OFFSET: u64 = 100 * MICROS;
const BOB_START_OFFSET: u64 = 104 * MICROS;
const BOB_STOP_OFFSET: u64 = 116 * MICROS;

/// The start of the capture, 2026-01-15T10:00:00Z: no frame is earlier.
pub const CAPTURE_START: Timestamp = at(0);
/// The end of the capture, 2026-01-15T10:02:00Z: every frame is earlier.
pub const CAPTURE_END: Timestamp = at(generator::LENGTH);
/// The timestamp of alice's Accounting-Request Start (10:00:20Z).
pub const ALICE_START: Timestamp = at(ALICE_START_OFFSET);
/// The timestamp of alice's Accounting-Request Interim-Update (10:01:00Z).
pub const ALICE_INTERIM: Timestamp = at(ALICE_INTERIM_OFFSET);
/// The timestamp of alice's Accounting-Request Stop (10:01:40Z).
pub const ALICE_STOP: Timestamp = at(ALICE_STOP_OFFSET);
/// The timestamp of bob's Accounting-Request Start (10:01:44Z).
pub const BOB_START: Timestamp = at(BOB_START_OFFSET);
/// The timestamp of bob's Accounting-Request Stop (10:01:56Z).
pub const BOB_STOP: Timestamp = at(BOB_STOP_OFFSET);

/// The SIP target's call starts (its INVITE) 30 s into the capture, 10:00:30Z.
pub const CALL_START: Timestamp = at(CALL_START_OFFSET);
const CALL_START_OFFSET: u64 = 30 * MICROS;
/// The SIP target: the caller of the scenario's one call.
pub const CALLER: &str = super::voice::TARGET_URI;

/// The static IPv4 target.
pub const STATIC_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 23);
/// The static IPv6 target.
pub const STATIC_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x23);
/// The 802.1Q VLAN carrying all IPv6 traffic (the static IPv6 target's included).
pub const V6_VLAN: u16 = 60;
/// The RADIUS username target (`User-Name`).
pub const ALICE: &str = "alice@isp.example";
/// The user who gets alice's address after her (not a target of the demo).
pub const BOB: &str = "bob@isp.example";
/// The Framed-IP-Address of alice's session, then of bob's.
pub const FRAMED_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 57);
/// Alice's Acct-Session-Id.
pub const ALICE_SESSION_ID: &str = "0a3f5e01";
/// Bob's Acct-Session-Id.
pub const BOB_SESSION_ID: &str = "0a3f5e02";
/// Alice's CPE MAC address (her Calling-Station-Id is `02-A1-1C-E0-00-01`).
pub const ALICE_MAC: [u8; 6] = [0x02, 0xa1, 0x1c, 0xe0, 0x00, 0x01];
/// Bob's CPE MAC address (his Calling-Station-Id is `02-B0-B0-00-00-02`).
pub const BOB_MAC: [u8; 6] = [0x02, 0xb0, 0xb0, 0x00, 0x00, 0x02];
/// The NAS (NAS-IP-Address) of alice's and bob's sessions; a second NAS, 192.0.2.2, has
/// one background session.
pub const NAS_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The NAS-Identifier of [`NAS_V4`].
pub const NAS_IDENTIFIER: &str = "bng-1.isp.example";
/// The RADIUS accounting server.
pub const RADIUS_SERVER_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 9);
/// The RADIUS accounting port requests are sent to.
pub const RADIUS_ACCT_PORT: u16 = 1813;
/// The RADIUS shared secret of the request and response authenticators.
pub const RADIUS_SECRET: &[u8] = b"sample-secret";
/// The link type of the capture.
pub const LINK_TYPE: LinkType = LinkType::Ethernet;
/// The access router (BNG) every subscriber talks through: the MAC of every frame to or from
/// beyond it.
pub const ROUTER_MAC: Mac = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x01];

/// Who a frame belongs to. See the [module documentation](self) for the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    /// To or from [`STATIC_V4`].
    StaticV4,
    /// To or from [`STATIC_V6`].
    StaticV6,
    /// To or from [`FRAMED_V4`] during alice's session.
    Alice,
    /// To or from [`FRAMED_V4`] during bob's session.
    Bob,
    /// To or from [`FRAMED_V4`] outside both sessions: nobody's.
    Unbound,
    /// RADIUS accounting requests and responses, of every user.
    Radius,
    /// The SIP messages of the SIP target's call ([`CALLER`]).
    CallSignalling,
    /// The RTP and RTCP packets of the SIP target's call.
    CallMedia,
    /// Everything else, ARP included.
    Background,
}

impl Owner {
    /// Every owner: the targets', nobody's, RADIUS, the rest.
    pub const ALL: [Self; 9] = [
        Self::StaticV4,
        Self::StaticV6,
        Self::Alice,
        Self::Bob,
        Self::Unbound,
        Self::Radius,
        Self::CallSignalling,
        Self::CallMedia,
        Self::Background,
    ];

    /// A short description (for a table of the frames per owner).
    pub fn describe(self) -> &'static str {
        match self {
            Self::StaticV4 => "static IPv4 target 198.51.100.23",
            Self::StaticV6 => "static IPv6 target 2001:db8:100::23 (VLAN 60)",
            Self::Alice => "alice@isp.example on 203.0.113.57, Start to Stop",
            Self::Bob => "bob@isp.example on 203.0.113.57, Start to Stop",
            Self::Unbound => "203.0.113.57 while nobody holds it",
            Self::Radius => "RADIUS accounting requests and responses",
            Self::CallSignalling => "SIP of sip:alice@voice.example's call",
            Self::CallMedia => "RTP and RTCP of that call (G.711)",
            Self::Background => "everything else (ARP included)",
        }
    }
}

/// A target of the scenario that [`Scenario::expected_cc`] knows about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// `ipv4:198.51.100.23`.
    StaticV4,
    /// `ipv6:2001:db8:100::23`.
    StaticV6,
    /// `username:alice@isp.example`.
    Alice,
    /// `username:bob@isp.example`.
    Bob,
    /// `sip:alice@voice.example`: its call's media is CC, its SIP IRI.
    Caller,
}

impl Target {
    /// Every target.
    pub const ALL: [Self; 5] = [
        Self::StaticV4,
        Self::StaticV6,
        Self::Alice,
        Self::Bob,
        Self::Caller,
    ];

    /// The target identifier in li-core's text form (`kind:value`).
    pub fn text(self) -> &'static str {
        match self {
            Self::StaticV4 => "ipv4:198.51.100.23",
            Self::StaticV6 => "ipv6:2001:db8:100::23",
            Self::Alice => "username:alice@isp.example",
            Self::Bob => "username:bob@isp.example",
            Self::Caller => CALLER,
        }
    }

    /// The target identifier.
    pub fn identifier(self) -> li_core::Result<TargetIdentifier> {
        self.text().parse()
    }

    /// The scenario's target an identifier names, if it names one.
    pub fn from_identifier(id: &TargetIdentifier) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.identifier().is_ok_and(|own| own == *id))
    }

    /// The owner whose frames the target's CC is made of.
    pub fn owner(self) -> Owner {
        match self {
            Self::StaticV4 => Owner::StaticV4,
            Self::StaticV6 => Owner::StaticV6,
            Self::Alice => Owner::Alice,
            Self::Bob => Owner::Bob,
            Self::Caller => Owner::CallMedia,
        }
    }
}

/// One frame of the scenario and its ground truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Position in the capture, from 0.
    pub index: usize,
    /// Capture time.
    pub timestamp: Timestamp,
    /// The frame, from the Ethernet header on (as written to the pcap).
    pub data: Vec<u8>,
    /// The IP packet (what HI3 carries): without Ethernet header, VLAN tag or padding.
    /// `None` for ARP.
    pub ip: Option<Vec<u8>>,
    /// The 802.1Q VLAN, if the frame is tagged.
    pub vlan: Option<u16>,
    /// Who the frame belongs to.
    pub owner: Owner,
    /// For a target's frame, whether it comes from or goes to the target; `None` otherwise.
    pub direction: Option<PayloadDirection>,
}

/// The generated capture and its ground truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The classic pcap file (little-endian, microsecond timestamps, Ethernet), written with
    /// [`PcapWriter`].
    pub pcap: Vec<u8>,
    /// Every frame, in capture order.
    pub frames: Vec<Frame>,
    /// The SIP target's call with its own ground truth (SIP messages and their IRI types,
    /// media, the audio of each direction), its times those of this capture; its frames are
    /// [`Owner::CallSignalling`] and [`Owner::CallMedia`] frames of [`Scenario::frames`], in
    /// the same order.
    pub call: DemoCall,
}

impl Scenario {
    /// The seed of [`Scenario::generate`].
    pub const SEED: u64 = 0x11_c0de_5a3f_2026;

    /// Generates the capture with [`Scenario::SEED`]: the same bytes every time, on every
    /// machine.
    ///
    /// ```
    /// use li_capture::source::FileReader;
    /// use li_capture::synth::scenario::{self, Owner, Scenario, Target};
    ///
    /// let scenario = Scenario::generate()?;
    /// // The pcap holds the frames, in order.
    /// let mut reader = FileReader::new(scenario.pcap.as_slice())?;
    /// let first = reader.next_frame()?.expect("a frame");
    /// assert_eq!(first.data, scenario.frames[0].data.as_slice());
    ///
    /// // What a probe must deliver as CC for alice over the whole capture: her IP packets
    /// // between her RADIUS Start and Stop, and nothing of bob's on the same address.
    /// let alice = scenario.expected_cc(Target::Alice, scenario::CAPTURE_START, None);
    /// assert_eq!(alice.len(), scenario.count(Owner::Alice));
    /// assert!(alice.iter().all(|f| scenario::ALICE_START < f.timestamp
    ///     && f.timestamp < scenario::ALICE_STOP));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn generate() -> Result<Self, Error> {
        Self::generate_with_seed(Self::SEED)
    }

    /// Generates the capture with another seed: other background and jitter, the same
    /// timeline and ground-truth rules (see the [module documentation](self)).
    pub fn generate_with_seed(seed: u64) -> Result<Self, Error> {
        let raw = Generator::generate(seed);
        let mark_time = |mark: Mark| {
            raw.iter()
                .find(|f| f.class == Class::Radius(Some(mark)))
                .map(|f| f.t)
                .ok_or(Error::MissingMessage(mark.describe()))
        };
        let alice = (mark_time(Mark::AliceStart)?, mark_time(Mark::AliceStop)?);
        let bob = (mark_time(Mark::BobStart)?, mark_time(Mark::BobStop)?);
        let call = call_in_timeline()?;
        let mut call_frames = call.capture.frames.iter().peekable();
        let mut writer = PcapWriter::new(Vec::new(), LINK_TYPE, false)?;
        let mut frames = Vec::with_capacity(raw.len() + call.capture.frames.len());
        for f in raw {
            let timestamp = Timestamp::from_unix_micros(EPOCH_SECS * MICROS + f.t)?;
            while let Some(c) = call_frames.next_if(|c| c.timestamp < timestamp) {
                writer.write_frame(c.timestamp, &c.data)?;
                frames.push(call_frame(frames.len(), &call, c));
            }
            let index = frames.len();
            writer.write_frame(timestamp, &f.data)?;
            let owner = owner_of(&f, alice, bob);
            let direction = match owner {
                Owner::StaticV4 | Owner::StaticV6 | Owner::Alice | Owner::Bob => {
                    Some(if f.from_target {
                        PayloadDirection::FromTarget
                    } else {
                        PayloadDirection::ToTarget
                    })
                }
                _ => None,
            };
            let ip = f
                .ip_offset
                .and_then(|o| ip_packet(&f.data, o))
                .map(<[u8]>::to_vec);
            frames.push(Frame {
                index,
                timestamp,
                ip,
                vlan: f.vlan,
                owner,
                direction,
                data: f.data,
            });
        }
        for c in call_frames {
            writer.write_frame(c.timestamp, &c.data)?;
            frames.push(call_frame(frames.len(), &call, c));
        }
        Ok(Self {
            pcap: writer.into_inner(),
            frames,
            call,
        })
    }

    /// The frames whose IP packets an IRI-and-CC task on `target`, valid from `window_start`
    /// (inclusive) to `window_end` (exclusive; `None`: no end), must deliver as CC, in order.
    /// See the [module documentation](self) for the rules and assumptions.
    pub fn expected_cc(
        &self,
        target: Target,
        window_start: Timestamp,
        window_end: Option<Timestamp>,
    ) -> Vec<&Frame> {
        let owner = target.owner();
        self.frames
            .iter()
            .filter(|f| {
                f.owner == owner
                    && f.timestamp >= window_start
                    && window_end.is_none_or(|end| f.timestamp < end)
            })
            .collect()
    }

    /// The IP packets of [`Scenario::expected_cc`].
    pub fn expected_cc_packets(
        &self,
        target: Target,
        window_start: Timestamp,
        window_end: Option<Timestamp>,
    ) -> Vec<&[u8]> {
        self.expected_cc(target, window_start, window_end)
            .into_iter()
            .filter_map(|f| f.ip.as_deref())
            .collect()
    }

    /// How many frames `owner` has.
    pub fn count(&self, owner: Owner) -> usize {
        self.frames.iter().filter(|f| f.owner == owner).count()
    }
}

/// [`super::voice::demo_call`] moved from its own epoch to [`CALL_START`].
fn call_in_timeline() -> Result<DemoCall, Error> {
    let mut call = super::voice::demo_call()?;
    let first = call
        .capture
        .frames
        .first()
        .map(|f| f.timestamp)
        .ok_or(Error::MissingMessage("the demo call's first frame"))?;
    let shift = |t: Timestamp| {
        Timestamp::from_unix_micros(
            t.unix_micros() - first.unix_micros() + CALL_START.unix_micros(),
        )
    };
    for f in &mut call.capture.frames {
        f.timestamp = shift(f.timestamp)?;
    }
    for c in &mut call.capture.calls {
        if let CallEnd::Silence { last_activity } = &mut c.end {
            *last_activity = shift(*last_activity)?;
        }
    }
    let mut writer = PcapWriter::new(Vec::new(), LINK_TYPE, false)?;
    for f in &call.capture.frames {
        writer.write_frame(f.timestamp, &f.data)?;
    }
    call.capture.pcap = writer.into_inner();
    Ok(call)
}

/// A frame of the SIP target's call as a frame of the scenario.
fn call_frame(index: usize, call: &DemoCall, f: &VoiceFrame) -> Frame {
    let (owner, direction) = match &f.content {
        _ if !call.capture.is_target_frame(f.index) => (Owner::Background, None),
        VoiceContent::Media(m) => (Owner::CallMedia, m.direction),
        VoiceContent::Sip(_) => (Owner::CallSignalling, None),
        VoiceContent::Other => (Owner::Background, None),
    };
    Frame {
        index,
        timestamp: f.timestamp,
        data: f.data.clone(),
        ip: Some(f.ip.clone()),
        vlan: None,
        owner,
        direction,
    }
}

/// The owner of a frame, from the final times of the sessions' Start and Stop.
fn owner_of(f: &RawFrame, alice: (u64, u64), bob: (u64, u64)) -> Owner {
    match f.class {
        Class::Static4 => Owner::StaticV4,
        Class::Static6 => Owner::StaticV6,
        Class::Radius(_) => Owner::Radius,
        Class::Background => Owner::Background,
        Class::Framed if alice.0 < f.t && f.t < alice.1 => Owner::Alice,
        Class::Framed if bob.0 < f.t && f.t < bob.1 => Owner::Bob,
        Class::Framed => Owner::Unbound,
    }
}

/// The IP packet starting at `offset` of `frame`, to its own length (padding excluded).
fn ip_packet(frame: &[u8], offset: usize) -> Option<&[u8]> {
    let ip = frame.get(offset..)?;
    let len = match ip.first()? >> 4 {
        4 => usize::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?])),
        6 => 40 + usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?])),
        _ => return None,
    };
    ip.get(..len)
}

#[cfg(test)]
mod tests;
