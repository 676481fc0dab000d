//! X1 at the probe: provisioning of tasks and X2/X3 destinations by the ADMF, over X1 or in
//! process, and the pure mapping of X1 details to classifier tasks and X2/X3 addresses.

use std::net::SocketAddr;
use std::time::Duration;

use li_core::{DestinationId, Liid, TargetIdentifier, Task, Timestamp, ValidityWindow, Xid};
use li_handover::x1::{
    AckKind, BoxFuture, DeliveryAddress, DeliveryType, DestinationDeliveryStatus,
    DestinationDetails, DestinationResponseDetails, ErrorInformation, ErrorResponse, MessageHeader,
    NeStatus, NeStatusDetails, OkStatus, Port, ProvisioningStatus, RequestBody, ResponseBody,
    ResponseMessage, TaskDetails, TaskResponseDetails, TaskStatus, X1ErrorKind, X1Handler, X1Peer,
    X1Request, X1Response,
};
use tracing::{info, warn};

use super::{DestinationRuntime, Probe, State, TaskEntry, finish_link, wall_clock};

/// Fault code in `GetDestinationDetails` / `GetNEStatus` answers: the X2/X3 link to the
/// destination is not connected.
pub const FAULT_X2X3_LINK_DOWN: i64 = 2000;

/// Fault code in `GetDestinationDetails` / `GetNEStatus` answers: PDUs for the destination
/// were dropped because its queue was full.
pub const FAULT_X2X3_QUEUE_FULL: i64 = 2001;

/// The LIID of a task provisioned without mediation details (it never leaves the probe).
const PLACEHOLDER_LIID: &[u8] = b"PROBE";

/// How long a removed or replaced destination's link may take to deliver its queue.
const RETIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a deactivation's answer waits for the X2/X3 queues to be written out.
const DEACTIVATION_DRAIN: Duration = Duration::from_secs(5);

/// The X1 handler of a probe.
pub(super) struct Handler {
    probe: Probe,
}

impl Handler {
    pub(super) fn new(probe: Probe) -> Self {
        Self { probe }
    }
}

impl X1Handler for Handler {
    fn handle<'a>(&'a self, request: X1Request, peer: X1Peer) -> BoxFuture<'a, X1Response> {
        Box::pin(async move {
            tracing::debug!(peer = %peer.addr, identity = ?peer.identity, "X1 request");
            let deactivates = deactivates(&request);
            let response = self.probe.handle_x1(request);
            if deactivates {
                // The ADMF deactivates the mediator's task a grace period after this answer:
                // first let the X2/X3 queues (the task's last records, its end-of-interception
                // IRI) go out, for a bounded time.
                self.probe.drain(DEACTIVATION_DRAIN).await;
            }
            response
        })
    }
}

/// Whether an X1 request deactivates a task: its answer then waits (a bounded time) for the
/// X2/X3 queues to be written out, as the ADMF deactivates the mediator's task a grace
/// period after the answer.
fn deactivates(request: &X1Request) -> bool {
    request.messages.iter().any(|m| {
        matches!(
            m.body,
            RequestBody::DeactivateTask(_) | RequestBody::DeactivateAllTasks
        )
    })
}

/// Why the probe refused a provisioning message: what its X1 `ErrorResponse` says, with the
/// code of its [`X1ErrorKind`] (XID or DID unknown or existing, a DID in use, a target kind
/// this probe cannot intercept, [`X1ErrorKind::Unsupported`] for other things this probe
/// does not support, [`X1ErrorKind::HandlerFailed`] for the rest); never a target value.
pub type Refusal = ErrorInformation;

fn refused(description: impl Into<String>) -> Refusal {
    Refusal::new(X1ErrorKind::HandlerFailed, description)
}

fn unsupported(description: impl Into<String>) -> Refusal {
    Refusal::new(X1ErrorKind::Unsupported, description)
}

fn no_task(xid: Xid) -> Refusal {
    Refusal::new(
        X1ErrorKind::XidUnknown,
        format!("task {xid} does not exist"),
    )
}

fn no_destination(did: DestinationId) -> Refusal {
    Refusal::new(
        X1ErrorKind::DidUnknown,
        format!("destination {did} does not exist"),
    )
}

fn ack(kind: AckKind) -> ResponseBody {
    ResponseBody::Ok {
        kind,
        status: OkStatus::AcknowledgedAndCompleted,
    }
}

impl Probe {
    /// Executes an X1 request, one response message per request message, in order (what
    /// the X1 server calls; call it within a tokio runtime). A message that cannot be
    /// executed (wrong `neIdentifier`, unknown DID or XID, a task or destination that exists
    /// already, unsupported targets, delivery type or address, a destination still in use)
    /// is answered by an `ErrorResponse` saying why, with the code of its [`X1ErrorKind`]
    /// (see [`Refusal::code`]).
    pub fn handle_x1(&self, request: X1Request) -> X1Response {
        let messages = request
            .messages
            .into_iter()
            .map(|m| {
                let kind = m.body.message_type();
                let body = self.execute(&m.header, m.body).unwrap_or_else(|failure| {
                    warn!(
                        request = kind.as_str(),
                        code = failure.code,
                        "X1 {} refused: {}",
                        kind.as_str(),
                        failure.description
                    );
                    ResponseBody::Error(ErrorResponse {
                        request_message_type: kind,
                        error: failure,
                        extended_request_message_type: None,
                    })
                });
                ResponseMessage {
                    header: MessageHeader::response_to(&m.header, wall_clock()),
                    body,
                }
            })
            .collect();
        X1Response { messages }
    }

    fn execute(&self, header: &MessageHeader, body: RequestBody) -> Result<ResponseBody, Refusal> {
        let name = &self.inner.settings.name;
        if &header.ne_identifier != name {
            return Err(refused(format!(
                "neIdentifier {:?} is not this NE ({name:?})",
                header.ne_identifier
            )));
        }
        match body {
            RequestBody::CreateDestination(d) => self
                .create_destination(d)
                .map(|()| ack(AckKind::CreateDestination)),
            RequestBody::ModifyDestination(d) => self
                .modify_destination(d)
                .map(|()| ack(AckKind::ModifyDestination)),
            RequestBody::RemoveDestination(did) => self
                .remove_destinations(Some(did))
                .map(|()| ack(AckKind::RemoveDestination)),
            RequestBody::RemoveAllDestinations => self
                .remove_destinations(None)
                .map(|()| ack(AckKind::RemoveAllDestinations)),
            RequestBody::ActivateTask(details) => self
                .provision_task(details, false)
                .map(|()| ack(AckKind::ActivateTask)),
            RequestBody::ModifyTask(details) => self
                .provision_task(details, true)
                .map(|()| ack(AckKind::ModifyTask)),
            RequestBody::DeactivateTask(xid) => self
                .deactivate_task(xid)
                .map(|()| ack(AckKind::DeactivateTask)),
            RequestBody::DeactivateAllTasks => {
                self.deactivate_all_tasks();
                Ok(ack(AckKind::DeactivateAllTasks))
            }
            RequestBody::GetTaskDetails(xid) => {
                let state = self.lock();
                let task = state.tasks.get(&xid).ok_or_else(|| no_task(xid))?;
                Ok(ResponseBody::GetTaskDetails(task_response(task)))
            }
            RequestBody::GetDestinationDetails(did) => {
                let state = self.lock();
                let d = state
                    .destinations
                    .get(&did)
                    .ok_or_else(|| no_destination(did))?;
                Ok(ResponseBody::GetDestinationDetails(destination_response(d)))
            }
            RequestBody::GetNeStatus => Ok(ResponseBody::GetNeStatus(ne_status(&self.lock()))),
            RequestBody::GetAllDetails => {
                let state = self.lock();
                Ok(ResponseBody::GetAllDetails {
                    ne_status: ne_status(&state),
                    tasks: state.tasks.values().map(task_response).collect(),
                    destinations: state
                        .destinations
                        .values()
                        .map(destination_response)
                        .collect(),
                })
            }
            RequestBody::GetAllTaskDetails => Ok(ResponseBody::GetAllTaskDetails(
                self.lock().tasks.values().map(task_response).collect(),
            )),
            RequestBody::GetAllDestinationDetails => Ok(ResponseBody::GetAllDestinationDetails(
                self.lock()
                    .destinations
                    .values()
                    .map(destination_response)
                    .collect(),
            )),
            RequestBody::ListAllDetails => {
                let state = self.lock();
                Ok(ResponseBody::ListAllDetails {
                    xids: state.tasks.keys().copied().collect(),
                    dids: state.destinations.keys().copied().collect(),
                })
            }
            RequestBody::Ping => Ok(ack(AckKind::Ping)),
            RequestBody::Keepalive => Ok(ack(AckKind::Keepalive)),
            other => Err(unsupported(format!(
                "{} is not supported by this probe",
                other.message_type().as_str()
            ))),
        }
    }

    /// Creates an X2/X3 destination (X1 `CreateDestination`) and starts its link; refused
    /// when the DID exists already or the address is not a TCP `ipAddressAndPort`. Call it
    /// within a tokio runtime.
    pub fn create_destination(&self, details: DestinationDetails) -> Result<(), Refusal> {
        let addr = x2x3_address(&details.delivery_address)?;
        let mut state = self.lock();
        let did = details.did;
        if state.destinations.contains_key(&did) {
            return Err(Refusal::new(
                X1ErrorKind::DidExists,
                format!("destination {did} exists already"),
            ));
        }
        let (sender, handle) = self.spawn_sender(&details, addr);
        info!(%did, %addr, delivery = details.delivery_type.as_str(), "X2/X3 destination created");
        state.destinations.insert(
            did,
            DestinationRuntime {
                details,
                addr,
                sender,
                handle: Some(handle),
                next_sequence: 0,
            },
        );
        Ok(())
    }

    /// Modifies an X2/X3 destination (X1 `ModifyDestination`): a new address moves its link
    /// (the old one delivers its queue in the background; the sequence numbers go on).
    /// Call it within a tokio runtime.
    pub fn modify_destination(&self, details: DestinationDetails) -> Result<(), Refusal> {
        let addr = x2x3_address(&details.delivery_address)?;
        let mut state = self.lock();
        let did = details.did;
        let d = state
            .destinations
            .get_mut(&did)
            .ok_or_else(|| no_destination(did))?;
        if d.addr != addr {
            let (sender, handle) = self.spawn_sender(&details, addr);
            let old_sender = std::mem::replace(&mut d.sender, sender);
            let old_handle = d.handle.replace(handle);
            d.addr = addr;
            self.retire(old_sender, old_handle);
        }
        d.details = details;
        info!(%did, %addr, "X2/X3 destination modified");
        Ok(())
    }

    /// Removes an X2/X3 destination (X1 `RemoveDestination`); refused while a task delivers
    /// to it. Its link delivers its queue in the background.
    pub fn remove_destination(&self, did: DestinationId) -> Result<(), Refusal> {
        self.remove_destinations(Some(did))
    }

    /// Removes every X2/X3 destination (X1 `RemoveAllDestinations`); refused, removing
    /// none, while a task delivers to one.
    pub fn remove_all_destinations(&self) -> Result<(), Refusal> {
        self.remove_destinations(None)
    }

    /// Removes one destination (`Some`) or all; refused while a task delivers to one.
    fn remove_destinations(&self, did: Option<DestinationId>) -> Result<(), Refusal> {
        let mut state = self.lock();
        let dids: Vec<DestinationId> = match did {
            Some(did) if !state.destinations.contains_key(&did) => {
                return Err(no_destination(did));
            }
            Some(did) => vec![did],
            None => state.destinations.keys().copied().collect(),
        };
        for did in &dids {
            if let Some(task) = state.tasks.values().find(|t| t.details.dids.contains(did)) {
                return Err(Refusal::new(
                    X1ErrorKind::DidInUse,
                    format!("destination {did} is in use by task {}", task.details.xid),
                ));
            }
        }
        for did in &dids {
            if let Some(d) = state.destinations.remove(did) {
                info!(%did, "X2/X3 destination removed");
                self.retire(d.sender, d.handle);
            }
        }
        Ok(())
    }

    /// Lets a link no longer used deliver its queue in the background, then adds its
    /// counters to the retired totals.
    fn retire(
        &self,
        sender: li_handover::x2x3::transport::X2X3Sender,
        handle: Option<li_handover::x2x3::transport::SenderHandle>,
    ) {
        drop(sender);
        let Some(handle) = handle else { return };
        let probe = self.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + RETIRE_TIMEOUT;
            let (stats, _) = finish_link(handle, deadline).await;
            let mut state = probe.lock();
            state.retired.queued += stats.queued;
            state.retired.sent += stats.sent;
            state.retired.dropped += stats.dropped;
            state.retired.possibly_lost += stats.possibly_lost;
        });
    }

    /// Activates a task (X1 `ActivateTask`) at the probe's clock: its IRI-Begin records go
    /// out at once. Refused when the XID exists already, or as [`task_from_details`] says.
    pub fn activate_task(&self, details: TaskDetails) -> Result<(), Refusal> {
        self.provision_task(details, false)
    }

    /// Modifies a task (X1 `ModifyTask`) at the probe's clock: the old task's end records
    /// go to its old destinations, then the new one's begin records. Refused when the XID
    /// does not exist, or as [`task_from_details`] says.
    pub fn modify_task(&self, details: TaskDetails) -> Result<(), Refusal> {
        self.provision_task(details, true)
    }

    /// Deactivates a task (X1 `DeactivateTask`) at the probe's clock: its end records go
    /// out. Refused when the XID does not exist.
    pub fn deactivate_task(&self, xid: Xid) -> Result<(), Refusal> {
        let mut state = self.lock();
        if !state.deactivate(xid, &self.inner) {
            return Err(no_task(xid));
        }
        self.publish_tasks(&state);
        info!(%xid, "task deactivated");
        Ok(())
    }

    /// Deactivates every task (X1 `DeactivateAllTasks`); returns how many there were.
    pub fn deactivate_all_tasks(&self) -> usize {
        let mut state = self.lock();
        let xids: Vec<Xid> = state.tasks.keys().copied().collect();
        for xid in &xids {
            state.deactivate(*xid, &self.inner);
        }
        self.publish_tasks(&state);
        info!(tasks = xids.len(), "all tasks deactivated");
        xids.len()
    }

    fn provision_task(&self, details: TaskDetails, modify: bool) -> Result<(), Refusal> {
        let mut state = self.lock();
        let xid = details.xid;
        match (modify, state.tasks.contains_key(&xid)) {
            (false, true) => {
                return Err(Refusal::new(
                    X1ErrorKind::XidExists,
                    format!("task {xid} exists already"),
                ));
            }
            (true, false) => return Err(no_task(xid)),
            _ => {}
        }
        let task = task_from_details(&details, |did| state.destinations.contains_key(did))?;
        let (window, scope) = (task.window(), task.scope());
        state.activate(task, details, modify, &self.inner);
        self.publish_tasks(&state);
        info!(
            %xid,
            ?scope,
            start = %window.start(),
            end = ?window.end(),
            "task {}",
            if modify { "modified" } else { "activated" }
        );
        Ok(())
    }
}

/// The classifier's task for X1 task details (see the [module
/// documentation](super#mapping-of-x1-tasks)), `exists` telling whether a destination
/// exists. A pure decision: the same details and destinations always give the same task or
/// the same refusal.
pub fn task_from_details(
    details: &TaskDetails,
    exists: impl Fn(&DestinationId) -> bool,
) -> Result<Task<DestinationId>, Refusal> {
    let xid = details.xid;
    let scope = details.delivery_type.scope().ok_or_else(|| {
        unsupported(format!(
            "task {xid}: deliveryType {} (content without IRI) is not supported by this probe",
            details.delivery_type
        ))
    })?;
    for (i, target) in details.targets.iter().enumerate() {
        match target {
            TargetIdentifier::Ipv4Address(_)
            | TargetIdentifier::Ipv6Address(_)
            | TargetIdentifier::IpPrefix(_)
            | TargetIdentifier::Username(_)
            | TargetIdentifier::MacAddress(_) => {}
            TargetIdentifier::SipUri(_) | TargetIdentifier::E164Number(_) => {
                // Matched in SIP messages: the matcher must be able to read it. The error
                // names the element, never the target's value.
                if let Err(error) = crate::sip::SipTargets::new().insert(target.clone()) {
                    return Err(Refusal::new(
                        X1ErrorKind::TargetUnsupported,
                        format!(
                            "task {xid}: target {} is a {} target which this probe cannot \
                             intercept: it cannot be matched in SIP messages ({error})",
                            i + 1,
                            target.kind().as_str()
                        ),
                    ));
                }
            }
            other => {
                return Err(Refusal::new(
                    X1ErrorKind::TargetUnsupported,
                    format!(
                        "task {xid}: target {} is of kind {}, which this probe cannot intercept",
                        i + 1,
                        other.kind().as_str()
                    ),
                ));
            }
        }
    }
    if details.dids.is_empty() {
        return Err(refused(format!(
            "task {xid}: listOfDIDs is empty (at least one X2/X3 destination is needed)"
        )));
    }
    // Every destination must exist; the task names them by DID (their X2/X3 addresses
    // live in the probe's destination table).
    if let Some(did) = details.dids.iter().find(|did| !exists(did)) {
        return Err(Refusal::new(
            X1ErrorKind::DidUnknown,
            format!("task {xid}: destination {did} does not exist"),
        ));
    }
    let mediation = details.mediation_details.first();
    let start = mediation
        .and_then(|m| m.start_time)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let end = mediation.and_then(|m| m.end_time);
    let window = ValidityWindow::new(start, end).map_err(|_| {
        refused(format!(
            "task {xid}: mediationDetails endTime is not after startTime"
        ))
    })?;
    let liid = match mediation {
        Some(m) => m.liid,
        None => Liid::new(PLACEHOLDER_LIID).map_err(|e| refused(e.to_string()))?,
    };
    Task::new(
        liid,
        xid,
        details.targets.clone(),
        scope,
        window,
        details.dids.clone(),
    )
    .map_err(|e| match e {
        li_core::Error::DuplicateDestination { id } => refused(format!(
            "task {xid}: destination {id} is named twice in listOfDIDs"
        )),
        e => refused(format!("task {xid} cannot be provisioned: {e}")),
    })
}

/// The X2/X3 address of a destination's delivery address: `ipAddressAndPort` with a TCP
/// port only (X2/X3 runs over TLS).
pub fn x2x3_address(address: &DeliveryAddress) -> Result<SocketAddr, Refusal> {
    match address {
        DeliveryAddress::IpAddressPort {
            address,
            port: Port::Tcp(port),
        } => Ok(SocketAddr::new(*address, *port)),
        DeliveryAddress::IpAddressPort { .. } => Err(unsupported(
            "X2/X3 runs over TCP (TLS): a UDP port is not supported",
        )),
        _ => Err(unsupported(
            "only ipAddressAndPort delivery addresses are supported",
        )),
    }
}

/// Whether a destination of `delivery_type` carries CC (`cc`, X3) or IRI (X2).
pub fn carries(delivery_type: DeliveryType, cc: bool) -> bool {
    match delivery_type {
        DeliveryType::X2AndX3 => true,
        DeliveryType::X2Only => !cc,
        DeliveryType::X3Only => cc,
    }
}

fn task_response(task: &TaskEntry) -> TaskResponseDetails {
    let mut status = TaskStatus::new(ProvisioningStatus::Complete);
    status.time_of_last_intercept = task.last_intercept;
    status.amount_of_x2_data = Some(task.x2_pdus);
    status.amount_of_x3_data = Some(task.x3_pdus);
    status.time_of_last_modification = task.modified;
    status.number_of_modifications = Some(task.modifications);
    TaskResponseDetails {
        details: task.details.clone(),
        status,
    }
}

fn destination_faults(d: &DestinationRuntime) -> Vec<ErrorInformation> {
    let stats = d.sender.stats().snapshot();
    let mut faults = Vec::new();
    if !stats.connected {
        faults.push(ErrorInformation {
            code: FAULT_X2X3_LINK_DOWN,
            description: format!(
                "X2/X3 link of destination {} to {} is not connected",
                d.details.did, d.addr
            ),
        });
    }
    if stats.dropped > 0 {
        faults.push(ErrorInformation {
            code: FAULT_X2X3_QUEUE_FULL,
            description: format!(
                "{} X2/X3 PDUs for destination {} dropped: queue full",
                stats.dropped, d.details.did
            ),
        });
    }
    faults
}

fn destination_response(d: &DestinationRuntime) -> DestinationResponseDetails {
    let faults = destination_faults(d);
    DestinationResponseDetails {
        details: d.details.clone(),
        delivery_status: if d.sender.stats().snapshot().connected {
            DestinationDeliveryStatus::ActiveAndWorking
        } else {
            DestinationDeliveryStatus::DeliveryFault
        },
        faults,
    }
}

fn ne_status(state: &State) -> NeStatusDetails {
    let faults: Vec<ErrorInformation> = state
        .destinations
        .values()
        .flat_map(destination_faults)
        .collect();
    NeStatusDetails {
        status: if faults.is_empty() {
            NeStatus::Ok
        } else {
            NeStatus::Faults
        },
        faults,
    }
}

#[cfg(test)]
mod tests {
    use li_core::InterceptScope;
    use li_handover::x1::{
        MediationDeliveryType, MediationDetails, TransactionId, X1Version, error_code,
    };

    use super::*;

    fn did(n: u8) -> DestinationId {
        DestinationId::from_bytes([n; 16])
    }

    fn xid(n: u8) -> Xid {
        Xid::from_bytes([n; 16])
    }

    fn t(secs: u64) -> Timestamp {
        Timestamp::from_secs_micros(secs, 0).unwrap()
    }

    /// Destination 1 exists; no other.
    fn one(d: &DestinationId) -> bool {
        *d == did(1)
    }

    fn details(target: &str, delivery: DeliveryType, dids: Vec<DestinationId>) -> TaskDetails {
        TaskDetails::new(xid(1), vec![target.parse().unwrap()], delivery, dids)
    }

    fn mediation(start: Option<Timestamp>, end: Option<Timestamp>) -> MediationDetails {
        MediationDetails {
            liid: Liid::new(b"LIID-1").unwrap(),
            delivery_type: MediationDeliveryType::Hi2AndHi3,
            start_time: start,
            end_time: end,
            dids: None,
        }
    }

    fn refusal(result: Result<Task<DestinationId>, Refusal>) -> Refusal {
        match result {
            Err(r) => r,
            Ok(task) => panic!("expected a refusal, got {task:?}"),
        }
    }

    #[test]
    fn a_task_without_mediation_details_is_always_on_under_a_placeholder_liid() {
        let task = task_from_details(
            &details("ipv4:192.0.2.7", DeliveryType::X2AndX3, vec![did(1)]),
            one,
        )
        .unwrap();
        assert_eq!(task.xid(), xid(1));
        assert_eq!(task.liid(), Liid::new(PLACEHOLDER_LIID).unwrap());
        assert_eq!(task.scope(), InterceptScope::IriAndCc);
        assert_eq!(
            (task.window().start(), task.window().end()),
            (Timestamp::UNIX_EPOCH, None)
        );
        // The task names its X2/X3 destination; its address stays in the destination table.
        assert_eq!(task.destinations(), &[did(1)]);
        let iri_only = task_from_details(
            &details("ipv4:192.0.2.7", DeliveryType::X2Only, vec![did(1)]),
            one,
        )
        .unwrap();
        assert_eq!(iri_only.scope(), InterceptScope::IriOnly);
    }

    #[test]
    fn the_first_mediation_details_give_window_and_liid() {
        let mut d = details(
            "username:alice@isp.example",
            DeliveryType::X2AndX3,
            vec![did(1)],
        );
        d.mediation_details = vec![mediation(Some(t(100)), Some(t(200))), mediation(None, None)];
        let task = task_from_details(&d, one).unwrap();
        assert_eq!(task.liid(), Liid::new(b"LIID-1").unwrap());
        assert_eq!(
            (task.window().start(), task.window().end()),
            (t(100), Some(t(200)))
        );
        d.mediation_details = vec![mediation(None, Some(t(200)))];
        let task = task_from_details(&d, one).unwrap();
        assert_eq!(
            (task.window().start(), task.window().end()),
            (Timestamp::UNIX_EPOCH, Some(t(200)))
        );
        d.mediation_details = vec![mediation(Some(t(200)), Some(t(200)))];
        let r = refusal(task_from_details(&d, one));
        assert_eq!(r.code, error_code::HANDLER_FAILED);
        assert!(
            r.description.contains("endTime is not after startTime"),
            "{r}"
        );
    }

    #[test]
    fn what_the_probe_cannot_do_is_refused_as_unsupported() {
        let r = refusal(task_from_details(
            &details("ipv4:192.0.2.7", DeliveryType::X3Only, vec![did(1)]),
            one,
        ));
        assert_eq!(r.code, error_code::UNSUPPORTED);
        assert!(r.description.contains("X3Only"), "{r}");
        // A SIP URI that X1 takes but the SIP matcher cannot compare (an IPv6 reference
        // without its `]`) is refused, naming the target's position and kind, not its value.
        let odd: TargetIdentifier = "sip:bob@[2001:db8::1".parse().unwrap();
        let mut d = details("ipv4:192.0.2.7", DeliveryType::X2Only, vec![did(1)]);
        d.targets.push(odd);
        let r = refusal(task_from_details(&d, one));
        assert_eq!(r.kind(), Some(X1ErrorKind::TargetUnsupported));
        assert!(
            r.description
                .contains("target 2 is a sip target which this probe cannot intercept"),
            "{r}"
        );
        assert!(!r.description.contains("bob"), "no target value: {r}");
        for target in [
            "ipv6:2001:db8::7",
            "ipv4-prefix:192.0.2.0/24",
            "mac:02:00:00:00:00:07",
            "sip:bob@example.net",
            "sips:bob@example.net:5061",
            "tel:+4930123456",
        ] {
            assert!(
                task_from_details(&details(target, DeliveryType::X2Only, vec![did(1)]), one)
                    .is_ok(),
                "{target}"
            );
        }
    }

    #[test]
    fn destinations_must_exist_once_each() {
        let r = refusal(task_from_details(
            &details("ipv4:192.0.2.7", DeliveryType::X2AndX3, vec![]),
            one,
        ));
        assert!(r.description.contains("listOfDIDs is empty"), "{r}");
        let r = refusal(task_from_details(
            &details(
                "ipv4:192.0.2.7",
                DeliveryType::X2AndX3,
                vec![did(1), did(9)],
            ),
            one,
        ));
        assert_eq!(r.kind(), Some(X1ErrorKind::DidUnknown));
        assert!(
            r.description.contains(&did(9).to_string()) && r.description.contains("does not exist"),
            "{r}"
        );
        let r = refusal(task_from_details(
            &details(
                "ipv4:192.0.2.7",
                DeliveryType::X2AndX3,
                vec![did(1), did(1)],
            ),
            one,
        ));
        assert!(r.description.contains("named twice"), "{r}");
    }

    #[test]
    fn x2x3_runs_to_a_tcp_ip_address_and_port_only() {
        let ip = "2001:db8::1".parse().unwrap();
        let tcp = DeliveryAddress::IpAddressPort {
            address: ip,
            port: Port::Tcp(7002),
        };
        assert_eq!(x2x3_address(&tcp), Ok(SocketAddr::new(ip, 7002)));
        let udp = DeliveryAddress::IpAddressPort {
            address: ip,
            port: Port::Udp(7002),
        };
        assert_eq!(
            x2x3_address(&udp).unwrap_err().code,
            error_code::UNSUPPORTED
        );
        let uri = DeliveryAddress::Uri("https://mdf.example".into());
        assert_eq!(
            x2x3_address(&uri).unwrap_err().code,
            error_code::UNSUPPORTED
        );
    }

    #[test]
    fn a_destination_carries_what_its_delivery_type_says() {
        assert!(carries(DeliveryType::X2AndX3, true) && carries(DeliveryType::X2AndX3, false));
        assert!(!carries(DeliveryType::X2Only, true) && carries(DeliveryType::X2Only, false));
        assert!(carries(DeliveryType::X3Only, true) && !carries(DeliveryType::X3Only, false));
    }

    #[test]
    fn only_deactivations_wait_for_the_queues() {
        let header = MessageHeader {
            admf_identifier: "admf".into(),
            ne_identifier: "probe-1".into(),
            message_timestamp: t(1),
            version: X1Version::CURRENT,
            x1_transaction_id: TransactionId::new_v4_from_random([1; 16]),
        };
        let request = |body| X1Request::single(header.clone(), body);
        assert!(!deactivates(&request(RequestBody::Ping)));
        let activate = details("ipv4:192.0.2.7", DeliveryType::X2Only, vec![did(1)]);
        assert!(!deactivates(&request(RequestBody::ActivateTask(activate))));
        assert!(deactivates(&request(RequestBody::DeactivateTask(xid(1)))));
        assert!(deactivates(&request(RequestBody::DeactivateAllTasks)));
    }
}
