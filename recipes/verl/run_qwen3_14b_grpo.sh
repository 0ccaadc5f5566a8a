#!/usr/bin/env bash
# GRPO on AWM environments with Qwen3-14B, the paper's settings (common.sh), sized for two nodes of
# 8 GPUs (80 GB) with FSDP offload.
# Every setting is an environment variable (listed in common.sh); arguments are extra Hydra overrides.
: "${MODEL_PATH:=Qwen/Qwen3-14B}"
: "${NNODES:=2}"
: "${ROLLOUT_TP:=4}"
: "${GPU_MEMORY_UTILIZATION:=0.6}"
: "${MAX_TOKENS_PER_GPU:=32768}"
: "${FSDP_OFFLOAD:=true}"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
awm_grpo_main "$@"
