// Consumer usage: pick a consumer of the quota rules; for each rule that covers it, the current cycle's used and
// remaining tokens (GET /admin/quota-rules/{id}/usage); then its tokens over a chosen date range with a daily chart
// (GET /admin/usage filtered on the consumer).
import { useState } from '../vendor/hooks.mjs';
import { ChartView, Empty, Field, Loaded, Page, Progress, count, dayRange, formatTime, html, qs, today, useLoad } from '../lib.js';
import { consumerLabel } from './quota-rules.js';

const hashParams = () => new URLSearchParams(location.hash.split('?')[1] ?? '');

export function ConsumerUsage({ zone }) {
    const state = useLoad({ rules: '/admin/quota-rules', keys: '/admin/keys' }, 'rules');
    const [consumer, setConsumer] = useState(hashParams().get('consumer') ?? '');
    return html`<${Page} title="Consumer usage" intro="A consumer's quota in its current cycles, and its tokens over any date range.">
        <${Loaded} state=${state}>${({ rules, keys }) => {
            const ruleParam = hashParams().get('rule');
            const consumers = [...new Set(rules.flatMap((r) => r.consumers))].sort();
            const chosen = consumers.includes(consumer) ? consumer : (rules.find((r) => r.id === ruleParam)?.consumers[0] ?? consumers[0] ?? '');
            if (!consumers.length) return html`<${Empty}>No quota rule has consumers yet. Create a rule on the <a href="#/quota-rules">Quota rules</a> page; its keys, teams, users and projects appear here.</${Empty}>`;
            const pick = (c) => {
                setConsumer(c);
                history.replaceState(null, '', `#/consumer-usage?consumer=${encodeURIComponent(c)}`);
            };
            return html`
                <div class="toolbar"><${Field} label="Consumer">
                    <select name="consumer" value=${chosen} onChange=${(e) => pick(e.currentTarget.value)}>${consumers.map((c) => html`<option value=${c}>${consumerLabel(c, keys)}</option>`)}</select>
                </${Field}></div>
                <${CurrentCycles} key=${chosen} consumer=${chosen} rules=${rules.filter((r) => r.consumers.includes(chosen))} zone=${zone} />
                <${Range} key=${`${chosen}|${zone}`} consumer=${chosen} zone=${zone} />`;
        }}</${Loaded}>
    </${Page}>`;
}

function CurrentCycles({ consumer, rules, zone }) {
    const requests = Object.fromEntries(rules.map((r) => [r.id, `/admin/quota-rules/${encodeURIComponent(r.id)}/usage`]));
    const state = useLoad(requests, consumer);
    return html`<section class="panel" aria-labelledby="cycles-title">
        <h2 id="cycles-title">Current cycles</h2>
        <${Loaded} state=${state}>${(usage) => html`<div class="cycles">${rules.map((rule) => {
            const row = usage[rule.id].find((u) => u.consumer === consumer);
            if (!row) return null;
            return html`<article class="cycle" data-rule=${rule.id} aria-label=${`Rule ${rule.name}`}>
                <header><h3>${rule.name}</h3>${!rule.enabled && html`<span class="badge">disabled</span>`}<span class="sub">${rule.cycle} cycle · ${rule.time_zone}</span></header>
                <${Progress} label=${`${rule.name}: used tokens of the limit`} value=${row.used_tokens} max=${row.limit_tokens} />
                <p class="progress-text"><strong data-figure="used">${count(row.used_tokens)}</strong> used of <span data-figure="limit">${count(row.limit_tokens)}</span> · <strong data-figure="remaining">${count(row.remaining_tokens)}</strong> remaining</p>
                <p class="sub">Cycle ${formatTime(row.cycle_start, rule.time_zone)} → ${formatTime(row.cycle_end, rule.time_zone)} (the rule's zone)${rule.time_zone !== zone ? html`<br />${formatTime(row.cycle_start, zone)} → ${formatTime(row.cycle_end, zone)}` : ''}</p>
                <dl class="figures">
                    <div><dt>Input</dt><dd data-figure="input">${count(row.input_tokens)}</dd></div>
                    <div><dt>Output</dt><dd data-figure="output">${count(row.output_tokens)}</dd></div>
                    <div><dt>Cached</dt><dd data-figure="cached">${count(row.cached_tokens)}</dd></div>
                    <div><dt>Total</dt><dd data-figure="total">${count(row.total_tokens)}</dd></div>
                </dl>
            </article>`;
        })}</div>`}</${Loaded}>
    </section>`;
}

/** A consumer "kind:value" as the /admin/usage filter of that dimension. */
const filterOf = (consumer) => {
    const [kind, ...rest] = consumer.split(':');
    return { [kind]: rest.join(':') };
};

function Range({ consumer, zone }) {
    const [from, setFrom] = useState(today(zone, -13));
    const [to, setTo] = useState(today(zone));
    const range = { ...dayRange(from, to, zone), ...filterOf(consumer) };
    const valid = from && to && from <= to;
    const state = useLoad(valid ? {
        total: `/admin/usage${qs(range)}`,
        daily: `/admin/usage${qs({ ...range, group_by: 'day', time_zone: zone })}`,
    } : {}, `${consumer}|${from}|${to}|${zone}`);
    return html`<section class="panel" aria-labelledby="range-title">
        <h2 id="range-title">Date range</h2>
        <div class="toolbar">
            <${Field} label="From"><input type="date" name="from" value=${from} max=${to} onChange=${(e) => setFrom(e.currentTarget.value)} /></${Field}>
            <${Field} label="To (inclusive)"><input type="date" name="to" value=${to} min=${from} onChange=${(e) => setTo(e.currentTarget.value)} /></${Field}>
            <span class="sub">Days in ${zone}</span>
        </div>
        ${valid ? html`<${Loaded} state=${state}>${({ total, daily }) => {
            const t = total[0] ?? { requests: 0, input_tokens: 0, output_tokens: 0, cached_tokens: 0, total_tokens: 0 };
            return html`
                <dl class="figures range-figures">
                    <div><dt>Requests</dt><dd data-figure="range-requests">${count(t.requests)}</dd></div>
                    <div><dt>Input</dt><dd data-figure="range-input">${count(t.input_tokens)}</dd></div>
                    <div><dt>Output</dt><dd data-figure="range-output">${count(t.output_tokens)}</dd></div>
                    <div><dt>Cached</dt><dd data-figure="range-cached">${count(t.cached_tokens)}</dd></div>
                    <div><dt>Total</dt><dd data-figure="range-total">${count(t.total_tokens)}</dd></div>
                </dl>
                ${daily.length ? html`<${ChartView} label="Daily tokens" labels=${daily.map((d) => d.day)} datasets=${[
                    { label: 'Input', data: daily.map((d) => d.input_tokens) },
                    { label: 'Cached input', data: daily.map((d) => d.cached_tokens) },
                    { label: 'Output', data: daily.map((d) => d.output_tokens) },
                ]} yFormat=${count} />` : html`<${Empty}>No calls by this consumer in this range.</${Empty}>`}`;
        }}</${Loaded}>` : html`<p class="error" role="alert">"From" must not be after "To".</p>`}
    </section>`;
}
