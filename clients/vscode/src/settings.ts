/**
 * VS Code settings → what the weft server gets, and which changes need a restart.
 *
 * Only values the user actually set are sent (user, workspace or folder settings), never the
 * defaults from package.json: the server merges defaults → weft.toml → initializationOptions →
 * workspace/configuration, so sending defaults would silently override a project's weft.toml.
 * `weft.server.*` and `weft.trace.*` belong to the extension and never reach the server.
 */

/** The part of vscode.WorkspaceConfiguration this module reads. */
export interface ConfigurationLike {
    get<T>(section: string): T | undefined;
    inspect<T>(section: string): {
        globalValue?: T;
        workspaceValue?: T;
        workspaceFolderValue?: T;
    } | undefined;
}

export const SECTION = 'weft';
const CLIENT_ONLY = ['server.', 'trace.'];

/** Changing any of these restarts the server; everything else the server takes live. */
export const RESTART_SECTIONS = ['weft.server'];

interface ContributedCategory {
    properties?: Record<string, unknown>;
}

/** Server setting keys ("backend.kind", …) from the extension's package.json. */
export function serverSettingKeys(packageJson: unknown): string[] {
    const contributes = (packageJson as { contributes?: { configuration?: unknown } }).contributes;
    const raw = contributes?.configuration;
    const categories: ContributedCategory[] = Array.isArray(raw) ? raw : raw ? [raw as ContributedCategory] : [];
    const keys: string[] = [];
    for (const category of categories) {
        for (const name of Object.keys(category.properties ?? {})) {
            const key = name.startsWith(`${SECTION}.`) ? name.slice(SECTION.length + 1) : name;
            if (!CLIENT_ONLY.some((prefix) => key.startsWith(prefix))) {
                keys.push(key);
            }
        }
    }
    return keys;
}

/** Restricted settings (package.json `capabilities.untrustedWorkspaces`) without the prefix. */
export function restrictedKeys(packageJson: unknown): Set<string> {
    const caps = (packageJson as { capabilities?: { untrustedWorkspaces?: { restrictedConfigurations?: string[] } } })
        .capabilities;
    const names = caps?.untrustedWorkspaces?.restrictedConfigurations ?? [];
    return new Set(names.map((name) => name.replace(/^weft\./, '')));
}

/**
 * Settings only the user's own settings may hold (the server's user-only keys, contributed with
 * scope `machine` or `application`): a workspace's value never counts, trusted or not.
 */
export function userOnlyKeys(packageJson: unknown): Set<string> {
    const contributes = (packageJson as { contributes?: { configuration?: unknown } }).contributes;
    const raw = contributes?.configuration;
    const categories = (Array.isArray(raw) ? raw : raw ? [raw] : []) as { properties?: Record<string, { scope?: string }> }[];
    const keys = new Set<string>();
    for (const category of categories) {
        for (const [name, property] of Object.entries(category.properties ?? {})) {
            if (property.scope === 'machine' || property.scope === 'application') {
                keys.add(name.replace(/^weft\./, ''));
            }
        }
    }
    return keys;
}

/**
 * The explicitly set server settings as the nested camelCase object the server expects.
 * In an untrusted workspace, restricted keys take only the user's own (global) value; user-only
 * keys take it always.
 */
export function explicitSettings(
    config: ConfigurationLike,
    keys: readonly string[],
    trusted = true,
    restricted: ReadonlySet<string> = new Set(),
    userOnly: ReadonlySet<string> = new Set(),
): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (const key of keys) {
        const info = config.inspect<unknown>(key);
        if (!info) {
            continue;
        }
        const value = userOnly.has(key) || (!trusted && restricted.has(key))
            ? info.globalValue
            : info.workspaceFolderValue ?? info.workspaceValue ?? info.globalValue;
        if (value !== undefined) {
            setPath(result, key.split('.'), value);
        }
    }
    return result;
}

function setPath(target: Record<string, unknown>, parts: string[], value: unknown): void {
    let node = target;
    for (const part of parts.slice(0, -1)) {
        const next = node[part];
        if (typeof next !== 'object' || next === null || Array.isArray(next)) {
            node[part] = {};
        }
        node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
}

/** True when a configuration change needs the server restarted. */
export function needsRestart(affectsConfiguration: (section: string) => boolean): boolean {
    return RESTART_SECTIONS.some((section) => affectsConfiguration(section));
}

/** True when a change touches settings the server reads live. */
export function affectsServer(affectsConfiguration: (section: string) => boolean, keys: readonly string[]): boolean {
    return keys.some((key) => affectsConfiguration(`${SECTION}.${key}`));
}

/** `weft.server.command` as an argv, or undefined when unset/empty/invalid. */
export function configuredCommand(config: ConfigurationLike): string[] | undefined {
    const value = config.get<unknown>('server.command');
    if (!Array.isArray(value)) {
        return undefined;
    }
    const argv = value.filter((part): part is string => typeof part === 'string' && part.length > 0);
    return argv.length ? argv : undefined;
}

export function logLevel(config: ConfigurationLike): string {
    const level = config.get<string>('server.logLevel');
    return level && ['debug', 'info', 'warning', 'error'].includes(level) ? level : 'info';
}
