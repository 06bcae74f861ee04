// Keyboard shortcuts of the canvas; typing in a field, the side panel or a dialog is left alone.
export interface ShortcutActions {
  undo(): void;
  redo(): void;
  remove(): void;
  copy(): void;
  paste(): void;
  duplicate(): void;
  selectAll(): void;
  layout(): void;
  fit(): void;
  zoomIn(): void;
  zoomOut(): void;
  toggleSnap(): void;
  save(): void;
  help(): void;
  connect(): void;
  // Pans the view unless steps are selected (then React Flow moves them); true if it panned.
  pan(dx: number, dy: number): boolean;
  search(): void;
  escape(): void;
}

const PAN: Record<string, [number, number]> = {
  arrowleft: [-1, 0],
  arrowright: [1, 0],
  arrowup: [0, -1],
  arrowdown: [0, 1],
};

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  // A dialog that has just closed may still hold the focus until React removes it.
  if (target.closest("#panel, dialog[open]")) return true;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}

export function handleShortcut(event: KeyboardEvent, actions: ShortcutActions): void {
  if (typing(event.target) || document.querySelector("dialog[open]")) return;
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.toLowerCase();
  let action: (() => void) | null = null;
  if (mod && key === "z") action = event.shiftKey ? actions.redo : actions.undo;
  else if (mod && key === "y") action = actions.redo;
  else if (mod && key === "c") action = actions.copy;
  else if (mod && key === "v") action = actions.paste;
  else if (mod && key === "d") action = actions.duplicate;
  else if (mod && key === "a") action = actions.selectAll;
  else if (mod && key === "s") action = actions.save;
  else if (mod || event.altKey) return;
  else if (key === "delete" || key === "backspace") action = actions.remove;
  else if (key === "l") action = actions.layout;
  else if (key === "c") action = actions.connect;
  else if (key === "f") action = actions.fit;
  else if (key === "+" || key === "=") action = actions.zoomIn;
  else if (key === "-") action = actions.zoomOut;
  else if (key === "g") action = actions.toggleSnap;
  else if (key === "?") action = actions.help;
  else if (key === "/") action = actions.search;
  else if (key === "escape") action = actions.escape;
  else if (key in PAN) {
    const [dx, dy] = PAN[key];
    const step = event.shiftKey ? 200 : 60;
    if (actions.pan(dx * step, dy * step)) event.preventDefault();
    return;
  }
  if (action) {
    event.preventDefault();
    action();
  }
}
