// Overview: spend today and this month, the month-end forecast, daily spend by team, model or provider, top
// consumers, savings and refusals. Two requests: the overview report and the daily usage for the chart.
import { useState } from '../vendor/hooks.mjs';
import { ChartView, Empty, Loaded, Page, Table, count, html, money, pivot, qs, startOfDay, today, useLoad } from '../lib.js';

const dimensions = [['team', 'Team'], ['model', 'Model'], ['provider', 'Provider']];

export function Overview({ zone }) {
    const [by, setBy] = useState('team');
    const from = startOfDay(today(zone, -29), zone);
    const state = useLoad({
        overview: `/admin/reports/overview${qs({ time_zone: zone, top: 10 })}`,
        daily: `/admin/usage${qs({ from, to: new Date(Date.now() + 60_000).toISOString(), group_by: `day,${by}`, time_zone: zone })}`,
    }, `${zone}|${by}`);
    return html`<${Page} title="Overview" intro=${`Spend and traffic through the gateway; days and months in ${zone}.`}>
        <${Loaded} state=${state}>${({ overview, daily }) => html`
            <div class="cards">
                <${Card} label="Spend today" value=${money(overview.today.spend)} detail=${`${count(overview.today.requests)} requests`} />
                <${Card} label="Spend this month" value=${money(overview.month.spend)} detail=${`${count(overview.month.requests)} requests`} />
                <${Card} label="Month-end forecast" value=${money(overview.month.forecast_spend)} detail="this month so far + the last 7 days' daily average × days left" />
                <${Card} label="Saved by caching / routing" value=${`${money(overview.savings.cache)} / ${money(overview.savings.routing)}`} detail="this month, against the provider price of the calls they replaced" />
                <${Card} label="Cache hits / provider caching" figure="cache" value=${`${count(overview.savings.cache_hits)} / ${money(overview.savings.provider_cache)}`} detail="this month: calls the response cache answered; what providers' prompt caches saved on cached input" />
            </div>
            <section class="panel" aria-labelledby="daily-title">
                <div class="panel-head">
                    <h2 id="daily-title">Daily spend, last 30 days</h2>
                    <div class="segmented" role="radiogroup" aria-label="Stack by">
                        ${dimensions.map(([value, label]) => html`<label><input type="radio" name="stack-by" value=${value} checked=${by === value} onChange=${() => setBy(value)} />${label}</label>`)}
                    </div>
                </div>
                ${daily.length
                    ? html`<${ChartView} label=${`Daily spend by ${by}`} stacked=${true} yFormat=${money} ...${pivot(daily, 'day', by, 'cost')} />`
                    : html`<${Empty}>No calls in the last 30 days. Send a request through the gateway with a virtual key (see the Keys page) and it appears here.</${Empty}>`}
            </section>
            <div class="columns">
                <section class="panel" aria-labelledby="top-title">
                    <h2 id="top-title">Top consumers this month</h2>
                    <${Table} rows=${overview.top_consumers} empty="No spend this month yet." columns=${[
                        { label: 'Key', value: (r) => r.name ?? r.key ?? '(no key)' },
                        { label: 'Team', value: (r) => r.team ?? '—' },
                        { label: 'Requests', numeric: true, value: (r) => count(r.requests) },
                        { label: 'Spend', numeric: true, value: (r) => money(r.spend) },
                    ]} />
                </section>
                <section class="panel" aria-labelledby="refusals-title">
                    <h2 id="refusals-title">Refusals this month</h2>
                    <${Table} rows=${overview.refusals} empty="Nothing refused this month: no budget, quota or rate limit stopped a call." columns=${[
                        { label: 'Reason', value: (r) => html`<code>${r.reason}</code>` },
                        { label: 'Requests', numeric: true, value: (r) => count(r.requests) },
                    ]} />
                </section>
            </div>`}
        </${Loaded}>
    </${Page}>`;
}

const Card = ({ label, value, detail, figure }) => html`<div class="card"><span class="card-label">${label}</span><strong class="card-value" data-figure=${figure}>${value}</strong><span class="card-detail">${detail}</span></div>`;
