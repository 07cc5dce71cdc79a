//! `fdframe read --follow --codec lines FILE` side by side with `tail -n +1 -F FILE` (GNU
//! coreutils), through appends, a line written in two parts, a rotation while the old file is
//! still written after the rename, and a truncation.
//!
//! fdframe must deliver every line exactly once, in order: that is the pass condition. What
//! `tail -F` printed is recorded in the test output as an observation only: its known loss (the
//! lines written to the old file after it switched to the new one) depends on when it noticed
//! the rename, so it is not asserted.

use std::time::Duration;

use rustix::process::Signal;

use crate::follow::{Follower, Stopped, append, check_exactly_once, scenario};
use crate::support::{TempDir, skip};

#[test]
fn fdframe_delivers_every_line_once_where_tail_f_may_lose_the_rotated_files_last_lines() {
    let test =
        "fdframe_delivers_every_line_once_where_tail_f_may_lose_the_rotated_files_last_lines";
    if std::process::Command::new("tail")
        .arg("--version")
        .output()
        .map_or(true, |o| {
            !String::from_utf8_lossy(&o.stdout).contains("GNU")
        })
    {
        skip(test, "GNU coreutils tail is not installed");
        return;
    }
    let dir = TempDir::new("follow-vs-tail");
    let path = dir.path("app.log");
    append(&path, b"");
    let fdframe = Follower::fdframe("tokio", &path, &["--rotate-wait", "5s"]);
    let tail = Follower::start("tail", &["-n", "+1", "-F", &path]);
    let written = scenario(&dir, &fdframe, "fdframe");
    // tail is given time to catch up (it is not waited for line by line).
    let _ = tail.saw_within("t5", Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(500));
    let Stopped {
        lines: ours, err, ..
    } = fdframe.stop(Signal::TERM).expect(143, "fdframe");
    let theirs = tail.stop(Signal::TERM);

    let verdict = check_exactly_once(&theirs.lines, &written);
    let lost: Vec<&String> = written
        .all
        .iter()
        .filter(|l| !theirs.lines.contains(l))
        .collect();
    eprintln!(
        "observation: tail -n +1 -F printed {} of {} lines ({} lines written); lost: {lost:?}; \
         {}\ntail's stderr: {}",
        theirs.lines.len(),
        written.all.len(),
        written.all.len(),
        verdict
            .as_ref()
            .map_or_else(|e| e.clone(), |()| "every line once".into()),
        theirs.err.trim()
    );
    eprintln!("fdframe's stderr: {}", err.trim());
    if let Err(problem) = check_exactly_once(&ours, &written) {
        panic!("fdframe: {problem}\ngot: {ours:?}");
    }
}
