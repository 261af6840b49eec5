"""Transcendental functions whose results do not depend on the CPU's vector extensions.

numpy computes ``exp``, ``log``, ``log1p`` and ``power`` of float64 arrays with SIMD code chosen
at run time (AVX-512 where the CPU has it); those results differ from the scalar C library in
the last bit for a few per cent of values, which changes whole runs between an AVX2 and an
AVX-512 machine and would break common-random-number pairing on a cluster of mixed nodes
(docs/ODD.md, section 4.9). Every transform from uniforms to other distributions, and every hazard turned
into a probability, goes through these instead: numpy ufuncs compiled by numba that call the C
library's scalar function for each element, whatever the CPU offers.

Assumptions: numba does not use Intel SVML (it needs the optional ``icc_rt`` package; it is
switched off here with ``NUMBA_DISABLE_INTEL_SVML`` before numba is imported), and the C library
(glibc on Linux) is the same on every node of a cluster. glibc picks an FMA variant of some
functions on CPUs with FMA (every x86-64 CPU since 2013); a cluster mixing pre-2013 CPUs with
newer ones could still differ. The test ``tests/test_portable.py`` runs a simulation with
numpy's AVX-512 paths switched off (``NPY_DISABLE_CPU_FEATURES``) and compares its hashes.
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")

import numba  # noqa: E402


def _ufunc(signature: str, kernel) -> "numba.np.ufunc.dufunc.DUFunc":
    return numba.vectorize([signature], cache=True)(kernel).ufunc


def _exp(x):
    return math.exp(x)


def _log(x):
    return math.log(x) if x > 0.0 else (-math.inf if x == 0.0 else math.nan)


def _log1p(x):
    return math.log1p(x) if x > -1.0 else (-math.inf if x == -1.0 else math.nan)


def _power(x, y):
    return math.pow(x, y)


exp = _ufunc("float64(float64)", _exp)
"""e^x, element by element (the C library's ``exp``)."""
log = _ufunc("float64(float64)", _log)
"""Natural log (-inf at 0, nan below), element by element (the C library's ``log``)."""
log1p = _ufunc("float64(float64)", _log1p)
"""log(1 + x) (-inf at -1, nan below), element by element (the C library's ``log1p``)."""
power = _ufunc("float64(float64, float64)", _power)
"""x^y, element by element (the C library's ``pow``)."""
