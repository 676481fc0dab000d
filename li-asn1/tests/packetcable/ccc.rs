//! The CCC datagram framing: round trips of both forms, the hot-path encoder against the
//! appending one, short input.

use li_asn1::packetcable::ccc::{CccDatagram, CccEncoder, CccError, CccForm, NtpTimestamp, decode};
use li_core::Timestamp;
use proptest::prelude::*;

fn form() -> impl Strategy<Value = CccForm> {
    prop_oneof![Just(CccForm::Id), Just(CccForm::IdTimestamp)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn datagram_roundtrip(
        id in any::<u32>(),
        form in form(),
        secs in 0u64..4_102_444_800,
        micros in 0u32..1_000_000,
        packet in proptest::collection::vec(any::<u8>(), 0..1600),
    ) {
        let time = Timestamp::from_secs_micros(secs, micros).unwrap();
        let encoder = CccEncoder::new(id, form);
        let mut buf = vec![0u8; 2048];
        let n = encoder.encode(time, &packet, &mut buf).unwrap();
        prop_assert_eq!(n, encoder.datagram_len(packet.len()));
        prop_assert_eq!(n, form.header_len() + packet.len());
        let d = decode(&buf[..n], form).unwrap();
        prop_assert_eq!(d.ccc_id, id);
        prop_assert_eq!(d.payload, &packet[..]);
        match form {
            CccForm::Id => prop_assert_eq!(d.timestamp, None),
            CccForm::IdTimestamp => {
                let ntp = d.timestamp.unwrap();
                prop_assert_eq!(ntp, NtpTimestamp::from_timestamp(time));
                prop_assert_eq!(ntp.to_timestamp(), Some(time));
            }
        }
        // the appending encoder writes the same octets
        let mut appended = vec![0xee];
        encoder.encode_into(time, &packet, &mut appended);
        prop_assert_eq!(&appended[1..], &buf[..n]);
    }

    /// Any input either decodes into a header and the rest, or is shorter than the header.
    #[test]
    fn decode_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..40), form in form()) {
        match decode(&data, form) {
            Ok(d) => {
                prop_assert!(data.len() >= form.header_len());
                prop_assert_eq!(d.payload, &data[form.header_len()..]);
                prop_assert_eq!(d.ccc_id.to_be_bytes(), [data[0], data[1], data[2], data[3]]);
            }
            Err(CccError::Truncated { len, needed, .. }) => {
                prop_assert_eq!(len, data.len());
                prop_assert!(len < needed && needed <= form.header_len());
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }
}

#[test]
fn known_layout() {
    // 2024-01-02T03:04:05.5Z: NTP seconds 1704164645 + 2208988800 = 3913153445 (0xE93DFBA5).
    let time = Timestamp::from_secs_micros(1_704_164_645, 500_000).unwrap();
    let mut buf = [0u8; 16];
    let n = CccEncoder::new(0x0102_00ab, CccForm::IdTimestamp)
        .encode(time, &[0x45, 0, 0, 20], &mut buf)
        .unwrap();
    assert_eq!(
        buf[..n],
        [
            0x01, 0x02, 0x00, 0xab, 0xe9, 0x3d, 0xfb, 0xa5, 0x80, 0, 0, 0, 0x45, 0, 0, 20
        ]
    );
    let n = CccEncoder::new(0xdead_beef, CccForm::Id)
        .encode(time, &[0x60], &mut buf)
        .unwrap();
    assert_eq!(buf[..n], [0xde, 0xad, 0xbe, 0xef, 0x60]);
}

#[test]
fn short_input_names_the_field() {
    let e = decode(&[1, 2, 3], CccForm::Id).unwrap_err();
    assert_eq!(
        e,
        CccError::Truncated {
            field: "CCC identifier",
            len: 3,
            needed: 4
        }
    );
    assert!(e.to_string().contains("CCC identifier"), "{e}");
    let e = decode(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], CccForm::IdTimestamp).unwrap_err();
    assert_eq!(
        e,
        CccError::Truncated {
            field: "NTP timestamp",
            len: 11,
            needed: 12
        }
    );
    assert!(e.to_string().contains("NTP timestamp"), "{e}");
    // the 4-octet form with no payload is a datagram with an empty payload
    assert_eq!(
        decode(&[0, 0, 0, 7], CccForm::Id),
        Ok(CccDatagram {
            ccc_id: 7,
            timestamp: None,
            payload: &[]
        })
    );
}

#[test]
fn ntp_before_unix_epoch_is_none() {
    // era 0 second 1 (1900-01-01T00:00:01Z) has its top bit clear: read as era 1 (2036),
    // while 0x8000_0000 (1968) precedes 1970.
    let t = NtpTimestamp {
        seconds: 0x8000_0000,
        fraction: 0,
    };
    assert_eq!(t.to_timestamp(), None);
    let t = NtpTimestamp {
        seconds: 1,
        fraction: 0,
    };
    assert_eq!(t.to_timestamp().unwrap().unix_secs(), 2_085_978_497);
    assert_eq!(NtpTimestamp::from_bytes(t.to_bytes()), t);
}

/// The UDP payloads of the shared sample `pcli-udp.pcap` (ports 9000 and 9012, the datagrams
/// Wireshark dissects as `pcli` and `pcli12`): our decoder reads what Wireshark reads, and
/// our encoder writes the same octets for the same values.
#[test]
fn shared_sample_datagrams() {
    let read = |name: &str| {
        std::fs::read(format!(
            "{}/tests/data/packetcable/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let inner_src_dst = |p: &[u8]| ([p[12], p[13], p[14], p[15]], [p[16], p[17], p[18], p[19]]);

    let data = read("sample-pcli-9000.bin");
    let d = decode(&data, CccForm::Id).unwrap();
    assert_eq!((d.ccc_id, d.timestamp), (123_456, None));
    assert_eq!(
        inner_src_dst(d.payload),
        ([192, 168, 0, 1], [192, 168, 0, 2])
    );
    let mut out = Vec::new();
    let any_time = Timestamp::from_unix_micros(0).unwrap();
    CccEncoder::new(123_456, CccForm::Id).encode_into(any_time, d.payload, &mut out);
    assert_eq!(out, data);

    let data = read("sample-pcli-9012.bin");
    let d = decode(&data, CccForm::IdTimestamp).unwrap();
    assert_eq!(d.ccc_id, 123_456);
    let time = d.timestamp.unwrap().to_timestamp().unwrap();
    assert_eq!(
        time,
        Timestamp::from_secs_micros(1_704_164_645, 500_000).unwrap()
    );
    assert_eq!(
        inner_src_dst(d.payload),
        ([192, 168, 0, 1], [192, 168, 0, 2])
    );
    let mut out = Vec::new();
    CccEncoder::new(123_456, CccForm::IdTimestamp).encode_into(time, d.payload, &mut out);
    assert_eq!(out, data);
}
