function covplanMap(map, dataId, G) {
  "use strict";
  var D = JSON.parse(document.getElementById(dataId).textContent);
  var d = D.d, n = d.id.length, s = D.scale, X = 0, Y = 0, all = [];
  function decode(p) {
    return p.map(function (rings) {
      return rings.map(function (r) {
        var out = new Array(r.length / 2);
        for (var i = 0; i < r.length; i += 2) {
          X += r[i]; Y += r[i + 1]; out[i / 2] = [Y / s, X / s];
        }
        all.push(out);
        return out;
      });
    });
  }
  var shapes = D.g.map(decode);
  var GAP = "#b2182b", COV = "#1b9e77", NOCOV = "#d95f02", NODATA = "#bdbdbd";
  function sw(c, extra) {
    return "<span class='cp-sw' style='background:" + c + (extra || "") + "'></span>";
  }
  function tip(i) {
    var g = d.group[i] >= 0 ? D.groups[d.group[i]] : null;
    var h = "<b>" + (d.name[i] || d.id[i]) + "</b>" + (g ? " (" + g + ")" : "") +
      "<br>id " + d.id[i] + " · " + d.n[i] + " centre" + (d.n[i] === 1 ? "" : "s") +
      " inside<br>" + (d.cov[i] ? "covered" : "<b>gap</b>");
    if (d.km[i] !== null) {
      h += " · nearest centre " + d.km[i] + " km" + (d.nc[i] ? " (" + d.nc[i] + ")" : "");
    }
    return h;
  }
  var BASE = {weight: 0.6, color: "#555", opacity: 0.8, dashArray: null};
  var GAPSTYLE = {weight: 2, color: GAP, opacity: 1, dashArray: "5 3"};
  function hi(e) { e.target.setStyle({weight: 2.5, color: "#000", dashArray: null}); }
  function lo(e) { e.target.setStyle(e.target._cpStyle || BASE); }
  // fit first, so every shape is projected and drawn once, at the final zoom
  map.fitBounds(D.bbox, {animate: false, padding: [10, 10]});
  function districts(target, colourOf, cls) {
    var out = new Array(n);
    for (var i = 0; i < n; i++) {
      out[i] = null;
      if (!shapes[i].length) continue;
      var p = L.polygon(shapes[i], {className: cls, weight: 0.6, color: "#555", opacity: 0.8,
                                   fillOpacity: 0.65, fillColor: colourOf(i)});
      p.bindTooltip(tip.bind(null, i), {sticky: true});
      p.on("mouseover", hi).on("mouseout", lo);
      target.addLayer(p);
      out[i] = p;
    }
    return out;
  }
  var layers = districts(G.districts, function (i) { return D.classes[d.cls[i]].color; },
                         "cp-district");
  if (G.before && D.before) {
    districts(G.before, function (i) {
      var c = D.before.cov[i]; return c < 0 ? NODATA : (c ? COV : NOCOV);
    }, "cp-district-before");
  }
  // the gaps layer draws nothing itself: while it is on, gap districts get a dashed outline
  function highlightGaps(on) {
    for (var i = 0; i < n; i++) {
      if (!d.cov[i] && layers[i]) {
        layers[i]._cpStyle = on ? GAPSTYLE : null;
        layers[i].setStyle(on ? GAPSTYLE : BASE);
        if (on && map.hasLayer(layers[i])) layers[i].bringToFront();
      }
    }
  }
  G.gaps.on("add", function () { highlightGaps(true); });
  G.gaps.on("remove", function () { highlightGaps(false); });
  G.districts.on("add", function () { highlightGaps(map.hasLayer(G.gaps)); });
  if (map.hasLayer(G.gaps)) highlightGaps(true);
  if (G.outlines && D.go.length) {
    var lines = [];
    for (var u = 0; u < D.go.length; u += 3) {
      var ring = all[D.go[u]], m = ring.length, line = new Array(D.go[u + 2] + 1);
      for (var t = 0; t <= D.go[u + 2]; t++) line[t] = ring[(D.go[u + 1] + t) % m];
      lines.push(line);
    }
    G.outlines.addLayer(L.polyline(lines, {className: "cp-outline", color: "#222", weight: 1.3,
                                           interactive: false}));
  }
  function cell(T, k, i) {
    var v = T.data[k][i];
    if (T.dicts[k]) v = v < 0 ? null : T.dicts[k][v];
    return v === null ? "" : v;
  }
  function popup(T, i) {
    var h = "<table class='cp-pop'>";
    for (var k = 0; k < T.cols.length; k++) {
      h += "<tr><td>" + T.cols[k] + "</td><td>" + cell(T, k, i) + "</td></tr>";
    }
    return h + "</table>";
  }
  var C = D.c, markers = new Array(C.lat.length);
  for (var j = 0; j < C.lat.length; j++) {
    markers[j] = L.circleMarker([C.lat[j], C.lon[j]], {
      radius: 6, weight: 1, color: "#fff", fillOpacity: 0.95, className: "cp-centre",
      fillColor: C.types.length ? C.types[C.t[j]].color : "#0072b2"
    }).bindPopup(popup.bind(null, C, j));
  }
  G.centres.addLayers(markers);
  if (G.rings && D.radius_m) {
    var canvas = L.canvas();
    for (var r = 0; r < C.lat.length; r++) {
      G.rings.addLayer(L.circle([C.lat[r], C.lon[r]], {
        radius: D.radius_m, renderer: canvas, weight: 1, color: "#444", fillOpacity: 0.04,
        interactive: false}));
    }
  }
  if (G.sites && D.sites) {
    var S = D.sites;
    for (var q = 0; q < S.lat.length; q++) {
      G.sites.addLayer(L.marker([S.lat[q], S.lon[q]], {icon: L.divIcon({
        className: "cp-site", html: "&#9733;", iconSize: [20, 20]})}).bindPopup(
          popup.bind(null, S, q)));
    }
  }
  function panel(pos, html, cls) {
    var c = L.control({position: pos});
    c.onAdd = function () {
      var div = L.DomUtil.create("div", "cp-panel " + (cls || ""));
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    return c.addTo(map);
  }
  var counts = D.classes.map(function () { return 0; });
  d.cls.forEach(function (k) { counts[k] += 1; });
  var lg = "<h4>" + D.heading + "</h4>";
  D.classes.forEach(function (c, k) {
    lg += sw(c.color) + c.label + " (" + counts[k] + ")<br>";
  });
  lg += sw("none", ";border:2px dashed " + GAP) + "gap outline<br>";
  if (C.types.length) {
    lg += "<h4>Centre type</h4>";
    C.types.forEach(function (t) { lg += sw(t.color, ";border-radius:50%") + t.label + "<br>"; });
  }
  if (D.before) {
    lg += "<h4>Before (layer)</h4>" + sw(COV) + "covered<br>" + sw(NOCOV) + "gap<br>";
  }
  if (D.sites) lg += "<span class='cp-site'>&#9733;</span> proposed site<br>";
  panel("bottomright", lg, "cp-legend");
  var sm = "<h4>Summary</h4>" + D.summary.join("<br>");
  if (D.before) sm += "<h4>Before</h4>" + D.before.summary.join("<br>");
  panel("bottomleft", sm, "cp-summary");
  if (D.title) {
    L.DomUtil.create("div", "cp-title", map.getContainer()).innerHTML = D.title;
  }
  function label(i) {
    var g = d.group[i] >= 0 ? " — " + D.groups[d.group[i]] : "";
    return (d.name[i] || "") + g + " (" + d.id[i] + ")";
  }
  var search = L.control({position: "topleft"});
  search.onAdd = function () {
    var div = L.DomUtil.create("div", "cp-panel cp-search"), opts = [];
    for (var i = 0; i < n; i++) opts.push("<option value=\"" + label(i) + "\">");
    div.innerHTML = "<input type='search' placeholder='Find a district…' aria-label=" +
      "'Find a district' list='" + dataId + "_list'><datalist id='" + dataId + "_list'>" +
      opts.join("") + "</datalist>";
    var input = div.querySelector("input"), list = div.querySelector("datalist");
    function go() {
      var v = input.value.trim().toLowerCase(), o = list.options, hit = -1, k;
      if (!v) return;
      for (k = 0; k < o.length && hit < 0; k++) if (o[k].value.toLowerCase() === v) hit = k;
      for (k = 0; k < o.length && hit < 0; k++) {
        if (o[k].value.toLowerCase().indexOf(v) === 0) hit = k;
      }
      if (hit < 0 || !layers[hit]) return;
      var b = layers[hit].getBounds();
      map.fitBounds(b, {maxZoom: 9});
      layers[hit].openTooltip(b.getCenter());
      hi({target: layers[hit]});
    }
    L.DomEvent.on(input, "change", go);
    L.DomEvent.on(input, "keydown", function (e) { if (e.key === "Enter") go(); });
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  search.addTo(map);
  var fs = L.control({position: "topleft"});
  fs.onAdd = function () {
    var b = L.DomUtil.create("button", "leaflet-bar cp-fs");
    b.type = "button"; b.title = "Full screen";
    b.innerHTML = "<svg width='16' height='16' viewBox='0 0 16 16' fill='none' " +
      "stroke='#333' stroke-width='2'><path d='M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5'/></svg>";
    L.DomEvent.on(b, "click", function (e) {
      L.DomEvent.stop(e);
      var el = map.getContainer();
      if (document.fullscreenElement) document.exitFullscreen();
      else if (el.requestFullscreen) el.requestFullscreen();
    });
    return b;
  };
  fs.addTo(map);
  document.addEventListener("fullscreenchange", function () { map.invalidateSize(); });
  window.covplanMaps = window.covplanMaps || {};
  window.covplanMaps[dataId] = {map: map, districts: layers, centres: markers, data: D};
}
