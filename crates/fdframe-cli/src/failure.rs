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

/// Errors writing standard output: a closed pipe ends quietly, anything else is reported.
impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::new(format_args!("cannot write to standard output: {e}"))
        }
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
