//! The follow source: which file to read next, and what rotation, truncation and deletion do
//! to the set of open files. The semantics are documented in the module root (`follow/mod.rs`).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rustix::fs::{FileType, Mode, OFlags, SeekFrom};

use super::dirs::DirWatch;
use super::identity::{FileId, read_prefix};
use super::moves::Moves;
use super::watch::Watch;
use truncation::{Since, extend_prefix, is_truncated, restart, since_caught_up};
use super::{Checkpoint, FilePosition, Fingerprint, FollowNotice, FollowOptions, FollowStart};
use crate::ReadSpace;

#[path = "dir_checks.rs"]
mod dir_checks;
#[path = "resume.rs"]
mod resume;
#[path = "truncation.rs"]
mod truncation;

/// The most rotated files kept open at once; past that the oldest is finished early.
pub(crate) const MAX_ROTATED: usize = 16;

/// The most directory entries a checkpoint resume scans for a rotated file.
const MAX_SCAN: usize = 10_000;

/// The most looks at the path one check makes while the path keeps changing.
const MAX_LOOKS: usize = 4;

/// One open file.
#[derive(Debug)]
struct Tracked {
    fd: OwnedFd,
    id: FileId,
    /// The read offset (the descriptor's file position is kept equal to it).
    offset: u64,
    /// The file's first bytes as read (at most 256): its fingerprint, and how a rewrite of the
    /// same size is told apart.
    prefix: Vec<u8>,
    wd: i32,
    /// For a rotated file: when its grace period ends.
    grace_end: Option<Instant>,
    /// The last read reached the end of the file (it was short): bytes after it are new, so
    /// the file is checked for truncation before they are read (copytruncate followed by
    /// appends would otherwise be read from the old offset).
    caught_up: bool,
}

/// Whether the path names a file, for the notices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PathState {
    /// `current` is the file at the path.
    Present,
    /// The path stopped naming a file; `Removed` is due once the old file is finished.
    Vanished,
    /// No file, and that was said (or it never existed): the next file is `Created`.
    Absent,
}

/// What a pass over the open files did.
enum Pass {
    /// Bytes were read or a signal set: return to the engine.
    Done,
    /// Every readable file is at its end.
    AtEnd,
}

/// The state of one followed path.
#[derive(Debug)]
pub(crate) struct FollowSource {
    path: PathBuf,
    dir: PathBuf,
    name: OsString,
    options: FollowOptions,
    watch: Watch,
    /// The watch of `dir`, or of its nearest existing ancestor while `dir` does not exist.
    dir_watch: DirWatch,
    /// While the path is a symlink to a file in another directory: that directory's watch.
    link_watch: Option<DirWatch>,
    /// Rotated files being finished, oldest first.
    rotated: VecDeque<Tracked>,
    /// The file at the path.
    current: Option<Tracked>,
    path_state: PathState,
    /// The file the last bytes came from: the owner of a partial record the engine holds.
    last: Option<FileId>,
    /// Notices to deliver, one per read.
    notices: VecDeque<FollowNotice>,
    /// Files renamed away from the path since the last look (see `moves.rs`).
    moves: Moves,
    /// The path was still changing after `MAX_LOOKS` looks: check again at once.
    recheck: bool,
    /// The directories are to be looked at at the next check (see `check_dirs`).
    dirs_due: bool,
}

impl FollowSource {
    /// Opens `path` for following; returns the source and the epoll fd to wait on.
    pub(crate) fn open(path: &Path, options: FollowOptions) -> io::Result<(FollowSource, OwnedFd)> {
        let name = path
            .file_name()
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "follow: path names no file")
            })?
            .to_owned();
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        let (watch, epoll) = Watch::new()?;
        let dir_watch = DirWatch::new(dir.clone(), true);
        let mut source = FollowSource {
            path: path.to_owned(),
            dir,
            name,
            options,
            watch,
            dir_watch,
            link_watch: None,
            rotated: VecDeque::new(),
            current: None,
            path_state: PathState::Absent,
            last: None,
            notices: VecDeque::new(),
            moves: Moves::default(),
            recheck: false,
            dirs_due: true,
        };
        // The watches come before the first look at the path (a directory that does not
        // exist yet is waited for like a file that does not).
        source.check_dirs()?;
        match source.options.start.clone() {
            FollowStart::Checkpoint(checkpoint) => source.resume(&checkpoint)?,
            start => {
                if let Some((fd, id)) = source.open_at_path(true)? {
                    let mut file = source.track(fd, id)?;
                    if start == FollowStart::End {
                        let size = rustix::fs::fstat(&file.fd)?.st_size as u64;
                        rustix::fs::seek(&file.fd, SeekFrom::Start(size))?;
                        file.offset = size;
                        file.prefix = read_prefix(file.fd.as_fd(), size as usize)?;
                    }
                    source.current = Some(file);
                    source.path_state = PathState::Present;
                }
            }
        }
        // The wait descriptor starts readable (the timer fires at once): a backend that waits
        // for readiness before its first read (tokio) reads what the file already holds, and
        // what was appended before the watches existed, without waiting for a write.
        source.watch.arm(Some(Instant::now()))?;
        Ok((source, epoll))
    }

    /// The position after the last message handed out; `buffered` is how many bytes the
    /// engine holds undecoded (all from the last file read).
    pub(crate) fn checkpoint(&self, buffered: usize) -> Checkpoint {
        let files = self
            .rotated
            .iter()
            .chain(self.current.as_ref())
            .map(|f| {
                let held = if Some(f.id) == self.last {
                    buffered as u64
                } else {
                    0
                };
                FilePosition {
                    dev: f.id.dev,
                    ino: f.id.ino,
                    offset: f.offset.saturating_sub(held),
                    fingerprint: Fingerprint::of(&f.prefix),
                }
            })
            .collect();
        Checkpoint::new(files)
    }

    /// One read for the engine: bytes from the file whose turn it is, a signal (segment end,
    /// notice), or `WouldBlock` once every file is at its end and the watch is drained.
    pub(crate) fn read_into(&mut self, buf: &mut ReadSpace<'_>) -> io::Result<()> {
        if let Some(notice) = self.notices.pop_front() {
            buf.notice(notice);
            return Ok(());
        }
        if let Pass::Done = self.read_pass(buf)? {
            return Ok(());
        }
        // At the end of everything: check (which drains the wake-ups), then read again, so
        // that a change after the drain makes the wait descriptor readable (edge-triggered
        // reactors see a new edge) and a change before it is seen now.
        self.check(buf)?;
        if buf.is_signalled() {
            return Ok(());
        }
        if let Some(notice) = self.notices.pop_front() {
            buf.notice(notice);
            return Ok(());
        }
        if let Pass::Done = self.read_pass(buf)? {
            return Ok(());
        }
        if let Some(notice) = self.notices.pop_front() {
            buf.notice(notice);
            return Ok(());
        }
        Err(io::ErrorKind::WouldBlock.into())
    }

    /// Reads the oldest file that has bytes; with a partial record pending, only the file it
    /// came from. Rotated files at their end after their grace period are finished here.
    fn read_pass(&mut self, buf: &mut ReadSpace<'_>) -> io::Result<Pass> {
        let now = Instant::now();
        let pending = buf.pending() > 0 && self.last.is_some_and(|id| self.is_open(id));
        let mut i = 0;
        // Rotated files, oldest first, then the current one (index `rotated.len()`).
        while i <= self.rotated.len() {
            let file = if i < self.rotated.len() {
                &mut self.rotated[i]
            } else {
                match self.current.as_mut() {
                    Some(file) => file,
                    None => break,
                }
            };
            if pending && Some(file.id) != self.last {
                i += 1;
                continue;
            }
            // Past an end of file already reached, one `fstat` says whether there is anything
            // to read (and whether the file shrank); only a grown file needs its first bytes
            // compared (a truncate-and-rewrite longer than the offset looks like growth).
            let since = if file.caught_up {
                since_caught_up(file)?
            } else {
                Since::Grown
            };
            if since == Since::Truncated {
                let owns_partial = pending && self.last == Some(file.id);
                restart(file, owns_partial, &self.path, buf)?;
                if owns_partial {
                    self.last = None;
                }
                return Ok(Pass::Done);
            }
            let room = buf.capacity();
            let n = match since {
                Since::Unchanged => 0,
                _ => buf.read_from(&file.fd)?,
            };
            file.caught_up = n < room;
            if n > 0 {
                extend_prefix(&mut file.prefix, file.offset, buf.filled_bytes());
                file.offset += n as u64;
                self.last = Some(file.id);
                return Ok(Pass::Done);
            }
            let finished = file.grace_end.is_some_and(|end| end <= now);
            if !finished {
                if pending {
                    // The partial record's file may still grow: wait for it.
                    return Ok(Pass::AtEnd);
                }
                i += 1;
                continue;
            }
            // A rotated file at its end after its grace period: its last partial line (if
            // any) is delivered and it is closed.
            let file = self.rotated.remove(i).expect("index checked above");
            self.close(file);
            if pending {
                buf.end_segment();
            }
            if self.rotated.is_empty() && self.path_state == PathState::Vanished {
                self.path_state = PathState::Absent;
                buf.notice(FollowNotice::Removed {
                    path: self.path.clone(),
                });
            }
            if buf.is_signalled() {
                return Ok(Pass::Done);
            }
        }
        Ok(Pass::AtEnd)
    }

    /// The end-of-file check: truncation of the open files, what the path names now, the
    /// bound on rotated files, and the grace timer.
    fn check(&mut self, buf: &mut ReadSpace<'_>) -> io::Result<()> {
        let now = Instant::now();
        let pending = buf.pending() > 0;
        for file in self.rotated.iter_mut().chain(self.current.as_mut()) {
            if is_truncated(file)? {
                let owns_partial = pending && self.last == Some(file.id);
                restart(file, owns_partial, &self.path, buf)?;
                if owns_partial {
                    self.last = None;
                }
                return Ok(());
            }
        }
        self.check_dirs()?;
        self.check_path(now)?;
        if self.watch.has_dir_events() {
            // The look's drain brought news of the directories (the drain comes after the
            // look, and the wake-up's events are first read there): look at them now, and at
            // the path again, before anything of the new file is delivered.
            self.check_dirs()?;
            self.check_path(now)?;
            self.recheck |= self.watch.has_dir_events();
        }
        let excess = self.rotated.len().saturating_sub(MAX_ROTATED);
        for file in self.rotated.iter_mut().take(excess) {
            // Too many to keep: the oldest are finished now (at their next end of file).
            file.grace_end = file.grace_end.map(|end| end.min(now));
        }
        self.arm_timer(now)?;
        if self.rotated.is_empty() && self.path_state == PathState::Vanished {
            self.path_state = PathState::Absent;
            self.notices.push_back(FollowNotice::Removed {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// Rotation, deletion and creation: what the path names now against the current file,
    /// and the files renamed away from the path since the last look.
    ///
    /// Each look opens the path first and drains the directory's events after it: the files
    /// renamed away in events before the look's own file are older than it, those after are
    /// newer, so every file is queued in the order it was at the path. A look is repeated while
    /// its drain shows the path changing; past [`MAX_LOOKS`] the timer wakes the reader at once
    /// for another check instead of looping here.
    fn check_path(&mut self, now: Instant) -> io::Result<()> {
        let grace_end = now + self.options.rotate_wait;
        for _ in 0..MAX_LOOKS {
            let at_path = self.look()?;
            let (watch, moves, name) = (&mut self.watch, &mut self.moves, &self.name);
            watch.drain(|event| moves.on_event(event, name))?;
            let (moved, touched) = self.moves.take();
            self.settle(at_path, moved, grace_end)?;
            if !touched {
                return Ok(());
            }
        }
        self.recheck = true;
        Ok(())
    }

    /// Applies one look: `at_path` is the file the path named, `moved` the files renamed away
    /// from the path (in order) as the drain after the look saw them.
    fn settle(
        &mut self,
        at_path: Option<(Option<OwnedFd>, FileId)>,
        moved: Vec<OsString>,
        grace_end: Instant,
    ) -> io::Result<()> {
        let looked_at = at_path.as_ref().map(|(_, id)| *id);
        if looked_at != self.current.as_ref().map(|f| f.id) {
            // Renamed away or deleted before the look.
            self.retire_current(grace_end);
        }
        let mut looked_at_moved = false;
        for name in moved {
            let Some((fd, id)) = self.open_moved(&name)? else {
                // Gone already (or not ours to read): nothing left to read of it.
                continue;
            };
            looked_at_moved |= Some(id) == looked_at;
            if Some(id) == self.current.as_ref().map(|f| f.id) {
                self.retire_current(grace_end);
            } else if !self.is_open(id) {
                // The file looked at, renamed away after the look, or one that was at the
                // path only between two looks.
                self.push_new(fd, id, Some(grace_end))?;
            }
        }
        let Some((fd, id)) = at_path else {
            return Ok(());
        };
        if looked_at_moved || Some(id) == self.current.as_ref().map(|f| f.id) {
            return Ok(());
        }
        if let Some(i) = self.rotated.iter().position(|f| f.id == id) {
            // A rotated file came back to the path (`mv f.1 f`): it is the current one again.
            let mut file = self.rotated.remove(i).expect("position is in range");
            file.grace_end = None;
            self.current = Some(file);
            self.path_state = PathState::Present;
            return Ok(());
        }
        match fd {
            Some(fd) => self.push_new(fd, id, None),
            // `look` leaves out the descriptor only for a file already open.
            None => Ok(()),
        }
    }

    /// What the path names: its identity, and a descriptor for it unless it is a file already
    /// open (the common case, the current file: a `stat`, no `open`).
    fn look(&self) -> io::Result<Option<(Option<OwnedFd>, FileId)>> {
        match rustix::fs::stat(&self.path) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile => {
                let id = FileId::of(&stat);
                if self.is_open(id) {
                    return Ok(Some((None, id)));
                }
            }
            // Not a regular file (yet): as if there were none.
            Ok(_) | Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        Ok(self.open_at_path(false)?.map(|(fd, id)| (Some(fd), id)))
    }

    /// The current file was rotated away: finished for the grace period from now on.
    fn retire_current(&mut self, grace_end: Instant) {
        if let Some(mut old) = self.current.take() {
            old.grace_end = Some(grace_end);
            self.rotated.push_back(old);
            self.path_state = PathState::Vanished;
        }
    }

    /// A file newly seen at the path (or renamed away from it): the current file (`grace_end`
    /// `None`) or one to finish, after every file open so far. Announced as `Rotated` when an
    /// older file is still being finished, else as `Created`.
    fn push_new(&mut self, fd: OwnedFd, id: FileId, grace_end: Option<Instant>) -> io::Result<()> {
        let path = self.path.clone();
        self.notices.push_back(match self.path_state {
            PathState::Absent => FollowNotice::Created { path },
            _ => FollowNotice::Rotated { path },
        });
        let mut file = self.track(fd, id)?;
        file.grace_end = grace_end;
        if grace_end.is_some() {
            self.rotated.push_back(file);
            if self.current.is_none() {
                self.path_state = PathState::Vanished;
            }
        } else {
            self.current = Some(file);
            self.path_state = PathState::Present;
        }
        Ok(())
    }

    /// Opens a file renamed away from the path (now at `name` in the directory), if it is
    /// still a regular file. Closed files are not remembered: the inode of a file that was
    /// finished is soon reused by a new one, which must not be taken for it.
    fn open_moved(&self, name: &OsString) -> io::Result<Option<(OwnedFd, FileId)>> {
        let flags =
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NOFOLLOW;
        let Ok(fd) = rustix::fs::open(self.dir.join(name), flags, Mode::empty()) else {
            return Ok(None);
        };
        let stat = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return Ok(None);
        }
        Ok(Some((fd, FileId::of(&stat))))
    }

    /// Opens the regular file at the path; `None` if there is none. `first`: at the start,
    /// where a path naming something else is an error.
    fn open_at_path(&self, first: bool) -> io::Result<Option<(OwnedFd, FileId)>> {
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        let fd = match rustix::fs::open(&self.path, flags, Mode::empty()) {
            Ok(fd) => fd,
            // No file, or no directory yet (a component is not one): waited for.
            Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let stat = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            if first {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("follow: {} is not a regular file", self.path.display()),
                ));
            }
            return Ok(None);
        }
        Ok(Some((fd, FileId::of(&stat))))
    }

    /// Watches a newly opened file, at offset 0.
    fn track(&mut self, fd: OwnedFd, id: FileId) -> io::Result<Tracked> {
        let wd = self.watch.add_file(fd.as_fd())?;
        Ok(Tracked {
            fd,
            id,
            offset: 0,
            prefix: Vec::new(),
            wd,
            grace_end: None,
            caught_up: false,
        })
    }

    fn close(&mut self, file: Tracked) {
        self.watch.remove_file(file.wd);

        if self.last == Some(file.id) {
            self.last = None;
        }
    }

    fn is_open(&self, id: FileId) -> bool {
        self.rotated
            .iter()
            .chain(self.current.as_ref())
            .any(|f| f.id == id)
    }

    /// Arms the timer for the earliest grace period still running. One already over needs no
    /// timer: its file is finished at its next end of file, or, while another file's partial
    /// record is pending, once that file brings bytes (a timer for a past time would wake the
    /// reader over and over meanwhile).
    fn arm_timer(&mut self, now: Instant) -> io::Result<()> {
        let next = self
            .rotated
            .iter()
            .filter_map(|f| f.grace_end)
            .filter(|end| *end > now)
            .min();
        let next = if std::mem::take(&mut self.recheck) {
            Some(now)
        } else {
            next
        };
        self.watch.arm(next)
    }

    /// How many rotated files are kept open.
    #[cfg(test)]
    pub(crate) fn rotated_len(&self) -> usize {
        self.rotated.len()
    }

    /// How many files inotify watches.
    #[cfg(test)]
    pub(crate) fn watched_files(&self) -> usize {
        self.watch.watched_files()
    }

    /// How many directories inotify watches.
    #[cfg(test)]
    pub(crate) fn watched_dirs(&self) -> usize {
        self.watch.watched_dirs()
    }
}
