//! Turn Linux file descriptors into streams of decoded messages.
//!
//! (crate documentation is written once the engine lands)

#![deny(unsafe_code)]

pub mod blocking;
pub mod codec;
mod decoder;
pub mod devices;
mod engine;
mod error;
mod fd;
pub mod kmsg;
mod sys;

pub use decoder::{Decoder, ReadErrorAction, ReadLimits};
pub use engine::{Framer, ReadBuf, Step};
pub use error::{Error, Loss, LossCause};
pub use fd::{FdKind, ReadFd};
