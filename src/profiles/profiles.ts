import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join, resolve, sep } from 'node:path';
import Handlebars from 'handlebars';
import { parse as parseYaml } from 'yaml';
import { z, type ZodType } from 'zod';
import { ARTIFACT_ORDERS, type ArtifactOrder } from '../catalog/version-order.ts';
import { ApsError } from '../errors.ts';
import { parseWindow, type WindowDef } from '../windows/window-def.ts';

// The vendor-neutral part of a profile; `settings` belongs to the adapter and is checked by its profileSchema.
const profileFileSchema = z
  .object({
    adapter: z.string().min(1),
    description: z.string().optional(),
    models: z.array(z.string().min(1)).default([]),
    /** How the catalog ranks a slot's artifacts: `version` (default), `serial` or `added` (README "Catalog order"). */
    order: z.enum(ARTIFACT_ORDERS as [ArtifactOrder, ...ArtifactOrder[]]).default('version'),
    vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
    template: z.string().min(1).optional(),
    settings: z.unknown().optional(),
    /** The maintenance window (src/windows/window-def.ts), checked by parseWindow for a message naming its key. */
    window: z.unknown().optional(),
  })
  .strict();

export interface Profile {
  name: string;
  adapter: string;
  description: string;
  models: string[];
  /** How the catalog ranks the artifacts of one slot: the newest is every device's target unless pinned. */
  order: ArtifactOrder;
  vars: Record<string, string>;
  /** The template source, when the profile has one. */
  template?: { path: string; source: string; render: (context: object) => string };
  settings: unknown;
  /** When changes reach this profile's devices (a group may override it); undefined: at once. */
  window?: WindowDef;
  /** Changes when the profile file or its template changes: part of render cache keys. */
  hash: string;
  file: string;
}

export type ProfileSchemaLookup = (adapter: string) => ZodType | undefined;

export const PROFILE_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export class ProfileRegistry {
  private readonly profiles = new Map<string, Profile>();
  private readonly loadNew: (name: string) => Profile | undefined;

  /** @param loadNew loads a profile file added since start-up (e.g. by `aps audiocodes import`), if any */
  constructor(profiles: Profile[], loadNew: (name: string) => Profile | undefined = () => undefined) {
    for (const p of profiles) this.profiles.set(p.name, p);
    this.loadNew = loadNew;
  }

  get(name: string): Profile | undefined {
    const known = this.profiles.get(name);
    if (known || !PROFILE_NAME_RE.test(name)) return known;
    // A profile file written while the server runs is used as soon as a device or command names it,
    // so the CLI can add a profile and its devices without a restart. Edits of a loaded profile still
    // need one: start-up is where a broken profile stops the server, not a device request.
    const added = this.loadNew(name);
    if (added) this.profiles.set(name, added);
    return added;
  }

  require(name: string): Profile {
    const p = this.get(name);
    if (!p) throw new ApsError('bad_request', `unknown profile "${name}" (known: ${[...this.profiles.keys()].join(', ') || 'none'})`);
    return p;
  }

  list(): Profile[] {
    return [...this.profiles.values()];
  }
}

/** Reads and validates every `*.yaml` in the folder; a bad profile fails naming the file and the key. */
export function loadProfiles(dir: string, schemaOf: ProfileSchemaLookup): ProfileRegistry {
  if (!existsSync(dir)) throw new ApsError('invalid_profile', `profiles folder ${dir} does not exist`);
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const loadNew = (name: string): Profile | undefined => {
    const file = ['.yaml', '.yml'].map((ext) => join(dir, name + ext)).find((f) => existsSync(f));
    return file ? loadProfile(file, schemaOf) : undefined;
  };
  return new ProfileRegistry(
    files.map((f) => loadProfile(join(dir, f), schemaOf)),
    loadNew,
  );
}

export function loadProfile(file: string, schemaOf: ProfileSchemaLookup): Profile {
  const name = basename(file, extname(file));
  const fail = (key: string, msg: string): never => {
    throw new ApsError('invalid_profile', `profile ${file}: ${key}: ${msg}`);
  };
  if (!PROFILE_NAME_RE.test(name)) fail('(file name)', 'use lower-case letters, digits, ".", "_" or "-"');
  const text = readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    fail('(yaml)', (e as Error).message);
  }
  const parsed = profileFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    fail(i.path.join('.') || '(root)', i.message);
  }
  const p = parsed.data!;
  const schema = schemaOf(p.adapter);
  if (!schema) fail('adapter', `no adapter named "${p.adapter}"`);
  const settings = schema!.safeParse(p.settings ?? {});
  if (!settings.success) {
    const i = settings.error.issues[0]!;
    fail(['settings', ...i.path].join('.'), i.message);
  }
  const window = p.window === undefined || p.window === null ? undefined : parseWindow(p.window, `profile ${file}`);
  const hash = createHash('sha256').update(text);
  let template: Profile['template'];
  if (p.template) {
    const dir = resolve(file, '..');
    const path = resolve(dir, p.template);
    if (!path.startsWith(dir + sep)) fail('template', 'must stay inside the profiles folder');
    if (!existsSync(path)) fail('template', `file ${p.template} not found`);
    const source = readFileSync(path, 'utf8');
    hash.update(source);
    template = { path, source, render: compileTemplate(source, `${file}: template ${p.template}`) };
  }
  return {
    name,
    adapter: p.adapter,
    description: p.description ?? '',
    models: p.models,
    order: p.order,
    vars: p.vars,
    template,
    settings: settings.data,
    window,
    hash: hash.digest('hex').slice(0, 16),
    file,
  };
}

/**
 * Handlebars with no HTML escaping (these are device config files, not pages) and strict mode, so a
 * variable the template needs but the device lacks is a clear error rather than an empty value.
 */
export function compileTemplate(source: string, where: string): (context: object) => string {
  let fn: Handlebars.TemplateDelegate;
  try {
    fn = Handlebars.compile(source, { noEscape: true, strict: true });
    fn({}); // surfaces syntax errors now; missing-variable errors are expected here and ignored below
  } catch (e) {
    const msg = (e as Error).message;
    if (!/not defined in/.test(msg)) throw new ApsError('invalid_profile', `${where}: ${msg}`);
  }
  return (context: object): string => {
    try {
      return fn!(context);
    } catch (e) {
      throw new ApsError('bad_request', `${where}: ${(e as Error).message}`);
    }
  };
}
