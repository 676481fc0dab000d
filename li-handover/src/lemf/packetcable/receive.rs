//! The receiver's PacketCable paths: call data read on a HI2 connection, and the call-content
//! (CCC) listener over UDP.

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use li_asn1::ipmm::FrameType;
use li_core::Timestamp;
use serde_json::{Value, json};
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use super::{Attribution, CallData, CccEvent, Datagram, FORMAT, Held, datagram};
use crate::lemf::output::{Batch, Command};
use crate::lemf::voice::{VoiceKind, VoiceRecord};
use crate::lemf::{Connection, Interface, LineWriter, Receiver, State, decimal};

/// The largest UDP payload: the receive buffer, allocated once per listener.
const MAX_DATAGRAM: usize = 65_535;
/// Datagrams read at most per lock of the receiver's state.
const BURST: usize = 64;
/// How often held datagrams and closed identifiers are checked for their time running out.
const EXPIRE_EVERY: Duration = Duration::from_secs(1);
/// The pause after a failed receive before the next one.
const RECEIVE_BACKOFF: Duration = Duration::from_millis(100);
/// Datagrams still queued in the socket that a stopping listener reads at most.
const DRAIN_ON_STOP: usize = 65_536;

impl Receiver {
    /// Receives PacketCable call content (CCC datagrams, `pcli12` form: see the
    /// [module documentation](crate::lemf#packetcable)) on `socket` until the receiver stops
    /// ([`Receiver::shutdown`]); then it reads what the socket still queues, records every
    /// datagram still held as unattributed, hands everything to the writer and returns.
    ///
    /// Nothing is acknowledged to the sender. Returns an error only when the socket has no
    /// local address or the receiver's output has stopped.
    pub async fn serve_ccc(&self, socket: UdpSocket) -> io::Result<()> {
        let stop = self.inner.stop.subscribe();
        self.ccc_loop(socket, stop).await
    }

    /// A subscription to the stop signal, taken before [`Self::ccc_loop`] is spawned so that
    /// a stop right after the start still waits for the listener.
    pub(in crate::lemf) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.inner.stop.subscribe()
    }

    /// [`Self::serve_ccc`] with its stop subscription.
    pub(in crate::lemf) async fn ccc_loop(
        &self,
        socket: UdpSocket,
        mut stop: watch::Receiver<bool>,
    ) -> io::Result<()> {
        let local = socket.local_addr()?;
        tracing::info!(%local, "LEMF PacketCable call-content listener");
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut batch = self.inner.writer.batch(Interface::Hi3);
        let mut lines = LineWriter::default();
        let mut given_up = Vec::new();
        let mut tick = tokio::time::interval(EXPIRE_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut running = !*stop.borrow_and_update();
        let keep_raw = self.inner.config.keep_raw;
        loop {
            let (first, expire) = if running {
                tokio::select! {
                    biased;
                    _ = stop.changed() => {
                        running = false;
                        (None, false)
                    }
                    _ = tick.tick() => (None, true),
                    read = socket.recv_from(&mut buf) => (Some(read), false),
                }
            } else {
                (None, false)
            };
            let now = Timestamp::from_system_time(SystemTime::now());
            let mut failed = false;
            let changed = {
                let mut state = self.inner.state();
                let mut sink = Sink {
                    batch: &mut batch,
                    lines: &mut lines,
                    given_up: &mut given_up,
                    raw: keep_raw.then_some(local),
                };
                let mut changed = false;
                if let Some(read) = first {
                    changed = true;
                    match read {
                        Ok((n, peer)) => {
                            let bytes = buf.get(..n).unwrap_or_default();
                            sink.datagram(bytes, Some(peer), now, &mut state);
                        }
                        Err(error) => {
                            tracing::warn!(%local, %error, "CCC receive failed");
                            failed = true;
                        }
                    }
                    // What else is queued, under the same lock.
                    for _ in (1..BURST).take_while(|_| !failed) {
                        match socket.try_recv_from(&mut buf) {
                            Ok((n, peer)) => {
                                let bytes = buf.get(..n).unwrap_or_default();
                                sink.datagram(bytes, Some(peer), now, &mut state);
                            }
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                            Err(error) => {
                                tracing::warn!(%local, %error, "CCC receive failed");
                                break;
                            }
                        }
                    }
                }
                if expire {
                    state.ccc.expire(now, sink.given_up);
                }
                if !running {
                    // Stopping: what the socket queues is read, what is held given up.
                    for _ in 0..DRAIN_ON_STOP {
                        match socket.try_recv_from(&mut buf) {
                            Ok((n, peer)) => {
                                let bytes = buf.get(..n).unwrap_or_default();
                                sink.datagram(bytes, Some(peer), now, &mut state);
                            }
                            Err(_) => break,
                        }
                    }
                    state.ccc.give_up_all(sink.given_up);
                    changed = true;
                }
                changed |= !sink.given_up.is_empty();
                sink.give_up(&mut state);
                changed
            };
            if changed {
                self.inner.changes.changed();
            }
            if failed {
                // A socket that keeps failing is not spun on.
                tokio::time::sleep(RECEIVE_BACKOFF).await;
            }
            if !batch.is_empty() {
                let full = std::mem::replace(&mut batch, self.inner.writer.batch(Interface::Hi3));
                if !self.inner.writer.send(Command::Write(full)).await {
                    return Err(io::Error::other("the output writer has stopped"));
                }
            }
            if !running {
                break;
            }
        }
        tracing::info!(%local, "LEMF PacketCable call-content listener stopped");
        Ok(())
    }

    /// A call-data message received at `now`: an IRI line, a line of its call's ladder, and
    /// the binding (or closing) of its CCC identifiers, which records the datagrams held for
    /// them. Nothing is sent back.
    pub(in crate::lemf) fn on_packetcable(
        &self,
        data: CallData,
        now: Timestamp,
        conn: &mut Connection,
        state: &mut State,
    ) {
        let CallData {
            liid,
            call,
            time,
            name,
            iri_type,
            ccc,
            mut fields,
        } = data;
        conn.stats.iri += 1;
        conn.packetcable = true;
        conn.latency.observe(now, Some(time));
        let mut cin = call.as_ref().map(|c| state.pc_calls.cin(liid, c));
        let mut released = Vec::new();
        match ccc {
            CccEvent::None => {}
            CccEvent::Bind(ids, target) => {
                state.ccc.bind(ids, (liid, cin), target, &mut released);
            }
            CccEvent::Close(ids) => {
                if let Some((bound, bound_cin)) = state.ccc.close(ids, liid, now)
                    && bound == liid
                {
                    cin = cin.or(bound_cin);
                }
            }
        }
        state.count(liid, 1, 0);
        fields.insert("interface".into(), json!(conn.interface.as_str()));
        fields.insert("liid".into(), json!(liid.to_string()));
        fields.insert("cin".into(), json!(cin));
        fields.insert("seq".into(), Value::Null);
        fields.insert("time".into(), json!(time.to_string()));
        fields.insert("kind".into(), json!("iri"));
        fields.insert("repeat".into(), json!(false));
        let line = Value::Object(fields).to_string();
        conn.batch.records.extend_from_slice(line.as_bytes());
        conn.batch.records.push(b'\n');
        if cin.is_some() {
            conn.batch.voice.push(VoiceRecord {
                liid,
                cin,
                seq: 0,
                time,
                repeat: false,
                kind: VoiceKind::CallData {
                    iri_type: Some(iri_type),
                    format: FORMAT,
                    message: name,
                },
            });
        }
        if !released.is_empty() {
            let mut given_up = Vec::new();
            let mut sink = Sink {
                batch: &mut conn.batch,
                lines: &mut conn.lines,
                given_up: &mut given_up,
                raw: None,
            };
            for held in released {
                sink.released(&held, state);
            }
        }
    }
}

/// Where the call-content path formats its records.
struct Sink<'a> {
    batch: &'a mut Batch,
    lines: &'a mut LineWriter,
    /// Held datagrams given up, to be recorded unattributed.
    given_up: &'a mut Vec<Held>,
    /// `keep_raw`: the listener's address, for the raw copy of each datagram.
    raw: Option<SocketAddr>,
}

impl Sink<'_> {
    /// A datagram received at `now`: recorded if its identifier is bound, else held.
    fn datagram(
        &mut self,
        bytes: &[u8],
        peer: Option<SocketAddr>,
        now: Timestamp,
        state: &mut State,
    ) {
        state.ccc.stats.datagrams += 1;
        if let (Some(local), Some(peer)) = (self.raw, peer)
            && !self.batch.ccc_raw_record(now, peer, local, bytes)
        {
            tracing::warn!(%peer, len = bytes.len(), "CCC datagram too long for its raw copy");
        }
        match datagram(bytes) {
            Datagram::Malformed(why) => {
                state.ccc.stats.malformed += 1;
                tracing::warn!(?peer, len = bytes.len(), %why, "malformed CCC datagram; skipped");
            }
            Datagram::Content {
                ccc_id,
                time,
                packet,
            } => match state.ccc.attribute(ccc_id, packet) {
                Some(to) => {
                    state.ccc.stats.attributed += 1;
                    state.count(to.liid, 0, 1);
                    self.attributed(ccc_id, &to, time.unwrap_or(now), packet);
                }
                None => state.ccc.hold(ccc_id, bytes, now, self.given_up),
            },
        }
    }

    /// A held datagram whose `CCOpen` came.
    fn released(&mut self, held: &Held, state: &mut State) {
        let Datagram::Content {
            ccc_id,
            time,
            packet,
        } = datagram(&held.datagram)
        else {
            return;
        };
        let time = time.unwrap_or(held.received);
        match state.ccc.attribute(ccc_id, packet) {
            Some(to) => {
                state.ccc.stats.attributed += 1;
                state.ccc.stats.attributed_after_hold += 1;
                state.count(to.liid, 0, 1);
                self.attributed(ccc_id, &to, time, packet);
            }
            None => {
                state.ccc.stats.unattributed += 1;
                self.unattributed(ccc_id, time, packet);
            }
        }
    }

    /// Records every datagram given up as unattributed (one warning for them all).
    fn give_up(&mut self, state: &mut State) {
        if self.given_up.is_empty() {
            return;
        }
        let mut first = None;
        let mut count = 0u64;
        for held in std::mem::take(self.given_up) {
            if let Datagram::Content {
                ccc_id,
                time,
                packet,
            } = datagram(&held.datagram)
            {
                state.ccc.stats.unattributed += 1;
                count += 1;
                first.get_or_insert(ccc_id);
                self.unattributed(ccc_id, time.unwrap_or(held.received), packet);
            }
        }
        if let Some(id) = first {
            tracing::warn!(count, first_ccc = %format_args!("{id:08X}"),
                "CCC datagrams no CCOpen named in time: recorded unattributed");
        }
    }

    fn attributed(&mut self, ccc_id: u32, to: &Attribution, time: Timestamp, packet: &[u8]) {
        self.batch.pcap_record(to.liid, time, packet, packet.len());
        cc_line(
            self.lines,
            &mut self.batch.records,
            ccc_id,
            Some(to),
            time,
            packet.len(),
        );
        if to.cin.is_some() {
            let packet = self.batch.voice_octets(packet);
            self.batch.voice.push(VoiceRecord {
                liid: to.liid,
                cin: to.cin,
                seq: 0,
                time,
                repeat: false,
                kind: VoiceKind::Media {
                    direction: to.direction,
                    frame_type: Some(FrameType::IpFrame),
                    stream: None,
                    protocol: None,
                    packet,
                },
            });
        }
    }

    fn unattributed(&mut self, ccc_id: u32, time: Timestamp, packet: &[u8]) {
        self.batch.unattributed_record(time, packet);
        cc_line(
            self.lines,
            &mut self.batch.records,
            ccc_id,
            None,
            time,
            packet.len(),
        );
    }
}

/// Writes the CC line of a datagram without building a JSON value (keys in alphabetical
/// order, as `serde_json` writes a map).
fn cc_line(
    lines: &mut LineWriter,
    out: &mut Vec<u8>,
    ccc_id: u32,
    to: Option<&Attribution>,
    time: Timestamp,
    packet_len: usize,
) {
    out.extend_from_slice(if to.is_some() {
        b"{\"attributed\":true,\"ccc\":\""
    } else {
        b"{\"attributed\":false,\"ccc\":\""
    });
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{ccc_id:08X}");
    out.extend_from_slice(b"\",\"cin\":");
    match to.and_then(|a| a.cin) {
        Some(cin) => decimal(out, u64::from(cin)),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"direction\":");
    match to.and_then(|a| a.direction) {
        Some(d) => match d.asn1_name() {
            Some(name) => {
                out.push(b'"');
                out.extend_from_slice(name.as_bytes());
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        },
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(
        b",\"format\":\"packetcable\",\"interface\":\"HI3\",\"kind\":\"cc\",\"liid\":",
    );
    match to {
        Some(a) => lines.liid(out, a.liid),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"packet_len\":");
    decimal(out, packet_len as u64);
    out.extend_from_slice(b",\"repeat\":false,\"seq\":null,\"time\":\"");
    lines.time(out, time);
    out.extend_from_slice(b"\"}\n");
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::lemf::packetcable::CccIds;

    /// One step of a hostile or unlucky mix of call content and call data.
    #[derive(Clone, Debug)]
    enum Step {
        /// A datagram of identifier `id % 4` at `ms`: an IPv4 packet, or arbitrary octets.
        Datagram {
            id: u8,
            ms: u16,
            ip: bool,
            junk: Vec<u8>,
        },
        /// A `CCOpen` of identifiers `id % 4` and `id % 4 + 1`.
        Bind { id: u8 },
        /// A `CCClose`.
        Close { id: u8, ms: u16 },
        /// The listener's periodic check at `ms`.
        Expire { ms: u16 },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (
                any::<u8>(),
                any::<u16>(),
                any::<bool>(),
                proptest::collection::vec(any::<u8>(), 0..60)
            )
                .prop_map(|(id, ms, ip, junk)| Step::Datagram { id, ms, ip, junk }),
            any::<u8>().prop_map(|id| Step::Bind { id }),
            (any::<u8>(), any::<u16>()).prop_map(|(id, ms)| Step::Close { id, ms }),
            any::<u16>().prop_map(|ms| Step::Expire { ms }),
        ]
    }

    fn at(ms: u16) -> Timestamp {
        Timestamp::from_secs_micros(1_800_000_000 + u64::from(ms) / 100, 0).unwrap()
    }

    /// The cost of one attributed datagram on the listener's path (split, attribution,
    /// CC line, pcap record, call media record), batches handed over every 64 datagrams.
    /// A measurement, not a check: `cargo test --release -p li-handover --lib
    /// measure_attributed_datagram -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement; run by hand in release mode"]
    fn measure_attributed_datagram() {
        let mut state = State::default();
        let liid = li_core::Liid::new(b"CASE-PC").unwrap();
        let mut released = Vec::new();
        state.ccc.bind(
            CccIds::Sep { xmit: 1, recv: 2 },
            (liid, Some(42)),
            None,
            &mut released,
        );
        let mut packet = vec![0x45, 0, 0, 200, 0, 0, 0, 0, 64, 17, 0, 0];
        packet.extend_from_slice(&[192, 0, 2, 10, 198, 51, 100, 20]);
        packet.resize(200, 0x55);
        let mut bytes = Vec::new();
        let t = Timestamp::from_secs_micros(1_800_000_000, 0).unwrap();
        li_asn1::packetcable::ccc::CccEncoder::new(
            1,
            li_asn1::packetcable::ccc::CccForm::IdTimestamp,
        )
        .encode_into(t, &packet, &mut bytes);
        let mut batch = Batch::new(Interface::Hi3);
        let mut lines = LineWriter::default();
        let mut given_up = Vec::new();
        let n = 1_000_000u32;
        let start = std::time::Instant::now();
        for i in 0..n {
            let mut sink = Sink {
                batch: &mut batch,
                lines: &mut lines,
                given_up: &mut given_up,
                raw: None,
            };
            sink.datagram(&bytes, None, t, &mut state);
            if i % 64 == 63 {
                batch.records.clear();
                batch.pcap.clear();
                batch.pcap_runs.clear();
                batch.voice.clear();
                batch.voice_data.clear();
            }
        }
        let elapsed = start.elapsed();
        assert_eq!(state.ccc.stats.attributed, u64::from(n));
        println!(
            "attributed CCC datagram of {} octets: {:.0} ns each",
            bytes.len(),
            elapsed.as_nanos() as f64 / f64::from(n)
        );
    }

    proptest! {
        /// Whatever arrives in whatever order, every datagram is attributed, unattributed,
        /// malformed or still held (counted once), every attributed or unattributed one has
        /// its CC line, and nothing panics.
        #[test]
        fn every_datagram_is_accounted_for_once(steps in proptest::collection::vec(step(), 0..60)) {
            let mut state = State {
                ccc: crate::lemf::packetcable::CccTable::new(crate::lemf::PacketCableConfig {
                    hold: Duration::from_secs(2),
                    max_held: 5,
                    max_held_bytes: 300,
                    max_held_per_ccc: 2,
                    max_streams: 3,
                }),
                ..State::default()
            };
            let mut batch = Batch::new(Interface::Hi3);
            let mut lines = LineWriter::default();
            let mut given_up = Vec::new();
            let liid = li_core::Liid::new(b"P").unwrap();
            for step in steps {
                let mut sink = Sink { batch: &mut batch, lines: &mut lines, given_up: &mut given_up, raw: None };
                match step {
                    Step::Datagram { id, ms, ip, junk } => {
                        let mut packet = Vec::new();
                        if ip {
                            packet.extend_from_slice(&[0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0]);
                            packet.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
                        }
                        packet.extend_from_slice(&junk);
                        let mut bytes = Vec::new();
                        li_asn1::packetcable::ccc::CccEncoder::new(
                            u32::from(id % 4),
                            li_asn1::packetcable::ccc::CccForm::IdTimestamp,
                        )
                        .encode_into(at(ms), &packet, &mut bytes);
                        if !ip && junk.len() % 3 == 0 {
                            bytes.truncate(junk.len() % 12);
                        }
                        sink.datagram(&bytes, None, at(ms), &mut state);
                    }
                    Step::Bind { id } => {
                        let mut released = Vec::new();
                        let ids = CccIds::Sep { xmit: u32::from(id % 4), recv: u32::from(id % 4) + 1 };
                        state.ccc.bind(ids, (liid, Some(1)), None, &mut released);
                        for held in released {
                            sink.released(&held, &mut state);
                        }
                    }
                    Step::Close { id, ms } => {
                        state.ccc.close(CccIds::Comb(u32::from(id % 4)), liid, at(ms));
                    }
                    Step::Expire { ms } => state.ccc.expire(at(ms), sink.given_up),
                }
                sink.give_up(&mut state);
                let c = state.ccc.stats;
                prop_assert_eq!(c.datagrams, c.attributed + c.unattributed + c.malformed + c.held);
            }
            state.ccc.give_up_all(&mut given_up);
            Sink { batch: &mut batch, lines: &mut lines, given_up: &mut given_up, raw: None }.give_up(&mut state);
            let c = state.ccc.stats;
            prop_assert_eq!(c.held, 0);
            prop_assert_eq!(c.datagrams, c.attributed + c.unattributed + c.malformed);
            let cc_lines = batch.records.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
            prop_assert_eq!(cc_lines as u64, c.attributed + c.unattributed);
            prop_assert_eq!(state.liids.get(&liid).map_or(0, |l| l.cc), c.attributed);
            for line in batch.records.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let v: serde_json::Value = serde_json::from_slice(line).unwrap();
                prop_assert_eq!(&v["format"], "packetcable");
            }
        }
    }
}
