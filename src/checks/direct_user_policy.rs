//! `direct-user-policy`: users with policies of their own rather than through groups.

use super::{AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};

pub const CHECK: Check = Check {
    id: "direct-user-policy",
    title: "User has policies attached directly",
    severity: Severity::Low,
    references: &[],
    remediation:
        "Grant permissions through groups or roles: add the user to a group holding the policy (aws iam \
                  add-user-to-group), then aws iam detach-user-policy / aws iam delete-user-policy.",
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
                .build()
        })
        .collect()
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
}
