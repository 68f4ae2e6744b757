//! The capabilities' declared order (the crate's top comment): a capability's rules call the
//! kernel and the capabilities below it, never one above. Entities are the persistence layer
//! beneath every capability (their relations run both ways), so naming another capability's
//! `entity` is allowed. Read from the sources, so an upward call fails here and not in review.
use std::collections::BTreeSet;
use std::path::Path;

/// Lowest first; the kernel (top-level files of `src/`) sits below them all.
const ORDER: &[&str] = &[
    "mail",
    "channels",
    "cluster",
    "auth",
    "startups",
    "credits",
    "settlement",
    "incubation",
    "intake",
    "review",
    "cohorts",
    "admin",
];

/// Upward calls still there, each with the reason; the list may only shrink.
const KNOWN: &[(&str, &str)] = &[];

fn rank(cap: &str) -> Option<usize> {
    ORDER.iter().position(|c| *c == cap)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::<capability>::…` path a file names outside its tests, with the capability.
fn paths_named(source: &str) -> Vec<(String, String)> {
    let code = source
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(after.len());
        let path = after[..end].trim_end_matches(':');
        let cap = path.split("::").next().unwrap_or_default().to_string();
        found.push((cap, format!("crate::{path}")));
        rest = &after[end..];
    }
    found
}

#[test]
fn capabilities_call_only_downwards() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let rel = rel.to_string_lossy().replace('\\', "/");
        let from = rel.split('/').next().unwrap_or_default();
        // Kernel files are below every capability.
        let from_rank = if rel.contains('/') { rank(from) } else { None };
        let source = std::fs::read_to_string(file).expect("read");
        for (cap, path) in paths_named(&source) {
            let Some(to) = rank(&cap) else { continue };
            if path.split("::").nth(2) == Some("entity") {
                continue;
            }
            if from_rank.is_none_or(|r| to > r) && cap != from {
                upward.insert((rel.clone(), path));
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(f, p)| (f.to_string(), p.to_string()))
        .collect();
    let new: Vec<_> = upward.difference(&known).collect();
    let gone: Vec<_> = known.difference(&upward).collect();
    assert!(
        new.is_empty(),
        "calls upward against the declared order ({ORDER:?}); move the rule down or the \
         caller up: {new:#?}"
    );
    assert!(
        gone.is_empty(),
        "these upward calls are gone: take them off KNOWN: {gone:#?}"
    );
}

#[test]
fn the_checker_sees_an_upward_call() {
    let named =
        paths_named("use crate::credits::grants::issue;\nfn f() { crate::auth::Role::Admin }");
    assert_eq!(
        named,
        vec![
            (
                "credits".to_string(),
                "crate::credits::grants::issue".to_string()
            ),
            ("auth".to_string(), "crate::auth::Role::Admin".to_string()),
        ]
    );
}
