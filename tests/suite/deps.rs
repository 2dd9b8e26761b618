//! The dependency rules of the workspace, checked on `Cargo.lock` and the
//! manifests (no network, no `cargo` run):
//!
//! - no pre-release version anywhere in the tree, except one that only `age`
//!   reaches (its post-quantum recipient pins `kem =0.3.0-pre.0` through
//!   `ml-kem` 0.2; nothing of ours can choose another);
//! - where the tree holds two versions of a crate (because a dependency such
//!   as `age` still uses an older generation), our own crates use the newest;
//! - the RustCrypto crates our code chooses appear once, in one generation,
//!   apart from an older one that only `age` reaches;
//! - every version is declared once, in the root `[workspace.dependencies]`,
//!   and nothing is renamed to let two lines of one crate coexist.

use std::collections::BTreeMap;
use std::path::Path;

/// One `[[package]]` of `Cargo.lock`.
struct Locked {
    name: String,
    version: String,
    deps: Vec<String>,
}

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn lock() -> Vec<Locked> {
    let text = read("Cargo.lock");
    let quoted = |line: &str| line.split('"').nth(1).map(str::to_string);
    text.split("[[package]]")
        .skip(1)
        .map(|block| {
            let mut p = Locked {
                name: String::new(),
                version: String::new(),
                deps: Vec::new(),
            };
            let mut in_deps = false;
            for line in block.lines() {
                let line = line.trim();
                if in_deps {
                    if line == "]" {
                        in_deps = false;
                    } else if let Some(d) = quoted(line) {
                        p.deps.push(d);
                    }
                } else if line.starts_with("name = ") {
                    p.name = quoted(line).unwrap_or_default();
                } else if line.starts_with("version = ") {
                    p.version = quoted(line).unwrap_or_default();
                } else if line == "dependencies = [" {
                    in_deps = true;
                }
            }
            p
        })
        .collect()
}

/// Numeric parts of a version, for ordering ("0.10.0" > "0.9.10").
fn numeric(version: &str) -> Vec<u64> {
    version
        .split(['.', '-', '+'])
        .map_while(|part| part.parse().ok())
        .collect()
}

fn versions(lock: &[Locked]) -> BTreeMap<&str, Vec<&str>> {
    let mut map: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in lock {
        map.entry(p.name.as_str()).or_default().push(&p.version);
    }
    map
}

/// Resolves a lock entry's dependency ("name" or "name version") to the
/// index of its package.
fn resolve(lock: &[Locked], dep: &str) -> Option<usize> {
    let (name, version) = match dep.split_once(' ') {
        Some((n, v)) => (n, Some(v)),
        None => (dep, None),
    };
    lock.iter()
        .position(|p| p.name == name && version.is_none_or(|v| p.version == v))
}

/// Every package our crates reach without passing through `age` or
/// `age-core` (name and version).
fn reached_without_age(lock: &[Locked]) -> Vec<(String, String)> {
    let mut seen = vec![false; lock.len()];
    let mut stack: Vec<usize> = lock
        .iter()
        .enumerate()
        .filter(|(_, p)| p.name == "custodian" || p.name == "custodian-core")
        .map(|(i, _)| i)
        .collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        for dep in &lock[i].deps {
            if let Some(j) = resolve(lock, dep)
                && lock[j].name != "age"
                && lock[j].name != "age-core"
            {
                stack.push(j);
            }
        }
    }
    lock.iter()
        .zip(seen)
        .filter(|(_, s)| *s)
        .map(|(p, _)| (p.name.clone(), p.version.clone()))
        .collect()
}

#[test]
fn no_pre_release_version_in_the_tree() {
    let lock = lock();
    let ours = reached_without_age(&lock);
    let pre: Vec<String> = lock
        .iter()
        // A `-` before any `+build` metadata marks a pre-release.
        .filter(|p| p.version.split('+').next().is_some_and(|v| v.contains('-')))
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    // The one tolerated: `kem`, pinned by `ml-kem` 0.2 inside `age` 0.12.
    let unexpected: Vec<&String> = pre.iter().filter(|p| *p != "kem 0.3.0-pre.0").collect();
    assert!(
        unexpected.is_empty(),
        "pre-release versions in Cargo.lock: {unexpected:?}"
    );
    let reached: Vec<String> = ours
        .iter()
        .filter(|(_, v)| v.split('+').next().is_some_and(|v| v.contains('-')))
        .map(|(n, v)| format!("{n} {v}"))
        .collect();
    assert!(
        reached.is_empty(),
        "pre-release versions our crates reach without age: {reached:?}"
    );
}

#[test]
fn our_crates_use_the_newest_of_each_duplicated_crate() {
    let lock = lock();
    let versions = versions(&lock);
    let mut older = Vec::new();
    for ours in lock
        .iter()
        .filter(|p| p.name == "custodian" || p.name == "custodian-core")
    {
        // A lock entry names the version only when the tree holds several.
        for dep in &ours.deps {
            let Some((name, version)) = dep.split_once(' ') else {
                continue;
            };
            let newest = versions[name]
                .iter()
                .max_by_key(|v| numeric(v))
                .copied()
                .unwrap_or(version);
            if numeric(version) != numeric(newest) {
                older.push(format!("{} uses {name} {version}, not {newest}", ours.name));
            }
        }
    }
    assert!(
        older.is_empty(),
        "older generations chosen by our code: {older:?}"
    );
}

#[test]
fn rustcrypto_crates_we_choose_appear_in_one_version() {
    let lock = lock();
    let ours = reached_without_age(&lock);
    // The crates our code pulls in: a second version reached by our code
    // (not only through age's post-quantum HPKE) would be ours.
    let single = [
        "rsa", "k256", "aes-gcm", "aes", "cbc", "md-5", "sha1", "ecdsa",
    ];
    let doubled: Vec<String> = single
        .iter()
        .filter_map(|name| {
            let v: Vec<&String> = ours
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v)
                .collect();
            (v.len() > 1).then(|| format!("{name} {v:?}"))
        })
        .collect();
    assert!(doubled.is_empty(), "two versions of: {doubled:?}");
    for name in single {
        assert!(
            ours.iter().any(|(n, _)| n == name),
            "{name} is not reached by our crates"
        );
    }
    // Only the listed crates may hold a version reached through age alone.
    let versions = versions(&lock);
    for name in ["aes-gcm", "aes"] {
        for v in &versions[name] {
            let by_us = ours.iter().any(|(n, ov)| n == name && ov == v);
            let newest = versions[name].iter().max_by_key(|x| numeric(x)).copied();
            assert!(
                by_us || Some(*v) != newest,
                "{name} {v}: the newest version is not the one our code uses"
            );
        }
    }
}

/// The root `[workspace] members = [...]` list, as written.
fn members(root: &str) -> Vec<String> {
    let start = root
        .find("members = [")
        .expect("the root Cargo.toml lists the workspace members");
    let list = &root[start + "members = [".len()..];
    let end = list.find(']').expect("the members list is closed");
    list[..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Every manifest of the workspace: the members the root lists, which must
/// be exactly the root and every `crates/*/Cargo.toml` on disk (so a new
/// crate cannot be left out of the workspace or of these checks).
fn manifests() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let listed = members(&read("Cargo.toml"));
    let mut on_disk: Vec<String> = std::fs::read_dir(root.join("crates"))
        .expect("crates/ is readable")
        .map(|e| e.expect("crates/ lists").path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .filter_map(|p| Some(format!("crates/{}", p.file_name()?.to_string_lossy())))
        .collect();
    on_disk.push(".".into());
    on_disk.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(
        sorted, on_disk,
        "the workspace members in Cargo.toml are not the root and crates/*"
    );
    listed
        .iter()
        .map(|m| match m.as_str() {
            "." => "Cargo.toml".to_string(),
            m => format!("{m}/Cargo.toml"),
        })
        .collect()
}

#[test]
fn the_manifest_list_is_every_crate_of_the_workspace() {
    let m = manifests();
    assert!(m.contains(&"Cargo.toml".to_string()), "{m:?}");
    assert!(
        m.contains(&"crates/custodian-core/Cargo.toml".to_string()),
        "{m:?}"
    );
    assert!(
        m.contains(&"crates/custodian-bench/Cargo.toml".to_string()),
        "{m:?}"
    );
    assert_eq!(
        members("[workspace]\nmembers = [\n  \".\",\n  \"crates/a\",\n]\n"),
        [".", "crates/a"]
    );
}

#[test]
fn versions_are_declared_once_in_the_workspace() {
    let root = read("Cargo.toml");
    assert!(
        !root.contains("package = \""),
        "a dependency is renamed (`package = …`) in the root Cargo.toml"
    );
    for manifest in manifests() {
        let text = read(&manifest);
        let mut section = String::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line.to_string();
                continue;
            }
            let is_dep_section =
                section.ends_with("dependencies]") && section != "[workspace.dependencies]";
            if is_dep_section && !line.is_empty() && !line.starts_with('#') {
                assert!(
                    line.contains("workspace = true"),
                    "{manifest} {section}: `{line}` declares its own version"
                );
            }
        }
    }
}
/// Proc macros known to expand differently from one compiler run to the next
/// break the reproducible release build (scripts/check-reproducible.sh) at
/// random: `i18n-embed-fl` before 0.10 (reached through `age` 0.11) emitted
/// the arguments of each `fl!` message in `HashMap` order, seeded per
/// process, so two clean builds of one commit differed in `age`'s code
/// (found by comparing the two builds' rlibs: "leftright" vs "rightleft" in
/// one codegen unit). 0.10 sorts them. Refuse the old line if it ever comes
/// back.
#[test]
fn no_nondeterministic_proc_macro_in_the_tree() {
    for p in lock() {
        if p.name == "i18n-embed-fl" {
            assert!(
                numeric(&p.version) >= vec![0, 10],
                "i18n-embed-fl {} expands fl! arguments in HashMap order, so release builds \
                 are not reproducible; use age 0.12 or later (i18n-embed-fl 0.10 sorts them)",
                p.version
            );
        }
    }
}
