//! [`Backend`]: the `--backend` values, and which of them this build has.
//!
//! Only tokio (the default) and the blocking backend are always built; async-io and mio are
//! cargo features of fdframe-cli (`backend-async-io`, `backend-mio`, both: `all-backends`), so
//! a default build does not link their crates. A backend that was left out is hidden from
//! `--help` and its completions, and asking for it fails at argument parsing with the feature
//! that brings it ([`backend_arg`]).

use clap::builder::{EnumValueParser, PossibleValue, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Arg, Command, ValueEnum};

/// The backend that waits for the descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Backend {
    /// fdframe-tokio's `FdStream` on a current-thread tokio runtime.
    #[default]
    Tokio,
    /// fdframe-async-io's `FdStream` on async-io (the reactor of async-std and smol).
    /// (Also `async-std` and `smol`: the runtimes on that reactor.)
    #[value(name = "async-io", alias = "async-std", alias = "smol")]
    #[cfg_attr(not(feature = "backend-async-io"), value(hide = true))]
    AsyncIo,
    /// fdframe-mio's `FdReader` in a mio event loop.
    #[cfg_attr(not(feature = "backend-mio"), value(hide = true))]
    Mio,
    /// fdframe's own blocking `FdReader`, waiting in poll(2).
    Blocking,
}

impl Backend {
    /// The cargo feature of fdframe-cli that builds this backend in, if it is optional.
    fn feature(self) -> Option<&'static str> {
        match self {
            Backend::Tokio | Backend::Blocking => None,
            Backend::AsyncIo => Some("backend-async-io"),
            Backend::Mio => Some("backend-mio"),
        }
    }

    /// Whether this build has the backend.
    pub(crate) fn is_built(self) -> bool {
        match self {
            Backend::Tokio | Backend::Blocking => true,
            Backend::AsyncIo => cfg!(feature = "backend-async-io"),
            Backend::Mio => cfg!(feature = "backend-mio"),
        }
    }

    /// The name `--backend` takes.
    fn name(self) -> &'static str {
        match self {
            Backend::Tokio => "tokio",
            Backend::AsyncIo => "async-io",
            Backend::Mio => "mio",
            Backend::Blocking => "blocking",
        }
    }

    /// Why this backend cannot be used, for a build without it.
    pub(crate) fn not_built(self) -> String {
        let feature = self.feature().unwrap_or("default");
        format!(
            "the {} backend is not in this build of fdframe; build it with `cargo build -p fdframe-cli --features {feature}` (or `all-backends`)",
            self.name()
        )
    }
}

/// `--backend`'s parser: clap's own for the enum (which also takes the hidden names), then a
/// refusal of a backend not built in that names its feature. Set on the argument by
/// [`backend_arg`]: with `ValueEnum` derived, `value_parser!` picks clap's enum parser.
#[derive(Clone)]
struct BackendParser;

/// Gives `cmd`'s `--backend` argument the parser that explains a backend left out of the build.
pub(crate) fn backend_arg(cmd: Command) -> Command {
    cmd.mut_arg("backend", |arg| arg.value_parser(BackendParser))
}

impl TypedValueParser for BackendParser {
    type Value = Backend;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Backend, clap::Error> {
        let backend = EnumValueParser::<Backend>::new().parse_ref(cmd, arg, value)?;
        if backend.is_built() {
            return Ok(backend);
        }
        let arg = arg.map_or_else(|| "--backend".to_owned(), ToString::to_string);
        let message = format!(
            "invalid value '{}' for '{arg}': {}\n",
            backend.name(),
            backend.not_built()
        );
        Err(clap::Error::raw(ErrorKind::ValueValidation, message).with_cmd(cmd))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        EnumValueParser::<Backend>::new()
            .possible_values()
            .map(|values| Box::new(values.collect::<Vec<_>>().into_iter()) as Box<_>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtimes_on_async_io_name_its_backend_too() {
        for name in ["async-io", "async-std", "smol"] {
            assert_eq!(
                Backend::from_str(name, false),
                Ok(Backend::AsyncIo),
                "{name}"
            );
        }
    }

    #[test]
    fn every_backend_name_matches_its_value() {
        for backend in Backend::value_variants() {
            let value = backend.to_possible_value().unwrap();
            assert_eq!(value.get_name(), backend.name());
            // Hidden exactly when left out of this build.
            assert_eq!(value.is_hide_set(), !backend.is_built(), "{backend:?}");
        }
    }
}
