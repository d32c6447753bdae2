// Load on `stagegate serve` over loopback: REQUESTS completions at CONCURRENCY at a time, each
// a prompt of PROMPT_TOKENS token ids and max_tokens MAX_TOKENS, with Node's own fetch (no
// packages). Prints one JSON line: errors, latency p50/p99, completion tokens per second.
// Usage: node load.mjs URL KEY MODEL REQUESTS CONCURRENCY [PROMPT_TOKENS] [MAX_TOKENS] [VOCAB]
const [url, key, model, requests, concurrency, promptTokens = '32', maxTokens = '64',
  vocab = '8192'] = process.argv.slice(2);
const total = Number(requests);
const width = Number(concurrency);

// A fixed prompt per request (a small LCG), so runs are comparable.
const promptFor = (i) => {
  let x = (i + 1) * 2654435761 % 4294967296;
  const ids = [];
  for (let k = 0; k < Number(promptTokens); k++) {
    x = (x * 1664525 + 1013904223) % 4294967296;
    ids.push(x % Number(vocab));
  }
  return ids;
};

const latencies = [];
let errors = 0;
let tokens = 0;
let next = 0;
const firstError = [];
const worker = async () => {
  while (next < total) {
    const i = next++;
    const start = performance.now();
    try {
      const r = await fetch(`${url}/v1/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model, prompt: promptFor(i), max_tokens: Number(maxTokens),
          temperature: 1, seed: i }),
      });
      const body = await r.json();
      if (r.status !== 200) {
        errors++;
        if (firstError.length === 0) firstError.push(`${r.status} ${JSON.stringify(body)}`);
      } else {
        tokens += body.usage.completion_tokens;
      }
    } catch (e) {
      errors++;
      if (firstError.length === 0) firstError.push(String(e));
    }
    latencies.push(performance.now() - start);
  }
};
const t0 = performance.now();
await Promise.all(Array.from({ length: width }, worker));
const seconds = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(JSON.stringify({
  requests: total, concurrency: width, errors, seconds: +seconds.toFixed(2),
  p50_ms: +pct(0.5).toFixed(1), p99_ms: +pct(0.99).toFixed(1),
  completion_tokens: tokens, tokens_per_second: +(tokens / seconds).toFixed(1),
  requests_per_second: +(total / seconds).toFixed(2), first_error: firstError[0] ?? null,
}));
