#!/usr/bin/env python3
"""Time per kind of convolution in one forward pass of an ONNX model, from oneDNN's own timings.

    bench/onnx_layer_profile.py [--model FILE] [--precision f32|bf16] [--repeat R] [--threads T]

Runs build/facetrail-bench-onnx with ONEDNN_VERBOSE=1 (oneDNN prints every primitive it executes
with its time) and sums the convolutions of the timed runs by kind: depthwise (groups = channels),
1x1, and other (full k x k). For each: layers per forward, ms per forward, MFLOP and GFLOP/s
(2 x multiply-adds from the problem descriptor), and the bytes the layer must at least move
(input + output activations + weights, as float32 or bf16) with the GB/s that implies — a
depthwise layer does ~1 multiply-add per byte moved, so its speed is set by memory, not by the
FMA units. The remainder to the bench's CPU time per forward (median, from a second run without
oneDNN's printing) is what
runs outside the convolution kernels: the PReLU loop, bf16 conversions of each layer's input,
layout steps, copies. Figures: docs/PERFORMANCE.md ("ONNX networks").
"""
import argparse
import os
import re
import subprocess
import sys
from collections import defaultdict

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument('--model', default=os.path.join(here, '..', 'models', 'fr_feature.onnx'))
ap.add_argument('--precision', default='f32')
ap.add_argument('--repeat', type=int, default=50)
ap.add_argument('--threads', type=int, default=1)
ap.add_argument('--bench', default=os.path.join(os.environ.get('BUILD_DIR', 'build'),
                                                'facetrail-bench-onnx'))
args = ap.parse_args()

command = [args.bench, '--model', args.model, '--precision', args.precision,
           '--repeat', str(args.repeat), '--threads', str(args.threads)]
# The forward time without oneDNN's printing (which costs time of its own), then the layers.
plain = subprocess.run(command, capture_output=True, text=True, check=True).stdout
summary = [l for l in plain.splitlines() if l.startswith(args.precision)]
# CPU time per forward: on a shared machine much less distorted than wall-clock time.
m = re.search(r'CPU p50 ([0-9.]+)\)', summary[-1]) if summary else None
p50 = float(m.group(1)) if m else float('nan')
out = subprocess.run(command, env=dict(os.environ, ONEDNN_VERBOSE='1'), capture_output=True,
                     text=True, check=True).stdout
lines = [l for l in out.splitlines() if l.startswith('onednn_verbose,exec,cpu,convolution')]
# The bench runs 10 warm-up passes, then --repeat timed ones; keep the timed ones.
runs = 10 + args.repeat
if len(lines) % runs != 0:
    sys.exit(f'onnx_layer_profile: {len(lines)} convolution lines for {runs} runs')
per_run = len(lines) // runs
timed = lines[10 * per_run:]
element = 2 if args.precision == 'bf16' else 4
kinds = defaultdict(lambda: [0, 0.0, 0.0, 0.0])  # layers, ms, flop, bytes (per forward)
for line in timed:
    f = line.split(',')
    desc, ms, impl = f[-2], float(f[-1]), f[4]
    d = dict((k, int(v)) for k, v in re.findall(r'([a-z]+)(\d+)', desc.replace('_', ' ')))
    g = d.get('g', 1)
    ic, oc = d['ic'], d['oc']
    kh, kw = d['kh'], d['kw']
    ih, iw, oh, ow = d['ih'], d['iw'], d['oh'], d['ow']
    flop = 2.0 * oc * oh * ow * kh * kw * (ic // g)
    moved = element * (ic * ih * iw + oc * oh * ow + oc * (ic // g) * kh * kw)
    kind = 'depthwise' if g > 1 and g == ic == oc else ('1x1' if kh == kw == 1 else 'k x k')
    k = kinds[f'{kind:9s} {impl}']
    k[0] += 1; k[1] += ms; k[2] += flop; k[3] += moved
n = args.repeat
total = 0.0
print(f'{os.path.basename(args.model)} {args.precision}, {args.threads} thread(s), {n} runs; '
      f'bench CPU p50 {p50:.3f} ms per forward')
print(f'{"kind / oneDNN kernel":38s} {"layers":>6s} {"ms":>7s} {"MFLOP":>7s} {"GFLOP/s":>8s} '
      f'{"MB moved":>9s} {"GB/s":>6s}')
for name, (layers, ms, flop, moved) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
    total += ms / n
    print(f'{name:38s} {layers // n:6d} {ms / n:7.3f} {flop / n / 1e6:7.1f} '
          f'{flop / ms / 1e6:8.1f} {moved / n / 1e6:9.2f} {moved / ms / 1e6:6.1f}')
print(f'{"all convolutions":38s} {"":6s} {total:7.3f}')
print(f'{"outside the convolutions (CPU p50 - above)":38s} {"":6s} {p50 - total:7.3f}')
