//! Any document: X1 request and response decoding never panics, and whatever decodes
//! re-encodes to a document that decodes to the same value (hickory-style round trip).
#![no_main]

use li_handover::x1::{X1Request, X1Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = X1Request::from_xml(data) {
        let xml = request.to_xml().expect("a decoded request re-encodes");
        let again = X1Request::from_xml(&xml).expect("our encoding decodes");
        assert_eq!(again, request);
    }
    if let Ok(response) = X1Response::from_xml(data) {
        let xml = response.to_xml().expect("a decoded response re-encodes");
        let again = X1Response::from_xml(&xml).expect("our encoding decodes");
        assert_eq!(again, response);
    }
});
