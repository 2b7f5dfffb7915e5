/**
 * The private environment the extension runs the server from when `weft.server.command` is
 * empty: a virtual environment in the extension's global storage, with weft installed from the
 * wheel shipped inside the .vsix.
 *
 * A marker file written last records which wheel and Python built the environment, so a half-
 * built environment (VS Code closed during pip) or a new extension version rebuilds it, and an
 * up-to-date one starts at once. Process launching is injected for tests.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

export const MARKER = 'weft-environment.json';

export interface Marker {
    wheel: string;
    python: string;
}

/** Runs a program to completion; rejects with its output when it exits non-zero. */
export type Runner = (command: string, args: string[]) => Promise<void>;

export interface EnvironmentRequest {
    /** The folder that holds the environment (e.g. globalStorage/server-env). */
    envDir: string;
    /** The Python that creates it. */
    python: string;
    pythonVersion: string;
    /** The weft wheel to install. */
    wheel: string;
    platform: NodeJS.Platform;
    run: Runner;
    report: (message: string) => void;
}

export function venvPython(envDir: string, platform: NodeJS.Platform): string {
    return platform === 'win32'
        ? path.join(envDir, 'Scripts', 'python.exe')
        : path.join(envDir, 'bin', 'python');
}

/** The argv that starts the server from the environment. */
export function serverArgv(envDir: string, platform: NodeJS.Platform, logLevel: string): string[] {
    return [venvPython(envDir, platform), '-m', 'weft', 'serve', '--log-level', logLevel];
}

/** The weft wheel in `dir` (the newest by name when several are there), or undefined. */
export async function findWheel(dir: string): Promise<string | undefined> {
    let names: string[];
    try {
        names = await fs.readdir(dir);
    } catch {
        return undefined;
    }
    const wheels = names.filter((name) => /^weft-.+\.whl$/.test(name)).sort();
    return wheels.length ? path.join(dir, wheels[wheels.length - 1]) : undefined;
}

export async function readMarker(envDir: string): Promise<Marker | undefined> {
    try {
        const data = JSON.parse(await fs.readFile(path.join(envDir, MARKER), 'utf8')) as Partial<Marker>;
        return typeof data.wheel === 'string' && typeof data.python === 'string'
            ? { wheel: data.wheel, python: data.python }
            : undefined;
    } catch {
        return undefined;
    }
}

/** True when the environment was completely built from this wheel. */
export async function isCurrent(envDir: string, wheel: string, platform: NodeJS.Platform): Promise<boolean> {
    const marker = await readMarker(envDir);
    if (!marker || marker.wheel !== path.basename(wheel)) {
        return false;
    }
    try {
        await fs.access(venvPython(envDir, platform));
        return true;
    } catch {
        return false;
    }
}

/**
 * Builds (or rebuilds) the environment unless it is current; returns its Python.
 * Dependencies come from the user's configured package index through pip.
 */
export async function ensureEnvironment(request: EnvironmentRequest): Promise<string> {
    const { envDir, platform, run, report } = request;
    const python = venvPython(envDir, platform);
    if (await isCurrent(envDir, request.wheel, platform)) {
        return python;
    }
    report('creating a Python environment');
    await fs.rm(envDir, { recursive: true, force: true });
    await fs.mkdir(path.dirname(envDir), { recursive: true });
    await run(request.python, ['-m', 'venv', envDir]);
    report('installing the weft server and its dependencies');
    await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', request.wheel]);
    report('checking the installation');
    await run(python, ['-c', 'import weft.server']);
    const marker: Marker = { wheel: path.basename(request.wheel), python: request.pythonVersion };
    await fs.writeFile(path.join(envDir, MARKER), JSON.stringify(marker, null, 2));
    return python;
}

/** The real runner: no shell, output kept for the error message. */
export const execRunner: Runner = (command, args) => new Promise((resolve, reject) => {
    execFile(command, args, { windowsHide: true, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) {
            const tail = `${stdout}\n${stderr}`.trim().split(/\r?\n/).slice(-15).join('\n');
            reject(new Error(`${[command, ...args].join(' ')} failed: ${error.message}\n${tail}`));
        } else {
            resolve();
        }
    });
});
