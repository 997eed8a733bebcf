//! Who holds or reaches admin power in one account, and how: the bridge from a loaded
//! account snapshot to the escalation graph (`policy::escalation`), read by `admin-access`.
//! Not a check itself.
//!
//! The account's own search runs while the account is loaded; its [`AccountExport`] goes
//! to the organization-wide pass (`audit.rs`), which adds the principals that reach admin
//! only by assuming a role of another account.

use crate::policy::document::Effect;
use crate::policy::escalation::graph::{AccountGraph, Escalation, SearchStats, Standing, Verdict};
use crate::policy::escalation::org::{AccountExport, ExportCache, ExportedCaller, ExportedRole};
use crate::policy::escalation::principal::{self, NodeKind};
use crate::snapshot::authorization::sso_permission_set_of_arn;
use crate::snapshot::organization::Organization;
use crate::snapshot::AccountSnapshot;
use std::collections::HashMap;

/// One account's escalation analysis.
#[derive(Debug, Clone)]
pub struct AccountEscalation {
    /// Every user and role that holds, reaches or is capped from admin (not the others).
    pub verdicts: Vec<Verdict>,
    pub export: AccountExport,
    pub stats: SearchStats,
}

pub fn analyse(account: &AccountSnapshot, organization: &Organization) -> AccountEscalation {
    let Some(graph) = &account.authorization else {
        return AccountEscalation {
            verdicts: Vec::new(),
            export: AccountExport::new(account.account_id.clone()),
            stats: SearchStats::default(),
        };
    };
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
    let mut export = AccountExport::new(account.account_id.clone());
    let mut cache = ExportCache::default();
    for (i, node) in search.nodes.iter().enumerate() {
        if node.kind == NodeKind::Group {
            continue;
        }
        let reached = search.escalation(i);
        let caller = !node.service_linked && node.policies.may_allow_action("sts:assumerole");
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
                    let role = ExportedRole {
                        arn: node.arn.to_string(),
                        name: node.name.to_string(),
                        trust: trust.clone(),
                        reached: reached.cloned(),
                    };
                    if role.crosses_accounts(caller) {
                        export.roles.push(role);
                    }
                }
            }
        }
        // One that certainly reaches admin at home has nothing to gain from another account.
        if caller && reached.is_none_or(|e| e.potential) {
            export.callers.push(ExportedCaller::new(node, node.tags, reached, &mut cache));
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
pub fn merge_cross_account(verdicts: &mut Vec<Verdict>, found: Vec<(NodeKind, String, Escalation)>) {
    for (kind, arn, escalation) in found {
        match verdicts.iter_mut().find(|v| v.arn == arn) {
            Some(verdict) if matches!(&verdict.standing, Standing::Holds { .. }) => {}
            // A certain path across accounts beats a potential one at home.
            Some(verdict) if matches!(&verdict.standing, Standing::Escalates(e) if !e.potential || escalation.potential) =>
                {}
            Some(verdict) => verdict.standing = Standing::Escalates(escalation),
            None => verdicts.push(Verdict {
                kind,
                name: arn.rsplit('/').next().unwrap_or(&arn).to_string(),
                sso_permission_set: sso_permission_set_of_arn(&arn).map(str::to_string),
                arn,
                standing: Standing::Escalates(escalation),
                service_linked: false,
                unknown_policies: Vec::new(),
            }),
        }
    }
}
