//! What a sync did: [`SyncReport`].

use std::fmt;

use li_core::{DestinationId, Liid, Xid};

#[cfg(doc)]
use super::{Admf, store::WarrantState};

/// What one [`Admf::sync`] (or a call that syncs) did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Warrants that became active (every NE acknowledged).
    pub activated: Vec<Liid>,
    /// Warrants whose window ended (now [`WarrantState::Ended`]).
    pub ended: Vec<Liid>,
    /// Warrants revoked by the call.
    pub revoked: Vec<Liid>,
    /// Tasks activated on an NE.
    pub tasks_activated: Vec<TaskChange>,
    /// Tasks modified on an NE.
    pub tasks_modified: Vec<TaskChange>,
    /// Tasks deactivated on an NE.
    pub tasks_deactivated: Vec<TaskChange>,
    /// Destinations created on an NE: (NE, DID).
    pub destinations_created: Vec<(String, DestinationId)>,
    /// Destinations removed from an NE: (NE, DID).
    pub destinations_removed: Vec<(String, DestinationId)>,
    /// NEs whose tasks and destinations were read back (`GetAllDetails`).
    pub reconciled: Vec<String>,
    /// What failed (to be retried at the next sync).
    pub failures: Vec<SyncFailure>,
}

/// A task change on one NE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskChange {
    /// The NE.
    pub ne: String,
    /// The task.
    pub xid: Xid,
    /// The warrant, when the store knows the XID.
    pub liid: Option<Liid>,
}

/// Something that failed during a sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncFailure {
    /// The NE concerned (`-` when none).
    pub ne: String,
    /// What was attempted (an X1 message type, or `plan`).
    pub operation: String,
    /// The warrant concerned, if any.
    pub liid: Option<Liid>,
    /// Why.
    pub error: String,
}

impl SyncReport {
    /// Adds a failure of `operation` on NE `ne`.
    pub(crate) fn failed(
        &mut self,
        ne: String,
        operation: &str,
        liid: Option<Liid>,
        error: String,
    ) {
        self.failures.push(SyncFailure {
            ne,
            operation: operation.to_owned(),
            liid,
            error,
        });
    }

    /// Whether nothing happened and nothing failed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Appends what `other` did.
    pub fn merge(&mut self, other: Self) {
        self.activated.extend(other.activated);
        self.ended.extend(other.ended);
        self.revoked.extend(other.revoked);
        self.tasks_activated.extend(other.tasks_activated);
        self.tasks_modified.extend(other.tasks_modified);
        self.tasks_deactivated.extend(other.tasks_deactivated);
        self.destinations_created.extend(other.destinations_created);
        self.destinations_removed.extend(other.destinations_removed);
        self.reconciled.extend(other.reconciled);
        self.failures.extend(other.failures);
    }
}

impl fmt::Display for TaskChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.liid {
            Some(liid) => write!(f, "{} {liid} (XID {})", self.ne, self.xid),
            None => write!(f, "{} XID {}", self.ne, self.xid),
        }
    }
}

impl fmt::Display for SyncReport {
    /// One line per section that is not empty; `nothing to do` when all are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn line<T: fmt::Display>(
            f: &mut fmt::Formatter<'_>,
            title: &str,
            items: &[T],
        ) -> fmt::Result {
            if items.is_empty() {
                return Ok(());
            }
            let joined = items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(f, "{title}: {joined}")
        }
        if self.is_empty() {
            return writeln!(f, "nothing to do");
        }
        let dests = |v: &[(String, DestinationId)]| {
            v.iter()
                .map(|(ne, did)| format!("{ne} {did}"))
                .collect::<Vec<_>>()
        };
        line(f, "NEs read back", &self.reconciled)?;
        line(f, "warrants activated", &self.activated)?;
        line(f, "warrants ended", &self.ended)?;
        line(f, "warrants revoked", &self.revoked)?;
        line(
            f,
            "destinations created",
            &dests(&self.destinations_created),
        )?;
        line(f, "tasks activated", &self.tasks_activated)?;
        line(f, "tasks modified", &self.tasks_modified)?;
        line(f, "tasks deactivated", &self.tasks_deactivated)?;
        line(
            f,
            "destinations removed",
            &dests(&self.destinations_removed),
        )?;
        for failure in &self.failures {
            let liid = failure
                .liid
                .map(|l| format!(" warrant {l}"))
                .unwrap_or_default();
            writeln!(
                f,
                "FAILED {} at {}{liid}: {}",
                failure.operation, failure.ne, failure.error
            )?;
        }
        Ok(())
    }
}
