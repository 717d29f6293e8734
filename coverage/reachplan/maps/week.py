"""The week's heat map: % of districts covered by day (rows) × hour (columns), PNG."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from reachplan.io import atomic_output


def week_png_bytes(profile: Any, *, title: str | None = None) -> bytes:
    """The PNG bytes of :func:`write_week_png` (matplotlib, Agg; deterministic)."""
    from matplotlib.figure import Figure

    values = profile.hours["percent"].to_numpy(dtype=float).reshape(7, 24)
    fig = Figure(figsize=(10, 3.6), dpi=100)
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_yticks(range(7), ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"])
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_xlabel("hour (local time)")
    worst = int(np.argmin(values))
    ax.add_patch(_box(worst % 24, worst // 24))
    ax.set_title(title or f"% of districts covered, week of {profile.start:%Y-%m-%d}")
    fig.colorbar(image, ax=ax, label="% districts covered")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _box(x: int, y: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2)


def write_week_png(profile: Any, path: str | os.PathLike, *, title: str | None = None,
                   overwrite: bool = False) -> Path:
    """Write the week's heat map (day × hour, the worst hour boxed in red) as PNG."""
    data = week_png_bytes(profile, title=title)
    with atomic_output(path, overwrite=overwrite) as tmp:
        Path(tmp).write_bytes(data)
    return Path(path)
