#!/usr/bin/python3
"""bench/lib/perfsum.py - summarize a `perf record --call-graph dwarf` of
httpd + mod_aura into the figures that point at mod_aura's hot spots.

    perf script -i perf.data -F comm,tid,ip,sym,dso > stacks.txt
    perfsum.py stacks.txt

Prints, as shares of all sampled httpd CPU time:
  - time by shared object (leaf frame)
  - the nearest mod_aura frame: where the time spent in or below mod_aura
    goes, function by function (its own code plus libraries it calls,
    until the next mod_aura frame)
  - the system calls, and who makes them
  - malloc/free/calloc time by the first caller outside libc
Standard library only.
"""

import collections
import re
import subprocess
import sys

MALLOC = {"malloc_consolidate", "_int_malloc", "_int_free", "unlink_chunk",
          "__libc_calloc", "cfree@GLIBC_2.2.5", "__GI___libc_free",
          "__GI___libc_malloc", "malloc", "tcache_get", "_int_realloc",
          "__GI___libc_realloc", "sysmalloc", "free", "calloc", "realloc"}
KERNEL = "[kernel.kallsyms]"


def read_stacks(path):
    stacks, cur = [], []
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if not line.strip():
            if cur:
                stacks.append(cur)
                cur = []
            continue
        if line[:1] in "\t ":
            parts = line.split()
            sym = parts[1].split("+")[0] if len(parts) > 1 else "?"
            dso = parts[-1].strip("()").split("/")[-1]
            if sym == "[unknown]":
                sym = "?" + dso
            cur.append((sym, dso))
    if cur:
        stacks.append(cur)
    return stacks


def source_file(func, srcdir):
    """mod_aura/<file>.c that defines func (a grep; good enough for a report)."""
    try:
        out = subprocess.run(["grep", "-lE", rf"^[a-z].*\b{re.escape(func)}\(", "-r",
                              srcdir, "--include=*.c"], capture_output=True,
                             text=True, timeout=10).stdout.split()
    except (OSError, subprocess.SubprocessError):
        out = []
    return out[0].split("/")[-1] if out else "?"


def show(title, counter, n, top=15, srcdir=None):
    print(f"\n{title}")
    for k, v in counter.most_common(top):
        where = f"  ({source_file(k, srcdir)})" if srcdir and isinstance(k, str) else ""
        print(f"  {100 * v / n:5.1f}%  {k}{where}")


def main():
    stacks = read_stacks(sys.argv[1])
    srcdir = sys.argv[2] if len(sys.argv) > 2 else None
    n = len(stacks)
    print(f"{n} samples")
    dso, near, sysc, alloc = (collections.Counter() for _ in range(4))
    for s in stacks:
        leaf = s[0]
        dso["kernel" if leaf[1] == KERNEL else leaf[1]] += 1
        mod = [f for f in s if f[1] == "mod_aura.so"]
        if mod:
            near[mod[0][0]] += 1
        ks = [f[0] for f in s if f[0].startswith(("__x64_sys_", "__do_sys_"))]
        if ks:
            users = [f[0] for f in s if f[1] not in (KERNEL, "libc.so.6", "inlined")
                     and not f[0].startswith("?")]
            sysc[f"{ks[-1]} <- {users[0] if users else '?'}"] += 1
        if leaf[0] in MALLOC:
            up = [f for f in s if f[1] not in ("libc.so.6", "inlined")
                  and f[0] not in MALLOC]
            alloc[up[0][0] if up else "?"] += 1
    show("time by object (leaf frame):", dso, n, 12)
    show("nearest mod_aura frame (own code + libraries below it):", near, n, 20, srcdir)
    show("system calls <- first caller outside libc:", sysc, n, 15)
    show("malloc/free <- first caller outside libc:", alloc, n, 12)


if __name__ == "__main__":
    main()
