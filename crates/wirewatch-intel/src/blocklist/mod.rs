//! Offline blocklists: loading list files into one [`PrefixSet`], and reloading them when
//! they change.
//!
//! Owns reading the configured files (size cap, lossy UTF-8), naming the lists, the load
//! report (entries and warnings per file) and change detection for reloads. It must not
//! swap the set itself or run a timer or a signal handler: the caller calls
//! [`Reloader::reload_if_changed`] (cheap: one `stat` per file) every second or on SIGHUP and
//! swaps the new set in atomically (e.g. behind an `Arc`). Parsing is in
//! [`parse`](mod@parse), look-ups in [`set`].

pub mod parse;
pub mod set;

pub use parse::{Entry, Format, LineWarning, Parsed, parse};
pub use set::{ListSummary, Match, PrefixSet, PrefixSetBuilder};

use crate::error::IntelError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Largest blocklist file read, in bytes. The biggest public lists are tens of megabytes;
/// 256 MiB refuses a wrong file (a disk image, a packet capture) before it is read into
/// memory.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// One configured list file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlocklistConfig {
    /// The name alerts show; the file name when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// The file.
    pub path: PathBuf,
    /// Its format (`auto` recognises it).
    #[serde(default)]
    pub format: Format,
}

impl BlocklistConfig {
    /// A list at `path`, named after its file, format recognised automatically.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        BlocklistConfig {
            name: None,
            path: path.into(),
            format: Format::Auto,
        }
    }

    /// The list's name: the configured one, or the file name.
    pub fn list_name(&self) -> String {
        match &self.name {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ => self
                .path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.path.display().to_string()),
        }
    }
}

/// What loading one file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListReport {
    /// The list's name.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// The format used (what `auto` resolved to).
    pub format: Format,
    /// Entries loaded.
    pub entries: usize,
    /// Malformed or suspicious lines (the first [`parse::MAX_WARNINGS`]), each naming the
    /// file and line.
    pub warnings: Vec<LineWarning>,
    /// Warnings beyond the cap, counted only.
    pub warnings_omitted: usize,
}

/// What a load found, for logs and the status page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoadReport {
    /// One report per configured file, in configuration order.
    pub lists: Vec<ListReport>,
    /// Entries in all lists.
    pub entries: usize,
    /// Ranges the look-up searches (see [`PrefixSet::ranges`]).
    pub ranges: usize,
}

impl LoadReport {
    /// Every kept warning of every file.
    pub fn warnings(&self) -> impl Iterator<Item = &LineWarning> {
        self.lists.iter().flat_map(|l| l.warnings.iter())
    }

    /// Warnings in all files, omitted ones included.
    pub fn warning_count(&self) -> usize {
        self.lists
            .iter()
            .map(|l| l.warnings.len() + l.warnings_omitted)
            .sum()
    }
}

/// Loads configured lists (see [`Blocklists::load`]); holds no state. For reloads, keep a
/// [`Reloader`].
#[derive(Debug, Clone, Copy)]
pub struct Blocklists;

impl Blocklists {
    /// Reads and parses every file and builds one set. A missing, unreadable or oversized
    /// file is an error naming it (nothing is loaded); malformed lines are only warnings.
    pub fn load(configs: &[BlocklistConfig]) -> Result<(PrefixSet, LoadReport), IntelError> {
        let mut names: Vec<(String, &Path)> = Vec::new();
        for c in configs {
            let name = c.list_name();
            if let Some((_, first)) = names.iter().find(|(n, _)| *n == name) {
                return Err(IntelError::DuplicateName {
                    name,
                    first: first.to_path_buf(),
                    second: c.path.clone(),
                });
            }
            names.push((name, &c.path));
        }
        let mut builder = PrefixSetBuilder::new();
        let mut report = LoadReport::default();
        for (c, (name, _)) in configs.iter().zip(names) {
            let text = read_list(&c.path)?;
            let parsed = parse(&c.path.display().to_string(), &text, c.format);
            drop(text);
            builder.add_list(&name, &parsed.entries);
            report.entries += parsed.entries.len();
            report.lists.push(ListReport {
                name,
                path: c.path.clone(),
                format: parsed.format,
                entries: parsed.entries.len(),
                warnings: parsed.warnings,
                warnings_omitted: parsed.warnings_omitted,
            });
        }
        let set = builder.build();
        report.ranges = set.ranges();
        Ok((set, report))
    }
}

/// Reads a list file as text (invalid UTF-8 replaced: such a line fails to parse and is
/// reported, the rest of the file still loads).
fn read_list(path: &Path) -> Result<String, IntelError> {
    let read_err = |e: std::io::Error| IntelError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if meta.is_file() && meta.len() > MAX_FILE_BYTES {
        return Err(IntelError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            max: MAX_FILE_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// What identifies one version of a file: a change to any of these means "reload".
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fingerprint {
    /// The file's size, modification and status-change times, and identity (an editor
    /// that writes a new file and renames it changes the inode).
    Present {
        len: u64,
        modified: Option<SystemTime>,
        changed: (i64, i64),
        inode: (u64, u64),
    },
    /// `stat` failed, with this kind of error.
    Missing(std::io::ErrorKind),
}

fn fingerprint(path: &Path) -> Fingerprint {
    match std::fs::metadata(path) {
        Ok(m) => Fingerprint::Present {
            len: m.len(),
            modified: m.modified().ok(),
            changed: status_changed(&m),
            inode: identity(&m),
        },
        Err(e) => Fingerprint::Missing(e.kind()),
    }
}

#[cfg(unix)]
fn status_changed(m: &std::fs::Metadata) -> (i64, i64) {
    use std::os::unix::fs::MetadataExt;
    (m.ctime(), m.ctime_nsec())
}

#[cfg(not(unix))]
fn status_changed(_: &std::fs::Metadata) -> (i64, i64) {
    (0, 0)
}

#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

/// Loads the configured lists and reloads them when a file changes.
///
/// A reload that fails (a file deleted, made unreadable, replaced by a directory) returns
/// the error once and is remembered in [`last_error`](Self::last_error); the caller keeps
/// the set it has. Nothing is retried until a file changes again (or [`load`](Self::load) is
/// called, e.g. on SIGHUP), so a broken file costs one message, not one per second.
#[derive(Debug)]
pub struct Reloader {
    configs: Vec<BlocklistConfig>,
    seen: Option<Vec<Fingerprint>>,
    last_error: Option<String>,
}

impl Reloader {
    /// A reloader for `configs`; nothing is read until [`load`](Self::load) or
    /// [`reload_if_changed`](Self::reload_if_changed).
    pub fn new(configs: Vec<BlocklistConfig>) -> Self {
        Reloader {
            configs,
            seen: None,
            last_error: None,
        }
    }

    /// The configured lists.
    pub fn configs(&self) -> &[BlocklistConfig] {
        &self.configs
    }

    /// Loads every list now, whether or not it changed (at start, and on a reload signal).
    pub fn load(&mut self) -> Result<(PrefixSet, LoadReport), IntelError> {
        // Taken before reading: a write during the read is seen as a change next time.
        let prints = self.fingerprints();
        self.seen = Some(prints);
        let result = Blocklists::load(&self.configs);
        self.last_error = result.as_ref().err().map(ToString::to_string);
        result
    }

    /// Loads the lists again when a file changed since the last load (or was never loaded):
    /// `Ok(None)` when nothing changed, `Ok(Some(..))` with the new set, or the error of a
    /// failed load (reported once per change; keep the old set).
    pub fn reload_if_changed(&mut self) -> Result<Option<(PrefixSet, LoadReport)>, IntelError> {
        let prints = self.fingerprints();
        if self.seen.as_ref() == Some(&prints) {
            return Ok(None);
        }
        self.seen = Some(prints);
        let result = Blocklists::load(&self.configs);
        self.last_error = result.as_ref().err().map(ToString::to_string);
        result.map(Some)
    }

    /// The error of the last load, if it failed (cleared by a successful one).
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    fn fingerprints(&self) -> Vec<Fingerprint> {
        self.configs.iter().map(|c| fingerprint(&c.path)).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn load_names_lists_and_reports_warnings_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("feodo.txt");
        let b = dir.path().join("drop.txt");
        std::fs::write(&a, "# c2\n185.220.101.4\nbogus\n").unwrap();
        std::fs::write(&b, "; drop\n1.10.16.0/20 ; SBL256894\n").unwrap();
        let configs = vec![
            BlocklistConfig::new(&a),
            BlocklistConfig {
                name: Some("spamhaus-drop".into()),
                ..BlocklistConfig::new(&b)
            },
        ];
        let (set, report) = Blocklists::load(&configs).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(report.entries, 2);
        assert_eq!(report.lists[0].name, "feodo.txt");
        assert_eq!(report.lists[0].format, Format::Plain);
        assert_eq!(report.lists[1].format, Format::Spamhaus);
        assert_eq!(report.warning_count(), 1);
        let w = report.warnings().next().unwrap().to_string();
        assert!(
            w.starts_with(&format!("{}:3: not an IP address", a.display())),
            "{w}"
        );
        let m = set.lookup(ip("1.10.20.30")).unwrap();
        assert_eq!(&*m.list, "spamhaus-drop");
        assert_eq!(m.reference.as_deref(), Some("SBL256894"));
    }

    #[test]
    fn missing_file_duplicate_name_and_directory_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.txt");
        let err = Blocklists::load(&[BlocklistConfig::new(&missing)]).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, IntelError::Read { .. }));
        assert!(msg.contains(&missing.display().to_string()), "{msg}");

        let err = Blocklists::load(&[BlocklistConfig::new(dir.path())]).unwrap_err();
        assert!(matches!(err, IntelError::Read { .. }), "{err}");

        let f = dir.path().join("x.txt");
        std::fs::write(&f, "8.8.8.8\n").unwrap();
        let other = dir.path().join("sub");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("x.txt"), "8.8.4.4\n").unwrap();
        let err = Blocklists::load(&[
            BlocklistConfig::new(&f),
            BlocklistConfig::new(other.join("x.txt")),
        ])
        .unwrap_err();
        assert!(matches!(err, IntelError::DuplicateName { .. }), "{err}");
        assert!(err.to_string().contains("\"x.txt\""), "{err}");
    }

    #[test]
    fn config_from_toml() {
        let c: BlocklistConfig =
            toml::from_str("path = \"/etc/lists/drop.txt\"\nformat = \"spamhaus\"\n").unwrap();
        assert_eq!(c.format, Format::Spamhaus);
        assert_eq!(c.list_name(), "drop.txt");
        assert!(toml::from_str::<BlocklistConfig>("path = \"a\"\nformt = \"csv\"\n").is_err());
    }

    #[test]
    fn reload_on_change_only_and_errors_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("list.txt");
        std::fs::write(&path, "8.8.8.0/24\n").unwrap();
        let mut r = Reloader::new(vec![BlocklistConfig::new(&path)]);
        let (set, _) = r.load().unwrap();
        assert!(set.contains(ip("8.8.8.8")));
        // Unchanged → None, however often it is asked.
        for _ in 0..3 {
            assert!(r.reload_if_changed().unwrap().is_none());
        }
        // Modified (different size) → the new set.
        std::fs::write(&path, "9.9.9.0/24\n1.1.1.1\n").unwrap();
        let (set, report) = r.reload_if_changed().unwrap().unwrap();
        assert!(!set.contains(ip("8.8.8.8")));
        assert!(set.contains(ip("9.9.9.9")));
        assert_eq!(report.entries, 2);
        assert!(r.reload_if_changed().unwrap().is_none());
        // Same size, new content, written through a rename (new inode).
        let tmp = dir.path().join("list.tmp");
        std::fs::write(&tmp, "7.7.7.0/24\n1.1.1.2\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        let (set, _) = r.reload_if_changed().unwrap().unwrap();
        assert!(set.contains(ip("7.7.7.7")));
        // Gone → the error once, then quiet; the caller keeps `set`.
        std::fs::remove_file(&path).unwrap();
        let err = r.reload_if_changed().unwrap_err();
        assert!(err.to_string().contains("list.txt"), "{err}");
        assert!(r.last_error().is_some());
        assert!(r.reload_if_changed().unwrap().is_none());
        assert!(set.contains(ip("7.7.7.7")));
        // Replaced by a directory → unreadable: an error again.
        std::fs::create_dir(&path).unwrap();
        assert!(r.reload_if_changed().is_err());
        std::fs::remove_dir(&path).unwrap();
        // Back → reloaded, error cleared.
        std::fs::write(&path, "6.6.6.6\n").unwrap();
        let (set, _) = r.reload_if_changed().unwrap().unwrap();
        assert!(set.contains(ip("6.6.6.6")));
        assert!(r.last_error().is_none());
    }

    #[test]
    fn first_reload_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.netset");
        std::fs::write(&path, "# FireHOL\n5.5.5.0/24\n").unwrap();
        let mut r = Reloader::new(vec![BlocklistConfig::new(&path)]);
        let (set, report) = r.reload_if_changed().unwrap().unwrap();
        assert!(set.contains(ip("5.5.5.5")));
        assert_eq!(report.lists[0].format, Format::Firehol);
    }

    #[test]
    fn invalid_utf8_only_spoils_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.txt");
        std::fs::write(&path, b"5.5.5.5\n\xff\xfe1.2.3.4\n6.6.6.6\n").unwrap();
        let (set, report) = Blocklists::load(&[BlocklistConfig::new(&path)]).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(report.lists[0].warnings[0].line, 2);
    }
}
