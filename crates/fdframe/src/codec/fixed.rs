//! Records of one fixed size: [`FixedSizeDecoder`].

use std::convert::Infallible;
use std::fmt;

use bytes::{Bytes, BytesMut};

use crate::error::ByteCount;
use crate::{Decoder, ReadLimits};

/// A decoder that cuts a byte stream into records of exactly `record_len` bytes, yielded as
/// [`Bytes`] that share the read buffer.
///
/// Any bytes form a record, so decoding never fails. Every read is offered room for a whole
/// record ([`ReadLimits::min_read_capacity`]), which record devices such as eventfd and timerfd
/// (8-byte counters) or evdev (`struct input_event`) require: they fail with `EINVAL` when
/// offered less. That room is memory held for the whole stream, so a record may have at most
/// [`MAX_RECORD_LEN`](Self::MAX_RECORD_LEN) bytes (8 MiB, as much as a
/// [`LengthDelimitedDecoder`](crate::codec::LengthDelimitedDecoder) payload by default).
///
/// # End of input
///
/// Input that ends partway through a record leaves those bytes in the buffer, where the engine
/// reports them as [`Error::Truncated`](crate::Error::Truncated): a short record is never
/// passed off as a whole one.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::codec::FixedSizeDecoder;
///
/// let mut decoder = FixedSizeDecoder::new(4)?;
/// let mut buf = BytesMut::from(&b"abcdefghij"[..]);
///
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "abcd");
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), "efgh");
/// assert_eq!(decoder.decode_eof(&mut buf).unwrap(), None);
/// assert_eq!(buf, "ij"); // reported by the engine as truncated
/// # Ok::<(), fdframe::codec::RecordLenError>(())
/// ```
#[derive(Clone, Debug)]
pub struct FixedSizeDecoder {
    record_len: usize,
}

impl FixedSizeDecoder {
    /// The largest record size [`new`](Self::new) accepts: 8 MiB.
    pub const MAX_RECORD_LEN: usize = 8 * 1024 * 1024;

    /// A decoder for records of `record_len` bytes.
    ///
    /// # Errors
    ///
    /// [`RecordLenError::Zero`] if `record_len` is 0: records of no bytes would be yielded
    /// forever without consuming anything. [`RecordLenError::TooLong`] if it is over
    /// [`MAX_RECORD_LEN`](Self::MAX_RECORD_LEN): every read reserves room for a whole record, and
    /// a size taken from a user (`fixed:999999999999`) must be refused here, not abort the
    /// process when the first read allocates it.
    pub const fn new(record_len: usize) -> Result<Self, RecordLenError> {
        if record_len == 0 {
            return Err(RecordLenError::Zero);
        }
        if record_len > Self::MAX_RECORD_LEN {
            return Err(RecordLenError::TooLong {
                record_len,
                max: Self::MAX_RECORD_LEN,
            });
        }
        Ok(FixedSizeDecoder { record_len })
    }

    /// The size of every record, in bytes.
    pub const fn record_len(&self) -> usize {
        self.record_len
    }
}

impl Decoder for FixedSizeDecoder {
    type Item = Bytes;
    type Error = Infallible;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Infallible> {
        if src.len() < self.record_len {
            src.reserve(self.record_len - src.len());
            return Ok(None);
        }
        Ok(Some(src.split_to(self.record_len).freeze()))
    }

    /// A stream whose reads always have room for one record. The frame limit stays the
    /// stream default (at least [`MAX_RECORD_LEN`](FixedSizeDecoder::MAX_RECORD_LEN), so never
    /// below a record): the engine sizes reads to stop just past a frame that is too large, and
    /// a limit of one record would cut every read to one record. Memory stays bounded anyway:
    /// every whole record is taken, so at most one partial record waits for more bytes.
    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream().min_read_capacity(self.record_len)
    }

    /// The fast path: all whole frames of a read as one run (see `fixed/batch.rs`).
    fn decode_batch(&mut self, src: &mut BytesMut) -> Option<crate::Frames<Bytes>> {
        self.fixed_batch(src)
    }
}

/// The error from [`FixedSizeDecoder::new`]: a record size it cannot take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordLenError {
    /// Records of zero bytes.
    Zero,
    /// Records longer than [`FixedSizeDecoder::MAX_RECORD_LEN`].
    TooLong {
        /// The record size asked for, in bytes.
        record_len: usize,
        /// The largest record size, in bytes.
        max: usize,
    },
}

impl fmt::Display for RecordLenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordLenError::Zero => f.write_str("fixed-size records must be at least 1 byte long"),
            RecordLenError::TooLong { record_len, max } => write!(
                f,
                "fixed-size records of {} are longer than the limit of {}",
                ByteCount(*record_len),
                ByteCount(*max)
            ),
        }
    }
}

impl std::error::Error for RecordLenError {}

mod batch;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::codec::test_support::{
        assert_chunking_does_not_matter, assert_memory_bounded, chunk_sizes, chunked, feed,
    };

    fn fixed(record_len: usize) -> FixedSizeDecoder {
        FixedSizeDecoder::new(record_len).expect("record_len is not zero")
    }

    #[test]
    fn reads_are_not_cut_to_one_record() {
        // 16-byte records from a source that has plenty: each read is offered the engine's
        // read size, not 17 bytes.
        let mut framer = crate::Framer::new(fixed(16));
        let mut offers = Vec::new();
        let step = framer.poll_next_with(|buf| {
            offers.push(buf.capacity());
            buf.put_slice(&[7u8; 64]);
            Ok(())
        });
        assert!(matches!(step, std::task::Poll::Ready(Some(Ok(ref r))) if r.len() == 16));
        assert_eq!(
            offers,
            [crate::Framer::<FixedSizeDecoder>::DEFAULT_INITIAL_READ_SIZE]
        );
    }

    #[test]
    fn input_is_cut_into_exact_records() {
        let fed = feed(fixed(3), chunked(b"abcdefghi", &[2]));
        assert_eq!(fed.items(), ["abc", "def", "ghi"]);
    }

    #[test]
    fn partial_record_at_eof_is_left_in_the_buffer() {
        let fed = feed(fixed(4), [&b"abcdef"[..]]);
        assert_eq!(fed.events, [Ok(Bytes::from_static(b"abcd"))]);
        assert_eq!(fed.leftover, b"ef");
    }

    #[test]
    fn zero_record_len_is_refused() {
        let err = FixedSizeDecoder::new(0).unwrap_err();
        assert_eq!(err, RecordLenError::Zero);
        assert_eq!(
            err.to_string(),
            "fixed-size records must be at least 1 byte long"
        );
    }

    #[test]
    fn record_len_over_the_maximum_is_refused_without_allocating() {
        let max = FixedSizeDecoder::MAX_RECORD_LEN;
        assert_eq!(fixed(max).record_len(), max);
        for huge in [max + 1, 999_999_999_999, usize::MAX / 2, usize::MAX] {
            assert_eq!(
                FixedSizeDecoder::new(huge).unwrap_err(),
                RecordLenError::TooLong {
                    record_len: huge,
                    max
                },
                "{huge}"
            );
        }
        assert_eq!(
            FixedSizeDecoder::new(max + 1).unwrap_err().to_string(),
            "fixed-size records of 8388609 bytes are longer than the limit of 8388608 bytes"
        );
    }

    #[test]
    fn the_largest_record_size_decodes() {
        let max = FixedSizeDecoder::MAX_RECORD_LEN;
        let input = vec![7u8; max + 3];
        let fed = feed(fixed(max), chunked(&input, &[64 * 1024]));
        assert_eq!(fed.leftover.len(), 3);
        let records = fed.items();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].len(), max);
    }

    #[test]
    fn every_read_has_room_for_a_whole_record() {
        let limits = fixed(24).read_limits();
        assert_eq!(limits.min_read_capacity, 24);
        assert!(
            limits.max_frame_len >= 24,
            "a limit below one record would cut reads"
        );
        assert!(!limits.one_record_per_read);
        assert_eq!(fixed(24).record_len(), 24);
    }

    proptest! {
        #[test]
        fn chunking_does_not_change_records(
            input in prop::collection::vec(any::<u8>(), 0..64),
            record_len in 1usize..10,
            sizes in chunk_sizes(),
        ) {
            assert_chunking_does_not_matter(|| fixed(record_len), &input, &sizes)?;
        }

        #[test]
        fn records_are_the_exact_chunks_and_the_rest_is_left(
            input in prop::collection::vec(any::<u8>(), 0..64),
            record_len in 1usize..10,
            sizes in chunk_sizes(),
        ) {
            let fed = feed(fixed(record_len), chunked(&input, &sizes));
            let records = input.chunks_exact(record_len);
            prop_assert_eq!(&fed.leftover, records.remainder());
            prop_assert_eq!(fed.items(), records.collect::<Vec<_>>());
        }

        #[test]
        fn any_record_len_is_a_decoder_or_an_error_never_a_panic(record_len in any::<usize>()) {
            match FixedSizeDecoder::new(record_len) {
                Ok(decoder) => {
                    prop_assert!((1..=FixedSizeDecoder::MAX_RECORD_LEN).contains(&record_len));
                    prop_assert_eq!(decoder.read_limits().min_read_capacity, record_len);
                }
                Err(RecordLenError::Zero) => prop_assert_eq!(record_len, 0),
                Err(RecordLenError::TooLong { .. }) => {
                    prop_assert!(record_len > FixedSizeDecoder::MAX_RECORD_LEN);
                }
            }
        }

        #[test]
        fn random_bytes_keep_memory_bounded(
            input in prop::collection::vec(any::<u8>(), 0..512),
            record_len in 1usize..64,
            sizes in chunk_sizes(),
        ) {
            assert_memory_bounded(|| fixed(record_len), &input, &sizes, record_len - 1)?;
        }
    }
}
