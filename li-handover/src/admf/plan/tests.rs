//! The reconciler's decisions, driven with explicit instants: no sockets, no clock.

use li_core::{InterceptScope, TargetIdentifier, Task, ValidityWindow};

use super::*;
use crate::admf::store::Agency;
use crate::admf::store::tests::{rebuilt, with_agencies};
use li_asn1::HeaderSettings;

// ------------------------------------------------------------------------------------------
// Fixture
// ------------------------------------------------------------------------------------------

const LEAD: Duration = Duration::from_secs(60);
const GRACE: Duration = Duration::from_secs(60);
const MEDIATOR_GRACE: Duration = Duration::from_secs(5);
const BASE: Duration = Duration::from_secs(1);

fn t0() -> Timestamp {
    Timestamp::from_secs_micros(1_800_000_000, 0).unwrap()
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

fn ms(t: Timestamp, m: i64) -> Timestamp {
    if m >= 0 {
        t.checked_add(Duration::from_millis(m.unsigned_abs()))
            .unwrap()
    } else {
        t.checked_sub(Duration::from_millis(m.unsigned_abs()))
            .unwrap()
    }
}

fn network(probes: usize) -> Network {
    Network {
        mediator: "mdf".into(),
        x2x3: "192.0.2.1:7002".parse().unwrap(),
        x2x3_did: DestinationId::new_v4_from_random([0x33; 16]),
        probes: (1..=probes).map(|i| format!("poi-{i}")).collect(),
    }
}

fn timing() -> Timing {
    Timing {
        provision_lead: LEAD,
        deactivation_grace: GRACE,
        mediator_grace: MEDIATOR_GRACE,
    }
}

fn agency(n: u8) -> Agency {
    Agency::new(
        DestinationId::new_v4_from_random([n; 16]),
        CoreAddress::new("198.51.100.1", 6000 + u16::from(n), true),
        Some(CoreAddress::new("198.51.100.1", 7000 + u16::from(n), false)),
        HandoverFormat::etsi_default(),
    )
    .with_name(format!("LEA-{n}"))
}

/// A pending IRI+CC warrant for LEA-1 on one target, in force from `start` (until `end`),
/// entered at t0.
fn warrant(liid: &str, xid: u8, start: Timestamp, end: Option<Timestamp>) -> Warrant {
    let task = Task::new(
        liid.parse().unwrap(),
        Xid::new_v4_from_random([xid; 16]),
        vec![format!("ipv4:192.0.2.{xid}").parse().unwrap()],
        InterceptScope::IriAndCc,
        ValidityWindow::new(start, end).unwrap(),
        vec![agency(1)],
    )
    .unwrap();
    Warrant::new(task, t0()).unwrap()
}

/// `w` with its first agency changed by `change`.
fn with_agency(w: &Warrant, change: impl FnOnce(&mut Agency)) -> Warrant {
    with_agencies(w, |agencies| change(&mut agencies[0])).unwrap()
}

/// Every NE of `network` read back, empty.
fn empty(network: &Network) -> Observed {
    let mut observed = Observed::new(network.ne_count());
    observed.nes = vec![Some(NeContents::default()); network.ne_count()];
    observed
}

fn run(network: &Network, warrants: &[Warrant], observed: &Observed, now: Timestamp) -> Plan {
    plan(
        &Desired {
            network,
            timing: timing(),
            warrants,
        },
        observed,
        now,
    )
}

/// The requests as (NE name, message type).
fn sent<'n>(network: &'n Network, plan: &Plan) -> Vec<(&'n str, &'static str)> {
    plan.requests
        .iter()
        .map(|r| {
            (
                network.ne_name(r.ne).unwrap(),
                r.body.message_type().as_str(),
            )
        })
        .collect()
}

/// What the NEs have once they acknowledged every request of `plan` (and the ADMF's records
/// updated as the driver updates them).
fn acknowledge(observed: &mut Observed, plan: &Plan) {
    observed.mediator_release.clone_from(&plan.mediator_release);
    for r in &plan.requests {
        let contents = observed.nes[r.ne].as_mut().unwrap();
        match &r.body {
            RequestBody::CreateDestination(d) | RequestBody::ModifyDestination(d) => {
                contents.destinations.insert(d.did, d.clone());
            }
            RequestBody::RemoveDestination(did) => {
                contents.destinations.remove(did);
            }
            RequestBody::ActivateTask(t) | RequestBody::ModifyTask(t) => {
                observed.refusals.accepted(r.ne, t.xid);
                contents.tasks.insert(t.xid, t.clone());
            }
            RequestBody::DeactivateTask(xid) => {
                contents.tasks.remove(xid);
                if r.ne == MEDIATOR {
                    observed.mediator_release.remove(xid);
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// A network of one probe that has `warrant` everywhere, as of `at`.
fn provisioned(network: &Network, warrant: &mut Warrant, at: Timestamp) -> Observed {
    let mut observed = empty(network);
    let plan = run(network, std::slice::from_ref(warrant), &observed, at);
    acknowledge(&mut observed, &plan);
    warrant.state = WarrantState::Active;
    observed
}

// ------------------------------------------------------------------------------------------
// Activation
// ------------------------------------------------------------------------------------------

#[test]
fn a_new_warrant_before_its_lead_time_needs_nothing() {
    let net = network(1);
    let start = secs(t0(), 600);
    let w = warrant("LIID-A", 1, start, None);
    let observed = empty(&net);
    let plan = run(
        &net,
        &[w],
        &observed,
        ms(start.checked_sub(LEAD).unwrap(), -1),
    );
    assert_eq!(plan, Plan::default());
}

#[test]
fn at_the_lead_destinations_go_before_the_tasks_and_the_mediator_before_the_probe() {
    let net = network(1);
    let start = secs(t0(), 600);
    let w = warrant("LIID-A", 1, start, Some(secs(start, 3600)));
    let tasks = warrant_tasks(&w, &net).unwrap();
    let observed = empty(&net);
    let plan = run(
        &net,
        std::slice::from_ref(&w),
        &observed,
        start.checked_sub(LEAD).unwrap(),
    );

    let req = |ne, body, after_mediator| Request {
        ne,
        body,
        liid: Some(w.task.liid()),
        after_mediator,
    };
    assert_eq!(tasks.hi_destinations.len(), 2, "HI2 and HI3");
    assert_eq!(
        plan.requests,
        vec![
            req(
                MEDIATOR,
                RequestBody::CreateDestination(tasks.hi_destinations[0].clone()),
                false
            ),
            req(
                MEDIATOR,
                RequestBody::CreateDestination(tasks.hi_destinations[1].clone()),
                false
            ),
            req(
                MEDIATOR,
                RequestBody::ActivateTask(tasks.mediator_task.clone()),
                false
            ),
            req(
                1,
                RequestBody::CreateDestination(tasks.probe_destination.clone()),
                false
            ),
            req(1, RequestBody::ActivateTask(tasks.probe_task.clone()), true),
        ]
    );
    assert_eq!(plan.activate, vec![w.task.liid()]);
    assert_eq!(plan.wanted, BTreeSet::from([w.task.xid()]));
    assert!(plan.held.is_empty() && plan.retire.is_empty());

    // what the tasks carry
    let hi2 = &tasks.hi_destinations[0];
    assert_eq!(hi2.did, w.task.destinations()[0].id);
    assert_eq!(
        hi2.delivery_address,
        DeliveryAddress::Uri("tls://198.51.100.1:6001?handover=etsi-102232:43:18".into())
    );
    let hi3 = &tasks.hi_destinations[1];
    assert_eq!(hi3.did, hi3_did(w.task.destinations()[0].id));
    assert_eq!(hi3.delivery_type, DeliveryType::X3Only);
    assert_eq!(
        hi3.delivery_address,
        DeliveryAddress::Uri("tcp://198.51.100.1:7001?handover=etsi-102232:43:18".into())
    );
    let md = &tasks.probe_task.mediation_details[0];
    assert_eq!(md.start_time, Some(start));
    assert_eq!(md.end_time, w.task.window().end());
    assert_eq!(md.delivery_type, MediationDeliveryType::Hi2AndHi3);
    assert_eq!(tasks.probe_task.dids, vec![net.x2x3_did]);
    assert_eq!(
        tasks.mediator_task.dids,
        vec![hi2.did, hi3.did],
        "the mediator delivers to the agency"
    );
}

#[test]
fn inside_its_window_a_warrant_the_nes_have_needs_nothing() {
    let net = network(1);
    let start = secs(t0(), 600);
    let mut w = warrant("LIID-A", 1, start, None);
    let observed = provisioned(&net, &mut w, start);
    let plan = run(&net, std::slice::from_ref(&w), &observed, secs(start, 3600));
    assert_eq!(
        plan,
        Plan {
            wanted: BTreeSet::from([w.task.xid()]),
            ..Plan::default()
        }
    );
    // still pending (another process entered it active elsewhere): nothing to send, and it
    // is complete
    w.state = WarrantState::Pending;
    let plan = run(&net, std::slice::from_ref(&w), &observed, secs(start, 3600));
    assert!(plan.requests.is_empty());
    assert_eq!(plan.activate, vec![w.task.liid()]);
}

#[test]
fn a_second_warrant_to_the_same_agency_creates_no_destination() {
    let net = network(1);
    let start = secs(t0(), 600);
    let mut a = warrant("LIID-A", 1, start, None);
    let observed = provisioned(&net, &mut a, start);
    let b = warrant("LIID-B", 2, start, None);
    let plan = run(&net, &[a, b.clone()], &observed, start);
    assert_eq!(
        sent(&net, &plan),
        vec![("mdf", "ActivateTask"), ("poi-1", "ActivateTask")]
    );
    assert!(plan.requests.iter().all(|r| r.liid == Some(b.task.liid())));
}

// ------------------------------------------------------------------------------------------
// Changes
// ------------------------------------------------------------------------------------------

#[test]
fn a_modified_warrant_is_modified_on_every_ne() {
    let net = network(1);
    let start = secs(t0(), 600);
    let mut w = warrant("LIID-A", 1, start, None);
    let observed = provisioned(&net, &mut w, start);

    let changed = rebuilt(&w, |t| {
        t.target(TargetIdentifier::username("alice").unwrap())
    })
    .unwrap();
    let plan = run(
        &net,
        std::slice::from_ref(&changed),
        &observed,
        secs(start, 1),
    );
    assert_eq!(
        sent(&net, &plan),
        vec![("mdf", "ModifyTask"), ("poi-1", "ModifyTask")]
    );
    let RequestBody::ModifyTask(task) = &plan.requests[1].body else {
        panic!("{:?}", plan.requests[1])
    };
    assert_eq!(task.targets, changed.task.targets());
    assert!(plan.activate.is_empty(), "it is active already");

    // a new HI2 address: the destination is modified before the task (whose DIDs stay)
    let moved = with_agency(&w, |a| a.hi2.port = 6101);
    let plan = run(&net, &[moved], &observed, secs(start, 1));
    assert_eq!(sent(&net, &plan), vec![("mdf", "ModifyDestination")]);
    let RequestBody::ModifyDestination(d) = &plan.requests[0].body else {
        panic!()
    };
    assert_eq!(
        d.delivery_address,
        DeliveryAddress::Uri("tls://198.51.100.1:6101?handover=etsi-102232:43:18".into())
    );
}

#[test]
fn a_revoked_warrant_goes_from_the_probe_at_once_and_from_the_mediator_after_its_grace() {
    let net = network(1);
    let start = secs(t0(), 600);
    let mut w = warrant("LIID-A", 1, start, None);
    let mut observed = provisioned(&net, &mut w, start);
    w.state = WarrantState::Revoked;

    let now = secs(start, 10);
    let plan = run(&net, std::slice::from_ref(&w), &observed, now);
    assert_eq!(sent(&net, &plan), vec![("poi-1", "DeactivateTask")]);
    assert_eq!(plan.requests[0].liid, Some(w.task.liid()));
    let release = now.checked_add(MEDIATOR_GRACE).unwrap();
    assert_eq!(
        plan.mediator_release,
        BTreeMap::from([(w.task.xid(), release)])
    );
    assert!(plan.wanted.is_empty());
    acknowledge(&mut observed, &plan);

    // the grace counts from when it stopped being wanted, not from each plan
    let plan = run(&net, std::slice::from_ref(&w), &observed, ms(release, -1));
    assert!(plan.requests.is_empty(), "{plan:?}");
    assert_eq!(
        plan.mediator_release,
        BTreeMap::from([(w.task.xid(), release)])
    );

    let plan = run(&net, std::slice::from_ref(&w), &observed, release);
    assert_eq!(
        sent(&net, &plan),
        vec![
            ("mdf", "DeactivateTask"),
            ("mdf", "RemoveDestination"),
            ("mdf", "RemoveDestination")
        ]
    );
    acknowledge(&mut observed, &plan);
    assert!(observed.mediator_release.is_empty());
    assert!(
        observed.nes[MEDIATOR]
            .as_ref()
            .unwrap()
            .destinations
            .is_empty()
    );
    // the probe keeps the mediator's X2/X3 destination
    assert_eq!(observed.nes[1].as_ref().unwrap().destinations.len(), 1);
    assert!(
        run(&net, &[w], &observed, secs(release, 1))
            .requests
            .is_empty()
    );
}

#[test]
fn window_end_plus_grace_retires_the_warrant_and_deactivates_its_tasks() {
    let net = network(1);
    let start = secs(t0(), 600);
    let end = secs(start, 10);
    let mut w = warrant("LIID-A", 1, start, Some(end));
    let observed = provisioned(&net, &mut w, start);

    // the window's end by the ADMF's clock changes nothing (the NEs enforce it by packet
    // time); the grace after it does
    for now in [end, ms(end.checked_add(GRACE).unwrap(), -1)] {
        let plan = run(&net, std::slice::from_ref(&w), &observed, now);
        assert!(plan.requests.is_empty() && plan.retire.is_empty(), "{now}");
    }
    let retire = end.checked_add(GRACE).unwrap();
    let plan = run(&net, std::slice::from_ref(&w), &observed, retire);
    assert_eq!(plan.retire, vec![w.task.liid()]);
    assert_eq!(sent(&net, &plan), vec![("poi-1", "DeactivateTask")]);
    assert_eq!(
        plan.mediator_release,
        BTreeMap::from([(w.task.xid(), retire.checked_add(MEDIATOR_GRACE).unwrap())])
    );
}

// ------------------------------------------------------------------------------------------
// NEs that restarted
// ------------------------------------------------------------------------------------------

#[test]
fn a_restarted_probe_loses_its_stale_tasks_and_gets_the_missing_ones_back() {
    let net = network(1);
    let start = secs(t0(), 600);
    let mut w = warrant("LIID-A", 1, start, None);
    let mut observed = provisioned(&net, &mut w, start);
    // the probe came back with a task nobody wants and without the wanted one
    let stale = Xid::new_v4_from_random([0x5a; 16]);
    let probe = observed.nes[1].as_mut().unwrap();
    probe.tasks.clear();
    probe.destinations.clear();
    probe.tasks.insert(
        stale,
        TaskDetails::new(
            stale,
            vec!["ipv4:198.51.100.7".parse().unwrap()],
            DeliveryType::X2Only,
            vec![net.x2x3_did],
        ),
    );

    let plan = run(&net, std::slice::from_ref(&w), &observed, secs(start, 60));
    assert_eq!(
        sent(&net, &plan),
        vec![
            ("poi-1", "DeactivateTask"),
            ("poi-1", "CreateDestination"),
            ("poi-1", "ActivateTask"),
        ]
    );
    assert_eq!(plan.requests[0].body, RequestBody::DeactivateTask(stale));
    assert_eq!(plan.requests[0].liid, None, "no warrant has it");
    assert_eq!(plan.requests[2].liid, Some(w.task.liid()));
    assert!(plan.activate.is_empty(), "active already");
}

#[test]
fn a_restarted_mediator_gets_its_tasks_back_and_its_stale_ones_go_after_the_grace() {
    let net = network(1);
    let start = secs(t0(), 600);
    let mut w = warrant("LIID-A", 1, start, None);
    let mut observed = provisioned(&net, &mut w, start);
    let stale = Xid::new_v4_from_random([0x5b; 16]);
    let orphan = DestinationId::new_v4_from_random([0x6b; 16]);
    let mediator = observed.nes[MEDIATOR].as_mut().unwrap();
    *mediator = NeContents::default();
    mediator.tasks.insert(
        stale,
        TaskDetails::new(
            stale,
            vec!["ipv4:198.51.100.7".parse().unwrap()],
            DeliveryType::X2Only,
            vec![orphan],
        ),
    );
    mediator.destinations.insert(
        orphan,
        DestinationDetails {
            did: orphan,
            friendly_name: None,
            delivery_type: DeliveryType::X2Only,
            delivery_address: DeliveryAddress::Uri("tcp://192.0.2.99:9".into()),
        },
    );

    let now = secs(start, 60);
    let plan = run(&net, std::slice::from_ref(&w), &observed, now);
    // the wanted task is back; the stale one waits for its grace, and keeps its destination
    assert_eq!(
        sent(&net, &plan),
        vec![
            ("mdf", "CreateDestination"),
            ("mdf", "CreateDestination"),
            ("mdf", "ActivateTask"),
        ]
    );
    acknowledge(&mut observed, &plan);
    let plan = run(
        &net,
        &[w],
        &observed,
        now.checked_add(MEDIATOR_GRACE).unwrap(),
    );
    assert_eq!(
        plan.requests
            .iter()
            .map(|r| r.body.clone())
            .collect::<Vec<_>>(),
        vec![
            RequestBody::DeactivateTask(stale),
            RequestBody::RemoveDestination(orphan)
        ]
    );
}

#[test]
fn an_ne_not_read_back_gets_nothing_and_holds_the_warrant_pending() {
    let net = network(1);
    let start = secs(t0(), 600);
    let w = warrant("LIID-A", 1, start, None);

    // the probe is not known: the mediator is provisioned, the probe's task is held
    let mut observed = empty(&net);
    observed.nes[1] = None;
    let plan = run(&net, std::slice::from_ref(&w), &observed, start);
    assert_eq!(
        sent(&net, &plan),
        vec![
            ("mdf", "CreateDestination"),
            ("mdf", "CreateDestination"),
            ("mdf", "ActivateTask"),
        ]
    );
    assert_eq!(
        plan.held,
        vec![Held {
            ne: Some(1),
            liid: w.task.liid(),
            xid: w.task.xid(),
            reason: HeldReason::NotKnown
        }]
    );
    assert_eq!(plan.held[0].operation(), "ActivateTask");
    assert!(plan.activate.is_empty());

    // the mediator is not known: nothing at all (the probes only after the mediator)
    let mut observed = empty(&net);
    observed.nes[MEDIATOR] = None;
    let plan = run(&net, std::slice::from_ref(&w), &observed, start);
    assert!(plan.requests.is_empty());
    assert_eq!(plan.held.len(), 1);
    assert_eq!(plan.held[0].ne, Some(MEDIATOR));
}

// ------------------------------------------------------------------------------------------
// Revocation during activation, refusals, several NEs, formats
// ------------------------------------------------------------------------------------------

#[test]
fn a_warrant_revoked_during_its_activation_is_not_activated_further() {
    let net = network(1);
    let start = secs(t0(), 600);
    let mut w = warrant("LIID-A", 1, start, None);
    // the mediator acknowledged its part; the probe's part did not go through
    let mut observed = empty(&net);
    let plan = run(&net, std::slice::from_ref(&w), &observed, start);
    let mut progress = Progress::default();
    for r in &plan.requests {
        if progress.gate(r) == Gate::Send {
            let outcome = if r.ne == MEDIATOR {
                Outcome::Done
            } else {
                Outcome::Failed
            };
            progress.record(r, outcome);
        }
    }
    assert_eq!(progress.activated(&plan).count(), 0);
    let mediator_part = Plan {
        requests: plan
            .requests
            .iter()
            .filter(|r| r.ne == MEDIATOR)
            .cloned()
            .collect(),
        ..plan.clone()
    };
    acknowledge(&mut observed, &mediator_part);
    observed.nes[1] = Some(NeContents::default()); // read back again, still empty

    // revoked before the next sync: nothing more is activated, the mediator's task goes
    // after its grace
    w.state = WarrantState::Revoked;
    let now = secs(start, 1);
    let plan = run(&net, std::slice::from_ref(&w), &observed, now);
    assert!(plan.requests.is_empty(), "{plan:?}");
    assert!(plan.activate.is_empty());
    let release = now.checked_add(MEDIATOR_GRACE).unwrap();
    assert_eq!(
        plan.mediator_release,
        BTreeMap::from([(w.task.xid(), release)])
    );
    acknowledge(&mut observed, &plan);
    let plan = run(&net, std::slice::from_ref(&w), &observed, release);
    assert_eq!(
        plan.requests[0].body,
        RequestBody::DeactivateTask(w.task.xid())
    );
    assert_eq!(plan.requests[0].ne, MEDIATOR);
}

#[test]
fn a_refused_task_is_not_resent_before_its_retry_time_and_at_once_when_changed() {
    let net = network(1);
    let start = secs(t0(), 600);
    let w = warrant("LIID-A", 1, start, None);
    let mut observed = empty(&net);
    let first = run(&net, std::slice::from_ref(&w), &observed, start);
    // everything acknowledged but the probe's task, which it refused
    let probe_task = warrant_tasks(&w, &net).unwrap().probe_task;
    acknowledge(
        &mut observed,
        &Plan {
            requests: first.requests[..4].to_vec(),
            ..first.clone()
        },
    );
    assert!(
        observed
            .refusals
            .record(1, &probe_task, "error 3: unsupported", start, BASE)
    );

    // before the back-off: held, the warrant stays pending, nothing else is blocked
    let other = warrant("LIID-B", 2, start, None);
    let plan = run(&net, &[w.clone(), other.clone()], &observed, ms(start, 999));
    assert_eq!(
        sent(&net, &plan),
        vec![("mdf", "ActivateTask"), ("poi-1", "ActivateTask")]
    );
    assert!(
        plan.requests
            .iter()
            .all(|r| r.liid == Some(other.task.liid()))
    );
    assert_eq!(plan.activate, vec![other.task.liid()]);
    assert_eq!(
        plan.held,
        vec![Held {
            ne: Some(1),
            liid: w.task.liid(),
            xid: w.task.xid(),
            reason: HeldReason::Refused {
                operation: RequestMessageType::ActivateTask,
                reason: "error 3: unsupported".into(),
                retry_at: secs(start, 1),
            }
        }]
    );
    assert_eq!(
        plan.held[0].reason.to_string(),
        format!(
            "refused: error 3: unsupported (offered again at {}, or when the warrant changes)",
            secs(start, 1)
        )
    );

    // at its retry time: sent again
    let plan = run(&net, std::slice::from_ref(&w), &observed, secs(start, 1));
    assert_eq!(sent(&net, &plan), vec![("poi-1", "ActivateTask")]);
    assert_eq!(plan.activate, vec![w.task.liid()]);
    // refused again: the back-off doubles, and it is not a new refusal
    assert!(!observed.refusals.record(
        1,
        &probe_task,
        "error 3: unsupported",
        secs(start, 1),
        BASE
    ));
    assert_eq!(observed.refusals.get(1, w.task.xid()).unwrap().attempts, 2);
    let plan = run(
        &net,
        std::slice::from_ref(&w),
        &observed,
        ms(secs(start, 3), -1),
    );
    assert!(plan.requests.is_empty());
    let plan = run(&net, std::slice::from_ref(&w), &observed, secs(start, 3));
    assert_eq!(sent(&net, &plan), vec![("poi-1", "ActivateTask")]);

    // changed: offered at once, and the mediator's task is modified first
    let changed = rebuilt(&w, |t| {
        t.clear_targets()
            .target("ipv4:192.0.2.200".parse().unwrap())
    })
    .unwrap();
    let plan = run(&net, &[changed], &observed, secs(start, 2));
    assert_eq!(
        sent(&net, &plan),
        vec![("mdf", "ModifyTask"), ("poi-1", "ActivateTask")]
    );
    assert!(plan.held.is_empty());
}

#[test]
fn refusal_back_off_doubles_up_to_its_ceiling() {
    let task = TaskDetails::new(
        Xid::new_v4_from_random([1; 16]),
        vec!["ipv4:192.0.2.1".parse().unwrap()],
        DeliveryType::X2Only,
        Vec::new(),
    );
    let mut refusals = Refusals::default();
    let now = t0();
    let mut delays = Vec::new();
    for i in 0..12 {
        let is_new = refusals.record(2, &task, "no", now, BASE);
        assert_eq!(is_new, i == 0);
        let r = refusals.get(2, task.xid).unwrap();
        delays.push(r.retry_at.duration_since(now).unwrap().as_secs());
    }
    assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
    // another reason is a new refusal (recorded and audited again), the same task's count
    // goes on
    assert!(refusals.record(2, &task, "other", now, BASE));
    assert_eq!(refusals.get(2, task.xid).unwrap().attempts, 13);
    // another task starts over
    let mut changed = task.clone();
    changed.targets = vec!["ipv4:192.0.2.2".parse().unwrap()];
    assert!(refusals.record(2, &changed, "other", now, BASE));
    assert_eq!(refusals.get(2, task.xid).unwrap().attempts, 1);
    assert!(refusals.held(2, &changed, now).is_some());
    assert!(refusals.held(2, &task, now).is_none(), "not that task");
    assert!(refusals.held(1, &changed, now).is_none(), "not that NE");
    refusals.retain_wanted(&BTreeSet::new());
    assert!(refusals.is_empty());
}

#[test]
fn several_probes_each_get_only_their_own_requests() {
    let net = network(2);
    let start = secs(t0(), 600);
    let a = warrant("LIID-A", 1, start, None);
    let mut observed = empty(&net);
    // poi-2 has the X2/X3 destination already, poi-1 does not
    let tasks = warrant_tasks(&a, &net).unwrap();
    observed.nes[2]
        .as_mut()
        .unwrap()
        .destinations
        .insert(net.x2x3_did, tasks.probe_destination.clone());

    let plan = run(&net, std::slice::from_ref(&a), &observed, start);
    assert_eq!(
        sent(&net, &plan),
        vec![
            ("mdf", "CreateDestination"),
            ("mdf", "CreateDestination"),
            ("mdf", "ActivateTask"),
            ("poi-1", "CreateDestination"),
            ("poi-1", "ActivateTask"),
            ("poi-2", "ActivateTask"),
        ]
    );
    for r in &plan.requests {
        match (&r.body, r.ne) {
            (RequestBody::ActivateTask(t), MEDIATOR) => assert_eq!(*t, tasks.mediator_task),
            (RequestBody::ActivateTask(t), _) => assert_eq!(*t, tasks.probe_task),
            (RequestBody::CreateDestination(d), MEDIATOR) => {
                assert_ne!(d.did, net.x2x3_did);
            }
            (RequestBody::CreateDestination(d), _) => assert_eq!(*d, tasks.probe_destination),
            (other, _) => panic!("{other:?}"),
        }
    }
    assert_eq!(plan.activate, vec![a.task.liid()]);

    // only poi-2 lost its task: only poi-2 is asked
    acknowledge(&mut observed, &plan);
    observed.nes[2].as_mut().unwrap().tasks.clear();
    let plan = run(&net, &[a], &observed, secs(start, 1));
    assert_eq!(sent(&net, &plan), vec![("poi-2", "ActivateTask")]);
}

#[test]
fn an_agency_format_the_suite_cannot_produce_is_refused_and_never_delivered_otherwise() {
    let net = network(1);
    let start = secs(t0(), 600);
    let w = with_agency(&warrant("LIID-P", 1, start, None), |a| {
        a.format = HandoverFormat::PacketCable { version: 7 };
    });
    let plan = run(&net, std::slice::from_ref(&w), &empty(&net), start);
    assert!(plan.requests.is_empty(), "{plan:?}");
    assert!(plan.activate.is_empty() && plan.wanted.is_empty());
    assert_eq!(plan.held.len(), 1);
    let held = &plan.held[0];
    assert_eq!(
        (held.ne, held.liid, held.operation()),
        (None, w.task.liid(), "plan")
    );
    let HeldReason::Unprovisionable(e) = &held.reason else {
        panic!("{held:?}")
    };
    assert_eq!(
        *e,
        ProvisioningError::UnsupportedFormat {
            agency: "LEA-1".into(),
            format: HandoverFormat::PacketCable { version: 7 }
        }
    );
    assert!(
        e.to_string().starts_with(
            "agency LEA-1: handover format packetcable:7 is not produced by this suite"
        ),
        "{e}"
    );

    // an ETSI version li-asn1 does not encode is refused too
    let newer = with_agency(&warrant("LIID-O", 2, start, None), |a| {
        a.format = HandoverFormat::Etsi102232 {
            ps_pdu_version: 44,
            ip_access_version: 16,
            ip_multimedia_version: 14,
        };
    });
    let plan = run(&net, &[newer], &empty(&net), start);
    assert!(plan.requests.is_empty());
    assert!(
        plan.held[0]
            .reason
            .to_string()
            .contains("handover format etsi-102232:44:16 is not produced by this suite"),
        "{:?}",
        plan.held
    );

    // a provisioned warrant changed to such a format: its tasks go, none is modified
    let mut ok = warrant("LIID-A", 3, start, None);
    let observed = provisioned(&net, &mut ok, start);
    let ok = with_agency(&ok, |a| {
        a.format = HandoverFormat::Atis1000013 { version: 2 }
    });
    let plan = run(&net, &[ok], &observed, secs(start, 1));
    assert_eq!(sent(&net, &plan), vec![("poi-1", "DeactivateTask")]);
    assert_eq!(plan.held.len(), 1);

    assert!(HeaderSettings::encodes(HandoverFormat::etsi_default()));
    for format in [
        HandoverFormat::Etsi102232 {
            ps_pdu_version: 44,
            ip_access_version: 18,
            ip_multimedia_version: 14,
        },
        HandoverFormat::Etsi102232 {
            ps_pdu_version: 43,
            ip_access_version: 19,
            ip_multimedia_version: 14,
        },
        HandoverFormat::Atis1000678 { version: 1 },
        HandoverFormat::PacketCable { version: 7 },
        HandoverFormat::Atis1000013 { version: 2 },
    ] {
        assert!(!crate::mediator::produces(format), "{format:?}");
    }
    // ATIS-1000013 is produced, in its one version; a warrant whose LIID cannot be an ATIS
    // caseId is refused for such an agency, naming why.
    assert!(crate::mediator::produces(HandoverFormat::Atis1000013 {
        version: 1
    }));
    let w = with_agency(&warrant("LIID\u{7f}", 4, start, None), |a| {
        a.format = HandoverFormat::Atis1000013 { version: 1 }
    });
    let plan = run(&net, &[w], &empty(&net), start);
    assert!(plan.requests.is_empty());
    let reason = plan.held[0].reason.to_string();
    assert!(reason.contains("cannot be an ATIS caseId"), "{reason}");
    // An agency whose format carries none of the warrant's targets' traffic (an address
    // warrant to a VoIP agency) is refused, not accepted to deliver nothing.
    let w = with_agency(&warrant("LIID-VOIP", 5, start, None), |a| {
        a.format = HandoverFormat::Atis1000678 { version: 2 }
    });
    let plan = run(&net, &[w], &empty(&net), start);
    assert!(plan.requests.is_empty());
    let reason = plan.held[0].reason.to_string();
    assert!(reason.contains("ATIS-1000678 carries calls"), "{reason}");
}

/// Issue 14: a PacketCable agency gets its call data over TLS (as its `tls` says) and its call
/// content as UDP datagrams (`udp://`), and a LIID that cannot be a PacketCable caseId holds
/// the warrant, naming why.
#[test]
fn a_packetcable_agency_gets_tls_call_data_and_udp_content() {
    let net = network(1);
    let start = secs(t0(), 600);
    let packetcable = HandoverFormat::PacketCable { version: 3 };
    let on_sip = |liid: &str| {
        let w = warrant(liid, 7, start, None);
        let task = Task::new(
            w.task.liid(),
            w.task.xid(),
            vec!["sip:alice@voice.example".parse().unwrap()],
            InterceptScope::IriAndCc,
            w.task.window(),
            w.task.destinations().to_vec(),
        )
        .unwrap();
        with_agency(&Warrant::new(task, t0()).unwrap(), |a| {
            a.format = packetcable;
        })
    };
    let tasks = warrant_tasks(&on_sip("LIID-CABLE"), &net).unwrap();
    let read: Vec<HiAddress> = tasks
        .hi_destinations
        .iter()
        .map(|d| HiAddress::from_x1(&d.delivery_address).unwrap())
        .collect();
    assert_eq!(
        read.iter()
            .map(|a| (a.transport, a.format))
            .collect::<Vec<_>>(),
        [
            (HiTransport::Tls, packetcable),
            (HiTransport::Udp, packetcable)
        ]
    );
    let plan = run(&net, &[on_sip("LIID\u{7f}")], &empty(&net), start);
    assert!(plan.requests.is_empty());
    let reason = plan.held[0].reason.to_string();
    assert!(reason.contains("cannot be an ATIS caseId"), "{reason}");
}

#[test]
fn an_unusable_hi_address_is_refused_by_the_admf() {
    let net = network(1);
    let w = with_agency(&warrant("LIID-H", 1, t0(), None), |a| {
        a.hi2.host = "lea.example".into();
    });
    assert_eq!(
        warrant_tasks(&w, &net).unwrap_err().to_string(),
        "agency LEA-1 HI2: \"lea.example\" is not an IP address (the mediator needs one)"
    );
    let plan = run(&net, &[w], &empty(&net), t0());
    assert!(plan.requests.is_empty());
    assert!(matches!(
        plan.held[0].reason,
        HeldReason::Unprovisionable(ProvisioningError::NotAnIpAddress { .. })
    ));
}

// ------------------------------------------------------------------------------------------
// Sending a plan: what still goes after a failure
// ------------------------------------------------------------------------------------------

#[test]
fn a_failure_at_the_mediator_holds_back_that_warrants_probe_task_only() {
    let net = network(1);
    let start = secs(t0(), 600);
    let a = warrant("LIID-A", 1, start, None);
    let b = warrant("LIID-B", 2, start, None);
    let plan = run(&net, &[a.clone(), b.clone()], &empty(&net), start);
    assert_eq!(
        sent(&net, &plan),
        vec![
            ("mdf", "CreateDestination"),
            ("mdf", "CreateDestination"),
            ("mdf", "ActivateTask"),
            ("poi-1", "CreateDestination"),
            ("poi-1", "ActivateTask"),
            ("mdf", "ActivateTask"),
            ("poi-1", "ActivateTask"),
        ]
    );
    // the mediator refuses A's task: A's probe task is not sent (unreported), B goes on
    let mut progress = Progress::default();
    let mut gates = Vec::new();
    for (i, r) in plan.requests.iter().enumerate() {
        let gate = progress.gate(r);
        gates.push(gate);
        if gate == Gate::Send {
            let outcome = if i == 2 {
                Outcome::Refused
            } else {
                Outcome::Done
            };
            progress.record(r, outcome);
        }
    }
    let skip = Gate::Skip { report: false };
    assert_eq!(
        gates,
        [
            Gate::Send,
            Gate::Send,
            Gate::Send,
            Gate::Send,
            skip,
            Gate::Send,
            Gate::Send
        ]
    );
    assert_eq!(
        progress.activated(&plan).collect::<Vec<_>>(),
        vec![b.task.liid()]
    );
}

#[test]
fn after_a_failed_request_nothing_more_goes_to_that_ne() {
    let net = network(2);
    let start = secs(t0(), 600);
    let a = warrant("LIID-A", 1, start, None);
    let b = warrant("LIID-B", 2, start, None);
    let plan = run(&net, &[a.clone(), b.clone()], &empty(&net), start);
    // poi-1 fails A's X2/X3 destination: A's and B's tasks there are not sent, B's is
    // reported (A has its failure already); poi-2 and the mediator go on
    let mut progress = Progress::default();
    let mut skipped = Vec::new();
    for r in &plan.requests {
        match progress.gate(r) {
            Gate::Send => {
                let fails = r.ne == 1 && matches!(r.body, RequestBody::CreateDestination(_));
                progress.record(
                    r,
                    if fails {
                        Outcome::Failed
                    } else {
                        Outcome::Done
                    },
                );
            }
            Gate::Skip { report } => skipped.push((r.ne, r.liid.unwrap(), report)),
        }
    }
    assert_eq!(
        skipped,
        vec![(1, a.task.liid(), false), (1, b.task.liid(), true)]
    );
    assert_eq!(progress.activated(&plan).count(), 0);
    // a removal with no warrant is skipped silently
    let removal = Request {
        ne: 1,
        body: RequestBody::RemoveDestination(net.x2x3_did),
        liid: None,
        after_mediator: false,
    };
    assert_eq!(progress.gate(&removal), Gate::Skip { report: false });
}

// ------------------------------------------------------------------------------------------
// Read-back schedule
// ------------------------------------------------------------------------------------------

#[test]
fn read_backs_back_off_while_they_fail_and_recur_when_periodic() {
    let base = Duration::from_millis(20);
    let every = Some(Duration::from_secs(60));
    let mut rb = ReadBack::default();
    let now = t0();
    // not known yet: at once
    assert!(rb.due(false, now, None));
    // failing: after the base, doubling up to the ceiling
    let mut delays = Vec::new();
    let mut at = now;
    for _ in 0..14 {
        let delay = rb.failed(at, base);
        delays.push(delay.as_millis());
        assert!(
            !rb.due(
                false,
                at.checked_add(delay)
                    .unwrap()
                    .checked_sub(Duration::from_millis(1))
                    .unwrap(),
                every
            )
        );
        at = at.checked_add(delay).unwrap();
        assert!(rb.due(false, at, every));
    }
    assert_eq!(
        delays,
        [
            20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10240, 20480, 30000, 30000, 30000
        ]
    );
    // read: known, not due until the period has passed (never without one)
    rb.succeeded(at);
    assert!(!rb.due(true, at, every));
    assert!(!rb.due(true, secs(at, 59), every));
    assert!(rb.due(true, secs(at, 60), every));
    assert!(!rb.due(true, secs(at, 6000), None));
    // not known again (a request failed): at once, no back-off after a success
    assert!(rb.due(false, at, None));
    assert_eq!(rb.failed(at, base), base, "the back-off starts over");
}

// ------------------------------------------------------------------------------------------
// Edges
// ------------------------------------------------------------------------------------------

#[test]
fn next_edge_is_the_next_lead_or_retirement() {
    let start = secs(t0(), 600);
    let end = secs(start, 10);
    let mut w = warrant("LIID-A", 1, start, Some(end));
    let from = start.checked_sub(LEAD).unwrap();
    let retire = end.checked_add(GRACE).unwrap();
    assert_eq!(retire_at(&w, GRACE), Some(retire));
    assert_eq!(next_edge([&w], t0(), LEAD, GRACE), Some(from));
    assert_eq!(next_edge([&w], from, LEAD, GRACE), Some(retire));
    assert_eq!(next_edge([&w], retire, LEAD, GRACE), None);
    w.state = WarrantState::Revoked;
    assert_eq!(next_edge([&w], t0(), LEAD, GRACE), None);
    assert_eq!(disposition(&w, start, LEAD, GRACE), Disposition::Done);
}

#[test]
fn hi3_did_is_derived_from_the_hi2_did() {
    let a: DestinationId = "11111111-1111-4111-9111-111111111111".parse().unwrap();
    assert_eq!(
        hi3_did(a).to_string(),
        "9f48b42d-f60e-84f9-85f9-3e691e97dc12"
    );
    assert_eq!(hi3_did(a).version(), 8);
}

#[test]
fn hi3_did_is_stable_distinct_and_version_8() {
    let a: DestinationId = "11111111-1111-4111-9111-111111111111".parse().unwrap();
    let b: DestinationId = "22222222-2222-4222-a222-222222222222".parse().unwrap();
    assert_eq!(hi3_did(a), hi3_did(a));
    // computed independently: SHA-256(octets || "HI3")[..16], version 8, variant 10
    assert_eq!(
        hi3_did(a).to_string(),
        "9f48b42d-f60e-84f9-85f9-3e691e97dc12"
    );
    assert_ne!(hi3_did(a), a);
    assert_ne!(hi3_did(a), hi3_did(b));
    assert_ne!(hi3_did(hi3_did(a)), hi3_did(a));
    for did in [hi3_did(a), hi3_did(b)] {
        assert_eq!(did.version(), 8);
        assert_eq!(did.as_bytes()[8] >> 6, 0b10);
    }
}

#[test]
fn the_decision_provisions_a_lead_ahead_and_retires_a_grace_after() {
    let base = Timestamp::from_secs_micros(1_800_000_000, 0).unwrap();
    let (lead, grace) = (Duration::from_secs(60), Duration::from_secs(60));
    let start = secs(base, 600);
    let end = secs(start, 10);
    let one_ms = Duration::from_millis(1);
    // any agency will do for the decision
    let task = Task::new(
        "LIID-D".parse().unwrap(),
        Xid::new_v4_from_random([40; 16]),
        vec!["ipv4:192.0.2.1".parse().unwrap()],
        InterceptScope::IriOnly,
        ValidityWindow::new(start, Some(end)).unwrap(),
        vec![agency(1)],
    )
    .unwrap();
    let mut w = Warrant::new(task, base).unwrap();
    let from = secs(start, -60);
    let d = |now| disposition(&w, now, lead, grace);
    // 1 ms either side of the provisioning edge and of the retirement edge
    assert_eq!(
        d(from.checked_sub(one_ms).unwrap()),
        Disposition::Wait { from }
    );
    assert_eq!(d(from), Disposition::Provision);
    assert_eq!(d(start), Disposition::Provision);
    assert_eq!(d(end), Disposition::Provision);
    let retire = secs(end, 60);
    assert_eq!(
        d(retire.checked_sub(one_ms).unwrap()),
        Disposition::Provision
    );
    assert_eq!(d(retire), Disposition::Retire);
    assert_eq!(next_edge([&w], base, lead, grace), Some(from));
    assert_eq!(next_edge([&w], from, lead, grace), Some(retire));
    assert_eq!(next_edge([&w], retire, lead, grace), None);
    w.state = WarrantState::Revoked;
    assert_eq!(disposition(&w, start, lead, grace), Disposition::Done);

    // entered after its window (a replay, --allow-past): provisioned at once, for the grace
    let mut past = rebuilt(&w, |t| {
        t.window(ValidityWindow::new(secs(base, -7200), Some(secs(base, -3600))).unwrap())
    })
    .unwrap();
    past.state = WarrantState::Pending;
    let d = |now| disposition(&past, now, lead, grace);
    assert_eq!(d(base), Disposition::Provision);
    assert_eq!(d(secs(base, 59)), Disposition::Provision);
    assert_eq!(d(secs(base, 60)), Disposition::Retire);
    // an open window never retires
    let past = rebuilt(&past, |t| {
        t.window(ValidityWindow::new(secs(base, -7200), None).unwrap())
    })
    .unwrap();
    assert_eq!(
        disposition(&past, secs(base, 1_000_000), lead, grace),
        Disposition::Provision
    );
}

/// Issue 12: the format an agency is entered with travels to the mediator in its X1
/// destinations (read back by the mediator as the same [`HiAddress`]), so an agency on an
/// older ETSI version gets that version; only the format changing modifies the destination.
#[test]
fn the_agencys_format_travels_to_the_mediator_in_its_destinations() {
    let net = network(1);
    let start = secs(t0(), 600);
    let older = HandoverFormat::Etsi102232 {
        ps_pdu_version: 20,
        ip_access_version: 9,
        ip_multimedia_version: 14,
    };
    let mut w = with_agency(&warrant("LIID-F", 1, start, None), |a| a.format = older);
    let tasks = warrant_tasks(&w, &net).unwrap();
    let read: Vec<_> = tasks
        .hi_destinations
        .iter()
        .map(|d| HiAddress::from_x1(&d.delivery_address).unwrap())
        .collect();
    assert_eq!(
        read,
        vec![
            HiAddress {
                transport: HiTransport::Tls,
                addr: "198.51.100.1:6001".parse().unwrap(),
                format: older,
            },
            HiAddress {
                transport: HiTransport::PlainTcp,
                addr: "198.51.100.1:7001".parse().unwrap(),
                format: older,
            },
        ]
    );

    let observed = provisioned(&net, &mut w, start);
    let newer = with_agency(&w, |a| a.format = HandoverFormat::etsi_default());
    let plan = run(&net, &[newer], &observed, secs(start, 1));
    assert_eq!(
        sent(&net, &plan),
        vec![("mdf", "ModifyDestination"), ("mdf", "ModifyDestination")]
    );
    let RequestBody::ModifyDestination(d) = &plan.requests[0].body else {
        panic!()
    };
    assert_eq!(
        HiAddress::from_x1(&d.delivery_address).unwrap().format,
        HandoverFormat::etsi_default()
    );
}
