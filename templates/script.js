// iam-auditor report: filters, search, sortable columns and the by-account view.
// Inline, allowed by its hash in the page's Content-Security-Policy; nothing remote. The page
// reads whole without it: it only hides, reorders or regroups rows that are already there.
(function () {
  'use strict';
  var doc = document;
  var RANK = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };
  doc.documentElement.classList.add('js');

  function all(selector, root) {
    return Array.prototype.slice.call((root || doc).querySelectorAll(selector));
  }
  function text(node) {
    return (node.textContent || '').replace(/\s+/g, ' ').trim();
  }

  // ---- Sortable columns: click a header; click again to reverse.
  function sortKey(cell) {
    if (!cell) return '';
    var key = cell.getAttribute('data-sort');
    return key !== null ? key : text(cell);
  }
  function compare(a, b) {
    var x = parseFloat(String(a).replace(/,/g, ''));
    var y = parseFloat(String(b).replace(/,/g, ''));
    var numeric = /^-?[\d,.]+$/;
    if (numeric.test(a) && numeric.test(b) && !isNaN(x) && !isNaN(y)) return x - y;
    return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
  }
  function makeSortable(table) {
    var head = table.tHead;
    var body = table.tBodies[0];
    if (!head || !body || head.rows.length !== 1) return;
    all('th', head.rows[0]).forEach(function (th, column) {
      th.setAttribute('data-sortable', '');
      th.setAttribute('tabindex', '0');
      th.setAttribute('title', 'Sort by this column');
      function sort() {
        var descending = th.getAttribute('aria-sort') === 'ascending';
        all('th', head.rows[0]).forEach(function (other) { other.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
        var rows = all('tr', body).filter(function (row) { return !row.classList.contains('grp'); });
        rows.sort(function (r1, r2) {
          var order = compare(sortKey(r1.cells[column]), sortKey(r2.cells[column]));
          return descending ? -order : order;
        });
        all('tr.grp', body).forEach(function (row) { row.remove(); });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (event) {
        if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); sort(); }
      });
    });
  }
  all('table.data, table.findings').forEach(makeSortable);

  // ---- Filters: account, check, severity, new/persisting/suppressed, text.
  var bar = doc.getElementById('filters');
  if (!bar) return;
  var rows = all('tr[data-sev]');
  if (rows.length === 0) return;
  bar.hidden = false;
  var pick = {
    account: doc.getElementById('f-account'),
    check: doc.getElementById('f-check'),
    sev: doc.getElementById('f-sev'),
    change: doc.getElementById('f-change'),
    text: doc.getElementById('f-text'),
    group: doc.getElementById('f-group')
  };
  var count = doc.getElementById('f-count');

  function fill(select, values) {
    if (!select) return;
    Object.keys(values).sort().forEach(function (value) {
      var option = doc.createElement('option');
      option.value = value;
      option.textContent = values[value] ? value + ' ' + values[value] : value;
      select.appendChild(option);
    });
  }
  var accounts = {};
  var checks = {};
  rows.forEach(function (row) {
    accounts[row.getAttribute('data-account')] = row.getAttribute('data-account-name') || '';
    checks[row.getAttribute('data-check')] = '';
  });
  fill(pick.account, accounts);
  fill(pick.check, checks);
  if (pick.account && Object.keys(accounts).length < 2) pick.account.parentNode.hidden = true;
  if (pick.group && Object.keys(accounts).length < 2) pick.group.parentNode.hidden = true;

  // The reverse grouping: every finding row shown here, by account, then check.
  var byAccount = null;
  function buildByAccount() {
    var view = doc.createElement('section');
    view.id = 'by-account-view';
    var heading = doc.createElement('h2');
    heading.textContent = 'Findings on this page, by account';
    view.appendChild(heading);
    var groups = {};
    all('section.family tr[data-sev]').forEach(function (row) {
      var account = row.getAttribute('data-account');
      (groups[account] = groups[account] || []).push(row);
    });
    Object.keys(groups).sort().forEach(function (account) {
      var title = doc.createElement('h3');
      var link = doc.createElement('a');
      link.href = 'accounts/' + account + '.html';
      link.textContent = account + ' ' + (accounts[account] || '');
      title.appendChild(link);
      view.appendChild(title);
      var table = doc.createElement('table');
      table.className = 'findings';
      var head = table.createTHead().insertRow();
      ['Check', 'Severity', 'Account', 'Resource', 'Finding', 'Evidence', 'First seen'].forEach(function (name) {
        var th = doc.createElement('th');
        th.textContent = name;
        head.appendChild(th);
      });
      var body = table.createTBody();
      groups[account].sort(function (a, b) {
        return compare(a.getAttribute('data-check'), b.getAttribute('data-check')) ||
          RANK[b.getAttribute('data-sev')] - RANK[a.getAttribute('data-sev')];
      }).forEach(function (row) {
        var copy = row.cloneNode(true);
        var cell = copy.insertCell(0);
        cell.className = 'mono cid';
        cell.textContent = row.getAttribute('data-check');
        body.appendChild(copy);
      });
      view.appendChild(table);
      makeSortable(table);
    });
    var first = doc.querySelector('section.family');
    first.parentNode.insertBefore(view, first);
    return view;
  }

  function apply() {
    var account = pick.account ? pick.account.value : '';
    var check = pick.check ? pick.check.value : '';
    var sev = pick.sev ? RANK[pick.sev.value] || 0 : 0;
    var change = pick.change ? pick.change.value : '';
    var needle = pick.text ? pick.text.value.trim().toLowerCase() : '';
    var grouped = pick.group && pick.group.value === 'account';
    if (grouped && !byAccount) byAccount = buildByAccount();
    if (byAccount) byAccount.hidden = !grouped;
    all('section.family').forEach(function (section) { section.hidden = grouped; });
    var active = account || check || sev || change || needle;
    var shown = 0;
    var total = 0;
    all('tr[data-sev]').forEach(function (row) {
      var visibleView = !row.parentNode.closest('[hidden]');
      var ok = (!account || row.getAttribute('data-account') === account) &&
        (!check || row.getAttribute('data-check') === check) &&
        (!sev || RANK[row.getAttribute('data-sev')] >= sev) &&
        (!change || row.getAttribute('data-change') === change) &&
        (!needle || (row.__text || (row.__text = text(row).toLowerCase())).indexOf(needle) >= 0);
      row.hidden = !ok;
      if (visibleView) {
        total += 1;
        if (ok) shown += 1;
      }
    });
    all('table.findings, table.data').forEach(function (table) {
      var body = table.tBodies[0];
      if (!body || !body.querySelector('tr[data-sev]')) return;
      var rowsHere = all('tr[data-sev]', body);
      var visible = rowsHere.filter(function (row) { return !row.hidden; }).length;
      var note = table.__note;
      if (!note) {
        note = table.__note = doc.createElement('p');
        note.className = 'shown-note';
        table.parentNode.insertBefore(note, table);
      }
      note.textContent = active ? visible + ' of ' + rowsHere.length + ' rows match the filter' : '';
      var article = table.closest('article.check');
      if (article) article.hidden = active && visible === 0;
    });
    if (count) {
      count.textContent = active
        ? shown + ' of ' + total + ' finding rows on this page match'
        : total + ' finding rows on this page';
    }
  }
  Object.keys(pick).forEach(function (name) {
    if (pick[name]) pick[name].addEventListener(name === 'text' ? 'input' : 'change', apply);
  });
  apply();
})();
