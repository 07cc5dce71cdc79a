//! `fdframe-bench`: the measuring instrument for fdframe's throughput, allocations, latency and
//! scale, against the best-tuned peers a careful user would write instead.
//!
//! Every number is reported next to baselines measured in the same process and the same rounds
//! (contenders take turns, round-robin; medians are reported), because the machines are shared
//! and noisy: ratios travel between machines, absolute MiB/s do not. Every contender is
//! validated — it must see exactly the frames the writer sent — so a fast wrong reader is a
//! failure, never a number.
//!
//! | module                  | what it holds                                                      |
//! |-------------------------|--------------------------------------------------------------------|
//! | `options`               | the command line (`--quick`, `--rounds`, `--megabytes`, `--only`, `--workload`) |
//! | `harness`               | contenders, roles, interleaved rounds, medians, validation        |
//! | `report`                | tables and the final targets table                                 |
//! | `pipe`                  | payloads, the 1 MiB pipe and its writer thread                     |
//! | `drive`                 | one loop per fdframe backend, generic over the decoder             |
//! | `peers`                 | the raw loops, the ceilings, the tuned glue, tokio-util and asynchronous-codec |
//! | `inmemory`              | per-frame, batch and kmsg decode loops in memory, for callgrind (`fdframe-bench-callgrind`) |
//! | `workloads::*`          | one module per workload: lines, length, kmsg, allocs, latency, scale, engine |
//!
//! Run with `cargo xtask bench`; see `BENCHMARKS.md` at the repository root for what each
//! workload means and the latest tables.

#![forbid(unsafe_code)]

mod drive;
mod harness;
mod inmemory;
mod options;
mod peers;
mod pipe;
mod report;
mod workloads;

use std::process::ExitCode;

/// Counts the allocations made so far by the whole process (the counting allocator's total).
pub type AllocationCounter = fn() -> u64;

/// The `fdframe-bench` binary: parses the command line and runs the chosen workloads.
pub fn main() -> ExitCode {
    workloads::main(std::env::args().skip(1).collect())
}

/// The `fdframe-bench-allocs` binary: the allocation workload, with `count` reading the process's
/// counting allocator.
pub fn allocs_main(count: AllocationCounter) -> ExitCode {
    workloads::allocs::child_main(std::env::args().skip(1).collect(), count)
}

/// The `fdframe-bench-callgrind` binary: the in-memory loops, for instruction counts.
pub fn callgrind_main() -> ExitCode {
    inmemory::main(std::env::args().skip(1).collect())
}
