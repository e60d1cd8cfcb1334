#!/usr/bin/env node
// onnxruntime reference dump for tests/golden/onnx: makes each 112×112 input image (a centre
// crop of a decoded JPEG, or a seeded pattern), writes it as a PNG, runs the model on it with
// onnxruntime-node (CPU, 1 thread) and writes all outputs to <out-dir>/fr_feature.json.
//
// Called by tools/golden/onnx/make_golden.sh; not meant to be run by hand. Usage:
//   node dump_onnxruntime.mjs --manifest FILE --model FILE --out-dir DIR --generator STR
//                             --decoder STR
// FILE: tab-separated lines "NAME<TAB>SOURCE<TAB>PIXELS", PIXELS a binary PPM or synthetic:SEED.
//
// Network input: float32 [1, 3, 112, 112], planes B, G, R, value (v − 127) / 128 — exact in
// float32 (an integer minus 127, divided by a power of two), so the C++ test rebuilds the very
// same tensor from the PNG. Output numbers: JSON.stringify of the float32 values widened to
// double (shortest round-trip form), so they read back as the exact float32.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'package.json'));
const ort = require('onnxruntime-node');
const ortVersion = require('onnxruntime-node/package.json').version;

const SIZE = 112;
const CROP = 128;

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['manifest', 'model', 'out-dir', 'generator', 'decoder'].includes(key)) {
      throw new Error(`unknown argument ${argv[i]}`);
    }
    o[key] = argv[i + 1];
  }
  for (const k of ['manifest', 'model', 'out-dir', 'generator', 'decoder']) {
    if (!o[k]) throw new Error(`need --${k}`);
  }
  return o;
}

// binary PPM (P6, maxval 255, no comments) -> { width, height, rgb }
function readPpm(file) {
  const buf = fs.readFileSync(file);
  const m = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.toString('latin1', 0, 64));
  if (!m || Number(m[3]) !== 255) throw new Error(`${file}: not a binary PPM with maxval 255`);
  const width = Number(m[1]);
  const height = Number(m[2]);
  const rgb = buf.subarray(m[0].length, m[0].length + width * height * 3);
  if (rgb.length !== width * height * 3) throw new Error(`${file}: truncated PPM`);
  return { width, height, rgb };
}

// centre CROP×CROP square, bilinear resize (pixel centres aligned) to SIZE×SIZE, rounded
function centreCrop(img) {
  if (img.width < CROP || img.height < CROP) throw new Error('image smaller than the crop');
  const x0 = Math.floor((img.width - CROP) / 2);
  const y0 = Math.floor((img.height - CROP) / 2);
  const out = Buffer.alloc(SIZE * SIZE * 3);
  const scale = CROP / SIZE;
  for (let y = 0; y < SIZE; y++) {
    const sy = Math.min(Math.max((y + 0.5) * scale - 0.5, 0), CROP - 1);
    const ya = Math.floor(sy);
    const yb = Math.min(ya + 1, CROP - 1);
    const fy = sy - ya;
    for (let x = 0; x < SIZE; x++) {
      const sx = Math.min(Math.max((x + 0.5) * scale - 0.5, 0), CROP - 1);
      const xa = Math.floor(sx);
      const xb = Math.min(xa + 1, CROP - 1);
      const fx = sx - xa;
      for (let c = 0; c < 3; c++) {
        const at = (yy, xx) => img.rgb[((y0 + yy) * img.width + (x0 + xx)) * 3 + c];
        const top = at(ya, xa) * (1 - fx) + at(ya, xb) * fx;
        const bottom = at(yb, xa) * (1 - fx) + at(yb, xb) * fx;
        out[(y * SIZE + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(top * (1 - fy) + bottom * fy)));
      }
    }
  }
  return out;
}

// a gradient plus seeded noise (xorshift32), every channel different
function synthetic(seed) {
  let s = (seed >>> 0) || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
  const out = Buffer.alloc(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      for (let c = 0; c < 3; c++) out[(y * SIZE + x) * 3 + c] = (2 * x + y + 80 * c + (next() & 63)) & 255;
    }
  }
  return out;
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
// 8-bit RGB PNG, no filtering, deflate level 9
function encodePng(rgb, width, height) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * 3)] = 0;
    rgb.copy(raw, y * (1 + width * 3) + 1, y * width * 3, (y + 1) * width * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// RGB interleaved -> float32 [1,3,H,W], planes B, G, R, (v − 127) / 128
function toTensor(rgb) {
  const plane = SIZE * SIZE;
  const x = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) x[c * plane + i] = (rgb[i * 3 + (2 - c)] - 127) / 128;
  }
  return x;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const modelBytes = fs.readFileSync(opts.model);
  const session = await ort.InferenceSession.create(opts.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const cases = [];
  for (const line of fs.readFileSync(opts.manifest, 'utf8').split('\n')) {
    if (!line) continue;
    const [name, source, pixels] = line.split('\t');
    const rgb = pixels.startsWith('synthetic:')
      ? synthetic(Number(pixels.slice('synthetic:'.length)))
      : centreCrop(readPpm(pixels));
    const png = `${name}.png`;
    fs.writeFileSync(path.join(opts['out-dir'], png), encodePng(rgb, SIZE, SIZE));
    const result = await session.run({ [inputName]: new ort.Tensor('float32', toTensor(rgb), [1, 3, SIZE, SIZE]) });
    const out = result[outputName];
    cases.push({ name, source, image: png, dims: out.dims, output: Array.from(out.data) });
    process.stderr.write(`dump_onnxruntime: ${name}: ${out.dims.join('x')}\n`);
  }
  const golden = {
    model: path.basename(opts.model),
    model_sha256: crypto.createHash('sha256').update(modelBytes).digest('hex'),
    reference: `onnxruntime-node ${ortVersion} (CPU execution provider, 1 thread)`,
    generator: opts.generator,
    decoder: opts.decoder,
    input: `[1,3,${SIZE},${SIZE}] float32, planes B,G,R of the PNG's pixels, (v - 127) / 128`,
    cases,
  };
  // one case per line: diffable, yet compact
  const { cases: list, ...top } = golden;
  const head = Object.entries(top).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const body = list.map((c) => `    ${JSON.stringify(c)}`).join(',\n');
  fs.writeFileSync(path.join(opts['out-dir'], 'fr_feature.json'), `{\n${head.join(',\n')},\n  "cases": [\n${body}\n  ]\n}\n`);
}

main().catch((e) => {
  console.error(`dump_onnxruntime: ${e.stack || e}`);
  process.exit(1);
});
