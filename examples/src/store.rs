//! The warrant store of the administration function: [`WarrantStore`], SQLite by default
//! ([`SqliteStore`]).
//!
//! A [`Warrant`] is the administration function's record of one lawful authorisation for one
//! LIID: the targets, what to deliver, when, to which agencies, and where it is in its
//! lifecycle ([`WarrantState`]). It is turned into the [`li_core::Task`] provisioned over X1
//! by [`Warrant::to_task`], so that every rule about tasks (at least one target, no
//! duplicates, HI3 present when CC is delivered, usable delivery addresses) is checked in one
//! place, `li-core`; the store adds only what is its own (LIID and XID unique, agency names).
//!
//! The store never reads a clock: creation, update and state-change times are passed in.
//! What a warrant needs at an instant is decided by [`crate::admf::disposition`], from the
//! warrants the store lists, so that the administration function drives activation from its
//! own timer.
//!
//! ```
//! use li_core::{
//!     DeliveryAddress, DestinationId, HandoverFormat, InterceptScope, Timestamp,
//!     ValidityWindow, Xid,
//! };
//! use li_examples::admf::{Disposition, disposition};
//! use li_examples::store::{Agency, SqliteStore, Warrant, WarrantState, WarrantStore};
//!
//! let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(dir.path().join("warrants.db"))?;
//! let start = Timestamp::from_secs_micros(1_704_067_200, 0)?;
//! let warrant = Warrant::new(
//!     "LIID-0001".parse()?,
//!     Xid::new_v4_from_random([7; 16]),
//!     vec!["ipv4:192.0.2.1".parse()?],
//!     InterceptScope::IriOnly,
//!     ValidityWindow::new(start, None)?,
//!     vec![Agency {
//!         id: DestinationId::new_v4_from_random([9; 16]),
//!         name: "Agency A".into(),
//!         hi2: DeliveryAddress::new("lea.example", 6000, true),
//!         hi3: None,
//!         format: HandoverFormat::etsi_default(),
//!     }],
//!     start,
//! )?;
//! store.create(&warrant)?;
//! let listed = store.list()?;
//! assert_eq!(listed, [warrant.clone()]);
//! let no_lead = std::time::Duration::ZERO;
//! let now = disposition(&listed[0], start, no_lead, no_lead);
//! assert_eq!(now, Disposition::Provision);
//! let active = store.set_state(&warrant.liid, WarrantState::Active, start)?;
//! assert_eq!(active.to_task()?.liid(), warrant.liid);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use li_core::{
    DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptScope, Liid,
    TargetIdentifier, Task, Timestamp, ValidityWindow, Xid,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

/// One warrant as held by the administration function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warrant {
    /// The Lawful Interception IDentifier; unique in a store.
    pub liid: Liid,
    /// The task identifier used on X1 (TS 103 221-1 `XId`); unique in a store.
    pub xid: Xid,
    /// The target identifiers (at least one, no duplicates).
    pub targets: Vec<TargetIdentifier>,
    /// What is delivered.
    pub scope: InterceptScope,
    /// When the warrant is in force.
    pub window: ValidityWindow,
    /// The agencies receiving the intercept (at least one, distinct destination ids).
    pub agencies: Vec<Agency>,
    /// Where the warrant is in its lifecycle.
    pub state: WarrantState,
    /// When the warrant was entered.
    pub created: Timestamp,
    /// When the warrant was last changed (content or state).
    pub updated: Timestamp,
}

/// An agency receiving a warrant's intercept: one X1 destination (TS 103 221-1 clause 6.3.1.2
/// `DestinationDetails`) with a human-readable name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agency {
    /// The destination identifier (`DId`).
    pub id: DestinationId,
    /// The agency's name, for operators and the audit log (non-empty, no control characters).
    pub name: String,
    /// Where IRI is delivered (HI2).
    pub hi2: DeliveryAddress,
    /// Where CC is delivered (HI3); required when the scope includes CC.
    pub hi3: Option<DeliveryAddress>,
    /// The handover format the agency expects.
    pub format: HandoverFormat,
}

/// The lifecycle of a warrant.
///
/// ```text
/// Pending ──► Active ──► Ended
///    │           │
///    ├───────────┴─────► Revoked
///    └─────────────────► Ended   (window over before it was activated)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WarrantState {
    /// Entered, not yet provisioned (its window has not started, or activation is due).
    Pending,
    /// Provisioned on the network functions.
    Active,
    /// Its window is over and it has been deactivated. Terminal.
    Ended,
    /// Withdrawn before its end. Terminal.
    Revoked,
}

/// A network element's refusal of a warrant's task (TS 103 221-1 `ErrorResponse`), kept
/// with the warrant until the NE accepts the task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The NE that refused.
    pub ne: String,
    /// Its reason (the error code and description it sent).
    pub reason: String,
    /// When it last refused.
    pub at: Timestamp,
}

/// Errors of the warrant store; each names the warrant (LIID) or the file concerned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file is not an SQLite database (or is corrupt).
    #[error("warrant store {}: not an SQLite database or corrupt: {source}", path.display())]
    NotADatabase {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The file is an SQLite database of some other application.
    #[error("warrant store {}: an SQLite database of another application ({reason})", path.display())]
    Foreign {
        /// The database file.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },
    /// The database was written by a newer version of this software.
    #[error(
        "warrant store {}: schema version {found} is newer than the supported version {supported}; \
         upgrade the software or restore a backup",
        path.display()
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The warrant breaks a rule of `li-core`'s task model.
    #[error("warrant {liid}: {source}")]
    Invalid {
        /// The warrant.
        liid: Liid,
        /// The rule it breaks.
        source: li_core::Error,
    },
    /// An agency name is empty or has control characters.
    #[error("warrant {liid}: agency {destination}: name is empty or contains control characters")]
    InvalidAgencyName {
        /// The warrant.
        liid: Liid,
        /// The agency's destination id.
        destination: DestinationId,
    },
    /// An agency uses a handover format this store cannot record.
    #[error("warrant {liid}: agency {destination}: unsupported handover format {format:?}")]
    UnsupportedFormat {
        /// The warrant.
        liid: Liid,
        /// The agency's destination id.
        destination: DestinationId,
        /// The format.
        format: HandoverFormat,
    },
    /// A warrant with this LIID exists already.
    #[error("warrant {liid}: a warrant with this LIID exists already")]
    Duplicate {
        /// The warrant.
        liid: Liid,
    },
    /// Another warrant uses this XID.
    #[error("warrant {liid}: XID {xid} is already used by warrant {existing}")]
    DuplicateXid {
        /// The warrant being created.
        liid: Liid,
        /// The XID.
        xid: Xid,
        /// The warrant holding it.
        existing: Liid,
    },
    /// No warrant has this LIID.
    #[error("warrant {liid}: not found")]
    NotFound {
        /// The LIID looked for.
        liid: Liid,
    },
    /// An update tried to change the XID, which identifies the task on X1.
    #[error("warrant {liid}: the XID cannot change (stored {stored}, given {given})")]
    XidChanged {
        /// The warrant.
        liid: Liid,
        /// The stored XID.
        stored: Xid,
        /// The XID in the update.
        given: Xid,
    },
    /// The state change is not allowed from the current state.
    #[error("warrant {liid}: cannot go from {from} to {to}")]
    InvalidTransition {
        /// The warrant.
        liid: Liid,
        /// Its current state.
        from: WarrantState,
        /// The requested state.
        to: WarrantState,
    },
    /// The operation is not allowed in the warrant's current state (updating an ended or
    /// revoked warrant, deleting an active one).
    #[error("warrant {liid}: cannot {operation} a warrant that is {state}")]
    WrongState {
        /// The warrant.
        liid: Liid,
        /// What was attempted.
        operation: &'static str,
        /// Its current state.
        state: WarrantState,
    },
    /// A stored row could not be read back into a warrant.
    #[error("warrant store {}: warrant {liid}: {what}", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// The LIID as stored (text).
        liid: String,
        /// What is wrong.
        what: String,
    },
    /// The database reported an error.
    #[error("warrant store {}: {context}: {source}", path.display())]
    Database {
        /// The database file.
        path: PathBuf,
        /// What was being done, naming the warrant if any.
        context: String,
        /// The SQLite error.
        source: rusqlite::Error,
    },
}

/// Persistent storage of warrants. Implementations are shared between tasks.
pub trait WarrantStore: Send + Sync {
    /// Enters a new warrant, checked with [`Warrant::validate`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`], [`StoreError::InvalidAgencyName`],
    /// [`StoreError::Duplicate`], [`StoreError::DuplicateXid`], or a storage error.
    fn create(&self, warrant: &Warrant) -> Result<(), StoreError>;

    /// The warrant with this LIID, if any.
    ///
    /// # Errors
    ///
    /// A storage error.
    fn get(&self, liid: &Liid) -> Result<Option<Warrant>, StoreError>;

    /// Every warrant, ordered by LIID.
    ///
    /// # Errors
    ///
    /// A storage error.
    fn list(&self) -> Result<Vec<Warrant>, StoreError>;

    /// Replaces the targets, scope, window and agencies of the warrant `warrant.liid` and
    /// sets its update time to `warrant.updated`; the stored state and creation time are
    /// kept. Returns the warrant as stored.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`StoreError::XidChanged`], [`StoreError::WrongState`]
    /// (ended or revoked), the validation errors of [`WarrantStore::create`], or a storage
    /// error.
    fn update(&self, warrant: &Warrant) -> Result<Warrant, StoreError>;

    /// Moves the warrant to `state` at time `at` (see [`WarrantState::can_become`]); returns
    /// the warrant as stored.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`StoreError::InvalidTransition`], or a storage error.
    fn set_state(
        &self,
        liid: &Liid,
        state: WarrantState,
        at: Timestamp,
    ) -> Result<Warrant, StoreError>;

    /// Removes a warrant that is not active (deactivate or revoke it first).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`StoreError::WrongState`] (active), or a storage error.
    fn delete(&self, liid: &Liid) -> Result<(), StoreError>;
}

impl Warrant {
    /// A new [`WarrantState::Pending`] warrant created at `now`, checked with
    /// [`Warrant::validate`].
    ///
    /// # Errors
    ///
    /// As [`Warrant::validate`].
    pub fn new(
        liid: Liid,
        xid: Xid,
        targets: Vec<TargetIdentifier>,
        scope: InterceptScope,
        window: ValidityWindow,
        agencies: Vec<Agency>,
        now: Timestamp,
    ) -> Result<Self, StoreError> {
        let warrant = Self {
            liid,
            xid,
            targets,
            scope,
            window,
            agencies,
            state: WarrantState::Pending,
            created: now,
            updated: now,
        };
        warrant.validate()?;
        Ok(warrant)
    }

    /// The task provisioned over X1 for this warrant, built (and so checked) by `li-core`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] with the `li-core` rule broken.
    pub fn to_task(&self) -> Result<Task, StoreError> {
        Task::builder(self.liid, self.xid, self.scope, self.window)
            .targets(self.targets.iter().cloned())
            .destinations(self.agencies.iter().map(Agency::to_destination))
            .build()
            .map_err(|source| StoreError::Invalid {
                liid: self.liid,
                source,
            })
    }

    /// Checks the warrant: the rules of [`li_core::TaskBuilder::build`] (through
    /// [`Warrant::to_task`]), then agency names and handover formats.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`], [`StoreError::InvalidAgencyName`],
    /// [`StoreError::UnsupportedFormat`].
    pub fn validate(&self) -> Result<(), StoreError> {
        self.to_task()?;
        for agency in &self.agencies {
            if agency.name.trim().is_empty() || agency.name.chars().any(char::is_control) {
                return Err(StoreError::InvalidAgencyName {
                    liid: self.liid,
                    destination: agency.id,
                });
            }
            if format_to_text(agency.format).is_none() {
                return Err(StoreError::UnsupportedFormat {
                    liid: self.liid,
                    destination: agency.id,
                    format: agency.format,
                });
            }
        }
        Ok(())
    }
}

impl Agency {
    /// The X1 destination of this agency.
    pub fn to_destination(&self) -> Destination {
        Destination::new(self.id, self.hi2.clone(), self.hi3.clone(), self.format)
    }
}

impl WarrantState {
    /// The text form stored in the database: `pending`, `active`, `ended`, `revoked`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Ended => "ended",
            Self::Revoked => "revoked",
        }
    }

    /// Whether a warrant may go from this state to `next`: pending → active, ended or
    /// revoked; active → ended or revoked; nothing from ended or revoked.
    pub const fn can_become(self, next: Self) -> bool {
        matches!(
            (self, next),
            (Self::Pending, Self::Active | Self::Ended | Self::Revoked)
                | (Self::Active, Self::Ended | Self::Revoked)
        )
    }

    /// Whether the state is final (ended or revoked).
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Ended | Self::Revoked)
    }
}

impl fmt::Display for WarrantState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WarrantState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Pending, Self::Active, Self::Ended, Self::Revoked]
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown warrant state {s:?}"))
    }
}

/// The warrant store in an SQLite database.
///
/// The database runs in WAL mode with `synchronous=FULL` (a committed change survives power
/// loss) and foreign keys on; every change is one transaction. Its schema is versioned in
/// the `schema_version` table and identified by `PRAGMA application_id` =
/// [`SqliteStore::APPLICATION_ID`]; [`SqliteStore::open`] migrates older schemas and refuses
/// newer ones and databases of other applications.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// `PRAGMA application_id` of a warrant store: `LIWS` in ASCII.
    pub const APPLICATION_ID: i32 = 0x4c49_5753;

    /// The schema version this build writes.
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    /// Opens (creating if needed) the warrant store at `path` and brings its schema up to
    /// [`SqliteStore::SCHEMA_VERSION`].
    ///
    /// # Errors
    ///
    /// [`StoreError::NotADatabase`], [`StoreError::Foreign`], [`StoreError::NewerSchema`],
    /// [`StoreError::Database`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let db_err = |context: &str| {
            let path = path.clone();
            let context = context.to_owned();
            move |source| StoreError::Database {
                path,
                context,
                source,
            }
        };
        let mut conn = Connection::open(&path).map_err(db_err("cannot open"))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(db_err("cannot set the busy timeout"))?;
        // The first read of the header tells a database from anything else.
        let application_id: i32 = conn
            .query_row("PRAGMA application_id", [], |row| row.get(0))
            .map_err(|source| StoreError::NotADatabase {
                path: path.clone(),
                source,
            })?;
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
                [],
                |row| row.get(0),
            )
            .map_err(|source| StoreError::NotADatabase {
                path: path.clone(),
                source,
            })?;
        if application_id != Self::APPLICATION_ID && !(application_id == 0 && tables == 0) {
            return Err(StoreError::Foreign {
                path,
                reason: format!(
                    "application_id {application_id:#x}, {tables} tables; expected \
                     application_id {:#x}",
                    Self::APPLICATION_ID
                ),
            });
        }
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(db_err("cannot enable foreign keys"))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(db_err("cannot enable WAL mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database {
                path,
                context: format!("cannot enable WAL mode (journal mode is {mode})"),
                source: rusqlite::Error::InvalidQuery,
            });
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_err("cannot set synchronous=FULL"))?;

        let found = if tables == 0 {
            0
        } else {
            conn.query_row(
                "SELECT coalesce(max(version), 0) FROM schema_version",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map_err(db_err("cannot read the schema version"))?
        };
        if found > Self::SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path,
                found,
                supported: Self::SCHEMA_VERSION,
            });
        }
        for (version, sql) in (1..)
            .zip(MIGRATIONS.iter())
            .skip(usize::try_from(found).unwrap_or(0))
        {
            let context = format!("cannot migrate the schema to version {version}");
            let tx = conn.transaction().map_err(db_err(&context))?;
            tx.execute_batch(sql).map_err(db_err(&context))?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                params![version],
            )
            .map_err(db_err(&context))?;
            tx.pragma_update(None, "application_id", Self::APPLICATION_ID)
                .map_err(db_err(&context))?;
            tx.commit().map_err(db_err(&context))?;
        }
        Ok(Self {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that network element `ne` refused the task of warrant `liid` at `at`, for
    /// `reason` (replacing an earlier refusal by the same NE).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], or a storage error.
    pub fn set_refusal(
        &self,
        liid: &Liid,
        ne: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let changed = self
            .lock()
            .execute(
                "INSERT INTO warrant_refusals (liid, ne, reason, at)
                 SELECT liid, ?2, ?3, ?4 FROM warrants WHERE liid = ?1
                 ON CONFLICT (liid, ne) DO UPDATE SET reason = excluded.reason, at = excluded.at",
                params![liid.to_string(), ne, reason, micros(at)],
            )
            .map_err(self.db_err(format!("cannot record the refusal of warrant {liid}")))?;
        if changed == 0 {
            return Err(StoreError::NotFound { liid: *liid });
        }
        Ok(())
    }

    /// Forgets the refusal of warrant `liid` by `ne` (the NE accepted its task); whether
    /// there was one.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn clear_refusal(&self, liid: &Liid, ne: &str) -> Result<bool, StoreError> {
        let changed = self
            .lock()
            .execute(
                "DELETE FROM warrant_refusals WHERE liid = ?1 AND ne = ?2",
                params![liid.to_string(), ne],
            )
            .map_err(self.db_err(format!("cannot clear the refusal of warrant {liid}")))?;
        Ok(changed > 0)
    }

    /// The refusals of warrant `liid`: (NE, reason, when), ordered by NE.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn refusals(&self, liid: &Liid) -> Result<Vec<Refusal>, StoreError> {
        Ok(self
            .refusals_of(Some(liid))?
            .remove(liid)
            .unwrap_or_default())
    }

    /// The refusals of every warrant that has some, by LIID, each ordered by NE: one query
    /// for a listing.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn all_refusals(&self) -> Result<HashMap<Liid, Vec<Refusal>>, StoreError> {
        self.refusals_of(None)
    }

    /// The refusals of warrant `liid`, or of every warrant.
    fn refusals_of(&self, liid: Option<&Liid>) -> Result<HashMap<Liid, Vec<Refusal>>, StoreError> {
        let context = || match liid {
            Some(liid) => format!("cannot read the refusals of warrant {liid}"),
            None => "cannot read the refusals".to_owned(),
        };
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT liid, ne, reason, at FROM warrant_refusals
                 WHERE ?1 IS NULL OR liid = ?1 ORDER BY liid, ne",
            )
            .map_err(self.db_err(context()))?;
        let rows = stmt
            .query_map(params![liid.map(ToString::to_string)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(self.db_err(context()))?;
        let mut out: HashMap<Liid, Vec<Refusal>> = HashMap::new();
        for row in rows {
            let (text, ne, reason, at) = row.map_err(self.db_err(context()))?;
            let corrupt = |what: String| StoreError::Corrupt {
                path: self.path.clone(),
                liid: text.clone(),
                what,
            };
            let warrant: Liid = text.parse().map_err(|e| corrupt(format!("LIID: {e}")))?;
            let at = timestamp_of(at)
                .ok_or_else(|| corrupt(format!("refusal time {at} is not a valid time")))?;
            out.entry(warrant)
                .or_default()
                .push(Refusal { ne, reason, at });
        }
        Ok(out)
    }

    /// The schema version recorded in the database.
    ///
    /// # Errors
    ///
    /// A storage error.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.lock()
            .query_row("SELECT max(version) FROM schema_version", [], |row| {
                row.get(0)
            })
            .map_err(self.db_err("cannot read the schema version".into()))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held leaves no transaction open (a dropped
        // `Transaction` rolls back), so the connection is still usable.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn db_err(&self, context: String) -> impl FnOnce(rusqlite::Error) -> StoreError + use<> {
        let path = self.path.clone();
        move |source| StoreError::Database {
            path,
            context,
            source,
        }
    }

    /// Runs `f` in a transaction committed if it succeeds.
    fn in_transaction<T>(
        &self,
        context: impl Fn() -> String,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(self.db_err(context()))?;
        let value = f(&tx)?;
        tx.commit().map_err(self.db_err(context()))?;
        Ok(value)
    }

    /// The warrant `liid` read through `conn`.
    fn load(&self, conn: &Connection, liid: &Liid) -> Result<Option<Warrant>, StoreError> {
        let context = || format!("cannot read warrant {liid}");
        let row = conn
            .query_row(
                "SELECT liid, xid, scope, valid_from, valid_until, state, created_at, updated_at
                 FROM warrants WHERE liid = ?1",
                params![liid.to_string()],
                WarrantRow::from_row,
            )
            .optional()
            .map_err(self.db_err(context()))?;
        row.map(|row| self.complete(conn, row)).transpose()
    }

    /// Every warrant matching `filter` (an SQL condition on `warrants`), in `order`.
    fn load_where(
        &self,
        conn: &Connection,
        filter: &str,
        order: &str,
        params: impl rusqlite::Params,
        context: &str,
    ) -> Result<Vec<Warrant>, StoreError> {
        let sql = format!(
            "SELECT liid, xid, scope, valid_from, valid_until, state, created_at, updated_at
             FROM warrants WHERE {filter} ORDER BY {order}"
        );
        let rows = conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| {
                stmt.query_map(params, WarrantRow::from_row)?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(self.db_err(context.to_owned()))?;
        rows.into_iter()
            .map(|row| self.complete(conn, row))
            .collect()
    }

    /// Reads the targets and agencies of `row` and decodes the whole warrant.
    fn complete(&self, conn: &Connection, row: WarrantRow) -> Result<Warrant, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt {
            path: self.path.clone(),
            liid: row.liid.clone(),
            what,
        };
        let context = || format!("cannot read warrant {}", row.liid);
        let liid: Liid = row
            .liid
            .parse()
            .map_err(|e| corrupt(format!("LIID: {e}")))?;
        let xid: Xid = row.xid.parse().map_err(|e| corrupt(format!("XID: {e}")))?;
        let scope = scope_from_text(&row.scope)
            .ok_or_else(|| corrupt(format!("unknown scope {:?}", row.scope)))?;
        let time = |micros: i64, column: &str| {
            timestamp_of(micros)
                .ok_or_else(|| corrupt(format!("{column} {micros} is not a timestamp")))
        };
        let start = time(row.valid_from, "valid_from")?;
        let end = row
            .valid_until
            .map(|end| time(end, "valid_until"))
            .transpose()?;
        let window =
            ValidityWindow::new(start, end).map_err(|e| corrupt(format!("window: {e}")))?;
        let state: WarrantState = row.state.parse().map_err(&corrupt)?;
        let created = time(row.created_at, "created_at")?;
        let updated = time(row.updated_at, "updated_at")?;

        let targets = conn
            .prepare_cached("SELECT target FROM warrant_targets WHERE liid = ?1 ORDER BY position")
            .and_then(|mut stmt| {
                stmt.query_map(params![row.liid], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(self.db_err(context()))?
            .into_iter()
            .enumerate()
            .map(|(i, text)| {
                text.parse::<TargetIdentifier>()
                    .map_err(|e| corrupt(format!("target #{i}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let agency_rows = conn
            .prepare_cached(
                "SELECT destination_id, name, hi2_host, hi2_port, hi2_tls,
                        hi3_host, hi3_port, hi3_tls, format
                 FROM warrant_agencies WHERE liid = ?1 ORDER BY position",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![row.liid], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        (
                            r.get::<_, String>(2)?,
                            r.get::<_, u16>(3)?,
                            r.get::<_, bool>(4)?,
                        ),
                        (
                            r.get::<_, Option<String>>(5)?,
                            r.get::<_, Option<u16>>(6)?,
                            r.get::<_, Option<bool>>(7)?,
                        ),
                        r.get::<_, String>(8)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()
            })
            .map_err(self.db_err(context()))?;
        let mut agencies = Vec::with_capacity(agency_rows.len());
        for (id, name, (hi2_host, hi2_port, hi2_tls), hi3, format) in agency_rows {
            let id: DestinationId = id
                .parse()
                .map_err(|e| corrupt(format!("agency destination id: {e}")))?;
            let hi3 = match hi3 {
                (Some(host), Some(port), Some(tls)) => Some(DeliveryAddress::new(host, port, tls)),
                (None, None, None) => None,
                _ => return Err(corrupt(format!("agency {id}: incomplete HI3 address"))),
            };
            let format = format_from_text(&format)
                .ok_or_else(|| corrupt(format!("agency {id}: unknown format {format:?}")))?;
            agencies.push(Agency {
                id,
                name,
                hi2: DeliveryAddress::new(hi2_host, hi2_port, hi2_tls),
                hi3,
                format,
            });
        }
        Ok(Warrant {
            liid,
            xid,
            targets,
            scope,
            window,
            agencies,
            state,
            created,
            updated,
        })
    }

    /// Writes the targets and agencies of `warrant` (after its row).
    fn insert_children(&self, tx: &Transaction<'_>, warrant: &Warrant) -> Result<(), StoreError> {
        let liid = warrant.liid.to_string();
        let err = || self.db_err(format!("cannot write warrant {}", warrant.liid));
        let mut targets = tx
            .prepare_cached(
                "INSERT INTO warrant_targets (liid, position, target) VALUES (?1, ?2, ?3)",
            )
            .map_err(err())?;
        for (position, target) in (0i64..).zip(&warrant.targets) {
            targets
                .execute(params![liid, position, target.to_string()])
                .map_err(err())?;
        }
        let mut agencies = tx
            .prepare_cached(
                "INSERT INTO warrant_agencies (liid, position, destination_id, name,
                     hi2_host, hi2_port, hi2_tls, hi3_host, hi3_port, hi3_tls, format)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(err())?;
        for (position, agency) in (0i64..).zip(&warrant.agencies) {
            let format =
                format_to_text(agency.format).ok_or_else(|| StoreError::UnsupportedFormat {
                    liid: warrant.liid,
                    destination: agency.id,
                    format: agency.format,
                })?;
            agencies
                .execute(params![
                    liid,
                    position,
                    agency.id.to_string(),
                    agency.name,
                    agency.hi2.host,
                    agency.hi2.port,
                    agency.hi2.tls,
                    agency.hi3.as_ref().map(|a| a.host.as_str()),
                    agency.hi3.as_ref().map(|a| a.port),
                    agency.hi3.as_ref().map(|a| a.tls),
                    format,
                ])
                .map_err(err())?;
        }
        Ok(())
    }

    /// The stored state of `liid`, or [`StoreError::NotFound`].
    fn state_of(
        &self,
        tx: &Transaction<'_>,
        liid: &Liid,
    ) -> Result<(WarrantState, Xid), StoreError> {
        let row: Option<(String, String)> = tx
            .query_row(
                "SELECT state, xid FROM warrants WHERE liid = ?1",
                params![liid.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.db_err(format!("cannot read warrant {liid}")))?;
        let (state, xid) = row.ok_or(StoreError::NotFound { liid: *liid })?;
        let corrupt = |what: String| StoreError::Corrupt {
            path: self.path.clone(),
            liid: liid.to_string(),
            what,
        };
        Ok((
            state.parse().map_err(&corrupt)?,
            xid.parse().map_err(|e| corrupt(format!("XID: {e}")))?,
        ))
    }
}

impl WarrantStore for SqliteStore {
    fn create(&self, warrant: &Warrant) -> Result<(), StoreError> {
        warrant.validate()?;
        let liid = warrant.liid;
        let context = || format!("cannot create warrant {liid}");
        self.in_transaction(context, |tx| {
            let exists = tx
                .query_row(
                    "SELECT 1 FROM warrants WHERE liid = ?1",
                    params![liid.to_string()],
                    |_| Ok(()),
                )
                .optional()
                .map_err(self.db_err(context()))?;
            if exists.is_some() {
                return Err(StoreError::Duplicate { liid });
            }
            let holder: Option<String> = tx
                .query_row(
                    "SELECT liid FROM warrants WHERE xid = ?1",
                    params![warrant.xid.to_string()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(self.db_err(context()))?;
            if let Some(holder) = holder {
                let existing = holder.parse().map_err(|e| StoreError::Corrupt {
                    path: self.path.clone(),
                    liid: holder.clone(),
                    what: format!("LIID: {e}"),
                })?;
                return Err(StoreError::DuplicateXid {
                    liid,
                    xid: warrant.xid,
                    existing,
                });
            }
            tx.execute(
                "INSERT INTO warrants (liid, xid, scope, valid_from, valid_until, state,
                     created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    liid.to_string(),
                    warrant.xid.to_string(),
                    scope_to_text(warrant.scope),
                    micros(warrant.window.start()),
                    warrant.window.end().map(micros),
                    warrant.state.as_str(),
                    micros(warrant.created),
                    micros(warrant.updated),
                ],
            )
            .map_err(self.db_err(context()))?;
            self.insert_children(tx, warrant)
        })
    }

    fn get(&self, liid: &Liid) -> Result<Option<Warrant>, StoreError> {
        self.load(&self.lock(), liid)
    }

    fn list(&self) -> Result<Vec<Warrant>, StoreError> {
        self.in_transaction(
            || "cannot list warrants".into(),
            |tx| self.load_where(tx, "1", "liid", [], "cannot list warrants"),
        )
    }

    fn update(&self, warrant: &Warrant) -> Result<Warrant, StoreError> {
        warrant.validate()?;
        let liid = warrant.liid;
        let context = || format!("cannot update warrant {liid}");
        self.in_transaction(context, |tx| {
            let (state, stored_xid) = self.state_of(tx, &liid)?;
            if stored_xid != warrant.xid {
                return Err(StoreError::XidChanged {
                    liid,
                    stored: stored_xid,
                    given: warrant.xid,
                });
            }
            if state.is_terminal() {
                return Err(StoreError::WrongState {
                    liid,
                    operation: "update",
                    state,
                });
            }
            tx.execute(
                "UPDATE warrants SET scope = ?2, valid_from = ?3, valid_until = ?4,
                     updated_at = ?5
                 WHERE liid = ?1",
                params![
                    liid.to_string(),
                    scope_to_text(warrant.scope),
                    micros(warrant.window.start()),
                    warrant.window.end().map(micros),
                    micros(warrant.updated),
                ],
            )
            .map_err(self.db_err(context()))?;
            for table in ["warrant_targets", "warrant_agencies"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE liid = ?1"),
                    params![liid.to_string()],
                )
                .map_err(self.db_err(context()))?;
            }
            self.insert_children(tx, warrant)?;
            self.load(tx, &liid)?.ok_or(StoreError::NotFound { liid })
        })
    }

    fn set_state(
        &self,
        liid: &Liid,
        state: WarrantState,
        at: Timestamp,
    ) -> Result<Warrant, StoreError> {
        let context = || format!("cannot change the state of warrant {liid}");
        self.in_transaction(context, |tx| {
            let (from, _) = self.state_of(tx, liid)?;
            if !from.can_become(state) {
                return Err(StoreError::InvalidTransition {
                    liid: *liid,
                    from,
                    to: state,
                });
            }
            tx.execute(
                "UPDATE warrants SET state = ?2, updated_at = ?3 WHERE liid = ?1",
                params![liid.to_string(), state.as_str(), micros(at)],
            )
            .map_err(self.db_err(context()))?;
            self.load(tx, liid)?
                .ok_or(StoreError::NotFound { liid: *liid })
        })
    }

    fn delete(&self, liid: &Liid) -> Result<(), StoreError> {
        let context = || format!("cannot delete warrant {liid}");
        self.in_transaction(context, |tx| {
            let (state, _) = self.state_of(tx, liid)?;
            if state == WarrantState::Active {
                return Err(StoreError::WrongState {
                    liid: *liid,
                    operation: "delete",
                    state,
                });
            }
            // Targets and agencies go with it (ON DELETE CASCADE).
            tx.execute(
                "DELETE FROM warrants WHERE liid = ?1",
                params![liid.to_string()],
            )
            .map_err(self.db_err(context()))?;
            Ok(())
        })
    }
}

/// The schema migrations: entry `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; 2] = [SCHEMA_V1, SCHEMA_V2];

/// Version 2: the refusals of a warrant's task by a network element (one row per warrant and
/// NE, the latest reason), shown with the warrant until the NE accepts the task.
const SCHEMA_V2: &str = "
CREATE TABLE warrant_refusals (
    liid   TEXT NOT NULL REFERENCES warrants (liid) ON DELETE CASCADE,
    ne     TEXT NOT NULL,
    reason TEXT NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY (liid, ne)
) STRICT;
";

/// Version 1 of the schema.
///
/// Targets and agencies have their own tables rather than JSON columns: the database then
/// enforces their integrity (foreign keys with cascade, one destination id per warrant,
/// port ranges), and "which warrants name this target" is an indexed query, which the
/// administration function needs to detect overlapping warrants.
const SCHEMA_V1: &str = "
CREATE TABLE schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE warrants (
    liid        TEXT PRIMARY KEY,
    xid         TEXT NOT NULL UNIQUE,
    scope       TEXT NOT NULL CHECK (scope IN ('iri', 'iri+cc')),
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER CHECK (valid_until IS NULL OR valid_until > valid_from),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'active', 'ended', 'revoked')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX warrants_by_state_start ON warrants (state, valid_from);
CREATE INDEX warrants_by_state_end ON warrants (state, valid_until);
CREATE TABLE warrant_targets (
    liid     TEXT NOT NULL REFERENCES warrants (liid) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    target   TEXT NOT NULL,
    PRIMARY KEY (liid, position),
    UNIQUE (liid, target)
) STRICT;
CREATE INDEX warrant_targets_by_target ON warrant_targets (target);
CREATE TABLE warrant_agencies (
    liid           TEXT NOT NULL REFERENCES warrants (liid) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    destination_id TEXT NOT NULL,
    name           TEXT NOT NULL,
    hi2_host       TEXT NOT NULL,
    hi2_port       INTEGER NOT NULL CHECK (hi2_port BETWEEN 1 AND 65535),
    hi2_tls        INTEGER NOT NULL CHECK (hi2_tls IN (0, 1)),
    hi3_host       TEXT,
    hi3_port       INTEGER CHECK (hi3_port BETWEEN 1 AND 65535),
    hi3_tls        INTEGER CHECK (hi3_tls IN (0, 1)),
    format         TEXT NOT NULL,
    PRIMARY KEY (liid, position),
    UNIQUE (liid, destination_id),
    CHECK ((hi3_host IS NULL) = (hi3_port IS NULL) AND (hi3_port IS NULL) = (hi3_tls IS NULL))
) STRICT;
";

/// One row of `warrants`, undecoded.
struct WarrantRow {
    liid: String,
    xid: String,
    scope: String,
    valid_from: i64,
    valid_until: Option<i64>,
    state: String,
    created_at: i64,
    updated_at: i64,
}

impl WarrantRow {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            liid: row.get(0)?,
            xid: row.get(1)?,
            scope: row.get(2)?,
            valid_from: row.get(3)?,
            valid_until: row.get(4)?,
            state: row.get(5)?,
            created_at: row.get(6)?,
            updated_at: row.get(7)?,
        })
    }
}

/// Microseconds since the epoch as stored (every [`Timestamp`] fits in an `i64`).
fn micros(time: Timestamp) -> i64 {
    i64::try_from(time.unix_micros()).unwrap_or(i64::MAX)
}

/// The instant stored as `micros` (see [`micros`]); `None` if it is not one.
fn timestamp_of(micros: i64) -> Option<Timestamp> {
    u64::try_from(micros)
        .ok()
        .and_then(|m| Timestamp::from_unix_micros(m).ok())
}

fn scope_to_text(scope: InterceptScope) -> &'static str {
    match scope {
        InterceptScope::IriOnly => "iri",
        InterceptScope::IriAndCc => "iri+cc",
    }
}

fn scope_from_text(text: &str) -> Option<InterceptScope> {
    match text {
        "iri" => Some(InterceptScope::IriOnly),
        "iri+cc" => Some(InterceptScope::IriAndCc),
        _ => None,
    }
}

/// `etsi-102232:<ps-pdu version>:<ip access version>`, `atis-1000013:<v>`,
/// `atis-1000678:<v>` or `packetcable:<v>`.
fn format_to_text(format: HandoverFormat) -> Option<String> {
    match format {
        HandoverFormat::Etsi102232 {
            ps_pdu_version,
            ip_access_version,
        } => Some(format!("etsi-102232:{ps_pdu_version}:{ip_access_version}")),
        HandoverFormat::Atis1000013 { version } => Some(format!("atis-1000013:{version}")),
        HandoverFormat::Atis1000678 { version } => Some(format!("atis-1000678:{version}")),
        HandoverFormat::PacketCable { version } => Some(format!("packetcable:{version}")),
        _ => None,
    }
}

fn format_from_text(text: &str) -> Option<HandoverFormat> {
    let mut parts = text.split(':');
    let name = parts.next()?;
    let mut number = || parts.next()?.parse::<u16>().ok();
    let format = match name {
        "etsi-102232" => HandoverFormat::Etsi102232 {
            ps_pdu_version: number()?,
            ip_access_version: number()?,
        },
        "atis-1000013" => HandoverFormat::Atis1000013 { version: number()? },
        "atis-1000678" => HandoverFormat::Atis1000678 { version: number()? },
        "packetcable" => HandoverFormat::PacketCable { version: number()? },
        _ => return None,
    };
    parts.next().is_none().then_some(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: u64) -> Timestamp {
        Timestamp::from_secs_micros(secs, 0).unwrap()
    }

    fn agency(n: u8, hi3: bool) -> Agency {
        Agency {
            id: DestinationId::new_v4_from_random([n; 16]),
            name: format!("Agency {n}"),
            hi2: DeliveryAddress::new("lea.example", 6000 + u16::from(n), true),
            hi3: hi3.then(|| DeliveryAddress::new("192.0.2.10", 7000, false)),
            format: HandoverFormat::etsi_default(),
        }
    }

    fn warrant(liid: &str, xid: u8, start: u64, end: Option<u64>) -> Warrant {
        Warrant::new(
            liid.parse().unwrap(),
            Xid::new_v4_from_random([xid; 16]),
            vec![
                "ipv4:192.0.2.1".parse().unwrap(),
                "username:alice@isp.example".parse().unwrap(),
            ],
            InterceptScope::IriAndCc,
            ValidityWindow::new(ts(start), end.map(ts)).unwrap(),
            vec![agency(1, true), agency(2, true)],
            ts(50),
        )
        .unwrap()
    }

    fn open(dir: &tempfile::TempDir) -> SqliteStore {
        SqliteStore::open(dir.path().join("warrants.db")).unwrap()
    }

    fn liid(s: &str) -> Liid {
        s.parse().unwrap()
    }

    #[test]
    fn create_get_list_update_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let a = warrant("LIID-A", 1, 100, Some(200));
        let mut b = warrant("LIID-B", 2, 100, None);
        b.agencies[1].hi3 = None;
        b.scope = InterceptScope::IriOnly;
        b.agencies[1].format = HandoverFormat::Atis1000013 { version: 3 };
        store.create(&b).unwrap();
        store.create(&a).unwrap();

        assert_eq!(store.get(&a.liid).unwrap(), Some(a.clone()));
        assert_eq!(store.get(&liid("LIID-C")).unwrap(), None);
        assert_eq!(store.list().unwrap(), vec![a.clone(), b.clone()]);

        // Update: new targets, one agency fewer, a narrower window.
        let mut changed = a.clone();
        changed.targets = vec!["mac:00:11:22:33:44:55".parse().unwrap()];
        changed.agencies.truncate(1);
        changed.window = ValidityWindow::new(ts(120), Some(ts(180))).unwrap();
        changed.updated = ts(60);
        changed.state = WarrantState::Revoked; // ignored: state changes go through set_state
        changed.created = ts(1); // ignored too
        let stored = store.update(&changed).unwrap();
        assert_eq!(stored.targets, changed.targets);
        assert_eq!(stored.agencies, changed.agencies);
        assert_eq!(stored.window, changed.window);
        assert_eq!(stored.updated, ts(60));
        assert_eq!(stored.created, ts(50));
        assert_eq!(stored.state, WarrantState::Pending);
        assert_eq!(store.get(&a.liid).unwrap(), Some(stored));

        store.delete(&b.liid).unwrap();
        assert_eq!(store.get(&b.liid).unwrap(), None);
        assert!(matches!(
            store.delete(&b.liid),
            Err(StoreError::NotFound { liid }) if liid == b.liid
        ));
        assert_eq!(store.list().unwrap().len(), 1);
        // The children went with it.
        let conn = store.lock();
        let orphans: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM warrant_targets WHERE liid = 'LIID-B')
                      + (SELECT count(*) FROM warrant_agencies WHERE liid = 'LIID-B')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(orphans, 0);
    }

    #[test]
    fn state_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let a = warrant("LIID-A", 1, 100, Some(200));
        store.create(&a).unwrap();
        let active = store
            .set_state(&a.liid, WarrantState::Active, ts(100))
            .unwrap();
        assert_eq!(active.state, WarrantState::Active);
        assert_eq!(active.updated, ts(100));
        let err = store
            .set_state(&a.liid, WarrantState::Pending, ts(101))
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::InvalidTransition {
                    from: WarrantState::Active,
                    to: WarrantState::Pending,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "warrant LIID-A: cannot go from active to pending"
        );
        let err = store.delete(&a.liid).unwrap_err();
        assert!(matches!(err, StoreError::WrongState { .. }), "{err}");
        store
            .set_state(&a.liid, WarrantState::Revoked, ts(150))
            .unwrap();
        let err = store.update(&a).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::WrongState {
                    state: WarrantState::Revoked,
                    ..
                }
            ),
            "{err}"
        );
        assert!(matches!(
            store.set_state(&liid("NOPE"), WarrantState::Active, ts(1)),
            Err(StoreError::NotFound { .. })
        ));
        store.delete(&a.liid).unwrap();
        for from in [WarrantState::Ended, WarrantState::Revoked] {
            for to in [
                WarrantState::Pending,
                WarrantState::Active,
                WarrantState::Ended,
                WarrantState::Revoked,
            ] {
                assert!(!from.can_become(to));
            }
        }
    }

    #[test]
    fn uniqueness_and_validation() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let a = warrant("LIID-A", 1, 100, None);
        store.create(&a).unwrap();

        let err = store.create(&a).unwrap_err();
        assert!(matches!(err, StoreError::Duplicate { liid } if liid == a.liid));
        assert_eq!(
            err.to_string(),
            "warrant LIID-A: a warrant with this LIID exists already"
        );
        let same_xid = warrant("LIID-B", 1, 100, None);
        let err = store.create(&same_xid).unwrap_err();
        assert!(matches!(err, StoreError::DuplicateXid { existing, .. } if existing == a.liid));
        assert!(err.to_string().contains("already used by warrant LIID-A"));

        let mut other_xid = a.clone();
        other_xid.xid = Xid::new_v4_from_random([9; 16]);
        assert!(matches!(
            store.update(&other_xid),
            Err(StoreError::XidChanged { .. })
        ));

        // Validation is li-core's, named by LIID.
        let mut no_targets = warrant("LIID-C", 3, 100, None);
        no_targets.targets.clear();
        let err = store.create(&no_targets).unwrap_err();
        assert!(matches!(
            err,
            StoreError::Invalid {
                source: li_core::Error::NoTargets,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "warrant LIID-C: task has no target identifiers"
        );
        let mut no_hi3 = warrant("LIID-C", 3, 100, None);
        no_hi3.agencies[1].hi3 = None;
        assert!(matches!(
            store.create(&no_hi3),
            Err(StoreError::Invalid {
                source: li_core::Error::MissingHi3 { destination },
                ..
            }) if destination == no_hi3.agencies[1].id
        ));
        let mut nameless = warrant("LIID-C", 3, 100, None);
        nameless.agencies[0].name = " ".into();
        assert!(matches!(
            store.create(&nameless),
            Err(StoreError::InvalidAgencyName { .. })
        ));
        // Nothing of the rejected warrants was stored.
        assert_eq!(store.list().unwrap(), vec![a.clone()]);

        // The same checks on update.
        let mut bad_update = a.clone();
        bad_update.agencies.clear();
        assert!(matches!(
            store.update(&bad_update),
            Err(StoreError::Invalid {
                source: li_core::Error::NoDestinations,
                ..
            })
        ));
        assert_eq!(store.get(&a.liid).unwrap(), Some(a));
    }

    #[test]
    fn to_task_carries_the_warrant() {
        let a = warrant("LIID-A", 1, 100, Some(200));
        let task = a.to_task().unwrap();
        assert_eq!(task.liid(), a.liid);
        assert_eq!(task.xid(), a.xid);
        assert_eq!(task.targets(), a.targets.as_slice());
        assert_eq!(task.window(), a.window);
        assert_eq!(task.destinations().len(), 2);
        assert_eq!(task.destinations()[1], a.agencies[1].to_destination());
    }

    #[test]
    fn reopen_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let a = warrant("LIID-A", 1, 100, Some(200));
        let mut b = warrant("hex:00ff01", 2, 100, None);
        b.agencies[0].format = HandoverFormat::PacketCable { version: 7 };
        let b_active;
        {
            let store = open(&dir);
            store.create(&a).unwrap();
            store.create(&b).unwrap();
            b_active = store
                .set_state(&b.liid, WarrantState::Active, ts(120))
                .unwrap();
        }
        let store = open(&dir);
        assert_eq!(store.schema_version().unwrap(), SqliteStore::SCHEMA_VERSION);
        assert_eq!(store.list().unwrap(), vec![a, b_active]);
        let conn = store.lock();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(fk);
    }

    #[test]
    fn corrupt_foreign_and_newer_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, [0x5a_u8; 4096]).unwrap();
        let err = SqliteStore::open(&garbage).unwrap_err();
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
        assert!(err.to_string().contains("garbage.db"), "{err}");

        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE accounts (id INTEGER PRIMARY KEY);")
            .unwrap();
        let err = SqliteStore::open(&foreign).unwrap_err();
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
        assert!(err.to_string().contains("foreign.db"), "{err}");

        let newer = dir.path().join("newer.db");
        drop(SqliteStore::open(&newer).unwrap());
        Connection::open(&newer)
            .unwrap()
            .execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [SqliteStore::SCHEMA_VERSION + 1],
            )
            .unwrap();
        let err = SqliteStore::open(&newer).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NewerSchema {
                    found,
                    supported: SqliteStore::SCHEMA_VERSION,
                    ..
                } if found == SqliteStore::SCHEMA_VERSION + 1
            ),
            "{err}"
        );

        // A row damaged behind the store's back is reported, naming the warrant.
        let path = dir.path().join("damaged.db");
        let store = SqliteStore::open(&path).unwrap();
        store.create(&warrant("LIID-A", 1, 100, None)).unwrap();
        store
            .lock()
            .execute(
                "UPDATE warrant_targets SET target = 'imsi:1' WHERE position = 0",
                [],
            )
            .unwrap();
        let err = store.list().unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt { liid, .. } if liid == "LIID-A"),
            "{err}"
        );
    }

    #[test]
    fn format_text_round_trips() {
        for format in [
            HandoverFormat::etsi_default(),
            HandoverFormat::Atis1000013 { version: 1 },
            HandoverFormat::Atis1000678 { version: 2 },
            HandoverFormat::PacketCable { version: 65535 },
        ] {
            let text = format_to_text(format).unwrap();
            assert_eq!(format_from_text(&text), Some(format), "{text}");
        }
        assert_eq!(
            format_to_text(HandoverFormat::etsi_default()).unwrap(),
            "etsi-102232:43:18"
        );
        for bad in [
            "",
            "etsi-102232:43",
            "etsi-102232:43:18:1",
            "atis-1000013:x",
            "q:1",
        ] {
            assert_eq!(format_from_text(bad), None, "{bad}");
        }
    }
}
