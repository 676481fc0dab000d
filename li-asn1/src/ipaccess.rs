//! ETSI TS 102 232-3 (IPAccessPDU, module version 18): IP access content (IPCC) and
//! intercept-related information (IPIRI).

use crate::ber::{Tag, Tlv, Writer};
use crate::error::Result;
use crate::pdu::IpAddress;
use crate::types::{
    GeneralizedTime, Opaque, RelativeOid, UnknownAlternative, asn1_enum, put, required,
};

/// The IPAccessPDU module version this crate implements.
pub const IP_ACCESS_VERSION: u16 = 18;

/// `iPCCObjId`: `{li-ps(5) iPAccess(3) version(v) cC(2)}` relative to `{0 4 0 2 2}`.
pub fn ipcc_obj_id(version: u16) -> RelativeOid {
    RelativeOid::from_vec(vec![5, 3, u64::from(version), 2])
}

/// `iPIRIObjId`: `{li-ps(5) iPAccess(3) version(v) iRI(1)}` relative to `{0 4 0 2 2}`.
pub fn ipiri_obj_id(version: u16) -> RelativeOid {
    RelativeOid::from_vec(vec![5, 3, u64::from(version), 1])
}

/// `IPCC` (TS 102 232-3 clause 6.3): the intercepted IP packets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpCc {
    /// `iPCCObjId [0]`.
    pub obj_id: RelativeOid,
    /// `iPCCContents [1]`.
    pub contents: IpCcContents,
}

impl IpCc {
    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            self.obj_id.encode(w, Tag::context(0));
            w.constructed(Tag::context_constructed(1), |w| match &self.contents {
                IpCcContents::IpPackets(p) => w.primitive(Tag::context(0), p),
                IpCcContents::IpTruncatedPacket {
                    truncated_packet,
                    original_length,
                } => w.constructed(Tag::context_constructed(1), |w| {
                    w.primitive(Tag::context(0), truncated_packet);
                    if let Some(len) = original_length {
                        w.i64(Tag::context(1), *len);
                    }
                }),
                IpCcContents::Other(alt) => alt.encode(w),
            });
        });
    }

    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut oid, mut contents) = (None, None);
        let mut r = tlv.children("IPCC")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => {
                    const N: &str = "IPCC.iPCCObjId";
                    put(&mut oid, RelativeOid::decode(&f, N)?, N, &f)?;
                }
                Some(1) => {
                    const N: &str = "IPCC.iPCCContents";
                    put(
                        &mut contents,
                        IpCcContents::decode(&f.single_child(N)?)?,
                        N,
                        &f,
                    )?;
                }
                _ => {}
            }
        }
        Ok(Self {
            obj_id: required(oid, "IPCC.iPCCObjId", tlv)?,
            contents: required(contents, "IPCC.iPCCContents", tlv)?,
        })
    }
}

/// `IPCCContents`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpCcContents {
    /// `iPPackets [0]`: one IP packet, as seen, starting with its IP header.
    IpPackets(Vec<u8>),
    /// `iPTruncatedPacket [1]`.
    IpTruncatedPacket {
        /// `truncatedPacket [0]`.
        truncated_packet: Vec<u8>,
        /// `originalLength [1]`.
        original_length: Option<i64>,
    },
    /// A later alternative, carried unchanged.
    Other(UnknownAlternative),
}

impl IpCcContents {
    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        match tlv.tag.context_number() {
            Some(0) => Ok(Self::IpPackets(
                tlv.octets("IPCCContents.iPPackets")?.into_owned(),
            )),
            Some(1) => {
                let (mut packet, mut len) = (None, None);
                let mut r = tlv.children("IPTruncatedPacket")?;
                while let Some(f) = r.next_tlv()? {
                    match f.tag.context_number() {
                        Some(0) => {
                            const N: &str = "IPTruncatedPacket.truncatedPacket";
                            put(&mut packet, f.octets(N)?.into_owned(), N, &f)?;
                        }
                        Some(1) => {
                            const N: &str = "IPTruncatedPacket.originalLength";
                            put(&mut len, f.i64(N)?, N, &f)?;
                        }
                        _ => {}
                    }
                }
                Ok(Self::IpTruncatedPacket {
                    truncated_packet: required(packet, "IPTruncatedPacket.truncatedPacket", tlv)?,
                    original_length: len,
                })
            }
            _ => Ok(Self::Other(UnknownAlternative::decode(
                tlv,
                "IPCCContents",
            )?)),
        }
    }
}

/// `IPIRI` (TS 102 232-3 clause 6.2): IP access intercept-related information.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpIri {
    /// `iPIRIObjId [0]`.
    pub obj_id: RelativeOid,
    /// `iPIRIContents [1]`.
    pub contents: IpIriContents,
}

impl IpIri {
    pub(crate) fn encode(&self, w: &mut Writer, tag: Tag) {
        w.constructed(tag, |w| {
            self.obj_id.encode(w, Tag::context(0));
            self.contents.encode(w, Tag::context_constructed(1));
        });
    }

    pub(crate) fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        let (mut oid, mut contents) = (None, None);
        let mut r = tlv.children("IPIRI")?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => {
                    const N: &str = "IPIRI.iPIRIObjId";
                    put(&mut oid, RelativeOid::decode(&f, N)?, N, &f)?;
                }
                Some(1) => put(
                    &mut contents,
                    IpIriContents::decode(&f)?,
                    "IPIRI.iPIRIContents",
                    &f,
                )?,
                _ => {}
            }
        }
        Ok(Self {
            obj_id: required(oid, "IPIRI.iPIRIObjId", tlv)?,
            contents: required(contents, "IPIRI.iPIRIContents", tlv)?,
        })
    }
}

/// `IPIRIContents` (TS 102 232-3 clause 7.2 and annex B), every field of version 18.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpIriContents {
    /// `accessEventType [0]`.
    pub access_event_type: AccessEventType,
    /// `targetUsername [1]`: ASCII.
    pub target_username: Vec<u8>,
    /// `internetAccessType [2]`.
    pub internet_access_type: InternetAccessType,
    /// `iPVersion [3]`.
    pub ip_version: IpVersion,
    /// `targetIPAddress [4]`: the first IPv4 or IPv6 address of the target.
    pub target_ip_address: Option<IpAddress>,
    /// `targetNetworkID [5]`: 1..20 characters (e.g. a MAC address).
    pub target_network_id: Option<String>,
    /// `targetCPEID [6]`: 1..128 characters.
    pub target_cpe_id: Option<String>,
    /// `targetLocation [7]`: 1..64 characters.
    pub target_location: Option<String>,
    /// `pOPPortNumber [8]`.
    pub pop_port_number: Option<u32>,
    /// `callBackNumber [9]`: 1..20 characters.
    pub call_back_number: Option<String>,
    /// `startTime [10]`.
    pub start_time: Option<GeneralizedTime>,
    /// `endTime [11]`.
    pub end_time: Option<GeneralizedTime>,
    /// `endReason [12]`.
    pub end_reason: Option<EndReason>,
    /// `octetsReceived [13]`.
    pub octets_received: Option<u64>,
    /// `octetsTransmitted [14]`.
    pub octets_transmitted: Option<u64>,
    /// `rawAAAData [15]`.
    pub raw_aaa_data: Option<Vec<u8>>,
    /// `expectedEndTime [16]`.
    pub expected_end_time: Option<GeneralizedTime>,
    /// `pOPPhoneNumber [17]`: 1..20 characters.
    pub pop_phone_number: Option<String>,
    /// `pOPIdentifier [18]`.
    pub pop_identifier: Option<IpIriIdType>,
    /// `pOPIPAddress [19]`.
    pub pop_ip_address: Option<IpAddress>,
    /// `nationalIPIRIParameters [20]`: only the country code is modelled.
    pub national_ipiri_parameters: Option<NationalIpIriParameters>,
    /// `additionalIPAddress [21]`: the first IPv6 address when `iPVersion` is `iPV4andV6`.
    pub additional_ip_address: Option<IpAddress>,
    /// `authenticationType [22]`.
    pub authentication_type: Option<AuthenticationType>,
    /// `otherTargetIdentifiers [23]`.
    pub other_target_identifiers: Option<Vec<OtherTargetIdentifier>>,
    /// `location [24]`: a LI-PS-PDU `Location`, whose alternatives come from 3GPP and
    /// TS 101 671 modules; carried unchanged.
    pub location: Option<Opaque>,
    /// `pOPPortID [25]`: the RADIUS NAS-Port-Id.
    pub pop_port_id: Option<Vec<u8>>,
    /// `framedRoutes [26]`.
    pub framed_routes: Option<Vec<FramedRoute>>,
}

impl IpIriContents {
    /// The contents with only the mandatory fields.
    pub fn new(
        access_event_type: AccessEventType,
        target_username: Vec<u8>,
        internet_access_type: InternetAccessType,
        ip_version: IpVersion,
    ) -> Self {
        Self {
            access_event_type,
            target_username,
            internet_access_type,
            ip_version,
            target_ip_address: None,
            target_network_id: None,
            target_cpe_id: None,
            target_location: None,
            pop_port_number: None,
            call_back_number: None,
            start_time: None,
            end_time: None,
            end_reason: None,
            octets_received: None,
            octets_transmitted: None,
            raw_aaa_data: None,
            expected_end_time: None,
            pop_phone_number: None,
            pop_identifier: None,
            pop_ip_address: None,
            national_ipiri_parameters: None,
            additional_ip_address: None,
            authentication_type: None,
            other_target_identifiers: None,
            location: None,
            pop_port_id: None,
            framed_routes: None,
        }
    }

    fn encode(&self, w: &mut Writer, tag: Tag) {
        let c = Tag::context;
        let cc = Tag::context_constructed;
        w.constructed(tag, |w| {
            self.access_event_type.encode(w, c(0));
            w.primitive(c(1), &self.target_username);
            self.internet_access_type.encode(w, c(2));
            self.ip_version.encode(w, c(3));
            if let Some(a) = &self.target_ip_address {
                a.encode(w, cc(4));
            }
            for (n, s) in [
                (5, &self.target_network_id),
                (6, &self.target_cpe_id),
                (7, &self.target_location),
            ] {
                if let Some(s) = s {
                    w.primitive(c(n), s.as_bytes());
                }
            }
            if let Some(p) = self.pop_port_number {
                w.u64(c(8), u64::from(p));
            }
            if let Some(s) = &self.call_back_number {
                w.primitive(c(9), s.as_bytes());
            }
            if let Some(t) = &self.start_time {
                t.encode(w, c(10));
            }
            if let Some(t) = &self.end_time {
                t.encode(w, c(11));
            }
            if let Some(r) = self.end_reason {
                r.encode(w, c(12));
            }
            if let Some(n) = self.octets_received {
                w.u64(c(13), n);
            }
            if let Some(n) = self.octets_transmitted {
                w.u64(c(14), n);
            }
            if let Some(raw) = &self.raw_aaa_data {
                w.primitive(c(15), raw);
            }
            if let Some(t) = &self.expected_end_time {
                t.encode(w, c(16));
            }
            if let Some(s) = &self.pop_phone_number {
                w.primitive(c(17), s.as_bytes());
            }
            if let Some(id) = &self.pop_identifier {
                w.constructed(cc(18), |w| id.encode(w));
            }
            if let Some(a) = &self.pop_ip_address {
                a.encode(w, cc(19));
            }
            if let Some(p) = &self.national_ipiri_parameters {
                w.constructed(cc(20), |w| w.primitive(c(1), p.country_code.as_bytes()));
            }
            if let Some(a) = &self.additional_ip_address {
                a.encode(w, cc(21));
            }
            if let Some(t) = self.authentication_type {
                t.encode(w, c(22));
            }
            if let Some(ids) = &self.other_target_identifiers {
                w.constructed(cc(23), |w| {
                    for id in ids {
                        match id {
                            OtherTargetIdentifier::IpAddress(a) => a.encode(w, cc(0)),
                            OtherTargetIdentifier::Other(alt) => alt.encode(w),
                        }
                    }
                });
            }
            if let Some(loc) = &self.location {
                loc.encode(w, c(24));
            }
            if let Some(id) = &self.pop_port_id {
                w.primitive(c(25), id);
            }
            if let Some(routes) = &self.framed_routes {
                w.constructed(cc(26), |w| {
                    for route in routes {
                        match route {
                            FramedRoute::FramedRoute(r) => w.primitive(c(0), r),
                            FramedRoute::Other(alt) => alt.encode(w),
                        }
                    }
                });
            }
        });
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        const F: &str = "IPIRIContents";
        let (mut aet, mut user, mut iat, mut ipv) = (None, None, None, None);
        let mut v = Self::new(
            AccessEventType::AccessAttempt,
            Vec::new(),
            InternetAccessType::Undefined,
            IpVersion::Ipv4,
        );
        let mut r = tlv.children(F)?;
        while let Some(f) = r.next_tlv()? {
            match f.tag.context_number() {
                Some(0) => put(
                    &mut aet,
                    AccessEventType::decode(&f)?,
                    "IPIRIContents.accessEventType",
                    &f,
                )?,
                Some(1) => {
                    const N: &str = "IPIRIContents.targetUsername";
                    put(&mut user, f.octets(N)?.into_owned(), N, &f)?;
                }
                Some(2) => put(
                    &mut iat,
                    InternetAccessType::decode(&f)?,
                    "IPIRIContents.internetAccessType",
                    &f,
                )?,
                Some(3) => put(
                    &mut ipv,
                    IpVersion::decode(&f)?,
                    "IPIRIContents.iPVersion",
                    &f,
                )?,
                Some(4) => put(
                    &mut v.target_ip_address,
                    IpAddress::decode(&f)?,
                    "IPIRIContents.targetIPAddress",
                    &f,
                )?,
                Some(5) => {
                    const N: &str = "IPIRIContents.targetNetworkID";
                    put(&mut v.target_network_id, f.utf8_sized(N, 1, 20)?, N, &f)?;
                }
                Some(6) => {
                    const N: &str = "IPIRIContents.targetCPEID";
                    put(&mut v.target_cpe_id, f.utf8_sized(N, 1, 128)?, N, &f)?;
                }
                Some(7) => {
                    const N: &str = "IPIRIContents.targetLocation";
                    put(&mut v.target_location, f.utf8_sized(N, 1, 64)?, N, &f)?;
                }
                Some(8) => {
                    const N: &str = "IPIRIContents.pOPPortNumber";
                    put(&mut v.pop_port_number, f.u32(N)?, N, &f)?;
                }
                Some(9) => {
                    const N: &str = "IPIRIContents.callBackNumber";
                    put(&mut v.call_back_number, f.utf8_sized(N, 1, 20)?, N, &f)?;
                }
                Some(10) => {
                    const N: &str = "IPIRIContents.startTime";
                    put(&mut v.start_time, GeneralizedTime::decode(&f, N)?, N, &f)?;
                }
                Some(11) => {
                    const N: &str = "IPIRIContents.endTime";
                    put(&mut v.end_time, GeneralizedTime::decode(&f, N)?, N, &f)?;
                }
                Some(12) => put(
                    &mut v.end_reason,
                    EndReason::decode(&f)?,
                    "IPIRIContents.endReason",
                    &f,
                )?,
                Some(13) => {
                    const N: &str = "IPIRIContents.octetsReceived";
                    put(&mut v.octets_received, f.u64(N)?, N, &f)?;
                }
                Some(14) => {
                    const N: &str = "IPIRIContents.octetsTransmitted";
                    put(&mut v.octets_transmitted, f.u64(N)?, N, &f)?;
                }
                Some(15) => {
                    const N: &str = "IPIRIContents.rawAAAData";
                    put(&mut v.raw_aaa_data, f.octets(N)?.into_owned(), N, &f)?;
                }
                Some(16) => {
                    const N: &str = "IPIRIContents.expectedEndTime";
                    put(
                        &mut v.expected_end_time,
                        GeneralizedTime::decode(&f, N)?,
                        N,
                        &f,
                    )?;
                }
                Some(17) => {
                    const N: &str = "IPIRIContents.pOPPhoneNumber";
                    put(&mut v.pop_phone_number, f.utf8_sized(N, 1, 20)?, N, &f)?;
                }
                Some(18) => {
                    const N: &str = "IPIRIContents.pOPIdentifier";
                    put(
                        &mut v.pop_identifier,
                        IpIriIdType::decode(&f.single_child(N)?)?,
                        N,
                        &f,
                    )?;
                }
                Some(19) => put(
                    &mut v.pop_ip_address,
                    IpAddress::decode(&f)?,
                    "IPIRIContents.pOPIPAddress",
                    &f,
                )?,
                Some(20) => {
                    const N: &str = "IPIRIContents.nationalIPIRIParameters";
                    let mut cc = None;
                    let mut inner = f.children(N)?;
                    while let Some(g) = inner.next_tlv()? {
                        if g.tag.context_number() == Some(1) {
                            const C: &str = "NationalIPIRIParameters.countryCode";
                            put(&mut cc, g.printable(C, 2, 2)?, C, &g)?;
                        }
                    }
                    let country_code = required(cc, "NationalIPIRIParameters.countryCode", &f)?;
                    put(
                        &mut v.national_ipiri_parameters,
                        NationalIpIriParameters { country_code },
                        N,
                        &f,
                    )?;
                }
                Some(21) => put(
                    &mut v.additional_ip_address,
                    IpAddress::decode(&f)?,
                    "IPIRIContents.additionalIPAddress",
                    &f,
                )?,
                Some(22) => put(
                    &mut v.authentication_type,
                    AuthenticationType::decode(&f)?,
                    "IPIRIContents.authenticationType",
                    &f,
                )?,
                Some(23) => {
                    const N: &str = "IPIRIContents.otherTargetIdentifiers";
                    let mut ids = Vec::new();
                    let mut inner = f.children(N)?;
                    while let Some(g) = inner.next_tlv()? {
                        ids.push(match g.tag.context_number() {
                            Some(0) => OtherTargetIdentifier::IpAddress(IpAddress::decode(&g)?),
                            _ => OtherTargetIdentifier::Other(UnknownAlternative::decode(&g, N)?),
                        });
                    }
                    put(&mut v.other_target_identifiers, ids, N, &f)?;
                }
                Some(24) => put(
                    &mut v.location,
                    Opaque::decode(&f),
                    "IPIRIContents.location",
                    &f,
                )?,
                Some(25) => {
                    const N: &str = "IPIRIContents.pOPPortID";
                    put(&mut v.pop_port_id, f.octets(N)?.into_owned(), N, &f)?;
                }
                Some(26) => {
                    const N: &str = "IPIRIContents.framedRoutes";
                    let mut routes = Vec::new();
                    let mut inner = f.children(N)?;
                    while let Some(g) = inner.next_tlv()? {
                        routes.push(match g.tag.context_number() {
                            Some(0) => FramedRoute::FramedRoute(g.octets(N)?.into_owned()),
                            _ => FramedRoute::Other(UnknownAlternative::decode(&g, N)?),
                        });
                    }
                    put(&mut v.framed_routes, routes, N, &f)?;
                }
                _ => {}
            }
        }
        v.access_event_type = required(aet, "IPIRIContents.accessEventType", tlv)?;
        v.target_username = required(user, "IPIRIContents.targetUsername", tlv)?;
        v.internet_access_type = required(iat, "IPIRIContents.internetAccessType", tlv)?;
        v.ip_version = required(ipv, "IPIRIContents.iPVersion", tlv)?;
        Ok(v)
    }
}

/// `IPIRIIDType`: how the point of presence is identified.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpIriIdType {
    /// `printableIDType [0]`: 1..128 characters.
    Printable(String),
    /// `macAddressType [1]`.
    MacAddress([u8; 6]),
    /// `ipAddressType [2]`.
    IpAddress(IpAddress),
    /// A later alternative, carried unchanged.
    Other(UnknownAlternative),
}

impl IpIriIdType {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Printable(s) => w.primitive(Tag::context(0), s.as_bytes()),
            Self::MacAddress(m) => w.primitive(Tag::context(1), m),
            Self::IpAddress(a) => a.encode(w, Tag::context_constructed(2)),
            Self::Other(alt) => alt.encode(w),
        }
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self> {
        const F: &str = "IPIRIIDType";
        match tlv.tag.context_number() {
            Some(0) => Ok(Self::Printable(tlv.utf8_sized(
                "IPIRIIDType.printableIDType",
                1,
                128,
            )?)),
            Some(1) => {
                const N: &str = "IPIRIIDType.macAddressType";
                let v = tlv.octets(N)?;
                Ok(Self::MacAddress(v.as_ref().try_into().map_err(|_| {
                    tlv.invalid(N, "MAC address must be 6 octets")
                })?))
            }
            Some(2) => Ok(Self::IpAddress(IpAddress::decode(tlv)?)),
            _ => Ok(Self::Other(UnknownAlternative::decode(tlv, F)?)),
        }
    }
}

/// `NationalIPIRIParameters`; national extensions after the marker are skipped on decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NationalIpIriParameters {
    /// `countryCode [1]`.
    pub country_code: String,
}

/// `OtherTargetIdentifiers`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtherTargetIdentifier {
    /// `iPAddress [0]`.
    IpAddress(IpAddress),
    /// A later alternative, carried unchanged.
    Other(UnknownAlternative),
}

/// `FramedRoute`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramedRoute {
    /// `framedRoute [0]`: the RADIUS Framed-Route or Framed-IPv6-Route value.
    FramedRoute(Vec<u8>),
    /// A later alternative, carried unchanged.
    Other(UnknownAlternative),
}

asn1_enum! {
    /// `AccessEventType` (TS 102 232-3 clause 7.2.1).
    AccessEventType, "IPIRIContents.accessEventType", extensible {
        /// `accessAttempt(0)`.
        AccessAttempt = 0 => "accessAttempt",
        /// `accessAccept(1)`.
        AccessAccept = 1 => "accessAccept",
        /// `accessReject(2)`.
        AccessReject = 2 => "accessReject",
        /// `accessFailed(3)`.
        AccessFailed = 3 => "accessFailed",
        /// `sessionStart(4)`: not in use since version 4.
        SessionStart = 4 => "sessionStart",
        /// `sessionEnd(5)`: not in use since version 4.
        SessionEnd = 5 => "sessionEnd",
        /// `interimUpdate(6)`.
        InterimUpdate = 6 => "interimUpdate",
        /// `startOfInterceptionWithSessionActive(7)`.
        StartOfInterceptionWithSessionActive = 7 => "startOfInterceptionWithSessionActive",
        /// `accessEnd(8)`.
        AccessEnd = 8 => "accessEnd",
        /// `endOfInterceptionWithSessionActive(9)`.
        EndOfInterceptionWithSessionActive = 9 => "endOfInterceptionWithSessionActive",
        /// `unknown(10)`.
        Unknown = 10 => "unknown",
    }
}

asn1_enum! {
    /// `InternetAccessType`.
    InternetAccessType, "IPIRIContents.internetAccessType", extensible {
        /// `undefined(0)`.
        Undefined = 0 => "undefined",
        /// `dialUp(1)`.
        DialUp = 1 => "dialUp",
        /// `xDSL(2)`.
        Xdsl = 2 => "xDSL",
        /// `cableModem(3)`.
        CableModem = 3 => "cableModem",
        /// `lAN(4)`.
        Lan = 4 => "lAN",
        /// `wirelessLAN(5)`.
        WirelessLan = 5 => "wirelessLAN",
        /// `fTTx(6)`.
        Fttx = 6 => "fTTx",
        /// `wIMAX-HIPERMAN(7)`.
        WimaxHiperman = 7 => "wIMAX-HIPERMAN",
        /// `satellite(8)`.
        Satellite = 8 => "satellite",
        /// `wireless-other(9)`.
        WirelessOther = 9 => "wireless-other",
    }
}

asn1_enum! {
    /// `IPVersion`.
    IpVersion, "IPIRIContents.iPVersion", extensible {
        /// `iPV4(1)`.
        Ipv4 = 1 => "iPV4",
        /// `iPV6(2)`.
        Ipv6 = 2 => "iPV6",
        /// `iPV4andV6(3)`.
        Ipv4AndV6 = 3 => "iPV4andV6",
    }
}

asn1_enum! {
    /// `EndReason`.
    EndReason, "IPIRIContents.endReason", extensible {
        /// `undefined(0)`.
        Undefined = 0 => "undefined",
        /// `regularLogoff(1)`.
        RegularLogoff = 1 => "regularLogoff",
        /// `connectionLoss(2)`.
        ConnectionLoss = 2 => "connectionLoss",
        /// `connectionTimeout(3)`.
        ConnectionTimeout = 3 => "connectionTimeout",
        /// `leaseExpired(4)`.
        LeaseExpired = 4 => "leaseExpired",
    }
}

asn1_enum! {
    /// `AuthenticationType`.
    AuthenticationType, "IPIRIContents.authenticationType", extensible {
        /// `unknown(0)`.
        Unknown = 0 => "unknown",
        /// `static(1)`.
        Static = 1 => "static",
        /// `radiusAAA(2)`.
        RadiusAaa = 2 => "radiusAAA",
        /// `dhcpAAA(3)`.
        DhcpAaa = 3 => "dhcpAAA",
        /// `diameterAAA(4)`.
        DiameterAaa = 4 => "diameterAAA",
    }
}
