// End-to-end tests of the FinOps console at /ui/ in a real browser: Debian's Chromium, headless, driven by
// playwright-core (no browser download). Every figure a test reads off a page is compared with the admin API's.
// Screenshots of every page go to .ci/out/console/ (TOLLGATE_SCREENSHOTS to change it).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { adminGet, adminRequest, createKey, sleep, useGateway } from './gateway.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.TOLLGATE_SCREENSHOTS ?? resolve(import.meta.dirname, '..', '..', '.ci', 'out', 'console');
const PAGES = [
    ['overview', 'Overview'], ['quota-rules', 'Quota rules'], ['consumer-usage', 'Consumer usage'], ['budgets', 'Budgets'],
    ['keys', 'Keys'], ['usage', 'Usage explorer'], ['chargeback', 'Chargeback'], ['alerts', 'Alerts'], ['audit', 'Audit'],
];
const count = (n) => Number(n).toLocaleString('en-US');

let app, adminKey, viewerKey, browser;
const handle = useGateway(async (gw) => {
    app = await createKey(gw, { name: 'checkout-app', owner: { team: 'payments', user: 'ana' } });
    adminKey = await createKey(gw, { name: 'finops-admin', role: 'admin' });
    viewerKey = await createKey(gw, { name: 'finance-viewer', role: 'viewer' });
});

before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (test.sh installs Debian's chromium)`);
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run', '--disable-extensions'],
    });
});
after(async () => { await browser?.close(); });

/** A fresh browser context (its own cookies) and page, collecting console errors and failed requests. */
async function openConsole(width = 1280) {
    const context = await browser.newContext({ viewport: { width, height: 900 }, timezoneId: 'UTC', locale: 'en-US' });
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => { if (!r.url().includes('/admin/export/') && !r.url().endsWith('.csv')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`); });
    page.setDefaultTimeout(15_000);
    await page.goto(`${handle.gw.baseUrl}/ui/`);
    return { context, page, problems };
}

/**
 * Runs `body` with a fresh console signed in with `key` (none: the sign-in form), then checks that the browser
 * reported no error, and closes the context whatever happened.
 */
async function withConsole({ key, width = 1280 }, body) {
    const { context, page, problems } = await openConsole(width);
    try {
        if (key) await signIn(page, key);
        await body({ context, page, problems });
        assert.deepEqual(problems, []);
    } finally {
        await context.close();
    }
}

async function signIn(page, key) {
    await page.getByLabel('Key', { exact: true }).fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
}

async function go(page, path, title) {
    const url = `${handle.gw.baseUrl}/ui/#/${path}`;
    if (page.url() === url) await page.reload(); // the same hash would not load the page's figures again
    else await page.goto(url);
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    await page.locator('.loading').first().waitFor({ state: 'detached' }).catch(() => {});
    await page.waitForLoadState('networkidle');
}

async function chat(key, headers = {}, extra = {}) {
    const res = await fetch(`${handle.gw.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'mock/echo', messages: [{ role: 'user', content: 'What did we spend?' }], ...extra }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, `proxied call: ${text}`);
    return JSON.parse(text);
}

async function until(what, check, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
        await sleep(200);
    }
}

test('sign-in: a wrong key is refused on the form; the admin key opens a session cookie that is HttpOnly and SameSite=Strict', async () => {
    await withConsole({}, async ({ context, page, problems }) => {
        await page.getByLabel('Key', { exact: true }).fill('tg-not-a-key');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('alert').filter({ hasText: 'invalid_api_key' }).waitFor();
        problems.length = 0; // the refused sign-in is the one 401 this test expects the browser to report
        await signIn(page, adminKey.key);
        const cookie = (await context.cookies()).find((c) => c.name === 'tollgate_session');
        assert.ok(cookie, 'session cookie set');
        assert.equal(cookie.httpOnly, true);
        assert.equal(cookie.sameSite, 'Strict');
        assert.equal(cookie.path, '/');
        assert.equal(await page.evaluate(() => document.cookie.includes('tollgate_session')), false, 'scripts cannot read the session cookie');

        // A write under the session without the CSRF token is refused; the page's own writes carry it.
        const forged = await context.request.post(`${handle.gw.baseUrl}/admin/quota-rules`, { data: { name: 'forged', limit_tokens: 1, cycle: 'day', consumers: ['team:x'] } });
        assert.equal(forged.status(), 403);
        assert.equal((await forged.json()).error.code, 'csrf_failed');
    });
});

test('quota rules: created through the form, switched off and on, its consumer usage equals the API after real calls, reset, edited, deleted', async () => {
    await withConsole({ key: adminKey.key }, async ({ context, page }) => {
        await go(page, 'quota-rules', 'Quota rules');
        await page.getByRole('button', { name: 'New quota rule' }).click();
        const dialog = page.getByRole('dialog', { name: 'New quota rule' });
        await dialog.getByLabel('Name', { exact: true }).fill('Checkout daily');
        await dialog.getByLabel('Token limit per cycle', { exact: true }).fill('5000');
        await dialog.getByLabel('Cycle', { exact: true }).selectOption('day');
        assert.equal(await dialog.getByLabel('Cycle time zone', { exact: true }).inputValue(), 'Asia/Shanghai', 'the contract default zone is preselected');
        await dialog.getByLabel('Cycle time zone', { exact: true }).selectOption('Europe/Berlin');
        await dialog.getByLabel('Kind', { exact: true }).selectOption('key');
        await dialog.getByLabel('Key', { exact: true }).selectOption(app.id);
        await dialog.getByRole('button', { name: 'Add consumer' }).click();
        await dialog.getByRole('button', { name: 'Create rule' }).click();
        await dialog.waitFor({ state: 'hidden' });

        const rules = (await adminGet(handle.gw, '/admin/quota-rules')).json;
        const rule = rules.find((r) => r.name === 'Checkout daily');
        assert.ok(rule, `rule created: ${JSON.stringify(rules)}`);
        assert.deepEqual({ limit: rule.limit_tokens, cycle: rule.cycle, zone: rule.time_zone, consumers: rule.consumers, enabled: rule.enabled },
            { limit: 5000, cycle: 'day', zone: 'Europe/Berlin', consumers: [`key:${app.id}`], enabled: true });

        const toggle = page.getByRole('switch', { name: 'Rule Checkout daily enabled' });
        await toggle.click();
        await until('the rule to be disabled', async () => (await adminGet(handle.gw, '/admin/quota-rules')).json.find((r) => r.id === rule.id).enabled === false);
        await until('the switch to show off', async () => !(await toggle.isChecked()));
        await toggle.click();
        await until('the rule to be enabled', async () => (await adminGet(handle.gw, '/admin/quota-rules')).json.find((r) => r.id === rule.id).enabled === true);

        // Real proxied calls, one with cached input, then the consumer page against the API.
        for (let i = 0; i < 3; i++) await chat(app.key);
        await chat(app.key, { 'x-mock-cached-tokens': '4' });
        const usage = await until('the quota usage of 4 calls', async () => {
            const row = (await adminGet(handle.gw, `/admin/quota-rules/${rule.id}/usage`)).json.find((u) => u.consumer === `key:${app.id}`);
            return row && row.used_tokens > 0 && row.input_tokens > 0 && row.cached_tokens === 4 ? row : null;
        });
        await go(page, `consumer-usage?consumer=${encodeURIComponent(`key:${app.id}`)}`, 'Consumer usage');
        const card = page.locator(`article[data-rule="${rule.id}"]`);
        await card.waitFor();
        const figure = (name) => card.locator(`[data-figure="${name}"]`).textContent();
        assert.deepEqual(
            { used: await figure('used'), limit: await figure('limit'), remaining: await figure('remaining'), input: await figure('input'), output: await figure('output'), cached: await figure('cached'), total: await figure('total') },
            { used: count(usage.used_tokens), limit: count(usage.limit_tokens), remaining: count(usage.remaining_tokens), input: count(usage.input_tokens), output: count(usage.output_tokens), cached: count(usage.cached_tokens), total: count(usage.total_tokens) });
        assert.equal(await card.getByRole('meter').getAttribute('aria-valuenow'), String(usage.used_tokens));

        // The date range shows the ledger's figures for the same consumer.
        const range = (await adminGet(handle.gw, `/admin/usage?key=${app.id}`)).json[0];
        const rangeFigure = (name) => page.locator(`[data-figure="range-${name}"]`).textContent();
        await until('the range figures', async () => (await rangeFigure('requests')) === count(range.requests));
        assert.deepEqual(
            { input: await rangeFigure('input'), output: await rangeFigure('output'), cached: await rangeFigure('cached'), total: await rangeFigure('total') },
            { input: count(range.input_tokens), output: count(range.output_tokens), cached: count(range.cached_tokens), total: count(range.total_tokens) });

        await go(page, 'quota-rules', 'Quota rules');
        await page.getByRole('button', { name: 'Reset Checkout daily' }).click();
        const confirm = page.getByRole('dialog', { name: 'Reset "Checkout daily"?' });
        await confirm.getByRole('button', { name: 'Reset' }).click();
        await confirm.waitFor({ state: 'hidden' });
        const reset = (await adminGet(handle.gw, `/admin/quota-rules/${rule.id}/usage`)).json.find((u) => u.consumer === `key:${app.id}`);
        assert.equal(reset.used_tokens, 0, 'reset starts the cycle again');
        assert.equal(reset.remaining_tokens, 5000);

        // Edit: the form opens with the rule's values; the change is the API's at once.
        await page.getByRole('button', { name: 'Edit Checkout daily' }).click();
        const edit = page.getByRole('dialog', { name: 'Edit "Checkout daily"' });
        assert.equal(await edit.getByLabel('Cycle time zone', { exact: true }).inputValue(), 'Europe/Berlin');
        await edit.getByLabel('Token limit per cycle', { exact: true }).fill('6000');
        await edit.getByRole('button', { name: 'Save' }).click();
        await edit.waitFor({ state: 'hidden' });
        assert.equal((await adminGet(handle.gw, '/admin/quota-rules')).json.find((r) => r.id === rule.id).limit_tokens, 6000);
        await page.getByRole('cell', { name: '6,000' }).waitFor();

        await page.getByRole('button', { name: 'Delete Checkout daily' }).click();
        await page.getByRole('dialog', { name: 'Delete "Checkout daily"?' }).getByRole('button', { name: 'Delete' }).click();
        await page.getByText('No quota rules yet.').waitFor();
        assert.equal((await adminGet(handle.gw, '/admin/quota-rules')).json.some((r) => r.id === rule.id), false);
    });
});

test("budgets: a budget created in the form shows the API's spent, soft and hard limits on its bar", async () => {
    await withConsole({ key: adminKey.key }, async ({ context, page }) => {
        await go(page, 'budgets', 'Budgets');
        await page.getByRole('button', { name: 'New budget' }).click();
        const dialog = page.getByRole('dialog', { name: 'New budget' });
        await dialog.getByLabel('Scope', { exact: true }).selectOption('team');
        await dialog.getByLabel('Subject', { exact: true }).fill('payments');
        await dialog.getByLabel('Period', { exact: true }).selectOption('month');
        await dialog.getByLabel('Soft limit (USD)', { exact: true }).fill('0.05');
        await dialog.getByLabel('Hard limit (USD)', { exact: true }).fill('0.1');
        await dialog.getByRole('button', { name: 'Create budget' }).click();
        await dialog.waitFor({ state: 'hidden' });

        for (let i = 0; i < 2; i++) await chat(app.key);
        const budget = await until('the budget to count the calls', async () => {
            const b = (await adminGet(handle.gw, '/admin/budgets')).json.find((x) => x.scope === 'team' && x.subject === 'payments');
            return b && b.spent > 0 ? b : null;
        });
        await go(page, 'budgets', 'Budgets');
        const bar = page.locator(`[data-budget="${budget.id}"]`);
        const meter = bar.getByRole('meter');
        assert.equal(Number(await meter.getAttribute('aria-valuenow')), budget.spent);
        assert.equal(Number(await meter.getAttribute('aria-valuemax')), budget.hard);
        assert.equal(budget.soft, 0.05);
        assert.equal(budget.hard, 0.1);
        assert.match(await bar.locator('[data-figure="spent"]').textContent(), new RegExp(`^\\$${String(budget.spent).replace('.', '\\.')}`));
        assert.equal(await bar.locator('.mark').count(), 1 + budget.thresholds.length, 'the soft limit and every threshold are marked');
    });
});

test('keys: a key created in the console (secret shown once) works for a proxied call; revoking it stops it', async () => {
    await withConsole({ key: adminKey.key }, async ({ context, page }) => {
        await go(page, 'keys', 'Keys');
        await page.getByRole('button', { name: 'New key' }).click();
        const dialog = page.getByRole('dialog', { name: 'New key' });
        await dialog.getByLabel('Name', { exact: true }).fill('console-made');
        await dialog.getByLabel('Team', { exact: true }).fill('platform');
        await dialog.getByRole('button', { name: 'Create key' }).click();
        const shown = page.getByRole('dialog', { name: 'Key created' });
        const secret = await shown.getByLabel('Key of "console-made"', { exact: true }).inputValue();
        assert.match(secret, /^tg-/);
        await shown.getByRole('button', { name: 'Done' }).click();

        const answer = await chat(secret);
        assert.equal(answer.object, 'chat.completion');
        const made = (await adminGet(handle.gw, '/admin/keys')).json.find((k) => k.name === 'console-made');
        assert.equal(made.owner.team, 'platform');
        assert.equal(made.key, undefined, 'the key list never shows a secret');

        await page.getByRole('button', { name: 'Revoke console-made' }).click();
        await page.getByRole('dialog', { name: 'Revoke "console-made"?' }).getByRole('button', { name: 'Revoke' }).click();
        await until('the key to be revoked', async () => (await fetch(`${handle.gw.baseUrl}/v1/chat/completions`, {
            method: 'POST', headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' }, body: '{"model":"mock/echo","messages":[{"role":"user","content":"x"}]}',
        })).status === 401);
    });
});

test('viewer: sees every page, every write control is disabled, and the server refuses a write under the session', async () => {
    await withConsole({ key: viewerKey.key }, async ({ context, page }) => {
        assert.ok(await page.getByText('Viewer (read-only)').isVisible());
        for (const [path, title] of PAGES) {
            await go(page, path, title);
            const enabledWrites = await page.locator('main button.primary:enabled, main button.danger:enabled, main [role="switch"]:enabled, main .row-actions button:enabled').count();
            assert.equal(enabledWrites, 0, `${title}: no enabled write control for a viewer`);
        }
        const session = await (await context.request.get(`${handle.gw.baseUrl}/ui/api/session`)).json();
        assert.equal(session.role, 'viewer');
        const write = await context.request.post(`${handle.gw.baseUrl}/admin/budgets`, {
            headers: { 'X-CSRF-Token': session.csrf_token },
            data: { scope: 'team', subject: 'x', period: 'month', hard: 1 },
        });
        assert.equal(write.status(), 403, 'a viewer session cannot write even with its CSRF token');
        assert.equal((await adminGet(handle.gw, '/admin/budgets')).json.some((b) => b.subject === 'x'), false);
    });
});

test('every page renders at 1280 and 800 px without console errors; screenshots saved; sign-out ends the session', async () => {
    // Some history for the pages: calls of another team and model.
    const other = await createKey(handle.gw, { name: 'search-app', owner: { team: 'search' } });
    const rule = await adminRequest(handle.gw, 'POST', '/admin/quota-rules', { name: 'Payments monthly', limit_tokens: 2000, cycle: 'month', time_zone: 'UTC', consumers: [`key:${app.id}`, 'team:payments'] });
    assert.equal(rule.status, 201, rule.text);
    for (let i = 0; i < 3; i++) await chat(other.key);
    for (let i = 0; i < 5; i++) await chat(app.key, { 'x-mock-cached-tokens': '6' }, { max_tokens: 100 }); // a bounded reservation fits the quota
    await adminRequest(handle.gw, 'POST', '/admin/webhooks', { url: 'https://hooks.example.com/finops', events: ['budget.threshold'] });
    for (const width of [1280, 800]) {
        await withConsole({ key: adminKey.key, width }, async ({ context, page }) => {
            for (const [path, title] of PAGES) {
                const target = path === 'consumer-usage' ? `consumer-usage?consumer=${encodeURIComponent(`key:${app.id}`)}` : path;
                await go(page, target, title);
                assert.equal(await page.locator('[role="alert"]').count(), 0, `${title}: no error shown`);
                if (path === 'overview' && width === 1280) {
                    // The response cache's figures beside the savings: the calls it answered and what providers' prompt caches saved.
                    const { savings } = (await adminGet(handle.gw, '/admin/reports/overview?time_zone=UTC&top=10')).json;
                    const [hits, provider] = (await page.locator('[data-figure="cache"]').textContent()).split(' / ');
                    assert.equal(hits, count(savings.cache_hits));
                    assert.equal(Number(provider.replace(/[$,]/g, '')), savings.provider_cache);
                }
                if (path === 'usage' || path === 'chargeback') {
                    for (const column of ['Cache hits', 'Provider cache savings']) await page.getByRole('columnheader', { name: column, exact: true, includeHidden: true }).first().waitFor({ state: 'attached' });
                }
                await page.screenshot({ path: join(SHOTS, `${path}-${width}.png`), fullPage: true });
            }
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
            assert.ok(overflow <= 0, `no horizontal scrolling at ${width} px (overflow ${overflow})`);
            if (width === 800) {
                await page.getByRole('button', { name: 'Sign out' }).click();
                await page.getByRole('button', { name: 'Sign in' }).waitFor();
                assert.equal((await context.request.get(`${handle.gw.baseUrl}/ui/api/session`)).status(), 401, 'signed out');
            }
        });
    }
});
