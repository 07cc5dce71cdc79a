//! The workloads, one module each, and the run that strings them together and ends with the
//! targets table.
//!
//! | workload  | module    | what it measures                                                  |
//! |-----------|-----------|-------------------------------------------------------------------|
//! | `lines`   | `lines`   | pipe lines, 64 B and 512 B: every line reader vs raw, ceiling, glue |
//! | `length`  | `length`  | u32 BE length-delimited frames, 100 B and 16 KiB payloads          |
//! | `kmsg`    | `kmsg`    | `/dev/kmsg` read-all per backend vs a raw 8 KiB loop and `dmesg`   |
//! | `follow`  | `follow`  | a file appended to, followed per backend vs a raw inotify loop, `tail -F` |
//! | `allocs`  | `allocs`  | heap allocations per frame (in the `fdframe-bench-allocs` process) |
//! | `latency` | `latency` | write-to-item p50/p99 of an idle stream, per backend vs its glue   |
//! | `scale`   | `scale`   | 10,000 pipes on one runtime per backend: frames/s and RSS          |
//! | `engine`  | `engine`  | the decoder alone vs through `Framer`, in memory                   |

pub(crate) mod allocs;
mod engine;
mod follow;
mod kmsg;
mod latency;
mod length;
mod lines;
mod scale;

use std::process::ExitCode;
use std::time::Instant;

use crate::harness::{self, Res};
use crate::options::Options;
use crate::report::{self, Targets};

type Workload = fn(&Options, &mut Targets) -> Res<()>;

fn workload(name: &str) -> Workload {
    match name {
        "lines" => lines::run,
        "length" => length::run,
        "kmsg" => kmsg::run,
        "follow" => follow::run,
        "allocs" => allocs::run,
        "latency" => latency::run,
        "scale" => scale::run,
        _ => engine::run,
    }
}

/// The `fdframe-bench` binary.
pub(crate) fn main(args: Vec<String>) -> ExitCode {
    if args.first().is_some_and(|a| a == "--scale-child") {
        return scale::child_main(&args[1..]);
    }
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("fdframe-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    report::machine();
    harness::find_cpus(options.pin);
    crate::pipe::set_write_size(options.write_size);
    let placement = match (harness::pin(0), harness::cpu_for(1)) {
        (Some(reader), Some(writer)) => {
            format!("readers pinned to CPU {reader}, writers to CPU {writer}")
        }
        _ => "threads not pinned".to_string(),
    };
    println!(
        "mode: {}; workloads: {}; {placement}",
        if options.quick { "--quick" } else { "full" },
        options.workloads.join(", ")
    );
    let mut targets = Targets::default();
    let mut failed = Vec::new();
    for name in &options.workloads {
        let begun = Instant::now();
        match workload(name)(&options, &mut targets) {
            Ok(()) => println!("({name}: {:.1} s)", begun.elapsed().as_secs_f64()),
            Err(e) => {
                println!("\nFAILED: {name}: {e}");
                eprintln!("FAILED: {name}: {e}");
                failed.push(*name);
            }
        }
    }
    targets.print();
    println!(
        "\nwhole run: {:.1} s; load average at the end {}",
        started.elapsed().as_secs_f64(),
        report::load_average()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("fdframe-bench: failed: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}
