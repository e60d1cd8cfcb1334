#!/usr/bin/env python3
"""Fits a model's projection (docs/MODELS.md, "Projection") from the template cache of a
degradation-ladder run (`facetrail eval report --degrade-probes …`, docs/EVAL.md), and measures it
first with two-fold cross-validation over identities.

The projection shrinks the directions along which degradation moves a face's template. For every
probe image and every degraded rung used, d = (template of the degraded image) − (template of the
same image undegraded); C = mean of d dᵀ, eigenpairs (w_i, v_i). Then

    P = Σ_i sqrt(λ·mean(w) / (w_i + λ·mean(w))) · v_i v_iᵀ

(a whitening of C regularised by λ times its mean eigenvalue, scaled so directions the
degradations do not move keep factor ≈ 1). No identity labels are used: only pairs of one image,
clean and degraded. A template t becomes P t, made unit again, on both sides of every comparison.

  python3 bench/fit_projection.py out/ladder/templates.cache --model faceplugin-0.0.1-fr_feature \
      --lambda 30 --out models/fr_feature-robust.projection.f32

The cross-validation (printed first) fits on the probes of one half of the identities (split by a
hash of the name) and measures rank-1 / FNIR at FPIR 1 % per rung on the other half's searches,
then the other way round, against the plain cosine: the figures that predict unseen people. The
written matrix is fitted on every probe. Needs numpy (Debian: python3-numpy).
"""
import argparse, hashlib, sys
import numpy as np
from ladder_posthoc import Ladder, figures


def unit(a):
    n = np.linalg.norm(a, axis=1, keepdims=True)
    n[n == 0] = 1
    return a / n


def fit(X, rows, rungs, lam):
    """P from the probes `rows` (boolean mask) of the rungs `rungs`; X[rung]: probe templates."""
    ok = rows & np.any(X['1'] != 0, 1)
    d = np.concatenate([(X[r] - X['1'])[ok & np.any(X[r] != 0, 1)] for r in rungs])
    w, v = np.linalg.eigh(d.astype(np.float64).T @ d / len(d))
    w = np.maximum(w, 0)
    reg = lam * w.mean()
    return (v * np.sqrt(reg / (w + reg))) @ v.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('cache')
    ap.add_argument('--model', default='', help='template model id prefix, when a cache holds several')
    ap.add_argument('--lambda', dest='lam', type=float, default=30.0)
    ap.add_argument('--skip', default='0.25+blur', help='rungs starting so are left out of the fit '
                    '(0.25 + blur + q30: 6-pixel faces, their templates are noise)')
    ap.add_argument('--out')
    a = ap.parse_args()
    L = Ladder(a.cache, a.model)
    rungs = ['1'] + sorted(L.rungs)
    X = {r: L.probe_rows(r) for r in rungs}
    used = [r for r in rungs if r != '1' and not r.startswith(a.skip)]
    print(f'{L.base}: {len(L.probes)} probes, {len(L.gal)} gallery; fit on rungs {", ".join(used)}; '
          f'lambda {a.lam}')

    def cross_validated(project):
        out = {}
        P = {h: fit(X, L.half != h, used, a.lam) if project else np.eye(L.dim) for h in (0, 1)}
        for r in rungs:
            S = np.zeros((len(L.y), len(L.G)), np.float32)
            for h in (0, 1):
                te = L.half == h
                S[te] = unit(X[r][te] @ P[h].T) @ unit(L.G @ P[h].T).T
            out[r] = figures(S, L.y)
        return out

    plain, proj = cross_validated(False), cross_validated(True)
    print(f'{"rung":24s} {"rank-1 plain → projected":>26s} {"FNIR@FPIR1 plain → projected":>30s}')
    for r in rungs:
        print(f'{r:24s} {plain[r][0]:11.2f} → {proj[r][0]:6.2f} % {plain[r][1]:14.2f} → {proj[r][1]:6.2f} %')
    if a.out:
        P = fit(X, np.ones(len(L.y), bool), used, a.lam).astype('<f4')
        P.tofile(a.out)
        print(f'wrote {a.out}: {L.dim} x {L.dim} float32, sha256 '
              f'{hashlib.sha256(P.tobytes()).hexdigest()}')


if __name__ == '__main__':
    main()
