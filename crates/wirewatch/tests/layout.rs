//! The shape the project keeps: no source file over 900 lines, the binary crate is wiring
//! (under 7,000 lines, no cycles between its top-level modules), and the flow stage does not
//! pull in the machine-learning stack.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count()
}

fn crate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(workspace().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn no_source_file_is_over_900_lines() {
    let long: Vec<String> = crate_dirs()
        .iter()
        .flat_map(|c| rust_files(&c.join("src")))
        .filter(|f| lines(f) > 900)
        .map(|f| format!("{} ({} lines)", f.display(), lines(&f)))
        .collect();
    assert!(long.is_empty(), "split these: {long:?}");
}

#[test]
fn the_binary_crate_is_wiring() {
    let total: usize = rust_files(&workspace().join("crates/wirewatch/src"))
        .iter()
        .map(|f| lines(f))
        .sum();
    assert!(
        total < 7_000,
        "crates/wirewatch/src holds {total} lines: subsystems belong in their own crates"
    );
}

/// The binary's top-level modules and the ones each refers to (`crate::x`), outside tests and
/// comments.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = workspace().join("crates/wirewatch/src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let refs = graph.entry(top.clone()).or_default();
        for line in code.lines() {
            let line = line.split("//").next().unwrap_or_default();
            for (i, _) in line.match_indices("crate::") {
                let name: String = line[i + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != top {
                    refs.insert(name);
                }
            }
        }
    }
    graph
}

/// A cycle through `start`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![start.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in graph.get(last).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn the_binary_modules_have_no_cycles() {
    let graph = module_graph();
    assert!(graph.contains_key("commands") && graph.contains_key("outputs"));
    for module in graph.keys() {
        assert_eq!(
            cycle_from(&graph, module),
            None,
            "module cycle in the binary"
        );
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        cycle_from(&graph, "a"),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.entry("c".into()).or_default().clear();
    assert_eq!(cycle_from(&graph, "a"), None);
}

/// The normal dependencies of a workspace crate, by name.
fn dependencies(krate: &str) -> BTreeSet<String> {
    let manifest = workspace().join("crates").join(krate).join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    doc.get("dependencies")
        .and_then(toml::Value::as_table)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

/// Every crate `krate` depends on, through the workspace's own crates.
fn dependency_closure(krate: &str) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    let mut todo = vec![krate.to_string()];
    while let Some(k) = todo.pop() {
        for dep in dependencies(&k) {
            if all.insert(dep.clone()) && dep.starts_with("wirewatch-") {
                todo.push(dep);
            }
        }
    }
    all
}

#[test]
fn the_flow_stage_does_not_pull_in_the_ml_stack() {
    let deps = dependency_closure("wirewatch-flow");
    assert!(deps.contains("wirewatch-decode"), "{deps:?}");
    for ml in ["wirewatch-ml", "smartcore"] {
        assert!(
            !deps.contains(ml),
            "wirewatch-flow depends on {ml}: {deps:?}"
        );
    }
}

#[test]
fn subsystem_crates_do_not_depend_on_the_binary_or_the_web() {
    let rules: [(&str, &[&str]); 4] = [
        (
            "wirewatch-eve",
            &[
                "wirewatch",
                "wirewatch-web",
                "wirewatch-store",
                "wirewatch-detect",
            ],
        ),
        (
            "wirewatch-evidence",
            &[
                "wirewatch",
                "wirewatch-web",
                "wirewatch-store",
                "wirewatch-ml",
            ],
        ),
        (
            "wirewatch-engine",
            &["wirewatch", "wirewatch-web", "wirewatch-notify"],
        ),
        ("wirewatch-report", &["wirewatch", "wirewatch-web"]),
    ];
    for (krate, forbidden) in rules {
        let deps = dependency_closure(krate);
        for f in forbidden {
            assert!(!deps.contains(*f), "{krate} depends on {f}: {deps:?}");
        }
    }
}
