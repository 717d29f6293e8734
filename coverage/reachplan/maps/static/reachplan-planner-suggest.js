/* The planner's "suggest the next site" (issue 20).
 *
 * reachplan.suggest(options)  the site to open next on the current scenario, chosen and
 *   explained as `reachplan plan --add 1` chooses and explains it on the exported scenario
 *   (open sites as centres, every closed site as --candidates in id order): the closed site
 *   whose opening covers the most districts still uncovered, ties to the most district
 *   weight, then to the lowest id (planning.matrix._greedy); options.objective "weight":
 *   the most weight, ties to the lowest id. Returns null when no closed site covers a
 *   district more, else
 *     {rank: 1, id, name, lat, lon, gain_districts, gain_weight, covers, covers_names,
 *      gain_points, gain_point_weight, text}
 *   (the keys of plan's sites, plus the demand points newly covered and a sentence). With
 *   min centres K > 1 a district counts when this site brings it to K (plan refuses K > 1).
 *   Under capacity the choice is still by coverage (plan --capacity-col is a MILP).
 *
 * Travel time (--roads, --travel-minutes): the page knows the road minutes of its sites and
 * candidates only (precomputed from the rule's pairs); reachplan.add(...) says why it cannot
 * add a site elsewhere (reachplan-planner-add.js).
 */
(window.reachplanPlannerParts = window.reachplanPlannerParts || []).push(function (api) {
  "use strict";
  var I = api._internal, data = I.data, K = data.min_centers, P = data.points;
  var W = data.districts.weight, ids = data.districts.id, names = data.districts.name;

  function pyRound6(x) { return I.pyRound(x, 6); }
  // what opening closed site s adds: the districts (and points) it brings to K open sites
  function gain(s) {
    var pr = I.pairs(s), d, i, out = {districts: [], weight: 0, points: 0, pweight: 0};
    for (i = 0; i < pr.district.length; i++) {
      if (!(pr.flags[i] & 1)) continue;
      d = pr.district[i];
      if (I.count[d] === K - 1) out.districts.push(d);
    }
    out.districts.sort(function (a, b) { return a - b; });
    // numpy's sum of the weights in district order, NaN as 0 (plan's nan_to_num)
    var ws = new Float64Array(out.districts.length);
    for (i = 0; i < ws.length; i++) {
      var w = W ? W[out.districts[i]] : 0;
      ws[i] = isNaN(w) ? 0 : w;
    }
    out.weight = I.npSum(ws);
    if (pr.point) {
      for (i = 0; i < pr.point.length; i++) {
        var p = pr.point[i];
        if (I.pcount[p] === K - 1) {
          out.points += 1;
          out.pweight += P.weight ? P.weight[p] : 1;
        }
      }
    }
    return out;
  }
  api.suggest = function (options) {
    var byWeight = !!(options && options.objective === "weight");
    var best = -1, bestGain = null, n = I.nSites();
    for (var s = 0; s < n; s++) {
      if (I.isOpen(s)) continue;
      var g = gain(s), better;
      if (bestGain === null) {
        better = byWeight ? g.weight > 0 : g.districts.length > 0;
      } else if (byWeight) {
        better = g.weight > bestGain.weight;
      } else {
        better = g.districts.length > bestGain.districts.length ||
          (g.districts.length === bestGain.districts.length && g.weight > bestGain.weight);
      }
      if (better) { best = s; bestGain = g; }
    }
    if (best < 0) return null;
    var site = api.sites()[best], cov = bestGain.districts;
    var out = {rank: 1, id: best, name: site.name, lat: site.lat, lon: site.lon,
               gain_districts: cov.length, gain_weight: W ? pyRound6(bestGain.weight) : null,
               covers: cov.map(function (d) { return ids[d]; }),
               covers_names: cov.map(function (d) { return names[d]; }),
               gain_points: P ? bestGain.points : null,
               gain_point_weight: P && P.weight ? pyRound6(bestGain.pweight) : null};
    var listed = cov.slice(0, 5).map(function (d) { return names[d] || ids[d]; }).join(", ");
    out.text = "Open " + site.name + ": " + cov.length + " more district" +
      (cov.length === 1 ? "" : "s") + " covered" +
      (W ? " (weight " + out.gain_weight + ")" : "") +
      (P ? ", " + bestGain.points + " more demand point" + (bestGain.points === 1 ? "" : "s") :
        "") + (listed ? ": " + listed + (cov.length > 5 ? ", …" : "") : "") + ".";
    return out;
  };
});
