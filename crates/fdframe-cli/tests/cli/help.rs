//! `--help` is complete: every option and an example section, for the tool and each subcommand.

use crate::support::{BACKENDS, fdframe, stderr, stdout};

fn help(args: &[&str]) -> String {
    let output = fdframe(args);
    assert!(output.status.success(), "{output:?}");
    stdout(&output)
}

#[test]
fn the_tool_help_names_both_subcommands_and_shows_examples() {
    let text = help(&["--help"]);
    for needle in ["kmsg", "read", "Examples:", "Exit status"] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
}

#[test]
fn kmsg_help_documents_every_option_and_the_output() {
    let text = help(&["kmsg", "--help"]);
    for needle in [
        "--follow",
        "--since-now",
        "--level",
        "warn+",
        "--facility",
        "--time-format",
        "-J, --json",
        "--json-lines",
        "-L, --color",
        "-T, --ctime",
        "-t, --notime",
        "-d, --show-delta",
        "-e, --reltime",
        "-W, --follow-new",
        "-k, --kernel",
        "-u, --userspace",
        "-r, --raw",
        "-p, --force-prefix",
        "--noescape",
        "-F, --file",
        "-K, --kmsg-file",
        "-H, --human",
        "-P, --nopager",
        "--since",
        "--until",
        "-n, --lines",
        "-g, --grep",
        "--reverse",
        "-b, --boot",
        "--show-cursor",
        "--after-cursor",
        "--dict",
        "--cursor",
        "--cursor-reset",
        "--backend",
        "Examples:",
        "\"type\":\"loss\"",
        "suspend",
        "CAP_SYSLOG",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
}

#[test]
fn read_help_lists_every_codec_and_output_form() {
    let text = help(&["read", "--help"]);
    for needle in [
        "lines",
        "utf8-lines",
        "len:u32be",
        "fixed:N",
        "chunks",
        "kmsg",
        "proc-kmsg",
        "inotify",
        "raw",
        "hex",
        "json",
        "Examples:",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
}

/// `--backend`'s list in `--help` is what the binary was built with.
#[test]
fn backend_help_lists_exactly_the_backends_built_in() {
    for command in ["kmsg", "read"] {
        let text = help(&[command, "--help"]);
        let listed = text
            .split("--backend <BACKEND>")
            .nth(1)
            .and_then(|rest| rest.split("[default: tokio]").next())
            .unwrap_or_else(|| panic!("no --backend section in {command} --help:\n{text}"));
        for backend in ["tokio", "async-io", "mio", "blocking"] {
            let built = BACKENDS.contains(&backend);
            assert_eq!(
                listed.contains(&format!("- {backend}:")),
                built,
                "{command}: {backend} (built: {built}) in:\n{listed}"
            );
        }
    }
}

/// A backend this build left out is refused at argument parsing, with the feature to enable.
#[test]
fn a_backend_left_out_of_the_build_is_refused_with_its_feature() {
    for (backend, feature) in [("async-io", "backend-async-io"), ("mio", "backend-mio")] {
        if BACKENDS.contains(&backend) {
            continue;
        }
        let output = fdframe(&["read", "--backend", backend, "-"]);
        assert_eq!(output.status.code(), Some(2), "{backend}: {output:?}");
        let err = stderr(&output);
        assert!(
            err.contains(&format!("--features {feature}")) && err.contains(backend),
            "{backend}: {err}"
        );
    }
}
