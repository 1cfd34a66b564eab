// An activity entry in words (HIST4): "Alice set learning_rate 0.01 → 0.1".

function fmt(value: unknown): string {
	if (value === null || value === undefined) return '(none)';
	if (typeof value === 'string') return value;
	if (typeof value === 'number' && !Number.isInteger(value))
		return String(Number(value.toPrecision(6)));
	return JSON.stringify(value);
}

function metrics(m: Record<string, unknown>): string {
	return Object.entries(m)
		.map(([k, v]) => `${k} ${fmt(v)}`)
		.join(', ');
}

/** `who`: the person's name, or null for the server. */
export function summarize(kind: string, data: Record<string, unknown>, who: string | null): string {
	const name = who ?? 'The server';
	const s = (key: string): string => fmt(data[key]);
	switch (kind) {
		case 'hyperparameter':
			if (data.from === null) return `${name} added ${s('field')} = ${s('to')}`;
			if (data.to === null) return `${name} removed ${s('field')}`;
			return `${name} set ${s('field')} ${s('from')} → ${s('to')}`;
		case 'config':
			return `${name} set ${s('field')} to ${s('to')}`;
		case 'file_added':
			return `${name} added ${s('file')}`;
		case 'file_renamed':
			return `${name} renamed ${s('from')} → ${s('file')}`;
		case 'file_deleted':
			return `${name} deleted ${s('file')}`;
		case 'file_edited':
			return `${name} edited ${s('file')} (+${s('added')} −${s('removed')} lines)`;
		case 'run_started': {
			const changed = Object.entries((data.changed ?? {}) as Record<string, [unknown, unknown]>);
			const prev = (data.previous as { name?: string } | null)?.name;
			const diff = changed.length
				? ` with ${changed.map(([k, [a, b]]) => `${k} ${fmt(a)} → ${fmt(b)}`).join(', ')}${prev ? ` (vs ${prev})` : ''}`
				: prev
					? ` with the same hyperparameters as ${prev}`
					: '';
			return `${name} started ${s('name')}${diff}`;
		}
		case 'run_finished': {
			const m = metrics((data.metrics ?? {}) as Record<string, unknown>);
			return `${s('name')} ${s('status')}${m ? `: ${m}` : ''}`;
		}
		case 'dataset_uploaded':
			return `${name} uploaded data set ${s('name')}${data.rows !== null && data.rows !== undefined ? ` (${s('rows')} rows)` : ''}`;
		case 'annotation_added':
			return `${name} annotated ${s('metric')} at step ${s('step')}: “${s('text')}”`;
		case 'member_joined':
			return `${name} joined as ${s('role')}`;
		case 'member_left':
			return data.target_name && data.target_name !== who
				? `${name} removed ${s('target_name')}`
				: `${name} left the workspace`;
		case 'role_changed':
			return `${name} made ${s('target_name')} ${s('role')}`;
		case 'restored': {
			const at =
				typeof data.moment === 'string'
					? data.moment.replace('T', ' ').slice(0, 19) + ' UTC'
					: s('moment');
			return data.scope === 'file'
				? `${name} restored ${s('file')} to ${at}`
				: `${name} restored the ${data.scope === 'files' ? 'code files' : 'hyperparameters'} to ${at}`;
		}
		default:
			return `${name}: ${kind}`;
	}
}
