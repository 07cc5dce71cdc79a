//! Heap allocations per frame: the `lines` and `length` contenders again, one validated run
//! each, in the `fdframe-bench-allocs` process whose global allocator counts every allocation
//! and reallocation (stats_alloc).
//!
//! Each contender first runs once on 1 MiB, so one-off initialisation (the thread's tokio
//! runtime, async-io's reactor thread) is not charged to it; what is counted then is the whole
//! measured run, stream setup included, divided by its frames. The writer thread allocates
//! nothing once started.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;

use crate::AllocationCounter;
use crate::harness::{self, Contender, Res, Role, Watchdog};
use crate::options::Options;
use crate::pipe::{self, Payload, PipeRun};
use crate::report::{self, ALLOCS_PER_FRAME, Goal, Targets};

use super::{length, lines};

/// The most allocations per frame fdframe may make.
const TARGET: f64 = 0.01;

/// Runs `fdframe-bench-allocs` (next to this executable) and folds its targets into `targets`.
pub(crate) fn run(options: &Options, targets: &mut Targets) -> Res<()> {
    let exe = std::env::current_exe()?.with_file_name("fdframe-bench-allocs");
    if !exe.exists() {
        harness::skip(
            "allocations",
            &format!(
                "{} is not built (`cargo xtask bench` builds it; or `cargo build --release -p \
                 fdframe-bench`)",
                exe.display()
            ),
        )?;
        return Ok(());
    }
    let mut child = Command::new(&exe)
        .args(options.to_args())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or("no stdout from the allocation counter")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if !targets.read_line(&line) {
            println!("{line}");
        }
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("{} failed ({status})", exe.display()).into());
    }
    Ok(())
}

/// The `fdframe-bench-allocs` binary's work.
pub(crate) fn child_main(args: Vec<String>, count: AllocationCounter) -> ExitCode {
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("fdframe-bench-allocs: {e}");
            return ExitCode::from(2);
        }
    };
    let mut targets = Targets::default();
    match measure_all(&options, count, &mut targets) {
        Ok(()) => {
            print!("{}", targets.to_lines());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("FAILED: allocations: {e}");
            ExitCode::FAILURE
        }
    }
}

fn measure_all(options: &Options, count: AllocationCounter, targets: &mut Targets) -> Res<()> {
    let megabytes = options.pick(16, 2);
    crate::pipe::set_write_size(options.write_size);
    // Each workload: its name, its payload of N MiB, its contenders.
    type Make = fn(usize) -> Payload;
    let workloads: [(&str, Make, Vec<Contender<PipeRun>>); 3] = [
        (
            "lines 64 B",
            |mb| Payload::lines(64, mb),
            lines::contenders(&options.max_reads),
        ),
        (
            "lines 512 B",
            |mb| Payload::lines(512, mb),
            lines::contenders(&options.max_reads),
        ),
        (
            "length-delimited 100 B",
            |mb| Payload::length_delimited(100, mb),
            length::contenders(&options.max_reads),
        ),
    ];
    println!(
        "\nheap allocations per frame (allocations + reallocations, counting allocator), \
         {megabytes} MiB per run, after a 1 MiB warm-up run"
    );
    println!(
        "{:<24} {:<w$} {:>12} {:>12}",
        "workload",
        "contender",
        "allocs/frame",
        "allocs/run",
        w = report::NAME_WIDTH
    );
    for (workload, make, contenders) in workloads {
        let payload = Arc::new(make(megabytes));
        let warm_up = Arc::new(make(1));
        for contender in harness::select(contenders, |name| options.selects(name), true) {
            let _watch = Watchdog::arm(&contender.name, harness::STALL_LIMIT);
            pipe::measure(&*contender.run, &warm_up)?;
            let (fd, writer) = pipe::with_writer(&payload)?;
            writer.start();
            let before = count();
            let seen = (contender.run)(fd);
            let allocations = count() - before;
            writer.finish()?;
            seen?.check(&contender.name, payload.expected())?;
            let per_frame = allocations as f64 / payload.expected().frames as f64;
            println!(
                "{workload:<24} {:<w$} {per_frame:>12.4} {allocations:>12}",
                contender.name,
                w = report::NAME_WIDTH
            );
            let path = match contender.role {
                Role::PerFrame(backend) => Some((backend, "")),
                Role::Batch(backend) => Some((backend, " batch")),
                _ => None,
            };
            if let Some((backend, path)) = path {
                targets.push(
                    format!("{workload}: fdframe {backend}{path} allocations per frame"),
                    Some(per_frame),
                    Goal::AtMost,
                    TARGET,
                    ALLOCS_PER_FRAME,
                    "",
                );
            }
        }
    }
    Ok(())
}
