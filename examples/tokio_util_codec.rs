//! Runs an existing `tokio_util::codec::Decoder` (here `LinesCodec`) on fdframe's engine over a
//! pipe, through the `TokioUtilDecoder` adapter (cargo feature `tokio-util` of fdframe-tokio).
//! The engine adds what `FramedRead` lacks: bounded buffering and room before every read.
//!
//! Run with: cargo run --example tokio_util_codec
//!
//! Linux-only (like all of fdframe).

use std::io::Write;

use fdframe_tokio::{FdStream, TokioUtilDecoder};
use tokio_stream::StreamExt; // `next()` for streams
use tokio_util::codec::LinesCodec;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (reader, mut writer) = std::io::pipe()?;
    // A writer on another thread, as another process would be: three lines, then it closes.
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for line in ["first", "second line", "third"] {
            writeln!(writer, "{line}")?;
        }
        Ok(())
    });

    // `LinesCodec` strips "\n" (and "\r\n") and yields `String`s; its own length limit applies.
    let codec = LinesCodec::new_with_max_length(64 * 1024);
    let mut lines = FdStream::from_fd(reader.into(), TokioUtilDecoder::new(codec))?;
    while let Some(line) = lines.next().await {
        match line {
            Ok(line) => println!("{line}"),
            // A codec error (here: a line over the limit) arrives as `Error::Decode`.
            Err(e) if !e.is_fatal() => eprintln!("skipped: {e}"),
            Err(e) => return Err(e.into()),
        }
    }
    writer.join().expect("the writer thread does not panic")?;
    Ok(())
}
