#!/usr/bin/env python3
"""Writes the part of a botocore service model that some operations use, shapes kept verbatim.

Usage: model_subset.py SERVICE VERSION OUT.json Operation [Operation ...]
The model comes from the installed botocore (botocore/data/SERVICE/VERSION/service-2.json[.gz]);
the output keeps "metadata", the named "operations" and every shape they reach, plus
"x-containctl-source" (botocore version, sha256 of the full model) so the copy can be checked.
Without operations the whole model is written.
"""
import gzip, hashlib, json, os, sys

import botocore

service, version, out, ops = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
base = os.path.join(os.path.dirname(botocore.__file__), "data", service, version, "service-2.json")
raw = gzip.open(base + ".gz").read() if os.path.exists(base + ".gz") else open(base, "rb").read()
model = json.loads(raw)
if ops:
    shapes, todo = {}, []
    for op in ops:
        o = model["operations"][op]
        todo += [o[k]["shape"] for k in ("input", "output") if k in o] + [e["shape"] for e in o.get("errors", [])]
    while todo:
        name = todo.pop()
        if name in shapes:
            continue
        s = shapes[name] = model["shapes"][name]
        for ref in list(s.get("members", {}).values()) + [s[k] for k in ("member", "key", "value") if k in s]:
            todo.append(ref["shape"])
    model = {"version": model.get("version"), "metadata": model["metadata"],
             "operations": {op: model["operations"][op] for op in ops}, "shapes": dict(sorted(shapes.items()))}
model["x-containctl-source"] = {"botocore": botocore.__version__, "file": f"botocore/data/{service}/{version}/service-2.json",
                                "sha256": hashlib.sha256(raw).hexdigest(), "operations": ops or "all"}
with open(out, "w") as f:
    json.dump(model, f, indent=1, sort_keys=True)
    f.write("\n")
