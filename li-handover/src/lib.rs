//! X2/X3 (ETSI TS 103 221-2) transport between probe and mediator, and HI2/HI3 delivery of
//! ETSI TS 102 232-1 PS-PDUs to law enforcement agencies.
//!
//! **Not yet implemented.** This crate is reserved in the workspace so that the dependency
//! direction (`li-core` <- `li-asn1` <- `li-handover`) is fixed from the start; its contents
//! arrive with the handover issue. See `docs/ARCHITECTURE.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
