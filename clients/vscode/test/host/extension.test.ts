/**
 * The whole extension — activate(), the controller, the middleware and the real
 * vscode-languageclient — running in node against the real `weft serve` and the loopback model
 * server, with a fake VS Code host standing in for the editor.
 */
import './register';

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as extension from '../../src/extension';
import { ModelServer, PYTHON, REPO_ROOT, startModelServer } from '../protocol/harness';
import {
    CancellationTokenSource, Diagnostic, host, InlineCompletionTriggerKind, Position, Range, Selection, Uri, window, workspace,
} from './vscode-host';

const GREET = 'def greet(name):\n    return "hello " + name\n';
const MAIN = 'from greet import greet\n\nprint(greet("world"))\n';
const RENAME = [
    'greet.py', '<<<<<<< SEARCH', 'def greet(name):', '=======', 'def welcome(name):', '>>>>>>> REPLACE', '',
    'main.py', '<<<<<<< SEARCH', 'from greet import greet', '', 'print(greet("world"))', '=======',
    'from greet import welcome', '', 'print(welcome("world"))', '>>>>>>> REPLACE', '',
].join('\n');
const SALUTE = [
    'greet.py', '<<<<<<< SEARCH', 'def welcome(name):', '=======', 'def salute(name):', '>>>>>>> REPLACE', '',
    'main.py', '<<<<<<< SEARCH', 'from greet import welcome', '', 'print(welcome("world"))', '=======',
    'from greet import salute', '', 'print(salute("world"))', '>>>>>>> REPLACE', '',
].join('\n');

async function until(what: string, predicate: () => boolean, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!predicate()) {
        if (Date.now() > end) {
            throw new Error(`timed out waiting for ${what}\n${host.log.slice(-30).join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}

describe('the extension in a fake VS Code host, against the real server', { timeout: 180_000 }, () => {
    let model: ModelServer;
    let root: string;
    const token = new CancellationTokenSource().token;
    const status = () => host.statusItems[0] as { text: string; tooltip: string };

    before(async () => {
        model = await startModelServer({ completion: 'a + b', chat: [{ text: RENAME }, { text: SALUTE }] });
        root = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-host-'));
        fs.mkdirSync(path.join(root, '.git'));
        fs.writeFileSync(path.join(root, 'calc.py'), 'def add(a, b):\n    return \n');
        fs.writeFileSync(path.join(root, 'greet.py'), GREET);
        fs.writeFileSync(path.join(root, 'main.py'), MAIN);
        process.env.PYTHONPATH = path.join(REPO_ROOT, 'server');
        process.env.XDG_CACHE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-host-cache-'));
        workspace.workspaceFolders = [{ uri: Uri.file(root), name: 'w', index: 0 }];
        const packageJSON = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
        for (const category of packageJSON.contributes.configuration) {
            for (const [key, schema] of Object.entries(category.properties as Record<string, { default: unknown }>)) {
                host.defaults.set(key, schema.default);
            }
        }
        host.settings.set('weft.server.command', [PYTHON, '-m', 'weft', 'serve', '--log-level', 'debug']);
        host.settings.set('weft.backend.kind', 'ollama');
        host.settings.set('weft.backend.url', model.url);
        host.settings.set('weft.backend.model', 'test-model');
        host.settings.set('weft.completion.debounceMs', 0);
        host.settings.set('weft.agent.backend', { kind: 'openai', url: `${model.url}/v1`, model: 'chat-model', timeoutMs: 20000 });
        const context = {
            subscriptions: [] as { dispose(): unknown }[],
            extension: { packageJSON },
            globalStorageUri: Uri.file(path.join(root, '.storage')),
            extensionUri: Uri.file(path.join(__dirname, '..', '..', '..')),
        };
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        extension.activate(context as any);
    });

    after(async () => {
        await extension.deactivate();
        model.stop();
    });

    test('the server starts and the status bar names the backend', async () => {
        await until('the status bar to say ready', () => status().text === '$(check) weft');
        await until('weft.status to be polled', () => /ollama · test-model/.test(status().tooltip));
        assert.ok(host.commands.has('weft.refactor'), 'the server\'s commands are registered');
    });

    test('ghost text comes through the inline completion provider', async () => {
        const doc = host.open(path.join(root, 'calc.py'), 'python', 'def add(a, b):\n    return \n');
        await until('an inline completion provider', () => host.inlineProviders.length > 0);
        const { provider } = host.inlineProviders[0];
        const result = await provider.provideInlineCompletionItems(
            doc, new Position(1, 11), { triggerKind: InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined }, token,
        );
        const items = Array.isArray(result) ? result : result.items;
        assert.equal(items[0].insertText, 'a + b');
    });

    test('"weft: Refactor…" asks for the instruction and applies one edit to both files', async () => {
        const greet = host.open(path.join(root, 'greet.py'), 'python', GREET);
        const main = host.open(path.join(root, 'main.py'), 'python', MAIN);
        window.activeTextEditor = { document: greet, selection: new Selection(0, 0, 1, 0) };
        host.inputs.push('rename greet to welcome and update the callers');
        await host.commands.get('weft.refactorPrompt')!();
        assert.equal(greet.getText(), 'def welcome(name):\n    return "hello " + name\n');
        assert.equal(main.getText(), 'from greet import welcome\n\nprint(welcome("world"))\n');
        assert.deepEqual(host.messages.at(-1)?.level, 'info', JSON.stringify(host.messages));
        assert.match(host.messages.at(-1)!.text, /2 files changed/);
        const chat = (await model.requests()).filter((r) => r.path === '/v1/chat/completions');
        assert.match(JSON.stringify(chat[0].body), /rename greet to welcome and update the callers/);
    });

    test('the "Fix with weft" code action resolves to a command that runs the agent', async () => {
        const greet = host.documents.find((d) => d.uri.fsPath.endsWith('greet.py'))!;
        const diagnostic = new Diagnostic(new Range(0, 4, 0, 11), 'rename welcome to salute', 1);
        await until('a code action provider', () => host.codeActionProviders.length > 0);
        const { provider } = host.codeActionProviders[0];
        const actions = await provider.provideCodeActions(greet, new Range(0, 0, 0, 5), { diagnostics: [diagnostic], triggerKind: 1, only: undefined }, token);
        const fix = actions.find((a: { title: string }) => a.title.startsWith('Fix with weft'));
        assert.ok(fix, JSON.stringify(actions.map((a: { title: string }) => a.title)));
        const resolved = fix.command ? fix : await provider.resolveCodeAction(fix, token);
        assert.equal(resolved.command.command, 'weft.fix');
        await host.commands.get(resolved.command.command)!(...(resolved.command.arguments ?? []));
        assert.match(greet.getText(), /^def salute\(name\):/);
        const main = host.documents.find((d) => d.uri.fsPath.endsWith('main.py'))!;
        assert.equal(main.getText(), 'from greet import salute\n\nprint(salute("world"))\n');
        assert.match(host.messages.at(-1)!.text, /files? changed/);
    });

    test('a changed setting reaches the server live; weft.server.* restarts it', async () => {
        host.setSetting('weft.backend.kind', 'offline');
        await until('the offline engine in the status bar', () => /offline/.test(status().text), 20_000);
        host.setSetting('weft.server.logLevel', 'warning');
        await until('a restart', () => host.log.some((l) => /restarting the server/.test(l)));
        await until('the server to be back', () => /weft/.test(status().text) && !/loading|circle-slash/.test(status().text));
    });
});
