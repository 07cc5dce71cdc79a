//! Contenders, their roles, interleaved rounds and medians, validation, and a watchdog.
//!
//! Contenders take turns: round 1 runs every contender once, then round 2, and so on, so a
//! burst of load from another process on this shared machine hits every contender about
//! equally; the median of each contender's runs is reported. Every run is validated against
//! what the writer sent (frames and content bytes): a mismatch ends the workload with an error.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A contender's failure, or a failed validation.
pub(crate) type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What a reader saw: frames, and the bytes of their content (delimiters and headers not
/// counted), so a reader that splits in the wrong places fails even with the right count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) frames: u64,
    pub(crate) bytes: u64,
}

impl Tally {
    /// Counts one frame of `len` content bytes.
    #[inline]
    pub(crate) fn frame(&mut self, len: usize) {
        self.frames += 1;
        self.bytes += len as u64;
    }

    /// Fails unless `self` is exactly `expected`.
    pub(crate) fn check(self, who: &str, expected: Tally) -> Res<()> {
        if self == expected {
            return Ok(());
        }
        Err(format!(
            "{who} saw {} frames / {} content bytes, expected {} / {}",
            self.frames, self.bytes, expected.frames, expected.bytes
        )
        .into())
    }
}

/// The fdframe backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Blocking,
    Tokio,
    AsyncIo,
    Mio,
}

impl Backend {
    pub(crate) const ALL: [Backend; 4] = [
        Backend::Blocking,
        Backend::Tokio,
        Backend::AsyncIo,
        Backend::Mio,
    ];
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Blocking => "blocking",
            Backend::Tokio => "tokio",
            Backend::AsyncIo => "async-io",
            Backend::Mio => "mio",
        })
    }
}

/// What a contender is in a workload: the ratios and targets are computed from roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The raw blocking `read(2)` loop: the ×raw baseline.
    Raw,
    /// The minimal one-`Bytes`-per-frame blocking loop: the per-frame ceiling.
    Ceiling,
    /// One `Bytes` per read, frame boundaries walked in it: the batch ceiling.
    BatchCeiling,
    /// The tuned glue a careful tokio user writes; the fastest variant is the ×glue baseline.
    Glue,
    /// Another library's reader, for reference.
    Peer,
    /// fdframe, one item per frame.
    PerFrame(Backend),
    /// fdframe's batch API: one `Frames` per read, its frames looked at as slices.
    Batch(Backend),
    /// A variant of another contender for an experiment (`--max-read`): printed, no targets.
    Variant,
}

impl Role {
    /// Baselines run even when `--only` names other contenders: the ratios need them.
    pub(crate) fn is_baseline(self) -> bool {
        matches!(
            self,
            Role::Raw | Role::Ceiling | Role::BatchCeiling | Role::Glue
        )
    }
}

/// One way of doing a workload's job. `F` is the workload's run function.
pub(crate) struct Contender<F: ?Sized> {
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) run: Box<F>,
}

/// Which time the ratios compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clock {
    /// CPU time of the reading side: the whole process's CPU time less the writer thread's.
    /// Other processes on a shared machine disturb it far less than wall-clock time.
    Cpu,
    /// Wall-clock time from the writer's start to the reader's end.
    Wall,
}

/// One timed run.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sample {
    pub(crate) wall: Duration,
    /// CPU time of the reading side (see [`Clock::Cpu`]).
    pub(crate) cpu: Duration,
}

impl Sample {
    /// A run whose CPU time is not known apart from its wall-clock time.
    pub(crate) fn wall_only(wall: Duration) -> Sample {
        Sample { wall, cpu: wall }
    }
}

/// The CPUs this process may run on, as found before any thread was pinned.
static CPUS: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
/// Whether [`pin`] pins (`--no-pin` turns it off).
static PINNING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Reads this process's CPUs (call once, before [`pin`]); returns how many there are.
pub(crate) fn find_cpus(pinning: bool) -> usize {
    PINNING.store(pinning, std::sync::atomic::Ordering::Relaxed);
    CPUS.get_or_init(|| {
        let Ok(allowed) = rustix::thread::sched_getaffinity(None) else {
            return Vec::new();
        };
        (0..rustix::thread::CpuSet::MAX_CPU)
            .filter(|&cpu| allowed.is_set(cpu))
            .collect()
    })
    .len()
}

/// Pins the calling thread to the `nth` CPU of this process (the reading side on the first,
/// writers on the second), when there are two or more: where the scheduler puts the writer and
/// the reader (one core, warm caches; two cores, every pipe page crossing over) changes a raw
/// pipe loop's CPU time threefold, run to run. Returns the CPU, if pinned.
pub(crate) fn pin(nth: usize) -> Option<usize> {
    let cpu = cpu_for(nth)?;
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set).ok()?;
    Some(cpu)
}

/// Lets the calling thread run on every CPU of this process again (the latency workload: a
/// pinned reader waits for its CPU while the other one idles, which no real reader does).
pub(crate) fn unpin() {
    let Some(cpus) = CPUS.get() else {
        return;
    };
    let mut set = rustix::thread::CpuSet::new();
    for &cpu in cpus {
        set.set(cpu);
    }
    let _ = rustix::thread::sched_setaffinity(None, &set);
}

/// The CPU [`pin`] would pin the `nth` thread to.
pub(crate) fn cpu_for(nth: usize) -> Option<usize> {
    let cpus = CPUS.get()?;
    if cpus.len() < 2 || !PINNING.load(std::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    Some(cpus[nth % cpus.len()])
}

/// CPU time this process has used so far, all threads.
pub(crate) fn process_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// CPU time used so far by this process's waited-for children (`/proc/self/stat`'s cutime and
/// cstime, in clock ticks: a 10 ms resolution at the usual 100 Hz).
pub(crate) fn children_cpu() -> Res<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').ok_or("unreadable /proc/self/stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 16 and 17 of the whole line (cutime, cstime) are 14 and 15 after the name.
    let ticks =
        |i: usize| -> Res<u64> { Ok(fields.get(i).ok_or("short /proc/self/stat")?.parse()?) };
    let hz = rustix::param::clock_ticks_per_second().max(1);
    Ok(Duration::from_secs_f64(
        (ticks(13)? + ticks(14)?) as f64 / hz as f64,
    ))
}

/// CPU time the calling thread has used so far.
pub(crate) fn thread_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The runs of one contender.
#[derive(Clone, Debug)]
pub(crate) struct Runs {
    pub(crate) name: String,
    pub(crate) role: Role,
    /// Each run's time on the clock the ratios compare.
    pub(crate) times: Vec<Duration>,
    /// Each run's wall-clock time (for MiB/s).
    pub(crate) wall: Vec<Duration>,
    /// Each run's CPU time of the reading side.
    pub(crate) cpu: Vec<Duration>,
}

impl Runs {
    pub(crate) fn new(name: &str, role: Role) -> Runs {
        Runs {
            name: name.to_string(),
            role,
            times: Vec::new(),
            wall: Vec::new(),
            cpu: Vec::new(),
        }
    }

    /// Adds a run, timed on `clock` for the ratios.
    pub(crate) fn push(&mut self, sample: Sample, clock: Clock) {
        self.times.push(match clock {
            Clock::Cpu => sample.cpu,
            Clock::Wall => sample.wall,
        });
        self.wall.push(sample.wall);
        self.cpu.push(sample.cpu);
    }

    /// The median run on the ratio clock.
    pub(crate) fn median(&self) -> Duration {
        median(&self.times)
    }

    /// The median wall-clock time.
    pub(crate) fn median_wall(&self) -> Duration {
        median(&self.wall)
    }

    /// The median CPU time.
    pub(crate) fn median_cpu(&self) -> Duration {
        median(&self.cpu)
    }

    /// (slowest − fastest) / median: how much this contender's runs disagreed.
    pub(crate) fn spread(&self) -> f64 {
        let (Some(min), Some(max)) = (self.times.iter().min(), self.times.iter().max()) else {
            return 0.0;
        };
        (*max - *min).as_secs_f64() / self.median().as_secs_f64()
    }
}

/// The median (the mean of the middle two for an even count); zero for none.
pub(crate) fn median(times: &[Duration]) -> Duration {
    let mut times = times.to_vec();
    times.sort();
    let n = times.len();
    match n {
        0 => Duration::ZERO,
        _ if n % 2 == 1 => times[n / 2],
        _ => (times[n / 2 - 1] + times[n / 2]) / 2,
    }
}

/// Runs every contender once per round, in turn, for `rounds` rounds; `measure` times one run
/// (and validates it). Stops at the first failure.
pub(crate) fn interleave<F: ?Sized>(
    contenders: &[Contender<F>],
    rounds: usize,
    clock: Clock,
    mut measure: impl FnMut(&Contender<F>) -> Res<Sample>,
) -> Res<Vec<Runs>> {
    let mut runs: Vec<Runs> = contenders
        .iter()
        .map(|c| Runs::new(&c.name, c.role))
        .collect();
    for _ in 0..rounds {
        for (contender, runs) in contenders.iter().zip(&mut runs) {
            let _watch = Watchdog::arm(&contender.name, STALL_LIMIT);
            let sample = measure(contender).map_err(|e| format!("{}: {e}", contender.name))?;
            runs.push(sample, clock);
        }
    }
    Ok(runs)
}

/// Keeps the contenders that `--only` selects, and every baseline if `baselines`.
pub(crate) fn select<F: ?Sized>(
    contenders: Vec<Contender<F>>,
    selects: impl Fn(&str) -> bool,
    baselines: bool,
) -> Vec<Contender<F>> {
    contenders
        .into_iter()
        .filter(|c| (baselines && c.role.is_baseline()) || selects(&c.name))
        .collect()
}

/// How long one measurement may take before the run is declared hung (a lost wake-up in a
/// backend would otherwise hang the benchmark, and CI, for ever).
pub(crate) const STALL_LIMIT: Duration = Duration::from_secs(120);

/// What the watchdog thread is watching: who, and until when.
static WATCHED: Mutex<Option<(String, Instant, Duration)>> = Mutex::new(None);

/// While alive, ends the process with a message if the measurement runs past its deadline.
pub(crate) struct Watchdog(());

impl Watchdog {
    pub(crate) fn arm(who: &str, limit: Duration) -> Watchdog {
        static STARTED: std::sync::Once = std::sync::Once::new();
        STARTED.call_once(|| {
            std::thread::spawn(|| {
                loop {
                    std::thread::sleep(Duration::from_millis(250));
                    let watched = WATCHED.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some((who, deadline, limit)) = watched.as_ref()
                        && Instant::now() > *deadline
                    {
                        eprintln!(
                            "FAILED: {who} did not finish within {} s: a reader that stops \
                             being woken up (or a writer that stopped) would hang here for ever",
                            limit.as_secs()
                        );
                        std::process::exit(2);
                    }
                }
            });
        });
        *WATCHED.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((who.to_string(), Instant::now() + limit, limit));
        Watchdog(())
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        *WATCHED.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Says loudly that `what` cannot run here and why; with `FDFRAME_REQUIRE_PRIVILEGED=1` (as in
/// CI) a skip is a failure instead, as in the test suites.
pub(crate) fn skip(what: &str, reason: &str) -> Res<()> {
    let line = format!("SKIPPED: {what}: {reason}");
    println!("\n{line}");
    eprintln!("{line}");
    if std::env::var_os("FDFRAME_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1") {
        return Err(
            format!("{what}: {reason} (FDFRAME_REQUIRE_PRIVILEGED=1 forbids skipping)").into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        let ms = Duration::from_millis;
        let runs = |times: Vec<Duration>| {
            let mut runs = Runs::new("", Role::Raw);
            for wall in times {
                runs.push(Sample::wall_only(wall), Clock::Wall);
            }
            runs
        };
        assert_eq!(runs(vec![ms(3), ms(1), ms(2)]).median(), ms(2));
        assert_eq!(
            runs(vec![ms(4), ms(1), ms(2), ms(3)]).median(),
            Duration::from_micros(2500)
        );
    }

    #[test]
    fn a_tally_matches_only_the_same_frames_and_bytes() {
        let expected = Tally {
            frames: 2,
            bytes: 10,
        };
        assert!(
            Tally {
                frames: 2,
                bytes: 10
            }
            .check("r", expected)
            .is_ok()
        );
        assert!(
            Tally {
                frames: 1,
                bytes: 10
            }
            .check("r", expected)
            .is_err()
        );
        assert!(
            Tally {
                frames: 2,
                bytes: 11
            }
            .check("r", expected)
            .is_err()
        );
    }
}
