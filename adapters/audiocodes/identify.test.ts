import { test } from 'node:test';
import assert from 'node:assert/strict';
import { macFromFileName, parseAudioCodesUserAgent } from './identify.ts';

test('parses the default AudioCodes User-Agent', () => {
  assert.deepEqual(parseAudioCodesUserAgent('Mozilla/4.0 (compatible; AudioCodes; MP-124;6.60A.349.001;00908F1DD0D3;17)'), {
    product: 'MP-124',
    version: '6.60A.349.001',
    mac: '00908f1dd0d3',
    conf: '17',
  });
});

test('a User-Agent longer than a gateway sends (not memoised) parses the same at every call', () => {
  const ua = `Mozilla/4.0 (compatible; AudioCodes; MP-124;6.60A.349.001;00908F1DD0D3;17) ${'x'.repeat(300)}`;
  const want = { product: 'MP-124', version: '6.60A.349.001', mac: '00908f1dd0d3', conf: '17' };
  assert.deepEqual(parseAudioCodesUserAgent(ua), want);
  assert.deepEqual(parseAudioCodesUserAgent(ua), want);
});

test('tolerates spaces, odd case and missing fields', () => {
  assert.deepEqual(parseAudioCodesUserAgent('Mozilla/4.0 (compatible;audiocodes ; Mediant 1000 ; 7.20A.258.009 ; 00:90:8f:1d:d0:d3 )'), {
    product: 'Mediant 1000',
    version: '7.20A.258.009',
    mac: '00908f1dd0d3',
    conf: null,
  });
  assert.deepEqual(parseAudioCodesUserAgent('Mozilla/4.0 (compatible; AudioCodes; MP-112;;;)'), {
    product: 'MP-112',
    version: null,
    mac: null,
    conf: null,
  });
  assert.deepEqual(parseAudioCodesUserAgent('Mozilla/4.0 (compatible; AudioCodes)'), {
    product: null,
    version: null,
    mac: null,
    conf: null,
  });
  // A MAC field that is not a MAC is reported as null rather than guessed.
  assert.equal(parseAudioCodesUserAgent('Mozilla/4.0 (compatible; AudioCodes; MP-124;6.6;nomac;1)')!.mac, null);
});

test('anything else is not AudioCodes', () => {
  assert.equal(parseAudioCodesUserAgent(undefined), null);
  assert.equal(parseAudioCodesUserAgent(''), null);
  assert.equal(parseAudioCodesUserAgent('curl/8.5.0'), null);
  assert.equal(parseAudioCodesUserAgent('Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0'), null);
  // A custom AupdHttpUserAgent (protocols.md §(a) example) carries no AudioCodes marker.
  assert.equal(parseAudioCodesUserAgent('MyWorld-Mediant;7.00.200.001(00908F1DD0D3)'), null);
  assert.equal(parseAudioCodesUserAgent('Mozilla/4.0 (compatible; AudioCodesX; MP-124)'), null);
});

test('macFromFileName accepts the usual spellings and file names', () => {
  for (const s of [
    '00908F1DD0D3',
    '00908f1dd0d3',
    '00:90:8F:1D:D0:D3',
    '00-90-8f-1d-d0-d3',
    '00.90.8f.1d.d0.d3',
    '0090.8f1d.d0d3',
    '0090-8F1D-D0D3',
    'cfg_00908F1DD0D3.ini',
    '00908f1dd0d3.ini',
    'mp124/00908F1DD0D3',
    '0090.8f1d.d0d3.cfg',
    ' 00:90:8f:1d:d0:d3 ',
    '00_90_8f_1d_d0_d3',
    'cfg_00_90_8F_1D_D0_D3.ini',
    'device_00_90_8f_1d_d0_d3.ini',
    '00_90_8f_1d_d0_d3_v2.ini',
  ]) {
    assert.equal(macFromFileName(s), '00908f1dd0d3', s);
  }
});

test('macFromFileName refuses non-MACs and ambiguous strings', () => {
  for (const s of [
    '',
    'config.ini',
    '00908F1DD0D',
    '00908F1DD0D3A',
    'a00908F1DD0D3',
    '00:90:8f:1d:d0',
    '00:90:8f:1d:d0:d3:aa',
    '00:90-8f:1d:d0:d3',
    'g0908F1DD0D3x',
    '00908F1DD0D3_00908F1DD0D4.ini',
    '00_90_8f_1d_d0.ini',
    'aa_00_90_8f_1d_d0_d3.ini',
    '00_90_8f_1d_d0_d3_aa.ini',
    'x00_90_8f_1d_d0_d3.ini',
    '00_90_8f_1d_d0_d3x',
    '00_90:8f_1d:d0_d3',
  ]) {
    assert.equal(macFromFileName(s), null, s);
  }
  // A trailing separator with no hex after it does not continue the MAC.
  assert.equal(macFromFileName('aa:bb:cc:dd:ee:ff:'), 'aabbccddeeff');
  // The same MAC twice is not ambiguous.
  assert.equal(macFromFileName('00908F1DD0D3/00:90:8f:1d:d0:d3.ini'), '00908f1dd0d3');
});
