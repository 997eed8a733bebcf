//! What an account hands from its first pass to later ones, parked on disk between them.
//! Two states wait so: what the organization-wide escalation pass needs of each account (its
//! export, read back as the pass needs it), and its late state (its admin verdicts, its side
//! of the Identity Center join and the users and roles the roster lists, read back once by
//! its late pass). Both wait for every account's first pass, so held in memory they would
//! grow with the organization. A streamed run parks them in files of its spill folder (one
//! JSON document per account, read back by position); an audit held in memory keeps them as
//! they are.
//!
//! A state that cannot be written (a full disk) stays in memory as its encoded bytes, with a
//! warning: memory grows, nothing is lost.

use crate::access::join::AccountAccess;
use crate::access::roster::IamPrincipal;
use crate::policy::escalation::graph::Verdict;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::marker::PhantomData;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What an account's late pass needs of its first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
pub enum Encoded<T> {
    Held(Box<T>),
    Bytes(Vec<u8>),
}

/// Where one account's state waits.
pub enum Parked<T> {
    Held(Arc<T>),
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

/// Encodes states for a [`Parking`] (see [`Parking::encoder`]).
pub struct Encoder<T> {
    to_file: bool,
    kind: PhantomData<fn() -> T>,
}

impl<T> Clone for Encoder<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Encoder<T> {}

impl<T: Serialize> Encoder<T> {
    /// Encodes `state` for the file (on the caller's thread), or keeps it as it is.
    pub fn encode(&self, state: T) -> Encoded<T> {
        if !self.to_file {
            return Encoded::Held(Box::new(state));
        }
        match serde_json::to_vec(&state) {
            Ok(bytes) => Encoded::Bytes(bytes),
            // Plain data: encoding does not fail; if it did, the state is still kept.
            Err(_) => Encoded::Held(Box::new(state)),
        }
    }
}

/// The parking file, or none (states held in memory). `what` names the state in messages.
pub struct Parking<T> {
    lot: Option<Lot>,
    what: &'static str,
    kind: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Parking<T> {
    pub fn in_memory(what: &'static str) -> Parking<T> {
        Parking { lot: None, what, kind: PhantomData }
    }

    /// A parking file `name` in the spill folder `dir`, when the run has one ([`Self::in_dir`]);
    /// else in memory.
    pub fn beside(dir: Option<&Path>, name: &str, what: &'static str) -> Parking<T> {
        match dir {
            Some(dir) => Parking::in_dir(dir, name, what),
            None => Parking::in_memory(what),
        }
    }

    /// A parking file `name` in `dir`; in memory (with a warning) when it cannot be made.
    pub fn in_dir(dir: &Path, name: &str, what: &'static str) -> Parking<T> {
        let path = dir.join(name);
        match File::create(&path) {
            Ok(file) => Parking {
                lot: Some(Lot { path, writer: BufWriter::new(file), at: 0, reader: None, failed: false }),
                what,
                kind: PhantomData,
            },
            Err(e) => {
                tracing::warn!(
                    "cannot create {}: {e}; each account's {what} is held in memory",
                    path.display()
                );
                Parking::in_memory(what)
            }
        }
    }

    /// What encodes states for this parking, to be used on worker threads while the calling
    /// thread parks the states encoded before.
    pub fn encoder(&self) -> Encoder<T> {
        Encoder { to_file: self.lot.is_some(), kind: PhantomData }
    }

    pub fn park(&mut self, encoded: Encoded<T>) -> Parked<T> {
        let bytes = match encoded {
            Encoded::Held(state) => return Parked::Held(Arc::from(state)),
            Encoded::Bytes(bytes) => bytes,
        };
        let what = self.what;
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
                    "cannot write {}: {e}; the remaining accounts' {what} is held in memory",
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

    /// A copy of the state parked as `parked` (after [`Parking::close`]), which stays parked.
    pub fn read(&self, parked: &Parked<T>) -> Result<Arc<T>, String> {
        let bytes = match parked {
            Parked::Held(state) => return Ok(state.clone()),
            Parked::Bytes(bytes) => return self.decode(bytes).map(Arc::new),
            Parked::Written { at, len } => {
                let lot = self.lot.as_ref().expect("a state was written, so there is a file");
                let reader =
                    lot.reader.as_ref().ok_or_else(|| format!("{} was not closed", lot.path.display()))?;
                let mut bytes = vec![0; *len];
                reader
                    .read_exact_at(&mut bytes, *at)
                    .map_err(|e| format!("cannot read {}: {e}", lot.path.display()))?;
                bytes
            }
        };
        self.decode(&bytes).map(Arc::new)
    }

    /// The state parked as `parked` (after [`Parking::close`]), taken back for good.
    pub fn take(&self, parked: Parked<T>) -> Result<T, String>
    where
        T: Clone,
    {
        match parked {
            Parked::Held(state) => Ok(Arc::unwrap_or_clone(state)),
            Parked::Bytes(bytes) => self.decode(&bytes),
            written => self.read(&written).map(Arc::unwrap_or_clone),
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, String> {
        serde_json::from_slice(bytes)
            .map_err(|e| format!("the account's parked {} is unreadable: {e}", self.what))
    }
}

impl<T> Drop for Parking<T> {
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
        let mut parking = Parking::in_dir(dir.path(), "late-state.spill", "escalation state");
        let mut tickets = Vec::new();
        for name in ["a", "b", "c"] {
            let encoded = parking.encoder().encode(state(name));
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
        let mut parking = Parking::<LateState>::in_memory("escalation state");
        let encoded = parking.encoder().encode(state("a"));
        let ticket = parking.park(encoded);
        assert!(matches!(ticket, Parked::Held(_)));
        parking.close().unwrap();
        same(&parking.take(ticket).unwrap(), &state("a"));
    }

    #[test]
    fn a_folder_that_cannot_hold_the_file_keeps_the_states_in_memory() {
        let mut parking = Parking::in_dir(
            Path::new("/nonexistent/iam-auditor/spill"),
            "late-state.spill",
            "escalation state",
        );
        let encoded = parking.encoder().encode(state("a"));
        let ticket = parking.park(encoded);
        parking.close().unwrap();
        same(&parking.take(ticket).unwrap(), &state("a"));
    }

    #[test]
    fn a_step_naming_a_path_the_catalogue_lacks_is_refused() {
        let mut value = serde_json::to_value(state("a")).unwrap();
        value["verdicts"][0]["standing"]["steps"][0]["path_id"] = "zz-999".into();
        let parked = Parked::Bytes(serde_json::to_vec(&value).unwrap());
        let error = Parking::<LateState>::in_memory("escalation state").take(parked).unwrap_err();
        assert!(error.contains("zz-999"), "{error}");
    }
}
