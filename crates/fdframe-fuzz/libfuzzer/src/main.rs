//! The fuzz targets under libFuzzer, coverage-guided: `FDFRAME_FUZZ_TARGET=<name>` picks the
//! target, the arguments are libFuzzer's (`cargo xtask fuzz --libfuzzer` builds and runs it).

#![no_main]

use std::sync::OnceLock;

use fdframe_fuzz::{Target, memory};
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

fn target() -> &'static Target {
    static TARGET: OnceLock<&'static Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        memory::install(memory::Meter {
            current: || ALLOC.current_usage(),
            peak: || ALLOC.peak_usage(),
            reset_peak: || ALLOC.reset_peak_usage(),
        });
        let name = std::env::var("FDFRAME_FUZZ_TARGET").unwrap_or_default();
        fdframe_fuzz::target(&name).unwrap_or_else(|| {
            eprintln!("set FDFRAME_FUZZ_TARGET to one of: {}", names());
            std::process::exit(2)
        })
    })
}

fn names() -> String {
    let names: Vec<&str> = fdframe_fuzz::TARGETS.iter().map(|t| t.name).collect();
    names.join(", ")
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    (target().run)(data);
});
