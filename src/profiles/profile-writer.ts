// The one way profile files are written (adapter commands such as `aps audiocodes import-ini` call it
// through AdapterCli.writeProfile): validated as the server will load them before anything is written,
// then template first and YAML last, each atomically, so a profile never names a template not yet there.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProfileFiles } from '../adapter.ts';
import { ApsError } from '../errors.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import { loadProfile, type ProfileSchemaLookup } from './profiles.ts';

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const TEMPLATE_RE = /^[a-z0-9][a-z0-9._-]{0,127}$/i;

export function writeProfileFiles(
  profilesDir: string,
  p: ProfileFiles,
  schemaOf: ProfileSchemaLookup,
): { yamlPath: string; templatePath: string | null } {
  if (!NAME_RE.test(p.name)) throw new ApsError('bad_request', `profile name "${p.name}": use lower-case letters, digits, ".", "_" or "-"`);
  if (p.template && !TEMPLATE_RE.test(p.template.file)) {
    throw new ApsError('bad_request', `template file name "${p.template.file}": letters, digits, ".", "_" or "-" only`);
  }
  const yamlPath = join(profilesDir, `${p.name}.yaml`);
  const templatePath = p.template ? join(profilesDir, 'templates', p.template.file) : null;
  for (const path of [yamlPath, templatePath]) {
    if (path && existsSync(path) && !p.force) throw new ApsError('conflict', `${path} exists; add --force to replace it`);
  }
  // Loaded back the way the server will, from a scratch copy: a problem shows now, and nothing is half-written.
  const scratch = join(profilesDir, `.aps-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(join(scratch, 'templates'), { recursive: true });
    writeFileSync(join(scratch, `${p.name}.yaml`), p.yaml);
    if (p.template) writeFileSync(join(scratch, 'templates', p.template.file), p.template.text);
    loadProfile(join(scratch, `${p.name}.yaml`), schemaOf);
  } catch (e) {
    if (e instanceof ApsError) throw new ApsError(e.code, e.message.replace(join(scratch, `${p.name}.yaml`), yamlPath));
    throw e;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (p.template && templatePath) {
    mkdirSync(dirname(templatePath), { recursive: true });
    writeFileAtomic(templatePath, p.template.text);
  }
  writeFileAtomic(yamlPath, p.yaml);
  return { yamlPath, templatePath };
}
