//! The batch fast path of [`FixedSizeDecoder`]: all whole records of the buffer split off as one
//! run.

use bytes::{Bytes, BytesMut};

use super::FixedSizeDecoder;
use crate::Frames;

impl FixedSizeDecoder {
    /// [`Decoder::decode_batch`](crate::Decoder::decode_batch) for fixed-size records.
    pub(super) fn fixed_batch(&mut self, src: &mut BytesMut) -> Option<Frames<Bytes>> {
        let records = src.len() / self.record_len;
        if records == 0 {
            return None;
        }
        let bounds = (0..records)
            .map(|i| [i * self.record_len, (i + 1) * self.record_len])
            .collect();
        let run = src.split_to(records * self.record_len).freeze();
        Some(Frames::from_run_with(run, bounds, std::convert::identity))
    }
}
