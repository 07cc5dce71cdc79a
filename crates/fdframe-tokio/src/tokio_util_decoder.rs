//! [`TokioUtilDecoder`]: a `tokio_util::codec::Decoder` used as an [`fdframe::Decoder`].

use std::io;

use bytes::BytesMut;
use fdframe::{Decoder, ReadLimits};

/// Adapts a [`tokio_util::codec::Decoder`] into an [`fdframe::Decoder`], so an existing codec
/// runs on fdframe's engine (and on every fdframe backend).
///
/// `decode` and `decode_eof` are forwarded unchanged. The engine adds what tokio-util's
/// `FramedRead` lacks: a bound on buffered bytes ([`ReadLimits::max_frame_len`], 8 MiB by
/// default, reported as [`fdframe::Error::FrameTooLarge`]) and a guaranteed amount of room before
/// every read ([`ReadLimits::min_read_capacity`]). The codec knows nothing of either, so the
/// limits are the byte-stream defaults ([`ReadLimits::stream`]) unless set with
/// [`with_read_limits`](TokioUtilDecoder::with_read_limits).
///
/// Error semantics carry over: a codec error that consumed no bytes ends the stream (as it ends
/// a `FramedRead`), reported as [`fdframe::Error::DecodeStalled`]; one after which the codec
/// consumed the bad frame is reported and the stream goes on. tokio-util's default `decode_eof` fails with "bytes remaining on stream" when input
/// ends inside a frame; that error arrives as [`fdframe::Error::Decode`].
///
/// Most tokio-util codecs have a native fdframe decoder that skips bad frames instead of ending
/// the stream (and has a batch fast path): `LinesCodec` is
/// `Utf8LinesDecoder::new().strip_cr(true)`, `LengthDelimitedCodec` is `LengthDelimitedDecoder`
/// with the same builder settings. The table is in [`fdframe::codec`](fdframe::codec#coming-from-tokio-util).
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use fdframe_tokio::{FdStream, TokioUtilDecoder};
/// use tokio_stream::StreamExt;
/// use tokio_util::codec::LinesCodec;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (reader, mut writer) = std::io::pipe()?;
/// writer.write_all(b"one\ntwo\n")?;
/// drop(writer);
///
/// let decoder = TokioUtilDecoder::new(LinesCodec::new_with_max_length(1024));
/// let lines: Vec<String> = FdStream::from_fd(reader.into(), decoder)?
///     .collect::<Result<_, _>>()
///     .await?;
/// assert_eq!(lines, ["one", "two"]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TokioUtilDecoder<C> {
    codec: C,
    limits: ReadLimits,
}

impl<C> TokioUtilDecoder<C> {
    /// Wraps `codec` with byte-stream read limits ([`ReadLimits::stream`]).
    pub fn new(codec: C) -> Self {
        Self::with_read_limits(codec, ReadLimits::stream())
    }

    /// Wraps `codec` with the given read limits (for a record device, or a smaller frame
    /// bound).
    pub fn with_read_limits(codec: C, limits: ReadLimits) -> Self {
        TokioUtilDecoder { codec, limits }
    }

    /// The wrapped codec.
    pub fn get_ref(&self) -> &C {
        &self.codec
    }

    /// The wrapped codec, mutably.
    pub fn get_mut(&mut self) -> &mut C {
        &mut self.codec
    }

    /// Returns the wrapped codec.
    pub fn into_inner(self) -> C {
        self.codec
    }
}

impl<C> Decoder for TokioUtilDecoder<C>
where
    C: tokio_util::codec::Decoder,
    C::Error: From<io::Error> + std::error::Error + Send + Sync + 'static,
{
    type Item = C::Item;
    type Error = C::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<C::Item>, C::Error> {
        self.codec.decode(src)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<C::Item>, C::Error> {
        self.codec.decode_eof(src)
    }

    fn read_limits(&self) -> ReadLimits {
        self.limits
    }
}
