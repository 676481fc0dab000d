//! BER codecs for lawful-interception handover.
//!
//! - [`ber`]: a small BER core — a definite-length minimal [`ber::Writer`] and a tolerant,
//!   bounded [`ber::Reader`] that accepts indefinite and long-form lengths, constructed
//!   strings and unknown extension fields, limits nesting depth and never panics;
//! - [`PsPdu`]: ETSI TS 102 232-1 (LI-PS-PDU version 43) with every PSHeader field, IRI, CC
//!   and TRI payloads, and TS 102 232-3 (IPAccessPDU version 18) IPCC and IPIRI, typed
//!   encode and decode; an optional PSHeader field a peer got wrong (a malformed time stamp or
//!   country code) is kept raw in [`PsHeader::invalid_fields`] instead of losing the PDU;
//! - [`ipmm`]: TS 102 232-5 (IPMultimediaPDU version 14) for voice and multimedia, typed
//!   encode and decode inside the PS-PDU: [`IpmmIri`] (`iPMMIRI [11]` of `IRIContents`: SIP
//!   messages with their addresses, `iRIOnlySIPMessage` for IRI-only warrants, the other
//!   `IPIRIContents` alternatives, `additionalSignalling`) and [`IpmmCc`] (`iPMMCC [12]` of
//!   `CCContents`: one RTP/RTCP, UDPTL or MSRP packet with `frameType`, `streamIdentifier`
//!   and `mMCCprotocol`);
//! - [`HeaderSettings`]: the per-destination settings (module versions, identifiers,
//!   timestamp form) PDUs are built from ([`HeaderSettings::ip_cc_pdu`],
//!   [`HeaderSettings::iri_pdu`], [`HeaderSettings::ipmm_cc_pdu`],
//!   [`HeaderSettings::ipmm_iri_pdu`], ...), and the hot-path CC encoders [`CcEncoder`] (IPCC)
//!   and [`IpmmCcEncoder`] (IPMMCC), byte-identical to the typed ones;
//! - [`atis`]: the US CALEA formats of ATIS-1000013 (internet access): the CmII
//!   [`atis::ias::IasProtocol`], its optional messages [`atis::ias_opt::IasOptionalProtocol`]
//!   and the content header [`atis::ias_cc::IasCcApdu`] with its hot-path encoder, and the
//!   mapping of access records to CmII [`atis::access::IasMapper`]; and of ATIS-1000678
//!   (VoIP): the call data [`atis::laes::LaesProtocol`] (all 24 messages) and the content
//!   header [`atis::laes_cc::CcApdu`] (the same model as `IAS-CC-APDU`); following the
//!   modules rebuilt from public generated code of the 2006/2007 drafts;
//! - [`packetcable`]: PacketCable electronic surveillance, the call data
//!   [`packetcable::CdcPdu`] of PCESP version 3 and the call content framing
//!   [`packetcable::ccc`] (CCC identifier, NTP timestamp, IP datagram) with its hot-path encoder.
//!
//! ```
//! use li_asn1::{HeaderSettings, Payload, PayloadDirection, PsPdu, TriPayload};
//! use li_core::{Cin, Liid, OperatorId, Timestamp};
//!
//! let operator = OperatorId::new(b"OPERATOR")?;
//! let mut settings = HeaderSettings::new(Liid::new(b"LIID-0001")?, operator);
//! settings.ps_pdu_version = 38; // this agency runs an older LI-PS-PDU module
//! let time = Timestamp::from_secs_micros(1_704_164_645, 678_000)?;
//!
//! let pdu = settings.ip_cc_pdu(Cin::new(1), 0, time, PayloadDirection::FromTarget, b"\x45...");
//! let octets = pdu.encode();
//! assert_eq!(PsPdu::decode(&octets)?, pdu);
//!
//! let keepalive = settings.tri_pdu(1, time, TriPayload::KeepAlive).encode();
//! assert_eq!(PsPdu::decode(&keepalive)?.payload, Payload::TriPayload(TriPayload::KeepAlive));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod atis;
pub mod ber;
mod cc;
mod error;
mod etsi;
pub mod ipaccess;
pub mod ipmm;
pub mod packetcable;
pub mod pdu;
mod types;

pub use cc::{CcEncoder, IpmmCcEncoder};
pub use error::{Error, Result};
pub use etsi::{HeaderSettings, InterceptionPointId, TimestampForm, access_event, ip_iri_contents};
pub use ipaccess::{IpCc, IpCcContents, IpIri, IpIriContents};
pub use ipmm::{IpmmCc, IpmmIri, IpmmIriContents, MediaStream};
pub use pdu::{
    CcContents, CcPayload, InvalidField, IriContents, IriPayload, IriType, Payload,
    PayloadDirection, PsHeader, PsPdu, TriPayload,
};
pub use types::{GeneralizedTime, ObjectIdentifier, Opaque, RelativeOid, UnknownAlternative};
