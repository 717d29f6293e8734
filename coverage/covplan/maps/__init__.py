"""Coverage maps: an interactive Leaflet map (folium) and a static picture (matplotlib).

The interactive map is one folium ``Map`` whose layers are filled by a small script from one
compact JSON block, so the India default (about 780 districts, 2,000 centres) stays near 1 MB.

* :mod:`~covplan.maps.geometry`: coverage simplification in metres and delta-encoded polygons;
* :mod:`~covplan.maps.payload`: the data block (districts, classes, centres, summary);
* :mod:`~covplan.maps.page`: the folium page and its browser code (``static/``);
* :mod:`~covplan.maps.png`: the static picture.
"""

from covplan.maps.geometry import DEFAULT_SIMPLIFY_M
from covplan.maps.page import coverage_map, map_html, write_map
from covplan.maps.payload import COLOR_BY
from covplan.maps.png import write_png

__all__ = [
    "COLOR_BY",
    "DEFAULT_SIMPLIFY_M",
    "coverage_map",
    "map_html",
    "write_map",
    "write_png",
]
