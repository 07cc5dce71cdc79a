use std::fmt;
use std::str::FromStr;

/// The severity of a kernel log record: the low three bits of its syslog priority.
///
/// Levels are ordered by their number, as syslog numbers them: [`Level::Emerg`] (0) is the
/// *smallest* and the most severe, [`Level::Debug`] (7) the largest. "warn or worse", the filter
/// `dmesg --level emerg,alert,crit,err,warn` spells out, is therefore `level <= Level::Warn`, or
/// [`level.is_at_least(Level::Warn)`](Level::is_at_least) for readers who would rather not
/// remember which way round it goes.
///
/// The names are the ones `dmesg -x` prints.
///
/// ```
/// use fdframe::kmsg::Level;
///
/// let level: Level = "warn".parse().unwrap();
/// assert_eq!(level, Level::Warn);
/// assert_eq!(Level::from_priority(30), Level::Info); // <30> is daemon.info
/// assert!(Level::Err.is_at_least(Level::Warn));
/// assert!(!Level::Info.is_at_least(Level::Warn));
/// assert!(Level::Emerg < Level::Debug);
/// assert_eq!(Level::Notice.to_string(), "notice");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// 0: the system is unusable.
    Emerg = 0,
    /// 1: action must be taken immediately.
    Alert = 1,
    /// 2: critical conditions.
    Crit = 2,
    /// 3: error conditions.
    Err = 3,
    /// 4: warning conditions.
    Warn = 4,
    /// 5: normal but significant condition.
    Notice = 5,
    /// 6: informational.
    Info = 6,
    /// 7: debug-level messages.
    Debug = 7,
}

impl Level {
    /// Every level, from the most severe to the least.
    pub const ALL: [Level; 8] = [
        Level::Emerg,
        Level::Alert,
        Level::Crit,
        Level::Err,
        Level::Warn,
        Level::Notice,
        Level::Info,
        Level::Debug,
    ];

    /// The level of a syslog priority (`facility * 8 + level`): its low three bits.
    pub const fn from_priority(priority: u32) -> Level {
        Level::ALL[(priority & 7) as usize]
    }

    /// The level numbered `n` (0..=7), or `None`.
    pub const fn from_number(n: u8) -> Option<Level> {
        if n < 8 {
            Some(Level::ALL[n as usize])
        } else {
            None
        }
    }

    /// The syslog number of this level (0 for `emerg` .. 7 for `debug`).
    pub const fn number(self) -> u8 {
        self as u8
    }

    /// The name `dmesg -x` prints: `emerg`, `alert`, `crit`, `err`, `warn`, `notice`, `info`,
    /// `debug`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Emerg => "emerg",
            Level::Alert => "alert",
            Level::Crit => "crit",
            Level::Err => "err",
            Level::Warn => "warn",
            Level::Notice => "notice",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    /// Returns `true` when this level is as severe as `threshold` or more severe.
    pub fn is_at_least(self, threshold: Level) -> bool {
        self <= threshold
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Level {
    type Err = ParseLevelError;

    /// Parses a level name as `dmesg --level` accepts it: a name (any case; also the long
    /// spellings `emergency`, `critical`, `error`, `warning`, and the old `panic`) or a number
    /// `0`..=`7`.
    fn from_str(s: &str) -> Result<Level, ParseLevelError> {
        let level = match s.to_ascii_lowercase().as_str() {
            "emerg" | "emergency" | "panic" | "0" => Level::Emerg,
            "alert" | "1" => Level::Alert,
            "crit" | "critical" | "2" => Level::Crit,
            "err" | "error" | "3" => Level::Err,
            "warn" | "warning" | "4" => Level::Warn,
            "notice" | "5" => Level::Notice,
            "info" | "6" => Level::Info,
            "debug" | "7" => Level::Debug,
            _ => {
                return Err(ParseLevelError {
                    input: s.to_owned(),
                });
            }
        };
        Ok(level)
    }
}

/// The error from parsing a [`Level`] name that no level has.
///
/// ```
/// use fdframe::kmsg::Level;
///
/// let err = "loud".parse::<Level>().unwrap_err();
/// assert_eq!(err.input(), "loud");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLevelError {
    input: String,
}

impl ParseLevelError {
    /// The text that is not a level name.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown log level {:?} (expected emerg, alert, crit, err, warn, notice, info, debug or 0..7)",
            self.input
        )
    }
}

impl std::error::Error for ParseLevelError {}
