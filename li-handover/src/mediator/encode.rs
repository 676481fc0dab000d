//! Encoding for the mediator: the handover formats it produces, the settings of a (task,
//! destination) pair in each, and the cache of pre-encoded headers.
//!
//! - ETSI TS 102 232: PS-PDUs, with the [`HeaderSettings`] of the pair;
//! - ATIS-1000013: the CmII messages of the access records ([`IasMapper`]: an X2 record's
//!   TS 102 232-3 IRI read back into a `li-core` access event, then mapped) and
//!   `IAS-CC-APDU`s of the packets, pre-encoded per (LIID, CIN, destination). A call's SIP
//!   and media have no ATIS-1000013 form: they do not go to such a destination
//!   ([`carries`]).

use std::collections::HashMap;

use li_asn1::atis::CaseIdentity;
use li_asn1::atis::access::{self as ias, IasMapper, IasPdu};
use li_asn1::atis::ias_cc::{
    CcDeliveryHeader, CorrelationInfo, IasCcApdu, IasCcEncoder, PacketDirection,
};
use li_asn1::atis::laes::LaesProtocol;
use li_asn1::ipmm::{FrameType, IpmmIriContents, MediaStream, MmccProtocol};
use li_asn1::packetcable::ccc::{CccEncoder, CccForm};
use li_asn1::pdu::{IriContents, IriPayload};
use li_asn1::{CcEncoder, GeneralizedTime, HeaderSettings, IpmmCcEncoder, Payload, PsPdu};
use li_core::{
    Cin, DestinationId, HandoverFormat, InterceptScope, Liid, MediaFlow, TargetIdentifier,
    TargetKind, Timestamp,
};

use super::admission::{Admitted, Content};
use super::{HiDestination, MediationTask, MediatorError, MediatorSettings};
use crate::calea::{self, CccPair, LaesCalls, LaesSettings, PcespCalls, PcespSettings};

/// The largest CCC datagram: a UDP payload over IPv4 (65,535 less 28 octets of headers).
const MAX_CCC_DATAGRAM: usize = 65_507;

/// Pre-encoded headers kept at most; the cache starts afresh beyond (it then holds the
/// communications active since).
const MAX_CACHED_ENCODERS: usize = 65_536;

/// Whether the mediator can produce `format` towards destination `did`: the formats
/// [`li_asn1`] encodes ([`HeaderSettings::encodes`]: ETSI TS 102 232, LI-PS-PDU versions 1
/// to [`li_asn1::pdu::LI_PS_PDU_VERSION`], IPAccessPDU versions 1 to
/// [`li_asn1::ipaccess::IP_ACCESS_VERSION`]; ATIS-1000013 version
/// [`li_asn1::atis::access::VERSION`]).
///
/// # Errors
///
/// [`MediatorError::UnsupportedFormat`], naming the format, for anything else (ATIS-1000678,
/// PacketCable, a newer or zero module version).
pub fn check_format(did: DestinationId, format: HandoverFormat) -> Result<(), MediatorError> {
    if produces(format) {
        Ok(())
    } else {
        Err(MediatorError::UnsupportedFormat { did, format })
    }
}

/// The version of PacketCable electronic surveillance the suite produces, as a destination's
/// format names it (`packetcable:3`): PCESP version 3 call data (`CdcPdu`, protocol version
/// `io3`) and the CCC framing of PKT-SP-ESP1.5 (CCC identifier and NTP timestamp).
pub const PACKETCABLE_VERSION: u16 = 3;

/// Whether the suite produces `format`: ETSI TS 102 232 in the module versions
/// [`HeaderSettings::encodes`], ATIS-1000013 version [`li_asn1::atis::access::VERSION`],
/// ATIS-1000678 version [`calea::VERSION`], or PacketCable version [`PACKETCABLE_VERSION`].
/// The ADMF refuses a warrant for an agency in any other format, and the mediator a
/// destination.
pub fn produces(format: HandoverFormat) -> bool {
    match format {
        HandoverFormat::Atis1000013 { version } => version == ias::VERSION,
        HandoverFormat::Atis1000678 { version } => version == calea::VERSION,
        HandoverFormat::PacketCable { version } => version == PACKETCABLE_VERSION,
        format => HeaderSettings::encodes(format),
    }
}

/// Whether a destination in `format` has a message for `content`: an ATIS-1000013 one takes
/// internet access IRI and IP packets, not a call's SIP or media; an ATIS-1000678 one a
/// call's SIP and media only; ETSI takes everything.
pub(super) fn carries(format: HandoverFormat, content: &Content<'_>) -> bool {
    match format {
        HandoverFormat::Atis1000013 { .. } => match content {
            Content::Iri(payload) => matches!(payload.iri_contents, IriContents::IpIri(_)),
            Content::Cc { .. } => true,
            _ => false,
        },
        HandoverFormat::Atis1000678 { .. } | HandoverFormat::PacketCable { .. } => {
            matches!(content, Content::Sip { .. } | Content::Media { .. })
        }
        _ => true,
    }
}

/// Whether a destination in `format` has messages for any of `targets`' traffic: an
/// ATIS-1000013 agency for internet access (address, prefix, username, MAC targets), an
/// ATIS-1000678 one for calls (SIP URI, E.164, username targets); ETSI for all. A warrant
/// none of whose targets' traffic its agency's format carries would deliver nothing there:
/// it is refused (by the ADMF's plan and the mediator), not accepted and counted
/// `not_in_format`.
pub fn takes_targets(format: HandoverFormat, targets: &[TargetIdentifier]) -> bool {
    targets.iter().any(|t| {
        let kind = t.kind();
        match format {
            HandoverFormat::Atis1000013 { .. } => {
                !matches!(kind, TargetKind::SipUri | TargetKind::E164Number)
            }
            HandoverFormat::Atis1000678 { .. } | HandoverFormat::PacketCable { .. } => matches!(
                kind,
                TargetKind::SipUri | TargetKind::E164Number | TargetKind::Username
            ),
            _ => true,
        }
    })
}

/// What an agency in `format` takes, for messages: `None` when it takes everything.
pub fn format_takes(format: HandoverFormat) -> Option<&'static str> {
    match format {
        HandoverFormat::Atis1000013 { .. } => Some(
            "ATIS-1000013 carries internet access: none of the warrant's targets is an address, prefix, username or MAC address",
        ),
        HandoverFormat::Atis1000678 { .. } => Some(
            "ATIS-1000678 carries calls: none of the warrant's targets is a SIP URI, telephone number or username",
        ),
        HandoverFormat::PacketCable { .. } => Some(
            "PacketCable carries calls: none of the warrant's targets is a SIP URI, telephone number or username",
        ),
        _ => None,
    }
}

/// The ATIS-1000013 settings of `task` towards an ATIS-1000013 destination: its LIID as
/// `caseId`, the mediator's `iAPSystemId` ([`MediatorSettings::iap_system_id`], else the
/// operator identifier).
///
/// # Errors
///
/// [`MediatorError::BadTask`] naming the LIID or identifier that breaks its constraint (an
/// LIID longer than 25 characters, or with characters outside VisibleString).
pub fn ias_mapper(
    task: &MediationTask,
    settings: &MediatorSettings,
) -> Result<IasMapper, MediatorError> {
    IasMapper::new(&task.liid(), &iap_system_id(settings)).map_err(|e| MediatorError::BadTask {
        xid: task.xid(),
        reason: e.to_string(),
    })
}

/// The mediator's `iAPSystemId`: [`MediatorSettings::iap_system_id`], else the operator
/// identifier as text.
pub(super) fn iap_system_id(settings: &MediatorSettings) -> String {
    settings
        .iap_system_id
        .clone()
        .unwrap_or_else(|| String::from_utf8_lossy(settings.operator_id.as_bytes()).into_owned())
}

/// Checks that `task`'s records can be encoded towards `destination`: its PSHeaders for
/// ETSI ([`header_settings`]), its `caseId` for ATIS-1000013 ([`ias_mapper`]).
///
/// # Errors
///
/// Those of [`header_settings`] and [`ias_mapper`].
pub fn check_task_format(
    task: &MediationTask,
    destination: &HiDestination,
    settings: &MediatorSettings,
) -> Result<(), MediatorError> {
    check_format(destination.id, destination.format)?;
    if !takes_targets(destination.format, task.targets()) {
        return Err(MediatorError::BadTask {
            xid: task.xid(),
            reason: format!(
                "destination {}: {}",
                destination.name,
                format_takes(destination.format)
                    .unwrap_or("its format carries none of the task's targets")
            ),
        });
    }
    match destination.format {
        // The US families: caseId and the IAP / accessing element id under the same
        // constraints.
        HandoverFormat::Atis1000013 { .. }
        | HandoverFormat::Atis1000678 { .. }
        | HandoverFormat::PacketCable { .. } => ias_mapper(task, settings).map(|_| ()),
        _ => header_settings(task, destination, settings).map(|_| ()),
    }
}

/// The header settings of `task`'s PS-PDUs towards `destination`: built by
/// [`HeaderSettings::for_destination`] from the task and the destination's format, with the
/// operator and network element identifiers of `settings`. So the destination's module
/// versions, the task's LIID and its country codes (else those of `settings`) reach every
/// PSHeader.
///
/// # Errors
///
/// [`MediatorError::UnsupportedFormat`] when the mediator does not produce the destination's
/// format ([`check_format`]).
pub fn header_settings(
    task: &MediationTask,
    destination: &HiDestination,
    settings: &MediatorSettings,
) -> Result<HeaderSettings, MediatorError> {
    check_format(destination.id, destination.format)?;
    let mut header = HeaderSettings::for_destination(
        task,
        destination.format,
        settings.operator_id,
        settings.network_element_id,
    )
    .ok_or(MediatorError::UnsupportedFormat {
        did: destination.id,
        format: destination.format,
    })?;
    header.authorization_country_code = header
        .authorization_country_code
        .or(settings.authorization_country_code);
    header.delivery_country_code = header
        .delivery_country_code
        .or(settings.delivery_country_code);
    Ok(header)
}

/// A format's name for messages, e.g. `ATIS-1000013 version 3`.
pub(super) fn format_name(format: HandoverFormat) -> String {
    match format {
        HandoverFormat::Etsi102232 {
            ps_pdu_version,
            ip_access_version,
            ip_multimedia_version,
        } => format!(
            "ETSI TS 102 232 (LI-PS-PDU version {ps_pdu_version}, IPAccessPDU version {ip_access_version}, IPMultimediaPDU version {ip_multimedia_version})"
        ),
        HandoverFormat::Atis1000013 { version } => format!("ATIS-1000013 version {version}"),
        HandoverFormat::Atis1000678 { version } => format!("ATIS-1000678 version {version}"),
        HandoverFormat::PacketCable { version } => format!("PacketCable version {version}"),
        other => format!("{other:?}"),
    }
}

/// Header settings per (LIID, destination) and pre-encoded CC headers per (LIID, CIN,
/// destination), and the encoding buffer the spool appends reuse: nothing is built per
/// record. Entries of a task or destination that changes are dropped
/// ([`EncoderCache::forget_liid`], [`EncoderCache::forget_destination`]) and built again
/// from the new details on first use.
#[derive(Default)]
pub(super) struct EncoderCache {
    headers: HashMap<(Liid, DestinationId), HeaderSettings>,
    cc: HashMap<(Liid, Cin, DestinationId), CcEncoder>,
    /// A call's media: the pre-encoded IPMMCC header and the stream's fields, per stream.
    media: HashMap<(Liid, Cin, DestinationId, u16), (IpmmCcEncoder, MediaStream)>,
    /// ATIS settings per (LIID, destination, intercepting network function).
    ias: HashMap<(Liid, DestinationId, Nf), IasMapper>,
    /// Pre-encoded `IAS-CC-APDU` headers per (LIID, CIN, destination).
    ias_cc: HashMap<(Liid, Cin, DestinationId, Nf), IasCcEncoder>,
    /// The messages of one record, reused.
    ias_scratch: Vec<IasPdu>,
    /// ATIS-1000678 call-data state per (LIID, destination, intercepting network function).
    laes: HashMap<(Liid, DestinationId, Nf), LaesCalls>,
    /// Pre-encoded `CC-APDU` headers per (LIID, CIN, destination).
    laes_cc: HashMap<(Liid, Cin, DestinationId, Nf), IasCcEncoder>,
    /// The call-data messages of one record, reused.
    laes_scratch: Vec<LaesProtocol>,
    /// The CCC identifiers of each call towards PacketCable agencies, per (LIID, CIN): the
    /// call data (HI2) and the content (HI3) are two destinations that must name the same.
    /// Two generations: when the current one is full it becomes the previous one (the one
    /// before is dropped), and a call found in the previous one is carried over, so a call
    /// still active keeps its identifiers.
    ccc_ids: HashMap<(Liid, Nf, Cin), CccPair>,
    ccc_ids_previous: HashMap<(Liid, Nf, Cin), CccPair>,
    /// The network functions (probes) met, by their Network Function ID: a CIN is one
    /// probe's, so each is one dimension of the keys above.
    nfs: HashMap<Box<[u8]>, Nf>,
    /// The next CCC identifier to give (two per call).
    next_ccc: u32,
    /// Pre-encoded CCC headers per (LIID, CIN, destination, CCC identifier).
    ccc: HashMap<(Liid, Cin, DestinationId, u32), CccEncoder>,
    /// PacketCable call-data state per (LIID, destination, intercepting network function).
    pcesp: HashMap<(Liid, DestinationId, Nf), PcespCalls>,
    /// The `CdcPdu`s of one record, reused.
    pcesp_scratch: Vec<li_asn1::packetcable::CdcPdu>,
    /// The buffer the spool appends encode into.
    pub(super) buf: Vec<u8>,
}

impl EncoderCache {
    /// Appends the PS-PDU of `record` with sequence number `seq` for `destination` to `out`.
    pub(super) fn encode(
        &mut self,
        s: &MediatorSettings,
        destination: &HiDestination,
        record: &Admitted<'_, '_>,
        seq: u32,
        out: &mut Vec<u8>,
    ) {
        match destination.format {
            HandoverFormat::Atis1000013 { .. } => {
                self.encode_ias(s, destination, record, seq, out);
                return;
            }
            HandoverFormat::Atis1000678 { .. } => {
                self.encode_laes(s, destination, record, seq, out);
                return;
            }
            HandoverFormat::PacketCable { .. } => {
                self.encode_pcesp(s, destination, record, out);
                return;
            }
            _ => {}
        }
        let liid = record.task.liid();
        let did = destination.id;
        match &record.content {
            Content::Cc {
                direction,
                packet,
                original_length,
            } => {
                let headers = &mut self.headers;
                let encoder = bounded_entry(&mut self.cc, (liid, record.cin, did), || {
                    CcEncoder::new(cached_settings(headers, s, record, destination), record.cin)
                });
                match original_length {
                    None => encoder.encode(seq, record.time, (*direction).into(), packet, out),
                    Some(len) => {
                        encoder.encode_truncated(
                            seq,
                            record.time,
                            (*direction).into(),
                            packet,
                            *len,
                            out,
                        );
                    }
                }
            }
            Content::Iri(iri) => {
                let settings = cached_settings(&mut self.headers, s, record, destination);
                PsPdu {
                    header: settings.header(Some(record.cin), seq, record.time),
                    payload: Payload::IriPayloadSequence(vec![iri.clone()]),
                }
                .encode_into(out);
            }
            Content::Sip {
                iri_type,
                source,
                destination: to,
                message,
            } => {
                let settings = cached_settings(&mut self.headers, s, record, destination);
                let contents = IpmmIriContents::sip_in_scope(
                    record.task.scope(),
                    source.ip(),
                    to.ip(),
                    message,
                );
                settings
                    .ipmm_iri_pdu(record.cin, seq, record.time, (*iri_type).into(), contents)
                    .encode_into(out);
            }
            Content::Media {
                direction,
                flow,
                packet,
            } => {
                let headers = &mut self.headers;
                let key = (liid, record.cin, did, flow.stream);
                let (encoder, stream) = bounded_entry(&mut self.media, key, || {
                    let settings = cached_settings(headers, s, record, destination);
                    (IpmmCcEncoder::new(settings, record.cin), media_stream(flow))
                });
                encoder.encode(seq, record.time, (*direction).into(), stream, packet, out);
            }
        }
    }

    /// Appends the ATIS-1000013 messages of `record` for `destination` to `out`: the CmII
    /// messages of an access IRI record, back to back, or the `IAS-CC-APDU` of a packet
    /// with sequence number `seq`. Records without an ATIS-1000013 form never get here
    /// ([`carries`]).
    fn encode_ias(
        &mut self,
        s: &MediatorSettings,
        destination: &HiDestination,
        record: &Admitted<'_, '_>,
        seq: u32,
        out: &mut Vec<u8>,
    ) {
        let liid = record.task.liid();
        let did = destination.id;
        let nf = self.nf(record.nfid);
        let mapper = cached_mapper(&mut self.ias, s, record, did, nf);
        match &record.content {
            Content::Iri(IriPayload {
                iri_contents: IriContents::IpIri(iri),
                ..
            }) => {
                let event = li_asn1::access_event(&iri.contents);
                let with_content = record.task.scope() != InterceptScope::IriOnly;
                let mut messages = std::mem::take(&mut self.ias_scratch);
                messages.clear();
                mapper.messages(record.cin, record.time, &event, with_content, &mut messages);
                for m in &messages {
                    m.encode_into(out);
                }
                self.ias_scratch = messages;
            }
            Content::Cc {
                direction, packet, ..
            } => {
                match packet_direction(*direction) {
                    Some(direction) => {
                        let (case, iap) = (mapper.case_id(), mapper.iap_system_id());
                        let encoder =
                            bounded_entry(&mut self.ias_cc, (liid, record.cin, did, nf), || {
                                IasCcEncoder::new(
                                    case,
                                    Some(iap),
                                    &IasMapper::content_identifier(record.cin),
                                )
                            });
                        encoder.encode(i64::from(seq), record.time, direction, packet, out);
                    }
                    // The module's direction has no "unknown": the field is left out.
                    None => out.extend_from_slice(
                        &cc_apdu_without_direction(
                            mapper,
                            IasMapper::content_identifier(record.cin),
                            record.time,
                            seq,
                            packet,
                        )
                        .encode(),
                    ),
                }
            }
            // Not routed here (see `carries`).
            _ => {}
        }
    }

    /// Appends the ATIS-1000678 messages of `record` for `destination` to `out`: the call
    /// data of a SIP message ([`LaesCalls`]), back to back, or the `CC-APDU` of a media packet
    /// with sequence number `seq`.
    fn encode_laes(
        &mut self,
        s: &MediatorSettings,
        destination: &HiDestination,
        record: &Admitted<'_, '_>,
        seq: u32,
        out: &mut Vec<u8>,
    ) {
        let liid = record.task.liid();
        let did = destination.id;
        let nf = self.nf(record.nfid);
        let mapper = cached_mapper(&mut self.ias, s, record, did, nf);
        match &record.content {
            Content::Sip {
                iri_type, message, ..
            } => {
                let key = (liid, did, nf);
                if !self.laes.contains_key(&key) {
                    // The mapper's caseId is 1..25 visible characters (checked at
                    // provisioning, else fitted): this always succeeds.
                    let Ok(case_id) = CaseIdentity::new(mapper.case_id()) else {
                        tracing::error!(%liid, "no ATIS caseId for a provisioned task");
                        return;
                    };
                    let calls = LaesCalls::new(LaesSettings {
                        case_id,
                        iap_system_id: Some(mapper.iap_system_id().to_owned()),
                        protocol_identifier: None,
                    });
                    bounded_entry(&mut self.laes, key, || calls);
                }
                let Some(calls) = self.laes.get_mut(&key) else {
                    return;
                };
                // Only a call's first INVITE asks which side the target is: no second SIP
                // parse for the other messages.
                let side = if *iri_type == li_core::IriType::Begin && message.starts_with(b"INVITE")
                {
                    calea::target_side(record.task.targets(), message)
                } else {
                    calea::TargetSide::Unknown
                };
                let with_content = record.task.scope() != InterceptScope::IriOnly;
                let mut messages = std::mem::take(&mut self.laes_scratch);
                messages.clear();
                calls.on_sip(
                    record.cin,
                    record.time,
                    *iri_type,
                    message,
                    side,
                    with_content,
                    &mut messages,
                );
                for m in &messages {
                    m.encode_into(out);
                }
                self.laes_scratch = messages;
            }
            Content::Media {
                direction, packet, ..
            } => match packet_direction(*direction) {
                Some(d) => {
                    let (case, iap) = (mapper.case_id(), mapper.iap_system_id());
                    let encoder =
                        bounded_entry(&mut self.laes_cc, (liid, record.cin, did, nf), || {
                            let content = calea::content_identifier(record.cin);
                            IasCcEncoder::new(case, Some(iap), &content)
                        });
                    encoder.encode(i64::from(seq), record.time, d, packet, out);
                }
                None => out.extend_from_slice(
                    &cc_apdu_without_direction(
                        mapper,
                        calea::content_identifier(record.cin),
                        record.time,
                        seq,
                        packet,
                    )
                    .encode(),
                ),
            },
            // Not routed here (see `carries`).
            _ => {}
        }
    }

    /// The network function of a record's Network Function ID (allocated on first sight;
    /// beyond [`MAX_NETWORK_FUNCTIONS`], [`Nf::OVERFLOW`]).
    fn nf(&mut self, nfid: Option<&[u8]>) -> Nf {
        let id = nfid.unwrap_or_default();
        if let Some(nf) = self.nfs.get(id) {
            return *nf;
        }
        if self.nfs.len() >= MAX_NETWORK_FUNCTIONS {
            return Nf::OVERFLOW;
        }
        let nf = Nf(self.nfs.len() as u16);
        self.nfs.insert(id.into(), nf);
        nf
    }

    /// A cache whose CCC identifiers start at `ccc_seed` (the runtime gives a random one,
    /// so that a restarted mediator, or a second one feeding the same agency, is unlikely to
    /// give again identifiers of calls still open there: two counters meet only when one has
    /// gone through the space between their random starts, two identifiers per call, about
    /// a billion calls on average).
    pub(super) fn with_ccc_seed(ccc_seed: u32) -> Self {
        Self {
            next_ccc: ccc_seed,
            ..Self::default()
        }
    }

    /// The CCC identifiers of call `cin` of `liid`, given on first use: two consecutive
    /// numbers (transmitted, received) from the counter ([`Self::with_ccc_seed`]).
    fn ccc_pair(&mut self, liid: Liid, nf: Nf, cin: Cin) -> CccPair {
        if self.next_ccc == 0 {
            // Never 0: an identifier of 0 looks like a missing one.
            self.next_ccc = 2;
        }
        if let Some(pair) = self.ccc_ids.get(&(liid, nf, cin)) {
            return *pair;
        }
        if self.ccc_ids.len() >= MAX_CACHED_ENCODERS {
            self.ccc_ids_previous = std::mem::take(&mut self.ccc_ids);
        }
        let pair = match self.ccc_ids_previous.remove(&(liid, nf, cin)) {
            Some(pair) => pair,
            None => {
                let next = self.next_ccc;
                // Never 0: 0 means "not started" here.
                self.next_ccc = next.wrapping_add(2).max(2);
                CccPair {
                    xmit: next,
                    recv: next.wrapping_add(1),
                }
            }
        };
        self.ccc_ids.insert((liid, nf, cin), pair);
        pair
    }

    /// Appends the PacketCable form of `record` for `destination` to `out`: the call data of
    /// a SIP message (`CdcPdu`s back to back), or one call content datagram of a media packet
    /// (CCC identifier, NTP timestamp, and the packet's IP datagram rebuilt from the flow's
    /// addresses: PacketCable carries whole IP datagrams). Media of an unknown direction goes
    /// with the transmitted content's identifier.
    fn encode_pcesp(
        &mut self,
        s: &MediatorSettings,
        destination: &HiDestination,
        record: &Admitted<'_, '_>,
        out: &mut Vec<u8>,
    ) {
        let liid = record.task.liid();
        let did = destination.id;
        let nf = self.nf(record.nfid);
        let pair = self.ccc_pair(liid, nf, record.cin);
        match &record.content {
            Content::Sip {
                iri_type, message, ..
            } => {
                let key = (liid, did, nf);
                if !self.pcesp.contains_key(&key) {
                    let mapper = cached_mapper(&mut self.ias, s, record, did, nf);
                    // The mapper's caseId is 1..25 visible characters (checked at
                    // provisioning, else fitted): this always succeeds.
                    let settings = match PcespSettings::new(
                        mapper.case_id(),
                        mapper.iap_system_id(),
                    ) {
                        Ok(settings) => settings,
                        Err(error) => {
                            tracing::error!(%liid, %error, "no PacketCable identifiers for a provisioned task");
                            return;
                        }
                    };
                    bounded_entry(&mut self.pcesp, key, || PcespCalls::new(settings));
                }
                let Some(calls) = self.pcesp.get_mut(&key) else {
                    return;
                };
                let side = if *iri_type == li_core::IriType::Begin && message.starts_with(b"INVITE")
                {
                    calea::target_side(record.task.targets(), message)
                } else {
                    calea::TargetSide::Unknown
                };
                let with_content = record.task.scope() != InterceptScope::IriOnly;
                let mut pdus = std::mem::take(&mut self.pcesp_scratch);
                pdus.clear();
                calls.on_sip(
                    record.cin,
                    pair,
                    record.time,
                    *iri_type,
                    message,
                    side,
                    with_content,
                    &mut pdus,
                );
                for p in &pdus {
                    p.encode_into(out);
                }
                self.pcesp_scratch = pdus;
            }
            Content::Media {
                direction,
                flow,
                packet,
            } => {
                let id = match direction {
                    li_core::PayloadDirection::ToTarget => pair.recv,
                    _ => pair.xmit,
                };
                let encoder = bounded_entry(&mut self.ccc, (liid, record.cin, did, id), || {
                    CccEncoder::new(id, CccForm::IdTimestamp)
                });
                let start = out.len();
                encoder.encode_into(record.time, &[], out);
                match li_core::datagram::write_udp(flow.source, flow.destination, packet, out) {
                    // One UDP datagram to the agency carries it (65,507 octets over IPv4).
                    Ok(_) if out.len() - start <= MAX_CCC_DATAGRAM => {}
                    Ok(len) => {
                        tracing::error!(%liid, cin = %record.cin, len,
                            "media packet too large for one CCC datagram; not delivered");
                        out.truncate(start);
                    }
                    Err(error) => {
                        // Not reached for a probe's flows (one IP version, a UDP packet).
                        tracing::error!(%liid, %error, "media packet without a PacketCable form");
                        out.truncate(start);
                    }
                }
            }
            // Not routed here (see `carries`).
            _ => {}
        }
    }

    /// The call data closing every call of `liid` still open towards a US VoIP agency
    /// (`Release`, `CCClose`), at `time`, encoded back to back per destination; the calls are
    /// forgotten. For a task deactivated while calls are open: the agency sees each closed.
    pub(super) fn close_calls(
        &mut self,
        liid: Liid,
        time: Timestamp,
    ) -> Vec<(DestinationId, Vec<u8>)> {
        let mut out: std::collections::BTreeMap<DestinationId, Vec<u8>> = Default::default();
        let mut laes = Vec::new();
        close_each(&mut self.laes, liid, &mut out, |calls, buf| {
            laes.clear();
            calls.close_all(time, &mut laes);
            laes.iter().for_each(|m| m.encode_into(buf));
        });
        let mut pcesp = Vec::new();
        close_each(&mut self.pcesp, liid, &mut out, |calls, buf| {
            pcesp.clear();
            calls.close_all(time, &mut pcesp);
            pcesp.iter().for_each(|m| m.encode_into(buf));
        });
        out.into_iter().filter(|(_, buf)| !buf.is_empty()).collect()
    }

    /// Drops what was built for `liid` (its task ended, or its LIID changed), the state of
    /// its calls included.
    pub(super) fn forget_liid(&mut self, liid: Liid) {
        self.forget_liid_settings(liid);
        self.laes.retain(|(l, _, _), _| *l != liid);
        self.ccc_ids.retain(|(l, _, _), _| *l != liid);
        self.ccc_ids_previous.retain(|(l, _, _), _| *l != liid);
        self.pcesp.retain(|(l, _, _), _| *l != liid);
    }

    /// Drops what was built from `liid`'s task details (it changed, same LIID), keeping the
    /// state of its calls in progress.
    pub(super) fn forget_liid_settings(&mut self, liid: Liid) {
        self.headers.retain(|(l, _), _| *l != liid);
        self.cc.retain(|(l, _, _), _| *l != liid);
        self.media.retain(|(l, _, _, _), _| *l != liid);
        self.ias.retain(|(l, _, _), _| *l != liid);
        self.ias_cc.retain(|(l, _, _, _), _| *l != liid);
        self.laes_cc.retain(|(l, _, _, _), _| *l != liid);
        self.ccc.retain(|(l, _, _, _), _| *l != liid);
    }

    /// Drops what was built from destination `did`'s details (its address or name changed,
    /// not its format), keeping the state of its calls in progress.
    pub(super) fn forget_destination_settings(&mut self, did: DestinationId) {
        self.headers.retain(|(_, d), _| *d != did);
        self.cc.retain(|(_, _, d), _| *d != did);
        self.media.retain(|(_, _, d, _), _| *d != did);
        self.ias_cc.retain(|(_, _, d, _), _| *d != did);
        self.laes_cc.retain(|(_, _, d, _), _| *d != did);
        self.ccc.retain(|(_, _, d, _), _| *d != did);
    }

    /// Drops what was built for destination `did` (it changed format or was removed), the
    /// state of its calls included.
    pub(super) fn forget_destination(&mut self, did: DestinationId) {
        self.headers.retain(|(_, d), _| *d != did);
        self.cc.retain(|(_, _, d), _| *d != did);
        self.media.retain(|(_, _, d, _), _| *d != did);
        self.ias.retain(|(_, d, _), _| *d != did);
        self.ias_cc.retain(|(_, _, d, _), _| *d != did);
        self.laes.retain(|(_, d, _), _| *d != did);
        self.laes_cc.retain(|(_, _, d, _), _| *d != did);
        self.ccc.retain(|(_, _, d, _), _| *d != did);
        self.pcesp.retain(|(_, d, _), _| *d != did);
    }

    /// How many header settings, IP CC encoders and media encoders are cached.
    #[cfg(test)]
    pub(super) fn sizes(&self) -> (usize, usize, usize) {
        (self.headers.len(), self.cc.len(), self.media.len())
    }
}

/// Runs `close` on each call-data state of `liid` in `states`, in (destination, network
/// function) order, appending to its destination's buffer in `out`.
fn close_each<C>(
    states: &mut HashMap<(Liid, DestinationId, Nf), C>,
    liid: Liid,
    out: &mut std::collections::BTreeMap<DestinationId, Vec<u8>>,
    mut close: impl FnMut(&mut C, &mut Vec<u8>),
) {
    let mut keys: Vec<_> = states
        .keys()
        .filter(|(l, _, _)| *l == liid)
        .copied()
        .collect();
    keys.sort_by_key(|(_, d, n)| (*d, *n));
    for key in keys {
        if let Some(state) = states.get_mut(&key) {
            close(state, out.entry(key.1).or_default());
        }
    }
}

/// The US identifiers of `record`'s task towards destination `did` (caseId, and the IAP
/// system id of the network function that intercepted the record: [`record_iap_system_id`]),
/// from `cache` (built and kept there if missing).
fn cached_mapper<'c>(
    cache: &'c mut HashMap<(Liid, DestinationId, Nf), IasMapper>,
    s: &MediatorSettings,
    record: &Admitted<'_, '_>,
    did: DestinationId,
    nf: Nf,
) -> &'c IasMapper {
    bounded_entry(cache, (record.task.liid(), did, nf), || {
        // Beyond the bound of network functions, the mediator names the record.
        let nfid = record.nfid.filter(|_| nf != Nf::OVERFLOW);
        let iap = record_iap_system_id(nfid, s);
        IasMapper::new(&record.task.liid(), &iap).unwrap_or_else(|error| {
            // Not reached: the task was checked when it was provisioned, the NFID here.
            tracing::error!(%error, "ATIS settings of a provisioned task; made to fit");
            IasMapper::fitted(&record.task.liid(), &iap)
        })
    })
}

/// The IAP system id of a record: the Network Function ID of the probe that intercepted it
/// when it is one (1 to 15 visible characters: the ATIS constraint, also within PacketCable's
/// accessingElementId), else the mediator's ([`MediatorSettings::iap_system_id`], else the
/// operator identifier). So each probe names itself to US agencies, and a probe that says
/// nothing (or something no ATIS message can carry) is named by the mediator.
pub(super) fn record_iap_system_id(nfid: Option<&[u8]>, s: &MediatorSettings) -> String {
    nfid.and_then(|n| std::str::from_utf8(n).ok())
        .filter(|n| li_asn1::atis::access::check_iap_system_id(n).is_ok())
        .map_or_else(|| iap_system_id(s), str::to_owned)
}

/// A network function (probe) met by the cache: the index of its Network Function ID (none
/// is one too), a dimension of the keys of what depends on the intercepting probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Nf(u16);

impl Nf {
    /// Every network function beyond [`MAX_NETWORK_FUNCTIONS`]: named by the mediator.
    const OVERFLOW: Self = Self(u16::MAX);
}

/// Network functions told apart at most (a deployment has a handful of probes).
const MAX_NETWORK_FUNCTIONS: usize = 4096;

/// The ATIS packet direction of a record's: none for indeterminate and the others (the
/// ATIS modules have only from and to the subject).
fn packet_direction(direction: li_core::PayloadDirection) -> Option<PacketDirection> {
    match direction {
        li_core::PayloadDirection::FromTarget => Some(PacketDirection::FromSubject),
        li_core::PayloadDirection::ToTarget => Some(PacketDirection::ToSubject),
        _ => None,
    }
}

/// An `IAS-CC-APDU` / `CC-APDU` (one model) of a packet whose direction is not known (rare:
/// the target on both ends): every header field but the direction.
fn cc_apdu_without_direction(
    mapper: &IasMapper,
    content_identifier: li_asn1::atis::ias_cc::ContentIdentifier,
    time: Timestamp,
    seq: u32,
    packet: &[u8],
) -> IasCcApdu {
    IasCcApdu {
        delivery_header: Some(CcDeliveryHeader {
            correlation_info: CorrelationInfo {
                case_id: Some(mapper.case_id().to_owned()),
                iap_id: Some(mapper.iap_system_id().to_owned()),
                content_identifier,
            },
            time_stamp: Some(GeneralizedTime::from_timestamp(time)),
            packet_direction: None,
            sequence_number: Some(i64::from(seq)),
        }),
        payload: packet.to_vec(),
    }
}

/// The IPMMCC fields of a media flow's stream: RTP frames (the packet from its RTP header
/// on, RTCP alike), protocol RTP, and the stream's index in decimal as its identifier (the
/// position of its `m=` line in the call's SDP, from 0).
fn media_stream(flow: &MediaFlow) -> MediaStream {
    MediaStream::new(FrameType::RtpFrame)
        .with_stream_identifier(flow.stream.to_string().as_bytes())
        .with_protocol(MmccProtocol::Rtp)
}

/// The header settings of `record`'s task towards `destination`, from `cache` (built and
/// kept there if missing).
fn cached_settings<'c>(
    cache: &'c mut HashMap<(Liid, DestinationId), HeaderSettings>,
    s: &MediatorSettings,
    record: &Admitted<'_, '_>,
    destination: &HiDestination,
) -> &'c HeaderSettings {
    bounded_entry(cache, (record.task.liid(), destination.id), || {
        header_settings(record.task, destination, s).unwrap_or_else(|error| {
            // Not reached: the task and the destination were checked when they were
            // provisioned (Mediator::activate_task, create_destination).
            tracing::error!(%error, "header settings of a provisioned task; using the defaults");
            let mut settings = HeaderSettings::new(record.task.liid(), s.operator_id);
            settings.network_element_identifier = s.network_element_id;
            settings.authorization_country_code = s.authorization_country_code;
            settings.delivery_country_code = s.delivery_country_code;
            settings
        })
    })
}

/// The entry of `key` in `cache`, built by `build` if missing; a cache holding
/// [`MAX_CACHED_ENCODERS`] entries starts afresh first (it then holds the communications
/// active since).
fn bounded_entry<K: Eq + std::hash::Hash, V>(
    cache: &mut HashMap<K, V>,
    key: K,
    build: impl FnOnce() -> V,
) -> &mut V {
    if cache.len() >= MAX_CACHED_ENCODERS {
        cache.clear();
    }
    cache.entry(key).or_insert_with(build)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each probe names itself to a US agency: a record's IAP system id is its Network
    /// Function ID when that is one (1..15 visible characters), else the mediator's; the
    /// call data and content of one call carry their probe's.
    #[test]
    fn each_probe_is_named_to_a_us_agency_by_its_network_function_id() {
        use li_asn1::atis::ias_cc::IasCcApdu;
        use li_core::{InterceptScope, ValidityWindow, Xid};
        let mut s = MediatorSettings::new(
            li_core::OperatorId::new(b"OPERATOR").unwrap(),
            Liid::new(b"KEEPALIVE").unwrap(),
            "/nonexistent",
        );
        s.iap_system_id = Some("MEDIATOR-1".into());
        let task = MediationTask::builder(
            Liid::new(b"LIID-NF").unwrap(),
            Xid::from_bytes([1; 16]),
            InterceptScope::IriAndCc,
            ValidityWindow::ALWAYS,
        )
        .target("ipv4:192.0.2.1".parse().unwrap())
        .destinations([DestinationId::from_bytes([2; 16])])
        .build()
        .unwrap();
        let destination = HiDestination {
            id: DestinationId::from_bytes([2; 16]),
            name: "LEA-US HI3".into(),
            interface: crate::lemf::Interface::Hi3,
            addr: "127.0.0.1:1".into(),
            transport: crate::x1::HiTransport::PlainTcp,
            format: HandoverFormat::Atis1000013 { version: 1 },
        };
        let packet = [
            0x45u8, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 9,
        ];
        let mut cache = EncoderCache::default();
        let mut iap_of = |cin: u32, nfid: Option<&[u8]>| {
            let record = Admitted {
                task: &task,
                time: Timestamp::from_secs_micros(1_700_000_000, 0).unwrap(),
                cin: Cin::new(cin),
                content: Content::Cc {
                    direction: li_core::PayloadDirection::FromTarget,
                    packet: &packet,
                    original_length: None,
                },
                destinations: vec![destination.id],
                nfid,
            };
            let mut out = Vec::new();
            cache.encode(&s, &destination, &record, 1, &mut out);
            let apdu = IasCcApdu::decode(&out).unwrap();
            apdu.delivery_header.unwrap().correlation_info.iap_id
        };
        assert_eq!(iap_of(1, Some(b"probe-east")), Some("probe-east".into()));
        assert_eq!(iap_of(2, Some(b"probe-west")), Some("probe-west".into()));
        assert_eq!(iap_of(1, Some(b"probe-east")), Some("probe-east".into()));
        // The same CIN from another probe is another communication: its own IAP system id.
        assert_eq!(iap_of(1, Some(b"probe-west")), Some("probe-west".into()));
        // None, too long for an IAP system id, or not visible text: the mediator's.
        assert_eq!(iap_of(3, None), Some("MEDIATOR-1".into()));
        assert_eq!(
            iap_of(4, Some(b"a-probe-name-of-20ch")),
            Some("MEDIATOR-1".into())
        );
        assert_eq!(iap_of(5, Some(b"probe\x01")), Some("MEDIATOR-1".into()));
    }

    /// A call keeps its CCC identifiers while it is active, however many calls come and go:
    /// the bound drops only calls untouched for a whole generation.
    #[test]
    fn a_call_keeps_its_ccc_identifiers_across_the_bound() {
        let mut cache = EncoderCache::default();
        let liid = Liid::new(b"LIID-CCC").unwrap();
        let first = cache.ccc_pair(liid, Nf(0), Cin::new(1));
        assert_eq!(first.recv, first.xmit.wrapping_add(1));
        assert_ne!(first.xmit, 0);
        assert_eq!(
            cache.ccc_pair(liid, Nf(0), Cin::new(1)),
            first,
            "the same call, the same pair"
        );
        let other = cache.ccc_pair(liid, Nf(0), Cin::new(2));
        // The same CIN from another probe is another call: another pair.
        let elsewhere = cache.ccc_pair(liid, Nf(1), Cin::new(1));
        assert!(![first.xmit, first.recv].contains(&elsewhere.xmit));
        assert!(![first.xmit, first.recv].contains(&elsewhere.recv));
        assert_ne!((other.xmit, other.recv), (first.xmit, first.recv));
        assert!(
            other.xmit != first.recv && other.recv != first.xmit,
            "no id shared"
        );
        let fill = |cache: &mut EncoderCache, from: u32| {
            for cin in from..from + MAX_CACHED_ENCODERS as u32 {
                cache.ccc_pair(liid, Nf(0), Cin::new(cin));
            }
        };
        // A generation later the call, still active, is carried over ...
        fill(&mut cache, 1_000);
        assert_eq!(cache.ccc_pair(liid, Nf(0), Cin::new(1)), first);
        fill(&mut cache, 100_000);
        assert_eq!(cache.ccc_pair(liid, Nf(0), Cin::new(1)), first);
        // ... a call untouched for two generations is gone and gets new identifiers.
        fill(&mut cache, 200_000);
        fill(&mut cache, 300_000);
        assert_ne!(cache.ccc_pair(liid, Nf(0), Cin::new(2)), other);
    }
}
