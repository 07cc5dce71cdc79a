//! How a command ends: [`Finished`] when it ran to its end, [`Failure`] when it could not.

use std::fmt::Display;
use std::io;

use crate::stop::StopReason;

/// A command that ran to its end: the input ended (or, without `--follow`, was read up to
/// what it holds now), or a stop was asked for.
#[derive(Debug)]
pub(crate) enum Finished {
    /// End of input: exit status 0.
    Input,
    /// A signal or a closed stdout stopped the command after it flushed and saved its state.
    Stopped(StopReason),
}

/// Why a command could not go on.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The reader of standard output went away (`| head`): how pipelines end, so exit 0 quietly.
    BrokenPipe,
    /// One line for the user (printed after `fdframe: `) and the exit status.
    Message {
        /// What went wrong and, where known, what to do about it.
        text: String,
        /// The process exit status.
        code: u8,
    },
}

impl Failure {
    /// A failure with exit status 1.
    pub(crate) fn new(text: impl Display) -> Failure {
        Failure::Message {
            text: text.to_string(),
            code: 1,
        }
    }
}

/// Where an I/O error came from, for the one line that reports it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Origin<'a> {
    /// Writing standard output (the records, messages, JSON, help text, man pages).
    Stdout,
    /// Reading the input named so (a path, or "standard input").
    Input(&'a str),
}

impl Failure {
    /// The failure for `e`, labelled by where it came from. A closed pipe on standard output
    /// (`| head`) ends quietly: that is how pipelines end. Anywhere else it is an error like
    /// any other.
    pub(crate) fn io(origin: Origin<'_>, e: &io::Error) -> Failure {
        let closed = e.kind() == io::ErrorKind::BrokenPipe;
        match origin {
            Origin::Stdout if closed => Failure::BrokenPipe,
            Origin::Stdout => Failure::new(format_args!("cannot write to standard output: {e}")),
            Origin::Input(what) => Failure::new(format_args!("reading {what} failed: {e}")),
        }
    }
}

/// `?` on an `io::Result` in a command: a write to standard output, the only I/O the commands
/// let `?` convert. (An audit: without this impl, every conversion site that fails to compile
/// is a write to the output, or `render::warn`, which never fails.) Anything else says where it
/// came from: [`Failure::io`] with its [`Origin`], or [`Failure::new`] with its own words
/// (opening, saving a cursor or a checkpoint).
impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::io(Origin::Stdout, &e)
    }
}

/// Explains why `path` could not be opened for reading, in one line.
pub(crate) fn open_failure(path: &str, e: &io::Error) -> Failure {
    let why = match e.raw_os_error() {
        Some(21) => "it is a directory".to_owned(),
        Some(2) => "no such file or directory".to_owned(),
        Some(13) | Some(1) => format!("permission denied ({e})"),
        _ => e.to_string(),
    };
    Failure::new(format_args!("cannot read {path}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(failure: Failure) -> String {
        match failure {
            Failure::Message { text, .. } => text,
            Failure::BrokenPipe => "(quiet)".to_owned(),
        }
    }

    #[test]
    fn io_errors_are_labelled_by_where_they_came_from() {
        let e = || io::Error::from_raw_os_error(28); // ENOSPC
        assert_eq!(
            text(Failure::io(Origin::Stdout, &e())),
            format!("cannot write to standard output: {}", e())
        );
        let eio = io::Error::from_raw_os_error(5);
        let read = text(Failure::io(Origin::Input("/dev/ttyS0"), &eio));
        assert_eq!(read, format!("reading /dev/ttyS0 failed: {eio}"));
        assert!(!read.contains("standard output"), "{read}");
        // `?` is the stdout label.
        assert_eq!(
            text(Failure::from(e())),
            text(Failure::io(Origin::Stdout, &e()))
        );
    }

    #[test]
    fn a_closed_pipe_is_quiet_only_on_standard_output() {
        let epipe = || io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(matches!(
            Failure::io(Origin::Stdout, &epipe()),
            Failure::BrokenPipe
        ));
        // A FIFO being read can report EPIPE only by mistake; it is not the end of a pipeline.
        assert!(matches!(
            Failure::io(Origin::Input("fifo"), &epipe()),
            Failure::Message { code: 1, .. }
        ));
    }
}
