import assert from 'node:assert/strict';
import { test } from 'node:test';

import { configurationFor, createMiddleware, needsInstruction, withInstruction } from '../../src/middleware';

const settings = { backend: { kind: 'ollama', model: 'qwen' }, completion: { enabled: false } };

function deps(log: string[] = [], answers: (string | undefined)[] = []) {
    return {
        askInstruction: async () => {
            log.push('ask');
            return answers.shift();
        },
        showResult: (result: unknown) => {
            log.push(`show ${JSON.stringify(result)}`);
        },
        settings: (scope?: string) => {
            log.push(`settings ${scope ?? '-'}`);
            return settings;
        },
        sendSettings: async (value: Record<string, unknown>) => {
            log.push(`send ${JSON.stringify(value)}`);
        },
        track: async <T>(label: string, work: () => Promise<T>) => {
            log.push(`begin ${label}`);
            try {
                return await work();
            } finally {
                log.push(`end ${label}`);
            }
        },
    };
}

test('configurationFor answers weft and its subsections only', () => {
    assert.deepEqual(configurationFor('weft', settings), settings);
    assert.deepEqual(configurationFor('weft.backend', settings), { kind: 'ollama', model: 'qwen' });
    assert.equal(configurationFor('weft.backend.model', settings), 'qwen');
    assert.equal(configurationFor('weft.index', settings), null);
    assert.equal(configurationFor('weftish', settings), undefined);
    assert.equal(configurationFor('editor', settings), undefined);
    assert.equal(configurationFor(undefined, settings), undefined);
});

test('workspace/configuration: weft gets the explicit settings, other sections what VS Code says', async () => {
    const log: string[] = [];
    const middleware = createMiddleware(deps(log));
    const params = { items: [{ section: 'weft', scopeUri: 'file:///w/a.py' }, { section: 'editor' }] };
    const next = async () => [{ backend: { kind: 'auto', timeoutMs: 5000 } }, { tabSize: 4 }];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const result = await middleware.workspace!.configuration!(params as any, {} as any, next as any);
    assert.deepEqual(result, [settings, { tabSize: 4 }]);
    assert.ok(log.includes('settings file:///w/a.py'));
});

test('didChangeConfiguration sends the explicit settings under weft', async () => {
    const log: string[] = [];
    const middleware = createMiddleware(deps(log));
    await middleware.workspace!.didChangeConfiguration!(['weft'], async () => {
        log.push('default sender used');
    });
    assert.deepEqual(log.filter((l) => l.startsWith('send') || l.startsWith('default')), [`send ${JSON.stringify({ weft: settings })}`]);
});

test('inline completions and agent commands show as work; other commands do not', async () => {
    const log: string[] = [];
    const middleware = createMiddleware(deps(log));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const items = await middleware.provideInlineCompletionItems!({} as any, {} as any, {} as any, {} as any, async () => ['x'] as any);
    assert.deepEqual(items, ['x']);
    const result = await middleware.executeCommand!('weft.reindex', [], async (command, args) => ({ command, args }));
    assert.deepEqual(result, { command: 'weft.reindex', args: [] });
    await middleware.executeCommand!('weft.acceptCompletion', [], async () => undefined);
    assert.deepEqual(log, ['begin completing', 'end completing', 'begin running weft.reindex', 'end running weft.reindex']);
});

test('weft.refactor without an instruction asks for one and reports the result', async () => {
    const log: string[] = [];
    const middleware = createMiddleware(deps(log, ['rename Foo to Bar']));
    const range = { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } };
    const sent: unknown[] = [];
    const result = await middleware.executeCommand!('weft.refactor', [{ uri: 'file:///w/a.py', range }], async (_command, args) => {
        sent.push(...args);
        return { applied: true, files: ['file:///w/a.py'], summary: 'renamed' };
    });
    assert.deepEqual(sent, [{ uri: 'file:///w/a.py', range, instruction: 'rename Foo to Bar' }]);
    assert.deepEqual(result, { applied: true, files: ['file:///w/a.py'], summary: 'renamed' });
    assert.deepEqual(log, [
        'ask', 'begin running weft.refactor', 'end running weft.refactor',
        `show ${JSON.stringify(result)}`,
    ]);
});

test('cancelling the instruction runs nothing; a given instruction is not asked again', async () => {
    const log: string[] = [];
    const middleware = createMiddleware(deps(log, [undefined]));
    let ran = false;
    const result = await middleware.executeCommand!('weft.refactor', [{ uri: 'file:///w/a.py' }], async () => {
        ran = true;
    });
    assert.equal(result, undefined);
    assert.equal(ran, false);
    assert.deepEqual(log, ['ask']);

    log.length = 0;
    await middleware.executeCommand!('weft.fix', [{ uri: 'file:///w/a.py' }], async () => ({ applied: false, error: 'boom' }));
    assert.deepEqual(log, ['begin running weft.fix', 'end running weft.fix', 'show {"applied":false,"error":"boom"}']);
});

test('needsInstruction and withInstruction', () => {
    assert.equal(needsInstruction('weft.refactor', []), true);
    assert.equal(needsInstruction('weft.refactor', [{ instruction: '  ' }]), true);
    assert.equal(needsInstruction('weft.refactor', [{ instruction: 'go' }]), false);
    assert.equal(needsInstruction('weft.fix', []), false);
    assert.deepEqual(withInstruction([], 'go'), [{ instruction: 'go' }]);
    assert.deepEqual(withInstruction([{ uri: 'u' }, 2], 'go'), [{ uri: 'u', instruction: 'go' }, 2]);
});
