//! Generated files stay in step with the CLI (completions/ and man/), and
//! so does what the README says of it (its command table, its test command).

use std::path::Path;

use crate::support::*;

fn compare_dir(dir: &Path, generated: &[(String, Vec<u8>)], regen: &str) {
    for (name, bytes) in generated {
        let path = dir.join(name);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == *bytes,
            "{} is out of date with the CLI; regenerate with: {regen}",
            path.display()
        );
    }
}

#[test]
fn completions_are_committed_and_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut generated = Vec::new();
    for (shell, file) in [("bash", "mam.bash"), ("zsh", "_mam"), ("fish", "mam.fish")] {
        let out = std::process::Command::new(mam_bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        generated.push((file.to_string(), out.stdout));
    }
    compare_dir(
        &root.join("completions"),
        &generated,
        "scripts/regen-docs.sh",
    );
}

#[test]
fn man_pages_are_committed_and_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(mam_bin())
        .args(["man", "--out-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut generated = Vec::new();
    for e in std::fs::read_dir(tmp.path()).unwrap().flatten() {
        generated.push((
            e.file_name().to_string_lossy().into_owned(),
            std::fs::read(e.path()).unwrap(),
        ));
    }
    assert!(generated.len() > 5);
    compare_dir(&root.join("man"), &generated, "scripts/regen-docs.sh");
    // And nothing stale is left in man/.
    let committed = std::fs::read_dir(root.join("man")).unwrap().count();
    assert_eq!(
        committed,
        generated.len(),
        "man/ holds pages for commands that no longer exist"
    );
}

#[test]
fn ci_runs_exactly_the_readme_test_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let test_cmd = "cargo test --locked";
    assert!(
        readme.contains(&format!("```sh\n{test_cmd}\n```")),
        "README's test command changed"
    );
    let commands: Vec<&str> = ci
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        commands[commands.len() - 2..],
        [test_cmd, "scripts/conformance.sh"],
        ".ci/run must end with the README's test command, then the conformance suite"
    );
    assert!(
        readme.contains("```sh\nscripts/conformance.sh\n```"),
        "README must show how to run the conformance suite"
    );
}

#[test]
fn the_readme_demo_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    require_tmux();
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("bash")
        .arg(root.join("examples/demo.sh"))
        .env("MAM_BIN", mam_bin())
        .env("FAKE_AGENT", fake_agent())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env_remove("MAM_TMUX_SOCKET")
        .env_remove("TMUX")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "pm is busy",
        "alice is busy",
        "bob is busy",
        "NAME",
        "alice: stopped",
    ] {
        assert!(
            stdout.contains(expected),
            "demo output lacks {expected:?}:\n{stdout}"
        );
    }
}

/// What `--help` says: the subcommands (`key rotate` for the subcommands of
/// a subcommand, `help` left out) with their long flags, and the global
/// flags (those of `mam` itself) with their short forms.
struct Cli {
    commands: Vec<(String, Vec<String>)>,
    globals: Vec<(String, Option<String>)>,
}

fn help(args: &[&str]) -> String {
    let out = std::process::Command::new(mam_bin())
        .args(args)
        .arg("--help")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "mam {args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The lines of `help` under the heading `section:` up to the next blank line.
fn section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

fn subcommands(help: &str) -> Vec<String> {
    section(help, "Commands:")
        .iter()
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// `(--long, Some(-s))` of each option; wrapped description lines are
/// indented further and never start a flag.
fn options(help: &str) -> Vec<(String, Option<String>)> {
    let re = regex::Regex::new(r"^  (?:(-[A-Za-z]), |    )(--[a-z0-9][a-z0-9-]*)").unwrap();
    section(help, "Options:")
        .iter()
        .filter_map(|l| re.captures(l))
        .map(|c| (c[2].to_string(), c.get(1).map(|m| m.as_str().to_string())))
        .collect()
}

impl Cli {
    fn from_help() -> Cli {
        let top = help(&[]);
        let globals = options(&top);
        let mut commands = Vec::new();
        for cmd in subcommands(&top) {
            collect(&[cmd.as_str()], &globals, &mut commands);
        }
        Cli { commands, globals }
    }
}

/// The command `path` and, below it, each of its subcommands: every leaf,
/// and a command with subcommands when it takes flags of its own too
/// (`mam lease PATH…` beside `mam lease renew`).
fn collect(
    path: &[&str],
    globals: &[(String, Option<String>)],
    out: &mut Vec<(String, Vec<String>)>,
) {
    let h = help(path);
    let subs = subcommands(&h);
    let flags: Vec<String> = options(&h)
        .into_iter()
        .map(|(long, _)| long)
        .filter(|f| !globals.iter().any(|(g, _)| g == f) && f != "--help")
        .collect();
    if subs.is_empty() || !flags.is_empty() {
        let flags = if subs.is_empty() {
            options(&h)
                .into_iter()
                .map(|(long, _)| long)
                .filter(|f| !globals.iter().any(|(g, _)| g == f))
                .collect()
        } else {
            flags
        };
        out.push((path.join(" "), flags));
    }
    for s in &subs {
        let mut p = path.to_vec();
        p.push(s);
        collect(&p, globals, out);
    }
}

/// The cells of a table row, split on the `|` that are not escaped.
fn cells(row: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut chars = row.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
}

/// What is wrong with the command table of `readme` (its `## Commands`
/// section) against `cli`, by the rule of
/// `the_readme_command_table_matches_the_cli`.
fn table_problems(readme: &str, cli: &Cli) -> Vec<String> {
    let mut problems = Vec::new();
    let body: Vec<&str> = readme
        .lines()
        .skip_while(|l| *l != "## Commands")
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect();
    let flag = regex::Regex::new(r"--[a-z0-9][a-z0-9-]*").unwrap();
    let mut seen: Vec<String> = Vec::new();
    for row in body.iter().filter(|l| l.starts_with("| `mam ")) {
        for segment in cells(row)[0].split(" · ") {
            let code = segment.trim().trim_matches('`');
            let words: Vec<&str> = code.split_whitespace().collect();
            let name = match cli
                .commands
                .iter()
                .map(|(n, _)| n)
                .filter(|n| {
                    let parts: Vec<&str> = n.split(' ').collect();
                    words.len() > parts.len() && words[1..=parts.len()] == parts[..]
                })
                .max_by_key(|n| n.len())
            {
                Some(n) => n.clone(),
                None => {
                    problems.push(format!(
                        "the table names a command mam does not have: `{code}`"
                    ));
                    continue;
                }
            };
            if seen.contains(&name) {
                problems.push(format!("`mam {name}` is in the table twice"));
            }
            seen.push(name.clone());
            let flags = &cli.commands.iter().find(|(n, _)| *n == name).unwrap().1;
            let named: Vec<&str> = flag.find_iter(code).map(|m| m.as_str()).collect();
            for f in &named {
                if !flags.iter().any(|x| x == f) {
                    problems.push(format!("`mam {name}` has no flag {f} (the table names it)"));
                }
            }
            for f in flags {
                if !named.contains(&f.as_str()) {
                    problems.push(format!("the table's `mam {name}` lacks its flag {f}"));
                }
            }
        }
    }
    for (name, _) in &cli.commands {
        if !seen.contains(name) {
            problems.push(format!("`mam {name}` has no row in the table"));
        }
    }
    match body.iter().find(|l| l.starts_with("Global flags:")) {
        None => problems.push("no `Global flags:` line under the table".into()),
        Some(line) => {
            for (long, short) in &cli.globals {
                if long == "--help" || long == "--version" {
                    continue;
                }
                let named = |f: &str| {
                    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                        .any(|w| w == f)
                };
                if !named(long) && !short.as_deref().is_some_and(named) {
                    problems.push(format!(
                        "the global flag {long} is not on the `Global flags:` line"
                    ));
                }
            }
        }
    }
    problems
}

/// The README's command table says what `--help` says. The rule:
///
/// - the table's first column names commands as `` `mam CMD …` `` segments
///   (several in one cell are separated by ` · `); a command with
///   subcommands of its own is named by them (`mam key rotate`);
/// - every subcommand `mam --help` lists (but `help`) has exactly one
///   segment, and every segment is a subcommand;
/// - the long flags a segment names (`--json`, whatever its brackets) are
///   exactly the long flags `mam CMD --help` lists for it, leaving out the
///   global ones — those `mam --help` lists for `mam` itself — which the
///   `Global flags:` line under the table names instead (`--help` and
///   `--version` apart), by their long or short form.
#[test]
fn the_readme_command_table_matches_the_cli() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let cli = Cli::from_help();
    assert!(
        cli.commands.len() > 25,
        "parsed too few commands from --help"
    );
    assert!(
        cli.commands
            .iter()
            .any(|(n, f)| n == "create" && f.iter().any(|x| x == "--agent")),
        "parsed no flags from --help"
    );
    let problems = table_problems(&readme, &cli);
    assert!(
        problems.is_empty(),
        "README.md's command table has drifted from --help:\n  {}",
        problems.join("\n  ")
    );
}

/// The check above fails on a table that is wrong in each way it checks.
#[test]
fn the_command_table_check_finds_each_kind_of_drift() {
    let cli = Cli {
        commands: vec![
            ("init".into(), vec!["--json".into()]),
            ("key rotate".into(), vec![]),
            ("key show".into(), vec!["--json".into()]),
            ("recv".into(), vec!["--as".into(), "--peek".into()]),
        ],
        globals: vec![
            ("--workspace".into(), None),
            ("--quiet".into(), Some("-q".into())),
            ("--help".into(), Some("-h".into())),
        ],
    };
    let readme = |rows: &str, globals: &str| {
        format!(
            "# x\n\n## Commands\n\n| command | what |\n|---|---|\n{rows}\n{globals}\n\n## Next\n"
        )
    };
    let good_rows = "| `mam init [--json]` | a |\n\
                     | `mam key rotate` · `mam key show [--json]` | b |\n\
                     | `mam recv [--as NAME] [--peek \\| -x]` | c |";
    let good_globals = "Global flags: `--workspace DIR`, `-q`.";
    assert_eq!(
        table_problems(&readme(good_rows, good_globals), &cli),
        Vec::<String>::new()
    );
    let broken = [
        (
            good_rows.replace("[--peek \\| -x]", "[--pick]"),
            "`mam recv` has no flag --pick (the table names it)\n\
             the table's `mam recv` lacks its flag --peek",
        ),
        (
            good_rows.replace(" [--as NAME]", ""),
            "the table's `mam recv` lacks its flag --as",
        ),
        (
            good_rows.replace(" · `mam key show [--json]`", ""),
            "`mam key show` has no row in the table",
        ),
        (
            format!("{good_rows}\n| `mam frob` | d |"),
            "the table names a command mam does not have: `mam frob`",
        ),
        (
            format!("{good_rows}\n| `mam init [--json]` | again |"),
            "`mam init` is in the table twice",
        ),
    ];
    for (rows, problem) in broken {
        let got = table_problems(&readme(&rows, good_globals), &cli);
        assert_eq!(got.join("\n"), problem, "{rows}");
    }
    let got = table_problems(&readme(good_rows, "Global flags: `--workspace DIR`."), &cli);
    assert_eq!(
        got,
        vec!["the global flag --quiet is not on the `Global flags:` line"]
    );
}
