import { Box, Text } from 'ink';
import React from 'react';
import { helpLines, type Keymap } from './keys/keymap.js';
import { PaneTitle } from './panes/PaneTitle.js';
import { pad, width as textWidth, wrap } from './wrap.js';

export interface HelpRow {
  key: string;
  left: string;
  right: string;
  kind: 'key' | 'head' | 'grammar';
}

/** The help as rows of this width: each entry whole, its text wrapped under itself. */
export function helpRowsFor(km: Keymap, w: number): HelpRow[] {
  const lines = helpLines(km);
  const keyW = Math.min(Math.floor(w / 3), Math.max(...lines.filter((l) => l.kind === 'key').map((l) => textWidth(l.left))) + 2);
  const gramW = Math.min(Math.floor(w / 3), Math.max(...lines.filter((l) => l.kind === 'grammar').map((l) => textWidth(l.left))) + 2);
  const out: HelpRow[] = [];
  lines.forEach((l, i) => {
    if (l.kind === 'head') {
      out.push({ key: `h${i}`, left: `  ${l.left}`, right: '', kind: 'head' });
      return;
    }
    const lw = l.kind === 'key' ? keyW : gramW;
    const text = wrap(l.right, Math.max(8, w - 2 - lw));
    const lefts = wrap(l.left, Math.max(4, lw - 1));
    const n = Math.max(text.length, lefts.length);
    for (let j = 0; j < n; j++) out.push({ key: `${i}:${j}`, left: `  ${pad(lefts[j] ?? '', lw)}`, right: text[j] ?? '', kind: l.kind });
  });
  return out;
}

/** Every key (built from the keymap, so it cannot drift from what the keys do) and the prompt grammar; scrolls. */
export function HelpOverlay({ keymap, width, height, offset }: { keymap: Keymap; width: number; height: number; offset: number }) {
  if (height <= 0) return null;
  const rows = helpRowsFor(keymap, width);
  const room = Math.max(0, height - 1);
  const top = Math.max(0, Math.min(offset, rows.length - room));
  const shown = rows.slice(top, top + room);
  const more = rows.length > room;
  const detail = more
    ? `rows ${top + 1}–${top + shown.length} of ${rows.length} · ${keymap.label.scroll_up}/${keymap.label.scroll_down} or Up/Down scroll · ${keymap.label.newest} closes`
    : `${keymap.label.newest} or ${keymap.label.help} closes`;
  return (
    <Box flexDirection="column" width={width} height={height} overflowY="hidden">
      <PaneTitle title="Help" detail={detail} width={width} color="cyan" />
      {shown.map((r) =>
        r.kind === 'head' ? (
          <Text key={r.key} bold wrap="truncate-end">
            {r.left}
          </Text>
        ) : (
          <Text key={r.key} wrap="truncate-end">
            <Text bold={r.kind === 'key'} color={r.kind === 'key' ? 'cyan' : 'green'}>
              {r.left}
            </Text>
            {r.right}
          </Text>
        ),
      )}
    </Box>
  );
}

/** The furthest the help can scroll at this size. */
export function helpMaxOffset(km: Keymap, width: number, height: number): number {
  return Math.max(0, helpRowsFor(km, width).length - Math.max(0, height - 1));
}
