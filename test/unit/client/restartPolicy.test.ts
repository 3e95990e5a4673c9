// The language client restarts a crashed server, but not one that keeps crashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartPolicy } from '../../../client/src/extension/restartPolicy';

function clock(start = 0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

test('restarts up to 4 crashes within 3 minutes, then gives up with a message saying what to do', () => {
  const c = clock();
  const policy = new RestartPolicy(4, 180_000, c.now);
  for (let i = 1; i <= 4; i++) {
    assert.deepEqual(policy.onCrash(), {
      restart: true,
      message: `QuantStudio language server stopped unexpectedly; restarting it (${i} of 4 restarts allowed in 3 minutes).`,
    });
    c.advance(10_000);
  }
  assert.deepEqual(policy.onCrash(), {
    restart: false,
    message:
      'QuantStudio language server crashed 5 times in 3 minutes and will not be restarted. Run "QuantStudio: Show Language Server Log" to see why, then reload the window.',
  });
});

test('crashes older than the window no longer count', () => {
  const c = clock();
  const policy = new RestartPolicy(2, 60_000, c.now);
  assert.equal(policy.onCrash().restart, true);
  assert.equal(policy.onCrash().restart, true);
  c.advance(60_001);
  const third = policy.onCrash();
  assert.equal(third.restart, true);
  assert.match(third.message, /restarting it \(1 of 2 restarts allowed in 1 minute\)/);
});
