//! PacketCable decoders on arbitrary input: the PCESP `CdcPdu` (no panic; whatever decodes
//! re-encodes to something that decodes to the same value, whose encoding is a fixed point)
//! and the CCC datagram framing in both forms (the header and payload split re-encodes to
//! the input).
#![no_main]

use li_asn1::packetcable::CdcPdu;
use li_asn1::packetcable::ccc::{CccEncoder, CccForm, NtpTimestamp, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = CdcPdu::decode(data) {
        let octets = p.encode();
        let again = CdcPdu::decode(&octets).expect("our own encoding decodes");
        assert_eq!(again, p);
        assert_eq!(again.encode(), octets);
    }
    for form in [CccForm::Id, CccForm::IdTimestamp] {
        let Ok(d) = decode(data, form) else {
            assert!(data.len() < form.header_len());
            continue;
        };
        assert_eq!(d.payload.len() + form.header_len(), data.len());
        let encoder = CccEncoder::new(d.ccc_id, form);
        match d.timestamp {
            None => {
                let mut out = Vec::new();
                let time = li_core::Timestamp::from_unix_micros(0).expect("epoch");
                encoder.encode_into(time, d.payload, &mut out);
                assert_eq!(out, data);
            }
            Some(ntp) => {
                if let Some(time) = ntp.to_timestamp() {
                    let back = NtpTimestamp::from_timestamp(time);
                    assert_eq!(back.to_timestamp(), Some(time));
                    let mut out = vec![0; encoder.datagram_len(d.payload.len())];
                    let n = encoder.encode(time, d.payload, &mut out).expect("sized");
                    let again = decode(&out[..n], form).expect("our own datagram decodes");
                    assert_eq!((again.ccc_id, again.payload), (d.ccc_id, d.payload));
                    assert_eq!(again.timestamp, Some(back));
                }
            }
        }
    }
});
