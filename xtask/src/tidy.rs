//! `cargo xtask tidy`: rules of this repository that no compiler checks.
//!
//! - every `lib.rs`, `main.rs` and `mod.rs` opens with a `//!` module doc;
//! - `unsafe` appears only in the core's `sys` module and in the one file of the tokio backend
//!   that registers with tokio (`AsyncFd::register_with_interest` is an `unsafe fn`), and every
//!   `unsafe {` block has a `// SAFETY:` comment right above it;
//! - every conformance case (a `pub fn name<B: Backend>() -> Outcome` in
//!   `crates/fdframe-conformance/src/cases/`) is listed in `conformance_tests!`, or it would
//!   never run;
//! - each runtime crate (tokio, mio, async-io, async-std, smol) is a dependency of exactly one
//!   library crate (its backend), and never of the core; applications (CLI, benchmarks, the
//!   stress runner) may use any.

use std::fs;
use std::path::{Path, PathBuf};

use crate::workspace_root;

/// Where `unsafe` code may live, relative to the workspace root: a folder (ending in `/`) or
/// one file.
const UNSAFE_ALLOWED: &[&str] = &[
    "crates/fdframe/src/sys/",
    "crates/fdframe-tokio/src/source.rs",
];

/// The conformance cases, and the file whose `conformance_tests!` must list each of them.
const CASES_DIR: &str = "crates/fdframe-conformance/src/cases";
const CASES_LIST: &str = "crates/fdframe-conformance/src/lib.rs";

/// Runtime crates and the one published crate allowed to depend on each.
const RUNTIMES: &[(&str, &str)] = &[
    ("tokio", "crates/fdframe-tokio"),
    ("mio", "crates/fdframe-mio"),
    ("async-io", "crates/fdframe-async-io"),
    ("async-std", "crates/fdframe-async-io"),
    ("smol", "crates/fdframe-async-io"),
];

/// Runs every rule and reports all violations at once.
pub(crate) fn run() -> Result<(), String> {
    let root = workspace_root();
    let mut problems = Vec::new();
    let mut sources = Vec::new();
    // Every folder of the workspace (not a fixed list, which goes stale when one is added or
    // never created), except build output and hidden ones (.git, .cargo).
    for entry in fs::read_dir(&root)
        .map_err(|e| format!("cannot list {}: {e}", root.display()))?
        .flatten()
    {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.path().is_dir() && name != "target" && !name.starts_with('.') {
            collect(&entry.path(), "rs", &mut sources);
        }
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
        check_engine_is_sans_io(&rel, &text, &mut problems);
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
    check_cases_listed(&root, &mut problems);
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
    let allowed = UNSAFE_ALLOWED
        .iter()
        .any(|place| rel == *place || (place.ends_with('/') && rel.starts_with(place)));
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

/// Reports each case function of `cases/<module>.rs` that `conformance_tests!` does not list
/// as `<module>::<case>`.
fn check_cases_listed(root: &Path, problems: &mut Vec<String>) {
    let list = match fs::read_to_string(root.join(CASES_LIST)) {
        Ok(text) => text,
        Err(e) => {
            problems.push(format!("{CASES_LIST}: unreadable ({e})"));
            return;
        }
    };
    let mut files = Vec::new();
    collect(&root.join(CASES_DIR), "rs", &mut files);
    if files.is_empty() {
        problems.push(format!("{CASES_DIR}: no case files found"));
    }
    for file in files {
        let Some(module) = file.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        let text = fs::read_to_string(&file).unwrap_or_default();
        for case in case_names(&text) {
            if !lists_case(&list, &module, &case) {
                problems.push(format!(
                    "{CASES_DIR}/{module}.rs: case `{case}` is not listed in `conformance_tests!` ({CASES_LIST}), so it never runs"
                ));
            }
        }
    }
}

/// The names of the conformance cases in a case file: `pub fn <name><B: Backend>(`.
fn case_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("pub fn ")?;
            let (name, generics) = rest.split_once('<')?;
            generics
                .contains("Backend")
                .then(|| name.trim().to_string())
        })
        .collect()
}

/// Whether `list` names `module::case` as a whole path (not as a prefix of a longer name).
fn lists_case(list: &str, module: &str, case: &str) -> bool {
    let path = format!("{module}::{case}");
    list.match_indices(&path).any(|(at, _)| {
        let before = list[..at].chars().next_back();
        let after = list[at + path.len()..].chars().next();
        let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// `line` with the contents of its string literals removed (good enough for one-line strings).
fn without_strings(line: &str) -> String {
    line.split('"').step_by(2).collect::<Vec<_>>().join("\"\"")
}

/// The engine is sans-IO: no file under `crates/fdframe/src/engine/` may reach the syscall
/// layer (`sys`); the one read lives in `ReadFd`.
fn check_engine_is_sans_io(rel: &str, text: &str, problems: &mut Vec<String>) {
    if !rel.starts_with("crates/fdframe/src/engine/") {
        return;
    }
    for (number, line) in text.lines().enumerate() {
        let code = without_strings(line);
        let code = code.split("//").next().unwrap_or("");
        if code.contains("crate::sys") || code.contains("super::sys") || code.contains("sys::") {
            problems.push(format!(
                "{rel}:{}: the engine must not use the syscall layer (`sys`)",
                number + 1
            ));
        }
    }
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
    fn an_engine_file_that_uses_sys_is_reported() {
        let mut problems = Vec::new();
        super::check_engine_is_sans_io(
            "crates/fdframe/src/engine/read_space.rs",
            "use crate::sys;\n// sys:: in a comment is fine\n",
            &mut problems,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        let mut problems = Vec::new();
        super::check_engine_is_sans_io(
            "crates/fdframe/src/fd.rs",
            "use crate::sys;",
            &mut problems,
        );
        assert!(problems.is_empty());
    }

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
    fn unsafe_elsewhere_in_the_tokio_backend_is_reported() {
        let mut problems = Vec::new();
        let code = "fn f() {\n    // SAFETY: g has no preconditions.\n    unsafe { g() }\n}";
        super::check_unsafe("crates/fdframe-tokio/src/stream.rs", code, &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        problems.clear();
        super::check_unsafe("crates/fdframe-tokio/src/source.rs", code, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_case_missing_from_the_macro_is_found() {
        let cases = "pub fn one<B: Backend>() -> Outcome {}\n\
                     pub fn two_more<B: Backend>() -> Outcome {}\n\
                     pub(crate) fn helper(x: u8) {}\n";
        assert_eq!(super::case_names(cases), ["one", "two_more"]);
        let list = "conformance_tests!(@each $b; pipes::one, pipes::two_more_x,);";
        assert!(super::lists_case(list, "pipes", "one"));
        // A longer name that starts with the case's does not count as listing it.
        assert!(!super::lists_case(list, "pipes", "two_more"));
        assert!(!super::lists_case(list, "streams", "one"));
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
