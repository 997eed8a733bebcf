//! `multiple-active-keys`: users with both access keys active.

use super::{AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};

pub const CHECK: Check = Check {
    id: "multiple-active-keys",
    title: "User has two active access keys",
    severity: Severity::Low,
    references: &[],
    remediation: "Keep one key: find the unused one in the credential report and deactivate it with aws iam \
                  update-access-key --user-name USER --access-key-id KEY --status Inactive, then delete it.",
    family: Family::Credentials,
    needs: &[Input::CredentialReport],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(report) = &context.account.credential_report else { return Vec::new() };
    report
        .users()
        .filter(|row| row.active_keys().count() == 2)
        .map(|row| {
            let used: Vec<Option<String>> =
                row.access_keys.iter().map(|k| k.last_used.value().map(|d| d.to_rfc3339())).collect();
            context
                .finding(&CHECK, ResourceType::User, &row.arn, &row.user)
                .title(format!("User {} has two active access keys", row.user))
                .detail("Both access keys are active; only one should be, outside a rotation.")
                .evidence("last_used", used)
                .build()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{user_arn, CredRow, Fixture};

    #[test]
    fn finds_two_active_keys_not_one_active_one_inactive() {
        let fixture = Fixture::new().credentials(&[
            CredRow::user("two").key(1, true, "2024-01-01T00:00:00+00:00", "N/A").key(
                2,
                true,
                "2024-02-01T00:00:00+00:00",
                "N/A",
            ),
            CredRow::user("one").key(1, true, "2024-01-01T00:00:00+00:00", "N/A").key(
                2,
                false,
                "2024-02-01T00:00:00+00:00",
                "N/A",
            ),
        ]);
        assert_eq!(fixture.arns(&CHECK), vec![user_arn("two")]);
    }
}
