//! `organization/accounts.json` and `organization/scps.json`: who is in the organization,
//! and the service control policies that cap every member account.

use super::InputProblem;
use crate::identifiers::{arn_account, AccountId};
use crate::policy::document::PolicyDocument;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;

/// Written by collection instead of `organization/scps.json` when the SCPs could not be read
/// (error.json's shape).
pub const SCPS_ERROR: &str = "organization/scps-error.json";

#[derive(Debug, Clone)]
pub struct OrgAccount {
    pub id: AccountId,
    pub name: String,
    /// ACTIVE | SUSPENDED | PENDING_CLOSURE
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct Scp {
    pub id: String,
    pub name: String,
    pub document: Option<PolicyDocument>,
    /// Root, OU or account ids the policy is attached to.
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Organization {
    pub id: Option<String>,
    pub root_id: Option<String>,
    pub management_account: Option<AccountId>,
    pub accounts: Vec<OrgAccount>,
    pub scps: Vec<Scp>,
    /// Root, then OUs from the top, for each account (`ListParents`); may be absent.
    pub account_paths: HashMap<String, Vec<String>>,
    pub scps_collected: bool,
    /// Why the organization's SCPs are not known (not collected, or unreadable): every verdict
    /// an SCP would cap is then unknown, and the run is partial.
    pub scps_lost: Option<String>,
}

impl Organization {
    pub fn is_member(&self, account: &str) -> bool {
        self.accounts.iter().any(|a| a.id.as_str() == account)
    }

    /// The SCPs in force for an account, one list per level (root, each OU, the account).
    /// Empty for the management account, which SCPs never restrict.
    pub fn scp_levels(&self, account: &AccountId) -> Vec<Vec<&Scp>> {
        if !self.scps_collected || self.management_account.as_ref() == Some(account) {
            return Vec::new();
        }
        let mut path: Vec<&str> = match self.account_paths.get(account.as_str()) {
            Some(path) => path.iter().map(String::as_str).collect(),
            None => self.root_id.iter().map(String::as_str).collect(),
        };
        path.push(account.as_str());
        path.iter()
            .map(|target| {
                self.scps.iter().filter(|p| p.targets.iter().any(|t| t == target)).collect::<Vec<_>>()
            })
            .filter(|level| !level.is_empty())
            .collect()
    }

    pub fn read_accounts(&mut self, json: &str, file: &str) -> Result<(), InputProblem> {
        #[derive(Deserialize)]
        struct File {
            #[serde(rename = "Accounts")]
            accounts: Vec<Raw>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Raw {
            id: String,
            arn: Option<String>,
            name: Option<String>,
            status: Option<String>,
            state: Option<String>,
        }
        let parsed: File = serde_json::from_str(json).map_err(|e| InputProblem::json(file, &e))?;
        for (i, raw) in parsed.accounts.into_iter().enumerate() {
            let id = AccountId::parse(&raw.id).ok_or_else(|| {
                InputProblem::at(
                    file,
                    &format!("Accounts[{i}].Id"),
                    &format!("`{}` is not an account id", raw.id),
                )
            })?;
            if self.management_account.is_none() {
                // Every account ARN names the management account: arn:aws:organizations::<mgmt>:account/o-…/<id>
                self.management_account = raw.arn.as_deref().and_then(arn_account).and_then(AccountId::parse);
            }
            self.accounts.push(OrgAccount {
                id,
                name: raw.name.unwrap_or_default(),
                status: raw.state.or(raw.status).unwrap_or_else(|| "ACTIVE".into()),
            });
        }
        Ok(())
    }

    pub fn read_scps(
        &mut self,
        json: &str,
        file: &str,
        problems: &mut Vec<InputProblem>,
    ) -> Result<(), InputProblem> {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct File {
            organization_id: Option<String>,
            root_id: Option<String>,
            #[serde(default)]
            policies: Vec<RawPolicy>,
            #[serde(default)]
            account_paths: HashMap<String, Vec<String>>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct RawPolicy {
            id: String,
            name: Option<String>,
            content: Box<RawValue>,
            #[serde(default)]
            targets: Vec<RawTarget>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct RawTarget {
            target_id: String,
        }
        let parsed: File = serde_json::from_str(json).map_err(|e| InputProblem::json(file, &e))?;
        self.id = self.id.take().or(parsed.organization_id);
        self.root_id = parsed.root_id;
        self.account_paths = parsed.account_paths;
        for (i, raw) in parsed.policies.into_iter().enumerate() {
            let document = match PolicyDocument::from_raw(&raw.content) {
                Ok(d) => {
                    for note in &d.notes {
                        problems.push(InputProblem::note(file, &format!("Policies[{i}].Content"), note));
                    }
                    Some(d)
                }
                Err(e) => {
                    problems.push(InputProblem::at(file, &format!("Policies[{i}].Content"), &e.0));
                    None
                }
            };
            self.scps.push(Scp {
                name: raw.name.unwrap_or_else(|| raw.id.clone()),
                id: raw.id,
                document,
                targets: raw.targets.into_iter().map(|t| t.target_id).collect(),
            });
        }
        self.scps_collected = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNTS: &str = r#"{"Accounts":[
        {"Id":"111111111111","Arn":"arn:aws:organizations::111111111111:account/o-abc/111111111111","Name":"management","Status":"ACTIVE"},
        {"Id":"222222222222","Arn":"arn:aws:organizations::111111111111:account/o-abc/222222222222","Name":"prod","Status":"ACTIVE"},
        {"Id":"333333333333","Arn":"arn:aws:organizations::111111111111:account/o-abc/333333333333","Name":"old","Status":"SUSPENDED"}]}"#;

    #[test]
    fn the_management_account_comes_from_the_arns() {
        let mut org = Organization::default();
        org.read_accounts(ACCOUNTS, "a.json").unwrap();
        assert_eq!(org.management_account.unwrap().as_str(), "111111111111");
        assert_eq!(org.accounts[2].status, "SUSPENDED");
    }

    #[test]
    fn scps_never_apply_to_the_management_account() {
        let mut org = Organization::default();
        org.read_accounts(ACCOUNTS, "a.json").unwrap();
        let mut problems = Vec::new();
        org.read_scps(
            r#"{"RootId":"r-root","Policies":[
                {"Id":"p-full","Content":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]},"Targets":[{"TargetId":"r-root","Type":"ROOT"}]},
                {"Id":"p-deny","Content":"{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"iam:*\",\"Resource\":\"*\"}]}","Targets":[{"TargetId":"ou-x","Type":"ORGANIZATIONAL_UNIT"}]}],
               "AccountPaths":{"222222222222":["r-root","ou-x"]}}"#,
            "s.json",
            &mut problems,
        )
        .unwrap();
        assert!(problems.is_empty());
        assert!(org.scp_levels(&AccountId::parse("111111111111").unwrap()).is_empty());
        let levels = org.scp_levels(&AccountId::parse("222222222222").unwrap());
        assert_eq!(levels.len(), 2, "root and OU levels; the account has no SCP of its own here");
        assert_eq!(levels[1][0].id, "p-deny");
    }
}
