//! Reads newline-delimited messages from a FIFO (named pipe) on smol, printing each one.
//!
//! Run with: cargo run --example fifo_lines_smol [-- /path/to/fifo]
//!
//! It creates the FIFO if needed (default: `fdframe-example.fifo` in the temp directory). Then,
//! from another shell, send messages: `echo hello > /tmp/fdframe-example.fifo`.
//!
//! Linux-only (like all of fdframe).

use fdframe::codec::LinesDecoder;
use fdframe_async_io::FdStream;
use futures_lite::StreamExt; // `next()` for streams
use rustix::fs::{CWD, FileType, Mode, OFlags};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = match std::env::args_os().nth(1) {
        Some(path) => std::path::PathBuf::from(path),
        None => std::env::temp_dir().join("fdframe-example.fifo"),
    };
    // mkfifo; an existing FIFO (from an earlier run, or made by the user) is fine.
    match rustix::fs::mknodat(CWD, &path, FileType::Fifo, Mode::from(0o600), 0) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(e.into()),
    }

    smol::block_on(async {
        // Opens without waiting for a writer (the descriptor is non-blocking)...
        let mut lines = FdStream::open(&path, LinesDecoder::new().strip_cr(true))?;
        // ...but a FIFO with no writer reads as end of input. Holding a write end ourselves keeps
        // it open across writers that come and go, so each `echo > fifo` is just more lines.
        let _keep_open = rustix::fs::open(&path, OFlags::WRONLY | OFlags::NONBLOCK, Mode::empty())?;
        println!("reading lines from {} (Ctrl-C to stop)", path.display());

        while let Some(line) = lines.next().await {
            match line {
                Ok(line) => println!("{}", String::from_utf8_lossy(&line)),
                // An over-long line is skipped with an error; the stream goes on.
                Err(e) => eprintln!("error: {e}"),
            }
        }
        Ok(())
    })
}
