//! The X2/X3 contract of this suite: THE mapping between li-core intercept records and X2/X3
//! PDUs (ETSI TS 103 221-2), used by both sides of the link. A point of interception encodes
//! with the record → PDU functions, a mediator reads with their inverses; neither repeats
//! the mapping.
//!
//! | record | X2/X3 PDU |
//! |---|---|
//! | [`CcRecord`] of an IP packet | X3, Payload Format IPv4 Packet (5) or IPv6 Packet (6) from the packet's version nibble ([`cc_payload_format`]), the packet as payload |
//! | [`CcRecord`] of a call's media ([`CcKind::Media`]) | X3, Payload Format RTP Packet (8, [`MEDIA_PAYLOAD_FORMAT`]), the RTP or RTCP packet as payload, its flow in the Source/Destination IPv4 or IPv6 Address (10–13), Source/Destination Port (14, 15) and IP Protocol (16, UDP) attributes, and the "media stream" Proprietary Attribute ([`MEDIA_STREAM_MAGIC`]: `LIMS`, the stream's index as a big-endian `u16`, then 0 for RTP or 1 for RTCP) |
//! | [`IriRecord`] of a SIP message ([`IriEvent::Sip`]) | X2, Payload Format SIP Message (9, [`SIP_PAYLOAD_FORMAT`]), the message verbatim as payload, its addresses and ports in the attributes 10–16 as for media, and the "IRI type" Proprietary Attribute ([`IRI_TYPE_MAGIC`]: `LIIT`, then the TS 102 232-1 `IRIType` value: 1 begin, 2 end, 3 continue, 4 report) |
//! | any other [`IriRecord`] | X2, Payload Format ETSI TS 102 232-1 Defined Payload (1, [`IRI_PAYLOAD_FORMAT`]): the stand-alone BER `IRIPayload` ([`iri_payload`]) |
//! | `xid` | XID |
//! | `cin` | Correlation ID: the CIN as a big-endian `u64` in the 8 octets ([`correlation_id`], [`cin`]); X2 and X3 of one session share it |
//! | `timestamp` | the Timestamp attribute (9), 32-bit seconds and nanoseconds: records after 2106-02-07T06:28:15Z cannot be sent ([`pdu_timestamp`], [`record_time`]) |
//! | CC `direction` | Payload Direction ([`x2x3_direction`], [`core_direction`]); X2 is always Not Applicable (5, [`IRI_DIRECTION`]) |
//! | CC `original_len` | the "original length" Proprietary Attribute ([`super::ORIGINAL_LENGTH_MAGIC`]) after the Timestamp |
//! | — | the Sequence Number attribute (8), first: the PDUs (X2 and X3 together) sent to one destination counted from 0 by the sender |
//!
//! The attributes are exactly `[SequenceNumber, Timestamp]` ([`attributes`]), plus the
//! original length for a cut packet, and for voice the addresses, ports, protocol and the
//! media-stream or IRI-type attribute, in the order of the table. Reading is tolerant of
//! other points of interception: a SIP Message PDU without the IRI-type attribute is read as
//! `IRI-Continue` of its call (the Correlation ID), an RTP Packet PDU without the
//! media-stream attribute as RTP of stream 0; the addresses and ports are required (the
//! agency's IPMMIRI and the call's media cannot be told without them). The direction mapping is one-to-one: TS 102 232-1
//! `fromTarget`, `toTarget`, `combined`, `notApplicable` and `indeterminate` are X2/X3 From
//! Target (3), To Target (2), Multiple Directions (4), Not Applicable (5) and Unknown (1);
//! a received direction outside these (reserved, or a value the registry does not define) is
//! read as `indeterminate`.
//!
//! The CC hot path keeps one pre-encoded [`X3IpPacketEncoder`] per (task, session)
//! ([`x3_encoder`], [`encode_cc`]), and for a call's media one [`X3MediaEncoder`] per (task,
//! session, direction, flow) ([`media_encoder`]): everything of a media PDU but the payload
//! length, sequence number and timestamp is the same for every packet of a flow, so it is
//! encoded once. [`x3_pdu`], [`media_pdu`] and [`x2_pdu`] build whole [`Pdu`]s.
//!
//! # Example
//!
//! A CC record goes out as an X3 PDU and comes back as the same session, time, direction and
//! packet.
//!
//! ```
//! use li_core::{Cin, CcRecord, PayloadDirection, Timestamp, Xid};
//! use li_handover::x2x3::contract::{self, Content};
//!
//! let packet = vec![0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 7, 198, 51, 100, 1];
//! let record = CcRecord {
//!     xid: Xid::from_bytes([7; 16]),
//!     cin: Cin::new(42),
//!     timestamp: Timestamp::from_secs_micros(1_700_000_000, 250)?,
//!     direction: PayloadDirection::FromTarget,
//!     payload: packet.clone().into(),
//!     original_len: None,
//!     kind: li_core::CcKind::IpPacket,
//! };
//! let pdu = contract::x3_pdu(&record, 0)?;
//!
//! let received = contract::read(&pdu)?;
//! assert_eq!((received.xid, received.cin, received.time), (record.xid, record.cin, record.timestamp));
//! match received.content {
//!     Content::Cc { direction, packet: got, original_length } => {
//!         assert_eq!(direction, PayloadDirection::FromTarget);
//!         assert_eq!(got, &packet[..]);
//!         assert_eq!(original_length, None);
//!     }
//!     other => unreachable!("an IP packet's CC record is X3 IPv4 Packet: {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::{IpAddr, SocketAddr};

use bytes::BufMut;
use li_asn1::{HeaderSettings, IriPayload, Payload};
use li_core::{
    CcKind, CcRecord, Cin, IriEvent, IriRecord, IriType, Liid, MediaFlow, MediaProtocol,
    OperatorId, SipEvent, Timestamp, Xid,
};

use super::{
    Attribute, Error, PayloadDirection, PayloadFormat, Pdu, PduTimestamp, PduType,
    X3IpPacketEncoder, X3MediaEncoder, ip_payload_format,
};

/// The Payload Format of every X2 PDU: ETSI TS 102 232-1 Defined Payload (1), the
/// stand-alone BER `IRIPayload`.
pub const IRI_PAYLOAD_FORMAT: PayloadFormat = PayloadFormat::Etsi102232;

/// The Payload Format of a SIP IRI record (X2): SIP Message (9).
pub const SIP_PAYLOAD_FORMAT: PayloadFormat = PayloadFormat::SipMessage;

/// The Payload Format of a call's media (X3): RTP Packet (8), for RTP and RTCP alike.
pub const MEDIA_PAYLOAD_FORMAT: PayloadFormat = PayloadFormat::RtpPacket;

/// The first octets of the "IRI type" Proprietary Attribute of a SIP Message PDU: `LIIT`,
/// then one octet, the TS 102 232-1 `IRIType` value.
pub const IRI_TYPE_MAGIC: [u8; 4] = *b"LIIT";

/// The first octets of the "media stream" Proprietary Attribute of an RTP Packet PDU:
/// `LIMS`, then the stream's index (big-endian `u16`) and 0 for RTP or 1 for RTCP.
pub const MEDIA_STREAM_MAGIC: [u8; 4] = *b"LIMS";

/// The Payload Direction of every X2 PDU: Not Applicable (5).
pub const IRI_DIRECTION: PayloadDirection = PayloadDirection::NotApplicable;

/// The LIID put in the (discarded) PSHeader built to encode an IRI payload: X2/X3 carry the
/// XID; the LIID never leaves the point of interception.
const PLACEHOLDER_LIID: &[u8] = b"X2X3";

/// Why a PDU does not follow the contract, or a record cannot be put in one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContractError {
    /// The PDU is neither X2 nor X3 (a keepalive, or an unknown type).
    #[error("X2/X3 PDU of type {pdu_type:?} carries no record")]
    NotARecord {
        /// Its type.
        pdu_type: PduType,
    },
    /// The PDU has no Timestamp attribute, or one whose nanoseconds are not below a second.
    #[error("X2/X3 PDU without a valid Timestamp attribute")]
    NoTimestamp,
    /// A record time after 2106-02-07T06:28:15Z, which the Timestamp attribute's 32-bit
    /// seconds cannot say.
    #[error("record time {time} is after 2106-02-07T06:28:15Z, the X2/X3 timestamp limit")]
    TimestampOutOfRange {
        /// The record's time.
        time: Timestamp,
    },
    /// A Correlation ID that is not 8 octets.
    #[error("Correlation ID of {len} octets (8 expected)")]
    CorrelationIdLength {
        /// Its length.
        len: usize,
    },
    /// A Correlation ID whose value is no CIN (above `u32::MAX`).
    #[error("Correlation ID {value:#018x} is not a CIN (above 2^32 - 1)")]
    CinOutOfRange {
        /// The big-endian value.
        value: u64,
    },
    /// A Payload Format the contract does not use for this PDU type (X3: IPv4 or IPv6
    /// Packet, RTP Packet; X2: ETSI TS 102 232-1 Defined Payload, SIP Message).
    #[error("Payload Format {format:?} is not used in {pdu_type:?} PDUs")]
    PayloadFormat {
        /// The PDU type.
        pdu_type: PduType,
        /// Its Payload Format.
        format: PayloadFormat,
    },
    /// The X2 payload is not a BER `IRIPayload`.
    #[error("X2 payload is not an IRIPayload: {0}")]
    IriPayload(#[source] li_asn1::Error),
    /// The record's IRI event cannot be encoded as an `IRIPayload`.
    #[error("the IRI event cannot be encoded as an IRIPayload")]
    UnencodableIri,
    /// A voice PDU lacks an attribute the contract needs (addresses and ports).
    #[error("{pdu_type:?} PDU in Payload Format {format:?} without its {attribute} attribute")]
    MissingAttribute {
        /// The PDU type.
        pdu_type: PduType,
        /// Its Payload Format.
        format: PayloadFormat,
        /// The attribute missing, e.g. `Source Port`.
        attribute: &'static str,
    },
    /// The PDU cannot be encoded (not an IP packet, a payload of 4 GiB or more).
    #[error(transparent)]
    Encode(#[from] Error),
}

/// The Correlation ID of a record: its CIN as a big-endian `u64`.
pub fn correlation_id(cin: Cin) -> [u8; 8] {
    u64::from(cin.value()).to_be_bytes()
}

/// The CIN a Correlation ID carries (the inverse of [`correlation_id`]): 8 octets, a
/// big-endian value of at most `u32::MAX`.
pub fn cin(correlation_id: &[u8]) -> Result<Cin, ContractError> {
    let octets: [u8; 8] =
        correlation_id
            .try_into()
            .map_err(|_| ContractError::CorrelationIdLength {
                len: correlation_id.len(),
            })?;
    let value = u64::from_be_bytes(octets);
    u32::try_from(value)
        .map(Cin::new)
        .map_err(|_| ContractError::CinOutOfRange { value })
}

/// The X2/X3 Payload Direction of a record's direction (see the [module
/// documentation](self)).
pub fn x2x3_direction(direction: li_core::PayloadDirection) -> PayloadDirection {
    use li_core::PayloadDirection as D;
    match direction {
        D::FromTarget => PayloadDirection::FromTarget,
        D::ToTarget => PayloadDirection::ToTarget,
        D::Combined => PayloadDirection::MultipleDirections,
        D::NotApplicable => PayloadDirection::NotApplicable,
        D::Indeterminate => PayloadDirection::Unknown,
    }
}

/// The record direction of an X2/X3 Payload Direction, the inverse of [`x2x3_direction`];
/// a reserved or undefined value is `Indeterminate`.
pub fn core_direction(direction: PayloadDirection) -> li_core::PayloadDirection {
    use li_core::PayloadDirection as D;
    match direction {
        PayloadDirection::FromTarget => D::FromTarget,
        PayloadDirection::ToTarget => D::ToTarget,
        PayloadDirection::MultipleDirections => D::Combined,
        PayloadDirection::NotApplicable => D::NotApplicable,
        PayloadDirection::Unknown
        | PayloadDirection::ReservedForKeepalive
        | PayloadDirection::Other(_) => D::Indeterminate,
    }
}

/// The Timestamp attribute of a record time; `None` after 2106-02-07T06:28:15Z (32-bit
/// seconds).
pub fn pdu_timestamp(time: Timestamp) -> Option<PduTimestamp> {
    PduTimestamp::from_core(time)
}

/// The record time of a PDU: its Timestamp attribute (microsecond precision, the inverse
/// of [`pdu_timestamp`]).
pub fn record_time(pdu: &Pdu) -> Result<Timestamp, ContractError> {
    pdu.timestamp()
        .and_then(PduTimestamp::to_core)
        .ok_or(ContractError::NoTimestamp)
}

/// The attributes of a record's PDU: `[SequenceNumber, Timestamp]`.
pub fn attributes(sequence_number: u32, timestamp: PduTimestamp) -> Vec<Attribute> {
    vec![
        Attribute::SequenceNumber(sequence_number),
        Attribute::Timestamp(timestamp),
    ]
}

/// The Payload Format of a CC record's packet: IPv4 Packet or IPv6 Packet from its version
/// nibble, else [`Error::NotAnIpPacket`].
pub fn cc_payload_format(packet: &[u8]) -> Result<PayloadFormat, Error> {
    ip_payload_format(packet)
}

/// The attributes of a voice record's PDU after Sequence Number and Timestamp: the flow's
/// addresses and ports and the IP protocol (UDP), as the table of the [module
/// documentation](self) orders them.
fn flow_attributes(source: SocketAddr, destination: SocketAddr) -> [Attribute; 5] {
    let (src, dst) = match (source.ip(), destination.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => (Attribute::SourceIpv4(s), Attribute::DestinationIpv4(d)),
        (s, d) => (
            Attribute::SourceIpv6(to_v6(s)),
            Attribute::DestinationIpv6(to_v6(d)),
        ),
    };
    [
        src,
        dst,
        Attribute::SourcePort(source.port()),
        Attribute::DestinationPort(destination.port()),
        Attribute::IpProtocol(UDP),
    ]
}

/// IANA protocol number of UDP, the transport of the media and (by default) of SIP.
const UDP: u8 = 17;

fn to_v6(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// The source and destination transport addresses a voice PDU's attributes give.
fn flow_of(pdu: &Pdu) -> Result<(SocketAddr, SocketAddr), ContractError> {
    let (mut src, mut dst, mut sport, mut dport) = (None, None, None, None);
    for attribute in &pdu.attributes {
        match *attribute {
            Attribute::SourceIpv4(a) => src = src.or(Some(IpAddr::V4(a))),
            Attribute::SourceIpv6(a) => src = src.or(Some(IpAddr::V6(a).to_canonical())),
            Attribute::DestinationIpv4(a) => dst = dst.or(Some(IpAddr::V4(a))),
            Attribute::DestinationIpv6(a) => dst = dst.or(Some(IpAddr::V6(a).to_canonical())),
            Attribute::SourcePort(p) => sport = sport.or(Some(p)),
            Attribute::DestinationPort(p) => dport = dport.or(Some(p)),
            _ => {}
        }
    }
    let missing = |attribute| ContractError::MissingAttribute {
        pdu_type: pdu.pdu_type,
        format: pdu.payload_format,
        attribute,
    };
    Ok((
        SocketAddr::new(
            src.ok_or_else(|| missing("Source IP Address"))?,
            sport.ok_or_else(|| missing("Source Port"))?,
        ),
        SocketAddr::new(
            dst.ok_or_else(|| missing("Destination IP Address"))?,
            dport.ok_or_else(|| missing("Destination Port"))?,
        ),
    ))
}

/// The value of the first Proprietary Attribute starting with `magic`, after it.
fn proprietary<'p>(pdu: &'p Pdu, magic: &[u8; 4]) -> Option<&'p [u8]> {
    pdu.attributes.iter().find_map(|a| a.proprietary(magic))
}

/// The TS 102 232-1 `IRIType` value of an IRI type.
fn iri_type_value(iri_type: IriType) -> u8 {
    match iri_type {
        IriType::Begin => 1,
        IriType::End => 2,
        IriType::Continue => 3,
        IriType::Report => 4,
    }
}

/// The IRI type of a SIP Message PDU: its "IRI type" attribute, else `Continue` (a peer's
/// PDU without it: a message of the call its Correlation ID names).
fn iri_type_of(pdu: &Pdu) -> IriType {
    match proprietary(pdu, &IRI_TYPE_MAGIC) {
        Some([1]) => IriType::Begin,
        Some([2]) => IriType::End,
        Some([4]) => IriType::Report,
        _ => IriType::Continue,
    }
}

/// The stream and protocol of an RTP Packet PDU: its "media stream" attribute, else RTP of
/// stream 0.
fn media_stream_of(pdu: &Pdu) -> (u16, MediaProtocol) {
    match proprietary(pdu, &MEDIA_STREAM_MAGIC) {
        Some(&[hi, lo, protocol]) => (
            u16::from_be_bytes([hi, lo]),
            if protocol == 1 {
                MediaProtocol::Rtcp
            } else {
                MediaProtocol::Rtp
            },
        ),
        _ => (0, MediaProtocol::Rtp),
    }
}

/// The X2 PDU of a SIP message of task `xid`'s call `cin` (see the [module
/// documentation](self)).
pub fn sip_pdu(
    xid: Xid,
    cin: Cin,
    sequence_number: u32,
    timestamp: PduTimestamp,
    iri_type: IriType,
    sip: &SipEvent,
) -> Pdu {
    let mut pdu = Pdu::new(PduType::X2, SIP_PAYLOAD_FORMAT, IRI_DIRECTION, xid);
    pdu.correlation_id = correlation_id(cin);
    pdu.attributes = attributes(sequence_number, timestamp);
    pdu.attributes
        .extend(flow_attributes(sip.source, sip.destination));
    pdu.attributes.push(Attribute::ProprietaryAttribute(
        [IRI_TYPE_MAGIC.as_slice(), &[iri_type_value(iri_type)]].concat(),
    ));
    pdu.payload = sip.message.clone();
    pdu
}

/// The X3 PDU of one media packet of task `xid`'s call `cin`, sent in `direction` (see the
/// [module documentation](self)).
pub fn media_pdu(
    xid: Xid,
    cin: Cin,
    sequence_number: u32,
    timestamp: PduTimestamp,
    direction: li_core::PayloadDirection,
    flow: &MediaFlow,
    packet: bytes::Bytes,
) -> Pdu {
    let mut pdu = Pdu::new(
        PduType::X3,
        MEDIA_PAYLOAD_FORMAT,
        x2x3_direction(direction),
        xid,
    );
    pdu.correlation_id = correlation_id(cin);
    pdu.attributes = attributes(sequence_number, timestamp);
    pdu.attributes
        .extend(flow_attributes(flow.source, flow.destination));
    let [hi, lo] = flow.stream.to_be_bytes();
    let protocol = match flow.protocol {
        MediaProtocol::Rtp => 0,
        MediaProtocol::Rtcp => 1,
    };
    pdu.attributes.push(Attribute::ProprietaryAttribute(
        [MEDIA_STREAM_MAGIC.as_slice(), &[hi, lo, protocol]].concat(),
    ));
    pdu.payload = packet;
    pdu
}

/// The pre-encoded X3 header of one media flow of task `xid`'s call `cin`, its packets sent
/// in `direction`: [`X3MediaEncoder::encode`] writes exactly what [`media_pdu`] with these
/// arguments encodes to, writing per packet only the payload length, sequence number and
/// timestamp. Keep one per (task, call, direction, flow); a flow whose address, port,
/// stream or protocol changes is another flow.
///
/// ```
/// use li_core::{Cin, MediaFlow, MediaProtocol, PayloadDirection, Xid};
/// use li_handover::x2x3::{PduTimestamp, contract};
///
/// let flow = MediaFlow {
///     source: "192.0.2.7:4000".parse()?,
///     destination: "198.51.100.1:5004".parse()?,
///     protocol: MediaProtocol::Rtp,
///     stream: 0,
/// };
/// let (xid, cin, direction) = (Xid::from_bytes([7; 16]), Cin::new(42), PayloadDirection::FromTarget);
/// let encoder = contract::media_encoder(xid, cin, direction, &flow)?;
/// let rtp = [0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 0xff, 0xff];
/// let ts = PduTimestamp::new(1_700_000_000, 20_000_000);
/// let mut out = Vec::new();
/// encoder.encode(&mut out, 3, ts, &rtp)?;
/// let general = contract::media_pdu(xid, cin, 3, ts, direction, &flow, rtp.to_vec().into());
/// assert_eq!(out, general.encode()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn media_encoder(
    xid: Xid,
    cin: Cin,
    direction: li_core::PayloadDirection,
    flow: &MediaFlow,
) -> Result<X3MediaEncoder, Error> {
    media_encoder_from(xid, cin, direction, flow, None)
}

/// [`media_encoder`], its PDUs carrying the Network Function ID `nfid` last
/// ([`network_function_id_attribute`]) when it is given.
///
/// # Errors
///
/// Those of [`media_encoder`], and [`Error::NetworkFunctionId`] for an `nfid` that is empty
/// or over [`super::MAX_NETWORK_FUNCTION_ID_LEN`] octets.
pub fn media_encoder_from(
    xid: Xid,
    cin: Cin,
    direction: li_core::PayloadDirection,
    flow: &MediaFlow,
    nfid: Option<&[u8]>,
) -> Result<X3MediaEncoder, Error> {
    let mut header = media_pdu(
        xid,
        cin,
        0,
        PduTimestamp::default(),
        direction,
        flow,
        bytes::Bytes::new(),
    );
    if let Some(nfid) = nfid {
        header.attributes.push(network_function_id_attribute(nfid)?);
    }
    X3MediaEncoder::from_pdu(&header)
}

/// The Network Function ID attribute (type 6, TS 103 221-2 clause 5.3.6) a probe puts on
/// every PDU it sends: which network function intercepted. The mediator gives it to the
/// agencies whose formats name the intercepting system (the IAP system id of the US formats,
/// [`network_function_id`]).
///
/// # Errors
///
/// [`Error::NetworkFunctionId`] for an `nfid` that is empty or over
/// [`super::MAX_NETWORK_FUNCTION_ID_LEN`] octets (the bound of the pre-encoded headers).
pub fn network_function_id_attribute(nfid: &[u8]) -> Result<Attribute, Error> {
    if nfid.is_empty() || nfid.len() > super::MAX_NETWORK_FUNCTION_ID_LEN {
        return Err(Error::NetworkFunctionId { len: nfid.len() });
    }
    Ok(Attribute::NetworkFunctionId(nfid.to_vec()))
}

/// The Network Function ID a PDU carries (its first), if any.
pub fn network_function_id(pdu: &Pdu) -> Option<&[u8]> {
    pdu.attributes.iter().find_map(|a| match a {
        Attribute::NetworkFunctionId(v) => Some(v.as_slice()),
        _ => None,
    })
}

/// Whether `format` is one the contract uses for CC (X3): IPv4 or IPv6 Packet.
pub fn is_cc_payload_format(format: PayloadFormat) -> bool {
    matches!(
        format,
        PayloadFormat::Ipv4Packet | PayloadFormat::Ipv6Packet
    )
}

/// Whether `format` is the one the contract uses for IRI (X2): [`IRI_PAYLOAD_FORMAT`].
pub fn is_iri_payload_format(format: PayloadFormat) -> bool {
    format == IRI_PAYLOAD_FORMAT
}

/// The stand-alone BER `IRIPayload` (TS 102 232-1) of an IRI record; `None` for an event
/// kind li-asn1 cannot encode.
pub fn iri_payload(record: &IriRecord) -> Option<Vec<u8>> {
    let settings = HeaderSettings::new(
        Liid::new(PLACEHOLDER_LIID).ok()?,
        OperatorId::new(b"probe").ok()?,
    );
    match settings.iri_pdu(0, record)?.payload {
        Payload::IriPayloadSequence(payloads) => payloads.into_iter().next().map(|p| p.to_ber()),
        _ => None,
    }
}

/// The X2 PDU of an IRI record of task `xid` and session `cin` whose [`iri_payload`] is
/// `payload`.
pub fn x2_pdu(
    xid: Xid,
    cin: Cin,
    sequence_number: u32,
    timestamp: PduTimestamp,
    payload: &[u8],
) -> Pdu {
    let mut pdu = Pdu::new(PduType::X2, IRI_PAYLOAD_FORMAT, IRI_DIRECTION, xid);
    pdu.correlation_id = correlation_id(cin);
    pdu.attributes = attributes(sequence_number, timestamp);
    pdu.payload = bytes::Bytes::copy_from_slice(payload);
    pdu
}

/// The pre-encoded X3 header of one session (`cin`) of task `xid`, for [`encode_cc`].
pub fn x3_encoder(xid: Xid, cin: Cin) -> X3IpPacketEncoder {
    X3IpPacketEncoder::new(xid, correlation_id(cin))
}

/// Appends the X3 PDU of a CC record to `out`, with `encoder` from [`x3_encoder`] for the
/// record's task and session: its packet, direction and the original length when the packet
/// was cut. Fails as [`X3IpPacketEncoder::encode`] does, writing nothing.
///
/// A call's media ([`CcKind::Media`]) is written as [`media_pdu`] (in [`super::DEFAULT_VERSION`]),
/// through a [`media_encoder`] built for this one record: right, but with the allocations
/// of building it. A sender of media keeps a [`media_encoder`] per flow instead.
pub fn encode_cc<B: BufMut>(
    encoder: &X3IpPacketEncoder,
    out: &mut B,
    sequence_number: u32,
    timestamp: PduTimestamp,
    cc: &CcRecord,
) -> Result<(), Error> {
    if let CcKind::Media(flow) = &cc.kind {
        return media_encoder(cc.xid, cc.cin, cc.direction, flow)?.encode(
            out,
            sequence_number,
            timestamp,
            &cc.payload,
        );
    }
    let direction = x2x3_direction(cc.direction);
    match cc.original_len {
        None => encoder.encode(out, sequence_number, timestamp, direction, &cc.payload),
        Some(len) => {
            encoder.encode_truncated(out, sequence_number, timestamp, direction, &cc.payload, len)
        }
    }
}

/// The X3 PDU of a CC record, whole: for an IP packet what [`encode_cc`] writes, decoded;
/// for a call's media, [`media_pdu`].
pub fn x3_pdu(cc: &CcRecord, sequence_number: u32) -> Result<Pdu, ContractError> {
    let timestamp = pdu_timestamp(cc.timestamp)
        .ok_or(ContractError::TimestampOutOfRange { time: cc.timestamp })?;
    if let CcKind::Media(flow) = &cc.kind {
        return Ok(media_pdu(
            cc.xid,
            cc.cin,
            sequence_number,
            timestamp,
            cc.direction,
            flow,
            cc.payload.clone(),
        ));
    }
    let mut out = Vec::with_capacity(cc.payload.len() + 80);
    encode_cc(
        &x3_encoder(cc.xid, cc.cin),
        &mut out,
        sequence_number,
        timestamp,
        cc,
    )?;
    Ok(Pdu::decode(&out)?.0)
}

/// The X2 PDU of an IRI record, whole: for a SIP message [`sip_pdu`], else [`x2_pdu`] of
/// its [`iri_payload`].
pub fn iri_pdu(record: &IriRecord, sequence_number: u32) -> Result<Pdu, ContractError> {
    let timestamp = pdu_timestamp(record.timestamp).ok_or(ContractError::TimestampOutOfRange {
        time: record.timestamp,
    })?;
    if let IriEvent::Sip(sip) = &record.event {
        return Ok(sip_pdu(
            record.xid,
            record.cin,
            sequence_number,
            timestamp,
            record.iri_type,
            sip,
        ));
    }
    let payload = iri_payload(record).ok_or(ContractError::UnencodableIri)?;
    Ok(x2_pdu(
        record.xid,
        record.cin,
        sequence_number,
        timestamp,
        &payload,
    ))
}

/// A record as a receiver reads it from a PDU ([`read`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Received<'a> {
    /// The task.
    pub xid: Xid,
    /// The session.
    pub cin: Cin,
    /// The record's time.
    pub time: Timestamp,
    /// The Sequence Number attribute, when present.
    pub sequence_number: Option<u32>,
    /// CC or IRI.
    pub content: Content<'a>,
}

/// What a received record carries.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Content<'a> {
    /// An X3 PDU: CC.
    Cc {
        /// Relative to the target.
        direction: li_core::PayloadDirection,
        /// The IP packet (the bytes captured, when it was cut).
        packet: &'a [u8],
        /// The packet's original length when the capture cut it.
        original_length: Option<u32>,
    },
    /// An X2 PDU: the decoded `IRIPayload`.
    Iri(IriPayload),
    /// An X2 PDU: a SIP message of a call.
    Sip {
        /// Its place in the call.
        iri_type: IriType,
        /// Where it came from.
        source: SocketAddr,
        /// Where it went.
        destination: SocketAddr,
        /// The message, verbatim.
        message: &'a [u8],
    },
    /// An X3 PDU: one packet of a call's media.
    Media {
        /// Relative to the target.
        direction: li_core::PayloadDirection,
        /// The flow, stream and protocol.
        flow: MediaFlow,
        /// The RTP or RTCP packet.
        packet: &'a [u8],
    },
}

/// Reads a PDU as the contract writes it: X2 or X3, a valid Timestamp, a Correlation ID
/// holding a CIN, and its [`content`].
pub fn read(pdu: &Pdu) -> Result<Received<'_>, ContractError> {
    carries_cc(pdu)?;
    let time = record_time(pdu)?;
    let cin = cin(&pdu.correlation_id)?;
    Ok(Received {
        xid: pdu.xid,
        cin,
        time,
        sequence_number: pdu.sequence_number(),
        content: content(pdu)?,
    })
}

/// What an X2 or X3 PDU carries, as the contract writes it (the inverse of the record →
/// PDU functions): a payload format of its type (for X2 in format 1, a decodable
/// `IRIPayload`; for SIP and media, their addresses and ports). A receiver that reads the
/// time and CIN itself (the mediator's admission) calls this alone.
pub fn content(pdu: &Pdu) -> Result<Content<'_>, ContractError> {
    Ok(match (carries_cc(pdu)?, pdu.payload_format) {
        (true, format) if is_cc_payload_format(format) => Content::Cc {
            direction: core_direction(pdu.payload_direction),
            packet: &pdu.payload,
            original_length: pdu.original_length(),
        },
        (false, format) if is_iri_payload_format(format) => {
            Content::Iri(IriPayload::from_ber(&pdu.payload).map_err(ContractError::IriPayload)?)
        }
        (false, SIP_PAYLOAD_FORMAT) => {
            let (source, destination) = flow_of(pdu)?;
            Content::Sip {
                iri_type: iri_type_of(pdu),
                source,
                destination,
                message: &pdu.payload,
            }
        }
        (true, MEDIA_PAYLOAD_FORMAT) => {
            let (source, destination) = flow_of(pdu)?;
            let (stream, protocol) = media_stream_of(pdu);
            Content::Media {
                direction: core_direction(pdu.payload_direction),
                flow: MediaFlow {
                    source,
                    destination,
                    protocol,
                    stream,
                },
                packet: &pdu.payload,
            }
        }
        (_, format) => {
            return Err(ContractError::PayloadFormat {
                pdu_type: pdu.pdu_type,
                format,
            });
        }
    })
}

/// Whether a record PDU carries CC (X3) rather than IRI (X2); any other type carries no
/// record.
fn carries_cc(pdu: &Pdu) -> Result<bool, ContractError> {
    match pdu.pdu_type {
        PduType::X2 => Ok(false),
        PduType::X3 => Ok(true),
        pdu_type => Err(ContractError::NotARecord { pdu_type }),
    }
}

#[cfg(test)]
mod tests;
