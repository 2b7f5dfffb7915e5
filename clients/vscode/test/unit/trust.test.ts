import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { ConfigurationLike, explicitSettings, restrictedKeys, userOnlyKeys } from '../../src/settings';
import { recordGrantedTrust, TRUST_COMMAND, withTrust } from '../../src/trust';

const packageJson = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));

test('the extension supports untrusted workspaces in a limited way, restricting every trusted-only setting', () => {
    const caps = packageJson.capabilities.untrustedWorkspaces;
    assert.equal(caps.supported, 'limited');
    for (const key of ['backend.kind', 'backend.url', 'backend.apiKeyEnv', 'agent.backend', 'agent.verifyCommand',
        'agent.sandbox', 'privacy.redactSecrets', 'privacy.excludeRemove', 'privacy.auditLog', 'index.cacheDir']) {
        assert.ok(restrictedKeys(packageJson).has(key), key);
    }
    assert.ok(!restrictedKeys(packageJson).has('completion.debounceMs'));
});

test('the server hears whether VS Code trusts the workspace', () => {
    assert.deepEqual(withTrust({ backend: { model: 'm' } }, false), {
        backend: { model: 'm' }, workspaceTrust: { trusted: false },
    });
    assert.deepEqual(withTrust({}, true), { workspaceTrust: { trusted: true } });
});

test('user-only settings take only the user\'s own value, even in a trusted workspace', () => {
    const userOnly = userOnlyKeys(packageJson);
    assert.deepEqual([...userOnly], ['agent.sandbox']);
    const config = {
        get: () => undefined,
        inspect: (key: string) => (key === 'agent.sandbox'
            ? { globalValue: 'on', workspaceValue: 'off' }
            : { workspaceValue: 'qwen' }),
    } as unknown as ConfigurationLike;
    const keys = ['agent.sandbox', 'backend.model'];
    assert.deepEqual(explicitSettings(config, keys, true, new Set(), userOnly), {
        agent: { sandbox: 'on' }, backend: { model: 'qwen' },
    });
    const onlyWorkspace = { get: () => undefined, inspect: () => ({ workspaceValue: 'off' }) } as unknown as ConfigurationLike;
    assert.deepEqual(explicitSettings(onlyWorkspace, ['agent.sandbox'], true, new Set(), userOnly), {});
});

test('granting trust records the weft.toml on the server', async () => {
    const calls: [string, unknown[]][] = [];
    const logs: string[] = [];
    const ok = await recordGrantedTrust(async (command, args) => {
        calls.push([command, args]);
        return { trusted: true, path: '/ws/weft.toml', enabled: ['agent.verifyCommand'] };
    }, (m) => logs.push(m));
    assert.equal(ok, true);
    assert.deepEqual(calls, [[TRUST_COMMAND, []]]);
    assert.match(logs[0], /\/ws\/weft\.toml recorded as trusted; now in effect: agent\.verifyCommand/);
});

test('a server that cannot record trust is logged, not thrown', async () => {
    const logs: string[] = [];
    assert.equal(await recordGrantedTrust(async () => { throw new Error('no server'); }, (m) => logs.push(m)), false);
    assert.match(logs[0], /no server/);
    assert.equal(await recordGrantedTrust(undefined, (m) => logs.push(m)), false);
});
