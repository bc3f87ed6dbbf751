"""Generate docs/api.md from jupyterlab_compute_panel/openapi.yaml, so the API reference cannot drift.

Usage:
    python docs/gen_api.py            # (re)write docs/api.md
    python docs/gen_api.py --check    # exit 1 if docs/api.md differs from what would be generated
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "jupyterlab_compute_panel" / "openapi.yaml"
OUTPUT = ROOT / "docs" / "api.md"
METHODS = ("get", "put", "post", "patch", "delete")


class Spec:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.components = data.get("components", {})

    def resolve(self, node: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        """(component name, resolved node) for a $ref; (None, node) otherwise."""
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not ref:
            return None, node
        parts = ref.lstrip("#/").split("/")
        target: Any = self.data
        for part in parts:
            target = target[part]
        return parts[-1], target


def cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    if text is None:
        return ""
    return " ".join(str(text).split()).replace("|", "\\|")


def literal(value: Any) -> str:
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def anchor(name: str) -> str:
    return name.lower()


def type_of(spec: Spec, node: dict[str, Any]) -> str:
    """A short human type: `string (date-time)`, `array of [Run](#run)`, `string or null`..."""
    name, _ = spec.resolve(node)
    if name is None and len(node.get("allOf", [])) == 1:
        # OpenAPI 3.0 ignores the siblings of a $ref: a nullable reference is `allOf: [$ref]` + `nullable`.
        name, _ = spec.resolve(node["allOf"][0])
    if name is not None:
        link = f"[{name}](#{anchor(name)})"
        return f"{link} or null" if node.get("nullable") else link
    kind = node.get("type", "object" if "properties" in node else "any")
    if kind == "array":
        text = f"array of {type_of(spec, node.get('items', {}))}"
    elif kind == "object" and "additionalProperties" in node and "properties" not in node:
        text = f"object of {type_of(spec, node['additionalProperties'])}"
    else:
        text = f"{kind} ({node['format']})" if "format" in node else str(kind)
    if node.get("nullable"):
        text += " or null"
    return text


def notes(node: dict[str, Any]) -> str:
    """Description plus constraints, enum, default and example of a schema node."""
    out = []
    if node.get("description"):
        out.append(cell(node["description"]))
    if "enum" in node:
        out.append("One of " + ", ".join(literal(v) for v in node["enum"]) + ".")
    if "minimum" in node or "maximum" in node:
        low, high = node.get("minimum"), node.get("maximum")
        if low is not None and high is not None:
            out.append(f"From {low} to {high}.")
        elif low is not None:
            out.append(f"At least {low}.")
        else:
            out.append(f"At most {high}.")
    if "default" in node:
        out.append(f"Default {literal(node['default'])}.")
    if "example" in node:
        out.append(f"Example: {literal(node['example'])}.")
    return " ".join(out)


def property_rows(spec: Spec, node: dict[str, Any], prefix: str = "") -> list[str]:
    """Table rows for an object's properties; inline nested objects are flattened with dotted names."""
    _, node = spec.resolve(node)
    required = set(node.get("required", []))
    rows = []
    for name, prop in node.get("properties", {}).items():
        full = f"{prefix}{name}"
        rows.append(f"| `{full}` | {type_of(spec, prop)} | {'yes' if name in required else 'no'} | {notes(prop)} |")
        ref, _ = spec.resolve(prop)
        if ref is None and "properties" in prop:
            rows.extend(property_rows(spec, prop, f"{full}."))
    return rows


def property_table(spec: Spec, node: dict[str, Any]) -> list[str]:
    rows = property_rows(spec, node)
    if not rows:
        return [f"Type: {type_of(spec, node)}.", ""]
    return ["| field | type | required | notes |", "| --- | --- | --- | --- |", *rows, ""]


def body_schema(content: dict[str, Any] | None) -> dict[str, Any] | None:
    if not content:
        return None
    return content.get("application/json", {}).get("schema")


def endpoint(spec: Spec, base: str, path: str, method: str, op: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {base}{path}`", ""]
    if op.get("summary"):
        lines += [cell(op["summary"]), ""]
    if op.get("description"):
        lines += [op["description"].strip(), ""]

    params = op.get("parameters", [])
    if params:
        lines += ["Parameters:", "", "| name | in | type | required | notes |", "| --- | --- | --- | --- | --- |"]
        for param in params:
            _, param = spec.resolve(param)
            schema = param.get("schema", {})
            extra = " ".join(x for x in (cell(param.get("description")), notes(schema)) if x)
            lines.append(
                f"| `{param['name']}` | {param['in']} | {type_of(spec, schema)} | "
                f"{'yes' if param.get('required') else 'no'} | {extra} |"
            )
        lines.append("")

    request = op.get("requestBody")
    if request:
        lines += [f"Request body (JSON{', required' if request.get('required') else ''}):", ""]
        schema = body_schema(request.get("content"))
        if schema is not None:
            lines += property_table(spec, schema)

    lines += ["Responses:", "", "| status | meaning | body |", "| --- | --- | --- |"]
    inline: list[tuple[str, dict[str, Any]]] = []
    for status, response in op.get("responses", {}).items():
        _, response = spec.resolve(response)
        schema = body_schema(response.get("content"))
        body = "" if schema is None else type_of(spec, schema)
        if schema is not None and spec.resolve(schema)[0] is None and "properties" in schema:
            body = "object (below)"
            inline.append((str(status), schema))
        lines.append(f"| {status} | {cell(response.get('description'))} | {body} |")
    lines.append("")
    for status, schema in inline:
        lines += [f"Response {status} body:", ""]
        lines += property_table(spec, schema)
    return lines


def render(data: dict[str, Any]) -> str:
    spec = Spec(data)
    info = data.get("info", {})
    base = (data.get("servers") or [{"url": ""}])[0]["url"].rstrip("/")
    lines = [
        f"# {info.get('title', 'REST API')}",
        "",
        "<!-- Generated by docs/gen_api.py from jupyterlab_compute_panel/openapi.yaml; do not edit by hand. -->",
        "<!-- Regenerate with: python docs/gen_api.py   Check with: python docs/gen_api.py --check -->",
        "",
        f"API version {info.get('version', '?')} (OpenAPI {data.get('openapi', '?')}). "
        f"Paths below are relative to the Jupyter server's base URL (`{base}/...`).",
        "",
    ]
    if info.get("description"):
        lines += [info["description"].strip(), ""]

    error = spec.components.get("schemas", {}).get("Error")
    if error is not None:
        lines += [
            "## Errors",
            "",
            "Every refusal has a JSON body of the [Error](#error) schema:",
            "",
            *property_table(spec, error),
        ]

    lines += ["## Endpoints", ""]
    index = []
    body: list[str] = []
    for path, item in data.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                op = item[method]
                title = f"{method.upper()} {base}{path}"
                slug = "".join(ch for ch in title.lower().replace(" ", "-") if ch.isalnum() or ch in "-_")
                index.append(f"- [`{title}`](#{slug}): {cell(op.get('summary', ''))}".rstrip(": "))
                body += endpoint(spec, base, path, method, op)
    lines += [*index, "", *body]

    schemas = spec.components.get("schemas", {})
    if schemas:
        lines += ["## Schemas", ""]
        for name, schema in schemas.items():
            lines += [f"### {name}", ""]
            if schema.get("description"):
                lines += [cell(schema["description"]), ""]
            lines += property_table(spec, schema)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/api.md from openapi.yaml.")
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/api.md is stale; write nothing")
    parser.add_argument("--spec", type=Path, default=SPEC, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=OUTPUT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    text = render(yaml.safe_load(args.spec.read_text(encoding="utf-8")))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
        if current != text:
            print(f"{args.output} is stale: run 'python docs/gen_api.py' and commit the result.", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date.")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"Wrote {args.output}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
