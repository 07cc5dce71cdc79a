//! Newline-delimited frames as zero-copy [`Bytes`]: [`LinesDecoder`] and its [`LinesError`].

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};

use crate::error::ByteCount;
use crate::{Decoder, ReadLimits};

/// A decoder that splits a byte stream at `\n` and yields each line, without its `\n`, as
/// [`Bytes`] that share the read buffer (no copy).
///
/// - **Limit.** A line may hold at most [`max_line_len`](Self::max_line_len) bytes before its
///   `\n` (default [1 MiB](Self::DEFAULT_MAX_LINE_LEN); a `\r` removed by
///   [`strip_cr`](Self::strip_cr) does not count). A longer line is reported once as
///   [`LinesError::TooLong`]; what is buffered of it is dropped, the rest of it is skipped as it
///   arrives, up to and including its `\n`, and decoding goes on with the next line. So the
///   decoder never holds more than the limit (plus one pending `\r`) of any line.
/// - **`\r\n`.** By default bytes are passed through untouched; with
///   [`strip_cr(true)`](Self::strip_cr) a `\r` right before the end of a line is removed too,
///   and a lone `\r` at the end of input (a cut-off `\r\n`) is no line, as in tokio-util's
///   `LinesCodec`.
/// - **End of input.** A last line without `\n` is still a line: [`decode_eof`](Decoder::decode_eof)
///   returns it (with the same limit and `\r` handling). An empty buffer gives `Ok(None)`. So this
///   decoder never leaves bytes for the engine to report as truncated.
/// - **Searching.** Each byte is searched for `\n` once (with `memchr`), however many reads a
///   long line arrives in: the decoder remembers how far it searched.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::codec::{LinesDecoder, LinesError};
///
/// let mut decoder = LinesDecoder::new().max_line_len(8).strip_cr(true);
/// let mut buf = BytesMut::from(&b"first\r\nmuch too long\nlast"[..]);
///
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "first");
/// assert_eq!(decoder.decode(&mut buf), Err(LinesError::TooLong { limit: 8 }));
/// // "last" has no `\n` yet: wait for more input...
/// assert_eq!(decoder.decode(&mut buf), Ok(None));
/// // ...or take it as the final line once input has ended.
/// assert_eq!(decoder.decode_eof(&mut buf).unwrap().unwrap(), "last");
/// assert_eq!(decoder.decode_eof(&mut buf), Ok(None));
/// ```
#[derive(Clone, Debug)]
pub struct LinesDecoder {
    max_line_len: usize,
    strip_cr: bool,
    /// How many bytes at the front of the buffer were already searched without finding `\n`.
    /// The next search starts there, so a long line arriving in many small reads costs one
    /// pass, not one pass per read (as tokio-util's `LinesCodec` does).
    next_index: usize,
    /// The current line was too long and has been reported: its bytes are dropped up to and
    /// including its `\n`.
    discarding: bool,
    /// How many bytes the `\n` searches have examined, so tests can check none is examined twice.
    #[cfg(test)]
    searched: usize,
}

impl LinesDecoder {
    /// The default [`max_line_len`](Self::max_line_len): 1 MiB.
    pub const DEFAULT_MAX_LINE_LEN: usize = 1024 * 1024;

    /// A decoder for lines of up to [1 MiB](Self::DEFAULT_MAX_LINE_LEN) that keeps `\r`.
    pub const fn new() -> Self {
        LinesDecoder {
            max_line_len: Self::DEFAULT_MAX_LINE_LEN,
            strip_cr: false,
            next_index: 0,
            discarding: false,
            #[cfg(test)]
            searched: 0,
        }
    }

    /// Sets the most bytes a line may have, not counting its `\n` (nor a `\r` removed by
    /// [`strip_cr`](Self::strip_cr)). `0` accepts only empty lines.
    #[must_use]
    pub const fn max_line_len(mut self, bytes: usize) -> Self {
        self.max_line_len = bytes;
        self
    }

    /// Sets whether a `\r` at the end of a line (before `\n`, or before the end of input) is
    /// removed, so `\r\n` input gives the same lines as `\n` input.
    #[must_use]
    pub const fn strip_cr(mut self, strip: bool) -> Self {
        self.strip_cr = strip;
        self
    }

    /// The most bytes of one line the buffer may hold before its `\n` arrives: the limit, plus
    /// a `\r` that may yet turn out to be the stripped end of the line.
    #[inline]
    fn max_pending_len(&self) -> usize {
        self.max_line_len.saturating_add(self.strip_cr as usize)
    }

    /// Finds the first `\n` in `haystack`.
    #[inline]
    fn find_newline(&mut self, haystack: &[u8]) -> Option<usize> {
        let found = memchr::memchr(b'\n', haystack);
        #[cfg(test)]
        {
            self.searched += found.map_or(haystack.len(), |newline| newline + 1);
        }
        found
    }

    /// Turns the bytes of one line (its `\n` already removed) into the frame, or the error.
    fn finish_line(&self, mut line: Bytes) -> Result<Bytes, LinesError> {
        if self.strip_cr && line.last() == Some(&b'\r') {
            line.truncate(line.len() - 1);
        }
        if line.len() > self.max_line_len {
            return Err(LinesError::TooLong {
                limit: self.max_line_len,
            });
        }
        Ok(line)
    }

    /// Takes the line ending at the `\n` at `newline` off the front of `src`: the per-frame
    /// path, so it decides the line's end and its length before splitting (one `split_to`, one
    /// `truncate`), and leaves the rare over-long line to a cold path.
    #[inline(always)]
    fn take_line(&self, src: &mut BytesMut, newline: usize) -> Result<Bytes, LinesError> {
        let mut end = newline;
        if self.strip_cr && end > 0 && src[end - 1] == b'\r' {
            end -= 1;
        }
        if end > self.max_line_len {
            return Err(self.skip_too_long(src, newline));
        }
        // Shortened before `freeze`: `BytesMut::truncate` only sets the length, where
        // `Bytes::truncate` has a branch that would make the compiler keep the frame in memory.
        let mut line = src.split_to(newline + 1);
        line.truncate(end);
        Ok(line.freeze())
    }

    /// Drops a whole over-long line, `\n` included.
    #[cold]
    fn skip_too_long(&self, src: &mut BytesMut, newline: usize) -> LinesError {
        src.advance(newline + 1);
        LinesError::TooLong {
            limit: self.max_line_len,
        }
    }

    /// The buffered bytes hold no `\n` up to `search_end`: wait for more, or, past the limit,
    /// drop the line's bytes and skip the rest of it as it arrives. Once per read, not per line.
    ///
    /// It returns no `Bytes`, so that `decode`'s per-line result is built in one place: every
    /// other place that could build it would make the compiler pass the line through memory.
    #[inline(never)]
    fn no_newline(&mut self, src: &mut BytesMut, search_end: usize) -> Result<(), LinesError> {
        if src.len() > self.max_pending_len() {
            // Everything up to `search_end` belongs to this line; drop it now so memory
            // stays bounded, and skip the rest of the line as it arrives.
            src.advance(search_end);
            self.next_index = 0;
            self.discarding = true;
            return Err(LinesError::TooLong {
                limit: self.max_line_len,
            });
        }
        self.next_index = search_end;
        Ok(())
    }

    /// Skips the rest of a line that was too long; `false` when it has not ended yet (and
    /// everything buffered was dropped).
    #[inline(never)]
    fn skip_discarded(&mut self, src: &mut BytesMut) -> bool {
        // Bytes dropped here are never seen again, so this search does not rescan either.
        match self.find_newline(src) {
            Some(newline) => {
                src.advance(newline + 1);
                self.discarding = false;
                true
            }
            None => {
                src.clear();
                false
            }
        }
    }
}

impl Default for LinesDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder for LinesDecoder {
    type Item = Bytes;
    type Error = LinesError;

    /// Inlined across the crate boundary: this is the per-line path of every backend.
    #[inline(always)]
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, LinesError> {
        if self.discarding && !self.skip_discarded(src) {
            return Ok(None);
        }

        let max_pending = self.max_pending_len();
        // A `\n` further out than this would end a line that is too long anyway; stopping the
        // search there bounds the work of one call by the limit, not by the read size.
        let search_end = src.len().min(max_pending.saturating_add(1));
        let search_start = self.next_index.min(search_end);
        let found = src
            .get(search_start..search_end)
            .and_then(|unsearched| self.find_newline(unsearched));
        match found {
            Some(offset) => {
                let newline = search_start + offset;
                self.next_index = 0;
                self.take_line(src, newline).map(Some)
            }
            None => self.no_newline(src, search_end).map(|()| None),
        }
    }

    /// Like [`decode`](Decoder::decode), but end of input also ends the last line: buffered
    /// bytes without a `\n` are returned as the final line.
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, LinesError> {
        if let Some(line) = self.decode(src)? {
            return Ok(Some(line));
        }
        // `decode` found no `\n`: `src` holds at most `max_pending_len` bytes of one line, or
        // nothing if that line was too long and is being skipped (its error already went out).
        self.discarding = false;
        self.next_index = 0;
        if src.is_empty() {
            return Ok(None);
        }
        if self.strip_cr && src[..] == b"\r"[..] {
            // The rest of a `\r\n` cut off by the end of input, not a line of its own (as
            // tokio-util's `LinesCodec` has it).
            src.clear();
            return Ok(None);
        }
        let line = src.split().freeze();
        self.finish_line(line).map(Some)
    }

    /// A stream; the engine's frame limit is one byte more than the most this decoder ever holds
    /// while waiting (`max_line_len`, plus one pending `\r` when stripping), so an over-long line
    /// is always reported as [`LinesError::TooLong`] and skipped, never as the engine's
    /// stream-ending `FrameTooLarge`.
    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream().max_frame_len(self.max_pending_len().saturating_add(1))
    }

    /// The fast path: all whole frames of a read as one run (see `lines/batch.rs`).
    fn decode_batch(&mut self, src: &mut BytesMut) -> Option<crate::Frames<Bytes>> {
        self.lines_batch(src)
    }
}

/// An error from [`LinesDecoder`]; the offending line has been skipped and decoding goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinesError {
    /// A line was longer than the limit; it was dropped up to and including its `\n`.
    TooLong {
        /// The configured [`max_line_len`](LinesDecoder::max_line_len), in bytes.
        limit: usize,
    },
}

impl fmt::Display for LinesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinesError::TooLong { limit } => {
                write!(f, "line longer than the limit of {}", ByteCount(*limit))
            }
        }
    }
}

impl std::error::Error for LinesError {}

pub(super) mod batch;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codec::test_support::{
        assert_chunking_does_not_matter, assert_memory_bounded, chunk_sizes, chunked, feed,
    };

    fn lines(decoder: LinesDecoder, input: &[u8]) -> Vec<Result<Bytes, LinesError>> {
        feed(decoder, [input]).events
    }

    fn ok(line: &str) -> Result<Bytes, LinesError> {
        Ok(Bytes::copy_from_slice(line.as_bytes()))
    }

    fn too_long(limit: usize) -> Result<Bytes, LinesError> {
        Err(LinesError::TooLong { limit })
    }

    /// The decoder's semantics written the obvious way: split on `\n`, check each piece.
    fn model(max_line_len: usize, strip_cr: bool, input: &[u8]) -> Vec<Result<Bytes, LinesError>> {
        let mut pieces: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        // After the last `\n` (or in empty input) is either nothing or an unterminated final line.
        if pieces.last().is_some_and(|last| last.is_empty()) {
            pieces.pop();
        } else if strip_cr && pieces.last() == Some(&&b"\r"[..]) {
            // A lone `\r` at the end of input: the rest of a cut-off `\r\n`.
            pieces.pop();
        }
        pieces
            .into_iter()
            .map(|mut line| {
                if strip_cr && line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                if line.len() > max_line_len {
                    too_long(max_line_len)
                } else {
                    Ok(Bytes::copy_from_slice(line))
                }
            })
            .collect()
    }

    #[test]
    fn lines_are_split_at_newline_without_the_newline() {
        assert_eq!(
            lines(LinesDecoder::new(), b"one\ntwo\n"),
            [ok("one"), ok("two")]
        );
    }

    #[test]
    fn crlf_is_kept_by_default() {
        assert_eq!(
            lines(LinesDecoder::new(), b"one\r\ntwo\n"),
            [ok("one\r"), ok("two")]
        );
    }

    #[test]
    fn crlf_is_stripped_when_enabled() {
        assert_eq!(
            lines(LinesDecoder::new().strip_cr(true), b"one\r\ntwo\n\r\n"),
            [ok("one"), ok("two"), ok("")]
        );
    }

    #[test]
    fn only_the_cr_right_before_the_newline_is_stripped() {
        assert_eq!(
            lines(LinesDecoder::new().strip_cr(true), b"\ra\rb\r\r\n"),
            [ok("\ra\rb\r")]
        );
    }

    #[test]
    fn empty_lines_are_empty_frames() {
        assert_eq!(
            lines(LinesDecoder::new(), b"\n\nx\n\n"),
            [ok(""), ok(""), ok("x"), ok("")]
        );
    }

    #[test]
    fn final_line_without_newline_is_returned_at_eof() {
        let fed = feed(LinesDecoder::new(), [&b"one\ntw"[..], b"o"]);
        assert_eq!(fed.events, [ok("one"), ok("two")]);
        assert!(fed.leftover.is_empty());
    }

    #[test]
    fn final_cr_is_stripped_at_eof_when_enabled() {
        assert_eq!(
            lines(LinesDecoder::new().strip_cr(true), b"one\r"),
            [ok("one")]
        );
        assert_eq!(lines(LinesDecoder::new(), b"one\r"), [ok("one\r")]);
    }

    #[test]
    fn a_lone_cr_at_eof_is_no_line_when_stripping() {
        assert_eq!(
            lines(LinesDecoder::new().strip_cr(true), b"one\n\r"),
            [ok("one")]
        );
        assert_eq!(
            lines(LinesDecoder::new(), b"one\n\r"),
            [ok("one"), ok("\r")]
        );
    }

    #[test]
    fn empty_buffer_at_eof_gives_none() {
        let mut decoder = LinesDecoder::new();
        assert_eq!(decoder.decode_eof(&mut BytesMut::new()), Ok(None));
    }

    #[test]
    fn line_at_exactly_the_limit_is_accepted() {
        assert_eq!(
            lines(LinesDecoder::new().max_line_len(3), b"abc\nabcd\n"),
            [ok("abc"), too_long(3)]
        );
        // The stripped `\r` does not count against the limit, but any other fourth byte does.
        assert_eq!(
            lines(
                LinesDecoder::new().max_line_len(3).strip_cr(true),
                b"abc\r\nabcd\nabc"
            ),
            [ok("abc"), too_long(3), ok("abc")]
        );
    }

    #[test]
    fn over_long_line_is_skipped_and_the_next_line_still_decoded() {
        let input = b"ok\nthis line is far too long\nnext\n";
        let decoder = LinesDecoder::new().max_line_len(8);
        let expected = [ok("ok"), too_long(8), ok("next")];
        assert_eq!(lines(decoder.clone(), input), expected);
        // The same when the long line trickles in a byte at a time.
        assert_eq!(feed(decoder, chunked(input, &[1])).events, expected);
    }

    #[test]
    fn over_long_line_is_dropped_as_it_arrives() {
        let mut decoder = LinesDecoder::new().max_line_len(4);
        let mut buf = BytesMut::from(&b"abcdefgh"[..]);
        assert_eq!(
            decoder.decode(&mut buf),
            Err(LinesError::TooLong { limit: 4 })
        );
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert!(buf.is_empty());
        buf.extend_from_slice(b"ijk\nnext\n");
        assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "next");
    }

    #[test]
    fn over_long_final_line_without_newline_is_reported_once() {
        let fed = feed(LinesDecoder::new().max_line_len(3), [&b"ok\nabcdefg"[..]]);
        assert_eq!(fed.events, [ok("ok"), too_long(3)]);
        assert!(fed.leftover.is_empty());
    }

    #[test]
    fn search_resumes_where_the_previous_one_stopped() {
        let mut decoder = LinesDecoder::new();
        let mut buf = BytesMut::new();
        for (i, &byte) in b"a long line".iter().enumerate() {
            buf.extend_from_slice(&[byte]);
            assert_eq!(decoder.decode(&mut buf), Ok(None));
            assert_eq!(
                decoder.next_index,
                i + 1,
                "searched bytes after {} reads",
                i + 1
            );
        }
        buf.extend_from_slice(b"\nnext");
        assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "a long line");
        assert_eq!(decoder.next_index, 0);
        assert_eq!(decoder.decode(&mut buf), Ok(None));
        assert_eq!(decoder.next_index, 4);
    }

    #[test]
    fn each_byte_is_searched_once_however_the_lines_arrive() {
        let input = b"a long line\nan over-long line, skipped\n\nend";
        let mut decoder = LinesDecoder::new().max_line_len(16);
        let mut buf = BytesMut::new();
        let mut events = Vec::new();
        for &byte in input {
            buf.extend_from_slice(&[byte]);
            while let Some(event) = decoder.decode(&mut buf).transpose() {
                events.push(event);
            }
        }
        while let Some(event) = decoder.decode_eof(&mut buf).transpose() {
            events.push(event);
        }
        assert_eq!(events, [ok("a long line"), too_long(16), ok(""), ok("end")]);
        assert_eq!(decoder.searched, input.len());
    }

    #[test]
    fn lines_share_the_read_buffer() {
        let mut buf = BytesMut::from(&b"ab\ncd\n"[..]);
        let start = buf.as_ptr() as usize;
        let mut decoder = LinesDecoder::new();
        let first = decoder.decode(&mut buf).unwrap().unwrap();
        let second = decoder.decode(&mut buf).unwrap().unwrap();
        assert_eq!(first.as_ptr() as usize, start);
        assert_eq!(second.as_ptr() as usize, start + 3);
    }

    #[test]
    fn read_limits_leave_room_for_the_longest_pending_line() {
        let limits = LinesDecoder::new().max_line_len(10).read_limits();
        assert_eq!(limits, ReadLimits::stream().max_frame_len(11));
        let limits = LinesDecoder::new()
            .max_line_len(10)
            .strip_cr(true)
            .read_limits();
        assert_eq!(limits.max_frame_len, 12);
        let limits = LinesDecoder::new().max_line_len(usize::MAX).read_limits();
        assert_eq!(limits.max_frame_len, usize::MAX);
    }

    #[test]
    fn error_message_names_the_limit() {
        assert_eq!(
            LinesError::TooLong { limit: 8 }.to_string(),
            "line longer than the limit of 8 bytes"
        );
    }

    fn line_bytes() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop::sample::select(&[b'a', b'b', b'\r', b'\n', 0xff][..]);
        prop::collection::vec(byte, 0..48)
    }

    proptest! {
        #[test]
        fn chunking_does_not_change_lines(
            input in line_bytes(),
            max_line_len in 0usize..8,
            strip_cr: bool,
            sizes in chunk_sizes(),
        ) {
            let make = || LinesDecoder::new().max_line_len(max_line_len).strip_cr(strip_cr);
            assert_chunking_does_not_matter(make, &input, &sizes)?;
        }

        #[test]
        fn lines_match_a_split_on_newline(
            input in line_bytes(),
            max_line_len in 0usize..8,
            strip_cr: bool,
            sizes in chunk_sizes(),
        ) {
            let decoder = LinesDecoder::new().max_line_len(max_line_len).strip_cr(strip_cr);
            let fed = feed(decoder, chunked(&input, &sizes));
            prop_assert_eq!(fed.events, model(max_line_len, strip_cr, &input));
            prop_assert!(fed.leftover.is_empty());
        }

        #[test]
        fn random_bytes_keep_memory_bounded(
            input in prop::collection::vec(any::<u8>(), 0..512),
            max_line_len in 0usize..64,
            strip_cr: bool,
            sizes in chunk_sizes(),
        ) {
            let make = || LinesDecoder::new().max_line_len(max_line_len).strip_cr(strip_cr);
            assert_memory_bounded(make, &input, &sizes, max_line_len + strip_cr as usize)?;
        }
    }
}
