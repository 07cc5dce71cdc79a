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
/// | [`Error::Decode`]              | one message was malformed and has been skipped      | goes on              |
/// | [`Error::DecodeStalled`]       | a message was malformed and the decoder could not skip it¹ | **ends**      |
/// | [`Error::Lost`]                | the device dropped messages before we read them     | goes on              |
/// | [`Error::FrameTooLarge`]       | a message exceeded [`ReadLimits::max_frame_len`](crate::ReadLimits) | goes on or ends² |
/// | [`Error::Truncated`]           | input ended inside a message; its bytes are attached³ | ends: input is over |
/// | [`Error::Follow`]              | a followed file was rotated, truncated, removed, created | goes on           |
///
/// ¹ the decoder consumed no bytes with its error, so decoding again would fail the same way
/// forever; the engine ends the stream after reporting it. No decoder of this crate does that; a
/// tokio-util codec under `TokioUtilDecoder` may (as it ends a `FramedRead`).
/// ² in record mode (one record per read) the oversized record is skipped and the stream goes on;
/// in stream mode the engine cannot tell where the oversized frame ends, so the stream ends
/// (its `ended` field says which).
/// Codecs with a resync point (lines) report their own over-limit error as [`Error::Decode`]
/// instead and go on.
///
/// ³ in record mode: a record the decoder could not use whole; the stream goes on.
///
/// [`Error::is_fatal`] tells the classes apart for code that only needs "go on or stop".
///
/// # Following a source: go on after notices
///
/// `record?` on every item ends a `dmesg -w` loop at the first loss notice or malformed record,
/// though the stream would have gone on. Keep going unless the error ended the stream:
///
/// ```
/// use std::io::{self, Write};
/// use fdframe::{blocking::FdReader, codec::LinesDecoder};
///
/// fn follow(reader: FdReader<LinesDecoder>) -> io::Result<Vec<bytes::Bytes>> {
///     let mut lines = Vec::new();
///     for line in reader {
///         match line {
///             Ok(line) => lines.push(line),
///             // A read failed, or the stream could not go on: stop, with the error.
///             Err(e) if e.is_fatal() => return Err(e.into()),
///             // A loss notice, a skipped message: say so and go on.
///             Err(e) => eprintln!("warning: {e}"),
///         }
///     }
///     Ok(lines) // the input ended
/// }
///
/// let (reader, mut writer) = io::pipe()?;
/// writer.write_all(b"one\nfar too long\ntwo\n")?;
/// drop(writer);
/// let reader = FdReader::from_fd(reader.into(), LinesDecoder::new().max_line_len(4))?;
/// assert_eq!(follow(reader)?, ["one", "two"]); // warning: message skipped: line longer than ...
/// # Ok::<(), io::Error>(())
/// ```
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
        /// Whether the stream ended with this error: `true` in stream mode (nothing tells where
        /// the oversized frame ends, so nothing after it can be framed), `false` in record mode
        /// (the record was skipped; the next read is the next record).
        ended: bool,
    },
    /// Input ended in the middle of a message; these are the bytes of the partial message.
    Truncated(Bytes),
    /// A message could not be decoded and the decoder consumed none of its bytes, so the
    /// engine cannot get past it: the stream has ended (the same decoder error as
    /// [`Error::Decode`] carries, in the one case where it is fatal).
    DecodeStalled(E),
    /// A followed file was rotated, truncated, removed or created, or a checkpoint did not
    /// match (see [`ReadFd::follow`](crate::ReadFd::follow)); the stream goes on.
    Follow(crate::follow::FollowNotice),
}

impl<E> Error<E> {
    /// Returns `true` when this error ended the stream before its input did: the next poll
    /// returns `None` however much input would have followed. A loop that follows a source stops
    /// on these and goes on after every other error (see [the idiom](Error#following-a-source-go-on-after-notices)).
    ///
    /// | variant                   | `is_fatal()`                                                    |
    /// |---------------------------|-----------------------------------------------------------------|
    /// | [`Error::Io`]             | `true`: a failed read ends the stream                           |
    /// | [`Error::FrameTooLarge`]  | its `ended` field: `true` in stream mode, `false` in record mode |
    /// | [`Error::Decode`]         | `false`: the message was skipped                                |
    /// | [`Error::DecodeStalled`]  | `true`: the decoder could not skip the message                  |
    /// | [`Error::Lost`]           | `false`: a notice                                               |
    /// | [`Error::Follow`]         | `false`: a notice                                               |
    /// | [`Error::Truncated`]      | `false`: in record mode the stream goes on; in stream mode it comes at the end of input, and the stream ends because the input did |
    pub fn is_fatal(&self) -> bool {
        match self {
            Error::Io(_) | Error::DecodeStalled(_) => true,
            Error::FrameTooLarge { ended, .. } => *ended,
            Error::Decode(_) | Error::Lost(_) | Error::Truncated(_) | Error::Follow(_) => false,
        }
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
            Error::DecodeStalled(e) => Error::DecodeStalled(f(e)),
            Error::Lost(l) => Error::Lost(l),
            Error::FrameTooLarge { limit, len, ended } => {
                Error::FrameTooLarge { limit, len, ended }
            }
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
            Error::DecodeStalled(e) => write!(
                f,
                "stream ended: the decoder could not get past a malformed message: {e}"
            ),
            Error::Lost(loss) => loss.fmt(f),
            Error::FrameTooLarge { limit, len, .. } => write!(
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

/// The chain rule, for this type and every error type of the workspace: `Display` includes the
/// message of the error it wraps (the `io::Error` of [`Error::Io`], the decoder's error of
/// [`Error::Decode`]), so `source()` skips that error and returns *its* source. A chain printer
/// (anyhow's `{:#}`, eyre's report) therefore shows each message once, and a plain `{}` says
/// everything. This is the rule `io::Error` itself follows for the error it wraps.
///
/// The wrapped error is still at hand, typed: match the variant (`Error::Decode(e)`), or, after
/// the conversion into `io::Error`, `get_ref()` / `into_inner()` and `downcast`.
impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => e.source(),
            Error::Decode(e) | Error::DecodeStalled(e) => e.source(),
            _ => None,
        }
    }
}

impl<E> From<io::Error> for Error<E> {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// Turns a stream's error into an [`io::Error`], so that `?` works in a function returning
/// [`io::Result`]:
///
/// | variant                  | [`io::ErrorKind`]                            | the `io::Error` holds                 |
/// |--------------------------|----------------------------------------------|---------------------------------------|
/// | [`Error::Io`]            | its own                                      | the original `io::Error`, unchanged   |
/// | [`Error::Decode`]        | [`InvalidData`](io::ErrorKind::InvalidData)  | the `Error` (and so the decoder's error) |
/// | [`Error::FrameTooLarge`] | [`InvalidData`](io::ErrorKind::InvalidData)  | the `Error`                           |
/// | [`Error::Truncated`]     | [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) | the `Error`                        |
/// | [`Error::Lost`]          | [`Other`](io::ErrorKind::Other)              | the `Error`                           |
/// | [`Error::Follow`]        | [`Other`](io::ErrorKind::Other)              | the `Error`                           |
///
/// A loss notice is not a failure, and no `ErrorKind` means "some messages were dropped":
/// `Other` is the honest one, and no standard kind makes callers retry it (`Interrupted` would).
/// `?` on every item stops at the first notice; a loop that should go on matches first (see
/// [`Error::is_fatal`]).
///
/// The message is this error's `Display`; the original is reachable with
/// [`io::Error::get_ref`] or [`io::Error::into_inner`] and `downcast`:
///
/// ```
/// use std::io;
/// use fdframe::{codec::LinesDecoder, Error};
///
/// fn first_line(input: &[u8]) -> io::Result<bytes::Bytes> {
///     let (reader, mut writer) = io::pipe()?;
///     io::Write::write_all(&mut writer, input)?;
///     drop(writer);
///     let decoder = LinesDecoder::new().max_line_len(4);
///     let mut lines = fdframe::blocking::FdReader::from_fd(reader.into(), decoder)?;
///     match lines.next() {
///         Some(line) => Ok(line?), // `fdframe::Error<LinesError>` into `io::Error`
///         None => Err(io::ErrorKind::UnexpectedEof.into()),
///     }
/// }
///
/// assert_eq!(first_line(b"one\n").unwrap(), "one");
/// let e = first_line(b"too long\n").unwrap_err();
/// assert_eq!(e.kind(), io::ErrorKind::InvalidData);
/// assert_eq!(e.to_string(), "message skipped: line longer than the limit of 4 bytes");
/// let original = e.get_ref().and_then(|e| e.downcast_ref::<Error<fdframe::codec::LinesError>>());
/// assert!(matches!(original, Some(Error::Decode(_))));
/// ```
impl<E> From<Error<E>> for io::Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(e: Error<E>) -> Self {
        let kind = match e {
            Error::Io(e) => return e,
            Error::Decode(_) | Error::DecodeStalled(_) | Error::FrameTooLarge { .. } => {
                io::ErrorKind::InvalidData
            }
            Error::Truncated(_) => io::ErrorKind::UnexpectedEof,
            // Notices: no standard kind says "messages were dropped" or "the file was rotated".
            Error::Lost(_) | Error::Follow(_) => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct Loss {
    /// Why the messages were lost.
    pub cause: LossCause,
    /// How many messages were lost, when the source makes that knowable.
    pub count: Option<u64>,
    /// The sequence numbers of the lost messages, when the source numbers its messages.
    #[cfg_attr(
        feature = "serde",
        serde(flatten, with = "crate::kmsg::serde_impls::seq_range")
    )]
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
            // A third party's noun is plural only.
            Some(1) if matches!(self.cause, LossCause::Other(_)) => {
                write!(f, "1 of the {what} lost")?
            }
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
///
/// A decoder outside this crate names its own cause with [`Other`](LossCause::Other):
///
/// ```
/// use fdframe::{Loss, LossCause, OtherCause};
///
/// const BUS_OVERRUN: LossCause = LossCause::Other(&OtherCause {
///     what: "CAN frames",
///     why: "the controller's receive FIFO overflowed",
/// });
/// let loss = Loss::sequence_gap(BUS_OVERRUN, 7, 10);
/// assert_eq!(loss.to_string(), "3 CAN frames lost (seq 7..=9): the controller's receive FIFO overflowed");
/// assert_eq!(Loss::sequence_gap(BUS_OVERRUN, 7, 8).to_string(), "1 of the CAN frames lost (seq 7): the controller's receive FIFO overflowed");
/// ```
///
/// With the `serde` feature a cause is its name in kebab case (`"kmsg-overrun"`), and `Other`
/// is `{"other": {"what": ..., "why": ...}}`. Deserializing an `Other` keeps its cause for the
/// rest of the process (it is `&'static`): at most 64 distinct causes with texts of at most
/// 256 bytes each, past which deserializing fails rather than letting input grow memory.
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
    /// A cause this crate does not know, named by the decoder that reports it. A reference,
    /// so that a `LossCause` stays one word: a [`Loss`] travels inside every stream's error
    /// type, which every step of the per-message path returns.
    Other(&'static OtherCause),
}

/// A third party's cause of a loss: [`LossCause::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OtherCause {
    /// What was lost, in the plural: "CAN frames". A [`Loss`] of one message says "1 of the
    /// CAN frames lost".
    pub what: &'static str,
    /// Why: "the controller's receive FIFO overflowed".
    pub why: &'static str,
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
            (LossCause::Other(other), _) => other.what,
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
            (LossCause::Other(other), _) => other.why,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

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
                "message skipped: length field of 0 is smaller than the 1 byte of header it counts",
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
        let too_large = Error::<std::convert::Infallible>::FrameTooLarge {
            limit: 1,
            len: 2,
            ended: false,
        };
        assert_eq!(
            too_large.to_string(),
            "frame of at least 2 bytes exceeds the limit of 1 byte"
        );
        assert_eq!(ByteCount(1u64).to_string(), "1 byte");
        assert_eq!(ByteCount(0usize).to_string(), "0 bytes");
    }

    /// What anyhow's `{:#}` prints: each error of the chain, joined by ": ".
    fn chain(e: &dyn std::error::Error) -> String {
        let mut out = e.to_string();
        let mut next = e.source();
        while let Some(cause) = next {
            out.push_str(": ");
            out.push_str(&cause.to_string());
            next = cause.source();
        }
        out
    }

    /// An error that wraps another and says so only through `source()`, as a third-party
    /// decoder's error may.
    #[derive(Debug)]
    struct Outer(io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("outer layer")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_chain_printer_shows_each_message_once() {
        let decode = Error::Decode(crate::codec::LinesError::TooLong { limit: 4 });
        assert_eq!(
            chain(&decode),
            "message skipped: line longer than the limit of 4 bytes"
        );
        let read = Error::<Infallible>::Io(io::Error::from_raw_os_error(5));
        assert_eq!(chain(&read), "read failed: Input/output error (os error 5)");
        // A cause further down is kept, once.
        let nested = Error::Decode(Outer(io::Error::other("inner cause")));
        assert_eq!(chain(&nested), "message skipped: outer layer: inner cause");
        let io_nested = Error::<Infallible>::Io(io::Error::other(Outer(io::Error::other("deep"))));
        assert_eq!(chain(&io_nested), "read failed: outer layer: deep");
        // And through the conversion into `io::Error`.
        assert_eq!(
            chain(&io::Error::from(nested)),
            "message skipped: outer layer: inner cause"
        );
        for e in [
            &crate::codec::RecordLenError::Zero as &dyn std::error::Error,
            &crate::codec::LengthDelimitedError::InvalidLength {
                length_field: 0,
                header_len: 1,
            },
        ] {
            assert_eq!(chain(e), e.to_string());
        }
    }

    #[test]
    fn into_io_error_keeps_the_kind_and_the_original() {
        let os = io::Error::from_raw_os_error(5);
        let converted = io::Error::from(Error::<Infallible>::Io(os));
        assert_eq!(
            converted.raw_os_error(),
            Some(5),
            "the original io::Error, unchanged"
        );

        let cases: [(Error<crate::codec::LinesError>, io::ErrorKind); 4] = [
            (
                Error::Decode(crate::codec::LinesError::TooLong { limit: 1 }),
                io::ErrorKind::InvalidData,
            ),
            (
                Error::FrameTooLarge {
                    limit: 1,
                    len: 2,
                    ended: true,
                },
                io::ErrorKind::InvalidData,
            ),
            (
                Error::Truncated(Bytes::from_static(b"x")),
                io::ErrorKind::UnexpectedEof,
            ),
            (
                Error::Lost(Loss::unknown(LossCause::InotifyOverflow)),
                io::ErrorKind::Other,
            ),
        ];
        for (e, kind) in cases {
            let message = e.to_string();
            let converted = io::Error::from(e);
            assert_eq!(converted.kind(), kind, "{message}");
            assert_eq!(converted.to_string(), message);
            let inner = converted.into_inner().expect("the fdframe error is kept");
            let original = inner
                .downcast::<Error<crate::codec::LinesError>>()
                .expect("downcasts to the original type");
            assert_eq!(original.to_string(), message);
        }
    }

    /// `?` from a stream item into `io::Result`, for the error type of every shipped decoder.
    #[test]
    fn question_mark_into_io_result_for_every_shipped_decoder() {
        fn item<D: Decoder>(item: Result<D::Item, Error<D::Error>>) -> io::Result<D::Item> {
            Ok(item?)
        }
        use crate::codec::*;
        use crate::devices::*;
        use crate::kmsg::*;
        let too_long = Error::Decode(LinesError::TooLong { limit: 1 });
        assert_eq!(
            item::<LinesDecoder>(Err(too_long)).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        let _ = item::<Utf8LinesDecoder>;
        let _ = item::<LengthDelimitedDecoder>;
        let _ = item::<ChunksDecoder>;
        let _ = item::<FixedSizeDecoder>;
        let _ = item::<KmsgDecoder>;
        let _ = item::<ProcKmsgDecoder>;
        let _ = item::<InotifyDecoder>;
        let _ = item::<DatagramDecoder>;
        let _ = item::<CounterDecoder>;
        let _ = item::<SignalfdDecoder>;
        let _ = item::<InputEventDecoder>;
    }

    #[test]
    fn a_third_party_loss_cause_names_what_was_lost_and_why() {
        static CAN: OtherCause = OtherCause {
            what: "CAN frames",
            why: "the receive FIFO overflowed",
        };
        let cause = LossCause::Other(&CAN);
        // Copy and Eq by value: another reference to equal texts is the same cause.
        static ALSO_CAN: OtherCause = OtherCause { ..CAN };
        let same = LossCause::Other(&ALSO_CAN);
        assert_eq!(cause, same);
        assert_ne!(cause, LossCause::KmsgOverrun);
        let shown = |loss: Loss| loss.to_string();
        assert_eq!(
            shown(Loss::unknown(cause)),
            "an unknown number of CAN frames lost: the receive FIFO overflowed"
        );
        assert_eq!(
            shown(Loss::sequence_gap(cause, 3, 4)),
            "1 of the CAN frames lost (seq 3): the receive FIFO overflowed"
        );
        assert_eq!(
            shown(Loss::sequence_gap(cause, 3, 6)),
            "3 CAN frames lost (seq 3..=5): the receive FIFO overflowed"
        );
    }
}

#[cfg(test)]
mod fatal_tests;
