#!/usr/bin/env node
// ONNX Runtime as the oracle of the built-in evaluator's tests (JSON in, JSON out,
// so the C++ tests need no npz code):
//   node run_ort_eval.js MODEL.onnx REQUEST.json RESULT.json
// REQUEST: {"inputs": {"x": {"type": "float32", "dims": [2, 3], "data": [...]}, ...}}
// RESULT:  {"outputs": [{"name": "y", "type": "float32", "dims": [...], "data": [...]}, ...]} in model order.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

const ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int8: Int8Array, uint8: Uint8Array,
                 int16: Int16Array, int64: BigInt64Array, bool: Uint8Array };

async function main() {
  const [modelPath, requestPath, resultPath] = process.argv.slice(2);
  if (!resultPath) { console.error('usage: run_ort_eval.js MODEL.onnx REQUEST.json RESULT.json'); process.exit(2); }
  const request = JSON.parse(fs.readFileSync(requestPath, 'utf8'));
  const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'disabled' });
  const feeds = {};
  for (const [name, t] of Object.entries(request.inputs)) {
    const Array_ = ARRAYS[t.type];
    const data = t.type === 'int64' ? Array_.from(t.data, v => BigInt(Math.round(v))) : Array_.from(t.data);
    feeds[name] = new ort.Tensor(t.type, data, t.dims);
  }
  const results = await session.run(feeds);
  const outputs = session.outputNames.map(name => {
    const t = results[name];
    return { name, type: t.type, dims: Array.from(t.dims), data: Array.from(t.data, v => Number(v)) };
  });
  fs.writeFileSync(resultPath, JSON.stringify({ outputs }));
}

main().catch(e => { console.error(`run_ort_eval: ${e.message}`); process.exit(1); });
