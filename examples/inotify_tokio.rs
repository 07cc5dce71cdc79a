//! Prints what happens in a directory (files created, written, moved, deleted) from inotify
//! events. Without a path, it watches the current directory.
//!
//! Run with: cargo run --example inotify_tokio [-- /some/dir]
//! Then, from another terminal: touch /some/dir/x && rm /some/dir/x
//!
//! Linux-only (like all of fdframe).

use fdframe::Error;
use fdframe::devices::InotifyDecoder;
use fdframe_tokio::FdStream;
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use tokio_stream::StreamExt; // `next()` for streams

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());

    // An inotify instance is a descriptor that reads as a queue of events.
    let fd = inotify::init(CreateFlags::NONBLOCK | CreateFlags::CLOEXEC)?;
    let interesting = WatchFlags::CREATE
        | WatchFlags::CLOSE_WRITE
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO
        | WatchFlags::DELETE;
    inotify::add_watch(&fd, dir.as_str(), interesting)?;

    // The decoder guarantees each read room for the largest event (inotify returns EINVAL
    // to a read that cannot hold the next one).
    let mut events = FdStream::from_fd(fd, InotifyDecoder::new())?;
    eprintln!("watching {dir}");

    while let Some(event) = events.next().await {
        match event {
            Ok(event) => {
                let name = event.to_path().map(|p| p.display().to_string());
                println!("{:?} {}", event.mask, name.unwrap_or_default());
            }
            // The kernel's event queue overflowed: events are missing, rescan the directory.
            Err(Error::Lost(loss)) => eprintln!("{loss}"),
            Err(e) => eprintln!("{e}"),
        }
    }
    Ok(())
}
