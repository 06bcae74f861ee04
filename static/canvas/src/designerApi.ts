// The designer's helper endpoints (issue 14's contract): expression checks, step tests, pinned
// sample output, test runs of the draft, the people search, publishing. A server without one of
// them answers 404, which the callers show as "not available" rather than as an error.
import { api, ApiError } from "./api";

export interface ScopeName {
  name: string;
  type: string;
  doc: string;
}

export interface ExpressionCheck {
  problems: { message: string; position: number | null }[];
  scope: ScopeName[];
  preview: { value: unknown } | { error: string } | null;
}

export interface StepTest {
  output: unknown;
  error: string | null;
  duration_ms: number;
}

export interface Person {
  kind: "user" | "group";
  name: string;
  label: string;
}

const draftUrl = (slug: string) => `/api/workflows/${encodeURIComponent(slug)}/draft`;

export function checkExpression(
  slug: string,
  body: { node: string; field: string; expression: string; sample?: unknown },
): Promise<ExpressionCheck> {
  return api<ExpressionCheck>("POST", `${draftUrl(slug)}/expressions/check`, body);
}

export function testStep(slug: string, node: string, input: unknown, confirm: boolean): Promise<StepTest> {
  return api<StepTest>("POST", `${draftUrl(slug)}/nodes/${encodeURIComponent(node)}/test`, { input, confirm });
}

export function pins(slug: string): Promise<Record<string, unknown>> {
  return api<Record<string, unknown>>("GET", `${draftUrl(slug)}/pins`);
}

export function pin(slug: string, node: string, output: unknown): Promise<unknown> {
  return api("PUT", `${draftUrl(slug)}/pins/${encodeURIComponent(node)}`, { output });
}

export function unpin(slug: string, node: string): Promise<unknown> {
  return api("DELETE", `${draftUrl(slug)}/pins/${encodeURIComponent(node)}`);
}

export function testRun(slug: string, input: unknown): Promise<{ run_id: number; url: string }> {
  return api("POST", `${draftUrl(slug)}/test-run`, { input });
}

export function searchPeople(query: string): Promise<Person[]> {
  return api<Person[]>("GET", `/api/people?q=${encodeURIComponent(query)}`);
}

export function publishDraft(slug: string, note: string): Promise<{ number: number }> {
  return api<{ number: number }>("POST", `/api/workflows/${encodeURIComponent(slug)}/publish`, { note });
}

export const missing = (error: unknown): boolean => error instanceof ApiError && error.status === 404;

// What the server said, whichever of its error shapes it used.
export function reason(error: unknown): string {
  if (error instanceof ApiError) {
    const body = error.body;
    if (typeof body.message === "string") {
      return typeof body.field === "string" && body.field ? `${body.field}: ${body.message}` : body.message;
    }
    if (Array.isArray(body.problems) && body.problems.length) {
      return body.problems
        .map((problem) => {
          const { field, message } = problem as { field?: string | null; message?: string };
          return field ? `${field}: ${message}` : String(message);
        })
        .join("; ");
    }
  }
  return error instanceof Error ? error.message : String(error);
}
