import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import {
    affectsServer, ConfigurationLike, configuredCommand, explicitSettings, logLevel, needsRestart, restrictedKeys, serverSettingKeys,
} from '../../src/settings';

const packageJson = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));

type Scopes = { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown };

function config(values: Record<string, Scopes>, defaults: Record<string, unknown> = {}): ConfigurationLike {
    return {
        get<T>(key: string): T | undefined {
            const v = values[key];
            return (v?.workspaceFolderValue ?? v?.workspaceValue ?? v?.globalValue ?? defaults[key]) as T | undefined;
        },
        inspect<T>(key: string) {
            return (values[key] ?? {}) as { globalValue?: T; workspaceValue?: T; workspaceFolderValue?: T };
        },
    };
}

test('server keys come from package.json, without the extension\'s own settings', () => {
    const keys = serverSettingKeys(packageJson);
    assert.ok(keys.includes('backend.kind'));
    assert.ok(keys.includes('completion.debounceMs'));
    assert.ok(keys.includes('agent.backend'));
    assert.ok(!keys.some((key) => key.startsWith('server.') || key.startsWith('trace.')));
    assert.deepEqual(serverSettingKeys({}), []);
});

test('only values the user set are sent, nested, folder over workspace over user', () => {
    const keys = ['backend.kind', 'backend.url', 'backend.timeoutMs', 'completion.enabled', 'agent.backend', 'privacy.exclude'];
    const settings = explicitSettings(config({
        'backend.kind': { globalValue: 'ollama', workspaceValue: 'openai' },
        'backend.timeoutMs': { globalValue: 3000, workspaceValue: 4000, workspaceFolderValue: 2500 },
        'completion.enabled': { globalValue: false },
        'agent.backend': { workspaceValue: { kind: 'anthropic', model: 'claude' } },
    }, { 'backend.url': null, 'privacy.exclude': ['*.pem'] }), keys);
    assert.deepEqual(settings, {
        backend: { kind: 'openai', timeoutMs: 2500 },
        completion: { enabled: false },
        agent: { backend: { kind: 'anthropic', model: 'claude' } },
    });
});

test('an untrusted workspace cannot set restricted keys; the user\'s own value still counts', () => {
    const restricted = restrictedKeys(packageJson);
    assert.ok(restricted.has('agent.verifyCommand'));
    assert.ok(restricted.has('backend.apiKeyEnv'));
    const values = {
        'agent.verifyCommand': { workspaceValue: ['rm', '-rf', '/'] },
        'backend.apiKeyEnv': { globalValue: 'OPENAI_API_KEY', workspaceValue: 'AWS_SECRET_ACCESS_KEY' },
        'backend.model': { workspaceValue: 'qwen' },
    };
    const keys = ['agent.verifyCommand', 'backend.apiKeyEnv', 'backend.model'];
    assert.deepEqual(explicitSettings(config(values), keys, false, restricted), {
        backend: { apiKeyEnv: 'OPENAI_API_KEY', model: 'qwen' },
    });
    assert.deepEqual(explicitSettings(config(values), keys, true, restricted), {
        agent: { verifyCommand: ['rm', '-rf', '/'] },
        backend: { apiKeyEnv: 'AWS_SECRET_ACCESS_KEY', model: 'qwen' },
    });
});

test('only weft.server.* needs a restart; server settings are live', () => {
    const changed = (names: string[]) => (section: string) => names.some((n) => n === section || n.startsWith(`${section}.`));
    assert.ok(needsRestart(changed(['weft.server.command'])));
    assert.ok(needsRestart(changed(['weft.server.logLevel'])));
    assert.ok(!needsRestart(changed(['weft.backend.kind'])));
    assert.ok(!needsRestart(changed(['editor.fontSize'])));
    assert.ok(affectsServer(changed(['weft.backend.kind']), ['backend.kind']));
    assert.ok(!affectsServer(changed(['weft.server.command']), ['backend.kind']));
});

test('weft.server.command is an argv; empty or malformed means the private environment', () => {
    assert.deepEqual(configuredCommand(config({}, { 'server.command': ['weft', 'serve'] })), ['weft', 'serve']);
    assert.equal(configuredCommand(config({}, { 'server.command': [] })), undefined);
    assert.equal(configuredCommand(config({}, { 'server.command': 'weft serve' })), undefined);
    assert.equal(configuredCommand(config({}, {})), undefined);
    assert.equal(logLevel(config({}, { 'server.logLevel': 'debug' })), 'debug');
    assert.equal(logLevel(config({}, { 'server.logLevel': 'LOUD' })), 'info');
});
