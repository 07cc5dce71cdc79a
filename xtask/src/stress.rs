//! `cargo xtask stress [--quick] [--seed S] [--only NAME[,NAME]] [--frames N]`: builds the
//! `fdframe-stress` binary and the `fdframe` CLI, then runs every stress scenario on every
//! backend and prints the table (see `crates/fdframe-stress`).
//!
//! The full run builds in release mode (10 million frames per backend). `--quick`, what CI
//! runs, builds in the dev profile, whose dependencies the test step has already compiled: it
//! keeps CI's time small, and debug assertions and overflow checks are on while it runs.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::workspace_root;

/// Builds, then runs the stress binary with `args` (and `--cli` pointing at the built CLI).
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let quick = args.iter().any(|a| a == "--quick");
    let (profile_flag, profile_dir) = if quick {
        (None, "debug")
    } else {
        (Some("--release"), "release")
    };
    let started = Instant::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "fdframe-stress",
            "-p",
            "fdframe-cli",
            // The `cli` scenario runs a follower on every `--backend`.
            "--features",
            "fdframe-cli/all-backends",
        ])
        .args(profile_flag)
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the stress binary and the CLI failed ({status})"
        ));
    }
    println!(
        "xtask stress: built ({profile_dir}) in {:.1?}",
        started.elapsed()
    );
    let bin = target_dir().join(profile_dir);
    let status = Command::new(bin.join("fdframe-stress"))
        .args(args)
        .arg("--cli")
        .arg(bin.join("fdframe"))
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run fdframe-stress: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "stress failed ({status}); the table above says where"
        ))
    }
}

/// Where cargo puts its builds: `CARGO_TARGET_DIR`, or the workspace's `target/`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}
