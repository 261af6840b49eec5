"""World loading: validation of the CSV files, and invariants of the derived tables.

Broken worlds are small hand-written CSV files in ``tmp_path`` (a valid miniature world with
one change each), so the line of every error is known exactly. Line numbers count the header
as line 1. The real world (``sim/data/world``) is checked for reachability, path-table
invariants and the travel factors of its dated closures.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import deque
from pathlib import Path

import numpy as np
import pytest

from sim.config import ConfigError, WorldConfig
from sim.world import CHECKPOINTS, KINDS, MODES, PACKAGE_WORLD_DIR, World, WorldError

# --------------------------------------------------------------------------------------------
# A miniature valid world
# --------------------------------------------------------------------------------------------

LOCATIONS = [
    "id,name,country,kind,lat,lon,weight,travellers_per_day",
    "o1,Origin one,ID,origin,-6.2,106.8,0.6,0",  # line 2
    "o2,Origin two,ID,origin,3.6,98.7,0.4,0",  # line 3
    "h1,Hub,ID,hub,-6.1,106.7,0,1000",  # line 4
    "t1,Transit,MY,transit,2.7,101.7,0,0",  # line 5
    "b1,Border,KH,border,13.7,102.6,0,0",  # line 6
    "d1,Compounds KH,KH,destination,10.6,103.5,1,0",  # line 7
    "d2,Compounds MM,MM,destination,16.8,98.5,1,0",  # line 8
]
ROUTES = [
    "from,to,mode,days_mean,days_spread,cost_usd,checkpoint",
    "o1,h1,land,0.5,0.2,10,none",  # line 2
    "o2,h1,air,1,0.5,80,none",  # line 3
    "h1,t1,air,0.5,0.2,80,exit_immigration",  # line 4
    "t1,b1,land,1,0.5,20,border",  # line 5
    "b1,d1,land,0.2,0.1,5,none",  # line 6
    "t1,d2,land,2,1,50,border",  # line 7
    "t1,d1,air,0.5,0.2,90,entry_immigration",  # line 8
]
CLOSURES = [
    "start,end,country,travel_factor",
    "2020-03-30,2021-11-14,KH,0.1",  # line 2
    "2020-03-18,2022-03-31,MY,0.2",  # line 3
    "2021-01-01,2021-06-30,KH,0.5",  # line 4 (overlaps line 2)
]
FILES = {"locations": LOCATIONS, "routes": ROUTES, "closures": CLOSURES}


def write_world(directory: Path, **changes) -> Path:
    """Write the miniature world to ``directory``; ``changes`` maps a file to its new lines."""
    for name, lines in FILES.items():
        (directory / f"{name}.csv").write_text("\n".join(changes.get(name, lines)) + "\n")
    return directory


def replaced(lines: list[str], line_no: int, new: str | None) -> list[str]:
    """``lines`` with file line ``line_no`` (1 = header) replaced by ``new`` (None: deleted)."""
    out = list(lines)
    if new is None:
        del out[line_no - 1]
    else:
        out[line_no - 1] = new
    return out


def load(directory: Path, **cfg) -> World:
    return World(WorldConfig(data_dir=str(directory), **cfg))


def world_error(tmp_path: Path, **changes) -> str:
    write_world(tmp_path, **changes)
    with pytest.raises(WorldError) as info:
        load(tmp_path)
    assert isinstance(info.value, ConfigError)  # the CLI reports it like any config error
    return str(info.value)


def assert_names(msg: str, tmp_path: Path, file: str, line: int | None, field: str | None) -> None:
    assert msg.startswith(f"{tmp_path / file}:"), msg
    if line is not None:
        assert re.search(rf"\bline {line}\b", msg), msg
    if field is not None:
        assert f"field '{field}'" in msg, msg


# --------------------------------------------------------------------------------------------
# The miniature world loads and its tables are what the files say
# --------------------------------------------------------------------------------------------


def test_miniature_world_loads(tmp_path):
    w = load(write_world(tmp_path))
    assert w.ids == ["o1", "o2", "h1", "t1", "b1", "d1", "d2"]
    assert [w.ids[i] for i in w.origins] == ["o1", "o2"]
    assert [w.ids[i] for i in w.destinations] == ["d1", "d2"]
    np.testing.assert_allclose(w.origin_weight, [0.6, 0.4])
    assert w.destination_countries == ("KH", "MM")  # the countries of the destinations, in file order
    assert list(w.dest_country) == [0, 1]
    # checkpoints: exit on h1->t1, both on border legs, entry on t1->d1
    assert list(w.route_exit_check) == [False, False, True, True, False, True, False]
    assert list(w.route_entry_check) == [False, False, False, True, False, True, True]
    # itineraries: o->d1 via b1 (4 legs) and direct from t1 (3 legs); o->d2 (3 legs)
    paths = {}
    for p in range(len(w.paths.od)):
        o_slot, d_slot = divmod(int(w.paths.od[p]), len(w.destinations))
        legs = w.paths.edges[p, : w.paths.n_legs[p]]
        nodes = [w.ids[w.route_from[legs[0]]]] + [w.ids[w.route_to[e]] for e in legs]
        paths.setdefault((w.ids[w.origins[o_slot]], w.ids[w.destinations[d_slot]]), []).append("-".join(nodes))
    assert paths == {
        ("o1", "d1"): ["o1-h1-t1-d1", "o1-h1-t1-b1-d1"],
        ("o1", "d2"): ["o1-h1-t1-d2"],
        ("o2", "d1"): ["o2-h1-t1-d1", "o2-h1-t1-b1-d1"],
        ("o2", "d2"): ["o2-h1-t1-d2"],
    }
    i = paths[("o1", "d1")].index("o1-h1-t1-b1-d1")
    p = int(w.paths.od_start[0]) + i
    assert w.paths.cost_usd[p] == 10 + 80 + 20 + 5
    assert w.paths.days[p] == pytest.approx(0.5 + 0.5 + 1 + 0.2)


def test_miniature_overlapping_closures_multiply(tmp_path):
    w = load(write_world(tmp_path))
    start = dt.date(2020, 1, 1)
    f = w.travel_factors(start, 1000)
    kh, my, id_ = (w.country_index[c] for c in ("KH", "MY", "ID"))

    def day(y, m, d):
        return (dt.date(y, m, d) - start).days

    assert f[day(2020, 3, 29), kh] == 1.0 and f[day(2020, 3, 30), kh] == pytest.approx(0.1)
    assert f[day(2020, 12, 31), kh] == pytest.approx(0.1)
    assert f[day(2021, 1, 1), kh] == pytest.approx(0.05) and f[day(2021, 6, 30), kh] == pytest.approx(0.05)
    assert f[day(2021, 7, 1), kh] == pytest.approx(0.1) and f[day(2021, 11, 14), kh] == pytest.approx(0.1)
    assert f[day(2021, 11, 15), kh] == 1.0
    assert f[day(2020, 3, 17), my] == 1.0 and f[day(2020, 3, 18), my] == pytest.approx(0.2)
    assert (f[:, id_] == 1.0).all()


def test_max_legs_limits_itineraries(tmp_path):
    write_world(tmp_path)
    w = load(tmp_path, max_legs=3)
    assert w.paths.n_legs.max() == 3 and len(w.paths.od) == 4  # the 4-leg routes via b1 are dropped
    with pytest.raises(WorldError) as info:
        load(tmp_path, max_legs=2)
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path / 'routes.csv'}: origin 'o1' has no path of at most 2 legs to any destination")


# --------------------------------------------------------------------------------------------
# One test per kind of bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field, line, new", [("to", 5, "t1,b9,land,1,0.5,20,border"), ("from", 3, "o9,h1,air,1,0.5,80,none")])
def test_unknown_location_id_in_routes(tmp_path, field, line, new):
    msg = world_error(tmp_path, routes=replaced(ROUTES, line, new))
    assert_names(msg, tmp_path, "routes.csv", line, field)
    assert "unknown location id" in msg and ("'b9'" in msg or "'o9'" in msg)


@pytest.mark.parametrize("field", ["days_mean", "days_spread", "cost_usd"])
def test_negative_duration_or_cost(tmp_path, field):
    values = {"days_mean": "1", "days_spread": "0.5", "cost_usd": "20"}
    values[field] = "-1"
    row = f"t1,b1,land,{values['days_mean']},{values['days_spread']},{values['cost_usd']},border"
    msg = world_error(tmp_path, routes=replaced(ROUTES, 5, row))
    assert_names(msg, tmp_path, "routes.csv", 5, field)
    assert msg.endswith("= -1: must be >= 0")


def test_missing_duration(tmp_path):
    msg = world_error(tmp_path, routes=replaced(ROUTES, 4, "h1,t1,air,,0.2,80,exit_immigration"))
    assert_names(msg, tmp_path, "routes.csv", 4, "days_mean")
    assert msg.endswith(": missing")


def test_unknown_kind(tmp_path):
    msg = world_error(tmp_path, locations=replaced(LOCATIONS, 5, "t1,Transit,MY,airport,2.7,101.7,0,0"))
    assert_names(msg, tmp_path, "locations.csv", 5, "kind")
    assert f"'airport': unknown; allowed: {', '.join(KINDS)}" in msg


def test_unknown_checkpoint(tmp_path):
    msg = world_error(tmp_path, routes=replaced(ROUTES, 4, "h1,t1,air,0.5,0.2,80,customs"))
    assert_names(msg, tmp_path, "routes.csv", 4, "checkpoint")
    assert f"'customs': unknown; allowed: {', '.join(CHECKPOINTS)}" in msg


def test_unknown_mode(tmp_path):
    msg = world_error(tmp_path, routes=replaced(ROUTES, 3, "o2,h1,rail,1,0.5,80,none"))
    assert_names(msg, tmp_path, "routes.csv", 3, "mode")
    assert f"'rail': unknown; allowed: {', '.join(MODES)}" in msg


def test_origin_with_no_path_to_any_destination(tmp_path):
    msg = world_error(tmp_path, routes=replaced(ROUTES, 3, None))  # o2's only route
    assert_names(msg, tmp_path, "routes.csv", None, None)
    assert "origin 'o2' has no path of at most 6 legs to any destination (d1, d2)" in msg


def test_origin_reachable_only_through_another_origin_has_no_path(tmp_path):
    """Itineraries pass only through hubs, transit and border nodes, never another origin."""
    msg = world_error(tmp_path, routes=replaced(ROUTES, 3, "o2,o1,land,1,0.5,5,none"))
    assert "origin 'o2' has no path" in msg


def test_non_numeric_field(tmp_path):
    msg = world_error(tmp_path, locations=replaced(LOCATIONS, 3, "o2,Origin two,ID,origin,north,98.7,0.4,0"))
    assert_names(msg, tmp_path, "locations.csv", 3, "lat")
    assert msg.endswith("not a number ('north')")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_field(tmp_path, value):
    msg = world_error(tmp_path, routes=replaced(ROUTES, 6, f"b1,d1,land,0.2,0.1,{value},none"))
    assert_names(msg, tmp_path, "routes.csv", 6, "cost_usd")
    assert f"not a number ('{value}')" in msg


def test_latitude_out_of_range(tmp_path):
    msg = world_error(tmp_path, locations=replaced(LOCATIONS, 4, "h1,Hub,ID,hub,-96.1,106.7,0,1000"))
    assert_names(msg, tmp_path, "locations.csv", 4, "lat")
    assert msg.endswith("= -96.1: must be >= -90")


def test_short_row(tmp_path):
    msg = world_error(tmp_path, routes=replaced(ROUTES, 7, "t1,d2,land"))
    assert_names(msg, tmp_path, "routes.csv", 7, "days_mean")
    assert msg.endswith(": missing")


def test_row_with_too_many_fields(tmp_path):
    msg = world_error(tmp_path, routes=replaced(ROUTES, 7, "t1,d2,land,2,1,50,border,extra,extra"))
    assert_names(msg, tmp_path, "routes.csv", 7, None)
    assert "malformed CSV" in msg


def test_duplicate_id(tmp_path):
    msg = world_error(tmp_path, locations=replaced(LOCATIONS, 6, "t1,Border,KH,border,13.7,102.6,0,0"))
    assert_names(msg, tmp_path, "locations.csv", 6, "id")
    assert msg.endswith("= 't1': duplicate id")


def test_missing_id(tmp_path):
    msg = world_error(tmp_path, locations=replaced(LOCATIONS, 4, ",Hub,ID,hub,-6.1,106.7,0,1000"))
    assert_names(msg, tmp_path, "locations.csv", 4, "id")


def test_duplicate_route(tmp_path):
    msg = world_error(tmp_path, routes=[*ROUTES, "o1,h1,air,0.5,0.2,50,none"])
    assert_names(msg, tmp_path, "routes.csv", 9, None)
    assert "duplicate route o1 -> h1" in msg


def test_route_to_itself(tmp_path):
    msg = world_error(tmp_path, routes=[*ROUTES, "t1,t1,land,0.5,0.2,5,none"])
    assert_names(msg, tmp_path, "routes.csv", 9, "to")


@pytest.mark.parametrize(
    "file, lines, column",
    [("routes", ROUTES, "days_spread"), ("locations", LOCATIONS, "kind"), ("closures", CLOSURES, "travel_factor")],
)
def test_missing_column(tmp_path, file, lines, column):
    header = lines[0].split(",")
    j = header.index(column)
    dropped = [",".join(c for i, c in enumerate(row.split(",")) if i != j) for row in lines]
    msg = world_error(tmp_path, **{file: dropped})
    assert_names(msg, tmp_path, f"{file}.csv", None, None)
    assert f"missing column(s) {column}; expected {lines[0].replace(',', ', ')}" in msg


def test_missing_file(tmp_path):
    write_world(tmp_path)
    (tmp_path / "closures.csv").unlink()
    with pytest.raises(WorldError) as info:
        load(tmp_path)
    assert str(info.value) == f"{tmp_path / 'closures.csv'}: file not found"


def test_destination_countries_come_from_the_locations(tmp_path):
    """Any country can hold compounds: a destination in Thailand makes TH a destination country."""
    w = load(write_world(tmp_path, locations=replaced(LOCATIONS, 8, "d2,Compounds TH,TH,destination,16.8,98.5,1,0")))
    assert w.destination_countries == ("KH", "TH")
    assert w.location_dest_country[w.index["d2"]] == 1
    assert w.location_dest_country[w.index["h1"]] == -1


def test_closure_end_before_start(tmp_path):
    msg = world_error(tmp_path, closures=replaced(CLOSURES, 3, "2022-03-31,2020-03-18,MY,0.2"))
    assert_names(msg, tmp_path, "closures.csv", 3, "end")
    assert msg.endswith("= 2020-03-18: before start 2022-03-31")


def test_closure_malformed_date(tmp_path):
    msg = world_error(tmp_path, closures=replaced(CLOSURES, 2, "2020-03-30,2021-11-31,KH,0.1"))
    assert_names(msg, tmp_path, "closures.csv", 2, "end")
    assert "not a date (YYYY-MM-DD)" in msg


def test_closure_unknown_country(tmp_path):
    msg = world_error(tmp_path, closures=replaced(CLOSURES, 3, "2020-03-18,2022-03-31,XX,0.2"))
    assert_names(msg, tmp_path, "closures.csv", 3, "country")
    assert "'XX': unknown; allowed: ID, KH, MM, MY" in msg


def test_closure_factor_above_one(tmp_path):
    msg = world_error(tmp_path, closures=replaced(CLOSURES, 4, "2021-01-01,2021-06-30,KH,1.5"))
    assert_names(msg, tmp_path, "closures.csv", 4, "travel_factor")
    assert msg.endswith("= 1.5: must be <= 1")


def test_negative_origin_weight(tmp_path):
    msg = world_error(tmp_path, locations=replaced(LOCATIONS, 3, "o2,Origin two,ID,origin,3.6,98.7,-0.4,0"))
    assert_names(msg, tmp_path, "locations.csv", 3, "weight")


def test_line_numbers_count_blank_lines(tmp_path):
    lines = [ROUTES[0], "", *replaced(ROUTES, 2, "o1,h1,land,-0.5,0.2,10,none")[1:]]
    msg = world_error(tmp_path, routes=lines)
    assert_names(msg, tmp_path, "routes.csv", 3, "days_mean")  # the bad row is physical line 3


# --------------------------------------------------------------------------------------------
# The real world
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world():
    return World(WorldConfig())


def _reachable(w: World, origin: int) -> set[int]:
    """Destinations reachable from ``origin`` through hub/transit/border nodes in at most max_legs legs (BFS)."""
    passable = {i for i, k in enumerate(w.kind) if k in ("hub", "transit", "border")}
    dests = set(w.destinations.tolist())
    out_edges: dict[int, list[int]] = {}
    for a, b in zip(w.route_from.tolist(), w.route_to.tolist()):
        out_edges.setdefault(a, []).append(b)
    found, seen, queue = set(), {origin: 0}, deque([origin])
    while queue:
        node = queue.popleft()
        for nxt in out_edges.get(node, []):
            if seen[node] + 1 > w.max_legs:
                continue
            if nxt in dests:
                found.add(nxt)
            elif nxt in passable and nxt not in seen:
                seen[nxt] = seen[node] + 1
                queue.append(nxt)
    return found


def test_real_world_every_origin_reaches_a_destination(world):
    w = world
    assert len(w.origins) > 0 and len(w.destinations) > 0
    reach = w.od_reachable.reshape(len(w.origins), len(w.destinations))
    for o_slot, o in enumerate(w.origins):
        expected = _reachable(w, int(o))
        assert expected, f"origin {w.ids[o]} reaches no destination"
        got = {int(w.destinations[d]) for d in np.flatnonzero(reach[o_slot])}
        assert got == expected, w.ids[o]


def test_real_world_path_table_invariants(world):
    w = world
    t = w.paths
    n_dest = len(w.destinations)
    assert len(t.od) > 0
    assert (np.diff(t.od) >= 0).all()
    np.testing.assert_array_equal(t.od_start, np.searchsorted(t.od, np.arange(len(w.origins) * n_dest + 1)))
    allowed_inner = {"hub", "transit", "border"}
    seen = set()
    for p in range(len(t.od)):
        n = int(t.n_legs[p])
        assert 1 <= n <= w.max_legs
        legs = t.edges[p, :n]
        assert (legs >= 0).all() and (t.edges[p, n:] == -1).all()
        o_slot, d_slot = divmod(int(t.od[p]), n_dest)
        assert w.route_from[legs[0]] == w.origins[o_slot], "path starts at its origin"
        assert w.route_to[legs[-1]] == w.destinations[d_slot], "path ends at its destination"
        np.testing.assert_array_equal(w.route_to[legs[:-1]], w.route_from[legs[1:]])  # legs connect
        nodes = [int(w.route_from[legs[0]]), *w.route_to[legs].tolist()]
        assert len(set(nodes)) == len(nodes), "simple path"
        assert all(w.kind[v] in allowed_inner for v in nodes[1:-1])
        assert t.cost_usd[p] == pytest.approx(w.route_cost[legs].sum())
        assert t.days[p] == pytest.approx(w.route_days_mean[legs].sum())
        visited = {int(w.location_country[v]) for v in nodes[1:]}
        assert set(np.flatnonzero(t.countries[p]).tolist()) == visited
        key = tuple(legs.tolist())
        assert key not in seen, "duplicate itinerary"
        seen.add(key)
    # blocks: every connected pair is one block, covering all paths
    assert t.block_size.sum() == len(t.od)
    assert len(t.block_start) == int(w.od_reachable.sum())


def test_real_world_route_checkpoints_match_their_kind(world):
    w = world
    cp = w.route_checkpoint
    np.testing.assert_array_equal(w.route_exit_check, (cp == "exit_immigration") | (cp == "border"))
    np.testing.assert_array_equal(w.route_entry_check, (cp == "entry_immigration") | (cp == "border"))
    assert (w.route_log_sd >= 0).all() and np.isfinite(w.route_log_sd).all()


def _closure_rows() -> list[dict]:
    with open(PACKAGE_WORLD_DIR / "closures.csv", newline="") as fh:
        return [
            {"start": dt.date.fromisoformat(r["start"]), "end": dt.date.fromisoformat(r["end"]),
             "country": r["country"].strip(), "factor": float(r["travel_factor"])}
            for r in csv.DictReader(fh)
        ]


def test_real_world_travel_factors_equal_the_closures_csv(world):
    w = world
    rows = _closure_rows()
    assert rows, "the shipped world has dated closures"
    start, n_days = dt.date(2020, 1, 1), 6 * 366
    f = w.travel_factors(start, n_days)
    assert f.shape == (n_days, len(w.countries))
    expected = np.ones_like(f)
    for d in range(n_days):
        date = start + dt.timedelta(days=d)
        for r in rows:
            if r["start"] <= date <= r["end"]:
                expected[d, w.country_index[r["country"]]] *= r["factor"]
    np.testing.assert_allclose(f, expected)
    # and each closure, on its first and last day, carries exactly its CSV factor (when not overlapped)
    for r in rows:
        c = w.country_index[r["country"]]
        others = [q for q in rows if q is not r and q["country"] == r["country"]]
        for date in (r["start"], r["end"]):
            if not any(q["start"] <= date <= q["end"] for q in others):
                assert f[(date - start).days, c] == pytest.approx(r["factor"])
        before, after = r["start"] - dt.timedelta(days=1), r["end"] + dt.timedelta(days=1)
        for date in (before, after):
            if 0 <= (date - start).days < n_days and not any(q["start"] <= date <= q["end"] for q in others):
                assert f[(date - start).days, c] == 1.0


def test_real_world_travel_factors_outside_closures_are_one(world):
    w = world
    rows = _closure_rows()
    last_end = max(r["end"] for r in rows)
    after = w.travel_factors(last_end + dt.timedelta(days=1), 100)
    assert (after == 1.0).all()
    first_start = min(r["start"] for r in rows)
    before = w.travel_factors(first_start - dt.timedelta(days=100), 100)
    assert (before == 1.0).all()
    # a horizon starting inside a closure sees it on day 0
    r = rows[0]
    inside = w.travel_factors(r["start"] + dt.timedelta(days=1), 1)
    assert inside[0, w.country_index[r["country"]]] < 1.0
    # countries never closed stay at 1 throughout
    never = [w.country_index[c] for c in w.countries if c not in {q["country"] for q in rows}]
    full = w.travel_factors(dt.date(2020, 1, 1), 2192)
    assert (full[:, never] == 1.0).all()


def test_location_slot_rejects_unknown_ids_naming_the_field(world):
    with pytest.raises(ConfigError) as info:
        world.location_slot("hub_nowhere", "interventions.x.hubs", ("hub",))
    msg = str(info.value)
    assert msg.startswith("interventions.x.hubs = 'hub_nowhere': unknown location; allowed: ")
    assert msg.split("allowed: ")[1].split(", ") == [world.ids[h] for h in world.hubs]
