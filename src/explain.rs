//! `iam-auditor explain`: the offline answer to "why was this AccessDenied" and "why is
//! this allowed", and to "how can this principal become admin".
//!
//! It only prints what the policy engine and the escalation graph decided: no decision is
//! re-derived here. Unlike AWS's policy simulator it includes the SCPs of every level of
//! the account's OU path.

use crate::checks::admin_holders;
use crate::policy::condition::RequestContext;
use crate::policy::engine::{Decision, Evaluation, LevelKind, LevelOutcome, Request, StatementMatch};
use crate::policy::escalation::assume::{trust_answer, Caller};
use crate::policy::escalation::graph::{short, Standing};
use crate::policy::escalation::principal::{self, Node};
use crate::snapshot::{AccountEntry, AccountSnapshot, Snapshot};
use rayon::prelude::*;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The snapshot folder to read.
    #[arg(long, env = "IAM_AUDITOR_SNAPSHOT")]
    pub snapshot: PathBuf,
    /// The principal making the request: a user or role ARN (an assumed-role session ARN
    /// `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` is read as its role).
    #[arg(long, required_unless_present = "why_admin", requires = "action")]
    pub principal: Option<String>,
    /// The action, e.g. `iam:PassRole` or `s3:GetObject`.
    #[arg(long)]
    pub action: Option<String>,
    /// The resource ARN; default `*` (actions that take no resource).
    #[arg(long, default_value = "*")]
    pub resource: String,
    /// A request context value the snapshot cannot know, e.g. `aws:MultiFactorAuthPresent=true`
    /// or `aws:SourceIp=10.1.2.3`; repeat for more keys, or the same key for several values.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// Print how this principal (ARN) reaches admin, step by step, instead.
    #[arg(long, value_name = "ARN", conflicts_with_all = ["principal", "action"])]
    pub why_admin: Option<String>,
    /// `text` for people, `json` for tooling.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::cli::PolicyFormat,
}

/// `arn:aws:sts::1:assumed-role/Name/session` → the role's ARN form, for matching.
fn principal_arn(arn: &str) -> (String, Option<String>) {
    if let Some((prefix, rest)) = arn.split_once(":assumed-role/") {
        let account = prefix.rsplit(':').next().unwrap_or_default();
        let role = rest.split('/').next().unwrap_or_default();
        return (format!("arn:aws:iam::{account}:role/{role}"), Some(role.to_string()));
    }
    (arn.to_string(), None)
}

fn account_of<'s>(snapshot: &'s Snapshot, arn: &str) -> Result<&'s AccountEntry, String> {
    let account = crate::identifiers::arn_account(arn)
        .ok_or_else(|| format!("`{arn}` is not an ARN with an account id: give the full user or role ARN"))?;
    snapshot.accounts.iter().find(|a| a.id.as_str() == account).ok_or_else(|| {
        format!("account {account} is not in the snapshot (accounts/{account}/ is missing): check the ARN")
    })
}

fn load(snapshot: &Snapshot, entry: &AccountEntry) -> Result<AccountSnapshot, String> {
    let account = snapshot.load_account(entry);
    if account.authorization.is_none() {
        return Err(format!(
            "accounts/{}/account-authorization-details.json is missing or unreadable: nothing to explain",
            entry.id
        ));
    }
    Ok(account)
}

fn find<'n, 'g>(nodes: &'n [Node<'g>], arn: &str, role_name: Option<&str>) -> Option<&'n Node<'g>> {
    nodes.iter().find(|n| n.arn == arn).or_else(|| {
        // A role ARN written without its path (`role/Name` for `role/path/Name`).
        let name = role_name.or_else(|| arn.rsplit('/').next())?;
        nodes.iter().find(|n| {
            n.name == name && crate::identifiers::arn_account(n.arn) == crate::identifiers::arn_account(arn)
        })
    })
}

pub fn explain(args: &ExplainArgs) -> Result<i32, String> {
    let snapshot = Snapshot::open(&args.snapshot).map_err(|e| e.to_string())?;
    match (&args.why_admin, &args.principal, &args.action) {
        (Some(arn), _, _) => why_admin(&snapshot, arn, args.format),
        (None, Some(principal), Some(action)) => request(&snapshot, principal, action, args),
        _ => Err("give --principal ARN --action ACTION, or --why-admin ARN".into()),
    }
}

fn request(snapshot: &Snapshot, principal: &str, action: &str, args: &ExplainArgs) -> Result<i32, String> {
    let (arn, role_name) = principal_arn(principal);
    let entry = account_of(snapshot, &arn)?;
    let account = load(snapshot, entry)?;
    let graph = account.authorization.as_ref().expect("checked by load");
    let no_login = |_: &str| None;
    let nodes = principal::nodes(graph, &account.account_id, &snapshot.organization, &no_login);
    let node = find(&nodes, &arn, role_name.as_deref()).ok_or_else(|| {
        format!("no user or role {arn} in accounts/{}/account-authorization-details.json", entry.id)
    })?;
    let mut context = RequestContext::over(node.context.clone());
    if let Some(account) = crate::identifiers::arn_account(&args.resource) {
        context.set("aws:ResourceAccount", vec![account.to_string()]);
    }
    let mut given: Vec<(String, Vec<String>)> = Vec::new();
    for pair in &args.context {
        let (key, value) = pair.split_once('=').ok_or_else(|| {
            format!("--context {pair}: write KEY=VALUE, e.g. aws:MultiFactorAuthPresent=true")
        })?;
        match given.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some((_, values)) => values.push(value.to_string()),
            None => given.push((key.to_string(), vec![value.to_string()])),
        }
    }
    for (key, values) in &given {
        context.set(key, values.clone());
    }
    let action_lower = action.to_ascii_lowercase();
    let evaluation = node
        .policies
        .evaluate(&Request { action: &action_lower, resource: &args.resource, context: &context }, true);
    let trust = trust_of(snapshot, &action_lower, &args.resource, node.arn, &context);
    match args.format {
        crate::cli::PolicyFormat::Json => {
            let value = serde_json::json!({
                "principal": node.arn,
                "action": action,
                "resource": args.resource,
                "context": given.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<std::collections::BTreeMap<_, _>>(),
                "evaluation": evaluation,
                "trust_policy": trust.as_ref().map(|(role, decision, statements)| serde_json::json!({
                    "role": role, "decision": decision, "statements": statements })),
                "out_of_scope": "session policies and resource-based policies other than trust policies",
            });
            println!("{}", serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?);
        }
        crate::cli::PolicyFormat::Text => {
            print!("{}", render(node, action, &args.resource, &evaluation, trust.as_ref()))
        }
    }
    Ok(0)
}

type TrustPart = (String, Decision, Vec<usize>);

/// For `sts:AssumeRole` on a role of the snapshot: its trust policy's answer too.
fn trust_of(
    snapshot: &Snapshot,
    action: &str,
    resource: &str,
    caller: &str,
    context: &RequestContext,
) -> Option<TrustPart> {
    if !action.starts_with("sts:assumerole") || !resource.contains(":role/") {
        return None;
    }
    let entry = account_of(snapshot, resource).ok()?;
    let account = snapshot.load_account(entry);
    let role = account.authorization.as_ref()?.roles.iter().find(|r| r.arn == resource)?;
    let answer = trust_answer(
        role.trust_policy.as_ref()?,
        resource,
        action,
        Caller::Aws { arn: caller },
        context,
        &mut Vec::new(),
    );
    Some((role.arn.clone(), answer.decision, answer.statements))
}

fn outcome_text(outcome: &LevelOutcome) -> String {
    match outcome {
        LevelOutcome::Allows => "allows".into(),
        LevelOutcome::AllowsIf(c) => format!("allows if {}", c.join(" and ")),
        LevelOutcome::NoAllow => "no statement allows it (implicit deny)".into(),
        LevelOutcome::Denies => "DENIES it explicitly".into(),
        LevelOutcome::DeniesIf(c) => format!("denies it if {} (and nothing here allows it)", c.join(" and ")),
        LevelOutcome::AllowsIfNotDenied { deny_if, allow_if } => {
            let allow =
                if allow_if.is_empty() { String::new() } else { format!(" if {}", allow_if.join(" and ")) };
            format!("allows{allow}, but denies it if {}", deny_if.join(" and "))
        }
    }
}

fn decision_text(decision: &Decision) -> String {
    match decision {
        Decision::Allowed => "ALLOWED".into(),
        Decision::AllowedIf(c) => format!("ALLOWED ONLY IF {}", c.join(" and ")),
        Decision::Denied => "DENIED".into(),
    }
}

fn render(
    node: &Node,
    action: &str,
    resource: &str,
    evaluation: &Evaluation,
    trust: Option<&TrustPart>,
) -> String {
    let mut out = String::new();
    out.push_str(&format!("{} asks {action} on {resource}\n", node.arn));
    let overall = match trust {
        Some((_, d, _)) => evaluation.decision.clone().and(d.clone()),
        None => evaluation.decision.clone(),
    };
    out.push_str(&format!("Decision: {}\n\n", decision_text(&overall)));
    for (i, level) in evaluation.levels.iter().enumerate() {
        let kind = match level.kind {
            LevelKind::Scp => "SCP level",
            LevelKind::Identity => "Identity policies",
            LevelKind::PermissionsBoundary => "Permissions boundary",
        };
        let label =
            if level.kind == LevelKind::Identity { String::new() } else { format!(" ({})", level.label) };
        out.push_str(&format!("{}. {kind}{label}: {}\n", i + 1, outcome_text(&level.outcome)));
        if level.implicit_full_access {
            out.push_str("   (this level holds only Deny statements: read as also carrying FullAWSAccess)\n");
        }
        if level.statements.is_empty() {
            out.push_str("   no policy\n");
        }
        for s in &level.statements {
            let sid = s.sid.as_deref().map(|s| format!(" \"{s}\"")).unwrap_or_default();
            let why = match &s.result {
                StatementMatch::Applies => "applies".to_string(),
                StatementMatch::AppliesIf(c) => format!("applies if {}", c.join(" and ")),
                StatementMatch::ActionNotMatched => "does not match: the action is not in it".into(),
                StatementMatch::ResourceNotMatched => "does not match: the resource is not in it".into(),
                StatementMatch::ConditionFails(why) => format!("does not match: condition {why}"),
            };
            out.push_str(&format!(
                "   - {} statement {}{sid} ({}): {why}\n",
                s.policy, s.statement, s.effect
            ));
        }
    }
    if let Some((role, decision, statements)) = trust {
        out.push_str(&format!(
            "{}. Trust policy of {role}: {} (statements {:?})\n",
            evaluation.levels.len() + 1,
            decision_text(decision).to_lowercase(),
            statements
        ));
    }
    let denies: Vec<String> = evaluation
        .levels
        .iter()
        .flat_map(|l| l.statements.iter().map(move |s| (l, s)))
        .filter(|(_, s)| {
            s.effect == "Deny" && matches!(s.result, StatementMatch::Applies | StatementMatch::AppliesIf(_))
        })
        .map(|(l, s)| format!("{} in {} (statement {})", s.policy, l.label, s.statement))
        .collect();
    out.push_str(&format!(
        "\nExplicit denies that apply: {}\n",
        if denies.is_empty() { "none".to_string() } else { denies.join("; ") }
    ));
    for problem in &evaluation.problems {
        out.push_str(&format!("Could not read: {problem}\n"));
    }
    out.push_str(
        "Not considered: session policies, and resource-based policies other than a role's trust policy.\n",
    );
    out
}

fn why_admin(snapshot: &Snapshot, arn: &str, format: crate::cli::PolicyFormat) -> Result<i32, String> {
    let (arn, _) = principal_arn(arn);
    let entry = account_of(snapshot, &arn)?;
    let per_account: Vec<(String, admin_holders::AccountEscalation)> = snapshot
        .accounts
        .par_iter()
        .map(|entry| {
            let account = snapshot.load_account(entry);
            (entry.id.to_string(), admin_holders::analyse(&account, &snapshot.organization))
        })
        .collect();
    let index = per_account.iter().position(|(id, _)| id == entry.id.as_str()).expect("entry is in the list");
    let mut verdicts = Vec::new();
    let mut exports = Vec::with_capacity(per_account.len());
    for (k, (_, escalation)) in per_account.into_iter().enumerate() {
        if k == index {
            verdicts = escalation.verdicts;
        }
        exports.push(escalation.export);
    }
    let mut cross = crate::policy::escalation::org::cross_account(exports, &snapshot.organization);
    admin_holders::merge_cross_account(&mut verdicts, std::mem::take(&mut cross.found[index]));
    let verdict = verdicts.iter().find(|v| v.arn == arn);
    if format == crate::cli::PolicyFormat::Json {
        let value = serde_json::json!({ "principal": arn, "standing": verdict.map(|v| &v.standing) });
        println!("{}", serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?);
        return Ok(0);
    }
    match verdict.map(|v| &v.standing) {
        None | Some(Standing::NotAdmin) => {
            println!("{arn} does not hold admin and no escalation path to admin was found.");
        }
        Some(Standing::Holds { holding, granted_by }) => {
            println!("{arn} holds admin itself: {}.", holding.power.describe());
            for source in granted_by {
                println!("  granted by {}", source.describe());
            }
            for c in &holding.conditions {
                println!("  only if {c}");
            }
        }
        Some(Standing::Capped { power, capped_by, .. }) => {
            println!(
                "{arn} is not admin: its identity policies grant {}, but {} does not allow it.",
                power.describe(),
                capped_by.join(" and ")
            );
        }
        Some(Standing::Escalates(escalation)) => {
            println!("{arn} can reach admin in {} step(s):", escalation.steps.len());
            for (i, step) in escalation.steps.iter().enumerate() {
                println!(
                    "  {}. {} uses {} [{}] → {}{}",
                    i + 1,
                    short(&step.principal),
                    step.actions.join(" + "),
                    step.path_id,
                    step.effect,
                    if step.potential {
                        " (potential: needs an existing resource the snapshot does not list)"
                    } else {
                        ""
                    }
                );
                for c in &step.conditions {
                    println!("     only if {c}");
                }
            }
            println!("  {} holds admin at the end.", short(&escalation.admin_node));
        }
    }
    Ok(0)
}
