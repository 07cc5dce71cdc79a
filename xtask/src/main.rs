//! Project automation (`cargo xtask <command>`); see `cargo xtask help`.

#![forbid(unsafe_code)]

fn main() {
    eprintln!("usage: cargo xtask <ci>");
    std::process::exit(2);
}
