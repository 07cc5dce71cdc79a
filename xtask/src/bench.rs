//! `cargo xtask bench`: throughput of fdframe against its peers, as ratios from one run.

use std::process::Command;

use crate::workspace_root;

/// Builds and runs the `fdframe-bench` binary in release mode, passing `args` through
/// (`--megabytes N`, `--rounds N`).
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--quiet", "--release", "-p", "fdframe-bench", "--"])
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("fdframe-bench failed ({status})"))
    }
}
