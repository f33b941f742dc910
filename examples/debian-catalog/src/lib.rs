//! Reads the Debian package catalog from apt's lists directory
//! (`/var/lib/apt/lists`: `*_Packages[.lz4]` and `*_i18n_Translation-en[.lz4]`)
//! into one JSON row per package, ready for `rem insert --batch`.
//!
//! Files use the deb822 format (Debian Policy §5.1): paragraphs separated by
//! blank lines, `Field: value` lines, continuation lines starting with a space.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

/// One alternative in a `Depends` group: `name (op version)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dependency {
    /// Package name (architecture qualifier kept, e.g. `python3:any`).
    pub name: String,
    /// Version constraint such as `>= 2.34`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One package as a REM `packages` row.
#[derive(Debug, Clone, Serialize)]
pub struct Package {
    /// Package name (the natural key).
    pub name: String,
    /// Version string.
    pub version: String,
    /// Archive section, e.g. `web`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Priority, e.g. `optional`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Installed size in KiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_size_kib: Option<u64>,
    /// Maintainer (name and address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintainer: Option<String>,
    /// Upstream homepage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// Architecture (`amd64` or `all`).
    pub architecture: String,
    /// Source package, when it differs from the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// One-line synopsis.
    pub summary: String,
    /// Long description (from `Translation-en` when `Packages` omits it).
    pub description: String,
    /// Debtags facets, e.g. `role::program`.
    pub tags: Vec<String>,
    /// `Depends` + `Pre-Depends`: groups of alternatives (any one satisfies the group).
    pub depends: Vec<Vec<Dependency>>,
}

/// Read a file, decompressing `.lz4` frames (apt's default list compression here).
fn read_list(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut text = String::new();
    if path.extension().is_some_and(|e| e == "lz4") {
        lz4_flex::frame::FrameDecoder::new(file).read_to_string(&mut text)
    } else {
        std::io::BufReader::new(file).read_to_string(&mut text)
    }
    .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text)
}

/// Split deb822 text into paragraphs of (field, value) with continuation lines joined by `\n`.
pub fn paragraphs(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.last_mut() {
                v.push('\n');
                v.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Parse a `Depends` value: `a (>= 1), b | c` → `[[a>=1], [b, c]]`.
pub fn parse_depends(value: &str) -> Vec<Vec<Dependency>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(|group| {
            group
                .split('|')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|alt| {
                    let (name, rest) = match alt.find([' ', '(', '[', '<']) {
                        Some(i) => (&alt[..i], &alt[i..]),
                        None => (alt, ""),
                    };
                    let version = rest
                        .find('(')
                        .and_then(|s| rest[s + 1..].find(')').map(|e| rest[s + 1..s + 1 + e].trim().to_string()));
                    Dependency { name: name.to_string(), version }
                })
                .collect()
        })
        .collect()
}

/// Turn a deb822 long description into text: strip the leading space, `.` lines are blank lines.
fn long_description(continuation: &str) -> String {
    continuation
        .lines()
        .map(|l| {
            let l = l.strip_prefix(' ').unwrap_or(l);
            if l.trim() == "." { "" } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// List files under `dir` whose name ends with `suffix` (with or without `.lz4`), sorted
/// so the main archive comes before `-updates` and `-security`, which then override it.
fn lists(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.ends_with(suffix) || n.ends_with(&format!("{suffix}.lz4"))
        })
        .collect();
    let rank = |p: &PathBuf| {
        let n = p.to_string_lossy();
        if n.contains("-security") {
            2
        } else if n.contains("-updates") {
            1
        } else {
            0
        }
    };
    files.sort_by_key(|p| (rank(p), p.clone()));
    Ok(files)
}

/// Load every package of the catalog in `dir`, one row per package name (later archives win).
///
/// Errors when `dir` holds no `Packages` lists, with the command that fetches them.
pub fn load(dir: &Path) -> Result<Vec<Package>> {
    let mut translations: HashMap<String, String> = HashMap::new();
    for f in lists(dir, "_Translation-en")? {
        for p in paragraphs(&read_list(&f)?) {
            let get = |k: &str| p.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
            if let (Some(md5), Some(desc)) = (get("Description-md5"), get("Description-en")) {
                let long = desc.split_once('\n').map(|(_, l)| long_description(l)).unwrap_or_default();
                translations.insert(md5.to_string(), long);
            }
        }
    }
    let files = lists(dir, "_Packages")?;
    if files.is_empty() {
        anyhow::bail!(
            "no Packages lists in {}; fetch them with: apt-get update -o Acquire::Languages=en",
            dir.display()
        );
    }
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Package> = Vec::new();
    for f in files {
        for p in paragraphs(&read_list(&f)?) {
            let get = |k: &str| p.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
            let Some(name) = get("Package") else { continue };
            let desc = get("Description").unwrap_or_default();
            let (summary, inline_long) = match desc.split_once('\n') {
                Some((s, l)) => (s.to_string(), long_description(l)),
                None => (desc.clone(), String::new()),
            };
            let description = if inline_long.is_empty() {
                get("Description-md5").and_then(|m| translations.get(&m).cloned()).unwrap_or_default()
            } else {
                inline_long
            };
            let mut depends = get("Pre-Depends").map(|d| parse_depends(&d)).unwrap_or_default();
            depends.extend(get("Depends").map(|d| parse_depends(&d)).unwrap_or_default());
            let pkg = Package {
                version: get("Version").unwrap_or_default(),
                section: get("Section"),
                priority: get("Priority"),
                installed_size_kib: get("Installed-Size").and_then(|s| s.trim().parse().ok()),
                maintainer: get("Maintainer"),
                homepage: get("Homepage"),
                architecture: get("Architecture").unwrap_or_default(),
                source: get("Source").map(|s| s.split_whitespace().next().unwrap_or("").to_string()),
                summary,
                description,
                tags: get("Tag")
                    .map(|t| t.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
                    .unwrap_or_default(),
                depends,
                name: name.clone(),
            };
            match by_name.get(&name) {
                Some(&i) => out[i] = pkg,
                None => {
                    by_name.insert(name, out.len());
                    out.push(pkg);
                }
            }
        }
    }
    Ok(out)
}

/// One `depends_on` edge row for `rem edge import`.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeRow {
    /// Depending package (natural key).
    pub src: String,
    /// Package depended on (natural key).
    pub dst: String,
    /// Always `depends_on`.
    pub rel_type: &'static str,
    /// `version` constraint, `alternative` (true when the group has several
    /// alternatives, any one of which satisfies it) and `group` (its position).
    pub properties: serde_json::Value,
}

/// `depends_on` edges between packages of the catalog; returns them and how many
/// dependencies were skipped because their target is not a package here (virtual packages).
pub fn depends_edges(packages: &[Package]) -> (Vec<EdgeRow>, usize) {
    let names: std::collections::HashSet<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let mut out = Vec::new();
    let mut skipped = 0;
    for p in packages {
        for (g, group) in p.depends.iter().enumerate() {
            for dep in group {
                let dst = dep.name.split(':').next().unwrap_or(&dep.name);
                if dst == p.name {
                    continue;
                }
                if !names.contains(dst) {
                    skipped += 1;
                    continue;
                }
                out.push(EdgeRow {
                    src: p.name.clone(),
                    dst: dst.to_string(),
                    rel_type: "depends_on",
                    properties: serde_json::json!({"version": dep.version, "alternative": group.len() > 1, "group": g}),
                });
            }
        }
    }
    (out, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_groups_and_alternatives() {
        let d = parse_depends("libc6 (>= 2.34), libssl3 (>= 3.0.0) | libssl1.1, python3:any");
        assert_eq!(d.len(), 3);
        assert_eq!(d[0], vec![Dependency { name: "libc6".into(), version: Some(">= 2.34".into()) }]);
        assert_eq!(d[1].len(), 2);
        assert_eq!(d[1][1].name, "libssl1.1");
        assert_eq!(d[2][0].name, "python3:any");
    }

    #[test]
    fn paragraphs_join_continuations() {
        let text = "Package: a\nDescription: short\n line one\n .\n line two\n\nPackage: b\n";
        let p = paragraphs(text);
        assert_eq!(p.len(), 2);
        assert_eq!(long_description(p[0][1].1.split_once('\n').unwrap().1), "line one\n\nline two");
    }
}
