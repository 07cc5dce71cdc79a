//! The fuzz targets, one function per decoder plus one for the engine; each panics on a
//! property violation and returns the behaviour it saw as feedback [`Features`](crate::Features).

pub(crate) mod codecs;
pub(crate) mod devices;
pub(crate) mod kmsg;
