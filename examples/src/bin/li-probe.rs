//! li-probe: the point of interception of the li-suite reference binaries.
//!
//! Serves X1 (TS 103 221-1, HTTPS with mutual TLS) to the ADMF, which provisions X2/X3
//! destinations (the mediator) and tasks; captures from a pcap/pcapng file (replayed once,
//! optionally paced, timestamps rebased to now by default) or, when built with the `live`
//! feature, from an interface; classifies every frame against the tasks' targets and sends
//! IRI over X2 and CC over X3 (TS 103 221-2, mutual TLS) to the task's destinations.
//!
//! ```text
//! li-probe --config probe.toml [--exit-after-replay]
//! ```
//!
//! The configuration is described in `li_examples::probe::ProbeConfig`; the probe itself is
//! `li_capture::probe::Probe`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use li_capture::probe::{DeliveryReport, Probe, ReplayReport};
use li_examples::cli;
use li_examples::probe::{self, CaptureSource, ProbeConfig};
use tracing::info;

/// The point of interception: X1 server, capture, X2/X3 to the mediator.
#[derive(Debug, Parser)]
#[command(name = "li-probe", version)]
struct Args {
    /// The probe's TOML configuration.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// With a capture file: exit once it has been replayed and its X2/X3 delivered,
    /// instead of serving X1 until SIGINT/SIGTERM. The exit status is 1 when the file
    /// turned out damaged: the replay ended early (truncated or corrupt), or records it could
    /// not read were skipped (everything readable is replayed and delivered first).
    #[arg(long)]
    exit_after_replay: bool,
    /// Log filter when RUST_LOG is not set.
    #[arg(long, default_value = "info", value_name = "FILTER")]
    log: String,
    /// How long to wait for the X2/X3 queues to be delivered when stopping, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    drain_timeout: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    cli::init_tracing(&args.log);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let config: ProbeConfig = cli::load_toml(&args.config)?;
    let base = cli::config_dir(&args.config);
    let shutdown = cli::shutdown_on_signals();
    let running = probe::start(&config, &base, shutdown.clone())
        .await
        .with_context(|| format!("cannot start the probe of {}", args.config.display()))?;
    let drain_timeout = Duration::from_secs(args.drain_timeout);
    let probe = running.probe.clone();
    let mut exit = false;
    // A replay that ended on a damaged file: the exit status says so.
    let mut damaged: Option<String> = None;
    let source = config.capture_source(&base);
    match source {
        None => info!("no [capture] configured: serving X1 only"),
        Some(CaptureSource::File {
            path,
            replay,
            start_after_tasks,
        }) => {
            let mut ready = true;
            if let Some(n) = start_after_tasks {
                info!(tasks = n, "waiting for {n} active task(s) before replaying");
                ready = probe.wait_for_tasks(n, shutdown.clone()).await;
            }
            if ready {
                let report = probe.replay_file(&path, replay).await?;
                damaged = damage(&path, &report);
                log_delivery("X2/X3 after the replay", &probe.drain(drain_timeout).await);
                exit = args.exit_after_replay;
            }
        }
        Some(CaptureSource::Interface(interface)) => live(&probe, &interface).await?,
    }
    if !exit {
        let mut shutdown = shutdown;
        let _ = shutdown.wait_for(|stop| *stop).await;
    }
    log_delivery("probe stopped", &running.shutdown(drain_timeout).await);
    match damaged {
        Some(error) if exit => Err(anyhow::anyhow!(error)),
        _ => Ok(()),
    }
}

#[cfg(all(feature = "live", target_os = "linux"))]
async fn live(probe: &Probe, interface: &str) -> anyhow::Result<()> {
    // Runs until the probe is shut down; the signal handler's shutdown stops it.
    let probe = probe.clone();
    let interface = interface.to_owned();
    tokio::spawn(async move {
        if let Err(error) = probe.capture_live(&interface).await {
            tracing::error!(%error, "live capture failed");
        }
    });
    Ok(())
}

#[cfg(not(all(feature = "live", target_os = "linux")))]
async fn live(_probe: &Probe, interface: &str) -> anyhow::Result<()> {
    anyhow::bail!(
        "capture on interface {interface} needs li-probe built with `--features live` (Linux)"
    )
}

/// What was wrong with the capture file `path` its replay could not read whole, if
/// anything: the error that ended it early, records skipped for their own errors (how
/// many, and the first one's), and how many frames were replayed nonetheless.
fn damage(path: &std::path::Path, report: &ReplayReport) -> Option<String> {
    let mut what = Vec::new();
    // (The replay logged each of these as it met it.)
    if let Some(error) = &report.error {
        what.push(format!("the replay ended early: {error}"));
    }
    // set exactly when records were skipped
    if let Some(first) = &report.first_skipped {
        what.push(format!(
            "{} record(s) could not be read and were skipped (the first: {first})",
            report.skipped_records
        ));
    }
    (!what.is_empty()).then(|| {
        format!(
            "the capture {} is damaged: {}; {} frames were replayed",
            path.display(),
            what.join("; "),
            report.counters.frames
        )
    })
}

/// One log line with what became of the X2/X3 PDUs ("pending": still queued, discarded at
/// shutdown).
fn log_delivery(what: &str, d: &DeliveryReport) {
    info!(
        queued = d.queued,
        sent = d.sent,
        dropped = d.dropped,
        pending = d.pending,
        "{what}: {} X2/X3 PDUs queued, {} sent, {} dropped (queue full), {} pending",
        d.queued,
        d.sent,
        d.dropped,
        d.pending
    );
}
