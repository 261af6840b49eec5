"""tipsim: an agent-based simulator of human-trafficking networks.

Public API:

* :func:`load_config` — compose the Hydra configuration with ``key=value`` overrides;
* :class:`TraffickingModel` — the Mesa model (one step = one day);
* :func:`simulate` — run one simulation in memory; :func:`write_run` — write its run folder;
* :func:`run_compare` — a Monte Carlo ensemble of scenarios with paired seeds (``tipsim compare``).

The names are imported on first use (PEP 562), so that ``tipsim <command> --help`` and the
command-line checks start without loading the model (numba, Mesa, pandas).
"""

import os
from importlib import import_module

# numba must not use Intel SVML (CPU-dependent vector maths) for the portable transforms (sim/portable.py)
os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")

_WHERE = {
    "load_config": ".cli", "ConfigError": ".config", "TipsimConfig": ".config", "TraffickingModel": ".model",
    "run_compare": ".ensemble", "RunResult": ".run", "simulate": ".run", "write_run": ".run",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
