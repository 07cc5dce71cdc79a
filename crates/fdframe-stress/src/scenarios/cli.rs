//! `cli`: the built `fdframe kmsg -w --json` under SIGSTOP, a ring buffer overrun and SIGCONT:
//! the loss objects it prints plus the records it prints equal the sequence range, exactly.
//!
//! Several followers run at once through one overrun: one per `--backend`, one with
//! `--since-now`, and one with `--since-now` stopped right after it opened `/dev/kmsg`, before
//! it read anything. Each is stopped (checked in `/proc/PID/stat`), the ring buffer is flooded
//! until it has overwritten everything any of them could have read, an end marker is logged,
//! and they are continued and, once they printed the end marker, interrupted (SIGINT). Each
//! one's JSON lines must tile the range from its first line to the end marker: every sequence
//! number once, as a record or inside a loss object whose count is the gap. The early one may
//! begin with a loss object without a count instead, when the flood overwrote its start before
//! it could read there (no interface tells where a `/dev/kmsg` descriptor is).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use fdframe_conformance::Skip;
use fdframe_conformance::fixtures::{require_kmsg, unique_marker};
use rustix::process::{Pid, Signal, kill_process};

use super::kmsg::{Written, flood_past, newest_seq, write_marked};
use super::{Config, skipped};
use crate::report::{Row, Verdict};

/// One follower to run.
struct Variant {
    label: &'static str,
    args: &'static [&'static str],
    /// Stopped as soon as it has opened `/dev/kmsg`, before it could read.
    stop_before_reading: bool,
    known: Option<&'static str>,
}

const VARIANTS: &[Variant] = &[
    Variant {
        label: "cli tokio",
        args: &["--backend", "tokio"],
        stop_before_reading: false,
        known: None,
    },
    Variant {
        label: "cli async-std",
        args: &["--backend", "async-io"],
        stop_before_reading: false,
        known: None,
    },
    Variant {
        label: "cli mio",
        args: &["--backend", "mio"],
        stop_before_reading: false,
        known: None,
    },
    Variant {
        label: "cli blocking",
        args: &["--backend", "blocking"],
        stop_before_reading: false,
        known: None,
    },
    Variant {
        label: "cli --since-now",
        args: &["--since-now"],
        stop_before_reading: false,
        known: None,
    },
    Variant {
        label: "cli --since-now early",
        args: &["--since-now"],
        stop_before_reading: true,
        known: None,
    },
];

/// A running follower and what it printed.
struct Follower {
    variant: &'static Variant,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    stdout: Option<JoinHandle<()>>,
    stderr: Option<JoinHandle<String>>,
    /// The first sequence number it must account for.
    from_seq: Option<u64>,
}

impl Follower {
    fn spawn(cli: &Path, variant: &'static Variant) -> std::io::Result<Follower> {
        let mut child = Command::new(cli)
            .args(["kmsg", "--follow", "--json-lines"])
            .args(variant.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().map(|out| {
            let lines = Arc::clone(&lines);
            thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(mut lines) = lines.lock() {
                        lines.push(line);
                    }
                }
            })
        });
        let stderr = child.stderr.take().map(|mut err| {
            thread::spawn(move || {
                let mut text = String::new();
                let _ = err.read_to_string(&mut text);
                text
            })
        });
        Ok(Follower {
            variant,
            child,
            lines,
            stdout,
            stderr,
            from_seq: None,
        })
    }

    fn pid(&self) -> Option<Pid> {
        Pid::from_raw(self.child.id() as i32)
    }

    fn signal(&self, signal: Signal) {
        if let Some(pid) = self.pid() {
            let _ = kill_process(pid, signal);
        }
    }

    /// The sequence number of the first record it printed whose message is `message`.
    fn printed_seq(&self, message: &str) -> Option<u64> {
        let lines = self.lines.lock().ok()?;
        lines.iter().find_map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).ok()?;
            (value["type"] == "record" && value["message"] == message)
                .then(|| value["seq"].as_u64())?
        })
    }

    /// Waits (up to `limit`) for `done`.
    fn wait_for(&self, limit: Duration, mut done: impl FnMut(&Follower) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if done(self) {
                return true;
            }
            thread::sleep(Duration::from_millis(5));
        }
        done(self)
    }

    /// Whether it has `/dev/kmsg` open.
    fn has_kmsg_open(&self) -> bool {
        let Ok(entries) = std::fs::read_dir(format!("/proc/{}/fd", self.child.id())) else {
            return false;
        };
        entries.flatten().any(|e| {
            std::fs::read_link(e.path()).is_ok_and(|target| target == Path::new("/dev/kmsg"))
        })
    }

    /// Whether the kernel reports it stopped (`T` in `/proc/PID/stat`).
    fn is_stopped(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .ok()
            .and_then(|stat| {
                stat.rsplit_once(')')
                    .map(|(_, rest)| rest.trim_start().starts_with('T'))
            })
            .unwrap_or(false)
    }

    fn stop(&self) -> bool {
        self.signal(Signal::STOP);
        self.wait_for(Duration::from_secs(5), Follower::is_stopped)
    }

    /// Interrupts it and collects its exit code, lines, stderr and peak resident set in KiB
    /// (kills it if SIGINT does not end it within ten seconds).
    fn finish(mut self) -> (Option<i32>, Vec<String>, String, u64) {
        let peak_kib = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
                line.split_whitespace().nth(1)?.parse().ok()
            })
            .unwrap_or(0);
        self.signal(Signal::CONT);
        self.signal(Signal::INT);
        let deadline = Instant::now() + Duration::from_secs(10);
        let code = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        if let Some(out) = self.stdout.take() {
            let _ = out.join();
        }
        let stderr = self
            .stderr
            .take()
            .and_then(|e| e.join().ok())
            .unwrap_or_default();
        let lines = self.lines.lock().map(|l| l.clone()).unwrap_or_default();
        (code, lines, stderr, peak_kib)
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        // Never leave a stopped follower behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The scenario.
pub(super) fn stop_overrun_continue(config: &Config, out: &mut dyn FnMut(Row)) {
    let skip_all = |out: &mut dyn FnMut(Row), reason: &str| {
        for variant in VARIANTS {
            out(skipped("cli", variant.label, reason));
        }
    };
    if let Err(Skip(reason)) = require_kmsg() {
        return skip_all(out, &reason);
    }
    let Some(cli) = config.cli.as_deref() else {
        return skip_all(
            out,
            "no --cli PATH to the built fdframe binary (cargo xtask stress passes it)",
        );
    };
    let started = Instant::now();
    let marker = unique_marker("stress-cli");
    let mut written = Written::default();
    let mut followers = Vec::new();
    let mut failures: Vec<(usize, String)> = Vec::new();
    for variant in VARIANTS {
        match Follower::spawn(cli, variant) {
            Ok(follower) => followers.push(follower),
            Err(e) => {
                let mut row = Row::new("cli", variant.label);
                row.fail(format!("cannot run {}: {e}", cli.display()));
                out(row);
            }
        }
    }

    // The early one: stopped as soon as /dev/kmsg is open; it must account for everything
    // logged from then on.
    for (i, follower) in followers.iter_mut().enumerate() {
        if !follower.variant.stop_before_reading {
            continue;
        }
        if !follower.wait_for(Duration::from_secs(10), Follower::has_kmsg_open) || !follower.stop()
        {
            failures.push((i, "it never opened /dev/kmsg, or would not stop".into()));
            continue;
        }
        follower.from_seq = write_marked(&marker, "early", &mut written);
    }
    // The others: following (they printed a record logged after their start), then stopped.
    let ready = format!("{marker} ready");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline
        && followers
            .iter()
            .any(|f| !f.variant.stop_before_reading && f.printed_seq(&ready).is_none())
    {
        write_marked(&marker, "ready", &mut written);
        thread::sleep(Duration::from_millis(200));
    }
    for (i, follower) in followers.iter_mut().enumerate() {
        if follower.variant.stop_before_reading {
            continue;
        }
        follower.from_seq = follower.printed_seq(&ready);
        if follower.from_seq.is_none() {
            failures.push((i, "it never printed a record logged after its start".into()));
        } else if !follower.stop() {
            failures.push((i, "SIGSTOP did not stop it".into()));
        }
    }

    // Every stopped follower's position is at most the newest record + 1: overwrite past it.
    let flood = newest_seq()
        .ok_or_else(|| "the ring buffer is empty".to_string())
        .and_then(|newest| flood_past(newest + 1, &marker, &mut written));
    let end_message = format!("{marker} end");
    let end_seq = write_marked(&marker, "end", &mut written);
    for follower in &followers {
        follower.signal(Signal::CONT);
    }
    for (i, follower) in followers.iter().enumerate() {
        if !follower.wait_for(Duration::from_secs(20), |f| {
            f.printed_seq(&end_message).is_some()
        }) {
            failures.push((i, "it never printed the end marker after SIGCONT".into()));
        }
    }
    let elapsed = started.elapsed();
    for (i, follower) in followers.into_iter().enumerate() {
        let variant = follower.variant;
        let from_seq = follower.from_seq;
        let (code, lines, stderr, peak_kib) = follower.finish();
        let mut row = Row::new("cli", variant.label);
        row.elapsed = elapsed;
        // The follower's own peak (VmHWM), not this process's.
        row.peak_rss_kib = peak_kib;
        row.note("ours_written", written.records);
        account(
            &mut row,
            &lines,
            from_seq,
            end_seq,
            variant.stop_before_reading,
        );
        if let Err(e) = &flood {
            row.fail(e.clone());
        }
        for (_, why) in failures.iter().filter(|(at, _)| *at == i) {
            row.fail(why.clone());
        }
        if code != Some(130) {
            row.fail(format!(
                "exit code {code:?} after SIGINT, not 130; stderr: {}",
                stderr.trim()
            ));
        }
        match (&row.verdict, variant.known) {
            (Verdict::Fail(why), Some(known)) => {
                row.verdict = Verdict::Known(format!("{known}: {why}"));
            }
            // Say so when a known bug no longer shows, so its label is removed.
            (Verdict::Ok, Some(_)) => row.note("known_bug", "gone (drop its `known` in cli.rs)"),
            _ => {}
        }
        out(row);
    }
}

/// Checks that the printed lines tile `first..=end_seq`, with `first <= from_seq`.
///
/// `lost_start_ok`: the follower was stopped before it could read its start, and the flood
/// overwrote the start: the kernel never tells a reader where its descriptor is, so what was
/// overwritten there can only be reported as a loss without a count. Allowed as the first
/// line only, where it stands for everything from the start up to the record after it.
fn account(
    row: &mut Row,
    lines: &[String],
    from_seq: Option<u64>,
    end_seq: Option<u64>,
    lost_start_ok: bool,
) {
    let Some(end_seq) = end_seq else {
        row.fail("the end marker was not found in the ring buffer");
        return;
    };
    let mut first = None;
    let mut lost_start = false;
    let mut next = 0;
    let (mut notices, mut problems, mut bad_json, mut errors) = (0, Vec::new(), 0, 0);
    for line in lines {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            bad_json += 1;
            continue;
        };
        match value["type"].as_str() {
            Some("record") => {
                let Some(seq) = value["seq"].as_u64() else {
                    bad_json += 1;
                    continue;
                };
                if seq > end_seq {
                    continue; // logged by others after our end marker
                }
                row.received += 1;
                if first.is_none() {
                    if lost_start {
                        // Everything before this record since the start: lost, uncounted.
                        row.note("start_lost", format!("count unknown, up to seq {seq}"));
                    }
                    first = Some(seq);
                } else if seq < next {
                    row.duplicated += 1;
                    problems.push(format!("seq {seq} printed after {}", next - 1));
                    continue;
                } else if seq > next {
                    row.errors += 1;
                    problems.push(format!("seqs {next}..{seq} missing without a loss object"));
                }
                next = seq + 1;
            }
            Some("loss") => {
                notices += 1;
                let count = value["count"].as_u64();
                let from = value["first_seq"].as_u64();
                if lost_start_ok && first.is_none() && !lost_start && value["count"].is_null() {
                    lost_start = true;
                    continue;
                }
                match (count, from) {
                    (Some(count), Some(from)) if first.is_none() || from == next => {
                        first.get_or_insert(from);
                        row.lost += count;
                        next = from + count;
                    }
                    _ => {
                        row.errors += 1;
                        problems.push(format!("loss object {line} where seq {next} was due"));
                        if let Some(count) = count {
                            row.lost += count;
                            next += count;
                        }
                    }
                }
            }
            _ => {
                errors += 1;
                problems.push(format!("unexpected line {line}"));
            }
        }
    }
    row.errors += bad_json + errors;
    let first = first.unwrap_or(end_seq + 1);
    row.expected = (end_seq + 1).saturating_sub(first);
    row.note("seqs", format!("{first}..={end_seq}"));
    row.note("loss_objects", notices);
    row.note("lines", lines.len());
    if !lost_start && from_seq.is_none_or(|from| first > from) {
        row.fail(format!(
            "its output began at seq {first}, after the first record it had to show ({from_seq:?})"
        ));
    }
    if next != end_seq + 1 {
        row.fail(format!(
            "its output ended at seq {}, not at the end marker {end_seq}",
            next.saturating_sub(1)
        ));
    }
    if row.errors + row.duplicated > 0 {
        row.fail(format!(
            "{} errors, {} repeats; first: {}",
            row.errors,
            row.duplicated,
            problems.first().map_or("-", String::as_str)
        ));
    }
    if row.received + row.lost != row.expected {
        row.fail(format!(
            "records printed {} + lost {} != the range's {}",
            row.received, row.lost, row.expected
        ));
    }
    if notices == 0 {
        row.fail("no loss object: the overrun did not reach it");
    }
}
