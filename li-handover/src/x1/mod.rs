//! X1 (ETSI TS 103 221-1): provisioning of tasks and destinations by the ADMF.
//!
//! - the typed message model: [`X1Request`] / [`X1Response`] containers of
//!   [`RequestMessage`]s / [`ResponseMessage`]s, each a [`MessageHeader`] (admfIdentifier,
//!   neIdentifier, messageTimestamp, version, x1TransactionId) and a [`RequestBody`] /
//!   [`ResponseBody`] named on the wire by its `xsi:type`;
//! - the XML codec ([`X1Request::from_xml`], [`X1Request::to_xml`] and the same on
//!   [`X1Response`]), written against the TS 103 221-1 XSD v1.22.1 and TS 103 280 v2.15.1:
//!   namespaces are matched by URI, never by prefix; decoding is bounded
//!   ([`DecodeLimits`]: document size and nesting depth), never panics, and its errors name
//!   the element path and the byte (`X1Request/ActivateTaskRequest/taskDetails/xId: not a
//!   UUID at byte 412`); encoding checks every value the XSD constrains, so what it writes
//!   validates;
//! - the transport ([`transport`]): X1 is an HTTP POST of the XML document over HTTPS with
//!   mutual TLS; [`transport::serve`] runs an NE's listener around an [`X1Handler`] and
//!   [`transport::X1Client`] is the ADMF's side.
//!
//! # Target identifiers
//!
//! XSD `TargetIdentifier` kinds map to [`li_core::TargetIdentifier`] as follows; every other
//! kind of the XSD (imsi, imei, tcpPort, emailAddress, impu, gtpuTunnelId, hashedIdentifier,
//! targetIdentifierExtension ...) is refused on decode with an error naming it, so a task is
//! never provisioned with some of its targets silently missing.
//!
//! | XSD element | li-core | notes |
//! |---|---|---|
//! | `ipv4Address` | `Ipv4Address` | |
//! | `ipv6Address` | `Ipv6Address` | written in the full form the XSD pattern requires (`2001:0db8:0000:...`); any RFC 4291 form is read |
//! | `ipv4Cidr` (`IPCIDR` choice: `IPv4CIDR` or `IPv6CIDR`) | `IpPrefix` | an IPv4 prefix is written as `ipv4Cidr/IPv4CIDR` |
//! | `ipv6Cidr` (`IPv6CIDR`) | `IpPrefix` | an IPv6 prefix is written here; `/0` cannot be (the XSD allows 1..=128) |
//! | `macAddress` | `MacAddress` | |
//! | `sipUri` | `SipUri` | |
//! | `e164Number` | `E164Number` | written as `e164Number` (digits only) |
//! | `telUri` | `E164Number` | read only when it is a global number `tel:+digits`; re-encoded as `e164Number` |
//! | `nai` | `Username` | the XSD has no "username" kind: a RADIUS `User-Name` is an RFC 7542 Network Access Identifier, so `nai` is its nearest (and li-core's own documented) equivalent |
//!
//! Target values never appear in error messages (they must not end up in ordinary logs).
//!
//! # Fields not modelled
//!
//! Elements the XSD allows but this model does not carry are refused on decode (an error
//! naming the element, which the server turns into an `ErrorResponse`), never dropped:
//! dSId destination sets, listOfServiceTypes, the various `*Extensions`,
//! listOfTrafficPolicyReferences, serviceScopingOptions, generic objects, the
//! `emailAddress` delivery address. The only elements ignored are empty optional lists
//! (`listOfGenericObjectResponseDetails` / `ListOfGenericObjectIDs` with no entries) and
//! `xsi:schemaLocation` hints; comments and processing instructions are skipped; DTDs are
//! refused.
//!
//! # Leniency
//!
//! The encoder writes exactly the XSD's forms. The decoder accepts a few values the XSD's
//! patterns would not, where the meaning is unambiguous: UUIDs in uppercase, IPv6 addresses
//! in any RFC 4291 form, timestamps with fewer or more than six fraction digits (RFC 3339;
//! re-encoded in UTC with six), `telUri` targets (re-encoded as `e164Number`). Whatever it
//! accepts it can re-encode, and the re-encoding decodes to the same value (the `x1_decode`
//! fuzz target checks this).
//!
//! # Example
//!
//! ```
//! use li_core::{TargetIdentifier, Timestamp, Xid};
//! use li_handover::x1::{
//!     DeliveryType, MessageHeader, RequestBody, TaskDetails, TransactionId, X1Request,
//!     X1Version,
//! };
//!
//! let header = MessageHeader {
//!     admf_identifier: "admf1".into(),
//!     ne_identifier: "mdf1".into(),
//!     message_timestamp: Timestamp::from_secs_micros(1_704_164_645, 0)?,
//!     version: X1Version::CURRENT,
//!     x1_transaction_id: TransactionId::new_v4_from_random([1; 16]),
//! };
//! let task = TaskDetails::new(
//!     "2b36a78b-b628-416d-bd22-65e63691aeb6".parse()?,
//!     vec![TargetIdentifier::sip_uri("sip:alice@example.net")?],
//!     DeliveryType::X2AndX3,
//!     Vec::new(),
//! );
//! let request = X1Request::single(header, RequestBody::ActivateTask(task));
//! let xml = request.to_xml()?;
//! assert_eq!(X1Request::from_xml(&xml)?, request);
//!
//! let broken = String::from_utf8(xml)?.replace("2b36a78b-b628", "2b36a78b+b628");
//! let err = X1Request::from_xml(broken.as_bytes()).unwrap_err();
//! assert!(err.to_string().starts_with("X1Request/ActivateTaskRequest/taskDetails/xId: not a UUID at byte "));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod model;
pub mod transport;
mod xml;

use std::io;

pub use model::{
    AckKind, DeliveryAddress, DeliveryType, DestinationDeliveryStatus, DestinationDetails,
    DestinationResponseDetails, ErrorInformation, ErrorResponse, HiAddress, HiAddressError,
    HiTransport, MediationDeliveryType, MediationDetails, MessageHeader, NeStatus, NeStatusDetails,
    OkStatus, Port, ProvisioningStatus, RequestBody, RequestMessage, RequestMessageType,
    ResponseBody, ResponseMessage, TaskDetails, TaskResponseDetails, TaskStatus, TransactionId,
    X1ErrorKind, X1Request, X1Response, X1Version, error_code,
};
pub use transport::{BoxFuture, X1Handler, X1Peer};
pub use xml::{COMMON_NAMESPACE, DecodeLimits, HASHED_ID_NAMESPACE, X1_NAMESPACE, XSI_NAMESPACE};

/// X1 codec and transport errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum X1Error {
    /// A document could not be decoded: `path` names the element (`X1Request/
    /// ActivateTaskRequest/taskDetails/xId`), `offset` the byte from the document's start.
    #[error("{path}: {reason} at byte {offset}")]
    Decode {
        /// Slash-separated element path (message elements by their `xsi:type`, list entries
        /// with a 1-based `[n]`).
        path: String,
        /// What is wrong.
        reason: String,
        /// Byte offset in the document.
        offset: usize,
    },
    /// A document is larger than the limit.
    #[error("X1 document is {len} bytes, over the limit of {limit}")]
    TooLarge {
        /// The document's size (or a lower bound, when reading stopped at the limit).
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A value cannot be written so that the document validates against the XSD.
    #[error("{path}: cannot encode: {reason}")]
    Encode {
        /// Slash-separated element path.
        path: String,
        /// Which XSD constraint the value breaks.
        reason: String,
    },
    /// TLS configuration or handshake failure.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// A socket error.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: io::Error,
    },
    /// An HTTP protocol error.
    #[error("{what}: {source}")]
    Http {
        /// What was being done.
        what: String,
        /// hyper's error.
        source: hyper::Error,
    },
    /// The peer answered with an HTTP status other than 200.
    #[error("X1 server answered HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the response body (at most 512 bytes, lossily decoded).
        body: String,
    },
    /// A connect or request deadline passed.
    #[error("{what} timed out after {} ms", after.as_millis())]
    Timeout {
        /// What timed out.
        what: &'static str,
        /// The limit.
        after: std::time::Duration,
    },
}

#[cfg(test)]
mod tests;
