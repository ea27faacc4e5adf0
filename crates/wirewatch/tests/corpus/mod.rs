//! Finding the public capture corpus (`../shared/pcaps` beside the repository), shared by the
//! tests that compare with it. They skip cleanly when it is absent.

#![allow(dead_code)] // each test file uses what it needs

use std::path::{Path, PathBuf};

/// The corpus directory, when it is there (with its truth files).
pub fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps");
    dir.join("truth").is_dir().then_some(dir)
}

/// Finds the capture a truth file describes.
pub fn capture_for(corpus: &Path, name: &str) -> Option<PathBuf> {
    ["ndpi", "zeek", "suricata-verify"]
        .iter()
        .map(|d| corpus.join(d).join(name))
        .find(|p| p.is_file())
}
