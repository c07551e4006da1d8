#!/usr/bin/env bash
# Writes the crafted seeds of the fuzz corpus (fuzz/corpus/<format>/, one folder per cargo-fuzz target) from
# their definitions in tests/hostile_files.rs; the inputs cargo-fuzz found and were kept stay as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
SLIM_BLESS=1 cargo test --quiet --test hostile_files the_committed_corpus_holds_every_crafted_seed
