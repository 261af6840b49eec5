"""Seeded, named random streams with counter-based draws for common random numbers (CRN).

One :class:`numpy.random.SeedSequence` per (seed, replicate) is the root of a run. Every
stochastic decision has its own *stream*, named by a string; the stream's 64-bit key is
derived from the root SeedSequence and a stable hash of the name, so adding a stream never
shifts another one.

Draws are *counter-based*: a uniform is a strong hash of (stream key, entity key, occasion),
computed in ``uint64`` arithmetic by a compiled numpy ufunc (numba; the SplitMix64 generator of Steele et al. 2014,
indexed by the occasion, in the spirit of Random123/Philox, Salmon et al. SC'11). So

* the cost follows the entities actually queried (no vector over every person ever created);
* the same person on the same occasion gets the same number in every scenario, which makes
  paired scenario comparisons exact where nothing differs (docs/ODD.md, section 4.9).

Entity keys encode what created the entity (see :func:`person_key`), never creation order.
"""

from __future__ import annotations

import hashlib

import numba
import numpy as np
from scipy import special

from . import portable
from .config import ConfigError
from .draws import MAX_COLUMNS, Draw, Layout

_PAIR = np.arange(2)
_COLUMNS = Layout((("occasion", None), ("column", MAX_COLUMNS)))
"""Occasions of the columns of a multi-column uniform draw."""
_PAIRS = Layout((("occasion", None), ("part", 2)))
"""Occasions of the two uniforms behind one log-normal duration (the normal, the rounding)."""


MAX_POISSON_MEAN = float(2**33)
"""Largest mean of one Poisson count (about 8.6e9 events on one occasion): far above any
in-bound parameter set, and below the means (about 2.5e10) at which scipy's ``pdtrik``
returns NaN, which would be cast to a garbage integer."""


class CountOverflowError(ConfigError):
    """A count drawn in the engine would exceed what the integer columns hold; the message names the draw."""


def _stream_name(draw: str | Draw) -> str:
    return draw.stream if isinstance(draw, Draw) else draw

# Person keys: (origin day + 1) << 40 | origin << 32 | k. Day 0 is reserved for the people
# present on the start date; k counts contacts made that day in that origin (or, for the
# initial population, people in that destination country).
_DAY_SHIFT = np.uint64(40)
_ORIGIN_SHIFT = np.uint64(32)


@numba.njit(cache=True, inline="always")
def _splitmix(entity, key, occasion):
    """SplitMix64 output number ``occasion`` of the sequence started by (stream ``key``, ``entity``).

    ``z = (entity ^ key) * K + (occasion + 1) * golden``, then the SplitMix64 finaliser
    (Steele et al. 2014). uint64 arithmetic wraps, as intended; K is odd (an LCG multiplier of
    L'Ecuyer), so the start point is a bijection of the entity for each stream.
    """
    z = (entity ^ key) * np.uint64(0xD1342543DE82EF95) + (occasion + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _compiled_ufunc(signature: str, scalar_kernel) -> np.ufunc:
    """``scalar_kernel`` compiled by numba into a plain numpy ufunc (broadcasting, one pass, no
    temporaries; called without numba's Python-level dispatcher)."""
    return numba.vectorize([signature], cache=True)(scalar_kernel).ufunc


def _bits_kernel(entity, key, occasion):
    return _splitmix(entity, key, occasion)


def _unit_kernel(entity, key, occasion):
    # the top 53 bits times 2^-53: exact, in [0, 1)
    return np.float64(_splitmix(entity, key, occasion) >> np.uint64(11)) * 2.0**-53


_bits = _compiled_ufunc("uint64(uint64, uint64, uint64)", _bits_kernel)
_unit = _compiled_ufunc("float64(uint64, uint64, uint64)", _unit_kernel)


def _clip_unit(u: np.ndarray) -> np.ndarray:
    """``u`` clipped to [1e-12, 1 - 1e-12] (so that inverse CDFs stay finite)."""
    return np.minimum(np.maximum(u, 1e-12), 1 - 1e-12)


def stable_hash(name: str) -> int:
    """A 32-bit hash of a stream name that is the same on every machine and Python version."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "little")


def person_key(day: np.ndarray | int, origin: np.ndarray | int, k: np.ndarray | int) -> np.ndarray:
    """The CRN key of the ``k``-th person created on ``day`` (0-based run day) in ``origin``.

    ``day = -1`` marks people present at the start date (their ``origin`` slot then holds
    the destination country index).
    """
    day = np.asarray(day, dtype=np.int64) + 1
    origin = np.asarray(origin, dtype=np.int64)
    k = np.asarray(k, dtype=np.int64)
    for name, value, hi in (("day", day, 2**24), ("origin", origin, 2**8), ("k", k, 2**32)):
        if value.size and (value.min() < 0 or value.max() >= hi):
            raise ValueError(f"person_key: {name} outside its {int(np.log2(hi))}-bit field")
    return (
        (day.astype(np.uint64) << _DAY_SHIFT)
        | (origin.astype(np.uint64) << _ORIGIN_SHIFT)
        | k.astype(np.uint64)
    )


class Streams:
    """All random numbers of one run, derived from ``SeedSequence(seed, spawn_key=(replicate,))``.

    Args:
        seed: the experiment seed.
        replicate: the replicate index; replicate r of every scenario uses the same streams.
    """

    def __init__(self, seed: int, replicate: int = 0):
        self.seed = int(seed)
        self.replicate = int(replicate)
        self.root = np.random.SeedSequence(self.seed, spawn_key=(self.replicate,))
        self._keys: dict[str, np.uint64] = {}

    def _sequence(self, name: str) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(*self.root.spawn_key, stable_hash(name)))

    def key(self, name: str | Draw) -> np.uint64:
        """The 64-bit key of stream ``name`` (a declared :class:`~sim.draws.Draw` or its name; cached per instance)."""
        name = _stream_name(name)
        key = self._keys.get(name)
        if key is None:
            key = self._keys[name] = np.uint64(self._sequence(name).generate_state(1, dtype=np.uint64)[0])
        return key

    def generator(self, name: str | Draw) -> np.random.Generator:
        """A classic sequential generator for stream ``name`` (for set-up draws of fixed size)."""
        return np.random.Generator(np.random.PCG64(self._sequence(_stream_name(name))))

    # -- counter-based draws -------------------------------------------------------------

    def bits(self, name: str | Draw, entity, occasion=0) -> np.ndarray:
        """64 random bits per (entity, occasion) pair of stream ``name`` (broadcast arrays).

        ``mix((entity ^ stream_key) * K + (occasion + 1) * golden)``: along occasions this is
        exactly SplitMix64's output sequence (state advanced by the golden gamma, finalised by
        the mix), started at a point that is a bijection of (stream, entity) - so draws of one
        entity on successive occasions are a SplitMix64 stream, and entities' streams start at
        unrelated points.
        """
        return _bits(*self._arguments(name, entity, occasion))

    def uniform(self, name: str | Draw, entity, occasion=0) -> np.ndarray:
        """Uniforms in [0, 1), one per (entity, occasion) pair: the top 53 of the :meth:`bits`, times 2^-53."""
        return _unit(*self._arguments(name, entity, occasion))

    def _arguments(self, name: str | Draw, entity, occasion) -> tuple[np.ndarray, np.uint64, np.ndarray]:
        """(entity, stream key, occasion) as uint64 arrays for the compiled hash."""
        key = self._keys.get(name.stream if isinstance(name, Draw) else name)
        if key is None:
            key = self.key(name)
        entity = np.array(entity, dtype=np.uint64, ndmin=1, copy=None)
        occasion = np.array(occasion, dtype=np.uint64, ndmin=1, copy=None)
        return entity, key, occasion

    def uniforms(self, draw: Draw, entity, occasion) -> np.ndarray:
        """``draw.columns`` independent uniforms per entity (shape ``(n, columns)``) in one pass:
        column j is occasion ``16 * occasion + j`` of the draw's stream."""
        occasion = np.asarray(occasion, dtype=np.int64)
        return self.uniform(draw, np.asarray(entity)[:, None], _COLUMNS.occasion(occasion=occasion[..., None], column=np.arange(draw.columns)))

    def exponential(self, name: str | Draw, entity, occasion=0) -> np.ndarray:
        """Exp(1) variates (thresholds of cumulative hazard)."""
        return -portable.log1p(-self.uniform(name, entity, occasion))

    def normal(self, name: str | Draw, entity, occasion=0) -> np.ndarray:
        """Standard normal variates by inversion (monotone in the uniform)."""
        return special.ndtri(_clip_unit(self.uniform(name, entity, occasion)))

    def poisson(self, name: str | Draw, mean, entity, occasion=0) -> np.ndarray:
        """Poisson counts by inversion of the CDF: monotone in ``mean`` for a fixed uniform.

        Paired across scenarios: a lower mean never gives a higher count for the same draw.
        Raises :class:`CountOverflowError` for a mean above :data:`MAX_POISSON_MEAN` (or NaN)
        instead of casting an infinite count to a garbage integer.
        """
        u = self.uniform(name, entity, occasion)
        mean = np.asarray(mean, dtype=np.float64)
        top = mean.max() if mean.size else 0.0
        if not top <= MAX_POISSON_MEAN:  # also catches NaN
            raise CountOverflowError(
                f"random draw {_stream_name(name)!r}: Poisson mean {top:g} exceeds the safe maximum 2^33 "
                f"({MAX_POISSON_MEAN:.3g}); a parameter or world number driving it is beyond any physical value"
            )
        if mean.shape != u.shape:
            mean, u = np.broadcast_arrays(mean, u) if mean.ndim else (np.full(u.shape, mean), u)
        out = np.zeros(mean.shape, dtype=np.int64)
        pos = mean > 0
        if pos.any():
            out[pos] = np.maximum(np.ceil(special.pdtrik(u[pos], mean[pos])), 0)
        return out

    def lognormal_days(self, name: str | Draw, mean_days, log_sd, entity, occasion=0) -> np.ndarray:
        """Whole-day durations from a log-normal with the given mean (days) and log-sd.

        Rounded stochastically (``floor(x + u)``, u from a second stream), which keeps the mean
        exactly even for sub-day legs, and stays monotone in the mean for a fixed draw.
        """
        mean_days = np.asarray(mean_days, dtype=np.float64)
        mu = portable.log(np.maximum(mean_days, 1e-9)) - 0.5 * log_sd**2
        # two uniforms per draw in one pass: [..., 0] for the normal, [..., 1] for the rounding
        entity, occasion = np.array(entity, ndmin=1, copy=None), np.array(occasion, dtype=np.int64, ndmin=1, copy=None)
        u = self.uniform(name, entity[..., None], _PAIRS.occasion(occasion=occasion[..., None], part=_PAIR))
        x = portable.exp(mu + log_sd * special.ndtri(_clip_unit(u[..., 0])))
        return np.floor(x + u[..., 1]).astype(np.int64)


def weighted_choice(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF choice: for each uniform ``u``, the index i with ``cum[i-1] <= u x total < cum[i]``.

    ``weights`` are non-negative, either one vector for every draw or one row per draw (2-D,
    rows aligned with ``u``); the index never exceeds the last one (u < 1). Monotone in ``u``,
    so a scenario that shifts weights moves the same person's choice smoothly (CRN). The one
    implementation of weighted choice in the model; choices with structure of their own (the
    route logit per origin-destination pair, a buyer other than the seller, links drawn without
    replacement) are documented where they are made.
    """
    u = np.asarray(u, dtype=np.float64)
    if weights.ndim == 1:
        cum = np.cumsum(weights)
        return np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), len(cum) - 1)
    cum = np.cumsum(weights, axis=1)
    return np.minimum((cum <= (u * cum[:, -1])[:, None]).sum(axis=1), weights.shape[1] - 1)
