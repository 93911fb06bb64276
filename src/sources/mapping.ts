import { z } from 'zod';
import { ARTIFACT_KINDS, type ArtifactKind } from '../store/types.ts';

// How a source turns an upstream file name into artifacts: pattern rules with named groups, checked in order
// (first match wins), after the manifest's entries. A file nothing maps is reported as unmapped, never guessed.

/** The named groups a pattern may capture; each fills the artifact field of the same name (`model` → models). */
export const RULE_GROUPS = ['profile', 'model', 'kind', 'role', 'version', 'serial'] as const;
export type RuleGroup = (typeof RULE_GROUPS)[number];

export const kindSchema = z.enum(ARTIFACT_KINDS as readonly [ArtifactKind, ...ArtifactKind[]]);
export const roleSchema = z.string().regex(/^[a-z0-9-]{1,32}$/, 'lower-case letters, digits or "-"');

const compiled = new Map<string, RegExp>();

/** The whole file name must match: the pattern is anchored for the admin, so `vop-(?<version>.+)\.bin` suffices. */
export function compilePattern(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) compiled.set(pattern, (re = new RegExp(`^(?:${pattern})$`, 'u')));
  return re;
}

/** The names of a pattern's named groups (an empty alternative makes exec() list them all without a match). */
export function groupNames(pattern: string): string[] {
  return Object.keys(new RegExp(`(?:${pattern})|`, 'u').exec('')?.groups ?? {});
}

export const mappingRuleSchema = z
  .object({
    /** A JavaScript regular expression matched against the whole file name, with named groups from RULE_GROUPS. */
    pattern: z.string().min(1),
    profile: z.string().min(1).optional(),
    kind: kindSchema.optional(),
    role: roleSchema.optional(),
    models: z.array(z.string().min(1)).min(1).optional(),
    version: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    let names: string[];
    try {
      compilePattern(r.pattern);
      names = groupNames(r.pattern);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a valid regular expression: ${(e as Error).message}` });
      return;
    }
    for (const n of names) {
      if (!(RULE_GROUPS as readonly string[]).includes(n))
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: `named group "${n}" is not one of ${RULE_GROUPS.join(', ')}` });
    }
    const both = (key: keyof typeof r, group: RuleGroup): void => {
      if (r[key] !== undefined && names.includes(group))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${key} is given both here and by the pattern's (?<${group}>…) group; keep one`,
        });
    };
    both('profile', 'profile');
    both('kind', 'kind');
    both('role', 'role');
    both('models', 'model');
    both('version', 'version');
  });

export type MappingRule = z.infer<typeof mappingRuleSchema>;

/** The slot and metadata one upstream file becomes (one file may become several, e.g. for two profiles). */
export interface MappedTarget {
  profile: string;
  kind: ArtifactKind;
  role?: string;
  models?: string[];
  /** undefined: taken from the file name as `aps artifact import` does. */
  version?: string;
  serial?: number;
}

/** The source-level keys rules and manifest entries inherit when they do not say otherwise. */
export interface MappingDefaults {
  profile?: string;
  kind?: ArtifactKind;
  role?: string;
  models?: string[];
}

/** What a rule makes of a name: targets, no match, or a match whose captured values are unusable (a failed file). */
export type RuleOutcome = { match: false } | { match: true; target: MappedTarget } | { match: true; problem: string };

/** Applies one rule to a file name. Captured values are checked like configured ones: a bad one fails the file. */
export function applyRule(rule: MappingRule, defaults: MappingDefaults, name: string): RuleOutcome {
  const m = compilePattern(rule.pattern).exec(name);
  if (!m) return { match: false };
  const g = m.groups ?? {};
  const profile = g.profile ?? rule.profile ?? defaults.profile;
  const kind = g.kind ?? rule.kind ?? defaults.kind;
  if (!profile) return { match: true, problem: 'the rule gives no profile' };
  if (!kind || !(ARTIFACT_KINDS as readonly string[]).includes(kind))
    return { match: true, problem: `kind "${kind ?? ''}" is not one of ${ARTIFACT_KINDS.join(', ')}` };
  const role = g.role ?? rule.role ?? defaults.role;
  if (role !== undefined && !roleSchema.safeParse(role).success)
    return { match: true, problem: `role "${role}" is not lower-case letters, digits or "-"` };
  if (g.serial !== undefined && !/^\d{1,15}$/.test(g.serial)) return { match: true, problem: `serial "${g.serial}" is not a number` };
  const models = g.model !== undefined ? [g.model] : (rule.models ?? defaults.models);
  const version = g.version ?? rule.version;
  return {
    match: true,
    target: {
      profile,
      kind: kind as ArtifactKind,
      ...(role ? { role } : {}),
      ...(models ? { models } : {}),
      ...(version !== undefined ? { version } : {}),
      ...(g.serial !== undefined ? { serial: Number(g.serial) } : {}),
    },
  };
}

/** The rule the source uses when it has neither `map` nor `manifest`: every file, into the source's own slot. */
export const EVERY_FILE: MappingRule = { pattern: '.*' };
