#!/usr/bin/env python3
"""Consolidates the root package's integration tests into one test binary.

Every `tests/NAME.rs` becomes the module `tests/suite/NAME.rs` of one test
crate, `tests/suite/main.rs` (cargo finds it as the test target `suite`), so
the dependency tree is linked once instead of once per file (issue 16, a
newcomer's first ten minutes). Idempotent: run it again after new
`tests/*.rs` files arrive and it moves those too and rewrites `main.rs`.

What it does:

- moves each `tests/NAME.rs` (except the ones in `SEPARATE`, which need a
  process of their own) to `tests/suite/MOD.rs`, `MOD` being `NAME` with
  `-` as `_`;
- in each moved file, `mod common;` / `mod shard_fixture;` become
  `use crate::common;` / `use crate::shard_fixture;` (so `common::…` and
  `use common::…` keep working); `tests/common/` and `tests/shard_fixture/`
  stay where they are, for the separate binaries, and `main.rs` includes
  them with `#[path]`;
- renames the insta snapshots to insta's names for a module of the `suite`
  crate: `tests/snapshots/NAME__SNAP.snap` becomes
  `tests/suite/snapshots/suite__MOD__SNAP.snap` (the snapshot directory is
  next to the asserting file, the prefix is `module_path!()` with `::` as
  `__`), and their `source:` header line follows;
- removes `[[test]]` entries of moved files from Cargo.toml, if any;
- writes `tests/suite/main.rs` with one `mod` per file.

Usage: scripts/consolidate-tests.py [--dry-run]
After it: `cargo test --release --test suite` runs the moved tests; a single
file's tests are `cargo test --release --test suite -- NAME::`.
"""

from __future__ import annotations

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SUITE = TESTS / "suite"
CRATE = "suite"

# Test files that stay their own binaries, and why.
SEPARATE: dict[str, str] = {}

# Shared helper directories: included by path, not moved.
HELPERS = ["common", "shard_fixture"]

HEADER = """\
//! Every integration test of the root package, as modules of one test
//! binary: the dependency tree is linked once instead of once per file.
//! Written by scripts/consolidate-tests.py (run it again after adding a
//! file under tests/; it moves the file here and rewrites this list).
//! A file's tests alone: `cargo test --release --test suite -- NAME::`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

"""


def module_name(stem: str) -> str:
    return stem.replace("-", "_")


def rewrite_source(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        m = re.match(r"^(\s*)mod (\w+);\s*$", line)
        if m and m.group(2) in HELPERS:
            out.append(f"{m.group(1)}use crate::{m.group(2)};\n")
            continue
        out.append(line)
    return "".join(out)


def move_snapshots(stem: str, mod: str, dry: bool) -> int:
    src_dir = TESTS / "snapshots"
    dst_dir = SUITE / "snapshots"
    moved = 0
    if not src_dir.is_dir():
        return 0
    prefix = f"{stem}__"
    for snap in sorted(src_dir.iterdir()):
        name = snap.name
        if not name.startswith(prefix) or not name.endswith(".snap"):
            continue
        new = dst_dir / f"{CRATE}__{mod}__{name[len(prefix):]}"
        text = snap.read_text()
        text = text.replace(f"source: tests/{stem}.rs", f"source: tests/{CRATE}/{mod}.rs", 1)
        moved += 1
        if dry:
            continue
        dst_dir.mkdir(parents=True, exist_ok=True)
        new.write_text(text)
        snap.unlink()
    return moved


def drop_test_entries(stems: list[str], dry: bool) -> int:
    cargo = ROOT / "Cargo.toml"
    text = cargo.read_text()
    blocks = re.split(r"(?m)^(?=\[)", text)
    kept, dropped = [], 0
    for b in blocks:
        if b.startswith("[[test]]"):
            name = re.search(r'(?m)^name\s*=\s*"([^"]+)"', b)
            path = re.search(r'(?m)^path\s*=\s*"tests/([^"/]+)\.rs"', b)
            stem = path.group(1) if path else (name.group(1) if name else None)
            if stem in stems:
                dropped += 1
                continue
        kept.append(b)
    if dropped and not dry:
        cargo.write_text("".join(kept))
    return dropped


def main() -> int:
    dry = "--dry-run" in sys.argv[1:]
    moved = []
    snaps = 0
    for f in sorted(TESTS.glob("*.rs")):
        stem = f.stem
        if stem in SEPARATE:
            continue
        mod = module_name(stem)
        dst = SUITE / f"{mod}.rs"
        if dst.exists():
            print(f"error: {dst} exists already; {f} not moved", file=sys.stderr)
            return 1
        moved.append(stem)
        snaps += move_snapshots(stem, mod, dry)
        if not dry:
            SUITE.mkdir(exist_ok=True)
            dst.write_text(rewrite_source(f.read_text()))
            f.unlink()
    dropped = drop_test_entries(moved, dry)

    mods = sorted(p.stem for p in SUITE.glob("*.rs") if p.name != "main.rs") if SUITE.is_dir() else []
    if dry:
        mods = sorted(set(mods) | {module_name(s) for s in moved})
    lines = [HEADER]
    # `#[macro_use]`: the helpers' macros (`snap!`) reach every module.
    lines.append('#[macro_use]\n#[path = "../common/mod.rs"]\nmod common;\n')
    lines.append('#[path = "../shard_fixture/mod.rs"]\nmod shard_fixture;\n\n')
    lines.extend(f"mod {m};\n" for m in mods)
    if not dry and mods:
        (SUITE / "main.rs").write_text("".join(lines))
    verb = "would move" if dry else "moved"
    print(f"{verb} {len(moved)} test files and {snaps} snapshots into tests/{CRATE}/ "
          f"({len(mods)} modules; {dropped} [[test]] entries dropped)")
    for stem, why in sorted(SEPARATE.items()):
        print(f"kept as its own binary: tests/{stem}.rs ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
