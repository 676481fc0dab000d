//! The ADMF against two real X1 servers (`li_handover::x1::transport::serve` over mutual TLS
//! with a `DevPki`) standing in for the mediator and a probe: each records every request and
//! keeps tasks and destinations like a tiny NE.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use li_handover::audit::AuditKind;
use std::collections::BTreeMap;
use std::fs;
use std::sync::Mutex as StdMutex;
use std::time::Instant;

use li_core::{InterceptScope, TargetKind, Task, TaskBuilder, Xid};
use li_core::{TargetIdentifier, ValidityWindow};
use li_handover::admf::store::Warrant;
use li_handover::admf::store::WarrantState;
use li_handover::admf::task_dids;
use li_handover::admf::text::{describe, list_line};
use li_handover::tls::load_server_config;
use li_handover::x1::transport::{X1ServerConfig, serve};
use li_handover::x1::{
    AckKind, DeliveryAddress, DeliveryType, DestinationDeliveryStatus, DestinationDetails,
    DestinationResponseDetails, ErrorInformation, ErrorResponse, MediationDeliveryType,
    MediationDetails, MessageHeader, NeStatus, NeStatusDetails, OkStatus, Port, ProvisioningStatus,
    RequestBody, ResponseBody, ResponseMessage, TaskDetails, X1Request, X1Version,
};
use li_handover::x1::{
    TaskResponseDetails, TaskStatus, X1ErrorKind, X1Peer, X1Response, error_code,
};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::*;
use li_handover::audit::read_entries;

// ------------------------------------------------------------------------------------------
// A tiny NE
// ------------------------------------------------------------------------------------------

#[derive(Default)]
struct NeState {
    log: Vec<(MessageHeader, RequestBody, Instant)>,
    tasks: BTreeMap<Xid, TaskDetails>,
    dests: BTreeMap<DestinationId, DestinationDetails>,
    refuse: bool,
    /// Tasks with a target of this kind are refused, as the probe refuses kinds it cannot
    /// intercept.
    refuse_kind: Option<TargetKind>,
}

struct TinyNe {
    state: Arc<StdMutex<NeState>>,
    addr: SocketAddr,
    _stop: watch::Sender<bool>,
}

impl TinyNe {
    fn lock(&self) -> std::sync::MutexGuard<'_, NeState> {
        self.state.lock().unwrap()
    }

    /// The requests received since the last call, removed from the log.
    fn take(&self) -> Vec<(MessageHeader, RequestBody, Instant)> {
        std::mem::take(&mut self.lock().log)
    }

    /// The types of the requests received since the last call.
    fn take_types(&self) -> Vec<&'static str> {
        self.take()
            .into_iter()
            .map(|(_, b, _)| b.message_type().as_str())
            .collect()
    }

    fn xids(&self) -> Vec<Xid> {
        self.lock().tasks.keys().copied().collect()
    }

    /// Forgets every task and destination (the NE restarted).
    fn restart(&self) {
        let mut s = self.lock();
        s.tasks.clear();
        s.dests.clear();
    }
}

fn error(kind: RequestBody, code: X1ErrorKind, description: String) -> ResponseBody {
    ResponseBody::Error(ErrorResponse {
        request_message_type: kind.message_type(),
        error: ErrorInformation::new(code, description),
        extended_request_message_type: None,
    })
}

fn ack(kind: AckKind) -> ResponseBody {
    ResponseBody::Ok {
        kind,
        status: OkStatus::AcknowledgedAndCompleted,
    }
}

fn execute(s: &mut NeState, body: RequestBody) -> ResponseBody {
    if s.refuse {
        return ResponseBody::Error(ErrorResponse {
            request_message_type: body.message_type(),
            error: ErrorInformation {
                code: error_code::HANDLER_FAILED,
                description: "refusing everything (test)".into(),
            },
            extended_request_message_type: None,
        });
    }
    if let RequestBody::ActivateTask(t) | RequestBody::ModifyTask(t) = &body
        && let Some(kind) = s.refuse_kind
        && t.targets.iter().any(|x| x.kind() == kind)
    {
        return ResponseBody::Error(ErrorResponse {
            request_message_type: body.message_type(),
            error: ErrorInformation {
                code: error_code::UNSUPPORTED,
                description: format!("task {}: a {kind} target cannot be intercepted", t.xid),
            },
            extended_request_message_type: None,
        });
    }
    match body.clone() {
        RequestBody::ActivateTask(t) => {
            if s.tasks.contains_key(&t.xid) {
                return error(
                    body,
                    X1ErrorKind::XidExists,
                    format!("task {} exists already", t.xid),
                );
            }
            s.tasks.insert(t.xid, t);
            ack(AckKind::ActivateTask)
        }
        RequestBody::ModifyTask(t) => {
            if !s.tasks.contains_key(&t.xid) {
                return error(
                    body,
                    X1ErrorKind::XidUnknown,
                    format!("task {} does not exist", t.xid),
                );
            }
            s.tasks.insert(t.xid, t);
            ack(AckKind::ModifyTask)
        }
        RequestBody::DeactivateTask(xid) => {
            if s.tasks.remove(&xid).is_none() {
                return error(
                    body,
                    X1ErrorKind::XidUnknown,
                    format!("task {xid} does not exist"),
                );
            }
            ack(AckKind::DeactivateTask)
        }
        RequestBody::CreateDestination(d) => {
            if s.dests.contains_key(&d.did) {
                return error(
                    body,
                    X1ErrorKind::DidExists,
                    format!("destination {} exists already", d.did),
                );
            }
            s.dests.insert(d.did, d);
            ack(AckKind::CreateDestination)
        }
        RequestBody::ModifyDestination(d) => {
            s.dests.insert(d.did, d);
            ack(AckKind::ModifyDestination)
        }
        RequestBody::RemoveDestination(did) => {
            if s.tasks.values().any(|t| task_dids(t).contains(&did)) {
                return error(
                    body,
                    X1ErrorKind::DidInUse,
                    format!("destination {did} is in use"),
                );
            }
            if s.dests.remove(&did).is_none() {
                return error(
                    body,
                    X1ErrorKind::DidUnknown,
                    format!("destination {did} does not exist"),
                );
            }
            ack(AckKind::RemoveDestination)
        }
        RequestBody::GetAllDetails => ResponseBody::GetAllDetails {
            ne_status: NeStatusDetails {
                status: NeStatus::Ok,
                faults: Vec::new(),
            },
            tasks: s
                .tasks
                .values()
                .map(|t| TaskResponseDetails {
                    details: t.clone(),
                    status: TaskStatus::new(ProvisioningStatus::Complete),
                })
                .collect(),
            destinations: s
                .dests
                .values()
                .map(|d| DestinationResponseDetails {
                    details: d.clone(),
                    delivery_status: DestinationDeliveryStatus::ActiveAndWorking,
                    faults: Vec::new(),
                })
                .collect(),
        },
        other => error(
            other,
            X1ErrorKind::Unsupported,
            "not supported by the tiny NE".into(),
        ),
    }
}

async fn start_ne(files: &TlsFiles) -> TinyNe {
    let acceptor = TlsAcceptor::from(load_server_config(files).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state: Arc<StdMutex<NeState>> = Arc::default();
    let shared = Arc::clone(&state);
    let handler = move |request: X1Request, _peer: X1Peer| {
        let state = Arc::clone(&shared);
        async move {
            let mut s = state.lock().unwrap();
            let mut messages = Vec::new();
            for m in request.messages {
                s.log
                    .push((m.header.clone(), m.body.clone(), Instant::now()));
                let body = execute(&mut s, m.body);
                messages.push(ResponseMessage {
                    header: MessageHeader::response_to(&m.header, now()),
                    body,
                });
            }
            X1Response { messages }
        }
    };
    let (stop, rx) = watch::channel(false);
    let config = X1ServerConfig {
        allowed_identities: Some(vec!["admf".to_owned()]),
        ..X1ServerConfig::default()
    };
    tokio::spawn(serve(listener, acceptor, Arc::new(handler), config, rx));
    TinyNe {
        state,
        addr,
        _stop: stop,
    }
}

// ------------------------------------------------------------------------------------------
// Fixture
// ------------------------------------------------------------------------------------------

const AG1: &str = "11111111-1111-4111-9111-111111111111";
const AG2: &str = "22222222-2222-4222-a222-222222222222";
const X2X3_DID: &str = "33333333-3333-4333-b333-333333333333";
const GRACE_MS: u64 = 300;

struct Fixture {
    dir: tempfile::TempDir,
    mediator: TinyNe,
    probe: TinyNe,
    config: AdmfConfig,
    admf: Admf,
}

fn config_text(mediator: SocketAddr, probe: SocketAddr, identity: &str) -> String {
    format!(
        r#"
admf_identifier = "admf-test"
database = "admf.db"
audit_log = "audit.log"
sync_interval_ms = 20
mediator_grace_ms = {GRACE_MS}
provision_lead_ms = 0
deactivation_grace_ms = 0
reconcile_interval_ms = 0
x1_timeout_ms = 3000

[tls]
cert = "pki/{identity}.pem"
key = "pki/{identity}.key"
ca = "pki/ca.pem"

[[agency]]
name = "LEA-1"
id = "{AG1}"
hi2 = "127.0.0.1:6001"
hi3 = "127.0.0.1:6002"

[[agency]]
name = "LEA-2"
id = "{AG2}"
hi2 = "127.0.0.1:6101"
tls = false

[mediator]
name = "mdf"
x1 = "{mediator}"
server_name = "localhost"
x2x3 = "127.0.0.1:7002"
x2x3_did = "{X2X3_DID}"

[[probe]]
name = "poi-1"
x1 = "{probe}"
server_name = "localhost"
"#
    )
}

async fn fixture_as(identity: &str) -> Fixture {
    fixture_with(identity, 0, 0).await
}

/// A fixture whose ADMF has this provisioning lead and deactivation grace.
async fn fixture_with(identity: &str, lead_ms: u64, deactivation_grace_ms: u64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let files = dev_certs(&dir.path().join("pki")).unwrap();
    // files: admf, probe, mediator, lemf
    let probe = start_ne(&files[1]).await;
    let mediator = start_ne(&files[2]).await;
    let path = dir.path().join("admf.toml");
    let text = config_text(mediator.addr, probe.addr, identity)
        .replace(
            "provision_lead_ms = 0",
            &format!("provision_lead_ms = {lead_ms}"),
        )
        .replace(
            "deactivation_grace_ms = 0",
            &format!("deactivation_grace_ms = {deactivation_grace_ms}"),
        );
    fs::write(&path, text).unwrap();
    let (config, base) = AdmfConfig::load(&path).unwrap();
    let admf = open(&config, &base).unwrap();
    Fixture {
        dir,
        mediator,
        probe,
        config,
        admf,
    }
}

async fn fixture() -> Fixture {
    fixture_as("admf").await
}

impl Fixture {
    fn warrant(
        &self,
        liid: &str,
        xid: u8,
        scope: InterceptScope,
        window: (Timestamp, Option<Timestamp>),
        agencies: &[&str],
    ) -> Warrant {
        let task = Task::new(
            liid.parse().unwrap(),
            Xid::new_v4_from_random([xid; 16]),
            vec!["ipv4:192.0.2.1".parse().unwrap()],
            scope,
            ValidityWindow::new(window.0, window.1).unwrap(),
            agencies
                .iter()
                .map(|a| self.config.agency(a).unwrap())
                .collect(),
        )
        .unwrap();
        Warrant::new(task, window.0).unwrap()
    }

    fn state(&self, liid: &str) -> WarrantState {
        self.admf
            .store()
            .get(&liid.parse().unwrap())
            .unwrap()
            .unwrap()
            .state
    }

    fn audit_path(&self) -> PathBuf {
        self.dir.path().join("audit.log")
    }
}

fn secs(t: Timestamp, s: i64) -> Timestamp {
    if s >= 0 {
        t.checked_add(Duration::from_secs(s.unsigned_abs()))
            .unwrap()
    } else {
        t.checked_sub(Duration::from_secs(s.unsigned_abs()))
            .unwrap()
    }
}

fn ms(t: Timestamp, m: u64) -> Timestamp {
    t.checked_add(Duration::from_millis(m)).unwrap()
}

fn ag(id: &str) -> DestinationId {
    id.parse().unwrap()
}

// ------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------

#[test]
fn config_defaults_and_refusals() {
    let minimal = r#"
[tls]
cert = "a.pem"
key = "a.key"
ca = "ca.pem"
[mediator]
name = "mdf"
x1 = "127.0.0.1:1"
server_name = "mdf"
x2x3 = "127.0.0.1:2"
x2x3_did = "33333333-3333-4333-b333-333333333333"
"#;
    let config: AdmfConfig = toml::from_str(minimal).unwrap();
    assert_eq!(config.admf_identifier, "admf");
    assert_eq!(config.database, PathBuf::from("admf.db"));
    assert_eq!(config.audit_log, PathBuf::from("admf-audit.log"));
    assert_eq!(config.sync_interval_ms, 1000);
    assert_eq!(config.mediator_grace_ms, 5000);
    assert_eq!(config.reconcile_interval_ms, 60_000);
    assert_eq!(config.provision_lead_ms, 60_000);
    assert_eq!(config.deactivation_grace_ms, 60_000);
    assert_eq!(config.x1_timeout_ms, 10_000);
    assert_eq!(config.metrics_listen, None);
    assert!(config.agencies.is_empty() && config.probes.is_empty());
    config.validate().unwrap();
    // docs/CONFIGURATION.md states the lead and the grace these defaults give
    let guide = include_str!("../../../docs/CONFIGURATION.md");
    let documented_ms = |key: &str| -> u64 {
        let row = guide
            .lines()
            .find(|l| l.starts_with(&format!("| `{key}` |")))
            .unwrap_or_else(|| panic!("{key} is not documented"));
        let default = row.split('|').nth(3).unwrap().trim().trim_matches('`');
        default.parse().unwrap()
    };
    assert_eq!(
        (
            documented_ms("provision_lead_ms"),
            documented_ms("deactivation_grace_ms")
        ),
        (config.provision_lead_ms, config.deactivation_grace_ms)
    );

    let unknown = format!("{minimal}\nbogus = 1\n");
    assert!(toml::from_str::<AdmfConfig>(&unknown).is_err());
    let bad_uuid = minimal.replace("33333333-3333-4333-b333-333333333333", "nope");
    assert!(toml::from_str::<AdmfConfig>(&bad_uuid).is_err());

    let twice = format!(
        "{minimal}\n[[probe]]\nname = \"mdf\"\nx1 = \"127.0.0.1:3\"\nserver_name = \"p\"\n"
    );
    let config: AdmfConfig = toml::from_str(&twice).unwrap();
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("used twice"), "{err}");

    let agency = r#"
[[agency]]
name = "LEA-1"
id = "11111111-1111-4111-9111-111111111111"
hi2 = "192.0.2.9:6001"
"#;
    let config: AdmfConfig = toml::from_str(&format!("{minimal}{agency}")).unwrap();
    let a = config.agency("LEA-1").unwrap();
    assert_eq!(a.hi2, CoreAddress::new("192.0.2.9", 6001, true));
    assert_eq!(a.hi3, None);
    assert_eq!(a.format, HandoverFormat::etsi_default());
    assert!(config.agency("LEA-9").is_none());

    let older = format!("{minimal}{agency}format = \"etsi-102232:20:9\"\n");
    let config: AdmfConfig = toml::from_str(&older).unwrap();
    assert_eq!(
        config.agency("LEA-1").unwrap().format,
        HandoverFormat::Etsi102232 {
            ps_pdu_version: 20,
            ip_access_version: 9,
            ip_multimedia_version: 14,
        }
    );
    let unknown = format!("{minimal}{agency}format = \"etsi:20\"\n");
    let err = toml::from_str::<AdmfConfig>(&unknown)
        .unwrap_err()
        .to_string();
    assert!(err.contains("handover format \"etsi:20\""), "{err}");
}

#[tokio::test]
async fn activation_sends_destinations_then_tasks_mediator_first() {
    let f = fixture().await;
    let base = now();
    let end = secs(base, 3600);
    let w = f.warrant(
        "LIID-A",
        1,
        InterceptScope::IriAndCc,
        (secs(base, -1), Some(end)),
        &["LEA-1"],
    );
    f.admf.create_warrant(&w).unwrap();
    let report = f.admf.sync(base).await.unwrap();
    assert_eq!(report.activated, vec![w.task.liid()]);
    assert!(report.failures.is_empty(), "{report}");
    assert_eq!(f.state("LIID-A"), WarrantState::Active);

    let hi2 = DestinationDetails {
        did: ag(AG1),
        friendly_name: Some("LEA-1 HI2".into()),
        delivery_type: DeliveryType::X2Only,
        // LEA-1 has the default tls = true: the mediator is told to use TLS
        delivery_address: DeliveryAddress::Uri(
            "tls://127.0.0.1:6001?handover=etsi-102232:43:18".into(),
        ),
    };
    let hi3 = DestinationDetails {
        did: hi3_did(ag(AG1)),
        friendly_name: Some("LEA-1 HI3".into()),
        delivery_type: DeliveryType::X3Only,
        delivery_address: DeliveryAddress::Uri(
            "tls://127.0.0.1:6002?handover=etsi-102232:43:18".into(),
        ),
    };
    let dids = vec![ag(AG1), hi3_did(ag(AG1))];
    let mediation = MediationDetails {
        liid: w.task.liid(),
        delivery_type: MediationDeliveryType::Hi2AndHi3,
        start_time: Some(secs(base, -1)),
        end_time: Some(end),
        dids: Some(dids.clone()),
    };
    let mut mediator_task = TaskDetails::new(
        w.task.xid(),
        w.task.targets().to_vec(),
        DeliveryType::X2AndX3,
        dids,
    );
    mediator_task.mediation_details = vec![mediation.clone()];
    let x2x3 = DestinationDetails {
        did: ag(X2X3_DID),
        friendly_name: Some("mdf X2/X3".into()),
        delivery_type: DeliveryType::X2AndX3,
        delivery_address: DeliveryAddress::IpAddressPort {
            address: [127, 0, 0, 1].into(),
            port: Port::Tcp(7002),
        },
    };
    let mut probe_task = TaskDetails::new(
        w.task.xid(),
        w.task.targets().to_vec(),
        DeliveryType::X2AndX3,
        vec![ag(X2X3_DID)],
    );
    probe_task.mediation_details = vec![mediation];

    let m = f.mediator.take();
    let p = f.probe.take();
    let m_bodies: Vec<RequestBody> = m.iter().map(|(_, b, _)| b.clone()).collect();
    let p_bodies: Vec<RequestBody> = p.iter().map(|(_, b, _)| b.clone()).collect();
    assert_eq!(
        m_bodies,
        vec![
            RequestBody::GetAllDetails,
            RequestBody::CreateDestination(hi2),
            RequestBody::CreateDestination(hi3),
            RequestBody::ActivateTask(mediator_task),
        ]
    );
    assert_eq!(
        p_bodies,
        vec![
            RequestBody::GetAllDetails,
            RequestBody::CreateDestination(x2x3),
            RequestBody::ActivateTask(probe_task),
        ]
    );
    // the mediator had its task before the probe got any
    assert!(m[3].2 < p[2].2);
    // headers
    let mut transactions = HashSet::new();
    for (header, _, _) in m.iter().chain(&p) {
        assert_eq!(header.admf_identifier, "admf-test");
        assert_eq!(header.version, X1Version::CURRENT);
        assert!(transactions.insert(header.x1_transaction_id));
    }
    assert!(m.iter().all(|(h, _, _)| h.ne_identifier == "mdf"));
    assert!(p.iter().all(|(h, _, _)| h.ne_identifier == "poi-1"));

    // in line: nothing more to send
    let again = f.admf.sync(ms(base, 10)).await.unwrap();
    assert!(again.is_empty(), "{again}");
    assert!(f.mediator.take().is_empty() && f.probe.take().is_empty());

    // a second, IRI-only warrant to the same agency: no new destination anywhere
    let w2 = f.warrant(
        "LIID-B",
        2,
        InterceptScope::IriOnly,
        (secs(base, -1), None),
        &["LEA-1"],
    );
    f.admf.create_warrant(&w2).unwrap();
    let report = f.admf.sync(ms(base, 20)).await.unwrap();
    assert_eq!(report.activated, vec![w2.task.liid()]);
    let m = f.mediator.take();
    assert_eq!(m.len(), 1);
    let RequestBody::ActivateTask(t) = &m[0].1 else {
        panic!("{:?}", m[0].1)
    };
    assert_eq!(t.delivery_type, DeliveryType::X2Only);
    assert_eq!(t.dids, vec![ag(AG1)]);
    assert_eq!(
        t.mediation_details[0].delivery_type,
        MediationDeliveryType::Hi2Only
    );
    assert_eq!(t.mediation_details[0].end_time, None);
    assert_eq!(f.probe.take_types(), vec!["ActivateTask"]);

    // audit: the chain verifies and records all of it, with no XML
    let (report, entries) = read_entries(f.audit_path()).unwrap();
    assert_eq!(report.entries as usize, entries.len());
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "warrant.created",
        "x1.request",
        "x1.response",
        "destination.created",
        "task.activated",
        "warrant.state",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let requests: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == AuditKind::X1Request)
        .collect();
    assert_eq!(requests.len(), 4 + 3 + 1 + 1);
    for e in &requests {
        assert!(e.detail["ne"].is_string() && e.detail["transaction"].is_string());
        assert!(e.detail["type"].is_string());
    }
    let activations = entries
        .iter()
        .filter(|e| e.kind == AuditKind::TaskActivated && e.detail["liid"] == "LIID-A")
        .map(|e| e.detail["ne"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(activations, vec!["mdf", "poi-1"]);
    assert!(entries.iter().all(|e| !e.detail.to_string().contains("<")));
}

#[tokio::test]
async fn window_end_deactivates_probe_first_then_mediator_after_grace() {
    let f = fixture().await;
    let base = now();
    let end = secs(base, 60);
    let w = f.warrant(
        "LIID-E",
        3,
        InterceptScope::IriAndCc,
        (secs(base, -1), Some(end)),
        &["LEA-1"],
    );
    f.admf.create_warrant(&w).unwrap();
    f.admf.sync(base).await.unwrap();
    f.mediator.take();
    f.probe.take();

    let report = f.admf.sync(end).await.unwrap();
    assert_eq!(report.ended, vec![w.task.liid()]);
    assert_eq!(f.state("LIID-E"), WarrantState::Ended);
    assert_eq!(f.probe.take_types(), vec!["DeactivateTask"]);
    assert!(f.mediator.take().is_empty());
    assert!(f.probe.xids().is_empty());
    assert_eq!(f.mediator.xids(), vec![w.task.xid()]);

    // one millisecond before the grace period is over: still nothing at the mediator
    let report = f.admf.sync(ms(end, GRACE_MS - 1)).await.unwrap();
    assert!(report.is_empty(), "{report}");
    assert!(f.mediator.take().is_empty());

    let report = f.admf.sync(ms(end, GRACE_MS)).await.unwrap();
    let m = f.mediator.take();
    let bodies: Vec<_> = m.iter().map(|(_, b, _)| b.clone()).collect();
    assert_eq!(
        bodies,
        vec![
            RequestBody::DeactivateTask(w.task.xid()),
            RequestBody::RemoveDestination(ag(AG1)),
            RequestBody::RemoveDestination(hi3_did(ag(AG1))),
        ]
    );
    assert_eq!(report.tasks_deactivated.len(), 1);
    assert_eq!(report.tasks_deactivated[0].liid, Some(w.task.liid()));
    assert!(f.mediator.lock().dests.is_empty());
    // the probe keeps its X2/X3 destination
    assert_eq!(f.probe.lock().dests.len(), 1);
}

#[tokio::test]
async fn revocation_deactivates_at_once_and_the_mediator_after_the_grace() {
    let f = fixture().await;
    let base = now();
    let w = f.warrant(
        "LIID-R",
        4,
        InterceptScope::IriOnly,
        (secs(base, -1), None),
        &["LEA-2"],
    );
    f.admf.create_warrant(&w).unwrap();
    f.admf.sync(base).await.unwrap();
    f.mediator.take();
    f.probe.take();

    // The grace is counted from the revocation's own clock reading, taken after this.
    let before_revoke = Instant::now();
    let report = f.admf.revoke(&w.task.liid()).await.unwrap();
    assert_eq!(report.revoked, vec![w.task.liid()]);
    assert_eq!(f.state("LIID-R"), WarrantState::Revoked);
    let p = f.probe.take();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].1, RequestBody::DeactivateTask(w.task.xid()));
    assert!(f.mediator.take().is_empty());

    let settled = f.admf.settle().await.unwrap();
    assert_eq!(settled.tasks_deactivated.len(), 1);
    let m = f.mediator.take();
    assert_eq!(m[0].1, RequestBody::DeactivateTask(w.task.xid()));
    assert_eq!(m[1].1, RequestBody::RemoveDestination(ag(AG2)));
    assert!(m[0].2 > p[0].2, "probe first, then the mediator");
    let gap = m[0].2.duration_since(before_revoke);
    assert!(gap >= Duration::from_millis(GRACE_MS), "{gap:?}");

    // a revoked warrant is never activated again, and cannot be revoked twice
    assert!(f.admf.sync(now()).await.unwrap().is_empty());
    assert!(f.admf.revoke(&w.task.liid()).await.is_err());
    let (_, entries) = read_entries(f.audit_path()).unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.kind == AuditKind::WarrantRevoked && e.detail["liid"] == "LIID-R")
    );
    let deactivations: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == AuditKind::TaskDeactivated)
        .map(|e| e.detail["ne"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(deactivations, vec!["poi-1", "mdf"]);
}

#[tokio::test]
async fn a_failing_ne_leaves_the_warrant_pending_and_it_is_retried() {
    let f = fixture().await;
    let base = now();
    f.admf.sync(base).await.unwrap(); // reads both NEs back
    f.mediator.take();
    f.probe.take();
    f.probe.lock().refuse = true;

    let w = f.warrant(
        "LIID-F",
        5,
        InterceptScope::IriOnly,
        (secs(base, -1), None),
        &["LEA-1"],
    );
    f.admf.create_warrant(&w).unwrap();
    let report = f.admf.sync(ms(base, 10)).await.unwrap();
    assert!(report.activated.is_empty());
    assert_eq!(report.failures.len(), 1, "{report}");
    assert_eq!(report.failures[0].ne, "poi-1");
    assert_eq!(report.failures[0].operation, "CreateDestination");
    assert!(report.failures[0].error.contains("refusing everything"));
    assert_eq!(f.state("LIID-F"), WarrantState::Pending);
    assert_eq!(
        f.mediator.take_types(),
        vec!["CreateDestination", "ActivateTask"]
    );

    // still refusing: read back fails, the warrant stays pending, nothing more at the mediator
    let report = f.admf.sync(ms(base, 20)).await.unwrap();
    assert_eq!(f.state("LIID-F"), WarrantState::Pending);
    assert!(
        report
            .failures
            .iter()
            .any(|x| x.operation == "GetAllDetails")
    );
    assert!(f.mediator.take().is_empty());

    f.probe.lock().refuse = false;
    f.probe.take();
    // the failed read-back is retried after the sync interval (20 ms), not before
    let report = f.admf.sync(ms(base, 39)).await.unwrap();
    assert!(f.probe.take().is_empty());
    assert_eq!(f.state("LIID-F"), WarrantState::Pending);
    assert!(report.activated.is_empty());
    let report = f.admf.sync(ms(base, 40)).await.unwrap();
    assert_eq!(report.activated, vec![w.task.liid()]);
    assert!(report.failures.is_empty(), "{report}");
    assert_eq!(f.state("LIID-F"), WarrantState::Active);
    assert_eq!(
        f.probe.take_types(),
        vec!["GetAllDetails", "CreateDestination", "ActivateTask"]
    );
    assert!(f.mediator.take().is_empty());

    let (_, entries) = read_entries(f.audit_path()).unwrap();
    assert!(entries.iter().any(|e| e.kind == AuditKind::X1Response
        && e.detail["outcome"] == "error"
        && e.detail["ne"] == "poi-1"));
}

#[tokio::test]
async fn restarted_nes_are_provisioned_again() {
    let f = fixture().await;
    let base = now();
    let w = f.warrant(
        "LIID-N",
        6,
        InterceptScope::IriAndCc,
        (secs(base, -1), None),
        &["LEA-1"],
    );
    f.admf.create_warrant(&w).unwrap();
    f.admf.sync(base).await.unwrap();
    f.mediator.take();
    f.probe.take();

    // the mediator restarts, and so does the ADMF: start-up reconciliation
    f.mediator.restart();
    let admf = open(&f.config, f.dir.path()).unwrap();
    let report = admf.sync(ms(base, 10)).await.unwrap();
    assert!(report.failures.is_empty(), "{report}");
    assert!(report.activated.is_empty()); // it was active already
    assert_eq!(
        f.mediator.take_types(),
        vec![
            "GetAllDetails",
            "CreateDestination",
            "CreateDestination",
            "ActivateTask"
        ]
    );
    assert_eq!(f.probe.take_types(), vec!["GetAllDetails"]);
    assert_eq!(f.mediator.xids(), vec![w.task.xid()]);

    // the probe restarts while the ADMF runs: a read-back finds it empty
    f.probe.restart();
    admf.request_read_back().await;
    let report = admf.sync(ms(base, 20)).await.unwrap();
    assert_eq!(report.tasks_activated.len(), 1, "{report}");
    assert_eq!(
        f.probe.take_types(),
        vec!["GetAllDetails", "CreateDestination", "ActivateTask"]
    );
    assert_eq!(f.mediator.take_types(), vec!["GetAllDetails"]);
    assert_eq!(f.probe.xids(), vec![w.task.xid()]);
}

#[tokio::test]
async fn stale_tasks_are_deactivated_probe_first() {
    let f = fixture().await;
    let stale = Xid::new_v4_from_random([0x5a; 16]);
    let orphan = DestinationId::new_v4_from_random([0x6b; 16]);
    let task = TaskDetails::new(
        stale,
        vec!["ipv4:198.51.100.7".parse().unwrap()],
        DeliveryType::X2Only,
        vec![orphan],
    );
    f.mediator.lock().tasks.insert(stale, task.clone());
    f.mediator.lock().dests.insert(
        orphan,
        DestinationDetails {
            did: orphan,
            friendly_name: None,
            delivery_type: DeliveryType::X2Only,
            delivery_address: DeliveryAddress::IpAddressPort {
                address: [127, 0, 0, 1].into(),
                port: Port::Tcp(9),
            },
        },
    );
    f.probe.lock().tasks.insert(stale, task);

    let base = now();
    let report = f.admf.sync(base).await.unwrap();
    assert_eq!(report.tasks_deactivated.len(), 1);
    assert_eq!(report.tasks_deactivated[0].ne, "poi-1");
    assert_eq!(report.tasks_deactivated[0].liid, None);
    assert!(f.probe.xids().is_empty());
    assert_eq!(f.mediator.xids(), vec![stale]);

    let report = f.admf.sync(ms(base, GRACE_MS)).await.unwrap();
    assert_eq!(report.tasks_deactivated[0].ne, "mdf");
    assert_eq!(
        report.destinations_removed,
        vec![("mdf".to_owned(), orphan)]
    );
    assert!(f.mediator.xids().is_empty());
    assert!(f.mediator.lock().dests.is_empty());
}

#[tokio::test]
async fn an_update_is_sent_as_modify_task_to_every_ne() {
    let f = fixture().await;
    let base = now();
    let mut w = f.warrant(
        "LIID-U",
        7,
        InterceptScope::IriOnly,
        (secs(base, -1), None),
        &["LEA-2"],
    );
    f.admf.create_warrant(&w).unwrap();
    f.admf.sync(base).await.unwrap();
    f.mediator.take();
    f.probe.take();

    w = rebuilt(&w, |t| t.target("username:alice".parse().unwrap()));
    w.updated = ms(base, 5);
    let report = f.admf.update_warrant(&w).await.unwrap();
    assert_eq!(report.tasks_modified.len(), 2, "{report}");
    let m = f.mediator.take();
    let p = f.probe.take();
    assert_eq!(m.len(), 1);
    assert_eq!(p.len(), 1);
    let (RequestBody::ModifyTask(mt), RequestBody::ModifyTask(pt)) = (&m[0].1, &p[0].1) else {
        panic!("{:?} {:?}", m[0].1, p[0].1)
    };
    assert_eq!(mt.targets, w.task.targets());
    assert_eq!(pt.targets, w.task.targets());
    assert!(m[0].2 < p[0].2);
    assert!(f.admf.sync(now()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_wrong_admf_certificate_is_refused_by_the_nes() {
    // the NEs accept only the identity "admf"; this ADMF presents "lemf" (same CA)
    let f = fixture_as("lemf").await;
    let base = now();
    let w = f.warrant(
        "LIID-T",
        8,
        InterceptScope::IriOnly,
        (secs(base, -1), None),
        &["LEA-1"],
    );
    f.admf.create_warrant(&w).unwrap();
    let report = f.admf.sync(base).await.unwrap();
    assert!(report.activated.is_empty());
    assert!(
        report
            .failures
            .iter()
            .any(|x| x.ne == "mdf" && x.operation == "GetAllDetails"),
        "{report}"
    );
    assert!(report.failures.iter().any(|x| x.ne == "poi-1"));
    assert_eq!(f.state("LIID-T"), WarrantState::Pending);
    // nothing reached either handler
    assert!(f.mediator.take().is_empty());
    assert!(f.probe.take().is_empty());
    let (_, entries) = read_entries(f.audit_path()).unwrap();
    assert!(entries.iter().any(|e| e.kind == AuditKind::X1Response
        && e.detail["outcome"] == "failed"
        && e.detail["ne"] == "mdf"));
}

#[tokio::test]
async fn two_processes_keep_the_audit_chain_intact_and_metrics_count() {
    let f = fixture().await;
    let other = open(&f.config, f.dir.path()).unwrap();
    let base = now();
    for i in 0..4u8 {
        let w = f.warrant(
            &format!("LIID-{i}"),
            0x10 + i,
            InterceptScope::IriOnly,
            (secs(base, 100), None),
            &["LEA-2"],
        );
        // alternate between the two handles (as the CLI and the daemon would)
        if i % 2 == 0 {
            f.admf.create_warrant(&w).unwrap();
        } else {
            other.create_warrant(&w).unwrap();
        }
    }
    f.admf.sync(base).await.unwrap();
    other.sync(base).await.unwrap();
    let (report, entries) = read_entries(f.audit_path()).unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.kind == AuditKind::WarrantCreated)
            .count(),
        4
    );
    assert!(report.entries >= 4 + 8);
    // no append holds the lock any more: another process takes it at once
    let lock = fs::OpenOptions::new()
        .write(true)
        .open(f.dir.path().join("audit.log.lock"))
        .unwrap();
    lock.try_lock().unwrap();

    let registry = Registry::new();
    register_metrics(&f.admf, &registry).unwrap();
    let text = registry.render();
    assert!(
        text.contains("li_admf_warrants{state=\"pending\"} 4"),
        "{text}"
    );
    assert!(
        text.contains("li_admf_warrants{state=\"active\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("li_admf_x1_requests_total{ne=\"mdf\",outcome=\"ok\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_revocation_by_another_process_leaves_the_daemon_consistent() {
    let f = fixture().await;
    let base = now();
    let w = f.warrant(
        "LIID-C",
        9,
        InterceptScope::IriOnly,
        (secs(base, -1), None),
        &["LEA-1"],
    );
    f.admf.create_warrant(&w).unwrap();
    f.admf.sync(base).await.unwrap(); // the "daemon" activates it

    // the CLI, another process, revokes it and waits for the mediator's deactivation
    let cli = open(&f.config, f.dir.path()).unwrap();
    let report = cli.revoke(&w.task.liid()).await.unwrap();
    assert_eq!(report.tasks_deactivated.len(), 1, "{report}");
    cli.settle().await.unwrap();
    assert!(f.probe.xids().is_empty() && f.mediator.xids().is_empty());
    f.mediator.take();
    f.probe.take();

    // the daemon's view is stale: its deactivations are answered "does not exist", which
    // counts as done, not as a failure
    let report = f.admf.sync(now()).await.unwrap();
    assert!(report.failures.is_empty(), "{report}");
    assert_eq!(f.probe.take_types(), vec!["DeactivateTask"]);
    let report = f.admf.settle().await.unwrap();
    assert!(report.failures.is_empty(), "{report}");
    assert_eq!(
        f.mediator.take_types(),
        vec!["DeactivateTask", "RemoveDestination"]
    );
    read_entries(f.audit_path()).unwrap();
}

// ------------------------------------------------------------------------------------------
// Issue 11: target kinds, windows in the past
// ------------------------------------------------------------------------------------------

#[test]
fn an_unknown_target_kind_is_refused_with_the_valid_kinds_listed() {
    // `prefix:` was documented but never a kind: the error names every kind there is
    let err = parse_target(2, "prefix:192.0.2.0/24")
        .unwrap_err()
        .to_string();
    assert!(err.contains("--target #2"), "{err}");
    for kind in TargetKind::ALL {
        assert!(err.contains(&format!("{kind}:")), "{kind} missing: {err}");
    }
    // a bad value of a good kind: the kinds too, never the value
    let err = parse_target(1, "ipv4:alice-secret")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ipv4-prefix:") && !err.contains("alice-secret"),
        "{err}"
    );
    assert_eq!(
        parse_target(1, "ipv4-prefix:192.0.2.0/24").unwrap().kind(),
        TargetKind::Ipv4Prefix
    );
    assert_eq!(
        parse_target(1, "ipv6-prefix:2001:db8::/48").unwrap().kind(),
        TargetKind::Ipv6Prefix
    );
    // the configuration guide names exactly these kinds
    let guide = include_str!("../../../docs/CONFIGURATION.md");
    assert!(!guide.contains("`prefix:`"));
    for kind in TargetKind::ALL {
        assert!(
            guide.contains(&format!("`{kind}:`")),
            "{kind} not documented"
        );
    }
}

#[test]
fn a_window_entirely_in_the_past_is_refused_unless_allowed() {
    let now = Timestamp::from_secs_micros(1_800_000_000, 0).unwrap();
    let past = ValidityWindow::new(secs(now, -7200), Some(secs(now, -3600))).unwrap();
    let err = check_window_not_past(&past, now, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("--allow-past"), "{err}");
    assert!(err.contains(&secs(now, -3600).to_string()), "{err}");
    // ending exactly now is over too
    let ends_now = ValidityWindow::new(secs(now, -60), Some(now)).unwrap();
    assert!(check_window_not_past(&ends_now, now, false).is_err());
    // with the flag, or with any part still to come, it is accepted
    check_window_not_past(&past, now, true).unwrap();
    let started = ValidityWindow::new(secs(now, -60), Some(ms(now, 1))).unwrap();
    check_window_not_past(&started, now, false).unwrap();
    let open = ValidityWindow::new(secs(now, -60), None).unwrap();
    check_window_not_past(&open, now, false).unwrap();
}

// ------------------------------------------------------------------------------------------
// Issue 11: window edges by packet time (provisioning lead, deactivation grace)
// ------------------------------------------------------------------------------------------

/// Issue 11: the ADMF provisioned a task only once its window had begun (by its clock)
/// and the probe got it 6-48 ms later, missing the first packets; it now sends it a lead
/// ahead (1 ms early: nothing; at the lead: everything), with the window in the task, and
/// deactivates a grace after the end.
#[tokio::test]
async fn tasks_go_out_a_lead_before_the_window_and_are_withdrawn_a_grace_after_it() {
    let f = fixture_with("admf", 60_000, 60_000).await;
    let base = now();
    let start = secs(base, 120);
    let end = secs(start, 10);
    let w = f.warrant(
        "LIID-L",
        41,
        InterceptScope::IriAndCc,
        (start, Some(end)),
        &["LEA-1"],
    );
    f.admf.create_warrant(&w).unwrap();
    let from = secs(start, -60);
    let report = f
        .admf
        .sync(from.checked_sub(Duration::from_millis(1)).unwrap())
        .await
        .unwrap();
    assert!(report.tasks_activated.is_empty(), "{report}");
    assert_eq!(f.probe.take_types(), vec!["GetAllDetails"]);
    assert_eq!(f.state("LIID-L"), WarrantState::Pending);

    let report = f.admf.sync(from).await.unwrap();
    assert_eq!(report.activated, vec![w.task.liid()], "{report}");
    assert_eq!(f.state("LIID-L"), WarrantState::Active);
    let p = f.probe.take();
    let Some((_, RequestBody::ActivateTask(task), _)) = p.last() else {
        panic!("no ActivateTask at the probe: {p:?}");
    };
    // the task carries the window: the probe enforces it by packet time
    assert_eq!(task.mediation_details[0].start_time, Some(start));
    assert_eq!(task.mediation_details[0].end_time, Some(end));
    f.mediator.take();

    // the window's end by the ADMF's clock changes nothing; the grace after it does
    for t in [
        start,
        end,
        secs(end, 60).checked_sub(Duration::from_millis(1)).unwrap(),
    ] {
        let report = f.admf.sync(t).await.unwrap();
        assert!(report.is_empty(), "{t}: {report}");
    }
    assert!(f.probe.take().is_empty());
    let report = f.admf.sync(secs(end, 60)).await.unwrap();
    assert_eq!(report.ended, vec![w.task.liid()]);
    assert_eq!(f.probe.take_types(), vec!["DeactivateTask"]);
    assert_eq!(f.state("LIID-L"), WarrantState::Ended);
}

// ------------------------------------------------------------------------------------------
// Issue 11: one refused task does not block the others
// ------------------------------------------------------------------------------------------

/// Issue 11: a probe refusing one warrant's task was treated as unknown for the rest of the
/// pass and every later warrant stayed pending. The refusal now stays with its warrant
/// (recorded, audited once, listed), the others are provisioned, the refused task is not
/// offered again before a back-off, and at once when the warrant changes.
#[tokio::test]
async fn a_refused_task_stays_with_its_warrant_and_the_others_are_provisioned() {
    let f = fixture().await;
    f.probe.lock().refuse_kind = Some(TargetKind::SipUri);
    let base = now();
    let window = (secs(base, -1), None);
    let w1 = f.warrant("LIID-1", 51, InterceptScope::IriOnly, window, &["LEA-1"]);
    let w1 = with_target(&w1, "sip:alice@example.com");
    let w2 = f.warrant("LIID-2", 52, InterceptScope::IriOnly, window, &["LEA-1"]);
    let w2 = with_target(&w2, "ipv4:192.0.2.2");
    let w3 = f.warrant("LIID-3", 53, InterceptScope::IriAndCc, window, &["LEA-1"]);
    let w3 = with_target(&w3, "ipv4:192.0.2.3");
    for w in [&w1, &w2, &w3] {
        f.admf.create_warrant(w).unwrap();
    }

    let report = f.admf.sync(base).await.unwrap();
    assert_eq!(
        report.activated,
        vec![w2.task.liid(), w3.task.liid()],
        "{report}"
    );
    assert_eq!(report.failures.len(), 1, "{report}");
    let failure = &report.failures[0];
    assert_eq!(
        (
            failure.ne.as_str(),
            failure.operation.as_str(),
            failure.liid
        ),
        ("poi-1", "ActivateTask", Some(w1.task.liid()))
    );
    assert!(failure.error.contains("cannot be intercepted"), "{report}");
    assert_eq!(f.state("LIID-1"), WarrantState::Pending);
    assert_eq!(f.state("LIID-2"), WarrantState::Active);
    assert_eq!(f.state("LIID-3"), WarrantState::Active);
    assert_eq!(f.probe.xids(), {
        let mut x = vec![w2.task.xid(), w3.task.xid()];
        x.sort();
        x
    });

    // recorded with the warrant, shown by `warrant list` and `warrant show`
    let refusals = f.admf.store().refusals(&w1.task.liid()).unwrap();
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].ne, "poi-1");
    assert!(refusals[0].reason.contains("cannot be intercepted"));
    let line = list_line(&w1, &refusals);
    assert!(line.contains("REFUSED by poi-1"), "{line}");
    assert!(describe(&w1, &refusals).contains("REFUSED:  by poi-1"));
    assert!(f.admf.store().refusals(&w2.task.liid()).unwrap().is_empty());

    // not offered again before the back-off (the sync interval, 20 ms), and the probe is
    // not read back: it stays known
    f.probe.take();
    let report = f.admf.sync(ms(base, 19)).await.unwrap();
    assert!(f.probe.take().is_empty());
    assert_eq!(report.failures.len(), 1, "{report}");
    let report = f.admf.sync(ms(base, 20)).await.unwrap();
    assert_eq!(f.probe.take_types(), vec!["ActivateTask"], "{report}");
    // then the back-off doubles
    f.admf.sync(ms(base, 59)).await.unwrap();
    assert!(f.probe.take().is_empty());
    f.admf.sync(ms(base, 60)).await.unwrap();
    assert_eq!(f.probe.take_types(), vec!["ActivateTask"]);
    // one audit entry per refusal, not per attempt
    let (_, entries) = read_entries(f.audit_path()).unwrap();
    let refused: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == AuditKind::Other("warrant.refused".into()))
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].detail["liid"], "LIID-1");
    assert_eq!(refused[0].detail["ne"], "poi-1");

    // a changed warrant is offered at once, and accepted: the refusal is gone
    let mut changed = with_target(&w1, "ipv4:192.0.2.1");
    changed.updated = ms(base, 61);
    let report = f.admf.update_warrant(&changed).await.unwrap();
    assert!(report.activated.contains(&w1.task.liid()), "{report}");
    assert_eq!(f.state("LIID-1"), WarrantState::Active);
    assert!(f.admf.store().refusals(&w1.task.liid()).unwrap().is_empty());
}

// ------------------------------------------------------------------------------------------
// Issue 11: `warrant show` says how each agency is reached, and the mediator is told so
// ------------------------------------------------------------------------------------------

/// Issue 11: `warrant show` printed TLS for an agency the mediator reached over plain TCP.
/// The agency's `tls` now goes to the mediator with its destination (`tls://` or `tcp://`),
/// and what `warrant show` prints is what the mediator makes of that destination.
#[tokio::test]
async fn warrant_show_says_what_the_mediator_is_told_to_use() {
    use li_handover::mediator::{HiTransport, hi_destination};

    let f = fixture().await;
    let base = now();
    let w = f.warrant(
        "LIID-T",
        61,
        InterceptScope::IriOnly,
        (secs(base, -1), None),
        &["LEA-1", "LEA-2"],
    );
    f.admf.create_warrant(&w).unwrap();
    let report = f.admf.sync(base).await.unwrap();
    assert_eq!(report.activated, vec![w.task.liid()], "{report}");
    let shown = describe(&w, &[]);
    let dests = f.mediator.lock().dests.clone();
    for (agency, tls) in [(ag(AG1), true), (ag(AG2), false)] {
        let at_mediator = hi_destination(&dests[&agency]).unwrap();
        let (transport, text) = if tls {
            (HiTransport::Tls, "over TLS")
        } else {
            (HiTransport::PlainTcp, "over plain TCP")
        };
        assert_eq!(at_mediator.transport, transport, "{agency}");
        let name = if tls { "LEA-1" } else { "LEA-2" };
        let line = shown
            .lines()
            .find(|l| l.contains(&format!("agency:   {name} ")))
            .unwrap();
        assert!(
            line.contains(&format!("HI2 {} {text}", at_mediator.addr)),
            "{line}"
        );
    }
}

// ------------------------------------------------------------------------------------------
// Issue 12: one task model, and formats the suite cannot produce
// ------------------------------------------------------------------------------------------

/// Issue 12: an agency carries a handover format; one the suite cannot produce
/// (PacketCable here) is refused by the ADMF at provisioning, recorded and audited as a
/// refusal of that warrant, and nothing of the warrant reaches an NE (it is never delivered
/// in another format). The other warrants are provisioned; once the agency's format is one
/// the suite produces, the warrant is, and the refusal goes.
#[tokio::test]
async fn an_agency_format_the_suite_cannot_produce_is_refused_and_nothing_is_sent() {
    let f = fixture().await;
    let base = now();
    let window = (secs(base, -1), None);
    let refused = f.warrant("LIID-P", 71, InterceptScope::IriOnly, window, &["LEA-1"]);
    let refused = with_format(&refused, HandoverFormat::PacketCable { version: 7 });
    let other = f.warrant("LIID-Q", 72, InterceptScope::IriOnly, window, &["LEA-2"]);
    f.admf.create_warrant(&refused).unwrap();
    f.admf.create_warrant(&other).unwrap();

    let report = f.admf.sync(base).await.unwrap();
    assert_eq!(report.activated, vec![other.task.liid()], "{report}");
    assert_eq!(report.failures.len(), 1, "{report}");
    let failure = &report.failures[0];
    assert_eq!(
        (
            failure.ne.as_str(),
            failure.operation.as_str(),
            failure.liid
        ),
        ("admf-test", "plan", Some(refused.task.liid()))
    );
    assert!(
        failure
            .error
            .contains("agency LEA-1: handover format packetcable:7 is not produced by this suite"),
        "{report}"
    );
    assert_eq!(f.state("LIID-P"), WarrantState::Pending);
    // nothing of it at either NE: no task, no LEA-1 destination
    assert_eq!(f.mediator.xids(), vec![other.task.xid()]);
    assert_eq!(f.probe.xids(), vec![other.task.xid()]);
    for (_, body, _) in f.mediator.take().iter().chain(&f.probe.take()) {
        match body {
            RequestBody::ActivateTask(t) => assert_eq!(t.xid, other.task.xid()),
            RequestBody::CreateDestination(d) => assert_ne!(d.did, ag(AG1)),
            _ => {}
        }
    }

    // recorded with the warrant under the ADMF's name, shown by `warrant list` and `show`
    let refusals = f.admf.store().refusals(&refused.task.liid()).unwrap();
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].ne, "admf-test");
    assert!(
        refusals[0]
            .reason
            .contains("packetcable:7 is not produced by this suite")
    );
    let line = list_line(&refused, &refusals);
    assert!(line.contains("REFUSED by admf-test"), "{line}");
    assert!(describe(&refused, &refusals).contains("REFUSED:  by admf-test"));

    // audited once, not at every sync
    let report = f.admf.sync(ms(base, 30)).await.unwrap();
    assert_eq!(report.failures.len(), 1, "{report}");
    assert!(f.mediator.take().is_empty() && f.probe.take().is_empty());
    let (_, entries) = read_entries(f.audit_path()).unwrap();
    let audited: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == AuditKind::Other("warrant.refused".into()))
        .collect();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].detail["liid"], "LIID-P");
    assert_eq!(audited[0].detail["ne"], "admf-test");

    // the agency's format fixed: provisioned at once, the refusal gone
    let mut fixed = with_format(&refused, HandoverFormat::etsi_default());
    fixed.updated = ms(base, 40);
    let report = f.admf.update_warrant(&fixed).await.unwrap();
    assert_eq!(report.activated, vec![refused.task.liid()], "{report}");
    assert!(report.failures.is_empty(), "{report}");
    assert!(f.mediator.xids().contains(&refused.task.xid()));
    assert!(
        f.admf
            .store()
            .refusals(&refused.task.liid())
            .unwrap()
            .is_empty()
    );
}

/// `w` with its task changed by `change` (built again, and so checked, by `li-core`).
fn rebuilt(w: &Warrant, change: impl FnOnce(TaskBuilder) -> TaskBuilder) -> Warrant {
    Warrant {
        task: change(w.task.clone().into_builder()).build().unwrap(),
        ..w.clone()
    }
}

/// `w` with `target` as its only target.
fn with_target(w: &Warrant, target: &str) -> Warrant {
    let target: TargetIdentifier = target.parse().unwrap();
    rebuilt(w, |t| t.clear_targets().target(target))
}

/// `w` with its first agency expecting `format`.
fn with_format(w: &Warrant, format: HandoverFormat) -> Warrant {
    let mut agencies = w.task.destinations().to_vec();
    agencies[0].format = format;
    rebuilt(w, |t| t.clear_destinations().destinations(agencies))
}
