"""The conformal sphere: proven bounds on WGS84 geodesic distances from unit-sphere arcs.

The map from the WGS84 ellipsoid to the unit sphere by *conformal* latitude χ and longitude
is conformal, so it stretches every length element by one factor ``k(φ) = N(φ) cos φ / cos χ``
whatever the direction; ``k`` falls from ``a`` at the equator to about ``a - 21.3 km`` at the
poles. For two points at angle θ on the sphere: the great circle between them, stretched at
most by ``max k``, bounds the geodesic distance from above, and the geodesic, stretched at
least by ``min k``, bounds it from below, with ``k`` taken over the band of latitudes the two
paths can reach (:func:`scale_bounds`). The bounds are about 0.34 % apart worldwide and far
less within a band of a few degrees.

Every module of :mod:`reachplan.geodesy` filters candidates with these bounds only, and measures
what they cannot decide with ``pyproj.Geod(ellps="WGS84").inv``. Coordinates are always given
as (latitude, longitude), in degrees.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
_E = math.sqrt(GEOD.es)
ABS_TOL_RAD = 1e-12  # slack on an arc computed in floating point: 6 micrometres on the ground
PYPROJ_TOL_M = 1e-6  # pyproj's geodesics are exact to 15 nanometres
# bounds of k anywhere on Earth: at the equator (a) and at the pole
K_MAX = GEOD.a * (1 + 1e-9)
K_MIN = GEOD.a / math.sqrt(1 - GEOD.es) / ((1 + _E) / (1 - _E)) ** (_E / 2) * (1 - 1e-9)
RATIO = K_MAX / K_MIN


def conformal(lat: np.ndarray) -> np.ndarray:
    """Conformal latitude χ in radians of geodetic latitudes in degrees.

    Written with tan φ and atan so that it keeps full precision next to the poles.
    """
    phi = np.radians(lat)
    psi = np.arcsinh(np.tan(phi)) - _E * np.arctanh(_E * np.sin(phi))
    return np.arctan(np.sinh(psi))


def unit_vectors(chi: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Unit vectors (n x 3) of conformal latitudes ``chi`` (radians), longitudes in degrees."""
    lam = np.radians(lon)
    cos_chi = np.cos(chi)
    return np.column_stack((cos_chi * np.cos(lam), cos_chi * np.sin(lam), np.sin(chi)))


def arc(chord: np.ndarray) -> np.ndarray:
    """Angle (radians) between unit vectors ``chord`` apart."""
    return 2.0 * np.arcsin(np.minimum(chord * 0.5, 1.0))


def chord(angle: np.ndarray | float) -> np.ndarray:
    """Chord of an arc, rounded up so a ball query keeps every vector within the arc."""
    return 2.0 * np.sin(np.minimum(angle, math.pi) * 0.5) * (1 + 1e-12) + 1e-15


def reach(distance_m: np.ndarray | float, k_min: np.ndarray | float = K_MIN
          ) -> np.ndarray:
    """Largest arc of a geodesic at most ``distance_m`` long mapped to the sphere (the arc
    between its ends, and from its start to any of its points), where ``k_min`` bounds the
    scale from below along its image (by default anywhere on Earth)."""
    return np.asarray((distance_m + PYPROJ_TOL_M) / k_min + ABS_TOL_RAD)


def _scale_table() -> tuple[float, np.ndarray, np.ndarray]:
    """Step h and tables of k (metres per radian) at conformal latitudes 0, h, 2h, ... 90°.

    ``upper[j] >= k(χ)`` for ``χ >= j·h`` and ``lower[j] <= k(χ)`` for ``χ <= j·h``, as k falls
    monotonically (checked). Above 89.9° cos φ / cos χ loses precision, so there the tables
    hold k(89.9°) (upper) and the exact limit at the pole (lower),
    ``a / sqrt(1-e²) / ((1+e)/(1-e))^(e/2)``.
    """
    # 87-microradian cells: the bounds widen by under 1e-6 of k, and the table takes a
    # few hundredths of a second (it is built on a command's first query)
    steps = 18_000
    step = (math.pi / 2) / steps
    chi = np.arange(steps + 1) * step
    cap = np.radians(89.9)
    inner = chi[chi < cap]
    psi = np.arcsinh(np.tan(inner))
    phi = inner.copy()
    for _ in range(12):  # φ from χ: tan φ = sinh(ψ + e·atanh(e·sin φ)), a contraction (e²)
        phi = np.arctan(np.sinh(psi + _E * np.arctanh(_E * np.sin(phi))))
    if np.abs(conformal(np.degrees(phi)) - inner).max() > 1e-14:  # pragma: no cover
        raise RuntimeError("conformal latitude did not invert")
    k = GEOD.a / np.sqrt(1 - GEOD.es * np.sin(phi) ** 2) * np.cos(phi) / np.cos(inner)
    pole = GEOD.a / math.sqrt(1 - GEOD.es) / ((1 + _E) / (1 - _E)) ** (_E / 2)
    if not (np.all(np.diff(k) <= 0) and pole < k[-1]):  # pragma: no cover
        raise RuntimeError("conformal scale is not monotonic; geodesic filter unsafe")
    rest = chi.size - inner.size
    upper = np.append(k, np.full(rest, k[-1])) * (1 + 1e-9)
    lower = np.append(k, np.full(rest, pole)) * (1 - 1e-9)
    return step, upper, lower


# The tables take a noticeable part of a command's start-up: built on first use only.
_scale_tables = functools.cache(_scale_table)


def scale_bounds(chi: np.ndarray, within: np.ndarray | float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of k over conformal latitudes within ``within`` of ``chi``."""
    lo, hi = chi - within, chi + within
    a_lo = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
    a_hi = np.minimum(np.maximum(np.abs(lo), np.abs(hi)), math.pi / 2)
    step, k_upper, k_lower = _scale_tables()
    last = k_upper.size - 1
    # grid point at or below a_lo (k there is larger), at or above a_hi (smaller), one cell
    # further each way, so float rounding of the index cannot move past the bound
    i_lo = np.clip(np.floor(a_lo / step).astype(np.int64) - 1, 0, last)
    i_hi = np.clip(np.ceil(a_hi / step).astype(np.int64) + 1, 0, last)
    return k_lower[i_hi], k_upper[i_lo]
