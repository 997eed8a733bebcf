//! The privilege-escalation paths the graph looks for, as data: one entry per path of the
//! public pathfinding.cloud catalogue (ids are theirs), written in our own terms.
//!
//! A path says which actions a principal X needs, on which resource each, and which node T
//! X then controls. The graph (`graph.rs`) asks the policy engine each action for every
//! candidate (X, T) and adds the edge X → T when all are allowed. Adding a path is one entry.
//!
//! Read from the catalogue's `data/paths/aws/<service>/<id>.yaml` files (86 paths, the newest
//! stored versions; see `CATALOGUE_IDS` in the tests). Every one of them is expressed here:
//! paths that work through a resource the IAM snapshot does not list (an existing function,
//! stack, instance, identity pool …) are kept as *potential* edges, never dropped.

/// pathfinding.cloud's four categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
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
    /// X itself, user or role. With [`On::TargetPolicy`] the policies asked about are the
    /// customer managed policies attached to X directly or, for a user, through its groups
    /// (iam-001: a new version of a policy X already holds).
    SelfPrincipal,
    /// Any other IAM user of X's account.
    User,
    /// Any role that X may assume under its trust policy (any account of the organization).
    AssumableRole,
    /// Any role of X's account (e.g. its trust can be rewritten so X may assume it).
    Role,
    /// A role of X's account whose trust policy allows this service principal to assume it,
    /// e.g. `lambda.amazonaws.com`. For `cognito-identity.amazonaws.com` the trust names it
    /// as a *Federated* principal (with `sts:AssumeRoleWithWebIdentity`), not as a Service.
    ServiceRole(&'static str),
    /// A group of X's account, X being a user. For self-escalation paths (a policy put on or
    /// attached to the group) the candidates are the groups X belongs to or can add itself
    /// to; for iam-013 (`iam:AddUserToGroup`) any group, the need being asked on it.
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
    /// The target role passed to *this* service (`iam:PassedToService`), when it is not the
    /// principal the role trusts: EMR is handed an instance-profile role that trusts
    /// `ec2.amazonaws.com`, so the pass goes to `elasticmapreduce.amazonaws.com`.
    PassTargetTo(&'static str),
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
    /// The target holds a policy with a Deny statement; removing it (delete the inline
    /// policy, detach the managed one) leaves it admin.
    DenyRemoval,
    /// The user has no login profile yet (CreateLoginProfile) / has one (UpdateLoginProfile).
    /// The snapshot's credential report tells; without it the edge is kept.
    NoLoginProfile,
    HasLoginProfile,
    /// The target role is in an instance profile: EC2 (and what runs on it: SSM, CodeDeploy,
    /// EMR, Image Builder) can only run as such a role. The snapshot lists each role's
    /// instance profiles.
    InstanceProfile,
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

// Service principals, as trust policies name them.
const APPRUNNER_TASKS: &str = "tasks.apprunner.amazonaws.com";
const BEDROCK_AGENTCORE: &str = "bedrock-agentcore.amazonaws.com";
const BRAKET: &str = "braket.amazonaws.com";
const CLOUDFORMATION: &str = "cloudformation.amazonaws.com";
const CODEBUILD: &str = "codebuild.amazonaws.com";
const COGNITO_IDENTITY: &str = "cognito-identity.amazonaws.com";
const DATAPIPELINE: &str = "datapipeline.amazonaws.com";
const EC2: &str = "ec2.amazonaws.com";
const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";
const EMR_SERVERLESS: &str = "emr-serverless.amazonaws.com";
const GAMELIFT: &str = "gamelift.amazonaws.com";
const GLUE: &str = "glue.amazonaws.com";
const KINESISANALYTICS: &str = "kinesisanalytics.amazonaws.com";
const LAMBDA: &str = "lambda.amazonaws.com";
const OMICS: &str = "omics.amazonaws.com";
const SAGEMAKER: &str = "sagemaker.amazonaws.com";
const SSM: &str = "ssm.amazonaws.com";
// Services a role is passed to without being the principal it trusts.
const PASSED_TO_BATCH: &str = "batch.amazonaws.com";
const PASSED_TO_EMR: &str = "elasticmapreduce.amazonaws.com";

/// `iam:PassRole` of the target role to the service its trust names.
const PASS: Need = Need { action: "iam:PassRole", on: On::PassTarget };

/// The action on any resource of its service in X's account.
const fn any(action: &'static str) -> Need {
    Need { action, on: On::Any }
}

/// The action on the target principal itself.
const fn on_target(action: &'static str) -> Need {
    Need { action, on: On::Target }
}

/// The action on the customer managed policies attached to the target.
const fn on_policy(action: &'static str) -> Need {
    Need { action, on: On::TargetPolicy }
}

/// `iam:PassRole` of the target role to `service`.
const fn pass_to(service: &'static str) -> Need {
    Need { action: "iam:PassRole", on: On::PassTargetTo(service) }
}

use Category::{ExistingPassRole, NewPassRole, PrincipalAccess, SelfEscalation};
use Target::{AssumableRole, Group, Role, SelfPrincipal, SelfRole, SelfUser, ServiceRole, User};

/// Every path the graph detects.
pub const PATHS: &[CataloguePath] = &[
    // ---- App Runner: the service's instance role is what the container's code runs as.
    CataloguePath {
        id: "apprunner-001",
        name: "iam:PassRole + apprunner:CreateService",
        category: NewPassRole,
        target: ServiceRole(APPRUNNER_TASKS),
        needs: &[PASS, any("apprunner:CreateService")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "apprunner-002",
        name: "apprunner:UpdateService",
        category: ExistingPassRole,
        target: ServiceRole(APPRUNNER_TASKS),
        needs: &[any("apprunner:UpdateService")],
        requirement: Requirement::None,
    },
    // ---- Batch: a job's role is an ECS task role (the container gets it from the ECS
    // credential endpoint), so it trusts ecs-tasks; the pass itself goes to Batch.
    CataloguePath {
        id: "batch-001",
        name: "iam:PassRole + batch:RegisterJobDefinition + batch:SubmitJob",
        category: NewPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[pass_to(PASSED_TO_BATCH), any("batch:RegisterJobDefinition"), any("batch:SubmitJob")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "batch-002",
        name: "batch:SubmitJob",
        category: ExistingPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[any("batch:SubmitJob")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "batch-003",
        name: "iam:PassRole + batch:CreateComputeEnvironment + batch:CreateJobQueue + batch:RegisterJobDefinition + batch:SubmitJob",
        category: NewPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[
            pass_to(PASSED_TO_BATCH),
            any("batch:CreateComputeEnvironment"),
            any("batch:CreateJobQueue"),
            any("batch:RegisterJobDefinition"),
            any("batch:SubmitJob"),
        ],
        requirement: Requirement::None,
    },
    // ---- Bedrock AgentCore: code interpreters, runtimes, harnesses and browsers run in a
    // microVM whose metadata service hands out the execution role's credentials.
    CataloguePath {
        id: "bedrock-001",
        name: "iam:PassRole + bedrock-agentcore:CreateCodeInterpreter + bedrock-agentcore:StartCodeInterpreterSession + bedrock-agentcore:InvokeCodeInterpreter",
        category: NewPassRole,
        target: ServiceRole(BEDROCK_AGENTCORE),
        needs: &[
            PASS,
            any("bedrock-agentcore:CreateCodeInterpreter"),
            any("bedrock-agentcore:StartCodeInterpreterSession"),
            any("bedrock-agentcore:InvokeCodeInterpreter"),
        ],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "bedrock-002",
        name: "bedrock-agentcore:StartCodeInterpreterSession + bedrock-agentcore:InvokeCodeInterpreter",
        category: ExistingPassRole,
        target: ServiceRole(BEDROCK_AGENTCORE),
        needs: &[
            any("bedrock-agentcore:StartCodeInterpreterSession"),
            any("bedrock-agentcore:InvokeCodeInterpreter"),
        ],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "bedrock-003",
        name: "iam:PassRole + bedrock-agentcore:CreateAgentRuntime + bedrock-agentcore:CreateAgentRuntimeEndpoint + bedrock-agentcore:CreateWorkloadIdentity + bedrock-agentcore:InvokeAgentRuntimeCommand",
        category: NewPassRole,
        target: ServiceRole(BEDROCK_AGENTCORE),
        needs: &[
            PASS,
            any("bedrock-agentcore:CreateAgentRuntime"),
            any("bedrock-agentcore:CreateAgentRuntimeEndpoint"),
            any("bedrock-agentcore:CreateWorkloadIdentity"),
            any("bedrock-agentcore:InvokeAgentRuntimeCommand"),
        ],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "bedrock-004",
        name: "bedrock-agentcore:InvokeAgentRuntimeCommand",
        category: ExistingPassRole,
        target: ServiceRole(BEDROCK_AGENTCORE),
        needs: &[any("bedrock-agentcore:InvokeAgentRuntimeCommand")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "bedrock-005",
        name: "iam:PassRole + bedrock-agentcore:CreateHarness + bedrock-agentcore:CreateAgentRuntime + bedrock-agentcore:CreateAgentRuntimeEndpoint + bedrock-agentcore:CreateWorkloadIdentity + bedrock-agentcore:GetAgentRuntime + bedrock-agentcore:GetHarness + bedrock-agentcore:InvokeAgentRuntimeCommand",
        category: NewPassRole,
        target: ServiceRole(BEDROCK_AGENTCORE),
        needs: &[
            PASS,
            any("bedrock-agentcore:CreateHarness"),
            any("bedrock-agentcore:CreateAgentRuntime"),
            any("bedrock-agentcore:CreateAgentRuntimeEndpoint"),
            any("bedrock-agentcore:CreateWorkloadIdentity"),
            any("bedrock-agentcore:GetAgentRuntime"),
            any("bedrock-agentcore:GetHarness"),
            any("bedrock-agentcore:InvokeAgentRuntimeCommand"),
        ],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "bedrock-006",
        name: "iam:PassRole + bedrock-agentcore:CreateBrowser + bedrock-agentcore:StartBrowserSession + bedrock-agentcore:ConnectBrowserAutomationStream",
        category: NewPassRole,
        target: ServiceRole(BEDROCK_AGENTCORE),
        needs: &[
            PASS,
            any("bedrock-agentcore:CreateBrowser"),
            any("bedrock-agentcore:StartBrowserSession"),
            any("bedrock-agentcore:ConnectBrowserAutomationStream"),
        ],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "bedrock-007",
        name: "bedrock-agentcore:StartBrowserSession + bedrock-agentcore:ConnectBrowserAutomationStream",
        category: ExistingPassRole,
        target: ServiceRole(BEDROCK_AGENTCORE),
        needs: &[
            any("bedrock-agentcore:StartBrowserSession"),
            any("bedrock-agentcore:ConnectBrowserAutomationStream"),
        ],
        requirement: Requirement::None,
    },
    // ---- Braket hybrid jobs run a script as the job's execution role.
    CataloguePath {
        id: "braket-001",
        name: "iam:PassRole + braket:CreateJob",
        category: NewPassRole,
        target: ServiceRole(BRAKET),
        needs: &[PASS, any("braket:CreateJob")],
        requirement: Requirement::None,
    },
    // ---- CloudFormation: a stack (set) creates whatever its template says, as its role.
    CataloguePath {
        id: "cloudformation-001",
        name: "iam:PassRole + cloudformation:CreateStack",
        category: NewPassRole,
        target: ServiceRole(CLOUDFORMATION),
        needs: &[PASS, any("cloudformation:CreateStack")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "cloudformation-002",
        name: "cloudformation:UpdateStack",
        category: ExistingPassRole,
        target: ServiceRole(CLOUDFORMATION),
        needs: &[any("cloudformation:UpdateStack")],
        requirement: Requirement::None,
    },
    // The role passed is the StackSet *administration* role (it trusts CloudFormation); the
    // template runs as the execution roles it may assume, which the graph reaches from it
    // through their trust (sts-001). X → administration role over-approximates by its own
    // permissions (usually only sts:AssumeRole).
    CataloguePath {
        id: "cloudformation-003",
        name: "iam:PassRole + cloudformation:CreateStackSet + cloudformation:CreateStackInstances",
        category: NewPassRole,
        target: ServiceRole(CLOUDFORMATION),
        needs: &[PASS, any("cloudformation:CreateStackSet"), any("cloudformation:CreateStackInstances")],
        requirement: Requirement::None,
    },
    // An existing StackSet (potential), but the update passes the administration role again.
    CataloguePath {
        id: "cloudformation-004",
        name: "iam:PassRole + cloudformation:UpdateStackSet",
        category: NewPassRole,
        target: ServiceRole(CLOUDFORMATION),
        needs: &[PASS, any("cloudformation:UpdateStackSet")],
        requirement: Requirement::None,
    },
    // The catalogue files this under new-passrole, but nothing is passed: a change set on an
    // existing stack runs as the role that stack already has, so it is existing-passrole here.
    CataloguePath {
        id: "cloudformation-005",
        name: "cloudformation:CreateChangeSet + cloudformation:ExecuteChangeSet",
        category: ExistingPassRole,
        target: ServiceRole(CLOUDFORMATION),
        needs: &[any("cloudformation:CreateChangeSet"), any("cloudformation:ExecuteChangeSet")],
        requirement: Requirement::None,
    },
    // ---- CodeBuild: a build (buildspec overridable) runs as the project's service role.
    CataloguePath {
        id: "codebuild-001",
        name: "iam:PassRole + codebuild:CreateProject + codebuild:StartBuild",
        category: NewPassRole,
        target: ServiceRole(CODEBUILD),
        needs: &[PASS, any("codebuild:CreateProject"), any("codebuild:StartBuild")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "codebuild-002",
        name: "codebuild:StartBuild",
        category: ExistingPassRole,
        target: ServiceRole(CODEBUILD),
        needs: &[any("codebuild:StartBuild")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "codebuild-003",
        name: "codebuild:StartBuildBatch",
        category: ExistingPassRole,
        target: ServiceRole(CODEBUILD),
        needs: &[any("codebuild:StartBuildBatch")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "codebuild-004",
        name: "iam:PassRole + codebuild:CreateProject + codebuild:StartBuildBatch",
        category: NewPassRole,
        target: ServiceRole(CODEBUILD),
        needs: &[PASS, any("codebuild:CreateProject"), any("codebuild:StartBuildBatch")],
        requirement: Requirement::None,
    },
    // ---- CodeDeploy: lifecycle hooks run on the deployment group's EC2 instances, as their
    // instance profile's role.
    CataloguePath {
        id: "codedeploy-001",
        name: "codedeploy:CreateDeployment",
        category: ExistingPassRole,
        target: ServiceRole(EC2),
        needs: &[
            any("codedeploy:CreateDeployment"),
            any("codedeploy:RegisterApplicationRevision"),
            any("codedeploy:GetDeploymentConfig"),
        ],
        requirement: Requirement::InstanceProfile,
    },
    // ---- Cognito identity pools: binding a role to the unauthenticated slot lets anyone
    // obtain its credentials. Needs an existing pool with unauthenticated access: potential.
    CataloguePath {
        id: "cognitoidentity-001",
        name: "iam:PassRole + cognito-identity:SetIdentityPoolRoles",
        category: NewPassRole,
        target: ServiceRole(COGNITO_IDENTITY),
        needs: &[PASS, any("cognito-identity:SetIdentityPoolRoles")],
        requirement: Requirement::None,
    },
    // ---- Data Pipeline: the catalogue accepts a role trusting datapipeline or EMR; we
    // look for the first (the pipeline role), which is how such roles are set up.
    CataloguePath {
        id: "datapipeline-001",
        name: "iam:PassRole + datapipeline:CreatePipeline + datapipeline:PutPipelineDefinition + datapipeline:ActivatePipeline",
        category: NewPassRole,
        target: ServiceRole(DATAPIPELINE),
        needs: &[
            PASS,
            any("datapipeline:CreatePipeline"),
            any("datapipeline:PutPipelineDefinition"),
            any("datapipeline:ActivatePipeline"),
        ],
        requirement: Requirement::None,
    },
    // ---- EC2: user data runs as the instance profile's role.
    CataloguePath {
        id: "ec2-001",
        name: "iam:PassRole + ec2:RunInstances",
        category: NewPassRole,
        target: ServiceRole(EC2),
        needs: &[PASS, any("ec2:RunInstances")],
        requirement: Requirement::InstanceProfile,
    },
    CataloguePath {
        id: "ec2-002",
        name: "ec2:ModifyInstanceAttribute + ec2:StopInstances + ec2:StartInstances",
        category: ExistingPassRole,
        target: ServiceRole(EC2),
        needs: &[
            any("ec2:ModifyInstanceAttribute"),
            any("ec2:StopInstances"),
            any("ec2:StartInstances"),
        ],
        requirement: Requirement::InstanceProfile,
    },
    CataloguePath {
        id: "ec2-003",
        name: "iam:PassRole + ec2:RequestSpotInstances",
        category: NewPassRole,
        target: ServiceRole(EC2),
        needs: &[PASS, any("ec2:RequestSpotInstances")],
        requirement: Requirement::InstanceProfile,
    },
    // ec2-004 and ec2-005 are the same technique, listed twice by the catalogue.
    CataloguePath {
        id: "ec2-004",
        name: "ec2:CreateLaunchTemplateVersion + ec2:ModifyLaunchTemplate",
        category: ExistingPassRole,
        target: ServiceRole(EC2),
        needs: &[any("ec2:CreateLaunchTemplateVersion"), any("ec2:ModifyLaunchTemplate")],
        requirement: Requirement::InstanceProfile,
    },
    CataloguePath {
        id: "ec2-005",
        name: "ec2:CreateLaunchTemplateVersion + ec2:ModifyLaunchTemplate",
        category: ExistingPassRole,
        target: ServiceRole(EC2),
        needs: &[any("ec2:CreateLaunchTemplateVersion"), any("ec2:ModifyLaunchTemplate")],
        requirement: Requirement::InstanceProfile,
    },
    // ---- ECS: a task runs as its task role.
    CataloguePath {
        id: "ecs-001",
        name: "iam:PassRole + ecs:CreateCluster + ecs:RegisterTaskDefinition + ecs:CreateService",
        category: NewPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[
            PASS,
            any("ecs:CreateCluster"),
            any("ecs:RegisterTaskDefinition"),
            any("ecs:CreateService"),
        ],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "ecs-002",
        name: "iam:PassRole + ecs:CreateCluster + ecs:RegisterTaskDefinition + ecs:RunTask",
        category: NewPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[PASS, any("ecs:CreateCluster"), any("ecs:RegisterTaskDefinition"), any("ecs:RunTask")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "ecs-003",
        name: "iam:PassRole + ecs:RegisterTaskDefinition + ecs:CreateService",
        category: NewPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[PASS, any("ecs:RegisterTaskDefinition"), any("ecs:CreateService")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "ecs-004",
        name: "iam:PassRole + ecs:RegisterTaskDefinition + ecs:RunTask",
        category: NewPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[PASS, any("ecs:RegisterTaskDefinition"), any("ecs:RunTask")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "ecs-005",
        name: "iam:PassRole + ecs:RegisterTaskDefinition + ecs:StartTask",
        category: NewPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[PASS, any("ecs:RegisterTaskDefinition"), any("ecs:StartTask")],
        requirement: Requirement::None,
    },
    // ECS Exec must be enabled on the service: potential.
    CataloguePath {
        id: "ecs-006",
        name: "ecs:ExecuteCommand + ecs:DescribeTasks",
        category: ExistingPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[any("ecs:ExecuteCommand"), any("ecs:DescribeTasks")],
        requirement: Requirement::None,
    },
    // X is in practice an EC2 instance role an attacker runs code as; the instance registers
    // itself into a cluster, then runs an existing task definition with the role overridden.
    CataloguePath {
        id: "ecs-007",
        name: "iam:PassRole + ecs:StartTask + ecs:RegisterContainerInstance",
        category: NewPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[PASS, any("ecs:RegisterContainerInstance"), any("ecs:StartTask")],
        requirement: Requirement::None,
    },
    // ecs-008/009 override the task role of an existing task definition at run time.
    CataloguePath {
        id: "ecs-008",
        name: "iam:PassRole + ecs:RunTask",
        category: NewPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[PASS, any("ecs:RunTask")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "ecs-009",
        name: "iam:PassRole + ecs:StartTask",
        category: NewPassRole,
        target: ServiceRole(ECS_TASKS),
        needs: &[PASS, any("ecs:StartTask")],
        requirement: Requirement::None,
    },
    // ---- EMR: steps run on the cluster's EC2 nodes as the instance profile's role (which
    // trusts EC2), passed to EMR. The EMR service role the cluster also needs is not asked.
    CataloguePath {
        id: "emr-001",
        name: "iam:PassRole + elasticmapreduce:RunJobFlow",
        category: NewPassRole,
        target: ServiceRole(EC2),
        needs: &[pass_to(PASSED_TO_EMR), any("elasticmapreduce:RunJobFlow")],
        requirement: Requirement::InstanceProfile,
    },
    CataloguePath {
        id: "emrserverless-001",
        name: "iam:PassRole + emr-serverless:CreateApplication + emr-serverless:StartJobRun",
        category: NewPassRole,
        target: ServiceRole(EMR_SERVERLESS),
        needs: &[PASS, any("emr-serverless:CreateApplication"), any("emr-serverless:StartJobRun")],
        requirement: Requirement::None,
    },
    // ---- GameLift: the fleet's instance role. The catalogue's prerequisite says it trusts
    // ec2.amazonaws.com; GameLift's own set-up has such roles trust gamelift.amazonaws.com,
    // and PassRole goes to GameLift, so that is what we look for.
    CataloguePath {
        id: "gamelift-001",
        name: "iam:PassRole + gamelift:CreateBuild + gamelift:CreateFleet",
        category: NewPassRole,
        target: ServiceRole(GAMELIFT),
        needs: &[
            PASS,
            any("gamelift:CreateBuild"),
            any("gamelift:CreateFleet"),
            any("gamelift:RequestUploadCredentials"),
        ],
        requirement: Requirement::None,
    },
    // ---- Glue: dev endpoints, jobs and interactive sessions run as the role given them.
    CataloguePath {
        id: "glue-001",
        name: "iam:PassRole + glue:CreateDevEndpoint",
        category: NewPassRole,
        target: ServiceRole(GLUE),
        needs: &[PASS, any("glue:CreateDevEndpoint")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "glue-003",
        name: "iam:PassRole + glue:CreateJob + glue:StartJobRun",
        category: NewPassRole,
        target: ServiceRole(GLUE),
        needs: &[PASS, any("glue:CreateJob"), any("glue:StartJobRun")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "glue-004",
        name: "iam:PassRole + glue:CreateJob + glue:CreateTrigger",
        category: NewPassRole,
        target: ServiceRole(GLUE),
        needs: &[PASS, any("glue:CreateJob"), any("glue:CreateTrigger")],
        requirement: Requirement::None,
    },
    // glue-005/006 change the role of an existing job (potential: a job must exist).
    CataloguePath {
        id: "glue-005",
        name: "iam:PassRole + glue:UpdateJob + glue:StartJobRun",
        category: NewPassRole,
        target: ServiceRole(GLUE),
        needs: &[PASS, any("glue:UpdateJob"), any("glue:StartJobRun")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "glue-006",
        name: "iam:PassRole + glue:UpdateJob + glue:CreateTrigger",
        category: NewPassRole,
        target: ServiceRole(GLUE),
        needs: &[PASS, any("glue:UpdateJob"), any("glue:CreateTrigger")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "glue-007",
        name: "iam:PassRole + glue:CreateSession + glue:RunStatement",
        category: NewPassRole,
        target: ServiceRole(GLUE),
        needs: &[PASS, any("glue:CreateSession"), any("glue:RunStatement")],
        requirement: Requirement::None,
    },
    // ---- IAM.
    CataloguePath {
        id: "iam-001",
        name: "iam:CreatePolicyVersion",
        category: SelfEscalation,
        target: SelfPrincipal,
        needs: &[on_policy("iam:CreatePolicyVersion")],
        requirement: Requirement::None,
    },
    // The two-keys limit is not checked: the edge is kept (iam-003 covers a full user).
    CataloguePath {
        id: "iam-002",
        name: "iam:CreateAccessKey",
        category: PrincipalAccess,
        target: User,
        needs: &[on_target("iam:CreateAccessKey")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "iam-003",
        name: "iam:CreateAccessKey + iam:DeleteAccessKey",
        category: PrincipalAccess,
        target: User,
        needs: &[on_target("iam:CreateAccessKey"), on_target("iam:DeleteAccessKey")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "iam-004",
        name: "iam:CreateLoginProfile",
        category: PrincipalAccess,
        target: User,
        needs: &[on_target("iam:CreateLoginProfile")],
        requirement: Requirement::NoLoginProfile,
    },
    CataloguePath {
        id: "iam-005",
        name: "iam:PutRolePolicy",
        category: SelfEscalation,
        target: SelfRole,
        needs: &[on_target("iam:PutRolePolicy")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "iam-006",
        name: "iam:UpdateLoginProfile",
        category: PrincipalAccess,
        target: User,
        needs: &[on_target("iam:UpdateLoginProfile")],
        requirement: Requirement::HasLoginProfile,
    },
    CataloguePath {
        id: "iam-007",
        name: "iam:PutUserPolicy",
        category: SelfEscalation,
        target: SelfUser,
        needs: &[on_target("iam:PutUserPolicy")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "iam-008",
        name: "iam:AttachUserPolicy",
        category: SelfEscalation,
        target: SelfUser,
        needs: &[on_target("iam:AttachUserPolicy")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "iam-009",
        name: "iam:AttachRolePolicy",
        category: SelfEscalation,
        target: SelfRole,
        needs: &[on_target("iam:AttachRolePolicy")],
        requirement: Requirement::None,
    },
    // A group X is in (or can join): see `Target::Group`.
    CataloguePath {
        id: "iam-010",
        name: "iam:AttachGroupPolicy",
        category: SelfEscalation,
        target: Group,
        needs: &[on_target("iam:AttachGroupPolicy")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "iam-011",
        name: "iam:PutGroupPolicy",
        category: SelfEscalation,
        target: Group,
        needs: &[on_target("iam:PutGroupPolicy")],
        requirement: Requirement::None,
    },
    // Rewriting the trust to name X's own ARN lets X assume the role even without an
    // sts:AssumeRole grant of its own, so none is asked.
    CataloguePath {
        id: "iam-012",
        name: "iam:UpdateAssumeRolePolicy",
        category: PrincipalAccess,
        target: Role,
        needs: &[on_target("iam:UpdateAssumeRolePolicy")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "iam-013",
        name: "iam:AddUserToGroup",
        category: SelfEscalation,
        target: Group,
        needs: &[on_target("iam:AddUserToGroup")],
        requirement: Requirement::None,
    },
    // iam-014/016/017: IAM writes only reach roles of X's own account, hence `Role` plus the
    // trust requirement rather than `AssumableRole` (which spans the organization).
    CataloguePath {
        id: "iam-014",
        name: "iam:AttachRolePolicy + sts:AssumeRole",
        category: PrincipalAccess,
        target: Role,
        needs: &[on_target("iam:AttachRolePolicy"), on_target("sts:AssumeRole")],
        requirement: Requirement::TrustAllowsX,
    },
    CataloguePath {
        id: "iam-015",
        name: "iam:AttachUserPolicy + iam:CreateAccessKey",
        category: PrincipalAccess,
        target: User,
        needs: &[on_target("iam:AttachUserPolicy"), on_target("iam:CreateAccessKey")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "iam-016",
        name: "iam:CreatePolicyVersion + sts:AssumeRole",
        category: PrincipalAccess,
        target: Role,
        needs: &[on_policy("iam:CreatePolicyVersion"), on_target("sts:AssumeRole")],
        requirement: Requirement::TrustAllowsX,
    },
    CataloguePath {
        id: "iam-017",
        name: "iam:PutRolePolicy + sts:AssumeRole",
        category: PrincipalAccess,
        target: Role,
        needs: &[on_target("iam:PutRolePolicy"), on_target("sts:AssumeRole")],
        requirement: Requirement::TrustAllowsX,
    },
    CataloguePath {
        id: "iam-018",
        name: "iam:PutUserPolicy + iam:CreateAccessKey",
        category: PrincipalAccess,
        target: User,
        needs: &[on_target("iam:PutUserPolicy"), on_target("iam:CreateAccessKey")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "iam-019",
        name: "iam:AttachRolePolicy + iam:UpdateAssumeRolePolicy",
        category: PrincipalAccess,
        target: Role,
        needs: &[on_target("iam:AttachRolePolicy"), on_target("iam:UpdateAssumeRolePolicy")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "iam-020",
        name: "iam:CreatePolicyVersion + iam:UpdateAssumeRolePolicy",
        category: PrincipalAccess,
        target: Role,
        needs: &[on_policy("iam:CreatePolicyVersion"), on_target("iam:UpdateAssumeRolePolicy")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "iam-021",
        name: "iam:PutRolePolicy + iam:UpdateAssumeRolePolicy",
        category: PrincipalAccess,
        target: Role,
        needs: &[on_target("iam:PutRolePolicy"), on_target("iam:UpdateAssumeRolePolicy")],
        requirement: Requirement::None,
    },
    // ---- Image Builder: components run on a build instance with the infrastructure
    // configuration's instance profile (the catalogue passes it to ec2.amazonaws.com).
    CataloguePath {
        id: "imagebuilder-001",
        name: "iam:PassRole + imagebuilder:CreateComponent + imagebuilder:CreateImageRecipe + imagebuilder:CreateInfrastructureConfiguration + imagebuilder:CreateImage",
        category: NewPassRole,
        target: ServiceRole(EC2),
        needs: &[
            PASS,
            any("imagebuilder:CreateComponent"),
            any("imagebuilder:CreateImageRecipe"),
            any("imagebuilder:CreateInfrastructureConfiguration"),
            any("imagebuilder:CreateImage"),
        ],
        requirement: Requirement::InstanceProfile,
    },
    // ---- Managed Apache Flink (the IAM prefix stays kinesisanalytics for the v2 API).
    CataloguePath {
        id: "kinesisanalytics-001",
        name: "iam:PassRole + kinesisanalytics:CreateApplication + kinesisanalytics:StartApplication",
        category: NewPassRole,
        target: ServiceRole(KINESISANALYTICS),
        needs: &[
            PASS,
            any("kinesisanalytics:CreateApplication"),
            any("kinesisanalytics:StartApplication"),
        ],
        requirement: Requirement::None,
    },
    // ---- Lambda: the function runs as its execution role.
    CataloguePath {
        id: "lambda-001",
        name: "iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction",
        category: NewPassRole,
        target: ServiceRole(LAMBDA),
        needs: &[PASS, any("lambda:CreateFunction"), any("lambda:InvokeFunction")],
        requirement: Requirement::None,
    },
    // Needs an event source (stream or queue) to map: not in the snapshot, kept as potential.
    CataloguePath {
        id: "lambda-002",
        name: "iam:PassRole + lambda:CreateFunction + lambda:CreateEventSourceMapping",
        category: NewPassRole,
        target: ServiceRole(LAMBDA),
        needs: &[PASS, any("lambda:CreateFunction"), any("lambda:CreateEventSourceMapping")],
        requirement: Requirement::None,
    },
    // Relies on the function being invoked by someone or something else.
    CataloguePath {
        id: "lambda-003",
        name: "lambda:UpdateFunctionCode",
        category: ExistingPassRole,
        target: ServiceRole(LAMBDA),
        needs: &[any("lambda:UpdateFunctionCode")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "lambda-004",
        name: "lambda:UpdateFunctionCode + lambda:InvokeFunction",
        category: ExistingPassRole,
        target: ServiceRole(LAMBDA),
        needs: &[any("lambda:UpdateFunctionCode"), any("lambda:InvokeFunction")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "lambda-005",
        name: "lambda:UpdateFunctionCode + lambda:AddPermission",
        category: ExistingPassRole,
        target: ServiceRole(LAMBDA),
        needs: &[any("lambda:UpdateFunctionCode"), any("lambda:AddPermission")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "lambda-006",
        name: "iam:PassRole + lambda:CreateFunction + lambda:AddPermission",
        category: NewPassRole,
        target: ServiceRole(LAMBDA),
        needs: &[PASS, any("lambda:CreateFunction"), any("lambda:AddPermission")],
        requirement: Requirement::None,
    },
    // ---- HealthOmics: the run's role writes its credentials to S3, which X then reads
    // (asked on any bucket of X's account; the catalogue's bucket is the attacker's).
    CataloguePath {
        id: "omics-001",
        name: "iam:PassRole + omics:CreateWorkflow + omics:StartRun",
        category: NewPassRole,
        target: ServiceRole(OMICS),
        needs: &[PASS, any("omics:CreateWorkflow"), any("omics:StartRun"), any("s3:GetObject")],
        requirement: Requirement::None,
    },
    // ---- SageMaker: notebooks and training jobs run as their execution role.
    CataloguePath {
        id: "sagemaker-001",
        name: "iam:PassRole + sagemaker:CreateNotebookInstance",
        category: NewPassRole,
        target: ServiceRole(SAGEMAKER),
        needs: &[PASS, any("sagemaker:CreateNotebookInstance")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "sagemaker-002",
        name: "iam:PassRole + sagemaker:CreateTrainingJob",
        category: NewPassRole,
        target: ServiceRole(SAGEMAKER),
        needs: &[PASS, any("sagemaker:CreateTrainingJob")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "sagemaker-004",
        name: "sagemaker:CreatePresignedNotebookInstanceUrl",
        category: ExistingPassRole,
        target: ServiceRole(SAGEMAKER),
        needs: &[any("sagemaker:CreatePresignedNotebookInstanceUrl")],
        requirement: Requirement::None,
    },
    CataloguePath {
        id: "sagemaker-005",
        name: "sagemaker:CreateNotebookInstanceLifecycleConfig + sagemaker:StopNotebookInstance + sagemaker:UpdateNotebookInstance + sagemaker:StartNotebookInstance",
        category: ExistingPassRole,
        target: ServiceRole(SAGEMAKER),
        needs: &[
            any("sagemaker:CreateNotebookInstanceLifecycleConfig"),
            any("sagemaker:StopNotebookInstance"),
            any("sagemaker:UpdateNotebookInstance"),
            any("sagemaker:StartNotebookInstance"),
        ],
        requirement: Requirement::None,
    },
    // ---- Systems Manager: sessions and commands run on managed EC2 instances, as their
    // instance profile's role; automations run as the role passed to them.
    CataloguePath {
        id: "ssm-001",
        name: "ssm:StartSession",
        category: ExistingPassRole,
        target: ServiceRole(EC2),
        needs: &[any("ssm:StartSession")],
        requirement: Requirement::InstanceProfile,
    },
    CataloguePath {
        id: "ssm-002",
        name: "ssm:SendCommand",
        category: ExistingPassRole,
        target: ServiceRole(EC2),
        needs: &[any("ssm:SendCommand")],
        requirement: Requirement::InstanceProfile,
    },
    CataloguePath {
        id: "ssm-003",
        name: "iam:PassRole + ssm:CreateDocument + ssm:StartAutomationExecution",
        category: NewPassRole,
        target: ServiceRole(SSM),
        needs: &[PASS, any("ssm:CreateDocument"), any("ssm:StartAutomationExecution")],
        requirement: Requirement::None,
    },
    // ---- STS.
    CataloguePath {
        id: "sts-001",
        name: "sts:AssumeRole",
        category: PrincipalAccess,
        target: AssumableRole,
        needs: &[on_target("sts:AssumeRole")],
        requirement: Requirement::None,
    },
];

/// Catalogue paths the graph does not detect, with the reason (id, reason). None at present:
/// every path of the catalogue is expressed in `PATHS`, those through resources the
/// snapshot does not list as potential edges.
pub const NOT_DETECTED: &[(&str, &str)] = &[];

/// Paths beyond pathfinding.cloud's catalogue, with ids of our own (`iam-auditor-NNN`):
/// a permission that gives power by taking something away, and an old policy version
/// brought back.
pub const EXTRA_PATHS: &[CataloguePath] = &[
    CataloguePath {
        id: "iam-auditor-001",
        name: "iam:SetDefaultPolicyVersion (an admin non-default version of its own policy)",
        category: SelfEscalation,
        target: SelfPrincipal,
        needs: &[on_policy("iam:SetDefaultPolicyVersion")],
        requirement: Requirement::AdminNonDefaultVersion,
    },
    CataloguePath {
        id: "iam-auditor-002",
        name: "iam:DeleteRolePermissionsBoundary (on itself)",
        category: SelfEscalation,
        target: SelfRole,
        needs: &[on_target("iam:DeleteRolePermissionsBoundary")],
        requirement: Requirement::TargetHasBoundary,
    },
    CataloguePath {
        id: "iam-auditor-003",
        name: "iam:DeleteUserPermissionsBoundary (on itself)",
        category: SelfEscalation,
        target: SelfUser,
        needs: &[on_target("iam:DeleteUserPermissionsBoundary")],
        requirement: Requirement::TargetHasBoundary,
    },
    CataloguePath {
        id: "iam-auditor-004",
        name: "iam:PutRolePermissionsBoundary (a permissive boundary on itself)",
        category: SelfEscalation,
        target: SelfRole,
        needs: &[on_target("iam:PutRolePermissionsBoundary")],
        requirement: Requirement::TargetHasBoundary,
    },
    CataloguePath {
        id: "iam-auditor-005",
        name: "iam:PutUserPermissionsBoundary (a permissive boundary on itself)",
        category: SelfEscalation,
        target: SelfUser,
        needs: &[on_target("iam:PutUserPermissionsBoundary")],
        requirement: Requirement::TargetHasBoundary,
    },
    CataloguePath {
        id: "iam-auditor-006",
        name: "iam:DeleteRolePolicy (its own inline Deny)",
        category: SelfEscalation,
        target: SelfRole,
        needs: &[on_target("iam:DeleteRolePolicy")],
        requirement: Requirement::DenyRemoval,
    },
    CataloguePath {
        id: "iam-auditor-007",
        name: "iam:DeleteUserPolicy (its own inline Deny)",
        category: SelfEscalation,
        target: SelfUser,
        needs: &[on_target("iam:DeleteUserPolicy")],
        requirement: Requirement::DenyRemoval,
    },
    CataloguePath {
        id: "iam-auditor-008",
        name: "iam:DetachRolePolicy (its own managed Deny)",
        category: SelfEscalation,
        target: SelfRole,
        needs: &[on_target("iam:DetachRolePolicy")],
        requirement: Requirement::DenyRemoval,
    },
    CataloguePath {
        id: "iam-auditor-009",
        name: "iam:DetachUserPolicy (its own managed Deny)",
        category: SelfEscalation,
        target: SelfUser,
        needs: &[on_target("iam:DetachUserPolicy")],
        requirement: Requirement::DenyRemoval,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::known_services::is_known_service;
    use std::collections::BTreeSet;

    /// Every path of pathfinding.cloud's current layout, `data/paths/aws/<service>/<id>.yaml`,
    /// as the search index stores it (newest stored versions, at commits ecc3d092, a89d537a,
    /// bbf30a06 and f61d744e of DataDog/pathfinding.cloud; 86 files). The older layout
    /// `data/paths/<service>/` (65 paths, snapshot 84dd65c9 of 2025-12-17) also had glue-002,
    /// sagemaker-003 and ec2instanceconnect-003, which the current layout no longer has.
    const CATALOGUE_IDS: &[&str] = &[
        "apprunner-001",
        "apprunner-002",
        "batch-001",
        "batch-002",
        "batch-003",
        "bedrock-001",
        "bedrock-002",
        "bedrock-003",
        "bedrock-004",
        "bedrock-005",
        "bedrock-006",
        "bedrock-007",
        "braket-001",
        "cloudformation-001",
        "cloudformation-002",
        "cloudformation-003",
        "cloudformation-004",
        "cloudformation-005",
        "codebuild-001",
        "codebuild-002",
        "codebuild-003",
        "codebuild-004",
        "codedeploy-001",
        "cognitoidentity-001",
        "datapipeline-001",
        "ec2-001",
        "ec2-002",
        "ec2-003",
        "ec2-004",
        "ec2-005",
        "ecs-001",
        "ecs-002",
        "ecs-003",
        "ecs-004",
        "ecs-005",
        "ecs-006",
        "ecs-007",
        "ecs-008",
        "ecs-009",
        "emr-001",
        "emrserverless-001",
        "gamelift-001",
        "glue-001",
        "glue-003",
        "glue-004",
        "glue-005",
        "glue-006",
        "glue-007",
        "iam-001",
        "iam-002",
        "iam-003",
        "iam-004",
        "iam-005",
        "iam-006",
        "iam-007",
        "iam-008",
        "iam-009",
        "iam-010",
        "iam-011",
        "iam-012",
        "iam-013",
        "iam-014",
        "iam-015",
        "iam-016",
        "iam-017",
        "iam-018",
        "iam-019",
        "iam-020",
        "iam-021",
        "imagebuilder-001",
        "kinesisanalytics-001",
        "lambda-001",
        "lambda-002",
        "lambda-003",
        "lambda-004",
        "lambda-005",
        "lambda-006",
        "omics-001",
        "sagemaker-001",
        "sagemaker-002",
        "sagemaker-004",
        "sagemaker-005",
        "ssm-001",
        "ssm-002",
        "ssm-003",
        "sts-001",
    ];

    fn all_ids() -> Vec<&'static str> {
        PATHS.iter().map(|p| p.id).chain(NOT_DETECTED.iter().map(|(id, _)| *id)).collect()
    }

    fn is_pass_role(need: &Need) -> bool {
        need.action == "iam:PassRole"
    }

    #[test]
    fn ids_are_unique_and_shaped_service_dash_three_digits() {
        let ids = all_ids();
        let unique: BTreeSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "an id is listed twice");
        for id in ids {
            let (service, number) = id.rsplit_once('-').unwrap_or_else(|| panic!("{id}: no dash"));
            assert!(
                !service.is_empty()
                    && service.starts_with(|c: char| c.is_ascii_lowercase())
                    && service.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                "{id}"
            );
            assert!(number.len() == 3 && number.chars().all(|c| c.is_ascii_digit()), "{id}");
        }
    }

    #[test]
    fn detected_and_undetected_together_are_the_catalogue() {
        let ours: BTreeSet<_> = all_ids().into_iter().collect();
        let theirs: BTreeSet<_> = CATALOGUE_IDS.iter().copied().collect();
        assert_eq!(theirs.len(), CATALOGUE_IDS.len(), "CATALOGUE_IDS repeats an id");
        assert_eq!(theirs.len(), 86);
        let missing: Vec<_> = theirs.difference(&ours).collect();
        let unknown: Vec<_> = ours.difference(&theirs).collect();
        assert!(
            missing.is_empty() && unknown.is_empty(),
            "missing {missing:?}, not in the catalogue {unknown:?}"
        );
        let both: Vec<_> = NOT_DETECTED.iter().filter(|(id, _)| PATHS.iter().any(|p| p.id == *id)).collect();
        assert!(both.is_empty(), "both detected and not: {both:?}");
        assert!(NOT_DETECTED.iter().all(|(_, reason)| !reason.trim().is_empty()));
    }

    #[test]
    fn every_path_needs_something_and_names_its_needs() {
        for path in PATHS {
            assert!(!path.needs.is_empty(), "{}", path.id);
            assert!(!path.name.is_empty(), "{}", path.id);
            let distinct: BTreeSet<_> =
                path.needs.iter().map(|n| (n.action, format!("{:?}", n.on))).collect();
            assert_eq!(distinct.len(), path.needs.len(), "{}: a need is repeated", path.id);
        }
    }

    #[test]
    fn actions_are_service_colon_action_of_known_services() {
        for path in PATHS.iter().chain(EXTRA_PATHS) {
            for need in path.needs {
                let (service, action) =
                    need.action.split_once(':').unwrap_or_else(|| panic!("{}: {}", path.id, need.action));
                assert!(is_known_service(service), "{}: unknown service {service}", path.id);
                assert!(
                    action.starts_with(|c: char| c.is_ascii_uppercase())
                        && action.chars().all(|c| c.is_ascii_alphanumeric()),
                    "{}: {}",
                    path.id,
                    need.action
                );
            }
        }
    }

    #[test]
    fn new_passrole_paths_pass_the_target_once_to_a_service_role() {
        for path in PATHS.iter().filter(|p| p.category == Category::NewPassRole) {
            assert!(matches!(path.target, Target::ServiceRole(_)), "{}", path.id);
            let passes: Vec<_> = path.needs.iter().filter(|n| is_pass_role(n)).collect();
            assert_eq!(passes.len(), 1, "{}", path.id);
            assert!(matches!(passes[0].on, On::PassTarget | On::PassTargetTo(_)), "{}", path.id);
        }
    }

    #[test]
    fn only_new_passrole_paths_pass_a_role_and_passes_are_of_the_target() {
        for path in PATHS {
            for need in path.needs {
                let passes_target = matches!(need.on, On::PassTarget | On::PassTargetTo(_));
                assert_eq!(passes_target, is_pass_role(need), "{}: {:?}", path.id, need);
                if passes_target {
                    assert_eq!(path.category, Category::NewPassRole, "{}", path.id);
                }
            }
        }
    }

    #[test]
    fn existing_passrole_paths_take_over_a_service_role_without_passing() {
        for path in PATHS.iter().filter(|p| p.category == Category::ExistingPassRole) {
            assert!(matches!(path.target, Target::ServiceRole(_)), "{}", path.id);
            assert!(path.needs.iter().all(|n| n.on == On::Any), "{}", path.id);
        }
    }

    #[test]
    fn service_principals_are_aws_service_principals() {
        for path in PATHS {
            let mut principals = vec![];
            if let Target::ServiceRole(p) = path.target {
                principals.push(p);
            }
            principals.extend(path.needs.iter().filter_map(|n| match n.on {
                On::PassTargetTo(p) => Some(p),
                _ => None,
            }));
            for p in principals {
                let service = p.strip_suffix(".amazonaws.com").unwrap_or_else(|| panic!("{}: {p}", path.id));
                assert!(
                    !service.is_empty()
                        && service
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'),
                    "{}: {p}",
                    path.id
                );
            }
        }
    }

    #[test]
    fn targets_requirements_and_resources_fit_together() {
        for path in PATHS.iter().chain(EXTRA_PATHS) {
            let id = path.id;
            match path.requirement {
                Requirement::NoLoginProfile | Requirement::HasLoginProfile => {
                    assert_eq!(path.target, Target::User, "{id}")
                }
                Requirement::TrustAllowsX => assert_eq!(path.target, Target::Role, "{id}"),
                Requirement::TargetHasBoundary | Requirement::DenyRemoval => {
                    assert!(matches!(path.target, Target::SelfUser | Target::SelfRole), "{id}")
                }
                Requirement::InstanceProfile => assert_eq!(path.target, Target::ServiceRole(EC2), "{id}"),
                Requirement::AdminNonDefaultVersion => {
                    assert!(path.needs.iter().any(|n| n.on == On::TargetPolicy), "{id}")
                }
                Requirement::None => {}
            }
            // Needs on the target's ARN or policies are only for IAM principals and groups.
            if path.needs.iter().any(|n| matches!(n.on, On::Target | On::TargetPolicy)) {
                assert!(!matches!(path.target, Target::ServiceRole(_)), "{id}");
            }
            // Self-escalation rewrites X's own permissions (or a group's X gets).
            let is_self = matches!(path.target, Target::SelfUser | Target::SelfRole | Target::SelfPrincipal);
            if is_self {
                assert_eq!(path.category, Category::SelfEscalation, "{id}");
            }
            if path.category == Category::SelfEscalation {
                assert!(is_self || path.target == Target::Group, "{id}");
            }
        }
    }

    #[test]
    fn paths_are_in_id_order() {
        let ids: Vec<_> = PATHS.iter().map(|p| p.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        assert_eq!(ids, sorted);
    }
}
