import { test, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DnsPairs, DnsRecipes, dnsTestSets, dnsMix } from '../../lib/data/dns';
import { assertClose } from '../helpers';
import { tempTree, signal, writeClip, writeText } from './fixture_tree';

const tree = tempTree('dns');
after(tree.cleanup);

const power = (x: Float32Array): number => x.reduce((s, v) => s + v * v, 0) / x.length;

test('dnsMix: clean at the target level, noise at the SNR, offset wraps, peaks limited together', () => {
  const clean = signal(4000, 300, 16000, 0.5, 1);
  const noise = signal(1500, 2100, 16000, 0.1, 2);
  const m = dnsMix(clean, noise, { snrDb: 5, targetLevelDb: -30, offset: 1200 });
  assert.ok(Math.abs(10 * Math.log10(power(m.clean)) - -30) < 1e-4, 'target level');
  assert.ok(Math.abs(10 * Math.log10(power(m.clean) / power(m.noise)) - 5) < 1e-4, 'SNR');
  assertClose(m.noisy, m.clean.map((c, i) => c + m.noise[i]), { atol: 1e-7, label: 'noisy = clean + noise' });
  const g = m.noise[0] / noise[1200];
  for (const i of [0, 299, 300, 1799]) assertClose(m.noise[i], noise[(1200 + i) % 1500] * g, { atol: 1e-6, label: `noise sample ${i}` });
  const loud = dnsMix(clean, noise, { snrDb: -10, targetLevelDb: 0 });
  const peak = loud.noisy.reduce((p, v) => Math.max(p, Math.abs(v)), 0);
  assert.ok(Math.abs(peak - 0.99) < 1e-6, `peak ${peak}`);
  assert.ok(Math.abs(10 * Math.log10(power(loud.clean) / power(loud.noise)) - -10) < 1e-4, 'limiting keeps the SNR');
  assert.throws(() => dnsMix(clean, noise, { snrDb: NaN }), /snrDb must be a finite number/);
  assert.throws(() => dnsMix(clean, new Float32Array(0), { snrDb: 0 }), /the noise is empty/);
});

// A DNS-style folder with noisy/ clean/ noise/.
const pairs = path.join(tree.dir, 'synthetic', 'no_reverb');
const made = [3, 10, 7].map((id) => {
  const clean = signal(2000 + id, 200 + id, 16000, 0.3, id);
  const noise = signal(2000 + id, 3000, 16000, 0.05, id + 1);
  const noisy = Float32Array.from(clean, (v, i) => (Math.round((v + noise[i]) * 32768) + 0) / 32768);
  writeClip(path.join(pairs, 'clean', `clean_fileid_${id}.wav`), clean, 16000);
  writeClip(path.join(pairs, 'noise', `noise_fileid_${id}.wav`), noise, 16000);
  writeClip(path.join(pairs, 'noisy', `book_0${id}_snr10_tl-25_fileid_${id}.wav`), noisy, 16000);
  return { id, clean, noise, noisy };
});

test('DnsPairs: pairs noisy/<...>_fileid_K.wav with clean/clean_fileid_K.wav, sorted by id', async () => {
  const ds = new DnsPairs(pairs, { withNoise: true });
  assert.deepEqual(ds.fileids(), [3, 7, 10]);
  const it = await ds.get(1);
  const m = made.find((x) => x.id === 7)!;
  assert.equal(it.fileid, 7);
  assert.deepEqual(it.noisy, m.noisy);
  assert.deepEqual(it.clean, m.clean);
  assert.deepEqual(it.noise, m.noise);
  assert.equal(it.path, 'noisy/book_07_snr10_tl-25_fileid_7.wav');
  assert.deepEqual(dnsTestSets(path.join(tree.dir, 'synthetic')), ['no_reverb']);
});

test('DnsPairs: errors for a missing partner, folder, or a length mismatch', async () => {
  const broken = path.join(tree.dir, 'broken');
  fs.cpSync(pairs, broken, { recursive: true });
  fs.rmSync(path.join(broken, 'clean', 'clean_fileid_10.wav'));
  assert.throws(() => new DnsPairs(broken), /noisy\/book_010_snr10_tl-25_fileid_10\.wav has no partner clean\/clean_fileid_10\.wav/);
  assert.throws(() => new DnsPairs(path.join(broken, 'noisy')), /noisy does not exist \(DNS keeps noisy speech in noisy\/<\.\.\.>_fileid_<K>\.wav\)/);
  writeClip(path.join(broken, 'clean', 'clean_fileid_10.wav'), signal(50, 100, 16000), 16000);
  const ds = new DnsPairs(broken);
  await assert.rejects(ds.get(2), /fileid_10\.wav has 2010 samples but clean\/clean_fileid_10\.wav has 50/);
  fs.rmSync(path.join(broken, 'noise'), { recursive: true });
  assert.throws(() => new DnsPairs(broken, { withNoise: true }), /noise does not exist \(withNoise reads/);
});

test('DnsRecipes: noisy speech synthesised on the fly equals dnsMix of the listed files', async () => {
  const cleanRoot = path.join(tree.dir, 'clean_speech');
  const noiseRoot = path.join(tree.dir, 'noise_root');
  const c = signal(3000, 250, 16000, 0.4, 9);
  const n = signal(5000, 4000, 16000, 0.2, 8);
  writeClip(path.join(cleanRoot, 'spk1', 'a.wav'), c, 16000);
  writeClip(path.join(noiseRoot, 'noise', 'rain', 'noise-rain-0000.wav'), n, 16000);
  const csv = path.join(tree.dir, 'train.csv');
  writeText(csv, 'fileid,clean_path,noise_path,noise_offset,snr_db,target_level_db\n' +
    '0,spk1/a.wav,noise/rain/noise-rain-0000.wav,0.125,7.5,-27\n1,spk1/a.wav,noise/rain/noise-rain-0000.wav,0,0,-20\n');
  const ds = new DnsRecipes(csv, { cleanRoot, noiseRoot });
  assert.equal(ds.length, 2);
  const it = await ds.get(0);
  const want = dnsMix(c, n, { offset: 2000, snrDb: 7.5, targetLevelDb: -27 });
  assert.deepEqual(it.noisy, want.noisy);
  assert.deepEqual(it.clean, want.clean);
  assert.equal(it.snrDb, 7.5);
  assert.deepEqual(ds.cleanPaths(), ['spk1/a.wav', 'spk1/a.wav']);
  const bad = path.join(tree.dir, 'bad.csv');
  writeText(bad, 'fileid,clean_path,noise_path,noise_offset,snr_db\n0,a,b,0,1\n');
  assert.throws(() => new DnsRecipes(bad, { cleanRoot, noiseRoot }), /bad\.csv lacks column\(s\) target_level_db/);
  const escape = path.join(tree.dir, 'escape.csv');
  writeText(escape, 'fileid,clean_path,noise_path,noise_offset,snr_db,target_level_db\n0,../../etc/passwd,x,0,0,-25\n');
  await assert.rejects(new DnsRecipes(escape, { cleanRoot, noiseRoot }).get(0), /path '\.\.\/\.\.\/etc\/passwd' points outside/);
});
