//! The batch fast path of [`LinesDecoder`]: every whole line of the buffer found in one
//! `memchr` pass and split off as one run, instead of one `decode` call and one `split_to` per
//! line.

use bytes::{Bytes, BytesMut};

use super::LinesDecoder;
use crate::Frames;

/// Whole lines found at the front of a buffer, not yet split off.
pub(in crate::codec) struct Scan {
    /// Each line's bytes (without `\n`, and without a stripped `\r`), in buffer offsets.
    pub(in crate::codec) bounds: Vec<[usize; 2]>,
    /// Where the run of whole lines ends (just past the last `\n` taken).
    pub(in crate::codec) end: usize,
    /// The bytes after `end` were all searched and hold no `\n`.
    pub(in crate::codec) rest_searched: bool,
}

/// What the quick look at a buffer found.
pub(in crate::codec) enum Quick {
    /// No `\n` at all.
    NoNewline,
    /// `..end` is a run of whole lines (it ends just past the last `\n`), none of which can be
    /// over the limit: the run itself is not longer than the limit plus its last `\n`.
    Run(usize),
    /// The run is longer than the limit: each line must be checked ([`LinesDecoder::scan_lines`]).
    Long,
}

impl LinesDecoder {
    /// Finds the last `\n` (one backwards `memchr`, nothing per line) and says whether the run
    /// of whole lines before it needs a line-by-line look. With the default limit (1 MiB) and
    /// reads of at most 256 KiB it never does.
    pub(in crate::codec) fn quick_run(&self, src: &[u8]) -> Option<Quick> {
        if self.discarding {
            return None;
        }
        let from = self.next_index.min(src.len());
        Some(match memchr::memrchr(b'\n', &src[from..]) {
            None => Quick::NoNewline,
            // Each line of `..end` has at most `end - 1` bytes.
            Some(last) if from + last <= self.max_line_len => Quick::Run(from + last + 1),
            Some(_) => Quick::Long,
        })
    }

    /// Finds the whole lines at the front of `src` that `decode` would return one by one,
    /// stopping before an over-long line (whose error `decode` reports). `None` while an
    /// over-long line is being skipped: `decode` does that.
    pub(in crate::codec) fn scan_lines(&self, src: &[u8]) -> Option<Scan> {
        if self.discarding {
            return None;
        }
        // The first line's first `next_index` bytes were searched already and hold no `\n`.
        let from = self.next_index.min(src.len());
        let mut bounds = Vec::with_capacity(64);
        let mut start = 0;
        let mut rest_searched = true;
        for offset in memchr::memchr_iter(b'\n', &src[from..]) {
            let newline = from + offset;
            let mut end = newline;
            if self.strip_cr && end > start && src[end - 1] == b'\r' {
                end -= 1;
            }
            if end - start > self.max_line_len {
                rest_searched = false;
                break;
            }
            bounds.push([start, end]);
            start = newline + 1;
        }
        Some(Scan {
            bounds,
            end: start,
            rest_searched,
        })
    }

    /// Whether a `\r` ending a line is removed.
    pub(in crate::codec) fn strips_cr(&self) -> bool {
        self.strip_cr
    }

    /// Splits the run `..end` off `src` and remembers how far the rest was searched.
    pub(in crate::codec) fn take_run(
        &mut self,
        src: &mut BytesMut,
        end: usize,
        rest_searched: bool,
    ) -> Bytes {
        let run = src.split_to(end).freeze();
        self.next_index = if rest_searched { src.len() } else { 0 };
        run
    }

    /// [`Decoder::decode_batch`](crate::Decoder::decode_batch) for lines.
    pub(super) fn lines_batch(&mut self, src: &mut BytesMut) -> Option<Frames<Bytes>> {
        match self.quick_run(src)? {
            Quick::NoNewline => {
                // `decode` need not search these bytes again.
                self.next_index = src.len();
                return None;
            }
            Quick::Run(end) => {
                let run = self.take_run(src, end, true);
                return Some(Frames::from_lines(
                    run,
                    self.strip_cr,
                    std::convert::identity,
                ));
            }
            Quick::Long => {}
        }
        let scan = self.scan_lines(src)?;
        if scan.bounds.is_empty() {
            if scan.rest_searched {
                // No `\n` anywhere: `decode` need not search these bytes again.
                self.next_index = src.len();
            }
            return None;
        }
        let run = self.take_run(src, scan.end, scan.rest_searched);
        Some(Frames::from_run_with(
            run,
            scan.bounds,
            std::convert::identity,
        ))
    }
}
