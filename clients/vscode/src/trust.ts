/**
 * VS Code's workspace trust, as the weft server hears it.
 *
 * The extension declares `capabilities.untrustedWorkspaces: limited` (package.json): in
 * Restricted Mode VS Code keeps the workspace values of the restricted settings away from it,
 * and the extension tells the server (`initializationOptions.workspaceTrust.trusted = false`),
 * so the server also ignores the trusted-only keys of the repository's weft.toml. When the user
 * trusts the workspace, the extension records the current weft.toml as trusted (the server's
 * `weft.trustWorkspace` command, the same record `weft trust` makes) and restarts the server,
 * which then gets the workspace's own settings too.
 */

export const TRUST_OPTION = 'workspaceTrust';
export const TRUST_COMMAND = 'weft.trustWorkspace';

/** `initializationOptions`: the settings, plus what VS Code says about trusting the workspace. */
export function withTrust(settings: Record<string, unknown>, trusted: boolean): Record<string, unknown> {
    return { ...settings, [TRUST_OPTION]: { trusted } };
}

export type ExecuteCommand = (command: string, args: unknown[]) => Promise<unknown>;

/**
 * The user granted workspace trust: record the workspace's weft.toml as trusted on the server.
 * Failures are logged, never thrown (the restart that follows still applies the settings).
 */
export async function recordGrantedTrust(execute: ExecuteCommand | undefined, log: (message: string) => void): Promise<boolean> {
    if (!execute) {
        return false;
    }
    try {
        const result = await execute(TRUST_COMMAND, []) as { path?: string; enabled?: string[] } | undefined;
        if (result?.path) {
            const enabled = result.enabled?.length ? `; now in effect: ${result.enabled.join(', ')}` : '';
            log(`workspace trusted: ${result.path} recorded as trusted${enabled}`);
        }
        return true;
    } catch (error) {
        log(`could not record the workspace's weft.toml as trusted: ${(error as Error).message}`);
        return false;
    }
}
