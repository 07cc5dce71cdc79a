//! [`AsynchronousCodecDecoder`]: an `asynchronous_codec::Decoder` used as an
//! [`fdframe::Decoder`].

use bytes::BytesMut;
use fdframe::{Decoder, ReadLimits};

/// Adapts an [`asynchronous_codec::Decoder`] into an [`fdframe::Decoder`], so an existing
/// codec written for futures-io runs on fdframe's engine (on async-std and smol through
/// [`FdStream`](crate::FdStream), and on every other fdframe backend). It is what
/// `fdframe_tokio::TokioUtilDecoder` is for tokio-util codecs.
///
/// `decode` and `decode_eof` are forwarded unchanged. The engine adds what
/// asynchronous-codec's `FramedRead` lacks: a bound on buffered bytes
/// ([`ReadLimits::max_frame_len`], 8 MiB by default, reported as
/// [`fdframe::Error::FrameTooLarge`]) and a guaranteed amount of room before every read
/// ([`ReadLimits::min_read_capacity`]). The codec knows nothing of either, so the limits are the
/// byte-stream defaults ([`ReadLimits::stream`]) unless set with
/// [`with_read_limits`](AsynchronousCodecDecoder::with_read_limits).
///
/// Error semantics: a codec error after which the codec consumed the bad frame is reported as
/// [`fdframe::Error::Decode`] and the stream goes on; one that consumed no bytes would repeat
/// forever, so the engine reports it as [`fdframe::Error::DecodeStalled`] (fatal) and ends the
/// stream. asynchronous-codec's default
/// `decode_eof` is `decode`, so bytes left at the end of input (a partial frame) arrive as
/// [`fdframe::Error::Truncated`].
///
/// # Example
///
/// ```
/// use std::io::Write;
/// use asynchronous_codec::LinesCodec;
/// use fdframe_async_io::{AsynchronousCodecDecoder, FdStream};
/// use futures_lite::StreamExt;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # smol::block_on(async {
/// let (reader, mut writer) = std::io::pipe()?;
/// writer.write_all(b"one\ntwo\n")?;
/// drop(writer);
///
/// let decoder = AsynchronousCodecDecoder::new(LinesCodec);
/// let lines: Vec<String> = FdStream::from_fd(reader.into(), decoder)?
///     .try_collect()
///     .await?;
/// assert_eq!(lines, ["one\n", "two\n"]); // this codec keeps the `\n`
/// # Ok(())
/// # })
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AsynchronousCodecDecoder<C> {
    codec: C,
    limits: ReadLimits,
}

impl<C> AsynchronousCodecDecoder<C> {
    /// Wraps `codec` with byte-stream read limits ([`ReadLimits::stream`]).
    pub fn new(codec: C) -> Self {
        Self::with_read_limits(codec, ReadLimits::stream())
    }

    /// Wraps `codec` with the given read limits (for a record device, or a smaller frame
    /// bound).
    pub fn with_read_limits(codec: C, limits: ReadLimits) -> Self {
        AsynchronousCodecDecoder { codec, limits }
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

impl<C> Decoder for AsynchronousCodecDecoder<C>
where
    C: asynchronous_codec::Decoder,
    C::Error: std::error::Error + Send + Sync + 'static,
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

#[cfg(test)]
mod tests {
    use std::io::{self, Write};

    use asynchronous_codec::{BytesCodec, LengthCodec, LinesCodec};
    use bytes::Bytes;
    use fdframe::Error;
    use futures_lite::StreamExt;

    use super::*;
    use crate::FdStream;

    /// Everything `decoder` yields for `input` written to a pipe, each error described.
    fn stream<D>(input: &[u8], decoder: D) -> Vec<Result<D::Item, String>>
    where
        D: Decoder + Unpin,
        D::Item: Unpin,
    {
        let (reader, mut writer) = io::pipe().unwrap();
        writer.write_all(input).unwrap();
        drop(writer);
        smol::block_on(async {
            let stream = FdStream::from_fd(reader.into(), decoder).unwrap();
            stream
                .map(|item| {
                    item.map_err(|e| match e {
                        Error::Decode(e) => format!("Decode: {e}"),
                        Error::DecodeStalled(e) => format!("DecodeStalled: {e}"),
                        Error::Truncated(bytes) => format!("Truncated: {bytes:?}"),
                        Error::FrameTooLarge { limit, .. } => format!("FrameTooLarge: {limit}"),
                        other => format!("{other}"),
                    })
                })
                .collect()
                .await
        })
    }

    #[test]
    fn lines_come_through_as_the_codec_decodes_them() {
        let got = stream(b"a\nbc\nlast", AsynchronousCodecDecoder::new(LinesCodec));
        // asynchronous-codec's default `decode_eof` is `decode`: the final partial line is
        // left over, and the engine reports it rather than drop it.
        assert_eq!(
            got,
            [
                Ok("a\n".to_string()),
                Ok("bc\n".to_string()),
                Err("Truncated: b\"last\"".to_string())
            ]
        );
    }

    #[test]
    fn length_prefixed_frames_decode() {
        let mut input = Vec::new();
        for payload in [&b"hello"[..], b"", b"world"] {
            input.extend((payload.len() as u64).to_be_bytes());
            input.extend(payload);
        }
        let got = stream(&input, AsynchronousCodecDecoder::new(LengthCodec));
        assert_eq!(
            got,
            [
                Ok(Bytes::from_static(b"hello")),
                Ok(Bytes::new()),
                Ok(Bytes::from_static(b"world"))
            ]
        );
    }

    #[test]
    fn an_error_after_the_bad_line_was_consumed_goes_on() {
        // The codec splits the line off before checking its UTF-8.
        let got = stream(
            b"ok\n\xff\nnext\n",
            AsynchronousCodecDecoder::new(LinesCodec),
        );
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], Ok("ok\n".to_string()));
        assert!(
            matches!(&got[1], Err(e) if e.starts_with("Decode: ")),
            "{got:?}"
        );
        assert_eq!(got[2], Ok("next\n".to_string()));
    }

    /// A codec that fails without consuming: its error would repeat forever.
    struct Stuck;
    impl asynchronous_codec::Decoder for Stuck {
        type Item = ();
        type Error = io::Error;
        fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<()>> {
            if src.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::other("stuck"))
            }
        }
    }

    #[test]
    fn an_error_that_consumed_nothing_ends_the_stream_stalled() {
        let got = stream(b"anything", AsynchronousCodecDecoder::new(Stuck));
        assert_eq!(got, [Err("DecodeStalled: stuck".to_string())]);
    }

    #[test]
    fn the_engine_bounds_what_a_codec_buffers() {
        let decoder = AsynchronousCodecDecoder::with_read_limits(
            LinesCodec,
            ReadLimits::stream().max_frame_len(8),
        );
        let got = stream(b"far more than eight bytes without a newline\n", decoder);
        assert_eq!(got, [Err("FrameTooLarge: 8".to_string())]);
    }

    #[test]
    fn bytes_codec_yields_what_each_read_brought() {
        let got = stream(b"all of it", AsynchronousCodecDecoder::new(BytesCodec));
        let joined: Vec<u8> = got.into_iter().flat_map(|b| b.unwrap()).collect();
        assert_eq!(joined, b"all of it");
    }

    #[test]
    fn settings_and_the_codec_are_reachable() {
        let limits = ReadLimits::stream().max_frame_len(100);
        let mut decoder = AsynchronousCodecDecoder::with_read_limits(LinesCodec, limits);
        assert_eq!(decoder.read_limits(), limits);
        let _: &LinesCodec = decoder.get_ref();
        let _: &mut LinesCodec = decoder.get_mut();
        let _: LinesCodec = decoder.into_inner();
        assert_eq!(
            AsynchronousCodecDecoder::new(LinesCodec).read_limits(),
            ReadLimits::stream()
        );
    }
}
