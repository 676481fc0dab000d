//! Synthetic voice calls with their ground truth: SIP signalling with SDP and G.711 RTP
//! media, as Ethernet frames a probe can replay, and for every frame what a voice intercept
//! of the target must make of it (ETSI TS 102 232-5).
//!
//! Each [`Case`] is one situation of a real network (a call from the target, to it,
//! forwarded, cancelled, busy, held, moved, forked, over TCP, over IPv6, never ended by a
//! BYE, a REGISTER, a retransmitted INVITE, NAT, a fragmented INVITE, audio and video, two
//! legs through a B2BUA, and other people's call on the same hosts and ports after the
//! target's). [`Case::generate`] builds its [`VoiceCapture`] deterministically (a seeded
//! generator, no clock): the same bytes on every machine.
//!
//! # The network
//!
//! The tap is on the target's access side: the target's user agent [`TARGET_URI`] at
//! [`TARGET_V4`] (or [`TARGET_V6`]) talks SIP to its proxy [`PROXY_V4`] port 5060, and
//! RTP directly with the far end ([`PEER_V4`], or the fork's or the NAT's addresses of the
//! case). The target's media ports are 4000 (audio) and 4002 (video), the far end's 30000
//! and 30002; RTCP on the next port up. Audio is G.711 in 20 ms packets (160 samples), with
//! an SSRC, a random first sequence number and a random first timestamp per direction; the
//! signal is a [`Tone`] per direction ([`Tone::CALLER`], [`Tone::CALLEE`]), recomputable
//! from each packet's truth ([`RtpTruth::audio`]): sample `n` of a direction is the
//! sample at RTP timestamp `first timestamp + n`.
//!
//! # Ground truth
//!
//! Derived from how the generator built each packet, never from a parser or a tracker:
//!
//! - every SIP message is a [`SipTruth`]: its bytes, addresses, the frames that carry a part
//!   of it (several for a fragmented or segmented message) and, when it concerns the target,
//!   its [`SipIri`]: a message of a target's call with the IRI type TS 102 232-5 implies
//!   (`Begin` for the call's first message, `End` for the message that ends it: the final
//!   response to the BYE of the last leg, the failure or 487 that ends an unanswered call;
//!   `Continue` for every other message of it, the second leg's through a B2BUA included),
//!   or `Report` for a target's message outside any call (a REGISTER and its responses,
//!   under one CIN per registration's Call-ID; an ACK to a failure that arrives after the
//!   call's end, under the ended call's CIN);
//! - every RTP or RTCP packet is a [`MediaTruth`]: whose call (`None`: nobody's, e.g. the
//!   non-targets' call on the same ports, or a stranger's packet to a port the call no longer
//!   uses), which `m=` line, RTP or RTCP, sent by the caller or the callee, and the direction
//!   relative to the target;
//! - every call is a [`CallTruth`]: its Call-IDs, whether the target is the caller, and how
//!   it ends ([`CallEnd::Message`] or [`CallEnd::Silence`] when no BYE is ever seen).
//!
//! An IRI-and-CC intercept of [`TARGET_URI`] active before the first frame must report each
//! target message with its IRI type (one CIN per call) and deliver every packet whose
//! [`MediaTruth::call`] is `Some` as that call's CC, and nothing else.
//!
//! ```
//! use li_capture::source::FileReader;
//! use li_capture::synth::voice::{Case, Content};
//!
//! let capture = Case::CallFromTarget.generate()?;
//! let mut reader = FileReader::new(capture.pcap.as_slice())?;
//! let first = reader.next_frame()?.expect("a frame");
//! assert_eq!(first.data, capture.frames[0].data.as_slice());
//! // The INVITE is the call's first message: IRI-Begin.
//! let Content::Sip(messages) = &capture.frames[0].content else { panic!("SIP first") };
//! assert!(capture.messages[messages[0]].text.starts_with(b"INVITE "));
//! assert!(capture.media_of(0).count() > 200); // 20 ms packets, both ways, for seconds
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod audio;
mod cases;
mod net;
mod sip;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use li_core::media::g711::Law;
use li_core::media::rtp::RtpHeader;
use li_core::{IriType, MediaProtocol, PayloadDirection, TargetIdentifier, Timestamp};

pub use audio::Tone;
pub use cases::{DemoCall, demo_call};

use super::Error;

/// Seconds from the Unix epoch to the start of every voice capture, 2026-01-15T11:00:00Z.
pub const EPOCH_SECS: u64 = 1_768_474_800;

/// The target of every case: a SIP URI (TS 102 232-5 targets are SIP URIs or E.164 numbers).
pub const TARGET_URI: &str = "sip:alice@voice.example";
/// The target's user agent (IPv4).
pub const TARGET_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
/// The target's user agent in [`Case::Ipv6`].
pub const TARGET_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x10, 0, 0, 0, 0, 0x10);
/// The target's proxy (and the B2BUA of [`Case::ProxyTwoLegs`]).
pub const PROXY_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
/// The far end's user agent.
pub const PEER_V4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 20);
/// The target's private address behind a NAT in [`Case::NatSdp`] (in its SDP).
pub const NAT_PRIVATE_V4: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 10);
/// The NAT's public address in [`Case::NatSdp`] (where the target's SIP and media come from).
pub const NAT_PUBLIC_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 77);

/// The link type of the captures.
pub const LINK_TYPE: crate::LinkType = crate::LinkType::Ethernet;

/// The target identifier of [`TARGET_URI`].
pub fn target() -> li_core::Result<TargetIdentifier> {
    TargetIdentifier::sip_uri(TARGET_URI)
}

/// A situation of issue 13's list, each a capture of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Case {
    /// The target calls, talks, hangs up; meanwhile two non-targets have a call through the
    /// same proxy.
    CallFromTarget,
    /// The target is called (compact header names), the target hangs up.
    CallToTarget,
    /// A call to another user forwarded to the target: the Request-URI is the target's
    /// contact, To the original callee, Diversion the forwarding user; the target's address
    /// of record is named only in History-Info.
    ForwardedToTarget,
    /// The target calls and cancels while it rings (CANCEL, 487, ACK).
    Cancelled,
    /// The target is called and is busy (486, ACK).
    Busy,
    /// The target holds the call (re-INVITE `a=sendonly`, then `a=inactive`) and resumes it
    /// (`a=sendrecv`). RTCP goes on during the hold (RFC 3264 clause 5.1), from the party
    /// that receives no RTP and, while inactive, from both.
    HoldResume,
    /// The far end moves its media to a new port (re-INVITE); a stranger's packets to the old
    /// port afterwards.
    MediaMoved,
    /// The target's INVITE forked: two 180s with different To tags (the first with early
    /// media), one 200.
    Forked,
    /// SIP over TCP: a message across segments, several messages in one segment.
    TcpSegmented,
    /// SIP and media over IPv6.
    Ipv6,
    /// A call whose BYE is never seen: it ends by inactivity.
    NoBye,
    /// REGISTER challenged (401), repeated with credentials, accepted; a non-target's
    /// REGISTER too.
    Register,
    /// The INVITE retransmitted over UDP (same Call-ID and CSeq).
    RetransmittedInvite,
    /// The target behind a NAT: private address in its SDP, media from the NAT's public
    /// address; the far end's RTP not symmetric.
    NatSdp,
    /// An INVITE too big for one IPv4 packet, in fragments.
    FragmentedInvite,
    /// Audio and video streams in one call.
    AudioVideo,
    /// A call through a B2BUA: two Call-IDs, the same SDP origin; the second leg does not
    /// name the target.
    ProxyTwoLegs,
    /// The target's call, then a call between two non-targets on the same hosts and ports.
    NonTargetsAfter,
}

impl Case {
    /// Every case.
    pub const ALL: [Self; 18] = [
        Self::CallFromTarget,
        Self::CallToTarget,
        Self::ForwardedToTarget,
        Self::Cancelled,
        Self::Busy,
        Self::HoldResume,
        Self::MediaMoved,
        Self::Forked,
        Self::TcpSegmented,
        Self::Ipv6,
        Self::NoBye,
        Self::Register,
        Self::RetransmittedInvite,
        Self::NatSdp,
        Self::FragmentedInvite,
        Self::AudioVideo,
        Self::ProxyTwoLegs,
        Self::NonTargetsAfter,
    ];

    /// Builds the case's capture.
    pub fn generate(self) -> Result<VoiceCapture, Error> {
        cases::generate(self)
    }
}

/// A generated capture and its ground truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoiceCapture {
    /// The case's name.
    pub name: &'static str,
    /// The classic pcap (little-endian, microseconds, Ethernet), written with
    /// [`PcapWriter`](crate::source::PcapWriter).
    pub pcap: Vec<u8>,
    /// Every frame, in capture order (timestamps increase).
    pub frames: Vec<Frame>,
    /// Every SIP message, in the order it was sent.
    pub messages: Vec<SipTruth>,
    /// Every call of the target (indices of [`SipIri::Call::call`] and
    /// [`MediaTruth::call`]).
    pub calls: Vec<CallTruth>,
}

impl VoiceCapture {
    /// The frames carrying media of call `call`, in order.
    pub fn media_of(&self, call: usize) -> impl Iterator<Item = (&Frame, &MediaTruth)> {
        self.frames.iter().filter_map(move |f| match &f.content {
            Content::Media(m) if m.call == Some(call) => Some((f, m)),
            _ => None,
        })
    }

    /// The messages that concern the target (IRI), in order.
    pub fn target_messages(&self) -> impl Iterator<Item = &SipTruth> {
        self.messages.iter().filter(|m| m.iri.is_some())
    }

    /// The IRI an intercept of the target must produce from the SIP messages, in order:
    /// (message index, the call whose CIN it comes under or `None` for a report outside
    /// any call, the IRI type). A call that ends by
    /// [`CallEnd::Silence`] also gets an IRI-End without a message, not listed here.
    pub fn expected_iri(&self) -> Vec<(usize, Option<usize>, IriType)> {
        self.messages
            .iter()
            .filter_map(|m| match m.iri? {
                SipIri::Call { call, iri } => Some((m.index, Some(call), iri)),
                SipIri::Report { late_of } => Some((m.index, late_of, IriType::Report)),
            })
            .collect()
    }

    /// The frames an intercept of the target must deliver as CC, in order, with the call
    /// and the truth of each.
    pub fn expected_cc(&self) -> Vec<(&Frame, usize, &MediaTruth)> {
        self.frames
            .iter()
            .filter_map(|f| match &f.content {
                Content::Media(m) => m.call.map(|call| (f, call, m)),
                _ => None,
            })
            .collect()
    }

    /// Whether frame `index` carries anything an intercept of the target must deliver: a
    /// part of a target's SIP message, or a target call's media.
    pub fn is_target_frame(&self, index: usize) -> bool {
        match self.frames.get(index).map(|f| &f.content) {
            Some(Content::Sip(messages)) => messages
                .iter()
                .any(|m| self.messages.get(*m).is_some_and(|m| m.iri.is_some())),
            Some(Content::Media(m)) => m.call.is_some(),
            _ => false,
        }
    }
}

/// One frame and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Position in the capture, from 0.
    pub index: usize,
    /// Capture time.
    pub timestamp: Timestamp,
    /// The Ethernet frame (as written to the pcap).
    pub data: Vec<u8>,
    /// The IP packet in it (without the Ethernet header and padding).
    pub ip: Vec<u8>,
    /// What it carries.
    pub content: Content,
}

/// What a frame carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// (Parts of) SIP messages: indices into [`VoiceCapture::messages`]. A TCP segment can
    /// carry the end of one and the start of another; each fragment of a fragmented datagram
    /// carries a part of its message.
    Sip(Vec<usize>),
    /// An RTP or RTCP packet.
    Media(MediaTruth),
    /// Neither (a TCP handshake).
    Other,
}

/// The transport of a SIP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SipTransport {
    /// UDP (possibly in IP fragments).
    Udp,
    /// TCP (possibly across segments, possibly with other messages in a segment).
    Tcp,
}

/// A SIP message of a capture and its truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipTruth {
    /// Position in [`VoiceCapture::messages`].
    pub index: usize,
    /// The message, exactly as sent.
    pub text: Vec<u8>,
    /// Where it came from.
    pub src: SocketAddr,
    /// Where it went.
    pub dst: SocketAddr,
    /// How.
    pub transport: SipTransport,
    /// The frames that carry a part of it, in order (the last one completes it).
    pub frames: Vec<usize>,
    /// What it is for an intercept of the target; `None`: nothing (not the target's).
    pub iri: Option<SipIri>,
}

/// What a target's SIP message is: IRI of a call, or a report outside any call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SipIri {
    /// A message of the target's call `call` (an index of [`VoiceCapture::calls`]), as IRI
    /// of type `iri` (Begin, Continue or End).
    Call {
        /// The call.
        call: usize,
        /// The IRI type.
        iri: IriType,
    },
    /// A target's message outside any call: one IRI-Report, under the CIN of the call it is
    /// a late message of (an index of [`VoiceCapture::calls`]: the ACK to the failure that
    /// ended it), or else under one CIN per Call-ID (a registration's messages share it).
    Report {
        /// The ended call it is a late message of.
        late_of: Option<usize>,
    },
}

/// An RTP or RTCP packet and its truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaTruth {
    /// The target's call it is CC of; `None`: nobody's (must not be delivered).
    pub call: Option<usize>,
    /// The `m=` line (0-based) of its stream.
    pub stream: u8,
    /// RTP or RTCP.
    pub kind: MediaProtocol,
    /// Sent by the call's caller (else the callee).
    pub from_caller: bool,
    /// From or to the target (for a target's call).
    pub direction: Option<PayloadDirection>,
    /// For RTP: the header, and for audio what it carries.
    pub rtp: Option<RtpTruth>,
}

/// An RTP packet as the generator wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpTruth {
    /// The header.
    pub header: RtpHeader,
    /// For audio: the tone, the law, and the number of the first of the 160 samples of the
    /// payload ([`Tone::encoded`]`(law, first, 160)` is the payload).
    pub audio: Option<(Tone, Law, u64)>,
}

/// A call of the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallTruth {
    /// The Call-IDs of its legs (two through a B2BUA).
    pub call_ids: Vec<String>,
    /// The target made the call (else it was called).
    pub target_is_caller: bool,
    /// How it ends.
    pub end: CallEnd,
}

/// How a call ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallEnd {
    /// Message `0` (an index of [`VoiceCapture::messages`]) is its IRI-End.
    Message(usize),
    /// No message ends it: no SIP and no media after `last_activity`; an intercept ends it
    /// by its inactivity timeout (an IRI-End without a SIP message).
    Silence {
        /// The time of its last packet.
        last_activity: Timestamp,
    },
}
