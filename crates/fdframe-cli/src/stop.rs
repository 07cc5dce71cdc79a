//! Stopping cleanly: SIGINT, SIGTERM, SIGHUP and a reader of stdout that went away all become
//! one byte in a pipe that every backend waits on next to its descriptor.
//!
//! The default action of those signals would kill the process between a record printed and the
//! cursor saved; a closed stdout would only be noticed at the next write, which in `--follow`
//! mode may be hours away. With the pipe, a waiting backend wakes at once, the command flushes
//! its output, saves its cursor and exits.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::event::{PollFd, PollFlags};
use rustix::fs::FileType;
use rustix::pipe::PipeFlags;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// Marks "stdout was closed" in the shared state; signal numbers are small and never equal it.
const STDOUT_CLOSED: usize = usize::MAX;

/// Why a command stopped before the end of its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// This signal arrived.
    Signal(i32),
    /// Standard output is a pipe or socket whose reader went away.
    StdoutClosed,
}

impl StopReason {
    /// The exit status: 128 + the signal's number, as shells report a death by signal; 0 for a
    /// closed stdout, which is how `| head` pipelines end.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            StopReason::Signal(n) => 128u8.saturating_add(u8::try_from(n).unwrap_or(0)),
            StopReason::StdoutClosed => 0,
        }
    }
}

/// The stop request shared by the signal handlers, the stdout watcher and the backends.
#[derive(Debug)]
pub(crate) struct Stop {
    /// Readable once a stop was asked for (never drained, so it stays readable).
    read: OwnedFd,
    /// 0, a signal number, or [`STDOUT_CLOSED`]; set before the byte is written.
    state: Arc<AtomicUsize>,
}

impl Stop {
    /// Installs the signal handlers and the stdout watcher. Call once per process.
    pub(crate) fn install() -> io::Result<Stop> {
        let (read, write) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        let state = Arc::new(AtomicUsize::new(0));
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            // The flag first: a backend woken by the byte must find the reason already set.
            signal_hook::flag::register_usize(signal, Arc::clone(&state), signal as usize)?;
            signal_hook::low_level::pipe::register(signal, dup(write.as_fd())?)?;
        }
        watch_stdout(Arc::clone(&state), write);
        Ok(Stop { read, state })
    }

    /// Why the command should stop, if it should.
    pub(crate) fn reason(&self) -> Option<StopReason> {
        match self.state.load(Ordering::SeqCst) {
            0 => None,
            STDOUT_CLOSED => Some(StopReason::StdoutClosed),
            signal => Some(StopReason::Signal(i32::try_from(signal).unwrap_or(0))),
        }
    }

    /// A cheap handle that tells whether a stop was asked for.
    pub(crate) fn flag(&self) -> StopFlag {
        StopFlag(Arc::clone(&self.state))
    }

    /// A descriptor that becomes readable when a stop is asked for, for a backend to wait on.
    pub(crate) fn wait_fd(&self) -> io::Result<OwnedFd> {
        dup(self.read.as_fd())
    }
}

/// Whether a stop was asked for; see [`Stop::flag`].
#[derive(Clone, Debug)]
pub(crate) struct StopFlag(Arc<AtomicUsize>);

impl StopFlag {
    /// `true` once a signal arrived or stdout was closed.
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst) != 0
    }
}

fn dup(fd: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    Ok(rustix::io::fcntl_dupfd_cloexec(fd, 0)?)
}

/// When stdout is a pipe or a socket, a thread waits for its reader to go away (the kernel
/// reports `POLLERR`/`POLLHUP` on the writing end) and asks for a stop. Terminals and files
/// never go away like that, so nothing watches them.
fn watch_stdout(state: Arc<AtomicUsize>, write: OwnedFd) {
    let stdout = rustix::stdio::stdout();
    let watched = rustix::fs::fstat(stdout).is_ok_and(|stat| {
        matches!(
            FileType::from_raw_mode(stat.st_mode),
            FileType::Fifo | FileType::Socket
        )
    });
    if !watched {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("stdout-watch".into())
        .spawn(move || {
            loop {
                let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
                match rustix::event::poll(&mut fds, None) {
                    Ok(_) if !fds[0].revents().is_empty() => break,
                    Ok(_) | Err(rustix::io::Errno::INTR) => continue,
                    Err(_) => return,
                }
            }
            let _ = state.compare_exchange(0, STDOUT_CLOSED, Ordering::SeqCst, Ordering::SeqCst);
            let _ = rustix::io::write(&write, b"x");
        });
    // Without the thread a closed stdout is still noticed, at the next write.
    drop(spawned);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(StopReason::Signal(SIGINT).exit_code(), 130);
        assert_eq!(StopReason::Signal(SIGTERM).exit_code(), 143);
        assert_eq!(StopReason::Signal(SIGHUP).exit_code(), 129);
        assert_eq!(StopReason::StdoutClosed.exit_code(), 0);
    }
}
