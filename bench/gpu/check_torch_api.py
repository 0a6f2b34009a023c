#!/usr/bin/env python3
"""Syntax-checks every libtorch-using translation unit of a configured build against ANOTHER
libtorch's headers, to find API breaks before a CUDA build against pip torch (2.x) is attempted.

usage: bench/gpu/check_torch_api.py BUILD_DIR TORCH_ROOT [JOBS]
  BUILD_DIR   a configured build with compile_commands.json (e.g. build/release)
  TORCH_ROOT  a root holding usr/include/{ATen,c10,torch}: e.g. Debian trixie's libtorch-dev
              unpacked with `dpkg -x libtorch-dev_2.6.0+dfsg-7_amd64.deb ROOT`, or a pip torch's
              site-packages/torch (its include/ is used when usr/include is absent)
Qt translation units (widgets/, app/gui/) are skipped: they include no torch header.
"""
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys


def torch_include(root):
    for candidate in (os.path.join(root, "usr/include"), os.path.join(root, "include")):
        if os.path.isdir(os.path.join(candidate, "ATen")):
            return candidate
    sys.exit(f"{root}: no ATen headers under usr/include or include")


def check_command(entry, include):
    args = shlex.split(entry["command"])
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if arg in ("-c", "-MD", "-MMD"):
            continue
        out.append(arg.replace("/usr/include/torch/csrc/api/include",
                               include + "/torch/csrc/api/include"))
    return [out[0], "-isystem", include] + out[1:] + ["-fsyntax-only", "-w"]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    build, root = sys.argv[1], sys.argv[2]
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else os.cpu_count()
    include = torch_include(root)
    db = json.load(open(os.path.join(build, "compile_commands.json")))
    units = [e for e in db
             if not any(p in e["file"] for p in ("/widgets/", "/app/gui/", "autogen"))]

    def run(entry):
        r = subprocess.run(check_command(entry, include), cwd=entry["directory"],
                           capture_output=True, text=True)
        return entry["file"], r.returncode, r.stderr

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for path, rc, err in pool.map(run, units):
            if rc != 0:
                failed += 1
                print("FAIL", path)
                print("\n".join(l for l in err.splitlines() if "error" in l)[:3000], flush=True)
    print(f"{len(units)} translation units checked against {include}: {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
