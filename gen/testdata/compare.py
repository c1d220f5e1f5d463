#!/usr/bin/python3
"""Compare two .npy arrays: prints max|A-B|, max|B| and their ratio; exit 1 if ratio > tol.

    /usr/bin/python3 gen/testdata/compare.py A.npy B.npy [--tol 2e-5]

B is the reference (e.g. the *.expected.npy written by parity.py / make_fixtures.py).
Exit status: 0 ok, 1 ratio above tolerance (or non-finite values), 2 shape mismatch.
"""

import argparse
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('a')
    ap.add_argument('b')
    ap.add_argument('--tol', type=float, default=2e-5)
    args = ap.parse_args()
    a = np.load(args.a).astype(np.float64)
    b = np.load(args.b).astype(np.float64)
    if a.shape != b.shape:
        print('shape mismatch: %s %s vs %s %s' % (args.a, a.shape, args.b, b.shape))
        return 2
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        print('non-finite values: A %d, B %d' % ((~np.isfinite(a)).sum(), (~np.isfinite(b)).sum()))
        return 1
    diff = np.abs(a - b).max() if a.size else 0.0
    ref = np.abs(b).max() if b.size else 0.0
    ratio = diff / ref if ref > 0 else (0.0 if diff == 0 else float('inf'))
    ok = ratio <= args.tol
    print('max|A-B| %.6g  max|B| %.6g  ratio %.3g  tol %.3g  %s' % (diff, ref, ratio, args.tol, 'OK' if ok else 'FAIL'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
