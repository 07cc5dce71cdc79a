//! Newline-delimited UTF-8 text: [`Utf8LinesDecoder`] and its [`Utf8LinesError`].

use std::fmt;

use bytes::{Bytes, BytesMut};

use crate::codec::{LinesDecoder, LinesError};
use crate::error::ByteCount;
use crate::{Decoder, ReadLimits};

/// A decoder that splits a byte stream at `\n` and yields each line, without its `\n`, as a
/// [`String`].
///
/// Lines are found exactly as [`LinesDecoder`] finds them (same limit, default 1 MiB, same
/// `\r` stripping, same final line at end of input); this decoder only checks that each one is
/// UTF-8. A line that is not is reported as [`Utf8LinesError::InvalidUtf8`] carrying the raw
/// line, and decoding goes on with the next line. Valid lines are copied into their `String`;
/// use [`LinesDecoder`] for zero-copy lines.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::codec::{Utf8LinesDecoder, Utf8LinesError};
///
/// let mut decoder = Utf8LinesDecoder::new().strip_cr(true);
/// let mut buf = BytesMut::from(&b"gr\xc3\xbc\xc3\x9fe\r\nbad \xff\nok\n"[..]);
///
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "grüße");
/// match decoder.decode(&mut buf) {
///     Err(Utf8LinesError::InvalidUtf8 { raw, valid_up_to }) => {
///         assert_eq!(raw, &b"bad \xff"[..]);
///         assert_eq!(valid_up_to, 4);
///     }
///     other => panic!("expected invalid UTF-8, got {other:?}"),
/// }
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "ok");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Utf8LinesDecoder {
    lines: LinesDecoder,
}

impl Utf8LinesDecoder {
    /// The default [`max_line_len`](Self::max_line_len): 1 MiB, as for [`LinesDecoder`].
    pub const DEFAULT_MAX_LINE_LEN: usize = LinesDecoder::DEFAULT_MAX_LINE_LEN;

    /// A decoder for lines of up to [1 MiB](Self::DEFAULT_MAX_LINE_LEN) that keeps `\r`.
    pub const fn new() -> Self {
        Utf8LinesDecoder {
            lines: LinesDecoder::new(),
        }
    }

    /// Sets the most bytes (not characters) a line may have; see
    /// [`LinesDecoder::max_line_len`].
    #[must_use]
    pub const fn max_line_len(self, bytes: usize) -> Self {
        Utf8LinesDecoder {
            lines: self.lines.max_line_len(bytes),
        }
    }

    /// Sets whether a `\r` ending a line is removed; see [`LinesDecoder::strip_cr`].
    #[must_use]
    pub const fn strip_cr(self, strip: bool) -> Self {
        Utf8LinesDecoder {
            lines: self.lines.strip_cr(strip),
        }
    }

    #[inline]
    fn text(line: Option<Bytes>) -> Result<Option<String>, Utf8LinesError> {
        let Some(line) = line else { return Ok(None) };
        match std::str::from_utf8(&line) {
            Ok(text) => Ok(Some(text.to_owned())),
            Err(e) => Err(Utf8LinesError::InvalidUtf8 {
                valid_up_to: e.valid_up_to(),
                raw: line,
            }),
        }
    }
}

impl From<LinesDecoder> for Utf8LinesDecoder {
    /// Checks the lines of `lines` for UTF-8, keeping its limit and `\r` handling.
    fn from(lines: LinesDecoder) -> Self {
        Utf8LinesDecoder { lines }
    }
}

impl Decoder for Utf8LinesDecoder {
    type Item = String;
    type Error = Utf8LinesError;

    #[inline]
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<String>, Utf8LinesError> {
        Self::text(self.lines.decode(src)?)
    }

    /// Returns a last line without `\n` too, as [`LinesDecoder`] does.
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<String>, Utf8LinesError> {
        Self::text(self.lines.decode_eof(src)?)
    }

    /// The same as [`LinesDecoder::read_limits`](LinesDecoder#method.read_limits).
    fn read_limits(&self) -> ReadLimits {
        self.lines.read_limits()
    }

    /// The fast path: all whole frames of a read as one run (see `utf8_lines/batch.rs`).
    fn decode_batch(&mut self, src: &mut BytesMut) -> Option<crate::Frames<String>> {
        self.utf8_lines_batch(src)
    }
}

/// An error from [`Utf8LinesDecoder`]; the offending line has been skipped and decoding goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Utf8LinesError {
    /// A line was longer than the limit; it was dropped up to and including its `\n`.
    TooLong {
        /// The configured [`max_line_len`](Utf8LinesDecoder::max_line_len), in bytes.
        limit: usize,
    },
    /// A line was not valid UTF-8.
    InvalidUtf8 {
        /// The line as read, without its `\n` (and without the `\r` if stripping).
        raw: Bytes,
        /// How many bytes at the start of `raw` are valid UTF-8, as in
        /// [`Utf8Error::valid_up_to`](std::str::Utf8Error::valid_up_to).
        valid_up_to: usize,
    },
}

impl From<LinesError> for Utf8LinesError {
    fn from(e: LinesError) -> Self {
        match e {
            LinesError::TooLong { limit } => Utf8LinesError::TooLong { limit },
        }
    }
}

impl fmt::Display for Utf8LinesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Utf8LinesError::TooLong { limit } => {
                write!(f, "line longer than the limit of {}", ByteCount(*limit))
            }
            Utf8LinesError::InvalidUtf8 { raw, valid_up_to } => write!(
                f,
                "line of {} is not valid UTF-8 (invalid byte at offset {valid_up_to})",
                ByteCount(raw.len())
            ),
        }
    }
}

impl std::error::Error for Utf8LinesError {}

mod batch;
#[cfg(test)]
mod tokio_util_oracle;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codec::test_support::{
        assert_chunking_does_not_matter, assert_memory_bounded, chunk_sizes, chunked, feed,
    };

    fn ok(line: &str) -> Result<String, Utf8LinesError> {
        Ok(line.to_owned())
    }

    #[test]
    fn lines_are_decoded_as_strings() {
        let fed = feed(Utf8LinesDecoder::new(), [&b"h\xc3\xa9\n\nend"[..]]);
        assert_eq!(fed.events, [ok("hé"), ok(""), ok("end")]);
    }

    #[test]
    fn crlf_is_stripped_when_enabled() {
        let fed = feed(Utf8LinesDecoder::new().strip_cr(true), [&b"a\r\nb\r"[..]]);
        assert_eq!(fed.events, [ok("a"), ok("b")]);
    }

    #[test]
    fn invalid_utf8_keeps_the_raw_bytes_and_the_next_line_decodes() {
        let fed = feed(
            Utf8LinesDecoder::new().strip_cr(true),
            [&b"ok\nab\xc3\r\nnext\n"[..]],
        );
        assert_eq!(
            fed.events,
            [
                ok("ok"),
                Err(Utf8LinesError::InvalidUtf8 {
                    raw: Bytes::from_static(b"ab\xc3"),
                    valid_up_to: 2,
                }),
                ok("next"),
            ]
        );
    }

    #[test]
    fn character_split_across_reads_is_decoded() {
        let fed = feed(Utf8LinesDecoder::new(), chunked("ünï\n".as_bytes(), &[1]));
        assert_eq!(fed.events, [ok("ünï")]);
    }

    #[test]
    fn invalid_final_line_without_newline_is_reported_at_eof() {
        let fed = feed(Utf8LinesDecoder::new(), [&b"\xff"[..]]);
        assert_eq!(
            fed.events,
            [Err(Utf8LinesError::InvalidUtf8 {
                raw: Bytes::from_static(b"\xff"),
                valid_up_to: 0,
            })]
        );
        assert!(fed.leftover.is_empty());
    }

    #[test]
    fn over_long_line_is_skipped_and_the_next_line_still_decoded() {
        let fed = feed(
            Utf8LinesDecoder::new().max_line_len(4),
            chunked(b"toolong\nfine\n", &[3]),
        );
        assert_eq!(
            fed.events,
            [Err(Utf8LinesError::TooLong { limit: 4 }), ok("fine")]
        );
    }

    #[test]
    fn settings_carry_over_from_a_lines_decoder() {
        let lines = LinesDecoder::new().max_line_len(5).strip_cr(true);
        let decoder = Utf8LinesDecoder::from(lines.clone());
        assert_eq!(decoder.read_limits(), lines.read_limits());
        let fed = feed(decoder, [&b"abcde\r\nabcdef\n"[..]]);
        assert_eq!(
            fed.events,
            [ok("abcde"), Err(Utf8LinesError::TooLong { limit: 5 })]
        );
    }

    #[test]
    fn error_messages_give_the_numbers() {
        let invalid = Utf8LinesError::InvalidUtf8 {
            raw: Bytes::from_static(b"ab\xff"),
            valid_up_to: 2,
        };
        assert_eq!(
            invalid.to_string(),
            "line of 3 bytes is not valid UTF-8 (invalid byte at offset 2)"
        );
        assert_eq!(
            Utf8LinesError::TooLong { limit: 9 }.to_string(),
            "line longer than the limit of 9 bytes"
        );
    }

    fn text_bytes() -> impl Strategy<Value = Vec<u8>> {
        // Pieces of valid multi-byte characters, lone continuation and lead bytes, newlines.
        let byte =
            prop::sample::select(&[b'a', b'\r', b'\n', 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xff][..]);
        prop::collection::vec(byte, 0..48)
    }

    proptest! {
        #[test]
        fn chunking_does_not_change_lines(
            input in text_bytes(),
            max_line_len in 0usize..8,
            strip_cr: bool,
            sizes in chunk_sizes(),
        ) {
            let make = || Utf8LinesDecoder::new().max_line_len(max_line_len).strip_cr(strip_cr);
            assert_chunking_does_not_matter(make, &input, &sizes)?;
        }

        #[test]
        fn strings_are_the_utf8_lines(
            input in text_bytes(),
            max_line_len in 0usize..8,
            strip_cr: bool,
        ) {
            let lines = LinesDecoder::new().max_line_len(max_line_len).strip_cr(strip_cr);
            let expected: Vec<_> = feed(lines.clone(), [&input])
                .events
                .into_iter()
                .map(|line| match line {
                    Ok(line) => match String::from_utf8(line.to_vec()) {
                        Ok(text) => Ok(text),
                        Err(e) => Err(Utf8LinesError::InvalidUtf8 {
                            valid_up_to: e.utf8_error().valid_up_to(),
                            raw: line,
                        }),
                    },
                    Err(e) => Err(e.into()),
                })
                .collect();
            prop_assert_eq!(feed(Utf8LinesDecoder::from(lines), [&input]).events, expected);
        }

        #[test]
        fn random_bytes_keep_memory_bounded(
            input in prop::collection::vec(any::<u8>(), 0..512),
            max_line_len in 0usize..64,
            strip_cr: bool,
            sizes in chunk_sizes(),
        ) {
            let make = || Utf8LinesDecoder::new().max_line_len(max_line_len).strip_cr(strip_cr);
            assert_memory_bounded(make, &input, &sizes, max_line_len + strip_cr as usize)?;
        }
    }
}
