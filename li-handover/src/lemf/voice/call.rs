//! One call's open files and counts (see the parent module for the layout).

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use li_asn1::PayloadDirection;
use li_asn1::ipmm::{FrameType, MmccProtocol};
use li_core::Liid;
use li_core::checksum::internet_checksum;
use li_core::media::g711::Law;
use li_core::media::rtp::{self, RtpPacket};
use serde_json::{Value, json};

use super::sip::{self, StartLine};
use super::wav::{Playout, WavFile};
use super::{CallSummary, Closed, VoiceConfig, VoiceKind, VoiceRecord, WavSummary};
use crate::lemf::output::{self, Layout, OutputError};

/// The bound on [`VoiceConfig::max_silence`].
const MAX_SILENCE: std::time::Duration = std::time::Duration::from_secs(600);
/// Each call file's write buffer.
const BUFFER: usize = 16 * 1024;
/// The placeholder address of the target in a reconstructed packet (RFC 5737 TEST-NET-1).
pub(crate) const TARGET_ADDR: [u8; 4] = [192, 0, 2, 1];
/// The placeholder address of the other party.
pub(crate) const OTHER_ADDR: [u8; 4] = [192, 0, 2, 2];
/// The target's placeholder port of stream 0 (stream `n`: `+ 2n`).
pub(crate) const TARGET_PORT: u16 = 40000;
/// The other party's placeholder port of stream 0.
pub(crate) const OTHER_PORT: u16 = 50000;
/// IP protocol numbers.
const UDP: u8 = 17;
const TCP: u8 = 6;

/// A file written through a buffer.
struct CallFile {
    path: PathBuf,
    file: BufWriter<File>,
}

impl CallFile {
    /// Opens `path` for appending (a torn last record cut off); `header` is written first
    /// when the file is new or empty.
    fn open(path: PathBuf, layout: Layout, header: &[u8]) -> Result<Self, OutputError> {
        let err = |e: io::Error| OutputError::new(&path, &e);
        let (file, _) = output::open_append(&path, layout).map_err(err)?;
        let empty = file.metadata().map_err(err)?.len() == 0;
        let mut file = BufWriter::with_capacity(BUFFER, file);
        if empty {
            file.write_all(header).map_err(err)?;
        }
        Ok(Self { path, file })
    }

    fn write(&mut self, data: &[u8]) -> Result<(), OutputError> {
        self.file
            .write_all(data)
            .map_err(|e| OutputError::new(&self.path, &e))
    }

    fn flush(&mut self) -> Result<(), OutputError> {
        self.file
            .flush()
            .map_err(|e| OutputError::new(&self.path, &e))
    }

    fn close(mut self, fsync: bool) -> Result<(), OutputError> {
        self.flush()?;
        if fsync {
            self.file
                .get_ref()
                .sync_data()
                .map_err(|e| OutputError::new(&self.path, &e))?;
        }
        Ok(())
    }
}

/// One RTP stream of a call.
struct Stream {
    /// Index of its `streamIdentifier` in the call.
    index: usize,
    direction: Option<PayloadDirection>,
    ssrc: u32,
    /// The G.711 playout, its file, and its entry in the summary's `wavs`.
    audio: Option<(Playout, WavFile, usize)>,
}

/// An open call.
pub(super) struct Call {
    liid: Liid,
    cin: u32,
    dir: PathBuf,
    ladder: CallFile,
    pcap: CallFile,
    streams: Vec<Stream>,
    /// The `streamIdentifier`s seen, in order.
    stream_ids: Vec<Option<Vec<u8>>>,
    /// Payload types seen per stream index of `streams` (for `call.json`).
    payload_types: Vec<BTreeSet<u8>>,
    summary: CallSummary,
    wav_names: HashSet<String>,
    window: usize,
    max_gap: u64,
    max_streams: usize,
    /// The activity clock when a record last arrived ([`super::Calls`]).
    pub(super) last_active: u64,
    /// The time of the IRI-End, once received while the call is open.
    ended_at: Option<li_core::Timestamp>,
    /// WAV files open.
    wavs_open: usize,
}

impl Call {
    /// Opens the call's files in `dir`, going on from `earlier` if it was open before.
    pub(super) fn open(
        liid: Liid,
        cin: u32,
        dir: PathBuf,
        earlier: Option<CallSummary>,
        config: &VoiceConfig,
    ) -> Result<Self, OutputError> {
        std::fs::create_dir_all(&dir).map_err(|e| OutputError::new(&dir, &e))?;
        let ladder = CallFile::open(dir.join("ladder.jsonl"), Layout::Lines, &[])?;
        let pcap = CallFile::open(
            dir.join("media.pcap"),
            Layout::Pcap,
            &output::pcap_global_header(),
        )?;
        let mut summary = earlier.unwrap_or_default();
        summary.dir.clone_from(&dir);
        let wav_names = summary
            .wavs
            .iter()
            .filter_map(|w| w.path.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        Ok(Self {
            liid,
            cin,
            dir,
            ladder,
            pcap,
            streams: Vec::new(),
            stream_ids: Vec::new(),
            payload_types: Vec::new(),
            summary,
            wav_names,
            window: usize::try_from(VoiceConfig::samples(config.jitter_window))
                .unwrap_or(usize::MAX)
                .clamp(1, 1 << 20),
            // The silence of one gap is built in memory: at most ten minutes (9.6 MB).
            max_gap: VoiceConfig::samples(config.max_silence.min(MAX_SILENCE)),
            max_streams: config.max_streams_per_call.max(1),
            last_active: 0,
            ended_at: None,
            wavs_open: 0,
        })
    }

    pub(super) fn summary(&self) -> &CallSummary {
        &self.summary
    }

    /// Writes one record.
    pub(super) fn record(
        &mut self,
        record: VoiceRecord,
        data: &[u8],
        samples: &mut Vec<i16>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), OutputError> {
        let VoiceRecord {
            seq,
            time,
            repeat,
            kind,
            ..
        } = record;
        if self.summary.first_time.is_none_or(|t| time < t) {
            self.summary.first_time = Some(time);
        }
        if self.summary.last_time.is_none_or(|t| time > t) {
            self.summary.last_time = Some(time);
        }
        match kind {
            VoiceKind::Sip {
                iri_type,
                iri_only,
                source,
                destination,
                message,
            } => {
                self.summary.iri += 1;
                let mut line = ladder_line((time, seq, repeat), iri_type, source, destination);
                line.insert("iri_only".into(), json!(iri_only));
                match sip::parse(data.get(message).unwrap_or_default()) {
                    Ok(head) => {
                        match head.start {
                            StartLine::Request { method, uri } => {
                                line.insert("method".into(), json!(method));
                                line.insert("request_uri".into(), json!(uri));
                            }
                            StartLine::Response { code, reason } => {
                                line.insert("status".into(), json!(code));
                                line.insert("reason".into(), json!(reason));
                            }
                        }
                        line.insert("from".into(), json!(head.from));
                        line.insert("to".into(), json!(head.to));
                        line.insert("call_id".into(), json!(head.call_id));
                        line.insert("cseq".into(), json!(head.cseq));
                        line.insert("via".into(), json!(head.via));
                        line.insert("error".into(), Value::Null);
                    }
                    Err(error) => {
                        self.summary.sip_errors += 1;
                        tracing::warn!(liid = %self.liid, cin = self.cin, seq,
                            %error, "SIP message of an IPMMIRI not readable; its ladder line says so");
                        line.insert("error".into(), json!(error.to_string()));
                    }
                }
                self.write_line(line)
            }
            VoiceKind::OtherIri { iri_type, content } => {
                self.summary.iri += 1;
                let mut line = ladder_line((time, seq, repeat), iri_type, None, None);
                line.insert("content".into(), json!(content));
                self.write_line(line)
            }
            VoiceKind::CallData {
                iri_type,
                format,
                message,
            } => {
                // No SIP in the message: the ladder names it, method and status stay null.
                self.summary.iri += 1;
                let mut line = ladder_line((time, seq, repeat), iri_type, None, None);
                line.insert("format".into(), json!(format));
                line.insert("message".into(), json!(message));
                line.insert("method".into(), Value::Null);
                line.insert("status".into(), Value::Null);
                line.insert("iri_only".into(), json!(false));
                line.insert("error".into(), Value::Null);
                self.write_line(line)
            }
            VoiceKind::Media {
                direction,
                frame_type,
                stream,
                protocol,
                packet,
            } => {
                self.summary.cc += 1;
                let packet = data.get(packet).unwrap_or_default();
                let index = self.stream_index(stream.and_then(|r| data.get(r)));
                scratch.clear();
                wrap(scratch, frame_type, direction, index, packet);
                let captured = scratch
                    .get(..li_core::pcap::DEFAULT_SNAPLEN as usize)
                    .unwrap_or(scratch);
                let header = output::pcap_record_header(time, captured.len(), scratch.len());
                self.pcap.write(&header)?;
                self.pcap.write(captured)?;
                let rtp = matches!(protocol, None | Some(MmccProtocol::Rtp));
                match rtp_of(frame_type, packet).filter(|_| rtp) {
                    Some(bytes) => self.media(direction, index, bytes, samples),
                    None => {
                        self.summary.not_rtp += 1;
                        Ok(())
                    }
                }
            }
        }
    }

    fn write_line(&mut self, line: serde_json::Map<String, Value>) -> Result<(), OutputError> {
        let mut text = serde_json::to_vec(&Value::Object(line)).unwrap_or_default();
        text.push(b'\n');
        self.ladder.write(&text)?;
        self.summary.ladder_messages += 1;
        Ok(())
    }

    /// The index of a `streamIdentifier` (bounded: those past the limit share the last).
    fn stream_index(&mut self, id: Option<&[u8]>) -> usize {
        if let Some(i) = self.stream_ids.iter().position(|s| s.as_deref() == id) {
            return i;
        }
        if self.stream_ids.len() >= self.max_streams {
            return self.max_streams;
        }
        self.stream_ids.push(id.map(<[u8]>::to_vec));
        self.stream_ids.len() - 1
    }

    /// One RTP (or RTCP) packet.
    fn media(
        &mut self,
        direction: Option<PayloadDirection>,
        index: usize,
        bytes: &[u8],
        samples: &mut Vec<i16>,
    ) -> Result<(), OutputError> {
        if rtp::is_rtcp(bytes) {
            self.summary.rtcp += 1;
            return Ok(());
        }
        let packet = match RtpPacket::parse(bytes) {
            Ok(p) => p,
            Err(error) => {
                self.summary.media_errors += 1;
                tracing::debug!(liid = %self.liid, cin = self.cin, %error,
                    "IPMMCC packet is not readable RTP; kept in the pcap only");
                return Ok(());
            }
        };
        let h = packet.header;
        let found = self
            .streams
            .iter()
            .position(|s| s.index == index && s.direction == direction && s.ssrc == h.ssrc);
        let at = match found {
            Some(at) => at,
            None if self.streams.len() >= self.max_streams => {
                self.summary.streams_dropped += 1;
                return Ok(());
            }
            None => {
                self.streams.push(Stream {
                    index,
                    direction,
                    ssrc: h.ssrc,
                    audio: None,
                });
                self.payload_types.push(BTreeSet::new());
                self.streams.len() - 1
            }
        };
        if let Some(types) = self.payload_types.get_mut(at) {
            types.insert(h.payload_type);
        }
        let Some(law) = Law::of_payload_type(h.payload_type) else {
            self.summary.other_payload_types.insert(h.payload_type);
            return Ok(());
        };
        let needs_file = self.streams.get(at).is_some_and(|s| s.audio.is_none());
        if needs_file {
            let (path, name) = self.wav_path(direction, h.ssrc);
            let file = WavFile::create(&path, BUFFER).map_err(|e| OutputError::new(&path, &e))?;
            self.wav_names.insert(name);
            self.wavs_open += 1;
            self.summary.wavs.push(WavSummary {
                path,
                samples: 0,
                direction,
                ssrc: h.ssrc,
                duplicates: 0,
                late: 0,
                silence: 0,
            });
            let entry = self.summary.wavs.len() - 1;
            if let Some(stream) = self.streams.get_mut(at) {
                stream.audio = Some((Playout::new(self.window, self.max_gap), file, entry));
            }
        }
        let Some((playout, file, entry)) = self.streams.get_mut(at).and_then(|s| s.audio.as_mut())
        else {
            return Ok(());
        };
        samples.clear();
        playout.push(h.timestamp, law, packet.payload, samples);
        if !samples.is_empty() {
            file.write(samples)
                .map_err(|e| OutputError::new(file.path(), &e))?;
        }
        wav_summary(&mut self.summary.wavs, *entry, playout, file);
        Ok(())
    }

    /// A new WAV file's path: `<direction>-<ssrc>.wav`, with `-2`, `-3`... if taken.
    fn wav_path(&self, direction: Option<PayloadDirection>, ssrc: u32) -> (PathBuf, String) {
        let base = format!("{}-{ssrc:08x}", direction_name(direction));
        let mut name = format!("{base}.wav");
        let mut n = 1;
        while self.wav_names.contains(&name) || self.dir.join(&name).exists() {
            n += 1;
            name = format!("{base}-{n}.wav");
        }
        (self.dir.join(&name), name)
    }

    /// Writes out the buffers.
    pub(super) fn flush(&mut self) -> Result<(), OutputError> {
        self.ladder.flush()?;
        self.pcap.flush()?;
        for stream in &mut self.streams {
            if let Some((_, file, _)) = &mut stream.audio {
                file.flush()
                    .map_err(|e| OutputError::new(file.path(), &e))?;
            }
        }
        Ok(())
    }

    /// Plays out what the rings hold into the WAV files.
    fn drain_audio(&mut self) -> Result<(), OutputError> {
        let mut samples = Vec::new();
        for stream in &mut self.streams {
            if let Some((playout, file, entry)) = &mut stream.audio {
                samples.clear();
                playout.drain(&mut samples);
                file.write(&samples)
                    .map_err(|e| OutputError::new(file.path(), &e))?;
                wav_summary(&mut self.summary.wavs, *entry, playout, file);
            }
        }
        Ok(())
    }

    /// The call ended (an IRI-End at `at`): everything received is played out and written
    /// out, the WAV headers give the samples so far, and `call.json` is written. The files
    /// stay open for media that arrives after the end (HI3 behind HI2) until
    /// [`VoiceConfig::end_grace`] has passed ([`super::Calls`]).
    pub(super) fn end(&mut self, at: li_core::Timestamp, fsync: bool) -> Result<(), OutputError> {
        self.ended_at = Some(at);
        self.summary.ended = true;
        self.drain_audio()?;
        for stream in &mut self.streams {
            if let Some((_, file, _)) = &mut stream.audio {
                file.checkpoint()
                    .map_err(|e| OutputError::new(file.path(), &e))?;
            }
        }
        self.ladder.flush()?;
        self.pcap.flush()?;
        let call = self.call_json(Closed::Ended);
        write_atomically(
            &self.dir.join("call.json"),
            &serde_json::to_vec_pretty(&call).unwrap_or_default(),
            fsync,
        )
    }

    /// The files the call holds open: ladder, pcap and WAVs.
    pub(super) fn open_files(&self) -> usize {
        2 + self.wavs_open
    }

    /// When the call ended, if it did while open.
    pub(super) fn ended_at(&self) -> Option<li_core::Timestamp> {
        self.ended_at
    }

    /// Plays out what is left, closes the files and writes `call.json`.
    pub(super) fn close(mut self, why: Closed, fsync: bool) -> Result<CallSummary, OutputError> {
        self.drain_audio()?;
        let why = if self.summary.ended {
            Closed::Ended
        } else {
            why
        };
        let call = self.call_json(why);
        for stream in std::mem::take(&mut self.streams) {
            if let Some((_, file, _)) = stream.audio {
                let path = file.path().to_path_buf();
                file.finish(fsync)
                    .map_err(|e| OutputError::new(&path, &e))?;
            }
        }
        self.ladder.close(fsync)?;
        self.pcap.close(fsync)?;
        write_atomically(
            &self.dir.join("call.json"),
            &serde_json::to_vec_pretty(&call).unwrap_or_default(),
            fsync,
        )?;
        if fsync {
            // The files' names (and call.json's rename) are in the directory, and the
            // directory's own name in `calls/`, `calls/` in the LIID's directory and that
            // one in the output directory (all created for calls): each synced, so a call
            // said closed survives a crash whole.
            for dir in self.dir.ancestors().take(4) {
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| OutputError::new(dir, &e))?;
            }
        }
        Ok(self.summary)
    }

    /// The contents of `call.json`.
    fn call_json(&self, why: Closed) -> Value {
        let streams: Vec<Value> = self
            .streams
            .iter()
            .zip(&self.payload_types)
            .map(|(stream, types)| {
                let wav = stream.audio.as_ref().map_or(Value::Null, |(playout, file, _)| {
                    let stats = playout.stats();
                    json!({
                        "file": file.path().file_name().map(|n| n.to_string_lossy().into_owned()),
                        "samples": file.samples(),
                        "silence_samples": stats.silence,
                        "skipped_samples": stats.skipped,
                        "capped_samples": stats.capped,
                        "duplicates": stats.duplicates,
                        "late": stats.late,
                        "timeline_restarts": stats.restarts,
                    })
                });
                let id = self
                    .stream_ids
                    .get(stream.index)
                    .and_then(|id| id.as_deref())
                    .map(|id| String::from_utf8_lossy(id).into_owned());
                json!({
                    "stream_identifier": id,
                    "direction": direction_json(stream.direction),
                    "ssrc": stream.ssrc,
                    "payload_types": types,
                    "wav": wav,
                })
            })
            .collect();
        let s = &self.summary;
        json!({
            "liid": self.liid.to_string(),
            "cin": self.cin,
            "closed": why.as_str(),
            "first_time": s.first_time.map(|t| t.to_string()),
            "last_time": s.last_time.map(|t| t.to_string()),
            "iri": s.iri,
            "cc": s.cc,
            "ladder_messages": s.ladder_messages,
            "sip_errors": s.sip_errors,
            "media_errors": s.media_errors,
            "not_rtp": s.not_rtp,
            "rtcp": s.rtcp,
            "streams_dropped": s.streams_dropped,
            "streams": streams,
            "wav": s.wavs.iter().map(|w| json!({
                "file": w.path.file_name().map(|n| n.to_string_lossy().into_owned()),
                "samples": w.samples,
            })).collect::<Vec<_>>(),
            "other_payload_types": s.other_payload_types,
        })
    }
}

/// The fields every ladder line has.
fn ladder_line(
    (time, seq, repeat): (li_core::Timestamp, u32, bool),
    iri_type: Option<li_asn1::IriType>,
    source: Option<IpAddr>,
    destination: Option<IpAddr>,
) -> serde_json::Map<String, Value> {
    let mut line = serde_json::Map::new();
    line.insert("time".into(), json!(time.to_string()));
    line.insert("seq".into(), json!(seq));
    line.insert("repeat".into(), json!(repeat));
    line.insert("iri_type".into(), json!(iri_type.map(|t| t.asn1_name())));
    line.insert("source".into(), json!(source.map(|a| a.to_string())));
    line.insert(
        "destination".into(),
        json!(destination.map(|a| a.to_string())),
    );
    let show = |a: Option<IpAddr>| a.map_or_else(|| "?".to_owned(), |a| a.to_string());
    line.insert(
        "direction".into(),
        json!(format!("{} -> {}", show(source), show(destination))),
    );
    line
}

fn direction_json(direction: Option<PayloadDirection>) -> Value {
    direction.map_or(Value::Null, |d| {
        d.asn1_name().map_or_else(|| json!(d.value()), |n| json!(n))
    })
}

/// The direction in a WAV file's name.
fn direction_name(direction: Option<PayloadDirection>) -> &'static str {
    match direction {
        Some(PayloadDirection::FromTarget) => "from-target",
        Some(PayloadDirection::ToTarget) => "to-target",
        Some(PayloadDirection::Combined) => "combined",
        _ => "unknown",
    }
}

/// The RTP packet inside an `mMCCContents` of `frame_type` (absent means RTP, as the
/// module's backwards compatibility has it), `None` when the frame holds no UDP payload.
pub(crate) fn rtp_of(frame_type: Option<FrameType>, packet: &[u8]) -> Option<&[u8]> {
    match frame_type {
        None | Some(FrameType::RtpFrame | FrameType::ArtificialRtpFrame) => Some(packet),
        Some(FrameType::UdpFrame) => packet.get(8..),
        Some(FrameType::IpFrame) => {
            let (protocol, header) = match packet.first()? >> 4 {
                4 => (*packet.get(9)?, usize::from(packet.first()? & 0x0F) * 4),
                6 => (*packet.get(6)?, 40),
                _ => return None,
            };
            (protocol == UDP)
                .then(|| packet.get(header + 8..))
                .flatten()
        }
        Some(_) => None,
    }
}

/// Appends the IP packet written to `media.pcap` for an `mMCCContents` (see the module
/// documentation for the placeholder addresses).
pub(crate) fn wrap(
    out: &mut Vec<u8>,
    frame_type: Option<FrameType>,
    direction: Option<PayloadDirection>,
    stream: usize,
    packet: &[u8],
) {
    let (protocol, udp) = match frame_type {
        Some(FrameType::IpFrame) => {
            out.extend_from_slice(packet);
            return;
        }
        Some(FrameType::UdpFrame) => (UDP, false),
        Some(FrameType::TcpFrame) => (TCP, false),
        _ => (UDP, true),
    };
    let offset = u16::try_from(stream.saturating_mul(2)).unwrap_or(u16::MAX - OTHER_PORT);
    let target = (TARGET_ADDR, TARGET_PORT.saturating_add(offset));
    let other = (OTHER_ADDR, OTHER_PORT.saturating_add(offset));
    let ((src, sport), (dst, dport)) = if direction == Some(PayloadDirection::ToTarget) {
        (other, target)
    } else {
        (target, other)
    };
    let udp_len = if udp { 8 } else { 0 };
    let total = u16::try_from(20 + udp_len + packet.len()).unwrap_or(u16::MAX);
    let start = out.len();
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
    let sum = internet_checksum(0, out.get(start..).unwrap_or_default());
    if let Some(slot) = out.get_mut(start + 10..start + 12) {
        slot.copy_from_slice(&sum.to_be_bytes());
    }
    if udp {
        let len = u16::try_from(8 + packet.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&sport.to_be_bytes());
        out.extend_from_slice(&dport.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&[0, 0]);
    }
    out.extend_from_slice(packet);
}

/// Brings the summary of WAV file `entry` up to date with its stream: samples written,
/// duplicates, late packets and silence so far.
fn wav_summary(wavs: &mut [WavSummary], entry: usize, playout: &Playout, file: &WavFile) {
    if let Some(w) = wavs.get_mut(entry) {
        let stats = playout.stats();
        w.samples = file.samples();
        w.duplicates = stats.duplicates;
        w.late = stats.late;
        w.silence = stats.silence;
    }
}

/// Writes `path` through a temporary file and a rename, so a reader never sees half of it.
fn write_atomically(path: &Path, data: &[u8], fsync: bool) -> Result<(), OutputError> {
    let tmp = path.with_extension("json.tmp");
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(data)?;
        if fsync {
            file.sync_data()?;
        }
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| OutputError::new(path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_wrapped_and_their_rtp_found() {
        let rtp_packet = [0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, 0xFF, 0xFF];
        // rtpFrame: IPv4 + UDP placeholders, stream 1, to the target.
        let mut out = Vec::new();
        wrap(
            &mut out,
            Some(FrameType::RtpFrame),
            Some(PayloadDirection::ToTarget),
            1,
            &rtp_packet,
        );
        assert_eq!(out.len(), 28 + rtp_packet.len());
        assert_eq!(&out[12..16], &OTHER_ADDR);
        assert_eq!(&out[16..20], &TARGET_ADDR);
        assert_eq!(u16::from_be_bytes([out[20], out[21]]), OTHER_PORT + 2);
        assert_eq!(u16::from_be_bytes([out[22], out[23]]), TARGET_PORT + 2);
        assert_eq!(u16::from_be_bytes([out[24], out[25]]), 8 + 14);
        assert_eq!(
            internet_checksum(0, &out[..20]),
            0,
            "the header checksum verifies"
        );
        assert_eq!(
            rtp_of(Some(FrameType::IpFrame), &out),
            Some(&rtp_packet[..])
        );
        assert_eq!(rtp_of(None, &rtp_packet), Some(&rtp_packet[..]));

        // udpFrame: its own UDP header kept, an IPv4 header added.
        let udp = &out[20..];
        let mut wrapped = Vec::new();
        wrap(&mut wrapped, Some(FrameType::UdpFrame), None, 0, udp);
        assert_eq!(&wrapped[20..], udp);
        assert_eq!(wrapped[9], UDP);
        assert_eq!(
            rtp_of(Some(FrameType::UdpFrame), udp),
            Some(&rtp_packet[..])
        );

        // ipFrame: kept as it is; IPv6 with UDP found too.
        let mut v6 = vec![0x60, 0, 0, 0, 0, 22, UDP, 64];
        v6.extend_from_slice(&[0; 32]);
        v6.extend_from_slice(&[0x30, 0x39, 0x30, 0x3a, 0, 22, 0, 0]);
        v6.extend_from_slice(&rtp_packet);
        let mut kept = Vec::new();
        wrap(&mut kept, Some(FrameType::IpFrame), None, 0, &v6);
        assert_eq!(kept, v6);
        assert_eq!(rtp_of(Some(FrameType::IpFrame), &v6), Some(&rtp_packet[..]));

        // No RTP in a TCP, audio or cut frame.
        assert_eq!(rtp_of(Some(FrameType::TcpFrame), &rtp_packet), None);
        assert_eq!(rtp_of(Some(FrameType::AudioFrame), &rtp_packet), None);
        assert_eq!(rtp_of(Some(FrameType::IpFrame), &v6[..30]), None);
        assert_eq!(rtp_of(Some(FrameType::IpFrame), &[]), None);
        assert_eq!(rtp_of(Some(FrameType::UdpFrame), &[1, 2]), None);
    }
}
