import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeviceCodePrompt } from '../../src/oauth/deviceGrant.js';
import { OAuthError } from '../../src/oauth/errors.js';
import type { SignInResult } from '../../src/oauth/types.js';
import { finalStates, nextState, SignInMachine, transitions, type EventName, type SignInEvent, type SignInState, type StateName } from '../../src/vscode/signInMachine.js';

const prompt = { userCode: 'WDJB-MJHT', verificationUri: 'https://idp.example.test/device', issuer: 'https://idp.example.test/', clientId: 'vscode', expiresInSeconds: 600 } as unknown as DeviceCodePrompt;
const result = { identity: { label: 'demo' } } as unknown as SignInResult;
const failure = new OAuthError('denied', 'The sign-in was declined.');
const cancel = new OAuthError('cancelled', 'Sign-in was cancelled.');

/** One state of each name, as the machine holds it. */
const states: Record<StateName, SignInState> = {
  starting: { name: 'starting' },
  browserWaiting: { name: 'browserWaiting' },
  browserLeft: { name: 'browserLeft', because: 'checkMissed' },
  codeShown: { name: 'codeShown', prompt },
  pasteAsked: { name: 'pasteAsked', because: 'asked' },
  done: { name: 'done', result },
  failed: { name: 'failed', error: failure },
  cancelled: { name: 'cancelled', error: cancel },
};

/** One event of each type. */
const portTaken = new OAuthError('port_unavailable', 'Cannot listen on 127.0.0.1:28130 for the sign-in redirect (EADDRINUSE).');
const events: Record<EventName, SignInEvent> = {
  startFailed: { type: 'startFailed', error: failure },
  browserStarted: { type: 'browserStarted' },
  noReturnNoticed: { type: 'noReturnNoticed', redirectUri: 'http://127.0.0.1:5000/callback' },
  checkMissed: { type: 'checkMissed' },
  switchAsked: { type: 'switchAsked' },
  browserUnavailable: { type: 'browserUnavailable' },
  redirectNotForwarded: { type: 'redirectNotForwarded' },
  portUnavailable: { type: 'portUnavailable', error: portTaken },
  codeReady: { type: 'codeReady', prompt },
  pasteReady: { type: 'pasteReady' },
  signedIn: { type: 'signedIn', result },
  browserFailed: { type: 'browserFailed', error: failure },
  codeFailed: { type: 'codeFailed', error: failure },
  nothingToPaste: { type: 'nothingToPaste', error: failure },
  cancelled: { type: 'cancelled', error: cancel },
};

/** The table as it should read, one line per move, so that a changed row shows up here. */
const expected = `
starting --startFailed--> failed
starting --browserStarted--> browserWaiting
starting --codeReady--> codeShown
starting --signedIn--> done
starting --browserFailed--> failed
starting --codeFailed--> failed
starting --cancelled--> cancelled
browserWaiting --noReturnNoticed--> browserWaiting
browserWaiting --checkMissed--> browserLeft
browserWaiting --switchAsked--> browserLeft
browserWaiting --browserUnavailable--> browserLeft
browserWaiting --redirectNotForwarded--> browserLeft
browserWaiting --portUnavailable--> browserLeft
browserWaiting --signedIn--> done
browserWaiting --browserFailed--> failed
browserWaiting --cancelled--> cancelled
browserLeft --codeReady--> codeShown
browserLeft --pasteReady--> pasteAsked
browserLeft --signedIn--> done
browserLeft --codeFailed--> failed
browserLeft --nothingToPaste--> failed
browserLeft --cancelled--> cancelled
codeShown --signedIn--> done
codeShown --codeFailed--> failed
codeShown --cancelled--> cancelled
pasteAsked --signedIn--> done
pasteAsked --browserFailed--> failed
pasteAsked --cancelled--> cancelled`;

describe('the sign-in state machine', () => {
  test('the table: every state against every event', () => {
    const moves: string[] = [];
    for (const [stateName, state] of Object.entries(states) as Array<[StateName, SignInState]>) {
      for (const [eventName, event] of Object.entries(events) as Array<[EventName, SignInEvent]>) {
        const next = nextState(state, event);
        assert.equal(next?.name, transitions[stateName][eventName], `${stateName} on ${eventName}`);
        if (next) moves.push(`${stateName} --${eventName}--> ${next.name}`);
      }
    }
    // Every pair not written here changes nothing.
    assert.deepEqual(moves.sort(), expected.trim().split('\n').sort());
  });

  test('Cancel ends every state that is not final, at once', () => {
    for (const [name, state] of Object.entries(states) as Array<[StateName, SignInState]>) {
      if (finalStates.includes(name)) continue;
      assert.deepEqual(nextState(state, events.cancelled), { name: 'cancelled', error: cancel }, name);
    }
  });

  test('a final state takes no event: a late browser, a late failure or Cancel change nothing', () => {
    for (const name of finalStates) {
      for (const event of Object.values(events)) assert.equal(nextState(states[name], event), undefined, `${name} on ${event.type}`);
    }
  });

  test('after the switch to a code, only the device grant ends the sign-in (the browser may still finish it)', () => {
    assert.equal(nextState(states.codeShown, events.browserFailed), undefined, 'the callback server failing does not end it');
    assert.equal(nextState(states.codeShown, events.checkMissed), undefined, 'a late browser check changes nothing');
    assert.equal(nextState(states.codeShown, events.signedIn)?.name, 'done', 'a slow browser still signs in');
    assert.equal(nextState(states.codeShown, events.codeFailed)?.name, 'failed');
  });

  test('why the browser was left is carried to the fallback that shows it', () => {
    for (const [type, because] of [
      ['checkMissed', 'checkMissed'],
      ['switchAsked', 'asked'],
      ['browserUnavailable', 'noBrowser'],
      ['redirectNotForwarded', 'notForwarded'],
    ] as const) {
      const left = nextState(states.browserWaiting, events[type]);
      assert.deepEqual(left, { name: 'browserLeft', because });
      assert.deepEqual(nextState(left, events.codeReady), { name: 'codeShown', prompt, because });
      assert.deepEqual(nextState(left, events.pasteReady), { name: 'pasteAsked', because });
    }
    const portLeft = nextState(states.browserWaiting, events.portUnavailable);
    assert.deepEqual(portLeft, { name: 'browserLeft', because: 'portUnavailable', detail: portTaken.message }, "the core's words for the port go along");
    assert.deepEqual(nextState(portLeft, events.codeReady), { name: 'codeShown', prompt, because: 'portUnavailable', detail: portTaken.message });
    assert.deepEqual(nextState(states.starting, events.codeReady), { name: 'codeShown', prompt }, 'a sign-in that starts with a code gives no reason');
    assert.deepEqual(nextState(states.browserWaiting, events.noReturnNoticed), { name: 'browserWaiting', hint: { redirectUri: 'http://127.0.0.1:5000/callback' } });
  });

  test('a machine walks the browser -> missed check -> code -> done path and settles with the result', async () => {
    const machine = new SignInMachine();
    const seen: string[] = [];
    machine.watch((state, previous) => seen.push(`${previous.name}>${state.name}`));
    // Like the runner: leaving the browser starts the fallback from inside a watcher.
    machine.watch((state) => {
      if (state.name === 'browserLeft') machine.dispatch(events.codeReady);
    });
    machine.dispatch(events.browserStarted);
    machine.dispatch(events.checkMissed);
    machine.dispatch(events.checkMissed);
    machine.dispatch(events.signedIn);
    assert.deepEqual(seen, ['starting>browserWaiting', 'browserWaiting>browserLeft', 'browserLeft>codeShown', 'codeShown>done'], 'each watcher sees each state once, in order');
    assert.equal(await machine.ended, result);
  });

  test('a machine that fails or is cancelled rejects with that error', async () => {
    const failing = new SignInMachine();
    failing.dispatch(events.codeFailed);
    await assert.rejects(failing.ended, (error) => error === failure);
    const cancelling = new SignInMachine();
    cancelling.dispatch(events.browserStarted);
    cancelling.dispatch(events.cancelled);
    cancelling.dispatch(events.signedIn);
    await assert.rejects(cancelling.ended, (error) => error === cancel);
    assert.equal(cancelling.state.name, 'cancelled');
  });

  test('a watcher that throws is logged and the others still run', () => {
    const errors: string[] = [];
    const machine = new SignInMachine({ debug: () => undefined, error: (line) => errors.push(line) });
    let later = 0;
    machine.watch(() => {
      throw new Error('no window');
    });
    machine.watch(() => later++);
    machine.dispatch(events.browserStarted);
    assert.equal(later, 1);
    assert.match(errors[0] ?? '', /showing state browserWaiting failed: no window/);
  });
});
