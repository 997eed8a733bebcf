//! The join: each account's `AWSReservedSSO_*` roles → their permission set → that
//! account's assignments → the people, directly or through a group.
//!
//! The link is exact (DESIGN.md, "Identity Center: the join"):
//! - a role is an Identity Center role only under `/aws-reserved/sso.amazonaws.com/` and
//!   named `AWSReservedSSO_<set name>_<16 lowercase hex>`;
//! - its permission set is the one of exactly that name (case-sensitive). Names are unique
//!   within an Identity Center instance; where two permission sets share a name (files of two
//!   instances), only one provisioned to the role's account counts, and if that leaves none or
//!   several, the role is linked to none and the finding says why;
//! - an assignment counts only on its own account: an assignment on account A never grants
//!   account B, even where the same permission set is provisioned to both.

use crate::snapshot::authorization::{sso_permission_set, IamGraph};
use crate::snapshot::identity_center::{
    AccountAssignment, Coverage, Group, IdentityCenter, PermissionSet, User,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One person of the identity store, as the findings and the roster name them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Person {
    pub user_id: String,
    /// None when users.json was not collected: the person is known by id only.
    pub user_name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

impl Person {
    fn of(user: &User) -> Person {
        Person {
            user_id: user.user_id.clone(),
            user_name: Some(user.user_name.clone()).filter(|n| !n.is_empty()),
            display_name: user.display_name.clone().filter(|n| !n.is_empty()),
            email: user.email().map(str::to_string).filter(|e| !e.is_empty()),
        }
    }

    fn unnamed(user_id: &str) -> Person {
        Person { user_id: user_id.to_string(), user_name: None, display_name: None, email: None }
    }

    /// The identity store user's ARN, the resource of a finding about the person.
    pub fn arn(&self) -> String {
        format!("arn:aws:identitystore:::user/{}", self.user_id)
    }

    /// The user name, else the id.
    pub fn name(&self) -> &str {
        self.user_name.as_deref().unwrap_or(&self.user_id)
    }

    /// `alice@acme.example (Alice Nguyen, alice@acme.example)`: what a reader recognises.
    pub fn label(&self) -> String {
        let extra: Vec<&str> = [self.display_name.as_deref(), self.email.as_deref()]
            .into_iter()
            .flatten()
            .filter(|e| *e != self.name())
            .collect();
        if extra.is_empty() {
            self.name().to_string()
        } else {
            format!("{} ({})", self.name(), extra.join(", "))
        }
    }
}

/// One way a person may use a permission set on one account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    pub person: Person,
    pub permission_set: String,
    pub permission_set_arn: String,
    /// The group the assignment names, when it is not the person directly.
    pub via_group: Option<String>,
    /// That group's id and the person's membership id in it (None when group-memberships.json
    /// did not record it): what removing the person from the group takes. Kept when the
    /// account's state is parked between its passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_membership: Option<(String, Option<String>)>,
    /// The account's role for the permission set; None when it is not in the account (or
    /// the account's roles were not read).
    pub role_arn: Option<String>,
}

impl Grant {
    /// `alice → group Admins → permission set AdministratorAccess → role/…`.
    pub fn path(&self) -> String {
        let mut path = vec![self.person.name().to_string()];
        if let Some(group) = &self.via_group {
            path.push(format!("group {group}"));
        }
        path.push(format!("permission set {}", self.permission_set));
        if let Some(role) = &self.role_arn {
            path.push(format!("role {}", role.rsplit('/').next().unwrap_or(role)));
        }
        path.join(" → ")
    }
}

/// An account's Identity Center role and what it is linked to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReservedRole {
    pub arn: String,
    pub name: String,
    /// The permission set name the role's name carries.
    pub permission_set: String,
    /// The permission set it is linked to; None when the link failed (see `drift`).
    pub permission_set_arn: Option<String>,
}

/// Where Identity Center and the account disagree, and why it matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Drift {
    /// A provisioned role that no assignment on this account lets anyone use.
    RoleWithoutAssignment { role_arn: String, role_name: String, permission_set: String },
    /// A reserved role whose permission set is not in Identity Center (deleted, or of
    /// another instance), or whose name two permission sets share.
    RoleWithoutPermissionSet { role_arn: String, role_name: String, permission_set: String, reason: String },
    /// Assignments on this account whose role is missing from it.
    AssignmentWithoutRole { permission_set: String, permission_set_arn: String, principals: Vec<String> },
    /// An assignment to a user no longer in the identity store.
    DeletedUser { permission_set: String, permission_set_arn: String, user_id: String },
    /// An assignment to a group no longer in the identity store.
    DeletedGroup { permission_set: String, permission_set_arn: String, group_id: String },
    /// An assignment to a group without members.
    EmptyGroup { permission_set: String, permission_set_arn: String, group_id: String, group: String },
}

/// One account's side of the join.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AccountAccess {
    pub roles: Vec<ReservedRole>,
    /// Every (person, permission set, group) that lets someone in, in assignment order.
    pub grants: Vec<Grant>,
    pub drift: Vec<Drift>,
    /// False when the account's roles were not read: assignments cannot be checked against
    /// roles, and no role drift is reported.
    pub roles_known: bool,
}

impl AccountAccess {
    /// The people who can use `role_arn`, each with the group it comes through.
    pub fn grants_of_role<'s>(&'s self, role_arn: &'s str) -> impl Iterator<Item = &'s Grant> + 's {
        self.grants.iter().filter(move |g| g.role_arn.as_deref() == Some(role_arn))
    }

    /// The permission set an Identity Center role of the account is linked to.
    pub fn permission_set_of_role(&self, role_arn: &str) -> Option<&str> {
        self.roles.iter().find(|r| r.arn == role_arn)?.permission_set_arn.as_deref()
    }
}

/// Identity Center indexed for the join; built once per run when it was collected.
pub struct Directory<'a> {
    pub coverage: Coverage,
    /// The account that runs Identity Center (management or delegated admin), when known.
    pub owner_account: Option<String>,
    pub identity_center: &'a IdentityCenter,
    pub permission_sets: &'a [PermissionSet],
    sets_by_arn: HashMap<&'a str, &'a PermissionSet>,
    sets_by_name: HashMap<&'a str, Vec<&'a PermissionSet>>,
    assignments: HashMap<&'a str, Vec<&'a AccountAssignment>>,
    users: Option<HashMap<&'a str, &'a User>>,
    groups: Option<HashMap<&'a str, &'a Group>>,
    /// Group id → its members.
    members: Option<HashMap<&'a str, Vec<Member<'a>>>>,
}

/// A member of a group: the user id, and the membership's id when it was recorded.
type Member<'a> = (&'a str, Option<&'a str>);

impl<'a> Directory<'a> {
    /// None when Identity Center was not collected (its coverage says why).
    pub fn new(ic: &'a IdentityCenter) -> Option<Directory<'a>> {
        let coverage = ic.coverage();
        if matches!(coverage, Coverage::NotCollected(_)) {
            return None;
        }
        let permission_sets = ic.permission_sets.as_deref().unwrap_or_default();
        let mut sets_by_name: HashMap<&str, Vec<&PermissionSet>> = HashMap::new();
        for set in permission_sets {
            sets_by_name.entry(set.name.as_str()).or_default().push(set);
        }
        let mut assignments: HashMap<&str, Vec<&AccountAssignment>> = HashMap::new();
        for assignment in ic.assignments.iter().flatten() {
            assignments.entry(assignment.account_id.as_str()).or_default().push(assignment);
        }
        let members = ic.memberships.as_ref().map(|memberships| {
            let mut members: HashMap<&str, Vec<Member>> = HashMap::new();
            for m in memberships {
                if let Some(user) = &m.member_id.user_id {
                    let membership = m.membership_id.as_deref();
                    members.entry(m.group_id.as_str()).or_default().push((user.as_str(), membership));
                }
            }
            members
        });
        Some(Directory {
            coverage,
            owner_account: ic.instances.iter().find_map(|i| i.owner_account_id.clone()),
            identity_center: ic,
            permission_sets,
            sets_by_arn: permission_sets.iter().map(|s| (s.permission_set_arn.as_str(), s)).collect(),
            sets_by_name,
            assignments,
            users: ic.users.as_ref().map(|u| u.iter().map(|u| (u.user_id.as_str(), u)).collect()),
            groups: ic.groups.as_ref().map(|g| g.iter().map(|g| (g.group_id.as_str(), g)).collect()),
            members,
        })
    }

    /// The permission set a reserved role of `account` is linked to, or why none.
    fn link(&self, account: &str, set_name: &str) -> Result<&'a PermissionSet, String> {
        let named = self.sets_by_name.get(set_name).map(Vec::as_slice).unwrap_or_default();
        let provisioned: Vec<&PermissionSet> =
            named.iter().copied().filter(|s| s.account_ids.iter().any(|a| a == account)).collect();
        match (named, provisioned.as_slice()) {
            ([], _) => Err(format!("Identity Center has no permission set named {set_name}")),
            (_, [one]) | ([one], []) => Ok(one),
            (_, []) => Err(format!(
                "{} permission sets are named {set_name} and none is provisioned to this account",
                named.len()
            )),
            (_, several) => Err(format!(
                "{} permission sets named {set_name} are provisioned to this account ({}); the role cannot be \
                 told apart",
                several.len(),
                several.iter().map(|s| s.permission_set_arn.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    fn set_name(&self, arn: &str) -> String {
        match self.sets_by_arn.get(arn) {
            Some(set) => set.name.clone(),
            None => arn.rsplit('/').next().unwrap_or(arn).to_string(),
        }
    }

    fn person(&self, user_id: &str) -> Option<Person> {
        match &self.users {
            Some(users) => users.get(user_id).map(|u| Person::of(u)),
            None => Some(Person::unnamed(user_id)),
        }
    }

    /// Joins one account: its reserved roles (from `graph`, when read) with the
    /// assignments made on it.
    pub fn account(&self, account: &str, graph: Option<&IamGraph>) -> AccountAccess {
        let mut out = AccountAccess { roles_known: graph.is_some(), ..Default::default() };
        // Permission set ARN → the account's role for it.
        let mut role_of_set: HashMap<&str, &str> = HashMap::new();
        for role in graph.map(|g| g.roles.as_slice()).unwrap_or_default() {
            let Some(set_name) = sso_permission_set(&role.path, &role.name) else { continue };
            let linked = match self.link(account, set_name) {
                Ok(set) => {
                    role_of_set.entry(set.permission_set_arn.as_str()).or_insert(role.arn.as_str());
                    Some(set.permission_set_arn.clone())
                }
                Err(reason) => {
                    out.drift.push(Drift::RoleWithoutPermissionSet {
                        role_arn: role.arn.clone(),
                        role_name: role.name.clone(),
                        permission_set: set_name.to_string(),
                        reason,
                    });
                    None
                }
            };
            out.roles.push(ReservedRole {
                arn: role.arn.clone(),
                name: role.name.clone(),
                permission_set: set_name.to_string(),
                permission_set_arn: linked,
            });
        }

        // Assignments on this account, by permission set, in a stable order.
        let mut by_set: BTreeMap<&str, Vec<&AccountAssignment>> = BTreeMap::new();
        for assignment in self.assignments.get(account).map(Vec::as_slice).unwrap_or_default() {
            by_set.entry(assignment.permission_set_arn.as_str()).or_default().push(assignment);
        }
        for (set_arn, assignments) in &by_set {
            let set_name = self.set_name(set_arn);
            let role_arn = role_of_set.get(set_arn).map(|r| r.to_string());
            if out.roles_known && role_arn.is_none() {
                out.drift.push(Drift::AssignmentWithoutRole {
                    permission_set: set_name.clone(),
                    permission_set_arn: set_arn.to_string(),
                    principals: assignments.iter().map(|a| self.describe_principal(a)).collect(),
                });
            }
            for assignment in assignments {
                self.expand(assignment, &set_name, role_arn.as_deref(), &mut out);
            }
        }
        for role in &out.roles {
            let Some(set_arn) = &role.permission_set_arn else { continue };
            if !by_set.contains_key(set_arn.as_str()) {
                out.drift.push(Drift::RoleWithoutAssignment {
                    role_arn: role.arn.clone(),
                    role_name: role.name.clone(),
                    permission_set: role.permission_set.clone(),
                });
            }
        }
        out
    }

    /// `user alice@acme.example` / `group Admins` / `user 9067… (not in the identity store)`.
    fn describe_principal(&self, assignment: &AccountAssignment) -> String {
        let id = assignment.principal_id.as_str();
        if assignment.principal_type == "GROUP" {
            match self.groups.as_ref().map(|g| g.get(id)) {
                Some(Some(group)) => format!("group {}", group.display_name),
                Some(None) => format!("group {id} (not in the identity store)"),
                None => format!("group {id}"),
            }
        } else {
            match self.users.as_ref().map(|u| u.get(id)) {
                Some(Some(user)) => format!("user {}", user.user_name),
                Some(None) => format!("user {id} (not in the identity store)"),
                None => format!("user {id}"),
            }
        }
    }

    /// One assignment → the grants it makes (a person, or each member of a group), or drift.
    fn expand(
        &self,
        assignment: &AccountAssignment,
        set_name: &str,
        role_arn: Option<&str>,
        out: &mut AccountAccess,
    ) {
        let grant = |person: Person, via_group: Option<String>, membership: Option<&str>| Grant {
            person,
            permission_set: set_name.to_string(),
            permission_set_arn: assignment.permission_set_arn.clone(),
            group_membership: via_group
                .is_some()
                .then(|| (assignment.principal_id.clone(), membership.map(str::to_string))),
            via_group,
            role_arn: role_arn.map(str::to_string),
        };
        let id = assignment.principal_id.as_str();
        let set = || (set_name.to_string(), assignment.permission_set_arn.clone());
        if assignment.principal_type != "GROUP" {
            match self.person(id) {
                Some(person) => out.grants.push(grant(person, None, None)),
                None => {
                    let (permission_set, permission_set_arn) = set();
                    out.drift.push(Drift::DeletedUser {
                        permission_set,
                        permission_set_arn,
                        user_id: id.into(),
                    });
                }
            }
            return;
        }
        let name = match self.groups.as_ref().map(|g| g.get(id)) {
            Some(Some(group)) => group.display_name.clone(),
            Some(None) => {
                let (permission_set, permission_set_arn) = set();
                out.drift.push(Drift::DeletedGroup {
                    permission_set,
                    permission_set_arn,
                    group_id: id.into(),
                });
                return;
            }
            None => id.to_string(),
        };
        let Some(members) = &self.members else {
            // Memberships not collected: the group is named, its people are not known.
            return;
        };
        let people = members.get(id).map(Vec::as_slice).unwrap_or_default();
        if people.is_empty() {
            let (permission_set, permission_set_arn) = set();
            out.drift.push(Drift::EmptyGroup {
                permission_set,
                permission_set_arn,
                group_id: id.into(),
                group: name,
            });
            return;
        }
        for (user, membership) in people {
            // A member the identity store no longer lists is still named by id.
            let person = self.person(user).unwrap_or_else(|| Person::unnamed(user));
            out.grants.push(grant(person, Some(name.clone()), *membership));
        }
    }
}

#[cfg(test)]
#[path = "join_tests.rs"]
mod tests;
