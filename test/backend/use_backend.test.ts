import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../lib/backend/use_backend';

test('useBackend picks wasm when no native package is present, and says why the others were skipped', async () => {
  const prev = process.env.SLIMSPEECH_BACKEND;
  delete process.env.SLIMSPEECH_BACKEND;
  try {
    const info = await useBackend();
    assert.equal(tf.getBackend(), info.tfjsBackend);
    if (info.name === 'wasm') {
      assert.deepEqual(info.skipped.map((s) => s.name), ['tensorflow-gpu', 'tensorflow']);
      assert.match(info.skipped[1].reason, /tfjs-node/);
    }
  } finally {
    if (prev !== undefined) process.env.SLIMSPEECH_BACKEND = prev;
  }
});

test('SLIMSPEECH_BACKEND replaces auto, an explicit name must load, unknown names are refused', async () => {
  process.env.SLIMSPEECH_BACKEND = 'cpu';
  try {
    assert.equal((await useBackend()).name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal((await useBackend('wasm')).name, 'wasm');
  } finally {
    delete process.env.SLIMSPEECH_BACKEND;
  }
  await assert.rejects(useBackend('tpu'), /unknown backend 'tpu'/);
});
