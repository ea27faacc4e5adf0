//! Embeds the built dashboard (`web/dist`, every file, recursively) into the crate.
//!
//! Writes `$OUT_DIR/assets.rs`: a table of `(path, include_bytes!(file))`. When the front end
//! has not been built yet, a placeholder `index.html` saying how to build it is embedded
//! instead, so the crate always compiles.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Files deeper than this below `web/dist` are not embedded (a guard against symlink loops).
const MAX_DEPTH: usize = 16;

const PLACEHOLDER: &str = "<!doctype html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>Wirewatch</title></head>
<body>
<h1>Wirewatch</h1>
<p>The dashboard assets are not built, so this binary serves only the JSON API
(<a href=\"/api/openapi.json\">/api/openapi.json</a>) and the WebSocket feed (/ws).</p>
<p>Build the front end, then rebuild Wirewatch:</p>
<pre>npm --prefix web ci &amp;&amp; npm --prefix web run build
cargo build --release</pre>
<p>or run <code>./run.sh</code>, which does both.</p>
</body>
</html>
";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let web = manifest.join("../../web");
    let dist = web.join("dist");
    println!("cargo:rerun-if-changed=build.rs");

    let mut files = Vec::new();
    if dist.is_dir() {
        println!("cargo:rerun-if-changed={}", dist.display());
        collect(&dist, &dist, 0, &mut files);
        for (_, file) in &files {
            println!("cargo:rerun-if-changed={}", file.display());
        }
    } else if web.is_dir() {
        // Building the front end creates web/dist: a change anywhere under web/ reruns this.
        println!("cargo:rerun-if-changed={}", web.display());
    } else {
        // Nothing to watch yet: a missing path makes cargo rerun this script on every build,
        // until web/ exists.
        println!("cargo:rerun-if-changed={}", web.display());
    }
    files.sort();

    let mut table = String::from(
        "/// Embedded dashboard files: (path below `web/dist`, contents).\n\
         pub(crate) static ASSETS: &[(&str, &[u8])] = &[\n",
    );
    if files.iter().any(|(name, _)| name == "index.html") {
        for (name, file) in &files {
            let _ = writeln!(
                table,
                "    ({name:?}, include_bytes!({:?})),",
                file.display().to_string()
            );
        }
        table.push_str("];\n/// Whether the real dashboard is embedded.\npub(crate) const BUILT: bool = true;\n");
    } else {
        let placeholder = out_dir.join("placeholder-index.html");
        if let Err(e) = std::fs::write(&placeholder, PLACEHOLDER) {
            println!("cargo:warning=cannot write {}: {e}", placeholder.display());
        }
        let _ = writeln!(
            table,
            "    (\"index.html\", include_bytes!({:?})),",
            placeholder.display().to_string()
        );
        table.push_str("];\n/// Whether the real dashboard is embedded.\npub(crate) const BUILT: bool = false;\n");
    }
    let target = out_dir.join("assets.rs");
    if let Err(e) = std::fs::write(&target, table) {
        println!("cargo:warning=cannot write {}: {e}", target.display());
    }
}

/// Every regular file below `dir`, as (path relative to `root` with `/` separators, file).
fn collect(root: &Path, dir: &Path, depth: usize, out: &mut Vec<(String, PathBuf)>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, depth + 1, out);
        } else if path.is_file()
            && let Ok(rel) = path.strip_prefix(root)
        {
            let name: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let abs = path.canonicalize().unwrap_or(path.clone());
            out.push((name.join("/"), abs));
        }
    }
}
