//! Running Wirewatch as a service: the annotated example configuration cannot go stale, the
//! configuration file and secrets resolve flag > environment > file, the systemd unit is
//! hardened and its command line parses, and the completions and man page cover every command.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use clap::{CommandFactory, Parser};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use wirewatch::cli::{Cli, Command as Cmd, WebArgs};
use wirewatch::config::{self, Config};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// The annotated example configuration (installed as /etc/wirewatch/wirewatch.toml).
const EXAMPLE: &str = "packaging/wirewatch.toml";

fn example() -> String {
    std::fs::read_to_string(repo(EXAMPLE)).unwrap()
}

/// A line of the example that shows an optional setting switched off: `#key = value` or
/// `#[section]`, with no space after the `#` (prose comments have one).
fn commented_setting(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix('#')?;
    let first = rest.chars().next()?;
    (first == '[' || first.is_ascii_alphabetic()).then_some(rest)
}

/// The example with every optional setting switched on.
fn everything_on(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| commented_setting(l).unwrap_or(l))
        .collect();
    lines.join("\n")
}

/// Every key path (`detect.spike.min_bytes`) in a serialized configuration; array elements
/// share their array's path.
fn json_paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                json_paths(v, &path, out);
                out.insert(path);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| json_paths(v, prefix, out)),
        _ => {}
    }
}

#[test]
fn the_example_configuration_loads_with_the_real_loader() {
    let config = Config::load(&repo(EXAMPLE)).unwrap_or_else(|e| panic!("{EXAMPLE}: {e:#}"));
    // Every value it shows is the default, so the value on each line documents it.
    let (shown, default) = (
        serde_json::to_value(&config).unwrap(),
        serde_json::to_value(Config::default()).unwrap(),
    );
    let mut paths = BTreeSet::new();
    json_paths(&default, "", &mut paths);
    let at = |v: &Value, path: &str| path.split('.').fold(v.clone(), |v, k| v[k].clone());
    let differ: Vec<String> = paths
        .iter()
        .filter(|p| at(&shown, p) != at(&default, p) && !at(&default, p).is_object())
        .map(|p| format!("{p} = {} (default {})", at(&shown, p), at(&default, p)))
        .collect();
    assert!(
        differ.is_empty() && config == Config::default(),
        "{EXAMPLE} must show the defaults (optional settings as `#key = value`): {differ:?}"
    );
    // Switched on, the optional settings are known keys of the right types too.
    let all = everything_on(&example());
    if let Err(e) = toml::from_str::<Config>(&all) {
        panic!("{EXAMPLE} with its optional settings switched on: {e}");
    }
}

#[test]
fn the_example_configuration_shows_every_setting() {
    let all = everything_on(&example());
    let parsed: Config = toml::from_str(&all).unwrap_or_else(|e| panic!("{EXAMPLE}: {e}"));
    // serde_json keeps unset options (as null), so a new `Option` key is caught too; the
    // parsed example adds the keys inside optional sections and lists it sets.
    let mut wanted = BTreeSet::new();
    json_paths(
        &serde_json::to_value(Config::default()).unwrap(),
        "",
        &mut wanted,
    );
    json_paths(&serde_json::to_value(&parsed).unwrap(), "", &mut wanted);
    let shown: toml::Table = all.parse().unwrap();
    let mut present = BTreeSet::new();
    json_paths(&serde_json::to_value(&shown).unwrap(), "", &mut present);
    let missing: Vec<&String> = wanted.difference(&present).collect();
    assert!(
        missing.is_empty(),
        "{EXAMPLE} lacks these settings (add each, with a comment and its default): {missing:?}"
    );
}

#[test]
fn every_setting_in_the_example_has_a_comment() {
    let text = example();
    let mut previous = "";
    for (n, line) in text.lines().enumerate() {
        let setting = commented_setting(line).unwrap_or(line).trim_start();
        let is_key = !setting.starts_with('#')
            && !setting.starts_with('[')
            && setting.split('=').next().is_some_and(|k| {
                let k = k.trim();
                !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            && setting.contains('=');
        let commented = previous.trim_start().starts_with("# ") || setting.contains(" # ");
        assert!(
            !is_key || commented,
            "{EXAMPLE}:{}: `{line}` needs a comment saying what it does and its default",
            n + 1
        );
        previous = line;
    }
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn the_config_flag_beats_the_environment_which_beats_the_system_file() {
    let system = Path::new(config::SYSTEM_CONFIG);
    let yes = |_: &Path| true;
    let no = |_: &Path| false;
    let from_env = env(&[(config::ENV_CONFIG, "/srv/w.toml")]);
    let flag = Some(Path::new("mine.toml"));
    assert_eq!(
        config::config_path(flag, &from_env, &yes),
        Some((PathBuf::from("mine.toml"), false))
    );
    assert_eq!(
        config::config_path(None, &from_env, &yes),
        Some((PathBuf::from("/srv/w.toml"), false))
    );
    assert_eq!(
        config::config_path(None, &env(&[]), &yes),
        Some((system.to_path_buf(), true)),
        "the system file is read, and said so, when nothing names one"
    );
    assert_eq!(config::config_path(None, &env(&[]), &no), None);
    let blank = env(&[(config::ENV_CONFIG, " ")]);
    assert_eq!(config::config_path(None, &blank, &no), None);
}

const FILE: &str = r#"
[web]
token_file = "/etc/wirewatch/token"
[intel.abuseipdb]
api_key = "key-from-the-file"
[notify.email]
smtp_host = "smtp.example.org"
username = "wirewatch"
password = "password-from-the-file"
from = "wirewatch@example.org"
to = ["ops@example.org"]
"#;

#[test]
fn secrets_in_the_environment_beat_the_file() {
    let mut c = Config::parse(FILE).unwrap();
    c.apply_env(&env(&[
        (config::ENV_TOKEN, " token-from-the-environment \n"),
        (config::ENV_ABUSEIPDB_KEY, "key-from-the-environment"),
        (config::ENV_SMTP_PASSWORD, "password-from-the-environment"),
    ]));
    c.validate().unwrap();
    assert_eq!(c.web.token.as_deref(), Some("token-from-the-environment"));
    assert_eq!(
        c.web.token_file, None,
        "the environment's token replaces the file's"
    );
    let key = c.intel.abuseipdb().unwrap().unwrap();
    assert_eq!(key.api_key, "key-from-the-environment");
    let email = c.notify.email.as_ref().unwrap();
    assert_eq!(
        email.password.as_deref(),
        Some("password-from-the-environment")
    );

    let mut unset = Config::parse(FILE).unwrap();
    unset.apply_env(&env(&[(config::ENV_TOKEN, ""), ("OTHER", "x")]));
    assert_eq!(
        unset,
        Config::parse(FILE).unwrap(),
        "empty or unknown: the file's"
    );

    let mut no_email = Config::default();
    no_email.apply_env(&env(&[(config::ENV_SMTP_PASSWORD, "p")]));
    assert_eq!(
        no_email.notify.email, None,
        "a password alone configures no e-mail"
    );
}

#[test]
fn the_token_file_flag_beats_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "token-from-the-flag-file\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut c = Config::default();
    c.apply_env(&env(&[(config::ENV_TOKEN, "token-from-the-environment")]));
    let token = |args: &WebArgs| {
        wirewatch::settings::web_plan(&c.web, args)
            .unwrap()
            .unwrap()
            .config
            .token
    };
    assert_eq!(
        token(&WebArgs::default()).as_deref(),
        Some("token-from-the-environment")
    );
    let flag = WebArgs {
        token_file: Some(file),
        ..WebArgs::default()
    };
    assert_eq!(token(&flag).as_deref(), Some("token-from-the-flag-file"));
}

/// The unit's `[Service]` settings (a key given twice keeps its values in order).
fn unit() -> (String, BTreeMap<String, Vec<String>>) {
    let text = std::fs::read_to_string(repo("packaging/wirewatch.service")).unwrap();
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut section = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
        } else if let Some((k, v)) = line.split_once('=')
            && !line.starts_with('#')
            && section == "[Service]"
        {
            keys.entry(k.trim().into())
                .or_default()
                .push(v.trim().into());
        }
    }
    (text, keys)
}

#[test]
fn the_systemd_unit_is_hardened() {
    let (_, keys) = unit();
    let one = |k: &str| keys.get(k).map(|v| v.join(" ")).unwrap_or_default();
    for (key, value) in [
        ("DynamicUser", "yes"),
        ("AmbientCapabilities", "CAP_NET_RAW CAP_NET_ADMIN"),
        ("CapabilityBoundingSet", "CAP_NET_RAW CAP_NET_ADMIN"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("StateDirectory", "wirewatch"),
        ("ConfigurationDirectory", "wirewatch"),
        ("Restart", "on-failure"),
    ] {
        assert_eq!(one(key), value, "{key}");
    }
}

#[test]
fn the_units_command_line_is_accepted_by_wirewatch() {
    let (_, keys) = unit();
    let exec = keys["ExecStart"].join(" ");
    let argv: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(argv[0], "/usr/local/bin/wirewatch");
    let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{exec}: {e}"));
    let Some(Cmd::Run(run)) = cli.command else {
        panic!("the unit runs `wirewatch run`: {exec}")
    };
    assert_eq!(
        run.engine.config.as_deref(),
        Some(Path::new(config::SYSTEM_CONFIG))
    );
    assert!(run.db.starts_with("/var/lib/wirewatch"), "{:?}", run.db);
    assert!(run.user.is_none(), "capabilities, not root and --user");
}

#[test]
fn systemd_analyze_accepts_the_unit() {
    let Ok(out) = Command::new("systemd-analyze").arg("--version").output() else {
        wirewatch_testkit::skip(format_args!("systemd-analyze is not installed"));
        return;
    };
    assert!(out.status.success());
    // verify wants the program to exist: this build's binary stands in for the installed one.
    let (text, _) = unit();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wirewatch.service");
    let text = text.replace("/usr/local/bin/wirewatch", env!("CARGO_BIN_EXE_wirewatch"));
    std::fs::write(&path, text).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
}

fn wirewatch(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn subcommands() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

#[test]
fn completions_cover_every_command() {
    let bash = wirewatch(&["completions", "bash"]);
    for cmd in subcommands() {
        assert!(bash.contains(&cmd), "bash completions lack {cmd}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let script = wirewatch(&["completions", shell]);
        assert!(script.contains("analyze"), "{shell}: {script}");
    }
    let Ok(mut child) = Command::new("bash")
        .arg("-n")
        .stdin(std::process::Stdio::piped())
        .spawn()
    else {
        wirewatch_testkit::skip(format_args!("bash is not installed"));
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(bash.as_bytes())
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "bash -n rejects the script"
    );
}

#[test]
fn the_man_page_is_roff_and_lists_the_commands() {
    let man = wirewatch(&["man"]);
    // roff's portable-apostrophe preamble (`.ie`/`.el`) may precede the title.
    let first = man
        .lines()
        .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"))
        .unwrap_or_default();
    assert!(first.starts_with(".TH wirewatch"), "{first}");
    for cmd in subcommands() {
        assert!(man.contains(&cmd), "the man page lacks {cmd}");
    }
}
