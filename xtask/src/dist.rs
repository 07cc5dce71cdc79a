//! `cargo xtask dist [--prefix DIR]`: the man pages and shell completions of `fdframe`, made
//! from its clap definitions, in `target/dist/`; with `--prefix`, also installed under DIR
//! (`/usr/local` for a system-wide install).
//!
//! ```text
//! target/dist/man/fdframe.1 fdframe-kmsg.1 fdframe-read.1
//! target/dist/completions/fdframe.bash _fdframe fdframe.fish fdframe.elv _fdframe.ps1
//! ```
//!
//! The binary prints each of them on standard output (`fdframe generate WHAT`, hidden); this
//! writes the files, so the root-run binary never creates files for it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (what `fdframe generate` takes, the file under target/dist, where `--prefix` installs it).
const OUTPUTS: [(&str, &str, &str); 8] = [
    ("man", "man/fdframe.1", "share/man/man1/fdframe.1"),
    (
        "man-kmsg",
        "man/fdframe-kmsg.1",
        "share/man/man1/fdframe-kmsg.1",
    ),
    (
        "man-read",
        "man/fdframe-read.1",
        "share/man/man1/fdframe-read.1",
    ),
    (
        "bash",
        "completions/fdframe.bash",
        "share/bash-completion/completions/fdframe",
    ),
    (
        "zsh",
        "completions/_fdframe",
        "share/zsh/site-functions/_fdframe",
    ),
    (
        "fish",
        "completions/fdframe.fish",
        "share/fish/vendor_completions.d/fdframe.fish",
    ),
    (
        "elvish",
        "completions/fdframe.elv",
        "share/elvish/lib/fdframe.elv",
    ),
    (
        "powershell",
        "completions/_fdframe.ps1",
        "share/powershell/_fdframe.ps1",
    ),
];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let prefix = match args {
        [] => None,
        [flag, dir] if flag == "--prefix" => Some(PathBuf::from(dir)),
        _ => return Err("usage: cargo xtask dist [--prefix DIR]".into()),
    };
    let root = crate::workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "-p", "fdframe-cli", "--bin", "fdframe"])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("dist: cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("dist: building fdframe failed".into());
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let binary = target.join("debug").join("fdframe");
    let dist = target.join("dist");
    for (what, file, installed) in OUTPUTS {
        let output = Command::new(&binary)
            .args(["generate", what])
            .output()
            .map_err(|e| format!("dist: cannot run {}: {e}", binary.display()))?;
        if !output.status.success() || output.stdout.is_empty() {
            return Err(format!(
                "dist: `fdframe generate {what}` failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        write(&dist.join(file), &output.stdout)?;
        if let Some(prefix) = &prefix {
            write(&prefix.join(installed), &output.stdout)?;
        }
    }
    println!(
        "xtask dist: man pages and completions in {}",
        dist.display()
    );
    if let Some(prefix) = prefix {
        println!("xtask dist: installed under {}", prefix.display());
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("dist: {}: {e}", dir.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("dist: {}: {e}", path.display()))
}
