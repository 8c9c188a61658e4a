#!/usr/bin/env bash
# Re-harvest the dynamo catalogue family (ai-dynamo/dynamo's distributed runtime: etcd and NATS connections) offline
# from local copies:
#   NIXL_GIT      a git directory of ai-dynamo/nixl (tags 0.2.0, 0.4.1, 0.7.1, 0.10.1, v1.0.1, v1.4.0 are read)
#   DYNAMO_TREES  one folder per stored file version read, named as the labels below (<commit> or stored-<id>), each
#                 holding the file at its repository path as a verbatim excerpt (first line "// excerpt …": the
#                 statements as the stored file has them)
# ai-dynamo/dynamo is too large to mirror: single files were read from the public-code index at the commit it names,
# or as one of its stored versions (stored-<id>, the index's id of that file version, the release not known).
# Rust sources are read as C-like string literals (format!/anyhow!/context messages; `{}`, `{:?}`, `{e}` kept).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${DYNAMO_TREES:?set DYNAMO_TREES}
N=${NIXL_GIT:?set NIXL_GIT}
P=${PYTHON:-python3}
args=(--git "ai-dynamo/nixl=$N@0.2.0,0.4.1,0.7.1,0.10.1,v1.0.1,v1.4.0")
for d in stored-6842642600 stored-14218834883 0f249f5e6355d88f84121ed2bdb42171fc984d2e 0820747a1210521433c11c214fefd315b1811818; do
  args+=(--tree "ai-dynamo/dynamo@$d=$T/$d")
done
C=(--comment "Files read: lib/runtime/src/distributed.rs @stored-6842642600 (before static workers) and @stored-14218834883"
   --comment "  (DistributedRuntime::new: the etcd and NATS clients; the path named from the file's content), lib/runtime/src/transports/etcd.rs"
   --comment "  @0f249f5e (etcd::Client::new: connector and primary lease), lib/runtime/src/transports/nats.rs @0820747a (ClientOptions::connect,"
   --comment "  with the JetStream check).  Excerpts: statements verbatim, so the origins name the file but no line."
   --comment "ai-dynamo/nixl: whole trees at the tags named (the agent's and the UCX plugin's backend errors).")
$P tools/harvest_messages.py --family dynamo "${args[@]}" "$@" "${C[@]}"
