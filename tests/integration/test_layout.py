"""The layout is the design (docs/architecture.md): these checks fail when
a change breaks it, in the sources and in the built objects.

  core/       sees only core/
  providers/  sees core/ and providers/   } never each other: they meet
  fronts/     sees core/ and fronts/      } only in the internal model
  tenancy/    sees core/ and tenancy/
  httpd/      sees everything; the only code with httpd's headers

The build enforces the include paths (Makefile.am gives each component
only its own); this test also catches what include paths cannot: an
extern declared by hand, a symbol resolved across the line at link time,
a prototype repeated in a .c file, a file named against the rule, and
symbols leaking out of mod_aura.so.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "mod_aura"
COMPONENTS = ("core", "providers", "fronts", "tenancy", "httpd")
MAY_USE = {
    "core": {"core"},
    "providers": {"core", "providers"},
    "fronts": {"core", "fronts"},
    "tenancy": {"core", "tenancy"},
    "httpd": set(COMPONENTS),
}
# Provider files that are not one provider's: the adapter interface and
# kinds table, the decoder and encoder plumbing, AWS signing and framing.
PROVIDER_SHARED = {"aura_adapter", "aura_decoder", "aura_encoder",
                   "aura_sigv4", "aura_eventstream"}
HTTPD_HEADER = re.compile(r'#\s*include\s*[<"]((httpd|http_\w+|ap_\w+|'
                          r'util_\w+|mod_\w+)\.h)[>"]')
LOCAL_INCLUDE = re.compile(r'#\s*include\s*"([^"]+)"')


def sources(component):
    return sorted(p for p in (SRC / component).iterdir()
                  if p.suffix in (".c", ".h"))


def owner_of_header():
    owner = {}
    for c in COMPONENTS:
        for p in sources(c):
            if p.suffix == ".h":
                owner[p.name] = c
    return owner


def test_every_source_file_is_in_a_component():
    stray = [p.name for p in SRC.iterdir() if p.is_file()]
    assert not stray, "files outside the component folders: %s" % stray
    assert sorted(p.name for p in SRC.iterdir()) == sorted(COMPONENTS)


@pytest.mark.parametrize("component", COMPONENTS)
def test_includes_follow_the_component_rule(component):
    owner = owner_of_header()
    bad = []
    for p in sources(component):
        text = p.read_text()
        for name in LOCAL_INCLUDE.findall(text):
            c = owner.get(name)
            if c is None:
                bad.append("%s includes unknown \"%s\"" % (p.name, name))
            elif c not in MAY_USE[component]:
                bad.append("%s (%s) includes %s (%s)"
                           % (p.name, component, name, c))
        if component != "httpd" and HTTPD_HEADER.search(text):
            bad.append("%s includes an httpd header" % p.name)
    assert not bad, "\n".join(bad)


def test_names_follow_the_rule():
    bad = []
    for p in sources("providers"):
        stem = re.sub(r"_(enc|dec)$", "", p.stem)
        if p.stem in PROVIDER_SHARED:
            continue
        if p.suffix == ".c" and stem == p.stem:
            bad.append("%s: a provider's files are aura_<name>_enc.c and "
                       "aura_<name>_dec.c" % p.name)
        if not (SRC / "providers" / (stem + ".h")).exists():
            bad.append("%s: no header %s.h beside it" % (p.name, stem))
    for p in sources("fronts"):
        if p.name == "aura_front.h":
            continue
        m = re.match(r"aura_front_([a-z]+)(_in\w*|_out)?$", p.stem)
        if not m or (p.suffix == ".c") != bool(m.group(2)):
            bad.append("%s: aura_front_<f>.h, aura_front_<f>_in*.c, "
                       "aura_front_<f>_out.c" % p.name)
        elif not (SRC / "fronts" / ("aura_front_%s.h" % m.group(1))).exists():
            bad.append("%s: no header aura_front_%s.h" % (p.name, m.group(1)))
    for c in COMPONENTS:
        prefix = "mod_aura" if c == "httpd" else "aura"
        bad += ["%s/%s: not %s*" % (c, p.name, prefix)
                for p in sources(c) if not re.match(prefix + r"(_|\.)", p.name)]
    assert not bad, "\n".join(bad)


def test_files_are_under_1000_lines():
    """Files by concern (DESIGN.md): none grows past ~1,000 lines."""
    long = ["%s/%s: %d lines" % (c, p.name, n) for c in COMPONENTS
            for p in sources(c)
            for n in [p.read_text().count("\n")] if n > 1000]
    long += ["admin-cgi/%s: %d lines" % (p.name, p.read_text().count("\n"))
             for p in sorted((REPO / "admin-cgi").glob("*.[ch]"))
             if p.read_text().count("\n") > 1000]
    assert not long, "split these by concern:\n" + "\n".join(long)


def file_scope_prototypes(text):
    """Non-static function declarations at file scope (ending in ';')."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"'(\\.|[^'\\\n])+'", "0", text)
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    depth, stmt, found = 0, "", []
    for ch in text:
        if depth == 0:
            stmt += ch
        if ch == "{":
            depth += 1
            stmt = ""
        elif ch == "}":
            depth -= 1
            stmt = ""
        elif ch == ";" and depth == 0:
            s = " ".join(stmt.split()).rstrip(";")
            stmt = ""
            if (re.match(r"^[A-Za-z_][\w\s\*]*\b\w+\s*\(", s)
                    and not re.match(r"^(static|typedef|extern\s+\w+\s*\w+\s*;)", s)
                    and "=" not in s and not s.startswith("APLOG_USE")
                    and not s.startswith("AP_DECLARE")):
                found.append(s[:80])
    return found


def test_no_prototypes_in_c_files():
    """Each declaration lives in the header beside its definition."""
    bad = []
    for c in COMPONENTS:
        for p in sources(c):
            if p.suffix == ".c":
                bad += ["%s: %s" % (p.name, s)
                        for s in file_scope_prototypes(p.read_text())]
    for p in sorted((REPO / "tests" / "unit").glob("*.[ch]")):
        bad += ["%s: %s" % (p.name, s)
                for s in file_scope_prototypes(p.read_text())
                if re.search(r"\baura_\w+\s*\(", s)]
    assert not bad, "\n".join(bad)


def test_the_prototype_check_finds_one():
    """The check above can fail: a repeated prototype is found."""
    found = file_scope_prototypes(
        "static int f(void);\nint aura_x(int a,\n  int b);\n"
        "typedef int (*fn)(int);\nint g(void) { return h(1); }\n")
    assert found == ["int aura_x(int a, int b)"]


def test_readme_layout_table_matches_the_tree():
    text = (REPO / "README.md").read_text()
    table = text[text.index("## Layout"):]
    rows = re.findall(r"^\| `([^`]+)` \|", table, flags=re.M)
    assert rows, "no layout table in README.md"
    missing = [r for r in rows if not (REPO / r).exists()]
    assert not missing, "README lists paths that do not exist: %s" % missing
    listed = {r.rstrip("/").split("/")[0] for r in rows}
    listed |= {r.rstrip("/") for r in rows}
    top = {p.name for p in REPO.iterdir() if p.is_dir()
           and not p.name.startswith((".", "build", "autom4te", "var", "m4"))
           and (REPO / ".git").exists() and tracked(p)}
    unlisted = sorted(top - listed)
    assert not unlisted, "folders missing from README's layout: %s" % unlisted
    comps = sorted(r.rstrip("/").split("/")[1] for r in rows
                   if r.startswith("mod_aura/"))
    assert comps == sorted(COMPONENTS), comps


def tracked(path):
    out = subprocess.run(["git", "-C", str(REPO), "ls-files", "--",
                          str(path)], capture_output=True, text=True)
    return out.returncode != 0 or bool(out.stdout.strip())


# ---- the built objects --------------------------------------------------

def build_dir():
    module = os.environ.get("AURA_MODULE") or str(REPO / "build" / ".libs"
                                                  / "mod_aura.so")
    if not os.path.exists(module):
        if os.environ.get("AURA_MODULE"):
            pytest.fail("AURA_MODULE=%s does not exist" % module)
        pytest.skip("mod_aura is not built")
    return Path(module).resolve().parents[1]


def objects(component):
    d = build_dir() / "mod_aura" / component
    objs = sorted(d.glob("*.o"))
    if not objs:            # libtool's PIC objects
        objs = sorted((d / ".libs").glob("*.o"))
    assert objs, "no objects for %s in %s" % (component, d)
    return objs


def nm(paths, *flags):
    out = subprocess.run(["nm", *flags, *map(str, paths)], check=True,
                         capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines()
            if line.strip() and not line.endswith(":")}


def test_objects_follow_the_component_rule():
    defined = {c: nm(objects(c), "--defined-only", "-g") for c in COMPONENTS}
    bad = []
    for c in COMPONENTS:
        used = nm(objects(c), "--undefined-only")
        for other in COMPONENTS:
            if other in MAY_USE[c]:
                continue
            cross = sorted(used & defined[other])
            if cross:
                bad.append("%s uses %s's %s" % (c, other, ", ".join(cross)))
    assert not bad, "\n".join(bad)


def test_glue_does_not_call_back_into_the_handler():
    """Only the hook in mod_aura.c calls the handler: what the rest of the
    glue needs (error answers, the overhead clock) is mod_aura_answer.c."""
    objs = objects("httpd")
    handler = [o for o in objs if o.name.endswith("mod_aura_handler.o")]
    assert len(handler) == 1, objs
    defined = nm(handler, "--defined-only", "-g")
    bad = []
    for o in objs:
        if o in handler or o.name.endswith("-mod_aura.o"):
            continue
        used = nm([o], "--undefined-only") & defined
        bad += ["%s uses %s" % (o.name, ", ".join(sorted(used)))] if used \
            else []
    assert not bad, "\n".join(bad)


BUFFER_GROWTH = re.compile(r"\b(cap|size|alloc)\w*\s*\*=\s*2\b|"
                           r"\b\w*cap\w*\s*\*\s*2\b|\brealloc\s*\(")


def test_one_growable_buffer():
    """Buffers that double are core/aura_buf.c's; the AWS eventstream
    reader keeps its own reserve() (growth clamped to the frame bound)."""
    own = {"aura_buf.c", "aura_eventstream.c"}
    paths = [p for c in COMPONENTS for p in sources(c)]
    paths += sorted((REPO / "admin-cgi").glob("*.c"))
    bad = ["%s:%d" % (p.name, i + 1) for p in paths if p.name not in own
           for i, line in enumerate(p.read_text().splitlines())
           if BUFFER_GROWTH.search(line)]
    assert not bad, "a hand-written growing buffer (use aura_buf.h): %s" % bad
    assert BUFFER_GROWTH.search("        cap *= 2;")     # the check bites


def test_module_exports_only_its_record():
    module = build_dir() / ".libs" / "mod_aura.so"
    out = subprocess.run(["nm", "-D", "--defined-only", str(module)],
                         check=True, capture_output=True, text=True).stdout
    exported = sorted(line.split()[-1] for line in out.splitlines()
                      if line.split()[1] not in ("A",)
                      and not line.split()[-1].startswith("_"))
    assert exported == ["aura_module"], exported
