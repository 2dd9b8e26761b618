//! Approvals that prove who approved (custody hygiene).
//!
//! A typed name proves nothing: anyone can type "Officer One". An
//! *authenticated* approval is proof of presence: the approver opens their
//! own registered custodian identity with their passphrase, and the audit
//! entry of the operation records their name, their recipient and that the
//! identity opened — never the passphrase or the key. People without an
//! identity (legal, say) can still approve by typed name; such an approval
//! is marked `typed` in the audit log and counts only where the workspace
//! policy allows it.
//!
//! The policy lives in the registry's `policy` section:
//! `approvals: "authenticated"` (the default for workspaces created by this
//! build) requires at least [`MIN_AUTHENTICATED`] authenticated approvals;
//! `"typed"` (what workspaces created before it keep until the policy is
//! set, and drill sandboxes, whose synthetic people have no identities)
//! accepts typed names. [`set_policy`] changes it, audited.
//!
//! Every approval is gathered — identities opened — before the operation's
//! transaction starts (CLARIFICATIONS 4): no transaction waits on a person.

use std::collections::BTreeSet;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::audit::AuditError;
use crate::error::Explain;
use crate::identity::{IdentityError, IdentityFile};
use crate::workspace::{Registry, Workspace, WorkspaceError};

/// The registry section.
pub const SECTION: &str = "policy";
/// Audit event of [`set_policy`].
pub const EVENT_POLICY: &str = "POLICY_SET";
/// Fewest authenticated approvals an "authenticated" policy accepts.
pub const MIN_AUTHENTICATED: usize = 2;

/// What an approval must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalPolicy {
    /// Each approver opens their own registered identity.
    Authenticated,
    /// Typed names are accepted.
    Typed,
}

impl ApprovalPolicy {
    /// As written in the registry and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalPolicy::Authenticated => "authenticated",
            ApprovalPolicy::Typed => "typed",
        }
    }
}

/// The workspace policy section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// The approval policy; absent in workspaces created before it
    /// existed, which keep typed names until it is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals: Option<ApprovalPolicy>,
}

impl Policy {
    /// True when nothing is set (the section is then not written).
    pub fn is_empty(&self) -> bool {
        self.approvals.is_none()
    }

    /// What a new workspace starts with.
    pub fn for_new_workspace() -> Policy {
        Policy {
            approvals: Some(ApprovalPolicy::Authenticated),
        }
    }
}

/// The approval policy in force.
pub fn policy(reg: &Registry) -> ApprovalPolicy {
    reg.policy.approvals.unwrap_or(ApprovalPolicy::Typed)
}

/// One approval of an operation (public facts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The approver's name.
    pub name: String,
    /// Their recipient, for an authenticated approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
}

impl Approval {
    /// A typed name (no proof of presence).
    pub fn typed(name: &str) -> Approval {
        Approval {
            name: name.trim().to_string(),
            recipient: None,
        }
    }

    /// True when the approver opened their identity.
    pub fn is_authenticated(&self) -> bool {
        self.recipient.is_some()
    }

    /// How a report shows it: the name, then "identity opened, age1…" or
    /// "typed name".
    pub fn describe(&self) -> String {
        match &self.recipient {
            Some(r) => format!("{} (identity opened, {r})", self.name),
            None => format!("{} (typed name)", self.name),
        }
    }

    /// What the audit entry records.
    pub fn audit_value(&self) -> Value {
        match &self.recipient {
            Some(r) => json!({ "name": self.name, "recipient": r, "identityOpened": true }),
            None => json!({ "name": self.name, "typed": true }),
        }
    }
}

/// Why an approval was refused. Each names the approver.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalError {
    /// No registered custodian has that name.
    #[error("approver `{0}` is not a registered custodian of this workspace")]
    NotRegistered(String),
    /// The custodian's identity file is not recorded or not there.
    #[error("approver `{name}`: their identity file {reason}")]
    NoIdentity {
        /// The approver.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The identity file is not the registered one.
    #[error("approver `{0}`: the identity file does not belong to the registered recipient")]
    NotTheirIdentity(String),
    /// The passphrase did not open the identity.
    #[error("approver `{0}`: the passphrase does not open their identity")]
    WrongPassphrase(String),
    /// The same person approves twice.
    #[error("approver `{0}` is named twice; approvers must be different people")]
    SamePerson(String),
    /// A party to the operation approves their own override.
    #[error(
        "approver `{name}` is the {role} of this operation and cannot approve their own override"
    )]
    SelfApproval {
        /// The approver.
        name: String,
        /// What they are to the operation ("retiree", "successor", "new holder").
        role: &'static str,
    },
    /// Not enough authenticated approvals for the policy.
    #[error(
        "this workspace requires authenticated approvals: at least {MIN_AUTHENTICATED} approvers must open their own identity; {have} did ({typed} typed name(s) do not count)"
    )]
    NotEnoughAuthenticated {
        /// Authenticated approvals given.
        have: usize,
        /// Typed names given.
        typed: usize,
    },
    /// Another identity problem (unreadable file…).
    #[error("approver `{name}`: {source}")]
    Identity {
        /// The approver.
        name: String,
        /// The error.
        #[source]
        source: IdentityError,
    },
    /// The workspace failed.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The audit log failed.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl Explain for ApprovalError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(match self {
            ApprovalError::NotRegistered(_) => to.pick("an authenticated approver must be a registered custodian (`custodian custodians list`); someone without an identity approves as a typed name (an empty passphrase in the console, --typed-approver on the command line)", "an authenticated approver must be a registered custodian (the home screen lists them); someone without an identity approves as a typed name: leave their passphrase empty, where the workspace policy allows typed approvals"),
            ApprovalError::NoIdentity { .. } | ApprovalError::NotTheirIdentity(_) => {
                to.pick("check the custodian's identity file (`custodian custodians list`, `custodian identity show`)", "check the custodian's identity file (the home screen lists each custodian and their recipient)")
            }
            ApprovalError::WrongPassphrase(_) => {
                "the approver types their own passphrase again; nothing was done".into()
            }
            ApprovalError::SamePerson(_) => "each approver must be a different person".into(),
            ApprovalError::SelfApproval { .. } => "the override is approved by people who gain nothing from it: name two other custodians or officers; nothing was changed".into(),
            ApprovalError::NotEnoughAuthenticated { .. } => to.pick("add --approver for registered custodians who open their identity, or (an officer's decision, audited) `custodian policy set approvals typed`", "add approvers who are registered custodians and type their own passphrase (it opens their identity); typed names (an empty passphrase) count only where an officer has set the workspace's approvals policy to typed, which is recorded in the audit log"),
            ApprovalError::Identity { source, .. } => return source.remedy_for(to),
            ApprovalError::Workspace(e) => return e.remedy_for(to),
            ApprovalError::Audit(e) => return e.remedy_for(to),
        })
    }
}

/// A person the operation concerns, who may not approve its override.
#[derive(Debug, Clone, Copy)]
pub struct Party<'a> {
    /// Their name.
    pub name: &'a str,
    /// Their recipient.
    pub recipient: &'a str,
    /// What they are to the operation ("retiree", "successor"…).
    pub role: &'static str,
}

/// Refuses an override approved by a party to it: an approval whose name
/// is a party's as the registry tells people apart (surrounding space
/// ignored, then [`crate::identity::file_stem`]: any case, space and '-'
/// alike) or whose recipient is a party's.
pub fn refuse_self_approval(
    approvals: &[Approval],
    parties: &[Party<'_>],
) -> Result<(), ApprovalError> {
    for a in approvals {
        let name = a.name.trim();
        let stem = crate::identity::file_stem(name);
        if let Some(p) = parties.iter().find(|p| {
            crate::identity::file_stem(p.name.trim()) == stem
                || a.recipient.as_deref().is_some_and(|r| r == p.recipient)
        }) {
            return Err(ApprovalError::SelfApproval {
                name: name.to_string(),
                role: p.role,
            });
        }
    }
    Ok(())
}

/// An approver proves presence: `name` must be a registered custodian whose
/// recorded identity file opens with `passphrase` to the registered
/// recipient. Nothing is written.
pub fn authenticate(
    reg: &Registry,
    name: &str,
    passphrase: &SecretString,
) -> Result<Approval, ApprovalError> {
    let name = name.trim();
    let who = reg
        .custodian(name)
        .ok_or_else(|| ApprovalError::NotRegistered(name.to_string()))?;
    let path = who
        .identity_file
        .as_ref()
        .ok_or_else(|| ApprovalError::NoIdentity {
            name: name.to_string(),
            reason: "is not recorded in the registry".into(),
        })?;
    let file = IdentityFile::load(path).map_err(|e| ApprovalError::NoIdentity {
        name: name.to_string(),
        reason: format!("{} cannot be read: {e}", path.display()),
    })?;
    if file.recipient != who.recipient {
        return Err(ApprovalError::NotTheirIdentity(name.to_string()));
    }
    let opened = file.open(passphrase).map_err(|e| match e {
        IdentityError::Envelope(crate::envelope::EnvelopeError::WrongPassphraseOrAltered) => {
            ApprovalError::WrongPassphrase(name.to_string())
        }
        other => ApprovalError::Identity {
            name: name.to_string(),
            source: other,
        },
    })?;
    if opened.recipient != who.recipient {
        return Err(ApprovalError::NotTheirIdentity(name.to_string()));
    }
    Ok(Approval {
        name: name.to_string(),
        recipient: Some(opened.recipient.clone()),
    })
}

/// Checks a set of approvals against the policy: different people (by
/// name and by recipient), and enough authenticated ones when the policy
/// says so. The minimum head count is the operation's own rule.
pub fn check(policy: ApprovalPolicy, approvals: &[Approval]) -> Result<(), ApprovalError> {
    let mut names = BTreeSet::new();
    let mut recipients = BTreeSet::new();
    for a in approvals {
        if !names.insert(a.name.to_lowercase())
            || a.recipient
                .as_ref()
                .is_some_and(|r| !recipients.insert(r.clone()))
        {
            return Err(ApprovalError::SamePerson(a.name.clone()));
        }
    }
    let have = approvals.iter().filter(|a| a.is_authenticated()).count();
    if policy == ApprovalPolicy::Authenticated && have < MIN_AUTHENTICATED {
        return Err(ApprovalError::NotEnoughAuthenticated {
            have,
            typed: approvals.len() - have,
        });
    }
    Ok(())
}

/// The approvals of an operation: the `authenticated` ones (identities
/// opened, from [`authenticate`]) then the `typed` names, marked typed.
/// [`check`] judges the result (a typed name repeating an authenticated
/// one is the same person twice).
pub fn gather(authenticated: &[Approval], typed: &[String]) -> Vec<Approval> {
    let mut all = authenticated.to_vec();
    all.extend(typed.iter().map(|n| Approval::typed(n)));
    all
}

/// The audit record of a set of approvals.
pub fn audit_values(approvals: &[Approval]) -> Value {
    Value::Array(approvals.iter().map(Approval::audit_value).collect())
}

/// Sets the approval policy, audited (`POLICY_SET`, old and new value).
pub fn set_policy(
    ws: &Workspace,
    new: ApprovalPolicy,
    operator: Option<&str>,
) -> Result<Option<ApprovalPolicy>, ApprovalError> {
    let operator = operator.map(str::trim);
    if let Some(op) = operator {
        crate::identity::validate_name(op).map_err(|e| ApprovalError::Identity {
            name: op.to_string(),
            source: e,
        })?;
    }
    let before = ws.registry()?.policy.approvals;
    let tx = ws.begin(
        EVENT_POLICY,
        json!({
            "setting": "approvals", "from": before.map(ApprovalPolicy::as_str),
            "to": new.as_str(), "operator": operator,
        }),
    )?;
    tx.commit(
        move |reg| {
            let old = reg.policy.approvals;
            reg.policy.approvals = Some(new);
            Ok::<_, ApprovalError>(old)
        },
        |_| json!({}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(name: &str, r: &str) -> Approval {
        Approval {
            name: name.into(),
            recipient: Some(r.into()),
        }
    }

    #[test]
    fn the_policy_counts_only_authenticated_approvals() {
        let two = [auth("Ana", "age1a"), auth("Ben", "age1b")];
        assert!(check(ApprovalPolicy::Authenticated, &two).is_ok());
        let mixed = [auth("Ana", "age1a"), Approval::typed("Legal")];
        assert!(matches!(
            check(ApprovalPolicy::Authenticated, &mixed),
            Err(ApprovalError::NotEnoughAuthenticated { have: 1, typed: 1 })
        ));
        assert!(check(ApprovalPolicy::Typed, &mixed).is_ok());
        let twice = [auth("Ana", "age1a"), auth("ana", "age1x")];
        assert!(matches!(
            check(ApprovalPolicy::Typed, &twice),
            Err(ApprovalError::SamePerson(n)) if n == "ana"
        ));
        let same_key = [auth("Ana", "age1a"), auth("Ann", "age1a")];
        assert!(matches!(
            check(ApprovalPolicy::Authenticated, &same_key),
            Err(ApprovalError::SamePerson(n)) if n == "Ann"
        ));
    }

    #[test]
    fn a_party_cannot_approve_under_another_spelling_of_their_name() {
        let parties = [
            Party {
                name: "Ana Lopez",
                recipient: "age1ana",
                role: "retiree",
            },
            Party {
                name: "Élodie",
                recipient: "age1elo",
                role: "successor",
            },
        ];
        for (typed, role) in [
            ("ana-lopez", "retiree"),
            (" ANA LOPEZ ", "retiree"),
            ("élodie", "successor"),
            ("ÉLODIE", "successor"),
        ] {
            let approvals = [Approval::typed("Ben"), Approval::typed(typed)];
            assert!(
                matches!(
                    refuse_self_approval(&approvals, &parties),
                    Err(ApprovalError::SelfApproval { role: r, .. }) if r == role
                ),
                "{typed} approved"
            );
        }
        let others = [Approval::typed("Ben"), auth("Ana Lopes", "age1x")];
        assert!(refuse_self_approval(&others, &parties).is_ok());
        let by_key = [auth("Someone", "age1elo")];
        assert!(refuse_self_approval(&by_key, &parties).is_err());
    }

    #[test]
    fn gathered_approvals_mark_typed_names_and_keep_proofs() {
        let all = gather(&[auth("Ana", "age1a")], &[" Legal ".into()]);
        assert_eq!(all, [auth("Ana", "age1a"), Approval::typed("Legal")]);
        let twice = gather(&[auth("Ana", "age1a")], &["Ana".into()]);
        assert!(matches!(
            check(ApprovalPolicy::Typed, &twice),
            Err(ApprovalError::SamePerson(n)) if n == "Ana"
        ));
        assert_eq!(all[1].describe(), "Legal (typed name)");
        assert_eq!(all[0].describe(), "Ana (identity opened, age1a)");
    }
}
