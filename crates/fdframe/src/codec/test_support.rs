//! Drives a decoder the way the framing engine does, so codec tests need no engine and no fd.
//!
//! [`feed`] appends one chunk (one simulated `read(2)`) at a time to a `BytesMut`, calls `decode`
//! until `Ok(None)` after each chunk, then `decode_eof` until `Ok(None)`, and records everything
//! returned, in order, plus what stayed buffered. The property helpers built on it compare runs
//! that differ only in how the input was split.

use std::fmt::Debug;

use bytes::BytesMut;
use proptest::prelude::*;

use crate::Decoder;

/// What feeding an input to a decoder produced.
#[derive(Debug)]
pub(super) struct Fed<T, E> {
    /// Every item (`Ok`) and error (`Err`) in the order the decoder returned them.
    pub(super) events: Vec<Result<T, E>>,
    /// Bytes still buffered after `decode_eof` returned `Ok(None)`: what the engine reports as
    /// `Error::Truncated`.
    pub(super) leftover: Vec<u8>,
    /// The most bytes the buffer held while the decoder waited for more input (after each
    /// chunk's `decode` loop, and at the end).
    pub(super) max_held: usize,
}

impl<T, E> Fed<T, E> {
    /// The items, panicking on the first error: for inputs that must decode cleanly.
    pub(super) fn items(self) -> Vec<T>
    where
        E: Debug,
    {
        self.events
            .into_iter()
            .map(|event| event.expect("the input should decode without errors"))
            .collect()
    }
}

/// Feeds `chunks` to `decoder` as successive reads, then signals end of input.
///
/// Panics (failing the test) if the decoder returns an item or an error without consuming a
/// byte: the engine would loop forever on such a decoder, or end the stream on such an error.
pub(super) fn feed<D, C>(
    mut decoder: D,
    chunks: impl IntoIterator<Item = C>,
) -> Fed<D::Item, D::Error>
where
    D: Decoder,
    C: AsRef<[u8]>,
{
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    let mut max_held = 0;
    for chunk in chunks {
        let chunk = chunk.as_ref();
        if chunk.is_empty() {
            // A zero-byte read is end of input, which `feed` signals itself at the end.
            continue;
        }
        buf.extend_from_slice(chunk);
        drain(&mut decoder, &mut buf, &mut events, false);
        max_held = max_held.max(buf.len());
    }
    drain(&mut decoder, &mut buf, &mut events, true);
    max_held = max_held.max(buf.len());
    Fed {
        events,
        leftover: buf.to_vec(),
        max_held,
    }
}

fn drain<D: Decoder>(
    decoder: &mut D,
    buf: &mut BytesMut,
    events: &mut Vec<Result<D::Item, D::Error>>,
    eof: bool,
) {
    loop {
        let before = buf.len();
        let result = if eof {
            decoder.decode_eof(buf)
        } else {
            decoder.decode(buf)
        };
        let Some(event) = result.transpose() else {
            return;
        };
        assert!(
            buf.len() < before,
            "decoder returned {} without consuming a byte (eof: {eof})",
            if event.is_ok() { "an item" } else { "an error" },
        );
        events.push(event);
    }
}

/// Splits `input` into chunks whose lengths cycle through `sizes` (each at least 1).
pub(super) fn chunked<'a>(input: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut chunks = Vec::new();
    let mut rest = input;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.clamp(1, rest.len()));
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

/// Chunk sizes for the property tests: small, so lines and headers straddle reads often.
pub(super) fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=17, 1..8)
}

/// Checks that splitting `input` at every single boundary, and into chunks of `sizes`, gives
/// exactly the events and leftover bytes of feeding it whole.
pub(super) fn assert_chunking_does_not_matter<D>(
    make: impl Fn() -> D,
    input: &[u8],
    sizes: &[usize],
) -> Result<(), TestCaseError>
where
    D: Decoder,
    D::Item: PartialEq + Debug,
    D::Error: PartialEq + Debug,
{
    let whole = feed(make(), [input]);
    for at in 0..=input.len() {
        let (head, tail) = input.split_at(at);
        let split = feed(make(), [head, tail]);
        prop_assert_eq!(&split.events, &whole.events, "split at byte {}", at);
        prop_assert_eq!(&split.leftover, &whole.leftover, "split at byte {}", at);
    }
    let sized = feed(make(), chunked(input, sizes));
    prop_assert_eq!(&sized.events, &whole.events, "chunk sizes {:?}", sizes);
    prop_assert_eq!(&sized.leftover, &whole.leftover, "chunk sizes {:?}", sizes);
    Ok(())
}

/// Checks that, fed `input` in chunks of `sizes`, the decoder never keeps more than `bound`
/// bytes buffered while waiting, and stays below its own `read_limits().max_frame_len`, so the
/// engine's frame-too-large safety net never preempts the codec's own handling.
pub(super) fn assert_memory_bounded<D: Decoder>(
    make: impl Fn() -> D,
    input: &[u8],
    sizes: &[usize],
    bound: usize,
) -> Result<(), TestCaseError> {
    let engine_limit = make().read_limits().max_frame_len;
    let fed = feed(make(), chunked(input, sizes));
    prop_assert!(
        fed.max_held <= bound,
        "held {} bytes, bound {}",
        fed.max_held,
        bound
    );
    prop_assert!(
        fed.max_held < engine_limit,
        "held {} bytes, engine limit {}",
        fed.max_held,
        engine_limit
    );
    Ok(())
}
