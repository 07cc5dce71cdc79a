//! Scale: 10,000 pipes, one reader stream per pipe, all on one thread of one runtime per
//! backend; a writer thread goes round-robin over the pipes writing 8 lines of 64 B at a time.
//! Reported: frames/s from the writer's start to the last stream's end, the setup time (creating
//! and registering every stream), and peak RSS above the process's size before the streams.
//!
//! Each run is a child process of its own (`fdframe-bench --scale-child NAME PIPES FRAMES`) so
//! that one contender's heap cannot inflate the next one's RSS. The blocking backend's natural
//! shape, a thread per stream, is not what anyone runs at 10,000 streams; its contender here is
//! `FdReader::poll_next_now` driven by one `poll(2)` over every pipe (which costs O(pipes) per
//! wait, as poll(2) does).

use std::io::Write;
use std::os::fd::OwnedFd;
use std::process::{Command, ExitCode};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crate::harness::{self, Res, Role, Runs, Watchdog};
use crate::options::Options;
use crate::report::{self, Targets};

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
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    frames: u64,
    elapsed: Duration,
    setup: Duration,
    peak_kib: u64,
    base_kib: u64,
}

/// Runs every contender in its own process, interleaved.
pub(crate) fn run(options: &Options, _targets: &mut Targets) -> Res<()> {
    let pipes = options.pick(10_000, 1_000);
    let frames = options.pick(200, 40);
    let rounds = options.rounds(3);
    let exe = std::env::current_exe()?;
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); CONTENDERS.len()];
    for _ in 0..rounds {
        for (i, (key, name)) in CONTENDERS.iter().enumerate() {
            if !options.selects(name) {
                continue;
            }
            let _watch = Watchdog::arm(name, harness::STALL_LIMIT);
            let output = Command::new(&exe)
                .args([
                    "--scale-child",
                    key,
                    &pipes.to_string(),
                    &frames.to_string(),
                ])
                .output()?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            if let Some(reason) = stdout.lines().find_map(|l| l.strip_prefix("@skip ")) {
                return harness::skip(&format!("scale, {pipes} pipes"), reason);
            }
            let sample = stdout.lines().find_map(parse_sample).ok_or_else(|| {
                format!(
                    "{name}: {} ({})",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                )
            })?;
            if sample.frames != (pipes * frames) as u64 {
                return Err(format!(
                    "{name}: {} frames, expected {}",
                    sample.frames,
                    pipes * frames
                )
                .into());
            }
            samples[i].push(sample);
        }
    }
    print(&samples, pipes, frames, rounds);
    Ok(())
}

fn print(samples: &[Vec<Sample>], pipes: usize, frames: usize, rounds: usize) {
    println!(
        "\nscale: {pipes} pipes, one stream each on one thread, {frames} lines of 64 B per pipe \
         written {BURST} at a time round-robin; median of {rounds} interleaved rounds, a process \
         per run"
    );
    println!(
        "{:<w$} {:>8} {:>9} {:>9} {:>9} {:>7}",
        "contender",
        "Mfr/s",
        "setup ms",
        "RSS MiB",
        "KiB/pipe",
        "spread",
        w = report::NAME_WIDTH
    );
    for ((_, name), samples) in CONTENDERS.iter().zip(samples) {
        if samples.is_empty() {
            continue;
        }
        let runs = Runs {
            name: name.to_string(),
            role: Role::PerFrame(harness::Backend::Blocking),
            times: samples.iter().map(|s| s.elapsed).collect(),
        };
        let median = |f: fn(&Sample) -> u64| {
            let mut values: Vec<u64> = samples.iter().map(f).collect();
            values.sort_unstable();
            values[values.len() / 2]
        };
        let peak = median(|s| s.peak_kib);
        let grown = median(|s| s.peak_kib.saturating_sub(s.base_kib));
        println!(
            "{:<w$} {:>8.2} {:>9.1} {:>9.1} {:>9.1} {:>6.0}%",
            name,
            samples[0].frames as f64 / runs.median().as_secs_f64() / 1e6,
            median(|s| s.setup.as_micros() as u64) as f64 / 1e3,
            peak as f64 / 1024.0,
            grown as f64 / pipes as f64,
            runs.spread() * 100.0,
            w = report::NAME_WIDTH
        );
    }
}

fn parse_sample(line: &str) -> Option<Sample> {
    let fields: Vec<u64> = line
        .strip_prefix("@scale ")?
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [frames, elapsed, setup, peak_kib, base_kib] = fields[..] else {
        return None;
    };
    Some(Sample {
        frames,
        elapsed: Duration::from_nanos(elapsed),
        setup: Duration::from_nanos(setup),
        peak_kib,
        base_kib,
    })
}

/// `fdframe-bench --scale-child NAME PIPES FRAMES`: one run, reported on one `@scale` line.
pub(crate) fn child_main(args: &[String]) -> ExitCode {
    let parsed = match args {
        [key, pipes, frames] => pipes
            .parse()
            .ok()
            .zip(frames.parse().ok())
            .map(|p| (key, p)),
        _ => None,
    };
    let Some((key, (pipes, frames))) = parsed else {
        eprintln!("usage: fdframe-bench --scale-child NAME PIPES FRAMES");
        return ExitCode::from(2);
    };
    match child(key, pipes, frames) {
        Ok(Some(sample)) => {
            println!(
                "@scale {} {} {} {} {}",
                sample.frames,
                sample.elapsed.as_nanos(),
                sample.setup.as_nanos(),
                sample.peak_kib,
                sample.base_kib
            );
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn child(key: &str, pipes: usize, frames: usize) -> Res<Option<Sample>> {
    // Both ends of every pipe, mio's one registry clone per registered reader, and some spare.
    if let Err(reason) = raise_nofile(3 * pipes as u64 + 256) {
        println!("@skip {reason}");
        return Ok(None);
    }
    let run = contenders::get(key).ok_or_else(|| format!("no scale contender `{key}`"))?;
    let mut readers = Vec::with_capacity(pipes);
    let mut writers = Vec::with_capacity(pipes);
    for _ in 0..pipes {
        let (reader, writer) = std::io::pipe()?;
        readers.push(OwnedFd::from(reader));
        writers.push(std::fs::File::from(OwnedFd::from(writer)));
    }
    let burst = LINE.repeat(BURST);
    let go = Arc::new(Barrier::new(2));
    let writing = {
        let go = Arc::clone(&go);
        std::thread::spawn(move || -> std::io::Result<()> {
            go.wait();
            for _ in 0..frames / BURST {
                for writer in &mut writers {
                    writer.write_all(&burst)?;
                }
            }
            Ok(())
        })
    };
    let base_kib = status_kib("VmRSS:")?;
    // Peak RSS from here on (Linux 4.0+: writing 5 resets VmHWM); if refused, the peak so far.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let setup_started = Instant::now();
    let mut started = None;
    let seen = run(readers, (frames / BURST * BURST) as u64, &mut || {
        go.wait();
        started = Some(Instant::now());
    });
    let end = Instant::now();
    if started.is_none() {
        // The contender failed before it let the writer go: release it (into closed pipes).
        go.wait();
    }
    let wrote = writing.join().map_err(|_| "the writer thread panicked")?;
    let frames_seen = seen?;
    wrote?;
    let started = started.ok_or("the contender never started the writer")?;
    Ok(Some(Sample {
        frames: frames_seen,
        elapsed: end - started,
        setup: started - setup_started,
        peak_kib: status_kib("VmHWM:")?,
        base_kib,
    }))
}

/// Raises the soft descriptor limit to `need` (and the hard limit, where this process may).
fn raise_nofile(need: u64) -> Result<(), String> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|c| c >= need) || limit.current.is_none() {
        return Ok(());
    }
    let max = limit.maximum.map(|m| m.max(need));
    let wanted = Rlimit {
        current: Some(need),
        maximum: max,
    };
    if setrlimit(Resource::Nofile, wanted).is_ok() {
        return Ok(());
    }
    let hard = limit.maximum.unwrap_or(u64::MAX);
    if hard >= need {
        let soft = Rlimit {
            current: Some(hard),
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, soft).is_ok() {
            return Ok(());
        }
    }
    Err(format!(
        "needs {need} descriptors, RLIMIT_NOFILE allows {hard} (raise the hard limit, or run as root)"
    ))
}

/// A `kB` line of /proc/self/status.
fn status_kib(field: &str) -> Res<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("unreadable {line}"))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scale_contender_sees_every_pipes_frames() {
        for (key, name) in CONTENDERS {
            let sample = child(key, 50, 16).unwrap_or_else(|e| panic!("{name}: {e}"));
            let Some(sample) = sample else {
                harness::skip(
                    "every_scale_contender_sees_every_pipes_frames",
                    "no descriptors",
                )
                .unwrap();
                return;
            };
            assert_eq!(sample.frames, 50 * 16, "{name}");
        }
    }

    #[test]
    fn the_child_report_is_read_back() {
        let sample = parse_sample("@scale 800 1000 20 3000 1000").unwrap();
        assert_eq!(sample.frames, 800);
        assert_eq!(sample.elapsed, Duration::from_nanos(1000));
        assert!(parse_sample("@scale 800 1000").is_none());
    }
}
