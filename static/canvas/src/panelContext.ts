// What the side panel's controls need from the canvas around them: the workflow and the draft's
// input schema (for sample-input forms). App keeps it current.
export interface PanelContext {
  slug: string;
  inputSchema(): Record<string, unknown> | null;
}

export const panelContext: PanelContext = { slug: "", inputSchema: () => null };
