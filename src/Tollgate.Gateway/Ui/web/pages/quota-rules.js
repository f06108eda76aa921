// Quota rules: natural-cycle token quotas per consumer. The list switches rules on and off at once; the form creates
// and edits them; reset and delete ask first.
import { useState } from '../vendor/hooks.mjs';
import { Confirm, Dialog, ErrorBox, Field, Loaded, Page, ReadOnlyNote, Table, ZoneSelect, api, count, formatTime, html, useLoad, useSubmit } from '../lib.js';

/** The contract's default zone of a quota rule (a rule created without time_zone gets it). */
export const DEFAULT_RULE_ZONE = 'Asia/Shanghai';
export const consumerKinds = [['key', 'Key'], ['team', 'Team'], ['user', 'User'], ['project', 'Project']];

/** Known consumers to pick from: every key, and the teams, users and projects the keys are owned by. */
export function knownConsumers(keys) {
    const known = { key: keys.map((k) => ({ value: k.id, label: `${k.name} (${k.id})` })), team: new Set(), user: new Set(), project: new Set() };
    for (const k of keys) for (const kind of ['team', 'user', 'project']) if (k.owner?.[kind]) known[kind].add(k.owner[kind]);
    for (const kind of ['team', 'user', 'project']) known[kind] = [...known[kind]].sort().map((v) => ({ value: v, label: v }));
    return known;
}

export function consumerLabel(consumer, keys) {
    const [kind, ...rest] = consumer.split(':');
    const value = rest.join(':');
    const key = kind === 'key' ? keys.find((k) => k.id === value) : null;
    return `${kind} ${key ? `${key.name} (${value})` : value}`;
}

export function QuotaRules({ zone, canWrite }) {
    const state = useLoad({ rules: '/admin/quota-rules', keys: '/admin/keys' }, 'rules');
    const [editing, setEditing] = useState(null); // null, {} (new) or a rule
    const [confirm, setConfirm] = useState(null);
    const [error, setError] = useState(null);
    const toggle = async (rule) => {
        setError(null);
        try {
            await api.post(`/admin/quota-rules/${encodeURIComponent(rule.id)}/${rule.enabled ? 'disable' : 'enable'}`);
            state.reload();
        } catch (e) { setError(e); }
    };
    const ask = (rule, kind) => setConfirm(kind === 'reset'
        ? { title: `Reset "${rule.name}"?`, message: 'Every consumer of this rule starts its current cycle again at 0 used tokens. The usage records stay in the ledger.', action: 'Reset', run: () => api.post(`/admin/quota-rules/${encodeURIComponent(rule.id)}/reset`) }
        : { title: `Delete "${rule.name}"?`, message: 'Its consumers are no longer limited by it. This cannot be undone.', action: 'Delete', run: () => api.del(`/admin/quota-rules/${encodeURIComponent(rule.id)}`) });
    return html`<${Page} title="Quota rules" intro="Token quotas on natural cycles (day, week, month in the rule's time zone). Each consumer of a rule has its own quota."
        actions=${html`<button type="button" class="primary" disabled=${!canWrite} onClick=${() => setEditing({})}>New quota rule</button>`}>
        <${ReadOnlyNote} canWrite=${canWrite} />
        <${ErrorBox} error=${error} />
        <${Loaded} state=${state}>${({ rules, keys }) => html`
            <${Table} rows=${rules} rowKey=${(r) => r.id} empty=${html`No quota rules yet. ${canWrite ? 'Create one with "New quota rule": pick the consumers, a token limit and a cycle.' : 'An admin can create them.'}`} columns=${[
                { label: 'Name', value: (r) => html`<strong>${r.name}</strong><div class="sub">${r.id}</div>` },
                { label: 'Limit (tokens)', numeric: true, value: (r) => count(r.limit_tokens) },
                { label: 'Cycle', value: (r) => html`${r.cycle}<div class="sub">${r.time_zone}</div>` },
                { label: 'Consumers', value: (r) => html`<ul class="chips">${r.consumers.map((c) => html`<li>${consumerLabel(c, keys)}</li>`)}</ul>` },
                { label: 'Enabled', value: (r) => html`<label class="switch"><input type="checkbox" role="switch" checked=${r.enabled} disabled=${!canWrite} onChange=${() => toggle(r)} aria-label=${`Rule ${r.name} enabled`} /><span aria-hidden="true"></span></label>` },
                { label: 'Created', value: (r) => formatTime(r.created_at, zone) },
                { label: 'Actions', value: (r) => html`<div class="row-actions">
                    <a href=${`#/consumer-usage?rule=${encodeURIComponent(r.id)}`}>Usage</a>
                    <button type="button" disabled=${!canWrite} onClick=${() => setEditing(r)} aria-label=${`Edit ${r.name}`}>Edit</button>
                    <button type="button" disabled=${!canWrite} onClick=${() => ask(r, 'reset')} aria-label=${`Reset ${r.name}`}>Reset</button>
                    <button type="button" class="danger" disabled=${!canWrite} onClick=${() => ask(r, 'delete')} aria-label=${`Delete ${r.name}`}>Delete</button></div>` },
            ]} />
            <${Dialog} title=${editing?.id ? `Edit "${editing.name}"` : 'New quota rule'} open=${!!editing} onClose=${() => setEditing(null)}>
                ${editing && html`<${RuleForm} rule=${editing} keys=${keys} onDone=${() => { setEditing(null); state.reload(); }} onCancel=${() => setEditing(null)} />`}
            </${Dialog}>`}
        </${Loaded}>
        <${Confirm} state=${confirm} onClose=${(done) => { setConfirm(null); if (done) state.reload(); }} />
    </${Page}>`;
}

function RuleForm({ rule, keys, onDone, onCancel }) {
    const [name, setName] = useState(rule.name ?? '');
    const [limit, setLimit] = useState(rule.limit_tokens ?? '');
    const [cycle, setCycle] = useState(rule.cycle ?? 'day');
    const [timeZone, setTimeZone] = useState(rule.time_zone ?? DEFAULT_RULE_ZONE);
    const [consumers, setConsumers] = useState(rule.consumers ?? []);
    const [enabled, setEnabled] = useState(rule.enabled ?? true);
    const [kind, setKind] = useState('key');
    const [value, setValue] = useState('');
    const known = knownConsumers(keys);
    const add = () => {
        const consumer = `${kind}:${value.trim()}`;
        if (value.trim() && !consumers.includes(consumer)) setConsumers([...consumers, consumer]);
        setValue('');
    };
    const form = useSubmit(async () => {
        const body = { name: name.trim(), limit_tokens: Number(limit), cycle, time_zone: timeZone, consumers, enabled };
        if (rule.id) await api.patch(`/admin/quota-rules/${encodeURIComponent(rule.id)}`, body);
        else await api.post('/admin/quota-rules', body);
        onDone();
    });
    return html`<form class="form" onSubmit=${form.onSubmit}>
        <${Field} label="Name"><input name="name" required value=${name} onInput=${(e) => setName(e.currentTarget.value)} /></${Field}>
        <${Field} label="Token limit per cycle" hint="Input + output tokens each consumer may use per cycle."><input name="limit_tokens" type="number" min="1" step="1" required value=${limit} onInput=${(e) => setLimit(e.currentTarget.value)} /></${Field}>
        <${Field} label="Cycle"><select name="cycle" value=${cycle} onChange=${(e) => setCycle(e.currentTarget.value)}>
            <option value="day">Day (resets at midnight)</option><option value="week">Week (resets Monday 00:00)</option><option value="month">Month (resets on the 1st)</option></select></${Field}>
        <${ZoneSelect} label="Cycle time zone" value=${timeZone} onChange=${setTimeZone} defaultZone=${DEFAULT_RULE_ZONE} />
        <fieldset class="wide">
            <legend>Consumers</legend>
            <ul class="chips">${consumers.map((c) => html`<li>${consumerLabel(c, keys)} <button type="button" class="chip-remove" aria-label=${`Remove ${c}`} onClick=${() => setConsumers(consumers.filter((x) => x !== c))}>×</button></li>`)}</ul>
            ${consumers.length === 0 && html`<p class="hint">Add at least one key, team, user or project.</p>`}
            <div class="inline">
                <${Field} label="Kind"><select name="consumer_kind" value=${kind} onChange=${(e) => { setKind(e.currentTarget.value); setValue(''); }}>${consumerKinds.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></${Field}>
                <${Field} label=${kind === 'key' ? 'Key' : `${kind[0].toUpperCase()}${kind.slice(1)} name`}>
                    ${kind === 'key'
                        ? html`<select name="consumer_value" value=${value} onChange=${(e) => setValue(e.currentTarget.value)}><option value="">Pick a key…</option>${known.key.map((o) => html`<option value=${o.value}>${o.label}</option>`)}</select>`
                        : html`<input name="consumer_value" list=${`known-${kind}`} value=${value} onInput=${(e) => setValue(e.currentTarget.value)} onKeyDown=${(e) => { if (e.key === 'Enter') { e.preventDefault(); add(); } }} />
                               <datalist id=${`known-${kind}`}>${known[kind].map((o) => html`<option value=${o.value} />`)}</datalist>`}
                </${Field}>
                <button type="button" onClick=${add} disabled=${!value.trim()}>Add consumer</button>
            </div>
        </fieldset>
        <label class="check wide"><input type="checkbox" name="enabled" checked=${enabled} onChange=${(e) => setEnabled(e.currentTarget.checked)} /> Enabled</label>
        <${ErrorBox} error=${form.error} />
        <div class="buttons wide">
            <button type="button" onClick=${onCancel}>Cancel</button>
            <button type="submit" class="primary" disabled=${form.busy || consumers.length === 0}>${rule.id ? 'Save' : 'Create rule'}</button>
        </div>
    </form>`;
}
