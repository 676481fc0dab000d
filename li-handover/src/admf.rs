//! The administration function (ADMF): holds warrants in a [warrant store](store) and
//! provisions the mediator and the probes over X1 (ETSI TS 103 221-1).
//!
//! The decisions are pure ([`plan`]): what the network elements (NEs) should have — a task
//! for every warrant whose [`disposition`] is [`Disposition::Provision`] — against what they
//! have (their X1 read-back, kept up to date from every acknowledged request, and the
//! refusals on record), at an instant given as an argument, make the ordered list of X1
//! [`Request`]s that closes the gap. [`Admf`] is the tokio driver around it: it reads the
//! NEs back (`GetAllDetails` at start-up, after a failed request to the NE and every
//! [`AdmfSettings::reconcile_interval`]), calls [`plan`], sends the requests (asking
//! [`Progress`] which still go after a failure) and records the outcomes in the warrant store
//! and the [audit log](crate::audit).
//!
//! # Provisioning rules
//!
//! - **HI destinations at the mediator.** For each agency of a warrant: a destination with
//!   DID = the agency's id, `deliveryType` `X2Only`, address = its HI2 address as a `uri`
//!   `tls://ip:port` or `tcp://ip:port` after the agency's `tls` (the mediator connects so,
//!   or refuses TLS it is not configured for) with the agency's handover format as its
//!   `handover` parameter ([`crate::x1::HiAddress`]), friendly name `"<agency> HI2"`; and when the
//!   warrant delivers CC, a second one with DID = [`hi3_did`]`(agency id)`, `X3Only`, its HI3
//!   address, `"<agency> HI3"`. Each is created once (`CreateDestination`; an answer that it
//!   exists already counts as done), changed with `ModifyDestination` when the agency's
//!   address changes, and removed (`RemoveDestination`) once no wanted warrant and no task
//!   at the mediator uses it.
//! - **Task at the mediator.** `ActivateTask` with the warrant's XID, targets, `deliveryType`
//!   from its scope, `listOfDIDs` = its HI destinations and one `MediationDetails` (LIID,
//!   `HI2Only` or `HI2andHI3`, `StartTime`/`EndTime` = the window, the same DIDs).
//! - **At each probe.** Once, `CreateDestination` of the mediator's X2/X3 listener
//!   ([`Network::x2x3_did`], `X2andX3`); then `ActivateTask` with the same XID, targets and
//!   delivery type, `listOfDIDs` = that destination and the same `MediationDetails` (the
//!   probe takes its validity window from it).
//! - **When.** A warrant's tasks are provisioned [`Timing::provision_lead`] before its window
//!   starts and deactivated [`Timing::deactivation_grace`] after it ends ([`disposition`]):
//!   the tasks carry the window, and the probe and the mediator enforce it by each packet's
//!   and record's own time, so X1 latency and the daemon's timer never move an edge.
//! - **Order.** Activation at the mediator first, then the probes (no X2/X3 arrives for an
//!   XID the mediator does not know); a warrant becomes active only when every NE has
//!   acknowledged. Deactivation (`DeactivateTask`) at the probes first, then at the mediator
//!   [`Timing::mediator_grace`] later, so records already in flight still arrive. A changed
//!   warrant is sent as `ModifyTask`.
//! - **Never a stale task.** A task an NE has whose warrant is not wanted (ended, revoked,
//!   deleted, unknown) is deactivated; a wanted task an NE lacks (the NE restarted) is
//!   activated again.
//! - **Refusals.** A task an NE refuses (`ErrorResponse` to `ActivateTask`/`ModifyTask`)
//!   stays with its warrant ([`store::WarrantStore::set_refusal`]) and is offered again,
//!   unchanged, only after a back-off ([`Refusals`]), at once when the warrant changes; the
//!   other warrants are provisioned as usual. The ADMF itself refuses a warrant one of whose
//!   agencies expects a handover format the suite does not produce
//!   ([`crate::mediator::produces`]), or whose LIID cannot be expressed in it:
//!   recorded the same way under the ADMF's identifier, never delivered in another format.
//!
//! Every X1 request and its response (or failure) is written to the audit log
//! (`x1.request`, `x1.response`: NE, message type, transaction id, outcome — never the XML),
//! as is every warrant change (`warrant.created`, `warrant.updated`, `warrant.state`,
//! `warrant.revoked`, `warrant.refused`) and every task and destination change per NE.
//! Target identifiers appear in the audit log and at debug level only, never in info or
//! warn log lines.
//!
//! What an operator reads and types — a warrant's list line and description, the help and
//! parsing of a target, the refusal of a window already over — is [`text`], shared by
//! `li-admf` and any other front-end.
//!
//! # Example
//!
//! A warrant whose window starts in a minute, with a mediator and one probe that have
//! nothing yet: a plan a minute before the provisioning lead sends nothing; at the lead it
//! creates the destinations before the tasks that use them, the mediator before the probe.
//!
//! ```
//! use std::time::Duration;
//! use li_core::{
//!     DeliveryAddress, Destination, DestinationId, HandoverFormat, InterceptScope, Task,
//!     Timestamp, ValidityWindow, Xid,
//! };
//! use li_handover::admf::store::Warrant;
//! use li_handover::admf::{Desired, NeContents, Network, Observed, Timing, plan};
//! use li_handover::x1::RequestBody;
//!
//! let network = Network {
//!     mediator: "mdf".into(),
//!     x2x3: "192.0.2.1:7002".parse()?,
//!     x2x3_did: DestinationId::new_v4_from_random([3; 16]),
//!     probes: vec!["poi-1".into()],
//! };
//! let timing = Timing {
//!     provision_lead: Duration::from_secs(30),
//!     deactivation_grace: Duration::from_secs(30),
//!     mediator_grace: Duration::from_secs(5),
//! };
//! let now = Timestamp::from_secs_micros(1_704_067_200, 0)?;
//! let start = now.checked_add(Duration::from_secs(60)).expect("in range");
//! let task = Task::new(
//!     "LIID-0001".parse()?,
//!     Xid::new_v4_from_random([7; 16]),
//!     vec!["ipv4:192.0.2.9".parse()?],
//!     InterceptScope::IriOnly,
//!     ValidityWindow::new(start, None)?,
//!     vec![Destination::new(
//!         DestinationId::new_v4_from_random([9; 16]),
//!         DeliveryAddress::new("198.51.100.1", 6001, true),
//!         None,
//!         HandoverFormat::etsi_default(),
//!     )
//!     .with_name("LEA-1")],
//! )?;
//! let warrant = Warrant::new(task, now)?;
//! let warrants = [warrant];
//! let desired = Desired { network: &network, timing, warrants: &warrants };
//! // both NEs read back, empty
//! let mut observed = Observed::new(network.ne_count());
//! observed.nes = vec![Some(NeContents::default()), Some(NeContents::default())];
//!
//! assert!(plan(&desired, &observed, now).requests.is_empty());
//!
//! let at_lead = start.checked_sub(timing.provision_lead).expect("in range");
//! let planned = plan(&desired, &observed, at_lead);
//! let sent: Vec<(&str, &str)> = planned
//!     .requests
//!     .iter()
//!     .map(|r| (network.ne_name(r.ne).unwrap_or("?"), r.body.message_type().as_str()))
//!     .collect();
//! assert_eq!(
//!     sent,
//!     [
//!         ("mdf", "CreateDestination"),
//!         ("mdf", "ActivateTask"),
//!         ("poi-1", "CreateDestination"),
//!         ("poi-1", "ActivateTask"),
//!     ]
//! );
//! let RequestBody::ActivateTask(task) = &planned.requests[3].body else { unreachable!() };
//! assert_eq!(task.mediation_details[0].start_time, Some(start));
//! // once every NE has acknowledged, the pending warrant is active
//! assert_eq!(planned.activate, [warrants[0].task.liid()]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod driver;
mod plan;
mod report;
pub mod store;
pub mod text;

pub use driver::{
    ACTOR, Admf, AdmfError, AdmfSettings, AuditSink, NeEndpoint, SettingsError, random_bytes,
    random_xid,
};
pub use plan::{
    Desired, Disposition, Gate, Held, HeldReason, MAX_READ_BACKOFF, MAX_REFUSAL_BACKOFF, MEDIATOR,
    NeContents, Network, Observed, Outcome, Plan, Progress, ProvisioningError, ReadBack, Refusals,
    RefusedTask, Request, Timing, WarrantTasks, disposition, hi3_did, next_edge, plan, retire_at,
    task_dids, warrant_tasks,
};
pub use report::{SyncFailure, SyncReport, TaskChange};
