//! The warrant store of the administration function: the [`Warrant`] model and the
//! [`WarrantStore`] trait, always available, and `SqliteStore` (SQLite, with cargo feature
//! `sqlite`).
//!
//! A [`Warrant`] is the administration function's record of one lawful authorisation for one
//! LIID: the targets, what to deliver, when, to which agencies, and where it is in its
//! lifecycle ([`WarrantState`]). It is turned into the [`li_core::Task`] provisioned over X1
//! by [`Warrant::to_task`], so that every rule about tasks (at least one target, no
//! duplicates, HI3 present when CC is delivered, usable delivery addresses) is checked in one
//! place, `li-core`; the store adds only what is its own (LIID and XID unique, agency names).
//! A store also keeps the [`Refusal`]s of a warrant's task by a network element (or by the
//! ADMF itself), shown with the warrant until the task is accepted.
//!
//! The store never reads a clock: creation, update and state-change times are passed in.
//! What a warrant needs at an instant is decided by [`crate::admf::disposition`], from the
//! warrants the store lists, so that the administration function drives activation from its
//! own timer.
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use li_core::{
//!     DeliveryAddress, DestinationId, HandoverFormat, InterceptScope, Timestamp,
//!     ValidityWindow, Xid,
//! };
//! use li_handover::admf::{Disposition, disposition};
//! use li_handover::admf::store::{Agency, SqliteStore, Warrant, WarrantState, WarrantStore};
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
//! assert_eq!(store.get(&warrant.liid)?, Some(warrant.clone()));
//! let no_lead = std::time::Duration::ZERO;
//! let now = disposition(&listed[0], start, no_lead, no_lead);
//! assert_eq!(now, Disposition::Provision);
//! let active = store.set_state(&warrant.liid, WarrantState::Active, start)?;
//! assert_eq!(active.to_task()?.liid(), warrant.liid);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use li_core::{
    DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptScope, Liid,
    TargetIdentifier, Task, Timestamp, ValidityWindow, Xid,
};

#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The error of a storage backend (for `SqliteStore`, a `rusqlite::Error`).
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

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
    /// [`Warrant::to_task`]), then agency names. Any handover format is stored; one the
    /// suite does not produce is refused when the warrant is provisioned.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`], [`StoreError::InvalidAgencyName`].
    pub fn validate(&self) -> Result<(), StoreError> {
        self.to_task()?;
        for agency in &self.agencies {
            if agency.name.trim().is_empty() || agency.name.chars().any(char::is_control) {
                return Err(StoreError::InvalidAgencyName {
                    liid: self.liid,
                    destination: agency.id,
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
