//! Record devices: inotify, signalfd, timerfd, eventfd, TUN. Each decoder declares the room its
//! device needs, so no read can fail with `EINVAL` or truncate.

use std::net::UdpSocket;

use fdframe::devices::{
    CounterDecoder, DatagramDecoder, InotifyDecoder, InotifyMask, SignalfdDecoder, TunMode,
    open_tun,
};
use fdframe::{Framer, ReadFd};
use rustix::event::EventfdFlags;
use rustix::fs::inotify;
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec};

use crate::fixtures::{Netns, STEP, TempDir, require_root};
use crate::{Backend, Outcome, Skip, expect_items};

/// Create, modify and delete events for a file with a 255-byte name (the longest a name can be,
/// so the largest inotify record) arrive whole and in order.
pub fn inotify_events_with_long_names_are_whole<B: Backend>() -> Outcome {
    let dir = TempDir::new("inotify");
    let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK).unwrap();
    let watched =
        inotify::WatchFlags::CREATE | inotify::WatchFlags::MODIFY | inotify::WatchFlags::DELETE;
    inotify::add_watch(&fd, dir.path(), watched).unwrap();
    let mut reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(InotifyDecoder::new()),
    )
    .unwrap();

    let name = "n".repeat(255);
    let path = dir.path().join(&name);
    std::fs::write(&path, b"x").unwrap(); // create (and truncate), then modify
    std::fs::remove_file(&path).unwrap();

    let events = expect_items(&mut reader, 3, STEP);
    let masks: Vec<InotifyMask> = events.iter().map(|e| e.mask).collect();
    assert_eq!(
        masks,
        [
            InotifyMask::CREATE,
            InotifyMask::MODIFY,
            InotifyMask::DELETE
        ]
    );
    for event in &events {
        assert_eq!(
            event.name.as_deref(),
            Some(name.as_bytes()),
            "the whole name, no padding"
        );
    }
    Ok(())
}

/// A signal sent to this thread while it blocks it arrives as a typed `signalfd_siginfo`.
pub fn signalfd_records_are_typed<B: Backend>() -> Outcome {
    use nix::sys::signal::{SigSet, Signal, raise};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGUSR1);
    // Blocked in this thread only; `raise` directs the signal at this thread, where the
    // signalfd reads it (every backend's glue reads on the calling thread). The signal stays
    // blocked afterwards: unblocking would deliver a copy left pending by a failed run, and
    // SIGUSR1's default action ends the process.
    mask.thread_block().unwrap();
    let signalfd =
        SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).unwrap();
    let fd: std::os::fd::OwnedFd = signalfd.into();
    let mut reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(SignalfdDecoder::new()),
    )
    .unwrap();
    raise(Signal::SIGUSR1).unwrap();
    let got = expect_items(&mut reader, 1, STEP);
    assert_eq!(got[0].signo, Signal::SIGUSR1 as u32);
    assert_eq!(got[0].pid, std::process::id());
    Ok(())
}

/// A periodic timerfd yields its expiration counts (at least one per read).
pub fn timerfd_expirations_are_counted<B: Backend>() -> Outcome {
    let fd = rustix::time::timerfd_create(
        TimerfdClockId::Monotonic,
        TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
    )
    .unwrap();
    let every = Timespec {
        tv_sec: 0,
        tv_nsec: 5_000_000,
    };
    let spec = Itimerspec {
        it_interval: every,
        it_value: every,
    };
    rustix::time::timerfd_settime(&fd, TimerfdTimerFlags::empty(), &spec).unwrap();
    let mut reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(CounterDecoder::new()),
    )
    .unwrap();
    let counts = expect_items(&mut reader, 3, STEP);
    assert!(counts.iter().all(|&n| n >= 1), "{counts:?}");
    Ok(())
}

/// eventfd counters are read whole: writes between reads add up.
pub fn eventfd_counters_are_read_whole<B: Backend>() -> Outcome {
    let fd = rustix::event::eventfd(0, EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC).unwrap();
    let writer = fd.try_clone().unwrap();
    let add = |n: u64| {
        rustix::io::write(&writer, &n.to_ne_bytes()).unwrap();
    };
    add(3);
    add(4);
    let mut reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(CounterDecoder::new()),
    )
    .unwrap();
    assert_eq!(expect_items(&mut reader, 1, STEP), [7]);
    add(5);
    assert_eq!(expect_items(&mut reader, 1, STEP), [5]);
    Ok(())
}

/// IP packets of every size up to the MTU are read whole from a TUN interface, one per read.
///
/// Runs inside a network namespace the case creates and deletes; the packets go only to the
/// TUN's own peer address (198.18.0.2, a benchmarking range) inside it.
pub fn tun_packets_up_to_the_mtu_are_never_truncated<B: Backend>() -> Outcome {
    require_root()?;
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Err(Skip("no /dev/net/tun".into()));
    }
    let netns = Netns::create("tun")?;
    // The namespace applies to one thread: the whole case runs on a thread of its own.
    let worker = std::thread::spawn(move || {
        netns.enter();
        let tun = open_tun("fdtun%d", TunMode::Tun).unwrap();
        Netns::ip(&["addr", "add", "198.18.0.1/30", "dev", &tun.name]);
        Netns::ip(&["link", "set", "dev", &tun.name, "mtu", "1500", "up"]);
        let framer = Framer::new(DatagramDecoder::new(1500));
        let mut reader = B::open(ReadFd::from_fd(tun.fd).unwrap(), framer).unwrap();

        let sender = UdpSocket::bind("198.18.0.1:0").unwrap();
        let payloads = [0usize, 1, 512, 1000, 1472]; // 1472 + 28 bytes of headers = 1500
        for &len in &payloads {
            sender.send_to(&vec![0x5a; len], "198.18.0.2:9").unwrap();
        }
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + STEP;
        // The kernel sends packets of its own on link-up (IPv6 solicitations): keep ours.
        while seen.len() < payloads.len() && std::time::Instant::now() < deadline {
            let Some(packet) = expect_items(&mut reader, 1, STEP).pop() else {
                continue;
            };
            let ours = packet.len() >= 28
                && packet[0] >> 4 == 4
                && packet[9] == 17
                && packet[16..20] == [198, 18, 0, 2];
            if ours {
                let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
                assert_eq!(packet.len(), total, "one whole packet per read");
                assert!(packet[28..].iter().all(|&b| b == 0x5a));
                seen.push(packet.len() - 28);
            }
        }
        assert_eq!(seen, payloads);
    });
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
    Ok(())
}
