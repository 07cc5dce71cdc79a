//! Raw bytes as they arrive: [`ChunksDecoder`].

use std::convert::Infallible;

use bytes::{Bytes, BytesMut};

use crate::{Decoder, ReadLimits};

/// A decoder that yields whatever bytes are buffered, up to
/// [`max_chunk_len`](Self::max_chunk_len) at a time (default
/// [64 KiB](Self::DEFAULT_MAX_CHUNK_LEN)), as [`Bytes`] that share the read buffer.
///
/// This is the framing for byte streams with no message boundaries of their own (a serial
/// console, a pty, a pipe copied through). Chunk boundaries follow the reads, so they carry no
/// meaning: the same input read differently gives different chunks with the same bytes.
/// Decoding never fails, never returns `Ok(None)` while bytes are buffered, and never leaves
/// anything for the engine to report as truncated.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::codec::ChunksDecoder;
///
/// let mut decoder = ChunksDecoder::new().max_chunk_len(4);
/// let mut buf = BytesMut::from(&b"abcdef"[..]);
///
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "abcd");
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "ef");
/// assert_eq!(decoder.decode(&mut buf).unwrap(), None);
/// ```
#[derive(Clone, Debug)]
pub struct ChunksDecoder {
    max_chunk_len: usize,
}

impl ChunksDecoder {
    /// The default [`max_chunk_len`](Self::max_chunk_len): 64 KiB.
    pub const DEFAULT_MAX_CHUNK_LEN: usize = 64 * 1024;

    /// A decoder for chunks of up to [64 KiB](Self::DEFAULT_MAX_CHUNK_LEN).
    pub const fn new() -> Self {
        ChunksDecoder {
            max_chunk_len: Self::DEFAULT_MAX_CHUNK_LEN,
        }
    }

    /// Sets the most bytes one chunk may have (at least 1: `0` is taken as 1). More buffered
    /// bytes are split into several chunks.
    #[must_use]
    pub const fn max_chunk_len(mut self, bytes: usize) -> Self {
        self.max_chunk_len = if bytes == 0 { 1 } else { bytes };
        self
    }
}

impl Default for ChunksDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder for ChunksDecoder {
    type Item = Bytes;
    type Error = Infallible;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Infallible> {
        if src.is_empty() {
            return Ok(None);
        }
        let len = src.len().min(self.max_chunk_len);
        Ok(Some(src.split_to(len).freeze()))
    }

    /// A stream whose frames are at most one chunk; the decoder holds nothing while waiting.
    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream().max_frame_len(self.max_chunk_len)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codec::test_support::{assert_memory_bounded, chunk_sizes, chunked, feed};

    #[test]
    fn each_read_becomes_a_chunk() {
        let fed = feed(ChunksDecoder::new(), [&b"ab"[..], b"c", b"defg"]);
        assert_eq!(fed.items(), ["ab", "c", "defg"]);
    }

    #[test]
    fn large_read_is_split_at_the_maximum() {
        let fed = feed(ChunksDecoder::new().max_chunk_len(3), [&b"abcdefgh"[..]]);
        assert_eq!(fed.items(), ["abc", "def", "gh"]);
    }

    #[test]
    fn zero_max_chunk_len_is_taken_as_one() {
        let fed = feed(ChunksDecoder::new().max_chunk_len(0), [&b"ab"[..]]);
        assert_eq!(fed.items(), ["a", "b"]);
    }

    #[test]
    fn default_chunks_are_up_to_64_kib() {
        let input = vec![b'x'; 64 * 1024 + 1];
        let chunks = feed(ChunksDecoder::new(), [&input]).items();
        let lens: Vec<_> = chunks.iter().map(Bytes::len).collect();
        assert_eq!(lens, [64 * 1024, 1]);
        assert_eq!(ChunksDecoder::new().read_limits().max_frame_len, 64 * 1024);
    }

    proptest! {
        // Chunks follow the reads by design, so instead of "chunking does not matter" the
        // property is: the bytes are all there, in order, in non-empty chunks within the limit.
        #[test]
        fn chunks_hold_every_byte_in_order_within_the_limit(
            input in prop::collection::vec(any::<u8>(), 0..256),
            max_chunk_len in 1usize..20,
            sizes in chunk_sizes(),
        ) {
            let fed = feed(ChunksDecoder::new().max_chunk_len(max_chunk_len), chunked(&input, &sizes));
            prop_assert!(fed.leftover.is_empty());
            let chunks = fed.items();
            prop_assert!(chunks.iter().all(|c| !c.is_empty() && c.len() <= max_chunk_len));
            prop_assert_eq!(chunks.concat(), input);
        }

        #[test]
        fn input_fed_whole_gives_full_chunks(
            input in prop::collection::vec(any::<u8>(), 0..256),
            max_chunk_len in 1usize..20,
        ) {
            let fed = feed(ChunksDecoder::new().max_chunk_len(max_chunk_len), [&input]);
            let expected: Vec<_> = input.chunks(max_chunk_len).collect();
            prop_assert_eq!(fed.items(), expected);
        }

        #[test]
        fn random_bytes_leave_nothing_buffered(
            input in prop::collection::vec(any::<u8>(), 0..512),
            max_chunk_len in 1usize..64,
            sizes in chunk_sizes(),
        ) {
            let make = || ChunksDecoder::new().max_chunk_len(max_chunk_len);
            assert_memory_bounded(make, &input, &sizes, 0)?;
        }
    }
}
