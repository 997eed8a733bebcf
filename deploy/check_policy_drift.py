#!/usr/bin/env python3
"""Check the CloudFormation templates against the policy the binary says it needs.

    check_policy_drift.py AUDIT_POLICY_JSON [--templates DIR]

AUDIT_POLICY_JSON is what `iam-auditor audit-policy --format json` prints:
{"member_role_policy": {...}, "member_role_trust_policy": {...}, "caller_policy": {...}}.
DIR (default: the cloudformation/ folder next to this script) holds audit-role.yaml and
scheduled-job.yaml. Checked:

1. The member audit role: the actions of the inline policy IamAuditorReadOnly in
   audit-role.yaml equal those of member_role_policy, exactly (IAM action names compare
   case-insensitively), every statement allowing on Resource "*".
2. The job's execution role in scheduled-job.yaml (the role the Lambda function runs as,
   which is also the ECS task role): every action of caller_policy is allowed, and no
   iam:, organizations:, sts:, access-analyzer:, sso: or identitystore: action beyond them is (a wildcard is an
   action beyond them). Statements under Fn::If count with both branches, so a
   conditional grant cannot hide. The sts:AssumeRole resources, resolved with the
   parameters' defaults, equal caller_policy's.

The templates are read with cfn-lint's decoder (cfnlint.decode), which understands the
short-form intrinsic tags (!Sub, !If, !Ref, ...). Exit 0: no drift; 1: drift (each
difference printed); 2: an input could not be read or lacks what is checked.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

AUDITED_SERVICES = ("iam", "organizations", "sts", "access-analyzer", "sso", "identitystore")
MEMBER_POLICY_NAME = "IamAuditorReadOnly"


class InputError(Exception):
    """An input that cannot be read or lacks what is checked (exit 2)."""


def load_template(path: Path) -> dict:
    try:
        from cfnlint.decode import decode
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise InputError(
            "cfn-lint is not installed in this Python (pip install 'cfn-lint==1.*'); "
            "scripts/lint-deploy.sh installs it into .venv"
        ) from e
    template, matches = decode(str(path))
    if matches or template is None:
        details = "; ".join(str(m) for m in matches) or "empty template"
        raise InputError(f"{path}: cannot be parsed: {details}")
    return template


def as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def statements(document) -> list[dict]:
    """The statements of a policy document, with both branches of every Fn::If and
    without AWS::NoValue."""
    found: list[dict] = []

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                _condition, when_true, when_false = node["Fn::If"]
                walk(when_true)
                walk(when_false)
            elif set(node) == {"Ref"} and node["Ref"] == "AWS::NoValue":
                return
            else:
                found.append(node)

    if isinstance(document, dict) and set(document) == {"Fn::If"}:
        _c, a, b = document["Fn::If"]
        return statements(a) + statements(b)
    walk(document.get("Statement") if isinstance(document, dict) else None)
    return found


def allowed_actions(stmts: list[dict]) -> dict[str, str]:
    """Allowed action names keyed by their lowercase form."""
    actions: dict[str, str] = {}
    for st in stmts:
        if st.get("Effect") != "Allow":
            continue
        if "NotAction" in st:
            actions["notaction"] = "NotAction (anything but " + ", ".join(as_list(st["NotAction"])) + ")"
        for action in as_list(st.get("Action")):
            if not isinstance(action, str):
                raise InputError(f"an Action that is not a plain string: {action!r}")
            actions[action.lower()] = action
    return actions


def service_of(action: str) -> str:
    return action.split(":", 1)[0].lower()


def resolve(value, parameters: dict, partition: str = "aws"):
    """Resolve Ref/Fn::Sub of parameters (their defaults) and pseudo parameters, enough for
    resource ARNs built from parameters. Anything else is returned as None."""
    pseudo = {"AWS::Partition": partition, "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}

    def ref(name):
        if name in pseudo:
            return pseudo[name]
        default = parameters.get(name, {}).get("Default")
        return None if default is None else str(default)

    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return ref(value["Ref"])
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        body = value["Fn::Sub"]
        variables = {}
        if isinstance(body, list):
            body, raw = body
            variables = {k: resolve(v, parameters, partition) for k, v in raw.items()}
        out = body
        for name in re.findall(r"\$\{([^}!]+)\}", body):
            replacement = variables.get(name) if name in variables else ref(name)
            if replacement is None:
                return None
            out = out.replace("${" + name + "}", replacement)
        return out
    return None


def find_member_policy(template: dict) -> list[dict]:
    for name, res in (template.get("Resources") or {}).items():
        if res.get("Type") != "AWS::IAM::Role":
            continue
        for policy in as_list(res.get("Properties", {}).get("Policies")):
            if isinstance(policy, dict) and policy.get("PolicyName") == MEMBER_POLICY_NAME:
                return statements(policy.get("PolicyDocument"))
    raise InputError(f"no AWS::IAM::Role with an inline policy named {MEMBER_POLICY_NAME}")


def execution_role(template: dict) -> tuple[str, dict]:
    """The role the job runs as: the Lambda function's Role and the task definition's
    TaskRoleArn (both must name the same role when both exist)."""
    resources = template.get("Resources") or {}
    names = set()
    for res in resources.values():
        props = res.get("Properties", {}) or {}
        for key in (("AWS::Lambda::Function", "Role"), ("AWS::ECS::TaskDefinition", "TaskRoleArn")):
            if res.get("Type") == key[0] and key[1] in props:
                target = props[key[1]]
                if not (isinstance(target, dict) and set(target) == {"Fn::GetAtt"}):
                    raise InputError(f"{key[0]}.{key[1]} is not a Fn::GetAtt of a role in the template")
                getatt = target["Fn::GetAtt"]
                names.add(getatt[0] if isinstance(getatt, list) else getatt.split(".")[0])
    if not names:
        raise InputError("no AWS::Lambda::Function Role or AWS::ECS::TaskDefinition TaskRoleArn found")
    if len(names) > 1:
        raise InputError("the Lambda role and the ECS task role differ: " + ", ".join(sorted(names)))
    name = names.pop()
    role = resources.get(name)
    if not role or role.get("Type") != "AWS::IAM::Role":
        raise InputError(f"{name} is not an AWS::IAM::Role of the template")
    return name, role


def check(audit_policy: dict, templates: Path) -> list[str]:
    problems: list[str] = []
    for key in ("member_role_policy", "caller_policy"):
        if not isinstance(audit_policy.get(key), dict):
            raise InputError(f"the audit-policy JSON has no {key} object")

    # 1. member role == IamAuditorReadOnly
    member_json = statements(audit_policy["member_role_policy"])
    member_tpl = find_member_policy(load_template(templates / "audit-role.yaml"))
    want = allowed_actions(member_json)
    have = allowed_actions(member_tpl)
    for k in sorted(set(want) - set(have)):
        problems.append(f"audit-role.yaml {MEMBER_POLICY_NAME}: missing {want[k]} (in member_role_policy)")
    for k in sorted(set(have) - set(want)):
        problems.append(f"audit-role.yaml {MEMBER_POLICY_NAME}: extra {have[k]} (not in member_role_policy)")
    for st in member_tpl:
        if as_list(st.get("Resource")) != ["*"]:
            problems.append(f"audit-role.yaml {MEMBER_POLICY_NAME}: statement {st.get('Sid', '?')} is not on Resource \"*\"")

    # 2. execution role covers caller_policy and has nothing more of the audited services
    job = load_template(templates / "scheduled-job.yaml")
    parameters = job.get("Parameters") or {}
    role_name, role = execution_role(job)
    props = role.get("Properties", {})
    if props.get("ManagedPolicyArns"):
        problems.append(f"scheduled-job.yaml {role_name}: has ManagedPolicyArns, whose actions cannot be checked here")
    role_stmts = [st for p in as_list(props.get("Policies")) for st in statements(p.get("PolicyDocument"))]
    caller_stmts = statements(audit_policy["caller_policy"])
    caller = allowed_actions(caller_stmts)
    granted = allowed_actions(role_stmts)
    for k in sorted(set(caller) - set(granted)):
        problems.append(f"scheduled-job.yaml {role_name}: missing {caller[k]} (in caller_policy)")
    for k in sorted(granted):
        wildcard = "*" in k or "?" in k
        if k == "notaction" or (wildcard and ":" not in k):
            problems.append(f"scheduled-job.yaml {role_name}: allows {granted[k]}, which covers every service")
        elif service_of(k) in AUDITED_SERVICES and k not in caller:
            kind = "wildcard" if wildcard else "extra"
            problems.append(f"scheduled-job.yaml {role_name}: {kind} {granted[k]} (not in caller_policy)")

    def assume_resources(stmts, resolve_with=None):
        out = set()
        for st in stmts:
            if st.get("Effect") == "Allow" and "sts:assumerole" in {a.lower() for a in as_list(st.get("Action"))}:
                for r in as_list(st.get("Resource")):
                    value = resolve(r, resolve_with) if resolve_with is not None else r
                    out.add(value if value is not None else f"<unresolved {r!r}>")
        return out

    want_arns = assume_resources(caller_stmts)
    have_arns = assume_resources(role_stmts, parameters)
    if want_arns != have_arns:
        problems.append(
            f"scheduled-job.yaml {role_name}: sts:AssumeRole resources {sorted(have_arns)} "
            f"(parameter defaults) differ from caller_policy's {sorted(want_arns)}"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("audit_policy_json", type=Path, help="output of `iam-auditor audit-policy --format json`")
    parser.add_argument(
        "--templates",
        type=Path,
        default=Path(__file__).resolve().parent / "cloudformation",
        help="folder with audit-role.yaml and scheduled-job.yaml (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        try:
            audit_policy = json.loads(args.audit_policy_json.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InputError(f"{args.audit_policy_json}: {e}") from e
        if not isinstance(audit_policy, dict):
            raise InputError(f"{args.audit_policy_json}: not a JSON object")
        problems = check(audit_policy, args.templates)
    except InputError as e:
        print(f"check_policy_drift: error: {e}", file=sys.stderr)
        return 2
    if problems:
        print(f"check_policy_drift: {len(problems)} difference(s) between the templates and {args.audit_policy_json}:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(f"check_policy_drift: templates match {args.audit_policy_json} (member role policy, job role)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
