import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ini from 'ini';
import {
  parseIni,
  writeIni,
  cloneDoc,
  getParam,
  setParam,
  deleteParam,
  findTable,
  getTableRows,
  getTableRow,
  upsertTableRow,
  deleteTableRow,
  ensureTable,
  IniError,
} from './ini-doc.ts';
import type { IniDoc, ParamItem, TableItem } from './ini-doc.ts';

const sample = readFileSync(new URL('./fixtures/MP124_6.60A_export.ini', import.meta.url), 'utf8');

function params(doc: IniDoc): ParamItem[] {
  return doc.items.filter((i): i is ParamItem => i.kind === 'param');
}
function tables(doc: IniDoc): TableItem[] {
  return doc.items.filter((i): i is TableItem => i.kind === 'table');
}
function iniError(fn: () => unknown, code: string, line?: number): IniError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof IniError, `expected IniError, got ${String(e)}`);
    assert.equal(e.reason, code, e.message);
    if (line !== undefined) {
      assert.equal(e.line, line, e.message);
      assert.match(e.message, new RegExp(`line ${line}\\b`));
    }
    return e;
  }
  assert.fail('expected an IniError');
}

test('sample export: write(parse(x)) is x with CRLF line ends', () => {
  const out = writeIni(parseIni(sample));
  assert.equal(out.replace(/\r\n/g, '\n'), sample);
  assert.ok(out.endsWith('\r\n'));
  assert.doesNotMatch(out, /[^\r]\n/);
});

test('sample export: parse(write(parse(x))) equals parse(x), every parameter and row kept', () => {
  const doc = parseIni(sample);
  assert.deepEqual(parseIni(writeIni(doc)), doc);
  assert.equal(params(doc).length, (sample.match(/^\w+ = /gm) ?? []).length);
  assert.equal(params(doc).length, 42);
  assert.deepEqual(
    tables(doc).map((t) => t.name),
    [
      'DspTemplates',
      'PREFIX',
      'TrunkGroup',
      'PstnPrefix',
      'AltRouteCauseTel2Ip',
      'ProxyIp',
      'TxDtmfOption',
      'TrunkGroupSettings',
      'ProxySet',
      'IPGroup',
      'CodersGroup0',
      'RoutingRuleGroups',
      'ResourcePriorityNetworkDomains',
    ],
  );
  const rowCount = tables(doc).reduce((n, t) => n + t.body.filter((l) => l.kind === 'row').length, 0);
  assert.equal(rowCount, (sample.match(/^\w+ \d+ = .*;$/gm) ?? []).length);
  assert.equal(getTableRows(doc, 'TrunkGroup').length, 24);
  assert.deepEqual(
    getTableRows(doc, 'ResourcePriorityNetworkDomains').map((r) => r.index),
    [1, 2, 3, 5, 7],
  );
  assert.deepEqual(getTableRow(doc, 'ProxyIp', 0)?.values, [
    { kind: 'string', value: 'sip.carrier.com.au:5060' },
    { kind: 'bare', value: '0' },
    { kind: 'bare', value: '1' },
  ]);
  // Comments that matter: hidden-parameter notes and the hidden-table placeholder.
  const comments = doc.items.filter((i) => i.kind === 'comment').map((i) => (i as { text: string }).text);
  assert.ok(comments.includes(';VpFileLastUpdateTime is hidden but has non-default value'));
  assert.ok(findTable(doc, 'DspTemplates')!.body.some((l) => l.kind === 'comment' && l.text.includes('hidden elements')));
});

test('the ini package, read independently, sees the same scalar parameters', () => {
  const doc = parseIni(sample);
  const seen = new Map(params(doc).map((p) => [p.name, p.value.value]));
  const decoded = ini.decode(sample) as Record<string, Record<string, unknown>>;
  let n = 0;
  for (const [section, body] of Object.entries(decoded)) {
    if (!/ Params$/.test(section)) continue;
    for (const [k, v] of Object.entries(body)) {
      n++;
      assert.equal(seen.get(k), String(v), k);
    }
  }
  assert.equal(n, seen.size);
});

test('values keep their kind: quoted digits stay strings, bare IPs and lists stay bare', () => {
  const doc = parseIni(sample);
  assert.deepEqual(getParam(doc, 'LogoWidth'), { kind: 'string', value: '208' });
  assert.deepEqual(getParam(doc, 'dnspriserverip'), { kind: 'bare', value: '172.16.0.10' });
  assert.match(getParam(doc, 'RoutingTableHopsCountColumn')!.value, /^0(, 0){24}$/);
  assert.deepEqual(getTableRow(doc, 'PREFIX', 0)!.values.slice(0, 2), [
    { kind: 'string', value: '*' },
    { kind: 'string', value: '' },
  ]);
});

test('CR, LF and CRLF input parse alike; a BOM is dropped', () => {
  const lf = '[SYSTEM Params]\nA = 1\n[ T ]\nFORMAT T_Index = T_X;\nT 0 = "a, b;c";\n[ \\T ]\n';
  const doc = parseIni(lf);
  assert.deepEqual(parseIni(lf.replace(/\n/g, '\r\n')), doc);
  assert.deepEqual(parseIni(lf.replace(/\n/g, '\r')), doc);
  assert.deepEqual(parseIni('\uFEFF' + lf), doc);
  assert.deepEqual(getTableRow(doc, 't', 0)!.values, [{ kind: 'string', value: 'a, b;c' }]);
});

test('empty fields, spaced table end, spaces around = are accepted', () => {
  const doc = parseIni('[ T ]\r\nFORMAT T_Index = T_A, T_B, T_C;\r\nT 3=1, ,"";\r\n[\\T]\r\nX=\'y\'\r\n');
  assert.deepEqual(getTableRow(doc, 'T', 3)!.values, [
    { kind: 'bare', value: '1' },
    { kind: 'bare', value: '' },
    { kind: 'string', value: '' },
  ]);
  assert.equal(writeIni(doc), '[ T ]\r\nFORMAT T_Index = T_A, T_B, T_C;\r\nT 3 = 1, , "";\r\n[ \\T ]\r\nX = \'y\'\r\n');
});

test('get/set/delete scalars: case-insensitive, spelling kept, new ones at the end of [SYSTEM Params]', () => {
  const doc = parseIni(sample);
  setParam(doc, 'enablesyslog', 0);
  setParam(doc, 'IniFileURL', 'http://aps/audiocodes/<MAC>.ini');
  const text = writeIni(doc);
  assert.match(text, /\r\nEnableSyslog = 0\r\n/);
  assert.match(
    text,
    /NTPServerIP = 'dc1\.ucmadscientist\.com'\r\nIniFileURL = 'http:\/\/aps\/audiocodes\/<MAC>\.ini'\r\n\r\n\[BSP Params\]/,
  );
  // A string over a bare value stays bare (the export shows the device writes that parameter bare).
  setParam(doc, 'DNSPriServerIP', '10.1.1.1');
  setParam(doc, 'SIPGATEWAYNAME', '10.2.2.2');
  assert.match(writeIni(doc), /\r\nDNSPriServerIP = 10\.1\.1\.1\r\n[^]*\r\nSIPGATEWAYNAME = '10\.2\.2\.2'\r\n/);
  setParam(doc, 'DNSPriServerIP', '172.16.0.10');
  setParam(doc, 'SIPGATEWAYNAME', '172.16.2.1');
  assert.equal(deleteParam(doc, 'INIFILEURL'), true);
  assert.equal(deleteParam(doc, 'IniFileURL'), false);
  assert.equal(getParam(doc, 'IniFileURL'), undefined);
  assert.equal(writeIni(doc), text.replace("IniFileURL = 'http://aps/audiocodes/<MAC>.ini'\r\n", ''));
});

test('setParam placement without [SYSTEM Params]: first section, else before tables, else the end', () => {
  const a = parseIni('[Voice Params]\r\n\r\n[SIP Params]\r\nB = 2\r\n');
  setParam(a, 'A', 1);
  assert.equal(writeIni(a), '[Voice Params]\r\n\r\nA = 1\r\n[SIP Params]\r\nB = 2\r\n');
  const b = parseIni(';c\r\n[ T ]\r\n[ \\T ]\r\n');
  setParam(b, 'A', 1);
  assert.equal(writeIni(b), ';c\r\nA = 1\r\n[ T ]\r\n[ \\T ]\r\n');
  const c = parseIni('');
  setParam(c, 'A', 'x');
  assert.equal(writeIni(c), "A = 'x'\r\n");
});

test('table rows: upsert by position or column, in index order; ensureTable creates and fills placeholders', () => {
  const doc = parseIni(sample);
  upsertTableRow(doc, 'proxyip', 0, { IpAddress: 'sbc.example.net:5061', ProxyIp_TransportType: 2 });
  upsertTableRow(doc, 'ResourcePriorityNetworkDomains', 4, ['new', 1]);
  upsertTableRow(doc, 'ResourcePriorityNetworkDomains', 9, ['last', 0]);
  assert.deepEqual(
    getTableRows(doc, 'ResourcePriorityNetworkDomains').map((r) => r.index),
    [1, 2, 3, 4, 5, 7, 9],
  );
  const text = writeIni(doc);
  assert.match(text, /\r\nProxyIp 0 = "sbc\.example\.net:5061", 2, 1;\r\n/);
  assert.match(text, /ResourcePriorityNetworkDomains 3 = "drsn", 0;\r\nResourcePriorityNetworkDomains 4 = "new", 1;\r\n/);
  assert.equal(deleteTableRow(doc, 'ResourcePriorityNetworkDomains', 9), true);
  assert.equal(deleteTableRow(doc, 'ResourcePriorityNetworkDomains', 9), false);

  ensureTable(doc, 'DspTemplates', ['DspName', 'IsNarrowBand']);
  upsertTableRow(doc, 'DspTemplates', 0, ['x', 1]);
  const t = ensureTable(doc, 'Account', ['ServedTrunkGroup', 'HostName']);
  assert.equal(ensureTable(doc, 'ACCOUNT', ['Account_ServedTrunkGroup', 'hostname']), t);
  upsertTableRow(doc, 'Account', 0, [1, 'reg.example.net']);
  const again = writeIni(doc);
  assert.deepEqual(parseIni(again), doc);
  assert.match(
    again,
    /\[ DspTemplates \]\r\n(;.*\r\n|\r\n)*FORMAT DspTemplates_Index = DspTemplates_DspName, DspTemplates_IsNarrowBand;\r\nDspTemplates 0 = "x", 1;\r\n/,
  );
  assert.ok(
    again.endsWith(
      '[ Account ]\r\n\r\nFORMAT Account_Index = Account_ServedTrunkGroup, Account_HostName;\r\nAccount 0 = 1, "reg.example.net";\r\n\r\n[ \\Account ]\r\n\r\n',
    ),
  );
});

test('edits refuse what the file cannot hold, without echoing the value', () => {
  const doc = parseIni(sample);
  const e = iniError(() => setParam(doc, 'AUPDDigestPassword', "s3cr'et"), 'bad-value');
  assert.doesNotMatch(e.message, /s3cr/);
  assert.match(e.message, /AUPDDigestPassword/);
  iniError(() => setParam(doc, 'A', 'two\nlines'), 'bad-value');
  iniError(() => setParam(doc, 'bad name', 1), 'bad-value');
  iniError(() => setParam(doc, 'A', Number.NaN), 'bad-value');
  iniError(() => upsertTableRow(doc, 'ProxyIp', 1, ['a"b', 0, 1]), 'bad-value');
  iniError(() => upsertTableRow(doc, 'ProxyIp', 1, [{ kind: 'bare', value: 'a,b' }, 0, 1]), 'bad-value');
  iniError(() => upsertTableRow(doc, 'ProxyIp', 1, ['a', 0]), 'bad-value');
  iniError(() => upsertTableRow(doc, 'ProxyIp', 1, { IpAddress: 'a' }), 'bad-value');
  iniError(() => upsertTableRow(doc, 'ProxyIp', 1, { Nope: 1 }), 'bad-value');
  iniError(() => upsertTableRow(doc, 'NoSuch', 0, [1]), 'no-table');
  iniError(() => upsertTableRow(doc, 'DspTemplates', 0, [1]), 'no-table');
  iniError(() => ensureTable(doc, 'ProxyIp', ['IpAddress']), 'bad-value');
  assert.deepEqual(doc, parseIni(sample), 'a refused edit changes nothing');
});

test('bad input gives a typed error with the line number', () => {
  iniError(() => parseIni('A = 1\r\nthis is garbage\r\n'), 'syntax', 2);
  iniError(() => parseIni('[ T ]\nFORMAT T_Index = T_A;\nT 0 = 1;\n'), 'unterminated-table', 1);
  iniError(() => parseIni('[ T ]\nFORMAT T_Index = T_A;\n[SIP Params]\n'), 'unterminated-table', 3);
  iniError(() => parseIni('[ T ]\nFORMAT T_Index = T_A;\nT 0 = 1;\nT 0 = 2;\n[ \\T ]\n'), 'duplicate-row', 4);
  iniError(() => parseIni('A = 1\n\na = 2\n'), 'duplicate-param', 3);
  iniError(() => parseIni('[ T ]\n[ \\T ]\n[ t ]\n[ \\t ]\n'), 'duplicate-table', 3);
  iniError(() => parseIni('[ T ]\nT 0 = 1;\n[ \\T ]\n'), 'bad-row', 2);
  iniError(() => parseIni('[ T ]\nFORMAT T_Index = T_A;\nT 0 = 1, 2;\n[ \\T ]\n'), 'bad-row', 3);
  iniError(() => parseIni('[ T ]\nFORMAT T_Index = T_A;\nT 0 = 1\n[ \\T ]\n'), 'bad-row', 3);
  iniError(() => parseIni('[ T ]\nFORMAT T_Index = T_A;\nU 0 = 1;\n[ \\T ]\n'), 'bad-row', 3);
  iniError(() => parseIni('[ T ]\nFORMAT T_Index = T_A;\nT 0 = "open;\n[ \\T ]\n'), 'bad-row', 3);
  iniError(() => parseIni('[ T ]\nFORMAT T_Index = T_A;\nT 0 = "a" b;\n[ \\T ]\n'), 'bad-row', 3);
  iniError(() => parseIni('[ T ]\nFORMAT T_Index = T_A;\nFORMAT T_Index = T_A;\n[ \\T ]\n'), 'syntax', 3);
  iniError(() => parseIni('[ T ]\nA = 1\n[ \\T ]\n'), 'syntax', 2);
  iniError(() => parseIni('A = 1\n[ \\T ]\n'), 'unexpected-table-end', 2);
  iniError(() => parseIni("A = 'open\n"), 'syntax', 1);
  iniError(() => parseIni('[ bad name! ]\n'), 'syntax', 1);
});

test('arbitrary junk never crashes the parser: it parses or throws IniError', () => {
  const pieces = ['[', ']', '\\', '=', ';', ',', '"', "'", ' ', 'A', '0', 'FORMAT', 'T', '_Index', '\n', '\r\n', 'Params'];
  let seed = 12345;
  const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
  let parsed = 0;
  for (let n = 0; n < 2000; n++) {
    let s = '';
    for (let k = next() % 40; k > 0; k--) s += pieces[next() % pieces.length];
    try {
      const doc = parseIni(s);
      assert.deepEqual(parseIni(writeIni(doc)), doc);
      parsed++;
    } catch (e) {
      assert.ok(e instanceof IniError, `${JSON.stringify(s)}: ${String(e)}`);
    }
  }
  assert.ok(parsed > 0);
});

test('cloneDoc gives an independent copy', () => {
  const doc = parseIni(sample);
  const copy = cloneDoc(doc);
  setParam(copy, 'EnableSyslog', 0);
  assert.deepEqual(getParam(doc, 'EnableSyslog'), { kind: 'bare', value: '1' });
});
