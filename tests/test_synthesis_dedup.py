"""Near-duplicate removal: the greedy cosine selection, and the real offline embedding model end to end."""

from __future__ import annotations

import asyncio
import importlib.util

import numpy as np
import pytest

from awm_release.synthesis.dedup import LocalEmbedder, default_local_model, select_distinct

HAS_TORCH = importlib.util.find_spec("torch") is not None and importlib.util.find_spec("sentence_transformers") is not None

BOOKSTORE = "An online bookstore where readers browse new books, keep a cart and a wish list, place orders and write reviews."
BOOKSTORE_AGAIN = ("An online book store where readers browse new books, keep a shopping cart and a wishlist, place orders "
                   "and write reviews.")
CLINIC = "A clinic booking system where patients find doctors, book, reschedule and cancel appointments and see visit notes."
TRACKER = "A team task tracker where members create projects, assign tasks, set due dates, comment and close tasks."


def test_greedy_selection_keeps_the_first_of_each_near_duplicate_group():
    existing = np.array([[1.0, 0.0, 0.0]])
    candidates = np.array([[0.99, 0.1, 0.0],   # near the existing row: dropped
                           [0.0, 1.0, 0.0],    # new: kept
                           [0.0, 2.0, 0.1],    # near candidate 1 (length does not matter): dropped
                           [0.0, 0.6, 0.8]])   # cosine 0.6 to candidate 1: kept
    keep, dropped = select_distinct(existing, candidates, threshold=0.85)
    assert keep == [1, 3]
    assert [(d.index, d.of) for d in dropped] == [(0, 0), (2, 2)]  # `of` counts existing rows first
    assert dropped[0].similarity == pytest.approx(0.995, abs=1e-3)
    assert select_distinct(np.empty((0, 3)), candidates, threshold=1.01)[0] == [0, 1, 2, 3]
    assert select_distinct(existing, np.empty((0, 3))) == ([], [])


@pytest.mark.skipif(not HAS_TORCH, reason="torch / sentence-transformers not installed here (pip install 'awm-release[embeddings]')")
def test_the_packaged_offline_model_finds_paraphrased_scenarios():
    embedder = LocalEmbedder(default_local_model())
    vectors, usage = asyncio.run(embedder.embed([BOOKSTORE, CLINIC, BOOKSTORE_AGAIN, TRACKER]))
    assert vectors.shape == (4, 384) and usage.calls == 0  # local: no API tokens
    keep, dropped = select_distinct(vectors[:1], vectors[1:], threshold=0.85)
    assert keep == [0, 2]  # the clinic and the tracker
    assert [(d.index, d.of) for d in dropped] == [(1, 0)] and dropped[0].similarity > 0.9
