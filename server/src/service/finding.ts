// What every stage of the pipeline (parsing, schema validation, rules) reports before it becomes an
// LSP Diagnostic: a code, a severity, a message that says what to do, a range and optional quick fixes.
import type { Range } from './model';
import type { Fix, Severity } from './rules/rule';

export interface ServiceFinding {
  code: string;
  severity: Severity;
  message: string;
  range: Range;
  fixes?: Fix[];
}
