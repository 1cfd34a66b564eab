// What the editor needs for debugging (issue 15): the open file's breakpoints as
// glyph-margin decorations (hover: who set it, its condition and hit count), the
// paused line, and a click in the margin to set or clear a breakpoint.

import type { ResolvedBreakpoint } from '$shared/debug.ts';

type Monaco = typeof import('monaco-editor/editor/editor.api');
type Decoration = import('monaco-editor/editor/editor.api').editor.IModelDeltaDecoration;

export interface EditorDebug {
	/** Sets or clears the breakpoint on a line (does nothing for viewers). */
	toggle(line: number): void;
	decorations(monaco: Monaco): Decoration[];
	/** The line the script is paused at in this file, or null. */
	readonly pausedLine: number | null;
}

/** The hover text of a breakpoint's glyph. */
export function describeBreakpoint(bp: ResolvedBreakpoint): string {
	const parts = [`Breakpoint set by ${bp.by.name}`];
	if (bp.condition) parts.push(`when \`${bp.condition}\``);
	if (bp.hitCount > 1) parts.push(`from hit ${bp.hitCount}`);
	return parts.join(' · ');
}

export function editorDebug(source: {
	breakpoints(): ResolvedBreakpoint[];
	pausedLine(): number | null;
	toggle: ((line: number) => void) | null;
}): EditorDebug {
	return {
		toggle: (line) => source.toggle?.(line),
		get pausedLine() {
			return source.pausedLine();
		},
		decorations(monaco) {
			const paused = source.pausedLine();
			const out: Decoration[] = source.breakpoints().map((bp) => ({
				range: new monaco.Range(bp.line, 1, bp.line, 1),
				options: {
					glyphMarginClassName: `bp-glyph${bp.condition || bp.hitCount > 1 ? ' bp-conditional' : ''}`,
					glyphMarginHoverMessage: { value: describeBreakpoint(bp) },
					stickiness: monaco.editor.TrackedRangeStickiness.NeverGrowsWhenTypingAtEdges
				}
			}));
			if (paused !== null) {
				out.push({
					range: new monaco.Range(paused, 1, paused, 1),
					options: {
						isWholeLine: true,
						className: 'paused-line',
						linesDecorationsClassName: 'paused-arrow'
					}
				});
			}
			return out;
		}
	};
}
