//! Follow mode: read a growing file like `tail -F`, through rotation, truncation and deletion,
//! with restart-safe [checkpoints](Checkpoint).
//!
//! A followed file is just another [`ReadFd`]: [`ReadFd::follow`] gives one of kind
//! [`FdKind::Followed`](crate::FdKind::Followed), whose [`as_fd`](std::os::fd::AsFd::as_fd) is a
//! *wait descriptor* (an epoll fd holding an inotify fd and a timerfd). Its
//! [`read_into`](ReadFd::read_into) reads the current file; at the end of the file it drains the
//! wait descriptor, checks the path and the files, and returns `WouldBlock` when nothing is new.
//! So every backend (blocking, tokio, async-io, mio) and both paths (per message, batches)
//! follow files with the reactor they already have: no busy polling, no sleeps.
//!
//! # Example
//!
//! ```
//! use std::io::Write;
//! use fdframe::{blocking::FdReader, codec::LinesDecoder, follow::FollowOptions};
//!
//! let dir = std::env::temp_dir().join(format!("fdframe-follow-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("app.log");
//! std::fs::write(&path, "one\n")?;
//!
//! let mut reader = FdReader::follow(&path, LinesDecoder::new(), FollowOptions::new())?;
//! assert_eq!(reader.next().unwrap()?, "one");
//! // The file grows while we wait: the reader wakes on inotify.
//! let writer = std::thread::spawn({
//!     let path = path.clone();
//!     move || -> std::io::Result<()> {
//!         std::fs::OpenOptions::new().append(true).open(&path)?.write_all(b"two\n")
//!     }
//! });
//! assert_eq!(reader.next().unwrap()?, "two");
//! writer.join().unwrap()?;
//! // Where we are, to save and resume from after a restart:
//! let checkpoint = reader.checkpoint().expect("a followed file has a checkpoint");
//! assert_eq!(checkpoint.files()[0].offset, 8);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Reading once (batch jobs, cron)
//!
//! To read what a file holds now and stop, resuming the next run where this one stopped, open
//! it the same way with a grace period of zero and read with the ready-now step
//! ([`FdReader::poll_next_now`](crate::blocking::FdReader::poll_next_now), or a backend
//! stream's `poll_next_now`) until it says `Pending` (with
//! [`is_yielding`](crate::Framer::is_yielding) false): at that point every file has been read
//! to its end. No option is needed, because "nothing more now" is exactly the `WouldBlock` a
//! followed file gives at its end; the zero grace makes rotated files (found from the
//! checkpoint, or rotated during the run) finished at once, their partial last lines
//! delivered, instead of kept for lines their writer may still add. The partial last line of
//! the file at the path is *not* delivered: it stays after the checkpoint, and the next run
//! reads it whole. (Ending the stream instead would hand that partial line to
//! [`Decoder::decode_eof`], splitting it across two runs.)
//!
//! ```
//! use std::task::Poll;
//! use std::time::Duration;
//! use fdframe::{blocking::FdReader, codec::LinesDecoder};
//! use fdframe::follow::{Checkpoint, FollowOptions, FollowStart};
//!
//! /// One run: the lines written since the last one, and where to start the next.
//! fn read_once(path: &std::path::Path, saved: Option<Checkpoint>)
//!     -> std::io::Result<(Vec<String>, Checkpoint)> {
//!     let start = saved.map_or(FollowStart::Beginning, FollowStart::Checkpoint);
//!     let options = FollowOptions::new().start(start).rotate_wait(Duration::ZERO);
//!     let mut reader = FdReader::follow(path, LinesDecoder::new(), options)?;
//!     let mut lines = Vec::new();
//!     loop {
//!         match reader.poll_next_now() {
//!             Poll::Ready(Some(Ok(line))) => lines.push(String::from_utf8_lossy(&line).into()),
//!             Poll::Ready(Some(Err(e))) if e.is_fatal() => return Err(e.into()),
//!             Poll::Ready(Some(Err(notice))) => eprintln!("{notice}"),
//!             // The engine paused on a long stretch without messages: go on.
//!             Poll::Pending if reader.framer().is_yielding() => {}
//!             Poll::Pending | Poll::Ready(None) => break,
//!         }
//!     }
//!     // Save it only once the lines are handled (here: returned).
//!     Ok((lines, reader.checkpoint().expect("a followed file")))
//! }
//!
//! let dir = std::env::temp_dir().join(format!("fdframe-follow-once-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("app.log");
//! std::fs::write(&path, "one\ntw")?;
//! let (lines, saved) = read_once(&path, None)?;
//! assert_eq!(lines, ["one"]); // "tw" is not a line yet
//! let (lines, saved) = read_once(&path, Some(saved))?;
//! assert!(lines.is_empty()); // nothing new
//! std::io::Write::write_all(&mut std::fs::OpenOptions::new().append(true).open(&path)?, b"o\n")?;
//! let (lines, _) = read_once(&path, Some(saved))?;
//! assert_eq!(lines, ["two"]);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Semantics
//!
//! - **Start**: [`FollowStart::Beginning`] (offset 0), [`FollowStart::End`] (the size at
//!   open: a line being written at that moment comes without its first part), or
//!   [`FollowStart::Checkpoint`]. A path that names no file yet is waited for, and so is
//!   a directory of it that does not exist yet (see *Directories*); when the file appears it
//!   is read from its start with a [`Created`](FollowNotice::Created) notice, whatever the
//!   start.
//! - **Reading order**: the open files are kept oldest first: rotated files still being
//!   finished, then the file at the path. While the engine holds no partial record
//!   ([`ReadSpace::pending`](crate::ReadSpace::pending) is 0), the oldest file that has bytes is
//!   read; with a partial record pending, only the file it came from.
//! - **Rotation** (rename + new file, hard-link rotation, delete + re-create while the old file
//!   is still being finished): seen when `stat(path)` names another (device, inode) than the
//!   current file. A [`Rotated`](FollowNotice::Rotated) notice; the old file stays open and is
//!   read to its end first, and again on later wake-ups (lines written to it after the rename
//!   are delivered, before the new file's) until the grace period
//!   ([`FollowOptions::rotate_wait`], default 1 s) has passed since the rotation was seen; then
//!   it is read to its end once more, its partial last line (if any) is delivered, and it is
//!   closed. At most 16 rotated files are kept: past that the oldest is finished early.
//!   A file that was at the path only between two looks (two rotations in quick succession)
//!   is found through the directory's rename events, followed through later renames
//!   (logrotate's `log.1` → `log.2`), and read in its turn with its own `Rotated` notice; one
//!   deleted or overwritten before the reader looks is gone for every reader.
//!   While a rotated file's partial last line is pending, the newer files wait (at most its
//!   grace period).
//! - **Truncation / `copytruncate`**: at every end-of-file check, a file whose size is below
//!   the read offset, or whose first `min(offset, 256)` bytes are not the ones read, was
//!   truncated or rewritten: a held partial line of it is delivered, a
//!   [`Truncated`](FollowNotice::Truncated) notice follows, and the file is read again from
//!   offset 0. (A rewrite that keeps the size and the first 256 bytes cannot be told apart.)
//! - **Deletion**: when the path names no file, the current file is finished like a rotated
//!   one (for the grace period), then a [`Removed`](FollowNotice::Removed) notice and the wait
//!   for a new file, which comes with a [`Created`](FollowNotice::Created) notice and is read
//!   from its start. A new file that appears while the old one is still being finished is a
//!   rotation ([`Rotated`](FollowNotice::Rotated)).
//! - **Directories**: the directory watch follows the directory *at the path*, not the
//!   inode it was added for. At every wake-up the directory is looked at (`stat`): one that
//!   was removed, renamed away or replaced by another (`rm -rf d && mkdir d`) is a
//!   [`DirectoryRemoved`](FollowNotice::DirectoryRemoved) notice, its file is finished like a
//!   deleted one, and the watch moves to the new directory, whose file is then followed
//!   (`Created`, or `Rotated` while the old file is still being finished). While the
//!   directory does not exist (at the start too), its nearest existing ancestor is watched
//!   instead, so its creation (`mkdir -p`, a level at a time) wakes the reader. Waiting is
//!   the choice because a missing directory is the same situation as a missing file, one
//!   level up: a service that creates its log directory when it starts, a volume mounted
//!   later, a directory re-created by a deploy; an error would make every caller write the
//!   wait loop that `tail -F` already spares its users. One directory watch at a time,
//!   whatever the depth (the new watch is added before the old one is removed, and the
//!   directory is looked at again after adding it, so a change in between is not missed).
//! - **Partial last line**: held by the engine until it is completed; delivered (by
//!   [`Decoder::decode_eof`]) only when its file is rotated away
//!   for good (grace over), truncated, or the stream ends.
//! - **Wake-ups**: inotify on the directory (create, move, delete, attrib, the directory's
//!   own deletion or move) and on each open file (modify, attrib, close-write, move, delete,
//!   through `/proc/self/fd/N`); a closed file's watch is removed. The timerfd is armed for the
//!   earliest end of a grace period. Before `WouldBlock`, inotify and the timerfd are drained
//!   and everything is checked and read again, so an edge-triggered reactor never misses a
//!   change. Each wake-up re-checks the path and every open file, so the events are only read
//!   for the directory's renames and deletions (see above) and an inotify queue overflow
//!   loses no change of an open file.
//! - **Checkpoints**: [`checkpoint`] gives the position after the last message the engine
//!   handed out: for every open file (oldest first, the file at the path last) its device,
//!   inode, offset and a [`Fingerprint`] of its first bytes; the file with a pending partial
//!   record is at `read offset - framer.buffered().len()`. Commit a checkpoint only after
//!   handling the messages up to it. On resume each position is found at the path or, if it
//!   was rotated meanwhile, by a scan of at most 10,000 directory entries for the same
//!   (device, inode) with the same fingerprint. Found files are finished from their offsets
//!   first (the rotated ones for a grace period), then the file at the path (from 0 if it is
//!   new). A position not found, or an inode whose first bytes differ (reuse), is a
//!   [`CheckpointMismatch`](FollowNotice::CheckpointMismatch) notice: lines written to that
//!   file after the checkpoint may be lost.
//! - Notices come as [`Error::Follow`](crate::Error::Follow), never fatal; every message comes
//!   exactly once, in the order of the files.
//! - **Symlinks**: a symlink at the path is followed (`stat`), and the directory of the file
//!   at the end of its chain of links is watched too, like the path's own directory (the
//!   nearest existing ancestor while it is missing), so a rotation or re-creation there wakes
//!   the reader. The link is resolved again at every wake-up: retargeted (`ln -sfn`), the
//!   watch moves to the new target's directory (the change of file is a rotation); no longer
//!   a link, that watch is removed. A checkpoint's rotated file is looked for in both
//!   directories. A symlinked *directory* in the path is watched through (inotify and `stat`
//!   follow it); retargeted, it is a replaced directory (`DirectoryRemoved`).
//! - **Limits**: renames are tracked only in the path's own directory, so a file that was at
//!   the path only between two wake-ups (two rotations in quick succession) is missed in a
//!   symlink target's directory, in the directory of an intermediate link of a chain (which
//!   is not watched: a change there is seen at the next wake-up), and in a directory being
//!   replaced at that moment. Resuming a checkpoint whose rotated file has since been deleted
//!   gives a `CheckpointMismatch` notice even if that file had been read to its end.
//! - **Restarts across two rotations**: a checkpoint names the files it has seen. If the file at
//!   the path was rotated more than once while nothing ran (a file B came after the
//!   checkpointed A and was itself rotated away before the restart), resuming finishes A (found
//!   by its inode under its new name) and goes on with the file now at the path: B is not
//!   read — which of the directory's files belong to the log, and in which order, would take
//!   the rotation's naming scheme. It is said, though: each file named like a rotation of the
//!   path's (`app.log.1`, `app.log-20261201`; not compressed) and written after A comes as a
//!   [`RotatedUnread`](FollowNotice::RotatedUnread) notice. Keep the follower running, or
//!   checkpoint (for batch runs: run) more often than the log rotates.

mod checkpoint;
mod dirs;
mod identity;
mod moves;
mod notice;
mod options;
pub(crate) mod source;
mod watch;

#[cfg(test)]
mod tests;

pub use checkpoint::{Checkpoint, CheckpointError, FilePosition, Fingerprint};
pub use notice::FollowNotice;
pub use options::{FollowOptions, FollowStart};

use crate::{Decoder, Framer, ReadFd};

/// The position after the last message `framer` handed out from `fd`, to save and resume
/// from with [`FollowStart::Checkpoint`]; `None` if `fd` is not a followed file.
///
/// `framer` must be the engine that reads `fd` (its undecoded bytes are not yet handed out,
/// so the position is before them).
pub fn checkpoint<D: Decoder>(fd: &ReadFd, framer: &Framer<D>) -> Option<Checkpoint> {
    fd.follow_checkpoint(framer.buffered().len())
}
