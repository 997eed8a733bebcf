//! Trust policies: who may assume a role, read the way an attacker would.
//!
//! Three questions, one per check: may a caller from any AWS account assume it
//! (`wide-trust`)? Which AWS accounts outside the organization may (`external-trust`)? Does a
//! web-identity trust admit the tokens of other repositories, service accounts or identity
//! pools (`oidc-trust-unscoped`)?
//!
//! Every answer is the engine's: the trust policy is evaluated as the resource policy it is
//! ([`trust_answer`]: Deny statements included, conditions by the condition evaluator) for a
//! concrete caller. What stays syntactic is only the *choice* of that caller, made the way an
//! attacker makes it: a fresh account in a fresh organization (or in none), or, where a `Like`
//! pattern leaves the account, organization, role name or token claim open, a caller built to
//! fit it (`arn:aws:iam::*:role/deployer` → a role named `deployer` in a fresh account;
//! `repo:acme/*` → two repositories of `acme`). Under `StringEquals` a `*` is literal, so only
//! `Like` (and `ArnEquals`, which AWS matches like `ArnLike`) patterns are filled in.
//!
//! What AWS sets on the request is set (account, ARN, organization, its paths, unique id; no
//! `aws:Source*` keys on a direct call). What the caller controls is left unknown: its
//! `sts:ExternalId`, source IP, MFA, session name and tags, its own principal tags, a GitHub
//! token's audience. A condition on those does not stop an attacker; the finding names it.

use super::condition::{self, RequestContext};
use super::document::{Condition, Effect, PolicyDocument, Principal, Statement};
use super::escalation::assume::{trust_answer, Caller};
use super::pattern::wildcard_match;
use crate::identifiers::arn_account;
use serde::Serialize;
use std::collections::BTreeSet;

const ASSUME_ROLE: &str = "sts:assumerole";
const WEB_IDENTITY: &str = "sts:assumerolewithwebidentity";
const ASSUME_ACTIONS: &[&str] = &[ASSUME_ROLE, WEB_IDENTITY, "sts:assumerolewithsaml"];

/// The organization an outsider is put in when it is in one: no policy names it.
const OUTSIDER_ORG: &str = "o-outsider000";
const OUTSIDER_ORG_PATHS: &str = "o-outsider000/r-outs/ou-outs-outsider/";
const OUTSIDER_RESOURCE: &str = "role/outsider";
const OUTSIDER_USERID: &str = "AROAOUTSIDEROUTSIDER0:outsider";

/// What the snapshot knows of the organization: enough to tell an outside account.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Accounts of the organization and of the snapshot: any other is outside.
    pub known_accounts: &'a BTreeSet<String>,
    /// The organization's id, when the snapshot knows it *and* its members: an account
    /// outside `known_accounts` is then known not to belong to it.
    pub organization_id: Option<&'a str>,
}

impl Scope<'static> {
    /// Nothing known: every account is outside, and any organization might be its own.
    pub fn unknown() -> Scope<'static> {
        static NONE: BTreeSet<String> = BTreeSet::new();
        Scope { known_accounts: &NONE, organization_id: None }
    }
}

// ---------------------------------------------------------------------------------------
// Policy text the choice of caller looks at

fn wild(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// `StringLike`, `ArnLike` and `ArnEquals` (AWS matches both ARN operators with wildcards),
/// whatever their qualifier: the operators under which a `*` is a wildcard.
fn is_like(c: &Condition) -> bool {
    !c.is_negated() && matches!(c.base_operator().as_str(), "stringlike" | "arnlike" | "arnequals")
}

fn conditions_on<'a>(statements: impl Iterator<Item = &'a Statement>, key: &str) -> Vec<&'a Condition> {
    statements.flat_map(|s| s.conditions.iter()).filter(|c| c.key == key).collect()
}

/// Values of `Like` conditions on `key` that hold a wildcard.
fn like_patterns<'a>(document: &'a PolicyDocument, key: &str) -> Vec<&'a str> {
    conditions_on(document.statements.iter(), key)
        .into_iter()
        .filter(|c| is_like(c))
        .flat_map(|c| c.values.iter().map(String::as_str))
        .filter(|v| wild(v))
        .collect()
}

/// Does the policy write `text` anywhere (principal or condition value)? A fresh caller must
/// be named nowhere.
fn mentions(document: &PolicyDocument, text: &str) -> bool {
    document.statements.iter().any(|s| {
        [&s.principal, &s.not_principal]
            .into_iter()
            .flatten()
            .any(|p| p.entries().iter().any(|e| e.value.contains(text)))
            || s.conditions.iter().any(|c| c.values.iter().any(|v| v.contains(text)))
    })
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An account id that is neither known nor written in the policy.
fn fresh_account(document: &PolicyDocument, known: &BTreeSet<String>) -> String {
    (1u32..)
        .map(|i| format!("9990{i:08}"))
        .find(|a| !known.contains(a) && !mentions(document, a))
        .expect("an unused account id")
}

/// `pattern` with its wildcards filled: `preferred` when it fits, else `*` and `?` as `filler`.
fn fill(pattern: &str, preferred: &str, filler: char) -> String {
    if wildcard_match(pattern, preferred) {
        return preferred.to_string();
    }
    pattern.chars().map(|c| if c == '*' || c == '?' { filler } else { c }).collect()
}

/// An outside account matching an account pattern with wildcards (`1111*`, `*`): one of
/// `preferred` if it fits, else the pattern filled with one digit.
fn fill_account(
    pattern: &str,
    preferred: &[String],
    document: &PolicyDocument,
    known: &BTreeSet<String>,
) -> Option<String> {
    if !wild(pattern) {
        return None;
    }
    if let Some(p) = preferred.iter().find(|p| wildcard_match(pattern, p)) {
        return Some(p.clone());
    }
    let fixed = pattern.chars().filter(|c| *c != '*').count();
    let spare = 12usize.checked_sub(fixed)?;
    ('0'..='9').find_map(|digit| {
        let mut out = String::new();
        let mut first_star = true;
        for c in pattern.chars() {
            match c {
                '*' if first_star => {
                    out.extend(std::iter::repeat_n(digit, spare));
                    first_star = false;
                }
                '*' => {}
                '?' => out.push(digit),
                other => out.push(other),
            }
        }
        (is_account_id(&out) && !known.contains(&out) && !mentions(document, &out)).then_some(out)
    })
}

/// A principal ARN fitting an `aws:PrincipalArn` pattern, with its account: the account
/// field filled by [`fill_account`] (or `account` when given and it fits), the rest by [`fill`].
/// None when the pattern is not six ARN fields or its account cannot be an outside one.
fn fill_arn(
    pattern: &str,
    account: Option<&str>,
    preferred: &[String],
    document: &PolicyDocument,
    known: &BTreeSet<String>,
) -> Option<(String, String)> {
    let fields: Vec<&str> = pattern.splitn(6, ':').collect();
    let [arn, partition, service, region, account_field, resource] = fields[..] else { return None };
    let account = match account {
        Some(a) if wildcard_match(account_field, a) => a.to_string(),
        Some(_) => return None,
        None if wild(account_field) => fill_account(account_field, preferred, document, known)?,
        None => return None,
    };
    let arn = format!(
        "{}:{}:{}:{}:{account}:{}",
        fill(arn, "arn", 'x'),
        fill(partition, "aws", 'x'),
        fill(service, "iam", 'x'),
        fill(region, "", 'x'),
        fill(resource, OUTSIDER_RESOURCE, 'x'),
    );
    Some((account, arn))
}

// ---------------------------------------------------------------------------------------
// Callers and their requests

/// The organization an outside caller is taken to belong to.
#[derive(Debug, Clone)]
struct OrgGuess {
    /// None: in no organization.
    id: Option<String>,
    /// None with an id: its paths are unknown.
    paths: Option<String>,
    /// Set when the guess is an assumption the finding must state (an organization the
    /// policy names, which the account may or may not belong to).
    assumed: bool,
}

/// The organizations an attacker's fresh account can be in: none, a fresh one, or one
/// fitting a `Like` pattern on `aws:PrincipalOrgID` / `aws:PrincipalOrgPaths`.
fn attacker_orgs(document: &PolicyDocument) -> Vec<OrgGuess> {
    let mut out = vec![
        OrgGuess { id: None, paths: None, assumed: false },
        OrgGuess { id: Some(OUTSIDER_ORG.into()), paths: Some(OUTSIDER_ORG_PATHS.into()), assumed: false },
    ];
    for pattern in like_patterns(document, "aws:principalorgid") {
        if let Some(id) =
            ['x', 'y', 'z'].iter().map(|f| fill(pattern, OUTSIDER_ORG, *f)).find(|id| !mentions(document, id))
        {
            out.push(OrgGuess { id: Some(id), paths: None, assumed: false });
        }
    }
    for pattern in like_patterns(document, "aws:principalorgpaths") {
        if !pattern.split('/').next().is_some_and(wild) {
            continue;
        }
        let paths = fill(pattern, OUTSIDER_ORG_PATHS, 'x');
        let id = paths.split('/').next().unwrap_or_default().to_string();
        if !mentions(document, &id) {
            out.push(OrgGuess { id: Some(id), paths: Some(paths), assumed: false });
        }
    }
    out
}

/// The unique id of an attacker's role: one fitting a `Like` pattern on `aws:userid` whose
/// role-id part is open (`*:session`), else a fresh one.
fn attacker_userid(document: &PolicyDocument) -> String {
    like_patterns(document, "aws:userid")
        .into_iter()
        .find(|p| wild(p.split(':').next().unwrap_or(p)))
        .map(|p| fill(p, OUTSIDER_USERID, 'x'))
        .unwrap_or_else(|| OUTSIDER_USERID.to_string())
}

/// A direct `AssumeRole` by an IAM principal of another account.
fn aws_context(arn: &str, account: &str, org: &OrgGuess, userid: &str) -> RequestContext {
    let mut c = RequestContext::new();
    c.set("aws:PrincipalArn", vec![arn.to_string()]);
    c.set("aws:PrincipalAccount", vec![account.to_string()]);
    c.set("aws:PrincipalIsAWSService", vec!["false".into()]);
    c.set("aws:userid", vec![userid.to_string()]);
    match arn.split_once(":user/") {
        Some((_, name)) => {
            c.set("aws:PrincipalType", vec!["User".into()]);
            c.set("aws:username", vec![name.rsplit('/').next().unwrap_or(name).to_string()]);
        }
        None => {
            c.set("aws:PrincipalType", vec!["AssumedRole".into()]);
            c.set_absent("aws:username");
        }
    }
    match (&org.id, &org.paths) {
        (None, _) => {
            c.set_absent("aws:PrincipalOrgID");
            c.set_absent("aws:PrincipalOrgPaths");
        }
        (Some(id), paths) => {
            c.set("aws:PrincipalOrgID", vec![id.clone()]);
            if let Some(paths) = paths {
                c.set("aws:PrincipalOrgPaths", vec![paths.clone()]);
            }
        }
    }
    for key in ["aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths"] {
        c.set_absent(key);
    }
    for key in ["aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:FederatedProvider"] {
        c.set_absent(key);
    }
    c
}

/// A request with no IAM principal behind it (a web-identity token, a service).
fn principal_keys_absent(c: &mut RequestContext) {
    for key in [
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:userid",
        "aws:username",
    ] {
        c.set_absent(key);
    }
}

fn web_identity_context(provider: &str) -> RequestContext {
    let mut c = RequestContext::new();
    principal_keys_absent(&mut c);
    for key in ["aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths"] {
        c.set_absent(key);
    }
    c.set("aws:FederatedProvider", vec![provider.to_string()]);
    c.set("aws:PrincipalIsAWSService", vec!["false".into()]);
    c
}

/// One caller to put to the trust policy.
struct Probe {
    caller: ProbeCaller,
    action: &'static str,
    context: RequestContext,
    /// Who it is, for the finding: `arn:aws:iam::999000000001:role/outsider in no organization`.
    who: String,
    /// What the finding must add to the conditions it rests on, if the caller is an assumption.
    assumption: Option<String>,
}

enum ProbeCaller {
    Aws(String),
    Service(String),
    Federated(String),
}

impl ProbeCaller {
    fn as_caller(&self) -> Caller<'_> {
        match self {
            ProbeCaller::Aws(arn) => Caller::Aws { arn },
            ProbeCaller::Service(s) => Caller::Service(s),
            ProbeCaller::Federated(p) => Caller::Federated(p),
        }
    }
}

/// A probe the trust lets in: which statements allowed it, who it was, and what that rests on
/// (its assumption, then the conditions the engine could not decide).
struct Admitted {
    statements: Vec<usize>,
    who: String,
    rests_on: Vec<String>,
    probe: usize,
}

/// The engine's answer for the probe that gets in most easily (unconditionally rather than
/// under conditions, and then under the fewest), or None when the trust denies every probe.
/// What the evaluator could not read is added to `problems`.
fn ask(
    document: &PolicyDocument,
    role_arn: &str,
    probes: &[Probe],
    problems: &mut Vec<String>,
) -> Option<Admitted> {
    let mut best: Option<Admitted> = None;
    for (index, probe) in probes.iter().enumerate() {
        let answer = trust_answer(
            document,
            role_arn,
            probe.action,
            probe.caller.as_caller(),
            &probe.context,
            problems,
        );
        if answer.decision.is_denied() {
            continue;
        }
        let mut rests_on: Vec<String> = probe.assumption.iter().cloned().collect();
        rests_on.extend(answer.decision.conditions().iter().cloned());
        if best.as_ref().is_none_or(|b| rests_on.len() < b.rests_on.len()) {
            best = Some(Admitted {
                statements: answer.statements,
                who: probe.who.clone(),
                rests_on,
                probe: index,
            });
        }
        if best.as_ref().is_some_and(|b| b.rests_on.is_empty()) {
            break;
        }
    }
    dedup(problems);
    best
}

fn dedup(list: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    list.retain(|p| seen.insert(p.clone()));
}

fn org_text(org: &OrgGuess) -> String {
    match &org.id {
        None => "in no organization".into(),
        Some(id) => format!("in organization {id}"),
    }
}

// ---------------------------------------------------------------------------------------
// wide-trust

/// A statement that lets a caller from any AWS account assume the role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenTrust {
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the principal is written: `"*"`, `{"AWS": "*"}` or a NotPrincipal.
    pub principal: String,
    /// The statement's conditions (operator and key); none of them kept the outsider out.
    pub other_conditions: Vec<String>,
    /// The outsider the engine let in, e.g. `arn:aws:iam::999000000001:role/outsider in no organization`.
    pub caller: String,
    /// Conditions the snapshot cannot decide (the caller controls them) that the answer rests on.
    pub rests_on: Vec<String>,
    /// Conditions the evaluator could not read (treated as unknown, so listed in `rests_on`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable_conditions: Vec<String>,
}

fn principal_text(statement: &Statement) -> String {
    match (&statement.principal, &statement.not_principal) {
        (Some(Principal::Anyone), _) => "\"*\"".to_string(),
        (Some(p), _) if p.is_anyone() => "{\"AWS\": \"*\"}".to_string(),
        (None, Some(_)) => "NotPrincipal (everyone but the listed principals)".to_string(),
        (Some(p), _) => {
            p.entries().iter().map(|e| format!("{}:{}", e.kind, e.value)).collect::<Vec<_>>().join(", ")
        }
        (None, None) => "none".to_string(),
    }
}

/// Could a statement admit a principal it does not name? Only then is an outsider worth asking.
fn admits_unnamed(statement: &Statement) -> bool {
    statement.effect == Effect::Allow
        && (statement.not_principal.is_some()
            || statement.principal.as_ref().is_some_and(Principal::is_anyone))
}

/// The callers from "any AWS account" an attacker can be.
fn attacker_probes(document: &PolicyDocument) -> Vec<Probe> {
    let known = BTreeSet::new();
    let fresh = fresh_account(document, &known);
    let mut identities: Vec<(String, String)> =
        vec![(fresh.clone(), format!("arn:aws:iam::{fresh}:{OUTSIDER_RESOURCE}"))];
    let mut accounts = vec![fresh.clone()];
    for pattern in like_patterns(document, "aws:principalaccount") {
        if let Some(account) = fill_account(pattern, &accounts, document, &known) {
            if !accounts.contains(&account) {
                accounts.push(account.clone());
                identities.push((account.clone(), format!("arn:aws:iam::{account}:{OUTSIDER_RESOURCE}")));
            }
        }
    }
    for pattern in like_patterns(document, "aws:principalarn") {
        // In an account already chosen if the pattern allows it (so that an account
        // pattern and an ARN pattern are met at once), else in one filled in.
        let mut fitted: Vec<(String, String)> =
            accounts.iter().filter_map(|a| fill_arn(pattern, Some(a), &accounts, document, &known)).collect();
        if fitted.is_empty() {
            fitted.extend(fill_arn(pattern, None, &accounts, document, &known));
        }
        for identity in fitted {
            if !identities.contains(&identity) {
                identities.push(identity);
            }
        }
    }
    let userid = attacker_userid(document);
    let orgs = attacker_orgs(document);
    let mut probes = Vec::new();
    for (account, arn) in &identities {
        for org in &orgs {
            probes.push(Probe {
                caller: ProbeCaller::Aws(arn.clone()),
                action: ASSUME_ROLE,
                context: aws_context(arn, account, org, &userid),
                who: format!("{arn} {}", org_text(org)),
                assumption: None,
            });
        }
    }
    // A service acting for the attacker's account (Principal "*" admits services too).
    let source_account = like_patterns(document, "aws:sourceaccount")
        .into_iter()
        .find_map(|p| fill_account(p, &accounts, document, &known))
        .unwrap_or(fresh);
    let source_arn = like_patterns(document, "aws:sourcearn")
        .into_iter()
        .find_map(|p| fill_arn(p, Some(&source_account), &accounts, document, &known))
        .map(|(_, arn)| arn)
        .unwrap_or_else(|| format!("arn:aws:sns:us-east-1:{source_account}:outsider"));
    let mut service = RequestContext::new();
    principal_keys_absent(&mut service);
    service.set("aws:PrincipalIsAWSService", vec!["true".into()]);
    service.set("aws:SourceAccount", vec![source_account.clone()]);
    service.set("aws:SourceArn", vec![source_arn.clone()]);
    service.set_absent("aws:SourceOrgID");
    service.set_absent("aws:SourceOrgPaths");
    probes.push(Probe {
        caller: ProbeCaller::Service("sns.amazonaws.com".into()),
        action: ASSUME_ROLE,
        context: service,
        who: format!("an AWS service acting for account {source_account} ({source_arn})"),
        assumption: None,
    });
    // Anyone with a Google account (Principal "*" admits web identities too).
    probes.push(Probe {
        caller: ProbeCaller::Federated("accounts.google.com".into()),
        action: WEB_IDENTITY,
        context: web_identity_context("accounts.google.com"),
        who: "a web identity of anyone's Google account".into(),
        assumption: None,
    });
    probes
}

/// The statements that let a caller from any AWS account (one the attacker creates, fitting
/// any wildcard the trust leaves open) assume the role, when the whole trust, Deny
/// statements included, lets that caller in. Empty when it does not.
pub fn open_trust(document: &PolicyDocument) -> Vec<OpenTrust> {
    if !document.statements.iter().any(admits_unnamed) {
        return Vec::new();
    }
    let mut problems = Vec::new();
    let Some(admitted) = ask(document, "", &attacker_probes(document), &mut problems) else {
        return Vec::new();
    };
    admitted
        .statements
        .iter()
        .map(|&index| {
            let statement = &document.statements[index];
            OpenTrust {
                statement: index,
                sid: statement.sid.clone(),
                principal: principal_text(statement),
                other_conditions: statement
                    .conditions
                    .iter()
                    .map(|c| format!("{} {}", c.operator, c.key))
                    .collect(),
                caller: admitted.who.clone(),
                rests_on: admitted.rests_on.clone(),
                unreadable_conditions: problems.clone(),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// external-trust

/// An AWS account outside the scope that the trust lets in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountTrust {
    pub account_id: String,
    /// As written in the policy (`123456789012`, `arn:aws:iam::123456789012:root`, a role ARN …),
    /// or `*` when a condition names the account.
    pub principal: String,
    /// `{"AWS": "123456789012"}`, `…:root` and `aws:PrincipalAccount` mean every principal of
    /// that account.
    pub whole_account: bool,
    /// The engine's answer: without an `sts:ExternalId` the account is refused.
    pub external_id_required: bool,
    pub statement: usize,
    /// The condition that names the account when the principal does not
    /// (`StringEquals aws:PrincipalAccount = 999988887777`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub named_by_condition: Option<String>,
    /// The caller from that account the engine let in.
    pub caller: String,
    /// Conditions the snapshot cannot decide that the answer rests on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rests_on: Vec<String>,
}

/// What `external-trust` reports for one role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedAccounts {
    pub accounts: Vec<AccountTrust>,
    /// Principals written as unique ids (AROA…/AIDA…): what IAM shows once the principal was deleted.
    pub unique_ids: Vec<String>,
    /// Conditions the evaluator could not read.
    pub unreadable_conditions: Vec<String>,
}

/// An account the policy names, and how.
struct Named {
    account: String,
    /// The principal entry naming it, if one does, and whether it is the whole account.
    principal: Option<(String, bool)>,
    /// ARNs of that account the policy names (principals, `aws:PrincipalArn` values).
    arns: Vec<String>,
}

fn allows_assumption(statement: &Statement) -> bool {
    statement.effect == Effect::Allow && ASSUME_ACTIONS.iter().any(|a| statement.matches_action(a))
}

/// Every account named by a principal entry or by an `aws:PrincipalAccount` /
/// `aws:PrincipalArn` condition value of a statement that allows assuming the role.
fn named_accounts(document: &PolicyDocument, unique_ids: &mut Vec<String>) -> Vec<Named> {
    let mut out: Vec<Named> = Vec::new();
    fn slot<'a>(out: &'a mut Vec<Named>, account: &str) -> &'a mut Named {
        if let Some(i) = out.iter().position(|n| n.account == account) {
            return &mut out[i];
        }
        out.push(Named { account: account.to_string(), principal: None, arns: Vec::new() });
        out.last_mut().expect("just pushed")
    }
    for statement in document.statements.iter().filter(|s| allows_assumption(s)) {
        if let Some(principal) = &statement.principal {
            for entry in principal.entries().iter().filter(|e| e.kind == "AWS") {
                let value = entry.value.trim();
                if value == "*" {
                    continue;
                }
                let (account, whole) = if is_account_id(value) {
                    (value, true)
                } else if let Some(account) = arn_account(value) {
                    (account, value.ends_with(":root"))
                } else {
                    unique_ids.push(value.to_string());
                    continue;
                };
                let named = slot(&mut out, account);
                if named.principal.is_none() {
                    named.principal = Some((value.to_string(), whole));
                }
                if !whole {
                    named.arns.push(value.to_string());
                }
            }
        }
        for c in &statement.conditions {
            for value in &c.values {
                match c.key.as_str() {
                    "aws:principalaccount" if is_account_id(value) => {
                        slot(&mut out, value);
                    }
                    "aws:principalarn" => {
                        if let Some(account) = value.split(':').nth(4).filter(|a| is_account_id(a)) {
                            slot(&mut out, account).arns.push(value.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// The organizations an account outside the scope may belong to: none, one the policy does
/// not name, or (an assumption the finding states) one the policy names that is not ours.
fn outside_orgs(document: &PolicyDocument, scope: &Scope) -> Vec<OrgGuess> {
    let mut out = attacker_orgs(document);
    let named = conditions_on(document.statements.iter(), "aws:principalorgid")
        .into_iter()
        .flat_map(|c| c.values.iter())
        .filter(|v| !wild(v) && Some(v.as_str()) != scope.organization_id);
    let mut seen = BTreeSet::new();
    for id in named {
        if seen.insert(id.clone()) {
            out.push(OrgGuess { id: Some(id.clone()), paths: None, assumed: true });
        }
    }
    out
}

/// Accounts outside `scope` that the trust lets assume the role, each judged by the engine
/// for a caller from that account (the role or user the policy names there, or one fitting an
/// `aws:PrincipalArn` pattern, or any role of it), Deny statements included. Accounts come
/// from the principals and from `aws:PrincipalAccount` / `aws:PrincipalArn` condition values
/// (a `"*"` principal limited to one account is trust of that account).
pub fn trusted_accounts(document: &PolicyDocument, role_arn: &str, scope: &Scope) -> TrustedAccounts {
    let mut result = TrustedAccounts::default();
    let named = named_accounts(document, &mut result.unique_ids);
    let userid = attacker_userid(document);
    for named in named.into_iter().filter(|n| !scope.known_accounts.contains(&n.account)) {
        let account = &named.account;
        let mut arns: Vec<String> = named.arns.iter().filter(|a| !wild(a)).cloned().collect();
        for pattern in like_patterns(document, "aws:principalarn") {
            if let Some((_, arn)) = fill_arn(pattern, Some(account), &[], document, scope.known_accounts) {
                arns.push(arn);
            }
        }
        arns.push(format!("arn:aws:iam::{account}:{OUTSIDER_RESOURCE}"));
        let mut seen = BTreeSet::new();
        arns.retain(|a| seen.insert(a.clone()));
        let orgs = outside_orgs(document, scope);
        let mut probes = Vec::new();
        for arn in &arns {
            for org in &orgs {
                probes.push(Probe {
                    caller: ProbeCaller::Aws(arn.clone()),
                    action: ASSUME_ROLE,
                    context: aws_context(arn, account, org, &userid),
                    who: arn.clone(),
                    assumption: org.assumed.then(|| {
                        format!(
                            "aws:PrincipalOrgID = {} (account {account} belongs to organization {})",
                            org.id.as_deref().unwrap_or_default(),
                            org.id.as_deref().unwrap_or_default()
                        )
                    }),
                });
            }
        }
        let Some(admitted) = ask(document, role_arn, &probes, &mut result.unreadable_conditions) else {
            continue;
        };
        // Would it still get in without an external id?
        let probe = &probes[admitted.probe];
        let mut without = probe.context.clone();
        without.set_absent("sts:ExternalId");
        let external_id_required = trust_answer(
            document,
            role_arn,
            ASSUME_ROLE,
            probe.caller.as_caller(),
            &without,
            &mut Vec::new(),
        )
        .decision
        .is_denied();
        let named_in = |index: &usize| {
            document.statements[*index].principal.as_ref().is_some_and(|p| {
                p.entries().iter().any(|e| e.kind == "AWS" && e.value.contains(account.as_str()))
            })
        };
        let by_principal = admitted.statements.iter().find(|i| named_in(i)).copied();
        let statement = by_principal.or(admitted.statements.first().copied()).unwrap_or_default();
        let (principal, whole_account, named_by_condition) = match (&named.principal, by_principal) {
            (Some((written, whole)), Some(_)) => (written.clone(), *whole, None),
            _ => {
                let naming = document.statements[statement]
                    .conditions
                    .iter()
                    .find(|c| c.values.iter().any(|v| v.contains(account.as_str())));
                let whole = naming.is_none_or(|c| c.key == "aws:principalaccount");
                ("*".to_string(), whole, naming.map(condition::written))
            }
        };
        result.accounts.push(AccountTrust {
            account_id: account.clone(),
            principal,
            whole_account,
            external_id_required,
            statement,
            named_by_condition,
            caller: admitted.who,
            rests_on: admitted.rests_on,
        });
    }
    result
}

// ---------------------------------------------------------------------------------------
// oidc-trust-unscoped

const GITHUB: &str = "token.actions.githubusercontent.com";
const COGNITO: &str = "cognito-identity.amazonaws.com";

/// A web-identity (OIDC) trust and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebIdentityTrust {
    pub provider: String,
    pub statement: usize,
    /// The `aud` and `sub` values written in the statements that let the provider in.
    pub audiences: Vec<String>,
    pub subjects: Vec<String>,
    pub problems: Vec<String>,
    /// True when the only problem is a missing audience (the subject is pinned).
    pub audience_only: bool,
    /// True when the only problem is that a Cognito pool's guests (unauthenticated
    /// identities) are admitted.
    pub guests_only: bool,
    /// Conditions the snapshot cannot decide that the admitting answer rests on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rests_on: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable_conditions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    GitHub,
    Eks,
    Cognito,
    Other,
}

impl Provider {
    fn of(host: &str) -> Provider {
        match host {
            GITHUB => Provider::GitHub,
            COGNITO => Provider::Cognito,
            h if h.starts_with("oidc.eks.") => Provider::Eks,
            _ => Provider::Other,
        }
    }

    /// The claim that says who the token is for: the subject, except for Cognito, whose
    /// subject is one identity of a pool and whose audience is the pool.
    fn scoping_claim(self) -> &'static str {
        if self == Provider::Cognito {
            "aud"
        } else {
            "sub"
        }
    }

    /// A token an attacker can obtain that names nobody the policy names.
    fn fresh_claim(self) -> &'static str {
        match self {
            Provider::GitHub => "repo:outsider-owner/outsider-repo:ref:refs/heads/main",
            Provider::Eks => "system:serviceaccount:outsider:outsider",
            Provider::Cognito => "us-east-1:00000000-0000-0000-0000-0000outsider",
            Provider::Other => "outsider-subject",
        }
    }

    /// What one subject stands for: the repository (`owner/name`), the service account
    /// (`namespace:name`); None where subjects are not compared (any other provider).
    fn identity(self, subject: &str) -> Option<(String, String)> {
        match self {
            Provider::GitHub => {
                let repo = subject.strip_prefix("repo:").unwrap_or(subject);
                let repo = repo.split(':').next().unwrap_or(repo);
                let (owner, name) = repo.split_once('/').unwrap_or((repo, ""));
                Some((owner.to_string(), name.to_string()))
            }
            Provider::Eks => {
                let rest = subject.strip_prefix("system:serviceaccount:").unwrap_or(subject);
                let (namespace, account) = rest.split_once(':').unwrap_or((rest, ""));
                Some((namespace.to_string(), account.to_string()))
            }
            Provider::Cognito | Provider::Other => None,
        }
    }
}

/// Cognito's `amr` claim for a signed-in identity and for a guest.
const AMR_AUTHENTICATED: &[&str] = &["authenticated", "accounts.google.com"];
const AMR_GUEST: &[&str] = &["unauthenticated"];

/// Web-identity providers the trust names whose tokens it does not pin to one subject (one
/// repository, one service account, one identity pool), judged by the engine with the token
/// an attacker can get: its own repository, service account or identity pool, or one fitting
/// a `Like` pattern of the trust (`repo:acme/*` admits `repo:acme/x` and `repo:acme/y`).
/// Only statements that let the provider call `sts:AssumeRoleWithWebIdentity` count.
pub fn web_identity_trust(document: &PolicyDocument) -> Vec<WebIdentityTrust> {
    let mut providers: Vec<(&str, &str)> = Vec::new();
    for statement in document.statements.iter().filter(|s| s.effect == Effect::Allow) {
        let Some(principal) = &statement.principal else { continue };
        for entry in principal.entries().iter().filter(|e| e.kind == "Federated") {
            if let Some(host) = oidc_provider_host(&entry.value) {
                if !providers.iter().any(|(p, _)| *p == entry.value) {
                    providers.push((&entry.value, host));
                }
            }
        }
    }
    providers.into_iter().filter_map(|(federated, host)| judge_provider(document, federated, host)).collect()
}

/// A token of `federated` carrying these claims (the others unknown).
fn token_probe(base: &RequestContext, federated: &str, claims: &[(&str, Vec<String>)], who: &str) -> Probe {
    let mut context = base.clone();
    for (key, values) in claims {
        context.set(key, values.clone());
    }
    Probe {
        caller: ProbeCaller::Federated(federated.to_string()),
        action: WEB_IDENTITY,
        context,
        who: who.to_string(),
        assumption: None,
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

fn judge_provider(document: &PolicyDocument, federated: &str, host: &str) -> Option<WebIdentityTrust> {
    let kind = Provider::of(&host.to_ascii_lowercase());
    let prefix = host.to_ascii_lowercase();
    let claim_key = format!("{prefix}:{}", kind.scoping_claim());
    let aud_key = format!("{prefix}:aud");
    let amr_key = format!("{prefix}:amr");
    let mut unreadable = Vec::new();
    let base = web_identity_context(federated);
    let probe = |claims: &[(&str, Vec<String>)], who: &str| token_probe(&base, federated, claims, who);
    let one = |v: &str| vec![v.to_string()];

    // Does the trust let this provider's tokens in at all?
    let any = ask(document, "", &[probe(&[], "any token of the provider")], &mut unreadable)?;
    let allowing: Vec<&Statement> = any.statements.iter().map(|&i| &document.statements[i]).collect();
    let written = |key: &str| conditions_on(allowing.iter().copied(), key);
    let values = |key: &str| -> Vec<String> {
        written(key).into_iter().filter(|c| !c.is_negated()).flat_map(|c| c.values.clone()).collect()
    };

    let mut problems = Vec::new();
    let mut rests_on = Vec::new();
    let amr_variants: Vec<Vec<String>> = if kind == Provider::Cognito {
        vec![strings(AMR_AUTHENTICATED), strings(AMR_GUEST)]
    } else {
        vec![Vec::new()]
    };

    // 1. A token for the attacker's own repository / service account / identity pool, or for
    //    one fitting a `Like` pattern with a wildcard (Cognito: any pool fitting it).
    let mut claims_to_try: Vec<String> = vec![kind.fresh_claim().to_string()];
    if kind == Provider::Cognito {
        for pattern in written(&claim_key).into_iter().filter(|c| is_like(c)).flat_map(|c| c.values.iter()) {
            if wild(pattern) {
                claims_to_try.push(fill(pattern, kind.fresh_claim(), 'x'));
            }
        }
    }
    let mut fresh_probes = Vec::new();
    for claim in &claims_to_try {
        for amr_values in &amr_variants {
            let mut claims = vec![(claim_key.as_str(), one(claim))];
            if !amr_values.is_empty() {
                claims.push((amr_key.as_str(), amr_values.clone()));
            }
            fresh_probes.push(probe(&claims, claim));
        }
    }
    let open = ask(document, "", &fresh_probes, &mut unreadable);
    let claim_written = !written(&claim_key).is_empty();
    if let Some(open) = &open {
        let patterns =
            || written(&claim_key).iter().map(|c| condition::written(c)).collect::<Vec<_>>().join("; ");
        problems.push(match (kind, claim_written) {
            (Provider::GitHub, false) => {
                format!("no `{host}:sub` condition: any repository on GitHub can assume this role")
            }
            (Provider::GitHub, true) => format!(
                "`{host}:sub` condition(s) {} admit a repository of any owner: any repository on GitHub can assume this role",
                patterns()
            ),
            (Provider::Cognito, false) => format!(
                "no `{host}:aud` condition: identities of any Cognito identity pool, in any AWS account, can assume this role"
            ),
            (Provider::Cognito, true) => format!(
                "`{host}:aud` condition(s) {} admit identity pools other than yours: identities of pools in any AWS account can assume this role",
                patterns()
            ),
            (_, false) => format!(
                "no `{host}:sub` condition: any identity this provider signs tokens for can assume this role"
            ),
            (_, true) => format!("`{host}:sub` condition(s) {} match every subject", patterns()),
        });
        rests_on.extend(open.rests_on.iter().cloned());
    } else if matches!(kind, Provider::GitHub | Provider::Eks) {
        // 2. Two tokens for subjects fitting one pattern: more than one repository or
        //    service account gets in when both do and they are not the same one.
        for c in written(&claim_key).into_iter().filter(|c| is_like(c)) {
            for pattern in c.values.iter().filter(|v| wild(v)) {
                let (x, y) = (fill(pattern, "", 'x'), fill(pattern, "", 'y'));
                let (ix, iy) = (kind.identity(&x), kind.identity(&y));
                if ix == iy {
                    continue;
                }
                let both: Vec<Option<Admitted>> = [&x, &y]
                    .iter()
                    .map(|s| ask(document, "", &[probe(&[(claim_key.as_str(), one(s))], s)], &mut unreadable))
                    .collect();
                if both.iter().any(Option::is_none) {
                    continue;
                }
                let why = match (kind, ix, iy) {
                    (Provider::Eks, ..) => "matches more than one Kubernetes service account",
                    (_, Some((ox, _)), Some((oy, _))) if ox != oy => "matches repositories of any owner",
                    _ => "matches more than one repository of the organisation",
                };
                problems.push(format!("`{host}:sub` pattern `{pattern}` {why}"));
                for admitted in both.into_iter().flatten() {
                    rests_on.extend(admitted.rests_on);
                }
            }
        }
    }
    let subject_ok = problems.is_empty();

    // 3. The audience (Cognito: guests of the pool).
    let mut guests = false;
    if kind == Provider::Cognito {
        let pools = values(&aud_key);
        let pool = pools.iter().find(|p| !wild(p)).cloned().unwrap_or_else(|| kind.fresh_claim().to_string());
        let guest =
            probe(&[(aud_key.as_str(), one(&pool)), (amr_key.as_str(), strings(AMR_GUEST))], "a guest");
        if let Some(admitted) = ask(document, "", &[guest], &mut unreadable) {
            guests = true;
            problems.push(format!(
                "unauthenticated (guest) identities are admitted (`{host}:amr` allows `unauthenticated`): \
                 anyone who can reach the identity pool, signed in or not, can assume this role"
            ));
            rests_on.extend(admitted.rests_on);
        }
    } else {
        let token = probe(&[(aud_key.as_str(), one("outsider-audience"))], "a token for another audience");
        if let Some(admitted) = ask(document, "", &[token], &mut unreadable) {
            problems.push(if written(&aud_key).is_empty() {
                format!("no `{host}:aud` condition")
            } else {
                format!("`{host}:aud` condition admits any audience")
            });
            rests_on.extend(admitted.rests_on);
        }
    }
    if problems.is_empty() {
        return None;
    }
    dedup(&mut rests_on);
    Some(WebIdentityTrust {
        provider: host.to_string(),
        statement: any.statements.first().copied().unwrap_or_default(),
        audiences: values(&aud_key),
        subjects: values(&format!("{prefix}:sub")),
        audience_only: subject_ok && !guests,
        guests_only: subject_ok && guests,
        problems,
        rests_on,
        unreadable_conditions: unreadable,
    })
}

/// `arn:aws:iam::…:oidc-provider/HOST` or a well-known web identity provider; None for SAML.
fn oidc_provider_host(federated: &str) -> Option<&str> {
    if let Some((_, host)) = federated.split_once(":oidc-provider/") {
        return Some(host);
    }
    let known = [COGNITO, "accounts.google.com", "graph.facebook.com", "www.amazon.com"];
    known.contains(&federated).then_some(federated)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::111122223333:role/target";

    fn trust(statement: &str) -> PolicyDocument {
        PolicyDocument::literal(&format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#))
    }

    #[test]
    fn anyone_without_a_limiting_condition_is_open() {
        for principal in [r#""*""#, r#"{"AWS":"*"}"#, r#"{"AWS":["*"]}"#] {
            let doc =
                trust(&format!(r#"{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}"#));
            assert_eq!(open_trust(&doc).len(), 1, "{principal}");
        }
    }

    #[test]
    fn an_org_or_account_condition_closes_it_but_external_id_does_not() {
        let org = trust(
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#,
        );
        assert!(open_trust(&org).is_empty());
        let arn = trust(
            r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/ci-*"}}}"#,
        );
        assert!(open_trust(&arn).is_empty());
        // Under StringEquals a `*` is literal: it admits nobody new.
        let literal = trust(
            r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalAccount":"1111*"}}}"#,
        );
        assert!(open_trust(&literal).is_empty());
        let external_id = trust(
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"secret"}}}"#,
        );
        let open = open_trust(&external_id);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].other_conditions, vec!["StringEquals sts:externalid"]);
    }

    #[test]
    fn conditions_that_pass_when_absent_do_not_close_it() {
        for condition in [
            r#"{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-abc"}}"#,
            r#"{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc"}}"#,
            r#"{"StringLike":{"aws:PrincipalArn":"*"}}"#,
            // Any account can create a role named deployer.
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/deployer"}}"#,
            r#"{"StringLike":{"aws:PrincipalAccount":"1111*"}}"#,
            r#"{"StringLike":{"aws:PrincipalOrgID":"o-*"}}"#,
        ] {
            let doc = trust(&format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"sts:AssumeRole","Condition":{condition}}}"#
            ));
            assert_eq!(open_trust(&doc).len(), 1, "{condition}");
        }
    }

    #[test]
    fn service_and_account_principals_are_not_open() {
        let doc = trust(
            r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com","AWS":"111122223333"},"Action":"sts:AssumeRole"}"#,
        );
        assert!(open_trust(&doc).is_empty());
        let deny = trust(r#"{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}"#);
        assert!(open_trust(&deny).is_empty());
    }

    #[test]
    fn a_bare_account_id_is_the_whole_account() {
        let doc = trust(
            r#"{"Effect":"Allow","Principal":{"AWS":["444455556666","arn:aws:iam::777788889999:role/deployer","AROAEXAMPLEDELETED1"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}"#,
        );
        let TrustedAccounts { accounts, unique_ids, .. } = trusted_accounts(&doc, ROLE, &Scope::unknown());
        assert_eq!(accounts.len(), 2);
        assert!(accounts[0].whole_account && accounts[0].external_id_required);
        assert_eq!(accounts[1].account_id, "777788889999");
        assert!(!accounts[1].whole_account);
        assert_eq!(unique_ids, vec!["AROAEXAMPLEDELETED1"]);
    }

    fn github(condition: &str) -> Vec<WebIdentityTrust> {
        web_identity_trust(&trust(&format!(
            r#"{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{condition}}}"#
        )))
    }

    #[test]
    fn github_trust_with_only_aud_lets_any_repository_in() {
        let found =
            github(r#"{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}"#);
        assert_eq!(found.len(), 1);
        assert!(found[0].problems[0].contains("any repository on GitHub"));
        assert!(!found[0].audience_only);
    }

    #[test]
    fn github_subject_patterns() {
        let aud = r#""StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}"#;
        for scoped in
            ["repo:acme/api:*", "repo:acme/api:ref:refs/heads/main", "repo:acme/api:environment:prod"]
        {
            let found = github(&format!(
                r#"{{{aud},"StringLike":{{"token.actions.githubusercontent.com:sub":"{scoped}"}}}}"#
            ));
            assert!(found.is_empty(), "{scoped} is scoped");
        }
        for wide in ["*", "repo:*", "repo:acme/*", "repo:acme/api*"] {
            let found = github(&format!(
                r#"{{{aud},"StringLike":{{"token.actions.githubusercontent.com:sub":"{wide}"}}}}"#
            ));
            assert_eq!(found.len(), 1, "{wide} is too wide");
        }
        // Every value of a list counts: one wide value opens the role.
        let found = github(&format!(
            r#"{{{aud},"StringLike":{{"token.actions.githubusercontent.com:sub":["repo:acme/api:ref:refs/heads/main","repo:acme/*"]}}}}"#
        ));
        assert_eq!(found.len(), 1);
        // Under StringEquals `*` is literal.
        assert!(github(&format!(
            r#"{{{aud},"StringEquals":{{"token.actions.githubusercontent.com:sub":"repo:acme/*"}}}}"#
        ))
        .is_empty());
    }

    #[test]
    fn scoped_subject_without_audience_is_a_lesser_problem() {
        let found = github(
            r#"{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/api:ref:refs/heads/main"}}"#,
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].audience_only);
    }

    #[test]
    fn eks_irsa_needs_one_service_account() {
        let issuer = "oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789";
        let doc = |sub: &str| {
            trust(&format!(
                r#"{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/{issuer}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{issuer}:aud":"sts.amazonaws.com"}},"StringLike":{{"{issuer}:sub":"{sub}"}}}}}}"#
            ))
        };
        assert!(web_identity_trust(&doc("system:serviceaccount:payments:api")).is_empty());
        assert_eq!(web_identity_trust(&doc("system:serviceaccount:payments:*")).len(), 1);
        assert_eq!(web_identity_trust(&doc("system:serviceaccount:*")).len(), 1);
    }

    #[test]
    fn eks_pod_identity_and_saml_are_not_web_identity() {
        let pods = trust(
            r#"{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}"#,
        );
        assert!(web_identity_trust(&pods).is_empty());
        let saml = trust(
            r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/AWSSSO_abc_DO_NOT_DELETE"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"]}"#,
        );
        assert!(web_identity_trust(&saml).is_empty());
    }

    // --- The engine's answers: Deny statements, conditions naming accounts ---------------

    fn allow_anyone(condition: &str) -> String {
        format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"sts:AssumeRole","Condition":{condition}}}"#
        )
    }

    #[test]
    fn a_deny_for_callers_outside_the_organization_closes_it() {
        for deny in [
            r#"{"StringNotEquals":{"aws:PrincipalOrgID":"o-mine"}}"#,
            r#"{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-mine"}}"#,
            r#"{"StringNotEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]}}"#,
        ] {
            let doc = trust(&format!(
                r#"{{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}},
                   {{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{deny}}}"#
            ));
            assert!(open_trust(&doc).is_empty(), "{deny}");
        }
        // A Deny that an outsider escapes does not.
        for deny in [
            r#"{"StringEquals":{"aws:PrincipalOrgID":"o-evil"}}"#,
            // An attacker's fresh account is in an organization of its own.
            r#"{"Null":{"aws:PrincipalOrgID":"true"}}"#,
        ] {
            let doc = trust(&format!(
                r#"{{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}},
                   {{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{deny}}}"#
            ));
            let open = open_trust(&doc);
            assert_eq!(open.len(), 1, "{deny}");
            assert!(open[0].rests_on.is_empty(), "{:?}", open[0].rests_on);
        }
    }

    #[test]
    fn a_deny_on_what_the_caller_controls_is_named_not_trusted() {
        let doc = trust(
            r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
               {"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#,
        );
        let open = open_trust(&doc);
        assert_eq!(open.len(), 1);
        assert_eq!(
            open[0].rests_on,
            vec!["a Deny does not apply (it applies when NotIpAddress aws:SourceIp not in 10.0.0.0/8)"]
        );
    }

    #[test]
    fn conditions_the_caller_controls_do_not_close_it_and_are_named() {
        for (condition, named) in [
            (r#"{"StringEquals":{"sts:ExternalId":"s3cret"}}"#, "StringEquals sts:ExternalId = s3cret"),
            (r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#, "Bool aws:MultiFactorAuthPresent = true"),
            // An attacker tags its own role as it likes.
            (
                r#"{"StringEquals":{"aws:PrincipalTag/team":"red"}}"#,
                "StringEquals aws:PrincipalTag/team = red",
            ),
        ] {
            let open = open_trust(&trust(&allow_anyone(condition)));
            assert_eq!(open.len(), 1, "{condition}");
            assert_eq!(open[0].rests_on, vec![named.to_string()]);
        }
    }

    #[test]
    fn a_condition_naming_one_account_is_not_wide_but_external() {
        for condition in [
            r#"{"StringEquals":{"aws:PrincipalAccount":"999988887777"}}"#,
            r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::999988887777:role/vendor"}}"#,
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::999988887777:role/vendor-*"}}"#,
        ] {
            let doc = trust(&allow_anyone(condition));
            assert!(open_trust(&doc).is_empty(), "{condition}");
            let found = trusted_accounts(&doc, ROLE, &Scope::unknown());
            assert_eq!(found.accounts.len(), 1, "{condition}");
            let account = &found.accounts[0];
            assert_eq!(account.account_id, "999988887777");
            assert_eq!(account.principal, "*");
            assert!(account.named_by_condition.as_deref().unwrap().contains("999988887777"));
            assert_eq!(account.whole_account, condition.contains("PrincipalAccount"), "{condition}");
            assert!(!account.external_id_required);
        }
        let account = &trusted_accounts(
            &trust(&allow_anyone(r#"{"StringEquals":{"aws:PrincipalAccount":"999988887777"}}"#)),
            ROLE,
            &Scope::unknown(),
        )
        .accounts[0];
        assert_eq!(
            account.named_by_condition.as_deref(),
            Some("StringEquals aws:PrincipalAccount = 999988887777")
        );
    }

    #[test]
    fn a_condition_that_excludes_an_account_is_no_trust_of_it() {
        let doc = trust(&allow_anyone(r#"{"StringNotEquals":{"aws:PrincipalAccount":"999988887777"}}"#));
        assert!(trusted_accounts(&doc, ROLE, &Scope::unknown()).accounts.is_empty());
        // ... but the role is open to everyone else.
        assert_eq!(open_trust(&doc).len(), 1);
    }

    #[test]
    fn accounts_inside_the_scope_are_not_external() {
        let known: BTreeSet<String> = ["999988887777".to_string()].into();
        let scope = Scope { known_accounts: &known, organization_id: Some("o-mine") };
        let doc = trust(&allow_anyone(r#"{"StringEquals":{"aws:PrincipalAccount":"999988887777"}}"#));
        assert!(trusted_accounts(&doc, ROLE, &scope).accounts.is_empty());
    }

    #[test]
    fn an_organization_condition_is_judged_against_what_is_known() {
        let doc = trust(
            r#"{"Effect":"Allow","Principal":{"AWS":"999988887777"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-mine"}}}"#,
        );
        // Our organization, whose members are known: the account is not one of them.
        let known = BTreeSet::new();
        let scope = Scope { known_accounts: &known, organization_id: Some("o-mine") };
        assert!(trusted_accounts(&doc, ROLE, &scope).accounts.is_empty());
        // Nothing known: the account may belong to o-mine, and the finding says so.
        let found = trusted_accounts(&doc, ROLE, &Scope::unknown());
        assert_eq!(found.accounts.len(), 1);
        assert_eq!(
            found.accounts[0].rests_on,
            vec!["aws:PrincipalOrgID = o-mine (account 999988887777 belongs to organization o-mine)"]
        );
    }

    #[test]
    fn an_external_trust_denied_by_the_trust_itself_is_none() {
        let doc = trust(
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"},
               {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}"#,
        );
        assert!(trusted_accounts(&doc, ROLE, &Scope::unknown()).accounts.is_empty());
    }

    #[test]
    fn the_external_id_requirement_is_the_engines_answer() {
        let with = |condition: &str| {
            let doc = trust(&format!(
                r#"{{"Effect":"Allow","Principal":{{"AWS":"999988887777"}},"Action":"sts:AssumeRole","Condition":{condition}}}"#
            ));
            trusted_accounts(&doc, ROLE, &Scope::unknown()).accounts[0].external_id_required
        };
        assert!(with(r#"{"StringEquals":{"sts:ExternalId":"x"}}"#));
        assert!(!with(r#"{"StringEqualsIfExists":{"sts:ExternalId":"x"}}"#));
        assert!(!with(r#"{"StringNotEquals":{"sts:ExternalId":"x"}}"#));
        assert!(!with(r#"{"Bool":{"aws:SecureTransport":"true"}}"#));
    }

    // --- Adversarial callers: wildcards fitted -------------------------------------------

    #[test]
    fn the_outsider_is_built_to_fit_the_wildcards() {
        let open = |condition: &str| open_trust(&trust(&allow_anyone(condition)));
        let deployer = open(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/deployer"}}"#);
        assert!(deployer[0].caller.contains(":role/deployer"), "{}", deployer[0].caller);
        // Both at once: a role named deployer in an account starting 1111.
        let both = open(
            r#"{"StringLike":{"aws:PrincipalAccount":"1111*"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/deployer"}}"#,
        );
        assert_eq!(both.len(), 1);
        assert!(both[0].caller.starts_with("arn:aws:iam::1111"), "{}", both[0].caller);
        assert_eq!(open(r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::????????????:role/*"}}"#).len(), 1);
        assert_eq!(open(r#"{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-*/*"}}"#).len(), 1);
        assert_eq!(open(r#"{"StringLike":{"aws:userid":"*:alice"}}"#).len(), 1);
        // Through a service acting for the attacker's account.
        assert_eq!(
            open_trust(&trust(
                r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:alerts"}}}"#
            ))
            .len(),
            1
        );
    }

    #[test]
    fn patterns_fixed_where_it_matters_close_it() {
        for condition in [
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/*"}}"#,
            r#"{"StringLike":{"aws:PrincipalOrgPaths":"o-mine/r-ab12/*"}}"#,
            r#"{"StringLike":{"aws:userid":"AROAEXAMPLEROLEID:*"}}"#,
            r#"{"StringLike":{"aws:PrincipalOrgID":"o-mine"}}"#,
            r#"{"StringEquals":{"aws:PrincipalOrgID":"o-*"}}"#,
        ] {
            assert!(open_trust(&trust(&allow_anyone(condition))).is_empty(), "{condition}");
        }
        let service = trust(
            r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}"#,
        );
        assert!(open_trust(&service).is_empty());
    }

    #[test]
    fn an_unreadable_condition_is_named_and_reported_not_trusted() {
        let open =
            open_trust(&trust(&allow_anyone(r#"{"StringEqualsFoo":{"aws:PrincipalOrgID":"o-mine"}}"#)));
        assert_eq!(open.len(), 1);
        assert!(open[0].rests_on[0].contains("operator not understood"), "{:?}", open[0].rests_on);
        assert!(
            open[0].unreadable_conditions[0].contains("StringEqualsFoo"),
            "{:?}",
            open[0].unreadable_conditions
        );
    }

    // --- Web identity --------------------------------------------------------------------

    #[test]
    fn a_federated_principal_allowed_only_assume_role_takes_no_token() {
        let doc = |action: &str| {
            trust(&format!(
                r#"{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}},"Action":"{action}"}}"#
            ))
        };
        assert!(web_identity_trust(&doc("sts:AssumeRole")).is_empty());
        assert_eq!(web_identity_trust(&doc("sts:AssumeRoleWithWebIdentity")).len(), 1);
        assert_eq!(web_identity_trust(&doc("sts:AssumeRole*")).len(), 1);
    }

    #[test]
    fn a_deny_on_the_subject_is_applied() {
        let doc = trust(
            r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}},
               {"Effect":"Deny","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringNotEquals":{"token.actions.githubusercontent.com:sub":"repo:acme/api:ref:refs/heads/main"}}}"#,
        );
        assert!(web_identity_trust(&doc).is_empty());
    }

    fn cognito(conditions: &str) -> Vec<WebIdentityTrust> {
        web_identity_trust(&trust(&format!(
            r#"{{"Effect":"Allow","Principal":{{"Federated":"cognito-identity.amazonaws.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{conditions}}}"#
        )))
    }

    const POOL: &str = r#""StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:12345678-dead-beef-cafe-123456789012"}"#;
    const AUTHENTICATED: &str =
        r#""ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}"#;
    const UNAUTHENTICATED: &str =
        r#""ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"unauthenticated"}"#;

    #[test]
    fn a_cognito_trust_scoped_as_aws_documents_is_fine() {
        assert!(cognito(&format!("{{{POOL},{AUTHENTICATED}}}")).is_empty());
    }

    #[test]
    fn a_cognito_trust_without_its_pool_is_open() {
        let found = cognito(&format!("{{{AUTHENTICATED}}}"));
        assert_eq!(found.len(), 1);
        assert!(found[0].problems[0].contains("any Cognito identity pool"), "{:?}", found[0].problems);
        assert!(!found[0].audience_only && !found[0].guests_only);
        assert_eq!(found[0].problems.len(), 1, "guests are not admitted: {:?}", found[0].problems);
        // A pool pattern with a wildcard admits pools the attacker creates.
        let wild = cognito(&format!(
            r#"{{"StringLike":{{"cognito-identity.amazonaws.com:aud":"us-east-1:*"}},{AUTHENTICATED}}}"#
        ));
        assert_eq!(wild.len(), 1);
        assert!(!wild[0].guests_only);
    }

    #[test]
    fn cognito_guests_are_named() {
        let open = cognito(&format!("{{{UNAUTHENTICATED}}}"));
        assert_eq!(open.len(), 1);
        assert!(open[0].problems.iter().any(|p| p.contains("guest")), "{:?}", open[0].problems);
        assert!(!open[0].guests_only);
        let scoped = cognito(&format!("{{{POOL},{UNAUTHENTICATED}}}"));
        assert_eq!(scoped.len(), 1);
        assert!(scoped[0].guests_only);
        assert!(scoped[0].problems[0].contains("guest"));
    }

    #[test]
    fn an_unscoped_subject_names_the_conditions_it_rests_on() {
        let found =
            github(r#"{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}"#);
        assert_eq!(
            found[0].rests_on,
            vec!["StringEquals token.actions.githubusercontent.com:aud = sts.amazonaws.com"]
        );
    }
}
