//! The conformance suite, instantiated for every backend.
//!
//! Each module below is one backend's glue — a [`Backend`](fdframe_conformance::Backend)
//! implementation of a few lines — followed by `conformance_tests!`, which expands to one test
//! per case. `cargo test -p fdframe-tests` names each run `<backend>::<case>`;
//! `cargo xtask conformance` prints them as a matrix.
//!
//! | module      | backend                                   | waits with                        |
//! |-------------|-------------------------------------------|-----------------------------------|
//! | `blocking`  | `fdframe::blocking::FdReader`             | `poll(2)`                         |
//! | `tokio`     | `fdframe_tokio::FdStream`                 | tokio current-thread runtime      |
//! | `async_std` | `fdframe_async_io::FdStream`             | `async_std::task::block_on`       |
//! | `smol`      | `fdframe_async_io::FdStream`             | `smol::block_on`                  |
//! | `mio`       | `fdframe_mio::FdReader` (`drain`)         | one `mio::Poll` per thread        |

#![forbid(unsafe_code)]

mod within;

mod async_std;
mod blocking;
mod mio;
mod smol;
mod tokio;
