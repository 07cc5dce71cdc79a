//! The engine's read side: one bounded run of reads ([`Framer::read_step`]), the room each
//! read is offered, what arrived bytes and read signals do to the state, and the copy-out of
//! small records.

use std::io;

use bytes::BytesMut;

use super::{Framer, MAX_RETRIES_IN_A_ROW, ReadSpace, State};
use crate::{Decoder, Error, ReadErrorAction};

impl<D: Decoder> Framer<D> {
    /// Performs reads until bytes arrive, input ends, the reader would block, a read error
    /// must be delivered, or `budget` read attempts are spent (`Yield`).
    pub(super) fn read_step<R>(&mut self, read: &mut R, budget: &mut usize) -> ReadOutcome<D::Item, D::Error>
    where
        R: FnMut(&mut ReadSpace<'_>) -> io::Result<()>,
    {
        loop {
            if *budget == 0 {
                return ReadOutcome::Yield;
            }
            *budget -= 1;
            if self.buf.is_empty() && self.record_spare.capacity() > 0 {
                // Back to the read buffer set aside by `copy_out_small_record`.
                self.buf = std::mem::take(&mut self.record_spare);
            }
            let offer = self.read_offer();
            let mut read_buf =
                ReadSpace::with_notice_slot(&mut self.buf, offer, &mut self.segment_notice);
            let result = read(&mut read_buf);
            let filled = read_buf.filled();
            let segment_end = read_buf.is_segment_end();
            if filled > 0 {
                // Bytes that arrived count even if the closure then failed: a real error comes
                // back on the next read.
                self.retries_in_a_row = 0;
                return self.bytes_arrived(filled, offer);
            }
            match result {
                Ok(()) => {
                    // The rare 0-byte read: end of input, unless the reader signalled.
                    if segment_end || self.segment_notice.is_some() {
                        return self.signalled(segment_end);
                    }
                    self.state = State::Draining;
                    return ReadOutcome::Progress;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadOutcome::Pending,
                Err(e) => match self.decoder.read_error(&e) {
                    ReadErrorAction::Retry if self.retries_in_a_row < MAX_RETRIES_IN_A_ROW => {
                        self.retries_in_a_row += 1;
                        if let Some(loss) = self.take_loss() {
                            return ReadOutcome::Deliver(Err(loss));
                        }
                    }
                    ReadErrorAction::EndOfInput => {
                        self.state = State::Draining;
                        return ReadOutcome::Progress;
                    }
                    _ => {
                        self.state = State::Done;
                        return ReadOutcome::Deliver(Err(Error::Io(e)));
                    }
                },
            }
        }
    }

    /// A read filled nothing and signalled a segment end and/or a notice (now in
    /// `segment_notice`) instead.
    #[inline(never)]
    fn signalled(&mut self, segment_end: bool) -> ReadOutcome<D::Item, D::Error> {
        if segment_end {
            // The notice waits in `segment_notice` until the drain is over.
            self.state = State::Draining;
            self.segment_end = true;
            return ReadOutcome::Progress;
        }
        match self.segment_notice.take() {
            Some(notice) => ReadOutcome::Deliver(Err(Error::Follow(notice))),
            // The caller checked that something was signalled.
            None => ReadOutcome::Progress,
        }
    }

    /// How many bytes to offer the next read.
    fn read_offer(&self) -> usize {
        if self.limits.one_record_per_read {
            return self.limits.min_read_capacity;
        }
        // Stop reading far past a frame that is already too large, but never offer less than
        // the decoder's minimum: a record device would fail the read.
        let until_too_large = self
            .limits
            .max_frame_len
            .saturating_add(1)
            .saturating_sub(self.buf.len());
        self.read_size
            .min(until_too_large)
            .max(self.limits.min_read_capacity)
    }

    fn bytes_arrived(&mut self, filled: usize, offer: usize) -> ReadOutcome<D::Item, D::Error> {
        if self.limits.one_record_per_read {
            if filled > self.limits.max_frame_len {
                let len = filled;
                self.buf.clear();
                return ReadOutcome::Deliver(Err(Error::FrameTooLarge {
                    limit: self.limits.max_frame_len,
                    len,
                    ended: false,
                }));
            }
            self.copy_out_small_record(filled);
        } else if filled == offer && offer == self.read_size {
            self.read_size = (self.read_size * 2).min(self.max_read_size);
        }
        self.decode_pending = true;
        ReadOutcome::Progress
    }

    /// A record much smaller than the room offered for it is copied into a buffer of its own,
    /// and the read buffer is kept aside, unshared, for the next read. Otherwise every record
    /// the caller keeps (a 100-byte kmsg record, a small packet) would pin a whole read buffer
    /// (8 KiB for kmsg, 64 KiB for a TUN), and every read would allocate a new one.
    fn copy_out_small_record(&mut self, filled: usize) {
        if filled.saturating_mul(4) > self.buf.capacity() {
            return;
        }
        // Built inline (`with_capacity` and `extend_from_slice` are `#[inline]`, `From<&[u8]>`
        // is not): a buffer returned from a call is read back right after the callee wrote it,
        // a store-forwarding stall on every record.
        let mut record = BytesMut::with_capacity(self.buf.len());
        record.extend_from_slice(&self.buf);
        // Cleared once moved out: clearing it in place and then moving it would read its
        // length back right after writing it, a store-forwarding stall on every record.
        let mut read_buf = std::mem::replace(&mut self.buf, record);
        read_buf.clear();
        self.record_spare = read_buf;
    }
}

/// What one [`Framer::read_step`] came to.
pub(super) enum ReadOutcome<T, E> {
    /// The state moved on: bytes arrived (`decode_pending`), or the input or a segment ended
    /// (`Draining`). Not "bytes": end of input is progress too. The caller runs its state
    /// machine again.
    Progress,
    /// The reader would block.
    Pending,
    /// This call's read budget is spent.
    Yield,
    Deliver(Result<T, Error<E>>),
}
