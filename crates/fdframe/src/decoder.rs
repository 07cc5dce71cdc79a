//! The [`Decoder`] trait and what decoders declare about reads ([`ReadLimits`]).

use std::io;

use bytes::BytesMut;

use crate::{Frames, Loss};

/// Turns bytes read from a file descriptor into messages.
///
/// A decoder is the only part of fdframe that knows a message format. It never performs I/O:
/// the [framing engine](crate::Framer) reads from the descriptor into a [`BytesMut`] and asks the
/// decoder, again and again, whether the bytes buffered so far hold a message. The trait is
/// deliberately close to `tokio_util::codec::Decoder`, so a decoder written for tokio-util ports
/// by renaming, but it names no runtime: the same decoder runs on every backend.
///
/// # The contract of [`Decoder::decode`]
///
/// `decode(src)` is called with everything buffered and not yet consumed. For each situation the
/// decoder answers:
///
/// | what `src` holds                        | decoder does                                     | returns              |
/// |-----------------------------------------|--------------------------------------------------|----------------------|
/// | part of a message                       | leaves it (may remember how far it searched, may drop bytes of a frame it is skipping) | `Ok(None)` |
/// | one whole message (maybe more after it) | removes exactly that message's bytes             | `Ok(Some(item))`     |
/// | a malformed message                     | removes the bad message's bytes                  | `Err(e)`             |
/// | a message longer than its limit         | removes what it holds of it, skips the rest later | `Err(e)`            |
///
/// The engine calls `decode` again after every `Ok(Some(_))` and every `Err(_)`, so several
/// messages in one read are all delivered before the next read. An `Err` after which the decoder
/// **consumed** bytes is *recoverable*: the stream reports it and goes on with the next message (a
/// garbled kernel log line must not end `dmesg -w`). An `Err` that consumed nothing would repeat
/// forever, so the engine reports it as [`Error::DecodeStalled`](crate::Error::DecodeStalled)
/// and ends the stream.
///
/// At end of input the engine calls [`Decoder::decode_eof`] until it returns `Ok(None)`; bytes still
/// buffered after that are reported as [`Error::Truncated`](crate::Error::Truncated), never dropped.
///
/// # What a decoder says about reads
///
/// Some descriptors return one whole record per `read(2)` and fail with `EINVAL` when the buffer
/// is smaller than the record (`/dev/kmsg`, inotify, signalfd, timerfd, eventfd, evdev), or
/// silently truncate it (TUN, seqpacket sockets). A decoder for such a device declares it in
/// [`Decoder::read_limits`], and the engine guarantees that room **before every read**: on
/// `/dev/kmsg` the kernel has already skipped the record when it returns `EINVAL`, so growing the
/// buffer afterwards would be too late.
///
/// # Equivalent blocking loop
///
/// For a stream-oriented decoder the engine behaves like this loop (minus allocation tricks,
/// retries of `EINTR`, error classification and loss notices):
///
/// ```
/// # use bytes::BytesMut;
/// # use fdframe::Decoder;
/// # fn run<D: Decoder>(mut decoder: D, mut read: impl FnMut(&mut BytesMut) -> usize) {
/// let mut buf = BytesMut::new();
/// loop {
///     while let Ok(Some(item)) = decoder.decode(&mut buf) {
///         // deliver `item`
/// #       drop(item);
///     }
///     let limits = decoder.read_limits();
///     buf.reserve(limits.min_read_capacity);
///     if read(&mut buf) == 0 {
///         while let Ok(Some(item)) = decoder.decode_eof(&mut buf) {
///             // deliver `item`
/// #           drop(item);
///         }
///         break; // anything left in `buf` is a truncated final frame
///     }
/// }
/// # }
/// ```
///
/// # Example
///
/// A decoder for NUL-terminated strings:
///
/// ```
/// use bytes::{Buf, Bytes, BytesMut};
/// use fdframe::{Decoder, ReadLimits};
///
/// #[derive(Debug)]
/// struct TooLong;
/// impl std::fmt::Display for TooLong {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("string longer than 64 bytes")
///     }
/// }
/// impl std::error::Error for TooLong {}
///
/// struct NulTerminated;
///
/// impl Decoder for NulTerminated {
///     type Item = Bytes;
///     type Error = TooLong;
///
///     fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, TooLong> {
///         match src.iter().position(|&b| b == 0) {
///             Some(end) if end > 64 => {
///                 src.advance(end + 1); // consume the bad frame: the stream goes on
///                 Err(TooLong)
///             }
///             Some(end) => {
///                 let frame = src.split_to(end + 1).freeze();
///                 Ok(Some(frame.slice(..end)))
///             }
///             None => Ok(None),
///         }
///     }
///
///     fn read_limits(&self) -> ReadLimits {
///         ReadLimits::stream().max_frame_len(4096)
///     }
/// }
///
/// let mut buf = BytesMut::from(&b"one\0two\0thr"[..]);
/// let mut decoder = NulTerminated;
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "one");
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "two");
/// assert!(decoder.decode(&mut buf).unwrap().is_none());
/// ```
pub trait Decoder {
    /// The message type this decoder produces.
    type Item;

    /// The error for a malformed message. Reported as [`Error::Decode`](crate::Error::Decode).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Removes one message from the front of `src` and returns it, or returns `Ok(None)` when `src`
    /// does not yet hold a whole message.
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error>;

    /// Like [`decode`](Decoder::decode), called once no more bytes will come (never for
    /// one-record-per-read decoders: their records are whole when read).
    ///
    /// The default calls `decode`. Override it for formats whose last message may lack its
    /// terminator (a final line without `\n`). Bytes still in `src` once this returns `Ok(None)`
    /// are reported by the engine as [`Error::Truncated`](crate::Error::Truncated).
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        self.decode(src)
    }

    /// What this decoder needs from every `read(2)`: see [`ReadLimits`].
    ///
    /// The engine asks once, when it is created.
    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream()
    }

    /// Decides what a failed read means for this format.
    ///
    /// Called for every read error except `EINTR` (always retried) and `WouldBlock` (always
    /// "wait for readiness"). The default treats every error as fatal. The `/dev/kmsg` decoder
    /// returns [`ReadErrorAction::Retry`] for `EPIPE` (records were overwritten; the device has
    /// moved on to the oldest record still present) and reports the loss from
    /// [`take_loss`](Decoder::take_loss).
    fn read_error(&mut self, error: &io::Error) -> ReadErrorAction {
        let _ = error;
        ReadErrorAction::Fail
    }

    /// Returns a loss the decoder has noticed since it was last asked, if any.
    ///
    /// The engine asks after every `decode`/`decode_eof` call and after every read error the
    /// decoder chose to [retry](ReadErrorAction::Retry), and delivers the loss as
    /// [`Error::Lost`](crate::Error::Lost) *before* the message that revealed it: a reader sees
    /// "12 records lost" and then the first record after the gap.
    fn take_loss(&mut self) -> Option<Loss> {
        None
    }

    /// The batch fast path: splits every whole, well-formed message at the front of `src` off
    /// as one [`Frames`], or returns `None` to let the engine call [`decode`](Decoder::decode)
    /// for the next message instead.
    ///
    /// The [batch readers](crate::Framer::poll_batch_with) call this first whenever new bytes
    /// may hold messages. The default returns `None`, so a decoder works on the batch path
    /// without writing anything: the engine then collects what `decode` returns into a batch
    /// of items, one call per message. A decoder whose messages are slices of the input
    /// (lines, length-delimited or fixed-size frames) overrides it to find all the frames of a
    /// read in one pass and split them off as one frozen run
    /// ([`Frames::from_run`]), without a call, a `split_to` or an allocation per frame.
    ///
    /// The contract, so that both paths deliver the same:
    ///
    /// - The batch holds exactly the messages that `decode` would return one by one for the
    ///   same bytes, and `src` loses exactly their bytes.
    /// - Stop *before* anything that is not a plain message (a malformed or over-long frame, a
    ///   frame the decoder is skipping, a partial frame): return what comes before it, or
    ///   `None` when that is nothing, and `decode` takes it from there.
    /// - Never report a [loss](Decoder::take_loss) from here: a decoder that notices losses
    ///   while decoding keeps the default.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use fdframe::Decoder;
    /// use fdframe::codec::LinesDecoder;
    ///
    /// let mut decoder = LinesDecoder::new();
    /// let mut buf = BytesMut::from(&b"one\ntwo\nthr"[..]);
    /// let frames = decoder.decode_batch(&mut buf).unwrap();
    /// assert_eq!(frames.iter().collect::<Vec<_>>(), [&b"one"[..], b"two"]);
    /// assert_eq!(&buf[..], b"thr"); // a partial line waits for more input
    /// assert!(decoder.decode_batch(&mut buf).is_none());
    /// ```
    fn decode_batch(&mut self, src: &mut BytesMut) -> Option<Frames<Self::Item>> {
        let _ = src;
        None
    }
}

/// What the engine does after a read error; returned by [`Decoder::read_error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadErrorAction {
    /// The error ends the stream: it is delivered as [`Error::Io`](crate::Error::Io).
    Fail,
    /// The device has recovered by itself: read again (after reporting any
    /// [loss](Decoder::take_loss)).
    Retry,
    /// The error means end of input, as `EIO` on a pty master whose other side closed.
    EndOfInput,
}

/// How to frame reads from a descriptor: what a decoder declares in [`Decoder::read_limits`].
///
/// | field                | meaning                                                                       |
/// |----------------------|-------------------------------------------------------------------------------|
/// | `min_read_capacity`  | every `read(2)` is offered at least this many bytes                            |
/// | `max_frame_len`      | the most bytes one message may take; beyond it the engine reports [`Error::FrameTooLarge`](crate::Error::FrameTooLarge) |
/// | `one_record_per_read`| each `read(2)` returns exactly one message (`/dev/kmsg`, TUN, seqpacket)      |
///
/// ```
/// use fdframe::ReadLimits;
///
/// // inotify: room for the largest event before every read.
/// let limits = ReadLimits::stream().min_read_capacity(16 + 255 + 1);
/// assert_eq!(limits.min_read_capacity, 272);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadLimits {
    /// Every `read(2)` is offered at least this many bytes of free buffer.
    pub min_read_capacity: usize,
    /// The longest message, in bytes. Stream mode: once this many bytes are buffered and the
    /// decoder still wants more, the frame is too large. Record mode: a read longer than this is
    /// too large (and may have been truncated by the kernel).
    pub max_frame_len: usize,
    /// Each `read(2)` returns exactly one record; the decoder sees one read's bytes at a time.
    pub one_record_per_read: bool,
}

impl ReadLimits {
    /// The default largest frame: 8 MiB.
    pub const DEFAULT_MAX_FRAME_LEN: usize = 8 * 1024 * 1024;

    /// Limits for a byte stream (pipe, pty, stream socket, regular file): no minimum read size
    /// beyond one byte, frames up to [`DEFAULT_MAX_FRAME_LEN`](Self::DEFAULT_MAX_FRAME_LEN).
    pub const fn stream() -> Self {
        ReadLimits {
            min_read_capacity: 1,
            max_frame_len: Self::DEFAULT_MAX_FRAME_LEN,
            one_record_per_read: false,
        }
    }

    /// Limits for a record-per-read descriptor whose records are at most `max_record_len` bytes.
    ///
    /// Every read is offered `max_record_len + 1` bytes, so a record that is too large shows up
    /// as a read longer than `max_record_len` (reported as
    /// [`Error::FrameTooLarge`](crate::Error::FrameTooLarge)) instead of being silently truncated
    /// by the kernel.
    pub const fn one_record_per_read(max_record_len: usize) -> Self {
        ReadLimits {
            min_read_capacity: max_record_len.saturating_add(1),
            max_frame_len: max_record_len,
            one_record_per_read: true,
        }
    }

    /// Sets [`min_read_capacity`](Self::min_read_capacity) (at least 1).
    #[must_use]
    pub const fn min_read_capacity(mut self, bytes: usize) -> Self {
        self.min_read_capacity = if bytes == 0 { 1 } else { bytes };
        self
    }

    /// Sets [`max_frame_len`](Self::max_frame_len) (at least 1).
    #[must_use]
    pub const fn max_frame_len(mut self, bytes: usize) -> Self {
        self.max_frame_len = if bytes == 0 { 1 } else { bytes };
        self
    }
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self::stream()
    }
}
