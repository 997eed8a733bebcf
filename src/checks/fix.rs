//! Per-finding remediation: a ready-to-run AWS CLI command with the finding's real names, and
//! the AWS console page of its resource.
//!
//! Names come from the audited accounts and are untrusted (a hand-made snapshot can hold any
//! text): every value goes into a command through [`Command::arg`], which shell-quotes it
//! ([`shell_quote`]), and into a console URL through [`encode`]. A command may take a few lines:
//! an inspecting command, a `# …` line saying what to decide or change, then the one that
//! applies it.
//!
//! Console URLs (DESIGN.md "Remediation"): IAM's detail pages are
//! `https://console.aws.amazon.com/iam/home#/users/details/NAME` (`roles/`, `groups/`),
//! `#/policies/details/<URL-encoded ARN>`, `#/account_settings` and `#/security_credentials`;
//! IAM Access Analyzer's `…/access-analyzer/home?region=R#/analyzers` (and `#/findings`);
//! Identity Center's permission set page
//! `…/singlesignon/home#/instances/<instance id without ssoins->/permission-sets/details/<ps-id>`.
//! A link opens in whichever account the reader is signed in to.

use crate::snapshot::credential_report::AccessKey;
use std::borrow::Cow;

/// `value` as one word for a POSIX shell (sh, bash, zsh): as it is when every character is
/// plain, else in single quotes, each `'` written `'\''`. Nothing inside single quotes is
/// special, so no name can end the word, expand a variable or run a command.
pub fn shell_quote(value: &str) -> Cow<'_, str> {
    // `=` is left out: zsh expands a word that starts with it.
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-+.,:/@%".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(format!("'{}'", value.replace('\'', r"'\''")))
    }
}

/// Percent-encodes everything but the URL's unreserved characters (`A-Z a-z 0-9 - . _ ~`), for
/// one path part of a console URL.
pub fn encode(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One AWS CLI command line, built argument by argument.
#[derive(Debug, Clone)]
pub struct Command(String);

impl Command {
    /// `aws <service> <operation>`, e.g. `Command::aws("iam delete-login-profile")`.
    pub fn aws(operation: &'static str) -> Command {
        let mut text = String::with_capacity(160);
        text.push_str("aws ");
        text.push_str(operation);
        Command(text)
    }

    /// `--flag value`, the value shell-quoted. A value starting with `-` is written
    /// `--flag=value`, so that the CLI does not read it as an option.
    pub fn arg(mut self, flag: &'static str, value: &str) -> Command {
        let separator = if value.starts_with('-') { '=' } else { ' ' };
        self.0.push(' ');
        self.0.push_str(flag);
        self.0.push(separator);
        self.0.push_str(&shell_quote(value));
        self
    }

    /// `--flag value value …`, each value shell-quoted.
    pub fn args(mut self, flag: &'static str, values: &[&str]) -> Command {
        self.0.push(' ');
        self.0.push_str(flag);
        for value in values {
            self.0.push(' ');
            self.0.push_str(&shell_quote(value));
        }
        self
    }

    /// Fixed text of this program's own (`--status Inactive`), never a value from a snapshot.
    pub fn raw(mut self, text: &'static str) -> Command {
        self.0.push(' ');
        self.0.push_str(text);
        self
    }

    /// `--flag "$(inner)"`: the value is what `inner` prints (its own values quoted by it).
    pub fn output_of(mut self, flag: &'static str, inner: Command) -> Command {
        self.0.push_str(&format!(" {flag} \"$({})\"", inner.0));
        self
    }

    /// `--flag value` when the snapshot knows the value, else `--flag "$(lookup)"`.
    pub fn arg_or_lookup(
        self,
        flag: &'static str,
        known: Option<&str>,
        lookup: impl FnOnce() -> Command,
    ) -> Command {
        match known {
            Some(value) => self.arg(flag, value),
            None => self.output_of(flag, lookup()),
        }
    }

    pub fn text(self) -> String {
        self.0
    }
}

/// Commands and `# …` lines, one a line.
pub fn lines(lines: impl IntoIterator<Item = String>) -> String {
    lines.into_iter().collect::<Vec<_>>().join("\n")
}

/// `# text`: what the reader decides or changes between two commands. A line break (or any
/// control character) in `text`, which may hold names, becomes a space: nothing can leave the
/// comment and become a command line.
pub fn note(text: &str) -> String {
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("# {text}")
}

/// The command that deactivates one of `user`'s access keys. The snapshot numbers keys (the
/// credential report's 1 and 2) but does not hold their ids, so the command looks the key up
/// by its creation time (the report's `last_rotated`); if the key was replaced since, the
/// lookup finds nothing and the command fails without changing anything.
pub fn deactivate_key(user: &str, key: &AccessKey) -> String {
    match key.last_rotated.value() {
        Some(created) => Command::aws("iam update-access-key")
            .arg("--user-name", user)
            .output_of("--access-key-id", key_lookup(user, &created.format("%Y-%m-%dT%H:%M:%S").to_string()))
            .raw("--status Inactive")
            .text(),
        None => Command::aws("iam list-access-keys").arg("--user-name", user).text(),
    }
}

/// `aws iam list-access-keys` printing the id of `user`'s key created at `created` (to the second).
fn key_lookup(user: &str, created: &str) -> Command {
    let query = format!("AccessKeyMetadata[?starts_with(CreateDate, `\"{created}\"`)].AccessKeyId");
    Command::aws("iam list-access-keys").arg("--user-name", user).arg("--query", &query).raw("--output text")
}

pub fn delete_login_profile(user: &str) -> String {
    Command::aws("iam delete-login-profile").arg("--user-name", user).text()
}

/// A trust policy rewrite: save the role's trust policy, change it as `what_to_change` says,
/// apply it.
pub fn rewrite_trust(role: &str, what_to_change: &str) -> String {
    lines([
        Command::aws("iam get-role")
            .arg("--role-name", role)
            .raw("--query Role.AssumeRolePolicyDocument --output json > trust.json")
            .text(),
        note(&format!("edit trust.json: {what_to_change}; then apply it:")),
        Command::aws("iam update-assume-role-policy")
            .arg("--role-name", role)
            .raw("--policy-document file://trust.json")
            .text(),
    ])
}

/// Deleting a role: the commands that list what must go first, then the delete.
pub fn delete_role(role: &str) -> String {
    let listing =
        ["iam list-attached-role-policies", "iam list-role-policies", "iam list-instance-profiles-for-role"];
    let first = "detach, delete and remove what these list (its policies and instance profiles), then:";
    listed_then_deleted(("--role-name", role), &listing, first, "iam delete-role")
}

/// Deleting a user: the commands that list what must go first, then the delete.
pub fn delete_user(user: &str) -> String {
    let listing = ["iam list-groups-for-user", "iam list-attached-user-policies", "iam list-user-policies"];
    let first = "remove the user from these groups and detach or delete these policies, then:";
    listed_then_deleted(("--user-name", user), &listing, first, "iam delete-user")
}

fn listed_then_deleted(
    (flag, name): (&'static str, &str),
    listing: &[&'static str],
    first: &str,
    delete: &'static str,
) -> String {
    let listed = listing.iter().map(|op| Command::aws(op).arg(flag, name).text());
    lines(listed.chain([note(first), Command::aws(delete).arg(flag, name).text()]))
}

/// The Identity Center instance a permission set belongs to: `arn:aws:sso:::instance/ssoins-…`
/// from `arn:aws:sso:::permissionSet/ssoins-…/ps-…`.
pub fn instance_arn(permission_set_arn: &str) -> Option<String> {
    let (prefix, rest) = permission_set_arn.split_once(":permissionSet/")?;
    let (instance, _) = rest.split_once('/')?;
    Some(format!("{prefix}:instance/{instance}"))
}

/// `aws sso-admin <operation> --instance-arn … --permission-set-arn …` for `permission_set_arn`.
pub fn sso_admin(operation: &'static str, permission_set_arn: &str) -> Option<Command> {
    let instance = instance_arn(permission_set_arn)?;
    Some(
        Command::aws(operation)
            .arg("--instance-arn", &instance)
            .arg("--permission-set-arn", permission_set_arn),
    )
}

/// Who is assigned a permission set on one account.
pub fn list_assignments(permission_set_arn: &str, account_id: &str) -> Option<String> {
    let command = sso_admin("sso-admin list-account-assignments", permission_set_arn)?;
    Some(command.arg("--account-id", account_id).text())
}

/// Removing an account assignment of a permission set.
pub fn delete_assignment(
    permission_set_arn: &str,
    account_id: &str,
    principal_type: &'static str,
    principal_id: &str,
) -> Option<String> {
    let command = sso_admin("sso-admin delete-account-assignment", permission_set_arn)?
        .raw("--target-type AWS_ACCOUNT")
        .arg("--target-id", account_id)
        .raw(principal_type)
        .arg("--principal-id", principal_id);
    Some(command.text())
}

/// The AWS console's address for the partition an ARN names; None for one it does not know.
fn console_host(arn: &str) -> Option<&'static str> {
    match arn.strip_prefix("arn:")?.split(':').next()? {
        "aws" => Some("console.aws.amazon.com"),
        "aws-us-gov" => Some("console.amazonaws-us-gov.com"),
        "aws-cn" => Some("console.amazonaws.cn"),
        _ => None,
    }
}

/// An IAM console page (`#/<page>`) in the partition of `arn`.
fn iam_page(arn: &str, page: &str) -> Option<String> {
    Some(format!("https://{}/iam/home#/{page}", console_host(arn)?))
}

/// The IAM console page of a user, role or group (`kind` `users`, `roles`, `groups`), named by
/// its name (IAM's pages take the name, not the path).
pub fn principal_page(arn: &str, kind: &str, name: &str) -> Option<String> {
    iam_page(arn, &format!("{kind}/details/{}", encode(name)))
}

/// The IAM console page of a user, role, group or managed policy, from its ARN.
pub fn iam_arn_page(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let (kind, rest) = resource.split_once('/')?;
    let name = rest.rsplit('/').next()?;
    match kind {
        "user" => principal_page(arn, "users", name),
        "role" => principal_page(arn, "roles", name),
        "group" => principal_page(arn, "groups", name),
        "policy" => policy_page(arn),
        _ => None,
    }
}

/// A user's page, on its security credentials (password, MFA, access keys).
pub fn user_credentials_page(arn: &str, name: &str) -> Option<String> {
    iam_page(arn, &format!("users/details/{}?section=security_credentials", encode(name)))
}

/// A managed policy's page, by its ARN.
pub fn policy_page(policy_arn: &str) -> Option<String> {
    iam_page(policy_arn, &format!("policies/details/{}", encode(policy_arn)))
}

/// The account's IAM settings (password policy).
pub fn account_settings_page(account_arn: &str) -> Option<String> {
    iam_page(account_arn, "account_settings")
}

/// "My security credentials": the root user's, when signed in as root.
pub fn root_credentials_page(account_arn: &str) -> Option<String> {
    iam_page(account_arn, "security_credentials")
}

/// IAM Access Analyzer's page in `region`: `analyzers` or `findings`.
pub fn access_analyzer_page(account_arn: &str, region: &str, page: &str) -> Option<String> {
    Some(format!(
        "https://{}/access-analyzer/home?region={}#/{page}",
        console_host(account_arn)?,
        encode(region)
    ))
}

/// Identity Center's page of a permission set. The console is regional and the snapshot does
/// not record Identity Center's region, so the page opens in the region last used.
pub fn permission_set_page(permission_set_arn: &str) -> Option<String> {
    let rest = permission_set_arn.split_once(":permissionSet/ssoins-")?.1;
    let (instance, set) = rest.split_once('/')?;
    Some(format!(
        "https://{}/singlesignon/home#/instances/{}/permission-sets/details/{}",
        console_host(permission_set_arn)?,
        encode(instance),
        encode(set)
    ))
}

/// The first placeholder in `text`: a name left for the reader to fill in. That is a `<…>`
/// slot, `AKIA...`, or an all-capitals value (`USER`, `ROLE_NAME`) after an option that names
/// something (`--user-name`, `--…-id`, `--…-arn`, `--region`); an enum value after another
/// option (`--type ACCOUNT`, `--principal-type USER`) is real. None when every name is real.
pub fn placeholder(text: &str) -> Option<String> {
    if let Some(start) = text.find('<') {
        if let Some(len) = text[start..].find('>') {
            return Some(text[start..=start + len].to_string());
        }
    }
    if text.contains("AKIA...") {
        return Some("AKIA...".into());
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(2).find_map(|pair| {
        let (option, value) = (pair[0], pair[1]);
        let names_something = option.starts_with("--")
            && ["-name", "-id", "-ids", "-arn", "--region"].iter().any(|e| option.ends_with(e));
        let capitals =
            value.len() >= 2 && value.chars().all(|c| c.is_ascii_uppercase() || c == '_' || c == '|');
        (names_something && capitals).then(|| value.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a POSIX shell makes of `word`: single quotes and the `'\''` form undone. Enough to
    /// read back [`shell_quote`]'s output, which uses nothing else.
    fn unquote(word: &str) -> String {
        let (mut out, mut quoted) = (String::new(), false);
        let mut chars = word.chars();
        while let Some(c) = chars.next() {
            match c {
                '\'' => quoted = !quoted,
                '\\' if !quoted => out.extend(chars.next()),
                other => out.push(other),
            }
        }
        assert!(!quoted, "unbalanced quotes in {word}");
        out
    }

    const HOSTILE: &[&str] = &[
        "bob's",
        "a b",
        "$(rm -rf ~)",
        "`id`",
        "$HOME",
        "x;y",
        "a|b&c",
        "new\nline",
        "*",
        "~root",
        "=cmd@evil",
        "'",
        "''",
        "\\",
        "\"q\"",
        "",
        "ünïcode",
    ];

    #[test]
    fn plain_iam_names_and_arns_stay_as_they_are() {
        for name in
            ["alice", "svc+deploy@acme.example", "a,b.c_d-e", "arn:aws:iam::111122223333:policy/path/P"]
        {
            assert_eq!(shell_quote(name), name);
        }
    }

    #[test]
    fn hostile_names_are_one_quoted_word_that_reads_back_as_they_were() {
        for name in HOSTILE {
            let quoted = shell_quote(name);
            assert!(quoted.starts_with('\'') && quoted.ends_with('\''), "{name:?} → {quoted}");
            assert_eq!(unquote(&quoted), *name, "{quoted}");
            // Outside the quotes only `\'` appears: nothing the shell would expand or run.
            let mut inside = false;
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\'' => inside = !inside,
                    '\\' if !inside => assert_eq!(chars.next(), Some('\''), "{name:?} → {quoted}"),
                    _ => assert!(inside, "{c:?} outside the quotes: {name:?} → {quoted}"),
                }
            }
        }
    }

    /// The quoting holds in a real shell: `printf '%s\n'` prints each argument back unchanged.
    #[test]
    fn a_real_shell_reads_the_quoted_names_back() {
        let words: Vec<String> = HOSTILE.iter().map(|n| shell_quote(n).into_owned()).collect();
        let script = format!("printf '%s\\0' {}", words.join(" "));
        let output = std::process::Command::new("sh").arg("-c").arg(&script).output().expect("sh runs");
        assert!(output.status.success(), "{script}");
        let printed: Vec<String> =
            output.stdout.split(|b| *b == 0).map(|w| String::from_utf8_lossy(w).into_owned()).collect();
        let expected: Vec<String> = HOSTILE.iter().map(|n| n.to_string()).chain([String::new()]).collect();
        assert_eq!(printed, expected);
    }

    #[test]
    fn a_value_that_looks_like_an_option_is_joined_to_its_flag() {
        let command = Command::aws("iam delete-login-profile").arg("--user-name", "-x").text();
        assert_eq!(command, "aws iam delete-login-profile --user-name=-x");
        let command = Command::aws("iam delete-login-profile").arg("--user-name", "-$(id)").text();
        assert_eq!(command, "aws iam delete-login-profile --user-name='-$(id)'");
    }

    #[test]
    fn a_note_stays_one_comment_line() {
        assert_eq!(
            note("user a\naws iam delete-user --user-name b\r"),
            "# user a aws iam delete-user --user-name b "
        );
    }

    #[test]
    fn a_key_is_found_by_its_creation_time() {
        let key = AccessKey {
            number: 1,
            active: true,
            last_rotated: crate::snapshot::credential_report::Reported::Value(
                "2024-01-02T03:04:05Z".parse().unwrap(),
            ),
            last_used: crate::snapshot::credential_report::Reported::NotApplicable,
        };
        assert_eq!(
            deactivate_key("o'brien", &key),
            "aws iam update-access-key --user-name 'o'\\''brien' --access-key-id \"$(aws iam list-access-keys \
             --user-name 'o'\\''brien' --query 'AccessKeyMetadata[?starts_with(CreateDate, `\"2024-01-02T03:04:05\"`)].AccessKeyId' \
             --output text)\" --status Inactive"
        );
    }

    #[test]
    fn console_urls_encode_their_parts_and_follow_the_partition() {
        let iam = "https://console.aws.amazon.com/iam/home#/";
        let cases = [
            (
                principal_page("arn:aws:iam::111122223333:user/a b", "users", "a b/'\"<x>"),
                format!("{iam}users/details/a%20b%2F%27%22%3Cx%3E"),
            ),
            (
                policy_page("arn:aws:iam::111122223333:policy/ops/Admin"),
                format!("{iam}policies/details/arn%3Aaws%3Aiam%3A%3A111122223333%3Apolicy%2Fops%2FAdmin"),
            ),
            (
                iam_arn_page("arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_A_1"),
                format!("{iam}roles/details/AWSReservedSSO_A_1"),
            ),
            (
                account_settings_page("arn:aws-us-gov:iam::111122223333:root"),
                "https://console.amazonaws-us-gov.com/iam/home#/account_settings".into(),
            ),
            (
                access_analyzer_page("arn:aws:iam::111122223333:root", "eu-west-1", "analyzers"),
                "https://console.aws.amazon.com/access-analyzer/home?region=eu-west-1#/analyzers".into(),
            ),
            (
                permission_set_page("arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0a1b2c3d4e5f6a7b"),
                "https://console.aws.amazon.com/singlesignon/home#/instances/7223a1b2c3d4e5f6/permission-sets/details/ps-0a1b2c3d4e5f6a7b".into(),
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got.as_deref(), Some(want.as_str()));
        }
        assert_eq!(iam_arn_page("arn:aws:iam::111122223333:root"), None);
        assert_eq!(principal_page("arn:other:iam::1:user/a", "users", "a"), None);
        assert_eq!(principal_page("not an arn", "users", "a"), None);
    }

    #[test]
    fn the_instance_comes_from_the_permission_set_arn() {
        assert_eq!(
            instance_arn("arn:aws:sso:::permissionSet/ssoins-1/ps-2").as_deref(),
            Some("arn:aws:sso:::instance/ssoins-1")
        );
        assert_eq!(instance_arn("arn:aws:iam::1:role/x"), None);
    }

    #[test]
    fn placeholders_are_found_and_real_names_are_not() {
        for text in [
            "aws iam delete-login-profile --user-name USER",
            "aws iam update-access-key --access-key-id AKIA... --status Inactive",
            "aws iam detach-role-policy --role-name <role> --policy-arn x",
            "aws sso-admin update-permission-set --instance-arn INSTANCE",
            "aws accessanalyzer create-analyzer --type ACCOUNT --region REGION",
            "aws sso-admin delete-account-assignment --target-id ACCOUNT --principal-type USER|GROUP --principal-id ID",
        ] {
            assert!(placeholder(text).is_some(), "{text}");
        }
        for text in [
            "aws iam delete-login-profile --user-name alice",
            "aws accessanalyzer create-analyzer --analyzer-name account-analyzer --type ACCOUNT --region eu-west-1",
            "aws sso-admin delete-account-assignment --target-type AWS_ACCOUNT --principal-type USER --principal-id 9067-a",
        ] {
            assert_eq!(placeholder(text), None, "{text}");
        }
    }
}
