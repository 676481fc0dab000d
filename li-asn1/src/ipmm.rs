//! ETSI TS 102 232-5 (IPMultimediaPDU, module version 14): IP multimedia (VoIP) content of
//! communication (`IPMMCC`, HI3) and intercept-related information (`IPMMIRI`, HI2).
//!
//! In a PS-PDU, an `IPMMIRI` is the `iPMMIRI [11]` alternative of TS 102 232-1
//! `IRIContents` ([`crate::IriContents::IpmmIri`]) and an `IPMMCC` the `iPMMCC [12]`
//! alternative of `CCContents` ([`crate::CcContents::IpmmCc`]). The PDUs are built with
//! [`crate::HeaderSettings::ipmm_iri_pdu`] and [`crate::HeaderSettings::ipmm_cc_pdu`]; the
//! hot path for media is [`crate::IpmmCcEncoder`].
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//!
//! use li_asn1::ipmm::{FrameType, IpmmIriContents, MediaStream};
//! use li_asn1::{CcContents, HeaderSettings, IriType, Payload, PayloadDirection, PsPdu};
//! use li_core::{Cin, Liid, OperatorId, Timestamp};
//!
//! let settings = HeaderSettings::new(Liid::new(b"LIID-0001")?, OperatorId::new(b"OPERATOR")?);
//! let time = Timestamp::from_secs_micros(1_704_164_645, 678_000)?;
//! let (ue, proxy) = (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)), IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)));
//!
//! // HI2: a SIP INVITE the target sent, verbatim, with the addresses it travelled between.
//! let invite = b"INVITE sip:bob@example.net SIP/2.0\r\n...";
//! let iri = settings.ipmm_iri_pdu(Cin::new(1), 0, time, IriType::Begin,
//!     IpmmIriContents::sip(ue, proxy, invite));
//! assert_eq!(PsPdu::decode(&iri.encode())?, iri);
//!
//! // HI3: one RTP packet of the call, without its IP and UDP headers.
//! let stream = MediaStream::new(FrameType::RtpFrame);
//! let cc = settings.ipmm_cc_pdu(Cin::new(1), 0, time, PayloadDirection::FromTarget, &stream,
//!     &[0x80, 0x00, 0x00, 0x01]);
//! let Payload::CcPayloadSequence(items) = PsPdu::decode(&cc.encode())?.payload else { panic!() };
//! assert!(matches!(&items[0].cc_contents, CcContents::IpmmCc(c) if c.contents == [0x80, 0, 0, 1]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::IpAddr;

use li_core::InterceptScope;

use crate::ber::{Tag, Tlv, Writer};
use crate::error::Result;
use crate::pdu::IpAddress;
use crate::types::{Opaque, RelativeOid, UnknownAlternative, asn1_enum, put, required};

/// The IPMultimediaPDU module version this crate implements.
pub const IP_MULTIMEDIA_VERSION: u16 = 14;

/// `iPMMCCObjId`: `{li-ps(5) iPMultimedia(5) version(v) cC(2)}` relative to `{0 4 0 2 2}`.
pub fn ipmmcc_obj_id(version: u16) -> RelativeOid {
    RelativeOid::from_vec(vec![5, 5, u64::from(version), 2])
}

/// `iPMMIRIObjId`: `{li-ps(5) iPMultimedia(5) version(v) iRI(1)}` relative to `{0 4 0 2 2}`.
pub fn ipmmiri_obj_id(version: u16) -> RelativeOid {
    RelativeOid::from_vec(vec![5, 5, u64::from(version), 1])
}

/// `IPMMCC` (TS 102 232-5 clause 5.3): one intercepted media packet (RTP/RTCP, UDPTL or
/// MSRP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpmmCc {
    /// `iPMMCCObjId [0]`.
    pub obj_id: RelativeOid,
    /// `mMCCContents [1]`: one packet, with the headers [`IpmmCc::frame_type`] says.
    pub contents: Vec<u8>,
    /// `frameType [2]`: which headers `contents` still has (clause 5.5). Optional in the
    /// module for backwards compatibility only; what this crate builds always carries it.
    pub frame_type: Option<FrameType>,
    /// `streamIdentifier [3]`: which media stream of the CIN (e.g. SDP `c=`/`m=` lines).
    pub stream_identifier: Option<Vec<u8>>,
    /// `mMCCprotocol [4]`: RTP, MSRP or UDPTL; absent means RTP/RTCP (or an audio frame).
    pub protocol: Option<MmccProtocol>,
}

impl IpmmCc {
    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            self.obj_id.encode(w, Tag::context(0));
            w.primitive(Tag::context(1), &self.contents);
            MediaStream::encode_fields(
                self.frame_type,
                self.stream_identifier.as_deref(),
                self.protocol,
                w,
            );
        });
    }

    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut oid, mut contents, mut frame, mut stream, mut protocol) =
            (None, None, None, None, None);
        let mut r = tlv.children("IPMMCC")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => {
                    const N: &str = "IPMMCC.iPMMCCObjId";
                    put(&mut oid, RelativeOid::decode(&f, N)?, N, &f)?;
                }
                Some(1) => {
                    const N: &str = "IPMMCC.mMCCContents";
                    put(&mut contents, f.octets(N)?.into_owned(), N, &f)?;
                }
                Some(2) => put(&mut frame, FrameType::decode(&f)?, "IPMMCC.frameType", &f)?,
                Some(3) => {
                    const N: &str = "IPMMCC.streamIdentifier";
                    put(&mut stream, f.octets(N)?.into_owned(), N, &f)?;
                }
                Some(4) => put(
                    &mut protocol,
                    MmccProtocol::decode(&f)?,
                    "IPMMCC.mMCCprotocol",
                    &f,
                )?,
                _ => {}
            }
        }
        Ok(Self {
            obj_id: required(oid, "IPMMCC.iPMMCCObjId", tlv)?,
            contents: required(contents, "IPMMCC.mMCCContents", tlv)?,
            frame_type: frame,
            stream_identifier: stream,
            protocol,
        })
    }
}

/// The per-stream fields of an `IPMMCC` (`frameType`, `streamIdentifier`, `mMCCprotocol`),
/// fixed for every packet of one media stream and encoded once, when the stream is set up.
///
/// [`crate::IpmmCcEncoder`] copies the encoding per record; [`crate::HeaderSettings::ipmm_cc_pdu`]
/// builds the typed [`IpmmCc`] from the same values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaStream {
    frame_type: FrameType,
    stream_identifier: Option<Vec<u8>>,
    protocol: Option<MmccProtocol>,
    /// `[2] frameType`, `[3] streamIdentifier`, `[4] mMCCprotocol`, encoded.
    encoded: Vec<u8>,
}

impl MediaStream {
    /// A stream of packets with these headers, RTP/RTCP by default (`mMCCprotocol` absent),
    /// without a `streamIdentifier`.
    pub fn new(frame_type: FrameType) -> Self {
        let mut s = Self {
            frame_type,
            stream_identifier: None,
            protocol: None,
            encoded: Vec::new(),
        };
        s.reencode();
        s
    }

    /// Sets `streamIdentifier` (for instance the SDP `m=` line of the stream, clause 5.3);
    /// an empty identifier is left out.
    pub fn with_stream_identifier(mut self, id: &[u8]) -> Self {
        self.stream_identifier = (!id.is_empty()).then(|| id.to_vec());
        self.reencode();
        self
    }

    /// Sets `mMCCprotocol` (needed for MSRP and UDPTL; RTP may leave it out).
    pub fn with_protocol(mut self, protocol: MmccProtocol) -> Self {
        self.protocol = Some(protocol);
        self.reencode();
        self
    }

    /// `frameType`.
    pub fn frame_type(&self) -> FrameType {
        self.frame_type
    }

    /// `streamIdentifier`.
    pub fn stream_identifier(&self) -> Option<&[u8]> {
        self.stream_identifier.as_deref()
    }

    /// `mMCCprotocol`.
    pub fn protocol(&self) -> Option<MmccProtocol> {
        self.protocol
    }

    /// The `IPMMCC` of one packet of this stream.
    pub fn ipmm_cc(&self, version: u16, contents: &[u8]) -> IpmmCc {
        IpmmCc {
            obj_id: ipmmcc_obj_id(version),
            contents: contents.to_vec(),
            frame_type: Some(self.frame_type),
            stream_identifier: self.stream_identifier.clone(),
            protocol: self.protocol,
        }
    }

    /// The encoded fields after `mMCCContents`.
    pub(crate) fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    fn reencode(&mut self) {
        let mut w = Writer::new();
        Self::encode_fields(
            Some(self.frame_type),
            self.stream_identifier.as_deref(),
            self.protocol,
            &mut w,
        );
        self.encoded = w.into_vec();
    }

    fn encode_fields(
        frame_type: Option<FrameType>,
        stream_identifier: Option<&[u8]>,
        protocol: Option<MmccProtocol>,
        w: &mut Writer,
    ) {
        if let Some(t) = frame_type {
            t.encode(w, Tag::context(2));
        }
        if let Some(id) = stream_identifier {
            w.primitive(Tag::context(3), id);
        }
        if let Some(p) = protocol {
            p.encode(w, Tag::context(4));
        }
    }
}

asn1_enum! {
    /// `FrameType` (TS 102 232-5 clause 5.5): which headers an `mMCCContents` packet keeps.
    FrameType, "IPMMCC.frameType", extensible {
        /// `ipFrame(0)`: all headers are present.
        IpFrame = 0 => "ipFrame",
        /// `udpFrame(1)`: the IP header is missing.
        UdpFrame = 1 => "udpFrame",
        /// `rtpFrame(2)`: the UDP and IP headers are missing.
        RtpFrame = 2 => "rtpFrame",
        /// `audioFrame(3)`: all headers are missing.
        AudioFrame = 3 => "audioFrame",
        /// `tcpFrame(4)`: the IP header is missing.
        TcpFrame = 4 => "tcpFrame",
        /// `artificialRtpFrame(5)`: the UDP and IP headers are missing; an artificial RTP
        /// header has been added.
        ArtificialRtpFrame = 5 => "artificialRtpFrame",
        /// `udptlFrame(6)`: the UDP and IP headers are missing.
        UdptlFrame = 6 => "udptlFrame",
        /// `msrpFrame(7)`: the TCP and IP headers are missing.
        MsrpFrame = 7 => "msrpFrame",
    }
}

asn1_enum! {
    /// `MMCCprotocol`: the protocol of the packets in `mMCCContents`.
    MmccProtocol, "IPMMCC.mMCCprotocol", extensible {
        /// `rTP(0)`: RTP/RTCP packets.
        Rtp = 0 => "rTP",
        /// `mSRP(1)`: MSRP packets.
        Msrp = 1 => "mSRP",
        /// `uDPTL(2)`: UDPTL packets.
        Udptl = 2 => "uDPTL",
    }
}

/// `IPMMIRI` (TS 102 232-5 clause 5.2): IP multimedia intercept-related information.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpmmIri {
    /// `iPMMIRIObjId [0]`.
    pub obj_id: RelativeOid,
    /// `iPMMIRIContents [1]`.
    pub contents: IpmmIriContents,
    /// `targetLocation [2]`: a TS 102 232-1 `Location` (clause 5.2.3), carried unchanged.
    pub target_location: Option<Opaque>,
    /// `additionalSignalling [3]` (clause 5.2.5).
    pub additional_signalling: Option<Vec<AdditionalSignalling>>,
}

impl IpmmIri {
    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            self.obj_id.encode(w, Tag::context(0));
            w.constructed(Tag::context_constructed(1), |w| self.contents.encode(w));
            if let Some(loc) = &self.target_location {
                loc.encode(w, Tag::context(2));
            }
            if let Some(items) = &self.additional_signalling {
                w.constructed(Tag::context_constructed(3), |w| {
                    for item in items {
                        match item {
                            AdditionalSignalling::SipHeaderLine(l) => {
                                w.primitive(Tag::context(0), l);
                            }
                            AdditionalSignalling::Other(alt) => alt.encode(w),
                        }
                    }
                });
            }
        });
    }

    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut oid, mut contents, mut location, mut signalling) = (None, None, None, None);
        let mut r = tlv.children("IPMMIRI")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => {
                    const N: &str = "IPMMIRI.iPMMIRIObjId";
                    put(&mut oid, RelativeOid::decode(&f, N)?, N, &f)?;
                }
                Some(1) => {
                    const N: &str = "IPMMIRI.iPMMIRIContents";
                    put(
                        &mut contents,
                        IpmmIriContents::decode(&f.single_child(N)?)?,
                        N,
                        &f,
                    )?;
                }
                Some(2) => put(
                    &mut location,
                    Opaque::decode(&f),
                    "IPMMIRI.targetLocation",
                    &f,
                )?,
                Some(3) => {
                    const N: &str = "IPMMIRI.additionalSignalling";
                    let mut items = Vec::new();
                    let mut inner = f.children(N)?;
                    while let Some(g) = inner.next_tlv()? {
                        items.push(match g.tag.context_number() {
                            Some(0) => AdditionalSignalling::SipHeaderLine(
                                g.octets("AdditionalSignalling.sipHeaderLine")?.into_owned(),
                            ),
                            _ => AdditionalSignalling::Other(UnknownAlternative::decode(
                                &g,
                                "AdditionalSignalling",
                            )?),
                        });
                    }
                    put(&mut signalling, items, N, &f)?;
                }
                _ => {}
            }
        }
        Ok(Self {
            obj_id: required(oid, "IPMMIRI.iPMMIRIObjId", tlv)?,
            contents: required(contents, "IPMMIRI.iPMMIRIContents", tlv)?,
            target_location: location,
            additional_signalling: signalling,
        })
    }
}

/// `IPIRIContents` of TS 102 232-5: the signalling an `IPMMIRI` carries.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpmmIriContents {
    /// `originalIPMMMessage [0]`: the signalling packet with its original IP and UDP/TCP
    /// headers.
    OriginalIpmmMessage(Vec<u8>),
    /// `sIPMessage [1]`: a SIP message and the addresses it travelled between (clause 5.2.7).
    SipMessage(SipMessage),
    /// `h323Message [2]`: an H.323 message and its addresses.
    H323Message(H323Message),
    /// `nationalIPMMIRIParameters [3]`.
    NationalIpmmIriParameters(NationalIpmmIriParameters),
    /// `xCAPMessage [4]`: an XCAP message with all its HTTP headers and contents.
    XcapMessage(Vec<u8>),
    /// `iRIOnlyOriginalIPMMMessage [5]`: as `originalIPMMMessage`, under an IRI-only warrant
    /// (clause 5.2.6).
    IriOnlyOriginalIpmmMessage(Vec<u8>),
    /// `iRIOnlySIPMessage [6]`: as `sIPMessage`, under an IRI-only warrant (clause 5.2.6).
    IriOnlySipMessage(SipMessage),
    /// A later alternative, carried unchanged.
    Other(UnknownAlternative),
}

impl IpmmIriContents {
    /// `sIPMessage`: the SIP message `sip` (start line, headers and body, verbatim) sent from
    /// `source` to `destination`.
    pub fn sip(source: IpAddr, destination: IpAddr, sip: &[u8]) -> Self {
        Self::SipMessage(SipMessage::new(source, destination, sip))
    }

    /// `iRIOnlySIPMessage`: as [`Self::sip`], for a warrant that covers IRI only.
    pub fn iri_only_sip(source: IpAddr, destination: IpAddr, sip: &[u8]) -> Self {
        Self::IriOnlySipMessage(SipMessage::new(source, destination, sip))
    }

    /// A SIP message as a task of `scope` delivers it: [`Self::sip`], or under an IRI-only
    /// warrant [`Self::iri_only_sip`] (the agency receives no content, so the signalling is
    /// marked as all it gets).
    pub fn sip_in_scope(
        scope: InterceptScope,
        source: IpAddr,
        destination: IpAddr,
        sip: &[u8],
    ) -> Self {
        match scope {
            InterceptScope::IriAndCc => Self::sip(source, destination, sip),
            InterceptScope::IriOnly => Self::iri_only_sip(source, destination, sip),
        }
    }

    fn encode(&self, w: &mut Writer) {
        let c = Tag::context;
        let cc = Tag::context_constructed;
        match self {
            Self::OriginalIpmmMessage(m) => w.primitive(c(0), m),
            Self::SipMessage(m) => m.encode(w, cc(1)),
            Self::H323Message(m) => m.encode(w, cc(2)),
            Self::NationalIpmmIriParameters(p) => {
                w.constructed(cc(3), |w| w.primitive(c(1), p.country_code.as_bytes()));
            }
            Self::XcapMessage(m) => w.primitive(c(4), m),
            Self::IriOnlyOriginalIpmmMessage(m) => w.primitive(c(5), m),
            Self::IriOnlySipMessage(m) => m.encode(w, cc(6)),
            Self::Other(alt) => alt.encode(w),
        }
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let octets = |field| tlv.octets(field).map(|o| o.into_owned());
        Ok(match tlv.tag.context_number() {
            Some(0) => Self::OriginalIpmmMessage(octets("IPIRIContents.originalIPMMMessage")?),
            Some(1) => Self::SipMessage(SipMessage::decode(tlv, "IPIRIContents.sIPMessage")?),
            Some(2) => Self::H323Message(H323Message::decode(tlv)?),
            Some(3) => {
                const N: &str = "IPIRIContents.nationalIPMMIRIParameters";
                let mut cc = None;
                let mut r = tlv.children(N)?;
                while let Some(g) = r.next_tlv()? {
                    if g.tag.context_number() == Some(1) {
                        const C: &str = "NationalIPMMIRIParameters.countryCode";
                        put(&mut cc, g.printable(C, 2, 2)?, C, &g)?;
                    }
                }
                Self::NationalIpmmIriParameters(NationalIpmmIriParameters {
                    country_code: required(cc, "NationalIPMMIRIParameters.countryCode", tlv)?,
                })
            }
            Some(4) => Self::XcapMessage(octets("IPIRIContents.xCAPMessage")?),
            Some(5) => Self::IriOnlyOriginalIpmmMessage(octets(
                "IPIRIContents.iRIOnlyOriginalIPMMMessage",
            )?),
            Some(6) => {
                Self::IriOnlySipMessage(SipMessage::decode(tlv, "IPIRIContents.iRIOnlySIPMessage")?)
            }
            _ => Self::Other(UnknownAlternative::decode(tlv, "IPIRIContents")?),
        })
    }
}

/// `SIPMessage` (TS 102 232-5 clause 5.2.7): a SIP message as transmitted on the network
/// layer, with its source and destination IP addresses (the module has no ports).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipMessage {
    /// `iPSourceAddress [0]`.
    pub ip_source_address: IpAddress,
    /// `iPDestinationAddress [1]`.
    pub ip_destination_address: IpAddress,
    /// `sIPContent [2]`: the SIP message, verbatim.
    pub sip_content: Vec<u8>,
}

impl SipMessage {
    /// The SIP message `sip` sent from `source` to `destination` (binary addresses; an IPv6
    /// one with prefix length 128, see [`IpAddress::from_ip`]).
    pub fn new(source: IpAddr, destination: IpAddr, sip: &[u8]) -> Self {
        Self {
            ip_source_address: IpAddress::from_ip(source),
            ip_destination_address: IpAddress::from_ip(destination),
            sip_content: sip.to_vec(),
        }
    }

    fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            self.ip_source_address
                .encode(w, Tag::context_constructed(0));
            self.ip_destination_address
                .encode(w, Tag::context_constructed(1));
            w.primitive(Tag::context(2), &self.sip_content);
        });
    }

    fn decode(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let (mut src, mut dst, mut content) = (None, None, None);
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut src,
                    IpAddress::decode(&f)?,
                    "SIPMessage.iPSourceAddress",
                    &f,
                )?,
                Some(1) => put(
                    &mut dst,
                    IpAddress::decode(&f)?,
                    "SIPMessage.iPDestinationAddress",
                    &f,
                )?,
                Some(2) => {
                    const N: &str = "SIPMessage.sIPContent";
                    put(&mut content, f.octets(N)?.into_owned(), N, &f)?;
                }
                _ => {}
            }
        }
        Ok(Self {
            ip_source_address: required(src, "SIPMessage.iPSourceAddress", tlv)?,
            ip_destination_address: required(dst, "SIPMessage.iPDestinationAddress", tlv)?,
            sip_content: required(content, "SIPMessage.sIPContent", tlv)?,
        })
    }
}

/// `H323Message`: an H.323 message and the addresses it travelled between (clause 5.2.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H323Message {
    /// `iPSourceAddress [0]`.
    pub ip_source_address: IpAddress,
    /// `iPDestinationAddress [1]`.
    pub ip_destination_address: IpAddress,
    /// `h323Content [2]`.
    pub h323_content: H323MessageContent,
}

impl H323Message {
    fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            self.ip_source_address
                .encode(w, Tag::context_constructed(0));
            self.ip_destination_address
                .encode(w, Tag::context_constructed(1));
            w.constructed(Tag::context_constructed(2), |w| match &self.h323_content {
                H323MessageContent::H225Cs(m) => w.primitive(Tag::context(0), m),
                H323MessageContent::H225Ras(m) => w.primitive(Tag::context(1), m),
                H323MessageContent::H245(m) => w.primitive(Tag::context(2), m),
                H323MessageContent::Generic(m) => w.primitive(Tag::context(3), m),
                H323MessageContent::Other(alt) => alt.encode(w),
            });
        });
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut src, mut dst, mut content) = (None, None, None);
        let mut r = tlv.children("IPIRIContents.h323Message")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut src,
                    IpAddress::decode(&f)?,
                    "H323Message.iPSourceAddress",
                    &f,
                )?,
                Some(1) => put(
                    &mut dst,
                    IpAddress::decode(&f)?,
                    "H323Message.iPDestinationAddress",
                    &f,
                )?,
                Some(2) => {
                    const N: &str = "H323Message.h323Content";
                    let alt = f.single_child(N)?;
                    let bytes = |field| alt.octets(field).map(|o| o.into_owned());
                    let v = match alt.tag.context_number() {
                        Some(0) => H323MessageContent::H225Cs(bytes(
                            "H323MessageContent.h225CSMessageContent",
                        )?),
                        Some(1) => H323MessageContent::H225Ras(bytes(
                            "H323MessageContent.h225RASMessageContent",
                        )?),
                        Some(2) => H323MessageContent::H245(bytes(
                            "H323MessageContent.h245MessageContent",
                        )?),
                        Some(3) => H323MessageContent::Generic(bytes(
                            "H323MessageContent.genericMessageContent",
                        )?),
                        _ => H323MessageContent::Other(UnknownAlternative::decode(&alt, N)?),
                    };
                    put(&mut content, v, N, &f)?;
                }
                _ => {}
            }
        }
        Ok(Self {
            ip_source_address: required(src, "H323Message.iPSourceAddress", tlv)?,
            ip_destination_address: required(dst, "H323Message.iPDestinationAddress", tlv)?,
            h323_content: required(content, "H323Message.h323Content", tlv)?,
        })
    }
}

/// `H323MessageContent`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum H323MessageContent {
    /// `h225CSMessageContent [0]`.
    H225Cs(Vec<u8>),
    /// `h225RASMessageContent [1]`.
    H225Ras(Vec<u8>),
    /// `h245MessageContent [2]`.
    H245(Vec<u8>),
    /// `genericMessageContent [3]`.
    Generic(Vec<u8>),
    /// A later alternative, carried unchanged.
    Other(UnknownAlternative),
}

/// `NationalIPMMIRIParameters`; national extensions after the marker are skipped on decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NationalIpmmIriParameters {
    /// `countryCode [1]`: ISO 3166-1 alpha-2.
    pub country_code: String,
}

/// `AdditionalSignalling` (clause 5.2.5).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdditionalSignalling {
    /// `sipHeaderLine [0]`: one SIP header line, e.g. `Contact: tel:+123456789`.
    SipHeaderLine(Vec<u8>),
    /// A later alternative, carried unchanged.
    Other(UnknownAlternative),
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::ber::Reader;
    use crate::error::Error;

    fn decode_cc(data: &[u8]) -> Result<IpmmCc> {
        IpmmCc::decode(&Reader::new(data).read()?)
    }

    fn decode_iri(data: &[u8]) -> Result<IpmmIri> {
        IpmmIri::decode(&Reader::new(data).read()?)
    }

    fn encode_iri(iri: &IpmmIri) -> Vec<u8> {
        let mut w = Writer::new();
        iri.encode(&mut w, Tag::context_constructed(11));
        w.into_vec()
    }

    #[test]
    fn ipmmcc_encodes_as_the_module_says() {
        let stream = MediaStream::new(FrameType::RtpFrame)
            .with_stream_identifier(b"m=audio")
            .with_protocol(MmccProtocol::Rtp);
        let cc = stream.ipmm_cc(14, &[0x80, 0x08]);
        let mut w = Writer::new();
        cc.encode(&mut w, Tag::context_constructed(12));
        let expected = [
            0xac, 25, // [12] IPMMCC
            0x80, 4, 5, 5, 14, 2, // [0] iPMMCCObjId {5 5 14 2}
            0x81, 2, 0x80, 0x08, // [1] mMCCContents
            0x82, 1, 2, // [2] frameType rtpFrame
            0x83, 7, b'm', b'=', b'a', b'u', b'd', b'i', b'o', // [3] streamIdentifier
            0x84, 1, 0, // [4] mMCCprotocol rTP
        ];
        assert_eq!(w.as_slice(), expected);
        assert_eq!(decode_cc(&expected).unwrap(), cc);
    }

    #[test]
    fn ipmmcc_tolerates_extensions_and_needs_its_mandatory_fields() {
        // Unknown [9] after the marker is skipped; frameType absent (an old peer) is fine.
        let data = [0xac, 12, 0x80, 4, 5, 5, 14, 2, 0x81, 0, 0x89, 2, 1, 2];
        let cc = decode_cc(&data).unwrap();
        assert_eq!(cc.contents, b"");
        assert_eq!(cc.frame_type, None);
        // An unknown frameType value survives as Unrecognized.
        let data = [0xac, 11, 0x80, 4, 5, 5, 14, 2, 0x81, 0, 0x82, 1, 42];
        assert_eq!(
            decode_cc(&data).unwrap().frame_type,
            Some(FrameType::Unrecognized(42))
        );
        let data = [0xac, 6, 0x80, 4, 5, 5, 14, 2];
        assert!(matches!(
            decode_cc(&data),
            Err(Error::MissingField {
                field: "IPMMCC.mMCCContents",
                offset: 0
            })
        ));
        let data = [0xac, 10, 0x80, 4, 5, 5, 14, 2, 0x81, 0, 0x81, 0];
        assert!(matches!(
            decode_cc(&data),
            Err(Error::DuplicateField {
                field: "IPMMCC.mMCCContents",
                offset: 10
            })
        ));
    }

    #[test]
    fn sip_message_round_trips_with_both_address_families() {
        let src = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
        let dst = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
        let sip = b"BYE sip:bob@example.net SIP/2.0\r\nCall-ID: a84b4c76e66710\r\n\r\n";
        for contents in [
            IpmmIriContents::sip(src, dst, sip),
            IpmmIriContents::iri_only_sip(src, dst, sip),
        ] {
            let iri = IpmmIri {
                obj_id: ipmmiri_obj_id(IP_MULTIMEDIA_VERSION),
                contents,
                target_location: None,
                additional_signalling: Some(vec![AdditionalSignalling::SipHeaderLine(
                    b"Contact: tel:+123456789".to_vec(),
                )]),
            };
            let octets = encode_iri(&iri);
            assert_eq!(decode_iri(&octets).unwrap(), iri);
        }
    }

    #[test]
    fn sip_message_errors_name_the_field() {
        let iri = IpmmIri {
            obj_id: ipmmiri_obj_id(14),
            contents: IpmmIriContents::sip(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                b"",
            ),
            target_location: None,
            additional_signalling: None,
        };
        let octets = encode_iri(&iri);
        // Drop sIPContent ([2], two octets, last in the PDU): every enclosing length shrinks.
        let mut cut = octets[..octets.len() - 2].to_vec();
        cut[1] -= 2; // [11] IPMMIRI
        let at = 2 + 6; // after the object identifier: [1] iPMMIRIContents
        assert_eq!(cut[at], 0xa1);
        cut[at + 1] -= 2;
        assert_eq!(cut[at + 2], 0xa1); // [1] sIPMessage
        cut[at + 3] -= 2;
        assert!(matches!(
            decode_iri(&cut),
            Err(Error::MissingField {
                field: "SIPMessage.sIPContent",
                offset: 10
            })
        ));
    }
}
