//! `-H`'s pager: as util-linux does, the output goes through `$PAGER` (`less` when unset, with
//! `LESS=FRSX` unless `LESS` is set: quit when it fits one screen, keep colours) when standard
//! output is a terminal, unless `-P`, `--follow` or a JSON form is asked for.

use std::io::{self, IsTerminal};
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};

use crate::failure::Failure;

/// A running pager that our standard output now goes to.
pub(super) struct Pager {
    child: Child,
}

impl Pager {
    /// Starts the pager when it is wanted and standard output is a terminal.
    pub(super) fn start_if_terminal() -> Result<Option<Pager>, Failure> {
        if !io::stdout().is_terminal() {
            return Ok(None);
        }
        let pager = std::env::var("PAGER").unwrap_or_else(|_| "less".to_owned());
        if pager.trim().is_empty() || pager.trim() == "cat" {
            return Ok(None);
        }
        let mut command = Command::new("sh");
        command.arg("-c").arg(&pager).stdin(Stdio::piped());
        if std::env::var_os("LESS").is_none() {
            command.env("LESS", "FRSX");
        }
        let mut child = command
            .spawn()
            .map_err(|e| Failure::new(format_args!("cannot start the pager {pager:?}: {e}")))?;
        let stdin = child.stdin.take().expect("piped stdin");
        rustix::stdio::dup2_stdout(stdin.as_fd())
            .map_err(|e| Failure::new(format_args!("cannot send the output to the pager: {e}")))?;
        // `stdin` is dropped here: fd 1 is now the pager's only write end.
        Ok(Some(Pager { child }))
    }

    /// Ends our output (the pager sees its end) and waits until the user quits the pager.
    pub(super) fn finish(mut self) {
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            let _ = rustix::stdio::dup2_stdout(null.as_fd());
        }
        let _ = self.child.wait();
    }
}
