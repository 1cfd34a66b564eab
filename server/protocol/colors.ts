// The seed's 12-color palette for people, and its generate_user_color rule:
// the sum of the id's character codes, modulo 12.

export const USER_COLORS = [
	'#F4A460',
	'#4682B4',
	'#5B9BD5',
	'#28a745',
	'#dc3545',
	'#ffc107',
	'#17a2b8',
	'#6c757d',
	'#e83e8c',
	'#fd7e14',
	'#20c997',
	'#6610f2'
] as const;

export function userColor(userId: string): string {
	let sum = 0;
	for (const ch of userId) sum += ch.codePointAt(0) ?? 0;
	return USER_COLORS[sum % USER_COLORS.length] ?? USER_COLORS[0];
}
