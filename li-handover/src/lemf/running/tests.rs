//! [`start`] and [`RunningReceiver::stop`] over loopback TCP.

use li_asn1::ber::frame_len;
use li_asn1::{HeaderSettings, PayloadDirection, PsPdu, TriPayload};
use li_core::{
    AccessEvent, AccessEventType, Cin, IriEvent, IriRecord, IriType, Liid, OperatorId, Timestamp,
    Xid,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;
use crate::lemf::{DEFAULT_MAX_PDU_LEN, ReceiverConfig};

/// Sends `bytes` (ending in a keep-alive) and waits for the keep-alive's answer: everything
/// before it is then stored.
async fn send_and_confirm(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    while frame_len(&answer, DEFAULT_MAX_PDU_LEN).unwrap().is_none() {
        assert!(stream.read_buf(&mut answer).await.unwrap() > 0, "closed");
    }
    assert!(matches!(
        PsPdu::decode(&answer).unwrap().payload,
        li_asn1::Payload::TriPayload(TriPayload::KeepAliveResponse)
    ));
}

#[tokio::test]
async fn both_listeners_serve_and_stop_stores_everything_with_the_peers_still_connected() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::new(ReceiverConfig::new(dir.path())).unwrap();
    let any = "127.0.0.1:0".parse().unwrap();
    let running = start(receiver, any, any, None).await.unwrap();
    assert_ne!(running.hi2_addr.port(), 0);
    assert_ne!(running.hi3_addr.port(), 0);

    let liid = Liid::new(b"LIID-S").unwrap();
    let s = HeaderSettings::new(liid, OperatorId::new(b"OP").unwrap());
    let time = Timestamp::from_secs_micros(1_800_000_000, 0).unwrap();
    let packet = [
        0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    let mut cc = Vec::new();
    for seq in 0..2 {
        s.ip_cc_pdu(
            Cin::new(1),
            seq,
            time,
            PayloadDirection::FromTarget,
            &packet,
        )
        .encode_into(&mut cc);
    }
    s.tri_pdu(0, time, TriPayload::KeepAlive)
        .encode_into(&mut cc);
    let mut hi3 = TcpStream::connect(running.hi3_addr).await.unwrap();
    send_and_confirm(&mut hi3, &cc).await;

    let record = IriRecord {
        xid: Xid::from_bytes([7; 16]),
        cin: Cin::new(1),
        timestamp: time,
        iri_type: IriType::Begin,
        event: IriEvent::Access(AccessEvent::new(AccessEventType::AccessAccept)),
    };
    let mut iri = Vec::new();
    s.iri_pdu(0, &record).unwrap().encode_into(&mut iri);
    s.tri_pdu(0, time, TriPayload::KeepAlive)
        .encode_into(&mut iri);
    let mut hi2 = TcpStream::connect(running.hi2_addr).await.unwrap();
    send_and_confirm(&mut hi2, &iri).await;

    let seen = running.summary();
    let hi2_addr = running.hi2_addr;
    assert_eq!((seen.liids[&liid].iri, seen.liids[&liid].cc), (1, 2));
    // Both peers stay connected: stopping does not wait for them to hang up.
    let summary = running.stop().await;
    assert_eq!(summary, seen);
    let lines = std::fs::read_to_string(&summary.records_path).unwrap();
    assert_eq!(lines.lines().count(), 3, "{lines}");
    // The listeners are closed.
    assert!(TcpStream::connect(hi2_addr).await.is_err());
    drop((hi2, hi3));
}
