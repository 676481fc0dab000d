//! `li-mediator`: the mediation function. Receives X2/X3 from probes, delivers HI2/HI3
//! PS-PDUs to every agency through durable spools, provisioned over X1 by `li-admf`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use li_examples::cli::{config_dir, init_tracing, load_toml, shutdown_on_signals};
use li_examples::mediator::{MediatorConfig, start};

/// The mediation function: X2/X3 in, HI2/HI3 out, provisioned over X1.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Configuration file (TOML; see docs/CONFIGURATION.md).
    #[arg(short, long, default_value = "mediator.toml")]
    config: PathBuf,
    /// Log filter when RUST_LOG is not set (error, warn, info, debug, trace).
    #[arg(long, default_value = "info")]
    log: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_tracing(&args.log);
    let config: MediatorConfig = load_toml(&args.config)?;
    let shutdown = shutdown_on_signals();
    let running = start(&config, &config_dir(&args.config), shutdown)
        .await
        .context("starting the mediator")?;
    eprintln!(
        "li-mediator: X1 on {}, X2/X3 on {}{}",
        running.x1_addr,
        running.x2x3_addr,
        running
            .metrics_addr
            .map(|a| format!(", metrics on http://{a}/metrics"))
            .unwrap_or_default()
    );
    running.join().await;
    Ok(())
}
