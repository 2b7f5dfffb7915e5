/**
 * What the weft status bar item shows, as pure state: starting, idle, working (counted, so
 * overlapping requests and agent runs do not flicker it off early), offline engine, error with
 * a reason. Which engine serves and whether it is healthy come from the server's own
 * `weft.status` command. No `vscode` import, so the protocol tests use it against the real server.
 */
export type ServerState = 'starting' | 'idle' | 'offline' | 'error' | 'stopped';

export interface StatusView {
    text: string;
    tooltip: string;
    /** A ThemeColor id for the background, when the state needs attention. */
    background?: string;
}

/** The part of the server's `weft.status` command result the status bar uses. */
export interface ServerStatus {
    backend?: string;
    model?: string | null;
    healthy?: boolean;
    error?: string | null;
    hint?: string;
}

export class StatusModel {
    state: ServerState = 'starting';
    reason = '';
    busy = 0;
    busyLabel = '';
    completionsEnabled = true;

    begin(label: string): void {
        this.busy += 1;
        this.busyLabel = label;
    }

    end(): void {
        this.busy = Math.max(0, this.busy - 1);
    }

    set(state: ServerState, reason = ''): void {
        this.state = state;
        this.reason = reason;
        if (state !== 'idle' && state !== 'offline') {
            this.busy = 0;
        }
    }

    /** Applies the result of the server's `weft.status` command; junk is ignored. */
    applyServerStatus(status: unknown): void {
        if (typeof status !== 'object' || status === null || this.state === 'stopped' || this.state === 'starting') {
            return;
        }
        const info = status as ServerStatus;
        const text = (value: unknown) => (typeof value === 'string' ? value : '');
        if (info.healthy === false) {
            this.set('error', text(info.error) || 'the model backend is not answering');
        } else if (info.backend === 'offline') {
            this.set('offline', text(info.hint));
        } else if (typeof info.backend === 'string') {
            this.set('idle', info.model ? `${info.backend} · ${info.model}` : info.backend);
        }
    }

    view(): StatusView {
        const off = this.completionsEnabled ? '' : ' (completions off)';
        switch (this.state) {
            case 'starting':
                return { text: '$(loading~spin) weft', tooltip: `weft: starting the server${this.reason ? ` (${this.reason})` : ''}` };
            case 'error':
                return {
                    text: '$(error) weft',
                    tooltip: `weft: ${this.reason || 'the server stopped'}. Click for the log.`,
                    background: 'statusBarItem.errorBackground',
                };
            case 'stopped':
                return { text: '$(circle-slash) weft', tooltip: 'weft: the server is not running. Click for the log.' };
            default:
                break;
        }
        if (this.busy > 0) {
            return { text: '$(sync~spin) weft', tooltip: `weft: ${this.busyLabel || 'working'}…` };
        }
        if (this.state === 'offline') {
            const why = this.reason ? ` ${this.reason}` : ' Set weft.backend.kind/url/model to use a model server.';
            return {
                text: `$(circle-large-outline) weft offline${off}`,
                tooltip: `weft: the built-in offline engine is serving completions.${why} Click for the log.`,
                background: 'statusBarItem.warningBackground',
            };
        }
        return {
            text: this.completionsEnabled ? '$(check) weft' : '$(circle-slash) weft',
            tooltip: `weft: ready${this.reason ? ` (${this.reason})` : ''}${off}. Click for the log.`,
        };
    }
}
