//! Reads a fast pipe one read's worth of lines at a time with the batch API on tokio: each
//! `Frames` batch is one frozen buffer plus the line boundaries, so a batch of thousands of
//! lines costs one allocation-free step instead of one per line.
//!
//! Run with: cargo run --example batches_tokio
//!
//! Linux-only (like all of fdframe).

use std::io::Write;

use fdframe::codec::LinesDecoder;
use fdframe_tokio::FdStream;
use tokio_stream::StreamExt; // `next()` for streams

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (reader, mut writer) = std::io::pipe()?;
    // A writer on another thread: 100,000 short lines, then it closes the pipe.
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(&mut writer);
        for i in 0..100_000 {
            writeln!(out, "line {i}")?;
        }
        out.flush()
    });

    let mut batches = FdStream::from_fd(reader.into(), LinesDecoder::new())?.batches();
    let (mut count, mut bytes, mut reads) = (0_usize, 0_usize, 0_usize);
    while let Some(batch) = batches.next().await {
        // Notices and errors come between batches, never inside one.
        let batch = batch?;
        reads += 1;
        count += batch.len();
        // `iter_bytes` yields each line as a `Bytes` sharing the batch's buffer (no copy).
        bytes += batch.iter_bytes().map(|line| line.len()).sum::<usize>();
    }
    writer.join().expect("the writer thread does not panic")?;
    println!("{count} lines, {bytes} bytes without newlines, in {reads} batches");
    Ok(())
}
