// The one-line notice screen readers announce: what an action did, or why it did nothing.
import { useCallback, useState } from "react";

const SHOWN_MS = 6000;

export interface Notice {
  text: string;
  // Shows `text` for a few seconds, unless another notice replaces it first.
  say(text: string): void;
  // Shows `text` until the next notice (for work in progress).
  hold(text: string): void;
}

export function useNotice(): Notice {
  const [text, setText] = useState("");
  const say = useCallback((next: string) => {
    setText(next);
    window.setTimeout(() => setText((current) => (current === next ? "" : current)), SHOWN_MS);
  }, []);
  return { text, say, hold: setText };
}
