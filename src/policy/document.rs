//! The IAM policy language as data: documents, statements, principals and conditions.
//!
//! Parsing is strict about structure (an Effect must be Allow or Deny, a statement needs
//! an Action or NotAction) and lenient about forms AWS accepts (a single statement object
//! instead of a list, a string instead of a one-element list, values of any JSON scalar
//! type). Conditions are kept, not evaluated, so the checks can reason about them.
//! Duplicate condition keys, which JSON parsers silently collapse, are noted on the document.

use super::pattern::ActionPattern;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` or `NotAction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ActionSpec {
    Action(Vec<ActionPattern>),
    NotAction(Vec<ActionPattern>),
}

/// `Resource`, `NotResource`, or neither (trust policies).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResourceSpec {
    Resource(Vec<String>),
    NotResource(Vec<String>),
    Absent,
}

impl ResourceSpec {
    /// Resource ARNs compare case-sensitively; an absent Resource matches nothing.
    pub fn matches(&self, resource: &str) -> bool {
        use super::pattern::wildcard_match;
        match self {
            ResourceSpec::Resource(patterns) => patterns.iter().any(|p| wildcard_match(p, resource)),
            ResourceSpec::NotResource(patterns) => !patterns.iter().any(|p| wildcard_match(p, resource)),
            ResourceSpec::Absent => false,
        }
    }
}

/// One entry of a `Principal` block: `{"AWS": "arn…"}`, `{"Service": "…"}`, `{"Federated": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalEntry {
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Principal {
    /// `"Principal": "*"`
    Anyone,
    Entries(Vec<PrincipalEntry>),
}

impl Principal {
    /// `"*"` or `{"AWS": "*"}` (any AWS principal, which is the same set).
    pub fn is_anyone(&self) -> bool {
        match self {
            Principal::Anyone => true,
            Principal::Entries(entries) => entries.iter().any(|e| e.kind == "AWS" && e.value.trim() == "*"),
        }
    }

    pub fn entries(&self) -> &[PrincipalEntry] {
        match self {
            Principal::Anyone => &[],
            Principal::Entries(entries) => entries,
        }
    }
}

/// One condition test, e.g. `StringEquals` / `aws:PrincipalOrgID` / `["o-abc"]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// As written, e.g. `ForAnyValue:StringLike` or `StringEqualsIfExists`.
    pub operator: String,
    /// Lower-cased: condition keys are case-insensitive.
    pub key: String,
    pub values: Vec<String>,
}

impl Condition {
    /// The operator without set qualifiers and `IfExists`, e.g. `stringlike`.
    pub fn base_operator(&self) -> String {
        let op = self.operator.rsplit(':').next().unwrap_or(&self.operator).to_ascii_lowercase();
        op.strip_suffix("ifexists").map(str::to_string).unwrap_or(op)
    }

    pub fn is_negated(&self) -> bool {
        let op = self.base_operator();
        op.contains("not") || op == "null"
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub action: ActionSpec,
    pub resource: ResourceSpec,
    pub principal: Option<Principal>,
    pub not_principal: Option<Principal>,
    pub conditions: Vec<Condition>,
    /// The Resource (or NotResource) patterns as written, kept only when one holds a policy
    /// variable: the engine fills those in per request.
    pub resource_written: Option<Vec<String>>,
}

impl Statement {
    pub fn matches_action(&self, action: &str) -> bool {
        match &self.action {
            ActionSpec::Action(patterns) => patterns.iter().any(|p| p.matches(action)),
            ActionSpec::NotAction(patterns) => !patterns.iter().any(|p| p.matches(action)),
        }
    }

    /// Does it name every resource, the same way for any request (`Resource` holding `*`,
    /// no NotResource, no policy variable)? Then whether it matches never depends on the
    /// resource asked.
    pub fn names_every_resource(&self) -> bool {
        self.resource_written.is_none()
            && matches!(&self.resource, ResourceSpec::Resource(p) if p.iter().any(|p| p == "*"))
    }

    /// Resource ARNs compare case-sensitively; an absent Resource matches nothing in an
    /// identity policy, but trust policies (no Resource) are never asked.
    pub fn matches_resource(&self, resource: &str) -> bool {
        self.resource.matches(resource)
    }

    /// The written patterns when they hold policy variables, and whether they are NotResource.
    pub fn resource_with_variables(&self) -> Option<(&[String], bool)> {
        let written = self.resource_written.as_deref()?;
        Some((written, matches!(self.resource, ResourceSpec::NotResource(_))))
    }

    pub fn is_conditional(&self) -> bool {
        !self.conditions.is_empty()
    }

    pub fn action_patterns(&self) -> &[ActionPattern] {
        match &self.action {
            ActionSpec::Action(p) | ActionSpec::NotAction(p) => p,
        }
    }

    /// Condition values for a key (lower-cased), across operators.
    pub fn condition_values<'a>(
        &'a self,
        key: &'a str,
    ) -> impl Iterator<Item = (&'a Condition, &'a str)> + 'a {
        self.conditions
            .iter()
            .filter(move |c| c.key == key)
            .flat_map(|c| c.values.iter().map(move |v| (c, v.as_str())))
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
    /// Things a reader of the policy should know that the parse had to paper over.
    pub notes: Vec<String>,
}

/// Why a policy document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DocumentError(pub String);

impl PolicyDocument {
    /// Parses a document as IAM returns it: a JSON object, JSON text, or URL-encoded JSON text.
    pub fn from_json_text(text: &str) -> Result<PolicyDocument, DocumentError> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            return Self::parse(trimmed);
        }
        let decoded = percent_encoding::percent_decode_str(trimmed)
            .decode_utf8()
            .map_err(|e| DocumentError(format!("URL-encoded policy document is not UTF-8: {e}")))?;
        if !decoded.trim_start().starts_with('{') {
            let start: String = decoded.chars().take(40).collect();
            return Err(DocumentError(format!("policy document is not JSON (starts with {start:?})")));
        }
        Self::parse(&decoded)
    }

    /// Parses a document that arrived inside a larger JSON file: an object, or a string holding one.
    pub fn from_raw(raw: &serde_json::value::RawValue) -> Result<PolicyDocument, DocumentError> {
        let text = raw.get();
        if text.trim_start().starts_with('"') {
            let inner: String =
                serde_json::from_str(text).map_err(|e| DocumentError(format!("bad policy string: {e}")))?;
            Self::from_json_text(&inner)
        } else {
            Self::parse(text)
        }
    }

    fn parse(json: &str) -> Result<PolicyDocument, DocumentError> {
        let raw: RawDocument =
            serde_json::from_str(json).map_err(|e| DocumentError(format!("policy document: {e}")))?;
        let mut notes = Vec::new();
        let mut statements = Vec::new();
        for (index, raw) in raw.statement.into_vec().into_iter().enumerate() {
            statements.push(raw.into_statement(index, &mut notes)?);
        }
        Ok(PolicyDocument { statements, notes })
    }

    /// A document from literal JSON; for built-in policies and tests.
    pub fn literal(json: &str) -> PolicyDocument {
        Self::from_json_text(json).unwrap_or_else(|e| panic!("built-in policy does not parse: {e}"))
    }
}

#[derive(Deserialize)]
struct RawDocument {
    #[serde(rename = "Statement")]
    statement: OneOrMany<RawStatement>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

#[derive(Deserialize)]
struct RawStatement {
    #[serde(rename = "Sid")]
    sid: Option<serde_json::Value>,
    #[serde(rename = "Effect")]
    effect: String,
    #[serde(rename = "Action")]
    action: Option<OneOrMany<String>>,
    #[serde(rename = "NotAction")]
    not_action: Option<OneOrMany<String>>,
    #[serde(rename = "Resource")]
    resource: Option<OneOrMany<String>>,
    #[serde(rename = "NotResource")]
    not_resource: Option<OneOrMany<String>>,
    #[serde(rename = "Principal")]
    principal: Option<RawPrincipal>,
    #[serde(rename = "NotPrincipal")]
    not_principal: Option<RawPrincipal>,
    #[serde(rename = "Condition", default)]
    condition: RawConditions,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawPrincipal {
    Star(String),
    Map(std::collections::BTreeMap<String, OneOrMany<String>>),
}

impl RawPrincipal {
    fn into_principal(self, index: usize) -> Result<Principal, DocumentError> {
        match self {
            RawPrincipal::Star(s) if s.trim() == "*" => Ok(Principal::Anyone),
            RawPrincipal::Star(s) => Err(DocumentError(format!(
                "statement {index}: Principal must be \"*\" or an object, got {s:?}"
            ))),
            RawPrincipal::Map(map) => Ok(Principal::Entries(
                map.into_iter()
                    .flat_map(|(kind, values)| {
                        values
                            .into_vec()
                            .into_iter()
                            .map(move |value| PrincipalEntry { kind: kind.clone(), value })
                    })
                    .collect(),
            )),
        }
    }
}

impl RawStatement {
    fn into_statement(self, index: usize, notes: &mut Vec<String>) -> Result<Statement, DocumentError> {
        let effect = match self.effect.as_str() {
            "Allow" => Effect::Allow,
            "Deny" => Effect::Deny,
            other => {
                return Err(DocumentError(format!(
                    "statement {index}: Effect must be \"Allow\" or \"Deny\", got {other:?}"
                )))
            }
        };
        let patterns =
            |list: OneOrMany<String>| list.into_vec().iter().map(|a| ActionPattern::new(a)).collect();
        let action = match (self.action, self.not_action) {
            (Some(a), None) => ActionSpec::Action(patterns(a)),
            (None, Some(n)) => ActionSpec::NotAction(patterns(n)),
            (Some(_), Some(_)) => {
                return Err(DocumentError(format!("statement {index}: has both Action and NotAction")))
            }
            (None, None) => {
                return Err(DocumentError(format!("statement {index}: has neither Action nor NotAction")))
            }
        };
        let resource_written = self
            .resource
            .as_ref()
            .or(self.not_resource.as_ref())
            .map(|r| match r {
                OneOrMany::One(one) => vec![one.clone()],
                OneOrMany::Many(many) => many.clone(),
            })
            .filter(|r| r.iter().any(|p| p.contains("${")));
        let resource = match (self.resource, self.not_resource) {
            (Some(r), None) => {
                ResourceSpec::Resource(r.into_vec().iter().map(|r| resource_match_form(r)).collect())
            }
            (None, Some(n)) => {
                ResourceSpec::NotResource(n.into_vec().iter().map(|r| resource_match_form(r)).collect())
            }
            (None, None) => ResourceSpec::Absent,
            (Some(_), Some(_)) => {
                return Err(DocumentError(format!("statement {index}: has both Resource and NotResource")))
            }
        };
        let sid = self.sid.map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
        for condition in &self.condition.conditions {
            if !super::condition::is_known_operator(&condition.operator) {
                notes.push(format!(
                    "statement {index}: unknown condition operator `{}` on key `{}`: the policy engine \
                     treats this condition as unknown (neither met nor failed), and findings resting on it say so",
                    condition.operator, condition.key
                ));
            }
        }
        for duplicate in &self.condition.duplicates {
            notes.push(format!(
                "statement {index}: condition {duplicate} appears twice; IAM keeps only one of them"
            ));
        }
        Ok(Statement {
            sid,
            effect,
            action,
            resource,
            principal: self.principal.map(|p| p.into_principal(index)).transpose()?,
            not_principal: self.not_principal.map(|p| p.into_principal(index)).transpose()?,
            conditions: self.condition.conditions,
            resource_written,
        })
    }
}

/// The Condition block, read entry by entry so that duplicate keys are seen, not lost.
#[derive(Default)]
struct RawConditions {
    conditions: Vec<Condition>,
    duplicates: Vec<String>,
}

impl<'de> Deserialize<'de> for RawConditions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OperatorsVisitor)
    }
}

struct OperatorsVisitor;

impl<'de> Visitor<'de> for OperatorsVisitor {
    type Value = RawConditions;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Condition object: {operator: {key: value(s)}}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawConditions, A::Error> {
        let mut out = RawConditions::default();
        let mut seen_operators = Vec::<String>::new();
        while let Some(operator) = map.next_key::<String>()? {
            if seen_operators.contains(&operator) {
                out.duplicates.push(format!("operator `{operator}`"));
            }
            seen_operators.push(operator.clone());
            let keys: KeyValues = map.next_value()?;
            for key in keys.duplicates {
                out.duplicates.push(format!("key `{key}` under `{operator}`"));
            }
            for (key, values) in keys.entries {
                out.conditions.push(Condition {
                    operator: operator.clone(),
                    key: key.to_ascii_lowercase(),
                    values,
                });
            }
        }
        Ok(out)
    }
}

struct KeyValues {
    entries: Vec<(String, Vec<String>)>,
    duplicates: Vec<String>,
}

impl<'de> Deserialize<'de> for KeyValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = KeyValues;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of condition keys to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyValues, A::Error> {
                let mut out = KeyValues { entries: Vec::new(), duplicates: Vec::new() };
                while let Some(key) = map.next_key::<String>()? {
                    let value: serde_json::Value = map.next_value()?;
                    let values = match value {
                        serde_json::Value::Array(items) => items.into_iter().map(scalar_text).collect(),
                        other => vec![scalar_text(other)],
                    };
                    if out.entries.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                        out.duplicates.push(key.clone());
                    }
                    out.entries.push((key, values));
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(KeysVisitor).map_err(|e: D::Error| de::Error::custom(e))
    }
}

/// Policy variables (`${aws:username}`) stand for values known only at request time:
/// matched as `*`, so a grant on `user/${aws:username}` counts for every user it could name.
fn resource_match_form(resource: &str) -> String {
    let mut out = String::with_capacity(resource.len());
    let mut rest = resource;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push('*');
                rest = &rest[start + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn scalar_text(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_parked_and_read_back_is_the_same_document() {
        // The audit parks policies on disk between its passes in serde's form of these types.
        let document = PolicyDocument::literal(
            r#"{"Statement":[
                {"Sid":"a","Effect":"Allow","NotAction":["iam:*","S3:Get*"],"NotResource":"arn:aws:s3:::b/${aws:username}/*",
                 "Condition":{"StringEquals":{"aws:PrincipalTag/Team":["x","y"]},"Bool":{"aws:MultiFactorAuthPresent":true}}},
                {"Effect":"Deny","Principal":{"AWS":["arn:aws:iam::111122223333:root"],"Service":"ec2.amazonaws.com"},
                 "Action":"sts:AssumeRole"},
                {"Effect":"Allow","NotPrincipal":"*","Action":"*","Resource":"*"}]}"#,
        );
        let text = serde_json::to_string(&document).unwrap();
        let back: PolicyDocument = serde_json::from_str(&text).unwrap();
        assert_eq!(back, document);
        // NotAction, matched case-insensitively: the lower-cased patterns are made again.
        assert!(!back.statements[0].matches_action("s3:getobject"), "{text}");
        assert!(back.statements[0].matches_action("ec2:runinstances"), "{text}");
        assert!(back.statements[0].resource_written.is_some());
    }

    #[test]
    fn statement_may_be_an_object_or_a_list() {
        let one =
            PolicyDocument::literal(r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#);
        let many = PolicyDocument::literal(
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":["*"]}]}"#,
        );
        assert_eq!(one.statements, many.statements);
    }

    #[test]
    fn url_encoded_documents_are_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D";
        let doc = PolicyDocument::from_json_text(encoded).unwrap();
        assert_eq!(doc.statements.len(), 1);
        assert!(doc.statements[0].matches_action("iam:createuser"));
    }

    #[test]
    fn documents_inside_json_may_be_strings() {
        let raw: Box<serde_json::value::RawValue> = serde_json::from_str(
            r#""{\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}]}""#,
        )
        .unwrap();
        assert_eq!(PolicyDocument::from_raw(&raw).unwrap().statements[0].effect, Effect::Deny);
    }

    #[test]
    fn not_json_is_an_error_that_says_so() {
        let err = PolicyDocument::from_json_text("this is not a policy").unwrap_err();
        assert!(err.0.contains("not JSON"), "{err}");
        let err =
            PolicyDocument::from_json_text(r#"{"Statement":[{"Effect":"Maybe","Action":"*"}]}"#).unwrap_err();
        assert!(err.0.contains("Effect"), "{err}");
    }

    #[test]
    fn principal_forms() {
        let doc = PolicyDocument::literal(
            r#"{"Statement":[
              {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
              {"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"},
              {"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::210987654321:root"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        );
        assert!(doc.statements[0].principal.as_ref().unwrap().is_anyone());
        assert!(doc.statements[1].principal.as_ref().unwrap().is_anyone());
        let third = doc.statements[2].principal.as_ref().unwrap();
        assert!(!third.is_anyone());
        assert_eq!(third.entries().len(), 3);
    }

    #[test]
    fn duplicate_condition_keys_are_noted_not_lost() {
        let doc = PolicyDocument::literal(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole",
                "Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-aaaa"},"StringEquals":{"aws:PrincipalAccount":"123456789012"}}}]}"#,
        );
        assert_eq!(doc.statements[0].conditions.len(), 2);
        assert_eq!(doc.notes.len(), 1);
        assert!(doc.notes[0].contains("StringEquals"), "{:?}", doc.notes);
    }

    #[test]
    fn condition_values_of_any_scalar_type() {
        let doc = PolicyDocument::literal(
            r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*",
                "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":false},"NumericLessThan":{"aws:MultiFactorAuthAge":[3600]}}}]}"#,
        );
        let c = &doc.statements[0].conditions;
        assert_eq!(c[0].key, "aws:multifactorauthpresent");
        assert_eq!(c[0].values, vec!["false"]);
        assert_eq!(c[0].base_operator(), "bool");
        assert_eq!(c[1].values, vec!["3600"]);
    }
}
