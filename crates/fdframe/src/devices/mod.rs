//! Device message types.

mod fields;
mod inotify;
#[cfg(test)]
mod testutil;

pub use inotify::{InotifyDecoder, InotifyError, InotifyEvent, InotifyMask};
