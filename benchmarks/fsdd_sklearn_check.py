"""An independent route to a linear-probe figure: FSDD digits, leave one speaker out, with
scikit-learn's LogisticRegression on embeddings written by `audiorep embed`, instead of the
evaluation package's probe (which also holds out a validation speaker and uses its own penalty).

    python benchmarks/fsdd_sklearn_check.py --json PATH NAME=CHECKPOINT ...

The two routes differ in protocol (five training speakers here, four there; C = 1 here), so
the values differ; the ordering of the checkpoints is what they must agree on.
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

FSDD = Path(__file__).resolve().parents[2] / "shared" / "data" / "fsdd" / "recordings"


def loso(folder: Path) -> list[float]:
    x = np.load(folder / "embeddings.npy")
    names = [r["relpath"] for r in csv.DictReader(open(folder / "index.csv"))]
    digit = np.array([n.split("_")[0] for n in names])
    speaker = np.array([n.split("_")[1] for n in names])
    scores = []
    for held_out in sorted(set(speaker)):
        train, test = speaker != held_out, speaker == held_out
        scale = StandardScaler().fit(x[train])
        clf = LogisticRegression(max_iter=3000, C=1.0).fit(scale.transform(x[train]), digit[train])
        scores.append(float((clf.predict(scale.transform(x[test])) == digit[test]).mean()))
    return scores


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="NAME=CHECKPOINT")
    p.add_argument("--json", required=True)
    args = p.parse_args()
    out = {"command": "python " + " ".join(shlex.quote(a) for a in sys.argv), "protocol": __doc__.split("\n\n")[0],
           "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.models:
            name, checkpoint = spec.split("=", 1)
            folder = Path(tmp) / name
            subprocess.run([sys.executable, "-m", "audiorep", "embed", "--model", checkpoint, str(FSDD), "--out",
                            str(folder), "--quiet"], check=True)
            folds = loso(folder)
            out["models"][name] = {"checkpoint": checkpoint, "mean": round(float(np.mean(folds)), 4),
                                   "std": round(float(np.std(folds)), 4), "folds": [round(f, 4) for f in folds]}
            print(f"{name}: {out['models'][name]['mean']:.3f} ± {out['models'][name]['std']:.3f}")
    Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
