// What a conformance case is, and what running one produces.
import type { CaseContext } from './context';

export interface CaseDef {
  /** stable id, dotted: "config.process.env" */
  id: string;
  /** spec file and anchor: "config.md#configProcess" */
  section: string;
  /** the requirement, in the suite's own words */
  requirement: string;
  /** the config change this case makes, in words (for listings) */
  mutation?: string;
  /** what the case expects to observe, in words (for listings) */
  expectation?: string;
  /**
   * Spec release that introduced the property under test. A runtime whose
   * features document says it only knows an older ociVersionMax is skipped:
   * to it the property is an unknown one, which it must ignore.
   */
  since?: string;
  /**
   * For a runtime the `since` rule applies to: instead of being skipped, the
   * case runs this, which checks only what the spec asks of a runtime that
   * does not know the property (it ignores it: no error).
   */
  runUnknown?: (ctx: CaseContext) => Promise<void>;
  /** returns a reason to skip on this host/runtime, or null */
  requires?: (ctx: CaseContext) => string | null;
  /** seconds; default 60 */
  timeout?: number;
  run(ctx: CaseContext): Promise<void>;
}

export type Status = 'pass' | 'fail' | 'skip';

export interface Failure {
  message: string;
  expected?: unknown;
  actual?: unknown;
}

export interface CaseRun {
  status: Status;
  failures: Failure[];
  skipReason?: string;
  notes: string[];
  /** normalized observations, compared in differential mode */
  observations: Record<string, unknown>;
  /** set when the case ran its runUnknown check: why the property is unknown to the runtime */
  unknownProperty?: string;
  ms: number;
}

export class CaseSkip extends Error {
  constructor(public reason: string) {
    super(reason);
  }
}

export class CaseAbort extends Error {}

/** Spec section -> the file part ("config-linux.md"). */
export function sectionFile(section: string): string {
  return section.split('#')[0];
}

const ID_RE = /^[a-z0-9][A-Za-z0-9.\-_]*$/;
// runtime-spec files, and runc's man pages (man/runc-<op>.8.md) for the
// operations the spec does not have (exec, ps, pause, resume, update, events).
const SECTION_RE = /^(runtime|runtime-linux|config|config-linux|features|features-linux|bundle|runc-(exec|ps|pause|resume|update|events)\.8)\.md#[A-Za-z0-9\-_]+$/;

/** Static checks of a case list: unique ids, known section files, words present. */
export function validateCases(cases: CaseDef[]): string[] {
  const errs: string[] = [];
  const seen = new Set<string>();
  for (const c of cases) {
    if (!ID_RE.test(c.id)) errs.push(`${c.id}: bad id`);
    if (seen.has(c.id)) errs.push(`${c.id}: duplicate id`);
    seen.add(c.id);
    if (!SECTION_RE.test(c.section)) errs.push(`${c.id}: bad section ${c.section}`);
    if (c.requirement.trim().length < 15) errs.push(`${c.id}: requirement too short`);
  }
  return errs;
}
