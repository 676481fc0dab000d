//! Handover-neutral lawful-interception domain model.
//!
//! `li-core` holds the types every other crate of the suite agrees on: identifiers
//! ([`Liid`], [`Xid`], [`Cin`], ...), target identifiers ([`TargetIdentifier`]), time
//! ([`Timestamp`] with its GeneralizedTime and `MicroSecondTimeStamp` forms), warrants as
//! executed ([`Task`]), intercept records ([`CcRecord`], [`IriRecord`]) and sequence
//! numbering ([`SequenceAllocator`]). The ETSI TS 102 232 encodings (`li-asn1`) are
//! produced from these types; the US ATIS/PacketCable encodings, not written yet, are to be
//! produced from the same types ([`HandoverFormat`] names them, and an agency asking for one
//! is refused at provisioning until then).
//!
//! The crate is sans-IO: no sockets, files, clocks or async runtime. Time is always passed
//! in. Every value is built through a checked constructor that returns a precise
//! [`Error`], so a value of these types is valid by construction.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use li_core::{
//!     CcRecord, Cin, DeliveryAddress, Destination, DestinationId, HandoverFormat,
//!     InterceptScope, Liid, PayloadDirection, SequenceAllocator, SequenceKey, Task,
//!     Timestamp, ValidityWindow, Xid,
//! };
//!
//! // A warrant for one IPv4 address, delivering IRI and CC to one agency.
//! let start = Timestamp::parse_generalized_time("20240101000000Z")?;
//! let destination = Destination::new(
//!     "6ba7b810-9dad-11d1-80b4-00c04fd430c8".parse::<DestinationId>()?,
//!     DeliveryAddress::new("lea.example", 6000, true),
//!     Some(DeliveryAddress::new("lea.example", 6001, true)),
//!     HandoverFormat::etsi_default(),
//! );
//! let task = Task::builder(
//!     "LIID-0001".parse::<Liid>()?,
//!     Xid::new_v4_from_random([0x42; 16]),
//!     InterceptScope::IriAndCc,
//!     ValidityWindow::new(start, None)?,
//! )
//! .target("ipv4:192.0.2.1".parse()?)
//! .destination(destination)
//! .build()?;
//!
//! // A packet from the target, seen at a time the caller supplies.
//! let seen = Timestamp::from_secs_micros(1_704_164_645, 678_000)?;
//! assert!(task.matches_ip("192.0.2.1".parse()?));
//! assert!(task.may_deliver_cc(seen));
//! let record = CcRecord {
//!     xid: task.xid(),
//!     cin: Cin::new(1),
//!     timestamp: seen,
//!     direction: PayloadDirection::FromTarget,
//!     payload: Bytes::from_static(&[0x45, 0x00, 0x00, 0x14]),
//!     original_len: None,
//!     kind: li_core::CcKind::IpPacket,
//! };
//! assert_eq!(record.timestamp.to_generalized_time(), "20240102030405.678000Z");
//!
//! // Sequence numbers per destination, LIID and CIN.
//! let mut sequences = SequenceAllocator::new();
//! let key = SequenceKey {
//!     destination: task.destinations()[0].id,
//!     liid: task.liid(),
//!     cin: record.cin,
//! };
//! assert_eq!(sequences.next(key).value(), 0);
//! assert_eq!(sequences.next(key).value(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod checksum;
pub mod datagram;
pub mod error;
pub mod id;
pub mod media;
pub mod pcap;
pub mod record;
pub mod seq;
pub mod target;
pub mod time;
pub mod warrant;

pub use error::{Error, Result};
pub use id::{Cin, CountryCode, DestinationId, Liid, NetworkElementId, OperatorId, Xid};
pub use record::{
    AccessEvent, AccessEventType, AuthenticationType, CcKind, CcRecord, EndReason, InterceptRecord,
    InternetAccessType, IpVersion, IriEvent, IriRecord, IriType, MediaFlow, MediaProtocol,
    PayloadDirection, SipEvent,
};
pub use seq::{CinAllocator, SequenceAllocator, SequenceKey, SequenceNumber};
pub use target::{
    E164Number, IpPrefix, MacAddress, SipUri, TargetIdentifier, TargetKind, Username,
};
pub use time::{GENERALIZED_TIME_LEN, Timestamp, UtcDateTime};
pub use warrant::{
    DeliveryAddress, Destination, HandoverFormat, InterceptScope, Task, TaskBuilder,
    TaskDestination, ValidityWindow,
};

/// Runs the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
