// CSS for y-monaco's remote selections, one rule set per client id, in the
// person's color with their name above the caret.

import type { Awareness } from 'y-protocols/awareness';
import { stampedUser } from '../workspace/presence.svelte.ts';
import { textOn } from '../workspace/views.ts';

/** Safe inside a CSS string: no quotes, backslashes or line breaks. */
function cssText(value: string): string {
	return value.replace(/[\\"'\n\r<>]/g, '').slice(0, 40);
}

function cssColor(value: string): string {
	return /^#[0-9a-fA-F]{3,8}$/.test(value) ? value : '#6c757d';
}

/** The name label shows this long after a caret moved, then fades (it covers the line above). */
const LABEL_SHOW_S = 2.5;

/**
 * Keyframes of the label: shown, then faded. Two identical copies, so that a
 * caret that moves switches its rule to the other one and the animation restarts.
 */
const KEYFRAMES = ['a', 'b']
	.map(
		(n) =>
			`@keyframes ens-label-${n}{0%,${Math.round((LABEL_SHOW_S / (LABEL_SHOW_S + 0.6)) * 100)}%{opacity:1}100%{opacity:0}}`
	)
	.join('\n');

/**
 * Builds the CSS for y-monaco's remote selections, one rule set per client id.
 * Remembers each caret's last position to restart its label's fade when it moves.
 */
export class RemoteCursorCss {
	private readonly seen = new Map<number, { at: string; flip: boolean }>();

	css(awareness: Awareness): string {
		const rules: string[] = [KEYFRAMES];
		for (const [client, state] of awareness.getStates()) {
			if (client === awareness.clientID) continue;
			const user = stampedUser(state);
			if (!user) continue;
			const at = JSON.stringify(state.selection ?? null);
			const last = this.seen.get(client);
			const flip = last ? (last.at === at ? last.flip : !last.flip) : false;
			this.seen.set(client, { at, flip });
			const color = cssColor(user.color);
			rules.push(
				`.yRemoteSelection-${client}{background-color:${color}33}`,
				`.yRemoteSelectionHead-${client}{position:absolute;box-sizing:border-box;height:100%;border-left:2px solid ${color}}`,
				`.yRemoteSelectionHead-${client}::after{content:"${cssText(user.name)}";position:absolute;left:-2px;top:-1.35em;padding:0 5px;border-radius:3px 3px 3px 0;background:${color};color:${textOn(color)};font:600 11px/1.35em system-ui,sans-serif;white-space:nowrap;pointer-events:none;z-index:10;animation:ens-label-${flip ? 'b' : 'a'} ${LABEL_SHOW_S + 0.6}s ease-in forwards}`
			);
		}
		for (const client of this.seen.keys()) {
			if (!awareness.getStates().has(client)) this.seen.delete(client);
		}
		return rules.join('\n');
	}
}
