//! Nothing to link against: the measurements are the examples of this crate.
//!
//! - `cargo run --release -p fdframe-kmsg-perf --example kmsg_read_all` reads the whole
//!   `/dev/kmsg` ring buffer (needs root or `CAP_SYSLOG`) with a raw 8 KiB `read(2)` loop and
//!   with every fdframe backend, in interleaved rounds, and prints medians and ratios.
//! - `valgrind --tool=callgrind target/release/examples/kmsg_decode_in_memory` counts the
//!   instructions `KmsgDecoder::decode` spends per record, without a kernel in the way.

#![forbid(unsafe_code)]
