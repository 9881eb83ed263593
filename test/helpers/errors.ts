// The message of what a call throws, for tests that compare error texts.
import { messageOf } from '../../src/errors';

/** The message of what fn throws, or "no error" if it returns. */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return messageOf(err);
  }
  return 'no error';
}
