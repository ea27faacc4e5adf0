//! Dropping root after the capture is open (`run --user NAME`), without losing what the run
//! writes later.
//!
//! Everything the run writes after the drop must be writable by the new user: the evidence
//! directory and rotating capture directory (created by this run, handed over with what
//! they hold), the database's files (its readers need to write the shared-memory index) and
//! the directory the anomaly model is saved in. What can be handed over is, before the drop;
//! what cannot (a database in a directory the user may not write) fails the start with what
//! to do, instead of losing files silently for months.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// What a run hands over to the user it drops to.
#[derive(Debug, Default, Clone)]
pub struct Handover {
    /// Directories the run made for itself: given to the user with the files in them.
    pub own_dirs: Vec<PathBuf>,
    /// Files given to the user when they exist.
    pub files: Vec<PathBuf>,
    /// Directories the user must be able to create files in, with what goes there (checked
    /// after the drop).
    pub writable: Vec<(PathBuf, &'static str)>,
}

/// Hands `handover` to `user`, switches to it for good (its primary group, no supplementary
/// groups), then checks the user can write where the run will write.
pub fn drop_to(user: &str, handover: &Handover) -> anyhow::Result<()> {
    use nix::unistd::{User, setgid, setgroups, setuid};
    let u = User::from_name(user)
        .with_context(|| format!("cannot look up user {user}"))?
        .with_context(|| format!("no such user: {user}"))?;
    let (uid, gid) = (u.uid.as_raw(), u.gid.as_raw());
    let give = |path: &Path| {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .with_context(|| format!("cannot hand {} over to user {user}", path.display()))
    };
    for dir in &handover.own_dirs {
        if !dir.is_dir() {
            continue;
        }
        give(dir)?;
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the directory {}", dir.display()))?;
        for entry in entries.flatten() {
            give(&entry.path())?;
        }
    }
    for file in &handover.files {
        if file.exists() {
            give(file)?;
        }
    }
    setgroups(&[u.gid]).with_context(|| format!("cannot drop supplementary groups for {user}"))?;
    setgid(u.gid).with_context(|| format!("cannot switch to the group of {user}"))?;
    setuid(u.uid).with_context(|| format!("cannot switch to user {user}"))?;
    for (dir, what) in &handover.writable {
        if let Err(e) = probe(dir) {
            bail!(
                "{what} go to {}, which user {user} cannot write ({e}): give that user a \
                 directory of its own (e.g. --db /var/lib/wirewatch/wirewatch.db with \
                 /var/lib/wirewatch owned by {user}), or run without --user",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Creates and removes a file in `dir`.
fn probe(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(format!(".wirewatch-write-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)
}

/// The directory a file is in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_file_name_lives_in_the_current_directory() {
        assert_eq!(parent_dir(Path::new("wirewatch.db")), PathBuf::from("."));
        assert_eq!(
            parent_dir(Path::new("/var/lib/w.db")),
            PathBuf::from("/var/lib")
        );
    }

    #[test]
    fn the_probe_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        probe(dir.path()).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(probe(&dir.path().join("missing")).is_err());
    }
}
