// The burn-down page: fetches /drawdown/report with the reader's API token and draws, per
// commitment, the commitment line, consumption to date and the forecast to the period's end
// (chart.js), the ledger lines behind them, and partner-sourced vs partner-influenced revenue.
'use strict';

const TOKEN_KEY = 'ecosync-api-token';

function tokenFromHash() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return undefined;
  // The token leaves the address bar at once (and never reaches the server or its logs).
  history.replaceState(null, '', location.pathname + location.search);
  return decodeURIComponent(match[1]);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const grouped = (s) => {
  const [int, frac] = String(s).split('.');
  const g = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? g : `${g}.${frac}`;
};

async function load(token) {
  const query = new URLSearchParams(location.search);
  const params = new URLSearchParams();
  for (const k of ['connection', 'customer', 'asOf']) if (query.get(k)) params.set(k, query.get(k));
  const response = await fetch(`/drawdown/report${params.size ? `?${params}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(body.detail || `the hub answered ${response.status}`), { status: response.status });
  return body;
}

/** The chart's labels and series: one label per day with ledger lines, the forecast from today to the period's end. */
function series(report) {
  const s = report.current;
  const today = s.asOf < s.period.end ? s.asOf : s.period.end;
  const labels = [...new Set([s.period.start, ...report.burndown.map((p) => p.date), today, s.period.end])].sort();
  const consumedAt = new Map(report.burndown.map((p) => [p.date, Number(p.consumed)]));
  let last = 0;
  const consumed = labels.map((d) => {
    if (d > today) return null;
    if (consumedAt.has(d)) last = consumedAt.get(d);
    return last;
  });
  const forecast = labels.map((d) => (d === today ? Number(s.consumed) : d === s.period.end ? Number(s.forecast) : null));
  return { labels, committed: labels.map(() => Number(s.committed)), consumed, forecast };
}

function renderCommitment(report) {
  const c = report.commitment;
  const s = report.current;
  const id = c.id;
  const figure = (label, value) => el('div', {}, el('dt', {}, label), el('dd', {}, value));
  const section = el('section', { class: 'commitment', 'data-commitment': id },
    el('h2', {}, `${c.program.toUpperCase()} ${c.externalId ?? ''} · customer ${c.accountId}`),
    el('p', {}, `Period ${s.period.number}: ${s.period.start} to ${s.period.end} · rule set ${c.ruleSet}`),
    el('dl', { class: 'figures' },
      figure('Committed', `${grouped(s.committed)} ${c.currency}`),
      figure('Consumed', `${grouped(s.consumed)} ${c.currency} (${s.percentConsumed} %)`),
      figure('Remaining', `${grouped(s.remaining)} ${c.currency}`),
      figure('Forecast to period end', `${grouped(s.forecast)} ${c.currency}`),
      figure('Shortfall', `${grouped(s.shortfall)} ${c.currency}`),
      ...(s.marketplaceCap ? [figure('Marketplace cap used', `${grouped(s.marketplaceCap.used)} of ${grouped(s.marketplaceCap.amount)}`)] : [])),
    el('div', { class: 'chart' }, el('canvas', { id: `chart-${id}`, 'aria-label': `burn-down of commitment ${c.externalId ?? id}`, role: 'img' })));
  for (const a of report.alerts) section.append(el('p', { class: 'alert' }, `⚑ ${a.message}`));
  const rows = report.ledger.map((e) => el('tr', {},
    el('td', {}, e.effectiveDate), el('td', {}, e.sourceKind), el('td', {}, e.sourceId),
    el('td', { class: 'num' }, `${grouped(e.grossAmount)} ${e.sourceCurrency}`),
    el('td', { class: 'num' }, grouped(e.eligibleAmount)),
    el('td', {}, `${e.ruleId}@${e.ruleVersion ?? '—'}`), el('td', {}, e.reason ?? '')));
  section.append(el('details', { open: '' }, el('summary', {}, `${report.ledger.length} ledger lines`),
    el('table', { class: 'ledger' },
      el('thead', {}, el('tr', {}, ...['Date', 'Kind', 'Document', 'Gross', `Counted (${c.currency})`, 'Rule', 'Why less'].map((h) => el('th', {}, h)))),
      el('tbody', {}, ...rows))));
  document.getElementById('commitments').append(section);

  const data = series(report);
  new Chart(document.getElementById(`chart-${id}`), {
    type: 'line',
    data: {
      labels: data.labels,
      datasets: [
        { label: 'Commitment', data: data.committed, borderColor: '#5b6775', borderDash: [6, 4], pointRadius: 0, stepped: false },
        { label: 'Consumed', data: data.consumed, borderColor: '#1565c0', backgroundColor: 'rgba(21,101,192,0.12)', fill: true, stepped: 'after' },
        { label: 'Forecast', data: data.forecast, borderColor: '#e07b00', borderDash: [3, 3], spanGaps: true },
      ],
    },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, title: { display: true, text: c.currency } } } },
  });
}

function renderPartners(partners) {
  if (partners.length === 0) return;
  document.getElementById('partners').hidden = false;
  const body = document.querySelector('#partners-table tbody');
  for (const p of partners) {
    body.append(el('tr', {}, el('td', {}, p.partner), el('td', {}, p.currency), el('td', { class: 'num' }, grouped(p.sourced)), el('td', { class: 'num' }, grouped(p.influenced)), el('td', { class: 'num' }, p.opportunities)));
  }
  new Chart(document.getElementById('partners-chart'), {
    type: 'bar',
    data: {
      labels: partners.map((p) => `${p.partner} (${p.currency})`),
      datasets: [
        { label: 'Sourced', data: partners.map((p) => Number(p.sourced)), backgroundColor: '#1565c0' },
        { label: 'Influenced', data: partners.map((p) => Number(p.influenced)), backgroundColor: '#7fb0e6' },
      ],
    },
    options: { animation: false, maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });
}

async function show(token) {
  const error = document.getElementById('error');
  try {
    const report = await load(token);
    sessionStorage.setItem(TOKEN_KEY, token);
    document.getElementById('login').hidden = true;
    error.hidden = true;
    document.getElementById('commitments').replaceChildren();
    document.getElementById('as-of').textContent = `As of ${report.asOf} · ${report.commitments.length} commitments`;
    for (const r of report.commitments) renderCommitment(r);
    renderPartners(report.partners);
    document.body.dataset.ready = 'true';
  } catch (e) {
    if (e.status === 401) sessionStorage.removeItem(TOKEN_KEY);
    error.textContent = e.message;
    error.hidden = false;
    document.getElementById('login').hidden = false;
    document.body.dataset.ready = 'error';
  }
}

document.getElementById('login').addEventListener('submit', (event) => {
  event.preventDefault();
  show(document.getElementById('token').value.trim());
});

const token = tokenFromHash() ?? sessionStorage.getItem(TOKEN_KEY);
if (token) show(token);
else document.getElementById('login').hidden = false;
