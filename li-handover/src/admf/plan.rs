//! The ADMF's decisions, pure: what a warrant needs at an instant ([`disposition`]), when
//! that changes next ([`next_edge`]), what the NEs must have for it ([`warrant_tasks`]),
//! which X1 requests bring the NEs from what they have to what they should have ([`plan`]),
//! which of them may still be sent after an earlier one failed ([`Progress`]), and the
//! back-off of refused tasks ([`Refusals`]) and of failed read-backs ([`ReadBack`]).
//!
//! Nothing here reads a clock or touches a socket: time is an argument.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use li_core::{
    DeliveryAddress as CoreAddress, DestinationId, HandoverFormat, Liid, Timestamp, Xid,
};
use sha2::{Digest as _, Sha256};

use super::store::{Agency, Warrant, WarrantState, agency_name};
use crate::x1::{
    DeliveryAddress, DeliveryType, DestinationDetails, DestinationResponseDetails, HiAddress,
    HiTransport, MediationDeliveryType, MediationDetails, Port, RequestBody, RequestMessageType,
    TaskDetails, TaskResponseDetails,
};

/// The index of the mediator among the NEs of a [`Network`] (the probes follow, from 1).
pub const MEDIATOR: usize = 0;

/// The longest wait between two read-back attempts of an NE that fails ([`ReadBack`]).
pub const MAX_READ_BACKOFF: Duration = Duration::from_secs(30);

/// The longest wait before a refused task is offered to its NE again, unchanged
/// ([`Refusals`]).
pub const MAX_REFUSAL_BACKOFF: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------------------------------------
// What a warrant needs at an instant
// ---------------------------------------------------------------------------------------------

/// What a warrant needs at an instant ([`disposition`]): the pure decision each sync acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Not yet: its tasks are provisioned from `from` (its window's start minus the lead).
    Wait {
        /// When provisioning starts.
        from: Timestamp,
    },
    /// Its tasks must be on every NE: from the lead before its window starts to the grace
    /// after it ends.
    Provision,
    /// Its window and the grace after it are over: it ends, and its tasks are deactivated.
    Retire,
    /// Ended or revoked: it needs nothing.
    Done,
}

/// When a pending or active warrant's tasks go: `deactivation_grace` after its window's
/// end, or after it was entered for a window that had ended already (a replay of a
/// recording: its tasks then stay that long for the replay); never for an open window.
pub fn retire_at(warrant: &Warrant, deactivation_grace: Duration) -> Option<Timestamp> {
    let end = warrant.task.window().end()?;
    let base = end.max(warrant.created);
    Some(
        base.checked_add(deactivation_grace)
            .unwrap_or(Timestamp::MAX),
    )
}

/// What `warrant` needs at `now`, given the provisioning lead and the deactivation grace
/// ([`Timing`]). Pure: the edges of the window itself are the probe's and the mediator's,
/// by packet time; the ADMF only has the tasks there early and keeps them a little longer.
pub fn disposition(
    warrant: &Warrant,
    now: Timestamp,
    lead: Duration,
    deactivation_grace: Duration,
) -> Disposition {
    if !matches!(warrant.state, WarrantState::Pending | WarrantState::Active) {
        return Disposition::Done;
    }
    if retire_at(warrant, deactivation_grace).is_some_and(|at| now >= at) {
        return Disposition::Retire;
    }
    let from = warrant
        .task
        .window()
        .start()
        .checked_sub(lead)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    if now >= from {
        Disposition::Provision
    } else {
        Disposition::Wait { from }
    }
}

/// The earliest instant after `now` at which the [`disposition`] of one of `warrants`
/// changes: when the daemon must sync next at the latest.
pub fn next_edge<'w>(
    warrants: impl IntoIterator<Item = &'w Warrant>,
    now: Timestamp,
    lead: Duration,
    deactivation_grace: Duration,
) -> Option<Timestamp> {
    warrants
        .into_iter()
        .filter(|w| matches!(w.state, WarrantState::Pending | WarrantState::Active))
        .flat_map(|w| {
            let from = match disposition(w, now, lead, deactivation_grace) {
                Disposition::Wait { from } => Some(from),
                _ => None,
            };
            [from, retire_at(w, deactivation_grace)]
        })
        .flatten()
        .filter(|t| *t > now)
        .min()
}

// ---------------------------------------------------------------------------------------------
// What the NEs must have for a warrant
// ---------------------------------------------------------------------------------------------

/// The network elements the ADMF provisions: the mediator (NE [`MEDIATOR`]) and the probes
/// (NEs 1, 2, ... in this order), by their X1 `neIdentifier`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    /// The mediator's name.
    pub mediator: String,
    /// The mediator's X2/X3 listener, given to the probes as their destination.
    pub x2x3: SocketAddr,
    /// The DID of that destination at the probes.
    pub x2x3_did: DestinationId,
    /// The probes' names.
    pub probes: Vec<String>,
}

impl Network {
    /// How many NEs there are (the mediator and the probes).
    pub fn ne_count(&self) -> usize {
        1 + self.probes.len()
    }

    /// The name of NE `ne` (`None` past the last probe).
    pub fn ne_name(&self, ne: usize) -> Option<&str> {
        match ne {
            MEDIATOR => Some(&self.mediator),
            probe => self.probes.get(probe - 1).map(String::as_str),
        }
    }
}

/// What the NEs must have for one warrant ([`warrant_tasks`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarrantTasks {
    /// The agencies' HI2 (and, when CC is delivered, HI3) destinations at the mediator.
    pub hi_destinations: Vec<DestinationDetails>,
    /// The task at the mediator: its targets, delivery type, HI destinations and one
    /// `MediationDetails` (LIID, HI2/HI3, window, DIDs).
    pub mediator_task: TaskDetails,
    /// The mediator's X2/X3 listener as a destination at each probe.
    pub probe_destination: DestinationDetails,
    /// The task at each probe: the same XID, targets, delivery type and mediation details,
    /// delivering to the mediator.
    pub probe_task: TaskDetails,
}

/// Why the ADMF itself refuses to provision a warrant (recorded as a refusal of the
/// warrant, as an NE's would be).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisioningError {
    /// An agency expects a handover format (or version) the suite cannot produce
    /// ([`crate::mediator::produces`]); the warrant is never delivered in another one.
    #[error(
        "agency {agency}: handover format {format} is not produced by this suite (it delivers \
         ETSI TS 102 232, etsi-102232:<1..={}>:<1..={}>, ATIS-1000013, atis-1000013:{}, and \
         ATIS-1000678, atis-1000678:{})",
        li_asn1::pdu::LI_PS_PDU_VERSION,
        li_asn1::ipaccess::IP_ACCESS_VERSION,
        li_asn1::atis::access::VERSION,
        crate::calea::VERSION
    )]
    UnsupportedFormat {
        /// The agency's name.
        agency: String,
        /// The format.
        format: HandoverFormat,
    },
    /// The warrant cannot be expressed in an agency's format (an LIID that cannot be an
    /// ATIS `caseId`), or the format carries none of its targets' traffic (an address warrant
    /// to an ATIS-1000678 agency).
    #[error("agency {agency}: {reason}")]
    NotInFormat {
        /// The agency's name.
        agency: String,
        /// Why.
        reason: String,
    },
    /// An agency's HI address is not an IP address (the mediator connects to an address).
    #[error("agency {agency} {interface}: {host:?} is not an IP address (the mediator needs one)")]
    NotAnIpAddress {
        /// The agency's name.
        agency: String,
        /// `HI2` or `HI3`.
        interface: &'static str,
        /// The host as configured.
        host: String,
    },
    /// An agency's HI port cannot be connected to.
    #[error("agency {agency} {interface}: port {port} is not a usable TCP port")]
    UnusablePort {
        /// The agency's name.
        agency: String,
        /// `HI2` or `HI3`.
        interface: &'static str,
        /// The port.
        port: u16,
    },
}

/// The DID of an agency's HI3 destination at the mediator, derived from its HI2 DID `agency`
/// (the agency's id) so that every component computes the same one: SHA-256 of the 16
/// octets of `agency` followed by the ASCII bytes `HI3`; its first 16 octets, with the UUID
/// version nibble set to 8 (RFC 9562 clause 5.8, "custom") and the variant bits to `10`.
pub fn hi3_did(agency: DestinationId) -> DestinationId {
    let digest = Sha256::new()
        .chain_update(agency.as_bytes())
        .chain_update(b"HI3")
        .finalize();
    let mut bytes = [0u8; 16];
    for (out, byte) in bytes.iter_mut().zip(digest.iter()) {
        *out = *byte;
    }
    if let Some(b) = bytes.get_mut(6) {
        *b = (*b & 0x0f) | 0x80;
    }
    if let Some(b) = bytes.get_mut(8) {
        *b = (*b & 0x3f) | 0x80;
    }
    DestinationId::from_bytes(bytes)
}

/// Every DID a task uses (task level and mediation details).
pub fn task_dids(task: &TaskDetails) -> Vec<DestinationId> {
    let mut dids = task.dids.clone();
    for md in &task.mediation_details {
        dids.extend(md.dids.iter().flatten().copied());
    }
    dids
}

/// What the NEs must have for `warrant` in `network`:
///
/// - at the mediator, for each agency a destination with DID = the agency's id,
///   `X2Only`, its HI2 address and handover format as a `uri`
///   `tls://ip:port?handover=<format>` or `tcp://...` after the agency's `tls`
///   ([`HiAddress::to_x1`]), friendly name `"<agency> HI2"`; when the
///   warrant delivers CC, a second one with DID = [`hi3_did`], `X3Only`, its HI3 address,
///   `"<agency> HI3"`; and the task: the warrant's XID, targets, delivery type from its
///   scope, `listOfDIDs` = those destinations and one `MediationDetails` (LIID, `HI2Only` or
///   `HI2andHI3`, `StartTime`/`EndTime` = the window, the same DIDs);
/// - at each probe, the mediator's X2/X3 listener as a destination ([`Network::x2x3_did`],
///   `X2andX3`, `"<mediator> X2/X3"`) and the task with the same XID, targets, delivery type
///   and mediation details (the probe takes its window from them), delivering there.
///
/// # Errors
///
/// An agency's format is not one the suite produces ([`crate::mediator::produces`]: the
/// warrant is refused, never delivered in another format), the LIID cannot be expressed in it
/// (an ATIS `caseId`), or its HI address is not an IP address and usable port.
pub fn warrant_tasks(
    warrant: &Warrant,
    network: &Network,
) -> Result<WarrantTasks, ProvisioningError> {
    for agency in warrant.task.destinations() {
        if !crate::mediator::produces(agency.format) {
            return Err(ProvisioningError::UnsupportedFormat {
                agency: agency_name(agency),
                format: agency.format,
            });
        }
        if !crate::mediator::takes_targets(agency.format, warrant.task.targets()) {
            return Err(ProvisioningError::NotInFormat {
                agency: agency_name(agency),
                reason: crate::mediator::format_takes(agency.format)
                    .unwrap_or("its format carries none of the warrant's targets")
                    .to_owned(),
            });
        }
        if let HandoverFormat::Atis1000013 { .. }
        | HandoverFormat::Atis1000678 { .. }
        | HandoverFormat::PacketCable { .. } = agency.format
        {
            li_asn1::atis::access::check_case_id(&warrant.task.liid()).map_err(|e| {
                ProvisioningError::NotInFormat {
                    agency: agency_name(agency),
                    reason: e.to_string(),
                }
            })?;
        }
    }
    let cc = warrant.task.scope().delivers_cc();
    let mut hi_destinations = Vec::new();
    for agency in warrant.task.destinations() {
        let name = agency_name(agency);
        hi_destinations.push(DestinationDetails {
            did: agency.id,
            friendly_name: Some(format!("{name} HI2")),
            delivery_type: DeliveryType::X2Only,
            delivery_address: x1_address(agency, "HI2", &agency.hi2)?,
        });
        if cc && let Some(hi3) = &agency.hi3 {
            hi_destinations.push(DestinationDetails {
                did: hi3_did(agency.id),
                friendly_name: Some(format!("{name} HI3")),
                delivery_type: DeliveryType::X3Only,
                delivery_address: x1_address(agency, "HI3", hi3)?,
            });
        }
    }
    let dids: Vec<DestinationId> = hi_destinations.iter().map(|d| d.did).collect();
    let mediation = MediationDetails {
        liid: warrant.task.liid(),
        delivery_type: if cc {
            MediationDeliveryType::Hi2AndHi3
        } else {
            MediationDeliveryType::Hi2Only
        },
        start_time: Some(warrant.task.window().start()),
        end_time: warrant.task.window().end(),
        dids: Some(dids.clone()),
    };
    let delivery_type = DeliveryType::from_scope(warrant.task.scope());
    let mut mediator_task = TaskDetails::new(
        warrant.task.xid(),
        warrant.task.targets().to_vec(),
        delivery_type,
        dids,
    );
    mediator_task.mediation_details = vec![mediation.clone()];
    let mut probe_task = TaskDetails::new(
        warrant.task.xid(),
        warrant.task.targets().to_vec(),
        delivery_type,
        vec![network.x2x3_did],
    );
    probe_task.mediation_details = vec![mediation];
    Ok(WarrantTasks {
        hi_destinations,
        mediator_task,
        probe_destination: DestinationDetails {
            did: network.x2x3_did,
            friendly_name: Some(format!("{} X2/X3", network.mediator)),
            delivery_type: DeliveryType::X2AndX3,
            delivery_address: DeliveryAddress::IpAddressPort {
                address: network.x2x3.ip(),
                port: Port::Tcp(network.x2x3.port()),
            },
        },
        probe_task,
    })
}

/// The X1 delivery address of an agency's HI address: a `uri`
/// `tls://ip:port?handover=<format>` or `tcp://...` after the agency's `tls`, which the
/// mediator applies (or refuses, for TLS it is not configured for), and its format; a
/// PacketCable agency's HI3 is `udp://...` (call content datagrams).
fn x1_address(
    agency: &Agency,
    interface: &'static str,
    address: &CoreAddress,
) -> Result<DeliveryAddress, ProvisioningError> {
    let ip: IpAddr = address
        .host
        .parse()
        .map_err(|_| ProvisioningError::NotAnIpAddress {
            agency: agency_name(agency),
            interface,
            host: address.host.clone(),
        })?;
    if address.port < 2 {
        return Err(ProvisioningError::UnusablePort {
            agency: agency_name(agency),
            interface,
            port: address.port,
        });
    }
    let ccc = interface == "HI3" && matches!(agency.format, HandoverFormat::PacketCable { .. });
    let hi = HiAddress {
        // PacketCable call content is UDP datagrams (no TLS form); the rest follows `tls`.
        transport: if ccc {
            HiTransport::Udp
        } else if address.tls {
            HiTransport::Tls
        } else {
            HiTransport::PlainTcp
        },
        addr: SocketAddr::new(ip, address.port),
        format: agency.format,
    };
    // A TLS or plain TCP address always has an X1 form; only one left to the mediator's
    // configuration cannot name a format.
    hi.to_x1()
        .ok_or_else(|| ProvisioningError::UnsupportedFormat {
            agency: agency_name(agency),
            format: agency.format,
        })
}

// ---------------------------------------------------------------------------------------------
// Desired, observed, planned
// ---------------------------------------------------------------------------------------------

/// The ADMF's timing rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long before a warrant's window starts its tasks are provisioned.
    pub provision_lead: Duration,
    /// How long after a warrant's window ends its tasks are deactivated (at the probes).
    pub deactivation_grace: Duration,
    /// How long after a task is no longer wanted it is deactivated at the mediator (the
    /// probes at once), so records already in flight from the probes still arrive.
    pub mediator_grace: Duration,
}

/// What the NEs should have: the warrants (as the store lists them) in a network, with the
/// timing rules.
#[derive(Clone, Copy, Debug)]
pub struct Desired<'a> {
    /// The NEs.
    pub network: &'a Network,
    /// The timing rules.
    pub timing: Timing,
    /// Every warrant, whatever its state (ordered as the requests should be: by LIID).
    pub warrants: &'a [Warrant],
}

/// What one NE has: its tasks and destinations, as its X1 read-back (`GetAllDetails`)
/// reported them, kept up to date from every acknowledged request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NeContents {
    /// Its tasks, by XID.
    pub tasks: BTreeMap<Xid, TaskDetails>,
    /// Its destinations, by DID.
    pub destinations: BTreeMap<DestinationId, DestinationDetails>,
}

impl NeContents {
    /// The contents an NE reported in a `GetAllDetails` response.
    pub fn from_read_back(
        tasks: &[TaskResponseDetails],
        destinations: &[DestinationResponseDetails],
    ) -> Self {
        Self {
            tasks: tasks
                .iter()
                .map(|t| (t.details.xid, t.details.clone()))
                .collect(),
            destinations: destinations
                .iter()
                .map(|d| (d.details.did, d.details.clone()))
                .collect(),
        }
    }
}

/// What the ADMF knows of the NEs, and its own records about them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// What each NE has, by NE index; `None` (or missing) while it is not known: not read
    /// back yet, or a request to it failed. Nothing but a read-back is sent to an NE that is
    /// not known.
    pub nes: Vec<Option<NeContents>>,
    /// The tasks the NEs refused, under back-off.
    pub refusals: Refusals,
    /// When the mediator's task of an XID no longer wanted may be deactivated (its grace
    /// started when it stopped being wanted); [`Plan::mediator_release`] is the new map.
    pub mediator_release: BTreeMap<Xid, Timestamp>,
}

impl Observed {
    /// Nothing known of `ne_count` NEs.
    pub fn new(ne_count: usize) -> Self {
        Self {
            nes: vec![None; ne_count],
            ..Self::default()
        }
    }

    /// What NE `ne` has, if known.
    pub fn ne(&self, ne: usize) -> Option<&NeContents> {
        self.nes.get(ne).and_then(Option::as_ref)
    }
}

/// One X1 request of a [`Plan`], to NE [`Request::ne`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The NE (index in the [`Network`]).
    pub ne: usize,
    /// What to send.
    pub body: RequestBody,
    /// The warrant the request is for, if any (audited with it).
    pub liid: Option<Liid>,
    /// A probe's task of warrant [`Request::liid`]: sent only if every request of that
    /// warrant to the mediator earlier in the plan succeeded (no X2/X3 for an XID the
    /// mediator does not know).
    pub after_mediator: bool,
}

/// Why a wanted task is not sent ([`Plan::held`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeldReason {
    /// The NE's tasks are not known (it could not be read back).
    NotKnown,
    /// The NE refused this very task, and its back-off has not passed.
    Refused {
        /// The request the task would need.
        operation: RequestMessageType,
        /// The NE's reason.
        reason: String,
        /// When the unchanged task is offered again.
        retry_at: Timestamp,
    },
    /// The ADMF itself cannot provision the warrant: nothing of it is sent, and what the
    /// NEs have of it is deactivated.
    Unprovisionable(ProvisioningError),
}

/// A wanted warrant (or one of its tasks) that is not provisioned by a [`Plan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    /// The NE concerned; `None` when the ADMF itself refuses the warrant.
    pub ne: Option<usize>,
    /// The warrant.
    pub liid: Liid,
    /// Its XID.
    pub xid: Xid,
    /// Why.
    pub reason: HeldReason,
}

impl Held {
    /// The operation it holds back, as reported: the X1 message type, `plan` for a warrant
    /// the ADMF refuses.
    pub fn operation(&self) -> &'static str {
        match &self.reason {
            HeldReason::NotKnown => RequestMessageType::ActivateTask.as_str(),
            HeldReason::Refused { operation, .. } => operation.as_str(),
            HeldReason::Unprovisionable(_) => "plan",
        }
    }
}

impl fmt::Display for HeldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotKnown => {
                f.write_str("the NE's tasks are not known (it could not be read back)")
            }
            Self::Refused {
                reason, retry_at, ..
            } => write!(
                f,
                "refused: {reason} (offered again at {retry_at}, or when the warrant changes)"
            ),
            Self::Unprovisionable(e) => write!(f, "refused by the ADMF: {e}"),
        }
    }
}

/// What one pass of the reconciler must do ([`plan`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Warrants whose window and grace are over: to be recorded as ended.
    pub retire: Vec<Liid>,
    /// The X1 requests, in the order they must go: deactivations at the probes, then at the
    /// mediator (after its grace), then warrant by warrant the mediator's destinations and
    /// task and each probe's destination and task, then the removal of the mediator's
    /// destinations nothing uses any more. Send them in order, asking a [`Progress`] before
    /// each.
    pub requests: Vec<Request>,
    /// Wanted tasks not sent, and warrants the ADMF refuses.
    pub held: Vec<Held>,
    /// Pending warrants that are on every NE once their requests succeed: active then
    /// ([`Progress::activated`]).
    pub activate: Vec<Liid>,
    /// The new [`Observed::mediator_release`] (an entry goes once its deactivation is
    /// acknowledged).
    pub mediator_release: BTreeMap<Xid, Timestamp>,
    /// The XIDs of the warrants whose tasks are wanted now.
    pub wanted: BTreeSet<Xid>,
}

/// The reconciler's decision: the X1 requests that bring the NEs from what they have
/// (`observed`) to what they should have (`desired`) at `now`.
///
/// - A warrant's tasks are wanted while its [`disposition`] is
///   [`Disposition::Provision`] and the ADMF can provision it ([`warrant_tasks`]); a warrant
///   it cannot is [held](HeldReason::Unprovisionable) and not wanted.
/// - **Never a stale task.** A task a probe has that is not wanted (ended, revoked, deleted,
///   unknown, refused by the ADMF) is deactivated; at the mediator, once
///   [`Timing::mediator_grace`] has passed since it stopped being wanted. A wanted task an
///   NE lacks (the NE restarted) is activated; one that differs is modified.
/// - **Order.** For each warrant the mediator first (its HI destinations, then its task),
///   then each probe (the X2/X3 destination, then the task, [after the
///   mediator](Request::after_mediator)). An NE not known gets nothing; a task the NE
///   refused is not offered again, unchanged, before its back-off
///   ([`Refusals::held`]); a changed one is offered at once.
/// - The mediator's destinations that no wanted warrant and no remaining task uses are
///   removed last.
///
/// The plan assumes its requests succeed; [`Progress`] decides what is still sent after one
/// fails.
pub fn plan(desired: &Desired<'_>, observed: &Observed, now: Timestamp) -> Plan {
    let network = desired.network;
    let timing = desired.timing;
    let mut plan = Plan::default();

    let mut wanted: Vec<(&Warrant, WarrantTasks)> = Vec::new();
    for warrant in desired.warrants {
        match disposition(
            warrant,
            now,
            timing.provision_lead,
            timing.deactivation_grace,
        ) {
            Disposition::Retire => plan.retire.push(warrant.task.liid()),
            Disposition::Provision => match warrant_tasks(warrant, network) {
                Ok(tasks) => wanted.push((warrant, tasks)),
                Err(e) => plan.held.push(Held {
                    ne: None,
                    liid: warrant.task.liid(),
                    xid: warrant.task.xid(),
                    reason: HeldReason::Unprovisionable(e),
                }),
            },
            Disposition::Wait { .. } | Disposition::Done => {}
        }
    }
    plan.wanted = wanted.iter().map(|(w, _)| w.task.xid()).collect();
    let liid_of: HashMap<Xid, Liid> = desired
        .warrants
        .iter()
        .map(|w| (w.task.xid(), w.task.liid()))
        .collect();
    // What the NEs will have once the requests planned so far succeed.
    let mut nes: Vec<Option<NeContents>> = (0..network.ne_count())
        .map(|ne| observed.ne(ne).cloned())
        .collect();

    // Tasks not wanted: at the probes at once.
    for ne in 1..network.ne_count() {
        let Some(Some(contents)) = nes.get_mut(ne) else {
            continue;
        };
        let stale: Vec<Xid> = contents
            .tasks
            .keys()
            .filter(|xid| !plan.wanted.contains(xid))
            .copied()
            .collect();
        for xid in stale {
            contents.tasks.remove(&xid);
            plan.requests.push(Request {
                ne,
                body: RequestBody::DeactivateTask(xid),
                liid: liid_of.get(&xid).copied(),
                after_mediator: false,
            });
        }
    }

    // ... and at the mediator after its grace.
    let mut release = observed.mediator_release.clone();
    match nes.get_mut(MEDIATOR) {
        Some(Some(contents)) => {
            release.retain(|xid, _| !plan.wanted.contains(xid) && contents.tasks.contains_key(xid));
            let stale: Vec<Xid> = contents
                .tasks
                .keys()
                .filter(|xid| !plan.wanted.contains(xid))
                .copied()
                .collect();
            for xid in stale {
                let at = *release
                    .entry(xid)
                    .or_insert_with(|| now.checked_add(timing.mediator_grace).unwrap_or(now));
                if now >= at {
                    contents.tasks.remove(&xid);
                    plan.requests.push(Request {
                        ne: MEDIATOR,
                        body: RequestBody::DeactivateTask(xid),
                        liid: liid_of.get(&xid).copied(),
                        after_mediator: false,
                    });
                }
            }
        }
        _ => release.retain(|xid, _| !plan.wanted.contains(xid)),
    }
    plan.mediator_release = release;

    // The wanted warrants: the mediator, then the probes.
    let mut used = BTreeSet::new();
    for (warrant, tasks) in &wanted {
        used.extend(tasks.hi_destinations.iter().map(|d| d.did));
        let mut ensure = |ne: usize, destinations: &[DestinationDetails], task: &TaskDetails| {
            let Some(Some(contents)) = nes.get_mut(ne) else {
                plan.held.push(Held {
                    ne: Some(ne),
                    liid: warrant.task.liid(),
                    xid: warrant.task.xid(),
                    reason: HeldReason::NotKnown,
                });
                return false;
            };
            for dest in destinations {
                let body = match contents.destinations.get(&dest.did) {
                    None => RequestBody::CreateDestination(dest.clone()),
                    Some(has) if has != dest => RequestBody::ModifyDestination(dest.clone()),
                    Some(_) => continue,
                };
                contents.destinations.insert(dest.did, dest.clone());
                plan.requests.push(Request {
                    ne,
                    body,
                    liid: Some(warrant.task.liid()),
                    after_mediator: false,
                });
            }
            let body = match contents.tasks.get(&task.xid) {
                None => RequestBody::ActivateTask(task.clone()),
                Some(has) if has != task => RequestBody::ModifyTask(task.clone()),
                Some(_) => return true,
            };
            if let Some(refused) = observed.refusals.held(ne, task, now) {
                plan.held.push(Held {
                    ne: Some(ne),
                    liid: warrant.task.liid(),
                    xid: warrant.task.xid(),
                    reason: HeldReason::Refused {
                        operation: body.message_type(),
                        reason: refused.reason.clone(),
                        retry_at: refused.retry_at,
                    },
                });
                return false;
            }
            contents.tasks.insert(task.xid, task.clone());
            plan.requests.push(Request {
                ne,
                body,
                liid: Some(warrant.task.liid()),
                after_mediator: ne != MEDIATOR,
            });
            true
        };
        let mut complete = ensure(MEDIATOR, &tasks.hi_destinations, &tasks.mediator_task);
        if complete {
            for probe in 1..network.ne_count() {
                complete &= ensure(
                    probe,
                    std::slice::from_ref(&tasks.probe_destination),
                    &tasks.probe_task,
                );
            }
        }
        if complete && warrant.state == WarrantState::Pending {
            plan.activate.push(warrant.task.liid());
        }
    }

    // The mediator's destinations nothing uses any more.
    if let Some(Some(contents)) = nes.get_mut(MEDIATOR) {
        let in_tasks: BTreeSet<DestinationId> =
            contents.tasks.values().flat_map(task_dids).collect();
        let unused: Vec<DestinationId> = contents
            .destinations
            .keys()
            .filter(|did| !used.contains(*did) && !in_tasks.contains(*did))
            .copied()
            .collect();
        for did in unused {
            contents.destinations.remove(&did);
            plan.requests.push(Request {
                ne: MEDIATOR,
                body: RequestBody::RemoveDestination(did),
                liid: None,
                after_mediator: false,
            });
        }
    }
    plan
}

// ---------------------------------------------------------------------------------------------
// Sending a plan
// ---------------------------------------------------------------------------------------------

/// How a request of a plan went, as the driver classifies the NE's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged (or the NE already was as asked: a destination that exists, a task or
    /// destination to remove that is gone).
    Done,
    /// The NE refused a task (`ErrorResponse` to `ActivateTask` or `ModifyTask`): that
    /// warrant's alone; the NE stays known and the other warrants are provisioned there.
    Refused,
    /// Anything else failed: the NE is not known any more, and is read back first.
    Failed,
}

/// Whether a request of a plan is still sent ([`Progress::gate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Send it.
    Send,
    /// Do not: an earlier request to its NE failed, or (a probe's task) one of its
    /// warrant's requests to the mediator did not go through. `report` when the skip is
    /// worth a failure of its own (the first for its warrant at that NE).
    Skip {
        /// Whether to report it.
        report: bool,
    },
}

/// The progress of one plan being sent: decides, from the outcomes so far, whether the next
/// request still goes ([`Progress::gate`]), and which pending warrants became active.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    failed_nes: BTreeSet<usize>,
    failed_at_mediator: BTreeSet<Liid>,
    incomplete: BTreeSet<Liid>,
    reported: BTreeSet<(usize, Liid)>,
}

impl Progress {
    /// Whether `request` is still sent. A skipped request counts as one that did not go
    /// through.
    pub fn gate(&mut self, request: &Request) -> Gate {
        let ne_failed = self.failed_nes.contains(&request.ne);
        let mediator_failed = request.after_mediator
            && request
                .liid
                .is_some_and(|liid| self.failed_at_mediator.contains(&liid));
        if !ne_failed && !mediator_failed {
            return Gate::Send;
        }
        let report = match request.liid {
            Some(liid) => {
                self.incomplete.insert(liid);
                if request.ne == MEDIATOR {
                    self.failed_at_mediator.insert(liid);
                }
                ne_failed && self.reported.insert((request.ne, liid))
            }
            None => false,
        };
        Gate::Skip { report }
    }

    /// Records how `request` went.
    pub fn record(&mut self, request: &Request, outcome: Outcome) {
        if outcome == Outcome::Done {
            return;
        }
        if outcome == Outcome::Failed {
            self.failed_nes.insert(request.ne);
        }
        if let Some(liid) = request.liid {
            self.incomplete.insert(liid);
            self.reported.insert((request.ne, liid));
            if request.ne == MEDIATOR {
                self.failed_at_mediator.insert(liid);
            }
        }
    }

    /// The warrants of [`Plan::activate`] every request of which went through.
    pub fn activated<'p>(&'p self, plan: &'p Plan) -> impl Iterator<Item = Liid> + 'p {
        plan.activate
            .iter()
            .filter(|liid| !self.incomplete.contains(*liid))
            .copied()
    }
}

// ---------------------------------------------------------------------------------------------
// Back-offs
// ---------------------------------------------------------------------------------------------

/// A task an NE refused: not offered again, unchanged, before `retry_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedTask {
    /// The task as refused: a changed one is offered at once.
    pub task: TaskDetails,
    /// The NE's reason.
    pub reason: String,
    /// How many times in a row the unchanged task was refused.
    pub attempts: u32,
    /// When it is offered again.
    pub retry_at: Timestamp,
}

/// The tasks NEs refused, by (NE, XID), with their back-off: the base interval after the
/// first refusal, doubling with each further one up to [`MAX_REFUSAL_BACKOFF`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refusals {
    tasks: BTreeMap<(usize, Xid), RefusedTask>,
}

impl Refusals {
    /// The refusal of `xid` by NE `ne`, if any.
    pub fn get(&self, ne: usize, xid: Xid) -> Option<&RefusedTask> {
        self.tasks.get(&(ne, xid))
    }

    /// The refusal that holds `task` back at NE `ne` at `now`: the same task was refused and
    /// its back-off has not passed.
    pub fn held(&self, ne: usize, task: &TaskDetails, now: Timestamp) -> Option<&RefusedTask> {
        self.get(ne, task.xid)
            .filter(|r| r.task == *task && now < r.retry_at)
    }

    /// Records that NE `ne` refused `task` at `now` for `reason`; the next attempt is
    /// `base` later, doubled for each earlier refusal of the same task. Returns whether the
    /// refusal is new (another task or another reason than the last one), i.e. whether to
    /// record and audit it.
    pub fn record(
        &mut self,
        ne: usize,
        task: &TaskDetails,
        reason: &str,
        now: Timestamp,
        base: Duration,
    ) -> bool {
        let previous = self.tasks.get(&(ne, task.xid));
        let attempts = previous
            .filter(|r| r.task == *task)
            .map_or(1, |r| r.attempts.saturating_add(1));
        let is_new = previous.is_none_or(|r| r.task != *task || r.reason != reason);
        let delay = base
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(16))
            .min(MAX_REFUSAL_BACKOFF);
        let retry_at = now.checked_add(delay).unwrap_or(Timestamp::MAX);
        self.tasks.insert(
            (ne, task.xid),
            RefusedTask {
                task: task.clone(),
                reason: reason.to_owned(),
                attempts,
                retry_at,
            },
        );
        is_new
    }

    /// NE `ne` accepted `xid`: its refusal, if any, is forgotten; whether there was one.
    pub fn accepted(&mut self, ne: usize, xid: Xid) -> bool {
        self.tasks.remove(&(ne, xid)).is_some()
    }

    /// Forgets the refusals of tasks not in `wanted`.
    pub fn retain_wanted(&mut self, wanted: &BTreeSet<Xid>) {
        self.tasks.retain(|(_, xid), _| wanted.contains(xid));
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

/// When an NE is read back (`GetAllDetails`): at start-up and whenever it is not known (a
/// request to it failed), after a back-off when read-backs fail (the base interval, doubling
/// up to [`MAX_READ_BACKOFF`], so that an NE that is down does not flood the audit log),
/// and periodically to catch an NE that restarted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadBack {
    last_read: Option<Timestamp>,
    failed_reads: u32,
    next_read: Option<Timestamp>,
}

impl ReadBack {
    /// Whether the NE is read back at `now`, given whether it is `known` and the period of
    /// the periodic read-back (`None`: only when not known).
    pub fn due(&self, known: bool, now: Timestamp, every: Option<Duration>) -> bool {
        let periodic = every.is_some_and(|every| {
            self.last_read
                .is_none_or(|last| last.checked_add(every).is_none_or(|due| now >= due))
        });
        if known {
            periodic
        } else {
            self.next_read.is_none_or(|next| now >= next)
        }
    }

    /// The read-back at `now` succeeded.
    pub fn succeeded(&mut self, now: Timestamp) {
        self.last_read = Some(now);
        self.failed_reads = 0;
        self.next_read = None;
    }

    /// The read-back at `now` failed; returns how long until the next attempt (`base`,
    /// doubling with each consecutive failure, at most [`MAX_READ_BACKOFF`]).
    pub fn failed(&mut self, now: Timestamp, base: Duration) -> Duration {
        self.failed_reads = self.failed_reads.saturating_add(1);
        let factor = 1u32 << self.failed_reads.saturating_sub(1).min(16);
        let delay = base.saturating_mul(factor).min(MAX_READ_BACKOFF);
        self.next_read = now.checked_add(delay);
        delay
    }
}

#[cfg(test)]
mod tests;
