//! `fdframe generate WHAT` (hidden): a man page or a shell's completions, made from the clap
//! definitions and written to standard output, for `cargo xtask dist`. Nothing is written to
//! a file here: the root-run binary creates no files for this.
//!
//! | WHAT                                   | output                                    |
//! |----------------------------------------|-------------------------------------------|
//! | `man`, `man-kmsg`, `man-read`          | fdframe(1), fdframe-kmsg(1), fdframe-read(1) |
//! | `bash`, `zsh`, `fish`, `elvish`, `powershell` | that shell's completion script      |

use std::io::{self, Write};

use clap::{Command, CommandFactory};
use clap_complete::Shell;

use crate::Cli;
use crate::failure::{Failure, Finished};

/// What can be generated, for the usage error.
pub(crate) const WHATS: &str = "man, man-kmsg, man-read, bash, zsh, fish, elvish, powershell";

/// Writes `what` to standard output.
pub(crate) fn run(what: &str) -> Result<Finished, Failure> {
    let mut out = io::stdout().lock();
    match what {
        "man" => man(&public_command(), &mut out)?,
        "man-kmsg" | "man-read" => man(&subcommand_page(&what[4..]), &mut out)?,
        shell => {
            let shell: Shell = shell.parse().map_err(|_| Failure::Message {
                text: format!("generate: {what:?} is none of {WHATS}"),
                code: 2,
            })?;
            clap_complete::generate(shell, &mut public_command(), "fdframe", &mut out);
        }
    }
    out.flush()?;
    Ok(Finished::Input)
}

/// `fdframe` as users see it: without the hidden `generate` (completions would offer it).
pub(crate) fn public_command() -> Command {
    let cli = Cli::command();
    let subcommands: Vec<Command> = cli
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let mut command = Command::new("fdframe")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .subcommands(subcommands);
    if let Some(about) = cli.get_about() {
        command = command.about(about.clone());
    }
    if let Some(after) = cli.get_after_help() {
        command = command.after_help(after.clone());
    }
    command
}

/// The page of one subcommand: `fdframe-kmsg(1)`, with its own options.
pub(crate) fn subcommand_page(name: &str) -> Command {
    let page: &'static str = match name {
        "kmsg" => "fdframe-kmsg",
        _ => "fdframe-read",
    };
    Cli::command()
        .find_subcommand(name)
        .expect("a subcommand of fdframe")
        .clone()
        .name(page)
        .version(env!("CARGO_PKG_VERSION"))
}

fn man(command: &Command, out: &mut impl Write) -> io::Result<()> {
    clap_mangen::Man::new(command.clone()).render(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(command: &Command) -> String {
        let mut out = Vec::new();
        man(command, &mut out).unwrap();
        // roff writes `-` as `\-`.
        String::from_utf8(out).unwrap().replace("\\-", "-")
    }

    /// Every option a user can type is in its subcommand's page, long and short.
    #[test]
    fn each_subcommands_man_page_mentions_every_option() {
        for name in ["kmsg", "read"] {
            let command = subcommand_page(name);
            let text = page(&command);
            assert!(text.contains(&format!(".TH fdframe-{name} 1")), "{name}");
            let mut checked = 0;
            for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
                if let Some(long) = arg.get_long() {
                    assert!(
                        text.contains(&format!("--{long}")),
                        "{name}: --{long} missing"
                    );
                    checked += 1;
                }
                if let Some(short) = arg.get_short() {
                    assert!(
                        text.contains(&format!("-{short}")),
                        "{name}: -{short} missing"
                    );
                }
            }
            assert!(checked >= 3, "{name}: only {checked} options");
        }
        let top = page(&public_command());
        for name in ["kmsg", "read"] {
            assert!(
                top.contains(&format!("fdframe-{name}(1)")),
                "fdframe(1) names fdframe-{name}(1)"
            );
        }
    }

    #[test]
    fn completions_cover_the_subcommands_and_dmesgs_options() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut public_command(), "fdframe", &mut out);
            let text = String::from_utf8(out).unwrap();
            for needle in ["kmsg", "read", "since", "follow-new", "json-lines"] {
                assert!(text.contains(needle), "{shell}: {needle} missing");
            }
            assert!(
                !text.contains("generate"),
                "{shell}: the hidden subcommand shows"
            );
        }
    }
}
