// Errors that tsrun reports to its caller. Every refusal exits with status 1
// (runc's convention); `field` names the config.json field (as a JSON path,
// e.g. `linux.namespaces[2].type`) when the error is about one. The texts
// that runc's clients match are in ./messages.
import { messages } from './messages';

export class TsrunError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'TsrunError';
  }
}

/** No container has this id (runc: "container does not exist"). */
export class NoSuchContainer extends TsrunError {
  constructor(readonly id: string) {
    super(messages.doesNotExist(id));
    this.name = 'NoSuchContainer';
  }
}

/** An errno-carrying error from the addon or from Node's fs. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
