//! `fdframe-bench-allocs`: the allocation workload under a counting global allocator. It is a
//! binary of its own so that the counter's atomic increments never slow the throughput runs;
//! `fdframe-bench` starts it and folds its results into the targets table.

#![forbid(unsafe_code)]

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

fn main() -> std::process::ExitCode {
    // A reallocation may move the block, so it costs what an allocation does: both count.
    fdframe_bench::allocs_main(|| {
        let stats = GLOBAL.stats();
        (stats.allocations + stats.reallocations) as u64
    })
}
