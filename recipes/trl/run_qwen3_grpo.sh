#!/usr/bin/env bash
# GRPO on AWM environments with TRL and Qwen3 on one node of GPUs: writes the data, starts awm-serve on loopback,
# then runs recipes/trl/train_grpo.py under `accelerate launch` (the paper's step; see that file's --help).
# Every setting is an environment variable; arguments go to train_grpo.py, e.g. `--steps 8 --report-to wandb`.
#
#   TRUST_REMOTE_CODE=1 bash recipes/trl/run_qwen3_grpo.sh          # Qwen3-4B on 8 GPUs, awm/envs from the Hub
#   MODEL_PATH=Qwen/Qwen3-8B NUM_GPUS=4 bash recipes/trl/run_qwen3_grpo.sh --rollouts-per-gpu 2
#   AWM_DRY_RUN=1 bash recipes/trl/run_qwen3_grpo.sh                # print the commands; run nothing
set -euo pipefail

RECIPE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${MODEL_PATH:=Qwen/Qwen3-4B}"
: "${NUM_GPUS:=8}"
: "${AWM_DATASET:=awm/envs}"          # a Hub dataset repo or a local release folder (`awm release pack`)
: "${AWM_REVISION=v1.0.0}"            # its version tag; empty for a local folder
: "${TRUST_REMOTE_CODE:=0}"           # 1: consent to running a Hub dataset's environment and verifier code
_dataset_tag=${AWM_DATASET%/}
: "${DATA_DIR:=$RECIPE_ROOT/data/trl/${_dataset_tag##*/}-${AWM_REVISION:-local}}"
: "${SERVER_PORT:=8000}"
: "${SERVER_WORKERS:=16}"             # awm-serve worker processes; tool calls take milliseconds
: "${JUDGE_BASE_URL=}"                # with --verify-mode sql: the judge's endpoint and model
: "${JUDGE_MODEL=}"
: "${PYTHON:=python3}"

if [[ -d "$AWM_DATASET" ]]; then
    release=$AWM_DATASET
    data_cmd=(awm train data --dataset "$AWM_DATASET" --out "$DATA_DIR" --format trl)
else
    release=$DATA_DIR/release
    data_cmd=(awm train data --dataset "$AWM_DATASET" ${AWM_REVISION:+--revision "$AWM_REVISION"} --out "$DATA_DIR"
              --format trl --release-dir "$release" --trust-remote-code)
fi
serve_cmd=(awm-serve --dataset "$release" --workers "$SERVER_WORKERS" --host 127.0.0.1 --port "$SERVER_PORT"
           --log-level warning ${JUDGE_BASE_URL:+--judge-base-url "$JUDGE_BASE_URL" --judge-model "$JUDGE_MODEL"})
train_cmd=(accelerate launch --num_processes "$NUM_GPUS" "$RECIPE_ROOT/recipes/trl/train_grpo.py" --model "$MODEL_PATH"
           --data "$DATA_DIR" --server "http://127.0.0.1:$SERVER_PORT" --gpus "$NUM_GPUS" "$@")

if [[ "${AWM_DRY_RUN:-0}" == 1 ]]; then
    printf '%s\n' "${data_cmd[*]}" "${serve_cmd[*]}" "${train_cmd[*]}"
    exit 0
fi

if [[ ! -d "$AWM_DATASET" && "$TRUST_REMOTE_CODE" != 1 ]]; then
    echo "recipes/trl: $AWM_DATASET is a Hub dataset whose environment and verifier code awm-serve executes" \
        "(sandboxed); set TRUST_REMOTE_CODE=1 once you trust it, or point AWM_DATASET at a local release folder" >&2
    exit 2
fi
if [[ ! -f "$DATA_DIR/train.parquet" || ! -f "$release/manifest.json" ]]; then
    "${data_cmd[@]}"
fi
"${serve_cmd[@]}" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
healthy() {
    "$PYTHON" -c "import httpx, sys; sys.exit(httpx.get('http://127.0.0.1:$SERVER_PORT/health').status_code != 200)" 2>/dev/null
}
for _ in $(seq 900); do  # the first start hydrates the release's bundles
    healthy && break
    kill -0 "$server_pid" 2>/dev/null || { echo "recipes/trl: awm-serve exited; see its output above" >&2; exit 2; }
    sleep 1
done
healthy || { echo "recipes/trl: awm-serve did not answer on port $SERVER_PORT within 15 minutes" >&2; exit 2; }
"${train_cmd[@]}"
