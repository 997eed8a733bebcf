//! `sso-admin-assignment`: a person holds an admin-equivalent permission set on an account.
//! One finding per person per account, with every path (directly or through a group, and
//! which permission set and role): the row an access review signs.
//!
//! "Admin-equivalent" is the verdict on the account's role for the permission set, so SCPs,
//! the permission set's boundary and escalation paths all count, as for `admin-access`. A
//! potential path (through a resource the snapshot does not list) does not make the set
//! admin-equivalent here: `admin-access` reports it on the role, naming these people.

use super::{fix, AccountContext, Check, Family, Input};
use crate::access::join::{Grant, Person};
use crate::access::roster::{judge, AdminEquivalent};
use crate::findings::{Finding, ResourceType, Severity};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

pub const CHECK: Check = Check {
    id: "sso-admin-assignment",
    title: "Person holds an admin-equivalent permission set on the account",
    severity: Severity::High,
    references: &["AWS IAM Identity Center User Guide: Permission sets"],
    remediation: "Decide in the access review whether this person needs admin on this account. If not, the \
                  finding's command removes each path: a direct assignment (aws sso-admin \
                  delete-account-assignment), or the person's membership of the group (aws identitystore \
                  delete-group-membership), which ends everything that group gives them, on every account; \
                  remove the group's assignment on this account instead if no member needs it. Give day-to-day \
                  work a narrower permission set.",
    family: Family::AdminPower,
    needs: &[Input::AuthorizationDetails, Input::IdentityCenter],
    run,
};

#[derive(Serialize)]
struct Path<'a> {
    permission_set: &'a str,
    via_group: Option<&'a str>,
    role_arn: Option<&'a str>,
    admin_equivalent: AdminEquivalent,
    how: String,
}

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(access) = context.access() else { return Vec::new() };
    let verdicts: HashMap<&str, _> = context.admin_verdicts().iter().map(|v| (v.arn.as_str(), v)).collect();
    let mut by_person: BTreeMap<&Person, Vec<(&Grant, AdminEquivalent, String)>> = BTreeMap::new();
    for grant in &access.grants {
        let Some(role) = &grant.role_arn else { continue };
        let (admin, how) = judge(verdicts.get(role.as_str()).map(|v| &v.standing));
        if admin.is_admin() {
            by_person.entry(&grant.person).or_default().push((grant, admin, how));
        }
    }
    let account = if context.account.account_name.is_empty() {
        context.account.account_id.to_string()
    } else {
        format!("{} ({})", context.account.account_id, context.account.account_name)
    };
    by_person
        .into_iter()
        .map(|(person, grants)| {
            let certain = grants.iter().any(|(_, admin, _)| *admin == AdminEquivalent::Yes);
            let sets: Vec<&str> = {
                let mut sets: Vec<&str> = grants.iter().map(|(g, _, _)| g.permission_set.as_str()).collect();
                sets.dedup();
                sets
            };
            let described: Vec<String> =
                grants.iter().map(|(g, _, how)| format!("{} ({how})", g.path())).collect();
            let paths: Vec<Path> = grants
                .iter()
                .map(|(g, admin, how)| Path {
                    permission_set: &g.permission_set,
                    via_group: g.via_group.as_deref(),
                    role_arn: g.role_arn.as_deref(),
                    admin_equivalent: *admin,
                    how: how.clone(),
                })
                .collect();
            let grants_here: Vec<&Grant> = grants.iter().map(|(g, _, _)| *g).collect();
            let builder = context
                .finding(&CHECK, ResourceType::Person, &person.arn(), person.name())
                .command(removals(context, person, &grants_here))
                .console(grants_here.first().and_then(|g| fix::permission_set_page(&g.permission_set_arn)))
                .title(if certain {
                    format!(
                        "{} holds admin on {account} through permission set {}",
                        person.label(),
                        sets.join(", ")
                    )
                } else {
                    format!(
                        "{} may act as admin on {account} through permission set {} (conditional)",
                        person.label(),
                        sets.join(", ")
                    )
                })
                .detail(format!(
                    "{} can sign in to {account} as admin: {}.{}",
                    person.label(),
                    described.join("; "),
                    if certain { "" } else { " Only under the conditions named." }
                ))
                .evidence("user_id", &person.user_id)
                .evidence("user_name", &person.user_name)
                .evidence("display_name", &person.display_name)
                .evidence("email", &person.email)
                .evidence("paths", &paths)
                .evidence("conditional", !certain);
            if certain { builder } else { builder.severity(Severity::Medium) }.build()
        })
        .collect()
}

/// The commands that take each path away, after the decision.
fn removals(context: &AccountContext, person: &Person, grants: &[&Grant]) -> String {
    let account = context.account.account_id.as_str();
    let decide = fix::note(&format!("if {} does not need admin on this account:", person.name()));
    let paths = grants.iter().take(5).filter_map(|grant| match &grant.group_membership {
        None => fix::delete_assignment(
            &grant.permission_set_arn,
            account,
            "--principal-type USER",
            &person.user_id,
        ),
        Some((group_id, membership)) => {
            let store = identity_store(context, &grant.permission_set_arn)?;
            let lookup = || {
                fix::Command::aws("identitystore get-group-membership-id")
                    .arg("--identity-store-id", store)
                    .arg("--group-id", group_id)
                    .arg("--member-id", &format!("UserId={}", person.user_id))
                    .raw("--query MembershipId --output text")
            };
            let command = fix::Command::aws("identitystore delete-group-membership")
                .arg("--identity-store-id", store)
                .arg_or_lookup("--membership-id", membership.as_deref(), lookup);
            Some(command.text())
        }
    });
    fix::lines(std::iter::once(decide).chain(paths))
}

/// The identity store of the instance a permission set belongs to (instances.json), or of the
/// only instance there is.
fn identity_store<'c>(context: &'c AccountContext, permission_set_arn: &str) -> Option<&'c str> {
    let instances = &context.directory?.identity_center.instances;
    let instance = fix::instance_arn(permission_set_arn);
    let found = instances.iter().find(|i| Some(&i.instance_arn) == instance.as_ref());
    match (found, instances.as_slice()) {
        (Some(found), _) | (None, [found]) => Some(&found.identity_store_id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::sso_test_support::{fixture, ADMIN_ROLE, READ_ROLE};

    fn names(findings: &[Finding]) -> Vec<String> {
        findings.iter().map(|f| f.resource_name.clone()).collect()
    }

    #[test]
    fn one_finding_per_person_holding_admin_here_with_every_path() {
        let assignments = [
            ("Admin", "USER", "u-alice"),
            ("Admin", "GROUP", "g-ops"),
            ("Admin", "USER", "u-bob"),
            ("Read_Only", "USER", "u-dave"),
        ];
        let (account, directory) = fixture(&[ADMIN_ROLE, READ_ROLE], &assignments);
        let found = account.run_with(&CHECK, &directory);
        // dave has read-only access: not an admin, not a finding.
        assert_eq!(names(&found), ["alice", "bob", "carol"]);
        let bob = &found[1];
        assert_eq!(bob.resource_arn, "arn:aws:identitystore:::user/u-bob");
        let evidence = bob.evidence.value();
        assert_eq!(evidence["paths"].as_array().unwrap().len(), 2, "directly and through ops: {evidence}");
        assert_eq!(evidence["email"], "bob@acme.example");
        assert!(bob.detail.contains("bob → group ops → permission set Admin"), "{}", bob.detail);
        assert_eq!(bob.severity, Severity::High);
    }

    #[test]
    fn no_finding_without_an_assignment_on_this_account_or_without_the_role() {
        // Assignments on the other account never grant this one.
        let (account, directory) = fixture(&[ADMIN_ROLE], &[("Admin", "USER", "u-alice@other")]);
        assert!(account.run_with(&CHECK, &directory).is_empty());
        // The role is missing: that is drift, not an admin finding.
        let (account, directory) = fixture(&[READ_ROLE], &[("Admin", "USER", "u-alice")]);
        assert!(account.run_with(&CHECK, &directory).is_empty());
    }

    #[test]
    fn the_command_removes_each_path_with_the_real_ids() {
        use crate::checks::sso_test_support::{sso_admin, ADMIN_SET};
        use crate::checks::test_support::{command_of, ACCOUNT};
        let assignments = [("Admin", "GROUP", "g-ops"), ("Admin", "USER", "u-bob")];
        let (account, directory) = fixture(&[ADMIN_ROLE], &assignments);
        let found = account.run_with(&CHECK, &directory);
        let (bob, carol) = (&found[0], &found[1]);
        command_of(
            bob,
            &[
                "# if bob does not need admin on this account:",
                "aws identitystore delete-group-membership --identity-store-id d-1234567890 --membership-id m-bob-ops",
                &format!(
                    "{} --target-type AWS_ACCOUNT --target-id {ACCOUNT} --principal-type USER --principal-id u-bob",
                    sso_admin("delete-account-assignment", ADMIN_SET)
                ),
            ],
        );
        // Carol's membership id was not recorded: the command looks it up.
        command_of(
            carol,
            &["--membership-id \"$(aws identitystore get-group-membership-id --identity-store-id d-1234567890 \
               --group-id g-ops --member-id 'UserId=u-carol' --query MembershipId --output text)\""],
        );
        assert!(bob
            .console_url
            .as_deref()
            .unwrap()
            .ends_with("/instances/1/permission-sets/details/ps-admin"));
    }
}
