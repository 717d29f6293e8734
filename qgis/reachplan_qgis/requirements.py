"""Whether reachplan can run in this QGIS: one clear message when it cannot."""

from __future__ import annotations

import importlib.util
import os
import sys

#: reachplan and the libraries these algorithms use (the rest come with reachplan)
NEEDED = ("reachplan", "geopandas", "shapely", "pyproj", "folium", "highspy", "osmium")
MINIMUM = (0, 2)


def missing() -> str | None:
    """None when reachplan (>= 0.2) and what it needs are importable by QGIS's Python; else
    what to install, and where."""
    absent = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if not absent:
        from reachplan import __version__

        found = tuple(int(part) for part in __version__.split(".")[:2] if part.isdigit())
        if found >= MINIMUM:
            return None
        absent = [f"reachplan>={'.'.join(map(str, MINIMUM))} (found {__version__})"]
    return (f"reachplan's QGIS algorithms need {', '.join(absent)} in the Python QGIS runs "
            f"({sys.executable}, Python {sys.version_info.major}.{sys.version_info.minor}): "
            f"install with '{sys.executable} -m pip install reachplan', or from the QGIS "
            "Python console: import pip; pip.main(['install', 'reachplan'])")


def load() -> str:
    """Import reachplan and the geospatial wheels it runs on, each bound to its own GEOS,
    PROJ and GDAL; returns their versions (one line for the log).

    Inside the QGIS application and qgis_process, QGIS's own GEOS, PROJ and GDAL (Debian's
    libgeos_c, libproj, libgdal) are in the process's global symbol scope, ahead of the
    copies the shapely, pyproj and pyogrio wheels bundle: a wheel's extension module would
    call QGIS's copy of a function compiled against another version (seen: shapely's
    ``to_wkb`` failing, then ``munmap_chunk(): invalid pointer``). Loaded with
    ``RTLD_DEEPBIND``, each extension module looks up its own libraries first. Every module
    with a compiled part is imported here, within that window; a later lazy import would
    bind to QGIS's copies again.
    """
    flags = sys.getdlopenflags()
    deep = getattr(os, "RTLD_DEEPBIND", 0)
    if deep and "shapely" not in sys.modules:
        sys.setdlopenflags(flags | deep)
    try:
        import pyogrio
        import pyogrio.raw  # noqa: F401 (its compiled readers)
        import pyproj
        import shapely

        import reachplan.capacity  # noqa: F401
        import reachplan.engine  # noqa: F401
        import reachplan.io  # noqa: F401
        import reachplan.maps  # noqa: F401
        import reachplan.planning  # noqa: F401
        import reachplan.roads  # noqa: F401
        from reachplan import __version__
    finally:
        sys.setdlopenflags(flags)
    return (f"reachplan {__version__}: GEOS {shapely.geos_version_string} (shapely), "
            f"PROJ {pyproj.proj_version_str} (pyproj), GDAL "
            f"{pyogrio.__gdal_version_string__} (pyogrio)")
