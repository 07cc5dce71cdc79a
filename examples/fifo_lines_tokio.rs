//! Reads newline-delimited messages from a FIFO and prints each one. Writers may come and go;
//! the reader keeps listening. Without a path, it creates a FIFO in a new temporary directory.
//!
//! Run with: cargo run --example fifo_lines_tokio [-- /path/to/fifo]
//! Then, from another terminal: echo hello > <the path it prints>
//!
//! Linux-only (like all of fdframe).

use std::path::PathBuf;

use fdframe::codec::Utf8LinesDecoder;
use fdframe_tokio::FdStream;
use rustix::fs::{CWD, Mode};
use tokio_stream::StreamExt; // `next()` for streams

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = match std::env::args().nth(1) {
        Some(path) => PathBuf::from(path),
        None => {
            let dir = std::env::temp_dir().join(format!("fdframe-tokio-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            dir.join("messages.fifo")
        }
    };
    // Create the FIFO unless it is already there.
    match rustix::fs::mkfifoat(CWD, &path, Mode::from_raw_mode(0o600)) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(format!("cannot create FIFO {}: {e}", path.display()).into()),
    }

    // `open` gives a non-blocking descriptor of our own: opening does not wait for a writer.
    let mut lines = FdStream::open(&path, Utf8LinesDecoder::new())?;
    // Hold a write end ourselves: otherwise each time the last writer left (and before the
    // first one came) reads would return end of file and the stream would end.
    let _keep_open = std::fs::OpenOptions::new().write(true).open(&path)?;
    eprintln!("listening; try: echo hello > {}", path.display());

    while let Some(line) = lines.next().await {
        match line {
            Ok(line) => println!("{line}"),
            // A line that is not UTF-8 or too long is skipped; the stream goes on.
            Err(e) => eprintln!("{e}"),
        }
    }
    Ok(())
}
