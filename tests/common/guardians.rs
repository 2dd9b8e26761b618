//! A workspace where a key is already split among guardians, for the
//! rebuild wizard's tests (TestBackend and tmux).

use std::path::PathBuf;

use custodian_core::guardians;
use custodian_core::identity;
use custodian_core::workspace::Workspace;
use secrecy::SecretString;

/// The guardians' passphrases, in share order.
pub const ANA: &str = "amber kettle saddle morsel quiver lagoon";
pub const BEN: &str = "bramble ditto velvet harbor pluck sierra";
pub const CY: &str = "cobalt thimble orchid wagon lumber fiesta";

/// Vic's key (passphrase [`super::PASS_A`]) split 2-of-3 among Ana, Ben and
/// Cy in `sb`'s workspace; the share files, in share order.
pub fn split_vic(sb: &super::Sandbox) -> (Workspace, Vec<PathBuf>) {
    let ws = Workspace::open(sb.ws()).unwrap();
    let pass = SecretString::from(super::PASS_A);
    let created = identity::create_identity(&ws, "Vic", &pass, None).unwrap();
    let outcome = guardians::split(
        &ws,
        guardians::SplitRequest {
            identity_path: &created.path,
            identity_passphrase: &pass,
            threshold: 2,
            guardians: [("Ana", ANA), ("Ben", BEN), ("Cy", CY)]
                .map(|(n, p)| (n.to_string(), SecretString::from(p)))
                .to_vec(),
            out_dir: None,
        },
        &|_, _, _| {},
    )
    .unwrap();
    let files = outcome.shares.iter().map(|s| s.path.clone()).collect();
    (ws, files)
}
