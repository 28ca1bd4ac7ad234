import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { confusionMatrix, ConfusionNormalize } from '../../lib/metrics/confusion_matrix';
import { setupBackend, fixture, fromFixture, assertClose, assertNoLeak } from '../helpers';
import type { AccuracyCase } from './accuracy.test';

const { cases } = fixture<{ cases: AccuracyCase[] }>('metrics_accuracy');

before(async () => { await setupBackend(); });

test('confusionMatrix equals sklearn confusion_matrix (rows true, columns predicted) and its normalisations', async () => {
  for (const c of cases) {
    const logits = fromFixture(c.logits);
    const m = await confusionMatrix(logits, c.labels, c.num_classes);
    assert.equal(m.length, c.num_classes);
    assertClose(m.flat(), c.confusion, { atol: 0, rtol: 0, label: `confusion ${c.name}` });
    assertClose((await confusionMatrix(c.predictions, c.labels, c.num_classes)).flat(), c.confusion, { atol: 0, rtol: 0, label: `confusion indices ${c.name}` });
    for (const norm of ['true', 'pred', 'all'] as const) {
      const expected = c[`confusion_${norm}`];
      const got = await confusionMatrix(c.predictions, c.labels, c.num_classes, { normalize: norm });
      assertClose(got.flat(), expected, { atol: 1e-15, label: `confusion ${norm} ${c.name}` });
    }
    logits.dispose();
  }
});

test('confusionMatrix sizes itself from the largest index by default, and its total is the number of examples', async () => {
  const m = await confusionMatrix([0, 2, 1, 2], [0, 1, 1, 2]);
  assert.deepEqual(m, [[1, 0, 0], [0, 1, 1], [0, 0, 1]]);
  assert.equal(m.flat().reduce((a, b) => a + b, 0), 4);
});

test('confusionMatrix rejects indices beyond numClasses, unequal lengths and bad options', async () => {
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /example 1 has label 1 and prediction 3, but numClasses is 3/);
  assert.throws(() => confusionMatrix([0, 1], [0], 3), /2 predictions but 1 labels/);
  assert.throws(() => confusionMatrix([0], [0], 0), /numClasses must be an integer >= 1; got 0/);
  assert.throws(() => confusionMatrix([0], [0], 2, { normalize: 'rows' as ConfusionNormalize }), /normalize must be/);
});

test('confusionMatrix reads tensors without leaking', async () => {
  const p = tf.tensor2d([[0.1, 0.9], [0.8, 0.2]]), y = tf.tensor1d([1, 1], 'int32');
  assert.deepEqual(await confusionMatrix(p, y, 2), [[0, 0], [1, 1]]);
  await assertNoLeak(() => confusionMatrix(p, y, 2), 'confusionMatrix');
  tf.dispose([p, y]);
});
