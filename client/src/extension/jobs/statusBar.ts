// The status bar item of a running job ("$(sync~spin) Quantizing tiny-llama: layer 2/4"); it shows the
// log when clicked and is gone once the job ends.
import * as vscode from 'vscode';
import { COMMANDS } from '../../../../server/src/protocol';

export class JobStatusItem implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(private readonly label: string) {
    this.item = vscode.window.createStatusBarItem('quantstudio.job', vscode.StatusBarAlignment.Left, 100);
    this.item.name = 'QuantStudio Job';
    this.item.command = COMMANDS.showServerLog;
    this.item.tooltip = 'QuantStudio job running: click to show its log';
    this.update('starting');
    this.item.show();
  }

  update(step: string): void {
    this.item.text = `$(sync~spin) ${this.label}: ${step}`;
  }

  dispose(): void {
    this.item.dispose();
  }
}
