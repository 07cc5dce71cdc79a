//! A short, deterministic fuzz run of every target: a fixed seed and a fixed number of execs,
//! so that a failure reproduces exactly (the long runs are `cargo xtask fuzz`).
//!
//! One test in its own binary, for the process-wide allocator counters (see `corpus.rs`).

use fdframe_fuzz::{TARGETS, corpus_dir, fuzzer, memory};
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Per target; under a second each in a debug build.
const EXECS: u64 = 5_000;

#[test]
fn a_short_seeded_run_of_every_target_finds_nothing() {
    memory::install(memory::Meter {
        current: || ALLOC.current_usage(),
        peak: || ALLOC.peak_usage(),
        reset_peak: || ALLOC.reset_peak_usage(),
    });
    for target in TARGETS {
        let config = fuzzer::Config {
            execs: Some(EXECS),
            seed: 20_261_201,
            corpus: vec![corpus_dir(target.name)],
            ..fuzzer::Config::default()
        };
        let report = fuzzer::run(target, &config);
        if let Some(crash) = report.crash {
            panic!(
                "{}: {}\ninput: {}",
                target.name,
                crash.message,
                crash.input.escape_ascii()
            );
        }
        assert!(
            report.execs >= EXECS,
            "{}: {} execs",
            target.name,
            report.execs
        );
        println!(
            "{}: {} execs, corpus {}, features {}",
            target.name, report.execs, report.corpus, report.features
        );
    }
}
