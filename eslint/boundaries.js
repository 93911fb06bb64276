// The module boundary (DESIGN "Rules of the house", ARCHITECTURE.md) as ESLint config blocks, built only from
// ESLint's own rules so no plugin is needed. Shared by eslint.config.js and test/lint-boundary.test.ts, so the
// test checks the very rule objects `npm run lint` runs.
//
// (a) src/ is the vendor-blind core: it never imports adapters/.
// (b) adapters/<name>/ imports only its own folder and src/adapter-api.ts (the public adapter API); its
//     *.test.ts files may also import test/helpers/** and test/conformance/**. adapters/index.ts, the static
//     list, imports each adapter's index.ts and src/adapter-api.ts.
//
// `no-restricted-imports` sees import/export declarations, type-only and side-effect imports included; it
// matches the specifier as written, so each group is a regular expression on that string. What it does not
// see (dynamic import(), require(), `typeof import('…')` types) goes through `no-restricted-syntax` with the
// same expressions, so the two cannot drift apart.
//
// Whether `../x` leaves an adapter's folder depends on how deep the importing file sits, so the adapter
// blocks are generated per depth: from adapters/<name>/ plus `depth` folders, a normalised specifier leaves
// the folder exactly when it starts with depth+1 `../`. Specifiers with a `.` or `..` segment after the
// start (`./x/../../vop/y`) are refused outright, which keeps that arithmetic honest.

const EXT = '{ts,mts,cts,js,mjs,cjs}';
const MAX_DEPTH = 3;

/** A path segment that is not `.` or `..` (a regex fragment, no anchors). */
const SEG = String.raw`(?!\.\.?(?:/|$))[^/]+`;
/** One or more normal segments: a path below the current point with no way back up. */
const DOWN = `(?:${SEG}/)*${SEG}`;
/** Relative, absolute or file: URL specifiers: everything that is not a package or node: builtin. */
const PATHLIKE = String.raw`(?:\.{1,2}(?:/|$)|/|file:)`;

const up = (n) => String.raw`(?:\.\./){${n}}`;

export const SRC_NO_ADAPTERS =
  'src/ is the vendor-blind core and never imports adapters/: bin/aps.js hands it the adapter list (adapters/index.ts).';
export const ADAPTER_CORE_INTERNAL =
  'Adapters import from the core only src/adapter-api.ts (the public adapter API): re-export what you need there.';
export const ADAPTER_OUTSIDE =
  'Adapters import only their own folder and src/adapter-api.ts: not another adapter, adapters/index.ts, test/ or bin/' +
  ' (adapter *.test.ts files may also use test/helpers/ and test/conformance/).';
export const INDEX_ONLY = 'adapters/index.ts (the static adapter list) imports only ./<name>/index.ts and ../src/adapter-api.ts.';

/** Selectors for the import forms no-restricted-imports does not see, one per group. */
function syntaxSelectors(group) {
  // esquery regex literals end at the first `/`, so slashes are written as \x2F.
  const re = `/${group.regex.replaceAll('/', String.raw`\x2F`)}/`;
  return [
    `ImportExpression > Literal.source[value=${re}]`,
    `ImportExpression > TemplateLiteral.source > TemplateElement.quasis:first-child[value.cooked=${re}]`,
    `CallExpression[callee.name="require"] > Literal.arguments:first-child[value=${re}]`,
    `TSImportType > Literal.source[value=${re}]`,
  ].map((selector) => ({ selector, message: group.message }));
}

/** One rules object enforcing every group (later blocks replace a rule's options, so each block is whole). */
function restrict(groups) {
  return {
    'no-restricted-imports': ['error', { patterns: groups.map((g) => ({ regex: g.regex, message: g.message })) }],
    'no-restricted-syntax': ['error', ...groups.flatMap(syntaxSelectors)],
  };
}

function adapterGroups(depth, isTest) {
  const own = depth === 0 ? String.raw`\./${DOWN}` : String.raw`(?:\./|(?:\.\./){1,${depth}})${DOWN}`;
  const root = up(depth + 2);
  const allowed = [own, String.raw`${root}src/adapter-api\.ts`];
  if (isTest) allowed.push(String.raw`${root}test/(?:helpers|conformance)/${DOWN}`);
  return [
    // Reported apart from the catch-all so the message says what to do (and the two never report one import twice).
    { regex: String.raw`^${root}src/(?!adapter-api\.ts$)`, message: ADAPTER_CORE_INTERNAL },
    { regex: `^(?!(?:${allowed.join('|')})$|${root}src/)${PATHLIKE}`, message: ADAPTER_OUTSIDE },
  ];
}

/** @type {import('eslint').Linter.Config[]} */
export const boundaryConfigs = [
  {
    name: 'aps/boundary/src',
    files: [`src/**/*.${EXT}`],
    rules: restrict([{ regex: String.raw`^${PATHLIKE}(?:.*/)?adapters(?:/|$)`, message: SRC_NO_ADAPTERS }]),
  },
  {
    name: 'aps/boundary/adapters-index',
    files: [`adapters/*.${EXT}`],
    rules: restrict([{ regex: String.raw`^(?!(?:\./${SEG}/index\.ts|\.\./src/adapter-api\.ts)$)${PATHLIKE}`, message: INDEX_ONLY }]),
  },
  ...Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => {
    const dir = `adapters/*/${'*/'.repeat(depth)}`;
    return [
      { name: `aps/boundary/adapters-depth-${depth}`, files: [`${dir}*.${EXT}`], rules: restrict(adapterGroups(depth, false)) },
      { name: `aps/boundary/adapter-tests-depth-${depth}`, files: [`${dir}*.test.${EXT}`], rules: restrict(adapterGroups(depth, true)) },
    ];
  }).flat(),
  {
    // Deeper than the generated blocks: fail loudly rather than go unchecked.
    name: 'aps/boundary/adapters-too-deep',
    files: [`adapters/*/${'*/'.repeat(MAX_DEPTH + 1)}**/*.${EXT}`],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'Program', message: `Adapter folders nest at most ${MAX_DEPTH} levels: raise MAX_DEPTH in eslint/boundaries.js.` },
      ],
    },
  },
];
