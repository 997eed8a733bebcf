//! Condition evaluation: the `Condition` block of one statement judged against what is known
//! of a request, following AWS's documented semantics (IAM User Guide: "Condition operators",
//! "Single-valued vs multivalued context keys", "Variables and tags").
//!
//! Three-valued: a block holds, fails, or depends on context keys the snapshot cannot know
//! (`aws:SourceIp`, `aws:MultiFactorAuthPresent`, …). Whatever the evaluator cannot read (an
//! operator it does not know, a value it cannot parse) makes that condition *depend* and is
//! reported in [`BlockVerdict::problems`]: never silently true, never silently false.
//!
//! What it is not: a policy validator (it judges what it is given, and reports only what
//! stops it from judging), nor the policy engine (Allow/Deny, actions, resources and
//! principals are decided elsewhere; [`substitute`] is offered for the engine's Resource ARNs).
//!
//! It runs for every statement of every principal of large organizations, so the path that
//! decides an ordinary condition (literal values, single-valued key) allocates nothing:
//! operators are matched case-insensitively in place, keys are already lower case, and a
//! string is built only to explain a failure or a dependency.

use super::document::Condition;
use super::pattern::wildcard_match;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// What is known of one context key in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    /// Present with these values (one for a single-valued key, any number for a multivalued one).
    Known(Vec<String>),
    /// Known to be missing from the request (e.g. a principal tag the principal does not carry).
    Absent,
    /// The snapshot cannot tell (network, MFA, time, session).
    Unknown,
}

/// [`KeyValue`] borrowed from the context: what the evaluator reads, so that looking a key
/// up copies nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRef<'a> {
    Known(&'a [String]),
    Absent,
    Unknown,
}

/// The context keys of one request, keyed lower-case. Unset keys are `Unknown`, except
/// under a prefix declared complete (`aws:principaltag/`), where an unset key is `Absent`.
///
/// A context may be made over a shared base ([`RequestContext::over`]): what it sets or
/// declares absent itself hides the base's, and it reads the base for the rest. The
/// escalation search asks many requests that add a key or two to a principal's context;
/// over a base they copy only what they add.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    base: Option<Arc<RequestContext>>,
    values: HashMap<String, Vec<String>>,
    absent: Vec<String>,
    complete_prefixes: Vec<String>,
}

impl RequestContext {
    pub fn new() -> RequestContext {
        RequestContext::default()
    }

    /// An empty context that reads `base` for every key it does not set itself.
    pub fn over(base: Arc<RequestContext>) -> RequestContext {
        RequestContext { base: Some(base), ..RequestContext::default() }
    }

    /// A key known to hold `values` (case-insensitive key). Replaces an earlier `set_absent`.
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        let key = key.to_ascii_lowercase();
        self.absent.retain(|a| *a != key);
        self.values.insert(key, values);
    }

    /// A key known to be absent from the request. Replaces an earlier `set`.
    pub fn set_absent(&mut self, key: &str) {
        let key = key.to_ascii_lowercase();
        self.values.remove(&key);
        if !self.absent.contains(&key) {
            self.absent.push(key);
        }
    }

    /// Every key under `prefix` (e.g. `aws:principaltag/`) is known: unset means absent.
    pub fn declare_complete(&mut self, prefix: &str) {
        self.complete_prefixes.push(prefix.to_ascii_lowercase());
    }

    /// The key's values, owned. The evaluator uses [`RequestContext::lookup`], which copies nothing.
    pub fn get(&self, key: &str) -> KeyValue {
        match self.lookup(key) {
            KeyRef::Known(values) => KeyValue::Known(values.to_vec()),
            KeyRef::Absent => KeyValue::Absent,
            KeyRef::Unknown => KeyValue::Unknown,
        }
    }

    /// The key's values, borrowed. Keys are case-insensitive, tag names after the slash
    /// included; a key already in lower case (as `Condition::key` is) is not copied.
    pub fn lookup(&self, key: &str) -> KeyRef<'_> {
        self.lookup_lower(&super::pattern::lower_case(key))
    }

    fn lookup_lower(&self, key: &str) -> KeyRef<'_> {
        if let Some(values) = self.values.get(key) {
            return KeyRef::Known(values);
        }
        if self.absent.iter().any(|a| a == key) {
            return KeyRef::Absent;
        }
        match self.base.as_deref().map(|base| base.lookup_lower(key)) {
            Some(KeyRef::Unknown) | None => {}
            Some(known_or_absent) => return known_or_absent,
        }
        if self.complete_prefixes.iter().any(|p| key.starts_with(p.as_str())) {
            KeyRef::Absent
        } else {
            KeyRef::Unknown
        }
    }
}

/// The outcome of a condition block (every condition of a statement, ANDed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    Holds,
    /// Fails; the text says which condition and why, e.g.
    /// `StringEquals aws:PrincipalOrgID: request has "o-other", policy wants "o-abc"`.
    Fails(String),
    /// Depends on conditions the snapshot cannot decide, each written out,
    /// e.g. "Bool aws:MultiFactorAuthPresent = true".
    Depends(Vec<String>),
}

/// A block's verdict plus what the evaluator could not read (unknown operator, bad value):
/// such a condition makes the block `Depends`, never silently true or false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockVerdict {
    pub truth: Truth,
    pub problems: Vec<String>,
}

/// Judges every condition of a statement against `context`.
///
/// Every condition is judged even after one fails, so that `problems` lists everything
/// unreadable in the block whatever the request; the failure reported is the first one.
pub fn evaluate(conditions: &[Condition], context: &RequestContext) -> BlockVerdict {
    evaluate_explained(conditions, context, true)
}

/// [`evaluate`]; with `explain` false, a failing block's reason is left empty (the engine's
/// untraced decisions never read it, and writing it out is most of their cost).
pub fn evaluate_explained(conditions: &[Condition], context: &RequestContext, explain: bool) -> BlockVerdict {
    let mut problems = Vec::new();
    let mut failure: Option<String> = None;
    let mut depends = Vec::new();
    for condition in conditions {
        match evaluate_one(condition, context, explain && failure.is_none(), &mut problems) {
            Outcome::Holds => {}
            Outcome::Fails(why) => {
                if failure.is_none() {
                    failure = Some(why);
                }
            }
            Outcome::Depends(what) => depends.push(what),
        }
    }
    let truth = match failure {
        Some(why) => Truth::Fails(why),
        None if !depends.is_empty() => Truth::Depends(depends),
        None => Truth::Holds,
    };
    BlockVerdict { truth, problems }
}

/// One condition as a reader would say it (`StringEquals aws:PrincipalAccount = 999988887777`),
/// whether or not the evaluator understands its operator: what a finding quotes when it
/// names the condition it rests on.
pub fn written(c: &Condition) -> String {
    match parse_operator(&c.operator) {
        Some(op) => describe(c, &op),
        None => format!("{} {} {}", c.operator, display_key(&c.key), compact(&c.values)),
    }
}

/// Policy variables in `text` (`${aws:username}`, `${aws:PrincipalTag/team}`, `${*}`, …)
/// replaced from `context`. None when a variable's value is unknown or absent (and has no
/// default). The escapes come out as the plain characters `*`, `?` and `$`, so a caller
/// that goes on to wildcard-match the result can no longer tell them from wildcards.
pub fn substitute(text: &str, context: &RequestContext) -> Option<String> {
    if !text.contains("${") {
        return Some(text.to_string());
    }
    resolve(text, context).ok().map(|resolved| resolved.text)
}

// ---------------------------------------------------------------------------------------
// Operators

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn accepts(self, ordering: Ordering) -> bool {
        match self {
            Cmp::Eq => ordering == Ordering::Equal,
            Cmp::Lt => ordering == Ordering::Less,
            Cmp::Le => ordering != Ordering::Greater,
            Cmp::Gt => ordering == Ordering::Greater,
            Cmp::Ge => ordering != Ordering::Less,
        }
    }
}

/// What an operator compares, whatever its negation, qualifier or `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Str,
    StrIgnoreCase,
    StrLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    /// ArnEquals and ArnLike behave the same (AWS documents wildcards for both).
    Arn,
    Null,
}

impl Family {
    /// AWS documents policy variables for the String, Bool and ARN operators only; in the
    /// others `${…}` is left as written (and then does not parse).
    fn takes_variables(self) -> bool {
        matches!(self, Family::Str | Family::StrIgnoreCase | Family::StrLike | Family::Bool | Family::Arn)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quantifier {
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy)]
struct Operator {
    family: Family,
    negated: bool,
    if_exists: bool,
    quantifier: Option<Quantifier>,
    /// How a dependency reads: `Bool aws:MultiFactorAuthPresent = true`.
    verb: &'static str,
}

/// Base operators: name, family, negated, verb.
const OPERATORS: &[(&str, Family, bool, &str)] = &[
    ("StringEquals", Family::Str, false, "="),
    ("StringNotEquals", Family::Str, true, "!="),
    ("StringEqualsIgnoreCase", Family::StrIgnoreCase, false, "="),
    ("StringNotEqualsIgnoreCase", Family::StrIgnoreCase, true, "!="),
    ("StringLike", Family::StrLike, false, "like"),
    ("StringNotLike", Family::StrLike, true, "not like"),
    ("NumericEquals", Family::Numeric(Cmp::Eq), false, "="),
    ("NumericNotEquals", Family::Numeric(Cmp::Eq), true, "!="),
    ("NumericLessThan", Family::Numeric(Cmp::Lt), false, "<"),
    ("NumericLessThanEquals", Family::Numeric(Cmp::Le), false, "<="),
    ("NumericGreaterThan", Family::Numeric(Cmp::Gt), false, ">"),
    ("NumericGreaterThanEquals", Family::Numeric(Cmp::Ge), false, ">="),
    ("DateEquals", Family::Date(Cmp::Eq), false, "="),
    ("DateNotEquals", Family::Date(Cmp::Eq), true, "!="),
    ("DateLessThan", Family::Date(Cmp::Lt), false, "<"),
    ("DateLessThanEquals", Family::Date(Cmp::Le), false, "<="),
    ("DateGreaterThan", Family::Date(Cmp::Gt), false, ">"),
    ("DateGreaterThanEquals", Family::Date(Cmp::Ge), false, ">="),
    ("Bool", Family::Bool, false, "="),
    ("BinaryEquals", Family::Binary, false, "="),
    ("IpAddress", Family::Ip, false, "in"),
    ("NotIpAddress", Family::Ip, true, "not in"),
    ("ArnEquals", Family::Arn, false, "="),
    ("ArnLike", Family::Arn, false, "like"),
    ("ArnNotEquals", Family::Arn, true, "!="),
    ("ArnNotLike", Family::Arn, true, "not like"),
    ("Null", Family::Null, false, "="),
];

/// `ForAnyValue:StringLikeIfExists` and the like, case-insensitively, without allocating.
/// None for anything AWS does not define, including `NullIfExists` and a qualified `Null`
/// (AWS allows neither).
/// Whether the evaluator knows this operator (as written, e.g. `ForAnyValue:StringLike`).
/// For the snapshot reader, which names an unknown one as a problem of its file.
pub fn is_known_operator(written: &str) -> bool {
    parse_operator(written).is_some()
}

fn parse_operator(written: &str) -> Option<Operator> {
    let (quantifier, rest) = match written.split_once(':') {
        Some((q, rest)) if q.eq_ignore_ascii_case("ForAnyValue") => (Some(Quantifier::ForAnyValue), rest),
        Some((q, rest)) if q.eq_ignore_ascii_case("ForAllValues") => (Some(Quantifier::ForAllValues), rest),
        Some(_) => return None,
        None => (None, written),
    };
    const IF_EXISTS: &str = "IfExists";
    let (base, if_exists) = match rest.len().checked_sub(IF_EXISTS.len()) {
        Some(cut) if rest.is_char_boundary(cut) && rest[cut..].eq_ignore_ascii_case(IF_EXISTS) && cut > 0 => {
            (&rest[..cut], true)
        }
        _ => (rest, false),
    };
    let &(_, family, negated, verb) = OPERATORS.iter().find(|(name, ..)| name.eq_ignore_ascii_case(base))?;
    if family == Family::Null && (if_exists || quantifier.is_some()) {
        return None;
    }
    Some(Operator { family, negated, if_exists, quantifier, verb })
}

// ---------------------------------------------------------------------------------------
// One condition

enum Outcome {
    Holds,
    Fails(String),
    Depends(String),
}

/// Kleene's three-valued logic: `Unknown` is "true or false, the snapshot cannot tell".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn from_bool(b: bool) -> Tri {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }
    fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
            _ => Tri::False,
        }
    }
    fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
            _ => Tri::True,
        }
    }
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

/// `explain`: whether a failure needs its reason written (only the block's first does).
fn evaluate_one(c: &Condition, ctx: &RequestContext, explain: bool, problems: &mut Vec<String>) -> Outcome {
    let Some(op) = parse_operator(&c.operator) else {
        problems.push(format!(
            "unknown condition operator {:?} on key {}: the condition is treated as unknown",
            c.operator,
            display_key(&c.key)
        ));
        return Outcome::Depends(format!(
            "{} {} {} (operator not understood)",
            c.operator,
            display_key(&c.key),
            compact(&c.values)
        ));
    };
    if c.values.is_empty() {
        problems.push(format!(
            "condition {} on key {} has no values: the condition is treated as unknown",
            c.operator,
            display_key(&c.key)
        ));
        return Outcome::Depends(format!("{} {} (no values)", c.operator, display_key(&c.key)));
    }

    let prepared = Prepared::all(op.family, &c.values, ctx);
    let mut unreadable = false;
    for (raw, p) in c.values.iter().zip(prepared.as_slice()) {
        if let Prepared::Bad(why) = p {
            problems.push(format!(
                "condition {} on key {}: value {:?} {why}: the condition is treated as unknown",
                c.operator,
                display_key(&c.key),
                raw
            ));
            unreadable = true;
        }
    }
    if unreadable {
        return Outcome::Depends(format!("{} (value not understood)", describe(c, &op)));
    }

    let request: &[String] = match ctx.lookup(&c.key) {
        KeyRef::Unknown => return Outcome::Depends(describe(c, &op)),
        KeyRef::Absent => &[],
        KeyRef::Known(values) => values,
    };

    if op.family == Family::Null {
        return null_check(c, prepared.as_slice(), request.is_empty(), explain);
    }
    // A known key with no values is treated as absent: for the set qualifiers that is what
    // AWS documents (an empty set), and for the others there is nothing to compare.
    if request.is_empty() && op.if_exists {
        return Outcome::Holds;
    }

    // Without a qualifier a single-valued key has one value and any reading agrees. For a
    // multivalued key used without a qualifier (which AWS advises against) we read a
    // positive operator as "some request value matches" and a negated one as "no request
    // value matches": the reading under which a negated operator still means the opposite
    // of its positive twin. On an empty set that also gives AWS's rule for a missing key:
    // a positive operator fails, a negated one holds; ForAllValues holds, ForAnyValue fails.
    let every = match op.quantifier {
        Some(Quantifier::ForAllValues) => true,
        Some(Quantifier::ForAnyValue) => false,
        None => op.negated,
    };
    let mut verdict = Tri::from_bool(every);
    let mut request_unreadable = false;
    for value in request {
        let one = match Subject::parse(op.family, value) {
            Ok(subject) => {
                // Policy values are ORed: the request value matches one of them.
                let mut any = Tri::False;
                for p in prepared.as_slice() {
                    any = any.or(match p {
                        Prepared::Ready(operand) => Tri::from_bool(operand.matches(op.family, &subject)),
                        Prepared::VariableUnknown(_) => Tri::Unknown,
                        // AWS: a variable with no value in the request makes that policy
                        // value match nothing.
                        Prepared::VariableAbsent(_) => Tri::False,
                        Prepared::Bad(_) => Tri::Unknown,
                    });
                    if any == Tri::True {
                        break;
                    }
                }
                if op.negated {
                    any.not()
                } else {
                    any
                }
            }
            Err(why) => {
                problems.push(format!(
                    "condition {} on key {}: the request value {:?} {why}: the condition is treated as unknown",
                    c.operator,
                    display_key(&c.key),
                    value
                ));
                request_unreadable = true;
                Tri::Unknown
            }
        };
        verdict = if every { verdict.and(one) } else { verdict.or(one) };
        if verdict == Tri::from_bool(!every) {
            break;
        }
    }

    match verdict {
        Tri::True => Outcome::Holds,
        Tri::False if !explain => Outcome::Fails(String::new()),
        Tri::False => Outcome::Fails(failure_reason(c, &op, request, prepared.as_slice())),
        Tri::Unknown => {
            let mut text = describe(c, &op);
            let unknown: Vec<&str> = prepared
                .as_slice()
                .iter()
                .filter_map(|p| match p {
                    Prepared::VariableUnknown(name) => Some(name.as_str()),
                    _ => None,
                })
                .collect();
            if !unknown.is_empty() {
                text.push_str(&format!(" (with ${{{}}} unknown)", unknown.join("}, ${")));
            }
            if request_unreadable {
                text.push_str(" (request value not understood)");
            }
            Outcome::Depends(text)
        }
    }
}

/// `Null`: `"true"` wants the key absent, `"false"` wants it present; values are ORed.
fn null_check(c: &Condition, prepared: &[Prepared], is_absent: bool, explain: bool) -> Outcome {
    let holds = prepared
        .iter()
        .any(|p| matches!(p, Prepared::Ready(Operand::Flag(wants_absent)) if *wants_absent == is_absent));
    if holds {
        Outcome::Holds
    } else if !explain {
        Outcome::Fails(String::new())
    } else {
        let (is, wants) = if is_absent { ("absent from", "present") } else { ("present in", "absent") };
        Outcome::Fails(format!(
            "{} {}: the key is {is} the request, policy wants it {wants}",
            c.operator,
            display_key(&c.key)
        ))
    }
}

/// `StringEquals aws:PrincipalOrgID: request has "o-other", policy wants "o-abc"`.
fn failure_reason(c: &Condition, op: &Operator, request: &[String], prepared: &[Prepared]) -> String {
    let request = if request.is_empty() { "no value".to_string() } else { quoted(request) };
    let mut text = format!(
        "{} {}: request has {request}, policy {} {}",
        c.operator,
        display_key(&c.key),
        if op.negated { "excludes" } else { "wants" },
        quoted(&c.values)
    );
    for p in prepared {
        if let Prepared::VariableAbsent(name) = p {
            text.push_str(&format!(" (${{{name}}} has no value in the request)"));
        }
    }
    text
}

/// `IpAddress aws:SourceIp in 10.0.0.0/8`: the condition as a reader would say it.
fn describe(c: &Condition, op: &Operator) -> String {
    format!("{} {} {} {}", c.operator, display_key(&c.key), op.verb, compact(&c.values))
}

/// One value bare, several in brackets: `10.0.0.0/8` or `[o-abc, o-def]`.
fn compact(values: &[String]) -> String {
    match values {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// One value quoted, several as a quoted list: `"o-abc"` or `["a", "b"]`.
fn quoted(values: &[String]) -> String {
    match values {
        [one] => format!("{one:?}"),
        many => format!("{many:?}"),
    }
}

/// Global condition keys as AWS spells them, for messages (`Condition::key` is lower case).
const GLOBAL_KEYS: &[&str] = &[
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalType",
    "aws:Referer",
    "aws:RequestedRegion",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:TagKeys",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:userid",
    "aws:username",
    "aws:ViaAWSService",
    "aws:VpcSourceIp",
    // Not global, but quoted in every trust finding.
    "sts:ExternalId",
    "sts:RoleSessionName",
    "sts:SourceIdentity",
];

/// Tag key prefixes; the tag name after the slash is shown as the policy gives it.
const TAG_PREFIXES: &[&str] = &["aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/"];

/// The key as AWS spells it when it is a known global key, else as given.
fn display_key(key: &str) -> Cow<'_, str> {
    if let Some(known) = GLOBAL_KEYS.iter().find(|k| k.eq_ignore_ascii_case(key)) {
        return Cow::Borrowed(known);
    }
    for prefix in TAG_PREFIXES {
        if let Some(head) = key.get(..prefix.len()) {
            if head.eq_ignore_ascii_case(prefix) {
                return Cow::Owned(format!("{prefix}{}", &key[prefix.len()..]));
            }
        }
    }
    Cow::Borrowed(key)
}

// ---------------------------------------------------------------------------------------
// Policy values and request values

/// A policy value made ready for comparison, or why it cannot be.
enum Prepared<'a> {
    Ready(Operand<'a>),
    /// A policy variable whose key the snapshot cannot know.
    VariableUnknown(String),
    /// A policy variable whose key is absent from the request (and has no default).
    VariableAbsent(String),
    /// Unparseable; the text completes "value "x" …".
    Bad(String),
}

/// The prepared values of one condition; one value (the common case) needs no `Vec`.
enum PreparedValues<'a> {
    One(Prepared<'a>),
    Many(Vec<Prepared<'a>>),
}

impl<'a> PreparedValues<'a> {
    fn as_slice(&self) -> &[Prepared<'a>] {
        match self {
            PreparedValues::One(p) => std::slice::from_ref(p),
            PreparedValues::Many(v) => v,
        }
    }
}

impl<'a> Prepared<'a> {
    fn all(family: Family, values: &'a [String], ctx: &RequestContext) -> PreparedValues<'a> {
        match values {
            [one] => PreparedValues::One(Prepared::new(family, one, ctx)),
            many => PreparedValues::Many(many.iter().map(|v| Prepared::new(family, v, ctx)).collect()),
        }
    }

    fn new(family: Family, raw: &'a str, ctx: &RequestContext) -> Prepared<'a> {
        let pattern = if family.takes_variables() && raw.contains("${") {
            match resolve(raw, ctx) {
                Ok(resolved) => Pattern::Resolved(resolved),
                Err(VariableIssue::Unknown(name)) => return Prepared::VariableUnknown(name),
                Err(VariableIssue::Absent(name)) => return Prepared::VariableAbsent(name),
            }
        } else {
            Pattern::Plain(raw)
        };
        let text = pattern.text();
        let variable_note = |what: &str| {
            if raw.contains("${") {
                format!("{what} (policy variables are not supported by this operator)")
            } else {
                what.to_string()
            }
        };
        let operand = match family {
            Family::Str | Family::StrIgnoreCase | Family::StrLike => Operand::Text(pattern),
            Family::Arn => {
                if pattern.arn_field_count() < 6 {
                    return Prepared::Bad("is not an ARN (six colon-separated parts)".into());
                }
                Operand::Text(pattern)
            }
            Family::Numeric(_) => match parse_number(text) {
                Some(n) => Operand::Number(n),
                None => return Prepared::Bad(variable_note("is not a number")),
            },
            Family::Date(_) => match parse_date(text) {
                Some(d) => Operand::Time(d),
                None => return Prepared::Bad(variable_note("is not a date (ISO 8601 or epoch seconds)")),
            },
            Family::Bool | Family::Null => match parse_bool(text) {
                Some(b) => Operand::Flag(b),
                None => return Prepared::Bad(variable_note("is not true or false")),
            },
            Family::Binary => match base64_decode(text) {
                Some(bytes) => Operand::Bytes(bytes),
                None => return Prepared::Bad(variable_note("is not base64")),
            },
            Family::Ip => match Cidr::parse(text) {
                Some(cidr) => Operand::Net(cidr),
                None => return Prepared::Bad(variable_note("is not an IP address or CIDR block")),
            },
        };
        Prepared::Ready(operand)
    }
}

/// A policy value ready for comparison.
enum Operand<'a> {
    Text(Pattern<'a>),
    Number(Number),
    Time(DateTime<Utc>),
    Flag(bool),
    Bytes(Vec<u8>),
    Net(Cidr),
}

impl Operand<'_> {
    /// The positive comparison; negation and set qualifiers are applied by the caller.
    fn matches(&self, family: Family, subject: &Subject) -> bool {
        match (family, self, subject) {
            (Family::Str, Operand::Text(p), Subject::Text(t)) => p.text() == *t,
            (Family::StrIgnoreCase, Operand::Text(p), Subject::Text(t)) => eq_ignore_case(p.text(), t),
            (Family::StrLike, Operand::Text(p), Subject::Text(t)) => p.like(t),
            (Family::Arn, Operand::Text(p), Subject::Text(t)) => p.arn_like(t),
            (Family::Numeric(cmp), Operand::Number(p), Subject::Number(r)) => {
                r.compare(*p).is_some_and(|o| cmp.accepts(o))
            }
            (Family::Date(cmp), Operand::Time(p), Subject::Time(r)) => cmp.accepts(r.cmp(p)),
            (Family::Bool, Operand::Flag(p), Subject::Flag(r)) => p == r,
            (Family::Binary, Operand::Bytes(p), Subject::Bytes(r)) => p == r,
            (Family::Ip, Operand::Net(cidr), Subject::Addr(addr)) => cidr.contains(*addr),
            _ => false,
        }
    }
}

/// A request value read for the operator's family.
enum Subject<'a> {
    Text(&'a str),
    Number(Number),
    Time(DateTime<Utc>),
    Flag(bool),
    Bytes(Vec<u8>),
    Addr(IpAddr),
}

impl<'a> Subject<'a> {
    /// Err completes "the request value "x" …". Request values come from our own snapshot,
    /// so an unreadable one is a defect upstream; it is reported, not guessed at.
    fn parse(family: Family, value: &'a str) -> Result<Subject<'a>, &'static str> {
        match family {
            Family::Str | Family::StrIgnoreCase | Family::StrLike | Family::Arn | Family::Null => {
                Ok(Subject::Text(value))
            }
            Family::Numeric(_) => parse_number(value).map(Subject::Number).ok_or("is not a number"),
            Family::Date(_) => parse_date(value).map(Subject::Time).ok_or("is not a date"),
            Family::Bool => parse_bool(value).map(Subject::Flag).ok_or("is not true or false"),
            Family::Binary => base64_decode(value).map(Subject::Bytes).ok_or("is not base64"),
            Family::Ip => value.parse().map(Subject::Addr).map_err(|_| "is not an IP address"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Strings, wildcards and policy variables

/// One element of a wildcard pattern after variable substitution, where a `*` that came
/// from `${*}` or from a variable's value is a literal character, not a wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Ch(char),
    Star,
    One,
}

/// A policy value with its variables replaced.
struct Resolved {
    /// The plain text, for the equality operators and [`substitute`].
    text: String,
    /// The same as a wildcard pattern, for the Like and ARN operators.
    tokens: Vec<Tok>,
}

enum Pattern<'a> {
    /// As written (no variables): the fast path, borrowed.
    Plain(&'a str),
    Resolved(Resolved),
}

impl Pattern<'_> {
    fn text(&self) -> &str {
        match self {
            Pattern::Plain(s) => s,
            Pattern::Resolved(r) => &r.text,
        }
    }

    fn like(&self, text: &str) -> bool {
        match self {
            Pattern::Plain(p) => like_plain(p, text),
            Pattern::Resolved(r) => tokens_match(&r.tokens, text),
        }
    }

    fn arn_field_count(&self) -> usize {
        match self {
            Pattern::Plain(p) => p.splitn(6, ':').count(),
            Pattern::Resolved(r) => r.tokens.splitn(6, |t| *t == Tok::Ch(':')).count(),
        }
    }

    /// ARNs compare field by field on their six colon-separated parts, each with its own
    /// wildcards, so `*` in the account field cannot swallow the colons around it. The last
    /// part (the resource) keeps any further colons. Case-sensitive, as AWS documents.
    fn arn_like(&self, arn: &str) -> bool {
        let mut fields = arn.splitn(6, ':');
        let mut request = [""; 6];
        for slot in &mut request {
            match fields.next() {
                Some(f) => *slot = f,
                None => return false,
            }
        }
        match self {
            Pattern::Plain(p) => p.splitn(6, ':').zip(request).all(|(pf, rf)| like_plain(pf, rf)),
            Pattern::Resolved(r) => {
                r.tokens.splitn(6, |t| *t == Tok::Ch(':')).zip(request).all(|(pf, rf)| tokens_match(pf, rf))
            }
        }
    }
}

/// `StringLike` on a pattern as written. `wildcard_match` works on bytes, which is exact
/// except for `?` against a multi-byte character; that rare case goes through the
/// character-wise matcher.
fn like_plain(pattern: &str, text: &str) -> bool {
    if text.is_ascii() || !pattern.contains('?') {
        wildcard_match(pattern, text)
    } else {
        let tokens: Vec<Tok> = pattern.chars().map(wildcard_token).collect();
        tokens_match(&tokens, text)
    }
}

fn wildcard_token(c: char) -> Tok {
    match c {
        '*' => Tok::Star,
        '?' => Tok::One,
        c => Tok::Ch(c),
    }
}

/// Wildcard matching of a token pattern against all of `text`, `?` being one character.
/// Greedy with backtracking to the last `*`, as `wildcard_match`.
fn tokens_match(pattern: &[Tok], text: &str) -> bool {
    let next_len = |at: usize| text[at..].chars().next().map_or(1, char::len_utf8);
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < text.len() {
        let c = text[ti..].chars().next().unwrap_or_default();
        match pattern.get(pi) {
            Some(Tok::Star) => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some(Tok::One) => {
                pi += 1;
                ti += c.len_utf8();
                continue;
            }
            Some(Tok::Ch(p)) if *p == c => {
                pi += 1;
                ti += c.len_utf8();
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                let stretched = st + next_len(st);
                pi = sp + 1;
                ti = stretched;
                star = Some((sp, stretched));
            }
            None => return false,
        }
    }
    pattern[pi..].iter().all(|t| *t == Tok::Star)
}

/// Case-insensitive equality without allocating; full Unicode lower-casing only when a
/// side is not ASCII.
fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
}

enum VariableIssue {
    Unknown(String),
    Absent(String),
}

/// Replaces the policy variables of `raw`. Text outside variables keeps its wildcards;
/// what a variable or escape produces is literal.
fn resolve(raw: &str, ctx: &RequestContext) -> Result<Resolved, VariableIssue> {
    let mut out = Resolved { text: String::with_capacity(raw.len()), tokens: Vec::with_capacity(raw.len()) };
    let push_pattern = |out: &mut Resolved, s: &str| {
        out.text.push_str(s);
        out.tokens.extend(s.chars().map(wildcard_token));
    };
    let push_literal = |out: &mut Resolved, s: &str| {
        out.text.push_str(s);
        out.tokens.extend(s.chars().map(Tok::Ch));
    };
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        push_pattern(&mut out, &rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            // No closing brace: not a variable, kept as written.
            push_pattern(&mut out, &rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        match inner.trim() {
            "*" => push_literal(&mut out, "*"),
            "?" => push_literal(&mut out, "?"),
            "$" => push_literal(&mut out, "$"),
            "" => push_pattern(&mut out, &rest[start..start + 2 + end + 1]),
            _ => push_literal(&mut out, &variable_value(inner, ctx)?),
        }
        rest = &after[end + 1..];
    }
    push_pattern(&mut out, rest);
    Ok(out)
}

/// `aws:username` or `aws:PrincipalTag/team, 'none'`. A multivalued key cannot be a
/// variable (AWS); it is treated as having no value, so the default applies if given.
fn variable_value<'c>(inner: &'c str, ctx: &'c RequestContext) -> Result<Cow<'c, str>, VariableIssue> {
    let (name, default) = match inner.split_once(',') {
        Some((name, default)) => {
            let default = default.trim();
            let default = default.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')).unwrap_or(default);
            (name.trim(), Some(default))
        }
        None => (inner.trim(), None),
    };
    match ctx.lookup(name) {
        KeyRef::Known([one]) => Ok(Cow::Borrowed(one.as_str())),
        // The value may be present or not: even a default does not settle it.
        KeyRef::Unknown => Err(VariableIssue::Unknown(name.to_string())),
        KeyRef::Known(_) | KeyRef::Absent => {
            default.map(Cow::Borrowed).ok_or_else(|| VariableIssue::Absent(name.to_string()))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Numbers, dates, booleans, binary, addresses

/// Integers compare exactly (an f64 would merge integers beyond 2^53); anything with a
/// fraction or exponent compares as f64.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    fn compare(self, other: Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

fn parse_number(s: &str) -> Option<Number> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(Number::Int(i));
    }
    // Rust also reads "inf" and "NaN", which are no numbers a policy means.
    let f = s.parse::<f64>().ok()?;
    f.is_finite().then_some(Number::Float(f))
}

/// ISO 8601 (`2024-01-31T12:00:00Z`, with an offset, without a zone = UTC, or a bare date
/// = midnight UTC) or epoch seconds. A string of digits only is read as epoch seconds, not
/// as an ISO basic-format date: AWS's epoch form is digits only.
fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return DateTime::from_timestamp(s.parse().ok()?, 0);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let naive = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')).unwrap_or(s);
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc())
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Standard base64, padding optional. Written here because it is a dozen lines and
/// BinaryEquals is rare; decoding makes `QQ==` and `QQ` the same value.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let body = s.trim_end_matches('=');
    let padding = s.len() - body.len();
    if padding > 2 || (padding > 0 && s.len() % 4 != 0) || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in body.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A CIDR block (a bare address is a block of one). Host bits below the prefix are
/// ignored (`10.1.2.3/8` is `10.0.0.0/8`), as a network comparison implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cidr {
    V4 { net: u32, mask: u32 },
    V6 { net: u128, mask: u128 },
}

impl Cidr {
    fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => {
                // Digits only: `u8::from_str` would also take "+8".
                if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (addr, Some(prefix.parse::<u32>().ok()?))
            }
            None => (s, None),
        };
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => {
                let bits = prefix.unwrap_or(32);
                if bits > 32 {
                    return None;
                }
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                Some(Cidr::V4 { net: u32::from(a) & mask, mask })
            }
            IpAddr::V6(a) => {
                let bits = prefix.unwrap_or(128);
                if bits > 128 {
                    return None;
                }
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                Some(Cidr::V6 { net: u128::from(a) & mask, mask })
            }
        }
    }

    /// An IPv4 address is never in an IPv6 block nor the reverse (no mapping of
    /// `::ffff:a.b.c.d`: AWS documents none).
    fn contains(self, addr: IpAddr) -> bool {
        match (self, addr) {
            (Cidr::V4 { net, mask }, IpAddr::V4(a)) => u32::from(a) & mask == net,
            (Cidr::V6 { net, mask }, IpAddr::V6(a)) => u128::from(a) & mask == net,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(operator: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            operator: operator.to_string(),
            key: key.to_ascii_lowercase(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> RequestContext {
        let mut ctx = RequestContext::new();
        for (key, values) in pairs {
            ctx.set(key, values.iter().map(|v| v.to_string()).collect());
        }
        ctx
    }

    fn verdict(operator: &str, key: &str, values: &[&str], context: &RequestContext) -> BlockVerdict {
        evaluate(&[cond(operator, key, values)], context)
    }

    fn truth(operator: &str, key: &str, values: &[&str], context: &RequestContext) -> Truth {
        verdict(operator, key, values, context).truth
    }

    /// Holds, with no problems.
    #[track_caller]
    fn assert_holds(operator: &str, key: &str, values: &[&str], context: &RequestContext) {
        let v = verdict(operator, key, values, context);
        assert_eq!(v.truth, Truth::Holds, "{operator} {key} {values:?}");
        assert!(v.problems.is_empty(), "{:?}", v.problems);
    }

    /// Fails, with no problems.
    #[track_caller]
    fn assert_fails(operator: &str, key: &str, values: &[&str], context: &RequestContext) {
        let v = verdict(operator, key, values, context);
        assert!(matches!(v.truth, Truth::Fails(_)), "{operator} {key} {values:?}: {:?}", v.truth);
        assert!(v.problems.is_empty(), "{:?}", v.problems);
    }

    #[track_caller]
    fn assert_depends(operator: &str, key: &str, values: &[&str], context: &RequestContext) -> Vec<String> {
        match truth(operator, key, values, context) {
            Truth::Depends(texts) => texts,
            other => panic!("{operator} {key} {values:?}: expected Depends, got {other:?}"),
        }
    }

    /// Depends, with exactly one problem, which is returned.
    #[track_caller]
    fn assert_problem(operator: &str, key: &str, values: &[&str], context: &RequestContext) -> String {
        let v = verdict(operator, key, values, context);
        assert!(matches!(v.truth, Truth::Depends(_)), "{operator} {values:?}: {:?}", v.truth);
        assert_eq!(v.problems.len(), 1, "{:?}", v.problems);
        v.problems[0].clone()
    }

    // --- String -------------------------------------------------------------------------

    #[test]
    fn string_equals_is_exact_and_case_sensitive() {
        let c = ctx(&[("aws:PrincipalOrgID", &["o-abc"])]);
        assert_holds("StringEquals", "aws:PrincipalOrgID", &["o-abc"], &c);
        assert_holds("StringEquals", "aws:PrincipalOrgID", &["o-xyz", "o-abc"], &c);
        assert_fails("StringEquals", "aws:PrincipalOrgID", &["o-ABC"], &c);
        assert_fails("StringEquals", "aws:PrincipalOrgID", &["o-ab"], &c);
        // No wildcards in StringEquals.
        assert_fails("StringEquals", "aws:PrincipalOrgID", &["o-*"], &c);
    }

    #[test]
    fn a_failure_says_what_the_request_has_and_what_the_policy_wants() {
        let c = ctx(&[("aws:PrincipalOrgID", &["o-other"])]);
        assert_eq!(
            truth("StringEquals", "aws:PrincipalOrgID", &["o-abc"], &c),
            Truth::Fails(
                r#"StringEquals aws:PrincipalOrgID: request has "o-other", policy wants "o-abc""#.into()
            )
        );
        assert_eq!(
            truth("StringNotEquals", "aws:PrincipalOrgID", &["o-other", "o-x"], &c),
            Truth::Fails(
                r#"StringNotEquals aws:PrincipalOrgID: request has "o-other", policy excludes ["o-other", "o-x"]"#
                    .into()
            )
        );
        let mut absent = RequestContext::new();
        absent.set_absent("aws:PrincipalOrgID");
        assert_eq!(
            truth("StringEquals", "aws:PrincipalOrgID", &["o-abc"], &absent),
            Truth::Fails(
                r#"StringEquals aws:PrincipalOrgID: request has no value, policy wants "o-abc""#.into()
            )
        );
    }

    #[test]
    fn string_not_equals_must_differ_from_every_value() {
        let c = ctx(&[("aws:username", &["alice"])]);
        assert_holds("StringNotEquals", "aws:username", &["bob"], &c);
        assert_holds("StringNotEquals", "aws:username", &["bob", "carol"], &c);
        assert_fails("StringNotEquals", "aws:username", &["bob", "alice"], &c);
        // Case matters: "Alice" is another string.
        assert_holds("StringNotEquals", "aws:username", &["Alice"], &c);
    }

    #[test]
    fn string_equals_ignore_case() {
        let c = ctx(&[("aws:username", &["Alice"]), ("s3:prefix", &["ÄRGER"])]);
        assert_holds("StringEqualsIgnoreCase", "aws:username", &["aLICE"], &c);
        assert_fails("StringEqualsIgnoreCase", "aws:username", &["alicia"], &c);
        assert_fails("StringNotEqualsIgnoreCase", "aws:username", &["ALICE"], &c);
        assert_holds("StringNotEqualsIgnoreCase", "aws:username", &["bob"], &c);
        // Beyond ASCII as well.
        assert_holds("StringEqualsIgnoreCase", "s3:prefix", &["ärger"], &c);
        assert_fails("StringEqualsIgnoreCase", "s3:prefix", &["arger"], &c);
        // The case-sensitive operator tells them apart.
        assert_fails("StringEquals", "s3:prefix", &["ärger"], &c);
    }

    #[test]
    fn string_like_wildcards() {
        let c = ctx(&[("s3:prefix", &["home/alice/notes.txt"])]);
        assert_holds("StringLike", "s3:prefix", &["home/alice/*"], &c);
        assert_holds("StringLike", "s3:prefix", &["home/?lice/*.txt"], &c);
        assert_holds("StringLike", "s3:prefix", &["*"], &c);
        assert_holds("StringLike", "s3:prefix", &["other/*", "home/*"], &c);
        assert_fails("StringLike", "s3:prefix", &["home/bob/*"], &c);
        assert_fails("StringLike", "s3:prefix", &["home/alice"], &c);
        assert_fails("StringLike", "s3:prefix", &["HOME/*"], &c);
        assert_fails("StringLike", "s3:prefix", &["home/??lice/*"], &c);
        assert_fails("StringNotLike", "s3:prefix", &["home/*"], &c);
        assert_holds("StringNotLike", "s3:prefix", &["tmp/*", "HOME/*"], &c);
    }

    #[test]
    fn string_like_question_mark_is_one_character_even_beyond_ascii() {
        let c = ctx(&[("s3:prefix", &["naïve"])]);
        assert_holds("StringLike", "s3:prefix", &["na?ve"], &c);
        assert_fails("StringLike", "s3:prefix", &["na??ve"], &c);
        assert_holds("StringLike", "s3:prefix", &["na*e"], &c);
    }

    // --- Numeric ------------------------------------------------------------------------

    #[test]
    fn numeric_operators() {
        let c = ctx(&[("aws:MultiFactorAuthAge", &["3600"])]);
        let key = "aws:MultiFactorAuthAge";
        assert_holds("NumericEquals", key, &["3600"], &c);
        assert_holds("NumericEquals", key, &["3600.0"], &c);
        assert_fails("NumericEquals", key, &["3601"], &c);
        assert_holds("NumericNotEquals", key, &["3601"], &c);
        assert_fails("NumericNotEquals", key, &["3600"], &c);
        assert_holds("NumericLessThan", key, &["3601"], &c);
        assert_fails("NumericLessThan", key, &["3600"], &c);
        assert_holds("NumericLessThanEquals", key, &["3600"], &c);
        assert_fails("NumericLessThanEquals", key, &["3599"], &c);
        assert_holds("NumericGreaterThan", key, &["3599.5"], &c);
        assert_fails("NumericGreaterThan", key, &["3600"], &c);
        assert_holds("NumericGreaterThanEquals", key, &["3600"], &c);
        assert_fails("NumericGreaterThanEquals", key, &["3600.5"], &c);
        assert_holds("NumericLessThan", key, &["-1", "4000"], &c);
    }

    #[test]
    fn large_integers_compare_exactly() {
        let c = ctx(&[("ec2:volumesize", &["9007199254740993"])]);
        assert_fails("NumericEquals", "ec2:volumesize", &["9007199254740992"], &c);
        assert_holds("NumericGreaterThan", "ec2:volumesize", &["9007199254740992"], &c);
    }

    #[test]
    fn a_value_that_is_no_number_makes_the_condition_depend_and_is_reported() {
        let c = ctx(&[("aws:MultiFactorAuthAge", &["10"])]);
        for bad in ["abc", "NaN", "inf", "", "${aws:username}"] {
            let problem = assert_problem("NumericLessThan", "aws:MultiFactorAuthAge", &[bad], &c);
            assert!(problem.contains("NumericLessThan"), "{problem}");
            assert!(problem.contains("aws:MultiFactorAuthAge"), "{problem}");
            assert!(problem.contains(&format!("{bad:?}")), "{problem}");
        }
        let problem = assert_problem("NumericLessThan", "aws:MultiFactorAuthAge", &["${aws:username}"], &c);
        assert!(problem.contains("variables are not supported"), "{problem}");
        // One bad value among good ones still makes the condition unknown: AWS would have
        // refused the policy, so nothing about it can be trusted.
        assert_problem("NumericLessThan", "aws:MultiFactorAuthAge", &["100", "abc"], &c);
        // Even when the key is absent.
        assert_problem("NumericLessThan", "aws:MultiFactorAuthAge", &["abc"], &RequestContext::new());
        // An unreadable request value is reported too.
        let c = ctx(&[("aws:MultiFactorAuthAge", &["soon"])]);
        let problem = assert_problem("NumericLessThan", "aws:MultiFactorAuthAge", &["100"], &c);
        assert!(problem.contains("request value \"soon\""), "{problem}");
    }

    // --- Date ---------------------------------------------------------------------------

    #[test]
    fn dates_in_iso_8601_and_epoch_seconds() {
        // 2024-01-01T00:00:00Z is epoch 1704067200.
        let iso = ctx(&[("aws:CurrentTime", &["2024-01-01T00:00:00Z"])]);
        let epoch = ctx(&[("aws:CurrentTime", &["1704067200"])]);
        let key = "aws:CurrentTime";
        for c in [&iso, &epoch] {
            assert_holds("DateEquals", key, &["2024-01-01T00:00:00Z"], c);
            assert_holds("DateEquals", key, &["1704067200"], c);
            assert_holds("DateEquals", key, &["2024-01-01"], c);
            assert_holds("DateEquals", key, &["2024-01-01T01:00:00+01:00"], c);
            assert_holds("DateEquals", key, &["2024-01-01T00:00:00.000Z"], c);
            assert_holds("DateEquals", key, &["2024-01-01T00:00:00"], c);
            assert_fails("DateEquals", key, &["2024-01-01T00:00:01Z"], c);
            assert_holds("DateNotEquals", key, &["1704067201"], c);
            assert_fails("DateNotEquals", key, &["1704067200"], c);
            assert_holds("DateLessThan", key, &["2024-01-01T00:00:01Z"], c);
            assert_fails("DateLessThan", key, &["2024-01-01T00:00:00Z"], c);
            assert_holds("DateLessThanEquals", key, &["2024-01-01T00:00:00Z"], c);
            assert_fails("DateLessThanEquals", key, &["2023-12-31T23:59:59Z"], c);
            assert_holds("DateGreaterThan", key, &["2023-12-31"], c);
            assert_fails("DateGreaterThan", key, &["2024-01-01"], c);
            assert_holds("DateGreaterThanEquals", key, &["1704067200"], c);
            assert_fails("DateGreaterThanEquals", key, &["2024-06-01T00:00:00Z"], c);
        }
        // Token issued before a cut-off (a common revocation pattern).
        let c = ctx(&[("aws:TokenIssueTime", &["2023-05-01T10:00:00Z"])]);
        assert_holds("DateLessThan", "aws:TokenIssueTime", &["2023-05-02T00:00:00Z"], &c);
    }

    #[test]
    fn a_value_that_is_no_date_is_reported() {
        let c = ctx(&[("aws:CurrentTime", &["2024-01-01T00:00:00Z"])]);
        for bad in ["yesterday", "2024-13-01", "2024-01-01T25:00:00Z", "12.5"] {
            let problem = assert_problem("DateLessThan", "aws:CurrentTime", &[bad], &c);
            assert!(problem.contains("not a date"), "{problem}");
        }
    }

    // --- Bool and Binary ----------------------------------------------------------------

    #[test]
    fn bool_compares_true_and_false_case_insensitively() {
        let c = ctx(&[("aws:SecureTransport", &["true"]), ("aws:MultiFactorAuthPresent", &["False"])]);
        assert_holds("Bool", "aws:SecureTransport", &["true"], &c);
        assert_holds("Bool", "aws:SecureTransport", &["TRUE"], &c);
        assert_fails("Bool", "aws:SecureTransport", &["false"], &c);
        assert_holds("Bool", "aws:MultiFactorAuthPresent", &["false"], &c);
        assert_fails("Bool", "aws:MultiFactorAuthPresent", &["true"], &c);
        let problem = assert_problem("Bool", "aws:SecureTransport", &["yes"], &c);
        assert!(problem.contains("not true or false"), "{problem}");
    }

    #[test]
    fn binary_equals_compares_decoded_base64() {
        // "QmluYXJ5" is "Binary".
        let c = ctx(&[("s3:binarykey", &["QmluYXJ5"]), ("s3:short", &["QQ=="])]);
        assert_holds("BinaryEquals", "s3:binarykey", &["QmluYXJ5"], &c);
        assert_fails("BinaryEquals", "s3:binarykey", &["QmluYXJ6"], &c);
        // Padding is optional.
        assert_holds("BinaryEquals", "s3:short", &["QQ"], &c);
        assert_holds("BinaryEquals", "s3:short", &["QQ=="], &c);
        assert_fails("BinaryEquals", "s3:short", &["Qg=="], &c);
        for bad in ["not base64!", "Q", "QQ=", "QQ==="] {
            let problem = assert_problem("BinaryEquals", "s3:binarykey", &[bad], &c);
            assert!(problem.contains("not base64"), "{bad}: {problem}");
        }
        assert_eq!(base64_decode("TWFu"), Some(b"Man".to_vec()));
        assert_eq!(base64_decode("TWE="), Some(b"Ma".to_vec()));
        assert_eq!(base64_decode(""), Some(Vec::new()));
    }

    // --- IP addresses -------------------------------------------------------------------

    #[test]
    fn ipv4_blocks() {
        let c = ctx(&[("aws:SourceIp", &["10.1.2.3"])]);
        let key = "aws:SourceIp";
        assert_holds("IpAddress", key, &["10.0.0.0/8"], &c);
        assert_holds("IpAddress", key, &["10.1.2.0/24"], &c);
        assert_holds("IpAddress", key, &["10.1.2.3/32"], &c);
        assert_holds("IpAddress", key, &["10.1.2.3"], &c);
        assert_holds("IpAddress", key, &["0.0.0.0/0"], &c);
        assert_holds("IpAddress", key, &["192.168.0.0/16", "10.0.0.0/8"], &c);
        assert_fails("IpAddress", key, &["10.1.2.4/32"], &c);
        assert_fails("IpAddress", key, &["10.1.3.0/24"], &c);
        assert_fails("IpAddress", key, &["11.0.0.0/8"], &c);
        // Block edges: 10.1.2.0/30 is .0–.3, 10.1.2.4/30 is .4–.7.
        assert_holds("IpAddress", key, &["10.1.2.0/30"], &c);
        assert_fails("IpAddress", key, &["10.1.2.4/30"], &c);
        // Host bits set in the block are ignored.
        assert_holds("IpAddress", key, &["10.200.0.1/8"], &c);
        assert_fails("NotIpAddress", key, &["10.0.0.0/8"], &c);
        assert_holds("NotIpAddress", key, &["192.168.0.0/16", "172.16.0.0/12"], &c);
        assert_fails("NotIpAddress", key, &["192.168.0.0/16", "10.1.0.0/16"], &c);
    }

    #[test]
    fn ipv6_blocks() {
        let c = ctx(&[("aws:SourceIp", &["2001:db8:1234:5678::1"])]);
        let key = "aws:SourceIp";
        assert_holds("IpAddress", key, &["2001:db8::/32"], &c);
        assert_holds("IpAddress", key, &["2001:db8:1234:5678::/64"], &c);
        assert_holds("IpAddress", key, &["2001:db8:1234:5678::1/128"], &c);
        assert_holds("IpAddress", key, &["2001:db8:1234:5678::1"], &c);
        assert_holds("IpAddress", key, &["::/0"], &c);
        assert_fails("IpAddress", key, &["2001:db8:1234:5679::/64"], &c);
        assert_fails("IpAddress", key, &["2001:db8:1234:5678::2/128"], &c);
        // Families never mix.
        assert_fails("IpAddress", key, &["0.0.0.0/0"], &c);
        let v4 = ctx(&[("aws:SourceIp", &["10.0.0.1"])]);
        assert_fails("IpAddress", key, &["::/0"], &v4);
        assert_holds("NotIpAddress", key, &["::/0"], &v4);
    }

    #[test]
    fn bad_cidr_blocks_are_reported() {
        let c = ctx(&[("aws:SourceIp", &["10.1.2.3"])]);
        for bad in ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/+8", "10.0.0/8", "abc", "::/129", "10.0.0.0/8 "] {
            let problem = assert_problem("IpAddress", "aws:SourceIp", &[bad], &c);
            assert!(problem.contains("not an IP address or CIDR block"), "{bad}: {problem}");
        }
        let problem = assert_problem("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8", "300.0.0.0/8"], &c);
        assert!(problem.contains("300.0.0.0/8"), "{problem}");
    }

    // --- ARN ----------------------------------------------------------------------------

    #[test]
    fn arns_compare_field_by_field() {
        let c = ctx(&[("aws:PrincipalArn", &["arn:aws:iam::123456789012:role/x"])]);
        let key = "aws:PrincipalArn";
        assert_holds("ArnLike", key, &["arn:aws:iam::*:role/x"], &c);
        assert_holds("ArnEquals", key, &["arn:aws:iam::*:role/x"], &c);
        assert_holds("ArnLike", key, &["arn:aws:iam::123456789012:role/*"], &c);
        assert_holds("ArnLike", key, &["arn:*:iam::1234567890??:role/x"], &c);
        assert_holds("ArnEquals", key, &["arn:aws:iam::123456789012:role/x"], &c);
        assert_fails("ArnLike", key, &["arn:aws:iam::*:role/y"], &c);
        assert_fails("ArnLike", key, &["arn:aws:iam::*:role/x2"], &c);
        assert_fails("ArnLike", key, &["arn:aws:iam::210987654321:role/x"], &c);
        // Case-sensitive.
        assert_fails("ArnLike", key, &["arn:aws:iam::*:role/X"], &c);
        // The region field is empty in an IAM ARN; a star matches empty, a letter does not.
        assert_fails("ArnLike", key, &["arn:aws:iam:us-east-1:*:role/x"], &c);
        assert_holds("ArnNotLike", key, &["arn:aws:iam::*:role/y"], &c);
        assert_fails("ArnNotLike", key, &["arn:aws:iam::*:role/*"], &c);
        assert_fails("ArnNotEquals", key, &["arn:aws:iam::*:role/x"], &c);
    }

    #[test]
    fn arn_resource_part_keeps_its_colons() {
        let c = ctx(&[("aws:SourceArn", &["arn:aws:logs:us-east-1:123456789012:log-group:/aws/x:*"])]);
        assert_holds("ArnLike", "aws:SourceArn", &["arn:aws:logs:*:*:log-group:*"], &c);
        assert_holds("ArnLike", "aws:SourceArn", &["arn:aws:logs:us-east-1:123456789012:*"], &c);
        assert_fails("ArnLike", "aws:SourceArn", &["arn:aws:logs:*:*:log-stream:*"], &c);
        // A star stays inside its field: here it would swallow region and account
        // ("us-east-1:123456789012") in a whole-string match, which then succeeds.
        assert_fails("ArnLike", "aws:SourceArn", &["arn:aws:logs:*:log-group:/aws/x:*"], &c);
        assert!(wildcard_match(
            "arn:aws:logs:*:log-group:/aws/x:*",
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/x:*"
        ));
    }

    #[test]
    fn arn_values_that_are_not_arns() {
        let c = ctx(&[("aws:SourceArn", &["not-an-arn"])]);
        // A request value that is no ARN matches no ARN pattern.
        assert_fails("ArnLike", "aws:SourceArn", &["arn:*:*:*:*:*"], &c);
        assert_holds("ArnNotLike", "aws:SourceArn", &["arn:*:*:*:*:*"], &c);
        // A policy value without six parts is reported, not guessed at.
        for bad in ["*", "arn:aws:iam::*"] {
            let problem = assert_problem("ArnLike", "aws:SourceArn", &[bad], &c);
            assert!(problem.contains("not an ARN"), "{problem}");
        }
    }

    // --- Null, IfExists, absent keys ----------------------------------------------------

    #[test]
    fn null_checks_presence() {
        let present = ctx(&[("aws:TokenIssueTime", &["2024-01-01T00:00:00Z"])]);
        let mut absent = RequestContext::new();
        absent.set_absent("aws:TokenIssueTime");
        let empty = ctx(&[("aws:TokenIssueTime", &[])]);
        let key = "aws:TokenIssueTime";
        assert_holds("Null", key, &["true"], &absent);
        assert_holds("Null", key, &["true"], &empty);
        assert_fails("Null", key, &["true"], &present);
        assert_holds("Null", key, &["false"], &present);
        assert_fails("Null", key, &["false"], &absent);
        assert_holds("Null", key, &["True"], &absent);
        // Both values: always true.
        assert_holds("Null", key, &["true", "false"], &present);
        assert_eq!(
            truth("Null", key, &["false"], &absent),
            Truth::Fails(
                "Null aws:TokenIssueTime: the key is absent from the request, policy wants it present".into()
            )
        );
        assert_eq!(
            assert_depends("Null", key, &["true"], &RequestContext::new()),
            vec!["Null aws:TokenIssueTime = true"]
        );
        assert!(assert_problem("Null", key, &["maybe"], &present).contains("not true or false"));
        // AWS defines no NullIfExists and no qualified Null.
        assert!(
            assert_problem("NullIfExists", key, &["true"], &present).contains("unknown condition operator")
        );
        assert!(assert_problem("ForAnyValue:Null", key, &["true"], &present)
            .contains("unknown condition operator"));
    }

    #[test]
    fn missing_keys_fail_positive_operators_and_satisfy_negated_ones() {
        let mut c = RequestContext::new();
        c.set_absent("aws:SourceIp");
        c.set_absent("aws:PrincipalTag/team");
        c.set_absent("aws:SourceArn");
        c.set_absent("aws:EpochTime");
        assert_fails("IpAddress", "aws:SourceIp", &["10.0.0.0/8"], &c);
        assert_holds("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"], &c);
        assert_fails("StringEquals", "aws:PrincipalTag/team", &["red"], &c);
        assert_holds("StringNotEquals", "aws:PrincipalTag/team", &["red"], &c);
        assert_holds("StringNotLike", "aws:PrincipalTag/team", &["r*"], &c);
        assert_holds("StringNotEqualsIgnoreCase", "aws:PrincipalTag/team", &["red"], &c);
        assert_fails("ArnLike", "aws:SourceArn", &["arn:*:*:*:*:*"], &c);
        assert_holds("ArnNotLike", "aws:SourceArn", &["arn:*:*:*:*:*"], &c);
        assert_fails("NumericLessThan", "aws:EpochTime", &["5"], &c);
        assert_holds("NumericNotEquals", "aws:EpochTime", &["5"], &c);
        assert_fails("DateGreaterThan", "aws:EpochTime", &["5"], &c);
        assert_holds("DateNotEquals", "aws:EpochTime", &["5"], &c);
    }

    #[test]
    fn if_exists_holds_when_the_key_is_missing_and_tests_it_otherwise() {
        let mut c = ctx(&[("aws:SourceVpc", &["vpc-1"])]);
        c.set_absent("aws:SourceIp");
        assert_holds("IpAddressIfExists", "aws:SourceIp", &["10.0.0.0/8"], &c);
        assert_holds("StringEqualsIfExists", "aws:SourceIp", &["x"], &c);
        assert_holds("NotIpAddressIfExists", "aws:SourceIp", &["10.0.0.0/8"], &c);
        assert_holds("StringEqualsIfExists", "aws:SourceVpc", &["vpc-1"], &c);
        assert_fails("StringEqualsIfExists", "aws:SourceVpc", &["vpc-2"], &c);
        assert_fails("StringNotEqualsIfExists", "aws:SourceVpc", &["vpc-1"], &c);
        assert_holds("stringequalsifexists", "aws:SourceVpc", &["vpc-1"], &c);
        // Unknown: it may be missing (holds) or present and different (fails).
        let texts = assert_depends("BoolIfExists", "aws:MultiFactorAuthPresent", &["false"], &c);
        assert_eq!(texts, vec!["BoolIfExists aws:MultiFactorAuthPresent = false"]);
        // A known key with an empty set counts as missing.
        let empty = ctx(&[("aws:SourceVpc", &[])]);
        assert_holds("StringEqualsIfExists", "aws:SourceVpc", &["vpc-1"], &empty);
        assert_fails("StringEquals", "aws:SourceVpc", &["vpc-1"], &empty);
    }

    // --- Multivalued keys ---------------------------------------------------------------

    #[test]
    fn for_any_value() {
        let c = ctx(&[("aws:TagKeys", &["team", "cost"]), ("aws:CalledVia", &[])]);
        let mut absent = RequestContext::new();
        absent.set_absent("aws:TagKeys");
        let op = "ForAnyValue:StringEquals";
        assert_holds(op, "aws:TagKeys", &["cost"], &c);
        assert_holds(op, "aws:TagKeys", &["owner", "team"], &c);
        assert_fails(op, "aws:TagKeys", &["owner"], &c);
        assert_fails(op, "aws:TagKeys", &["owner"], &absent);
        assert_fails(op, "aws:CalledVia", &["athena.amazonaws.com"], &c);
        assert_holds("ForAnyValue:StringLike", "aws:TagKeys", &["co*"], &c);
        // Some request value differs from every policy value.
        assert_holds("ForAnyValue:StringNotEquals", "aws:TagKeys", &["team"], &c);
        assert_fails("ForAnyValue:StringNotEquals", "aws:TagKeys", &["team", "cost"], &c);
        assert_fails("ForAnyValue:StringNotEquals", "aws:TagKeys", &["team"], &absent);
        // With IfExists a missing key holds.
        assert_holds("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", &["owner"], &absent);
    }

    #[test]
    fn for_all_values() {
        let c = ctx(&[("aws:TagKeys", &["team", "cost"]), ("aws:CalledVia", &[])]);
        let mut absent = RequestContext::new();
        absent.set_absent("aws:TagKeys");
        let op = "ForAllValues:StringEquals";
        assert_holds(op, "aws:TagKeys", &["team", "cost", "owner"], &c);
        assert_fails(op, "aws:TagKeys", &["team", "owner"], &c);
        // Vacuously true on a missing key or an empty set: AWS's documented trap.
        assert_holds(op, "aws:TagKeys", &["team"], &absent);
        assert_holds(op, "aws:CalledVia", &["athena.amazonaws.com"], &c);
        assert_holds("ForAllValues:StringLike", "aws:TagKeys", &["*t*"], &c);
        assert_fails("ForAllValues:StringLike", "aws:TagKeys", &["t*"], &c);
        // Every request value differs from every policy value.
        assert_holds("ForAllValues:StringNotEquals", "aws:TagKeys", &["owner"], &c);
        assert_fails("ForAllValues:StringNotEquals", "aws:TagKeys", &["cost"], &c);
        assert_holds("forallvalues:stringequals", "aws:TagKeys", &["team", "cost"], &c);
    }

    #[test]
    fn a_multivalued_key_without_a_qualifier() {
        let c = ctx(&[("aws:PrincipalServiceNamesList", &["ec2.amazonaws.com", "lambda.amazonaws.com"])]);
        let key = "aws:PrincipalServiceNamesList";
        // Positive: some request value matches.
        assert_holds("StringEquals", key, &["lambda.amazonaws.com"], &c);
        assert_fails("StringEquals", key, &["s3.amazonaws.com"], &c);
        // Negated: no request value matches.
        assert_holds("StringNotEquals", key, &["s3.amazonaws.com"], &c);
        assert_fails("StringNotEquals", key, &["lambda.amazonaws.com"], &c);
    }

    #[test]
    fn qualifiers_apply_to_every_family() {
        let c = ctx(&[("aws:SourceIp", &["10.0.0.1", "192.168.1.1"])]);
        assert_holds("ForAnyValue:IpAddress", "aws:SourceIp", &["10.0.0.0/8"], &c);
        assert_fails("ForAllValues:IpAddress", "aws:SourceIp", &["10.0.0.0/8"], &c);
        assert_holds("ForAllValues:IpAddress", "aws:SourceIp", &["10.0.0.0/8", "192.168.0.0/16"], &c);
    }

    // --- Unknown keys, unknown operators, combination -----------------------------------

    #[test]
    fn an_unknown_key_makes_the_condition_depend_written_out() {
        let c = RequestContext::new();
        assert_eq!(
            assert_depends("Bool", "aws:MultiFactorAuthPresent", &["true"], &c),
            vec!["Bool aws:MultiFactorAuthPresent = true"]
        );
        assert_eq!(
            assert_depends("IpAddress", "aws:SourceIp", &["10.0.0.0/8"], &c),
            vec!["IpAddress aws:SourceIp in 10.0.0.0/8"]
        );
        assert_eq!(
            assert_depends("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8", "192.168.0.0/16"], &c),
            vec!["NotIpAddress aws:SourceIp not in [10.0.0.0/8, 192.168.0.0/16]"]
        );
        // Negated operators and qualifiers are no exception.
        assert_depends("StringNotEquals", "aws:SourceVpc", &["vpc-1"], &c);
        assert_depends("ForAllValues:StringEquals", "aws:TagKeys", &["a"], &c);
        assert_depends("ForAnyValue:StringEquals", "aws:TagKeys", &["a"], &c);
        assert_eq!(
            assert_depends("StringEquals", "aws:PrincipalTag/Team", &["red"], &c),
            vec!["StringEquals aws:PrincipalTag/team = red"]
        );
        assert!(verdict("Bool", "aws:MultiFactorAuthPresent", &["true"], &c).problems.is_empty());
    }

    #[test]
    fn an_unknown_operator_depends_and_is_reported() {
        let c = ctx(&[("aws:username", &["alice"])]);
        let v = verdict("StringFoo", "aws:username", &["alice"], &c);
        assert_eq!(
            v.problems,
            vec![
                r#"unknown condition operator "StringFoo" on key aws:username: the condition is treated as unknown"#
            ]
        );
        match v.truth {
            Truth::Depends(texts) => assert!(texts[0].starts_with("StringFoo aws:username"), "{texts:?}"),
            other => panic!("{other:?}"),
        }
        for op in
            ["ForSomeValues:StringEquals", "StringEqualsIfExistsIfExists", "IfExists", "BinaryNotEquals"]
        {
            assert!(assert_problem(op, "aws:username", &["alice"], &c).contains("unknown condition operator"));
        }
    }

    #[test]
    fn operators_are_case_insensitive() {
        let c = ctx(&[("aws:TagKeys", &["team"]), ("aws:SourceIp", &["10.0.0.1"])]);
        assert_holds("stringequals", "aws:TagKeys", &["team"], &c);
        assert_holds("FORANYVALUE:STRINGLIKE", "aws:TagKeys", &["t*"], &c);
        assert_holds("ipaddress", "aws:SourceIp", &["10.0.0.0/8"], &c);
        assert_fails("STRINGNOTEQUALS", "aws:TagKeys", &["team"], &c);
    }

    #[test]
    fn a_condition_without_values_is_reported() {
        let c = ctx(&[("aws:username", &["alice"])]);
        assert!(assert_problem("StringEquals", "aws:username", &[], &c).contains("no values"));
    }

    #[test]
    fn conditions_are_anded() {
        let c = ctx(&[("aws:PrincipalOrgID", &["o-abc"]), ("aws:username", &["alice"])]);
        let org = cond("StringEquals", "aws:PrincipalOrgID", &["o-abc"]);
        let wrong_org = cond("StringEquals", "aws:PrincipalOrgID", &["o-xyz"]);
        let wrong_user = cond("StringEquals", "aws:username", &["bob"]);
        let mfa = cond("Bool", "aws:MultiFactorAuthPresent", &["true"]);
        let ip = cond("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]);

        assert_eq!(evaluate(&[], &c).truth, Truth::Holds);
        assert_eq!(evaluate(std::slice::from_ref(&org), &c).truth, Truth::Holds);
        assert_eq!(
            evaluate(&[org.clone(), mfa.clone(), ip.clone()], &c).truth,
            Truth::Depends(vec![
                "Bool aws:MultiFactorAuthPresent = true".into(),
                "IpAddress aws:SourceIp in 10.0.0.0/8".into()
            ])
        );
        // A failure decides, whatever depends; the first failure is the one reported.
        match evaluate(&[mfa.clone(), wrong_org, org, wrong_user], &c).truth {
            Truth::Fails(why) => assert!(why.contains("aws:PrincipalOrgID"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn problems_are_collected_from_every_condition() {
        let c = ctx(&[("aws:username", &["alice"])]);
        let block = [
            cond("StringEquals", "aws:username", &["bob"]),
            cond("StringFoo", "aws:username", &["x"]),
            cond("NumericLessThan", "aws:MultiFactorAuthAge", &["abc"]),
        ];
        let v = evaluate(&block, &c);
        assert!(matches!(v.truth, Truth::Fails(_)), "{:?}", v.truth);
        assert_eq!(v.problems.len(), 2, "{:?}", v.problems);
    }

    // --- Context ------------------------------------------------------------------------

    #[test]
    fn context_keys_are_case_insensitive_and_default_to_unknown() {
        let mut c = RequestContext::new();
        c.set("AWS:PrincipalTag/Team", vec!["Red".into()]);
        assert_eq!(c.get("aws:principaltag/team"), KeyValue::Known(vec!["Red".into()]));
        assert_eq!(c.get("aws:PRINCIPALTAG/TEAM"), KeyValue::Known(vec!["Red".into()]));
        assert_eq!(c.get("aws:principaltag/owner"), KeyValue::Unknown);
        // Values keep their case.
        assert_holds("StringEquals", "aws:PrincipalTag/TEAM", &["Red"], &c);
        assert_fails("StringEquals", "aws:PrincipalTag/team", &["red"], &c);

        c.declare_complete("aws:PrincipalTag/");
        assert_eq!(c.get("aws:principaltag/owner"), KeyValue::Absent);
        assert_eq!(c.get("aws:PrincipalTag/Team"), KeyValue::Known(vec!["Red".into()]));
        assert_eq!(c.get("aws:requesttag/owner"), KeyValue::Unknown);
        assert_fails("StringEquals", "aws:PrincipalTag/owner", &["x"], &c);

        c.set_absent("AWS:SourceVpc");
        assert_eq!(c.get("aws:sourcevpc"), KeyValue::Absent);
        c.set("aws:sourcevpc", vec!["vpc-1".into()]);
        assert_eq!(c.get("aws:SourceVpc"), KeyValue::Known(vec!["vpc-1".into()]));
        c.set_absent("aws:SourceVpc");
        assert_eq!(c.get("aws:SourceVpc"), KeyValue::Absent);
    }

    #[test]
    fn a_context_over_a_base_hides_what_it_sets_and_reads_the_rest_from_the_base() {
        let mut base = RequestContext::new();
        base.set("aws:PrincipalAccount", vec!["111122223333".into()]);
        base.set("aws:SourceVpc", vec!["vpc-base".into()]);
        base.set_absent("aws:username");
        base.declare_complete("aws:PrincipalTag/");
        let base = Arc::new(base);

        let mut over = RequestContext::over(base.clone());
        over.set("AWS:PrincipalTag/Team", vec!["red".into()]);
        over.set("aws:username", vec!["alice".into()]);
        over.set_absent("aws:SourceVpc");
        // Its own keys, over the base's value and the base's absence.
        assert_eq!(over.get("aws:principaltag/team"), KeyValue::Known(vec!["red".into()]));
        assert_eq!(over.get("aws:username"), KeyValue::Known(vec!["alice".into()]));
        assert_eq!(over.get("aws:sourcevpc"), KeyValue::Absent);
        // The base's keys and its complete prefix.
        assert_eq!(over.get("AWS:PrincipalAccount"), KeyValue::Known(vec!["111122223333".into()]));
        assert_eq!(over.get("aws:principaltag/owner"), KeyValue::Absent);
        assert_eq!(over.get("aws:multifactorauthpresent"), KeyValue::Unknown);
        // The base is not changed, and a context over this one reads through both.
        assert_eq!(base.get("aws:sourcevpc"), KeyValue::Known(vec!["vpc-base".into()]));
        assert_eq!(base.get("aws:principaltag/team"), KeyValue::Absent);
        let mut top = RequestContext::over(Arc::new(over));
        top.declare_complete("aws:RequestTag/");
        top.set("aws:PrincipalAccount", vec!["444455556666".into()]);
        assert_eq!(top.get("aws:principaltag/team"), KeyValue::Known(vec!["red".into()]));
        assert_eq!(top.get("aws:principalaccount"), KeyValue::Known(vec!["444455556666".into()]));
        assert_eq!(top.get("aws:sourcevpc"), KeyValue::Absent);
        assert_eq!(top.get("aws:requesttag/env"), KeyValue::Absent);
        assert_holds("StringEquals", "aws:PrincipalTag/team", &["red"], &top);
        assert_fails("StringEquals", "aws:PrincipalTag/owner", &["x"], &top);
    }

    // --- Policy variables ---------------------------------------------------------------

    #[test]
    fn variables_in_condition_values() {
        let mut c = ctx(&[
            ("aws:username", &["alice"]),
            ("aws:PrincipalTag/team", &["red"]),
            ("s3:prefix", &["home/alice/x"]),
            ("aws:ResourceTag/team", &["red"]),
            ("aws:ResourceTag/owner", &["bob"]),
        ]);
        c.declare_complete("aws:principaltag/");
        assert_holds("StringLike", "s3:prefix", &["home/${aws:username}/*"], &c);
        assert_fails("StringLike", "s3:prefix", &["home/${aws:userid}x/*"], &{
            let mut c = c.clone();
            c.set("aws:userid", vec!["AIDA".into()]);
            c
        });
        // Variable names are case-insensitive, like keys.
        assert_holds("StringEquals", "aws:ResourceTag/team", &["${aws:PrincipalTag/Team}"], &c);
        assert_holds("StringEquals", "aws:ResourceTag/team", &["${AWS:PRINCIPALTAG/TEAM}"], &c);
        assert_fails("StringEquals", "aws:ResourceTag/owner", &["${aws:PrincipalTag/team}"], &c);
        assert_holds("StringNotEquals", "aws:ResourceTag/owner", &["${aws:PrincipalTag/team}"], &c);
    }

    #[test]
    fn an_unknown_variable_makes_the_value_depend() {
        let c = ctx(&[("s3:prefix", &["home/alice/x"])]);
        let texts = assert_depends("StringLike", "s3:prefix", &["home/${aws:username}/*"], &c);
        assert_eq!(
            texts,
            vec!["StringLike s3:prefix like home/${aws:username}/* (with ${aws:username} unknown)"]
        );
        // Another value that matches decides regardless.
        assert_holds("StringLike", "s3:prefix", &["home/${aws:username}/*", "home/*"], &c);
        // One that does not leaves it depending.
        assert_depends("StringLike", "s3:prefix", &["home/${aws:username}/*", "tmp/*"], &c);
        // A default does not settle an unknown key: it may be present with another value.
        assert_depends("StringLike", "s3:prefix", &["home/${aws:username, 'alice'}/*"], &c);
        assert_depends("StringNotLike", "s3:prefix", &["home/${aws:username}/*"], &c);
    }

    #[test]
    fn an_absent_variable_matches_nothing_unless_it_has_a_default() {
        let mut c = ctx(&[("aws:ResourceTag/team", &["none"])]);
        c.declare_complete("aws:principaltag/");
        assert_eq!(
            truth("StringEquals", "aws:ResourceTag/team", &["${aws:PrincipalTag/team}"], &c),
            Truth::Fails(
                r#"StringEquals aws:ResourceTag/team: request has "none", policy wants "${aws:PrincipalTag/team}" (${aws:PrincipalTag/team} has no value in the request)"#
                    .into()
            )
        );
        // Matching nothing, it excludes nothing.
        assert_holds("StringNotEquals", "aws:ResourceTag/team", &["${aws:PrincipalTag/team}"], &c);
        assert_holds("StringEquals", "aws:ResourceTag/team", &["${aws:PrincipalTag/team, 'none'}"], &c);
        assert_holds("StringEquals", "aws:ResourceTag/team", &["${aws:PrincipalTag/team,'none'}"], &c);
        assert_fails("StringEquals", "aws:ResourceTag/team", &["${aws:PrincipalTag/team, 'other'}"], &c);
        // A multivalued key is no variable: as if absent.
        c.set("aws:PrincipalTag/team", vec!["none".into(), "red".into()]);
        assert_fails("StringEquals", "aws:ResourceTag/team", &["${aws:PrincipalTag/team}"], &c);
        assert_holds("StringEquals", "aws:ResourceTag/team", &["${aws:PrincipalTag/team, 'none'}"], &c);
    }

    #[test]
    fn escapes_are_literal_characters_not_wildcards() {
        let c = ctx(&[("s3:prefix", &["a*b"]), ("s3:delimiter", &["axb"]), ("s3:x", &["cost$?"])]);
        assert_holds("StringLike", "s3:prefix", &["a${*}b"], &c);
        assert_fails("StringLike", "s3:delimiter", &["a${*}b"], &c);
        assert_holds("StringLike", "s3:delimiter", &["a*b"], &c);
        assert_holds("StringEquals", "s3:prefix", &["a${*}b"], &c);
        assert_holds("StringEquals", "s3:x", &["cost${$}${?}"], &c);
        assert_holds("StringLike", "s3:x", &["c*${$}${?}"], &c);
        assert_fails("StringLike", "s3:x", &["cost${$}${?}?"], &c);
        assert_fails("StringLike", "s3:delimiter", &["a${?}b"], &c);
    }

    #[test]
    fn variables_in_arn_and_bool_values() {
        let c = ctx(&[
            ("aws:username", &["alice"]),
            ("aws:PrincipalArn", &["arn:aws:iam::123456789012:user/alice"]),
            ("aws:PrincipalAccount", &["123456789012"]),
            ("aws:PrincipalTag/admin", &["true"]),
            ("aws:SecureTransport", &["true"]),
        ]);
        assert_holds("ArnLike", "aws:PrincipalArn", &["arn:aws:iam::*:user/${aws:username}"], &c);
        assert_holds(
            "ArnEquals",
            "aws:PrincipalArn",
            &["arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}"],
            &c,
        );
        assert_fails("ArnLike", "aws:PrincipalArn", &["arn:aws:iam::*:user/${aws:username}x"], &c);
        assert_holds("Bool", "aws:SecureTransport", &["${aws:PrincipalTag/admin}"], &c);
    }

    #[test]
    fn substitute_replaces_variables_or_says_it_cannot() {
        let mut c = ctx(&[("aws:username", &["alice"]), ("aws:PrincipalTag/team", &["red"])]);
        c.declare_complete("aws:principaltag/");
        c.set_absent("aws:userid");
        let sub = |t: &str| substitute(t, &c);
        assert_eq!(
            sub("arn:aws:s3:::bucket/home/${aws:username}/*").as_deref(),
            Some("arn:aws:s3:::bucket/home/alice/*")
        );
        assert_eq!(sub("${aws:PrincipalTag/Team}-${aws:username}").as_deref(), Some("red-alice"));
        assert_eq!(sub("no variables").as_deref(), Some("no variables"));
        assert_eq!(sub("${*}${?}${$}").as_deref(), Some("*?$"));
        assert_eq!(sub("${aws:PrincipalTag/owner, 'nobody'}").as_deref(), Some("nobody"));
        assert_eq!(sub("${aws:PrincipalTag/owner}"), None);
        assert_eq!(sub("${aws:userid}"), None);
        assert_eq!(sub("x/${aws:SourceIp}"), None);
        assert_eq!(sub("x/${aws:SourceIp, 'y'}"), None);
        // Not variables: kept as written.
        assert_eq!(sub("a/${unclosed").as_deref(), Some("a/${unclosed"));
        assert_eq!(sub("a/${}").as_deref(), Some("a/${}"));
        assert_eq!(sub("$aws:username").as_deref(), Some("$aws:username"));
    }

    // --- Internals ----------------------------------------------------------------------

    #[test]
    fn token_matching_agrees_with_wildcard_match_on_ascii() {
        let cases = [
            ("*", ""),
            ("*", "abc"),
            ("a*c", "abbbc"),
            ("a*c", "abbb"),
            ("a?c", "abc"),
            ("a?c", "ac"),
            ("*b*", "abc"),
            ("a*b*c", "axxbyyc"),
            ("a*b*c", "axxbyy"),
            ("abc", "ab"),
            ("", ""),
            ("", "a"),
        ];
        for (pattern, text) in cases {
            let tokens: Vec<Tok> = pattern.chars().map(wildcard_token).collect();
            assert_eq!(tokens_match(&tokens, text), wildcard_match(pattern, text), "{pattern} / {text}");
        }
        assert!(tokens_match(&[Tok::One], "é"));
        assert!(!tokens_match(&[Tok::One, Tok::One], "é"));
        assert!(!tokens_match(&[Tok::Ch('*')], "x"));
        assert!(tokens_match(&[Tok::Ch('*')], "*"));
    }

    #[test]
    fn cidr_masks() {
        assert_eq!(Cidr::parse("10.1.2.3/8"), Some(Cidr::V4 { net: 0x0a00_0000, mask: 0xff00_0000 }));
        assert_eq!(Cidr::parse("0.0.0.0/0"), Some(Cidr::V4 { net: 0, mask: 0 }));
        assert_eq!(Cidr::parse("1.2.3.4"), Some(Cidr::V4 { net: 0x0102_0304, mask: u32::MAX }));
        assert_eq!(Cidr::parse("::/0"), Some(Cidr::V6 { net: 0, mask: 0 }));
        assert_eq!(Cidr::parse("::1"), Some(Cidr::V6 { net: 1, mask: u128::MAX }));
        assert_eq!(Cidr::parse("1.2.3.4/33"), None);
    }

    #[test]
    fn messages_spell_global_keys_as_aws_does() {
        assert_eq!(display_key("aws:multifactorauthpresent"), "aws:MultiFactorAuthPresent");
        assert_eq!(display_key("aws:principaltag/team"), "aws:PrincipalTag/team");
        assert_eq!(display_key("s3:prefix"), "s3:prefix");
    }
}
