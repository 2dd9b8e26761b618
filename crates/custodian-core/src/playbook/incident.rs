//! Incident records: one per scenario run, kept as a JSON state file under
//! `<workspace>/incidents/<id>.json` so an interrupted response can be picked
//! up after a restart (or on another console pointed at the same workspace).
//!
//! Every change is one transaction (see `crate::transaction`): opening
//! (`INCIDENT_OPEN`), each step completion (`INCIDENT_STEP`, with the operator
//! and the fingerprints of any files the step produced; the step record
//! cites the INITIATED entry's hash) and closing (`INCIDENT_CLOSE`). A crash
//! at any instant leaves the record as it was or with the change complete. Closing writes a Markdown report next to the record,
//! naming the audit head hash at that moment so people can write it down;
//! the COMPLETED close entry then carries the report's own fingerprint,
//! chaining the report into the log.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::{Operation, Playbook};
use super::{PlaybookError, validate_operator};
use crate::fsutil;
use crate::workspace::Workspace;

/// Incident file format name.
pub const FORMAT: &str = "custodian-incident";
/// Incident file format version.
pub const VERSION: u32 = 1;
/// Workspace subdirectory holding incidents and their reports.
pub const DIR: &str = "incidents";
/// Largest incident file the console reads.
const MAX_FILE: u64 = 4 << 20;

/// How a step was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepHow {
    /// A people or paper action, confirmed by the named operator.
    Attested,
    /// A local operation run from the console, which recorded it itself.
    Console,
    /// A local operation run with the command line; the operator confirmed it.
    Command,
}

impl StepHow {
    /// Words for reports.
    pub fn describe(self) -> &'static str {
        match self {
            StepHow::Attested => "confirmed by operator",
            StepHow::Console => "run in the console",
            StepHow::Command => "run with the command line, confirmed by operator",
        }
    }
}

/// A file a step produced, by path and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducedFile {
    /// Where it was written.
    pub path: PathBuf,
    /// SHA-256 of its bytes when the step was recorded.
    pub sha256: String,
}

/// One completed step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRecord {
    /// The step id from the playbook.
    pub step: String,
    /// The operation it launched, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<Operation>,
    /// How it was done.
    pub how: StepHow,
    /// Who confirmed it.
    pub operator: String,
    /// When (the time of its audit entry).
    pub completed_at: String,
    /// Files it produced.
    #[serde(default)]
    pub files: Vec<ProducedFile>,
    /// Hash of the audit entry that records it.
    pub audit_hash: String,
    /// What the operator wrote about it (what was lost, when, who noticed…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Earlier steps of the scenario that were not done when this one was
    /// confirmed (the operator was warned and confirmed again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub out_of_order: Vec<String>,
}

/// A confirmation taken back: the step's record as it was, who reopened it,
/// when and why. The step is open again; the incident keeps this history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReopenedStep {
    /// The record that was taken back.
    pub record: StepRecord,
    /// Who reopened it.
    pub reopened_by: String,
    /// When (the time of its audit entry).
    pub reopened_at: String,
    /// Why the confirmation was a mistake.
    pub reason: String,
    /// Hash of the audit entry that records the reopening.
    pub audit_hash: String,
}

/// One step confirmation, as the console or a command gives it.
#[derive(Debug, Clone, Copy)]
pub struct StepConfirmation<'a> {
    /// The step id.
    pub step: &'a str,
    /// Who confirms it.
    pub operator: &'a str,
    /// How it was done.
    pub how: StepHow,
    /// Files it produced (fingerprinted when recorded).
    pub files: &'a [PathBuf],
    /// Free-text notes (validated by [`super::validate_notes`]).
    pub notes: Option<&'a str>,
}

/// The report written when an incident is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRef {
    /// The Markdown file.
    pub path: PathBuf,
    /// Its SHA-256.
    pub sha256: String,
    /// The audit head hash the report names.
    pub audit_head: String,
}

/// An incident record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Incident {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// `INC-YYYYMMDD-xxxxxx`.
    pub id: String,
    /// The scenario number.
    pub scenario: u8,
    /// The scenario title when it was opened.
    pub scenario_title: String,
    /// When it was opened (RFC 3339).
    pub started_at: String,
    /// Everyone who opened, confirmed or closed something, in order of appearance.
    pub operators: Vec<String>,
    /// The custodian the incident is about, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected: Option<String>,
    /// Opened in a drill sandbox.
    #[serde(default)]
    pub sandbox: bool,
    /// Completed steps, in completion order.
    #[serde(default)]
    pub steps: Vec<StepRecord>,
    /// Confirmations taken back, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reopened: Vec<ReopenedStep>,
    /// When it was closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// The closing report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportRef>,
    /// Who approved the close: identity opened, or a typed name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub close_approvals: Vec<crate::approvals::Approval>,
}

impl Incident {
    /// The record of step `id`, if it is done.
    pub fn step(&self, id: &str) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.step == id)
    }

    /// The ids of the steps before `step` in `scenario` that are not done:
    /// confirming `step` now would be out of order.
    pub fn open_before(&self, scenario: &super::Scenario, step: &str) -> Vec<String> {
        scenario
            .steps
            .iter()
            .take_while(|s| s.id != step)
            .filter(|s| self.step(&s.id).is_none())
            .map(|s| s.id.clone())
            .collect()
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.closed_at.is_some()
    }

    /// Steps done and the scenario's step count in the built-in playbook
    /// (0 when the scenario is unknown).
    pub fn progress(&self) -> (usize, usize) {
        let total = Playbook::builtin()
            .scenario(self.scenario)
            .map(|s| s.steps.len())
            .unwrap_or(0);
        (self.steps.len(), total)
    }

    fn add_operator(&mut self, name: &str) {
        if !self.operators.iter().any(|o| o == name) {
            self.operators.push(name.to_string());
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Incident, PlaybookError> {
        let bad = |reason: String| PlaybookError::BadIncident {
            path: path.to_path_buf(),
            reason,
        };
        let inc: Incident = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        if inc.format != FORMAT {
            return Err(bad(format!("format is `{}`", inc.format)));
        }
        if inc.version != VERSION {
            return Err(bad(format!("version {} is not {VERSION}", inc.version)));
        }
        inc.validate().map_err(bad)?;
        if path.file_stem().and_then(|s| s.to_str()) != Some(inc.id.as_str()) {
            return Err(bad("`id` does not match the file name".into()));
        }
        Ok(inc)
    }

    /// Checks every field a resumed incident relies on, so `show` refuses
    /// what resuming would.
    fn validate(&self) -> Result<(), String> {
        check_id(&self.id).map_err(|_| "`id` is not an incident id".to_string())?;
        let scenario = super::model::Playbook::builtin()
            .scenario(self.scenario)
            .ok_or_else(|| format!("scenario {} does not exist", self.scenario))?;
        let time = |field: &str, value: &str| match crate::clock::parse(value) {
            Some(_) => Ok(()),
            None => Err(format!("`{field}` is not an RFC 3339 time")),
        };
        time("startedAt", &self.started_at)?;
        if let Some(closed) = &self.closed_at {
            time("closedAt", closed)?;
        }
        let name = |field: &str, value: &str| {
            crate::identity::validate_name(value)
                .map_err(|_| format!("`{field}` holds a name that is not valid"))
        };
        for op in &self.operators {
            name("operators", op)?;
        }
        for s in &self.steps {
            if scenario.step(&s.step).is_none() {
                return Err(format!(
                    "step `{}` is not a step of scenario {}",
                    crate::text::short_prefix(&s.step),
                    self.scenario
                ));
            }
            name("steps.operator", &s.operator)?;
            time("steps.completedAt", &s.completed_at)?;
        }
        for r in &self.reopened {
            if scenario.step(&r.record.step).is_none() {
                return Err(format!(
                    "reopened step `{}` is not a step of scenario {}",
                    crate::text::short_prefix(&r.record.step),
                    self.scenario
                ));
            }
            name("reopened.reopenedBy", &r.reopened_by)?;
            time("reopened.reopenedAt", &r.reopened_at)?;
        }
        Ok(())
    }
}

/// An incident id is generated by us; refuse anything else so an id typed
/// on a command line cannot name a path outside the incidents directory.
fn check_id(id: &str) -> Result<(), PlaybookError> {
    let ok = id.starts_with("INC-")
        && id.len() <= 40
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(PlaybookError::UnknownIncident(
            id.chars().take(40).collect(),
        ))
    }
}

/// Where incident `id` lives (the directory is created only when writing).
fn incident_path(ws: &Workspace, id: &str) -> Result<PathBuf, PlaybookError> {
    check_id(id)?;
    Ok(ws.root().join(DIR).join(format!("{id}.json")))
}

fn new_id() -> String {
    let mut tail = [0u8; 3];
    rand::Rng::fill_bytes(&mut crate::rng::os(), &mut tail);
    let date = crate::clock::now_string();
    let day: String = date.chars().take(10).filter(|c| *c != '-').collect();
    format!("INC-{day}-{}", hex::encode(tail))
}

/// Opens an incident for scenario `number`, audited as `INCIDENT_OPEN`.
pub fn open(
    ws: &Workspace,
    book: &Playbook,
    number: u8,
    operator: &str,
    affected: Option<&str>,
) -> Result<Incident, PlaybookError> {
    let scenario = book
        .scenario(number)
        .ok_or(PlaybookError::UnknownScenario(number))?;
    let operator = validate_operator(operator)?;
    let affected = match affected.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => {
            crate::identity::validate_name(a)
                .map_err(|_| PlaybookError::BadCustodianName(a.chars().take(40).collect()))?;
            Some(a.to_string())
        }
        None => None,
    };
    let id = new_id();
    ws.subdir(DIR)?;
    let path = incident_path(ws, &id)?;
    let mut tx = ws.begin(
        "INCIDENT_OPEN",
        json!({
            "incident": id,
            "scenario": number,
            "operator": operator,
            "affected": affected,
        }),
    )?;
    let incident = Incident {
        format: FORMAT.into(),
        version: VERSION,
        id: id.clone(),
        scenario: number,
        scenario_title: scenario.title.clone(),
        started_at: crate::clock::now_string(),
        operators: vec![operator],
        affected,
        sandbox: ws.is_sandbox(),
        steps: Vec::new(),
        reopened: Vec::new(),
        closed_at: None,
        report: None,
        close_approvals: Vec::new(),
    };
    if let Err(e) = tx.write_output(&path, &incident.to_bytes(), |read| {
        Incident::from_bytes(&path, read)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }) {
        return Err(tx.fail_with(PlaybookError::from(e)));
    }
    tx.commit(|_| Ok::<_, PlaybookError>(()), |_| json!({ "file": path }))?;
    Ok(incident)
}

/// Reads incident `id`.
pub fn load(ws: &Workspace, id: &str) -> Result<Incident, PlaybookError> {
    let path = incident_path(ws, id)?;
    if !path.exists() {
        return Err(PlaybookError::UnknownIncident(id.to_string()));
    }
    Incident::from_bytes(&path, &fsutil::read_limited(&path, MAX_FILE)?)
}

/// Every incident in the workspace, oldest first. Unreadable files are
/// returned as errors alongside, not hidden.
pub fn list(ws: &Workspace) -> Result<Vec<Result<Incident, PlaybookError>>, PlaybookError> {
    let dir = ws.root().join(DIR);
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(source) => {
            return Err(fsutil::FsError::Io {
                action: "listing",
                path: dir,
                source,
            }
            .into());
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    for p in paths {
        out.push(
            fsutil::read_limited(&p, MAX_FILE)
                .map_err(PlaybookError::from)
                .and_then(|b| Incident::from_bytes(&p, &b)),
        );
    }
    out.sort_by(|a, b| match (a, b) {
        (Ok(a), Ok(b)) => a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => std::cmp::Ordering::Equal,
    });
    Ok(out)
}

/// The most recent open incident for scenario `number`, if any: what the
/// console resumes when the scenario is opened again.
pub fn open_for_scenario(ws: &Workspace, number: u8) -> Result<Option<Incident>, PlaybookError> {
    Ok(list(ws)?
        .into_iter()
        .filter_map(Result::ok)
        .rfind(|i| i.scenario == number && !i.is_closed()))
}

/// One scenario of the built-in playbook with the progress of its open
/// incident, if one is open: what the playbook's front page lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioOverview {
    /// 1 to 5.
    pub number: u8,
    /// Title.
    pub title: String,
    /// Severity word.
    pub severity: String,
    /// The open incident's id and steps done/total, if one is open.
    pub open_incident: Option<(String, usize, usize)>,
}

/// Every scenario of the built-in playbook with its open incident's
/// progress. An unreadable incident directory shows as "none open".
pub fn scenario_overview(ws: &Workspace) -> Vec<ScenarioOverview> {
    let open: Vec<Incident> = list(ws)
        .map(|all| {
            all.into_iter()
                .filter_map(Result::ok)
                .filter(|i| !i.is_closed())
                .collect()
        })
        .unwrap_or_default();
    Playbook::builtin()
        .scenarios
        .iter()
        .map(|s| ScenarioOverview {
            number: s.number,
            title: s.title.clone(),
            severity: s.severity.clone(),
            // The most recent open one, as open_for_scenario picks it.
            open_incident: open
                .iter()
                .rfind(|i| i.scenario == s.number)
                .map(|i| (i.id.clone(), i.steps.len(), s.steps.len())),
        })
        .collect()
}

/// Stages the rewritten record of `incident` in `tx` (published at the commit).
fn stage_record(
    ws: &Workspace,
    tx: &mut crate::transaction::Transaction<'_>,
    incident: &Incident,
) -> Result<(), PlaybookError> {
    let path = incident_path(ws, &incident.id)?;
    tx.write_replacement(&path, &incident.to_bytes(), |read| {
        Incident::from_bytes(&path, read)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    Ok(())
}

/// Records step `step` of incident `id` as done by `operator`, with the
/// files it produced (fingerprinted now). Audited as `INCIDENT_STEP`.
pub fn complete_step(
    ws: &Workspace,
    book: &Playbook,
    id: &str,
    step: &str,
    operator: &str,
    how: StepHow,
    files: &[PathBuf],
) -> Result<Incident, PlaybookError> {
    confirm_step(
        ws,
        book,
        id,
        &StepConfirmation {
            step,
            operator,
            how,
            files,
            notes: None,
        },
    )
}

/// Records a step as done, with its notes; a step confirmed while earlier
/// ones are open is recorded with their ids (the caller warned first).
/// Audited as `INCIDENT_STEP`.
pub fn confirm_step(
    ws: &Workspace,
    book: &Playbook,
    id: &str,
    c: &StepConfirmation<'_>,
) -> Result<Incident, PlaybookError> {
    // Two consoles on one incident must not lose each other's steps.
    ws.locked(|| complete_step_locked(ws, book, id, c))
}

fn complete_step_locked(
    ws: &Workspace,
    book: &Playbook,
    id: &str,
    c: &StepConfirmation<'_>,
) -> Result<Incident, PlaybookError> {
    let step = c.step;
    let operator = validate_operator(c.operator)?;
    let notes = match c.notes {
        Some(n) => super::validate_notes(n)?,
        None => None,
    };
    let mut incident = load(ws, id)?;
    if incident.is_closed() {
        return Err(PlaybookError::IncidentClosed(incident.id));
    }
    let scenario = book
        .scenario(incident.scenario)
        .ok_or(PlaybookError::UnknownScenario(incident.scenario))?;
    let def = scenario
        .step(step)
        .ok_or_else(|| PlaybookError::UnknownStep {
            scenario: incident.scenario,
            step: step.to_string(),
        })?;
    if incident.step(step).is_some() {
        return Err(PlaybookError::StepAlreadyDone(step.to_string()));
    }
    let out_of_order = incident.open_before(scenario, step);
    let mut produced = Vec::with_capacity(c.files.len());
    for f in c.files {
        produced.push(ProducedFile {
            path: f.clone(),
            sha256: fsutil::file_fingerprint(f)?,
        });
    }
    let mut tx = ws.begin(
        "INCIDENT_STEP",
        json!({
            "incident": incident.id,
            "scenario": incident.scenario,
            "step": step,
            "op": def.op,
            "how": c.how,
            "operator": operator,
            "files": produced,
            "notes": notes,
            "outOfOrder": out_of_order,
        }),
    )?;
    // The record cites the entry that began this step: its hash is known
    // before the record is written (COMPLETED comes after).
    let (time, hash) = tx
        .initiated()
        .map(|e| (e.time.clone(), e.hash.clone()))
        .unwrap_or_else(|| (crate::clock::now_string(), String::new()));
    incident.add_operator(&operator);
    incident.steps.push(StepRecord {
        step: step.to_string(),
        op: def.op,
        how: c.how,
        operator,
        completed_at: time,
        files: produced,
        audit_hash: hash,
        notes,
        out_of_order,
    });
    if let Err(e) = stage_record(ws, &mut tx, &incident) {
        return Err(tx.fail_with(e));
    }
    tx.commit(|_| Ok::<_, PlaybookError>(()), |_| json!({}))?;
    Ok(incident)
}

/// Takes back the confirmation of step `step` of incident `id`: the step is
/// open again and the incident keeps the old record with who reopened it,
/// when and why. Audited as `INCIDENT_STEP_REOPEN` (its own transaction).
pub fn reopen_step(
    ws: &Workspace,
    book: &Playbook,
    id: &str,
    step: &str,
    operator: &str,
    reason: &str,
) -> Result<Incident, PlaybookError> {
    ws.locked(|| reopen_step_locked(ws, book, id, step, operator, reason))
}

fn reopen_step_locked(
    ws: &Workspace,
    book: &Playbook,
    id: &str,
    step: &str,
    operator: &str,
    reason: &str,
) -> Result<Incident, PlaybookError> {
    let operator = validate_operator(operator)?;
    let reason = super::validate_notes(reason)?.ok_or(PlaybookError::MissingReason)?;
    let mut incident = load(ws, id)?;
    if incident.is_closed() {
        return Err(PlaybookError::IncidentClosed(incident.id));
    }
    let scenario = book
        .scenario(incident.scenario)
        .ok_or(PlaybookError::UnknownScenario(incident.scenario))?;
    if scenario.step(step).is_none() {
        return Err(PlaybookError::UnknownStep {
            scenario: incident.scenario,
            step: step.to_string(),
        });
    }
    let Some(at) = incident.steps.iter().position(|s| s.step == step) else {
        return Err(PlaybookError::StepNotDone(step.to_string()));
    };
    let mut tx = ws.begin(
        "INCIDENT_STEP_REOPEN",
        json!({
            "incident": incident.id,
            "scenario": incident.scenario,
            "step": step,
            "operator": operator,
            "reason": reason,
            "confirmedBy": incident.steps[at].operator,
            "confirmedAt": incident.steps[at].completed_at,
            "confirmation": incident.steps[at].audit_hash,
        }),
    )?;
    let (time, hash) = tx
        .initiated()
        .map(|e| (e.time.clone(), e.hash.clone()))
        .unwrap_or_else(|| (crate::clock::now_string(), String::new()));
    let record = incident.steps.remove(at);
    incident.add_operator(&operator);
    incident.reopened.push(ReopenedStep {
        record,
        reopened_by: operator,
        reopened_at: time,
        reason,
        audit_hash: hash,
    });
    if let Err(e) = stage_record(ws, &mut tx, &incident) {
        return Err(tx.fail_with(e));
    }
    tx.commit(|_| Ok::<_, PlaybookError>(()), |_| json!({}))?;
    Ok(incident)
}

/// Closes incident `id` without approvals: what a workspace whose policy
/// accepts typed names allows. See [`close_approved`].
pub fn close(
    ws: &Workspace,
    book: &Playbook,
    id: &str,
    operator: &str,
) -> Result<Incident, PlaybookError> {
    close_approved(ws, book, id, operator, &[])
}

/// Closes incident `id`: writes `<id>.md` (the report, naming the audit
/// head and who approved) and marks the record closed. Audited as
/// `INCIDENT_CLOSE`; refused when the audit chain does not verify, and
/// when `approvals` (gathered before: identities opened, or typed names)
/// do not satisfy the workspace policy — under "authenticated", at least
/// [`crate::approvals::MIN_AUTHENTICATED`] approvers opened their identity.
pub fn close_approved(
    ws: &Workspace,
    book: &Playbook,
    id: &str,
    operator: &str,
    approvals: &[crate::approvals::Approval],
) -> Result<Incident, PlaybookError> {
    ws.locked(|| close_locked(ws, book, id, operator, approvals))
}

fn close_locked(
    ws: &Workspace,
    book: &Playbook,
    id: &str,
    operator: &str,
    approvals: &[crate::approvals::Approval],
) -> Result<Incident, PlaybookError> {
    let operator = validate_operator(operator)?;
    let mut incident = load(ws, id)?;
    if incident.is_closed() {
        return Err(PlaybookError::IncidentClosed(incident.id));
    }
    for a in approvals {
        validate_operator(&a.name)?;
    }
    let policy = crate::approvals::policy(&ws.registry()?);
    crate::approvals::check(policy, approvals)?;
    let log = ws.audit();
    log.verify()
        .map_err(|e| PlaybookError::AuditBroken(e.to_string()))?;
    let mut tx = ws.begin(
        "INCIDENT_CLOSE",
        json!({
            "incident": incident.id, "scenario": incident.scenario, "operator": operator,
            "approvals": crate::approvals::audit_values(approvals),
            "approvalPolicy": policy.as_str(),
        }),
    )?;
    let result = (|| {
        // The head now includes the INITIATED close entry.
        let head = log
            .verify()
            .map_err(|e| PlaybookError::AuditBroken(e.to_string()))?;
        let entries = log.entries()?;
        let closed_at = crate::clock::now_string();
        incident.add_operator(&operator);
        incident.closed_at = Some(closed_at);
        incident.close_approvals = approvals.to_vec();
        let text = render_report(book, &incident, &operator, &head, &entries);
        let path = ws.subdir(DIR)?.join(format!("{}.md", incident.id));
        tx.write_output(&path, text.as_bytes(), |read| {
            if read == text.as_bytes() {
                Ok(())
            } else {
                Err("the report read back differs".into())
            }
        })?;
        incident.report = Some(ReportRef {
            path,
            sha256: fsutil::sha256_hex(text.as_bytes()),
            audit_head: head.head.clone(),
        });
        stage_record(ws, &mut tx, &incident)?;
        Ok::<_, PlaybookError>(())
    })();
    if let Err(e) = result {
        return Err(tx.fail_with(e));
    }
    let report = incident.report.clone();
    tx.commit(
        |_| Ok::<_, PlaybookError>(()),
        |_| json!({ "report": report }),
    )?;
    Ok(incident)
}

fn md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown incident report.
pub fn render_report(
    book: &Playbook,
    incident: &Incident,
    closed_by: &str,
    head: &crate::audit::ChainStatus,
    entries: &[crate::audit::Entry],
) -> String {
    let mut out = String::new();
    let scenario = book.scenario(incident.scenario);
    let _ = writeln!(out, "# Incident report {}", incident.id);
    let _ = writeln!(out);
    if incident.sandbox {
        let _ = writeln!(
            out,
            "> DRILL: this incident was run in a sandbox workspace on synthetic material.\n"
        );
    }
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| Scenario | {} — {} |",
        incident.scenario,
        md(&incident.scenario_title)
    );
    let _ = writeln!(out, "| Opened | {} |", incident.started_at);
    let _ = writeln!(
        out,
        "| Closed | {} by {} |",
        incident.closed_at.as_deref().unwrap_or("-"),
        md(closed_by)
    );
    if let Some(a) = &incident.affected {
        let _ = writeln!(out, "| Custodian concerned | {} |", md(a));
    }
    if !incident.close_approvals.is_empty() {
        let who: Vec<String> = incident
            .close_approvals
            .iter()
            .map(crate::approvals::Approval::describe)
            .collect();
        let _ = writeln!(out, "| Close approved by | {} |", md(&who.join("; ")));
    }
    let _ = writeln!(
        out,
        "| Operators | {} |",
        md(&incident.operators.join(", "))
    );
    let _ = writeln!(out);

    let _ = writeln!(out, "## Timeline\n");
    let _ = writeln!(
        out,
        "| Time (UTC) | Step | Operator | How | Notes |\n|---|---|---|---|---|"
    );
    let _ = writeln!(
        out,
        "| {} | Incident opened | {} | | |",
        incident.started_at,
        md(incident.operators.first().map(String::as_str).unwrap_or(""))
    );
    let text_of = |id: &str| {
        scenario
            .and_then(|s| s.step(id))
            .map(|s| s.text.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let number_of = |id: &str| {
        scenario
            .and_then(|s| s.steps.iter().position(|st| st.id == id))
            .map(|i| (i + 1).to_string())
            .unwrap_or_else(|| id.to_string())
    };
    // Confirmations and reopenings in the order they happened.
    let mut rows: Vec<(&str, String)> = Vec::new();
    for s in &incident.steps {
        let mut how = s.how.describe().to_string();
        if !s.out_of_order.is_empty() {
            let before: Vec<String> = s.out_of_order.iter().map(|id| number_of(id)).collect();
            let _ = write!(
                how,
                "; out of order ({} {} not done yet)",
                if before.len() == 1 { "step" } else { "steps" },
                before.join(", ")
            );
        }
        rows.push((
            &s.completed_at,
            format!(
                "| {} | {} | {} | {} | {} |",
                s.completed_at,
                md(&text_of(&s.step)),
                md(&s.operator),
                how,
                md(s.notes.as_deref().unwrap_or(""))
            ),
        ));
    }
    for r in &incident.reopened {
        rows.push((
            &r.record.completed_at,
            format!(
                "| {} | {} | {} | {}; taken back later | {} |",
                r.record.completed_at,
                md(&text_of(&r.record.step)),
                md(&r.record.operator),
                r.record.how.describe(),
                md(r.record.notes.as_deref().unwrap_or(""))
            ),
        ));
        rows.push((
            &r.reopened_at,
            format!(
                "| {} | Reopened step {}: {} | {} | confirmation taken back | {} |",
                r.reopened_at,
                number_of(&r.record.step),
                md(&text_of(&r.record.step)),
                md(&r.reopened_by),
                md(&r.reason)
            ),
        ));
    }
    rows.sort_by(|a, b| a.0.cmp(b.0));
    for (_, row) in rows {
        let _ = writeln!(out, "{row}");
    }
    let _ = writeln!(
        out,
        "| {} | Incident closed | {} | | |",
        incident.closed_at.as_deref().unwrap_or("-"),
        md(closed_by)
    );
    if let Some(s) = scenario {
        let open: Vec<&str> = s
            .steps
            .iter()
            .filter(|st| incident.step(&st.id).is_none())
            .map(|st| st.text.as_str())
            .collect();
        if !open.is_empty() {
            let _ = writeln!(out, "\nSteps not recorded as done:\n");
            for t in open {
                let _ = writeln!(out, "- {t}");
            }
        }
    }

    let _ = writeln!(out, "\n## Operations\n");
    let ops: Vec<&StepRecord> = incident.steps.iter().filter(|s| s.op.is_some()).collect();
    if ops.is_empty() {
        let _ = writeln!(out, "No local operation was recorded.");
    }
    for s in ops {
        let op = s.op.map(|o| o.label()).unwrap_or_default();
        let _ = writeln!(
            out,
            "- {op} (`{}`), {} by {} at {}; audit entry `{}`",
            s.op.map(|o| o.as_str()).unwrap_or_default(),
            s.how.describe(),
            md(&s.operator),
            s.completed_at,
            s.audit_hash
        );
    }

    let _ = writeln!(out, "\n## Files produced\n");
    let files: Vec<&ProducedFile> = incident.steps.iter().flat_map(|s| &s.files).collect();
    if files.is_empty() {
        let _ = writeln!(out, "No file was recorded.");
    } else {
        let _ = writeln!(out, "| File | SHA-256 |\n|---|---|");
        for f in files {
            let _ = writeln!(
                out,
                "| {} | `{}` |",
                md(&f.path.display().to_string()),
                f.sha256
            );
        }
    }

    let _ = writeln!(out, "\n## Audit log\n");
    let _ = writeln!(
        out,
        "Audit head at close: `{}` ({} entries).\n",
        head.head, head.entries
    );
    let _ = writeln!(
        out,
        "Write this hash down. `custodian audit verify --expect-head {}` later proves no entry up to here was changed or removed.\n",
        head.head
    );
    let _ = writeln!(
        out,
        "Entries about this incident, and about the files its steps produced:\n"
    );
    let _ = writeln!(
        out,
        "| Seq | Time (UTC) | Event | Status |\n|---|---|---|---|"
    );
    let produced: Vec<String> = incident
        .steps
        .iter()
        .flat_map(|s| &s.files)
        .map(|f| f.path.display().to_string())
        .collect();
    let related = |e: &&crate::audit::Entry| {
        let detail = |k: &str| e.details.get(k).and_then(|v| v.as_str());
        // Operations name the files they write in many places (`file`, a
        // rewrap's `to.file`, a recovery's `output.file`, a rotation's
        // `identityFile` and `shards[].file`, a kit recovery's `output.dir`
        // and `outputs[].file`…): any string anywhere in the details that
        // is one of the steps' files relates the entry.
        detail("incident") == Some(incident.id.as_str())
            || any_string(&e.details, &|f| produced.iter().any(|p| p == f))
    };
    // An operation is listed whole: a rotation's INITIATED entry names the
    // old files and its COMPLETED entry the new ones a step recorded.
    let ops: std::collections::HashSet<&str> = entries
        .iter()
        .filter(related)
        .map(|e| e.op.as_str())
        .filter(|op| !op.is_empty())
        .collect();
    // (An entry without an op can only have matched on its own.)
    for e in entries.iter().filter(|e| {
        if e.op.is_empty() {
            related(e)
        } else {
            ops.contains(e.op.as_str())
        }
    }) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            e.seq,
            e.time,
            md(&e.event),
            e.status.as_str()
        );
    }
    out
}

/// Whether any string anywhere in `v` (object values and array items,
/// at any depth) satisfies `pred`.
fn any_string(v: &serde_json::Value, pred: &dyn Fn(&str) -> bool) -> bool {
    match v {
        serde_json::Value::String(s) => pred(s),
        serde_json::Value::Array(items) => items.iter().any(|i| any_string(i, pred)),
        serde_json::Value::Object(map) => map.values().any(|i| any_string(i, pred)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Status;

    fn ws() -> (tempfile::TempDir, Workspace) {
        let d = tempfile::tempdir().unwrap();
        let ws = Workspace::open(d.path().join("ws")).unwrap();
        // Nobody here has an identity: closing takes typed names.
        ws.update_registry(|r| {
            r.policy.approvals = Some(crate::approvals::ApprovalPolicy::Typed);
            Ok::<_, crate::workspace::WorkspaceError>(())
        })
        .unwrap();
        (d, ws)
    }

    #[test]
    fn scenario_overview_lists_every_scenario_with_its_open_incident_progress() {
        let (_d, ws) = ws();
        let book = Playbook::builtin();
        let fresh = scenario_overview(&ws);
        assert_eq!(fresh.len(), book.scenarios.len());
        assert!(fresh.iter().all(|r| r.open_incident.is_none()));

        let inc = open(&ws, book, 2, "Ana Officer", None).unwrap();
        let first = book.scenario(2).unwrap().steps[0].id.clone();
        complete_step(&ws, book, &inc.id, &first, "Ana", StepHow::Attested, &[]).unwrap();
        let rows = scenario_overview(&ws);
        let two = rows.iter().find(|r| r.number == 2).unwrap();
        let total = book.scenario(2).unwrap().steps.len();
        assert_eq!(two.open_incident, Some((inc.id.clone(), 1, total)));
        assert_eq!(load(&ws, &inc.id).unwrap().progress(), (1, total));
        assert!(
            rows.iter()
                .filter(|r| r.number != 2)
                .all(|r| r.open_incident.is_none())
        );
    }

    #[test]
    fn concurrent_step_completions_on_one_incident_are_all_kept() {
        let (_d, ws) = ws();
        let book = Playbook::builtin();
        let inc = open(&ws, book, 3, "Ana Officer", None).unwrap();
        let steps: Vec<String> = book
            .scenario(3)
            .unwrap()
            .steps
            .iter()
            .map(|s| s.id.clone())
            .collect();
        std::thread::scope(|scope| {
            for step in &steps {
                let (ws, id) = (ws.clone(), inc.id.clone());
                scope.spawn(move || {
                    complete_step(&ws, book, &id, step, "Ben", StepHow::Attested, &[]).unwrap();
                });
            }
        });
        let done = load(&ws, &inc.id).unwrap();
        assert_eq!(done.steps.len(), steps.len(), "a concurrent step was lost");
    }

    #[test]
    fn an_incident_survives_reload_and_each_step_is_audited() {
        let (_d, ws) = ws();
        let book = Playbook::builtin();
        let inc = open(&ws, book, 2, "Ana Officer", Some("Ben")).unwrap();
        assert!(inc.id.starts_with("INC-"));
        let again = open_for_scenario(&ws, 2).unwrap().unwrap();
        assert_eq!(again, inc);
        assert!(open_for_scenario(&ws, 3).unwrap().is_none());

        let inc = complete_step(
            &ws,
            book,
            &inc.id,
            "record-loss",
            "Cy",
            StepHow::Attested,
            &[],
        )
        .unwrap();
        assert_eq!(inc.operators, ["Ana Officer", "Cy"]);
        let reloaded = load(&ws, &inc.id).unwrap();
        assert_eq!(reloaded.steps.len(), 1);
        let entries = ws.audit().entries().unwrap();
        let last = entries.last().unwrap();
        assert_eq!(last.event, "INCIDENT_STEP");
        assert_eq!(last.status, crate::audit::Status::Completed);
        assert_eq!(last.details["step"], "record-loss");
        assert_eq!(last.details["operator"], "Cy");
        // The record cites the entry that began the step.
        let began = &entries[entries.len() - 2];
        assert_eq!(began.status, crate::audit::Status::Initiated);
        assert_eq!(began.op, last.op);
        assert_eq!(reloaded.steps[0].audit_hash, began.hash);
        assert_eq!(reloaded.steps[0].completed_at, last.time);
    }

    #[test]
    fn bad_step_requests_are_refused_and_change_nothing() {
        let (_d, ws) = ws();
        let book = Playbook::builtin();
        let inc = open(&ws, book, 1, "Ana", None).unwrap();
        let before = std::fs::read(ws.root().join(AUDIT_NAME)).unwrap();
        let file = incident_path(&ws, &inc.id).unwrap();
        let state = std::fs::read(&file).unwrap();
        assert!(matches!(
            open(&ws, book, 1, "Ana", Some("Ben/../x")),
            Err(PlaybookError::BadCustodianName(_))
        ));
        assert!(matches!(
            open(&ws, book, 9, "Ana", None),
            Err(PlaybookError::UnknownScenario(9))
        ));
        assert!(matches!(
            complete_step(&ws, book, &inc.id, "nope", "Ana", StepHow::Attested, &[]),
            Err(PlaybookError::UnknownStep { scenario: 1, .. })
        ));
        assert!(matches!(
            complete_step(
                &ws,
                book,
                &inc.id,
                "confirm-quorum",
                "  ",
                StepHow::Attested,
                &[]
            ),
            Err(PlaybookError::MissingOperator)
        ));
        assert!(matches!(
            complete_step(
                &ws,
                book,
                "../../etc",
                "confirm-quorum",
                "Ana",
                StepHow::Attested,
                &[]
            ),
            Err(PlaybookError::UnknownIncident(_))
        ));
        assert_eq!(std::fs::read(ws.root().join(AUDIT_NAME)).unwrap(), before);
        assert_eq!(std::fs::read(&file).unwrap(), state);

        complete_step(
            &ws,
            book,
            &inc.id,
            "confirm-quorum",
            "Ana",
            StepHow::Attested,
            &[],
        )
        .unwrap();
        assert!(matches!(
            complete_step(
                &ws,
                book,
                &inc.id,
                "confirm-quorum",
                "Ben",
                StepHow::Attested,
                &[]
            ),
            Err(PlaybookError::StepAlreadyDone(_))
        ));
    }

    const AUDIT_NAME: &str = crate::workspace::AUDIT_FILE;

    #[test]
    fn closing_writes_a_report_naming_the_head_and_files() {
        let (d, ws) = ws();
        let book = Playbook::builtin();
        let inc = open(&ws, book, 2, "Ana", None).unwrap();
        let produced = d.path().join("new.identity.json");
        std::fs::write(&produced, b"pretend identity").unwrap();
        complete_step(
            &ws,
            book,
            &inc.id,
            "new-identity",
            "Ana",
            StepHow::Console,
            std::slice::from_ref(&produced),
        )
        .unwrap();
        let closed = close(&ws, book, &inc.id, "Ben").unwrap();
        let report = closed.report.clone().unwrap();
        let text = std::fs::read_to_string(&report.path).unwrap();
        assert!(text.contains(&format!("Audit head at close: `{}`", report.audit_head)));
        assert!(text.contains(&fsutil::sha256_hex(b"pretend identity")));
        assert!(text.contains("Steps not recorded as done"));
        assert!(text.contains("New custodian identity (`new-identity`)"));
        // The head the report names is in the log, right before the close completion.
        let entries = ws.audit().entries().unwrap();
        let n = entries.len();
        assert_eq!(entries[n - 2].hash, report.audit_head);
        assert_eq!(entries[n - 2].status, Status::Initiated);
        assert_eq!(entries[n - 1].event, "INCIDENT_CLOSE");
        assert_eq!(entries[n - 1].details["report"]["sha256"], report.sha256);
        ws.audit().verify().unwrap();
        // Closed is final.
        assert!(matches!(
            complete_step(&ws, book, &inc.id, "rewrap", "Ana", StepHow::Command, &[]),
            Err(PlaybookError::IncidentClosed(_))
        ));
        assert!(open_for_scenario(&ws, 2).unwrap().is_none());
    }

    #[test]
    fn closing_is_refused_when_the_audit_chain_is_broken() {
        let (_d, ws) = ws();
        let book = Playbook::builtin();
        let inc = open(&ws, book, 1, "Ana", None).unwrap();
        let path = ws.root().join(AUDIT_NAME);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("Ana", "Eve");
        std::fs::write(&path, text).unwrap();
        assert!(matches!(
            close(&ws, book, &inc.id, "Ana"),
            Err(PlaybookError::AuditBroken(_))
        ));
        assert!(!ws.root().join(DIR).join(format!("{}.md", inc.id)).exists());
    }

    fn confirm<'a>(
        step: &'a str,
        operator: &'a str,
        notes: Option<&'a str>,
    ) -> StepConfirmation<'a> {
        StepConfirmation {
            step,
            operator,
            how: StepHow::Attested,
            files: &[],
            notes,
        }
    }

    #[test]
    fn a_step_keeps_its_notes_and_an_out_of_order_confirmation_says_so() {
        let (_d, ws) = ws();
        let book = Playbook::builtin();
        let inc = open(&ws, book, 2, "Ana", None).unwrap();
        let note = "laptop bag stolen at 09:10, noticed by Ben";
        let inc2 = confirm_step(
            &ws,
            book,
            &inc.id,
            &confirm("record-loss", "Ana", Some(note)),
        )
        .unwrap();
        assert_eq!(inc2.steps[0].notes.as_deref(), Some(note));
        assert!(inc2.steps[0].out_of_order.is_empty());
        // Step 4 before 2 and 3: recorded, naming the open ones.
        let inc3 =
            confirm_step(&ws, book, &inc.id, &confirm("update-registry", "Ben", None)).unwrap();
        assert_eq!(inc3.steps[1].out_of_order, vec!["new-identity", "rewrap"]);
        let entries = ws.audit().entries().unwrap();
        let step = entries
            .iter()
            .find(|e| e.event == "INCIDENT_STEP" && e.details["step"] == "record-loss")
            .unwrap();
        assert_eq!(step.details["notes"], note);
        // Reload keeps both.
        let again = load(&ws, &inc.id).unwrap();
        assert_eq!(again, inc3);
        let closed = close(&ws, book, &inc.id, "Cy").unwrap();
        let text = std::fs::read_to_string(closed.report.unwrap().path).unwrap();
        assert!(text.contains(note), "{text}");
        assert!(
            text.contains("out of order (steps 2, 3 not done yet)"),
            "{text}"
        );
    }

    #[test]
    fn notes_that_cannot_be_recorded_are_refused_and_change_nothing() {
        let (_d, ws) = ws();
        let book = Playbook::builtin();
        let inc = open(&ws, book, 2, "Ana", None).unwrap();
        let before = ws.audit().entries().unwrap().len();
        let long = "x".repeat(crate::playbook::MAX_NOTES + 1);
        for bad in [
            "key was AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
            "line one\nline two",
            long.as_str(),
        ] {
            let err = confirm_step(
                &ws,
                book,
                &inc.id,
                &confirm("record-loss", "Ana", Some(bad)),
            )
            .unwrap_err();
            assert!(matches!(err, PlaybookError::BadNotes(_)), "{err}");
            assert!(!err.to_string().contains("QQQQ"), "{err}");
        }
        assert_eq!(ws.audit().entries().unwrap().len(), before);
        assert!(load(&ws, &inc.id).unwrap().steps.is_empty());
        // A hash is a public value and fine in notes.
        let hash = "ab".repeat(32);
        confirm_step(
            &ws,
            book,
            &inc.id,
            &confirm("record-loss", "Ana", Some(&hash)),
        )
        .unwrap();
    }

    #[test]
    fn a_mistaken_confirmation_is_reopened_with_its_history_kept() {
        let (_d, ws) = ws();
        let book = Playbook::builtin();
        let inc = open(&ws, book, 2, "Ana", None).unwrap();
        confirm_step(
            &ws,
            book,
            &inc.id,
            &confirm("record-loss", "Ana", Some("first try")),
        )
        .unwrap();
        // Refusals first: nothing changes.
        let before = ws.audit().entries().unwrap().len();
        assert!(matches!(
            reopen_step(&ws, book, &inc.id, "record-loss", "Ben", "  "),
            Err(PlaybookError::MissingReason)
        ));
        assert!(matches!(
            reopen_step(&ws, book, &inc.id, "record-loss", "", "wrong"),
            Err(PlaybookError::MissingOperator)
        ));
        assert!(matches!(
            reopen_step(&ws, book, &inc.id, "rewrap", "Ben", "wrong"),
            Err(PlaybookError::StepNotDone(_))
        ));
        assert!(matches!(
            reopen_step(&ws, book, &inc.id, "nope", "Ben", "wrong"),
            Err(PlaybookError::UnknownStep { .. })
        ));
        assert_eq!(ws.audit().entries().unwrap().len(), before);

        let reopened = reopen_step(
            &ws,
            book,
            &inc.id,
            "record-loss",
            "Ben",
            "confirmed before the loss was written down",
        )
        .unwrap();
        assert!(reopened.step("record-loss").is_none());
        assert_eq!(reopened.reopened.len(), 1);
        let r = &reopened.reopened[0];
        assert_eq!(r.record.operator, "Ana");
        assert_eq!(r.record.notes.as_deref(), Some("first try"));
        assert_eq!(r.reopened_by, "Ben");
        let entries = ws.audit().entries().unwrap();
        let audited: Vec<_> = entries
            .iter()
            .filter(|e| e.event == "INCIDENT_STEP_REOPEN")
            .collect();
        assert_eq!(audited.len(), 2);
        assert_eq!(audited[0].hash, r.audit_hash);
        assert_eq!(audited[1].status, Status::Completed);
        assert_eq!(audited[0].details["confirmedBy"], "Ana");
        ws.audit().verify().unwrap();
        // It can be confirmed again, and the report tells the whole story.
        confirm_step(
            &ws,
            book,
            &inc.id,
            &confirm("record-loss", "Cy", Some("second try")),
        )
        .unwrap();
        assert_eq!(load(&ws, &inc.id).unwrap().steps.len(), 1);
        let closed = close(&ws, book, &inc.id, "Cy").unwrap();
        let text = std::fs::read_to_string(closed.report.unwrap().path).unwrap();
        assert!(text.contains("first try"), "{text}");
        assert!(text.contains("second try"), "{text}");
        assert!(text.contains("Reopened step 1"), "{text}");
        assert!(
            text.contains("confirmed before the loss was written down"),
            "{text}"
        );
        // Closed is final for reopening too.
        assert!(matches!(
            reopen_step(&ws, book, &inc.id, "record-loss", "Ben", "again"),
            Err(PlaybookError::IncidentClosed(_))
        ));
    }

    #[test]
    fn the_report_lists_operations_wherever_their_details_name_a_steps_file() {
        let (d, ws) = ws();
        let book = Playbook::builtin();
        let inc = open(&ws, book, 2, "Ana", None).unwrap();
        let rewrapped = d.path().join("rewrapped.shard.json");
        let recovered = d.path().join("recovered.age");
        let rotated = d.path().join("ana-2.identity.json");
        let rotated_shard = d.path().join("drill-alpha.1.ana.shard.json");
        let hsm_dir = d.path().join("hsm-transfer");
        let hsm_file = hsm_dir.join("k.bin");
        let unrelated = d.path().join("unrelated.age");
        std::fs::create_dir(&hsm_dir).unwrap();
        for f in [
            &rewrapped,
            &recovered,
            &rotated,
            &rotated_shard,
            &hsm_file,
            &unrelated,
        ] {
            std::fs::write(f, b"x").unwrap();
        }
        let none = json!({});
        for (event, details, completed) in [
            (
                "SHARD_REWRAP",
                json!({ "to": { "file": rewrapped } }),
                none.clone(),
            ),
            (
                "RECOVER",
                json!({ "output": { "kind": "age", "file": recovered } }),
                none.clone(),
            ),
            // A rotation names the old files when it starts, and the new
            // identity and each new shard when it completes: listed whole.
            (
                "CUSTODIAN_ROTATE",
                json!({ "custodian": "Ana", "identityFile": d.path().join("ana.identity.json"),
                        "shards": [{ "keyId": "drill-alpha", "index": 1, "file": d.path().join("old.shard.json") }] }),
                json!({ "identityFile": rotated,
                        "shards": [{ "keyId": "drill-alpha", "index": 1, "file": rotated_shard }] }),
            ),
            // A kit recovery to an HSM names the directory, and each file.
            (
                "KIT_RECOVER_WORKSPACE_KEYS",
                json!({ "output": { "kind": "hsm-rsa-oaep-sha256", "dir": hsm_dir } }),
                json!({ "outputs": [{ "file": hsm_file, "sha256": "00" }] }),
            ),
            (
                "RECOVER",
                json!({ "output": { "file": unrelated } }),
                none.clone(),
            ),
        ] {
            let tx = ws.begin(event, details).unwrap();
            tx.commit(|_| Ok::<_, PlaybookError>(()), |_| completed.clone())
                .unwrap();
        }
        for (step, file) in [
            ("rewrap", &rewrapped),
            ("new-identity", &recovered),
            ("record-loss", &rotated_shard),
            ("update-registry", &hsm_file),
        ] {
            confirm_step(
                &ws,
                book,
                &inc.id,
                &StepConfirmation {
                    step,
                    operator: "Ana",
                    how: StepHow::Console,
                    files: std::slice::from_ref(file),
                    notes: None,
                },
            )
            .unwrap();
        }
        let closed = close(&ws, book, &inc.id, "Ben").unwrap();
        let text = std::fs::read_to_string(closed.report.unwrap().path).unwrap();
        let log = text.split("## Audit log").nth(1).unwrap();
        assert!(log.contains("SHARD_REWRAP"), "{log}");
        assert!(log.contains("| RECOVER |"), "{log}");
        for event in ["CUSTODIAN_ROTATE", "KIT_RECOVER_WORKSPACE_KEYS"] {
            for status in ["INITIATED", "COMPLETED"] {
                assert!(log.contains(&format!("| {event} | {status} |")), "{log}");
            }
        }
        // An operation on a file no step produced is not listed (each
        // operation listed shows as initiated and completed).
        assert_eq!(log.matches("| RECOVER |").count(), 2, "{log}");
    }
}
