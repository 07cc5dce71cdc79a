//! Running one case for one backend: labelling, skipping, timing, isolation.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::RwLock;
use std::time::Instant;

use crate::Backend;

/// Why a case could not run here (not root, no `/dev/net/tun`, ...).
#[derive(Debug)]
pub struct Skip(pub String);

/// What a case returns when it did not fail: it ran, or it could not run.
pub type Outcome = Result<(), Skip>;

/// Cases that must have the process to themselves: they count the process's descriptors or
/// use thousands of them. Every other case runs concurrently with its neighbours.
const EXCLUSIVE: &[&str] = &[
    "thousand_descriptors_on_one_runtime",
    "ten_thousand_readers_leak_no_descriptors",
    "descriptors_and_watches_do_not_grow_over_ten_thousand_rotations",
];

/// Held shared by ordinary cases and exclusively by the cases in [`EXCLUSIVE`].
static PROCESS: RwLock<()> = RwLock::new(());

/// Runs `body` as `<backend>::<case>`: a failure (panic) fails the test with the label; a skip
/// is printed loudly, and fails the test when `FDFRAME_REQUIRE_PRIVILEGED=1`.
///
/// With `FDFRAME_CONFORMANCE_REPORT=1` (set by `cargo xtask conformance`) it also prints one
/// machine-readable line per run: `conformance-result <label> <pass|fail|skip> <ms> [reason]`.
pub fn run<B: Backend>(case: &str, body: fn() -> Outcome) {
    let label = format!("{}::{case}", B::NAME);
    let started = Instant::now();
    let outcome = if EXCLUSIVE.contains(&case) {
        let _alone = PROCESS
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        catch_unwind(AssertUnwindSafe(body))
    } else {
        let _shared = PROCESS
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        catch_unwind(AssertUnwindSafe(body))
    };
    let ms = started.elapsed().as_millis();
    match outcome {
        Ok(Ok(())) => report(&label, "pass", ms, ""),
        Ok(Err(Skip(reason))) => {
            report(&label, "skip", ms, &reason);
            skip_loudly(&label, &reason);
        }
        Err(panic) => {
            report(&label, "fail", ms, "");
            resume_unwind(panic);
        }
    }
}

/// Reports that the test `label` cannot run here: `SKIPPED: <label>: <reason>` on stderr, past
/// the test harness's capture (a skip must be seen even when the test "passes"), or a panic
/// when `FDFRAME_REQUIRE_PRIVILEGED=1` forbids skipping. Backend crates' own privileged tests
/// use it too.
pub fn skip_loudly(label: &str, reason: &str) {
    if std::env::var_os("FDFRAME_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1") {
        panic!("{label}: {reason} (FDFRAME_REQUIRE_PRIVILEGED=1 forbids skipping)");
    }
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {label}: {reason} (set FDFRAME_REQUIRE_PRIVILEGED=1 to fail instead)"
    );
}

fn report(label: &str, result: &str, ms: u128, reason: &str) {
    if std::env::var_os("FDFRAME_CONFORMANCE_REPORT").is_some_and(|v| v == "1") {
        let _ = writeln!(
            std::io::stderr(),
            "conformance-result {label} {result} {ms} {reason}"
        );
    }
}
