// CSS for y-monaco's remote selections, one rule set per client id, in the
// person's color with their name above the caret.

import type { Awareness } from 'y-protocols/awareness';
import { stampedUser } from '../workspace/presence.svelte.ts';

/** Safe inside a CSS string: no quotes, backslashes or line breaks. */
function cssText(value: string): string {
	return value.replace(/[\\"'\n\r<>]/g, '').slice(0, 40);
}

function cssColor(value: string): string {
	return /^#[0-9a-fA-F]{3,8}$/.test(value) ? value : '#6c757d';
}

export function remoteCursorCss(awareness: Awareness): string {
	const rules: string[] = [];
	for (const [client, state] of awareness.getStates()) {
		if (client === awareness.clientID) continue;
		const user = stampedUser(state);
		if (!user) continue;
		const color = cssColor(user.color);
		rules.push(
			`.yRemoteSelection-${client}{background-color:${color}33}`,
			`.yRemoteSelectionHead-${client}{position:absolute;box-sizing:border-box;height:100%;border-left:2px solid ${color}}`,
			`.yRemoteSelectionHead-${client}::after{content:"${cssText(user.name)}";position:absolute;left:-2px;top:-1.35em;padding:0 5px;border-radius:3px 3px 3px 0;background:${color};color:#fff;font:600 11px/1.35em system-ui,sans-serif;white-space:nowrap;pointer-events:none;z-index:10}`
		);
	}
	return rules.join('\n');
}
