//! Where a `fdframe kmsg` run starts: the cursor file checked, locked, read and judged, the
//! ring buffer scanned when that is needed (the newest sequence number for a cursor or
//! `--since-now`, sleeps for wall-clock times), and `/dev/kmsg` errors explained.
//!
//! `--since-now` is a start "right after the newest record logged before the run started": N is
//! that record's sequence number, and the real read starts at the oldest record with a decoder
//! that counts everything up to N as seen ([`KmsgDecoder::seen_through`]), skipping those
//! records without printing them. Records logged after the start are printed, and records
//! overwritten before they were read (even before the first read) are a loss with the exact
//! count. (`lseek(SEEK_END)` alone would leave the decoder nothing to count from.)
//!
//! "The start" is fixed first, by a descriptor positioned at the end of the log
//! ([`KmsgStart::New`]), before the scan: the first record it reads after the scan is the first
//! one logged after the start, so a run stopped (SIGSTOP, a slow machine) between the start and
//! the end of its scan still prints what was logged meanwhile (see [`last_before_start`]).

use std::io;
use std::path::Path;

use fdframe::blocking::FdReader;
use fdframe::kmsg::{self, KmsgDecoder, KmsgStart};
use fdframe::{Loss, LossCause};

use super::CursorSave;
use super::options::Options;
use crate::cursor::{self, Cursor, CursorError, CursorFile, Loaded, OpenError};
use crate::failure::Failure;
use crate::render::warn;
use crate::time::{Clocks, SleepScan};

/// How a run starts.
pub(super) struct Start {
    pub(super) at: KmsgStart,
    pub(super) decoder: KmsgDecoder,
    /// Records up to this one were handled by an earlier run of this boot, or (`--since-now`)
    /// were logged before this run.
    pub(super) skip_upto: Option<u64>,
    /// A new boot: its log should start at this sequence number (0).
    pub(super) expect_first: Option<u64>,
    pub(super) cursor: Option<CursorSave>,
    /// What the ring buffer says about sleeps (empty unless a wall-clock format needs it).
    pub(super) sleeps: SleepScan,
    /// The same again, for `--since`/`--until` (a scan is used up by the plan made of it).
    pub(super) window_sleeps: SleepScan,
    /// The newest record when the ring buffer was scanned (for `-n` with `--follow`).
    pub(super) newest: Option<u64>,
    /// `--since-now` whose start was overwritten before it could be read: records logged
    /// after the start were lost, and how many is unknown. Reported before the first record.
    pub(super) lost_at_start: Option<Loss>,
}

impl Start {
    /// A start that ignores any cursor: `--since-now` right after `newest`, otherwise where
    /// dmesg starts (after the last `dmesg --clear`).
    fn fresh(since_now: bool, newest: Option<u64>, sleeps: SleepScan) -> Start {
        let (at, decoder, skip_upto) = match (since_now, newest) {
            (true, Some(n)) => (KmsgStart::Oldest, KmsgDecoder::seen_through(n), Some(n)),
            // An empty ring buffer: every record is new.
            (true, None) => (KmsgStart::Oldest, KmsgDecoder::new(), None),
            (false, _) => (KmsgStart::AfterClear, KmsgDecoder::new(), None),
        };
        Start {
            at,
            decoder,
            skip_upto,
            expect_first: None,
            cursor: None,
            sleeps,
            window_sleeps: SleepScan::default(),
            newest,
            lost_at_start: None,
        }
    }

    /// The start of a `-F`/`-K` file: no ring buffer, no cursor.
    pub(super) fn for_file() -> Start {
        Start::fresh(false, None, SleepScan::default())
    }
}

/// Decides where to start, from the options and the cursor file.
pub(super) fn plan(options: &Options<'_>) -> Result<Start, Failure> {
    let args = options.args;
    // JSON lines always carry a wall-clock time, so they need the log's sleeps too.
    let wall_clock = options.time.is_wall_clock()
        || options.since.is_some()
        || options.until.is_some()
        || args.json_lines;
    let wants_sleeps = wall_clock && Clocks::now().has_slept();
    // The path is checked and the lock taken first: a refused path costs no scan.
    let file = args.cursor.as_deref().map(open_cursor).transpose()?;
    // `--since-now`'s start, fixed before anything else reads the log.
    let start_mark = if options.since_now {
        Some(kmsg::open(KmsgStart::New).map_err(|e| open_failure(&e))?)
    } else {
        None
    };
    let tail_follow = options.follow && args.lines.is_some();
    let needs_scan = wants_sleeps
        || file.is_some()
        || options.since_now
        || options.after_cursor.is_some()
        || tail_follow;
    let (newest, sleeps) = if needs_scan {
        scan_ring_buffer(wants_sleeps)?
    } else {
        (None, (SleepScan::default(), SleepScan::default()))
    };
    let (sleeps, window_sleeps) = sleeps;
    let (before_start, lost_at_start) = match start_mark {
        Some(mark) => last_before_start(mark, newest)?,
        None => (newest, None),
    };
    let mut start = Start::fresh(options.since_now, before_start, sleeps);
    start.window_sleeps = window_sleeps;
    start.lost_at_start = lost_at_start;
    if let Some(cursor) = &options.after_cursor {
        let boot_id = cursor::current_boot_id()
            .map_err(|e| Failure::new(format_args!("cannot read this boot's id: {e}")))?;
        let loaded = judge(Loaded::Found(cursor.clone()), &boot_id, newest);
        if let Loaded::Unusable(why) = &loaded {
            return Err(Failure::new(format_args!(
                "cannot use --after-cursor: {why}"
            )));
        }
        apply_cursor(
            &mut start,
            loaded,
            &boot_id,
            false,
            Path::new("--after-cursor"),
        )?;
        return Ok(start);
    }
    let Some(file) = file else {
        return Ok(start);
    };
    let boot_id = cursor::current_boot_id()
        .map_err(|e| Failure::new(format_args!("cannot read this boot's id: {e}")))?;
    let loaded = read_cursor(&file, &boot_id, newest)?;
    let fresh = apply_cursor(&mut start, loaded, &boot_id, args.cursor_reset, file.path())?;
    let cursor = CursorSave { file, boot_id };
    if let (true, true, Some(seq)) = (fresh, options.since_now, start.skip_upto) {
        // Saved now, so that a run that prints nothing still leaves its position for the
        // next run (which would otherwise start "now" again and never show what was logged
        // in between).
        cursor.save(seq)?;
    }
    start.cursor = Some(cursor);
    Ok(start)
}

/// Reads the cursor file and judges it against this boot's log.
fn read_cursor(file: &CursorFile, boot_id: &str, newest: Option<u64>) -> Result<Loaded, Failure> {
    let loaded = file.load().map_err(|e| {
        Failure::new(format_args!(
            "cannot read the cursor file {}: {e}",
            file.path().display()
        ))
    })?;
    Ok(judge(loaded, boot_id, newest))
}

/// A cursor of this boot past the newest record is unusable.
fn judge(loaded: Loaded, boot_id: &str, newest: Option<u64>) -> Loaded {
    match loaded {
        Loaded::Found(c) if c.boot_id == boot_id && newest.is_some_and(|n| c.seq > n) => {
            Loaded::Unusable(CursorError::AheadOfLog {
                seq: c.seq,
                newest: newest.unwrap_or_default(),
            })
        }
        other => other,
    }
}

/// Moves `start` to where the cursor says; `true` when it stays fresh (no cursor yet, or one
/// reset with `--cursor-reset`).
fn apply_cursor(
    start: &mut Start,
    loaded: Loaded,
    boot_id: &str,
    reset: bool,
    path: &Path,
) -> Result<bool, Failure> {
    let shown = path.display();
    match loaded {
        Loaded::Missing => return Ok(true),
        Loaded::Unusable(why) if !why.may_reset() => {
            return Err(Failure::new(format_args!(
                "cannot use the cursor file {shown}: {why}. fdframe replaces no other file, \
                 not even with --cursor-reset: check the path, or remove the file"
            )));
        }
        Loaded::Unusable(why) if reset => {
            warn(format_args!(
                "ignoring the cursor file {shown} ({why}); starting afresh (--cursor-reset)"
            ))?;
            return Ok(true);
        }
        Loaded::Unusable(why) => {
            return Err(Failure::new(format_args!(
                "cannot use the cursor file {shown}: {why}. Remove it, or pass --cursor-reset \
                 to start afresh"
            )));
        }
        Loaded::Found(Cursor { boot_id: old, .. }) if old != boot_id => {
            warn(format_args!(
                "the cursor file {shown} is from another boot ({old}); starting from this \
                 boot's first record"
            ))?;
            let newest = start.newest;
            let window_sleeps = std::mem::take(&mut start.window_sleeps);
            *start = Start::fresh(false, None, std::mem::take(&mut start.sleeps));
            start.newest = newest;
            start.window_sleeps = window_sleeps;
            start.at = KmsgStart::Oldest;
            start.expect_first = Some(0);
        }
        Loaded::Found(Cursor { seq, .. }) => {
            start.at = KmsgStart::Oldest;
            start.decoder = KmsgDecoder::resume_after(seq);
            start.skip_upto = Some(seq);
        }
    }
    Ok(false)
}

/// Checks the `--cursor` path and locks it for this run.
fn open_cursor(path: &Path) -> Result<CursorFile, Failure> {
    let shown = path.display();
    CursorFile::open(path).map_err(|e| match e {
        OpenError::Cursor(why) => {
            Failure::new(format_args!("cannot use the cursor file {shown}: {why}"))
        }
        OpenError::Lock(lock, why) => Failure::new(format_args!(
            "cannot lock the cursor file {shown}: the lock file {}: {why}",
            lock.display()
        )),
        OpenError::InUse(lock) => Failure::new(format_args!(
            "the cursor file {shown} is in use by another fdframe (it holds {}); two runs \
             sharing a cursor would print the same records twice",
            lock.display()
        )),
    })
}

/// Reads the whole ring buffer once, quickly: its newest sequence number, and (when asked)
/// the records that tell when the system slept (twice: one scan for the times shown, one for
/// `--since`/`--until`).
type Scans = (SleepScan, SleepScan);

fn scan_ring_buffer(sleeps: bool) -> Result<(Option<u64>, Scans), Failure> {
    let fd = kmsg::open(KmsgStart::Oldest).map_err(|e| open_failure(&e))?;
    let mut reader = FdReader::from_fd(fd, KmsgDecoder::new()).map_err(|e| open_failure(&e))?;
    let mut scan = SleepScan::default();
    let mut window_scan = SleepScan::default();
    // Losses and malformed records do not matter here; the real read reports them. `ready()`
    // also ends at an engine pause (a storm of reads with no record), which is not the end of
    // what is there: go on until the descriptor itself would block.
    loop {
        for record in reader.ready().flatten() {
            if sleeps {
                scan.observe(record.seq(), record.timestamp_us(), record.message());
                window_scan.observe(record.seq(), record.timestamp_us(), record.message());
            }
        }
        if !reader.framer().is_yielding() {
            break;
        }
    }
    Ok((reader.framer().decoder().last_seq(), (scan, window_scan)))
}

/// The newest record logged before `mark` was opened at the end of the log, given `newest`, the
/// newest one the scan (run after the open) saw.
///
/// The first record `mark` reads is the first one logged after its open: the records before it
/// were logged before the start. Nothing to read: nothing was logged since, and `newest` is the
/// answer. Overwritten (`EPIPE`, the run was stopped or starved while more than the whole ring
/// buffer was logged): every record still there is new, and the ones overwritten first are a
/// loss whose count is unknown — the kernel never tells a reader its position, and nothing read
/// the records at the start before they were gone. That loss is returned, to come first in the
/// output, and a note on standard error says so too.
fn last_before_start(
    mark: std::os::fd::OwnedFd,
    newest: Option<u64>,
) -> Result<(Option<u64>, Option<Loss>), Failure> {
    use std::task::Poll;
    let mut reader = FdReader::from_fd(mark, KmsgDecoder::new()).map_err(|e| open_failure(&e))?;
    let mut overwritten = false;
    // A few steps at most: a loss notice, a malformed record, then a record or nothing.
    for _ in 0..8 {
        match reader.poll_next_now() {
            Poll::Ready(Some(Ok(record))) => {
                let before = record.seq().checked_sub(1);
                if !overwritten {
                    return Ok((before, None));
                }
                warn(format_args!(
                    "the kernel log overwrote records logged since this run started before it \
                     could read them (their number is unknown: reported as a loss without a \
                     count); printing from seq {}",
                    record.seq()
                ))?;
                return Ok((before, Some(Loss::unknown(LossCause::KmsgOverrun))));
            }
            Poll::Ready(Some(Err(fdframe::Error::Lost(_)))) => overwritten = true,
            // A malformed record after the start: the next one says where the start was.
            Poll::Ready(Some(Err(e))) if !e.is_fatal() => {}
            Poll::Pending if reader.framer().is_yielding() => {}
            // Nothing since the start (or the mark cannot be read: the scan's answer is the
            // best there is).
            _ => return Ok((newest, None)),
        }
    }
    Ok((newest, None))
}

/// Explains why `/dev/kmsg` cannot be read, in one line that says what to do.
pub(super) fn open_failure(e: &io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::PermissionDenied => {
            let restrict = std::fs::read_to_string("/proc/sys/kernel/dmesg_restrict")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default();
            if restrict == "0" {
                Failure::new(format_args!(
                    "cannot read /dev/kmsg: {e}, although kernel.dmesg_restrict=0: the kernel \
                     log may be disabled (printk.devkmsg=off) or restricted by a security \
                     module or container; reading it needs root or CAP_SYSLOG"
                ))
            } else {
                Failure::new(format_args!(
                    "cannot read /dev/kmsg: {e}: with kernel.dmesg_restrict=1 only root or a \
                     process with CAP_SYSLOG may read the kernel log; run it with sudo, or allow \
                     everyone with `sysctl kernel.dmesg_restrict=0`"
                ))
            }
        }
        io::ErrorKind::NotFound => {
            Failure::new("cannot read /dev/kmsg: it does not exist (is devtmpfs mounted on /dev?)")
        }
        _ => Failure::new(format_args!("cannot read /dev/kmsg: {e}")),
    }
}
