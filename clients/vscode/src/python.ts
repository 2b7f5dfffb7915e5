/**
 * Finding a Python new enough to run the weft server (3.11 or newer).
 *
 * Pure logic plus one injected `probe` (run a candidate, return what it printed), so the
 * search order and the version check are unit-tested without spawning anything.
 */
import { execFile } from 'node:child_process';

export const MIN_PYTHON: readonly [number, number] = [3, 11];

/** The script each candidate runs: prints `major.minor.micro` and its own path. */
export const VERSION_SCRIPT = 'import sys; print("%d.%d.%d" % sys.version_info[:3]); print(sys.executable)';

export interface PythonInfo {
    /** What to run: an absolute path when the interpreter reported one. */
    command: string;
    version: [number, number, number];
}

/** Runs `command -c VERSION_SCRIPT`; resolves to its stdout, or undefined when it failed. */
export type Probe = (command: string, args: string[]) => Promise<string | undefined>;

/** Candidate commands, newest first, for one platform. */
export function pythonCandidates(platform: NodeJS.Platform, configured?: string): string[] {
    const names = platform === 'win32'
        ? ['py -3.13', 'py -3.12', 'py -3.11', 'python3', 'python']
        : ['python3.13', 'python3.12', 'python3.11', 'python3', 'python'];
    const chosen = configured?.trim();
    return chosen ? [chosen] : names;
}

/** Parses VERSION_SCRIPT's output; undefined when it is not two lines starting with X.Y.Z. */
export function parseProbeOutput(output: string): { version: [number, number, number]; executable: string } | undefined {
    const [first, second] = output.trim().split(/\r?\n/);
    const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(first?.trim() ?? '');
    if (!match) {
        return undefined;
    }
    const version: [number, number, number] = [Number(match[1]), Number(match[2]), Number(match[3])];
    return { version, executable: second?.trim() ?? '' };
}

export function isSupported(version: readonly number[]): boolean {
    return version[0] > MIN_PYTHON[0] || (version[0] === MIN_PYTHON[0] && version[1] >= MIN_PYTHON[1]);
}

export function formatVersion(version: readonly number[]): string {
    return version.join('.');
}

export interface PythonSearch {
    found?: PythonInfo;
    /** Interpreters that ran but were too old, e.g. "python3 (3.9.2)". */
    tooOld: string[];
}

/** The first candidate that runs and is ≥ MIN_PYTHON. */
export async function findPython(candidates: string[], probe: Probe): Promise<PythonSearch> {
    const tooOld: string[] = [];
    for (const candidate of candidates) {
        const [command, ...args] = splitCommand(candidate);
        const output = await probe(command, [...args, '-c', VERSION_SCRIPT]);
        const parsed = output === undefined ? undefined : parseProbeOutput(output);
        if (!parsed) {
            continue;
        }
        if (!isSupported(parsed.version)) {
            tooOld.push(`${candidate} (${formatVersion(parsed.version)})`);
            continue;
        }
        return { found: { command: parsed.executable || command, version: parsed.version }, tooOld };
    }
    return { tooOld };
}

/** `"py -3.12"` → `["py", "-3.12"]`; a path with spaces stays whole when it has no flag. */
export function splitCommand(candidate: string): string[] {
    const parts = candidate.trim().split(/\s+/);
    if (parts.length > 1 && !parts.slice(1).some((part) => part.startsWith('-'))) {
        return [candidate.trim()];
    }
    return parts;
}

/** What to tell the user when no candidate qualifies, with the fix. */
export function noPythonMessage(search: PythonSearch, platform: NodeJS.Platform): string {
    const install = platform === 'win32'
        ? 'Install Python 3.11 or newer from python.org'
        : platform === 'darwin'
            ? 'Install Python 3.11 or newer (e.g. `brew install python@3.12`)'
            : 'Install Python 3.11 or newer (e.g. `sudo apt install python3.11 python3.11-venv`)';
    const seen = search.tooOld.length ? ` Found only ${search.tooOld.join(', ')}.` : ' No Python was found on PATH.';
    return `weft needs Python 3.11 or newer to run its language server.${seen} ${install}, `
        + 'then run "weft: Restart server"; or set weft.server.python to its path, '
        + 'or weft.server.command to a weft you installed yourself (e.g. ["weft", "serve"]).';
}

/** The real probe: runs the command with a deadline, never through a shell. */
export const execProbe: Probe = (command, args) => new Promise((resolve) => {
    execFile(command, args, { timeout: 10_000, windowsHide: true }, (error, stdout) => {
        resolve(error ? undefined : String(stdout));
    });
});
