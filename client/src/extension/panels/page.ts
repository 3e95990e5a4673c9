// HTML for QuantStudio's webview panels: a strict Content-Security-Policy (nothing loads but the page's own
// nonce-tagged style and, when given, its one nonce-tagged inline script; no remote content), VS Code's theme
// colours through its CSS variables.
import { randomBytes } from 'crypto';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

/** The theme-aware base style every panel shares; `extraCss` adds the panel's own rules. */
const BASE_CSS = `
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground);
         background: var(--vscode-editor-background); padding: 0 1.5em 1.5em; }
  h1 { font-size: 1.4em; font-weight: 600; }
  table { border-collapse: collapse; margin: 1em 0; }
  caption { text-align: left; color: var(--vscode-descriptionForeground); padding-bottom: 0.5em; }
  th, td { text-align: left; padding: 0.35em 1.2em 0.35em 0; border-bottom: 1px solid var(--vscode-widget-border, var(--vscode-panel-border)); vertical-align: top; }
  th { font-weight: 600; color: var(--vscode-descriptionForeground); }
  td.number { font-variant-numeric: tabular-nums; }
  .worse { color: var(--vscode-errorForeground); }
  .better { color: var(--vscode-testing-iconPassed, var(--vscode-foreground)); }
  code { font-family: var(--vscode-editor-font-family); }
  :focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
`;

export interface PageOptions {
  title: string;
  /** Trusted HTML for the body (callers escape every value they put in). */
  body: string;
  /** The webview's cspSource (webview.cspSource). */
  cspSource: string;
  nonce?: string;
  /** The panel's own rules, added after the base style. */
  css?: string;
  /** Trusted JavaScript run with the page's nonce; without it the CSP allows no script at all. */
  script?: string;
  /** JSON the script reads from `document.body.dataset.state` (the panel's state to persist). */
  state?: unknown;
}

export function buildPage({ title, body, cspSource, nonce = makeNonce(), css = '', script, state }: PageOptions): string {
  const policy = [`default-src 'none'`, `style-src ${cspSource} 'nonce-${nonce}'`, `img-src ${cspSource}`, `font-src ${cspSource}`];
  if (script !== undefined) policy.push(`script-src 'nonce-${nonce}'`);
  const stateAttribute = state === undefined ? '' : ` data-state="${escapeHtml(JSON.stringify(state))}"`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${policy.join('; ')}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${BASE_CSS}${css}</style>
</head>
<body${stateAttribute}>
${body}
${script === undefined ? '' : `<script nonce="${nonce}">${script}</script>\n`}</body>
</html>`;
}
