//! The batch fast path of [`LengthDelimitedDecoder`]: every whole frame of the buffer found by
//! hopping from header to header, and split off as one run.

use bytes::{Bytes, BytesMut};

use super::LengthDelimitedDecoder;
use crate::Frames;

impl LengthDelimitedDecoder {
    /// [`Decoder::decode_batch`](crate::Decoder::decode_batch) for length-delimited frames: the
    /// whole frames up to the first header that is invalid or over the limit (which `decode`
    /// then reports) or the first partial frame.
    pub(super) fn length_delimited_batch(&mut self, src: &mut BytesMut) -> Option<Frames<Bytes>> {
        if self.skip_remaining > 0 {
            return None;
        }
        let head_len = self.head_len();
        let skip_len = self.skip_len();
        let mut bounds = Vec::new();
        let mut at = 0;
        // The same checks as `decode`, in the same order; the first frame that is not whole
        // and valid ends the run, and `decode` reports or waits for it.
        while src.len() - at >= head_len {
            let Some(length_field) = self.length_field(&src[at..]) else {
                break;
            };
            let Some(payload_len) = self.payload_len(length_field) else {
                break;
            };
            let Some(payload_len) = usize::try_from(payload_len)
                .ok()
                .filter(|&len| len <= self.max_frame_len)
            else {
                break;
            };
            let Some(frame_end) = at
                .checked_add(skip_len)
                .and_then(|payload| payload.checked_add(payload_len))
                .filter(|&end| end <= src.len())
            else {
                break;
            };
            bounds.push([at + skip_len, frame_end]);
            at = frame_end;
        }
        if bounds.is_empty() {
            return None;
        }
        let run = src.split_to(at).freeze();
        Some(Frames::from_run_with(run, bounds, std::convert::identity))
    }
}
