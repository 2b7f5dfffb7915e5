/**
 * `node --require out/test/vscode-stub/register.js`: makes `require('vscode')` load the stub.
 */
import Module from 'node:module';
import * as path from 'node:path';

const stubPath = path.join(__dirname, 'vscode.js');
const moduleWithResolver = Module as unknown as {
    _resolveFilename(request: string, ...rest: unknown[]): string;
};
const original = moduleWithResolver._resolveFilename;
moduleWithResolver._resolveFilename = function (request: string, ...rest: unknown[]): string {
    return request === 'vscode' ? stubPath : original.call(this, request, ...rest);
};
