//! Where a `fdframe kmsg` run starts: the cursor file read and judged, the ring buffer scanned
//! when that is needed (the newest sequence number for a cursor, sleeps for wall-clock times),
//! and `/dev/kmsg` errors explained.

use std::io;

use fdframe::blocking::FdReader;
use fdframe::kmsg::{self, KmsgDecoder, KmsgStart};

use super::{CursorFile, KmsgArgs};
use crate::cursor::{self, Cursor, CursorError, Loaded};
use crate::failure::Failure;
use crate::render::warn;
use crate::time::{Clocks, SleepScan};

/// How a run starts.
pub(super) struct Start {
    pub(super) at: KmsgStart,
    pub(super) decoder: KmsgDecoder,
    /// Records up to this one were handled by an earlier run of this boot.
    pub(super) skip_upto: Option<u64>,
    /// A new boot: its log should start at this sequence number (0).
    pub(super) expect_first: Option<u64>,
    pub(super) cursor: Option<CursorFile>,
    /// What the ring buffer says about sleeps (empty unless a wall-clock format needs it).
    pub(super) sleeps: SleepScan,
}

/// Decides where to start, from the options and the cursor file.
pub(super) fn plan(args: &KmsgArgs) -> Result<Start, Failure> {
    let wants_sleeps = args.time_format.is_wall_clock() && Clocks::now().has_slept();
    let fresh_at = if args.since_now {
        KmsgStart::New
    } else {
        // Where dmesg starts: after the last `dmesg --clear`.
        KmsgStart::AfterClear
    };
    let mut start = Start {
        at: fresh_at,
        decoder: KmsgDecoder::new(),
        skip_upto: None,
        expect_first: None,
        cursor: None,
        sleeps: SleepScan::default(),
    };
    let mut newest = None;
    if wants_sleeps || args.cursor.is_some() {
        (newest, start.sleeps) = scan_ring_buffer(wants_sleeps)?;
    }
    let Some(path) = &args.cursor else {
        return Ok(start);
    };
    let boot_id = cursor::current_boot_id()
        .map_err(|e| Failure::new(format_args!("cannot read this boot's id: {e}")))?;
    let shown = path.display();
    let lock = cursor::lock(path)
        .map_err(|e| Failure::new(format_args!("cannot lock the cursor file {shown}: {e}")))?
        .ok_or_else(|| {
            Failure::new(format_args!(
                "the cursor file {shown} is in use by another fdframe (it holds {}); two runs \
                 sharing a cursor would print the same records twice",
                cursor::lock_path(path).display()
            ))
        })?;
    let loaded = cursor::load(path)
        .map_err(|e| Failure::new(format_args!("cannot read the cursor file {shown}: {e}")))?;
    let loaded = match loaded {
        Loaded::Found(c) if c.boot_id == boot_id && newest.is_some_and(|n| c.seq > n) => {
            Loaded::Unusable(CursorError::AheadOfLog {
                seq: c.seq,
                newest: newest.unwrap_or_default(),
            })
        }
        other => other,
    };
    match loaded {
        Loaded::Missing => {}
        Loaded::Unusable(why) if args.cursor_reset => {
            warn(format_args!(
                "ignoring the cursor file {shown} ({why}); starting afresh (--cursor-reset)"
            ))?;
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
            start.at = KmsgStart::Oldest;
            start.expect_first = Some(0);
        }
        Loaded::Found(Cursor { seq, .. }) => {
            start.at = KmsgStart::Oldest;
            start.decoder = KmsgDecoder::resume_after(seq);
            start.skip_upto = Some(seq);
        }
    }
    start.cursor = Some(CursorFile {
        path: path.clone(),
        boot_id,
        _lock: lock,
    });
    Ok(start)
}

/// Reads the whole ring buffer once, quickly: its newest sequence number, and (when asked)
/// the records that tell when the system slept.
fn scan_ring_buffer(sleeps: bool) -> Result<(Option<u64>, SleepScan), Failure> {
    let fd = kmsg::open(KmsgStart::Oldest).map_err(|e| open_failure(&e))?;
    let mut reader = FdReader::from_fd(fd, KmsgDecoder::new()).map_err(|e| open_failure(&e))?;
    let mut scan = SleepScan::default();
    // Losses and malformed records do not matter here; the real read reports them.
    for record in reader.ready().flatten() {
        if sleeps {
            scan.observe(record.seq(), record.timestamp_us(), record.message());
        }
    }
    Ok((reader.framer().decoder().last_seq(), scan))
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
