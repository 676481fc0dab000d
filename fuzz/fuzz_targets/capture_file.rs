//! Any bytes as a pcap or pcapng file: the streaming reader never panics nor loops, and the
//! frames it returns survive a write (pcapng) and read round trip unchanged.
#![no_main]

use li_capture::source::{ByteOrder, FileReader, PcapngWriter, TSRESOL_MICROS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = FileReader::with_max_record_len(data, 64 * 1024) else {
        return;
    };
    let mut frames = Vec::new();
    // Every successful call consumes at least 12 octets or ends: bounded by the input size.
    for _ in 0..=data.len() {
        match reader.next_frame() {
            Ok(Some(f)) => frames.push((f.timestamp, f.link, f.data.to_vec(), f.original_len)),
            // Past a bad record the reader goes on by itself; an error is the end.
            Ok(None) | Err(_) => break,
        }
    }
    if frames.is_empty() {
        return;
    }
    let mut w = PcapngWriter::new(Vec::new(), ByteOrder::Little).expect("in memory");
    let mut interfaces = Vec::new();
    for (ts, link, bytes, original_len) in &frames {
        let id = match interfaces.iter().position(|l| l == link) {
            Some(i) => i as u32,
            None => {
                interfaces.push(*link);
                w.add_interface(*link, TSRESOL_MICROS).expect("in memory")
            }
        };
        w.write_frame_with_original_len(id, *ts, bytes, *original_len)
            .expect("in memory");
    }
    let file = w.into_inner();
    let mut again = FileReader::new(&file[..]).expect("our own file reads");
    for expected in &frames {
        let f = again
            .next_frame()
            .expect("our own file reads")
            .expect("as many frames");
        assert_eq!(
            (f.timestamp, f.link, f.data, f.original_len),
            (expected.0, expected.1, &expected.2[..], expected.3)
        );
    }
});
