//! The whole chain in one process, on loopback, with real mutual TLS everywhere: the agencies'
//! receivers (`li-lemf`), the mediator (`li-mediator`), a probe (`li-probe`) and the
//! administration function (`li-admf`), each started from a TOML configuration written into
//! the run directory (so every daemon can also be run from it by hand), provisioned over X1.
//!
//! `li-demo` and the end-to-end tests are built on [`System`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use li_capture::probe::{DeliveryReport, ReplayOptions, ReplayReport};
use li_core::{
    HandoverFormat, InterceptScope, Liid, TargetIdentifier, Task, Timestamp, ValidityWindow,
};
use li_handover::admf::store::{StoreError, Warrant};
use li_handover::admf::{Admf, SyncReport};
use li_handover::lemf::{RunningReceiver, Summary};
use tokio::sync::watch;

use crate::admf::{AdmfConfig, random_xid};
use crate::cli::load_toml;
use crate::lemf::LemfConfig;
use crate::mediator::{MediatorConfig, RunningMediator};
use crate::probe::{self, ProbeConfig};

/// The UUID of the probes' X2/X3 destination (the mediator) in the demo, the benchmark and
/// the end-to-end tests.
pub const X2X3_DID: &str = "6d3f4c1e-0b7a-4e55-9c2d-000000000001";

/// An agency of the demo.
#[derive(Clone, Debug)]
pub struct AgencyOptions {
    /// Its name (warrants name it).
    pub name: String,
    /// Whether its receiver runs from the start; if not, [`System::start_agency`] starts it
    /// later on the same addresses (an agency that is down meanwhile).
    pub up: bool,
    /// The handover format it takes (ETSI by default; `atis-1000013:1` for a US agency).
    pub format: HandoverFormat,
}

impl AgencyOptions {
    /// An ETSI agency, up.
    pub fn etsi(name: &str) -> Self {
        Self {
            name: name.into(),
            up: true,
            format: HandoverFormat::etsi_default(),
        }
    }
}

/// How to run the demo system.
#[derive(Clone, Debug)]
pub struct SystemOptions {
    /// The run directory (emptied first): configurations, PKI, spools, audit logs, the
    /// agencies' output.
    pub dir: PathBuf,
    /// The agencies.
    pub agencies: Vec<AgencyOptions>,
    /// Keep-alive interval of the mediator's agency links (acknowledgement latency), ms.
    pub keepalive_interval_ms: u64,
    /// Grace before the mediator's task is deactivated after the probe's, ms.
    pub mediator_grace_ms: u64,
}

impl SystemOptions {
    /// One agency, `LEA-1`, up.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            agencies: vec![AgencyOptions::etsi("LEA-1")],
            keepalive_interval_ms: 200,
            mediator_grace_ms: 500,
        }
    }
}

/// One agency's receiver and where it listens.
#[derive(Debug)]
pub struct AgencyRuntime {
    /// Its name.
    pub name: String,
    /// Its configuration file.
    pub config_path: PathBuf,
    /// Its output directory.
    pub out_dir: PathBuf,
    /// HI2 and HI3 addresses.
    pub addrs: (SocketAddr, SocketAddr),
    /// The handover format it takes.
    pub format: HandoverFormat,
    /// The running receiver, when up.
    pub running: Option<RunningReceiver>,
}

/// The running chain.
#[derive(Debug)]
pub struct System {
    /// The run directory.
    pub dir: PathBuf,
    /// The agencies.
    pub agencies: Vec<AgencyRuntime>,
    /// The mediator.
    pub mediator: RunningMediator,
    /// The probe.
    pub probe: probe::Running,
    /// The administration function.
    pub admf: Admf,
    /// Its configuration.
    pub admf_config: AdmfConfig,
    stop: watch::Sender<bool>,
}

/// A free loopback port (bound, then released).
fn free_port() -> anyhow::Result<SocketAddr> {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").context("reserving a port")?;
    Ok(socket.local_addr()?)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

const TLS: &str = "cert = \"pki/{name}.pem\"\nkey = \"pki/{name}.key\"\nca = \"pki/ca.pem\"";

/// A TOML table `[section]` naming the development PKI's files of `name` (relative to the
/// run directory).
pub fn tls_table(section: &str, name: &str) -> String {
    format!("[{section}]\n{}\n", TLS.replace("{name}", name))
}

/// Empties (or creates) the run directory `dir`, writes the development PKI into its `pki`
/// directory, and returns its canonical path.
pub fn prepare_run_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot empty {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    crate::admf::dev_certs(&dir.join("pki")).context("writing the development PKI")?;
    Ok(dir)
}

impl System {
    /// Writes the PKI and configurations into `options.dir`, starts the agencies that are
    /// up, the mediator and the probe, and opens the ADMF (nothing provisioned yet).
    pub async fn start(options: &SystemOptions) -> anyhow::Result<Self> {
        let dir = prepare_run_dir(&options.dir)?;
        let (stop, shutdown) = watch::channel(false);

        // The agencies: addresses fixed now, so that a receiver started later listens where
        // the warrants say.
        let mut agencies = Vec::new();
        for agency in &options.agencies {
            let (hi2, hi3) = (free_port()?, free_port()?);
            let out = format!("lemf-{}", agency.name);
            // A PacketCable agency takes its call content as UDP datagrams on the HI3 port
            // (its TCP listener there stays unused).
            let ccc = if matches!(agency.format, HandoverFormat::PacketCable { .. }) {
                format!("ccc_listen = \"{hi3}\"\n")
            } else {
                String::new()
            };
            let text = format!(
                "# li-lemf for {name}\nhi2_listen = \"{hi2}\"\nhi3_listen = \"{hi3}\"\n{ccc}out_dir = \"{out}\"\nkeep_raw = true\n{tls}",
                name = agency.name,
                tls = tls_table("tls", "lemf"),
            );
            let config_path = dir.join(format!("lemf-{}.toml", agency.name));
            write(&config_path, &text)?;
            let mut runtime = AgencyRuntime {
                name: agency.name.clone(),
                config_path,
                out_dir: dir.join(out),
                addrs: (hi2, hi3),
                format: agency.format,
                running: None,
            };
            if agency.up {
                Self::start_receiver(&dir, &mut runtime, shutdown.clone()).await?;
            }
            agencies.push(runtime);
        }

        let mediator_text = format!(
            "# li-mediator\nname = \"mediator\"\noperator_id = \"DEMO-OPERATOR\"\nnetwork_element_id = \"MDF-1\"\n\
             x1_listen = \"127.0.0.1:0\"\nx2x3_listen = \"127.0.0.1:0\"\nadmf_identities = [\"admf\"]\n\
             spool_dir = \"spool\"\naudit_log = \"mediator-audit.log\"\nx2x3_raw_copy = \"x2x3.raw\"\n\
             keepalive_interval_ms = {ka}\nbackoff_min_ms = 50\nbackoff_max_ms = 1000\n{}{}{}",
            tls_table("x1_tls", "mediator"),
            tls_table("x2x3_tls", "mediator"),
            tls_table("hi_tls", "mediator"),
            ka = options.keepalive_interval_ms,
        );
        let mediator_path = dir.join("mediator.toml");
        write(&mediator_path, &mediator_text)?;
        let mediator_config: MediatorConfig = load_toml(&mediator_path)?;
        let mediator = crate::mediator::start(&mediator_config, &dir, shutdown.clone())
            .await
            .context("starting the mediator")?;

        let probe_text = format!(
            "# li-probe (capture: the demo replays the sample itself)\nname = \"probe-1\"\n\
             x1_listen = \"127.0.0.1:0\"\nadmf_identities = [\"admf\"]\nkeepalive_interval_ms = 1000\n{}{}",
            tls_table("x1_tls", "probe"),
            tls_table("x2x3_tls", "probe"),
        );
        let probe_path = dir.join("probe.toml");
        write(&probe_path, &probe_text)?;
        let probe_config: ProbeConfig = load_toml(&probe_path)?;
        let probe = probe::start(&probe_config, &dir, shutdown.clone())
            .await
            .context("starting the probe")?;

        let mut admf_text = format!(
            "# li-admf\nadmf_identifier = \"admf\"\ndatabase = \"admf.db\"\naudit_log = \"admf-audit.log\"\n\
             sync_interval_ms = 200\nmediator_grace_ms = {grace}\nreconcile_interval_ms = 0\n{}\n\
             [mediator]\nname = \"mediator\"\nx1 = \"{}\"\nserver_name = \"localhost\"\nx2x3 = \"{}\"\nx2x3_did = \"{X2X3_DID}\"\n\n\
             [[probe]]\nname = \"probe-1\"\nx1 = \"{}\"\nserver_name = \"localhost\"\n",
            tls_table("tls", "admf"),
            mediator.x1_addr,
            mediator.x2x3_addr,
            probe.x1_addr,
            grace = options.mediator_grace_ms,
        );
        for (i, agency) in agencies.iter().enumerate() {
            admf_text.push_str(&format!(
                "\n[[agency]]\nname = \"{}\"\nid = \"5e1a0c00-0000-4000-8000-{:012x}\"\nhi2 = \"{}\"\nhi3 = \"{}\"\ntls = true\nformat = \"{}\"\n",
                agency.name,
                i + 1,
                agency.addrs.0,
                agency.addrs.1,
                agency.format,
            ));
        }
        let admf_path = dir.join("admf.toml");
        write(&admf_path, &admf_text)?;
        let admf_config: AdmfConfig = load_toml(&admf_path)?;
        admf_config.validate()?;
        let admf = crate::admf::open(&admf_config, &dir).context("opening the ADMF")?;
        Ok(Self {
            dir,
            agencies,
            mediator,
            probe,
            admf,
            admf_config,
            stop,
        })
    }

    async fn start_receiver(
        dir: &Path,
        agency: &mut AgencyRuntime,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let mut config: LemfConfig = load_toml(&agency.config_path)?;
        config.hi2_listen = agency.addrs.0;
        config.hi3_listen = agency.addrs.1;
        let (running, _) = crate::lemf::start(&config, dir, shutdown)
            .await
            .with_context(|| format!("starting the receiver of {}", agency.name))?;
        agency.running = Some(running);
        Ok(())
    }

    /// Starts the receiver of an agency that was down.
    pub async fn start_agency(&mut self, name: &str) -> anyhow::Result<()> {
        let shutdown = self.stop.subscribe();
        let dir = self.dir.clone();
        let Some(agency) = self.agencies.iter_mut().find(|a| a.name == name) else {
            bail!("no agency {name}");
        };
        if agency.running.is_none() {
            Self::start_receiver(&dir, agency, shutdown).await?;
        }
        Ok(())
    }

    /// A warrant on `targets` for the named agencies (a fresh XID).
    pub fn warrant(
        &self,
        liid: &str,
        targets: &[&str],
        scope: InterceptScope,
        window: (Timestamp, Option<Timestamp>),
        agencies: &[&str],
    ) -> anyhow::Result<Warrant> {
        let targets = targets
            .iter()
            .map(|t| {
                t.parse::<TargetIdentifier>()
                    .with_context(|| format!("target {t:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let agencies = agencies
            .iter()
            .map(|a| {
                self.admf_config
                    .agency(a)
                    .with_context(|| format!("no agency {a}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let liid = Liid::new(liid.as_bytes()).with_context(|| format!("LIID {liid:?}"))?;
        let task = Task::new(
            liid,
            random_xid(),
            targets,
            scope,
            ValidityWindow::new(window.0, window.1)?,
            agencies,
        )
        .map_err(|e| StoreError::invalid(liid, e))?;
        Ok(Warrant::new(task, crate::admf::now())?)
    }

    /// Enters the warrants and provisions the probe and the mediator over X1 (one sync).
    pub async fn provision(&self, warrants: &[Warrant]) -> anyhow::Result<SyncReport> {
        for w in warrants {
            self.admf.create_warrant(w)?;
        }
        let report = self.admf.sync(crate::admf::now()).await?;
        if !report.failures.is_empty() {
            bail!("provisioning failed: {:?}", report.failures);
        }
        Ok(report)
    }

    /// Replays a capture through the probe, rebased so that its first frame is stamped
    /// `origin` (the wall clock when `None`), as fast as possible.
    pub async fn replay(
        &self,
        path: &Path,
        origin: Option<Timestamp>,
    ) -> anyhow::Result<ReplayReport> {
        let options = ReplayOptions {
            pace: false,
            rebase: true,
            rebase_to: origin,
            label: Some("sample".into()),
        };
        let report = self.probe.probe.replay_file(path, options).await?;
        if let Some(error) = &report.error {
            bail!("replay of {} stopped: {error}", path.display());
        }
        Ok(report)
    }

    /// Waits until the probe's X2/X3 queues are delivered and every agency acknowledged
    /// everything the mediator spooled (agencies that are down keep it spooled: this then
    /// times out).
    pub async fn wait_delivered(&self, timeout: Duration) -> anyhow::Result<DeliveryReport> {
        let deadline = tokio::time::Instant::now() + timeout;
        let probe = self.probe.probe.drain(timeout).await;
        if !probe.complete {
            bail!("the probe's X2/X3 queues were not delivered: {probe:?}");
        }
        // Every PDU the probe wrote has been read and spooled by the mediator (one probe:
        // the counts compare), and every record the mediator spooled has been acknowledged.
        let mediator = &self.mediator.mediator;
        let read = mediator
            .stats()
            .wait_for_received(|x2, x3| x2 + x3 >= probe.sent);
        let delivered = async {
            read.await;
            mediator.wait_drained().await;
        };
        if tokio::time::timeout_at(deadline, delivered).await.is_err() {
            let stats = mediator.stats();
            let received = stats.x2_received.load(std::sync::atomic::Ordering::Relaxed)
                + stats.x3_received.load(std::sync::atomic::Ordering::Relaxed);
            let pending: u64 = mediator
                .destinations()
                .await
                .iter()
                .map(|(_, _, depth)| depth.0)
                .sum();
            bail!(
                "not delivered in time: the mediator read {received} of {} X2/X3 PDUs, {pending} records still spooled",
                probe.sent
            );
        }
        Ok(probe)
    }

    /// The agency's receiver summary, if it is up.
    pub fn summary(&self, agency: &str) -> Option<Summary> {
        self.agencies
            .iter()
            .find(|a| a.name == agency)
            .and_then(|a| a.running.as_ref())
            .map(RunningReceiver::summary)
    }

    /// Stops everything: the probe (delivering its queues), the ADMF's pending work, the
    /// mediator (its spools keep what was not delivered), the receivers. Returns each
    /// agency's summary.
    pub async fn shutdown(self) -> Vec<(String, Summary)> {
        let _ = self.probe.shutdown(Duration::from_secs(5)).await;
        let _ = self.stop.send(true);
        self.mediator.join().await;
        let mut out = Vec::new();
        for agency in self.agencies {
            if let Some(running) = agency.running {
                out.push((agency.name, running.stop().await));
            }
        }
        out
    }
}

/// The IP packets of a pcap file written by the agency's receiver, in order.
pub fn pcap_packets(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut reader = li_capture::source::FileReader::open(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    while let Some(frame) = reader
        .next_frame()
        .with_context(|| format!("{}: bad capture record", path.display()))?
    {
        out.push(frame.data.to_vec());
    }
    Ok(out)
}

/// The samples of a WAV file the agency's receiver wrote (16-bit PCM, mono), in order.
pub fn wav_samples(path: &Path) -> anyhow::Result<Vec<i16>> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bad = |what: &str| anyhow::anyhow!("{}: not a 16-bit PCM WAV file: {what}", path.display());
    if data.get(0..4) != Some(b"RIFF") || data.get(8..12) != Some(b"WAVE") {
        return Err(bad("no RIFF/WAVE header"));
    }
    // Walk the chunks to "data" (a "fmt " chunk comes first; others are skipped).
    let mut at = 12;
    loop {
        let id = data.get(at..at + 4).ok_or_else(|| bad("no data chunk"))?;
        let len = data
            .get(at + 4..at + 8)
            .and_then(|l| <[u8; 4]>::try_from(l).ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| bad("a chunk header cut short"))? as usize;
        let body = data
            .get(at + 8..at + 8 + len)
            .ok_or_else(|| bad("a chunk longer than the file"))?;
        if id == b"fmt " {
            let le16 = |at: usize| {
                body.get(at..at + 2)
                    .and_then(|b| <[u8; 2]>::try_from(b).ok())
                    .map(u16::from_le_bytes)
            };
            let (format, bits) = (le16(0), le16(14));
            if format != Some(1) || bits != Some(16) {
                return Err(bad("not PCM with 16 bits a sample"));
            }
        }
        if id == b"data" {
            return Ok(body
                .chunks_exact(2)
                .filter_map(|s| <[u8; 2]>::try_from(s).ok())
                .map(i16::from_le_bytes)
                .collect());
        }
        at += 8 + len + (len & 1);
    }
}

/// A scope as the demo prints it.
pub fn scope_name(scope: InterceptScope) -> &'static str {
    match scope {
        InterceptScope::IriOnly => "IRI only",
        InterceptScope::IriAndCc => "IRI+CC",
    }
}

/// How long the demo waits for delivery at most.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
