//! Guardian shares at the library level: the Shamir arithmetic (property
//! tests, no KDF), the printed form, validation before interpolation, and
//! verification after it. One real 3-of-5 split (with real 600,000-iteration
//! envelopes) is made once and shared by the tests that need sealed files.
//!
//! CLI cases live in tests/guardians_cli.rs, console flows in
//! tests/guardians_tui.rs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::OnceLock;

use custodian_core::envelope;
use custodian_core::guardians::{
    self, Collection, GuardianError, LoadedShare, ShareFile, ShareSet, SplitRequest, printed,
};
use custodian_core::identity::{self, OpenedIdentity};
use custodian_core::workspace::Workspace;
use proptest::prelude::*;
use secrecy::SecretString;

const GUARDIANS: [&str; 5] = ["Ana", "Ben", "Cy", "Dee", "Eli"];

fn pass_of(guardian: &str) -> SecretString {
    SecretString::from(format!("{} {guardian}", common::PASS_B))
}

fn names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("G{i}")).collect()
}

/// Every k-subset of 0..n.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    for mask in 0u32..(1 << n) {
        if mask.count_ones() as usize == k {
            out.push((0..n).filter(|i| mask & (1 << i) != 0).collect());
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every k-subset of n rebuilds exactly the key; every (k-1)-subset is
    /// refused (never interpolated into a wrong key).
    #[test]
    fn every_k_subset_recovers_and_every_smaller_subset_is_refused(
        secret in proptest::array::uniform32(any::<u8>()),
        (k, n) in (2usize..=5).prop_flat_map(|k| (Just(k), k..=6)),
    ) {
        let id = OpenedIdentity::from_secret_bytes("Vic", &secret).unwrap();
        let shares = guardians::deal(&secret, k as u8, &names(n));
        prop_assert_eq!(shares.len(), n);
        for subset in subsets(n, k) {
            let chosen: Vec<_> = subset.iter().map(|i| shares[*i].clone()).collect();
            let rebuilt = guardians::rebuild_key("Vic", k as u8, &id.recipient, &chosen).unwrap();
            prop_assert_eq!(&rebuilt.recipient, &id.recipient);
            prop_assert_eq!(*rebuilt.secret_bytes().unwrap(), secret);
        }
        for subset in subsets(n, k - 1) {
            let chosen: Vec<_> = subset.iter().map(|i| shares[*i].clone()).collect();
            let err = guardians::rebuild_key("Vic", k as u8, &id.recipient, &chosen).unwrap_err();
            prop_assert!(
                matches!(err, GuardianError::TooFew { have, need, .. } if have == k - 1 && need == k),
                "unexpected {err:?}"
            );
        }
        // With every share, all k-subsets agree.
        let all = guardians::rebuild_verified("Vic", k as u8, &id.recipient, &shares).unwrap();
        prop_assert_eq!(all.recipient, id.recipient);
    }

    /// A share from another split of the same key, slipped in among genuine
    /// ones, is named when there are more than k shares.
    #[test]
    fn a_foreign_share_is_named(secret in proptest::array::uniform32(any::<u8>())) {
        let id = OpenedIdentity::from_secret_bytes("Vic", &secret).unwrap();
        let good = guardians::deal(&secret, 2, &names(3));
        let other = guardians::deal(&secret, 2, &names(3));
        // Same index as G3 but another polynomial.
        let mut set = vec![good[0].clone(), good[1].clone(), other[2].clone()];
        set[2].guardian = "Mallory".into();
        let err = guardians::rebuild_verified("Vic", 2, &id.recipient, &set).unwrap_err();
        prop_assert!(
            matches!(&err, GuardianError::DisagreeingShare { guardians } if guardians == &vec!["Mallory".to_string()]),
            "unexpected {err:?}"
        );
    }
}

struct Fixture {
    _sandbox: common::Sandbox,
    shares: Vec<ShareFile>,
    recipient: String,
}

/// One real identity and one real 3-of-5 split, made once.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let sandbox = common::Sandbox::new();
        let ws = Workspace::open(sandbox.ws()).unwrap();
        let pass = SecretString::from(common::PASS_A);
        let created = identity::create_identity(&ws, "Vic", &pass, None).unwrap();
        let outcome = guardians::split(
            &ws,
            SplitRequest {
                identity_path: &created.path,
                identity_passphrase: &pass,
                threshold: 3,
                guardians: GUARDIANS
                    .iter()
                    .map(|g| (g.to_string(), pass_of(g)))
                    .collect(),
                out_dir: None,
            },
            &|_, _, _| {},
        )
        .unwrap();
        assert_eq!(outcome.proved_with.len(), 3);
        let shares = outcome
            .shares
            .iter()
            .map(|s| ShareFile::load(&s.path).unwrap())
            .collect();
        Fixture {
            _sandbox: sandbox,
            shares,
            recipient: created.recipient,
        }
    })
}

fn loaded(s: &ShareFile) -> LoadedShare {
    LoadedShare {
        source: format!("{}.share.json", s.guardian),
        share: s.clone(),
    }
}

fn assemble(shares: &[ShareFile]) -> Result<ShareSet, GuardianError> {
    ShareSet::assemble(shares.iter().map(loaded).collect(), None)
}

#[test]
fn share_files_carry_the_documented_header_bound_as_aad() {
    let f = fixture();
    for (i, s) in f.shares.iter().enumerate() {
        assert_eq!(s.format, "custodian-guardian-share");
        assert_eq!(s.version, 1);
        assert_eq!(s.index as usize, i + 1);
        assert_eq!((s.threshold, s.total), (3, 5));
        assert_eq!(s.guardian, GUARDIANS[i]);
        assert_eq!(s.custodian, "Vic");
        assert_eq!(s.recipient, f.recipient);
        assert_eq!(s.set_id, f.shares[0].set_id);
        assert_eq!(s.envelope.context(), Some(&s.context()));
        assert_eq!(
            s.envelope.header.kdf.iterations,
            envelope::DEFAULT_ITERATIONS
        );
    }
}

#[test]
fn printed_form_round_trips_and_survives_grouping_and_case() {
    for s in &fixture().shares {
        let line = s.printed().unwrap();
        assert!(line.starts_with("custodianshare1"));
        assert_eq!(printed::decode(&line).unwrap(), *s);
        assert_eq!(printed::decode(&printed::grouped(&line)).unwrap(), *s);
        assert_eq!(printed::decode(&line.to_uppercase()).unwrap(), *s);
        let qr = printed::qr_text(&line).unwrap();
        assert!(qr.lines().count() > 20);
    }
}

#[test]
fn every_single_character_typo_in_a_printed_share_is_caught() {
    let line = fixture().shares[1].printed().unwrap();
    let data_start = line.rfind('1').unwrap() + 1;
    let charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    // Positions across the whole line (every 7th, and the last), one wrong
    // character each: never accepted, and the hint points at the typo.
    let positions = (data_start..line.len()).step_by(7).chain([line.len() - 1]);
    for pos in positions {
        let orig = line.as_bytes()[pos] as char;
        let wrong = charset.chars().find(|c| *c != orig).unwrap();
        let typo = format!("{}{wrong}{}", &line[..pos], &line[pos + 1..]);
        let err = printed::decode(&typo).unwrap_err();
        let d = pos - data_start;
        assert!(
            matches!(err, GuardianError::PrintedChecksum { typo: Some(at) } if at == (d / 6 + 1, d % 6 + 1)),
            "position {pos}: {err:?}"
        );
    }
    // The message a person reads.
    let pos = data_start + 9;
    let orig = line.as_bytes()[pos] as char;
    let wrong = if orig == 'q' { 'p' } else { 'q' };
    let typo = format!("{}{wrong}{}", &line[..pos], &line[pos + 1..]);
    assert_eq!(
        printed::decode(&typo).unwrap_err().to_string(),
        "the printed share's checksum does not match: a character was mistyped (group 2, character 4 looks wrong)"
    );
    // A dropped group is caught too.
    let grouped = printed::grouped(&line);
    let mut groups: Vec<&str> = grouped.split(' ').collect();
    groups.remove(3);
    assert!(printed::decode(&groups.join(" ")).is_err());
}

/// The grouped form's groups as a person would copy them (prefix first).
fn grouped_parts(line: &str) -> Vec<String> {
    printed::grouped(line)
        .split(' ')
        .map(String::from)
        .collect()
}

#[test]
fn grouped_form_reads_back_typed_any_way() {
    for s in &fixture().shares {
        let line = s.printed().unwrap();
        let grouped = printed::grouped(&line);
        assert!(grouped.starts_with("custodianshare2 "), "{grouped}");
        let groups = printed::groups(&line);
        // Every group is 5 characters (the last may be shorter), each from
        // the Bech32 alphabet, and they carry the whole line.
        assert!(
            groups[..groups.len() - 1]
                .iter()
                .all(|g| g.len() == printed::GROUP)
        );
        assert!((2..=printed::GROUP).contains(&groups.last().unwrap().len()));
        assert!(
            grouped
                .chars()
                .skip(16)
                .all(|c| c == ' ' || "qpzry9x8gf2tvdw0s3jn54khce6mua7l".contains(c))
        );
        let data: String = groups.iter().map(|g| &g[..g.len() - 1]).collect();
        assert_eq!(format!("custodianshare1{data}"), line);
        // Spaces, dashes, line breaks, upper case, run together, or the
        // prefix run into the first group: all the same share.
        let lines_of_six = groups
            .chunks(6)
            .map(|c| c.join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        for typed in [
            grouped.clone(),
            grouped.replace(' ', "-"),
            grouped.to_uppercase(),
            grouped.replace(' ', ""),
            format!("custodianshare2\n{lines_of_six}\n"),
            format!("  custodian share2 -- {}", groups.concat()),
            format!("CUSTODIANSHARE2{}", groups.join("-").to_uppercase()),
        ] {
            assert_eq!(printed::decode(&typed).unwrap(), *s, "{typed}");
            assert!(printed::looks_printed(&typed));
            assert_eq!(ShareFile::from_bytes(typed.as_bytes()).unwrap(), *s);
        }
        // The plain line stays valid.
        assert_eq!(printed::decode(&line).unwrap(), *s);
    }
}

fn group_of(err: &GuardianError) -> usize {
    match err {
        GuardianError::PrintedGroup { group, .. } => *group,
        other => panic!("expected a named group, got {other:?}"),
    }
}

#[test]
fn every_single_wrong_character_in_the_grouped_form_names_its_group() {
    let line = fixture().shares[1].printed().unwrap();
    let parts = grouped_parts(&line);
    let charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let mut cases = 0;
    for g in 1..parts.len() {
        for pos in 0..parts[g].len() {
            // Three different wrong characters at every position, check
            // characters included.
            let orig = parts[g].as_bytes()[pos] as char;
            for wrong in charset.chars().filter(|c| *c != orig).step_by(11) {
                let mut typed = parts.clone();
                typed[g].replace_range(pos..pos + 1, &wrong.to_string());
                let err = printed::decode(&typed.join(" ")).unwrap_err();
                assert_eq!(group_of(&err), g, "group {g} position {pos}: {err}");
                cases += 1;
            }
        }
    }
    assert!(cases > 600, "{cases}");
    // Neighbouring characters of the line swapped inside a group.
    for g in 1..parts.len() {
        let bytes = parts[g].as_bytes();
        for pos in 0..bytes.len().saturating_sub(2) {
            if bytes[pos] == bytes[pos + 1] {
                continue;
            }
            let mut swapped = bytes.to_vec();
            swapped.swap(pos, pos + 1);
            let mut typed = parts.clone();
            typed[g] = String::from_utf8(swapped).unwrap();
            let err = printed::decode(&typed.join(" ")).unwrap_err();
            assert_eq!(group_of(&err), g, "swap in group {g} at {pos}");
        }
    }
    // What a person reads.
    let mut typed = parts.clone();
    let orig = typed[17].as_bytes()[2];
    let wrong = if orig == b'q' { "p" } else { "q" };
    typed[17].replace_range(2..3, wrong);
    let err = printed::decode(&typed.join(" ")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "group 17 of the printed share is wrong: its check character does not match"
    );
    assert!(
        custodian_core::error::Explain::remedy(&err)
            .unwrap()
            .contains("compare group 17 with the paper copy")
    );
}

#[test]
fn grouped_form_names_a_short_long_foreign_or_missing_group() {
    let line = fixture().shares[2].printed().unwrap();
    let parts = grouped_parts(&line);
    let n = parts.len() - 1;
    for g in 1..n {
        // A character left out of, or added to, group g as typed.
        let mut short = parts.clone();
        short[g].remove(1);
        let err = printed::decode(&short.join(" ")).unwrap_err();
        assert_eq!(group_of(&err), g, "short group {g}");
        assert!(
            err.to_string()
                .contains("it has 4 characters where each group has 5")
        );
        let mut long = parts.clone();
        long[g].insert(3, 'q');
        assert_eq!(group_of(&printed::decode(&long.join(" ")).unwrap_err()), g);
        // A letter the alphabet leaves out (b, i, o, 1).
        let mut foreign = parts.clone();
        foreign[g].replace_range(0..1, "o");
        let err = printed::decode(&foreign.join(" ")).unwrap_err();
        assert_eq!(group_of(&err), g);
        assert!(
            err.to_string()
                .contains("`o` is not used in printed shares")
        );
        // Two groups exchanged: the first of them is named (a group's
        // check binds its number, so one in another place never passes).
        if g + 1 < n && parts[g] != parts[g + 1] {
            let mut swapped = parts.clone();
            swapped.swap(g, g + 1);
            assert_eq!(
                group_of(&printed::decode(&swapped.join(" ")).unwrap_err()),
                g
            );
        }
        // A whole group left out: the group now in its place fails.
        let mut dropped = parts.clone();
        dropped.remove(g);
        assert_eq!(
            group_of(&printed::decode(&dropped.join(" ")).unwrap_err()),
            g
        );
        // ... typed without spaces too.
        let run: String = dropped.concat();
        assert_eq!(group_of(&printed::decode(&run).unwrap_err()), g);
    }
    // The last group left out: every group checks, the line's own checksum
    // does not.
    let mut last = parts.clone();
    last.pop();
    let err = printed::decode(&last.join(" ")).unwrap_err();
    assert!(
        err.to_string()
            .contains("a group at the end may be missing"),
        "{err}"
    );
    // Nothing after the prefix, or a wrong prefix.
    assert!(
        printed::decode("custodianshare2")
            .unwrap_err()
            .to_string()
            .contains("no groups follow")
    );
    assert!(!printed::looks_printed("custodianshare3 qqqqq"));
}

#[test]
fn too_few_shares_names_who_is_missing() {
    let f = fixture();
    let err = assemble(&f.shares[..2]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "have 2 of 3 needed; missing: share #3, share #4, share #5 (any 1 of them)"
    );
    // With the registry's record, the missing guardians are named.
    let record = guardians::SplitRecord {
        set_id: f.shares[0].set_id.clone(),
        custodian: "Vic".into(),
        recipient: f.recipient.clone(),
        threshold: 3,
        total: 5,
        guardians: GUARDIANS.iter().map(|g| g.to_string()).collect(),
        files: vec![],
        file_sha256: vec![],
        created_at: String::new(),
        commitments: Vec::new(),
        superseded: None,
        roll_call: Default::default(),
    };
    let err = ShareSet::assemble(
        vec![loaded(&f.shares[0]), loaded(&f.shares[3])],
        Some(&record),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "have 2 of 3 needed; missing: Ben (#2), Cy (#3), Eli (#5) (any 1 of them)"
    );
    assert!(matches!(
        ShareSet::assemble(vec![], None),
        Err(GuardianError::NoShares)
    ));
}

#[test]
fn shares_from_different_sets_are_refused() {
    let f = fixture();
    let mut foreign = f.shares[2].clone();
    foreign.set_id = "0123456789abcdef0123456789abcdef".into();
    let err = assemble(&[f.shares[0].clone(), f.shares[1].clone(), foreign]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "shares from different sets: Ana (set {}) and Cy (set 01234567) were not split together",
            &f.shares[0].set_id[..8]
        )
    );
}

#[test]
fn duplicate_indices_identical_are_noted_different_are_refused_naming_both() {
    let f = fixture();
    let mut c = Collection::new();
    for s in &f.shares[..3] {
        assert_eq!(c.add(loaded(s)).unwrap(), None);
    }
    let note = c.add(loaded(&f.shares[1])).unwrap().unwrap();
    assert_eq!(
        note,
        "Ben's share #2 was given twice (Ben.share.json); the copy was ignored"
    );
    assert_eq!(c.len(), 3);
    let set = c.finish(None).unwrap();
    assert_eq!(set.notes, vec![note]);

    let mut impostor = f.shares[4].clone();
    impostor.index = 2;
    let err = assemble(&[
        f.shares[0].clone(),
        f.shares[1].clone(),
        impostor,
        f.shares[2].clone(),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Ben's and Eli's shares both have index 2 but different contents: one of them is not genuine"
    );
}

#[test]
fn index_zero_and_out_of_range_are_refused() {
    let f = fixture();
    let mut zero = f.shares[2].clone();
    zero.index = 0;
    let err = assemble(&[f.shares[0].clone(), f.shares[1].clone(), zero]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cy's share has index 0, which no real share has: the file is damaged or forged"
    );
    let mut high = f.shares[2].clone();
    high.index = 9;
    assert!(matches!(
        assemble(&[f.shares[0].clone(), high]),
        Err(GuardianError::IndexOutOfRange {
            index: 9,
            total: 5,
            ..
        })
    ));
}

#[test]
fn threshold_and_total_mismatches_are_refused() {
    let f = fixture();
    let mut t = f.shares[1].clone();
    t.threshold = 2;
    assert_eq!(
        assemble(&[f.shares[0].clone(), t]).unwrap_err().to_string(),
        "threshold mismatch: Ana's share says 3, Ben's says 2"
    );
    let mut n = f.shares[1].clone();
    n.total = 4;
    assert_eq!(
        assemble(&[f.shares[0].clone(), n]).unwrap_err().to_string(),
        "total mismatch: Ana's share says 5, Ben's says 4"
    );
}

#[test]
fn a_wrong_guardian_passphrase_names_the_guardian() {
    let s = &fixture().shares[3];
    let err = s.open(&SecretString::from(common::PASS_A)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Dee's passphrase does not open share 4 (or the share was altered)"
    );
    assert!(
        custodian_core::error::Explain::remedy(&err)
            .unwrap()
            .starts_with("ask Dee to type their passphrase again")
    );
}

#[test]
fn an_edited_header_does_not_open() {
    let mut s = fixture().shares[0].clone();
    s.index = 4;
    assert!(matches!(
        s.open(&pass_of("Ana")),
        Err(GuardianError::HeaderAltered { guardian }) if guardian == "Ana"
    ));
    // Rewriting the context too is caught by the AEAD (it is the AAD).
    s.envelope.header.context = Some(s.context());
    assert!(matches!(
        s.open(&pass_of("Ana")),
        Err(GuardianError::WrongPassphrase { .. })
    ));
}

#[test]
fn share_files_with_bad_bytes_get_their_own_errors() {
    let s = &fixture().shares[0];
    let bytes = s.to_bytes();
    assert!(matches!(
        ShareFile::from_bytes(b"  \n"),
        Err(GuardianError::Empty(_))
    ));
    assert!(matches!(
        ShareFile::from_bytes(&bytes[..bytes.len() / 2]),
        Err(GuardianError::Truncated(_))
    ));
    assert!(matches!(
        ShareFile::from_bytes(br#"{"format":"something-else"}"#),
        Err(GuardianError::WrongFormat { .. })
    ));
    let future =
        String::from_utf8(bytes.clone())
            .unwrap()
            .replacen("\"version\": 1", "\"version\": 9", 1);
    assert!(matches!(
        ShareFile::from_bytes(future.as_bytes()),
        Err(GuardianError::UnsupportedVersion(9))
    ));
}

#[test]
fn sealed_shares_rebuild_and_a_disagreeing_sealed_share_is_named() {
    let f = fixture();
    // Cy's share re-sealed with the right header and passphrase but wrong bytes.
    let mut forged = f.shares[2].clone();
    let mut bad = vec![3u8];
    bad.extend_from_slice(&[0x5a; 32]);
    forged.envelope = envelope::seal(
        &bad,
        &pass_of("Cy"),
        envelope::DEFAULT_ITERATIONS,
        Some(forged.context()),
    )
    .unwrap();
    let set = assemble(&[
        f.shares[0].clone(),
        f.shares[1].clone(),
        forged.clone(),
        f.shares[4].clone(),
    ])
    .unwrap();
    let passes: Vec<_> = ["Ana", "Ben", "Cy", "Eli"]
        .iter()
        .map(|g| pass_of(g))
        .collect();
    let opened = guardians::open_all(&set, &passes, &|_, _, _| {}).unwrap();
    let err = guardians::rebuild(&set, &opened).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cy disagrees with the other shares: every combination including it rebuilds the wrong key"
    );
    // With exactly k shares the mismatch is caught, though no share can be named.
    let err = guardians::rebuild(
        &set,
        &[opened[0].clone(), opened[1].clone(), opened[2].clone()],
    )
    .unwrap_err();
    assert!(
        matches!(&err, GuardianError::RecipientMismatch { expected, .. } if *expected == f.recipient)
    );
    // The genuine three rebuild the key.
    let good = [opened[0].clone(), opened[1].clone(), opened[3].clone()];
    assert_eq!(
        guardians::rebuild(&set, &good).unwrap().recipient,
        f.recipient
    );
}
