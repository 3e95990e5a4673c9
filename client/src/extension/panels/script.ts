// The one script every panel runs (inline, with the page's nonce). It persists the page's state for the
// serializer, turns button clicks into messages, says when it is ready, and places the text a live panel is
// sent; it builds DOM with textContent only, so nothing it is sent is ever parsed as HTML.
export const PANEL_SCRIPT = `(() => {
  const vscode = acquireVsCodeApi();
  const state = document.body.dataset.state;
  if (state) vscode.setState(JSON.parse(state));
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
    if (button) vscode.postMessage({ type: 'action', action: button.dataset.action });
  });
  const byId = (id) => document.getElementById(id);
  const setText = (id, text) => { const el = byId(id); if (el) el.textContent = text; };
  window.addEventListener('message', (event) => {
    const m = event.data;
    if (!m || typeof m !== 'object') return;
    if (m.type === 'progress') {
      setText('live-phase', m.text);
      const bar = byId('live-progress');
      if (bar) { bar.max = Math.max(1, m.total); bar.value = Math.min(m.current, bar.max); }
    } else if (m.type === 'layer') {
      const body = byId('layer-rows');
      if (!body) return;
      const row = body.insertRow();
      m.cells.forEach((text, i) => {
        const cell = document.createElement(i === 0 ? 'th' : 'td');
        if (i === 0) cell.scope = 'row';
        if (i !== 1) cell.className = 'number';
        cell.textContent = text;
        row.appendChild(cell);
      });
    } else if (m.type === 'token') {
      const text = byId('generate-text');
      if (text) text.append(m.text);
      setText('token-count', m.count);
      setText('tokens-per-second', m.rate);
    } else if (m.type === 'fail') {
      const error = byId('live-error');
      if (error) { error.textContent = m.message; error.hidden = false; }
      setText('live-status', '(failed)');
      const bar = byId('live-progress');
      if (bar) bar.hidden = true;
      vscode.setState({ ...(vscode.getState() || {}), failed: m.message });
    }
  });
  // a live panel replays what happened so far once the page can take it
  vscode.postMessage({ type: 'ready' });
})();`;
