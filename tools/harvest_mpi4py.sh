#!/usr/bin/env bash
# Harvest the mpi4py_build catalogue family (offline): what mpi4py's build prints when pip builds it from its sdist
# (tensorrt_llm requires mpi4py; without a wheel for the interpreter pip compiles it against the MPI it finds).
#   MPI4PY  unpacked mpi4py sdists from PyPI, as MPI4PY/mpi4py-VERSION (pip download --no-deps --no-binary :all:
#           mpi4py==VERSION; tar xzf): 3.0.3, 3.1.4, 3.1.6, 4.0.0, 4.0.3, 4.1.0, 4.1.2.  Their setup.py and conf/
#           (mpiconfig.py: the MPI compiler wrappers; mpidistutils.py / setup.py: the compile-and-link test) are read.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PYTHON:-python3}
M=${MPI4PY:?set MPI4PY}
TMP=$(mktemp -d)
args=()
for v in 3.0.3 3.1.4 3.1.6 4.0.0 4.0.3 4.1.0 4.1.2; do
  mkdir -p "$TMP/$v"
  cp "$M/mpi4py-$v/setup.py" "$TMP/$v/"
  cp -r "$M/mpi4py-$v/conf" "$TMP/$v/conf"
  args+=(--tree "mpi4py@$v=$TMP/$v")
done
$P tools/harvest_messages.py --family mpi4py_build "${args[@]}" "$@" \
  --comment "mpi4py 3.0.3 … 4.1.2 (PyPI sdists): setup.py and conf/ — the MPI compiler wrapper search and the compile-and-link" \
  --comment "  test pip's build of mpi4py runs; 3.x raise the first line alone, 4.x add the lines that follow it."
rm -rf "$TMP"
