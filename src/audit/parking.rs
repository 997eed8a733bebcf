//! Each account's state between its first pass and its late pass: its admin verdicts, its
//! side of the Identity Center join and the users and roles the roster lists. The late pass
//! waits for the organization-wide escalation pass, which needs every account first, so this
//! state would otherwise be held for every account at once and grow with the organization.
//! A streamed run parks it in a file of its spill folder (one JSON document per account, read
//! back once by position); an audit held in memory keeps it as it is.
//!
//! A state that cannot be written (a full disk) stays in memory as its encoded bytes, with a
//! warning: memory grows, nothing is lost.

use crate::access::join::AccountAccess;
use crate::access::roster::IamPrincipal;
use crate::policy::escalation::graph::Verdict;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// What an account's late pass needs of its first.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct LateState {
    /// Every user and role that holds, reaches or is capped from admin, by its own account's
    /// search (the organization pass adds to them).
    pub verdicts: Vec<Verdict>,
    /// None when Identity Center was not collected.
    pub access: Option<AccountAccess>,
    /// None when the account's IAM was not read.
    pub principals: Option<Vec<IamPrincipal>>,
}

/// A state made ready for parking on a worker thread.
pub enum Encoded {
    Held(Box<LateState>),
    Bytes(Vec<u8>),
}

/// Where one account's state waits.
pub enum Parked {
    Held(Box<LateState>),
    Bytes(Vec<u8>),
    Written { at: u64, len: usize },
}

struct Lot {
    path: PathBuf,
    writer: BufWriter<File>,
    at: u64,
    reader: Option<File>,
    /// The write failed once: later states stay in memory.
    failed: bool,
}

/// The parking file, or none (states held in memory).
pub struct Parking {
    lot: Option<Lot>,
}

impl Parking {
    pub fn in_memory() -> Parking {
        Parking { lot: None }
    }

    /// A parking file in `dir`; in memory (with a warning) when it cannot be made.
    pub fn in_dir(dir: &Path) -> Parking {
        let path = dir.join("late-state.spill");
        match File::create(&path) {
            Ok(file) => Parking {
                lot: Some(Lot { path, writer: BufWriter::new(file), at: 0, reader: None, failed: false }),
            },
            Err(e) => {
                tracing::warn!(
                    "cannot create {}: {e}; each account's escalation state is held in memory until the late pass",
                    path.display()
                );
                Parking::in_memory()
            }
        }
    }

    /// Encodes `state` for the file (on the caller's thread), or keeps it as it is.
    pub fn encode(&self, state: LateState) -> Encoded {
        if self.lot.is_none() {
            return Encoded::Held(Box::new(state));
        }
        match serde_json::to_vec(&state) {
            Ok(bytes) => Encoded::Bytes(bytes),
            // Plain data: encoding does not fail; if it did, the state is still kept.
            Err(_) => Encoded::Held(Box::new(state)),
        }
    }

    pub fn park(&mut self, encoded: Encoded) -> Parked {
        let bytes = match encoded {
            Encoded::Held(state) => return Parked::Held(state),
            Encoded::Bytes(bytes) => bytes,
        };
        let Some(lot) = self.lot.as_mut().filter(|lot| !lot.failed) else { return Parked::Bytes(bytes) };
        match lot.writer.write_all(&bytes) {
            Ok(()) => {
                let parked = Parked::Written { at: lot.at, len: bytes.len() };
                lot.at += bytes.len() as u64;
                parked
            }
            Err(e) => {
                lot.failed = true;
                tracing::warn!(
                    "cannot write {}: {e}; the remaining accounts' escalation state is held in memory",
                    lot.path.display()
                );
                Parked::Bytes(bytes)
            }
        }
    }

    /// Ends the writing: every state parked so far can be taken back.
    pub fn close(&mut self) -> Result<(), String> {
        let Some(lot) = self.lot.as_mut() else { return Ok(()) };
        let path = lot.path.display();
        lot.writer.flush().map_err(|e| format!("cannot write {path}: {e}"))?;
        lot.reader = Some(File::open(&lot.path).map_err(|e| format!("cannot read {path}: {e}"))?);
        Ok(())
    }

    /// The state parked as `parked` (after [`Parking::close`]).
    pub fn take(&self, parked: Parked) -> Result<LateState, String> {
        let bytes = match parked {
            Parked::Held(state) => return Ok(*state),
            Parked::Bytes(bytes) => bytes,
            Parked::Written { at, len } => {
                let lot = self.lot.as_ref().expect("a state was written, so there is a file");
                let reader =
                    lot.reader.as_ref().ok_or_else(|| format!("{} was not closed", lot.path.display()))?;
                let mut bytes = vec![0; len];
                reader
                    .read_exact_at(&mut bytes, at)
                    .map_err(|e| format!("cannot read {}: {e}", lot.path.display()))?;
                bytes
            }
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("the account's parked escalation state is unreadable: {e}"))
    }
}

impl Drop for Parking {
    fn drop(&mut self) {
        if let Some(lot) = &self.lot {
            let _ = std::fs::remove_file(&lot.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::join::{Grant, Person, ReservedRole};
    use crate::policy::escalation::catalogue::Category;
    use crate::policy::escalation::graph::{Escalation, Standing, Step};
    use crate::policy::escalation::principal::NodeKind;

    fn state(name: &str) -> LateState {
        let arn = format!("arn:aws:iam::111122223333:role/{name}");
        let step = Step {
            principal: arn.clone(),
            path_id: "sts-001",
            category: Category::PrincipalAccess,
            actions: vec!["sts:AssumeRole"],
            target: "arn:aws:iam::444455556666:role/admin".into(),
            effect: "assumes role admin in account 444455556666".into(),
            conditions: vec!["aws:MultiFactorAuthPresent is true".into()],
            potential: true,
        };
        LateState {
            verdicts: vec![crate::policy::escalation::graph::Verdict {
                kind: NodeKind::Role,
                arn: arn.clone(),
                name: name.into(),
                standing: Standing::Escalates(Escalation {
                    steps: vec![step],
                    admin_node: "arn:aws:iam::444455556666:role/admin".into(),
                    conditions: Vec::new(),
                    potential: true,
                }),
                service_linked: false,
                sso_permission_set: None,
                unknown_policies: vec!["policy/Gone".into()],
            }],
            access: Some(AccountAccess {
                roles: vec![ReservedRole {
                    arn: arn.clone(),
                    name: name.into(),
                    permission_set: "Admin".into(),
                    permission_set_arn: None,
                }],
                grants: vec![Grant {
                    person: Person {
                        user_id: "u-1".into(),
                        user_name: Some("alice".into()),
                        display_name: None,
                        email: None,
                    },
                    permission_set: "Admin".into(),
                    permission_set_arn: "arn:aws:sso:::permissionSet/ssoins-1/ps-1".into(),
                    via_group: Some("ops".into()),
                    group_membership: Some(("g-ops".into(), Some("m-1".into()))),
                    role_arn: Some(arn.clone()),
                }],
                drift: Vec::new(),
                roles_known: true,
            }),
            principals: Some(vec![IamPrincipal {
                kind: NodeKind::Role,
                name: name.into(),
                arn,
                reserved: true,
            }]),
        }
    }

    fn same(a: &LateState, b: &LateState) {
        assert_eq!(serde_json::to_value(a).unwrap(), serde_json::to_value(b).unwrap());
        assert_eq!(a.verdicts[0].standing, b.verdicts[0].standing);
    }

    #[test]
    fn a_parked_state_comes_back_whole_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut parking = Parking::in_dir(dir.path());
        let mut tickets = Vec::new();
        for name in ["a", "b", "c"] {
            let encoded = parking.encode(state(name));
            tickets.push(parking.park(encoded));
        }
        assert!(tickets.iter().all(|t| matches!(t, Parked::Written { .. })), "parked in the file");
        parking.close().unwrap();
        // Taken back in another order than written.
        for (ticket, name) in tickets.into_iter().zip(["a", "b", "c"]).rev() {
            same(&parking.take(ticket).unwrap(), &state(name));
        }
        drop(parking);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the file goes with the parking");
    }

    #[test]
    fn without_a_file_the_state_is_held() {
        let mut parking = Parking::in_memory();
        let encoded = parking.encode(state("a"));
        let ticket = parking.park(encoded);
        assert!(matches!(ticket, Parked::Held(_)));
        parking.close().unwrap();
        same(&parking.take(ticket).unwrap(), &state("a"));
    }

    #[test]
    fn a_folder_that_cannot_hold_the_file_keeps_the_states_in_memory() {
        let mut parking = Parking::in_dir(Path::new("/nonexistent/iam-auditor/spill"));
        let encoded = parking.encode(state("a"));
        let ticket = parking.park(encoded);
        parking.close().unwrap();
        same(&parking.take(ticket).unwrap(), &state("a"));
    }

    #[test]
    fn a_step_naming_a_path_the_catalogue_lacks_is_refused() {
        let mut value = serde_json::to_value(state("a")).unwrap();
        value["verdicts"][0]["standing"]["steps"][0]["path_id"] = "zz-999".into();
        let parked = Parked::Bytes(serde_json::to_vec(&value).unwrap());
        let error = Parking::in_memory().take(parked).unwrap_err();
        assert!(error.contains("zz-999"), "{error}");
    }
}
