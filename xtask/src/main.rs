//! Project automation, on matklad's xtask pattern: `cargo xtask <command>`.
//!
//! | command       | what it does                                                               |
//! |---------------|----------------------------------------------------------------------------|
//! | `ci`          | what CI runs: fmt check, clippy `-D warnings`, tests, conformance, readme-check, publish-check, stress, fuzz, docs `-D warnings`, bench, tidy |
//! | `tidy`        | the repository's own rules (also run by `cargo test -p xtask`)             |
//! | `readme-check`| the README's quick-start programs, each built alone with only its `cargo add` |
//! | `publish-check`| `cargo publish --workspace --dry-run`, and the published crates' tests built from their packages |
//! | `conformance` | the conformance suite as a case × backend matrix (`--backend NAME`) |
//! | `bench`       | throughput, allocations, latency, scale vs raw loops and the tuned glue (`BENCHMARKS.md`) |
//! | `stress`      | every backend under load, cancellation, signals, overruns, floods (`--quick`) |
//! | `dist`        | man pages and shell completions of `fdframe` in `target/dist/` (`--prefix DIR` installs) |
//! | `fuzz`        | every fuzz target for N seconds (`--seconds N --target T --jobs J`), as a table |
//!
//! xtask depends on none of the workspace's crates: it drives `cargo`.

#![forbid(unsafe_code)]

mod bench;
mod ci;
mod conformance;
mod dist;
mod fuzz;
mod publish;
mod readme;
mod stress;
mod tidy;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci      run what CI runs: fmt --check, clippy -D warnings, tests, conformance, readme-check,
          publish-check, stress --quick, a short fuzz run, doc -D warnings, bench --quick, tidy
  tidy    check the repository's own rules (module docs, unsafe only where allowed,
          runtime crates only in their backend)
  readme-check  build each of the README's quick-start programs in a scratch crate with only
          the dependencies its `cargo add` line names
  publish-check  cargo publish --workspace --dry-run, then the published crates' tests built
          from their packages
  conformance [--backend NAME]  the conformance suite as a case x backend matrix
  bench   [--quick] [--rounds N] [--megabytes N] [--only WORD] [--workload NAME]
          throughput, allocations, latency and scale against peers, as ratios (BENCHMARKS.md)
  stress  [--quick] [--seed S] [--only NAME]  every backend under load, cancellation,
          signals, kmsg overruns and floods, with exact loss accounting
  dist    [--prefix DIR]  man pages and shell completions in target/dist/ (and under DIR)
  fuzz    [--seconds N] [--target T]... [--jobs J] [--seed S] [--libfuzzer]
          fuzz every decoder and the engine (--libfuzzer: coverage-guided, needs a C++ compiler)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("tidy") => tidy::run(),
        Some("readme-check") => readme::run(&args[1..]),
        Some("publish-check") => publish::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("conformance") => conformance::run(&args[1..]),
        Some("dist") => dist::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("stress") => stress::run(&args[1..]),
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask lives one level below it).
fn workspace_root() -> std::path::PathBuf {
    let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}
