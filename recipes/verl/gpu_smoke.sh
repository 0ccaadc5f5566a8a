#!/usr/bin/env bash
# A first check of a GPU node: 2 GRPO steps of Qwen3-0.6B on 1 GPU with the AWM recipe (4 demo tasks x 4
# rollouts per step, up to 4 turns, console logging), then PASS/FAIL on what a working setup shows:
#   2 steps logged; rollouts take more than one turn on average; a finite policy loss; vLLM's log-probs agree with
#   the trainer's (training/rollout_probs_diff_mean); no out-of-memory. Sized for under 8 minutes on one H200, vLLM
#   start-up included (not yet timed on a GPU).
#
# Needs, on the node (no network while it runs):
#   pip install "verl[vllm]==0.9.1" -e ".[train]"      # verl, vLLM, Ray, awm-release
#   hf download Qwen/Qwen3-0.6B                        # the model, in the Hugging Face cache (or MODEL_PATH=folder)
# The data is the embedded demo bundles, packed into a local release under SMOKE_DIR: nothing to download.
#
#   bash recipes/verl/gpu_smoke.sh                      # run and check; exit 0 on PASS
#   AWM_DRY_RUN=1 bash recipes/verl/gpu_smoke.sh        # what it checks first (stderr) and verl's overrides (stdout)
# Arguments are extra Hydra overrides, e.g. actor_rollout_ref.rollout.gpu_memory_utilization=0.4.
set -euo pipefail

SMOKE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${SMOKE_DIR:=$SMOKE_ROOT/data/verl/gpu-smoke}"
: "${PYTHON:=python3}"
SMOKE_STEPS=2

# The run, as settings of the recipe (recipes/verl/common.sh reads them).
: "${MODEL_PATH:=Qwen/Qwen3-0.6B}"
export MODEL_PATH NNODES=1 GPUS_PER_NODE=1 ROLLOUT_TP=1 FSDP_OFFLOAD=false
: "${GPU_MEMORY_UTILIZATION:=0.5}" "${MAX_TOKENS_PER_GPU:=16384}"
export GPU_MEMORY_UTILIZATION MAX_TOKENS_PER_GPU
export TRAIN_BATCH_SIZE=4 PPO_MINI_BATCH_SIZE=1 ROLLOUT_N=4 TOTAL_STEPS=$SMOKE_STEPS MAX_TURNS=4
export MAX_RESPONSE_LENGTH=1024 MAX_MODEL_LEN=16384 LOGGER=console SERVER_WORKERS=2 SAVE_FREQ=-1 TEST_FREQ=-1
export AWM_DATASET=$SMOKE_DIR/release AWM_REVISION="" DATA_DIR=$SMOKE_DIR EXPERIMENT_NAME=gpu-smoke
export CKPT_DIR=$SMOKE_DIR/checkpoints
SMOKE_OVERRIDES=(
    trainer.val_before_train=false
    actor_rollout_ref.rollout.enforce_eager=true           # no CUDA-graph capture: a faster vLLM start
    actor_rollout_ref.rollout.calculate_log_probs=true     # vLLM's log-probs, for the agreement check
)

# Prints what is missing on this node, one line each; returns non-zero if anything is.
smoke_missing() {
    local missing=0
    if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
        echo "missing: a GPU (nvidia-smi lists none)"; missing=1
    fi
    for module in verl vllm ray awm_release; do
        if ! "$PYTHON" -c "import $module" >/dev/null 2>&1; then
            echo "missing: the Python package $module for $PYTHON (pip install \"verl[vllm]==0.9.1\" -e \".[train]\")"
            missing=1
        fi
    done
    if [[ ! -d "$MODEL_PATH" ]] && ! "$PYTHON" -c "from huggingface_hub import snapshot_download as s; s('$MODEL_PATH', local_files_only=True)" >/dev/null 2>&1; then
        echo "missing: the model $MODEL_PATH in the Hugging Face cache (hf download $MODEL_PATH)"; missing=1
    fi
    return $missing
}

# Packs the demo bundles into SMOKE_DIR/release unless it is there.
smoke_release() {
    if [[ -f "$SMOKE_DIR/release/manifest.json" ]]; then
        return
    fi
    awm demo --out "$SMOKE_DIR/bundles"
    awm release pack "$SMOKE_DIR/bundles" --out "$SMOKE_DIR/release" --version 0.0.1 --overwrite
}

if [[ "${AWM_DRY_RUN:-0}" == 1 ]]; then
    {
        echo "gpu_smoke: $SMOKE_STEPS GRPO steps of $MODEL_PATH on 1 GPU; data and logs in $SMOKE_DIR"
        smoke_missing || echo "gpu_smoke: a real run would stop here until the above is installed or fetched"
    } >&2
    source "$SMOKE_ROOT/recipes/verl/common.sh"
    printf '%s\n' "${AWM_GRPO_OVERRIDES[@]}" "${SMOKE_OVERRIDES[@]}" "$@"
    exit 0
fi

if ! smoke_missing >&2; then
    echo "gpu_smoke: FAIL before starting: install or fetch what is missing (see the top of $0)" >&2
    exit 2
fi
started=$SECONDS
smoke_release
source "$SMOKE_ROOT/recipes/verl/common.sh"
awm_grpo_prepare_data
mkdir -p "$SMOKE_DIR"
log=$SMOKE_DIR/run.log
set +e
HF_HUB_OFFLINE=1 "$PYTHON" -m verl.trainer.main_ppo "${AWM_GRPO_OVERRIDES[@]}" "${SMOKE_OVERRIDES[@]}" "$@" 2>&1 | tee "$log"
run_status=${PIPESTATUS[0]}
set -e
echo "gpu_smoke: verl exited with status $run_status after $((SECONDS - started)) s; its log: $log"
"$PYTHON" -m awm_release.training.smoke_check "$log" --steps "$SMOKE_STEPS"
