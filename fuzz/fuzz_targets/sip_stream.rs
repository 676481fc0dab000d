//! Any TCP payload, cut into segments: the SIP framer never panics, never buffers much more
//! than its bound, and frames the same messages wherever the stream is cut.
//!
//! Input: the first octet chooses the segment size (1..=256), the rest is the stream. The
//! driver is li-capture's `tests/capture/call_driver.rs`, shared with the replay of the
//! committed corpus (`tests/capture/sip_corpus.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../li-capture/tests/capture/call_driver.rs"]
mod driver;

fuzz_target!(|data: &[u8]| {
    driver::drive_stream(data);
});
