//! `fdframe-bench`: throughput, allocations, latency and scale of fdframe against its peers
//! (`cargo xtask bench`; see `BENCHMARKS.md`).

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    fdframe_bench::main()
}
