function reachplanMap(map, dataId, G) {
  "use strict";
  var data = JSON.parse(document.getElementById(dataId).textContent);
  var dist = data.districts, n = dist.id.length;
  // a level of detail: shapes (districts > polygons > rings > delta-coded x, y integers, one
  // chain through the level) and group outlines, (ring, first edge, edge count) triples
  function decode(level) {
    var s = level.scale, X = 0, Y = 0, rings = [], lines = [], runs = level.group_outlines;
    var shapes = level.shapes.map(function (polygons) {
      return polygons.map(function (polygon) {
        return polygon.map(function (r) {
          var out = new Array(r.length / 2);
          for (var i = 0; i < r.length; i += 2) {
            X += r[i]; Y += r[i + 1]; out[i / 2] = new L.LatLng(Y / s, X / s);
          }
          rings.push(out);
          return out;
        });
      });
    });
    for (var u = 0; u < runs.length; u += 3) {
      var ring = rings[runs[u]], m = ring.length, line = new Array(runs[u + 2] + 1);
      for (var t = 0; t <= runs[u + 2]; t++) line[t] = ring[(runs[u + 1] + t) % m];
      lines.push(line);
    }
    return {shapes: shapes, lines: lines};
  }
  var decoded = {};
  // the coarse level (fewer vertices) up to its zoom, the page's own level beyond
  function levelAt(zoom) {
    var name = data.coarse && zoom <= data.coarse.max_zoom ? "coarse" : "fine";
    if (!decoded[name]) decoded[name] = decode(name === "coarse" ? data.coarse : data);
    return name;
  }
  var colours = data.colours;
  // cluster bubbles and site stars are styled in reachplan-map.css from these variables
  map.getContainer().style.setProperty("--cp-cluster", colours.cluster);
  map.getContainer().style.setProperty("--cp-site", colours.site);
  function sw(c, extra) {
    return "<span class='cp-sw' style='background:" + c + (extra || "") + "'></span>";
  }
  function tip(i) {
    var g = dist.group[i] >= 0 ? data.groups[dist.group[i]] : null;
    var h = "<b>" + (dist.name[i] || dist.id[i]) + "</b>" + (g ? " (" + g + ")" : "") +
      "<br>id " + dist.id[i] + " · " + dist.centres[i] + " centre" +
      (dist.centres[i] === 1 ? "" : "s") + " inside<br>" +
      (dist.covered[i] ? "covered" : "<b>gap</b>");
    var tr = data.cost;  // a cost of the rule's own (minutes by road), not the distance
    if (tr) {
      h += " · " + (tr.nearest[i] === null ? "no centre reachable" + (tr.how ? " " + tr.how : "") :
                    "quickest centre " + tr.nearest[i] + " " + tr.label +
                    (tr.centre[i] ? " (" + tr.centre[i] + ")" : ""));
    }
    if (dist.nearest_km[i] !== null) {
      var nc = dist.nearest_centre[i];
      h += (tr ? "<br>" : " · ") + "nearest centre " + dist.nearest_km[i] + " km" +
        (tr ? " as the crow flies" : "") + (nc ? " (" + nc + ")" : "");
    }
    if (tr && tr.road_nodes_within_pct) {
      var p = tr.road_nodes_within_pct[i];
      h += "<br>" + (p === null ? "no road vertex inside" :
                     p + "% of its road vertices within " + tr.reach + " " + tr.unit);
    }
    return h;
  }
  var BASE = {weight: 0.6, color: "#555", opacity: 0.8, dashArray: null};
  var GAPSTYLE = {weight: 2, color: colours.gap_line, opacity: 1, dashArray: "5 3"};
  var gapShown = new Array(n);  // districts drawn with the gap outline
  // one canvas for every district and outline: ~100k vertices draw far faster than as SVG
  // paths, and Leaflet still finds the polygon under the mouse for tooltips
  var renderer = L.canvas({padding: 0.5});
  function hi(e) { e.target.setStyle({weight: 2.5, color: "#000", dashArray: null}); }
  function lo(e) { e.target.setStyle(gapShown[e.target.options.district] ? GAPSTYLE : BASE); }
  // fit first, so every shape is projected and drawn once, at the final zoom
  map.fitBounds(data.bbox, {animate: false, padding: [10, 10]});
  var level = levelAt(map.getZoom()), shapes = decoded[level].shapes;
  // smoothFactor 0: the shapes come simplified to about a pixel at the zooms each level is
  // drawn at, so Leaflet's own simplification of every vertex at each redraw (a tenth of
  // the page's load) would drop next to nothing
  function districts(target, colourOf) {
    var out = new Array(n);
    for (var i = 0; i < n; i++) {
      out[i] = null;
      if (!shapes[i].length) continue;
      var p = L.polygon(shapes[i], {renderer: renderer, district: i, smoothFactor: 0,
                                   weight: 0.6, color: "#555", opacity: 0.8,
                                   fillOpacity: colours.fill_opacity, fillColor: colourOf(i)});
      p.bindTooltip(tip.bind(null, i), {sticky: true});
      p.on("mouseover", hi).on("mouseout", lo);
      target.addLayer(p);
      out[i] = p;
    }
    return out;
  }
  var layers = districts(G.districts, function (i) {
    return data.classes[dist.colour_class[i]].color;
  });
  var beforeLayers = null;
  if (G.before && data.before) {
    beforeLayers = districts(G.before, function (i) {
      var c = data.before.covered[i];
      return c < 0 ? colours.nodata : (c ? colours.covered : colours.gap);
    });
  }
  // the gaps layer draws nothing itself: while it is on, gap districts get a dashed outline
  function highlightGaps(on) {
    for (var i = 0; i < n; i++) {
      if (!dist.covered[i] && layers[i]) {
        gapShown[i] = on;
        layers[i].setStyle(on ? GAPSTYLE : BASE);
        if (on && map.hasLayer(layers[i])) layers[i].bringToFront();
      }
    }
  }
  G.gaps.on("add", function () { highlightGaps(true); });
  G.gaps.on("remove", function () { highlightGaps(false); });
  G.districts.on("add", function () { highlightGaps(map.hasLayer(G.gaps)); });
  if (map.hasLayer(G.gaps)) highlightGaps(true);
  var outlines = null;
  if (G.outlines && data.group_outlines.length) {
    outlines = L.polyline(decoded[level].lines, {renderer: renderer, color: "#222", weight: 1.3,
                                                 smoothFactor: 0, interactive: false});
    G.outlines.addLayer(outlines);
  }
  map.on("zoomend", function () {
    var now = levelAt(map.getZoom());
    if (now === level) return;
    level = now;
    [layers, beforeLayers].forEach(function (list) {
      for (var i = 0; list && i < n; i++) if (list[i]) list[i].setLatLngs(decoded[now].shapes[i]);
    });
    if (outlines) outlines.setLatLngs(decoded[now].lines);
  });
  function cell(table, k, i) {
    var v = table.data[k][i];
    if (table.dictionaries[k]) v = v < 0 ? null : table.dictionaries[k][v];
    return v === null ? "" : v;
  }
  function popup(table, i) {
    var h = "<table class='cp-pop'>";
    for (var k = 0; k < table.columns.length; k++) {
      h += "<tr><td>" + table.columns[k] + "</td><td>" + cell(table, k, i) + "</td></tr>";
    }
    return h + "</table>";
  }
  var centres = data.centres, markers = new Array(centres.lat.length);
  // centres, rings and sites come once the districts are on the screen (the page shows the
  // districts first, and the clustering of thousands of centres follows)
  function addPoints() {
    for (var j = 0; j < centres.lat.length; j++) {
      markers[j] = L.circleMarker([centres.lat[j], centres.lon[j]], {
        radius: 6, weight: 1, color: "#fff", fillOpacity: 0.95, className: "cp-centre",
        fillColor: centres.types.length ? centres.types[centres.type[j]].color : colours.centre
      }).bindPopup(popup.bind(null, centres, j));
    }
    G.centres.addLayers(markers);
    if (G.rings && data.ring_m) {
      var canvas = L.canvas();
      for (var r = 0; r < centres.lat.length; r++) {
        G.rings.addLayer(L.circle([centres.lat[r], centres.lon[r]], {
          radius: data.ring_m, renderer: canvas, weight: 1, color: "#444", fillOpacity: 0.04,
          interactive: false}));
      }
    }
    if (G.sites && data.sites) {
      var sites = data.sites;
      for (var q = 0; q < sites.lat.length; q++) {
        G.sites.addLayer(L.marker([sites.lat[q], sites.lon[q]], {icon: L.divIcon({
          className: "cp-site", html: "&#9733;", iconSize: [20, 20]})}).bindPopup(
            popup.bind(null, sites, q)));
      }
    }
  }
  // a panel is a <details>: its heading opens and closes it; it starts closed when, open,
  // it would cover a district at the first view (small windows)
  var panels = [];
  function panel(pos, heading, html, cls) {
    var c = L.control({position: pos});
    c.onAdd = function () {
      var div = L.DomUtil.create("details", "cp-panel " + cls);
      div.open = true;
      div.innerHTML = "<summary>" + heading + "</summary>" + html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    panels.push(c.addTo(map));
  }
  function covers(box) {
    var rect = L.bounds(L.point(box.left, box.top), L.point(box.right, box.bottom));
    var origin = map.getContainer().getBoundingClientRect();
    rect = L.bounds(rect.min.subtract([origin.left, origin.top]),
                    rect.max.subtract([origin.left, origin.top]));
    for (var i = 0; i < n; i++) {
      if (!layers[i]) continue;
      var b = layers[i].getBounds();
      var px = L.bounds(map.latLngToContainerPoint(b.getNorthWest()),
                        map.latLngToContainerPoint(b.getSouthEast()));
      if (rect.intersects(px)) return true;
    }
    return false;
  }
  function foldPanels() {
    panels.forEach(function (c) {
      var el = c.getContainer();
      if (covers(el.getBoundingClientRect())) el.open = false;
    });
  }
  var counts = data.classes.map(function () { return 0; });
  dist.colour_class.forEach(function (k) { counts[k] += 1; });
  var lg = "<h4>" + data.heading + "</h4><div class='cp-rule'>covered: " + data.rule + "</div>";
  data.classes.forEach(function (c, k) {
    lg += sw(c.color) + c.label + " (<span class='cp-count'>" + counts[k] + "</span>)<br>";
  });
  lg += sw("none", ";border:2px dashed " + colours.gap_line) + "gap outline<br>";
  if (centres.types.length) {
    lg += "<h4>" + centres.heading + "</h4>";
    centres.types.forEach(function (t) {
      lg += sw(t.color, ";border-radius:50%") + t.label + "<br>";
    });
  }
  if (data.before) {
    lg += "<h4>Before (layer)</h4>" + sw(colours.covered) + "covered<br>" +
      sw(colours.gap) + "gap<br>";
  }
  if (data.sites) lg += "<span class='cp-site'>&#9733;</span> proposed site<br>";
  if (data.isochrones) {
    lg += "<h4>Service areas (layers)</h4>";
    data.isochrones.forEach(function (c) { lg += sw(c.color) + c.label + "<br>"; });
  }
  panel("bottomright", "Legend", lg, "cp-legend");
  var sm = data.summary.join("<br>");
  if (data.before) sm += "<h4>Before</h4>" + data.before.summary.join("<br>");
  panel("bottomleft", "Summary", sm, "cp-summary");
  foldPanels();
  if (data.title) {
    L.DomUtil.create("div", "cp-title", map.getContainer()).innerHTML = data.title;
  }
  function label(i) {
    var g = dist.group[i] >= 0 ? " — " + data.groups[dist.group[i]] : "";
    return (dist.name[i] || "") + g + " (" + dist.id[i] + ")";
  }
  var search = L.control({position: "topleft"});
  search.onAdd = function () {
    var div = L.DomUtil.create("div", "cp-panel cp-search");
    div.innerHTML = "<input type='search' placeholder='Find a district…' aria-label=" +
      "'Find a district' list='" + dataId + "_list'><datalist id='" + dataId + "_list'>" +
      "</datalist>";
    var input = div.querySelector("input"), list = div.querySelector("datalist");
    // one option per district, made when the box is first used, not while the page loads
    function fill() {
      if (list.options.length) return;
      var opts = [];
      for (var i = 0; i < n; i++) opts.push("<option value=\"" + label(i) + "\">");
      list.innerHTML = opts.join("");
    }
    function go() {
      fill();
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
    L.DomEvent.on(input, "focus", fill);
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
  var api = {map: map, districts: layers, centres: markers, data: data, drawn: false,
             complete: false, layers: G};
  // district i covered or not, with `inside` centres (the what-if page's changes): its
  // colour, its gap outline while the gaps layer is on, and its tooltip
  api.setCovered = function (i, covered, inside) {
    dist.covered[i] = covered ? 1 : 0;
    dist.centres[i] = inside;
    var now = covered ? 0 : 1, was = dist.colour_class[i];  // the status classes
    if (data.classes.length === 2 && was !== now) {
      counts[was] -= 1; counts[now] += 1; dist.colour_class[i] = now;
      var spans = map.getContainer().querySelectorAll(".cp-legend .cp-count");
      for (var k = 0; k < spans.length && k < counts.length; k++) {
        spans[k].textContent = String(counts[k]);
      }
    }
    if (!layers[i]) return;
    gapShown[i] = !covered && map.hasLayer(G.gaps);
    var style = gapShown[i] ? GAPSTYLE : BASE;
    layers[i].setStyle({fillColor: covered ? colours.covered : colours.gap, weight: style.weight,
                        color: style.color, opacity: style.opacity, dashArray: style.dashArray});
    if (gapShown[i] && map.hasLayer(layers[i])) layers[i].bringToFront();
  };
  // the hour slider (reachplan map --week): each district covered or gap in that hour
  if (data.week) {
    var wk = data.week, DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
    var coveredAt = function (i, h) {
      return (parseInt(wk.covered[i].charAt(h >> 2), 16) >> (3 - (h & 3))) & 1;
    };
    var hourControl = L.control({position: "topright"});
    hourControl.onAdd = function () {
      var div = L.DomUtil.create("div", "cp-panel cp-hour");
      var text = L.DomUtil.create("div", "cp-hour-label", div);
      var input = L.DomUtil.create("input", "", div);
      input.type = "range"; input.min = "0"; input.max = "167"; input.step = "1";
      input.setAttribute("aria-label", "hour of the week");
      api.showHour = function (h) {
        input.value = String(h);
        text.textContent = DAYS[Math.floor(h / 24)] + " " + (h % 24 < 10 ? "0" : "") +
          (h % 24) + ":00 (week of " + wk.start + "): " + wk.percent[h] +
          "% of districts covered";
        for (var i = 0; i < n; i++) {
          if (layers[i]) {
            layers[i].setStyle({fillColor: coveredAt(i, h) ? colours.covered : colours.gap});
          }
        }
      };
      L.DomEvent.on(input, "input", function () { api.showHour(parseInt(input.value, 10)); });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    hourControl.addTo(map);
    api.showHour(wk.hour);
  }
  // the threshold selector (several thresholds): each district covered or gap within one
  if (data.thresholds) {
    var th = data.thresholds;
    var thresholdControl = L.control({position: "topright"});
    thresholdControl.onAdd = function () {
      var div = L.DomUtil.create("div", "cp-panel cp-threshold");
      var select = L.DomUtil.create("select", "", div);
      var text = L.DomUtil.create("div", "cp-threshold-label", div);
      select.setAttribute("aria-label", "threshold");
      th.labels.forEach(function (lab, k) {
        var option = L.DomUtil.create("option", "", select);
        option.value = String(k);
        option.innerHTML = "within " + lab;  // escaped HTML, as every text of data
      });
      api.showThreshold = function (k) {
        select.value = String(k);
        text.textContent = th.percent[k] + "% of districts covered";
        for (var i = 0; i < n; i++) {
          if (layers[i]) {
            var hit = th.covered[k].charAt(i) === "1";
            layers[i].setStyle({fillColor: hit ? colours.covered : colours.gap});
          }
        }
      };
      L.DomEvent.on(select, "change", function () {
        api.showThreshold(parseInt(select.value, 10));
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    thresholdControl.addTo(map);
    api.showThreshold(th.index);
  }
  window.reachplanMaps = window.reachplanMaps || {};
  window.reachplanMaps[dataId] = api;
  // animation frames run in the order they were asked for: the canvas asked first, so when
  // this one runs, every district is on the screen; the points follow after that frame
  // (drawnAt and completeAt: milliseconds since navigation start, for benchmarks)
  L.Util.requestAnimFrame(function () {
    api.drawn = true;
    api.drawnAt = performance.now();
    setTimeout(function () {
      addPoints();
      api.complete = true;
      api.completeAt = performance.now();
    }, 0);
  });
}
