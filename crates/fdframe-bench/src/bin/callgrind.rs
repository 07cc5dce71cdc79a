//! `fdframe-bench-callgrind`: the in-memory loops of the per-frame path, the batch path and
//! kmsg decoding, deterministic and free of syscalls and clocks, for `valgrind
//! --tool=callgrind` instruction counts (see `BENCHMARKS.md`, "Instructions per frame").

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    fdframe_bench::callgrind_main()
}
