//! Turn Linux file descriptors into streams of decoded messages.
//!
//! fdframe reads `/dev/kmsg`, `/proc/kmsg`, pipes, FIFOs, ptys, sockets, inotify, signalfd,
//! timerfd, eventfd, evdev, TUN and regular files, and hands out typed messages. This crate is the
//! runtime-neutral core:
//!
//! - [`Decoder`]: how bytes become messages (close to `tokio_util::codec::Decoder`), and
//!   [`ReadLimits`]: what a decoder needs from every `read(2)`.
//! - [`Framer`]: the sans-IO framing engine shared by every backend. It owns the buffer,
//!   guarantees the room record devices need *before* each read, adapts read sizes, bounds memory,
//!   and classifies what goes wrong into one [`Error`] type.
//! - Decoders: [`codec`] (lines, UTF-8 lines, length-delimited, fixed-size, chunks), [`kmsg`]
//!   (`/dev/kmsg` records with loss accounting, `/proc/kmsg` lines), [`devices`] (inotify,
//!   signalfd, timerfd/eventfd, evdev, datagrams).
//! - [`Frames`]: the batch API. [`Framer::poll_batch_with`] and every backend's batch reader
//!   hand out one read's worth of messages as one value (for the byte codecs, one frozen
//!   [`bytes::Bytes`] and the frames' boundaries, so reading costs no allocation per message),
//!   with errors, loss notices and the end between batches; decoders opt into the fast path with
//!   [`Decoder::decode_batch`].
//! - [`ReadFd`]: an owned descriptor with its kind and careful `O_NONBLOCK` handling, and
//!   [`blocking::FdReader`], the reference backend (an `Iterator`).
//! - [`follow`]: growing files followed like `tail -F` (rotation, truncation, deletion,
//!   checkpoints) as a [`ReadFd`] of its own kind, on every backend.
//!
//! The async backends live in their own crates: `fdframe-tokio`, `fdframe-async-io` (async-std
//! and smol) and `fdframe-mio`. They add readiness, nothing else.
//!
//! # Example
//!
//! Lines from a pipe, on the blocking backend:
//!
//! ```
//! use std::io::Write;
//! use fdframe::{blocking::FdReader, codec::Utf8LinesDecoder};
//!
//! let (reader, mut writer) = std::io::pipe()?;
//! writer.write_all(b"one\ntwo\n")?;
//! drop(writer);
//!
//! for line in FdReader::from_fd(reader.into(), Utf8LinesDecoder::new())? {
//!     println!("{}", line?);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What a stream yields
//!
//! Every reader yields `Result<D::Item, Error<D::Error>>`. A failed read ([`Error::Io`]) ends the
//! stream; malformed messages ([`Error::Decode`]), device-side loss ([`Error::Lost`]) and oversized
//! records are reported and reading goes on. See [`Error`] for the table (and the two cases where a
//! byte stream cannot be resynchronised).

#![deny(unsafe_code)]

// Linux only, and that is the one error another target sees: every module below is gated on
// `target_os = "linux"`, so nothing is left to fail on unresolved Linux system calls. The
// backends never get this far on another target: they fail on this crate.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "fdframe supports Linux only: it reads Linux descriptors (/dev/kmsg, inotify, signalfd, timerfd, TUN) through Linux system calls"
);

// The README's example, compiled as a doctest (it is the crates.io page; the crate docs above
// say more).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Gates each item on Linux, so that on another target the `compile_error!` above is the only
/// error (a module left in would fail on the Linux system calls it makes).
macro_rules! linux_only {
    ($($item:item)*) => { $(#[cfg(target_os = "linux")] $item)* };
}

linux_only! {
    pub mod blocking;
    pub mod codec;
    mod decoder;
    pub mod devices;
    mod engine;
    mod error;
    mod fd;
    pub mod follow;
    mod loss;
    pub mod frames;
    pub mod kmsg;
    mod sys;

    pub use decoder::{Decoder, ReadErrorAction, ReadLimits};
    pub use engine::{BatchStep, Framer, ReadSpace, Step};
    pub use error::Error;
    pub use loss::{Loss, LossCause, OtherCause};
    pub use fd::{FdKind, ReadFd};
    pub use frames::Frames;

    /// The old name of [`ReadSpace`] (it clashed with `tokio::io::ReadBuf` where both are in
    /// scope).
    #[deprecated(since = "0.1.0", note = "renamed to `ReadSpace`")]
    pub type ReadBuf<'a> = ReadSpace<'a>;
}
