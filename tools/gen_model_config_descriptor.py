#!/usr/bin/env python3
"""Write Triton's ModelConfig schema (the compiled ``model_config.proto`` FileDescriptorProto) as data.

trtdiag parses config.pbtxt with Triton's own schema.  The schema is taken from the
``tritonclient`` package (``tritonclient/grpc/model_config_pb2.py``, generated from
triton-inference-server/common's protobuf/model_config.proto) and kept as its serialized descriptor
in trtdiag/data/triton_model_config.pb, with the version it came from in
trtdiag/data/triton_model_config.json — so the installed tool needs only protobuf, not tritonclient
and the numpy it pulls in.

    pip install tritonclient==VERSION && python3 tools/gen_model_config_descriptor.py [--check]
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "trtdiag" / "data"


def load():
    spec = importlib.util.find_spec("tritonclient")
    for loc in spec.submodule_search_locations or []:
        p = Path(loc) / "grpc" / "model_config_pb2.py"
        if p.is_file():
            ms = importlib.util.spec_from_file_location("_mc_pb2", p)
            mod = importlib.util.module_from_spec(ms)
            ms.loader.exec_module(mod)
            return mod, p
    raise SystemExit("tritonclient's grpc/model_config_pb2.py not found: pip install tritonclient")


def main(argv: list[str]) -> int:
    mod, path = load()
    blob = mod.DESCRIPTOR.serialized_pb
    meta = {"source": f"tritonclient=={importlib.metadata.version('tritonclient')}:tritonclient/grpc/model_config_pb2.py",
            "proto": mod.DESCRIPTOR.name, "package": mod.DESCRIPTOR.package, "bytes": len(blob)}
    if "--check" in argv:
        same = (OUT / "triton_model_config.pb").read_bytes() == blob
        print("same as" if same else "differs from", meta["source"])
        return 0 if same else 1
    (OUT / "triton_model_config.pb").write_bytes(blob)
    (OUT / "triton_model_config.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(blob)} bytes from {meta['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
