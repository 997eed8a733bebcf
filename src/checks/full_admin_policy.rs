//! `full-admin-policy`: customer-managed or inline policies that grant every action on
//! every resource (or every action but a few, IAM included) and are attached to something.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use crate::policy::admin::AdminPower;
use crate::policy::condition::RequestContext;
use crate::policy::document::PolicyDocument;
use crate::policy::effective::PolicySource;
use crate::policy::engine::{Named, PolicySet};
use crate::policy::escalation::graph::holds_everything;
use std::collections::BTreeMap;

pub const CHECK: Check = Check {
    id: "full-admin-policy",
    title: "Policy grants full administrative privileges",
    severity: Severity::High,
    references: &[],
    remediation: "Decide what the policy's holders need. The finding's command saves the policy's document (aws \
                  iam get-policy-version, or aws iam get-user-policy / get-group-policy / get-role-policy for an \
                  inline one); cut it down to those actions and resources, and the command's last line publishes \
                  it (aws iam create-policy-version --set-as-default, or aws iam put-user-policy / \
                  put-group-policy / put-role-policy). A policy no one needs is detached (aws iam \
                  detach-role-policy) or deleted (aws iam delete-role-policy) instead.",
    family: Family::AdminPower,
    needs: &[Input::AuthorizationDetails],
    run,
};

/// The document alone, uncapped, asked by the same engine as every principal: does it grant
/// every action on every resource (or all but a few, IAM included)?
pub(crate) fn grants_admin(name: &str, document: &PolicyDocument) -> Option<AdminPower> {
    let source = PolicySource { policy: name.to_string(), policy_arn: None, via_group: None };
    let set = PolicySet { identity: vec![Named { source: source.into(), document }], ..Default::default() };
    holds_everything(&set, &RequestContext::new()).map(|holding| holding.power)
}

/// The principals and groups a policy is attached to, named (the first 20), in words.
fn attached_to(holders: &[String], count: Option<u64>) -> String {
    const NAMED: usize = 20;
    let total = count.map_or(holders.len(), |n| (n as usize).max(holders.len()));
    if holders.is_empty() {
        return format!("{total} principal{} or group{} not in this snapshot", plural(total), plural(total));
    }
    let mut text = holders.iter().take(NAMED).cloned().collect::<Vec<_>>().join(", ");
    if total > NAMED.min(holders.len()) {
        text.push_str(&format!(", and {} more", total - NAMED.min(holders.len())));
    }
    text
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(graph) = &context.account.authorization else { return Vec::new() };
    let mut findings = Vec::new();
    // Who each managed policy is attached to, by kind and name.
    let mut attached: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let holders = graph
        .users
        .iter()
        .map(|u| ("user", &u.name, &u.attached_policies))
        .chain(graph.groups.iter().map(|g| ("group", &g.name, &g.attached_policies)))
        .chain(graph.roles.iter().map(|r| ("role", &r.name, &r.attached_policies)));
    for (kind, name, policies) in holders {
        for policy in policies {
            attached.entry(policy.arn.as_str()).or_default().push(format!("{kind} {name}"));
        }
    }
    let mut managed: Vec<_> = graph.managed_policies.values().filter(|p| !p.is_aws_managed()).collect();
    managed.sort_by(|a, b| a.arn.cmp(&b.arn));
    for policy in managed {
        let holders = attached.get(policy.arn.as_str()).map(Vec::as_slice).unwrap_or_default();
        let in_use = !holders.is_empty() || policy.attachment_count.unwrap_or(0) > 0;
        let Some(document) = &policy.document else { continue };
        if !in_use {
            continue;
        }
        if let Some(power) = grants_admin(&policy.name, document) {
            findings.push(
                context
                    .finding(&CHECK, ResourceType::Policy, &policy.arn, &policy.name)
                    .title(format!("Managed policy {} grants {}", policy.name, power.describe()))
                    .detail(format!(
                        "Its default version ({}) grants {}, and it is attached to {}.",
                        policy.default_version.as_deref().unwrap_or("unknown"),
                        power.describe(),
                        attached_to(holders, policy.attachment_count)
                    ))
                    .evidence("power", &power)
                    .evidence("attached_to", holders)
                    .evidence("default_version", &policy.default_version)
                    .command(rewrite_managed(&policy.arn, policy.default_version.as_deref()))
                    .build(),
            );
        }
    }
    let holders = graph
        .users
        .iter()
        .map(|u| ("user", &u.arn, &u.name, &u.inline_policies))
        .chain(graph.groups.iter().map(|g| ("group", &g.arn, &g.name, &g.inline_policies)))
        .chain(graph.roles.iter().map(|r| ("role", &r.arn, &r.name, &r.inline_policies)));
    for (kind, arn, holder, policies) in holders {
        for policy in policies {
            let Some(document) = &policy.document else { continue };
            if let Some(power) = grants_admin(&policy.name, document) {
                findings.push(
                    context
                        .finding(&CHECK, ResourceType::Policy, arn, &policy.name)
                        .key(&policy.name)
                        .title(format!(
                            "Inline policy {} of {kind} {holder} grants {}",
                            policy.name,
                            power.describe()
                        ))
                        .detail(format!(
                            "The inline policy {} on {kind} {holder} grants {}.",
                            policy.name,
                            power.describe()
                        ))
                        .evidence("power", &power)
                        .evidence("policy_name", &policy.name)
                        .evidence("holder_type", kind)
                        .command_if(rewrite_inline(kind, holder, &policy.name))
                        .build(),
                );
            }
        }
    }
    findings
}

const CUT_DOWN: &str =
    "edit policy.json down to the actions and resources its holders need, then publish it:";

/// Saves a managed policy's default version to policy.json and publishes the edited file as
/// the new default.
fn rewrite_managed(arn: &str, default_version: Option<&str>) -> String {
    let get = fix::Command::aws("iam get-policy-version").arg("--policy-arn", arn).arg_or_lookup(
        "--version-id",
        default_version,
        || {
            fix::Command::aws("iam get-policy")
                .arg("--policy-arn", arn)
                .raw("--query Policy.DefaultVersionId --output text")
        },
    );
    fix::lines([
        get.raw("--query PolicyVersion.Document --output json > policy.json").text(),
        fix::note(CUT_DOWN),
        fix::Command::aws("iam create-policy-version")
            .arg("--policy-arn", arn)
            .raw("--policy-document file://policy.json --set-as-default")
            .text(),
    ])
}

/// The same for an inline policy of a user, group or role.
fn rewrite_inline(kind: &str, holder: &str, policy: &str) -> Option<String> {
    let (get, put, flag) = match kind {
        "user" => ("iam get-user-policy", "iam put-user-policy", "--user-name"),
        "group" => ("iam get-group-policy", "iam put-group-policy", "--group-name"),
        "role" => ("iam get-role-policy", "iam put-role-policy", "--role-name"),
        _ => return None,
    };
    Some(fix::lines([
        fix::Command::aws(get)
            .arg(flag, holder)
            .arg("--policy-name", policy)
            .raw("--query PolicyDocument --output json > policy.json")
            .text(),
        fix::note(CUT_DOWN),
        fix::Command::aws(put)
            .arg(flag, holder)
            .arg("--policy-name", policy)
            .raw("--policy-document file://policy.json")
            .text(),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{user_arn, Fixture};

    fn managed(name: &str, versions: &str, attachments: u32) -> String {
        format!(
            r#"{{"PolicyName":"{name}","Arn":"arn:aws:iam::111122223333:policy/{name}","AttachmentCount":{attachments},"PolicyVersionList":[{versions}]}}"#
        )
    }

    #[test]
    fn finds_star_and_notaction_policies_in_use() {
        let star = r#"{"VersionId":"v1","IsDefaultVersion":true,"Document":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}"#;
        let notaction = r#"{"VersionId":"v1","IsDefaultVersion":true,"Document":{"Statement":[{"Effect":"Allow","NotAction":["aws-portal:*","budgets:*"],"Resource":"*"}]}}"#;
        let fixture = Fixture::new().gaad(&format!(
            r#"{{"UserDetailList":[{{"UserName":"u","Arn":"{}","UserPolicyList":[{{"PolicyName":"all","PolicyDocument":{{"Statement":{{"Effect":"Allow","Action":"*:*","Resource":"*"}}}}}}]}}],
                "Policies":[{},{},{}]}}"#,
            user_arn("u"),
            managed("star", star, 1),
            managed("notaction", notaction, 2),
            managed("unattached", star, 0),
        ));
        let findings = fixture.run(&CHECK);
        let names: Vec<&str> = findings.iter().map(|f| f.resource_name.as_str()).collect();
        assert_eq!(names, vec!["notaction", "star", "all"]);
        assert_eq!(findings[0].evidence.value()["power"]["kind"], "all-except");
        assert_eq!(findings[2].resource_arn, user_arn("u"), "inline: the holder's ARN");
        assert_eq!(findings[2].evidence.value()["policy_name"], "all");
    }

    #[test]
    fn the_finding_names_who_the_policy_is_attached_to() {
        let star = r#"{"VersionId":"v1","IsDefaultVersion":true,"Document":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}"#;
        let attach = r#"[{"PolicyName":"star","PolicyArn":"arn:aws:iam::111122223333:policy/star"}]"#;
        let fixture = Fixture::new().gaad(&format!(
            r#"{{"UserDetailList":[{{"UserName":"alice","Arn":"{}","AttachedManagedPolicies":{attach}}}],
                "GroupDetailList":[{{"GroupName":"ops","Arn":"arn:aws:iam::111122223333:group/ops","AttachedManagedPolicies":{attach}}}],
                "Policies":[{},{}]}}"#,
            user_arn("alice"),
            managed("star", star, 5),
            managed("elsewhere", star, 2),
        ));
        let findings = fixture.run(&CHECK);
        let star = findings.iter().find(|f| f.resource_name == "star").unwrap();
        assert!(star.detail.contains("attached to user alice, group ops, and 3 more."), "{}", star.detail);
        assert_eq!(star.evidence.value()["attached_to"], serde_json::json!(["user alice", "group ops"]));
        let elsewhere = findings.iter().find(|f| f.resource_name == "elsewhere").unwrap();
        assert!(
            elsewhere.detail.contains("attached to 2 principals or groups not in this snapshot"),
            "{}",
            elsewhere.detail
        );
    }

    #[test]
    fn decoys_are_not_findings() {
        // "*" only in a non-default version; "*" actions on one bucket; PowerUser-style NotAction.
        let old_star = r#"{"VersionId":"v2","IsDefaultVersion":true,"Document":{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}},
                          {"VersionId":"v1","IsDefaultVersion":false,"Document":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}"#;
        let bucket = r#"{"VersionId":"v1","IsDefaultVersion":true,"Document":{"Statement":[{"Effect":"Allow","Action":"*","Resource":["arn:aws:s3:::logs","arn:aws:s3:::logs/*"]}]}}"#;
        let power = r#"{"VersionId":"v1","IsDefaultVersion":true,"Document":{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}}"#;
        let fixture = Fixture::new().gaad(&format!(
            r#"{{"Policies":[{},{},{}]}}"#,
            managed("old", old_star, 1),
            managed("bucket", bucket, 1),
            managed("power", power, 1)
        ));
        assert!(fixture.run(&CHECK).is_empty());
    }

    #[test]
    fn a_notaction_of_a_service_that_does_not_exist_is_full() {
        let doc = r#"{"VersionId":"v1","IsDefaultVersion":true,"Document":{"Statement":[{"Effect":"Allow","NotAction":"notarealservice:*","Resource":"*"}]}}"#;
        let findings =
            Fixture::new().gaad(&format!(r#"{{"Policies":[{}]}}"#, managed("sneaky", doc, 1))).run(&CHECK);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].evidence.value()["power"]["kind"], "full");
    }

    #[test]
    fn the_command_saves_the_document_and_publishes_the_edited_one() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let star = r#"{"VersionId":"v3","IsDefaultVersion":true,"Document":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}"#;
        let fixture = Fixture::new().gaad(&format!(
            r#"{{"RoleDetailList":[{{"RoleName":"{HOSTILE}","Arn":"arn:aws:iam::111122223333:role/{HOSTILE}","RolePolicyList":[{{"PolicyName":"all","PolicyDocument":{{"Statement":{{"Effect":"Allow","Action":"*","Resource":"*"}}}}}}]}}],
                "Policies":[{}]}}"#,
            managed("star", star, 1),
        ));
        let findings = fixture.run(&CHECK);
        command_of(
            &findings[0],
            &[
                "aws iam get-policy-version --policy-arn arn:aws:iam::111122223333:policy/star --version-id v3 --query PolicyVersion.Document --output json > policy.json",
                "aws iam create-policy-version --policy-arn arn:aws:iam::111122223333:policy/star --policy-document file://policy.json --set-as-default",
            ],
        );
        command_of(
            &findings[1],
            &[
                &format!("aws iam get-role-policy --role-name {HOSTILE_QUOTED} --policy-name all --query PolicyDocument"),
                &format!("aws iam put-role-policy --role-name {HOSTILE_QUOTED} --policy-name all --policy-document file://policy.json"),
            ],
        );
        assert!(findings[0]
            .console_url
            .as_deref()
            .unwrap()
            .ends_with("#/policies/details/arn%3Aaws%3Aiam%3A%3A111122223333%3Apolicy%2Fstar"));
    }
}
