import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

import { StatusBar, StatusModel } from '../../src/status';
import { stub } from '../vscode-stub/vscode';

beforeEach(() => stub.reset());

test('the model shows each state with its reason', () => {
    const model = new StatusModel();
    assert.match(model.view().text, /loading~spin/);
    model.set('idle');
    assert.equal(model.view().text, '$(check) weft');
    assert.equal(model.view().background, undefined);
    model.set('error', 'Python 3.11 or newer is needed');
    assert.match(model.view().tooltip, /Python 3\.11 or newer is needed/);
    assert.equal(model.view().background, 'statusBarItem.errorBackground');
    model.set('stopped');
    assert.match(model.view().tooltip, /not running/);
});

test('working is counted across overlapping requests', () => {
    const model = new StatusModel();
    model.set('idle');
    model.begin('completing');
    model.begin('running weft.refactor');
    assert.match(model.view().text, /sync~spin/);
    assert.match(model.view().tooltip, /running weft\.refactor/);
    model.end();
    assert.match(model.view().text, /sync~spin/);
    model.end();
    model.end();
    assert.equal(model.view().text, '$(check) weft');
    assert.equal(model.busy, 0);
});

test('the server\'s weft.status switches to the offline engine, an outage and back', () => {
    const model = new StatusModel();
    model.set('idle');
    model.applyServerStatus({ backend: 'offline', configured: 'auto', healthy: true, hint: 'set backend.kind to use a model' });
    assert.match(model.view().text, /offline/);
    assert.match(model.view().tooltip, /offline engine is serving completions\. set backend\.kind/);
    model.applyServerStatus({ backend: 'ollama', healthy: false, error: 'connection refused' });
    assert.equal(model.state, 'error');
    assert.match(model.view().tooltip, /connection refused/);
    model.applyServerStatus('nonsense');
    model.applyServerStatus(null);
    assert.equal(model.state, 'error');
    model.applyServerStatus({ backend: 'ollama', model: 'qwen2.5-coder:1.5b', healthy: true });
    assert.equal(model.view().text, '$(check) weft');
    assert.match(model.view().tooltip, /ollama · qwen2\.5-coder:1\.5b/);
});

test('a status answer arriving after the server stopped changes nothing', () => {
    const model = new StatusModel();
    model.set('stopped');
    model.applyServerStatus({ backend: 'ollama', healthy: true });
    assert.equal(model.state, 'stopped');
});

test('completions switched off show in the item', () => {
    const model = new StatusModel();
    model.set('idle');
    model.completionsEnabled = false;
    assert.match(model.view().tooltip, /completions off/);
});

test('the status bar item opens the log and follows the model, also when work fails', async () => {
    const bar = new StatusBar('weft.showLog');
    const item = stub.statusItems[0];
    assert.equal(item.command, 'weft.showLog');
    assert.ok(item.visible);
    bar.update((m) => m.set('idle'));
    assert.equal(item.text, '$(check) weft');
    let seen = '';
    await assert.rejects(bar.track('running weft.fix', async () => {
        seen = item.text;
        throw new Error('boom');
    }));
    assert.match(seen, /sync~spin/);
    assert.equal(item.text, '$(check) weft');
    bar.update((m) => m.set('error', 'server crashed'));
    assert.equal(item.backgroundColor.id, 'statusBarItem.errorBackground');
    bar.dispose();
    assert.ok(item.disposed);
});
