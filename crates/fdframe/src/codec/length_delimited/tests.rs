//! Unit tests of [`LengthDelimitedDecoder`](super::LengthDelimitedDecoder).

use proptest::prelude::*;

use super::*;
use crate::codec::test_support::{
    assert_chunking_does_not_matter, assert_memory_bounded, chunk_sizes, chunked, feed,
};

/// A header of `field_len` bytes holding `len`, as an encoder would write it.
fn header(len: u64, field_len: usize, little_endian: bool) -> Vec<u8> {
    if little_endian {
        len.to_le_bytes()[..field_len].to_vec()
    } else {
        len.to_be_bytes()[8 - field_len..].to_vec()
    }
}

fn decoder(field_len: usize, little_endian: bool) -> LengthDelimitedDecoder {
    let decoder = LengthDelimitedDecoder::new().length_field_len(field_len);
    if little_endian {
        decoder.little_endian()
    } else {
        decoder.big_endian()
    }
}

fn ok(payload: &[u8]) -> Result<Bytes, LengthDelimitedError> {
    Ok(Bytes::copy_from_slice(payload))
}

fn too_long(payload_len: u64, limit: usize) -> Result<Bytes, LengthDelimitedError> {
    Err(LengthDelimitedError::TooLong { payload_len, limit })
}

#[test]
fn default_header_is_four_bytes_big_endian() {
    let fed = feed(
        LengthDelimitedDecoder::new(),
        [&b"\0\0\0\x0bHello world"[..]],
    );
    assert_eq!(fed.events, [ok(b"Hello world")]);
    assert!(fed.leftover.is_empty());
}

#[test]
fn every_header_size_and_byte_order_reads_its_exact_bytes() {
    let cases: [(usize, bool, &[u8]); 9] = [
        (1, false, b"\x03abc"),
        (2, false, b"\x00\x03abc"),
        (2, true, b"\x03\x00abc"),
        (3, false, b"\x00\x00\x03abc"),
        (4, false, b"\x00\x00\x00\x03abc"),
        (4, true, b"\x03\x00\x00\x00abc"),
        (8, false, b"\x00\x00\x00\x00\x00\x00\x00\x03abc"),
        (8, true, b"\x03\x00\x00\x00\x00\x00\x00\x00abc"),
        (1, true, b"\x03abc"),
    ];
    for (field_len, little_endian, input) in cases {
        let fed = feed(decoder(field_len, little_endian), [input]);
        assert_eq!(
            fed.events,
            [ok(b"abc")],
            "{field_len} bytes, LE {little_endian}"
        );
    }
}

#[test]
fn byte_order_decides_which_byte_is_significant() {
    let payload = [7u8; 0x102];
    let mut big = b"\x01\x02".to_vec();
    big.extend_from_slice(&payload);
    let mut little = b"\x02\x01".to_vec();
    little.extend_from_slice(&payload);
    assert_eq!(feed(decoder(2, false), [&big]).events, [ok(&payload)]);
    assert_eq!(feed(decoder(2, true), [&little]).events, [ok(&payload)]);
}

#[test]
fn empty_payload_is_an_empty_frame() {
    let fed = feed(decoder(2, false), [&b"\0\0\0\x01x"[..]]);
    assert_eq!(fed.events, [ok(b""), ok(b"x")]);
}

#[test]
fn length_may_include_the_header() {
    let fed = feed(
        decoder(2, false).length_includes_header(true),
        [&b"\x00\x05abc\x00\x02"[..]],
    );
    assert_eq!(fed.events, [ok(b"abc"), ok(b"")]);
}

#[test]
fn length_smaller_than_its_header_is_invalid_and_the_next_frame_decodes() {
    let fed = feed(
        decoder(2, false).length_includes_header(true),
        [&b"\x00\x01\x00\x04ok"[..]],
    );
    assert_eq!(
        fed.events,
        [
            Err(LengthDelimitedError::InvalidLength {
                length_field: 1,
                header_len: 2,
            }),
            ok(b"ok"),
        ]
    );
}

#[test]
fn over_max_payload_is_skipped_and_the_next_frame_decodes() {
    let input = b"\x05abcde\x02ok\x04abcd\x00";
    let expected = [too_long(5, 3), ok(b"ok"), too_long(4, 3), ok(b"")];
    let make = || decoder(1, false).max_frame_len(3);
    assert_eq!(feed(make(), [input]).events, expected);
    let trickled = feed(make(), chunked(input, &[1]));
    assert_eq!(trickled.events, expected);
    // While skipping, nothing of the rejected payload stays buffered.
    assert!(trickled.max_held <= 3, "held {}", trickled.max_held);
}

#[test]
fn a_header_alone_reserves_only_a_bounded_part_of_its_frame() {
    // Found by fuzzing with no limit: a header declaring 2^57 bytes made `decode` reserve
    // them at once, and the failed allocation aborted the process. Within any limit, a
    // header must not commit memory for a payload that has not arrived.
    let mut decoder = decoder(8, false).max_frame_len(usize::MAX);
    let mut buf = BytesMut::from(&(1u64 << 30).to_be_bytes()[..]);
    buf.extend_from_slice(b"start");
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(
        buf.len(),
        13,
        "the header and the payload so far stay buffered"
    );
    assert!(buf.capacity() <= 1 << 20, "capacity {}", buf.capacity());
}

#[test]
fn huge_declared_length_reserves_nothing() {
    let mut decoder = decoder(8, false);
    let mut buf = BytesMut::from(&[0xff; 12][..]);
    assert_eq!(
        decoder.decode(&mut buf),
        Err(LengthDelimitedError::TooLong {
            payload_len: u64::MAX,
            limit: LengthDelimitedDecoder::DEFAULT_MAX_FRAME_LEN,
        })
    );
    assert!(buf.is_empty());
    assert!(buf.capacity() <= 64, "capacity {}", buf.capacity());
    buf.extend_from_slice(&[0; 1000]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert!(buf.is_empty());
    // The frame is header and payload, 8 + u64::MAX bytes, which saturates at u64::MAX.
    assert_eq!(decoder.skip_remaining, u64::MAX - 12 - 1000);
}

#[test]
fn partial_frame_at_eof_is_left_whole_with_its_header() {
    let fed = feed(
        LengthDelimitedDecoder::new(),
        [&b"\0\0\0\x02ok\0\0\0\x05ab"[..]],
    );
    assert_eq!(fed.events, [ok(b"ok")]);
    assert_eq!(fed.leftover, b"\0\0\0\x05ab");
    let fed = feed(LengthDelimitedDecoder::new(), [&b"\0\0"[..]]);
    assert!(fed.events.is_empty());
    assert_eq!(fed.leftover, b"\0\0");
}

#[test]
fn read_limits_cover_header_and_largest_payload() {
    assert_eq!(
        LengthDelimitedDecoder::new().read_limits(),
        ReadLimits::stream().max_frame_len(8 * 1024 * 1024 + 4)
    );
    let limits = decoder(2, true).max_frame_len(0).read_limits();
    assert_eq!(limits.max_frame_len, 2);
}

#[test]
#[should_panic(expected = "length_field_len must be between 1 and 8 bytes")]
fn header_of_nine_bytes_is_refused() {
    let _ = LengthDelimitedDecoder::new().length_field_len(9);
}

#[test]
#[should_panic(expected = "length_field_len must be between 1 and 8 bytes")]
fn header_of_zero_bytes_is_refused() {
    let _ = LengthDelimitedDecoder::new().length_field_len(0);
}

#[test]
fn a_huge_declared_length_under_a_huge_limit_reserves_only_a_bounded_amount() {
    for declared in [1u64 << 40, u64::MAX / 2, u64::MAX - 16] {
        let mut decoder = decoder(8, false).max_frame_len(usize::MAX);
        let mut buf = BytesMut::from(&header(declared, 8, false)[..]);
        buf.extend_from_slice(b"the first bytes");
        assert_eq!(decoder.decode(&mut buf), Ok(None), "{declared}");
        assert!(
            buf.capacity() <= RESERVE_AHEAD + 64,
            "{declared}: reserved {}",
            buf.capacity()
        );
    }
}

#[test]
fn error_messages_give_the_numbers() {
    assert_eq!(
        LengthDelimitedError::TooLong {
            payload_len: 9,
            limit: 4
        }
        .to_string(),
        "frame payload of 9 bytes exceeds the limit of 4 bytes"
    );
    let invalid = LengthDelimitedError::InvalidLength {
        length_field: 1,
        header_len: 4,
    };
    assert_eq!(
        invalid.to_string(),
        "length field of 1 is smaller than the 4 bytes of header it counts"
    );
}

#[derive(Clone, Debug)]
struct Config {
    field_len: usize,
    little_endian: bool,
    includes_header: bool,
    max_frame_len: usize,
}

impl Config {
    fn decoder(&self) -> LengthDelimitedDecoder {
        decoder(self.field_len, self.little_endian)
            .length_includes_header(self.includes_header)
            .max_frame_len(self.max_frame_len)
    }
}

fn configs() -> impl Strategy<Value = Config> {
    (1usize..=8, any::<bool>(), any::<bool>(), 0usize..10).prop_map(
        |(field_len, little_endian, includes_header, max_frame_len)| Config {
            field_len,
            little_endian,
            includes_header,
            max_frame_len,
        },
    )
}

/// Headers with small lengths followed by payloads that may or may not match them.
fn framed_bytes(config: &Config) -> impl Strategy<Value = Vec<u8>> + use<> {
    let (field_len, little_endian) = (config.field_len, config.little_endian);
    let piece = (0u64..14, prop::collection::vec(any::<u8>(), 0..14));
    prop::collection::vec(piece, 0..6).prop_map(move |pieces| {
        let mut input = Vec::new();
        for (len, payload) in pieces {
            input.extend(header(len, field_len, little_endian));
            input.extend(payload);
        }
        input
    })
}

proptest! {
    #[test]
    fn chunking_does_not_change_frames(
        (config, input) in configs().prop_flat_map(|c| {
            let input = framed_bytes(&c);
            (Just(c), input)
        }),
        sizes in chunk_sizes(),
    ) {
        assert_chunking_does_not_matter(|| config.decoder(), &input, &sizes)?;
    }

    #[test]
    fn encoded_frames_decode_and_over_max_ones_are_skipped(
        config in configs(),
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..14), 0..6),
        sizes in chunk_sizes(),
    ) {
        let mut input = Vec::new();
        let mut expected = Vec::new();
        for payload in &payloads {
            let len = payload.len() as u64;
            let field = if config.includes_header { len + config.field_len as u64 } else { len };
            input.extend(header(field, config.field_len, config.little_endian));
            input.extend(payload);
            expected.push(if payload.len() > config.max_frame_len {
                too_long(len, config.max_frame_len)
            } else {
                ok(payload)
            });
        }
        let fed = feed(config.decoder(), chunked(&input, &sizes));
        prop_assert_eq!(fed.events, expected);
        prop_assert!(fed.leftover.is_empty());
    }

    #[test]
    fn random_bytes_keep_memory_bounded(
        config in configs(),
        input in prop::collection::vec(any::<u8>(), 0..512),
        sizes in chunk_sizes(),
    ) {
        let bound = config.field_len + config.max_frame_len - 1;
        assert_memory_bounded(|| config.decoder(), &input, &sizes, bound)?;
    }
}
