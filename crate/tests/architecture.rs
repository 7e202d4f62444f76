//! The library's modules import one another one way: no circle of imports anywhere, so each
//! file can be read (and changed) knowing only the files below it. ARCHITECTURE.md draws the
//! graph this test checks.
//!
//! An edge runs from a file to the module whose item it names (`use crate::a::b::Item`,
//! `super::sibling::f()`, `pub use child::Item`); declaring a child (`mod child;`) is not an
//! import, and test modules are left out. Written by hand over the source text (comments and
//! string literals removed): a parser crate would add a build for one test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every module of the library (the binary's `main.rs` and `cli/` are not in it), by path
/// (`crate::train::samples`), with its source.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if path.is_dir() {
                if rel != "cli" && rel != "bin" {
                    stack.push(path);
                }
                continue;
            }
            let Some(stem) = rel.strip_suffix(".rs") else {
                continue;
            };
            if stem == "main" {
                continue;
            }
            let stem = stem.strip_suffix("/mod").unwrap_or(stem);
            let name = if stem == "lib" {
                "crate".to_string()
            } else {
                format!("crate::{}", stem.replace('/', "::"))
            };
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

/// The source without comments, string and char literals, and `#[cfg(test)]` modules.
fn code_of(source: &str) -> String {
    let source = source
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1).copied()) {
            ('/', Some('/')) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            ('"', _) => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            // A char literal ('a', '\n'), not a lifetime ('a).
            ('\'', Some(c)) if chars.get(i + 2) == Some(&'\'') || c == '\\' => {
                i += if c == '\\' { 4 } else { 3 };
                out.push_str("' '");
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The paths a source names: `a::b::c`, and the prefix of a group, `a::b` in `a::b::{c, d}`.
fn paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !ident(chars[i]) || (i > 0 && (ident(chars[i - 1]) || chars[i - 1] == ':')) {
            i += 1;
            continue;
        }
        let mut segments = Vec::new();
        loop {
            let start = i;
            while i < chars.len() && ident(chars[i]) {
                i += 1;
            }
            segments.push(chars[start..i].iter().collect::<String>());
            if chars.get(i) == Some(&':')
                && chars.get(i + 1) == Some(&':')
                && chars.get(i + 2).is_some_and(|&c| ident(c))
            {
                i += 2;
            } else {
                break;
            }
        }
        if segments.len() > 1 || chars.get(i..i + 3) == Some(&[':', ':', '{']) {
            out.push(segments);
        }
    }
    out
}

/// The module a path starting in module `from` leads to (the longest module prefix), if any.
fn target(from: &str, path: &[String], modules: &BTreeMap<String, String>) -> Option<String> {
    let mut base: Vec<&str> = from.split("::").collect();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            base = vec!["crate"];
            rest = &path[1..];
        }
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        Some("self") => rest = &path[1..],
        Some(first) if modules.contains_key(&format!("{from}::{first}")) => {}
        _ => return None,
    }
    let mut module = base.join("::");
    for segment in rest {
        let next = format!("{module}::{segment}");
        if !modules.contains_key(&next) {
            break;
        }
        module = next;
    }
    Some(module).filter(|m| m != from)
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = modules(&src);
    assert!(
        modules.len() > 30,
        "found {} modules under {}",
        modules.len(),
        src.display()
    );
    let mut edges: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (name, source) in &modules {
        let code = code_of(source);
        let found = edges.entry(name).or_default();
        for path in paths(&code) {
            if let Some(to) = target(name, &path, &modules) {
                found.insert(to);
            }
        }
        if code.contains("use super::*") {
            let (parent, _) = name.rsplit_once("::").unwrap();
            found.insert(parent.to_string());
        }
    }
    // A circle is a module that reaches itself: report each with the path around it.
    let mut circles = Vec::new();
    for start in modules.keys() {
        let mut seen = BTreeSet::new();
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((at, trail)) = stack.pop() {
            for next in &edges[at.as_str()] {
                if next == start {
                    circles.push(format!("{} -> {start}", trail.join(" -> ")));
                } else if seen.insert(next.clone()) {
                    let mut longer = trail.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_check_sees_a_circle_when_there_is_one() {
    // The parser and the resolver on a made-up pair: `a` names `b::f` and `b` names `super::a`.
    let mut modules = BTreeMap::new();
    modules.insert("crate::a".to_string(), String::new());
    modules.insert("crate::b".to_string(), String::new());
    let a = paths(&code_of(
        "use crate::b::{f, g}; // crate::c\nfn x() { \"crate::c\"; }",
    ));
    assert_eq!(a, vec![vec!["crate".to_string(), "b".to_string()]]);
    assert_eq!(
        target("crate::a", &a[0], &modules).as_deref(),
        Some("crate::b")
    );
    let b = paths(&code_of("fn y() { super::a::x() }"));
    assert_eq!(
        target("crate::b", &b[0], &modules).as_deref(),
        Some("crate::a")
    );
}
