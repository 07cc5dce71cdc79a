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
//! # Coming from tokio-util
//!
//! Each `tokio_util::codec` decoder and the fdframe decoder with the settings that decode the
//! same input into the same frames (tests check the lines and length-delimited rows against
//! tokio-util itself):
//!
//! | tokio-util                                    | fdframe                                                           |
//! |-----------------------------------------------|-------------------------------------------------------------------|
//! | `LinesCodec::new()`                           | [`Utf8LinesDecoder::new().strip_cr(true)`](Utf8LinesDecoder::strip_cr) (`String`s); [`LinesDecoder::new().strip_cr(true)`](LinesDecoder::strip_cr) for zero-copy `Bytes` without the UTF-8 check |
//! | `LinesCodec::new_with_max_length(n)`          | the same with [`.max_line_len(n)`](Utf8LinesDecoder::max_line_len) |
//! | `LengthDelimitedCodec::new()`                 | [`LengthDelimitedDecoder::new()`] (the same defaults: 4-byte big-endian length, 8 MiB) |
//! | `.length_field_length(n)`, `.length_field_type::<u16>()` | [`.length_field_len(n)`](LengthDelimitedDecoder::length_field_len), `.length_field_len(2)` |
//! | `.length_field_offset(n)`                     | [`.length_field_offset(n)`](LengthDelimitedDecoder::length_field_offset) |
//! | `.length_adjustment(n)`                       | [`.length_adjustment(n)`](LengthDelimitedDecoder::length_adjustment) (`-(header)`: or [`.length_includes_header(true)`](LengthDelimitedDecoder::length_includes_header)) |
//! | `.num_skip(n)`                                | [`.num_skip(n)`](LengthDelimitedDecoder::num_skip)               |
//! | `.big_endian()`, `.little_endian()`, `.native_endian()` | the same names                                          |
//! | `.max_frame_length(n)`                        | [`.max_frame_len(n)`](LengthDelimitedDecoder::max_frame_len), which bounds the yielded frame, not the raw field |
//! | `BytesCodec::new()`                           | [`ChunksDecoder`]: each read's bytes, up to 64 KiB a chunk         |
//! | `AnyDelimiterCodec`                           | no built-in equivalent: adapt it (below) or write a [`Decoder`](crate::Decoder) |
//!
//! What differs is what happens to bad input. A tokio-util codec's error usually ends the
//! `FramedRead` (a line over the limit is the exception); here every codec reports the bad
//! frame as [`Error::Decode`](crate::Error::Decode), skips it and goes on. And `LinesCodec`
//! counts a `\r` before the `\n` toward its limit, where `max_line_len` does not count a
//! stripped `\r`.
//!
//! An existing codec runs unchanged through an adapter: `fdframe_tokio::TokioUtilDecoder` for a
//! `tokio_util::codec::Decoder` (feature `tokio-util`), and
//! `fdframe_async_io::AsynchronousCodecDecoder` for an `asynchronous_codec::Decoder` (feature
//! `asynchronous-codec`). Both work on every backend, since an fdframe decoder is
//! runtime-neutral.
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
