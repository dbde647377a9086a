import { Box, Text } from 'ink';
import React from 'react';
import type { ResultInfo } from './hooks/use-operator-results.js';
import { oneLine, truncate, wrap } from './wrap.js';

export function hintText(labels: { approve: string; help: string }): string {
  return `Enter: to chat-Claude · @id: text · ${labels.approve} approve · /drop /pause /resume /quit · ${labels.help} help`;
}

/** The result's text as rows: at most `rows`, the last one cut with an ellipsis. */
export function resultRows(r: ResultInfo, width: number, rows: number): { mark: string; head: string; lines: string[] } {
  const mark = r.level ? '!' : r.ok ? '✓' : '✗';
  const from = r.source ? `[${r.source}] ` : '';
  const input = r.input ? `${truncate(oneLine(r.input), Math.max(8, Math.floor(width / 3)))} → ` : '';
  const head = `${from}${input}`;
  const all = wrap(`${head}${oneLine(r.message)}`, Math.max(8, width - 2));
  const lines = all.slice(0, rows);
  if (all.length > rows) lines[rows - 1] = truncate(`${lines[rows - 1]} …`, Math.max(8, width - 2));
  return { mark, head, lines };
}

/** Rows the result would like (1 or 2). */
export function resultHeight(r: ResultInfo | null, width: number): number {
  return r ? resultRows(r, width, 2).lines.length : 1;
}

/** The outcome of the last command (never silently dropped), or a hint when there is none. */
export function ResultLine({ result, width, rows, hint }: { result: ResultInfo | null; width: number; rows: number; hint: string }) {
  if (!result) {
    return (
      <Box height={rows} overflowY="hidden">
        <Text dimColor wrap="truncate-end">
          {hint}
        </Text>
      </Box>
    );
  }
  const color = result.level === 'warn' ? 'yellow' : result.level === 'error' ? 'red' : result.ok ? 'green' : 'red';
  const { mark, head, lines } = resultRows(result, width, rows);
  return (
    <Box flexDirection="column" height={rows} overflowY="hidden">
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate-end">
          <Text color={color} bold>
            {i === 0 ? `${mark} ` : '  '}
          </Text>
          {i === 0 && head && l.startsWith(head) ? (
            <>
              <Text dimColor>{head}</Text>
              <Text color={color}>{l.slice(head.length)}</Text>
            </>
          ) : (
            <Text color={color}>{l}</Text>
          )}
        </Text>
      ))}
    </Box>
  );
}
