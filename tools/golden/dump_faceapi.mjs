#!/usr/bin/env node
// Golden reference dump: runs the real face-api.js (@vladmandic/face-api 1.7.15) on binary PPM
// images and writes one JSON file per image with full float precision (JS default number printing:
// shortest string that round-trips the double; descriptor values are float32 widened to double).
//
// Called by tools/golden/make_golden.sh; not meant to be run by hand. Usage:
//   node dump_faceapi.mjs --manifest FILE --decoder STR --generator STR
// FILE: tab-separated lines "PPM_PATH<TAB>SOURCE<TAB>OUT_JSON".
//
// face-api is loaded exactly as the reference peer /work/shared/peers/faceapi/run.mjs does
// (tfjs 4.22.0 + tfjs-backend-wasm, face-api's dist/face-api.node-wasm.js, weights shipped in the
// npm package, SsdMobilenetv1Options minConfidence 0.5 / maxResults 100,
// detectAllFaces().withFaceLandmarks().withFaceDescriptors() on an int32 [H,W,3] tensor).
// Modules resolve from $FACEAPI_DIR/node_modules (default /work/shared/peers/faceapi).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

const FACEAPI_DIR = process.env.FACEAPI_DIR || '/work/shared/peers/faceapi';
const require = createRequire(path.join(FACEAPI_DIR, 'package.json'));

function parseArgs(argv) {
  const o = { manifest: null, decoder: null, generator: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--manifest') o.manifest = argv[++i];
    else if (a === '--decoder') o.decoder = argv[++i];
    else if (a === '--generator') o.generator = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.manifest || !o.decoder || !o.generator) throw new Error('need --manifest, --decoder, --generator');
  return o;
}

// binary PPM (P6, maxval 255) -> { width, height, rgb (Buffer, width*height*3) }; same header
// grammar as run.mjs (comments allowed), payload starts after the single whitespace byte
function readPpm(file) {
  const buf = fs.readFileSync(file);
  const m = /^P6\s+(?:#[^\n]*\n\s*)*(\d+)\s+(?:#[^\n]*\n\s*)*(\d+)\s+(?:#[^\n]*\n\s*)*(\d+)\s/.exec(buf.toString('latin1', 0, 512));
  if (!m || Number(m[3]) !== 255) throw new Error(`${file}: not a binary PPM with maxval 255`);
  const width = Number(m[1]); const height = Number(m[2]);
  const rgb = buf.subarray(m[0].length, m[0].length + width * height * 3);
  if (rgb.length !== width * height * 3) throw new Error(`${file}: truncated PPM payload`);
  return { width, height, rgb };
}

// one top-level key per line, one face per line: diffable, yet compact. Numbers use JSON.stringify,
// i.e. JS default printing (shortest round-trip form of the double).
function formatGolden(obj) {
  const { faces, ...top } = obj;
  const head = Object.entries(top).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const body = faces.length ? `[\n${faces.map((f) => `    ${JSON.stringify(f)}`).join(',\n')}\n  ]` : '[]';
  return `{\n${head.join(',\n')},\n  "faces": ${body}\n}\n`;
}

const rect = (b) => ({ x: b.x, y: b.y, width: b.width, height: b.height });

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tf = require('@tensorflow/tfjs');
  const tfwasm = require('@tensorflow/tfjs-backend-wasm');
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const faceapiVersion = require('@vladmandic/face-api/package.json').version;
  tfwasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), path.sep));
  if (!(await tf.setBackend('wasm'))) throw new Error('could not initialise tfjs backend wasm');
  await tf.ready();
  const backend = tf.getBackend();
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 });

  const lines = fs.readFileSync(opts.manifest, 'utf8').split('\n').filter((l) => l.trim());
  for (const line of lines) {
    const [ppm, source, outFile] = line.split('\t');
    const { width, height, rgb } = readPpm(ppm);
    const tensor = tf.tensor3d(Int32Array.from(rgb), [height, width, 3], 'int32');
    const res = await faceapi.detectAllFaces(tensor, options).withFaceLandmarks().withFaceDescriptors();
    tf.dispose(tensor);
    const faces = res.map((r) => {
      // the regions face-api actually slices out of the image (after clipAtImageBorders().floor()):
      // landmark net input = detection box (§2 of PIPELINE.md), recognition net input = the
      // landmarks' dlib-style aligned rectangle (§1), exactly as extractFaceTensors computes them
      const lmkCrop = r.detection.forSize(width, height).box.clipAtImageBorders(width, height);
      const recRect = r.landmarks.align(null, { useDlibAlignment: true });
      const recCrop = recRect.clipAtImageBorders(width, height);
      return {
        score: r.detection.score,
        box: rect(r.detection.box),
        landmarks: r.landmarks.positions.map((p) => [p.x, p.y]),
        descriptor: Array.from(r.descriptor),
        landmark_crop: rect(lmkCrop),
        recognition_rect: rect(recRect),
        recognition_crop: rect(recCrop),
      };
    });
    const out = {
      source,
      decoder: opts.decoder,
      pixels_sha256: crypto.createHash('sha256').update(rgb).digest('hex'),
      width,
      height,
      generator: opts.generator,
      faceapi_version: faceapiVersion,
      backend,
      faces,
    };
    fs.writeFileSync(outFile, formatGolden(out));
    process.stderr.write(`${path.basename(outFile)}: ${source} ${width}x${height} faces=${faces.length}\n`);
  }
}

main().catch((e) => { process.stderr.write(`${e.stack || e}\n`); process.exit(1); });
