//! Resuming from a [`Checkpoint`]: each position found at the path or, rotated meanwhile, by
//! a bounded scan of the directory; what is not found (or holds other bytes) is a notice.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::Instant;

use rustix::fs::{FileType, Mode, OFlags, SeekFrom};

use super::super::identity::{FINGERPRINT_MAX, FileId, read_prefix};
use super::super::{Checkpoint, FilePosition, Fingerprint, FollowNotice};
use super::{FollowSource, MAX_SCAN, PathState};

impl FollowSource {
    /// Starts from a checkpoint: each position is found at the path or, if it was rotated
    /// meanwhile, by a bounded scan of the directory; what is not found (or whose inode holds
    /// another file now) is a `CheckpointMismatch` notice.
    pub(super) fn resume(&mut self, checkpoint: &Checkpoint) -> io::Result<()> {
        let at_path = self.open_at_path(true)?;
        let mut at_path = at_path.map(|(fd, id)| (Some(fd), id));
        let now = Instant::now();
        // The newest file of the checkpoint (the one at the path when it was saved), when it
        // was found rotated away: its last write, to look for files rotated after it.
        let mut newest_rotated: Option<(FileId, (i64, i64))> = None;
        let newest = checkpoint.files().last().map(|p| FileId {
            dev: p.dev,
            ino: p.ino,
        });
        for position in checkpoint.files() {
            let want = FileId {
                dev: position.dev,
                ino: position.ino,
            };
            let found = match &mut at_path {
                Some((fd, id)) if *id == want => fd.take(),
                _ => self.scan_for(want)?,
            };
            let Some(fd) = found else {
                self.mismatch(position, false);
                continue;
            };
            let fingerprint = read_prefix(fd.as_fd(), position.fingerprint.len.into())?;
            if Fingerprint::of(&fingerprint) != position.fingerprint
                || fingerprint.len() != usize::from(position.fingerprint.len)
            {
                self.mismatch(position, true);
                if let Some((slot, id)) = &mut at_path
                    && *id == want
                {
                    // The file at the path is another file now: read it from its start.
                    *slot = Some(fd);
                }
                continue;
            }
            if self.is_open(want) {
                continue;
            }
            if Some(want) == newest && !at_path.as_ref().is_some_and(|(_, id)| *id == want) {
                let stat = rustix::fs::fstat(&fd)?;
                newest_rotated = Some((want, (stat.st_mtime, stat.st_mtime_nsec as i64)));
            }
            let mut file = self.track(fd, want)?;
            rustix::fs::seek(&file.fd, SeekFrom::Start(position.offset))?;
            file.offset = position.offset;
            let known = position.offset.max(position.fingerprint.len.into());
            file.prefix = read_prefix(file.fd.as_fd(), known.min(FINGERPRINT_MAX as u64) as usize)?;
            if at_path.as_ref().is_some_and(|(_, id)| *id == want) {
                self.current = Some(file);
            } else {
                file.grace_end = Some(now + self.options.rotate_wait);
                self.rotated.push_back(file);
            }
        }
        if let Some((rotated, written)) = newest_rotated {
            let known: Vec<FileId> = checkpoint
                .files()
                .iter()
                .map(|p| FileId {
                    dev: p.dev,
                    ino: p.ino,
                })
                .chain(at_path.as_ref().map(|(_, id)| *id))
                .chain(std::iter::once(rotated))
                .collect();
            self.rotated_in_between(&known, written)?;
        }
        if self.current.is_none()
            && let Some((Some(fd), id)) = at_path
        {
            // A file the checkpoint does not know: new since, read from its start.
            self.current = Some(self.track(fd, id)?);
        }
        self.path_state = if self.current.is_some() {
            PathState::Present
        } else if self.rotated.is_empty() {
            PathState::Absent
        } else {
            PathState::Vanished
        };
        self.arm_timer(now)
    }

    fn mismatch(&mut self, position: &FilePosition, inode_reused: bool) {
        self.notices.push_back(FollowNotice::CheckpointMismatch {
            path: self.path.clone(),
            file: Box::new(*position),
            inode_reused,
        });
    }

    /// After a resume that found the checkpoint's newest file rotated away: the files of the
    /// directory that look like logs rotated in after it and away again while nothing ran —
    /// regular files named like a rotation of the path's file (its name, then `.`, `-` or `_`
    /// and a digit: `app.log.1`, `app.log-20261201`; not `app.log.pos`), not compressed, not a
    /// file already known (`known`), and last written after the rotated file's last write
    /// (`written`: seconds and nanoseconds; the kernel's clock for it ticks in milliseconds, so
    /// a file written in the same tick is not reported) — each a
    /// [`RotatedUnread`](FollowNotice::RotatedUnread) notice. Only a notice: which of them
    /// really belongs to the log, and in which order, would need the rotation's naming scheme,
    /// and reading a file that is not the log would deliver lines that never were its own.
    /// Older rotated files (written before) are what the checkpoint already covered.
    fn rotated_in_between(&mut self, known: &[FileId], written: (i64, i64)) -> io::Result<()> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::MetadataExt;
        const COMPRESSED: &[&str] = &[".gz", ".xz", ".zst", ".bz2", ".lz4", ".Z"];
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let name = self.name.as_bytes();
        let mut unread = Vec::new();
        for entry in entries.take(MAX_SCAN) {
            let entry = entry?;
            let file_name = entry.file_name();
            let bytes = file_name.as_bytes();
            let compressed = COMPRESSED.iter().any(|end| bytes.ends_with(end.as_bytes()));
            let rotation_suffix = bytes.strip_prefix(name).is_some_and(|rest| {
                matches!(rest, [b'.' | b'-' | b'_', digit, ..] if digit.is_ascii_digit())
            });
            if !rotation_suffix || compressed {
                continue;
            }
            // Not through a symlink: only the directory's own regular files.
            let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
                continue;
            };
            let id = FileId {
                dev: meta.dev(),
                ino: meta.ino(),
            };
            let mtime = (meta.mtime(), meta.mtime_nsec());
            if meta.file_type().is_file() && mtime > written && !known.contains(&id) {
                unread.push((mtime, entry.path()));
            }
        }
        unread.sort();
        for (_, file) in unread {
            self.notices.push_back(FollowNotice::RotatedUnread {
                path: self.path.clone(),
                file: file.into_boxed_path(),
            });
        }
        Ok(())
    }

    /// Looks for the file `want` among the first 10,000 entries of the directory, and of the
    /// directory a symlink at the path points into (where its target is rotated).
    fn scan_for(&self, want: FileId) -> io::Result<Option<OwnedFd>> {
        let link_dir = self.link_watch.as_ref().map(|link| link.want());
        for dir in std::iter::once(self.dir.as_path()).chain(link_dir) {
            if let Some(fd) = self.scan_dir(dir, want)? {
                return Ok(Some(fd));
            }
        }
        Ok(None)
    }

    fn scan_dir(&self, dir: &Path, want: FileId) -> io::Result<Option<OwnedFd>> {
        use std::os::unix::fs::DirEntryExt;
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        for entry in entries.take(MAX_SCAN) {
            let entry = entry?;
            if entry.ino() != want.ino || (dir == self.dir && entry.file_name() == self.name) {
                continue;
            }
            let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
            let Ok(fd) = rustix::fs::open(entry.path(), flags, Mode::empty()) else {
                continue;
            };
            let stat = rustix::fs::fstat(&fd)?;
            if FileId::of(&stat) == want
                && FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile
            {
                return Ok(Some(fd));
            }
        }
        Ok(None)
    }
}
