//! The warrant store of the administration function: the [`Warrant`] model and the
//! [`WarrantStore`] trait, always available, and `SqliteStore` (SQLite, with cargo feature
//! `sqlite`).
//!
//! A [`Warrant`] is the administration function's record of one lawful authorisation for one
//! LIID: the [`li_core::Task`] it executes (targets, what to deliver, when, to which agencies)
//! and where it is in its lifecycle ([`WarrantState`]). An agency is a
//! [`li_core::Destination`] whose `name` the store requires ([`Agency`]). Every rule about
//! tasks (at least one target, no duplicates, HI3 present when CC is delivered, usable
//! delivery addresses, printable names) is checked in one place, when `li-core` builds the
//! task, so a warrant cannot hold an invalid one; the store adds only what is its own (LIID
//! and XID unique, every agency named). A store also keeps the [`Refusal`]s of a warrant's
//! task by a network element (or by the ADMF itself), shown with the warrant until the task
//! is accepted.
//!
//! The store never reads a clock: creation, update and state-change times are passed in.
//! What a warrant needs at an instant is decided by [`crate::admf::disposition`], from the
//! warrants the store lists, so that the administration function drives activation from its
//! own timer.
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use li_core::{
//!     DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptScope, Task,
//!     Timestamp, ValidityWindow, Xid,
//! };
//! use li_handover::admf::{Disposition, disposition};
//! use li_handover::admf::store::{SqliteStore, Warrant, WarrantState, WarrantStore};
//!
//! let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(dir.path().join("warrants.db"))?;
//! let start = Timestamp::from_secs_micros(1_704_067_200, 0)?;
//! let task = Task::builder(
//!     "LIID-0001".parse()?,
//!     Xid::new_v4_from_random([7; 16]),
//!     InterceptScope::IriOnly,
//!     ValidityWindow::new(start, None)?,
//! )
//! .target("ipv4:192.0.2.1".parse()?)
//! .destination(
//!     Destination::new(
//!         DestinationId::new_v4_from_random([9; 16]),
//!         DeliveryAddress::new("lea.example", 6000, true),
//!         None,
//!         HandoverFormat::etsi_default(),
//!     )
//!     .with_name("Agency A"),
//! )
//! .build()?;
//! let warrant = Warrant::new(task, start)?;
//! store.create(&warrant)?;
//! let listed = store.list()?;
//! assert_eq!(listed, [warrant.clone()]);
//! assert_eq!(store.get(&warrant.task.liid())?, Some(warrant.clone()));
//! let no_lead = std::time::Duration::ZERO;
//! let now = disposition(&listed[0], start, no_lead, no_lead);
//! assert_eq!(now, Disposition::Provision);
//! let active = store.set_state(&warrant.task.liid(), WarrantState::Active, start)?;
//! assert_eq!(active.task, warrant.task);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use li_core::{Destination, DestinationId, InterceptScope, Liid, Task, Timestamp, Xid};

#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The error of a storage backend (for `SqliteStore`, a `rusqlite::Error`).
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One warrant as held by the administration function: the task it executes and where it
/// is in its lifecycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warrant {
    /// The task as executed: LIID and XID (each unique in a store), targets, scope, window,
    /// and the agencies as destinations with names ([`Agency`]).
    pub task: Task,
    /// Where the warrant is in its lifecycle.
    pub state: WarrantState,
    /// When the warrant was entered.
    pub created: Timestamp,
    /// When the warrant was last changed (content or state).
    pub updated: Timestamp,
}

/// An agency receiving a warrant's intercept: one X1 destination (TS 103 221-1 clause 6.3.1.2
/// `DestinationDetails`) whose `name` (for operators and the audit log) the store requires.
pub type Agency = Destination;

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
        /// The backend's error.
        source: BackendError,
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
    /// The warrant's task breaks a rule of `li-core`'s task model: building it failed
    /// ([`StoreError::invalid`]).
    #[error("warrant {liid}: {source}")]
    Invalid {
        /// The warrant.
        liid: Liid,
        /// The rule it breaks.
        source: li_core::Error,
    },
    /// An agency has no name, or one that is empty or has control characters.
    #[error(
        "warrant {liid}: agency {destination}: name is missing, empty or contains control \
         characters"
    )]
    InvalidAgencyName {
        /// The warrant.
        liid: Liid,
        /// The agency's destination id.
        destination: DestinationId,
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
        /// The backend's error.
        source: BackendError,
    },
}

/// Persistent storage of warrants and their refusals. Implementations are shared between
/// tasks.
pub trait WarrantStore: Send + Sync {
    /// Enters a new warrant, checked with [`Warrant::validate`].
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidAgencyName`], [`StoreError::Duplicate`],
    /// [`StoreError::DuplicateXid`], or a storage error.
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

    /// Replaces the task (targets, scope, window and agencies) of the warrant
    /// `warrant.task.liid()` and sets its update time to `warrant.updated`; the stored state
    /// and creation time are kept. Returns the warrant as stored.
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

    /// Removes a warrant that is not active (deactivate or revoke it first), and its
    /// refusals.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`StoreError::WrongState`] (active), or a storage error.
    fn delete(&self, liid: &Liid) -> Result<(), StoreError>;

    /// Records that `ne` (a network element, or the ADMF itself) refused the task of
    /// warrant `liid` at `at`, for `reason` (replacing an earlier refusal by the same `ne`).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], or a storage error.
    fn set_refusal(
        &self,
        liid: &Liid,
        ne: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Forgets the refusal of warrant `liid` by `ne` (it accepted the task); whether there
    /// was one.
    ///
    /// # Errors
    ///
    /// A storage error.
    fn clear_refusal(&self, liid: &Liid, ne: &str) -> Result<bool, StoreError>;

    /// The refusals of every warrant that has some, by LIID, each ordered by NE: one query
    /// for a listing.
    ///
    /// # Errors
    ///
    /// A storage error.
    fn all_refusals(&self) -> Result<HashMap<Liid, Vec<Refusal>>, StoreError>;

    /// The refusals of warrant `liid`, ordered by NE.
    ///
    /// # Errors
    ///
    /// A storage error.
    fn refusals(&self, liid: &Liid) -> Result<Vec<Refusal>, StoreError> {
        Ok(self.all_refusals()?.remove(liid).unwrap_or_default())
    }
}

impl Warrant {
    /// A new [`WarrantState::Pending`] warrant for `task`, created at `now`, checked with
    /// [`Warrant::validate`].
    ///
    /// # Errors
    ///
    /// As [`Warrant::validate`].
    pub fn new(task: Task, now: Timestamp) -> Result<Self, StoreError> {
        let warrant = Self {
            task,
            state: WarrantState::Pending,
            created: now,
            updated: now,
        };
        warrant.validate()?;
        Ok(warrant)
    }

    /// Checks what the store adds to `li-core`'s rules, which the task met when it was built:
    /// every agency has a name. Any handover format is stored; one the suite does not produce
    /// is refused when the warrant is provisioned.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidAgencyName`] for the first agency without a name.
    pub fn validate(&self) -> Result<(), StoreError> {
        match self.task.destinations().iter().find(|a| a.name.is_none()) {
            Some(agency) => Err(StoreError::InvalidAgencyName {
                liid: self.task.liid(),
                destination: agency.id,
            }),
            None => Ok(()),
        }
    }
}

/// The name of an agency as operators and the audit log read it: its destination's name
/// (which the store requires), or its destination id if it has none.
pub fn agency_name(agency: &Agency) -> String {
    agency.name.clone().unwrap_or_else(|| agency.id.to_string())
}

impl StoreError {
    /// The error of warrant `liid` whose task `li-core` refused to build: an agency's bad
    /// name is [`StoreError::InvalidAgencyName`], any other rule [`StoreError::Invalid`].
    pub fn invalid(liid: Liid, source: li_core::Error) -> Self {
        match source {
            li_core::Error::InvalidDestinationName { destination } => {
                Self::InvalidAgencyName { liid, destination }
            }
            source => Self::Invalid { liid, source },
        }
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

/// The text form of a scope as the store records it: `iri` or `iri+cc`.
pub fn scope_to_text(scope: InterceptScope) -> &'static str {
    match scope {
        InterceptScope::IriOnly => "iri",
        InterceptScope::IriAndCc => "iri+cc",
    }
}

/// The scope written as [`scope_to_text`] writes it.
pub fn scope_from_text(text: &str) -> Option<InterceptScope> {
    match text {
        "iri" => Some(InterceptScope::IriOnly),
        "iri+cc" => Some(InterceptScope::IriAndCc),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests;
