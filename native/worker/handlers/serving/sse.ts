// Server-sent events as OpenAI-compatible servers stream them: `data: <json>` lines, an event per blank
// line, `data: [DONE]` at the end (vLLM, TGI, llama.cpp's server, transformers serve all speak it).

/** The data of each event of a streamed body, as it arrives; stops at `[DONE]` or the end of the body. */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).replace(/\r$/, '');
      buffered = buffered.slice(newline + 1);
      if (line === '') {
        if (data.length > 0) {
          const event = data.join('\n');
          data = [];
          if (event === '[DONE]') return;
          yield event;
        }
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''));
      } // comments (`:`), `event:`, `id:` and `retry:` lines carry nothing the benchmark reads
    }
  }
  const last = [...data, ...(buffered.startsWith('data:') ? [buffered.slice(5).trim()] : [])].join('\n');
  if (last !== '' && last !== '[DONE]') yield last;
}
