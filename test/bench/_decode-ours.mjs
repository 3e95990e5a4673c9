// One timing of our decode in a fresh process (so the benchmark can interleave it with llama-bench's runs at
// the same thread count): prompt P tokens, then N greedy steps with the engine's run options (KV cache fp32 or fp16,
// lm_head stored or int8; native/model/runOptions.ts); prints {"prefill": tokens/s, "decode": tokens/s}.
//   QUANTSTUDIO_THREADS=2 node test/bench/_decode-ours.mjs <folder> <prompt> <steps> [fp32|fp16] [stored|int8]
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { openModel } = require(join(root, 'out', 'native', 'lib', 'runtime.js'));

const [folder, promptText, stepsText, kvCache = 'fp32', lmHead = 'stored'] = process.argv.slice(2);
const promptLength = Number(promptText),
  steps = Number(stepsText);
const model = openModel(folder, { kvCache, lmHead });
// Ids the demo tokenizer can produce, spread over the vocabulary (random weights: the text does not matter).
const prompt = Array.from({ length: promptLength }, (_, i) => ((i * 37) % 4000) + 10);
await model.generateIds(prompt.slice(0, 8), { maxTokens: 4, stopIds: [] }); // warm-up: page in the weights
const r = await model.generateIds(prompt, { maxTokens: steps + 1, stopIds: [] });
console.log(JSON.stringify({ prefill: promptLength / r.prefillSeconds, decode: (r.tokens.length - 1) / r.decodeSeconds }));
