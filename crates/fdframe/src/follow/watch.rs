//! The wait descriptor of a followed file: an epoll fd holding one inotify fd (the directory,
//! or while it is missing its nearest existing ancestor (see `dirs.rs`), and every open file)
//! and one timerfd (the earliest end of a rotation grace period).
//!
//! Any wake-up makes the source re-check the path and its files (`stat`, `fstat`, the first
//! bytes), so an overflowed queue or a coalesced event loses no change of the files it has.
//! Only the directory's moves and deletions are looked at ([`DirEvent`]): they tell where a
//! file went that was at the path only between two wake-ups (two rotations in a row), so it
//! can be read too. What matters otherwise is only that every change makes the epoll fd
//! readable and that it is drained before the source says `WouldBlock`.

use std::collections::HashMap;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::event::epoll;
use rustix::fs::inotify::{self, ReadFlags, WatchFlags};
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec};

/// The inotify watches and the grace timer.
#[derive(Debug)]
pub(crate) struct Watch {
    inotify: OwnedFd,
    timer: OwnedFd,
    /// The watch descriptor of the followed file's directory, whose renames and deletions are
    /// reported by [`drain`](Watch::drain); `None` while an ancestor is watched instead.
    moves_dir: Option<i32>,
    /// Watch descriptors of directories and how many holders share each (the followed
    /// directory and a symlink target's directory may be one).
    dirs: HashMap<i32, usize>,
    /// A watched directory reported something (or the queue overflowed) since
    /// [`take_dir_events`](Watch::take_dir_events): where the directories stand must be looked
    /// at again. Appends to the open files never set it, so following a growing file costs no
    /// directory look.
    dir_events: bool,
    /// Watch descriptors of open files and how many open files share each (hard links give
    /// one inode, hence one watch, under two names).
    files: HashMap<i32, usize>,
    /// When the timer is armed for.
    armed: Option<Instant>,
}

const DIR_EVENTS: WatchFlags = WatchFlags::CREATE
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::DELETE)
    .union(WatchFlags::ATTRIB)
    .union(WatchFlags::DELETE_SELF)
    .union(WatchFlags::MOVE_SELF)
    .union(WatchFlags::ONLYDIR);

const FILE_EVENTS: WatchFlags = WatchFlags::MODIFY
    .union(WatchFlags::ATTRIB)
    .union(WatchFlags::CLOSE_WRITE)
    .union(WatchFlags::MOVE_SELF)
    .union(WatchFlags::DELETE_SELF);

impl Watch {
    /// A watch of nothing yet ([`add_dir`](Watch::add_dir) adds the directory), and the epoll
    /// fd to wait on.
    pub(crate) fn new() -> io::Result<(Watch, OwnedFd)> {
        let inotify =
            inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC)?;
        let timer = rustix::time::timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        // Level-triggered inside: the epoll fd stays readable while either has something
        // unread, whatever the outer reactor's mode.
        epoll::add(
            &epoll,
            &inotify,
            epoll::EventData::new_u64(0),
            epoll::EventFlags::IN,
        )?;
        epoll::add(
            &epoll,
            &timer,
            epoll::EventData::new_u64(1),
            epoll::EventFlags::IN,
        )?;
        let watch = Watch {
            inotify,
            timer,
            moves_dir: None,
            dirs: HashMap::new(),
            dir_events: false,
            files: HashMap::new(),
            armed: None,
        };
        Ok((watch, epoll))
    }

    /// Watches the directory `path` (the followed directory, or an ancestor waited on: the same
    /// events, which for an ancestor only wake the reader) and returns its watch descriptor.
    pub(crate) fn add_dir(&mut self, path: &Path) -> io::Result<i32> {
        let wd = inotify::add_watch(&self.inotify, path, DIR_EVENTS)?;
        *self.dirs.entry(wd).or_insert(0) += 1;
        Ok(wd)
    }

    /// Stops watching a directory (the last holder of `wd` removes it).
    pub(crate) fn remove_dir(&mut self, wd: i32) {
        if self.moves_dir == Some(wd) && self.dirs.get(&wd) == Some(&1) {
            self.moves_dir = None;
        }
        release(&self.inotify, &mut self.dirs, wd);
    }

    /// Which directory's renames and deletions [`drain`](Watch::drain) reports: the followed
    /// directory's, or none while it does not exist.
    pub(crate) fn set_moves_dir(&mut self, wd: Option<i32>) {
        self.moves_dir = wd;
    }

    /// Watches an open file (through `/proc/self/fd/N`, which names it even once renamed or
    /// deleted) and returns its watch descriptor.
    pub(crate) fn add_file(&mut self, fd: BorrowedFd<'_>) -> io::Result<i32> {
        let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
        let wd = inotify::add_watch(&self.inotify, path, FILE_EVENTS)?;
        *self.files.entry(wd).or_insert(0) += 1;
        Ok(wd)
    }

    /// Stops watching a file that is being closed (the last holder of `wd` removes it).
    pub(crate) fn remove_file(&mut self, wd: i32) {
        release(&self.inotify, &mut self.files, wd);
    }

    /// How many files are watched (for tests of the bound).
    #[cfg(test)]
    pub(crate) fn watched_files(&self) -> usize {
        self.files.len()
    }

    /// Whether a watched directory reported something since the last call (see
    /// [`dir_events`](Watch::dir_events)); clears it.
    pub(crate) fn take_dir_events(&mut self) -> bool {
        std::mem::take(&mut self.dir_events)
    }

    /// Whether a watched directory reported something not yet taken.
    pub(crate) fn has_dir_events(&self) -> bool {
        self.dir_events
    }

    /// How many directories are watched (for tests of the bound).
    #[cfg(test)]
    pub(crate) fn watched_dirs(&self) -> usize {
        self.dirs.len()
    }

    /// Reads inotify and the timer until both would block, so the epoll fd is not readable
    /// for anything already seen; the directory's moves and deletions go to `on_event`, in
    /// order.
    pub(crate) fn drain(&mut self, mut on_event: impl FnMut(DirEvent<'_>)) -> io::Result<()> {
        // Room for at least one event with the longest name (16 + 256 bytes), plus alignment.
        let mut space = [MaybeUninit::<u8>::uninit(); 4096 + 8];
        let mut events = inotify::Reader::new(&self.inotify, &mut space);
        loop {
            let event = match events.next() {
                Ok(event) => event,
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => break,
                Err(e) => return Err(e.into()),
            };
            let flags = event.events();
            if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                self.dir_events = true;
                on_event(DirEvent::Overflow);
                continue;
            }
            self.dir_events |= self.dirs.contains_key(&event.wd());
            if Some(event.wd()) != self.moves_dir || flags.contains(ReadFlags::ISDIR) {
                continue;
            }
            let Some(name) = event.file_name() else {
                continue;
            };
            let name = name.to_bytes();
            let cookie = event.cookie();
            if flags.contains(ReadFlags::MOVED_FROM) {
                on_event(DirEvent::MovedFrom { name, cookie });
            } else if flags.contains(ReadFlags::MOVED_TO) {
                on_event(DirEvent::MovedTo { name, cookie });
            } else if flags.contains(ReadFlags::DELETE) {
                on_event(DirEvent::Deleted { name });
            } else if flags.contains(ReadFlags::CREATE) {
                on_event(DirEvent::Created { name });
            }
        }
        let mut ticks = [0u8; 8];
        loop {
            match rustix::io::read(&self.timer, &mut ticks) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => break,
                Err(e) => return Err(e.into()),
            }
        }
        if self.armed.is_some_and(|at| at <= Instant::now()) {
            self.armed = None;
        }
        Ok(())
    }

    /// Arms the timer for `at` (or disarms it for `None`).
    pub(crate) fn arm(&mut self, at: Option<Instant>) -> io::Result<()> {
        if self.armed == at {
            return Ok(());
        }
        let value = match at {
            // A zero value disarms a timerfd: a deadline already past fires in 1 ns.
            Some(at) => timespec(
                at.saturating_duration_since(Instant::now())
                    .max(Duration::from_nanos(1)),
            ),
            None => timespec(Duration::ZERO),
        };
        let spec = Itimerspec {
            it_interval: timespec(Duration::ZERO),
            it_value: value,
        };
        rustix::time::timerfd_settime(&self.timer, TimerfdTimerFlags::empty(), &spec)?;
        self.armed = at;
        Ok(())
    }
}

/// Drops one holder of the watch `wd` in `counts`; the last one removes the watch.
fn release(inotify: &OwnedFd, counts: &mut HashMap<i32, usize>, wd: i32) {
    let Some(count) = counts.get_mut(&wd) else {
        return;
    };
    *count -= 1;
    if *count == 0 {
        counts.remove(&wd);
        // Fails only if the kernel already dropped the watch (the inode went away), which is
        // what we want anyway.
        let _ = inotify::remove_watch(inotify, wd);
    }
}

fn timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: d.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: d.subsec_nanos().into(),
    }
}

/// A change of a directory entry, as the source needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DirEvent<'a> {
    /// `name` was renamed; the `MovedTo` with the same cookie says to what.
    MovedFrom { name: &'a [u8], cookie: u32 },
    /// Something was renamed to `name`.
    MovedTo { name: &'a [u8], cookie: u32 },
    /// `name` was unlinked.
    Deleted { name: &'a [u8] },
    /// `name` was created.
    Created { name: &'a [u8] },
    /// The event queue overflowed: events were lost.
    Overflow,
}
