#!/usr/bin/env bash
# GRPO on AWM environments with Qwen3-4B, the paper's settings (common.sh), sized for one node of 8 GPUs (80 GB).
# Every setting is an environment variable (listed in common.sh); arguments are extra Hydra overrides.
: "${MODEL_PATH:=Qwen/Qwen3-4B}"
: "${NNODES:=1}"
: "${ROLLOUT_TP:=1}"
: "${GPU_MEMORY_UTILIZATION:=0.7}"
: "${MAX_TOKENS_PER_GPU:=32768}"
: "${FSDP_OFFLOAD:=false}"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
awm_grpo_main "$@"
