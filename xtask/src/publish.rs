//! `cargo xtask publish-check`: every published crate would publish, and its tests build from
//! what is published.
//!
//! 1. `cargo publish --workspace --dry-run --allow-dirty` (cargo ≥ 1.90): packages every
//!    crate without `publish = false` and builds each from its package, in dependency order,
//!    against a local registry holding the others' packages — so a backend's dry run does not
//!    need the core on crates.io, unlike `cargo publish -p fdframe-tokio --dry-run`, which
//!    fails until `fdframe` is published (or passes only with `--no-verify`). It reads the
//!    crates.io index (no upload happens).
//! 2. The packages' tests: cargo drops path-only dev-dependencies (such as the unpublished
//!    `fdframe-conformance`) from a package, so a published crate's tests must build without
//!    them. The `.crate` files from step 1 are unpacked into `target/package-tests/`, a
//!    workspace of their own whose `[patch.crates-io]` points each published crate at its
//!    unpacked package, and `cargo test --workspace --all-features --no-run` builds every test,
//!    example and doctest-free target there, with the workspace's `Cargo.lock`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::workspace_root;

/// The published crates (every workspace member without `publish = false`).
const PUBLISHED: &[&str] = &[
    "fdframe",
    "fdframe-tokio",
    "fdframe-async-io",
    "fdframe-mio",
    "fdframe-cli",
];

/// Runs both steps; stops at the first failure.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`publish-check` takes no arguments, got `{arg}`"));
    }
    let root = workspace_root();
    check_published_list(&root)?;
    let version = workspace_version(&root)?;
    clear_stale_unpacked_packages(&cargo_home(), &version)?;
    let started = Instant::now();
    cargo(
        &root,
        &["publish", "--workspace", "--dry-run", "--allow-dirty"],
        "cargo publish --workspace --dry-run",
    )?;
    println!(
        "xtask publish-check: {} crates package and build from their packages ({:.1?})",
        PUBLISHED.len(),
        started.elapsed()
    );

    let started = Instant::now();
    let scratch = root.join("target").join("package-tests");
    let mut members = Vec::new();
    let mut patches = String::new();
    for name in PUBLISHED {
        let dir_name = format!("{name}-{version}");
        // `cargo publish --workspace` leaves the `.crate` files in `tmp-crate/` (cargo 1.90+);
        // `cargo package` in `target/package/` itself.
        let package_dir = root.join("target").join("package");
        let crate_file = [package_dir.join("tmp-crate"), package_dir.clone()]
            .iter()
            .map(|dir| dir.join(format!("{dir_name}.crate")))
            .find(|file| file.is_file())
            .ok_or(format!(
                "no {dir_name}.crate under {} after the dry run",
                package_dir.display()
            ))?;
        let unpacked = scratch.join(&dir_name);
        if unpacked.exists() {
            fs::remove_dir_all(&unpacked).map_err(|e| format!("{}: {e}", unpacked.display()))?;
        }
        fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        let status = Command::new("tar")
            // `m`: the files get the current time, not the archived one, so cargo rebuilds what
            // changed since the last check instead of trusting older timestamps.
            .arg("xzmf")
            .arg(&crate_file)
            .arg("-C")
            .arg(&scratch)
            .status()
            .map_err(|e| format!("cannot run tar: {e}"))?;
        if !status.success() {
            return Err(format!("cannot unpack {} ({status})", crate_file.display()));
        }
        members.push(format!("{dir_name:?}"));
        patches.push_str(&format!("{name} = {{ path = {dir_name:?} }}\n"));
    }
    let manifest = format!(
        "# Written by `cargo xtask publish-check`: the published packages, as crates.io would\n\
         # serve them, built together.\n\
         [workspace]\nresolver = \"3\"\nmembers = [{}]\n\n[patch.crates-io]\n{patches}",
        members.join(", ")
    );
    write(&scratch.join("Cargo.toml"), &manifest)?;
    let lock = fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    write(&scratch.join("Cargo.lock"), &lock)?;
    cargo(
        &scratch,
        &[
            "test",
            "--workspace",
            "--all-features",
            "--no-run",
            "--quiet",
        ],
        "the published packages' tests",
    )?;
    println!(
        "xtask publish-check: the published packages' tests build from the packages alone ({:.1?})",
        started.elapsed()
    );
    Ok(())
}

/// `$CARGO_HOME`, or `~/.cargo`.
fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// Removes what earlier dry runs unpacked of our packages into `cargo_home`'s registry sources.
///
/// The dry run's local registry (`target/package/tmp-registry`) is named after its path, and
/// cargo unpacks a package from a registry only once: a later dry run from a checkout at the
/// same path (CI's clone, a rerun) would build the dependent crates against the packages of
/// the *earlier* run — seen here: `fdframe-cli` built against a `fdframe` without a variant
/// added since. crates.io's own sources (`index.crates.io-*`) are left alone.
fn clear_stale_unpacked_packages(cargo_home: &Path, version: &str) -> Result<(), String> {
    let Ok(registries) = fs::read_dir(cargo_home.join("registry").join("src")) else {
        return Ok(()); // nothing unpacked yet
    };
    for registry in registries.flatten() {
        if registry.file_name().to_string_lossy().starts_with("index.") {
            continue;
        }
        for name in PUBLISHED {
            let unpacked = registry.path().join(format!("{name}-{version}"));
            if unpacked.is_dir() {
                fs::remove_dir_all(&unpacked)
                    .map_err(|e| format!("{}: {e}", unpacked.display()))?;
            }
        }
    }
    Ok(())
}

/// Fails when a crate's `publish` setting disagrees with [`PUBLISHED`].
fn check_published_list(root: &Path) -> Result<(), String> {
    let crates = fs::read_dir(root.join("crates")).map_err(|e| format!("crates/: {e}"))?;
    for entry in crates.flatten() {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&manifest) else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        let published = !text.lines().any(|l| l.trim() == "publish = false");
        if published != PUBLISHED.contains(&name.as_str()) {
            return Err(format!(
                "crates/{name}: publish is {published} but xtask/src/publish.rs says otherwise; update PUBLISHED"
            ));
        }
    }
    Ok(())
}

/// `[workspace.package] version` of the root manifest.
fn workspace_version(root: &Path) -> Result<String, String> {
    let text = fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| format!("cannot read Cargo.toml: {e}"))?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[workspace.package]";
        } else if let Some(value) = line.strip_prefix("version = ").filter(|_| in_package) {
            return Ok(value.trim_matches('"').to_string());
        }
    }
    Err("Cargo.toml has no [workspace.package] version".into())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn cargo(dir: &Path, args: &[&str], what: &str) -> Result<(), String> {
    println!("xtask publish-check: cargo {}", args.join(" "));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_unpacked_packages_go_and_crates_io_sources_stay() {
        let home = std::env::temp_dir().join(format!("xtask-publish-{}", std::process::id()));
        let src = home.join("registry").join("src");
        let stale = src.join("-14cd1cce6819ff87").join("fdframe-0.1.0");
        let other = src.join("-14cd1cce6819ff87").join("serde-1.0.0");
        let crates_io = src
            .join("index.crates.io-1949cf8c6b5b557f")
            .join("fdframe-0.1.0");
        for dir in [&stale, &other, &crates_io] {
            fs::create_dir_all(dir).unwrap();
        }
        clear_stale_unpacked_packages(&home, "0.1.0").unwrap();
        let (stale_gone, other_kept, crates_io_kept) =
            (!stale.exists(), other.exists(), crates_io.exists());
        fs::remove_dir_all(&home).unwrap();
        assert!(stale_gone, "an earlier dry run's package is removed");
        assert!(other_kept, "other packages stay");
        assert!(crates_io_kept, "crates.io's sources stay");
        // No registry sources at all is fine.
        clear_stale_unpacked_packages(&home, "0.1.0").unwrap();
    }
}
