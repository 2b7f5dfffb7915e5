/**
 * How the server is started: `weft.server.command` when the user set one, otherwise the
 * private environment (created on first start, with a progress notification).
 *
 * Every side effect is injected, so the decision path is unit-tested without VS Code.
 */
import * as path from 'node:path';

import { findPython, noPythonMessage, pythonCandidates, formatVersion, Probe } from './python';
import { ConfigurationLike, configuredCommand, logLevel } from './settings';
import { ensureEnvironment, findWheel, isCurrent, Runner, serverArgv } from './venv';

/** A start-up problem the user can fix; `message` says how. */
export class LaunchError extends Error {}

export interface LaunchContext {
    config: ConfigurationLike;
    /** The extension's global storage folder. */
    storageDir: string;
    /** The installed extension's folder (holds wheels/). */
    extensionDir: string;
    platform: NodeJS.Platform;
    probe: Probe;
    run: Runner;
    /** Shows a progress notification while `task` runs. */
    withProgress<T>(title: string, task: (report: (message: string) => void) => Promise<T>): Promise<T>;
}

export function environmentDir(storageDir: string): string {
    return path.join(storageDir, 'server-env');
}

/** The argv that starts the server. Throws LaunchError with a fix when it cannot. */
export async function resolveServerArgv(ctx: LaunchContext): Promise<string[]> {
    const configured = configuredCommand(ctx.config);
    if (configured) {
        return configured;
    }
    const wheel = await findWheel(path.join(ctx.extensionDir, 'wheels'));
    if (!wheel) {
        throw new LaunchError(
            'This copy of the weft extension ships no server wheel. Install weft yourself '
            + '(`pipx install weft`) and set weft.server.command to ["weft", "serve"].',
        );
    }
    const envDir = environmentDir(ctx.storageDir);
    const level = logLevel(ctx.config);
    if (await isCurrent(envDir, wheel, ctx.platform)) {
        return serverArgv(envDir, ctx.platform, level);
    }
    const configuredPython = ctx.config.get<string>('server.python');
    const search = await findPython(pythonCandidates(ctx.platform, configuredPython), ctx.probe);
    if (!search.found) {
        throw new LaunchError(noPythonMessage(search, ctx.platform));
    }
    const python = search.found;
    try {
        await ctx.withProgress('weft: setting up the language server (first start)', (report) => ensureEnvironment({
            envDir,
            python: python.command,
            pythonVersion: formatVersion(python.version),
            wheel,
            platform: ctx.platform,
            run: ctx.run,
            report,
        }));
    } catch (error) {
        throw new LaunchError(
            `weft could not set up its server environment with ${python.command}: ${(error as Error).message}. `
            + 'Check that the Python has the venv module and that pip can reach your package index, '
            + 'then run "weft: Restart server"; or set weft.server.command to a weft you installed yourself.',
        );
    }
    return serverArgv(envDir, ctx.platform, level);
}
