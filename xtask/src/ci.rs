//! `cargo xtask ci`: the checks CI runs, in the order that fails fastest: fmt, clippy, the tests
//! (`cargo test --workspace`, with the conformance matrix from the same run), the README's
//! programs built alone, the publish dry run, the quick stress run, a short fuzz run, docs, the
//! quick benchmark (every contender's counts validated), the man pages and completions, tidy.

use std::process::Command;
use std::time::Instant;

use crate::workspace_root;

/// Runs every CI step; stops at the first failure.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`ci` takes no arguments, got `{arg}`"));
    }
    step("fmt", &["fmt", "--all", "--", "--check"], &[])?;
    step(
        "clippy",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    // Every test once: `cargo test --workspace`, the README's command, conformance suite
    // included; its matrix is printed from that same run.
    let started = Instant::now();
    println!("xtask ci: cargo test --workspace (and the conformance matrix)");
    crate::conformance::workspace_tests()?;
    println!("xtask ci: tests ok ({:.1?})", started.elapsed());
    step(
        "test (optional features)",
        &[
            "test",
            "-p",
            "fdframe-tokio",
            "-p",
            "fdframe-async-io",
            "--all-features",
        ],
        &[],
    )?;
    step("cli", &["test", "-p", "fdframe-cli", "--all-features"], &[])?;
    let started = Instant::now();
    println!("xtask ci: cargo xtask readme-check");
    crate::readme::run(&[])?;
    println!("xtask ci: readme-check ok ({:.1?})", started.elapsed());
    let started = Instant::now();
    println!("xtask ci: cargo xtask publish-check");
    crate::publish::run(&[])?;
    println!("xtask ci: publish-check ok ({:.1?})", started.elapsed());
    let started = Instant::now();
    println!("xtask ci: cargo xtask stress --quick");
    crate::stress::run(&["--quick".into()])?;
    println!("xtask ci: stress ok ({:.1?})", started.elapsed());
    // A short run of every fuzz target (5 s each, two at a time: about 35 s plus the release
    // build); the long runs are `cargo xtask fuzz --seconds N`.
    let started = Instant::now();
    println!("xtask ci: cargo xtask fuzz --seconds 5 --jobs 2");
    crate::fuzz::run(&["--seconds", "5", "--jobs", "2"].map(String::from))?;
    println!("xtask ci: fuzz ok ({:.1?})", started.elapsed());
    step(
        "doc",
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    // Small sizes, every contender's frame counts validated; the numbers are not judged here.
    let started = Instant::now();
    println!("xtask ci: cargo xtask bench --quick");
    crate::bench::run(&["--quick".to_string()])?;
    println!("xtask ci: bench --quick ok ({:.1?})", started.elapsed());
    crate::dist::run(&[])?;
    let started = Instant::now();
    crate::tidy::run()?;
    println!("xtask ci: tidy ok ({:.1?})", started.elapsed());
    Ok(())
}

fn step(name: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    println!("xtask ci: cargo {}", args.join(" "));
    let started = Instant::now();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("{name}: cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("{name} failed ({status})"));
    }
    println!("xtask ci: {name} ok ({:.1?})", started.elapsed());
    Ok(())
}
