//! A hash-chained, append-only audit log.
//!
//! Every warrant change, X1 request and response, task activation and deactivation, agency
//! link state change and spool alarm is appended here by the administration function and
//! the mediator. The log is a file of JSON lines; each entry carries the SHA-256 of the
//! previous one, so editing, deleting, inserting or reordering any entry breaks the chain at
//! that entry and [`verify`] names the line.
//!
//! # Entry format and canonical form
//!
//! One entry per line, terminated by `\n` (UTF-8, no BOM):
//!
//! ```text
//! {"seq":1,"time":"2024-01-02T03:04:05.678901Z","actor":"admf","kind":"warrant.created","detail":{"liid":"LIID-1"},"prev":"000…000","hash":"9f2c…"}
//! ```
//!
//! * `seq`: sequence number, 1 for the first entry, then consecutive.
//! * `time`: UTC, RFC 3339 with exactly six fractional digits and `Z`.
//! * `actor`: the component that wrote the entry (`admf`, `mediator`, ...).
//! * `kind`: what happened ([`AuditKind`]; `warrant.created`, `x1.request`, ...).
//! * `detail`: a JSON object.
//! * `prev`: lowercase hex SHA-256 of the previous entry (its `hash`), 64 zeros for the first.
//! * `hash`: lowercase hex SHA-256 of the entry's **canonical form**.
//!
//! The canonical form is exactly the stored line without its `,"hash":"<64 hex>"` member and
//! without the final newline: the members `seq`, `time`, `actor`, `kind`, `detail`, `prev` in
//! this order, serialized compactly (no whitespace anywhere), where
//!
//! * strings escape `"` as `\"`, `\` as `\\`, U+0008/0009/000A/000C/000D as `\b` `\t` `\n`
//!   `\f` `\r`, other characters below U+0020 as `\u00xx` (lowercase hex), and write every
//!   other character as itself in UTF-8 (no `\/`, no `\u` escapes for non-ASCII);
//! * object members inside `detail` are sorted by key, comparing the keys' UTF-8 bytes, at
//!   every depth;
//! * integers are written in decimal without a sign for non-negative values or leading
//!   zeros; other numbers as the shortest representation that reads back to the same
//!   double (the form `serde_json` writes).
//!
//! An auditor therefore needs no JSON library to check a line, only SHA-256:
//!
//! ```text
//! sed -n 5p audit.log | sed -E 's/,"hash":"[0-9a-f]{64}"\}$/}/' | tr -d '\n' | sha256sum
//! ```
//!
//! prints the `hash` stored on line 5, which must also be the `prev` of line 6. Recomputing
//! from the parsed fields works too: Python's
//! `json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes
//! `detail` in the canonical form (for keys in the Basic Multilingual Plane). The chain
//! detects any change to the log *except* truncation of its tail (or its replacement by a
//! freshly computed chain): anchor the last hash elsewhere (an operator's notebook, a remote
//! log, a periodic `audit.checkpoint` entry shipped off the machine) to detect that too.
//!
//! # Durability and recovery
//!
//! Each entry is written with a single `write` of the whole line and then `fdatasync`'d
//! before [`AuditLog::append`] returns: an event the caller has been told is recorded
//! survives a crash or power loss. This costs one disk flush per entry (milliseconds on
//! rotating disks); audit events are rare (warrant changes, link state changes), so
//! durability is preferred to throughput.
//!
//! A crash in the middle of a write can leave a torn final line (no newline, or not
//! parseable). [`AuditLog::open`] cuts it off, logs a warning, reports it in
//! [`OpenReport::repaired`] and appends an `audit.repaired` entry recording the offset,
//! length, SHA-256 and text of what was discarded. A broken chain anywhere else is not
//! repaired: the log refuses to open ([`AuditError::Broken`]) so that nothing is appended to
//! a log that may have been tampered with until an operator has investigated.
//!
//! One process writes a log at a time; within it, an [`AuditLog`] is shared between tasks
//! and threads by reference (`append` takes `&self`).
//!
//! ```
//! use li_handover::audit::{AuditKind, AuditLog, verify};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("audit.log");
//! let (log, report) = AuditLog::open(&path)?;
//! assert_eq!(report.entries, 0);
//! log.append("admf", AuditKind::WarrantCreated, serde_json::json!({"liid": "LIID-1"}))?;
//! log.append("admf", AuditKind::TaskActivated, serde_json::json!({"liid": "LIID-1"}))?;
//! drop(log);
//! assert_eq!(verify(&path)?.entries, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use li_core::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev` of the first entry: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The longest line (entry) read or written, in bytes including the newline.
pub const MAX_LINE_LEN: usize = 1 << 20;

/// The actor recorded on the entries the log writes itself (`audit.repaired`).
pub const AUDIT_ACTOR: &str = "audit";

/// At most this many bytes of a discarded torn line are kept (as text) in the repair entry.
const MAX_DISCARDED_TEXT: usize = 4096;

/// The suffix member holding the hash: `,"hash":"` + 64 hex digits + `"`, before the `}`.
const HASH_MEMBER_PREFIX: &[u8] = b",\"hash\":\"";

/// An open audit log, appended to through [`AuditLog::append`].
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    inner: Mutex<Inner>,
}

/// What [`AuditLog::open`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenReport {
    /// Valid entries found in the file (not counting the repair entry appended on open).
    pub entries: u64,
    /// The sequence number of the last valid entry found (0 for an empty log).
    pub last_seq: u64,
    /// The hash of the last valid entry found ([`GENESIS_HASH`] for an empty log).
    pub last_hash: String,
    /// The torn final line that was cut off, if any.
    pub repaired: Option<TornTail>,
}

/// A torn final line cut off by [`AuditLog::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// The 1-based line number of the torn line.
    pub line: u64,
    /// The byte offset at which the file was cut.
    pub offset: u64,
    /// How many bytes were discarded.
    pub discarded: u64,
    /// Why the line was considered torn.
    pub reason: BreakReason,
}

/// The result of a successful [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// The number of entries.
    pub entries: u64,
    /// The sequence number of the last entry (0 for an empty log).
    pub last_seq: u64,
    /// The hash of the last entry ([`GENESIS_HASH`] for an empty log).
    pub last_hash: String,
}

/// What an entry of the log records; its string form is the `kind` member.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditKind {
    /// `warrant.created`: a warrant was entered into the warrant store.
    WarrantCreated,
    /// `warrant.updated`: a warrant's targets, scope, window or agencies changed.
    WarrantUpdated,
    /// `warrant.state`: a warrant's lifecycle state changed.
    WarrantStateChanged,
    /// `warrant.revoked`: a warrant was revoked before its end.
    WarrantRevoked,
    /// `warrant.deleted`: a warrant was removed from the store.
    WarrantDeleted,
    /// `x1.request`: an X1 request was sent or received (TS 103 221-1).
    X1Request,
    /// `x1.response`: an X1 response was sent or received.
    X1Response,
    /// `task.activated`: a task was activated on a network function.
    TaskActivated,
    /// `task.modified`: a task was modified on a network function.
    TaskModified,
    /// `task.deactivated`: a task was deactivated on a network function.
    TaskDeactivated,
    /// `destination.created`: an agency destination was created on a network function.
    DestinationCreated,
    /// `destination.removed`: an agency destination was removed from a network function.
    DestinationRemoved,
    /// `link.up`: a delivery link to an agency came up.
    LinkUp,
    /// `link.down`: a delivery link to an agency went down.
    LinkDown,
    /// `spool.alarm`: a delivery spool crossed an alarm threshold.
    SpoolAlarm,
    /// `audit.repaired`: the log cut off a torn final line when it was opened.
    LogRepaired,
    /// Any other kind, by its string form.
    Other(String),
}

/// One entry as parsed from the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Sequence number, from 1.
    pub seq: u64,
    /// When the entry was written.
    #[serde(
        serialize_with = "serialize_timestamp",
        deserialize_with = "deserialize_timestamp"
    )]
    pub time: Timestamp,
    /// The component that wrote it.
    pub actor: String,
    /// What happened.
    pub kind: AuditKind,
    /// Details, a JSON object.
    pub detail: Value,
    /// The hash of the previous entry.
    pub prev: String,
    /// The hash of this entry's canonical form.
    pub hash: String,
}

/// The sequence number and hash of an entry just appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Its sequence number.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
}

/// Why an entry breaks the chain.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BreakReason {
    /// The line is not an entry (not JSON, missing or extra members, wrong types, no
    /// `hash` member at the end, longer than [`MAX_LINE_LEN`]).
    #[error("unparseable: {0}")]
    Unparseable(String),
    /// The last line has no terminating newline (a torn write).
    #[error("no terminating newline")]
    MissingNewline,
    /// The stored hash is not the SHA-256 of the line's canonical form.
    #[error("hash mismatch: stored {stored}, computed {computed}")]
    HashMismatch {
        /// The `hash` member.
        stored: String,
        /// The hash of the canonical form.
        computed: String,
    },
    /// The sequence number is not the previous one plus one.
    #[error("sequence gap: expected {expected}, found {found}")]
    SequenceGap {
        /// The expected sequence number.
        expected: u64,
        /// The sequence number found.
        found: u64,
    },
    /// `prev` is not the hash of the previous entry.
    #[error("prev mismatch: expected {expected}, found {found}")]
    PrevMismatch {
        /// The previous entry's hash.
        expected: String,
        /// The `prev` member.
        found: String,
    },
}

/// Errors from [`verify`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The log could not be read.
    #[error("audit log {}: {source}", path.display())]
    Io {
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// An entry breaks the chain; the first such entry is reported.
    #[error("audit log {}: line {line}{}: {reason}", path.display(), SeqSuffix(*seq))]
    Broken {
        /// The log file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The entry's sequence number, when the line could be parsed.
        seq: Option<u64>,
        /// Why it breaks the chain.
        reason: BreakReason,
    },
}

/// Errors from [`AuditLog`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The log could not be opened, read, written or synced.
    #[error("audit log {}: {what}: {source}", path.display())]
    Io {
        /// The log file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The I/O error.
        source: io::Error,
    },
    /// The chain is broken before the last line: the log may have been tampered with and is
    /// not opened for appending.
    #[error(
        "audit log {}: line {line}{}: {reason}; refusing to append to a broken chain",
        path.display(),
        SeqSuffix(*seq)
    )]
    Broken {
        /// The log file.
        path: PathBuf,
        /// The 1-based line number of the first broken entry.
        line: u64,
        /// Its sequence number, when the line could be parsed.
        seq: Option<u64>,
        /// Why it breaks the chain.
        reason: BreakReason,
    },
    /// `detail` was not a JSON object.
    #[error("audit log {}: detail of a {kind} entry must be a JSON object", path.display())]
    DetailNotObject {
        /// The log file.
        path: PathBuf,
        /// The entry's kind.
        kind: AuditKind,
    },
    /// The entry would be longer than [`MAX_LINE_LEN`].
    #[error("audit log {}: {kind} entry of {len} bytes exceeds {MAX_LINE_LEN}", path.display())]
    TooLong {
        /// The log file.
        path: PathBuf,
        /// The entry's kind.
        kind: AuditKind,
        /// Its length in bytes.
        len: usize,
    },
    /// An earlier write failed and the file could not be restored to its last good length;
    /// the log must be reopened (which repairs the tail).
    #[error("audit log {}: an earlier write failed and could not be undone; reopen the log", path.display())]
    Failed {
        /// The log file.
        path: PathBuf,
    },
    /// The sequence number space is exhausted.
    #[error("audit log {}: sequence numbers exhausted", path.display())]
    SequenceExhausted {
        /// The log file.
        path: PathBuf,
    },
}

/// The mutable state behind the lock.
#[derive(Debug)]
struct Inner {
    file: File,
    /// Length of the file up to the end of the last good entry.
    len: u64,
    last_seq: u64,
    last_hash: String,
    /// Set when a failed write could not be undone.
    failed: bool,
}

impl AuditLog {
    /// Opens the log at `path`, creating it if needed, and checks the whole chain.
    ///
    /// A torn final line is cut off, reported in [`OpenReport::repaired`] and logged, and an
    /// `audit.repaired` entry is appended.
    ///
    /// # Errors
    ///
    /// [`AuditError::Broken`] if any entry other than the last line breaks the chain, or the
    /// last line is a complete but invalid entry (hash, sequence or prev mismatch);
    /// [`AuditError::Io`] if the file cannot be opened, read, cut or synced.
    pub fn open(path: impl AsRef<Path>) -> Result<(Self, OpenReport), AuditError> {
        let path = path.as_ref().to_path_buf();
        let io_err = |what| {
            let path = path.clone();
            move |source| AuditError::Io { path, what, source }
        };
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err("cannot open"))?;
        if !existed {
            sync_parent_dir(&path).map_err(io_err("cannot sync the directory"))?;
        }
        let scan = scan(&file).map_err(io_err("cannot read"))?;
        let (chain, torn) = match scan.broken {
            None => (scan.chain, None),
            Some(broken) => {
                let torn = broken.is_last
                    && matches!(
                        broken.reason,
                        BreakReason::MissingNewline | BreakReason::Unparseable(_)
                    );
                if !torn {
                    return Err(AuditError::Broken {
                        path,
                        line: broken.line,
                        seq: broken.seq,
                        reason: broken.reason,
                    });
                }
                (scan.chain, Some(broken))
            }
        };
        let report = OpenReport {
            entries: chain.entries,
            last_seq: chain.last_seq,
            last_hash: chain.last_hash.clone(),
            repaired: torn.as_ref().map(|b| TornTail {
                line: b.line,
                offset: b.offset,
                discarded: b.bytes.len() as u64,
                reason: b.reason.clone(),
            }),
        };
        let log = Self {
            path: path.clone(),
            inner: Mutex::new(Inner {
                file,
                len: chain.len,
                last_seq: chain.last_seq,
                last_hash: chain.last_hash,
                failed: false,
            }),
        };
        if let Some(torn) = torn {
            tracing::warn!(
                path = %path.display(),
                line = torn.line,
                offset = torn.offset,
                discarded = torn.bytes.len(),
                reason = %torn.reason,
                "audit log: cutting off a torn final line"
            );
            {
                let inner = log.lock();
                inner
                    .file
                    .set_len(torn.offset)
                    .map_err(io_err("cannot cut the torn final line"))?;
                inner
                    .file
                    .sync_all()
                    .map_err(io_err("cannot sync after cutting the torn final line"))?;
            }
            let text: String = String::from_utf8_lossy(&torn.bytes)
                .chars()
                .take(MAX_DISCARDED_TEXT)
                .collect();
            log.append(
                AUDIT_ACTOR,
                AuditKind::LogRepaired,
                serde_json::json!({
                    "line": torn.line,
                    "offset": torn.offset,
                    "discarded_bytes": torn.bytes.len(),
                    "discarded_sha256": hex(&Sha256::digest(&torn.bytes)),
                    "discarded_text": text,
                    "reason": torn.reason.to_string(),
                }),
            )?;
        }
        Ok((log, report))
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sequence number and hash of the last entry (0 and [`GENESIS_HASH`] when empty).
    pub fn last(&self) -> (u64, String) {
        let inner = self.lock();
        (inner.last_seq, inner.last_hash.clone())
    }

    /// Appends an entry stamped with the current system time; returns once it is on disk.
    ///
    /// # Errors
    ///
    /// As [`AuditLog::append_at`].
    pub fn append(
        &self,
        actor: &str,
        kind: AuditKind,
        detail: Value,
    ) -> Result<Appended, AuditError> {
        self.append_at(now(), actor, kind, detail)
    }

    /// Appends an entry stamped `time`, writes it with one `write` and `fdatasync`s the file
    /// before returning.
    ///
    /// # Errors
    ///
    /// [`AuditError::DetailNotObject`], [`AuditError::TooLong`], [`AuditError::Io`] (the
    /// write or sync failed; the file is cut back to its last good entry), and
    /// [`AuditError::Failed`] when an earlier failure could not be undone.
    pub fn append_at(
        &self,
        time: Timestamp,
        actor: &str,
        kind: AuditKind,
        detail: Value,
    ) -> Result<Appended, AuditError> {
        if !detail.is_object() {
            return Err(AuditError::DetailNotObject {
                path: self.path.clone(),
                kind,
            });
        }
        let mut inner = self.lock();
        if inner.failed {
            return Err(AuditError::Failed {
                path: self.path.clone(),
            });
        }
        let seq = inner
            .last_seq
            .checked_add(1)
            .ok_or_else(|| AuditError::SequenceExhausted {
                path: self.path.clone(),
            })?;
        let mut line = canonical_form(seq, time, actor, &kind, &detail, &inner.last_hash);
        let hash = hex(&Sha256::digest(line.as_bytes()));
        line.pop(); // the closing brace
        line.push_str(",\"hash\":\"");
        line.push_str(&hash);
        line.push_str("\"}\n");
        if line.len() > MAX_LINE_LEN {
            return Err(AuditError::TooLong {
                path: self.path.clone(),
                kind,
                len: line.len(),
            });
        }
        let written = inner
            .file
            .write_all(line.as_bytes())
            .and_then(|()| inner.file.sync_data());
        if let Err(source) = written {
            // Undo a partial write so that the next append continues a valid chain.
            let good_len = inner.len;
            if inner
                .file
                .set_len(good_len)
                .and_then(|()| inner.file.sync_all())
                .is_err()
            {
                inner.failed = true;
            }
            return Err(AuditError::Io {
                path: self.path.clone(),
                what: "cannot write an entry",
                source,
            });
        }
        inner.len += line.len() as u64;
        inner.last_seq = seq;
        inner.last_hash.clone_from(&hash);
        Ok(Appended { seq, hash })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state is consistent after every early return, so a panic elsewhere while the
        // lock was held does not invalidate it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Walks the whole chain of the log at `path`.
///
/// # Errors
///
/// [`VerifyError::Broken`] naming the first entry that breaks the chain (a torn final line
/// included), [`VerifyError::Io`] if the file cannot be read.
pub fn verify(path: impl AsRef<Path>) -> Result<VerifyReport, VerifyError> {
    read_entries(path).map(|(report, _)| report)
}

/// Walks the whole chain of the log at `path` like [`verify`] and returns its entries.
///
/// # Errors
///
/// As [`verify`].
pub fn read_entries(
    path: impl AsRef<Path>,
) -> Result<(VerifyReport, Vec<AuditEntry>), VerifyError> {
    let path = path.as_ref();
    let io_err = |source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let mut entries = Vec::new();
    let scan = scan_with(&file, |entry| entries.push(entry)).map_err(io_err)?;
    if let Some(broken) = scan.broken {
        return Err(VerifyError::Broken {
            path: path.to_path_buf(),
            line: broken.line,
            seq: broken.seq,
            reason: broken.reason,
        });
    }
    let report = VerifyReport {
        entries: scan.chain.entries,
        last_seq: scan.chain.last_seq,
        last_hash: scan.chain.last_hash,
    };
    Ok((report, entries))
}

/// The canonical form of an entry (see the [module documentation](self)).
pub fn canonical_form(
    seq: u64,
    time: Timestamp,
    actor: &str,
    kind: &AuditKind,
    detail: &Value,
    prev: &str,
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("{\"seq\":");
    out.push_str(&seq.to_string());
    out.push_str(",\"time\":\"");
    out.push_str(&time.to_string());
    out.push_str("\",\"actor\":");
    write_json_string(actor, &mut out);
    out.push_str(",\"kind\":");
    write_json_string(kind.as_str(), &mut out);
    out.push_str(",\"detail\":");
    write_canonical_json(detail, &mut out);
    out.push_str(",\"prev\":");
    write_json_string(prev, &mut out);
    out.push('}');
    out
}

impl AuditKind {
    /// The string form written in the `kind` member.
    pub fn as_str(&self) -> &str {
        match self {
            Self::WarrantCreated => "warrant.created",
            Self::WarrantUpdated => "warrant.updated",
            Self::WarrantStateChanged => "warrant.state",
            Self::WarrantRevoked => "warrant.revoked",
            Self::WarrantDeleted => "warrant.deleted",
            Self::X1Request => "x1.request",
            Self::X1Response => "x1.response",
            Self::TaskActivated => "task.activated",
            Self::TaskModified => "task.modified",
            Self::TaskDeactivated => "task.deactivated",
            Self::DestinationCreated => "destination.created",
            Self::DestinationRemoved => "destination.removed",
            Self::LinkUp => "link.up",
            Self::LinkDown => "link.down",
            Self::SpoolAlarm => "spool.alarm",
            Self::LogRepaired => "audit.repaired",
            Self::Other(other) => other,
        }
    }

    const KNOWN: [Self; 16] = [
        Self::WarrantCreated,
        Self::WarrantUpdated,
        Self::WarrantStateChanged,
        Self::WarrantRevoked,
        Self::WarrantDeleted,
        Self::X1Request,
        Self::X1Response,
        Self::TaskActivated,
        Self::TaskModified,
        Self::TaskDeactivated,
        Self::DestinationCreated,
        Self::DestinationRemoved,
        Self::LinkUp,
        Self::LinkDown,
        Self::SpoolAlarm,
        Self::LogRepaired,
    ];
}

impl FromStr for AuditKind {
    type Err = std::convert::Infallible;

    /// The known kind with this string form, or [`AuditKind::Other`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::KNOWN
            .iter()
            .find(|k| k.as_str() == s)
            .cloned()
            .unwrap_or_else(|| Self::Other(s.to_owned())))
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AuditKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuditKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let Ok(kind) = text.parse();
        Ok(kind)
    }
}

/// Formats ` (seq N)` when the sequence number is known.
struct SeqSuffix(Option<u64>);

impl fmt::Display for SeqSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(seq) => write!(f, " (seq {seq})"),
            None => Ok(()),
        }
    }
}

/// The valid prefix of a log.
#[derive(Debug)]
struct Chain {
    entries: u64,
    last_seq: u64,
    last_hash: String,
    /// Bytes up to the end of the last valid entry.
    len: u64,
}

/// The first entry that breaks the chain.
#[derive(Debug)]
struct Broken {
    line: u64,
    offset: u64,
    seq: Option<u64>,
    reason: BreakReason,
    /// Whether it is the last line of the file.
    is_last: bool,
    /// The line's bytes (at most [`MAX_LINE_LEN`] + 1).
    bytes: Vec<u8>,
}

/// The outcome of reading a log.
#[derive(Debug)]
struct Scan {
    chain: Chain,
    broken: Option<Broken>,
}

fn scan(file: &File) -> io::Result<Scan> {
    scan_with(file, |_| {})
}

/// Reads the log from the start, checking each line against the chain so far, and stops at
/// the first broken line.
fn scan_with(file: &File, mut on_entry: impl FnMut(AuditEntry)) -> io::Result<Scan> {
    let mut reader = BufReader::new(file);
    let mut chain = Chain {
        entries: 0,
        last_seq: 0,
        last_hash: GENESIS_HASH.to_owned(),
        len: 0,
    };
    let mut line_no = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let read = (&mut reader)
            .take(MAX_LINE_LEN as u64)
            .read_until(b'\n', &mut buf)?;
        if read == 0 {
            return Ok(Scan {
                chain,
                broken: None,
            });
        }
        line_no += 1;
        let checked = if buf.last() == Some(&b'\n') {
            check_line(&buf, &chain)
        } else if buf.len() >= MAX_LINE_LEN {
            Err((
                None,
                BreakReason::Unparseable(format!("line longer than {MAX_LINE_LEN} bytes")),
            ))
        } else {
            Err((None, BreakReason::MissingNewline))
        };
        match checked {
            Ok(entry) => {
                chain.entries += 1;
                chain.last_seq = entry.seq;
                chain.last_hash.clone_from(&entry.hash);
                chain.len += buf.len() as u64;
                on_entry(entry);
            }
            Err((seq, reason)) => {
                let mut rest = [0u8; 1];
                let is_last = reader.read(&mut rest)? == 0;
                return Ok(Scan {
                    broken: Some(Broken {
                        line: line_no,
                        offset: chain.len,
                        seq,
                        reason,
                        is_last,
                        bytes: std::mem::take(&mut buf),
                    }),
                    chain,
                });
            }
        }
    }
}

/// Checks one newline-terminated line against the chain so far.
fn check_line(line: &[u8], chain: &Chain) -> Result<AuditEntry, (Option<u64>, BreakReason)> {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let entry: AuditEntry = serde_json::from_slice(body)
        .map_err(|e| (None, BreakReason::Unparseable(e.to_string())))?;
    let seq = Some(entry.seq);
    let canonical = strip_hash_member(body).ok_or_else(|| {
        (
            seq,
            BreakReason::Unparseable("the line does not end with the hash member".into()),
        )
    })?;
    let computed = hex(&Sha256::digest(&canonical));
    if computed != entry.hash {
        return Err((
            seq,
            BreakReason::HashMismatch {
                stored: entry.hash,
                computed,
            },
        ));
    }
    let expected = chain.last_seq.saturating_add(1);
    if entry.seq != expected {
        return Err((
            seq,
            BreakReason::SequenceGap {
                expected,
                found: entry.seq,
            },
        ));
    }
    if entry.prev != chain.last_hash {
        return Err((
            seq,
            BreakReason::PrevMismatch {
                expected: chain.last_hash.clone(),
                found: entry.prev,
            },
        ));
    }
    Ok(entry)
}

/// `body` without its final `,"hash":"<64 hex>"` member, closing brace kept.
fn strip_hash_member(body: &[u8]) -> Option<Vec<u8>> {
    let without_brace = body.strip_suffix(b"\"}")?;
    let split = without_brace
        .len()
        .checked_sub(64 + HASH_MEMBER_PREFIX.len())?;
    let (head, member) = without_brace.split_at(split);
    let digits = member.strip_prefix(HASH_MEMBER_PREFIX)?;
    if !digits
        .iter()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    let mut canonical = head.to_vec();
    canonical.push(b'}');
    Some(canonical)
}

/// Writes `value` in the canonical JSON form: compact, object members sorted by key.
fn write_canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<_> = map.iter().collect();
            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_canonical_json(item, out);
            }
            out.push('}');
        }
    }
}

/// Writes `s` as a JSON string with the escapes of the canonical form.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The current system time (the epoch if the clock is before it).
fn now() -> Timestamp {
    Timestamp::from_system_time(std::time::SystemTime::now())
}

/// Syncs the directory holding `path`, so that a newly created file survives a crash.
fn sync_parent_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

fn serialize_timestamp<S: Serializer>(time: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(time)
}

fn deserialize_timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// An audit log several processes append to (e.g. a daemon and the command-line tools
/// sharing one warrant store): each append holds an exclusive OS file lock on
/// `<log>.lock` ([`File::lock`], `flock(2)` on Unix: released by the kernel when its holder
/// exits or crashes, so no lock is ever left behind), and reopens the log (checking the
/// chain's end) when another process has appended since this one's last entry, so the hash
/// chain stays intact.
///
/// ```
/// use li_handover::audit::{AuditKind, SharedAuditLog, verify};
/// use serde_json::json;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("audit.log");
/// let daemon = SharedAuditLog::open(&path)?;
/// let cli = SharedAuditLog::open(&path)?; // another process, in life
/// daemon.append("admf", AuditKind::WarrantCreated, json!({"liid": "LIID-1"}))?;
/// cli.append("operator", AuditKind::WarrantRevoked, json!({"liid": "LIID-1"}))?;
/// daemon.append("admf", AuditKind::WarrantCreated, json!({"liid": "LIID-2"}))?;
/// assert_eq!(verify(&path)?.entries, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SharedAuditLog {
    path: PathBuf,
    lock_path: PathBuf,
    /// The open log and the file's length after this process's last append.
    log: Mutex<Option<(AuditLog, u64)>>,
}

impl SharedAuditLog {
    /// Opens the log at `path` (as [`AuditLog::open`], under the lock), so that a broken
    /// chain is reported now rather than at the first append.
    ///
    /// # Errors
    ///
    /// As [`AuditLog::open`]; [`AuditError::Io`] when the lock file cannot be created or
    /// locked.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        let path = path.as_ref().to_path_buf();
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push(".lock");
        let shared = Self {
            lock_path: PathBuf::from(lock_name),
            path,
            log: Mutex::new(None),
        };
        let _lock = shared.lock_file()?;
        let opened = shared.reopen()?;
        *shared.log.lock().unwrap_or_else(PoisonError::into_inner) = Some(opened);
        Ok(shared)
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an entry stamped with the current system time under the lock; returns once
    /// it is on disk.
    ///
    /// # Errors
    ///
    /// As [`AuditLog::append`]; [`AuditError::Io`] when the lock cannot be taken, and the
    /// errors of [`AuditLog::open`] when the log changed under this process and no longer
    /// checks.
    pub fn append(
        &self,
        actor: &str,
        kind: AuditKind,
        detail: Value,
    ) -> Result<Appended, AuditError> {
        let _lock = self.lock_file()?;
        let mut guard = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let len = self.file_len();
        let (log, _) = match guard.take().filter(|(_, known)| *known == len) {
            Some(open) => open,
            None => self.reopen()?,
        };
        let result = log.append(actor, kind, detail);
        let len = self.file_len();
        *guard = Some((log, len));
        result
    }

    /// The lock file, locked exclusively (blocking until the holder's append is done); the
    /// lock goes with the returned handle.
    fn lock_file(&self) -> Result<File, AuditError> {
        let io_err = |what| {
            let path = self.lock_path.clone();
            move |source| AuditError::Io { path, what, source }
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .map_err(io_err("cannot open the lock file"))?;
        file.lock().map_err(io_err("cannot lock the lock file"))?;
        Ok(file)
    }

    fn reopen(&self) -> Result<(AuditLog, u64), AuditError> {
        let (log, _) = AuditLog::open(&self.path)?;
        Ok((log, self.file_len()))
    }

    fn file_len(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn ts(secs: u64) -> Timestamp {
        Timestamp::from_secs_micros(secs, 123_456).unwrap()
    }

    /// A log with `n` entries at `dir/audit.log`.
    fn log_with(dir: &Path, n: u64) -> PathBuf {
        let path = dir.join("audit.log");
        let (log, _) = AuditLog::open(&path).unwrap();
        for i in 1..=n {
            log.append_at(
                ts(1_700_000_000 + i),
                "admf",
                AuditKind::WarrantCreated,
                json!({"liid": format!("LIID-{i}"), "n": i}),
            )
            .unwrap();
        }
        path
    }

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn write_lines(path: &Path, lines: &[String]) {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(path, text).unwrap();
    }

    fn broken_at(path: &Path) -> (u64, Option<u64>, BreakReason) {
        match verify(path) {
            Err(VerifyError::Broken {
                line, seq, reason, ..
            }) => (line, seq, reason),
            other => panic!("expected a broken chain, got {other:?}"),
        }
    }

    #[test]
    fn canonical_form_is_documented_form() {
        let detail = json!({"z": 1, "a": {"y": [true, null, "x\"\\\n\u{1}é/"], "b": -2}});
        let text = canonical_form(
            7,
            ts(1_704_164_645),
            "ad\"mf",
            &AuditKind::Other("custom.kind".into()),
            &detail,
            GENESIS_HASH,
        );
        assert_eq!(
            text,
            format!(
                "{{\"seq\":7,\"time\":\"2024-01-02T03:04:05.123456Z\",\"actor\":\"ad\\\"mf\",\
                 \"kind\":\"custom.kind\",\"detail\":{{\"a\":{{\"b\":-2,\"y\":[true,null,\
                 \"x\\\"\\\\\\n\\u0001é/\"]}},\"z\":1}},\"prev\":\"{GENESIS_HASH}\"}}"
            )
        );
        // The canonical form is valid JSON that reads back to the same values.
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["detail"], detail);
    }

    #[test]
    fn stored_line_hash_is_sha256_of_line_without_hash_member() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_with(dir.path(), 2);
        let lines = lines(&path);
        let first: Value = serde_json::from_str(&lines[0]).unwrap();
        let second: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(first["seq"], 1);
        assert_eq!(first["prev"], GENESIS_HASH);
        assert_eq!(first["time"], "2023-11-14T22:13:21.123456Z");
        // The auditor's recipe: drop the hash member, hash the rest.
        let hash = first["hash"].as_str().unwrap();
        let suffix = format!(",\"hash\":\"{hash}\"}}");
        let canonical = format!("{}}}", lines[0].strip_suffix(&suffix).unwrap());
        assert_eq!(hex(&Sha256::digest(canonical.as_bytes())), hash);
        assert_eq!(second["prev"], hash);
    }

    #[test]
    fn append_reopen_continue() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_with(dir.path(), 3);
        let before = verify(&path).unwrap();
        assert_eq!(before.entries, 3);
        assert_eq!(before.last_seq, 3);

        let (log, report) = AuditLog::open(&path).unwrap();
        assert_eq!(report.entries, 3);
        assert_eq!(report.last_seq, 3);
        assert_eq!(report.last_hash, before.last_hash);
        assert_eq!(report.repaired, None);
        assert_eq!(log.last(), (3, before.last_hash.clone()));
        let appended = log
            .append("mediator", AuditKind::LinkUp, json!({"did": "x"}))
            .unwrap();
        assert_eq!(appended.seq, 4);
        drop(log);

        let (report, entries) = read_entries(&path).unwrap();
        assert_eq!(report.entries, 4);
        assert_eq!(report.last_hash, appended.hash);
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[3].prev, before.last_hash);
        assert_eq!(entries[3].kind, AuditKind::LinkUp);
        assert_eq!(entries[3].actor, "mediator");
        assert_eq!(entries[0].detail, json!({"liid": "LIID-1", "n": 1}));
        assert_eq!(entries[0].time, ts(1_700_000_001));
    }

    #[test]
    fn empty_and_new_logs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.log");
        assert!(matches!(verify(&path), Err(VerifyError::Io { .. })));
        let (log, report) = AuditLog::open(&path).unwrap();
        assert_eq!(report.entries, 0);
        assert_eq!(report.last_hash, GENESIS_HASH);
        assert!(path.exists());
        let err = log
            .append("admf", AuditKind::X1Request, json!([1, 2]))
            .unwrap_err();
        assert!(matches!(err, AuditError::DetailNotObject { .. }), "{err}");
        let report = verify(&path).unwrap();
        assert_eq!(
            report,
            VerifyReport {
                entries: 0,
                last_seq: 0,
                last_hash: GENESIS_HASH.into()
            }
        );
    }

    #[test]
    fn kinds_round_trip() {
        for kind in AuditKind::KNOWN {
            assert_eq!(kind.as_str().parse::<AuditKind>(), Ok(kind.clone()));
        }
        assert_eq!(
            "x1.keepalive".parse::<AuditKind>(),
            Ok(AuditKind::Other("x1.keepalive".into()))
        );
        assert_eq!(AuditKind::SpoolAlarm.to_string(), "spool.alarm");
    }

    #[test]
    fn torn_tail_is_cut_and_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_with(dir.path(), 3);
        let good_len = std::fs::metadata(&path).unwrap().len();
        // A crash in the middle of writing entry 4: half a line, no newline.
        let (log, _) = AuditLog::open(&path).unwrap();
        log.append_at(ts(1), "admf", AuditKind::TaskActivated, json!({"k": "v"}))
            .unwrap();
        drop(log);
        let full = std::fs::read(&path).unwrap();
        let torn_len = good_len + (full.len() as u64 - good_len) / 2;
        std::fs::write(&path, &full[..torn_len as usize]).unwrap();
        let (line, seq, reason) = broken_at(&path);
        assert_eq!((line, seq, reason), (4, None, BreakReason::MissingNewline));

        let (log, report) = AuditLog::open(&path).unwrap();
        assert_eq!(report.entries, 3);
        assert_eq!(
            report.repaired,
            Some(TornTail {
                line: 4,
                offset: good_len,
                discarded: torn_len - good_len,
                reason: BreakReason::MissingNewline,
            })
        );
        // The repair is itself an entry, and appending continues the chain.
        assert_eq!(log.last().0, 4);
        log.append("admf", AuditKind::TaskActivated, json!({}))
            .unwrap();
        drop(log);
        let (report, entries) = read_entries(&path).unwrap();
        assert_eq!(report.entries, 5);
        assert_eq!(entries[3].kind, AuditKind::LogRepaired);
        assert_eq!(entries[3].actor, AUDIT_ACTOR);
        assert_eq!(entries[3].detail["line"], 4);
        assert_eq!(entries[3].detail["offset"], good_len);
        assert_eq!(entries[3].detail["discarded_bytes"], torn_len - good_len);
        let text = entries[3].detail["discarded_text"].as_str().unwrap();
        assert!(text.starts_with("{\"seq\":4,"), "{text}");
        assert_eq!(entries[4].kind, AuditKind::TaskActivated);
    }

    #[test]
    fn unparseable_last_line_is_torn_but_not_in_the_middle() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_with(dir.path(), 2);
        let mut text = lines(&path);
        // Zeros left by a crash on some file systems, with a newline after them.
        text.push("\0\0\0\0".into());
        write_lines(&path, &text);
        let (_, report) = AuditLog::open(&path).unwrap();
        let torn = report.repaired.unwrap();
        assert_eq!((torn.line, torn.discarded), (3, 5));
        assert!(matches!(torn.reason, BreakReason::Unparseable(_)));
        assert_eq!(verify(&path).unwrap().entries, 3);

        // The same garbage before a valid entry is not a torn tail.
        let mut text = lines(&path);
        text.insert(1, "\0\0\0\0".into());
        write_lines(&path, &text);
        let err = AuditLog::open(&path).unwrap_err();
        match &err {
            AuditError::Broken {
                line: 2,
                seq: None,
                reason: BreakReason::Unparseable(_),
                ..
            } => {}
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    #[test]
    fn editing_any_field_of_any_entry_is_detected_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_with(dir.path(), 4);
        let original = lines(&path);
        let edits: [(&str, &str); 7] = [
            ("\"seq\":", "\"seq\":1"),
            ("T22:", "T23:"),
            ("\"actor\":\"admf\"", "\"actor\":\"admx\""),
            ("warrant.created", "warrant.deleted"),
            ("LIID-", "LIID-9"),
            ("\"prev\":\"", "\"prev\":\"f"),
            ("\"hash\":\"", "\"hash\":\"f"),
        ];
        for index in 0..original.len() {
            for (from, to) in edits {
                let mut text = original.clone();
                let edited = text[index].replacen(from, to, 1);
                assert_ne!(edited, text[index], "edit {from:?} did not apply");
                text[index] = edited;
                if from.starts_with("\"prev\"") || from.starts_with("\"hash\"") {
                    // Keep 64 digits so the line still has the documented shape.
                    let line = &mut text[index];
                    let at = line.find(to).unwrap() + to.len() + 63;
                    line.remove(at);
                }
                write_lines(&path, &text);
                let (line, _, reason) = broken_at(&path);
                assert_eq!(
                    line,
                    index as u64 + 1,
                    "edit {from:?} on line {}",
                    index + 1
                );
                assert!(
                    matches!(reason, BreakReason::HashMismatch { .. }),
                    "{from:?}: {reason}"
                );
                let err = AuditLog::open(&path).unwrap_err();
                assert!(
                    matches!(err, AuditError::Broken { line: l, .. } if l == index as u64 + 1),
                    "{err}"
                );
            }
        }
        write_lines(&path, &original);
        assert_eq!(verify(&path).unwrap().entries, 4);
    }

    #[test]
    fn rewriting_an_entry_with_a_fresh_hash_breaks_the_next_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_with(dir.path(), 3);
        let (_, entries) = read_entries(&path).unwrap();
        let mut text = lines(&path);
        let e = &entries[1];
        let forged = json!({"liid": "LIID-forged", "n": 2});
        let mut line = canonical_form(e.seq, e.time, &e.actor, &e.kind, &forged, &e.prev);
        let hash = hex(&Sha256::digest(line.as_bytes()));
        line.pop();
        text[1] = format!("{line},\"hash\":\"{hash}\"}}");
        write_lines(&path, &text);
        let (line, seq, reason) = broken_at(&path);
        assert_eq!((line, seq), (3, Some(3)));
        assert!(
            matches!(reason, BreakReason::PrevMismatch { .. }),
            "{reason}"
        );
    }

    #[test]
    fn deleting_and_swapping_entries_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_with(dir.path(), 5);
        let original = lines(&path);

        for index in 0..5 {
            let mut text = original.clone();
            text.remove(index);
            write_lines(&path, &text);
            if index == 4 {
                // Deleting the tail leaves a valid but shorter chain: only an external
                // anchor of the last hash detects it.
                assert_eq!(verify(&path).unwrap().entries, 4);
                continue;
            }
            let (line, seq, reason) = broken_at(&path);
            assert_eq!(line, index as u64 + 1);
            assert_eq!(seq, Some(index as u64 + 2));
            assert_eq!(
                reason,
                BreakReason::SequenceGap {
                    expected: index as u64 + 1,
                    found: index as u64 + 2
                }
            );
        }

        for index in 0..4 {
            let mut text = original.clone();
            text.swap(index, index + 1);
            write_lines(&path, &text);
            let (line, seq, reason) = broken_at(&path);
            assert_eq!((line, seq), (index as u64 + 1, Some(index as u64 + 2)));
            assert!(
                matches!(reason, BreakReason::SequenceGap { .. }),
                "{reason}"
            );
            assert!(matches!(
                AuditLog::open(&path),
                Err(AuditError::Broken { line: l, .. }) if l == index as u64 + 1
            ));
        }

        // A duplicated entry: the copy has a stale sequence number.
        let mut text = original.clone();
        text.insert(3, original[1].clone());
        write_lines(&path, &text);
        let (line, seq, _) = broken_at(&path);
        assert_eq!((line, seq), (4, Some(2)));
    }

    #[test]
    fn concurrent_appends_keep_a_valid_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let (log, _) = AuditLog::open(&path).unwrap();
        let log = Arc::new(log);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    for i in 0..25 {
                        log.append(
                            &format!("worker-{t}"),
                            AuditKind::SpoolAlarm,
                            json!({"i": i}),
                        )
                        .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let (report, entries) = read_entries(&path).unwrap();
        assert_eq!(report.entries, 100);
        assert_eq!(log.last(), (100, report.last_hash));
        for t in 0..4 {
            let actor = format!("worker-{t}");
            let mine: Vec<_> = entries
                .iter()
                .filter(|e| e.actor == actor)
                .map(|e| e.detail["i"].as_u64().unwrap())
                .collect();
            assert_eq!(mine, (0..25).collect::<Vec<_>>());
        }
    }

    /// Two handles on one log (as two processes have: each its own open file and lock
    /// handle; `flock` locks conflict between open files even within one process) appending
    /// from four threads at once: every entry is kept, in one intact chain.
    #[test]
    fn shared_handles_appending_at_once_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let a = Arc::new(SharedAuditLog::open(&path).unwrap());
        let b = Arc::new(SharedAuditLog::open(&path).unwrap());
        let threads: Vec<_> = [a.clone(), b.clone(), a, b]
            .into_iter()
            .enumerate()
            .map(|(t, log)| {
                std::thread::spawn(move || {
                    for n in 0..50 {
                        log.append(
                            "test",
                            AuditKind::WarrantCreated,
                            serde_json::json!({ "thread": t, "n": n }),
                        )
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let report = verify(&path).unwrap();
        assert_eq!(report.entries, 200);
        let mut seen: Vec<(u64, u64)> = read_entries(&path)
            .unwrap()
            .1
            .into_iter()
            .map(|e| {
                (
                    e.detail["thread"].as_u64().unwrap(),
                    e.detail["n"].as_u64().unwrap(),
                )
            })
            .collect();
        seen.sort_unstable();
        let want: Vec<(u64, u64)> = (0..4).flat_map(|t| (0..50).map(move |n| (t, n))).collect();
        assert_eq!(seen, want);
    }
}
