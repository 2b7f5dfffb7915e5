/**
 * Owns the language client's life: start (resolving how to launch the server), restart when a
 * setting the server cannot take live changes, stop, and the status bar that follows it.
 */
import * as vscode from 'vscode';
import {
    DidChangeConfigurationNotification,
    ExecuteCommandRequest,
    LanguageClient,
    LanguageClientOptions,
    RevealOutputChannelOn,
    ServerOptions,
    State,
    TransportKind,
} from 'vscode-languageclient/node';

import { askInstruction, showAgentResult } from './commands';
import { LaunchError, resolveServerArgv } from './launcher';
import { createMiddleware } from './middleware';
import { execProbe } from './python';
import { explicitSettings, needsRestart, restrictedKeys, SECTION, serverSettingKeys, userOnlyKeys } from './settings';
import { StatusBar } from './status';
import { recordGrantedTrust, withTrust } from './trust';
import { execRunner } from './venv';

export const SHOW_LOG_COMMAND = 'weft.showLog';
const RESTART_DELAY_MS = 500;
/** How often the status bar asks the server which engine serves and whether it is healthy. */
const STATUS_POLL_MS = 15_000;

export class WeftController implements vscode.Disposable {
    readonly log: vscode.LogOutputChannel;
    readonly status: StatusBar;
    private client: LanguageClient | undefined;
    private pending: Promise<void> = Promise.resolve();
    private restartTimer: NodeJS.Timeout | undefined;
    private pollTimer: NodeJS.Timeout | undefined;
    private readonly keys: string[];
    private readonly restricted: Set<string>;
    private readonly userOnly: Set<string>;
    private readonly disposables: vscode.Disposable[] = [];

    constructor(private readonly context: vscode.ExtensionContext) {
        this.log = vscode.window.createOutputChannel('weft', { log: true });
        this.status = new StatusBar(SHOW_LOG_COMMAND);
        this.keys = serverSettingKeys(context.extension.packageJSON);
        this.restricted = restrictedKeys(context.extension.packageJSON);
        this.userOnly = userOnlyKeys(context.extension.packageJSON);
        this.status.update((m) => { m.completionsEnabled = this.completionsEnabled(); });
        this.disposables.push(
            this.log,
            this.status,
            vscode.workspace.onDidChangeConfiguration((event) => this.onConfigurationChanged(event)),
            vscode.workspace.onDidGrantWorkspaceTrust(() => void this.onTrustGranted()),
        );
    }

    /** Start, restart and stop are queued so they never interleave. */
    start(): Promise<void> {
        return this.enqueue(() => this.doStart());
    }

    restart(): Promise<void> {
        return this.enqueue(async () => {
            await this.doStop();
            await this.doStart();
        });
    }

    stop(): Promise<void> {
        return this.enqueue(() => this.doStop());
    }

    /** The explicit server settings (what the server gets; never the package.json defaults). */
    serverSettings(scopeUri?: string): Record<string, unknown> {
        const scope = scopeUri ? vscode.Uri.parse(scopeUri) : undefined;
        const config = vscode.workspace.getConfiguration(SECTION, scope);
        return explicitSettings(config, this.keys, vscode.workspace.isTrusted, this.restricted, this.userOnly);
    }

    /** The user trusted the workspace: record its weft.toml as trusted, then restart so the
     * server gets the workspace's restricted settings too. */
    private async onTrustGranted(): Promise<void> {
        const client = this.client;
        const execute = client?.isRunning()
            ? (command: string, args: unknown[]) => client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args })
            : undefined;
        await recordGrantedTrust(execute, (message) => this.log.info(message));
        this.scheduleRestart();
    }

    private enqueue(step: () => Promise<void>): Promise<void> {
        this.pending = this.pending.then(step, step);
        return this.pending;
    }

    private completionsEnabled(): boolean {
        return vscode.workspace.getConfiguration(SECTION).get<boolean>('completion.enabled', true);
    }

    private onConfigurationChanged(event: vscode.ConfigurationChangeEvent): void {
        if (event.affectsConfiguration(`${SECTION}.completion.enabled`)) {
            this.status.update((m) => { m.completionsEnabled = this.completionsEnabled(); });
        }
        if (needsRestart((section) => event.affectsConfiguration(section))) {
            this.scheduleRestart();
        } else if (event.affectsConfiguration(SECTION)) {
            setTimeout(() => void this.pollStatus(), 1000);
        }
    }

    private scheduleRestart(): void {
        clearTimeout(this.restartTimer);
        this.restartTimer = setTimeout(() => {
            this.log.info('settings changed: restarting the server');
            void this.restart();
        }, RESTART_DELAY_MS);
    }

    private async doStart(): Promise<void> {
        this.status.update((m) => m.set('starting'));
        let argv: string[];
        try {
            argv = await resolveServerArgv({
                config: vscode.workspace.getConfiguration(SECTION),
                storageDir: this.context.globalStorageUri.fsPath,
                extensionDir: this.context.extensionUri.fsPath,
                platform: process.platform,
                probe: execProbe,
                run: execRunner,
                withProgress: (title, task) => Promise.resolve(vscode.window.withProgress(
                    { location: vscode.ProgressLocation.Notification, title, cancellable: false },
                    (progress) => task((message) => {
                        this.log.info(`setup: ${message}`);
                        progress.report({ message });
                    }),
                )),
            });
        } catch (error) {
            this.fail(error instanceof LaunchError ? error.message : `weft could not start: ${String(error)}`);
            return;
        }
        this.log.info(`starting the server: ${argv.join(' ')}`);
        const client = this.createClient(argv);
        this.client = client;
        try {
            await client.start();
        } catch (error) {
            this.fail(`the weft server did not start (${argv.join(' ')}): ${(error as Error).message}`);
        }
    }

    private async doStop(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        if (client) {
            try {
                await client.stop(5000);
            } catch (error) {
                this.log.warn(`stopping the server: ${(error as Error).message}`);
            }
        }
        this.status.update((m) => m.set('stopped'));
    }

    private fail(message: string): void {
        this.log.error(message);
        this.status.update((m) => m.set('error', message));
        void vscode.window.showErrorMessage(message, 'Open settings', 'Show log').then((choice) => {
            if (choice === 'Open settings') {
                void vscode.commands.executeCommand('workbench.action.openSettings', 'weft.server');
            } else if (choice === 'Show log') {
                this.log.show();
            }
        });
    }

    private createClient(argv: string[]): LanguageClient {
        const folder = vscode.workspace.workspaceFolders?.[0];
        const serverOptions: ServerOptions = {
            command: argv[0],
            args: argv.slice(1),
            transport: TransportKind.stdio,
            options: { cwd: folder?.uri.fsPath, env: process.env },
        };
        const middleware = createMiddleware({
            settings: (scopeUri) => this.serverSettings(scopeUri),
            sendSettings: (settings) => client.sendNotification(DidChangeConfigurationNotification.type, { settings }),
            track: (label, work) => this.status.track(label, work),
            askInstruction,
            showResult: showAgentResult,
        });
        const clientOptions: LanguageClientOptions = {
            documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
            outputChannel: this.log,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: withTrust(this.serverSettings(), vscode.workspace.isTrusted),
            synchronize: { configurationSection: SECTION },
            middleware,
        };
        const client = new LanguageClient('weft', 'weft', serverOptions, clientOptions);
        client.onDidChangeState(({ newState }) => {
            clearInterval(this.pollTimer);
            if (newState === State.Running) {
                this.status.update((m) => m.set('idle'));
                void this.pollStatus();
                this.pollTimer = setInterval(() => void this.pollStatus(), STATUS_POLL_MS);
            } else if (newState === State.Stopped && this.client === client) {
                this.status.update((m) => m.set('error', 'the server stopped'));
            }
        });
        return client;
    }

    /** Asks the server (`weft.status`) which engine serves and whether it is healthy. */
    private async pollStatus(): Promise<void> {
        const client = this.client;
        if (!client?.isRunning()) {
            return;
        }
        try {
            const status = await client.sendRequest(ExecuteCommandRequest.type, { command: 'weft.status', arguments: [] });
            this.status.update((m) => m.applyServerStatus(status));
        } catch (error) {
            this.log.debug(`weft.status: ${(error as Error).message}`);
        }
    }

    dispose(): void {
        clearTimeout(this.restartTimer);
        clearInterval(this.pollTimer);
        for (const disposable of this.disposables) {
            disposable.dispose();
        }
    }
}
