//! `fdframe-fuzz`: the stable-toolchain fuzzer for fdframe's decoders and engine.
//!
//! ```text
//! fdframe-fuzz run --target T --seconds N [--corpus DIR]... [--seed S] [--finds DIR] [--max-len L]
//! fdframe-fuzz replay --target T FILE...      run inputs once (a crash to reproduce, a corpus)
//! fdframe-fuzz seed [--target T]              write the hand-made seeds into corpus/<target>/
//! fdframe-fuzz list                           the targets
//! ```
//!
//! `run` loads `corpus/<target>/` (and any `--corpus` directories), mutates, saves a crashing
//! input to `artifacts/<target>/` and prints it, and ends with one summary line that
//! `cargo xtask fuzz` reads:
//!
//! ```text
//! fdframe-fuzz: target=lines execs=123456 seconds=60.0 execs_per_s=2057 crashes=0 corpus=40 features=310 peak_bytes=81234 run_peak_bytes=5120 max_reads_per_call=41
//! ```

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fdframe_fuzz::{TARGETS, Target, fuzzer, memory};
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

const USAGE: &str = "\
usage:
  fdframe-fuzz run --target T [--seconds N | --execs N] [--corpus DIR]... [--seed S]
                   [--finds DIR] [--max-len L] [--timeout SECS]
  fdframe-fuzz replay --target T FILE_OR_DIR...
  fdframe-fuzz seed [--target T]
  fdframe-fuzz list
";

fn main() -> ExitCode {
    memory::install(memory::Meter {
        current: || ALLOC.current_usage(),
        peak: || ALLOC.peak_usage(),
        reset_peak: || ALLOC.reset_peak_usage(),
    });
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("replay") => replay(&args[1..]),
        Some("seed") => seed(&args[1..]),
        Some("list") => {
            for t in TARGETS {
                println!("{}", t.name);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(USAGE.to_string()),
    };
    result.unwrap_or_else(|message| {
        eprintln!("fdframe-fuzz: {message}");
        ExitCode::FAILURE
    })
}

/// Options common to the subcommands, parsed by hand (a handful of flags).
#[derive(Default)]
struct Options {
    target: Option<String>,
    seconds: Option<f64>,
    execs: Option<u64>,
    corpus: Vec<PathBuf>,
    seed: Option<u64>,
    finds: Option<PathBuf>,
    max_len: Option<usize>,
    timeout: Option<u64>,
    files: Vec<PathBuf>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value"))
        };
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{arg} {v}: {e}"));
        match arg.as_str() {
            "--target" => o.target = Some(value()?),
            "--seconds" => {
                let v = value()?;
                o.seconds = Some(v.parse().map_err(|e| format!("--seconds {v}: {e}"))?);
            }
            "--execs" => o.execs = Some(number(value()?)?),
            "--corpus" => o.corpus.push(value()?.into()),
            "--seed" => o.seed = Some(number(value()?)?),
            "--finds" => o.finds = Some(value()?.into()),
            "--max-len" => o.max_len = Some(number(value()?)? as usize),
            "--timeout" => o.timeout = Some(number(value()?)?),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            file => o.files.push(file.into()),
        }
    }
    Ok(o)
}

fn target_named(name: Option<&str>) -> Result<&'static Target, String> {
    let name = name.ok_or("--target is required (see `fdframe-fuzz list`)")?;
    fdframe_fuzz::target(name)
        .ok_or_else(|| format!("no target `{name}` (see `fdframe-fuzz list`)"))
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let o = parse(args)?;
    let target = target_named(o.target.as_deref())?;
    if o.seconds.is_none() && o.execs.is_none() {
        return Err("give --seconds N or --execs N".into());
    }
    let mut corpus = vec![fdframe_fuzz::corpus_dir(target.name)];
    corpus.extend(o.corpus);
    let defaults = fuzzer::Config::default();
    let config = fuzzer::Config {
        duration: o.seconds.map(Duration::from_secs_f64),
        execs: o.execs,
        seed: o.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        }),
        max_len: o.max_len.unwrap_or(defaults.max_len),
        corpus,
        artifacts: Some(fdframe_fuzz::artifacts_dir(target.name)),
        finds: o.finds,
        timeout: o.timeout.map_or(defaults.timeout, Duration::from_secs),
        progress: true,
    };
    eprintln!(
        "fdframe-fuzz: {}: seed {}, read budget {} per call",
        target.name,
        config.seed,
        fdframe_fuzz::MAX_READS_PER_CALL
    );
    let report = fuzzer::run(target, &config);
    if let Some(crash) = &report.crash {
        eprintln!(
            "fdframe-fuzz: {}: CRASH: {}\n  saved to {}\n  input ({} bytes): {}\n  replay: cargo run -p fdframe-fuzz --profile fuzz -- replay --target {} {}",
            target.name,
            crash.message,
            crash
                .path
                .as_deref()
                .map_or("(not saved)".into(), |p| p.display().to_string()),
            crash.input.len(),
            crash.input.escape_ascii(),
            target.name,
            crash
                .path
                .as_deref()
                .map_or("FILE".into(), |p| p.display().to_string()),
        );
    }
    println!(
        "fdframe-fuzz: target={} execs={} seconds={:.1} execs_per_s={:.0} crashes={} loaded={} corpus={} features={} peak_bytes={} run_peak_bytes={} max_reads_per_call={}",
        report.target,
        report.execs,
        report.elapsed.as_secs_f64(),
        report.execs_per_sec(),
        u8::from(report.crash.is_some()),
        report.loaded,
        report.corpus,
        report.features,
        report.peak_bytes,
        fdframe_fuzz::max_run_peak_seen(),
        fdframe_fuzz::max_reads_per_call_seen(),
    );
    Ok(if report.crash.is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn replay(args: &[String]) -> Result<ExitCode, String> {
    let o = parse(args)?;
    let target = target_named(o.target.as_deref())?;
    if o.files.is_empty() {
        return Err("replay needs files or directories".into());
    }
    let mut inputs = Vec::new();
    for path in &o.files {
        if path.is_dir() {
            inputs.extend(fuzzer::load_corpus(std::slice::from_ref(path)));
        } else {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            inputs.push((path.clone(), bytes));
        }
    }
    let mut failed = 0;
    for (path, input) in &inputs {
        match fuzzer::run_one(target, input) {
            Ok(_) => println!("ok    {}", path.display()),
            Err(message) => {
                failed += 1;
                println!("CRASH {}: {message}", path.display());
            }
        }
    }
    println!(
        "fdframe-fuzz: replayed {} inputs for {}: {} passed, {failed} failed",
        inputs.len(),
        target.name,
        inputs.len() - failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn seed(args: &[String]) -> Result<ExitCode, String> {
    let o = parse(args)?;
    let targets: Vec<&Target> = match o.target.as_deref() {
        Some(name) => vec![target_named(Some(name))?],
        None => TARGETS.iter().collect(),
    };
    for target in targets {
        let dir = fdframe_fuzz::corpus_dir(target.name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let seeds = (target.seeds)();
        for (i, seed) in seeds.iter().enumerate() {
            let path = dir.join(format!("seed-{i}"));
            std::fs::write(&path, seed).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        println!(
            "{}: {} seeds in {}",
            target.name,
            seeds.len(),
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
