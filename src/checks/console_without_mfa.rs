//! `console-without-mfa`: users with a console password and no MFA device.

use super::{AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};

pub const CHECK: Check = Check {
    id: "console-without-mfa",
    title: "Console user without MFA",
    severity: Severity::High,
    references: &[],
    remediation: "Have the user register an MFA device (aws iam create-virtual-mfa-device and aws iam \
                  enable-mfa-device), or remove the console password (aws iam delete-login-profile --user-name USER).",
    family: Family::Credentials,
    needs: &[Input::CredentialReport],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(report) = &context.account.credential_report else { return Vec::new() };
    report
        .users()
        .filter(|row| row.password_enabled.is_true() && !row.mfa_active)
        .map(|row| {
            let last = row.password_last_used.value();
            context
                .finding(&CHECK, ResourceType::User, &row.arn, &row.user)
                .title(format!("User {} signs in to the console without MFA", row.user))
                .detail(match last {
                    Some(l) => format!(
                        "Console password enabled, no MFA device; last sign-in {}.",
                        l.format("%Y-%m-%d")
                    ),
                    None => "Console password enabled, no MFA device; no sign-in recorded.".to_string(),
                })
                .evidence("password_last_used", last.map(|l| l.to_rfc3339()))
                .build()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::{user_arn, CredRow, Fixture};

    #[test]
    fn finds_passwords_without_mfa_only() {
        let fixture = Fixture::new().credentials(&[
            CredRow::root(),
            CredRow::user("nomfa").password("2024-05-01T00:00:00+00:00"),
            CredRow::user("mfa").password("2024-05-01T00:00:00+00:00").mfa(),
            CredRow::user("keys-only").key(1, true, "2024-05-01T00:00:00+00:00", "N/A"),
        ]);
        assert_eq!(fixture.arns(&CHECK), vec![user_arn("nomfa")]);
    }
}
