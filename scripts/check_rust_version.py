#!/usr/bin/env python3
"""Checks the workspace's declared `rust-version` (its MSRV) against what it builds.

Cargo only refuses a toolchain older than a package's `rust-version`; nothing stops a
workspace from declaring an MSRV lower than one of its dependencies needs, so a user on the
declared version would fail to build. This script reads `cargo metadata` and `cargo tree`
(the packages really built on this host, all targets) and fails when any of them declares a
`rust-version` newer than the workspace's, or when a workspace member declares none or a
different one. Uses of standard-library items newer than the MSRV are caught by clippy's
`incompatible_msrv` lint, which reads the same key (the test command runs clippy with
warnings denied).

Output: one line per problem, then a summary line; exit status 1 on any problem.
"""
import json
import subprocess
import sys


def version(v):
    parts = [int(x) for x in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked"]))
    members = set(meta["workspace_members"])
    packages = {(p["name"], p["version"]): p for p in meta["packages"]}
    declared = {p.get("rust_version") for p in meta["packages"] if p["id"] in members}
    failed = 0
    if len(declared) != 1 or None in declared:
        print(f"workspace members declare rust-version {sorted(map(str, declared))}: "
              "expected one value, inherited from [workspace.package]")
        return 1
    msrv = declared.pop()
    tree = subprocess.check_output(
        ["cargo", "tree", "--workspace", "--locked", "-e", "normal,build,dev",
         "--prefix", "none", "--format", "{p}"], text=True)
    built = set()
    for line in tree.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].startswith("v"):
            built.add((parts[0], parts[1][1:]))
    passed = 0
    for key in sorted(built):
        p = packages.get(key)
        need = p.get("rust_version") if p else None
        if need and version(need) > version(msrv):
            print(f"{key[0]} {key[1]} needs Rust {need}, above the declared rust-version {msrv}")
            failed += 1
        else:
            passed += 1
    print(f"declared rust-version {msrv}: {passed} of {len(built)} packages built on this "
          f"host need at most it, {failed} need more")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
