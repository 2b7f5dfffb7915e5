/**
 * languageclient middleware: answers `workspace/configuration` for section `weft` with only the
 * explicitly set settings (see settings.ts for why), sends the same on every change, marks the
 * status bar busy while completions and agent commands are in flight, asks for the instruction
 * when `weft.refactor` arrives without one (the "Refactor with weft…" code action and the
 * palette command both do), and reports every agent result.
 */
import type { Middleware } from 'vscode-languageclient';

import { SECTION } from './settings';

export interface MiddlewareDeps {
    /** The explicit server settings for a scope (a folder or document URI string, or none). */
    settings(scopeUri?: string): Record<string, unknown>;
    /** Sends `workspace/didChangeConfiguration` with the settings. */
    sendSettings(settings: Record<string, unknown>): Promise<void>;
    /** Shows "working" while `work` runs. */
    track<T>(label: string, work: () => Promise<T>): Promise<T>;
    /** Asks the user for a refactor instruction; undefined when cancelled. */
    askInstruction(): Promise<string | undefined>;
    /** Tells the user how a weft.fix / weft.refactor run ended. */
    showResult(result: unknown): void;
}

/** Commands whose run is long enough to show in the status bar. */
const TRACKED_COMMANDS = new Set(['weft.fix', 'weft.refactor', 'weft.reindex']);
/** Commands that return an agent result (SPEC §4) worth reporting. */
const AGENT_COMMANDS = new Set(['weft.fix', 'weft.refactor']);

/** `weft.refactor`'s arguments with the instruction added (other commands unchanged). */
export function withInstruction(args: unknown[], instruction: string): unknown[] {
    const first = typeof args[0] === 'object' && args[0] !== null ? args[0] : {};
    return [{ ...first, instruction }, ...args.slice(1)];
}

/** True when `weft.refactor` was called without an instruction. */
export function needsInstruction(command: string, args: unknown[]): boolean {
    if (command !== 'weft.refactor') {
        return false;
    }
    const first = args[0] as { instruction?: unknown } | undefined;
    return typeof first?.instruction !== 'string' || !first.instruction.trim();
}

/** Our answer for one configuration item, or undefined when the section is not ours. */
export function configurationFor(section: string | null | undefined, settings: Record<string, unknown>): unknown {
    if (section === SECTION) {
        return settings;
    }
    if (!section || !section.startsWith(`${SECTION}.`)) {
        return undefined;
    }
    let node: unknown = settings;
    for (const part of section.slice(SECTION.length + 1).split('.')) {
        node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
    }
    return node === undefined ? null : node;
}

export function createMiddleware(deps: MiddlewareDeps): Middleware {
    return {
        workspace: {
            configuration: async (params, token, next) => {
                const base = await next(params, token);
                if (!Array.isArray(base)) {
                    return base;
                }
                return base.map((value, index) => {
                    const item = params.items[index];
                    const ours = configurationFor(item?.section, deps.settings(item?.scopeUri ?? undefined));
                    return ours === undefined ? value : ours;
                });
            },
            didChangeConfiguration: async () => {
                await deps.sendSettings({ [SECTION]: deps.settings() });
            },
        },
        provideInlineCompletionItems: (document, position, context, token, next) =>
            deps.track('completing', async () => next(document, position, context, token)),
        executeCommand: async (command, args, next) => {
            if (!TRACKED_COMMANDS.has(command)) {
                return next(command, args);
            }
            if (needsInstruction(command, args)) {
                const instruction = await deps.askInstruction();
                if (!instruction) {
                    return undefined;
                }
                args = withInstruction(args, instruction);
            }
            const result = await deps.track(`running ${command}`, async () => next(command, args));
            if (AGENT_COMMANDS.has(command)) {
                deps.showResult(result);
            }
            return result;
        },
    };
}
