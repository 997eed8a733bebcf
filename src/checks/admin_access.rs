//! `admin-access`: users and roles that hold admin-equivalent permissions, or reach them
//! through a privilege-escalation path (any of the pathfinding.cloud catalogue's paths the
//! graph detects, across accounts where trust allows), with the path step by step.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use crate::policy::effective::PolicySource;
use crate::policy::escalation::graph::{short, Standing, Verdict};
use crate::policy::escalation::principal::NodeKind;

pub const CHECK: Check = Check {
    id: "admin-access",
    title: "Principal holds or can reach admin-equivalent permissions",
    severity: Severity::High,
    references: &[],
    remediation: "Decide whether the principal needs admin power; where it does, keep it on a small set of roles \
                  assumed with MFA. If not, the finding's command removes what grants it: it detaches the admin \
                  policy (aws iam detach-user-policy / aws iam detach-role-policy), takes the user out of the \
                  group (aws iam remove-user-from-group) or deletes the inline policy (aws iam delete-user-policy \
                  / aws iam delete-role-policy); give it least-privilege policies first. For an escalation path \
                  the command shows which statements allow the first step's actions (aws iam \
                  simulate-principal-policy): remove them, or scope them to resources that do not lead to admin \
                  (e.g. iam:PassRole with a Resource list and an iam:PassedToService condition), and check the \
                  result with `iam-auditor explain --why-admin`. For an Identity Center role the command lists \
                  who is assigned its permission set here (aws sso-admin list-account-assignments): the fix is \
                  the permission set or those assignments (see sso-admin-assignment), not the role.",
    family: Family::AdminPower,
    needs: &[Input::AuthorizationDetails],
    run,
};

fn conditions_sentence(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" This rests on conditions the snapshot cannot decide: {}.", conditions.join("; "))
    }
}

/// An Identity Center role's finding names the people who can use it on this account.
fn with_people<'a>(
    finding: crate::checks::FindingBuilder<'a>,
    context: &AccountContext,
    role_arn: &str,
    set: &str,
) -> crate::checks::FindingBuilder<'a> {
    let Some(access) = context.access() else {
        return finding
            .append_detail("Identity Center was not collected, so the people who can use it are not known.");
    };
    let grants: Vec<_> = access.grants_of_role(role_arn).collect();
    let people: Vec<serde_json::Value> = grants
        .iter()
        .map(|g| {
            serde_json::json!({
                "user_id": g.person.user_id, "user_name": g.person.user_name, "display_name": g.person.display_name,
                "email": g.person.email, "via_group": g.via_group,
            })
        })
        .collect();
    let sentence = if grants.is_empty() {
        format!("No one is assigned permission set {set} on this account.")
    } else {
        let named: Vec<String> = grants
            .iter()
            .map(|g| match &g.via_group {
                Some(group) => format!("{} via group {group}", g.person.label()),
                None => format!("{} (assigned directly)", g.person.label()),
            })
            .collect();
        format!("People who can use it: {}.", named.join("; "))
    };
    finding.append_detail(&sentence).evidence("people", people)
}

/// The command of a verdict's finding: what removes the admin grant (holds, capped), what
/// shows the statements behind an escalation's first step, or who uses an Identity Center role.
/// None for a service-linked role, which is AWS's to manage.
fn command(verdict: &Verdict, context: &AccountContext) -> Option<String> {
    if verdict.service_linked {
        return None;
    }
    if verdict.sso_permission_set.is_some() {
        let set = permission_set_arn(context, &verdict.arn)?;
        return fix::list_assignments(set, context.account.account_id.as_str());
    }
    let (noun, flag) = match verdict.kind {
        NodeKind::User => ("user", "--user-name"),
        _ => ("role", "--role-name"),
    };
    let decide =
        fix::note(&format!("if {noun} {} does not need admin, remove what grants it:", verdict.name));
    let granted_by = match &verdict.standing {
        Standing::NotAdmin => return None,
        Standing::Escalates(escalation) => {
            let first = escalation.steps.first()?;
            return Some(fix::lines([
                fix::note("the statements that allow the path's first step (remove them, or scope their resources):"),
                fix::Command::aws("iam simulate-principal-policy")
                    .arg("--policy-source-arn", &verdict.arn)
                    .args("--action-names", &first.actions)
                    .raw("--query EvaluationResults[].MatchedStatements")
                    .text(),
            ]));
        }
        Standing::Holds { granted_by, .. } | Standing::Capped { granted_by, .. } => granted_by,
    };
    let removals: Vec<String> =
        granted_by.iter().filter_map(|source| removal(source, noun, flag, &verdict.name)).take(5).collect();
    (!removals.is_empty()).then(|| fix::lines(std::iter::once(decide).chain(removals)))
}

/// The command that takes one grant away from a user or role.
fn removal(source: &PolicySource, noun: &str, flag: &'static str, name: &str) -> Option<String> {
    let user = noun == "user";
    let command = match (&source.via_group, &source.policy_arn) {
        // An SCP (its `p-…` id in the ARN's place) grants nothing to remove.
        (_, Some(id)) if id.starts_with("p-") => return None,
        (Some(group), _) if user => {
            fix::Command::aws("iam remove-user-from-group").arg("--group-name", group).arg(flag, name)
        }
        (Some(_), _) => return None,
        (None, Some(arn)) => {
            let detach = if user { "iam detach-user-policy" } else { "iam detach-role-policy" };
            fix::Command::aws(detach).arg(flag, name).arg("--policy-arn", arn)
        }
        (None, None) => {
            let delete = if user { "iam delete-user-policy" } else { "iam delete-role-policy" };
            fix::Command::aws(delete).arg(flag, name).arg("--policy-name", &source.policy)
        }
    };
    Some(command.text())
}

/// The permission set an Identity Center role of this account is linked to.
fn permission_set_arn<'c>(context: &'c AccountContext, role_arn: &str) -> Option<&'c str> {
    context.access()?.permission_set_of_role(role_arn)
}

fn run(context: &AccountContext) -> Vec<Finding> {
    let mut findings = Vec::new();
    for verdict in context.admin_verdicts() {
        let (kind, resource_type) = match verdict.kind {
            NodeKind::User => ("User", ResourceType::User),
            _ => ("Role", ResourceType::Role),
        };
        let who = match &verdict.sso_permission_set {
            Some(set) => format!("{kind} {} (IAM Identity Center permission set {set})", verdict.name),
            None => format!("{kind} {}", verdict.name),
        };
        let builder = context.finding(&CHECK, resource_type, &verdict.arn, &verdict.name);
        let finding = match &verdict.standing {
            Standing::NotAdmin => continue,
            Standing::Holds { holding, granted_by } => {
                let paths: Vec<String> = granted_by.iter().map(|s| s.describe()).collect();
                let detail = format!(
                    "{who} has {} through {}.{}",
                    holding.power.describe(),
                    if paths.is_empty() { "its policies".to_string() } else { paths.join("; ") },
                    conditions_sentence(&holding.conditions)
                );
                let builder = builder
                    .title(format!("{who} is admin-equivalent"))
                    .evidence("standing", "holds")
                    .evidence("power", &holding.power)
                    .evidence("granted_by", granted_by)
                    .evidence("conditional", !holding.conditions.is_empty())
                    .evidence("conditions", &holding.conditions);
                if verdict.service_linked {
                    // Managed by an AWS service: nothing to remediate, but auditors should see it.
                    builder.severity(Severity::Info).detail(format!(
                        "{detail} It is a service-linked role, managed by AWS and not editable."
                    ))
                } else {
                    builder.detail(detail)
                }
            }
            Standing::Escalates(escalation) => {
                let hops = escalation.steps.len();
                let mut detail = format!(
                    "{who} can reach admin in {hops} step(s): {}. {} holds admin at the end.{}",
                    escalation.describe(),
                    short(&escalation.admin_node),
                    conditions_sentence(&escalation.conditions)
                );
                let builder = builder
                    .title(format!(
                        "{who} can escalate to admin ({})",
                        escalation.steps.iter().map(|s| s.path_id).collect::<Vec<_>>().join(" → ")
                    ))
                    .evidence("standing", "escalates")
                    .evidence("path", &escalation.steps)
                    .evidence("admin_node", &escalation.admin_node)
                    .evidence("conditional", !escalation.conditions.is_empty())
                    .evidence("conditions", &escalation.conditions)
                    .evidence("potential", escalation.potential);
                if escalation.potential {
                    detail.push_str(
                        " Potential: a step takes over an existing resource that runs as a role (a function, \
                         instance, job …), which the IAM snapshot does not list; the path holds if such a \
                         resource exists.",
                    );
                    builder.severity(Severity::Medium).detail(detail)
                } else {
                    builder.detail(detail)
                }
            }
            Standing::Capped { power, granted_by, capped_by } => {
                let paths: Vec<String> = granted_by.iter().map(|s| s.describe()).collect();
                let what = match power {
                    crate::policy::admin::AdminPower::CanGrantItself { .. } => "could grant itself admin",
                    _ => "has admin policies",
                };
                builder
                    .title(format!("{who} {what}, capped by {}", capped_by.join(", ")))
                    .detail(format!(
                        "{who} would have {} through {}, but {} does not allow it, so it is not admin.",
                        power.describe(),
                        paths.join("; "),
                        capped_by.join(" and ")
                    ))
                    .severity(Severity::Info)
                    .evidence("standing", "capped")
                    .evidence("power", power)
                    .evidence("granted_by", granted_by)
                    .evidence("capped_by", capped_by)
            }
        };
        let finding = match &verdict.sso_permission_set {
            Some(set) => with_people(finding.evidence("permission_set", set), context, &verdict.arn, set),
            None => finding,
        };
        // An Identity Center role is changed through its permission set.
        let finding = match permission_set_arn(context, &verdict.arn).and_then(fix::permission_set_page) {
            Some(page) => finding.console(Some(page)),
            None => finding,
        };
        let finding = finding.command_if(command(verdict, context));
        let finding = if verdict.unknown_policies.is_empty() {
            finding
        } else {
            finding.evidence("policies_not_in_snapshot", &verdict.unknown_policies)
        };
        findings.push(finding.build());
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{role_arn, user_arn, Fixture};

    const STAR: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    const ADMIN_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

    fn gaad(users: &str, groups: &str, roles: &str, policies: &str) -> Fixture {
        Fixture::new().gaad(&format!(
            r#"{{"UserDetailList":[{users}],"GroupDetailList":[{groups}],"RoleDetailList":[{roles}],"Policies":[{policies}]}}"#
        ))
    }

    fn user(name: &str, extra: &str) -> String {
        format!(r#"{{"UserName":"{name}","Path":"/","Arn":"{}"{extra}}}"#, user_arn(name))
    }

    fn role(name: &str, extra: &str) -> String {
        format!(
            r#"{{"RoleName":"{name}","Path":"/","Arn":"{}","AssumeRolePolicyDocument":{{"Statement":[{{"Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole"}}]}}{extra}}}"#,
            role_arn(name)
        )
    }

    fn managed(name: &str, document: &str) -> String {
        format!(
            r#"{{"PolicyName":"{name}","Arn":"arn:aws:iam::111122223333:policy/{name}","DefaultVersionId":"v1","PolicyVersionList":[{{"VersionId":"v1","IsDefaultVersion":true,"Document":{document}}}]}}"#
        )
    }

    #[test]
    fn finds_direct_group_inline_and_customer_admin() {
        let fixture = gaad(
            &[
                user("direct", &format!(r#","AttachedManagedPolicies":[{{"PolicyName":"AdministratorAccess","PolicyArn":"{ADMIN_ARN}"}}]"#)),
                user("grouped", r#","GroupList":["Admins"]"#),
                user("inline", &format!(r#","UserPolicyList":[{{"PolicyName":"emergency","PolicyDocument":{STAR}}}]"#)),
                user("readonly-named", r#","AttachedManagedPolicies":[{"PolicyName":"ReadOnly","PolicyArn":"arn:aws:iam::111122223333:policy/ReadOnly"}]"#),
                user("plain", ""),
            ]
            .join(","),
            &format!(
                r#"{{"GroupName":"Admins","Arn":"arn:aws:iam::111122223333:group/Admins","AttachedManagedPolicies":[{{"PolicyName":"AdministratorAccess","PolicyArn":"{ADMIN_ARN}"}}]}}"#
            ),
            "",
            // Named "ReadOnly", grants everything: names mean nothing.
            &managed("ReadOnly", STAR),
        );
        let findings = fixture.run(&CHECK);
        let mut arns: Vec<&str> = findings.iter().map(|f| f.resource_arn.as_str()).collect();
        arns.sort();
        assert_eq!(
            arns,
            vec![&user_arn("direct"), &user_arn("grouped"), &user_arn("inline"), &user_arn("readonly-named")]
        );
        let grouped = findings.iter().find(|f| f.resource_name == "grouped").unwrap();
        assert!(grouped.detail.contains("via group Admins"), "{}", grouped.detail);
        assert_eq!(grouped.severity, Severity::High);
        assert_eq!(grouped.evidence.value()["power"]["kind"], "full");
    }

    #[test]
    fn builtin_administrator_access_is_known_without_its_document() {
        let fixture = gaad(
            &user(
                "direct",
                &format!(
                    r#","AttachedManagedPolicies":[{{"PolicyName":"AdministratorAccess","PolicyArn":"{ADMIN_ARN}"}}]"#
                ),
            ),
            "",
            "",
            "",
        );
        assert_eq!(fixture.arns(&CHECK), vec![user_arn("direct")]);
    }

    #[test]
    fn a_boundary_caps_admin_to_info_naming_it() {
        let boundary = managed(
            "DevBoundary",
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:*","logs:*"],"Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#,
        );
        let fixture = gaad(
            "",
            "",
            &role(
                "capped",
                &format!(
                    r#","AttachedManagedPolicies":[{{"PolicyName":"AdministratorAccess","PolicyArn":"{ADMIN_ARN}"}}],"PermissionsBoundary":{{"PermissionsBoundaryType":"Policy","PermissionsBoundaryArn":"arn:aws:iam::111122223333:policy/DevBoundary"}}"#
                ),
            ),
            &boundary,
        );
        let findings = fixture.run(&CHECK);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].severity, Severity::Info);
        assert!(findings[0].title.contains("DevBoundary"), "{}", findings[0].title);
    }

    #[test]
    fn a_boundary_it_may_delete_does_not_cap() {
        let boundary = managed(
            "LooseBoundary",
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:*","iam:DeleteRolePermissionsBoundary"],"Resource":"*"}]}"#,
        );
        let fixture = gaad(
            "",
            "",
            &role(
                "escapes",
                &format!(
                    r#","RolePolicyList":[{{"PolicyName":"all","PolicyDocument":{STAR}}}],"PermissionsBoundary":{{"PermissionsBoundaryArn":"arn:aws:iam::111122223333:policy/LooseBoundary"}}"#
                ),
            ),
            &boundary,
        );
        let findings = fixture.run(&CHECK);
        assert_eq!(findings[0].severity, Severity::High);
        assert!(findings[0].detail.contains("iam:DeleteRolePermissionsBoundary"), "{}", findings[0].detail);
        assert_eq!(findings[0].evidence.value()["standing"], "escalates");
    }

    #[test]
    fn self_escalation_is_admin_and_poweruser_is_not() {
        let put_self = r#"{"Statement":[{"Effect":"Allow","Action":"iam:PutUserPolicy","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}]}"#;
        let fixture = gaad(
            &[
                user("escalator", &format!(r#","UserPolicyList":[{{"PolicyName":"self","PolicyDocument":{put_self}}}]"#)),
                user("power", r#","AttachedManagedPolicies":[{"PolicyName":"PowerUserAccess","PolicyArn":"arn:aws:iam::aws:policy/PowerUserAccess"}]"#),
                user("iamfull", r#","AttachedManagedPolicies":[{"PolicyName":"IAMFullAccess","PolicyArn":"arn:aws:iam::aws:policy/IAMFullAccess"}]"#),
            ]
            .join(","),
            "",
            "",
            "",
        );
        let findings = fixture.run(&CHECK);
        let names: Vec<&str> = findings.iter().map(|f| f.resource_name.as_str()).collect();
        assert_eq!(names, vec!["escalator", "iamfull"]);
        let evidence = findings[0].evidence.value();
        assert_eq!(evidence["standing"], "escalates");
        assert_eq!(evidence["path"][0]["actions"][0], "iam:PutUserPolicy", "{evidence}");
        assert!(findings[0].detail.contains("gives itself an admin policy"), "{}", findings[0].detail);
    }

    #[test]
    fn an_explicit_deny_on_everything_cancels_admin() {
        let deny = r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
        let fixture = gaad(
            &user(
                "denied",
                &format!(
                    r#","UserPolicyList":[{{"PolicyName":"all","PolicyDocument":{STAR}}},{{"PolicyName":"quarantine","PolicyDocument":{deny}}}]"#
                ),
            ),
            "",
            "",
            "",
        );
        assert!(fixture.run(&CHECK).is_empty());
    }

    #[test]
    fn sso_roles_name_their_permission_set_and_service_linked_roles_are_info() {
        let sso = format!(
            r#"{{"RoleName":"AWSReservedSSO_AdministratorAccess_1a2b3c4d5e6f7a8b","Path":"/aws-reserved/sso.amazonaws.com/","Arn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_1a2b3c4d5e6f7a8b","AttachedManagedPolicies":[{{"PolicyName":"AdministratorAccess","PolicyArn":"{ADMIN_ARN}"}}]}}"#
        );
        let slr = format!(
            r#"{{"RoleName":"AWSServiceRoleForX","Path":"/aws-service-role/x.amazonaws.com/","Arn":"arn:aws:iam::111122223333:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX","RolePolicyList":[{{"PolicyName":"p","PolicyDocument":{STAR}}}]}}"#
        );
        let findings = gaad("", "", &format!("{sso},{slr}"), "").run(&CHECK);
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].evidence.value()["permission_set"], "AdministratorAccess");
        assert_eq!(findings[0].severity, Severity::High);
        assert_eq!(findings[1].severity, Severity::Info);
    }

    #[test]
    fn scps_cap_member_accounts_but_not_the_management_account_nor_service_linked_roles() {
        let accounts = |management: &str| {
            format!(
                r#"{{"Accounts":[{{"Id":"{management}","Arn":"arn:aws:organizations::{management}:account/o-abc/{management}","Name":"m","Status":"ACTIVE"}},
                    {{"Id":"111122223333","Arn":"arn:aws:organizations::{management}:account/o-abc/111122223333","Name":"member","Status":"ACTIVE"}}]}}"#
            )
        };
        let scps = r#"{"RootId":"r-root","Policies":[
            {"Id":"p-full","Name":"FullAWSAccess","Content":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]},"Targets":[{"TargetId":"r-root","Type":"ROOT"}]},
            {"Id":"p-noiam","Name":"NoIAM","Content":{"Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]},"Targets":[{"TargetId":"111122223333","Type":"ACCOUNT"}]}]}"#;
        let admin = role(
            "admin",
            &format!(
                r#","AttachedManagedPolicies":[{{"PolicyName":"AdministratorAccess","PolicyArn":"{ADMIN_ARN}"}}]"#
            ),
        );
        let service_linked = format!(
            r#"{{"RoleName":"AWSServiceRoleForX","Path":"/aws-service-role/x.amazonaws.com/","Arn":"arn:aws:iam::111122223333:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX","RolePolicyList":[{{"PolicyName":"p","PolicyDocument":{STAR}}}]}}"#
        );
        let roles = format!("{admin},{service_linked}");
        let gaad = format!(r#"{{"RoleDetailList":[{roles}]}}"#);

        // A member account: the SCP denying iam:* caps the admin role; the SLR is exempt.
        let member = Fixture::new().org(&accounts("999999999999"), Some(scps)).gaad(&gaad).run(&CHECK);
        assert_eq!(member[0].severity, Severity::Info);
        assert!(member[0].title.contains("SCP NoIAM"), "{}", member[0].title);
        assert_eq!(
            member[1].evidence.value()["power"]["kind"],
            "full",
            "service-linked roles are not subject to SCPs"
        );

        // The same account as the management account: SCPs do not apply.
        let management = Fixture::new().org(&accounts("111122223333"), Some(scps)).gaad(&gaad).run(&CHECK);
        assert_eq!(management[0].severity, Severity::High);
    }

    #[test]
    fn the_command_removes_each_grant_with_the_principals_real_names() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let fixture = gaad(
            &[
                user(HOSTILE, r#","GroupList":["Admins"]"#),
                user(
                    "inline",
                    &format!(r#","UserPolicyList":[{{"PolicyName":"emergency","PolicyDocument":{STAR}}}]"#),
                ),
            ]
            .join(","),
            &format!(
                r#"{{"GroupName":"Admins","Arn":"arn:aws:iam::111122223333:group/Admins","AttachedManagedPolicies":[{{"PolicyName":"AdministratorAccess","PolicyArn":"{ADMIN_ARN}"}}]}}"#
            ),
            &role(
                "deployer",
                &format!(
                    r#","AttachedManagedPolicies":[{{"PolicyName":"AdministratorAccess","PolicyArn":"{ADMIN_ARN}"}}]"#
                ),
            ),
            "",
        );
        let findings = fixture.run(&CHECK);
        let of = |name: &str| findings.iter().find(|f| f.resource_name == name).unwrap();
        command_of(
            of(HOSTILE),
            &[&format!("aws iam remove-user-from-group --group-name Admins --user-name {HOSTILE_QUOTED}")],
        );
        command_of(
            of("inline"),
            &[
                "# if user inline does not need admin",
                "aws iam delete-user-policy --user-name inline --policy-name emergency",
            ],
        );
        command_of(
            of("deployer"),
            &[&format!("aws iam detach-role-policy --role-name deployer --policy-arn {ADMIN_ARN}")],
        );
    }

    #[test]
    fn an_escalation_shows_the_statements_of_its_first_step_and_a_service_linked_role_has_no_command() {
        use crate::checks::test_support::command_of;
        let put_self = r#"{"Statement":[{"Effect":"Allow","Action":"iam:PutUserPolicy","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}]}"#;
        let slr = format!(
            r#"{{"RoleName":"AWSServiceRoleForX","Path":"/aws-service-role/x.amazonaws.com/","Arn":"arn:aws:iam::111122223333:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX","RolePolicyList":[{{"PolicyName":"p","PolicyDocument":{STAR}}}]}}"#
        );
        let fixture = gaad(
            &user(
                "escalator",
                &format!(r#","UserPolicyList":[{{"PolicyName":"self","PolicyDocument":{put_self}}}]"#),
            ),
            "",
            &slr,
            "",
        );
        let findings = fixture.run(&CHECK);
        let escalator = findings.iter().find(|f| f.resource_name == "escalator").unwrap();
        command_of(
            escalator,
            &[&format!(
                "aws iam simulate-principal-policy --policy-source-arn {} --action-names iam:PutUserPolicy",
                user_arn("escalator")
            )],
        );
        let slr = findings.iter().find(|f| f.resource_name == "AWSServiceRoleForX").unwrap();
        assert_eq!(slr.remediation_command, None);
    }

    #[test]
    fn an_identity_center_role_lists_who_is_assigned_its_permission_set_here() {
        use crate::checks::sso_test_support::{fixture, sso_admin, ADMIN_ROLE, ADMIN_SET};
        use crate::checks::test_support::{command_of, ACCOUNT};
        let (account, directory) = fixture(&[ADMIN_ROLE], &[("Admin", "USER", "u-alice")]);
        let findings = account.run_with(&CHECK, &directory);
        let listed = format!("{} --account-id {ACCOUNT}", sso_admin("list-account-assignments", ADMIN_SET));
        assert_eq!(command_of(&findings[0], &[]), listed);
        assert_eq!(
            findings[0].console_url.as_deref(),
            Some("https://console.aws.amazon.com/singlesignon/home#/instances/1/permission-sets/details/ps-admin")
        );
    }
}
