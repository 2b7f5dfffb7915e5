/**
 * Entry point of the weft VS Code extension: wires commands to the controller and starts it.
 * Everything with logic lives in its own module (launcher, python, venv, settings, status,
 * middleware, commands, controller).
 */
import * as vscode from 'vscode';

import { refactorPrompt, reindex, toggleInlineCompletions } from './commands';
import { SHOW_LOG_COMMAND, WeftController } from './controller';

let controller: WeftController | undefined;

export function activate(context: vscode.ExtensionContext): void {
    controller = new WeftController(context);
    const weft = controller;
    context.subscriptions.push(
        weft,
        vscode.commands.registerCommand(SHOW_LOG_COMMAND, () => weft.log.show()),
        vscode.commands.registerCommand('weft.refactorPrompt', refactorPrompt),
        vscode.commands.registerCommand('weft.reindexWorkspace', reindex),
        vscode.commands.registerCommand('weft.toggleInlineCompletions', toggleInlineCompletions),
        vscode.commands.registerCommand('weft.restartServer', () => weft.restart()),
    );
    // Not awaited: the first start may build the server environment, which takes a while.
    void weft.start();
}

export async function deactivate(): Promise<void> {
    await controller?.stop();
    controller = undefined;
}
