/**
 * The mapping engine: declarative YAML files that map one system object to one canonical entity,
 * checked at load (with file:line:col for every problem) and compiled to plain closures.
 * Format reference: mappings/README.md.
 */
export { parseMapping, parseMappings, type LoadOptions, type LoadResult, type DirResult, type MappingText } from './load.js';
export { formatDiagnostic, hasErrors, type Diagnostic } from './diagnostics.js';
export {
  canonicalJson,
  type CompiledMapping, type MapContext, type MapOutcome, type FieldError, type RecordErrorCode,
  type UnresolvedRef, type FieldInfo, type CanonicalPartial, type SystemRecord,
} from './compile.js';
export type { Coercion, Direction, Wire, SystemField, SystemSchema } from './spec.js';
export { domainOf } from './expr.js';
