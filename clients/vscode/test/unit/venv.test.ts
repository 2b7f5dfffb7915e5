import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { ensureEnvironment, findWheel, isCurrent, MARKER, Runner, serverArgv, venvPython } from '../../src/venv';

async function tempDir(): Promise<string> {
    return fs.mkdtemp(path.join(os.tmpdir(), 'weft-venv-test-'));
}

/** Acts like venv + pip: `-m venv DIR` creates DIR/bin/python; `fail` makes one step throw. */
function fakeRunner(calls: string[][], fail?: string): Runner {
    return async (command, args) => {
        calls.push([command, ...args]);
        if (fail && args.includes(fail)) {
            throw new Error(`${fail} exploded`);
        }
        if (args[0] === '-m' && args[1] === 'venv') {
            const python = venvPython(args[2], 'linux');
            await fs.mkdir(path.dirname(python), { recursive: true });
            await fs.writeFile(python, '');
        }
    };
}

test('findWheel picks the weft wheel and ignores other files', async () => {
    const dir = await tempDir();
    assert.equal(await findWheel(path.join(dir, 'missing')), undefined);
    await fs.writeFile(path.join(dir, 'README'), '');
    await fs.writeFile(path.join(dir, 'other-1.0-py3-none-any.whl'), '');
    assert.equal(await findWheel(dir), undefined);
    await fs.writeFile(path.join(dir, 'weft-0.1.0-py3-none-any.whl'), '');
    await fs.writeFile(path.join(dir, 'weft-0.2.0-py3-none-any.whl'), '');
    assert.equal(await findWheel(dir), path.join(dir, 'weft-0.2.0-py3-none-any.whl'));
});

test('first start creates the venv, installs the wheel, checks it, then writes the marker', async () => {
    const root = await tempDir();
    const envDir = path.join(root, 'storage', 'server-env');
    const calls: string[][] = [];
    const reports: string[] = [];
    const wheel = '/ext/wheels/weft-0.1.0-py3-none-any.whl';
    const python = await ensureEnvironment({
        envDir, python: '/usr/bin/python3.12', pythonVersion: '3.12.1', wheel, platform: 'linux',
        run: fakeRunner(calls), report: (m) => reports.push(m),
    });
    assert.equal(python, path.join(envDir, 'bin', 'python'));
    assert.deepEqual(calls, [
        ['/usr/bin/python3.12', '-m', 'venv', envDir],
        [python, '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', wheel],
        [python, '-c', 'import weft.server'],
    ]);
    assert.equal(reports.length, 3);
    const marker = JSON.parse(await fs.readFile(path.join(envDir, MARKER), 'utf8'));
    assert.deepEqual(marker, { wheel: 'weft-0.1.0-py3-none-any.whl', python: '3.12.1' });
    assert.ok(await isCurrent(envDir, wheel, 'linux'));

    calls.length = 0;
    await ensureEnvironment({
        envDir, python: '/usr/bin/python3.12', pythonVersion: '3.12.1', wheel, platform: 'linux',
        run: fakeRunner(calls), report: () => undefined,
    });
    assert.deepEqual(calls, [], 'an up-to-date environment is reused as is');
});

test('a new wheel rebuilds the environment from scratch', async () => {
    const envDir = path.join(await tempDir(), 'server-env');
    const calls: string[][] = [];
    const base = { envDir, python: 'python3', pythonVersion: '3.11.7', platform: 'linux' as const, report: () => undefined };
    await ensureEnvironment({ ...base, wheel: '/w/weft-0.1.0-py3-none-any.whl', run: fakeRunner(calls) });
    await fs.writeFile(path.join(envDir, 'stale-file'), 'x');
    calls.length = 0;
    await ensureEnvironment({ ...base, wheel: '/w/weft-0.2.0-py3-none-any.whl', run: fakeRunner(calls) });
    assert.equal(calls.length, 3);
    await assert.rejects(fs.access(path.join(envDir, 'stale-file')));
    assert.equal((await JSON.parse(await fs.readFile(path.join(envDir, MARKER), 'utf8'))).wheel, 'weft-0.2.0-py3-none-any.whl');
});

test('a failed install leaves no marker, so the next start tries again', async () => {
    const envDir = path.join(await tempDir(), 'server-env');
    const wheel = '/w/weft-0.1.0-py3-none-any.whl';
    const base = { envDir, python: 'python3', pythonVersion: '3.11.7', wheel, platform: 'linux' as const, report: () => undefined };
    await assert.rejects(ensureEnvironment({ ...base, run: fakeRunner([], 'pip') }), /pip exploded/);
    assert.equal(await isCurrent(envDir, wheel, 'linux'), false);
    const calls: string[][] = [];
    await ensureEnvironment({ ...base, run: fakeRunner(calls) });
    assert.equal(calls.length, 3);
    assert.ok(await isCurrent(envDir, wheel, 'linux'));
});

test('the server argv runs weft from the environment with the log level', () => {
    assert.deepEqual(serverArgv('/s/env', 'linux', 'debug'), ['/s/env/bin/python', '-m', 'weft', 'serve', '--log-level', 'debug']);
    assert.equal(venvPython('C:\\s\\env', 'win32').endsWith(path.join('Scripts', 'python.exe')), true);
});
