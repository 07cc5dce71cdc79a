//! `/dev/kmsg` convenience: [`FdStream::kmsg`].

use std::io;

use fdframe::kmsg::{self, KmsgDecoder, KmsgStart};

use crate::FdStream;

impl FdStream<KmsgDecoder> {
    /// Reads the kernel log: opens `/dev/kmsg` at `start` (see [`kmsg::open`]) and decodes its
    /// records with a [`KmsgDecoder`].
    ///
    /// [`KmsgStart::Oldest`] gives the whole ring buffer and then new records as they are
    /// logged (`dmesg -w`); [`KmsgStart::New`] only records logged after this call
    /// (`dmesg -W`). Every read is offered 8 KiB, so no record is lost to `EINVAL`. When the
    /// kernel overwrites records before they are read, the stream yields
    /// [`fdframe::Error::Lost`] with their count and goes on.
    ///
    /// # Errors
    ///
    /// The open error, unchanged: `EPERM`/`EACCES` without `CAP_SYSLOG` where
    /// `kernel.dmesg_restrict=1`; or a registration error (see [`FdStream::new`]).
    ///
    /// ```no_run
    /// use fdframe::kmsg::KmsgStart;
    /// use fdframe_async_io::FdStream;
    /// use futures_lite::StreamExt;
    ///
    /// # smol::block_on(async {
    /// let mut new_records = FdStream::kmsg(KmsgStart::New)?;
    /// if let Some(Ok(record)) = new_records.next().await {
    ///     println!("[{:?}] {}", record.timestamp(), record.message_lossy());
    /// }
    /// # std::io::Result::Ok(())
    /// # }).unwrap();
    /// ```
    pub fn kmsg(start: KmsgStart) -> io::Result<Self> {
        Self::from_fd(kmsg::open(start)?, KmsgDecoder::new())
    }
}
