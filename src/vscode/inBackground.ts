import { errorText } from '../oauth/errors.js';

/**
 * Lets a VS Code Thenable run on without waiting for it: a message whose answer nobody needs, a
 * command started from a notification's button. VS Code's Thenables may reject (a command that
 * throws, a window closing); the failure then goes to the extension host's log, which is the only
 * place left for a message that could not be shown, instead of an unhandled rejection.
 */
export function inBackground(thenable: PromiseLike<unknown>): void {
  thenable.then(undefined, (error: unknown) => console.error('OAuth Anywhere:', errorText(error)));
}
