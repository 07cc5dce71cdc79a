//! `cargo xtask conformance [--backend NAME]`: the conformance suite as a case × backend matrix.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use crate::workspace_root;

/// Backends in matrix order: (label the runner prints, test module name). Each backend runs
/// the cases per message and, as `<backend>/batch`, through its batch API.
const BACKENDS: &[(&str, &str)] = &[
    ("blocking", "blocking"),
    ("blocking/batch", "blocking::batch"),
    ("tokio", "tokio"),
    ("tokio/batch", "tokio::batch"),
    ("async-std", "async_std"),
    ("async-std/batch", "async_std::batch"),
    ("smol", "smol"),
    ("smol/batch", "smol::batch"),
    ("mio", "mio"),
    ("mio/batch", "mio::batch"),
];

/// One cell of the matrix.
struct Cell {
    result: String,
    ms: u64,
    reason: String,
}

/// Runs the suite (all backends, or one) and prints the matrix; fails if any case failed.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let backend = match args {
        [] => None,
        [flag, name] if flag == "--backend" => Some(
            BACKENDS
                .iter()
                .find(|(label, module)| label == name || module == name)
                .ok_or_else(|| {
                    format!(
                        "unknown backend `{name}`; one of: blocking, tokio, async-std, smol, mio (each also with /batch)"
                    )
                })?,
        ),
        _ => return Err("usage: cargo xtask conformance [--backend NAME]".into()),
    };
    let mut cargo = cargo();
    cargo.args(["test", "-p", "fdframe-tests", "--test", "conformance"]);
    if let Some((_, module)) = backend {
        cargo.args(["--", &format!("{module}::")]);
    }
    run_and_report(cargo, backend, false)
}

/// `cargo test --workspace` (the README's test command: every test of the workspace, the
/// conformance suite included, each once), then the suite's matrix from that same run.
pub(crate) fn workspace_tests() -> Result<(), String> {
    let mut cargo = cargo();
    cargo.args(["test", "--workspace"]);
    run_and_report(cargo, None, true)
}

fn cargo() -> Command {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .env("FDFRAME_CONFORMANCE_REPORT", "1")
        .current_dir(workspace_root());
    cargo
}

/// Runs `cargo`, prints the matrix of the conformance results it reported, and fails if the
/// run failed (any test, with `echo` also printing the whole output) or no case ran.
fn run_and_report(
    mut cargo: Command,
    backend: Option<&(&str, &str)>,
    echo: bool,
) -> Result<(), String> {
    let started = Instant::now();
    let (status, stdout, stderr) = if echo {
        run_streaming(cargo)?
    } else {
        let output = cargo
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        (
            output.status,
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let cells = parse(&stderr);
    let backends: Vec<&str> = BACKENDS
        .iter()
        .filter(|b| backend.is_none_or(|chosen| chosen == *b))
        .map(|(label, _)| *label)
        .collect();
    print_matrix(&cells, &backends);
    let failed = cells
        .values()
        .flat_map(BTreeMap::values)
        .filter(|c| c.result == "fail")
        .count();
    let skipped = cells
        .values()
        .flat_map(BTreeMap::values)
        .filter(|c| c.result == "skip")
        .count();
    let ran: usize = cells.values().map(BTreeMap::len).sum();
    println!(
        "\n{ran} runs: {} passed, {failed} failed, {skipped} skipped ({:.1?})",
        ran - failed - skipped,
        started.elapsed()
    );
    for (case, row) in &cells {
        for (backend, cell) in row {
            if cell.result == "skip" {
                println!("  skipped {backend}::{case}: {}", cell.reason);
            }
        }
    }
    if !status.success() || ran == 0 {
        if !echo {
            println!("\n{stdout}");
        }
        return Err(format!("the tests failed ({status})"));
    }
    Ok(())
}

/// Runs `cargo` with its standard output passed through as it comes, and its standard error
/// echoed line by line except the `conformance-result` lines, which are kept for the matrix.
fn run_streaming(mut cargo: Command) -> Result<(std::process::ExitStatus, String, String), String> {
    use std::io::{BufRead, BufReader};
    let mut child = cargo
        .stdout(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut kept = String::new();
    let stderr = child.stderr.take().expect("stderr is piped");
    for line in BufReader::new(stderr).lines() {
        let line = line.map_err(|e| format!("cannot read cargo's output: {e}"))?;
        if line.contains("conformance-result ") {
            kept.push_str(&line);
            kept.push('\n');
        } else {
            eprintln!("{line}");
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for cargo: {e}"))?;
    Ok((status, String::new(), kept))
}

/// `conformance-result <backend>::<case> <result> <ms> [reason]` lines, by case then backend.
fn parse(stderr: &str) -> BTreeMap<String, BTreeMap<String, Cell>> {
    let mut cells: BTreeMap<String, BTreeMap<String, Cell>> = BTreeMap::new();
    for line in stderr.lines() {
        let Some(rest) = line.split("conformance-result ").nth(1) else {
            continue;
        };
        let mut words = rest.splitn(4, ' ');
        let (Some(label), Some(result), Some(ms)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let Some((backend, case)) = label.split_once("::") else {
            continue;
        };
        cells.entry(case.to_string()).or_default().insert(
            backend.to_string(),
            Cell {
                result: result.to_string(),
                ms: ms.parse().unwrap_or(0),
                reason: words.next().unwrap_or("").trim().to_string(),
            },
        );
    }
    cells
}

fn print_matrix(cells: &BTreeMap<String, BTreeMap<String, Cell>>, backends: &[&str]) {
    let width = cells.keys().map(String::len).max().unwrap_or(4).max(4);
    print!("{:<width$}", "case");
    for backend in backends {
        print!(" {backend:>14}");
    }
    println!();
    for (case, row) in cells {
        print!("{case:<width$}");
        for backend in backends {
            let text = match row.get(*backend) {
                Some(cell) => format!("{} {}ms", cell.result, cell.ms),
                None => "-".to_string(),
            };
            print!(" {text:>14}");
        }
        println!();
    }
}
