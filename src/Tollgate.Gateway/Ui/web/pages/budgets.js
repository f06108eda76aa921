// Budgets: spend of each group budget against its soft and hard limits, with the threshold marks and the forecast
// (all from GET /admin/budgets); create, edit, delete.
import { useState } from '../vendor/hooks.mjs';
import { Confirm, Dialog, ErrorBox, Field, Loaded, Page, Progress, ReadOnlyNote, Table, ZoneSelect, api, formatTime, html, money, useLoad, useSubmit } from '../lib.js';

const scopes = ['team', 'project', 'user', 'cost_center', 'customer'];
const periods = ['day', 'week', 'month', 'total'];

export function Budgets({ zone, canWrite }) {
    const state = useLoad({ budgets: '/admin/budgets', keys: '/admin/keys' }, 'budgets');
    const [editing, setEditing] = useState(null);
    const [confirm, setConfirm] = useState(null);
    const remove = (b) => setConfirm({ title: `Delete the budget of ${b.scope} ${b.subject}?`, message: 'Its spend stays in the ledger; calls are no longer limited by it.', action: 'Delete', run: () => api.del(`/admin/budgets/${encodeURIComponent(b.id)}`) });
    return html`<${Page} title="Budgets" intro="Spend per team, project, user, cost center or customer against soft limits (alerts) and hard limits (calls refused)."
        actions=${html`<button type="button" class="primary" disabled=${!canWrite} onClick=${() => setEditing({})}>New budget</button>`}>
        <${ReadOnlyNote} canWrite=${canWrite} />
        <${Loaded} state=${state}>${({ budgets, keys }) => html`
            <${Table} rows=${budgets} rowKey=${(b) => b.id} empty=${html`No group budgets yet. ${canWrite ? 'Create one with "New budget"; key budgets are set on the Keys page.' : ''}`} columns=${[
                { label: 'Budget', value: (b) => html`<strong>${b.scope} ${b.subject}</strong><div class="sub">${b.period}${b.period === 'total' ? '' : ` · ${b.time_zone}`}</div>` },
                { label: 'Spent', value: (b) => html`<${BudgetBar} budget=${b} />` },
                { label: 'Remaining', numeric: true, value: (b) => money(b.remaining) },
                { label: 'Forecast', numeric: true, value: (b) => html`<span data-figure="forecast">${money(b.forecast_spend)}</span>` },
                { label: 'Period', value: (b) => b.period === 'total' ? 'all time' : html`${formatTime(b.period_start, zone)}<br />→ ${formatTime(b.period_end, zone)}` },
                { label: 'Actions', value: (b) => html`<div class="row-actions">
                    <button type="button" disabled=${!canWrite} onClick=${() => setEditing(b)} aria-label=${`Edit budget ${b.subject}`}>Edit</button>
                    <button type="button" class="danger" disabled=${!canWrite} onClick=${() => remove(b)} aria-label=${`Delete budget ${b.subject}`}>Delete</button></div>` },
            ]} />
            <${Dialog} title=${editing?.id ? `Edit the budget of ${editing.scope} ${editing.subject}` : 'New budget'} open=${!!editing} onClose=${() => setEditing(null)}>
                ${editing && html`<${BudgetForm} budget=${editing} keys=${keys} onDone=${() => { setEditing(null); state.reload(); }} onCancel=${() => setEditing(null)} />`}
            </${Dialog}>`}
        </${Loaded}>
        <${Confirm} state=${confirm} onClose=${(done) => { setConfirm(null); if (done) state.reload(); }} />
    </${Page}>`;
}

/** Spent against the hard limit (or the soft one when there is no hard), the soft limit and the thresholds marked. */
export function BudgetBar({ budget }) {
    const max = budget.hard ?? budget.soft ?? 0;
    const base = budget.soft ?? budget.hard ?? 0;
    const marks = [
        ...(budget.soft != null && budget.hard != null ? [{ at: budget.soft / max, title: `Soft limit ${money(budget.soft)}`, warn: true }] : []),
        ...(budget.thresholds ?? []).map((t) => ({ at: (t * base) / max, title: `Alert at ${t * 100} % of ${budget.soft != null ? 'soft' : 'hard'}` })),
    ];
    return html`<div class="budget-bar" data-budget=${budget.id}>
        <${Progress} label=${`${budget.scope} ${budget.subject}: spent of the limit`} value=${budget.spent} max=${max} marks=${marks} forecast=${budget.forecast_spend} />
        <span class="progress-text"><strong data-figure="spent">${money(budget.spent)}</strong> of ${budget.hard != null ? html`<span data-figure="hard">${money(budget.hard)}</span> hard` : ''}${budget.soft != null ? html`${budget.hard != null ? ' · ' : ''}<span data-figure="soft">${money(budget.soft)}</span> soft` : ''}</span>
    </div>`;
}

function BudgetForm({ budget, keys, onDone, onCancel }) {
    const [scope, setScope] = useState(budget.scope ?? 'team');
    const [subject, setSubject] = useState(budget.subject ?? '');
    const [period, setPeriod] = useState(budget.period ?? 'month');
    const [soft, setSoft] = useState(budget.soft ?? '');
    const [hard, setHard] = useState(budget.hard ?? '');
    const [timeZone, setTimeZone] = useState(budget.time_zone ?? 'UTC');
    const [thresholds, setThresholds] = useState((budget.thresholds ?? [0.5, 0.8, 1.0]).join(', '));
    const known = [...new Set(keys.map((k) => k.owner?.[scope]).filter(Boolean))].sort();
    const number = (v) => (v === '' || v === null ? null : Number(v));
    const form = useSubmit(async () => {
        const body = { period, soft: number(soft), hard: number(hard), time_zone: timeZone, thresholds: thresholds.split(',').map((t) => t.trim()).filter(Boolean).map(Number) };
        if (budget.id) await api.patch(`/admin/budgets/${encodeURIComponent(budget.id)}`, body);
        else await api.post('/admin/budgets', { scope, subject: subject.trim(), ...body });
        onDone();
    });
    return html`<form class="form" onSubmit=${form.onSubmit}>
        <${Field} label="Scope"><select name="scope" value=${scope} disabled=${!!budget.id} onChange=${(e) => setScope(e.currentTarget.value)}>${scopes.map((s) => html`<option value=${s}>${s.replace('_', ' ')}</option>`)}</select></${Field}>
        <${Field} label="Subject" hint="The team, project, user, cost center or customer name."><input name="subject" required disabled=${!!budget.id} list="budget-subjects" value=${subject} onInput=${(e) => setSubject(e.currentTarget.value)} />
            <datalist id="budget-subjects">${known.map((v) => html`<option value=${v} />`)}</datalist></${Field}>
        <${Field} label="Period"><select name="period" value=${period} onChange=${(e) => setPeriod(e.currentTarget.value)}>${periods.map((p) => html`<option value=${p}>${p}</option>`)}</select></${Field}>
        <${ZoneSelect} label="Period time zone" value=${timeZone} onChange=${setTimeZone} defaultZone="UTC" />
        <${Field} label="Soft limit (USD)" hint="Alerts only."><input name="soft" type="number" min="0" step="any" value=${soft} onInput=${(e) => setSoft(e.currentTarget.value)} /></${Field}>
        <${Field} label="Hard limit (USD)" hint="Calls are refused once it is reached."><input name="hard" type="number" min="0" step="any" value=${hard} onInput=${(e) => setHard(e.currentTarget.value)} /></${Field}>
        <${Field} label="Alert thresholds" hint="Fractions of the soft limit (of the hard one without soft), comma-separated." wide=${true}><input name="thresholds" value=${thresholds} onInput=${(e) => setThresholds(e.currentTarget.value)} /></${Field}>
        <${ErrorBox} error=${form.error} />
        <div class="buttons wide">
            <button type="button" onClick=${onCancel}>Cancel</button>
            <button type="submit" class="primary" disabled=${form.busy}>${budget.id ? 'Save' : 'Create budget'}</button>
        </div>
    </form>`;
}
