//! tokio-util's `LinesCodec` as the oracle for `Utf8LinesDecoder::new().strip_cr(true)`, the
//! setting the codec docs name as its equivalent.

use bytes::BytesMut;
use proptest::prelude::*;
use tokio_util::codec::{Decoder as _, LinesCodec};

use super::Utf8LinesDecoder;
use crate::codec::test_support::{chunk_sizes, chunked, feed};

/// `Some(line)` for a line, `None` for an error, until tokio-util's `decode_eof` has nothing.
fn oracle(mut codec: LinesCodec, input: &[u8]) -> Vec<Option<String>> {
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(line)) => out.push(Some(line)),
            Ok(None) => return out,
            Err(_) => out.push(None),
        }
    }
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        Just(b'\n'),
        Just(b'\r'),
        Just(b'a'),
        Just(0xff),
        any::<u8>()
    ];
    prop::collection::vec(byte, 0..64)
}

proptest! {
    #[test]
    fn lines_with_strip_cr_agree_with_lines_codec(input in input(), sizes in chunk_sizes()) {
        let expected = oracle(LinesCodec::new(), &input);
        let fed = feed(Utf8LinesDecoder::new().strip_cr(true), chunked(&input, &sizes));
        let got: Vec<Option<String>> = fed.events.into_iter().map(Result::ok).collect();
        prop_assert_eq!(got, expected);
        prop_assert!(fed.leftover.is_empty());
    }

    /// With lines that hold no `\r`, the limits agree too (tokio-util counts a `\r` before the
    /// `\n` toward its limit; `max_line_len` does not, when it is stripped).
    #[test]
    fn over_long_lines_are_skipped_as_lines_codec_skips_them(
        input in prop::collection::vec(prop_oneof![Just(b'\n'), Just(b'a')], 0..64),
        max in 0usize..6,
        sizes in chunk_sizes(),
    ) {
        let expected = oracle(LinesCodec::new_with_max_length(max), &input);
        let decoder = Utf8LinesDecoder::new().strip_cr(true).max_line_len(max);
        let got: Vec<Option<String>> =
            feed(decoder, chunked(&input, &sizes)).events.into_iter().map(Result::ok).collect();
        prop_assert_eq!(got, expected);
    }
}
