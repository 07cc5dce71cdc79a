//! `fdframe-stress`: every backend under load, cancellation, stalls, signals, overruns and
//! floods, with exact accounting. Run it with `cargo xtask stress [--quick]`, which builds it
//! and the CLI in release mode and passes `--cli`.
//!
//! It prints one row per scenario × backend — frames expected and received, lost, duplicated,
//! reordered, errors, time, frames per second, peak resident set, and scenario notes — and
//! exits non-zero if any row failed. Rows that cannot run here (not root) are skipped loudly
//! (`SKIPPED: ...` on stderr), or fail under `FDFRAME_REQUIRE_PRIVILEGED=1`. Rows of a known,
//! tracked bug are `KNOWN` and do not fail the run.
//!
//! Every random choice follows from the seed printed first; `--seed S --only NAME` replays a
//! row exactly (up to thread scheduling).
//!
//! The scenarios are listed in [`scenarios`].

#![forbid(unsafe_code)]

mod chaos;
mod frames;
mod report;
mod scenarios;
mod session;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;

use report::{Row, Verdict};
use scenarios::Config;

/// Stress every fdframe backend; exits non-zero on any lost, duplicated or reordered frame,
/// any error that should not surface, any leaked descriptor or memory over its bound.
#[derive(Debug, Parser)]
#[command(name = "fdframe-stress")]
struct Args {
    /// The CI variant: 200,000 frames per backend, smaller floods, one overrun round.
    #[arg(long)]
    quick: bool,
    /// The seed of every random choice (default: from the clock; printed either way).
    #[arg(long)]
    seed: Option<u64>,
    /// Only the scenarios whose names contain one of these (comma-separated): frames, eintr,
    /// descriptors, flood, kmsg, cli.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Frames per backend in the `frames` scenario (default 10,000,000; 200,000 with --quick).
    #[arg(long)]
    frames: Option<u64>,
    /// The built `fdframe` binary, for the `cli` scenario (skipped without it).
    #[arg(long)]
    cli: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let seed = args.seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let config = Config {
        quick: args.quick,
        seed,
        frames: args
            .frames
            .unwrap_or(if args.quick { 200_000 } else { 10_000_000 }),
        cli: args.cli,
    };
    println!(
        "fdframe-stress: seed {seed}{} (replay: --seed {seed}{})",
        if config.quick { ", quick" } else { "" },
        if config.quick { " --quick" } else { "" }
    );
    println!("{}", report::header());
    let started = Instant::now();
    let mut rows = Vec::new();
    for scenario in scenarios::ALL {
        if !args.only.is_empty() && !args.only.iter().any(|o| scenario.name.contains(o.as_str())) {
            continue;
        }
        (scenario.run)(&config, &mut |row: Row| {
            println!("{}", report::line(&row));
            let _ = std::io::stdout().flush();
            rows.push(row);
        });
    }
    let count = |f: fn(&Verdict) -> bool| rows.iter().filter(|r| f(&r.verdict)).count();
    let failed = count(|v| matches!(v, Verdict::Fail(_)));
    println!(
        "fdframe-stress: {} rows in {:.1?}: {} ok, {failed} failed, {} known, {} skipped; peak RSS (VmHWM) {:.1} MiB; seed {seed}",
        rows.len(),
        started.elapsed(),
        count(|v| matches!(v, Verdict::Ok)),
        count(|v| matches!(v, Verdict::Known(_))),
        count(|v| matches!(v, Verdict::Skip(_))),
        report::status_kib("VmHWM") as f64 / 1024.0,
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
