#!/usr/bin/env bash
# Re-harvest the catalogue families of pulling and running the serving containers (offline):
#   registry    distribution/distribution v2.7.1, v2.8.3 (registry/api/errcode, registry/api/v2: the registry's error
#               codes as clients print them, "CODE: message"), containerd/containerd v1.4.13, v1.6.38, v1.7.27, v2.1.4
#               (the resolver, authorizer and CRI pull wrappers), containers/image v5.36.1 (podman / cri-o / skopeo)
#   docker      moby/moby v20.10.24, v24.0.9, v28.5.2 (daemon/errors.go, distribution/errors.go, pull_v2.go, daemon/create.go,
#               registry/auth.go) and the two commits of the port allocator and runtime messages; opencontainers/runc
#               v1.0.0-rc10, v1.0.3, v1.1.12, v1.3.0 (the container's first exec: "exec user process caused …" / "exec PATH:
#               …", with ENOEXEC's text from the golang.org/x/sys/unix it vendors: an image of another CPU architecture)
#   kubernetes  kubernetes/kubernetes excerpts of single stored files (K8S_EXCERPTS/<commit>/<path>: the scheduler's
#               fit.go at 007f7ae7, the kubelet's image_manager.go at 00a3928b), NVIDIA/k8s-device-plugin
#               v0.9.0, v0.12.3, v0.14.5, v0.17.0, v0.19.0, NVIDIA/gpu-driver-container (the GPU Operator's driver
#               container script nvidia-driver) at 924d2b03 (2022-12) and 06a208ca
# Set MIRROR (git directories as MIRROR/owner+name/repo) and K8S_EXCERPTS.  ONLY="docker" (names, space-separated)
# re-harvests only those families.  Files are read with `git show TAG:PATH`
# into a scratch folder; each --binary names its repo@tag:path.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PYTHON:-python3}
M=${MIRROR:?set MIRROR}
K=${K8S_EXCERPTS:?set K8S_EXCERPTS}
H="$P tools/harvest_messages.py"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ARGS=()
# add REPO TAG PATH...: one --binary per file that exists at that tag
add() {
  local repo=$1 tag=$2; shift 2
  local git="$M/${repo/\//+}/repo"
  for path in "$@"; do
    local out="$TMP/${repo/\//+}/$tag/$path"
    mkdir -p "$(dirname "$out")"
    if git --git-dir="$git" show "$tag:$path" > "$out" 2>/dev/null; then
      ARGS+=(--binary "$repo@$tag:$path=$out")
    fi
  done
}
want() { [[ -z ${ONLY:-} || " $ONLY " == *" $1 "* ]]; }
ARGS=()
for t in v2.7.1 v2.8.3; do
  add distribution/distribution $t registry/api/errcode/register.go registry/api/errcode/errors.go registry/api/v2/errors.go
done
add containerd/containerd v1.4.13 remotes/docker/authorizer.go remotes/docker/resolver.go pull.go pkg/cri/server/image_pull.go images/handlers.go images/image.go
for t in v1.6.38 v1.7.27; do
  add containerd/containerd $t vendor/github.com/containerd/errdefs/errors.go remotes/docker/resolver.go pull.go \
    remotes/docker/authorizer.go remotes/errors/errors.go pkg/cri/server/image_pull.go images/handlers.go images/image.go
done
add containerd/containerd v2.1.4 vendor/github.com/containerd/errdefs/errors.go core/remotes/docker/resolver.go \
  client/pull.go core/remotes/docker/authorizer.go core/remotes/errors/errors.go internal/cri/server/images/image_pull.go \
  core/images/handlers.go core/images/image.go
add containers/image v5.36.1 docker/errors.go docker/docker_client.go internal/manifest/docker_schema2_list.go internal/manifest/oci_index.go
if want registry; then $H --family registry "${ARGS[@]}"; fi

ARGS=()
add moby/moby 05d784d6da658a5a6611ba2c1cf71395e6b569fd libnetwork/portallocator/portallocator.go
add moby/moby 0b592467d922ff23bb15164cea0de3686f2f422b daemon/runtime_unix.go
for t in v20.10.24 v24.0.9 v28.5.2; do
  add moby/moby $t daemon/errors.go distribution/errors.go distribution/pull_v2.go daemon/create.go daemon/images/image.go registry/auth.go
done
for t in v1.0.0-rc10 v1.0.3 v1.1.12 v1.3.0; do
  add opencontainers/runc $t libcontainer/generic_error.go libcontainer/standard_init_linux.go libcontainer/system/linux.go \
    libcontainer/container_linux.go vendor/golang.org/x/sys/unix/zerrors_linux.go vendor/golang.org/x/sys/unix/zerrors_linux_amd64.go
done
if want docker; then $H --family docker "${ARGS[@]}"; fi

ARGS=()
ARGS+=(--binary "kubernetes/kubernetes@007f7ae7dc217d27dad994dce003cfe1c5bc6706:pkg/scheduler/framework/plugins/noderesources/fit.go=$K/007f7ae7dc217d27dad994dce003cfe1c5bc6706/pkg/scheduler/framework/plugins/noderesources/fit.go")
ARGS+=(--binary "kubernetes/kubernetes@00a3928bde544dbb4fd046bb78439178ec37fb5a:pkg/kubelet/images/image_manager.go=$K/00a3928bde544dbb4fd046bb78439178ec37fb5a/pkg/kubelet/images/image_manager.go")
add NVIDIA/k8s-device-plugin v0.9.0 main.go
add NVIDIA/k8s-device-plugin v0.12.3 cmd/nvidia-device-plugin/main.go
for t in v0.14.5; do add NVIDIA/k8s-device-plugin $t cmd/nvidia-device-plugin/main.go internal/plugin/manager/factory.go internal/rm/rm.go; done
for t in v0.17.0 v0.19.0; do add NVIDIA/k8s-device-plugin $t cmd/nvidia-device-plugin/main.go internal/plugin/factory.go internal/rm/rm.go; done
add NVIDIA/gpu-driver-container 924d2b03d9991cb19232538e579686703700d456 ubuntu20.04/nvidia-driver rhel8/nvidia-driver centos7/nvidia-driver
add NVIDIA/gpu-driver-container 06a208ca9747c82b1ba99b76ecdcf2469b0a0207 ubuntu22.04/nvidia-driver ubuntu24.04/nvidia-driver rhel9/nvidia-driver
if want kubernetes; then $H --family kubernetes "${ARGS[@]}"; fi
