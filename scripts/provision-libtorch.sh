#!/usr/bin/env bash
# Provisions libtorch 2.13.0 for tch 0.26 from PyPI wheels, idempotently, into .libtorch/ (git-ignored).
#
# A LIBTORCH that the user already exported wins: the script then only checks that it looks like a libtorch.
# Otherwise it downloads (pip download --no-deps, registry only) torch==2.13.0 and the two small NVIDIA runtime
# wheels that libtorch_cpu.so links against, and unpacks the shared libraries and headers.
# Prints the LIBTORCH directory on its last line of stdout.
set -euo pipefail

TORCH_VERSION=2.13.0
CUDA_RUNTIME="nvidia-cuda-runtime==13.0.96.*"
CUDA_CUPTI="nvidia-cuda-cupti==13.0.85.*"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST="$ROOT/.libtorch"
STAMP="$DEST/.provisioned-$TORCH_VERSION"

die() { echo "provision-libtorch: $*" >&2; exit 1; }

if [ -n "${LIBTORCH:-}" ] && [ "$LIBTORCH" != "$DEST" ]; then
  [ -d "$LIBTORCH/lib" ] && [ -d "$LIBTORCH/include" ] \
    || die "LIBTORCH=$LIBTORCH is set but has no lib/ and include/ folders; unset it to provision libtorch $TORCH_VERSION here"
  echo "$LIBTORCH"
  exit 0
fi

if [ -f "$STAMP" ]; then
  echo "$DEST"
  exit 0
fi

PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null 2>&1 \
  || die "python3 is needed to fetch libtorch from PyPI; install it (Debian: apt-get install python3 python3-pip) or set LIBTORCH to an existing libtorch $TORCH_VERSION"
"$PYTHON" -m pip --version >/dev/null 2>&1 \
  || die "pip is needed to fetch libtorch from PyPI; install it (Debian: apt-get install python3-pip) or set LIBTORCH to an existing libtorch $TORCH_VERSION"

WHEELS="$DEST.wheels"
mkdir -p "$WHEELS"
echo "provision-libtorch: downloading torch==$TORCH_VERSION and the CUDA runtime wheels into $WHEELS" >&2
"$PYTHON" -m pip download --quiet --no-deps --dest "$WHEELS" \
  "torch==$TORCH_VERSION" "$CUDA_RUNTIME" "$CUDA_CUPTI" >&2

STAGING="$DEST.staging"
rm -rf "$STAGING"
mkdir -p "$STAGING/lib"
echo "provision-libtorch: unpacking into $DEST" >&2
"$PYTHON" - "$WHEELS" "$STAGING" <<'PY'
import glob, os, shutil, sys, zipfile

wheels, staging = sys.argv[1], sys.argv[2]
# CPU libraries only: without libtorch_cuda.so, torch-sys links the CPU build.
torch_libs = {"libc10.so", "libgomp.so.1", "libshm.so", "libtorch.so", "libtorch_cpu.so", "libtorch_global_deps.so"}
cuda_libs = {"libcudart.so.13", "libcupti.so.13"}

def extract(member, target, archive):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with archive.open(member) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)

found = set()
for wheel in sorted(glob.glob(os.path.join(wheels, "*.whl"))):
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.endswith("/"):
                continue
            base = os.path.basename(member)
            if member.startswith("torch/include/"):
                extract(member, os.path.join(staging, member[len("torch/"):]), archive)
            elif member.startswith("torch/lib/") and base in torch_libs:
                extract(member, os.path.join(staging, "lib", base), archive)
                found.add(base)
            elif member.startswith("nvidia/") and base in cuda_libs:
                extract(member, os.path.join(staging, "lib", base), archive)
                found.add(base)
missing = (torch_libs | cuda_libs) - found
if missing:
    sys.exit("provision-libtorch: the wheels lack " + ", ".join(sorted(missing)))
PY

rm -rf "$DEST"
mv "$STAGING" "$DEST"
touch "$STAMP"
rm -rf "$WHEELS"
echo "$DEST"
