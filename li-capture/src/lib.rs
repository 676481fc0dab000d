//! Capture (pcap/pcapng files and live interfaces), packet decoding, target matching and
//! RADIUS/DHCP session tracking for lawful-interception probes.
//!
//! **Not yet implemented.** This crate is reserved in the workspace so that the dependency
//! direction (`li-core` <- `li-capture`) is fixed from the start; its contents arrive with the
//! capture issue. See `docs/ARCHITECTURE.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
