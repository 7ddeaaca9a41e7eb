// timing.js: the timing of one call as a bar of its phases (queued, DNS, connect, TLS,
// time to first byte, download), each as wide as its share, with a legend. A call that got
// no response has no download: its last phase is the time until it failed.

import { h } from './dom.js';
import * as fmt from './format.js';

const PHASES = [
  ['queued', 'Queued', 'waiting for the client-side rate limiter'],
  ['dns', 'DNS', 'name lookup'],
  ['connect', 'Connect', 'TCP connect'],
  ['tls', 'TLS', 'TLS handshake'],
  ['ttfb', 'TTFB', 'request sent, waiting for the first response byte'],
  ['download', 'Download', 'receiving the response'],
];
// A call that got no response: what follows its last phase is the wait until it failed.
const FAILED = ['failed', 'No response', 'until the transport error (no response came)'];

// ROW's timing: [bar, legend, note (null when there was timing)].
export function timingView(row) {
  const t = row.timing || {};
  const num = (v) => (typeof v === 'number' && v > 0 ? v : 0);
  const total = num(t.total_ms ?? row.duration_ms);
  const ms = {
    queued: num(t.queued_ms),
    dns: num(t.dns_ms),
    connect: num(t.connect_ms),
    tls: num(t.tls_ms),
    ttfb: num(t.ttfb_ms),
  };
  const failed = row.status === null || row.status === undefined;
  const phases = failed ? [...PHASES.slice(0, -1), FAILED] : PHASES;
  const last = phases[phases.length - 1][0];
  ms[last] = Math.max(0, total - ms.dns - ms.connect - ms.tls - ms.ttfb);
  const span = phases.reduce((s, [p]) => s + ms[p], 0);
  const bar = h('div', { class: 'timing-bar', testid: 'timing-bar', role: 'img',
    'aria-label': phases.map(([p, label]) => `${label} ${fmt.duration(ms[p])}`).join(', ') });
  const legend = h('ul', { class: 'timing-legend' });
  for (const [p, label, what] of phases) {
    const share = span > 0 ? ms[p] / span : 0;
    const seg = h('span', {
      class: `tseg tseg-${p}${ms[p] === 0 ? ' tseg-zero' : ''}`,
      data: { phase: p, ms: ms[p] },
      title: `${label}: ${fmt.duration(ms[p])} (${(share * 100).toFixed(1)}%) — ${what}`,
    });
    // Proportional width through the CSSOM (allowed by the CSP, unlike style="").
    seg.style.flexGrow = String(share);
    seg.style.flexBasis = '0';
    if (share >= 0.08) seg.appendChild(h('span', { class: 'tseg-label' }, label));
    bar.appendChild(seg);
    legend.appendChild(h('li', { class: ms[p] === 0 ? 'zero' : '' },
      h('span', { class: `swatch tseg-${p}`, 'aria-hidden': 'true' }),
      h('span', { class: 'legend-name', title: what }, label), ' ',
      h('span', { class: 'legend-ms' }, fmt.duration(ms[p]))));
  }
  const note = span === 0 ? h('p', { class: 'muted' }, 'No timing was recorded for this call.') : null;
  return [bar, legend, note];
}
