//! `-n N` and `--reverse`: what the ring buffer held at the start is kept back, then the last
//! N records (after the filters) are printed, newest first with `--reverse`, as
//! `journalctl -k -n N -r` prints them. With `--follow` the records logged afterwards are
//! printed as they come.
//!
//! What is kept back is bounded by N (and, with `--reverse` alone, by the ring buffer's size:
//! the kernel's log is at most a few MiB). Records the filters leave out are kept only as the
//! timestamp of the last one before each kept record, so that deltas come out as without `-n`
//! (as `dmesg | tail -n N` shows them).

use std::collections::VecDeque;
use std::io::Write;

use fdframe::Loss;
use fdframe::kmsg::KmsgRecord;

use crate::render::KmsgOutput;

/// Something held back, in log order.
enum Held {
    /// A record, and a dump line's negative `<PRI>` (see [`super::dump::write()`]).
    Record(KmsgRecord, Option<i64>),
    /// A record the filters left out, for the next delta.
    Skipped(u64),
    Loss(Loss),
}

/// The records held back until the start of the log has been read.
pub(super) struct Tail {
    /// At most this many records (`None`: all, for `--reverse`).
    limit: Option<usize>,
    reverse: bool,
    held: VecDeque<Held>,
    records: usize,
    /// The timestamp of the last record dropped from the front, for the first delta.
    before: Option<u64>,
}

impl Tail {
    pub(super) fn new(limit: Option<usize>, reverse: bool) -> Tail {
        Tail {
            limit,
            reverse,
            held: VecDeque::new(),
            records: 0,
            before: None,
        }
    }

    pub(super) fn record(&mut self, record: &KmsgRecord, negative: Option<i64>) {
        self.held.push_back(Held::Record(record.clone(), negative));
        self.records += 1;
        self.trim();
    }

    pub(super) fn skipped(&mut self, ts_us: u64) {
        if let Some(Held::Skipped(last)) = self.held.back_mut() {
            *last = ts_us;
        } else {
            self.held.push_back(Held::Skipped(ts_us));
        }
    }

    pub(super) fn loss(&mut self, loss: Loss) {
        self.held.push_back(Held::Loss(loss));
    }

    /// Drops records beyond the limit from the front, and what came before the first record
    /// kept (a loss notice about records before the window says nothing about the window).
    fn trim(&mut self) {
        let Some(limit) = self.limit else { return };
        while self.records > limit {
            match self.held.pop_front() {
                Some(Held::Record(r, _)) => {
                    self.records -= 1;
                    self.before = Some(r.timestamp_us());
                }
                Some(Held::Skipped(ts)) => self.before = Some(ts),
                Some(Held::Loss(_)) => {}
                None => break,
            }
        }
        if self.records < limit {
            return;
        }
        while let Some(front) = self.held.front() {
            match front {
                Held::Record(..) => break,
                Held::Skipped(ts) => self.before = Some(*ts),
                Held::Loss(_) => {}
            }
            self.held.pop_front();
        }
    }

    /// Prints what is held, in log order (or newest first).
    pub(super) fn flush(
        self,
        output: &mut KmsgOutput,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        if let Some(ts) = self.before {
            output.skipped_at(ts);
        }
        let items: Box<dyn Iterator<Item = Held>> = if self.reverse {
            Box::new(self.held.into_iter().rev())
        } else {
            Box::new(self.held.into_iter())
        };
        for item in items {
            match item {
                Held::Record(record, negative) => {
                    super::dump::write(output, out, &record, negative)?;
                }
                Held::Skipped(ts) => output.skipped_at(ts),
                Held::Loss(loss) => output.loss(out, &loss)?,
            }
        }
        Ok(())
    }
}
