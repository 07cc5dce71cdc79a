//! The mutational runner: corpus in, mutated inputs through a target under `catch_unwind`,
//! crashes out.
//!
//! Each exec picks a corpus entry, applies a stack of 1 to 8 mutations (bit flips, byte
//! sets, interesting bytes and integers, inserts and deletes, tokens of the formats, splices
//! with other entries, rewrites of the head where the read script lives) and runs the target.
//! An input whose run shows a [feature](crate::Features) not seen before joins the in-memory
//! corpus (and, with `finds`, is written out). A panic is a crash: the input is saved under the
//! artifacts directory and the run stops. A run that makes no progress for `timeout` is a hang:
//! the watchdog saves the input and ends the process.

use std::collections::HashSet;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{Features, Target, memory};

/// How a run goes.
#[derive(Clone, Debug)]
pub struct Config {
    /// Stop after this long (checked between execs).
    pub duration: Option<Duration>,
    /// Stop after this many execs.
    pub execs: Option<u64>,
    /// Seed of the random generator: the same seed, corpus and exec count give the same run.
    pub seed: u64,
    /// Inputs are kept at most this long (at least twice the longest corpus entry).
    pub max_len: usize,
    /// Directories whose files seed the corpus (missing ones are skipped).
    pub corpus: Vec<PathBuf>,
    /// Where crashing inputs go (`<dir>/crash-<hash>`); not saved when `None`.
    pub artifacts: Option<PathBuf>,
    /// Where inputs with new features go; not saved when `None`.
    pub finds: Option<PathBuf>,
    /// A run of one input longer than this is a hang (needs `artifacts`).
    pub timeout: Duration,
    /// Print progress to stderr every 10 s.
    pub progress: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            duration: None,
            execs: None,
            seed: 1,
            max_len: 4096,
            corpus: Vec::new(),
            artifacts: None,
            finds: None,
            timeout: Duration::from_secs(20),
            progress: false,
        }
    }
}

/// A crashing input.
#[derive(Clone, Debug)]
pub struct Crash {
    /// The input.
    pub input: Vec<u8>,
    /// The panic message, with its location.
    pub message: String,
    /// Where it was saved.
    pub path: Option<PathBuf>,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Report {
    /// The target's name.
    pub target: &'static str,
    /// Inputs run (corpus replay included).
    pub execs: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The corpus entries loaded (seeds and files).
    pub loaded: usize,
    /// The in-memory corpus at the end.
    pub corpus: usize,
    /// Distinct features seen.
    pub features: usize,
    /// The first crash, which ended the run.
    pub crash: Option<Crash>,
    /// The most live heap bytes of the process seen at the end of an exec's run (corpus and
    /// runner included); 0 without a meter.
    pub peak_bytes: usize,
}

impl Report {
    /// Execs per second.
    pub fn execs_per_sec(&self) -> f64 {
        self.execs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `input` through `target`, turning a panic into `Err(message)`.
pub fn run_one(target: &Target, input: &[u8]) -> Result<Features, String> {
    install_quiet_hook();
    IN_TARGET.set(true);
    LAST_PANIC.with_borrow_mut(String::clear);
    let result = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    IN_TARGET.set(false);
    result.map_err(|payload| {
        let recorded = LAST_PANIC.with_borrow(String::clone);
        if !recorded.is_empty() {
            return recorded;
        }
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic with a non-text payload".into())
    })
}

thread_local! {
    static IN_TARGET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_PANIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Panics inside a target are expected (they are what is being looked for): record the message
/// and location instead of printing each one. Panics elsewhere go to the previous hook.
fn install_quiet_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_TARGET.get() {
                let message = info.to_string();
                LAST_PANIC.with_borrow_mut(|p| *p = message);
            } else {
                previous(info);
            }
        }));
    });
}

/// Reads every file of `dirs` (sorted by name, for a deterministic corpus).
pub fn load_corpus(dirs: &[PathBuf]) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for dir in dirs {
        let Ok(entries) = fs::read_dir(dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_none_or(|e| e != "md"))
            .collect();
        paths.sort();
        for path in paths {
            if let Ok(bytes) = fs::read(&path) {
                files.push((path, bytes));
            }
        }
    }
    files
}

/// A small, fast, seedable generator (SplitMix64); fuzzing needs speed and repeatability, not
/// cryptographic quality.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n` at least 1).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

const INTERESTING_BYTES: &[u8] = &[
    0, 1, 2, 3, 4, 7, 8, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xc3, 0xe2, 0xff, b'\n',
    b'\r', b' ', b';', b',', b'-', b'+', b'c', b'=', b'\\', b'x', b'<', b'>', b'[', b']', b'.',
    b'T', b'C', b'0', b'9',
];

const INTERESTING_INTS: &[u64] = &[
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x3fff,
    0x4000,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    4095,
    4096,
    4097,
    8191,
    8192,
    8193,
    0x4000_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    i64::MAX as u64,
    u64::MAX,
    u64::MAX - 1,
];

/// Pieces of the formats under test, inserted whole.
const TOKENS: &[&[u8]] = &[
    b"\n",
    b"\r\n",
    b"\\x",
    b"\\x5c",
    b"\\x0a",
    b"\\x3d",
    b"\\xZZ",
    b"6,1,1,-;",
    b"7,18446744073709551615,0,c;",
    b",caller=T1",
    b";",
    b"\n KEY=value\n",
    b" NOEQ\n",
    b"<6>",
    b"<4294967295>",
    b"<4294967296>",
    b"[    1.000000]",
    b"[18446744073709551615.999999]",
    b"[  T123]",
    b"[    C1]",
    b"\xc3\xa9",
    b"\xe2\x82\xac",
    b"\xf0\x9f\x92\xa9",
];

struct Mutator<'a> {
    rng: &'a mut Rng,
    max_len: usize,
}

impl Mutator<'_> {
    fn mutate(&mut self, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
        let stack = 1 << self.rng.below(4);
        for _ in 0..stack {
            self.once(input, corpus);
        }
        input.truncate(self.max_len);
    }

    fn pos(&mut self, input: &[u8]) -> usize {
        self.rng.below(input.len() + 1)
    }

    fn once(&mut self, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
        let len = input.len();
        match self.rng.below(14) {
            0 if len > 0 => {
                let at = self.rng.below(len);
                input[at] ^= 1 << self.rng.below(8);
            }
            1 if len > 0 => {
                let at = self.rng.below(len);
                input[at] = self.rng.next() as u8;
            }
            2 if len > 0 => {
                let at = self.rng.below(len);
                input[at] = INTERESTING_BYTES[self.rng.below(INTERESTING_BYTES.len())];
            }
            3 => {
                let at = self.pos(input);
                let n = 1 + self.rng.below(8);
                for _ in 0..n {
                    let byte = if self.rng.chance(2) {
                        INTERESTING_BYTES[self.rng.below(INTERESTING_BYTES.len())]
                    } else {
                        self.rng.next() as u8
                    };
                    input.insert(at, byte);
                }
            }
            4 if len > 0 => {
                let at = self.rng.below(len);
                let n = 1 + self.rng.below((len - at).min(32));
                input.drain(at..at + n);
            }
            5 if len > 0 => {
                // Duplicate a range: repeated records and lines.
                let at = self.rng.below(len);
                let n = 1 + self.rng.below((len - at).min(256));
                let piece = input[at..at + n].to_vec();
                let to = self.pos(input);
                input.splice(to..to, piece);
            }
            6 if len > 0 => {
                let value = INTERESTING_INTS[self.rng.below(INTERESTING_INTS.len())];
                let width = [1, 2, 4, 8][self.rng.below(4)];
                let bytes = if self.rng.chance(2) {
                    value.to_le_bytes()[..width].to_vec()
                } else {
                    value.to_be_bytes()[8 - width..].to_vec()
                };
                let at = self.rng.below(len);
                let end = (at + width).min(len);
                input.splice(at..end, bytes);
            }
            7 if !corpus.is_empty() => {
                // Splice: this entry's head, another's tail.
                let other = &corpus[self.rng.below(corpus.len())];
                let cut = self.pos(input);
                let from = self.rng.below(other.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            8 if !corpus.is_empty() => {
                let other = &corpus[self.rng.below(corpus.len())];
                if !other.is_empty() {
                    let at = self.rng.below(other.len());
                    let n = 1 + self.rng.below((other.len() - at).min(512));
                    let to = self.pos(input);
                    input.splice(to..to, other[at..at + n].iter().copied());
                }
            }
            9 if len > 0 => {
                // The head holds the configuration and the read script: how bytes are split
                // into reads and which reads fail.
                let at = self.rng.below(len.min(48));
                input[at] = self.rng.next() as u8;
            }
            10 => {
                let token = TOKENS[self.rng.below(TOKENS.len())];
                let at = self.pos(input);
                input.splice(at..at, token.iter().copied());
            }
            11 if len > 1 => {
                let keep = self.rng.below(len);
                input.truncate(keep);
            }
            12 if len > 1 => {
                // Swap two bytes of the head: reorders read outcomes.
                let a = self.rng.below(len.min(48));
                let b = self.rng.below(len.min(48));
                input.swap(a, b);
            }
            _ => {
                let at = self.pos(input);
                input.insert(at, self.rng.next() as u8);
            }
        }
    }
}

fn hash_hex(input: &[u8]) -> String {
    let mut h = DefaultHasher::new();
    input.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Saves `input` as `<dir>/<prefix>-<hash>`, returning the path.
fn save(dir: &Path, prefix: &str, input: &[u8]) -> Option<PathBuf> {
    fs::create_dir_all(dir).ok()?;
    let path = dir.join(format!("{prefix}-{}", hash_hex(input)));
    fs::write(&path, input).ok()?;
    Some(path)
}

/// Execs so far, or [`FINISHED`] once the run is over (which stops the watchdog).
type Progress = Arc<AtomicU64>;

const FINISHED: u64 = u64::MAX;

/// The watchdog: ends the process when one input runs longer than `timeout`.
fn watchdog(
    target: &'static str,
    timeout: Duration,
    artifacts: Option<PathBuf>,
) -> (Progress, Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    let progress = Arc::new(AtomicU64::new(0));
    let current = Arc::new(Mutex::new(Vec::with_capacity(1 << 16)));
    let (p, c) = (Arc::clone(&progress), Arc::clone(&current));
    let handle = std::thread::spawn(move || {
        let mut last = (0, Instant::now());
        loop {
            // Parked rather than asleep, so that the end of the run can wake it at once.
            std::thread::park_timeout(Duration::from_millis(500));
            let now = p.load(Ordering::Relaxed);
            if now == FINISHED {
                return;
            }
            if now != last.0 {
                last = (now, Instant::now());
                continue;
            }
            if last.1.elapsed() > timeout {
                let input = c.lock().map(|i| i.clone()).unwrap_or_default();
                let path = artifacts
                    .as_deref()
                    .and_then(|d| save(d, "timeout", &input));
                eprintln!(
                    "fdframe-fuzz: {target}: one input ran for more than {timeout:?} (a hang); \
                     saved to {path:?}\ninput: {}",
                    input.escape_ascii()
                );
                std::process::exit(2);
            }
        }
    });
    (progress, current, handle)
}

/// Fuzzes `target` as `config` says.
pub fn run(target: &'static Target, config: &Config) -> Report {
    let started = Instant::now();
    let mut rng = Rng(config.seed ^ 0x5eed_f00d);
    // The hand-made seeds and the corpus files (which hold them too, once written), once each.
    let mut unique = HashSet::new();
    let mut corpus: Vec<Vec<u8>> = (target.seeds)()
        .into_iter()
        .chain(load_corpus(&config.corpus).into_iter().map(|(_, b)| b))
        .filter(|entry| unique.insert(entry.clone()))
        .collect();
    drop(unique);
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let loaded = corpus.len();
    let max_len = corpus
        .iter()
        .map(|c| c.len() * 2)
        .max()
        .unwrap_or(0)
        .max(config.max_len);
    let (progress, current, watchdog) =
        watchdog(target.name, config.timeout, config.artifacts.clone());
    let mut seen = HashSet::new();
    let mut execs = 0u64;
    let mut crash = None;
    let mut last_print = Instant::now();
    let mut input = Vec::with_capacity(max_len + 64);
    let mut peak_bytes = 0;

    let mut exec = |input: &[u8], execs: &mut u64| -> Result<Features, String> {
        if let Ok(mut c) = current.lock() {
            c.clear();
            c.extend_from_slice(input);
        }
        let result = run_one(target, input);
        if let Some(m) = memory::meter() {
            peak_bytes = peak_bytes.max((m.peak)());
        }
        *execs += 1;
        progress.store(*execs, Ordering::Relaxed);
        result
    };
    let fail = |input: &[u8], message: String| {
        let path = config
            .artifacts
            .as_deref()
            .and_then(|d| save(d, "crash", input));
        Some(Crash {
            input: input.to_vec(),
            message,
            path,
        })
    };

    // The corpus first: every entry must pass, and its features are the baseline.
    for entry in corpus.clone() {
        match exec(&entry, &mut execs) {
            Ok(features) => seen.extend(features.ids().iter().copied()),
            Err(message) => {
                crash = fail(&entry, message);
                break;
            }
        }
    }
    while crash.is_none() {
        if config.duration.is_some_and(|d| started.elapsed() >= d)
            || config.execs.is_some_and(|n| execs >= n)
        {
            break;
        }
        input.clear();
        input.extend_from_slice(&corpus[rng.below(corpus.len())]);
        Mutator {
            rng: &mut rng,
            max_len,
        }
        .mutate(&mut input, &corpus);
        match exec(&input, &mut execs) {
            Ok(features) => {
                let before = seen.len();
                seen.extend(features.ids().iter().copied());
                if seen.len() > before {
                    if let Some(dir) = &config.finds {
                        save(dir, "find", &input);
                    }
                    corpus.push(input.clone());
                }
            }
            Err(message) => crash = fail(&input, message),
        }
        if config.progress && last_print.elapsed() >= Duration::from_secs(10) {
            last_print = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "fdframe-fuzz: {}: {execs} execs, {:.0}/s, corpus {}, features {}, peak {} B",
                target.name,
                execs as f64 / secs,
                corpus.len(),
                seen.len(),
                memory::meter().map_or(0, |m| (m.peak)()),
            );
        }
    }
    // Stop the watchdog before returning: the allocator's counters are process-wide, and a
    // thread that frees its memory during a later run would skew that run's measurement.
    progress.store(FINISHED, Ordering::Relaxed);
    watchdog.thread().unpark();
    let _ = watchdog.join();
    Report {
        target: target.name,
        execs,
        elapsed: started.elapsed(),
        loaded,
        corpus: corpus.len(),
        features: seen.len(),
        crash,
        peak_bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_keep_inputs_within_the_length_limit() {
        let mut rng = Rng(7);
        let corpus = vec![vec![1u8; 100], b"abc".to_vec()];
        let mut input = vec![0u8; 10];
        for _ in 0..10_000 {
            Mutator {
                rng: &mut rng,
                max_len: 64,
            }
            .mutate(&mut input, &corpus);
            assert!(input.len() <= 64);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let (mut a, mut b) = (Rng(3), Rng(3));
        let xs: Vec<u64> = (0..8).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
    }
}
