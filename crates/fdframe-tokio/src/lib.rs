//! fdframe on tokio: Linux file descriptors as [`Stream`](futures_core::Stream)s of decoded
//! messages, woken by tokio's reactor.
//!
//! Runnable programs for this crate are in the fdframe workspace's `examples/` package: `cargo run
//! --example NAME` from the workspace root, NAME one of `kmsg_tokio`, `fifo_lines_tokio`,
//! `inotify_tokio`, `signalfd_tokio`, `tun_tokio`, `tokio_util_codec`, `batches_tokio`,
//! `follow_file`.
//!
//! [`FdStream`] reads a descriptor — `/dev/kmsg`, a pipe or FIFO, a pty, a socket, inotify, a
//! regular file — and yields what an [`fdframe::Decoder`] makes of the bytes. The framing is
//! [`fdframe`]'s engine, the same in every backend; this crate only waits for readiness the way
//! tokio's `AsyncFd` wants it (read until `WouldBlock`, clear readiness only then).
//! [`FdStream::batches`] turns it into a [`BatchStream`]: each read's messages as one
//! [`fdframe::Frames`] batch, for throughput. For your own
//! codec there is [`FdAsyncRead`], the descriptor's bytes as a `tokio::io::AsyncRead`, and with the
//! `tokio-util` feature, `TokioUtilDecoder` runs a `tokio_util::codec::Decoder` on the engine.
//!
//! # Features
//!
//! - `tokio-util` (off by default): `TokioUtilDecoder`, an adapter that lets an existing
//!   `tokio_util::codec::Decoder` be an [`fdframe::Decoder`].
//!
//! ```no_run
//! use fdframe_tokio::prelude::*; // FdStream, KmsgStart, StreamExt, ...
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! // `dmesg -w`: every record in the kernel's ring buffer, then new ones as they come.
//! let mut kmsg = FdStream::kmsg(KmsgStart::Oldest)?;
//! while let Some(record) = kmsg.next().await {
//!     match record {
//!         Ok(record) => println!("{}", record.message_lossy()),
//!         // Loss notices and malformed records: report them, the stream goes on.
//!         Err(e) if !e.is_fatal() => eprintln!("{e}"),
//!         // A failed read ends the stream.
//!         Err(e) => return Err(e.into()),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Why not `AsyncFd` + `FramedRead`?
//!
//! That glue reads into whatever capacity the buffer has left. Record devices return one
//! record per `read(2)` and fail with `EINVAL` when it does not fit; `/dev/kmsg` has then
//! already skipped the record. Reading the kernel log that way loses records after the first
//! few kilobytes. The engine offers every read the room its decoder declared
//! ([`fdframe::ReadLimits`]; 8 KiB for `/dev/kmsg`) before the read, never after.
//!
//! # Caveats
//!
//! - **Create readers inside a tokio runtime** with I/O enabled: registration needs the
//!   reactor (outside a runtime the constructors return an error; a runtime without
//!   `enable_io` makes tokio panic).
//! - **`O_NONBLOCK` is shared.** A pollable descriptor handed over in blocking mode
//!   ([`FdStream::from_fd`], [`FdStream::new`]) is switched to non-blocking, and every process
//!   sharing its open file description sees that until the reader is dropped (the old flags
//!   are then restored). [`FdStream::open`] opens a description of its own, and
//!   [`FdStream::stdin`] does for a terminal, so they avoid this.
//! - **Regular files are read inline.** epoll refuses them (`EPERM`), so they are never
//!   registered and are read to end of file inside `poll_next`; a slow disk blocks the runtime
//!   thread for that read. The same applies to devices epoll refuses (`/dev/null`).
//! - **One reader per descriptor.** The reader owns the registration; dropping it
//!   deregisters and closes the descriptor (`into_inner` deregisters and gives it back).
//! - **[`FdAsyncRead`] is for byte streams.** It reads into the caller's buffer, so it cannot
//!   guarantee record devices the room they need; read those with [`FdStream`].

#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Linux only: say so once instead of a wall of unresolved Linux system calls.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "fdframe-tokio supports Linux only: it reads Linux descriptors (/dev/kmsg, inotify, signalfd, epoll)"
);

/// The core crate, re-exported so that `fdframe_tokio::fdframe::kmsg::KmsgStart` (and every
/// decoder) is reachable with `fdframe-tokio` as the only fdframe dependency.
pub use fdframe;

mod batches;
mod kmsg;
mod read;
mod source;
mod stream;
#[cfg(feature = "tokio-util")]
mod tokio_util_decoder;

pub use batches::BatchStream;
pub use read::FdAsyncRead;

/// The old name of [`FdAsyncRead`] (next to `FdReader` and `FdStream` it did not say which one
/// is the `AsyncRead`).
#[deprecated(since = "0.1.0", note = "renamed to `FdAsyncRead`")]
pub type FdRead = FdAsyncRead;
pub use stream::FdStream;
#[cfg(feature = "tokio-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-util")))]
pub use tokio_util_decoder::TokioUtilDecoder;

/// What a first program needs, in one `use fdframe_tokio::prelude::*;`.
///
/// The readers, the `/dev/kmsg` types and the common line decoders, and
/// [`StreamExt`](tokio_stream::StreamExt) for `stream.next().await`. That trait is
/// `tokio_stream::StreamExt`, the one tokio's own documentation teaches: a program that
/// already imports it from `tokio_stream` sees the same trait, with no clash. A program that
/// uses `futures::StreamExt` instead should import the types by name rather than this prelude,
/// or both traits' `next` are in scope and the call is ambiguous.
pub mod prelude {
    pub use crate::{BatchStream, FdAsyncRead, FdStream};
    pub use fdframe::codec::{LinesDecoder, Utf8LinesDecoder};
    pub use fdframe::kmsg::{KmsgDecoder, KmsgRecord, KmsgStart};
    pub use tokio_stream::StreamExt;
}

// The README's example, compiled as a doctest (it is the crates.io page, not the crate docs,
// which say more).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
