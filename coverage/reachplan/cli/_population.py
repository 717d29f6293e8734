"""``--population RASTER``: districts weighted by a population raster, and the people within
reach (the glue from the option to :mod:`reachplan.demand.population`).

Every command reading BOUNDARIES weighs the districts by their people
(:func:`weigh_by_population`, called by ``inputs.load_inputs``): ``coverage`` and ``gaps``
report and rank people, ``plan`` maximises them, ``map`` shades them. ``coverage`` also
counts the people within reach, cell by cell (:func:`run_population`), with ``--engine``.
"""

from __future__ import annotations

from typing import Any

import click

from reachplan.cli.errors import flags_for
from reachplan.cli.output import Progress, info, log_warnings


def weigh_by_population(districts: Any, raster: str) -> Any:
    """The districts with their people as ``weight`` (a ``--weight-col`` kept beside it as
    ``weight_given``); one-line errors naming ``--population``."""
    from reachplan.demand.population import with_population

    info(f"population: {raster}, exact sums per district")
    with flags_for():
        return with_population(districts, raster, label=raster)


def run_population(raster: str | None, centers: Any, districts: Any, rule: Any, *,
                   engine: str = "memory", scheduler: str | None = None) -> Any:
    """People within reach under ``rule`` (:func:`reachplan.demand.population.
    population_coverage`), or ``None`` without ``--population`` or under a rule that does not
    reach points (presence: the districts are still weighted by their people)."""
    if not raster:
        return None
    from reachplan.demand.population import population_coverage
    from reachplan.rules import reaches_points

    if not reaches_points(rule):
        info("population: people within reach need --radius-km or --travel-minutes; "
             "districts weighted by their people only")
        return None
    if scheduler and engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
    info(f"population: {raster}, {rule.describe()}, engine {engine}")
    bar = Progress("reachplan: population windows")
    try:
        with flags_for():
            result = population_coverage(centers, raster, rule, districts=districts,
                                         engine=engine, scheduler=scheduler, label=raster,
                                         progress=bar)
    finally:
        bar.close()
    log_warnings(result.warnings)
    return result


def add_population_columns(result: Any, population: Any) -> None:
    """Put each district's people within reach in the district outputs (JSON, CSV): its
    people by cell centres (``population_cells``), those within reach
    (``population_covered``) and their % (``population_percent``); ``weight`` is its people
    by exact cell fractions, and ``weight_given`` the ``--weight-col`` given beside."""
    frame = result.districts
    if population is None or population.by_district is None:
        return
    table = population.by_district.set_index("id")
    ids = frame["id"].astype(str)
    steps = [c for c in table.columns  # several thresholds: population_covered_5km ...
             if c.startswith(("population_covered_", "population_percent_"))]
    for column in ("population_cells", "population_covered", "population_percent",
                   "weight_given", *steps):
        if column in table:
            values = ids.map(table[column]).to_numpy(dtype=object)
            frame[column] = [float("nan") if v is None else float(v) for v in values]


def population_block(population: Any) -> dict[str, Any]:
    """The JSON ``"population"`` block: the summary and, with groups, ``groups``."""
    block = population.to_dict()
    if population.by_group is not None and len(population.by_group):
        block["groups"] = population.by_group.to_dict(orient="records")
    return block


def population_lines(block: dict[str, Any] | None) -> list[str]:
    """The people within reach, for the text report."""
    from reachplan.cli._report import num, pct, reach_words, table

    if not block:
        return []
    reach = reach_words(block.get("cost"))
    lines = [f"People {reach} of a centre ({block['raster']}, cell centres): "
             f"{num(block['population_covered'])} of {num(block['population'])} "
             f"({pct(block['percent'])}%)"]
    if block.get("cells_outside"):
        lines.append(f"Cells in no district: {block['cells_outside']:,} "
                     f"({num(block['population_outside'])} people, in the totals above)")
    groups = block.get("groups") or []
    if groups:
        rows = [[g["group"], num(g["population_cells"]), num(g["population_covered"]),
                 pct(g["population_percent"])] for g in groups]
        lines += ["", *table(rows, ["group", "people", f"people {reach}", "%"])]
    return lines
