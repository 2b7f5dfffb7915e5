/**
 * Runs the real `weft serve` over the same JSON-RPC stack the extension uses
 * (vscode-jsonrpc + vscode-languageserver-protocol), and the loopback model server from
 * tests/clients/model_server.py (real Ollama and OpenAI wire formats), for protocol tests.
 *
 * The client side answers what VS Code answers: workspace/configuration (section `weft`),
 * workspace/applyEdit (applied to in-memory documents, versions checked), progress creation
 * and capability registration.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

import { StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import {
    ApplyWorkspaceEditParams,
    ApplyWorkspaceEditRequest,
    ClientCapabilities,
    ConfigurationRequest,
    createProtocolConnection,
    InitializeRequest,
    LogMessageNotification,
    ProtocolConnection,
    RegistrationRequest,
    TextDocumentEdit,
    TextEdit,
    WorkDoneProgressCreateRequest,
} from 'vscode-languageserver-protocol';

/** The repository root (clients/vscode/out/test/protocol → four levels up). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..', '..');
export const PYTHON = process.env.WEFT_TEST_PYTHON ?? 'python3';

export interface ModelServer {
    url: string;
    requests(): Promise<{ method: string; path: string; body: unknown }[]>;
    stop(): void;
}

export async function startModelServer(config: Record<string, unknown>): Promise<ModelServer> {
    const proc = spawn(PYTHON, ['-m', 'tests.clients.model_server', JSON.stringify(config)], {
        cwd: REPO_ROOT,
        stdio: ['pipe', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
        const lines = createInterface({ input: proc.stdout! });
        lines.once('line', resolve);
        proc.once('exit', (code) => reject(new Error(`model server exited (${code})`)));
    });
    const { url } = JSON.parse(line) as { url: string };
    return {
        url,
        requests: async () => (await fetch(`${url}/_requests`)).json() as Promise<{ method: string; path: string; body: unknown }[]>,
        stop: () => {
            proc.stdin!.end();
            proc.kill();
        },
    };
}

/** Close to what vscode-languageclient 11 advertises for the parts weft uses. */
export const VSCODE_CAPABILITIES: ClientCapabilities = {
    workspace: {
        applyEdit: true,
        configuration: true,
        workspaceFolders: true,
        didChangeConfiguration: { dynamicRegistration: true },
        executeCommand: { dynamicRegistration: true },
        workspaceEdit: {
            documentChanges: true,
            resourceOperations: ['create', 'rename', 'delete'],
            failureHandling: 'textOnlyTransactional',
            normalizesLineEndings: true,
            changeAnnotationSupport: { groupsOnLabel: true },
        },
    },
    textDocument: {
        synchronization: { dynamicRegistration: true, didSave: true, willSave: true, willSaveWaitUntil: true },
        inlineCompletion: { dynamicRegistration: true },
        codeAction: {
            dynamicRegistration: true,
            isPreferredSupport: true,
            disabledSupport: true,
            dataSupport: true,
            resolveSupport: { properties: ['edit'] },
            codeActionLiteralSupport: {
                codeActionKind: {
                    valueSet: ['', 'quickfix', 'refactor', 'refactor.extract', 'refactor.inline', 'refactor.rewrite', 'source', 'source.organizeImports'],
                },
            },
            honorsChangeAnnotations: true,
        },
        publishDiagnostics: { relatedInformation: true, versionSupport: false },
    },
    window: { workDoneProgress: true, showMessage: {}, showDocument: { support: true } },
    general: { positionEncodings: ['utf-16'] },
};

export interface OpenDocument {
    uri: string;
    languageId: string;
    version: number;
    text: string;
}

/** Applies LSP text edits to a string (positions in UTF-16 code units, as in JS strings). */
export function applyTextEdits(text: string, edits: TextEdit[]): string {
    const lineStarts = [0];
    for (let i = 0; i < text.length; i++) {
        if (text[i] === '\n') {
            lineStarts.push(i + 1);
        }
    }
    const offset = (p: { line: number; character: number }) =>
        p.line >= lineStarts.length ? text.length : Math.min(lineStarts[p.line] + p.character, text.length);
    const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
    let out = text;
    for (const edit of sorted) {
        out = out.slice(0, offset(edit.range.start)) + edit.newText + out.slice(offset(edit.range.end));
    }
    return out;
}

export class WeftSession {
    readonly documents = new Map<string, OpenDocument>();
    readonly appliedEdits: ApplyWorkspaceEditParams[] = [];
    readonly logs: string[] = [];
    readonly createdFiles: string[] = [];
    configurationRequests = 0;

    private constructor(
        readonly proc: ChildProcess,
        readonly connection: ProtocolConnection,
        readonly root: string,
        private settings: Record<string, unknown>,
    ) {}

    /** Starts `python -m weft serve` in a fresh workspace holding `files`. */
    static async start(files: Record<string, string>, settings: Record<string, unknown>): Promise<WeftSession> {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-protocol-'));
        for (const [name, text] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
            fs.writeFileSync(path.join(root, name), text);
        }
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-protocol-cache-'));
        const proc = spawn(PYTHON, ['-m', 'weft', 'serve', '--log-level', 'debug'], {
            cwd: root,
            env: {
                ...process.env,
                PYTHONPATH: [path.join(REPO_ROOT, 'server'), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
                XDG_CACHE_HOME: cache,
            },
            stdio: ['pipe', 'pipe', 'pipe'],
        });
        const stderr: string[] = [];
        proc.stderr!.on('data', (chunk) => stderr.push(String(chunk)));
        const connection = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
        const session = new WeftSession(proc, connection, root, settings);
        session.stderr = stderr;
        session.listen();
        connection.listen();
        return session;
    }

    stderr: string[] = [];

    /** Changes what workspace/configuration answers and notifies the server, as VS Code does. */
    async changeSettings(settings: Record<string, unknown>): Promise<void> {
        this.settings = settings;
        await this.connection.sendNotification('workspace/didChangeConfiguration', { settings: { weft: settings } });
    }

    uri(name: string): string {
        return `file://${path.join(this.root, name)}`;
    }

    private listen(): void {
        const c = this.connection;
        c.onRequest(ConfigurationRequest.type, (params) => {
            this.configurationRequests += 1;
            return params.items.map((item) => (item.section === 'weft' ? this.settings : null));
        });
        c.onRequest(WorkDoneProgressCreateRequest.type, () => undefined);
        c.onRequest(RegistrationRequest.type, () => undefined);
        c.onRequest(ApplyWorkspaceEditRequest.type, (params) => this.applyEdit(params));
        c.onNotification(LogMessageNotification.type, (params) => {
            this.logs.push(params.message);
        });
        c.onNotification('$/progress', () => undefined);
        c.onNotification('window/showMessage', (params: { message: string }) => {
            this.logs.push(`shown: ${params.message}`);
        });
    }

    /** What VS Code does with workspace/applyEdit, all or nothing, versions checked. */
    applyEdit(params: ApplyWorkspaceEditParams): { applied: boolean; failureReason?: string } {
        this.appliedEdits.push(params);
        const staged = new Map<string, string>();
        const current = (uri: string): string | undefined => {
            if (staged.has(uri)) {
                return staged.get(uri);
            }
            const open = this.documents.get(uri);
            if (open) {
                return open.text;
            }
            const file = new URL(uri).pathname;
            return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
        };
        for (const change of params.edit.documentChanges ?? []) {
            if ('kind' in change) {
                if (change.kind !== 'create') {
                    return { applied: false, failureReason: `unsupported ${change.kind}` };
                }
                staged.set(change.uri, '');
                this.createdFiles.push(change.uri);
                continue;
            }
            const edit = change as TextDocumentEdit;
            const open = this.documents.get(edit.textDocument.uri);
            if (open && edit.textDocument.version !== null && edit.textDocument.version !== open.version) {
                return { applied: false, failureReason: `version mismatch for ${edit.textDocument.uri}` };
            }
            const text = current(edit.textDocument.uri);
            if (text === undefined) {
                return { applied: false, failureReason: `no such document ${edit.textDocument.uri}` };
            }
            staged.set(edit.textDocument.uri, applyTextEdits(text, edit.edits as TextEdit[]));
        }
        for (const [uri, edits] of Object.entries(params.edit.changes ?? {})) {
            const text = current(uri);
            if (text === undefined) {
                return { applied: false, failureReason: `no such document ${uri}` };
            }
            staged.set(uri, applyTextEdits(text, edits));
        }
        for (const [uri, text] of staged) {
            const open = this.documents.get(uri);
            if (open) {
                open.version += 1;
                open.text = text;
                this.connection.sendNotification('textDocument/didChange', {
                    textDocument: { uri, version: open.version },
                    contentChanges: [{ text }],
                });
            } else {
                fs.writeFileSync(new URL(uri).pathname, text);
            }
        }
        return { applied: true };
    }

    async initialize(initializationOptions: unknown): Promise<unknown> {
        const result = await this.connection.sendRequest(InitializeRequest.type, {
            processId: process.pid,
            clientInfo: { name: 'Visual Studio Code', version: '1.95.0' },
            rootUri: `file://${this.root}`,
            workspaceFolders: [{ uri: `file://${this.root}`, name: path.basename(this.root) }],
            capabilities: VSCODE_CAPABILITIES,
            initializationOptions,
        });
        await this.connection.sendNotification('initialized', {});
        return result;
    }

    async open(name: string, languageId = 'python'): Promise<OpenDocument> {
        const uri = this.uri(name);
        const doc = { uri, languageId, version: 1, text: fs.readFileSync(path.join(this.root, name), 'utf8') };
        this.documents.set(uri, doc);
        await this.connection.sendNotification('textDocument/didOpen', { textDocument: doc });
        return doc;
    }

    async stop(): Promise<void> {
        try {
            await Promise.race([this.connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 3000))]);
            await this.connection.sendNotification('exit');
        } catch {
            // the server may already be gone
        }
        this.connection.dispose();
        await new Promise<void>((resolve) => {
            if (this.proc.exitCode !== null) {
                resolve();
                return;
            }
            const timer = setTimeout(() => {
                this.proc.kill('SIGKILL');
                resolve();
            }, 3000);
            this.proc.once('exit', () => {
                clearTimeout(timer);
                resolve();
            });
        });
    }
}
