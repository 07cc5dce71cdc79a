//! `--level` and `--facility`: which records to print.
//!
//! Levels are named as `dmesg` prints them (any case; common aliases such as `warning` work too)
//! or numbered 0-7, and mean what `dmesg -l` means by them:
//!
//! | `--level`  | selects                                                      |
//! |------------|--------------------------------------------------------------|
//! | `warn`     | exactly warn (as `dmesg -l warn`)                            |
//! | `warn+`    | warn and everything more severe: emerg..warn (as `dmesg -l`) |
//! | `+warn`    | warn and everything less severe: warn..debug (as `dmesg -l`) |
//! | `err,info` | exactly these (as `dmesg -l`); each item may be any of these |
//! | `err..emerg` | an inclusive range, either order (fdframe's own)           |

use std::str::FromStr;

use fdframe::kmsg::{Facility, Level};

/// A set of levels; see the module documentation for the syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LevelFilter {
    /// Bit `n` set: level `n` is selected.
    mask: u8,
}

impl LevelFilter {
    /// Whether `level` is selected.
    pub(crate) fn allows(self, level: Level) -> bool {
        self.mask & (1 << level.number()) != 0
    }
}

/// The bits of the levels `a..=b` (numbers, either order).
fn range_mask(a: Level, b: Level) -> u8 {
    let (lo, hi) = (a.number().min(b.number()), a.number().max(b.number()));
    (lo..=hi).fold(0, |mask, n| mask | 1 << n)
}

fn parse_level(name: &str) -> Result<Level, String> {
    name.trim().parse::<Level>().map_err(|e| e.to_string())
}

impl FromStr for LevelFilter {
    type Err = String;

    /// As util-linux's `string_to_bitarray` reads `dmesg -l`: an item ending in `+` adds the
    /// levels more severe than it (lower numbers), one starting with `+` those less severe; a
    /// bare name is that level alone, even when it is the only item.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut mask = 0;
        for part in s.split(',') {
            let part = part.trim();
            mask |= if let Some((a, b)) = part.split_once("..") {
                range_mask(parse_level(a)?, parse_level(b)?)
            } else if let Some(name) = part.strip_suffix('+') {
                range_mask(Level::Emerg, parse_level(name)?)
            } else if let Some(name) = part.strip_prefix('+') {
                range_mask(parse_level(name)?, Level::Debug)
            } else {
                1 << parse_level(part)?.number()
            };
        }
        Ok(LevelFilter { mask })
    }
}

/// A set of facilities: a comma-separated list of names as `dmesg -x` prints them (`kern`,
/// `user`, `daemon`, ..., `local7`) or numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FacilityFilter {
    selected: Vec<Facility>,
    /// `-u`: every facility but kern.
    userspace: bool,
}

impl FacilityFilter {
    /// Whether `facility` is selected.
    pub(crate) fn allows(&self, facility: Facility) -> bool {
        self.selected.contains(&facility) || (self.userspace && facility != Facility::KERN)
    }

    /// `-f LIST`, `-k` (kern) and `-u` (all but kern) together, as dmesg adds them up; `None`
    /// when none was given (every facility).
    pub(crate) fn combine(
        list: Option<FacilityFilter>,
        kernel: bool,
        userspace: bool,
    ) -> Option<FacilityFilter> {
        if list.is_none() && !kernel && !userspace {
            return None;
        }
        let mut filter = list.unwrap_or(FacilityFilter {
            selected: Vec::new(),
            userspace: false,
        });
        if kernel {
            filter.selected.push(Facility::KERN);
        }
        filter.userspace |= userspace;
        Some(filter)
    }
}

impl FromStr for FacilityFilter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let selected = s
            .split(',')
            .map(|name| name.trim().parse::<Facility>().map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        Ok(FacilityFilter {
            selected,
            userspace: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selected(filter: &str) -> Vec<&'static str> {
        let filter: LevelFilter = filter.parse().unwrap();
        Level::ALL
            .into_iter()
            .filter(|l| filter.allows(*l))
            .map(Level::as_str)
            .collect()
    }

    #[test]
    fn a_single_level_means_exactly_that_level_as_in_dmesg() {
        assert_eq!(selected("warn"), ["warn"]);
        assert_eq!(selected("emerg"), ["emerg"]);
        assert_eq!(selected("debug"), ["debug"]);
        assert_eq!(selected("3"), ["err"]);
        assert_eq!(selected("WARNING"), ["warn"]);
    }

    #[test]
    fn a_range_is_inclusive_in_either_order() {
        assert_eq!(selected("err..emerg"), ["emerg", "alert", "crit", "err"]);
        assert_eq!(selected("emerg..err"), ["emerg", "alert", "crit", "err"]);
        assert_eq!(selected("notice..info"), ["notice", "info"]);
        assert_eq!(selected("6..7"), ["info", "debug"]);
    }

    #[test]
    fn a_list_selects_exactly_its_items() {
        assert_eq!(selected("err,info"), ["err", "info"]);
        assert_eq!(selected("emerg, debug"), ["emerg", "debug"]);
        assert_eq!(selected("crit..err,debug"), ["crit", "err", "debug"]);
    }

    #[test]
    fn plus_marks_an_open_end_as_in_dmesg() {
        assert_eq!(selected("warn+"), ["emerg", "alert", "crit", "err", "warn"]);
        assert_eq!(selected("err+"), ["emerg", "alert", "crit", "err"]);
        assert_eq!(selected("+notice"), ["notice", "info", "debug"]);
        assert_eq!(selected("debug+").len(), 8);
        assert_eq!(selected("emerg+"), ["emerg"]);
        assert_eq!(selected("crit+,debug"), ["emerg", "alert", "crit", "debug"]);
    }

    #[test]
    fn unknown_levels_are_errors_that_name_the_input() {
        for bad in ["loud", "8", "", "warn..", "err,,info", "..info"] {
            let err = bad.parse::<LevelFilter>().unwrap_err();
            assert!(err.contains("unknown log level"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn kernel_and_userspace_add_up_with_a_list() {
        assert_eq!(FacilityFilter::combine(None, false, false), None);
        let kernel = FacilityFilter::combine(None, true, false).unwrap();
        assert!(kernel.allows(Facility::KERN) && !kernel.allows(Facility::USER));
        let user = FacilityFilter::combine(None, false, true).unwrap();
        assert!(!user.allows(Facility::KERN));
        for f in [Facility::USER, Facility::DAEMON, Facility::LOCAL7] {
            assert!(user.allows(f), "{f}");
        }
        let both = FacilityFilter::combine(Some("mail".parse().unwrap()), true, false).unwrap();
        assert!(both.allows(Facility::MAIL) && both.allows(Facility::KERN));
        assert!(!both.allows(Facility::USER));
    }

    #[test]
    fn facilities_are_a_list_of_dmesg_names_or_numbers() {
        let filter: FacilityFilter = "kern, user,local7,3".parse().unwrap();
        for allowed in [
            Facility::KERN,
            Facility::USER,
            Facility::LOCAL7,
            Facility::DAEMON,
        ] {
            assert!(filter.allows(allowed), "{allowed}");
        }
        assert!(!filter.allows(Facility::MAIL));
        let err = "kern,bogus".parse::<FacilityFilter>().unwrap_err();
        assert!(err.contains("\"bogus\""), "{err}");
    }
}
