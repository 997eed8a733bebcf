//! `multiple-active-keys`: users with both access keys active.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};

pub const CHECK: Check = Check {
    id: "multiple-active-keys",
    title: "User has two active access keys",
    severity: Severity::Low,
    references: &[],
    remediation: "Keep one key. Decide which the workload uses (the credential report's last use is in the \
                  finding); the finding's command deactivates the other, the one used least recently (aws iam \
                  update-access-key --status Inactive); delete it once nothing breaks (aws iam delete-access-key).",
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
            // The key used least recently (never used first) is the one to deactivate.
            let spare = row.active_keys().min_by_key(|k| k.last_used.value());
            context
                .finding(&CHECK, ResourceType::User, &row.arn, &row.user)
                .title(format!("User {} has two active access keys", row.user))
                .detail("Both access keys are active; only one should be, outside a rotation.")
                .evidence("last_used", used)
                .command_if(spare.map(|key| {
                    fix::lines([
                        fix::note(&format!("deactivates key {}, the one used least recently:", key.number)),
                        fix::deactivate_key(&row.user, key),
                    ])
                }))
                .console(fix::user_credentials_page(&row.arn, &row.user))
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

    #[test]
    fn the_command_deactivates_the_key_used_least_recently() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let row = CredRow::user(HOSTILE)
            .key(1, true, "2023-01-01T00:00:00+00:00", "2024-05-30T00:00:00+00:00")
            .key(2, true, "2023-06-01T00:00:00+00:00", "2024-01-30T00:00:00+00:00");
        let findings = Fixture::new().credentials(&[row]).run(&CHECK);
        command_of(
            &findings[0],
            &["deactivates key 2", HOSTILE_QUOTED, "2023-06-01T00:00:00", "--status Inactive"],
        );
    }
}
