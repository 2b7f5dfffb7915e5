// `npm run bundle-wheel`: builds the weft wheel from this checkout into wheels/, so the .vsix
// ships the server and the extension can install it into its private environment.
// Uses the Python in $WEFT_PYTHON, else python3, else python.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..', '..');
const out = path.resolve(__dirname, '..', 'wheels');

function python() {
    for (const candidate of [process.env.WEFT_PYTHON, 'python3', 'python'].filter(Boolean)) {
        try {
            execFileSync(candidate, ['-c', 'import sys; assert sys.version_info >= (3, 11)'], { stdio: 'ignore' });
            return candidate;
        } catch {
            // try the next one
        }
    }
    throw new Error('bundle-wheel needs Python 3.11+ (set WEFT_PYTHON)');
}

// pip builds in the source tree; leave no build/ folder behind that was not there before.
const buildDir = path.join(root, 'build');
const hadBuildDir = fs.existsSync(buildDir);
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
try {
    execFileSync(python(), ['-m', 'pip', 'wheel', '--no-deps', '--disable-pip-version-check', '--wheel-dir', out, root], {
        stdio: 'inherit',
    });
} finally {
    if (!hadBuildDir) {
        fs.rmSync(buildDir, { recursive: true, force: true });
    }
}
const wheels = fs.readdirSync(out).filter((name) => /^weft-.+\.whl$/.test(name));
if (wheels.length !== 1) {
    throw new Error(`expected one weft wheel in ${out}, found ${wheels.join(', ') || 'none'}`);
}
console.log(`bundled ${wheels[0]}`);
