//! IAM Identity Center, collected once per run from the caller's account (the management
//! account or the Identity Center delegated administrator): the instances, every permission
//! set with its policies, the account assignments, and the users, groups and group
//! memberships of the identity store. Written to `organization/identity-center/` in the
//! AWS CLI's shapes (`snapshot::identity_center` holds the types). Nothing here judges.
//!
//! Which (account, permission set) pairs are read with ListAccountAssignments: the union of
//! ListAccountsForProvisionedPermissionSet (per set) and ListPermissionSetsProvisionedToAccount
//! (per ACTIVE account of the organization). On AWS the two views agree, since an
//! assignment provisions its set into its account; moto's first view only ever names the
//! caller's account, so the second one is what finds the member accounts there.
//!
//! Identity Center is never a reason to fail a run: when it cannot be read at all,
//! `status.json` says `"Collected": false` and why; a part that fails is named in
//! `"Partial"` and the rest is kept. One rate limit spaces every call of both clients.

use super::calls::CallTally;
use super::rate_limit::RateLimit;
use super::{write_json, CollectError, StageError};
use crate::snapshot::identity_center as files;
use crate::snapshot::identity_center::{
    AccountAssignment, AttachedManagedPolicy, CustomerManagedPolicyReference, Email, Group, GroupMembership,
    Instance, MemberId, PermissionSet, PermissionsBoundary, Status, User,
};
use aws_config::SdkConfig;
use futures::StreamExt;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashSet};
use std::future::Future;
use std::path::Path;
use std::sync::Mutex;

/// How many calls are in flight at once; the rate limit, not this, sets the pace.
const IN_FLIGHT: usize = 8;

/// Items per page: the most every one of these listings allows.
const PAGE: i32 = 100;

/// Where and how fast to read.
pub struct Plan<'a> {
    pub sdk: &'a SdkConfig,
    /// None: the SDK's region.
    pub region: Option<&'a str>,
    pub requests_per_second: u32,
    pub max_attempts: u32,
    pub caller_account: &'a str,
    /// The ACTIVE accounts of the organization (the caller's alone without Organizations).
    pub accounts: Vec<String>,
}

/// What was read; `None` for a file that was not collected.
#[derive(Debug, Default)]
pub struct Collected {
    pub status: Status,
    pub instances: Option<Vec<Instance>>,
    pub permission_sets: Option<Vec<PermissionSet>>,
    pub assignments: Option<Vec<AccountAssignment>>,
    pub users: Option<Vec<User>>,
    pub groups: Option<Vec<Group>>,
    pub memberships: Option<Vec<GroupMembership>>,
}

impl Collected {
    fn not_collected(reason: String) -> Collected {
        Collected {
            status: Status { collected: false, reason: Some(reason), partial: vec![] },
            ..Default::default()
        }
    }

    /// The manifest note that tells the report what is missing, if anything is.
    pub fn note(&self) -> Option<String> {
        if !self.status.collected {
            let reason = self.status.reason.as_deref().unwrap_or("no reason recorded");
            return Some(format!("IAM Identity Center not collected: {reason}"));
        }
        (!self.status.partial.is_empty()).then(|| {
            format!(
                "IAM Identity Center collected in part ({}/{}): {}",
                files::DIR,
                files::STATUS,
                self.status.partial.join("; ")
            )
        })
    }

    /// Writes `organization/identity-center/` under the snapshot folder `root`.
    pub fn write(&self, root: &Path) -> Result<(), CollectError> {
        let dir = root.join(files::DIR);
        let write = |name: &str, value: Value| write_json(&dir.join(name), &value);
        write(files::STATUS, json!(self.status))?;
        if let Some(list) = &self.instances {
            write(files::INSTANCES, json!({ "Instances": list }))?;
        }
        if let Some(list) = &self.permission_sets {
            write(files::PERMISSION_SETS, json!({ "PermissionSets": list }))?;
        }
        if let Some(list) = &self.assignments {
            write(files::ACCOUNT_ASSIGNMENTS, json!({ "AccountAssignments": list }))?;
        }
        if let Some(list) = &self.users {
            write(files::USERS, json!({ "Users": list }))?;
        }
        if let Some(list) = &self.groups {
            write(files::GROUPS, json!({ "Groups": list }))?;
        }
        if let Some(list) = &self.memberships {
            write(files::GROUP_MEMBERSHIPS, json!({ "GroupMemberships": list }))?;
        }
        Ok(())
    }
}

/// Reads Identity Center; never fails (what could not be read is in the status).
pub async fn collect(plan: &Plan<'_>, tally: &CallTally) -> Collected {
    let mut config = plan.sdk.to_builder();
    if let Some(region) = plan.region {
        config = config.region(aws_config::Region::new(region.to_string()));
    }
    let config = config.build();
    let region = config.region().map(|r| r.to_string()).unwrap_or_default();
    // One budget for both services, apart from every account's (aws_sdk::retry_partition).
    let partition = crate::aws_sdk::retry_partition(format!("identity-center-{region}"));
    let reader = Reader {
        sso: aws_sdk_ssoadmin::Client::from_conf(
            aws_sdk_ssoadmin::config::Builder::from(&config)
                .interceptor(tally.interceptor("sso"))
                .retry_partition(partition.clone())
                .build(),
        ),
        store: aws_sdk_identitystore::Client::from_conf(
            aws_sdk_identitystore::config::Builder::from(&config)
                .interceptor(tally.interceptor("identitystore"))
                .retry_partition(partition)
                .build(),
        ),
        limit: RateLimit::per_second(plan.requests_per_second),
        max_attempts: plan.max_attempts,
        partial: Mutex::new(Vec::new()),
    };

    let instances = match reader.instances().await {
        Ok(instances) => instances,
        Err(error) => return Collected::not_collected(reader.advise(&error)),
    };
    if instances.is_empty() {
        return Collected::not_collected(format!(
            "sso:ListInstances found no IAM Identity Center instance in {region} for account {}: Identity \
             Center is not enabled, is in another region (set [organization] identity_center_region), or \
             the caller is neither the organization's management account nor the Identity Center \
             delegated administrator (run iam-auditor from one of them)",
            plan.caller_account
        ));
    }

    let mut out = Collected {
        instances: Some(instances.clone()),
        permission_sets: Some(Vec::new()),
        assignments: Some(Vec::new()),
        users: Some(Vec::new()),
        groups: Some(Vec::new()),
        memberships: Some(Vec::new()),
        ..Default::default()
    };
    for instance in &instances {
        let arn = instance.instance_arn.as_str();
        let set_arns = match reader.permission_set_arns(arn).await {
            Ok(arns) => arns,
            Err(error) => {
                let mut failed = Collected::not_collected(reader.advise(&error));
                failed.instances = out.instances;
                return failed;
            }
        };
        let sets: Vec<PermissionSet> = futures::stream::iter(set_arns.iter())
            .map(|set| reader.permission_set(arn, set))
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        let assignments = reader.assignments(arn, &sets, &plan.accounts).await;
        extend(&mut out.permission_sets, Some(sets));
        extend(&mut out.assignments, Some(assignments));

        let store = instance.identity_store_id.as_str();
        let (users, groups) = tokio::join!(reader.users(store), reader.groups(store));
        let memberships = match &groups {
            Some(groups) => Some(reader.memberships(store, groups).await),
            None => None,
        };
        extend(&mut out.users, users);
        extend(&mut out.groups, groups);
        extend(&mut out.memberships, memberships);
    }
    out.status =
        Status { collected: true, reason: None, partial: reader.partial.into_inner().unwrap_or_default() };
    out
}

/// Adds one instance's list to the others'; a list missing for any instance is missing.
fn extend<T>(all: &mut Option<Vec<T>>, one: Option<Vec<T>>) {
    match (all.as_mut(), one) {
        (Some(all), Some(one)) => all.extend(one),
        _ => *all = None,
    }
}

struct Reader {
    sso: aws_sdk_ssoadmin::Client,
    store: aws_sdk_identitystore::Client,
    limit: RateLimit,
    max_attempts: u32,
    /// What could not be read, for status.json's `Partial`.
    partial: Mutex<Vec<String>>,
}

/// One page of a listing: its items and the next token.
type Page<T> = Result<(Vec<T>, Option<String>), StageError>;

fn token(next: Option<&str>) -> Option<String> {
    next.filter(|t| !t.is_empty()).map(str::to_string)
}

impl Reader {
    fn note(&self, note: String) {
        tracing::warn!(event = "identity-center-partial", "IAM Identity Center: {note}");
        if let Ok(mut partial) = self.partial.lock() {
            partial.push(note);
        }
    }

    /// The error, and what to do about it.
    fn advise(&self, error: &StageError) -> String {
        let code = error.code.as_str();
        // Passing faults first: a 503 says nothing about the caller's permissions.
        let todo = if error.throttled {
            format!(
                "still throttled after {} attempts: lower [organization] identity_center_requests_per_second \
                 or raise max_attempts, and run again",
                self.max_attempts
            )
        } else if error.transient {
            format!(
                "AWS was unavailable for this call through {} attempts (a passing fault, not a permission \
                 problem): run again; if it persists, raise [organization] max_attempts",
                self.max_attempts
            )
        } else if code.contains("AccessDenied") {
            "run iam-auditor from the organization's management account or the Identity Center delegated \
             administrator, with the sso: and identitystore: actions of `iam-auditor audit-policy` allowed"
                .to_string()
        } else if code == "ConnectionFailed" {
            "check the network path to AWS (proxy, VPC endpoint, AWS_ENDPOINT_URL) and run again".into()
        } else {
            "run again; if it persists, report it with this message".into()
        };
        format!("{error}: {todo}")
    }

    async fn every_page<T, F, Fut>(&self, what: &str, fetch: F) -> Result<Vec<T>, StageError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Page<T>>,
    {
        every_page(&self.limit, what, |note| self.note(note), fetch).await
    }

    async fn instances(&self) -> Result<Vec<Instance>, StageError> {
        const STAGE: &str = "sso:ListInstances";
        self.every_page(STAGE, |next| async {
            let out = self
                .sso
                .list_instances()
                .set_next_token(next)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| StageError::from_sdk(STAGE, e))?;
            let page = out
                .instances()
                .iter()
                .map(|i| Instance {
                    instance_arn: i.instance_arn().unwrap_or_default().to_string(),
                    identity_store_id: i.identity_store_id().unwrap_or_default().to_string(),
                    owner_account_id: i.owner_account_id().map(str::to_string),
                    name: i.name().map(str::to_string),
                    status: i.status().map(|s| s.as_str().to_string()),
                })
                .collect();
            Ok((page, token(out.next_token())))
        })
        .await
    }

    async fn permission_set_arns(&self, instance: &str) -> Result<Vec<String>, StageError> {
        const STAGE: &str = "sso:ListPermissionSets";
        self.every_page(STAGE, |next| async {
            let out = self
                .sso
                .list_permission_sets()
                .instance_arn(instance)
                .set_next_token(next)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| StageError::from_sdk(STAGE, e))?;
            Ok((out.permission_sets().to_vec(), token(out.next_token())))
        })
        .await
    }

    /// One permission set with everything attached to it. A part that cannot be read is
    /// noted and left out; the set itself is always kept.
    async fn permission_set(&self, instance: &str, arn: &str) -> PermissionSet {
        let (described, managed, customer, inline, boundary, accounts) = tokio::join!(
            self.describe(instance, arn),
            self.managed_policies(instance, arn),
            self.customer_managed_policies(instance, arn),
            self.inline_policy(instance, arn),
            self.boundary(instance, arn),
            self.accounts_provisioned(instance, arn),
        );
        let mut set = match described {
            Ok(set) => set,
            Err(error) => {
                self.note(format!("permission set {arn} not described: {}", self.advise(&error)));
                PermissionSet {
                    permission_set_arn: arn.to_string(),
                    name: arn.to_string(),
                    ..Default::default()
                }
            }
        };
        let name = set.name.clone();
        let keep = |what: &str, result: Result<(), StageError>| {
            if let Err(error) = result {
                self.note(format!("{what} not read for {name}: {}", self.advise(&error)));
            }
        };
        keep("AttachedManagedPolicies", managed.map(|list| set.attached_managed_policies = list));
        keep(
            "CustomerManagedPolicyReferences",
            customer.map(|list| set.customer_managed_policy_references = list),
        );
        keep("InlinePolicy", inline.map(|policy| set.inline_policy = policy));
        keep("AccountIds", accounts.map(|list| set.account_ids = list));
        match boundary {
            Ok(boundary) => set.permissions_boundary = boundary,
            // moto does not implement the call (HTTP 500); AWS answers for every set.
            Err(error) => self.note(format!("PermissionsBoundary not read for {name}: {error}")),
        }
        set
    }

    async fn describe(&self, instance: &str, arn: &str) -> Result<PermissionSet, StageError> {
        const STAGE: &str = "sso:DescribePermissionSet";
        self.limit.turn().await;
        let out = self
            .sso
            .describe_permission_set()
            .instance_arn(instance)
            .permission_set_arn(arn)
            .send()
            .await
            .map_err(|e| StageError::from_sdk(STAGE, e).with_detail(arn.to_string()))?;
        let set = out.permission_set();
        let text = |value: Option<&str>| value.map(str::to_string);
        Ok(PermissionSet {
            permission_set_arn: arn.to_string(),
            name: set.and_then(|s| s.name()).unwrap_or(arn).to_string(),
            description: text(set.and_then(|s| s.description())),
            session_duration: text(set.and_then(|s| s.session_duration())),
            relay_state: text(set.and_then(|s| s.relay_state())),
            ..Default::default()
        })
    }

    async fn managed_policies(
        &self,
        instance: &str,
        arn: &str,
    ) -> Result<Vec<AttachedManagedPolicy>, StageError> {
        const STAGE: &str = "sso:ListManagedPoliciesInPermissionSet";
        self.every_page(&format!("{STAGE} ({arn})"), |next| async {
            let out = self
                .sso
                .list_managed_policies_in_permission_set()
                .instance_arn(instance)
                .permission_set_arn(arn)
                .set_next_token(next)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| StageError::from_sdk(STAGE, e))?;
            let page = out
                .attached_managed_policies()
                .iter()
                .map(|p| AttachedManagedPolicy {
                    name: p.name().unwrap_or_default().to_string(),
                    arn: p.arn().unwrap_or_default().to_string(),
                })
                .collect();
            Ok((page, token(out.next_token())))
        })
        .await
    }

    async fn customer_managed_policies(
        &self,
        instance: &str,
        arn: &str,
    ) -> Result<Vec<CustomerManagedPolicyReference>, StageError> {
        const STAGE: &str = "sso:ListCustomerManagedPolicyReferencesInPermissionSet";
        self.every_page(&format!("{STAGE} ({arn})"), |next| async {
            let out = self
                .sso
                .list_customer_managed_policy_references_in_permission_set()
                .instance_arn(instance)
                .permission_set_arn(arn)
                .set_next_token(next)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| StageError::from_sdk(STAGE, e))?;
            let page = out.customer_managed_policy_references().iter().map(customer_reference).collect();
            Ok((page, token(out.next_token())))
        })
        .await
    }

    /// The inline policy as a JSON object; None when the set has none (the API answers "").
    async fn inline_policy(&self, instance: &str, arn: &str) -> Result<Option<Value>, StageError> {
        const STAGE: &str = "sso:GetInlinePolicyForPermissionSet";
        self.limit.turn().await;
        let out = self
            .sso
            .get_inline_policy_for_permission_set()
            .instance_arn(instance)
            .permission_set_arn(arn)
            .send()
            .await
            .map_err(|e| StageError::from_sdk(STAGE, e))?;
        Ok(out.inline_policy().filter(|p| !p.trim().is_empty()).map(|text| {
            // Text that is not JSON is kept as it is, for the snapshot reader to report.
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
        }))
    }

    /// None when the set has no boundary (AWS answers ResourceNotFoundException).
    async fn boundary(&self, instance: &str, arn: &str) -> Result<Option<PermissionsBoundary>, StageError> {
        const STAGE: &str = "sso:GetPermissionsBoundaryForPermissionSet";
        self.limit.turn().await;
        let result = self
            .sso
            .get_permissions_boundary_for_permission_set()
            .instance_arn(instance)
            .permission_set_arn(arn)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.permissions_boundary().map(|b| PermissionsBoundary {
                customer_managed_policy_reference: b
                    .customer_managed_policy_reference()
                    .map(customer_reference),
                managed_policy_arn: b.managed_policy_arn().map(str::to_string),
            })),
            Err(e) => {
                let error = StageError::from_sdk(STAGE, e);
                if error.code == "ResourceNotFoundException" {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn accounts_provisioned(&self, instance: &str, arn: &str) -> Result<Vec<String>, StageError> {
        const STAGE: &str = "sso:ListAccountsForProvisionedPermissionSet";
        self.every_page(&format!("{STAGE} ({arn})"), |next| async {
            let out = self
                .sso
                .list_accounts_for_provisioned_permission_set()
                .instance_arn(instance)
                .permission_set_arn(arn)
                .set_next_token(next)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| StageError::from_sdk(STAGE, e))?;
            Ok((out.account_ids().to_vec(), token(out.next_token())))
        })
        .await
    }

    async fn sets_provisioned_to(&self, instance: &str, account: &str) -> Result<Vec<String>, StageError> {
        const STAGE: &str = "sso:ListPermissionSetsProvisionedToAccount";
        self.every_page(&format!("{STAGE} ({account})"), |next| async {
            let out = self
                .sso
                .list_permission_sets_provisioned_to_account()
                .instance_arn(instance)
                .account_id(account)
                .set_next_token(next)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| StageError::from_sdk(STAGE, e).with_detail(format!("account {account}")))?;
            Ok((out.permission_sets().to_vec(), token(out.next_token())))
        })
        .await
    }

    /// The assignments of every (account, permission set) pair either provisioning view names.
    async fn assignments(
        &self,
        instance: &str,
        sets: &[PermissionSet],
        accounts: &[String],
    ) -> Vec<AccountAssignment> {
        let mut pairs: BTreeSet<(String, String)> = sets
            .iter()
            .flat_map(|set| set.account_ids.iter().map(|a| (a.clone(), set.permission_set_arn.clone())))
            .collect();
        let provisioned: Vec<_> = futures::stream::iter(accounts.iter())
            .map(|account| async move { (account, self.sets_provisioned_to(instance, account).await) })
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        for (account, result) in provisioned {
            match result {
                Ok(arns) => pairs.extend(arns.into_iter().map(|arn| (account.clone(), arn))),
                Err(error) => self.note(format!(
                    "the permission sets provisioned to account {account} not read, so its assignments may be \
                     missing: {}",
                    self.advise(&error)
                )),
            }
        }
        let listed: Vec<_> =
            futures::stream::iter(pairs.iter())
                .map(|(account, set)| async move {
                    (account, set, self.assignments_of(instance, account, set).await)
                })
                .buffered(IN_FLIGHT)
                .collect()
                .await;
        let mut all = Vec::new();
        for (account, set, result) in listed {
            match result {
                Ok(list) => all.extend(list),
                Err(error) => self.note(format!(
                    "the assignments of {} in account {account} not read: {}",
                    set_name(sets, set),
                    self.advise(&error)
                )),
            }
        }
        // A service that repeats a page repeats its assignments; each is one fact.
        let mut seen = HashSet::new();
        all.retain(|a: &AccountAssignment| seen.insert(a.clone()));
        all
    }

    async fn assignments_of(
        &self,
        instance: &str,
        account: &str,
        set: &str,
    ) -> Result<Vec<AccountAssignment>, StageError> {
        const STAGE: &str = "sso:ListAccountAssignments";
        self.every_page(&format!("{STAGE} ({account}, {set})"), |next| async {
            let out = self
                .sso
                .list_account_assignments()
                .instance_arn(instance)
                .account_id(account)
                .permission_set_arn(set)
                .set_next_token(next)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| StageError::from_sdk(STAGE, e).with_detail(format!("account {account}")))?;
            let page = out
                .account_assignments()
                .iter()
                .map(|a| AccountAssignment {
                    account_id: a.account_id().unwrap_or(account).to_string(),
                    permission_set_arn: a.permission_set_arn().unwrap_or(set).to_string(),
                    principal_type: a.principal_type().map(|t| t.as_str()).unwrap_or_default().to_string(),
                    principal_id: a.principal_id().unwrap_or_default().to_string(),
                })
                .collect();
            Ok((page, token(out.next_token())))
        })
        .await
    }

    /// The identity store's users; None (noted) when they cannot be listed.
    async fn users(&self, store: &str) -> Option<Vec<User>> {
        const STAGE: &str = "identitystore:ListUsers";
        let result = self
            .every_page(STAGE, |next| async {
                let out = self
                    .store
                    .list_users()
                    .identity_store_id(store)
                    .set_next_token(next)
                    .max_results(PAGE)
                    .send()
                    .await
                    .map_err(|e| StageError::from_sdk(STAGE, e))?;
                let page = out
                    .users()
                    .iter()
                    .map(|u| User {
                        user_id: u.user_id().to_string(),
                        user_name: u.user_name().unwrap_or_default().to_string(),
                        display_name: u.display_name().map(str::to_string),
                        emails: u
                            .emails()
                            .iter()
                            .map(|e| Email {
                                value: e.value().unwrap_or_default().to_string(),
                                kind: e.r#type().map(str::to_string),
                                primary: Some(e.primary()),
                            })
                            .collect(),
                    })
                    .collect();
                Ok((page, token(out.next_token())))
            })
            .await;
        self.kept(result, "users.json (people are named by id only)")
    }

    async fn groups(&self, store: &str) -> Option<Vec<Group>> {
        const STAGE: &str = "identitystore:ListGroups";
        let result = self
            .every_page(STAGE, |next| async {
                let out = self
                    .store
                    .list_groups()
                    .identity_store_id(store)
                    .set_next_token(next)
                    .max_results(PAGE)
                    .send()
                    .await
                    .map_err(|e| StageError::from_sdk(STAGE, e))?;
                let page = out
                    .groups()
                    .iter()
                    .map(|g| Group {
                        group_id: g.group_id().to_string(),
                        display_name: g.display_name().unwrap_or_default().to_string(),
                        description: g.description().map(str::to_string),
                    })
                    .collect();
                Ok((page, token(out.next_token())))
            })
            .await;
        self.kept(result, "groups.json and group-memberships.json (who is in a group is unknown)")
    }

    /// The members of every group; a group whose members cannot be listed is noted.
    async fn memberships(&self, store: &str, groups: &[Group]) -> Vec<GroupMembership> {
        let listed: Vec<_> = futures::stream::iter(groups.iter())
            .map(|group| async move { (group, self.members_of(store, &group.group_id).await) })
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        let mut all = Vec::new();
        for (group, result) in listed {
            match result {
                Ok(list) => all.extend(list),
                Err(error) => self.note(format!(
                    "the members of group {} ({}) not read: {}",
                    group.display_name,
                    group.group_id,
                    self.advise(&error)
                )),
            }
        }
        all
    }

    async fn members_of(&self, store: &str, group: &str) -> Result<Vec<GroupMembership>, StageError> {
        const STAGE: &str = "identitystore:ListGroupMemberships";
        self.every_page(&format!("{STAGE} ({group})"), |next| async {
            let out = self
                .store
                .list_group_memberships()
                .identity_store_id(store)
                .group_id(group)
                .set_next_token(next)
                .max_results(PAGE)
                .send()
                .await
                .map_err(|e| StageError::from_sdk(STAGE, e))?;
            let page = out
                .group_memberships()
                .iter()
                .map(|m| GroupMembership {
                    group_id: m.group_id().unwrap_or(group).to_string(),
                    membership_id: Some(m.membership_id()).filter(|id| !id.is_empty()).map(str::to_string),
                    member_id: MemberId {
                        user_id: m.member_id().and_then(|id| id.as_user_id().ok()).cloned(),
                    },
                })
                .collect();
            Ok((page, token(out.next_token())))
        })
        .await
    }

    /// A listing's result, or None with a note naming the file left out.
    fn kept<T>(&self, result: Result<T, StageError>, left_out: &str) -> Option<T> {
        result.map_err(|error| self.note(format!("{left_out} not written: {}", self.advise(&error)))).ok()
    }
}

/// Every page of one listing, each call in its turn of `limit`. A NextToken the service
/// already gave ends the listing early, with a `note`: it may be incomplete, but it ends.
async fn every_page<T, F, Fut>(
    limit: &RateLimit,
    what: &str,
    note: impl Fn(String),
    mut fetch: F,
) -> Result<Vec<T>, StageError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Page<T>>,
{
    let (mut items, mut next, mut seen, mut pages) = (Vec::new(), None, HashSet::new(), 0);
    loop {
        limit.turn().await;
        let (page, token) = fetch(next.take()).await?;
        pages += 1;
        items.extend(page);
        match token {
            None => return Ok(items),
            Some(token) if !seen.insert(token.clone()) => {
                note(format!(
                    "{what}: the service gave the same NextToken again after {pages} pages; stopped there, \
                     so this list may be incomplete"
                ));
                return Ok(items);
            }
            Some(token) => next = Some(token),
        }
    }
}

fn customer_reference(
    r: &aws_sdk_ssoadmin::types::CustomerManagedPolicyReference,
) -> CustomerManagedPolicyReference {
    CustomerManagedPolicyReference { name: r.name().to_string(), path: r.path().map(str::to_string) }
}

fn set_name<'a>(sets: &'a [PermissionSet], arn: &'a str) -> &'a str {
    sets.iter().find(|s| s.permission_set_arn == arn).map_or(arn, |s| s.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_missing_for_one_instance_is_missing() {
        let mut all = Some(vec![1]);
        extend(&mut all, Some(vec![2]));
        assert_eq!(all, Some(vec![1, 2]));
        extend(&mut all, None);
        assert_eq!(all, None);
        extend(&mut all, Some(vec![3]));
        assert_eq!(all, None, "stays missing");
    }

    #[test]
    fn a_next_token_given_twice_ends_the_listing_with_a_note() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let limit = RateLimit::per_second(1000);
        let notes = Mutex::new(Vec::new());
        let calls = Mutex::new(Vec::new());
        // moto with duplicate assignments: page 2 answers the token of page 1 again, forever.
        let listed = runtime.block_on(every_page(
            &limit,
            "sso:ListAccountAssignments (111122223333, Admin)",
            |note| notes.lock().unwrap().push(note),
            |token: Option<String>| {
                calls.lock().unwrap().push(token.clone());
                async move { Ok((vec![token.is_some()], Some("same".to_string()))) }
            },
        ));
        assert_eq!(listed.unwrap(), [false, true], "both pages kept");
        assert_eq!(*calls.lock().unwrap(), [None, Some("same".to_string())]);
        let notes = notes.into_inner().unwrap();
        assert_eq!(notes.len(), 1);
        assert!(notes[0]
            .starts_with("sso:ListAccountAssignments (111122223333, Admin): the service gave the same"));

        // A listing that ends on its own has no note, and every page is asked for.
        let pages = Mutex::new(vec![None, Some("b".to_string()), Some("a".to_string())]);
        let listed = runtime.block_on(every_page(
            &limit,
            "x",
            |n| panic!("{n}"),
            |_| {
                let next = pages.lock().unwrap().pop().unwrap();
                async move { Ok((vec![1], next)) }
            },
        ));
        assert_eq!(listed.unwrap(), [1, 1, 1]);
    }

    #[test]
    fn notes_say_what_is_missing() {
        let not = Collected::not_collected("sso:ListInstances failed: AccessDeniedException: no".into());
        assert!(not.note().unwrap().starts_with("IAM Identity Center not collected: sso:ListInstances"));
        let mut partial =
            Collected { status: Status { collected: true, ..Default::default() }, ..Default::default() };
        assert_eq!(partial.note(), None);
        partial.status.partial.push("users.json not written".into());
        assert!(partial.note().unwrap().contains("users.json not written"));
    }
}
