"""Validates findings.ocsf.json (JSON Lines) against the official OCSF schema.

Usage: ocsf_validate.py FILE VERSION

The schema is OCSF's own: the export of version VERSION of the OCSF schema server, which the
PyPI package ocsf-json-schema ships verbatim (ocsf_json_schema/ocsf/<version>.json) and turns
into JSON Schema (draft 2020-12) for one class with the profiles an event declares. Each line
must be one JSON object and valid under that JSON Schema (jsonschema); besides, every `*_id`
enum attribute of the class that the event names (activity, status, severity, type) must carry
the caption the official class definition gives that id.

Exit status: 0 when every line is valid, 1 when one is not (the errors are printed), 2 when
the schema or the tools cannot be found (with the fix). It never skips.
"""

import json
import sys

FIX = (
    "install the pinned tools into the test venv: "
    ".venv/bin/pip install ocsf-json-schema==1.2.0 jsonschema==4.26.0 (scripts/test.sh does it)"
)


def fail_setup(message):
    print(f"ocsf_validate.py: {message}; {FIX}", file=sys.stderr)
    sys.exit(2)


def main():
    if len(sys.argv) != 3:
        print("usage: ocsf_validate.py FILE VERSION", file=sys.stderr)
        sys.exit(2)
    path, version = sys.argv[1], sys.argv[2]
    try:
        import jsonschema
        from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema
    except ImportError as e:
        fail_setup(f"cannot import the OCSF schema tools ({e})")
    try:
        raw = get_ocsf_schema(version=version)
    except Exception as e:  # the package names a missing version in many ways
        fail_setup(f"the official OCSF {version} schema is not in ocsf-json-schema ({e!r})")
    if raw.get("version") != version:
        fail_setup(f"the schema found is version {raw.get('version')!r}, not {version}")
    schemas = OcsfJsonSchemaEmbedded(raw)

    validators = {}
    errors = []
    events = 0
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.endswith("\n"):
                errors.append(f"line {number}: not ended by a new line")
            if not line.strip():
                errors.append(f"line {number}: empty")
                continue
            try:
                event = json.loads(line)
            except ValueError as e:
                errors.append(f"line {number}: not JSON ({e})")
                continue
            if not isinstance(event, dict):
                errors.append(f"line {number}: not a JSON object")
                continue
            events += 1
            metadata = event.get("metadata") or {}
            if metadata.get("version") != version:
                errors.append(f"line {number}: metadata.version is {metadata.get('version')!r}, not {version}")
            class_uid = event.get("class_uid")
            try:
                class_name = schemas.lookup_class_name_from_uid(class_uid=class_uid)
            except Exception:
                errors.append(f"line {number}: class_uid {class_uid!r} is no class of OCSF {version}")
                continue
            profiles = tuple(sorted(metadata.get("profiles") or []))
            key = (class_name, profiles)
            if key not in validators:
                schema = schemas.get_class_schema(class_name=class_name, profiles=list(profiles))
                jsonschema.Draft202012Validator.check_schema(schema)
                validators[key] = jsonschema.Draft202012Validator(schema)
            for error in validators[key].iter_errors(event):
                where = "/".join(str(p) for p in error.absolute_path) or "(event)"
                errors.append(f"line {number}: {where}: {error.message}")
            attributes = raw["classes"][class_name]["attributes"]
            for attribute, definition in attributes.items():
                enum = definition.get("enum")
                if not attribute.endswith("_id") or not enum or attribute not in event:
                    continue
                sibling = "type_name" if attribute == "type_uid" else attribute[: -len("_id")]
                if sibling == "category" or sibling == "class":
                    sibling += "_name"
                caption = (enum.get(str(event[attribute])) or {}).get("caption")
                if sibling in event and event[attribute] != 99 and event[sibling] != caption:
                    errors.append(
                        f"line {number}: {sibling} is {event[sibling]!r}, but OCSF {version} calls "
                        f"{attribute} {event[attribute]} {caption!r}"
                    )
    for error in errors[:40]:
        print(error, file=sys.stderr)
    if len(errors) > 40:
        print(f"... and {len(errors) - 40} more", file=sys.stderr)
    if errors:
        print(f"ocsf_validate.py: {len(errors)} error(s) in {path}", file=sys.stderr)
        sys.exit(1)
    print(f"ocsf_validate.py: {events} event(s) valid against OCSF {version}")


if __name__ == "__main__":
    main()
