//! The command line. Sizes come in two sets, the full run (under 5 minutes on 2 cores) and
//! `--quick` (CI: under a minute, one or two rounds, every count still validated); `--rounds` and
//! `--megabytes` override either.

use std::fmt;

use crate::harness::Clock;

pub(crate) const USAGE: &str = "\
usage: fdframe-bench [--quick] [--rounds N] [--megabytes N] [--only WORD] [--workload NAME[,NAME...]]
                     [--clock cpu|wall] [--max-read KIB[,KIB...]] [--write-size KIB]

  --quick          small sizes and few rounds (CI); counts are still validated
  --rounds N       rounds per workload (contenders take turns in every round)
  --megabytes N    MiB per run for the pipe workloads (lines, length) and follow
  --only WORD      only contenders whose name contains WORD (baselines always run);
                   =NAME: only the contender named exactly NAME
  --workload NAME  lines, length, kmsg, follow, allocs, latency, scale, engine (default: all)
  --line-len N     the lines workload at N-byte lines only (default: 64 and 512)
  --solo           with --only: no baselines either (pipe workloads; for profiling one reader)
  --no-pin         leave thread placement to the scheduler (default: readers on one CPU,
                   writers on another)
  --runs           also print every run's wall-clock and CPU times (to see the noise)
  --clock cpu|wall the time the ratios compare (default cpu: the reading side's CPU time,
                   which other processes disturb far less; MiB/s is always wall-clock)
  --max-read KIB[,KIB...]
                   an experiment on the engine's largest read size: lines, length, follow and
                   allocs also run every fdframe contender with Framer::with_max_read_size(KIB
                   KiB), named '..., max read KIB KiB' (and lines the batch ceiling with
                   KIB KiB reads); no targets for them (--only 'max read' selects them alone)
  --write-size KIB the pipe writer's write(2) size in lines, length and allocs (default 64)
";

/// Every workload, in the order a full run takes them.
pub(crate) const WORKLOADS: &[&str] = &[
    "lines", "length", "kmsg", "follow", "allocs", "latency", "scale", "engine",
];

/// What the command line asked for.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) quick: bool,
    rounds: Option<usize>,
    megabytes: Option<usize>,
    pub(crate) only: Option<String>,
    pub(crate) workloads: Vec<&'static str>,
    pub(crate) clock: Clock,
    pub(crate) print_runs: bool,
    pub(crate) pin: bool,
    pub(crate) solo: bool,
    pub(crate) line_len: Option<usize>,
    /// `--max-read`: the largest read sizes (bytes) to run the fdframe contenders at too.
    pub(crate) max_reads: Vec<usize>,
    /// `--write-size`: the pipe writer's `write(2)` size in bytes.
    pub(crate) write_size: usize,
}

/// A command line that cannot be run.
#[derive(Debug)]
pub(crate) struct UsageError(String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n\n{USAGE}", self.0)
    }
}

impl std::error::Error for UsageError {}

impl Options {
    pub(crate) fn parse(args: &[String]) -> Result<Options, UsageError> {
        let mut options = Options {
            quick: false,
            rounds: None,
            megabytes: None,
            only: None,
            workloads: WORKLOADS.to_vec(),
            clock: Clock::Cpu,
            print_runs: false,
            pin: true,
            solo: false,
            line_len: None,
            max_reads: Vec::new(),
            write_size: crate::pipe::DEFAULT_WRITE_SIZE,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .cloned()
                    .ok_or_else(|| UsageError(format!("{name} needs a value")))
            };
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--runs" => options.print_runs = true,
                "--no-pin" => options.pin = false,
                "--solo" => options.solo = true,
                "--line-len" => options.line_len = Some(number(&value("--line-len")?)?),
                "--rounds" => options.rounds = Some(number(&value("--rounds")?)?),
                "--megabytes" => options.megabytes = Some(number(&value("--megabytes")?)?),
                "--only" => options.only = Some(value("--only")?),
                "--write-size" => options.write_size = number(&value("--write-size")?)? * 1024,
                "--max-read" => {
                    options.max_reads = value("--max-read")?
                        .split(',')
                        .map(|kib| number(kib).map(|kib| kib * 1024))
                        .collect::<Result<_, _>>()?;
                }
                "--workload" => options.workloads = workloads(&value("--workload")?)?,
                "--clock" => {
                    options.clock = match value("--clock")?.as_str() {
                        "cpu" => Clock::Cpu,
                        "wall" => Clock::Wall,
                        other => return Err(UsageError(format!("unknown clock `{other}`"))),
                    }
                }
                "-h" | "--help" => return Err(UsageError("fdframe-bench".into())),
                other => return Err(UsageError(format!("unknown argument `{other}`"))),
            }
        }
        Ok(options)
    }

    /// Rounds for a workload whose full run takes `full` rounds.
    pub(crate) fn rounds(&self, full: usize) -> usize {
        self.rounds.unwrap_or(if self.quick { 2 } else { full })
    }

    /// MiB per run for the pipe workloads.
    pub(crate) fn megabytes(&self) -> usize {
        self.megabytes.unwrap_or(if self.quick { 8 } else { 64 })
    }

    /// `full` in a full run, `quick` under `--quick`.
    pub(crate) fn pick<T>(&self, full: T, quick: T) -> T {
        if self.quick { quick } else { full }
    }

    /// Whether the contender named `name` runs (baselines run regardless).
    pub(crate) fn selects(&self, name: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|word| match word.strip_prefix('=') {
                Some(exact) => name == exact,
                None => name.contains(word),
            })
    }

    /// The arguments that reproduce these options, for a child process.
    pub(crate) fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if self.quick {
            args.push("--quick".to_string());
        }
        if let Some(rounds) = self.rounds {
            args.extend(["--rounds".to_string(), rounds.to_string()]);
        }
        if let Some(megabytes) = self.megabytes {
            args.extend(["--megabytes".to_string(), megabytes.to_string()]);
        }
        if let Some(only) = &self.only {
            args.extend(["--only".to_string(), only.clone()]);
        }
        if self.print_runs {
            args.push("--runs".to_string());
        }
        if !self.pin {
            args.push("--no-pin".to_string());
        }
        if self.clock == Clock::Wall {
            args.extend(["--clock".to_string(), "wall".to_string()]);
        }
        if !self.max_reads.is_empty() {
            let kib: Vec<String> = self
                .max_reads
                .iter()
                .map(|b| (b / 1024).to_string())
                .collect();
            args.extend(["--max-read".to_string(), kib.join(",")]);
        }
        if self.write_size != crate::pipe::DEFAULT_WRITE_SIZE {
            args.extend([
                "--write-size".to_string(),
                (self.write_size / 1024).to_string(),
            ]);
        }
        args
    }
}

fn number(text: &str) -> Result<usize, UsageError> {
    match text.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(UsageError(format!(
            "`{text}` is not a positive whole number"
        ))),
    }
}

fn workloads(list: &str) -> Result<Vec<&'static str>, UsageError> {
    list.split(',')
        .map(|name| {
            WORKLOADS
                .iter()
                .find(|w| **w == name)
                .copied()
                .ok_or_else(|| UsageError(format!("unknown workload `{name}`")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, UsageError> {
        Options::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn quick_shrinks_sizes_and_flags_override_them() {
        let quick = parse(&["--quick"]).unwrap();
        assert_eq!((quick.rounds(7), quick.megabytes()), (2, 8));
        let set = parse(&["--quick", "--rounds", "3", "--megabytes", "4"]).unwrap();
        assert_eq!((set.rounds(7), set.megabytes()), (3, 4));
        assert_eq!(
            set.to_args(),
            ["--quick", "--rounds", "3", "--megabytes", "4"]
        );
    }

    #[test]
    fn only_matches_a_word_or_with_an_equals_sign_a_whole_name() {
        let word = parse(&["--only", "fdframe blocking"]).unwrap();
        assert!(word.selects("fdframe blocking") && word.selects("fdframe blocking, batch"));
        let exact = parse(&["--only", "=fdframe blocking"]).unwrap();
        assert!(exact.selects("fdframe blocking"));
        assert!(!exact.selects("fdframe blocking, batch"));
    }

    #[test]
    fn max_read_and_write_size_take_kibibytes_and_pass_them_on() {
        let set = parse(&["--max-read", "64,128", "--write-size", "128"]).unwrap();
        assert_eq!(set.max_reads, [64 * 1024, 128 * 1024]);
        assert_eq!(set.write_size, 128 * 1024);
        assert_eq!(
            set.to_args(),
            ["--max-read", "64,128", "--write-size", "128"]
        );
        assert!(parse(&["--max-read", "64,0"]).is_err());
    }

    #[test]
    fn unknown_arguments_and_workloads_are_refused() {
        assert!(parse(&["--fast"]).is_err());
        assert!(parse(&["--workload", "lines,nope"]).is_err());
        assert!(parse(&["--rounds", "0"]).is_err());
        assert_eq!(
            parse(&["--workload", "kmsg,lines"]).unwrap().workloads,
            ["kmsg", "lines"]
        );
    }
}
