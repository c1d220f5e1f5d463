// ONNX Runtime side of `make compare`: time an exported model with onnxruntime-node.
//
//   node gen/testdata/bench/ort.mjs --model M.onnx --input X.npy [--output Y.npy] [--iters 10] [--threads 2]
//
// One InferenceSession on the CPU execution provider with intraOpNumThreads T (the calling thread
// counts as one of them), interOpNumThreads 1, sequential execution, graphOptimizationLevel 'all';
// one warm-up run (its output is written to --output, to check against PyTorch), then N timed
// runs. Prints one JSON line: {"times_ms": [...], "ort": version, ...}.
// Install with `npm ci` in this directory (package-lock.json pins onnxruntime-node 1.30.0).

import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';

function parseArgs(argv) {
  const a = { iters: 10, threads: 2 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (!k.startsWith('--') || v === undefined) throw new Error(`bad argument ${k}`);
    a[k.slice(2)] = v;
    i++;
  }
  a.iters = Number(a.iters);
  a.threads = Number(a.threads);
  if (!a.model || !a.input || !(a.iters > 0) || !(a.threads > 0)) {
    throw new Error('usage: ort.mjs --model M.onnx --input X.npy [--output Y.npy] [--iters N] [--threads T]');
  }
  return a;
}

// readNpy reads a little-endian float32, C-order .npy file.
function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${path}: want little-endian float32 in C order, header ${header}`);
  }
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').filter((s) => s.trim() !== '').map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start + hlen, buf.byteOffset + buf.length));
  return { data, shape };
}

function writeNpy(path, data, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const x = readNpy(a.input);
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) };
  const outName = session.outputNames[0];
  const warm = await session.run(feeds);
  if (a.output) writeNpy(a.output, warm[outName].data, warm[outName].dims);
  const times = [];
  for (let i = 0; i < a.iters; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  console.log(JSON.stringify({ times_ms: times, ort: ort.env.versions.node ?? ort.env.versions.common, threads: a.threads }));
}

main().catch((e) => {
  console.error(e.stack ?? String(e));
  process.exit(1);
});
