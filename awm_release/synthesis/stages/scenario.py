"""Stage `scenario`: seed names -> scenario descriptions -> CRUD-suitable, distinct, capped per category -> new bundles.

Per round, every seed whose category still has room is expanded into candidates (one LLM call), each
candidate is classified (one call each), and the suitable ones are admitted round-robin across seeds,
skipping near-duplicates (cosine >= threshold against every kept description, earlier bundles included)
and categories at their cap, until the run holds `count` bundles. Every candidate's fate is written to
RUN/scenarios.json. Expansions and classifications are resumable items like any other.
"""

from __future__ import annotations

import itertools
import math
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from awm_release.bundle import Bundle
from awm_release.names import normalize_scenario_name
from awm_release.synthesis import prompts
from awm_release.synthesis.attempts import Job, gather_all, run_job
from awm_release.synthesis.dedup import DEFAULT_THRESHOLD, Embedder, select_distinct
from awm_release.synthesis.llm import LLMClient
from awm_release.synthesis.runfolder import Attempt, ItemState, RunFolder, now_iso, read_json, write_json
from awm_release.synthesis.validation import check_classification, check_scenarios

STAGE = "scenario"
_NUMBERED = re.compile(r"^(.*)_(\d+)$")


def shipped_seeds() -> list[str]:
    """The seed domain names that ship with awm-release (one per line in seeds.txt)."""
    text = resources.files("awm_release.synthesis").joinpath("seeds.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@dataclass(frozen=True)
class ScenarioSettings:
    count: int  # bundles the run should hold in all
    seeds: tuple[str, ...]
    per_category: int | None = None  # default: an even share of `count` over the seeds
    similarity: float = DEFAULT_THRESHOLD
    overgenerate: float = 1.5  # candidates asked per seed, relative to its share
    rounds: int = 3  # expansion rounds per invocation, while the count is not reached

    def cap(self) -> int:
        return self.per_category or math.ceil(self.count / len(self.seeds))


@dataclass
class Candidate:
    seed: str
    round: int
    index: int
    name: str
    description: str
    suitable: bool | None = None
    reason: str = ""
    decision: str = ""
    bundle_id: str | None = None

    @property
    def category(self) -> str:
        return normalize_scenario_name(self.seed)


def category_of(bundle_id: str) -> str:
    match = _NUMBERED.match(bundle_id)
    return match[1] if match else bundle_id


class ScenarioStage:
    """Grow the run's bundles to `settings.count` scenarios."""

    def __init__(self, run: RunFolder, llm: LLMClient, embedder: Embedder, settings: ScenarioSettings,
                 attempts: int, on_done: Callable[[str, str], None] = lambda stage, outcome: None):
        self.run, self.llm, self.embedder, self.settings = run, llm, embedder, settings
        self.attempts = attempts
        self.on_done = on_done

    def active_seeds(self) -> list[str]:
        """The first seeds, as many as the count needs at the per-category cap."""
        return list(self.settings.seeds[: math.ceil(self.settings.count / self.settings.cap())])

    async def run_rounds(self, bundles: dict[str, Bundle]) -> list[Bundle]:
        """New bundles (already written to the run folder); `bundles` are the ones the run has."""
        created: list[Bundle] = []
        candidates: list[Candidate] = []
        earlier = {(r["seed"], r["round"], r["index"]): r["bundle_id"] for r in self._records() if r.get("bundle_id") in bundles}
        new_rounds = 0  # rounds recorded by earlier invocations are replayed from their state files for free
        for round_no in itertools.count(1):
            have = {**bundles, **{b.bundle_id: b for b in created}}
            if len(have) >= self.settings.count or new_rounds >= self.settings.rounds:
                break
            per_category = Counter(category_of(bid) for bid in have)
            seeds = [s for s in self.active_seeds() if per_category[normalize_scenario_name(s)] < self.settings.cap()]
            if not seeds:
                break
            new_rounds += any(self.run.load_item(STAGE, _expand_item(seed, round_no)) is None for seed in seeds)
            expanded = await gather_all([self._expand(seed, round_no, candidates) for seed in seeds])
            fresh = [c for batch in expanded for c in batch]
            await gather_all([self._classify(c) for c in fresh])
            for c in fresh:  # admitted by an earlier invocation of this run
                c.bundle_id = earlier.get((c.seed, c.round, c.index))
                c.decision = f"accepted as {c.bundle_id}" if c.bundle_id else ""
            candidates += fresh
            created += await self._admit(candidates, have, round_no)
        self._record(candidates)
        return created

    async def _expand(self, seed: str, round_no: int, earlier: list[Candidate]) -> list[Candidate]:
        item = _expand_item(seed, round_no)
        state = self.run.load_item(STAGE, item)
        if state is None or state.status != "accepted":
            share = math.ceil(self.settings.count / len(self.active_seeds()) * self.settings.overgenerate)
            avoid = [c.name for c in earlier if c.seed == seed]
            job = Job(STAGE, item, None, "scenario descriptions for one seed domain, as JSON",
                      prompts.SCENARIO_EXPAND.messages(seed=seed, count=share, avoid="; ".join(avoid) or "(none yet)"),
                      _sync_check(check_scenarios), keep_value=True)
            state = (await run_job(job, self.llm, self.run, self.attempts)).state
        self.on_done(STAGE, state.status)
        if state.status != "accepted":
            return []
        return [Candidate(seed, round_no, i, s["name"], s["description"]) for i, s in enumerate(state.value)]

    async def _classify(self, candidate: Candidate) -> None:
        item = f"classify.{candidate.category}.r{candidate.round}.c{candidate.index:02d}"
        state = self.run.load_item(STAGE, item)
        if state is None or state.status != "accepted":
            job = Job(STAGE, item, None, "a JSON verdict on whether the application suits create/read/update/delete work",
                      prompts.SCENARIO_CLASSIFY.messages(name=candidate.name, description=candidate.description),
                      _sync_check(check_classification), keep_value=True)
            state = (await run_job(job, self.llm, self.run, self.attempts)).state
        if state.status == "accepted":
            candidate.suitable, candidate.reason = state.value["suitable"], state.value["reason"]
        else:
            candidate.suitable, candidate.reason = False, "the classifier gave no usable answer"

    async def _admit(self, candidates: list[Candidate], have: dict[str, Bundle], round_no: int) -> list[Bundle]:
        """Admit suitable, distinct candidates round-robin across seeds until the count or the caps are reached."""
        pending = [c for c in candidates if c.bundle_id is None]
        for c in pending:
            c.decision = "" if c.suitable else f"unsuitable: {c.reason}"
        order = _round_robin([c for c in pending if c.suitable])
        existing_ids = list(have)
        duplicates: list[tuple[Candidate, str | Candidate, float]] = []
        if order:
            vectors, usage = await self.embedder.embed([b.description for b in have.values()] + [c.description for c in order])
            _record_usage(self.run, f"embeddings.r{round_no}.{uuid.uuid4().hex[:8]}", usage, self.embedder.name)
            keep, dropped = select_distinct(vectors[: len(have)], vectors[len(have):], self.settings.similarity)
            duplicates = [(order[d.index], existing_ids[d.of] if d.of < len(have) else order[d.of - len(have)], d.similarity)
                          for d in dropped]
            order = [order[i] for i in keep]
        per_category = Counter(category_of(bid) for bid in have)
        numbers = _next_numbers(have)
        created = []
        for c in order:
            if len(have) + len(created) >= self.settings.count:
                c.decision = "not needed: the run has its count"
            elif per_category[c.category] >= self.settings.cap():
                c.decision = f"category {c.category} is at its cap of {self.settings.cap()}"
            else:
                per_category[c.category] += 1
                numbers[c.category] += 1
                number = numbers[c.category]
                bundle = Bundle(bundle_id=f"{c.category}_{number}", display_name=f"{c.seed} {number}", description=c.description)
                self.run.save_bundle(bundle)
                c.bundle_id, c.decision = bundle.bundle_id, f"accepted as {bundle.bundle_id}"
                created.append(bundle)
        for candidate, twin, similarity in duplicates:  # named once the twin has its bundle id, if it got one
            twin_name = twin if isinstance(twin, str) else (twin.bundle_id or f"candidate {twin.name!r}")
            candidate.decision = f"near-duplicate of {twin_name} (cosine {similarity:.2f})"
        return created

    def _records(self) -> list[dict[str, Any]]:
        return read_json(self.run.root / "scenarios.json") or []

    def _record(self, candidates: list[Candidate]) -> None:
        """Merge this run's decisions into RUN/scenarios.json (earlier accepted candidates stay recorded)."""
        record = {(r["seed"], r["round"], r["index"]): r for r in self._records()}
        for c in candidates:
            key = (c.seed, c.round, c.index)
            if record.get(key, {}).get("bundle_id") is None:
                record[key] = {"seed": c.seed, "round": c.round, "index": c.index, "name": c.name,
                               "suitable": c.suitable, "decision": c.decision, "bundle_id": c.bundle_id}
        write_json(self.run.root / "scenarios.json", [record[k] for k in sorted(record)])


def _expand_item(seed: str, round_no: int) -> str:
    return f"expand.{normalize_scenario_name(seed)}.r{round_no}"


def _sync_check(check: Callable[[str], Any]):
    async def run(reply: str):
        return check(reply)
    return run


def _round_robin(candidates: list[Candidate]) -> list[Candidate]:
    """Interleave seeds (first of each, then second of each, ...) so that no seed crowds out the others."""
    rank = Counter()
    keyed = []
    for c in candidates:
        keyed.append((rank[c.seed], c))
        rank[c.seed] += 1
    return [c for _, c in sorted(keyed, key=lambda pair: pair[0])]


def _next_numbers(bundles: dict[str, Bundle]) -> Counter:
    """Per category, the highest number used so far (bundle ids are <category>_<n>)."""
    numbers: Counter = Counter()
    for bundle_id in bundles:
        match = _NUMBERED.match(bundle_id)
        if match:
            numbers[match[1]] = max(numbers[match[1]], int(match[2]))
    return numbers


def _record_usage(run: RunFolder, item: str, usage, model: str) -> None:
    """Embedding calls are accounted like generations: an accepted item with one attempt."""
    if usage.calls:
        run.save_item(ItemState(stage=STAGE, item=item, status="accepted", model=model, accounting_only=True,
                                prompt_version=prompts.PROMPT_VERSION,
                                attempts=[Attempt(number=1, ok=True, score=1.0, usage=usage, started=now_iso())]))
