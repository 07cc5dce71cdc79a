//! What a stream reports besides messages: [`Error`] and the [`Loss`] notice.

use std::fmt;
use std::io;

use bytes::Bytes;

use crate::loss::Loss;

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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fatal_tests;
