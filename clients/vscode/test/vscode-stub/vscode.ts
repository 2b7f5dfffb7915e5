/**
 * A small stand-in for the `vscode` module, enough for the extension's own logic in unit tests
 * (VS Code itself cannot be downloaded here). `register.ts` makes `require('vscode')` load it;
 * tests import this file directly for `stub`, the recorded state they drive and inspect.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */

type Listener<T> = (value: T) => void;

export class EventEmitter<T> {
    private listeners: Listener<T>[] = [];
    event = (listener: Listener<T>) => {
        this.listeners.push(listener);
        return { dispose: () => { this.listeners = this.listeners.filter((l) => l !== listener); } };
    };
    fire(value: T): void {
        for (const listener of [...this.listeners]) {
            listener(value);
        }
    }
}

export enum ConfigurationTarget { Global = 1, Workspace = 2, WorkspaceFolder = 3 }
export enum StatusBarAlignment { Left = 1, Right = 2 }
export enum ProgressLocation { SourceControl = 1, Window = 10, Notification = 15 }

export class ThemeColor {
    constructor(readonly id: string) {}
}

export class Uri {
    private constructor(readonly scheme: string, readonly fsPath: string, private readonly text: string) {}
    static parse(text: string): Uri {
        const scheme = text.split(':', 1)[0];
        return new Uri(scheme, decodeURIComponent(text.replace(/^file:\/\//, '')), text);
    }
    static file(fsPath: string): Uri {
        return new Uri('file', fsPath, `file://${fsPath}`);
    }
    toString(): string {
        return this.text;
    }
}

export class Position {
    constructor(readonly line: number, readonly character: number) {}
}

export class Selection {
    constructor(readonly start: Position, readonly end: Position) {}
}

type Scope = 'global' | 'workspace' | 'folder';

/** Recorded state and knobs for tests. */
export const stub = {
    settings: { global: new Map<string, unknown>(), workspace: new Map<string, unknown>(), folder: new Map<string, unknown>() },
    defaults: new Map<string, unknown>(),
    messages: [] as { level: string; text: string }[],
    inputs: [] as (string | undefined)[],
    inputOptions: [] as any[],
    executed: [] as { command: string; args: unknown[] }[],
    commandResults: new Map<string, unknown>(),
    handlers: new Map<string, (...args: any[]) => unknown>(),
    statusItems: [] as any[],
    configChanges: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
    reset(): void {
        for (const scope of Object.values(this.settings)) {
            scope.clear();
        }
        this.defaults.clear();
        this.messages.length = 0;
        this.inputs.length = 0;
        this.inputOptions.length = 0;
        this.executed.length = 0;
        this.commandResults.clear();
        this.handlers.clear();
        this.statusItems.length = 0;
        window.activeTextEditor = undefined;
        workspace.isTrusted = true;
    },
    set(scope: Scope, key: string, value: unknown): void {
        this.settings[scope].set(key, value);
    },
};

function fullKey(section: string | undefined, key: string): string {
    return section ? `${section}.${key}` : key;
}

class Configuration {
    constructor(private readonly section: string | undefined) {}
    get<T>(key: string, fallback?: T): T | undefined {
        const name = fullKey(this.section, key);
        for (const scope of [stub.settings.folder, stub.settings.workspace, stub.settings.global, stub.defaults]) {
            if (scope.has(name)) {
                return scope.get(name) as T;
            }
        }
        return fallback;
    }
    has(key: string): boolean {
        return this.get(key) !== undefined;
    }
    inspect<T>(key: string) {
        const name = fullKey(this.section, key);
        return {
            key: name,
            defaultValue: stub.defaults.get(name) as T | undefined,
            globalValue: stub.settings.global.get(name) as T | undefined,
            workspaceValue: stub.settings.workspace.get(name) as T | undefined,
            workspaceFolderValue: stub.settings.folder.get(name) as T | undefined,
        };
    }
    async update(key: string, value: unknown, target: ConfigurationTarget = ConfigurationTarget.Workspace): Promise<void> {
        const scope = target === ConfigurationTarget.Global ? 'global' : target === ConfigurationTarget.Workspace ? 'workspace' : 'folder';
        const name = fullKey(this.section, key);
        stub.settings[scope].set(name, value);
        stub.configChanges.fire({ affectsConfiguration: (section: string) => name === section || name.startsWith(`${section}.`) });
    }
}

export const workspace = {
    isTrusted: true,
    workspaceFolders: undefined as { uri: Uri }[] | undefined,
    getConfiguration: (section?: string) => new Configuration(section),
    onDidChangeConfiguration: stub.configChanges.event,
    onDidGrantWorkspaceTrust: new EventEmitter<void>().event,
};

function record(level: string) {
    return async (text: string) => {
        stub.messages.push({ level, text });
        return undefined;
    };
}

export const window = {
    activeTextEditor: undefined as any,
    showInputBox: async (options?: any) => {
        stub.inputOptions.push(options);
        return stub.inputs.shift();
    },
    showInformationMessage: record('info'),
    showWarningMessage: record('warning'),
    showErrorMessage: record('error'),
    setStatusBarMessage: (text: string) => {
        stub.messages.push({ level: 'status', text });
        return { dispose() {} };
    },
    createStatusBarItem: (id?: string, alignment?: StatusBarAlignment, priority?: number) => {
        const item = {
            id, alignment, priority, text: '', tooltip: '', command: undefined as unknown, name: '',
            backgroundColor: undefined as ThemeColor | undefined, visible: false, disposed: false,
            show() { this.visible = true; },
            hide() { this.visible = false; },
            dispose() { this.disposed = true; },
        };
        stub.statusItems.push(item);
        return item;
    },
    withProgress: async (_options: unknown, task: (progress: { report(value: unknown): void }) => Promise<unknown>) =>
        task({ report() {} }),
};

export const commands = {
    registerCommand: (command: string, handler: (...args: any[]) => unknown) => {
        stub.handlers.set(command, handler);
        return { dispose: () => stub.handlers.delete(command) };
    },
    executeCommand: async (command: string, ...args: unknown[]) => {
        stub.executed.push({ command, args });
        const result = stub.commandResults.get(command);
        if (result instanceof Error) {
            throw result;
        }
        return result;
    },
};
