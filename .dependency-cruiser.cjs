/**
 * The architecture's boundaries, checked by `./ecosync test` (and `npm run deps`): who may import
 * whom among workflows/, connectors/ and src/. Type-only imports count: a type import still ties
 * one part to another's shape.
 *
 * A rule that fails names itself and the import (from → to). To change a boundary, change the
 * rule here with its reason; do not work around it.
 */

/** Code without I/O: the sync engine, the mapping engine, the co-sell logic and the drawdown engine. */
const PURE_CORE = '^src/(sync|mapping|cosell|offers|drawdown)/';
/**
 * One connector's folder; `$1` in a `to` is that connector's name. connectors/registry.ts is not in
 * one; connectors/shared/ is held to the same rules as a connector's folder.
 */
const A_CONNECTOR = '^connectors/([^/]+)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // --- workflows/: deterministic code, bundled into Temporal's workflow sandbox -----------------
    {
      name: 'workflow-no-connector',
      comment: 'Workflows reach external systems only through activities; a connector does I/O, which a workflow must not (replays would repeat it).',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^connectors/' },
    },
    {
      name: 'workflow-no-store',
      comment: 'Workflows read and write the store only through activities: a database call is not deterministic and would break replay.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^src/store/' },
    },
    {
      name: 'workflow-no-node-builtin',
      comment: 'Node built-ins (fs, crypto, net, ...) are I/O or non-deterministic and are not available in the workflow sandbox.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'workflow-no-zod',
      comment: 'Validation happens at the edges (API, activities); zod would only grow the workflow bundle. Workflows use model types, not schemas.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '(^|/)node_modules/zod/' },
    },
    {
      name: 'workflow-runtime-imports',
      comment:
        'What a workflow imports for real (not type-only) is bundled into the sandbox and must be deterministic: its own files, ' +
        'the Temporal workflow API, and the import-free co-sell approval rules (src/cosell/approval.ts) that workflows and activities share. ' +
        'Anything else a workflow needs is an activity or a type-only import.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: {
        dependencyTypesNot: ['type-only'],
        pathNot: ['^workflows/', '(^|/)node_modules/@temporalio/(workflow|common)/', '^src/cosell/approval\\.ts$'],
      },
    },
    {
      name: 'workflow-type-imports',
      comment:
        'Workflows know shapes, not implementations: model types (src/model), activity interfaces (src/activities/*-contract.ts, ' +
        'and HealthActivities, declared beside its implementation in src/activities/health.ts), the co-sell domain types (src/cosell, which does no I/O) ' +
        'and their own files.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: {
        dependencyTypes: ['type-only'],
        pathNot: [
          '^workflows/',
          '^src/model/',
          '^src/activities/[^/]+-contract\\.ts$',
          '^src/activities/health\\.ts$',
          '^src/cosell/',
        ],
      },
    },

    // --- src/sync, src/mapping, src/cosell: pure logic, tested without I/O --------------------------
    {
      name: 'core-no-connector',
      comment:
        'The sync engine defines the connector protocol (src/sync/protocol.ts) and connectors implement it, not the other way round; ' +
        'the mapping engine checks against a schema shape of its own; co-sell logic gets cloud results through activities.',
      severity: 'error',
      from: { path: PURE_CORE },
      to: { path: '^connectors/' },
    },
    {
      name: 'core-no-store',
      comment: 'The engines plan and compute; activities load and save. Store rows reach the engines as plain data through the engines\' own types.',
      severity: 'error',
      from: { path: PURE_CORE },
      to: { path: '^src/store/' },
    },
    {
      name: 'core-no-runtime',
      comment: 'src/runtime is process wiring (config, paths, logging, worker); pure code is handed what it needs instead of looking it up.',
      severity: 'error',
      from: { path: PURE_CORE },
      to: { path: '^src/runtime/' },
    },
    {
      name: 'core-no-fs',
      comment: 'Pure code does not read files: the runtime reads them (src/runtime/mappings.ts) and passes text or compiled mappings in. node:crypto (hashing) is fine.',
      severity: 'error',
      from: { path: PURE_CORE },
      to: { dependencyTypes: ['core'], path: '^(node:)?fs(/promises)?$' },
    },
    {
      name: 'mapping-only-model',
      comment: 'The mapping engine stands alone on the canonical model: it imports src/model and npm packages only, so it can be tested, benched and reused without the sync engine.',
      severity: 'error',
      from: { path: '^src/mapping/' },
      to: { path: '^(src|connectors|workflows)/', pathNot: '^src/(mapping|model)/' },
    },
    {
      name: 'drawdown-only-model',
      comment:
        'The drawdown engine stands on the canonical model and npm packages; from the mapping engine it takes only the YAML ' +
        'diagnostics (src/mapping/diagnostics.ts), so rule files report problems the way mapping files do.',
      severity: 'error',
      from: { path: '^src/drawdown/' },
      to: { path: '^(src|connectors|workflows)/', pathNot: ['^src/(drawdown|model)/', '^src/mapping/diagnostics\\.ts$'] },
    },

    // --- connectors/<system>/: one external system each ----------------------------------------
    {
      name: 'connector-no-other-connector',
      comment:
        'A connector knows only its own system; connectors/registry.ts is the one place that knows every connector. ' +
        'connectors/shared/ holds what every connector does the same way towards its system (the one retry policy: ' +
        'only the retries a system asks for, Temporal retrying the rest), so connectors may import it; it knows no system itself.',
      severity: 'error',
      from: { path: A_CONNECTOR },
      to: { path: '^connectors/', pathNot: ['^connectors/$1/', '^connectors/shared/'] },
    },
    {
      name: 'connector-no-workflow',
      comment: 'Workflows call connectors through activities; a connector never drives a workflow.',
      severity: 'error',
      from: { path: A_CONNECTOR },
      to: { path: '^workflows/' },
    },
    {
      name: 'connector-no-store',
      comment: 'A connector talks to its system only; cursors, links and records are the sync\'s to keep.',
      severity: 'error',
      from: { path: A_CONNECTOR },
      to: { path: '^src/store/' },
    },
    {
      name: 'connector-src-only-protocol',
      comment: 'From src/ a connector uses the connector protocol (src/sync/protocol.ts), the shared sandbox helpers (src/sandbox/) and the logger (src/runtime/log.ts), nothing else.',
      severity: 'error',
      from: { path: A_CONNECTOR },
      to: { path: '^src/', pathNot: ['^src/sync/protocol\\.ts$', '^src/sandbox/', '^src/runtime/log\\.ts$'] },
    },

    // --- src/store -------------------------------------------------------------------------------
    {
      name: 'store-no-connector',
      comment: 'The store keeps the hub\'s own state; it knows no external system.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^connectors/' },
    },

    // --- the doors -------------------------------------------------------------------------------
    {
      name: 'only-doors-import-cli-api',
      comment: 'src/cli and src/api are the ways in: they use everything else, nothing else uses them (what they share lives in src/service).',
      severity: 'error',
      from: { pathNot: '^src/(cli|api)/' },
      to: { path: '^src/(cli|api)/' },
    },
  ],
  options: {
    // Cruise the production code only: tests and benchmarks may reach anywhere to set things up.
    // `test-*.ts` are test helpers beside their tests (src/mapping/test-schemas.ts, src/sync/test-kit.ts).
    exclude: { path: ['\\.test\\.ts$', '^test/', '(^|/)bench/', '^src/.+/test-[^/]+\\.ts$'] },
    // npm packages are listed (for the zod and @temporalio rules) but not cruised.
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
