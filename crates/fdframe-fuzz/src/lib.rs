//! Fuzz targets for every fdframe decoder and for the framing engine, and a mutational runner
//! that works on the stable toolchain.
//!
//! # Targets
//!
//! One function per target takes the fuzzer's bytes and panics when a property does not hold:
//! [`kmsg`], [`proc_kmsg`], [`lines`], [`utf8_lines`], [`length_delimited`], [`fixed`],
//! [`chunks`], [`inotify`], [`signalfd`], [`counters`], [`evdev`], [`datagrams`] and [`engine`].
//! The bytes are a decoder configuration, a script of `read(2)` outcomes (sizes, `EINTR`,
//! `EAGAIN`, `EPIPE`, `EIO`, `EINVAL`, 0) and the data those reads return (layout in
//! `src/input.rs`); every target drives the real [`Framer`](fdframe::Framer) with
//! `poll_next_with` over that script. What every run checks:
//!
//! - **no panic** anywhere in fdframe;
//! - **memory under the bound**: peak live heap above the run's baseline at most
//!   `4 × (max_frame_len + largest read) + 4 KiB`, plus what the harness keeps (see
//!   `src/memory.rs` for the derivation); checked when a counting allocator is installed
//!   ([`memory::install`]), as the runner binary and the tests do;
//! - **bounded reads per call**: the reads each call makes are counted; the most seen is
//!   reported, and more than [`MAX_READS_PER_CALL`] (the engine's budget) is a violation;
//! - **no livelock**: the stream ends within `4 × (ops + data bytes) + 64` calls;
//! - **fused**: after `Ready(None)` it yields nothing and reads nothing, and `is_done()`; no read
//!   after a 0-byte read; `Pending` exactly when a read would block; a read error is the last
//!   thing yielded;
//!
//! and per decoder a structural invariant (each target's doc says which): the frames re-encoded
//! give the input back (lines rejoined at `\n`, length-delimited frames with their headers,
//! fixed records and chunks concatenated, kmsg records rendered back in `/dev/kmsg` syntax with
//! escapes, `/proc/kmsg` lines in syslog syntax, device structs written back as the kernel
//! lays them out), loss notices are exactly where the input's loss records or sequence gaps
//! say, and the stream codecs give over fuzzed reads what they give for the same bytes in one
//! piece.
//!
//! # Two engines, the same targets
//!
//! `fdframe-fuzz run --target T --seconds N` is this crate's own runner ([`fuzzer`]): a random
//! mutational fuzzer seeded by the corpus in `corpus/<target>/`. It is **not coverage-guided**:
//! reading coverage counters needs an instrumented build and `extern "C"` hooks. Its feedback is
//! behavioural instead: each run reports [`Features`] (the kinds of events seen and their
//! order, bucketed counts, reads per call, calls, peak memory), and an input that shows a new
//! one joins the corpus. That steers mutations towards new stream behaviour (an error kind, a
//! loss notice after an item, a truncated tail), but it sees nothing of a branch that changes no
//! output. It needs nothing but stable Rust, is deterministic for a seed, and runs inside
//! `cargo test` (the corpus replay and a short seeded run) and CI (`cargo xtask fuzz --seconds 5`).
//!
//! For the long runs, `cargo xtask fuzz --libfuzzer` runs the same targets under libFuzzer,
//! coverage-guided (`libfuzzer/`: `libfuzzer-sys`, which builds libFuzzer from the C++ sources
//! it ships). That works on the stable toolchain: the sanitizer-coverage instrumentation is
//! stable codegen flags (`-Cpasses=sancov-module` and `-Cllvm-args`); only `cargo fuzz`'s
//! AddressSanitizer needs nightly, and safe Rust gives it nothing to find. It needs a C++
//! compiler, which is why it is not what CI runs. `bolero` would add a third front end to the
//! same two engines (its stable mode is a random generator), so it is not used.
//!
//! Both build with overflow checks and debug assertions (`profile.fuzz` for the runner).
//!
//! # The input format
//!
//! It is read by hand (`src/input.rs`), every byte sequence valid, rather than with
//! `arbitrary`'s `Unstructured`, which takes lengths from the *end* of the input: that would
//! spread the read script over both ends of every input, where a mutator that does not know
//! the layout damages it more often.
//!
//! # Memory
//!
//! The counting allocator (`peak_alloc`) must be the process's global allocator, which only a
//! binary or test can choose: the `fdframe-fuzz` binary and the corpus tests install it and hand
//! its readings to [`memory::install`].

#![forbid(unsafe_code)]

mod harness;
mod input;
pub mod memory;
mod seeds;
mod targets;

pub mod fuzzer;

pub use harness::{Features, MAX_READS_PER_CALL, max_reads_per_call_seen, max_run_peak_seen};

/// A fuzz target: a name, the function, its hand-made seeds.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The name used on the command line and for `corpus/<name>/`.
    pub name: &'static str,
    /// Runs one input; panics on a property violation.
    pub run: fn(&[u8]) -> Features,
    /// The hand-made seed inputs (also written to the corpus by `fdframe-fuzz seed`).
    pub seeds: fn() -> Vec<Vec<u8>>,
}

macro_rules! targets {
    ($($name:literal => $module:ident :: $function:ident),* $(,)?) => {
        /// Every target, in the order the issue lists the decoders, the engine last.
        pub const TARGETS: &[Target] = &[
            $(Target {
                name: $name,
                run: targets::$module::$function,
                seeds: || seeds::for_target($name),
            }),*
        ];

        $(
            #[doc = concat!(
                "The `", $name, "` target: runs one input, panics on a property violation ",
                "(the properties are listed on `", stringify!($function), "` in `src/targets/",
                stringify!($module), ".rs`)."
            )]
            pub fn $function(data: &[u8]) {
                targets::$module::$function(data);
            }
        )*
    };
}

targets! {
    "kmsg" => kmsg::kmsg,
    "proc-kmsg" => kmsg::proc_kmsg,
    "lines" => codecs::lines,
    "utf8-lines" => codecs::utf8_lines,
    "length-delimited" => codecs::length_delimited,
    "fixed" => codecs::fixed,
    "chunks" => codecs::chunks,
    "inotify" => devices::inotify,
    "signalfd" => devices::signalfd,
    "counters" => devices::counters,
    "evdev" => devices::evdev,
    "datagrams" => devices::datagrams,
    "engine" => codecs::engine,
}

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The corpus directory of `target` in the source tree.
pub fn corpus_dir(target: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

/// The artifacts directory of `target` in the source tree (crashing inputs).
pub fn artifacts_dir(target: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("artifacts")
        .join(target)
}
