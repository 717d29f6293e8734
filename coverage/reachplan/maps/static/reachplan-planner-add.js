/* reachplan.add(lat, lon, name): a site clicked anywhere, decided as the library decides it
 * (reachplan/geodesy/polygons.py) on the districts' full-precision boundaries:
 * - inside a district or on its boundary: distance 0 (presence reaches it);
 * - else the geodesic WGS84 distance (geographiclib, the npm package geographiclib-geodesic)
 *   to the boundary, its edges straight in lon/lat and densified to 0.01 degrees, each edge
 *   measured in the site's azimuthal-equidistant plane;
 * - demand points: the geodesic distance from the site, within the radius.
 * Districts and points far beyond the reach are skipped by a bounding box in degrees. */
(window.reachplanPlannerParts = window.reachplanPlannerParts || []).push(function (api) {
  "use strict";
  var I = api._internal, data = I.data, B = data.districts.boundary;
  var D = data.districts.id.length, P = data.points, pyRound = I.pyRound;
  var G = window.geodesic.Geodesic.WGS84;
  var SEGMENT_DEG = 0.01, MAX_CURVATURE_M = 6399594.0, RAD = Math.PI / 180;
  // each district's bounding box [south, west, north, east]
  var boxes = new Float64Array(4 * D);
  for (var d = 0; d < D; d++) {
    var s = Infinity, w = Infinity, n = -Infinity, e = -Infinity;
    for (var v = B.ring_off[B.ring_start[d]]; v < B.ring_off[B.ring_start[d + 1]]; v++) {
      s = Math.min(s, B.lat[v]); n = Math.max(n, B.lat[v]);
      w = Math.min(w, B.lon[v]); e = Math.max(e, B.lon[v]);
    }
    boxes.set([s, w, n, e], 4 * d);
  }
  // inside or on the boundary (as shapely's intersects): even-odd over every ring
  function covers(d, lat, lon) {
    var inside = false;
    for (var r = B.ring_start[d]; r < B.ring_start[d + 1]; r++) {
      for (var v = B.ring_off[r]; v < B.ring_off[r + 1] - 1; v++) {
        var x1 = B.lon[v], y1 = B.lat[v], x2 = B.lon[v + 1], y2 = B.lat[v + 1];
        var cross = (x2 - x1) * (lat - y1) - (y2 - y1) * (lon - x1);
        if (cross === 0 && lon >= Math.min(x1, x2) && lon <= Math.max(x1, x2) &&
            lat >= Math.min(y1, y2) && lat <= Math.max(y1, y2)) return true;
        if ((y1 > lat) !== (y2 > lat) &&
            lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1)) inside = !inside;
      }
    }
    return inside;
  }
  function frame(lat, lon, vlat, vlon) {
    var g = G.Inverse(lat, lon, vlat, vlon), a = g.azi1 * RAD;
    return {d: g.s12, x: g.s12 * Math.sin(a), y: g.s12 * Math.cos(a)};
  }
  // one edge (densified as shapely.segmentize does) from the site's plane
  function edgeDistance(lat, lon, x1, y1, x2, y2, best) {
    var len = Math.hypot(x2 - x1, y2 - y1), count = len > SEGMENT_DEG ?
      Math.ceil(len / SEGMENT_DEG) : 1, step = len / count;
    var prev = frame(lat, lon, y1, x1), px = x1, py = y1;
    best = Math.min(best, prev.d);
    for (var j = 1; j <= count; j++) {
      var f = j === count ? 1 : (j * step) / len;
      var qx = j === count ? x2 : x1 + f * (x2 - x1), qy = j === count ? y2 : y1 + f * (y2 - y1);
      var next = frame(lat, lon, qy, qx);
      var dx = next.x - prev.x, dy = next.y - prev.y, l2 = dx * dx + dy * dy;
      var t = l2 > 0 ? Math.min(1, Math.max(0, -(prev.x * dx + prev.y * dy) / l2)) : 0;
      var planar = Math.hypot(prev.x + t * dx, prev.y + t * dy);
      var span = MAX_CURVATURE_M * Math.hypot((qy - py) * RAD, (qx - px) * RAD);
      best = Math.min(best, next.d, Math.max(planar, Math.min(prev.d, next.d) - span));
      prev = next; px = qx; py = qy;
    }
    return best;
  }
  function distanceTo(d, lat, lon) {
    if (covers(d, lat, lon)) return 0;
    var best = Infinity;
    for (var r = B.ring_start[d]; r < B.ring_start[d + 1]; r++) {
      for (var v = B.ring_off[r]; v < B.ring_off[r + 1] - 1; v++) {
        best = edgeDistance(lat, lon, B.lon[v], B.lat[v], B.lon[v + 1], B.lat[v + 1], best);
      }
    }
    return best;
  }
  // degrees of latitude and longitude that hold every point within metres of lat
  function margins(lat, metres) {
    var dlat = metres / 110000 + 0.01, top = Math.min(89.9, Math.abs(lat) + dlat);
    return [dlat, Math.min(360, dlat / Math.cos(top * RAD))];
  }
  // a cost the page cannot measure (minutes by road): it holds its sites' and candidates'
  // costs only, so add() says why (the message is also _internal.addBlocked for the UI)
  if (!data.presence && data.reach_m === null) {
    I.addBlocked = "A site cannot be added here: the rule is " + data.cost.text + ", and " +
      "this page holds the road minutes of its sites and candidates only (computed when it " +
      "was made). Switch on a candidate instead, or make the page again with this place in " +
      "--candidates.";
  }
  api.add = function (lat, lon, name) {
    if (typeof lat !== "number" || typeof lon !== "number" || !isFinite(lat) ||
        !isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      throw new Error("add: lat must be -90..90 and lon -180..180 (degrees)");
    }
    if (I.addBlocked) throw new Error(I.addBlocked);
    var reach = data.reach_m === null ? 0 : data.reach_m, near = data.reach.near_m;
    var m = margins(lat, Math.max(near, reach)), out = {district: [], flags: [], cost_m: [],
                                                         point: null};
    for (var d = 0; d < D; d++) {
      var b = boxes.subarray(4 * d, 4 * d + 4);
      if (lat < b[0] - m[0] || lat > b[2] + m[0] || lon < b[1] - m[1] || lon > b[3] + m[1]) {
        continue;
      }
      var dist = distanceTo(d, lat, lon);
      if (dist > Math.max(near, reach)) continue;
      var inReach = data.presence ? dist === 0 : dist <= reach;
      out.district.push(d);
      out.flags.push((inReach ? 1 : 0) | (dist === 0 ? 2 : 0));
      out.cost_m.push(Math.round(pyRound(dist / 1000, 3) * 1000));
    }
    if (P) {
      out.point = [];
      var pm = margins(lat, reach);
      for (var p = 0; p < P.n; p++) {
        if (Math.abs(P.lat[p] - lat) > pm[0]) continue;
        var dl = Math.abs(P.lon[p] - lon);
        if (Math.min(dl, 360 - dl) > pm[1]) continue;
        if (G.Inverse(lat, lon, P.lat[p], P.lon[p]).s12 <= reach) out.point.push(p);
      }
    }
    var id = I.nSites();
    I.added.push({name: name === undefined ? "added site " + (I.added.length + 1) : String(name),
                  lat: lat, lon: lon, pairs: out, open: true});
    I.apply(id, 1);
    I.emit({added: id, site: id, open: true});
    return id;
  };
  I.distanceTo = distanceTo;
});
