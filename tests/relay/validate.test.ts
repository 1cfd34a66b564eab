// The bounded v1 update validator (SPEC.md LIMIT4).

import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { validateStateVector, validateUpdateV1 } from '../../server/relay/validate.ts';
import { MalformedInput } from '../../server/relay/reader.ts';
import { mulberry32 } from '../helpers/random.ts';
import { seedFromEnv } from './random.ts';

function randomEdits(seed: number, steps: number): Uint8Array[] {
	const rand = mulberry32(seed);
	const doc = new Y.Doc();
	const updates: Uint8Array[] = [];
	doc.on('update', (u: Uint8Array) => updates.push(u));
	const text = doc.getText('t');
	const map = doc.getMap('m');
	const arr = doc.getArray<unknown>('a');
	const xml = doc.getXmlFragment('x');
	for (let i = 0; i < steps; i++) {
		const pick = Math.floor(rand() * 8);
		if (pick === 0)
			text.insert(
				Math.floor(rand() * (text.length + 1)),
				'héllo ✓ 𝄞'.slice(0, 1 + Math.floor(rand() * 8))
			);
		else if (pick === 1 && text.length > 0) text.delete(Math.floor(rand() * text.length), 1);
		else if (pick === 2) text.format(0, Math.min(2, text.length), { bold: rand() > 0.5 });
		else if (pick === 3)
			map.set(`k${Math.floor(rand() * 5)}`, {
				n: rand(),
				nested: [1, 'two', null, true, { x: 1.5 }]
			});
		else if (pick === 4) arr.insert(0, [new Uint8Array([1, 2, 3]), 7, 'str', -12345678901]);
		else if (pick === 5) map.set('sub', new Y.Map());
		else if (pick === 6) xml.insert(0, [new Y.XmlElement('p'), new Y.XmlText('t')]);
		else text.insertEmbed(0, { image: 'x.png' });
	}
	updates.push(Y.encodeStateAsUpdate(doc));
	return updates;
}

describe('validator', () => {
	it('[LIMIT4] accepts every update Yjs itself produces', () => {
		const seed = seedFromEnv();
		console.log(`validator seed ${seed}`);
		for (const update of randomEdits(seed, 300))
			expect(() => validateUpdateV1(update)).not.toThrow();
		const sv = Y.encodeStateVector(new Y.Doc());
		expect(() => validateStateVector(sv)).not.toThrow();
	});

	it('[LIMIT4] rejects crafted updates with huge counts fast', () => {
		const crafted: Uint8Array[] = [];
		// 2^32 clients in a 6-byte update.
		crafted.push(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0]));
		// One struct of ContentAny claiming 2^40 values.
		const e = encoding.createEncoder();
		encoding.writeVarUint(e, 1);
		encoding.writeVarUint(e, 1);
		encoding.writeVarUint(e, 1);
		encoding.writeVarUint(e, 0);
		encoding.writeUint8(e, 8);
		encoding.writeVarUint(e, 1);
		encoding.writeVarString(e, 'root');
		encoding.writeVarUint(e, 2 ** 40);
		crafted.push(encoding.toUint8Array(e));
		// An `any` array nested 100 000 deep.
		const deep = encoding.createEncoder();
		for (const b of [1, 1, 1, 0, 8, 1]) encoding.writeVarUint(deep, b);
		encoding.writeVarString(deep, 'root');
		encoding.writeVarUint(deep, 1);
		for (let i = 0; i < 100_000; i++) {
			encoding.writeUint8(deep, 117);
			encoding.writeVarUint(deep, 1);
		}
		crafted.push(encoding.toUint8Array(deep));
		// A delete set claiming 2^35 ranges.
		crafted.push(new Uint8Array([0, 1, 1, 0xff, 0xff, 0xff, 0xff, 0x7f]));
		// A string that is not UTF-8, and a varUint that never ends.
		crafted.push(new Uint8Array([1, 1, 1, 0, 4, 1, 1, 0x74, 2, 0xc3, 0x28, 0]));
		crafted.push(new Uint8Array(64).fill(0xff));
		for (const update of crafted) {
			const started = performance.now();
			expect(() => validateUpdateV1(update)).toThrow(MalformedInput);
			expect(performance.now() - started).toBeLessThan(50);
		}
	});

	it('[LIMIT4] a mutated update is either rejected or applies cleanly to a live document', () => {
		const seed = seedFromEnv();
		console.log(`mutation seed ${seed}`);
		const rand = mulberry32(seed);
		const base = randomEdits(seed, 60);
		let rejected = 0;
		for (let i = 0; i < 2000; i++) {
			const original = base[Math.floor(rand() * base.length)]!;
			const mutated = original.slice();
			const flips = 1 + Math.floor(rand() * 3);
			for (let f = 0; f < flips; f++)
				mutated[Math.floor(rand() * mutated.length)] = Math.floor(rand() * 256);
			try {
				validateUpdateV1(mutated);
			} catch (err) {
				expect(err).toBeInstanceOf(MalformedInput);
				rejected++;
				continue;
			}
			const live = new Y.Doc();
			live.getText('t').insert(0, 'shared');
			try {
				Y.applyUpdate(live, mutated);
				Y.encodeStateAsUpdate(live);
			} catch (err) {
				throw new Error(
					`seed ${seed} case ${i}: a validated update broke the document: ${String(err)}`
				);
			}
		}
		expect(rejected).toBeGreaterThan(0);
	});
});
