import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { renderInfo, requestUrlTemplate, substituteUrl } from './render.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const url = requestUrlTemplate('http://aps.example:8080');

describe('VOP info renderer (seed 000)', () => {
  it('renders all three sections with the XML header, matching the golden file', () => {
    const out = renderInfo({
      bootstrap: { version: '1.2', url, md5: '0123456789abcdef0123456789abcdef' },
      firmware: { serial: 21, url, md5: 'fedcba9876543210fedcba9876543210' },
      config: { serial: 3, url, md5: '00112233445566778899aabbccddeeff' },
    });
    assert.equal(out.toString('utf8'), fixture('info-full.xml'));
  });

  it('leaves out sections the user has no target for', () => {
    const out = renderInfo({ config: { serial: 1, url, md5: '00112233445566778899aabbccddeeff' } }).toString('utf8');
    assert.equal(out, fixture('info-config-only.xml'));
    assert.ok(!out.includes('<bootstrap>') && !out.includes('<firmware>'));
  });

  it('is deterministic', () => {
    const input = { firmware: { serial: 7, url, md5: 'ab'.repeat(16) } };
    assert.deepEqual(renderInfo(input), renderInfo(input));
  });

  it('keeps the $u $p $v $t variables for the VOP to substitute, and substitutes them URL-encoded', () => {
    assert.equal(url, 'http://aps.example:8080/vop/$t?u=$u&p=$p&v=$v');
    assert.equal(
      substituteUrl(url, { u: 'op 1', p: 'a&b=c', v: '1.2', t: 'f' }),
      'http://aps.example:8080/vop/f?u=op%201&p=a%26b%3Dc&v=1.2',
    );
  });
});
