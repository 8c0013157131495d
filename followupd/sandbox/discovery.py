"""Routing and request validation driven by the discovery documents that ship
with google-api-python-client (read as data; the package is never imported)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ApiError, bad_request
from .timeutil import parse_rfc3339

# Query parameters every Google API accepts (system parameters).
STANDARD_PARAMS = frozenset(
    {
        "alt",
        "fields",
        "prettyPrint",
        "key",
        "quotaUser",
        "upload_protocol",
        "uploadType",
        "$.xgafv",
        "access_token",
        "callback",
        "oauth_token",
        "userIp",
    }
)


def documents_dir() -> Path:
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("google-api-python-client is not installed: no discovery documents")
    return Path(next(iter(spec.submodule_search_locations))) / "discovery_cache" / "documents"


@dataclass(frozen=True, eq=False)
class Method:
    id: str
    api: str  # "calendar" | "gmail"
    http_method: str
    template: str  # absolute path template, e.g. /calendar/v3/calendars/{calendarId}/events
    regex: re.Pattern[str]
    specificity: int
    parameters: dict[str, Any]
    scopes: tuple[str, ...]
    request_ref: str | None
    upload: bool


@dataclass
class Api:
    name: str
    doc: dict[str, Any]
    methods: list[Method]

    @property
    def schemas(self) -> dict[str, Any]:
        result: dict[str, Any] = self.doc.get("schemas", {})
        return result

    @property
    def global_params(self) -> dict[str, Any]:
        result: dict[str, Any] = self.doc.get("parameters", {})
        return result


def _template_regex(template: str) -> tuple[re.Pattern[str], int]:
    pattern = ""
    literal = 0
    pos = 0
    for m in re.finditer(r"\{(\+?)([^}]+)\}", template):
        text = template[pos : m.start()]
        literal += len(text)
        pattern += re.escape(text)
        group = re.sub(r"\W", "_", m.group(2))
        pattern += f"(?P<{group}>.+)" if m.group(1) else f"(?P<{group}>[^/]+)"
        pos = m.end()
    text = template[pos:]
    literal += len(text)
    pattern += re.escape(text)
    return re.compile("^" + pattern + "$"), literal


def _walk(resource: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = list(resource.get("methods", {}).values())
    for sub in resource.get("resources", {}).values():
        out.extend(_walk(sub))
    return out


def load_api(name: str, filename: str, prefix: str) -> Api:
    doc: dict[str, Any] = json.loads((documents_dir() / filename).read_text("utf-8"))
    methods: list[Method] = []
    for m in _walk(doc):
        ref = m.get("request", {}).get("$ref")
        common = {
            "id": m["id"],
            "api": name,
            "http_method": m["httpMethod"],
            "parameters": m.get("parameters", {}),
            "scopes": tuple(m.get("scopes", ())),
            "request_ref": ref,
        }
        template = prefix + m["path"]
        regex, spec = _template_regex(template)
        methods.append(
            Method(template=template, regex=regex, specificity=spec, upload=False, **common)
        )
        simple = m.get("mediaUpload", {}).get("protocols", {}).get("simple", {}).get("path")
        if simple:
            regex, spec = _template_regex(simple)
            methods.append(
                Method(template=simple, regex=regex, specificity=spec, upload=True, **common)
            )
    methods.sort(key=lambda x: -x.specificity)
    return Api(name=name, doc=doc, methods=methods)


class Discovery:
    def __init__(self) -> None:
        self.calendar = load_api("calendar", "calendar.v3.json", "/calendar/v3/")
        self.gmail = load_api("gmail", "gmail.v1.json", "/")
        self.by_id: dict[str, Method] = {}
        for api in (self.calendar, self.gmail):
            for m in api.methods:
                if not m.upload:
                    self.by_id[m.id] = m

    def api(self, name: str) -> Api:
        return self.calendar if name == "calendar" else self.gmail

    def match(self, http_method: str, path: str) -> tuple[Method, dict[str, str]] | None:
        """Find the method for a verb and a raw (still percent-encoded) path."""
        from urllib.parse import unquote

        if path.startswith("/calendar/v3/"):
            candidates = self.calendar.methods
        elif path.startswith(("/gmail/v1/", "/upload/gmail/v1/")):
            candidates = self.gmail.methods
        else:
            return None
        for m in candidates:
            if m.http_method != http_method:
                continue
            hit = m.regex.match(path)
            if hit:
                names = re.findall(r"\{\+?([^}]+)\}", m.template)
                values = [unquote(v) for v in hit.groups()]
                return m, dict(zip(names, values, strict=True))
        return None

    def validate_query(self, method: Method, query: dict[str, list[str]]) -> dict[str, Any]:
        """Check every query parameter against the discovery document; coerce types."""
        api = self.api(method.api)
        reason = "invalid" if method.api == "gmail" else "badRequest"
        out: dict[str, Any] = {}
        for name, values in query.items():
            spec = method.parameters.get(name)
            if spec is not None and spec.get("location") != "query":
                spec = None
            if spec is None:
                spec = api.global_params.get(name)
            if spec is None and name in STANDARD_PARAMS:
                spec = {"type": "string", "location": "query"}
            if spec is None:
                raise bad_request(
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                    f"parameter. Field '{name}' could not be found in request message.",
                    reason=reason,
                    location=name,
                )
            if len(values) > 1 and not spec.get("repeated"):
                raise bad_request(
                    f"Parameter '{name}' is not repeated but was given {len(values)} times.",
                    reason=reason,
                    location=name,
                )
            coerced = [_coerce(name, v, spec, reason) for v in values]
            out[name] = coerced if spec.get("repeated") else coerced[0]
        for name, spec in method.parameters.items():
            if spec.get("location") == "query" and spec.get("required") and name not in out:
                raise bad_request(f"Required parameter: {name}", reason="required", location=name)
        if out.get("alt", "json") != "json":
            raise bad_request(f"Invalid value for alt: {out['alt']}", reason=reason, location="alt")
        return out

    def validate_body(self, method: Method, body: Any) -> None:
        """Gmail (a proto-based API) refuses unknown fields in a JSON body."""
        if method.api != "gmail" or method.request_ref is None:
            return
        _check_schema(self.gmail.schemas, {"$ref": method.request_ref}, body, "")


def _coerce(name: str, value: str, spec: dict[str, Any], reason: str) -> Any:
    kind = spec.get("type", "string")
    result: Any = value
    if kind == "integer":
        try:
            number = int(value)
        except ValueError:
            raise bad_request(
                f"Invalid value '{value}'. Values must match the following regular expression: "
                f"'-?\\d+'",
                reason=reason,
                location=name,
            ) from None
        if "minimum" in spec and number < int(spec["minimum"]):
            raise bad_request(
                f"Invalid value '{value}' for {name}: too small.", reason=reason, location=name
            )
        if "maximum" in spec and number > int(spec["maximum"]):
            raise bad_request(
                f"Invalid value '{value}' for {name}: too large.", reason=reason, location=name
            )
        if spec.get("format") == "uint32" and number < 0:
            raise bad_request(f"Invalid value '{value}' for {name}.", reason=reason, location=name)
        result = number
    elif kind == "boolean":
        low = value.lower()
        if low not in ("true", "false"):
            raise bad_request(
                f"Invalid value '{value}'. Values must match the following regular expression: "
                f"'(true|false)'",
                reason=reason,
                location=name,
            )
        result = low == "true"
    if "enum" in spec and value not in spec["enum"]:
        raise bad_request(f"Invalid value for {name}: {value}", reason=reason, location=name)
    if spec.get("format") == "date-time":
        try:
            parsed: dt.datetime = parse_rfc3339(value)
        except ValueError:
            raise bad_request("Bad Request", reason="badRequest", location=name) from None
        result = parsed
    return result


def _check_schema(schemas: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> None:
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"], {})
    kind = schema.get("type")
    if kind == "object" and isinstance(value, dict):
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            if key in props:
                _check_schema(schemas, props[key], sub, f"{where}.{key}" if where else key)
            elif extra is not None:
                _check_schema(schemas, extra, sub, where)
            else:
                at = f" at '{where}'" if where else ""
                raise ApiError(
                    400,
                    f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.',
                    "invalid",
                )
    elif kind == "array" and isinstance(value, list):
        for item in value:
            _check_schema(schemas, schema.get("items", {}), item, where)
    elif kind == "object" and value is not None and not isinstance(value, dict):
        raise ApiError(
            400, f"Invalid JSON payload received. Expected an object at '{where}'.", "invalid"
        )
