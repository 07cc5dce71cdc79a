//! Handing out buffered frames spends tokio's cooperative budget: a task draining a buffer full
//! of short frames still lets the other tasks of its thread run (the budget is charged once per
//! 32 frames, not per frame, but it is charged).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use fdframe::codec::LinesDecoder;
use fdframe_tokio::FdStream;
use tokio_stream::StreamExt;

/// A file of its own in the temporary directory, removed when dropped.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn draining_many_buffered_frames_lets_other_tasks_run() {
    // A regular file: read in a handful of large reads (the read size doubles up to 256 KiB),
    // so the reads alone spend almost no budget; only the frames handed out can.
    let lines = 32 * 1024;
    let file = TempFile(std::env::temp_dir().join(format!(
        "fdframe-tokio-cooperation-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    )));
    std::fs::File::create_new(&file.0)
        .unwrap()
        .write_all(&b"x\n".repeat(lines))
        .unwrap();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    rt.block_on(async {
        let ticks = Arc::new(AtomicUsize::new(0));
        let neighbour = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    ticks.fetch_add(1, Ordering::Relaxed);
                    tokio::task::yield_now().await;
                }
            }
        });
        let mut stream = FdStream::open(&file.0, LinesDecoder::new()).unwrap();
        assert!(!stream.is_registered(), "a regular file is read directly");
        let mut seen = 0;
        while let Some(line) = stream.next().await {
            assert_eq!(line.unwrap(), "x");
            seen += 1;
        }
        let ran = ticks.load(Ordering::Relaxed);
        neighbour.abort();
        assert_eq!(seen, lines);
        // 32768 frames spend 1024 units of budget: the task must have yielded several times
        // (tokio grants 128 units per poll).
        assert!(
            ran >= 4,
            "the neighbour ran {ran} times while {lines} buffered frames were drained"
        );
    });
}
