//! `unused-role`: roles not used in `unused_days`, or never used and older than that.
//! Service-linked roles are excluded: the service that owns them decides their life.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};
use chrono::Duration;

pub const CHECK: Check = Check {
    id: "unused-role",
    title: "Role has not been used recently",
    severity: Severity::Low,
    references: &[],
    remediation: "Confirm with the owner that the role is no longer needed. The finding's command lists its \
                  policies and instance profiles, which go first (aws iam detach-role-policy, aws iam \
                  delete-role-policy, aws iam remove-role-from-instance-profile), then deletes it (aws iam \
                  delete-role).",
    family: Family::UnusedAccess,
    needs: &[Input::AuthorizationDetails],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(graph) = &context.account.authorization else { return Vec::new() };
    let days = context.thresholds.unused_days;
    let cutoff = context.as_of - Duration::days(days.into());
    let mut findings = Vec::new();
    for role in graph.roles.iter().filter(|r| !r.is_service_linked()) {
        let detail = match (role.last_used, role.created) {
            (Some(last), _) if last < cutoff => format!(
                "Last used {} ({} days ago){}.",
                last.format("%Y-%m-%d"),
                context.days_since(last),
                role.last_used_region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default()
            ),
            (None, Some(created)) if created < cutoff => format!(
                "No recorded use since it was created {} ({} days ago).",
                created.format("%Y-%m-%d"),
                context.days_since(created)
            ),
            _ => continue,
        };
        findings.push(
            context
                .finding(&CHECK, ResourceType::Role, &role.arn, &role.name)
                .title(format!("Role {} unused for over {days} days", role.name))
                .detail(detail)
                .evidence("last_used", role.last_used.map(|l| l.to_rfc3339()))
                .evidence("created", role.created.map(|c| c.to_rfc3339()))
                .evidence("threshold_days", days)
                .command(fix::delete_role(&role.name))
                .build(),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{role_arn, Fixture};

    fn role(name: &str, path: &str, created: &str, last_used: &str) -> String {
        format!(
            r#"{{"RoleName":"{name}","Path":"{path}","Arn":"{}","CreateDate":"{created}","RoleLastUsed":{last_used}}}"#,
            role_arn(name)
        )
    }

    #[test]
    fn finds_stale_and_old_never_used_roles() {
        let roles = [
            role(
                "stale",
                "/",
                "2022-01-01T00:00:00Z",
                r#"{"LastUsedDate":"2024-01-01T00:00:00Z","Region":"eu-west-1"}"#,
            ),
            role("never-old", "/", "2022-01-01T00:00:00Z", "{}"),
            role("never-new", "/", "2024-05-15T00:00:00Z", "{}"),
            role("active", "/", "2022-01-01T00:00:00Z", r#"{"LastUsedDate":"2024-05-31T00:00:00Z"}"#),
            role(
                "AWSServiceRoleForSupport",
                "/aws-service-role/support.amazonaws.com/",
                "2020-01-01T00:00:00Z",
                "{}",
            ),
        ];
        let fixture = Fixture::new().gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, roles.join(",")));
        assert_eq!(fixture.arns(&CHECK), vec![role_arn("never-old"), role_arn("stale")]);
    }

    #[test]
    fn the_command_lists_what_goes_first_and_deletes_the_role() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let fixture = Fixture::new()
            .gaad(&format!(r#"{{"RoleDetailList":[{}]}}"#, role(HOSTILE, "/", "2022-01-01T00:00:00Z", "{}")));
        let findings = fixture.run(&CHECK);
        let command = command_of(
            &findings[0],
            &[&format!("aws iam list-attached-role-policies --role-name {HOSTILE_QUOTED}")],
        );
        assert!(command.ends_with(&format!("aws iam delete-role --role-name {HOSTILE_QUOTED}")), "{command}");
        assert!(findings[0]
            .console_url
            .as_deref()
            .unwrap()
            .ends_with("#/roles/details/o%27brien%20%24%28id%29%20%60id%60"));
    }
}
