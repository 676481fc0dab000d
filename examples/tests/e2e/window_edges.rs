//! Issue 11, window edges with X1 latency injected: the real ADMF provisions the real probe
//! and mediator through a relay that holds every X1 chunk for a latency, on a timeline the
//! test steps itself (no sleep, no wall-clock bound): the ADMF's syncs, the X1 chunks
//! reaching their NE and the packets reaching the probe happen in the order of their times.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use li_capture::LinkType;
use li_capture::source::PcapWriter;
use li_capture::synth::packet::{IpParams, ip_packet};
use li_handover::admf::{Admf, SyncReport};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::*;

/// The latency of every X1 chunk on its way to the NE: the longest the issue measured.
const LATENCY: Duration = Duration::from_millis(48);

/// A chunk the relay holds: released, it goes on to the NE.
type Hold = oneshot::Sender<()>;

/// A TCP relay to `to` (TLS passes through untouched) that holds every chunk the client
/// sends until the timeline releases it ([`Timeline::sync`]); the NE's answers pass at once.
async fn delaying_relay(to: SocketAddr, holds: mpsc::UnboundedSender<Hold>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let holds = holds.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(to).await else {
                    return;
                };
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, mut to_server) = server.into_split();
                let up = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n @ 1..) = from_client.read(&mut buf).await {
                        let (hold, released) = oneshot::channel();
                        if holds.send(hold).is_err() || released.await.is_err() {
                            break;
                        }
                        if to_server.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = to_server.shutdown().await;
                };
                let down = async {
                    let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                    let _ = to_client.shutdown().await;
                };
                tokio::join!(up, down);
            });
        }
    });
    addr
}

/// The test's clock, and what happens at its times: packets reaching the probe (each a
/// one-frame capture replayed, rebased to its time) and X1 chunks reaching their NE.
struct Timeline<'a> {
    now: Timestamp,
    holds: mpsc::UnboundedReceiver<Hold>,
    /// The packets not replayed yet, in time order.
    traffic: VecDeque<(Timestamp, PathBuf)>,
    /// Whose probe the packets reach.
    system: &'a System,
    /// X1 chunks released, each `LATENCY` after the previous event.
    released: u32,
}

impl Timeline<'_> {
    /// Moves the clock to `t` (never back), replaying in order every packet stamped at or
    /// before it.
    async fn advance(&mut self, t: Timestamp) {
        while let Some((at, path)) = self.traffic.front().cloned() {
            if at > t {
                break;
            }
            let report = self.system.replay(&path, Some(at)).await.unwrap();
            assert_eq!(
                (report.counters.frames, report.first_timestamp),
                (1, Some(at))
            );
            self.traffic.pop_front();
        }
        self.now = self.now.max(t);
    }

    /// The ADMF's sync at the clock's time. Every X1 chunk it sends reaches its NE
    /// `LATENCY` after the clock's time when it was sent: the packets before then reach the
    /// probe first.
    async fn sync(&mut self, admf: &Admf) -> SyncReport {
        let sync = admf.sync(self.now);
        tokio::pin!(sync);
        loop {
            tokio::select! {
                report = &mut sync => return report.unwrap(),
                Some(hold) = self.holds.recv() => {
                    let due = self.now.checked_add(LATENCY).unwrap();
                    self.advance(due).await;
                    self.released += 1;
                    let _ = hold.send(());
                }
            }
        }
    }
}

/// A capture of one IPv4 packet from `source`, recorded at `recorded`.
fn one_packet(dir: &Path, name: &str, recorded: Timestamp, source: [u8; 4]) -> PathBuf {
    let mut writer = PcapWriter::new(Vec::new(), LinkType::RawIp, false).unwrap();
    let params = IpParams {
        ttl: 64,
        id: 0,
        df: true,
    };
    let destination = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    // protocol 253: reserved for experimentation (RFC 3692)
    let packet = ip_packet(source.into(), destination, 253, params, Vec::new());
    writer.write_frame(recorded, &packet).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, writer.into_inner()).unwrap();
    path
}

/// Issue 11: the ADMF provisioned a task once its window had begun and the probe got it
/// 6-48 ms later, missing the packets at the start. With the default provisioning lead and
/// deactivation grace (those the configuration docs state: a minute each), 48 ms of latency
/// on every X1 chunk, the ADMF syncing 1 ms before the lead, at the lead, at the window's
/// edges and after the grace: of the traffic 1 ms either side of each edge, exactly the two
/// packets inside reach the agency as CC, with IRI begin and end stamped with the edges.
/// (With a lead of 0 the task reaches the probe after the start, late by the latency of its
/// requests, and the packet 1 ms after the start is lost.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_x1_latency_exactly_the_packets_inside_the_window_reach_the_agency() {
    let system = System::start(&SystemOptions::new(run_dir("x1-latency")))
        .await
        .unwrap();
    let dir = system.dir.clone();

    // A second ADMF on the same configuration, its X1 to both NEs through the relay.
    let mut config = system.admf_config.clone();
    let (holds_tx, holds) = mpsc::unbounded_channel();
    config.mediator.x1 = delaying_relay(config.mediator.x1, holds_tx.clone()).await;
    config.probes[0].x1 = delaying_relay(config.probes[0].x1, holds_tx).await;
    config.database = "admf-latency.db".into();
    config.audit_log = "admf-latency-audit.log".into();
    let admf = li_examples::admf::open(&config, &dir).unwrap();
    // The demo's ADMF configuration leaves the lead and the grace at their defaults, a
    // minute each (what the docs state: `admf::tests::config_defaults_and_refusals`).
    let timing = admf.settings().timing;
    let minute = Duration::from_secs(60);
    assert_eq!(
        (timing.provision_lead, timing.deactivation_grace),
        (minute, minute)
    );

    // A window an hour ahead of the wall clock (which the probe's ticker follows), ten
    // seconds long, on 192.0.2.7.
    let at = |t: Timestamp, d: Duration| t.checked_add(d).unwrap();
    let before = |t: Timestamp, d: Duration| t.checked_sub(d).unwrap();
    let one_ms = Duration::from_millis(1);
    let start = at(li_examples::admf::now(), Duration::from_secs(3600));
    let end = at(start, Duration::from_secs(10));
    let warrant = system
        .warrant(
            "EDGES",
            &["ipv4:192.0.2.7"],
            InterceptScope::IriAndCc,
            (start, Some(end)),
            &["LEA-1"],
        )
        .unwrap();
    admf.create_warrant(&warrant).unwrap();

    // The traffic, recorded a year earlier and replayed rebased to 1 ms either side of
    // each edge.
    let recorded = Timestamp::from_secs_micros(1_700_000_000, 0).unwrap();
    let times = [
        before(start, one_ms),
        at(start, one_ms),
        before(end, one_ms),
        at(end, one_ms),
    ];
    let traffic = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let name = format!("edge-{i}.pcap");
            let file_time = at(recorded, t.duration_since(times[0]).unwrap());
            (*t, one_packet(&dir, &name, file_time, [192, 0, 2, 7]))
        })
        .collect();
    let provision_at = before(start, timing.provision_lead);
    let mut timeline = Timeline {
        now: before(provision_at, Duration::from_secs(1)),
        holds,
        traffic,
        system: &system,
        released: 0,
    };

    // 1 ms before the lead: the NEs read back, nothing provisioned.
    timeline.advance(before(provision_at, one_ms)).await;
    let report = timeline.sync(&admf).await;
    assert!(report.failures.is_empty(), "{report}");
    assert!(report.tasks_activated.is_empty(), "{report}");
    // At the lead: provisioned, every request late by the latency.
    timeline.advance(provision_at).await;
    let released = timeline.released;
    let report = timeline.sync(&admf).await;
    assert!(report.failures.is_empty(), "{report}");
    assert_eq!(report.activated, [warrant.task.liid()], "{report}");
    let requests = report.destinations_created.len() + report.tasks_activated.len();
    assert!(requests >= 4, "{report}");
    assert!(timeline.released - released >= requests as u32);
    // The window's edges by the ADMF's clock change nothing.
    for t in [start, end] {
        timeline.advance(t).await;
        let report = timeline.sync(&admf).await;
        assert!(report.is_empty(), "{t}: {report}");
    }
    // The rest of the traffic; what it yielded is delivered before the grace is over.
    timeline
        .advance(before(at(end, timing.deactivation_grace), one_ms))
        .await;
    assert!(timeline.traffic.is_empty());
    system.wait_delivered(WAIT).await.unwrap();
    // A grace after the end the probe's task goes, the mediator's a mediator grace later.
    timeline.advance(at(end, timing.deactivation_grace)).await;
    let report = timeline.sync(&admf).await;
    assert_eq!(report.ended, [warrant.task.liid()], "{report}");
    timeline
        .advance(at(timeline.now, timing.mediator_grace))
        .await;
    let report = timeline.sync(&admf).await;
    assert_eq!(report.tasks_deactivated.len(), 1, "{report}");
    assert!(report.failures.is_empty(), "{report}");

    let refused = system.mediator.mediator.stats().refused();
    let summaries = system.shutdown().await;
    let summary = &summaries[0].1;
    let got = records(summary, "EDGES");
    let timed = |kind: &str| {
        got.iter()
            .filter(|r| r["kind"] == kind)
            .map(|r| r["time"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // exactly the packets inside the window, and the IRI of its edges
    assert_eq!(timed("cc"), [times[1].to_string(), times[2].to_string()]);
    assert_eq!(iri_types(&got), ["iRI-Begin", "iRI-End"]);
    assert_eq!(timed("iri"), [start.to_string(), end.to_string()]);
    no_gaps(summary, "EDGES");
    assert!(refused.is_empty(), "{refused:?}");
}
