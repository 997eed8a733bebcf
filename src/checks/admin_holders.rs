//! Who holds or reaches admin power in one account, and how: the bridge from a loaded
//! account snapshot to the escalation graph (`policy::escalation`), read by `admin-access`.
//! Not a check itself.
//!
//! The account's own search runs while the account is loaded; its [`AccountExport`] goes
//! to the organization-wide pass (`audit.rs`), which adds the principals that reach admin
//! only by assuming a role of another account.

use crate::policy::document::Effect;
use crate::policy::escalation::graph::{AccountGraph, SearchStats, Standing, Verdict};
use crate::policy::escalation::org::{AccountExport, ExportedCaller, ExportedRole};
use crate::policy::escalation::principal::{self, NodeKind};
use crate::snapshot::authorization::sso_permission_set_of_arn;
use crate::snapshot::organization::Organization;
use crate::snapshot::AccountSnapshot;
use std::collections::HashMap;

/// One account's escalation analysis.
#[derive(Debug, Clone, Default)]
pub struct AccountEscalation {
    /// Every user and role that holds, reaches or is capped from admin (not the others).
    pub verdicts: Vec<Verdict>,
    pub export: AccountExport,
    pub stats: SearchStats,
}

pub fn analyse(account: &AccountSnapshot, organization: &Organization) -> AccountEscalation {
    let Some(graph) = &account.authorization else { return AccountEscalation::default() };
    let login: HashMap<&str, bool> = account
        .credential_report
        .iter()
        .flat_map(|r| r.users())
        .filter_map(|row| row.password_enabled.value().map(|enabled| (row.user.as_str(), enabled)))
        .collect();
    let login_profiles = |user: &str| login.get(user).copied();
    let nodes = principal::nodes(graph, &account.account_id, organization, &login_profiles);
    let mut search = AccountGraph::new(nodes);
    search.search(Vec::new());
    let verdicts = search.verdicts();
    let mut export = AccountExport { account: account.account_id.to_string(), ..Default::default() };
    for (i, node) in search.nodes.iter().enumerate() {
        if node.kind == NodeKind::Group {
            continue;
        }
        if let Some(escalation) = search.escalation(i) {
            export.reached.insert(node.arn.to_string(), escalation.clone());
        }
        if node.kind == NodeKind::Role {
            if let Some(trust) = node.trust {
                let names_aws = trust.statements.iter().any(|s| {
                    s.effect == Effect::Allow
                        && (s.not_principal.is_some()
                            || s.principal.as_ref().is_some_and(|p| {
                                p.is_anyone() || p.entries().iter().any(|e| e.kind == "AWS")
                            }))
                });
                if names_aws {
                    export.roles.push(ExportedRole {
                        arn: node.arn.to_string(),
                        name: node.name.to_string(),
                        trust: trust.clone(),
                    });
                }
            }
        }
        if !node.service_linked && node.policies.may_allow_action("sts:assumerole") {
            export.callers.push(ExportedCaller::new(node.arn, node.kind, &node.context, &node.policies));
        }
    }
    AccountEscalation {
        verdicts: verdicts.into_iter().filter(|v| v.standing != Standing::NotAdmin).collect(),
        export,
        stats: search.stats,
    }
}

/// Folds the organization-wide findings into one account's verdicts: a principal that
/// reaches admin only through another account gets that path.
pub fn merge_cross_account(
    verdicts: &mut Vec<Verdict>,
    export: &AccountExport,
    found: &std::collections::BTreeMap<String, crate::policy::escalation::graph::Escalation>,
) {
    for caller in &export.callers {
        let Some(escalation) = found.get(&caller.arn) else { continue };
        match verdicts.iter_mut().find(|v| v.arn == caller.arn) {
            Some(verdict) if matches!(&verdict.standing, Standing::Holds { .. }) => {}
            // A certain path across accounts beats a potential one at home.
            Some(verdict) if matches!(&verdict.standing, Standing::Escalates(e) if !e.potential || escalation.potential) =>
                {}
            Some(verdict) => verdict.standing = Standing::Escalates(escalation.clone()),
            None => verdicts.push(Verdict {
                kind: caller.kind,
                arn: caller.arn.clone(),
                name: caller.arn.rsplit('/').next().unwrap_or(&caller.arn).to_string(),
                standing: Standing::Escalates(escalation.clone()),
                service_linked: false,
                sso_permission_set: sso_permission_set_of_arn(&caller.arn).map(str::to_string),
                unknown_policies: Vec::new(),
            }),
        }
    }
}
