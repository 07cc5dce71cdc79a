//! Frames prefixed with their length: [`LengthDelimitedDecoder`] and its
//! [`LengthDelimitedError`].

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};

use crate::error::ByteCount;
use crate::{Decoder, ReadLimits};

/// The most room `decode` reserves ahead for a payload still arriving; the engine's reads grow
/// the buffer past it as the bytes come.
const RESERVE_AHEAD: usize = 64 * 1024;

/// A decoder for frames that start with a header giving the length of the payload that follows;
/// yields each payload, without its header, as [`Bytes`] that share the read buffer.
///
/// The header is an unsigned integer of 1 to 8 bytes, big or little endian. By default it is 4
/// bytes, big endian, and counts the payload only:
///
/// ```text
/// INPUT (15 bytes)                          DECODED
/// +--- len: u32 BE ---+---- payload ----+
/// | \x00\x00\x00\x0B  |  Hello world    |  -->  Hello world
/// +-------------------+-----------------+
/// ```
///
/// With [`length_field_len(2)`](Self::length_field_len) and
/// [`little_endian()`](Self::little_endian):
///
/// ```text
/// INPUT (13 bytes)                          DECODED
/// +- len: u16 LE -+---- payload ----+
/// |   \x0B\x00    |  Hello world    |  -->  Hello world
/// +---------------+-----------------+
/// ```
///
/// With [`length_includes_header(true)`](Self::length_includes_header) the header counts
/// itself too, so a length smaller than the header is [invalid](LengthDelimitedError::InvalidLength):
///
/// ```text
/// INPUT (15 bytes)                          DECODED
/// +--- len: u32 BE ---+---- payload ----+
/// | \x00\x00\x00\x0F  |  Hello world    |  -->  Hello world
/// +-------------------+-----------------+
/// ```
///
/// # Headers around the length field
///
/// tokio-util's `LengthDelimitedCodec` settings for headers with more than a length in them
/// are here under the same names and with the same meaning (a test checks this decoder against
/// it):
///
/// - [`length_field_offset(n)`](Self::length_field_offset): `n` header bytes come before the
///   length field.
/// - [`length_adjustment(n)`](Self::length_adjustment): added to the length field to get the
///   number of bytes that follow the skipped part (`-2` when a 2-byte length counts itself).
/// - [`num_skip(n)`](Self::num_skip): how many bytes at the start of a frame are dropped
///   (default: the whole header; `0` keeps the header in the yielded frame).
///
/// ```text
/// length_field_offset(1), length_field_len(2), length_adjustment(1), num_skip(3)
/// INPUT (16 bytes)                                    DECODED
/// +- tag -+- len: u16 BE -+- flag -+---- payload ----+
/// | \xCA  |   \x00\x0B    | \xFE   |  Hello world    |  -->  \xFE Hello world
/// +-------+---------------+--------+-----------------+
/// ```
///
/// Two differences, both about bad input: the [limit](Self::max_frame_len) applies to the
/// yielded frame (tokio-util's applies to the raw length field), and a frame over it or with a
/// length that comes out negative is reported and skipped, where a `FramedRead` ends.
///
/// # Limits and errors
///
/// A payload may have at most [`max_frame_len`](Self::max_frame_len) bytes (default
/// [8 MiB](Self::DEFAULT_MAX_FRAME_LEN)). A header declaring more is reported as
/// [`LengthDelimitedError::TooLong`]; the decoder then drops exactly the declared number of
/// payload bytes as they arrive, without ever buffering or reserving them, and goes on with the
/// header after them. So memory stays bounded whatever the headers say, and the stream
/// stays in sync as long as the lengths themselves are right.
///
/// # End of input
///
/// A frame is complete only with its whole payload: at end of input, a partial header or a
/// header with part of its payload stays in the buffer (header included), and the engine
/// reports it as [`Error::Truncated`](crate::Error::Truncated). Input that ends while a
/// too-long payload is being skipped leaves nothing: that frame's error was already reported.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::codec::{LengthDelimitedDecoder, LengthDelimitedError};
///
/// let mut decoder = LengthDelimitedDecoder::new()
///     .length_field_len(2)
///     .little_endian()
///     .max_frame_len(5);
/// let mut buf = BytesMut::from(&b"\x02\x00hi\x07\x00skipped\x03\x00end"[..]);
///
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "hi");
/// assert_eq!(
///     decoder.decode(&mut buf),
///     Err(LengthDelimitedError::TooLong { payload_len: 7, limit: 5 })
/// );
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "end");
/// assert_eq!(decoder.decode(&mut buf), Ok(None));
/// ```
#[derive(Clone, Debug)]
pub struct LengthDelimitedDecoder {
    length_field_offset: usize,
    length_field_len: usize,
    little_endian: bool,
    length_includes_header: bool,
    length_adjustment: isize,
    /// `None`: skip the whole header (`length_field_offset + length_field_len`).
    num_skip: Option<usize>,
    max_frame_len: usize,
    /// Payload bytes of a too-long frame that are still to be dropped as they arrive. A `u64`
    /// because a header may declare more than `usize` holds on 32-bit targets.
    skip_remaining: u64,
}

impl LengthDelimitedDecoder {
    /// The default [`max_frame_len`](Self::max_frame_len): 8 MiB of payload.
    pub const DEFAULT_MAX_FRAME_LEN: usize = 8 * 1024 * 1024;

    /// A decoder for a 4-byte big-endian payload length, payloads of up to
    /// [8 MiB](Self::DEFAULT_MAX_FRAME_LEN).
    pub const fn new() -> Self {
        LengthDelimitedDecoder {
            length_field_offset: 0,
            length_field_len: 4,
            little_endian: false,
            length_includes_header: false,
            length_adjustment: 0,
            num_skip: None,
            max_frame_len: Self::DEFAULT_MAX_FRAME_LEN,
            skip_remaining: 0,
        }
    }

    /// Sets the size of the length header, in bytes.
    ///
    /// # Panics
    ///
    /// If `bytes` is not between 1 and 8 (a `u64` is the widest length read). This is a
    /// configuration mistake, not a property of the input, so it is caught at construction.
    #[must_use]
    pub const fn length_field_len(mut self, bytes: usize) -> Self {
        assert!(
            bytes >= 1 && bytes <= 8,
            "length_field_len must be between 1 and 8 bytes"
        );
        self.length_field_len = bytes;
        self
    }

    /// Reads the length header as big endian (most significant byte first); the default.
    #[must_use]
    pub const fn big_endian(mut self) -> Self {
        self.little_endian = false;
        self
    }

    /// Reads the length header as little endian (least significant byte first).
    #[must_use]
    pub const fn little_endian(mut self) -> Self {
        self.little_endian = true;
        self
    }

    /// Reads the length header in the target's byte order (tokio-util's `native_endian`).
    #[must_use]
    pub const fn native_endian(mut self) -> Self {
        self.little_endian = cfg!(target_endian = "little");
        self
    }

    /// Sets whether the length in the header counts the header itself (default: `false`, it
    /// counts the payload only). The same as a
    /// [`length_adjustment`](Self::length_adjustment) of minus the header's size
    /// (`length_field_offset + length_field_len`), added to any adjustment set.
    #[must_use]
    pub const fn length_includes_header(mut self, includes: bool) -> Self {
        self.length_includes_header = includes;
        self
    }

    /// Sets how many bytes of the header come before the length field (default 0), as in
    /// tokio-util's `LengthDelimitedCodec`. They are part of the header: skipped with it
    /// unless [`num_skip`](Self::num_skip) says otherwise.
    #[must_use]
    pub const fn length_field_offset(mut self, bytes: usize) -> Self {
        self.length_field_offset = bytes;
        self
    }

    /// Sets a number added to the length field to get the number of bytes that follow the
    /// skipped part of the frame (default 0), as in tokio-util's `LengthDelimitedCodec`: for
    /// a length that also counts a 2-byte header, `-2`; for a length that leaves out a 3-byte
    /// trailer of the header after the field, `3`. A length that comes out negative is
    /// [`LengthDelimitedError::InvalidLength`].
    #[must_use]
    pub const fn length_adjustment(mut self, bytes: isize) -> Self {
        self.length_adjustment = bytes;
        self
    }

    /// Sets how many bytes from the start of each frame are dropped before the yielded frame
    /// begins (default: the whole header, `length_field_offset + length_field_len`), as in
    /// tokio-util's `LengthDelimitedCodec`: `0` yields every frame with its header.
    #[must_use]
    pub const fn num_skip(mut self, bytes: usize) -> Self {
        self.num_skip = Some(bytes);
        self
    }

    /// How many bytes of a frame are dropped before the yielded part.
    #[inline]
    const fn skip_len(&self) -> usize {
        match self.num_skip {
            Some(skip) => skip,
            None => self
                .length_field_offset
                .saturating_add(self.length_field_len),
        }
    }

    /// How many bytes must be buffered before a frame's length is known (as tokio-util waits:
    /// the length field's end, or the skipped part if that is longer).
    #[inline]
    const fn head_len(&self) -> usize {
        let field_end = self
            .length_field_offset
            .saturating_add(self.length_field_len);
        let skip = self.skip_len();
        if skip > field_end { skip } else { field_end }
    }

    /// What is added to the length field to get the length of the yielded part.
    #[inline]
    fn net_adjustment(&self) -> i128 {
        let header = if self.length_includes_header {
            (self.length_field_offset as i128) + (self.length_field_len as i128)
        } else {
            0
        };
        self.length_adjustment as i128 - header
    }

    /// The least length of the yielded part: a frame (skipped part and yielded part) must
    /// reach past its own length field. tokio-util accepts a frame that ends inside its own
    /// header (with `num_skip` below the field's end); here it is invalid, because with an
    /// empty yielded part it would consume nothing and repeat forever.
    #[inline]
    fn least_payload_len(&self) -> i128 {
        let field_end = (self.length_field_offset as i128) + (self.length_field_len as i128);
        (field_end - self.skip_len() as i128).max(0)
    }

    /// The least value of the length field: what [`LengthDelimitedError::InvalidLength`] says.
    fn least_length_field(&self) -> usize {
        let least = (self.least_payload_len() - self.net_adjustment()).max(0);
        usize::try_from(least).unwrap_or(usize::MAX)
    }

    /// The length of the yielded part for a length field of `length_field`; `None` when it
    /// comes out below [`least_payload_len`](Self::least_payload_len) (negative, say).
    /// Saturates at `u64::MAX` (which is over any limit).
    #[inline]
    fn payload_len(&self, length_field: u64) -> Option<u64> {
        let adjust = self.net_adjustment();
        let least = self.least_payload_len();
        if adjust == 0 && least == 0 {
            return Some(length_field);
        }
        let len = i128::from(length_field) + adjust;
        (len >= least).then(|| u64::try_from(len).unwrap_or(u64::MAX))
    }

    /// Sets the most bytes a payload may have (the header not counted). `0` accepts only empty
    /// payloads.
    #[must_use]
    pub const fn max_frame_len(mut self, bytes: usize) -> Self {
        self.max_frame_len = bytes;
        self
    }

    /// Reads the length field, `length_field_len` bytes at `length_field_offset` of `src`, if
    /// there.
    #[inline]
    fn length_field(&self, src: &[u8]) -> Option<u64> {
        let end = self
            .length_field_offset
            .checked_add(self.length_field_len)?;
        let header = src.get(self.length_field_offset..end)?;
        let push = |len: u64, &byte: &u8| (len << 8) | u64::from(byte);
        Some(if self.little_endian {
            header.iter().rev().fold(0, push)
        } else {
            header.iter().fold(0, push)
        })
    }

    /// Drops buffered bytes of a too-long payload; returns `true` once all of it is gone.
    fn skip(&mut self, src: &mut BytesMut) -> bool {
        let n = usize::try_from(self.skip_remaining).map_or(src.len(), |rest| rest.min(src.len()));
        src.advance(n);
        self.skip_remaining -= n as u64;
        self.skip_remaining == 0
    }

    /// A header whose length, adjusted, comes out negative (shorter than the header it counts).
    #[cold]
    fn invalid_length(&self, src: &mut BytesMut, length_field: u64) -> LengthDelimitedError {
        // Nothing says where this frame ends: drop the header and read on, which is the best a
        // stream without sync markers can do.
        src.advance(self.head_len());
        LengthDelimitedError::InvalidLength {
            length_field,
            header_len: self.least_length_field(),
        }
    }

    /// A header announcing a payload over the limit: skip the frame as it arrives.
    #[cold]
    fn too_long(&mut self, src: &mut BytesMut, payload_len: u64) -> LengthDelimitedError {
        // The frame is the skipped part and the payload (at least up to the length field's end,
        // so never empty).
        self.skip_remaining = (self.skip_len() as u64).saturating_add(payload_len);
        self.skip(src);
        LengthDelimitedError::TooLong {
            payload_len,
            limit: self.max_frame_len,
        }
    }

    /// The frame of `frame_len` bytes has not fully arrived: make room for it, once per read.
    #[inline(never)]
    fn wait_for_rest(src: &mut BytesMut, frame_len: usize) {
        // The header stays buffered with the partial payload, so a frame cut off by end of
        // input is reported whole. The room reserved ahead is capped: the limit may be huge
        // (`max_frame_len(usize::MAX)`) and the length is only what a header claims; past the
        // cap the buffer grows as the bytes actually arrive.
        src.reserve((frame_len - src.len()).min(RESERVE_AHEAD));
    }
}

impl Default for LengthDelimitedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder for LengthDelimitedDecoder {
    type Item = Bytes;
    type Error = LengthDelimitedError;

    /// Inlined across the crate boundary: the per-frame path. The rare outcomes are out of line
    /// and return no `Bytes`, so the frame is built in one place (not copied through the stack).
    #[inline]
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, LengthDelimitedError> {
        if self.skip_remaining > 0 && !self.skip(src) {
            return Ok(None);
        }
        let head_len = self.head_len();
        if src.len() < head_len {
            return Ok(None);
        }
        let Some(length_field) = self.length_field(src) else {
            return Ok(None);
        };
        let Some(payload_len) = self.payload_len(length_field) else {
            return Err(self.invalid_length(src, length_field));
        };
        let skip_len = self.skip_len();
        let within_limit = usize::try_from(payload_len)
            .ok()
            .filter(|&len| len <= self.max_frame_len)
            .and_then(|len| Some((len, skip_len.checked_add(len)?)));
        let Some((payload_len, frame_len)) = within_limit else {
            return Err(self.too_long(src, payload_len));
        };
        if src.len() < frame_len {
            Self::wait_for_rest(src, frame_len);
            return Ok(None);
        }
        src.advance(skip_len);
        Ok(Some(src.split_to(payload_len).freeze()))
    }

    /// A stream; the engine's frame limit is header plus largest payload, one byte more than the
    /// most this decoder ever holds while waiting, so a too-long frame is always reported as
    /// [`LengthDelimitedError::TooLong`] and skipped, never as the engine's stream-ending
    /// `FrameTooLarge`.
    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream().max_frame_len(self.max_frame_len.saturating_add(self.head_len()))
    }

    /// The fast path: all whole frames of a read as one run (see `length_delimited/batch.rs`).
    fn decode_batch(&mut self, src: &mut BytesMut) -> Option<crate::Frames<Bytes>> {
        self.length_delimited_batch(src)
    }
}

/// An error from [`LengthDelimitedDecoder`]; the offending header has been consumed and
/// decoding goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LengthDelimitedError {
    /// A header declared a payload longer than the limit; those payload bytes are skipped as
    /// they arrive, and decoding resumes at the header after them.
    TooLong {
        /// The declared payload length, in bytes (the header not counted).
        payload_len: u64,
        /// The configured [`max_frame_len`](LengthDelimitedDecoder::max_frame_len), in bytes.
        limit: usize,
    },
    /// A length field, adjusted, came out negative: a header that counts itself declared less
    /// than its own size (or less than minus the [`length_adjustment`](LengthDelimitedDecoder::length_adjustment)).
    /// The header was dropped and the bytes after it are read as the next header.
    InvalidLength {
        /// The value of the length field.
        length_field: u64,
        /// The least the length field may hold, in bytes: the header it counts (its size, when
        /// it [counts itself](LengthDelimitedDecoder::length_includes_header), less any
        /// [`length_adjustment`](LengthDelimitedDecoder::length_adjustment)).
        header_len: usize,
    },
}

impl fmt::Display for LengthDelimitedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LengthDelimitedError::TooLong { payload_len, limit } => write!(
                f,
                "frame payload of {} exceeds the limit of {}",
                ByteCount(*payload_len),
                ByteCount(*limit)
            ),
            LengthDelimitedError::InvalidLength {
                length_field,
                header_len,
            } => write!(
                f,
                "length field of {length_field} is smaller than the {} of header it counts",
                ByteCount(*header_len)
            ),
        }
    }
}

impl std::error::Error for LengthDelimitedError {}

mod batch;
#[cfg(test)]
mod tokio_util_oracle;

#[cfg(test)]
mod tests;
