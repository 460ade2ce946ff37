// bench/results/bench.json: every section's figures, each with when and on which Node it was measured.
import type { Figure } from './figures.js';

export interface SectionResult {
  at: string;
  node: string;
  figures: Figure[];
}

export interface BenchResults {
  /** When the file was last written. */
  at: string;
  node: string;
  /** Per section: its last run. */
  sections: Record<string, SectionResult>;
  /** Every section's figures, in the order the sections ran, each named with its section. */
  figures: Array<Figure & { section: string }>;
}

/**
 * The results after a run of some sections (`npm run bench -- --only terminal`): the sections that
 * ran replace their earlier figures, every other section keeps its own as they were, with when they
 * were measured. A file from before sections were recorded keeps its figures under "earlier" unless
 * a figure of the same name was measured now.
 */
export function mergeResults(previous: unknown, run: { at: string; node: string; sections: Record<string, Figure[]> }): BenchResults {
  const sections: Record<string, SectionResult> = { ...earlierSections(previous) };
  for (const [name, figures] of Object.entries(run.sections)) sections[name] = { at: run.at, node: run.node, figures };
  const measuredNow = new Set(Object.values(run.sections).flatMap((figures) => figures.map((figure) => figure.name)));
  if (sections.earlier) {
    sections.earlier = { ...sections.earlier, figures: sections.earlier.figures.filter((figure) => !measuredNow.has(figure.name)) };
    if (!sections.earlier.figures.length) delete sections.earlier;
  }
  return {
    at: run.at,
    node: run.node,
    sections,
    figures: Object.entries(sections).flatMap(([section, result]) => result.figures.map((figure) => ({ section, ...figure }))),
  };
}

function earlierSections(previous: unknown): Record<string, SectionResult> {
  if (typeof previous !== 'object' || previous === null) return {};
  const file = previous as Partial<BenchResults>;
  if (file.sections && typeof file.sections === 'object') return file.sections;
  if (Array.isArray(file.figures) && file.figures.length) return { earlier: { at: String(file.at ?? ''), node: String(file.node ?? ''), figures: file.figures } };
  return {};
}
