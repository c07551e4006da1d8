#!/usr/bin/env bash
# The CPU-speed table: the peers' four workloads timed with slim and raw tch (benches/workloads.rs) and, where
# their virtual environments exist (shared/bench/setup-peers.sh), with PyTorch eager and TF-Slim, one process
# at a time in one sitting; then scripts/bench_table.py prints the table with ratios.
#
#   scripts/bench-workloads.sh [RESULTS.jsonl]     (STEPS, WARMUP, THREADS, SLIM_BENCH_PEERS override)
set -euo pipefail
cd "$(dirname "$0")/.."

results=${1:-target/bench/workloads.jsonl}
peers=${SLIM_BENCH_PEERS:-../shared/bench}
steps=${STEPS:-30}
# 30 warm-up steps for every framework: slim's TrainOp::step tries one thread against two in its first 27 steps
# (its thread trial), and the table compares steady states.
warmup=${WARMUP:-30}
threads=${THREADS:-2}
torch_python=${TORCH_PYTHON:-/tmp/venv-torch/bin/python}
tf_python=${TF_PYTHON:-/tmp/venv-tf/bin/python}

make --quiet libtorch
cargo bench --bench workloads --no-run -q
mkdir -p "$(dirname "$results")"
: >"$results"

run() { # appends the JSON lines a command prints
    echo "+ $*" >&2
    "$@" | grep '^{' >>"$results" || echo "  (failed: $*)" >&2
}

for workload in w1 w2 w3 w4; do
    run cargo bench -q --bench workloads -- "$workload" --steps "$steps" --warmup "$warmup" --threads "$threads"
    peer_args=(--wl "$workload" --threads "$threads" --warmup "$warmup" --steps "$steps")
    if [[ -x $torch_python && -d $peers/py ]]; then
        run "$torch_python" "$peers/py/torch_bench.py" "${peer_args[@]}"
        [[ $workload == w3 ]] || run "$torch_python" "$peers/py/torch_bench.py" "${peer_args[@]}" --channels-last
    fi
    if [[ -x $tf_python && -d $peers/py ]]; then
        run "$tf_python" "$peers/py/slim_bench.py" "${peer_args[@]}"
    fi
done
python3 scripts/bench_table.py "$results"
