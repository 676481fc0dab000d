//! Any sequence of SIP datagrams, media packets and timer ticks: the call tracker never
//! panics, every call begins once and ends once, each flow is released once after it was
//! bound, and once every timeout has passed nothing is left.
//!
//! The input format and the driver are li-capture's `tests/capture/call_driver.rs`, shared
//! with the replay of the committed corpus (`tests/capture/call_corpus.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../li-capture/tests/capture/call_driver.rs"]
mod driver;

fuzz_target!(|data: &[u8]| {
    driver::drive_calls(data);
});
