// Errors that tsrun reports to its caller. Every refusal exits with status 1
// (runc's convention); `field` names the config.json field (as a JSON path,
// e.g. `linux.namespaces[2].type`) when the error is about one.
export class TsrunError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'TsrunError';
  }
}

/** An errno-carrying error from the addon or from Node's fs. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
