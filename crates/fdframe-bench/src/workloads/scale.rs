//! Scale: 10,000 pipes, one reader stream per pipe, all on one thread of one runtime per
//! backend; a writer thread goes round-robin over the pipes writing 8 lines of 64 B at a time.
//! Reported: frames/s from the writer's start to the last stream's end, the setup time (creating
//! and registering every stream), and peak RSS above the process's size before the streams.
//!
//! Each run is a child process of its own (`fdframe-bench --scale-child NAME PIPES FRAMES pin`) so
//! that one contender's heap cannot inflate the next one's RSS; the child keeps the read ends
//! and this process, the writer, gets the write ends over a socket (`channel`). The child's CPU
//! time is therefore all reading side. The blocking backend's natural
//! shape, a thread per stream, is not what anyone runs at 10,000 streams; its contender here is
//! `FdReader::poll_next_now` driven by one `poll(2)` over every pipe (which costs O(pipes) per
//! wait, as poll(2) does).

use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use crate::harness::{self, Res, Role, Runs, Sample as Timing, Watchdog};
use crate::options::Options;
use crate::report::{self, Targets};

mod channel;
mod child;
mod contenders;

/// One line, newline included.
const LINE: &[u8; 64] = b"scale: sixty-three bytes of line text, then one newline........\n";
/// Lines per `write(2)`.
const BURST: usize = 8;

/// The contenders: the key the child is started with, and the name shown.
const CONTENDERS: &[(&str, &str)] = &[
    ("tokio", "fdframe tokio (current-thread, a task per pipe)"),
    (
        "async-io",
        "fdframe async-io (async-executor, a task per pipe)",
    ),
    ("mio", "fdframe mio (one Poll, a Token per pipe)"),
    ("blocking", "fdframe blocking (poll_next_now, one poll(2))"),
    ("glue", "tuned glue 8 KiB (tokio, a task per pipe)"),
];

/// What one child reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Sample {
    /// Pipes the child could open (fewer than asked only where descriptors ran out).
    pipes: u64,
    frames: u64,
    elapsed: Duration,
    /// CPU time of the child (all reading side) from the writer's start to the end.
    cpu: Duration,
    setup: Duration,
    peak_kib: u64,
    base_kib: u64,
}

impl Sample {
    fn line(&self) -> String {
        format!(
            "@scale {} {} {} {} {} {} {}",
            self.pipes,
            self.frames,
            self.elapsed.as_nanos(),
            self.cpu.as_nanos(),
            self.setup.as_nanos(),
            self.peak_kib,
            self.base_kib
        )
    }

    fn parse(line: &str) -> Option<Sample> {
        let fields: Vec<u64> = line
            .strip_prefix("@scale ")?
            .split_whitespace()
            .map(|f| f.parse().ok())
            .collect::<Option<_>>()?;
        let [pipes, frames, elapsed, cpu, setup, peak_kib, base_kib] = fields[..] else {
            return None;
        };
        Some(Sample {
            pipes,
            frames,
            elapsed: Duration::from_nanos(elapsed),
            cpu: Duration::from_nanos(cpu),
            setup: Duration::from_nanos(setup),
            peak_kib,
            base_kib,
        })
    }
}

/// Runs every contender in its own process, interleaved.
pub(crate) fn run(options: &Options, _targets: &mut Targets) -> Res<()> {
    let pipes = options.pick(10_000, 1_000);
    let frames = options.pick(200, 40);
    let rounds = options.rounds(3);
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); CONTENDERS.len()];
    for _ in 0..rounds {
        for (i, (key, name)) in CONTENDERS.iter().enumerate() {
            if !options.selects(name) {
                continue;
            }
            let _watch = Watchdog::arm(name, harness::STALL_LIMIT);
            match one_run(key, pipes, frames, options.pin)? {
                Ok(sample) => samples[i].push(sample),
                Err(reason) => return harness::skip(&format!("scale, {name}"), &reason),
            }
        }
    }
    print(options, &samples, pipes, frames, rounds);
    Ok(())
}

/// One child process; `Err(reason)` if it could not run here.
fn one_run(key: &str, pipes: usize, frames: usize, pin: bool) -> Res<Result<Sample, String>> {
    let (ours, theirs) = channel::pair()?;
    let pin = if pin { "pin" } else { "no-pin" };
    let child = Command::new(std::env::current_exe()?)
        .args([
            "--scale-child",
            key,
            &pipes.to_string(),
            &frames.to_string(),
            pin,
        ])
        .stdin(Stdio::from(theirs))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // The writer on the writers' CPU, the child (which pins itself) on the readers'.
    let writing = std::thread::spawn(move || {
        harness::pin(1);
        let burst = LINE.repeat(BURST);
        channel::write_side(ours, frames, &burst, BURST).map_err(|e| e.to_string())
    });
    let output = child.wait_with_output()?;
    let wrote = writing.join().map_err(|_| "the writer thread panicked")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if let Some(reason) = stdout.lines().find_map(|l| l.strip_prefix("@skip ")) {
        return Ok(Err(reason.to_string()));
    }
    let failed = || {
        format!(
            "{key}: {} ({})",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )
    };
    wrote.map_err(|e| format!("{}: {e}", failed()))?;
    let sample = stdout.lines().find_map(Sample::parse).ok_or_else(failed)?;
    if sample.frames != sample.pipes * (frames / BURST * BURST) as u64 {
        return Err(format!(
            "{key}: {} frames from {} pipes",
            sample.frames, sample.pipes
        )
        .into());
    }
    Ok(Ok(sample))
}

fn print(options: &Options, samples: &[Vec<Sample>], pipes: usize, frames: usize, rounds: usize) {
    println!(
        "\nscale: {pipes} pipes, one stream each on one thread, {frames} lines of 64 B per pipe \
         written {BURST} at a time round-robin; median of {rounds} interleaved rounds, a process \
         per run"
    );
    println!(
        "(Mfr/s: wall clock; cpu ns/fr: the reader process's CPU time per frame; RSS: peak of the \
         reader process; KiB/pipe: that peak above its size before the streams, per pipe)"
    );
    println!(
        "{:<w$} {:>6} {:>7} {:>9} {:>9} {:>8} {:>9} {:>7}",
        "contender",
        "pipes",
        "Mfr/s",
        "cpu ns/fr",
        "setup ms",
        "RSS MiB",
        "KiB/pipe",
        "spread",
        w = report::NAME_WIDTH
    );
    for ((_, name), samples) in CONTENDERS.iter().zip(samples) {
        let Some(first) = samples.first() else {
            continue;
        };
        let mut runs = Runs::new(name, Role::Peer);
        for s in samples {
            runs.push(
                Timing {
                    wall: s.elapsed,
                    cpu: s.cpu,
                },
                options.clock,
            );
        }
        let median = |f: fn(&Sample) -> u64| {
            let mut values: Vec<u64> = samples.iter().map(f).collect();
            values.sort_unstable();
            values[values.len() / 2]
        };
        let grown = median(|s| s.peak_kib.saturating_sub(s.base_kib));
        println!(
            "{:<w$} {:>6} {:>7.2} {:>9.1} {:>9.1} {:>8.1} {:>9.1} {:>6.0}%",
            name,
            first.pipes,
            first.frames as f64 / runs.median_wall().as_secs_f64() / 1e6,
            runs.median_cpu().as_nanos() as f64 / first.frames as f64,
            median(|s| s.setup.as_micros() as u64) as f64 / 1e3,
            median(|s| s.peak_kib) as f64 / 1024.0,
            grown as f64 / first.pipes as f64,
            runs.spread() * 100.0,
            w = report::NAME_WIDTH
        );
        if first.pipes < pipes as u64 {
            println!(
                "  ^ only {} pipes: {}",
                first.pipes,
                child::FEWER_PIPES_REASON
            );
        }
    }
}

/// The child's arguments: contender, pipes, lines per pipe, whether to pin.
fn child_args(args: &[String]) -> Option<(&str, usize, usize, bool)> {
    let [key, pipes, frames, pin] = args else {
        return None;
    };
    let pin = match pin.as_str() {
        "pin" => true,
        "no-pin" => false,
        _ => return None,
    };
    Some((key, pipes.parse().ok()?, frames.parse().ok()?, pin))
}

/// `fdframe-bench --scale-child NAME PIPES FRAMES pin|no-pin`, standard input a socket to the writer: one
/// run, reported on one `@scale` line (or `@skip REASON`).
pub(crate) fn child_main(args: &[String]) -> ExitCode {
    let Some((key, pipes, frames, pin)) = child_args(args) else {
        eprintln!(
            "usage: fdframe-bench --scale-child NAME PIPES FRAMES pin|no-pin (stdin: the \
             writer's socket)"
        );
        return ExitCode::from(2);
    };
    harness::find_cpus(pin);
    harness::pin(0);
    let socket = match rustix::io::dup(rustix::stdio::stdin()) {
        Ok(socket) => socket,
        Err(e) => {
            eprintln!("no writer socket on standard input: {e}");
            return ExitCode::from(2);
        }
    };
    match child::run(key, pipes, frames, socket) {
        Ok(Ok(sample)) => {
            println!("{}", sample.line());
            ExitCode::SUCCESS
        }
        Ok(Err(reason)) => {
            println!("@skip {reason}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scale_contender_sees_every_pipes_frames() {
        let burst = LINE.repeat(BURST);
        for (key, name) in CONTENDERS {
            let (writer, reader) = channel::pair().unwrap();
            let writing = std::thread::spawn({
                let burst = burst.clone();
                move || channel::write_side(writer, 16, &burst, BURST).map_err(|e| e.to_string())
            });
            let sample = child::run(key, 50, 16, reader).unwrap_or_else(|e| panic!("{name}: {e}"));
            writing.join().unwrap().unwrap();
            let sample = match sample {
                Ok(sample) => sample,
                Err(reason) => {
                    harness::skip("every_scale_contender_sees_every_pipes_frames", &reason)
                        .unwrap();
                    return;
                }
            };
            assert_eq!((sample.pipes, sample.frames), (50, 50 * 16), "{name}");
        }
    }

    #[test]
    fn the_child_reads_the_arguments_the_parent_gives() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let given = args(&["mio", "10000", "200", "no-pin"]);
        assert_eq!(child_args(&given), Some(("mio", 10_000, 200, false)));
        assert_eq!(child_args(&args(&["mio", "10000", "200"])), None);
        assert_eq!(child_args(&args(&["mio", "many", "200", "pin"])), None);
    }

    #[test]
    fn the_child_report_is_read_back() {
        let sample = Sample {
            pipes: 50,
            frames: 800,
            elapsed: Duration::from_nanos(1000),
            cpu: Duration::from_nanos(900),
            setup: Duration::from_nanos(20),
            peak_kib: 3000,
            base_kib: 1000,
        };
        assert_eq!(Sample::parse(&sample.line()), Some(sample));
        assert!(Sample::parse("@scale 800 1000").is_none());
    }
}
