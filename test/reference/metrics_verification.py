"""Reference values for metrics.rocCurve, detCurve, eer and minDcf (lib/metrics/roc_curve.ts, eer.ts, min_dcf.ts).

Run from the repository root with Debian's python (scikit-learn 1.2, numpy):
    /usr/bin/python3 test/reference/metrics_verification.py
It writes test/reference/fixtures/metrics_verification.json (all values float64; an infinite threshold
is written as null because JSON has no Infinity).

- ROC and DET: sklearn.metrics.roc_curve (drop_intermediate=True, its default) and det_curve. sklearn
  1.2 puts max(score) + 1 in roc thresholds[0] (1.3 and later put inf); slimspeech uses inf, so only
  thresholds[1:] are stored.
- EER, the usual recipe on sklearn's ROC: fnr = 1 - tpr; d = fnr - fpr strictly decreases from 1 to -1
  along the curve; j = the first index with d[j] <= 0, i = j - 1, w = d[i] / (d[i] - d[j]);
  eer = fpr[i] + w (fpr[j] - fpr[i]); threshold = thr[i] + w (thr[j] - thr[i]) with thr[0] taken as
  thr[1] (the highest score: no threshold above it changes any decision). When d[j] == 0 the crossing is
  the ROC point j itself. The script checks that eer against brentq on 1 - x - interp(x, fpr, tpr).
- minDCF, NIST SRE style, written here in numpy independently of sklearn: for every candidate threshold
  (each distinct score, accept when score >= threshold, plus +inf = reject all)
  p_miss = #targets below / #targets, p_fa = #non-targets at or above / #non-targets,
  c_det = c_miss p_miss p_target + c_fa p_fa (1 - p_target), normalised by
  c_def = min(c_miss p_target, c_fa (1 - p_target)); the minimum over thresholds, ties to the lowest
  threshold (as Kaldi's compute_min_dcf.py, which scans scores upwards with a strict '<'). The script
  checks it against SpeechBrain's recipe (thresholds at scores and midpoints, accept when score > t,
  un-normalised), which can only differ when accepting every trial is the optimum.
"""
import json
import os

import numpy as np
from scipy.optimize import brentq
from sklearn.metrics import det_curve, roc_curve

rng = np.random.default_rng(31337)


def f32(x):
    """Scores that float32 represents exactly, so a float32 tensor holds the same values (and ties)."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def reference_eer(scores, labels):
    fpr, tpr, thr = roc_curve(labels, scores)
    thr = thr.copy()
    thr[0] = thr[1]
    fnr = 1 - tpr
    d = fnr - fpr
    j = int(np.argmax(d <= 0))
    if d[j] == 0:
        eer, threshold = fpr[j], thr[j]
    else:
        i = j - 1
        w = d[i] / (d[i] - d[j])
        eer = fpr[i] + w * (fpr[j] - fpr[i])
        threshold = thr[i] + w * (thr[j] - thr[i])
    check = brentq(lambda x: 1.0 - x - np.interp(x, fpr, tpr), 0.0, 1.0, xtol=1e-14)
    assert abs(check - eer) < 1e-9, (check, eer)
    return float(eer), float(threshold)


def reference_min_dcf(scores, labels, p_target, c_miss, c_fa):
    tgt = scores[labels == 1]
    non = scores[labels == 0]
    thresholds = np.r_[np.unique(scores), np.inf]  # ascending
    p_miss = np.array([np.sum(tgt < t) for t in thresholds]) / len(tgt)
    p_fa = np.array([np.sum(non >= t) for t in thresholds]) / len(non)
    c_det = c_miss * p_miss * p_target + c_fa * p_fa * (1 - p_target)
    c_def = min(c_miss * p_target, c_fa * (1 - p_target))
    k = int(np.argmin(c_det))  # first minimum = lowest threshold
    min_dcf = c_det[k] / c_def

    # SpeechBrain's minDCF (speechbrain.utils.metric_stats.minDCF), as a cross-check.
    u = np.unique(scores)
    sb_thr = np.sort(np.r_[u, (u[:-1] + u[1:]) / 2])
    sb = c_miss * np.array([np.mean(tgt <= t) for t in sb_thr]) * p_target + \
        c_fa * np.array([np.mean(non > t) for t in sb_thr]) * (1 - p_target)
    all_accept = c_fa * (1 - p_target)
    assert abs(min(sb.min(), all_accept) / c_def - min_dcf) < 1e-12
    threshold = None if np.isinf(thresholds[k]) else float(thresholds[k])
    return float(min_dcf), threshold


def case(name, scores, labels, dcf_params=((0.01, 1.0, 1.0), (0.05, 1.0, 1.0), (0.5, 1.0, 1.0), (0.01, 10.0, 1.0), (0.1, 1.0, 3.0))):
    scores = f32(scores)
    labels = np.asarray(labels, dtype=np.int64)
    fpr, tpr, thr = roc_curve(labels, scores)
    dfpr, dfnr, dthr = det_curve(labels, scores)
    eer, eer_thr = reference_eer(scores, labels)
    dcfs = []
    for p_target, c_miss, c_fa in dcf_params:
        v, t = reference_min_dcf(scores, labels, p_target, c_miss, c_fa)
        dcfs.append({"p_target": p_target, "c_miss": c_miss, "c_fa": c_fa, "min_dcf": v, "threshold": t})
    full_fpr, full_tpr, full_thr = roc_curve(labels, scores, drop_intermediate=False)
    return {
        "name": name, "scores": scores.tolist(), "labels": labels.tolist(),
        "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds_tail": thr[1:].tolist()},
        "roc_full": {"fpr": full_fpr.tolist(), "tpr": full_tpr.tolist(), "thresholds_tail": full_thr[1:].tolist()},
        "det": {"fpr": dfpr.tolist(), "fnr": dfnr.tolist(), "thresholds": dthr.tolist()},
        "eer": eer, "eer_threshold": eer_thr, "min_dcf": dcfs,
    }


cases = []
# Gaussian target/non-target scores at several separations and class balances.
for k, (n_tgt, n_non, sep) in enumerate([(50, 50, 1.0), (100, 900, 2.0), (300, 700, 0.5), (20, 500, 3.0),
                                          (500, 40, 1.5), (7, 13, 0.8), (500, 500, 2.5), (200, 200, 0.0)]):
    scores = np.r_[rng.normal(sep, 1.0, n_tgt), rng.normal(0.0, 1.0, n_non)]
    labels = np.r_[np.ones(n_tgt), np.zeros(n_non)]
    perm = rng.permutation(len(scores))
    cases.append(case(f"gaussian_{k}_{n_tgt}t_{n_non}n_sep{sep}", scores[perm], labels[perm]))
# Heavy ties: scores on a coarse grid, so many thresholds group several trials of both classes.
for k, (n, levels) in enumerate([(60, 5), (400, 11), (600, 3), (250, 40)]):
    labels = (rng.random(n) < 0.4).astype(int)
    raw = rng.normal(labels * 1.0, 1.0)
    scores = np.round(raw * levels / 4) / levels  # a handful of distinct values
    cases.append(case(f"ties_{k}_n{n}_grid{levels}", scores, labels))
# Integer scores (cosine-like scores quantised to a few values) with an exact crossing at a ROC point.
cases.append(case("integer_scores", [3, 3, 2, 2, 1, 1, 0, 0, 2, 1], [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]))
# Edge cases.
cases.append(case("all_equal", [0.25] * 10, [1, 0, 1, 0, 0, 0, 1, 0, 0, 1]))
cases.append(case("perfect_separation", [0.9, 0.8, 0.95, 0.1, 0.2, 0.3, 0.15], [1, 1, 1, 0, 0, 0, 0]))
cases.append(case("perfectly_wrong", [0.1, 0.2, 0.9, 0.8, 0.7], [1, 1, 0, 0, 0]))
cases.append(case("single_target", [0.3, -1.2, 0.5, 2.0, 0.1, -0.4], [1, 0, 0, 0, 0, 0]))
cases.append(case("single_nontarget", [0.3, -1.2, 0.5, 2.0, 0.1], [1, 1, 0, 1, 1]))
cases.append(case("two_trials", [0.5, 0.4], [0, 1]))
cases.append(case("target_ties_nontarget_max", [1.0, 1.0, 0.5, 0.2, 1.0, 0.0], [1, 0, 1, 0, 1, 0]))

out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "metrics_verification.json")
with open(out_path, "w") as f:
    json.dump({"generator": "test/reference/metrics_verification.py", "cases": cases}, f, allow_nan=False)
print(f"wrote {out_path}: {len(cases)} cases")
