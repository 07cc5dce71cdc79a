//! Which directory is watched for the followed path: its own directory while that exists,
//! else its nearest existing ancestor, whose changes wake the reader until the directory is
//! there (again).
//!
//! A directory watch stays on the inode it was added for: once the directory is removed or
//! renamed away, a new directory at the same path is another inode, and its files would never
//! wake the reader. So every check compares the directory at the path (`stat`) with the one
//! watched and moves the one watch there, or to the nearest ancestor that exists. One
//! directory watch at a time: the descriptor count does not depend on the path's depth.

use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::FileType;

use super::identity::FileId;
use super::watch::Watch;

/// The most tries one [`DirWatch::settle`] makes while the directories keep changing.
const MAX_TRIES: usize = 4;

/// The directory watch of one wanted directory.
#[derive(Debug)]
pub(crate) struct DirWatch {
    /// The directory wanted: the followed path's parent.
    want: PathBuf,
    /// Whether the followed directory's renames and deletions are read from this watch (only
    /// one watch reports them: the watch of the followed path's own directory).
    moves: bool,
    placed: Option<Placed>,
}

/// Where the watch is now.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Placed {
    /// `want` itself, or its nearest existing ancestor.
    path: PathBuf,
    id: FileId,
    wd: i32,
}

/// What [`DirWatch::settle`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settled {
    /// The wanted directory was watched before and is no longer the directory at its path:
    /// removed, renamed away or replaced.
    pub(crate) lost: bool,
    /// The watch is where it belongs; `false`: the directories kept changing, check again.
    pub(crate) stable: bool,
}

impl DirWatch {
    pub(crate) fn new(want: PathBuf, moves: bool) -> DirWatch {
        DirWatch {
            want,
            moves,
            placed: None,
        }
    }

    /// The directory wanted.
    pub(crate) fn want(&self) -> &Path {
        &self.want
    }

    /// Wants another directory (a symlink at the path now names a file elsewhere): the old
    /// watch is removed (that is no loss to report), the new one added at the next
    /// [`settle`](DirWatch::settle).
    pub(crate) fn retarget(&mut self, want: PathBuf, watch: &mut Watch) {
        self.clear(watch);
        self.want = want;
    }

    /// Removes the watch (a symlink's target directory no longer wanted).
    pub(crate) fn clear(&mut self, watch: &mut Watch) {
        if let Some(old) = self.placed.take() {
            watch.remove_dir(old.wd);
        }
    }

    /// Moves the watch to the wanted directory, or to its nearest existing ancestor, if it is
    /// not there already. The new watch is added before the old one is removed, and the
    /// directory is looked at before and after adding it, so a change in between is not
    /// missed: a directory created after the look wakes the reader through the ancestor's
    /// watch.
    pub(crate) fn settle(&mut self, watch: &mut Watch) -> io::Result<Settled> {
        let mut lost = false;
        for _ in 0..MAX_TRIES {
            let (path, id) = nearest_dir(&self.want)?;
            if self
                .placed
                .as_ref()
                .is_some_and(|p| p.path == path && p.id == id)
            {
                return Ok(Settled { lost, stable: true });
            }
            let wd = match watch.add_dir(&path) {
                Ok(wd) => wd,
                // Gone between the look and the watch: look again.
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(e),
            };
            if let Some(old) = self.placed.take() {
                lost |= old.path == self.want;
                watch.remove_dir(old.wd);
            }
            let on_want = path == self.want;
            // Which inode the watch got is known only if the path still names the one looked
            // at: else the next try moves it again.
            let still = dir_id(&path)? == Some(id);
            self.placed = Some(Placed {
                path,
                id: if still { id } else { FileId { dev: 0, ino: 0 } },
                wd,
            });
            if self.moves {
                watch.set_moves_dir(on_want.then_some(wd));
            }
        }
        Ok(Settled {
            lost,
            stable: false,
        })
    }
}

/// The most symlinks followed from the path to the file it names (the kernel's own limit).
const MAX_LINKS: usize = 40;

/// If `path` is a symlink: the directory of the file at the end of its chain of links, unless
/// that is `dir` (the path's own directory). A rotation there changes what the path names, so
/// it is watched too. `None` for a path that is no symlink, or a chain that cannot be read (a
/// loop, a link removed meanwhile: the next check looks again).
pub(crate) fn link_target_dir(path: &Path, dir: &Path) -> Option<PathBuf> {
    let mut at = path.to_owned();
    for _ in 0..MAX_LINKS {
        let Ok(meta) = std::fs::symlink_metadata(&at) else {
            break;
        };
        if !meta.file_type().is_symlink() {
            break;
        }
        let target = std::fs::read_link(&at).ok()?;
        at = match at.parent() {
            Some(parent) if target.is_relative() => parent.join(target),
            _ => target,
        };
    }
    if at == path {
        return None;
    }
    let parent = match at.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    (parent != dir).then_some(parent)
}

/// The wanted directory if it exists, else its nearest existing ancestor (`.` for a relative
/// path's last one), and its identity. At most as many looks as the path has components.
fn nearest_dir(want: &Path) -> io::Result<(PathBuf, FileId)> {
    for dir in want.ancestors() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Some(id) = dir_id(dir)? {
            return Ok((dir.to_owned(), id));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "follow: no directory of {} exists to watch",
            want.display()
        ),
    ))
}

fn is_missing(e: &io::Error) -> bool {
    use rustix::io::Errno;
    let code = e.raw_os_error();
    code == Some(Errno::NOENT.raw_os_error()) || code == Some(Errno::NOTDIR.raw_os_error())
}

/// The identity of the directory at `path`; `None` if there is none (nothing, or not a
/// directory).
fn dir_id(path: &Path) -> io::Result<Option<FileId>> {
    match rustix::fs::stat(path) {
        Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Directory => {
            Ok(Some(FileId::of(&stat)))
        }
        Ok(_) | Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
