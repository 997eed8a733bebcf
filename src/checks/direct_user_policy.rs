//! `direct-user-policy`: users with policies of their own rather than through groups.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};

pub const CHECK: Check = Check {
    id: "direct-user-policy",
    title: "User has policies attached directly",
    severity: Severity::Low,
    references: &[],
    remediation: "Grant permissions through groups or roles. Decide which group should grant what the user \
                  needs and add the user to it (aws iam add-user-to-group); the finding's command then removes \
                  the user's own policies (aws iam detach-user-policy, aws iam delete-user-policy).",
    family: Family::Credentials,
    needs: &[Input::AuthorizationDetails],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(graph) = &context.account.authorization else { return Vec::new() };
    graph
        .users
        .iter()
        .filter(|u| !u.attached_policies.is_empty() || !u.inline_policies.is_empty())
        .map(|user| {
            let attached: Vec<&str> = user.attached_policies.iter().map(|p| p.name.as_str()).collect();
            let inline: Vec<&str> = user.inline_policies.iter().map(|p| p.name.as_str()).collect();
            let mut parts = Vec::new();
            if !attached.is_empty() {
                parts.push(format!("managed {}", attached.join(", ")));
            }
            if !inline.is_empty() {
                parts.push(format!("inline {}", inline.join(", ")));
            }
            context
                .finding(&CHECK, ResourceType::User, &user.arn, &user.name)
                .title(format!("User {} has policies attached directly", user.name))
                .detail(format!("Directly attached: {}.", parts.join("; ")))
                .evidence("attached_policies", &attached)
                .evidence("inline_policies", &inline)
                .command(remove_own_policies(user))
                .build()
        })
        .collect()
}

/// Detaches the user's managed policies and deletes its inline ones, once a group grants what
/// it needs.
fn remove_own_policies(user: &crate::snapshot::authorization::User) -> String {
    let detach = user.attached_policies.iter().map(|p| {
        fix::Command::aws("iam detach-user-policy")
            .arg("--user-name", &user.name)
            .arg("--policy-arn", &p.arn)
            .text()
    });
    let delete = user.inline_policies.iter().map(|p| {
        fix::Command::aws("iam delete-user-policy")
            .arg("--user-name", &user.name)
            .arg("--policy-name", &p.name)
            .text()
    });
    let first = fix::note(
        "first add the user to a group that grants what it needs (aws iam add-user-to-group), then:",
    );
    fix::lines(std::iter::once(first).chain(detach).chain(delete))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{user_arn, Fixture};

    #[test]
    fn finds_direct_policies_not_group_ones() {
        let fixture = Fixture::new().gaad(&format!(
            r#"{{"UserDetailList":[
                {{"UserName":"direct","Arn":"{}","AttachedManagedPolicies":[{{"PolicyName":"P","PolicyArn":"arn:aws:iam::111122223333:policy/P"}}]}},
                {{"UserName":"inline","Arn":"{}","UserPolicyList":[{{"PolicyName":"i","PolicyDocument":{{"Statement":[{{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}]}}}}]}},
                {{"UserName":"grouped","Arn":"{}","GroupList":["G"]}}]}}"#,
            user_arn("direct"),
            user_arn("inline"),
            user_arn("grouped")
        ));
        assert_eq!(fixture.arns(&CHECK), vec![user_arn("direct"), user_arn("inline")]);
    }

    #[test]
    fn the_command_removes_each_of_the_users_own_policies() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let fixture = Fixture::new().gaad(&format!(
            r#"{{"UserDetailList":[{{"UserName":"{HOSTILE}","Arn":"{}",
                "AttachedManagedPolicies":[{{"PolicyName":"P","PolicyArn":"arn:aws:iam::111122223333:policy/team/P"}}],
                "UserPolicyList":[{{"PolicyName":"it's mine","PolicyDocument":{{"Statement":[]}}}}]}}]}}"#,
            user_arn(HOSTILE)
        ));
        let findings = fixture.run(&CHECK);
        command_of(
            &findings[0],
            &[
                "# first add the user to a group",
                &format!("aws iam detach-user-policy --user-name {HOSTILE_QUOTED} --policy-arn arn:aws:iam::111122223333:policy/team/P"),
                &format!("aws iam delete-user-policy --user-name {HOSTILE_QUOTED} --policy-name 'it'\\''s mine'"),
            ],
        );
    }
}
