#!/usr/bin/env bash
# Re-harvest the catalogue families of multi-GPU / multi-node runs (offline) from local copies (tools/harvest_all.sh
# runs it; the cuda family's peer-access message is harvested there):
#   mpi                Open MPI's show-help files (help-*.txt) of open-mpi/ompi v4.1.2 (Ubuntu 22.04), v4.1.5 and
#                      v4.1.7 (HPC-X in the NGC Triton / TensorRT-LLM images), v4.1.8, v5.0.3, v5.0.8, of
#                      openpmix/prrte v3.0.5 and v3.0.11 (the PRRTE those Open MPI 5.0 releases ship), the C files
#                      that print the shared-memory single-copy errors and the UCX / UCC components' MPI_THREAD_MULTIPLE
#                      checks (ompi/mca/pml/ucx/pml_ucx.c, ompi/mca/coll/ucc/coll_ucc_module.c) at those tags, UCX's POSIX shared-memory
#                      transport (openucx/ucx v1.14.1 … v1.19.1: src/uct/sm/mm/posix/mm_posix.c and its memory-registration
#                      hint, src/uct/ib/base/ib_log.c: the UCX of HPC-X's
#                      Open MPI in the NGC images), and Debian 12's Open MPI
#                      4.1.4 / PMIx 4.2.2 help files and libraries
#   nccl               NVIDIA/nccl sources at v2.18.3-1 … v2.28.9-1 and libnccl 2.27.3 (the wheel's strings)
#   tensorrt_llm_dist  TensorRT-LLM's executor (cpp/tensorrt_llm/executor/executorImpl.cpp) at two stored
#                      versions, read from the public-code index as verbatim excerpts (TRTLLM_DIST_TREES/<commit>/…,
#                      first line "// excerpt …": the statements as the stored file has them, so origins name no line)
# Set:
#   MIRROR              git directories as MIRROR/<owner>+<name>/repo: open-mpi+ompi, openpmix+prrte, openucx+ucx, NVIDIA+nccl
#   WHEELS              the unpacked wheel nvidia-nccl-cu12 2.27.3 (as tools/harvest_all.sh)
#   TRTLLM_DIST_TREES   the excerpt trees named above
#   FAMILIES            optional: the families to write (default "mpi nccl tensorrt_llm_dist"); only the folders
#                       those need are read (FAMILIES=mpi needs MIRROR alone)
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PYTHON:-python3}
M=${MIRROR:?set MIRROR}
FAMILIES=" ${FAMILIES:-mpi nccl tensorrt_llm_dist} "
want() { [[ "$FAMILIES" == *" $1 "* ]]; }
H="$P tools/harvest_messages.py"
OMPI=$M/open-mpi+ompi/repo
OMPI4=v4.1.2,v4.1.5,v4.1.7,v4.1.8
OMPI5=v5.0.3,v5.0.8
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SINGLE=()
for t in ${OMPI4//,/ }; do
  mkdir -p "$TMP/$t/opal/mca/btl/vader"
  git --git-dir="$OMPI" show "$t:opal/mca/btl/vader/btl_vader_get.c" > "$TMP/$t/opal/mca/btl/vader/btl_vader_get.c"
  SINGLE+=(--tree "open-mpi/ompi@$t=$TMP/$t")
done
for t in ${OMPI5//,/ }; do
  mkdir -p "$TMP/$t/opal/mca/smsc/cma"
  git --git-dir="$OMPI" show "$t:opal/mca/smsc/cma/smsc_cma_module.c" > "$TMP/$t/opal/mca/smsc/cma/smsc_cma_module.c"
  SINGLE+=(--tree "open-mpi/ompi@$t=$TMP/$t")
done
# the UCX / UCC components of Open MPI at the same tags: their MPI_THREAD_MULTIPLE checks (coll/ucc is in 4.1.4+)
for t in ${OMPI4//,/ } ${OMPI5//,/ }; do
  for f in ompi/mca/coll/ucc/coll_ucc_module.c ompi/mca/pml/ucx/pml_ucx.c; do
    if git --git-dir="$OMPI" cat-file -e "$t:$f" 2>/dev/null; then
      mkdir -p "$TMP/$t/$(dirname "$f")"
      git --git-dir="$OMPI" show "$t:$f" > "$TMP/$t/$f"
    fi
  done
done
UCX=$M/openucx+ucx/repo
for t in v1.14.1 v1.16.0 v1.18.1 v1.19.1; do
  mkdir -p "$TMP/ucx-$t/src/uct/sm/mm/posix"
  git --git-dir="$UCX" show "$t:src/uct/sm/mm/posix/mm_posix.c" > "$TMP/ucx-$t/src/uct/sm/mm/posix/mm_posix.c"
  mkdir -p "$TMP/ucx-$t/src/uct/ib/base"
  git --git-dir="$UCX" show "$t:src/uct/ib/base/ib_log.c" > "$TMP/ucx-$t/src/uct/ib/base/ib_log.c"
  SINGLE+=(--tree "openucx/ucx@$t=$TMP/ucx-$t")
done
MPI_ARGS=()
if want mpi; then
for f in /usr/share/openmpi/help-*.txt; do MPI_ARGS+=(--binary "openmpi@4.1.4:$(basename "$f")=$f"); done
$H --family mpi --help-git open-mpi/ompi=$OMPI@$OMPI4,$OMPI5 --help-git openpmix/prrte=$M/openpmix+prrte/repo@v3.0.5,v3.0.11 \
  "${SINGLE[@]}" "${MPI_ARGS[@]}" \
  --binary openmpi@4.1.4:libmpi.so.40=/usr/lib/x86_64-linux-gnu/libmpi.so.40 \
  --binary openmpi@4.1.4:libopen-rte.so.40=/usr/lib/x86_64-linux-gnu/libopen-rte.so.40 \
  --binary pmix@4.2.2=/usr/lib/x86_64-linux-gnu/libpmix.so.2 \
  --comment "Open MPI 5.0.3 ships PRRTE v3.0.5 and 5.0.8 PRRTE v3.0.11 (their 3rd-party/prrte submodules); the single C files are" \
  --comment "  opal/mca/btl/vader/btl_vader_get.c (4.1.x) and opal/mca/smsc/cma/smsc_cma_module.c (5.0.x) at those tags," \
  --comment "  ompi/mca/pml/ucx/pml_ucx.c and ompi/mca/coll/ucc/coll_ucc_module.c (coll/ucc from 4.1.4 on: not in 4.1.2)."
fi
if want nccl; then
W=${WHEELS:?set WHEELS}
$H --family nccl --git NVIDIA/nccl=$M/NVIDIA+nccl/repo@v2.18.3-1,v2.19.3-1,v2.21.5-1,v2.23.4-1,v2.25.1-1,v2.27.3-1,v2.28.9-1 \
  --binary nccl@2.27.3=$W/nvidia_nccl_cu12-2.27.3/nvidia/nccl/lib/libnccl.so.2
fi
if want tensorrt_llm_dist; then
T=${TRTLLM_DIST_TREES:?set TRTLLM_DIST_TREES}
TRTLLM_ARGS=()
for c in 036a60f7ff9257595c96a578560651da5c4df577 b35ac1b64368513d215c57d2ed01d62d910df8da; do
  TRTLLM_ARGS+=(--tree "NVIDIA/TensorRT-LLM@$c=$T/$c")
done
$H --family tensorrt_llm_dist "${TRTLLM_ARGS[@]}" \
  --comment "NVIDIA/TensorRT-LLM is too large to mirror: cpp/tensorrt_llm/executor/executorImpl.cpp was read from the public-code" \
  --comment "  index at the commits named (two stored versions) and its checks copied verbatim; the origins name the file, no line."
fi
