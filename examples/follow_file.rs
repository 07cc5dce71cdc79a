//! Follows a growing log file like `tail -F` on tokio, through rotation and truncation, and
//! resumes where it stopped after a restart: the position is saved in `FILE.checkpoint` after
//! each line is printed (a real program would save less often: after each batch).
//!
//! Run with: cargo run --example follow_file -- /var/log/app.log
//! Then, from another terminal: echo hello >> /var/log/app.log; mv /var/log/app.log{,.1}
//!
//! Linux-only (like all of fdframe).

use std::io::Write;

use fdframe::Error;
use fdframe::codec::Utf8LinesDecoder;
use fdframe::follow::{Checkpoint, FollowOptions, FollowStart};
use fdframe_tokio::FdStream;
use tokio_stream::StreamExt; // `next()` for streams

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: follow_file PATH")?;
    let saved = format!("{path}.checkpoint");

    // Resume from the saved checkpoint if there is one, else start at the beginning.
    let start = match std::fs::read_to_string(&saved) {
        Ok(text) => FollowStart::Checkpoint(Checkpoint::parse(&text)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => FollowStart::Beginning,
        Err(e) => return Err(e.into()),
    };
    // A followed file waits on inotify (no polling); a rotated file is finished first.
    let options = FollowOptions::new().start(start);
    let mut lines = FdStream::follow(&path, Utf8LinesDecoder::new(), options)?;

    let mut out = std::io::stdout().lock();
    while let Some(line) = lines.next().await {
        match line {
            Ok(line) => writeln!(out, "{line}")?,
            // Rotated, truncated, removed, created: notices, and following goes on.
            Err(Error::Follow(notice)) => eprintln!("-- {notice} --"),
            Err(e) if e.is_fatal() => return Err(e.into()),
            Err(e) => eprintln!("skipped: {e}"),
        }
        // Commit the position only after the line is out: a restart repeats nothing it
        // printed and loses nothing it did not. (`fdframe read --checkpoint` saves it
        // atomically and refuses symlinks; this example keeps it short.)
        out.flush()?;
        if let Some(checkpoint) = lines.checkpoint() {
            std::fs::write(&saved, checkpoint.encode())?;
        }
    }
    Ok(())
}
