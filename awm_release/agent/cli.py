"""`awm agent` (one episode) and `awm eval` (pass@k over a dataset split; compare, plot, summary)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.text import Text

from awm_release.agent.compare import compare_runs, render_comparison
from awm_release.agent.eval import EvalError, EvalSettings, load_summary, run_eval, write_summary
from awm_release.agent.model import Endpoint, ModelEndpointError
from awm_release.agent.plot import plot_runs
from awm_release.agent.protocol import ProtocolConfig, SamplingConfig
from awm_release.agent.results import PLOT_FILE, RESULTS_FILE, SUMMARY_FILE, RunFolderError, read_config
from awm_release.agent.single import run_agent
from awm_release.agent.summary import render_summary
from awm_release.agent.tasks import TaskSourceError, load_split_tasks, select_tasks
from awm_release.bundle import BundleError
from awm_release.client import AWMServerError
from awm_release.release.errors import ReleaseError
from awm_release.terminal import labelled, plain_console, print_error

console = plain_console()
err_console = plain_console(stderr=True)  # errors stay on one line, greppable
_EXPECTED_ERRORS = (EvalError, AWMServerError, ModelEndpointError, TaskSourceError, RunFolderError, ReleaseError,
                    BundleError, FileExistsError)
_PROTOCOL, _SAMPLING = ProtocolConfig(), SamplingConfig()


class Thinking(str, Enum):
    on = "on"
    off = "off"
    server_default = "server-default"


class VerifyMode(str, Enum):
    code = "code"
    sql = "sql"


@dataclass(frozen=True)
class RunOptions:
    """The options `awm agent` and `awm eval` share: the model, the protocol, sampling, verification."""

    model: Optional[str]  # None only where a group's subcommand runs instead
    base_url: Optional[str]
    server: Optional[str]
    verify_mode: VerifyMode
    judge_base_url: Optional[str]
    judge_model: Optional[str]
    temperature: float
    top_p: float
    top_k: int
    thinking: Thinking
    max_tokens: Optional[int]
    seed: Optional[int]
    max_turns: int
    history_window: int
    list_tools_first: bool
    end_on_format_error: bool
    request_timeout: float
    max_retries: int

    def endpoint(self) -> Endpoint:
        if not self.model or not self.base_url:
            raise EvalError("--model and --base-url are required: the agent's model and its OpenAI-compatible endpoint")
        return Endpoint(self.model, self.base_url, timeout_s=self.request_timeout, max_retries=self.max_retries)

    def protocol(self) -> ProtocolConfig:
        return ProtocolConfig(history_window=self.history_window, max_turns=self.max_turns,
                              list_tools_first=self.list_tools_first, end_on_format_error=self.end_on_format_error)

    def sampling(self) -> SamplingConfig:
        thinking = {Thinking.on: True, Thinking.off: False, Thinking.server_default: None}[Thinking(self.thinking)]
        return SamplingConfig(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k or None,
                              enable_thinking=thinking, max_tokens=self.max_tokens, seed=self.seed)

    def judge_args(self) -> list[str]:
        if (self.judge_base_url is None) != (self.judge_model is None):
            raise EvalError("--judge-base-url and --judge-model go together")
        if VerifyMode(self.verify_mode) is VerifyMode.sql and not (self.judge_base_url or self.server):
            raise EvalError("--verify-mode sql needs an LLM judge: pass --judge-base-url URL --judge-model NAME "
                            "(or --server URL of an awm-serve started with them)")
        return ["--judge-base-url", self.judge_base_url, "--judge-model", self.judge_model] if self.judge_base_url else []


_RUN_OPTION_TYPES: dict[str, Any] = {
    "model": Annotated[Optional[str], typer.Option(help="Model name at the endpoint (vLLM: the name it serves).", show_default=False)],
    "base_url": Annotated[Optional[str], typer.Option(help="OpenAI-compatible endpoint of the agent's model, e.g. "
                                                 "http://127.0.0.1:8001/v1 (key from AWM_AGENT_API_KEY or OPENAI_API_KEY).",
                                            show_default=False)],
    "server": Annotated[Optional[str], typer.Option(help="URL of a running awm-serve; default: start one for the run.")],
    "verify_mode": Annotated[VerifyMode, typer.Option(help="code: the code verifier (complete/others); sql: verifier "
                                                           "facts judged by an LLM (complete/partial/agent or environment error).")],
    "judge_base_url": Annotated[Optional[str], typer.Option(help="LLM judge endpoint for sql mode (for the awm-serve started here).")],
    "judge_model": Annotated[Optional[str], typer.Option(help="LLM judge model for sql mode.")],
    "temperature": Annotated[float, typer.Option(help="Sampling temperature.")],
    "top_p": Annotated[float, typer.Option(help="Nucleus sampling.")],
    "top_k": Annotated[int, typer.Option(help="Top-k (sent in extra_body); 0 leaves it out, for endpoints that reject it.")],
    "thinking": Annotated[Thinking, typer.Option(help="Qwen3 thinking (chat_template_kwargs.enable_thinking); "
                                                      "server-default sends nothing.")],
    "max_tokens": Annotated[Optional[int], typer.Option(help="Completion token limit per turn (default: the server's).")],
    "seed": Annotated[Optional[int], typer.Option(help="Sampling seed; episode j of a task uses seed + j.")],
    "max_turns": Annotated[int, typer.Option(help="Model turns per episode.")],
    "history_window": Annotated[int, typer.Option(help="Turns kept in the prompt after system, task and the first "
                                                       "list_tools exchange; 0 keeps all.")],
    "list_tools_first": Annotated[bool, typer.Option(help="Open the conversation with the list_tools exchange.")],
    "end_on_format_error": Annotated[bool, typer.Option("--end-on-format-error/--continue-on-format-error",
                                                        help="End the episode on a malformed turn (as in training), "
                                                             "or tell the model and go on.")],
    "request_timeout": Annotated[float, typer.Option(help="Seconds per model request.")],
    "max_retries": Annotated[int, typer.Option(help="Retries of a model request on 429, 5xx and dropped connections.")],
}
_RUN_OPTION_DEFAULTS: dict[str, Any] = {
    "model": ..., "base_url": ..., "server": None, "verify_mode": VerifyMode.code, "judge_base_url": None, "judge_model": None,
    "temperature": _SAMPLING.temperature, "top_p": _SAMPLING.top_p, "top_k": _SAMPLING.top_k, "thinking": Thinking.on,
    "max_tokens": None, "seed": None, "max_turns": _PROTOCOL.max_turns, "history_window": _PROTOCOL.history_window,
    "list_tools_first": _PROTOCOL.list_tools_first, "end_on_format_error": _PROTOCOL.end_on_format_error,
    "request_timeout": 600.0, "max_retries": 3,
}


def with_run_options(*, model_required: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the shared options (as its own typer options) and call it with them as `run: RunOptions`.

    A group's callback passes model_required=False, so that its subcommands do not ask for --model.
    Expected errors end the command with one line on stderr and exit code 2.
    """
    names = [f.name for f in fields(RunOptions)]
    defaults = dict(_RUN_OPTION_DEFAULTS, **({} if model_required else {"model": None, "base_url": None}))

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "run"]
        shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=defaults[name],
                                    annotation=_RUN_OPTION_TYPES[name]) for name in names]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            run = RunOptions(**{name: kwargs.pop(name) for name in names})
            with _one_line_errors():
                return command(**kwargs, run=run)

        wrapper.__signature__ = inspect.Signature([*own, *shared])  # type: ignore[attr-defined]
        return wrapper

    return decorate


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """End the command on an expected error with one line on stderr and exit code 2."""
    try:
        yield
    except _EXPECTED_ERRORS as exc:
        print_error(err_console, ' '.join(str(exc).split()))
        raise typer.Exit(2) from None


@with_run_options()
def agent_command(
    bundle: Annotated[str, typer.Option(help="Bundle id (an embedded demo, or from --bundles / --dataset).", show_default=False)],
    task_idx: Annotated[int, typer.Option(help="Task index within the bundle.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Runs folder: the episode goes to OUT/BUNDLE/task_IDX/SESSION/.")] = Path("runs"),
    bundles: Annotated[Optional[Path], typer.Option(help="Bundle file or folder, for the awm-serve started here.")] = None,
    dataset: Annotated[Optional[str], typer.Option(help="Release folder or Hub dataset repo, for the awm-serve started here.")] = None,
    revision: Annotated[Optional[str], typer.Option(help="Release tag of a Hub --dataset, e.g. v1.0.0.")] = None,
    trust_remote_code: Annotated[bool, typer.Option("--trust-remote-code", help="Let the awm-serve started here run bundle code from a Hub --dataset (in its sandbox).")] = False,
    *, run: RunOptions,
) -> None:
    """Run one agent episode on one task and write its run folder (trajectory, initial and final databases, verification).

    The agent uses the AWM protocol: meta-tools list_tools and call_tool, list_tools first, thinking on, a
    10-turn history window, up to 20 turns. Without --server, an awm-serve is started for the bundle.

    Examples:

    \b
      vllm serve Qwen/Qwen3-8B --port 8001 --enable-auto-tool-choice --tool-call-parser hermes --reasoning-parser qwen3
      awm agent --bundle bookstore_1 --task-idx 0 --model Qwen/Qwen3-8B --base-url http://127.0.0.1:8001/v1
      awm agent --bundle e_commerce_33 --task-idx 3 --dataset awm/envs --revision v1.0.0 --trust-remote-code --model M --base-url URL
      awm agent --bundle bookstore_1 --task-idx 2 --server http://127.0.0.1:8000 --model M --base-url URL --verify-mode sql
    """
    serve_args = [bundle, *(["--bundles", str(bundles)] if bundles else []), *(["--dataset", dataset] if dataset else []),
                  *(["--revision", revision] if revision else []), *(["--trust-remote-code"] if trust_remote_code else []),
                  *run.judge_args()]
    episode, folder = run_agent(bundle, task_idx, run.endpoint(), out, server=run.server, serve_args=serve_args,
                                protocol=run.protocol(), sampling=run.sampling(), verify_mode=VerifyMode(run.verify_mode).value)
    record = episode.record()
    console.print(f"{bundle} task {task_idx}:", Text(record['outcome'], style="bold"), f"(verifier: {record['verdict']}, reward "
                  f"{record['reward']:g}) after {record['turns']} turn(s), {record['tool_calls']} tool call(s), stopped by "
                  f"{record['stop_reason']}" + (f": {record['format_error']}" if record["format_error"] else ""), highlight=False)
    if episode.final_answer:
        console.print(f"final answer: {episode.final_answer}", highlight=False)
    console.print(f"run folder: {folder}", highlight=False)


eval_app = typer.Typer(invoke_without_command=True, no_args_is_help=True, rich_markup_mode=None)  # help: eval_command's docstring


@eval_app.callback()
@with_run_options(model_required=False)
def eval_command(
    ctx: typer.Context,
    dataset: Annotated[Optional[str], typer.Option(help="Release folder (`awm release pack`) or Hub dataset repo.", show_default=False)] = None,
    split: Annotated[str, typer.Option(help="Task split: train, validation or test.")] = "test",
    revision: Annotated[Optional[str], typer.Option(help="Release tag of a Hub --dataset, e.g. v1.0.0.")] = None,
    trust_remote_code: Annotated[bool, typer.Option("--trust-remote-code", help="Let the awm-serve started here run bundle code from a Hub --dataset (in its sandbox).")] = False,
    k: Annotated[int, typer.Option("--k", min=1, help="Episodes per task (pass@1 ... pass@k).")] = 4,
    concurrency: Annotated[int, typer.Option(min=1, help="Episodes running at once.")] = 8,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Run folder (default evals/MODEL-SPLIT); rerun the "
                                                                   "same command to resume it.", show_default=False)] = None,
    task: Annotated[Optional[list[str]], typer.Option(help="Only these tasks: BUNDLE_ID or BUNDLE_ID:IDX; repeatable.")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N tasks (in bundle, index order).")] = None,
    save_episodes: Annotated[bool, typer.Option(help="Write each episode's run folder under OUT/episodes/.")] = True,
    compare_with: Annotated[Optional[list[Path]], typer.Option(help="Earlier run folders to draw beside this run in "
                                                                    "OUT/summary.png; repeatable.")] = None,
    *, run: RunOptions,
) -> None:
    """Run k episodes per task of a dataset split with the paper's agent protocol, verify each, and report pass@k.

    Writes OUT/results.jsonl (one line per episode), OUT/summary.json (pass@1, pass@k with the unbiased
    estimator, per-environment and per-task rates, outcomes: complete / partial / agent error / environment
    error / format error, mean turns and tokens), OUT/summary.png and OUT/episodes/ (trajectories and
    databases). Interrupted runs resume: run the same command again.

    Examples:

    \b
      awm eval --dataset awm-envs/ --split test --model Qwen/Qwen3-8B --base-url http://127.0.0.1:8001/v1 --k 4 --concurrency 32
      awm eval --dataset awm/envs --revision v1.0.0 --trust-remote-code --model M --base-url URL --limit 20 --k 1 --out evals/smoke
      awm eval --dataset awm-envs/ --model M --base-url URL --verify-mode sql --judge-base-url URL2 --judge-model Qwen/Qwen3-32B
      awm eval --dataset awm-envs/ --model awm-8b --base-url URL --out evals/trained --compare-with evals/base
      awm eval compare evals/base evals/trained
      awm eval plot evals/base evals/trained --out comparison.png
    """
    if ctx.invoked_subcommand is not None:
        return
    run.judge_args()  # refuse an incomplete judge setup, or runs to compare with that are none, before any work
    for folder in compare_with or []:
        read_config(folder)
    if dataset is None:
        raise EvalError("--dataset is required: a release folder written by `awm release pack`, or a Hub dataset repo "
                        "such as awm/envs (see `awm eval --help`)")
    endpoint = run.endpoint()
    skipped: list[str] = []
    verify_mode = VerifyMode(run.verify_mode).value
    tasks = select_tasks(load_split_tasks(dataset, split, revision, verifier="code" if verify_mode == "code" else "sql",
                                          skipped=skipped), task or [], limit)
    for line in skipped:
        err_console.print(*labelled("warning", "yellow", line))
    target = out or Path("evals") / f"{endpoint.model.replace('/', '_')}-{split}"
    settings = EvalSettings(dataset=dataset, split=split, endpoint=endpoint, out=target, revision=revision, k=k,
                            concurrency=concurrency, protocol=run.protocol(), sampling=run.sampling(),
                            verify_mode=verify_mode, server=run.server,
                            judge_base_url=run.judge_base_url, judge_model=run.judge_model, save_episodes=save_episodes,
                            trust_remote_code=trust_remote_code)
    summary = run_eval(settings, tasks, console=err_console)
    if compare_with:
        _plot([*compare_with, target], target / PLOT_FILE)
    console.print(render_summary(summary))
    console.print(f"results {target / RESULTS_FILE}; summary {target / SUMMARY_FILE}; plot {target / PLOT_FILE}", highlight=False)


RunFolders = Annotated[list[Path], typer.Argument(help="Run folders written by `awm eval` (its --out).", show_default=False)]


def _expected_errors_fail(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _one_line_errors():
            return command(*args, **kwargs)

    return wrapper


@eval_app.command("compare")
@_expected_errors_fail
def compare_command(
    run_a: Annotated[Path, typer.Argument(help="The baseline run folder (A).", show_default=False)],
    run_b: Annotated[Path, typer.Argument(help="The run compared with it (B).", show_default=False)],
    plot: Annotated[Optional[Path], typer.Option(help="Also write a PNG comparing the two runs.")] = None,
) -> None:
    """Print the tasks whose success rate differs between two runs, and a paired significance test.

    Tasks are paired by bundle and index; the Wilcoxon signed-rank test runs on the per-task differences.

    Examples:

    \b
      awm eval compare evals/Qwen_Qwen3-8B-test evals/awm-8b-test
      awm eval compare evals/base evals/trained --plot base-vs-trained.png
    """
    console.print(render_comparison(compare_runs(run_a, run_b)))
    if plot is not None:
        _plot([run_a, run_b], plot)


@eval_app.command("plot")
@_expected_errors_fail
def plot_command(
    runs: RunFolders,
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG file to write.")] = Path("eval-comparison.png"),
) -> None:
    """Write one PNG comparing runs: pass@k curves and the outcome mix of each.

    Example:

    \b
      awm eval plot evals/base evals/trained evals/trained-longer --out comparison.png
    """
    _plot(runs, out)


@eval_app.command("summary")
@_expected_errors_fail
def summary_command(runs: RunFolders) -> None:
    """Recompute and print the summary of runs (also of an interrupted one), rewriting summary.json and summary.png.

    Example:

    \b
      awm eval summary evals/Qwen_Qwen3-8B-test
    """
    for folder in runs:
        console.print(render_summary(write_summary(folder, read_config(folder))))


def _plot(runs: list[Path], out: Path) -> None:
    summaries = [(f"{folder.name} ({read_config(folder)['model']})", load_summary(folder)) for folder in runs]
    console.print(f"plot: {plot_runs(summaries, out)}", highlight=False)
