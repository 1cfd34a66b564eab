// What a person looks at on the Dashboard, in their presence (`dashboard` in
// `live`'s awareness), so that whoever follows them sees the same (APPDBG5): the
// chart's x range they zoomed to, and the runs they compare.

/** An x range of the live chart (epochs or batches), min below max. */
export interface XRange {
	readonly min: number;
	readonly max: number;
}

export interface DashboardView {
	/** null: the whole range. */
	readonly zoom: XRange | null;
	/** The runs they compare, or null when they picked none. */
	readonly picked: string[] | null;
}

const MAX_PICKED = 200;

function toRange(value: unknown): XRange | null {
	if (typeof value !== 'object' || value === null) return null;
	const { min, max } = value as Record<string, unknown>;
	if (typeof min !== 'number' || typeof max !== 'number') return null;
	return Number.isFinite(min) && Number.isFinite(max) && min < max ? { min, max } : null;
}

/** The `dashboard` field of someone's presence, checked (it is another browser's word). */
export function dashboardViewOf(state: Record<string, unknown>): DashboardView | null {
	const view = state.dashboard;
	if (typeof view !== 'object' || view === null) return null;
	const { zoom, picked } = view as Record<string, unknown>;
	const ids =
		Array.isArray(picked) && picked.every((p) => typeof p === 'string')
			? picked.slice(0, MAX_PICKED)
			: null;
	return { zoom: toRange(zoom), picked: ids && ids.length > 0 ? ids : null };
}

/** Whether two views show the same (awareness changes on every caret move). */
export function sameView(a: DashboardView | null, b: DashboardView | null): boolean {
	return JSON.stringify(a) === JSON.stringify(b);
}
