import { Box, Text } from 'ink';
import React from 'react';
import { BODY_INDENT, keyLines, type BannerContent } from './banner-content.js';
import { truncate, wrap } from './wrap.js';

/** The pause banner: what happened (the held question, the reason, the API message) and the keys. */
export function Banner({ content: c, width, height }: { content: BannerContent; width: number; height: number }) {
  if (height <= 0) return null;
  const inner = Math.max(8, width - BODY_INDENT.length);
  let body = c.body ? wrap(c.body, inner) : [];
  // The start of the question before the keys: with little room, one line of keys.
  const bodyWant = Math.min(body.length, 2);
  const keys = keyLines(c.keys, inner).slice(
    0,
    Math.min(height >= 8 ? 4 : 2, Math.max(height - 1 - bodyWant > 0 ? 1 : 0, height - 1 - bodyWant)),
  );
  const room = Math.max(0, height - 1 - keys.length);
  if (body.length > room) {
    body = body.slice(0, room);
    if (room > 0) body[room - 1] = truncate(`${body[room - 1]} …`, inner);
  }
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <Text wrap="truncate-end" bold inverse color={c.color}>
        {` ${c.title} `}
      </Text>
      {body.map((line, i) => (
        <Text key={`b${i}`} wrap="truncate-end">
          <Text color={c.color}>{BODY_INDENT}</Text>
          {line}
        </Text>
      ))}
      {keys.map((line, i) => (
        <Text key={`k${i}`} wrap="truncate-end">
          <Text color={c.color}>{BODY_INDENT}</Text>
          <Text bold>{line}</Text>
        </Text>
      ))}
    </Box>
  );
}
