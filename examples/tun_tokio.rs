//! Creates a TUN interface and prints every IP packet the kernel routes to it, on tokio.
//!
//! Run with: sudo cargo run --example tun_tokio
//! Then, from another terminal (as root), give it an address, bring it up and send traffic:
//!     ip addr add 10.99.0.1/24 dev fdframe0 && ip link set fdframe0 up && ping -c3 10.99.0.2
//! (creating an interface needs CAP_NET_ADMIN; it disappears when the program exits)
//!
//! Linux-only (like all of fdframe).

use fdframe::devices::{DatagramDecoder, TunMode, open_tun};
use fdframe_tokio::FdStream;
use tokio_stream::StreamExt; // `next()` for streams

/// The interface's MTU: the largest packet a read can return.
const MTU: usize = 1500;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tun = open_tun("fdframe%d", TunMode::Tun)
        .map_err(|e| format!("cannot create a TUN interface: {e} (needs CAP_NET_ADMIN)"))?;
    eprintln!(
        "created {}; configure it with `ip` (see the comment at the top)",
        tun.name
    );

    // One read(2) returns one packet, and a buffer shorter than the packet would silently cut
    // it: the decoder offers every read room for a whole MTU-sized packet.
    let mut packets = FdStream::from_fd(tun.fd, DatagramDecoder::new(MTU))?;
    while let Some(packet) = packets.next().await {
        let packet = packet?;
        // The IP version is the high nibble of the first byte; IPv4's protocol is byte 9.
        match packet.first().map(|b| b >> 4) {
            Some(4) if packet.len() >= 20 => {
                let (src, dst) = (&packet[12..16], &packet[16..20]);
                println!(
                    "IPv4 {} bytes, protocol {}, {src:?} -> {dst:?}",
                    packet.len(),
                    packet[9]
                );
            }
            Some(6) => println!("IPv6 {} bytes", packet.len()),
            _ => println!("{} bytes", packet.len()),
        }
    }
    Ok(())
}
