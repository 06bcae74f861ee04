// Runs elkjs off the main thread: the layered layout of a large graph takes a while.
import ELK, { type ElkNode } from "elkjs/lib/elk.bundled.js";

interface LayoutNode {
  id: string;
  width: number;
  height: number;
  // The node it is drawn inside (a machine's compound state); positions come back relative to it.
  parent?: string;
}

interface LayoutRequest {
  id: number;
  nodes: LayoutNode[];
  edges: { id: string; source: string; target: string }[];
}

const elk = new ELK();
// Room inside a compound state for its title above its children.
const GROUP_PADDING = "[top=50,left=20,bottom=20,right=20]";

// Nodes nested under their parents; a node with children takes its size from them.
function nest(nodes: LayoutNode[]): ElkNode[] {
  const byId = new Map<string, ElkNode>();
  for (const node of nodes) byId.set(node.id, { id: node.id, width: node.width, height: node.height });
  const top: ElkNode[] = [];
  for (const node of nodes) {
    const parent = node.parent ? byId.get(node.parent) : undefined;
    const elkNode = byId.get(node.id) as ElkNode;
    if (!parent) {
      top.push(elkNode);
      continue;
    }
    parent.children = [...(parent.children ?? []), elkNode];
    delete parent.width;
    delete parent.height;
    parent.layoutOptions = { "elk.padding": GROUP_PADDING };
  }
  return top;
}

function collect(children: ElkNode[], positions: Record<string, { x: number; y: number }>): void {
  for (const child of children) {
    positions[child.id] = { x: child.x ?? 0, y: child.y ?? 0 };
    collect(child.children ?? [], positions);
  }
}

self.onmessage = async (event: MessageEvent<LayoutRequest>) => {
  const { id, nodes, edges } = event.data;
  const nested = nodes.some((node) => node.parent);
  try {
    const result = await elk.layout({
      id: "root",
      layoutOptions: {
        // Edges between states of different compound states are laid out across the levels.
        ...(nested ? { "elk.hierarchyHandling": "INCLUDE_CHILDREN" } : {}),
        "elk.algorithm": "layered",
        "elk.direction": "RIGHT",
        "elk.layered.spacing.nodeNodeBetweenLayers": "80",
        "elk.spacing.nodeNode": "40",
        "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
      },
      children: nested ? nest(nodes) : nodes,
      edges: edges.map((edge) => ({ id: edge.id, sources: [edge.source], targets: [edge.target] })),
    });
    const positions: Record<string, { x: number; y: number }> = {};
    collect(result.children ?? [], positions);
    (self as unknown as Worker).postMessage({ id, positions });
  } catch (error) {
    (self as unknown as Worker).postMessage({ id, error: String(error) });
  }
};
