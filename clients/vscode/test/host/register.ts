/**
 * Makes `require('vscode')` load the fake host (test/host/vscode-host.ts) for the
 * end-to-end extension test. Import it before anything that imports `vscode`.
 */
import Module from 'node:module';
import * as path from 'node:path';

const hostPath = path.join(__dirname, 'vscode-host.js');
const moduleWithResolver = Module as unknown as {
    _resolveFilename(request: string, ...rest: unknown[]): string;
};
const original = moduleWithResolver._resolveFilename;
moduleWithResolver._resolveFilename = function (request: string, ...rest: unknown[]): string {
    return request === 'vscode' ? hostPath : original.call(this, request, ...rest);
};
