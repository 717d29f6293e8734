"""The what-if page (``reachplan map --what-if``, ``reachplan plan --html``): the inputs read
as every command reads them, the reach table built by the library, one HTML file written."""

from __future__ import annotations

from typing import Any

import click

from reachplan.cli.errors import flags_for

#: --candidates in map: its columns are found by name (no column options of its own).
_CANDIDATE_FLAGS: dict[str, str | None] = {
    "name_col": None, "lat_col": None, "lon_col": None, "layer": None, "crs": None,
    "where": None, "strict": None}
#: The embedded boundaries whose default candidates are every PIN code.
_DEFAULT_CANDIDATES = {"@india": "@india-pincodes"}


def read_candidates(candidates: str | None, boundaries: str) -> Any:
    """The candidate sites of ``--candidates`` (or the embedded data's default), or None."""
    from reachplan.cli.inputs import name_as_given, resolve_dataset
    from reachplan.cli.output import log_warnings
    from reachplan.io import read_points

    given = candidates or _DEFAULT_CANDIDATES.get(boundaries)
    if given is None:
        return None
    path, columns = resolve_dataset(given, "candidates")
    with flags_for(**_CANDIDATE_FLAGS):
        sites = read_points(path, name_col=columns.get("name_col"), what="candidate sites")
    name_as_given(sites, given)
    log_warnings(list(sites.attrs.get("warnings", [])))
    return sites


def run_what_if(inputs: Any, demand: Any, *, candidates: str | None, output: str,
                title: str | None, offline: bool, assets: str | None, tiles: str | None,
                simplify_m: float | None, overwrite: bool, loaded: Any = None,
                candidate_frame: Any = None, sites: Any = None, capacity: Any = None,
                candidate_capacity: str | None = None) -> None:
    """Write the what-if page of ``inputs`` (``loaded``: the districts, centres and rule when
    the command has them; ``candidate_frame``: candidates it read; ``sites``: sites to open
    in the page, e.g. a plan's, left out of the candidates)."""
    from reachplan.cli._maps import _write_all, check_map_outputs
    from reachplan.cli.errors import DEMAND_FLAGS
    from reachplan.cli.inputs import load_inputs, resolve_dataset
    from reachplan.cli.output import info, log_warnings
    from reachplan.engine import assess
    from reachplan.maps import map_html
    from reachplan.maps.planner import planner_data, read_demand, what_if_map
    from reachplan.rules import reaches_points

    check_map_outputs(output, None)
    districts, centers, rule = loaded or load_inputs(inputs)
    cands = (candidate_frame if candidate_frame is not None
             else read_candidates(candidates, inputs.boundaries))
    if cands is not None and sites is not None and len(sites):
        cands = _without(cands, sites)
    points = None
    if demand.demand:
        if not reaches_points(rule):
            raise click.UsageError("--demand needs --radius-km R: a demand point is covered "
                                   "when a centre lies within R km")
        source, _ = resolve_dataset(demand.demand, "demand")
        with flags_for(**DEMAND_FLAGS):
            points = read_demand(source, rule, lat_col=demand.demand_lat_col,
                                 lon_col=demand.demand_lon_col,
                                 weight_col=demand.demand_weight_col)
        log_warnings(points.warnings)
    result = assess(districts, centers, rule, nearest=False)
    log_warnings(result.warnings)
    data = planner_data(districts, centers, rule, candidates=cands, demand=points,
                        type_col=inputs.type_col, opened=sites)
    if capacity is not None and capacity.capacity_col:
        from reachplan.cli._what_if_capacity import add_capacity

        add_capacity(data, capacity, rule, centers, candidates=cands, opened=sites,
                     candidate_capacity=candidate_capacity, demand=points,
                     districts=districts, weight_col=inputs.weight_col)
    elif candidate_capacity is not None:
        raise click.UsageError("--candidate-capacity needs --capacity-col COL")
    page = map_html(what_if_map(result, data, title=title, offline=offline, assets=assets,
                                tiles=tiles, simplify_m=simplify_m))
    _write_all([(str(output), page.encode("utf-8"))], overwrite=overwrite)
    info(f"wrote {output if output != '-' else '(stdout)'}")


def _without(candidates: Any, sites: Any) -> Any:
    """The candidates but those at a site's place under its name (a plan's proposed sites)."""
    import shapely

    def keys(frame: Any) -> list[tuple[Any, float, float]]:
        geoms = frame.geometry.values
        return list(zip(frame["name"].tolist(), shapely.get_y(geoms).tolist(),
                        shapely.get_x(geoms).tolist(), strict=True))

    taken = set(keys(sites))
    keep = [k not in taken for k in keys(candidates)]
    out = candidates[keep]
    return out if len(out) else None
