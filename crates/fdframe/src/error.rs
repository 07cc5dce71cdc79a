//! What a stream reports besides messages: [`Error`] and the [`Loss`] notice.

use std::fmt;
use std::io;
use std::ops::RangeInclusive;

use bytes::Bytes;

/// An error or notice from an fdframe stream: what a stream reports besides messages.
///
/// Every fdframe stream yields `Result<D::Item, Error<D::Error>>`. The variants name *classes*,
/// because what a reader should do next depends on the class, not on the errno:
///
/// | variant                        | what happened                                       | the stream           |
/// |--------------------------------|-----------------------------------------------------|----------------------|
/// | [`Error::Io`]                  | `read(2)` failed (not `EINTR`, not `WouldBlock`)     | **ends**             |
/// | [`Error::Decode`]              | one message was malformed and has been skipped      | goes on¹             |
/// | [`Error::Lost`]                | the device dropped messages before we read them     | goes on              |
/// | [`Error::FrameTooLarge`]       | a message exceeded [`ReadLimits::max_frame_len`](crate::ReadLimits) | goes on² |
/// | [`Error::Truncated`]           | input ended inside a message; its bytes are attached³ | ends: input is over |
/// | [`Error::Follow`]              | a followed file was rotated, truncated, removed, created | goes on           |
///
/// ¹ unless the decoder consumed no bytes with the error, which would repeat forever; the engine
/// then ends the stream after reporting it.
/// ² in record mode (one record per read) the oversized record is skipped and the stream goes on;
/// in stream mode the engine cannot tell where the oversized frame ends, so the stream ends.
/// Codecs with a resync point (lines) report their own over-limit error as [`Error::Decode`]
/// instead and go on.
///
/// ³ in record mode: a record the decoder could not use whole; the stream goes on.
///
/// [`Error::is_fatal`] tells the classes apart for code that only needs "go on or stop".
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// Reading from the descriptor failed; the stream has ended.
    Io(io::Error),
    /// A message could not be decoded; its bytes were skipped.
    Decode(E),
    /// The source dropped messages before they were read.
    Lost(Loss),
    /// A message was longer than the configured maximum.
    FrameTooLarge {
        /// The configured maximum frame length, in bytes.
        limit: usize,
        /// How many bytes the oversized frame had when it was noticed (at least `limit + 1`).
        len: usize,
    },
    /// Input ended in the middle of a message; these are the bytes of the partial message.
    Truncated(Bytes),
    /// A followed file was rotated, truncated, removed or created, or a checkpoint did not
    /// match (see [`ReadFd::follow`](crate::ReadFd::follow)); the stream goes on.
    Follow(crate::follow::FollowNotice),
}

impl<E> Error<E> {
    /// Returns `true` for the one class that ends the stream because of an error: a failed read
    /// ([`Error::Io`]). Every other variant describes something skipped or lost, and the stream
    /// goes on (it may still end right after, because input ended; the stream's `None` says so).
    pub fn is_fatal(&self) -> bool {
        matches!(self, Error::Io(_))
    }

    /// Returns the loss notice, if this is one.
    pub fn as_loss(&self) -> Option<&Loss> {
        match self {
            Error::Lost(loss) => Some(loss),
            _ => None,
        }
    }

    /// Transforms the decoder error, keeping every other variant.
    pub fn map_decode<F>(self, f: impl FnOnce(E) -> F) -> Error<F> {
        match self {
            Error::Io(e) => Error::Io(e),
            Error::Decode(e) => Error::Decode(f(e)),
            Error::Lost(l) => Error::Lost(l),
            Error::FrameTooLarge { limit, len } => Error::FrameTooLarge { limit, len },
            Error::Truncated(b) => Error::Truncated(b),
            Error::Follow(n) => Error::Follow(n),
        }
    }
}

/// Messages: a decoder's error says what is wrong with the message, and only [`Error::Decode`]
/// says what became of it ("message skipped: "), so that the whole line says it once.
impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "read failed: {e}"),
            Error::Decode(e) => write!(f, "message skipped: {e}"),
            Error::Lost(loss) => loss.fmt(f),
            Error::FrameTooLarge { limit, len } => write!(
                f,
                "frame of at least {} exceeds the limit of {}",
                ByteCount(*len),
                ByteCount(*limit)
            ),
            Error::Truncated(bytes) => write!(
                f,
                "input ended inside a message ({} of a partial frame)",
                ByteCount(bytes.len())
            ),
            Error::Follow(notice) => notice.fmt(f),
        }
    }
}

/// A number of bytes as a message shows it: `1 byte`, `2 bytes`.
pub(crate) struct ByteCount<N>(pub(crate) N);

impl<N: fmt::Display + PartialEq + From<u8>> fmt::Display for ByteCount<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.0 == N::from(1) {
            "byte"
        } else {
            "bytes"
        };
        write!(f, "{} {unit}", self.0)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl<E> From<io::Error> for Error<E> {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// A notice that messages were lost before they could be read; the stream goes on after it.
///
/// ```
/// use fdframe::{Loss, LossCause};
///
/// let loss = Loss::sequence_gap(LossCause::KmsgOverrun, 100, 112);
/// assert_eq!(loss.count, Some(12));
/// assert_eq!(loss.seqs, Some(100..=111));
/// assert_eq!(loss.to_string(), "12 kernel log records lost (seq 100..=111): the ring buffer overwrote them before they were read");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Loss {
    /// Why the messages were lost.
    pub cause: LossCause,
    /// How many messages were lost, when the source makes that knowable.
    pub count: Option<u64>,
    /// The sequence numbers of the lost messages, when the source numbers its messages.
    pub seqs: Option<RangeInclusive<u64>>,
}

impl Loss {
    /// A loss of the messages numbered `first_missing..next_seen` (`next_seen` is the first
    /// sequence number seen after the gap).
    pub fn sequence_gap(cause: LossCause, first_missing: u64, next_seen: u64) -> Self {
        let count = next_seen.saturating_sub(first_missing);
        Loss {
            cause,
            count: Some(count),
            seqs: (count > 0).then(|| first_missing..=next_seen - 1),
        }
    }

    /// A loss of an unknown number of messages.
    pub fn unknown(cause: LossCause) -> Self {
        Loss {
            cause,
            count: None,
            seqs: None,
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = self.count == Some(1);
        let what = self.cause.noun(one);
        match self.count {
            Some(n) => write!(f, "{n} {what} lost")?,
            None => write!(f, "an unknown number of {what} lost")?,
        }
        match &self.seqs {
            Some(seqs) if seqs.start() == seqs.end() => write!(f, " (seq {})", seqs.start())?,
            Some(seqs) => write!(f, " (seq {}..={})", seqs.start(), seqs.end())?,
            None => {}
        }
        write!(f, ": {}", self.cause.reason(one))
    }
}

/// Why messages were lost; part of a [`Loss`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LossCause {
    /// `/dev/kmsg` returned `EPIPE`, or sequence numbers jumped: the kernel's ring buffer
    /// overwrote records before they were read.
    KmsgOverrun,
    /// Records were missing when resuming from a saved position (a cursor).
    KmsgResumeGap,
    /// inotify reported `IN_Q_OVERFLOW`: its event queue was full.
    InotifyOverflow,
    /// evdev reported `SYN_DROPPED`: its event buffer was full.
    EvdevDropped,
}

impl LossCause {
    /// What was lost: one message (`one`) or several.
    fn noun(self, one: bool) -> &'static str {
        match (self, one) {
            (LossCause::KmsgOverrun | LossCause::KmsgResumeGap, true) => "kernel log record",
            (LossCause::KmsgOverrun | LossCause::KmsgResumeGap, false) => "kernel log records",
            (LossCause::InotifyOverflow, true) => "inotify event",
            (LossCause::InotifyOverflow, false) => "inotify events",
            (LossCause::EvdevDropped, true) => "input event",
            (LossCause::EvdevDropped, false) => "input events",
        }
    }

    fn reason(self, one: bool) -> &'static str {
        match (self, one) {
            (LossCause::KmsgOverrun, true) => "the ring buffer overwrote it before it was read",
            (LossCause::KmsgOverrun, false) => {
                "the ring buffer overwrote them before they were read"
            }
            (LossCause::KmsgResumeGap, true) => "it was overwritten while no reader was running",
            (LossCause::KmsgResumeGap, false) => {
                "they were overwritten while no reader was running"
            }
            (LossCause::InotifyOverflow, _) => "the inotify queue overflowed",
            (LossCause::EvdevDropped, _) => "the device's event buffer overflowed (SYN_DROPPED)",
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::*;
    use crate::Decoder;
    use crate::codec::{LengthDelimitedDecoder, LinesDecoder, Utf8LinesDecoder};
    use crate::kmsg::{KmsgRecord, ProcKmsgDecoder};

    /// The first error `decoder` reports for `input`, as the stream reports it.
    fn first_error<D: Decoder>(mut decoder: D, input: &[u8]) -> String
    where
        D::Error: fmt::Display,
    {
        let mut buf = BytesMut::from(input);
        loop {
            match decoder.decode(&mut buf) {
                Err(e) => return Error::Decode(e).to_string(),
                Ok(Some(_)) => {}
                Ok(None) => panic!("no error for {input:?}"),
            }
        }
    }

    #[test]
    fn every_decode_error_says_skipped_once() {
        let messages = [
            first_error(LinesDecoder::new().max_line_len(1), b"ab\n"),
            first_error(Utf8LinesDecoder::new().max_line_len(4), b"abcdef\n"),
            first_error(Utf8LinesDecoder::new(), b"\xff\n"),
            first_error(
                LengthDelimitedDecoder::new()
                    .length_field_len(1)
                    .max_frame_len(1),
                b"\x02ab",
            ),
            first_error(
                LengthDelimitedDecoder::new()
                    .length_field_len(1)
                    .length_includes_header(true),
                b"\x00",
            ),
            first_error(ProcKmsgDecoder::with_max_line_len(1), b"<6>long\n"),
            first_error(ProcKmsgDecoder::new(), b"no priority\n"),
            Error::Decode(KmsgRecord::parse(Bytes::from_static(b"6,1,1\n")).unwrap_err())
                .to_string(),
        ];
        assert_eq!(
            &messages[..6],
            [
                "message skipped: line longer than the limit of 1 byte",
                "message skipped: line longer than the limit of 4 bytes",
                "message skipped: line of 1 byte is not valid UTF-8 (invalid byte at offset 0)",
                "message skipped: frame payload of 2 bytes exceeds the limit of 1 byte",
                "message skipped: length field of 0 is smaller than its own 1-byte header",
                "message skipped: malformed /proc/kmsg line: longer than 1 byte (line: \"<6>long\\n\")",
            ]
        );
        for message in &messages {
            assert_eq!(message.matches("skipped").count(), 1, "{message}");
            assert_eq!(
                message.matches("malformed").count(),
                message.contains("kmsg") as usize,
                "{message}"
            );
        }
    }

    #[test]
    fn counts_of_one_are_singular() {
        let one = Loss::sequence_gap(LossCause::KmsgOverrun, 7, 8);
        assert_eq!(
            one.to_string(),
            "1 kernel log record lost (seq 7): the ring buffer overwrote it before it was read"
        );
        let resumed = Loss::sequence_gap(LossCause::KmsgResumeGap, 7, 8);
        assert_eq!(
            resumed.to_string(),
            "1 kernel log record lost (seq 7): it was overwritten while no reader was running"
        );
        let two = Loss::sequence_gap(LossCause::KmsgResumeGap, 7, 9);
        assert_eq!(
            two.to_string(),
            "2 kernel log records lost (seq 7..=8): they were overwritten while no reader was running"
        );
        let truncated = Error::<std::convert::Infallible>::Truncated(Bytes::from_static(b"x"));
        assert_eq!(
            truncated.to_string(),
            "input ended inside a message (1 byte of a partial frame)"
        );
        let too_large = Error::<std::convert::Infallible>::FrameTooLarge { limit: 1, len: 2 };
        assert_eq!(
            too_large.to_string(),
            "frame of at least 2 bytes exceeds the limit of 1 byte"
        );
        assert_eq!(ByteCount(1u64).to_string(), "1 byte");
        assert_eq!(ByteCount(0usize).to_string(), "0 bytes");
    }
}
