//! `cargo xtask tidy`: rules of this repository that no compiler checks.
//!
//! - every `lib.rs`, `main.rs` and `mod.rs` opens with a `//!` module doc;
//! - `unsafe` appears only in the core's `sys` module and in the tokio backend (whose
//!   `AsyncFd::register` is an `unsafe fn`), and every `unsafe {` block has a `// SAFETY:`
//!   comment right above it;
//! - each runtime crate (tokio, mio, async-io, async-std, smol) is a dependency of exactly one
//!   library crate (its backend), and never of the core; applications (CLI, benchmarks, the
//!   stress runner) may use any.

use std::fs;
use std::path::{Path, PathBuf};

use crate::workspace_root;

/// Where `unsafe` code may live, relative to the workspace root.
const UNSAFE_ALLOWED: &[&str] = &["crates/fdframe/src/sys/", "crates/fdframe-tokio/src/"];

/// Runtime crates and the one published crate allowed to depend on each.
const RUNTIMES: &[(&str, &str)] = &[
    ("tokio", "crates/fdframe-tokio"),
    ("mio", "crates/fdframe-mio"),
    ("async-io", "crates/fdframe-async-std"),
    ("async-std", "crates/fdframe-async-std"),
    ("smol", "crates/fdframe-async-std"),
];

/// Runs every rule and reports all violations at once.
pub(crate) fn run() -> Result<(), String> {
    let root = workspace_root();
    let mut problems = Vec::new();
    let mut sources = Vec::new();
    for dir in ["crates", "xtask", "tests", "examples"] {
        collect(&root.join(dir), "rs", &mut sources);
    }
    for file in &sources {
        let rel = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        let Ok(text) = fs::read_to_string(file) else {
            problems.push(format!("{rel}: unreadable"));
            continue;
        };
        check_module_doc(&rel, &text, &mut problems);
        check_unsafe(&rel, &text, &mut problems);
    }
    let mut manifests = Vec::new();
    collect(&root.join("crates"), "toml", &mut manifests);
    for manifest in manifests.iter().filter(|m| m.ends_with("Cargo.toml")) {
        let rel = manifest
            .strip_prefix(&root)
            .unwrap_or(manifest)
            .to_string_lossy()
            .replace('\\', "/");
        let text = fs::read_to_string(manifest).unwrap_or_default();
        check_runtime_deps(&rel, &text, &mut problems);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "tidy found {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if path.is_dir() {
            collect(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn check_module_doc(rel: &str, text: &str, problems: &mut Vec<String>) {
    let is_root = ["lib.rs", "main.rs", "mod.rs"]
        .iter()
        .any(|n| rel.ends_with(n));
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if is_root && !first.starts_with("//!") {
        problems.push(format!(
            "{rel}: a crate or module root must open with a `//!` doc"
        ));
    }
}

fn check_unsafe(rel: &str, text: &str, problems: &mut Vec<String>) {
    let allowed = UNSAFE_ALLOWED.iter().any(|dir| rel.starts_with(dir));
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let code = without_strings(line.split("//").next().unwrap_or(""));
        if !code.contains("unsafe {")
            && !code.contains("unsafe fn")
            && !code.contains("unsafe impl")
        {
            continue;
        }
        if !allowed {
            problems.push(format!(
                "{rel}:{}: `unsafe` outside {UNSAFE_ALLOWED:?}",
                i + 1
            ));
            continue;
        }
        let justified = lines[..i]
            .iter()
            .rev()
            .take_while(|l| {
                l.trim_start().starts_with("//") || l.trim().is_empty() || !l.contains(';')
            })
            .take(12)
            .any(|l| l.contains("SAFETY:"));
        if code.contains("unsafe {") && !justified {
            problems.push(format!(
                "{rel}:{}: `unsafe` block without a `// SAFETY:` comment",
                i + 1
            ));
        }
    }
}

/// `line` with the contents of its string literals removed (good enough for one-line strings).
fn without_strings(line: &str) -> String {
    line.split('"').step_by(2).collect::<Vec<_>>().join("\"\"")
}

fn check_runtime_deps(rel: &str, text: &str, problems: &mut Vec<String>) {
    let mut section = "";
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line;
            continue;
        }
        // Tests and examples may use any runtime (the conformance suite drives them all).
        if section != "[dependencies]" {
            continue;
        }
        let name = line.split(['=', ' ', '.']).next().unwrap_or("");
        for (runtime, owner) in RUNTIMES {
            // The CLI, the benchmarks and the stress runner are applications: they may pick
            // runtimes.
            let application = [
                "crates/fdframe-cli",
                "crates/fdframe-bench",
                "crates/fdframe-stress",
            ]
            .iter()
            .any(|app| rel.starts_with(app));
            if name == *runtime && !rel.starts_with(owner) && !application {
                problems.push(format!(
                    "{rel}: runtime crate `{runtime}` belongs only in {owner}"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn repository_is_tidy() {
        if let Err(problems) = super::run() {
            panic!("{problems}");
        }
    }

    #[test]
    fn unsafe_outside_sys_is_reported() {
        let mut problems = Vec::new();
        super::check_unsafe(
            "crates/fdframe/src/codec/lines.rs",
            "fn f() { unsafe { g() } }",
            &mut problems,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn unsafe_block_without_safety_comment_is_reported() {
        let mut problems = Vec::new();
        super::check_unsafe(
            "crates/fdframe/src/sys/mod.rs",
            "fn f() {\n    unsafe { g() }\n}",
            &mut problems,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        problems.clear();
        super::check_unsafe(
            "crates/fdframe/src/sys/mod.rs",
            "fn f() {\n    // SAFETY: g has no preconditions.\n    unsafe { g() }\n}",
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn runtime_in_the_core_is_reported() {
        let mut problems = Vec::new();
        super::check_runtime_deps(
            "crates/fdframe/Cargo.toml",
            "[dependencies]\ntokio = \"1\"\n",
            &mut problems,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
    }
}
