/**
 * The weft status bar item: a StatusModel (statusModel.ts) on a vscode.StatusBarItem, one click
 * from the log.
 */
import * as vscode from 'vscode';

import { StatusModel } from './statusModel';

export { StatusModel } from './statusModel';

/** The status bar item that shows a StatusModel. */
export class StatusBar implements vscode.Disposable {
    readonly model = new StatusModel();
    private readonly item: vscode.StatusBarItem;

    constructor(showLogCommand: string) {
        this.item = vscode.window.createStatusBarItem('weft.status', vscode.StatusBarAlignment.Right, 100);
        this.item.name = 'weft';
        this.item.command = showLogCommand;
        this.render();
        this.item.show();
    }

    update(change: (model: StatusModel) => void): void {
        change(this.model);
        this.render();
    }

    /** Shows "working" while `work` runs. */
    async track<T>(label: string, work: () => Thenable<T> | Promise<T>): Promise<T> {
        this.update((m) => m.begin(label));
        try {
            return await work();
        } finally {
            this.update((m) => m.end());
        }
    }

    render(): void {
        const view = this.model.view();
        this.item.text = view.text;
        this.item.tooltip = view.tooltip;
        this.item.backgroundColor = view.background ? new vscode.ThemeColor(view.background) : undefined;
    }

    dispose(): void {
        this.item.dispose();
    }
}
