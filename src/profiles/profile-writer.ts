// The one way profile files are written (adapter commands such as `aps audiocodes import-ini` call it
// through AdapterCli.writeProfile): validated as the server will load them before anything is written,
// then template first and YAML last, each atomically, so a profile never names a template not yet there.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ProfileFiles } from '../adapter.ts';
import { ApsError } from '../errors.ts';
import { writeFileAtomic } from '../fs-atomic.ts';
import { loadProfile, PROFILE_NAME_RE, type ProfileSchemaLookup } from './profiles.ts';

const TEMPLATE_RE = /^[a-z0-9][a-z0-9._-]{0,127}$/i;

export function writeProfileFiles(
  profilesDir: string,
  p: ProfileFiles,
  schemaOf: ProfileSchemaLookup,
): { yamlPath: string; templatePath: string | null } {
  if (!PROFILE_NAME_RE.test(p.name))
    throw new ApsError('bad_request', `profile name "${p.name}": use lower-case letters, digits, ".", "_" or "-"`);
  if (p.template && !TEMPLATE_RE.test(p.template.file)) {
    throw new ApsError('bad_request', `template file name "${p.template.file}": letters, digits, ".", "_" or "-" only`);
  }
  const yamlPath = join(profilesDir, `${p.name}.yaml`);
  const templatePath = p.template ? join(profilesDir, 'templates', p.template.file) : null;
  for (const path of [yamlPath, templatePath]) {
    if (path && existsSync(path) && !p.force) throw new ApsError('conflict', `${path} exists; add --force to replace it`);
  }
  // Loaded back the way the server will, from a scratch copy outside the profiles folder (which may be
  // read-only, and must never hold a half-checked copy after a kill): a problem shows before anything is written.
  const scratch = mkdtempSync(join(tmpdir(), 'aps-profile-check-'));
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
