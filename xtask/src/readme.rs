//! `cargo xtask readme-check`: the root README's quick-start programs compile as a new user
//! would build them.
//!
//! The README pairs each program with the `cargo add` line a user types (a ```` ```sh ```` block
//! holding one `cargo add ...` line, then the ```` ```rust ```` block). For each pair this builds
//! a scratch crate with exactly those dependencies and the program, verbatim, as its
//! `src/main.rs`, and runs `cargo check` on it with `-D warnings`. The scratch crates are their
//! own workspaces (outside this one: no workspace dependencies, lints or patches leak in); the
//! workspace's crates are path dependencies, everything else comes from the registry at the
//! versions in the workspace's `Cargo.lock` (copied in, so no new versions are fetched and the
//! check works from the registry cache).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::workspace_root;

/// One quick-start program and the dependencies its `cargo add` line names.
#[derive(Debug, PartialEq)]
struct Program {
    /// The first crate of the `cargo add` line (`fdframe-tokio`), naming the scratch crate.
    label: String,
    /// (crate, features) in the order the line names them.
    deps: Vec<(String, Vec<String>)>,
    /// The ```` ```rust ```` block, verbatim.
    source: String,
}

/// Builds every README program; fails if the README has none or one does not compile.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`readme-check` takes no arguments, got `{arg}`"));
    }
    let root = workspace_root();
    let readme = fs::read_to_string(root.join("README.md"))
        .map_err(|e| format!("cannot read README.md: {e}"))?;
    let programs = programs(&readme)?;
    if programs.is_empty() {
        return Err("README.md has no `cargo add` + ```rust pair to check".into());
    }
    let scratch_root = root.join("target").join("readme-check");
    for program in &programs {
        let started = Instant::now();
        let dir = scratch_crate(&root, &scratch_root, program)?;
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["check", "--quiet"])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", scratch_root.join("target"))
            .env("RUSTFLAGS", "-D warnings")
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!(
                "the README's {} program does not compile with only `{}` ({status}); scratch crate: {}",
                program.label,
                cargo_add_line(program),
                dir.display()
            ));
        }
        println!(
            "xtask readme-check: {} program compiles with only `{}` ({:.1?})",
            program.label,
            cargo_add_line(program),
            started.elapsed()
        );
    }
    Ok(())
}

/// The README's (`cargo add` line, program) pairs.
fn programs(readme: &str) -> Result<Vec<Program>, String> {
    let mut programs = Vec::new();
    let mut pending: Option<Vec<(String, Vec<String>)>> = None;
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let info = info.trim().to_string();
        let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        if info == "sh" {
            pending = match block.as_slice() {
                [single] if single.trim_start().starts_with("cargo add ") => {
                    Some(parse_cargo_add(single)?)
                }
                _ => None,
            };
        } else if info.split(',').next() == Some("rust") {
            if let Some(deps) = pending.take() {
                programs.push(Program {
                    label: deps[0].0.clone(),
                    deps,
                    source: block.join("\n") + "\n",
                });
            }
        } else {
            pending = None;
        }
    }
    Ok(programs)
}

/// `cargo add a b --features a/x,b/y` (also `-F`, `--features=`) as (crate, features) pairs.
fn parse_cargo_add(line: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let words: Vec<&str> = line.split_whitespace().skip(2).collect();
    let mut deps: Vec<(String, Vec<String>)> = Vec::new();
    let mut features = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        if let Some(list) = word.strip_prefix("--features=") {
            features.extend(list.split(',').map(str::to_string));
        } else if word == "--features" || word == "-F" {
            i += 1;
            let list = words
                .get(i)
                .ok_or(format!("`{line}`: {word} needs a value"))?;
            features.extend(list.split(',').map(str::to_string));
        } else if word.starts_with('-') {
            return Err(format!(
                "`{line}`: readme-check does not understand `{word}`"
            ));
        } else {
            deps.push((word.to_string(), Vec::new()));
        }
        i += 1;
    }
    if deps.is_empty() {
        return Err(format!("`{line}` names no crate"));
    }
    for feature in features.into_iter().filter(|f| !f.is_empty()) {
        let (krate, feature) = match feature.split_once('/') {
            Some((krate, feature)) => (krate.to_string(), feature.to_string()),
            // cargo applies an unqualified feature to the one crate being added.
            None if deps.len() == 1 => (deps[0].0.clone(), feature),
            None => return Err(format!("`{line}`: feature `{feature}` names no crate")),
        };
        let dep = deps
            .iter_mut()
            .find(|(name, _)| *name == krate)
            .ok_or(format!(
                "`{line}`: feature of `{krate}`, which is not added"
            ))?;
        dep.1.push(feature);
    }
    Ok(deps)
}

fn cargo_add_line(program: &Program) -> String {
    let names: Vec<&str> = program.deps.iter().map(|(n, _)| n.as_str()).collect();
    let features: Vec<String> = program
        .deps
        .iter()
        .flat_map(|(n, fs)| fs.iter().map(move |f| format!("{n}/{f}")))
        .collect();
    if features.is_empty() {
        format!("cargo add {}", names.join(" "))
    } else {
        format!(
            "cargo add {} --features {}",
            names.join(" "),
            features.join(",")
        )
    }
}

/// Writes the scratch crate for `program` and returns its directory.
fn scratch_crate(root: &Path, scratch_root: &Path, program: &Program) -> Result<PathBuf, String> {
    let dir = scratch_root.join(&program.label);
    fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut manifest = format!(
        "# Written by `cargo xtask readme-check`: the README's `{}`.\n\
         [package]\nname = \"readme-{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         # Its own workspace: nothing of fdframe's workspace applies.\n[workspace]\n\n[dependencies]\n",
        cargo_add_line(program),
        program.label
    );
    for (name, features) in &program.deps {
        let local = root.join("crates").join(name);
        let source = if local.join("Cargo.toml").is_file() {
            format!("path = {:?}", local.to_string_lossy())
        } else {
            // Any version: the copied lock file pins the workspace's.
            "version = \"*\"".to_string()
        };
        let features = features
            .iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        manifest.push_str(&format!(
            "{name} = {{ {source}, features = [{features}] }}\n"
        ));
    }
    let write = |path: PathBuf, text: &str| {
        fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write(dir.join("Cargo.toml"), &manifest)?;
    write(dir.join("src").join("main.rs"), &program.source)?;
    let lock = fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    write(dir.join("Cargo.lock"), &lock)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cargo_add_line_pairs_with_the_next_rust_block() {
        let readme = "\
# x

```sh
cargo add fdframe-tokio tokio --features tokio/macros,tokio/rt-multi-thread
```

```rust,no_run
fn main() {}
```

```rust
// not paired: no cargo add line right before it
```

```sh
cargo run -p something
```

```rust
// not paired either
```

```sh
cargo add fdframe-async-io smol
```

```rust
fn main() { smol(); }
```
";
        let programs = programs(readme).unwrap();
        assert_eq!(programs.len(), 2, "{programs:?}");
        assert_eq!(programs[0].label, "fdframe-tokio");
        assert_eq!(
            programs[0].deps,
            [
                ("fdframe-tokio".to_string(), vec![]),
                (
                    "tokio".to_string(),
                    vec!["macros".to_string(), "rt-multi-thread".to_string()]
                ),
            ]
        );
        assert_eq!(programs[0].source, "fn main() {}\n");
        assert_eq!(programs[1].label, "fdframe-async-io");
        assert_eq!(programs[1].source, "fn main() { smol(); }\n");
    }

    #[test]
    fn features_of_a_crate_not_added_are_an_error() {
        assert!(parse_cargo_add("cargo add fdframe-tokio --features tokio/full").is_err());
        assert!(parse_cargo_add("cargo add a b --features x").is_err());
        assert_eq!(
            parse_cargo_add("cargo add smol -F x").unwrap(),
            [("smol".to_string(), vec!["x".to_string()])]
        );
    }
}
