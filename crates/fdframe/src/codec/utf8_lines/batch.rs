//! The batch fast path of [`Utf8LinesDecoder`]: the lines fast path, with the whole run checked
//! for UTF-8 at once.

use bytes::BytesMut;

use super::Utf8LinesDecoder;
use crate::Frames;

impl Utf8LinesDecoder {
    /// [`Decoder::decode_batch`](crate::Decoder::decode_batch) for UTF-8 lines: the whole lines
    /// up to the first one that is not UTF-8 (which `decode` then reports).
    pub(super) fn utf8_lines_batch(&mut self, src: &mut BytesMut) -> Option<Frames<String>> {
        let mut scan = self.lines.scan_lines(src)?;
        if let Err(e) = std::str::from_utf8(&src[..scan.end]) {
            // `\n` and `\r` are ASCII, so a line is UTF-8 exactly when it ends before the first
            // invalid byte of the run.
            let valid_up_to = e.valid_up_to();
            let valid = scan.bounds.partition_point(|&[_, end]| end <= valid_up_to);
            if valid < scan.bounds.len() {
                scan.end = scan.bounds[valid][0];
                scan.bounds.truncate(valid);
                scan.rest_searched = false;
            }
        }
        if scan.bounds.is_empty() {
            return None;
        }
        let run = self.lines.take_run(src, scan.end, scan.rest_searched);
        // Checked above; the lossy conversion only copies.
        Some(Frames::from_run_with(run, scan.bounds, |line| {
            String::from_utf8_lossy(&line).into_owned()
        }))
    }
}
