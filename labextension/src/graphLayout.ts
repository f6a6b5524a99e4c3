/** Where a run's task graph puts each task and arrow: plain numbers, no drawing. */

/** What the layout needs of a task: its name and the names it depends on. */
export interface ILayoutTask {
  name: string;
  depends_on?: readonly string[] | null;
}

/** The top-left corner of a task's box. */
export interface IPoint {
  x: number;
  y: number;
}

/** An arrow from the task at index `from` to the task at index `to` that depends on it. */
export interface IEdge {
  from: number;
  to: number;
}

/** The whole picture: its size, each task's layer and box (by task index), and the arrows. */
export interface IGraphLayout {
  width: number;
  height: number;
  depths: number[];
  places: IPoint[];
  edges: IEdge[];
}

export const BOX_WIDTH = 150;
export const BOX_HEIGHT = 36;
export const GAP_X = 24;
export const GAP_Y = 32;
export const NAME_CHARACTERS = 20;

/** Each task's layer: the longest path of upstream tasks leading to it. */
export function taskDepths(tasks: readonly ILayoutTask[]): number[] {
  const byName = new Map<string, number[]>();
  tasks.forEach((task, index) => byName.set(task.name, [...(byName.get(task.name) ?? []), index]));
  const depths = new Map<number, number>();
  const visiting = new Set<number>();
  const depthOf = (index: number): number => {
    const known = depths.get(index);
    if (known !== undefined) {
      return known;
    }
    // A cycle cannot come from a compiled pipeline; if one did, its task is drawn as a root.
    if (visiting.has(index)) {
      return 0;
    }
    visiting.add(index);
    let depth = 0;
    for (const name of tasks[index].depends_on ?? []) {
      for (const upstream of byName.get(name) ?? []) {
        depth = Math.max(depth, depthOf(upstream) + 1);
      }
    }
    visiting.delete(index);
    depths.set(index, depth);
    return depth;
  };
  return tasks.map((_, index) => depthOf(index));
}

/** A task's name cut to fit its box, with an ellipsis when cut. */
export function shortName(name: string): string {
  return name.length > NAME_CHARACTERS ? name.slice(0, NAME_CHARACTERS - 1) + '…' : name;
}

/**
 * One row per layer (the longest path from a task that depends on none), each row centred,
 * and an arrow from every task a task depends on that stands in an earlier layer.
 */
export function layoutGraph(tasks: readonly ILayoutTask[]): IGraphLayout {
  const depths = taskDepths(tasks);
  const layers: number[][] = [];
  depths.forEach((depth, index) => (layers[depth] ??= []).push(index));
  const widest = Math.max(...layers.map(layer => layer?.length ?? 0));
  const width = widest * BOX_WIDTH + (widest - 1) * GAP_X + 2;
  const height = layers.length * BOX_HEIGHT + (layers.length - 1) * GAP_Y + 2;
  const places: IPoint[] = [];
  layers.forEach((layer, depth) => {
    const row = layer ?? [];
    const rowWidth = row.length * BOX_WIDTH + (row.length - 1) * GAP_X;
    row.forEach((index, position) => {
      places[index] = {
        x: 1 + (width - 2 - rowWidth) / 2 + position * (BOX_WIDTH + GAP_X),
        y: 1 + depth * (BOX_HEIGHT + GAP_Y)
      };
    });
  });
  return { width, height, depths, places, edges: graphEdges(tasks, depths) };
}

/** The arrows into each task, from every upstream task in an earlier layer. */
function graphEdges(tasks: readonly ILayoutTask[], depths: readonly number[]): IEdge[] {
  const edges: IEdge[] = [];
  tasks.forEach((task, to) => {
    for (const name of task.depends_on ?? []) {
      tasks.forEach((upstream, from) => {
        if (upstream.name === name && depths[from] < depths[to]) {
          edges.push({ from, to });
        }
      });
    }
  });
  return edges;
}

/** An SVG path for an arrow: from the bottom middle of one box to the top middle of the other. */
export function edgePath(layout: IGraphLayout, edge: IEdge): string {
  const x1 = layout.places[edge.from].x + BOX_WIDTH / 2;
  const y1 = layout.places[edge.from].y + BOX_HEIGHT;
  const x2 = layout.places[edge.to].x + BOX_WIDTH / 2;
  const y2 = layout.places[edge.to].y;
  const bend = (y2 - y1) / 2;
  return `M ${x1} ${y1} C ${x1} ${y1 + bend}, ${x2} ${y2 - bend}, ${x2} ${y2}`;
}
