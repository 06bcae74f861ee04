// Debounced saves of the draft with its revision; a stale revision is a conflict, never a loss.
import { api, ApiError } from "./api";
import type { Problem } from "./types";

export type SaveStatus = "saved" | "pending" | "saving" | "conflict" | "error";

interface DraftOut {
  revision: number;
  problems: Problem[];
}

export interface SaverEvents {
  status(status: SaveStatus, detail?: string): void;
  saved(revision: number, problems: Problem[]): void;
  conflict(currentRevision: number | null): void;
}

const DELAY_MS = 600;

// `D` is the document saved: a workflow's graph or a machine's definition, sent as `field`.
export class Saver<D = unknown> {
  private timer: number | undefined;
  private inFlight = false;
  private queued: (() => D) | null = null;
  private blocked = false;

  constructor(
    private url: string,
    private field: string,
    public revision: number,
    private events: SaverEvents,
  ) {}

  get dirty(): boolean {
    return this.queued !== null || this.inFlight || this.blocked;
  }

  // Ask for a save of whatever `read` returns when the delay has passed.
  schedule(read: () => D): void {
    this.queued = read;
    if (this.blocked) return;
    this.events.status("pending");
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.flush(), DELAY_MS);
  }

  async flush(): Promise<void> {
    window.clearTimeout(this.timer);
    if (this.inFlight || this.blocked || !this.queued) return;
    const read = this.queued;
    this.queued = null;
    this.inFlight = true;
    this.events.status("saving");
    try {
      const out = await api<DraftOut>("PUT", this.url, { [this.field]: read(), revision: this.revision });
      this.revision = out.revision;
      this.events.saved(out.revision, out.problems);
      if (!this.queued) this.events.status("saved");
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        // Keep the unsaved edit: the user chooses between reloading and overwriting.
        this.queued = this.queued ?? read;
        this.blocked = true;
        this.events.status("conflict");
        const current = error.body.current_revision;
        this.events.conflict(typeof current === "number" ? current : null);
      } else {
        this.queued = this.queued ?? read;
        this.events.status("error", error instanceof Error ? error.message : String(error));
      }
    } finally {
      this.inFlight = false;
    }
    if (this.queued && !this.blocked) this.timer = window.setTimeout(() => void this.flush(), DELAY_MS);
  }

  // Save now and wait until nothing is left to save (before publishing or running).
  async settle(): Promise<void> {
    for (let round = 0; round < 50 && (this.queued || this.inFlight) && !this.blocked; round += 1) {
      if (this.inFlight) await new Promise((resolve) => window.setTimeout(resolve, 50));
      else await this.flush();
    }
  }

  // Save over someone else's draft: the user saw the conflict and chose their own edit.
  async overwrite(currentRevision: number, read: () => D): Promise<void> {
    this.blocked = false;
    this.revision = currentRevision;
    this.queued = read;
    await this.flush();
  }

  // Drop the unsaved edit: the user chose to reload the saved draft.
  reset(revision: number): void {
    window.clearTimeout(this.timer);
    this.queued = null;
    this.blocked = false;
    this.revision = revision;
    this.events.status("saved");
  }
}
