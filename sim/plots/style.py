"""The one style of every tipsim figure: journal sizes, fonts, palette, saving (docs/figures.md).

* **Sizes.** Figures are made at their printed size: :data:`SINGLE` (one journal column,
  89 mm) or :data:`DOUBLE` (two columns, 183 mm) wide, and saved without cropping, so the
  text is printed at the sizes set here: 7 pt labels, 6 pt ticks and legends (the usual
  5-7 pt minimum of Nature, Cell, Elsevier and PLOS at final size).
* **Palette.** Okabe & Ito's colour-blind-safe palette (:data:`PALETTE`), ordered so that
  neighbours differ in lightness; every series also gets its own line style and marker
  (:func:`series_style`), so figures stay readable in greyscale. Sequential maps use
  ``cividis`` (uniform in lightness, colour-blind safe).
* **No chart junk.** No top/right spines, no grid, no frame around legends, no titles in
  the figures (captions go to ``captions.md``).
* **Reproducible files.** :func:`save` writes PDF, SVG and 300-dpi PNG with fixed metadata
  (no dates, fixed ``Software``/``Producer``) and a fixed SVG hash salt, and the data behind
  the figure as CSV: drawing the same results twice gives byte-identical files. The font
  is DejaVu Sans, which ships with matplotlib, so files do not depend on the fonts of the
  machine; PDF fonts are embedded as TrueType (Type 42), SVG text stays text.

Figures are drawn on :class:`matplotlib.figure.Figure` objects (never ``pyplot``), so
drawing needs no display and leaves no global state behind.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

MM = 1 / 25.4
"""Inches per millimetre."""

SINGLE = 89 * MM
"""Width of a single-column figure (in): 89 mm."""

DOUBLE = 183 * MM
"""Width of a double-column (full-page) figure (in): 183 mm."""

MAX_HEIGHT = 240 * MM
"""Tallest figure (in): a journal page less its caption."""

PALETTE = (
    "#000000",  # black
    "#E69F00",  # orange
    "#0072B2",  # blue
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow (last: low contrast on white)
)
"""Okabe & Ito (2008) colour-blind-safe palette; the reference scenario is always black."""

LINESTYLES = ("-", (0, (4, 1.5)), (0, (1, 1)), (0, (4, 1, 1, 1)), (0, (6, 1, 1, 1, 1, 1)))
"""Solid, dashed, dotted, dash-dot, dash-dot-dot: a second cue besides colour (greyscale)."""

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h")
"""A third cue for point series (cost-effectiveness plane); nine, so that they cycle out of step with the colours."""

INCREASE, DECREASE = "#D55E00", "#0072B2"
"""Colours of increases (vermillion) and decreases (blue) in difference plots."""

SEQUENTIAL = "cividis"
"""Colour map of heatmaps of one-signed quantities: colour-blind safe and monotone in lightness (greyscale-safe)."""

DIVERGING = "RdBu_r"
"""Colour map of signed effects, centred on 0 (white): red more, blue fewer than the reference, as
:data:`INCREASE` and :data:`DECREASE`; red-blue stays distinct for the common colour-vision deficiencies."""

BAND_ALPHA = {90: 0.14, 50: 0.30}
"""Opacity of the 90% and 50% prediction bands of fan charts."""

SOFTWARE = "tipsim"
"""Fixed 'Software' / 'Creator' / 'Producer' metadata of every file."""

RC = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 7,
    "axes.titlesize": 7,
    "axes.titleweight": "normal",
    "axes.labelsize": 7,
    "xtick.labelsize": 6,
    "ytick.labelsize": 6,
    "legend.fontsize": 6,
    "legend.title_fontsize": 6,
    "figure.titlesize": 7,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "axes.axisbelow": True,
    "axes.titlelocation": "left",
    "axes.titlepad": 3,
    "axes.labelpad": 2,
    "lines.linewidth": 1.0,
    "lines.markersize": 3.5,
    "patch.linewidth": 0.5,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.minor.width": 0.4,
    "ytick.minor.width": 0.4,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "xtick.minor.size": 1.5,
    "ytick.minor.size": 1.5,
    "xtick.major.pad": 1.5,
    "ytick.major.pad": 1.5,
    "legend.frameon": False,
    "legend.handlelength": 2.2,
    "legend.borderaxespad": 0.3,
    "legend.labelspacing": 0.3,
    "errorbar.capsize": 0,
    "image.cmap": SEQUENTIAL,
    "figure.dpi": 100,
    "figure.constrained_layout.h_pad": 0.02,
    "figure.constrained_layout.w_pad": 0.02,
    "savefig.dpi": 300,
    "savefig.facecolor": "white",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "svg.hashsalt": SOFTWARE,
    "axes.unicode_minus": True,
    "axes.formatter.use_mathtext": False,
    "date.converter": "concise",
}
"""matplotlib settings of every figure (applied with :func:`context`)."""

FORMATS = ("pdf", "svg", "png")
"""Every figure is saved in these formats (plus its data as CSV)."""

METADATA = {
    "pdf": {"Creator": SOFTWARE, "Producer": SOFTWARE, "CreationDate": None, "ModDate": None},
    "svg": {"Creator": SOFTWARE, "Date": None},
    "png": {"Software": SOFTWARE},
}
"""Fixed file metadata: no dates and no version strings, so files are byte-identical."""


@contextmanager
def context() -> Iterator[None]:
    """Apply :data:`RC` for the duration of a block (restores the caller's settings)."""
    with mpl.rc_context(RC):
        yield


def styled(func):
    """Decorator: run a figure function under :func:`context` (artists take their defaults when created)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with context():
            return func(*args, **kwargs)

    return wrapper


def figure(width: float = SINGLE, height: float | None = None, aspect: float = 0.62) -> Figure:
    """A new figure of the given width (in; :data:`SINGLE` or :data:`DOUBLE`) with constrained layout.

    The height defaults to ``width * aspect`` and is capped at :data:`MAX_HEIGHT`.
    """
    h = width * aspect if height is None else height
    with context():
        return Figure(figsize=(width, min(h, MAX_HEIGHT)), layout="constrained")


def series_style(i: int) -> dict:
    """Colour, line style and marker of the ``i``-th series.

    Series 0 (the reference) alone is black; the others cycle through the seven colours, five
    line styles and nine markers, so the first 36 series differ in (colour, line style) and
    the first 64 in (colour, marker).
    """
    color = PALETTE[0] if i == 0 else PALETTE[1 + (i - 1) % (len(PALETTE) - 1)]
    return {"color": color, "linestyle": LINESTYLES[i % len(LINESTYLES)], "marker": MARKERS[i % len(MARKERS)]}


@dataclass(frozen=True)
class Scale:
    """A display unit: values are divided by ``factor`` and labelled ``prefix + unit``."""

    factor: float
    prefix: str

    def label(self, unit: str) -> str:
        return f"{self.prefix}{unit}"


def scale_for(values, unit: str = "") -> Scale:
    """Thousands or millions when the largest |value| calls for it (money always, counts from 10^5)."""
    arr = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    finite = arr[np.isfinite(arr)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    money = unit.upper().startswith("USD")
    if top >= 1e6 and (money or top >= 1e7):
        return Scale(1e6, "million ")
    if top >= (1e4 if money else 1e5):
        return Scale(1e3, "thousand ")
    return Scale(1.0, "")


def _number(x: float, digits: int = 3) -> str:
    if not math.isfinite(x):
        return ""
    if x == 0:
        return "0"
    if digits <= 3 and (abs(x) >= 1000 or float(x).is_integer()):
        return f"{x:,.0f}".replace("-", "\u2212")
    text = f"{x:,.{digits}g}" if abs(x) < 1000 else f"{x:,.{max(digits - len(str(int(abs(x)))), 0)}f}"
    return text.replace("-", "\u2212")


class NumberFormatter(Formatter):
    """Tick labels with thousands separators and a true minus sign (no offsets, no 1e6 exponents).

    Labels have three significant digits, or as many more as it takes for no two ticks of the
    axis to read the same (e.g. ticks 1,000 / 1,000.5 / 1,001).
    """

    def __call__(self, x, pos=None) -> str:
        return _number(x)

    def format_ticks(self, values) -> list[str]:
        self.set_locs(values)
        return self._labels(list(values))

    @staticmethod
    def _labels(values: list[float]) -> list[str]:
        for digits in range(3, 12):
            labels = [_number(v, digits) for v in values]
            shown = [t for t in labels if t]
            if len(set(shown)) == len(shown):
                return labels
        return labels


def number_axis(axis) -> None:
    """Label the ticks of an axis (``ax.xaxis``, ``ax.yaxis``, a colour bar's) with a :class:`NumberFormatter`."""
    axis.set_major_formatter(NumberFormatter())


@dataclass
class Drawn:
    """A drawn figure with the data behind it and its caption, ready to :meth:`save`."""

    name: str
    """File stem: ``<name>.pdf``, ``.svg``, ``.png`` and ``.csv``."""
    fig: Figure
    data: pd.DataFrame
    """The numbers plotted, written as ``<name>.csv``."""
    caption: str
    """Markdown caption (what is shown, what the bands or intervals are, replicates, seed)."""
    notes: list[str] = field(default_factory=list)
    """Remarks printed by ``tipsim figures`` (e.g. series left out)."""

    def save(self, folder: str | Path) -> list[Path]:
        """Write the figure in every format of :data:`FORMATS` and its data as CSV; return the paths."""
        return save(self.fig, folder, self.name, self.data)


def save(fig: Figure, folder: str | Path, name: str, data: pd.DataFrame | None = None) -> list[Path]:
    """Write ``fig`` as PDF, SVG and 300-dpi PNG (and ``data`` as CSV) into ``folder``; return the paths.

    The figure keeps its size (no tight cropping), so printed text sizes are those of :data:`RC`.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with context():
        for ext in FORMATS:
            path = out / f"{name}.{ext}"
            fig.savefig(path, format=ext, metadata=METADATA[ext], dpi=RC["savefig.dpi"])
            paths.append(path)
    if data is not None:
        path = out / f"{name}.csv"
        path.write_text(data.to_csv(index=False, lineterminator="\n"))
        paths.append(path)
    return paths
