"""The agent protocol (prompt, meta-tools, turn parsing, history window) and `awm agent` end to end.

`DemoPlayer` is the scripted model the agent and eval tests share: a ScriptedLLM responder that reads the
conversation it is sent and plays a demo task's solution (or a scripted mistake) through the meta-tools.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from awm_release.agent.outcomes import classify
from awm_release.agent.protocol import (
    CALL_TOOL, LIST_TOOLS, META_TOOLS, SYSTEM_PROMPT, Conversation, SamplingConfig, parse_turn)
from awm_release.cli import app
from awm_release.demo import demo_bundle_ids, demo_solutions, load_demo_bundle
from awm_release.scripted_llm import ScriptedLLM
from env_server.process import free_port

USAGE = {"prompt_tokens": 100, "completion_tokens": 10}  # per turn: token means come out exact


def _tasks_by_text() -> dict[str, tuple[str, int]]:
    return {text: (bundle_id, idx) for bundle_id in demo_bundle_ids() for idx, text in enumerate(load_demo_bundle(bundle_id).tasks)}


class DemoPlayer:
    """Plays demo tasks through the AWM protocol. `behaviours[(bundle_id, task_idx)]` lists a behaviour per sample
    (the request's seed is the sample index; the list repeats); unlisted tasks are solved.

    Behaviours: solve (structured tool_calls, reasoning_content), solve_text (<think> and <tool_call> blocks in the
    content), wrong (the demo's wrong attempt), malformed (a <tool_call> that is not JSON), unknown_meta (an
    environment tool called directly), bad_arguments (call_tool arguments that are not JSON), loop (list_tools
    forever), fail (HTTP 500), overflow (HTTP 400 "maximum context length").
    """

    def __init__(self, behaviours: dict[tuple[str, int], list[str]] | None = None):
        self.behaviours = behaviours or {}
        self.tasks = _tasks_by_text()

    def behaviour(self, bundle_id: str, task_idx: int, sample: int) -> str:
        plan = self.behaviours.get((bundle_id, task_idx), ["solve"])
        return plan[sample % len(plan)]

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        messages = request["messages"]
        bundle_id, task_idx = self.tasks[messages[1]["content"]]
        behaviour = self.behaviour(bundle_id, task_idx, int(request.get("seed") or 0))
        turn = sum(m["role"] == "assistant" for m in messages[2:]) - 1  # the opening list_tools exchange is not the model's
        solution = demo_solutions(bundle_id)[task_idx]
        if behaviour == "fail":
            return {"status": 500, "message": "scripted outage"}
        if behaviour == "overflow" and turn >= 1:
            return {"status": 400, "message": "This model's maximum context length is 64 tokens."}
        if behaviour == "loop":
            return {"tool_calls": [_tool_call(LIST_TOOLS, {}, turn)], "usage": USAGE}
        if behaviour in ("malformed", "unknown_meta", "bad_arguments") and turn == 0:
            return _mistake(behaviour, solution)
        steps, answer = _script(behaviour, solution)
        if turn < len(steps):
            step = steps[turn]
            if behaviour == "solve_text":
                block = json.dumps({"name": CALL_TOOL, "arguments": {"tool_name": step["tool"], "arguments": step["arguments"]}})
                return {"content": f"<think>step {turn}: {step['tool']}</think>\n<tool_call>{block}</tool_call>", "usage": USAGE}
            return {"reasoning_content": f"step {turn}", "usage": USAGE,
                    "tool_calls": [_tool_call(CALL_TOOL, {"tool_name": step["tool"], "arguments": step["arguments"]}, turn)]}
        prefix = "<think>done</think>\n" if behaviour == "solve_text" else ""
        return {"content": prefix + (answer or "Done."), "usage": USAGE}

    def turns(self, bundle_id: str, task_idx: int, behaviour: str) -> int:
        """Model turns an episode of this behaviour takes (episodes that stop early count their last turn)."""
        if behaviour in ("malformed", "unknown_meta", "bad_arguments"):
            return 1
        steps, _ = _script(behaviour, demo_solutions(bundle_id)[task_idx])
        return len(steps) + 1


def _script(behaviour: str, solution: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """(steps, final answer): the solution, or its scripted wrong attempt (each proven `others` by test_server)."""
    if behaviour != "wrong":
        return solution["steps"], solution["final_answer"]
    if solution["wrong_steps"]:
        return solution["wrong_steps"], solution["final_answer"]
    if solution.get("wrong_final_answer") is not None:
        return solution["steps"], solution["wrong_final_answer"]
    return [], "I could not do this."


def _mistake(behaviour: str, solution: dict[str, Any]) -> dict[str, Any]:
    step = solution["steps"][0]
    if behaviour == "malformed":
        return {"content": '<tool_call>{"name": "call_tool", "arguments": {"tool_name": </tool_call>', "usage": USAGE}
    if behaviour == "unknown_meta":
        return {"tool_calls": [_tool_call(step["tool"], step["arguments"], 0)], "usage": USAGE}
    call = _tool_call(CALL_TOOL, {}, 0)
    call["function"]["arguments"] = '{"tool_name": "' + step["tool"] + '", "arguments": {oops'
    return {"tool_calls": [call], "usage": USAGE}


def _tool_call(name: str, arguments: dict[str, Any], turn: int) -> dict[str, Any]:
    return {"id": f"call_{turn}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


# ------------------------------------------------------------------ turn parsing


def test_structured_calls_with_separate_reasoning():
    parsed = parse_turn({"reasoning_content": "look it up", "content": None, "tool_calls": [
        _tool_call(CALL_TOOL, {"tool_name": "search_books", "arguments": {"query": "Le Guin"}}, 3)]})
    assert parsed.thinking == "look it up" and parsed.format_error is None and parsed.final_answer is None
    assert [(c.call_id, c.name, c.tool_name, c.arguments) for c in parsed.calls] == [
        ("call_3", CALL_TOOL, "search_books", {"query": "Le Guin"})]
    message = parsed.assistant_message()
    assert message["content"] == "" and "reasoning_content" not in message
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"tool_name": "search_books", "arguments": {"query": "Le Guin"}}


def test_text_tool_calls_and_inline_thinking_are_normalized():
    content = ('<think>two calls</think>\nLet me check.\n'
               '<tool_call>{"name": "list_tools", "arguments": {}}</tool_call>\n'
               '<tool_call>{"name": "call_tool", "arguments": {"tool_name": "get_cart", "arguments": "{\\"user_id\\": 1}"}}</tool_call>')
    parsed = parse_turn({"content": content}, turn_index=5)
    assert parsed.thinking == "two calls" and parsed.text == "Let me check."
    assert [(c.call_id, c.name, c.tool_name, c.arguments) for c in parsed.calls] == [
        ("call_5_0", LIST_TOOLS, None, {}), ("call_5_1", CALL_TOOL, "get_cart", {"user_id": 1})]


def test_thinking_with_only_the_closing_tag_and_a_final_answer():
    parsed = parse_turn({"content": "the opening tag was in the prompt</think>\n\nCirce, at $23.99."})
    assert (parsed.thinking, parsed.final_answer, parsed.calls) == ("the opening tag was in the prompt", "Circe, at $23.99.", ())


@pytest.mark.parametrize(("message", "finish_reason", "expected"), [
    ({"content": '<tool_call>{"name": "call_tool", "arguments": {"tool_name": </tool_call>'}, "stop", "not valid JSON"),
    ({"content": '<tool_call>{"name": "call_tool"'}, "stop", "never closed"),
    ({"content": "<think>still thinking"}, "length", "cut off inside its thinking"),
    ({"content": "<think>hmm</think>"}, "stop", "neither a function call nor an answer"),
    ({"content": ""}, "length", "cut off by the token limit"),
    ({"tool_calls": [_tool_call("search_books", {"query": "x"}, 0)]}, "tool_calls", "unknown function 'search_books'"),
    ({"tool_calls": [{"id": "c", "type": "function", "function": {"name": CALL_TOOL, "arguments": "{oops"}}]}, "tool_calls",
     "arguments of call_tool are not valid JSON"),
    ({"tool_calls": [_tool_call(CALL_TOOL, {"tool_name": "get_cart", "arguments": "[1]"}, 0)]}, "tool_calls",
     "arguments for get_cart must be a JSON object"),
    ({"tool_calls": [_tool_call(CALL_TOOL, {"arguments": {}}, 0)]}, "tool_calls", "needs tool_name"),
    ({"tool_calls": [_tool_call(CALL_TOOL, {"tool_name": "t", "args": {}}, 0)]}, "tool_calls", "not args"),
])
def test_unexecutable_turns_are_format_errors(message, finish_reason, expected):
    parsed = parse_turn(message, finish_reason)
    assert parsed.format_error is not None and expected in parsed.format_error, parsed
    assert parsed.final_answer is None and parsed.calls == ()


def test_history_window_keeps_system_task_first_list_tools_exchange_and_last_turns():
    conversation = Conversation("Do the task.")
    conversation.add_list_tools_exchange('[{"name": "get_cart"}]')
    for i in range(4):
        call = _tool_call(CALL_TOOL, {"tool_name": "get_cart", "arguments": {}}, i)
        conversation.add_turn([{"role": "assistant", "content": "", "tool_calls": [call]},
                               {"role": "tool", "tool_call_id": f"call_{i}", "content": str(i)}])
    window = conversation.messages(history_window=2)
    assert [m["role"] for m in window] == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant", "tool"]
    assert window[0]["content"] == SYSTEM_PROMPT and window[1]["content"] == "Do the task."
    assert window[2]["tool_calls"][0]["function"]["name"] == LIST_TOOLS and window[3]["content"] == '[{"name": "get_cart"}]'
    assert [m["content"] for m in window[5::2]] == ["2", "3"]
    assert len(conversation.messages(0)) == 4 + 2 * 4 == len(conversation.all_messages())


def test_the_models_own_first_list_tools_exchange_is_pinned():
    conversation = Conversation("Do the task.")
    conversation.add_turn([{"role": "assistant", "content": "", "tool_calls": [_tool_call(LIST_TOOLS, {}, 0)]},
                           {"role": "tool", "tool_call_id": "call_0", "content": "tools"}])
    conversation.add_turn([{"role": "assistant", "content": "done"}])
    assert conversation.turns == [[{"role": "assistant", "content": "done"}]] and len(conversation.messages(1)) == 5


def test_sampling_sends_top_k_and_thinking_through_extra_body():
    assert SamplingConfig(seed=7).request_kwargs(sample=2) == {
        "temperature": 0.6, "top_p": 0.95, "seed": 9, "extra_body": {"top_k": 20, "chat_template_kwargs": {"enable_thinking": True}}}
    assert SamplingConfig(top_k=None, enable_thinking=None, max_tokens=512).request_kwargs() == {
        "temperature": 0.6, "top_p": 0.95, "max_tokens": 512}
    assert {t["function"]["name"] for t in META_TOOLS} == {LIST_TOOLS, CALL_TOOL}


def test_outcome_taxonomy():
    assert classify("format_error", "complete", []) == "format_error"
    assert classify("final_answer", "others", ["tool_error"]) == "agent_error"
    assert classify("final_answer", "others", ["tool_error", "environment_error"]) == "environment_error"
    assert classify("session_lost", None, []) == "environment_error"
    assert classify("max_turns", "partially_completed", []) == "partial"
    assert classify("final_answer", "judge_error", []) == "verifier_error"


# ------------------------------------------------------------------ `awm agent`


def run_cli(args: list[str]) -> Any:
    return CliRunner().invoke(app, args, catch_exceptions=False)


def cart_rows(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT edition_id, quantity FROM cart_items ORDER BY id").fetchall()


def test_awm_agent_starts_a_server_and_writes_the_run_folder(tmp_path):
    player = DemoPlayer({("bookstore_1", 0): ["solve_text"]})
    with ScriptedLLM(player) as llm:
        result = run_cli(["agent", "--bundle", "bookstore_1", "--task-idx", "0", "--model", llm.model,
                          "--base-url", llm.base_url, "--out", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "bookstore_1 task 0: complete (verifier: complete, reward 1) after 4 turn(s), 3 tool call(s)" in result.output
    [folder] = (tmp_path / "runs" / "bookstore_1" / "task_0").iterdir()
    trajectory = json.loads((folder / "trajectory.json").read_text())
    assert trajectory["outcome"] == "complete" and trajectory["stop_reason"] == "final_answer"
    assert [t["thinking"] for t in trajectory["turns"]] == ["step 0: search_books", "step 1: get_book_details",
                                                           "step 2: add_cart_item", "done"]
    assert [c["tool"] for c in trajectory["calls"]] == ["search_books", "get_book_details", "add_cart_item"]
    assert trajectory["sampling"]["temperature"] == 0.6 and trajectory["protocol"]["history_window"] == 10
    assert json.loads((folder / "verification.json").read_text())[0]["result"] == "complete"
    added = set(cart_rows(folder / "final.db")) - set(cart_rows(folder / "initial.db"))
    assert added == {(2, 2)}  # two copies of the paperback edition, only in the final database
    first = llm.requests[0]
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant", "tool"]
    assert {t["name"] for t in json.loads(first["messages"][3]["content"])} >= {"search_books", "add_cart_item"}
    assert (first["top_k"], first["top_p"], first["chat_template_kwargs"]) == (20, 0.95, {"enable_thinking": True})
    # The text-style calls went back into the prompt as structured calls, without the thinking.
    replayed = llm.requests[1]["messages"][4]
    assert replayed["content"] == "" and replayed["tool_calls"][0]["function"]["name"] == CALL_TOOL


def test_awm_agent_names_an_unreachable_model_endpoint_on_one_line(tmp_path):
    result = run_cli(["agent", "--bundle", "bookstore_1", "--task-idx", "0", "--model", "m", "--max-retries", "0",
                      "--base-url", f"http://127.0.0.1:{free_port()}/v1", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot reach the model endpoint http://127.0.0.1:") and result.output.count("\n") == 1
    assert not any(tmp_path.iterdir())
