"""`awm train release-model`: a real verl FSDP checkpoint -> verl's merger -> model card -> Hub model repo.

The checkpoint is written by verl's own FSDPCheckpointManager (FSDP2, two CPU ranks over gloo, a tiny Qwen3
and the tests' Qwen3-style tokenizer), so the merge runs verl's real merger on real shards; the run config is
the 8B launcher's overrides composed onto verl's `ppo_trainer` and written as Hydra writes `.hydra/config.yaml`;
the evaluation is written by `awm eval`'s own functions; the Hub is test_release_hub's loopback stand-in.
No GPU, no network.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from huggingface_hub import HfApi, ModelCard, constants
from omegaconf import OmegaConf
from safetensors.torch import load_file
from typer.testing import CliRunner

from awm_release.agent.episode import Episode
from awm_release.agent.eval import EvalSettings, write_summary
from awm_release.agent.model import Endpoint
from awm_release.agent.results import ResultsWriter, write_config
from awm_release.agent.tasks import load_split_tasks
from awm_release.cli import app
from awm_release.release.errors import ReleaseError
from awm_release.release.manifest import read_manifest
from awm_release.release.publish import execute_push, plan_push
from awm_release.training.model_release import (
    card_facts, find_checkpoint, find_run_config, load_evaluation, merge_checkpoint, merge_command, plan_model_push,
    read_run_settings, render_model_card)
from env_server.process import free_port
from tests.test_release_hub import LoopbackHub, _HubHandler
from tests.test_release_pack import pack_sample_and_demo
from tests.test_verl_config import compose_trainer, dry_run

REPO_ROOT = Path(__file__).resolve().parents[1]
DATASET = "awm/envs"
K = 2

# Runs in a fresh interpreter: two ranks build the same tiny Qwen3, shard it with verl's FSDP2 wrapper, and save
# steps 1 and 2 with verl's FSDPCheckpointManager (every weight moves between the two, so merging the wrong step
# shows). Rank 0 writes the tracker as verl's trainer does, and the full step-2 weights to compare with.
CHECKPOINT_SCRIPT = textwrap.dedent("""
    import sys, tempfile
    from pathlib import Path

    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp

    def rank_main(rank, root, repo):
        sys.path.insert(0, repo)
        from torch.distributed.device_mesh import init_device_mesh
        from transformers import Qwen3Config, Qwen3ForCausalLM
        from verl.utils.checkpoint.fsdp_checkpoint_manager import FSDPCheckpointManager
        from verl.utils.fsdp_utils import apply_fsdp2
        from tests.qwen3_style_tokenizer import build_tokenizer

        dist.init_process_group("gloo", init_method=f"file://{root}.store", rank=rank, world_size=2)
        tokenizer = build_tokenizer(Path(tempfile.mkdtemp()))
        torch.manual_seed(0)
        model = Qwen3ForCausalLM(Qwen3Config(
            vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
            num_key_value_heads=1, head_dim=8, max_position_embeddings=128, tie_word_embeddings=False,
            architectures=["Qwen3ForCausalLM"]))
        apply_fsdp2(model, {"mesh": init_device_mesh("cpu", (2,), mesh_dim_names=("fsdp",))}, {})
        manager = FSDPCheckpointManager(model, torch.optim.AdamW(model.parameters()), processing_class=tokenizer)
        for step in (1, 2):
            if step == 2:
                with torch.no_grad():
                    for parameter in model.parameters():
                        parameter.add_(0.5)
            manager.save_checkpoint(f"{root}/global_step_{step}/actor", global_step=step)
        full = {k: v.full_tensor().bfloat16() for k, v in model.state_dict().items()}
        if rank == 0:
            torch.save(full, f"{root}.expected.pt")
            Path(root, "latest_checkpointed_iteration.txt").write_text("2")
        dist.destroy_process_group()

    if __name__ == "__main__":
        mp.spawn(rank_main, args=(sys.argv[1], sys.argv[2]), nprocs=2)
""")


class _ModelReposToo(_HubHandler):
    """The loopback Hub answering model-repo reads (/api/models/...) as it answers dataset-repo ones."""

    def do_GET(self) -> None:
        self.path = self.path.replace("/api/models/", "/api/datasets/", 1)
        super().do_GET()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackHub]:
    """The loopback Hub, with this process's Hub client pointed at it (downloads into a private cache)."""
    server = LoopbackHub()
    server.RequestHandlerClass = _ModelReposToo
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(constants, "ENDPOINT", server.url)
        patch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", server.url + "/{repo_id}/resolve/{revision}/{filename}")
        patch.setattr(constants, "HF_HUB_CACHE", str(tmp_path_factory.mktemp("hf-cache")))
        yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def api(hub: LoopbackHub) -> HfApi:
    return HfApi(endpoint=hub.url, token="hf_loopback")


@pytest.fixture(scope="module")
def release(imported_dir: Path, tmp_path_factory: pytest.TempPathFactory, api: HfApi) -> Path:
    """The dataset release, packed and pushed as awm/envs v1.0.0."""
    folder = pack_sample_and_demo(imported_dir, tmp_path_factory.mktemp("release") / "awm-envs")
    execute_push(plan_push(folder, DATASET, api), api)
    return folder


@pytest.fixture(scope="module")
def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A training run's checkpoint root: verl FSDP checkpoints of steps 1 and 2, the tracker, and the run's
    config written where Hydra writes it (the 8B launcher's overrides on verl's ppo_trainer, unresolved)."""
    base = tmp_path_factory.mktemp("run")
    root, script = base / "ckpt", base / "save_checkpoint.py"
    script.write_text(CHECKPOINT_SCRIPT)
    saved = subprocess.run([sys.executable, str(script), str(root), str(REPO_ROOT)], capture_output=True, text=True,
                           timeout=300)
    assert saved.returncode == 0, saved.stdout[-3000:] + saved.stderr[-3000:]
    hydra = root / ".hydra"
    hydra.mkdir()
    (hydra / "config.yaml").write_text(OmegaConf.to_yaml(compose_trainer(dry_run("8b"))))
    return root


def _episode(bundle_id: str, task_idx: int, sample: int, outcome: str) -> Episode:
    """An ended episode: complete (3 turns), agent_error or format_error (5 turns each)."""
    verdict = {"complete": "complete", "agent_error": "others", "format_error": None}[outcome]
    return Episode(bundle_id, task_idx, sample, task="t", session_id=f"s{sample}", outcome=outcome,
                   stop_reason="format_error" if outcome == "format_error" else "final_answer",
                   verification={"result": verdict} if verdict else None,
                   reward={"complete": 1.0, "format_error": -1.0}.get(outcome, 0.0),
                   turns=[{}] * (3 if outcome == "complete" else 5))


@pytest.fixture(scope="module")
def evaluation(release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An `awm eval` run folder written by the evaluation's own functions: k=2 on the test split; the first task
    completes once, the second twice, the others end on a format error then an agent error."""
    out = tmp_path_factory.mktemp("evals") / "awm-8b-test"
    tasks = load_split_tasks(release, "test")
    settings = EvalSettings(dataset=DATASET, split="test", endpoint=Endpoint("me/qwen3-8b-awm", "http://127.0.0.1:9/v1"),
                            out=out, revision="v1.0.0", k=K)
    config = settings.config(tasks)
    out.mkdir()
    write_config(out, config)
    writer = ResultsWriter(out)
    for i, task in enumerate(tasks):
        outcomes = [["complete", "agent_error"], ["complete", "complete"]][i] if i < 2 else ["format_error", "agent_error"]
        for sample, outcome in enumerate(outcomes):
            writer.append(_episode(task.bundle_id, task.task_idx, sample, outcome).record())
    writer.close()
    write_summary(out, config)
    return out


@pytest.fixture(scope="module")
def dry_run_release(run_root: Path, release: Path, evaluation: Path, hub: LoopbackHub) -> tuple[object, Path]:
    """`awm train release-model --dry-run` on the run: merges (into an --out holding an earlier model, replaced with
    --overwrite) and writes the card, sends nothing."""
    out = run_root.parent / "models" / "qwen3-8b-awm"
    out.mkdir(parents=True)
    (out / "model-00001-of-00002.safetensors").write_bytes(b"an earlier merge")
    result = CliRunner().invoke(app, ["train", "release-model", str(run_root), "--repo-id", "me/qwen3-8b-awm",
                                      "--out", str(out), "--overwrite", "--eval-summary", str(evaluation),
                                      "--eval-summary", str(evaluation / "summary.json"), "--tag", "1.0.0", "--dry-run"])
    return result, out


def test_dry_run_merges_the_tracked_step_with_verls_merger_and_writes_the_card(dry_run_release, run_root, hub) -> None:
    result, out = dry_run_release
    assert result.exit_code == 0, result.output
    expected = torch.load(f"{run_root}.expected.pt")
    merged = load_file(out / "model.safetensors")
    assert merged.keys() == expected.keys() and all(torch.equal(merged[k], expected[k]) for k in expected)
    assert not (out / "model-00001-of-00002.safetensors").exists()  # the earlier model was replaced, not mixed in
    assert sorted(p.name for p in out.parent.iterdir()) == ["qwen3-8b-awm"]  # no staging folder left behind
    assert out.stat().st_mode & 0o777 == 0o755
    assert {"config.json", "tokenizer_config.json", "README.md"} <= {p.name for p in out.iterdir()}
    assert "create model repo me/qwen3-8b-awm" in result.stdout and "  upload model.safetensors" in result.stdout
    assert "tag the commit v1.0.0" in result.stdout and "nothing was sent" in result.stdout
    assert "me/qwen3-8b-awm" not in hub.repos


def test_card_states_base_model_data_settings_and_evaluation(dry_run_release, release, evaluation) -> None:
    _, out = dry_run_release
    card = ModelCard((out / "README.md").read_text(encoding="utf-8"))
    data = card.data.to_dict()
    assert data["base_model"] == "Qwen/Qwen3-8B" and data["datasets"] == [DATASET]
    assert data["library_name"] == "transformers" and data["license"] == "apache-2.0"
    assert {"agent", "tool-use", "reinforcement-learning", "grpo", "verl"} <= set(data["tags"])
    text = card.text
    counts = read_manifest(release).counts
    assert (f"[{DATASET}](https://huggingface.co/datasets/{DATASET}) revision `v1.0.0`, split `train`: "
            f"{counts['tasks']['train']} tasks in {counts['environments_by_role']['train']} environments") in text
    assert "training step 2 (`global_step_2`)" in text
    rows = dict(re.findall(r"^\| `([\w.]+)` \| `([^`]*)` \|$", text, flags=re.M))
    assert rows["actor_rollout_ref.actor.optim.lr"] == "7e-07" and rows["actor_rollout_ref.rollout.n"] == "16"
    assert rows["actor_rollout_ref.actor.clip_ratio_high"] == "0.28" and rows["actor_rollout_ref.actor.kl_loss_coef"] == "0.001"
    assert rows["actor_rollout_ref.rollout.multi_turn.max_assistant_turns"] == "20" and rows["trainer.total_training_steps"] == "96"
    # computed by the launcher, and a key the launcher adds with `+`
    assert rows["data.max_prompt_length"] == str(32768 - 2048) and rows["data.apply_chat_template_kwargs.enable_thinking"] == "true"
    assert rows["awm.history_window"] == "3" and rows["awm.verify_mode"] == "code" and rows["awm.revision"] == "v1.0.0"
    assert "awm.session_concurrency" not in rows and "actor_rollout_ref.model.path" not in rows
    summary = json.loads((evaluation / "summary.json").read_text())
    n = summary["tasks"]
    pass1, pass2 = (0.5 + 1) / n, 2 / n  # by hand from the episodes written above
    complete, format_errors, turns = 3 / (2 * n), (n - 2) / (2 * n), (3 * 3 + 5 * (2 * n - 3)) / (2 * n)
    row = (f"| awm-8b-test | `me/qwen3-8b-awm` | {DATASET}@v1.0.0 | test | code | {n} | {K} | {100 * pass1:.1f}% | "
           f"{100 * pass2:.1f}% | {100 * complete:.1f}% | {100 * format_errors:.1f}% | {turns:.1f} |")
    assert text.count(row) == 2  # the run folder and its summary.json name the same run
    assert "--history-window 3 --max-turns 20" in text and "vllm serve me/qwen3-8b-awm" in text


def test_push_is_one_commit_tagged_and_a_version_is_never_reused(dry_run_release, hub, api) -> None:
    _, out = dry_run_release
    repo_id = "me/qwen3-8b-awm-push"
    plan = plan_model_push(out, repo_id, api, commit_message="release", tag="1.0.0")
    files = sorted(p.name for p in out.iterdir())
    assert plan.create_repo and plan.uploads == tuple(files) and plan.deletions == ()
    commit = execute_push(plan, api)
    repo = hub.repos[repo_id]
    assert repo.tags == {"v1.0.0": commit} and len(repo.commits) == 2
    assert all(repo.commits[commit][name] == (out / name).read_bytes() for name in files)
    with pytest.raises(ReleaseError, match=r"tag v1.0.0 already exists \(commit .*pass a new --tag"):
        plan_model_push(out, repo_id, api, commit_message="again", tag="v1.0.0")
    # an earlier model with more shards: its stale weight files go, other files stay
    repo.commit({**repo.commits[commit], "model-00002-of-00002.safetensors": b"old", "LICENSE": b"mine"}, "by hand")
    update = plan_model_push(out, repo_id, api, commit_message="update", tag="1.1.0")
    assert update.deletions == ("model-00002-of-00002.safetensors",) and update.parent_commit == repo.branches["main"]
    newer = execute_push(update, api)
    assert "LICENSE" in repo.commits[newer] and "model-00002-of-00002.safetensors" not in repo.commits[newer]
    assert repo.tags == {"v1.0.0": commit, "v1.1.0": newer}


def test_an_offline_plan_checks_the_folder_and_says_what_it_could_not_check(dry_run_release, hub) -> None:
    _, out = dry_run_release
    nowhere = HfApi(endpoint=f"http://127.0.0.1:{free_port()}", token="hf_loopback")  # asked, it would raise
    plan = plan_model_push(out, "me/qwen3-8b-awm", nowhere, commit_message="release", tag="1.0.0",
                           offline="no connection to the Hub")
    lines = plan.describe()
    assert lines[0] == "create model repo me/qwen3-8b-awm if it does not exist"
    assert "  upload model.safetensors" in lines and "tag the commit v1.0.0" in lines
    assert lines[-1].startswith("not checked, because the Hub could not be asked (no connection to the Hub): whether "
                                "me/qwen3-8b-awm exists, whether its tag v1.0.0 is taken")
    with pytest.raises(ReleaseError, match="not a complete Hugging Face model folder, it lacks config.json"):  # offline, the folder is still checked
        plan_model_push(out.parent, "me/x", nowhere, commit_message="m", offline="no connection to the Hub")


def test_cli_pushes_a_merged_folder_and_reports_problems_in_one_line(dry_run_release, run_root, hub) -> None:
    _, out = dry_run_release
    runner = CliRunner()
    pushed = runner.invoke(app, ["train", "release-model", str(run_root), "--hf-dir", str(out), "--repo-id",
                                 "me/qwen3-8b-awm-cli", "--private"])
    assert pushed.exit_code == 0, pushed.output
    repo = hub.repos["me/qwen3-8b-awm-cli"]
    head = repo.commits[repo.branches["main"]]
    assert head["README.md"] == (out / "README.md").read_bytes() and repo.tags == {}
    assert "pushed me/qwen3-8b-awm-cli@main" in pushed.stdout
    for args, message in [
        (["--hf-dir", str(out), "--repo-id", "me/x"], "error: no run config found; pass --config"),
        ([str(run_root), "--hf-dir", str(out), "--repo-id", "me/x", "--dataset", "awm/other"],
         "error: awm/other@v1.0.0: no such dataset repo on the Hub"),
        ([str(run_root), "--hf-dir", str(out), "--repo-id", "x"], "error: --repo-id 'x': give the owner too"),
        ([str(run_root), "--repo-id", "me/x", "--out", str(out)], f"error: {out} exists and is not empty"),
        ([str(run_root), "--repo-id", "me/x", "--hf-dir", str(out), "--overwrite"], "error: --out and --overwrite say where"),
        ([str(run_root), "--repo-id", "me/x", "--out", str(out.parent / "new"), "--tag", "latest"],
         "error: version 'latest' is not X.Y.Z"),
    ]:
        failed = runner.invoke(app, ["train", "release-model", *args])
        lines = failed.stderr.splitlines()  # after the Hub client's progress bar, when it fetched the manifest
        assert failed.exit_code == 2 and lines[-1].startswith(message), failed.output
        assert sum(line.startswith("error:") for line in lines) == 1 and "Traceback" not in failed.output
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no refused command merged anything


def test_a_failed_merge_names_the_checkpoint_and_the_command_and_keeps_the_target(tmp_path) -> None:
    bogus = tmp_path / "global_step_5" / "actor"
    bogus.mkdir(parents=True)
    (bogus / "fsdp_config.json").write_text(json.dumps({"FSDP_version": 2, "world_size": 2}))  # no shards, no huggingface/
    target = tmp_path / "model"
    target.mkdir()
    (target / "config.json").write_text("{}")
    with pytest.raises(ReleaseError) as caught:
        merge_checkpoint(bogus, target, overwrite=True)
    message = str(caught.value)
    assert message.startswith(f"merging the checkpoint {bogus} failed: exit status 1, ")
    assert message.endswith(f"nothing was written to {target}. To see the merger's whole output, run it alone: "
                            f"{sys.executable} -m verl.model_merger merge --backend fsdp --local_dir {bogus} --target_dir {target}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["global_step_5", "model"]
    assert [p.name for p in target.iterdir()] == ["config.json"]
    with pytest.raises(ReleaseError, match="holds the checkpoint"):
        merge_checkpoint(bogus, tmp_path, overwrite=True)
    assert merge_command(bogus, target)[1:] == ["-m", "verl.model_merger", "merge", "--backend", "fsdp", "--local_dir",
                                                str(bogus), "--target_dir", str(target)]


def _actor(root: Path, step: int) -> Path:
    actor = root / f"global_step_{step}" / "actor"
    actor.mkdir(parents=True)
    (actor / "fsdp_config.json").write_text("{}")
    return actor


def test_find_checkpoint_takes_the_tracked_step_else_the_last_complete_one(tmp_path) -> None:
    root = tmp_path / "ckpt"
    one, three = _actor(root, 1), _actor(root, 3)
    (root / "global_step_10" / "actor").mkdir(parents=True)  # a save cut short: no fsdp_config.json
    assert find_checkpoint(root) == find_checkpoint(three) == find_checkpoint(three.parent)
    assert find_checkpoint(root).actor_dir == three and find_checkpoint(root).step == 3 and find_checkpoint(root).root == root
    (root / "latest_checkpointed_iteration.txt").write_text("1\n")
    assert find_checkpoint(root).actor_dir == one
    (root / "latest_checkpointed_iteration.txt").write_text("10")
    with pytest.raises(ReleaseError, match="names step 10, but .*global_step_10/actor/fsdp_config.json is missing.*complete: 1, 3"):
        find_checkpoint(root)
    with pytest.raises(ReleaseError, match="no verl FSDP checkpoint \\(no global_step_N folders\\).*--backend megatron"):
        find_checkpoint(tmp_path / "ckpt" / "global_step_10")
    with pytest.raises(ReleaseError, match="no such folder"):
        find_checkpoint(tmp_path / "missing")


def test_run_settings_resolve_what_the_card_needs_and_refuse_what_it_cannot_use(tmp_path, release, evaluation) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "actor_rollout_ref": {"model": {"path": "/models/Qwen3-4B"}, "actor": {"optim": {"lr": 1e-6}},
                              "rollout": {"n": "${awm.group}"}},
        "unrelated": "${oc.env:AWM_NOT_SET_ANYWHERE}",  # never read, so never resolved
        "awm": {"group": 8, "history_window": "all", "env_server_url": "http://10.0.0.1:8000", "dataset": DATASET}}))
    settings = read_run_settings(config)
    assert settings == {"actor_rollout_ref.model.path": "/models/Qwen3-4B", "actor_rollout_ref.actor.optim.lr": 1e-6,
                        "actor_rollout_ref.rollout.n": 8, "awm.group": 8, "awm.history_window": "all", "awm.dataset": DATASET}
    with pytest.raises(ReleaseError, match="not a Hub model id; pass .* --base-model"):
        card_facts("me/m", settings)
    facts = card_facts("me/m", settings, base_model="Qwen/Qwen3-4B", revision="v1.0.0", split="validation")
    assert facts.tasks == read_manifest(release).counts["tasks"]["validation"] and facts.step is None
    card = render_model_card(facts)
    assert "the whole conversation in every prompt" in card and "--history-window 0" in card
    assert "No evaluation is attached" in card and "10.0.0.1" not in card
    config.write_text(json.dumps({"trainer": {"total_epochs": "${nowhere}"}}))
    with pytest.raises(ReleaseError, match="trainer.total_epochs cannot be resolved"):
        read_run_settings(config)
    config.write_text(json.dumps({"data": {"path": "x"}}))
    with pytest.raises(ReleaseError, match="none of verl's training settings"):
        read_run_settings(config)
    checkpoint = find_checkpoint(_actor(tmp_path / "ckpt", 4))
    with pytest.raises(ReleaseError, match="no run config found \\(looked for .*/ckpt/.hydra/config.yaml\\); pass --config"):
        find_run_config(None, checkpoint)
    hydra = tmp_path / "outputs" / ".hydra"
    hydra.mkdir(parents=True)
    (hydra / "config.yaml").write_text("{}")
    assert find_run_config(hydra.parent, checkpoint) == find_run_config(hydra, None) == hydra / "config.yaml"
    with pytest.raises(ReleaseError, match="a folder without .hydra/config.yaml or config.yaml"):
        find_run_config(tmp_path / "ckpt", None)


def test_an_unfinished_evaluation_is_refused(evaluation, tmp_path) -> None:
    partial = tmp_path / "partial"
    config = json.loads((evaluation / "config.json").read_text())
    partial.mkdir()
    write_config(partial, config)
    bundle_id, task_idx = config["tasks"][0].rsplit(":", 1)
    writer = ResultsWriter(partial)
    writer.append(_episode(bundle_id, int(task_idx), 0, "complete").record())
    writer.close()
    write_summary(partial, config)
    with pytest.raises(ReleaseError, match=f"the evaluation is unfinished \\(1 of {2 * len(config['tasks'])} episodes\\)"):
        load_evaluation(partial)
    with pytest.raises(ReleaseError, match="no config.json; pass the --out folder of `awm eval`"):
        load_evaluation(tmp_path)
    assert load_evaluation(evaluation / "summary.json") == load_evaluation(evaluation)
