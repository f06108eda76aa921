// Audit: who changed what and when, newest first and paged; each entry's before and after (secrets removed).
import { useState } from '../vendor/hooks.mjs';
import { Loaded, Page, Pager, Table, formatTime, html, qs, useLoad } from '../lib.js';

const PAGE = 50;

export function Audit({ zone }) {
    const [page, setPage] = useState(0);
    const state = useLoad({ entries: `/admin/audit${qs({ limit: PAGE + 1, offset: page * PAGE })}` }, String(page));
    return html`<${Page} title="Audit" intro="Every change made through the admin API, the CLI, the console or the YAML config.">
        <${Loaded} state=${state}>${({ entries }) => html`
            <${Table} rows=${entries.slice(0, PAGE)} rowKey=${(e) => e.id} empty="No changes yet. Creating a key, budget or quota rule is recorded here." columns=${[
                { label: 'When', value: (e) => formatTime(e.at, zone) },
                { label: 'Who', value: (e) => html`<code>${e.actor}</code>` },
                { label: 'Action', value: (e) => html`<code>${e.action}</code>` },
                { label: 'Target', value: (e) => e.target ?? '—' },
                { label: 'Change', value: (e) => html`<details><summary>Before / after</summary><div class="diff">
                    <pre aria-label="Before">${e.before ? JSON.stringify(e.before, null, 2) : '—'}</pre><pre aria-label="After">${e.after ? JSON.stringify(e.after, null, 2) : '—'}</pre></div></details>` },
            ]} />
            <${Pager} page=${page} hasNext=${entries.length > PAGE} onPage=${setPage} />`}
        </${Loaded}>
    </${Page}>`;
}
