//! The wait descriptor of a followed file: an epoll fd holding one inotify fd (the directory
//! and every open file) and one timerfd (the earliest end of a rotation grace period).
//!
//! Its events are never parsed: any wake-up makes the source re-check the path and its files
//! (`stat`, `fstat`, the first bytes), so an overflowed queue or a coalesced event loses
//! nothing. What matters is only that every change makes the epoll fd readable and that it is
//! drained before the source says `WouldBlock`.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::event::epoll;
use rustix::fs::inotify::{self, WatchFlags};
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec};

/// The inotify watches and the grace timer.
#[derive(Debug)]
pub(crate) struct Watch {
    inotify: OwnedFd,
    timer: OwnedFd,
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
    /// Watches `dir` and returns the watch and the epoll fd to wait on.
    pub(crate) fn new(dir: &Path) -> io::Result<(Watch, OwnedFd)> {
        let inotify =
            inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC)?;
        inotify::add_watch(&inotify, dir, DIR_EVENTS)?;
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
            files: HashMap::new(),
            armed: None,
        };
        Ok((watch, epoll))
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
        let Some(count) = self.files.get_mut(&wd) else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            self.files.remove(&wd);
            // Fails only if the kernel already dropped the watch (the inode went away), which
            // is what we want anyway.
            let _ = inotify::remove_watch(&self.inotify, wd);
        }
    }

    /// How many files are watched (for tests of the bound).
    #[cfg(test)]
    pub(crate) fn watched_files(&self) -> usize {
        self.files.len()
    }

    /// Reads inotify and the timer until both would block, so the epoll fd is not readable
    /// for anything already seen.
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        loop {
            match rustix::io::read(&self.inotify, &mut buf) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => break,
                Err(e) => return Err(e.into()),
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

fn timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: d.as_secs().try_into().unwrap_or(i64::MAX),
        tv_nsec: d.subsec_nanos().into(),
    }
}
