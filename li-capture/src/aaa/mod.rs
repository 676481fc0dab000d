//! RADIUS accounting and DHCPv4 parsers: who is using which address.
//!
//! A probe on a tap sees the AAA traffic of an access network next to the user traffic. RADIUS
//! accounting (RFC 2866) binds a username, and a MAC address sent as Calling-Station-Id, to
//! the addresses a session uses; DHCP (RFC 2131) binds a MAC address to a leased address.
//! With these bindings the classifier can intercept a target known only by username or MAC
//! address, and report session start, update and end as
//! IRI access events (TS 102 232-3 clause 7.1, `IPIRI`), the raw AAA message included
//! (`rawAAAData`).
//!
//! - [`radius`]: [`parse_accounting`] for Accounting-Requests, over [`radius::RadiusPacket`],
//!   a checked header with a bounded attribute iterator (RFC 2865, 2866, 2869, 3162, 4818,
//!   6911);
//! - [`dhcp`]: [`parse_dhcpv4`] for DHCPv4 messages with relay agent information (RFC 2131,
//!   2132, 3046, 3396).
//!
//! Both are sans-IO: they take the UDP payload (the decoder extracts it; port selection is the
//! caller's) and return typed values or an [`AaaError`] naming the attribute or option and its
//! offset. Neither panics on any input.
//!
//! ```
//! use std::net::Ipv4Addr;
//!
//! use li_capture::aaa::{parse_accounting, AcctStatusType};
//!
//! // Accounting-Request (code 4), Identifier 7, Length 38; Authenticator not checked.
//! let mut payload = vec![4, 7, 0, 38];
//! payload.extend_from_slice(&[0; 16]);
//! payload.extend_from_slice(&[40, 6, 0, 0, 0, 1]); // Acct-Status-Type = Start
//! payload.extend_from_slice(&[1, 6, b'b', b'o', b'b', b'!']); // User-Name = "bob!"
//! payload.extend_from_slice(&[8, 6, 192, 0, 2, 10]); // Framed-IP-Address = 192.0.2.10
//!
//! let request = parse_accounting(&payload)?.expect("an Accounting-Request");
//! assert_eq!(request.status, AcctStatusType::Start);
//! assert_eq!(request.user_name.as_deref(), Some(&b"bob!"[..]));
//! assert_eq!(request.framed_ip_address, Some(Ipv4Addr::new(192, 0, 2, 10)));
//! assert_eq!(request.raw_len, payload.len());
//!
//! // An Accounting-Response is not an error, just not a request.
//! payload[0] = 5;
//! assert_eq!(parse_accounting(&payload)?, None);
//! # Ok::<(), li_capture::aaa::AaaError>(())
//! ```

pub mod dhcp;
mod error;
pub mod radius;

pub use dhcp::{DhcpMessage, DhcpMessageType, parse_dhcpv4};
pub use error::{AaaError, Result};
pub use radius::{AccountingRequest, AcctStatusType, parse_accounting};
