// CONFLICT2: overlapping line edits in one file within a few seconds, with real
// Y.Docs exchanging updates as remote transactions and a controlled clock.
import { describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { LineOverlaps, MARKER_MS, OVERLAP_WINDOW_MS } from '../../src/lib/conflicts/lines.ts';

const REMOTE = Symbol('relay');
let clock = 1_000_000;
const now = () => clock;

interface Person {
	doc: Y.Doc;
	text: Y.Text;
	overlaps: LineOverlaps;
	changes: number;
}

function person(clientID: number): Person {
	const doc = new Y.Doc();
	doc.clientID = clientID;
	const text = doc.getText('train.py');
	const p: Person = { doc, text, overlaps: null!, changes: 0 };
	p.overlaps = new LineOverlaps(text, () => p.changes++, now);
	return p;
}

function both(a: Person, b: Person): void {
	Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc)), REMOTE);
	Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc, Y.encodeStateVector(a.doc)), REMOTE);
}

const FILE = ['import torch', 'lr = 0.01', 'epochs = 10', 'model = Net()', 'train(model)', ''].join(
	'\n'
);

/** Index of the start of 1-based `line`. */
function lineStart(text: Y.Text, line: number): number {
	return text
		.toJSON()
		.split('\n')
		.slice(0, line - 1)
		.reduce((n, l) => n + l.length + 1, 0);
}

function setup(): [Person, Person] {
	const alice = person(10);
	const bob = person(20);
	alice.text.insert(0, FILE);
	both(alice, bob);
	clock += 60_000;
	return [alice, bob];
}

describe('[CONFLICT2] overlapping line edits', () => {
	test('[CONFLICT2] Bob edits the line Alice edited two seconds earlier: both get a marker on it naming the other', () => {
		const [alice, bob] = setup();
		alice.text.insert(lineStart(alice.text, 2) + 9, '5');
		both(alice, bob);
		clock += 2_000;
		bob.text.insert(lineStart(bob.text, 2) + 5, '1');
		both(alice, bob);
		expect(alice.text.toJSON()).toContain('lr = 10.015');
		expect(alice.overlaps.overlaps()).toEqual([{ client: 20, fromLine: 2, toLine: 2, at: clock }]);
		expect(bob.overlaps.overlaps()).toEqual([{ client: 10, fromLine: 2, toLine: 2, at: clock }]);
		expect(alice.changes).toBe(1);
		expect(bob.changes).toBe(1);

		// Lines added above move the marker with its text.
		alice.text.insert(0, '# header\n');
		expect(alice.overlaps.overlaps()[0]).toMatchObject({ fromLine: 3, toLine: 3 });

		// The marker goes after a while.
		clock += MARKER_MS;
		expect(alice.overlaps.overlaps()).toEqual([]);
	});

	test('[CONFLICT2] other lines, or the same line long after, are not marked', () => {
		const [alice, bob] = setup();
		alice.text.insert(lineStart(alice.text, 2), '# ');
		both(alice, bob);
		clock += 1_000;
		bob.text.insert(lineStart(bob.text, 4), '# ');
		both(alice, bob);
		expect(alice.overlaps.overlaps()).toEqual([]);
		expect(bob.overlaps.overlaps()).toEqual([]);

		clock += OVERLAP_WINDOW_MS + 1;
		bob.text.insert(lineStart(bob.text, 2), 'x');
		both(alice, bob);
		expect(alice.overlaps.overlaps()).toEqual([]);
		expect(bob.overlaps.overlaps()).toEqual([]);
	});

	test('[CONFLICT2] an edit over several lines overlapping one line of the other’s marks the union', () => {
		const [alice, bob] = setup();
		const s = lineStart(alice.text, 2);
		alice.text.delete(s, lineStart(alice.text, 4) - s);
		alice.text.insert(s, 'lr = 0.1\nepochs = 20\n');
		both(alice, bob);
		clock += 500;
		bob.text.insert(lineStart(bob.text, 3) + 9, '0');
		both(alice, bob);
		expect(bob.overlaps.overlaps()).toMatchObject([{ client: 10, fromLine: 2, toLine: 4 }]);
		expect(alice.overlaps.overlaps()).toMatchObject([{ client: 20, fromLine: 2, toLine: 4 }]);
	});
});
