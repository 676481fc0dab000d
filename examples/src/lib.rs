//! Building blocks of the reference binaries: the daemons' configuration and start-up (the
//! mediation function itself is `li_handover::mediator`), the warrant store, metrics
//! exposition and the shipped sample capture.

pub mod admf;
pub mod bench;
pub mod cli;
pub mod demo;
pub mod lemf;
pub mod mediator;
pub mod metrics;
pub mod probe;
pub mod sample;
pub mod store;
