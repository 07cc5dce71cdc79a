//! Decoded messages from Linux file descriptors in a hand-written [`mio`] event loop.
//!
//! Runnable programs for this crate are in the fdframe workspace's `examples/` package: `cargo run
//! --example NAME` from the workspace root, NAME one of `kmsg_mio`, `inotify_mio`.
//!
//! [`FdReader`] wraps a descriptor (`/dev/kmsg`, a pipe or FIFO, a pty, a socket, inotify, ...)
//! and an [`fdframe`] decoder. It is a [`mio::event::Source`]: register it with your
//! [`mio::Poll`] under a token of your choice, and on every event for that token call
//! [`FdReader::drain`], which yields the decoded messages that are ready without ever waiting.
//! Framing, record sizes, `/dev/kmsg` loss notices, pty end-of-stream and errors all come from
//! the fdframe engine and behave exactly as in `fdframe::blocking::FdReader`; this crate adds only
//! the readiness glue. [`FdReader::drain_batches`] is the batch form of `drain`: each read's
//! messages as one [`fdframe::Frames`] batch, with the same rules for when to drain again.
//!
//! # Edge-triggered readiness: drain until it would block
//!
//! mio registers descriptors edge-triggered: an event means "readiness changed", not "data is
//! there". Once you get an event you must read until `read(2)` says `WouldBlock`, or no further
//! event comes for the bytes left in the kernel and your loop hangs. `drain` does exactly that:
//! it ends when the descriptor would block (or the stream ends), and
//! [`FdReader::is_drained`] tells you whether it got that far. If you stop iterating early (to be
//! fair to other sources, say), come back to the reader *without* waiting for an event.
//!
//! `drain` itself stops early, with `is_drained()` `false`, when the engine pauses after its
//! per-call budget on input that brings no message (`/dev/zero`, a huge sparse file, an endless
//! over-long line being skipped), so that such input cannot hold your loop: there too, drain
//! again before you wait. The examples below do so.
//!
//! Treat any event for the reader's token (readable, read-closed, error, priority) as "drain
//! now": `/dev/kmsg` signals overwritten records as an error event, and the drain then reports
//! the loss ([`fdframe::Error::Lost`]) and goes on.
//!
//! # Example: an event loop
//!
//! A thread writes lines into a pipe in bursts; the loop drains the reader on each event and
//! stops when the stream ends.
//!
//! ```
//! use std::io::Write;
//! use std::time::Duration;
//! use fdframe::codec::LinesDecoder;
//! use fdframe_mio::FdReader;
//! use mio::{Events, Interest, Poll, Token};
//!
//! const LINES: Token = Token(0);
//!
//! let (reader, mut writer) = std::io::pipe()?;
//! let mut lines = FdReader::from_fd(reader.into(), LinesDecoder::new())?;
//! let mut poll = Poll::new()?;
//! poll.registry().register(&mut lines, LINES, Interest::READABLE)?;
//!
//! let producer = std::thread::spawn(move || -> std::io::Result<()> {
//!     for burst in 0..3 {
//!         // Far more than one read's worth: only a drain to `WouldBlock` gets it all.
//!         for n in 0..10_000 {
//!             writeln!(writer, "burst {burst} line {n}")?;
//!         }
//!         std::thread::sleep(Duration::from_millis(10));
//!     }
//!     Ok(()) // dropping `writer` ends the stream
//! });
//!
//! let mut events = Events::with_capacity(16);
//! let mut received = 0;
//! while !lines.is_done() {
//!     poll.poll(&mut events, Some(Duration::from_secs(10)))?;
//!     assert!(!events.is_empty(), "timed out waiting for the pipe");
//!     for event in &events {
//!         if event.token() == LINES {
//!             // Until `WouldBlock` (or the end): a drain that paused is not done.
//!             loop {
//!                 for line in lines.drain() {
//!                     let line = line?; // a pipe brings no loss notices: a read error or an over-long line
//!                     assert!(line.starts_with(b"burst "));
//!                     received += 1;
//!                 }
//!                 if lines.is_drained() {
//!                     break;
//!                 }
//!             }
//!         }
//!     }
//! }
//! poll.registry().deregister(&mut lines)?;
//! producer.join().unwrap()?;
//! assert_eq!(received, 30_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Following the kernel log (root, or `CAP_SYSLOG` where `kernel.dmesg_restrict=1`):
//!
//! ```no_run
//! use fdframe_mio::prelude::*; // FdReader, KmsgStart, and mio's Poll, Events, Interest, Token
//!
//! # fn main() -> std::io::Result<()> {
//! let mut kmsg = FdReader::kmsg(KmsgStart::Oldest)?;
//! let mut poll = Poll::new()?;
//! poll.registry().register(&mut kmsg, Token(0), Interest::READABLE)?;
//! let mut events = Events::with_capacity(16);
//! loop {
//!     // The first drain prints the whole ring buffer, later ones the new records.
//!     for record in kmsg.drain() {
//!         match record {
//!             Ok(record) => println!("{}", record.message_lossy()),
//!             // e.g. "12 kernel log records lost (...)": the reader goes on.
//!             Err(e) if !e.is_fatal() => eprintln!("{e}"),
//!             // A failed read ends the stream.
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//!     // Wait only once the drain reached `WouldBlock`; after a pause, drain again at once.
//!     if kmsg.is_drained() {
//!         poll.poll(&mut events, None)?;
//!     }
//! }
//! # }
//! ```
//!
//! # Caveats
//!
//! - **Regular files cannot be registered.** epoll refuses them (and a few devices such as
//!   `/dev/null`) with `EPERM`. [`FdReader::needs_registration`] returns `false` for them, and
//!   registering fails with [`std::io::ErrorKind::Unsupported`] rather than handing the descriptor
//!   to epoll. Their reads never wait, so `drain` them until [`FdReader::is_done`], inline in
//!   your loop (a slow disk stalls it meanwhile; a drain returns at each of the engine's pauses).
//! - **`O_NONBLOCK` is shared.** A blocking descriptor handed to [`FdReader::from_fd`] (or
//!   [`FdReader::new`]) is made non-blocking for the reader's lifetime, and every `dup` of it,
//!   in any process, sees that. [`FdReader::open`] opens a description of its own, and
//!   [`FdReader::stdin`] does for a terminal.
//! - **Dropping deregisters, at the cost of one descriptor.** So that dropping a reader (or
//!   [`FdReader::into_inner`]) can deregister it, registering keeps a clone of the `Poll`'s
//!   registry, which is one duplicate of its epoll descriptor, until the reader is deregistered
//!   or dropped.
//! - **One `Poll` at a time.** Registering a registered reader again first removes the old
//!   registration (so a reader can move to a new `Poll`); `reregister` and `deregister` must be
//!   given the registry it is registered with, as mio requires of every source.

#![forbid(unsafe_code)]

// Linux only: say so once instead of a wall of unresolved Linux system calls.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "fdframe-mio supports Linux only: it reads Linux descriptors (/dev/kmsg, inotify, signalfd, epoll)"
);

/// The core crate, re-exported so that `fdframe_mio::fdframe::kmsg::KmsgStart` (and every
/// decoder) is reachable with `fdframe-mio` as the only fdframe dependency.
pub use fdframe;

mod drain;
mod reader;

pub use drain::{Drain, DrainBatches};
pub use reader::FdReader;

/// What a first program needs, in one `use fdframe_mio::prelude::*;`.
///
/// The reader, the `/dev/kmsg` types and the common line decoders, and the four mio types every
/// event loop names ([`Poll`](mio::Poll), [`Events`](mio::Events), [`Interest`](mio::Interest),
/// [`Token`](mio::Token)). They are this crate's own mio 1.x, so a program that also names
/// them through its own `mio` dependency gets the same types. There is no stream trait here:
/// [`FdReader::drain`] is an `Iterator`.
pub mod prelude {
    pub use crate::FdReader;
    pub use fdframe::codec::{LinesDecoder, Utf8LinesDecoder};
    pub use fdframe::kmsg::{KmsgDecoder, KmsgRecord, KmsgStart};
    pub use mio::{Events, Interest, Poll, Token};
}

// The README's example, compiled as a doctest (it is the crates.io page, not the crate docs,
// which say more).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
