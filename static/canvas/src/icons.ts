// Node type icons (the library names them) as plain characters: no icon font, no CDN.
const ICONS: Record<string, string> = {
  bolt: "⚡", play: "▶", clock: "⏰", link: "🔗", sparkles: "✨", mail: "✉", send: "📣",
  globe: "🌐", code: "⌘", database: "🗄", split: "⑂", merge: "⤝", repeat: "↻", fork: "⑃",
  switch: "⇶", hourglass: "⏳", flag: "⚑", variable: "𝑥", layers: "▤", shuffle: "⇄",
  inbox: "📥", check: "✔", eye: "👁",
};

export function iconFor(name: string): string {
  return ICONS[name] ?? "●";
}
