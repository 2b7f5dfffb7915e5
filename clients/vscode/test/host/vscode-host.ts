/**
 * A fake VS Code host, rich enough for the real vscode-languageclient to run the extension
 * end to end in node: documents, configuration, providers (captured so tests can call them the
 * way the editor would), commands, workspace edits applied to in-memory documents. Anything the
 * client touches that is not modelled here is a harmless no-op (see `loose`).
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import * as path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

// -- basic value classes -------------------------------------------------------------------

export class Disposable {
    constructor(private readonly fn: () => void = () => undefined) {}
    static from(...items: { dispose(): unknown }[]): Disposable {
        return new Disposable(() => items.forEach((i) => i?.dispose?.()));
    }
    dispose(): void {
        this.fn();
    }
}

type Listener<T> = (value: T) => void;

export class EventEmitter<T> {
    private listeners: Listener<T>[] = [];
    event = (listener: Listener<T>, thisArg?: unknown, bucket?: Disposable[]) => {
        const bound = thisArg ? listener.bind(thisArg) : listener;
        this.listeners.push(bound);
        const d = new Disposable(() => { this.listeners = this.listeners.filter((l) => l !== bound); });
        bucket?.push(d);
        return d;
    };
    fire(value: T): void {
        for (const listener of [...this.listeners]) {
            listener(value);
        }
    }
    dispose(): void {
        this.listeners = [];
    }
}

export class Uri {
    private constructor(readonly scheme: string, readonly path: string, readonly query = '', readonly fragment = '') {}
    static parse(text: string): Uri {
        const url = new URL(text);
        return new Uri(url.protocol.replace(/:$/, ''), decodeURIComponent(url.pathname), url.search.slice(1), url.hash.slice(1));
    }
    static file(fsPath: string): Uri {
        return new Uri('file', path.resolve(fsPath));
    }
    static joinPath(base: Uri, ...parts: string[]): Uri {
        return new Uri(base.scheme, path.posix.join(base.path, ...parts));
    }
    get fsPath(): string {
        return this.path;
    }
    get authority(): string {
        return '';
    }
    with(change: { scheme?: string; path?: string }): Uri {
        return new Uri(change.scheme ?? this.scheme, change.path ?? this.path);
    }
    toString(): string {
        return this.scheme === 'file' ? pathToFileURL(this.path).toString() : `${this.scheme}:${this.path}`;
    }
    toJSON(): unknown {
        return { scheme: this.scheme, path: this.path };
    }
}

export class Position {
    constructor(readonly line: number, readonly character: number) {}
    isEqual(other: Position): boolean {
        return this.line === other.line && this.character === other.character;
    }
    isBefore(other: Position): boolean {
        return this.line < other.line || (this.line === other.line && this.character < other.character);
    }
    translate(lineDelta = 0, characterDelta = 0): Position {
        return new Position(this.line + lineDelta, this.character + characterDelta);
    }
}

export class Range {
    readonly start: Position;
    readonly end: Position;
    constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
        if (typeof a === 'number') {
            this.start = new Position(a, b as number);
            this.end = new Position(c as number, d as number);
        } else {
            this.start = a;
            this.end = b as Position;
        }
    }
    get isEmpty(): boolean {
        return this.start.isEqual(this.end);
    }
}

export class Selection extends Range {
    get anchor(): Position {
        return this.start;
    }
    get active(): Position {
        return this.end;
    }
}

export class Location {
    constructor(readonly uri: Uri, readonly range: Range | Position) {}
}

export class TextEdit {
    constructor(readonly range: Range, readonly newText: string) {}
    static replace(range: Range, newText: string): TextEdit {
        return new TextEdit(range, newText);
    }
    static insert(position: Position, newText: string): TextEdit {
        return new TextEdit(new Range(position, position), newText);
    }
}

export class SnippetString {
    constructor(readonly value = '') {}
}

export class MarkdownString {
    constructor(public value = '', public supportThemeIcons = false) {}
    appendText(text: string): this {
        this.value += text;
        return this;
    }
    appendMarkdown(text: string): this {
        this.value += text;
        return this;
    }
}

export class WorkspaceEdit {
    readonly operations: ({ kind: 'edit'; uri: Uri; edit: TextEdit } | { kind: 'create'; uri: Uri })[] = [];
    replace(uri: Uri, range: Range, newText: string): void {
        this.operations.push({ kind: 'edit', uri, edit: new TextEdit(range, newText) });
    }
    insert(uri: Uri, position: Position, newText: string): void {
        this.replace(uri, new Range(position, position), newText);
    }
    delete(uri: Uri, range: Range): void {
        this.replace(uri, range, '');
    }
    set(uri: Uri, edits: (TextEdit | [TextEdit, unknown])[]): void {
        for (const item of edits) {
            const edit = Array.isArray(item) ? item[0] : item;
            this.operations.push({ kind: 'edit', uri, edit });
        }
    }
    createFile(uri: Uri): void {
        this.operations.push({ kind: 'create', uri });
    }
    get size(): number {
        return new Set(this.operations.map((o) => o.uri.toString())).size;
    }
}

class Simple {
    constructor(...args: any[]) {
        Object.assign(this, { args });
    }
}

export class CodeAction {
    edit?: WorkspaceEdit;
    command?: unknown;
    diagnostics?: unknown[];
    constructor(public title: string, public kind?: CodeActionKind) {}
}
export class CodeActionKind {
    static readonly Empty = new CodeActionKind('');
    static readonly QuickFix = new CodeActionKind('quickfix');
    static readonly Refactor = new CodeActionKind('refactor');
    static readonly RefactorRewrite = new CodeActionKind('refactor.rewrite');
    static readonly Source = new CodeActionKind('source');
    constructor(readonly value: string) {}
    append(part: string): CodeActionKind {
        return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
    }
    contains(other: CodeActionKind): boolean {
        return this.value === other.value || other.value.startsWith(`${this.value}.`);
    }
    intersects(other: CodeActionKind): boolean {
        return this.contains(other) || other.contains(this);
    }
}
export class Diagnostic {
    source?: string;
    code?: unknown;
    constructor(public range: Range, public message: string, public severity = 0) {}
}
export class InlineCompletionItem {
    constructor(public insertText: string | SnippetString, public range?: Range, public command?: unknown) {}
}
export class InlineCompletionList {
    constructor(public items: InlineCompletionItem[]) {}
}
export class CompletionItem extends Simple {}
export class CompletionList extends Simple {}
export class CodeLens extends Simple {}
export class DocumentLink extends Simple {}
export class InlayHint extends Simple {}
export class InlayHintLabelPart extends Simple {}
export class CallHierarchyItem extends Simple {}
export class TypeHierarchyItem extends Simple {}
export class SymbolInformation extends Simple {}
export class DocumentSymbol extends Simple {}
export class Hover extends Simple {}
export class DiagnosticRelatedInformation extends Simple {}
export class CancellationError extends Error {}
export class RelativePattern extends Simple {}
export class ThemeColor {
    constructor(readonly id: string) {}
}

export enum InlineCompletionTriggerKind { Invoke = 0, Automatic = 1 }
export enum CodeActionTriggerKind { Invoke = 1, Automatic = 2 }
export enum DiagnosticSeverity { Error = 0, Warning = 1, Information = 2, Hint = 3 }
export enum ConfigurationTarget { Global = 1, Workspace = 2, WorkspaceFolder = 3 }
export enum StatusBarAlignment { Left = 1, Right = 2 }
export enum ProgressLocation { SourceControl = 1, Window = 10, Notification = 15 }
export enum LogLevel { Off = 0, Trace = 1, Debug = 2, Info = 3, Warning = 4, Error = 5 }
export enum EndOfLine { LF = 1, CRLF = 2 }
export enum TextDocumentSaveReason { Manual = 1, AfterDelay = 2, FocusOut = 3 }
export enum FileType { Unknown = 0, File = 1, Directory = 2, SymbolicLink = 64 }
export enum UIKind { Desktop = 1, Web = 2 }
export class TabInputText {}
export class TabInputTextDiff {}
export class TabInputNotebook {}
export class TabInputCustom {}

export class CancellationTokenSource {
    private readonly emitter = new EventEmitter<void>();
    token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
    cancel(): void {
        this.token.isCancellationRequested = true;
        this.emitter.fire();
    }
    dispose(): void {
        this.emitter.dispose();
    }
}

export const version = '1.95.0';

// -- documents ------------------------------------------------------------------------------

export class TextDocument {
    version = 1;
    isDirty = false;
    isClosed = false;
    readonly eol = EndOfLine.LF;
    constructor(readonly uri: Uri, readonly languageId: string, private text: string) {}
    get fileName(): string {
        return this.uri.fsPath;
    }
    get isUntitled(): boolean {
        return this.uri.scheme === 'untitled';
    }
    get lineCount(): number {
        return this.text.split('\n').length;
    }
    getText(range?: Range): string {
        if (!range) {
            return this.text;
        }
        return this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end));
    }
    offsetAt(position: Position): number {
        const lines = this.text.split('\n');
        let offset = 0;
        for (let i = 0; i < position.line && i < lines.length; i++) {
            offset += lines[i].length + 1;
        }
        return Math.min(offset + position.character, this.text.length);
    }
    positionAt(offset: number): Position {
        const before = this.text.slice(0, offset).split('\n');
        return new Position(before.length - 1, before[before.length - 1].length);
    }
    lineAt(line: number | Position) {
        const n = typeof line === 'number' ? line : line.line;
        const text = this.text.split('\n')[n] ?? '';
        return { lineNumber: n, text, range: new Range(n, 0, n, text.length) };
    }
    /** Replaces text; returns the change event VS Code would fire. */
    apply(edits: TextEdit[]) {
        const sorted = [...edits].sort((a, b) => this.offsetAt(b.range.start) - this.offsetAt(a.range.start));
        const contentChanges = [];
        for (const edit of sorted) {
            const start = this.offsetAt(edit.range.start);
            const end = this.offsetAt(edit.range.end);
            contentChanges.push({ range: edit.range, rangeOffset: start, rangeLength: end - start, text: edit.newText });
            this.text = this.text.slice(0, start) + edit.newText + this.text.slice(end);
        }
        this.version += 1;
        return { document: this, contentChanges, reason: undefined };
    }
}

// -- the host -------------------------------------------------------------------------------

function noopEvent() {
    return new EventEmitter<any>().event;
}

const configurationChanged = new EventEmitter<any>();
const documentOpened = new EventEmitter<TextDocument>();
const documentChanged = new EventEmitter<any>();
const documentClosed = new EventEmitter<TextDocument>();

export const host = {
    settings: new Map<string, unknown>(),
    defaults: new Map<string, unknown>(),
    documents: [] as TextDocument[],
    inlineProviders: [] as { selector: unknown; provider: any }[],
    codeActionProviders: [] as { selector: unknown; provider: any }[],
    commands: new Map<string, (...args: any[]) => unknown>(),
    messages: [] as { level: string; text: string }[],
    inputs: [] as (string | undefined)[],
    statusItems: [] as any[],
    log: [] as string[],
    appliedEdits: [] as WorkspaceEdit[],

    open(fsPath: string, languageId: string, text: string): TextDocument {
        const doc = new TextDocument(Uri.file(fsPath), languageId, text);
        this.documents.push(doc);
        documentOpened.fire(doc);
        return doc;
    },
    setSetting(key: string, value: unknown): void {
        this.settings.set(key, value);
        configurationChanged.fire({ affectsConfiguration: (s: string) => key === s || key.startsWith(`${s}.`) });
    },
};

class Configuration {
    constructor(private readonly section: string | undefined) {}
    private key(k: string): string {
        return this.section ? `${this.section}.${k}` : k;
    }
    get<T>(k: string, fallback?: T): T | undefined {
        const key = this.key(k);
        if (host.settings.has(key)) {
            return host.settings.get(key) as T;
        }
        if (host.defaults.has(key)) {
            return host.defaults.get(key) as T;
        }
        // a section read as an object (e.g. get('weft') or trace settings)
        const prefix = `${key}.`;
        const nested: Record<string, unknown> = {};
        let found = false;
        for (const [name, value] of [...host.defaults, ...host.settings]) {
            if (name.startsWith(prefix)) {
                nested[name.slice(prefix.length)] = value;
                found = true;
            }
        }
        return found ? (nested as T) : fallback;
    }
    has(k: string): boolean {
        return this.get(k) !== undefined;
    }
    inspect<T>(k: string) {
        const key = this.key(k);
        return { key, defaultValue: host.defaults.get(key) as T, globalValue: host.settings.get(key) as T | undefined };
    }
    async update(k: string, value: unknown): Promise<void> {
        host.setSetting(this.key(k), value);
    }
}

function matches(selector: unknown, doc: TextDocument): boolean {
    const list = Array.isArray(selector) ? selector : [selector];
    return list.some((s: any) => typeof s === 'string' ? s === doc.languageId || s === '*' : (!s.scheme || s.scheme === doc.uri.scheme) && (!s.language || s.language === doc.languageId));
}

export const workspace = loose({
    isTrusted: true,
    workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
    get textDocuments() {
        return host.documents;
    },
    getConfiguration: (section?: string) => new Configuration(section),
    getWorkspaceFolder: (uri: Uri) => workspace.workspaceFolders?.find((f) => uri.fsPath.startsWith(f.uri.fsPath)),
    onDidChangeConfiguration: configurationChanged.event,
    onDidOpenTextDocument: documentOpened.event,
    onDidChangeTextDocument: documentChanged.event,
    onDidCloseTextDocument: documentClosed.event,
    onDidSaveTextDocument: noopEvent(),
    onWillSaveTextDocument: noopEvent(),
    onDidChangeWorkspaceFolders: noopEvent(),
    onDidGrantWorkspaceTrust: noopEvent(),
    onDidOpenNotebookDocument: noopEvent(),
    onDidChangeNotebookDocument: noopEvent(),
    onDidSaveNotebookDocument: noopEvent(),
    onDidCloseNotebookDocument: noopEvent(),
    onDidCreateFiles: noopEvent(),
    onDidRenameFiles: noopEvent(),
    onDidDeleteFiles: noopEvent(),
    onWillCreateFiles: noopEvent(),
    onWillRenameFiles: noopEvent(),
    onWillDeleteFiles: noopEvent(),
    notebookDocuments: [],
    createFileSystemWatcher: () => ({ onDidCreate: noopEvent(), onDidChange: noopEvent(), onDidDelete: noopEvent(), dispose() {} }),
    applyEdit: async (edit: WorkspaceEdit) => {
        host.appliedEdits.push(edit);
        const byUri = new Map<string, TextEdit[]>();
        for (const op of edit.operations) {
            if (op.kind === 'edit') {
                byUri.set(op.uri.toString(), [...(byUri.get(op.uri.toString()) ?? []), op.edit]);
            }
        }
        for (const [uri, edits] of byUri) {
            const doc = host.documents.find((d) => d.uri.toString() === uri);
            if (!doc) {
                return false;
            }
            documentChanged.fire(doc.apply(edits));
        }
        return true;
    },
});

function recordMessage(level: string) {
    return async (text: string) => {
        host.messages.push({ level, text });
        return undefined;
    };
}

function outputChannel(name: string) {
    const write = (level: string) => (message: string) => host.log.push(`[${name}:${level}] ${message}`);
    return {
        name, logLevel: LogLevel.Info, onDidChangeLogLevel: noopEvent(),
        append: write('raw'), appendLine: write('raw'), replace: write('raw'), clear() {}, show() {}, hide() {}, dispose() {},
        trace: write('trace'), debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'),
    };
}

export const window = loose({
    activeTextEditor: undefined as any,
    visibleTextEditors: [] as any[],
    onDidChangeActiveTextEditor: noopEvent(),
    onDidChangeVisibleTextEditors: noopEvent(),
    tabGroups: { all: [], onDidChangeTabs: noopEvent(), onDidChangeTabGroups: noopEvent() },
    createOutputChannel: (name: string) => outputChannel(name),
    createStatusBarItem: () => {
        const item = { text: '', tooltip: '', command: undefined as unknown, name: '', backgroundColor: undefined, show() {}, hide() {}, dispose() {} };
        host.statusItems.push(item);
        return item;
    },
    showInputBox: async () => host.inputs.shift(),
    showInformationMessage: recordMessage('info'),
    showWarningMessage: recordMessage('warning'),
    showErrorMessage: recordMessage('error'),
    setStatusBarMessage: () => new Disposable(),
    withProgress: async (_options: unknown, task: (progress: { report(v: unknown): void }, token: unknown) => Promise<unknown>) =>
        task({ report() {} }, new CancellationTokenSource().token),
    showTextDocument: async () => undefined,
});

/**
 * Members the client may touch that the host does not model: `register*` functions give a
 * disposable and `onDid*`/`onWill*` events never fire, so a server advertising more features
 * (workspace symbols, hovers, …) still starts here.
 */
function loose<T extends object>(target: T): T {
    return new Proxy(target, {
        get(object, property, receiver) {
            if (property in object || typeof property !== 'string') {
                return Reflect.get(object, property, receiver);
            }
            if (property.startsWith('register')) {
                return () => new Disposable();
            }
            if (property.startsWith('onDid') || property.startsWith('onWill')) {
                return noopEvent();
            }
            return undefined;
        },
    });
}

export const languages = loose({
    registerInlineCompletionItemProvider: (selector: unknown, provider: unknown) => {
        const entry = { selector, provider };
        host.inlineProviders.push(entry);
        return new Disposable(() => host.inlineProviders.splice(host.inlineProviders.indexOf(entry), 1));
    },
    registerCodeActionsProvider: (selector: unknown, provider: unknown) => {
        const entry = { selector, provider };
        host.codeActionProviders.push(entry);
        return new Disposable(() => host.codeActionProviders.splice(host.codeActionProviders.indexOf(entry), 1));
    },
    match: (selector: unknown, doc: TextDocument) => (matches(selector, doc) ? 10 : 0),
    createDiagnosticCollection: () => ({ set() {}, delete() {}, clear() {}, dispose() {}, forEach() {}, get: () => [] }),
    onDidChangeDiagnostics: noopEvent(),
    getDiagnostics: () => [],
});

export const commands = {
    registerCommand: (command: string, handler: (...args: any[]) => unknown) => {
        host.commands.set(command, handler);
        return new Disposable(() => host.commands.delete(command));
    },
    executeCommand: async (command: string, ...args: unknown[]) => {
        const handler = host.commands.get(command);
        if (!handler) {
            throw new Error(`command '${command}' not found`);
        }
        return handler(...args);
    },
};

export const env = {
    language: 'en', appName: 'Visual Studio Code', machineId: 'test', sessionId: 'test', uiKind: UIKind.Desktop,
    logLevel: LogLevel.Info, onDidChangeLogLevel: noopEvent(),
};

export const extensions = { getExtension: () => undefined, all: [] };

/** The path of a file: URI (for tests). */
export function fsPathOf(uri: string): string {
    return fileURLToPath(uri);
}
