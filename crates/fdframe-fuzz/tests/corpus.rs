//! Replays the whole corpus (`corpus/<target>/`, the hand-made seeds included) through every
//! target, with the counting allocator installed so that the memory property is checked too.
//!
//! One test in its own binary: the allocator's counters are process-wide, and a test running
//! beside it would count against its bound.

use fdframe_fuzz::{TARGETS, corpus_dir, fuzzer, memory};
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

#[test]
fn every_corpus_input_passes_every_property_of_its_target() {
    memory::install(memory::Meter {
        current: || ALLOC.current_usage(),
        peak: || ALLOC.peak_usage(),
        reset_peak: || ALLOC.reset_peak_usage(),
    });
    let mut failures = Vec::new();
    let mut total_bytes = 0;
    let mut replayed = 0;
    for target in TARGETS {
        let files = fuzzer::load_corpus(&[corpus_dir(target.name)]);
        assert!(
            !files.is_empty(),
            "{}: no corpus (run `cargo run -p fdframe-fuzz -- seed`)",
            target.name
        );
        for seed in (target.seeds)() {
            assert!(
                files.iter().any(|(_, bytes)| *bytes == seed),
                "{}: a hand-made seed is missing from the corpus (run `cargo run -p fdframe-fuzz -- seed`)",
                target.name
            );
        }
        for (path, input) in &files {
            total_bytes += input.len();
            replayed += 1;
            if let Err(message) = fuzzer::run_one(target, input) {
                failures.push(format!("{}: {message}", path.display()));
            }
        }
    }
    println!("replayed {replayed} corpus inputs ({total_bytes} bytes)");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        total_bytes < 1 << 20,
        "the corpus has grown to {total_bytes} bytes"
    );
}
