// A duration as a number and a unit; stored as the engine reads durations: seconds as a number,
// or text such as "15m", "48h", "7d".
import { useEffect, useState } from "react";
import type { ControlProps } from "./panelControls";

const UNITS: [string, string][] = [
  ["s", "seconds"],
  ["m", "minutes"],
  ["h", "hours"],
  ["d", "days"],
  ["w", "weeks"],
];

function split(value: unknown): { amount: string; unit: string } {
  if (typeof value === "number") return { amount: String(value), unit: "s" };
  // A sign is read too: "-5d" typed here must come back as -5 days, for the server to name the
  // field, not as text a number input cannot show (it would empty itself and post nothing).
  const found = /^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(String(value ?? ""));
  if (!found) return { amount: String(value ?? ""), unit: "s" };
  const unit = found[2] === "ms" ? "s" : (found[2] ?? "s");
  const amount = found[2] === "ms" ? String(Number(found[1]) / 1000) : found[1];
  return { amount, unit };
}

export function DurationInput({ id, title, value, disabled, onChange }: ControlProps) {
  const [shown, setShown] = useState(() => split(value));
  const outside = JSON.stringify(value ?? null);
  useEffect(() => setShown(split(value)), [outside]);
  const save = (amount: string, unit: string, now: boolean) => {
    setShown({ amount, unit });
    if (amount.trim() === "") return onChange(undefined, now);
    const number = Number(amount);
    // A unit of seconds is stored as a number; anything unreadable is kept as typed, for validation to name.
    if (unit === "s" && Number.isFinite(number)) return onChange(number, now);
    onChange(Number.isFinite(number) ? `${amount.trim()}${unit}` : amount, now);
  };
  return (
    <div className="duration-input">
      {/* No min="0": the browser would block the form's post of -5 without a word; the server's
          validation names the field instead, as it does for every other bound. */}
      <input id={id} type="number" step="any" inputMode="decimal" value={shown.amount} disabled={disabled} onChange={(event) => save(event.target.value, shown.unit, false)} />
      <select aria-label={`${title}: unit`} value={shown.unit} disabled={disabled} onChange={(event) => save(shown.amount, event.target.value, true)}>
        {UNITS.map(([unit, label]) => <option key={unit} value={unit}>{label}</option>)}
      </select>
    </div>
  );
}
