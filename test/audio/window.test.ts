import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { assertClose, fixture, FixtureTensor } from '../helpers';
import { hannWindow, unitCircle } from '../../lib/audio/window';

// torch.hann_window values: test/reference/audio_stft.py.
const { windows } = fixture<{ windows: { length: number; periodic: boolean; values: FixtureTensor }[] }>('audio_stft');

test('hannWindow equals torch.hann_window, periodic and symmetric', () => {
  assert.ok(windows.length >= 4);
  for (const w of windows) {
    assertClose(hannWindow(w.length, w.periodic), w.values.data, { atol: 1e-15, rtol: 0, label: `hann ${w.length} ${w.periodic}` });
  }
  assert.throws(() => hannWindow(0), /positive integer, got 0/);
});

test('unitCircle is exact at quarter turns and matches cos/sin elsewhere', () => {
  assert.deepEqual(unitCircle(0, 8), [1, 0]);
  assert.deepEqual(unitCircle(2, 8), [0, 1]);
  assert.deepEqual(unitCircle(4, 8), [-1, 0]);
  assert.deepEqual(unitCircle(6, 8), [0, -1]);
  assert.deepEqual(unitCircle(12, 8), [-1, 0]);
  const [c, s] = unitCircle(3, 7);
  assertClose([c, s], [Math.cos((6 * Math.PI) / 7), Math.sin((6 * Math.PI) / 7)], { atol: 1e-15, rtol: 0, label: 'unitCircle' });
});
