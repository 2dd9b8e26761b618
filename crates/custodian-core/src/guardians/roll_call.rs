//! The guardian roll call: each guardian opens their own share with their
//! passphrase, and the share is checked against a commitment recorded at
//! split time — without rebuilding the key, so no quorum has to meet.
//!
//! The commitment to share `i` of set `S` is
//!
//! ```text
//! SHA-256( "custodian-guardian-share-commitment/v1" ‖ 0x00 ‖ S (16 bytes) ‖ i (1 byte) ‖ share (33 bytes) )
//! ```
//!
//! where `share` is the sealed payload (its x-coordinate, then the 32 y
//! bytes). Binding the set id and index means a commitment cannot be
//! replayed for another share. It reveals nothing usable about the share:
//! the 32 y bytes of one share are uniformly random (fewer than threshold
//! shares say nothing about the key), so the hash can only be inverted by
//! searching 2^256 values, and no salt is needed. A share substituted under
//! the same passphrase and header (re-sealed with other bytes) opens, and is
//! then caught here.
//!
//! Each passed roll call records its date per guardian in the split record
//! (on a transaction); [`findings`] is what `custodian check` and the
//! threat screens flag: a guardian not seen for more than a quarter, and a
//! set that can no longer reach its threshold from guardians seen this
//! quarter.

use rayon::prelude::*;
use secrecy::SecretString;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{Collection, GuardianError, LoadedShare, Progress, SplitRecord, short_set};
use crate::fsutil;
use crate::workspace::{Registry, Workspace};

/// The domain separator of a share commitment.
pub const COMMITMENT_DOMAIN: &[u8] = b"custodian-guardian-share-commitment/v1";
/// Audit event of a roll call.
pub const EVENT: &str = "GUARDIAN_ROLL_CALL";
/// A guardian not seen for longer than this many days is flagged (a quarter).
pub const QUARTER_DAYS: i64 = 92;

/// The commitment to one share (see the module docs), as hex.
pub fn commitment(set_id: &str, index: u8, share: &[u8]) -> Result<String, GuardianError> {
    let set = hex::decode(set_id).map_err(|_| GuardianError::WrongFormat {
        source_name: "the set id".into(),
        reason: "`setId` is not hex".into(),
    })?;
    let mut h = Sha256::new();
    h.update(COMMITMENT_DOMAIN);
    h.update([0u8]);
    h.update(&set);
    h.update([index]);
    h.update(share);
    Ok(hex::encode(h.finalize()))
}

/// Compares two hex digests without stopping at the first difference (the
/// commitment is public, but there is no reason to say where they differ).
fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The shares of one roll call, checked against the registry before any
/// passphrase is asked for.
#[derive(Debug, Clone)]
pub struct RollCall {
    /// The shares, in index order.
    pub shares: Vec<LoadedShare>,
    /// The split they belong to.
    pub split: SplitRecord,
}

/// Checks shares for a roll call: one set, recorded here, current, with
/// commitments; no duplicates. Nothing is opened.
pub fn prepare(ws: &Workspace, shares: Vec<LoadedShare>) -> Result<RollCall, GuardianError> {
    let mut c = Collection::new();
    for s in shares {
        c.add(s)?;
    }
    let members: Vec<LoadedShare> = c.members().cloned().collect();
    let Some(first) = members.first() else {
        return Err(GuardianError::NoShares);
    };
    let set_id = first.share.set_id.clone();
    let reg = ws.registry()?;
    let split = reg
        .guardian_splits
        .splits
        .iter()
        .find(|s| s.set_id == set_id)
        .cloned()
        .ok_or_else(|| GuardianError::UnknownSet {
            set: short_set(&set_id),
        })?;
    split.check_current()?;
    if split.commitments.len() != usize::from(split.total) {
        return Err(GuardianError::NoCommitments {
            set: short_set(&set_id),
            custodian: split.custodian.clone(),
        });
    }
    for m in &members {
        m.share.validate(&m.source)?;
    }
    Ok(RollCall {
        shares: members,
        split,
    })
}

/// What a roll call recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollCallOutcome {
    /// The set.
    pub set_id: String,
    /// The custodian whose key the set protects.
    pub custodian: String,
    /// The guardians who proved their share, with their index.
    pub passed: Vec<(String, u8)>,
    /// The date recorded.
    pub date: String,
    /// The set's threshold.
    pub threshold: u8,
    /// Guardians of the set seen within the last quarter, this roll call included.
    pub seen_this_quarter: usize,
}

/// Opens each share with its guardian's passphrase (`passphrases[i]` for
/// `call.shares[i]`) and checks it against the split's commitment. All or
/// nothing: if any share fails, nothing is recorded and the error names the
/// first failing guardian (in index order); otherwise each guardian's date
/// is recorded in the split record. Audited as `GUARDIAN_ROLL_CALL`.
pub fn run(
    ws: &Workspace,
    call: &RollCall,
    passphrases: &[SecretString],
    progress: Progress<'_>,
) -> Result<RollCallOutcome, GuardianError> {
    let split = &call.split;
    if passphrases.len() != call.shares.len() {
        return Err(GuardianError::TooFew {
            have: passphrases.len(),
            need: call.shares.len(),
            missing: "a passphrase for every share".into(),
        });
    }
    let tx = ws.begin(
        EVENT,
        json!({
            "setId": split.set_id, "custodian": split.custodian, "recipient": split.recipient,
            "shares": call.shares.iter().map(|m| json!({
                "guardian": m.share.guardian, "index": m.share.index,
                "fileSha256": fsutil::sha256_hex(&m.share.to_bytes()),
            })).collect::<Vec<_>>(),
        }),
    )?;
    let total = call.shares.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<Result<(), GuardianError>> = call
        .shares
        .par_iter()
        .zip(passphrases.par_iter())
        .map(|(m, pass)| {
            let opened = m.share.open(pass)?;
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            progress(n, total, &format!("opened {}'s share", m.share.guardian));
            let expected = split
                .commitments
                .get(usize::from(m.share.index) - 1)
                .map(String::as_str)
                .unwrap_or("");
            let got = commitment(&split.set_id, opened.index, &opened.bytes)?;
            if same_digest(&got, expected) {
                Ok(())
            } else {
                Err(GuardianError::CommitmentMismatch {
                    guardian: m.share.guardian.clone(),
                    index: m.share.index,
                    set: short_set(&split.set_id),
                })
            }
        })
        .collect();
    if let Some(e) = results.into_iter().find_map(Result::err) {
        return Err(tx.fail_with(e));
    }
    let date = crate::clock::now_string();
    let now = crate::clock::now();
    let passed: Vec<(String, u8)> = call
        .shares
        .iter()
        .map(|m| (m.share.guardian.clone(), m.share.index))
        .collect();
    tx.commit(
        |reg| {
            let rec = reg
                .guardian_splits
                .splits
                .iter_mut()
                .find(|s| s.set_id == split.set_id)
                .ok_or_else(|| GuardianError::UnknownSet {
                    set: short_set(&split.set_id),
                })?;
            rec.check_current()?;
            for (g, _) in &passed {
                rec.roll_call.insert(g.clone(), date.clone());
            }
            Ok::<_, GuardianError>(RollCallOutcome {
                set_id: split.set_id.clone(),
                custodian: split.custodian.clone(),
                passed: passed.clone(),
                date: date.clone(),
                threshold: split.threshold,
                seen_this_quarter: seen_since(rec, now).len(),
            })
        },
        |o| json!({ "passed": o.passed.iter().map(|(g, i)| json!({"guardian": g, "index": i})).collect::<Vec<_>>(), "date": o.date }),
    )
}

/// The guardians of `split` seen at a roll call within a quarter of `now`.
pub fn seen_since(split: &SplitRecord, now: OffsetDateTime) -> Vec<String> {
    split
        .guardians
        .iter()
        .filter(|g| {
            split
                .roll_call
                .get(*g)
                .and_then(|d| crate::clock::parse(d))
                .is_some_and(|d| now - d <= time::Duration::days(QUARTER_DAYS))
        })
        .cloned()
        .collect()
}

/// What the checks flag about roll calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Current sets of active custodians looked at.
    pub sets: usize,
    /// One line per guardian not seen for more than a quarter (or never),
    /// and per set recorded before commitments existed.
    pub not_seen: Vec<String>,
    /// One line per set that cannot reach its threshold from guardians
    /// seen this quarter.
    pub below_threshold: Vec<String>,
}

/// Looks at the current guardian sets of the active custodians.
pub fn findings(reg: &Registry, now: OffsetDateTime) -> Findings {
    let mut f = Findings::default();
    for c in &reg.custodians {
        for split in reg.guardian_splits.current_for(&c.recipient) {
            f.sets += 1;
            let set = short_set(&split.set_id);
            if split.commitments.is_empty() {
                f.not_seen.push(format!(
                    "{}'s set {set} was split before roll-call commitments; split the key again or rotate it",
                    c.name
                ));
            }
            let seen = seen_since(split, now);
            for g in split.guardians.iter().filter(|g| !seen.contains(g)) {
                f.not_seen.push(match split.roll_call.get(g) {
                    Some(d) => format!(
                        "guardian {g} ({}'s set {set}) was last seen on {d}, more than a quarter ago",
                        c.name
                    ),
                    None => format!(
                        "guardian {g} ({}'s set {set}) has never proved their share at a roll call",
                        c.name
                    ),
                });
            }
            if seen.len() < usize::from(split.threshold) {
                f.below_threshold.push(format!(
                    "{}'s set {set} needs {} guardians; only {} seen this quarter",
                    c.name,
                    split.threshold,
                    seen.len()
                ));
            }
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commitments_bind_set_index_and_bytes() {
        let set = "00112233445566778899aabbccddeeff";
        let share = [7u8; 33];
        let c = commitment(set, 1, &share).unwrap();
        assert_eq!(c.len(), 64);
        assert_ne!(c, commitment(set, 2, &share).unwrap());
        assert_ne!(
            c,
            commitment("ff112233445566778899aabbccddeeff", 1, &share).unwrap()
        );
        let mut other = share;
        other[32] ^= 1;
        assert_ne!(c, commitment(set, 1, &other).unwrap());
        // The documented construction, recomputed by hand.
        let mut h = Sha256::new();
        h.update(b"custodian-guardian-share-commitment/v1\x00");
        h.update(hex::decode(set).unwrap());
        h.update([1u8]);
        h.update(share);
        assert_eq!(c, hex::encode(h.finalize()));
    }
}
