// The console's shell: sign-in, the session, navigation between pages (hash routes, so every page has a link and the
// back button works) and the time zone in which times are shown.
import { render } from './vendor/preact.mjs';
import { useEffect, useState } from './vendor/hooks.mjs';
import { ErrorBox, Field, ZoneSelect, api, bindSession, html, preferredZone, savePreferredZone, useSubmit } from './lib.js';
import { Overview } from './pages/overview.js';
import { QuotaRules } from './pages/quota-rules.js';
import { ConsumerUsage } from './pages/consumer-usage.js';
import { Budgets } from './pages/budgets.js';
import { Keys } from './pages/keys.js';
import { UsageExplorer } from './pages/usage.js';
import { Chargeback } from './pages/chargeback.js';
import { Alerts } from './pages/alerts.js';
import { Audit } from './pages/audit.js';

const pages = [
    { path: 'overview', title: 'Overview', component: Overview },
    { path: 'quota-rules', title: 'Quota rules', component: QuotaRules },
    { path: 'consumer-usage', title: 'Consumer usage', component: ConsumerUsage },
    { path: 'budgets', title: 'Budgets', component: Budgets },
    { path: 'keys', title: 'Keys', component: Keys },
    { path: 'usage', title: 'Usage explorer', component: UsageExplorer },
    { path: 'chargeback', title: 'Chargeback', component: Chargeback },
    { path: 'alerts', title: 'Alerts', component: Alerts },
    { path: 'audit', title: 'Audit', component: Audit },
];

const currentPath = () => location.hash.replace(/^#\/?/, '').split('?')[0] || 'overview';

function SignIn({ onSignedIn, expired }) {
    const [key, setKey] = useState('');
    const form = useSubmit(async () => onSignedIn(await api.post('/ui/api/session', { key: key.trim() })));
    const { busy, error } = form;
    return html`<main class="signin">
        <form onSubmit=${form.onSubmit} aria-labelledby="signin-title">
            <h1 id="signin-title"><span class="logo" aria-hidden="true"></span>Tollgate console</h1>
            ${expired && html`<p class="note" role="status">Your session ended. Sign in again.</p>`}
            <p>Sign in with an admin key, a viewer key (read-only) or the master key. The key is sent once; the console then keeps a session cookie.</p>
            <${Field} label="Key"><input type="password" name="key" autocomplete="current-password" required autofocus value=${key} onInput=${(e) => setKey(e.currentTarget.value)} /></${Field}>
            <${ErrorBox} error=${error} />
            <button type="submit" class="primary" disabled=${busy || !key.trim()}>${busy ? 'Signing in…' : 'Sign in'}</button>
        </form>
    </main>`;
}

function Shell({ session, onSignOut }) {
    const [path, setPath] = useState(currentPath());
    const [zone, setZone] = useState(preferredZone());
    const [menuOpen, setMenuOpen] = useState(false);
    useEffect(() => {
        const onHash = () => { setPath(currentPath()); setMenuOpen(false); };
        addEventListener('hashchange', onHash);
        return () => removeEventListener('hashchange', onHash);
    }, []);
    useEffect(() => {
        const page = pages.find((p) => p.path === path) ?? pages[0];
        document.title = `${page.title} · Tollgate console`;
        document.getElementById('page-title')?.focus();
    }, [path]);
    const page = pages.find((p) => p.path === path) ?? pages[0];
    const Component = page.component;
    const canWrite = session.role === 'admin';
    const changeZone = (z) => { savePreferredZone(z); setZone(z); };
    return html`<div class="shell">
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
            <a class="brand" href="#/overview"><span class="logo" aria-hidden="true"></span>Tollgate</a>
            <button type="button" class="menu" aria-expanded=${menuOpen} aria-controls="nav" onClick=${() => setMenuOpen(!menuOpen)}>Menu</button>
            <div class="who">
                <${ZoneSelect} id="zone" label="Times in" value=${zone} onChange=${changeZone} />
                <span class="role" title=${session.actor}>${session.role === 'admin' ? 'Admin' : 'Viewer (read-only)'}</span>
                <button type="button" onClick=${onSignOut}>Sign out</button>
            </div>
        </header>
        <nav id="nav" class=${menuOpen ? 'open' : ''} aria-label="Pages">
            <ul>${pages.map((p) => html`<li><a href=${`#/${p.path}`} aria-current=${p.path === page.path ? 'page' : undefined}>${p.title}</a></li>`)}</ul>
        </nav>
        <main id="main">
            <${Component} key=${page.path} zone=${zone} canWrite=${canWrite} />
        </main>
    </div>`;
}

// The session cookie is HttpOnly, so the page cannot see it; this flag (no secret in it) remembers that this browser
// signed in, so a browser that never did is shown the sign-in form without a request that could only fail.
const SIGNED_IN = 'tollgate.signedIn';

function App() {
    const [session, setSession] = useState(localStorage.getItem(SIGNED_IN) ? undefined : null);
    const [expired, setExpired] = useState(false);
    const signedOut = (ended) => { localStorage.removeItem(SIGNED_IN); setExpired(ended); setSession(null); };
    bindSession(session?.csrf_token ?? '', () => signedOut(true));
    useEffect(() => {
        // No session any more (401) or no answer: back to the sign-in form.
        if (session === undefined) api.get('/ui/api/session').then(setSession).catch(() => signedOut(true));
    }, []);
    if (session === undefined) return html`<p class="loading">Loading…</p>`;
    if (!session) return html`<${SignIn} expired=${expired} onSignedIn=${(s) => { localStorage.setItem(SIGNED_IN, '1'); setExpired(false); setSession(s); }} />`;
    const signOut = async () => {
        try { await api.del('/ui/api/session'); } finally { signedOut(false); }
    };
    return html`<${Shell} session=${session} onSignOut=${signOut} />`;
}

const root = document.getElementById('app');
root.textContent = ''; // the static "Loading" text
render(html`<${App} />`, root);
