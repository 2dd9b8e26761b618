//! The onboarding ceremony: for each custodian in turn, create their
//! identity, split it k-of-n among their guardians, and have every guardian
//! prove their share (a roll call: they re-type their passphrase, the share
//! opens and matches its commitment). A passphrase is never taken as
//! "written down" without that proof. The ceremony ends with a Markdown
//! record: custodians, recipients and fingerprints, guardian set ids and
//! thresholds, who was present, the checklist items the facts now satisfy,
//! and the audit head.
//!
//! Progress is not a separate state machine to keep in step: it is read
//! from the registry's facts each time ([`progress`]). A custodian is
//! registered or not; their key has a current split with commitments or
//! not; each guardian of it has passed a roll call since the ceremony began
//! or not. So an interrupted ceremony resumes where the facts say, and the
//! only ceremony state persisted is the `ceremonies` registry section
//! (`CeremonyRecord`): its id, the plan's hash, who was present, when it
//! started and, once complete, the record file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use super::LifecycleError;
use crate::guardians::{self, SplitRecord};
use crate::workspace::{Registry, Workspace};

/// The registry section holding ceremonies.
pub const SECTION: &str = "ceremonies";
/// Audit event: a ceremony started.
pub const EVENT_START: &str = "ONBOARD_START";
/// Audit event: a ceremony completed and its record was written.
pub const EVENT_COMPLETE: &str = "ONBOARD_COMPLETE";
/// The directory (in the workspace) ceremony records go to.
pub const DIR: &str = "ceremonies";
/// Largest plan file read.
const MAX_PLAN: u64 = 64 * 1024;

/// One custodian of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanCustodian {
    /// Their name.
    pub name: String,
    /// Their guardians, in share order.
    pub guardians: Vec<String>,
    /// Shares needed (default 3).
    #[serde(default)]
    pub threshold: Option<u8>,
}

/// An onboarding plan (`plan.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Plan {
    /// Who is present (officers, witnesses), by name.
    pub present: Vec<String>,
    /// The custodians, in ceremony order.
    pub custodians: Vec<PlanCustodian>,
}

impl PlanCustodian {
    /// The threshold of this custodian's split.
    pub fn threshold(&self) -> u8 {
        self.threshold.unwrap_or(guardians::DEFAULT_THRESHOLD)
    }
}

/// A plan that cannot be used.
fn bad_plan(path: &Path, reason: impl Into<String>) -> LifecycleError {
    LifecycleError::BadPlan {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl Plan {
    /// Reads and checks a plan file; returns it with its SHA-256.
    pub fn load(path: &Path) -> Result<(Plan, String), LifecycleError> {
        let bytes = crate::fsutil::read_limited(path, MAX_PLAN)?;
        let plan: Plan =
            serde_json::from_slice(&bytes).map_err(|e| bad_plan(path, e.to_string()))?;
        plan.check().map_err(|e| match e {
            LifecycleError::PlanInvalid(reason) => bad_plan(path, reason),
            LifecycleError::DuplicateCustodian(name) => {
                bad_plan(path, format!("custodian `{name}` is listed twice"))
            }
            other => other,
        })?;
        Ok((plan, crate::fsutil::sha256_hex(&bytes)))
    }

    /// Checks a whole plan: someone present, at least one custodian, each
    /// valid and listed once (see [`Plan::check_custodian`]).
    pub fn check(&self) -> Result<(), LifecycleError> {
        if self.custodians.is_empty() {
            return Err(LifecycleError::PlanInvalid("`custodians` is empty".into()));
        }
        if self.present.is_empty() {
            return Err(LifecycleError::PlanInvalid(
                "`present` is empty: name who attends".into(),
            ));
        }
        for p in &self.present {
            crate::identity::validate_name(p)?;
        }
        for (i, c) in self.custodians.iter().enumerate() {
            Plan::check_custodian(&self.custodians[..i], c)?;
        }
        Ok(())
    }

    /// Checks one custodian before it joins the plan's `existing` ones: a
    /// valid name not yet listed (names that differ only in case or spacing
    /// are the same custodian's file), and a usable guardian plan.
    pub fn check_custodian(
        existing: &[PlanCustodian],
        c: &PlanCustodian,
    ) -> Result<(), LifecycleError> {
        crate::identity::validate_name(&c.name)?;
        let stem = crate::identity::file_stem(&c.name);
        if existing
            .iter()
            .any(|o| crate::identity::file_stem(&o.name) == stem)
        {
            return Err(LifecycleError::DuplicateCustodian(c.name.clone()));
        }
        guardians::check_plan(c.threshold().into(), &c.guardians)?;
        Ok(())
    }

    /// The SHA-256 of the plan as JSON: a plan entered in the console is
    /// identified by it as a plan file is by its bytes.
    pub fn sha256(&self) -> String {
        crate::fsutil::sha256_hex(&serde_json::to_vec(self).unwrap_or_default())
    }
}

/// A ceremony, as the registry records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CeremonyRecord {
    /// `CER-YYYYMMDD-HHMMSS`.
    pub id: String,
    /// SHA-256 of the plan file.
    pub plan_sha256: String,
    /// Who was present.
    pub present: Vec<String>,
    /// The custodians, in order.
    pub custodians: Vec<String>,
    /// When it began (RFC 3339).
    pub started_at: String,
    /// When it completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// The Markdown record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_file: Option<PathBuf>,
    /// The audit head the record carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<String>,
    /// The plan itself (names and thresholds only, never a secret), so the
    /// console can resume the ceremony without the plan file. Absent in
    /// records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
}

/// The ceremonies begun and not completed whose plan is kept: the ones the
/// console can resume, oldest first.
pub fn open_ceremonies(reg: &Registry) -> Vec<&CeremonyRecord> {
    reg.ceremonies
        .iter()
        .filter(|c| c.completed_at.is_none() && c.plan.is_some())
        .collect()
}

/// Where custodian `name` of the ceremony stands ([`progress`] for one).
pub fn step_of(reg: &Registry, plan: &Plan, started_at: &str, name: &str) -> Step {
    progress(reg, plan, started_at)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s)
        .unwrap_or(Step::NeedsIdentity)
}

/// A guardian proves their share at the ceremony: it opens with the
/// passphrase they typed again and matches the commitment recorded at the
/// split (a roll call of that one share, its date recorded).
pub fn prove_share(
    ws: &Workspace,
    share: &Path,
    passphrase: secrecy::SecretString,
) -> Result<guardians::roll_call::RollCallOutcome, LifecycleError> {
    let call = guardians::roll_call::prepare(ws, vec![guardians::LoadedShare::from_path(share)?])?;
    Ok(guardians::roll_call::run(
        ws,
        &call,
        &[passphrase],
        &|_, _, _| {},
    )?)
}

/// The checklist items the workspace proves, as the ceremony record ticks
/// them: each item's text and its state, evaluated from the facts.
pub fn checklist(
    ws: &Workspace,
    reg: &Registry,
    book: &crate::playbook::model::Playbook,
    now: OffsetDateTime,
) -> Vec<(String, crate::playbook::checklist::ItemState)> {
    book.checklist_items()
        .filter_map(|item| {
            item.auto.map(|auto| {
                (
                    item.text.clone(),
                    crate::playbook::checklist::evaluate(auto, ws, reg, now),
                )
            })
        })
        .collect()
}

/// Where one custodian of the ceremony stands, read from the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// No identity yet.
    NeedsIdentity,
    /// Registered; their key has no current split with commitments.
    NeedsSplit {
        /// Their identity file.
        identity_file: Option<PathBuf>,
    },
    /// Split; these guardians (share order) have not proved their share
    /// since the ceremony began.
    NeedsProof {
        /// The split.
        split: Box<SplitRecord>,
        /// Guardians still to prove, with their share file.
        pending: Vec<(String, PathBuf)>,
    },
    /// Every guardian proved their share.
    Done {
        /// The split.
        split: Box<SplitRecord>,
    },
}

/// Each custodian's step, in plan order.
pub fn progress(reg: &Registry, plan: &Plan, started_at: &str) -> Vec<(String, Step)> {
    let started = crate::clock::parse(started_at);
    plan.custodians
        .iter()
        .map(|pc| {
            let Some(c) = reg.custodian(&pc.name) else {
                return (pc.name.clone(), Step::NeedsIdentity);
            };
            let split = reg
                .guardian_splits
                .current_for(&c.recipient)
                .filter(|s| !s.commitments.is_empty())
                .last()
                .cloned();
            let Some(split) = split else {
                return (
                    pc.name.clone(),
                    Step::NeedsSplit {
                        identity_file: c.identity_file.clone(),
                    },
                );
            };
            let proved = |g: &String| {
                split
                    .roll_call
                    .get(g)
                    .and_then(|d| crate::clock::parse(d))
                    .zip(started)
                    .is_some_and(|(d, s)| d >= s)
            };
            let pending: Vec<(String, PathBuf)> = split
                .guardians
                .iter()
                .zip(&split.files)
                .filter(|(g, _)| !proved(g))
                .map(|(g, f)| (g.clone(), f.clone()))
                .collect();
            let split = Box::new(split);
            if pending.is_empty() {
                (pc.name.clone(), Step::Done { split })
            } else {
                (pc.name.clone(), Step::NeedsProof { split, pending })
            }
        })
        .collect()
}

/// Starts a ceremony for `plan`, or resumes the open one for the same plan
/// file (same SHA-256). Returns it and whether it was resumed.
pub fn start_or_resume(
    ws: &Workspace,
    plan: &Plan,
    plan_sha256: &str,
) -> Result<(CeremonyRecord, bool), LifecycleError> {
    if let Some(open) = ws
        .registry()?
        .ceremonies
        .iter()
        .find(|c| c.plan_sha256 == plan_sha256 && c.completed_at.is_none())
    {
        return Ok((open.clone(), true));
    }
    let now = crate::clock::now_string();
    let record = CeremonyRecord {
        id: format!(
            "CER-{}",
            now.get(..19)
                .unwrap_or(&now)
                .replace(['-', ':'], "")
                .replace('T', "-")
        ),
        plan_sha256: plan_sha256.into(),
        present: plan.present.clone(),
        custodians: plan.custodians.iter().map(|c| c.name.clone()).collect(),
        started_at: now,
        completed_at: None,
        record_file: None,
        audit_head: None,
        plan: Some(plan.clone()),
    };
    let tx = ws.begin(
        EVENT_START,
        json!({ "ceremony": record.id, "planSha256": plan_sha256,
                "present": record.present, "custodians": record.custodians }),
    )?;
    let r = record.clone();
    tx.commit(
        move |reg| {
            reg.ceremonies.push(r);
            Ok::<_, LifecycleError>(())
        },
        |_| json!({}),
    )?;
    Ok((record, false))
}

/// A completed ceremony's record, as written.
#[derive(Debug, Clone)]
pub struct Completed {
    /// The Markdown file.
    pub path: PathBuf,
    /// The audit head the record carries.
    pub head: String,
    /// The checklist items the record ticks, each with its state (empty
    /// without a playbook): evaluated once, for the record.
    pub checklist: Vec<(String, crate::playbook::checklist::ItemState)>,
}

/// Completes a ceremony once every custodian is [`Step::Done`]: writes the
/// Markdown record (published with the registry change, one transaction)
/// and returns its path, audit head and the checklist it wrote.
pub fn complete(
    ws: &Workspace,
    plan: &Plan,
    ceremony: &CeremonyRecord,
    book: Option<&crate::playbook::model::Playbook>,
) -> Result<Completed, LifecycleError> {
    let reg = ws.registry()?;
    let steps = progress(&reg, plan, &ceremony.started_at);
    if let Some((name, _)) = steps.iter().find(|(_, s)| !matches!(s, Step::Done { .. })) {
        return Err(LifecycleError::CeremonyIncomplete(name.clone()));
    }
    // The hash of the last entry before the record's own (clarification 9).
    let head = ws.audit().verify()?.head;
    let path = ws.subdir(DIR)?.join(format!("{}.md", ceremony.id));
    let now = crate::clock::now();
    let items = book
        .map(|b| checklist(ws, &reg, b, now))
        .unwrap_or_default();
    let markdown = render(
        &reg,
        ceremony,
        &steps,
        &head,
        ws,
        book.map(|_| &items[..]),
        now,
    );
    let mut tx = ws.begin(
        EVENT_COMPLETE,
        json!({ "ceremony": ceremony.id, "file": path, "auditHead": head }),
    )?;
    let sha = match tx.write_output(&path, markdown.as_bytes(), |read| {
        if read == markdown.as_bytes() {
            Ok(())
        } else {
            Err("the record read back differs".into())
        }
    }) {
        Ok(s) => s,
        Err(e) => return Err(tx.fail_with(e.into())),
    };
    let id = ceremony.id.clone();
    let done_at = crate::clock::format(now);
    tx.commit(
        |reg| {
            let c = reg
                .ceremonies
                .iter_mut()
                .find(|c| c.id == id)
                .ok_or_else(|| LifecycleError::Changed(id.clone()))?;
            c.completed_at = Some(done_at.clone());
            c.record_file = Some(path.clone());
            c.audit_head = Some(head.clone());
            Ok::<_, LifecycleError>(())
        },
        |_| json!({ "fileSha256": sha }),
    )?;
    Ok(Completed {
        path,
        head,
        checklist: items,
    })
}

fn render(
    reg: &Registry,
    ceremony: &CeremonyRecord,
    steps: &[(String, Step)],
    head: &str,
    ws: &Workspace,
    items: Option<&[(String, crate::playbook::checklist::ItemState)]>,
    now: OffsetDateTime,
) -> String {
    let mut md = String::new();
    md.push_str(&format!("# Onboarding ceremony {}\n\n", ceremony.id));
    md.push_str(&format!("- Started: {}\n", ceremony.started_at));
    md.push_str(&format!("- Completed: {}\n", crate::clock::format(now)));
    md.push_str(&format!("- Present: {}\n", ceremony.present.join(", ")));
    md.push_str(&format!("- Workspace: {}\n\n", ws.root().display()));
    md.push_str("## Custodians\n\n");
    md.push_str("| Custodian | Recipient | Fingerprint | Guardian set | Threshold |\n");
    md.push_str("|---|---|---|---|---|\n");
    for (name, step) in steps {
        let Step::Done { split } = step else { continue };
        let (recipient, fp) = reg
            .custodian(name)
            .map(|c| (c.recipient.clone(), c.fingerprint.clone()))
            .unwrap_or_default();
        md.push_str(&format!(
            "| {name} | `{recipient}` | {fp} | `{}` | {}-of-{} |\n",
            split.set_id, split.threshold, split.total
        ));
    }
    md.push_str("\n## Guardians — each proved their share\n\n");
    md.push_str("| Custodian | # | Guardian | Proved at |\n|---|---|---|---|\n");
    for (name, step) in steps {
        let Step::Done { split } = step else { continue };
        for (i, g) in split.guardians.iter().enumerate() {
            md.push_str(&format!(
                "| {name} | {} | {g} | {} |\n",
                i + 1,
                split.roll_call.get(g).map(String::as_str).unwrap_or("")
            ));
        }
    }
    if let Some(items) = items {
        md.push_str("\n## Checklist items verified from the workspace\n\n");
        for (text, state) in items {
            let (mark, detail) = match state {
                crate::playbook::checklist::ItemState::Verified(d) => ("x", d.clone()),
                crate::playbook::checklist::ItemState::NotMet(d) => (" ", d.clone()),
                _ => (" ", String::new()),
            };
            md.push_str(&format!("- [{mark}] {text} — {detail}\n"));
        }
    }
    md.push_str(&format!(
        "\n## Audit\n\nAudit head before this record: `{head}`\n\nCheck it later with \
         `custodian audit verify --expect-head {head}`.\n"
    ));
    md
}
