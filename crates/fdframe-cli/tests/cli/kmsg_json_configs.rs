//! The shippers' configs in `deploy/` (Vector, Fluent Bit, the OpenTelemetry collector): each
//! parses, runs fdframe with options fdframe has (the JSON-lines flag and a cursor among
//! them), and says what at-least-once through `--cursor` means.

use std::path::PathBuf;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::kmsg_json_harness::JSON_LINES;
use crate::support::BIN;

fn deploy(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// fdframe accepts `args` (`--help` after them: clap rejects an unknown option first).
fn assert_fdframe_accepts(args: &[&str]) {
    assert_eq!(args.first(), Some(&"kmsg"), "{args:?}");
    let output = Command::new(BIN)
        .args(args)
        .arg("--help")
        .output()
        .expect("run fdframe");
    assert!(
        output.status.success(),
        "fdframe refuses {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(args.contains(&JSON_LINES), "{args:?} has no {JSON_LINES}");
    assert!(args.contains(&"--cursor"), "{args:?} has no --cursor");
    assert!(args.contains(&"--follow"), "{args:?} does not follow");
}

/// The words of the command line in a comment, from `fdframe kmsg --` to the end of its line
/// and the lines its trailing `\` continues.
fn command_in_comment(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let start = "fdframe kmsg --";
    let mut lines = text.lines().skip_while(|line| !line.contains(start));
    let first = lines.next().expect("a fdframe kmsg command in a comment");
    let mut line = &first[first.find(start).unwrap() + "fdframe ".len()..];
    loop {
        let continued = line.trim_end().ends_with('\\');
        let part = line.trim_end().trim_end_matches('\\');
        let part = part.split('|').next().unwrap();
        words.extend(part.split_whitespace().map(str::to_owned));
        if !continued {
            return words;
        }
        line = lines
            .next()
            .expect("a continued line")
            .trim_start_matches(['#', ' ']);
    }
}

fn assert_explains_delivery(name: &str, text: &str) {
    for needle in ["at least once", "--cursor", "flushed", "boot_id, seq"] {
        assert!(text.contains(needle), "{name} does not explain {needle:?}");
    }
}

#[test]
fn the_vector_config_parses_and_runs_fdframe_with_options_it_has() {
    let text = deploy("vector.toml");
    let config: toml::Table = toml::from_str(&text).expect("vector.toml is TOML");
    let source = &config["sources"]["kmsg"];
    assert_eq!(source["type"].as_str(), Some("exec"));
    assert_eq!(source["mode"].as_str(), Some("streaming"));
    assert_eq!(source["decoding"]["codec"].as_str(), Some("json"));
    assert_eq!(
        source["framing"]["method"].as_str(),
        Some("newline_delimited")
    );
    assert_eq!(source["include_stderr"].as_bool(), Some(false));
    let command: Vec<&str> = source["command"]
        .as_array()
        .expect("command")
        .iter()
        .map(|word| word.as_str().expect("a string"))
        .collect();
    assert!(command[0].ends_with("/fdframe"), "{command:?}");
    assert_fdframe_accepts(&command[1..]);
    let remap = &config["transforms"]["kmsg_time"];
    assert_eq!(
        remap["inputs"].as_array().unwrap()[0].as_str(),
        Some("kmsg")
    );
    assert!(remap["source"].as_str().unwrap().contains(".wall_time"));
    assert_explains_delivery("vector.toml", &text);
}

/// Fluent Bit's classic format: `[SECTION]` headers, then indented `Key Value` lines.
fn classic_sections(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            sections.push((name.to_owned(), Vec::new()));
            continue;
        }
        assert!(
            line.starts_with(' '),
            "line {}: not indented: {line}",
            n + 1
        );
        let (key, value) = trimmed
            .split_once(char::is_whitespace)
            .unwrap_or_else(|| panic!("line {}: a key without a value: {line}", n + 1));
        let section = sections.last_mut().expect("a key before any section");
        section.1.push((key.to_owned(), value.trim().to_owned()));
    }
    sections
}

fn value<'a>(section: &'a [(String, String)], key: &str) -> Option<&'a str> {
    section
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_fluent_bit_config_parses_and_its_parser_exists() {
    let text = deploy("fluent-bit.conf");
    let sections = classic_sections(&text);
    let find = |name: &str| {
        sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, keys)| keys.as_slice())
            .unwrap_or_else(|| panic!("no [{name}]"))
    };
    let input = find("INPUT");
    assert_eq!(value(input, "Name"), Some("stdin"));
    let parsers_file = value(find("SERVICE"), "Parsers_File").expect("Parsers_File");
    let parsers = classic_sections(&deploy(parsers_file));
    let parser = parsers
        .iter()
        .find(|(n, keys)| n == "PARSER" && value(keys, "Name") == value(input, "Parser"))
        .map(|(_, keys)| keys.as_slice())
        .expect("the input's parser in the parsers file");
    assert_eq!(value(parser, "Format"), Some("json"));
    assert_eq!(value(parser, "Time_Key"), Some("wall_time"));
    assert_eq!(value(find("OUTPUT"), "Match"), value(input, "Tag"));
    let command = command_in_comment(&text);
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    assert_fdframe_accepts(&command);
    assert_explains_delivery("fluent-bit.conf", &text);
}

#[test]
fn the_otelcol_config_parses_and_tails_the_file_fdframe_writes() {
    let text = deploy("otelcol.yaml");
    let docs = YamlLoader::load_from_str(&text).expect("otelcol.yaml is YAML");
    let config = &docs[0];
    let receiver = &config["receivers"]["filelog/kmsg"];
    let include = receiver["include"][0].as_str().expect("include");
    let append = text
        .lines()
        .find_map(|line| line.split_once("StandardOutput=append:"))
        .map(|(_, path)| path.trim())
        .expect("the unit's StandardOutput line");
    assert_eq!(include, append, "the receiver tails another file");
    let storage = receiver["storage"].as_str().expect("storage");
    assert!(
        !config["extensions"][storage].is_badvalue(),
        "no extension {storage}"
    );
    let extensions = config["service"]["extensions"]
        .as_vec()
        .expect("extensions");
    assert!(extensions.contains(&Yaml::String(storage.into())));
    let operators = receiver["operators"].as_vec().expect("operators");
    assert_eq!(
        operators[0]["timestamp"]["parse_from"].as_str(),
        Some("attributes.wall_time")
    );
    let pipeline = &config["service"]["pipelines"]["logs"];
    assert_eq!(
        pipeline["receivers"][0].as_str(),
        Some("filelog/kmsg"),
        "the pipeline does not use the receiver"
    );
    let command = command_in_comment(&text);
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    assert_fdframe_accepts(&command);
    assert_explains_delivery("otelcol.yaml", &text);
}
