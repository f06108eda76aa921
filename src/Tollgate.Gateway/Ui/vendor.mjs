// Copies the console's third-party browser libraries from node_modules into web/vendor/ (committed), so the gateway
// build and its tests need no npm. Rebuild after changing a version in package.json:
//   cd src/Tollgate.Gateway/Ui && npm ci && npm run vendor
// The browser loads them as they are: preact's hooks import the bare specifier "preact", rewritten here to the
// relative file (an import map would be an inline script, which the console's Content-Security-Policy forbids).
import { copyFileSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';

const out = new URL('./web/vendor/', import.meta.url);
mkdirSync(out, { recursive: true });
const from = (path) => new URL(`./node_modules/${path}`, import.meta.url);

copyFileSync(from('preact/dist/preact.mjs'), new URL('preact.mjs', out));
copyFileSync(from('htm/dist/htm.mjs'), new URL('htm.mjs', out));
copyFileSync(from('chart.js/dist/chart.umd.min.js'), new URL('chart.umd.min.js', out));
const hooks = readFileSync(from('preact/hooks/dist/hooks.mjs'), 'utf8').replace(/from\s*"preact"/g, 'from"./preact.mjs"');
if (hooks.includes('"preact"')) throw new Error('preact/hooks still imports "preact": update vendor.mjs');
writeFileSync(new URL('hooks.mjs', out), hooks);

const versions = ['preact', 'htm', 'chart.js'].map((name) => `${name} ${JSON.parse(readFileSync(from(`${name}/package.json`))).version} (MIT)`);
writeFileSync(new URL('VERSIONS.txt', out), `Copied by vendor.mjs from npm; do not edit.\n${versions.join('\n')}\n`);
console.log(versions.join(', '));
