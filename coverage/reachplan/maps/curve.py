"""The coverage-vs-threshold curve of a result at several thresholds, PNG (matplotlib, Agg;
deterministic bytes: no timestamp, no software tag)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from reachplan.errors import InputError
from reachplan.io import atomic_output
from reachplan.text import for_terminal


def curve_png_bytes(data: dict[str, Any], *, title: str | None = None) -> bytes:
    """The PNG bytes of :func:`write_curve_png` from a result's JSON dict (its
    ``"thresholds"`` array): % of districts covered, and of weight when weighted, at each
    threshold; one line per group with up to eight groups."""
    from matplotlib.figure import Figure

    steps = data.get("thresholds") or []
    if not steps:
        raise InputError("curve: the result has one threshold; give several (e.g. "
                         "radius_km 5,10,25) for a curve", params=("curve",))
    cost = data.get("cost") or {}
    xs = [s["threshold"] for s in steps]
    fig = Figure(figsize=(7, 4.2), dpi=100)
    ax = fig.add_subplot()
    ax.plot(xs, [s["percent"] or 0.0 for s in steps], marker="o", color="#1f5fa8",
            linewidth=2, label="% of districts")
    if steps[0].get("weight_percent") is not None:
        weight = (data.get("inputs") or {}).get("weight_col") or "weight"
        ax.plot(xs, [s["weight_percent"] or 0.0 for s in steps], marker="s", color="#d9731a",
                linewidth=2, label=f"% of {_label(weight)}")
    people = (data.get("population") or {}).get("thresholds") or []
    if len(people) == len(xs):  # a population raster's people, cell by cell
        ax.plot(xs, [p["percent"] or 0.0 for p in people], marker="^", color="#2a9d4b",
                linewidth=2, label="% of people (raster cells)")
    groups = [g["group"] for g in steps[0].get("groups") or []]
    if 1 < len(groups) <= 8:
        for i, name in enumerate(groups):
            ys = [(s["groups"][i]["percent"] or 0.0) for s in steps]
            ax.plot(xs, ys, linewidth=1, alpha=0.6, linestyle="--",
                    label=_label(name or "(none)"))
    ax.set_xlabel(f"threshold ({cost.get('label') or cost.get('unit') or ''})".strip())
    ax.set_ylabel("% covered")
    ax.set_ylim(0, 100)
    ax.set_xlim(0, max(xs) * 1.05 if max(xs) > 0 else 1)
    ax.set_xticks(xs, [f"{x:g}" for x in xs])
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title or "Coverage by threshold", parse_math=False)  # '$' is not TeX
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _label(value: Any) -> str:
    """A name from the user's files as a legend label: one line, and '$' not TeX."""
    return for_terminal(str(value)).replace("$", r"\$")


def write_curve_png(data: dict[str, Any], path: str | os.PathLike, *,
                    title: str | None = None, overwrite: bool = False) -> Path:
    """Write the coverage-vs-threshold curve of a result's JSON dict as PNG (all or none)."""
    png = curve_png_bytes(data, title=title)
    with atomic_output(path, overwrite=overwrite) as tmp:
        Path(tmp).write_bytes(png)
    return Path(path)
