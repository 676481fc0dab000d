//! `li-lemf`: the agency's receiver (LEMF) for tests, demos and acceptance. Listens for HI2
//! and HI3, answers keep-alives, reports sequence gaps and repeats, writes JSON lines and a
//! pcap of the CC per LIID; prints a summary when stopped (SIGINT/SIGTERM).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use li_examples::cli::{config_dir, init_tracing, load_toml, shutdown_on_signals};
use li_examples::lemf::{LemfConfig, start};

/// The agency's HI2/HI3 receiver.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Configuration file (TOML; see docs/CONFIGURATION.md).
    #[arg(short, long, default_value = "lemf.toml")]
    config: PathBuf,
    /// Log filter when RUST_LOG is not set (error, warn, info, debug, trace).
    #[arg(long, default_value = "info")]
    log: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_tracing(&args.log);
    let config: LemfConfig = load_toml(&args.config)?;
    let shutdown = shutdown_on_signals();
    let (running, _) = start(&config, &config_dir(&args.config), shutdown.clone())
        .await
        .context("starting the receiver")?;
    eprintln!(
        "li-lemf: HI2 on {}, HI3 on {}{}",
        running.hi2_addr,
        running.hi3_addr,
        running
            .ccc_addr
            .map(|a| format!(", PacketCable CCC on udp {a}"))
            .unwrap_or_default()
    );
    let summary = running.run_until(shutdown).await;
    println!("{summary}");
    Ok(())
}
