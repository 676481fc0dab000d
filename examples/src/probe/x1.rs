//! X1 at the probe: provisioning of tasks and X2/X3 destinations by the ADMF.

use std::net::SocketAddr;
use std::time::Duration;

use li_core::{
    DeliveryAddress as CoreAddress, Destination, DestinationId, HandoverFormat, Liid,
    TargetIdentifier, Task, Timestamp, ValidityWindow, Xid,
};
use li_handover::x1::{
    AckKind, BoxFuture, DeliveryAddress, DestinationDeliveryStatus, DestinationDetails,
    DestinationResponseDetails, ErrorInformation, ErrorResponse, MessageHeader, NeStatus,
    NeStatusDetails, OkStatus, Port, ProvisioningStatus, RequestBody, ResponseBody,
    ResponseMessage, TaskDetails, TaskResponseDetails, TaskStatus, X1Handler, X1Peer, X1Request,
    X1Response, error_code,
};
use tracing::{info, warn};

use super::{DestinationRuntime, Probe, State, TaskEntry, finish_link, wall_clock};

/// Fault code in `GetDestinationDetails` / `GetNEStatus` answers: the X2/X3 link to the
/// destination is not connected.
pub const FAULT_X2X3_LINK_DOWN: i64 = 2000;

/// Fault code: PDUs for the destination were dropped because its queue was full.
const FAULT_X2X3_QUEUE_FULL: i64 = 2001;

/// The LIID of a task provisioned without mediation details (it never leaves the probe).
const PLACEHOLDER_LIID: &[u8] = b"PROBE";

/// How long a removed or replaced destination's link may take to deliver its queue.
const RETIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The X1 handler of a probe.
/// How long a deactivation's answer waits for the X2/X3 queues to be written out.
const DEACTIVATION_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

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
            let deactivates = request.messages.iter().any(|m| {
                matches!(
                    m.body,
                    RequestBody::DeactivateTask(_) | RequestBody::DeactivateAllTasks
                )
            });
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

/// Why a message was not executed.
struct Failure {
    code: i64,
    description: String,
}

impl Failure {
    fn refused(description: impl Into<String>) -> Self {
        Self {
            code: error_code::HANDLER_FAILED,
            description: description.into(),
        }
    }

    fn unsupported(description: impl Into<String>) -> Self {
        Self {
            code: error_code::UNSUPPORTED,
            description: description.into(),
        }
    }
}

fn ack(kind: AckKind) -> Result<ResponseBody, Failure> {
    Ok(ResponseBody::Ok {
        kind,
        status: OkStatus::AcknowledgedAndCompleted,
    })
}

impl Probe {
    /// Executes an X1 request, one response message per request message, in order (what
    /// the X1 server calls; call it within a tokio runtime). A message that cannot be
    /// executed (wrong `neIdentifier`, unknown DID or XID, a task or destination that exists
    /// already, unsupported targets, delivery type or address, a destination still in use)
    /// is answered by an `ErrorResponse` saying why: code
    /// [`error_code::UNSUPPORTED`] for what this probe does not support,
    /// [`error_code::HANDLER_FAILED`] for the rest.
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
                        error: ErrorInformation {
                            code: failure.code,
                            description: failure.description,
                        },
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

    fn execute(&self, header: &MessageHeader, body: RequestBody) -> Result<ResponseBody, Failure> {
        let name = &self.inner.settings.name;
        if &header.ne_identifier != name {
            return Err(Failure::refused(format!(
                "neIdentifier {:?} is not this NE ({name:?})",
                header.ne_identifier
            )));
        }
        match body {
            RequestBody::CreateDestination(d) => self.create_destination(d),
            RequestBody::ModifyDestination(d) => self.modify_destination(d),
            RequestBody::RemoveDestination(did) => self.remove_destinations(Some(did)),
            RequestBody::RemoveAllDestinations => self.remove_destinations(None),
            RequestBody::ActivateTask(details) => self.activate_task(details, false),
            RequestBody::ModifyTask(details) => self.activate_task(details, true),
            RequestBody::DeactivateTask(xid) => {
                let mut state = self.lock();
                if !state.deactivate(xid, &self.inner) {
                    return Err(Failure::refused(format!("task {xid} does not exist")));
                }
                self.publish_tasks(&state);
                info!(%xid, "task deactivated");
                ack(AckKind::DeactivateTask)
            }
            RequestBody::DeactivateAllTasks => {
                let mut state = self.lock();
                let xids: Vec<Xid> = state.tasks.keys().copied().collect();
                for xid in &xids {
                    state.deactivate(*xid, &self.inner);
                }
                self.publish_tasks(&state);
                info!(tasks = xids.len(), "all tasks deactivated");
                ack(AckKind::DeactivateAllTasks)
            }
            RequestBody::GetTaskDetails(xid) => {
                let state = self.lock();
                let task = state
                    .tasks
                    .get(&xid)
                    .ok_or_else(|| Failure::refused(format!("task {xid} does not exist")))?;
                Ok(ResponseBody::GetTaskDetails(task_response(task)))
            }
            RequestBody::GetDestinationDetails(did) => {
                let state = self.lock();
                let d = state
                    .destinations
                    .get(&did)
                    .ok_or_else(|| Failure::refused(format!("destination {did} does not exist")))?;
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
            RequestBody::Ping => ack(AckKind::Ping),
            RequestBody::Keepalive => ack(AckKind::Keepalive),
            other => Err(Failure::unsupported(format!(
                "{} is not supported by this probe",
                other.message_type().as_str()
            ))),
        }
    }

    fn create_destination(&self, details: DestinationDetails) -> Result<ResponseBody, Failure> {
        let addr = mediator_addr(&details.delivery_address)?;
        let mut state = self.lock();
        let did = details.did;
        if state.destinations.contains_key(&did) {
            return Err(Failure::refused(format!(
                "destination {did} exists already"
            )));
        }
        let (sender, handle) = self.spawn_sender(&details, &addr);
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
        ack(AckKind::CreateDestination)
    }

    fn modify_destination(&self, details: DestinationDetails) -> Result<ResponseBody, Failure> {
        let addr = mediator_addr(&details.delivery_address)?;
        let mut state = self.lock();
        let did = details.did;
        let spawned = match state.destinations.get(&did) {
            None => {
                return Err(Failure::refused(format!(
                    "destination {did} does not exist"
                )));
            }
            Some(d) if d.addr == addr => None,
            Some(_) => Some(self.spawn_sender(&details, &addr)),
        };
        let Some(d) = state.destinations.get_mut(&did) else {
            return Err(Failure::refused(format!(
                "destination {did} does not exist"
            )));
        };
        if let Some((sender, handle)) = spawned {
            let old_sender = std::mem::replace(&mut d.sender, sender);
            let old_handle = d.handle.replace(handle);
            d.addr.clone_from(&addr);
            self.retire(old_sender, old_handle);
        }
        d.details = details;
        info!(%did, %addr, "X2/X3 destination modified");
        ack(AckKind::ModifyDestination)
    }

    /// Removes one destination (`Some`) or all; refused while a task delivers to one.
    fn remove_destinations(&self, did: Option<DestinationId>) -> Result<ResponseBody, Failure> {
        let mut state = self.lock();
        let dids: Vec<DestinationId> = match did {
            Some(did) if !state.destinations.contains_key(&did) => {
                return Err(Failure::refused(format!(
                    "destination {did} does not exist"
                )));
            }
            Some(did) => vec![did],
            None => state.destinations.keys().copied().collect(),
        };
        for did in &dids {
            if let Some(task) = state.tasks.values().find(|t| t.details.dids.contains(did)) {
                return Err(Failure::refused(format!(
                    "destination {did} is in use by task {}",
                    task.details.xid
                )));
            }
        }
        for did in &dids {
            if let Some(d) = state.destinations.remove(did) {
                info!(%did, "X2/X3 destination removed");
                self.retire(d.sender, d.handle);
            }
        }
        ack(if did.is_some() {
            AckKind::RemoveDestination
        } else {
            AckKind::RemoveAllDestinations
        })
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

    fn activate_task(&self, details: TaskDetails, modify: bool) -> Result<ResponseBody, Failure> {
        let mut state = self.lock();
        let xid = details.xid;
        match (modify, state.tasks.contains_key(&xid)) {
            (false, true) => return Err(Failure::refused(format!("task {xid} exists already"))),
            (true, false) => return Err(Failure::refused(format!("task {xid} does not exist"))),
            _ => {}
        }
        let task = build_task(&state, &details)?;
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
        ack(if modify {
            AckKind::ModifyTask
        } else {
            AckKind::ActivateTask
        })
    }
}

/// The classifier's task for X1 task details (see the [module documentation](super)).
fn build_task(state: &State, details: &TaskDetails) -> Result<Task, Failure> {
    let xid = details.xid;
    let scope = details.delivery_type.scope().ok_or_else(|| {
        Failure::unsupported(format!(
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
            other => {
                return Err(Failure::unsupported(format!(
                    "task {xid}: target {} is of kind {}, which this probe cannot intercept",
                    i + 1,
                    other.kind().as_str()
                )));
            }
        }
    }
    if details.dids.is_empty() {
        return Err(Failure::refused(format!(
            "task {xid}: listOfDIDs is empty (at least one X2/X3 destination is needed)"
        )));
    }
    let mut destinations = Vec::with_capacity(details.dids.len());
    for did in &details.dids {
        let d = state.destinations.get(did).ok_or_else(|| {
            Failure::refused(format!("task {xid}: destination {did} does not exist"))
        })?;
        let (host, port) = match d.addr.parse::<SocketAddr>() {
            Ok(a) => (a.ip().to_string(), a.port()),
            Err(_) => (d.addr.clone(), 0),
        };
        let address = CoreAddress::new(host, port, true);
        destinations.push(Destination::new(
            *did,
            address.clone(),
            Some(address),
            HandoverFormat::etsi_default(),
        ));
    }
    let mediation = details.mediation_details.first();
    let start = mediation
        .and_then(|m| m.start_time)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let end = mediation.and_then(|m| m.end_time);
    let window = ValidityWindow::new(start, end).map_err(|_| {
        Failure::refused(format!(
            "task {xid}: mediationDetails endTime is not after startTime"
        ))
    })?;
    let liid = match mediation {
        Some(m) => m.liid,
        None => Liid::new(PLACEHOLDER_LIID).map_err(|e| Failure::refused(e.to_string()))?,
    };
    Task::new(
        liid,
        xid,
        details.targets.clone(),
        scope,
        window,
        destinations,
    )
    .map_err(|e| match e {
        li_core::Error::DuplicateDestination { id } => Failure::refused(format!(
            "task {xid}: destination {id} is named twice in listOfDIDs"
        )),
        e => Failure::refused(format!("task {xid} cannot be provisioned: {e}")),
    })
}

/// The mediator's X2/X3 address: `IpAddressPort` with a TCP port only.
fn mediator_addr(address: &DeliveryAddress) -> Result<String, Failure> {
    match address {
        DeliveryAddress::IpAddressPort {
            address,
            port: Port::Tcp(port),
        } => Ok(SocketAddr::new(*address, *port).to_string()),
        DeliveryAddress::IpAddressPort { .. } => Err(Failure::unsupported(
            "X2/X3 runs over TCP (TLS): a UDP port is not supported",
        )),
        _ => Err(Failure::unsupported(
            "only ipAddressAndPort delivery addresses are supported",
        )),
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
