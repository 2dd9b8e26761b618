//! Path completion for form fields: Tab completes a partial path when one
//! file fits, and otherwise offers the candidates in a small picker.
//!
//! Candidates come from the directory the partial path names or, for a bare
//! name, from the working directory and the workspace (its root and the
//! folders directly in it: `shards/`, `identities/`, …), filtered by the
//! kind of file the field takes. Reading is bounded: one `read_dir` per
//! place, at most [`MAX_SCANNED`] entries each, names only (no file is
//! opened). Paths are public values; nothing here sees a secret.

use std::path::{Path, PathBuf};

/// The most directory entries looked at in one place.
const MAX_SCANNED: usize = 5_000;
/// The most candidates kept for the picker.
pub const MAX_CANDIDATES: usize = 200;

/// The kind of file a path field takes (which names it offers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// Shard files (`*.shard.json`, `*.age`).
    Shard,
    /// Custodian identity files (`*.identity.json`).
    Identity,
    /// Guardian share files (`*.share.json`).
    GuardianShare,
    /// Vendor DR kits (`*.zip`).
    Kit,
    /// Wallet-id lists (`*.txt`, `*.csv`, `*.json`, `*.jsonl`).
    WalletList,
    /// Key files (`*.pem`, `*.key`, `*.der`).
    KeyFile,
    /// Any file (outputs, where the name is new).
    Any,
}

impl PathKind {
    /// True when a file called `name` is of this kind.
    pub fn accepts(self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        let ends = |exts: &[&str]| exts.iter().any(|e| lower.ends_with(e));
        match self {
            PathKind::Shard => ends(&[".shard.json", ".age"]),
            PathKind::Identity => ends(&[".identity.json"]),
            PathKind::GuardianShare => ends(&[".share.json"]),
            PathKind::Kit => ends(&[".zip"]),
            PathKind::WalletList => ends(&[".txt", ".csv", ".json", ".jsonl"]),
            PathKind::KeyFile => ends(&[".pem", ".key", ".der"]),
            PathKind::Any => true,
        }
    }
}

/// What Tab found for a partial path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// Nothing fits.
    NoMatch,
    /// Exactly one path fits (a folder ends with `/`).
    Unique(String),
    /// Several fit: the longest text they all start with, and the list.
    Several {
        /// The common start (at least what was typed).
        common: String,
        /// The candidates, sorted, at most [`MAX_CANDIDATES`].
        candidates: Vec<String>,
    },
}

/// Where bare names are looked up: the working directory, then the
/// workspace and the folders directly in it.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    /// The working directory, if known.
    pub cwd: Option<PathBuf>,
    /// The workspace root, if any.
    pub workspace: Option<PathBuf>,
}

impl Roots {
    /// The process's working directory and `workspace`.
    pub fn here(workspace: Option<PathBuf>) -> Roots {
        Roots {
            cwd: std::env::current_dir().ok(),
            workspace,
        }
    }
}

fn expand_home(partial: &str) -> Option<(String, String)> {
    let rest = partial.strip_prefix("~/")?;
    let home = std::env::var("HOME").ok()?;
    Some((format!("{home}/{rest}"), home))
}

/// Entries of `dir` whose name starts with `stem` and that are folders or
/// files of `kind`, as (name, is_dir), sorted.
fn entries(dir: &Path, stem: &str, kind: PathKind) -> Vec<(String, bool)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, bool)> = rd
        .take(MAX_SCANNED)
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with(stem) || (stem.is_empty() && name.starts_with('.')) {
                return None;
            }
            let is_dir = e.file_type().ok()?.is_dir()
                || (e.file_type().ok()?.is_symlink() && e.path().is_dir());
            (is_dir || kind.accepts(&name)).then_some((name, is_dir))
        })
        .collect();
    out.sort();
    out
}

fn common_prefix(list: &[String]) -> String {
    let Some(first) = list.first() else {
        return String::new();
    };
    let mut len = first.len();
    for s in &list[1..] {
        len = first
            .char_indices()
            .zip(s.chars())
            .take_while(|((_, a), b)| a == b)
            .map(|((i, a), _)| i + a.len_utf8())
            .last()
            .unwrap_or(0)
            .min(len);
    }
    first[..len].to_string()
}

/// Completes `partial` for a field taking `kind`.
pub fn complete(partial: &str, kind: PathKind, roots: &Roots) -> Completion {
    let (text, home) = match expand_home(partial) {
        Some((t, h)) => (t, Some(h)),
        None => (partial.to_string(), None),
    };
    let mut found: Vec<String> = Vec::new();
    let mut push = |prefix: &str, list: Vec<(String, bool)>| {
        for (name, is_dir) in list {
            let slash = if is_dir { "/" } else { "" };
            found.push(format!("{prefix}{name}{slash}"));
        }
    };
    if let Some(cut) = text.rfind('/') {
        let (dir_part, stem) = text.split_at(cut + 1);
        let dir = if dir_part.starts_with('/') {
            PathBuf::from(dir_part)
        } else {
            roots.cwd.clone().unwrap_or_default().join(dir_part)
        };
        push(dir_part, entries(&dir, stem, kind));
    } else {
        // A bare name: the working directory (kept relative), then the
        // workspace and its folders (absolute).
        if let Some(cwd) = &roots.cwd {
            push("", entries(cwd, &text, kind));
        }
        if let Some(ws) = &roots.workspace
            && roots.cwd.as_deref() != Some(ws.as_path())
        {
            push(&format!("{}/", ws.display()), entries(ws, &text, kind));
        }
        if let Some(ws) = &roots.workspace {
            for (sub, is_dir) in entries(ws, "", PathKind::Any) {
                if is_dir {
                    let dir = ws.join(&sub);
                    let files: Vec<(String, bool)> = entries(&dir, &text, kind)
                        .into_iter()
                        .filter(|(_, d)| !d)
                        .collect();
                    push(&format!("{}/", dir.display()), files);
                }
            }
        }
    }
    found.dedup();
    found.truncate(MAX_CANDIDATES);
    // Give back `~/` as it was typed.
    if let Some(home) = home {
        for f in &mut found {
            if let Some(rest) = f.strip_prefix(&format!("{home}/")) {
                *f = format!("~/{rest}");
            }
        }
    }
    match found.len() {
        0 => Completion::NoMatch,
        1 => Completion::Unique(found.remove(0)),
        _ => {
            let common = common_prefix(&found);
            Completion::Several {
                common: if common.len() >= partial.len() {
                    common
                } else {
                    partial.to_string()
                },
                candidates: found,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Roots) {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(ws.join("shards")).unwrap();
        std::fs::create_dir_all(ws.join("identities")).unwrap();
        for f in [
            "shards/k.1.ana.shard.json",
            "shards/k.2.ben.shard.json",
            "identities/ana.identity.json",
            "notes.txt",
        ] {
            std::fs::write(ws.join(f), b"x").unwrap();
        }
        let roots = Roots {
            cwd: Some(dir.path().to_path_buf()),
            workspace: Some(ws),
        };
        (dir, roots)
    }

    #[test]
    fn a_unique_file_completes_and_a_folder_gets_a_slash() {
        let (dir, roots) = setup();
        let base = dir.path().display().to_string();
        assert_eq!(
            complete(&format!("{base}/ws/shards/k.2"), PathKind::Shard, &roots),
            Completion::Unique(format!("{base}/ws/shards/k.2.ben.shard.json"))
        );
        assert_eq!(
            complete(&format!("{base}/ws/sh"), PathKind::Shard, &roots),
            Completion::Unique(format!("{base}/ws/shards/"))
        );
        assert_eq!(
            complete("w", PathKind::Shard, &roots),
            Completion::Unique("ws/".into())
        );
    }

    #[test]
    fn several_give_their_common_start_and_the_kind_filters() {
        let (dir, roots) = setup();
        let base = dir.path().display().to_string();
        let Completion::Several { common, candidates } =
            complete(&format!("{base}/ws/shards/k"), PathKind::Shard, &roots)
        else {
            panic!("expected several");
        };
        assert_eq!(common, format!("{base}/ws/shards/k."));
        assert_eq!(candidates.len(), 2);
        // Identities are not shards.
        assert_eq!(
            complete(&format!("{base}/ws/identities/a"), PathKind::Shard, &roots),
            Completion::NoMatch
        );
        // A bare name is looked up in the workspace's folders too.
        assert_eq!(
            complete("ana", PathKind::Identity, &roots),
            Completion::Unique(format!("{base}/ws/identities/ana.identity.json"))
        );
    }
}
