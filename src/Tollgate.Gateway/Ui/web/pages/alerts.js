// Alerts: the alert history, newest first and paged, and the webhooks that receive them (create, delete).
import { useState } from '../vendor/hooks.mjs';
import { Confirm, Dialog, ErrorBox, Field, Loaded, Page, Pager, ReadOnlyNote, Table, api, formatTime, html, money, qs, useLoad, useSubmit } from '../lib.js';

const PAGE = 50;
const events = ['budget.threshold', 'budget.exceeded', 'quota.exhausted', 'circuit.open', 'usage.spike'];

export function Alerts({ zone, canWrite }) {
    const [page, setPage] = useState(0);
    const [type, setType] = useState('');
    const state = useLoad({
        alerts: `/admin/alerts${qs({ type, limit: PAGE + 1, offset: page * PAGE })}`,
        webhooks: '/admin/webhooks',
    }, `${page}|${type}`);
    const [adding, setAdding] = useState(false);
    const [created, setCreated] = useState(null);
    const [confirm, setConfirm] = useState(null);
    return html`<${Page} title="Alerts" intro="Budget thresholds, exceeded budgets, exhausted quotas, open circuits and spend spikes, and where they are sent.">
        <${ReadOnlyNote} canWrite=${canWrite} />
        <${Loaded} state=${state}>${({ alerts, webhooks }) => html`
            <section class="panel" aria-labelledby="history-title">
                <div class="panel-head"><h2 id="history-title">History</h2>
                    <${Field} label="Type"><select name="type" value=${type} onChange=${(e) => { setType(e.currentTarget.value); setPage(0); }}><option value="">All</option>${events.map((e) => html`<option value=${e}>${e}</option>`)}</select></${Field}>
                </div>
                <${Table} rows=${alerts.slice(0, PAGE)} rowKey=${(a) => a.id} empty="No alerts. They appear when a budget passes a threshold, a quota runs out, a circuit opens or spend spikes." columns=${[
                    { label: 'When', value: (a) => formatTime(a.created_at, zone) },
                    { label: 'Type', value: (a) => html`<code>${a.type}</code>` },
                    { label: 'Subject', value: (a) => [a.data.scope, a.data.subject].filter(Boolean).join(' ') || '—' },
                    { label: 'Detail', value: (a) => detail(a.data) },
                ]} />
                <${Pager} page=${page} hasNext=${alerts.length > PAGE} onPage=${setPage} />
            </section>
            <section class="panel" aria-labelledby="webhooks-title">
                <div class="panel-head"><h2 id="webhooks-title">Webhooks</h2><button type="button" class="primary" disabled=${!canWrite} onClick=${() => setAdding(true)}>Add webhook</button></div>
                <${Table} rows=${webhooks} rowKey=${(w) => w.id} empty="No webhooks: alerts are only kept here. Add one to have them POSTed to Slack, PagerDuty or your own service." columns=${[
                    { label: 'URL', value: (w) => html`<code>${w.url}</code>` },
                    { label: 'Events', value: (w) => (w.events?.length ? w.events.join(', ') : 'all') },
                    { label: 'Created', value: (w) => formatTime(w.created_at, zone) },
                    { label: 'Actions', value: (w) => html`<button type="button" class="danger" disabled=${!canWrite} onClick=${() => setConfirm({ title: 'Delete this webhook?', message: w.url, action: 'Delete', run: () => api.del(`/admin/webhooks/${encodeURIComponent(w.id)}`) })}>Delete</button>` },
                ]} />
            </section>
            <${Dialog} title="Add webhook" open=${adding} onClose=${() => setAdding(false)}>
                ${adding && html`<${WebhookForm} onCancel=${() => setAdding(false)} onDone=${(w) => { setAdding(false); setCreated(w); state.reload(); }} />`}
            </${Dialog}>
            <${Dialog} title="Webhook added" open=${!!created} onClose=${() => setCreated(null)}>
                ${created && html`<p>Deliveries are signed with this secret; it is shown only now.</p><${Field} label="Signing secret"><input readonly value=${created.secret} /></${Field}>
                    <div class="buttons"><button type="button" class="primary" onClick=${() => setCreated(null)}>Done</button></div>`}
            </${Dialog}>`}
        </${Loaded}>
        <${Confirm} state=${confirm} onClose=${(done) => { setConfirm(null); if (done) state.reload(); }} />
    </${Page}>`;
}

function detail(data) {
    const parts = [];
    if (data.threshold != null) parts.push(`threshold ${data.threshold * 100} %`);
    if (data.spent != null) parts.push(`spent ${money(data.spent)}`);
    if (data.limit != null) parts.push(`limit ${money(data.limit)}`);
    if (data.limit_tokens != null) parts.push(`limit ${data.limit_tokens} tokens`);
    return parts.join(' · ') || '—';
}

function WebhookForm({ onCancel, onDone }) {
    const [url, setUrl] = useState('');
    const [chosen, setChosen] = useState([]);
    const form = useSubmit(async () => onDone(await api.post('/admin/webhooks', { url: url.trim(), events: chosen })));
    return html`<form class="form" onSubmit=${form.onSubmit}>
        <${Field} label="URL" wide=${true}><input name="url" type="url" required placeholder="https://hooks.example.com/tollgate" value=${url} onInput=${(e) => setUrl(e.currentTarget.value)} /></${Field}>
        <fieldset class="wide"><legend>Events (none checked: all)</legend>
            ${events.map((e) => html`<label class="check"><input type="checkbox" checked=${chosen.includes(e)} onChange=${() => setChosen(chosen.includes(e) ? chosen.filter((x) => x !== e) : [...chosen, e])} />${e}</label>`)}
        </fieldset>
        <${ErrorBox} error=${form.error} />
        <div class="buttons wide"><button type="button" onClick=${onCancel}>Cancel</button><button type="submit" class="primary" disabled=${form.busy}>Add webhook</button></div>
    </form>`;
}
