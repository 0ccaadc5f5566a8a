"""The verl agent loop end to end: a real awm-serve, verl's own registry and tokenization, a scripted model.

The model is a `server_manager` that speaks verl's token-in/token-out protocol: it records the prompt ids it is
given and answers with the token ids of the next scripted reply (ending in `<|im_end|>`, as a Qwen3 turn does).
The tokenizer is built locally with a Qwen3-style chat template. Demo bundles' known-correct and known-wrong
tool sequences give rollouts whose reward is known.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import hydra
import pytest
from omegaconf import OmegaConf
from verl.experimental.agent_loop.agent_loop import DictConfigWrap, ToolListWrap, _agent_loop_registry
from verl.utils.dataset.rl_dataset import RLHFDataset
from verl.workers.rollout.replica import TokenOutput

from awm_release.agent.protocol import (
    META_TOOLS, SYSTEM_PROMPT, Conversation, MetaCall, render_call_result, tool_message)
from awm_release.demo import demo_solutions
from awm_release.training import AGENT_NAME
from awm_release.client import AsyncAWMClient
from awm_release.training.settings import AWMSettings
from tests.qwen3_style_tokenizer import build_tokenizer

AGENT_LOOP_YAML = Path(__file__).parent.parent / "recipes" / "verl" / "config" / "awm_agent_loop.yaml"
BUNDLE = "bookstore_1"
PROMPT_LENGTH, RESPONSE_LENGTH = 60_000, 2_048


class ScriptedServerManager:
    """verl's LLM server interface (`generate`: prompt ids in, token ids out) answering from a script."""

    def __init__(self, tokenizer: Any, replies: list[str]):
        self.tokenizer, self.replies = tokenizer, list(replies)
        self.prompts: list[list[int]] = []
        self.max_tokens: list[int] = []
        self.request_ids: list[str] = []

    async def generate(self, request_id: str, *, prompt_ids: list[int], sampling_params: dict[str, Any],
                       **_: Any) -> TokenOutput:
        self.request_ids.append(request_id)
        self.prompts.append(list(prompt_ids))
        self.max_tokens.append(sampling_params["max_tokens"])
        ids = self.reply_ids(self.replies.pop(0))[: sampling_params["max_tokens"]]
        return TokenOutput(token_ids=ids, log_probs=[-0.25] * len(ids), extra_fields={"global_steps": 7})

    def reply_ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False) + [self.tokenizer.convert_tokens_to_ids("<|im_end|>")]


def call_turn(tool: str, arguments: dict[str, Any], thought: str = "I should look this up.") -> str:
    call = {"name": "call_tool", "arguments": {"tool_name": tool, "arguments": arguments}}
    return f"<think>\n{thought}\n</think>\n\n<tool_call>\n{json.dumps(call)}\n</tool_call>"


def answer_turn(text: str = "Done.") -> str:
    return f"<think>\nThe task is complete.\n</think>\n\n{text}"


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return build_tokenizer(tmp_path_factory.mktemp("tokenizer"))


def trainer_config(server_url: str, history_window: int | str, response_length: int, **awm: Any) -> Any:
    return OmegaConf.create({
        "actor_rollout_ref": {"rollout": {"prompt_length": PROMPT_LENGTH, "response_length": response_length,
                                          "multi_turn": {"max_assistant_turns": 20}}},
        "data": {"apply_chat_template_kwargs": {"enable_thinking": True}},
        "awm": {"history_window": history_window, "env_server_url": server_url, "verify_mode": "code", **awm},
    })


def run_rollout(server_url: str, tokenizer: Any, replies: list[str], *, history_window: int | str = 3,
                task_idx: int = 0, response_length: int = RESPONSE_LENGTH,
                **awm: Any) -> tuple[Any, ScriptedServerManager]:
    """One rollout through verl's own registry path: the YAML entry instantiated by hydra, as AgentLoopWorker does."""
    model = ScriptedServerManager(tokenizer, replies)
    config = trainer_config(server_url, history_window, response_length, **awm)

    async def go() -> Any:
        for entry in OmegaConf.load(AGENT_LOOP_YAML):
            _agent_loop_registry[entry.name] = entry
        loop = hydra.utils.instantiate(
            config=_agent_loop_registry[AGENT_NAME], trainer_config=DictConfigWrap(config), server_manager=model,
            tokenizer=tokenizer, processor=None, hf_model_type="qwen3", dataset_cls=RLHFDataset,
            data_config=DictConfigWrap(config.data), tools=ToolListWrap([]))
        prompt = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": task_text(task_idx)}]
        return await loop.run({"temperature": 1.0, "top_p": 1.0, "top_k": -1, "logprobs": True}, raw_prompt=prompt,
                              extra_info={"bundle_id": BUNDLE, "task_idx": task_idx, "split": "train", "index": 0},
                              index=0, agent_name=AGENT_NAME)

    return asyncio.run(go()), model


def task_text(task_idx: int) -> str:
    from awm_release.demo import load_demo_bundle  # noqa: PLC0415

    return load_demo_bundle(BUNDLE).tasks[task_idx]


def replay_observations(server_url: str, steps: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """The tool list and each step's observation, from a fresh session of the same task (the seed is the same)."""
    async def go() -> tuple[str, list[str]]:
        async with AsyncAWMClient(server_url) as client:
            tools = json.dumps((await client.bundle(BUNDLE))["tools"], ensure_ascii=False, separators=(",", ":"))
            async with await client.session(BUNDLE, 0) as session:
                return tools, [render_call_result(await session.call(s["tool"], s["arguments"])) for s in steps]

    return asyncio.run(go())


def open_sessions(server: Any) -> int:
    return server.client.get("/health").json()["sessions"]


def solution(task_idx: int = 0) -> dict[str, Any]:
    return next(s for s in demo_solutions(BUNDLE) if s["task_idx"] == task_idx)


def test_correct_sequence_earns_1_with_one_sample_per_turn_and_exact_windows(server: Any, tokenizer: Any) -> None:
    steps = solution()["steps"]
    replies = [call_turn(s["tool"], s["arguments"]) for s in steps] + [answer_turn()]
    before = open_sessions(server)
    outputs, model = run_rollout(server.url, tokenizer, replies, history_window=2)

    assert isinstance(outputs, list) and len(outputs) == len(replies)  # T turns -> T samples
    assert all(o.reward_score == 1.0 for o in outputs)
    assert all(o.extra_fields["reward_extra_info"]["awm_complete"] == 1.0 for o in outputs)
    assert open_sessions(server) == before  # the session was released

    # Each sample: its own turn's tokens as the response, all in the loss; the prompt the model actually saw.
    for output, reply, prompt in zip(outputs, replies, model.prompts, strict=True):
        assert output.response_ids == model.reply_ids(reply)
        assert output.response_mask == [1] * len(output.response_ids)
        assert output.response_logprobs == [-0.25] * len(output.response_ids)
        assert output.prompt_ids == prompt
        assert output.as_dict()["responses"].shape == (len(output.response_ids),)



def test_each_turn_sees_the_pinned_prefix_and_the_last_w_turns(server: Any, tokenizer: Any) -> None:
    reads = [{"tool": "search_books", "arguments": {"query": q}} for q in ("Darkness", "Dune", "Emma")]
    reads += [{"tool": "get_book_details", "arguments": {"book_id": i}} for i in (1, 2)]  # read-only: replayable
    replies = [call_turn(s["tool"], s["arguments"]) for s in reads] + [answer_turn()]
    outputs, model = run_rollout(server.url, tokenizer, replies, history_window=2)
    assert [o.prompt_ids for o in outputs] == model.prompts

    # Rebuilt independently: system, task, list_tools exchange, then the last 2 of the turns before this one.
    tool_list, observations = replay_observations(server.url, reads)
    conversation = Conversation(task=task_text(0))
    conversation.add_list_tools_exchange(tool_list)
    for turn, prompt in enumerate(model.prompts):
        expected = tokenizer.apply_chat_template(conversation.messages(2), tools=META_TOOLS, add_generation_prompt=True,
                                                 tokenize=True, enable_thinking=True)
        assert prompt == list(expected["input_ids"]), f"turn {turn}: the prompt is not the windowed context"
        if turn < len(reads):
            call = MetaCall(f"call_{turn}_0", "call_tool", reads[turn]["tool"], reads[turn]["arguments"])
            conversation.add_turn([{"role": "assistant", "content": "", "tool_calls": [call.as_openai()]},
                                   tool_message(call.call_id, observations[turn])])
    last_prompt = tokenizer.decode(model.prompts[-1])
    assert '"query": "Darkness"' not in last_prompt and '"query": "Emma"' not in last_prompt  # left the window
    assert '"book_id": 1' in last_prompt and '"book_id": 2' in last_prompt


def test_wrong_sequence_earns_0(server: Any, tokenizer: Any) -> None:
    wrong = solution()["wrong_steps"]
    outputs, _ = run_rollout(server.url, tokenizer, [call_turn(s["tool"], s["arguments"]) for s in wrong] + [answer_turn()])
    assert len(outputs) == len(wrong) + 1
    assert {o.reward_score for o in outputs} == {0.0}


@pytest.mark.parametrize("bad_turn, error", [
    ("<think>\nok\n</think>\n\n<tool_call>\n{\"name\": \"call_tool\", \"arguments\": {oops}\n</tool_call>", "not valid JSON"),
    ("<think>\nok\n</think>\n\n<tool_call>\n{\"name\": \"search_books\", \"arguments\": {}}\n</tool_call>", "unknown function"),
    ("<tool_call>\n{\"name\": \"list_tools\", \"arguments\": {}}\n</tool_call>", "no thinking"),
    ("<think>\nboth\n</think>\n\n<tool_call>\n{\"name\": \"list_tools\", \"arguments\": {}}\n</tool_call>"
     "<tool_call>\n{\"name\": \"list_tools\", \"arguments\": {}}\n</tool_call>", "exactly one per turn"),
])
def test_a_format_error_stops_the_rollout_with_minus_1(server: Any, tokenizer: Any, bad_turn: str, error: str) -> None:
    step = solution()["steps"][0]
    replies = [call_turn(step["tool"], step["arguments"]), bad_turn, answer_turn()]
    before = open_sessions(server)
    outputs, model = run_rollout(server.url, tokenizer, replies)
    assert len(model.prompts) == 2 and len(outputs) == 2  # stopped at the bad turn: the answer was never asked for
    assert {o.reward_score for o in outputs} == {-1.0}
    assert outputs[-1].extra_fields["reward_extra_info"]["awm_format_error"] == 1.0
    assert open_sessions(server) == before


def test_plain_training_is_one_sample_with_tool_tokens_masked(server: Any, tokenizer: Any) -> None:
    steps = solution()["steps"]
    replies = [call_turn(s["tool"], s["arguments"]) for s in steps] + [answer_turn()]
    output, model = run_rollout(server.url, tokenizer, replies, history_window="all", response_length=8192)

    assert not isinstance(output, list) and output.reward_score == 1.0
    assert output.prompt_ids == model.prompts[0]
    assert len(output.response_ids) == len(output.response_mask) == len(output.response_logprobs)
    # The model's tokens are exactly the masked-in ones, in order; everything else is tool results and scaffolding.
    generated = [t for t, m in zip(output.response_ids, output.response_mask) if m == 1]
    assert generated == [t for reply in replies for t in model.reply_ids(reply)]
    tool_text = tokenizer.decode([t for t, m in zip(output.response_ids, output.response_mask) if m == 0])
    assert tool_text.count("<tool_response>") == len(steps)
    # Each turn saw the whole conversation so far: every prompt extends the previous one.
    for earlier, later in zip(model.prompts, model.prompts[1:]):
        assert later[: len(earlier)] == earlier
    # The token budget is the whole rollout's: each generation gets what the response has left.
    assert [8192 - (len(p) - len(model.prompts[0])) for p in model.prompts] == model.max_tokens
    assert output.extra_fields["reward_extra_info"]["awm_length_stop"] == 0.0


def test_plain_training_stops_when_the_response_budget_is_spent(server: Any, tokenizer: Any) -> None:
    steps = solution()["steps"]
    replies = [call_turn(s["tool"], s["arguments"]) for s in steps] + [answer_turn()]
    output, model = run_rollout(server.url, tokenizer, replies, history_window="all", response_length=2048)
    assert len(model.prompts) < len(replies)  # the results outgrew 2,048 tokens before the answer was asked for
    assert len(output.response_ids) <= 2048 and output.response_mask[-1] == 1  # ends on the model's own last turn
    assert output.extra_fields["reward_extra_info"]["awm_length_stop"] == 1.0


def test_running_out_of_turns_or_tokens_still_earns_the_outcome(server: Any, tokenizer: Any) -> None:
    rambling = "<think>\n" + "hmm " * 1000  # never closes: cut off by the 2,048-token limit
    outputs, _ = run_rollout(server.url, tokenizer, [rambling])
    assert len(outputs) == 1 and outputs[0].reward_score == 0.0  # verified, not punished as a format error
    assert len(outputs[0].response_ids) == RESPONSE_LENGTH
    assert outputs[0].extra_fields["reward_extra_info"]["awm_length_stop"] == 1.0


def test_windowed_training_refuses_the_legacy_trainer(server: Any, tokenizer: Any) -> None:
    config = trainer_config(server.url, 3, RESPONSE_LENGTH)
    config.trainer = {"use_v1": False}
    entry = OmegaConf.load(AGENT_LOOP_YAML)[0]
    with pytest.raises(hydra.errors.InstantiationException, match="set trainer.use_v1=true, or awm.history_window=all"):
        hydra.utils.instantiate(config=entry, trainer_config=DictConfigWrap(config), server_manager=None,
                                tokenizer=tokenizer, processor=None, hf_model_type="qwen3", dataset_cls=RLHFDataset,
                                data_config=DictConfigWrap(config.data), tools=ToolListWrap([]))


def test_all_turns_of_a_rollout_share_one_request_id(server: Any, tokenizer: Any) -> None:
    steps = solution()["steps"]
    replies = [call_turn(s["tool"], s["arguments"]) for s in steps] + [answer_turn()]
    _, first = run_rollout(server.url, tokenizer, replies)
    _, second = run_rollout(server.url, tokenizer, replies)
    assert len(first.request_ids) == len(replies) and len(set(first.request_ids)) == 1  # one replica, one prefix cache
    assert set(first.request_ids) != set(second.request_ids)


def test_a_long_tool_result_is_cut_with_a_marker(server: Any, tokenizer: Any) -> None:
    search = {"tool": "search_books", "arguments": {"query": ""}}  # every book: a long result
    replies = [call_turn(search["tool"], search["arguments"]), answer_turn()]
    _, observations = replay_observations(server.url, [search])
    assert len(observations[0]) > 300
    _, model = run_rollout(server.url, tokenizer, replies, max_tool_result_chars=300)
    seen = tokenizer.decode(model.prompts[1]).split("<tool_response>\n")[-1].split("\n</tool_response>")[0]
    assert seen == observations[0][:300] + f"\n[... {len(observations[0]) - 300} more characters of this result were cut; " \
                                           "ask for less, e.g. with filters]"
    _, uncut = run_rollout(server.url, tokenizer, replies, max_tool_result_chars=0)
    assert observations[0] in tokenizer.decode(uncut.prompts[1])


def test_a_reply_whose_think_block_the_prompt_opened_is_accepted(server: Any, tokenizer: Any) -> None:
    """Qwen3's thinking-only releases (2507) put `<think>\\n` into the generation prompt: replies only close it."""
    steps = solution()["steps"]
    replies = [call_turn(s["tool"], s["arguments"]).removeprefix("<think>\n") for s in steps]
    outputs, _ = run_rollout(server.url, tokenizer, replies + [answer_turn().removeprefix("<think>\n")])
    assert {o.reward_score for o in outputs} == {1.0}


def test_settings_reject_what_cannot_work() -> None:
    assert AWMSettings.resolve({}, {"history_window": "all", "release_dir": "/data/release"}).history_window == 0
    with pytest.raises(ValueError, match="awm.history_window"):
        AWMSettings.resolve({}, {"history_window": -1})
    with pytest.raises(ValueError, match="awm.verify_mode"):
        AWMSettings.resolve({}, {"verify_mode": "vibes"})
    with pytest.raises(ValueError, match="awm.histroy_window: unknown"):
        AWMSettings.resolve({}, {"histroy_window": 3})
    with pytest.raises(ValueError, match="awm.update_unit='turn'"):
        AWMSettings.resolve({}, {"update_unit": "turn"})
    with pytest.raises(ValueError, match="verify_mode=sql needs an LLM judge"):
        AWMSettings.resolve({}, {"verify_mode": "sql"})
    with pytest.raises(ValueError, match="judge_base_url and awm.judge_model go together"):
        AWMSettings.resolve({}, {"judge_model": "Qwen/Qwen3-32B"})


def test_node_servers_read_the_local_release_with_bounded_workers_and_the_judge() -> None:
    local = AWMSettings.resolve({}, {"release_dir": "/shared/data/release", "revision": "v1.0.0", "verify_mode": "sql",
                                     "judge_base_url": "http://10.0.0.9:8001/v1", "judge_model": "Qwen/Qwen3-32B"})
    assert local.serve_args() == ["--dataset", "/shared/data/release", "--workers", "16", "--judge-base-url",
                                  "http://10.0.0.9:8001/v1", "--judge-model", "Qwen/Qwen3-32B"]
    with pytest.raises(ValueError, match="set awm.trust_remote_code=true once you trust it"):
        AWMSettings.resolve({}, {"revision": "v1.0.0", "server_workers": 4})
    hub = AWMSettings.resolve({}, {"revision": "v1.0.0", "server_workers": 4, "trust_remote_code": True})
    assert hub.serve_args() == ["--dataset", "awm/envs", "--revision", "v1.0.0", "--trust-remote-code", "--workers", "4"]
