"""Coverage maps: an interactive Leaflet map (folium) and a static picture (matplotlib).

The interactive map is one folium ``Map`` whose layers are filled by a small script from one
compact JSON block, so the India default (about 780 districts, 2,000 centres) stays near 1 MB.

* :mod:`~reachplan.maps.geometry`: coverage simplification in metres and delta-encoded polygons;
* :mod:`~reachplan.maps.payload`: the data block (districts, classes, centres, summary);
* :mod:`~reachplan.maps.page`: the folium page and its browser code (``static/``);
* :mod:`~reachplan.maps.png`: the static picture.
"""

from reachplan.maps.geometry import DEFAULT_SIMPLIFY_M
from reachplan.maps.page import coverage_map, map_html, write_map
from reachplan.maps.payload import COLOR_BY
from reachplan.maps.png import write_png

__all__ = [
    "COLOR_BY",
    "DEFAULT_SIMPLIFY_M",
    "coverage_map",
    "map_html",
    "write_map",
    "write_png",
]
