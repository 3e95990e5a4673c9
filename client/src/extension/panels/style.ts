// The panels' stylesheet on top of the base page style: charts, buttons, streamed text, all in theme colours.
import { CHART_CSS } from './charts';

export const PANEL_CSS = `${CHART_CSS}
  h2 { font-size: 1.1em; font-weight: 600; margin-top: 1.5em; }
  .meta, .muted, .why { color: var(--vscode-descriptionForeground); }
  td.why { font-style: italic; }
  .actions { display: flex; gap: 0.5em; margin: 1em 0; }
  button { font-family: inherit; font-size: inherit; padding: 0.3em 1em; border: 1px solid var(--vscode-button-border, transparent);
           color: var(--vscode-button-foreground); background: var(--vscode-button-background); cursor: pointer; }
  button:hover { background: var(--vscode-button-hoverBackground); }
  pre { white-space: pre-wrap; word-break: break-word; font-family: var(--vscode-editor-font-family);
        background: var(--vscode-textCodeBlock-background); padding: 0.75em; }
  progress { width: 100%; max-width: 600px; accent-color: var(--vscode-progressBar-background); }
  [role="alert"] { color: var(--vscode-errorForeground); border-left: 3px solid var(--vscode-errorForeground); padding-left: 0.75em; }
  figure { margin: 0; display: flex; flex-wrap: wrap; gap: 0 2em; }
  figure > .chart { flex: 1 1 420px; }
  .columns { display: flex; flex-wrap: wrap; gap: 2em; }
  .columns > section { flex: 1 1 420px; min-width: 0; }
  /* a wide table scrolls inside its own box instead of widening the page past the panel */
  .table-wrap { max-width: 100%; overflow-x: auto; }
  .table-wrap tbody td, .table-wrap tbody th { white-space: nowrap; }
  .table-wrap thead th { vertical-align: bottom; }
  .range { font-size: 0.85em; color: var(--vscode-descriptionForeground); }
`;
