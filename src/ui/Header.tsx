import { Box, Text } from 'ink';
import React from 'react';
import type { Status } from '../protocol/status.js';
import { age, clock, count, duration, reasonLabel, shortTopic, since } from './format.js';
import { uptime } from './ticks.js';
import { oneLine } from './wrap.js';

export function stateLabel(s: Status): { text: string; color: string } {
  switch (s.state) {
    case 'running':
      return { text: '● RUNNING', color: 'green' };
    case 'needs_jc':
      return { text: '▲ NEEDS-JC', color: 'red' };
    case 'paused':
      return {
        text: `❚❚ PAUSED: ${reasonLabel(s.pause_reason)}${s.pause_until ? ` until ${clock(s.pause_until)}` : ''}`,
        color: 'yellow',
      };
    case 'error':
      return { text: `✖ ERROR: ${oneLine(s.pause_message ?? s.last_error ?? 'API error')}`, color: 'red' };
    case 'stopped':
      return { text: '■ STOPPED', color: 'gray' };
  }
}

function activity(s: Status, now: number): { text: string; color?: string; dim?: boolean } {
  if (s.retry) {
    const wait = Math.max(0, Date.parse(s.retry.next_at) - now);
    return { text: `↻ API retry ${s.retry.attempt}/${s.retry.of} in ${duration(wait)}: ${oneLine(s.retry.message)}`, color: 'yellow' };
  }
  if (s.inflight) {
    const f = s.inflight;
    const what = f.kind === 'summary' ? 'summarizing the conversation' : `API call for ${f.session}`;
    const chars = f.chars > 0 ? ` · ${count(f.chars)} chars streamed` : ' · waiting for the first token';
    return {
      text: `⟳ ${what} · ${duration(since(f.started_at, now))}${chars}${f.attempt > 1 ? ` · attempt ${f.attempt}` : ''}`,
      color: 'cyan',
    };
  }
  const last = s.last_dispatch_session
    ? `last dispatch → ${s.last_dispatch_session} ${age(s.last_dispatch_at, now)} ago`
    : 'no dispatch yet';
  return { text: `idle · ${last}`, dim: true };
}

/** Who answers as chat-Claude, after the model: ` · Claude Code (subscription (max))`; nothing for a status without it. */
export function backendLabel(s: Status): string {
  if (s.backend === 'claude-code') return ` · Claude Code (${s.account ?? 'account unknown yet'})`;
  if (s.backend === 'api') return ' · API';
  return '';
}

/** State (colour and words), model, uptime, ntfy topic; then what the relay is doing right now. */
export function Header({
  status: s,
  now,
  width,
  height,
  title,
}: {
  status: Status;
  now: number;
  width: number;
  height: number;
  title?: string;
}) {
  const st = stateLabel(s);
  const act = activity(s, now);
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <Text wrap="truncate-end">
        <Text bold>relay-tui</Text>
        {title ? <Text color="magenta" bold>{` ${title}`}</Text> : null}
        {'  '}
        <Text bold color={st.color} inverse={s.state === 'needs_jc'}>
          {st.text}
        </Text>
        <Text dimColor>{`  ${s.model}${backendLabel(s)} · up ${uptime(since(s.started_at, now))} · ntfy ${shortTopic(s.ntfy_topic)}`}</Text>
      </Text>
      {height > 1 ? (
        <Text wrap="truncate-end" color={act.color} dimColor={act.dim}>
          {act.text}
        </Text>
      ) : null}
    </Box>
  );
}
