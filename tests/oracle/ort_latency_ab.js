#!/usr/bin/env node
// ONNX Runtime latency of two models of the same network, side by side: both
// sessions live in one process and their runs alternate (A, B, A, B, ...), so
// that a shared machine's load falls on both alike.
//   node ort_latency_ab.js A.onnx B.onnx INPUTS.npz [--repeat N] [--threads N]
// prints {"a_median_ms":..,"b_median_ms":..,"ratio":a/b,"runs":N}
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
const { readNpz } = require('./npz');

async function session(modelPath, threads) {
  const options = { graphOptimizationLevel: 'all' };
  if (threads > 0) { options.intraOpNumThreads = threads; options.interOpNumThreads = 1; }
  return ort.InferenceSession.create(modelPath, options);
}

function feedsFor(s, arrays) {
  const feeds = {};
  for (const [name, a] of arrays) {
    // Inputs are matched by position: the two exporters may name them differently.
    const i = arrays.findIndex(e => e[0] === name);
    feeds[s.inputNames[i]] = new ort.Tensor(a.dtype, a.data, a.shape);
  }
  return feeds;
}

const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function timeRun(s, feeds) {
  const t0 = process.hrtime.bigint();
  await s.run(feeds);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main() {
  const args = process.argv.slice(2);
  const flag = (name, dflt) => { const i = args.indexOf(name); if (i < 0) return dflt; const v = Number(args[i + 1]); args.splice(i, 2); return v; };
  const repeat = flag('--repeat', 50), threads = flag('--threads', 0);
  if (args.length !== 3) { console.error('usage: ort_latency_ab.js A.onnx B.onnx INPUTS.npz [--repeat N] [--threads N]'); process.exit(2); }
  const arrays = readNpz(fs.readFileSync(args[2]));
  const a = await session(args[0], threads), b = await session(args[1], threads);
  const fa = feedsFor(a, arrays), fb = feedsFor(b, arrays);
  for (let i = 0; i < 5; i++) { await a.run(fa); await b.run(fb); }
  const ta = [], tb = [];
  for (let i = 0; i < repeat; i++) {
    // Alternate which goes first, so neither always runs on a warmer cache.
    if (i % 2 === 0) { ta.push(await timeRun(a, fa)); tb.push(await timeRun(b, fb)); }
    else { tb.push(await timeRun(b, fb)); ta.push(await timeRun(a, fa)); }
  }
  const ma = median(ta), mb = median(tb);
  console.log(JSON.stringify({ a_median_ms: ma, b_median_ms: mb, ratio: ma / mb, runs: repeat }));
}

main().catch(e => { console.error(`ort_latency_ab: ${e.message}`); process.exit(1); });
