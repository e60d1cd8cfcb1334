#!/usr/bin/env python3
"""Score-level methods measured on the degradation ladder's cached templates (docs/ACCURACY.md,
session 11): reads the template caches `facetrail eval report --degrade-probes …` wrote
(docs/EVAL.md, "Template cache"), so nothing is recomputed, and prints rank-1 / FNIR at FPIR 1 %
per rung for each method against the plain cosine. The same 1:N protocol as `facetrail eval`
(gallery: each identity's first image; non-mated search = the probe with its mate left out;
ties against the mate).

  python3 bench/ladder_posthoc.py out/ladder/templates.cache [--model ID] [--fuse out/ladder-faceapi/templates.cache]

Methods:
  cohort K,W   score − W · (mean of the gallery template's K best scores against a cohort of
               probe templates): the "hubness" correction. The cohort of a probe's search comes
               from the other half of the identities (split by a hash), once with the cohort
               members of the gallery template's own identity left in (leaky: the cohort then
               holds the gallery person's other photos) and once with them left out (what a
               cohort of people outside the gallery gives).
  topk K       decision score = top score − mean of the next K−1 (ranking unchanged): FNIR only.
  gallery-deg  score + W · cosine with the gallery image degraded like the probe (needs the
               cache of a run with --degrade-gallery-too).
  fuse B       (1 − B) × this cache's cosine + B × a second model's (--fuse CACHE of the same
               images); B = 0.5 is the shipped fusion's mean.
Needs numpy (Debian: python3-numpy).
"""
import argparse, collections, os, struct, sys, zlib
import numpy as np


def load(path):
    d = open(path, 'rb').read()
    if d[:9] != b'FTEVCACHE':
        sys.exit(f'{path}: not a template cache')
    o = 9 + 4
    n, = struct.unpack_from('<Q', d, o); o += 8
    recs = {}
    for _ in range(n):
        l, = struct.unpack_from('<I', d, o); o += 4; p = d[o:o + l].decode(); o += l
        l, = struct.unpack_from('<I', d, o); o += 4; cid = d[o:o + l].decode(); o += l
        o += 16
        has_face = d[o]; o += 1 + 28
        c, = struct.unpack_from('<I', d, o); o += 4
        t = np.frombuffer(d, '<f4', c, o).copy(); o += 4 * c
        c, = struct.unpack_from('<I', d, o); o += 4 + 4 * c
        recs[(p, cid)] = t if has_face and t.size else None
    return recs


class Ladder:
    def __init__(self, path, model=''):
        self.R = load(path)
        ids = collections.Counter(k[1] for k in self.R)
        bases = [c for c in ids if '/degrade=' not in c and c.startswith(model)]
        if len(bases) != 1:
            sys.exit(f'{path}: {len(bases)} template models match {model!r} (give the model id '
                     f'with --model / --fuse-model): ' + ', '.join(c for c in ids if '/degrade=' not in c))
        self.base = bases[0]
        self.rungs = {c.split('/degrade=')[1]: c for c in ids if c.startswith(self.base + '/degrade=')}
        ident = lambda p: os.path.basename(os.path.dirname(p))
        by = collections.defaultdict(list)
        for p in sorted(k[0] for k in self.R if k[1] == self.base):
            by[ident(p)].append(p)
        self.gal = sorted(v[0] for v in by.values())
        self.gid = {ident(p): i for i, p in enumerate(self.gal)}
        self.probes = sorted(p for v in by.values() for p in v[1:])
        self.y = np.array([self.gid[ident(p)] for p in self.probes])
        self.half = np.array([zlib.crc32(ident(p).encode()) % 2 for p in self.probes])
        self.dim = next(t for t in self.R.values() if t is not None).size
        self.G = self.rows(self.gal, self.base)

    def rows(self, paths, cid):
        z = np.zeros(self.dim, np.float32)
        return np.stack([self.R.get((p, cid)) if self.R.get((p, cid)) is not None else z for p in paths])

    def probe_rows(self, rung):
        return self.rows(self.probes, self.base if rung == '1' else self.rungs[rung])


def figures(S, y, decision=None, fpir=0.01):
    n = len(y); mate = S[np.arange(n), y].copy()
    S2 = S.copy(); S2[np.arange(n), y] = -np.inf
    nonmate_top = S2.max(1)
    hit = mate > nonmate_top
    dm, dn = (np.maximum(mate, nonmate_top), nonmate_top) if decision is None else decision(S, S2)
    thr = np.sort(dn)[::-1][int(fpir * n)]
    return 100 * hit.mean(), 100 * np.mean(~(hit & (dm > thr)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('cache'); ap.add_argument('--fuse')
    ap.add_argument('--model', default='', help='template model id prefix, when a cache holds several')
    ap.add_argument('--fuse-model', default='')
    a = ap.parse_args()
    L = Ladder(a.cache, a.model)
    rungs = ['1'] + sorted(L.rungs)
    X = {r: L.probe_rows(r) for r in rungs}
    out = lambda name, f: print(f'{name:34s}', '  '.join(f'{r}: {f(r)[0]:.2f}/{f(r)[1]:.2f}' for r in rungs), flush=True)
    print('method (rank-1 % / FNIR at FPIR 1 % per rung)')
    out('plain cosine', lambda r: figures(X[r] @ L.G.T, L.y))
    for excl in (False, True):
        for K, W in ((5, 0.3), (10, 0.5)):
            bias = {}
            for h in (0, 1):
                C = np.concatenate([X[r][L.half != h] for r in rungs]); cy = np.concatenate([L.y[L.half != h]] * len(rungs))
                keep = np.linalg.norm(C, axis=1) > 0; C, cy = C[keep], cy[keep]
                SG = L.G @ C.T
                if excl:
                    SG[np.arange(len(L.G))[:, None] == cy[None, :]] = -np.inf
                bias[h] = W * np.mean(-np.sort(-SG, axis=1)[:, :K], axis=1)
            def f(r):
                S = X[r] @ L.G.T
                S -= np.where((L.half == 0)[:, None], bias[0][None, :], bias[1][None, :])
                return figures(S, L.y)
            out(f'cohort K={K} W={W} {"own id out" if excl else "LEAKY"}', f)
    for K in (10, 50):
        def dec(S, S2, K=K):
            g = lambda M: (lambda s: s[:, 0] - s[:, 1:K].mean(1))(-np.sort(-M, axis=1))
            return g(S), g(S2)
        out(f'topk decision K={K}', lambda r: figures(X[r] @ L.G.T, L.y, dec))
    for W in (0.25, 0.5):
        def f(r, W=W):
            cid = L.base if r == '1' else L.rungs[r]
            Gd = L.rows(L.gal, cid)
            if r != '1' and not np.any(Gd):
                return (float('nan'), float('nan'))
            return figures(X[r] @ L.G.T + W * (X[r] @ Gd.T), L.y)
        out(f'gallery-deg W={W}', f)
    if a.fuse:
        F = Ladder(a.fuse, a.fuse_model)
        FX = {r: F.probe_rows(r) for r in rungs if r == '1' or r in F.rungs}
        for B in (0.5, 0.59, 0.67):
            def f(r, B=B):
                if r not in FX:
                    return (float('nan'), float('nan'))
                return figures((1 - B) * (X[r] @ L.G.T) + B * (FX[r] @ F.G.T), L.y)
            out(f'fuse, weight {B} on the second', f)


if __name__ == '__main__':
    main()
