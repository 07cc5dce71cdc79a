//! Printing: the machine, the throughput tables with their ratio columns, and the final targets
//! table (each target, the measured value, met or not).

use std::fmt::Write as _;
use std::time::Duration;

use crate::harness::{Clock, Role, Runs};

/// Width of the contender column.
pub(crate) const NAME_WIDTH: usize = 52;

/// A ratio column: its heading and the baseline's median run, if the baseline ran.
pub(crate) struct Ratio {
    pub(crate) heading: &'static str,
    pub(crate) baseline: Option<Duration>,
}

/// The median of the contender with `role`, or the fastest median among several (the glue's
/// 8 KiB and 64 KiB variants: the stricter baseline is the better one).
pub(crate) fn baseline(runs: &[Runs], role: Role) -> Option<Duration> {
    runs.iter()
        .filter(|r| r.role == role)
        .map(Runs::median)
        .min()
}

/// `baseline / median` of the contender with `role`: its throughput relative to the baseline.
pub(crate) fn ratio_of(runs: &[Runs], role: Role, baseline: Option<Duration>) -> Option<f64> {
    let median = runs.iter().find(|r| r.role == role)?.median();
    Some(baseline?.as_secs_f64() / median.as_secs_f64())
}

/// Prints one throughput table: wall-clock MiB/s and million frames/s, the reading side's CPU
/// nanoseconds per frame, the ratio columns (on `clock`), and the spread of the runs.
pub(crate) fn throughput(
    clock: Clock,
    title: &str,
    runs: &[Runs],
    bytes: u64,
    frames: u64,
    ratios: &[Ratio],
    print_runs: bool,
) {
    println!("\n{title}");
    println!("{}", clock_note(clock));
    let mut head = format!(
        "{:<NAME_WIDTH$} {:>8} {:>8} {:>9}",
        "contender", "MiB/s", "Mfr/s", "cpu ns/fr"
    );
    for ratio in ratios {
        let _ = write!(head, " {:>9}", ratio.heading);
    }
    println!("{head} {:>7}", "spread");
    for run in runs {
        let wall = run.median_wall().as_secs_f64();
        let secs = run.median().as_secs_f64();
        let mut line = format!(
            "{:<NAME_WIDTH$} {:>8.0} {:>8.2} {:>9.1}",
            run.name,
            bytes as f64 / wall / (1024.0 * 1024.0),
            frames as f64 / wall / 1e6,
            run.median_cpu().as_nanos() as f64 / frames as f64
        );
        for ratio in ratios {
            match ratio.baseline {
                Some(base) => {
                    let _ = write!(line, " {:>8.2}x", base.as_secs_f64() / secs);
                }
                None => {
                    let _ = write!(line, " {:>9}", "-");
                }
            }
        }
        println!("{line} {:>6.0}%", run.spread() * 100.0);
    }
    if print_runs {
        self::runs(runs);
    }
}

/// Every run of every contender, wall-clock and CPU milliseconds, in round order.
pub(crate) fn runs(runs: &[Runs]) {
    for run in runs {
        let ms = |times: &[Duration]| {
            times
                .iter()
                .map(|t| format!("{:.1}", t.as_secs_f64() * 1e3))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!(
            "  {}: wall ms {}; cpu ms {}",
            run.name,
            ms(&run.wall),
            ms(&run.cpu)
        );
    }
}

/// What the columns mean, for the clock the ratios use.
pub(crate) fn clock_note(clock: Clock) -> &'static str {
    match clock {
        Clock::Cpu => {
            "(MiB/s, Mfr/s: wall clock; cpu ns/fr: CPU time of the reading side per frame; \
             x ratios and spread: on that CPU time, baseline / contender, higher is better)"
        }
        Clock::Wall => {
            "(MiB/s, Mfr/s: wall clock; cpu ns/fr: CPU time of the reading side per frame; \
             x ratios and spread: on wall-clock time, baseline / contender, higher is better)"
        }
    }
}

/// Prints the machine and the load, so a table can be read against what else was running.
pub(crate) fn machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "machine: {cores} cores, {cpu}, Linux {}; load average {}",
        kernel.trim(),
        load_average()
    );
}

/// The 1-, 5- and 15-minute load averages.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The unit of an allocation target (every other target is a ratio, "x").
pub(crate) const ALLOCS_PER_FRAME: &str = "allocs/frame";

/// Which way a target goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Goal {
    AtLeast,
    AtMost,
}

/// One target the optimisers are judged on.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) what: String,
    /// `None`: not measured (see `note`).
    pub(crate) measured: Option<f64>,
    pub(crate) goal: Goal,
    pub(crate) threshold: f64,
    pub(crate) unit: &'static str,
    pub(crate) note: String,
}

/// The targets of the whole run, printed at the end.
#[derive(Debug, Default)]
pub(crate) struct Targets(pub(crate) Vec<Target>);

impl Targets {
    /// A ratio that must be at least `threshold`; `note` says why when it was not measured.
    pub(crate) fn at_least(
        &mut self,
        what: String,
        measured: Option<f64>,
        threshold: f64,
        note: &str,
    ) {
        self.push(what, measured, Goal::AtLeast, threshold, "x", note);
    }

    /// Adds a target.
    pub(crate) fn push(
        &mut self,
        what: String,
        measured: Option<f64>,
        goal: Goal,
        threshold: f64,
        unit: &'static str,
        note: &str,
    ) {
        self.0.push(Target {
            what,
            measured,
            goal,
            threshold,
            unit,
            note: note.to_string(),
        });
    }

    /// Prints the table; returns how many targets were met, missed and not measured.
    pub(crate) fn print(&self) -> (usize, usize, usize) {
        println!("\ntargets");
        println!("{:<70} {:>12} {:>12}  status", "target", "measured", "goal");
        let (mut met, mut missed, mut unmeasured) = (0, 0, 0);
        for t in &self.0 {
            let goal = match t.goal {
                Goal::AtLeast => format!(">= {}", show(t.threshold, t.unit)),
                Goal::AtMost => format!("<= {}", show(t.threshold, t.unit)),
            };
            let (measured, status) = match t.measured {
                None => {
                    unmeasured += 1;
                    ("-".to_string(), format!("not measured ({})", t.note))
                }
                Some(value) => {
                    let ok = match t.goal {
                        Goal::AtLeast => value >= t.threshold,
                        Goal::AtMost => value <= t.threshold,
                    };
                    if ok {
                        met += 1
                    } else {
                        missed += 1
                    }
                    (
                        show(value, t.unit),
                        if ok { "met" } else { "NOT MET" }.to_string(),
                    )
                }
            };
            println!("{:<70} {:>12} {:>12}  {status}", t.what, measured, goal);
        }
        println!("{met} met, {missed} not met, {unmeasured} not measured");
        (met, missed, unmeasured)
    }

    /// One line per target, for a child process to hand its targets to the parent.
    pub(crate) fn to_lines(&self) -> String {
        let mut out = String::new();
        for t in &self.0 {
            let measured = t.measured.map_or("-".to_string(), |v| v.to_string());
            let goal = if t.goal == Goal::AtLeast { "ge" } else { "le" };
            let _ = writeln!(
                out,
                "@target\t{}\t{measured}\t{goal}\t{}\t{}\t{}",
                t.what, t.threshold, t.unit, t.note
            );
        }
        out
    }

    /// Reads a line of [`to_lines`](Targets::to_lines); `false` if it is not one.
    pub(crate) fn read_line(&mut self, line: &str) -> bool {
        let fields: Vec<&str> = line.split('\t').collect();
        let ["@target", what, measured, goal, threshold, unit, note] = fields[..] else {
            return false;
        };
        let unit = if unit == "x" { "x" } else { ALLOCS_PER_FRAME };
        let goal = if goal == "ge" {
            Goal::AtLeast
        } else {
            Goal::AtMost
        };
        self.push(
            what.to_string(),
            measured.parse().ok(),
            goal,
            threshold.parse().unwrap_or(f64::NAN),
            unit,
            note,
        );
        true
    }
}

/// A ratio with two decimals, an allocation rate with four.
fn show(value: f64, unit: &str) -> String {
    if unit == "x" {
        format!("{value:.2}x")
    } else {
        format!("{value:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_survive_the_trip_from_a_child_process() {
        let mut sent = Targets::default();
        sent.push(
            "a: allocs".into(),
            Some(0.002),
            Goal::AtMost,
            0.01,
            ALLOCS_PER_FRAME,
            "",
        );
        sent.at_least("b: ratio".into(), None, 0.9, "no batch API yet");
        let mut got = Targets::default();
        for line in sent.to_lines().lines() {
            assert!(got.read_line(line), "{line}");
        }
        assert!(!got.read_line("an ordinary table line"));
        assert_eq!(got.0.len(), 2);
        assert_eq!(got.0[0].measured, Some(0.002));
        assert_eq!(
            (got.0[0].goal, got.0[0].unit),
            (Goal::AtMost, ALLOCS_PER_FRAME)
        );
        assert_eq!(
            (got.0[1].measured, got.0[1].note.as_str()),
            (None, "no batch API yet")
        );
    }
}
