//! Building TS 102 232 PS-PDUs from the handover-neutral records of `li-core`, with the
//! per-destination settings (module versions, identifiers, timestamp form).

use std::net::IpAddr;

use li_core::{
    AccessEvent, Cin, CountryCode, HandoverFormat, InterceptScope, IriEvent, IriRecord, Liid,
    NetworkElementId, OperatorId, Task, TaskDestination, Timestamp,
};

use crate::ipaccess::{
    self, AccessEventType, AuthenticationType, EndReason, IP_ACCESS_VERSION, InternetAccessType,
    IpCc, IpCcContents, IpIri, IpIriContents, IpIriIdType, IpVersion, OtherTargetIdentifier,
};
use crate::ipmm::{self, IP_MULTIMEDIA_VERSION, IpmmIri, IpmmIriContents, MediaStream};
use crate::pdu::{
    CcContents, CcPayload, CommunicationIdentifier, IpAddress, IriContents, IriPayload, IriType,
    LI_PS_PDU_VERSION, MicroSecondTimeStamp, NetworkIdentifier, Payload, PayloadDirection,
    PsHeader, PsPdu, TriPayload,
};
use crate::types::{GeneralizedTime, ObjectIdentifier};

/// Which PSHeader timestamp fields to send (TS 102 232-1 clause 5.2.6).
///
/// `timeStamp` (GeneralizedTime) is understood by every module version;
/// `microSecondTimeStamp` was added as an extension, so older agencies skip it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimestampForm {
    /// `timeStamp` only.
    GeneralizedTime,
    /// `microSecondTimeStamp` only.
    MicroSecond,
    /// Both (the default: every version finds a time it knows).
    #[default]
    Both,
}

/// The per-destination settings from which every PSHeader of one LIID is built.
///
/// Every field is a checked value, so a PDU built from these settings always satisfies the
/// module's constraints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderSettings {
    /// The LIID the agency knows the warrant by.
    pub liid: Liid,
    /// `operatorIdentifier`.
    pub operator_identifier: OperatorId,
    /// `networkElementIdentifier`.
    pub network_element_identifier: Option<NetworkElementId>,
    /// `authorizationCountryCode`.
    pub authorization_country_code: Option<CountryCode>,
    /// `deliveryCountryCode`.
    pub delivery_country_code: Option<CountryCode>,
    /// `interceptionPointID`.
    pub interception_point_id: Option<InterceptionPointId>,
    /// LI-PS-PDU module version put in `li-psDomainId` (43 by default; agencies may run older).
    pub ps_pdu_version: u16,
    /// IPAccessPDU module version put in the payload object identifiers (18 by default).
    pub ip_access_version: u16,
    /// IPMultimediaPDU module version put in the TS 102 232-5 object identifiers (14 by
    /// default, [`crate::ipmm::IP_MULTIMEDIA_VERSION`]).
    pub ip_multimedia_version: u16,
    /// Which timestamp fields to send.
    pub timestamp_form: TimestampForm,
}

/// `interceptionPointID` (TS 102 232-1 clause 5.2.11): a PrintableString of 1..8 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InterceptionPointId(String);

impl InterceptionPointId {
    /// Checks size and character set; `None` when the text does not fit.
    pub fn new(text: &str) -> Option<Self> {
        let ok = (1..=8).contains(&text.len()) && text.bytes().all(crate::ber::is_printable_char);
        ok.then(|| Self(text.to_owned()))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl HeaderSettings {
    /// Settings with the current module versions and no optional identifier.
    pub fn new(liid: Liid, operator_identifier: OperatorId) -> Self {
        Self {
            liid,
            operator_identifier,
            network_element_identifier: None,
            authorization_country_code: None,
            delivery_country_code: None,
            interception_point_id: None,
            ps_pdu_version: LI_PS_PDU_VERSION,
            ip_access_version: IP_ACCESS_VERSION,
            ip_multimedia_version: IP_MULTIMEDIA_VERSION,
            timestamp_form: TimestampForm::default(),
        }
    }

    /// Whether this crate produces `format`: ETSI TS 102 232 with an LI-PS-PDU module
    /// version from 1 to [`LI_PS_PDU_VERSION`], an IPAccessPDU version from 1 to
    /// [`IP_ACCESS_VERSION`] (the PDUs are of the newest versions, whose extensions older
    /// agencies skip; the PSHeader's `li-psDomainId` names the version asked for) and the
    /// IPMultimediaPDU version [`IP_MULTIMEDIA_VERSION`] alone: the voice PDUs are those of
    /// version 14, checked against the independent decoder in that version only, and their
    /// object identifiers would name another version they were not checked against. The ATIS
    /// and PacketCable formats are not produced.
    ///
    /// ```
    /// use li_asn1::HeaderSettings;
    /// use li_core::HandoverFormat;
    ///
    /// assert!(HeaderSettings::encodes(HandoverFormat::etsi_default()));
    /// assert!(!HeaderSettings::encodes(HandoverFormat::PacketCable { version: 7 }));
    /// assert!(!HeaderSettings::encodes(HandoverFormat::Etsi102232 {
    ///     ps_pdu_version: 43,
    ///     ip_access_version: 18,
    ///     ip_multimedia_version: 12,
    /// }));
    /// ```
    pub fn encodes(format: HandoverFormat) -> bool {
        matches!(
            format,
            HandoverFormat::Etsi102232 { ps_pdu_version, ip_access_version, ip_multimedia_version }
                if (1..=LI_PS_PDU_VERSION).contains(&ps_pdu_version)
                    && (1..=IP_ACCESS_VERSION).contains(&ip_access_version)
                    && ip_multimedia_version == IP_MULTIMEDIA_VERSION
        )
    }

    /// The settings for delivering `task` to a destination expecting `format`, which this
    /// crate must produce ([`HeaderSettings::encodes`]; `None` otherwise): its module
    /// versions, the task's LIID and country codes, and the operator's identifiers. The
    /// task may name its destinations in full or by identifier ([`li_core::TaskDestination`]).
    pub fn for_destination<D: TaskDestination>(
        task: &Task<D>,
        format: HandoverFormat,
        operator: OperatorId,
        network_element: Option<NetworkElementId>,
    ) -> Option<Self> {
        let HandoverFormat::Etsi102232 {
            ps_pdu_version,
            ip_access_version,
            ip_multimedia_version,
        } = format
        else {
            return None;
        };
        if !Self::encodes(format) {
            return None;
        }
        let mut s = Self::new(task.liid(), operator);
        s.network_element_identifier = network_element;
        s.authorization_country_code = task.authorization_country_code();
        s.delivery_country_code = task.delivery_country_code();
        s.ps_pdu_version = ps_pdu_version;
        s.ip_access_version = ip_access_version;
        s.ip_multimedia_version = ip_multimedia_version;
        Some(s)
    }

    /// The PSHeader of one PDU.
    pub fn header(&self, cin: Option<Cin>, sequence_number: u32, time: Timestamp) -> PsHeader {
        let (time_stamp, micro) = match self.timestamp_form {
            TimestampForm::GeneralizedTime => (Some(GeneralizedTime::from_timestamp(time)), None),
            TimestampForm::MicroSecond => (None, Some(MicroSecondTimeStamp::from_timestamp(time))),
            TimestampForm::Both => (
                Some(GeneralizedTime::from_timestamp(time)),
                Some(MicroSecondTimeStamp::from_timestamp(time)),
            ),
        };
        PsHeader {
            li_ps_domain_id: ObjectIdentifier::li_ps_domain_id(self.ps_pdu_version),
            lawful_interception_identifier: self.liid,
            authorization_country_code: self
                .authorization_country_code
                .map(|c| c.as_str().to_owned()),
            communication_identifier: CommunicationIdentifier {
                network_identifier: NetworkIdentifier {
                    operator_identifier: self.operator_identifier.as_bytes().to_vec(),
                    network_element_identifier: self
                        .network_element_identifier
                        .map(|ne| ne.as_bytes().to_vec()),
                    etsi671_neid: None,
                },
                communication_identity_number: cin.map(|c| c.value()),
                delivery_country_code: self.delivery_country_code.map(|c| c.as_str().to_owned()),
                cin_extension: None,
            },
            sequence_number,
            time_stamp,
            interception_point_id: self
                .interception_point_id
                .as_ref()
                .map(|id| id.as_str().to_owned()),
            micro_second_time_stamp: micro,
            time_stamp_qualifier: None,
            extended_interception_point_id: None,
            network_function_identifier: None,
            invalid_fields: Vec::new(),
        }
    }

    /// A CC PDU carrying one IP packet (TS 102 232-3 IPCC), as the typed model.
    ///
    /// [`crate::CcEncoder`] produces the same octets without building the model.
    pub fn ip_cc_pdu(
        &self,
        cin: Cin,
        sequence_number: u32,
        time: Timestamp,
        direction: PayloadDirection,
        packet: &[u8],
    ) -> PsPdu {
        let contents = IpCcContents::IpPackets(packet.to_vec());
        self.ip_cc_pdu_with(cin, sequence_number, time, direction, contents)
    }

    /// A CC PDU with these IPCC contents: [`IpCcContents::IpPackets`] as
    /// [`Self::ip_cc_pdu`] builds it, or [`IpCcContents::IpTruncatedPacket`] for a packet the
    /// capture cut ([`crate::CcEncoder::encode_truncated`] produces the same octets).
    pub fn ip_cc_pdu_with(
        &self,
        cin: Cin,
        sequence_number: u32,
        time: Timestamp,
        direction: PayloadDirection,
        contents: IpCcContents,
    ) -> PsPdu {
        self.cc_pdu(
            cin,
            sequence_number,
            time,
            direction,
            CcContents::IpCc(IpCc {
                obj_id: ipaccess::ipcc_obj_id(self.ip_access_version),
                contents,
            }),
        )
    }

    /// An IRI PDU (HI2) from a neutral IRI record, for a task delivering IRI and CC.
    ///
    /// The event's time goes in the PSHeader; an access event becomes a TS 102 232-3
    /// `IPIRI` (see [`ip_iri_contents`]), a SIP event a TS 102 232-5 `IPMMIRI`
    /// `sIPMessage` (its addresses and the message verbatim; the module has no field for
    /// the ports). `None` for an event kind this version cannot encode in TS 102 232 (a
    /// later `li-core` may define events before this crate encodes them); the caller must
    /// report it, not drop it silently.
    pub fn iri_pdu(&self, sequence_number: u32, record: &IriRecord) -> Option<PsPdu> {
        self.iri_pdu_in_scope(sequence_number, record, InterceptScope::IriAndCc)
    }

    /// An IRI PDU (HI2) from a neutral IRI record, for a task of `scope`: as
    /// [`HeaderSettings::iri_pdu`], except that under an IRI-only warrant a SIP message
    /// goes as `iRIOnlySIPMessage` (TS 102 232-5: the agency receives no content, so the
    /// signalling is marked as all it gets).
    pub fn iri_pdu_in_scope(
        &self,
        sequence_number: u32,
        record: &IriRecord,
        scope: InterceptScope,
    ) -> Option<PsPdu> {
        let iri_contents = match &record.event {
            IriEvent::Access(event) => IriContents::IpIri(Box::new(IpIri {
                obj_id: ipaccess::ipiri_obj_id(self.ip_access_version),
                contents: ip_iri_contents(event),
            })),
            IriEvent::Sip(sip) => self.ipmm_iri(IpmmIriContents::sip_in_scope(
                scope,
                sip.source.ip(),
                sip.destination.ip(),
                &sip.message,
            )),
            _ => return None,
        };
        Some(self.one_iri_pdu(
            record.cin,
            sequence_number,
            record.timestamp,
            record.iri_type.into(),
            iri_contents,
        ))
    }

    /// A CC PDU carrying one media packet of `stream` (TS 102 232-5 `IPMMCC`), as the typed
    /// model; the packet's headers must be those `stream`'s frame type says.
    ///
    /// [`crate::IpmmCcEncoder`] produces the same octets without building the model.
    pub fn ipmm_cc_pdu(
        &self,
        cin: Cin,
        sequence_number: u32,
        time: Timestamp,
        direction: PayloadDirection,
        stream: &MediaStream,
        packet: &[u8],
    ) -> PsPdu {
        self.cc_pdu(
            cin,
            sequence_number,
            time,
            direction,
            CcContents::IpmmCc(stream.ipmm_cc(self.ip_multimedia_version, packet)),
        )
    }

    /// An IRI PDU (HI2) carrying IP multimedia signalling (TS 102 232-5 `IPMMIRI`), such as
    /// a SIP message ([`IpmmIriContents::sip`], or [`IpmmIriContents::iri_only_sip`] under an
    /// IRI-only warrant), stamped `time` in the PSHeader.
    pub fn ipmm_iri_pdu(
        &self,
        cin: Cin,
        sequence_number: u32,
        time: Timestamp,
        iri_type: IriType,
        contents: IpmmIriContents,
    ) -> PsPdu {
        self.one_iri_pdu(
            cin,
            sequence_number,
            time,
            iri_type,
            self.ipmm_iri(contents),
        )
    }

    /// `contents` as the `IPMMIRI` of this module version, without location or additional
    /// signalling.
    fn ipmm_iri(&self, contents: IpmmIriContents) -> IriContents {
        IriContents::IpmmIri(Box::new(IpmmIri {
            obj_id: ipmm::ipmmiri_obj_id(self.ip_multimedia_version),
            contents,
            target_location: None,
            additional_signalling: None,
        }))
    }

    /// A PS-PDU of one CC payload, `contents` sent in `direction`, stamped `time` in the
    /// PSHeader.
    fn cc_pdu(
        &self,
        cin: Cin,
        sequence_number: u32,
        time: Timestamp,
        direction: PayloadDirection,
        cc_contents: CcContents,
    ) -> PsPdu {
        PsPdu {
            header: self.header(Some(cin), sequence_number, time),
            payload: Payload::CcPayloadSequence(vec![CcPayload {
                payload_direction: Some(direction),
                time_stamp: None,
                cc_contents,
                micro_second_time_stamp: None,
                time_stamp_qualifier: None,
            }]),
        }
    }

    /// A PS-PDU of one IRI payload of `iri_type`, stamped `time` in the PSHeader.
    fn one_iri_pdu(
        &self,
        cin: Cin,
        sequence_number: u32,
        time: Timestamp,
        iri_type: IriType,
        iri_contents: IriContents,
    ) -> PsPdu {
        PsPdu {
            header: self.header(Some(cin), sequence_number, time),
            payload: Payload::IriPayloadSequence(vec![IriPayload {
                iri_type: Some(iri_type),
                time_stamp: None,
                iri_contents,
                micro_second_time_stamp: None,
                time_stamp_qualifier: None,
                session_direction: None,
                payload_direction: None,
            }]),
        }
    }

    /// A TRI PDU (keep-alive, keep-alive response, ...).
    pub fn tri_pdu(&self, sequence_number: u32, time: Timestamp, tri: TriPayload) -> PsPdu {
        PsPdu {
            header: self.header(None, sequence_number, time),
            payload: Payload::TriPayload(tri),
        }
    }
}

/// The TS 102 232-3 `IPIRIContents` of a neutral access event.
///
/// Addresses follow clause 6.2.1: the first IPv4 address goes in `targetIPAddress`, the first
/// IPv6 one in `targetIPAddress` or, when there is an IPv4 one too, in
/// `additionalIPAddress`; the others in `otherTargetIdentifiers`. Prefixes carry
/// `iPv4SubnetMask` / `iPv6PrefixLength`. Strings longer than their SIZE constraint
/// (`targetNetworkID` 20, `targetCPEID` 128, `pOPIdentifier` 128 characters) are cut at the
/// limit rather than dropping the event. An unknown IP version is sent as `iPV4`, the
/// field being mandatory.
pub fn ip_iri_contents(event: &AccessEvent) -> IpIriContents {
    let ip_version = event
        .effective_ip_version()
        .map_or(IpVersion::Ipv4, Into::into);
    let mut c = IpIriContents::new(
        event.event_type.into(),
        event.username.clone(),
        event.access_type.into(),
        ip_version,
    );
    let first_v4 = event.addresses.iter().position(|p| p.addr().is_ipv4());
    let first_v6 = event.addresses.iter().position(|p| p.addr().is_ipv6());
    // clause 6.2.1: targetIPAddress holds the first address of the version in use, and
    // additionalIPAddress the first IPv6 one when both are in use.
    let (target, additional) = match ip_version {
        IpVersion::Ipv6 => (first_v6.or(first_v4), None),
        IpVersion::Ipv4AndV6 => (first_v4.or(first_v6), first_v4.and(first_v6)),
        _ => (first_v4.or(first_v6), None),
    };
    let address = |i: usize| {
        event
            .addresses
            .get(i)
            .map(|p| prefix_address(p.addr(), p.prefix_len()))
    };
    c.target_ip_address = target.and_then(address);
    c.additional_ip_address = additional.and_then(address);
    let others: Vec<_> = (0..event.addresses.len())
        .filter(|i| Some(*i) != target && Some(*i) != additional)
        .filter_map(address)
        .map(OtherTargetIdentifier::IpAddress)
        .collect();
    if !others.is_empty() {
        c.other_target_identifiers = Some(others);
    }
    c.target_network_id = non_empty(event.network_id.as_deref(), 20);
    c.target_cpe_id = non_empty(event.cpe_id.as_deref(), 128);
    c.pop_identifier = non_empty(event.pop_identifier.as_deref(), 128).map(IpIriIdType::Printable);
    c.pop_ip_address = event.pop_ip_address.map(IpAddress::from_ip);
    c.pop_port_id = event.nas_port_id.clone();
    c.start_time = event.start_time.map(GeneralizedTime::from_timestamp);
    c.end_time = event.end_time.map(GeneralizedTime::from_timestamp);
    c.expected_end_time = event.expected_end_time.map(GeneralizedTime::from_timestamp);
    c.end_reason = event.end_reason.map(Into::into);
    c.octets_received = event.octets_received;
    c.octets_transmitted = event.octets_transmitted;
    c.authentication_type = event.authentication_type.map(Into::into);
    c.raw_aaa_data = event.raw_aaa.clone();
    c
}

/// The [`AccessEvent`] an `IPIRIContents` describes: the inverse of [`ip_iri_contents`], for
/// a receiver of TS 102 232-3 IRI (the mediator reads the probe's X2 IRI so) that hands it on
/// in another format, such as ATIS-1000013 ([`crate::atis::access`]).
///
/// Addresses are read from `targetIPAddress`, `additionalIPAddress` and the IP addresses of
/// `otherTargetIdentifiers`, in that order, with their prefix (`iPv4SubnetMask`,
/// `iPv6PrefixLength`; an address with host bits past its prefix keeps its full length);
/// text addresses that parse are read, others skipped. `pOPIdentifier` is read when
/// printable. Fields `AccessEvent` has no room for (`targetLocation`, `callBackNumber`,
/// `framedRoutes`, ...) are not carried; nor is `session_id`, which `IPIRIContents` lacks.
pub fn access_event(contents: &IpIriContents) -> AccessEvent {
    let mut e = AccessEvent::new(core_event_type(contents.access_event_type));
    e.username = contents.target_username.clone();
    e.access_type = core_access_type(contents.internet_access_type);
    e.ip_version = match contents.ip_version {
        IpVersion::Ipv4 => Some(li_core::IpVersion::Ipv4),
        IpVersion::Ipv6 => Some(li_core::IpVersion::Ipv6),
        IpVersion::Ipv4AndV6 => Some(li_core::IpVersion::Ipv4AndV6),
        _ => None,
    };
    let others = contents
        .other_target_identifiers
        .iter()
        .flatten()
        .filter_map(|o| match o {
            OtherTargetIdentifier::IpAddress(a) => Some(a),
            _ => None,
        });
    e.addresses = contents
        .target_ip_address
        .iter()
        .chain(contents.additional_ip_address.iter())
        .chain(others)
        .filter_map(core_prefix)
        .collect();
    e.network_id = contents.target_network_id.clone();
    e.cpe_id = contents.target_cpe_id.clone();
    e.pop_identifier = match &contents.pop_identifier {
        Some(IpIriIdType::Printable(p)) => Some(p.clone()),
        _ => None,
    };
    e.pop_ip_address = contents.pop_ip_address.as_ref().and_then(IpAddress::to_ip);
    e.nas_port_id = contents.pop_port_id.clone();
    e.start_time = contents.start_time.as_ref().map(GeneralizedTime::timestamp);
    e.end_time = contents.end_time.as_ref().map(GeneralizedTime::timestamp);
    e.expected_end_time = contents
        .expected_end_time
        .as_ref()
        .map(GeneralizedTime::timestamp);
    e.end_reason = contents.end_reason.map(|r| match r {
        EndReason::RegularLogoff => li_core::EndReason::RegularLogoff,
        EndReason::ConnectionLoss => li_core::EndReason::ConnectionLoss,
        EndReason::ConnectionTimeout => li_core::EndReason::ConnectionTimeout,
        EndReason::LeaseExpired => li_core::EndReason::LeaseExpired,
        _ => li_core::EndReason::Undefined,
    });
    e.octets_received = contents.octets_received;
    e.octets_transmitted = contents.octets_transmitted;
    e.authentication_type = contents.authentication_type.map(|t| match t {
        AuthenticationType::Static => li_core::AuthenticationType::Static,
        AuthenticationType::RadiusAaa => li_core::AuthenticationType::RadiusAaa,
        AuthenticationType::DhcpAaa => li_core::AuthenticationType::DhcpAaa,
        AuthenticationType::DiameterAaa => li_core::AuthenticationType::DiameterAaa,
        _ => li_core::AuthenticationType::Unknown,
    });
    e.raw_aaa = contents.raw_aaa_data.clone();
    e
}

fn core_event_type(t: AccessEventType) -> li_core::AccessEventType {
    use li_core::AccessEventType as T;
    match t {
        AccessEventType::AccessAttempt => T::AccessAttempt,
        AccessEventType::AccessAccept => T::AccessAccept,
        AccessEventType::AccessReject => T::AccessReject,
        AccessEventType::AccessFailed => T::AccessFailed,
        AccessEventType::SessionStart => T::SessionStart,
        AccessEventType::SessionEnd => T::SessionEnd,
        AccessEventType::InterimUpdate => T::InterimUpdate,
        AccessEventType::StartOfInterceptionWithSessionActive => {
            T::StartOfInterceptionWithSessionActive
        }
        AccessEventType::AccessEnd => T::AccessEnd,
        AccessEventType::EndOfInterceptionWithSessionActive => {
            T::EndOfInterceptionWithSessionActive
        }
        _ => T::Unknown,
    }
}

fn core_access_type(t: InternetAccessType) -> li_core::InternetAccessType {
    use li_core::InternetAccessType as T;
    match t {
        InternetAccessType::DialUp => T::DialUp,
        InternetAccessType::Xdsl => T::Xdsl,
        InternetAccessType::CableModem => T::CableModem,
        InternetAccessType::Lan => T::Lan,
        InternetAccessType::WirelessLan => T::WirelessLan,
        InternetAccessType::Fttx => T::Fttx,
        InternetAccessType::WimaxHiperman => T::Wimax,
        InternetAccessType::Satellite => T::Satellite,
        InternetAccessType::WirelessOther => T::WirelessOther,
        _ => T::Undefined,
    }
}

/// The prefix an `IPAddress` names: its address, with `iPv4SubnetMask` (contiguous) or
/// `iPv6PrefixLength`; the whole address when that prefix would cut host bits.
fn core_prefix(a: &IpAddress) -> Option<li_core::IpPrefix> {
    let addr = a.to_ip()?;
    let len = match addr {
        IpAddr::V4(_) => a
            .ipv4_subnet_mask
            .map(u32::from_be_bytes)
            .filter(|m| m.leading_ones() + m.trailing_zeros() == 32)
            .map_or(32, |m| m.leading_ones() as u8),
        IpAddr::V6(_) => a.ipv6_prefix_length.unwrap_or(128).min(128),
    };
    li_core::IpPrefix::new(addr, len)
        .ok()
        .or(Some(li_core::IpPrefix::host(addr)))
}

/// The address with its prefix: `iPv4SubnetMask` below /32, `iPv6PrefixLength` always for
/// IPv6 (mandatory there; a /0 prefix, which the field cannot express, is sent as /1).
fn prefix_address(addr: IpAddr, prefix_len: u8) -> IpAddress {
    let mut a = IpAddress::from_ip(addr);
    match addr {
        IpAddr::V4(_) if prefix_len < 32 => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix_len))
                .unwrap_or(0);
            a.ipv4_subnet_mask = Some(mask.to_be_bytes());
        }
        IpAddr::V6(_) => a.ipv6_prefix_length = Some(prefix_len.clamp(1, 128)),
        IpAddr::V4(_) => {}
    }
    a
}

/// A string cut to the SIZE constraint, or `None` when empty (every such field is SIZE(1..)).
fn non_empty(s: Option<&str>, max_chars: usize) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(|s| truncate(s, max_chars))
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

impl From<li_core::PayloadDirection> for PayloadDirection {
    fn from(d: li_core::PayloadDirection) -> Self {
        use li_core::PayloadDirection as D;
        match d {
            D::FromTarget => Self::FromTarget,
            D::ToTarget => Self::ToTarget,
            D::Indeterminate => Self::Indeterminate,
            D::Combined => Self::Combined,
            D::NotApplicable => Self::NotApplicable,
        }
    }
}

impl From<li_core::IriType> for IriType {
    fn from(t: li_core::IriType) -> Self {
        use li_core::IriType as T;
        match t {
            T::Begin => Self::Begin,
            T::Continue => Self::Continue,
            T::End => Self::End,
            T::Report => Self::Report,
        }
    }
}

impl From<li_core::AccessEventType> for AccessEventType {
    fn from(t: li_core::AccessEventType) -> Self {
        use li_core::AccessEventType as T;
        match t {
            T::AccessAttempt => Self::AccessAttempt,
            T::AccessAccept => Self::AccessAccept,
            T::AccessReject => Self::AccessReject,
            T::AccessFailed => Self::AccessFailed,
            T::SessionStart => Self::SessionStart,
            T::SessionEnd => Self::SessionEnd,
            T::InterimUpdate => Self::InterimUpdate,
            T::StartOfInterceptionWithSessionActive => Self::StartOfInterceptionWithSessionActive,
            T::AccessEnd => Self::AccessEnd,
            T::EndOfInterceptionWithSessionActive => Self::EndOfInterceptionWithSessionActive,
            _ => Self::Unknown,
        }
    }
}

impl From<li_core::InternetAccessType> for InternetAccessType {
    fn from(t: li_core::InternetAccessType) -> Self {
        use li_core::InternetAccessType as T;
        match t {
            T::DialUp => Self::DialUp,
            T::Xdsl => Self::Xdsl,
            T::CableModem => Self::CableModem,
            T::Lan => Self::Lan,
            T::WirelessLan => Self::WirelessLan,
            T::Fttx => Self::Fttx,
            T::Wimax => Self::WimaxHiperman,
            T::Satellite => Self::Satellite,
            T::WirelessOther => Self::WirelessOther,
            _ => Self::Undefined,
        }
    }
}

impl From<li_core::IpVersion> for IpVersion {
    fn from(v: li_core::IpVersion) -> Self {
        match v {
            li_core::IpVersion::Ipv4 => Self::Ipv4,
            li_core::IpVersion::Ipv6 => Self::Ipv6,
            li_core::IpVersion::Ipv4AndV6 => Self::Ipv4AndV6,
        }
    }
}

impl From<li_core::EndReason> for EndReason {
    fn from(r: li_core::EndReason) -> Self {
        use li_core::EndReason as R;
        match r {
            R::RegularLogoff => Self::RegularLogoff,
            R::ConnectionLoss => Self::ConnectionLoss,
            R::ConnectionTimeout => Self::ConnectionTimeout,
            R::LeaseExpired => Self::LeaseExpired,
            _ => Self::Undefined,
        }
    }
}

impl From<li_core::AuthenticationType> for AuthenticationType {
    fn from(t: li_core::AuthenticationType) -> Self {
        use li_core::AuthenticationType as T;
        match t {
            T::Static => Self::Static,
            T::RadiusAaa => Self::RadiusAaa,
            T::DhcpAaa => Self::DhcpAaa,
            T::DiameterAaa => Self::DiameterAaa,
            _ => Self::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use li_core::{IpPrefix, IpVersion as CoreIpVersion};

    use super::*;
    use crate::pdu::IpValue;

    fn v4(a: u8, len: u8) -> IpPrefix {
        IpPrefix::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, a)), len).unwrap()
    }

    fn v6(a: u16, len: u8) -> IpPrefix {
        IpPrefix::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, a, 0, 0, 0, 0, 0)),
            len,
        )
        .unwrap()
    }

    fn binary(a: &Option<IpAddress>) -> Option<Vec<u8>> {
        match a.as_ref().map(|a| &a.ip_value) {
            Some(IpValue::Binary(b)) => Some(b.clone()),
            _ => None,
        }
    }

    /// A destination asking for IPMultimediaPDU version 14 gets it in the voice object
    /// identifiers; any other version is not produced, so provisioning (ADMF plan, mediator
    /// destination check) refuses it rather than sending version-14 PDUs labelled otherwise.
    #[test]
    fn the_ip_multimedia_version_is_14_alone_and_reaches_the_object_identifiers() {
        use li_core::{
            DeliveryAddress, Destination, DestinationId, InterceptScope, Task, ValidityWindow, Xid,
        };
        let task = Task::builder(
            Liid::new(b"LIID-MM").unwrap(),
            Xid::from_bytes([3; 16]),
            InterceptScope::IriAndCc,
            ValidityWindow::new(Timestamp::UNIX_EPOCH, None).unwrap(),
        )
        .target("sip:alice@example.com".parse().unwrap())
        .destination(Destination::new(
            DestinationId::from_bytes([4; 16]),
            DeliveryAddress::new("lea.example", 6000, false),
            Some(DeliveryAddress::new("lea.example", 6001, false)),
            HandoverFormat::etsi_default(),
        ))
        .build()
        .unwrap();
        let operator = li_core::OperatorId::new(b"OP").unwrap();
        let format = |ip_multimedia_version| HandoverFormat::Etsi102232 {
            ps_pdu_version: 43,
            ip_access_version: 18,
            ip_multimedia_version,
        };
        let settings = HeaderSettings::for_destination(&task, format(14), operator, None).unwrap();
        assert_eq!(settings.ip_multimedia_version, 14);
        let pdu = settings.ipmm_iri_pdu(
            Cin::new(1),
            0,
            Timestamp::UNIX_EPOCH,
            IriType::Begin,
            IpmmIriContents::sip(
                IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
                IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
                b"INVITE sip:bob@example.net SIP/2.0\r\n\r\n",
            ),
        );
        let Payload::IriPayloadSequence(items) = &pdu.payload else {
            panic!("IRI expected: {:?}", pdu.payload);
        };
        let Some(IriContents::IpmmIri(iri)) = items.first().map(|i| &i.iri_contents) else {
            panic!("IPMMIRI expected: {items:?}");
        };
        assert_eq!(iri.obj_id, ipmm::ipmmiri_obj_id(14));
        assert_ne!(iri.obj_id, ipmm::ipmmiri_obj_id(12));
        for other in [0, 1, 12, 13, 15, u16::MAX] {
            assert!(!HeaderSettings::encodes(format(other)), "{other}");
            assert_eq!(
                HeaderSettings::for_destination(&task, format(other), operator, None),
                None,
                "{other}"
            );
        }
        assert!(HeaderSettings::encodes(format(14)));
    }

    /// Our encoding of a keep-alive answer numbered `seq`, stamped with a GeneralizedTime
    /// of 2021-05-26T01:28:53.615Z (returned), for tests that rewrite it as a peer would.
    fn our_keep_alive_answer(seq: u32) -> (Vec<u8>, Timestamp) {
        let mut settings = HeaderSettings::new(
            Liid::new(b"KA").unwrap(),
            li_core::OperatorId::new(b"LEA").unwrap(),
        );
        settings.timestamp_form = TimestampForm::GeneralizedTime;
        let time = Timestamp::parse_generalized_time("20210526012853.615Z").unwrap();
        let pdu = settings.tri_pdu(seq, time, crate::TriPayload::KeepAliveResponse);
        (pdu.encode(), time)
    }

    #[test]
    fn a_keep_alive_answer_with_a_two_digit_year_decodes() {
        use crate::{Payload, PsPdu, TriPayload};
        let (ours, time) = our_keep_alive_answer(7);
        // The peer's form: timeStamp [5] "210526012853.615Z", two octets shorter; every
        // length of this small PDU is one octet (short form).
        let four = b"\x85\x1320210526012853.615Z";
        let at = ours.windows(four.len()).position(|w| w == four).unwrap();
        let mut theirs = ours[..at].to_vec();
        theirs.extend_from_slice(b"\x85\x11210526012853.615Z");
        theirs.extend_from_slice(&ours[at + four.len()..]);
        assert!(theirs[1] < 0x80 && theirs[3] < 0x80 && theirs[2] == 0xa1);
        theirs[1] -= 2; // PS-PDU
        theirs[3] -= 2; // pSHeader
        let pdu = PsPdu::decode(&theirs).unwrap();
        assert_eq!(pdu.header.sequence_number, 7);
        let stamp = pdu.header.time_stamp.unwrap();
        // Kept as the peer wrote it, read as the instant it means.
        assert_eq!(stamp.as_str(), "210526012853.615Z");
        assert_eq!(stamp.timestamp(), time);
        assert_eq!(
            pdu.payload,
            Payload::TriPayload(TriPayload::KeepAliveResponse)
        );
    }

    #[test]
    fn an_invalid_optional_header_field_is_kept_raw_and_the_pdu_decodes() {
        use crate::{Error, Opaque, Payload, PsPdu, TriPayload};
        let (ours, _) = our_keep_alive_answer(9);
        // Month 13: not a time in either the four- or the two-digit-year reading.
        let good = b"20210526012853.615Z";
        let bad = b"20211326012853.615Z";
        let at = ours.windows(good.len()).position(|w| w == good).unwrap();
        let mut theirs = ours.clone();
        theirs[at..at + bad.len()].copy_from_slice(bad);

        let pdu = PsPdu::decode(&theirs).unwrap();
        assert_eq!(pdu.header.sequence_number, 9);
        assert_eq!(
            pdu.payload,
            Payload::TriPayload(TriPayload::KeepAliveResponse)
        );
        assert_eq!(pdu.header.time_stamp, None);
        let [field] = pdu.header.invalid_fields.as_slice() else {
            panic!("one invalid field: {:?}", pdu.header.invalid_fields);
        };
        assert_eq!(field.tag_number, 5);
        assert_eq!(
            field.value,
            Opaque {
                constructed: false,
                content: bad.to_vec()
            }
        );
        assert!(
            matches!(field.error, Error::InvalidValue { field: "PSHeader.timeStamp", offset, .. } if offset == at - 2),
            "{:?}",
            field.error
        );
        // Passed through unchanged when encoded again.
        assert_eq!(pdu.encode(), theirs);

        // A second timeStamp (here an invalid one again) is still a duplicate.
        let mut twice = theirs.clone();
        let element = theirs[at - 2..at + bad.len()].to_vec();
        twice.splice(at + bad.len()..at + bad.len(), element.iter().copied());
        twice[1] += element.len() as u8;
        twice[3] += element.len() as u8;
        assert!(matches!(
            PsPdu::decode(&twice),
            Err(Error::DuplicateField {
                field: "PSHeader.timeStamp",
                ..
            })
        ));
    }

    #[test]
    fn dual_stack_addresses_follow_clause_6_2_1() {
        let mut e = AccessEvent::new(li_core::AccessEventType::AccessAccept);
        e.addresses = vec![v6(1, 56), v4(8, 29), v4(77, 32), v6(2, 64)];
        let c = ip_iri_contents(&e);
        assert_eq!(c.ip_version, IpVersion::Ipv4AndV6);
        assert_eq!(binary(&c.target_ip_address), Some(vec![192, 0, 2, 8]));
        assert_eq!(
            c.target_ip_address.as_ref().unwrap().ipv4_subnet_mask,
            Some([255, 255, 255, 248])
        );
        let additional = c.additional_ip_address.as_ref().unwrap();
        assert_eq!(additional.ipv6_prefix_length, Some(56));
        let others = c.other_target_identifiers.unwrap();
        assert_eq!(others.len(), 2);
        let OtherTargetIdentifier::IpAddress(host) = &others[0] else {
            panic!()
        };
        assert_eq!(host.ipv4_subnet_mask, None, "a /32 carries no mask");
    }

    #[test]
    fn explicit_single_version_puts_its_address_first_and_no_additional() {
        let mut e = AccessEvent::new(li_core::AccessEventType::AccessAccept);
        e.ip_version = Some(CoreIpVersion::Ipv6);
        e.addresses = vec![v4(0, 24), v6(1, 48)];
        let c = ip_iri_contents(&e);
        assert_eq!(c.ip_version, IpVersion::Ipv6);
        assert_eq!(
            c.target_ip_address.as_ref().unwrap().ip_type,
            crate::pdu::IpType::Ipv6
        );
        assert_eq!(c.additional_ip_address, None);
        assert_eq!(c.other_target_identifiers.map(|o| o.len()), Some(1));
    }

    #[test]
    fn empty_and_long_strings_stay_within_constraints() {
        let mut e = AccessEvent::new(li_core::AccessEventType::InterimUpdate);
        e.network_id = Some(String::new());
        e.cpe_id = Some("x".repeat(300));
        e.pop_identifier = Some(String::new());
        e.pop_ip_address = Some(IpAddr::V6(Ipv6Addr::LOCALHOST));
        let c = ip_iri_contents(&e);
        assert_eq!(c.target_network_id, None);
        assert_eq!(c.target_cpe_id.as_ref().map(|s| s.len()), Some(128));
        assert_eq!(c.pop_identifier, None);
        assert_eq!(
            c.pop_ip_address.as_ref().unwrap().ipv6_prefix_length,
            Some(128)
        );

        let s = HeaderSettings::new(Liid::new(b"L").unwrap(), OperatorId::new(b"OP").unwrap());
        let record = IriRecord {
            xid: li_core::Xid::from_bytes([1; 16]),
            cin: Cin::new(3),
            timestamp: Timestamp::UNIX_EPOCH,
            iri_type: li_core::IriType::Continue,
            event: IriEvent::Access(e),
        };
        let pdu = s.iri_pdu(9, &record).unwrap();
        assert_eq!(PsPdu::decode(&pdu.encode()).unwrap(), pdu);
    }

    #[test]
    fn a_sip_iri_record_is_an_ipmmiri_sip_message_and_iri_only_under_an_iri_only_task() {
        use crate::ipmm::IpmmIriContents;
        let s = HeaderSettings::new(Liid::new(b"L").unwrap(), OperatorId::new(b"OP").unwrap());
        let sip = b"BYE sip:bob@192.0.2.20 SIP/2.0\r\nCall-ID: c1\r\n\r\n";
        let record = IriRecord {
            xid: li_core::Xid::from_bytes([1; 16]),
            cin: Cin::new(3),
            timestamp: Timestamp::from_secs_micros(1_700_000_000, 5).unwrap(),
            iri_type: li_core::IriType::End,
            event: IriEvent::Sip(li_core::SipEvent {
                source: "192.0.2.10:5060".parse().unwrap(),
                destination: "[2001:db8::20]:5062".parse().unwrap(),
                message: sip.to_vec().into(),
            }),
        };
        let contents = |scope| {
            let pdu = s.iri_pdu_in_scope(9, &record, scope).unwrap();
            let pdu = PsPdu::decode(&pdu.encode()).unwrap();
            assert_eq!(
                pdu.header
                    .communication_identifier
                    .communication_identity_number,
                Some(3)
            );
            let Payload::IriPayloadSequence(payloads) = pdu.payload else {
                panic!("an IRI payload expected")
            };
            assert_eq!(payloads[0].iri_type, Some(IriType::End));
            let IriContents::IpmmIri(iri) = &payloads[0].iri_contents else {
                panic!("IPMMIRI expected: {:?}", payloads[0].iri_contents)
            };
            assert_eq!(
                iri.obj_id,
                crate::ipmm::ipmmiri_obj_id(crate::ipmm::IP_MULTIMEDIA_VERSION)
            );
            iri.contents.clone()
        };
        let expected = crate::ipmm::SipMessage::new(
            "192.0.2.10".parse().unwrap(),
            "2001:db8::20".parse().unwrap(),
            sip,
        );
        assert_eq!(
            contents(InterceptScope::IriAndCc),
            IpmmIriContents::SipMessage(expected.clone())
        );
        assert_eq!(
            contents(InterceptScope::IriOnly),
            IpmmIriContents::IriOnlySipMessage(expected)
        );
    }

    #[test]
    fn interception_point_id_is_checked() {
        assert!(InterceptionPointId::new("IPT-01").is_some());
        assert!(InterceptionPointId::new("").is_none());
        assert!(
            InterceptionPointId::new("POP-FRA-01").is_none(),
            "over 8 characters"
        );
        assert!(
            InterceptionPointId::new("IP_1").is_none(),
            "'_' is not PrintableString"
        );
    }

    #[test]
    fn access_event_reads_back_what_ip_iri_contents_wrote() {
        let mut e = AccessEvent::new(li_core::AccessEventType::AccessEnd);
        e.username = b"alice@isp.example".to_vec();
        e.access_type = li_core::InternetAccessType::Fttx;
        e.addresses = vec![v4(8, 29), v6(1, 56), v4(77, 32)];
        e.network_id = Some("00:11:22:33:44:55".into());
        e.pop_identifier = Some("bng-3".into());
        e.pop_ip_address = Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)));
        e.nas_port_id = Some(b"eth 0/1/2:100".to_vec());
        e.start_time = Some(Timestamp::from_secs_micros(1_700_000_000, 250).unwrap());
        e.end_time = Some(Timestamp::from_secs_micros(1_700_003_600, 0).unwrap());
        e.end_reason = Some(li_core::EndReason::ConnectionTimeout);
        e.octets_received = Some(1 << 40);
        e.octets_transmitted = Some(7);
        e.authentication_type = Some(li_core::AuthenticationType::RadiusAaa);
        e.raw_aaa = Some(vec![4, 1, 0, 20]);
        e.session_id = Some("not in IPIRIContents".into());
        let back = access_event(&ip_iri_contents(&e));
        let mut expected = e.clone();
        expected.session_id = None;
        expected.ip_version = Some(CoreIpVersion::Ipv4AndV6);
        assert_eq!(back, expected);
    }

    proptest::proptest! {
        /// Whatever an event holds, mapping it back and forth again gives the same
        /// `IPIRIContents`: nothing the ETSI form carries is lost by `access_event`.
        #[test]
        fn ip_iri_contents_of_access_event_is_a_fixed_point(
            event_type in 0u8..11,
            username in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8),
            v4s in proptest::collection::vec((proptest::prelude::any::<u8>(), 24u8..=32), 0..3),
            v6s in proptest::collection::vec((proptest::prelude::any::<u16>(), 48u8..=128), 0..3),
            version in 0u8..4,
            network_id in proptest::option::of("[a-z0-9:]{0,30}"),
            pop in proptest::option::of("[a-z0-9]{0,10}"),
            times in proptest::option::of((1_600_000_000u64..1_800_000_000, 0u32..1_000_000)),
            octets in proptest::option::of(proptest::prelude::any::<u64>()),
        ) {
            let types = [
                li_core::AccessEventType::AccessAttempt,
                li_core::AccessEventType::AccessAccept,
                li_core::AccessEventType::AccessReject,
                li_core::AccessEventType::AccessFailed,
                li_core::AccessEventType::SessionStart,
                li_core::AccessEventType::SessionEnd,
                li_core::AccessEventType::InterimUpdate,
                li_core::AccessEventType::StartOfInterceptionWithSessionActive,
                li_core::AccessEventType::AccessEnd,
                li_core::AccessEventType::EndOfInterceptionWithSessionActive,
                li_core::AccessEventType::Unknown,
            ];
            let mut e = AccessEvent::new(types[usize::from(event_type)]);
            e.username = username;
            e.addresses = v4s
                .into_iter()
                .map(|(a, len)| IpPrefix::new(IpAddr::V4(Ipv4Addr::new(10, a, 0, 0)), len).unwrap())
                .chain(v6s.into_iter().map(|(a, len)| {
                    IpPrefix::new(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, a, 0, 0, 0, 0, 0)), len)
                        .unwrap()
                }))
                .collect();
            e.ip_version = [None, Some(CoreIpVersion::Ipv4), Some(CoreIpVersion::Ipv6),
                Some(CoreIpVersion::Ipv4AndV6)][usize::from(version)];
            e.network_id = network_id;
            e.pop_identifier = pop;
            e.start_time = times.map(|(s, us)| Timestamp::from_secs_micros(s, us).unwrap());
            e.octets_received = octets;
            let once = ip_iri_contents(&e);
            proptest::prop_assert_eq!(ip_iri_contents(&access_event(&once)), once);
        }
    }
}
