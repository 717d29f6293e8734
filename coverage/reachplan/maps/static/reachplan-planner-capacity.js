/* reachplan what-if planner: capacity-limited allocation in the page (issue 20).
 *
 * The same objective as reachplan.capacity.allocate: most demand served, then least total
 * cost, capacities kept. Solved exactly as a maximum flow of minimum cost: successive
 * shortest paths with potentials (Dijkstra on reduced costs) from a pseudo-flow in which
 * every demand point sends all its demand to its cheapest site; only overloaded sites hold
 * excess, so points whose cheapest site has room are never searched (the CLI's "nearest
 * where feasible" reduction, for free). Unserved demand is an arc from each point to the
 * sink of cost M > (nodes) x (largest cost): a path that serves one more unit always beats
 * any rearrangement of costs, so "most served, then least cost" is one min-cost flow.
 * Costs are compared in thousandths of their unit (millimetres, thousandths of a minute),
 * rounded half to even, as the CLI's flow solver compares them; whole-number demand and
 * capacity give whole-number flows, all sums exact in doubles (below 2^53).
 *
 * It runs in a Web Worker made from a Blob URL of this file's own functions (works from a
 * file:// page, offline). The page calls reachplanCapacity.solver() and gets an object with
 * solve(problem) -> Promise(result) that drops stale requests (only the newest is solved).
 * The core is also reachplanCapacity.solve(problem) for tests and pages without workers.
 */
(function (root) {
  "use strict";

  function capacityCore() {
    var SCALE = 1000;

    // numpy's rint: round half to even
    function rint(v) {
      var f = Math.floor(v), r = v - f;
      if (r > 0.5) return f + 1;
      if (r < 0.5) return f;
      return f % 2 === 0 ? f : f + 1;
    }

    // a binary min-heap of (key, node) with lazy deletion
    function Heap(size) {
      this.key = new Float64Array(size);
      this.node = new Int32Array(size);
      this.n = 0;
    }
    Heap.prototype.push = function (k, v) {
      if (this.n === this.key.length) {
        var key = new Float64Array(this.n * 2), node = new Int32Array(this.n * 2);
        key.set(this.key); node.set(this.node);
        this.key = key; this.node = node;
      }
      var i = this.n++, K = this.key, N = this.node;
      while (i > 0) {
        var p = (i - 1) >> 1;
        if (K[p] <= k) break;
        K[i] = K[p]; N[i] = N[p]; i = p;
      }
      K[i] = k; N[i] = v;
    };
    Heap.prototype.pop = function () {  // the node of the smallest key (read top first)
      var K = this.key, N = this.node, top = N[0], n = --this.n;
      var k = K[n], v = N[n], i = 0;
      for (;;) {
        var c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && K[c + 1] < K[c]) c++;
        if (K[c] >= k) break;
        K[i] = K[c]; N[i] = N[c]; i = c;
      }
      K[i] = k; N[i] = v;
      return top;
    };

    /* problem: {demand: per point, capacity: per site, point, site, cost: per pair (cost in
     * the rule's unit, e.g. metres or minutes)}. Pairs of closed sites are left out by the
     * caller; a repeated (point, site) pair keeps its lowest cost.
     * Returns {served, load (per point / site), flow (per pair given), reachable (1 where a
     * site with capacity is within reach of a point with demand), totals}. */
    function solve(problem) {
      var t0 = Date.now();
      var dem = problem.demand, cap = problem.capacity;
      var nP = dem.length, nS = cap.length, nPairs = problem.point.length;
      var P = problem.point, S = problem.site, C = problem.cost;
      // live pairs (demand and capacity > 0), grouped by point (counting sort)
      var byPoint = new Int32Array(nP + 1), cmax = 0, i, j, e;
      var scaled = new Float64Array(nPairs);
      for (e = 0; e < nPairs; e++) {
        if (dem[P[e]] > 0 && cap[S[e]] > 0) byPoint[P[e] + 1]++;
        scaled[e] = problem.scaled ? C[e] : rint(C[e] * SCALE);
        if (scaled[e] > cmax) cmax = scaled[e];
      }
      for (i = 0; i < nP; i++) byPoint[i + 1] += byPoint[i];
      var m = byPoint[nP], fill = byPoint.slice(0, nP);
      var orig = new Int32Array(m);  // live pair -> given pair
      for (e = 0; e < nPairs; e++) {
        if (dem[P[e]] > 0 && cap[S[e]] > 0) orig[fill[P[e]]++] = e;
      }
      var site = new Int32Array(m), cost = new Float64Array(m), x = new Float64Array(m);
      for (j = 0; j < m; j++) { site[j] = S[orig[j]]; cost[j] = scaled[orig[j]]; }
      // the same pairs by site
      var bySite = new Int32Array(nS + 1);
      for (j = 0; j < m; j++) bySite[site[j] + 1]++;
      for (i = 0; i < nS; i++) bySite[i + 1] += bySite[i];
      var sfill = bySite.slice(0, nS), sitePairs = new Int32Array(m), pointOf = new Int32Array(m);
      for (i = 0; i < nP; i++) {
        for (j = byPoint[i]; j < byPoint[i + 1]; j++) {
          pointOf[j] = i;
          sitePairs[sfill[site[j]]++] = j;
        }
      }
      var nN = nP + nS, M = (nN + 1) * (cmax + 1) + 1;
      var h = new Float64Array(nN + 1), T = nN;  // potentials: reduced cost c + h(u) - h(v)
      var load = new Float64Array(nS), toSink = new Float64Array(nS);
      var dropped = new Float64Array(nP), served = new Float64Array(nP);
      var reachable = new Uint8Array(nP), best;
      // the pseudo-flow: all of each point's demand at its cheapest site (lowest index on ties)
      for (i = 0; i < nP; i++) {
        best = -1;
        for (j = byPoint[i]; j < byPoint[i + 1]; j++) {
          if (best < 0 || cost[j] < cost[best] || (cost[j] === cost[best] && site[j] < site[best])) {
            best = j;
          }
        }
        if (best < 0) continue;
        reachable[i] = 1;
        x[best] = dem[i];
        load[site[best]] += dem[i];
        h[i] = -cost[best];
      }
      var excess = new Float64Array(nS), queue = [], tol = 0;
      for (i = 0; i < nP; i++) if (dem[i] > tol) tol = dem[i];
      for (i = 0; i < nS; i++) if (cap[i] > tol) tol = cap[i];
      tol *= 1e-12;  // 0 on whole numbers in practice: amounts are exact there
      for (i = 0; i < nS; i++) {
        toSink[i] = Math.min(load[i], cap[i]);
        excess[i] = load[i] - toSink[i];
        if (excess[i] > tol) queue.push(i);
      }
      // successive shortest paths from each overloaded site to the sink
      var dist = new Float64Array(nN), seen = new Int32Array(nN), done = new Int32Array(nN);
      var via = new Int32Array(nN);  // the pair (or -1: start) by which a node was reached
      var heap = new Heap(1024), settled = new Int32Array(nN), stamp = 0, paths = 0;
      for (var q = 0; q < queue.length; q++) {
        var s0 = queue[q], start = nP + s0;
        while (excess[s0] > tol) {
          stamp++;
          heap.n = 0;
          dist[start] = 0; seen[start] = stamp; via[start] = -1;
          heap.push(0, start);
          var bestT = Infinity, lastT = -1, nSet = 0, u, du, v, dv, k;
          while (heap.n > 0) {
            du = heap.key[0];
            u = heap.pop();
            if (done[u] === stamp || du > dist[u]) continue;
            if (du >= bestT) break;
            done[u] = stamp;
            settled[nSet++] = u;
            if (u < nP) {  // a point: to any site in reach, or unserved
              if (dem[u] - dropped[u] > tol) {
                dv = du + M + h[u] - h[T];
                if (dv < bestT) { bestT = dv; lastT = u; }
              }
              for (j = byPoint[u]; j < byPoint[u + 1]; j++) {
                v = nP + site[j];
                if (done[v] === stamp) continue;
                dv = du + cost[j] + h[u] - h[v];
                if (seen[v] !== stamp || dv < dist[v]) {
                  seen[v] = stamp; dist[v] = dv; via[v] = j; heap.push(dv, v);
                }
              }
            } else {  // a site: to the sink if it has room, back to the points it serves
              var s = u - nP;
              if (cap[s] - toSink[s] > tol) {
                dv = du + h[u] - h[T];
                if (dv < bestT) { bestT = dv; lastT = u; }
              }
              for (k = bySite[s]; k < bySite[s + 1]; k++) {
                j = sitePairs[k];
                if (x[j] <= tol) continue;
                v = pointOf[j];
                if (done[v] === stamp) continue;
                dv = du - cost[j] + h[u] - h[v];
                if (seen[v] !== stamp || dv < dist[v]) {
                  seen[v] = stamp; dist[v] = dv; via[v] = j; heap.push(dv, v);
                }
              }
            }
          }
          if (lastT < 0) break;  // cannot happen: a point can always leave demand unserved
          // the bottleneck, then the augmentation
          var delta = excess[s0];
          if (lastT < nP) delta = Math.min(delta, dem[lastT] - dropped[lastT]);
          else delta = Math.min(delta, cap[lastT - nP] - toSink[lastT - nP]);
          for (v = lastT; via[v] >= 0;) {
            j = via[v];
            if (v >= nP) { v = pointOf[j]; } else { delta = Math.min(delta, x[j]); v = nP + site[j]; }
          }
          if (lastT < nP) dropped[lastT] += delta; else toSink[lastT - nP] += delta;
          for (v = lastT; via[v] >= 0;) {
            j = via[v];
            if (v >= nP) { x[j] += delta; v = pointOf[j]; } else { x[j] -= delta; v = nP + site[j]; }
          }
          excess[s0] -= delta;
          paths++;
          for (k = 0; k < nSet; k++) {
            u = settled[k];
            h[u] += dist[u] - bestT;
          }
        }
      }
      // the result, in the caller's pairs and in totals
      var flow = new Float64Array(nPairs), loadOut = new Float64Array(nS);
      var whole = true;
      for (i = 0; i < nP && whole; i++) if (dem[i] !== Math.round(dem[i])) whole = false;
      for (i = 0; i < nS && whole; i++) if (cap[i] !== Math.round(cap[i])) whole = false;
      for (j = 0; j < m; j++) {
        var f = whole ? Math.round(x[j]) : Math.max(x[j], 0);
        flow[orig[j]] = f;
        served[pointOf[j]] += f;
        loadOut[site[j]] += f;
      }
      return {served: served, load: loadOut, flow: flow, reachable: reachable,
              totals: totals(dem, cap, served, loadOut, reachable, flow, C),
              details: {pairs: nPairs, live_pairs: m, paths: paths, ms: Date.now() - t0}};
    }

    // the figures of the CLI's "capacity" block (reachplan.capacity.allocation.to_dict)
    function totals(dem, cap, served, load, reachable, flow, cost) {
      var t = {demand: 0, served: 0, reachable: 0, capacity: 0, points_over_capacity: 0,
               centres_full: 0, total_cost: 0};
      var i;
      for (i = 0; i < dem.length; i++) {
        t.demand += dem[i];
        t.served += served[i];
        if (reachable[i]) {
          t.reachable += dem[i];
          if (dem[i] - served[i] > 0) t.points_over_capacity++;
        }
      }
      for (i = 0; i < cap.length; i++) {
        t.capacity += cap[i];
        if (cap[i] > 0 && 100 * load[i] / cap[i] >= 100 - 1e-7) t.centres_full++;
      }
      for (i = 0; i < flow.length; i++) t.total_cost += cost[i] * flow[i];
      t.unserved = t.demand - t.served;
      t.unserved_in_reach = t.reachable - t.served;
      t.out_of_reach = t.demand - t.reachable;
      t.served_pct = t.demand > 0 ? Math.round(1e6 * t.served / t.demand) / 1e4 : null;
      return t;
    }

    return {solve: solve, rint: rint};
  }

  // the worker: solves each message, answering with its id (transferring the arrays)
  function workerMain(self, core) {
    self.onmessage = function (ev) {
      var out;
      try {
        out = core.solve(ev.data.problem);
        out.id = ev.data.id;
        self.postMessage(out, [out.served.buffer, out.load.buffer, out.flow.buffer,
                               out.reachable.buffer]);
      } catch (err) {
        self.postMessage({id: ev.data.id, error: String(err && err.message || err)});
      }
    };
  }

  var core = capacityCore();

  /* A solver in a Web Worker (a Blob URL of the functions above: no file, no network), or,
   * where workers are unavailable, in the page. solve(problem) returns a Promise of the
   * result; a request overtaken by a newer one resolves to null (the page shows the newest).
   * One request at a time goes to the worker and only the newest waits behind it, so quick
   * changes never queue up solves: an answer comes within two solves of the last change. */
  function solver() {
    var worker = null, next = 0, pending = {}, busy = false, waiting = null;
    function pump() {
      if (busy || !waiting) return;
      var w = waiting;
      waiting = null;
      busy = true;
      pending[w.id] = w.done;
      worker.postMessage({id: w.id, problem: w.problem});
    }
    try {
      var src = "var core = (" + capacityCore.toString() + ")();\n(" + workerMain.toString() +
        ")(self, core);\n";
      worker = new Worker(URL.createObjectURL(new Blob([src], {type: "text/javascript"})));
      worker.onmessage = function (ev) {
        var id = ev.data.id, done = pending[id];
        busy = false;
        pump();
        if (!done) return;
        delete pending[id];
        if (ev.data.error) done[1](new Error(ev.data.error));
        else done[0](id === next ? ev.data : null);
      };
    } catch (ignored) {  // eslint-disable-line no-unused-vars
      worker = null;  // no Worker or no Blob URLs: solve in the page
    }
    return {
      inWorker: worker !== null,
      solve: function (problem) {
        var id = ++next;
        if (!worker) return Promise.resolve(core.solve(problem));
        return new Promise(function (resolve, reject) {
          if (waiting) waiting.done[0](null);  // overtaken before it was sent
          waiting = {id: id, problem: problem, done: [resolve, reject]};
          pump();
        });
      },
      terminate: function () { if (worker) worker.terminate(); }
    };
  }

  root.reachplanCapacity = {solve: core.solve, rint: core.rint, solver: solver};
  if (typeof window === "undefined") return;

  /* The planner's part (window.reachplan, reachplan-planner.js): with a capacity block in
   * the data, every change re-allocates in the worker; api.capacity() is a Promise of the
   * figures of the scenario as it is when the allocation ends:
   *   {status, method, demand, served, unserved, served_pct, unserved_in_reach,
   *    out_of_reach, points_over_capacity, capacity, centres_full, total_cost, cost_unit,
   *    centres: [{id, name, capacity, load, utilisation_pct}] (open sites), ms}
   * the keys of the CLI's capacity block (`reachplan coverage --capacity-col`). Which points
   * go short and each site's load can differ between equally good allocations; the totals
   * cannot. exportCsv() gains the capacity column, so the CLI reads the scenario back. */
  (window.reachplanPlannerParts = window.reachplanPlannerParts || []).push(function (api) {
    var I = api._internal, data = I.data, C = data.capacity, P = data.points;
    var byDistrict = !!(C && C.district_demand);
    if (!C || !(P || byDistrict)) return;
    var S0 = data.sites.n, costs = [], run = solver(), current = null, latest = null;
    var failed = null;
    var G = window.geodesic && window.geodesic.Geodesic.WGS84, rint = core.rint;
    var demand = byDistrict ? C.district_demand : P.weight || new Float64Array(P.n).fill(1);
    var scaled = byDistrict || !!C.cost_k, dOff = null;
    if (byDistrict) {  // where each site's district costs start (the rows the rule lists)
      var R = data.reach;
      dOff = new Int32Array(S0 + 1);
      for (var t = 0; t < S0; t++) {
        dOff[t + 1] = dOff[t];
        for (var q = R.start[t]; q < R.start[t + 1]; q++) if (R.flags[q] & 1) dOff[t + 1]++;
      }
    }
    function capacityOf(s) {
      return s < S0 ? C.site[s] : (C.added === null ? 0 : C.added);
    }
    // a site's demand rows (points, or districts with --demand-rate) and its costs to them:
    // shipped (thousandths: minutes by road, or the rule's district costs) or measured here
    // (geodesic metres to points, as pyproj measures them for the CLI)
    function reachOf(s) {
      if (costs[s]) return costs[s];
      var pr = I.pairs(s), rows = pr.point, out, k;
      if (byDistrict) {
        var list = [], c = [], j = s < S0 ? dOff[s] : 0;
        for (k = 0; k < pr.district.length; k++) {
          if (!(pr.flags[k] & 1)) continue;
          list.push(pr.district[k]);
          c.push(s < S0 ? C.district_cost_k[j++] : rint(pr.cost_m[k] * 1000));
        }
        rows = Int32Array.from(list);
        out = Float64Array.from(c);
      } else if (C.cost_k) {
        out = new Float64Array(C.cost_k.subarray(P.start[s], P.start[s + 1]));
      } else {
        var a = s >= S0 ? I.added[s - S0] : null;
        var lat = a ? a.lat : data.sites.lat[s], lon = a ? a.lon : data.sites.lon[s];
        out = new Float64Array(rows.length);
        for (k = 0; k < rows.length; k++) {
          out[k] = G.Inverse(lat, lon, P.lat[rows[k]], P.lon[rows[k]]).s12;
        }
      }
      costs[s] = {rows: rows, cost: out};
      return costs[s];
    }
    // the open sites' costs measured before the problem is gathered, in slices of about
    // 20,000 geodesics with a pause between them (opening thousands of sites at once then
    // keeps the page responsive)
    function measured() {
      var todo = [], n = I.nSites();
      for (var s = 0; s < n; s++) if (I.isOpen(s) && !costs[s]) todo.push(s);
      return new Promise(function (done, fail) {
        var at = 0;
        (function slice() {
          try {
            for (var work = 0; at < todo.length && work < 20000; at++) {
              work += reachOf(todo[at]).rows.length + 1;
            }
          } catch (err) { fail(err); return; }
          if (at < todo.length) setTimeout(slice, 0); else done();
        })();
      });
    }
    function problem() {
      var n = I.nSites(), cap = new Float64Array(n), m = 0, s, k, open = [];
      for (s = 0; s < n; s++) {
        if (I.isOpen(s)) { m += reachOf(s).rows.length; open.push(s); }
      }
      var point = new Int32Array(m), site = new Int32Array(m), cost = new Float64Array(m);
      m = 0;
      for (s = 0; s < n; s++) {
        if (!I.isOpen(s)) continue;
        cap[s] = capacityOf(s);
        var r = reachOf(s);
        for (k = 0; k < r.rows.length; k++, m++) {
          point[m] = r.rows[k]; site[m] = s; cost[m] = r.cost[k];
        }
      }
      return {demand: demand, capacity: cap, point: point, site: site, cost: cost,
              scaled: scaled, open: open};
    }
    function figures(r, open) {
      var t = r.totals, out = {status: "optimal", method: "flow"}, list = [];
      ["demand", "served", "unserved", "served_pct", "unserved_in_reach", "out_of_reach",
       "points_over_capacity", "capacity", "centres_full", "total_cost"].forEach(function (k) {
        out[k] = t[k];
      });
      if (scaled) out.total_cost = out.total_cost / 1000;
      out.cost_unit = C.unit;
      open.forEach(function (s) {
        var cap = capacityOf(s);
        list.push({id: s, name: s < S0 ? data.sites.name[s] : I.added[s - S0].name,
                   capacity: cap, load: r.load[s],
                   utilisation_pct: cap > 0 ? I.pyRound(100 * r.load[s] / cap, 4) : null});
      });
      out.centres = list;
      out.ms = r.details.ms;
      return out;
    }
    // changes in one burst (a script toggling many sites) give one allocation: the problem
    // is gathered once the burst is over (a macrotask later)
    var waiting = false;
    function resolve() {
      if (waiting) return;  // the allocation to come sees this change too
      waiting = true;
      current = new Promise(function (go) { setTimeout(go, 0); }).then(function () {
        waiting = false;
        return measured();
      }).then(function () {
        var pr = problem();
        return run.solve(pr).then(function (r) {
          if (r === null) return null;  // overtaken by a newer change
          latest = figures(r, pr.open);
          if (I.refresh) I.refresh();
          return latest;
        });
      });
      current.catch(function (err) {  // said in the box, never shown as zeros
        failed = "the allocation failed (" + err.message + "); no capacity figure is shown";
        if (I.refresh) I.refresh();
      });
    }
    api.capacity = function () {
      var mine = current;
      return mine.then(function (out) { return mine === current ? out : api.capacity(); });
    };
    I.figures.push(function () {
      if (failed) return {label: "capacity", html: I.esc(failed)};
      if (!latest) return {label: "capacity", html: "re-allocating…"};
      var u = latest.demand;
      function pc(v) { return u > 0 ? " (" + I.pyRound(100 * v / u, 2) + "%)" : ""; }
      return {label: "capacity", html: "served " + I.esc(latest.served) + pc(latest.served) +
        " · in reach but over capacity " + I.esc(latest.unserved_in_reach) +
        pc(latest.unserved_in_reach) + " · out of reach " + I.esc(latest.out_of_reach) +
        pc(latest.out_of_reach)};
    });
    I.figures.push(function () {  // each site's utilisation: the busiest open sites
      if (!latest || !latest.centres.length) return null;
      var busy = latest.centres.filter(function (c) { return c.utilisation_pct !== null; });
      busy.sort(function (a, b) { return b.utilisation_pct - a.utilisation_pct || a.id - b.id; });
      return {label: "utilisation", html: I.esc(latest.centres_full) + " of " +
        latest.centres.length + " sites full; busiest " + busy.slice(0, 3).map(function (c) {
          return I.esc(c.name) + " " + c.utilisation_pct + "%";
        }).join(", ")};
    });
    var exportCsv = api.exportCsv;
    api.exportCsv = function () {  // the capacity column after each record's last cell
      var text = exportCsv(), out = "", quoted = false, row = -1, open = [];
      for (var s = 0; s < I.nSites(); s++) if (I.isOpen(s)) open.push(s);
      for (var i = 0; i < text.length; i++) {
        var ch = text[i];
        if (ch === '"') quoted = !quoted;
        if (ch === "\n" && !quoted) {
          out += "," + (row < 0 ? C.column_csv : String(capacityOf(open[row])));
          row++;
        }
        out += ch;
      }
      return out;
    };
    I.capacityOf = capacityOf;
    api.on(resolve);
    resolve();
  });
})(typeof window !== "undefined" ? window : this);  // this: Node's module scope (no window)
