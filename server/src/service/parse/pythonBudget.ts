// Tree-sitter's Python grammar is super-linear on some inputs (a long run of comment lines, with or without
// an unclosed string before it: 20,000 lines take over 30 s), and a parse blocks the process. Every parse here
// has a deadline; a file that misses it is read again only around its config calls (pythonWindows.ts).
import type { Parser, Tree } from '@vscode/tree-sitter-wasm';

/** Parses `text`, or gives up (undefined) once `budgetMs` has passed. */
export function parseWithin(parser: Parser, text: string, budgetMs: number): Tree | undefined {
  const deadline = performance.now() + budgetMs;
  let late = false;
  let parsing = true;
  const over = (): boolean => (late ||= performance.now() > deadline);
  // The progress callback runs between parse steps, but one lexing step can scan far ahead (the scanner
  // looks past every comment line for the next indentation): once late, the input ends there too.
  const input = (index: number): string => (parsing && over() ? '' : text.slice(index));
  let tree: Tree | null = null;
  try {
    tree = parser.parse(input, null, { progressCallback: over });
  } finally {
    parsing = false;
    parser.reset(); // a cancelled parse would otherwise resume on the next call
  }
  if (tree && late) tree.delete(); // parsed only a prefix of the text
  return tree && !late ? tree : undefined;
}
