// The panels' face: host.ts owns every webview (finished runs, live runs, comparisons, and the serializers
// that restore them after a window reload); the other modules here build HTML and import no `vscode`.
export {
  COMPARE_PANEL_VIEW_TYPE,
  openLive as openLiveRunPanel,
  registerSerializers as registerPanels,
  RUN_PANEL_VIEW_TYPE,
  showAdvice as showAdvicePanel,
  showCompare as showComparePanel,
  showRun as showRunPanel,
} from './host';
export type { AdviceHandlers, LiveRunPanel } from './host';
export { EVALUATE_COUNT } from './adviceView';
