//! `password-policy-weak`: no account password policy, or one below the configured minimums.

use super::{fix, AccountContext, Check, Family, Input};
use crate::findings::{Finding, Severity};
use crate::snapshot::account_settings::PasswordPolicy;

pub const CHECK: Check = Check {
    id: "password-policy-weak",
    title: "Password policy missing or weak",
    severity: Severity::Medium,
    references: &[],
    remediation: "Set the policy with the finding's command (aws iam update-account-password-policy): it raises \
                  what falls short to the configured minimums and keeps what the current policy already requires \
                  (the call replaces the whole policy; a setting it leaves out returns to IAM's default).",
    family: Family::AccountSettings,
    needs: &[Input::PasswordPolicy],
    run,
};

fn run(context: &AccountContext) -> Vec<Finding> {
    let Some(policy) = &context.account.password_policy else { return Vec::new() };
    let t = context.thresholds;
    let Some(policy) = policy else {
        return vec![context
            .account_finding(&CHECK)
            .title("No account password policy")
            .detail("The account has no password policy: IAM's defaults allow 8-character passwords that never expire and may be reused.")
            .evidence("shortcomings", ["no password policy"])
            .command(policy_command(None, t))
            .console(fix::account_settings_page(&context.account.account_id.root_arn()))
            .build()];
    };
    let mut shortcomings = Vec::new();
    let length = policy.minimum_password_length.unwrap_or(0);
    if length < t.password_min_length {
        shortcomings.push(format!("minimum length {length} < {}", t.password_min_length));
    }
    let reuse = policy.password_reuse_prevention.unwrap_or(0);
    if reuse < t.password_reuse_prevention {
        shortcomings.push(format!("reuse prevention {reuse} < {}", t.password_reuse_prevention));
    }
    let required = [
        (t.password_require_symbols, policy.require_symbols, "symbols"),
        (t.password_require_numbers, policy.require_numbers, "numbers"),
        (t.password_require_uppercase, policy.require_uppercase_characters, "uppercase letters"),
        (t.password_require_lowercase, policy.require_lowercase_characters, "lowercase letters"),
    ];
    for (wanted, has, what) in required {
        if wanted && !has {
            shortcomings.push(format!("does not require {what}"));
        }
    }
    if t.password_max_age_days > 0 {
        match policy.max_password_age {
            Some(age) if age <= t.password_max_age_days => {}
            Some(age) => shortcomings.push(format!("maximum age {age} days > {}", t.password_max_age_days)),
            None => shortcomings.push("passwords never expire".into()),
        }
    }
    if shortcomings.is_empty() {
        return Vec::new();
    }
    vec![context
        .account_finding(&CHECK)
        .title("Account password policy below the minimums")
        .detail(format!("The password policy falls short: {}.", shortcomings.join("; ")))
        .evidence("shortcomings", &shortcomings)
        .command(policy_command(Some(policy), t))
        .console(fix::account_settings_page(&context.account.account_id.root_arn()))
        .build()]
}

/// `aws iam update-account-password-policy` at the configured minimums, keeping whatever the
/// current policy requires beyond them. The call replaces the whole policy, so every setting
/// the current one has is written out; without a policy, users may change their own password
/// (as they may under IAM's default).
fn policy_command(current: Option<&PasswordPolicy>, t: &crate::config::Thresholds) -> String {
    let default = PasswordPolicy::default();
    let policy = current.unwrap_or(&default);
    let mut command = fix::Command::aws("iam update-account-password-policy")
        .arg(
            "--minimum-password-length",
            &policy.minimum_password_length.unwrap_or(0).max(t.password_min_length).to_string(),
        )
        .arg(
            "--password-reuse-prevention",
            &policy.password_reuse_prevention.unwrap_or(0).max(t.password_reuse_prevention).to_string(),
        );
    let switches = [
        (policy.require_symbols || t.password_require_symbols, "--require-symbols"),
        (policy.require_numbers || t.password_require_numbers, "--require-numbers"),
        (
            policy.require_uppercase_characters || t.password_require_uppercase,
            "--require-uppercase-characters",
        ),
        (
            policy.require_lowercase_characters || t.password_require_lowercase,
            "--require-lowercase-characters",
        ),
        (policy.allow_users_to_change_password || current.is_none(), "--allow-users-to-change-password"),
        (policy.hard_expiry == Some(true), "--hard-expiry"),
    ];
    for (on, switch) in switches {
        if on {
            command = command.raw(switch);
        }
    }
    let max_age = match (policy.max_password_age, t.password_max_age_days) {
        (Some(age), 0) => Some(age),
        (Some(age), limit) => Some(age.min(limit)),
        (None, 0) => None,
        (None, limit) => Some(limit),
    };
    match max_age {
        Some(days) => command.arg("--max-password-age", &days.to_string()).text(),
        None => command.text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::Fixture;

    #[test]
    fn no_policy_is_a_finding() {
        assert_eq!(Fixture::new().password_policy(r#"{"PasswordPolicy": null}"#).run(&CHECK).len(), 1);
    }

    #[test]
    fn a_short_policy_names_what_is_short() {
        let findings = Fixture::new()
            .password_policy(r#"{"PasswordPolicy":{"MinimumPasswordLength":8,"PasswordReusePrevention":24}}"#)
            .run(&CHECK);
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].evidence.value()["shortcomings"],
            serde_json::json!(["minimum length 8 < 14"])
        );
    }

    #[test]
    fn a_policy_at_the_minimums_is_fine_and_minimums_come_from_config() {
        let strong = r#"{"PasswordPolicy":{"MinimumPasswordLength":14,"PasswordReusePrevention":24}}"#;
        assert!(Fixture::new().password_policy(strong).run(&CHECK).is_empty());
        let stricter = Fixture::new().password_policy(strong).thresholds(|t| {
            t.password_min_length = 16;
            t.password_require_symbols = true;
        });
        let findings = stricter.run(&CHECK);
        assert_eq!(
            findings[0].evidence.value()["shortcomings"],
            serde_json::json!(["minimum length 14 < 16", "does not require symbols"])
        );
    }

    #[test]
    fn the_command_raises_what_falls_short_and_keeps_what_the_policy_has() {
        use crate::checks::test_support::command_of;
        let findings = Fixture::new()
            .password_policy(r#"{"PasswordPolicy":{"MinimumPasswordLength":8,"PasswordReusePrevention":24,"RequireSymbols":true,"MaxPasswordAge":60}}"#)
            .run(&CHECK);
        assert_eq!(
            command_of(&findings[0], &[]),
            "aws iam update-account-password-policy --minimum-password-length 14 --password-reuse-prevention 24 \
             --require-symbols --max-password-age 60"
        );
        let none = Fixture::new().password_policy(r#"{"PasswordPolicy": null}"#).run(&CHECK);
        command_of(
            &none[0],
            &["--minimum-password-length 14 --password-reuse-prevention 24 --allow-users-to-change-password"],
        );
        assert_eq!(
            none[0].console_url.as_deref(),
            Some("https://console.aws.amazon.com/iam/home#/account_settings")
        );
    }
}
