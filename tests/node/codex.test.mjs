// The real Codex CLI (npm @openai/codex), unchanged, with a custom provider whose base URL is the gateway and
// wire_api = "responses": it streams its large Responses requests (instructions, tools, reasoning, store:false,
// prompt_cache_key, session-id header) through Tollgate, and every call is metered and attributed to its session.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EIGHT_WORDS, adminGet, createKey, useGateway, waitForUsage } from './gateway.mjs';

const CODEX = resolve(import.meta.dirname, 'node_modules', '.bin', 'codex');

let key;
const gateway = useGateway(async (gw) => {
    key = await createKey(gw, { name: 'codex-cli' });
});

test('Codex CLI runs a task through the gateway and its calls are metered per session', { timeout: 120_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'tollgate-codex-'));
    try {
        writeFileSync(join(home, 'config.toml'), [
            'model = "mock/echo"',
            'model_provider = "tollgate"',
            '',
            '[model_providers.tollgate]',
            'name = "Tollgate"',
            `base_url = "${gateway.gw.baseUrl}/v1"`,
            'env_key = "TOLLGATE_KEY"',
            'wire_api = "responses"',
            '',
        ].join('\n'));
        const run = spawnSync(CODEX, ['exec', '--skip-git-repo-check', 'Say hello'], {
            env: { ...process.env, CODEX_HOME: home, TOLLGATE_KEY: key.key },
            cwd: home,
            encoding: 'utf8',
            timeout: 90_000,
        });
        const output = `${run.stdout}\n${run.stderr}`;
        assert.equal(run.status, 0, `codex exec failed:\n${output}`);
        // The mock first calls Codex's first tool, then answers with text once Codex sends the tool output back.
        assert.match(output, new RegExp(EIGHT_WORDS), `Codex printed the answer:\n${output}`);
        const session = /session id: ([0-9a-f-]+)/.exec(output)?.[1];
        assert.ok(session, `Codex printed its session id:\n${output}`);

        const row = await waitForUsage(gateway.gw, key.id, 2);
        assert.ok(row && row.requests >= 2, `every Codex call is metered: ${JSON.stringify(row)}`);
        const bySession = await adminGet(gateway.gw, '/admin/usage?group_by=key,session');
        const mine = bySession.json.find((r) => r.key === key.id);
        assert.equal(mine.session, session, "Codex's session-id header is the call's session");
        assert.equal(mine.requests, row.requests);
    } finally {
        rmSync(home, { recursive: true, force: true });
    }
});
