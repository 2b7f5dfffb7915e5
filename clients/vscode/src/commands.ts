/**
 * The extension's own commands: "weft: Refactor…", "weft: Reindex workspace",
 * "weft: Toggle inline completions". The work happens in the server's `weft.refactor` /
 * `weft.reindex` commands, which vscode-languageclient registers from the server's
 * executeCommandProvider; these add the prompt and the report.
 */
import * as vscode from 'vscode';

import { SECTION } from './settings';

/** What `weft.fix` / `weft.refactor` return (SPEC §4). */
export interface AgentResult {
    applied?: boolean;
    files?: string[];
    summary?: string;
    error?: string;
}

export interface LspRange {
    start: { line: number; character: number };
    end: { line: number; character: number };
}

export interface RefactorArguments {
    instruction?: string;
    uri?: string;
    range?: LspRange;
}

interface EditorLike {
    document: { uri: { toString(): string } };
    selection: { start: { line: number; character: number }; end: { line: number; character: number } };
}

/** The `weft.refactor` argument for the active editor (if any): its document and selection. */
export function refactorArguments(editor: EditorLike | undefined): RefactorArguments {
    const args: RefactorArguments = {};
    if (editor) {
        const { start, end } = editor.selection;
        args.uri = editor.document.uri.toString();
        args.range = {
            start: { line: start.line, character: start.character },
            end: { line: end.line, character: end.character },
        };
    }
    return args;
}

/** How to tell the user about an agent result. */
export function describeResult(result: unknown): { level: 'info' | 'warning' | 'error'; text: string } {
    const r = (typeof result === 'object' && result !== null ? result : {}) as AgentResult;
    if (r.error) {
        return { level: 'error', text: `weft: ${r.error}` };
    }
    const count = r.files?.length ?? 0;
    const files = count === 1 ? '1 file' : `${count} files`;
    if (r.applied) {
        return { level: 'info', text: `weft: ${r.summary || 'done'} (${files} changed)` };
    }
    return { level: 'warning', text: `weft: nothing was applied${r.summary ? `: ${r.summary}` : ''}` };
}

/** Shows an agent result (from the palette command or a code action alike). */
export function showAgentResult(result: unknown): void {
    const { level, text } = describeResult(result);
    if (level === 'error') {
        void vscode.window.showErrorMessage(text);
    } else if (level === 'warning') {
        void vscode.window.showWarningMessage(text);
    } else {
        void vscode.window.showInformationMessage(text);
    }
}

/** Asks for a refactor instruction; undefined when the user cancels. */
export async function askInstruction(): Promise<string | undefined> {
    const instruction = await vscode.window.showInputBox({
        title: 'weft: Refactor',
        prompt: 'What should change? weft edits every file that needs it and verifies the result.',
        placeHolder: 'e.g. rename class Parser to Reader everywhere and update the callers',
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : 'Describe the change'),
    });
    return instruction?.trim() ? instruction.trim() : undefined;
}

/**
 * "weft: Refactor…": runs `weft.refactor` on the active editor's selection. The instruction is
 * asked for by the middleware, the same way as for the "Refactor with weft…" code action.
 */
export async function refactorPrompt(): Promise<void> {
    try {
        await vscode.commands.executeCommand('weft.refactor', refactorArguments(vscode.window.activeTextEditor));
    } catch (error) {
        void vscode.window.showErrorMessage(`weft: refactor failed: ${(error as Error).message}`);
    }
}

/** "weft: Reindex workspace". */
export async function reindex(): Promise<void> {
    try {
        await vscode.commands.executeCommand('weft.reindex');
    } catch (error) {
        void vscode.window.showErrorMessage(`weft: reindex failed: ${(error as Error).message}`);
    }
}

/** "weft: Toggle inline completions": flips weft.completion.enabled where it is set. */
export async function toggleInlineCompletions(): Promise<boolean> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const enabled = config.get<boolean>('completion.enabled', true);
    const info = config.inspect<boolean>('completion.enabled');
    const target = info?.workspaceFolderValue !== undefined
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : info?.workspaceValue !== undefined
            ? vscode.ConfigurationTarget.Workspace
            : vscode.ConfigurationTarget.Global;
    await config.update('completion.enabled', !enabled, target);
    void vscode.window.setStatusBarMessage(`weft: inline completions ${enabled ? 'off' : 'on'}`, 3000);
    return !enabled;
}
