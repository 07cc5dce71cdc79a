use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{Mode, OFlags, SeekFrom};

/// Where a freshly opened `/dev/kmsg` starts reading; see [`open`].
///
/// Each open file description of `/dev/kmsg` has its own position, so the choice affects no
/// other reader, and reading clears nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KmsgStart {
    /// The oldest record still in the ring buffer (what `open(2)` does by itself), like `dmesg`
    /// without its `dmesg -c` handling.
    #[default]
    Oldest,
    /// Only records logged after the open: `lseek(fd, 0, SEEK_END)`, like `dmesg --follow-new`.
    New,
    /// The first record after the last `dmesg -c` / `dmesg -C` (`SYSLOG_ACTION_CLEAR`):
    /// `lseek(fd, 0, SEEK_DATA)`, which is where plain `dmesg` starts.
    AfterClear,
}

/// Opens `/dev/kmsg` for reading, non-blocking and close-on-exec, positioned at `start`.
///
/// The descriptor is a new open file description that nobody else holds, so setting
/// `O_NONBLOCK` on it is safe (unlike on an inherited descriptor such as stdin, where the flag
/// would be shared with every other process holding it). Read it with a
/// [`KmsgDecoder`](super::KmsgDecoder): one record per `read(2)`, into at least 8193 bytes.
///
/// # Errors
///
/// The `open(2)` or `lseek(2)` error, unchanged: typically `EPERM` or `EACCES` for a user
/// without `CAP_SYSLOG` when `kernel.dmesg_restrict=1`, or `EPERM` when `/dev/kmsg` is disabled
/// (`printk.devkmsg=off`). Explaining these to a person is the caller's job.
///
/// ```no_run
/// use fdframe::kmsg::{self, KmsgStart};
///
/// let fd = kmsg::open(KmsgStart::New)?;
/// # drop(fd);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn open(start: KmsgStart) -> io::Result<OwnedFd> {
    open_at("/dev/kmsg", start)
}

/// Like [`open`], for another path: a `/dev/kmsg` in a different mount namespace, or a regular
/// file in tests (where `Oldest` is offset 0, `New` the end, `AfterClear` the first data).
///
/// ```
/// use std::io::Write;
///
/// use fdframe::kmsg::{self, KmsgStart};
///
/// let path = std::env::temp_dir().join(format!("fdframe-kmsg-open-doc-{}", std::process::id()));
/// std::fs::File::create(&path)?.write_all(b"6,1,2,-;x\n")?;
/// let fd = kmsg::open_at(&path, KmsgStart::Oldest)?;
/// let mut file = std::fs::File::from(fd);
/// let mut text = String::new();
/// std::io::Read::read_to_string(&mut file, &mut text)?;
/// assert_eq!(text, "6,1,2,-;x\n");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn open_at(path: impl AsRef<Path>, start: KmsgStart) -> io::Result<OwnedFd> {
    let fd = rustix::fs::open(
        path.as_ref(),
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let seek = match start {
        // A fresh open is already at the oldest record.
        KmsgStart::Oldest => None,
        KmsgStart::New => Some(SeekFrom::End(0)),
        KmsgStart::AfterClear => Some(SeekFrom::Data(0)),
    };
    if let Some(seek) = seek {
        rustix::fs::seek(&fd, seek)?;
    }
    Ok(fd)
}
