//! Decoders for byte streams: lines, UTF-8 lines, length-prefixed frames, fixed-size records and
//! raw chunks.
//!
//! Each codec is a [`Decoder`](crate::Decoder) for stream-oriented descriptors (pipes, FIFOs,
//! ptys and serial ttys, stream sockets, regular files) and yields zero-copy [`Bytes`](bytes::Bytes)
//! that share the read buffer ([`Utf8LinesDecoder`] yields `String`s). They follow the
//! contract in [`Decoder`](crate::Decoder):
//!
//! - **Chunking does not matter.** The same input gives the same frames and errors however it
//!   is split across reads ([`ChunksDecoder`] excepted: its frames *are* the reads).
//! - **A bad frame is consumed.** Every error is returned after the offending bytes were
//!   removed, so the stream goes on with the next frame.
//! - **Memory is bounded.** Every codec has a default limit. A frame over it is reported by the
//!   codec itself and skipped up to its end, without buffering it; each codec's
//!   [`read_limits`](crate::Decoder::read_limits) sets the engine's frame limit just above what
//!   the codec can hold, so the engine's stream-ending
//!   [`FrameTooLarge`](crate::Error::FrameTooLarge) is only a safety net and never fires first.
//!
//! | decoder                     | item      | default limit                           | over the limit                                   | at end of input                      |
//! |-----------------------------|-----------|-----------------------------------------|--------------------------------------------------|--------------------------------------|
//! | [`LinesDecoder`]            | `Bytes`   | 1 MiB per line                          | [`LinesError::TooLong`], line skipped to its `\n` | last line without `\n` is a line     |
//! | [`Utf8LinesDecoder`]        | `String`  | 1 MiB per line                          | [`Utf8LinesError::TooLong`], as lines            | as lines                             |
//! | [`LengthDelimitedDecoder`]  | `Bytes`   | 8 MiB payload, 4-byte big-endian header | [`LengthDelimitedError::TooLong`], payload skipped | partial frame left: truncated      |
//! | [`FixedSizeDecoder`]        | `Bytes`   | the record size, 8 MiB at most          | cannot happen                                    | partial record left: truncated       |
//! | [`ChunksDecoder`]           | `Bytes`   | 64 KiB per chunk                        | more bytes become more chunks                    | everything is delivered              |
//!
//! "Truncated" means the bytes stay buffered and the engine reports them as
//! [`Error::Truncated`](crate::Error::Truncated).
//!
//! # Examples
//!
//! ```
//! use bytes::BytesMut;
//! use fdframe::Decoder;
//! use fdframe::codec::LinesDecoder;
//!
//! let mut decoder = LinesDecoder::new();
//! let mut buf = BytesMut::from(&b"kernel: hello\nkernel: wor"[..]);
//! assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "kernel: hello");
//! assert_eq!(decoder.decode(&mut buf).unwrap(), None); // waits for the rest of the line
//! ```

mod chunks;
mod fixed;
mod length_delimited;
mod lines;
#[cfg(test)]
mod test_support;
mod utf8_lines;

pub use chunks::ChunksDecoder;
pub use fixed::{FixedSizeDecoder, RecordLenError};
pub use length_delimited::{LengthDelimitedDecoder, LengthDelimitedError};
pub use lines::{LinesDecoder, LinesError};
pub use utf8_lines::{Utf8LinesDecoder, Utf8LinesError};
