"""tipsim: an agent-based simulator of human-trafficking networks.

Public API:

* :func:`load_config` — compose the Hydra configuration with ``key=value`` overrides;
* :class:`TraffickingModel` — the Mesa model (one step = one day);
* :func:`simulate` — run one simulation in memory; :func:`write_run` — write its run folder;
* :func:`run_compare` — a Monte Carlo ensemble of scenarios with paired seeds (``tipsim compare``).
"""

from .cli import load_config
from .config import ConfigError, TipsimConfig
from .model import TraffickingModel
from .ensemble import run_compare
from .run import RunResult, simulate, write_run

__all__ = [
    "ConfigError", "RunResult", "TipsimConfig", "TraffickingModel", "load_config", "run_compare", "simulate", "write_run",
]
