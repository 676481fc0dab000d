//! The mediation function (MDF): X2/X3 from probes in, HI2/HI3 PS-PDUs to every agency out.
//!
//! A [`Mediator`] holds the tasks (XID → LIID, scope, validity window, destinations) and the
//! destinations (one per agency interface: a DID, an address, HI2 or HI3, a handover format)
//! that the administration function provisions over X1, one durable
//! [`NumberedSpool`](crate::numbering::NumberedSpool) and one delivery link
//! ([`crate::hi::run_link`]) per destination.
//!
//! It enforces the warrant a second time, whatever the probe sent: an X2/X3 PDU whose XID is
//! not an active task, whose timestamp is outside the task's validity window, or that
//! carries content (X3) for an IRI-only task never leaves the mediator — it is counted
//! under its reason and dropped. That decision is pure ([`admission::admit`]: the task table,
//! the destinations' interfaces and the PDU in, [`Refusal`] or the records to produce out).
//! Each destination gets its own copy of a record with the task's LIID and its own sequence
//! numbers per (LIID, CIN); the PSHeader is built with
//! [`HeaderSettings::for_destination`](li_asn1::HeaderSettings::for_destination) from the
//! task and the destination (its [`HandoverFormat`] and module versions, the operator and
//! network element identifiers and the country codes of [`MediatorSettings`]), and a CC
//! header is pre-encoded once per (LIID, CIN, destination) ([`li_asn1::CcEncoder`]).
//!
//! - [`Mediator`]: the tokio driver — destinations with their spools and links, tasks, the
//!   batch pipeline ([`Mediator::mediate_batch`], [`Mediator::consume`]), counters
//!   ([`MediatorStats`], [`Mediator::link_snapshots`]) for whatever metrics the caller
//!   exports;
//! - [`admission`]: the pure admission decision;
//! - [`MediatorX1`]: the X1 (TS 103 221-1) server half — X1 requests turned into
//!   [`Mediator`] calls, with the provisioning saved to a state file and restored at start-up
//!   ([`MediatorX1::restore`]); [`CancelSafe`] runs each request to completion even when the
//!   client goes away.
//!
//! # Example
//!
//! A mediator delivering to an agency's receiver ([`crate::lemf::Receiver`]) on loopback: a
//! destination for HI3, a task, an X3 PDU admitted and delivered.
//!
//! ```
//! use li_core::{
//!     DestinationId, HandoverFormat, InterceptScope, Liid, OperatorId, Timestamp, ValidityWindow,
//!     Xid,
//! };
//! use li_handover::lemf::{Interface, Receiver, ReceiverConfig};
//! use li_handover::mediator::{
//!     HiDestination, MediationTask, Mediator, MediatorSettings, Outcome,
//! };
//! use li_handover::x1::HiTransport;
//! use li_handover::x2x3::{Pdu, PayloadDirection, PduTimestamp, X3IpPacketEncoder};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! // The agency: a receiver serving HI3 on a local port.
//! let agency = Receiver::new(ReceiverConfig::new(dir.path().join("lemf")))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let hi3 = listener.local_addr()?;
//! let serving = agency.clone();
//! tokio::spawn(async move { serving.serve(listener, None, Interface::Hi3).await });
//!
//! let settings = MediatorSettings::new(
//!     OperatorId::new(b"OPERATOR")?,
//!     Liid::new(b"KEEPALIVE")?,
//!     dir.path().join("spool"),
//! );
//! let mediator = Mediator::new(settings, None);
//! let did = DestinationId::new_v4_from_random([1; 16]);
//! mediator
//!     .create_destination(HiDestination {
//!         id: did,
//!         name: "LEA-1 HI3".into(),
//!         interface: Interface::Hi3,
//!         addr: hi3.to_string(),
//!         transport: HiTransport::PlainTcp,
//!         format: HandoverFormat::etsi_default(),
//!     })
//!     .await?;
//! let xid = Xid::new_v4_from_random([2; 16]);
//! let liid = Liid::new(b"LIID-1")?;
//! mediator
//!     .activate_task(
//!         MediationTask::builder(liid, xid, InterceptScope::IriAndCc, ValidityWindow::ALWAYS)
//!             .target("ipv4:192.0.2.1".parse()?)
//!             .destination(did)
//!             .build()?,
//!     )
//!     .await?;
//!
//! // The probe's X3 PDU: one intercepted packet of communication 7.
//! let packet = [0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2];
//! let seen = Timestamp::from_secs_micros(1_704_164_645, 0)?;
//! let mut octets = Vec::new();
//! X3IpPacketEncoder::new(xid, 7u64.to_be_bytes()).encode(
//!     &mut octets,
//!     0,
//!     PduTimestamp::from_core(seen).ok_or("time")?,
//!     PayloadDirection::FromTarget,
//!     &packet,
//! )?;
//! let (pdu, _) = Pdu::decode(&octets)?;
//! assert_eq!(mediator.on_pdu(&pdu).await, Outcome::Delivered(1));
//!
//! // The agency has it once the link delivered it and a keep-alive confirmed it.
//! let within = std::time::Duration::from_secs(30);
//! tokio::time::timeout(within, mediator.wait_drained()).await?;
//! assert_eq!(agency.summary().liids[&liid].cc, 1);
//! mediator.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::path::PathBuf;
use std::time::Duration;

use li_core::{
    CountryCode, DestinationId, HandoverFormat, Liid, NetworkElementId, OperatorId, Xid,
};
use rustls_pki_types::ServerName;
use tokio_rustls::TlsConnector;

use crate::lemf::Interface;
use crate::spool::{SpoolConfig, SpoolError};
pub use crate::x1::HiTransport;

pub mod admission;
mod encode;
mod runtime;
#[cfg(test)]
mod tests;
mod x1;

pub use encode::{
    PACKETCABLE_VERSION, check_format, check_task_format, format_takes, header_settings,
    ias_mapper, produces, takes_targets,
};
pub use runtime::{LinkSnapshot, Mediator, MediatorStats};
pub use x1::{CancelSafe, MediatorX1, RestoreError, X1Failure, hi_destination, mediation_task};

/// A task as the mediator knows it (from X1 `ActivateTask` with mediation details,
/// [`mediation_task`]): the one task model, [`li_core::Task`], naming its destinations by
/// DID, each an HI2 or HI3 [`HiDestination`] created apart. So a task holds at least one
/// target and one destination and names none twice, by construction.
///
/// Its targets are not matched here (the probe did); its LIID, scope and window are
/// enforced again on every record ([`admission::admit`]). Country codes of its own, if any,
/// go in its PSHeaders before those of [`MediatorSettings`].
pub type MediationTask = li_core::Task<DestinationId>;

/// One agency interface (from X1 `CreateDestination`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HiDestination {
    /// The destination identifier (DID).
    pub id: DestinationId,
    /// A name for logs and metrics, e.g. `"LEA-1 HI2"`.
    pub name: String,
    /// HI2 (IRI) or HI3 (CC).
    pub interface: Interface,
    /// The agency's address, `host:port` (an IPv6 host in brackets).
    pub addr: String,
    /// TLS or plain TCP towards it.
    pub transport: HiTransport,
    /// The handover format the agency expects: ETSI TS 102 232 in a module version this
    /// crate encodes ([`check_format`]); over X1 it is the `handover` parameter of the
    /// destination's URI ([`crate::x1::HiAddress`]).
    pub format: HandoverFormat,
}

/// TLS towards the agencies: the connector (our certificate, the CA we trust) and the name
/// the agencies' certificates must carry.
#[derive(Clone)]
pub struct HiTls {
    /// The connector.
    pub connector: TlsConnector,
    /// The server name checked in the agency's certificate.
    pub server_name: ServerName<'static>,
}

impl std::fmt::Debug for HiTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HiTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// How the mediator delivers.
#[derive(Clone, Debug)]
pub struct MediatorSettings {
    /// `operatorIdentifier` in every PSHeader.
    pub operator_id: OperatorId,
    /// `networkElementIdentifier` in every PSHeader.
    pub network_element_id: Option<NetworkElementId>,
    /// `authorizationCountryCode` in every PSHeader.
    pub authorization_country_code: Option<CountryCode>,
    /// `deliveryCountryCode` in every PSHeader.
    pub delivery_country_code: Option<CountryCode>,
    /// A directory per destination is made here for its spool.
    pub spool_dir: PathBuf,
    /// Spool settings (its `dir` is replaced per destination).
    pub spool: SpoolConfig,
    /// TLS towards the agencies; `None` for plain TCP.
    pub tls: Option<HiTls>,
    /// Keep-alive interval of the links.
    pub keepalive_interval: Duration,
    /// Keep-alive response timeout.
    pub keepalive_timeout: Duration,
    /// Reconnection backoff, first and largest delay.
    pub backoff: (Duration, Duration),
    /// The LIID put in keep-alive PDUs (a link carries many LIIDs); also the `caseId` of
    /// an ATIS link's link tests.
    pub keepalive_liid: Liid,
    /// `iAPSystemId` of ATIS messages: the intercept access point (1 to 15 VisibleString
    /// characters); `None` uses the operator identifier when it fits.
    pub iap_system_id: Option<String>,
}

impl MediatorSettings {
    /// Settings with spools below `spool_dir` (default [`SpoolConfig`]), no optional PSHeader
    /// identifier, no TLS, keep-alives every 5 s answered within 10 s, and reconnection
    /// backoff from 100 ms to 1 s.
    pub fn new(
        operator_id: OperatorId,
        keepalive_liid: Liid,
        spool_dir: impl Into<PathBuf>,
    ) -> Self {
        let spool_dir = spool_dir.into();
        Self {
            operator_id,
            network_element_id: None,
            authorization_country_code: None,
            delivery_country_code: None,
            spool: SpoolConfig::new(&spool_dir),
            spool_dir,
            tls: None,
            keepalive_interval: Duration::from_secs(5),
            keepalive_timeout: Duration::from_secs(10),
            backoff: (Duration::from_millis(100), Duration::from_secs(1)),
            keepalive_liid,
            iap_system_id: None,
        }
    }
}

/// Why the mediator refused an X2/X3 PDU. Every refusal is counted under its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Refusal {
    /// No active task has the PDU's XID.
    UnknownXid,
    /// The record's time is outside the task's validity window.
    OutsideWindow,
    /// Content (X3) for an IRI-only task.
    ContentForIriOnly,
    /// The PDU cannot be mediated (payload format, payload, correlation).
    Malformed,
    /// A destination's spool refused the record (disk bound): the spool alarm is raised.
    SpoolFull,
    /// The record is larger than a spool segment can hold.
    TooLarge,
    /// A destination's handover format has no message for the record (a call's SIP or
    /// media towards an ATIS-1000013 agency, which takes internet access only); counted
    /// per destination, the record's other destinations still get it.
    NotInFormat,
}

impl Refusal {
    /// The label used in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownXid => "unknown_xid",
            Self::OutsideWindow => "outside_window",
            Self::ContentForIriOnly => "content_for_iri_only",
            Self::Malformed => "malformed",
            Self::SpoolFull => "spool_full",
            Self::TooLarge => "too_large",
            Self::NotInFormat => "not_in_format",
        }
    }
}

/// Errors of provisioning calls.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediatorError {
    /// No such destination.
    #[error("destination {0} does not exist")]
    NoSuchDestination(DestinationId),
    /// The destination exists already.
    #[error("destination {0} exists already")]
    DestinationExists(DestinationId),
    /// A task still delivers to the destination.
    #[error("destination {did} is in use by task {xid}")]
    DestinationInUse {
        /// The destination.
        did: DestinationId,
        /// A task using it.
        xid: Xid,
    },
    /// The destination still holds undelivered records.
    #[error(
        "destination {did} still holds {pending} undelivered record(s); it is removed once the agency has them"
    )]
    NotDrained {
        /// The destination.
        did: DestinationId,
        /// Records not yet acknowledged by the agency.
        pending: u64,
    },
    /// An internal task failed.
    #[error("internal error: {0}")]
    Internal(String),
    /// No such task.
    #[error("task {0} does not exist")]
    NoSuchTask(Xid),
    /// The task exists already.
    #[error("task {0} exists already")]
    TaskExists(Xid),
    /// The task is not one the mediator can carry out: an IRI-only task naming an HI3
    /// destination.
    #[error("task {xid}: {reason}")]
    BadTask {
        /// The task.
        xid: Xid,
        /// What is wrong.
        reason: String,
    },
    /// The destination asks for TLS and the mediator has no TLS identity for the agencies.
    #[error(
        "destination {0} asks for TLS (tls://), but this mediator has no hi_tls configured: \
         configure hi_tls, or set the agency's tls = false in the ADMF"
    )]
    TlsUnavailable(DestinationId),
    /// The destination's handover format is not one this mediator produces.
    #[error(
        "destination {did}: the handover format {} cannot be produced (this mediator delivers \
         ETSI TS 102 232, LI-PS-PDU versions 1 to {} and IPAccessPDU versions 1 to {}, and \
         ATIS-1000013 version {} and ATIS-1000678 version {})",
        encode::format_name(*.format),
        li_asn1::pdu::LI_PS_PDU_VERSION,
        li_asn1::ipaccess::IP_ACCESS_VERSION,
        li_asn1::atis::access::VERSION,
        crate::calea::VERSION
    )]
    UnsupportedFormat {
        /// The destination.
        did: DestinationId,
        /// Its format.
        format: HandoverFormat,
    },
    /// The destination cannot be served as asked (an ATIS destination while the keep-alive
    /// LIID or the IAP system id cannot be an ATIS identifier).
    #[error("destination {did}: {reason}")]
    BadDestination {
        /// The destination.
        did: DestinationId,
        /// What is wrong.
        reason: String,
    },
    /// The destination's address is not `host:port`.
    #[error("destination {did}: the address {addr:?} is not host:port")]
    BadAddress {
        /// The destination.
        did: DestinationId,
        /// The address given.
        addr: String,
    },
    /// A spool could not be opened.
    #[error("spool of destination {did}: {source}")]
    Spool {
        /// The destination.
        did: DestinationId,
        /// The error.
        #[source]
        source: SpoolError,
    },
}

/// What became of one X2/X3 PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Spooled for this many destinations.
    Delivered(usize),
    /// Refused (nothing left the mediator).
    Refused(Refusal),
    /// A keep-alive or another PDU type that carries no record.
    Ignored,
}

impl HiDestination {
    /// Checks the address is `host:port` (an IPv6 host in brackets) with a port number.
    ///
    /// # Errors
    ///
    /// [`MediatorError::BadAddress`] naming the destination and the address.
    pub fn check_address(&self) -> Result<(), MediatorError> {
        let bad = || MediatorError::BadAddress {
            did: self.id,
            addr: self.addr.clone(),
        };
        let (host, port) = self.addr.rsplit_once(':').ok_or_else(bad)?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() || port.parse::<u16>().map_err(|_| bad())? == 0 {
            return Err(bad());
        }
        Ok(())
    }
}
