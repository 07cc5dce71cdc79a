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
        let header_len = self.length_field_len;
        let mut bounds = Vec::new();
        let mut at = 0;
        while let Some(length_field) = self.length_field(&src[at..]) {
            let payload_len = if self.length_includes_header {
                match length_field.checked_sub(header_len as u64) {
                    Some(payload_len) => payload_len,
                    None => break,
                }
            } else {
                length_field
            };
            let Some(payload_len) = usize::try_from(payload_len)
                .ok()
                .filter(|&len| len <= self.max_frame_len)
            else {
                break;
            };
            let Some(frame_end) = at
                .checked_add(header_len)
                .and_then(|payload| payload.checked_add(payload_len))
                .filter(|&end| end <= src.len())
            else {
                break;
            };
            bounds.push([at + header_len, frame_end]);
            at = frame_end;
        }
        if bounds.is_empty() {
            return None;
        }
        let run = src.split_to(at).freeze();
        Some(Frames::from_run_with(run, bounds, std::convert::identity))
    }
}
