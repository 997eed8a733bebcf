//! The privilege-escalation paths the graph looks for, as data: one entry per path of the
//! public pathfinding.cloud catalogue (ids are theirs), written in our own terms.
//!
//! A path says which actions a principal X needs, on which resource each, and which node T
//! X then controls. The graph (`graph.rs`) asks the policy engine each action for every
//! candidate (X, T) and adds the edge X → T when all are allowed. Adding a path is one entry.

/// pathfinding.cloud's four categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// X rewrites its own permissions.
    SelfEscalation,
    /// X gets credentials for, or assumes, another principal.
    PrincipalAccess,
    /// X passes a role to a new resource of a service that runs X's code as that role.
    NewPassRole,
    /// X takes over an existing resource that already runs as a role. The snapshot does not
    /// list those resources, so such edges are *potential*.
    ExistingPassRole,
}

/// The node X gains control of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// X itself (its own policies), and X must be a user.
    SelfUser,
    /// X itself, and X must be a role.
    SelfRole,
    /// Any other IAM user of X's account.
    User,
    /// Any role that X may assume under its trust policy (any account of the organization).
    AssumableRole,
    /// Any role of X's account (e.g. its trust can be rewritten so X may assume it).
    Role,
    /// A role of X's account whose trust policy allows this service principal to assume it,
    /// e.g. `lambda.amazonaws.com`.
    ServiceRole(&'static str),
    /// A group X (a user) can add itself to.
    Group,
}

/// The resource an action of the path is asked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum On {
    /// The target principal's ARN (user, role or group).
    Target,
    /// Each customer managed policy attached to the target (CreatePolicyVersion, SetDefaultPolicyVersion).
    TargetPolicy,
    /// The target role, passed to the service: `iam:PassRole` with `iam:PassedToService`.
    PassTarget,
    /// Any resource of the service in X's account (lambda:CreateFunction on `*`).
    Any,
}

/// One permission the path needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Need {
    /// As AWS spells it, e.g. `lambda:CreateFunction`.
    pub action: &'static str,
    pub on: On,
}

/// A special rule a path needs beyond "these actions on these resources".
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    None,
    /// The target policy has a non-default version that is admin (SetDefaultPolicyVersion).
    AdminNonDefaultVersion,
    /// X must also be allowed by the target role's trust (AssumeRole after a policy write).
    TrustAllowsX,
    /// The target has a permissions boundary to remove.
    TargetHasBoundary,
    /// The user has no login profile yet (CreateLoginProfile) / has one (UpdateLoginProfile).
    /// The snapshot's credential report tells; without it the edge is kept.
    NoLoginProfile,
    HasLoginProfile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CataloguePath {
    /// pathfinding.cloud's id, e.g. `lambda-001`.
    pub id: &'static str,
    /// pathfinding.cloud's name, e.g. `iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction`.
    pub name: &'static str,
    pub category: Category,
    pub target: Target,
    pub needs: &'static [Need],
    pub requirement: Requirement,
}

/// Every path the graph detects.
pub const PATHS: &[CataloguePath] = &[];

/// Catalogue paths the graph does not detect, with the reason (id, reason).
pub const NOT_DETECTED: &[(&str, &str)] = &[];
