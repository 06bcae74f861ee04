// Where a new step goes so that it covers no other step: the wanted point if it is free, else
// the nearest free point on a 20 px grid around it.
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const STEP_SIZE = { width: 200, height: 72 };
const GAP = 20;
const STEP = 20;
const REACH = 40; // grid steps each way: 800 px

// Offsets sorted by distance, nearest first, so the search stops at the closest free spot.
const OFFSETS: [number, number][] = (() => {
  const all: [number, number][] = [];
  for (let i = -REACH; i <= REACH; i++) for (let j = -REACH; j <= REACH; j++) all.push([i * STEP, j * STEP]);
  return all.sort((a, b) => a[0] ** 2 + a[1] ** 2 - (b[0] ** 2 + b[1] ** 2));
})();

export function overlaps(a: Box, b: Box, gap = 0): boolean {
  return a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;
}

export function freeSpot(wanted: { x: number; y: number }, taken: Box[], size = STEP_SIZE): { x: number; y: number } {
  for (const [dx, dy] of OFFSETS) {
    const box = { x: wanted.x + dx, y: wanted.y + dy, ...size };
    if (!taken.some((other) => overlaps(box, other, GAP))) return { x: box.x, y: box.y };
  }
  // Everything near is full: below the lowest step.
  const bottom = Math.max(...taken.map((box) => box.y + box.height));
  return { x: wanted.x, y: bottom + GAP * 2 };
}
