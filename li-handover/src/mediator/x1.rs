//! The mediator's X1 (TS 103 221-1) side: requests from the administration function turned
//! into [`Mediator`] calls.
//!
//! - `CreateDestination` / `ModifyDestination`: an HI destination. `deliveryType` `X2Only`
//!   makes it an HI2 (IRI) destination, `X3Only` an HI3 (CC) one (one address cannot be
//!   both: `X2andX3` is refused). The address is an `ipAddressAndPort` with a TCP port
//!   (TLS when `hi_tls` is configured, else plain TCP), or a `uri` `tls://ip:port` (TLS;
//!   refused without `hi_tls`) or `tcp://ip:port` (plain TCP), as the ADMF sends from each
//!   agency's `tls` setting, with the agency's handover format in its `handover` parameter
//!   ([`HiAddress`](crate::x1::HiAddress)); a format the mediator does not produce is
//!   refused (`FORMAT_UNSUPPORTED`).
//! - `ActivateTask` / `ModifyTask`: the task's targets come with it; its LIID, delivery (`HI2Only` → IRI only,
//!   `HI2andHI3` → IRI and CC; `HI3Only` refused), validity window (`StartTime` /
//!   `EndTime`) and destinations come from its single `MediationDetails`; its `listOfDIDs`,
//!   if absent, from the task's.
//! - `DeactivateTask`, `DeactivateAllTasks`, `RemoveDestination`, `RemoveAllDestinations`,
//!   the `Get*` and `ListAllDetails` queries, `Ping`, `Keepalive`.
//!
//! Every request and its outcome is written to the audit log (`x1.request`, `x1.response`).
//!
//! # Provisioning survives a restart
//!
//! With a state file ([`MediatorX1::with_state_file`]), every change is saved (written to a
//! temporary file, fsynced, renamed) as an X1 request document that re-creates the current
//! destinations and tasks: `CreateDestination` messages, then `ActivateTask` messages. A
//! mediator started again (after a crash or a `kill -9`) executes it before serving, so the
//! destinations' spools are delivered and the tasks enforced at once, without waiting for
//! the ADMF to reconcile.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use std::path::PathBuf;

use li_core::{DestinationId, InterceptScope, Timestamp, ValidityWindow, Xid};
use serde_json::json;

use super::{HiDestination, MediationTask, Mediator, MediatorError, check_format};
use crate::audit::{AuditKind, AuditLog};
use crate::lemf::Interface;
use crate::x1::{
    AckKind, BoxFuture, DeliveryType, DestinationDeliveryStatus, DestinationDetails,
    DestinationResponseDetails, ErrorInformation, ErrorResponse, HiAddress, HiAddressError,
    HiTransport, MediationDeliveryType, MessageHeader, NeStatus, NeStatusDetails, OkStatus,
    ProvisioningStatus, RequestBody, ResponseBody, ResponseMessage, TaskDetails,
    TaskResponseDetails, TaskStatus, X1Error, X1ErrorKind, X1Handler, X1Peer, X1Request,
    X1Response, error_code,
};

/// The mediator's [`X1Handler`].
pub struct MediatorX1 {
    mediator: Mediator,
    audit: Option<Arc<AuditLog>>,
    state_file: Option<PathBuf>,
    /// Serialises changes and their saving.
    changes: tokio::sync::Mutex<()>,
    tasks: Mutex<HashMap<Xid, TaskDetails>>,
    destinations: Mutex<HashMap<DestinationId, DestinationDetails>>,
}

impl std::fmt::Debug for MediatorX1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediatorX1").finish_non_exhaustive()
    }
}

/// Why the mediator did not execute an X1 request: the error code and text of its
/// `ErrorResponse` (TS 103 221-1 clause 6.1.3).
pub type X1Failure = ErrorInformation;

fn refuse(code: i64, text: impl Into<String>) -> X1Failure {
    X1Failure {
        code,
        description: text.into(),
    }
}

/// Why [`MediatorX1::restore`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The state file exists but cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The state file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The state file is not an X1 request document.
    #[error("mediator state {} is corrupt", path.display())]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// The decoding error.
        #[source]
        source: X1Error,
    },
    /// A saved request failed when executed again.
    #[error("mediator state {}: restoring {request} failed ({}: {})", path.display(), failure.code, failure.description)]
    Refused {
        /// The state file.
        path: PathBuf,
        /// The request's message type.
        request: String,
        /// Why it failed.
        failure: X1Failure,
    },
}

/// The wall clock (response headers).
fn now() -> Timestamp {
    Timestamp::from_system_time(std::time::SystemTime::now())
}

/// The X1 refusal of a mediator error, with the code of its kind ([`X1ErrorKind`]).
fn not_executed(e: &MediatorError) -> X1Failure {
    let kind = match e {
        MediatorError::NoSuchDestination(_) => X1ErrorKind::DidUnknown,
        MediatorError::DestinationExists(_) => X1ErrorKind::DidExists,
        MediatorError::DestinationInUse { .. } => X1ErrorKind::DidInUse,
        MediatorError::NoSuchTask(_) => X1ErrorKind::XidUnknown,
        MediatorError::TaskExists(_) => X1ErrorKind::XidExists,
        MediatorError::UnsupportedFormat { .. } => X1ErrorKind::FormatUnsupported,
        _ => X1ErrorKind::NotExecuted,
    };
    refuse(kind.code(), e.to_string())
}

fn ok(kind: AckKind) -> ResponseBody {
    ResponseBody::Ok {
        kind,
        status: OkStatus::AcknowledgedAndCompleted,
    }
}

impl MediatorX1 {
    /// A handler provisioning `mediator`, auditing to `audit`.
    pub fn new(mediator: Mediator, audit: Option<Arc<AuditLog>>) -> Self {
        Self {
            mediator,
            audit,
            state_file: None,
            changes: tokio::sync::Mutex::new(()),
            tasks: Mutex::new(HashMap::new()),
            destinations: Mutex::new(HashMap::new()),
        }
    }

    /// Saves the provisioning state to `path` after every change: an X1 request document
    /// that re-creates the current destinations and tasks (written to a temporary file,
    /// fsynced, renamed), which [`MediatorX1::restore`] executes at start-up.
    #[must_use]
    pub fn with_state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// Executes the saved provisioning state, if the state file exists: the destinations
    /// and tasks of the last run. Returns how many were restored.
    pub async fn restore(&self) -> Result<(usize, usize), RestoreError> {
        let Some(path) = &self.state_file else {
            return Ok((0, 0));
        };
        let data = match std::fs::read(path) {
            Ok(data) => data,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
            Err(source) => {
                return Err(RestoreError::Read {
                    path: path.clone(),
                    source,
                });
            }
        };
        let request = X1Request::from_xml(&data).map_err(|source| RestoreError::Corrupt {
            path: path.clone(),
            source,
        })?;
        let _guard = self.changes.lock().await;
        let (mut destinations, mut tasks) = (0, 0);
        for message in &request.messages {
            match self.execute(&message.body).await {
                Ok(_) => match message.body {
                    RequestBody::CreateDestination(_) => destinations += 1,
                    _ => tasks += 1,
                },
                Err(failure) => {
                    return Err(RestoreError::Refused {
                        path: path.clone(),
                        request: message.body.message_type().to_string(),
                        failure,
                    });
                }
            }
        }
        self.audit(
            AuditKind::Other("state.restored".into()),
            json!({"file": path.display().to_string(), "destinations": destinations, "tasks": tasks}),
        );
        Ok((destinations, tasks))
    }

    /// Writes the state file (when configured) from the current destinations and tasks.
    fn save(&self, header: &MessageHeader) -> Result<(), X1Failure> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let mut dests: Vec<DestinationDetails> = self.dests().values().cloned().collect();
        dests.sort_by_key(|d| d.did.to_string());
        let mut tasks: Vec<TaskDetails> = self.tasks().values().cloned().collect();
        tasks.sort_by_key(|t| t.xid.to_string());
        let messages = dests
            .into_iter()
            .map(RequestBody::CreateDestination)
            .chain(tasks.into_iter().map(RequestBody::ActivateTask))
            .map(|body| crate::x1::RequestMessage {
                header: header.clone(),
                body,
            })
            .collect::<Vec<_>>();
        let fail = |e: &dyn std::fmt::Display| {
            refuse(
                error_code::NOT_EXECUTED,
                format!(
                    "executed, but the state file {} could not be saved: {e}",
                    path.display()
                ),
            )
        };
        if messages.is_empty() {
            return match std::fs::remove_file(path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(fail(&e)),
            };
        }
        let xml = X1Request { messages }.to_xml().map_err(|e| fail(&e))?;
        let tmp = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&xml)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                && let Ok(d) = std::fs::File::open(dir)
            {
                let _ = d.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| fail(&e))
    }

    fn audit(&self, kind: AuditKind, detail: serde_json::Value) {
        if let Some(log) = &self.audit
            && let Err(error) = log.append("mediator", kind, detail)
        {
            tracing::error!(%error, "audit log append failed");
        }
    }

    fn tasks(&self) -> std::sync::MutexGuard<'_, HashMap<Xid, TaskDetails>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn dests(&self) -> std::sync::MutexGuard<'_, HashMap<DestinationId, DestinationDetails>> {
        self.destinations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn execute(&self, body: &RequestBody) -> Result<ResponseBody, X1Failure> {
        match body {
            RequestBody::CreateDestination(d) => {
                let dest = hi_destination(d)?;
                self.mediator
                    .create_destination(dest)
                    .await
                    .map_err(|e| not_executed(&e))?;
                self.dests().insert(d.did, d.clone());
                Ok(ok(AckKind::CreateDestination))
            }
            RequestBody::ModifyDestination(d) => {
                let dest = hi_destination(d)?;
                self.mediator
                    .modify_destination(dest)
                    .await
                    .map_err(|e| not_executed(&e))?;
                self.dests().insert(d.did, d.clone());
                Ok(ok(AckKind::ModifyDestination))
            }
            RequestBody::RemoveDestination(did) => {
                self.mediator
                    .remove_destination(*did)
                    .await
                    .map_err(|e| not_executed(&e))?;
                self.dests().remove(did);
                Ok(ok(AckKind::RemoveDestination))
            }
            RequestBody::RemoveAllDestinations => {
                let dids: Vec<DestinationId> = self.dests().keys().copied().collect();
                for did in dids {
                    self.mediator
                        .remove_destination(did)
                        .await
                        .map_err(|e| not_executed(&e))?;
                    self.dests().remove(&did);
                }
                Ok(ok(AckKind::RemoveAllDestinations))
            }
            RequestBody::ActivateTask(t) => {
                let task = mediation_task(t)?;
                self.mediator
                    .activate_task(task)
                    .await
                    .map_err(|e| not_executed(&e))?;
                self.tasks().insert(t.xid, t.clone());
                Ok(ok(AckKind::ActivateTask))
            }
            RequestBody::ModifyTask(t) => {
                let task = mediation_task(t)?;
                self.mediator
                    .modify_task(task)
                    .await
                    .map_err(|e| not_executed(&e))?;
                self.tasks().insert(t.xid, t.clone());
                Ok(ok(AckKind::ModifyTask))
            }
            RequestBody::DeactivateTask(xid) => {
                self.mediator
                    .deactivate_task(*xid)
                    .await
                    .map_err(|e| not_executed(&e))?;
                self.tasks().remove(xid);
                Ok(ok(AckKind::DeactivateTask))
            }
            RequestBody::DeactivateAllTasks => {
                for task in self.mediator.tasks().await {
                    let _ = self.mediator.deactivate_task(task.xid()).await;
                }
                self.tasks().clear();
                Ok(ok(AckKind::DeactivateAllTasks))
            }
            RequestBody::GetTaskDetails(xid) => self
                .task_details(*xid)
                .await
                .map(ResponseBody::GetTaskDetails)
                .ok_or_else(|| not_executed(&MediatorError::NoSuchTask(*xid))),
            RequestBody::GetDestinationDetails(did) => {
                let all = self.destination_details().await;
                all.into_iter()
                    .find(|d| d.details.did == *did)
                    .map(ResponseBody::GetDestinationDetails)
                    .ok_or_else(|| not_executed(&MediatorError::NoSuchDestination(*did)))
            }
            RequestBody::GetNeStatus => Ok(ResponseBody::GetNeStatus(self.ne_status().await)),
            RequestBody::GetAllDetails => Ok(ResponseBody::GetAllDetails {
                ne_status: self.ne_status().await,
                tasks: self.all_task_details().await,
                destinations: self.destination_details().await,
            }),
            RequestBody::GetAllTaskDetails => Ok(ResponseBody::GetAllTaskDetails(
                self.all_task_details().await,
            )),
            RequestBody::GetAllDestinationDetails => Ok(ResponseBody::GetAllDestinationDetails(
                self.destination_details().await,
            )),
            RequestBody::ListAllDetails => {
                let mut xids: Vec<Xid> = self.tasks().keys().copied().collect();
                xids.sort_by_key(ToString::to_string);
                let mut dids: Vec<DestinationId> = self.dests().keys().copied().collect();
                dids.sort_by_key(ToString::to_string);
                Ok(ResponseBody::ListAllDetails { xids, dids })
            }
            RequestBody::Ping => Ok(ok(AckKind::Ping)),
            RequestBody::Keepalive => Ok(ok(AckKind::Keepalive)),
        }
    }

    async fn task_details(&self, xid: Xid) -> Option<TaskResponseDetails> {
        let details = self.tasks().get(&xid).cloned()?;
        let active = self.mediator.task(xid).await.is_some();
        Some(TaskResponseDetails {
            details,
            status: TaskStatus::new(if active {
                ProvisioningStatus::Complete
            } else {
                ProvisioningStatus::Failed
            }),
        })
    }

    async fn all_task_details(&self) -> Vec<TaskResponseDetails> {
        let mut xids: Vec<Xid> = self.tasks().keys().copied().collect();
        xids.sort_by_key(ToString::to_string);
        let mut out = Vec::with_capacity(xids.len());
        for xid in xids {
            if let Some(details) = self.task_details(xid).await {
                out.push(details);
            }
        }
        out
    }

    async fn destination_details(&self) -> Vec<DestinationResponseDetails> {
        let links: HashMap<DestinationId, bool> = self
            .mediator
            .destinations()
            .await
            .into_iter()
            .map(|(d, stats, _)| (d.id, stats.connected))
            .collect();
        let mut out: Vec<DestinationResponseDetails> = self
            .dests()
            .values()
            .map(|d| DestinationResponseDetails {
                details: d.clone(),
                delivery_status: if links.get(&d.did).copied().unwrap_or(false) {
                    DestinationDeliveryStatus::ActiveAndWorking
                } else {
                    DestinationDeliveryStatus::DeliveryFault
                },
                faults: Vec::new(),
            })
            .collect();
        out.sort_by_key(|d| d.details.did.to_string());
        out
    }

    async fn ne_status(&self) -> NeStatusDetails {
        let down: Vec<String> = self
            .mediator
            .destinations()
            .await
            .into_iter()
            .filter(|(_, stats, _)| !stats.connected)
            .map(|(d, _, _)| d.name)
            .collect();
        NeStatusDetails {
            status: if down.is_empty() {
                NeStatus::Ok
            } else {
                NeStatus::Faults
            },
            faults: down
                .into_iter()
                .map(|name| ErrorInformation {
                    code: error_code::NOT_EXECUTED,
                    description: format!("agency link {name} is down"),
                })
                .collect(),
        }
    }
}

impl X1Handler for MediatorX1 {
    fn handle<'a>(&'a self, request: X1Request, peer: X1Peer) -> BoxFuture<'a, X1Response> {
        Box::pin(async move {
            let mut messages = Vec::with_capacity(request.messages.len());
            for message in request.messages {
                let kind = message.body.message_type();
                let transaction = message.header.x1_transaction_id.to_string();
                self.audit(
                    AuditKind::X1Request,
                    json!({
                        "peer": peer.identity.clone().unwrap_or_else(|| peer.addr.to_string()),
                        "admf": message.header.admf_identifier,
                        "type": kind.to_string(),
                        "transaction": transaction,
                    }),
                );
                let mutating = !matches!(
                    message.body,
                    RequestBody::GetTaskDetails(_)
                        | RequestBody::GetDestinationDetails(_)
                        | RequestBody::GetNeStatus
                        | RequestBody::GetAllDetails
                        | RequestBody::GetAllTaskDetails
                        | RequestBody::GetAllDestinationDetails
                        | RequestBody::ListAllDetails
                        | RequestBody::Ping
                        | RequestBody::Keepalive
                );
                let guard = if mutating {
                    Some(self.changes.lock().await)
                } else {
                    None
                };
                let executed = match self.execute(&message.body).await {
                    Ok(body) if mutating => self.save(&message.header).map(|()| body),
                    other => other,
                };
                drop(guard);
                let body = match executed {
                    Ok(body) => body,
                    Err(error) => {
                        tracing::warn!(request = %kind, code = error.code,
                            description = %error.description, "X1 request refused");
                        ResponseBody::Error(ErrorResponse {
                            request_message_type: kind,
                            error,
                            extended_request_message_type: None,
                        })
                    }
                };
                let outcome = match &body {
                    ResponseBody::Error(e) => {
                        format!("error {}: {}", e.error.code, e.error.description)
                    }
                    _ => "ok".to_owned(),
                };
                self.audit(
                    AuditKind::X1Response,
                    json!({"type": kind.to_string(), "transaction": transaction, "outcome": outcome}),
                );
                messages.push(ResponseMessage {
                    header: MessageHeader::response_to(&message.header, now()),
                    body,
                });
            }
            X1Response { messages }
        })
    }
}

/// A [`MediatorX1`] whose requests run to completion even when the client goes away
/// mid-request (hyper drops the handler's future then): each request is executed on a task of
/// its own, so a change is never left half done.
#[derive(Debug, Clone)]
pub struct CancelSafe(pub Arc<MediatorX1>);

impl X1Handler for CancelSafe {
    fn handle<'a>(&'a self, request: X1Request, peer: X1Peer) -> BoxFuture<'a, X1Response> {
        let inner = Arc::clone(&self.0);
        let headers: Vec<_> = request
            .messages
            .iter()
            .map(|m| (m.header.clone(), m.body.message_type()))
            .collect();
        Box::pin(async move {
            match tokio::spawn(async move { inner.handle(request, peer).await }).await {
                Ok(response) => response,
                Err(e) => X1Response {
                    messages: headers
                        .into_iter()
                        .map(|(header, kind)| ResponseMessage {
                            header: MessageHeader::response_to(&header, now()),
                            body: ResponseBody::Error(ErrorResponse {
                                request_message_type: kind,
                                error: ErrorInformation {
                                    code: error_code::HANDLER_FAILED,
                                    description: format!("the mediator failed: {e}"),
                                },
                                extended_request_message_type: None,
                            }),
                        })
                        .collect(),
                },
            }
        })
    }
}

/// The destination an X1 `CreateDestination` / `ModifyDestination` describes: `X2Only` is
/// an HI2 destination, `X3Only` an HI3 one; the address, transport and handover format are
/// the [`HiAddress`] of its `deliveryAddress`; the name is the `friendlyName` (else the DID
/// and interface).
///
/// # Errors
///
/// An [`X1Failure`] naming what is wrong: `X2andX3` (one address is one interface) or a
/// delivery address that is not an [`HiAddress`] (`NOT_EXECUTED`); a handover format this
/// mediator does not produce ([`check_format`]; `FORMAT_UNSUPPORTED`), so an agency is never
/// delivered another format than it asked for.
pub fn hi_destination(d: &DestinationDetails) -> Result<HiDestination, X1Failure> {
    let interface = match d.delivery_type {
        DeliveryType::X2Only => Interface::Hi2,
        DeliveryType::X3Only => Interface::Hi3,
        _ => {
            return Err(refuse(
                error_code::NOT_EXECUTED,
                format!(
                    "destination {}: one address is HI2 (X2Only) or HI3 (X3Only), not both",
                    d.did
                ),
            ));
        }
    };
    let hi = HiAddress::from_x1(&d.delivery_address).map_err(|e| match e {
        HiAddressError::Format { .. } => refuse(
            error_code::FORMAT_UNSUPPORTED,
            format!("destination {}: {e}", d.did),
        ),
        e => refuse(
            error_code::NOT_EXECUTED,
            format!("destination {}: {e}", d.did),
        ),
    })?;
    check_format(d.did, hi.format)
        .map_err(|e| refuse(error_code::FORMAT_UNSUPPORTED, e.to_string()))?;
    check_transport(d.did, interface, &hi).map_err(|e| refuse(error_code::NOT_EXECUTED, e))?;
    Ok(HiDestination {
        id: d.did,
        name: d
            .friendly_name
            .clone()
            .unwrap_or_else(|| format!("{} {}", d.did, interface)),
        interface,
        addr: hi.addr.to_string(),
        transport: hi.transport,
        format: hi.format,
    })
}

/// PacketCable call content (HI3) travels over UDP, and nothing else does: the CCC framing
/// has no stream form, and the other formats no datagram form.
fn check_transport(did: DestinationId, interface: Interface, hi: &HiAddress) -> Result<(), String> {
    let ccc = interface == Interface::Hi3
        && matches!(hi.format, li_core::HandoverFormat::PacketCable { .. });
    match (ccc, hi.transport == HiTransport::Udp) {
        (true, false) => Err(format!(
            "destination {did}: PacketCable call content (HI3) travels over UDP: give a udp:// address"
        )),
        (false, true) => Err(format!(
            "destination {did}: UDP carries only PacketCable call content (HI3); {} {interface} needs tls:// or tcp://",
            hi.format
        )),
        _ => Ok(()),
    }
}

/// The task an X1 `ActivateTask` / `ModifyTask` describes: its XID and targets, and from
/// its single `MediationDetails` the LIID, the scope (`HI2Only` → IRI only, `HI2andHI3` →
/// IRI and CC), the validity window (`StartTime`, else the epoch, to `EndTime`) and the
/// destinations (its `listOfDIDs`, else the task's).
///
/// # Errors
///
/// An [`X1Failure`] (`NOT_EXECUTED`) naming what is wrong: not exactly one
/// `MediationDetails`, `HI3Only`, an end not after the start, a task [`li_core::Task`]
/// refuses (no target or destination, one named twice).
pub fn mediation_task(t: &TaskDetails) -> Result<MediationTask, X1Failure> {
    let [details] = t.mediation_details.as_slice() else {
        return Err(refuse(
            error_code::NOT_EXECUTED,
            format!(
                "task {}: exactly one mediationDetails (LIID, delivery, window) is required, {} given",
                t.xid,
                t.mediation_details.len()
            ),
        ));
    };
    let scope = match details.delivery_type {
        MediationDeliveryType::Hi2Only => InterceptScope::IriOnly,
        MediationDeliveryType::Hi2AndHi3 => InterceptScope::IriAndCc,
        _ => {
            return Err(refuse(
                error_code::NOT_EXECUTED,
                format!("task {}: HI3Only is not supported (CC without IRI)", t.xid),
            ));
        }
    };
    let window = ValidityWindow::new(
        details.start_time.unwrap_or(Timestamp::UNIX_EPOCH),
        details.end_time,
    )
    .map_err(|e| refuse(error_code::NOT_EXECUTED, format!("task {}: {e}", t.xid)))?;
    MediationTask::builder(details.liid, t.xid, scope, window)
        .targets(t.targets.iter().cloned())
        .destinations(details.dids.as_ref().unwrap_or(&t.dids).iter().copied())
        .build()
        .map_err(|e| refuse(error_code::NOT_EXECUTED, format!("task {}: {e}", t.xid)))
}
