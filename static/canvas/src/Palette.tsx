// The searchable palette of node types, grouped; drag onto the canvas or press Enter to add.
import { useMemo, useState, type DragEvent } from "react";
import Icon from "./Icon";
import type { NodeTypeInfo } from "./types";

export const DRAG_TYPE = "application/x-stepwise-node";
const GROUPS = ["triggers", "actions", "logic", "flow", "human"];

interface Props {
  types: NodeTypeInfo[];
  disabled: boolean;
  onAdd(type: string): void;
}

export default function Palette({ types, disabled, onAdd }: Props) {
  const [query, setQuery] = useState("");
  const shown = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return types.filter((info) => {
      const text = `${info.title} ${info.type} ${info.group} ${info.description}`.toLowerCase();
      return words.every((word) => text.includes(word));
    });
  }, [types, query]);
  const start = (event: DragEvent, type: string) => {
    event.dataTransfer.setData(DRAG_TYPE, type);
    event.dataTransfer.effectAllowed = "move";
  };
  return (
    <nav className="palette" aria-label="Node palette">
      <label className="visually-hidden" htmlFor="palette-search">Search node types</label>
      <input
        id="palette-search"
        type="search"
        placeholder="Search steps"
        aria-keyshortcuts="/"
        value={query}
        onChange={(event) => setQuery(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter" && shown.length > 0 && !disabled) onAdd(shown[0].type);
        }}
      />
      {GROUPS.map((group) => {
        const items = shown.filter((info) => info.group === group);
        if (!items.length) return null;
        return (
          <section key={group} aria-labelledby={`palette-${group}`}>
            <h3 id={`palette-${group}`}>{group}</h3>
            <ul role="list">
              {items.map((info) => (
                <li key={info.type}>
                  <button
                    type="button"
                    className="palette-item"
                    draggable={!disabled}
                    disabled={disabled}
                    data-type={info.type}
                    onDragStart={(event) => start(event, info.type)}
                    onClick={() => onAdd(info.type)}
                    title={info.description}
                    aria-label={`Add ${info.title}: ${info.description}`}
                  >
                    <Icon name={info.icon} /> {info.title}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        );
      })}
      {!shown.length && <p className="hint">No step matches “{query}”.</p>}
    </nav>
  );
}
