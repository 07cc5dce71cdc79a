//! Watches a directory with inotify in a mio event loop and prints what happens in it
//! (files created, written, moved, deleted).
//!
//! Run with: cargo run --example inotify_mio [-- /path/to/dir]
//! Then, from another terminal: touch /tmp/hello; mv /tmp/hello /tmp/bye; rm /tmp/bye
//!
//! Linux-only (like all of fdframe).

use fdframe::devices::InotifyDecoder;
use fdframe_mio::FdReader;
use mio::{Events, Interest, Poll, Token};
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};

const INOTIFY: Token = Token(0);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "/tmp".into());

    // An inotify instance is a descriptor; each read returns whole `inotify_event` records.
    let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
    let interesting = WatchFlags::CREATE
        | WatchFlags::CLOSE_WRITE
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO
        | WatchFlags::DELETE;
    inotify::add_watch(&fd, &dir, interesting)?;

    // The decoder makes sure every read has room for the largest event (else: EINVAL).
    let mut events_in = FdReader::from_fd(fd, InotifyDecoder::new())?;
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut events_in, INOTIFY, Interest::READABLE)?;
    let mut events = Events::with_capacity(16);
    eprintln!("watching {dir}");

    loop {
        // Wait only after a drain that reached `WouldBlock` (not one that paused).
        if events_in.is_drained() {
            poll.poll(&mut events, None)?;
            if !events.iter().any(|event| event.token() == INOTIFY) {
                continue;
            }
        }
        // Edge-triggered: take every event that is ready before polling again.
        for event in events_in.drain() {
            match event {
                Ok(event) => {
                    let name = event
                        .to_path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    println!("{:?} {name}", event.mask);
                }
                // The kernel's queue overflowed: events were lost; a real program would rescan.
                Err(e) => eprintln!("{e}"),
            }
        }
    }
}
