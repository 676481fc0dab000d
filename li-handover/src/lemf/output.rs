//! The receiver's output files, written by one thread per [`super::Receiver`].
//!
//! Connections format their records into a [`Batch`] (JSON lines, pcap records by LIID,
//! the raw PDUs) and hand it over through a bounded channel; the writer thread appends each
//! batch to per-file buffers and writes a file's buffer out once it holds
//! [`FILE_CHUNK`] octets, or every buffer once together they hold [`MAX_BUFFERED`]. A
//! [`Command::Sync`] writes every buffer out and, with `fsync`, calls `sync_data` on every
//! file written since the last sync (and `sync_all` on the directory after a file was
//! created) before it answers: commands are handled in order, so when a connection's sync
//! is answered, everything the connection handed over before it is on disk.
//!
//! A failed write or sync leaves the files in an unknown state, so the writer stops: it
//! drops every later batch and answers every later sync with the error, and the receiver
//! acknowledges nothing more until it is restarted (the mediator keeps the records).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use li_core::Liid;
use tokio::sync::{mpsc, oneshot};

use li_core::pcap;

use super::voice::{Calls, VoiceConfig, VoiceRecord};
use super::{Interface, LINKTYPE_RAW, PCAP_SNAPLEN, State, lock_state};
use crate::retry::Changes;

/// The pcap file of the PacketCable CCC datagrams no call data claimed, in the output
/// directory. No LIID's pcap can have this name: a LIID's file name has a `~` only before
/// the hex of its non-empty text.
pub const UNATTRIBUTED_CCC_FILE: &str = "~unattributed-ccc.pcap";

/// The name of the raw copy of every CCC datagram received (`keep_raw`), in the output
/// directory: a pcap (`LINKTYPE_RAW`) whose records are the datagrams as received, each in an
/// IP and UDP header from the sender's address to the listener's, at the receive time.
pub const CCC_RAW_FILE: &str = "ccc.pcap";

/// A file's buffer is written out once it holds this much.
pub(super) const FILE_CHUNK: usize = 256 * 1024;
/// Every buffer is written out once together they hold this much.
pub(super) const MAX_BUFFERED: usize = 4 * 1024 * 1024;
/// Commands queued for the writer at most (each batch is bounded by a connection's read
/// buffer: see [`super::READ_CHUNK`]).
pub(super) const QUEUE: usize = 8;
/// Emptied batches kept for reuse.
const POOL: usize = 16;

/// What a connection hands to the writer.
pub(super) enum Command {
    /// Records to append.
    Write(Batch),
    /// Write everything out (and fsync it when `fsync`), then answer; with `close_calls`
    /// (the receiver stops) every open call is closed first.
    Sync {
        fsync: bool,
        close_calls: bool,
        done: oneshot::Sender<Result<(), OutputError>>,
    },
}

/// Why the output failed: the file and the error (kept as kind and text, to be reported to
/// every later sync).
#[derive(Clone, Debug)]
pub(super) struct OutputError {
    pub(super) path: PathBuf,
    pub(super) kind: io::ErrorKind,
    pub(super) message: String,
}

impl OutputError {
    pub(super) fn new(path: &Path, error: &io::Error) -> Self {
        Self {
            path: path.to_path_buf(),
            kind: error.kind(),
            message: error.to_string(),
        }
    }

    pub(super) fn to_io(&self) -> io::Error {
        io::Error::new(self.kind, self.message.clone())
    }
}

/// One connection's formatted records.
#[derive(Debug)]
pub(super) struct Batch {
    /// The interface of the connection (for the raw stream).
    pub(super) interface: Interface,
    /// JSON lines.
    pub(super) records: Vec<u8>,
    /// pcap records, back to back.
    pub(super) pcap: Vec<u8>,
    /// Runs of `pcap` by LIID: each ends at the offset given.
    pub(super) pcap_runs: Vec<(Liid, usize)>,
    /// PS-PDUs as received (`keep_raw`).
    pub(super) raw: Vec<u8>,
    /// pcap records of PacketCable CCC datagrams no call data claimed
    /// ([`UNATTRIBUTED_CCC_FILE`]).
    pub(super) unattributed: Vec<u8>,
    /// pcap records of the CCC datagrams as received ([`CCC_RAW_FILE`], `keep_raw`).
    pub(super) ccc_raw: Vec<u8>,
    /// IP multimedia records for the per-call files.
    pub(super) voice: Vec<VoiceRecord>,
    /// The octets `voice` refers to.
    pub(super) voice_data: Vec<u8>,
}

impl Batch {
    pub(super) fn new(interface: Interface) -> Self {
        Self {
            interface,
            records: Vec::new(),
            pcap: Vec::new(),
            pcap_runs: Vec::new(),
            raw: Vec::new(),
            unattributed: Vec::new(),
            ccc_raw: Vec::new(),
            voice: Vec::new(),
            voice_data: Vec::new(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.records.is_empty()
            && self.pcap.is_empty()
            && self.raw.is_empty()
            && self.unattributed.is_empty()
            && self.ccc_raw.is_empty()
            && self.voice.is_empty()
    }

    /// Copies `octets` into `voice_data`; returns where they are.
    pub(super) fn voice_octets(&mut self, octets: &[u8]) -> std::ops::Range<usize> {
        let start = self.voice_data.len();
        self.voice_data.extend_from_slice(octets);
        start..self.voice_data.len()
    }

    /// Appends one pcap record of `liid`.
    pub(super) fn pcap_record(
        &mut self,
        liid: Liid,
        time: li_core::Timestamp,
        packet: &[u8],
        original_len: usize,
    ) {
        pcap_record(&mut self.pcap, time, packet, original_len);
        let end = self.pcap.len();
        match self.pcap_runs.last_mut() {
            Some((last, run_end)) if *last == liid => *run_end = end,
            _ => self.pcap_runs.push((liid, end)),
        }
    }

    /// Appends one pcap record of a CCC datagram no call data claimed.
    pub(super) fn unattributed_record(&mut self, time: li_core::Timestamp, packet: &[u8]) {
        pcap_record(&mut self.unattributed, time, packet, packet.len());
    }

    /// Appends the raw copy of a CCC datagram received at `time` from `peer` on `local`
    /// ([`CCC_RAW_FILE`]): the datagram in a rebuilt IP and UDP header, written in place (no
    /// allocation). The two addresses are written in one IP version: an IPv4 sender on an
    /// IPv6 listener keeps its v4-mapped form. `false` when the datagram cannot be written
    /// (longer than one IP datagram), nothing appended.
    pub(super) fn ccc_raw_record(
        &mut self,
        time: li_core::Timestamp,
        peer: std::net::SocketAddr,
        local: std::net::SocketAddr,
        datagram: &[u8],
    ) -> bool {
        let peer = match (peer.ip(), local.ip()) {
            (std::net::IpAddr::V6(v6), std::net::IpAddr::V4(_)) => match v6.to_ipv4_mapped() {
                Some(v4) => std::net::SocketAddr::new(v4.into(), peer.port()),
                None => peer,
            },
            (std::net::IpAddr::V4(v4), std::net::IpAddr::V6(_)) => {
                std::net::SocketAddr::new(v4.to_ipv6_mapped().into(), peer.port())
            }
            _ => peer,
        };
        let start = self.ccc_raw.len();
        // The record header's place, filled once the packet's length is known.
        self.ccc_raw.extend_from_slice(&[0; 16]);
        let Ok(len) = li_core::datagram::write_udp(peer, local, datagram, &mut self.ccc_raw) else {
            self.ccc_raw.truncate(start);
            return false;
        };
        let header = pcap_record_header(time, len, len);
        if let Some(slot) = self.ccc_raw.get_mut(start..start + 16) {
            slot.copy_from_slice(&header);
        }
        true
    }

    fn clear(&mut self) {
        self.unattributed.clear();
        self.ccc_raw.clear();
        self.records.clear();
        self.pcap.clear();
        self.pcap_runs.clear();
        self.raw.clear();
        self.voice.clear();
        self.voice_data.clear();
    }
}

/// The connections' end of the writer.
#[derive(Debug)]
pub(super) struct WriterHandle {
    tx: mpsc::Sender<Command>,
    pool: Arc<Mutex<Vec<Batch>>>,
}

impl WriterHandle {
    /// Starts the writer thread over `records` (already open) in `dir`.
    pub(super) fn start(
        dir: PathBuf,
        records_path: PathBuf,
        records: File,
        state: Arc<Mutex<State>>,
        changes: Arc<Changes>,
        voice: (VoiceConfig, bool),
    ) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let pool = Arc::new(Mutex::new(Vec::new()));
        let (voice, fsync) = voice;
        let output = Output {
            calls: Calls::new(
                dir.clone(),
                voice,
                fsync,
                Arc::clone(&state),
                Arc::clone(&changes),
            ),
            dir,
            records: OutFile::new(records_path, records),
            pcaps: HashMap::new(),
            raw: HashMap::new(),
            unattributed: None,
            ccc_raw: None,
            buffered: 0,
            dir_dirty: false,
            failed: None,
            state,
            changes,
        };
        let thread_pool = Arc::clone(&pool);
        std::thread::Builder::new()
            .name("lemf-writer".into())
            .spawn(move || output.run(rx, &thread_pool))?;
        Ok(Self { tx, pool })
    }

    /// An empty batch for `interface`, reused if one is free.
    pub(super) fn batch(&self, interface: Interface) -> Batch {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        match pool.pop() {
            Some(mut batch) => {
                batch.interface = interface;
                batch
            }
            None => Batch::new(interface),
        }
    }

    /// Queues a command; `false` if the writer is gone.
    pub(super) async fn send(&self, command: Command) -> bool {
        self.tx.send(command).await.is_ok()
    }
}

/// The writer thread's state.
struct Output {
    dir: PathBuf,
    records: OutFile,
    pcaps: HashMap<Liid, OutFile>,
    raw: HashMap<Interface, OutFile>,
    /// [`UNATTRIBUTED_CCC_FILE`], once a datagram went to it.
    unattributed: Option<OutFile>,
    /// [`CCC_RAW_FILE`], once a datagram went to it.
    ccc_raw: Option<OutFile>,
    /// Octets in every buffer together.
    buffered: usize,
    /// A file was created since the last fsync: the directory needs one too.
    dir_dirty: bool,
    failed: Option<OutputError>,
    /// The per-call files.
    calls: Calls,
    state: Arc<Mutex<State>>,
    /// Signalled after `state` changed ([`super::Receiver::wait_for`]).
    changes: Arc<Changes>,
}

/// One output file and what is waiting to be written to it.
struct OutFile {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    /// Written since the last fsync.
    dirty: bool,
    /// Given data since the last sync.
    active: bool,
}

impl OutFile {
    fn new(path: PathBuf, file: File) -> Self {
        Self {
            path,
            file,
            buf: Vec::new(),
            dirty: false,
            active: false,
        }
    }

    /// Writes the buffer out.
    fn write_out(&mut self) -> Result<usize, OutputError> {
        if self.buf.is_empty() {
            return Ok(0);
        }
        self.file
            .write_all(&self.buf)
            .map_err(|e| OutputError::new(&self.path, &e))?;
        self.dirty = true;
        let n = self.buf.len();
        self.buf.clear();
        Ok(n)
    }

    fn sync(&mut self) -> Result<(), OutputError> {
        if self.dirty {
            self.file
                .sync_data()
                .map_err(|e| OutputError::new(&self.path, &e))?;
            self.dirty = false;
        }
        Ok(())
    }
}

impl Output {
    fn run(mut self, mut rx: mpsc::Receiver<Command>, pool: &Mutex<Vec<Batch>>) {
        while let Some(command) = rx.blocking_recv() {
            match command {
                Command::Write(mut batch) => {
                    if let Err(error) = self.absorb(&mut batch) {
                        self.fail(error);
                    }
                    self.calls.publish();
                    batch.clear();
                    let mut pool = pool.lock().unwrap_or_else(PoisonError::into_inner);
                    if pool.len() < POOL {
                        pool.push(batch);
                    }
                }
                Command::Sync {
                    fsync,
                    close_calls,
                    done,
                } => {
                    let result = if close_calls && self.failed.is_none() {
                        self.calls.close_all().and_then(|()| self.sync(fsync))
                    } else {
                        self.sync(fsync)
                    };
                    if let Err(error) = &result {
                        self.fail(error.clone());
                    }
                    let _ = done.send(result);
                }
            }
        }
        // Every sender is gone: close the calls and write out what is left.
        if self.failed.is_none()
            && let Err(error) = self.calls.close_all()
        {
            self.fail(error);
        }
        if let Err(error) = self.sync(false) {
            self.fail(error);
        }
    }

    fn fail(&mut self, error: OutputError) {
        if self.failed.is_none() {
            tracing::error!(
                path = %error.path.display(), error = %error.message,
                "LEMF output failed: no keep-alive is answered until the receiver restarts"
            );
            self.failed = Some(error);
        }
    }

    /// Appends a batch to the buffers, writing out those that are full.
    fn absorb(&mut self, batch: &mut Batch) -> Result<(), OutputError> {
        if self.failed.is_some() {
            return Ok(());
        }
        for record in batch.voice.drain(..) {
            self.calls.record(record, &batch.voice_data)?;
        }
        self.calls.expire()?;
        if !batch.raw.is_empty() {
            let file = self.raw_file(batch.interface)?;
            let written = append(file, &batch.raw)?;
            self.account(batch.raw.len(), written);
        }
        let written = append(&mut self.records, &batch.records)?;
        self.account(batch.records.len(), written);
        if !batch.unattributed.is_empty() {
            let file = self.unattributed_file()?;
            let written = append(file, &batch.unattributed)?;
            self.account(batch.unattributed.len(), written);
        }
        if !batch.ccc_raw.is_empty() {
            let file = self.ccc_raw_file()?;
            let written = append(file, &batch.ccc_raw)?;
            self.account(batch.ccc_raw.len(), written);
        }
        let mut start = 0;
        for &(liid, end) in &batch.pcap_runs {
            let run = batch.pcap.get(start..end).unwrap_or_default();
            start = end;
            let file = self.pcap_file(liid)?;
            let written = append(file, run)?;
            self.account(run.len(), written);
        }
        if self.buffered >= MAX_BUFFERED {
            self.write_out_all()?;
        }
        Ok(())
    }

    fn account(&mut self, appended: usize, written: usize) {
        self.buffered = (self.buffered + appended).saturating_sub(written);
    }

    /// Writes out every buffer; with `fsync`, syncs every file written since the last sync.
    fn sync(&mut self, fsync: bool) -> Result<(), OutputError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        self.write_out_all()?;
        self.calls.flush()?;
        // A LIID given nothing since the last sync keeps no buffer.
        for file in self.pcaps.values_mut() {
            if !std::mem::take(&mut file.active) {
                file.buf = Vec::new();
            }
        }
        if fsync {
            self.records.sync()?;
            for file in self
                .pcaps
                .values_mut()
                .chain(self.raw.values_mut())
                .chain(self.unattributed.as_mut())
                .chain(self.ccc_raw.as_mut())
            {
                file.sync()?;
            }
            if self.dir_dirty {
                File::open(&self.dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| OutputError::new(&self.dir, &e))?;
                self.dir_dirty = false;
            }
        }
        Ok(())
    }

    fn write_out_all(&mut self) -> Result<(), OutputError> {
        self.records.write_out()?;
        for file in self
            .raw
            .values_mut()
            .chain(self.unattributed.as_mut())
            .chain(self.ccc_raw.as_mut())
        {
            file.write_out()?;
        }
        for file in self.pcaps.values_mut() {
            file.write_out()?;
        }
        self.buffered = 0;
        Ok(())
    }

    fn raw_file(&mut self, interface: Interface) -> Result<&mut OutFile, OutputError> {
        if !self.raw.contains_key(&interface) {
            let path = self
                .dir
                .join(format!("{}.ber", interface.as_str().to_ascii_lowercase()));
            let (file, created) =
                open_append(&path, Layout::Raw).map_err(|e| OutputError::new(&path, &e))?;
            self.dir_dirty |= created;
            self.raw.insert(interface, OutFile::new(path, file));
        }
        self.raw.get_mut(&interface).ok_or_else(|| {
            OutputError::new(&self.dir, &io::Error::other("raw stream file not open"))
        })
    }

    /// [`UNATTRIBUTED_CCC_FILE`], created with its global header if new.
    fn unattributed_file(&mut self) -> Result<&mut OutFile, OutputError> {
        let (dir, buffered, dirty) = (&self.dir, &mut self.buffered, &mut self.dir_dirty);
        side_pcap(
            &mut self.unattributed,
            dir,
            UNATTRIBUTED_CCC_FILE,
            buffered,
            dirty,
        )
    }

    /// [`CCC_RAW_FILE`], created with its global header if new.
    fn ccc_raw_file(&mut self) -> Result<&mut OutFile, OutputError> {
        let (dir, buffered, dirty) = (&self.dir, &mut self.buffered, &mut self.dir_dirty);
        side_pcap(&mut self.ccc_raw, dir, CCC_RAW_FILE, buffered, dirty)
    }

    /// The LIID's pcap file, created with its global header if new.
    fn pcap_file(&mut self, liid: Liid) -> Result<&mut OutFile, OutputError> {
        if !self.pcaps.contains_key(&liid) {
            let path = self.pcap_path(liid);
            let (file, created) =
                open_append(&path, Layout::Pcap).map_err(|e| OutputError::new(&path, &e))?;
            self.dir_dirty |= created;
            let mut out = OutFile::new(path.clone(), file);
            let empty = out
                .file
                .metadata()
                .map_err(|e| OutputError::new(&path, &e))?
                .len()
                == 0;
            if empty {
                out.buf.extend_from_slice(&pcap_global_header());
                self.buffered += out.buf.len();
            }
            self.pcaps.insert(liid, out);
            lock_state(&self.state).pcap_written(liid, path);
            self.changes.changed();
        }
        self.pcaps
            .get_mut(&liid)
            .ok_or_else(|| OutputError::new(&self.dir, &io::Error::other("pcap file not open")))
    }

    /// `dir/<sanitised LIID>.pcap`: distinct LIIDs get distinct names
    /// ([`sanitize_file_stem`]).
    fn pcap_path(&self, liid: Liid) -> PathBuf {
        let stem = sanitize_file_stem(&liid.to_string());
        self.dir.join(format!("{stem}.pcap"))
    }
}

/// Appends `data` to the file's buffer and writes the buffer out if it is full; returns
/// the octets written.
fn append(file: &mut OutFile, data: &[u8]) -> Result<usize, OutputError> {
    file.active = true;
    file.buf.extend_from_slice(data);
    if file.buf.len() >= FILE_CHUNK {
        file.write_out()
    } else {
        Ok(0)
    }
}

/// Opens `path` for appending; also says whether it was created. An existing file's torn
/// last record is cut off first ([`repair_tail`]).
pub(super) fn open_append(path: &Path, layout: Layout) -> io::Result<(File, bool)> {
    match std::fs::OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(path)
    {
        Ok(file) => Ok((file, true)),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            repair_tail(path, layout)?;
            let file = std::fs::OpenOptions::new().append(true).open(path)?;
            Ok((file, false))
        }
        Err(e) => Err(e),
    }
}

/// How an output file's records are laid out, to find where the last complete one ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Lines ending in `\n` (`records.jsonl`).
    Lines,
    /// A classic pcap file: a 24-octet global header, then 16-octet record headers each
    /// followed by its captured length of data.
    Pcap,
    /// Raw BER PDUs end to end (not checked: they are a copy for independent tools).
    Raw,
}

/// Cuts a torn record off the end of an existing output file: a receiver killed while
/// writing leaves part of a record, which was never synced nor acknowledged (the mediator
/// sends it again), and whatever is appended after it would be unreadable. Returns the
/// octets cut (logged when not zero).
pub(crate) fn repair_tail(path: &Path, layout: Layout) -> io::Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let len = file.metadata()?.len();
    let keep = match layout {
        Layout::Raw => len,
        Layout::Lines => {
            // Back from the end to the last newline.
            let mut end = len;
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                if end == 0 {
                    break 0;
                }
                let start = end.saturating_sub(chunk.len() as u64);
                let n = usize::try_from(end - start).unwrap_or(0);
                let part = chunk.get_mut(..n).unwrap_or_default();
                file.seek(SeekFrom::Start(start))?;
                file.read_exact(part)?;
                if end == len && part.last() == Some(&b'\n') {
                    break len;
                }
                if let Some(at) = part.iter().rposition(|b| *b == b'\n') {
                    break start + at as u64 + 1;
                }
                end = start;
            }
        }
        Layout::Pcap => {
            if len < 24 {
                0
            } else {
                let mut reader = std::io::BufReader::new(&mut file);
                reader.seek(SeekFrom::Start(24))?;
                let mut at = 24u64;
                let mut header = [0u8; 16];
                loop {
                    if at + 16 > len || reader.read_exact(&mut header).is_err() {
                        break;
                    }
                    let incl = header
                        .get(8..12)
                        .and_then(|b| <[u8; 4]>::try_from(b).ok())
                        .map_or(0, u32::from_le_bytes);
                    let next = at + 16 + u64::from(incl);
                    if next > len {
                        break;
                    }
                    reader.seek_relative(i64::from(incl))?;
                    at = next;
                }
                at
            }
        }
    };
    if keep < len {
        file.set_len(keep)?;
        file.sync_all()?;
        tracing::warn!(file = %path.display(), cut = len - keep,
            "torn record at the end of the file (the receiver stopped while writing it) cut off; the mediator sends it again");
    }
    Ok(len - keep)
}

/// A LIID's text form made safe as a file name, one to one: a text of `[A-Za-z0-9._-]` only
/// is kept; any other has those characters replaced by `_` and, after a `~` (which no kept
/// name contains), the octets of the whole text in hex.
pub(super) fn sanitize_file_stem(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if text.chars().all(safe) {
        return text.to_owned();
    }
    // Replaced characters would let two LIIDs share a file ("A/B" and "A_B"): the stem then
    // carries the whole LIID in hex after a '~', which no kept name contains.
    let mut stem: String = text
        .chars()
        .map(|c| if safe(c) { c } else { '_' })
        .collect();
    stem.push('~');
    for b in text.as_bytes() {
        let _ = write!(stem, "{b:02x}");
    }
    stem
}

/// The classic pcap file header: microsecond timestamps, `LINKTYPE_RAW`, little-endian; of
/// the per-LIID content files and of each call's `media.pcap` alike.
pub(super) fn pcap_global_header() -> [u8; 24] {
    pcap::FileHeader {
        nanosecond: false,
        snaplen: PCAP_SNAPLEN as u32,
        linktype: LINKTYPE_RAW,
    }
    .to_bytes(false)
}

/// Appends one pcap record: the packet (cut at the snapshot length) and its original length.
fn pcap_record(out: &mut Vec<u8>, time: li_core::Timestamp, packet: &[u8], original_len: usize) {
    let captured = packet.get(..PCAP_SNAPLEN).unwrap_or(packet);
    out.extend_from_slice(&pcap_record_header(time, captured.len(), original_len));
    out.extend_from_slice(captured);
}

/// A pcap record header (microseconds, little-endian) of `captured` octets of a packet of
/// `original_len`.
pub(super) fn pcap_record_header(
    time: li_core::Timestamp,
    captured: usize,
    original_len: usize,
) -> [u8; 16] {
    // X2/X3 times are 32-bit seconds and the packet is cut at the snapshot length, so the
    // format holds every record; were it not so, the time would be pinned to its limit.
    pcap::RecordHeader::new(time, false, captured, original_len)
        .unwrap_or(pcap::RecordHeader {
            seconds: u32::MAX,
            fraction: time.subsec_micros(),
            captured: u32::try_from(captured).unwrap_or(u32::MAX),
            original: u32::try_from(original_len).unwrap_or(u32::MAX),
        })
        .to_bytes(false)
}

/// The pcap file `name` in `dir` kept in `slot`, opened (and created with its global header)
/// on first use.
fn side_pcap<'f>(
    slot: &'f mut Option<OutFile>,
    dir: &Path,
    name: &str,
    buffered: &mut usize,
    dir_dirty: &mut bool,
) -> Result<&'f mut OutFile, OutputError> {
    if slot.is_none() {
        let path = dir.join(name);
        let (file, created) =
            open_append(&path, Layout::Pcap).map_err(|e| OutputError::new(&path, &e))?;
        *dir_dirty |= created;
        let mut out = OutFile::new(path.clone(), file);
        let empty = out
            .file
            .metadata()
            .map_err(|e| OutputError::new(&path, &e))?
            .len()
            == 0;
        if empty {
            out.buf.extend_from_slice(&pcap_global_header());
            *buffered += out.buf.len();
        }
        *slot = Some(out);
    }
    slot.as_mut()
        .ok_or_else(|| OutputError::new(dir, &io::Error::other(format!("{name} not open"))))
}
