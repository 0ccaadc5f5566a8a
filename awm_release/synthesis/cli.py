"""`awm gen`: synthesize environment bundles with any OpenAI-compatible model, stage by stage or all at once."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from awm_release import __version__
from awm_release.awm1k import write_awm1k
from awm_release.bundle import Bundle, BundleError
from awm_release.bundle_io import read_bundles
from awm_release.synthesis import prompts
from awm_release.synthesis.dedup import DEFAULT_THRESHOLD, APIEmbedder, Embedder, EmbeddingsUnavailable, LocalEmbedder, default_local_model
from awm_release.synthesis.llm import LLMClient, LLMSettings, LLMUnavailable
from awm_release.synthesis.pipeline import ChainSummary, Pipeline
from awm_release.synthesis.report import build_report, render_report, save_report, write_provenance
from awm_release.synthesis.runfolder import RunFolder, RunFolderError
from awm_release.synthesis.stages import BUNDLE_STAGES, GenSettings
from awm_release.synthesis.stages.scenario import ScenarioSettings, ScenarioStage, shipped_seeds
from awm_release.terminal import labelled, plain_console, print_error

console = plain_console()
err_console = plain_console(stderr=True)  # errors stay on one line, greppable
gen_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="""Synthesize environment bundles with any OpenAI-compatible LLM.

Stages: scenario -> task -> db -> sample -> spec -> env -> verifier; run one with `awm gen STAGE RUN`, or all
with `awm gen all RUN`. Every output is checked (SQLite, the serving runtime, the verifier sandbox); a failed
item is retried up to --attempts times with LLM-written summaries of its errors. Rerunning resumes: accepted
items are skipped. The API key is read from AWM_GEN_API_KEY or OPENAI_API_KEY.

Examples:

\b
  awm gen all runs/r1 --count 100 --model gpt-5 --price-in 1.25 --price-out 10
  awm gen all runs/r2 --count 20 --model Qwen/Qwen3-32B --base-url http://127.0.0.1:8000/v1 --embeddings local
  awm gen verifier runs/r3 --input imported/ --model gpt-5        # add verifiers to imported bundles
  awm gen report runs/r1""")


def _fail(message: str) -> typer.Exit:
    print_error(err_console, ' '.join(message.split()))
    return typer.Exit(2)


RunArg = Annotated[Path, typer.Argument(help="Run folder (created if new): bundles/, state/, provenance/, run.json, report.json.")]
ModelOpt = Annotated[str, typer.Option("--model", "-m", envvar="AWM_GEN_MODEL", help="Model name as the endpoint knows it.")]
BaseUrlOpt = Annotated[Optional[str], typer.Option("--base-url", envvar=["AWM_GEN_BASE_URL", "OPENAI_BASE_URL"],
                                                   help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 for vLLM. Default: OpenAI.")]
ConcurrencyOpt = Annotated[int, typer.Option(min=1, help="LLM requests in flight at once.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=1, help="Seconds per LLM request before it is retried.")]
RetriesOpt = Annotated[int, typer.Option("--http-retries", min=0, help="Retries (exponential backoff) of one request on 429, 5xx and timeouts.")]
AttemptsOpt = Annotated[int, typer.Option(min=1, max=5, help="Tries per item; each retry carries summaries of the earlier errors.")]
TemperatureOpt = Annotated[Optional[float], typer.Option(help="Sampling temperature (default: the endpoint's).")]
MaxTokensOpt = Annotated[Optional[int], typer.Option(help="Completion token limit per request (default: the endpoint's).")]
PriceInOpt = Annotated[float, typer.Option(envvar="AWM_GEN_PRICE_IN", min=0, help="USD per million prompt tokens, for the cost report.")]
PriceOutOpt = Annotated[float, typer.Option(envvar="AWM_GEN_PRICE_OUT", min=0, help="USD per million completion tokens, for the cost report.")]
WorkersOpt = Annotated[int, typer.Option(min=1, help="Checks running at once (verifier sandboxes, environment loads).")]
TasksOpt = Annotated[int, typer.Option(min=1, help="Tasks per scenario (stage task).")]
BundleOpt = Annotated[Optional[list[str]], typer.Option("--bundle", "-b", help="Only these bundle ids (repeatable). Default: all of the run's.")]
InputOpt = Annotated[Optional[list[Path]], typer.Option("--input", "-i", help="Bundle files or folders to add to the run first (ids already in the run keep the run's copy).")]
Awm1kOpt = Annotated[Optional[Path], typer.Option("--awm1k", help="Also write the run's bundles as AgentWorldModel-1K gen_*.jsonl files here.")]
CountOpt = Annotated[int, typer.Option(min=1, help="Scenarios (bundles) the run should hold in all.")]
SeedsOpt = Annotated[Optional[Path], typer.Option("--seeds", help="File of seed domain names, one per line (default: the 100 shipped ones).")]
SeedOpt = Annotated[Optional[list[str]], typer.Option("--seed", help="A seed domain name (repeatable); overrides --seeds.")]
PerCategoryOpt = Annotated[Optional[int], typer.Option(min=1, help="At most this many scenarios per seed domain (default: an even share of --count).")]
SimilarityOpt = Annotated[float, typer.Option(min=0, max=1, help="Drop a scenario whose description has at least this cosine similarity to a kept one.")]
EmbeddingsOpt = Annotated[str, typer.Option(help="'local' (sentence-transformers, offline) or 'api' (the endpoint's /embeddings).")]
EmbeddingModelOpt = Annotated[Optional[str], typer.Option(help="Local: a sentence-transformers folder (default: the packaged all-MiniLM-L6-v2). API: the model name.")]


@dataclass(frozen=True)
class _Options:
    llm: LLMSettings
    gen: GenSettings
    price_in: float
    price_out: float
    bundles: list[str] | None
    inputs: list[Path]
    awm1k: Path | None

    def record(self, command: str, extra: dict | None = None) -> dict:
        """What run.json keeps about this invocation (never the API key)."""
        return {"awm_release": __version__, "model": self.llm.model, "base_url": self.llm.base_url,
                "prompt_version": prompts.PROMPT_VERSION, "prompt_digest": prompts.PROMPT_DIGEST,
                "price_in": self.price_in, "price_out": self.price_out,
                "llm": {k: v for k, v in asdict(self.llm).items() if k not in ("model", "base_url")},
                "settings": asdict(self.gen), "bundles": self.bundles, **(extra or {})}


def _options(model: str, base_url: str | None, concurrency: int, timeout: float, http_retries: int, attempts: int,
             temperature: float | None, max_tokens: int | None, price_in: float, price_out: float, workers: int,
             tasks_per_scenario: int, bundle: list[str] | None, input: list[Path] | None, awm1k: Path | None,
             embedding_model: str | None = None) -> _Options:
    return _Options(
        llm=LLMSettings(model=model, base_url=base_url, concurrency=concurrency, timeout_s=timeout, max_retries=http_retries,
                        temperature=temperature, max_tokens=max_tokens, embedding_model=embedding_model),
        gen=GenSettings(attempts=attempts, tasks_per_scenario=tasks_per_scenario, workers=workers),
        price_in=price_in, price_out=price_out, bundles=bundle or None, inputs=input or [], awm1k=awm1k)


class StageBars:
    """One rich progress bar per stage, advanced as each bundle (or seed, for scenarios) finishes a stage."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, int] = {}
        self.counts: dict[str, dict[str, int]] = {}

    def add(self, stage: str, total: int | None) -> None:
        self.counts[stage] = {}
        self.tasks[stage] = self.progress.add_task(stage, total=total)

    def __call__(self, stage: str, outcome: str) -> None:
        if stage not in self.tasks:
            return
        counts = self.counts[stage]
        counts[outcome] = counts.get(outcome, 0) + 1
        detail = " ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        self.progress.update(self.tasks[stage], advance=1, description=f"{stage:<9} {detail}")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=False)


def _embedder(kind: str, model: str | None, llm: LLMClient) -> Embedder:
    if kind == "local":
        if importlib.util.find_spec("sentence_transformers") is None:
            raise EmbeddingsUnavailable('--embeddings local needs sentence-transformers: pip install "awm-release[embeddings]" '
                                        "(or use --embeddings api --embedding-model NAME)")
        return LocalEmbedder(model or default_local_model())
    if kind == "api":
        if not model:
            raise EmbeddingsUnavailable("--embeddings api needs --embedding-model NAME (a model of the endpoint's /embeddings)")
        return APIEmbedder(llm)
    raise EmbeddingsUnavailable(f"--embeddings must be 'local' or 'api', not {kind!r}")


def _seed_names(seeds_file: Path | None, seed: list[str] | None) -> tuple[str, ...]:
    if seed:
        return tuple(seed)
    if seeds_file is None:
        return tuple(shipped_seeds())
    try:
        lines = seeds_file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RunFolderError(f"cannot read --seeds {seeds_file}: {exc.strerror}") from None
    names = tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))
    if not names:
        raise RunFolderError(f"--seeds {seeds_file} holds no seed names (one per line; # starts a comment)")
    return names


def _add_inputs(run: RunFolder, inputs: list[Path], bundles: dict[str, Bundle]) -> None:
    """Copy input bundles into the run (and `bundles`); an id the run already has keeps the run's copy."""
    if not inputs:
        return
    for bundle_id, bundle in read_bundles(inputs).items():
        if bundle_id in bundles:
            console.print(f"input {bundle_id}: already in the run; keeping the run's copy", highlight=False)
        else:
            run.save_bundle(bundle)
            bundles[bundle_id] = bundle


def _print_summary(summary: ChainSummary, run: RunFolder) -> None:
    for stage in BUNDLE_STAGES:
        counts = summary.outcomes.get(stage)
        if counts:
            console.print(f"{stage:<9} " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())), highlight=False)
    for stage, reasons in summary.blocked.items():
        shown = "; ".join(reasons[:3]) + (f"; ... {len(reasons) - 3} more" if len(reasons) > 3 else "")
        console.print(*labelled(f"blocked at {stage}", "yellow", shown))
    console.print(f"details: awm gen report {run.root}", highlight=False)


async def _generate(run_dir: Path, command: str, stages: list[str], opts: _Options,
                    scenario: ScenarioSettings | None = None, embeddings: str = "local") -> None:
    run = RunFolder(run_dir)
    bundles = run.read_bundles()
    _add_inputs(run, opts.inputs, bundles)
    llm = LLMClient(opts.llm)
    embedder = _embedder(embeddings, opts.llm.embedding_model, llm) if scenario is not None else None
    run.record_invocation(command, opts.record(command, {"scenario": asdict(scenario) if scenario else None}))
    try:
        with _progress() as progress:
            bars = StageBars(progress)
            async with Pipeline(run, llm, opts.gen, bundles=bundles, on_done=bars) as pipeline:
                if scenario is not None and embedder is not None:
                    stage = ScenarioStage(run, llm, embedder, scenario, opts.gen.attempts, on_done=bars)
                    bars.add("scenario", total=None)
                    pipeline.add_bundles(await stage.run_rounds(pipeline.bundles))
                chain = [s for s in stages if s in BUNDLE_STAGES]
                summary = ChainSummary()
                if chain:
                    targets = opts.bundles or sorted(pipeline.bundles)
                    for name in chain:
                        bars.add(name, total=len(targets))
                    summary = await pipeline.run_chain(chain, targets)
    finally:
        await llm.close()
    write_provenance(run, bundles)
    save_report(run, build_report(run, bundles, (opts.price_in, opts.price_out) if opts.price_in or opts.price_out else None))
    if scenario is not None:
        short = len(bundles) < scenario.count
        console.print(f"scenarios: the run holds {len(bundles)} of {scenario.count} requested"
                      + ("; rerun for more rounds, or add seeds, raise --per-category or lower --similarity "
                         "(RUN/scenarios.json says why each candidate was dropped)" if short else ""), highlight=False)
    _print_summary(summary, run)
    if opts.awm1k is not None:
        counts = write_awm1k(bundles.values(), opts.awm1k)
        console.print(f"AWM-1K files: {', '.join(f'{name} ({n})' for name, n in counts.items())} in {opts.awm1k}", highlight=False)


def _run(coroutine) -> None:
    """Run a generation; expected failures become one line on stderr and exit code 2."""
    try:
        asyncio.run(coroutine)
    except (LLMUnavailable, EmbeddingsUnavailable, RunFolderError, KeyError) as exc:
        raise _fail(str(exc.args[0]) if isinstance(exc, KeyError) else str(exc)) from None
    except BundleError as exc:
        raise _fail(str(exc)) from None


def _register_bundle_stage(name: str) -> None:
    stage = BUNDLE_STAGES[name]

    def command(
        run: RunArg, model: ModelOpt, base_url: BaseUrlOpt = None, concurrency: ConcurrencyOpt = 8, timeout: TimeoutOpt = 600.0,
        http_retries: RetriesOpt = 5, attempts: AttemptsOpt = 5, temperature: TemperatureOpt = None,
        max_tokens: MaxTokensOpt = None, price_in: PriceInOpt = 0.0, price_out: PriceOutOpt = 0.0,
        workers: WorkersOpt = os.cpu_count() or 2, tasks_per_scenario: TasksOpt = 10, bundle: BundleOpt = None,
        input: InputOpt = None, awm1k: Awm1kOpt = None,
    ) -> None:
        opts = _options(model, base_url, concurrency, timeout, http_retries, attempts, temperature, max_tokens, price_in,
                        price_out, workers, tasks_per_scenario, bundle, input, awm1k)
        _run(_generate(run, name, [name], opts))

    command.__doc__ = f"""Stage {name}: {stage.title}.

    Runs on every bundle of the run that lacks it and already has: {', '.join(stage.needs)}.
    Accepted items are skipped on rerun.

    Example:

    \b
      awm gen {name} runs/r1 --model gpt-5 --concurrency 16
    """
    gen_app.command(name)(command)



@gen_app.command("scenario")
def scenario_command(
    run: RunArg, model: ModelOpt, count: CountOpt, seeds: SeedsOpt = None, seed: SeedOpt = None,
    per_category: PerCategoryOpt = None, similarity: SimilarityOpt = DEFAULT_THRESHOLD, embeddings: EmbeddingsOpt = "local",
    embedding_model: EmbeddingModelOpt = None, base_url: BaseUrlOpt = None, concurrency: ConcurrencyOpt = 8,
    timeout: TimeoutOpt = 600.0, http_retries: RetriesOpt = 5, attempts: AttemptsOpt = 5, temperature: TemperatureOpt = None,
    max_tokens: MaxTokensOpt = None, price_in: PriceInOpt = 0.0, price_out: PriceOutOpt = 0.0,
    workers: WorkersOpt = os.cpu_count() or 2, input: InputOpt = None, awm1k: Awm1kOpt = None,
) -> None:
    """Stage scenario: expand seed domains into scenario descriptions, keep CRUD-suitable, distinct ones.

    Grows the run to --count bundles; a classifier drops unsuitable scenarios, embeddings drop near-duplicates
    (cosine >= --similarity) and --per-category caps each seed domain. Every candidate's fate is in RUN/scenarios.json.

    Examples:

    \b
      awm gen scenario runs/r1 --count 100 --model gpt-5
      awm gen scenario runs/r1 --count 10 --seed "Bookstore" --seed "Clinic booking" --model gpt-5 --embeddings api --embedding-model text-embedding-3-small
    """
    opts = _options(model, base_url, concurrency, timeout, http_retries, attempts, temperature, max_tokens, price_in,
                    price_out, workers, 10, None, input, awm1k, embedding_model)
    _run(_scenario_then(run, "scenario", [], opts, count, seeds, seed, per_category, similarity, embeddings))


for _name in BUNDLE_STAGES:  # after `scenario`, so that --help lists the stages in chain order
    _register_bundle_stage(_name)


@gen_app.command("all")
def all_command(
    run: RunArg, model: ModelOpt, count: Annotated[Optional[int], typer.Option(min=1, help="Grow the run to this many scenarios first (omit to only complete the run's bundles).")] = None,
    seeds: SeedsOpt = None, seed: SeedOpt = None, per_category: PerCategoryOpt = None,
    similarity: SimilarityOpt = DEFAULT_THRESHOLD, embeddings: EmbeddingsOpt = "local", embedding_model: EmbeddingModelOpt = None,
    base_url: BaseUrlOpt = None, concurrency: ConcurrencyOpt = 8, timeout: TimeoutOpt = 600.0, http_retries: RetriesOpt = 5,
    attempts: AttemptsOpt = 5, temperature: TemperatureOpt = None, max_tokens: MaxTokensOpt = None,
    price_in: PriceInOpt = 0.0, price_out: PriceOutOpt = 0.0, workers: WorkersOpt = os.cpu_count() or 2,
    tasks_per_scenario: TasksOpt = 10, bundle: BundleOpt = None, input: InputOpt = None, awm1k: Awm1kOpt = None,
) -> None:
    """Every stage: scenarios (with --count), then tasks, database, seed data, spec, code and verifiers per bundle.

    Bundles move through the stages independently and concurrently; rerun the same command to resume.

    Examples:

    \b
      awm gen all runs/r1 --count 100 --model gpt-5 --price-in 1.25 --price-out 10 --awm1k runs/r1/awm1k
      awm gen all runs/r1 --model gpt-5                   # resume: finish the run's bundles
    """
    opts = _options(model, base_url, concurrency, timeout, http_retries, attempts, temperature, max_tokens, price_in,
                    price_out, workers, tasks_per_scenario, bundle, input, awm1k, embedding_model)
    chain = list(BUNDLE_STAGES)
    if count is None:
        _run(_generate(run, "all", chain, opts))
    else:
        _run(_scenario_then(run, "all", chain, opts, count, seeds, seed, per_category, similarity, embeddings))


async def _scenario_then(run: Path, command: str, chain: list[str], opts: _Options, count: int, seeds_file: Path | None,
                         seed: list[str] | None, per_category: int | None, similarity: float, embeddings: str) -> None:
    settings = ScenarioSettings(count=count, seeds=_seed_names(seeds_file, seed), per_category=per_category, similarity=similarity)
    await _generate(run, command, chain, opts, settings, embeddings)


@gen_app.command("report")
def report_command(
    run: RunArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of tables.")] = False,
    price_in: Annotated[Optional[float], typer.Option(min=0, help="USD per million prompt tokens (default: as the run recorded).")] = None,
    price_out: Annotated[Optional[float], typer.Option(min=0, help="USD per million completion tokens (default: as the run recorded).")] = None,
) -> None:
    """Pass rates per stage, retries, failures by cause, tokens and cost per stage and per bundle.

    Rebuilt from the run's state files (so it covers every resumed invocation) and saved as RUN/report.json.

    Examples:

    \b
      awm gen report runs/r1
      awm gen report runs/r1 --price-in 0.15 --price-out 0.6 --json | jq .totals
    """
    folder = RunFolder(run)
    if not folder.state_dir.is_dir():
        raise _fail(f"{run} is not a synthesis run folder (no state/); start one with `awm gen all {run} --count N --model NAME`")
    try:
        prices = (price_in or 0.0, price_out or 0.0) if price_in is not None or price_out is not None else None
        report = build_report(folder, folder.read_bundles(), prices)
    except (RunFolderError, BundleError) as exc:
        raise _fail(str(exc)) from None
    save_report(folder, report)
    if as_json:
        print(json.dumps(report, indent=1))
    else:
        render_report(report, console)

