// Calls in the app (issue 14, APPCALL1…): three people in separate browser
// contexts with Chromium's fake camera, microphone and screen, a real server
// relaying the signalling, and WebRTC's own statistics as the evidence.
import { CHROMIUM_ARGS } from '../../playwright.config.ts';
import {
	createWorkspace,
	expect,
	inviteLink,
	join,
	openCode,
	test,
	type Person
} from './fixtures.ts';
import { MEDIA_ARGS, received, withMedia, type Received } from './media.ts';

test.use({
	launchOptions: { executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...MEDIA_ARGS] }
});
test.setTimeout(180_000);

const LONG = { timeout: 30_000 };

async function joinCall(p: Person): Promise<void> {
	await p.page.getByRole('button', { name: 'Join call' }).click();
	await expect(p.page.getByRole('button', { name: 'Leave call' })).toBeVisible(LONG);
}

/** Waits until what `viewer` receives from `from` has moved on past `before` in every way `rising` names. */
async function rises(
	viewer: Person,
	from: string,
	rising: Array<keyof Received>,
	before?: Received
): Promise<Received> {
	const start = before ?? (await received(viewer.page, from));
	let last = start;
	await expect
		.poll(
			async () => {
				last = await received(viewer.page, from);
				return rising.filter((k) => !(last[k] > start[k]));
			},
			{ message: `${viewer.name} receiving ${rising.join(', ')} from ${from}`, ...LONG }
		)
		.toEqual([]);
	return last;
}

function tile(viewer: Person, name: string) {
	return viewer.page.locator(`[data-testid="call-tile"][data-name="${name}"]`);
}

function badge(viewer: Person, name: string) {
	return viewer.page.locator(`[data-testid="call-badge"][data-user="${name}"]`);
}

test('[APPCALL1][APPCALL2][APPCALL3][APPCALL4][APPCALL5][APPCALL7][APPCALL8][APPCALL9] three people talk, mute, share a screen and leave', async ({
	people
}) => {
	const alice = await people.add('Alice');
	const bob = await people.add('Bob');
	const carol = await people.add('Carol');
	for (const p of [alice, bob, carol]) await withMedia(p.context);
	await createWorkspace(alice, 'Call');
	await join(bob, await inviteLink(alice, bob.email, 'editor'));
	// A viewer may talk: talking is not editing.
	await join(carol, await inviteLink(alice, carol.email, 'viewer'));
	const everyone = [alice, bob, carol];

	// APPCALL8: the UI says how many people the mesh carries well.
	await expect(alice.page.getByTestId('call-panel')).toContainText('works well for up to 6 people');

	// APPCALL1: three join; each receives video frames and audio energy from the other two.
	for (const p of everyone) await joinCall(p);
	for (const viewer of everyone) {
		await expect(viewer.page.getByTestId('call-count')).toHaveText('3 in the call', LONG);
		for (const other of everyone) {
			if (other === viewer) continue;
			const t = tile(viewer, other.name);
			await expect(t).toBeVisible();
			await expect(t).toContainText(other.name);
			await expect(badge(viewer, other.name)).toHaveAttribute('data-muted', 'false');
			await expect
				.poll(async () => (await received(viewer.page, other.name)).videoWidth, LONG)
				.toBeGreaterThan(0);
			await rises(viewer, other.name, ['framesDecoded', 'audioEnergy']);
		}
	}

	// APPCALL7: the fake microphone's beeps light the speaking indicator.
	await expect(tile(bob, 'Alice')).toHaveAttribute('data-speaking', 'true', LONG);

	// APPCALL5: moving between views does not touch the call.
	await openCode(alice.page);
	await alice.page.getByRole('button', { name: 'Data', exact: true }).click();
	await rises(alice, 'Bob', ['framesDecoded', 'audioEnergy']);
	await rises(bob, 'Alice', ['framesDecoded', 'audioEnergy']);

	// APPCALL2: Alice mutes: the others see it, and the energy they receive from her stops
	// while Carol's keeps rising.
	await alice.page.getByRole('button', { name: 'Mute', exact: true }).click();
	await expect(alice.page.getByRole('button', { name: 'Unmute' })).toBeVisible();
	for (const viewer of [bob, carol])
		await expect(badge(viewer, 'Alice')).toHaveAttribute('data-muted', 'true', LONG);
	await expect(tile(bob, 'Alice')).toHaveAttribute('data-muted', 'true');
	await rises(bob, 'Carol', ['audioEnergy']); // what was in flight when she muted has arrived
	const mutedFrom = await received(bob.page, 'Alice');
	const carolFrom = await received(bob.page, 'Carol');
	let carolAtBob = await rises(bob, 'Carol', ['audioEnergy'], carolFrom);
	carolAtBob = await rises(bob, 'Carol', ['audioEnergy'], carolAtBob);
	const afterMute = await received(bob.page, 'Alice');
	const carolGain = carolAtBob.audioEnergy - carolFrom.audioEnergy;
	console.log(
		`muted: Alice's energy at Bob +${afterMute.audioEnergy - mutedFrom.audioEnergy}, Carol's +${carolGain}`
	);
	expect(afterMute.audioEnergy - mutedFrom.audioEnergy).toBeLessThan(carolGain / 100);
	expect(afterMute.framesDecoded).toBeGreaterThan(mutedFrom.framesDecoded); // video goes on
	await alice.page.getByRole('button', { name: 'Unmute' }).click();
	await rises(bob, 'Alice', ['audioEnergy'], afterMute);

	// APPCALL3: Bob shares his screen: shown large to Alice and Carol, with frames; stopping ends it.
	await bob.page.getByRole('button', { name: 'Share screen' }).click();
	await expect(bob.page.getByRole('button', { name: 'Stop sharing' })).toBeVisible(LONG);
	for (const viewer of [alice, carol]) {
		await expect(viewer.page.getByTestId('shared-screen')).toHaveAttribute(
			'data-name',
			'Bob',
			LONG
		);
		await expect(badge(viewer, 'Bob')).toHaveAttribute('data-sharing', 'true');
		await expect
			.poll(async () => (await received(viewer.page, 'Bob')).screenWidth, LONG)
			.toBeGreaterThan(0);
		await rises(viewer, 'Bob', ['screenFrames']);
	}
	await bob.page.getByRole('button', { name: 'Stop sharing' }).click();
	for (const viewer of [alice, carol]) {
		await expect(viewer.page.getByTestId('shared-screen')).toHaveCount(0, LONG);
		await expect(badge(viewer, 'Bob')).toHaveAttribute('data-sharing', 'false');
	}

	// APPCALL4: Carol leaves: her tile and badge go for the others; the call goes on.
	await carol.page.getByRole('button', { name: 'Leave call' }).click();
	await expect(carol.page.getByRole('button', { name: 'Join call' })).toBeVisible();
	for (const viewer of [alice, bob]) {
		await expect(tile(viewer, 'Carol')).toHaveCount(0, LONG);
		await expect(badge(viewer, 'Carol')).toHaveCount(0);
		await expect(viewer.page.getByTestId('call-count')).toHaveText('2 in the call');
	}
	await rises(alice, 'Bob', ['framesDecoded', 'audioEnergy']);
	// APPCALL9: outside the call, Carol still sees who is in it, and Alice muting.
	await expect(badge(carol, 'Alice')).toHaveAttribute('data-muted', 'false', LONG);
	await expect(badge(carol, 'Bob')).toBeVisible();
	await expect(badge(carol, 'Carol')).toHaveCount(0);
	await alice.page.getByRole('button', { name: 'Mute', exact: true }).click();
	await expect(badge(carol, 'Alice')).toHaveAttribute('data-muted', 'true', LONG);
	await expect(badge(bob, 'Alice')).toHaveAttribute('data-muted', 'true', LONG);

	// APPCALL4: a reload leaves too (its socket closes); Bob is gone for Alice.
	await bob.page.reload();
	await expect(tile(alice, 'Bob')).toHaveCount(0, LONG);
	await expect(alice.page.getByTestId('call-count')).toHaveText('1 in the call');
});

test('[APPCALL6] permission refused: a clear message, and the person still joins to listen and watch', async ({
	people
}) => {
	const alice = await people.add('Alice');
	const dave = await people.add('Dave');
	await withMedia(alice.context);
	await withMedia(dave.context);
	// Dave's browser refuses camera and microphone, as after clicking "Block".
	await dave.context.addInitScript(() => {
		navigator.mediaDevices.getUserMedia = () =>
			Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
	});
	await createWorkspace(alice, 'Refused');
	await join(dave, await inviteLink(alice, dave.email, 'viewer'));
	await joinCall(alice);
	await joinCall(dave);
	await expect(dave.page.getByTestId('call-problem')).toContainText('permission was refused');
	await expect(dave.page.getByTestId('call-problem')).toContainText('listen and watch');
	await expect(dave.page.getByRole('button', { name: 'Unmute' })).toBeDisabled();
	await expect(dave.page.getByRole('button', { name: 'Camera on' })).toBeDisabled();
	// He hears and sees Alice; she sees him in the call, muted, without video.
	await expect
		.poll(async () => (await received(dave.page, 'Alice')).videoWidth, LONG)
		.toBeGreaterThan(0);
	await rises(dave, 'Alice', ['framesDecoded', 'audioEnergy']);
	await expect(tile(alice, 'Dave')).toHaveAttribute('data-muted', 'true', LONG);
	await expect(badge(alice, 'Dave')).toHaveAttribute('data-muted', 'true');
	await expect(tile(alice, 'Dave').locator('video:not(.hidden)')).toHaveCount(0);
});
