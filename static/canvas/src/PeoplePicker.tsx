// Users and groups as chips, found by searching /api/people; the value is stored as the engine
// reads assignees: {"users": [...], "groups": [...]}. A name the search does not know can still
// be added as typed (a group created later, or a server without the search).
import { useEffect, useId, useRef, useState } from "react";
import { missing, searchPeople, type Person } from "./designerApi";
import type { ControlProps } from "./panelControls";

interface Chosen {
  users: string[];
  groups: string[];
}

function chosenOf(value: unknown): Chosen {
  const record = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const list = (key: string) => (Array.isArray(record[key]) ? (record[key] as unknown[]).map(String) : []);
  return { users: list("users"), groups: list("groups") };
}

export function PeoplePicker({ id, title, value, disabled, onChange }: ControlProps) {
  const chosen = chosenOf(value);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<Person[]>([]);
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState("");
  const listId = useId();
  const asked = useRef(0);

  useEffect(() => {
    const text = query.trim();
    if (!text) {
      setFound([]);
      return undefined;
    }
    const ticket = ++asked.current;
    const timer = window.setTimeout(() => {
      searchPeople(text)
        .then((people) => ticket === asked.current && setFound(people.slice(0, 20)))
        .catch((error) => {
          if (ticket !== asked.current) return;
          setFound([]);
          setNote(missing(error) ? "" : "The search failed; you can still add the name as typed.");
        });
    }, 200);
    return () => window.clearTimeout(timer);
  }, [query]);

  const typed = query.trim();
  const options: Person[] = [...found];
  if (typed && !found.some((person) => person.name === typed && person.kind === "user")) {
    options.push({ kind: "user", name: typed, label: `Add user “${typed}”` });
  }
  if (typed && !found.some((person) => person.name === typed && person.kind === "group")) {
    options.push({ kind: "group", name: typed, label: `Add group “${typed}”` });
  }

  const save = (next: Chosen) => {
    const out: Record<string, string[]> = {};
    if (next.users.length) out.users = next.users;
    if (next.groups.length) out.groups = next.groups;
    onChange(Object.keys(out).length ? out : undefined, true);
  };
  const choose = (person: Person) => {
    const key = person.kind === "group" ? "groups" : "users";
    if (!chosen[key].includes(person.name)) save({ ...chosen, [key]: [...chosen[key], person.name] });
    setQuery("");
    setOpen(false);
    setActive(0);
  };
  const remove = (kind: "users" | "groups", name: string) =>
    save({ ...chosen, [kind]: chosen[kind].filter((item) => item !== name) });

  const chips = [
    ...chosen.users.map((name) => ({ kind: "users" as const, name })),
    ...chosen.groups.map((name) => ({ kind: "groups" as const, name })),
  ];
  const expanded = open && options.length > 0;
  return (
    <div className="people-picker">
      {chips.length > 0 && (
        <ul className="chips" aria-label={`${title}: chosen`}>
          {chips.map((chip) => (
            <li key={`${chip.kind}:${chip.name}`} className={`chip chip-${chip.kind}`} data-testid={`chip-${chip.kind}-${chip.name}`}>
              <span aria-hidden="true">{chip.kind === "groups" ? "👥" : "👤"}</span> {chip.name}
              <span className="visually-hidden">({chip.kind === "groups" ? "group" : "user"})</span>
              {!disabled && (
                <button type="button" className="chip-remove" aria-label={`Remove ${chip.name}`} onClick={() => remove(chip.kind, chip.name)}>×</button>
              )}
            </li>
          ))}
        </ul>
      )}
      {!disabled && (
        <div className="combo">
          <input
            id={id}
            type="text"
            role="combobox"
            autoComplete="off"
            placeholder="Search people or groups"
            aria-autocomplete="list"
            aria-expanded={expanded}
            aria-controls={listId}
            aria-activedescendant={expanded ? `${listId}-${active}` : undefined}
            value={query}
            onChange={(event) => {
              setQuery(event.target.value);
              setOpen(true);
              setActive(0);
              setNote("");
            }}
            onBlur={() => window.setTimeout(() => setOpen(false), 150)}
            onKeyDown={(event) => {
              if (event.key === "ArrowDown" && options.length) {
                event.preventDefault();
                setOpen(true);
                setActive((active + 1) % options.length);
              } else if (event.key === "ArrowUp" && options.length) {
                event.preventDefault();
                setActive((active - 1 + options.length) % options.length);
              } else if (event.key === "Enter") {
                // Enter picks; it must not submit the panel's form with a half-typed name.
                event.preventDefault();
                if (expanded) choose(options[active]);
              } else if (event.key === "Escape") {
                setOpen(false);
              }
            }}
          />
          <ul id={listId} role="listbox" className="combo-list" aria-label={`${title}: matches`} hidden={!expanded}>
            {options.map((person, index) => (
              <li
                key={`${person.kind}:${person.name}:${index}`}
                id={`${listId}-${index}`}
                role="option"
                aria-selected={index === active}
                className={index === active ? "active" : undefined}
                onMouseDown={(event) => {
                  event.preventDefault();
                  choose(person);
                }}
              >
                {person.label} <small>{person.kind}</small>
              </li>
            ))}
          </ul>
        </div>
      )}
      {note && <small className="hint">{note}</small>}
    </div>
  );
}
