use bytes::Bytes;

/// The `KEY=VALUE` lines that follow a `/dev/kmsg` record's message, in the order the kernel
/// wrote them, with keys and values unescaped.
///
/// Drivers that log through `dev_printk` attach `SUBSYSTEM=` and `DEVICE=` (`b12:8` block
/// device, `c127:3` char device, `n8` network interface index, `+sound:card0`
/// subsystem:name); other keys may appear on other kernels and are kept the same way.
///
/// ```
/// use bytes::Bytes;
/// use fdframe::kmsg::KmsgRecord;
///
/// let record = KmsgRecord::parse(Bytes::from_static(
///     b"7,160,424069,-;pci_root PNP0A03:00: host bridge window\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n",
/// ))
/// .unwrap();
/// let dict = record.dictionary();
/// assert_eq!(dict.len(), 2);
/// assert_eq!(dict.get("SUBSYSTEM").unwrap(), "acpi");
/// assert_eq!(dict.get("DEVICE").unwrap(), "+acpi:PNP0A03:00");
/// assert_eq!(dict.get("DRIVER"), None);
/// let keys: Vec<_> = dict.iter().map(|(key, _)| key.clone()).collect();
/// assert_eq!(keys, ["SUBSYSTEM", "DEVICE"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dictionary {
    entries: Vec<(Bytes, Bytes)>,
}

impl Dictionary {
    pub(super) fn push(&mut self, key: Bytes, value: Bytes) {
        self.entries.push((key, value));
    }

    /// The value of the first entry named `key`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Option<&Bytes> {
        let key = key.as_ref();
        self.entries
            .iter()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v)
    }

    /// The entries, in the order the kernel wrote them.
    pub fn iter(&self) -> std::slice::Iter<'_, (Bytes, Bytes)> {
        self.entries.iter()
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns `true` when the record has no dictionary lines.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a> IntoIterator for &'a Dictionary {
    type Item = &'a (Bytes, Bytes);
    type IntoIter = std::slice::Iter<'a, (Bytes, Bytes)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}
