#!/usr/bin/env python3
"""Generate the typed protocol models of codex-cpp (namespace codex::types).

Input: the JSON Schema that the pinned Codex CLI writes with
`codex app-server generate-json-schema --out DIR` (the stable surface). Output: C++20 headers
(struct/enum/variant definitions, declarations of the conversions) and the Boost.JSON
conversions compiled into the library.

    generate_types.py --schema DIR --out-include include/codex/types --out-lib lib/types
    generate_types.py --schema DIR --out-include include/codex/types --out-lib lib/types --check
    generate_types.py --codex BIN --out-include include/codex/types --out-lib lib/types --check

--codex runs `BIN app-server generate-json-schema --out <tmp>` and uses that schema (exit 77,
"skipped", when BIN does not exist). --check regenerates in memory and compares with the
checked-in files (exit 1 and a diff on mismatch). Python 3 standard library only; the output
depends only on the schema. docs/types.md describes the C++ shape of every schema construct.

Every generated public name has a Doxygen comment (the `docs_reference` test fails otherwise): a
type's schema description, the methods it is the params or result of, or else where the schema
defines it; a field's description, or else its wire name and whether it is required/nullable.
"""

import argparse
import difflib
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

# The CLI version whose schema the checked-in files come from. Update together with the pin.
CLI_VERSION = "0.169.0"

BUNDLE = "codex_app_server_protocol.schemas.json"

# Groups of types, one header each (and the dependency order of the headers). A type goes to
# the first group whose roots reach it.
CORE_ROOTS = [
    "InitializeResponse", "Thread", "Turn", "ThreadItem", "UserInput", "TurnError",
    "ThreadTokenUsage", "Account", "Model", "AskForApproval", "ApprovalsReviewer",
    "SandboxMode", "SandboxPolicy", "ReasoningSummary", "Personality",
]

# The client methods that get typed params/results (and `methods::` traits): those the SDK's
# public API sends (the Python SDK's, plus the thread/turn/account siblings it builds on). Any
# other method can still be sent with raw JSON; add it here and regenerate to type it.
CLIENT_METHODS = [
    "initialize",
    "thread/start", "thread/resume", "thread/fork", "thread/archive", "thread/unarchive",
    "thread/delete", "thread/unsubscribe", "thread/name/set", "thread/compact/start",
    "thread/list", "thread/loaded/list", "thread/read", "thread/turns/list", "thread/items/list",
    "thread/goal/get", "thread/goal/set", "thread/goal/clear",
    "turn/start", "turn/steer", "turn/interrupt", "review/start",
    "model/list",
    "account/read", "account/login/start", "account/login/cancel", "account/logout",
    "account/rateLimits/read",
]

# Results of client methods that the "XParams -> XResponse" naming rule does not find.
CLIENT_RESULT_OVERRIDES = {
    "account/gatewayOAuth/cancel": "GatewayOAuthCancelResponse",
    "config/mcpServer/reload": "McpServerRefreshResponse",
    "windowsSandbox/readiness": "WindowsSandboxReadinessResponse",
    "account/logout": "LogoutAccountResponse",
    "account/securitySetup/read": "GetAccountSecuritySetupResponse",
    "account/workspaceMessages/read": "GetWorkspaceMessagesResponse",
    "externalAgentConfig/import/readHistories": "ExternalAgentConfigImportHistoriesReadResponse",
    "configRequirements/read": "ConfigRequirementsReadResponse",
    "config/value/write": "ConfigWriteResponse",
    "config/batchWrite": "ConfigWriteResponse",
}

# The library conversions are split into about this many translation units of similar size
# (each within one header group), plus one for the notification dispatch.
LIB_UNITS = 4

DOC_KEYS = {"description", "title", "default", "format", "minimum", "maximum", "$schema",
            "minLength", "maxLength", "minItems", "maxItems", "examples", "deprecated"}

CPP_KEYWORDS = set("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
char32_t class compl concept const consteval constexpr constinit const_cast continue co_await
co_return co_yield decltype default delete do double dynamic_cast else enum explicit export
extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq
nullptr operator or or_eq private protected public register reinterpret_cast requires return
short signed sizeof static static_assert static_cast struct switch template this thread_local
throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while
xor xor_eq final override import module
""".split())

# Names the static part of the headers uses (a schema type must not take them).
RESERVED_TYPE_NAMES = {"Notification", "NotificationPayload", "ServerRequestPayload", "OneOf",
                       "Nullable", "UnknownVariant", "ParseError", "JsonValue", "method_list"}

# Enumerator names that would clash with the members of a generated enum struct.
ENUM_RESERVED = {"value", "raw", "unknown", "wire", "from_wire", "Value"}


class GenError(Exception):
    pass


# ----------------------------------------------------------------------------------------------
# names

def words(s):
    """Split an identifier or wire string into lowercase words (camelCase, snake, kebab, ...)."""
    s = s.replace("/", " slash ") if re.fullmatch(r"[A-Za-z]+/[A-Za-z]+", s) else s
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", s)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", s) if w]


def snake(s):
    name = "_".join(words(s))
    if not name:
        name = "empty"
    if name[0].isdigit():
        name = "v" + name
    if name in CPP_KEYWORDS:
        name += "_"
    return name


def pascal(s):
    ws = words(s)
    out = "".join(w[:1].upper() + w[1:] for w in ws)
    if not out or out[0].isdigit():
        out = "V" + out
    return out


def title_of(schema):
    """The schema's `title` when it is a usable C++ type name (some are `Foov2::Bar`)."""
    t = schema.get("title") if isinstance(schema, dict) else None
    return t if t and re.fullmatch(r"[A-Z][A-Za-z0-9]*", t) else None


def strip_doc(schema):
    if not isinstance(schema, dict):
        return schema
    return {k: v for k, v in schema.items() if k not in DOC_KEYS}


# ----------------------------------------------------------------------------------------------
# type model

class T:
    """A C++ type expression: prim (string/int/double/bool/json/object), named, vector, map."""

    def __init__(self, kind, name=None, elem=None):
        self.kind, self.name, self.elem = kind, name, elem

    def cpp(self):
        k = self.kind
        if k == "string":
            return "std::string"
        if k == "int":
            return "std::int64_t"
        if k == "double":
            return "double"
        if k == "bool":
            return "bool"
        if k == "json":
            return "boost::json::value"
        if k == "object":
            return "boost::json::object"
        if k == "named":
            return self.name
        if k == "vector":
            return "std::vector<%s>" % self.elem.cpp()
        if k == "map":
            return "std::map<std::string, %s>" % self.elem.cpp()
        if k == "optional":
            return "std::optional<%s>" % self.elem.cpp()
        raise GenError(k)

    def named_deps(self):
        if self.kind == "named":
            return [self.name]
        if self.kind in ("vector", "map", "optional"):
            return self.elem.named_deps()
        return []

    def json_kinds(self, model):
        """JSON kinds a value of this type can be (for untagged union dispatch)."""
        k = self.kind
        if k == "string":
            return {"string"}
        if k == "int":
            return {"int"}
        if k == "double":
            return {"int", "double"}
        if k == "bool":
            return {"bool"}
        if k in ("vector",):
            return {"array"}
        if k == "optional":
            return self.elem.json_kinds(model)
        if k in ("map", "object"):
            return {"object"}
        if k == "json":
            return {"any"}
        d = model.defs[self.name]
        if isinstance(d, Alias):
            return d.target.json_kinds(model)
        if isinstance(d, Enum):
            return {"string"}
        if isinstance(d, Struct):
            return {"object"}
        if isinstance(d, Union):
            out = set()
            for a in d.alts:
                out |= a.type.json_kinds(model)
            return out
        raise GenError(self.name)


class Field:
    def __init__(self, wire, type_, required, nullable, doc):
        self.wire, self.type, self.required, self.nullable, self.doc = (
            wire, type_, required, nullable, doc)
        self.cpp = snake(wire)

    def wrapper(self):
        """'plain' T, 'optional' std::optional<T> (absent or null), 'nullable' Nullable<T>."""
        if self.required:
            return "optional" if self.nullable else "plain"
        return "nullable" if self.nullable else "optional"

    def cpp_type(self):
        w = self.wrapper()
        if w == "plain":
            return self.type.cpp()
        if w == "optional":
            return "std::optional<%s>" % self.type.cpp()
        return "Nullable<%s>" % self.type.cpp()


class Struct:
    def __init__(self, name, doc):
        self.name, self.doc = name, doc
        self.fields = []
        self.tag = None          # (key, value) for a tagged-union variant
        self.external = None     # key for a {"key": ...} variant of an externally tagged union
        self.flatten = False     # external: the fields are those of the inner object
        self.extra = False       # additionalProperties: true -> keep unknown keys in `extra`
        self.union = None        # name of the union this struct is a variant of

    def deps(self):
        out = []
        for f in self.fields:
            out += f.type.named_deps()
        return out


class Enum:
    def __init__(self, name, doc, values):
        self.name, self.doc = name, doc
        seen = set()
        self.values = []         # [(wire, doc)], first occurrence of each wire value
        for wire, vdoc in values:
            if wire not in seen:
                seen.add(wire)
                self.values.append((wire, vdoc))
        values = self.values
        names = {}
        self.cpp = []
        for wire, _ in values:
            n = "unknown" if wire == "unknown" else snake(wire)
            if wire != "unknown" and n in ENUM_RESERVED:
                n += "_"
            if n in names and names[n] != wire:
                raise GenError("enum %s: %r and %r both map to %s" % (name, names[n], wire, n))
            names[n] = wire
            self.cpp.append(n)
        self.has_unknown_wire = "unknown" in [w for w, _ in values]
        if not [w for w, _ in values if w != "unknown"]:
            raise GenError("enum %s has no values" % name)

    def deps(self):
        return []


class Alt:
    """One alternative of a union: its C++ type and how to recognise it."""

    def __init__(self, type_, conds=None, tag_value=None):
        self.type = type_
        self.conds = conds       # untagged: list of (kinds, required keys, {key: allowed values})
        self.tag_value = tag_value


class Union:
    def __init__(self, name, doc, strategy):
        self.name, self.doc, self.strategy = name, doc, strategy  # 'tagged' | 'untagged'
        self.tag_key = None
        self.alts = []

    def deps(self):
        out = []
        for a in self.alts:
            out += a.type.named_deps()
        return out


class Alias:
    def __init__(self, name, doc, target):
        self.name, self.doc, self.target = name, doc, target

    def deps(self):
        return self.target.named_deps()


# ----------------------------------------------------------------------------------------------
# schema -> model

class Model:
    def __init__(self, bundle):
        self.bundle = bundle
        self.raw = {}            # definition name -> schema
        top = bundle["definitions"]
        for name, schema in top.items():
            if name == "v2":
                continue
            self.raw[name] = schema
        for name, schema in top.get("v2", {}).items():
            if name in self.raw:
                a = json.dumps(strip_doc(self.raw[name]), sort_keys=True)
                b = json.dumps(strip_doc(schema), sort_keys=True)
                if a != b:
                    raise GenError("definition %s differs between v1 and v2" % name)
                continue
            self.raw[name] = schema
        self.in_progress = set()
        self.defs = {}           # C++ name -> Struct | Enum | Union | Alias
        self.origin = {}         # inline type name -> where it is defined (for its doc comment)

    # -- refs
    def ref_name(self, ref):
        parts = ref.split("/")
        if parts[:2] != ["#", "definitions"]:
            raise GenError("unsupported $ref " + ref)
        return parts[-1]

    def named(self, defname):
        """The C++ type of a definition, defining it on first use."""
        if defname not in self.raw:
            raise GenError("unknown definition " + defname)
        if defname not in self.defs and defname not in self.in_progress:
            self.in_progress.add(defname)
            self.define(defname, self.raw[defname])
            self.in_progress.discard(defname)
        return T("named", defname)

    def note(self, name, where):
        """Remembers where an inline type is defined (its doc comment when it has none)."""
        self.origin.setdefault(name, where)

    def add(self, d):
        if d.name in self.defs or d.name in RESERVED_TYPE_NAMES:
            raise GenError("duplicate type name " + d.name)
        self.defs[d.name] = d

    # -- helpers
    @staticmethod
    def single_enum(schema):
        if not isinstance(schema, dict):
            return None
        s = strip_doc(schema)
        if "enum" in s and len(s["enum"]) == 1 and s.get("type", "string") == "string":
            return s["enum"][0]
        return None

    def enum_values_of(self, schema):
        """Values (with docs) if the schema is a string enum or a union of string enums."""
        if not isinstance(schema, dict):
            return None
        s = strip_doc(schema)
        if "$ref" in s:
            return None
        if "enum" in s and s.get("type", "string") == "string" and set(s) <= {"enum", "type"}:
            doc = schema.get("description") if len(s["enum"]) == 1 else None
            return [(v, doc) for v in s["enum"]]
        alts = s.get("oneOf") or s.get("anyOf")
        if alts and set(s) in ({"oneOf"}, {"anyOf"}):
            out = []
            for a in alts:
                vals = self.enum_values_of(a)
                if vals is None:
                    return None
                out += vals
            return out
        return None

    def is_null(self, schema):
        return isinstance(schema, dict) and strip_doc(schema) == {"type": "null"}

    # -- types of property schemas
    def type_of(self, schema, ctx, prop, where=None):
        """(T, nullable) for a property/item schema; inline named types get ctx+Prop names.
        `where` says where the schema sits (for the doc comment of an inline type)."""
        if where is None:
            where = ("the `%s` property of `%s`" % (prop, ctx)) if prop else "`%s`" % ctx
        if schema is True or schema == {}:
            return T("json"), False
        s = strip_doc(schema)
        if not s:
            return T("json"), False
        if "$ref" in s:
            return self.named(self.ref_name(s["$ref"])), False
        if "allOf" in s:
            if len(s["allOf"]) != 1 or set(s) != {"allOf"}:
                raise GenError("unsupported allOf in %s.%s" % (ctx, prop))
            return self.type_of(s["allOf"][0], ctx, prop, where)
        for key in ("anyOf", "oneOf"):
            if key in s and "properties" not in s:
                alts = s[key]
                nonnull = [a for a in alts if not self.is_null(a)]
                nullable = len(nonnull) != len(alts)
                if len(nonnull) == 1:
                    t, n2 = self.type_of(nonnull[0], ctx, prop, where)
                    return t, nullable or n2
                name = title_of(schema) or ctx + pascal(prop)
                self.note(name, where)
                self.define(name, {key: nonnull, **{k: v for k, v in schema.items()
                                                    if k in ("description",)}})
                return T("named", name), nullable
        typ = s.get("type")
        nullable = False
        if isinstance(typ, list):
            rest = [t for t in typ if t != "null"]
            nullable = len(rest) != len(typ)
            if len(rest) != 1:
                return T("json"), nullable
            typ = rest[0]
        if "enum" in s:
            if typ not in (None, "string"):
                raise GenError("non-string enum in %s.%s" % (ctx, prop))
            name = title_of(schema) or ctx + pascal(prop)
            self.note(name, where)
            self.define(name, {"type": "string", "enum": s["enum"],
                               "description": schema.get("description")}, None)
            return T("named", name), nullable
        if typ == "string":
            return T("string"), nullable
        if typ == "integer":
            return T("int"), nullable
        if typ == "number":
            return T("double"), nullable
        if typ == "boolean":
            return T("bool"), nullable
        if typ == "array":
            items = s.get("items", True)
            if isinstance(items, list):
                return T("json"), nullable
            et, enull = self.type_of(items, ctx, prop + "Item", "an element of " + where)
            if enull:
                et = T("optional", elem=et)
            return T("vector", elem=et), nullable
        if typ == "object" or "properties" in s:
            if s.get("properties"):
                name = title_of(schema) or ctx + pascal(prop)
                self.note(name, where)
                self.define(name, schema)
                return T("named", name), nullable
            ap = s.get("additionalProperties")
            if isinstance(ap, dict) and strip_doc(ap):
                et, enull = self.type_of(ap, ctx, prop + "Value", "a value of " + where)
                if enull:
                    et = T("optional", elem=et)
                return T("map", elem=et), nullable
            return T("object"), nullable
        if typ == "null":
            return T("json"), True
        raise GenError("unsupported schema in %s.%s: %s" % (ctx, prop, json.dumps(schema)[:200]))

    # -- definitions
    def define(self, name, schema):
        doc = schema.get("description") if isinstance(schema, dict) else None
        s = strip_doc(schema)
        vals = self.enum_values_of(schema)
        if vals is not None:
            self.add(Enum(name, doc, vals))
            return
        if "oneOf" in s or "anyOf" in s:
            self.define_union(name, schema, doc)
            return
        typ = s.get("type")
        if typ == "object" or "properties" in s:
            if not s.get("properties") and isinstance(s.get("additionalProperties"), dict):
                et, enull = self.type_of(s["additionalProperties"], name, "Value",
                                         "a value of `%s`" % name)
                if enull:
                    et = T("optional", elem=et)
                self.add(Alias(name, doc, T("map", elem=et)))
                return
            st = Struct(name, doc)
            self.add(st)
            self.fill_struct(st, schema, name)
            return
        t, _ = self.type_of(schema, name, "")
        if t.kind == "named" and t.name == name:
            raise GenError("self alias " + name)
        self.add(Alias(name, doc, t))

    def fill_struct(self, st, schema, ctx, skip=(), optional_all=False, required_extra=()):
        s = strip_doc(schema)
        required = set(s.get("required", [])) | set(required_extra)
        for wire, ps in s.get("properties", {}).items():
            if wire in skip or wire in [f.wire for f in st.fields]:
                continue
            t, nullable = self.type_of(ps, ctx, wire)
            doc = ps.get("description") if isinstance(ps, dict) else None
            st.fields.append(Field(wire, t, wire in required and not optional_all, nullable, doc))
        if s.get("additionalProperties") is True and s.get("properties"):
            st.extra = True
        # Mixins: {"anyOf": [{"properties": {url}}, {"properties": {fileId}}]} inside an object
        for key in ("anyOf", "oneOf"):
            for alt in s.get(key, []):
                for wire, ps in strip_doc(alt).get("properties", {}).items():
                    if wire in [f.wire for f in st.fields]:
                        continue
                    t, nullable = self.type_of(ps, ctx, wire)
                    doc = ps.get("description") if isinstance(ps, dict) else None
                    st.fields.append(Field(wire, t, False, nullable, doc))
        seen = {}
        for f in st.fields:
            if f.cpp in seen:
                raise GenError("%s: %s and %s both map to %s" % (st.name, seen[f.cpp], f.wire, f.cpp))
            seen[f.cpp] = f.wire

    def tag_key_of(self, alts):
        """The property that tags every alternative with a single string value, if any."""
        objs = [strip_doc(a) for a in alts]
        if not objs or any("properties" not in o for o in objs):
            return None
        common = None
        for o in objs:
            keys = {k for k, p in o["properties"].items()
                    if self.single_enum(p) is not None and k in o.get("required", [])}
            common = keys if common is None else common & keys
        if not common:
            return None
        for k in ("type", "mode", "kind", "handlerType"):
            if k in common:
                return k
        return sorted(common)[0]

    def define_union(self, name, schema, doc):
        s = strip_doc(schema)
        key = "oneOf" if "oneOf" in s else "anyOf"
        alts = [a for a in s[key] if not self.is_null(a)]
        if len(alts) != len(s[key]):
            raise GenError("nullable union definition " + name)
        common = {k: v for k, v in s.get("properties", {}).items()}
        common_required = s.get("required", [])
        tag = self.tag_key_of(alts)
        u = Union(name, doc, "tagged" if tag else "untagged")
        u.tag_key = tag
        self.add(u)
        if tag:
            seen = set()
            for a in alts:
                value = self.single_enum(strip_doc(a)["properties"][tag])
                if value in seen:
                    raise GenError("%s: duplicate tag %s" % (name, value))
                seen.add(value)
                aname = title_of(a) or pascal(value) + name
                st = Struct(aname, a.get("description"))
                st.tag = (tag, value)
                st.union = name
                self.add(st)
                merged = {"properties": dict(common), "required": list(common_required)}
                self.fill_struct(st, merged, aname)
                self.fill_struct(st, a, aname, skip=(tag,))
                st.fields.sort(key=lambda f: f.wire)
                u.alts.append(Alt(T("named", aname), tag_value=value))
            return
        if common:
            raise GenError("untagged union with common properties: " + name)
        # Untagged: string enums merge into one <Union>Value enum; single-key objects become
        # externally tagged variants; everything else is matched structurally.
        enum_vals = []
        for a in alts:
            v = self.enum_values_of(a)
            if v is not None:
                enum_vals += v
        if enum_vals:
            ename = name + "Value"
            self.add(Enum(ename, "The string values of `%s`." % name, enum_vals))
            u.alts.append(Alt(T("named", ename), conds=[({"string"}, [], {})]))
        for i, a in enumerate(alts):
            sa = strip_doc(a)
            if self.enum_values_of(a) is not None:
                continue
            if sa.get("type") == ["string", "object"]:
                continue  # the open catch-all of CodexErrorInfo: the raw fallback covers it
            props = sa.get("properties", {})
            req = sa.get("required", [])
            if (sa.get("type") == "object" and len(props) == 1 and req == list(props)
                    and sa.get("additionalProperties") is False):
                k = req[0]
                aname = title_of(a) or pascal(k) + name
                st = Struct(aname, a.get("description"))
                st.external = k
                st.union = name
                self.add(st)
                inner = props[k]
                si = strip_doc(inner)
                if "$ref" not in si and si.get("type") == "object" and "properties" in si:
                    st.flatten = True
                    self.fill_struct(st, inner, aname)
                else:
                    t, nullable = self.type_of(inner, aname, k)
                    st.fields.append(Field(k, t, True, nullable, inner.get("description")
                                           if isinstance(inner, dict) else None))
                u.alts.append(Alt(T("named", aname), conds=[({"object"}, [k], {})]))
                continue
            if "$ref" in sa:
                t = self.named(self.ref_name(sa["$ref"]))
            elif sa.get("type") == "object" or "properties" in sa:
                aname = title_of(a) or self.untagged_name(name, alts, i)
                self.note(aname, "an alternative of `%s`" % name)
                self.define(aname, a)
                t = T("named", aname)
            else:
                t, _ = self.type_of(a, name, "Alt%d" % i, "an alternative of `%s`" % name)
            u.alts.append(Alt(t, conds=None))
        names = [a.type.cpp() for a in u.alts]
        if len(set(names)) != len(names):
            raise GenError("union %s has duplicate alternative types" % name)

    def untagged_name(self, union, alts, i):
        mine = set(strip_doc(alts[i]).get("required", []))
        others = set()
        for j, a in enumerate(alts):
            if j != i:
                others |= set(strip_doc(a).get("required", []))
        distinct = sorted(mine - others) or sorted(mine) or ["alt%d" % i]
        return pascal(distinct[0]) + union

    # -- structural recognition for untagged unions (resolved after all types exist)
    def conds_of(self, t):
        """Disjunction of (json kinds, required keys, {key: allowed values}) for a type."""
        kinds = t.json_kinds(self)
        if t.kind == "named":
            d = self.defs[t.name]
            if isinstance(d, Alias):
                return self.conds_of(d.target)
            if isinstance(d, Struct):
                req, tags = [], {}
                if d.tag:
                    req.append(d.tag[0])
                    tags[d.tag[0]] = [d.tag[1]]
                if d.external:
                    req.append(d.external)
                for f in d.fields:
                    if f.required and not d.external:
                        req.append(f.wire)
                        # A required `type` with one or two values discriminates (MCP schemas).
                        ft = f.type
                        if (f.wire == "type" and ft.kind == "named" and not f.nullable
                                and isinstance(self.defs[ft.name], Enum)
                                and len(self.defs[ft.name].values) <= 2):
                            tags[f.wire] = [w for w, _ in self.defs[ft.name].values]
                return [({"object"}, req, tags)]
            if isinstance(d, Union):
                out = []
                for a in d.alts:
                    out += a.conds if a.conds is not None else self.conds_of(a.type)
                return out
        return [(kinds, [], {})]

    def finish(self):
        for d in list(self.defs.values()):
            if isinstance(d, Union) and d.strategy == "untagged":
                for a in d.alts:
                    if a.conds is None:
                        a.conds = self.conds_of(a.type)


# ----------------------------------------------------------------------------------------------
# protocol surface (methods)

class Surface:
    def __init__(self, model):
        defs = model.bundle["definitions"]
        self.notifications = []   # (method, params type name or None, doc)
        for v in defs["ServerNotification"]["oneOf"]:
            m = v["properties"]["method"]["enum"][0]
            p = v["properties"].get("params")
            pn = model.ref_name(p["$ref"]) if p and "$ref" in p else None
            self.notifications.append((m, pn, v.get("description")))
        self.server_requests = []  # (method, params, result, doc)
        for v in defs["ServerRequest"]["oneOf"]:
            m = v["properties"]["method"]["enum"][0]
            pn = model.ref_name(v["properties"]["params"]["$ref"])
            rn = pn[:-len("Params")] + "Response" if pn.endswith("Params") else None
            if rn not in model.raw:
                raise GenError("no response type for server request " + m)
            self.server_requests.append((m, pn, rn, v.get("description")))
        self.client_requests = []  # (method, params or None, params nullable, result, doc)
        self.all_client_methods = []
        for v in defs["ClientRequest"]["oneOf"]:
            m = v["properties"]["method"]["enum"][0]
            self.all_client_methods.append(m)
            if m not in CLIENT_METHODS:
                continue
            p = strip_doc(v["properties"].get("params", {"type": "null"}))
            pn, pnull = None, False
            if "$ref" in p:
                pn = model.ref_name(p["$ref"])
            elif "anyOf" in p:
                refs = [a for a in p["anyOf"] if "$ref" in a]
                pn, pnull = model.ref_name(refs[0]["$ref"]), True
            rn = CLIENT_RESULT_OVERRIDES.get(m)
            if rn is None and pn and pn.endswith("Params"):
                rn = pn[:-len("Params")] + "Response"
            if rn not in model.raw:
                raise GenError("no result type for client request %s (add it to "
                               "CLIENT_RESULT_OVERRIDES)" % m)
            self.client_requests.append((m, pn, pnull, rn, v.get("description")))
        names = [method_struct_name(m) for m, *_ in self.client_requests + self.server_requests]
        if len(set(names)) != len(names):
            raise GenError("two methods map to the same methods:: name")
        missing = sorted(set(CLIENT_METHODS) - set(self.all_client_methods))
        if missing:
            raise GenError("CLIENT_METHODS not in the schema: %s" % missing)


# ----------------------------------------------------------------------------------------------
# emission helpers

def wrap_doc(text, indent, width=100):
    """/// comment lines for a description (never ending in a backslash)."""
    if not text:
        return []
    out = []
    prefix = " " * indent + "/// "
    for para in text.strip().split("\n"):
        para = para.rstrip()
        if not para:
            out.append(prefix.rstrip())
            continue
        line = ""
        for w in para.split(" "):
            if line and len(prefix) + len(line) + 1 + len(w) > width:
                out.append(prefix + line)
                line = w
            else:
                line = (line + " " + w) if line else w
        out.append(prefix + line)
    return [l + " ." if l.endswith("\\") else l for l in out]


# A Markdown code span (Doxygen: one line, any number of backticks).
CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")


def escape_prose(s):
    """Text outside code spans: what Doxygen would read as markup becomes literal (`@deprecated`
    stays a command)."""
    s = s.replace("\\", "\\\\")
    s = re.sub(r"@(?!deprecated\b)", r"\\@", s)
    return s.replace("<", "\\<")


def doc_text(text):
    """A schema description as Doxygen-safe Markdown. Code spans are kept; one holding a single
    quote gets double backticks (Doxygen 1.9 reads `x' as a quotation)."""
    if not text:
        return text
    out, pos = [], 0
    for line in text.split("\n"):
        parts, pos = [], 0
        for m in CODE_SPAN.finditer(line):
            parts.append(escape_prose(line[pos:m.start()]))
            body = m.group(2)
            parts.append("``%s``" % body if "'" in body and len(m.group(1)) == 1 else m.group(0))
            pos = m.end()
        parts.append(escape_prose(line[pos:]))
        out.append("".join(parts))
    return "\n".join(out)


def brief_trap(text):
    """True when Doxygen (JAVADOC_AUTOBRIEF) would end the brief description inside a code span
    of the first sentence: a `.` there followed by a non-word character (e.g. `a.<id>`). The
    caller then puts a short sentence first."""
    pos = 0
    for m in CODE_SPAN.finditer(text.split("\n")[0]):
        if re.search(r"[.?!](\s|$)", text[pos:m.start()]):
            return False
        if re.search(r"\.(?!\w)", m.group(2)):
            return True
        pos = m.end()
    return False


def join_methods(methods):
    names = ["`%s`" % m for m in methods]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def cstr(s):
    return json.dumps(s, ensure_ascii=False)


def method_doc(doc):
    """A method's description without the section banners of the Rust source."""
    doc = doc or ""
    for banner in ("NEW APIs", "NEW NOTIFICATIONS", "DEPRECATED APIs below"):
        if doc.startswith(banner):
            doc = doc[len(banner):].lstrip()
    return doc or None


def method_struct_name(method):
    return "".join(pascal(part) for part in method.split("/"))


class Emitter:
    def __init__(self, model, surface, schema_sha):
        self.m, self.s, self.sha = model, surface, schema_sha
        self.group_of = {}
        self.groups = [
            ("core", "core.hpp", "Thread, turn, item, account, model and policy types."),
            ("notifications", "notifications.hpp",
             "Server notification payloads and `Notification` / `parse_notification`."),
            ("server_requests", "server_requests.hpp",
             "Server-to-client requests (approvals etc.): params, responses, "
             "`ServerRequestPayload`."),
            ("client_requests", "client_requests.hpp",
             "Client request params and results, and the `methods::` traits."),
        ]
        self.assign_groups()
        self.order = self.topo_order()
        self.roles = self.method_roles()

    # -- doc comments
    def method_roles(self):
        """Type name -> sentences naming the methods it is the params or the result of."""
        roles = {}

        def add(n, text):
            if text not in roles.setdefault(n, []):
                roles[n].append(text)

        by_params = {}
        for m, p, _ in self.s.notifications:
            if p:
                by_params.setdefault(p, []).append(m)
        for p, ms in by_params.items():
            add(p, "The params of the %s notification%s." % (
                join_methods(ms), "s" if len(ms) > 1 else ""))
        for m, p, r, _ in self.s.server_requests:
            add(p, "The params of the `%s` server request (server to client)." % m)
            add(r, "The client's reply to the `%s` server request." % m)
        for m, p, _, r, _ in self.s.client_requests:
            if p:
                add(p, "The params of the `%s` request." % m)
            add(r, "The result of the `%s` request." % m)
        return roles

    def type_doc(self, d):
        """The doc comment of a generated type: its schema description, the methods it serves,
        or (with neither) where the schema defines it."""
        doc = doc_text(d.doc) if d.doc else None
        if doc and brief_trap(doc):
            doc = "`%s`. %s" % (d.name, doc)
        out = wrap_doc(doc, 0)
        roles = self.roles.get(d.name)
        if roles:
            if out:
                out.append("///")
            out += wrap_doc(" ".join(roles), 0)
        if not out:
            where = self.m.origin.get(d.name)
            out += wrap_doc(("Type of %s." % where) if where else
                            "`%s` of the app-server schema." % d.name, 0)
        return out

    @staticmethod
    def field_doc(f):
        doc = doc_text(f.doc) if f.doc else None
        if not doc:
            return "`%s` (%s)." % (f.wire, {
                "plain": "required",
                "optional": "required, may be null" if f.required else "optional",
                "nullable": "optional, may be null"}[f.wrapper()])
        if f.wire != f.cpp or brief_trap(doc):
            return "`%s`. %s" % (f.wire, doc)
        return doc

    # -- grouping
    def closure(self, names):
        seen, stack = set(), list(names)
        while stack:
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            stack += self.m.defs[n].deps()
            d = self.m.defs[n]
            if isinstance(d, Struct) and d.union:
                stack.append(d.union)
        return seen

    def assign_groups(self):
        s = self.s
        roots = {
            "core": CORE_ROOTS,
            "notifications": [p for _, p, _ in s.notifications if p],
            "server_requests": [x for _, p, r, _ in s.server_requests for x in (p, r)],
            "client_requests": [x for _, p, _, r, _ in s.client_requests for x in (p, r) if x],
        }
        for g, _, _ in self.groups:
            for n in sorted(self.closure(roots[g])):
                self.group_of.setdefault(n, g)
        missing = set(self.m.defs) - set(self.group_of)
        if missing:
            raise GenError("types outside every group: %s" % sorted(missing))

    def topo_order(self):
        """Definition order: dependencies first, else schema order (deterministic)."""
        order, state = [], {}
        names = list(self.m.defs)

        def visit(n, chain):
            st = state.get(n)
            if st == 2:
                return
            if st == 1:
                raise GenError("type cycle: " + " -> ".join(chain + [n]))
            state[n] = 1
            d = self.m.defs[n]
            for x in d.deps():
                visit(x, chain + [n])
            state[n] = 2
            order.append(n)

        for g, _, _ in self.groups:
            for n in names:
                if self.group_of[n] == g:
                    visit(n, [])
        # groups must not depend on later groups
        rank = {g: i for i, (g, _, _) in enumerate(self.groups)}
        for n in order:
            for x in self.m.defs[n].deps():
                if rank[self.group_of[x]] > rank[self.group_of[n]]:
                    raise GenError("%s (%s) depends on %s (%s)" % (
                        n, self.group_of[n], x, self.group_of[x]))
        return order

    # -- header text for one definition
    def decl(self, n):
        d = self.m.defs[n]
        out = []
        if isinstance(d, Alias):
            out += self.type_doc(d)
            out.append("using %s = %s;" % (n, d.target.cpp()))
            return out
        if isinstance(d, Enum):
            return self.decl_enum(d)
        if isinstance(d, Union):
            return self.decl_union(d)
        return self.decl_struct(d)

    def decl_enum(self, e):
        out = self.type_doc(e)
        wires = " | ".join('"%s"' % w for w, _ in e.values)
        if len(wires) < 90:
            out.append("/// Wire values: `%s`." % wires)
        out.append("struct %s {" % e.name)
        out.append("  /// The known values, then `unknown` for any other wire string.")
        out.append("  enum Value : std::uint8_t {")
        for (wire, doc), c in zip(e.values, e.cpp):
            if c == "unknown":
                continue
            first = (doc or "").strip().split("\n")[0]
            out.append("    %s,  ///< `\"%s\"`%s" % (c, wire, (" " + first) if first else ""))
        if e.has_unknown_wire:
            out.append("    unknown,  ///< `\"unknown\"`, or a value this SDK does not know (see "
                       "`raw`)")
        else:
            out.append("    unknown,  ///< a value this SDK does not know (see `raw`)")
        out.append("  };")
        out.append("  Value value = unknown;  ///< the value (`unknown`: see `raw`)")
        out.append("  std::string raw;  ///< the wire string when `value == unknown`")
        out.append("")
        out.append("  /// `unknown`, with an empty `raw`.")
        out.append("  %s() = default;" % e.name)
        out.append("  /// A known value.")
        out.append("  %s(Value v) noexcept : value(v) {}" % e.name)
        out.append("  /// The wire string (`raw` for an unknown value).")
        out.append("  std::string_view wire() const noexcept;")
        out.append("  /// The value for a wire string (`unknown` + `raw` when not known).")
        out.append("  static %s from_wire(std::string_view s);" % e.name)
        out.append("  /// Equal when `value` and `raw` are.")
        out.append("  friend bool operator==(const %s&, const %s&) = default;" % (e.name, e.name))
        out += self.friend_convs(e.name, "enum")
        out.append("};")
        return out

    def decl_union(self, u):
        out = self.type_doc(u)
        if u.strategy == "tagged":
            out.append("/// Tagged by `%s`; an unknown `%s` is kept as `UnknownVariant`."
                       % (u.tag_key, u.tag_key))
        else:
            out.append("/// Recognised by shape; anything else is kept as `UnknownVariant`.")
        alts = [a.type.cpp() for a in u.alts] + ["UnknownVariant"]
        base = "OneOf<%s>" % ", ".join(alts)
        out.append("struct %s : %s {" % (u.name, base))
        out.append("  using OneOf::OneOf;")
        out += self.special_member_decls(u.name, alts[0])
        out.append("  /// Equal when the same alternative holds equal values.")
        out.append("  friend bool operator==(const %s&, const %s&) = default;" % (u.name, u.name))
        out += self.friend_convs(u.name, "union")
        out.append("};")
        return out

    def decl_struct(self, st):
        out = self.type_doc(st) if not (st.tag or st.external) or st.doc else []
        if st.tag:
            out.append("/// Variant `%s: \"%s\"` of `%s`." % (st.tag[0], st.tag[1], st.union))
        if st.external:
            out.append("/// Variant `{\"%s\": ...}` of `%s`." % (st.external, st.union))
        out.append("struct %s {" % st.name)
        for f in st.fields:
            out += wrap_doc(self.field_doc(f), 2)
            init = ""
            if f.wrapper() == "plain":
                if f.type.kind == "int" or f.type.kind == "double":
                    init = " = 0"
                elif f.type.kind == "bool":
                    init = " = false"
            out.append("  %s %s%s;" % (f.cpp_type(), f.cpp, init))
        if st.extra:
            out.append("  /// Properties not listed above (the schema allows any).")
            out.append("  boost::json::object extra;")
        out.append("")
        out.append("  /// Member-wise equality.")
        out.append("  friend bool operator==(const %s&, const %s&) = default;" % (st.name, st.name))
        out += self.friend_convs(st.name, "struct")
        out.append("};")
        return out

    @staticmethod
    def special_member_decls(n, first):
        # Out of line (defined in the library): code that copies, moves or destroys a union
        # does not instantiate the variant machinery of all its alternatives (and, through
        # them, of every type they contain) in each translation unit.
        return [
            "  /// Holds a value-initialized `%s` (the first alternative)." % first,
            "  %s();" % n,
            "  /// Copies the active alternative of `other`.",
            "  %s(const %s& other);" % (n, n),
            "  /// Moves the active alternative of `other` in.",
            "  %s(%s&& other) noexcept;" % (n, n),
            "  /// Copies the active alternative of `other`.",
            "  %s& operator=(const %s& other);" % (n, n),
            "  /// Moves the active alternative of `other` in.",
            "  %s& operator=(%s&& other) noexcept;" % (n, n),
            "  /// Destroys the active alternative.",
            "  ~%s();" % n,
        ]

    @staticmethod
    def special_member_defs(n):
        # Copies and moves go through emplace<I>: libstdc++'s own variant copy/move
        # constructors build the alternative through an O(I)-deep chain of constructors, which
        # costs O(N^2) instantiations for a variant of N alternatives (N = 85 here).
        return [
            "%s::%s() = default;" % (n, n),
            "%s::%s(const %s& other) : %s() { detail::copy_from(*this, other); }" % (n, n, n, n),
            "%s::%s(%s&& other) noexcept : %s() { detail::move_from(*this, other); }" % (
                n, n, n, n),
            "%s& %s::operator=(const %s& other) { return *this = %s(other); }" % (n, n, n, n),
            "%s& %s::operator=(%s&& other) noexcept {" % (n, n, n),
            "  if (this != &other) detail::move_from(*this, other);",
            "  return *this;",
            "}",
            "%s::~%s() = default;" % (n, n),
        ]

    @staticmethod
    def friend_convs(n, kind):
        # Hidden friends: found only by ADL on this type, so overload resolution of a call
        # never looks at the hundreds of other types (cheap for the library and for users).
        written = {
            "struct": "`x` as a wire object (absent optionals left out, explicit nulls kept).",
            "enum": "`x` as its wire string.",
            "union": "The active alternative as wire JSON (an `UnknownVariant` as received).",
        }[kind]
        return [
            "  /// Reads `out` from `v` leniently (never throws on content); false on a mismatch,",
            "  /// with the first problem in `error` when given.",
            "  friend bool from_json(const boost::json::value& v, %s& out, ParseError* error);" % n,
            "  /// " + written,
            "  friend boost::json::value to_json(const %s& x);" % n,
        ]

    # -- files
    def header_prelude(self, what):
        return [
            "// Generated by tools/codegen/generate_types.py from the app-server JSON Schema of",
            "// codex-cli %s. Do not edit: regenerate (see docs/types.md)." % CLI_VERSION,
            "// clang-format off",
            "#pragma once",
            "",
            "/// @file",
            "/// @brief %s" % what,
            "",
        ]

    def gen_fwd(self):
        out = self.header_prelude("Forward declarations of every generated protocol type.")
        out += ["namespace codex::types {", "",
                "struct ParseError;", "struct UnknownVariant;",
                "template <class T>", "class Nullable;", ""]
        for n in self.order:
            d = self.m.defs[n]
            if not isinstance(d, Alias):
                out.append("struct %s;" % n)
        out += ["", "struct Notification;", "struct NotificationPayload;",
                "struct ServerRequestPayload;", "", "}  // namespace codex::types", ""]
        return "\n".join(out)

    def gen_group_header(self, gi):
        g, fname, what = self.groups[gi]
        out = self.header_prelude(what)
        incs = ["codex/types/support.hpp", "codex/types/types_fwd.hpp"]
        if gi > 0:
            incs = ["codex/types/" + self.groups[gi - 1][1]]
        out += ['#include "%s"' % i for i in incs]
        out += ["", "#include <cstdint>", "#include <map>", "#include <optional>",
                "#include <string>", "#include <string_view>", "#include <variant>",
                "#include <vector>", ""]
        if g == "core":
            out += ["#include <boost/json/value.hpp>", ""]
        out += ["namespace codex::types {", ""]
        names = [n for n in self.order if self.group_of[n] == g]
        for n in names:
            out += self.decl(n)
            out.append("")
        if g == "notifications":
            out += self.notification_api()
        if g == "server_requests":
            out += self.server_request_api()
        if g == "client_requests":
            out += self.client_request_api()
        out += ["}  // namespace codex::types", ""]
        return "\n".join(out)

    def notif_types(self):
        seen, out = set(), []
        for _, p, _ in self.s.notifications:
            if p and p not in seen:
                seen.add(p)
                out.append(p)
        return out

    def notification_api(self):
        types = self.notif_types()
        out = [
            "/// The typed params of a server notification: `std::monostate` for a method this SDK",
            "/// does not know (the raw params are in `Notification::params`).",
            "struct NotificationPayload : OneOf<std::monostate,",
        ]
        for i, t in enumerate(types):
            out.append("                                    %s%s" % (
                t, "> {" if i == len(types) - 1 else ","))
        out += ["  using OneOf::OneOf;"]
        out += self.special_member_decls("NotificationPayload", "std::monostate")
        out += [
            "};",
            "",
            "/// A server notification: its method, its typed payload and its raw params.",
            "struct Notification {",
            "  std::string method;           ///< e.g. `turn/completed`",
            "  NotificationPayload payload;  ///< monostate for an unknown method",
            "  boost::json::object params;   ///< the params as received",
            "  /// False when the params of a known method lacked a required field or had a wrong",
            "  /// type (the payload is then filled as far as possible).",
            "  bool well_formed = true;",
            "};",
            "",
            "/// Builds a `Notification` (takes ownership of `params`). Never throws on content:",
            "/// unknown methods give a monostate payload, unknown fields are ignored.",
            "Notification parse_notification(std::string method, boost::json::object params,",
            "                                ParseError* error = nullptr);",
            "",
            "/// The typed payload for `method` (monostate for an unknown method).",
            "NotificationPayload parse_notification_params(std::string_view method,",
            "                                              const boost::json::value& params,",
            "                                              ParseError* error = nullptr);",
            "",
            "/// The methods of the notifications this SDK knows (%d), in schema order." % len(
                self.s.notifications),
            "extern const std::string_view known_notification_methods[%d];" % len(
                self.s.notifications),
            "",
        ]
        return out

    def server_request_api(self):
        out = [
            "/// The typed params of a server-to-client request (monostate for an unknown method).",
            "struct ServerRequestPayload : OneOf<std::monostate,",
        ]
        for i, (m, p, r, _) in enumerate(self.s.server_requests):
            out.append("                                     %s%s" % (
                p, "> {" if i == len(self.s.server_requests) - 1 else ","))
        out += ["  using OneOf::OneOf;"]
        out += self.special_member_decls("ServerRequestPayload", "std::monostate")
        out += [
            "};",
            "",
            "/// The typed params of a server request `method` (monostate for an unknown method).",
            "ServerRequestPayload parse_server_request(std::string_view method,",
            "                                          const boost::json::value& params,",
            "                                          ParseError* error = nullptr);",
            "",
            "/// The methods of the server requests this SDK knows (%d), in schema order." % len(
                self.s.server_requests),
            "extern const std::string_view known_server_request_methods[%d];" % len(
                self.s.server_requests),
            "",
            "/// Method traits of the server-to-client requests: `name`, `params`, `result`.",
            "namespace methods {",
        ]
        for m, p, r, doc in self.s.server_requests:
            out += wrap_doc(doc_text(method_doc(doc)), 0)
            out.append("/// Traits of the `%s` server request." % m)
            out.append("struct %s {" % method_struct_name(m))
            out.append("  static constexpr std::string_view name = %s;  ///< the method" % cstr(m))
            out.append("  using params = %s;  ///< what the server sends" % p)
            out.append("  using result = %s;  ///< what the client replies" % r)
            out.append("};")
        out += ["}  // namespace methods", ""]
        out += ["/// Every server request above, as a `method_list` of `methods::` traits.",
                "using server_request_methods = method_list<"]
        out += self.list_lines([method_struct_name(m) for m, _, _, _ in self.s.server_requests])
        out += [""]
        return out

    @staticmethod
    def list_lines(names):
        return ["    methods::%s%s" % (n, ">;" if i == len(names) - 1 else ",")
                for i, n in enumerate(names)]

    def client_request_api(self):
        out = ["/// Method traits of the client requests: `name`, `params` (void when the method",
               "/// takes none), `result`.",
               "namespace methods {"]
        for m, p, pnull, r, doc in self.s.client_requests:
            out += wrap_doc(doc_text(method_doc(doc)), 0)
            out.append("/// Traits of the `%s` request." % m)
            out.append("struct %s {" % method_struct_name(m))
            out.append("  static constexpr std::string_view name = %s;  ///< the method" % cstr(m))
            out.append("  using params = %s;  ///< %s" % (
                p or "void", "the params (null params are allowed too)" if pnull else
                "the params" if p else "none: the method takes no params"))
            out.append("  using result = %s;  ///< the result" % r)
            out.append("};")
        out += ["}  // namespace methods", ""]
        out += ["/// Every typed client request above, as a `method_list` of `methods::` traits.",
                "using client_request_methods = method_list<"]
        out += self.list_lines([method_struct_name(m) for m, _, _, _, _ in self.s.client_requests])
        out += [""]
        return out

    def gen_umbrella(self):
        out = self.header_prelude(
            "All generated protocol types (codex::types) and their JSON conversions.")
        out += ['#include "codex/types/%s"' % self.groups[-1][1], ""]
        return "\n".join(out)

    def gen_support(self):
        text = SUPPORT_HPP.replace("@CLI_VERSION@", CLI_VERSION).replace("@SHA@", self.sha)
        return "\n".join(self.header_prelude(
            "Building blocks of the generated types: Nullable, UnknownVariant, ParseError.")
        ) + text

    # -- library code
    def gen_struct_conv(self, st):
        n = st.name
        out = ["bool from_json(const json::value& v, %s& out, ParseError* error) {" % n]
        src = "v"
        if st.external:
            out.append("  detail::Reader outer(v, error);")
            out.append("  if (!outer) return false;")
            if st.flatten:
                out.append("  const json::value* inner = outer.find(%s);" % cstr(st.external))
                out.append("  if (!inner) return outer.missing(%s);" % cstr(st.external))
                out.append("  detail::Reader r(*inner, error);")
                out.append("  if (!r) return outer.failed(%s);" % cstr(st.external))
            else:
                f = st.fields[0]
                out.append("  outer.%s(%s, out.%s);" % (
                    "req", cstr(f.wire), f.cpp))
                out.append("  return outer.ok();")
                out.append("}")
                return out + self.gen_struct_write(st)
        else:
            out.append("  detail::Reader r(%s, error);" % src)
            out.append("  if (!r) return false;")
            if not st.fields and not st.extra:
                out.append("  (void)out;")
        for f in st.fields:
            fn = "req" if f.required else "opt"
            out.append("  r.%s(%s, out.%s);" % (fn, cstr(f.wire), f.cpp))
        if st.extra:
            keys = ", ".join(cstr(f.wire) for f in st.fields)
            out.append("  static constexpr std::string_view known[] = {%s};" % keys)
            out.append("  r.rest(out.extra, known);")
        if st.external and st.flatten:
            out.append("  if (!r.ok()) return outer.failed(%s);" % cstr(st.external))
            out.append("  return true;")
        else:
            out.append("  return r.ok();")
        out.append("}")
        return out + self.gen_struct_write(st)

    def gen_struct_write(self, st):
        n = st.name
        out = ["json::value to_json(const %s& x) {" % n]
        count = len(st.fields) + (1 if st.tag else 0)
        out.append("  detail::Writer w(%d);" % count)
        if st.tag:
            out.append("  w.tag(%s, %s);" % (cstr(st.tag[0]), cstr(st.tag[1])))
        if not st.fields and not st.extra:
            out.append("  (void)x;")
        for f in st.fields:
            fn = {"plain": "req", "optional": "req_or_null" if f.required else "opt",
                  "nullable": "opt"}[f.wrapper()]
            out.append("  w.%s(%s, x.%s);" % (fn, cstr(f.wire), f.cpp))
        if st.extra:
            out.append("  w.rest(x.extra);")
        if st.external:
            if st.flatten:
                out.append("  return detail::wrap(%s, w.done());" % cstr(st.external))
            else:
                out = ["json::value to_json(const %s& x) {" % n,
                       "  detail::Writer w(1);"]
                f = st.fields[0]
                fn = "req_or_null" if f.nullable else "req"
                out.append("  w.%s(%s, x.%s);" % (fn, cstr(f.wire), f.cpp))
                out.append("  return w.done();")
                out.append("}")
                return out
        else:
            out.append("  return w.done();")
        out.append("}")
        return out

    def gen_enum_conv(self, e):
        n = e.name
        out = ["namespace {",
               "constexpr std::string_view %s_wire[] = {" % n]
        known = [(w, c) for (w, _), c in zip(e.values, e.cpp)]
        for w, c in known:
            if c != "unknown":
                out.append("    %s," % cstr(w))
        out.append("};")
        out.append("}  // namespace")
        out.append("std::string_view %s::wire() const noexcept {" % n)
        if e.has_unknown_wire:
            out.append('  if (value == unknown) return raw.empty() ? std::string_view("unknown") '
                       ': std::string_view(raw);')
        else:
            out.append("  if (value == unknown) return raw;")
        out.append("  return %s_wire[value];" % n)
        out.append("}")
        out.append("%s %s::from_wire(std::string_view s) {" % (n, n))
        out.append("  %s out;" % n)
        out.append("  out.value = static_cast<Value>(detail::find_wire(%s_wire, s));" % n)
        if e.has_unknown_wire:
            out.append('  if (out.value == unknown && s != "unknown") out.raw = s;')
        else:
            out.append("  if (out.value == unknown) out.raw = s;")
        out.append("  return out;")
        out.append("}")
        out.append("bool from_json(const json::value& v, %s& out, ParseError* error) {" % n)
        out.append("  const json::string* s = v.if_string();")
        out.append('  if (!s) return detail::fail(error, "expected a string");')
        out.append("  out = %s::from_wire(*s);" % n)
        out.append("  return true;")
        out.append("}")
        out.append("json::value to_json(const %s& x) { return json::string(x.wire()); }" % n)
        return out

    def gen_union_conv(self, u):
        n = u.name
        out = self.special_member_defs(n)
        out += ["bool from_json(const json::value& v, %s& out, ParseError* error) {" % n]
        if u.strategy == "tagged":
            out.append("  const json::string* tag = detail::tag_of(v, %s);" % cstr(u.tag_key))
            out.append("  if (tag) {")
            out.append("    const std::string_view t = *tag;")
            for i, a in enumerate(u.alts):
                out.append("    if (t == %s) return detail::emplace<%d>(v, out, error);" % (
                    cstr(a.tag_value), i))
            out.append("  }")
            out.append("  return detail::keep_unknown_tagged(v, out, tag, error);")
        else:
            out.append("  int best = -1, score = -1;")
            for i, a in enumerate(u.alts):
                seen = set()
                for kinds, req, tags in a.conds:
                    key = (tuple(sorted(kinds)), tuple(req),
                           tuple((k, tuple(v)) for k, v in sorted(tags.items())))
                    if key in seen:
                        continue
                    seen.add(key)
                    mask = " | ".join("detail::k_%s" % k for k in sorted(kinds))
                    keys = "{%s}" % ", ".join(cstr(k) for k in req)
                    tagl = "{%s}" % ", ".join(
                        "{%s, {%s}}" % (cstr(k), ", ".join(cstr(x) for x in vs))
                        for k, vs in sorted(tags.items()))
                    if not req and not tags:
                        out.append("  detail::consider(%d, detail::match(v, %s), best, score);"
                                   % (i, mask))
                    elif not tags:
                        out.append("  detail::consider(%d, detail::match(v, %s, %s), best, score);"
                                   % (i, mask, keys))
                    else:
                        out.append("  detail::consider(%d, detail::match(v, %s, %s, %s), best, "
                                   "score);" % (i, mask, keys, tagl))
            out.append("  switch (best) {")
            for i, a in enumerate(u.alts):
                out.append("    case %d: return detail::emplace<%d>(v, out, error);  // %s" % (
                    i, i, a.type.cpp()))
            out.append("    default: return detail::keep_unknown(v, out);")
            out.append("  }")
        out.append("}")
        out.append("json::value to_json(const %s& x) { return detail::write_variant(x); }" % n)
        return out

    def gen_conv(self, n):
        d = self.m.defs[n]
        if isinstance(d, Enum):
            return self.gen_enum_conv(d)
        if isinstance(d, Union):
            return self.gen_union_conv(d)
        return self.gen_struct_conv(d)

    def gen_method_tables(self):
        """The known methods, in a unit of their own: `codex::MethodName` reads them, and a
        program that links it must not pull in the conversions with them."""
        out = ["// Generated by tools/codegen/generate_types.py from the app-server JSON Schema of",
               "// codex-cli %s. Do not edit: regenerate (see docs/types.md)." % CLI_VERSION,
               "// clang-format off",
               "// The methods of the notifications and server requests, in a unit of their own",
               "// (codex::MethodName reads them; linking them pulls in no conversion). constinit:",
               "// a client made by a static initializer elsewhere reads them before dynamic",
               "// initialization would reach this unit.",
               "#include <string_view>",
               "",
               "namespace codex::types {",
               ""]
        for name, methods in (("known_notification_methods",
                               [m for m, _, _ in self.s.notifications]),
                              ("known_server_request_methods",
                               [m for m, _, _, _ in self.s.server_requests])):
            out.append("extern const std::string_view %s[%d];" % (name, len(methods)))
            out.append("constinit const std::string_view %s[%d] = {" % (name, len(methods)))
            for m in methods:
                out.append("    %s," % cstr(m))
            out.append("};")
            out.append("")
        out += ["}  // namespace codex::types", ""]
        return out

    def gen_notification_dispatch(self):
        out = self.special_member_defs("NotificationPayload") + [""]
        out.append("NotificationPayload parse_notification_params(std::string_view method,")
        out.append("                                              const json::value& params,")
        out.append("                                              ParseError* error) {")
        out.append("  NotificationPayload out;")
        index = {t: i + 1 for i, t in enumerate(self.notif_types())}
        for m, p, _ in self.s.notifications:
            if p:
                out.append("  if (method == %s) {" % cstr(m))
                out.append("    from_json(params, out.emplace<%d>(), error);  // %s" % (
                    index[p], p))
                out.append("    return out;")
                out.append("  }")
        out.append("  return out;")
        out.append("}")
        out.append("")
        out += [
            "Notification parse_notification(std::string method, json::object params,",
            "                                ParseError* error) {",
            "  Notification n;",
            "  n.method = std::move(method);",
            "  // from_json reads a json::value: move the object in and back out (no copy).",
            "  json::value holder(std::move(params));",
            "  ParseError local;",
            "  n.payload = parse_notification_params(n.method, holder, &local);",
            "  n.params = std::move(holder.as_object());",
            "  n.well_formed = local.message.empty();",
            "  if (error && error->message.empty() && !n.well_formed) *error = std::move(local);",
            "  return n;",
            "}",
        ]
        return out

    def gen_server_request_dispatch(self):
        out = self.special_member_defs("ServerRequestPayload") + [""]
        out.append("ServerRequestPayload parse_server_request(std::string_view method,")
        out.append("                                          const json::value& params,")
        out.append("                                          ParseError* error) {")
        out.append("  ServerRequestPayload out;")
        for i, (m, p, _, _) in enumerate(self.s.server_requests, 1):
            out.append("  if (method == %s) {" % cstr(m))
            out.append("    from_json(params, out.emplace<%d>(), error);  // %s" % (i, p))
            out.append("    return out;")
            out.append("  }")
        out.append("  return out;")
        out.append("}")
        return out

    def weight(self, n):
        d = self.m.defs[n]
        if isinstance(d, Struct):
            return 4 + 2 * len(d.fields)
        if isinstance(d, Union):
            return 6 + 3 * len(d.alts)
        if isinstance(d, Enum):
            return 6
        return 0

    def lib_units(self):
        """[(group index, [type names])]: each group split into chunks of about equal size."""
        names = [n for n in self.order if not isinstance(self.m.defs[n], Alias)]
        total = sum(self.weight(n) for n in names)
        target = total / LIB_UNITS
        units = []
        for gi, (g, _, _) in enumerate(self.groups):
            mine = [n for n in names if self.group_of[n] == g]
            w = sum(self.weight(n) for n in mine)
            k = max(1, int(round(w / target)))
            per = w / k
            cur, acc = [], 0
            for n in mine:
                cur.append(n)
                acc += self.weight(n)
                if acc >= per and len(cur) and k > 1:
                    units.append((gi, cur))
                    cur, acc, k = [], 0, k - 1
            if cur:
                units.append((gi, cur))
            if g == "notifications":
                units.append((gi, []))  # the notification dispatch alone (it is the costliest)
        return units

    def gen_lib(self):
        files = {}
        units = self.lib_units()
        last_of = {}
        for i, (gi, _) in enumerate(units, 1):
            last_of[gi] = i
        for i, (gi, names) in enumerate(units, 1):
            out = ["// Generated by tools/codegen/generate_types.py from the app-server JSON Schema "
                   "of",
                   "// codex-cli %s. Do not edit: regenerate (see docs/types.md)." % CLI_VERSION,
                   "// clang-format off",
                   "// Conversions %d of %d (%s)." % (i, len(units), self.groups[gi][0]),
                   '#include "codex/types/%s"' % self.groups[gi][1],
                   "",
                   '#include "convert.hpp"',
                   "",
                   "namespace codex::types {",
                   ""]
            for n in names:
                out += self.gen_conv(n)
                out.append("")
            if i == 1:
                out += [
                    "bool from_json(const json::value& v, UnknownVariant& out, ParseError*) {",
                    "  out.raw = v;",
                    "  out.type.clear();",
                    "  return true;",
                    "}",
                    "json::value to_json(const UnknownVariant& x) { return x.raw; }",
                    ""]
            if self.groups[gi][0] == "notifications" and not names:
                out += self.gen_notification_dispatch()
                out.append("")
            if self.groups[gi][0] == "server_requests" and last_of[gi] == i:
                out += self.gen_server_request_dispatch()
                out.append("")
            out += ["}  // namespace codex::types", ""]
            files["types_%d.cpp" % i] = "\n".join(out)
        files["methods.cpp"] = "\n".join(self.gen_method_tables())
        files["convert.hpp"] = "\n".join([
            "// Generated by tools/codegen/generate_types.py (static part). Do not edit.",
            "// clang-format off"]) + CONVERT_HPP
        cm = ["# Generated by tools/codegen/generate_types.py. Do not edit.",
              "# The generated Boost.JSON conversions of codex::types (include() this file).",
              "set(CODEX_TYPES_SOURCES"]
        for i in range(1, len(units) + 1):
            cm.append("    ${CMAKE_CURRENT_LIST_DIR}/types_%d.cpp" % i)
        cm.append("    ${CMAKE_CURRENT_LIST_DIR}/methods.cpp")
        cm.append(")")
        cm.append("")
        files["sources.cmake"] = "\n".join(cm)
        return files

    def gen_include(self):
        files = {"support.hpp": self.gen_support(), "types_fwd.hpp": self.gen_fwd(),
                 "types.hpp": self.gen_umbrella()}
        for gi, (_, fname, _) in enumerate(self.groups):
            files[fname] = self.gen_group_header(gi)
        return files


# ----------------------------------------------------------------------------------------------
# static text

SUPPORT_HPP = r'''
#include <boost/json/fwd.hpp>
#include <boost/json/value.hpp>

#include <concepts>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

/// @namespace codex::types
/// @brief The typed protocol models, generated from the app-server JSON Schema of the pinned
/// Codex CLI (see docs/types.md): plain structs, enum structs and `OneOf` unions, each with a
/// lenient `from_json` and a `to_json` that writes the wire names.

namespace codex::types {

/// The codex-cli version whose `app-server generate-json-schema` output these types come from.
inline constexpr std::string_view schema_cli_version = "@CLI_VERSION@";
/// SHA-256 of that schema (`codex_app_server_protocol.schemas.json`, canonical JSON).
inline constexpr std::string_view schema_sha256 = "@SHA@";

/// A compile-time list of `methods::` traits (see `client_request_methods`).
template <class... Methods>
struct method_list {};

/// Free-form JSON (`any` in the schema).
using JsonValue = boost::json::value;

/// A property that may be absent *or* null. Like `std::optional<T>` (absent and null both
/// read as "no value": `has_value()`, `operator bool`, `*`, `->`, `value_or`), but it also
/// remembers an explicit JSON `null`: on output an absent value is omitted and a null one is
/// written as `null` (some requests give null a meaning of its own: "clear this field").
template <class T>
class Nullable {
 public:
  using value_type = T;  ///< the type of the value

  /// Absent.
  Nullable() = default;
  /// Absent.
  Nullable(std::nullopt_t) noexcept {}
  /// An explicit `null`.
  Nullable(std::nullptr_t) noexcept : null_(true) {}
  /// A copy of `v`.
  Nullable(const T& v) : v_(v) {}
  /// `v`, moved in.
  Nullable(T&& v) : v_(std::move(v)) {}
  /// A value constructed from `v` (anything `T` is constructible from).
  template <class U>
    requires(std::is_constructible_v<T, U &&> &&
             !std::is_same_v<std::remove_cvref_t<U>, Nullable> &&
             !std::is_same_v<std::remove_cvref_t<U>, T> &&
             !std::is_same_v<std::remove_cvref_t<U>, std::nullptr_t> &&
             !std::is_same_v<std::remove_cvref_t<U>, std::nullopt_t>)
  Nullable(U&& v) : v_(std::in_place, std::forward<U>(v)) {}

  /// Makes it an explicit `null`.
  Nullable& operator=(std::nullptr_t) noexcept {
    v_.reset();
    null_ = true;
    return *this;
  }
  /// Makes it absent.
  Nullable& operator=(std::nullopt_t) noexcept {
    reset();
    return *this;
  }

  /// True when there is a value (neither absent nor `null`).
  bool has_value() const noexcept { return v_.has_value(); }
  /// `has_value()`.
  explicit operator bool() const noexcept { return v_.has_value(); }
  /// True when the value is an explicit `null`.
  bool is_null() const noexcept { return null_; }
  /// True when the value is absent (neither a value nor `null`).
  bool is_absent() const noexcept { return !v_ && !null_; }

  /// The value (undefined behaviour without one, as for `std::optional`).
  T& operator*() & noexcept { return *v_; }
  /// The value (undefined behaviour without one, as for `std::optional`).
  const T& operator*() const& noexcept { return *v_; }
  /// The value's members (undefined behaviour without one).
  T* operator->() noexcept { return &*v_; }
  /// The value's members (undefined behaviour without one).
  const T* operator->() const noexcept { return &*v_; }
  /// The value; throws `std::bad_optional_access` without one.
  T& value() & { return v_.value(); }
  /// The value; throws `std::bad_optional_access` without one.
  const T& value() const& { return v_.value(); }
  /// The value, or `fallback` when absent or `null`.
  template <class U>
  T value_or(U&& fallback) const& {
    return v_.value_or(std::forward<U>(fallback));
  }
  /// Constructs a value in place from `a` (no longer `null`) and returns it.
  template <class... A>
  T& emplace(A&&... a) {
    null_ = false;
    return v_.emplace(std::forward<A>(a)...);
  }
  /// Makes the value absent (not null).
  void reset() noexcept {
    v_.reset();
    null_ = false;
  }
  /// The value as an `std::optional` (null and absent both empty).
  const std::optional<T>& as_optional() const noexcept { return v_; }

  /// Equal when both hold equal values, both are `null`, or both are absent.
  friend bool operator==(const Nullable&, const Nullable&) = default;

 private:
  std::optional<T> v_;
  bool null_ = false;  // only ever true while v_ is empty
};

namespace detail {
/// `E` is the `Value` enumeration of the generated enum struct `T`.
template <class E, class T>
concept enum_value_of = requires { typename T::Value; } && std::is_same_v<E, typename T::Value>;

template <class E, class... Ts>
struct enum_alternative;  // the alternative whose `Value` is E
template <class E, class T, class... Ts>
struct enum_alternative<E, T, Ts...> {
  using type = typename std::conditional_t<enum_value_of<E, T>, std::type_identity<T>,
                                           enum_alternative<E, Ts...>>::type;
};
}  // namespace detail

/// Base of the generated unions: an `std::variant<Ts...>` (so `std::visit`, `std::get_if`,
/// `std::holds_alternative` and `index()` work) that converts implicitly from exactly its
/// alternatives. (Not `using variant::variant`: its converting constructor is costly to check in
/// overload resolution, and every `to_json` call would pay for it.)
template <class... Ts>
class OneOf : public std::variant<Ts...> {
 public:
  using variant_type = std::variant<Ts...>;  ///< the base variant

  /// Holds a value-initialized first alternative.
  OneOf() = default;
  /// Holds `a` (copied or moved), which must be one of the alternatives exactly.
  template <class A>
    requires(std::is_same_v<std::remove_cvref_t<A>, Ts> || ...)
  OneOf(A&& a) : variant_type(std::forward<A>(a)) {}
  /// From an enumerator of the (one) enum alternative, e.g.
  /// `AskForApproval p = AskForApprovalValue::on_request;`.
  template <class E>
    requires(std::is_enum_v<E> && (detail::enum_value_of<E, Ts> + ...) == 1)
  OneOf(E e)
      : variant_type(std::in_place_type<typename detail::enum_alternative<E, Ts...>::type>, e) {}
  /// Holds an `A` constructed in place from `args`.
  template <class A, class... Args>
  explicit OneOf(std::in_place_type_t<A> t, Args&&... args)
      : variant_type(t, std::forward<Args>(args)...) {}

  /// The variant itself.
  variant_type& as_variant() noexcept { return *this; }
  /// The variant itself.
  const variant_type& as_variant() const noexcept { return *this; }

  /// Equal when the same alternative holds equal values.
  friend bool operator==(const OneOf&, const OneOf&) = default;
};

/// The first place where a lenient parse met input that does not match the schema. Parsing goes
/// on after it (the result is filled as far as possible); unknown fields, enum values and union
/// variants are not problems.
struct ParseError {
  std::string path;     ///< JSON Pointer into the parsed value, e.g. `/turn/items/2/id`
  std::string message;  ///< e.g. `missing required field`
};

/// A union member this SDK version does not know (a newer server): the JSON is kept whole and
/// written back unchanged.
struct UnknownVariant {
  /// The discriminator: the `type` (or other tag) of a tagged union, else empty.
  std::string type;
  boost::json::value raw;  ///< the value as received
  /// Member-wise equality.
  friend bool operator==(const UnknownVariant&, const UnknownVariant&) = default;
  /// Keeps `v` whole in `raw` (clears `type`); always true.
  friend bool from_json(const boost::json::value& v, UnknownVariant& out, ParseError* error);
  /// `raw`, unchanged.
  friend boost::json::value to_json(const UnknownVariant& x);
};


// Every generated type T has (as hidden friends, found by argument-dependent lookup):
//   bool from_json(const boost::json::value& v, T& out, ParseError* error);
//   boost::json::value to_json(const T& x);
// from_json never throws on content: see ParseError. to_json writes wire names.

/// `from_json(v, out)`: from_json without error details.
template <class T>
  requires requires(const boost::json::value& v, T& x) {
    { from_json(v, x, static_cast<ParseError*>(nullptr)) } -> std::same_as<bool>;
  }
bool from_json(const boost::json::value& v, T& out) {
  return from_json(v, out, static_cast<ParseError*>(nullptr));
}

/// Parses `v` as a `T` (lenient, never throws on content); `error` receives the first problem.
template <class T>
T parse(const boost::json::value& v, ParseError* error = nullptr) {
  T out;
  from_json(v, out, error);
  return out;
}

/// `boost::json::value_from(x)` for every generated type.
template <class T>
  requires requires(const T& x) {
    { to_json(x) } -> std::same_as<boost::json::value>;
  }
void tag_invoke(const boost::json::value_from_tag&, boost::json::value& v, const T& x) {
  v = to_json(x);
}

/// `boost::json::value_to<T>(v)` for every generated type: lenient like `parse<T>`.
template <class T>
  requires requires(const boost::json::value& v, T& x) {
    { from_json(v, x, static_cast<ParseError*>(nullptr)) } -> std::same_as<bool>;
  }
T tag_invoke(const boost::json::value_to_tag<T>&, const boost::json::value& v) {
  T out;
  from_json(v, out, static_cast<ParseError*>(nullptr));
  return out;
}

}  // namespace codex::types
'''

CONVERT_HPP = r'''
// Private helpers of the generated conversions (lib/types only).
#pragma once

#include "codex/types/support.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace codex::types {
namespace json = boost::json;
namespace detail {

// ---- errors: record the first problem; each level on its path prepends its segment.

inline bool fail(ParseError* e, std::string_view message) {
  if (e && e->message.empty()) {
    e->message = message;
    e->path.clear();
  }
  return false;
}

inline void escape_into(std::string& out, std::string_view key) {
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
}

/// Tracks whether the first error was recorded below this level (then prepends one segment).
class Level {
 public:
  explicit Level(ParseError* e) noexcept : e_(e), fresh_(e && e->message.empty()) {}
  void child_failed(std::string_view key) {
    ok_ = false;
    if (!take()) return;
    std::string seg = "/";
    escape_into(seg, key);
    e_->path.insert(0, seg);
  }
  void child_failed(std::size_t index) {
    ok_ = false;
    if (!take()) return;
    e_->path.insert(0, "/" + std::to_string(index));
  }
  bool ok() const noexcept { return ok_; }
  ParseError* error() const noexcept { return e_; }

 private:
  bool take() {
    if (!fresh_ || done_ || e_->message.empty()) return false;
    done_ = true;
    return true;
  }
  ParseError* e_;
  bool fresh_;
  bool done_ = false;
  bool ok_ = true;
};

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
template <class T>
struct is_map : std::false_type {};
template <class T>
struct is_map<std::map<std::string, T>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_nullable : std::false_type {};
template <class T>
struct is_nullable<Nullable<T>> : std::true_type {};

// ---- reading one value

template <class T>
bool read(const json::value& v, T& out, ParseError* e) {
  if constexpr (std::is_same_v<T, std::string>) {
    const json::string* s = v.if_string();
    if (!s) return fail(e, "expected a string");
    out.assign(s->data(), s->size());
    return true;
  } else if constexpr (std::is_same_v<T, bool>) {
    const bool* b = v.if_bool();
    if (!b) return fail(e, "expected a boolean");
    out = *b;
    return true;
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    if (const std::int64_t* i = v.if_int64()) {
      out = *i;
      return true;
    }
    if (const std::uint64_t* u = v.if_uint64()) {
      if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        out = std::numeric_limits<std::int64_t>::max();
        return fail(e, "integer out of range");
      }
      out = static_cast<std::int64_t>(*u);
      return true;
    }
    if (const double* d = v.if_double()) {
      if (*d >= -9.2e18 && *d <= 9.2e18 && static_cast<double>(static_cast<std::int64_t>(*d)) == *d) {
        out = static_cast<std::int64_t>(*d);
        return true;
      }
    }
    return fail(e, "expected an integer");
  } else if constexpr (std::is_same_v<T, double>) {
    if (!v.is_number()) return fail(e, "expected a number");
    out = v.to_number<double>();
    return true;
  } else if constexpr (std::is_same_v<T, json::value>) {
    out = v;
    return true;
  } else if constexpr (std::is_same_v<T, json::object>) {
    const json::object* o = v.if_object();
    if (!o) return fail(e, "expected an object");
    out = *o;
    return true;
  } else if constexpr (is_vector<T>::value) {
    const json::array* a = v.if_array();
    if (!a) return fail(e, "expected an array");
    out.clear();
    out.resize(a->size());
    Level level(e);
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (!read((*a)[i], out[i], e)) level.child_failed(i);
    }
    return level.ok();
  } else if constexpr (is_map<T>::value) {
    const json::object* o = v.if_object();
    if (!o) return fail(e, "expected an object");
    out.clear();
    Level level(e);
    for (const auto& kv : *o) {
      auto& slot = out[std::string(kv.key())];
      if (!read(kv.value(), slot, e)) level.child_failed(kv.key());
    }
    return level.ok();
  } else if constexpr (is_nullable<T>::value || is_optional<T>::value) {
    using U = typename T::value_type;
    // For free-form JSON, `null` is a value like any other (kept, and written back).
    if (v.is_null() && !std::is_same_v<U, json::value>) {
      if constexpr (is_nullable<T>::value) out = nullptr;
      else out.reset();
      return true;
    }
    if (read(v, out.emplace(), e)) return true;
    // A scalar or enum of the wrong JSON type leaves no value; an object keeps what was read.
    if constexpr (std::is_scalar_v<U> || std::is_same_v<U, std::string> ||
                  std::is_same_v<U, json::object> || requires { typename U::Value; }) {
      out.reset();
    }
    return false;
  } else {
    return from_json(v, out, e);
  }
}

// ---- writing one value

template <class T>
json::value write(const T& x) {
  if constexpr (std::is_same_v<T, std::string>) {
    return json::string(x);
  } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> ||
                       std::is_same_v<T, double>) {
    return json::value(x);
  } else if constexpr (std::is_same_v<T, json::value> || std::is_same_v<T, json::object>) {
    return json::value(x);
  } else if constexpr (is_vector<T>::value) {
    json::array a;
    a.reserve(x.size());
    for (const auto& e : x) a.push_back(write(e));
    return a;
  } else if constexpr (is_map<T>::value) {
    json::object o;
    o.reserve(x.size());
    for (const auto& [k, e] : x) o.emplace(k, write(e));
    return o;
  } else if constexpr (is_optional<T>::value || is_nullable<T>::value) {
    if (!x) return nullptr;
    return write(*x);
  } else {
    return to_json(x);
  }
}

// ---- objects

class Reader {
 public:
  Reader(const json::value& v, ParseError* e) : level_(e), o_(v.if_object()) {
    if (!o_) fail(e, "expected an object");
  }
  explicit operator bool() const noexcept { return o_ != nullptr; }
  const json::value* find(std::string_view key) const { return o_->if_contains(key); }
  template <class T>
  [[gnu::noinline]] void req(std::string_view key, T& field) {
    const json::value* p = o_->if_contains(key);
    if (!p) {
      missing(key);
      return;
    }
    if (!read(*p, field, level_.error())) level_.child_failed(key);
  }
  template <class T>
  [[gnu::noinline]] void opt(std::string_view key, T& field) {
    const json::value* p = o_->if_contains(key);
    if (p && !read(*p, field, level_.error())) level_.child_failed(key);
  }
  template <std::size_t N>
  void rest(json::object& extra, const std::string_view (&known)[N]) {
    extra.clear();
    for (const auto& kv : *o_) {
      bool is_known = false;
      for (std::string_view k : known) is_known = is_known || k == kv.key();
      if (!is_known) extra.emplace(kv.key(), kv.value());
    }
  }
  bool missing(std::string_view key) {
    fail(level_.error(), "missing required field");
    level_.child_failed(key);
    return false;
  }
  bool failed(std::string_view key) {
    level_.child_failed(key);
    return false;
  }
  bool ok() const noexcept { return level_.ok(); }

 private:
  Level level_;
  const json::object* o_;
};

class Writer {
 public:
  explicit Writer(std::size_t n) { o_.reserve(n); }
  void tag(std::string_view key, std::string_view value) { o_.emplace(key, value); }
  template <class T>
  [[gnu::noinline]] void req(std::string_view key, const T& x) {
    o_.emplace(key, write(x));
  }
  template <class T>
  [[gnu::noinline]] void req_or_null(std::string_view key, const std::optional<T>& x) {
    o_.emplace(key, write(x));
  }
  template <class T>
  [[gnu::noinline]] void opt(std::string_view key, const std::optional<T>& x) {
    if (x) o_.emplace(key, write(*x));
  }
  template <class T>
  [[gnu::noinline]] void opt(std::string_view key, const Nullable<T>& x) {
    if (x) o_.emplace(key, write(*x));
    else if (x.is_null()) o_.emplace(key, nullptr);
  }
  void rest(const json::object& extra) {
    for (const auto& kv : extra) {
      if (!o_.contains(kv.key())) o_.emplace(kv.key(), kv.value());
    }
  }
  json::value done() { return json::value(std::move(o_)); }

 private:
  json::object o_;
};

inline json::value wrap(std::string_view key, json::value inner) {
  json::object o;
  o.emplace(key, std::move(inner));
  return o;
}

// ---- enums

template <std::size_t N>
std::size_t find_wire(const std::string_view (&wires)[N], std::string_view s) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    if (wires[i] == s) return i;
  }
  return N;  // == the `unknown` enumerator
}

// ---- unions

inline const json::string* tag_of(const json::value& v, std::string_view key) {
  const json::object* o = v.if_object();
  if (!o) return nullptr;
  const json::value* t = o->if_contains(key);
  return t ? t->if_string() : nullptr;
}

/// Parses `v` as alternative I of the union `out` (by index: cheaper than by type).
template <std::size_t I, class U>
[[gnu::noinline]] bool emplace(const json::value& v, U& out, ParseError* e) {
  return read(v, out.template emplace<I>(), e);
}

template <class U, std::size_t... I>
void copy_from_impl(U& to, const U& from, std::index_sequence<I...>) {
  ((from.index() == I ? (void)to.template emplace<I>(std::get<I>(from)) : void()), ...);
}
template <class U, std::size_t... I>
void move_from_impl(U& to, U& from, std::index_sequence<I...>) {
  ((from.index() == I ? (void)to.template emplace<I>(std::move(std::get<I>(from))) : void()),
   ...);
}
/// Copies/moves the active alternative of `from` into `to` (a OneOf-derived union).
template <class U>
void copy_from(U& to, const U& from) {
  using V = typename U::variant_type;
  copy_from_impl<V>(to, from, std::make_index_sequence<std::variant_size_v<V>>());
}
template <class U>
void move_from(U& to, U& from) {
  using V = typename U::variant_type;
  move_from_impl<V>(to, from, std::make_index_sequence<std::variant_size_v<V>>());
}

/// An unknown tag value is kept (not an error); a missing tag or a non-object is an error.
template <class U>
bool keep_unknown_tagged(const json::value& v, U& out, const json::string* tag, ParseError* e) {
  UnknownVariant& u = out.template emplace<UnknownVariant>();
  u.raw = v;
  if (!tag) return fail(e, "expected an object with a string tag");
  u.type.assign(tag->data(), tag->size());
  return true;
}

/// A value no alternative of an untagged union recognises (kept, not an error).
template <class U>
bool keep_unknown(const json::value& v, U& out) {
  UnknownVariant& u = out.template emplace<UnknownVariant>();
  u.raw = v;
  const json::object* o = v.if_object();
  if (o && o->size() == 1) u.type = std::string(o->begin()->key());
  return true;
}

template <class U>
json::value write_variant(const U& x) {
  return std::visit([](const auto& alt) { return write(alt); }, x);
}

enum kind_bits : unsigned {
  k_string = 1,
  k_int = 2,
  k_double = 4,
  k_bool = 8,
  k_array = 16,
  k_object = 32,
  k_any = 63,
};

inline unsigned kind_of(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::string: return k_string;
    case json::kind::int64:
    case json::kind::uint64: return k_int;
    case json::kind::double_: return k_double;
    case json::kind::bool_: return k_bool;
    case json::kind::array: return k_array;
    case json::kind::object: return k_object;
    default: return 0;
  }
}

struct TagCond {
  std::string_view key;
  std::initializer_list<std::string_view> values;
};

/// -1 when `v` cannot be this alternative, else how specific the match is.
inline int match(const json::value& v, unsigned kinds,
                 std::initializer_list<std::string_view> keys = {},
                 std::initializer_list<TagCond> tags = {}) {
  if (!(kind_of(v) & kinds)) return -1;
  const json::object* o = v.if_object();
  if (!o) return 0;
  for (std::string_view k : keys) {
    if (!o->contains(k)) return -1;
  }
  for (const TagCond& t : tags) {
    const json::value* p = o->if_contains(t.key);
    const json::string* s = p ? p->if_string() : nullptr;
    if (!s) return -1;
    bool any = false;
    for (std::string_view x : t.values) any = any || x == std::string_view(*s);
    if (!any) return -1;
  }
  return static_cast<int>(keys.size() + tags.size());
}

inline void consider(int index, int s, int& best, int& score) noexcept {
  if (s > score) {
    best = index;
    score = s;
  }
}

}  // namespace detail
}  // namespace codex::types
'''


# ----------------------------------------------------------------------------------------------
# driver

def load_schema(schema_dir):
    path = os.path.join(schema_dir, BUNDLE)
    with open(path, encoding="utf-8") as f:
        bundle = json.load(f)
    canonical = json.dumps(bundle, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    sha = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return bundle, sha


def generate(schema_dir):
    bundle, sha = load_schema(schema_dir)
    model = Model(bundle)
    surface = Surface(model)
    for n in CORE_ROOTS:
        model.named(n)
    for _, p, _ in surface.notifications:
        if p:
            model.named(p)
    for _, p, r, _ in surface.server_requests:
        model.named(p)
        model.named(r)
    for _, p, _, r, _ in surface.client_requests:
        if p:
            model.named(p)
        model.named(r)
    model.finish()
    em = Emitter(model, surface, sha)
    return em.gen_include(), em.gen_lib(), em


def write_tree(files, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, text in sorted(files.items()):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)


def compare(files, out_dir, pattern):
    """Diff lines between generated `files` and the files in out_dir matching pattern."""
    problems = []
    existing = set()
    if os.path.isdir(out_dir):
        existing = {n for n in os.listdir(out_dir) if re.fullmatch(pattern, n)}
    for name in sorted(set(files) | existing):
        path = os.path.join(out_dir, name)
        if name not in files:
            problems.append("stale file (not generated): %s" % path)
            continue
        if name not in existing:
            problems.append("missing file: %s" % path)
            continue
        with open(path, encoding="utf-8", newline="") as f:
            have = f.read()
        if have != files[name]:
            diff = list(difflib.unified_diff(have.splitlines(), files[name].splitlines(),
                                             path, "generated/" + name, lineterm="", n=1))
            problems.append("out of date: %s\n%s" % (path, "\n".join(diff[:60])))
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--schema", help="directory written by "
                     "`codex app-server generate-json-schema --out DIR`")
    src.add_argument("--codex", help="a codex binary: generate the schema with it first "
                     "(exit 77 when it does not exist)")
    ap.add_argument("--out-include", required=True, help="e.g. include/codex/types")
    ap.add_argument("--out-lib", required=True, help="e.g. lib/types")
    ap.add_argument("--check", action="store_true",
                    help="compare with the checked-in files instead of writing (exit 1 on drift)")
    ap.add_argument("--stats", action="store_true", help="print a summary of what was generated")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as schema_tmp:
        schema = args.schema
        if args.codex:
            if not os.path.isfile(args.codex):
                print("generate_types.py: skipped: no codex binary at %s" % args.codex)
                return 77
            schema = schema_tmp
            cmd = [args.codex, "app-server", "generate-json-schema", "--out", schema]
            res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if res.returncode != 0:
                print("generate_types.py: error: %s failed:\n%s" % (
                    " ".join(cmd), res.stdout.decode(errors="replace")), file=sys.stderr)
                return 2
        try:
            inc, lib, em = generate(schema)
        except (GenError, OSError, KeyError, ValueError) as e:
            print("generate_types.py: error: %s" % e, file=sys.stderr)
            return 2
    return finish(args, inc, lib, em, args.schema or args.codex)


def finish(args, inc, lib, em, source):
    if args.stats:
        kinds = {}
        for d in em.m.defs.values():
            kinds[type(d).__name__] = kinds.get(type(d).__name__, 0) + 1
        print("types: %s; notifications: %d; server requests: %d; client requests: %d" % (
            kinds, len(em.s.notifications), len(em.s.server_requests),
            len(em.s.client_requests)))
    if args.check:
        problems = compare(inc, args.out_include, r".*\.hpp")
        problems += compare(lib, args.out_lib, r".*\.(cpp|hpp|cmake)")
        if problems:
            print("\n".join(problems))
            print("generate_types.py: the checked-in types do not match the schema of %s; "
                  "regenerate them (docs/types.md)." % source, file=sys.stderr)
            return 1
        print("generate_types.py: checked-in types match %s (%d files)." % (
            source, len(inc) + len(lib)))
        return 0
    write_tree(inc, args.out_include)
    write_tree(lib, args.out_lib)
    return 0


if __name__ == "__main__":
    sys.exit(main())
