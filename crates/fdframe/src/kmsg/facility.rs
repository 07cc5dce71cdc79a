use std::fmt;
use std::str::FromStr;

/// The origin of a kernel log record: the syslog facility, the priority's bits above the level.
///
/// The kernel's own messages are [`Facility::KERN`]; anything written to `/dev/kmsg` by a
/// program carries another facility (the kernel replaces `kern` by `user`), which is how the
/// origin of every record can be told apart.
///
/// A facility is a number, not an enum, because the priority field can hold any number: the 24
/// facilities syslog defines have constants and names, others are kept as they are and print as
/// their number.
///
/// The names are the ones `dmesg -x` prints (util-linux 2.39 and later; 12..=15 are reserved
/// and named `res0`..`res3` there, 2.38 prints no name for 12 and above).
///
/// ```
/// use fdframe::kmsg::Facility;
///
/// assert_eq!(Facility::from_priority(14), Facility::USER); // <14> is user.info
/// assert_eq!(Facility::from_priority(190), Facility::LOCAL7); // <190> is local7.info
/// assert_eq!(Facility::LOCAL7.name(), Some("local7"));
/// assert_eq!("daemon".parse::<Facility>().unwrap(), Facility::DAEMON);
///
/// let odd = Facility::from_number(200);
/// assert_eq!(odd.name(), None);
/// assert_eq!(odd.to_string(), "200");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Facility(u32);

/// Names of facilities 0..=23, indexed by number.
const NAMES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "res0", "res1", "res2", "res3", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

impl Facility {
    /// 0: kernel messages.
    pub const KERN: Facility = Facility(0);
    /// 1: user-level messages (the default for records written to `/dev/kmsg`).
    pub const USER: Facility = Facility(1);
    /// 2: mail system.
    pub const MAIL: Facility = Facility(2);
    /// 3: system daemons.
    pub const DAEMON: Facility = Facility(3);
    /// 4: security/authorization messages.
    pub const AUTH: Facility = Facility(4);
    /// 5: messages generated internally by syslogd.
    pub const SYSLOG: Facility = Facility(5);
    /// 6: line printer subsystem.
    pub const LPR: Facility = Facility(6);
    /// 7: network news subsystem.
    pub const NEWS: Facility = Facility(7);
    /// 8: UUCP subsystem.
    pub const UUCP: Facility = Facility(8);
    /// 9: clock daemon.
    pub const CRON: Facility = Facility(9);
    /// 10: security/authorization messages (private).
    pub const AUTHPRIV: Facility = Facility(10);
    /// 11: FTP daemon.
    pub const FTP: Facility = Facility(11);
    /// 12: reserved (`res0`).
    pub const RES0: Facility = Facility(12);
    /// 13: reserved (`res1`).
    pub const RES1: Facility = Facility(13);
    /// 14: reserved (`res2`).
    pub const RES2: Facility = Facility(14);
    /// 15: reserved (`res3`).
    pub const RES3: Facility = Facility(15);
    /// 16: local use 0.
    pub const LOCAL0: Facility = Facility(16);
    /// 17: local use 1.
    pub const LOCAL1: Facility = Facility(17);
    /// 18: local use 2.
    pub const LOCAL2: Facility = Facility(18);
    /// 19: local use 3.
    pub const LOCAL3: Facility = Facility(19);
    /// 20: local use 4.
    pub const LOCAL4: Facility = Facility(20);
    /// 21: local use 5.
    pub const LOCAL5: Facility = Facility(21);
    /// 22: local use 6.
    pub const LOCAL6: Facility = Facility(22);
    /// 23: local use 7.
    pub const LOCAL7: Facility = Facility(23);

    /// The facility numbered `n` (known or not).
    pub const fn from_number(n: u32) -> Facility {
        Facility(n)
    }

    /// The facility of a syslog priority (`facility * 8 + level`).
    pub const fn from_priority(priority: u32) -> Facility {
        Facility(priority >> 3)
    }

    /// The facility's number (0 for `kern`, 16 for `local0`, ...).
    pub const fn number(self) -> u32 {
        self.0
    }

    /// The name `dmesg -x` prints, or `None` for a number above 23.
    pub fn name(self) -> Option<&'static str> {
        NAMES.get(self.0 as usize).copied()
    }
}

impl fmt::Display for Facility {
    /// Prints the name, or the number for a facility without one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.pad(name),
            None => f.pad(&self.0.to_string()),
        }
    }
}

impl FromStr for Facility {
    type Err = ParseFacilityError;

    /// Parses a facility name as `dmesg -x` prints it (any case; also `security` for `auth`) or
    /// a decimal number.
    fn from_str(s: &str) -> Result<Facility, ParseFacilityError> {
        let lower = s.to_ascii_lowercase();
        if lower == "security" {
            return Ok(Facility::AUTH);
        }
        if let Some(n) = NAMES.iter().position(|name| *name == lower) {
            return Ok(Facility(n as u32));
        }
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = s.parse::<u32>() {
                return Ok(Facility(n));
            }
        }
        Err(ParseFacilityError {
            input: s.to_owned(),
        })
    }
}

/// The error from parsing a [`Facility`] name that no facility has.
///
/// ```
/// use fdframe::kmsg::Facility;
///
/// let err = "printer".parse::<Facility>().unwrap_err();
/// assert_eq!(err.input(), "printer");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseFacilityError {
    input: String,
}

impl ParseFacilityError {
    /// The text that is not a facility name.
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for ParseFacilityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown syslog facility {:?} (expected kern, user, ..., local7 or a number)",
            self.input
        )
    }
}

impl std::error::Error for ParseFacilityError {}
