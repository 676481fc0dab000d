//! Synthetic traffic with ground truth, to test a probe (feature `synth`).
//!
//! - [`packet`]: byte-level builders of Ethernet (802.1Q), IPv4/IPv6, TCP, UDP, ICMP/ICMPv6,
//!   ARP, DNS and RADIUS accounting frames, with valid checksums and authenticators;
//! - [`scenario`]: a deterministic two-minute capture of a broadband access network (static
//!   IPv4 and IPv6 targets, RADIUS users who hold the same address one after the other,
//!   background traffic), written with [`PcapWriter`](crate::source::PcapWriter), and the
//!   oracle of what an intercept of each target must deliver
//!   ([`Scenario::expected_cc`](scenario::Scenario::expected_cc)), derived from the
//!   generator's own knowledge, never from a classifier;
//! - [`voice`]: SIP calls with SDP and G.711 RTP (IPv4 and IPv6, UDP, TCP, fragments, NAT,
//!   forks, holds, B2BUA legs...), one capture per situation, each with the IRI and CC an
//!   intercept of the target must produce, and a demo call whose audio is recomputable.
//!
//! ```
//! use li_capture::classify::{Classifier, ClassifierConfig};
//! use li_capture::synth::scenario::{self, Scenario, Target};
//! use li_core::{
//!     DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptRecord,
//!     InterceptScope, Liid, Task, ValidityWindow, Xid,
//! };
//!
//! let capture = Scenario::generate()?;
//! let task = Task::new(
//!     Liid::new(b"LIID-1")?,
//!     Xid::from_bytes([1; 16]),
//!     vec![Target::StaticV4.identifier()?],
//!     InterceptScope::IriAndCc,
//!     ValidityWindow::new(scenario::CAPTURE_START, None)?,
//!     vec![Destination::new(
//!         DestinationId::from_bytes([1; 16]),
//!         DeliveryAddress::new("lemf.example", 50_002, true),
//!         Some(DeliveryAddress::new("lemf.example", 50_003, true)),
//!         HandoverFormat::etsi_default(),
//!     )],
//! )?;
//! // The probe under test: here li-capture's own classifier.
//! let mut classifier = Classifier::new(ClassifierConfig::default());
//! let mut records = Vec::new();
//! classifier.activate(task, scenario::CAPTURE_START, &mut records);
//! for frame in &capture.frames {
//!     classifier.classify(frame.timestamp, scenario::LINK_TYPE, &frame.data, &mut records);
//! }
//! let delivered: Vec<&[u8]> = records
//!     .iter()
//!     .filter_map(|r| match r {
//!         InterceptRecord::Cc(cc) => Some(&cc.payload[..]),
//!         _ => None,
//!     })
//!     .collect();
//! let expected = capture.expected_cc_packets(Target::StaticV4, scenario::CAPTURE_START, None);
//! assert_eq!(delivered, expected);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod packet;
pub mod scenario;
pub mod voice;

/// Why a capture could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The pcap writer failed.
    #[error("cannot write the capture: {0}")]
    Write(#[from] std::io::Error),
    /// A time outside [`li_core::Timestamp`]'s range.
    #[error(transparent)]
    Time(#[from] li_core::Error),
    /// The generator produced no such message (a bug of the generator).
    #[error("the generated capture has no {0}")]
    MissingMessage(&'static str),
}
