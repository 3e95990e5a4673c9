// `quantstudio generate --model <dir|hub id> --prompt <text> [--max-tokens N] [--seed N] [--temperature T]
// [--top-k K] [--top-p P] [--kv-cache fp32|fp16] [--lm-head stored|int8] [--adapter <folder>] [--backend engine|python] [--python <interpreter>]
// [--kernel <name>] [--json]`: streams the generated text to stdout as it is produced (greedy unless a temperature is
// given), on the engine or on transformers in the --python interpreter; --json prints {text, tokens, tokensPerSecond}
// with the whole RunResult under `run`.
import type { Command } from '../command';
import { usageError } from '../command';
import {
  BACKEND_FLAGS,
  BACKEND_USAGE,
  backendOptions,
  KERNEL_FLAG,
  KERNEL_USAGE,
  kernelOption,
  finiteNumber,
  parseFlags,
  positiveInteger,
  RUN_OPTION_FLAGS,
  RUN_OPTION_USAGE,
  runOptions,
} from '../flags';
import { runCliJob } from '../runJob';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'generate text from a prompt',
  usage:
    'quantstudio generate --model <dir|hub id> --prompt <text> [--max-tokens N] [--seed N] [--temperature T] [--top-k K] [--top-p P] ' +
    `${RUN_OPTION_USAGE} ${BACKEND_USAGE} ${KERNEL_USAGE} [--json]`,
  async run(args) {
    const flags = parseFlags(args, {
      values: [
        '--model',
        '--prompt',
        '--max-tokens',
        '--seed',
        '--temperature',
        '--top-k',
        '--top-p',
        ...RUN_OPTION_FLAGS,
        ...BACKEND_FLAGS,
        KERNEL_FLAG,
      ],
      switches: ['--json'],
    });
    if (typeof flags === 'string') return usageError(this, flags);
    const model = flags.values.get('--model');
    const prompt = flags.values.get('--prompt');
    if (!model) return usageError(this, '--model is required');
    if (prompt === undefined) return usageError(this, '--prompt is required');
    const numbers = {
      maxTokens: positiveInteger(flags, '--max-tokens', 64),
      seed: finiteNumber(flags, '--seed'),
      temperature: finiteNumber(flags, '--temperature'),
      topK: positiveInteger(flags, '--top-k'),
      topP: finiteNumber(flags, '--top-p'),
    };
    const engine = runOptions(flags);
    if (typeof engine === 'string') return usageError(this, engine);
    const options: Record<string, unknown> = { prompt, ...engine, ...backendOptions(flags), ...kernelOption(flags) };
    for (const [name, value] of Object.entries(numbers)) {
      if (typeof value === 'string') return usageError(this, value);
      if (value !== undefined) options[name] = value;
    }

    const json = flags.switches.has('--json');
    // The prompt is echoed with the first generated piece, so a job that fails before generating prints nothing.
    let echoed = false;
    const echo = (text: string): void => {
      process.stdout.write(echoed ? text : prompt + text);
      echoed = true;
    };
    const run = await runCliJob(this.name, { kind: 'generate', model, options }, { onToken: json ? undefined : echo });
    if (!run) return 1;
    const m = run.metrics;
    if (json) {
      process.stdout.write(JSON.stringify({ text: run.text, tokens: m.tokens, tokensPerSecond: m.tokensPerSecond, run }, null, 2) + '\n');
    } else {
      echo('\n');
      process.stderr.write(`${m.tokens} tokens, ${(m.tokensPerSecond ?? 0).toFixed(1)} tokens/s\n`);
    }
    return 0;
  },
};
