"""The GeoDataFrame door of planning, a short pipeline as geopandas' ``sjoin`` is: assess the
existing network, build the candidate matrix from the rule's pairs, solve on the matrix, and
report sites with what each one buys."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from reachplan.errors import InputError
from reachplan.planning.matrix import solve_matrix
from reachplan.planning.request import Method, Objective, PlanRequest, Progress
from reachplan.rules import cost_of, one_threshold

if TYPE_CHECKING:
    import geopandas as gpd

    from reachplan.engine import CoverageResult
    from reachplan.rules import CoverageRule

__all__ = ["PlanRun", "candidate_matrix", "default_candidates", "plan", "plan_sites_frame",
           "run_plan"]


def default_candidates(boundaries: gpd.GeoDataFrame, mask: np.ndarray | None = None
                       ) -> gpd.GeoDataFrame:
    """One candidate site per district: a point guaranteed inside it (``representative_point``).

    Parameters
    ----------
    boundaries
        Districts as returned by :func:`reachplan.io.read_boundaries`.
    mask
        Which districts get a candidate (default: all).
    """
    import geopandas as gpd

    chosen = boundaries if mask is None else boundaries[np.asarray(mask, dtype=bool)]
    pts = chosen.geometry.representative_point()
    names = [
        f"{n} ({i})" if isinstance(n, str) and n and n != i else str(i)
        for i, n in zip(chosen["id"], chosen["name"], strict=True)
    ]
    return gpd.GeoDataFrame(
        {
            "name": names,
            "lat": np.round(pts.y.to_numpy(), 6),
            "lon": np.round(pts.x.to_numpy(), 6),
        },
        geometry=gpd.points_from_xy(np.round(pts.x, 6), np.round(pts.y, 6)),
        crs="EPSG:4326",
    ).reset_index(drop=True)


def candidate_matrix(
    boundaries: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, rule: CoverageRule, *,
    progress: Progress | None = None,
) -> sparse.csc_array:
    """Districts x candidates: which candidate would cover which district under ``rule``
    (the rule's pairs within reach).

    When the rule says its ``pairs`` takes a ``progress(done, total)`` callback
    (``rule.pairs_progress``; the travel rule: one bounded road search per candidate),
    ``progress`` receives ``{"phase": "matrix",
    "done", "total", "elapsed_s"}`` (the other keys ``None``) as candidates are searched.
    """
    import time

    options: dict[str, Any] = {}
    if progress is not None and getattr(rule, "pairs_progress", False):
        t0 = time.perf_counter()

        def searched(done: int, total: int) -> None:
            progress({"phase": "matrix", "done": done, "total": total, "objective": None,
                      "bound": None, "gap": None, "elapsed_s": time.perf_counter() - t0})

        options["progress"] = searched
    pi, qi, _ = rule.pairs(boundaries.geometry, candidates.geometry, **options)
    shape = (len(boundaries), len(candidates))
    return sparse.csc_array((np.ones(pi.size, dtype=bool), (pi, qi)), shape=shape)


def _apply_exclude(
    boundaries: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, exclude: Sequence[str]
) -> gpd.GeoDataFrame:
    """Drop candidates named in ``exclude`` or lying inside a district given by id or name.

    A value is a district id, else a district name (one district only: a name several
    districts share is an error listing their ids), and also any candidate site's name.
    """
    from reachplan.geodesy import polygons_within

    if not exclude:
        return candidates
    ids = boundaries["id"].astype(str).to_numpy()
    district_names = boundaries["name"].astype(str).to_numpy()
    names = candidates["name"].astype(str).to_numpy()
    drop = np.zeros(len(candidates), dtype=bool)
    district_rows: list[int] = []
    for value in exclude:
        hit_d = np.flatnonzero(ids == value)
        if hit_d.size == 0:
            hit_d = np.flatnonzero(district_names == value)
            if hit_d.size > 1:
                listed = ", ".join(ids[hit_d][:10])
                raise InputError(
                    f"exclude={value!r}: {hit_d.size} districts have this name (ids {listed}); "
                    "give the district id instead", params=("exclude",))
        hit_n = names == value
        if hit_d.size == 0 and not hit_n.any():
            raise InputError(
                f"exclude={value!r}: no district id or name and no candidate site has this "
                "name; use a district id or name from the boundaries or a site name from the "
                "candidates", params=("exclude",)
            )
        district_rows.extend(int(i) for i in hit_d)
        drop |= hit_n
    if district_rows:
        rows = np.asarray(sorted(set(district_rows)))
        _, qi, _ = polygons_within(boundaries.geometry.iloc[rows], candidates.geometry, 0.0)
        drop[qi] = True
    return candidates[~drop].reset_index(drop=True)


class PlanRun:
    """A plan with the coverage results around it (for maps and tables).

    Attributes
    ----------
    report
        The JSON-ready dict (see :func:`plan`).
    before, after
        :class:`reachplan.engine.CoverageResult` without and with the planned sites. ``after``
        is assessed when first read (its nearest-centre search of every centre is a fifth of
        an India plan; the report does not need it). It may be given as that function.
    sites
        The planned sites as a point GeoDataFrame (:func:`plan_sites_frame`).
    """

    def __init__(self, report: dict[str, Any], before: CoverageResult,
                 after: CoverageResult | Callable[[], CoverageResult],
                 sites: gpd.GeoDataFrame) -> None:
        self.report, self.before, self.sites = report, before, sites
        self._after = after

    @property
    def after(self) -> CoverageResult:
        if callable(self._after):
            self._after = self._after()
        return self._after


def plan(boundaries: gpd.GeoDataFrame, centres: gpd.GeoDataFrame, rule: CoverageRule,
         **kwargs: Any
         ) -> dict[str, Any]:
    """Plan new sites on top of the existing centres; the JSON-ready report.

    Same parameters as :func:`run_plan`. Returns ``{"before", "after", "method",
    "optimality_gap", "status", "objective", "rule", "cost", "request", "target_reached",
    "best_reachable", "candidates", "sites", "notes", "warnings"}``; ``before``/``after`` are
    coverage summaries exactly as in the coverage JSON; each site is ``{"rank", "name", "lat",
    "lon", "gain_districts", "gain_weight", "covers", "covers_names"}`` (district ids, names).
    """
    return run_plan(boundaries, centres, rule, **kwargs).report


def run_plan(
    boundaries: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    rule: CoverageRule,
    *,
    add: int | None = None,
    target: float | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    exclude: Sequence[str] = (),
    method: Method = "auto",
    time_limit: float = 60.0,
    objective: Objective = "auto",
    progress: Progress | None = None,
) -> PlanRun:
    """Plan new sites on top of the existing centres.

    Parameters
    ----------
    boundaries, centres
        As returned by :func:`reachplan.io.read_boundaries` and :func:`reachplan.io.read_points`.
    rule
        The coverage rule (:mod:`reachplan.rules`); only ``min_centers=1`` is supported.
    add, target
        Open at most ``add`` sites for the most coverage, or the fewest sites that reach
        ``target`` percent. Exactly one.
    candidates
        Candidate sites (points, with a ``name`` column); default one representative point
        inside each uncovered district.
    exclude
        District ids (no site inside them) or candidate site names to leave out.
    method, time_limit, progress
        See :func:`solve_matrix`.
    objective
        ``"districts"`` (count covered districts, the headline figure; ``"auto"`` is the same)
        or ``"weight"`` (covered weight; needs the boundaries' weights). ``target`` is a
        percentage of the same figure. With ``"districts"`` and weights, the weight breaks
        ties: among the plans with the best count, the one covering the most weight
        (``tie_weights`` of :func:`solve_matrix`).
    """
    from reachplan.engine import assess, decide, summarise
    from reachplan.frames import as_districts, as_points, input_name

    boundaries = as_districts(boundaries, param="boundaries")
    centres = as_points(centres, param="centres")
    candidates = None if candidates is None else as_points(candidates, param="candidates")
    request = PlanRequest(add=add, target=target, method=method, time_limit=time_limit,
                          objective=objective)
    add, target = request.add, request.target
    one_threshold(rule, "a plan")
    if rule.min_centers != 1:
        raise InputError(
            f"min_centers={rule.min_centers}: a plan supports only rules with min_centers=1 "
            "(a district covered by one centre)", params=("min_centers",)
        )
    before = assess(boundaries, centres, rule)
    districts = before.districts.set_index("id").reindex(boundaries["id"])
    already = districts["covered"].fillna(False).to_numpy(dtype=bool)
    weighted = bool(boundaries["weight"].notna().any())
    if objective == "weight" and not weighted:
        raise InputError("objective='weight' needs district weights (weight_col)",
                         params=("objective", "weight_col"))
    # the default objective is the headline figure, % of districts (weight breaks ties)
    by_weight = objective == "weight"
    w_all = np.nan_to_num(boundaries["weight"].to_numpy(dtype=float)) if weighted else None

    warnings: list[str] = []
    if candidates is None:
        candidates = default_candidates(boundaries, ~already)
        source = "one point inside each uncovered district"
    else:
        source = input_name(candidates.attrs.get("source", "candidates")) or "candidates"
        candidates = candidates.reset_index(drop=True)
    candidates = _apply_exclude(boundaries, candidates, [str(e) for e in exclude])
    # only uncovered districts can gain: build the (costly) geodesic matrix for those alone
    open_rows = np.flatnonzero(~already)
    sub = candidate_matrix(boundaries.iloc[open_rows], candidates, rule, progress=progress)
    coo = sparse.coo_array(sub)
    A = sparse.csc_array(
        (np.ones(coo.nnz, dtype=bool), (open_rows[coo.row], coo.col)),
        shape=(len(boundaries), len(candidates)),
    )
    found = solve_matrix(
        A,
        already=already,
        weights=w_all if by_weight else None,
        tie_weights=w_all if weighted and not by_weight else None,
        add=add,
        target=target,
        method=method,
        time_limit=time_limit,
        progress=progress,
    )
    reachable = already | (np.diff(sparse.csr_array(A).indptr) > 0)

    import geopandas as gpd
    import pandas as pd

    chosen = candidates.iloc[found.sites]
    new_sites = gpd.GeoDataFrame(
        {"name": chosen["name"].astype(str).to_numpy(),
         "lat": chosen["lat"].to_numpy(dtype=float),
         "lon": chosen["lon"].to_numpy(dtype=float)},
        geometry=chosen.geometry.to_numpy(),
        crs="EPSG:4326",
    )
    # the engine's own decision after: with one centre needed coverage only grows, so the
    # districts uncovered before, against the new sites alone, are all that can change
    covered_after = already.copy()
    if len(open_rows) and len(new_sites):
        covered_after[open_rows] = decide(boundaries.iloc[open_rows], new_sites, rule)
    after_summary = summarise(covered_after, boundaries["weight"].to_numpy(dtype=float))
    if int(after_summary["covered"]) != found.covered_count:
        warnings.append(
            f"the plan predicted {found.covered_count} covered districts but the coverage "
            f"engine counts {after_summary['covered']} with the new sites"
        )

    def assess_after() -> CoverageResult:
        base_cols = ["name", "lat", "lon", "geometry"]
        together = gpd.GeoDataFrame(
            pd.concat([centres[base_cols], new_sites[base_cols]], ignore_index=True),
            geometry="geometry",
            crs="EPSG:4326",
        )
        together.attrs = dict(centres.attrs)
        return assess(boundaries, together, rule)

    ids = boundaries["id"].astype(str).to_numpy()
    names = boundaries["name"].to_numpy(dtype=object)
    n = len(boundaries)
    total_w = float(np.nansum(boundaries["weight"])) if weighted else None
    sites = [
        {
            "rank": rank,
            "name": str(new_sites["name"].iloc[k]),
            "lat": float(new_sites["lat"].iloc[k]),
            "lon": float(new_sites["lon"].iloc[k]),
            "gain_districts": int(found.gain_count[k]),
            "gain_weight": _round(w_all[found.covers[k]].sum()) if w_all is not None else None,
            "covers": [str(ids[i]) for i in found.covers[k]],
            "covers_names": [_text(names[i]) for i in found.covers[k]],
        }
        for k, rank in zip(range(len(found.sites)), itertools.count(1), strict=False)
    ]
    best = {
        "districts": found.best_reachable_count,
        "percent": _pct(found.best_reachable_count, n),
        "weight": _round(w_all[reachable].sum()) if w_all is not None else None,
        "weight_percent": _pct(w_all[reachable].sum(), total_w) if w_all is not None else None,
    }
    report = {
        "before": dict(before.summary),
        "after": after_summary,
        "method": found.method,
        "optimality_gap": None if found.optimality_gap is None
        else round(float(found.optimality_gap), 6),
        "status": found.status,
        "objective": "weight" if by_weight else "districts",
        "rule": rule.to_dict(),
        "cost": cost_of(rule).to_dict(),
        "request": {"add": None if add is None else int(add),
                    "target": None if target is None else float(target),
                    "method": method, "time_limit_s": float(time_limit)},
        "target_reached": found.target_reached,
        "best_reachable": best,
        "candidates": {"source": source, "count": int(len(candidates))},
        "sites": sites,
        "notes": _notes(by_weight, weighted, request, found),
        "warnings": list(before.warnings) + warnings,
    }
    return PlanRun(report, before, assess_after, plan_sites_frame(report))


def _text(value: Any) -> str | None:
    return None if value is None or value != value else str(value)


def _notes(by_weight: bool, weighted: bool, request: PlanRequest, found: Any) -> list[str]:
    """Plain sentences on what the plan optimised and why it holds what it holds."""
    if by_weight:
        notes = ["objective: weight covered, as asked"]
    elif weighted:
        notes = ["objective: districts covered, the headline % of districts; the weight "
                 "breaks ties (choose the weight objective to maximise the weight instead)"]
    else:
        notes = ["objective: districts covered, the headline % of districts"]
    if request.add is not None and len(found.sites) < request.add:
        notes.append(f"only {len(found.sites)} of the {request.add} sites asked for add "
                     "coverage: no other candidate reaches a district still uncovered")
    return notes


def _round(x: float) -> float:
    return round(float(x), 6)


def _pct(part: float, whole: float | None) -> float | None:
    if not whole:
        return None if whole is None else 0.0
    return round(100.0 * float(part) / float(whole), 2)


def plan_sites_frame(result: dict[str, Any]) -> gpd.GeoDataFrame:
    """The planned sites as a point GeoDataFrame (for ``-o plan.csv|.geojson|.gpkg``).

    ``covers`` becomes one text cell of district ids joined by ``;``.
    """
    import geopandas as gpd
    import pandas as pd

    rows = result["sites"]
    frame = pd.DataFrame(
        {
            "rank": [s["rank"] for s in rows],
            "name": [s["name"] for s in rows],
            "lat": [s["lat"] for s in rows],
            "lon": [s["lon"] for s in rows],
            "gain_districts": [s["gain_districts"] for s in rows],
            "gain_weight": [s["gain_weight"] for s in rows],
            "covers": [";".join(s["covers"]) for s in rows],
            "covers_names": [";".join(n or "" for n in s["covers_names"]) for s in rows],
        }
    )
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )
