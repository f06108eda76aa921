// Usage explorer: GET /admin/usage grouped by any of its dimensions over a date range, as a table and a chart, and the
// same rows as a CSV download.
import { useState } from '../vendor/hooks.mjs';
import { ChartView, Field, Loaded, Page, Table, count, dayRange, html, money, pivot, qs, today, useLoad } from '../lib.js';

const dimensions = ['day', 'month', 'team', 'project', 'user', 'cost_center', 'customer', 'feature', 'environment', 'agent', 'session', 'route', 'model', 'provider', 'key'];

export function UsageExplorer({ zone }) {
    const [groupBy, setGroupBy] = useState(['day', 'model']);
    const [from, setFrom] = useState(today(zone, -29));
    const [to, setTo] = useState(today(zone));
    const toggle = (d) => setGroupBy(groupBy.includes(d) ? groupBy.filter((x) => x !== d) : [...groupBy, d]);
    const params = { ...dayRange(from, to, zone), group_by: groupBy.join(','), time_zone: zone };
    const valid = from <= to;
    const state = useLoad(valid ? { rows: `/admin/usage${qs(params)}` } : {}, JSON.stringify(params));
    return html`<${Page} title="Usage explorer" intro=${`Requests, tokens and cost from the ledger, grouped as you choose. Days in ${zone}.`}
        actions=${html`<a class="button" href=${`/admin/usage${qs({ ...params, format: 'csv' })}`} download="usage.csv">Download CSV</a>`}>
        <div class="toolbar">
            <${Field} label="From"><input type="date" name="from" value=${from} max=${to} onChange=${(e) => setFrom(e.currentTarget.value)} /></${Field}>
            <${Field} label="To (inclusive)"><input type="date" name="to" value=${to} min=${from} onChange=${(e) => setTo(e.currentTarget.value)} /></${Field}>
        </div>
        <fieldset class="dimensions"><legend>Group by</legend>
            ${dimensions.map((d) => html`<label class="check"><input type="checkbox" name="group_by" value=${d} checked=${groupBy.includes(d)} onChange=${() => toggle(d)} />${d.replace('_', ' ')}</label>`)}
        </fieldset>
        ${valid ? html`<${Loaded} state=${state}>${({ rows }) => html`
            ${rows.length > 0 && html`<section class="panel" aria-label="Cost chart">${chartOf(rows, groupBy)}</section>`}
            <${Table} rows=${rows} empty="No calls in this range. Widen the dates, or send traffic through the gateway." columns=${[
                ...groupBy.map((d) => ({ label: d.replace('_', ' '), value: (r) => r[d] ?? html`<span class="sub">(none)</span>` })),
                { label: 'Requests', numeric: true, value: (r) => count(r.requests) },
                { label: 'Input', numeric: true, value: (r) => count(r.input_tokens) },
                { label: 'Cached', numeric: true, value: (r) => count(r.cached_tokens) },
                { label: 'Output', numeric: true, value: (r) => count(r.output_tokens) },
                { label: 'Cost', numeric: true, value: (r) => money(r.cost) },
                { label: 'Cache hits', numeric: true, value: (r) => count(r.cache_hits) },
                { label: 'Provider cache savings', numeric: true, value: (r) => money(r.provider_cache_savings) },
            ]} />`}</${Loaded}>` : html`<p class="error" role="alert">"From" must not be after "To".</p>`}
    </${Page}>`;
}

function chartOf(rows, groupBy) {
    const time = groupBy.find((d) => d === 'day' || d === 'month');
    const other = groupBy.find((d) => d !== time);
    if (time && other) return html`<${ChartView} label=${`Cost by ${time} and ${other}`} stacked=${true} yFormat=${money} ...${pivot(rows, time, other, 'cost')} />`;
    const label = (r) => groupBy.map((d) => r[d] ?? '(none)').join(' · ') || 'all';
    return html`<${ChartView} label="Cost" yFormat=${money} labels=${rows.map(label)} datasets=${[{ label: 'Cost', data: rows.map((r) => r.cost) }]} />`;
}
