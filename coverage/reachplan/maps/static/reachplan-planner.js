/* The what-if planner (reachplan map --what-if): window.reachplan.
 *
 * Data: the JSON block written by reachplan/maps/planner.py (its docstring documents every
 * field); packed arrays are zlib streams inflated here with DecompressionStream.
 *
 * Public API (after `await reachplan.ready`):
 *   sites()               [{id, name, type, lat, lon, candidate, added, open}] in id order
 *   toggle(id, on)        open (true) / close (false) / flip (on omitted) a site; its state
 *   add(lat, lon, name)   a site clicked anywhere (presence: inside or on a district's
 *                         boundary; radius: geodesic distance to the boundary and the demand
 *                         points, geographiclib); returns its id, open
 *   summary()             {summary, rule, cost, groups, types[, demand]}: the shape and digits
 *                         of `reachplan coverage --format json` on exportCsv()'s CSV
 *   gaps()                [{rank, id, name, group, weight, centers, nearest_km,
 *                         nearest_center}] ranked as `reachplan gaps` ranks them
 *   exportCsv()           the open sites as a CSV that coverage/compare/plan read back
 *   on(fn)                fn(change) after every change ({site, open} or {added})
 *   error                 the message when the data failed to load (the page says so)
 *
 * _internal (for the capacity worker, suggestions and panels; read-only unless said):
 *   data               the decoded data (planner.py's format, packed arrays as typed arrays)
 *   open               Uint8Array, 1 per open site (write through toggle only)
 *   count, covered     per district: open sites in reach (Int32Array), count >= K (Uint8Array)
 *   inside             per district: open sites inside or on its boundary (Int32Array)
 *   typeCount          per type x district: open sites of that type in reach (t * D + d)
 *   pcount, pcovered   per demand point, as for districts (null without points)
 *   pairs(s)           {district, flags, cost_m, point} of site s (flags: 1 in reach,
 *                      2 inside or on the boundary); clicked sites included
 *   figures            [fn(summary) -> {label, html}]: push one to add a line to the box
 *   refresh()          recompute the figures box and district colours now
 *   tallies()          {districts, points}: how many are covered now
 *   esc(text)          text as inert HTML; pyRound(x, 2) Python's round; npSum(arr) numpy's sum
 *   added, apply(s, +1|-1), isOpen(s), typeOf(s), nSites(), emit(change): the state of
 *                      clicked sites and the one writer of the counts (for add() and scenarios)
 *   distanceTo(d, lat, lon)  (reachplan-planner-add.js) metres from a point to district d
 *   map, mapsKey       the Leaflet map; window.reachplanMaps[mapsKey] is the drawn map's API
 *                      (its layers.centres: the sites' cluster; setCovered(d, on, inside))
 *   layers.candidates  the (initially hidden) layer of the candidates' markers
 *
 * Parts: a file of the page pushes function (api, map) {...} onto
 * window.reachplanPlannerParts; each runs once, in order, when the data is ready (add and the
 * minimal UI are parts; panels, the capacity worker and suggestions are added the same way,
 * their files listed in planner.py's _SCRIPTS).
 */
function reachplanPlanner(map, dataId, mapsKey, layers) {
  "use strict";
  var api = window.reachplan = {error: null};
  var el = document.getElementById(dataId);
  function esc(t) {
    return String(t === null || t === undefined ? "" : t).replace(/[&<>"']/g, function (c) {
      return "&#" + c.charCodeAt(0) + ";";
    });
  }
  function inflate(p) {
    var bin = atob(p.z), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buf) {
      if (p.type === "u8") return new Uint8Array(buf);
      if (p.type === "u32") return new Uint32Array(buf);
      if (p.type === "u16") return new Uint16Array(buf);
      if (p.type === "f64") return new Float64Array(buf);
      var ints = new Int32Array(buf);
      if (p.type === "i32") return ints;
      var out = p.type === "e7" ? new Float64Array(ints.length) : new Int32Array(ints.length);
      var acc = 0, k;
      for (k = 0; k < ints.length; k++) { acc += ints[k]; out[k] = acc; }
      if (p.type === "e7") for (k = 0; k < out.length; k++) out[k] = out[k] / 1e7;
      return out;
    });
  }
  // every packed array of the block, replaced by its typed array
  function unpackAll(obj) {
    var jobs = [];
    (function walk(o) {
      Object.keys(o).forEach(function (k) {
        var v = o[k];
        if (v && typeof v === "object" && !Array.isArray(v)) {
          if (typeof v.z === "string" && v.type) {
            jobs.push(inflate(v).then(function (a) {
              if (a.length !== v.n) throw new Error("a packed array of the wrong length");
              o[k] = a;
            }));
          } else { walk(v); }
        }
      });
    })(obj);
    return Promise.all(jobs).then(function () { return obj; });
  }
  function fail(err) {
    api.error = "The planner's data failed to load (" + (err && err.message || err) +
      "); no figure is shown.";
    var box = L.DomUtil.create("div", "cp-panel cp-planner-error", map.getContainer());
    box.setAttribute("role", "alert");
    box.textContent = api.error;
    throw err;
  }
  api.ready = Promise.resolve().then(function () {
    if (!el) throw new Error("no data block");
    if (typeof DecompressionStream === "undefined") {
      throw new Error("this browser cannot inflate it (no DecompressionStream)");
    }
    return unpackAll(JSON.parse(el.textContent));
  }).then(function (data) { start(data); return api; }, fail);

  function start(data) {
    var D = data.districts.id.length, S0 = data.sites.n, K = data.min_centers;
    var types = data.sites.types, T = types.length;
    var R = data.reach, P = data.points;
    var open = new Uint8Array(S0), count = new Int32Array(D), covered = new Uint8Array(D);
    var inside = new Int32Array(D);
    var typeCount = T ? new Int32Array(T * D) : null;
    var pcount = P ? new Int32Array(P.n) : null, pcovered = P ? new Uint8Array(P.n) : null;
    var added = [];  // clicked sites: {name, type, lat, lon, pairs}
    var listeners = [];
    var nCovered = 0, nPcovered = 0;
    var wbig = null, wTotal = BigInt(0), wCovered = BigInt(0), wScale = 0;
    if (P && P.weight) exactWeights();

    function nSites() { return S0 + added.length; }
    function pairs(s) {
      if (s >= S0) return added[s - S0].pairs;
      var a = R.start[s], b = R.start[s + 1];
      var point = null;
      if (P) point = P.point.subarray(P.start[s], P.start[s + 1]);
      return {district: R.district.subarray(a, b), flags: R.flags.subarray(a, b),
              cost_m: R.cost_m.subarray(a, b), point: point};
    }
    function typeOf(s) {
      if (!T) return -1;
      return s < S0 ? data.sites.type[s] : types.indexOf(data.sites.added_type);
    }
    function isOpen(s) { return s < S0 ? open[s] === 1 : added[s - S0].open; }
    function setOpen(s, on) {
      if (s < S0) open[s] = on ? 1 : 0; else added[s - S0].open = on;
    }
    // the only writer of the counts: one site's pairs, +1 or -1
    function apply(s, step) {
      var pr = pairs(s), t = typeOf(s), i, d;
      for (i = 0; i < pr.district.length; i++) {
        d = pr.district[i];
        if (pr.flags[i] & 2) inside[d] += step;
        if (!(pr.flags[i] & 1)) continue;
        var before = covered[d];
        count[d] += step;
        covered[d] = count[d] >= K ? 1 : 0;
        nCovered += covered[d] - before;
        if (t >= 0) typeCount[t * D + d] += step;
      }
      if (!pr.point) return;
      for (i = 0; i < pr.point.length; i++) {
        var p = pr.point[i], was = pcovered[p];
        pcount[p] += step;
        pcovered[p] = pcount[p] >= K ? 1 : 0;
        if (was !== pcovered[p]) {
          nPcovered += pcovered[p] - was;
          if (wbig) wCovered += pcovered[p] ? wbig[p] : -wbig[p];
        }
      }
    }
    function toggle(id, on) {
      if (typeof id !== "number" || id < 0 || id >= nSites() || id !== Math.floor(id)) {
        throw new Error("toggle: no site " + id);
      }
      var now = isOpen(id) ? true : false, want = on === undefined ? !now : !!on;
      if (want !== now) {
        setOpen(id, want);
        apply(id, want ? 1 : -1);
        emit({site: id, open: want});
      }
      return want;
    }
    function emit(change) {
      listeners.forEach(function (fn) { fn(change); });
    }
    for (var s = 0; s < S0; s++) {
      if (data.sites.open[s]) { open[s] = 1; apply(s, 1); }
    }

    // ---- figures as the library writes them
    function bitLength(b) { return b === BigInt(0) ? 0 : b.toString(2).length; }
    // the nearest double to a / b (BigInts, a >= 0, b > 0), as float(Fraction(a, b))
    function ratio(a, b) {
      if (a === BigInt(0)) return 0;
      var shift = bitLength(b) - bitLength(a) + 66;
      var num = shift >= 0 ? a << BigInt(shift) : a, den = shift >= 0 ? b : b << BigInt(-shift);
      var q = num / den;
      if (num % den !== BigInt(0)) q = q | BigInt(1);
      return Number(q) * Math.pow(2, -shift);
    }
    // demand weights as integers of one power of two: exact sums, as the library's
    function exactWeights() {
      var dv = new DataView(new ArrayBuffer(8)), n = P.n, mant = new Array(n);
      var exps = new Int32Array(n), emin = Infinity, i;
      for (i = 0; i < n; i++) {
        dv.setFloat64(0, P.weight[i]);
        var hi = dv.getUint32(0), lo = dv.getUint32(4), ex = (hi >>> 20) & 0x7ff;
        var m = (BigInt(hi & 0xfffff) << BigInt(32)) | BigInt(lo);
        if (ex) m = m | (BigInt(1) << BigInt(52));
        mant[i] = m;
        exps[i] = (ex ? ex : 1) - 1075;
        if (m !== BigInt(0) && exps[i] < emin) emin = exps[i];
      }
      if (emin === Infinity) emin = 0;
      wbig = mant.map(function (m, j) { return m << BigInt(exps[j] - emin); });
      wScale = emin;
      wbig.forEach(function (w) { wTotal += w; });
    }
    function pyRound(x, nd) {
      if (!isFinite(x)) return x;
      var f = Math.pow(10, nd), t = x * f, m = Math.floor(t);
      // an exact tie (x = (2m + 1) / 2f exactly): Python rounds half to even
      if (t - m === 0.5 && (2 * m + 1) % Math.pow(5, nd) === 0 && (m + 0.5) / f === x) {
        return (m % 2 === 0 ? m : m + 1) / f;
      }
      return parseFloat(x.toFixed(nd));
    }
    function pairwise(a, lo, n) {  // numpy's pairwise sum of a[lo:lo+n]
      var i, res;
      if (n < 8) {
        res = 0;
        for (i = 0; i < n; i++) res += a[lo + i];
        return res;
      }
      if (n <= 128) {
        var r = [a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6],
                 a[lo + 7]];
        for (i = 8; i < n - (n % 8); i += 8) {
          for (var j = 0; j < 8; j++) r[j] += a[lo + i + j];
        }
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[lo + i];
        return res;
      }
      var n2 = Math.floor(n / 2);
      n2 -= n2 % 8;
      return pairwise(a, lo, n2) + pairwise(a, lo + n2, n - n2);
    }
    function npSum(arr) { return pairwise(arr, 0, arr.length); }
    function percent(part, whole) {
      return whole && part !== null ? pyRound(100.0 * part / whole, 2) : null;
    }
    function clean(x) { return x === null || !isFinite(x) ? null : x; }
    var W = data.districts.weight;
    // engine.summarise over the districts `which` (all when null), covered by `cov(d)`
    function summarise(which, cov) {
      var n = which ? which.length : D, c = 0, has = false, i, d;
      var all = new Float64Array(n), part = [];
      for (i = 0; i < n; i++) {
        d = which ? which[i] : i;
        var w = W ? W[d] : NaN;
        if (!isNaN(w)) has = true;
        all[i] = isNaN(w) ? 0 : w;
        if (cov(d)) { c += 1; part.push(all[i]); }
      }
      has = has && n > 0;
      var total = has ? npSum(all) : null, covW = has ? npSum(part) : null;
      return {districts: n, covered: c, percent: percent(c, n), weight_total: clean(total),
              weight_covered: clean(covW), weight_percent: has ? percent(covW, total) : null};
    }
    var groupMembers = data.districts.groups.map(function () { return []; });
    for (var d0 = 0; d0 < D; d0++) {
      if (data.districts.group[d0] >= 0) groupMembers[data.districts.group[d0]].push(d0);
    }
    function summary() {
      var out = {summary: summarise(null, function (d) { return covered[d]; }),
                 rule: data.rule, cost: data.cost, groups: [], types: []};
      data.districts.groups.forEach(function (g, k) {
        var row = {group: g}, sm = summarise(groupMembers[k], function (d) {
          return covered[d];
        });
        Object.keys(sm).forEach(function (key) { row[key] = sm[key]; });
        out.groups.push(row);
      });
      if (T) {
        var openOf = new Int32Array(T);
        for (var s = 0; s < nSites(); s++) if (isOpen(s)) openOf[typeOf(s)] += 1;
        types.forEach(function (t, k) {
          if (!openOf[k]) return;
          var row = {type: t, centers: openOf[k]}, sm = summarise(null, function (d) {
            return typeCount[k * D + d] >= K;
          });
          Object.keys(sm).forEach(function (key) { row[key] = sm[key]; });
          out.types.push(row);
        });
      }
      if (P) {
        var dm = {points: P.n, covered: nPcovered,
                  percent: pyRound(nPcovered * 100 / P.n, 2),
                  weight_total: null, weight_covered: null, weight_percent: null};
        if (wbig) {
          dm.weight_total = Number(wTotal) * Math.pow(2, wScale);
          dm.weight_covered = Number(wCovered) * Math.pow(2, wScale);
          dm.weight_percent = wTotal === BigInt(0) ? null :
            pyRound(ratio(wCovered * BigInt(100), wTotal), 2);
        }
        Object.keys(P.demand).forEach(function (key) { dm[key] = P.demand[key]; });
        out.demand = dm;
      }
      return JSON.parse(JSON.stringify(out));
    }
    function site(s) {
      var a = s >= S0 ? added[s - S0] : null;
      return {id: s, name: a ? a.name : data.sites.name[s],
              type: T ? types[typeOf(s)] : null,
              lat: a ? a.lat : data.sites.lat[s], lon: a ? a.lon : data.sites.lon[s],
              candidate: !a && data.sites.candidate[s] === 1, added: !!a, open: !!isOpen(s)};
    }
    api.sites = function () {
      var out = new Array(nSites());
      for (var s = 0; s < out.length; s++) out[s] = site(s);
      return out;
    };
    // per district, its nearest open site (geodesic, from the near pairs)
    function nearest() {
      var best = new Float64Array(D).fill(Infinity), who = new Int32Array(D).fill(-1);
      for (var s = 0; s < nSites(); s++) {
        if (!isOpen(s)) continue;
        var pr = pairs(s);
        for (var i = 0; i < pr.district.length; i++) {
          var d = pr.district[i], c = pr.cost_m[i];
          if (c < best[d]) { best[d] = c; who[d] = s; }
        }
      }
      return {m: best, site: who};
    }
    // CoverageResult.gaps(): weight descending, nearest cost descending, id ascending
    api.gaps = function () {
      var near = nearest(), list = [], ids = data.districts.id;
      for (var d = 0; d < D; d++) if (!covered[d]) list.push(d);
      function w(d) { return W && !isNaN(W[d]) ? W[d] : 0; }
      list.sort(function (a, b) {
        return (w(b) - w(a)) || (near.m[b] - near.m[a]) ||
          (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0);
      });
      return list.map(function (d, k) {
        var g = data.districts.group[d], metres = near.m[d];
        return {rank: k + 1, id: ids[d], name: data.districts.name[d],
                group: g >= 0 ? data.districts.groups[g] : null,
                weight: W && !isNaN(W[d]) ? W[d] : null, centers: inside[d],
                nearest_km: isFinite(metres) ? metres / 1000 : null,
                nearest_center: near.site[d] >= 0 ? site(near.site[d]).name : null,
                nearest_within_km: data.reach.near_m / 1000};
      });
    };
    function csvCell(t) {  // a clicked site's text, as reachplan.text.for_spreadsheet
      t = String(t === null || t === undefined ? "" : t);
      t = t.replace(/(^|[\r\n\t])(?=[=+\-@\t\r])/g, "$1'");
      return /[",\r\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
    }
    api.exportCsv = function () {
      var lines = [data.sites.csv_header];
      for (var s = 0; s < nSites(); s++) {
        if (!isOpen(s)) continue;
        var a = s >= S0 ? added[s - S0] : null;
        var cells = a ? csvCell(a.name) + (T ? "," + csvCell(data.sites.added_type) : "")
          : data.sites.csv[s] || (data.sites.name[s] + (T ? "," + types[typeOf(s)] : ""));
        lines.push(cells + "," + String(a ? a.lat : data.sites.lat[s]) + "," +
                   String(a ? a.lon : data.sites.lon[s]));
      }
      return lines.join("\n") + "\n";
    };
    api.summary = summary;
    api.toggle = toggle;
    api.on = function (fn) { listeners.push(fn); };
    api._internal = {data: data, open: open, count: count, covered: covered, inside: inside,
                     typeCount: typeCount, pcount: pcount, pcovered: pcovered, pairs: pairs,
                     figures: [], esc: esc, pyRound: pyRound, npSum: npSum,
                     added: added, apply: apply, isOpen: isOpen, typeOf: typeOf,
                     nSites: nSites, emit: emit, mapsKey: mapsKey, map: map,
                     layers: layers || {},
                     tallies: function () {
                       return {districts: nCovered, points: nPcovered};
                     }};
    if (window.reachplanPlannerParts) {
      window.reachplanPlannerParts.forEach(function (part) { part(api, map); });
    }
  }
}
