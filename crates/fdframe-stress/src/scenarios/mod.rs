//! The scenarios, each a function from the run's [`Config`] to result rows.
//!
//! | name          | what must hold                                                          |
//! |---------------|-------------------------------------------------------------------------|
//! | `frames`      | numbered frames through a pipe, random write sizes, a consumer that cancels `next()` and stalls: 0 lost, duplicated, reordered, corrupted |
//! | `eintr`       | the same while another thread signals the reader thousands of times a second: no error surfaces, nothing lost |
//! | `descriptors` | 10,000 streams opened on fresh pipes, read, dropped: the descriptor count is unchanged |
//! | `flood`       | a pipe and a large file flooded at a slow consumer: RSS stays under a stated bound |
//! | `kmsg`        | readers on every backend stalled while `/dev/kmsg` overruns, in rounds: losses reported + records read = the sequence range, exactly |
//! | `cli`         | `fdframe kmsg -w --json` under SIGSTOP, overrun, SIGCONT: its loss objects + records printed = the sequence range, exactly |

mod cli;
mod descriptors;
mod flood;
mod kmsg;
mod pipes;

use std::path::PathBuf;
use std::thread;

use crate::chaos::row_seed;
use crate::report::{Row, Verdict};

/// What a run was asked to do.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) quick: bool,
    pub(crate) seed: u64,
    /// Frames per backend in the `frames` scenario.
    pub(crate) frames: u64,
    /// The built `fdframe` binary, for the `cli` scenario.
    pub(crate) cli: Option<PathBuf>,
}

impl Config {
    /// The seed of one row (stable under `--only`).
    pub(crate) fn seed_for(&self, scenario: &str, backend: &str) -> u64 {
        row_seed(self.seed, scenario, backend)
    }
}

/// A scenario: its name and how to run it.
pub(crate) struct Scenario {
    pub(crate) name: &'static str,
    pub(crate) run: fn(&Config, &mut dyn FnMut(Row)),
}

/// Every scenario, in the order they run.
pub(crate) const ALL: &[Scenario] = &[
    Scenario {
        name: "frames",
        run: pipes::frames,
    },
    Scenario {
        name: "eintr",
        run: pipes::eintr,
    },
    Scenario {
        name: "descriptors",
        run: descriptors::cycles,
    },
    Scenario {
        name: "flood",
        run: flood::flood,
    },
    Scenario {
        name: "kmsg",
        run: kmsg::storm,
    },
    Scenario {
        name: "cli",
        run: cli::stop_overrun_continue,
    },
];

/// Runs `body` on a fresh thread (a backend's runtime lives and dies with it); a panic becomes
/// a failed row.
pub(crate) fn on_thread(
    scenario: &'static str,
    backend: &str,
    body: impl FnOnce() -> Row + Send + 'static,
) -> Row {
    match thread::Builder::new()
        .name(format!("{scenario}-{backend}"))
        .spawn(body)
        .map(thread::JoinHandle::join)
    {
        Ok(Ok(row)) => row,
        Ok(Err(panic)) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panicked".into());
            let mut row = Row::new(scenario, backend);
            row.fail(format!("panicked: {why}"));
            row
        }
        Err(e) => {
            let mut row = Row::new(scenario, backend);
            row.fail(format!("cannot spawn a thread: {e}"));
            row
        }
    }
}

/// A row for a scenario that cannot run here: a loud skip, or a failure under
/// `FDFRAME_REQUIRE_PRIVILEGED=1`.
pub(crate) fn skipped(scenario: &'static str, backend: &str, reason: &str) -> Row {
    let mut row = Row::new(scenario, backend);
    if std::env::var_os("FDFRAME_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1") {
        row.fail(format!(
            "{reason} (FDFRAME_REQUIRE_PRIVILEGED=1 forbids skipping)"
        ));
    } else {
        eprintln!(
            "SKIPPED: {scenario}::{backend}: {reason} (set FDFRAME_REQUIRE_PRIVILEGED=1 to fail instead)"
        );
        row.verdict = Verdict::Skip(reason.to_string());
    }
    row
}
