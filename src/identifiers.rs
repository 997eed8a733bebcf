//! Typed identifiers that travel through the whole pipeline: account ids and ARNs.
//!
//! They are parsed once, where a snapshot or the config is read, so that the checks can
//! rely on their shape. Not a full ARN grammar: only what the audit needs.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(text: &str) -> Option<AccountId> {
        let text = text.trim();
        (text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())).then(|| AccountId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `arn:aws:iam::<id>:root`, the resource of every account-level finding.
    pub fn root_arn(&self) -> String {
        format!("arn:aws:iam::{}:root", self.0)
    }
}

impl TryFrom<String> for AccountId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        AccountId::parse(&value).ok_or_else(|| format!("`{value}` is not a 12-digit AWS account id"))
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The account id inside an ARN (`arn:partition:service:region:ACCOUNT:resource`), if any.
pub fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let account = parts.nth(3)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// The account a principal value names as a whole: a bare account id (`111122223333`) or the
/// account's root ARN (`arn:aws:iam::111122223333:root`), which both stand for every
/// principal of that account.
pub fn whole_account(value: &str) -> Option<&str> {
    let account = value.strip_prefix("arn:aws:iam::").and_then(|v| v.strip_suffix(":root")).unwrap_or(value);
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`); `aws` when it cannot be told.
pub fn arn_partition(arn: &str) -> &str {
    arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_account_is_its_id_or_its_root() {
        assert_eq!(whole_account("111122223333"), Some("111122223333"));
        assert_eq!(whole_account("arn:aws:iam::111122223333:root"), Some("111122223333"));
        assert_eq!(whole_account("arn:aws:iam::111122223333:role/admin"), None);
        assert_eq!(whole_account("arn:aws:iam::*:root"), None);
        assert_eq!(whole_account("*"), None);
        assert_eq!(whole_account("11112222333"), None);
    }

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(AccountId::parse("123456789012").is_some());
        assert!(AccountId::parse("12345678901").is_none());
        assert!(AccountId::parse("12345678901a").is_none());
        assert_eq!(AccountId::parse(" 123456789012 ").unwrap().root_arn(), "arn:aws:iam::123456789012:root");
    }

    #[test]
    fn arn_account_reads_the_fifth_field() {
        assert_eq!(arn_account("arn:aws:iam::123456789012:role/x"), Some("123456789012"));
        assert_eq!(arn_account("arn:aws:iam::aws:policy/AdministratorAccess"), None);
        assert_eq!(arn_account("arn:aws:s3:::bucket"), None);
        assert_eq!(arn_account("123456789012"), None);
        assert_eq!(arn_partition("arn:aws-cn:iam::123456789012:root"), "aws-cn");
    }
}
