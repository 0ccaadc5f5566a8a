"""Typed schemas of the two configs, as `datasets` Features.

Writing shards with these (their Arrow schema carries the `huggingface` metadata) makes the stock
`load_dataset` read exactly these types back, with no inference.
"""

from __future__ import annotations

from datasets import Features, List, Value


_CODE = {"code": Value("string"), "raw_response": Value("string")}

ENVS_FEATURES = Features({
    "format_version": Value("int32"),
    "bundle_id": Value("string"),
    "display_name": Value("string"),
    "description": Value("string"),
    "tasks": List(Value("string")),
    "tables": List({"name": Value("string"), "ddl": Value("string"), "indexes": List(Value("string"))}),
    "seed": List({"table_name": Value("string"), "reasoning": Value("string"), "insert_statements": List(Value("string"))}),
    "env_code": Value("string"),
    "verifiers": List({"task_idx": Value("int32"), "code": _CODE, "sql": _CODE}),
    "api_spec": Value("string"),
    "awm1k": Value("string"),
    "sha256": Value("string"),
    "split_role": Value("string"),
})

TASKS_FEATURES = Features({
    "bundle_id": Value("string"),
    "task_idx": Value("int32"),
    "task": Value("string"),
    "verifiers": {"code": Value("string"), "sql": Value("string")},
    "split": Value("string"),
})
