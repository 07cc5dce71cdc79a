//! The batch fast path of [`Utf8LinesDecoder`]: the lines fast path, with the whole run checked
//! for UTF-8 at once.

use bytes::BytesMut;

use super::Utf8LinesDecoder;
use crate::Frames;
use crate::codec::lines::batch::Quick;

impl Utf8LinesDecoder {
    /// [`Decoder::decode_batch`](crate::Decoder::decode_batch) for UTF-8 lines: the whole lines
    /// up to the first one that is not UTF-8 (which `decode` then reports).
    pub(super) fn utf8_lines_batch(&mut self, src: &mut BytesMut) -> Option<Frames<String>> {
        if let Quick::Run(end) = self.lines.quick_run(src)?
            && std::str::from_utf8(&src[..end]).is_ok()
        {
            let run = self.lines.take_run(src, end, true);
            return Some(Frames::from_lines(run, self.lines.strips_cr(), to_string));
        }
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
        Some(Frames::from_run_with(run, scan.bounds, to_string))
    }
}

/// A line of a run checked to be UTF-8: the lossy conversion only copies.
fn to_string(line: bytes::Bytes) -> String {
    String::from_utf8_lossy(&line).into_owned()
}
