//! Capture, decoding and target matching for lawful-interception probes.
//!
//! - [`source`]: frames from pcap and pcapng files (streaming, constant memory) and, with the
//!   `live` feature, from a Linux interface (AF_PACKET);
//! - [`decode`]: Ethernet, 802.1Q/QinQ, MPLS, IPv4/IPv6 (options, extension headers,
//!   fragments), TCP/UDP/ICMP, and mirror encapsulations (GRE, ERSPAN II/III, VXLAN) down to
//!   the IP packet a warrant is about;
//! - [`aaa`]: RADIUS accounting and DHCPv4 parsers;
//! - [`sip`]: SIP (RFC 3261) and SDP (RFC 8866) parsing, SIP over TCP framing, and
//!   matching SIP messages against SIP URI, E.164 and username targets (the front end of
//!   voice interception, TS 102 232-5);
//! - [`classify`]: the sans-IO classifier that turns (timestamp, frame) into intercept
//!   records for the tasks a packet belongs to, tracking RADIUS/DHCP sessions to bind
//!   usernames and MAC addresses to addresses, and SIP calls (over UDP, TCP and IP
//!   fragments, on the configured SIP ports) to give SIP URI, E.164 and username targets
//!   their calls' SIP as IRI and their RTP/RTCP as CC;
//! - `synth` (feature `synth`): synthetic traffic to test a probe with: frame builders and a
//!   deterministic access-network capture with its ground truth (what each target's intercept
//!   must deliver).
//! - `probe` (feature `probe`): the point of interception around the classifier — X1
//!   provisioning (HTTPS, mutual TLS) or in process, capture file replay and live capture,
//!   X2/X3 delivery over mutual TLS by the `li_handover::x2x3::contract` (IP packets, SIP
//!   messages, RTP packets), delivery reports
//!   and the capture-loss alarm.
//!
//! # Features
//!
//! - `live`: live capture from a Linux interface (AF_PACKET, a `TPACKET_V3` memory-mapped
//!   ring; `nix` and `libc`), in [`source`] and, with `probe`, `Probe::capture_live`.
//! - `probe`: the `probe` module; it adds `li-handover` (X1, X2/X3, TLS, the audit log),
//!   `tokio`, `tokio-rustls`, `tracing` and `serde_json`. Without it the crate is sans-IO
//!   apart from its capture sources.
//! - `synth`: the `synth` module (no extra dependency). Off by default: a probe does not
//!   need it, its tests do.
//!
//! ```
//! use li_capture::LinkType;
//! use li_capture::classify::{Classifier, ClassifierConfig};
//! use li_core::{
//!     DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptRecord,
//!     InterceptScope, Liid, Task, Timestamp, ValidityWindow, Xid,
//! };
//!
//! let now = Timestamp::from_secs_micros(1_700_000_000, 0)?;
//! let task = Task::new(
//!     Liid::new(b"LIID-1")?,
//!     Xid::from_bytes([1; 16]),
//!     vec!["ipv4:192.0.2.7".parse()?],
//!     InterceptScope::IriAndCc,
//!     ValidityWindow::new(now, None)?,
//!     vec![Destination::new(
//!         DestinationId::from_bytes([1; 16]),
//!         DeliveryAddress::new("lemf.example", 50_002, true),
//!         Some(DeliveryAddress::new("lemf.example", 50_003, true)),
//!         HandoverFormat::etsi_default(),
//!     )],
//! )?;
//! let mut classifier = Classifier::new(ClassifierConfig::default());
//! let mut records = Vec::new();
//! classifier.activate(task, now, &mut records); // IRI-Begin for the static target
//!
//! // A raw IPv4 packet from the target.
//! let mut packet = vec![0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 253, 0, 0];
//! packet.extend_from_slice(&[192, 0, 2, 7, 198, 51, 100, 1]);
//! classifier.classify(now, LinkType::RawIp, &packet, &mut records);
//! assert!(matches!(&records[1], InterceptRecord::Cc(cc) if cc.payload == packet));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
// Without `live` no unsafe code at all; with it, only the TPACKET_V3 ring module
// (`source::live::ring`) allows it.
#![cfg_attr(not(feature = "live"), forbid(unsafe_code))]
#![cfg_attr(feature = "live", deny(unsafe_code))]
#![warn(missing_docs)]

pub mod aaa;
pub mod classify;
pub mod decode;
mod hash;
mod link;
#[cfg(feature = "probe")]
pub mod probe;
pub mod sip;
pub mod source;
#[cfg(feature = "synth")]
pub mod synth;

pub use link::LinkType;
