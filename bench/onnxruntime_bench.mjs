#!/usr/bin/env node
// onnxruntime-node's time for one forward pass of an ONNX model on this machine, the yardstick
// for facetrail-bench-onnx (bench/onnx_vs_onnxruntime.sh runs both). CPU execution provider,
// all graph optimisations, intra-op threads as given; a fixed pseudo-random input in [−1, 1]
// (symbolic dimensions: --height/--width); 10 warm-up runs, then the median and 10th/90th
// percentiles of --repeat single runs, the median process CPU time per run (all of Node's
// threads), and the session creation time.
//   node bench/onnxruntime_bench.mjs --model FILE [--threads T] [--repeat R] [--height H --width W]
// onnxruntime-node resolves from $ORT_DIR/node_modules (default tools/golden/onnx, where
// `npm install --ignore-scripts` puts it).
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ortDir = process.env.ORT_DIR || path.join(here, '..', 'tools', 'golden', 'onnx');
const require = createRequire(path.join(ortDir, 'package.json'));
const ort = require('onnxruntime-node');
const version = require('onnxruntime-node/package.json').version;

const opts = { model: null, threads: 1, repeat: 200, height: 0, width: 0 };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '');
  if (!(key in opts)) throw new Error(`unknown argument ${process.argv[i]}`);
  opts[key] = key === 'model' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}
if (!opts.model) throw new Error('need --model');

const t0 = performance.now();
const session = await ort.InferenceSession.create(opts.model, {
  executionProviders: ['cpu'],
  intraOpNumThreads: opts.threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
});
const createMs = performance.now() - t0;
const name = session.inputNames[0];
// The declared shape: symbolic dimensions (and the batch) from the options.
const meta = session.inputMetadata?.[0];
let dims = meta?.shape ? [...meta.shape] : [1, 3, opts.height, opts.width];
dims = dims.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 1 : i === 2 ? opts.height : opts.width));
const n = dims.reduce((a, b) => a * b, 1);
let s = 1;
const x = new Float32Array(n);
for (let i = 0; i < n; i++) {
  s = (s * 1103515245 + 12345) >>> 0;
  x[i] = (s / 4294967296) * 2 - 1;
}
const feeds = { [name]: new ort.Tensor('float32', x, dims) };
for (let i = 0; i < 10; i++) await session.run(feeds);
const times = [];
const cpu = [];
for (let i = 0; i < opts.repeat; i++) {
  const a = performance.now();
  const c = process.cpuUsage();
  await session.run(feeds);
  times.push(performance.now() - a);
  const d = process.cpuUsage(c);
  cpu.push((d.user + d.system) / 1000);
}
times.sort((a, b) => a - b);
cpu.sort((a, b) => a - b);
const at = (p) => times[Math.round(p * (times.length - 1))];
const cpuP50 = cpu[Math.round(0.5 * (cpu.length - 1))];
console.log(`onnxruntime-node ${version}  input ${dims.join('x')}  threads ${opts.threads}  ` +
  `session ${createMs.toFixed(1)} ms  forward p50 ${at(0.5).toFixed(3)} ms ` +
  `(p10 ${at(0.1).toFixed(3)}, p90 ${at(0.9).toFixed(3)}; CPU p50 ${cpuP50.toFixed(3)})`);
