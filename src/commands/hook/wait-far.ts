import readline from 'node:readline';
import type { RootPaths } from '../../protocol/root.js';
import { ackClaim, deliveryState, rememberDelivered, releaseClaim, type Claimed } from './claim.js';

/**
 * The late-reply waiter of a session on another machine (issue 25, item 16), far half.
 *
 * The session's machine runs the waiter as its asyncRewake Stop hook and holds one ssh
 * channel to the relay's host, where `remote-guard hook wait` runs this waiter in its
 * own process: the same lock, the same "is this turn over" rules and the same claim as a
 * local waiter, bound to the channel instead of a Claude Code process, which is on the
 * other machine. Over the channel, one JSON object a line:
 *
 *   far -> client  {"t":"ready","t0":MS}             waiting; t0 on the far clock
 *   far -> client  {"t":"reply","nonce":N,"reason":R} claimed (not yet acked)
 *   client -> far  take N | leave                     its Claude Code is there (or not)
 *   far -> client  {"t":"acked"}                      input.txt is gone: the relay has its ack
 *
 * The client exits 2 (Claude Code wakes the session with R) only after "acked". Locally a
 * woken prompt's UserPromptSubmit hook acks by the nonce; here the far side cannot tell
 * whether a Claude Code it cannot see is still there, so the client's "take" is the ack.
 * A channel that breaks before "take" reaches the far side releases the claim (the reply
 * waits for the next hook or the client's reconnect); one that breaks after the far ack
 * and before the client has read "acked" loses that delivery — the one window (a round
 * trip) where a reply can be consumed and not shown.
 */

export type FarLine = { t: 'ready'; t0: number } | { t: 'reply'; nonce: string; reason: string } | { t: 'acked' };

export function farLine(l: FarLine): string {
  return JSON.stringify(l) + '\n';
}

/** One line from the far waiter, or undefined for anything else (ssh banners, noise). */
export function parseFarLine(line: string): FarLine | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (o.t === 'ready' && typeof o.t0 === 'number' && Number.isFinite(o.t0)) return { t: 'ready', t0: o.t0 };
  if (o.t === 'reply' && typeof o.nonce === 'string' && typeof o.reason === 'string')
    return { t: 'reply', nonce: o.nonce, reason: o.reason };
  if (o.t === 'acked') return { t: 'acked' };
  return undefined;
}

/** How long the far side waits for the client's answer to a reply it offered. */
export const TAKE_TIMEOUT_MS = 30_000;

/** The far side's stdin, a line at a time; ends (undefined) when the channel closes. */
export class FarChannel {
  private readonly lines: string[] = [];
  private waiting: ((l: string | undefined) => void) | undefined;
  private ended = false;
  private readonly rl: readline.Interface;

  constructor(private readonly input: NodeJS.ReadableStream & { destroy?: () => void } = process.stdin) {
    const rl = (this.rl = readline.createInterface({ input, crlfDelay: Infinity }));
    rl.on('line', (l) => this.push(l));
    rl.on('close', () => {
      if (this.ended) return;
      this.ended = true;
      this.push(undefined);
      for (const cb of this.ends.splice(0)) cb();
    });
  }

  private readonly ends: Array<() => void> = [];

  /** Called once when the channel ends (at once if it has): the waiter then stands down. */
  onEnd(cb: () => void): void {
    if (this.ended) cb();
    else this.ends.push(cb);
  }

  private push(l: string | undefined): void {
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w(l);
    } else if (l !== undefined) this.lines.push(l);
  }

  /** Done with the channel: an open stdin would keep the far waiter's process alive. */
  close(): void {
    this.rl.close();
    this.input.destroy?.();
  }

  next(timeoutMs: number, signal: AbortSignal): Promise<string | undefined> {
    if (this.lines.length) return Promise.resolve(this.lines.shift());
    if (this.ended || signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (l: string | undefined) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiting = undefined;
        resolve(l);
      };
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting = done;
    });
  }
}

export interface FarEnd {
  channel: FarChannel;
  write: (s: string) => void;
}

/** Offers the claimed reply to the client; acks it on "take", releases it on anything else. */
export async function offerFar(
  far: FarEnd,
  p: RootPaths,
  session: string,
  got: Claimed,
  reason: string,
  signal: AbortSignal,
): Promise<boolean> {
  const nonce = got.record.nonce;
  far.write(farLine({ t: 'reply', nonce, reason }));
  const answer = await far.channel.next(TAKE_TIMEOUT_MS, signal);
  // Taken, but input.txt may no longer be what was claimed (read meanwhile by `recv`, or
  // taken back by the relay): acking then would deliver it twice, or something withdrawn.
  if (answer?.trim() !== `take ${nonce}` || deliveryState(p, session, nonce) !== 'current') {
    releaseClaim(p, session, nonce);
    return false;
  }
  rememberDelivered(p, session, nonce);
  ackClaim(p, session, nonce);
  far.write(farLine({ t: 'acked' }));
  return true;
}
