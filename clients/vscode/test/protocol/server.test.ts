/**
 * The real `weft serve` through vscode-languageserver-protocol (the extension's stack):
 * inline completion from a loopback Ollama, a "Fix with weft" code action and the
 * "weft: Refactor…" command, each delivering one edit across two files.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
    CodeAction,
    CodeActionRequest,
    CodeActionResolveRequest,
    Command,
    CodeActionTriggerKind,
    DiagnosticSeverity,
    ExecuteCommandRequest,
    InlineCompletionList,
    InlineCompletionRequest,
    InlineCompletionTriggerKind,
    InitializeResult,
} from 'vscode-languageserver-protocol';

import { StatusModel } from '../../src/statusModel';
import { ModelServer, startModelServer, WeftSession } from './harness';

const GREET = 'def greet(name):\n    return "hello " + name\n';
const MAIN = 'from greet import greet\n\nprint(greet("world"))\n';
const RENAME_BLOCKS = [
    'greet.py',
    '<<<<<<< SEARCH',
    'def greet(name):',
    '=======',
    'def welcome(name):',
    '>>>>>>> REPLACE',
    '',
    'main.py',
    '<<<<<<< SEARCH',
    'from greet import greet',
    '',
    'print(greet("world"))',
    '=======',
    'from greet import welcome',
    '',
    'print(welcome("world"))',
    '>>>>>>> REPLACE',
    '',
].join('\n');

function settingsFor(model: ModelServer): Record<string, unknown> {
    return {
        backend: { kind: 'ollama', url: model.url, model: 'test-model', timeoutMs: 10000 },
        agent: { backend: { kind: 'openai', url: `${model.url}/v1`, model: 'chat-model', timeoutMs: 20000 }, toolCalling: true },
        completion: { debounceMs: 0 },
    };
}

async function withSession(
    config: Record<string, unknown>,
    files: Record<string, string>,
    body: (session: WeftSession, model: ModelServer, init: InitializeResult) => Promise<void>,
): Promise<void> {
    const model = await startModelServer(config);
    const settings = settingsFor(model);
    const session = await WeftSession.start(files, settings);
    try {
        const init = (await session.initialize(settings)) as InitializeResult;
        await body(session, model, init);
    } catch (error) {
        process.stderr.write(`--- weft stderr ---\n${session.stderr.join('').slice(-6000)}\n`);
        throw error;
    } finally {
        await session.stop();
        model.stop();
    }
}

describe('weft serve over vscode-languageserver-protocol', { timeout: 120_000 }, () => {
    test('inline completion comes from the model and is advertised to a VS Code client', async () => {
        await withSession({ completion: 'a + b' }, { 'calc.py': 'def add(a, b):\n    return \n' }, async (session, model, init) => {
            assert.ok(init.capabilities.inlineCompletionProvider, 'inlineCompletionProvider advertised');
            assert.equal(init.capabilities.completionProvider, undefined, 'no completion fallback for a client with inline completion');
            const doc = await session.open('calc.py');
            const result = await session.connection.sendRequest(InlineCompletionRequest.type, {
                textDocument: { uri: doc.uri },
                position: { line: 1, character: 11 },
                context: { triggerKind: InlineCompletionTriggerKind.Automatic },
            });
            const items = Array.isArray(result) ? result : (result as InlineCompletionList | null)?.items ?? [];
            assert.ok(items.length >= 1, `an item (logs: ${session.logs.join(' | ')})`);
            const text = typeof items[0].insertText === 'string' ? items[0].insertText : items[0].insertText.value;
            assert.equal(text, 'a + b');
            assert.equal(items[0].command?.command, 'weft.acceptCompletion');
            const generate = (await model.requests()).filter((r) => r.path === '/api/generate');
            assert.ok(generate.length >= 1, 'the model was called');
            const body = generate[0].body as { model: string; prompt: string };
            assert.equal(body.model, 'test-model');
            assert.match(JSON.stringify(body), /def add\(a, b\):/);
        });
    });

    test('a "Fix with weft" code action delivers one edit across two files', async () => {
        await withSession({ chat: [{ text: RENAME_BLOCKS }] }, { 'greet.py': GREET, 'main.py': MAIN }, async (session, model, init) => {
            const provider = init.capabilities.codeActionProvider;
            assert.ok(typeof provider === 'object' && provider.resolveProvider, 'code actions with resolve');
            const greet = await session.open('greet.py');
            const main = await session.open('main.py');
            const range = { start: { line: 0, character: 4 }, end: { line: 0, character: 9 } };
            const diagnostic = { range, message: 'rename greet to welcome everywhere', severity: DiagnosticSeverity.Warning, source: 'review' };
            const listed = await session.connection.sendRequest(CodeActionRequest.type, {
                textDocument: { uri: greet.uri },
                range,
                context: { diagnostics: [diagnostic], triggerKind: CodeActionTriggerKind.Invoked },
            });
            const actions = (listed ?? []).filter((a): a is CodeAction => !('arguments' in a && typeof a.command === 'string'));
            const fix = actions.find((a) => a.kind === 'quickfix' && a.title.startsWith('Fix with weft'));
            assert.ok(fix, `a Fix with weft action among ${JSON.stringify(listed)}`);
            assert.ok(actions.some((a) => a.kind === 'refactor.rewrite'), 'a Refactor with weft… action on a selection');
            assert.deepEqual((await model.requests()).filter((r) => r.path === '/v1/chat/completions'), [], 'listing never calls the model');

            let action: CodeAction = fix;
            if (!action.edit && !action.command) {
                action = await session.connection.sendRequest(CodeActionResolveRequest.type, fix);
            }
            if (action.edit) {
                assert.equal(session.applyEdit({ edit: action.edit }).applied, true);
            }
            if (action.command) {
                const command = action.command as Command;
                await session.connection.sendRequest(ExecuteCommandRequest.type, { command: command.command, arguments: command.arguments });
            }
            assert.equal(greet.text, 'def welcome(name):\n    return "hello " + name\n');
            assert.equal(main.text, 'from greet import welcome\n\nprint(welcome("world"))\n');
            const chats = (await model.requests()).filter((r) => r.path === '/v1/chat/completions');
            assert.ok(chats.length >= 1);
            assert.match(JSON.stringify(chats[0].body), /rename greet to welcome everywhere/);
        });
    });

    test('"weft: Refactor…" runs weft.refactor with the instruction and the selection', async () => {
        await withSession({ chat: [{ text: RENAME_BLOCKS }] }, { 'greet.py': GREET, 'main.py': MAIN }, async (session, model, init) => {
            assert.ok(init.capabilities.executeCommandProvider?.commands.includes('weft.refactor'));
            const greet = await session.open('greet.py');
            const main = await session.open('main.py');
            const result = await session.connection.sendRequest(ExecuteCommandRequest.type, {
                command: 'weft.refactor',
                arguments: [{
                    instruction: 'rename greet to welcome and update the callers',
                    uri: greet.uri,
                    range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } },
                }],
            }) as { applied: boolean; files: string[]; error?: string };
            assert.equal(result.error, undefined);
            assert.equal(result.applied, true);
            assert.deepEqual([...result.files].sort(), [greet.uri, main.uri].sort());
            assert.equal(session.appliedEdits.length, 1, 'one workspace/applyEdit for both files');
            const changes = session.appliedEdits[0].edit.documentChanges ?? [];
            assert.equal(changes.length, 2);
            assert.equal(greet.text, 'def welcome(name):\n    return "hello " + name\n');
            assert.equal(main.text, 'from greet import welcome\n\nprint(welcome("world"))\n');
            const chats = (await model.requests()).filter((r) => r.path === '/v1/chat/completions');
            assert.match(JSON.stringify(chats[0].body), /rename greet to welcome and update the callers/);
        });
    });

    test('the status bar reads the server\'s weft.status: model backend, then the offline engine', async () => {
        await withSession({ completion: 'x' }, { 'a.py': 'x = 1\n' }, async (session) => {
            const model = new StatusModel();
            model.set('idle');
            model.applyServerStatus(await session.connection.sendRequest(ExecuteCommandRequest.type, { command: 'weft.status', arguments: [] }));
            assert.equal(model.state, 'idle');
            assert.match(model.view().tooltip, /ollama · test-model/);

            await session.changeSettings({ backend: { kind: 'offline' } });
            let status: unknown;
            for (let i = 0; i < 50; i++) {
                status = await session.connection.sendRequest(ExecuteCommandRequest.type, { command: 'weft.status', arguments: [] });
                if ((status as { backend?: string }).backend === 'offline') {
                    break;
                }
                await new Promise((r) => setTimeout(r, 100));
            }
            model.applyServerStatus(status);
            assert.equal(model.state, 'offline', JSON.stringify(status));
            assert.match(model.view().text, /weft offline/);
        });
    });
});
