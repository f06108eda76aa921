// Keys: every virtual key with its owner, plan, limits, budget and last use; create (the secret is shown once, with a
// copy button) and revoke (after a confirmation).
import { useState } from '../vendor/hooks.mjs';
import { Confirm, Dialog, ErrorBox, Field, Loaded, Page, ReadOnlyNote, Table, api, count, formatTime, html, money, useLoad, useSubmit } from '../lib.js';

const ownerFields = [['user', 'User'], ['team', 'Team'], ['project', 'Project'], ['cost_center', 'Cost center'], ['customer', 'Customer']];

export function Keys({ zone, canWrite }) {
    const state = useLoad({ keys: '/admin/keys', plans: '/admin/plans' }, 'keys');
    const [creating, setCreating] = useState(false);
    const [created, setCreated] = useState(null);
    const [confirm, setConfirm] = useState(null);
    const revoke = (k) => setConfirm({ title: `Revoke "${k.name}"?`, message: 'Every request with this key is refused from now on, on every replica. This cannot be undone.', action: 'Revoke', run: () => api.del(`/admin/keys/${encodeURIComponent(k.id)}`) });
    return html`<${Page} title="Keys" intro="Virtual keys: who calls, what they may use, and what they may spend."
        actions=${html`<button type="button" class="primary" disabled=${!canWrite} onClick=${() => setCreating(true)}>New key</button>`}>
        <${ReadOnlyNote} canWrite=${canWrite} />
        <${Loaded} state=${state}>${({ keys, plans }) => html`
            <${Table} rows=${keys} rowKey=${(k) => k.id} empty=${html`No keys yet. ${canWrite ? 'Create one with "New key" and give it to an application.' : ''}`} columns=${[
                { label: 'Name', value: (k) => html`<strong>${k.name}</strong><div class="sub"><code>${k.prefix}…</code> · ${k.id}</div>` },
                { label: 'Role', value: (k) => k.role },
                { label: 'Owner', value: (k) => ownerText(k.owner) },
                { label: 'Plan', value: (k) => k.plan ?? '—' },
                { label: 'Limits', value: (k) => limitsText(k.limits) },
                { label: 'Budget', value: (k) => budgetText(k.budget) },
                { label: 'Last used', value: (k) => formatTime(k.last_used_at, zone) },
                { label: 'Status', value: (k) => html`<span class=${k.active ? 'badge ok' : 'badge'}>${k.active ? 'active' : k.revoked_at ? 'revoked' : 'expired'}</span>` },
                { label: 'Actions', value: (k) => html`<button type="button" class="danger" disabled=${!canWrite || !k.active} onClick=${() => revoke(k)} aria-label=${`Revoke ${k.name}`}>Revoke</button>` },
            ]} />
            <${Dialog} title="New key" open=${creating} onClose=${() => setCreating(false)}>
                ${creating && html`<${KeyForm} plans=${plans} onCancel=${() => setCreating(false)} onDone=${(k) => { setCreating(false); setCreated(k); state.reload(); }} />`}
            </${Dialog}>
            <${Dialog} title="Key created" open=${!!created} onClose=${() => setCreated(null)}>
                ${created && html`<${Secret} created=${created} onClose=${() => setCreated(null)} />`}
            </${Dialog}>`}
        </${Loaded}>
        <${Confirm} state=${confirm} onClose=${(done) => { setConfirm(null); if (done) state.reload(); }} />
    </${Page}>`;
}

const ownerText = (owner) => ownerFields.filter(([f]) => owner?.[f]).map(([f, l]) => `${l.toLowerCase()} ${owner[f]}`).join(', ') || '—';
const limitsText = (l) => [l?.rpm && `${count(l.rpm)} rpm`, l?.tpm && `${count(l.tpm)} tpm`, l?.max_cost_per_minute && `${money(l.max_cost_per_minute)}/min`].filter(Boolean).join(' · ') || '—';
const budgetText = (b) => (b ? [b.hard != null && `${money(b.hard)} hard`, b.soft != null && `${money(b.soft)} soft`].filter(Boolean).join(' · ') + ` per ${b.period}` : '—');

function Secret({ created, onClose }) {
    const [copied, setCopied] = useState('');
    const copy = async () => {
        try {
            await navigator.clipboard.writeText(created.key);
            setCopied('Copied.');
        } catch {
            document.getElementById('new-key-secret').select();
            setCopied('Selected: press Ctrl+C (⌘C) to copy.');
        }
    };
    return html`<p>This is the only time the key is shown: Tollgate stores only its hash. Copy it now.</p>
        <${Field} label=${`Key of "${created.name}"`}><input id="new-key-secret" readonly value=${created.key} onFocus=${(e) => e.currentTarget.select()} /></${Field}>
        <p class="sub" role="status" aria-live="polite">${copied}</p>
        <div class="buttons"><button type="button" onClick=${copy}>Copy</button><button type="button" class="primary" onClick=${onClose}>Done</button></div>`;
}

function KeyForm({ plans, onCancel, onDone }) {
    const [v, setV] = useState({ name: '', role: 'app', plan: '', models: '', rpm: '', tpm: '', period: 'month', soft: '', hard: '' });
    const [owner, setOwner] = useState({});
    const set = (name) => (e) => setV({ ...v, [name]: e.currentTarget.value });
    const number = (x) => (x === '' ? undefined : Number(x));
    const form = useSubmit(async () => {
        const limits = { rpm: number(v.rpm), tpm: number(v.tpm) };
        const budget = v.soft === '' && v.hard === '' ? undefined : { period: v.period, soft: number(v.soft), hard: number(v.hard) };
        const body = {
            name: v.name.trim(),
            role: v.role,
            owner: Object.fromEntries(Object.entries(owner).filter(([, x]) => x.trim()).map(([f, x]) => [f, x.trim()])),
            plan: v.plan || undefined,
            models: v.models.split(',').map((m) => m.trim()).filter(Boolean),
            limits: limits.rpm || limits.tpm ? limits : undefined,
            budget,
        };
        onDone(await api.post('/admin/keys', body));
    });
    return html`<form class="form" onSubmit=${form.onSubmit}>
        <${Field} label="Name"><input name="name" required value=${v.name} onInput=${set('name')} /></${Field}>
        <${Field} label="Role"><select name="role" value=${v.role} onChange=${set('role')}>
            <option value="app">app: calls models</option><option value="viewer">viewer: reads the admin API and console</option><option value="admin">admin: changes everything</option></select></${Field}>
        <fieldset class="wide"><legend>Owner</legend><div class="grid">
            ${ownerFields.map(([f, l]) => html`<${Field} label=${l}><input name=${`owner_${f}`} value=${owner[f] ?? ''} onInput=${(e) => setOwner({ ...owner, [f]: e.currentTarget.value })} /></${Field}>`)}
        </div></fieldset>
        <${Field} label="Plan"><select name="plan" value=${v.plan} onChange=${set('plan')}><option value="">No plan</option>${plans.map((p) => html`<option value=${p.name}>${p.name}</option>`)}</select></${Field}>
        <${Field} label="Models" hint="Comma-separated; exact names or provider/*. Empty: every model."><input name="models" value=${v.models} onInput=${set('models')} /></${Field}>
        <${Field} label="Requests per minute"><input name="rpm" type="number" min="1" step="1" value=${v.rpm} onInput=${set('rpm')} /></${Field}>
        <${Field} label="Tokens per minute"><input name="tpm" type="number" min="1" step="1" value=${v.tpm} onInput=${set('tpm')} /></${Field}>
        <fieldset class="wide"><legend>Budget</legend><div class="grid">
            <${Field} label="Period"><select name="budget_period" value=${v.period} onChange=${set('period')}>${['day', 'week', 'month', 'total'].map((p) => html`<option value=${p}>${p}</option>`)}</select></${Field}>
            <${Field} label="Soft (USD)"><input name="budget_soft" type="number" min="0" step="any" value=${v.soft} onInput=${set('soft')} /></${Field}>
            <${Field} label="Hard (USD)"><input name="budget_hard" type="number" min="0" step="any" value=${v.hard} onInput=${set('hard')} /></${Field}>
        </div></fieldset>
        <${ErrorBox} error=${form.error} />
        <div class="buttons wide"><button type="button" onClick=${onCancel}>Cancel</button><button type="submit" class="primary" disabled=${form.busy}>Create key</button></div>
    </form>`;
}
