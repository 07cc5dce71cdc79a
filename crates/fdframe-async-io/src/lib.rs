//! fdframe on async-io's reactor: Linux file descriptors as [`Stream`](futures_core::Stream)s of
//! decoded messages, for async-std and smol.
//!
//! Runnable programs for this crate are in the fdframe workspace's `examples/` package: `cargo run
//! --example NAME` from the workspace root, NAME one of `kmsg_smol`, `kmsg_async_std`,
//! `fifo_lines_smol`.
//!
//! [async-io](https://docs.rs/async-io) is the reactor under both
//! [smol](https://docs.rs/smol) and [async-std](https://docs.rs/async-std); this crate registers
//! descriptors with it, so its streams run on either runtime (and on any executor, since
//! async-io drives itself). async-std is deprecated upstream in favour of smol: new code should
//! prefer smol; this crate serves both, and its tests run on both.
//!
//! - [`FdStream`]: messages from a descriptor, decoded by any [`fdframe::Decoder`] (lines,
//!   `/dev/kmsg` records, inotify events, ...). It is fdframe's framing engine with only the
//!   waiting done here, so it behaves exactly like the blocking
//!   [`FdReader`](fdframe::blocking::FdReader).
//! - [`BatchStream`] (from [`FdStream::batches`]): the same messages, each read's worth as one
//!   [`fdframe::Frames`] batch, for throughput.
//! - [`FdAsyncRead`]: the raw bytes of a descriptor as a [`futures_io::AsyncRead`].
//!
//! # Example
//!
//! Following the kernel log (`dmesg -w`), on smol or async-std alike:
//!
//! ```no_run
//! use fdframe_async_io::prelude::*; // FdStream, KmsgStart, StreamExt, ...
//!
//! # fn main() -> std::io::Result<()> {
//! smol::block_on(async {
//!     let mut records = FdStream::kmsg(KmsgStart::Oldest)?;
//!     while let Some(record) = records.next().await {
//!         match record {
//!             Ok(record) => println!("{}", record.message_lossy()),
//!             // Lost records, a malformed one: report them, the stream goes on.
//!             Err(e) if !e.is_fatal() => eprintln!("{e}"),
//!             // A failed read ends the stream.
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//!     Ok(())
//! })
//! # }
//! ```
//!
//! # Caveats
//!
//! - **`O_NONBLOCK` is shared.** A blocking pollable descriptor given to
//!   [`FdStream::from_fd`] or [`FdStream::new`] is made non-blocking; every `dup` of its open
//!   file description (a parent shell's stdin!) sees that until the descriptor is dropped, when
//!   the old flags come back. [`FdStream::open`] opens a description of its own, and
//!   [`FdStream::stdin`] does for a terminal (see [`fdframe::ReadFd::stdin`]).
//! - **Regular files are read inline.** epoll refuses them, so they are never registered:
//!   reads go straight to the file and a slow disk read blocks the executor thread for its
//!   duration. Reading stops at end of file; following a growing file needs inotify.
//! - **No cooperative budget.** async-io and smol have none (tokio does): a stream that is
//!   always ready, such as a large regular file or a pipe fed faster than it is read, hands out
//!   item after item without returning `Pending`. A loop that awaits nothing else keeps its
//!   executor thread until the stream waits; add `futures_lite::future::yield_now()` where
//!   that matters. Input that brings *no* item for long (`/dev/zero`, a huge sparse file, an
//!   endless over-long line) is different: there the engine's per-call budget makes the stream
//!   yield by itself (see [`FdStream`]).
//! - Linux only, like fdframe.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Linux only: say so once instead of a wall of unresolved Linux system calls.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "fdframe-async-io supports Linux only: it reads Linux descriptors (/dev/kmsg, inotify, signalfd, epoll)"
);

/// The core crate, re-exported so that `fdframe_async_io::fdframe::kmsg::KmsgStart` (and every
/// decoder) is reachable with `fdframe-async-io` as the only fdframe dependency.
pub use fdframe;

#[cfg(feature = "asynchronous-codec")]
mod asynchronous_codec_decoder;
mod batches;
mod kmsg;
mod read;
mod registration;
mod stream;

#[cfg(feature = "asynchronous-codec")]
#[cfg_attr(docsrs, doc(cfg(feature = "asynchronous-codec")))]
pub use asynchronous_codec_decoder::AsynchronousCodecDecoder;
pub use batches::BatchStream;
pub use read::FdAsyncRead;

/// The old name of [`FdAsyncRead`] (next to `FdReader` and `FdStream` it did not say which one
/// is the `AsyncRead`).
#[deprecated(since = "0.1.0", note = "renamed to `FdAsyncRead`")]
pub type FdRead = FdAsyncRead;
pub use stream::FdStream;

/// What a first program needs, in one `use fdframe_async_io::prelude::*;`.
///
/// The readers, the `/dev/kmsg` types and the common line decoders, and
/// [`StreamExt`](futures_lite::StreamExt) for `stream.next().await`. That trait is
/// futures-lite's, which smol re-exports as `smol::stream::StreamExt` (the same trait, so no
/// clash) and which async-io, under this crate, already depends on. A program that imports
/// `async_std::stream::StreamExt` or `futures::StreamExt` should import the types by name
/// instead of this prelude, or two traits' `next` are in scope and the call is ambiguous.
pub mod prelude {
    pub use crate::{BatchStream, FdAsyncRead, FdStream};
    pub use fdframe::codec::{LinesDecoder, Utf8LinesDecoder};
    pub use fdframe::kmsg::{KmsgDecoder, KmsgRecord, KmsgStart};
    pub use futures_lite::StreamExt;
}

// The README's example, compiled as a doctest (it is the crates.io page, not the crate docs,
// which say more).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
