#!/usr/bin/env python3
"""The crate's public Rust API, one item a line, from rustdoc's JSON output.

    python3 scripts/public_api.py            # compare with api/tokenwell.txt (make test-docs)
    python3 scripts/public_api.py --bless    # rewrite api/tokenwell.txt on purpose (make api-baseline)

The JSON comes from the stable toolchain that builds everything else, its
rustdoc run through scripts/rustdoc_unstable.sh to unlock `--output-format
json`. `make test-docs` runs this right after `cargo doc` with the same
features and the same environment, so every dependency's build is shared and
only the crate's own rustdoc runs again (the nightly toolchain would check
every dependency a second time). Only a few fields of the format are read
(items, their names, visibility, signatures), which change rarely;
`format_version` is checked.

A line is `kind path` plus, for functions, the signature with every type named
by its last path segment (`Arc<dyn Clock>`, not `alloc::sync::Arc<…>`), so a
line changes when an item appears, disappears, moves or changes signature.
Trait implementations on public types are listed too, with `Send` and `Sync`
(a type that stops being `Send` is a breaking change); blanket ones are not.

Public modules are few and listed in PUBLIC_MODULES: a module made `pub` by
accident fails both the check and --bless, in the JSON and in the source (where
a module behind a target or feature the JSON does not see is caught too).
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = os.path.join(ROOT, "api", "tokenwell.txt")
# The features `make test` builds with: `mock` (in cli) is public API; ffi's
# uniffi exports are internal, and the baseline shows that they stay so.
# scripts/docs/build.sh documents the crate with the same ones (API_FEATURES):
# the two then share every dependency's build.
FEATURES = "cli,ffi,schema"
# The crate's public modules. Every other module is declared inside `internal!`
# (src/lib.rs, src/native/mod.rs), or private. A new public module is a
# decision: add it here in the same change.
PUBLIC_MODULES = {"tokenwell::config", "tokenwell::native", "tokenwell::mock"}
FORMATS = range(50, 80)


def rustdoc_json():
    env = dict(os.environ, RUSTDOC=os.path.join(ROOT, "scripts", "rustdoc_unstable.sh"))
    env.pop("RUSTC_BOOTSTRAP", None)
    cmd = ["cargo", "rustdoc", "--quiet", "--lib", "--features", FEATURES, "--",
           "-Z", "unstable-options", "--output-format", "json"]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    with open(os.path.join(target, "doc", "tokenwell.json")) as f:
        return json.load(f)


class Api:
    def __init__(self, doc):
        if doc["format_version"] not in FORMATS:
            sys.exit(f"rustdoc JSON format {doc['format_version']} is new to scripts/public_api.py: "
                     "check that it still reads the items right, then widen FORMATS")
        self.index = doc["index"]
        self.paths = doc["paths"]
        self.lines = set()
        self.seen = set()
        root = self.index[str(doc["root"])]
        self.module(root, "tokenwell")

    def item(self, id_):
        return self.index.get(str(id_))

    def name_of(self, id_, fallback):
        p = self.paths.get(str(id_))
        return p["path"][-1] if p else fallback.split("::")[-1]

    # Types, rendered the way they read in source, short names only.
    def ty(self, t):
        if t is None:
            return "()"
        (k, v), = t.items()
        if k == "resolved_path":
            return self.name_of(v["id"], v["path"]) + self.args(v.get("args"))
        if k == "generic" or k == "primitive":
            return v
        if k == "borrowed_ref":
            lt = v["lifetime"] + " " if v["lifetime"] else ""
            return "&" + lt + ("mut " if v["is_mutable"] else "") + self.ty(v["type"])
        if k == "raw_pointer":
            return ("*mut " if v["is_mutable"] else "*const ") + self.ty(v["type"])
        if k == "tuple":
            return "(" + ", ".join(self.ty(x) for x in v) + ")"
        if k == "slice":
            return "[" + self.ty(v) + "]"
        if k == "array":
            return "[" + self.ty(v["type"]) + "; " + v["len"] + "]"
        if k == "impl_trait":
            return "impl " + " + ".join(self.bound(b) for b in v)
        if k == "dyn_trait":
            parts = [self.name_of(p["trait"]["id"], p["trait"]["path"]) + self.args(p["trait"].get("args"))
                     for p in v["traits"]]
            if v.get("lifetime"):
                parts.append(v["lifetime"])
            return "dyn " + " + ".join(parts)
        if k == "qualified_path":
            return "<" + self.ty(v["self_type"]) + ">::" + v["name"]
        if k == "function_pointer":
            return "fn(" + ", ".join(self.ty(x[1]) for x in v["sig"]["inputs"]) + ") -> " + self.ty(v["sig"]["output"])
        return k

    def args(self, a):
        if not a:
            return ""
        if "angle_bracketed" in a:
            ab = a["angle_bracketed"]
            out = []
            for x in ab["args"]:
                (k, v), = x.items()
                out.append(self.ty(v) if k == "type" else str(v) if k != "infer" else "_")
            for c in ab.get("constraints", []):
                b = c["binding"]
                out.append(c["name"] + (" = " + self.ty(b["equality"]["type"]) if "equality" in b and "type" in b["equality"]
                                        else ": " + " + ".join(self.bound(x) for x in b.get("constraint", []))))
            return "<" + ", ".join(out) + ">" if out else ""
        if "parenthesized" in a:
            p = a["parenthesized"]
            return "(" + ", ".join(self.ty(x) for x in p["inputs"]) + ")" + (" -> " + self.ty(p["output"]) if p["output"] else "")
        return ""

    def bound(self, b):
        if "trait_bound" in b:
            t = b["trait_bound"]["trait"]
            m = "?" if b["trait_bound"].get("modifier") == "maybe" else ""
            return m + self.name_of(t["id"], t["path"]) + self.args(t.get("args"))
        if "outlives" in b:
            return b["outlives"]
        return "?"

    def generics(self, g):
        out = []
        for p in g["params"]:
            kind = p["kind"]
            if "type" in kind:
                if kind["type"].get("is_synthetic"):
                    continue
                bounds = " + ".join(self.bound(b) for b in kind["type"]["bounds"])
                out.append(p["name"] + (": " + bounds if bounds else ""))
            elif "const" in kind:
                out.append("const " + p["name"] + ": " + self.ty(kind["const"]["type"]))
            else:
                out.append(p["name"])
        return "<" + ", ".join(out) + ">" if out else ""

    def where(self, g):
        preds = []
        for w in g.get("where_predicates", []):
            if "bound_predicate" in w:
                bp = w["bound_predicate"]
                preds.append(self.ty(bp["type"]) + ": " + " + ".join(self.bound(b) for b in bp["bounds"]))
        return " where " + ", ".join(preds) if preds else ""

    def function(self, f, name):
        h = f["header"]
        q = ("const " if h["is_const"] else "") + ("async " if h["is_async"] else "") + ("unsafe " if h["is_unsafe"] else "")
        ins = []
        for pname, t in f["sig"]["inputs"]:
            if pname == "self":
                ins.append({"generic": "self"} == t and "self" or ("&self" if t == {"borrowed_ref": {"lifetime": None, "is_mutable": False, "type": {"generic": "Self"}}}
                           else "&mut self" if t == {"borrowed_ref": {"lifetime": None, "is_mutable": True, "type": {"generic": "Self"}}}
                           else "self" if t == {"generic": "Self"} else "self: " + self.ty(t)))
            else:
                ins.append(pname + ": " + self.ty(t))
        out = f["sig"]["output"]
        ret = " -> " + self.ty(out) if out else ""
        return q + "fn " + name + self.generics(f["generics"]) + "(" + ", ".join(ins) + ")" + ret + self.where(f["generics"])

    def add(self, line):
        self.lines.add(line)

    def module(self, m, path):
        for cid in m["inner"]["module"]["items"]:
            self.member(cid, path)

    def member(self, cid, path, name=None):
        it = self.item(cid)
        if it is None:
            return
        (kind, inner), = it["inner"].items() if isinstance(it["inner"], dict) else ((it["inner"], None),)
        if kind == "use":
            target = inner["id"]
            if target is None:
                self.add(f"pub use {path}::{inner['name']} (external: {inner['source']})")
                return
            tgt = self.item(target)
            if tgt is None:
                self.add(f"pub use {path}::{inner['name']} (external: {inner['source']})")
                return
            if inner["is_glob"]:
                if "module" in tgt["inner"]:
                    self.module(tgt, path)
                return
            self.member(target, path, inner["name"])
            return
        if it["visibility"] != "public":
            return
        name = name or it["name"]
        full = f"{path}::{name}"
        if kind == "module":
            self.add(f"pub mod {full}")
            self.module(it, full)
        elif kind == "function":
            self.add(f"pub {self.function(inner, full)}")
        elif kind == "constant":
            self.add(f"pub const {full}: {self.ty(inner['type'])}")
        elif kind == "static":
            self.add(f"pub static {full}: {self.ty(inner['type'])}")
        elif kind == "type_alias":
            self.add(f"pub type {full}{self.generics(inner['generics'])} = {self.ty(inner['type'])}")
        elif kind == "struct":
            self.add(f"pub struct {full}{self.generics(inner['generics'])}")
            k = inner["kind"]
            if isinstance(k, dict) and "plain" in k:
                for fid in k["plain"]["fields"]:
                    self.field(fid, full)
                if k["plain"].get("has_stripped_fields"):
                    pass
            elif isinstance(k, dict) and "tuple" in k:
                for i, fid in enumerate(k["tuple"]):
                    if fid is not None:
                        f = self.item(fid)
                        if f and f["visibility"] == "public":
                            self.add(f"pub struct field {full}::{i}: {self.ty(f['inner']['struct_field'])}")
            self.impls(inner["impls"], full)
        elif kind == "enum":
            self.add(f"pub enum {full}{self.generics(inner['generics'])}")
            for vid in inner["variants"]:
                v = self.item(vid)
                vk = v["inner"]["variant"]["kind"]
                shape = ""
                if isinstance(vk, dict) and "tuple" in vk:
                    shape = "(" + ", ".join(self.ty(self.item(f)["inner"]["struct_field"]) if f is not None else "_" for f in vk["tuple"]) + ")"
                elif isinstance(vk, dict) and "struct" in vk:
                    shape = " { " + ", ".join(self.item(f)["name"] + ": " + self.ty(self.item(f)["inner"]["struct_field"]) for f in vk["struct"]["fields"]) + " }"
                self.add(f"pub enum variant {full}::{v['name']}{shape}")
            self.impls(inner["impls"], full)
        elif kind == "trait":
            unsafe = "unsafe " if inner["is_unsafe"] else ""
            supers = " + ".join(self.bound(b) for b in inner["bounds"])
            self.add(f"pub {unsafe}trait {full}{self.generics(inner['generics'])}" + (": " + supers if supers else ""))
            for mid in inner["items"]:
                self.assoc(mid, full, "trait ")
            for iid in inner.get("implementations", []):
                imp = self.item(iid)
                if imp:
                    self.add(f"impl {full} for {self.ty(imp['inner']['impl']['for'])}")
        elif kind == "macro":
            self.add(f"pub macro {full}!")
        else:
            self.add(f"pub {kind} {full}")

    def field(self, fid, owner):
        f = self.item(fid)
        if f and f["visibility"] == "public":
            self.add(f"pub struct field {owner}::{f['name']}: {self.ty(f['inner']['struct_field'])}")

    def assoc(self, mid, owner, prefix):
        m = self.item(mid)
        if m is None:
            return
        (k, v), = m["inner"].items()
        if k == "function":
            self.add(f"{prefix}{self.function(v, owner + '::' + m['name'])}")
        elif k == "assoc_const":
            self.add(f"{prefix}const {owner}::{m['name']}: {self.ty(v['type'])}")
        elif k == "assoc_type":
            self.add(f"{prefix}type {owner}::{m['name']}")

    def impls(self, ids, owner):
        for iid in ids:
            imp = self.item(iid)
            if imp is None:
                continue
            i = imp["inner"]["impl"]
            if i.get("blanket_impl") is not None:
                continue
            if i["trait"] is None:
                for mid in i["items"]:
                    m = self.item(mid)
                    if m and m["visibility"] == "public":
                        self.assoc(mid, owner, "pub ")
            else:
                trait = self.name_of(i["trait"]["id"], i["trait"]["path"])
                if i["is_synthetic"] and trait not in ("Send", "Sync"):
                    continue
                neg = "!" if i["is_negative"] else ""
                self.add(f"impl {neg}{self.name_of(i['trait']['id'], i['trait']['path'])}{self.args(i['trait'].get('args'))} for {owner}")


def module_file(module):
    """The source file of `tokenwell::a::b`: src/a/b.rs or src/a/b/mod.rs."""
    parts = module.split("::")[1:]
    if not parts:
        return os.path.join(ROOT, "src", "lib.rs")
    base = os.path.join(ROOT, "src", *parts)
    return base + ".rs" if os.path.exists(base + ".rs") else os.path.join(base, "mod.rs")


def stray_modules(lines):
    """Public modules missing from PUBLIC_MODULES, from the JSON and the source."""
    found = {line.split()[-1] for line in lines if line.startswith("pub mod ")}
    for parent in {"tokenwell"} | PUBLIC_MODULES:
        path = module_file(parent)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for n, text in enumerate(f, 1):
                m = re.match(r"\s*pub mod (\w+)", text)
                if m:
                    found.add(f"{parent}::{m.group(1)} ({os.path.relpath(path, ROOT)}:{n})")
    in_source = {m.split()[0] for m in found if " " in m}
    return sorted(m for m in found if m.split()[0] not in PUBLIC_MODULES
                  and (" " in m or m not in in_source))


def main():
    bless = "--bless" in sys.argv
    lines = sorted(Api(rustdoc_json()).lines)
    stray = stray_modules(lines)
    if stray:
        sys.exit("New public module(s): " + ", ".join(stray) + ". Internal modules are declared "
                 "inside `internal! { ... }` (src/lib.rs, src/native/mod.rs): crate-private, "
                 "public only with the `testing` feature. If the module is meant to be public "
                 "API, add it to PUBLIC_MODULES in scripts/public_api.py, then run `make api-baseline`.")
    text = "".join(line + "\n" for line in lines)
    if bless:
        os.makedirs(os.path.dirname(BASELINE), exist_ok=True)
        with open(BASELINE, "w") as f:
            f.write(text)
        print(f"api/tokenwell.txt: {len(lines)} lines written")
        return
    try:
        with open(BASELINE) as f:
            old = f.read()
    except FileNotFoundError:
        old = ""
    if old == text:
        print(f"public API unchanged ({len(lines)} lines in api/tokenwell.txt)")
        return
    import difflib
    sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                               "api/tokenwell.txt (committed)", "public API (this tree)"))
    sys.exit("The crate's public API differs from api/tokenwell.txt (diff above). If the change is "
             "meant, run `make api-baseline` and commit api/tokenwell.txt with it.")


if __name__ == "__main__":
    main()
