// Node type icons (the library names them) drawn as small SVG paths: emoji and symbol glyphs
// are missing from many system fonts, and an icon font or CDN is not wanted.
const PATHS: Record<string, string> = {
  bolt: "M9 1 3 9h5l-1 6 6-9H8z",
  play: "M4 2l9 6-9 6z",
  clock: "M8 2a6 6 0 1 0 0.01 0M8 4.5V8l2.5 1.5",
  link: "M6.5 9.5l3-3M7 4.5l1.5-1.5a2.5 2.5 0 0 1 3.5 3.5L10.5 8M9 11.5L7.5 13A2.5 2.5 0 0 1 4 9.5L5.5 8",
  sparkles: "M8 1l1.5 5.5L15 8l-5.5 1.5L8 15l-1.5-5.5L1 8l5.5-1.5z",
  mail: "M2 4h12v9H2zM2 4l6 5 6-5",
  send: "M2 6v4h3l7 4V2L5 6zM5 10l1 4",
  globe: "M8 2a6 6 0 1 0 0.01 0M2 8h12M8 2c-3 3-3 9 0 12M8 2c3 3 3 9 0 12",
  code: "M5 4 1 8l4 4M11 4l4 4-4 4",
  database: "M3 4a5 2 0 1 0 10 0a5 2 0 1 0-10 0v8a5 2 0 0 0 10 0V4M3 8a5 2 0 0 0 10 0",
  split: "M8 15V9L3 3M8 9l5-6M1.5 4.5 3 3l1.5 1.5",
  merge: "M3 2l5 6 5-6M8 8v7",
  repeat: "M13 8a5 5 0 1 1-2-4M11 1v3h3",
  fork: "M1 8h5M6 8l8-5M6 8h8M6 8l8 5",
  switch: "M8 1l7 7-7 7-7-7z",
  hourglass: "M4 2h8M4 14h8M5 2c0 4 6 8 6 12M11 2c0 4-6 8-6 12",
  flag: "M4 15V2M4 2h8l-2 3 2 3H4",
  variable: "M5 3C3 3 3 4 3 5v2l-1 1 1 1v2c0 1 0 2 2 2M11 3c2 0 2 1 2 2v2l1 1-1 1v2c0 1 0 2-2 2M6 6l4 4M10 6l-4 4",
  layers: "M8 2l6 3-6 3-6-3zM2 8l6 3 6-3M2 11l6 3 6-3",
  shuffle: "M2 5h9M9 3l2 2-2 2M14 11H5M7 9l-2 2 2 2",
  inbox: "M2 9h3l1 2h4l1-2h3M2 9l2-6h8l2 6v4H2z",
  check: "M3 8l3.5 3.5L13 4",
  eye: "M1 8q7-7 14 0q-7 7-14 0zM8 6a2 2 0 1 0 0.01 0",
  scroll: "M3 3h10M3 6.5h10M3 10h7M3 13.5h5",
};
const FALLBACK = "M8 5a3 3 0 1 0 0.01 0";

export default function Icon({ name }: { name: string }) {
  return (
    <svg className="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
      <path d={PATHS[name] ?? FALLBACK} fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}
