//! Intercept records, neutral to the handover family: content of communication
//! ([`CcRecord`]) and intercept related information ([`IriRecord`]).
//!
//! Records name their task by [`Xid`]; the handover layer looks up the task to find the
//! LIID, destinations and format, and encodes the record as a TS 102 232 `PS-PDU` (the
//! ATIS/PacketCable messages are a later wave). Fields are plain data: the encoders enforce the size limits of
//! their ASN.1 definitions (noted on each field).

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;

use crate::id::{Cin, Xid};
use crate::target::IpPrefix;
use crate::time::Timestamp;

/// One intercept record of either kind, as passed from capture to handover.
///
/// IRI records are boxed: they are rare and large, CC records are frequent and small.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InterceptRecord {
    /// Intercept related information (HI2).
    Iri(Box<IriRecord>),
    /// Content of communication (HI3).
    Cc(CcRecord),
}

/// Content of communication: one packet as seen at the intercept point (TS 102 232-1
/// `CCPayload`, TS 102 232-3 `IPCC`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CcRecord {
    /// The task the packet was intercepted for.
    pub xid: Xid,
    /// The communication session (TS 102 232-1 clause 5.2.4).
    pub cin: Cin,
    /// When the packet was seen.
    pub timestamp: Timestamp,
    /// Direction relative to the target.
    pub direction: PayloadDirection,
    /// The IP packet, from the first octet of its IP header.
    pub payload: Bytes,
    /// `Some` when the capture kept only part of the packet (cut by its snapshot length):
    /// the packet's length as its IP header declares it, and `payload` is the bytes
    /// captured. Delivered as TS 102 232-3 `iPTruncatedPacket` with this `originalLength`.
    pub original_len: Option<u32>,
    /// What `payload` is: an IP packet (IP access, TS 102 232-3 `IPCC`), or a packet of a
    /// call's media stream (TS 102 232-5 `IPMMCC`).
    pub kind: CcKind,
}

/// What a [`CcRecord`]'s payload is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CcKind {
    /// An IP packet, from the first octet of its IP header (TS 102 232-3 `IPCC`).
    #[default]
    IpPacket,
    /// A packet of an intercepted call's media: the UDP payload (an RTP or RTCP packet) of
    /// one flow the call's SDP negotiated (TS 102 232-5 `IPMMCC`).
    Media(MediaFlow),
}

/// One direction of one media stream of a call, as seen at the intercept point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MediaFlow {
    /// Where the packet came from.
    pub source: SocketAddr,
    /// Where it went.
    pub destination: SocketAddr,
    /// RTP or RTCP.
    pub protocol: MediaProtocol,
    /// The stream within the call: the position of its `m=` line in the SDP, from 0
    /// (TS 102 232-5 `streamIdentifier`).
    pub stream: u16,
}

/// The protocol of a media packet (TS 102 232-5 `MMCCprotocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MediaProtocol {
    /// RTP (RFC 3550).
    Rtp,
    /// RTCP (RFC 3550).
    Rtcp,
}

/// Intercept related information: one event of a communication session (TS 102 232-1
/// `IRIPayload`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IriRecord {
    /// The task the event was intercepted for.
    pub xid: Xid,
    /// The communication session (TS 102 232-1 clause 5.2.4).
    pub cin: Cin,
    /// When the event happened.
    pub timestamp: Timestamp,
    /// Where the record stands in the session (TS 102 232-1 clause 5.2.10 `iRIType`).
    pub iri_type: IriType,
    /// The event.
    pub event: IriEvent,
}

/// `PayloadDirection` (TS 102 232-1 clause 6.2.2): the direction of CC relative
/// to the target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PayloadDirection {
    /// `fromTarget(0)`.
    FromTarget,
    /// `toTarget(1)`.
    ToTarget,
    /// `indeterminate(2)`.
    #[default]
    Indeterminate,
    /// `combined(3)`: both directions in one record.
    Combined,
    /// `notApplicable(4)`.
    NotApplicable,
}

/// `IRIType` (TS 102 232-1 clause 5.2.10): the record's place in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IriType {
    /// `IRI-Begin`: the first record of a session.
    Begin,
    /// `IRI-Continue`: a record within a session.
    Continue,
    /// `IRI-End`: the last record of a session.
    End,
    /// `IRI-Report`: a record outside any session.
    Report,
}

/// The event carried by an [`IriRecord`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IriEvent {
    /// An IP network access event (TS 102 232-3 `IPIRIContents`).
    Access(AccessEvent),
    /// A SIP message of a target's call or registration (TS 102 232-5 `IPMMIRI`
    /// `sIPMessage`, or `iRIOnlySIPMessage` for an IRI-only task).
    Sip(SipEvent),
}

/// A SIP message as seen at the intercept point, verbatim, with the transport addresses it
/// travelled between.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipEvent {
    /// Where the message came from.
    pub source: SocketAddr,
    /// Where it went.
    pub destination: SocketAddr,
    /// The SIP message, start line to the end of its body.
    pub message: Bytes,
}

/// An IP network access event, the neutral form of TS 102 232-3 clause 7.2
/// `IPIRIContents` (and of the ATIS-1000013 access messages).
///
/// Size limits noted on fields are those of `IPIRIContents`; the ETSI encoder enforces
/// them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccessEvent {
    /// What happened (`accessEventType`).
    pub event_type: AccessEventType,
    /// The target's username as used for access, e.g. RADIUS `User-Name`
    /// (`targetUsername`); may be empty when unknown.
    pub username: Vec<u8>,
    /// The access technology (`internetAccessType`).
    pub access_type: InternetAccessType,
    /// The IP version(s) of the session (`iPVersion`); see
    /// [`AccessEvent::effective_ip_version`].
    pub ip_version: Option<IpVersion>,
    /// The target's addresses and delegated prefixes, IPv4 and IPv6 (`targetIPAddress`,
    /// `additionalIPAddress`, `framedRoutes`); a single address is a `/32` or `/128`
    /// prefix ([`IpPrefix::host`]).
    pub addresses: Vec<IpPrefix>,
    /// The target's network identifier, e.g. a MAC address or RADIUS `Calling-Station-Id`
    /// (`targetNetworkID`, 1..=20 characters).
    pub network_id: Option<String>,
    /// The target's customer premises equipment identifier (`targetCPEID`, 1..=128
    /// characters).
    pub cpe_id: Option<String>,
    /// The point of presence, e.g. RADIUS `NAS-Identifier` (`pOPIdentifier`).
    pub pop_identifier: Option<String>,
    /// The address of the point of presence, e.g. RADIUS `NAS-IP-Address` (`pOPIPAddress`).
    pub pop_ip_address: Option<IpAddr>,
    /// The port at the point of presence, RADIUS `NAS-Port-Id` (`pOPPortID`).
    pub nas_port_id: Option<Vec<u8>>,
    /// The accounting session, RADIUS `Acct-Session-Id`; not in `IPIRIContents`, used to
    /// correlate events (and, in a later wave, by the ATIS encodings).
    pub session_id: Option<String>,
    /// When the access session started (`startTime`).
    pub start_time: Option<Timestamp>,
    /// When the access session ended (`endTime`).
    pub end_time: Option<Timestamp>,
    /// When the access session is expected to end, e.g. a DHCP lease expiry
    /// (`expectedEndTime`).
    pub expected_end_time: Option<Timestamp>,
    /// Why the access session ended (`endReason`).
    pub end_reason: Option<EndReason>,
    /// Octets received by the target (`octetsReceived`).
    pub octets_received: Option<u64>,
    /// Octets transmitted by the target (`octetsTransmitted`).
    pub octets_transmitted: Option<u64>,
    /// How the target was authenticated (`authenticationType`).
    pub authentication_type: Option<AuthenticationType>,
    /// The AAA message the event was derived from, unchanged (`rawAAAData`).
    pub raw_aaa: Option<Vec<u8>>,
}

/// `AccessEventType` (TS 102 232-3 clause 7.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccessEventType {
    /// `accessAttempt(0)`: the target tries to gain access.
    AccessAttempt,
    /// `accessAccept(1)`: access granted.
    AccessAccept,
    /// `accessReject(2)`: access refused.
    AccessReject,
    /// `accessFailed(3)`: access failed for another reason.
    AccessFailed,
    /// `sessionStart(4)`: not used since TS 102 232-3 version 4; kept for older peers.
    SessionStart,
    /// `sessionEnd(5)`: not used since TS 102 232-3 version 4; kept for older peers.
    SessionEnd,
    /// `interimUpdate(6)`: a change during the session (e.g. RADIUS Interim-Update).
    InterimUpdate,
    /// `startOfInterceptionWithSessionActive(7)`: interception starts on a running session.
    StartOfInterceptionWithSessionActive,
    /// `accessEnd(8)`: the session ended.
    AccessEnd,
    /// `endOfInterceptionWithSessionActive(9)`: interception stops on a running session.
    EndOfInterceptionWithSessionActive,
    /// `unknown(10)`.
    #[default]
    Unknown,
}

/// `InternetAccessType` (TS 102 232-3 clause 7.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InternetAccessType {
    /// `undefined(0)`.
    #[default]
    Undefined,
    /// `dialUp(1)`.
    DialUp,
    /// `xDSL(2)`.
    Xdsl,
    /// `cableModem(3)`.
    CableModem,
    /// `lAN(4)`.
    Lan,
    /// `wirelessLAN(5)`.
    WirelessLan,
    /// `fTTx(6)`.
    Fttx,
    /// `wIMAX-HIPERMAN(7)`.
    Wimax,
    /// `satellite(8)`.
    Satellite,
    /// `wireless-other(9)`.
    WirelessOther,
}

/// `IPVersion` (TS 102 232-3 clause 7.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpVersion {
    /// `iPV4(1)`.
    Ipv4,
    /// `iPV6(2)`.
    Ipv6,
    /// `iPV4andV6(3)`: dual stack.
    Ipv4AndV6,
}

/// `EndReason` (TS 102 232-3 clause 7.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndReason {
    /// `undefined(0)`.
    #[default]
    Undefined,
    /// `regularLogoff(1)`.
    RegularLogoff,
    /// `connectionLoss(2)`.
    ConnectionLoss,
    /// `connectionTimeout(3)`.
    ConnectionTimeout,
    /// `leaseExpired(4)`.
    LeaseExpired,
}

/// `AuthenticationType` (TS 102 232-3 clause 7.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthenticationType {
    /// `unknown(0)`.
    #[default]
    Unknown,
    /// `static(1)`: statically configured access.
    Static,
    /// `radiusAAA(2)`.
    RadiusAaa,
    /// `dhcpAAA(3)`.
    DhcpAaa,
    /// `diameterAAA(4)`.
    DiameterAaa,
}

impl InterceptRecord {
    /// The task the record belongs to.
    pub fn xid(&self) -> Xid {
        match self {
            Self::Iri(r) => r.xid,
            Self::Cc(r) => r.xid,
        }
    }

    /// The communication session.
    pub fn cin(&self) -> Cin {
        match self {
            Self::Iri(r) => r.cin,
            Self::Cc(r) => r.cin,
        }
    }

    /// When the event happened or the packet was seen.
    pub fn timestamp(&self) -> Timestamp {
        match self {
            Self::Iri(r) => r.timestamp,
            Self::Cc(r) => r.timestamp,
        }
    }
}

impl From<IriRecord> for InterceptRecord {
    fn from(record: IriRecord) -> Self {
        Self::Iri(Box::new(record))
    }
}

impl From<CcRecord> for InterceptRecord {
    fn from(record: CcRecord) -> Self {
        Self::Cc(record)
    }
}

impl PayloadDirection {
    /// The direction seen from the other end: [`FromTarget`](Self::FromTarget) and
    /// [`ToTarget`](Self::ToTarget) swap, the others stay.
    pub const fn reversed(self) -> Self {
        match self {
            Self::FromTarget => Self::ToTarget,
            Self::ToTarget => Self::FromTarget,
            other => other,
        }
    }
}

impl AccessEvent {
    /// An event of `event_type` with every other field empty or unknown.
    pub fn new(event_type: AccessEventType) -> Self {
        Self {
            event_type,
            ..Self::default()
        }
    }

    /// [`ip_version`](Self::ip_version) if set, else derived from
    /// [`addresses`](Self::addresses): IPv4, IPv6, both, or `None` without addresses.
    pub fn effective_ip_version(&self) -> Option<IpVersion> {
        if self.ip_version.is_some() {
            return self.ip_version;
        }
        let v4 = self.addresses.iter().any(|p| p.addr().is_ipv4());
        let v6 = self.addresses.iter().any(|p| p.addr().is_ipv6());
        match (v4, v6) {
            (true, true) => Some(IpVersion::Ipv4AndV6),
            (true, false) => Some(IpVersion::Ipv4),
            (false, true) => Some(IpVersion::Ipv6),
            (false, false) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(s: &str) -> IpPrefix {
        s.parse().unwrap()
    }

    #[test]
    fn effective_ip_version() {
        let mut event = AccessEvent::new(AccessEventType::AccessAccept);
        assert_eq!(event.event_type, AccessEventType::AccessAccept);
        assert_eq!(event.effective_ip_version(), None);
        event.addresses.push(prefix("2001:db8:1::/56"));
        assert_eq!(event.effective_ip_version(), Some(IpVersion::Ipv6));
        event.addresses.push(prefix("192.0.2.1/32"));
        assert_eq!(event.effective_ip_version(), Some(IpVersion::Ipv4AndV6));
        event.addresses.remove(0);
        assert_eq!(event.effective_ip_version(), Some(IpVersion::Ipv4));
        event.ip_version = Some(IpVersion::Ipv6);
        assert_eq!(
            event.effective_ip_version(),
            Some(IpVersion::Ipv6),
            "an explicit version wins"
        );
    }

    #[test]
    fn defaults_are_the_unknown_values() {
        let event = AccessEvent::default();
        assert_eq!(event.event_type, AccessEventType::Unknown);
        assert_eq!(event.access_type, InternetAccessType::Undefined);
        assert!(event.username.is_empty() && event.addresses.is_empty());
        assert_eq!(PayloadDirection::default(), PayloadDirection::Indeterminate);
        assert_eq!(EndReason::default(), EndReason::Undefined);
        assert_eq!(AuthenticationType::default(), AuthenticationType::Unknown);
    }

    #[test]
    fn direction_reversal() {
        use PayloadDirection as D;
        assert_eq!(D::FromTarget.reversed(), D::ToTarget);
        assert_eq!(D::ToTarget.reversed(), D::FromTarget);
        for d in [D::Indeterminate, D::Combined, D::NotApplicable] {
            assert_eq!(d.reversed(), d);
        }
    }

    #[test]
    fn intercept_record_accessors() {
        let t = Timestamp::from_secs_micros(1, 2).unwrap();
        let cc: InterceptRecord = CcRecord {
            xid: Xid::from_bytes([3; 16]),
            cin: Cin::new(4),
            timestamp: t,
            direction: PayloadDirection::FromTarget,
            payload: Bytes::from_static(&[0x45, 0, 0, 20]),
            original_len: None,
            kind: crate::CcKind::IpPacket,
        }
        .into();
        assert_eq!(
            (cc.xid(), cc.cin(), cc.timestamp()),
            (Xid::from_bytes([3; 16]), Cin::new(4), t)
        );
        let iri: InterceptRecord = IriRecord {
            xid: Xid::from_bytes([5; 16]),
            cin: Cin::new(6),
            timestamp: Timestamp::UNIX_EPOCH,
            iri_type: IriType::Begin,
            event: IriEvent::Access(AccessEvent::new(AccessEventType::AccessAttempt)),
        }
        .into();
        assert_eq!(
            (iri.xid(), iri.cin(), iri.timestamp()),
            (Xid::from_bytes([5; 16]), Cin::new(6), Timestamp::UNIX_EPOCH)
        );
    }
}
