//! SIP and SDP parsing and SIP target matching, sans-IO: the front end of voice
//! interception (ETSI TS 102 232-5).
//!
//! A probe sees the signalling of the calls it must intercept: SIP over UDP datagrams or TCP
//! streams (RFC 3261), with SDP bodies (RFC 8866) saying where each call's media goes. This
//! module turns those octets into typed, borrowed values and says which targets a message
//! concerns; [`call`] builds the calls on top (dialog state machine, binding of RTP flows
//! to calls).
//!
//! - [`SipMessage::parse`]: one message from a datagram or a stream frame; start line, a
//!   fixed index of header fields (compact forms, folding, any case), the body by
//!   Content-Length; accessors for Call-ID, CSeq, From/To and their tags, Via branch,
//!   Contact, Content-Type, and [`SipMessage::sdp`].
//! - [`StreamFramer`]: messages out of a TCP flow, bounded, with resynchronisation.
//! - [`multipart`]: the SDP part of a `multipart/*` body.
//! - [`sdp`]: [`Sdp::parse`] and the resolved [`MediaStream`]s (RTP and RTCP transport
//!   addresses, direction).
//! - [`uri`]: SIP, SIPS and tel URIs, E.164 normalisation, identity comparison.
//! - [`SipMessage::identities`] and [`SipTargets`]: who a message names, and which
//!   interception targets ([`li_core::TargetIdentifier::SipUri`], `E164Number`,
//!   `Username`) that concerns, in which header.
//! - [`call`]: the call tracker on top of all this: [`CallTracker`] turns the messages into
//!   calls (dialog state, IRI-Begin/Continue/End), binds their RTP/RTCP flows from the SDP
//!   and says which call a media packet belongs to.
//!
//! Nothing here panics on any input or allocates per message, apart from the framer's flow
//! buffer (bounded) and the caller's output vector for matches. Errors are [`SipError`]s
//! naming the element and its offset, never carrying header values (identities may not
//! end up in logs).
//!
//! ```
//! use li_capture::sip::{IdentitySource, SipMessage, SipTargets};
//!
//! let mut targets = SipTargets::new();
//! targets.insert("sip:bob@biloxi.example.com".parse()?)?;
//!
//! let datagram = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8\r\n\
//!     From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
//!     To: Bob <sip:bob@biloxi.example.com>\r\n\
//!     Call-ID: a84b4c76e66710\r\n\
//!     CSeq: 314159 INVITE\r\n\
//!     Content-Type: application/sdp\r\n\
//!     Content-Length: 114\r\n\
//!     \r\n\
//!     v=0\r\n\
//!     o=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\n\
//!     s=-\r\n\
//!     c=IN IP4 192.0.2.101\r\n\
//!     t=0 0\r\n\
//!     m=audio 49172 RTP/AVP 0\r\n";
//! let msg = SipMessage::parse(datagram)?;
//!
//! let mut hits = Vec::new();
//! targets.match_message(&msg, &mut hits);
//! let sources: Vec<_> = hits.iter().map(|h| h.source).collect();
//! assert_eq!(sources, [IdentitySource::RequestUri, IdentitySource::To]);
//!
//! let sdp = msg.sdp().expect("an SDP body")?;
//! let audio = sdp.streams().next().expect("one m= line");
//! assert_eq!(audio.rtp, Some("192.0.2.101:49172".parse()?));
//! assert_eq!(audio.rtcp, Some("192.0.2.101:49173".parse()?));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod call;
mod error;
pub mod framing;
pub mod message;
pub mod multipart;
pub mod sdp;
pub mod target;
pub mod uri;

pub use call::{CallConfig, CallEvent, CallHandle, CallTracker};
pub use error::{Result, SipError};
pub use framing::{FramerStats, StreamFramer};
pub use message::{
    CSeq, ContentType, Header, HeaderName, MAX_HEADERS, Method, NameAddr, SipMessage, StartLine,
    Via,
};
pub use sdp::{Direction, MediaStream, Sdp};
pub use target::{Identities, Identity, IdentitySource, IdentityValue, SipTargets, TargetMatch};
pub use uri::{GlobalNumber, ListValues, SipUriRef, TelUri, Uri, split_list};
