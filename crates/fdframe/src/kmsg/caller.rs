use std::fmt;

/// Who printed a kernel log record: the `caller=` field (`/dev/kmsg`) or the `[T123]` bracket
/// (`/proc/kmsg`) that kernels built with `CONFIG_PRINTK_CALLER` add.
///
/// ```
/// use fdframe::kmsg::Caller;
///
/// assert_eq!(Caller::parse(b"T123"), Some(Caller::Thread(123)));
/// assert_eq!(Caller::parse(b"C2"), Some(Caller::Cpu(2)));
/// assert_eq!(Caller::parse(b"X9"), None);
/// assert_eq!(Caller::Thread(1).to_string(), "T1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Caller {
    /// `T<id>`: printed by the task (thread) with this id.
    Thread(u32),
    /// `C<id>`: printed outside task context (interrupt, NMI) on this CPU.
    Cpu(u32),
}

impl Caller {
    /// Parses `T<decimal>` or `C<decimal>`; anything else is `None`.
    pub fn parse(text: &[u8]) -> Option<Caller> {
        let (&kind, digits) = text.split_first()?;
        let id = super::parse::decimal_u64(digits)?;
        let id = u32::try_from(id).ok()?;
        match kind {
            b'T' => Some(Caller::Thread(id)),
            b'C' => Some(Caller::Cpu(id)),
            _ => None,
        }
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caller::Thread(id) => write!(f, "T{id}"),
            Caller::Cpu(id) => write!(f, "C{id}"),
        }
    }
}
