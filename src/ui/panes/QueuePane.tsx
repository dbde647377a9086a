import { Box, Text } from 'ink';
import React from 'react';
import type { Status } from '../../protocol/status.js';
import { age } from '../format.js';
import { oneLine } from '../wrap.js';
import { PaneTitle } from './PaneTitle.js';

/** Queue depth, the oldest envelope's age, rejected envelopes and the last reason. */
export function QueuePane({ status, now, width, height }: { status: Status; now: number; width: number; height: number }) {
  if (height <= 0) return null;
  const depth = status.queue_depth;
  // An age, like every other (7s, 14m): a held session's queued envelopes must not need a frame a second.
  const oldest = status.queue_oldest_at ? age(status.queue_oldest_at, now) : null;
  const rej = status.last_rejection;
  const lines = [
    <Text key="d" wrap="truncate-end">
      <Text bold color={depth > 0 ? 'yellow' : undefined}>
        {depth}
      </Text>
      {` queued`}
      {oldest && depth > 0 ? <Text>{` · oldest ${oldest}`}</Text> : <Text dimColor>{depth === 0 ? ' · empty' : ''}</Text>}
    </Text>,
    <Text key="r" wrap="truncate-end">
      <Text bold color={status.rejected_count > 0 ? 'red' : undefined}>
        {status.rejected_count}
      </Text>
      {` rejected`}
      {rej ? <Text dimColor>{` · last ${rej.file}`}</Text> : null}
    </Text>,
    rej ? (
      <Text key="w" wrap="truncate-end" color="red">
        {`why: ${oneLine(rej.reason)}`}
      </Text>
    ) : (
      <Text key="w" dimColor wrap="truncate-end">
        {status.last_dispatch_session ? `last dispatch → ${status.last_dispatch_session}` : 'no dispatch yet'}
      </Text>
    ),
  ];
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <PaneTitle title="Queue" width={width} />
      {lines.slice(0, height - 1)}
    </Box>
  );
}
