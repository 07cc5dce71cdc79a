//! The scale child: raise the descriptor limit, create the pipes (read ends kept, write ends
//! sent to the writer in batches), set up every stream, start the writer, and time the reading.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Instant;

use super::{Sample, channel, contenders};
use crate::harness::{Res, process_cpu};

/// Descriptors kept aside for everything but the pipes (stdio, epoll, the runtime's own).
const SPARE_FDS: u64 = 300;

/// Said when a contender had fewer pipes than asked.
pub(super) const FEWER_PIPES_REASON: &str = "fdframe-mio keeps a clone of the registry (a \
    duplicate of the epoll descriptor) per registered reader, 2 descriptors per stream, and \
    RLIMIT_NOFILE's hard limit here does not hold that many";

/// One run; `Ok(Err(reason))` if it cannot run here.
pub(super) fn run(
    key: &str,
    pipes: usize,
    frames: usize,
    socket: OwnedFd,
) -> Res<Result<Sample, String>> {
    let contender = contenders::get(key).ok_or_else(|| format!("no scale contender `{key}`"))?;
    // fdframe-mio's registry clone is one more descriptor per registered stream.
    let per_stream: u64 = if key == "mio" { 2 } else { 1 };
    let limit = raise_nofile(per_stream * pipes as u64 + SPARE_FDS + channel::BATCH as u64);
    let fit = limit.saturating_sub(SPARE_FDS + channel::BATCH as u64) / per_stream;
    let pipes = (pipes as u64).min(fit) as usize;
    if pipes == 0 {
        return Ok(Err(format!(
            "RLIMIT_NOFILE ({limit}) leaves no room for pipes"
        )));
    }
    channel::send(&socket, b'P', pipes as u64, &[])?;
    let mut readers = Vec::with_capacity(pipes);
    while readers.len() < pipes {
        let mut writers = Vec::with_capacity(channel::BATCH);
        for _ in 0..channel::BATCH.min(pipes - readers.len()) {
            let (reader, writer) = std::io::pipe()?;
            readers.push(OwnedFd::from(reader));
            writers.push(OwnedFd::from(writer));
        }
        let borrowed: Vec<_> = writers.iter().map(|w| w.as_fd()).collect();
        channel::send(&socket, b'F', 0, &borrowed)?;
    }
    let base_kib = status_kib("VmRSS:")?;
    // Peak RSS from here on (Linux 4.0+: writing 5 resets VmHWM); if refused, the peak so far.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let setup_started = Instant::now();
    let mut started = None;
    let mut go_failed = None;
    let per_pipe = (frames / super::BURST * super::BURST) as u64;
    let seen = contender(readers, per_pipe, &mut || {
        if let Err(e) = channel::send(&socket, b'G', 0, &[]) {
            go_failed = Some(e.to_string());
        }
        started = Some((Instant::now(), process_cpu()));
    });
    let (end, end_cpu) = (Instant::now(), process_cpu());
    if let Some(e) = go_failed {
        return Err(format!("could not start the writer: {e}").into());
    }
    let frames_seen = seen?;
    let (started, started_cpu) = started.ok_or("the contender never started the writer")?;
    Ok(Ok(Sample {
        pipes: pipes as u64,
        frames: frames_seen,
        elapsed: end - started,
        cpu: end_cpu - started_cpu,
        setup: started - setup_started,
        peak_kib: status_kib("VmHWM:")?,
        base_kib,
    }))
}

/// Raises the soft descriptor limit towards `want` (as far as the hard limit allows, or past it
/// where this process may raise that too); returns the soft limit now in force.
fn raise_nofile(want: u64) -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum.unwrap_or(u64::MAX);
    if limit.current.is_none_or(|c| c >= want) {
        return limit.current.unwrap_or(u64::MAX);
    }
    let raised = Rlimit {
        current: Some(want),
        maximum: Some(hard.max(want)),
    };
    if setrlimit(Resource::Nofile, raised).is_ok() {
        return want;
    }
    let soft = Rlimit {
        current: Some(hard.min(want)),
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, soft) {
        Ok(()) => hard.min(want),
        Err(_) => limit.current.unwrap_or(0),
    }
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
