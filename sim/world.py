"""The world: locations, routes and border closures, loaded from CSV files (Flee-style).

``locations.csv``: ``id, name, country, kind, lat, lon, weight, travellers_per_day`` where
``kind`` is one of :data:`KINDS`; ``weight`` is an origin's share of contacts or a
destination's share of the compounds opening in its country; ``travellers_per_day`` are the
legitimate international departures at a hub (exposed to false-positive screening stops).

``routes.csv``: ``from, to, mode, days_mean, days_spread, cost_usd, checkpoint`` — a directed
leg; travel time is log-normal with the given mean and spread (days); ``checkpoint`` is one
of :data:`CHECKPOINTS`: ``exit_immigration`` (the departure country checks on leaving the
``from`` node), ``entry_immigration`` (the arrival country checks at the ``to`` node) or
``border`` (both).

``closures.csv``: ``start, end, country, travel_factor`` — dated border closures (Covid):
routes through a closed country carry only ``travel_factor`` of their normal traffic.

Everything is validated at load time; each problem is one :class:`WorldError` naming the
file, the line and the field. Every origin must reach a destination.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from . import portable
from .config import ConfigError, WorldConfig

KINDS = ("origin", "hub", "transit", "border", "destination")
MODES = ("air", "land", "sea")
CHECKPOINTS = ("none", "exit_immigration", "entry_immigration", "border")
PACKAGE_WORLD_DIR = Path(__file__).parent / "data" / "world"
MAX_ORIGINS = 240  # person-key origin slots 240-255 are reserved (recruiters, compounds)
# Upper bounds of the world's numbers: generous, but they keep every count and utility finite.
MAX_WEIGHT = 1e9
"""Largest origin weight (weights are relative; they are normalised to shares)."""
MAX_TRAVELLERS_PER_DAY = 1e6
"""Most legitimate travellers per day through a hub (Jakarta's airport handles about 200,000 passengers a day)."""
MAX_LEG_DAYS = 365.0
"""Longest mean (and spread) of one leg's travel time, in days."""
MAX_LEG_COST_USD = 1e6
"""Highest cost of one leg, in USD."""

_LOCATION_COLUMNS = ("id", "name", "country", "kind", "lat", "lon", "weight", "travellers_per_day")
_ROUTE_COLUMNS = ("from", "to", "mode", "days_mean", "days_spread", "cost_usd", "checkpoint")
_CLOSURE_COLUMNS = ("start", "end", "country", "travel_factor")
_COUNTRY_COLUMNS = ("country", "name")


class WorldError(ConfigError):
    """A world file is malformed; the message names the file, line and field."""


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise WorldError(f"{path}: file not found")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise WorldError(f"{path}: empty file; expected a header line with {', '.join(columns)}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise WorldError(f"{path}: malformed CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise WorldError(f"{path}: line 1: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}")
    df.index = df.index + 2  # physical line numbers (line 1 is the header)
    return df[~(df == "").all(axis=1)]  # blank lines are skipped but keep the numbering


def _numbers(df: pd.DataFrame, path: Path, column: str, *, minimum: float | None = 0.0, maximum: float | None = None) -> np.ndarray:
    """Parse a numeric column; name the first bad cell (line numbers count the header as 1)."""
    values = pd.to_numeric(df[column].str.strip(), errors="coerce").to_numpy(dtype=float)
    for i, v in enumerate(values):
        line = df.index[i]
        raw = df[column].iloc[i]
        if not np.isfinite(v):
            what = "missing" if raw.strip() == "" else f"not a number ({raw!r})"
            raise WorldError(f"{path}: line {line}, field '{column}': {what}")
        if minimum is not None and v < minimum:
            raise WorldError(f"{path}: line {line}, field '{column}' = {raw}: must be >= {minimum:g}")
        if maximum is not None and v > maximum:
            raise WorldError(f"{path}: line {line}, field '{column}' = {raw}: must be <= {maximum:g}")
    return values


def _choice(df: pd.DataFrame, path: Path, column: str, allowed) -> np.ndarray:
    values = df[column].str.strip().to_numpy()
    for i, v in enumerate(values):
        if v not in allowed:
            raise WorldError(
                f"{path}: line {df.index[i]}, field '{column}' = {v!r}: unknown; allowed: {', '.join(allowed)}"
            )
    return values


def _dates(df: pd.DataFrame, path: Path, column: str) -> list[dt.date]:
    out = []
    for i, v in enumerate(df[column].str.strip()):
        try:
            out.append(dt.date.fromisoformat(v))
        except ValueError:
            raise WorldError(f"{path}: line {df.index[i]}, field '{column}' = {v!r}: not a date (YYYY-MM-DD)") from None
    return out


@dataclass
class PathTable:
    """Every itinerary from each origin to each destination, as padded arrays.

    Paths are sorted by origin-destination pair ``od = origin_slot * n_destinations +
    destination_slot``; ``od_start[od]:od_start[od+1]`` are that pair's paths.
    """

    od: np.ndarray  # (P,) int
    edges: np.ndarray  # (P, max_legs) int, -1 padded
    n_legs: np.ndarray  # (P,) int
    cost_usd: np.ndarray  # (P,)
    days: np.ndarray  # (P,) sum of mean leg times
    countries: np.ndarray  # (P, n_countries) bool: countries traversed
    od_start: np.ndarray  # (n_od + 1,)
    n_routes: int  # routes in the world (columns of leg_incidence)

    def __post_init__(self):
        from scipy import sparse

        legs = self.edges >= 0
        self.leg_incidence = sparse.csr_matrix(
            (np.ones(int(legs.sum())), (np.nonzero(legs)[0], self.edges[legs])), shape=(len(self.od), self.n_routes)
        )  # itineraries x routes: 1 where the itinerary uses the route
        sizes = np.diff(self.od_start)
        self.block_start = self.od_start[:-1][sizes > 0]  # first path of each connected pair
        self.block_size = sizes[sizes > 0]
        self.block_of_path = np.repeat(np.arange(len(self.block_start)), self.block_size)


class World:
    """Locations, routes, closures and the derived itinerary table (read-only after load)."""

    def __init__(self, cfg: WorldConfig):
        base = Path(cfg.data_dir) if cfg.data_dir else PACKAGE_WORLD_DIR
        self.name = cfg.name
        self.max_legs = cfg.max_legs
        self.files = {k: (base / getattr(cfg, k)) for k in ("locations", "routes", "closures")}
        self._load_locations(self.files["locations"])
        self._load_routes(self.files["routes"])
        self._load_closures(self.files["closures"])
        self._load_country_names(base / cfg.countries)
        self._build_paths()

    # -- loading ----------------------------------------------------------------------------

    def _load_locations(self, path: Path) -> None:
        df = _read(path, _LOCATION_COLUMNS)
        if df.empty:
            raise WorldError(f"{path}: no locations")
        ids = df["id"].str.strip()
        for i, v in enumerate(ids):
            if not v:
                raise WorldError(f"{path}: line {df.index[i]}, field 'id': missing")
        dup = ids[ids.duplicated()]
        if len(dup):
            raise WorldError(f"{path}: line {dup.index[0]}, field 'id' = {dup.iloc[0]!r}: duplicate id")
        for i, v in enumerate(df["country"].str.strip()):
            if not v:
                raise WorldError(f"{path}: line {df.index[i]}, field 'country': missing")
        self.ids = ids.tolist()
        self.index = {v: i for i, v in enumerate(self.ids)}
        self.names = df["name"].str.strip().tolist()
        self.kind = _choice(df, path, "kind", KINDS)
        self.country = df["country"].str.strip().to_numpy()
        self.lat = _numbers(df, path, "lat", minimum=-90, maximum=90)
        self.lon = _numbers(df, path, "lon", minimum=-180, maximum=180)
        self.weight = _numbers(df, path, "weight", maximum=MAX_WEIGHT)
        self.travellers_per_day = _numbers(df, path, "travellers_per_day", maximum=MAX_TRAVELLERS_PER_DAY)
        self.origins = np.flatnonzero(self.kind == "origin")
        self.destinations = np.flatnonzero(self.kind == "destination")
        self.hubs = np.flatnonzero(self.kind == "hub")
        if not len(self.origins):
            raise WorldError(f"{path}: no location of kind 'origin'")
        if len(self.origins) > MAX_ORIGINS:
            raise WorldError(f"{path}: {len(self.origins)} origins; at most {MAX_ORIGINS} (person keys hold the origin in 8 bits)")
        if not len(self.destinations):
            raise WorldError(f"{path}: no location of kind 'destination'")
        w = self.weight[self.origins]
        if w.sum() <= 0:
            raise WorldError(f"{path}: field 'weight': origin weights sum to zero")
        self.origin_weight = w / w.sum()
        self.countries = sorted(set(self.country))
        self.country_index = {c: i for i, c in enumerate(self.countries)}
        self.location_country = np.array([self.country_index[c] for c in self.country])
        # destination countries: every country with a destination location, in the order of the
        # locations file (their slot keys per-country pools, levers and random draws)
        self.destination_countries = tuple(dict.fromkeys(self.country[d] for d in self.destinations))
        self.dest_country = np.array([self.destination_countries.index(self.country[d]) for d in self.destinations])
        slot = {c: i for i, c in enumerate(self.destination_countries)}
        self.location_dest_country = np.array([slot.get(c, -1) for c in self.country])
        """Per location, the destination-country slot of its country (-1 outside the destination countries)."""

    def _load_routes(self, path: Path) -> None:
        df = _read(path, _ROUTE_COLUMNS)
        src, dst = [], []
        for col, out in (("from", src), ("to", dst)):
            for i, v in enumerate(df[col].str.strip()):
                if v not in self.index:
                    raise WorldError(f"{path}: line {df.index[i]}, field '{col}' = {v!r}: unknown location id")
                out.append(self.index[v])
        self.route_from = np.array(src, dtype=np.int64)
        self.route_to = np.array(dst, dtype=np.int64)
        pairs = pd.Series(list(zip(src, dst)))
        dup = np.flatnonzero(pairs.duplicated().to_numpy())
        if len(dup):
            i = dup[0]
            raise WorldError(f"{path}: line {df.index[i]}: duplicate route {df['from'].iloc[i]} -> {df['to'].iloc[i]}")
        for i in range(len(df)):
            if src[i] == dst[i]:
                raise WorldError(f"{path}: line {df.index[i]}, field 'to': a route cannot start and end at the same location")
        self.route_mode = _choice(df, path, "mode", MODES)
        self.route_days_mean = _numbers(df, path, "days_mean", maximum=MAX_LEG_DAYS)
        self.route_days_spread = _numbers(df, path, "days_spread", maximum=MAX_LEG_DAYS)
        self.route_cost = _numbers(df, path, "cost_usd", maximum=MAX_LEG_COST_USD)
        self.route_checkpoint = _choice(df, path, "checkpoint", CHECKPOINTS)
        cp = self.route_checkpoint
        self.route_exit_check = np.isin(cp, ("exit_immigration", "border"))
        self.route_entry_check = np.isin(cp, ("entry_immigration", "border"))
        # log-normal sigma from mean and spread (sd) of each leg's duration
        mean = np.maximum(self.route_days_mean, 1e-6)
        self.route_log_sd = np.sqrt(portable.log1p((self.route_days_spread / mean) ** 2))

    def _load_closures(self, path: Path) -> None:
        df = _read(path, _CLOSURE_COLUMNS)
        self.closure_start = _dates(df, path, "start")
        self.closure_end = _dates(df, path, "end")
        for i, (a, b) in enumerate(zip(self.closure_start, self.closure_end)):
            if b < a:
                raise WorldError(f"{path}: line {df.index[i]}, field 'end' = {b}: before start {a}")
        self.closure_country = _choice(df, path, "country", self.countries)
        self.closure_factor = _numbers(df, path, "travel_factor", minimum=0, maximum=1)

    def _load_country_names(self, path: Path) -> None:
        """Country names and map-label positions from ``countries.csv`` (``country, name``, optional
        ``label_lon, label_lat``); where it is absent or silent, codes stand for names and maps put a
        country's name above its locations."""
        self.country_names = {c: c for c in self.countries}
        self.country_label_at: dict[str, tuple[float, float]] = {}
        if not path.is_file():
            return
        df = _read(path, _COUNTRY_COLUMNS)
        for i, (code, name) in enumerate(zip(df["country"].str.strip(), df["name"].str.strip())):
            if not code or not name:
                raise WorldError(f"{path}: line {df.index[i]}, field '{'country' if not code else 'name'}': missing")
            if code in self.country_names:
                self.country_names[code] = name
        if {"label_lon", "label_lat"} <= set(df.columns):
            lon = _numbers(df, path, "label_lon", minimum=-180, maximum=180)
            lat = _numbers(df, path, "label_lat", minimum=-90, maximum=90)
            self.country_label_at = dict(zip(df["country"].str.strip(), zip(lon.tolist(), lat.tolist())))

    def country_name(self, code: str) -> str:
        """The name of country ``code`` (the code itself if the world does not name it)."""
        return self.country_names.get(code, code)

    # -- derived ----------------------------------------------------------------------------

    def _build_paths(self) -> None:
        graph = nx.DiGraph()
        graph.add_nodes_from(range(len(self.ids)))
        edge_of = {}
        for e, (a, b) in enumerate(zip(self.route_from, self.route_to)):
            graph.add_edge(int(a), int(b))
            edge_of[(int(a), int(b))] = e
        passable = {i for i, k in enumerate(self.kind) if k in ("hub", "transit", "border")}
        destinations = {int(d) for d in self.destinations}
        dest_slot = {d: slot for slot, d in enumerate(self.destinations.tolist())}
        n_dest = len(self.destinations)
        rows = []
        for o_slot, o in enumerate(self.origins):
            reached = False
            # itineraries pass only through hubs, transit points and borders (not other origins or destinations)
            sub = graph.subgraph(passable | {int(o)} | destinations)
            for nodes in nx.all_simple_paths(sub, int(o), destinations, cutoff=self.max_legs):
                if any(n in destinations for n in nodes[1:-1]):
                    continue
                edges = [edge_of[(nodes[i], nodes[i + 1])] for i in range(len(nodes) - 1)]
                rows.append((o_slot * n_dest + dest_slot[nodes[-1]], edges))
                reached = True
            if not reached:
                raise WorldError(
                    f"{self.files['routes']}: origin {self.ids[o]!r} has no path of at most "
                    f"{self.max_legs} legs to any destination ({', '.join(self.ids[d] for d in self.destinations)})"
                )
        rows.sort(key=lambda r: (r[0], len(r[1]), r[1]))
        n = len(rows)
        edges = np.full((n, self.max_legs), -1, dtype=np.int64)
        od = np.empty(n, dtype=np.int64)
        for p, (k, es) in enumerate(rows):
            od[p] = k
            edges[p, : len(es)] = es
        n_legs = (edges >= 0).sum(axis=1)
        valid = edges >= 0
        safe = np.where(valid, edges, 0)
        cost = np.where(valid, self.route_cost[safe], 0).sum(axis=1)
        days = np.where(valid, self.route_days_mean[safe], 0).sum(axis=1)
        countries = np.zeros((n, len(self.countries)), dtype=bool)
        to_country = self.location_country[self.route_to[safe]]
        for leg in range(self.max_legs):
            countries[np.arange(n)[valid[:, leg]], to_country[valid[:, leg], leg]] = True
        n_od = len(self.origins) * n_dest
        od_start = np.searchsorted(od, np.arange(n_od + 1))
        self.paths = PathTable(od, edges, n_legs, cost, days, countries, od_start, len(self.route_from))
        # which destinations each origin can reach at all
        self.od_reachable = np.diff(od_start) > 0

    def travel_factors(self, start: dt.date, n_days: int) -> np.ndarray:
        """Per day and country, the share of normal traffic that can pass (product of closures)."""
        out = np.ones((n_days, len(self.countries)))
        for a, b, c, f in zip(self.closure_start, self.closure_end, self.closure_country, self.closure_factor):
            lo = max((a - start).days, 0)
            hi = min((b - start).days + 1, n_days)
            if hi > lo:
                out[lo:hi, self.country_index[c]] *= f
        return out

    def location_slot(self, location_id: str, field: str, kinds: tuple[str, ...] | None = None) -> int:
        """Index of a location id, or a ConfigError naming ``field`` and the allowed ids."""
        allowed = [i for i, k in zip(self.ids, self.kind) if kinds is None or k in kinds]
        if location_id not in allowed:
            raise ConfigError(f"{field} = {location_id!r}: unknown location; allowed: {', '.join(allowed)}")
        return self.index[location_id]
