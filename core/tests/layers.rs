//! The engine's modules are layers (`docs/architecture.md`): each top-level module of
//! `core/src` imports only from the layers below it, so nothing imports upward and no two
//! modules import each other in a circle. This test reads the sources and fails on an
//! import that breaks the order, naming the file and both layers.
//!
//! Only non-test code counts: a file's text from its first `#[cfg(test)]` on is left out
//! (unit tests may drive the engine through the facade).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, bottom up. A module may import from any module of a lower rank.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("storage", 1),
    ("model", 2),
    ("json", 3),
    ("index", 4),
    ("keyword", 4),
    ("graph", 5),
    ("vector", 5),
    ("search", 5),
    ("sql", 6),
    ("write", 6),
    ("audit", 7),
    ("database", 8),
    ("guest", 9),
    ("fuzzing", 10),
    ("suites", 10),
];

fn rank(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read core/src") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of `text` without line comments and without its tests.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The top-level modules `code` names through `crate::`, including `use crate::{a, b::c}` groups.
fn imports(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find("};").unwrap_or(group.len())];
            // Top-level names of the group: the first segment of each comma-separated path
            // at nesting depth 0.
            let mut depth = 0;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        out.insert(ident(&group[j..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out
}

#[test]
fn every_module_imports_only_from_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("a path").as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs");
        if module == "lib" {
            continue;
        }
        let Some(own) = rank(module) else {
            problems.push(format!("{}: module `{module}` has no layer in LAYERS (add it)", rel.display()));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read source");
        for used in imports(&code(&text)) {
            if used == module || used.is_empty() {
                continue;
            }
            // Items re-exported at the crate root (`crate::Result`, `crate::Database`) are capitalised.
            if used.starts_with(|c: char| c.is_ascii_uppercase()) {
                continue;
            }
            match rank(&used) {
                Some(r) if r < own => {}
                Some(r) => problems.push(format!(
                    "{}: `{module}` (layer {own}) imports `{used}` (layer {r}); a module may import only from lower layers",
                    rel.display()
                )),
                None => problems.push(format!("{}: imports unknown module `crate::{used}`", rel.display())),
            }
        }
    }
    assert!(problems.is_empty(), "layer violations:\n{}", problems.join("\n"));
}

#[test]
fn the_import_reader_sees_grouped_and_nested_imports() {
    let found = imports("use crate::{error::{Error, Result}, storage::keys};\nlet x = crate::model::ids::parse_id(s);");
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["error", "model", "storage"]);
    assert!(code("use crate::sql; // crate::database\n#[cfg(test)]\nuse crate::database;").contains("sql"));
    assert!(!code("use crate::sql; // crate::database\n#[cfg(test)]\nuse crate::database;").contains("database"));
}
