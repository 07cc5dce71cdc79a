//! Unit tests of [`Error`](super::Error): what it says, its chains, its conversions.

use std::convert::Infallible;

use bytes::BytesMut;

use super::*;
use crate::{Decoder, LossCause};
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
