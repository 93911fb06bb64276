import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeviceRecord } from '../../src/adapter-api.ts';
import { identifyByMac, identifyUpdate, parseUpdatePath, reportedState, standardArgs, type IdentifyLookup } from './identify.ts';

const device = (id: string, profile: string, mac: string): DeviceRecord => ({
  id,
  profile,
  mac,
  model: null,
  group: null,
  passwordHash: null,
  passwordEnc: null,
  vars: {},
  pins: {},
  status: 'active',
  createdAt: '',
  updatedAt: '',
});

const devices = [device('dect1', 'innovaphone-ip1200', '009033010203'), device('vop1', 'vop', '009033aaaaaa')];
const look: IdentifyLookup = {
  deviceByMac: (mac) => devices.find((d) => d.mac === mac),
  deviceById: (id) => devices.find((d) => d.id === id),
  productOf: (p) => ({ 'innovaphone-ip1200': 'ip1200', 'innovaphone-ip232': 'ip232' })[p],
  profileOfProduct: (p) => ({ ip1200: 'innovaphone-ip1200', ip232: 'innovaphone-ip232' })[p],
};

describe('innovaphone request parsing (protocols.md §(c))', () => {
  it('reads #m and the standard name in any case, with or without #h #t #i', () => {
    assert.deepEqual(parseUpdatePath(['00-90-33-01-02-03', 'update-ip1200.htm']), {
      ok: true,
      value: { mac: '009033010203', product: 'ip1200' },
    });
    assert.deepEqual(parseUpdatePath(['00-90-33-01-02-03', 'IP1200-01-02-03', 'IP1200', '10.0.0.7', 'UPDATE-IP1200.HTM']), {
      ok: true,
      value: { mac: '009033010203', product: 'ip1200', hardware: 'IP1200-01-02-03', type: 'IP1200', ip: '10.0.0.7' },
    });
    // The file extension is irrelevant (seed): .txt or none.
    assert.equal(parseUpdatePath(['009033010203', 'update-ip232.txt']).ok, true);
    assert.equal(parseUpdatePath(['009033010203', 'update-ip232']).ok, true);
    // A placeholder the firmware left as it was is skipped.
    assert.equal(parseUpdatePath(['009033010203', '#t', '%23i', 'update-ip232.htm']).ok, true);
  });

  it('refuses what is not an update request, and a #h that contradicts #m', () => {
    assert.equal(parseUpdatePath(['update-ip1200.htm']).ok, false);
    assert.equal(parseUpdatePath(['not-a-mac', 'update-ip1200.htm']).ok, false);
    assert.equal(parseUpdatePath(['009033010203', 'config.txt']).ok, false);
    assert.equal(parseUpdatePath(['009033010203', 'IP1200-0a-0b-0c', 'update-ip1200.htm']).ok, false);
    assert.equal(parseUpdatePath(['009033010203', 'IP232-01-02-03', 'update-ip1200.htm']).ok, false);
    assert.equal(parseUpdatePath(['009033010203', 'a b', 'update-ip1200.htm']).ok, false);
  });

  it('keeps the standard query arguments and reports them as the device state', () => {
    const args = standardArgs({
      PROT: '13r3-5656',
      PROTdate: '20261130-020000',
      BOOT: '205',
      CHECK: '12',
      ver: '13r3 sr5',
      other: 'x',
      CFG: ['3', '4'],
    });
    assert.deepEqual(args, { PROT: '13r3-5656', PROTdate: '20261130-020000', BOOT: '205', CFG: '3', CHECK: '12', ver: '13r3 sr5' });
    const r = reportedState({ mac: '009033010203', product: 'ip1200', hardware: 'IP1200-01-02-03' }, args);
    assert.equal(r.firmware, '13r3-5656');
    assert.equal(r.boot, '205');
    assert.equal(r.check, '12');
    assert.equal(r.config, '3');
    assert.equal(r.protDate, '20261130-020000');
    assert.equal(r.hardwareId, 'IP1200-01-02-03');
    // A fresh device (UPDATE/PROT empty) runs what `ver` says.
    assert.equal(reportedState({ mac: '009033010203', product: 'ip1200' }, { PROT: '', ver: '13r1-000' }).firmware, '13r1-000');
  });
});

describe('innovaphone identification', () => {
  const req = (mac: string, product: string) => ({ mac, product });

  it('a known device of its own product', () => {
    const who = identifyUpdate(req('009033010203', 'ip1200'), look, { refuseUnknown: false });
    assert.equal(who.kind, 'device');
  });

  it("another product's name, another adapter's device: refused alike (401)", () => {
    assert.deepEqual(identifyUpdate(req('009033010203', 'ip232'), look, { refuseUnknown: false }).kind, 'refused');
    const other = identifyUpdate(req('009033aaaaaa', 'ip232'), look, { refuseUnknown: false });
    assert.equal(other.kind === 'refused' && other.status, 401);
  });

  it('an unknown MAC of a known product is to be registered, unless refuseUnknown; of an unknown product refused', () => {
    assert.deepEqual(identifyUpdate(req('009033bbbbbb', 'ip232'), look, { refuseUnknown: false }), {
      kind: 'unknown',
      id: '009033bbbbbb',
      mac: '009033bbbbbb',
      profile: 'innovaphone-ip232',
    });
    assert.equal(identifyUpdate(req('009033bbbbbb', 'ip232'), look, { refuseUnknown: true }).kind, 'refused');
    assert.equal(identifyUpdate(req('009033bbbbbb', 'ip9999'), look, { refuseUnknown: false }).kind, 'refused');
  });

  it('per-device file URLs: only a MAC of one of this adapter’s devices', () => {
    assert.equal(identifyByMac('00:90:33:01:02:03', look).kind, 'device');
    assert.equal(identifyByMac('009033aaaaaa', look).kind, 'refused');
    assert.equal(identifyByMac('x', look).kind, 'refused');
  });
});
