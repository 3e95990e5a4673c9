// When the language server process dies, restart it, unless it keeps dying: a server that crashes on
// every start would otherwise loop forever and flood the log. Pure logic (no vscode) so it is testable.

export interface RestartDecision {
  restart: boolean;
  /** What the user sees: why the server stopped or was restarted, and what to do. */
  message: string;
}

export class RestartPolicy {
  private readonly crashTimes: number[] = [];

  constructor(
    private readonly maxRestarts = 4,
    private readonly windowMs = 3 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called each time the server connection closes unexpectedly. */
  onCrash(): RestartDecision {
    const t = this.now();
    this.crashTimes.push(t);
    while (this.crashTimes.length > 0 && t - this.crashTimes[0] > this.windowMs) this.crashTimes.shift();
    const recent = this.crashTimes.length;
    const minutes = this.windowMs / 60_000;
    const window = `${minutes} minute${minutes === 1 ? '' : 's'}`;
    if (recent <= this.maxRestarts) {
      return {
        restart: true,
        message: `QuantStudio language server stopped unexpectedly; restarting it (${recent} of ${this.maxRestarts} restarts allowed in ${window}).`,
      };
    }
    return {
      restart: false,
      message: `QuantStudio language server crashed ${recent} times in ${window} and will not be restarted. Run "QuantStudio: Show Language Server Log" to see why, then reload the window.`,
    };
  }
}
