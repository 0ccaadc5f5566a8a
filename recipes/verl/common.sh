# Shared settings and launch logic of the AWM GRPO recipes, sourced by run_qwen3_{4b,8b,14b}_grpo.sh after
# they set what differs by model size (each also an environment variable):
#   MODEL_PATH               Hub id or local folder of the model
#   NNODES                   nodes of GPUS_PER_NODE GPUs
#   ROLLOUT_TP               vLLM tensor parallel size
#   GPU_MEMORY_UTILIZATION   vLLM's share of each GPU (weights and KV cache)
#   MAX_TOKENS_PER_GPU       tokens per training micro-batch (dynamic batching); at least MAX_MODEL_LEN
#   FSDP_OFFLOAD             true: actor and reference parameters and optimizer state live on the CPU
#
# Defaults are the paper's (arXiv 2602.10090): GRPO, lr 7e-7, 64 tasks x 16 rollouts per step (1,024 rollouts),
# PPO mini-batch 16 tasks (4 optimizer updates per step, every rollout weighing the same), 96 steps, KL loss 0.001
# (low_var_kl, none in the reward), no entropy bonus, clip ratio 0.2 / 0.28, temperature 1.0, 32k context with
# 2,048 tokens per turn, 20 turns, history window 3, thinking on. Every variable below can be set in the
# environment; any other change is a Hydra override given as an argument, which comes last and so wins. Every
# key of the awm section is always set, so change one without `+`: `awm.history_window=5`, `awm.server_workers=8`.
#
#   recipes/verl/run_qwen3_8b_grpo.sh                                 # data is written first if missing
#   HISTORY_WINDOW=all NNODES=2 recipes/verl/run_qwen3_8b_grpo.sh trainer.save_freq=8
#   AWM_DRY_RUN=1 recipes/verl/run_qwen3_8b_grpo.sh                   # print the overrides, one a line; run nothing
#
# Several nodes: start a Ray cluster first (`ray start --head` here, `ray start --address HEAD:6379` on the
# others) and put DATA_DIR and CKPT_DIR on a file system every node sees.

set -euo pipefail

AWM_RECIPE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Absolute: Ray workers on other nodes resolve a relative path against their own working directory.
AWM_AGENT_LOOP_CONFIG=$AWM_RECIPE_ROOT/recipes/verl/config/awm_agent_loop.yaml

for _size_var in MODEL_PATH NNODES ROLLOUT_TP GPU_MEMORY_UTILIZATION MAX_TOKENS_PER_GPU FSDP_OFFLOAD; do
    if [[ -z "${!_size_var:-}" ]]; then
        echo "recipes/verl/common.sh: $_size_var is not set; run a launcher (recipes/verl/run_qwen3_*_grpo.sh)," \
            "which sets the per-size settings before sourcing this file" >&2
        exit 2
    fi
done

# Hardware and bookkeeping.
: "${GPUS_PER_NODE:=8}"
: "${PROJECT_NAME:=awm}"
: "${LOGGER:=console}"                # verl trackers, comma-separated: add wandb (after `wandb login`), tensorboard, ...
: "${SAVE_FREQ:=16}"                  # steps between checkpoints
: "${TEST_FREQ:=16}"                  # steps between validations on the validation split
: "${PYTHON:=python3}"                # the interpreter that has verl and awm-release[train]

# Environments and data: before training, `awm train data` turns the release's tasks into
# DATA_DIR/{train,validation}.parquet and, for a Hub dataset, downloads the release into DATA_DIR/release, which
# every node's awm-serve then reads (put DATA_DIR on a file system every node sees).
: "${AWM_DATASET:=awm/envs}"          # a Hub dataset repo or a local release folder (`awm release pack`)
: "${AWM_REVISION=v1.0.0}"            # its version tag or commit; empty for a local folder
: "${TRUST_REMOTE_CODE:=0}"           # 1: consent to running a Hub dataset's environment and verifier code
: "${AWM_ENV_SERVER_URL=}"            # one awm-serve for all rollouts; empty: one per Ray node, started on demand
: "${SERVER_WORKERS:=16}"             # worker processes of each node's awm-serve
: "${SESSION_CONCURRENCY:=64}"        # session creations in flight per agent-loop worker
: "${VERIFY_MODE:=code}"              # code (verifier code), or sql (an LLM judge: partial credit 0.1)
: "${JUDGE_BASE_URL=}"                # sql: the judge's OpenAI-compatible endpoint, e.g. http://judge-host:8001/v1
: "${JUDGE_MODEL=}"                   # sql: the model it serves, e.g. Qwen/Qwen3-32B (see recipes/verl/README.md)
: "${HISTORY_WINDOW:=3}"              # turns kept after the pinned prefix; all: plain multi-turn
: "${UPDATE_UNIT:=rollout}"           # rollout: the paper's updates per step and rollout weights; sample: verl's
: "${MAX_TOOL_RESULT_CHARS:=16000}"   # longer tool results are cut, with a marker saying so; 0: never
_dataset_tag=${AWM_DATASET%/}
: "${DATA_DIR:=$AWM_RECIPE_ROOT/data/verl/${_dataset_tag##*/}-${AWM_REVISION:-local}}"
if [[ -d "$AWM_DATASET" ]]; then
    AWM_RELEASE_DIR=$(cd "$AWM_DATASET" && pwd)  # a local release: every node reads it where it is
else
    AWM_RELEASE_DIR=$DATA_DIR/release             # a Hub release: `awm train data` downloads it here once
fi

# The paper's hyperparameters.
: "${LR:=7e-7}"
: "${TRAIN_BATCH_SIZE:=64}"           # tasks per step
: "${PPO_MINI_BATCH_SIZE:=16}"        # tasks per optimizer step (verl multiplies by ROLLOUT_N)
: "${ROLLOUT_N:=16}"                  # rollouts per task (the GRPO group)
: "${TOTAL_STEPS:=96}"
: "${KL_COEF:=0.001}"
: "${CLIP_RATIO_HIGH:=0.28}"
: "${TEMPERATURE:=1.0}"
: "${MAX_TURNS:=20}"                  # assistant turns per episode
: "${MAX_RESPONSE_LENGTH:=2048}"      # tokens per assistant turn
: "${MAX_MODEL_LEN:=32768}"           # the context; the prompt (task, pinned prefix, window) gets the rest

if [[ "$VERIFY_MODE" == sql && -z "$AWM_ENV_SERVER_URL" && ( -z "$JUDGE_BASE_URL" || -z "$JUDGE_MODEL" ) ]]; then
    echo "recipes/verl/common.sh: VERIFY_MODE=sql needs an LLM judge for the env servers: set JUDGE_BASE_URL and" \
        "JUDGE_MODEL (recipes/verl/README.md, \"Partial credit\", shows how to serve one with vLLM)" >&2
    exit 2
fi
if ((MAX_TOKENS_PER_GPU < MAX_MODEL_LEN)); then
    echo "recipes/verl/common.sh: MAX_TOKENS_PER_GPU=$MAX_TOKENS_PER_GPU is below MAX_MODEL_LEN=$MAX_MODEL_LEN; a" \
        "micro-batch must hold one whole padded sequence, so set MAX_TOKENS_PER_GPU to at least $MAX_MODEL_LEN" >&2
    exit 2
fi

_model_tag=${MODEL_PATH%/}
_model_tag=${_model_tag##*/}
: "${EXPERIMENT_NAME:=${_model_tag,,}-grpo-w${HISTORY_WINDOW}-${VERIFY_MODE}}"
: "${CKPT_DIR:=$AWM_RECIPE_ROOT/checkpoints/$PROJECT_NAME/$EXPERIMENT_NAME}"

# A free-form value as a Hydra quoted string: it stays a string (a revision like 1e10 is not a float) and may
# hold characters the override grammar reserves (`:` of a URL, spaces, commas).
hydra_str() {
    local value=$1
    printf "'%s'" "${value//\'/\\\'}"
}

# The same, or null when empty.
hydra_opt_str() {
    if [[ -n "$1" ]]; then hydra_str "$1"; else printf null; fi
}

AWM_GRPO_OVERRIDES=(
    # The v1 trainer: its TransferQueue path lets the agent loop return several samples per rollout; its sync
    # mode is on-policy, as in the paper.
    trainer.use_v1=true
    trainer.v1.trainer_mode=sync
    algorithm.adv_estimator=grpo
    algorithm.use_kl_in_reward=false

    data.train_files="$(hydra_str "$DATA_DIR/train.parquet")"
    data.val_files="$(hydra_str "$DATA_DIR/validation.parquet")"
    data.train_batch_size="$TRAIN_BATCH_SIZE"
    data.max_prompt_length=$((MAX_MODEL_LEN - MAX_RESPONSE_LENGTH))
    data.max_response_length="$MAX_RESPONSE_LENGTH"
    data.return_raw_chat=true
    +data.apply_chat_template_kwargs.enable_thinking=true

    actor_rollout_ref.model.path="$(hydra_str "$MODEL_PATH")"
    actor_rollout_ref.actor.optim.lr="$LR"
    actor_rollout_ref.actor.ppo_mini_batch_size="$PPO_MINI_BATCH_SIZE"
    actor_rollout_ref.actor.use_dynamic_bsz=true
    actor_rollout_ref.actor.ppo_max_token_len_per_gpu="$MAX_TOKENS_PER_GPU"
    actor_rollout_ref.actor.use_kl_loss=true
    actor_rollout_ref.actor.kl_loss_coef="$KL_COEF"
    actor_rollout_ref.actor.kl_loss_type=low_var_kl
    actor_rollout_ref.actor.entropy_coeff=0
    actor_rollout_ref.actor.clip_ratio_low=0.2
    actor_rollout_ref.actor.clip_ratio_high="$CLIP_RATIO_HIGH"
    actor_rollout_ref.actor.fsdp_config.param_offload="$FSDP_OFFLOAD"
    actor_rollout_ref.actor.fsdp_config.optimizer_offload="$FSDP_OFFLOAD"
    actor_rollout_ref.ref.fsdp_config.param_offload="$FSDP_OFFLOAD"

    actor_rollout_ref.rollout.name=vllm
    actor_rollout_ref.rollout.mode=async
    actor_rollout_ref.rollout.n="$ROLLOUT_N"
    actor_rollout_ref.rollout.temperature="$TEMPERATURE"
    actor_rollout_ref.rollout.max_model_len="$MAX_MODEL_LEN"
    actor_rollout_ref.rollout.tensor_model_parallel_size="$ROLLOUT_TP"
    actor_rollout_ref.rollout.gpu_memory_utilization="$GPU_MEMORY_UTILIZATION"
    actor_rollout_ref.rollout.multi_turn.enable=true
    actor_rollout_ref.rollout.multi_turn.max_assistant_turns="$MAX_TURNS"
    actor_rollout_ref.rollout.agent.default_agent_loop=awm_agent
    actor_rollout_ref.rollout.agent.agent_loop_config_path="$(hydra_str "$AWM_AGENT_LOOP_CONFIG")"
    # Validation samples like `awm eval` (Qwen3's thinking-mode settings): greedy thinking tends to loop.
    actor_rollout_ref.rollout.val_kwargs.do_sample=true
    actor_rollout_ref.rollout.val_kwargs.temperature=0.6
    actor_rollout_ref.rollout.val_kwargs.top_p=0.95
    actor_rollout_ref.rollout.val_kwargs.top_k=20

    # The AWM section (awm_release/training/settings.py): every key, so that any can be changed without `+`.
    +awm.history_window="$HISTORY_WINDOW"
    +awm.verify_mode="$VERIFY_MODE"
    +awm.update_unit="$UPDATE_UNIT"
    +awm.max_tool_result_chars="$MAX_TOOL_RESULT_CHARS"
    +awm.dataset="$(hydra_str "$AWM_DATASET")"
    +awm.revision="$(hydra_opt_str "$AWM_REVISION")"
    +awm.release_dir="$(hydra_str "$AWM_RELEASE_DIR")"
    +awm.trust_remote_code="$([[ "$TRUST_REMOTE_CODE" == 1 ]] && echo true || echo false)"
    +awm.env_server_url="$(hydra_opt_str "$AWM_ENV_SERVER_URL")"
    +awm.server_workers="$SERVER_WORKERS"
    +awm.judge_base_url="$(hydra_opt_str "$JUDGE_BASE_URL")"
    +awm.judge_model="$(hydra_opt_str "$JUDGE_MODEL")"
    +awm.session_concurrency="$SESSION_CONCURRENCY"
    # verl's sync trainer with AWM's mini-batches, rollout weights and per-step metrics, installed in every Ray
    # worker of the job (awm_release/training/verl_setup.py, verl_trainer.py).
    +ray_kwargs.ray_init.runtime_env.worker_process_setup_hook=awm_release.training.verl_setup.install

    trainer.nnodes="$NNODES"
    trainer.n_gpus_per_node="$GPUS_PER_NODE"
    trainer.total_training_steps="$TOTAL_STEPS"
    trainer.project_name="$(hydra_str "$PROJECT_NAME")"
    trainer.experiment_name="$(hydra_str "$EXPERIMENT_NAME")"
    trainer.logger="[$LOGGER]"
    trainer.save_freq="$SAVE_FREQ"
    trainer.test_freq="$TEST_FREQ"
    trainer.default_local_dir="$(hydra_str "$CKPT_DIR")"
    trainer.resume_mode=auto
    # Hydra's record of the resolved run config lands beside the checkpoints (CKPT_DIR/.hydra/config.yaml),
    # where `awm train release-model` reads the hyperparameters for the model card.
    hydra.run.dir="$(hydra_str "$CKPT_DIR")"
)

# Writes DATA_DIR/{train,validation}.parquet (and DATA_DIR/release for a Hub dataset) with `awm train data`,
# unless they are there.
awm_grpo_prepare_data() {
    if [[ -f "$DATA_DIR/train.parquet" && -f "$DATA_DIR/validation.parquet" && -f "$AWM_RELEASE_DIR/manifest.json" ]]; then
        return
    fi
    if ! command -v awm >/dev/null; then
        echo "recipes/verl: $DATA_DIR lacks train.parquet or validation.parquet and the \`awm\` command is not on" \
            "PATH; activate the environment where awm-release[train] is installed, or set DATA_DIR" >&2
        exit 2
    fi
    local revision=() consent=()
    if [[ -n "$AWM_REVISION" ]]; then
        revision=(--revision "$AWM_REVISION")
    fi
    if [[ ! -d "$AWM_DATASET" ]]; then  # a Hub dataset: its code runs on every node, so only with consent
        if [[ "$TRUST_REMOTE_CODE" != 1 ]]; then
            echo "recipes/verl: $AWM_DATASET is a Hub dataset whose environment and verifier code the training" \
                "servers execute (sandboxed); set TRUST_REMOTE_CODE=1 once you trust it, or point AWM_DATASET at a" \
                "local release folder" >&2
            exit 2
        fi
        consent=(--trust-remote-code)
    fi
    echo "recipes/verl: writing the training data to $DATA_DIR (awm train data)" >&2
    awm train data --dataset "$AWM_DATASET" "${revision[@]}" --out "$DATA_DIR" --release-dir "$AWM_RELEASE_DIR" \
        "${consent[@]}"
}

# Runs verl with the shared overrides, then the launcher's arguments (so that those win).
awm_grpo_main() {
    local overrides=("${AWM_GRPO_OVERRIDES[@]}" "$@")
    if [[ "${AWM_DRY_RUN:-0}" == 1 ]]; then
        printf '%s\n' "${overrides[@]}"
        exit 0
    fi
    awm_grpo_prepare_data
    exec "$PYTHON" -m verl.trainer.main_ppo "${overrides[@]}"
}
