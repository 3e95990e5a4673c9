// One concurrency level: `concurrency` clients, each sending its next request as soon as its last one ended
// (a closed loop, as a chat front end with that many users), until every prompt was sent.
import type { RequestTiming } from './request';

export async function runLevel(
  concurrency: number,
  prompts: readonly string[],
  send: (prompt: string) => Promise<RequestTiming>,
  onDone: (done: number) => void,
): Promise<{ timings: RequestTiming[]; seconds: number }> {
  const started = performance.now();
  const timings: RequestTiming[] = new Array(prompts.length);
  let next = 0;
  let done = 0;
  const client = async (): Promise<void> => {
    while (next < prompts.length) {
      const index = next++;
      timings[index] = await send(prompts[index]!);
      onDone(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, prompts.length) }, client));
  return { timings, seconds: (performance.now() - started) / 1000 };
}
