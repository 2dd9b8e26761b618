//! The pre-launch checklist. Items the workspace can prove (three custodian
//! identities, each split 3-of-5, a restore drill, an intact audit chain,
//! rotations current, an audited retirement) are verified each time the checklist is shown and
//! cannot be ticked by hand; every other item is ticked by a named operator.
//!
//! Ticks live in the registry section `checklist` (item id → who and when)
//! and each tick or untick is audited (`CHECKLIST_TICK` / `CHECKLIST_UNTICK`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::model::Playbook;
use super::{PlaybookError, validate_operator};
use crate::workspace::{Registry, Workspace};

/// Registry section holding manual ticks.
pub const SECTION: &str = "checklist";

/// A fact the console verifies from the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AutoCheck {
    /// At least three custodians are registered.
    ThreeCustodianIdentities,
    /// Every custodian has a 3-of-5 guardian split on record.
    #[serde(rename = "guardian-splits-3-of-5")]
    GuardianSplits3Of5,
    /// A drill has been recorded.
    RestoreDrillDone,
    /// The audit log has entries and its chain verifies.
    AuditChainIntact,
    /// No custodian is past their rotation date.
    RotationCurrent,
    /// A custodian was retired here (the registry's history names them and
    /// their successor) and the audit log holds that retirement's outcome.
    OffboardingTested,
}

/// A manual tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tick {
    /// Who ticked it.
    pub operator: String,
    /// When.
    pub at: String,
}

/// The manual ticks, by item id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistState {
    /// Item id → tick.
    #[serde(default)]
    pub ticks: BTreeMap<String, Tick>,
}

impl ChecklistState {
    /// True when nothing is ticked.
    pub fn is_empty(&self) -> bool {
        self.ticks.is_empty()
    }
}

/// Where an item stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemState {
    /// Verified from the workspace; the detail says what was seen.
    Verified(String),
    /// Checked automatically and not met; the detail says why.
    NotMet(String),
    /// Ticked by a named operator.
    Ticked(Tick),
    /// Waiting for an operator.
    Open,
}

impl ItemState {
    /// True when the item is satisfied.
    pub fn done(&self) -> bool {
        matches!(self, ItemState::Verified(_) | ItemState::Ticked(_))
    }
}

/// Every active custodian's key has a current 3-of-5 guardian split and
/// every guardian of it has proved their share in a roll call — a split
/// whose passphrases nobody has typed back does not count as handed out.
fn splits_3_of_5(reg: &Registry) -> Result<String, String> {
    if reg.custodians.is_empty() {
        return Err("no custodians registered".into());
    }
    let mut problems = Vec::new();
    for c in &reg.custodians {
        let current: Vec<&crate::guardians::SplitRecord> = reg
            .guardian_splits
            .splits
            .iter()
            .filter(|s| s.custodian == c.name || s.recipient == c.recipient)
            .filter(|s| s.superseded.is_none() && s.threshold == 3 && s.total == 5)
            .collect();
        if current.is_empty() {
            problems.push(format!("no 3-of-5 split for {}", c.name));
            continue;
        }
        let proved = current
            .iter()
            .any(|s| s.guardians.iter().all(|g| s.roll_call.contains_key(g)));
        if !proved {
            let s = current[current.len() - 1];
            let unproved: Vec<&str> = s
                .guardians
                .iter()
                .filter(|g| !s.roll_call.contains_key(*g))
                .map(String::as_str)
                .collect();
            problems.push(format!(
                "{}'s guardians have not all proved their shares (roll call): {}",
                c.name,
                unproved.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(format!(
            "{}, each split 3-of-5, every guardian's share proved",
            crate::text::count(reg.custodians.len() as u64, "custodian", "custodians")
        ))
    } else {
        Err(problems.join("; "))
    }
}

/// The last retirement in the registry's history whose audited outcome
/// (`CUSTODIAN_RETIRE` completed, same op id) is in the log: offboarding
/// done once, for real, not ticked by hand.
fn offboarding_tested(ws: &Workspace, reg: &Registry) -> Result<String, String> {
    let retired: Vec<&crate::lifecycle::PastCustodian> = reg
        .custodian_history
        .iter()
        .filter(|p| p.status == crate::lifecycle::CustodianStatus::Retired)
        .collect();
    if retired.is_empty() {
        return Err("no custodian has been retired here yet (scenario 2's last step, or `custodian retire`)".into());
    }
    let entries = ws
        .audit()
        .entries()
        .map_err(|e| format!("the audit log cannot be read: {e}"))?;
    let audited = retired.iter().rev().find(|p| {
        entries.iter().any(|e| {
            e.op == p.op
                && e.event == crate::lifecycle::retire::EVENT
                && e.status == crate::audit::Status::Completed
        })
    });
    match audited {
        Some(p) => Ok(format!(
            "{} retired on {}, successor {} (audited)",
            p.name,
            p.ended_at.get(..10).unwrap_or(&p.ended_at),
            p.successor.name
        )),
        None => Err(format!(
            "the retirement of {} has no completed `{}` entry in the audit log",
            retired[retired.len() - 1].name,
            crate::lifecycle::retire::EVENT
        )),
    }
}

/// Evaluates an automatic item.
pub fn evaluate(
    check: AutoCheck,
    ws: &Workspace,
    reg: &Registry,
    now: OffsetDateTime,
) -> ItemState {
    let result = match check {
        AutoCheck::ThreeCustodianIdentities => {
            let n = reg.custodians.len();
            if n >= 3 {
                Ok(format!("{n} custodians registered"))
            } else {
                Err(format!("{n} of 3 custodians registered"))
            }
        }
        AutoCheck::GuardianSplits3Of5 => splits_3_of_5(reg),
        AutoCheck::RestoreDrillDone => match super::checks::last_drill(reg) {
            Some(d) => Ok(format!("last drill {}", crate::clock::format(d))),
            None => Err(format!(
                "no drill in the registry's `{}` section",
                crate::drill::run::SECTION
            )),
        },
        AutoCheck::AuditChainIntact => {
            // The same check the threat screens and `custodian check` make.
            let r = super::checks::check_audit_chain(ws);
            let detail = r.findings.join("; ");
            match r.status {
                super::checks::CheckStatus::Pass => Ok(detail),
                _ => Err(detail),
            }
        }
        AutoCheck::OffboardingTested => offboarding_tested(ws, reg),
        AutoCheck::RotationCurrent => {
            if reg.custodians.is_empty() {
                Err("no custodians registered".into())
            } else {
                let late: Vec<&str> = reg
                    .custodians
                    .iter()
                    .filter(|c| crate::clock::parse(&c.rotation_due).is_none_or(|d| d < now))
                    .map(|c| c.name.as_str())
                    .collect();
                if late.is_empty() {
                    Ok("every custodian has a rotation date ahead".into())
                } else {
                    Err(format!("rotation overdue: {}", late.join(", ")))
                }
            }
        }
    };
    match result {
        Ok(d) => ItemState::Verified(d),
        Err(d) => ItemState::NotMet(d),
    }
}

/// The state of every item, in playbook order.
pub fn status(
    ws: &Workspace,
    book: &Playbook,
    reg: &Registry,
    now: OffsetDateTime,
) -> Vec<(String, ItemState)> {
    let state = &reg.checklist;
    book.checklist_items()
        .map(|item| {
            let s = match item.auto {
                Some(check) => evaluate(check, ws, reg, now),
                None => state
                    .ticks
                    .get(&item.id)
                    .cloned()
                    .map(ItemState::Ticked)
                    .unwrap_or(ItemState::Open),
            };
            (item.id.clone(), s)
        })
        .collect()
}

/// Ticks (or, with `ticked = false`, unticks) a manual item as `operator`.
/// Audited first, then stored.
pub fn set_tick(
    ws: &Workspace,
    book: &Playbook,
    item: &str,
    operator: &str,
    ticked: bool,
) -> Result<(), PlaybookError> {
    let operator = validate_operator(operator)?;
    let def = book
        .checklist_items()
        .find(|i| i.id == item)
        .ok_or_else(|| PlaybookError::UnknownChecklistItem(item.to_string()))?;
    if def.auto.is_some() {
        return Err(PlaybookError::AutomaticItem(item.to_string()));
    }
    let event = if ticked {
        "CHECKLIST_TICK"
    } else {
        "CHECKLIST_UNTICK"
    };
    let tx = ws.begin(event, json!({ "item": item, "operator": operator }))?;
    let at = tx
        .initiated()
        .map_or_else(crate::clock::now_string, |e| e.time.clone());
    tx.commit(
        |reg| {
            let state = &mut reg.checklist;
            if ticked {
                state.ticks.insert(
                    item.to_string(),
                    Tick {
                        operator: operator.clone(),
                        at,
                    },
                );
            } else {
                state.ticks.remove(item);
            }
            Ok::<_, PlaybookError>(())
        },
        |_| json!({}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::CustodianRecord;

    fn ws() -> (tempfile::TempDir, Workspace) {
        let d = tempfile::tempdir().unwrap();
        let ws = Workspace::open(d.path().join("ws")).unwrap();
        (d, ws)
    }

    fn state_of(ws: &Workspace, id: &str) -> ItemState {
        let reg = ws.registry().unwrap();
        status(ws, Playbook::builtin(), &reg, crate::clock::now())
            .into_iter()
            .find(|(i, _)| i == id)
            .unwrap()
            .1
    }

    #[test]
    fn automatic_items_follow_the_workspace() {
        let (_d, ws) = ws();
        assert!(matches!(
            state_of(&ws, "three-identities"),
            ItemState::NotMet(_)
        ));
        assert!(matches!(
            state_of(&ws, "guardian-splits"),
            ItemState::NotMet(_)
        ));
        assert!(matches!(
            state_of(&ws, "restore-drill"),
            ItemState::NotMet(_)
        ));
        for n in ["Ana", "Ben", "Cy"] {
            ws.add_custodian(CustodianRecord {
                name: n.into(),
                recipient: format!("age1{n}"),
                fingerprint: "f".into(),
                created_at: "2026-01-01T00:00:00Z".into(),
                rotation_due: "2099-01-01T00:00:00Z".into(),
                identity_file: None,
                token: None,
            })
            .unwrap();
        }
        assert!(matches!(
            state_of(&ws, "three-identities"),
            ItemState::Verified(_)
        ));
        use crate::playbook::checks::tests::{drill, split_record};
        ws.update_registry(|r| {
            r.guardian_splits.splits = vec![
                split_record("Ana", "age1Ana", 3, 5),
                split_record("Ben", "age1Ben", 3, 5),
                split_record("Cy", "age1Cy", 2, 3),
            ];
            r.drills = vec![drill("2026-11-01T00:00:00Z")];
            Ok::<_, crate::workspace::WorkspaceError>(())
        })
        .unwrap();
        match state_of(&ws, "guardian-splits") {
            ItemState::NotMet(why) => assert!(
                why.contains("no 3-of-5 split for Cy") && why.contains("Ana's guardians"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
        // The 3-of-5 splits count once every guardian proved their share.
        ws.update_registry(|r| {
            for s in &mut r.guardian_splits.splits {
                if s.total == 5 {
                    for g in s.guardians.clone() {
                        s.roll_call.insert(g, "2026-11-02T00:00:00Z".into());
                    }
                }
            }
            Ok::<_, crate::workspace::WorkspaceError>(())
        })
        .unwrap();
        match state_of(&ws, "guardian-splits") {
            ItemState::NotMet(why) => assert_eq!(why, "no 3-of-5 split for Cy"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            state_of(&ws, "restore-drill"),
            ItemState::Verified(_)
        ));
        assert!(matches!(
            state_of(&ws, "rotation-calendar"),
            ItemState::Verified(_)
        ));
    }

    /// A retirement counts for the offboarding item only with its
    /// completed audit entry: a history edited by hand does not tick it.
    #[test]
    fn offboarding_needs_an_audited_retirement() {
        use crate::lifecycle::{CustodianStatus, PastCustodian, Successor};
        let (_d, ws) = ws();
        match state_of(&ws, "offboarding") {
            ItemState::NotMet(why) => {
                assert!(why.contains("no custodian has been retired"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        let past = |status| PastCustodian {
            name: "Ana".into(),
            recipient: "age1ana".into(),
            fingerprint: "f".into(),
            status,
            created_at: "2026-01-01T00:00:00Z".into(),
            ended_at: "2026-06-01T00:00:00Z".into(),
            successor: Successor {
                name: "Ben".into(),
                recipient: "age1ben".into(),
            },
            op: "op-1".into(),
            retired_files: Vec::new(),
            destroy_elsewhere: Vec::new(),
            approvers: Vec::new(),
            confirmed_destroyed: Vec::new(),
        };
        // A rotation is not an offboarding.
        ws.update_registry(|r| {
            r.custodian_history = vec![past(CustodianStatus::Rotated)];
            Ok::<_, crate::workspace::WorkspaceError>(())
        })
        .unwrap();
        assert!(matches!(state_of(&ws, "offboarding"), ItemState::NotMet(_)));
        // A retirement the audit log does not hold.
        ws.update_registry(|r| {
            r.custodian_history = vec![past(CustodianStatus::Retired)];
            Ok::<_, crate::workspace::WorkspaceError>(())
        })
        .unwrap();
        match state_of(&ws, "offboarding") {
            ItemState::NotMet(why) => assert!(
                why.contains("retirement of Ana has no completed `CUSTODIAN_RETIRE` entry"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
        // And it cannot be ticked by hand.
        assert!(matches!(
            set_tick(&ws, Playbook::builtin(), "offboarding", "Dee", true),
            Err(PlaybookError::AutomaticItem(_))
        ));
    }

    #[test]
    fn manual_items_are_ticked_by_name_and_audited() {
        let (_d, ws) = ws();
        let book = Playbook::builtin();
        set_tick(&ws, book, "allow-list", "Dee Officer", true).unwrap();
        match state_of(&ws, "allow-list") {
            ItemState::Ticked(t) => assert_eq!(t.operator, "Dee Officer"),
            other => panic!("{other:?}"),
        }
        let e = ws.audit().entries().unwrap();
        let events: Vec<_> = e.iter().map(|e| (e.event.as_str(), e.status)).collect();
        use crate::audit::Status::{Completed, Initiated};
        assert_eq!(
            events,
            [("CHECKLIST_TICK", Initiated), ("CHECKLIST_TICK", Completed)]
        );
        assert_eq!(e[1].details["operator"], "Dee Officer");
        set_tick(&ws, book, "allow-list", "Dee Officer", false).unwrap();
        assert_eq!(state_of(&ws, "allow-list"), ItemState::Open);
        let e = ws.audit().entries().unwrap();
        assert_eq!(e[3].event, "CHECKLIST_UNTICK");
        assert_eq!(e[3].status, Completed);
    }

    #[test]
    fn automatic_and_unknown_items_cannot_be_ticked_and_nothing_is_written() {
        let (_d, ws) = ws();
        let book = Playbook::builtin();
        assert!(matches!(
            set_tick(&ws, book, "three-identities", "Ana", true),
            Err(PlaybookError::AutomaticItem(_))
        ));
        assert!(matches!(
            set_tick(&ws, book, "nope", "Ana", true),
            Err(PlaybookError::UnknownChecklistItem(_))
        ));
        assert!(matches!(
            set_tick(&ws, book, "allow-list", "", true),
            Err(PlaybookError::MissingOperator)
        ));
        assert!(ws.audit().entries().unwrap().is_empty());
        assert!(!ws.root().join(crate::workspace::REGISTRY_FILE).exists());
    }
}
