//! The mediator's second enforcement of the warrant, a pure decision: whether an X2/X3 PDU
//! may be mediated under the active tasks, and if so as which records for which
//! destinations.
//!
//! [`admit`] takes the task table, the interface of each destination and the PDU, and
//! returns a [`Refusal`] or an [`Admitted`] record. It reads no clock (the record's own time,
//! from the PDU, decides the window), holds no lock and does no I/O; the
//! [`Mediator`](super::Mediator) calls it under one read of its task table per batch.
//!
//! The rules, in the order they are checked:
//!
//! 1. only X2 (IRI) and X3 (CC) PDUs carry records ([`Refusal::Malformed`] otherwise; the
//!    mediator's pipeline ignores keep-alives before asking);
//! 2. the XID must be an active task ([`Refusal::UnknownXid`]; a deactivated task is no
//!    longer in the table);
//! 3. content (X3) for an IRI-only task is refused ([`Refusal::ContentForIriOnly`]);
//! 4. the PDU's timestamp attribute must be present and valid ([`Refusal::Malformed`]: a
//!    record that cannot be placed in the window is never stamped with the mediator's clock
//!    instead); it is read at microsecond precision (nanoseconds truncated);
//! 5. the time must be in the task's window, `start <= time < end`, except that IRI stamped
//!    exactly at `end` is admitted (the probe's end-of-interception record)
//!    ([`Refusal::OutsideWindow`]);
//! 6. the Correlation ID is the CIN and must fit in 32 bits ([`Refusal::Malformed`]);
//! 7. the payload must be what the PDU type carries ([`x2x3_content`]: an IPv4 or IPv6
//!    packet, or a call's RTP/RTCP packet with its flow, for X3; a decodable BER
//!    `IRIPayload` in the "ETSI TS 102 232-1 defined payload" format, or a SIP message with
//!    its flow, for X2 — as the [X2/X3 contract](crate::x2x3::contract) writes them;
//!    [`Refusal::Malformed`] otherwise).
//!
//! An admitted record goes to each of the task's destinations serving its interface (CC to
//! HI3, IRI to HI2), one record each; destinations the table does not know are skipped.
//!
//! ```
//! use std::collections::HashMap;
//!
//! use li_core::{DestinationId, InterceptScope, Liid, Timestamp, ValidityWindow, Xid};
//! use li_handover::lemf::Interface;
//! use li_handover::mediator::admission::admit;
//! use li_handover::mediator::{MediationTask, Refusal};
//! use li_handover::x2x3::{Pdu, PayloadDirection, PduTimestamp, X3IpPacketEncoder};
//!
//! let xid = Xid::new_v4_from_random([1; 16]);
//! let (hi2, hi3) = (DestinationId::new_v4_from_random([2; 16]), DestinationId::new_v4_from_random([3; 16]));
//! let start = Timestamp::from_secs_micros(1_704_164_000, 0)?;
//! let window = ValidityWindow::new(start, None)?;
//! let task = MediationTask::builder(Liid::new(b"LIID-1")?, xid, InterceptScope::IriAndCc, window)
//!     .target("ipv4:192.0.2.1".parse()?)
//!     .destinations([hi2, hi3])
//!     .build()?;
//! let tasks = HashMap::from([(xid, task)]);
//! let interfaces = HashMap::from([(hi2, Interface::Hi2), (hi3, Interface::Hi3)]);
//!
//! let x3 = |time: Timestamp| -> Result<Pdu, Box<dyn std::error::Error>> {
//!     let mut octets = Vec::new();
//!     let ts = PduTimestamp::from_core(time).ok_or("time")?;
//!     X3IpPacketEncoder::new(xid, 7u64.to_be_bytes())
//!         .encode(&mut octets, 0, ts, PayloadDirection::FromTarget, &[0x45; 20])?;
//!     Ok(Pdu::decode(&octets)?.0)
//! };
//! let inside = x3(start)?;
//! let admitted = admit(&tasks, |d| interfaces.get(&d).copied(), &inside).map_err(|r| r.as_str())?;
//! assert_eq!(admitted.destinations, [hi3]); // CC goes to the HI3 destination only
//! assert_eq!(admitted.cin.value(), 7);
//!
//! let before = x3(Timestamp::from_secs_micros(1_704_163_999, 999_999)?)?;
//! let refused = admit(&tasks, |d| interfaces.get(&d).copied(), &before).err();
//! assert_eq!(refused, Some(Refusal::OutsideWindow));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;

use li_core::{Cin, DestinationId, InterceptScope, Timestamp, Xid};
use tracing::warn;

use super::{MediationTask, Refusal};
use crate::lemf::Interface;
use crate::x2x3::contract::{self, ContractError};
use crate::x2x3::{Pdu, PduType};

/// A record admitted for mediation: its task, time, CIN and content, and the destinations
/// that get one copy each.
#[derive(Clone, Debug, PartialEq)]
pub struct Admitted<'t, 'p> {
    /// The task it is mediated under.
    pub task: &'t MediationTask,
    /// The record's own time (the PDU's timestamp, microseconds).
    pub time: Timestamp,
    /// The communication it belongs to (the PDU's Correlation ID).
    pub cin: Cin,
    /// What it carries.
    pub content: Content<'p>,
    /// The task's destinations serving [`Admitted::interface`], in the task's order: one
    /// record each.
    pub destinations: Vec<DestinationId>,
    /// The Network Function ID the PDU carries: which network function (probe) intercepted
    /// ([`contract::network_function_id`]).
    pub nfid: Option<&'p [u8]>,
}

/// What an admitted record carries: the [X2/X3 contract](crate::x2x3::contract)'s reading
/// of the PDU, borrowed from it.
pub use crate::x2x3::contract::Content;

impl Admitted<'_, '_> {
    /// The interface the record goes out on: HI3 for CC, HI2 for IRI.
    pub fn interface(&self) -> Interface {
        interface(&self.content)
    }
}

/// The interface `content` goes out on: HI3 for CC and media, HI2 for IRI and SIP.
pub fn interface(content: &Content<'_>) -> Interface {
    match content {
        Content::Cc { .. } | Content::Media { .. } => Interface::Hi3,
        _ => Interface::Hi2,
    }
}

/// Decides whether `pdu` may be mediated under `tasks` (the active tasks by XID), and for
/// which destinations: `interface_of` says which interface a destination serves (`None` for
/// one that does not exist). See the [module documentation](self) for the rules.
///
/// # Errors
///
/// The [`Refusal`] naming the first rule the PDU breaks.
pub fn admit<'t, 'p>(
    tasks: &'t HashMap<Xid, MediationTask>,
    interface_of: impl Fn(DestinationId) -> Option<Interface>,
    pdu: &'p Pdu,
) -> Result<Admitted<'t, 'p>, Refusal> {
    let cc = match pdu.pdu_type {
        PduType::X2 => false,
        PduType::X3 => true,
        _ => return Err(Refusal::Malformed),
    };
    let task = tasks.get(&pdu.xid).ok_or(Refusal::UnknownXid)?;
    if cc && task.scope() == InterceptScope::IriOnly {
        return Err(Refusal::ContentForIriOnly);
    }
    // The record's own time decides the window; without a valid one it cannot be placed in
    // the warrant, and is refused (never stamped with our clock instead).
    let time = contract::record_time(pdu).map_err(|_| Refusal::Malformed)?;
    // The window is [start, end). The IRI closing a session at the window's end (the probe's
    // end-of-interception record) is stamped with the end itself: accepted for IRI, never
    // for content.
    let closing_iri = !cc && task.window().end() == Some(time);
    if !task.window().contains(time) && !closing_iri {
        return Err(Refusal::OutsideWindow);
    }
    let cin = contract::cin(&pdu.correlation_id).map_err(|_| Refusal::Malformed)?;
    let content = x2x3_content(pdu)?;
    let interface = interface(&content);
    let destinations = task
        .destinations()
        .iter()
        .copied()
        .filter(|did| interface_of(*did) == Some(interface))
        .collect();
    Ok(Admitted {
        task,
        time,
        cin,
        content,
        destinations,
        nfid: contract::network_function_id(pdu),
    })
}

/// The mediator's X2/X3 → record mapping: the [contract](contract::content)'s, so
/// what a probe writes is what the mediator reads (X3 IPv4/IPv6 Packet and RTP Packet, X2
/// ETSI TS 102 232-1 Defined Payload and SIP Message). Anything else is
/// [`Refusal::Malformed`].
///
/// # Errors
///
/// [`Refusal::Malformed`] for another PDU type or payload format, an X2 payload that does
/// not decode, or a voice PDU without its addresses or ports (these last are logged).
pub fn x2x3_content(pdu: &Pdu) -> Result<Content<'_>, Refusal> {
    contract::content(pdu).map_err(|error| {
        if !matches!(
            error,
            ContractError::PayloadFormat { .. } | ContractError::NotARecord { .. }
        ) {
            warn!(xid = %pdu.xid, %error, "X2/X3 PDU does not follow the contract");
        }
        Refusal::Malformed
    })
}

#[cfg(test)]
mod tests;
