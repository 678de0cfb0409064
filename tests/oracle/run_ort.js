#!/usr/bin/env node
// ONNX Runtime as the test oracle: runs MODEL.onnx on the arrays of INPUTS.npz
// (named like the model's inputs) and writes its outputs to OUTPUTS.npz (named
// like the model's outputs, in order).
//   node run_ort.js MODEL.onnx INPUTS.npz OUTPUTS.npz [--repeat N] [--threads N]
// --repeat N also times N runs after 3 warm-ups and prints
// {"median_ms":..,"mean_ms":..,"runs":N} on stdout.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
const { readNpz, writeNpz, serializeNpy } = require('./npz');

const ORT_TYPES = { float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', int16: 'int16',
                    int8: 'int8', uint8: 'uint8', bool: 'bool' };

async function main() {
  const args = process.argv.slice(2);
  const flag = (name, dflt) => { const i = args.indexOf(name); if (i < 0) return dflt; const v = Number(args[i + 1]); args.splice(i, 2); return v; };
  const repeat = flag('--repeat', 0), threads = flag('--threads', 0);
  if (args.length !== 3) { console.error('usage: run_ort.js MODEL.onnx INPUTS.npz OUTPUTS.npz [--repeat N] [--threads N]'); process.exit(2); }
  const [modelPath, inputsPath, outputsPath] = args;
  const options = { graphOptimizationLevel: 'all' };
  if (threads > 0) { options.intraOpNumThreads = threads; options.interOpNumThreads = 1; }
  const session = await ort.InferenceSession.create(modelPath, options);
  const feeds = {};
  for (const [name, a] of readNpz(fs.readFileSync(inputsPath))) {
    if (!session.inputNames.includes(name)) throw new Error(`input '${name}' is not an input of the model (${session.inputNames})`);
    const data = a.dtype === 'bool' ? Uint8Array.from(a.data) : a.data;
    feeds[name] = new ort.Tensor(ORT_TYPES[a.dtype], data, a.shape);
  }
  const results = await session.run(feeds);
  const entries = session.outputNames.map(name => {
    const t = results[name];
    let data = t.data;
    const dtype = t.type === 'bool' ? 'bool' : t.type;
    if (dtype === 'bool') data = Uint8Array.from(data, v => (v ? 1 : 0));
    return [name, serializeNpy(dtype, Array.from(t.dims), data)];
  });
  fs.writeFileSync(outputsPath, writeNpz(entries));
  if (repeat > 0) {
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const times = [];
    for (let i = 0; i < repeat; i++) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    console.log(JSON.stringify({ median_ms: times[Math.floor(times.length / 2)], mean_ms: mean, runs: repeat }));
  }
}

main().catch(e => { console.error(`run_ort: ${e.message}`); process.exit(1); });
