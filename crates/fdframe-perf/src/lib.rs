//! Per-frame cost measurements for fdframe; not published, no API.
//!
//! The measuring program is the `perframe` example (an example, so that it may use every
//! runtime):
//!
//! ```text
//! cargo run --release -p fdframe-perf --example perframe -- pipe 64 256 5
//! cargo run --release -p fdframe-perf --example perframe -- memtime 64 16 41
//! valgrind --tool=callgrind target/release/examples/perframe mem framer 64 16
//! ```
//!
//! See the example's module documentation for the modes.

#![forbid(unsafe_code)]
