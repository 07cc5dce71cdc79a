//! Reads newline-delimited messages from a FIFO in a mio event loop and prints each one.
//! Writers may come and go; the reader keeps listening.
//!
//! Run with: cargo run -p fdframe-mio --example fifo_lines [-- /path/to/fifo]
//! Then, from another terminal: echo hello > /tmp/fdframe-mio.fifo
//!
//! Linux-only (like all of fdframe).

use fdframe::codec::Utf8LinesDecoder;
use fdframe_mio::FdReader;
use mio::{Events, Interest, Poll, Token};
use rustix::fs::{CWD, Mode};

const FIFO: Token = Token(0);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/fdframe-mio.fifo".into());
    // Create the FIFO unless it is already there.
    match rustix::fs::mkfifoat(CWD, &path, Mode::from_raw_mode(0o600)) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(format!("cannot create FIFO {path}: {e}").into()),
    }

    // `open` gives a non-blocking descriptor of our own: opening does not wait for a writer.
    let mut lines = FdReader::open(&path, Utf8LinesDecoder::new())?;
    // Hold a write end ourselves: otherwise each time the last writer left (and before the first
    // one came) reads would return end-of-file and the stream would end.
    let _keep_open = std::fs::OpenOptions::new().write(true).open(&path)?;

    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut lines, FIFO, Interest::READABLE)?;
    let mut events = Events::with_capacity(16);
    eprintln!("listening on {path}");

    loop {
        // Sleep until something happens (no timeout), but only once the last drain reached
        // `WouldBlock`: a drain that paused (an endless over-long line being skipped) left data
        // that no new event will announce.
        if lines.is_drained() {
            poll.poll(&mut events, None)?;
            if !events.iter().any(|event| event.token() == FIFO) {
                continue;
            }
        }
        // mio is edge-triggered: read everything that is ready now, or no new event comes.
        for line in lines.drain() {
            match line {
                Ok(line) => println!("{line}"),
                // A line that is not UTF-8 or too long is skipped; the stream goes on.
                Err(e) => eprintln!("{e}"),
            }
        }
    }
}
