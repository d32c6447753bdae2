// The official OpenAI Node client (package.json pins it) calling `stagegate serve` unchanged:
// completions, n > 1, streaming, a stream the client cuts, the models list, a completion the
// policy refuses (streamed or not), and each error status as the client's own error class.
// Usage: node check.mjs PORT RESEARCHER_KEY PUBLIC_KEY STRICT_KEY LIMITED_KEY
// (the server's queue holds 8 choices; the limited key may send one request a minute)
// Prints one line per failed check and exits 1 if any failed.
import OpenAI from 'openai';

const [port, researcherKey, publicKey, strictKey, limitedKey] = process.argv.slice(2);
const baseURL = `http://127.0.0.1:${port}/v1`;
const client = (apiKey) => new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: 120000 });
const researcher = client(researcherKey);
const failures = [];
const check = (name, ok, detail) => {
  if (!ok) failures.push(`${name}: ${JSON.stringify(detail)}`);
};
const ask = { model: 'stage1', prompt: 'hello world', max_tokens: 8, temperature: 0.9, seed: 5 };

const one = await researcher.completions.create(ask);
check('object', one.object === 'text_completion', one);
check('one choice', one.choices.length === 1 && one.choices[0].index === 0, one.choices);
check('finish_reason', one.choices[0].finish_reason === 'length', one.choices[0]);
check('usage', one.usage.completion_tokens === 8 &&
  one.usage.total_tokens === one.usage.prompt_tokens + 8, one.usage);
check('stagegate field', typeof one.stagegate.checkpoint_sha256 === 'string', one.stagegate);

const three = await researcher.completions.create({ ...ask, n: 3 });
check('n = 3', three.choices.map((c) => c.index).join() === '0,1,2', three.choices);
check('n = 3 first equals n = 1', three.choices[0].text === one.choices[0].text, three.choices);

let streamed = '';
let finish = null;
let chunks = 0;
for await (const chunk of await researcher.completions.create({ ...ask, stream: true })) {
  chunks += 1;
  for (const c of chunk.choices) {
    streamed += c.text;
    if (c.finish_reason) finish = c.finish_reason;
  }
}
check('stream text', streamed === one.choices[0].text, { streamed, whole: one.choices[0].text });
check('stream finish', finish === 'length', finish);
check('stream chunks', chunks >= 2, chunks);

// The client cuts a stream after its first chunk; the server goes on serving.
const cut = await researcher.completions.create({ ...ask, max_tokens: 40, stream: true });
for await (const chunk of cut) {
  check('cut stream chunk', chunk.object === 'text_completion', chunk);
  cut.controller.abort();
  break;
}
const after = await researcher.completions.create(ask);
check('serves after a cut stream', after.choices[0].text === one.choices[0].text, after);

// A text's log-likelihood as evaluation harnesses ask for it: echo, no new tokens, logprobs.
const scored = await researcher.completions.create({ model: 'stage1', prompt: 'hello world',
  max_tokens: 0, echo: true, logprobs: 0, temperature: 0 });
const lp = scored.choices[0].logprobs;
check('echo text', scored.choices[0].text === 'hello world', scored.choices[0]);
check('echo tokens', lp.tokens.join('') === 'hello world' &&
  lp.token_logprobs.length === scored.usage.prompt_tokens, lp);
check('echo log-probs', lp.token_logprobs[0] === null &&
  lp.token_logprobs.slice(1).every((x) => typeof x === 'number' && x < 0), lp.token_logprobs);

const models = await researcher.models.list();
check('models', models.data.map((m) => m.id).join() === 'stage1', models.data);
const publicModels = await client(publicKey).models.list();
check('no models for public', publicModels.data.length === 0, publicModels.data);

const refused = await client(strictKey).completions.create(ask);
check('refused text', refused.choices[0].text === '', refused.choices[0]);
check('refused finish', refused.choices[0].finish_reason === 'content_filter', refused.choices[0]);
let refusedStream = '';
let refusedFinish = null;
for await (const chunk of await client(strictKey).completions.create({ ...ask, stream: true })) {
  for (const c of chunk.choices) {
    refusedStream += c.text;
    if (c.finish_reason) refusedFinish = c.finish_reason;
  }
}
check('refused stream text', refusedStream === '', refusedStream);
check('refused stream finish', refusedFinish === 'content_filter', refusedFinish);

const expectError = async (name, status, errorClass, call, param) => {
  try {
    await call();
    check(name, false, 'no error');
  } catch (e) {
    check(name, e instanceof errorClass && e.status === status, { status: e.status, message: e.message });
    if (param) check(`${name} param`, e.param === param, e.param);
  }
};
await expectError('401', 401, OpenAI.AuthenticationError,
  () => client(`sg-${'0'.repeat(48)}`).completions.create(ask));
await expectError('403', 403, OpenAI.PermissionDeniedError,
  () => client(publicKey).completions.create(ask));
await expectError('404', 404, OpenAI.NotFoundError,
  () => researcher.completions.create({ ...ask, model: 'stage9' }));
await expectError('400', 400, OpenAI.BadRequestError,
  () => researcher.completions.create({ ...ask, top_p: 2 }), 'top_p');
await expectError('400 context', 400, OpenAI.BadRequestError,
  () => researcher.completions.create({ ...ask, max_tokens: 1000 }), 'max_tokens');
await expectError('413', 413, OpenAI.APIError,
  () => researcher.completions.create({ ...ask, prompt: 'x'.repeat(100 * 1024) }));
await expectError('503', 503, OpenAI.InternalServerError,
  () => researcher.completions.create({ ...ask, n: 9 }));
const limited = client(limitedKey);
const first = await limited.completions.create(ask);
check('limited key first request', first.choices.length === 1, first);
await expectError('429', 429, OpenAI.RateLimitError, () => limited.completions.create(ask));

for (const f of failures) console.log(f);
console.log(failures.length === 0 ? 'openai client: all checks passed' : `${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
