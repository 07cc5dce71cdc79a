//! Signals read from a signalfd: [`SignalfdDecoder`] turns each 128-byte
//! `struct signalfd_siginfo` into a [`SignalfdSiginfo`].

use std::convert::Infallible;

use bytes::{Buf, BytesMut};

use super::fields::Fields;
use crate::{Decoder, ReadLimits};

/// `sizeof(struct signalfd_siginfo)`, fixed by the kernel ABI on every architecture.
const RECORD_LEN: usize = 128;

/// Decodes the records read from a signalfd (`signalfd(2)`).
///
/// # Reads
///
/// A read returns as many whole 128-byte records as fit and fails with `EINVAL` when the buffer
/// is smaller than one (`signalfd_read` in `fs/signalfd.c`), so
/// [`read_limits`](Decoder::read_limits) asks for 128 bytes before every read. Every 128 bytes
/// are a valid record, so decoding never fails.
///
/// # Losses
///
/// None are reported, because signalfd reports none: a standard signal raised while the same
/// signal is already pending is merged into it by the kernel, invisibly (real-time signals are
/// queued, up to `RLIMIT_SIGPENDING`).
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::devices::SignalfdDecoder;
///
/// let mut raw = [0_u8; 128];
/// raw[..4].copy_from_slice(&15_u32.to_ne_bytes()); // ssi_signo: SIGTERM
/// raw[12..16].copy_from_slice(&4242_u32.to_ne_bytes()); // ssi_pid
///
/// let mut decoder = SignalfdDecoder::new();
/// assert_eq!(decoder.read_limits().min_read_capacity, 128);
/// let info = decoder.decode(&mut BytesMut::from(&raw[..])).unwrap().unwrap();
/// assert_eq!((info.signo, info.pid), (15, 4242));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SignalfdDecoder {
    _private: (),
}

impl SignalfdDecoder {
    /// A decoder for signalfd records.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Decoder for SignalfdDecoder {
    type Item = SignalfdSiginfo;
    type Error = Infallible;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<SignalfdSiginfo>, Infallible> {
        let Some(record) = src.get(..RECORD_LEN) else {
            return Ok(None);
        };
        let info = SignalfdSiginfo::parse(record);
        src.advance(RECORD_LEN);
        Ok(Some(info))
    }

    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream()
            .min_read_capacity(RECORD_LEN)
            .max_frame_len(RECORD_LEN)
    }
}

/// One signal, as `struct signalfd_siginfo` in `include/uapi/linux/signalfd.h` describes it.
///
/// Field names drop the header's `ssi_` prefix. Which fields are meaningful depends on the signal
/// and on `code` (see signalfd(2) and sigaction(2)); the others are zero.
///
/// # Layout
///
/// Native-endian, 128 bytes:
///
/// ```text
/// offset  field          type     offset  field          type
///      0  ssi_signo      __u32        48  ssi_ptr        __u64
///      4  ssi_errno      __s32        56  ssi_utime      __u64
///      8  ssi_code       __s32        64  ssi_stime      __u64
///     12  ssi_pid        __u32        72  ssi_addr       __u64
///     16  ssi_uid        __u32        80  ssi_addr_lsb   __u16
///     20  ssi_fd         __s32        82  (__pad2)       __u16
///     24  ssi_tid        __u32        84  ssi_syscall    __s32
///     28  ssi_band       __u32        88  ssi_call_addr  __u64
///     32  ssi_overrun    __u32        96  ssi_arch       __u32
///     36  ssi_trapno     __u32       100  ssi_perf_type  __u32
///     40  ssi_status     __s32       104  ssi_perf_data  __u64
///     44  ssi_int        __s32       112  (__pad)        16 bytes
/// ```
///
/// The kernel carves new fields out of the trailing padding and zeroes what it does not fill, so
/// fields newer than the running kernel read as 0. The struct is `#[non_exhaustive]` so that
/// future fields can be added here too.
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::devices::{SignalfdDecoder, SignalfdSiginfo};
///
/// let mut raw = [0_u8; 128];
/// raw[..4].copy_from_slice(&17_u32.to_ne_bytes()); // SIGCHLD
/// raw[40..44].copy_from_slice(&3_i32.to_ne_bytes()); // exit status
/// let info: SignalfdSiginfo = SignalfdDecoder::new()
///     .decode(&mut BytesMut::from(&raw[..]))
///     .unwrap()
///     .unwrap();
/// assert_eq!((info.signo, info.status), (17, 3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SignalfdSiginfo {
    /// `ssi_signo`: the signal number.
    pub signo: u32,
    /// `ssi_errno`: an error number (unused on Linux).
    pub errno: i32,
    /// `ssi_code`: why the signal was sent (`SI_USER`, `SI_QUEUE`, `CLD_EXITED`, ...).
    pub code: i32,
    /// `ssi_pid`: the sender's process ID.
    pub pid: u32,
    /// `ssi_uid`: the sender's real user ID.
    pub uid: u32,
    /// `ssi_fd`: the file descriptor, for `SIGIO`.
    pub fd: i32,
    /// `ssi_tid`: the kernel timer ID, for POSIX timers.
    pub tid: u32,
    /// `ssi_band`: the band event, for `SIGIO`.
    pub band: u32,
    /// `ssi_overrun`: the timer overrun count, for POSIX timers.
    pub overrun: u32,
    /// `ssi_trapno`: the trap number that caused the signal.
    pub trapno: u32,
    /// `ssi_status`: the exit status or signal, for `SIGCHLD`.
    pub status: i32,
    /// `ssi_int`: the integer sent by `sigqueue(3)`.
    pub int: i32,
    /// `ssi_ptr`: the pointer sent by `sigqueue(3)`.
    pub ptr: u64,
    /// `ssi_utime`: user CPU time consumed, for `SIGCHLD`.
    pub utime: u64,
    /// `ssi_stime`: system CPU time consumed, for `SIGCHLD`.
    pub stime: u64,
    /// `ssi_addr`: the address that generated the signal, for hardware-generated signals.
    pub addr: u64,
    /// `ssi_addr_lsb`: the least significant bit of the address, for `SIGBUS`.
    pub addr_lsb: u16,
    /// `ssi_syscall`: the system call number, for `SIGSYS` from seccomp.
    pub syscall: i32,
    /// `ssi_call_addr`: the address of the system call instruction, for `SIGSYS`.
    pub call_addr: u64,
    /// `ssi_arch`: the `AUDIT_ARCH_*` of the system call, for `SIGSYS`.
    pub arch: u32,
    /// `ssi_perf_type`: the perf event type, for `SIGTRAP` from perf events.
    pub perf_type: u32,
    /// `ssi_perf_data`: the perf event data, for `SIGTRAP` from perf events.
    pub perf_data: u64,
}

impl SignalfdSiginfo {
    /// Reads the fields in the order `include/uapi/linux/signalfd.h` declares them.
    fn parse(record: &[u8]) -> Self {
        let mut f = Fields::new(record);
        let signo = f.u32();
        let errno = f.i32();
        let code = f.i32();
        let pid = f.u32();
        let uid = f.u32();
        let fd = f.i32();
        let tid = f.u32();
        let band = f.u32();
        let overrun = f.u32();
        let trapno = f.u32();
        let status = f.i32();
        let int = f.i32();
        let ptr = f.u64();
        let utime = f.u64();
        let stime = f.u64();
        let addr = f.u64();
        let addr_lsb = f.u16();
        f.skip(2); // __pad2
        let syscall = f.i32();
        let call_addr = f.u64();
        let arch = f.u32();
        let perf_type = f.u32();
        let perf_data = f.u64();
        SignalfdSiginfo {
            signo,
            errno,
            code,
            pid,
            uid,
            fd,
            tid,
            band,
            overrun,
            trapno,
            status,
            int,
            ptr,
            utime,
            stime,
            addr,
            addr_lsb,
            syscall,
            call_addr,
            arch,
            perf_type,
            perf_data,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::devices::testutil::{Out, drive, split_at};

    /// A record whose every field holds a distinct value, written at the offsets of the header.
    fn distinct_record() -> Vec<u8> {
        let mut raw = vec![0_u8; RECORD_LEN];
        let mut put = |at: usize, bytes: &[u8]| raw[at..at + bytes.len()].copy_from_slice(bytes);
        put(0, &10_u32.to_ne_bytes());
        put(4, &(-11_i32).to_ne_bytes());
        put(8, &(-12_i32).to_ne_bytes());
        put(12, &13_u32.to_ne_bytes());
        put(16, &14_u32.to_ne_bytes());
        put(20, &(-15_i32).to_ne_bytes());
        put(24, &16_u32.to_ne_bytes());
        put(28, &17_u32.to_ne_bytes());
        put(32, &18_u32.to_ne_bytes());
        put(36, &19_u32.to_ne_bytes());
        put(40, &(-20_i32).to_ne_bytes());
        put(44, &(-21_i32).to_ne_bytes());
        put(48, &0x2222_2222_2222_2222_u64.to_ne_bytes());
        put(56, &0x2323_2323_2323_2323_u64.to_ne_bytes());
        put(64, &0x2424_2424_2424_2424_u64.to_ne_bytes());
        put(72, &0x2525_2525_2525_2525_u64.to_ne_bytes());
        put(80, &0x2626_u16.to_ne_bytes());
        put(82, &0xeeee_u16.to_ne_bytes()); // __pad2: ignored
        put(84, &(-27_i32).to_ne_bytes());
        put(88, &0x2828_2828_2828_2828_u64.to_ne_bytes());
        put(96, &0xc000_003e_u32.to_ne_bytes()); // AUDIT_ARCH_X86_64
        put(100, &30_u32.to_ne_bytes());
        put(104, &0x3131_3131_3131_3131_u64.to_ne_bytes());
        put(112, &[0xee; 16]); // __pad: ignored
        raw
    }

    fn distinct_info() -> SignalfdSiginfo {
        SignalfdSiginfo {
            signo: 10,
            errno: -11,
            code: -12,
            pid: 13,
            uid: 14,
            fd: -15,
            tid: 16,
            band: 17,
            overrun: 18,
            trapno: 19,
            status: -20,
            int: -21,
            ptr: 0x2222_2222_2222_2222,
            utime: 0x2323_2323_2323_2323,
            stime: 0x2424_2424_2424_2424,
            addr: 0x2525_2525_2525_2525,
            addr_lsb: 0x2626,
            syscall: -27,
            call_addr: 0x2828_2828_2828_2828,
            arch: 0xc000_003e,
            perf_type: 30,
            perf_data: 0x3131_3131_3131_3131,
        }
    }

    #[test]
    fn every_field_is_read_from_its_header_offset() {
        let mut buf = BytesMut::from(&distinct_record()[..]);
        let info = SignalfdDecoder::new().decode(&mut buf).unwrap().unwrap();
        assert_eq!(info, distinct_info());
        assert!(buf.is_empty());
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn sigusr1_from_kill_decodes_from_literal_bytes() {
        // SIGUSR1 (10), SI_USER (0), pid 0x1234, uid 1000; everything else zero.
        let mut raw = [0_u8; 128];
        raw[0] = 10;
        raw[12..16].copy_from_slice(&[0x34, 0x12, 0, 0]);
        raw[16..20].copy_from_slice(&[0xe8, 0x03, 0, 0]);
        let info = SignalfdDecoder::new()
            .decode(&mut BytesMut::from(&raw[..]))
            .unwrap()
            .unwrap();
        assert_eq!(
            (info.signo, info.code, info.pid, info.uid),
            (10, 0, 0x1234, 1000)
        );
        assert_eq!(info.ptr, 0);
    }

    #[test]
    fn partial_record_is_left_in_the_buffer() {
        let raw = distinct_record();
        let mut buf = BytesMut::from(&raw[..127]);
        assert_eq!(SignalfdDecoder::new().decode(&mut buf).unwrap(), None);
        assert_eq!(buf.len(), 127);
    }

    #[test]
    fn read_limits_ask_for_one_whole_record() {
        let limits = SignalfdDecoder::new().read_limits();
        assert_eq!(limits.min_read_capacity, 128);
        assert_eq!(limits.max_frame_len, 128);
        assert!(!limits.one_record_per_read);
    }

    proptest! {
        #[test]
        fn any_split_of_several_records_gives_the_same_signals(
            signos in proptest::collection::vec(any::<u32>(), 0..4),
        ) {
            let mut raw = Vec::new();
            let mut expected = Vec::new();
            for signo in signos {
                let mut record = distinct_record();
                record[..4].copy_from_slice(&signo.to_ne_bytes());
                raw.extend(record);
                expected.push(Out::Item(SignalfdSiginfo { signo, ..distinct_info() }));
            }
            for at in 0..=raw.len() {
                let (out, rest) = drive(&mut SignalfdDecoder::new(), &split_at(&raw, at));
                prop_assert_eq!(&out, &expected, "split at {}", at);
                prop_assert!(rest.is_empty());
            }
        }

        #[test]
        fn random_bytes_never_panic_and_leave_less_than_a_record(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            at in any::<prop::sample::Index>(),
        ) {
            let at = at.index(bytes.len() + 1);
            let (out, rest) = drive(&mut SignalfdDecoder::new(), &split_at(&bytes, at));
            prop_assert_eq!(out.len(), bytes.len() / RECORD_LEN);
            prop_assert_eq!(rest.len(), bytes.len() % RECORD_LEN);
        }
    }
}
