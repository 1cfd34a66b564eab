// CONFLICT1: the detector of replaced hyperparameters, with real Y.Docs that
// exchange updates the way the relay hands them on (remote transactions).
import { describe, expect, test } from 'vitest';
import * as Y from 'yjs';
import { watchConflicts, type ReplacedValue } from '../../src/lib/conflicts/hyperparameters.ts';

const REMOTE = Symbol('relay');

interface Person {
	doc: Y.Doc;
	map: Y.Map<unknown>;
	alerts: ReplacedValue[];
}

function person(clientID: number): Person {
	const doc = new Y.Doc();
	doc.clientID = clientID;
	const map = doc.getMap<unknown>('hyperparameters');
	const alerts: ReplacedValue[] = [];
	watchConflicts(map, (c) => alerts.push(c));
	return { doc, map, alerts };
}

/** Hands `to` everything `from` has that `to` lacks, as one remote update. */
function sync(from: Person, to: Person): void {
	const update = Y.encodeStateAsUpdate(from.doc, Y.encodeStateVector(to.doc));
	Y.applyUpdate(to.doc, update, REMOTE);
}

function both(a: Person, b: Person): void {
	sync(a, b);
	sync(b, a);
}

describe('[CONFLICT1] hyperparameter conflicts from the documents’ causality', () => {
	test('[CONFLICT1] two concurrent writes: only the one whose value was replaced is told, with the winner and both values', () => {
		// Client ids order Yjs' choice; try both orders so each side loses once.
		for (const [ida, idb] of [
			[10, 20],
			[20, 10]
		] as const) {
			const alice = person(ida);
			const bob = person(idb);
			alice.map.set('learning_rate', 0.01);
			both(alice, bob);
			expect(alice.alerts).toEqual([]);
			expect(bob.alerts).toEqual([]);

			// Both offline: neither sees the other's value.
			alice.map.set('learning_rate', 0.2);
			bob.map.set('learning_rate', 0.3);
			both(alice, bob);

			const final = alice.map.get('learning_rate');
			expect(bob.map.get('learning_rate')).toBe(final);
			const [loser, winner, mine] =
				final === 0.3 ? [alice, bob, 0.2] : ([bob, alice, 0.3] as const);
			expect(loser.alerts).toEqual([
				{ key: 'learning_rate', mine, theirs: final, winner: winner.doc.clientID }
			]);
			expect(winner.alerts).toEqual([]);
		}
	});

	test('[CONFLICT1] a change made after seeing the other’s value is never an alert', () => {
		const alice = person(10);
		const bob = person(20);
		alice.map.set('learning_rate', 0.01);
		both(alice, bob);
		alice.map.set('learning_rate', 0.2);
		both(alice, bob);
		// Bob saw 0.2 and replaces it: a later change, not a conflict (either id order).
		bob.map.set('learning_rate', 0.3);
		both(alice, bob);
		expect(alice.map.get('learning_rate')).toBe(0.3);
		expect(alice.alerts).toEqual([]);
		expect(bob.alerts).toEqual([]);

		// Putting mine back after an alert is a later change too: no alert back.
		const carol = person(5);
		const dave = person(50);
		both(carol, dave);
		carol.map.set('epochs', 10);
		dave.map.set('epochs', 20);
		both(carol, dave);
		expect(carol.alerts).toHaveLength(1);
		carol.map.set('epochs', carol.alerts[0]!.mine);
		both(carol, dave);
		expect(dave.map.get('epochs')).toBe(10);
		expect(dave.alerts).toEqual([]);
	});

	test('[CONFLICT1] replaced by a chain: Bob wrote concurrently, then Carol changed Bob’s value; I learn the value that stands', () => {
		const alice = person(1);
		const bob = person(30);
		const carol = person(40);
		alice.map.set('batch_size', 32);
		both(alice, bob);
		both(bob, carol);
		alice.map.set('batch_size', 64); // offline
		bob.map.set('batch_size', 128);
		both(bob, carol);
		carol.map.set('batch_size', 256); // after seeing Bob's
		both(bob, carol);
		expect(carol.alerts).toEqual([]);
		sync(carol, alice);
		expect(alice.map.get('batch_size')).toBe(256);
		expect(alice.alerts).toEqual([
			{ key: 'batch_size', mine: 64, theirs: 256, winner: carol.doc.clientID }
		]);
	});

	test('[CONFLICT1] other keys, my own local changes and removed keys are not alerts', () => {
		const alice = person(10);
		const bob = person(20);
		alice.map.set('dropout', 0.1);
		both(alice, bob);
		alice.map.set('dropout', 0.2);
		alice.map.set('dropout', 0.25);
		bob.map.set('epochs', 5);
		both(alice, bob);
		bob.map.delete('dropout');
		both(alice, bob);
		expect(alice.alerts).toEqual([]);
		expect(bob.alerts).toEqual([]);
	});
});
