//! `console-without-mfa`: users with a console password and no MFA device.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, ResourceType, Severity};

pub const CHECK: Check = Check {
    id: "console-without-mfa",
    title: "Console user without MFA",
    severity: Severity::High,
    references: &[],
    remediation: "Decide with the user whether they need the console. If they do, they register an MFA device \
                  on their security credentials page (the console link; aws iam enable-mfa-device). If not, the \
                  finding's command removes the console password (aws iam delete-login-profile).",
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
                .command(fix::delete_login_profile(&row.user))
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
    fn finds_passwords_without_mfa_only() {
        let fixture = Fixture::new().credentials(&[
            CredRow::root(),
            CredRow::user("nomfa").password("2024-05-01T00:00:00+00:00"),
            CredRow::user("mfa").password("2024-05-01T00:00:00+00:00").mfa(),
            CredRow::user("keys-only").key(1, true, "2024-05-01T00:00:00+00:00", "N/A"),
        ]);
        assert_eq!(fixture.arns(&CHECK), vec![user_arn("nomfa")]);
    }

    #[test]
    fn the_command_removes_the_users_own_password_and_the_link_opens_its_credentials() {
        use crate::checks::test_support::{command_of, HOSTILE, HOSTILE_QUOTED};
        let findings = Fixture::new()
            .credentials(&[CredRow::user(HOSTILE).password("2024-05-01T00:00:00+00:00")])
            .run(&CHECK);
        let command = command_of(&findings[0], &[HOSTILE_QUOTED]);
        assert_eq!(command, format!("aws iam delete-login-profile --user-name {HOSTILE_QUOTED}"));
        assert_eq!(
            findings[0].console_url.as_deref(),
            Some("https://console.aws.amazon.com/iam/home#/users/details/o%27brien%20%24%28id%29%20%60id%60?section=security_credentials")
        );
    }
}
