//! `li-sample`: writes the sample capture of the end-to-end demo and prints what is in it.
//!
//! The capture is generated deterministically (li-capture's `synth::scenario`, see
//! `li_examples::sample`); the copy shipped in `examples/data/sample.pcap` is checked against
//! the generator by the crate's tests, so regenerate it with
//! `li-sample --out examples/data/sample.pcap` after changing the generator, and update the
//! counts in `examples/data/README.md`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use li_examples::sample::{self, Sample};

/// Writes the sample capture of the end-to-end demo (Ethernet pcap) and prints its frames
/// per owner as a Markdown table.
#[derive(Debug, Parser)]
#[command(name = "li-sample", version)]
struct Args {
    /// Where to write the pcap file (e.g. examples/data/sample.pcap).
    #[arg(long)]
    out: PathBuf,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let sample = Sample::generate()?;
    std::fs::write(&args.out, &sample.pcap)
        .with_context(|| format!("writing {}", args.out.display()))?;
    print!("{}", sample::summary(&sample));
    println!("wrote {}", args.out.display());
    Ok(())
}
