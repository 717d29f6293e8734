/* The planner's minimal page: site markers that toggle on click, the figures box, districts
 * recoloured on every change. Panels, scenarios and exports build on window.reachplan. */
(window.reachplanPlannerParts = window.reachplanPlannerParts || []).push(function (api, map) {
  "use strict";
  var I = api._internal, data = I.data, esc = I.esc;
  var maps = window.reachplanMaps && window.reachplanMaps[I.mapsKey];
  var canvas = L.canvas({padding: 0.5});
  var markers = [];
  var candidates = I.layers.candidates || L.layerGroup();
  var existing = maps && maps.layers.centres ? maps.layers.centres : L.layerGroup().addTo(map);
  function style(s) {
    var on = I.isOpen(s);
    return {radius: on ? 6 : 4, weight: 1, color: on ? "#fff" : "#555",
            fillColor: on ? (s < data.sites.n && data.sites.candidate[s] ? "#6a3d9a" : "#2166ac")
              : "#bbb", fillOpacity: on ? 0.95 : 0.6};
  }
  function marker(s) {
    var lat = s < data.sites.n ? data.sites.lat[s] : I.added[s - data.sites.n].lat;
    var lon = s < data.sites.n ? data.sites.lon[s] : I.added[s - data.sites.n].lon;
    var m = L.circleMarker([lat, lon], style(s));
    m.options.renderer = canvas;
    m.on("click", function () { api.toggle(s); });
    m.bindTooltip(function () {
      var name = s < data.sites.n ? data.sites.name[s] : I.added[s - data.sites.n].name;
      return esc(name) + (I.isOpen(s) ? " (open: click to close)" : " (closed: click to open)");
    });
    markers[s] = m;
    return m;
  }
  var first = [];
  for (var s = 0; s < data.sites.n; s++) {
    if (!data.sites.candidate[s] || data.sites.open[s]) first.push(marker(s));
  }
  if (existing.addLayers) existing.addLayers(first);
  else first.forEach(function (m) { existing.addLayer(m); });
  // the other candidates (thousands) are drawn when their layer is first shown
  function fill() {
    for (var c = 0; c < data.sites.n; c++) {
      if (data.sites.candidate[c] && !data.sites.open[c]) candidates.addLayer(marker(c));
    }
  }
  if (map.hasLayer(candidates)) fill(); else candidates.once("add", fill);
  var box = L.control({position: "topright"});
  var boxDiv;
  box.onAdd = function () {
    boxDiv = L.DomUtil.create("div", "cp-panel cp-figures");
    boxDiv.setAttribute("aria-live", "polite");
    L.DomEvent.disableClickPropagation(boxDiv);
    return boxDiv;
  };
  box.addTo(map);
  // the map's own summary panel is of the page's first state: the box replaces it
  Array.prototype.forEach.call(map.getContainer().querySelectorAll(".cp-summary"),
                               function (el) { el.parentNode.removeChild(el); });
  var shown = new Uint8Array(I.covered.length).fill(2), inside = new Int32Array(shown.length);
  function pct(x) { return x === null ? "–" : x.toFixed(2) + "%"; }
  function refresh() {
    var sm = api.summary(), s0 = sm.summary;
    var h = "<b>What if</b>" + (maps ? " <span class='cp-rule'>covered: " + maps.data.rule +
      "</span>" : "") + "<br>Districts covered: " + s0.covered + " of " + s0.districts +
      " (" + pct(s0.percent) + ")";
    if (s0.weight_percent !== null) h += "<br>Weight covered: " + pct(s0.weight_percent);
    if (sm.demand) h += "<br>Demand points covered: " + pct(sm.demand.percent);
    I.figures.forEach(function (fn) {
      var f = fn(sm);
      if (f) h += "<br>" + esc(f.label) + ": " + f.html;
    });
    boxDiv.innerHTML = h;
    if (maps) {
      for (var d = 0; d < I.covered.length; d++) {
        if (shown[d] !== I.covered[d] || inside[d] !== I.inside[d]) {
          shown[d] = I.covered[d];
          inside[d] = I.inside[d];
          maps.setCovered(d, I.covered[d], I.inside[d]);
        }
      }
    }
  }
  I.refresh = refresh;
  api.on(function (change) {
    if (change.site !== undefined && markers[change.site]) {
      markers[change.site].setStyle(style(change.site));
    }
    if (change.added !== undefined) existing.addLayer(marker(change.added));
    refresh();
  });
  refresh();
});
