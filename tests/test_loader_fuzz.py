"""
Mutations of the shipped workflows either load or are refused with positioned problems.

A bounded run of ``bench/fuzz_loader.py`` (the same mutations) under Hypothesis, and the
inputs in ``tests/loader_cases/`` (crashes and hangs of earlier loaders, and hand-made
hostile files) as regressions. A file whose name holds ``.ok.`` must load.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseflow.definitions.loader import load_bytes
from caseflow.errors import DefinitionError

if TYPE_CHECKING:
    import random
    from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "workflows").glob("*.yaml"))
CASES = sorted((ROOT / "tests" / "loader_cases").glob("*.yaml"))


def _fuzzer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_loader", ROOT / "bench" / "fuzz_loader.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FUZZ = _fuzzer()
CORPUS = [p.read_bytes() for p in SHIPPED]


def outcome(data: bytes) -> str:
    """``loaded``; ``refused`` when every problem has a line and column; else what is wrong."""
    try:
        load_bytes(data, "fuzz.yaml")
    except DefinitionError as exc:
        unpositioned = [str(p) for p in exc.problems if p.line < 1 or p.column < 1]
        return "refused" if exc.problems and not unpositioned else f"unpositioned: {exc}"
    return "loaded"


class TestMutations:
    @settings(
        max_examples=300,
        deadline=2000,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.randoms(use_true_random=False), st.sampled_from(CORPUS))
    def test_mutated_workflows_load_or_are_refused_with_positions(
        self, rng: random.Random, original: bytes
    ):
        """Byte flips, truncations, tags, aliases, nesting, ...: nothing else escapes, fast."""
        data = FUZZ.mutate(rng, original, CORPUS)
        started = time.perf_counter()
        assert outcome(data) in {"loaded", "refused"}
        assert time.perf_counter() - started < 2

    def test_unmutated_workflows_load(self):
        """The corpus itself loads (so mutations start from valid files)."""
        assert ["loaded"] * len(CORPUS) == [outcome(data) for data in CORPUS]


class TestRegressionCases:
    def test_there_are_cases(self):
        """The regression inputs are present (crashes of the old loader and hand-made files)."""
        assert len(CASES) >= 40

    @pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
    def test_case(self, path: Path):
        """Each input loads (``.ok.`` in its name) or is refused with positions, within 2 s."""
        started = time.perf_counter()
        expected = "loaded" if ".ok." in path.name else "refused"
        assert expected == outcome(path.read_bytes())
        assert time.perf_counter() - started < 2
