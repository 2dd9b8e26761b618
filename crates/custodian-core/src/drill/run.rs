//! The quarterly drill: every disaster scenario rehearsed for real on
//! synthetic material, with each outcome verified and a report at the end.
//!
//! A drill builds a *sandbox* workspace — a separate directory whose
//! registry is marked `sandbox`, so every console screen shows DRILL — and
//! fills it with synthetic custodians (age identities), their guardians
//! (each identity split 3-of-5), a 2-of-3 secp256k1 drill key whose shards
//! are wrapped to the custodians, and a synthetic vendor DR kit encrypted to
//! a fresh recovery key pair. It then walks the five scenarios of the
//! playbook, running each local operation through the same library calls
//! the console and CLI use, and checks what each produced:
//!
//! 1. node offline — a shard restored to a replacement node opens with the
//!    node's key and carries the same keyId and root public key;
//! 2. one shard lost — a replacement custodian's identity is created and a
//!    surviving shard rewrapped to it; it opens with the new identity, and no
//!    key recovery was run;
//! 3. two shards lost — guardians rebuild two custodians' keys and both
//!    shards are restored to a temporary node: threshold reached;
//! 4. compromise — the shard is rewrapped to a new identity, which opens it,
//!    while the old identity no longer can;
//! 5. full loss — guardians rebuild, shards are restored, the raw key is
//!    recovered under a two-person quorum to a synthetic HSM recipient, and
//!    the key is checked independently against the root public key; the DR
//!    kit's derived shares are compared with an independent recomputation.
//!
//! Passphrases are generated (diceware) and held only in memory. The report
//! (Markdown and JSON) goes to the *real* workspace's `drills/` directory and
//! the drill's date is recorded in its registry, which the threat and
//! checklist screens read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use k256::elliptic_curve::sec1::ToSec1Point;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::Explain;
use crate::fsutil::{self, FsError};
use crate::guardians::{self, LoadedShare, ShareSet, SplitRequest};
use crate::identity::{self, IdentityFile, OpenedIdentity};
use crate::passphrase;
use crate::recovery::{self, RecoveryOutput, ShardSource};
use crate::shard::{self, RewrapKind, RewrapRequest, ShardFile};
use crate::workspace::{Workspace, WorkspaceError};

/// The registry section (in the real workspace) listing drills.
pub const SECTION: &str = "drills";

/// A drill, as the real workspace's registry records it (public facts).
/// Older registries recorded some drills with only a `date`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillRecord {
    /// The drill id.
    #[serde(default)]
    pub id: String,
    /// When it ended: RFC 3339, or `YYYY-MM-DD` in older records.
    pub date: String,
    /// Whether every step passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    /// Who took part.
    #[serde(default)]
    pub participants: Vec<String>,
    /// The Markdown report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<PathBuf>,
}

impl DrillRecord {
    /// When the drill ended, reading either date form.
    pub fn ended(&self) -> Option<time::OffsetDateTime> {
        crate::clock::parse(&self.date)
            .or_else(|| crate::clock::parse(&format!("{}T00:00:00Z", self.date)))
    }
}
/// Synthetic custodians, in shard index order.
pub const CUSTODIANS: [&str; 3] = ["Drill Ana", "Drill Ben", "Drill Cy"];
/// Synthetic guardians of every custodian.
pub const GUARDIANS: [&str; 5] = [
    "Guardian 1",
    "Guardian 2",
    "Guardian 3",
    "Guardian 4",
    "Guardian 5",
];
/// Wallet ids derived from the synthetic DR kit.
pub const KIT_WALLETS: usize = 200;

/// Why a drill could not run at all (a failed *scenario* is a result, not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DrillError {
    /// The sandbox directory already holds something.
    #[error("the sandbox {} is not empty; a drill needs a fresh directory", .0.display())]
    SandboxNotEmpty(PathBuf),
    /// The sandbox is the real workspace.
    #[error("the sandbox must be a different directory from the real workspace")]
    SandboxIsWorkspace,
    /// Fewer than two participants.
    #[error("a drill needs at least two named participants (the recovery quorum); got {0}")]
    TooFewParticipants(usize),
    /// A participant name is not usable.
    #[error(transparent)]
    BadName(#[from] identity::IdentityError),
    /// The drill id is not one [`new_drill_id`] makes (it names files).
    #[error("{0:?} is not a drill id of the form DRILL-YYYYMMDD-xxxxxx")]
    BadDrillId(String),
    /// Setting up the synthetic material failed.
    #[error("setting up the drill material failed at {stage}: {message}")]
    Setup {
        /// Which stage.
        stage: &'static str,
        /// The error message.
        message: String,
    },
    /// Workspace problems.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// Writing the report failed.
    #[error(transparent)]
    File(#[from] FsError),
    /// The audit log could not be written.
    #[error("audit log: {0}")]
    Audit(#[from] crate::audit::AuditError),
}

impl Explain for DrillError {
    fn remedy_for(&self, to: crate::error::Audience) -> Option<String> {
        Some(match self {
            DrillError::SandboxNotEmpty(_) | DrillError::SandboxIsWorkspace => {
                to.pick("choose a new, empty directory for the sandbox (or omit --sandbox)", "choose a new, empty directory for the sandbox")
            }
            DrillError::TooFewParticipants(_) => {
                to.pick("name at least two participants: --participants \"Ana,Ben\"", "name at least two participants, separated by commas")
            }
            DrillError::BadName(e) => return e.remedy_for(to),
            DrillError::BadDrillId(_) => "this is a bug; please report it".into(),
            DrillError::Setup { .. } => {
                "keep the sandbox for inspection, check the message, and run the drill again in a new sandbox".into()
            }
            DrillError::Workspace(e) => return e.remedy_for(to),
            DrillError::File(e) => return e.remedy_for(to),
            DrillError::Audit(e) => return e.remedy_for(to),
        })
    }
}

/// One verified fact in a scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked.
    pub what: String,
    /// Whether it held.
    pub ok: bool,
}

/// How one scenario went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioResult {
    /// 1–5.
    pub number: u8,
    /// Its title.
    pub title: String,
    /// All checks held and no operation failed.
    pub passed: bool,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// Operations run, in order.
    pub operations: Vec<String>,
    /// Checks made.
    pub checks: Vec<Check>,
    /// The error that stopped the scenario, if one did.
    pub error: Option<String>,
}

/// The drill's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillReport {
    /// `DRILL-YYYYMMDD-xxxxxx`.
    pub id: String,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End (RFC 3339).
    pub finished_at: String,
    /// Who took part.
    pub participants: Vec<String>,
    /// The sandbox directory.
    pub sandbox: PathBuf,
    /// Setup time in milliseconds.
    pub setup_ms: u64,
    /// Per scenario.
    pub scenarios: Vec<ScenarioResult>,
    /// Every scenario passed.
    pub passed: bool,
    /// The sandbox audit log's head hash at the end.
    pub sandbox_audit_head: String,
}

/// Where the report files went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrillOutcome {
    /// The report.
    pub report: DrillReport,
    /// Markdown report in the real workspace.
    pub markdown: PathBuf,
    /// JSON report in the real workspace.
    pub json: PathBuf,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct DrillOptions {
    /// The drill's id, from [`new_drill_id`] (also in the default sandbox's name).
    pub id: String,
    /// A new or empty directory for the sandbox.
    pub sandbox: PathBuf,
    /// Participants (at least two: they form the recovery quorum).
    pub participants: Vec<String>,
    /// Passphrases typed by participants for the three synthetic custodians;
    /// generated when `None` (the `--auto` drill).
    pub custodian_passphrases: Option<Vec<SecretString>>,
}

/// The default sandbox for drill `id`: a new directory beside the
/// workspace, never inside it (so the real workspace's checks never see
/// synthetic key files), named after the drill.
pub fn default_sandbox(real: &Workspace, id: &str) -> PathBuf {
    let name = real
        .root()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "custodian".into());
    real.root()
        .with_file_name(format!("{name}-{}", id.to_lowercase()))
}

/// Progress callback: (scenario or stage number, total, what).
pub type Progress<'a> = &'a (dyn Fn(u64, u64, &str) + Sync);

/// A synthetic custodian: identity file and its in-memory passphrase.
struct Holder {
    name: String,
    identity: PathBuf,
    passphrase: SecretString,
}

/// Everything the setup produced.
struct Material {
    ws: Workspace,
    holders: Vec<Holder>,
    /// custodian name -> guardian name -> passphrase
    guardian_pass: BTreeMap<String, BTreeMap<String, SecretString>>,
    /// custodian name -> share files
    guardian_files: BTreeMap<String, Vec<PathBuf>>,
    key_id: String,
    root_public_key: String,
    /// shard files by custodian index (0-based)
    shards: Vec<PathBuf>,
    kit: super::kit_check::KitMaterial,
}

fn gen_pass() -> Result<SecretString, DrillError> {
    passphrase::generate(passphrase::DEFAULT_WORDS).map_err(|e| DrillError::Setup {
        stage: "passphrases",
        message: e.to_string(),
    })
}

fn setup_err<E: std::fmt::Display>(stage: &'static str) -> impl Fn(E) -> DrillError {
    move |e| DrillError::Setup {
        stage,
        message: e.to_string(),
    }
}

fn random_suffix() -> String {
    let mut b = [0u8; 3];
    rand::Rng::fill_bytes(&mut crate::rng::os(), &mut b);
    hex::encode(b)
}

/// Writes an identity file for a machine (a node, an HSM stand-in) without
/// registering it as a custodian.
fn write_machine_identity(
    dir: &Path,
    name: &str,
    passphrase: &SecretString,
) -> Result<(PathBuf, OpenedIdentity), String> {
    let id = OpenedIdentity::generate(name);
    let file = IdentityFile::seal(&id, passphrase, &crate::clock::now_string())
        .map_err(|e| e.to_string())?;
    let path = dir.join(format!("{}.identity.json", identity::file_stem(name)));
    fsutil::write_new(&path, &file.to_bytes()).map_err(|e| e.to_string())?;
    Ok((path, id))
}

/// A machine (node or HSM stand-in) with a fresh identity under a generated
/// passphrase: its identity file, the opened identity, and the passphrase.
fn machine(dir: &Path, prefix: &str) -> Result<(PathBuf, OpenedIdentity, SecretString), String> {
    let pass = gen_pass().map_err(|e| e.to_string())?;
    let (path, id) = write_machine_identity(dir, &format!("{prefix}-{}", random_suffix()), &pass)?;
    Ok((path, id, pass))
}

fn no_progress(_: u64, _: u64, _: &str) {}

fn setup(opts: &DrillOptions, progress: Progress<'_>) -> Result<Material, DrillError> {
    let ws = Workspace::open(&opts.sandbox)?;
    ws.update_registry(|r| {
        r.sandbox = true;
        // Synthetic people have no identities: the drill's quorum is typed.
        r.policy.approvals = Some(crate::approvals::ApprovalPolicy::Typed);
        Ok::<_, WorkspaceError>(())
    })?;
    ws.audit().record(
        "DRILL_SANDBOX",
        json!({ "participants": opts.participants }),
    )?;

    progress(1, 5, "creating synthetic custodian identities");
    let mut holders = Vec::new();
    for (i, name) in CUSTODIANS.into_iter().enumerate() {
        let pass = match &opts.custodian_passphrases {
            Some(list) => list.get(i).cloned().ok_or(DrillError::Setup {
                stage: "passphrases",
                message: format!("no passphrase given for {name}"),
            })?,
            None => gen_pass()?,
        };
        let created = identity::create_identity(&ws, name, &pass, None)
            .map_err(setup_err("custodian identities"))?;
        holders.push(Holder {
            name: name.into(),
            identity: created.path,
            passphrase: pass,
        });
    }

    progress(
        2,
        5,
        "splitting every custodian's key 3-of-5 among guardians",
    );
    let mut guardian_pass = BTreeMap::new();
    let mut guardian_files = BTreeMap::new();
    for h in &holders {
        let mut passes = BTreeMap::new();
        let mut list = Vec::new();
        for g in GUARDIANS {
            let p = gen_pass()?;
            list.push((g.to_string(), p.clone()));
            passes.insert(g.to_string(), p);
        }
        let outcome = guardians::split(
            &ws,
            SplitRequest {
                identity_path: &h.identity,
                identity_passphrase: &h.passphrase,
                threshold: 3,
                guardians: list,
                out_dir: None,
            },
            &no_progress,
        )
        .map_err(setup_err("guardian split"))?;
        guardian_files.insert(
            h.name.clone(),
            outcome.shares.iter().map(|s| s.path.clone()).collect(),
        );
        guardian_pass.insert(h.name.clone(), passes);
    }

    progress(3, 5, "making a synthetic 2-of-3 key");
    let key = crate::drill::key::make_key(
        &ws,
        crate::drill::key::MakeKeyRequest {
            custodians: CUSTODIANS.iter().map(|s| s.to_string()).collect(),
            threshold: 2,
            key_id: None,
            out_dir: None,
            generate: Vec::new(),
        },
    )
    .map_err(setup_err("drill key"))?;

    progress(
        4,
        5,
        "creating a recovery key pair and a synthetic vendor kit",
    );
    let kit = super::kit_check::make(&ws, &gen_pass()?).map_err(setup_err("DR kit"))?;

    progress(5, 5, "writing the drill card");
    let material = Material {
        ws,
        holders,
        guardian_pass,
        guardian_files,
        key_id: key.key_id,
        root_public_key: key.root_public_key,
        shards: key.files,
        kit,
    };
    write_card(&opts.id, &material)?;
    Ok(material)
}

/// The drill card in the sandbox: every passphrase the drill generated,
/// so its scenarios can be walked by hand (see `drill::card`).
fn write_card(drill: &str, m: &Material) -> Result<PathBuf, DrillError> {
    use super::card::{CardContent, CardEntry};
    let custodians = m
        .holders
        .iter()
        .map(|h| CardEntry {
            who: h.name.clone(),
            file: &h.identity,
            passphrase: &h.passphrase,
        })
        .collect();
    let mut guardians = Vec::new();
    for (custodian, files) in &m.guardian_files {
        for file in files {
            // Each share names its guardian in its public header.
            let share = LoadedShare::from_path(file).map_err(setup_err("drill card"))?;
            let guardian = share.share.guardian;
            let Some(pass) = m
                .guardian_pass
                .get(custodian)
                .and_then(|p| p.get(&guardian))
            else {
                continue;
            };
            guardians.push(CardEntry {
                who: format!("{guardian} of {custodian}"),
                file,
                passphrase: pass,
            });
        }
    }
    let (private, kit_pass, kit) = m.kit.card_parts();
    let content = CardContent {
        drill,
        custodians,
        guardians,
        recovery_key: Some(CardEntry {
            who: "recovery key".into(),
            file: private,
            passphrase: kit_pass,
        }),
        kit: Some(kit),
        key_id: &m.key_id,
        shards: m
            .holders
            .iter()
            .map(|h| h.name.clone())
            .zip(m.shards.iter().map(PathBuf::as_path))
            .collect(),
    };
    super::card::write(&m.ws, &content).map_err(setup_err("drill card"))
}

/// Collects operations and checks for one scenario.
struct Scenario {
    number: u8,
    title: String,
    started: Instant,
    operations: Vec<String>,
    checks: Vec<Check>,
}

impl Scenario {
    fn new(number: u8) -> Self {
        let title = crate::playbook::Playbook::builtin()
            .scenario(number)
            .map(|s| s.title.clone())
            .unwrap_or_else(|| format!("Scenario {number}"));
        Scenario {
            number,
            title,
            started: Instant::now(),
            operations: Vec::new(),
            checks: Vec::new(),
        }
    }

    fn op(&mut self, what: impl Into<String>) {
        self.operations.push(what.into());
    }

    fn check(&mut self, what: impl Into<String>, ok: bool) {
        self.checks.push(Check {
            what: what.into(),
            ok,
        });
    }

    fn finish(self, result: Result<(), String>) -> ScenarioResult {
        let passed = result.is_ok() && self.checks.iter().all(|c| c.ok) && !self.checks.is_empty();
        ScenarioResult {
            number: self.number,
            title: self.title,
            passed,
            duration_ms: self.started.elapsed().as_millis() as u64,
            operations: self.operations,
            checks: self.checks,
            error: result.err(),
        }
    }
}

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn open_identity(path: &Path, pass: &SecretString) -> Result<OpenedIdentity, String> {
    IdentityFile::load(path)
        .and_then(|f| f.open(pass))
        .map_err(s)
}

#[allow(clippy::too_many_arguments)]
fn rewrap(
    m: &Material,
    shard: &Path,
    identity: &Path,
    pass: &SecretString,
    to: &str,
    name: &str,
    kind: RewrapKind,
    concentration: &shard::ConcentrationApproval,
) -> Result<shard::RewrapOutcome, String> {
    shard::rewrap_shard(
        &m.ws,
        &RewrapRequest {
            shard: shard.to_path_buf(),
            identity: identity.to_path_buf(),
            passphrase: pass.clone(),
            to: to.into(),
            name: name.into(),
            out: None,
            kind,
            accept_multiple_recipients: false,
            concentration: concentration.clone(),
        },
    )
    .map_err(s)
}

/// Guardians `which` rebuild `custodian`'s key into a new identity file.
fn reconstruct(
    m: &Material,
    sc: &mut Scenario,
    custodian: &str,
    which: &[usize],
) -> Result<(PathBuf, SecretString), String> {
    let files = &m.guardian_files[custodian];
    let shares: Vec<LoadedShare> = which
        .iter()
        .map(|i| LoadedShare::from_path(&files[*i]))
        .collect::<Result<_, _>>()
        .map_err(s)?;
    let set_id = shares
        .first()
        .map(|l| l.share.set_id.clone())
        .unwrap_or_default();
    let known = ShareSet::known_split(&m.ws, &set_id);
    let set = ShareSet::assemble(shares, known.as_ref()).map_err(s)?;
    let passes: Vec<SecretString> = set
        .members
        .iter()
        .map(|mbr| m.guardian_pass[custodian][&mbr.share.guardian].clone())
        .collect();
    let new_pass = gen_pass().map_err(s)?;
    let combined =
        guardians::combine(&m.ws, &set, &passes, &new_pass, None, &no_progress).map_err(s)?;
    sc.op(format!(
        "guardians {} rebuilt {custodian}'s age key",
        combined.guardians.join(", ")
    ));
    let recorded = &m
        .holders
        .iter()
        .find(|h| h.name == custodian)
        .map(|h| IdentityFile::load(&h.identity).map(|f| f.recipient))
        .transpose()
        .map_err(s)?
        .unwrap_or_default();
    sc.check(
        format!("{custodian}'s rebuilt key has the recorded recipient"),
        &combined.recipient == recorded,
    );
    Ok((combined.path, new_pass))
}

/// Guardians rebuild custodian `ci`'s key, then its shard is restored to
/// the temporary `node` with the rebuilt identity.
fn rebuild_and_restore(
    m: &Material,
    sc: &mut Scenario,
    ci: usize,
    guardians: &[usize],
    node: &OpenedIdentity,
    node_name: &str,
    concentration: &shard::ConcentrationApproval,
) -> Result<shard::RewrapOutcome, String> {
    let custodian = m.holders[ci].name.clone();
    let (rebuilt, pass) = reconstruct(m, sc, &custodian, guardians)?;
    let out = rewrap(
        m,
        &m.shards[ci],
        &rebuilt,
        &pass,
        &node.recipient,
        node_name,
        RewrapKind::Node,
        concentration,
    )?;
    sc.op(format!(
        "restored {custodian}'s shard {} to the {node_name}",
        out.index
    ));
    Ok(out)
}

fn shard_opens_with(path: &Path, id: &OpenedIdentity, m: &Material) -> Result<bool, String> {
    let file = ShardFile::load(path).map_err(s)?;
    let payload = file.open(id).map_err(s)?;
    Ok(payload.key_id == m.key_id && payload.root_public_key == m.root_public_key)
}

fn scenario_1(m: &Material, node_dir: &Path) -> ScenarioResult {
    let mut sc = Scenario::new(1);
    let r = (|| {
        let (_, node, _) = machine(node_dir, "drill-node-b")?;
        sc.op("provisioned replacement node B (synthetic import key)");
        let h = &m.holders[0];
        let out = rewrap(
            m,
            &m.shards[0],
            &h.identity,
            &h.passphrase,
            &node.recipient,
            "drill node B",
            RewrapKind::Node,
            &shard::ConcentrationApproval::default(),
        )?;
        sc.op(format!("{} restored shard {} to node B", h.name, out.index));
        sc.check(
            "restored shard carries the same keyId and root public key",
            out.key_id == m.key_id && out.root_public_key == m.root_public_key,
        );
        sc.check(
            "node B's key opens the restored shard",
            shard_opens_with(&out.path, &node, m)?,
        );
        sc.check(
            "the custodian's own shard file is still in place",
            m.shards[0].exists(),
        );
        Ok(())
    })();
    sc.finish(r)
}

fn scenario_2(m: &Material) -> ScenarioResult {
    let mut sc = Scenario::new(2);
    let audit_before = m.ws.audit().entries().map(|e| e.len()).unwrap_or(0);
    let r = (|| {
        let name = format!("Drill Dee {}", random_suffix());
        let pass = gen_pass().map_err(s)?;
        let created = identity::create_identity(&m.ws, &name, &pass, None).map_err(s)?;
        sc.op(format!("created replacement custodian identity for {name}"));
        let h = &m.holders[1];
        let out = rewrap(
            m,
            &m.shards[1],
            &h.identity,
            &h.passphrase,
            &created.recipient,
            &name,
            RewrapKind::Custodian,
            &shard::ConcentrationApproval::default(),
        )?;
        sc.op(format!(
            "{} rewrapped shard {} to {name}",
            h.name, out.index
        ));
        let new_id = open_identity(&created.path, &pass)?;
        sc.check(
            format!("{name}'s new identity opens the rewrapped shard"),
            shard_opens_with(&out.path, &new_id, m)?,
        );
        sc.check(
            format!("{name} is in the custodian registry"),
            m.ws.registry().map_err(s)?.custodian(&name).is_some(),
        );
        let recovered =
            m.ws.audit()
                .entries()
                .map_err(s)?
                .iter()
                .skip(audit_before)
                .any(|e| e.event.contains("RECOVER"));
        sc.check(
            "no raw key recovery was used for a single lost shard",
            !recovered,
        );
        Ok(())
    })();
    sc.finish(r)
}

fn scenario_3(m: &Material, node_dir: &Path, participants: &[String]) -> ScenarioResult {
    let mut sc = Scenario::new(3);
    let r = (|| {
        let (_, node, _) = machine(node_dir, "drill-temp-node")?;
        sc.op("provisioned a temporary node");
        let mut restored = Vec::new();
        // The temporary node gets the threshold on purpose: the
        // concentration rule's override, approved by the participants.
        let quorum = shard::ConcentrationApproval {
            confirm_holder: None,
            approvers: participants.to_vec(),
        };
        for (ci, guardians) in [(0usize, [0usize, 1, 2]), (1, [2, 3, 4])] {
            let custodian = &m.holders[ci].name;
            let out = rebuild_and_restore(
                m,
                &mut sc,
                ci,
                &guardians,
                &node,
                "drill temp node",
                &quorum,
            )?;
            sc.check(
                format!("the node opens {custodian}'s restored shard"),
                shard_opens_with(&out.path, &node, m)?,
            );
            restored.push(out.index);
        }
        restored.sort_unstable();
        restored.dedup();
        sc.check(
            "two distinct shards are on the node: threshold 2 reached",
            restored.len() >= 2,
        );
        Ok(())
    })();
    sc.finish(r)
}

fn scenario_4(m: &Material) -> ScenarioResult {
    let mut sc = Scenario::new(4);
    let r = (|| {
        let h = &m.holders[2];
        let name = format!("{} rotated {}", h.name, random_suffix());
        let pass = gen_pass().map_err(s)?;
        let created = identity::create_identity(&m.ws, &name, &pass, None).map_err(s)?;
        sc.op(format!(
            "created a new identity {name} on a trusted machine"
        ));
        let out = rewrap(
            m,
            &m.shards[2],
            &h.identity,
            &h.passphrase,
            &created.recipient,
            &name,
            RewrapKind::Custodian,
            &shard::ConcentrationApproval::default(),
        )?;
        sc.op(format!(
            "rewrapped shard {} away from the exposed identity",
            out.index
        ));
        let new_id = open_identity(&created.path, &pass)?;
        sc.check(
            "the new identity opens the rewrapped shard",
            shard_opens_with(&out.path, &new_id, m)?,
        );
        let old_id = open_identity(&h.identity, &h.passphrase)?;
        let new_file = ShardFile::load(&out.path).map_err(s)?;
        sc.check(
            "the exposed identity cannot open the rewrapped shard",
            new_file.open(&old_id).is_err(),
        );
        Ok(())
    })();
    sc.finish(r)
}

/// The public key of a 32-byte secret, SEC1 compressed hex — computed here
/// with k256 directly, independently of the recovery module.
fn public_of(secret: &[u8]) -> Option<String> {
    let sk = k256::SecretKey::from_slice(secret).ok()?;
    Some(hex::encode(sk.public_key().to_sec1_point(true).as_bytes()))
}

fn scenario_5(m: &Material, node_dir: &Path, participants: &[String]) -> ScenarioResult {
    let mut sc = Scenario::new(5);
    let r = (|| {
        let (node_path, node, node_pass) = machine(node_dir, "drill-recovery-node")?;
        let mut sources = Vec::new();
        // A key recovery gathers the threshold at one node on purpose: the
        // concentration rule's override, approved by the quorum (audited).
        let quorum = shard::ConcentrationApproval {
            confirm_holder: None,
            approvers: participants.to_vec(),
        };
        for (ci, guardians) in [(0usize, [1usize, 3, 4]), (2, [0, 2, 4])] {
            let out = rebuild_and_restore(
                m,
                &mut sc,
                ci,
                &guardians,
                &node,
                "drill recovery node",
                &quorum,
            )?;
            sources.push(ShardSource {
                shard: out.path,
                identity: node_path.clone(),
            });
        }
        let (_, hsm, _) = machine(node_dir, "drill-hsm")?;
        let out = node_dir.join(format!("recovered-{}.age", random_suffix()));
        let plan = recovery::plan(
            &sources,
            participants,
            RecoveryOutput::Age {
                recipient: hsm.recipient.clone(),
                out: out.clone(),
            },
        )
        .map_err(s)?;
        let outcome =
            recovery::recover(&m.ws, &plan, &[node_pass.clone(), node_pass.clone()]).map_err(s)?;
        sc.op(format!(
            "recovered the raw key under the quorum {} and wrapped it to the synthetic HSM",
            participants.join(", ")
        ));
        let armored = std::fs::read(&out).map_err(s)?;
        // The age output holds the key as hex and a newline.
        let text = zeroize::Zeroizing::new(age::decrypt(hsm.age_identity(), &armored).map_err(s)?);
        let raw = zeroize::Zeroizing::new(
            std::str::from_utf8(&text)
                .ok()
                .and_then(|t| hex::decode(t.trim()).ok())
                .unwrap_or_default(),
        );
        sc.check(
            "the recovered key, checked independently, matches the root public key",
            public_of(&raw).as_deref() == Some(m.root_public_key.as_str()),
        );
        sc.check(
            "the approvers were recorded before any shard was decrypted",
            approvers_logged_first(&m.ws, &outcome.audit_op, participants).map_err(s)?,
        );
        let kit_ok = super::kit_check::check(&m.kit, KIT_WALLETS).map_err(s)?;
        sc.op(format!(
            "decrypted the synthetic DR kit and derived Key Share #1 for {KIT_WALLETS} wallets"
        ));
        sc.check("derived shares match an independent recomputation", kit_ok);
        Ok(())
    })();
    sc.finish(r)
}

/// Is the recovery's INITIATED entry (naming every approver) the first entry
/// of its operation?
fn approvers_logged_first(
    ws: &Workspace,
    op: &str,
    approvers: &[String],
) -> Result<bool, crate::audit::AuditError> {
    let entries = ws.audit().entries()?;
    let first = entries.iter().find(|e| e.op == op);
    Ok(first.is_some_and(|e| {
        e.status == crate::audit::Status::Initiated
            && approvers
                .iter()
                .all(|a| e.details.to_string().contains(a.as_str()))
    }))
}

/// True for ids of [`new_drill_id`]'s form, `DRILL-YYYYMMDD-xxxxxx`.
pub fn is_drill_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 21
        && id.starts_with("DRILL-")
        && b[6..14].iter().all(u8::is_ascii_digit)
        && b[14] == b'-'
        && b[15..]
            .iter()
            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// A new drill id, `DRILL-YYYYMMDD-xxxxxx`.
pub fn new_drill_id() -> String {
    let date = crate::clock::now_string();
    format!(
        "DRILL-{}-{}",
        date.get(..10).unwrap_or("").replace('-', ""),
        random_suffix()
    )
}

/// Runs the whole drill; see the module docs. `real` is the workspace that
/// records the drill; `opts.sandbox` must be new or empty.
pub fn run_drill(
    real: &Workspace,
    opts: &DrillOptions,
    progress: Progress<'_>,
) -> Result<DrillOutcome, DrillError> {
    if opts.participants.len() < 2 {
        return Err(DrillError::TooFewParticipants(opts.participants.len()));
    }
    if !is_drill_id(&opts.id) {
        return Err(DrillError::BadDrillId(opts.id.clone()));
    }
    for p in &opts.participants {
        identity::validate_name(p)?;
    }
    let same = |a: &Path, b: &Path| {
        a.canonicalize()
            .ok()
            .zip(b.canonicalize().ok())
            .is_some_and(|(x, y)| x == y)
    };
    if same(&opts.sandbox, real.root()) {
        return Err(DrillError::SandboxIsWorkspace);
    }
    if std::fs::read_dir(&opts.sandbox).is_ok_and(|mut d| d.next().is_some()) {
        return Err(DrillError::SandboxNotEmpty(opts.sandbox.clone()));
    }
    let id = opts.id.clone();
    let op = real.audit().begin(
        "DRILL_RUN",
        json!({ "drill": id, "sandbox": opts.sandbox, "participants": opts.participants }),
    )?;
    let started_at = crate::clock::now_string();
    let t0 = Instant::now();
    let material = match setup(opts, progress) {
        Ok(m) => m,
        Err(e) => {
            op.fail(&e.to_string())?;
            return Err(e);
        }
    };
    let setup_ms = t0.elapsed().as_millis() as u64;
    let node_dir = material.ws.subdir("nodes")?;
    let mut scenarios = Vec::new();
    type Step<'a> = Box<dyn Fn() -> ScenarioResult + 'a>;
    let steps: Vec<(&str, Step)> = vec![
        (
            "scenario 1: node offline",
            Box::new(|| scenario_1(&material, &node_dir)),
        ),
        (
            "scenario 2: one shard lost",
            Box::new(|| scenario_2(&material)),
        ),
        (
            "scenario 3: two shards lost",
            Box::new(|| scenario_3(&material, &node_dir, &opts.participants)),
        ),
        ("scenario 4: compromise", Box::new(|| scenario_4(&material))),
        (
            "scenario 5: full loss",
            Box::new(|| scenario_5(&material, &node_dir, &opts.participants)),
        ),
    ];
    let total = steps.len() as u64;
    for (i, (label, step)) in steps.into_iter().enumerate() {
        progress(i as u64, total, label);
        scenarios.push(step());
    }
    progress(total, total, "writing the report");
    let passed = scenarios.iter().all(|s| s.passed);
    let report = DrillReport {
        id: id.clone(),
        started_at,
        finished_at: crate::clock::now_string(),
        participants: opts.participants.clone(),
        sandbox: opts.sandbox.clone(),
        setup_ms,
        scenarios,
        passed,
        sandbox_audit_head: material
            .ws
            .audit()
            .verify()
            .map(|s| s.head)
            .unwrap_or_default(),
    };
    let result = write_report(real, &report);
    match result {
        Ok((markdown, json_path)) => {
            op.complete(json!({
                "passed": passed,
                "reportSha256": fsutil::file_fingerprint(&markdown)?,
            }))?;
            Ok(DrillOutcome {
                report,
                markdown,
                json: json_path,
            })
        }
        Err(e) => {
            op.fail(&e.to_string())?;
            Err(e)
        }
    }
}

fn write_report(real: &Workspace, report: &DrillReport) -> Result<(PathBuf, PathBuf), DrillError> {
    let dir = real.subdir("drills")?;
    let md = dir.join(format!("{}.md", report.id));
    let js = dir.join(format!("{}.json", report.id));
    let mut json_bytes = serde_json::to_vec_pretty(report).unwrap_or_default();
    json_bytes.push(b'\n');
    fsutil::write_new_checked(&js, &json_bytes, |b| {
        serde_json::from_slice::<DrillReport>(b)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    fsutil::write_new(&md, render_markdown(report).as_bytes())?;
    real.update_registry(|r| {
        r.drills.push(DrillRecord {
            id: report.id.clone(),
            date: report.finished_at.clone(),
            passed: Some(report.passed),
            participants: report.participants.clone(),
            report: Some(md.clone()),
        });
        Ok::<_, WorkspaceError>(())
    })?;
    Ok((md, js))
}

/// The Markdown drill report.
pub fn render_markdown(r: &DrillReport) -> String {
    let mut out = String::new();
    let verdict = if r.passed { "PASSED" } else { "FAILED" };
    out.push_str(&format!(
        "# Quarterly recovery drill {} — {verdict}\n\n",
        r.id
    ));
    out.push_str(&format!(
        "- Started: {}\n- Finished: {}\n",
        r.started_at, r.finished_at
    ));
    out.push_str(&format!("- Participants: {}\n", r.participants.join(", ")));
    out.push_str(&format!(
        "- Sandbox: `{}` (synthetic material only)\n",
        r.sandbox.display()
    ));
    out.push_str(&format!("- Setup: {:.1} s\n", r.setup_ms as f64 / 1000.0));
    out.push_str(&format!(
        "- Sandbox audit head: `{}`\n\n",
        r.sandbox_audit_head
    ));
    out.push_str("| # | Scenario | Result | Duration |\n|---|---|---|---|\n");
    for s in &r.scenarios {
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} s |\n",
            s.number,
            s.title,
            if s.passed { "pass" } else { "FAIL" },
            s.duration_ms as f64 / 1000.0
        ));
    }
    for s in &r.scenarios {
        out.push_str(&format!("\n## Scenario {}: {}\n\n", s.number, s.title));
        for o in &s.operations {
            out.push_str(&format!("- {o}\n"));
        }
        out.push('\n');
        for c in &s.checks {
            out.push_str(&format!(
                "- [{}] {}\n",
                if c.ok { "x" } else { " " },
                c.what
            ));
        }
        if let Some(e) = &s.error {
            out.push_str(&format!("\n**Stopped:** {e}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_sandbox_is_a_sibling_named_after_the_drill() {
        let dir = tempfile::tempdir().unwrap();
        let real = Workspace::open(dir.path().join("ws")).unwrap();
        let id = new_drill_id();
        assert!(is_drill_id(&id), "{id}");
        for bad in [
            "",
            "DRILL-2026112-abcdef",
            "DRILL-20261122-ABCDEF",
            "../../x-20261122-abcdef",
            "DRILL-20261122-abcdef/",
        ] {
            assert!(!is_drill_id(bad), "{bad}");
        }
        let sandbox = default_sandbox(&real, &id);
        assert_eq!(sandbox.parent(), real.root().parent());
        assert_eq!(
            sandbox.file_name().unwrap().to_string_lossy(),
            format!("ws-{}", id.to_lowercase())
        );
    }
}
