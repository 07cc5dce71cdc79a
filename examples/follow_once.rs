//! Prints what a log file gained since the last run, then exits — a cron job's way to read a
//! log, with no runtime: the position is kept in `FILE.checkpoint`, and a file rotated in
//! between is found from it and finished first. (`fdframe read --checkpoint` does the same.)
//!
//! Run with: cargo run --example follow_once -- /var/log/app.log   (again: only what is new)
//!
//! Linux-only (like all of fdframe).

use std::io::Write;
use std::task::Poll;
use std::time::Duration;

use fdframe::blocking::FdReader;
use fdframe::codec::LinesDecoder;
use fdframe::follow::{Checkpoint, FollowOptions, FollowStart};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: follow_once PATH")?;
    let saved = format!("{path}.checkpoint");
    let start = match std::fs::read_to_string(&saved) {
        Ok(text) => FollowStart::Checkpoint(Checkpoint::parse(&text)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => FollowStart::Beginning,
        Err(e) => return Err(e.into()),
    };
    // No grace period: a rotated file is finished now, not waited on for late lines.
    let options = FollowOptions::new()
        .start(start)
        .rotate_wait(Duration::ZERO);
    let mut reader = FdReader::follow(&path, LinesDecoder::new(), options)?;

    let mut out = std::io::stdout().lock();
    loop {
        // What is there now, without waiting: `Pending` means every file is read to its end.
        match reader.poll_next_now() {
            Poll::Ready(Some(Ok(line))) => {
                out.write_all(&line)?;
                out.write_all(b"\n")?;
            }
            Poll::Ready(Some(Err(e))) if e.is_fatal() => return Err(e.into()),
            Poll::Ready(Some(Err(notice))) => eprintln!("-- {notice} --"),
            // The engine paused after a long stretch without a line: go on.
            Poll::Pending if reader.framer().is_yielding() => {}
            Poll::Pending | Poll::Ready(None) => break,
        }
    }
    // Saved only once the lines are out. A partial last line stays after the checkpoint: the
    // next run prints it whole. (`fdframe read` saves atomically and refuses symlinks.)
    out.flush()?;
    if let Some(checkpoint) = reader.checkpoint() {
        std::fs::write(&saved, checkpoint.encode())?;
    }
    Ok(())
}
