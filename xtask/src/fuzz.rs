//! `cargo xtask fuzz [--seconds N] [--target T]... [--jobs J] [--seed S] [--libfuzzer]`:
//! fuzzes each target for N seconds (J at a time) and prints one row per target: execs,
//! execs/s, crashes, peak memory, most reads in one call, coverage.
//!
//! Two engines run the same targets (`crates/fdframe-fuzz`):
//!
//! - by default the crate's own runner (`fdframe-fuzz run`), a random mutational fuzzer with
//!   behavioural feedback, plain stable Rust: what CI runs;
//! - with `--libfuzzer`, libFuzzer, coverage-guided: `crates/fdframe-fuzz/libfuzzer` built with
//!   LLVM's sanitizer-coverage passes (`-Cpasses=sancov-module`, stable codegen flags; the build
//!   needs a C++ compiler for libFuzzer's sources). Its corpus grows in
//!   `target/libfuzzer/corpus/<target>/`, seeded by the repository's corpus. Memory is libFuzzer's
//!   peak RSS; reads per call are not reported.
//!
//! A crash fails the command; the input is saved under `crates/fdframe-fuzz/artifacts/<target>/`
//! and the fuzzer's output (the panic, the input) is printed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::workspace_root;

const USAGE: &str =
    "cargo xtask fuzz [--seconds N] [--target T]... [--jobs J] [--seed S] [--libfuzzer]";

struct Options {
    seconds: f64,
    targets: Vec<String>,
    jobs: usize,
    seed: Option<String>,
    libfuzzer: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        seconds: 60.0,
        targets: Vec::new(),
        jobs: 1,
        seed: None,
        libfuzzer: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value ({USAGE})"))
        };
        match arg.as_str() {
            "--seconds" => {
                let v = value()?;
                o.seconds = v.parse().map_err(|e| format!("--seconds {v}: {e}"))?;
            }
            "--target" => o.targets.push(value()?),
            "--jobs" => {
                let v = value()?;
                o.jobs = v.parse().map_err(|e| format!("--jobs {v}: {e}"))?;
                o.jobs = o.jobs.max(1);
            }
            "--seed" => o.seed = Some(value()?),
            "--libfuzzer" => o.libfuzzer = true,
            other => return Err(format!("unknown argument `{other}` ({USAGE})")),
        }
    }
    Ok(o)
}

/// One target's summary, from the runner's last line.
struct Row {
    target: String,
    fields: Vec<(String, String)>,
    output: String,
    success: bool,
}

impl Row {
    fn get(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map_or("-", |(_, v)| v.as_str())
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// The sanitizer-coverage instrumentation libFuzzer feeds on (what `cargo fuzz` passes, minus
/// AddressSanitizer, which needs nightly; safe Rust has no memory errors for it to find).
const LIBFUZZER_RUSTFLAGS: &str = "-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing";

fn host_triple() -> Result<String, String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host".into())
}

/// Builds the runner (or the libFuzzer binary) and returns its path.
fn build(libfuzzer: bool) -> Result<PathBuf, String> {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(workspace_root());
    let path = if libfuzzer {
        // `--target` keeps the instrumentation flags away from build scripts.
        let host = host_triple()?;
        let dir = target_dir().join("libfuzzer");
        cmd.args(["build", "--release", "--manifest-path"])
            .arg(workspace_root().join("crates/fdframe-fuzz/libfuzzer/Cargo.toml"))
            .args(["--target", &host, "--target-dir"])
            .arg(&dir)
            .env(
                "RUSTFLAGS",
                LIBFUZZER_RUSTFLAGS
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        dir.join(host)
            .join("release")
            .join("fdframe-fuzz-libfuzzer")
    } else {
        // The `fuzz` profile: release, with overflow checks and debug assertions.
        cmd.args(["build", "--profile", "fuzz", "-p", "fdframe-fuzz"]);
        target_dir().join("fuzz").join("fdframe-fuzz")
    };
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the fuzzer failed ({status})"));
    }
    Ok(path)
}

/// The command that fuzzes `target`.
fn fuzz_command(o: &Options, runner: &Path, target: &str) -> Result<Command, String> {
    let mut cmd = Command::new(runner);
    if o.libfuzzer {
        let work = target_dir().join("libfuzzer/corpus").join(target);
        let artifacts = workspace_root()
            .join("crates/fdframe-fuzz/artifacts")
            .join(target);
        for dir in [&work, &artifacts] {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        // New inputs go to the first directory; the repository's corpus is only read.
        cmd.env("FDFRAME_FUZZ_TARGET", target)
            .arg(&work)
            .arg(
                workspace_root()
                    .join("crates/fdframe-fuzz/corpus")
                    .join(target),
            )
            .arg(format!("-max_total_time={}", o.seconds.ceil() as u64))
            .arg("-max_len=20000")
            .arg("-print_final_stats=1")
            .arg(format!("-artifact_prefix={}/", artifacts.display()));
        if let Some(seed) = &o.seed {
            cmd.arg(format!("-seed={seed}"));
        }
    } else {
        cmd.args(["run", "--target", target, "--seconds"])
            .arg(o.seconds.to_string());
        if let Some(seed) = &o.seed {
            cmd.args(["--seed", seed]);
        }
    }
    Ok(cmd)
}

/// The summary fields of one run's output.
fn summary(libfuzzer: bool, stdout: &str, stderr: &str) -> Vec<(String, String)> {
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    if !libfuzzer {
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with("fdframe-fuzz: target="))
            .unwrap_or("");
        return line
            .trim_start_matches("fdframe-fuzz: ")
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| pair(k, v))
            .collect();
    }
    let mut fields = Vec::new();
    for line in stderr.lines() {
        if let Some((key, value)) = line.strip_prefix("stat::").and_then(|l| l.split_once(':')) {
            let value = value.trim();
            match key {
                "number_of_executed_units" => fields.push(pair("execs", value)),
                "average_exec_per_sec" => fields.push(pair("execs_per_s", value)),
                "peak_rss_mb" => {
                    let bytes = value.parse::<u64>().map_or(0, |mb| mb << 20);
                    fields.push(pair("peak_bytes", &bytes.to_string()));
                }
                _ => {}
            }
        }
        if line.contains(" DONE ") || line.contains(" cov: ") {
            let mut words = line.split_whitespace();
            while let Some(word) = words.next() {
                if word == "cov:" {
                    if let Some(cov) = words.next() {
                        fields.retain(|(k, _)| k != "coverage");
                        fields.push(pair("coverage", cov));
                    }
                }
            }
        }
    }
    fields
}

/// Runs the fuzzer as `args` say.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let o = parse(args)?;
    let runner = build(o.libfuzzer)?;
    let targets = if o.targets.is_empty() {
        // The runner lists the targets (the libFuzzer binary runs the same ones).
        let list = if o.libfuzzer {
            build(false)?
        } else {
            runner.clone()
        };
        let out = Command::new(&list)
            .arg("list")
            .output()
            .map_err(|e| format!("{}: {e}", list.display()))?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    } else {
        o.targets.clone()
    };
    println!(
        "xtask fuzz: {} targets, {} s each, {} at a time, {}",
        targets.len(),
        o.seconds,
        o.jobs,
        if o.libfuzzer {
            "libFuzzer (coverage-guided)"
        } else {
            "fdframe-fuzz runner (mutational, behavioural feedback)"
        }
    );
    let started = Instant::now();
    let mut rows = Vec::new();
    for batch in targets.chunks(o.jobs) {
        let children: Vec<(String, Child)> = batch
            .iter()
            .map(|target| {
                let mut cmd = fuzz_command(&o, &runner, target)?;
                cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
                cmd.spawn()
                    .map(|child| (target.clone(), child))
                    .map_err(|e| format!("{}: {e}", runner.display()))
            })
            .collect::<Result<_, _>>()?;
        for (target, child) in children {
            let out = child
                .wait_with_output()
                .map_err(|e| format!("{target}: {e}"))?;
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            let fields = summary(o.libfuzzer, &stdout, &stderr);
            rows.push(Row {
                target,
                fields,
                output: format!("{stderr}{stdout}"),
                success: out.status.success(),
            });
        }
    }
    print_table(&rows);
    println!("xtask fuzz: done in {:.0?}", started.elapsed());
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.success).collect();
    if failed.is_empty() {
        return Ok(());
    }
    for row in &failed {
        eprintln!("--- {} ---\n{}", row.target, row.output);
    }
    Err(format!(
        "fuzzing found a problem in: {}",
        failed
            .iter()
            .map(|r| r.target.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<18} {:>12} {:>10} {:>8} {:>12} {:>12} {:>10} {:>8}",
        "target", "execs", "execs/s", "crashes", "peak memory", "run peak", "reads/call", "cov"
    );
    for row in rows {
        let crashes = if row.success { "0" } else { "FAILED" };
        println!(
            "{:<18} {:>12} {:>10} {:>8} {:>12} {:>12} {:>10} {:>8}",
            row.target,
            row.get("execs"),
            row.get("execs_per_s"),
            crashes,
            bytes(row.get("peak_bytes")),
            bytes(row.get("run_peak_bytes")),
            row.get("max_reads_per_call"),
            row.get("coverage"),
        );
    }
}

/// `n` bytes as KiB, or as given if it is not a number.
fn bytes(n: &str) -> String {
    n.parse::<u64>().map_or_else(
        |_| n.to_owned(),
        |n| format!("{:.0} KiB", n as f64 / 1024.0),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn options_are_parsed() {
        let args: Vec<String> = ["--seconds", "5", "--target", "kmsg", "--jobs", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = super::parse(&args).unwrap();
        assert_eq!(
            (o.seconds, o.targets, o.jobs),
            (5.0, vec!["kmsg".to_string()], 2)
        );
        assert!(super::parse(&["--bogus".to_string()]).is_err());
    }

    #[test]
    fn both_runners_summaries_are_read() {
        let ours =
            "noise\nfdframe-fuzz: target=lines execs=12 execs_per_s=3 crashes=0 peak_bytes=4096\n";
        let fields = super::summary(false, ours, "");
        assert!(
            fields.contains(&("execs".into(), "12".into())),
            "{fields:?}"
        );
        let libfuzzer = "#100\tDONE   cov: 458 ft: 1927 corp: 327/68Kb exec/s: 30684 rss: 30Mb\n\
                         stat::number_of_executed_units: 184109\n\
                         stat::average_exec_per_sec:     30684\n\
                         stat::peak_rss_mb:              30\n";
        let fields = super::summary(true, "", libfuzzer);
        for (key, value) in [
            ("execs", "184109"),
            ("execs_per_s", "30684"),
            ("peak_bytes", "31457280"),
            ("coverage", "458"),
        ] {
            assert!(
                fields.contains(&(key.into(), value.into())),
                "{key}: {fields:?}"
            );
        }
    }
}
