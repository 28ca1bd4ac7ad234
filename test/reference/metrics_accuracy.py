"""Reference values for metrics.accuracy, topKAccuracy and confusionMatrix (lib/metrics/accuracy.ts,
confusion_matrix.ts).

Run from the repository root with Debian's python (scikit-learn 1.2, numpy):
    /usr/bin/python3 test/reference/metrics_accuracy.py
It writes test/reference/fixtures/metrics_accuracy.json with sklearn.metrics.accuracy_score (on
numpy's argmax of the logits, first index on ties), top_k_accuracy_score (logits without ties; sklearn
breaks ties by class order, slimspeech counts a tie in the true class's favour) and confusion_matrix
(labels=range(num_classes); rows are true classes, columns predictions; normalize None/'true'/'pred'/'all').
Arrays are {shape, data}, data flat row-major.
"""
import json
import os

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, top_k_accuracy_score

rng = np.random.default_rng(99)


def tensor(x):
    x = np.asarray(x, dtype=np.float64)
    return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}


cases = []
for name, n, c, integer_logits in [("n50_c5", 50, 5, False), ("n200_c12", 200, 12, False),
                                   ("n31_c35", 31, 35, False), ("ties_integer_logits", 40, 4, True)]:
    labels = rng.integers(0, c, n)
    labels[:3] = [0, 1, 2]  # at least three classes present: sklearn treats y_true as multiclass
    if integer_logits:
        logits = rng.integers(0, 3, (n, c)).astype(np.float64)  # many tied maxima
    else:
        logits = rng.normal(0, 1, (n, c)).astype(np.float32).astype(np.float64)
        logits[np.arange(n), labels] += 1.0  # better than chance
    preds = np.argmax(logits, axis=1)
    entry = {
        "name": name, "num_classes": c, "logits": tensor(logits), "labels": labels.tolist(),
        "predictions": preds.tolist(), "accuracy": accuracy_score(labels, preds),
        "confusion": tensor(confusion_matrix(labels, preds, labels=list(range(c)))),
    }
    for norm in ["true", "pred", "all"]:
        entry[f"confusion_{norm}"] = tensor(confusion_matrix(labels, preds, labels=list(range(c)), normalize=norm))
    if not integer_logits:
        entry["top_k"] = {str(k): top_k_accuracy_score(labels, logits, k=k, labels=list(range(c)))
                          for k in [1, 2, 3, 5] if k < c}
    cases.append(entry)

out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "metrics_accuracy.json")
with open(out_path, "w") as f:
    json.dump({"generator": "test/reference/metrics_accuracy.py", "cases": cases}, f, allow_nan=False)
print(f"wrote {out_path}: {len(cases)} cases")
