//! The warrant store in an SQLite database (cargo feature `sqlite`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use li_core::{
    DeliveryAddress, Destination, DestinationId, HandoverFormat, Liid, TargetIdentifier, Task,
    Timestamp, ValidityWindow, Xid,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{
    Refusal, StoreError, Warrant, WarrantState, WarrantStore, scope_from_text, scope_to_text,
};

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
            move |source: rusqlite::Error| StoreError::Database {
                path,
                context,
                source: Box::new(source),
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
                source: Box::new(source),
            })?;
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
                [],
                |row| row.get(0),
            )
            .map_err(|source| StoreError::NotADatabase {
                path: path.clone(),
                source: Box::new(source),
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
                source: Box::new(rusqlite::Error::InvalidQuery),
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
            source: Box::new(source),
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

    /// Reads the targets and agencies of `row` and decodes the whole warrant, its task built
    /// (and so checked) by `li-core`.
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
            let format: HandoverFormat = format
                .parse()
                .map_err(|e| corrupt(format!("agency {id}: {e}")))?;
            agencies.push(
                Destination::new(
                    id,
                    DeliveryAddress::new(hi2_host, hi2_port, hi2_tls),
                    hi3,
                    format,
                )
                .with_name(name),
            );
        }
        let task = Task::new(liid, xid, targets, scope, window, agencies)
            .map_err(|e| corrupt(format!("task: {e}")))?;
        Ok(Warrant {
            task,
            state,
            created,
            updated,
        })
    }

    /// Writes the targets and agencies of `warrant` (after its row).
    fn insert_children(&self, tx: &Transaction<'_>, warrant: &Warrant) -> Result<(), StoreError> {
        let task = &warrant.task;
        let liid = task.liid().to_string();
        let err = || self.db_err(format!("cannot write warrant {}", task.liid()));
        let mut targets = tx
            .prepare_cached(
                "INSERT INTO warrant_targets (liid, position, target) VALUES (?1, ?2, ?3)",
            )
            .map_err(err())?;
        for (position, target) in (0i64..).zip(task.targets()) {
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
        // Every agency has a name (`Warrant::validate`); the column is NOT NULL besides.
        for (position, agency) in (0i64..).zip(task.destinations()) {
            let format = agency.format.to_string();
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
        let task = &warrant.task;
        let liid = task.liid();
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
                    params![task.xid().to_string()],
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
                    xid: task.xid(),
                    existing,
                });
            }
            tx.execute(
                "INSERT INTO warrants (liid, xid, scope, valid_from, valid_until, state,
                     created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    liid.to_string(),
                    task.xid().to_string(),
                    scope_to_text(task.scope()),
                    micros(task.window().start()),
                    task.window().end().map(micros),
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
        let task = &warrant.task;
        let liid = task.liid();
        let context = || format!("cannot update warrant {liid}");
        self.in_transaction(context, |tx| {
            let (state, stored_xid) = self.state_of(tx, &liid)?;
            if stored_xid != task.xid() {
                return Err(StoreError::XidChanged {
                    liid,
                    stored: stored_xid,
                    given: task.xid(),
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
                    scope_to_text(task.scope()),
                    micros(task.window().start()),
                    task.window().end().map(micros),
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

    fn set_refusal(
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

    fn clear_refusal(&self, liid: &Liid, ne: &str) -> Result<bool, StoreError> {
        let changed = self
            .lock()
            .execute(
                "DELETE FROM warrant_refusals WHERE liid = ?1 AND ne = ?2",
                params![liid.to_string(), ne],
            )
            .map_err(self.db_err(format!("cannot clear the refusal of warrant {liid}")))?;
        Ok(changed > 0)
    }

    fn refusals(&self, liid: &Liid) -> Result<Vec<Refusal>, StoreError> {
        Ok(self
            .refusals_of(Some(liid))?
            .remove(liid)
            .unwrap_or_default())
    }

    fn all_refusals(&self) -> Result<HashMap<Liid, Vec<Refusal>>, StoreError> {
        self.refusals_of(None)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admf::store::tests::{agency, liid, rebuilt, ts, warrant, with_agencies};
    use li_core::{HandoverFormat, InterceptScope};

    fn open(dir: &tempfile::TempDir) -> SqliteStore {
        SqliteStore::open(dir.path().join("warrants.db")).unwrap()
    }

    #[test]
    fn create_get_list_update_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let a = warrant("LIID-A", 1, 100, Some(200));
        let b = warrant("LIID-B", 2, 100, None);
        let mut agencies = b.task.destinations().to_vec();
        agencies[1].hi3 = None;
        agencies[1].format = HandoverFormat::Atis1000013 { version: 3 };
        let b = rebuilt(&b, |t| {
            t.scope(InterceptScope::IriOnly)
                .clear_destinations()
                .destinations(agencies)
        })
        .unwrap();
        store.create(&b).unwrap();
        store.create(&a).unwrap();

        assert_eq!(store.get(&a.task.liid()).unwrap(), Some(a.clone()));
        assert_eq!(store.get(&liid("LIID-C")).unwrap(), None);
        assert_eq!(store.list().unwrap(), vec![a.clone(), b.clone()]);

        // Update: new targets, one agency fewer, a narrower window.
        let mut changed = rebuilt(&a, |t| {
            t.clear_targets()
                .target("mac:00:11:22:33:44:55".parse().unwrap())
                .clear_destinations()
                .destination(a.task.destinations()[0].clone())
                .window(ValidityWindow::new(ts(120), Some(ts(180))).unwrap())
        })
        .unwrap();
        changed.updated = ts(60);
        changed.state = WarrantState::Revoked; // ignored: state changes go through set_state
        changed.created = ts(1); // ignored too
        let stored = store.update(&changed).unwrap();
        assert_eq!(stored.task.targets(), changed.task.targets());
        assert_eq!(stored.task.destinations(), changed.task.destinations());
        assert_eq!(stored.task.window(), changed.task.window());
        assert_eq!(stored.updated, ts(60));
        assert_eq!(stored.created, ts(50));
        assert_eq!(stored.state, WarrantState::Pending);
        assert_eq!(store.get(&a.task.liid()).unwrap(), Some(stored));

        let b_liid = b.task.liid();
        store.delete(&b_liid).unwrap();
        assert_eq!(store.get(&b_liid).unwrap(), None);
        assert!(matches!(
            store.delete(&b_liid),
            Err(StoreError::NotFound { liid }) if liid == b_liid
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
            .set_state(&a.task.liid(), WarrantState::Active, ts(100))
            .unwrap();
        assert_eq!(active.state, WarrantState::Active);
        assert_eq!(active.updated, ts(100));
        let err = store
            .set_state(&a.task.liid(), WarrantState::Pending, ts(101))
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
        let err = store.delete(&a.task.liid()).unwrap_err();
        assert!(matches!(err, StoreError::WrongState { .. }), "{err}");
        store
            .set_state(&a.task.liid(), WarrantState::Revoked, ts(150))
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
        store.delete(&a.task.liid()).unwrap();
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
        assert!(matches!(err, StoreError::Duplicate { liid } if liid == a.task.liid()));
        assert_eq!(
            err.to_string(),
            "warrant LIID-A: a warrant with this LIID exists already"
        );
        let same_xid = warrant("LIID-B", 1, 100, None);
        let err = store.create(&same_xid).unwrap_err();
        assert!(
            matches!(err, StoreError::DuplicateXid { existing, .. } if existing == a.task.liid())
        );
        assert!(err.to_string().contains("already used by warrant LIID-A"));

        let other_xid = Warrant {
            task: Task::new(
                a.task.liid(),
                Xid::new_v4_from_random([9; 16]),
                a.task.targets().to_vec(),
                a.task.scope(),
                a.task.window(),
                a.task.destinations().to_vec(),
            )
            .unwrap(),
            ..a.clone()
        };
        assert!(matches!(
            store.update(&other_xid),
            Err(StoreError::XidChanged { .. })
        ));

        // The store's own rule: every agency named.
        let c = warrant("LIID-C", 3, 100, None);
        let unnamed = with_agencies(&c, |agencies| agencies[0].name = None).unwrap();
        assert!(matches!(
            store.create(&unnamed),
            Err(StoreError::InvalidAgencyName { .. })
        ));
        // Nothing of the rejected warrants was stored.
        assert_eq!(store.list().unwrap(), vec![a.clone()]);

        // The same check on update.
        let unnamed = with_agencies(&a, |agencies| agencies[1].name = None).unwrap();
        assert!(matches!(
            store.update(&unnamed),
            Err(StoreError::InvalidAgencyName { .. })
        ));
        assert_eq!(store.get(&a.task.liid()).unwrap(), Some(a));
    }

    #[test]
    fn a_stored_warrant_round_trips_its_task_names_included() {
        let dir = tempfile::tempdir().unwrap();
        let a = warrant("LIID-A", 1, 100, Some(200));
        let a = with_agencies(&a, |agencies| {
            agencies[0].name = Some("LEA Nord — Überwachung".into());
            agencies[1].hi3 = Some(DeliveryAddress::new("lea-2.example", 7002, true));
            agencies[1].format = HandoverFormat::Atis1000678 { version: 2 };
        })
        .unwrap();
        let b = rebuilt(&warrant("LIID-B", 2, 100, None), |t| {
            t.scope(InterceptScope::IriOnly)
                .clear_destinations()
                .destination(agency(3, false))
        })
        .unwrap();
        {
            let store = open(&dir);
            store.create(&a).unwrap();
            store.create(&b).unwrap();
        }
        let store = open(&dir);
        for w in [&a, &b] {
            let stored = store.get(&w.task.liid()).unwrap().unwrap();
            // `Destination`'s equality includes its name.
            assert_eq!(stored.task, w.task);
        }
    }

    #[test]
    fn an_agency_name_emptied_behind_the_stores_back_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir);
        let a = warrant("LIID-A", 1, 100, None);
        let did = a.task.destinations()[1].id;
        // Reported as corrupt, naming the warrant and the agency.
        store.create(&a).unwrap();
        store
            .lock()
            .execute(
                "UPDATE warrant_agencies SET name = '' WHERE position = 1",
                [],
            )
            .unwrap();
        let err = store.get(&a.task.liid()).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt { liid, what, .. }
                if liid == "LIID-A" && what.contains(&did.to_string())),
            "{err}"
        );
    }

    #[test]
    fn reopen_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let a = warrant("LIID-A", 1, 100, Some(200));
        let b = warrant("hex:00ff01", 2, 100, None);
        let b = with_agencies(&b, |agencies| {
            agencies[0].format = HandoverFormat::PacketCable { version: 7 };
        })
        .unwrap();
        let b_active;
        {
            let store = open(&dir);
            store.create(&a).unwrap();
            store.create(&b).unwrap();
            b_active = store
                .set_state(&b.task.liid(), WarrantState::Active, ts(120))
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
}
