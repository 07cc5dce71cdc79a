//! A reader of native-endian fields out of one kernel record, in declaration order.
//!
//! The device structs are read field by field, in the order the kernel header declares them, so
//! the code reads like the header it was checked against. Callers first make sure the whole record
//! is buffered; the reader never panics even if they did not (it yields zeros past the end, and
//! the golden tests, which give every field a distinct value, would catch a wrong layout).

/// Walks a record front to back, handing out one field at a time.
pub(super) struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    /// Starts at the first byte of `record`.
    pub(super) fn new(record: &'a [u8]) -> Self {
        Fields { rest: record }
    }

    fn take<const N: usize>(&mut self) -> [u8; N] {
        match self.rest.split_first_chunk::<N>() {
            Some((head, rest)) => {
                self.rest = rest;
                *head
            }
            None => {
                self.rest = &[];
                [0; N]
            }
        }
    }

    /// Steps over `n` bytes of padding.
    pub(super) fn skip(&mut self, n: usize) {
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    /// A `__u16`.
    pub(super) fn u16(&mut self) -> u16 {
        u16::from_ne_bytes(self.take())
    }

    /// A `__u32`.
    pub(super) fn u32(&mut self) -> u32 {
        u32::from_ne_bytes(self.take())
    }

    /// A `__s32` (or C `int`).
    pub(super) fn i32(&mut self) -> i32 {
        i32::from_ne_bytes(self.take())
    }

    /// A `__u64`.
    pub(super) fn u64(&mut self) -> u64 {
        u64::from_ne_bytes(self.take())
    }

    /// A C `long`, whose width follows the target (8 bytes on 64-bit Linux, 4 on 32-bit).
    pub(super) fn c_long(&mut self) -> i64 {
        #[cfg(target_pointer_width = "64")]
        {
            i64::from_ne_bytes(self.take())
        }
        #[cfg(not(target_pointer_width = "64"))]
        {
            i64::from(i32::from_ne_bytes(self.take()))
        }
    }

    /// How many bytes of the record have not been read yet.
    #[cfg(test)]
    pub(super) fn remaining(&self) -> usize {
        self.rest.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_in_order_and_native_endian() {
        let mut record = Vec::new();
        record.extend_from_slice(&0x0102_u16.to_ne_bytes());
        record.extend_from_slice(&[0xee, 0xee]);
        record.extend_from_slice(&(-7_i32).to_ne_bytes());
        record.extend_from_slice(&0xdead_beef_u32.to_ne_bytes());
        record.extend_from_slice(&0x0102_0304_0506_0708_u64.to_ne_bytes());
        let mut fields = Fields::new(&record);
        assert_eq!(fields.u16(), 0x0102);
        fields.skip(2);
        assert_eq!(fields.i32(), -7);
        assert_eq!(fields.u32(), 0xdead_beef);
        assert_eq!(fields.u64(), 0x0102_0304_0506_0708);
        assert_eq!(fields.remaining(), 0);
    }

    #[test]
    fn reading_past_the_end_yields_zeros_instead_of_panicking() {
        let mut fields = Fields::new(&[1, 2]);
        assert_eq!(fields.u32(), 0);
        assert_eq!(fields.u16(), 0);
        fields.skip(10);
        assert_eq!(fields.c_long(), 0);
        assert_eq!(fields.remaining(), 0);
    }
}
