//! X2/X3 (ETSI TS 103 221-2) transport between probe and mediator, and HI2/HI3 delivery of
//! ETSI TS 102 232-1 PS-PDUs to law enforcement agencies.
//!
//! - [`x2x3`]: the sans-IO X2/X3 PDU codec of TS 103 221-2 clause 5 — [`x2x3::Pdu`] with
//!   typed conditional attributes, stream framing ([`x2x3::frame_len`]) and the pre-encoded
//!   X3 hot path for IP packets ([`x2x3::X3IpPacketEncoder`]); [`x2x3::contract`] is the
//!   mapping between li-core intercept records and X2/X3 PDUs that probe and mediator share;
//! - [`spool`]: the durable per-destination spool (append-only, CRC-checked segments that
//!   survive a kill -9, in-order acknowledgement, bounded disk use, group commit);
//! - [`numbering`]: sequence numbers per (LIID, CIN) of a destination that survive restarts
//!   (checkpoint plus replay of the spooled PDUs);
//! - [`hi`]: the mediator's HI2/HI3 delivery link — a record leaves the spool only when it
//!   was written and a later keep-alive was answered; keep-alives interleave with the
//!   backlog; reconnection with backoff;
//! - [`lemf`]: the agency-side receiver — accepts HI2/HI3 over TCP or TLS, answers
//!   keep-alives, tracks sequence gaps and repeats, writes JSON lines and a pcap per LIID;
//! - [`mediator`]: the mediation function — X2/X3 in, HI2/HI3 PS-PDUs out through a spool
//!   and a link per agency interface, the warrant enforced again by a pure admission
//!   decision, provisioned over X1 ([`mediator::MediatorX1`]);
//! - [`tls`]: mutual TLS 1.3 configurations (ring provider), handshakes that log why a peer
//!   was refused, and a development PKI (rcgen).
//!
//! - [`x2x3::transport`]: X2/X3 over mutual TLS between probe and mediator — a probe-side
//!   sender with a bounded queue whose drops are counted and logged, keep-alives and
//!   reconnection; a mediator-side listener that answers keep-alives and forwards PDUs.
//! - [`admf`]: the administration function — warrants ([`admf::store`]), the pure
//!   reconciliation [`admf::plan`] of X1 requests to the mediator and the probes, refusal
//!   back-off, the tokio driver [`admf::Admf`], and the operator's text of warrants and
//!   targets ([`admf::text`]).
//!
//! # Cargo features
//!
//! - `dev-pki`: the development PKI (`tls::DevPki`, rcgen).
//! - `sqlite`: the ADMF's warrant store in SQLite (`admf::store::SqliteStore`, rusqlite with
//!   bundled SQLite).
//!
//! # Example
//!
//! A POI sends an X3 PDU for an intercepted IPv4 packet; the MDF frames the stream and
//! decodes it.
//!
//! ```
//! use li_core::{Timestamp, Xid};
//! use li_handover::x2x3::{
//!     frame_len, Pdu, PayloadDirection, PayloadFormat, PduTimestamp, PduType,
//!     X3IpPacketEncoder, DEFAULT_MAX_PDU_LEN,
//! };
//!
//! let xid: Xid = "2b36a78b-b628-416d-bd22-65e63691aeb6".parse()?;
//! let seen = Timestamp::from_secs_micros(1_704_164_645, 123_456)?;
//! let encoder = X3IpPacketEncoder::new(xid, [0, 0, 0, 0, 0, 0, 0, 42]);
//! let packet = [0x45, 0, 0, 20, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2];
//!
//! let mut stream = Vec::new();
//! let ts = PduTimestamp::from_core(seen).expect("before 2106");
//! encoder.encode(&mut stream, 1, ts, PayloadDirection::FromTarget, &packet)?;
//! Pdu::keepalive(2).encode_into(&mut stream)?;
//!
//! let mut received = Vec::new();
//! let mut rest = &stream[..];
//! while let Some(len) = frame_len(rest, DEFAULT_MAX_PDU_LEN)? {
//!     let (pdu, used) = Pdu::decode(rest)?;
//!     assert_eq!(used, len);
//!     received.push(pdu);
//!     rest = rest.get(len..).unwrap_or_default();
//! }
//! assert_eq!(received[0].pdu_type, PduType::X3);
//! assert_eq!(received[0].payload_format, PayloadFormat::Ipv4Packet);
//! assert_eq!(received[0].xid, xid);
//! assert_eq!(received[0].timestamp().and_then(PduTimestamp::to_core), Some(seen));
//! assert_eq!(&received[0].payload[..], &packet[..]);
//! assert_eq!(received[1], Pdu::keepalive(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admf;
pub mod audit;
pub mod calea;
pub mod hi;
pub mod lemf;
pub mod mediator;
pub mod numbering;
mod retry;
pub mod spool;
pub mod tls;
pub mod x1;
pub mod x2x3;

#[cfg(test)]
mod testlog;
