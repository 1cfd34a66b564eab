// The views in words, and a text color readable on a person's color.

import type { View } from '$shared/docs.ts';

export const VIEW_LABELS: Readonly<Record<View, string>> = {
	dashboard: 'Dashboard',
	code_editor: 'Code',
	data_table: 'Data'
};

/** Dark or white text, whichever reads better on `hex` (WCAG relative luminance). */
export function textOn(hex: string): string {
	const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex);
	if (!m) return '#fff';
	const digits = m[1]!.length === 3 ? [...m[1]!].map((c) => c + c).join('') : m[1]!;
	const channel = (i: number) => {
		const v = parseInt(digits.slice(i, i + 2), 16) / 255;
		return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
	};
	const luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
	// Contrast with white vs with #1b1f24 (luminance about 0.013).
	return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.063 ? '#fff' : '#1b1f24';
}
