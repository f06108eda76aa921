// Chargeback: one month's spend per team, project, cost center, user, customer or feature, exactly as the ledger has
// it; CSV of the same report, and the month's FOCUS 1.2 export (CSV or Parquet).
import { useState } from '../vendor/hooks.mjs';
import { Field, Loaded, Page, Table, count, html, money, qs, startOfDay, today, useLoad } from '../lib.js';

const dimensions = [['team', 'Team'], ['project', 'Project'], ['cost_center', 'Cost center'], ['user', 'User'], ['customer', 'Customer'], ['feature', 'Feature']];

export function Chargeback({ zone }) {
    const [month, setMonth] = useState(today(zone).slice(0, 7));
    const [by, setBy] = useState('team');
    const report = { month, by, time_zone: zone };
    const state = useLoad({ rows: `/admin/reports/chargeback${qs(report)}` }, JSON.stringify(report));
    const focus = { from: startOfDay(`${month}-01`, zone), to: startOfDay(`${nextMonth(month)}-01`, zone) };
    return html`<${Page} title="Chargeback" intro=${`Spend per ${by.replace('_', ' ')} for a month in ${zone}, equal to the ledger to the last digit.`}
        actions=${html`
            <a class="button" href=${`/admin/reports/chargeback${qs({ ...report, format: 'csv' })}`} download=${`chargeback-${month}-${by}.csv`}>CSV</a>
            <a class="button" href=${`/admin/export/focus${qs({ ...focus, format: 'csv' })}`} download>FOCUS CSV</a>
            <a class="button" href=${`/admin/export/focus${qs({ ...focus, format: 'parquet' })}`} download>FOCUS Parquet</a>`}>
        <div class="toolbar">
            <${Field} label="Month"><input type="month" name="month" value=${month} required onChange=${(e) => e.currentTarget.value && setMonth(e.currentTarget.value)} /></${Field}>
            <${Field} label="By"><select name="by" value=${by} onChange=${(e) => setBy(e.currentTarget.value)}>${dimensions.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></${Field}>
        </div>
        <${Loaded} state=${state}>${({ rows }) => html`<${Table} rows=${rows} empty="No spend in this month." columns=${[
            { label: dimensions.find(([v]) => v === by)[1], value: (r) => r[by] ?? html`<span class="sub">(unattributed)</span>` },
            { label: 'Requests', numeric: true, value: (r) => count(r.requests) },
            { label: 'Input', numeric: true, value: (r) => count(r.input_tokens) },
            { label: 'Cached', numeric: true, value: (r) => count(r.cached_tokens) },
            { label: 'Cache writes', numeric: true, value: (r) => count(r.cache_write_tokens) },
            { label: 'Output', numeric: true, value: (r) => count(r.output_tokens) },
            { label: 'Cost', numeric: true, value: (r) => money(r.cost) },
            { label: 'Cost / request', numeric: true, value: (r) => money(r.cost_per_request) },
            { label: 'Cache hits', numeric: true, value: (r) => count(r.cache_hits) },
            { label: 'Provider cache savings', numeric: true, value: (r) => money(r.provider_cache_savings) },
        ]} />`}</${Loaded}>
    </${Page}>`;
}

function nextMonth(month) {
    const [y, m] = month.split('-').map(Number);
    return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}
