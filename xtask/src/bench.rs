//! `cargo xtask bench`: throughput, allocations, latency and scale of fdframe against its peers,
//! as ratios from one run (see `BENCHMARKS.md`).

use std::process::Command;

use crate::workspace_root;

/// Builds the `fdframe-bench` binaries in release mode (the harness, its allocation-counting
/// helper, which the harness finds next to itself, and `fdframe-bench-callgrind`, the in-memory
/// loops for instruction counts) and runs the harness, passing `args` through
/// (`--quick`, `--rounds N`, `--megabytes N`, `--only WORD`, `--workload NAME`).
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    cargo(
        &[
            "build",
            "--quiet",
            "--release",
            "-p",
            "fdframe-bench",
            "--bins",
        ],
        &[],
    )?;
    cargo(
        &[
            "run",
            "--quiet",
            "--release",
            "-p",
            "fdframe-bench",
            "--bin",
            "fdframe-bench",
            "--",
        ],
        args,
    )
}

fn cargo(command: &[&str], args: &[String]) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(command)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed ({status})", command[0]))
    }
}
