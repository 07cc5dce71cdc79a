//! The conformance suite, instantiated for every backend.
//!
//! Each module below is one backend's glue — a [`Backend`](fdframe_conformance::Backend)
//! implementation of a few lines — followed by `conformance_tests!`, which expands to one test
//! per case. `cargo test -p fdframe-tests` names each run `<backend>::<case>`;
//! `cargo xtask conformance` prints them as a matrix.
//!
//! The async glues share their code: `async_glue` answers the suite's `Reader`/`BatchReader`
//! for any backend's stream on any [`Runtime`](async_glue::Runtime) (tokio, async-std, smol say
//! only how they block on a future, time out and run other work), and `async_io` is the one
//! backend glue of `fdframe-async-io`, which `async_std` and `smol` instantiate with their
//! executors.
//!
//! | module      | backend                                   | waits with                        |
//! |-------------|-------------------------------------------|-----------------------------------|
//! | `blocking`  | `fdframe::blocking::FdReader`             | `poll(2)`                         |
//! | `tokio`     | `fdframe_tokio::FdStream`                 | tokio current-thread runtime      |
//! | `async_std` | `fdframe_async_io::FdStream`             | `async_std::task::block_on`       |
//! | `smol`      | `fdframe_async_io::FdStream`             | `smol::block_on`                  |
//! | `mio`       | `fdframe_mio::FdReader` (`drain`)         | one `mio::Poll` per thread        |

#![forbid(unsafe_code)]

mod async_glue;
mod async_io;
mod within;

mod async_std;
mod blocking;
mod mio;
mod smol;
mod tokio;
