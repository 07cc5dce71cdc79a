//! tokio-util's `LengthDelimitedCodec` as the oracle for the settings named after it
//! (`length_field_offset`, `length_adjustment`, `num_skip`, byte order, field length), on the
//! per-frame path and the batch path.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use tokio_util::codec::{Decoder as _, LengthDelimitedCodec};

use super::{LengthDelimitedDecoder, LengthDelimitedError};
use crate::Decoder;
use crate::codec::test_support::{assert_memory_bounded, chunk_sizes, chunked, feed};

#[derive(Clone, Debug)]
struct Config {
    offset: usize,
    field_len: usize,
    little_endian: bool,
    adjustment: isize,
    num_skip: Option<usize>,
}

impl Config {
    fn ours(&self) -> LengthDelimitedDecoder {
        let decoder = LengthDelimitedDecoder::new()
            .length_field_offset(self.offset)
            .length_field_len(self.field_len)
            .length_adjustment(self.adjustment)
            .max_frame_len(usize::MAX);
        let decoder = if self.little_endian {
            decoder.little_endian()
        } else {
            decoder.big_endian()
        };
        match self.num_skip {
            Some(skip) => decoder.num_skip(skip),
            None => decoder,
        }
    }

    fn tokio_util(&self) -> LengthDelimitedCodec {
        let mut builder = LengthDelimitedCodec::builder();
        builder
            .length_field_offset(self.offset)
            .length_field_length(self.field_len)
            .length_adjustment(self.adjustment)
            .max_frame_length(usize::MAX);
        if self.little_endian {
            builder.little_endian();
        }
        if let Some(skip) = self.num_skip {
            builder.num_skip(skip);
        }
        builder.new_codec()
    }

    fn field_end(&self) -> usize {
        self.offset + self.field_len
    }
}

fn configs() -> impl Strategy<Value = Config> {
    (
        0usize..4,
        1usize..=4,
        any::<bool>(),
        -8isize..8,
        prop::option::of(0usize..9),
    )
        .prop_map(
            |(offset, field_len, little_endian, adjustment, num_skip)| Config {
                offset,
                field_len,
                little_endian,
                adjustment,
                num_skip,
            },
        )
}

/// Frames whose length fields hold small values (tokio-util reserves what a header declares),
/// with arbitrary bytes before the field and after it, which may or may not match the lengths.
fn inputs(config: &Config) -> impl Strategy<Value = Vec<u8>> + use<> {
    let config = config.clone();
    let piece = (
        prop::collection::vec(any::<u8>(), config.offset),
        0u64..20,
        prop::collection::vec(any::<u8>(), 0..20),
    );
    prop::collection::vec(piece, 0..6).prop_map(move |pieces| {
        let mut input = Vec::new();
        for (before, len, after) in pieces {
            input.extend(before);
            if config.little_endian {
                input.extend(&len.to_le_bytes()[..config.field_len]);
            } else {
                input.extend(&len.to_be_bytes()[8 - config.field_len..]);
            }
            input.extend(after);
        }
        input
    })
}

/// Where tokio-util stopped.
#[derive(Debug, PartialEq)]
enum Stop {
    /// It waits for more input.
    Waiting,
    /// A length that comes out negative (its `InvalidInput` error), or a frame that ends
    /// inside its own length field (which tokio-util yields and this decoder refuses, see
    /// `least_payload_len`): this decoder reports `InvalidLength` there.
    Invalid,
    /// Its frame limit, which it applies to the raw field and caps at the field's largest
    /// value plus the adjustment (its `InvalidData` error); this decoder's limit differs.
    TooBig,
}

/// What tokio-util makes of `input`: its frames, and where it stopped.
fn oracle(config: &Config, input: &[u8]) -> (Vec<Bytes>, Stop) {
    let mut codec = config.tokio_util();
    let mut buf = BytesMut::from(input);
    let mut frames = Vec::new();
    loop {
        let before = buf.len();
        match codec.decode(&mut buf) {
            Ok(Some(frame)) => {
                if before - buf.len() < config.field_end() {
                    return (frames, Stop::Invalid);
                }
                frames.push(frame.freeze());
            }
            Ok(None) => return (frames, Stop::Waiting),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                return (frames, Stop::Invalid);
            }
            Err(_) => return (frames, Stop::TooBig),
        }
    }
}

/// Decodes with the batch path first and `decode` where it declines, as the engine's batch
/// loop does.
fn batched(
    mut decoder: LengthDelimitedDecoder,
    input: &[u8],
) -> Vec<Result<Bytes, LengthDelimitedError>> {
    let mut buf = BytesMut::from(input);
    let mut events = Vec::new();
    loop {
        if let Some(frames) = decoder.decode_batch(&mut buf) {
            assert!(!frames.is_empty(), "an empty batch");
            events.extend(frames.into_iter().map(Ok));
            continue;
        }
        match decoder.decode(&mut buf) {
            Ok(Some(frame)) => events.push(Ok(frame)),
            Ok(None) => return events,
            Err(e) => events.push(Err(e)),
        }
    }
}

proptest! {
    #[test]
    fn frames_agree_with_tokio_util_until_its_first_error(
        (config, input) in configs().prop_flat_map(|c| {
            let input = inputs(&c);
            (Just(c), input)
        }),
        sizes in chunk_sizes(),
    ) {
        let (expected, stop) = oracle(&config, &input);
        for events in [
            feed(config.ours(), chunked(&input, &sizes)).events,
            feed(config.ours(), [&input[..]]).events,
            batched(config.ours(), &input),
        ] {
            let frames: Vec<Bytes> =
                events.iter().map_while(|e| e.as_ref().ok().cloned()).collect();
            prop_assert_eq!(&frames, &expected);
            // Where tokio-util fails on a negative length, this decoder reports the frame as
            // invalid and goes on; where it waits for more, so does this one.
            let next = events.get(frames.len());
            match stop {
                Stop::Invalid => prop_assert!(
                    matches!(next, Some(Err(LengthDelimitedError::InvalidLength { .. }))),
                    "{:?}", events
                ),
                Stop::Waiting => prop_assert!(next.is_none(), "{:?}", events),
                Stop::TooBig => {}
            }
        }
    }

    #[test]
    fn batch_path_agrees_with_the_per_frame_path(
        (config, input) in configs().prop_flat_map(|c| {
            let input = inputs(&c);
            (Just(c), input)
        }),
        max_frame_len in 0usize..24,
    ) {
        let per_frame = feed(config.ours().max_frame_len(max_frame_len), [&input[..]]).events;
        let batched = batched(config.ours().max_frame_len(max_frame_len), &input);
        prop_assert_eq!(batched, per_frame);
    }

    #[test]
    fn memory_stays_bounded_with_every_setting(
        config in configs(),
        input in prop::collection::vec(any::<u8>(), 0..256),
        max_frame_len in 0usize..24,
        sizes in chunk_sizes(),
    ) {
        let make = || config.ours().max_frame_len(max_frame_len);
        let bound = make().head_len() + max_frame_len;
        assert_memory_bounded(make, &input, &sizes, bound)?;
    }
}

/// The examples of tokio-util's `length_delimited` module documentation.
#[test]
fn tokio_util_documentation_examples_decode_alike() {
    let cases: [(LengthDelimitedDecoder, &[u8], &[u8]); 5] = [
        // 2-byte length, keep the header: `length_adjustment(2)`, `num_skip(0)`.
        (
            LengthDelimitedDecoder::new()
                .length_field_len(2)
                .length_adjustment(2)
                .num_skip(0),
            b"\x00\x0bHello world",
            b"\x00\x0bHello world",
        ),
        // The length counts the header: `length_adjustment(-2)`.
        (
            LengthDelimitedDecoder::new()
                .length_field_len(2)
                .length_adjustment(-2),
            b"\x00\x0dHello world",
            b"Hello world",
        ),
        // A 3-byte length, a 2-byte head after it, all kept: `length_adjustment(3 + 2)`.
        (
            LengthDelimitedDecoder::new()
                .length_field_len(3)
                .length_adjustment(3 + 2)
                .num_skip(0),
            b"\x00\x00\x0b\xca\xfeHello world",
            b"\x00\x00\x0b\xca\xfeHello world",
        ),
        // hdr1, length, hdr2 not counted: `length_adjustment(1)`, `num_skip(3)`.
        (
            LengthDelimitedDecoder::new()
                .length_field_offset(1)
                .length_field_len(2)
                .length_adjustment(1)
                .num_skip(3),
            b"\xca\x00\x0b\xfeHello world",
            b"\xfeHello world",
        ),
        // The same with the length counting the whole frame: `length_adjustment(-3)`.
        (
            LengthDelimitedDecoder::new()
                .length_field_offset(1)
                .length_field_len(2)
                .length_adjustment(-3)
                .num_skip(3),
            b"\xca\x00\x0f\xfeHello world",
            b"\xfeHello world",
        ),
    ];
    for (decoder, input, frame) in cases {
        let fed = feed(decoder.clone(), [input]);
        assert_eq!(
            fed.events.first(),
            Some(&Ok(Bytes::copy_from_slice(frame))),
            "{decoder:?}"
        );
    }
}

#[test]
fn a_length_that_comes_out_negative_is_invalid_and_decoding_goes_on() {
    let decoder = LengthDelimitedDecoder::new()
        .length_field_len(1)
        .length_adjustment(-2);
    let fed = feed(decoder, [&b"\x01\x03x"[..]]);
    assert_eq!(
        fed.events,
        [
            Err(LengthDelimitedError::InvalidLength {
                length_field: 1,
                header_len: 2,
            }),
            Ok(Bytes::from_static(b"x")),
        ]
    );
    assert_eq!(
        fed.events[0].as_ref().unwrap_err().to_string(),
        "length field of 1 is smaller than the 2 bytes of header it counts"
    );
}

#[test]
fn a_frame_that_would_end_inside_its_own_length_field_is_invalid() {
    // num_skip(0) and no adjustment: a length of 1 would make a 1-byte frame of a 2-byte
    // header, and a length of 0 an empty frame that consumes nothing.
    let decoder = LengthDelimitedDecoder::new()
        .length_field_len(2)
        .num_skip(0);
    let fed = feed(decoder, [&b"\x00\x00\x00\x03ok"[..]]);
    assert_eq!(
        fed.events,
        [
            Err(LengthDelimitedError::InvalidLength {
                length_field: 0,
                header_len: 2,
            }),
            Ok(Bytes::from_static(b"\x00\x03o")),
        ]
    );
}

#[test]
fn native_endian_is_the_targets_byte_order() {
    let native = LengthDelimitedDecoder::new()
        .length_field_len(2)
        .native_endian();
    let fed = feed(native, [&[&3u16.to_ne_bytes()[..], b"abc"].concat()[..]]);
    assert_eq!(fed.events, [Ok(Bytes::from_static(b"abc"))]);
}
