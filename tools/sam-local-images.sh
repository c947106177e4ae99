#!/usr/bin/env bash
# Provides the Lambda runtime images that `sam local` runs python3.13 functions in, for both architectures
# tests/sam_local uses: public.ecr.aws/lambda/python:3.13-x86_64 and public.ecr.aws/lambda/python:3.13-arm64.
#
# Usage: make sam-local-images [SAM_LOCAL_IMAGE_SOURCE=auto|pull|build]
#   auto (default)  `docker pull` each missing image; if the pull fails (no image registry reachable), build it
#   pull            `docker pull` only
#   build           build a stand-in offline: only the Debian mirror and PyPI are contacted, never an image registry
#                   (.ci/run's default; a CI that reaches public.ecr.aws sets SAM_LOCAL_IMAGE_SOURCE=pull)
#
# Images already in Docker are kept. When no Docker daemon answers, root gets docker.io installed (apt) and dockerd
# started (log in $DOCKERD_LOG); anyone else is told to start Docker. An arm64 image on an x86_64 Linux host runs
# under qemu-user-static through binfmt_misc, installed the same way (Docker Desktop has its own).
#
# The stand-in (root only, about 3 minutes for both): a Debian minbase root filesystem with its python3.13, the
# Lambda Runtime Interface Client for Python (awslambdaric, PyPI) started by /var/runtime/bootstrap as in AWS's image,
# and boto3 as the runtime's bundled SDK. SAM CLI adds its runtime emulator on top, as it does with AWS's image.
# Run SAM with --skip-pull-image (or SAM_SKIP_PULL_IMAGE=1) so that it does not ask a registry about it.
set -euo pipefail

SOURCE=${SAM_LOCAL_IMAGE_SOURCE:-auto}
ARCHITECTURES=(x86_64 arm64)
PYTHON_VERSION=3.13
IMAGE_PREFIX=public.ecr.aws/lambda/python:$PYTHON_VERSION
DEBIAN_SUITE=trixie # the Debian release whose python3 is 3.13
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
AWSLAMBDARIC_VERSION=4.2.2
BOTO3_VERSION=1.43.108 # the project's pin (pyproject.toml)
WORK_DIR=${SAM_LOCAL_IMAGE_WORK_DIR:-/tmp/sam-local-images}
DOCKERD_LOG=${DOCKERD_LOG:-/tmp/dockerd.log}

log() { printf '[sam-local-images %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
  log "$*"
  exit 1
}
is_root() { [ "$(id -u)" = 0 ]; }
docker_answers() { docker info >/dev/null 2>&1; }
has_image() { docker image inspect "$IMAGE_PREFIX-$1" >/dev/null 2>&1; }
debian_architecture() { [ "$1" = x86_64 ] && echo amd64 || echo arm64; }

case $SOURCE in auto | pull | build) ;; *) die "SAM_LOCAL_IMAGE_SOURCE must be auto, pull or build, not '$SOURCE'" ;; esac
case $(uname -m) in
  x86_64 | amd64) HOST_ARCHITECTURE=x86_64 ;;
  aarch64 | arm64) HOST_ARCHITECTURE=arm64 ;;
  *) die "unsupported host architecture $(uname -m)" ;;
esac

apt_install() {
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

start_docker() {
  docker_answers && return
  is_root || die "no Docker daemon answers: start Docker (Docker Desktop, or 'sudo systemctl start docker'), or run this as root"
  command -v dockerd >/dev/null || apt_install docker.io
  log "starting dockerd (log: $DOCKERD_LOG)"
  # The daemon outlives this script: it must not inherit its open files (a caller's `flock` lock, say, would then be
  # held for as long as dockerd runs).
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null
  ) &
  for _ in $(seq 60); do
    docker_answers && return
    sleep 1
  done
  die "dockerd did not answer within 60 s: see $DOCKERD_LOG"
}

# Foreign binaries, in containers and chroots alike, need a binfmt_misc handler with the F (fix-binary) flag, which
# Debian's qemu-user-static registers.
enable_emulation_of() {
  local architecture=$1 handler
  [ "$architecture" != "$HOST_ARCHITECTURE" ] || return 0
  [ "$(uname -s)" = Linux ] || return 0
  [ "$architecture" = arm64 ] && handler=qemu-aarch64 || handler=qemu-x86_64
  grep -qs '^flags: .*F' "/proc/sys/fs/binfmt_misc/$handler" && return
  is_root || die "running $architecture images needs qemu-user-static registered in binfmt_misc: run this as root"
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc \
    || die "cannot mount binfmt_misc (a kernel without CONFIG_BINFMT_MISC, or an unprivileged container)"
  command -v "$handler-static" >/dev/null || apt_install qemu-user-static binfmt-support
  update-binfmts --enable "$handler" >/dev/null 2>&1 || true
  grep -qs '^flags: .*F' "/proc/sys/fs/binfmt_misc/$handler" \
    || die "$handler is not registered in binfmt_misc with the F flag: $architecture binaries cannot run here"
}

pull() {
  local architecture=$1
  docker pull --platform "linux/$(debian_architecture "$architecture")" "$IMAGE_PREFIX-$architecture"
}

# ---- The offline stand-in ----

# Files of the runtime layer, at the paths of AWS's python3.13 image, written once into $WORK_DIR/runtime.
write_runtime_files() {
  local runtime=$WORK_DIR/runtime
  rm -rf "$runtime" && mkdir -p "$runtime"
  cat >"$runtime/lambda-entrypoint.sh" <<'EOF'
#!/bin/sh
# `docker run IMAGE module.handler` behind the runtime emulator, or bare where a Runtime API is given.
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie /var/runtime/bootstrap
fi
exec /var/runtime/bootstrap
EOF
  # bash: `exec --` below is not POSIX sh (Debian's dash refuses it, so no wrapper could start).
  # An interpreter option before the bootstrap: a wrapper script must pass such options on.
  cat >"$runtime/bootstrap" <<EOF
#!/bin/bash
# The runtime emulator starts this with _HANDLER and AWS_LAMBDA_RUNTIME_API set; AWS_LAMBDA_EXEC_WRAPPER as on Lambda.
export AWS_EXECUTION_ENV=AWS_Lambda_python$PYTHON_VERSION
if [ -z "\${AWS_LAMBDA_EXEC_WRAPPER}" ]; then
  exec /var/lang/bin/python$PYTHON_VERSION -Xfrozen_modules=off /var/runtime/bootstrap.py
fi
[ -f "\$AWS_LAMBDA_EXEC_WRAPPER" ] || { echo "\$AWS_LAMBDA_EXEC_WRAPPER: does not exist"; exit 127; }
[ -x "\$AWS_LAMBDA_EXEC_WRAPPER" ] || { echo "\$AWS_LAMBDA_EXEC_WRAPPER: is not an executable"; exit 126; }
exec -- "\$AWS_LAMBDA_EXEC_WRAPPER" /var/lang/bin/python$PYTHON_VERSION -Xfrozen_modules=off /var/runtime/bootstrap.py
EOF
  cat >"$runtime/bootstrap.py" <<EOF
"""Starts the runtime interface client with Lambda's module search order: function code, layers, the standard
library, the runtime's bundled packages (boto3), then the runtime client itself."""
import os
import sys

task_root = os.environ.get("LAMBDA_TASK_ROOT", "/var/task")
sys.path[:] = [entry for entry in sys.path if entry not in ("", "/var/runtime")]
sys.path[0:0] = [task_root, "/opt/python/lib/python$PYTHON_VERSION/site-packages", "/opt/python"]
sys.path += ["/var/lang/lib/python$PYTHON_VERSION/site-packages", "/var/runtime"]

from awslambdaric.__main__ import main  # noqa: E402

main([sys.argv[0], os.environ["_HANDLER"]])
EOF
  cat >"$runtime/Dockerfile" <<'EOF'
FROM scratch
ADD rootfs.tar /
ENV LANG=C.UTF-8 \
    TZ=:/etc/localtime \
    PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin \
    LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib \
    LAMBDA_TASK_ROOT=/var/task \
    LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task
ENTRYPOINT ["/lambda-entrypoint.sh"]
EOF
}

# debootstrap runs every package's maintainer scripts, which for a foreign architecture means minutes under qemu.
# There its first stage only downloads; unpacking on the host and the few configuration steps done by hand give the
# same files in about 30 s.
debian_root_filesystem() {
  local debian_architecture=$1 rootfs=$2 foreign=$3 package
  local arguments=(--variant=minbase --arch="$debian_architecture" --include="python$PYTHON_VERSION,ca-certificates")
  [ "$foreign" = no ] || arguments+=(--foreign)
  debootstrap "${arguments[@]}" "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$WORK_DIR/debootstrap.log" 2>&1 \
    || die "debootstrap failed: see $WORK_DIR/debootstrap.log"
  [ "$foreign" = yes ] || return 0
  for package in "$rootfs"/var/cache/apt/archives/*.deb; do
    dpkg-deb --fsys-tarfile "$package" | tar --keep-directory-symlink -xf - -C "$rootfs"
  done
  rm -rf "$rootfs/debootstrap"
  mkdir -p "$rootfs"/usr/local/{bin,include,lib,sbin,share} "$rootfs/root" "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  sed 's/^\([^:]*\):\*:/\1:x:/' "$rootfs/usr/share/base-passwd/passwd.master" >"$rootfs/etc/passwd"
  sed 's/^\([^:]*\):\*:/\1:x:/' "$rootfs/usr/share/base-passwd/group.master" >"$rootfs/etc/group"
  ln -sf /usr/share/zoneinfo/Etc/UTC "$rootfs/etc/localtime"
  echo Etc/UTC >"$rootfs/etc/timezone"
  mkdir -p "$rootfs/etc/ssl/certs" # update-ca-certificates' bundle: every certificate, each ending in a newline
  find "$rootfs/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs awk 1 \
    >"$rootfs/etc/ssl/certs/ca-certificates.crt"
}

build() {
  local architecture=$1 debian_architecture wheel_platform rootfs context image started=$SECONDS
  debian_architecture=$(debian_architecture "$architecture")
  [ "$architecture" = x86_64 ] && wheel_platform=manylinux2014_x86_64 || wheel_platform=manylinux2014_aarch64
  is_root || die "building the $architecture stand-in needs root (debootstrap, chroot): run it as root"
  command -v debootstrap >/dev/null || apt_install debootstrap
  rootfs=$WORK_DIR/rootfs-$debian_architecture
  rm -rf "$rootfs"
  log "[$architecture] Debian $DEBIAN_SUITE root filesystem with python$PYTHON_VERSION"
  debian_root_filesystem "$debian_architecture" "$rootfs" "$([ "$architecture" = "$HOST_ARCHITECTURE" ] && echo no || echo yes)"

  log "[$architecture] awslambdaric $AWSLAMBDARIC_VERSION and boto3 $BOTO3_VERSION from PyPI"
  local pip=("$PYTHON" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --no-compile
    --only-binary=:all: --platform "$wheel_platform" --implementation cp --python-version "$PYTHON_VERSION")
  PIP_ROOT_USER_ACTION=ignore "${pip[@]}" --target "$rootfs/var/runtime" "awslambdaric==$AWSLAMBDARIC_VERSION"
  PIP_ROOT_USER_ACTION=ignore "${pip[@]}" --target "$rootfs/var/lang/lib/python$PYTHON_VERSION/site-packages" \
    "boto3==$BOTO3_VERSION"
  rm -rf "$rootfs/var/runtime/bin" "$rootfs/var/lang/lib/python$PYTHON_VERSION/site-packages/bin"
  install -m 755 "$WORK_DIR/runtime/bootstrap" "$rootfs/var/runtime/bootstrap"
  install -m 644 "$WORK_DIR/runtime/bootstrap.py" "$rootfs/var/runtime/bootstrap.py"
  install -m 755 "$WORK_DIR/runtime/lambda-entrypoint.sh" "$rootfs/lambda-entrypoint.sh"
  mkdir -p "$rootfs/var/lang/bin" "$rootfs/var/task" "$rootfs/opt"
  for name in "python$PYTHON_VERSION" python3 python; do ln -sf "/usr/bin/python$PYTHON_VERSION" "$rootfs/var/lang/bin/$name"; done
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/{doc,man,info,locale}/*

  # Without .pyc files every cold start compiles the imports again: under qemu, `import boto3` takes about 45 s
  # instead of 7 s. The host's python3.13 writes the same files faster than the image's own under qemu.
  local folders=("/usr/lib/python$PYTHON_VERSION" /var/runtime "/var/lang/lib/python$PYTHON_VERSION/site-packages")
  "$PYTHON" -m compileall -q -j0 -s "$rootfs" -p / "${folders[@]/#/$rootfs}" >/dev/null \
    || log "[$architecture] some files did not byte-compile"

  # The runtime client, its CA bundle and boto3 load the way the emulator will load them.
  chroot "$rootfs" /usr/bin/env -i PATH=/usr/bin:/bin "/var/lang/bin/python$PYTHON_VERSION" -c "
import ssl, sys
sys.path += ['/var/runtime', '/var/lang/lib/python$PYTHON_VERSION/site-packages']
sys.argv = ['check']
import awslambdaric.bootstrap, boto3
ssl.create_default_context()
" || die "[$architecture] the runtime client does not start in the root filesystem"

  context=$WORK_DIR/context-$debian_architecture
  image=$IMAGE_PREFIX-$architecture
  rm -rf "$context" && mkdir -p "$context" && cp "$WORK_DIR/runtime/Dockerfile" "$context/"
  tar -C "$rootfs" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$context/rootfs.tar" .
  rm -rf "$rootfs"
  log "[$architecture] docker build"
  # FROM scratch with --platform labels the image with its architecture (docker import would not).
  docker build -q --platform "linux/$debian_architecture" -t "$image" "$context" >"$WORK_DIR/docker-build.log" 2>&1 \
    || die "docker build failed: see $WORK_DIR/docker-build.log"
  rm -rf "$context"
  # SAM CLI reuses the image it layers its emulator onto (-rapid-); one made from an earlier image would be stale.
  docker rmi "$IMAGE_PREFIX-rapid-$architecture" >/dev/null 2>&1 || true
  log "[$architecture] $image built in $((SECONDS - started)) s"
}

# ---- Main ----

started=$SECONDS
start_docker
missing=()
for architecture in "${ARCHITECTURES[@]}"; do has_image "$architecture" || missing+=("$architecture"); done
if [ ${#missing[@]} -eq 0 ]; then
  log "both images are in Docker already: ${ARCHITECTURES[*]/#/$IMAGE_PREFIX-}"
  for architecture in "${ARCHITECTURES[@]}"; do enable_emulation_of "$architecture"; done
  exit 0
fi
PYTHON=${PYTHON:-python$PYTHON_VERSION}
runtime_files_written=no
for architecture in "${missing[@]}"; do
  enable_emulation_of "$architecture"
  if [ "$SOURCE" != build ] && pull "$architecture"; then
    continue
  fi
  [ "$SOURCE" != pull ] || die "docker pull $IMAGE_PREFIX-$architecture failed; SAM_LOCAL_IMAGE_SOURCE=build builds it offline"
  [ "$SOURCE" = build ] || log "[$architecture] the pull failed: building a stand-in offline instead"
  if [ "$runtime_files_written" = no ]; then
    "$PYTHON" -m pip --version >/dev/null 2>&1 || die "building needs $PYTHON with pip (pyenv install $PYTHON_VERSION)"
    write_runtime_files
    runtime_files_written=yes
  fi
  build "$architecture"
done
log "done in $((SECONDS - started)) s; run SAM with --skip-pull-image to use them offline"
