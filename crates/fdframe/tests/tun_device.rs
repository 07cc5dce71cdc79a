//! `devices::open_tun` and `DatagramDecoder` against a real TUN interface, inside a network
//! namespace this test creates and removes. Packets go only to the TUN's own peer address inside
//! that namespace; nothing leaves it.
//!
//! Needs root (`CAP_NET_ADMIN`, `CAP_SYS_ADMIN` for `setns`), `/dev/net/tun` and `ip` from
//! iproute2. Without them it prints `SKIPPED: <reason>`; with `FDFRAME_REQUIRE_PRIVILEGED=1` a skip
//! is a failure.

use std::io::Write;
use std::net::UdpSocket;
use std::process::Command;

use fdframe::blocking::FdReader;
use fdframe::devices::{DatagramDecoder, TunMode, open_tun};
use rustix::thread::{ThreadNameSpaceType, move_into_thread_name_spaces};

fn skip(reason: &str) {
    if std::env::var_os("FDFRAME_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1") {
        panic!("{reason} (and FDFRAME_REQUIRE_PRIVILEGED=1 forbids skipping)");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n*** SKIPPED: tun_device: {reason} ***\n"
    );
}

/// A network namespace that exists for this guard's lifetime.
struct Netns(String);

impl Netns {
    fn create() -> Result<Netns, String> {
        let name = format!("fdframe-tun-{}", std::process::id());
        let out = Command::new("ip").args(["netns", "add", &name]).output();
        match out {
            Ok(out) if out.status.success() => Ok(Netns(name)),
            Ok(out) => Err(format!(
                "ip netns add failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => Err(format!("cannot run ip (iproute2): {e}")),
        }
    }

    /// Moves the calling thread into the namespace (for good: call it on a thread of its own).
    fn enter(&self) {
        let fd = std::fs::File::open(format!("/run/netns/{}", self.0)).expect("open the netns");
        move_into_thread_name_spaces(std::os::fd::AsFd::as_fd(&fd), ThreadNameSpaceType::NETWORK)
            .expect("setns into the test namespace");
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).status().expect("run ip");
    assert!(status.success(), "ip {args:?} failed");
}

#[test]
fn packets_up_to_the_mtu_are_read_whole_one_per_read() {
    if !rustix::process::geteuid().is_root() {
        return skip("not running as root");
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return skip("no /dev/net/tun");
    }
    let netns = match Netns::create() {
        Ok(netns) => netns,
        Err(reason) => return skip(&reason),
    };
    // The namespace switch applies to one thread: do all the work on a thread of our own.
    let worker = std::thread::spawn(move || {
        netns.enter();
        let tun = open_tun("fdtun%d", TunMode::Tun).expect("open a TUN interface");
        ip(&["addr", "add", "198.18.0.1/30", "dev", &tun.name]);
        ip(&["link", "set", "dev", &tun.name, "mtu", "1500", "up"]);

        let sender = UdpSocket::bind("198.18.0.1:0").expect("bind in the namespace");
        let payload_lens = [0usize, 1, 100, 1000, 1472]; // 1472 + 28 = 1500 = the MTU
        for &len in &payload_lens {
            sender
                .send_to(&vec![0xab; len], "198.18.0.2:9")
                .expect("send to the TUN peer");
        }

        let mut reader =
            FdReader::from_fd(tun.fd, DatagramDecoder::new(1500)).expect("a reader for the TUN");
        let mut udp_lens = Vec::new();
        // The kernel also sends its own packets (IPv6 router solicitations...): keep only ours.
        while udp_lens.len() < payload_lens.len() {
            let step = reader.next_timeout(std::time::Duration::from_secs(5));
            let packet = match step {
                std::task::Poll::Ready(Some(Ok(packet))) => packet,
                other => panic!("expected a packet, got {other:?}"),
            };
            let is_ipv4_udp_to_peer = packet.len() >= 28
                && packet[0] >> 4 == 4
                && packet[9] == 17
                && packet[16..20] == [198, 18, 0, 2];
            if is_ipv4_udp_to_peer {
                let total_len = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
                assert_eq!(packet.len(), total_len, "the whole packet in one read");
                udp_lens.push(packet.len() - 28);
            }
        }
        assert_eq!(udp_lens, payload_lens);
    });
    worker.join().expect("the TUN test thread");
}
