import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { environmentDir, LaunchContext, LaunchError, resolveServerArgv } from '../../src/launcher';
import { ConfigurationLike } from '../../src/settings';
import { venvPython } from '../../src/venv';

function config(values: Record<string, unknown>): ConfigurationLike {
    return {
        get: <T>(key: string) => values[key] as T | undefined,
        inspect: () => undefined,
    };
}

async function context(values: Record<string, unknown>, opts: { wheel?: boolean; pythons?: Record<string, string> } = {}) {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-launch-test-'));
    const extensionDir = path.join(root, 'ext');
    await fs.mkdir(path.join(extensionDir, 'wheels'), { recursive: true });
    if (opts.wheel ?? true) {
        await fs.writeFile(path.join(extensionDir, 'wheels', 'weft-0.1.0-py3-none-any.whl'), '');
    }
    const runs: string[][] = [];
    const probes: string[] = [];
    const progress: string[] = [];
    const ctx: LaunchContext = {
        config: config(values),
        storageDir: path.join(root, 'storage'),
        extensionDir,
        platform: 'linux',
        probe: async (command) => {
            probes.push(command);
            return opts.pythons?.[command];
        },
        run: async (command, args) => {
            runs.push([command, ...args]);
            if (args[1] === 'venv') {
                await fs.mkdir(path.dirname(venvPython(args[2], 'linux')), { recursive: true });
                await fs.writeFile(venvPython(args[2], 'linux'), '');
            }
        },
        withProgress: async (title, task) => {
            progress.push(title);
            return task((message) => progress.push(message));
        },
    };
    return { ctx, runs, probes, progress, root };
}

test('weft.server.command wins and nothing is probed or installed', async () => {
    const { ctx, runs, probes } = await context({ 'server.command': ['/opt/weft/bin/weft', 'serve', '--log-level', 'debug'] });
    assert.deepEqual(await resolveServerArgv(ctx), ['/opt/weft/bin/weft', 'serve', '--log-level', 'debug']);
    assert.deepEqual(runs, []);
    assert.deepEqual(probes, []);
});

test('first start builds the private environment under a progress notification', async () => {
    const { ctx, runs, progress } = await context({ 'server.logLevel': 'warning' }, {
        pythons: { python3: '3.11.7\n/usr/bin/python3\n' },
    });
    const argv = await resolveServerArgv(ctx);
    const envDir = environmentDir(ctx.storageDir);
    assert.deepEqual(argv, [venvPython(envDir, 'linux'), '-m', 'weft', 'serve', '--log-level', 'warning']);
    assert.deepEqual(runs[0], ['/usr/bin/python3', '-m', 'venv', envDir]);
    assert.ok(runs[1].includes(path.join(ctx.extensionDir, 'wheels', 'weft-0.1.0-py3-none-any.whl')));
    assert.match(progress[0], /setting up the language server/);

    runs.length = 0;
    progress.length = 0;
    assert.deepEqual(await resolveServerArgv(ctx), argv);
    assert.deepEqual(runs, [], 'the second start reuses the environment');
    assert.deepEqual(progress, []);
});

test('weft.server.python is the only candidate when set', async () => {
    const { ctx, probes } = await context({ 'server.python': '/opt/py312/bin/python' }, {
        pythons: { '/opt/py312/bin/python': '3.12.0\n/opt/py312/bin/python\n' },
    });
    await resolveServerArgv(ctx);
    assert.deepEqual(probes, ['/opt/py312/bin/python']);
});

test('no suitable Python is a LaunchError that says how to fix it', async () => {
    const { ctx, runs } = await context({}, { pythons: { python3: '3.8.10\n/usr/bin/python3\n' } });
    await assert.rejects(resolveServerArgv(ctx), (error: Error) => {
        assert.ok(error instanceof LaunchError);
        assert.match(error.message, /3\.11 or newer/);
        assert.match(error.message, /python3 \(3\.8\.10\)/);
        return true;
    });
    assert.deepEqual(runs, []);
});

test('a missing wheel and a failing pip are LaunchErrors too', async () => {
    const noWheel = await context({}, { wheel: false, pythons: { python3: '3.11.7\n/usr/bin/python3\n' } });
    await assert.rejects(resolveServerArgv(noWheel.ctx), /ships no server wheel.*weft\.server\.command/);

    const broken = await context({}, { pythons: { python3: '3.11.7\n/usr/bin/python3\n' } });
    broken.ctx.run = async (_command, args) => {
        if (args.includes('pip')) {
            throw new Error('No matching distribution found for pygls');
        }
        if (args[1] === 'venv') {
            await fs.mkdir(path.dirname(venvPython(args[2], 'linux')), { recursive: true });
        }
    };
    await assert.rejects(resolveServerArgv(broken.ctx), (error: Error) => {
        assert.ok(error instanceof LaunchError);
        assert.match(error.message, /No matching distribution found for pygls/);
        assert.match(error.message, /Restart server/);
        return true;
    });
});
