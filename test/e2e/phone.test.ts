import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeNtfy } from '../../src/demo/ntfy/fake-ntfy.js';
import { createHarness, type Harness } from '../helpers/harness.js';

/** Answering from the phone: ntfy action buttons publish to a secret reply topic the relay subscribes to. */

const REPLY = 'relay-test-reply-topic';
let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function start(acceptReplies = true): Promise<void> {
  h = await createHarness();
  h.env.NTFY_REPLY_TOPIC = REPLY;
  h.writeConfig({ ntfy: { accept_replies: acceptReplies, away_after_s: 120, always: false } });
  await h.startRelay();
}

/** What tapping a button does: the action's HTTP request, sent as the phone would. */
async function tap(action: any): Promise<void> {
  const res = await fetch(action.url, { method: action.method ?? 'POST', body: action.body, headers: action.headers });
  expect(res.ok).toBe(true);
}

async function publish(text: string): Promise<void> {
  const res = await fetch(`${h.ntfy.url}/${REPLY}`, { method: 'POST', body: text });
  expect(res.ok).toBe(true);
}

async function heldPing() {
  h.enqueue('session-1', 'NEEDS-JC-PLEASE can I rotate the prod keys?');
  await h.waitStatus((s) => s.state === 'needs_jc');
  return h.ntfy.waitFor((m) => m.topic === 'relay-test-topic' && m.priority === 5);
}

describe('answer from the phone', () => {
  it('a [NEEDS-JC] ping carries Approve, Drop and Answer; Approve dispatches and is confirmed', async () => {
    await start();
    const ping = await heldPing();
    expect(ping.actions?.map((a: any) => a.label)).toEqual(['Approve', 'Drop', 'Answer']);
    const approve = ping.actions!.find((a: any) => a.label === 'Approve');
    expect(approve.url).toBe(`${h.ntfy.url}/${REPLY}`);
    expect(approve.body).toMatch(/^\/approve [0-9A-F]{6}$/);
    await tap(approve);
    expect(await h.waitFile(h.input('session-1'))).toMatch(/^\[NEEDS-JC\]/);
    await h.waitStatus((s) => s.state === 'running');
    const confirm = await h.ntfy.waitFor((m) => m.topic === 'relay-test-topic' && /approved: dispatched to session-1/.test(m.message));
    expect(confirm.priority).toBe(2);
    expect(fs.readFileSync(h.paths.audit, 'utf8')).toMatch(/"source":"ntfy","action":"approve"/);
  });

  it('a stale code is refused with a ping saying the pause is over', async () => {
    await start();
    const ping = await heldPing();
    const drop = ping.actions!.find((a: any) => a.label === 'Drop');
    await h.cli(['say', '--root', h.root, '/approve']);
    await h.waitStatus((s) => s.state === 'running');
    await tap(drop);
    await h.ntfy.waitFor((m) => /already over/.test(m.message));
    // The approved reply was delivered; the late Drop changed nothing.
    expect(await h.waitFile(h.input('session-1'))).toMatch(/^\[NEEDS-JC\]/);
  });

  it('free text answers an open pause; without a pause it is refused', async () => {
    await start();
    await publish('just some text with no pause open');
    await h.ntfy.waitFor((m) => /no pause is open/.test(m.message));
    expect(h.api.requests).toHaveLength(0);
    await heldPing();
    await publish('Yes, rotate them, but announce it first.');
    const reply = await h.waitFile(h.input('session-1'));
    expect(reply).not.toMatch(/NEEDS-JC/);
    expect(h.api.requests[1].lastUserText).toContain('Yes, rotate them');
  });

  it('a reply sent while the relay was down is applied exactly once after restart', async () => {
    await start();
    const ping = await heldPing();
    await h.stopRelay();
    await tap(ping.actions!.find((a: any) => a.label === 'Approve'));
    await h.startRelay();
    expect(await h.waitFile(h.input('session-1'))).toMatch(/^\[NEEDS-JC\]/);
    await h.waitStatus((s) => s.state === 'running');
    // Restart again: the same message is offered again by since= but must not be applied twice.
    await h.cli(['recv', '--root', h.root, '--session', 'session-1']);
    await h.stopRelay();
    await h.startRelay();
    await h.waitStatus((s) => s.state === 'running');
    const applied = fs
      .readFileSync(h.paths.audit, 'utf8')
      .split('\n')
      .filter((l) => /"source":"ntfy","action":"approve"/.test(l));
    expect(applied).toHaveLength(1);
    expect(fs.existsSync(h.input('session-1'))).toBe(false);
  });

  it('the subscription survives the server going away and coming back', async () => {
    await start();
    const port = h.ntfy.port;
    const store = h.ntfy.store;
    await h.ntfy.close();
    h.ntfy = await startFakeNtfy({ port, store });
    h.enqueue('session-1', 'NEEDS-JC-PLEASE merge now?');
    await h.waitStatus((s) => s.state === 'needs_jc');
    const ping = await h.ntfy.waitFor((m) => m.priority === 5 && !!m.actions);
    await tap(ping.actions!.find((a: any) => a.label === 'Approve'));
    expect(await h.waitFile(h.input('session-1'), 20_000)).toMatch(/^\[NEEDS-JC\]/);
  });

  it('nothing is accepted while accept_replies is off, and pings carry no buttons', async () => {
    await start(false);
    const ping = await heldPing();
    expect(ping.actions ?? []).toHaveLength(0);
    await publish('/approve');
    await publish('approve it please');
    // Prove the relay is alive and still paused after the publishes were delivered to any subscriber.
    await h.cli(['say', '--root', h.root, '/pause']);
    const s = await h.waitStatus((s) => /paused by the operator/.test(JSON.stringify(s)) || s.state === 'needs_jc');
    expect(s.state).toBe('needs_jc');
    expect(fs.existsSync(h.input('session-1'))).toBe(false);
    expect(fs.readFileSync(h.paths.audit, 'utf8')).not.toMatch(/"source":"ntfy"/);
  });
});
