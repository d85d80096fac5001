/*
 * iam-last-accessed: the run's page. Vanilla JavaScript, nothing loaded from anywhere.
 *
 * Stable DOM hooks (the browser tests rely on them; keep them):
 *   document.body.dataset.ready === "1"   set once the first render completed; then also
 *   window.ILA_FIRST_RENDER_MS             = performance.now() at that moment.
 *   #totals                                the run's totals.
 *   #changes                               the changes since the previous run.
 *   table#principals tbody tr[data-arn]    one row per principal of the current page;
 *                                          a click fills #detail. data-account: the
 *                                          account it was scanned in; td.account shows it
 *                                          (and its name when the page knows it);
 *                                          td.recommendations its recommendations' count
 *                                          ("withheld" when none were judged), when
 *                                          run.recommendations (else no such column).
 *   table#principals th[data-sort]         a click sorts by that column (again: reversed).
 *   input#principal-filter                 case-insensitive substring of arn / account
 *                                          id / account name / type / status; re-renders
 *                                          on `input`, back to page 1.
 *   #principal-pager                       button.first, button.prev, button.next,
 *                                          button.last, span.page-info "page X of Y".
 *   #heatmap [data-arn][data-ns][data-class]
 *                                          one cell per (principal of the current page,
 *                                          column); data-class is active | stale |
 *                                          never_used | none (not granted), data-days when
 *                                          known. Columns: the services granted to the
 *                                          page's principals, most granted in the run
 *                                          first, at most MAX_COLUMNS. A click fills #detail.
 *   #heatmap tr[data-arn][data-account] th.row   a row's label: its account
 *                                          (span.acct), then the ARN's type/path/name.
 *   table#services tbody tr[data-ns]       one row per service (granted, active, stale,
 *                                          never used: counts of principals).
 *   table#services th[data-sort], input#service-filter   as for principals.
 *   #shown                                 when the page holds fewer principals than it
 *                                          counts: how many, and where all of them are.
 *   #account                               an account's page: the account, a link back to
 *                                          the overview (../index.html).
 *   table#accounts tbody tr[data-account]  an Organization run's overview: one row per
 *                                          account (data-status), linking its page
 *                                          (accounts/ID.html) when it was read; td.error
 *                                          says why an account is UNREACHABLE or INCOMPLETE.
 *                                          Accounts not fully read first, then as the
 *                                          summary lists them.
 *   input#account-filter                   case-insensitive substring of id / name / OU
 *                                          path / error; select#account-status one status
 *                                          or every one; #account-count "N of M accounts";
 *   table#accounts th[data-sort]           a click sorts by that column (again: reversed).
 *   #run-why                               the overview: the accounts not fully read, each
 *                                          with its status and error (at most 20 listed).
 *   #detail                                the principal clicked: its services with class,
 *                                          days, last use, granting policies, tracked
 *                                          actions; its changes; its recommendations.
 *
 * The data: JSON in the script element #ila-data, type application/json (written by
 * functions/core/src/page/mod.rs, which documents it too). Packed numbers are digits of
 * base64url (A = 0 ... _ = 63), most significant first; enc gives their widths.
 *   v 2, enc {k, c, p}  digits of a cell key, of a cell number, of a policy index
 *   run, counts, changes, top_unused, missing  the summary's (no report_keys), or on an
 *              account's page the account's; missing and changes.gone cut to 500
 *   account    an account's page: its line of the summary
 *   accounts   an Organization run's overview: every account's line (no principals)
 *   shown      {principals, of, index_key}: the page keeps the principals with the most
 *              unused services that fit its size; index_key holds every one
 *   services   [[ns, granted, active, stale, never_used], ...]  in first-seen order
 *   policies   ["name (TYPE)", ...]     actions  ["svc:Action", ...]
 *   principals [[arn, type, status, granted, active, stale, never_used, mark, cells, extra?], ...]
 *     mark   0 not compared, 1 new, 2 changed, 3 unchanged, 4 re-created (new: its ARN's
 *            previous report is of another unique id; extra.id is its own)
 *     cells  a string, per granted service in the report's order: key (enc.k digits:
 *            service index * 3 + class, 0 active, 1 stale, 2 never used), then the last
 *            use: 5 digits = seconds from it to run.as_of_epoch (days = floor(s / 86400)),
 *            "." none (no days), "~" irregular: extra.i[cell] = [days, last]
 *     extra  {e: error, i: {cell: [days, last]},
 *             p: policies: entries of cell (enc.c digits), count (1 digit), indexes
 *                (enc.p digits each),
 *             x: {cell: [k, v, ...]} tracked actions: k = action index * 3 + class,
 *                v = seconds before as_of, null, or the last use as text,
 *             ch: changes (when something changed), r: recommendations (when present),
 *             n: how many recommendations (when any), w: true when withheld,
 *             id: a re-created principal's new unique id,
 *             a: its account when its ARN does not name it (an AWS-managed policy)}
 *   run.recommendations  whether the run asked for recommendations
 */
(function () {
  'use strict';

  var PAGE_SIZE = 50;
  var MAX_COLUMNS = 400;
  var CLASSES = ['active', 'stale', 'never_used'];
  var LABEL = { active: 'active', stale: 'stale', never_used: 'never used', none: 'not granted' };
  var MARK_NAME = ['', 'new', 'changed', '', 're-created'];
  // Principal array fields.
  var ARN = 0, TYPE = 1, STATUS = 2, GRANTED = 3, ACTIVE = 4, STALE = 5, NEVER = 6, MARK = 7,
    CELLS = 8, EXTRA = 9;

  var D = JSON.parse(document.getElementById('ila-data').textContent);
  var run = D.run || {};
  var U = run.unused_days || 0;
  var asOf = run.as_of_epoch;
  var P = D.principals || [];
  var S = D.services || [];
  var RECS = !!run.recommendations;
  // The accounts the page knows by name: every one on an overview, its own on an
  // account's page (a run of the stack's own account knows only ids).
  var ACCOUNTS = D.accounts || (D.account ? [D.account] : []);
  var ACCOUNT_BY_ID = Object.create(null);
  ACCOUNTS.forEach(function (a) { ACCOUNT_BY_ID[a.id] = a; });

  // ---- small helpers -------------------------------------------------------------

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
        var v = attrs[k];
        if (v === null || v === undefined || v === false) continue;
        if (k === 'text') e.textContent = v;
        else if (k === 'class') e.className = v;
        else e.setAttribute(k, v);
      }
    }
    if (children) append(e, children);
    return e;
  }

  function append(parent, children) {
    for (var i = 0; i < children.length; i++) {
      var c = children[i];
      if (c === null || c === undefined || c === false) continue;
      parent.appendChild(typeof c === 'string' || typeof c === 'number'
        ? document.createTextNode(String(c)) : c);
    }
    return parent;
  }

  function clear(e) {
    while (e.firstChild) e.removeChild(e.firstChild);
    return e;
  }

  function num(n) {
    if (n === null || n === undefined) return '';
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  function iso(seconds) {
    return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
  }

  var ENC = D.enc || { k: 1, c: 1, p: 1 };
  var DIGIT = new Array(128);
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach(function (ch, i) {
    DIGIT[ch.charCodeAt(0)] = i;
  });

  function digits(text, at, width) {
    var n = 0;
    for (var i = 0; i < width; i++) n = n * 64 + DIGIT[text.charCodeAt(at + i)];
    return n;
  }

  /** A principal's cells: [{n: cell number, s: service index, c: class, days, last}]. */
  function cellsOf(p) {
    var text = p[CELLS] || '';
    var irregular = (p[EXTRA] && p[EXTRA].i) || {};
    var out = [];
    var at = 0;
    for (var n = 0; at < text.length; n++) {
      var k = digits(text, at, ENC.k);
      at += ENC.k;
      var mark = text.charAt(at);
      var days = null, last = null;
      if (mark === '.') {
        at += 1;
      } else if (mark === '~') {
        at += 1;
        var v = irregular[n] || [null, null];
        days = v[0];
        last = v[1];
      } else {
        var ago = digits(text, at, 5);
        at += 5;
        days = Math.floor(ago / 86400);
        last = iso(asOf - ago);
      }
      out.push({ n: n, s: (k / 3) | 0, c: k % 3, days: days, last: last });
    }
    return out;
  }

  /** A principal's granting policies: {cell number: [policy name, ...]}. */
  function policiesOf(p) {
    var text = (p[EXTRA] && p[EXTRA].p) || '';
    var out = {};
    var at = 0;
    while (at < text.length) {
      var cell = digits(text, at, ENC.c);
      at += ENC.c;
      var count = digits(text, at, 1);
      at += 1;
      var names = out[cell] || (out[cell] = []);
      for (var i = 0; i < count; i++) {
        names.push(D.policies[digits(text, at, ENC.p)]);
        at += ENC.p;
      }
    }
    return out;
  }

  /** An action's last use: [days, last]. */
  function when(v) {
    if (v === null || v === undefined) return [null, null];
    if (typeof v === 'number') return [Math.floor(v / 86400), iso(asOf - v)];
    return [null, String(v)];
  }

  function shortName(arn) {
    return arn.split(':').slice(5).join(':') || arn;
  }

  /** The account field of an ARN (`aws` for an AWS-managed policy). */
  function arnAccount(arn) {
    return String(arn).split(':')[4] || '';
  }

  /** The account a principal was scanned in. */
  function accountOf(p) {
    return (p[EXTRA] && p[EXTRA].a) || arnAccount(p[ARN]);
  }

  /** `ID (name)`, or the id when the page knows no name. */
  function accountLabel(id) {
    var a = ACCOUNT_BY_ID[id];
    return a && a.name ? id + ' (' + a.name + ')' : id;
  }

  function recommendationsOf(p) {
    return (p[EXTRA] && p[EXTRA].n) || 0;
  }

  function withheld(p) {
    return !!(p[EXTRA] && p[EXTRA].w);
  }

  function card(label, value, cls) {
    return el('div', { class: 'card' }, [
      el('div', { class: 'k', text: label }),
      el('div', { class: 'v' + (cls ? ' ' + cls : ''), text: value })
    ]);
  }

  function kvTable(rows) {
    var t = el('table', { class: 'kv' });
    rows.forEach(function (r) {
      if (r[1] === null || r[1] === undefined || r[1] === '') return;
      t.appendChild(el('tr', null, [el('th', { text: r[0] }), el('td', { class: r[2] || null, text: String(r[1]) })]));
    });
    return t;
  }

  function listDetails(title, items, limit, render) {
    var d = el('details');
    d.appendChild(el('summary', { text: title }));
    var ul = el('ul', { class: 'plain' });
    var n = Math.min(items.length, limit);
    for (var i = 0; i < n; i++) ul.appendChild(el('li', null, [render(items[i])]));
    if (items.length > n) ul.appendChild(el('li', { class: 'muted', text: 'and ' + num(items.length - n) + ' more' }));
    d.appendChild(ul);
    return d;
  }

  function clsBadge(cls) {
    return el('span', { class: 'cls cls-' + cls, text: LABEL[cls] });
  }

  /** The heat map's colour of a class and its days since the last use. */
  function colour(cls, days) {
    if (cls === 'active') {
      var a = U > 0 && days !== null ? Math.min(1, Math.max(0, days / U)) : 0;
      return 'hsl(130, 55%, ' + (26 + a * 44).toFixed(1) + '%)';
    }
    if (cls === 'stale') {
      var span = Math.max(1, 400 - U);
      var s = days === null ? 1 : Math.min(1, Math.max(0, (days - U) / span));
      return 'hsl(' + (42 - 42 * s).toFixed(1) + ', 85%, ' + (55 - 10 * s).toFixed(1) + '%)';
    }
    return '';
  }

  function pickPrincipal(arn) {
    var i = arnIndex()[arn];
    if (i === undefined) return;
    state.selected = i;
    renderDetail();
    markSelected();
    var d = document.getElementById('detail');
    if (d.scrollIntoView) d.scrollIntoView({ block: 'nearest' });
  }

  var arnMap = null;
  function arnIndex() {
    if (!arnMap) {
      arnMap = Object.create(null);
      for (var i = 0; i < P.length; i++) arnMap[P[i][ARN]] = i;
    }
    return arnMap;
  }

  function arnLink(arn) {
    var known = arnIndex()[arn] !== undefined;
    var s = el('span', { class: 'mono' + (known ? ' link' : ''), text: arn });
    if (known) {
      s.style.cursor = 'pointer';
      s.style.color = 'var(--accent)';
      s.addEventListener('click', function () { pickPrincipal(arn); });
    }
    return s;
  }

  // ---- totals and changes ---------------------------------------------------------

  function renderTotals() {
    var c = D.counts || {};
    var box = clear(document.getElementById('totals'));
    document.getElementById('run-id').textContent = run.run_id || '';
    box.appendChild(el('div', { class: 'cards' }, [
      card('Status', run.status || '', 'status-' + run.status),
      card('Principals', num(c.principals_planned)),
      card('Reports', num(c.reports_written)),
      card('Missing', num(c.principals_missing || 0)),
      card('Skipped', num(c.principals_skipped || 0)),
      card('Services granted', num(c.services_granted)),
      card('Active', num(c.services_active)),
      card('Stale', num(c.services_stale)),
      card('Never used', num(c.services_never_used))
    ]));
    renderRunWhy(box);
    var byStatus = Object.keys(c.by_status || {}).map(function (k) { return k + ' ' + num(c.by_status[k]); }).join(', ');
    var byType = Object.keys(c.by_type || {}).map(function (k) { return k + ' ' + num(c.by_type[k]); }).join(', ');
    box.appendChild(kvTable([
      ['Run', run.run_id],
      ['Date', run.dt],
      ['As of', run.as_of],
      ['Started', run.started_at],
      ['Finished', run.finished_at],
      ['Duration', run.duration_seconds !== undefined ? num(run.duration_seconds) + ' s' : ''],
      ['Granularity', run.granularity],
      ['Unused days', U + ' (stale: used ' + U + ' or more days before as of)'],
      ['By status', byStatus || 'none'],
      ['By type', byType || 'none'],
      ['Batches', num(c.batches_reported) + ' of ' + num(c.batches_planned) + ' reported'],
      ['Reports', run.reports_prefix],
      ['Failure', run.failure ? (run.failure.Error || '') + ': ' + (run.failure.Cause || '') : '', 'error']
    ]));
    var missing = D.missing || [];
    if (missing.length) {
      box.appendChild(listDetails(num(missing.length) + ' principals without a report', missing, 500, function (m) {
        return el('span', null, [el('span', { class: 'mono', text: m.arn }), ' — ', m.reason]);
      }));
    }
    var top = D.top_unused || [];
    if (top.length) {
      box.appendChild(listDetails('Most stale + never used services (top ' + top.length + ')', top, top.length, function (t) {
        return el('span', null, [topAccount(t), ' ', arnLink(t.arn), ' — ' + num(t.services_unused) + ' of ' + num(t.services_granted) + ' granted']);
      }));
    }
  }

  /** A top principal's account (its report's key says it), linked to the account's page
   * on an overview. */
  function topAccount(t) {
    var m = /\/account=([^/]+)\//.exec(t.report_key || '');
    var id = m ? m[1] : arnAccount(t.arn);
    var text = '[' + accountLabel(id) + ']';
    if (D.accounts && ACCOUNT_BY_ID[id] && ACCOUNT_BY_ID[id].status !== 'UNREACHABLE') {
      return el('a', { class: 'acct', href: 'accounts/' + id + '.html', text: text });
    }
    return el('span', { class: 'acct', text: text });
  }

  /** An overview's accounts that were not fully read, each with why: what makes the run
   * INCOMPLETE, said beside its status. */
  function renderRunWhy(box) {
    if (!D.accounts) return;
    var bad = D.accounts.filter(function (a) { return a.status !== 'SUCCEEDED'; });
    if (!bad.length) return;
    var why = el('div', { id: 'run-why', class: 'error' });
    why.appendChild(el('div', { text: num(bad.length) + ' of ' + num(D.accounts.length) + ' accounts not fully read (' + countByStatus(bad) + '):' }));
    var ul = el('ul');
    bad.slice(0, 20).forEach(function (a) {
      ul.appendChild(el('li', { 'data-account': a.id }, [
        el('span', { class: 'mono', text: accountLabel(a.id) }), ' ',
        el('b', { text: a.status }), a.error ? ': ' + a.error : ''
      ]));
    });
    if (bad.length > 20) ul.appendChild(el('li', { class: 'muted', text: 'and ' + num(bad.length - 20) + ' more: the accounts table, by status' }));
    why.appendChild(ul);
    box.appendChild(why);
  }

  function countByStatus(list) {
    var n = {};
    list.forEach(function (a) { n[a.status] = (n[a.status] || 0) + 1; });
    return Object.keys(n).sort().map(function (k) { return num(n[k]) + ' ' + k; }).join(', ');
  }

  function renderChanges() {
    var ch = D.changes || {};
    var box = clear(document.getElementById('changes'));
    if (!ch.previous_run) {
      box.appendChild(el('p', { class: 'muted', text: 'No previous completed run of this scope at ' + (run.granularity || 'this granularity') + ': nothing to compare against.' }));
    } else {
      box.appendChild(kvTable([
        ['Previous run', ch.previous_run.run_id],
        ['Its as of', ch.previous_run.as_of]
      ]));
    }
    box.appendChild(el('div', { class: 'cards' }, [
      card('New', num(ch.principals_new || 0)),
      card('Re-created', num(ch.principals_recreated || 0)),
      card('Changed', num(ch.principals_changed || 0)),
      card('Unchanged', num(ch.principals_unchanged || 0)),
      card('Gone', D.account ? 'on the overview' : num(ch.principals_gone || 0)),
      card('Not compared', num(ch.principals_not_compared || 0))
    ]));
    var gone = ch.gone || [];
    if (gone.length) {
      box.appendChild(listDetails(num(gone.length) + ' principals gone since the previous run', gone, 500, function (a) {
        return el('span', { class: 'mono', text: a });
      }));
    }
    var largest = ch.largest || [];
    if (largest.length) {
      box.appendChild(el('h3', { text: 'Largest changes' }));
      var t = el('table', { class: 'data', id: 'largest-changes' });
      t.appendChild(el('thead', null, [el('tr', null, [
        el('th', { text: 'Principal' }), el('th', { class: 'num', text: 'Size' }),
        el('th', { text: 'Newly used' }), el('th', { text: 'Newly stale' }),
        el('th', { text: 'Newly never used' }), el('th', { text: 'Granted added' }),
        el('th', { text: 'Granted removed' })
      ])]));
      var tb = el('tbody');
      largest.forEach(function (l) {
        tb.appendChild(el('tr', null, [
          el('td', null, [arnLink(l.arn)]), el('td', { class: 'num', text: num(l.size) }),
          listCell(l, 'newly_used'), listCell(l, 'newly_stale'), listCell(l, 'newly_never_used'),
          listCell(l, 'granted_added'), listCell(l, 'granted_removed')
        ]));
      });
      t.appendChild(tb);
      box.appendChild(el('div', { class: 'table-wrap' }, [t]));
    }
  }

  function listCell(c, key) {
    var names = (c[key] || []).slice();
    if (c.actions && c.actions[key]) names = names.concat(c.actions[key]);
    var shown = names.slice(0, 8).join(', ') + (names.length > 8 ? ' … (+' + (names.length - 8) + ')' : '');
    return el('td', { class: 'wrap', title: names.join(', '), text: shown });
  }

  // ---- principals: filter, sort, page ---------------------------------------------

  var state = { filter: '', key: null, desc: true, page: 0, view: null, selected: -1 };
  var hay = null;

  var SORTS = {
    arn: function (p) { return p[ARN]; },
    type: function (p) { return p[TYPE]; },
    status: function (p) { return p[STATUS]; },
    granted: function (p) { return p[GRANTED]; },
    active: function (p) { return p[ACTIVE]; },
    stale: function (p) { return p[STALE]; },
    never_used: function (p) { return p[NEVER]; },
    change: function (p) { return [0, 2, 3, 1, 4][p[MARK]] || 0; },
    account: function (p) { return accountOf(p); },
    recommendations: function (p) { return recommendationsOf(p); }
  };

  /** The principals in table order: by the chosen column, else stale + never used first. */
  function ordered() {
    var idx = new Array(P.length);
    for (var i = 0; i < P.length; i++) idx[i] = i;
    var key = state.key;
    if (!key) {
      idx.sort(function (a, b) {
        var d = (P[b][STALE] + P[b][NEVER]) - (P[a][STALE] + P[a][NEVER]);
        if (d) return d;
        return P[a][ARN] < P[b][ARN] ? -1 : P[a][ARN] > P[b][ARN] ? 1 : 0;
      });
      return idx;
    }
    var f = SORTS[key];
    var vals = new Array(P.length);
    for (var j = 0; j < P.length; j++) vals[j] = f(P[j]);
    var sign = state.desc ? -1 : 1;
    idx.sort(function (a, b) {
      var x = vals[a], y = vals[b];
      if (x < y) return -sign;
      if (x > y) return sign;
      return P[a][ARN] < P[b][ARN] ? -1 : P[a][ARN] > P[b][ARN] ? 1 : 0;
    });
    return idx;
  }

  var order = null;
  function computeView() {
    if (!order) order = ordered();
    var q = state.filter.trim().toLowerCase();
    if (!q) {
      state.view = order;
      return;
    }
    if (!hay) {
      hay = new Array(P.length);
      for (var i = 0; i < P.length; i++) {
        hay[i] = (P[i][ARN] + '\u0000' + accountLabel(accountOf(P[i])) + '\u0000' + P[i][TYPE] + '\u0000' + P[i][STATUS]).toLowerCase();
      }
    }
    var out = [];
    for (var j = 0; j < order.length; j++) if (hay[order[j]].indexOf(q) >= 0) out.push(order[j]);
    state.view = out;
  }

  function pageCount() {
    return Math.max(1, Math.ceil(state.view.length / PAGE_SIZE));
  }

  function pageItems() {
    var start = state.page * PAGE_SIZE;
    return state.view.slice(start, start + PAGE_SIZE);
  }

  function renderPrincipals() {
    computeView();
    var pages = pageCount();
    if (state.page >= pages) state.page = pages - 1;
    if (state.page < 0) state.page = 0;
    var items = pageItems();
    var tbody = clear(document.querySelector('table#principals tbody'));
    var frag = document.createDocumentFragment();
    items.forEach(function (i) {
      var p = P[i];
      var mark = MARK_NAME[p[MARK]];
      var acct = accountOf(p);
      frag.appendChild(el('tr', { 'data-arn': p[ARN], 'data-account': acct, 'data-index': i, class: i === state.selected ? 'selected' : null }, [
        el('td', { class: 'arn', text: p[ARN] }),
        el('td', { class: 'mono account', text: accountLabel(acct) }),
        el('td', { text: p[TYPE] }),
        el('td', { class: p[STATUS] === 'COMPLETED' ? null : 'error', text: p[STATUS] }),
        el('td', { class: 'num', text: num(p[GRANTED]) }),
        el('td', { class: 'num', text: num(p[ACTIVE]) }),
        el('td', { class: 'num', text: num(p[STALE]) }),
        el('td', { class: 'num', text: num(p[NEVER]) }),
        el('td', null, [mark ? el('span', { class: 'mark mark-' + mark, text: mark }) : '']),
        RECS ? recommendationsCell(p) : null
      ]));
    });
    if (!items.length) {
      frag.appendChild(el('tr', null, [el('td', { colspan: RECS ? '10' : '9', class: 'muted', text: P.length ? 'No principal matches the filter.' : 'This run has no reports.' })]));
    }
    tbody.appendChild(frag);
    document.getElementById('principal-count').textContent = num(state.view.length) + ' of ' + num(P.length) + ' principals' +
      (state.key ? '' : ', most stale + never used first');
    renderPager(pages);
    renderHeatmap(items);
    markSorted('principals', state.key, state.desc);
  }

  function recommendationsCell(p) {
    var n = recommendationsOf(p);
    var held = withheld(p);
    return el('td', {
      class: 'num recommendations',
      title: held ? 'withheld (the detail says why)' : null,
      text: held && !n ? 'withheld' : num(n) + (held ? ' (some withheld)' : '')
    });
  }

  function renderPager(pages) {
    var box = clear(document.getElementById('principal-pager'));
    function button(cls, text, page, disabled) {
      var b = el('button', { type: 'button', class: cls, text: text });
      b.disabled = disabled;
      b.addEventListener('click', function () { state.page = page; renderPrincipals(); });
      return b;
    }
    append(box, [
      button('first', '« first', 0, state.page === 0),
      button('prev', '‹ prev', state.page - 1, state.page === 0),
      el('span', { class: 'page-info', text: 'page ' + (state.page + 1) + ' of ' + pages }),
      button('next', 'next ›', state.page + 1, state.page >= pages - 1),
      button('last', 'last »', pages - 1, state.page >= pages - 1)
    ]);
  }

  function markSorted(tableId, key, desc) {
    var ths = document.querySelectorAll('table#' + tableId + ' th[data-sort]');
    for (var i = 0; i < ths.length; i++) {
      var th = ths[i];
      th.classList.remove('sorted-asc', 'sorted-desc');
      if (th.getAttribute('data-sort') === key) th.classList.add(desc ? 'sorted-desc' : 'sorted-asc');
    }
  }

  function markSelected() {
    var rows = document.querySelectorAll('table#principals tbody tr[data-arn], #heatmap tr[data-arn]');
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      r.classList.toggle('selected', Number(r.getAttribute('data-index')) === state.selected);
    }
  }

  // ---- the heat map -----------------------------------------------------------------

  function renderLegend() {
    var box = clear(document.getElementById('legend'));
    function ramp(cls, from, to) {
      var r = el('span', { class: 'ramp' });
      r.style.background = 'linear-gradient(to right, ' + colour(cls, from) + ', ' + colour(cls, (from + to) / 2) + ', ' + colour(cls, to) + ')';
      return r;
    }
    var never = el('span', { class: 'sw' });
    never.style.background = 'var(--never)';
    var none = el('span', { class: 'sw' });
    none.style.background = '#fbfbfb';
    append(box, [
      el('span', { class: 'item' }, ['active: 0 days ', ramp('active', 0, Math.max(0, U - 1)), ' ' + Math.max(0, U - 1) + ' days']),
      el('span', { class: 'item' }, ['stale: ' + U + ' days ', ramp('stale', U, Math.max(U + 1, 400)), ' 400+ days']),
      el('span', { class: 'item' }, [never, ' never used']),
      el('span', { class: 'item' }, [none, ' not granted'])
    ]);
  }

  function renderHeatmap(items) {
    var box = clear(document.getElementById('heatmap'));
    if (!items.length) {
      box.appendChild(el('div', { class: 'note muted', text: 'No principal to show.' }));
      return;
    }
    // Columns: the services granted to the page's principals, most granted first.
    var seen = Object.create(null);
    var cols = [];
    var decoded = {};
    items.forEach(function (i) {
      var cells = decoded[i] = cellsOf(P[i]);
      for (var c = 0; c < cells.length; c++) {
        var s = cells[c].s;
        if (!seen[s]) { seen[s] = true; cols.push(s); }
      }
    });
    cols.sort(function (a, b) { return S[b][1] - S[a][1] || a - b; });
    var cut = cols.length > MAX_COLUMNS ? cols.length - MAX_COLUMNS : 0;
    if (cut) cols = cols.slice(0, MAX_COLUMNS);
    if (!cols.length) {
      box.appendChild(el('div', { class: 'note muted', text: 'No service is granted to the principals of this page.' }));
    }
    var table = el('table');
    var head = el('tr', null, [el('th')]);
    cols.forEach(function (s) { head.appendChild(el('th', { class: 'col', title: S[s][0], text: S[s][0] })); });
    table.appendChild(el('thead', null, [head]));
    var tbody = el('tbody');
    items.forEach(function (i) {
      var p = P[i];
      var arn = p[ARN];
      var byService = Object.create(null);
      var cells = decoded[i];
      for (var c = 0; c < cells.length; c++) byService[cells[c].s] = cells[c];
      var acct = accountOf(p);
      var tr = el('tr', { 'data-arn': arn, 'data-account': acct, 'data-index': i, class: i === state.selected ? 'selected' : null });
      tr.appendChild(el('th', { class: 'row', title: arn + ' (account ' + accountLabel(acct) + ')' }, [
        el('span', { class: 'acct', text: acct }), ' ' + shortName(arn)
      ]));
      for (var k = 0; k < cols.length; k++) {
        var s = cols[k];
        var ns = S[s][0];
        var cell = byService[s];
        var td = document.createElement('td');
        td.setAttribute('data-arn', arn);
        td.setAttribute('data-ns', ns);
        if (cell === undefined) {
          td.setAttribute('data-class', 'none');
          td.className = 'c-none';
          td.title = ns + ': not granted';
        } else {
          var cls = CLASSES[cell.c];
          td.setAttribute('data-class', cls);
          td.className = 'c-' + cls;
          if (cell.days !== null) td.setAttribute('data-days', String(cell.days));
          var bg = colour(cls, cell.days);
          if (bg) td.style.background = bg;
          td.title = ns + ': ' + LABEL[cls] + (cell.days !== null ? ', ' + cell.days + ' days' : '') + (cell.last ? ' (last use ' + cell.last + ')' : '');
        }
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    box.appendChild(table);
    if (cut) {
      box.appendChild(el('div', { class: 'note muted', text: num(cut) + ' less granted services not shown; a principal\'s detail lists all of its services.' }));
    }
  }

  // ---- the detail of a principal ----------------------------------------------------

  function renderDetail() {
    var box = clear(document.getElementById('detail'));
    var p = P[state.selected];
    if (!p) return;
    var x = p[EXTRA] || {};
    var mark = MARK_NAME[p[MARK]];
    box.setAttribute('data-arn', p[ARN]);
    box.appendChild(el('div', { class: 'mono', text: p[ARN] }));
    box.appendChild(el('div', { class: 'cards' }, [
      card('Account', accountLabel(accountOf(p))),
      card('Type', p[TYPE]),
      card('Status', p[STATUS], p[STATUS] === 'COMPLETED' ? null : 'error'),
      card('Granted', num(p[GRANTED])),
      card('Active', num(p[ACTIVE])),
      card('Stale', num(p[STALE])),
      card('Never used', num(p[NEVER])),
      card('Change', mark || (p[MARK] === 3 ? 'unchanged' : 'not compared')),
      RECS ? card('Recommendations', withheld(p) && !recommendationsOf(p) ? 'withheld' : num(recommendationsOf(p))) : null
    ]));
    if (x.id) box.appendChild(el('p', { class: 'muted', text: 'Deleted and re-created under its name since the previous run (its unique id is now ' + x.id + '): its history starts again.' }));
    if (x.e) box.appendChild(el('p', { class: 'error', text: (x.e.code || '') + ': ' + (x.e.message || '') }));
    if (x.ch) renderDetailChanges(box, x.ch);
    if (x.r && x.r.length) renderRecommendations(box, x.r);
    var rows = cellsOf(p).map(function (c) {
      return { at: c.n, ns: S[c.s][0], cls: c.c, days: c.days, last: c.last };
    });
    if (!rows.length) {
      box.appendChild(el('p', { class: 'muted', text: 'No service in this report.' }));
      return;
    }
    var rank = [2, 0, 1]; // stale, then never used, then active
    rows.sort(function (a, b) {
      return rank[a.cls] - rank[b.cls] || (b.days === null ? -1 : b.days) - (a.days === null ? -1 : a.days) || (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0);
    });
    box.appendChild(el('h4', { text: 'Services (' + rows.length + ')' }));
    var t = el('table', { class: 'data', id: 'detail-services' });
    t.appendChild(el('thead', null, [el('tr', null, [
      el('th', { text: 'Service' }), el('th', { text: 'Class' }), el('th', { class: 'num', text: 'Days' }),
      el('th', { text: 'Last use' }), el('th', { text: 'Granting policies' }), el('th', { text: 'Tracked actions' })
    ])]));
    var tb = el('tbody');
    var policies = policiesOf(p);
    var actions = x.x || {};
    rows.forEach(function (r) {
      var cls = CLASSES[r.cls];
      var pol = policies[r.at] || [];
      tb.appendChild(el('tr', { 'data-ns': r.ns, 'data-class': cls }, [
        el('td', { class: 'mono', text: r.ns }),
        el('td', null, [clsBadge(cls)]),
        el('td', { class: 'num', text: r.days === null ? '' : num(r.days) }),
        el('td', { class: 'mono', text: r.last || '' }),
        el('td', { class: 'wrap' }, [pol.length ? el('ul', { class: 'actions' }, pol.map(function (n) { return el('li', { text: n }); })) : '']),
        el('td', null, [actionsCell(actions[r.at])])
      ]));
    });
    t.appendChild(tb);
    box.appendChild(el('div', { class: 'table-wrap' }, [t]));
  }

  function actionsCell(flat) {
    if (!flat || !flat.length) return '';
    var counts = [0, 0, 0];
    var items = [];
    for (var i = 0; i < flat.length; i += 2) {
      counts[flat[i] % 3]++;
      var w = when(flat[i + 1]);
      items.push(el('li', null, [
        el('span', { class: 'mono', text: D.actions[(flat[i] / 3) | 0] }), ' ', clsBadge(CLASSES[flat[i] % 3]),
        w[1] ? ' ' + w[1] : ''
      ]));
    }
    var d = el('details');
    d.appendChild(el('summary', { text: (flat.length / 2) + ' tracked: ' + counts[0] + ' active, ' + counts[1] + ' stale, ' + counts[2] + ' never used' }));
    d.appendChild(el('ul', { class: 'actions' }, items));
    return d;
  }

  function renderDetailChanges(box, ch) {
    box.appendChild(el('h4', { text: 'Changes since ' + (ch.previous_run ? 'run ' + ch.previous_run.run_id : 'the previous run') }));
    var rows = [];
    [['newly_used', 'Newly used'], ['newly_stale', 'Newly stale'], ['newly_never_used', 'Newly never used'],
      ['granted_added', 'Granted added'], ['granted_removed', 'Granted removed']].forEach(function (k) {
      if (ch[k[0]] && ch[k[0]].length) rows.push([k[1] + ' (services)', ch[k[0]].join(', ')]);
      if (ch.actions && ch.actions[k[0]] && ch.actions[k[0]].length) rows.push([k[1] + ' (actions)', ch.actions[k[0]].join(', ')]);
    });
    box.appendChild(kvTable(rows));
  }

  function renderRecommendations(box, recs) {
    box.appendChild(el('h4', { text: 'Recommendations' }));
    box.appendChild(el('ul', { class: 'plain', id: 'recommendations' }, recs.map(function (r) {
      if (r === null || typeof r !== 'object') return el('li', { text: String(r) });
      return el('li', { text: Object.keys(r).map(function (k) {
        var v = r[k];
        return k + ': ' + (typeof v === 'object' ? JSON.stringify(v) : String(v));
      }).join('; ') });
    })));
  }

  // ---- accounts ---------------------------------------------------------------------

  function renderAccount() {
    var a = D.account;
    var box = document.getElementById('account');
    if (!a) { box.hidden = true; return; }
    box.appendChild(el('p', null, [
      el('a', { href: '../index.html', text: 'The run\'s overview' }),
      ' (every account; beside this page in the bucket: reports/runs/dt=' + (run.dt || '') + '/run=' + (run.run_id || '') + '/index.html)'
    ]));
    box.appendChild(kvTable([
      ['Account', a.id + (a.name ? ' (' + a.name + ')' : '')],
      ['OU path', a.ou_path],
      ['Status', a.status],
      ['Error', a.error || '', 'error'],
      ['Principals', num(a.principals) + ' planned, ' + num(a.reports_written) + ' reported'],
      ['JobId binding', a.job_binding || '']
    ]));
  }

  var acc = { filter: '', status: '', key: null, desc: false };

  var ACCOUNT_SORTS = {
    id: function (a) { return a.id; },
    name: function (a) { return (a.name || '').toLowerCase(); },
    ou_path: function (a) { return a.ou_path || ''; },
    status: function (a) { return a.status; },
    principals: function (a) { return a.principals || 0; },
    reports_written: function (a) { return a.reports_written || 0; },
    services_granted: function (a) { return a.services_granted || 0; },
    services_unused: function (a) { return a.services_unused || 0; }
  };

  /** The overview's accounts in table order: the chosen column, else those not fully
   * read first (UNREACHABLE, INCOMPLETE), then as the summary lists them. */
  function accountsInOrder() {
    var list = D.accounts;
    var idx = list.map(function (_, i) { return i; });
    var rank = { UNREACHABLE: 0, INCOMPLETE: 1 };
    var f = acc.key ? ACCOUNT_SORTS[acc.key] : function (a) { return a.status in rank ? rank[a.status] : 2; };
    var vals = list.map(f);
    var sign = acc.key && acc.desc ? -1 : 1;
    idx.sort(function (a, b) {
      var x = vals[a], y = vals[b];
      if (x < y) return -sign;
      if (x > y) return sign;
      return a - b;
    });
    return idx;
  }

  function renderAccounts() {
    var section = document.getElementById('accounts-section');
    var list = D.accounts;
    if (!list) { section.hidden = true; return; }
    document.getElementById('principals-section').hidden = true;
    var q = acc.filter.trim().toLowerCase();
    var tbody = clear(document.querySelector('table#accounts tbody'));
    var frag = document.createDocumentFragment();
    var shown = 0;
    accountsInOrder().forEach(function (i) {
      var a = list[i];
      if (acc.status && a.status !== acc.status) return;
      if (q && [a.id, a.name, a.ou_path, a.error].join('\u0000').toLowerCase().indexOf(q) < 0) return;
      shown++;
      var read = a.status !== 'UNREACHABLE';
      var id = read
        ? el('a', { href: 'accounts/' + a.id + '.html', title: 'ila open ' + run.run_id + ' --account ' + a.id, text: a.id })
        : el('span', { text: a.id });
      frag.appendChild(el('tr', { 'data-account': a.id, 'data-status': a.status }, [
        el('td', { class: 'mono' }, [id]),
        el('td', { text: a.name || '' }),
        el('td', { class: 'mono', text: a.ou_path || '' }),
        el('td', { class: 'status-' + a.status, text: a.status }),
        el('td', { class: 'num', text: num(a.principals) }),
        el('td', { class: 'num', text: num(a.reports_written) }),
        el('td', { class: 'num', text: num(a.services_granted) }),
        el('td', { class: 'num', text: num(a.services_unused) }),
        el('td', { class: 'error wrap', text: a.error || '' })
      ]));
    });
    if (!shown) frag.appendChild(el('tr', null, [el('td', { colspan: '9', class: 'muted', text: list.length ? 'No account matches the filter.' : 'This run has no account.' })]));
    tbody.appendChild(frag);
    document.getElementById('account-count').textContent = num(shown) + ' of ' + num(list.length) + ' accounts' +
      (acc.key ? '' : ', those not fully read first');
    markSorted('accounts', acc.key, acc.desc);
  }

  /** The overview's account controls: the status choices (with their counts), the
   * filter, the sortable columns. */
  function wireAccounts() {
    if (!D.accounts) return;
    document.getElementById('accounts-note').textContent = 'Each account read has its own page (accounts/ID.html beside this one; ila open ' + run.run_id + ' --account ID). An unreachable account has none: its error says why.';
    var select = document.getElementById('account-status');
    var n = {};
    D.accounts.forEach(function (a) { n[a.status] = (n[a.status] || 0) + 1; });
    ['SUCCEEDED', 'INCOMPLETE', 'UNREACHABLE'].forEach(function (st) {
      if (n[st]) select.appendChild(el('option', { value: st, text: st + ' (' + num(n[st]) + ')' }));
    });
    select.addEventListener('change', function () { acc.status = select.value; renderAccounts(); });
    var input = document.getElementById('account-filter');
    input.addEventListener('input', function () { acc.filter = input.value; renderAccounts(); });
    var ths = document.querySelectorAll('table#accounts th[data-sort]');
    for (var i = 0; i < ths.length; i++) {
      ths[i].addEventListener('click', function (ev) {
        var key = ev.currentTarget.getAttribute('data-sort');
        if (acc.key === key) acc.desc = !acc.desc;
        else { acc.key = key; acc.desc = !(key === 'id' || key === 'name' || key === 'ou_path' || key === 'status'); }
        renderAccounts();
      });
    }
  }

  function renderShown() {
    var sh = D.shown;
    var box = document.getElementById('shown');
    if (!sh || sh.principals >= sh.of) { box.hidden = true; return; }
    box.textContent = 'This page keeps ' + num(sh.principals) + ' of ' + num(sh.of) + ' principals: those with the most stale and never-used services that fit its size. Every principal\'s outcome is in ' + sh.index_key + ', and each one\'s report under ' + (run.reports_prefix || 'the run\'s reports') + '.';
  }

  // ---- services ---------------------------------------------------------------------

  var svc = { filter: '', key: 'granted', desc: true };

  function renderServices() {
    var q = svc.filter.trim().toLowerCase();
    var col = { ns: 0, granted: 1, active: 2, stale: 3, never_used: 4 }[svc.key] || 1;
    var rows = [];
    for (var i = 0; i < S.length; i++) if (!q || S[i][0].toLowerCase().indexOf(q) >= 0) rows.push(S[i]);
    var sign = svc.desc ? -1 : 1;
    rows.sort(function (a, b) {
      var x = a[col], y = b[col];
      if (x < y) return -sign;
      if (x > y) return sign;
      return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
    });
    var tbody = clear(document.querySelector('table#services tbody'));
    var frag = document.createDocumentFragment();
    rows.forEach(function (s) {
      var bar = el('span', { class: 'bar', title: s[2] + ' active, ' + s[3] + ' stale, ' + s[4] + ' never used' });
      for (var k = 0; k < 3; k++) {
        var part = el('span', { class: 'b-' + CLASSES[k] });
        part.style.width = (s[1] ? (100 * s[2 + k] / s[1]) : 0).toFixed(2) + '%';
        bar.appendChild(part);
      }
      frag.appendChild(el('tr', { 'data-ns': s[0] }, [
        el('td', { class: 'mono', text: s[0] }),
        el('td', { class: 'num', text: num(s[1]) }),
        el('td', { class: 'num', text: num(s[2]) }),
        el('td', { class: 'num', text: num(s[3]) }),
        el('td', { class: 'num', text: num(s[4]) }),
        el('td', null, [bar])
      ]));
    });
    if (!rows.length) frag.appendChild(el('tr', null, [el('td', { colspan: '6', class: 'muted', text: S.length ? 'No service matches the filter.' : 'No service granted in this run.' })]));
    tbody.appendChild(frag);
    document.getElementById('service-count').textContent = num(rows.length) + ' of ' + num(S.length) + ' services';
    markSorted('services', svc.key, svc.desc);
  }

  // ---- wiring -----------------------------------------------------------------------

  function wire() {
    var pf = document.getElementById('principal-filter');
    pf.addEventListener('input', function () {
      state.filter = pf.value;
      state.page = 0;
      renderPrincipals();
    });
    var sf = document.getElementById('service-filter');
    sf.addEventListener('input', function () {
      svc.filter = sf.value;
      renderServices();
    });
    var pths = document.querySelectorAll('table#principals th[data-sort]');
    for (var i = 0; i < pths.length; i++) {
      pths[i].addEventListener('click', function (ev) {
        var key = ev.currentTarget.getAttribute('data-sort');
        if (state.key === key) state.desc = !state.desc;
        else { state.key = key; state.desc = !(key === 'arn' || key === 'type' || key === 'status' || key === 'account'); }
        order = null;
        state.page = 0;
        renderPrincipals();
      });
    }
    var sths = document.querySelectorAll('table#services th[data-sort]');
    for (var j = 0; j < sths.length; j++) {
      sths[j].addEventListener('click', function (ev) {
        var key = ev.currentTarget.getAttribute('data-sort');
        if (svc.key === key) svc.desc = !svc.desc;
        else { svc.key = key; svc.desc = key !== 'ns'; }
        renderServices();
      });
    }
    function onRowClick(ev) {
      var tr = ev.target.closest ? ev.target.closest('tr[data-arn]') : null;
      if (!tr) return;
      state.selected = Number(tr.getAttribute('data-index'));
      renderDetail();
      markSelected();
    }
    document.querySelector('table#principals tbody').addEventListener('click', onRowClick);
    document.getElementById('heatmap').addEventListener('click', onRowClick);
  }

  function start() {
    document.querySelector('table#principals th[data-sort="recommendations"]').hidden = !RECS;
    renderAccount();
    wireAccounts();
    renderAccounts();
    renderShown();
    renderTotals();
    renderChanges();
    renderLegend();
    renderPrincipals();
    renderServices();
    wire();
    window.ILA_FIRST_RENDER_MS = performance.now();
    document.body.dataset.ready = '1';
  }

  try {
    start();
  } catch (e) {
    var box = document.createElement('pre');
    box.className = 'error';
    box.textContent = 'The page failed to render: ' + (e && e.stack ? e.stack : e);
    document.body.insertBefore(box, document.body.firstChild);
    throw e;
  }
})();
