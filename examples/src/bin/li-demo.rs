//! `li-demo`: the whole chain on loopback with real mutual TLS — three agencies' receivers, the
//! mediator, a probe and the administration function — on the sample capture shipped in
//! `examples/data/sample.pcap`. It provisions three warrants over X1 (a static-IP target, a
//! RADIUS-username target and a SIP target), replays the capture through the probe, waits
//! until the agencies have acknowledged everything, then prints what each agency received
//! per LIID, checked against the capture's ground truth. `LEA-1` takes ETSI TS 102 232;
//! `LEA-US`, a US agency, takes ATIS-1000013 and is named by the two internet-access
//! warrants (ATIS-1000013 carries no calls); `LEA-US-VOIP` takes ATIS-1000678 and
//! `LEA-US-CABLE` PacketCable (call data over TLS, call content as UDP datagrams), both named
//! by the call's warrant.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser;
use li_asn1::pdu::PayloadDirection as Hi3Direction;
use li_core::HandoverFormat;
use li_core::InterceptScope;
use li_core::PayloadDirection;
use li_examples::demo::{
    AgencyOptions, DEFAULT_TIMEOUT, System, SystemOptions, pcap_packets, scope_name, wav_samples,
};
use li_examples::sample::{self, Sample, SampleTarget};
use li_handover::lemf::LiidSummary;

/// Runs the whole lawful-interception chain on the shipped sample capture.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Run directory (emptied first): configurations, PKI, spools, audit logs, agency output.
    #[arg(long, default_value = "target/li-demo")]
    out: PathBuf,
    /// The capture to replay.
    #[arg(long, default_value_os_t = default_capture())]
    capture: PathBuf,
    /// Log filter when RUST_LOG is not set.
    #[arg(long, default_value = "warn")]
    log: String,
}

fn default_capture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sample.pcap")
}

struct Demo {
    liid: &'static str,
    target: SampleTarget,
    scope: InterceptScope,
    agencies: &'static [&'static str],
}

/// The US agency, in ATIS-1000013.
const US: &str = "LEA-US";
/// The US VoIP agency, in ATIS-1000678.
const US_VOIP: &str = "LEA-US-VOIP";
/// The US cable agency, in PacketCable.
const US_CABLE: &str = "LEA-US-CABLE";

const WARRANTS: [Demo; 3] = [
    Demo {
        liid: "DEMO-STATIC-0001",
        target: SampleTarget::StaticV4,
        scope: InterceptScope::IriAndCc,
        agencies: &["LEA-1", US],
    },
    Demo {
        liid: "DEMO-ALICE-0001",
        target: SampleTarget::Alice,
        scope: InterceptScope::IriAndCc,
        agencies: &["LEA-1", US],
    },
    Demo {
        liid: "DEMO-CALL-0001",
        target: SampleTarget::Caller,
        scope: InterceptScope::IriAndCc,
        agencies: &["LEA-1", US_VOIP, US_CABLE],
    },
];

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    li_examples::cli::init_tracing(&args.log);
    match run(&args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("li-demo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> anyhow::Result<bool> {
    let sample = Sample::generate().context("generating the sample's ground truth")?;
    let shipped = std::fs::read(&args.capture)
        .with_context(|| format!("cannot read {}", args.capture.display()))?;
    let is_sample = shipped == sample.pcap;

    println!("li-demo: probe -> mediator -> agency on loopback, mutual TLS everywhere");
    let mut options = SystemOptions::new(&args.out);
    options.agencies.push(AgencyOptions {
        name: US.into(),
        up: true,
        format: HandoverFormat::Atis1000013 { version: 1 },
    });
    options.agencies.push(AgencyOptions {
        name: US_VOIP.into(),
        up: true,
        format: HandoverFormat::Atis1000678 { version: 2 },
    });
    options.agencies.push(AgencyOptions {
        name: US_CABLE.into(),
        up: true,
        format: HandoverFormat::PacketCable { version: 3 },
    });
    let system = System::start(&options).await?;
    for agency in &system.agencies {
        println!(
            "  agency {:<6} receiver HI2 {}  HI3 {}  ({})",
            agency.name, agency.addrs.0, agency.addrs.1, agency.format
        );
    }
    println!(
        "  mediator               X1 {}  X2/X3 {}",
        system.mediator.x1_addr, system.mediator.x2x3_addr
    );
    println!("  probe                  X1 {}", system.probe.x1_addr);

    let start = li_examples::admf::now();
    let warrants = WARRANTS
        .iter()
        .map(|d| {
            system.warrant(
                d.liid,
                &[d.target.text()],
                d.scope,
                (start, None),
                d.agencies,
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let report = system.provision(&warrants).await?;
    println!(
        "  X1: {} warrants provisioned ({} task activations, {} destinations created)",
        report.activated.len(),
        report.tasks_activated.len(),
        report.destinations_created.len()
    );

    let replay = system.replay(&args.capture, None).await?;
    println!(
        "  probe: {} frames replayed in {:.2?}, {} matched, {} CC and {} IRI records, {} X2/X3 PDUs dropped",
        replay.counters.frames,
        replay.duration,
        replay.counters.matched,
        replay.cc_records,
        replay.iri_records,
        replay.pdus_dropped
    );
    system.wait_delivered(DEFAULT_TIMEOUT).await?;

    // End the warrants (the IRI end records go out), then stop everything.
    for w in &warrants {
        system.admf.revoke(&w.task.liid()).await?;
    }
    system.admf.settle().await?;
    system.wait_delivered(DEFAULT_TIMEOUT).await?;
    let dir = system.dir.clone();
    let refused = system.mediator.mediator.stats().refused();
    let summaries = system.shutdown().await;
    let Some((_, summary)) = summaries.iter().find(|(name, _)| name == "LEA-1") else {
        anyhow::bail!("the agency's receiver was not running");
    };
    let Some((_, us_summary)) = summaries.iter().find(|(name, _)| name == US) else {
        anyhow::bail!("the US agency's receiver was not running");
    };
    let Some((_, voip_summary)) = summaries.iter().find(|(name, _)| name == US_VOIP) else {
        anyhow::bail!("the US VoIP agency's receiver was not running");
    };
    let Some((_, cable_summary)) = summaries.iter().find(|(name, _)| name == US_CABLE) else {
        anyhow::bail!("the US cable agency's receiver was not running");
    };

    println!();
    println!(
        "{:<17} {:<26} {:<7} {:>4} {:>5} {:>9} {:>8} {:>8}  agency pcap",
        "LIID", "target", "scope", "IRI", "CC", "expected", "missing", "repeats"
    );
    let mut all_good = true;
    let mut calls = Vec::new();
    for (demo, warrant) in WARRANTS.iter().zip(&warrants) {
        let s = summary
            .liids
            .get(&warrant.task.liid())
            .cloned()
            .unwrap_or_default();
        let expected = sample.expected_cc_packets(demo.target, sample::CAPTURE_START, None);
        let identical = if demo.target == SampleTarget::Caller {
            let check = check_call(&sample, &s, true, None)?;
            calls.push((warrant.task.liid().to_string(), check.lines));
            check.ok
        } else {
            let got = match &s.pcap_path {
                Some(p) => pcap_packets(p)?,
                None => Vec::new(),
            };
            got.len() == expected.len()
                && got.iter().zip(&expected).all(|(a, b)| a.as_slice() == *b)
        };
        let ok = s.gaps == 0 && (!is_sample || identical) && s.iri > 0;
        all_good &= ok;
        println!(
            "{:<17} {:<26} {:<7} {:>4} {:>5} {:>9} {:>8} {:>8}  {}",
            warrant.task.liid().to_string(),
            demo.target.text(),
            scope_name(demo.scope),
            s.iri,
            s.cc,
            if is_sample {
                expected.len().to_string()
            } else {
                "-".into()
            },
            s.gaps,
            s.repeats,
            s.pcap_path
                .as_deref()
                .or_else(|| s.calls.values().next().map(|c| c.dir.as_path()))
                .map_or_else(
                    || "-".into(),
                    |p| p.strip_prefix(&dir).unwrap_or(p).display().to_string()
                )
        );
    }
    println!();
    println!("agency {US} (ATIS-1000013: CmII messages for IRI, IAS-CC-APDU for CC):");
    println!(
        "{:<17} {:<26} {:>4} {:>5} {:>9} {:>8}  agency pcap",
        "caseId", "target", "CmII", "CC", "expected", "missing"
    );
    for (demo, warrant) in WARRANTS.iter().zip(&warrants) {
        if !demo.agencies.contains(&US) {
            continue;
        }
        let s = us_summary
            .liids
            .get(&warrant.task.liid())
            .cloned()
            .unwrap_or_default();
        let expected = sample.expected_cc_packets(demo.target, sample::CAPTURE_START, None);
        let got = match &s.pcap_path {
            Some(p) => pcap_packets(p)?,
            None => Vec::new(),
        };
        let identical = got.len() == expected.len()
            && got.iter().zip(&expected).all(|(a, b)| a.as_slice() == *b);
        let ok = s.gaps == 0 && s.decode_errors == 0 && (!is_sample || identical) && s.iri > 0;
        all_good &= ok;
        println!(
            "{:<17} {:<26} {:>4} {:>5} {:>9} {:>8}  {}",
            warrant.task.liid().to_string(),
            demo.target.text(),
            s.iri,
            s.cc,
            if is_sample {
                expected.len().to_string()
            } else {
                "-".into()
            },
            s.gaps,
            s.pcap_path.as_deref().map_or_else(
                || "-".into(),
                |p| p.strip_prefix(&dir).unwrap_or(p).display().to_string()
            )
        );
    }
    for (demo, warrant) in WARRANTS.iter().zip(&warrants) {
        if !demo.agencies.contains(&US_VOIP) {
            continue;
        }
        let s = voip_summary
            .liids
            .get(&warrant.task.liid())
            .cloned()
            .unwrap_or_default();
        let check = check_call(&sample, &s, false, None)?;
        let ok = s.gaps == 0 && s.decode_errors == 0 && s.iri > 0 && (!is_sample || check.ok);
        all_good &= ok;
        println!();
        println!(
            "agency {US_VOIP} (ATIS-1000678: call data around CC-APDUs), {}: {} call-data messages, {} CC, {} missing",
            warrant.task.liid(),
            s.iri,
            s.cc,
            s.gaps
        );
        for line in &check.lines {
            println!("  {}", line.replace(&format!("{}/", dir.display()), ""));
        }
    }
    for (demo, warrant) in WARRANTS.iter().zip(&warrants) {
        if !demo.agencies.contains(&US_CABLE) {
            continue;
        }
        let s = cable_summary
            .liids
            .get(&warrant.task.liid())
            .cloned()
            .unwrap_or_default();
        // PCESP call data of the call: origination, answer, ccOpen, release, ccClose.
        let check = check_call(&sample, &s, false, Some(PCESP_CALL_DATA))?;
        let ok = s.decode_errors == 0 && s.iri > 0 && (!is_sample || check.ok);
        all_good &= ok;
        println!();
        println!(
            "agency {US_CABLE} (PacketCable: CdcPdu call data, CCC datagrams over UDP), {}: {} call-data messages, {} CC",
            warrant.task.liid(),
            s.iri,
            s.cc,
        );
        for line in &check.lines {
            println!("  {}", line.replace(&format!("{}/", dir.display()), ""));
        }
    }
    for (liid, lines) in &calls {
        println!();
        println!("calls of {liid}:");
        for line in lines {
            println!("  {}", line.replace(&format!("{}/", dir.display()), ""));
        }
    }
    println!();
    println!("run directory:     {}", dir.display());
    println!("agency records:    {}", summary.records_path.display());
    println!(
        "raw HI2/HI3:       {}/lemf-LEA-1/hi2.ber, hi3.ber (ETSI); lemf-{US}/*.ber (ATIS-1000013); lemf-{US_VOIP}/*.ber (ATIS-1000678); lemf-{US_CABLE}/hi2.ber, ccc.pcap (PacketCable)",
        dir.display()
    );
    let refused_total: u64 = refused.values().sum();
    let reasons: Vec<String> = refused
        .iter()
        .map(|(why, n)| format!("{n} {}", why.as_str()))
        .collect();
    println!(
        "mediator refused:  {refused_total} X2/X3 PDUs outside the warrants{}",
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join(", "))
        }
    );
    for (who, log) in [
        ("admf", "admf-audit.log"),
        ("mediator", "mediator-audit.log"),
    ] {
        match li_handover::audit::verify(dir.join(log)) {
            Ok(v) => println!(
                "audit ({who}):{:pad$}{} entries, hash chain verified",
                "",
                v.entries,
                pad = 10 - who.len()
            ),
            Err(e) => {
                all_good = false;
                println!("audit ({who}):{:pad$}BROKEN: {e}", "", pad = 10 - who.len());
            }
        }
    }
    if is_sample {
        println!(
            "check:             CC {} the capture's target packets byte for byte, in order, once each;",
            if all_good { "equals" } else { "DIFFERS FROM" }
        );
        println!(
            "                   the call's WAV files {} the audio the sample generator put in",
            if all_good {
                "hold exactly"
            } else {
                "DO NOT hold"
            }
        );
    }
    Ok(all_good)
}

/// What the demo says of the SIP target's call, and whether it is what the sample holds.
struct CallCheck {
    ok: bool,
    lines: Vec<String>,
}

/// Checks the agency's files of the SIP target's call against the sample's ground truth: one
/// call; its ladder has every SIP message of the call; its media pcap holds exactly the
/// call's RTP and RTCP packets, in order; each direction's WAV file holds exactly the samples
/// the generator encoded (after G.711 companding).
///
/// `ended`: the call must have been ended by an IRI-End (ETSI); an ATIS-1000678 call's files
/// close after their grace instead. `call_data`: the call-data messages expected when they
/// are not one per SIP message (PacketCable carries no SIP).
fn check_call(
    sample: &Sample,
    s: &LiidSummary,
    ended: bool,
    call_data: Option<usize>,
) -> anyhow::Result<CallCheck> {
    let truth = &sample.call.capture;
    let expected_iri = call_data.unwrap_or_else(|| truth.expected_iri().len());
    let expected_media: Vec<&[u8]> = sample
        .expected_cc(SampleTarget::Caller, sample::CAPTURE_START, None)
        .into_iter()
        .filter_map(|f| f.ip.as_deref())
        .filter_map(udp_payload)
        .collect();
    let mut ok = s.calls.len() == 1;
    let mut lines = Vec::new();
    for (cin, call) in &s.calls {
        // The reconstructed packets carry the RTP/RTCP packet after a 28-octet IPv4+UDP
        // header (placeholder addresses).
        let media = pcap_packets(&call.dir.join("media.pcap"))?;
        let same_media = media.len() == expected_media.len()
            && media
                .iter()
                .zip(&expected_media)
                .all(|(got, want)| udp_payload(got) == Some(*want));
        ok &= same_media && call.iri as usize == expected_iri && (call.ended || !ended);
        lines.push(format!(
            "CIN {cin}: {} {} (expected {expected_iri}) in {}, {} media packets \
             (expected {}) in {}{}",
            call.iri,
            if call_data.is_some() {
                "call-data messages"
            } else {
                "SIP messages"
            },
            call.dir.join("ladder.jsonl").display(),
            call.cc,
            expected_media.len(),
            call.dir.join("media.pcap").display(),
            match (call.ended, ended) {
                (true, _) => ", ended",
                (false, true) => ", NOT ended",
                (false, false) => ", closed",
            },
        ));
        for wav in &call.wavs {
            let direction = match wav.direction {
                Some(Hi3Direction::FromTarget) => PayloadDirection::FromTarget,
                Some(Hi3Direction::ToTarget) => PayloadDirection::ToTarget,
                _ => PayloadDirection::Indeterminate,
            };
            let want = sample.call.expected_pcm(direction);
            let got = wav_samples(&wav.path)?;
            let same = got == want;
            ok &= same;
            lines.push(format!(
                "  {:<12} {} ({} samples, {:.2} s, {})",
                match direction {
                    PayloadDirection::FromTarget => "from target",
                    PayloadDirection::ToTarget => "to target",
                    _ => "direction ?",
                },
                wav.path.display(),
                got.len(),
                got.len() as f64 / 8000.0,
                if same {
                    "the generator's audio"
                } else {
                    "DIFFERS from the generator's audio"
                }
            ));
        }
        ok &= call.wavs.len() == 2;
    }
    Ok(CallCheck { ok, lines })
}

/// The PCESP messages of the sample's call (origination, answer, ccOpen, release, ccClose).
const PCESP_CALL_DATA: usize = 5;

/// The payload of an IPv4 UDP packet.
fn udp_payload(ip: &[u8]) -> Option<&[u8]> {
    let header = usize::from(ip.first()? & 0x0f) * 4;
    ip.get(header + 8..)
}
