// Shared parts of the console: the admin API client, formatting in the chosen time zone, and the components every
// page uses. Every figure shown comes from the admin API; the console only lays it out.
import { cloneElement, h, toChildArray } from './vendor/preact.mjs';
import { useCallback, useEffect, useId, useRef, useState } from './vendor/hooks.mjs';
import htm from './vendor/htm.mjs';

export const html = htm.bind(h);

// ---------------------------------------------------------------------------------------------------------------
// Admin API client: the session cookie authenticates; writes also carry the session's CSRF token.

export class ApiError extends Error {
    constructor(status, code, message, param) {
        super(message);
        this.status = status;
        this.code = code;
        this.param = param;
    }
}

const session = { csrf: '', onExpired: () => {} };
export function bindSession(csrf, onExpired) {
    session.csrf = csrf;
    session.onExpired = onExpired;
}

export async function request(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-CSRF-Token'] = session.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
        response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    } catch {
        throw new ApiError(0, 'network', 'The gateway did not answer. Check that it is running, then try again.');
    }
    if (response.status === 204) return null;
    const text = await response.text();
    const json = text ? safeParse(text) : null;
    if (!response.ok) {
        const error = json?.error ?? {};
        if (response.status === 401 && path !== '/ui/api/session') session.onExpired();
        throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? `The gateway answered ${response.status}.`, error.param);
    }
    return json;
}

function safeParse(text) {
    try { return JSON.parse(text); } catch { return null; }
}

export const api = {
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body ?? {}),
    patch: (path, body) => request('PATCH', path, body),
    del: (path) => request('DELETE', path),
};

/** Query string from an object, leaving out empty values. */
export function qs(params) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
        if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
    }
    const text = search.toString();
    return text ? `?${text}` : '';
}

/**
 * Loads a set of admin GETs in parallel: { data: {name: json}, error, loading, reload }. `requests` maps a name to a
 * path; a change of `key` (a string) reloads.
 */
export function useLoad(requests, key) {
    const [state, setState] = useState({ data: null, error: null, loading: true });
    const generation = useRef(0);
    const load = useCallback(async () => {
        const mine = ++generation.current;
        setState((s) => ({ ...s, loading: true, error: null }));
        try {
            const names = Object.keys(requests);
            const values = await Promise.all(names.map((n) => api.get(requests[n])));
            if (mine === generation.current) setState({ data: Object.fromEntries(names.map((n, i) => [n, values[i]])), error: null, loading: false });
        } catch (error) {
            if (mine === generation.current) setState((s) => ({ ...s, error, loading: false }));
        }
    }, [key]);
    useEffect(() => { load(); }, [load]);
    return { ...state, reload: load };
}

// ---------------------------------------------------------------------------------------------------------------
// Time zone and formatting

const ZONE_KEY = 'tollgate.timeZone';
export const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
export const zones = (() => {
    const list = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    return list.includes('UTC') ? list : ['UTC', ...list];
})();
export const preferredZone = () => localStorage.getItem(ZONE_KEY) || browserZone;
export const savePreferredZone = (zone) => localStorage.setItem(ZONE_KEY, zone);

export function formatTime(value, zone) {
    if (!value) return '—';
    return new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(new Date(value));
}

export function formatDay(value, zone) {
    return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(value));
}

/** Money as the API gives it (a decimal number of catalog-currency units), never rounded to zero. */
export function money(value) {
    if (value === null || value === undefined) return '—';
    const abs = Math.abs(value);
    const digits = abs === 0 ? 2 : abs >= 100 ? 2 : abs >= 1 ? 4 : Math.min(10, Math.max(4, 2 - Math.floor(Math.log10(abs)) + 2));
    return `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: digits })}`;
}

export const count = (value) => (value === null || value === undefined ? '—' : Number(value).toLocaleString('en-US'));
export const percent = (fraction) => `${(fraction * 100).toLocaleString('en-US', { maximumFractionDigits: 1 })} %`;

/** The UTC instant of midnight at the start of `date` (YYYY-MM-DD) in `zone`. */
export function startOfDay(date, zone) {
    const [y, m, d] = date.split('-').map(Number);
    let guess = Date.UTC(y, m - 1, d);
    for (let i = 0; i < 2; i++) guess = Date.UTC(y, m - 1, d) - offsetMs(guess, zone);
    return new Date(guess).toISOString();
}

function offsetMs(instant, zone) {
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
        .formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
    return Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second) - Math.floor(instant / 1000) * 1000;
}

/** The instants from the start of date `from` to the end of date `to` (YYYY-MM-DD, inclusive) in `zone`. */
export function dayRange(from, to, zone) {
    const after = new Date(`${to}T00:00:00Z`);
    after.setUTCDate(after.getUTCDate() + 1);
    return { from: startOfDay(from, zone), to: startOfDay(after.toISOString().slice(0, 10), zone) };
}

/** YYYY-MM-DD of today (or `days` from today) in `zone`. */
export const today = (zone, days = 0) => formatDay(Date.now() + days * 86_400_000, zone);

// ---------------------------------------------------------------------------------------------------------------
// Components

export function Page({ title, intro, actions, children }) {
    return html`<section class="page" aria-labelledby="page-title">
        <header class="page-head">
            <div><h1 id="page-title" tabindex="-1">${title}</h1>${intro && html`<p class="intro">${intro}</p>`}</div>
            ${actions && html`<div class="actions">${actions}</div>`}
        </header>
        ${children}
    </section>`;
}

export const Loading = ({ label = 'Loading…' }) => html`<p class="loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>${label}</p>`;

export function ErrorBox({ error, retry }) {
    if (!error) return null;
    return html`<div class="error" role="alert"><strong>${error.status ? `Error ${error.status}` : 'Error'}${error.code ? ` · ${error.code}` : ''}</strong><p>${error.message}</p>
        ${retry && html`<button type="button" onClick=${retry}>Try again</button>`}</div>`;
}

export const Empty = ({ children }) => html`<div class="empty">${children}</div>`;

/** The usual frame of a page body: the error, the loading state, else the content. */
export function Loaded({ state, children }) {
    if (state.error && !state.data) return html`<${ErrorBox} error=${state.error} retry=${state.reload} />`;
    if (!state.data) return html`<${Loading} />`;
    return html`${state.error && html`<${ErrorBox} error=${state.error} retry=${state.reload} />`}${children(state.data)}`;
}

/** columns: [{ label, value: row => node, numeric, key }] */
export function Table({ columns, rows, caption, empty, rowKey }) {
    if (!rows.length) return html`<${Empty}>${empty}</${Empty}>`;
    return html`<div class="table-wrap"><table>
        ${caption && html`<caption>${caption}</caption>`}
        <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.numeric ? 'num' : ''}>${c.label}</th>`)}</tr></thead>
        <tbody>${rows.map((row, i) => html`<tr key=${rowKey ? rowKey(row) : i}>${columns.map((c) => html`<td class=${c.numeric ? 'num' : ''} data-label=${c.label}>${c.value(row)}</td>`)}</tr>`)}</tbody>
    </table></div>`;
}

/**
 * A progress bar of `value` against `max`, with marks (fractions of max, e.g. soft limit and thresholds) and an
 * optional forecast marker. The figures are the API's; the bar only places them.
 */
export function Progress({ value, max, marks = [], forecast, label }) {
    const fraction = max > 0 ? Math.min(1, value / max) : 0;
    const state = max > 0 && value >= max ? 'over' : marks.some((m) => m.at <= fraction && m.warn) ? 'warn' : 'ok';
    return html`<div class="progress" role="meter" aria-label=${label} aria-valuemin="0" aria-valuemax=${max} aria-valuenow=${value} data-state=${state}>
        <div class="bar" style=${`width:${fraction * 100}%`}></div>
        ${marks.map((m) => html`<span class="mark" style=${`left:${Math.min(1, m.at) * 100}%`} title=${m.title}></span>`)}
        ${forecast !== undefined && forecast !== null && max > 0 && html`<span class="forecast" style=${`left:${Math.min(1, forecast / max) * 100}%`} title=${`Forecast ${money(forecast)}`}></span>`}
    </div>`;
}

/**
 * A labelled form control: the label names its first child (for/id) and the hint describes it, so the control's
 * accessible name is the label alone, and clicking the label focuses the control.
 */
export function Field({ label, hint, children, wide }) {
    const id = useId();
    const [control, ...rest] = toChildArray(children);
    const labelled = cloneElement(control, { id: control.props.id ?? id, 'aria-describedby': hint ? `${id}-hint` : undefined });
    return html`<div class=${wide ? 'field wide' : 'field'}><label class="label" for=${labelled.props.id}>${label}</label>${labelled}${rest}${hint && html`<span class="hint" id=${`${id}-hint`}>${hint}</span>`}</div>`;
}

export function ZoneSelect({ value, onChange, id, label = 'Time zone', defaultZone }) {
    return html`<${Field} label=${label}>
        <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
            ${zones.map((z) => html`<option value=${z}>${z}${z === defaultZone ? ' (default)' : ''}</option>`)}
        </select></${Field}>`;
}

/** A modal dialog (native <dialog>: focus stays inside, Escape cancels). */
export function Dialog({ title, open, onClose, children }) {
    const ref = useRef(null);
    useEffect(() => {
        const dialog = ref.current;
        if (!dialog) return;
        if (open && !dialog.open) dialog.showModal();
        if (!open && dialog.open) dialog.close();
    }, [open]);
    return html`<dialog ref=${ref} aria-labelledby="dialog-title" onClose=${onClose} onCancel=${(e) => { e.preventDefault(); onClose(); }}>
        ${open && html`<h2 id="dialog-title">${title}</h2>${children}`}
    </dialog>`;
}

/** Asks before a destructive action; runs it, shows its error if it fails, closes when it succeeds. */
export function Confirm({ state, onClose }) {
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    useEffect(() => { setError(null); setBusy(false); }, [state]);
    const run = async () => {
        setBusy(true);
        try {
            await state.run();
            onClose(true);
        } catch (e) {
            setError(e);
            setBusy(false);
        }
    };
    return html`<${Dialog} title=${state?.title ?? ''} open=${!!state} onClose=${() => onClose(false)}>
        <p>${state?.message}</p>
        <${ErrorBox} error=${error} />
        <div class="buttons">
            <button type="button" onClick=${() => onClose(false)}>Cancel</button>
            <button type="button" class="danger" disabled=${busy} onClick=${run}>${state?.action ?? 'Confirm'}</button>
        </div>
    </${Dialog}>`;
}

/** Submits a form through `submit`, shows the API's error next to it. */
export function useSubmit(submit) {
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const onSubmit = async (event) => {
        event.preventDefault();
        setBusy(true);
        setError(null);
        try {
            await submit();
        } catch (e) {
            setError(e);
        } finally {
            setBusy(false);
        }
    };
    return { busy, error, onSubmit, setError };
}

const palette = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#db2777', '#65a30d', '#7c3aed', '#ea580c', '#475569'];
export const color = (i) => palette[i % palette.length];

/** A Chart.js chart (the library is loaded by index.html as the global Chart). */
export function ChartView({ type = 'bar', labels, datasets, stacked = false, label, yFormat = (v) => v, height = 280 }) {
    const canvas = useRef(null);
    useEffect(() => {
        const chart = new globalThis.Chart(canvas.current, {
            type,
            data: { labels, datasets: datasets.map((d, i) => ({ backgroundColor: color(i), borderColor: color(i), borderWidth: type === 'line' ? 2 : 0, ...d })) },
            options: {
                responsive: true,
                maintainAspectRatio: false,
                animation: false,
                interaction: { mode: 'index', intersect: false },
                scales: { x: { stacked }, y: { stacked, beginAtZero: true, ticks: { callback: yFormat } } },
                plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${yFormat(c.parsed.y)}` } } },
            },
        });
        return () => chart.destroy();
    }, [type, JSON.stringify(labels), JSON.stringify(datasets), stacked]);
    return html`<div class="chart" style=${`height:${height}px`}><canvas ref=${canvas} role="img" aria-label=${label}></canvas></div>`;
}

/**
 * Rows of a grouped /admin/usage answer (one per x value and series) as chart series: one dataset per series value,
 * in the order of their first appearance; a missing (x, series) pair is zero.
 */
export function pivot(rows, x, series, value) {
    const labels = [...new Set(rows.map((r) => r[x]))].sort();
    const name = (r) => r[series] ?? '(none)';
    const names = [...new Set(rows.map(name))];
    const cells = new Map(rows.map((r) => [`${r[x]}\u0000${name(r)}`, r[value]]));
    const datasets = names.map((n) => ({ label: n, data: labels.map((l) => cells.get(`${l}\u0000${n}`) ?? 0) }));
    return { labels, datasets };
}

/** A "Read-only" note for viewer sessions, shown where a page's controls are disabled. */
export const ReadOnlyNote = ({ canWrite }) => (canWrite ? null : html`<p class="note" role="note">You are signed in with a viewer key: you can see everything here and change nothing.</p>`);

/** Previous / next page buttons for lists the API pages with limit and offset. */
export function Pager({ page, hasNext, onPage }) {
    if (page === 0 && !hasNext) return null;
    return html`<nav class="pager" aria-label="Pages">
        <button type="button" disabled=${page === 0} onClick=${() => onPage(page - 1)}>← Newer</button>
        <span>Page ${page + 1}</span>
        <button type="button" disabled=${!hasNext} onClick=${() => onPage(page + 1)}>Older →</button>
    </nav>`;
}
