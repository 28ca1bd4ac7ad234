"""Reference values for lib/plot/normal.ts (probit, normalCdf) and lib/plot/verification.ts (the traces of
detCurve and rocCurve, whose points come from lib/metrics/roc_curve.ts).

Run from the repository root with Debian's python (scipy 1.10, scikit-learn 1.2, numpy):
    /usr/bin/python3 test/reference/plot_det_roc.py
It writes test/reference/fixtures/plot_det_roc.json (float64 values).

- probit: scipy.stats.norm.ppf on probabilities from 1e-12 to 1 - 1e-9; normalCdf: norm.cdf from -30
  (deep in the tail, where a relative error shows) to 5.
- ROC: sklearn.metrics.roc_curve with drop_intermediate False and True. sklearn 1.2 puts max(score) + 1
  in thresholds[0] (1.3 and later put inf, as slimspeech does), so only thresholds[1:] are stored.
- DET: sklearn.metrics.det_curve, and norm.ppf of its rates where they lie strictly inside (0, 1).
Scores are rounded to 1/8 so that ties occur and float32 holds them exactly.
"""
import json
import os

import numpy as np
from scipy.stats import norm
from sklearn.metrics import det_curve, roc_curve

rng = np.random.default_rng(20240607)

cdf_x = [-30.0, -8.0, -5.0, -3.0, -1.3, -0.2, 0.0, 0.7, 1.4142, 2.5, 5.0]
probs = [1e-12, 1e-9, 1e-6, 1e-4, 0.001, 0.0123, 0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.99, 0.999999, 1 - 1e-9]

n_target, n_non = 60, 140
labels = np.r_[np.ones(n_target), np.zeros(n_non)].astype(np.int64)
scores = np.r_[rng.normal(1.5, 1.0, n_target), rng.normal(0.0, 1.0, n_non)]
scores = np.round(scores * 8) / 8
perm = rng.permutation(len(labels))
labels, scores = labels[perm], scores[perm]

fpr_all, tpr_all, thr_all = roc_curve(labels, scores, drop_intermediate=False)
fpr_drop, tpr_drop, thr_drop = roc_curve(labels, scores, drop_intermediate=True)
det_fpr, det_fnr, det_thr = det_curve(labels, scores)
inside = (det_fpr > 0) & (det_fpr < 1) & (det_fnr > 0) & (det_fnr < 1)

out = {
    "probit": {"p": probs, "ppf": [float(norm.ppf(p)) for p in probs]},
    "cdf": {"x": cdf_x, "cdf": [float(norm.cdf(x)) for x in cdf_x]},
    "trials": {"scores": scores.tolist(), "labels": labels.tolist()},
    "roc": {"fpr": fpr_all.tolist(), "tpr": tpr_all.tolist(), "thresholds_after_first": thr_all[1:].tolist()},
    "roc_drop_intermediate": {"fpr": fpr_drop.tolist(), "tpr": tpr_drop.tolist(),
                              "thresholds_after_first": thr_drop[1:].tolist()},
    "det": {"fpr": det_fpr.tolist(), "fnr": det_fnr.tolist(), "thresholds": det_thr.tolist()},
    "det_probit_inside": {"index": np.flatnonzero(inside).tolist(),
                          "x": norm.ppf(det_fpr[inside]).tolist(), "y": norm.ppf(det_fnr[inside]).tolist()},
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "plot_det_roc.json")
with open(path, "w") as f:
    json.dump(out, f)
print(f"wrote {path}: {len(fpr_all)} ROC points ({len(fpr_drop)} after dropping), {len(det_fpr)} DET points")
