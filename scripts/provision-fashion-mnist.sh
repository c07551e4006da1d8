#!/usr/bin/env bash
# Provisions Fashion-MNIST, idempotently, and prints its directory on the last line of stdout.
#
# Looked for in order: $SLIM_FASHION_MNIST, Debian's /usr/share/datasets/fashion-mnist (package
# dataset-fashion-mnist), then data/fashion-mnist/ here (git-ignored). When none has the four files, the Debian
# package is fetched with `apt-get download` (a package registry, no web download, no root needed) and unpacked
# into data/fashion-mnist/ with dpkg-deb; nothing is installed system-wide.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST="$ROOT/data/fashion-mnist"
PACKAGE=dataset-fashion-mnist
FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

die() { echo "provision-fashion-mnist: $*" >&2; exit 1; }

# Whether $1 holds the four IDX files, raw or gzipped.
complete() {
  local file
  for file in $FILES; do
    [ -f "$1/$file.gz" ] || [ -f "$1/$file" ] || return 1
  done
}

if [ -n "${SLIM_FASHION_MNIST:-}" ]; then
  complete "$SLIM_FASHION_MNIST" \
    || die "SLIM_FASHION_MNIST=$SLIM_FASHION_MNIST lacks some of: $FILES (raw or .gz); unset it to provision the data here"
  echo "$SLIM_FASHION_MNIST"
  exit 0
fi
for dir in /usr/share/datasets/fashion-mnist "$DEST"; do
  if complete "$dir"; then
    echo "$dir"
    exit 0
  fi
done

command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 \
  || die "no Fashion-MNIST found and no apt-get/dpkg-deb to fetch Debian's $PACKAGE; put the four IDX files ($FILES, raw or .gz) in a folder and export SLIM_FASHION_MNIST=<folder>"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "provision-fashion-mnist: fetching Debian's $PACKAGE (31 MB) into $DEST" >&2
if ! (cd "$WORK" && apt-get download "$PACKAGE" >"$WORK/apt.log" 2>&1); then
  if [ "$(id -u)" = 0 ]; then
    echo "provision-fashion-mnist: refreshing the package lists (apt-get update)" >&2
    apt-get update >"$WORK/update.log" 2>&1 || { cat "$WORK/update.log" >&2; die "apt-get update failed"; }
    (cd "$WORK" && apt-get download "$PACKAGE" >"$WORK/apt.log" 2>&1) \
      || { cat "$WORK/apt.log" >&2; die "apt-get download $PACKAGE failed"; }
  else
    cat "$WORK/apt.log" >&2
    die "apt-get download $PACKAGE failed; run 'apt-get update' as root, or install $PACKAGE, or export SLIM_FASHION_MNIST"
  fi
fi

dpkg-deb -x "$WORK"/"$PACKAGE"_*.deb "$WORK/root"
complete "$WORK/root/usr/share/datasets/fashion-mnist" || die "the package $PACKAGE lacks some of: $FILES"
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST.staging"
mv "$WORK/root/usr/share/datasets/fashion-mnist" "$DEST.staging"
rm -rf "$DEST"
mv "$DEST.staging" "$DEST"
echo "$DEST"
