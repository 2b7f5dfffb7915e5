import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
    execProbe, findPython, isSupported, noPythonMessage, parseProbeOutput, Probe, pythonCandidates, splitCommand, VERSION_SCRIPT,
} from '../../src/python';

function fakeProbe(answers: Record<string, string | undefined>, calls: string[] = []): Probe {
    return async (command, args) => {
        calls.push([command, ...args.slice(0, -2)].join(' '));
        assert.deepEqual(args.slice(-2), ['-c', VERSION_SCRIPT]);
        return answers[[command, ...args.slice(0, -2)].join(' ')];
    };
}

test('candidates are newest first and a configured Python replaces the search', () => {
    assert.deepEqual(pythonCandidates('linux'), ['python3.13', 'python3.12', 'python3.11', 'python3', 'python']);
    assert.equal(pythonCandidates('win32')[0], 'py -3.13');
    assert.deepEqual(pythonCandidates('linux', ' /opt/py/bin/python3 '), ['/opt/py/bin/python3']);
    assert.deepEqual(pythonCandidates('linux', ''), pythonCandidates('linux'));
});

test('probe output parses into a version and the interpreter path', () => {
    assert.deepEqual(parseProbeOutput('3.12.4\n/usr/bin/python3.12\n'), { version: [3, 12, 4], executable: '/usr/bin/python3.12' });
    assert.deepEqual(parseProbeOutput('3.11.0\r\nC:\\Python311\\python.exe'), { version: [3, 11, 0], executable: 'C:\\Python311\\python.exe' });
    assert.equal(parseProbeOutput('Python was not found; run without arguments to install'), undefined);
    assert.equal(parseProbeOutput(''), undefined);
});

test('3.11 is the oldest supported version', () => {
    assert.ok(isSupported([3, 11, 0]));
    assert.ok(isSupported([3, 13, 1]));
    assert.ok(isSupported([4, 0, 0]));
    assert.ok(!isSupported([3, 10, 14]));
    assert.ok(!isSupported([2, 7, 18]));
});

test('the first new-enough interpreter wins, by its absolute path', async () => {
    const calls: string[] = [];
    const probe = fakeProbe({ python3: '3.12.1\n/usr/local/bin/python3\n', python: '3.13.0\n/usr/bin/python\n' }, calls);
    const search = await findPython(pythonCandidates('linux'), probe);
    assert.deepEqual(search.found, { command: '/usr/local/bin/python3', version: [3, 12, 1] });
    assert.deepEqual(calls, ['python3.13', 'python3.12', 'python3.11', 'python3']);
});

test('too-old interpreters are skipped and named in the message', async () => {
    const probe = fakeProbe({ python3: '3.9.2\n/usr/bin/python3\n', python: '2.7.18\n/usr/bin/python\n' });
    const search = await findPython(pythonCandidates('linux'), probe);
    assert.equal(search.found, undefined);
    assert.deepEqual(search.tooOld, ['python3 (3.9.2)', 'python (2.7.18)']);
    const message = noPythonMessage(search, 'linux');
    assert.match(message, /Python 3\.11 or newer/);
    assert.match(message, /python3 \(3\.9\.2\)/);
    assert.match(message, /weft\.server\.python/);
    assert.match(message, /weft\.server\.command/);
});

test('no Python at all says so', () => {
    assert.match(noPythonMessage({ tooOld: [] }, 'darwin'), /No Python was found on PATH.*brew/);
});

test('the Windows launcher form keeps its flag, a path with spaces stays whole', () => {
    assert.deepEqual(splitCommand('py -3.12'), ['py', '-3.12']);
    assert.deepEqual(splitCommand('C:\\Program Files\\Python312\\python.exe'), ['C:\\Program Files\\Python312\\python.exe']);
});

test('the real probe finds this machine\'s Python', async () => {
    const search = await findPython(pythonCandidates(process.platform), execProbe);
    assert.ok(search.found, `no Python >= 3.11 found (too old: ${search.tooOld.join(', ')})`);
    assert.ok(isSupported(search.found.version));
    assert.equal(await execProbe('definitely-not-a-python-here', ['-c', VERSION_SCRIPT]), undefined);
});
