"""The maps' palette: colours that cannot be confused, also by colour-blind readers (issue 8).

Independent method: colorspacious simulates deuteranopia and protanopia (Machado et al. 2009,
severity 100) and converts to CIE Lab; ΔE*ab (CIE76) between every pair of colours a reader must
tell apart must be at least 20 (about ten just-noticeable differences). Districts are compared as
seen: the fill at its opacity over a white base map.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from colorspacious import cspace_convert

from reachplan.maps import palette

MIN_DELTA_E = 20.0
VISION = {"normal": None, "deuteranopia": "deuteranomaly", "protanopia": "protanomaly"}


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[k:k + 2], 16) for k in (0, 2, 4)]) / 255


def _as_fill(hex_colour: str) -> np.ndarray:
    return palette.FILL_OPACITY * _rgb(hex_colour) + (1 - palette.FILL_OPACITY) * np.ones(3)


def _lab(rgb: np.ndarray, cvd: str | None) -> np.ndarray:
    if cvd is not None:
        rgb = np.clip(cspace_convert(rgb, {"name": "sRGB1+CVD", "cvd_type": cvd,
                                           "severity": 100}, "sRGB1"), 0, 1)
    return cspace_convert(rgb, "sRGB1", "CIELab")


def _closest_pair(colours: dict[str, np.ndarray]) -> tuple[float, str]:
    worst = (np.inf, "")
    for vision, cvd in VISION.items():
        for (a, ca), (b, cb) in itertools.combinations(colours.items(), 2):
            d = float(np.linalg.norm(_lab(ca, cvd) - _lab(cb, cvd)))
            worst = min(worst, (d, f"{a} vs {b} ({vision})"))
    return worst


def _map_colours(fills: dict[str, str], types: tuple[str, ...], cluster: str, site: str):
    colours = {f"fill {k}": _as_fill(v) for k, v in fills.items()}
    colours.update({f"type {i + 1}": _rgb(c) for i, c in enumerate(types)})
    colours["cluster bubble"] = _rgb(cluster)
    colours["proposed site"] = _rgb(site)
    return colours


def test_classes_types_and_clusters_are_distinct_for_colour_blind_readers():
    colours = _map_colours({"covered": palette.COVERED, "gap": palette.GAP,
                            "no data": palette.NODATA}, palette.TYPES, palette.CLUSTER,
                           palette.SITE)
    distance, pair = _closest_pair(colours)
    assert distance >= MIN_DELTA_E, pair


def _delta_e(a: np.ndarray, b: np.ndarray, vision: str) -> float:
    return float(np.linalg.norm(_lab(a, VISION[vision]) - _lab(b, VISION[vision])))


def test_the_check_rejects_the_old_palette():
    # before issue 8 (India sample types sorted: direct, partner, premium, van): the covered
    # green was close to 'premium', and MarkerCluster's large bubbles (rgba(241, 128, 23, 0.6))
    # to the gap orange
    covered, gap = _as_fill("#1b9e77"), _as_fill("#d95f02")
    bubble = 0.6 * np.array([241, 128, 23]) / 255 + 0.4
    assert _delta_e(covered, _rgb("#009e73"), "deuteranopia") < MIN_DELTA_E
    assert _delta_e(gap, bubble, "normal") < MIN_DELTA_E


@pytest.mark.parametrize("hex_colour", [palette.COVERED, palette.GAP, *palette.TYPES])
def test_colours_are_hex(hex_colour):
    assert len(hex_colour) == 7 and int(hex_colour[1:], 16) >= 0
