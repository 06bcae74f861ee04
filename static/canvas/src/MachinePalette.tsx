// What a machine is drawn with: states, final states and compound states (a state with a child).
import type { StateKind } from "./useMachineEditing";

const KINDS: [StateKind, string, string][] = [
  ["state", "State", "a state the machine can be in"],
  ["final", "Final state", "the machine ends here: nothing leaves it"],
  ["compound", "Compound state", "a state with child states, entering one of them first"],
];

export default function MachinePalette({ disabled, onAdd }: { disabled: boolean; onAdd(kind: StateKind): void }) {
  return (
    <nav className="palette" aria-label="State palette">
      <h3>States</h3>
      <ul role="list">
        {KINDS.map(([kind, title, what]) => (
          <li key={kind}>
            <button type="button" className={`palette-item palette-${kind}`} disabled={disabled} onClick={() => onAdd(kind)} aria-label={`Add ${title}: ${what}`} title={what}>
              {title}
            </button>
          </li>
        ))}
      </ul>
      <p className="hint palette-hint">
        Drag from a state's right edge to another state (or back onto itself) to add a transition; select one and press C to
        choose its target from a list.
      </p>
    </nav>
  );
}
