// Minimal .npy/.npz reader and writer (numpy's formats) for the ONNX Runtime
// oracle: little-endian, C order; zip entries stored or deflated.
'use strict';
const zlib = require('zlib');

const DTYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array], '<i8': ['int64', BigInt64Array],
  '<i4': ['int32', Int32Array], '<i2': ['int16', Int16Array], '|i1': ['int8', Int8Array], '|u1': ['uint8', Uint8Array],
  '|b1': ['bool', Uint8Array], '<u8': ['uint64', BigUint64Array],
};
const DESCR = { float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', int16: '<i2', int8: '|i1', uint8: '|u1', bool: '|b1' };

function parseNpy(buf) {
  if (buf.readUInt32BE(0) !== 0x934e554d) throw new Error('not an .npy array');
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error('fortran order is not supported');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)[1];
  const shape = shapeText.split(',').map(s => s.trim()).filter(s => s.length).map(Number);
  const [dtype, Ctor] = DTYPES[descr] || [];
  if (!dtype) throw new Error(`dtype ${descr} is not supported`);
  const body = buf.subarray(start + headerLen);
  const copy = Buffer.from(body);  // aligned copy
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Ctor(copy.buffer, copy.byteOffset, count);
  return { dtype, shape, data };
}

function serializeNpy(dtype, shape, data) {
  const descr = DESCR[dtype];
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.writeUInt32BE(0x934e554d, 0);
  head[4] = 0x50; head[5] = 0x59; head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), bytes]);
}

function readNpz(buf) {
  const arrays = [];
  let off = 0;
  while (off + 30 <= buf.length && buf.readUInt32LE(off) === 0x04034b50) {
    const method = buf.readUInt16LE(off + 8);
    let csize = buf.readUInt32LE(off + 18);
    const nameLen = buf.readUInt16LE(off + 26), extraLen = buf.readUInt16LE(off + 28);
    const name = buf.toString('utf8', off + 30, off + 30 + nameLen);
    const extra = buf.subarray(off + 30 + nameLen, off + 30 + nameLen + extraLen);
    if (csize === 0xffffffff) {  // zip64 extra field
      for (let e = 0; e + 4 <= extra.length;) {
        const id = extra.readUInt16LE(e), size = extra.readUInt16LE(e + 2);
        if (id === 1) { csize = Number(extra.readBigUInt64LE(e + 12)); break; }
        e += 4 + size;
      }
    }
    const dataStart = off + 30 + nameLen + extraLen;
    let data = buf.subarray(dataStart, dataStart + csize);
    if (method === 8) data = zlib.inflateRawSync(data);
    else if (method !== 0) throw new Error(`zip method ${method} is not supported`);
    arrays.push([name.replace(/\.npy$/, ''), parseNpy(data)]);
    off = dataStart + csize;
  }
  return arrays;
}

function crc32(buf) {
  let c, crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function writeNpz(entries) {
  const locals = [], centrals = [];
  let offset = 0;
  for (const [name, npy] of entries) {
    const fname = Buffer.from(name + '.npy');
    const crc = crc32(npy);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0, 6); local.writeUInt16LE(0, 8);
    local.writeUInt32LE(0, 10); local.writeUInt32LE(crc, 14); local.writeUInt32LE(npy.length, 18);
    local.writeUInt32LE(npy.length, 22); local.writeUInt16LE(fname.length, 26); local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16); central.writeUInt32LE(npy.length, 20); central.writeUInt32LE(npy.length, 24);
    central.writeUInt16LE(fname.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, fname, npy);
    centrals.push(central, fname);
    offset += 30 + fname.length + npy.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

module.exports = { parseNpy, serializeNpy, readNpz, writeNpz };
