//! The playbook as typed data: scenarios, threats, the policy table and the
//! pre-launch checklist, parsed from `assets/playbook.json` (compiled into the
//! binary) and validated once, so the screens can index it without checks.
//!
//! The content is data so that wording can be reviewed, and one day changed
//! by an institution, without touching layout code: the console has one
//! scenario screen type that renders any scenario.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::PlaybookError;

/// The playbook shipped with this build.
pub const BUILTIN: &str = include_str!("../../../../assets/playbook.json");

/// A local operation a scenario step can launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// Generate and seal a new custodian identity.
    NewIdentity,
    /// Rebuild a custodian's age key from guardian shares.
    GuardianReconstruct,
    /// Rewrap a shard to a new custodian's recipient.
    Rewrap,
    /// Rewrap a shard to a node's import recipient.
    RestoreToNode,
    /// Threshold recovery of the raw key, wrapped to an HSM.
    Recover,
    /// The paper checklist for moving assets to a new key.
    MoveAssetsChecklist,
    /// Rotate a custodian: new identity, shards rewrapped, guardians
    /// re-split, old files retired (one transaction).
    Rotate,
    /// Check that the vendor DR kit reproduces every workspace key (with
    /// the owner's mobile secret); nothing is output.
    KitVerify,
    /// Recover the workspace keys from the vendor DR kit to one output.
    KitRecover,
    /// Retire a custodian who left: their shards rewrapped to a successor,
    /// their guardian sets superseded, the registry keeping the history.
    Retire,
    /// The onboarding ceremony: identities made, split among guardians and
    /// every share proved, ending with the ceremony record.
    Onboard,
}

impl Operation {
    /// Every operation, in a stable order.
    pub const ALL: [Operation; 11] = [
        Operation::NewIdentity,
        Operation::GuardianReconstruct,
        Operation::Rewrap,
        Operation::RestoreToNode,
        Operation::Recover,
        Operation::MoveAssetsChecklist,
        Operation::Rotate,
        Operation::KitVerify,
        Operation::KitRecover,
        Operation::Retire,
        Operation::Onboard,
    ];

    /// The name used in the data file and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::NewIdentity => "new-identity",
            Operation::GuardianReconstruct => "guardian-reconstruct",
            Operation::Rewrap => "rewrap",
            Operation::RestoreToNode => "restore-to-node",
            Operation::Recover => "recover",
            Operation::MoveAssetsChecklist => "move-assets-checklist",
            Operation::Rotate => "rotate",
            Operation::KitVerify => "kit-verify",
            Operation::KitRecover => "kit-recover",
            Operation::Retire => "retire",
            Operation::Onboard => "onboard",
        }
    }

    /// What a custodian calls it.
    pub fn label(self) -> &'static str {
        match self {
            Operation::NewIdentity => "New custodian identity",
            Operation::GuardianReconstruct => "Guardian reconstruction",
            Operation::Rewrap => "Rewrap a shard",
            Operation::RestoreToNode => "Restore a shard to a node",
            Operation::Recover => "Threshold key recovery",
            Operation::MoveAssetsChecklist => "Move-assets checklist",
            Operation::Rotate => "Rotate a custodian",
            Operation::KitVerify => "Verify the DR kit's workspace keys",
            Operation::KitRecover => "Recover workspace keys from the DR kit",
            Operation::Retire => "Retire a custodian",
            Operation::Onboard => "Onboarding ceremony",
        }
    }

    /// The command line that performs it, for when the console has no
    /// wizard for it (or the operator prefers the CLI).
    pub fn cli(self) -> Option<&'static str> {
        match self {
            Operation::NewIdentity => Some("custodian identity new --name NAME"),
            Operation::GuardianReconstruct => Some("custodian guardians combine SHARE SHARE SHARE"),
            Operation::Rewrap => {
                Some("custodian shard rewrap SHARD --identity ID --to age1… --name NEW")
            }
            Operation::RestoreToNode => Some(
                "custodian shard restore-to-node SHARD --identity ID --node-recipient age1… --node NAME",
            ),
            Operation::Recover => {
                Some("custodian recover --shard A --identity IA --shard B --identity IB")
            }
            Operation::MoveAssetsChecklist => None,
            Operation::Rotate => Some("custodian rotate --custodian NAME"),
            Operation::KitVerify => Some(
                "custodian kit verify KIT.zip --key recovery-private.pem --mobile-passphrase-file F",
            ),
            Operation::KitRecover => Some(
                "custodian kit recover KIT.zip --key recovery-private.pem --mobile-passphrase-file F --approver A --approver B --hsm-public-key HSM.pem --out DIR",
            ),
            Operation::Retire => Some("custodian retire --custodian NAME --successor NAME2"),
            Operation::Onboard => Some("custodian onboard --plan plan.json --passphrase-file F"),
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step of a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Stable id within the scenario (recorded in incidents).
    pub id: String,
    /// What to do, in one line.
    pub text: String,
    /// The local operation this step launches; `None` for a people or
    /// paper action confirmed by a named operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<Operation>,
}

/// One disaster scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// 1 to 5.
    pub number: u8,
    /// Short title.
    pub title: String,
    /// How bad it is (`degraded`, `rotation`, `urgent`, `critical`).
    pub severity: String,
    /// What has happened and what it means.
    pub situation: String,
    /// What to check before acting.
    pub check_first: Vec<String>,
    /// What not to do.
    pub do_not: Vec<String>,
    /// The response, in order.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// One threat from the attack-prevention policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threat {
    /// 1 to 6.
    pub number: u8,
    /// Short title.
    pub title: String,
    /// What the attacker gains.
    pub risk: String,
    /// What the institution does about it.
    pub mitigations: Vec<String>,
    /// Local checks that bear on it (ids from [`super::checks::CheckId`]).
    pub checks: Vec<super::checks::CheckId>,
}

/// A row of the institutional policy table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRow {
    /// What the rule is about.
    pub concern: String,
    /// The rule.
    pub rule: String,
}

/// A pre-launch checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// Stable id (the key of its state in the registry).
    pub id: String,
    /// What must be true.
    pub text: String,
    /// When set, the console verifies the item from the workspace and no
    /// one ticks it by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto: Option<super::checklist::AutoCheck>,
}

/// A group of checklist items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistGroup {
    /// Group heading.
    pub group: String,
    /// Its items.
    pub items: Vec<ChecklistItem>,
}

/// The whole playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Playbook {
    /// Data format version (1).
    pub version: u32,
    /// The five scenarios, numbered 1 to 5.
    pub scenarios: Vec<Scenario>,
    /// Lines of the move-assets checklist.
    pub move_assets_checklist: Vec<String>,
    /// The six threats, numbered 1 to 6.
    pub threats: Vec<Threat>,
    /// The institutional policy table.
    pub policy: Vec<PolicyRow>,
    /// The pre-launch checklist, by group.
    pub checklist: Vec<ChecklistGroup>,
}

impl Playbook {
    /// Parses and validates playbook JSON.
    pub fn parse(text: &str) -> Result<Playbook, PlaybookError> {
        let book: Playbook =
            serde_json::from_str(text).map_err(|e| PlaybookError::BadData(e.to_string()))?;
        book.validate()?;
        Ok(book)
    }

    /// The playbook compiled into this build. Its validity is asserted by a
    /// unit test, so in a released build this cannot fail.
    pub fn builtin() -> &'static Playbook {
        static BOOK: std::sync::OnceLock<Playbook> = std::sync::OnceLock::new();
        BOOK.get_or_init(|| {
            Playbook::parse(BUILTIN).unwrap_or_else(|e| {
                // Unreachable after the unit test; keep the console usable.
                Playbook {
                    version: 1,
                    scenarios: Vec::new(),
                    move_assets_checklist: vec![e.to_string()],
                    threats: Vec::new(),
                    policy: Vec::new(),
                    checklist: Vec::new(),
                }
            })
        })
    }

    /// Scenario `number` (1-based).
    pub fn scenario(&self, number: u8) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.number == number)
    }

    /// Threat `number` (1-based).
    pub fn threat(&self, number: u8) -> Option<&Threat> {
        self.threats.iter().find(|t| t.number == number)
    }

    /// Every checklist item, in order.
    pub fn checklist_items(&self) -> impl Iterator<Item = &ChecklistItem> {
        self.checklist.iter().flat_map(|g| g.items.iter())
    }

    fn validate(&self) -> Result<(), PlaybookError> {
        let bad = |what: String| Err(PlaybookError::BadData(what));
        if self.version != 1 {
            return bad(format!("version {} is not 1", self.version));
        }
        let numbers: Vec<u8> = self.scenarios.iter().map(|s| s.number).collect();
        if numbers != [1, 2, 3, 4, 5] {
            return bad(format!(
                "scenarios must be numbered 1 to 5, found {numbers:?}"
            ));
        }
        for s in &self.scenarios {
            if s.steps.is_empty() || s.check_first.is_empty() || s.do_not.is_empty() {
                return bad(format!(
                    "scenario {} needs steps, checks and a do-not list",
                    s.number
                ));
            }
            let mut ids: Vec<&str> = s.steps.iter().map(|st| st.id.as_str()).collect();
            ids.sort_unstable();
            if ids.windows(2).any(|w| w[0] == w[1]) {
                return bad(format!("scenario {} repeats a step id", s.number));
            }
        }
        let numbers: Vec<u8> = self.threats.iter().map(|t| t.number).collect();
        if numbers != [1, 2, 3, 4, 5, 6] {
            return bad(format!(
                "threats must be numbered 1 to 6, found {numbers:?}"
            ));
        }
        if self.threats.iter().any(|t| t.mitigations.is_empty()) {
            return bad("every threat needs mitigations".into());
        }
        if self.policy.is_empty() || self.checklist.is_empty() {
            return bad("the policy table and checklist must not be empty".into());
        }
        let mut ids: Vec<&str> = self.checklist_items().map(|i| i.id.as_str()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return bad("the checklist repeats an item id".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_playbook_is_valid_and_complete() {
        let book = Playbook::parse(BUILTIN).unwrap();
        assert_eq!(book.scenarios.len(), 5);
        assert_eq!(book.threats.len(), 6);
        assert_eq!(book.checklist.len(), 4);
        // Every operation the brief names is launched by some step.
        for op in Operation::ALL {
            assert!(
                book.scenarios
                    .iter()
                    .flat_map(|s| &s.steps)
                    .any(|st| st.op == Some(op)),
                "no step launches {op}"
            );
        }
        // Scenario 2 forbids key recovery, and has no recovery step.
        let s2 = book.scenario(2).unwrap();
        assert!(s2.do_not.iter().any(|d| d.contains("recover")));
        assert!(s2.steps.iter().all(|st| st.op != Some(Operation::Recover)));
        // Scenario 3 onboards the new custodians with the ceremony.
        assert_eq!(
            book.scenario(3).unwrap().step("reonboard").unwrap().op,
            Some(Operation::Onboard)
        );
        // Scenario 2's last step retires the departed holder from the console.
        assert_eq!(
            s2.step("update-registry").unwrap().op,
            Some(Operation::Retire)
        );
        // Every local check shows up on at least one threat screen.
        for id in crate::playbook::checks::CheckId::ALL {
            assert!(
                book.threats.iter().any(|t| t.checks.contains(&id)),
                "{id:?}"
            );
        }
    }

    #[test]
    fn operation_names_round_trip() {
        for op in Operation::ALL {
            let v = serde_json::to_value(op).unwrap();
            assert_eq!(v, op.as_str());
            assert_eq!(serde_json::from_value::<Operation>(v).unwrap(), op);
        }
    }

    #[test]
    fn malformed_playbooks_are_refused_with_the_reason() {
        let mut v: serde_json::Value = serde_json::from_str(BUILTIN).unwrap();
        v["scenarios"].as_array_mut().unwrap().pop();
        let err = Playbook::parse(&v.to_string()).unwrap_err();
        assert!(err.to_string().contains("numbered 1 to 5"), "{err}");

        let mut v: serde_json::Value = serde_json::from_str(BUILTIN).unwrap();
        v["scenarios"][0]["steps"][0]["op"] = "format-disk".into();
        assert!(matches!(
            Playbook::parse(&v.to_string()),
            Err(PlaybookError::BadData(_))
        ));

        let mut v: serde_json::Value = serde_json::from_str(BUILTIN).unwrap();
        let first = v["scenarios"][1]["steps"][0].clone();
        v["scenarios"][1]["steps"]
            .as_array_mut()
            .unwrap()
            .push(first);
        let err = Playbook::parse(&v.to_string()).unwrap_err();
        assert!(err.to_string().contains("repeats a step id"), "{err}");
    }
}
