// A text input that changes the draft when the user is done with it (leaving it, or Enter on a
// single line), not at each key: one undo step per edit, and no save of half a word.
import { useEffect, useState } from "react";

interface Props {
  id: string;
  value: string;
  multiline?: boolean;
  className?: string;
  placeholder?: string;
  disabled?: boolean;
  invalid?: boolean;
  describedBy?: string;
  onCommit(text: string): void;
}

export default function CommitInput({ id, value, multiline, className, placeholder, disabled, invalid, describedBy, onCommit }: Props) {
  const [text, setText] = useState(value);
  // Undo, redo and reloads change the value from outside.
  useEffect(() => setText(value), [value]);
  const common = {
    id,
    className,
    placeholder,
    disabled,
    value: text,
    spellCheck: multiline ? false : undefined,
    autoComplete: "off",
    "aria-invalid": invalid || undefined,
    "aria-describedby": describedBy,
    onBlur: () => {
      if (text !== value) onCommit(text);
    },
  };
  if (multiline) return <textarea {...common} rows={3} onChange={(event) => setText(event.target.value)} />;
  return (
    <input
      {...common}
      onChange={(event) => setText(event.target.value)}
      onKeyDown={(event) => {
        if (event.key === "Enter" && text !== value) onCommit(text);
      }}
    />
  );
}
