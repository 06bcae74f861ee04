// The keyboard shortcuts, listed in a dialog opened with `?`.
import { useEffect, useRef } from "react";

export const SHORTCUTS: [string, string][] = [
  ["/", "search the palette (Enter adds the first match)"],
  ["Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y)", "undo / redo"],
  ["Delete or Backspace", "delete the selection"],
  ["Ctrl+C / Ctrl+V", "copy / paste (also into another workflow, or machine to machine)"],
  ["Ctrl+D", "duplicate the selection"],
  ["Ctrl+A", "select everything"],
  ["Shift+click, Shift+drag", "add to the selection, select with a box"],
  ["Tab, then Enter", "go to a step and select it"],
  ["Arrow keys", "move the selected steps; with none selected, pan the view (Shift: further)"],
  ["C", "connect the selected step to another (choose output and step)"],
  ["L", "auto-layout"],
  ["F", "fit the view"],
  ["+ / -", "zoom in / out"],
  ["G", "snap to the grid on or off"],
  ["Ctrl+S", "save now"],
  ["Escape", "clear the selection, close dialogs"],
  ["?", "this help"],
];

export default function HelpOverlay({ onClose }: { onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="help-title" onClose={onClose}>
      <h2 id="help-title">Keyboard shortcuts</h2>
      <table className="table">
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={keys}>
              <th scope="row"><kbd>{keys}</kbd></th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="dialog">
        <button className="button" type="submit">Close</button>
      </form>
    </dialog>
  );
}
