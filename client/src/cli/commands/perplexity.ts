// `quantstudio perplexity --model <dir|hub id> [--text <file>] [--seq 256] [--max-tokens N] [--kv-cache fp32|fp16]
// [--lm-head stored|int8] [--adapter <folder>] [--json]`: perplexity (of the model with a PEFT LoRA adapter applied, given one)
// with the project's protocol (non-overlapping windows of --seq inputs, fp32 compute); without --text, the
// bundled WikiText-2 test text. --json prints {perplexity, tokens, ...} with the whole RunResult under `run`.
import type { Command } from '../command';
import { usageError } from '../command';
import { parseFlags, positiveInteger, RUN_OPTION_FLAGS, RUN_OPTION_USAGE, runOptions } from '../flags';
import { runCliJob } from '../runJob';

export const perplexityCommand: Command = {
  name: 'perplexity',
  summary: 'perplexity of a model on a text (default: WikiText-2 test)',
  usage: `quantstudio perplexity --model <dir|hub id> [--text <file>] [--seq 256] [--max-tokens N] ${RUN_OPTION_USAGE} [--json]`,
  async run(args) {
    const flags = parseFlags(args, { values: ['--model', '--text', '--seq', '--max-tokens', ...RUN_OPTION_FLAGS], switches: ['--json'] });
    if (typeof flags === 'string') return usageError(this, flags);
    const model = flags.values.get('--model');
    if (!model) return usageError(this, '--model is required');
    const seq = positiveInteger(flags, '--seq', 256);
    const maxTokens = positiveInteger(flags, '--max-tokens');
    if (typeof seq === 'string') return usageError(this, seq);
    if (typeof maxTokens === 'string') return usageError(this, maxTokens);
    const engine = runOptions(flags);
    if (typeof engine === 'string') return usageError(this, engine);
    const text = flags.values.get('--text');
    const options = { seq, ...(text ? { text } : {}), ...(maxTokens ? { maxTokens } : {}), ...engine };

    const run = await runCliJob(this.name, { kind: 'perplexity', model, options });
    if (!run) return 1;
    const m = run.metrics;
    if (flags.switches.has('--json')) {
      process.stdout.write(
        JSON.stringify({ perplexity: m.perplexity, tokens: m.tokens, seq, seconds: run.durationSeconds, run }, null, 2) + '\n',
      );
    } else {
      process.stdout.write(
        `perplexity ${m.perplexity?.toFixed(4)} over ${m.tokens} tokens (${m.windows} windows of ${seq}) ` +
          `in ${run.durationSeconds.toFixed(1)} s, ${Math.round(m.tokensPerSecond ?? 0)} tokens/s\n`,
      );
    }
    return 0;
  },
};
