// Removal of nodes that no graph output depends on. ONNX nodes have no side
// effects, so such nodes cannot change the converted model, and removing
// them before folding means a hostile unused node (a ConstantOfShape of
// billions of elements, say) is never evaluated.

import { GraphNode, OnnxGraph } from "./graph.js";

/** Removes the nodes that no graph output reads, directly or through other nodes; keeps the order of the rest. */
export function removeUnusedNodes(graph: OnnxGraph): void {
  const producers = new Map<string, GraphNode[]>();
  for (const node of graph.nodes) {
    for (const name of node.outputs) {
      if (name === "") continue;
      const list = producers.get(name);
      if (list === undefined) producers.set(name, [node]);
      else list.push(node);
    }
  }

  // Walk back from the graph outputs with an explicit stack, so a long chain of nodes cannot overflow the call stack.
  const used = new Set<GraphNode>();
  const visitedNames = new Set<string>();
  const pending = graph.outputs.map((output) => output.name);
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (visitedNames.has(name)) continue;
    visitedNames.add(name);
    for (const node of producers.get(name) ?? []) {
      if (used.has(node)) continue;
      used.add(node);
      for (const input of node.inputs) if (input !== "") pending.push(input);
    }
  }
  graph.nodes = graph.nodes.filter((node) => used.has(node));
}
