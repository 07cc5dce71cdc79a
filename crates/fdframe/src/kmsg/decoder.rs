use std::collections::VecDeque;
use std::io;

use bytes::BytesMut;
use rustix::io::Errno;

use super::{KmsgError, KmsgRecord, parse};
use crate::{Decoder, Loss, LossCause, ReadErrorAction, ReadLimits};

/// Decodes `/dev/kmsg` records, one per `read(2)`, and accounts for lost records from their
/// sequence numbers.
///
/// # Reads
///
/// [`read_limits`](Decoder::read_limits) asks for
/// [`ReadLimits::one_record_per_read(8192)`](ReadLimits::one_record_per_read): every read is
/// offered 8193 bytes. A formatted record is at most 2 KiB on current kernels
/// (`PRINTK_MESSAGE_MAX`) and was at most 8 KiB before (`CONSOLE_EXT_LOG_MAX`). The kernel fails
/// a read with `EINVAL` when the caller's buffer is smaller than the record — *after* it has
/// moved its position past the record, so that record is gone for this reader and no retry with
/// a larger buffer can bring it back. The room must be there before the first read;
/// the spare byte makes an impossibly long record show up as too large rather than cut short.
///
/// # Read errors
///
/// | errno    | meaning on `/dev/kmsg`                                         | [`ReadErrorAction`] |
/// |----------|----------------------------------------------------------------|---------------------|
/// | `EPIPE`  | records were overwritten before we read them; the position has moved to the oldest record left | `Retry` |
/// | `EINVAL` | the read buffer was smaller than the record, which is now lost (cannot happen with the limits above) | `Fail` |
/// | others   | —                                                              | `Fail`              |
///
/// # Loss accounting
///
/// Sequence numbers are the truth: each record is numbered one more than the one before it, so
/// when a record's number is beyond the one expected, [`take_loss`](Decoder::take_loss) returns
/// a [`Loss::sequence_gap`] with the exact count and range, and the engine delivers it before
/// that record. An `EPIPE` is the kernel saying the same thing early; it adds nothing to the
/// count the next record's number gives, so one overrun is one [`Loss`], not two. Only when
/// there is no number to compare with — an `EPIPE` before the first record, with no saved
/// cursor — is the loss reported at once, as [`Loss::unknown`], and only once.
///
/// A decoder made with [`resume_after`](KmsgDecoder::resume_after) expects the record after a
/// saved cursor; a gap before the first record it sees has cause
/// [`LossCause::KmsgResumeGap`]. One made with [`seen_through`](KmsgDecoder::seen_through)
/// expects the record after the newest one at its start, and counts any gap as an overrun. Sequence numbers that go backwards (or repeat) reset the
/// expectation without a loss: the records before the new number were already seen. That is
/// also what happens when resuming with the device at its oldest record: records up to the
/// cursor come again, and the caller skips those with `seq() <= cursor`.
///
/// A malformed record whose sequence number can still be read counts as seen, so it is
/// reported once, as a [`KmsgError`], and not also as lost. One whose number cannot be read,
/// or one the engine skipped as too large (it never reaches the decoder), shows up as a gap of
/// one record as well.
///
/// ```
/// use std::io;
///
/// use bytes::BytesMut;
/// use fdframe::kmsg::KmsgDecoder;
/// use fdframe::{Decoder, Loss, LossCause, ReadErrorAction};
///
/// let mut decoder = KmsgDecoder::new();
/// let mut read = |bytes: &[u8]| BytesMut::from(bytes); // one read(2), as the engine hands it over
///
/// let record = decoder.decode(&mut read(b"6,100,5000,-;first\n")).unwrap().unwrap();
/// assert_eq!(record.message(), "first");
/// assert_eq!(decoder.take_loss(), None);
///
/// // The ring buffer wrapped: EPIPE, and the next record is 112.
/// let epipe = io::Error::from_raw_os_error(32);
/// assert_eq!(decoder.read_error(&epipe), ReadErrorAction::Retry);
/// assert_eq!(decoder.take_loss(), None); // nothing to count yet
/// let record = decoder.decode(&mut read(b"6,112,9000,-;after the gap\n")).unwrap().unwrap();
/// assert_eq!(decoder.take_loss(), Some(Loss::sequence_gap(LossCause::KmsgOverrun, 101, 112)));
/// assert_eq!(decoder.take_loss(), None);
/// assert_eq!(record.seq(), 112);
/// assert_eq!(decoder.last_seq(), Some(112));
/// ```
#[derive(Clone, Debug, Default)]
pub struct KmsgDecoder {
    /// The sequence number of the last record seen, if any.
    last_seq: Option<u64>,
    /// The next gap comes from a saved cursor, not from an overrun while reading.
    resuming: bool,
    /// An `EPIPE` was reported before there was any sequence number to count from.
    unknown_loss_reported: bool,
    /// `EPIPE`s seen so far.
    overruns: u64,
    /// Losses noticed and not yet taken; the engine takes them after every call, so this
    /// holds at most one unless a caller drives the decoder without asking.
    pending_losses: VecDeque<Loss>,
}

impl KmsgDecoder {
    /// The largest record this decoder accepts: 8 KiB, the most any kernel has formatted.
    pub const MAX_RECORD_LEN: usize = 8192;

    /// A decoder for a freshly opened `/dev/kmsg`, with no expectation about the first record.
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder that continues after a saved cursor: the last sequence number a previous reader
    /// handled.
    ///
    /// The first record it sees should be `seq + 1`; if it is later, the gap is reported with
    /// [`LossCause::KmsgResumeGap`]. Records at or before `seq` are decoded as usual (see the
    /// type's documentation); skipping them is the caller's choice.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use fdframe::kmsg::KmsgDecoder;
    /// use fdframe::{Decoder, Loss, LossCause};
    ///
    /// let mut decoder = KmsgDecoder::resume_after(41);
    /// decoder.decode(&mut BytesMut::from(&b"6,50,1,-;x\n"[..])).unwrap();
    /// assert_eq!(decoder.take_loss(), Some(Loss::sequence_gap(LossCause::KmsgResumeGap, 42, 50)));
    /// ```
    pub fn resume_after(seq: u64) -> Self {
        KmsgDecoder {
            last_seq: Some(seq),
            resuming: true,
            ..Self::default()
        }
    }

    /// A decoder for a reader that counts every record up to and including `seq` as already
    /// handled, and every later one as its own: the start of a "from now on" reader that found
    /// `seq` to be the newest record, then reads from the oldest and skips records up to `seq`.
    ///
    /// Unlike [`KmsgDecoder::new`], it always has a number to count from, so a loss is never
    /// [`Loss::unknown`]: records after `seq` overwritten before they were read, even before
    /// the first read, are a [`LossCause::KmsgOverrun`] with the exact count. Unlike
    /// [`resume_after`](KmsgDecoder::resume_after), a gap right at the start is an overrun too
    /// (the records were lost while this reader ran), not a [`LossCause::KmsgResumeGap`].
    /// Records at or before `seq` are decoded as usual; skipping them is the caller's choice.
    ///
    /// ```
    /// use std::io;
    ///
    /// use bytes::BytesMut;
    /// use fdframe::kmsg::KmsgDecoder;
    /// use fdframe::{Decoder, Loss, LossCause};
    ///
    /// // Record 41 was the newest when the reader started; then the ring buffer wrapped.
    /// let mut decoder = KmsgDecoder::seen_through(41);
    /// decoder.read_error(&io::Error::from_raw_os_error(32)); // EPIPE on the first read
    /// decoder.decode(&mut BytesMut::from(&b"6,50,1,-;x\n"[..])).unwrap();
    /// assert_eq!(decoder.take_loss(), Some(Loss::sequence_gap(LossCause::KmsgOverrun, 42, 50)));
    /// ```
    pub fn seen_through(seq: u64) -> Self {
        KmsgDecoder {
            last_seq: Some(seq),
            ..Self::default()
        }
    }

    /// The sequence number of the last record decoded (or of the cursor resumed after): the
    /// value to save for [`resume_after`](KmsgDecoder::resume_after).
    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// How many times the device has returned `EPIPE` (records overwritten before they were
    /// read) to this decoder.
    pub fn overruns(&self) -> u64 {
        self.overruns
    }

    /// Notes that the record numbered `seq` has been read, and any gap before it.
    fn observe(&mut self, seq: u64) {
        let cause = if std::mem::take(&mut self.resuming) {
            LossCause::KmsgResumeGap
        } else {
            LossCause::KmsgOverrun
        };
        if let Some(last) = self.last_seq {
            // `last < seq`, so `last + 1` cannot overflow.
            if seq > last && seq - last > 1 {
                self.pending_losses
                    .push_back(Loss::sequence_gap(cause, last + 1, seq));
            }
        }
        self.last_seq = Some(seq);
    }
}

impl Decoder for KmsgDecoder {
    type Item = KmsgRecord;
    type Error = KmsgError;

    /// Parses the one record `src` holds (one read's bytes) and consumes all of `src`.
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<KmsgRecord>, KmsgError> {
        if src.is_empty() {
            return Ok(None);
        }
        // The whole buffer becomes the record's storage: freezing it takes its allocation
        // over, where `split()` would first allocate a shared header to split it off. In
        // record mode the engine hands over a buffer holding just this record (a small record
        // is copied into one of its own), so this is the only allocation a record costs.
        let raw = std::mem::take(src).freeze();
        // The well-formed case builds the record straight into the result: going through
        // `KmsgRecord::parse`'s `Result` would copy it once more, error bytes and all.
        if let Some(layout) = parse::scan_well_formed(&raw) {
            self.observe(layout.seq);
            return Ok(Some(KmsgRecord::new(raw, layout)));
        }
        // Anything else, field by field: a 20-digit number, or a fault to name.
        match parse::scan_any(&raw) {
            Ok(layout) => {
                self.observe(layout.seq);
                Ok(Some(KmsgRecord::new(raw, layout)))
            }
            Err((kind, seq)) => {
                if let Some(seq) = seq {
                    self.observe(seq);
                }
                Err(KmsgError::new(kind, raw, seq))
            }
        }
    }

    fn read_limits(&self) -> ReadLimits {
        ReadLimits::one_record_per_read(Self::MAX_RECORD_LEN)
    }

    /// `EPIPE` is retried (and counted); everything else, `EINVAL` included, ends the stream.
    fn read_error(&mut self, error: &io::Error) -> ReadErrorAction {
        if error.raw_os_error() != Some(Errno::PIPE.raw_os_error()) {
            return ReadErrorAction::Fail;
        }
        self.overruns += 1;
        if self.last_seq.is_none() && !self.unknown_loss_reported {
            self.unknown_loss_reported = true;
            self.pending_losses
                .push_back(Loss::unknown(LossCause::KmsgOverrun));
        }
        ReadErrorAction::Retry
    }

    fn take_loss(&mut self) -> Option<Loss> {
        self.pending_losses.pop_front()
    }
}
