//! `--help` is complete: every option and an example section, for the tool and each subcommand.

use crate::support::{fdframe, stdout};

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
