import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

export interface TerminalSize {
  columns: number;
  rows: number;
}

/**
 * The terminal's size, updated on 'resize'. The listener is prepended so the new
 * layout is committed before Ink redraws the old tree at the new size (a frame taller
 * than the terminal makes Ink clear the screen and the scrollback).
 */
export function useTerminalSize(): TerminalSize {
  const { stdout } = useStdout();
  const read = (): TerminalSize => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () =>
      setSize((s) => {
        const n = read();
        return n.columns === s.columns && n.rows === s.rows ? s : n;
      });
    stdout.prependListener('resize', onResize);
    onResize();
    return () => {
      stdout.off('resize', onResize);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stdout]);
  return size;
}
