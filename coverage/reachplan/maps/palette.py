"""The maps' colours: coverage classes, centre types, clusters and sites that cannot be confused.

Chosen so that every pair (districts as seen, i.e. the fill at :data:`FILL_OPACITY` over a white
base map; markers opaque) is at least 20 CIE Lab units apart (ΔE*ab; about ten times a just
noticeable difference) for normal vision and under simulated deuteranopia and protanopia;
``tests/test_maps_palette.py`` checks it with colorspacious. Coverage is sky blue (covered)
against light orange (gap), the colour-blind-safe pair; centre types are darker colours from
Paul Tol's and Okabe & Ito's sets that sit apart from both fills; cluster bubbles are white with a
dark ring and number, neither a fill nor a type colour.
"""

from __future__ import annotations

FILL_OPACITY = 0.65
COVERED = "#56b4e9"   # Okabe-Ito sky blue
GAP = "#fdae61"       # ColorBrewer RdYlBu light orange
NODATA = "#737373"    # grey: no weight (per-weight colouring), unknown before a plan
GAP_LINE = "#b2182b"  # dashed outline of gap districts
CLUSTER = "#ffffff"   # MarkerCluster bubbles (dark ring and number, see reachplan-map.css)
SITE = "#332288"      # proposed sites (a star; Tol indigo)
#: Centre types in the order of their sorted names; a seventh type reuses the first colour.
TYPES = ("#0072b2", "#882255", "#117733", "#000000", "#f0e442", "#999933")
#: Classed colourings (centres inside, centres per weight): light to dark, YlGnBu.
SEQUENTIAL = ("#f0f0f0", "#c7e9b4", "#7fcdbb", "#1d91c0", "#0c2c84")
RATES = ("#f0f0f0", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#0c2c84")
#: Service areas (isochrones), shortest band first: dark to light purple (ColorBrewer Purples),
#: drawn as outlines with a light fill so the district colours stay readable beneath them.
ISOCHRONES = ("#54278f", "#756bb1", "#9e9ac8", "#cbc9e2")
ISOCHRONE_FILL_OPACITY = 0.15
