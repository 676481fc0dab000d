//! Building blocks of the reference binaries: the daemons' configuration and start-up (the
//! product itself is in the published crates: `li_handover::mediator`, `li_handover::admf`,
//! ...), metrics exposition, the demo and the shipped sample capture.

pub mod admf;
pub mod cli;
pub mod demo;
pub mod lemf;
pub mod mediator;
pub mod metrics;
pub mod probe;
pub mod sample;
