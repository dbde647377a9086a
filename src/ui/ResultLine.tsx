import { Text } from 'ink';
import React from 'react';
import type { ResultInfo } from './use-operator-results.js';
import { oneLine } from './wrap.js';

const HINT = 'Enter: to chat-Claude · @id: text · /approve /drop /pause /resume /quit · ? help';

/** The outcome of the last command (never silently dropped), or a hint when there is none yet. */
export function ResultLine({ result }: { result: ResultInfo | null }) {
  if (!result) {
    return (
      <Text dimColor wrap="truncate-end">
        {HINT}
      </Text>
    );
  }
  const mark = result.level ? '!' : result.ok ? '✓' : '✗';
  const color = result.level === 'warn' ? 'yellow' : result.ok ? 'green' : 'red';
  const from = result.source ? `[${result.source}] ` : '';
  const input = result.input ? `${oneLine(result.input)} → ` : '';
  return (
    <Text wrap="truncate-end">
      <Text color={color} bold>{`${mark} `}</Text>
      <Text dimColor>{`${from}${input}`}</Text>
      <Text color={color}>{oneLine(result.message)}</Text>
    </Text>
  );
}
