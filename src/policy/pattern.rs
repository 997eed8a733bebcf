//! IAM wildcard matching: `*` matches any run of characters, `?` exactly one.
//!
//! Actions compare case-insensitively (`IAM:PutUserPolicy` is `iam:putuserpolicy`);
//! resource ARNs compare as written. No regular expressions: IAM has none.

/// Does `pattern` (with `*` and `?`) match all of `text`? Both byte strings, compared as given.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and how far into the text it has been stretched.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) && p[pi] != b'*' {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// `text` in ASCII lower case, copied only when it has an upper-case letter (names IAM
/// compares case-insensitively are mostly written in lower case already).
pub fn lower_case(text: &str) -> std::borrow::Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(text.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// An action pattern such as `iam:Put*`, kept lower-cased for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionPattern {
    pub written: String,
    lower: String,
}

/// Kept (the audit parks policies on disk between its passes) as the pattern was written.
impl serde::Serialize for ActionPattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.written)
    }
}

impl<'de> serde::Deserialize<'de> for ActionPattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ActionPattern, D::Error> {
        let written = String::deserialize(deserializer)?;
        Ok(ActionPattern::new(&written))
    }
}

impl ActionPattern {
    pub fn new(written: &str) -> ActionPattern {
        ActionPattern { written: written.to_string(), lower: written.trim().to_ascii_lowercase() }
    }

    /// `action` must already be lower case.
    pub fn matches(&self, action: &str) -> bool {
        wildcard_match(&self.lower, action)
    }

    /// The action itself (lower case) when the pattern has no wildcard.
    pub fn literal(&self) -> Option<&str> {
        (!self.lower.contains(['*', '?'])).then_some(self.lower.as_str())
    }

    /// `"*"` or `"*:*"`: every action of every service, present and future.
    pub fn is_everything(&self) -> bool {
        self.lower.bytes().all(|b| b == b'*' || b == b':') && self.lower.contains('*')
    }

    /// The service prefix (`iam` of `iam:Put*`), if the pattern names one without wildcards.
    pub fn service(&self) -> Option<&str> {
        let (service, _) = self.lower.split_once(':')?;
        (!service.contains(['*', '?'])).then_some(service)
    }

    /// A concrete action this pattern matches: wildcards filled with a marker that no real
    /// action name contains, so the probe hits this pattern and whatever else matches it.
    pub fn probe(&self) -> String {
        self.lower.replace('*', "zzprobe").replace('?', "z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_question_mark() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("iam:put*", "iam:putuserpolicy"));
        assert!(wildcard_match("iam:*policy", "iam:putuserpolicy"));
        assert!(!wildcard_match("iam:*policy", "iam:putuserpolicyx"));
        assert!(wildcard_match("s3:?etobject", "s3:getobject"));
        assert!(!wildcard_match("s3:?etobject", "s3:etobject"));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b*c", "axxbyy"));
        assert!(wildcard_match("arn:aws:s3:::b/*", "arn:aws:s3:::b/"));
        assert!(!wildcard_match("abc", "ab"));
    }

    #[test]
    fn actions_match_case_insensitively() {
        let pattern = ActionPattern::new("IAM:PutUser*");
        assert!(pattern.matches("iam:putuserpolicy"));
        assert!(!pattern.matches("iam:putrolepolicy"));
        assert_eq!(pattern.service(), Some("iam"));
    }

    #[test]
    fn lower_case_copies_only_what_has_upper_case() {
        assert!(matches!(lower_case("aws:principaltag/team"), std::borrow::Cow::Borrowed(_)));
        let lowered = lower_case("aws:PrincipalTag/Team");
        assert!(matches!(lowered, std::borrow::Cow::Owned(_)));
        assert_eq!(lowered, "aws:principaltag/team");
    }

    #[test]
    fn only_star_and_star_colon_star_are_everything() {
        assert!(ActionPattern::new("*").is_everything());
        assert!(ActionPattern::new("*:*").is_everything());
        assert!(!ActionPattern::new("iam:*").is_everything());
        assert!(!ActionPattern::new("sts:*").is_everything());
    }

    #[test]
    fn probes_hit_their_own_pattern() {
        for written in ["iam:*", "s3:Get*", "ec2:Describe?nstances", "*"] {
            let pattern = ActionPattern::new(written);
            assert!(pattern.matches(&pattern.probe()), "{written}");
        }
    }
}
