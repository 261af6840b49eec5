"""Portable bits: the same random transforms, and so the same runs, with and without AVX-512."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim import portable

SIMULATION_CODE = ["rng.py", "world.py", "model.py", "exits.py", "population.py", "levers.py", "rules", "agents", "interventions"]
"""The modules a simulation runs (analysis and figures work on its outputs)."""

NO_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"
"""numpy's CPU features to switch off so that it runs what an AVX2 machine runs."""

HASH_RUN = (
    "import sys; sys.path.insert(0, 'benchmarks'); from output_hashes import run_hashes; "
    "print(run_hashes('combined', 3, '2021-06-30'))"
)


def test_portable_functions_are_the_c_library_element_by_element():
    x = np.random.default_rng(1).uniform(-30, 30, 10_000)
    u = np.random.default_rng(2).uniform(0, 1, 10_000)
    assert [float(v) for v in portable.exp(x)] == [math.exp(v) for v in x]
    assert [float(v) for v in portable.log(u)] == [math.log(v) for v in u]
    assert [float(v) for v in portable.log1p(-u)] == [math.log1p(-v) for v in u]
    assert [float(v) for v in portable.power(0.5, x)] == [math.pow(0.5, v) for v in x]
    assert portable.log(np.array([0.0]))[0] == -np.inf and np.isnan(portable.log(np.array([-1.0]))[0])
    assert portable.log1p(np.array([-1.0]))[0] == -np.inf and np.isnan(portable.log1p(np.array([-2.0]))[0])


def test_simulation_code_uses_no_cpu_dependent_numpy_transcendentals():
    """numpy's exp/log/log1p/expm1/power (and ``**`` on arrays) dispatch to SIMD code per CPU; the
    simulation uses sim.portable (or math for scalars) instead."""
    root = Path(__file__).resolve().parents[1] / "sim"
    pattern = re.compile(r"\bnp\.(exp|log|log1p|expm1|power|exp2|log2|log10)\(")
    found = []
    for entry in SIMULATION_CODE:
        for path in sorted((root / entry).rglob("*.py")) if (root / entry).is_dir() else [root / entry]:
            for i, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#")[0]
                if pattern.search(code) and "np.log2(hi)" not in code:  # person_key's error message only
                    found.append(f"{path.relative_to(root)}:{i}: {line.strip()}")
    assert not found, "\n".join(found)


@pytest.mark.slow
def test_a_run_gives_the_same_bits_without_avx512():
    """The same short run in a fresh process, once as this CPU runs it and once with numpy's
    AVX-512 code paths switched off (what an AVX2 machine runs): identical tables."""
    repo = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    runs = []
    for extra in ({}, {"NPY_DISABLE_CPU_FEATURES": NO_AVX512}):
        out = subprocess.run([sys.executable, "-c", HASH_RUN], cwd=repo, env={**env, **extra},
                             capture_output=True, text=True, timeout=300, check=True)
        runs.append(out.stdout.strip().splitlines()[-1])
    assert runs[0] == runs[1]
