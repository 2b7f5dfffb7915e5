import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

import {
    askInstruction, describeResult, refactorArguments, refactorPrompt, reindex, showAgentResult, toggleInlineCompletions,
} from '../../src/commands';
import { Position, Selection, stub, Uri, window } from '../vscode-stub/vscode';

beforeEach(() => stub.reset());

function editor(uri: string, start: [number, number], end: [number, number]) {
    return {
        document: { uri: Uri.parse(uri) },
        selection: new Selection(new Position(...start), new Position(...end)),
    };
}

test('refactor arguments carry the document and the selection as an LSP range', () => {
    assert.deepEqual(refactorArguments(editor('file:///w/a.py', [3, 4], [5, 0])), {
        uri: 'file:///w/a.py',
        range: { start: { line: 3, character: 4 }, end: { line: 5, character: 0 } },
    });
    assert.deepEqual(refactorArguments(undefined), {});
});

test('"weft: Refactor…" runs weft.refactor on the selection (the middleware asks for the instruction)', async () => {
    window.activeTextEditor = editor('file:///w/b.py', [1, 0], [1, 7]);
    await refactorPrompt();
    assert.deepEqual(stub.executed, [{
        command: 'weft.refactor',
        args: [{ uri: 'file:///w/b.py', range: { start: { line: 1, character: 0 }, end: { line: 1, character: 7 } } }],
    }]);
});

test('a failing command is reported, not thrown', async () => {
    stub.commandResults.set('weft.refactor', new Error("command 'weft.refactor' not found"));
    await refactorPrompt();
    assert.equal(stub.messages.length, 1);
    assert.equal(stub.messages[0].level, 'error');
    assert.match(stub.messages[0].text, /not found/);
});

test('askInstruction trims, and cancelling or a blank answer gives nothing', async () => {
    stub.inputs.push('  extract this into helpers.py ', undefined, '   ');
    assert.equal(await askInstruction(), 'extract this into helpers.py');
    assert.equal(await askInstruction(), undefined);
    assert.equal(await askInstruction(), undefined);
    assert.equal(stub.inputOptions[0].validateInput('   '), 'Describe the change');
    assert.equal(stub.inputOptions[0].validateInput('x'), undefined);
});

test('agent results are shown at their level', () => {
    showAgentResult({ applied: true, files: ['file:///w/b.py', 'file:///w/helpers.py'], summary: 'extracted' });
    showAgentResult({ applied: false, files: [], summary: '', error: 'the model did not answer' });
    showAgentResult({ applied: false, summary: 'declined' });
    assert.deepEqual(stub.messages, [
        { level: 'info', text: 'weft: extracted (2 files changed)' },
        { level: 'error', text: 'weft: the model did not answer' },
        { level: 'warning', text: 'weft: nothing was applied: declined' },
    ]);
});

test('describeResult covers applied, not applied and junk', () => {
    assert.deepEqual(describeResult({ applied: true, files: ['a'], summary: 'fixed' }), { level: 'info', text: 'weft: fixed (1 file changed)' });
    assert.equal(describeResult({ applied: false, summary: 'declined' }).level, 'warning');
    assert.equal(describeResult(null).level, 'warning');
});

test('"weft: Reindex workspace" runs weft.reindex', async () => {
    await reindex();
    assert.deepEqual(stub.executed, [{ command: 'weft.reindex', args: [] }]);
});

test('toggling flips weft.completion.enabled where it is set', async () => {
    stub.defaults.set('weft.completion.enabled', true);
    assert.equal(await toggleInlineCompletions(), false);
    assert.equal(stub.settings.global.get('weft.completion.enabled'), false);
    assert.equal(await toggleInlineCompletions(), true);
    assert.equal(stub.settings.global.get('weft.completion.enabled'), true);
    stub.set('workspace', 'weft.completion.enabled', true);
    assert.equal(await toggleInlineCompletions(), false);
    assert.equal(stub.settings.workspace.get('weft.completion.enabled'), false);
    assert.equal(stub.settings.global.get('weft.completion.enabled'), true);
});
