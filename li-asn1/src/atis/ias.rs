//! ATIS-1000013 CmII: `IasProtocol` of IAS-LAES-CmII-Abstract-Syntax-Module, the
//! communications-identifying information of an internet access intercept.
//!
//! `IasProtocol ::= SEQUENCE { protocolIdentifier OBJECT IDENTIFIER, iasMessage IasMessage }`
//! (both untagged); [`IasMessage`] has the twelve alternatives of the 2007 draft, each a
//! SEQUENCE starting with the [`crate::atis::IasHeader`]. Per third-party notes on the standard, the
//! access messages serve the registration function (Reg-F), the packet data session messages
//! the resource function (Res-F) and the reports the packet transfer function (PT-F).
//!
//! The identifiers (subscriber, access session, packet data session, access node,
//! characteristics, reason for termination) are all [`Value`], a CHOICE of string, integer and
//! octets; which alternative an agency expects is stated only in the standard's text.
//!
//! ```
//! use li_asn1::GeneralizedTime;
//! use li_asn1::atis::IasHeader;
//! use li_asn1::atis::ias::{AccessSessionEnd, IasMessage, IasProtocol, Value};
//!
//! let header = IasHeader {
//!     case_id: "CASE-1".into(),
//!     iap_system_id: "BRAS-3".into(),
//!     timestamp: GeneralizedTime::parse("20240102030405.678Z").ok_or("time")?,
//! };
//! let end = IasProtocol::new(IasMessage::AccessSessionEnd(AccessSessionEnd {
//!     header,
//!     subscriber_identity: Value::StringUtf8("alice@isp.example".into()),
//!     ip_address: None,
//!     access_session_id: Value::Octets(vec![0x12, 0x34]),
//!     reason_for_termination: Some(Value::StringVs("User-Request".into())),
//!     protocol_signal: None,
//! }));
//! assert_eq!(IasProtocol::decode(&end.encode())?, end);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::IpAddr;

use crate::atis::ias_cc::ContentIdentifier;
use crate::atis::{Field, choice_field, cmii_oid, ias_message, ias_protocol, visible};
use crate::ber::{Tag, Tlv, Writer};
use crate::error::Result;
use crate::types::{ObjectIdentifier, UnknownAlternative, asn1_enum, put, required};

ias_protocol! {
    /// `IasProtocol` (CmII): the module's identifier and one message.
    IasProtocol, IasMessage,
    "`protocolIdentifier`: the CmII module's OID (a per-destination setting; see [`crate::atis::cmii_oid`])."
}

impl IasProtocol {
    /// `message` under OpenCALEA's example CmII OID.
    pub fn new(message: IasMessage) -> Self {
        Self {
            protocol_identifier: cmii_oid(),
            message,
        }
    }
}

/// `IasMessage`: the CHOICE of CmII messages.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum IasMessage {
    /// `access-Attempt [0]`: the subject tries to gain network access.
    AccessAttempt(AccessAttempt),
    /// `access-Accepted [1]`: access granted.
    AccessAccepted(AccessAccepted),
    /// `access-Failed [2]`: access failed (for example an authentication failure).
    AccessFailed(AccessFailed),
    /// `access-Session-End [3]`: the access session ended.
    AccessSessionEnd(AccessSessionEnd),
    /// `access-Rejected [4]`: access refused.
    AccessRejected(AccessRejected),
    /// `access-Signaling-Message-Report [5]`: access signalling (RADIUS, Diameter ...) as is.
    AccessSignalingMessageReport(AccessSignalingMessageReport),
    /// `session-Start [6]`: a packet data session (an address) starts.
    SessionStart(PacketDataSessionStart),
    /// `session-Failed [7]`.
    SessionFailed(PacketDataSessionFailed),
    /// `session-End [8]`.
    SessionEnd(PacketDataSessionEnd),
    /// `session-Already-Established [9]`: the session was up when the intercept started.
    SessionAlreadyEstablished(PacketDataSessionAlreadyEstablished),
    /// `data-Header-Report [10]`: packet headers (for a pen-register order).
    DataHeaderReport(PacketDataHeaderReport),
    /// `data-Summary-Report [11]`: a count of packets per stream.
    DataSummaryReport(PacketDataSummaryReport),
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl IasMessage {
    /// The alternative's name in the module (`access-Attempt`, ...), or `None` for
    /// [`IasMessage::Unknown`].
    pub fn asn1_name(&self) -> Option<&'static str> {
        Some(match self {
            Self::AccessAttempt(_) => "access-Attempt",
            Self::AccessAccepted(_) => "access-Accepted",
            Self::AccessFailed(_) => "access-Failed",
            Self::AccessSessionEnd(_) => "access-Session-End",
            Self::AccessRejected(_) => "access-Rejected",
            Self::AccessSignalingMessageReport(_) => "access-Signaling-Message-Report",
            Self::SessionStart(_) => "session-Start",
            Self::SessionFailed(_) => "session-Failed",
            Self::SessionEnd(_) => "session-End",
            Self::SessionAlreadyEstablished(_) => "session-Already-Established",
            Self::DataHeaderReport(_) => "data-Header-Report",
            Self::DataSummaryReport(_) => "data-Summary-Report",
            Self::Unknown(_) => return None,
        })
    }

    fn encode(&self, w: &mut Writer) {
        let t = Tag::context_constructed;
        match self {
            Self::AccessAttempt(m) => m.encode(w, t(0)),
            Self::AccessAccepted(m) => m.encode(w, t(1)),
            Self::AccessFailed(m) => m.encode(w, t(2)),
            Self::AccessSessionEnd(m) => m.encode(w, t(3)),
            Self::AccessRejected(m) => m.encode(w, t(4)),
            Self::AccessSignalingMessageReport(m) => m.encode(w, t(5)),
            Self::SessionStart(m) => m.encode(w, t(6)),
            Self::SessionFailed(m) => m.encode(w, t(7)),
            Self::SessionEnd(m) => m.encode(w, t(8)),
            Self::SessionAlreadyEstablished(m) => m.encode(w, t(9)),
            Self::DataHeaderReport(m) => m.encode(w, t(10)),
            Self::DataSummaryReport(m) => m.encode(w, t(11)),
            Self::Unknown(u) => u.encode(w),
        }
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        Ok(match tlv.tag.context_number() {
            Some(0) => Self::AccessAttempt(AccessAttempt::decode(tlv)?),
            Some(1) => Self::AccessAccepted(AccessAccepted::decode(tlv)?),
            Some(2) => Self::AccessFailed(AccessFailed::decode(tlv)?),
            Some(3) => Self::AccessSessionEnd(AccessSessionEnd::decode(tlv)?),
            Some(4) => Self::AccessRejected(AccessRejected::decode(tlv)?),
            Some(5) => {
                Self::AccessSignalingMessageReport(AccessSignalingMessageReport::decode(tlv)?)
            }
            Some(6) => Self::SessionStart(PacketDataSessionStart::decode(tlv)?),
            Some(7) => Self::SessionFailed(PacketDataSessionFailed::decode(tlv)?),
            Some(8) => Self::SessionEnd(PacketDataSessionEnd::decode(tlv)?),
            Some(9) => {
                Self::SessionAlreadyEstablished(PacketDataSessionAlreadyEstablished::decode(tlv)?)
            }
            Some(10) => Self::DataHeaderReport(PacketDataHeaderReport::decode(tlv)?),
            Some(11) => Self::DataSummaryReport(PacketDataSummaryReport::decode(tlv)?),
            _ => Self::Unknown(UnknownAlternative::decode(tlv, "IasMessage")?),
        })
    }
}

ias_message! {
    /// `Access-Attempt` (Reg-F).
    AccessAttempt, "Access-Attempt", iap_size = (0, usize::MAX), {
        /// `subscriberIdentity [3]`.
        subscriber_identity: Value = [3] "subscriberIdentity" required,
        /// `accessMethod [4]`.
        access_method: AccessMethod = [4] "accessMethod" optional,
        /// `networkAccessNodeIdentity [5]`.
        network_access_node_identity: Value = [5] "networkAccessNodeIdentity" optional,
        /// `protocolSignal [6]`: the access protocol's attributes (RADIUS ...).
        protocol_signal: ProtocolSignal = [6] "protocolSignal" optional,
    }
}

ias_message! {
    /// `Access-Accepted` (Reg-F).
    AccessAccepted, "Access-Accepted", iap_size = (0, usize::MAX), {
        /// `subscriberIdentity [3]`.
        subscriber_identity: Value = [3] "subscriberIdentity" required,
        /// `accessMethod [4]`.
        access_method: AccessMethod = [4] "accessMethod" optional,
        /// `networkAccessNodeIdentity [5]`.
        network_access_node_identity: Value = [5] "networkAccessNodeIdentity" optional,
        /// `iPAddress [6]`.
        ip_address: IpAddressInfo = [6] "iPAddress" optional,
        /// `accessSessionID [7]`.
        access_session_id: Value = [7] "accessSessionID" required,
        /// `accessSessionCharacteristics [8]`.
        access_session_characteristics: Value = [8] "accessSessionCharacteristics" optional,
        /// `location [9]`.
        location: Location = [9] "location" optional,
        /// `protocolSignal [10]`.
        protocol_signal: ProtocolSignal = [10] "protocolSignal" optional,
    }
}

ias_message! {
    /// `Access-Failed` (Reg-F).
    AccessFailed, "Access-Failed", iap_size = (0, usize::MAX), {
        /// `subscriberIdentity [3]`.
        subscriber_identity: Value = [3] "subscriberIdentity" required,
        /// `iPAddress [4]`.
        ip_address: IpAddressInfo = [4] "iPAddress" optional,
        /// `reasonForTermination [5]`.
        reason_for_termination: Value = [5] "reasonForTermination" optional,
        /// `protocolSignal [6]`.
        protocol_signal: ProtocolSignal = [6] "protocolSignal" optional,
    }
}

ias_message! {
    /// `Access-Session-End` (Reg-F).
    AccessSessionEnd, "Access-Session-End", iap_size = (0, usize::MAX), {
        /// `subscriberIdentity [3]`.
        subscriber_identity: Value = [3] "subscriberIdentity" required,
        /// `iPAddress [4]`.
        ip_address: IpAddressInfo = [4] "iPAddress" optional,
        /// `accessSessionID [5]`.
        access_session_id: Value = [5] "accessSessionID" required,
        /// `reasonForTermination [6]`.
        reason_for_termination: Value = [6] "reasonForTermination" optional,
        /// `protocolSignal [7]`.
        protocol_signal: ProtocolSignal = [7] "protocolSignal" optional,
    }
}

ias_message! {
    /// `Access-Rejected` (Reg-F), shaped as `Access-Failed`.
    AccessRejected, "Access-Rejected", iap_size = (0, usize::MAX), {
        /// `subscriberIdentity [3]`.
        subscriber_identity: Value = [3] "subscriberIdentity" required,
        /// `iPAddress [4]`.
        ip_address: IpAddressInfo = [4] "iPAddress" optional,
        /// `reasonForTermination [5]`.
        reason_for_termination: Value = [5] "reasonForTermination" optional,
        /// `protocolSignal [6]`.
        protocol_signal: ProtocolSignal = [6] "protocolSignal" optional,
    }
}

ias_message! {
    /// `Access-Signaling-Message-Report` (Reg-F): intercepted access signalling, verbatim.
    AccessSignalingMessageReport, "Access-Signaling-Message-Report", iap_size = (0, usize::MAX), {
        /// `accessSessionID [3]`.
        access_session_id: Value = [3] "accessSessionID" optional,
        /// `signalingMsg [4]`: SET OF `InterceptedSignalingMessage`.
        signaling_msg: Vec<InterceptedSignalingMessage> = [4] "signalingMsg" required,
    }
}

ias_message! {
    /// `Packet-Data-Session-Start` (Res-F): an address is assigned to the subject.
    PacketDataSessionStart, "Packet-Data-Session-Start", iap_size = (0, usize::MAX), {
        /// `subscriberIdentity [3]`.
        subscriber_identity: Value = [3] "subscriberIdentity" required,
        /// `accessSessionID [4]`.
        access_session_id: Value = [4] "accessSessionID" optional,
        /// `packetDataSessionID [5]`.
        packet_data_session_id: Value = [5] "packetDataSessionID" required,
        /// `iPAddress [6]`.
        ip_address: IpAddressInfo = [6] "iPAddress" required,
        /// `accessSessionCharacteristics [7]`.
        access_session_characteristics: Value = [7] "accessSessionCharacteristics" optional,
        /// `location [8]`.
        location: Location = [8] "location" optional,
        /// `deliveryInformation [9]`: how the content of this session is delivered.
        delivery_information: LeaCmcDelivery = [9] "deliveryInformation" optional,
    }
}

ias_message! {
    /// `Packet-Data-Session-Failed` (Res-F).
    PacketDataSessionFailed, "Packet-Data-Session-Failed", iap_size = (0, usize::MAX), {
        /// `subscriberIdentity [3]`.
        subscriber_identity: Value = [3] "subscriberIdentity" required,
        /// `accessSessionID [4]`.
        access_session_id: Value = [4] "accessSessionID" optional,
        /// `reasonForTermination [5]`.
        reason_for_termination: Value = [5] "reasonForTermination" optional,
    }
}

ias_message! {
    /// `Packet-Data-Session-End` (Res-F). Later versions add `location [8]` (third-party
    /// notes on v2 2015); this 2007 draft has none, so a `[8]` is skipped as unknown.
    PacketDataSessionEnd, "Packet-Data-Session-End", iap_size = (0, usize::MAX), {
        /// `subscriberIdentity [3]`.
        subscriber_identity: Value = [3] "subscriberIdentity" required,
        /// `accessSessionID [4]`.
        access_session_id: Value = [4] "accessSessionID" optional,
        /// `packetDataSessionID [5]`.
        packet_data_session_id: Value = [5] "packetDataSessionID" required,
        /// `iPAddress [6]`.
        ip_address: IpAddressInfo = [6] "iPAddress" required,
        /// `reasonForTermination [7]`.
        reason_for_termination: Value = [7] "reasonForTermination" optional,
    }
}

ias_message! {
    /// `Packet-Data-Session-Already-Established` (Res-F): shaped as
    /// `Packet-Data-Session-Start`, for a session up when the intercept began.
    PacketDataSessionAlreadyEstablished, "Packet-Data-Session-Already-Established",
    iap_size = (0, usize::MAX), {
        /// `subscriberIdentity [3]`.
        subscriber_identity: Value = [3] "subscriberIdentity" required,
        /// `accessSessionID [4]`.
        access_session_id: Value = [4] "accessSessionID" optional,
        /// `packetDataSessionID [5]`.
        packet_data_session_id: Value = [5] "packetDataSessionID" required,
        /// `iPAddress [6]`.
        ip_address: IpAddressInfo = [6] "iPAddress" required,
        /// `accessSessionCharacteristics [7]`.
        access_session_characteristics: Value = [7] "accessSessionCharacteristics" optional,
        /// `location [8]`.
        location: Location = [8] "location" optional,
        /// `deliveryInformation [9]`.
        delivery_information: LeaCmcDelivery = [9] "deliveryInformation" optional,
    }
}

ias_message! {
    /// `Packet-Data-Header-Report` (PT-F).
    PacketDataHeaderReport, "Packet-Data-Header-Report", iap_size = (0, usize::MAX), {
        /// `contentIdentifier [3]`.
        content_identifier: ContentIdentifier = [3] "contentIdentifier" required,
        /// `headerSet [4]`.
        header_set: HeaderSet = [4] "headerSet" required,
    }
}

ias_message! {
    /// `Packet-Data-Summary-Report` (PT-F).
    PacketDataSummaryReport, "Packet-Data-Summary-Report", iap_size = (0, usize::MAX), {
        /// `contentIdentifier [3]`.
        content_identifier: ContentIdentifier = [3] "contentIdentifier" required,
        /// `streamSet [4]`.
        stream_set: StreamSet = [4] "streamSet" required,
    }
}

/// `Value ::= CHOICE { stringVS [0] VisibleString, stringUTF8 [1] UTF8String, integer [2]
/// INTEGER, octets [3] OCTET STRING, numeric [4] NumericString }`: the type of every
/// identifier of the module (`SubscriberIdentity`, `AccessSessionID`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `stringVS [0]`.
    StringVs(String),
    /// `stringUTF8 [1]`.
    StringUtf8(String),
    /// `integer [2]`.
    Integer(i64),
    /// `octets [3]`.
    Octets(Vec<u8>),
    /// `numeric [4]`: digits and spaces.
    Numeric(String),
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl Value {
    pub(crate) fn encode_choice(&self, w: &mut Writer) {
        match self {
            Self::StringVs(s) => w.primitive(Tag::context(0), s.as_bytes()),
            Self::StringUtf8(s) => w.primitive(Tag::context(1), s.as_bytes()),
            Self::Integer(i) => w.i64(Tag::context(2), *i),
            Self::Octets(o) => w.primitive(Tag::context(3), o),
            Self::Numeric(s) => w.primitive(Tag::context(4), s.as_bytes()),
            Self::Unknown(u) => u.encode(w),
        }
    }

    pub(crate) fn decode_choice(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Ok(match tlv.tag.context_number() {
            Some(0) => Self::StringVs(visible(tlv, field, 0, usize::MAX)?),
            Some(1) => Self::StringUtf8(tlv.utf8(field)?),
            Some(2) => Self::Integer(tlv.i64(field)?),
            Some(3) => Self::Octets(tlv.octets(field)?.into_owned()),
            Some(4) => {
                let s = tlv.utf8(field)?;
                if !s.bytes().all(|b| b.is_ascii_digit() || b == b' ') {
                    return Err(tlv.invalid(field, "character outside NumericString"));
                }
                Self::Numeric(s)
            }
            _ => Self::Unknown(UnknownAlternative::decode(tlv, field)?),
        })
    }
}

choice_field!(Value);

/// `IpAddress ::= CHOICE { ipV4 [1] IPvalue, ipV6 [2] IPvalue }` with `IPvalue ::= OCTET
/// STRING (SIZE(4..16))`: the module lets either alternative hold 4 to 16 octets, so the
/// octets are kept as sent; [`IpAddress::to_ip_addr`] reads the usual 4 and 16.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpAddress {
    /// `ipV4 [1]`.
    IpV4(Vec<u8>),
    /// `ipV6 [2]`.
    IpV6(Vec<u8>),
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl IpAddress {
    /// The address as `ipV4` (4 octets) or `ipV6` (16 octets).
    pub fn from_ip_addr(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => Self::IpV4(a.octets().to_vec()),
            IpAddr::V6(a) => Self::IpV6(a.octets().to_vec()),
        }
    }

    /// The address, when the alternative holds 4 (ipV4) or 16 (ipV6) octets.
    pub fn to_ip_addr(&self) -> Option<IpAddr> {
        match self {
            Self::IpV4(o) => <[u8; 4]>::try_from(o.as_slice()).ok().map(IpAddr::from),
            Self::IpV6(o) => <[u8; 16]>::try_from(o.as_slice()).ok().map(IpAddr::from),
            Self::Unknown(_) => None,
        }
    }

    pub(crate) fn encode_choice(&self, w: &mut Writer) {
        match self {
            Self::IpV4(o) => w.primitive(Tag::context(1), o),
            Self::IpV6(o) => w.primitive(Tag::context(2), o),
            Self::Unknown(u) => u.encode(w),
        }
    }

    pub(crate) fn decode_choice(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Ok(match tlv.tag.context_number() {
            Some(1) => Self::IpV4(tlv.octets_sized(field, 4, 16)?),
            Some(2) => Self::IpV6(tlv.octets_sized(field, 4, 16)?),
            _ => Self::Unknown(UnknownAlternative::decode(tlv, field)?),
        })
    }
}

choice_field!(IpAddress);

/// `IPAddress ::= SEQUENCE { address [0] IpAddress, allocationMethod [1] CHOICE {...},
/// iPv6FlowLabel [2] UTF8String OPTIONAL, prefixLen [3] INTEGER OPTIONAL }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpAddressInfo {
    /// `address [0]`.
    pub address: IpAddress,
    /// `allocationMethod [1]`.
    pub allocation_method: AllocationMethod,
    /// `iPv6FlowLabel [2]`.
    pub ipv6_flow_label: Option<String>,
    /// `prefixLen [3]`.
    pub prefix_len: Option<i64>,
}

impl Field for IpAddressInfo {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            self.address.encode_field(w, 0);
            self.allocation_method.encode_field(w, 1);
            if let Some(l) = &self.ipv6_flow_label {
                l.encode_field(w, 2);
            }
            if let Some(p) = self.prefix_len {
                p.encode_field(w, 3);
            }
        });
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const ADDR: &str = "IPAddress.address";
        const ALLOC: &str = "IPAddress.allocationMethod";
        const FLOW: &str = "IPAddress.iPv6FlowLabel";
        const PREFIX: &str = "IPAddress.prefixLen";
        let (mut addr, mut alloc, mut flow, mut prefix) = (None, None, None, None);
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(&mut addr, IpAddress::decode_field(&f, ADDR)?, ADDR, &f)?,
                Some(1) => put(
                    &mut alloc,
                    AllocationMethod::decode_field(&f, ALLOC)?,
                    ALLOC,
                    &f,
                )?,
                Some(2) => put(&mut flow, f.utf8(FLOW)?, FLOW, &f)?,
                Some(3) => put(&mut prefix, f.i64(PREFIX)?, PREFIX, &f)?,
                _ => {}
            }
        }
        Ok(Self {
            address: required(addr, ADDR, tlv)?,
            allocation_method: required(alloc, ALLOC, tlv)?,
            ipv6_flow_label: flow,
            prefix_len: prefix,
        })
    }
}

/// `IPAddress.allocationMethod ::= CHOICE { static [0] NULL, dynamic [1] NULL, unknown [2]
/// NULL, notApplicable [3] NULL }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllocationMethod {
    /// `static [0]`.
    Static,
    /// `dynamic [1]`.
    Dynamic,
    /// `unknown [2]`.
    NotKnown,
    /// `notApplicable [3]`.
    NotApplicable,
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl AllocationMethod {
    pub(crate) fn encode_choice(&self, w: &mut Writer) {
        match self {
            Self::Static => w.null(Tag::context(0)),
            Self::Dynamic => w.null(Tag::context(1)),
            Self::NotKnown => w.null(Tag::context(2)),
            Self::NotApplicable => w.null(Tag::context(3)),
            Self::Unknown(u) => u.encode(w),
        }
    }

    pub(crate) fn decode_choice(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let v = match tlv.tag.context_number() {
            Some(0) => Self::Static,
            Some(1) => Self::Dynamic,
            Some(2) => Self::NotKnown,
            Some(3) => Self::NotApplicable,
            _ => return Ok(Self::Unknown(UnknownAlternative::decode(tlv, field)?)),
        };
        tlv.null(field)?;
        Ok(v)
    }
}

choice_field!(AllocationMethod);

/// `AccessMethod ::= SEQUENCE { accessType [0] CHOICE {...} OPTIONAL, accessEquipmentID [1]
/// UTF8String OPTIONAL, partOfMultipleLogin [2] NULL OPTIONAL }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessMethod {
    /// `accessType [0]`.
    pub access_type: Option<AccessType>,
    /// `accessEquipmentID [1]`.
    pub access_equipment_id: Option<String>,
    /// `partOfMultipleLogin [2]`: present (true) or absent.
    pub part_of_multiple_login: bool,
}

impl Field for AccessMethod {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            if let Some(t) = &self.access_type {
                t.encode_field(w, 0);
            }
            if let Some(id) = &self.access_equipment_id {
                id.encode_field(w, 1);
            }
            if self.part_of_multiple_login {
                w.null(Tag::context(2));
            }
        });
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const TYPE: &str = "AccessMethod.accessType";
        const EQUIPMENT: &str = "AccessMethod.accessEquipmentID";
        const MULTIPLE: &str = "AccessMethod.partOfMultipleLogin";
        let (mut access_type, mut equipment, mut multiple) = (None, None, None);
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut access_type,
                    AccessType::decode_field(&f, TYPE)?,
                    TYPE,
                    &f,
                )?,
                Some(1) => put(&mut equipment, f.utf8(EQUIPMENT)?, EQUIPMENT, &f)?,
                Some(2) => put(&mut multiple, f.null(MULTIPLE)?, MULTIPLE, &f)?,
                _ => {}
            }
        }
        Ok(Self {
            access_type,
            access_equipment_id: equipment,
            part_of_multiple_login: multiple.is_some(),
        })
    }
}

/// `AccessMethod.accessType`: the access technology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessType {
    /// `dialUp [0]`.
    DialUp,
    /// `dsl [1]`.
    Dsl,
    /// `lan [2]`.
    Lan,
    /// `cable [3]`.
    Cable,
    /// `wiFi [4]`.
    WiFi,
    /// `wiMax [5]`.
    WiMax,
    /// `other [6]`: a description.
    Other(String),
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl AccessType {
    pub(crate) fn encode_choice(&self, w: &mut Writer) {
        let n = match self {
            Self::DialUp => 0,
            Self::Dsl => 1,
            Self::Lan => 2,
            Self::Cable => 3,
            Self::WiFi => 4,
            Self::WiMax => 5,
            Self::Other(s) => return w.primitive(Tag::context(6), s.as_bytes()),
            Self::Unknown(u) => return u.encode(w),
        };
        w.null(Tag::context(n));
    }

    pub(crate) fn decode_choice(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let v = match tlv.tag.context_number() {
            Some(0) => Self::DialUp,
            Some(1) => Self::Dsl,
            Some(2) => Self::Lan,
            Some(3) => Self::Cable,
            Some(4) => Self::WiFi,
            Some(5) => Self::WiMax,
            Some(6) => return Ok(Self::Other(tlv.utf8(field)?)),
            _ => return Ok(Self::Unknown(UnknownAlternative::decode(tlv, field)?)),
        };
        tlv.null(field)?;
        Ok(v)
    }
}

choice_field!(AccessType);

/// `ProtocolSignal ::= SEQUENCE { protocol [0] Protocol, signal [1] SET OF Value }`: the
/// access protocol's attributes, one [`Value`] each. How attributes map to values (type and
/// value, raw attribute octets ...) is not in the public material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolSignal {
    /// `protocol [0]`.
    pub protocol: Protocol,
    /// `signal [1]`.
    pub signal: Vec<Value>,
}

impl Field for ProtocolSignal {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            self.protocol.encode_field(w, 0);
            self.signal.encode_field(w, 1);
        });
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const PROTOCOL: &str = "ProtocolSignal.protocol";
        const SIGNAL: &str = "ProtocolSignal.signal";
        let (mut protocol, mut signal) = (None, None);
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut protocol,
                    Protocol::decode_field(&f, PROTOCOL)?,
                    PROTOCOL,
                    &f,
                )?,
                Some(1) => put(&mut signal, Vec::decode_field(&f, SIGNAL)?, SIGNAL, &f)?,
                _ => {}
            }
        }
        Ok(Self {
            protocol: required(protocol, PROTOCOL, tlv)?,
            signal: required(signal, SIGNAL, tlv)?,
        })
    }
}

/// `Protocol ::= CHOICE { radius [0] NULL, other [1] UTF8String }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `radius [0]`.
    Radius,
    /// `other [1]`: the protocol's name.
    Other(String),
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl Protocol {
    pub(crate) fn encode_choice(&self, w: &mut Writer) {
        match self {
            Self::Radius => w.null(Tag::context(0)),
            Self::Other(s) => w.primitive(Tag::context(1), s.as_bytes()),
            Self::Unknown(u) => u.encode(w),
        }
    }

    pub(crate) fn decode_choice(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Ok(match tlv.tag.context_number() {
            Some(0) => {
                tlv.null(field)?;
                Self::Radius
            }
            Some(1) => Self::Other(tlv.utf8(field)?),
            _ => Self::Unknown(UnknownAlternative::decode(tlv, field)?),
        })
    }
}

choice_field!(Protocol);

/// `Location ::= SEQUENCE { locationType [0] UTF8String, location [1] UTF8String }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// `locationType [0]`.
    pub location_type: String,
    /// `location [1]`.
    pub location: String,
}

impl Field for Location {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            self.location_type.encode_field(w, 0);
            self.location.encode_field(w, 1);
        });
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const TYPE: &str = "Location.locationType";
        const LOCATION: &str = "Location.location";
        let (mut t, mut l) = (None, None);
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(&mut t, f.utf8(TYPE)?, TYPE, &f)?,
                Some(1) => put(&mut l, f.utf8(LOCATION)?, LOCATION, &f)?,
                _ => {}
            }
        }
        Ok(Self {
            location_type: required(t, TYPE, tlv)?,
            location: required(l, LOCATION, tlv)?,
        })
    }
}

/// `InterceptedSignalingMessage ::= SEQUENCE { messageType [0] MessageType, message [1]
/// UTF8String }`. The module types `message` as UTF8String even for binary RADIUS or
/// Diameter; how those are rendered as text is not in the public material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterceptedSignalingMessage {
    /// `messageType [0]`.
    pub message_type: MessageType,
    /// `message [1]`.
    pub message: String,
}

impl crate::atis::Element for InterceptedSignalingMessage {
    fn encode_element(&self, w: &mut Writer) {
        w.constructed(Tag::SEQUENCE, |w| {
            self.message_type.encode(w, Tag::context(0));
            self.message.encode_field(w, 1);
        });
    }

    fn decode_element(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const TYPE: &str = "InterceptedSignalingMessage.messageType";
        const MESSAGE: &str = "InterceptedSignalingMessage.message";
        if tlv.tag != Tag::SEQUENCE {
            return Err(tlv.unexpected(field, "a SEQUENCE"));
        }
        let (mut t, mut m) = (None, None);
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(&mut t, MessageType::decode(&f)?, TYPE, &f)?,
                Some(1) => put(&mut m, f.utf8(MESSAGE)?, MESSAGE, &f)?,
                _ => {}
            }
        }
        Ok(Self {
            message_type: required(t, TYPE, tlv)?,
            message: required(m, MESSAGE, tlv)?,
        })
    }
}

asn1_enum! {
    /// `MessageType`: the protocol of an intercepted signalling message.
    MessageType, "InterceptedSignalingMessage.messageType", closed {
        /// `radius(0)`.
        Radius = 0 => "radius",
        /// `diameter(1)`.
        Diameter = 1 => "diameter",
        /// `xml(2)`.
        Xml = 2 => "xml",
        /// `asndot1(3)`.
        AsnDot1 = 3 => "asndot1",
        /// `other(4)`.
        Other = 4 => "other",
    }
}

/// `HeaderSet`: the headers of one packet stream (`Packet-Data-Header-Report`).
/// `PortNumber` is a UTF8String in this module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderSet {
    /// `streamID [0]`.
    pub stream_id: Value,
    /// `sourceIPaddress [1]`.
    pub source_ip_address: IpAddressInfo,
    /// `destinationIPaddress [2]`.
    pub destination_ip_address: IpAddressInfo,
    /// `sourcePortNumber [3]`.
    pub source_port_number: Option<String>,
    /// `destinationPortNumber [4]`.
    pub destination_port_number: Option<String>,
}

/// `StreamSet`: one stream and its packet count (`Packet-Data-Summary-Report`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSet {
    /// `streamID [0]`.
    pub stream_id: Value,
    /// `sourceIPaddress [1]`.
    pub source_ip_address: IpAddressInfo,
    /// `destinationIPaddress [2]`.
    pub destination_ip_address: IpAddressInfo,
    /// `packetCount [3]`.
    pub packet_count: i64,
    /// `sourcePortNumber [4]`.
    pub source_port_number: Option<String>,
    /// `destinationPortNumber [5]`.
    pub destination_port_number: Option<String>,
}

/// The components of a [`HeaderSet`] or [`StreamSet`] while they are decoded.
struct StreamFields {
    stream_id: Value,
    source: IpAddressInfo,
    destination: IpAddressInfo,
    packet_count: Option<i64>,
    source_port: Option<String>,
    destination_port: Option<String>,
}

/// Both sets share their first three components; the port tags follow `packetCount` in
/// `StreamSet`.
fn decode_stream_common(
    tlv: &Tlv<'_>,
    name: &'static str,
    names: [&'static str; 6],
    count_tag: Option<u32>,
) -> Result<StreamFields> {
    let [stream, src, dst, count, src_port, dst_port] = names;
    let (mut s, mut a, mut b, mut c, mut sp, mut dp) = (None, None, None, None, None, None);
    let port_base = if count_tag.is_some() { 4 } else { 3 };
    let mut r = tlv.children(name)?;
    while let Some(f) = r.next_tlv()? {
        let n = f.tag.context_number();
        match n {
            Some(0) => put(&mut s, Value::decode_field(&f, stream)?, stream, &f)?,
            Some(1) => put(&mut a, IpAddressInfo::decode_field(&f, src)?, src, &f)?,
            Some(2) => put(&mut b, IpAddressInfo::decode_field(&f, dst)?, dst, &f)?,
            _ if n.is_some() && n == count_tag => put(&mut c, f.i64(count)?, count, &f)?,
            Some(p) if p == port_base => put(&mut sp, f.utf8(src_port)?, src_port, &f)?,
            Some(p) if p == port_base + 1 => put(&mut dp, f.utf8(dst_port)?, dst_port, &f)?,
            _ => {}
        }
    }
    Ok(StreamFields {
        stream_id: required(s, stream, tlv)?,
        source: required(a, src, tlv)?,
        destination: required(b, dst, tlv)?,
        packet_count: c,
        source_port: sp,
        destination_port: dp,
    })
}

impl Field for HeaderSet {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            self.stream_id.encode_field(w, 0);
            self.source_ip_address.encode_field(w, 1);
            self.destination_ip_address.encode_field(w, 2);
            if let Some(p) = &self.source_port_number {
                p.encode_field(w, 3);
            }
            if let Some(p) = &self.destination_port_number {
                p.encode_field(w, 4);
            }
        });
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        let names = [
            "HeaderSet.streamID",
            "HeaderSet.sourceIPaddress",
            "HeaderSet.destinationIPaddress",
            "HeaderSet.packetCount",
            "HeaderSet.sourcePortNumber",
            "HeaderSet.destinationPortNumber",
        ];
        let f = decode_stream_common(tlv, field, names, None)?;
        Ok(Self {
            stream_id: f.stream_id,
            source_ip_address: f.source,
            destination_ip_address: f.destination,
            source_port_number: f.source_port,
            destination_port_number: f.destination_port,
        })
    }
}

impl Field for StreamSet {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            self.stream_id.encode_field(w, 0);
            self.source_ip_address.encode_field(w, 1);
            self.destination_ip_address.encode_field(w, 2);
            self.packet_count.encode_field(w, 3);
            if let Some(p) = &self.source_port_number {
                p.encode_field(w, 4);
            }
            if let Some(p) = &self.destination_port_number {
                p.encode_field(w, 5);
            }
        });
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const COUNT: &str = "StreamSet.packetCount";
        let names = [
            "StreamSet.streamID",
            "StreamSet.sourceIPaddress",
            "StreamSet.destinationIPaddress",
            COUNT,
            "StreamSet.sourcePortNumber",
            "StreamSet.destinationPortNumber",
        ];
        let f = decode_stream_common(tlv, field, names, Some(3))?;
        Ok(Self {
            stream_id: f.stream_id,
            source_ip_address: f.source,
            destination_ip_address: f.destination,
            packet_count: required(f.packet_count, COUNT, tlv)?,
            source_port_number: f.source_port,
            destination_port_number: f.destination_port,
        })
    }
}

/// `LEA-CmC-Delivery ::= SEQUENCE { contentIdentifier [0], deliveryIdentifier [1],
/// ccDeliveryFormat [2] }`: how and where the session's content is delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaCmcDelivery {
    /// `contentIdentifier [0]`: repeated in every `IAS-CC-APDU` of the session.
    pub content_identifier: ContentIdentifier,
    /// `deliveryIdentifier [1]`.
    pub delivery_identifier: DeliveryIdentifier,
    /// `ccDeliveryFormat [2]`.
    pub cc_delivery_format: CcDeliveryFormat,
}

impl Field for LeaCmcDelivery {
    fn encode_field(&self, w: &mut Writer, tag: u32) {
        w.constructed(Tag::context_constructed(tag), |w| {
            self.content_identifier.encode_field(w, 0);
            self.delivery_identifier.encode_field(w, 1);
            self.cc_delivery_format.encode_field(w, 2);
        });
    }

    fn decode_field(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const CONTENT: &str = "LEA-CmC-Delivery.contentIdentifier";
        const DELIVERY: &str = "LEA-CmC-Delivery.deliveryIdentifier";
        const FORMAT: &str = "LEA-CmC-Delivery.ccDeliveryFormat";
        let (mut c, mut d, mut f_) = (None, None, None);
        let mut r = tlv.children(field)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut c,
                    ContentIdentifier::decode_field(&f, CONTENT)?,
                    CONTENT,
                    &f,
                )?,
                Some(1) => put(
                    &mut d,
                    DeliveryIdentifier::decode_field(&f, DELIVERY)?,
                    DELIVERY,
                    &f,
                )?,
                Some(2) => put(
                    &mut f_,
                    CcDeliveryFormat::decode_field(&f, FORMAT)?,
                    FORMAT,
                    &f,
                )?,
                _ => {}
            }
        }
        Ok(Self {
            content_identifier: required(c, CONTENT, tlv)?,
            delivery_identifier: required(d, DELIVERY, tlv)?,
            cc_delivery_format: required(f_, FORMAT, tlv)?,
        })
    }
}

/// `DeliveryIdentifier ::= CHOICE { cccId [0] CCCIdentity, ccAddress [1] CCAddress }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryIdentifier {
    /// `cccId [0]`.
    CccId(CccIdentity),
    /// `ccAddress [1]`: `CCAddress ::= SEQUENCE { leaIPAddress [0] IpAddress, leaPortNumber
    /// [1] PortNumber }`.
    CcAddress {
        /// `leaIPAddress [0]`.
        lea_ip_address: IpAddress,
        /// `leaPortNumber [1]` (a UTF8String in this module).
        lea_port_number: String,
    },
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl DeliveryIdentifier {
    pub(crate) fn encode_choice(&self, w: &mut Writer) {
        match self {
            Self::CccId(c) => c.encode_field(w, 0),
            Self::CcAddress {
                lea_ip_address,
                lea_port_number,
            } => w.constructed(Tag::context_constructed(1), |w| {
                lea_ip_address.encode_field(w, 0);
                lea_port_number.encode_field(w, 1);
            }),
            Self::Unknown(u) => u.encode(w),
        }
    }

    pub(crate) fn decode_choice(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const ADDR: &str = "CCAddress.leaIPAddress";
        const PORT: &str = "CCAddress.leaPortNumber";
        Ok(match tlv.tag.context_number() {
            Some(0) => Self::CccId(CccIdentity::decode_field(tlv, "DeliveryIdentifier.cccId")?),
            Some(1) => {
                let (mut a, mut p) = (None, None);
                let mut r = tlv.children("CCAddress")?;
                while let Some(f) = r.next_tlv()? {
                    match f.tag.context_number() {
                        Some(0) => put(&mut a, IpAddress::decode_field(&f, ADDR)?, ADDR, &f)?,
                        Some(1) => put(&mut p, f.utf8(PORT)?, PORT, &f)?,
                        _ => {}
                    }
                }
                Self::CcAddress {
                    lea_ip_address: required(a, ADDR, tlv)?,
                    lea_port_number: required(p, PORT, tlv)?,
                }
            }
            _ => Self::Unknown(UnknownAlternative::decode(tlv, field)?),
        })
    }
}

choice_field!(DeliveryIdentifier);

/// `CCCIdentity`: the content channel(s), each a VisibleString (1..20). Its format is not
/// in the public material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CccIdentity {
    /// `combCCC [0]`: one channel for both directions.
    CombCcc(String),
    /// `sepCCCpair [1]`: `sepXmitCCC [0]` and `sepRecvCCC [1]`.
    SepCccPair {
        /// `sepXmitCCC [0]`.
        xmit: String,
        /// `sepRecvCCC [1]`.
        recv: String,
    },
    /// `indXmitCCC [2]`.
    IndXmitCcc(String),
    /// `indRecvCCC [3]`.
    IndRecvCcc(String),
    /// `indCCC [4]`.
    IndCcc(String),
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl CccIdentity {
    pub(crate) fn encode_choice(&self, w: &mut Writer) {
        match self {
            Self::CombCcc(s) => w.primitive(Tag::context(0), s.as_bytes()),
            Self::SepCccPair { xmit, recv } => {
                w.constructed(Tag::context_constructed(1), |w| {
                    w.primitive(Tag::context(0), xmit.as_bytes());
                    w.primitive(Tag::context(1), recv.as_bytes());
                });
            }
            Self::IndXmitCcc(s) => w.primitive(Tag::context(2), s.as_bytes()),
            Self::IndRecvCcc(s) => w.primitive(Tag::context(3), s.as_bytes()),
            Self::IndCcc(s) => w.primitive(Tag::context(4), s.as_bytes()),
            Self::Unknown(u) => u.encode(w),
        }
    }

    pub(crate) fn decode_choice(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        const XMIT: &str = "CCCIdentity.sepCCCpair.sepXmitCCC";
        const RECV: &str = "CCCIdentity.sepCCCpair.sepRecvCCC";
        let ccc = |t: &Tlv<'_>| visible(t, field, 1, 20);
        Ok(match tlv.tag.context_number() {
            Some(0) => Self::CombCcc(ccc(tlv)?),
            Some(1) => {
                let (mut x, mut r_) = (None, None);
                let mut r = tlv.children("CCCIdentity.sepCCCpair")?;
                while let Some(f) = r.next_tlv()? {
                    match f.tag.context_number() {
                        Some(0) => put(&mut x, visible(&f, XMIT, 1, 20)?, XMIT, &f)?,
                        Some(1) => put(&mut r_, visible(&f, RECV, 1, 20)?, RECV, &f)?,
                        _ => {}
                    }
                }
                Self::SepCccPair {
                    xmit: required(x, XMIT, tlv)?,
                    recv: required(r_, RECV, tlv)?,
                }
            }
            Some(2) => Self::IndXmitCcc(ccc(tlv)?),
            Some(3) => Self::IndRecvCcc(ccc(tlv)?),
            Some(4) => Self::IndCcc(ccc(tlv)?),
            _ => Self::Unknown(UnknownAlternative::decode(tlv, field)?),
        })
    }
}

choice_field!(CccIdentity);

/// `IAS-CCDeliveryFormat ::= CHOICE { scteDatagram [0] NULL, atis-678-ASN1 [1] OBJECT
/// IDENTIFIER, iasDatagram [2] NULL }`. The datagram layouts (annex D.3.1) are not in the
/// public material; `atis-678-ASN1` names the CmCC module ([`crate::atis::cmcc_oid`]) whose
/// `IAS-CC-APDU` this crate encodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CcDeliveryFormat {
    /// `scteDatagram [0]`.
    ScteDatagram,
    /// `atis-678-ASN1 [1]`: `IAS-CC-APDU`s of the module with this OID.
    Atis678Asn1(ObjectIdentifier),
    /// `iasDatagram [2]`.
    IasDatagram,
    /// An alternative a later version may add, kept as received.
    Unknown(UnknownAlternative),
}

impl CcDeliveryFormat {
    pub(crate) fn encode_choice(&self, w: &mut Writer) {
        match self {
            Self::ScteDatagram => w.null(Tag::context(0)),
            Self::Atis678Asn1(oid) => oid.encode(w, Tag::context(1)),
            Self::IasDatagram => w.null(Tag::context(2)),
            Self::Unknown(u) => u.encode(w),
        }
    }

    pub(crate) fn decode_choice(tlv: &Tlv<'_>, field: &'static str) -> Result<Self> {
        Ok(match tlv.tag.context_number() {
            Some(0) => {
                tlv.null(field)?;
                Self::ScteDatagram
            }
            Some(1) => Self::Atis678Asn1(ObjectIdentifier::decode(tlv, field)?),
            Some(2) => {
                tlv.null(field)?;
                Self::IasDatagram
            }
            _ => Self::Unknown(UnknownAlternative::decode(tlv, field)?),
        })
    }
}

choice_field!(CcDeliveryFormat);
